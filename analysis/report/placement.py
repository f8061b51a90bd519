"""Where a report's new files land, so that a failed run never replaces a good page.

A report whose page on disk is good (a finished render, not a "did not finish" page) runs
into staged files beside it. Once it has run, the staged files are moved into place if it
succeeded. If it failed or timed out, they become ``<name>.failed.html`` and
``<name>.failed.ipynb``, and the good page stays. The manifest then links the failure page
and names the kept one (``kept_html``, ``kept_from``). A report with no good page writes its
"did not finish" page where the report goes, as before: there is nothing to keep, and the
links of the study's other pages still lead to it. A later success removes the failure
files.

Whether a page is good is read from the page itself, not from the manifest: a batch that
stopped on bad input, or one that rendered only some of a study's regions, leaves records
that no longer say how the page on disk came out.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from analysis.report.plan import BatchItem
from analysis.report.run import JobResult

#: What the page of a report that did not finish carries (the banner of
#: ``templates/conflict_trends/index.html.j2``).
FAILED_PAGE_MARK = 'class="ct-banner ct-failed"'


def failed_paths(item: BatchItem) -> tuple[Path, Path]:
    """Where a failure of ``item`` goes when a good page is kept: ``<name>.failed.html``
    and ``<name>.failed.ipynb``.

    Parameters
    ----------
    item : BatchItem
        The planned report.

    Returns
    -------
    tuple of (Path, Path)
        The failure's HTML and notebook paths, beside the report's own.
    """
    html, ipynb = Path(item.job.html_path), Path(item.job.ipynb_path)
    return html.with_name(f"{html.stem}.failed.html"), ipynb.with_name(f"{ipynb.stem}.failed.ipynb")


def has_good_page(item: BatchItem) -> bool:
    """Whether ``item``'s page on disk is a finished report that a failure must not replace.

    Parameters
    ----------
    item : BatchItem
        The planned report.

    Returns
    -------
    bool
        False when the page is missing or is a "did not finish" page.
    """
    page = Path(item.job.html_path)
    if not page.is_file():
        return False
    return FAILED_PAGE_MARK not in page.read_text(encoding="utf-8", errors="replace")


def staged(item: BatchItem) -> BatchItem:
    """``item`` writing to hidden files beside its page (``.<name>.staged.html``), which
    :func:`settle` moves once it has run.

    Parameters
    ----------
    item : BatchItem
        The planned report (not changed).

    Returns
    -------
    BatchItem
        A copy whose job writes the staged files.
    """
    html, ipynb = Path(item.job.html_path), Path(item.job.ipynb_path)
    job = replace(
        item.job,
        html_path=str(html.with_name(f".{html.stem}.staged.html")),
        ipynb_path=str(ipynb.with_name(f".{ipynb.stem}.staged.ipynb")),
        # the notebook names itself by the file it is published as, not the staged one
        extra={**item.job.extra, "published_as": ipynb.name},
    )
    return replace(item, job=job)


def discard(run: BatchItem) -> None:
    """Remove a staged run's files (a batch that stopped before settling them).

    Parameters
    ----------
    run : BatchItem
        The :func:`staged` copy whose HTML and notebook files are removed (if present).
    """
    for path in (run.job.html_path, run.job.ipynb_path):
        Path(path).unlink(missing_ok=True)


def settle(
    run: BatchItem,
    item: BatchItem,
    result: JobResult,
    previous: dict[str, Any] | None,
    out: Path,
) -> dict[str, Any]:
    """Move the files of a finished ``run`` of ``item`` into place.

    Parameters
    ----------
    run : BatchItem
        What ran: ``item`` itself, or its :func:`staged` copy.
    item : BatchItem
        The planned report.
    result : JobResult
        How it went.
    previous : dict, optional
        The report's record in the previous manifest (for when the kept page was made).
    out : Path
        The batch's output folder (manifest paths are relative to it).

    Returns
    -------
    dict
        What the report's manifest record changes: for a failure that kept a good page, the
        failure's ``html`` and ``ipynb`` and the kept page's ``kept_html``, ``kept_ipynb`` and
        ``kept_from``; otherwise nothing.
    """
    failed_html, failed_ipynb = failed_paths(item)
    if result.status == "ok" or run is item:
        if run is not item:
            _move(run.job.html_path, item.job.html_path)
            _move(run.job.ipynb_path, item.job.ipynb_path)
        if result.status == "ok":
            failed_html.unlink(missing_ok=True)
            failed_ipynb.unlink(missing_ok=True)
        return {}
    # an earlier failure's files must not pass for this one's when this run wrote none
    failed_html.unlink(missing_ok=True)
    failed_ipynb.unlink(missing_ok=True)
    _move(run.job.html_path, failed_html)
    if Path(run.job.ipynb_path).is_file():
        _rename_in_notebook(Path(run.job.ipynb_path), failed_ipynb.name)
        _move(run.job.ipynb_path, failed_ipynb)
    previous = previous or {}
    return {
        "html": os.path.relpath(failed_html, out) if failed_html.is_file() else "",
        "ipynb": os.path.relpath(failed_ipynb, out) if failed_ipynb.is_file() else "",
        "kept_html": os.path.relpath(item.job.html_path, out),
        "kept_ipynb": os.path.relpath(item.job.ipynb_path, out),
        "kept_from": previous.get("kept_from")
        or previous.get("finished")
        or _modified(Path(item.job.html_path)),
    }


def _modified(path: Path) -> str:
    """When ``path`` was last written, as the manifest writes times."""
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).isoformat(timespec="seconds")


def _rename_in_notebook(path: Path, name: str) -> None:
    """Set the file name papermill's metadata gives the notebook (written atomically)."""
    from analysis.io import atomic_write_text

    nb = json.loads(path.read_text(encoding="utf-8"))
    meta = nb.get("metadata", {}).get("papermill")
    if isinstance(meta, dict):
        meta["output_path"] = name
        atomic_write_text(path, json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def _move(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    if Path(source).is_file():
        os.replace(source, target)
