"""Run one report: validate parameters, execute the notebook with papermill, render HTML.

Two ways to execute, same notebook, same papermill call:

- ``engine="inprocess"`` (default): papermill drives an IPython shell inside the current
  process. It is meant to run inside a process forked from a pre-imported parent
  (:mod:`analysis.report.forkserver`), so each report gets a fresh interpreter state for the
  price of a ``fork()`` instead of a kernel start plus 2-3 s of imports.
- ``engine="kernel"``: papermill's standard nbclient engine with a fresh Jupyter kernel per
  report (the slow, plain way; the benchmark baseline and an escape hatch).

Parameters injected into notebooks are validated first: only known names, and only values of
the expected form (ISO 3166-2 region codes, existing study files, ``YYYYQn`` quarters), so
nothing a user types can become code in the injected cell.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from analysis.errors import InputError, Problem
from analysis.periods import validate_quarter

# ISO 3166-2; the shipped boundaries join units that share a polygon with "|" (MR-13|MR-14)
REGION_PATTERN = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}(\|[A-Z]{2}-[A-Z0-9]{1,3}){0,5}$")
ENGINE_NAME = "conflict-trends-inprocess"

#: The parameters a report notebook accepts and how each is checked.
PARAMETER_KINDS = {
    "study": "study_path",
    "region": "region",
    "quarter": "quarter",
    "previous_manifest": "optional_path",
}


def slugify(text: str) -> str:
    """Return a lowercase file-name-safe slug (``ML-KY`` -> ``ml-ky``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    if not slug:
        raise InputError(f"cannot make a file name from {text!r}")
    return slug


def validate_region(region: str) -> str:
    """Return ``region`` upper-cased if it is an ISO 3166-2 code, else raise InputError."""
    value = str(region).strip().upper()
    if not REGION_PATTERN.fullmatch(value):
        raise InputError(
            "invalid region",
            [Problem(None, None, "region", "an ISO 3166-2 code such as ML-KY", str(region))],
        )
    return value


def _safe_text(name: str, value: Any) -> str:
    text = str(value)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise InputError(
            "invalid parameter",
            [Problem(None, None, name, "text without control characters", text)],
        )
    return text


def validate_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """Check report parameters before they are injected into a notebook.

    Parameters
    ----------
    parameters : dict
        Names from :data:`PARAMETER_KINDS` only.

    Returns
    -------
    dict
        Normalised values: absolute study path, upper-case region code, and so on.

    Raises
    ------
    InputError
        Unknown name, or a value not of the expected form.
    """
    out: dict[str, Any] = {}
    problems = []
    for name, value in parameters.items():
        kind = PARAMETER_KINDS.get(name)
        if kind is None:
            problems.append(
                Problem(None, None, name, f"one of {', '.join(PARAMETER_KINDS)}", str(name))
            )
            continue
        try:
            if kind == "region":
                out[name] = validate_region(value)
            elif kind == "quarter":
                out[name] = "" if value in (None, "") else validate_quarter(value)
            elif kind == "study_path":
                path = Path(_safe_text(name, value)).expanduser().resolve()
                if not path.is_file() or path.suffix.lower() not in (".yaml", ".yml"):
                    raise InputError(
                        "invalid study",
                        [Problem(str(path), None, None, "an existing study .yaml file")],
                    )
                out[name] = str(path)
            elif kind == "optional_path":
                if value in (None, ""):
                    out[name] = ""
                else:
                    path = Path(_safe_text(name, value)).expanduser().resolve()
                    out[name] = str(path) if path.is_file() else ""
        except InputError as exc:
            problems.extend(exc.problems or [Problem(None, None, name, exc.message, str(value))])
        except (TypeError, ValueError):
            problems.append(Problem(None, None, name, f"a valid {kind}", str(value)))
    if problems:
        raise InputError("invalid report parameters", problems)
    return out


@dataclass(frozen=True)
class ReportJob:
    """One report to make: which notebook, with which parameters, written where."""

    notebook: str
    parameters: dict[str, Any]
    html_path: str
    ipynb_path: str
    timeout: float = 600.0
    key: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (for pipes and Dask)."""
        return asdict(self)


@dataclass(frozen=True)
class JobResult:
    """Outcome of a :class:`ReportJob`."""

    status: str  # "ok", "failed" or "timeout"
    duration: float
    error: str = ""
    records: dict[str, Any] = field(default_factory=dict)
    html: str = ""
    ipynb: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return asdict(self)


def notebook_path(name: str) -> Path:
    """Resolve a template name (``region_report``) or path to an existing notebook file."""
    from analysis.report import assets

    path = Path(name)
    if not path.suffix:
        path = assets.notebook(name)
    if not path.is_file():
        raise InputError("unknown report template", [Problem(str(path), None, None, "a file")])
    return path.resolve()


@functools.lru_cache(maxsize=16)
def _read_template(path: str, mtime_ns: int) -> nbformat.NotebookNode:
    if path.endswith(".ipynb"):
        return nbformat.read(path, as_version=4)
    import jupytext

    return jupytext.read(path)


def load_template(path: str | os.PathLike[str]) -> nbformat.NotebookNode:
    """Read a report notebook (jupytext ``.py`` or ``.ipynb``), cached while unchanged."""
    import copy

    path = Path(path)
    return copy.deepcopy(_read_template(str(path), path.stat().st_mtime_ns))


# -- the in-process papermill engine -------------------------------------------------------


class _Stream:
    """File-like object appending text to the notebook's outputs, merging consecutive writes."""

    def __init__(self, name: str, outputs: list[Any]) -> None:
        self.name = name
        self.outputs = outputs
        self.encoding = "utf-8"

    def write(self, text: str) -> int:
        if not text:
            return 0
        last = self.outputs[-1] if self.outputs else None
        if last is not None and last.get("output_type") == "stream" and last.name == self.name:
            last.text += text
        else:
            self.outputs.append(nbformat.v4.new_output("stream", name=self.name, text=text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


_SHELL: Any = None


def get_shell() -> Any:
    """Return this process's IPython shell, created once (history off: no background thread).

    A shell created before ``fork()`` and never given user code is a clean slate in every
    child; that is what makes a forked report free of state from earlier reports.
    """
    global _SHELL
    if _SHELL is None:
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False
        config.InteractiveShell.colors = "nocolor"
        config.InlineBackend.figure_formats = {"png"}
        config.InlineBackend.rc = {"figure.dpi": 96}
        _SHELL = InteractiveShell.instance(config=config)
        try:
            import warnings

            with warnings.catch_warnings():  # matplotlib_inline uses a deprecated traitlets API
                warnings.simplefilter("ignore", DeprecationWarning)
                _SHELL.enable_matplotlib("inline")
        except Exception:  # noqa: BLE001 - a shell without inline figures still runs reports
            pass
    return _SHELL


def _run_cell(shell: Any, source: str, count: int) -> tuple[list[Any], bool]:
    """Execute ``source`` in ``shell``; return its outputs in order and whether it failed."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher

    outputs: list[Any] = []

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False,
                    **kwargs):  # fmt: skip
            outputs.append(
                nbformat.v4.new_output("display_data", data=data, metadata=metadata or {})
            )

        def clear_output(self, wait=False):
            outputs.clear()

    class Hook(DisplayHook):
        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            outputs.append(
                nbformat.v4.new_output(
                    "execute_result",
                    data=format_dict,
                    metadata=md_dict or {},
                    execution_count=count,
                )
            )

    def show_traceback(etype: Any, evalue: Any, stb: list[str]) -> None:
        outputs.append(
            nbformat.v4.new_output(
                "error",
                ename=getattr(etype, "__name__", str(etype)),
                evalue=str(evalue),
                traceback=list(stb),
            )
        )

    saved = (shell.display_pub, shell.displayhook, shell.display_trap.hook, sys.stdout, sys.stderr)
    shell.display_pub = Publisher(shell=shell)
    hook = Hook(shell=shell, cache_size=0)
    shell.displayhook = shell.display_trap.hook = hook
    shell._showtraceback = show_traceback
    sys.stdout, sys.stderr = _Stream("stdout", outputs), _Stream("stderr", outputs)
    try:
        result = shell.run_cell(source, store_history=False, silent=False)
    finally:
        (shell.display_pub, shell.displayhook, shell.display_trap.hook, sys.stdout,
         sys.stderr) = saved  # fmt: skip
    failed = not result.success
    if failed and not any(o.get("output_type") == "error" for o in outputs):
        error = result.error_in_exec or result.error_before_exec
        outputs.append(
            nbformat.v4.new_output(
                "error", ename=type(error).__name__, evalue=str(error), traceback=[str(error)]
            )
        )
    return outputs, failed


def _register_engine() -> None:
    from papermill.engines import Engine, papermill_engines

    if ENGINE_NAME in papermill_engines._engines:
        return

    class InProcessEngine(Engine):
        """Papermill engine running cells in this process's IPython shell."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            shell = get_shell()
            count = 0
            for index, cell in enumerate(nb_man.nb.cells):
                nb_man.cell_start(cell, index)
                try:
                    if cell.cell_type != "code":
                        continue
                    count += 1
                    outputs, failed = _run_cell(shell, cell.source, count)
                    cell.outputs = outputs
                    cell.execution_count = count
                    if failed:
                        nb_man.cell_exception(cell, cell_index=index, exception=None)
                        break
                finally:
                    nb_man.cell_complete(cell, cell_index=index)

        @classmethod
        def nb_kernel_name(cls, nb, name=None):
            return name or "python3"

        @classmethod
        def nb_language(cls, nb, language=None):
            return language or "python"

    papermill_engines.register(ENGINE_NAME, InProcessEngine)


def execute_job(job: ReportJob | dict[str, Any], engine: str = "inprocess") -> JobResult:
    """Execute a report notebook with papermill and render its HTML.

    Both files are written (atomically) even when the notebook fails: the executed notebook
    keeps the error where it happened, and the HTML says the report did not finish.

    Parameters
    ----------
    job : ReportJob or dict
        What to run and where to write.
    engine : {"inprocess", "kernel"}
        ``inprocess`` runs in this process (use it in a forked child); ``kernel`` starts a
        fresh Jupyter kernel (and honours ``job.timeout`` per cell).

    Returns
    -------
    JobResult
        Status, duration, error text and the records the notebook published.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from analysis.io import atomic_write_text
    from analysis.progress import StageTimer
    from analysis.report import render
    from analysis.report.profile import instrument

    if isinstance(job, dict):
        job = ReportJob(**job)
    start = time.perf_counter()
    timer = StageTimer()
    with timer.stage("template"):
        parameters = validate_parameters(job.parameters)
        nb_in = load_template(notebook_path(job.notebook))
    ipynb_path = Path(job.ipynb_path)
    status, error = "ok", ""
    ipynb_path.parent.mkdir(parents=True, exist_ok=True)
    # papermill insists on an .ipynb suffix, so the temporary file keeps one
    tmp = ipynb_path.with_name(f".{ipynb_path.stem}.{os.getpid()}.tmp.ipynb")
    inner = StageTimer()
    profiling = contextlib.nullcontext(inner)
    if job.extra.get("profile"):
        profiling = instrument(inner)
    try:
        try:
            with timer.stage("execute"), profiling:
                if engine == "inprocess":
                    _register_engine()
                    papermill.execute_notebook(
                        nb_in,
                        str(tmp),
                        parameters=parameters,
                        engine_name=ENGINE_NAME,
                        kernel_name="python3",
                        language="python",
                        progress_bar=False,
                        log_output=False,
                        # Saving after every cell re-serialises the notebook ~50 times (a
                        # quarter of a report's time); a timed-out report keeps its parameters.
                        request_save_on_cell_execute=False,
                    )
                else:
                    papermill.execute_notebook(
                        nb_in,
                        str(tmp),
                        parameters=parameters,
                        kernel_name="python3",
                        language="python",
                        progress_bar=False,
                        execution_timeout=job.timeout,
                    )
        except PapermillExecutionError as exc:
            status, error = "failed", f"{exc.ename}: {exc.evalue}"
        except Exception as exc:  # noqa: BLE001 - one broken report must not stop a batch
            status, error = "failed", "".join(traceback.format_exception_only(exc)).strip()
            if not tmp.exists() or tmp.stat().st_size == 0:
                nbformat.write(nb_in, str(tmp))
        with timer.stage("writing"):
            nb_out = nbformat.read(str(tmp), as_version=4)
            os.replace(tmp, ipynb_path)
    finally:
        tmp.unlink(missing_ok=True)
    records = render.collect_records(nb_out)
    with timer.stage("nbconvert"):
        page = render.render_html(nb_out)
    with timer.stage("writing"):
        atomic_write_text(job.html_path, page)
    timings = timer.as_dict()
    if inner.seconds:
        timings.update({k: round(v, 3) for k, v in inner.seconds.items()})
        timings["cells_other"] = round(timer.seconds["execute"] - sum(inner.seconds.values()), 3)
    return JobResult(
        status=status,
        duration=time.perf_counter() - start,
        error=error,
        records=_jsonable(records),
        timings=timings,
    )


def _jsonable(obj: Any) -> Any:
    """Make records JSON-safe: NaN and infinities become None, numpy scalars Python ones."""
    import math

    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):
        try:
            obj = obj.item()
        except (TypeError, ValueError):
            return str(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    return str(obj)


def finish_timed_out(job: ReportJob, pid: int, limit: float, duration: float) -> JobResult:
    """Keep a record of a killed report: its notebook (as far as it was saved, else the
    parameterized template) with the timeout as an error, and the HTML of that."""
    from analysis.io import atomic_write_text
    from analysis.report import render

    ipynb_path = Path(job.ipynb_path)
    partial = ipynb_path.with_name(f".{ipynb_path.stem}.{pid}.tmp.ipynb")
    try:
        nb = nbformat.read(str(partial), as_version=4)
    except (OSError, ValueError):
        nb = load_template(notebook_path(job.notebook))
    message = f"the report was stopped after {limit:g} s (timeout)"
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [
        nbformat.v4.new_output("error", ename="TimeoutError", evalue=message, traceback=[message])
    ]
    nb.cells.append(cell)
    atomic_write_text(ipynb_path, nbformat.writes(nb))
    partial.unlink(missing_ok=True)
    render.write_html(nb, job.html_path)
    return JobResult(
        status="timeout",
        duration=duration,
        error=message,
        records=_jsonable(render.collect_records(nb)),
    )


def write_parameterized(
    template: str, parameters: dict[str, Any], target: str | os.PathLike[str]
) -> Path:
    """Write a copy of a report notebook with validated parameters injected, not executed.

    Parameters
    ----------
    template : str
        ``region_report``, ``overview``, ``methods`` or a notebook path.
    parameters : dict
        Report parameters (validated as for a run); ``region`` is dropped for templates that
        do not take one.
    target : path
        The ``.ipynb`` to write (atomically).

    Returns
    -------
    Path
        ``target``.
    """
    import papermill

    from analysis.io import atomic_write_text

    params = validate_parameters(parameters)
    path = notebook_path(template)
    nb = load_template(path)
    source = "\n".join(c.source for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params = {k: v for k, v in params.items() if re.search(rf"^{k}\s*=", source, re.MULTILINE)}
    out = papermill.execute_notebook(
        nb,
        None,
        parameters=params,
        prepare_only=True,
        kernel_name="python3",
        language="python",
        progress_bar=False,
    )
    target = Path(target)
    if target.suffix != ".ipynb":
        raise InputError("invalid notebook path", [Problem(str(target), None, None, "*.ipynb")])
    atomic_write_text(target, nbformat.writes(out))
    return target
