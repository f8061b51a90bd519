"""The growth intervals' simulated coverage, as the reports quote it.

The Growth section says how often its headline 95% interval held in the simulation study of
``benchmarks/growth_coverage.py``. Those ranges are read from the run's record shipped with the
package (``analysis/data/growth_coverage.json``, the commands that made it inside), not typed
into the text: a hand-copied "92-99%" had sat two sentences before "as little as 91%".
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

#: The record of the coverage run, in ``analysis/data``.
COVERAGE_FILE = "growth_coverage.json"

#: Expected events a window at or below which a scenario counts as very sparse (0.3 events a
#: month over 12 months: 3.6), where a handful of events makes every interval discrete.
SPARSE_EVENTS = 5.0

#: Own-lag share from which dependence counts as strong.
STRONG_OWN_LAG = 0.7


@dataclass(frozen=True)
class CoverageRanges:
    """Coverage ranges of one run, each a (lowest, highest) share of series covered.

    Attributes
    ----------
    scenarios : int
        Scenarios in the run.
    own_lag : tuple of float
        Smallest and largest own-lag share simulated.
    headline : tuple of float
        The headline intervals of ratios and trends, over every scenario.
    independent : tuple of float
        The intervals that treat months as independent, ratios and trends.
    sparse : tuple of float
        The ratio headline where a window expects at most :data:`SPARSE_EVENTS` events.
    strong_dependence_low : float
        The lowest headline coverage (ratio or trend) from :data:`STRONG_OWN_LAG` up.
    windows : tuple of int
        The shortest and longest comparison window simulated, in periods.
    """

    scenarios: int
    own_lag: tuple[float, float]
    headline: tuple[float, float]
    independent: tuple[float, float]
    sparse: tuple[float, float]
    strong_dependence_low: float
    windows: tuple[int, int] = (12, 36)


def _span(values: list[float]) -> tuple[float, float]:
    return (min(values), max(values))


def coverage_ranges(record: Mapping[str, Any]) -> CoverageRanges:
    """The ranges a reader is told, from a coverage run's record.

    Parameters
    ----------
    record : mapping
        ``scenarios``: one mapping per scenario with ``own_lag``, ``level`` (events a
        period), ``window`` (periods), and ``ratio`` and ``trend``, each with ``headline`` and
        ``independent`` coverage.

    Returns
    -------
    CoverageRanges

    Raises
    ------
    ValueError
        A record without scenarios, or without a sparse or a strongly dependent one.
    """
    rows = list(record.get("scenarios", []))
    if not rows:
        raise ValueError("the coverage record has no scenarios")
    kinds = ("ratio", "trend")
    sparse = [r["ratio"]["headline"] for r in rows if r["level"] * r["window"] <= SPARSE_EVENTS]
    strong = [r[k]["headline"] for r in rows for k in kinds if r["own_lag"] >= STRONG_OWN_LAG]
    if not sparse or not strong:
        raise ValueError(
            f"the coverage record needs a scenario with at most {SPARSE_EVENTS:g} events a "
            f"window and one with an own-lag share of {STRONG_OWN_LAG:g} or more"
        )
    return CoverageRanges(
        scenarios=len(rows),
        own_lag=_span([r["own_lag"] for r in rows]),
        headline=_span([r[k]["headline"] for r in rows for k in kinds]),
        independent=_span([r[k]["independent"] for r in rows for k in kinds]),
        sparse=_span(sparse),
        strong_dependence_low=min(strong),
        windows=(min(int(r["window"]) for r in rows), max(int(r["window"]) for r in rows)),
    )


def short_windows_sentence(
    labels: Iterable[str], freq: str, coverage: CoverageRanges | None = None
) -> str:
    """A caveat where the study compares windows shorter than any the simulation study drew.

    The study simulated series in periods (windows of 12 and 36), so its coverages hold for a
    quarterly study's windows of 12 quarters as for a monthly one's 12 months, but not for a
    quarterly year of 4 periods: the real Mopti's trend over 2017-2019 in quarters read
    "-97% to +11166%", where the Growth section quoted the simulated coverage without comment.

    Parameters
    ----------
    labels : iterable of str
        The comparison windows shown (``2017``, ``2024Q1``, ``2021-01..2021-06``).
    freq : {"month", "quarter"}
    coverage : CoverageRanges, optional
        The run quoted (the shipped one by default).

    Returns
    -------
    str
        Empty where every window is at least as long as the shortest simulated.
    """
    from analysis.periods import parse_window

    c = coverage or shipped_coverage()
    step = 3 if freq == "quarter" else 1
    unit = "quarter" if freq == "quarter" else "month"
    lengths = set()
    for label in dict.fromkeys(str(x) for x in labels):
        w = parse_window(label)
        months = (w.end.year - w.start.year) * 12 + w.end.month - w.start.month
        lengths.add(max(1, months // step))
    short = sorted(n for n in lengths if n < c.windows[0])
    if not short:
        return ""
    listed = " and ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n in short)
    return (
        f"The simulation study's windows were {c.windows[0]} to {c.windows[1]} periods long; "
        f"this study's windows of {listed} are shorter, and the intervals' coverage there "
        "has not been measured, so the ranges above may not hold for them."
    )


@functools.lru_cache(maxsize=1)
def shipped_coverage() -> CoverageRanges:
    """:func:`coverage_ranges` of the run shipped with the package (:data:`COVERAGE_FILE`)."""
    text = resources.files("analysis").joinpath("data", COVERAGE_FILE).read_text()
    return coverage_ranges(json.loads(text))
