"""Shared plumbing for commands: turning package errors into clear messages and exit codes."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from analysis.errors import InputError, ModelError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INPUT = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


def user_errors(func: F) -> F:
    """Report ``InputError``/``ModelError`` as a message on stderr and exit non-zero.

    Users see what is wrong and where, never a traceback; anything else is a bug and keeps its
    traceback so that it can be reported.

    Parameters
    ----------
    func : callable
        A command function.

    Returns
    -------
    callable
        ``func`` wrapped (same name and docstring), exiting with :data:`EXIT_INPUT`,
        :data:`EXIT_FAILED` or :data:`EXIT_INTERRUPTED`.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            typer.echo(f"error: {exc.render()}", err=True)
            raise typer.Exit(EXIT_INPUT) from None
        except ModelError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_FAILED) from None
        except FileNotFoundError as exc:
            typer.echo(f"error: file not found: {exc.filename or exc}", err=True)
            raise typer.Exit(EXIT_INPUT) from None
        except KeyboardInterrupt:
            # every output is written whole or not at all, so there is nothing to clean up
            typer.echo("interrupted", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None

    return wrapper  # type: ignore[return-value]


def stop_on_sigterm() -> None:
    """Treat SIGTERM (what cron, systemd and ``kill`` send) as an interrupt.

    By default it ended a batch at once, without its clean-up: report processes went on
    writing into ``--out`` and staged files were left in a folder that might be published.
    Raised as KeyboardInterrupt it stops the pool, removes staged files and releases the lock
    as Ctrl-C does, and the command exits with the interrupted code. The console entry point
    (:func:`analysis.cli.main`) installs it; pebble's forked workers install their own.
    """
    import signal

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def warn_coverage_notes(data: Any) -> None:
    """Say on stderr what the data files do not hold as the study reads them
    (:meth:`analysis.pipeline.StudyData.coverage_notes`): countries without events, whose
    quiet would read as a fact about them, and events counted where they lie because their
    country name was unknown.

    Parameters
    ----------
    data : StudyData
        The prepared study (:func:`analysis.pipeline.prepare`).
    """
    for note in data.coverage_notes():
        typer.echo(f"warning: {note}", err=True)


def warn_partial_period(data: Any, through: Any = None) -> None:
    """Say on stderr where the study's last period may hold only part of its events
    (:meth:`analysis.pipeline.StudyData.partial_period_note`), as the reports' banner does,
    and the data's coverage notes (:func:`warn_coverage_notes`, whatever ``through``):
    every command on a study's data calls this one.

    ``through`` is the last period the command reads (a forecast's origin, a backtest's
    latest scored outcome; None: the study's end): a command that stops before the last
    period is not told about it (a forecast from 2024-03 had been warned of June's count).
    Called after the command's own checks, so that a refused option is not preceded by a
    warning that reads as if the work went ahead.

    Parameters
    ----------
    data : StudyData
        The prepared study (:func:`analysis.pipeline.prepare`).
    through : pandas.Timestamp, optional
        The last period the command reads (anything :class:`pandas.Timestamp` reads); None
        (the default) for the study's end.
    """
    import pandas as pd

    warn_coverage_notes(data)
    last = pd.to_datetime(data.panel["period"]).max()
    if through is not None and pd.Timestamp(through) < last:
        return
    note = data.partial_period_note()
    if note:
        typer.echo(f"warning: {note}", err=True)


def print_json(obj: Any) -> None:
    """Print ``obj`` as JSON with stable key order (NaN written as null).

    Parameters
    ----------
    obj : Any
        JSON-serialisable data (dicts, lists, tuples, numpy scalars); non-finite floats become
        null.
    """
    sys.stdout.write(json.dumps(_nan_to_none(obj), indent=2, sort_keys=False, allow_nan=False))
    sys.stdout.write("\n")


def _nan_to_none(obj: Any) -> Any:
    import math

    import numpy as np

    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


#: ``--quiet`` for long commands: no progress bar even on a terminal (see analysis.progress).
QUIET_HELP = "No progress bar on stderr (bars are drawn only when stderr is a terminal)."

#: ``--horizon`` of the forecasting commands.
HORIZON_HELP = "Periods ahead. Default: the study's horizon."
