"""Render many reports at once: every study's region reports and overview, locally or on Dask.

Which regions and under which key: :mod:`analysis.report.plan`; the manifest and index:
:mod:`analysis.report.manifest`; how a report runs: :mod:`analysis.report.pool` and
:mod:`analysis.report.run`.

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
the error, HTML saying so), listed in the index, and makes the exit status 1. A study whose
inputs are invalid (its file, its data, its selection or its history: an ``InputError``,
checked once before any report runs) runs none of its reports, so their
earlier pages stay as they were; they are listed as ``input error`` with the message, and
make the exit status 2. A lock on the output folder (``.batch.lock``) stops two batches from
writing into it at once.

The timeout bounds each study's preparation as it bounds each report: the checks and the
study-level results below run in a fork of the batch's process that is stopped after
``timeout`` seconds, and the study's reports are then not run (earlier pages kept; the
manifest says ``timeout`` and why) and make the exit status 1. What the fork prepared reaches
the reports through the disk cache of :mod:`analysis.report.context`; with that cache off
(``CONFLICT_TRENDS_REPORT_CACHE=off``) a fork's work would be lost, so the preparation is not
bounded then (:func:`prepare_study`).

Speed: each study's data and study-level results (model fits, backtests, spillover
simulation, growth table) are computed once, by its preparation, before the first report; a
pre-imported fork server loads them (from the disk cache) and every report is a fresh fork of
it (:mod:`analysis.report.pool`), one server per process (the batch's, or each Dask
worker's; a worker on another machine without that cache computes them in its server).

Several machines (Dask): every worker host needs the same installation and the study and
data files at the same paths (a shared or synchronised folder); outputs come back to the
machine that runs ``batch``, so only it needs the output folder::

    # scheduler host
    dask scheduler --host 0.0.0.0 --port 8786
    # each worker host: one thread per worker process (each keeps its own warm fork server;
    # not daemonic, so that it may fork report processes)
    DASK_DISTRIBUTED__WORKER__DAEMON=False OPENBLAS_NUM_THREADS=1 \
        dask worker tcp://SCHEDULER:8786 --nworkers 2 --nthreads 1
    # any host
    conflict-trends batch studies/*.yaml --quarter 2024Q4 --scheduler tcp://SCHEDULER:8786
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from analysis.errors import InputError, Problem
from analysis.io import atomic_write_json, atomic_write_text
from analysis.periods import validate_quarter
from analysis.report import placement
from analysis.report.manifest import (  # noqa: F401 - re-exported: the batch API
    INDEX,
    INPUT_ERROR,
    entry,
    input_error_entries,
    portable,
    read_manifest,
    write_index,
    write_quarters_index,
)
from analysis.report.plan import (  # noqa: F401 - re-exported: the batch API
    MANIFEST,
    BatchItem,
    _regions_for,
    output_folder,
    plan,
)
from analysis.report.provenance import code_fingerprint, package_versions
from analysis.report.run import JobResult, ReportJob

LOCK = ".batch.lock"

#: ``stage`` of the manifest's records of reports not run because their study's preparation
#: was stopped (timeout) or its process died.
PREPARATION = "preparation"


class BatchLocked(InputError):
    """Another batch holds the output folder."""


class PreparationStopped(Exception):
    """A study's preparation was stopped at the timeout, or its process died.

    Parameters
    ----------
    status : {"timeout", "failed"}
        What the manifest records for the study's reports.
    message : str
        What happened, for the manifest and the command line.
    """

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class BatchResult:
    """What a batch did: the manifest it wrote and where."""

    out: Path
    manifest: dict[str, Any]
    index: Path

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Entries of this batch whose status is neither ok nor skipped."""
        return [
            r
            for r in self.manifest["reports"]
            if r["status"] not in ("ok", "skipped") and not r.get("from_earlier_batch")
        ]

    @property
    def input_errors(self) -> dict[str, str]:
        """Study file -> error message, for this batch's studies whose inputs are invalid."""
        return {r["study"]: r["error"] for r in self.failed if r["status"] == INPUT_ERROR}

    @property
    def unprepared(self) -> dict[str, str]:
        """Study file -> message, for this batch's studies whose preparation was stopped
        (timeout) or died: their reports were not run."""
        return {r["study"]: r["error"] for r in self.failed if r.get("stage") == PREPARATION}

    @property
    def exit_code(self) -> int:
        """0 if every report is ok (or skipped as unchanged); 2 if a study's inputs are
        invalid (the command line's code for bad input), else 1 if a report failed."""
        if self.input_errors:
            return 2
        return 1 if self.failed else 0


def _studies(items: list[BatchItem], results: bool) -> list[tuple[str, str, bool]]:
    """The (study, quarter, with_results) triples a list of reports reads, in order."""
    return list(
        dict.fromkeys((i.study, i.job.parameters.get("quarter", ""), results) for i in items)
    )


_WORKER_POOL: Any = None
_WORKER_LOCK = threading.Lock()


def _worker_pool(studies: list[tuple[str, str, bool]]) -> Any:
    """The report pool of this (Dask worker) process, started on first use."""
    import multiprocessing

    from analysis.report.pool import ReportPool

    global _WORKER_POOL
    with _WORKER_LOCK:
        if _WORKER_POOL is None:
            if multiprocessing.current_process().daemon:
                raise RuntimeError(
                    "this Dask worker is a daemonic process, which may not start report "
                    "processes: start workers with DASK_DISTRIBUTED__WORKER__DAEMON=False"
                )
            import atexit

            _WORKER_POOL = ReportPool(workers=1, studies=studies).start()
            atexit.register(_WORKER_POOL.close)
        return _WORKER_POOL


def run_on_worker(job: dict[str, Any], studies: list[tuple[str, str, bool]]) -> dict[str, Any]:
    """Dask task: run one report on this worker and return its files' contents.

    ``studies`` are all the batch's (study, quarter, with_results), so that the worker's
    fork server loads them all before its first report. The report is written to a temporary
    folder on the worker and shipped back, so workers need the study and data files (same
    paths) but no shared output folder.

    Parameters
    ----------
    job : dict
        A :class:`ReportJob` as :meth:`ReportJob.to_dict` gives it; its output paths are
        replaced by ones in the worker's temporary folder.
    studies : list of tuple of (str, str, bool)
        Every (study path, quarter, with_results) of the batch (tuples may arrive as lists).

    Returns
    -------
    dict
        The report's :class:`JobResult` as a dict, with ``html`` and ``ipynb`` holding the
        written files' text (empty for a file that was not written).
    """
    pool = _worker_pool([tuple(s) for s in studies])
    with tempfile.TemporaryDirectory(prefix="ct-report-") as tmp:
        local = replace(
            ReportJob(**job),
            html_path=os.path.join(tmp, "report.html"),
            ipynb_path=os.path.join(tmp, "report.ipynb"),
        )
        result = pool.run(local)
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
    from analysis.report.pool import ReportPool, run_in_fork

    if len(items) == 1:
        # One report (the `report` command): fork this process rather than start a server
        # that would import everything a second time. The warm-up reads what the study's
        # preparation left in the disk cache, and draws the study-level figures.
        from analysis.report.warmup import warm_studies, warn_failures

        warn_failures(warm_studies([list(s) for s in _studies(items, results)]))
        on_done(items[0], run_in_fork(items[0].job))
        return
    by_job = {id(item.job): item for item in items}
    with ReportPool(workers=workers, studies=_studies(items, results)) as pool:
        pool.run_all([item.job for item in items], lambda job, r: on_done(by_job[id(job)], r))


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

    try:
        client = Client(scheduler, timeout="30s")
    except (ValueError, OSError, TimeoutError) as exc:
        # a misspelt address or a scheduler that is not running: the user's input
        raise InputError(
            "cannot reach the Dask scheduler",
            [Problem(None, None, "--scheduler", "the address of a running Dask scheduler, "
                     "e.g. tcp://10.0.0.5:8786", f"{scheduler} ({type(exc).__name__}: {exc})")],
        ) from None  # fmt: skip
    with client:
        studies = _studies(items, results)
        futures = {
            client.submit(
                run_on_worker,
                item.job.to_dict(),
                studies,
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


def _folders_of_other_studies(
    items: list[BatchItem], previous: dict[str, dict[str, Any]], root: Path
) -> dict[str, InputError]:
    """The studies whose report folder holds another study file's reports (an earlier batch
    into the same ``--out``), each with its error: their pages and records would mix."""
    clashes: dict[str, InputError] = {}
    for item in items:
        old = (previous.get(item.report_id) or {}).get("study")
        if old and old != item.study and item.study not in clashes:
            folder = root / item.study_slug
            clashes[item.study] = InputError(
                "the study's report folder holds another study file's reports",
                [
                    Problem(
                        item.study,
                        None,
                        None,
                        f"{folder} free of other studies' reports (choose another --out, "
                        "rename the file, or run batch --force to replace them)",
                        old,
                    )
                ],  # fmt: skip
            )
    return clashes


def _prepare(study: str, forecasts: bool, quarter: str, results: bool) -> str:
    """Body of :func:`prepare_study` (module level: the forked process runs it)."""
    from analysis.report import context

    ctx = context.check(study, forecasts=forecasts, quarter=quarter or None)
    if results:
        # a study whose models fail is still reported on: each report shows the error where
        # it happens, as the fork server's warm-up leaves it (analysis.report.warmup)
        try:
            context.warm(study, quarter)
        except Exception as exc:  # noqa: BLE001 - the reports show it; here it is only said
            from analysis.report.warmup import warn_failures

            warn_failures([f"{study}: {type(exc).__name__}: {exc}"])
    return " ".join(ctx.data.coverage_notes())


def _prepare_in_fork(study: str, forecasts: bool, quarter: str, results: bool, parent: int) -> str:
    """:func:`_prepare` in a forked process that ends with the batch (pid ``parent``) that
    forked it."""
    from analysis.report.pool import die_with_parent

    die_with_parent(parent)
    return _prepare(study, forecasts, quarter, results)


def prepare_study(
    study: str | os.PathLike[str],
    *,
    forecasts: bool = True,
    quarter: str = "",
    results: bool = False,
    timeout: float | None = None,
) -> str:
    """Check that a study's reports can start, and compute what they share, within a time.

    Once per study, before any report runs: a report of an invalid study would fail and
    replace a good page with a "did not finish" one. The checks are the notebooks' own
    (:func:`analysis.report.context.check`); ``results`` adds the study-level model fits,
    backtests, spillover simulation and growth table (:func:`analysis.report.context.warm`).
    With a ``timeout`` this runs in a fork of this process, stopped after that many seconds,
    and hands its work on through the disk cache of :mod:`analysis.report.context`, where
    this process, the fork server and the reports read it. With the disk cache off
    (``CONFLICT_TRENDS_REPORT_CACHE=off``) a fork's work would be lost: only the checks run,
    here and unbounded, and the results are computed where they were before this bound
    (the fork server, or this process before a single report's fork).

    Parameters
    ----------
    study : path
        The study YAML.
    forecasts : bool
        The reports forecast (the shipped templates): require the forecaster's history.
    quarter : str
        ``YYYYQn`` the reports are as of (empty: the study's end).
    results : bool
        Also compute the study-level results (a model that fails is left to the reports;
        ignored with the disk cache off).
    timeout : float, optional
        Seconds; None: no bound.

    Returns
    -------
    str
        :meth:`analysis.pipeline.StudyData.coverage_notes`, joined: the study's countries in
        which the data files hold no event, events counted where they lie because their
        country was unknown (empty when neither).

    Raises
    ------
    InputError
        The study's file, data, selection or history is invalid.
    PreparationStopped
        The preparation took longer than ``timeout`` or its process died.
    """
    from analysis import cache

    study = str(study)
    if cache.cache_dir() is None:
        # No disk cache to hand a fork's work on: the checks here, and the results left to
        # the fork server or, for a single report, to this process's warm-up before its fork.
        return _prepare(study, forecasts, quarter, results=False)
    if timeout is None:
        return _prepare(study, forecasts, quarter, results)
    from pebble import ProcessExpired, concurrent

    task = concurrent.process(timeout=timeout, mp_context=multiprocessing.get_context("fork"))
    future = task(_prepare_in_fork)(study, forecasts, quarter, results, os.getpid())
    try:
        return future.result()
    except TimeoutError:
        message = (
            "preparing the study (its data and the model results its reports share) was "
            f"stopped after {timeout:g} s (timeout)"
        )
        raise PreparationStopped("timeout", message) from None
    except ProcessExpired as exc:
        message = f"the process preparing the study died unexpectedly (exit code {exc.exitcode})"
        raise PreparationStopped("failed", message) from None
    finally:
        future.cancel()  # Ctrl-C while waiting: the fork stops too


def _locked(root: Path) -> BatchLocked:
    return BatchLocked(
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
    )


@contextlib.contextmanager
def _folder_lock(root: Path) -> Iterator[None]:
    """Hold the output folder's lock (``.batch.lock``, filelock's ``flock``) for the ``with``
    block. The file stays when the batch ends, as filelock leaves it by design: removing a
    lock file races with a batch that has just opened it, and a file left over stops nobody,
    since the lock is the kernel's and dies with its process."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(root / LOCK))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise _locked(root) from None
    try:
        yield
    finally:
        lock.release()


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
    replace_other_studies: bool = False,
    raise_input_errors: bool = False,
    on_note: Callable[[str, str], None] | None = None,
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
    regions, overview
        See :func:`plan`.
    timeout : float
        Seconds each report, and each study's preparation before its reports
        (:func:`prepare_study`), may take; past it, it is stopped.
    progress : bool
        Show a progress bar (stage "reports", on stderr, only when it is a terminal and
        :func:`analysis.progress.set_quiet` was not called; see :mod:`analysis.progress`).
    region_notebook, overview_notebook, methods_notebook : str
        Report templates (names of the shipped ones, see :mod:`analysis.report.assets`, or paths).
    preload_results : bool
        Compute each study's forecast and spillover results once per worker before forking
        (what the shipped templates use); off for templates that do not need them.
    replace_other_studies : bool
        Let a study write to a folder that holds an earlier batch's reports of another study
        file with the same name (the `batch` command's ``--force``); otherwise that study is
        an input error and the folder is left as it is.
    raise_input_errors : bool
        Raise a study's input error before anything is written, rather than record it in
        the manifest and the index (the `report` command: bad input is a message and exit
        code 2, and the folder stays as it was).
    on_note : callable, optional
        Called as ``on_note(study, note)`` once per prepared study whose data have a
        coverage note (:meth:`analysis.pipeline.StudyData.coverage_notes`: a country without
        events, events whose country was unknown), before any report runs.

    Returns
    -------
    BatchResult
        ``exit_code`` is 2 if a study's inputs are invalid, else 1 if any report failed or
        timed out. A study whose file, data or history is invalid (an ``InputError``, see
        :func:`analysis.report.context.check`) runs none of its reports: their pages stay
        as they were and the manifest records them with the status ``"input error"`` and
        the message; the other studies render. So for a study whose preparation was
        stopped, with the status ``"timeout"`` (or ``"failed"`` if its process died) and
        ``"stage": "preparation"``.

    Raises
    ------
    BatchLocked
        Another batch is writing to the same folder.
    InputError
        With ``raise_input_errors``, the first invalid study's error.
    """
    from analysis import progress as progress_bars

    root = output_folder(out, quarter)
    root.mkdir(parents=True, exist_ok=True)
    with _folder_lock(root):
        started = time.perf_counter()
        invalid: dict[str, InputError] = {}
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
            code=code_fingerprint(),
            errors=invalid,
        )
        planned = time.perf_counter() - started
        versions = package_versions()
        for item in items:  # left by a batch that was killed before it could remove them
            placement.discard(placement.staged(item))
        previous = {r["id"]: r for r in (read_manifest(root) or {}).get("reports", [])}
        if not replace_other_studies:
            invalid.update(_folders_of_other_studies(items, previous, root))
            items = [item for item in items if item.study not in invalid]
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
        checked = time.perf_counter()
        stopped: dict[str, PreparationStopped] = {}
        for study, study_quarter, _ in _studies(todo, preload_results):
            try:
                note = prepare_study(study, forecasts=preload_results, quarter=study_quarter,
                                     results=preload_results, timeout=timeout)  # fmt: skip
            except InputError as exc:
                invalid[study] = exc
            except PreparationStopped as exc:
                stopped[study] = exc
            else:
                if note and on_note is not None:
                    on_note(study, note)
        if raise_input_errors and invalid:
            # before the manifest and the index are rewritten with an "input error" record
            raise invalid[min(invalid)]
        for study, error in invalid.items():
            own = [item for item in items if item.study == study]
            # the reading's "nothing was written" is the ingest command's; here the manifest and
            # the index are written, and the record says the reports were not run
            message = error.render().replace("; nothing was written", "", 1)
            for record in input_error_entries(study, message, root, versions, own, previous):
                record.pop("stage", None)  # an earlier batch's stopped preparation
                entries[record["id"]] = record
        for study, stop in stopped.items():
            # recorded as a study's input error is, earlier pages kept: its reports did not run
            own = [item for item in todo if item.study == study]
            for record in input_error_entries(study, stop.message, root, versions, own, previous):
                entries[record["id"]] = {**record, "status": stop.status, "stage": PREPARATION}
        todo = [item for item in todo if item.study not in invalid and item.study not in stopped]
        checked = time.perf_counter() - checked
        # A report whose page is good runs into staged files, so that its failure cannot
        # replace that page (analysis.report.placement).
        planned_by_id = {item.report_id: item for item in todo}
        runs = [placement.staged(item) if placement.has_good_page(item) else item for item in todo]
        show = progress and progress_bars.enabled()
        if show:
            bar = progress_bars.bar(total=len(todo), stage="reports", unit="report")
        else:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), disable=True)
        done_lock = threading.Lock()

        def on_done(run: BatchItem, result: JobResult) -> None:
            with done_lock:
                item = planned_by_id[run.report_id]
                old = previous.get(item.report_id)
                kept = placement.settle(run, item, result, old, root)
                entries[item.report_id] = {**entry(item, result, root, versions), **kept}
                bar.update(1)
                if show and result.status != "ok":
                    bar.write(f"{result.status}: {item.report_id}: {result.error}")

        run_started = time.perf_counter()
        try:
            if runs and scheduler:
                _run_dask(runs, scheduler, on_done, preload_results)
            elif runs:
                _run_local(runs, workers, on_done, preload_results)
        finally:
            bar.close()
            for run in runs:  # settled ones are gone; an interrupted batch leaves none behind
                if run is not planned_by_id[run.report_id]:
                    placement.discard(run)
        run_seconds = time.perf_counter() - run_started
        from analysis.report.render import drop_dead_links

        for item in todo:  # after all: a linked report may finish after the one linking it
            drop_dead_links(item.job.html_path)
            drop_dead_links(placement.failed_paths(item)[0])
        ordered = [entries[item.report_id] for item in items if item.report_id in entries]
        # studies whose file could not be loaded have no planned reports, only these records
        planned_ids = {item.report_id for item in items}
        ordered += [record for key, record in entries.items() if key not in planned_ids]
        counts: dict[str, int] = {}
        for record in ordered:
            counts[record["status"]] = counts.get(record["status"], 0) + 1
        # Reports this batch did not plan stay listed while their pages exist: those of other
        # studies (`make report` then `make real` into one folder left the demo's reports on
        # disk but out of the index), and a planned study's others (`report --region` runs
        # one region; a region no longer in the plan after its focus changed). They keep
        # their own record; `counts` is this batch's.
        planned_studies = {item.study for item in items} | set(invalid)
        ordered += [
            {**record, "from_earlier_batch": True}
            for record in previous.values()
            if record["id"] not in entries  # a study this batch put in another's place
            and (record.get("study") not in planned_studies or record["id"] not in planned_ids)
            and record.get("html")
            and (root / record["html"]).is_file()
        ]
        manifest = {
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "quarter": validate_quarter(quarter) if quarter else None,
            "studies": sorted(planned_studies),
            "versions": versions,
            "workers": None if scheduler else workers,
            "scheduler": scheduler,
            "wall_seconds": round(time.perf_counter() - started, 3),
            "timings": {
                "plan": round(planned, 3),
                "check": round(checked, 3),
                "reports": round(run_seconds, 3),
            },
            "counts": counts,
            "reports": ordered,
        }
        published = portable(manifest, root)
        atomic_write_json(root / MANIFEST, published)
        # the index shows the errors: as the manifest on disk, naming no path of this machine
        index = write_index(root, published)
        if quarter:  # the folder above the quarters: one page linking them all
            write_quarters_index(root.parent)
        return BatchResult(out=root, manifest=manifest, index=index)
