"""A papermill engine that runs a notebook's cells in this process's IPython shell.

papermill's engine API is public: an :class:`papermill.engines.Engine` subclass implements
``execute_managed_notebook`` and reports each cell to the notebook manager
(``cell_start``, ``cell_exception``, ``cell_complete``); ``papermill_engines.register`` makes
it available by name. The cells run in an :class:`IPython.core.interactiveshell.InteractiveShell`
subclass whose public ``showtraceback``/``showsyntaxerror`` turn errors into notebook error
outputs, with a :class:`~IPython.core.displaypub.DisplayPublisher` and a
:class:`~IPython.core.displayhook.DisplayHook` (IPython's public extension points) that turn
``display()`` calls and cell results into notebook outputs. No private name of papermill or
IPython is used.

It is meant to run inside a process forked from a pre-imported parent
(:mod:`analysis.report.pool`): the shell is created before the fork and never given user
code there, so every report starts from a clean slate for the price of a ``fork()``.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

import nbformat
from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell

ENGINE_NAME = "conflict-trends-inprocess"


def _output(output_type: str, **fields: Any) -> Any:
    """A notebook output as ``nbformat.v4.new_output`` makes it, without validating each one
    (2 ms apiece, about 40 a report): the notebook is validated as a whole when written."""
    base: dict[str, Any] = {"output_type": output_type}
    if output_type in ("display_data", "execute_result"):
        base.update(data={}, metadata={})
    return nbformat.from_dict({**base, **fields})


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
            self.outputs.append(_output("stream", name=self.name, text=text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class _Publisher(DisplayPublisher):
    """``display()`` outputs go to the current cell's outputs."""

    outputs: list[Any] = []

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False,
                **kwargs):  # fmt: skip
        self.outputs.append(_output("display_data", data=data, metadata=metadata or {}))

    def clear_output(self, wait=False):
        self.outputs.clear()


class _Hook(DisplayHook):
    """A cell's last expression becomes its ``execute_result``."""

    outputs: list[Any] = []
    count = 0

    def write_output_prompt(self):
        pass

    def write_format_data(self, format_dict, md_dict=None):
        self.outputs.append(
            _output(
                "execute_result",
                data=format_dict,
                metadata=md_dict or {},
                execution_count=self.count,
            )
        )


class ReportShell(InteractiveShell):
    """An IPython shell that records a failing cell's traceback as an error output."""

    outputs: list[Any] | None = None

    def enable_gui(self, gui: str | None = None) -> None:
        """No event loop to start: the inline backend draws into the cell's outputs (as
        ipykernel's shell does; the base class raises, after the backend is already set).

        Parameters
        ----------
        gui : str or None, optional
            The GUI event loop IPython asks for; ignored.
        """

    def _record_error(self, etype: Any, value: Any, lines: list[str]) -> None:
        if self.outputs is not None:
            self.outputs.append(
                _output(
                    "error",
                    ename=getattr(etype, "__name__", str(etype)),
                    evalue=str(value),
                    traceback=lines,
                )
            )

    def showtraceback(self, exc_tuple=None, filename=None, tb_offset=None,
                      exception_only=False, running_compiled_code=False):  # fmt: skip
        """Record an exception's traceback as an error output of the current cell.

        Parameters
        ----------
        exc_tuple : tuple, optional
            ``(type, value, traceback)``; by default the exception being handled.
        filename : str, optional
            Ignored (IPython's signature).
        tb_offset : int, optional
            Frames to skip at the top of the structured traceback.
        exception_only, running_compiled_code : bool, optional
            Ignored (IPython's signature).
        """
        etype, value, tb = exc_tuple or sys.exc_info()
        try:
            lines = self.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
        except Exception:  # noqa: BLE001 - a plain traceback is better than none
            lines = traceback.format_exception(etype, value, tb)
        self._record_error(etype, value, list(lines))

    def showsyntaxerror(self, filename=None, running_compiled_code=False):
        """Record the syntax error being handled as an error output of the current cell.

        Parameters
        ----------
        filename : str, optional
            Ignored (IPython's signature).
        running_compiled_code : bool, optional
            Ignored (IPython's signature).
        """
        etype, value, _ = sys.exc_info()
        self._record_error(etype, value, traceback.format_exception_only(etype, value))


_SHELL: ReportShell | None = None


def get_shell() -> ReportShell:
    """Return this process's report shell, created once (history off: no background thread).

    A shell created before ``fork()`` and never given user code is a clean slate in every
    child; that is what makes a forked report free of state from earlier reports.
    """
    global _SHELL
    if _SHELL is None:
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False
        config.InteractiveShell.colors = "nocolor"
        config.InlineBackend.figure_formats = {"png"}
        config.InlineBackend.rc = {"figure.dpi": 96}
        if InteractiveShell.initialized() and not isinstance(
            InteractiveShell.instance(), ReportShell
        ):
            InteractiveShell.clear_instance()
        _SHELL = ReportShell.instance(config=config)
        try:
            import warnings

            with warnings.catch_warnings():  # matplotlib_inline uses a deprecated traitlets API
                warnings.simplefilter("ignore", DeprecationWarning)
                _SHELL.enable_matplotlib("inline")
        except Exception as exc:  # noqa: BLE001 - a shell without inline figures still runs reports
            # but its reports have no figures, which must not pass unsaid
            print(f"warning: reports will have no inline figures: {exc!r}", file=sys.stderr)
    return _SHELL


def run_cell(shell: ReportShell, source: str, count: int) -> tuple[list[Any], bool]:
    """Execute ``source`` in ``shell``; return its outputs in order and whether it failed.

    Parameters
    ----------
    shell : ReportShell
        The process's shell (:func:`get_shell`).
    source : str
        The cell's code.
    count : int
        Execution count given to the cell's ``execute_result``.

    Returns
    -------
    outputs : list of nbformat.NotebookNode
        The cell's stream, display, result and error outputs.
    failed : bool
        Whether the cell failed (an error output is then among ``outputs``).
    """
    outputs: list[Any] = []
    publisher = _Publisher(shell=shell)
    publisher.outputs = outputs
    hook = _Hook(shell=shell, cache_size=0)
    hook.outputs, hook.count = outputs, count
    saved = (shell.display_pub, shell.displayhook, shell.display_trap.hook, sys.stdout, sys.stderr)
    shell.display_pub = publisher
    shell.displayhook = shell.display_trap.hook = hook
    shell.outputs = outputs
    sys.stdout, sys.stderr = _Stream("stdout", outputs), _Stream("stderr", outputs)
    try:
        result = shell.run_cell(source, store_history=False, silent=False)
    finally:
        (shell.display_pub, shell.displayhook, shell.display_trap.hook, sys.stdout,
         sys.stderr) = saved  # fmt: skip
        shell.outputs = None
    failed = not result.success
    if failed and not any(o.get("output_type") == "error" for o in outputs):
        error = result.error_in_exec or result.error_before_exec
        outputs.append(
            _output("error", ename=type(error).__name__, evalue=str(error), traceback=[str(error)])
        )
    return outputs, failed


def register() -> str:
    """Register the engine with papermill (idempotent) and return its name."""
    from papermill.engines import Engine, papermill_engines

    class InProcessEngine(Engine):
        """Papermill engine running cells in this process's report shell."""

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
                    outputs, failed = run_cell(shell, cell.source, count)
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
    return ENGINE_NAME
