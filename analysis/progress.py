"""Progress bars and stage timings for long commands.

One place decides whether a bar is drawn: only on a terminal (stderr is a TTY) and never with
``--quiet``. An unattended job (cron, CI, a pipe) therefore writes nothing to stderr but errors.
Stage timings are collected whether or not a bar is drawn, so they can go into ``--json``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

#: Set by the CLI's ``--quiet``; library callers may set it too.
_QUIET = False


def set_quiet(quiet: bool) -> None:
    """Silence (or re-enable) every progress bar in this process.

    Parameters
    ----------
    quiet : bool
        True silences the bars, False lets them draw again (on a terminal).
    """
    global _QUIET
    _QUIET = bool(quiet)


def enabled() -> bool:
    """True when bars should be drawn: stderr is a terminal and ``--quiet`` was not given."""
    if _QUIET:
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # closed or replaced stream
        return False


def bar(
    iterable: Iterable[T] | None = None,
    *,
    total: int | None = None,
    stage: str,
    unit: str = "it",
) -> Any:
    """Return a tqdm bar named after ``stage`` (``"fit"``, ``"origins"``, ``"scenarios"``).

    Disabled (no output, same interface) when :func:`enabled` is false.

    Parameters
    ----------
    iterable
        Items to iterate over, or None for a manually updated bar (``.update(n)``).
    total
        Number of items, when ``iterable`` has no length or is None.
    stage
        Short name of the stage the bar shows.
    unit
        Name of one item.

    Returns
    -------
    tqdm.tqdm
    """
    import tqdm as tqdm_module
    from tqdm import tqdm

    # no monitor thread: callers may fork while a bar is open
    tqdm_module.tqdm.monitor_interval = 0
    return tqdm(
        iterable,
        total=total,
        desc=stage,
        unit=unit,
        file=sys.stderr,
        disable=not enabled(),
        leave=False,
        dynamic_ncols=True,
    )


@dataclass
class StageTimer:
    """Wall-clock seconds per named stage, in the order the stages ran.

    Examples
    --------
    >>> timer = StageTimer()
    >>> with timer.stage("fit"):
    ...     pass
    >>> list(timer.seconds)
    ['fit']
    """

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block and add its duration to ``name`` (stages may repeat).

        Parameters
        ----------
        name : str
            The stage, a key of :attr:`seconds`.

        Returns
        -------
        contextmanager
            To enter around the block timed.
        """
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def as_dict(self, digits: int = 3) -> dict[str, float]:
        """Return the timings rounded for JSON, with their ``total``.

        Parameters
        ----------
        digits : int, optional
            Decimals of the seconds; 3 by default.

        Returns
        -------
        dict of str to float
            Seconds per stage, in the order they ran, then ``total``.
        """
        out = {name: round(value, digits) for name, value in self.seconds.items()}
        out["total"] = round(sum(self.seconds.values()), digits)
        return out
