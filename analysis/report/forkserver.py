"""A pre-imported process that forks one fresh child per report.

Starting a Jupyter kernel and importing pandas, statsmodels, seaborn and nbconvert costs about
3 s per report, while the report itself takes a fraction of a second. The fork server pays the
imports (and a warm-up render, and the study data) once; every report then runs in a
``fork()`` of it. A child starts from the server's clean state and dies after its report, so
nothing one report does (globals, rcParams, monkey-patching, random state) can reach the next:
isolation by construction rather than by clean-up.

The server is single-threaded (``fork()`` with threads is unsafe) and uses one BLAS thread
(``OPENBLAS_NUM_THREADS=1``: with default threading two workers were slower than one). It
exits when its parent closes its stdin, so it never outlives the process that started it.

Protocol: one JSON line per connection on a Unix socket; a ``run`` reply is the child's pid
line followed by its result line.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from analysis.report.run import JobResult, ReportJob

#: Environment for the server and so for every report: one BLAS/OpenMP thread, no display.
WORKER_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}

#: Modules imported before the first fork (missing ones are skipped).
PRELOAD = (
    "numpy",
    "pandas",
    "scipy.stats",
    "matplotlib.pyplot",
    "seaborn",
    "statsmodels.discrete.discrete_model",
    "statsmodels.genmod.generalized_linear_model",
    "papermill",
    "nbconvert",
    "jupytext",
    "analysis.config",
    "analysis.pipeline",
    "analysis.geography",
    "analysis.panel",
    "analysis.growth",
    "analysis.models.forecast",
    "analysis.models.spillover",
    "analysis.evaluation",
    "analysis.plots",
    "analysis.report.context",
    "analysis.report.show",
    "analysis.report.provenance",
)


# -- server side ---------------------------------------------------------------------------


def _warm(modules: tuple[str, ...]) -> None:
    """Import, and exercise once, everything a report needs, before any fork."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    for name in modules:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    import matplotlib.pyplot as plt
    import nbformat

    from analysis.report import render, run, show

    run._register_engine()
    shell = run.get_shell()
    # First text drawing loads fonts; first render compiles the Jinja template and the
    # Markdown renderer. Done here once instead of in every child.
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.set_title("warm-up")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## Warm\n\ntext *x*")]
    render.render_html(nb)
    del shell, show
    from analysis.report import assets

    for path in assets.notebook_dir().glob("*.py"):
        with contextlib.suppress(Exception):
            run.load_template(path)


def _send(conn: socket.socket, obj: dict[str, Any]) -> None:
    conn.sendall((json.dumps(obj, default=str) + "\n").encode("utf-8"))


def _read_line(conn: socket.socket) -> dict[str, Any]:
    chunks = []
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            break
    text = b"".join(chunks).decode("utf-8").strip()
    if not text:
        raise EOFError("connection closed without a message")
    return json.loads(text)


def _child(conn: socket.socket, request: dict[str, Any]) -> None:
    """Body of a forked child: run one job, reply, exit without running parent clean-ups."""
    code = 0
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _send(conn, {"pid": os.getpid()})
        from analysis.report.run import execute_job

        result = execute_job(ReportJob(**request["job"]), engine="inprocess")
        _send(conn, {"result": result.to_dict()})
    except BaseException as exc:  # noqa: BLE001 - the reply must always be sent
        code = 1
        with contextlib.suppress(Exception):
            _send(
                conn,
                {"result": JobResult("failed", 0.0, f"{type(exc).__name__}: {exc}").to_dict()},
            )
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def serve(socket_path: str, modules: tuple[str, ...] = PRELOAD) -> None:
    """Warm up, listen on ``socket_path`` and fork a child per ``run`` request."""
    for key, value in WORKER_ENV.items():
        os.environ.setdefault(key, value)
    _warm(modules)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(128)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "stdin")
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    children: set[int] = set()
    while True:
        for key, _ in selector.select(timeout=0.5):
            if key.data == "stdin":
                if not os.read(sys.stdin.fileno(), 4096):
                    listener.close()
                    for pid in children:
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(pid, signal.SIGKILL)
                    return
                continue
            conn, _ = listener.accept()
            try:
                conn.settimeout(30)
                request = _read_line(conn)
                op = request.get("op")
                if op == "run":
                    # Park every object the server holds outside the collector's reach, so a
                    # child's garbage collections do not touch (and copy) the shared pages.
                    gc.freeze()
                    pid = os.fork()
                    if pid == 0:
                        listener.close()
                        selector.close()
                        conn.settimeout(None)
                        _child(conn, request)
                    children.add(pid)
                elif op == "preload":
                    from analysis.report import context

                    try:
                        if request.get("results", True):
                            context.warm(request["study"], request.get("quarter", ""))
                        else:
                            context.load(request["study"])
                        _send(conn, {"ok": True})
                    except Exception as exc:  # noqa: BLE001 - reported to the client
                        _send(conn, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
                else:
                    _send(conn, {"ok": True, "pid": os.getpid()})
            except Exception:  # noqa: BLE001, S110 - a bad client must not kill the server
                pass
            finally:
                conn.close()
        for pid in list(children):
            with contextlib.suppress(ChildProcessError):
                done, _ = os.waitpid(pid, os.WNOHANG)
                if not done:
                    continue
            children.discard(pid)


# -- client side ---------------------------------------------------------------------------


def _await(conn: socket.socket, job: ReportJob, limit: float, start: float) -> JobResult:
    """Read a child's pid then its result from ``conn``; kill it when ``limit`` passes."""
    try:
        pid = int(_read_line(conn)["pid"])
    except (EOFError, ConnectionError, json.JSONDecodeError, KeyError):
        return JobResult("failed", time.perf_counter() - start, "report process did not start")
    conn.settimeout(max(limit - (time.perf_counter() - start), 0.01))
    try:
        reply = _read_line(conn)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        from analysis.report.run import finish_timed_out

        return finish_timed_out(job, pid, limit, time.perf_counter() - start)
    except (EOFError, ConnectionError, json.JSONDecodeError):
        return JobResult("failed", time.perf_counter() - start, "report process died unexpectedly")
    finally:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
    return JobResult(**reply["result"])


def run_in_fork(job: ReportJob, timeout: float | None = None) -> JobResult:
    """Run one report in a fork of the current process (for a single report: no server).

    The caller should be single-threaded and may warm up first (imports, study data); the
    child inherits that and this process is left untouched by the report.
    """
    limit = job.timeout if timeout is None else timeout
    start = time.perf_counter()
    parent, child = socket.socketpair()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which exits in _child
        parent.close()
        _child(child, {"job": job.to_dict()})
    child.close()
    try:
        with parent:
            return _await(parent, job, limit, start)
    finally:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


class ForkServer:
    """Start and talk to a fork server; one per worker process.

    Thread-safe: several threads may run reports at once, each in its own forked child.

    Examples
    --------
    >>> with ForkServer() as server:  # doctest: +SKIP
    ...     result = server.run(job, timeout=120)
    """

    def __init__(self, modules: tuple[str, ...] = PRELOAD, start_timeout: float = 120.0) -> None:
        self.modules = tuple(modules)
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._dir: str | None = None
        self._lock = threading.Lock()
        self._preloaded: set[str] = set()

    @property
    def socket_path(self) -> str:
        assert self._dir is not None
        return os.path.join(self._dir, "fork.sock")

    def start(self) -> ForkServer:
        """Start the server process and wait until it is warm."""
        with self._lock:
            if self.process is not None and self.process.poll() is None:
                return self
            self._dir = tempfile.mkdtemp(prefix="ct-fork-")
            env = {**os.environ, **WORKER_ENV}
            root = str(Path(__file__).resolve().parents[2])
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "analysis.report.forkserver",
                    self.socket_path,
                    *self.modules,
                ],  # fmt: skip
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
            )
            assert self.process.stdout is not None
            selector = selectors.DefaultSelector()
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=self.start_timeout):
                self._stop()
                raise RuntimeError("report fork server did not start in time")
            line = self.process.stdout.readline()
            if line.strip() != b"ready":
                self._stop()
                raise RuntimeError("report fork server failed to start")
            return self

    def _connect(self, timeout: float | None) -> socket.socket:
        if self.process is None or self.process.poll() is not None:
            self.start()
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(timeout)
        conn.connect(self.socket_path)
        return conn

    def preload(self, study: str, quarter: str = "", results: bool = True) -> bool:
        """Load a study's data and shared results into the server once, before forking.

        Returns whether it worked. A failure is not fatal: each report then loads on its own
        and reports the error where it happens.
        """
        key = f"{study}|{quarter}|{results}"
        if key in self._preloaded:
            return True
        with self._connect(900) as conn:
            _send(conn, {"op": "preload", "study": study, "quarter": quarter, "results": results})
            reply = _read_line(conn)
        self._preloaded.add(key)
        return bool(reply.get("ok"))

    def run(self, job: ReportJob, timeout: float | None = None) -> JobResult:
        """Run ``job`` in a fresh fork; kill it after ``timeout`` seconds (default job.timeout).

        Returns
        -------
        JobResult
            With status ``timeout`` if the limit was hit (the notebook is kept with its
            parameters and the timeout as its error), ``failed`` if the child died.
        """
        limit = job.timeout if timeout is None else timeout
        start = time.perf_counter()
        with self._connect(30) as conn:
            _send(conn, {"op": "run", "job": job.to_dict()})
            return _await(conn, job, limit, start)

    def _stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(Exception):
                assert self.process.stdin is not None
                self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        if self._dir is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.socket_path)
            with contextlib.suppress(OSError):
                os.rmdir(self._dir)
            self._dir = None

    def close(self) -> None:
        """Stop the server (its children are killed with it)."""
        with self._lock:
            self._stop()
            self._preloaded.clear()

    def __enter__(self) -> ForkServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":  # pragma: no cover - started by ForkServer.start
    serve(sys.argv[1], tuple(sys.argv[2:]) or PRELOAD)
