"""Run one report: validate parameters, execute the notebook with papermill, render HTML.

Two ways to execute, same notebook, same papermill call:

- ``engine="inprocess"`` (default): papermill drives an IPython shell inside the current
  process through a registered papermill engine (:mod:`analysis.report.engine`). It is meant
  to run inside a process forked from a pre-imported parent (:mod:`analysis.report.pool`), so
  each report gets a fresh interpreter state for the price of a ``fork()`` instead of a kernel
  start plus 2-3 s of imports.
- ``engine="kernel"``: papermill's standard nbclient engine with a fresh Jupyter kernel per
  report (the slow, plain way; the benchmark baseline and an escape hatch).

Parameters injected into notebooks are validated first (:mod:`analysis.report.params`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.errors import InputError, Problem, parameter_kind
from analysis.report.params import (  # noqa: F401 - re-exported: the report API
    PARAMETER_KINDS,
    slugify,
    validate_parameters,
    validate_region,
)

if TYPE_CHECKING:
    import nbformat


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


def notebook_path(name: str, option: str = "template") -> Path:
    """Resolve a template name (``region_report``) or path to an existing notebook file.

    ``option`` names where the name was given, for the message: a command's ``--template``,
    or (the default) a batch's template parameter.

    Parameters
    ----------
    name : str
        A shipped template's name without suffix (``region_report``, ``overview``,
        ``methods``), or a path to a ``.py`` or ``.ipynb`` notebook.
    option : str, optional
        Option or parameter named in the error message; default ``"template"``.

    Returns
    -------
    Path
        The notebook file, resolved to an absolute path.

    Raises
    ------
    InputError
        If a name without suffix is no shipped template, or the path is not a file.
    """
    from analysis.report import assets

    path = Path(name)
    if not path.suffix:
        path = assets.notebook(name)
        if not path.is_file():
            expected = f"{', '.join(assets.TEMPLATES)} or a notebook file (.py or .ipynb)"
            kind = parameter_kind(option)
            problem = Problem(None, None, option, expected, name, kind=kind)
            raise InputError("unknown report template", [problem])
    if not path.is_file():
        raise InputError("unknown report template", [Problem(str(path), None, None, "a file")])
    return path.resolve()


# nbformat, papermill and pandas are imported where they are used: the batch's parent process
# only schedules jobs, and need not import what the report processes (forked from the fork
# server, which imports them once) use.


@functools.lru_cache(maxsize=16)
def _read_template(path: str, mtime_ns: int) -> nbformat.NotebookNode:
    import nbformat

    if path.endswith(".ipynb"):
        return nbformat.read(path, as_version=4)
    import jupytext

    return jupytext.read(path)


def load_template(path: str | os.PathLike[str]) -> nbformat.NotebookNode:
    """Read a report notebook (jupytext ``.py`` or ``.ipynb``), cached while unchanged.

    Parameters
    ----------
    path : str or path-like
        The notebook file; the cache is keyed on its path and modification time.

    Returns
    -------
    nbformat.NotebookNode
        A deep copy of the cached notebook, which the caller may change.
    """
    import copy

    return copy.deepcopy(_shared_template(path))


def _shared_template(path: str | os.PathLike[str]) -> nbformat.NotebookNode:
    """The cached template itself, not a copy: for readers that do not change it (papermill
    reads its input through ``nbformat.writes``, so it never changes it either)."""
    path = Path(path)
    return _read_template(str(path), path.stat().st_mtime_ns)


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
        ``job.extra["profile"]`` adds per-stage timings, ``job.extra["cprofile"]`` (a path)
        writes a cProfile of the whole job there.
    """
    if isinstance(job, dict):
        job = ReportJob(**job)
    if job.extra.get("cprofile"):
        from analysis.report.profile import cprofiled

        with cprofiled(job.extra["cprofile"]):
            return _execute(job, engine)
    return _execute(job, engine)


def _execute(job: ReportJob, engine: str) -> JobResult:
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from analysis.io import atomic_write_text
    from analysis.progress import StageTimer
    from analysis.report import render
    from analysis.report.engine import register as register_engine
    from analysis.report.profile import instrument

    start, cpu_start = time.perf_counter(), time.process_time()
    timer = StageTimer()
    with timer.stage("template"):
        parameters = validate_parameters(job.parameters)
        nb_in = _shared_template(notebook_path(job.notebook))
    ipynb_path = Path(job.ipynb_path)
    status, error = "ok", ""
    ipynb_path.parent.mkdir(parents=True, exist_ok=True)
    # papermill insists on an .ipynb suffix, so the temporary file keeps one
    tmp = ipynb_path.with_name(f".{ipynb_path.stem}.{os.getpid()}.tmp.ipynb")
    inner = StageTimer()
    nb_out = None
    profiling = contextlib.nullcontext(inner)
    if job.extra.get("profile"):
        profiling = instrument(inner)
    try:
        try:
            with timer.stage("execute"), profiling:
                if engine == "inprocess":
                    nb_out = papermill.execute_notebook(
                        nb_in,
                        str(tmp),
                        parameters=parameters,
                        engine_name=register_engine(),
                        kernel_name="python3",
                        language="python",
                        progress_bar=False,
                        log_output=False,
                        # Saving after every cell re-serialises the notebook ~50 times (a
                        # quarter of a report's time); a timed-out report keeps its parameters.
                        request_save_on_cell_execute=False,
                    )
                else:
                    nb_out = papermill.execute_notebook(
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
            if nb_out is None:  # failed: the notebook as papermill saved it, error included
                nb_out = nbformat.read(str(tmp), as_version=4)
            published = without_local_paths(nb_out, parameters, _published_path(job), job.notebook)
            atomic_write_text(ipynb_path, nbformat.writes(published))
    finally:
        tmp.unlink(missing_ok=True)
    records = render.collect_records(nb_out)
    with timer.stage("nbconvert"):
        page = render.render_html(nb_out)
    with timer.stage("writing"):
        atomic_write_text(job.html_path, page)
    timings = timer.as_dict()
    timings["cpu"] = round(time.process_time() - cpu_start, 3)  # this process's CPU seconds
    if inner.seconds:
        # microseconds: a stage of one short call (a Markdown line) is not rounded to zero
        timings.update({k: round(v, 6) for k, v in inner.seconds.items()})
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


def finish_killed(job: ReportJob, status: str, message: str, duration: float) -> JobResult:
    """Keep a record of a report whose process was stopped (timeout) or died (crash).

    Its notebook (as far as it was saved, else the parameterized template) gets ``message``
    as an error output, and the HTML says the report did not finish.

    Parameters
    ----------
    job : ReportJob
        The report.
    status : {"timeout", "failed"}
        What the manifest records.
    message : str
        What happened, e.g. ``the report was stopped after 300 s (timeout)``.
    duration : float
        Seconds from the start of the report to its end.

    Returns
    -------
    JobResult
        With ``status``, ``duration``, ``message`` as its error and the notebook's records.
    """
    import nbformat

    from analysis.io import atomic_write_text
    from analysis.report import render

    ipynb_path = Path(job.ipynb_path)
    partials = sorted(ipynb_path.parent.glob(f".{ipynb_path.stem}.*.tmp.ipynb"))
    try:
        nb = nbformat.read(str(partials[-1]), as_version=4)
    except (IndexError, OSError, ValueError):
        nb = load_template(notebook_path(job.notebook))
    ename = "TimeoutError" if status == "timeout" else "ProcessError"
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [
        nbformat.v4.new_output("error", ename=ename, evalue=message, traceback=[message])
    ]
    nb.cells.append(cell)
    ipynb_path.parent.mkdir(parents=True, exist_ok=True)
    nb = without_local_paths(
        nb, validate_parameters(job.parameters), _published_path(job), job.notebook
    )
    atomic_write_text(ipynb_path, nbformat.writes(nb))
    for partial in partials:
        partial.unlink(missing_ok=True)
    render.write_html(nb, job.html_path)
    return JobResult(
        status=status,
        duration=duration,
        error=message,
        records=_jsonable(render.collect_records(nb)),
    )


def _published_path(job: ReportJob) -> Path:
    """The notebook's path as published: a staged run (``analysis.report.placement``) is
    written beside it under another name."""
    path = Path(job.ipynb_path)
    return path.with_name(job.extra.get("published_as", path.name))


@functools.cache
def _installation_prefixes() -> tuple[tuple[str, str], ...]:
    """(folder, placeholder) for the Python installation's folders, longest first."""
    import site
    import sysconfig

    found: dict[str, str] = {}
    paths = sysconfig.get_paths()
    for folder in [*site.getsitepackages(), paths["purelib"], paths["platlib"]]:
        found.setdefault(os.path.realpath(folder), "<site-packages>")
        found.setdefault(os.path.abspath(folder), "<site-packages>")
    for folder in (paths["stdlib"], paths["platstdlib"]):
        found.setdefault(os.path.realpath(folder), "<python>")
        found.setdefault(os.path.abspath(folder), "<python>")
    package = str(Path(__file__).resolve().parents[1])  # analysis/, editable or installed
    found.setdefault(package, "<conflict-trends>")
    return tuple(sorted(found.items(), key=lambda kv: -len(kv[0])))


# An absolute POSIX path of two or more parts, at the start of the text, after a space, a
# quote, a bracket or "=", or right after a terminal colour code (IPython's tracebacks).
_ABSOLUTE_PATH = re.compile(
    r"(^|[\s'\"(\[=]|\x1b\[[0-9;]*m)(/[^\s'\"<>,:;()\[\]\x1b/]+(?:/[^\s'\"<>,:;()\[\]\x1b/]+)+)",
    re.MULTILINE,
)


def portable_text(text: str, folder: str | os.PathLike[str]) -> str:
    """``text`` without this machine's absolute paths, for a page or record that is published.

    The Python installation's folders become ``<site-packages>``, ``<python>`` and
    ``<conflict-trends>`` (a warning or traceback names a library's file, not where it was
    installed); any other absolute path whose top folder exists here (the study, its data,
    the output folder) becomes relative to ``folder``, the way the manifest names files.

    Parameters
    ----------
    text : str
        A message, a stream output or a traceback line.
    folder : path
        The folder the published file is in.

    Returns
    -------
    str
    """
    if not isinstance(text, str) or "/" not in text:
        return text
    for prefix, placeholder in _installation_prefixes():
        text = text.replace(prefix + os.sep, placeholder + "/")
    base = os.path.realpath(folder)

    def relative(match: re.Match[str]) -> str:
        path = match.group(2)
        top = path.split("/")[1]
        if not os.path.isdir("/" + top):
            return match.group(0)  # not a path of this machine ("/h/x" in prose)
        return match.group(1) + os.path.relpath(os.path.realpath(path), base)

    return _ABSOLUTE_PATH.sub(relative, text)


def without_local_paths(
    nb: Any, parameters: dict[str, Any], ipynb_path: str | os.PathLike[str], notebook: str
) -> Any:
    """The executed notebook as it is published: no absolute path of the rendering machine.

    The README promises that reports name files relative to the study, never by this
    machine's paths, but the injected parameters cell and papermill's metadata held the
    study's absolute path, and the metadata the whole template as its "input path". Absolute
    parameter values become paths relative to the notebook's folder (so the notebook still
    runs from there), the input path the template's name and the output path the file's.

    Parameters
    ----------
    nb : NotebookNode
        Changed in place and returned.
    parameters : dict
        The report's validated parameters.
    ipynb_path : path
        Where the notebook is written.
    notebook : str
        The template (a shipped name or a path).

    Returns
    -------
    NotebookNode
    """
    folder = Path(ipynb_path).resolve().parent
    swaps = {
        value: os.path.relpath(value, folder)
        for value in parameters.values()
        if isinstance(value, str) and os.path.isabs(value)
    }
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            for old, new in swaps.items():
                cell.source = cell.source.replace(old, new)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            # a library's warning on stderr or a failed report's traceback names the
            # installation's files (".../site-packages/statsmodels/...") and the study's
            if output.get("output_type") == "stream":
                output["text"] = portable_text(output.get("text", ""), folder)
            elif output.get("output_type") == "error":
                output["evalue"] = portable_text(output.get("evalue", ""), folder)
                output["traceback"] = [
                    portable_text(t, folder) for t in output.get("traceback", [])
                ]
    meta = nb.metadata.get("papermill")
    if meta is not None:
        meta["parameters"] = {k: swaps.get(v, v) if isinstance(v, str) else v
                              for k, v in (meta.get("parameters") or {}).items()}  # fmt: skip
        _name_files(meta, notebook, ipynb_path)
    return nb


def _name_files(meta: Any, notebook: str | os.PathLike[str], ipynb: str | os.PathLike[str]) -> None:
    """Papermill's metadata names the template and the notebook by file name: given a
    notebook object it records the whole template again as its "input path" (doubling the
    file), and either path would name a folder of this machine."""
    meta["input_path"] = Path(str(notebook)).name
    meta["output_path"] = Path(ipynb).name


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
    import nbformat
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
    # the template by name, as a batch's notebooks; and the kernel, so that JupyterLab opens
    # it without asking for one
    _name_files(out.metadata["papermill"], path, target)
    out.metadata.setdefault(
        "kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"}
    )
    _fold_injected(out, params)
    atomic_write_text(target, nbformat.writes(out))
    return target


def _fold_injected(nb: Any, params: dict[str, Any]) -> None:
    """Write ``params`` into the notebook's parameters cell and drop papermill's injected
    cell, so an analyst's notebook has one place for its parameters.

    papermill puts the values in a cell after the parameters cell, which then overrode any edit
    of the parameters cell without a word (``region = "ML-2"`` there still rendered Kayes), and
    a later ``papermill -p region Nord`` replaced that cell, so the study fell back to the
    template's ``../../studies/demo.yaml``.
    """
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if not cells:
        return
    source = cells[0].source
    for name, value in params.items():
        line = f"{name} = {json.dumps(value) if isinstance(value, str) else repr(value)}"
        source, found = re.subn(rf"^{re.escape(name)}\s*=.*$", lambda _m, new=line: new,
                                source, count=1, flags=re.MULTILINE)  # fmt: skip
        if not found:
            source += f"\n{line}"
    cells[0].source = (
        "# Parameters, written by `conflict-trends notebook`: edit them here; papermill's -p\n"
        "# overrides the ones it is given.\n" + source
    )
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
