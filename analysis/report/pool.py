"""Run each report in a fresh process forked from one pre-imported, pre-warmed server.

Starting a Jupyter kernel and importing pandas, statsmodels, seaborn and nbconvert costs about
3 s per report. Here that is paid once: the standard library's ``forkserver`` start method
keeps a single-threaded server process that imports, once, the modules given to
:func:`multiprocessing.set_forkserver_preload`; the last of them,
:mod:`analysis.report.preload` (see :mod:`analysis.report.warmup`), also draws a figure,
renders a page and loads the batch's studies and their study-level results. Every report then
runs in a ``fork()`` of that server, driven by a pebble :class:`pebble.ProcessPool` with
``max_tasks=1`` (one report per process, so nothing a report does, globals, rcParams, monkey-
patching, random state, can reach the next) and a per-task timeout (the process is terminated,
then killed).

The pool keeps one spare process forked ahead of need, so a report's start is not delayed by
the fork, and at most ``workers`` reports run at once. Every report process has one BLAS/OpenMP
thread (with default threading two workers were slower than one).

One fork server per Python process, started on first use with the studies known then. A pool
opened later for other studies in the same process (a long-lived Dask worker) finds them absent
from the server: this process then warms them (filling the on-disk cache of
:mod:`analysis.report.context`) and each report reads them from that cache (about 0.1 s).

Measured against the home-made Unix-socket fork server it replaces (``benchmarks/batch.py``, 8
demo region reports, 2 workers, interleaved runs on a 2-core machine shared at load 7-18): 167,
266 and 100 s against 178, 184 and 103 s (the 266 s run overlapped other heavy tests of ours);
per report, the parent-observed fork and IPC overhead fell from 0.26 to 0.11 s (the spare
process). Within 10%, so replaced.

Dask: worker processes are daemonic by default and daemonic processes may not start children;
start workers with ``DASK_DISTRIBUTED__WORKER__DAEMON=False`` (``dask worker`` reads it).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import multiprocessing.forkserver
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any

from analysis.report.run import JobResult, ReportJob, execute_job, finish_killed
from analysis.report.warmup import MODULES, STUDIES_ENV

#: Set while the fork server starts, where the user had not set PYTHONSAFEPATH themselves
#: (:func:`_server_environment`).
SAFE_PATH_ENV = {"PYTHONSAFEPATH": "1", "CONFLICT_TRENDS_SAFE_PATH_SET": "1"}

#: Environment of the fork server, so of every report: one BLAS/OpenMP thread, no display.
WORKER_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}

#: (study, quarter, with_results) triples the fork server warmed at its start (None: not
#: started by this module).
_SERVER_STUDIES: set[tuple[str, str, bool]] | None = None


#: Linux's prctl option that signals a process when its parent ends.
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int | None = None) -> None:
    """End this process (SIGTERM) when its parent ends; call it first thing in a forked child.

    A batch killed by cron or an operator (SIGKILL, or SIGTERM before its handler runs) left
    its report and preparation processes running, writing pages into ``--out`` after the
    batch and its lock were gone. The fork server ends with the batch (its pipe closes), so
    a report forked from it ends too. Linux only; elsewhere nothing is done.

    Parameters
    ----------
    parent : int, optional
        The parent's pid as the parent saw it before the fork; without it, the parent as this
        process sees it now. Where the parent ended before the request was made, this
        process's parent is no longer it (an init process or a subreaper has it) and it ends
        at once. Comparing with pid 1 instead killed every child of a batch that is itself
        pid 1, as in a container.
    """
    import ctypes
    import signal

    expected = os.getppid() if parent is None else int(parent)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != expected:
        os._exit(1)


def _run(job: dict[str, Any], parent: int | None = None) -> JobResult:
    """Body of a report process (module level: pebble sends it by reference); ``parent`` is
    the forking process's pid where it is this one's (a fork of the batch itself)."""
    die_with_parent(parent)
    return execute_job(ReportJob(**job), engine="inprocess")


def start_server(
    studies: Iterable[tuple[str, str, bool]] = (), modules: tuple[str, ...] = MODULES
) -> bool:
    """Start this process's fork server, warmed with ``modules`` and ``studies``.

    Parameters
    ----------
    studies : iterable of (study_path, quarter, with_results)
        Studies to load (and model, when ``with_results``) before the first fork.
    modules : tuple of str
        Modules to import before the first fork.

    Returns
    -------
    bool
        True if every study is in the server; False if the server was already running
        without some of them (then warm them in this process, see the module docstring).
    """
    global _SERVER_STUDIES
    wanted = {(str(s), str(q or ""), bool(r)) for s, q, r in studies}
    if _SERVER_STUDIES is not None:
        # a server that died is started again here, with the same environment
        with _server_environment(_SERVER_STUDIES):
            multiprocessing.forkserver.ensure_running()
        return wanted <= _SERVER_STUDIES
    with _server_environment(wanted):
        # "__main__" first: report processes then need not re-import the main script
        preload = ["__main__", *modules, "analysis.report.preload"]
        multiprocessing.get_context("forkserver").set_forkserver_preload(preload)
        multiprocessing.forkserver.ensure_running()
    _SERVER_STUDIES = wanted
    return True


@contextlib.contextmanager
def _server_environment(studies: set[tuple[str, str, bool]]) -> Iterator[None]:
    """This process's environment as the fork server should start with it, restored after.

    :data:`WORKER_ENV`, the studies to warm, and :data:`SAFE_PATH_ENV`: the server starts as
    ``python -c ...``, which puts the working folder first on its import path, and Python
    3.11's fork server ignores the path this process passes it, so a user's own ``analysis/``
    package there shadowed this one in every report ("cannot import name 'installed_version'
    from 'analysis'"). The server drops the variable once started
    (:mod:`analysis.report.preload`); its processes keep Python's ``safe_path`` flag.
    """
    saved = {key: os.environ.get(key) for key in (*WORKER_ENV, STUDIES_ENV, *SAFE_PATH_ENV)}
    os.environ.update(WORKER_ENV)
    os.environ[STUDIES_ENV] = json.dumps(sorted(studies))
    if not saved["PYTHONSAFEPATH"]:  # unset, or set empty, which Python reads as unset
        os.environ.update(SAFE_PATH_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _outcome(future: Future, job: ReportJob, limit: float, start: float) -> JobResult:
    """The JobResult of a finished pebble future, recording timeouts and crashes."""
    from pebble import ProcessExpired

    duration = time.perf_counter() - start
    try:
        return future.result()
    except TimeoutError:
        message = f"the report was stopped after {limit:g} s (timeout)"
        return finish_killed(job, "timeout", message, duration)
    except ProcessExpired as exc:
        message = f"the report's process died unexpectedly (exit code {exc.exitcode})"
        return finish_killed(job, "failed", message, duration)
    except Exception as exc:  # noqa: BLE001 - one broken report must not stop a batch
        return JobResult("failed", duration, f"{type(exc).__name__}: {exc}")


class ReportPool:
    """Run reports, each in a fresh fork of the warm fork server; see the module docstring.

    Parameters
    ----------
    workers : int
        Reports at once.
    studies : iterable of (study_path, quarter, with_results)
        Studies the reports read, loaded once before the first fork.
    modules : tuple of str
        Modules imported before the first fork.

    Examples
    --------
    >>> with ReportPool(workers=2, studies=[("study.yaml", "", True)]) as pool:  # doctest: +SKIP
    ...     pool.run_all(jobs, lambda job, result: print(result.status))
    """

    def __init__(
        self,
        workers: int = 1,
        studies: Iterable[tuple[str, str, bool]] = (),
        modules: tuple[str, ...] = MODULES,
    ) -> None:
        self.workers = max(1, int(workers))
        self.studies = [(str(s), str(q or ""), bool(r)) for s, q, r in studies]
        self.modules = tuple(modules)
        self._pool: Any = None

    def start(self) -> ReportPool:
        """Start (or reuse) the fork server and the process pool."""
        from pebble import ProcessPool

        if self._pool is not None:
            return self
        if not start_server(self.studies, self.modules):
            from analysis.report.warmup import warm_studies, warn_failures

            warn_failures(warm_studies([list(s) for s in self.studies]))  # fills the disk cache
        self._pool = ProcessPool(
            max_workers=self.workers + 1,  # one spare, forked ahead of need
            max_tasks=1,
            context=multiprocessing.get_context("forkserver"),
        )
        return self

    def ready(self) -> float:
        """Wait until the fork server is warm and a report process has started; seconds."""
        start = time.perf_counter()
        if self._pool is None:
            self.start()
        self._pool.schedule(os.getpid).result()
        return time.perf_counter() - start

    def server_cpu_seconds(self) -> float:
        """CPU seconds the fork server spent on its start-up (imports, studies, figures)."""
        from analysis.report.warmup import prepare_cpu_seconds

        if self._pool is None:
            self.start()
        return float(self._pool.schedule(prepare_cpu_seconds).result())

    def _submit(self, job: ReportJob, timeout: float | None) -> tuple[Future, float, float]:
        if self._pool is None:
            self.start()
        limit = job.timeout if timeout is None else timeout
        future = self._pool.schedule(_run, args=(job.to_dict(),), timeout=limit)
        return future, limit, time.perf_counter()

    def run(self, job: ReportJob, timeout: float | None = None) -> JobResult:
        """Run ``job``; stop it after ``timeout`` seconds (default ``job.timeout``).

        Parameters
        ----------
        job : ReportJob
            The report to run.
        timeout : float, optional
            Limit in seconds; None (the default) uses ``job.timeout``.

        Returns
        -------
        JobResult
            ``timeout`` if the limit was hit, ``failed`` if the report failed or its process
            died; in both cases the notebook and HTML say so.
        """
        future, limit, start = self._submit(job, timeout)
        wait([future])
        return _outcome(future, job, limit, start)

    def run_all(
        self, jobs: Iterable[ReportJob], on_done: Callable[[ReportJob, JobResult], None]
    ) -> None:
        """Run every job, ``workers`` at a time, calling ``on_done`` as each finishes.

        Parameters
        ----------
        jobs : iterable of ReportJob
            The reports to run, submitted in order; each stopped after its ``job.timeout``.
        on_done : callable
            Called as ``on_done(job, result)`` with each job's :class:`JobResult`, in the
            order they finish.
        """
        queue = iter(jobs)
        running: dict[Future, tuple[ReportJob, float, float]] = {}

        def submit_next() -> None:
            job = next(queue, None)
            if job is not None:
                future, limit, start = self._submit(job, None)
                running[future] = (job, limit, start)

        for _ in range(self.workers):
            submit_next()
        while running:
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in done:
                job, limit, start = running.pop(future)
                submit_next()  # before the bookkeeping, so the pool stays busy
                on_done(job, _outcome(future, job, limit, start))

    def close(self) -> None:
        """Stop the pool's processes (the fork server stays for this process's next pool)."""
        if self._pool is not None:
            self._pool.stop()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> ReportPool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_in_fork(job: ReportJob, timeout: float | None = None) -> JobResult:
    """Run one report in a fork of this process (a single report: no server to warm).

    The caller should be single-threaded and may warm up first (imports, study data); the
    child inherits that, and this process is left untouched by the report.

    Parameters
    ----------
    job : ReportJob
        The report to run.
    timeout : float, optional
        Limit in seconds; None (the default) uses ``job.timeout``.

    Returns
    -------
    JobResult
        ``timeout`` if the limit was hit, ``failed`` if the report failed or its process
        died.
    """
    from pebble import concurrent

    limit = job.timeout if timeout is None else timeout
    start = time.perf_counter()
    task = concurrent.process(timeout=limit, mp_context=multiprocessing.get_context("fork"))
    future = task(_run)(job.to_dict(), os.getpid())
    wait([future])
    return _outcome(future, job, limit, start)
