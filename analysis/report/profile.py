"""Where one report's time goes, measured inside the process that runs it.

:func:`instrument` wraps the functions a report notebook calls, by stage (study load, model
fits, figures, tables and text), for the duration of one report; only the outermost call of
a nested pair is counted, so ``context.results`` calling ``context.load`` counts once, under
model fits. It patches module attributes, so it is meant for a forked child that dies after
its report (the batch runner's children), where the patch cannot reach another report.
Only modules already imported are instrumented (importing one here would put its import
time in no stage); the pool's fork server imports all of them before forking.
``benchmarks/batch.py --profile`` turns it on through ``ReportJob.extra["profile"]``;
``--cprofile`` also writes each report's :mod:`cProfile` statistics (:func:`cprofiled`,
``ReportJob.extra["cprofile"]``).
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from analysis.progress import StageTimer

#: stage -> (module, function names; "*" for every public function of the module)
STAGES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "study_load": (("analysis.report.context", ("load",)),),
    "model_fits": (
        ("analysis.report.context", ("results", "growth", "warm")),
        ("analysis.evaluation", ("backtest", "scorecard")),
    ),
    "figures": (
        ("analysis.plots", ("*",)),
        ("analysis.report.show", ("figure", "picture")),
        ("analysis.report.study_figures", ("pit_histogram", "onset_reliability")),
    ),
    "tables_text": (
        ("analysis.report.region_text", ("*",)),
        ("analysis.report.spillover_text", ("*",)),
        ("analysis.report.overview_text", ("*",)),
        ("analysis.report.methods_text", ("*",)),
        ("analysis.report.show", ("table", "markdown")),
        ("analysis.report.provenance", ("collect", "show")),
    ),
}


def _targets() -> Iterator[tuple[str, Any, str]]:
    for stage, entries in STAGES.items():
        for module_name, names in entries:
            module = sys.modules.get(module_name)
            if module is None:  # not imported (in the pool's children all of them are)
                continue
            if names == ("*",):
                names = tuple(
                    name
                    for name, value in vars(module).items()
                    if not name.startswith("_")
                    and inspect.isfunction(value)
                    and value.__module__ == module_name
                )
            for name in names:
                if callable(getattr(module, name, None)):
                    yield stage, module, name


@contextmanager
def instrument(timer: StageTimer) -> Iterator[StageTimer]:
    """Add the seconds spent in each stage's functions to ``timer`` while the block runs.

    Parameters
    ----------
    timer : StageTimer
        Receives ``study_load``, ``model_fits``, ``figures`` and ``tables_text``.

    Yields
    ------
    StageTimer
        ``timer``.
    """
    depth = [0]
    saved: list[tuple[Any, str, Any]] = []

    def wrap(stage: str, func: Any) -> Any:
        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if depth[0]:
                return func(*args, **kwargs)
            depth[0] += 1
            try:
                with timer.stage(stage):
                    return func(*args, **kwargs)
            finally:
                depth[0] -= 1

        return timed

    for stage, module, name in _targets():
        original = getattr(module, name)
        saved.append((module, name, original))
        setattr(module, name, wrap(stage, original))
    try:
        yield timer
    finally:
        for module, name, original in reversed(saved):
            setattr(module, name, original)


@contextmanager
def cprofiled(path: str) -> Iterator[None]:
    """Profile the block with :mod:`cProfile` and write its statistics to ``path``
    (read them with :class:`pstats.Stats`).

    Parameters
    ----------
    path : str
        File the statistics are written to when the block ends (even if it raised).
    """
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(path)
