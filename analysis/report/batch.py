"""Render many reports at once: every study's region reports and overview, locally or on Dask.

Which regions: each study's focus regions plus their first-order neighbours (across borders
too), the regions a reader of the focus report asks about next. ``regions="all"`` renders every
region of the study's countries instead (slower: dozens of mostly empty reports).

Layout of the output folder (``--out``, plus ``/<quarter>`` when a quarter is given)::

    index.html                    links to every report, failed ones marked
    manifest.json                 per report: study, region, parameters, input SHA-256s,
                                  package versions, status, duration, key figures
    <study-slug>/overview.html    quarterly overview
    <study-slug>/methods.html     methods appendix (model card, backtest evidence)
    <study-slug>/<region>.html    region reports (and the executed .ipynb beside each)

A report whose inputs (study file, data files, notebook, parameters, package code and
versions) hash to the key recorded in the previous manifest, and whose HTML still exists, is
skipped unless ``force``. A failing report never stops the others: it is kept (notebook with
the error, HTML saying so), listed in the index, and makes the exit status 1. A lock on the
output folder stops two batches from writing into it at once.

Speed: reports run in children forked from a pre-imported server (see
:mod:`analysis.report.forkserver`), one server per worker process, with each study's data
and shared model results loaded into the server once before the first fork.

Several machines (Dask): every worker host needs the same installation and the study and
data files at the same paths (a shared or synchronised folder); outputs come back to the
machine that runs ``batch``, so only it needs the output folder::

    # scheduler host
    dask scheduler --host 0.0.0.0 --port 8786
    # each worker host: one thread per worker process (each keeps its own warm fork server)
    OPENBLAS_NUM_THREADS=1 dask worker tcp://SCHEDULER:8786 --nworkers 2 --nthreads 1
    # any host
    conflict-trends batch studies/*.yaml --quarter 2024Q4 --scheduler tcp://SCHEDULER:8786
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from analysis.errors import InputError, Problem
from analysis.io import atomic_write_json, atomic_write_text, sha256_file
from analysis.periods import previous_quarter, validate_quarter
from analysis.report.provenance import code_fingerprint, package_versions
from analysis.report.run import (
    JobResult,
    ReportJob,
    notebook_path,
    slugify,
    validate_parameters,
)

MANIFEST = "manifest.json"
INDEX = "index.html"
LOCK = ".batch.lock"


class BatchLocked(InputError):
    """Another batch holds the output folder."""


@dataclass(frozen=True)
class BatchItem:
    """One planned report."""

    report_id: str  # "<study-slug>/<region-slug>", "<study-slug>/overview" or ".../methods"
    kind: str  # "region", "overview" or "methods"
    study: str
    study_slug: str
    study_title: str
    region: str
    region_name: str
    job: ReportJob
    inputs: list[dict[str, Any]]
    key: str


@dataclass(frozen=True)
class BatchResult:
    """What a batch did: the manifest it wrote and where."""

    out: Path
    manifest: dict[str, Any]
    index: Path

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Entries whose status is neither ok nor skipped."""
        return [r for r in self.manifest["reports"] if r["status"] not in ("ok", "skipped")]

    @property
    def exit_code(self) -> int:
        """0 if every report is ok (or skipped as unchanged), else 1."""
        return 1 if self.failed else 0


# -- planning ------------------------------------------------------------------------------


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _regions_for(study: Any, mode: str | list[str]) -> list[tuple[str, str]]:
    """Return [(region_id, region_name)] for a study, focus first."""
    from analysis import geography

    boundaries = geography.load_boundaries(study.boundaries) if study.boundaries else None
    boundaries = boundaries or geography.load_boundaries()
    regions = boundaries.regions
    names = dict(zip(regions["region_id"], regions["region_name"], strict=False))
    if isinstance(mode, list):
        chosen = list(mode)
    elif mode == "all":
        in_countries = regions[regions["country"].isin(study.countries)]
        chosen = list(study.focus) + sorted(set(in_countries["region_id"]) - set(study.focus))
    elif mode == "neighbours":
        # neighbours outside the study's countries have no panel rows, so no report
        countries = dict(zip(regions["region_id"], regions["country"], strict=False))
        chosen = list(study.focus)
        for region in study.focus:
            for other in geography.neighbours(region, boundaries=boundaries):
                if other not in chosen and countries.get(other) in study.countries:
                    chosen.append(other)
    elif mode == "focus":
        chosen = list(study.focus)
    else:
        raise InputError(
            "invalid region selection",
            [Problem(None, None, "regions", "focus, neighbours, all or a list", str(mode))],
        )
    return [(r, str(names.get(r, r))) for r in chosen]


def plan(
    studies: Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    quarter: str | None = None,
    regions: str | list[str] = "neighbours",
    overview: bool = True,
    timeout: float = 300.0,
    region_notebook: str = "region_report",
    overview_notebook: str = "overview",
    methods_notebook: str | None = "methods",
) -> list[BatchItem]:
    """List the reports a batch makes, with the input key that decides whether to rerun each.

    Parameters
    ----------
    studies : iterable of path
        Study YAML files.
    out : path
        Output folder (already including the quarter, see :func:`output_folder`).
    quarter : str, optional
        ``YYYYQn``: reports are as of the end of that quarter.
    regions : {"neighbours", "focus", "all"} or list of str
        Which regions get a report (see module docstring).
    overview : bool
        Also make each study's overview.
    timeout : float
        Seconds allowed per report.
    region_notebook, overview_notebook, methods_notebook : str
        Report templates (names of the shipped ones, see :mod:`analysis.report.assets`, or
        paths); no methods appendix if ``methods_notebook`` is None.

    Returns
    -------
    list of BatchItem
    """
    from analysis.config import load_study

    out = Path(out)
    quarter = validate_quarter(quarter) if quarter else ""
    versions = package_versions()
    code = code_fingerprint()
    items: list[BatchItem] = []
    seen: set[str] = set()
    for study_path in studies:
        study = load_study(study_path)
        study_file = str(Path(study.path).resolve())
        study_sha = sha256_file(study_file)
        inputs = [{"path": str(p), "sha256": sha256_file(p)} for p in study.data]
        base = {"study": study_file, "quarter": quarter}
        specs: list[tuple[str, str, str, str, dict[str, Any]]] = []
        for region, name in _regions_for(study, regions):
            specs.append(("region", region, name, region_notebook, {**base, "region": region}))
        if overview:
            previous = ""
            if quarter:
                candidate = out.parent / previous_quarter(quarter) / MANIFEST
                previous = str(candidate) if candidate.is_file() else ""
            specs.append(
                ("overview", "", "", overview_notebook, {**base, "previous_manifest": previous})
            )
        if methods_notebook:
            specs.append(("methods", "", "", methods_notebook, dict(base)))
        for kind, region, name, notebook, params in specs:
            params = validate_parameters({k: v for k, v in params.items() if v != ""})
            name_part = slugify(region) if kind == "region" else kind
            report_id = f"{study.slug}/{name_part}"
            if report_id in seen:
                continue
            seen.add(report_id)
            nb_file = notebook_path(notebook)
            extra_inputs = []
            if params.get("previous_manifest"):
                extra_inputs.append(
                    {
                        "path": params["previous_manifest"],
                        "sha256": sha256_file(params["previous_manifest"]),
                    }
                )
            key = _key(
                study_sha, inputs, extra_inputs, sha256_file(nb_file), params, versions, code
            )
            job = ReportJob(
                notebook=str(nb_file),
                parameters=params,
                html_path=str(out / study.slug / f"{name_part}.html"),
                ipynb_path=str(out / study.slug / f"{name_part}.ipynb"),
                timeout=timeout,
                key=key,
            )
            items.append(
                BatchItem(
                    report_id=report_id,
                    kind=kind,
                    study=study_file,
                    study_slug=study.slug,
                    study_title=study.title,
                    region=region,
                    region_name=name,
                    job=job,
                    inputs=inputs + extra_inputs,
                    key=key,
                )
            )
    return items


def output_folder(out: str | os.PathLike[str], quarter: str | None) -> Path:
    """The folder a batch writes to: ``out/<quarter>`` for a quarterly run, else ``out``."""
    return Path(out) / validate_quarter(quarter) if quarter else Path(out)


# -- executing -----------------------------------------------------------------------------


_WORKER_SERVER: Any = None
_WORKER_LOCK = threading.Lock()


def _worker_server() -> Any:
    """The fork server of this (Dask worker) process, started on first use."""
    global _WORKER_SERVER
    with _WORKER_LOCK:
        if _WORKER_SERVER is None:
            import atexit

            from analysis.report.forkserver import ForkServer

            _WORKER_SERVER = ForkServer().start()
            atexit.register(_WORKER_SERVER.close)
        return _WORKER_SERVER


def run_on_worker(
    job: dict[str, Any], study: str, quarter: str = "", results: bool = True
) -> dict[str, Any]:
    """Dask task: run one report on this worker and return its files' contents.

    The report is written to a temporary folder on the worker and shipped back, so workers
    need the study and data files (same paths) but no shared output folder.
    """
    server = _worker_server()
    server.preload(study, quarter, results)
    with tempfile.TemporaryDirectory(prefix="ct-report-") as tmp:
        local = replace(
            ReportJob(**job),
            html_path=os.path.join(tmp, "report.html"),
            ipynb_path=os.path.join(tmp, "report.ipynb"),
        )
        result = server.run(local)
        html = Path(local.html_path)
        ipynb = Path(local.ipynb_path)
        return replace(
            result,
            html=html.read_text(encoding="utf-8") if html.exists() else "",
            ipynb=ipynb.read_text(encoding="utf-8") if ipynb.exists() else "",
        ).to_dict()


def _run_local(
    items: list[BatchItem],
    workers: int,
    on_done: Callable[[BatchItem, JobResult], None],
    results: bool = True,
) -> None:
    from analysis.report.forkserver import ForkServer, run_in_fork

    if len(items) == 1:
        # One report (the `report` command): fork this process rather than start a server
        # that would import everything a second time.
        from analysis.report import context

        item = items[0]
        quarter = item.job.parameters.get("quarter", "")
        try:
            context.warm(item.study, quarter) if results else context.load(item.study)
        except Exception:  # noqa: BLE001, S110 - the report itself then shows the error
            pass
        on_done(item, run_in_fork(item.job))
        return
    with ForkServer() as server:
        for study, quarter in dict.fromkeys(
            (item.study, item.job.parameters.get("quarter", "")) for item in items
        ):
            server.preload(study, quarter, results)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = {pool.submit(server.run, item.job): item for item in items}
            for future in as_completed(futures):
                item = futures[future]
                try:
                    result = future.result()
                except Exception as exc:  # noqa: BLE001 - reported per report
                    result = JobResult("failed", 0.0, f"{type(exc).__name__}: {exc}")
                on_done(item, result)


def _run_dask(
    items: list[BatchItem],
    scheduler: str,
    on_done: Callable[[BatchItem, JobResult], None],
    results: bool = True,
) -> None:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise InputError(
            "running on a Dask cluster needs the dask extra",
            [
                Problem(
                    None,
                    None,
                    "scheduler",
                    "pip install 'conflict-trends[dask]' on this host and every worker",
                    scheduler,
                )
            ],
        ) from None

    with Client(scheduler, timeout="30s") as client:
        futures = {
            client.submit(
                run_on_worker,
                item.job.to_dict(),
                item.study,
                item.job.parameters.get("quarter", ""),
                results,
                pure=False,
                key=f"report-{i}",
            ): item
            for i, item in enumerate(items)
        }
        for future in dask_completed(list(futures)):
            item = futures[future]
            try:
                result = JobResult(**future.result())
                Path(item.job.html_path).parent.mkdir(parents=True, exist_ok=True)
                if result.html:
                    atomic_write_text(item.job.html_path, result.html)
                if result.ipynb:
                    atomic_write_text(item.job.ipynb_path, result.ipynb)
                result = replace(result, html="", ipynb="")
            except Exception as exc:  # noqa: BLE001 - a lost worker fails one report only
                result = JobResult("failed", 0.0, f"{type(exc).__name__}: {exc}")
            on_done(item, result)


def _entry(item: BatchItem, result: JobResult, out: Path, versions: dict[str, str]) -> dict:
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
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def read_manifest(out: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Read ``out/manifest.json`` if present (None if missing or unreadable)."""
    path = Path(out) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_batch(
    studies: Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    quarter: str | None = None,
    workers: int = 2,
    scheduler: str | None = None,
    force: bool = False,
    regions: str | list[str] = "neighbours",
    overview: bool = True,
    timeout: float = 300.0,
    progress: bool = True,
    region_notebook: str = "region_report",
    overview_notebook: str = "overview",
    methods_notebook: str | None = "methods",
    preload_results: bool = True,
) -> BatchResult:
    """Render every report of the given studies; see the module docstring for what and where.

    Parameters
    ----------
    studies : iterable of path
        Study YAML files.
    out : path
        Output root; a quarterly run writes to ``out/<quarter>``.
    quarter : str, optional
        ``YYYYQn``.
    workers : int
        Reports at once on this machine (ignored with ``scheduler``).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); reports then run on its
        workers, each of which keeps its own warm fork server.
    force : bool
        Rerun reports whose inputs did not change.
    regions, overview, timeout
        See :func:`plan`.
    progress : bool
        Show a progress bar (tqdm, on stderr).
    region_notebook, overview_notebook, methods_notebook : str
        Report templates (names of the shipped ones, see :mod:`analysis.report.assets`, or paths).
    preload_results : bool
        Compute each study's forecast and spillover results once per worker before forking
        (what the shipped templates use); off for templates that do not need them.

    Returns
    -------
    BatchResult
        ``exit_code`` is 1 if any report failed or timed out.

    Raises
    ------
    BatchLocked
        Another batch is writing to the same folder.
    """
    import tqdm as tqdm_module
    from filelock import FileLock, Timeout
    from tqdm import tqdm

    tqdm_module.tqdm.monitor_interval = 0  # no monitor thread: reports may be forked from here

    root = output_folder(out, quarter)
    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(root / LOCK))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise BatchLocked(
            "another batch is writing to this folder",
            [
                Problem(
                    str(root / LOCK),
                    None,
                    None,
                    "no other conflict-trends batch running on this --out folder "
                    "(wait for it to finish or choose another --out)",
                    "lock held",
                )
            ],
        ) from None
    try:
        started = time.perf_counter()
        items = plan(
            studies,
            root,
            quarter=quarter,
            regions=regions,
            overview=overview,
            timeout=timeout,
            region_notebook=region_notebook,
            overview_notebook=overview_notebook,
            methods_notebook=methods_notebook,
        )
        versions = package_versions()
        previous = {r["id"]: r for r in (read_manifest(root) or {}).get("reports", [])}
        entries: dict[str, dict[str, Any]] = {}
        todo: list[BatchItem] = []
        for item in items:
            old = previous.get(item.report_id)
            if (
                not force
                and old is not None
                and old.get("key") == item.key
                and old.get("status") in ("ok", "skipped")
                and Path(item.job.html_path).is_file()
            ):
                entries[item.report_id] = {
                    **old,
                    "status": "skipped",
                    "skipped_from": old.get("finished"),
                }
            else:
                todo.append(item)
        bar = tqdm(total=len(todo), desc="reports", unit="report", disable=not progress)
        done_lock = threading.Lock()

        def on_done(item: BatchItem, result: JobResult) -> None:
            with done_lock:
                entries[item.report_id] = _entry(item, result, root, versions)
                bar.update(1)
                if result.status != "ok":
                    bar.write(f"{result.status}: {item.report_id}: {result.error}")

        try:
            if todo and scheduler:
                _run_dask(todo, scheduler, on_done, preload_results)
            elif todo:
                _run_local(todo, workers, on_done, preload_results)
        finally:
            bar.close()
        from analysis.report.render import drop_dead_links

        for item in todo:  # after all: a linked report may finish after the one linking it
            drop_dead_links(item.job.html_path)
        ordered = [entries[item.report_id] for item in items if item.report_id in entries]
        counts: dict[str, int] = {}
        for entry in ordered:
            counts[entry["status"]] = counts.get(entry["status"], 0) + 1
        manifest = {
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "quarter": validate_quarter(quarter) if quarter else None,
            "studies": sorted({item.study for item in items}),
            "versions": versions,
            "workers": None if scheduler else workers,
            "scheduler": scheduler,
            "wall_seconds": round(time.perf_counter() - started, 3),
            "counts": counts,
            "reports": ordered,
        }
        atomic_write_json(root / MANIFEST, manifest)
        index = write_index(root, manifest)
        return BatchResult(out=root, manifest=manifest, index=index)
    finally:
        lock.release()


def write_index(root: Path, manifest: dict[str, Any]) -> Path:
    """Write ``index.html``: every report grouped by study, failures marked, all escaped."""
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
