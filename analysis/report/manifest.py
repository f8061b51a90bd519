"""A batch's record: ``manifest.json`` (one entry per report) and ``index.html`` (links)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from analysis.io import atomic_write_text
from analysis.report.plan import MANIFEST, BatchItem
from analysis.report.run import JobResult, portable_text

INDEX = "index.html"

#: Status of the reports of a study whose inputs are invalid: not run, earlier pages kept.
INPUT_ERROR = "input error"


def entry(item: BatchItem, result: JobResult, out: Path, versions: dict[str, str]) -> dict:
    """The manifest's record of one report: what, from which inputs, how it went.

    Parameters
    ----------
    item : BatchItem
        The planned report.
    result : JobResult
        How its run went.
    out : Path
        The batch's output folder; the record's ``html`` and ``ipynb`` are relative to it.
    versions : dict
        Package name -> installed version.

    Returns
    -------
    dict
    """
    return {
        "id": item.report_id,
        "kind": item.kind,
        "study": item.study,
        "study_slug": item.study_slug,
        "study_title": item.study_title,
        "region": item.region,
        "region_name": item.region_name,
        "notebook": item.job.notebook,
        "parameters": item.job.parameters,
        "inputs": item.inputs,
        "versions": versions,
        "key": item.key,
        "status": result.status,
        "error": result.error,
        "duration": round(result.duration, 3),
        "html": os.path.relpath(item.job.html_path, out),
        "ipynb": os.path.relpath(item.job.ipynb_path, out),
        "records": result.records,
        "timings": result.timings,
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def input_error_entries(
    study: str,
    message: str,
    out: Path,
    versions: dict[str, str],
    items: list[BatchItem],
    previous: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    """The manifest's records of a study whose inputs are invalid: its reports were not run.

    Each report keeps its earlier record (the page on disk is still the one it describes,
    untouched) with the status :data:`INPUT_ERROR` and ``message``; a report without an
    earlier page links to none. A study whose file could not be loaded has no planned
    reports: its earlier records are listed, or, without any, one record for the study file.

    Parameters
    ----------
    study : str
        The study file's resolved path.
    message : str
        The error, naming file, line, column and what was expected.
    out : Path
        The batch's output folder.
    versions : dict
        Package versions (for a record made new).
    items : list of BatchItem
        The study's planned reports (empty when its file could not be loaded).
    previous : dict
        The previous manifest's records by report id.

    Returns
    -------
    list of dict
    """
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if items:
        records = [
            previous.get(item.report_id)
            or entry(item, JobResult(INPUT_ERROR, 0.0, message), out, versions)
            for item in items
        ]
    else:
        records = [r for r in previous.values() if r.get("study") == study]
    if not records:
        from analysis.config import slugify

        slug = slugify(Path(study).stem)
        records = [
            {
                "id": f"{slug}/study",
                "kind": "study",
                "study": study,
                "study_slug": slug,
                "study_title": Path(study).name,
                "region": "",
                "region_name": "",
                "inputs": [],
                "versions": versions,
                "key": "",
                "duration": 0.0,
                "html": None,
                "ipynb": None,
                "records": {},
                "timings": {},
            }
        ]
    kept = []
    for record in records:
        record = {**record, "status": INPUT_ERROR, "error": message, "checked": now}
        record.pop("from_earlier_batch", None)
        for name in ("html", "ipynb"):
            if record.get(name) and not (out / record[name]).is_file():
                record[name] = None  # no earlier page: nothing to link to
        kept.append(record)
    return kept


def read_manifest(out: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Read ``out/manifest.json`` if present (None if missing or unreadable), its paths made
    absolute again (:func:`portable` wrote them relative to ``out``).

    Parameters
    ----------
    out : str or path
        The batch's output folder.

    Returns
    -------
    dict or None
    """
    path = Path(out) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return _map_paths(manifest, lambda p: _absolute(p, Path(out)), notebook=lambda p: p)


def portable(manifest: dict[str, Any], out: Path) -> dict[str, Any]:
    """The manifest as written to disk: study, input and parameter paths relative to the
    batch's folder ``out``, a shipped notebook template by its file name.

    The quarterly job publishes the folder; the manifest had carried the rendering machine's
    absolute paths (the study, the data files, the package's site-packages) where the pages
    and notebooks carry none. :func:`read_manifest` turns them back into absolute paths.
    Error messages too name files relative to ``out``
    (:func:`analysis.report.run.portable_text`), and stay so when read back.

    Parameters
    ----------
    manifest : dict
        The manifest with absolute paths, as the batch builds it (not changed).
    out : Path
        The batch's output folder.

    Returns
    -------
    dict
        A copy with the paths made relative.
    """
    from analysis.report.assets import notebook_dir

    shipped = notebook_dir().resolve()

    def notebook(path: str) -> str:
        if path and Path(path).resolve().parent == shipped:
            return Path(path).name
        return _relative(path, out)

    on_disk = _map_paths(manifest, lambda p: _relative(p, out), notebook=notebook)
    # an input error names the study or data file, a failed report a file it could not read
    on_disk["reports"] = [
        {**r, "error": portable_text(r["error"], out)} if r.get("error") else r
        for r in on_disk.get("reports", [])
    ]
    return on_disk


def _relative(path: Any, out: Path) -> Any:
    if not isinstance(path, str) or not os.path.isabs(path):
        return path
    return os.path.relpath(path, out.resolve())


def _absolute(path: Any, out: Path) -> Any:
    if not isinstance(path, str) or not path or os.path.isabs(path):
        return path
    return str((out / path).resolve())


def _map_paths(manifest: dict[str, Any], to: Any, *, notebook: Any) -> dict[str, Any]:
    """``manifest`` with ``to`` applied to every path it records (the studies, and each
    report's study, path parameters and inputs) and ``notebook`` to each notebook."""
    from analysis.report.params import PARAMETER_KINDS

    paths = {k for k, kind in PARAMETER_KINDS.items() if kind.endswith("path")}

    def record(r: dict[str, Any]) -> dict[str, Any]:
        r = dict(r)
        if "study" in r:
            r["study"] = to(r["study"])
        if r.get("notebook"):
            r["notebook"] = notebook(r["notebook"])
        if isinstance(r.get("parameters"), dict):
            r["parameters"] = {
                k: to(v) if k in paths and v else v for k, v in r["parameters"].items()
            }
        if isinstance(r.get("inputs"), list):
            r["inputs"] = [
                {**i, "path": to(i["path"])} if isinstance(i, dict) and "path" in i else i
                for i in r["inputs"]
            ]
        return r

    out = dict(manifest)
    if isinstance(out.get("studies"), list):
        out["studies"] = [to(s) for s in out["studies"]]
    if isinstance(out.get("reports"), list):
        out["reports"] = [record(r) for r in out["reports"]]
    return out


def write_index(root: Path, manifest: dict[str, Any]) -> Path:
    """Write ``index.html``: every report grouped by study, failures marked, all escaped.

    Parameters
    ----------
    root : Path
        The batch's output folder, where the page is written.
    manifest : dict
        The manifest as written to disk (:func:`portable`), with its ``reports``.

    Returns
    -------
    Path
        ``root / "index.html"``.
    """
    import jinja2

    from analysis.report import assets

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(assets.template_dir())),
        autoescape=True,
    )
    css = assets.stylesheet()
    groups: dict[str, dict[str, Any]] = {}
    for entry in manifest["reports"]:
        group = groups.setdefault(
            entry["study_slug"], {"title": entry["study_title"], "reports": []}
        )
        group["reports"].append(entry)
    page = env.get_template("index.html.j2").render(
        manifest=manifest, groups=groups, css=jinja2.utils.markupsafe.Markup(css)
    )
    path = root / INDEX
    atomic_write_text(path, page)
    return path


def write_quarters_index(out: Path) -> Path | None:
    """Write ``out/index.html`` listing the quarterly folders of ``out`` (``2024Q4/`` ...),
    newest first, each with the date and counts of its manifest.

    A quarterly job publishes ``out``: without this page its root had no index (a 404 on a
    static site) and no quarter linked another. Folders without an ``index.html`` are left out.

    Parameters
    ----------
    out : Path
        The folder holding one subfolder per quarter.

    Returns
    -------
    Path or None
        The page written, or None when ``out`` holds no quarter, or holds a batch of its own
        (``batch`` without ``--quarter`` into the same ``--out``, reports/ by default): its
        index lists its reports and is kept.
    """
    import re

    import jinja2

    from analysis.report import assets

    if (Path(out) / MANIFEST).is_file():
        return None  # a batch's own index.html: replacing it left its reports unlisted
    quarters = []
    for folder in sorted(Path(out).iterdir(), reverse=True):
        if not (re.fullmatch(r"\d{4}Q[1-4]", folder.name) and (folder / INDEX).is_file()):
            continue
        manifest = read_manifest(folder) or {}
        counts = manifest.get("counts", {})
        quarters.append(
            {
                "quarter": folder.name,
                "created": manifest.get("created", ""),
                "counts": counts,
                # a quarter with failed reports or a study's input error is marked, as its own
                # index marks them: the counts alone had read alike in plain text
                "failing": sum(
                    n for status, n in counts.items() if status not in ("ok", "skipped")
                ),
            }
        )
    if not quarters:
        return None
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(assets.template_dir())), autoescape=True
    )
    page = env.get_template("quarters.html.j2").render(
        quarters=quarters, css=jinja2.utils.markupsafe.Markup(assets.stylesheet())
    )
    path = Path(out) / INDEX
    atomic_write_text(path, page)
    return path
