"""The methods appendix's demo check: the stated model behind synthetic data against the
estimates the reports show.

The demo study runs on events simulated from a stated model (:mod:`analysis.simulate`), whose
parameters :func:`analysis.simulate.write_demo` saves beside the events. This module finds that
file for a synthetic study, turns the reports' numbers into :class:`Estimate` values and builds
the table and sentences that say which of the stated values the estimates recover. The stated
model's values themselves come from :func:`analysis.simulate.demo_truth_summary`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.formatting import format_ratio, format_ratio_estimate, join_words
from analysis.simulate import DEMO_TRUTH_FILE, demo_truth_summary

SECTION_TITLE = "Demo: the stated model against the estimates"

#: A point estimate this far from the stated value (relative) is named in the sentence even
#: when the interval holds the stated value: "inside a wide interval" alone would hide it.
POINT_GAP = 0.10

#: The quantities compared, in table order: key of the estimates and of the truth summary.
QUANTITIES = ("growth", "own_lag", "neighbourhood", "forecast")


@dataclass(frozen=True)
class Estimate:
    """An estimate the reports show, with its interval.

    Attributes
    ----------
    value : float
        The point estimate (a ratio, a share, a forecast mean).
    low, high : float
        The interval's limits (NaN when the estimate has none).
    source : str
        Where it comes from and what the interval is, in the table's words.
    """

    value: float
    low: float
    high: float
    source: str

    @property
    def has_interval(self) -> bool:
        """Whether both limits are finite numbers."""
        return bool(np.isfinite(self.low) and np.isfinite(self.high))


@dataclass(frozen=True)
class DemoComparison:
    """The section's table (one row per quantity), its caption, its verdict sentences and the
    notes on how each stated value relates to what is estimated."""

    table: pd.DataFrame
    caption: str
    sentence: str
    notes: str


def shows_section(study: Any) -> bool:
    """Whether the methods appendix has the demo section: only for a synthetic study.

    A real study never shows it, even with a truth file beside its data: the stated model is
    the simulation's, and only a study marked ``synthetic`` is simulated.
    """
    return bool(getattr(study, "synthetic", False))


def truth_file(study: Any) -> Path | None:
    """The demo truth file (:data:`analysis.simulate.DEMO_TRUTH_FILE`) beside the study's data.

    Parameters
    ----------
    study : analysis.config.Study
        Its ``data`` paths are already resolved against the study file.

    Returns
    -------
    Path or None
        The first data file's folder that holds one; None when none does.
    """
    for data in study.data:
        candidate = Path(data).parent / DEMO_TRUTH_FILE
        if candidate.is_file():
            return candidate
    return None


def missing_sentence(study: Any) -> str:
    """What the section says when a synthetic study has no truth file beside its data."""
    base = Path(study.path).parent if getattr(study, "path", None) else None
    folders = []
    for data in study.data:
        folder = Path(data).parent
        shown = os.path.relpath(folder, base) if base is not None else str(folder)
        if shown not in folders:
            folders.append(shown)
    return (
        f"The study is marked synthetic, but no {DEMO_TRUTH_FILE} was found beside its data "
        f"({join_words(folders)}), so its estimates cannot be set against the model the data "
        "were simulated from. `conflict-trends demo-data` writes the file beside the events."
    )


def unreadable_sentence(path_name: str, reason: str) -> str:
    """What the section says when the truth file cannot be used (unreadable or not matching)."""
    return (
        f"The truth file {path_name} could not be used ({reason}), so the estimates are not set "
        "against the stated model."
    )


def read_truth(study: Any) -> dict | str:
    """The stated model's values for a synthetic study, or the sentence that says why not.

    Parameters
    ----------
    study : analysis.config.Study

    Returns
    -------
    dict or str
        :func:`analysis.simulate.demo_truth_summary` of the truth file beside the data at the
        study's horizon; a sentence for the section when the file is missing, unreadable or
        does not match the demo its scenario regenerates (the section says so; nothing is
        invented and the appendix still renders).
    """
    path = truth_file(study)
    if path is None:
        return missing_sentence(study)
    try:
        truth = json.loads(path.read_text(encoding="utf-8"))
        return demo_truth_summary(truth, int(study.horizon))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return unreadable_sentence(path.name, str(exc) or type(exc).__name__)


def estimates(
    truth: Mapping[str, Any],
    *,
    growth_rows: pd.DataFrame | None,
    parameters: pd.DataFrame | None,
    parameter_level: float,
    window: Any,
) -> dict[str, Estimate | str]:
    """The reports' estimates of every quantity of :data:`QUANTITIES` (or why there is none).

    Parameters
    ----------
    truth : mapping
        :func:`analysis.simulate.demo_truth_summary`.
    growth_rows : DataFrame or None
        The focus region's rows of the study's growth table.
    parameters : DataFrame or None
        The spillover fit's parameter table.
    parameter_level : float
        Its intervals' level.
    window : analysis.models.risk.WindowForecast or None
        The focus's forecast total at the study's horizon; None when the focus is not among
        the forecast's regions (then neither its growth nor its forecast is compared).

    Returns
    -------
    dict
    """
    found: dict[str, Estimate | str] = {}
    if window is None:
        reason = f"{truth['focus']} is not in the study"
        found["growth"] = found["forecast"] = reason
    else:
        found["growth"] = growth_estimate(growth_rows, truth["growth_years"])
        found["forecast"] = forecast_estimate(window, truth["forward_first"], truth["horizon"])
    for quantity in PARAMETER_ROWS:
        found[quantity] = parameter_estimate(parameters, quantity, parameter_level)
    return found


def growth_estimate(rows: pd.DataFrame | None, years: tuple[int, int]) -> Estimate | str:
    """The growth table's ratio and headline interval for the truth's growth years.

    Parameters
    ----------
    rows : DataFrame or None
        The focus region's rows of the study's growth table
        (:meth:`analysis.report.context.StudyGrowth.region`), the numbers its region report
        shows; None when the study has no usable comparison.
    years : (int, int)
        The stated model's growth years.

    Returns
    -------
    Estimate or str
        The reason it cannot be compared, as a string, when the table has no such comparison.
    """
    a, b = (str(y) for y in years)
    if rows is None or rows.empty:
        return f"the study's growth table has no comparison of {a} with {b}"
    match = rows[(rows["period_a"].astype(str) == a) & (rows["period_b"].astype(str) == b)]
    if match.empty:
        return f"the study does not compare {a} with {b}"
    row = match.iloc[0]
    level = round(100 * float(row.get("conf_level", 0.95)))
    return Estimate(
        value=float(row["ratio"]),
        low=float(row["headline_ci_low"]),
        high=float(row["headline_ci_high"]),
        source=f"growth table, headline {level}% interval (as in the region report)",
    )


#: The spillover model's natural-scale parameters that the stated shares correspond to.
PARAMETER_ROWS = {"own_lag": "lambda", "neighbourhood": "phi"}


def parameter_estimate(
    parameters: pd.DataFrame | None, quantity: str, level: float
) -> Estimate | str:
    """One share of the spillover model as the reports fit it, with its interval if any.

    Parameters
    ----------
    parameters : DataFrame or None
        :attr:`analysis.report.context.StudyResults.spillover_parameters`.
    quantity : {"own_lag", "neighbourhood"}
    level : float
        The level of the table's intervals.

    Returns
    -------
    Estimate or str
        An estimate whose limits are NaN when the fit gives no interval (a parameter on a
        bound without a profile interval); a string reason when the fit has no such term.
    """
    name = PARAMETER_ROWS[quantity]
    if parameters is None:
        return "the spillover model's parameters were not kept with the study's results"
    found = parameters[parameters["name"] == name]
    if found.empty:
        return f"the spillover model has no {name} term"
    row = found.iloc[-1]
    low, high = float(row["low"]), float(row["high"])
    if bool(row.get("at_bound", False)):
        where = "profile likelihood, from the bound" if np.isfinite(low + high) else "none"
        source = f"spillover model as the reports fit it; on a bound, interval: {where}"
    else:
        source = (
            f"spillover model as the reports fit it, {100 * level:.0f}% Wald interval (log scale)"
        )
    return Estimate(value=float(row["estimate"]), low=low, high=high, source=source)


def forecast_estimate(window: Any, forward_first: str, horizon: int) -> Estimate | str:
    """The report model's forecast of the focus's total over the horizon.

    Parameters
    ----------
    window : analysis.models.risk.WindowForecast
        :func:`analysis.models.risk.window_forecast` of the report's paths at the study's
        horizon, as the region report computes it.
    forward_first : str
        ``YYYY-MM``, the first month of the stated model's continuation.
    horizon : int
        Months the stated model's total covers.

    Returns
    -------
    Estimate or str
        A reason when the forecast covers other months (an as-of quarter before the end of
        the simulated data, a shorter horizon): its total is not the one the stated model was
        continued for.
    """
    first = f"{pd.Timestamp(window.first):%Y-%m}"
    if first != forward_first:
        return f"the forecast starts in {first}; the stated model is continued from {forward_first}"
    if int(window.steps) != int(horizon):
        return f"the forecast total covers {window.steps} months, the stated model's {horizon}"
    return Estimate(
        value=float(window.mean),
        low=float(window.low),
        high=float(window.high),
        source=(
            f"report model's paths, mean and {100 * window.level:.0f}% interval of the "
            f"{window.steps}-month total (as in the region report)"
        ),
    )


def _labels(truth: Mapping[str, Any], region_name: str) -> dict[str, str]:
    a, b = truth["growth_years"]
    return {
        "growth": f"{region_name}: events in {b} / {a} (rate ratio)",
        "own_lag": "own-lag share (last month's own events)",
        "neighbourhood": "neighbourhood share (neighbours' last month's events)",
        "forecast": f"{region_name}: events over the next {truth['horizon']} months",
    }


def _short_names(truth: Mapping[str, Any]) -> dict[str, str]:
    return {
        "growth": "growth ratio",
        "own_lag": "own-lag share",
        "neighbourhood": "neighbourhood share",
        "forecast": f"{truth['horizon']}-month total",
    }


def _stated_values(truth: Mapping[str, Any]) -> dict[str, float]:
    return {
        "growth": float(truth["expected_ratio"]),
        "own_lag": float(truth["autoregressive"]),
        "neighbourhood": float(truth["neighbourhood"]),
        "forecast": float(truth["forward_total"]),
    }


def _number(quantity: str, x: float) -> str:
    """A value in its quantity's precision: ratios as the growth table, shares to 2 decimals,
    forecast totals to 1 (the region report's mean)."""
    if not np.isfinite(x):
        return ""
    if quantity == "growth":
        return format_ratio_estimate(x)
    if quantity == "forecast":
        return f"{x:,.1f}"
    return f"{x:.2f}"


def _limit(quantity: str, x: float) -> str:
    if not np.isfinite(x):
        return ""
    if quantity == "growth":
        return format_ratio(x)
    if quantity == "forecast":
        return f"{x:,.0f}"
    return f"{x:.2f}"


def _interval(quantity: str, est: Estimate) -> str:
    if not est.has_interval:
        return ""
    return f"{_limit(quantity, est.low)}-{_limit(quantity, est.high)}"


def position(stated: float, est: Estimate) -> str:
    """Where the stated value lies against the estimate's interval.

    Returns
    -------
    str
        ``"inside"``, ``"above"``, ``"below"`` or ``"no interval"``.
    """
    if not est.has_interval:
        return "no interval"
    if stated < est.low:
        return "below"
    if stated > est.high:
        return "above"
    return "inside"


_POSITION_CELL = {
    "inside": "yes",
    "above": "no: above the interval",
    "below": "no: below the interval",
    "no interval": "no interval to check",
}


def comparison(
    truth: Mapping[str, Any], estimates: Mapping[str, Estimate | str], region_name: str
) -> DemoComparison:
    """The demo section's table, caption and sentences.

    Parameters
    ----------
    truth : mapping
        :func:`analysis.simulate.demo_truth_summary` (``growth_years``, ``growth_factor``,
        ``expected_ratio``, ``simulated_counts``, ``autoregressive``, ``neighbourhood``,
        ``horizon``, ``forward_first``, ``forward_total``).
    estimates : mapping
        For each of :data:`QUANTITIES`, an :class:`Estimate` or the reason (a string) it
        cannot be compared; a missing key counts as "no estimate".
    region_name : str
        The focus region's name.

    Returns
    -------
    DemoComparison
        One table row per quantity (quantity, stated model, estimate, interval, whether the
        stated value lies inside it, where the estimate comes from) and sentences that name
        what the intervals recovered and what they did not, from these numbers only.
    """
    labels = _labels(truth, region_name)
    short = _short_names(truth)
    stated = _stated_values(truth)
    rows = []
    inside, outside, unchecked, skipped, gaps = [], [], [], [], {}
    for q in QUANTITIES:
        est = estimates.get(q, "no estimate")
        stated_cell = _number(q, stated[q])
        if q == "growth":
            stated_cell += f" (growth factor {truth['growth_factor']:g})"
        if isinstance(est, str):
            rows.append(
                {
                    "quantity": labels[q],
                    "stated model": stated_cell,
                    "estimate": "",
                    "interval": "",
                    "stated value inside the interval": "not compared",
                    "estimate from": est,
                }
            )
            skipped.append(f"the {short[q]} ({est})")
            continue
        where = position(stated[q], est)
        rows.append(
            {
                "quantity": labels[q],
                "stated model": stated_cell,
                "estimate": _number(q, est.value),
                "interval": _interval(q, est),
                "stated value inside the interval": _POSITION_CELL[where],
                "estimate from": est.source,
            }
        )
        if stated[q] != 0 and np.isfinite(est.value):
            gap = est.value / stated[q] - 1
            if abs(gap) >= POINT_GAP:
                gaps[q] = gap
        item = (q, est, where)
        {"inside": inside, "no interval": unchecked}.get(where, outside).append(item)

    def point_clause(q: str, est: Estimate) -> str:
        gap = gaps.get(q)
        if gap is None:
            return f"{_number(q, est.value)} against {_number(q, stated[q])}"
        word = "above" if gap > 0 else "below"
        return (
            f"the estimate {_number(q, est.value)} is {100 * abs(gap):.0f}% {word} the stated "
            f"{_number(q, stated[q])}"
        )

    sentences = []
    if inside:
        parts = [f"the {short[q]} ({point_clause(q, est)})" for q, est, _ in inside]
        sentences.append(
            f"Recovered: the stated value lies inside the estimate's interval for "
            f"{join_words(parts)}."
        )
    if outside:
        parts = [
            f"the {short[q]} (stated {_number(q, stated[q])}, {where} the interval "
            f"{_interval(q, est)} around {_number(q, est.value)})"
            for q, est, where in outside
        ]
        sentences.append(f"Not recovered: {join_words(parts)}.")
    if unchecked:
        parts = [f"the {short[q]} ({point_clause(q, est)})" for q, est, _ in unchecked]
        sentences.append(f"No interval to check the stated value against: {join_words(parts)}.")
    if skipped:
        sentences.append(f"Not compared: {join_words(skipped)}.")

    a, b = truth["growth_years"]
    count_a, count_b = truth["simulated_counts"]
    caption = (
        f"The stated model behind the demo data ({DEMO_TRUTH_FILE}) against the estimates the "
        f"reports show, for {region_name}; the last column says where each estimate comes from."
    )
    notes = (
        f"Growth: the stated growth factor, {truth['growth_factor']:g}, drives {region_name}'s "
        "own level; its expected counts, which its neighbours' events also feed, rise "
        f"{format_ratio_estimate(stated['growth'])}-fold from {a} to {b} (the value checked), "
        f"and the simulated counts themselves went from {count_a} to {count_b}. Shares: the "
        "stated model passes events to first-order neighbours only, the spillover model by a "
        "power law over adjacency orders with a cross-border factor; in both the neighbourhood "
        "share is the part of a region's events passed on to all its neighbours together. "
        f"Forecast: the stated value is the expected total of the stated model continued from "
        f"{truth['forward_first']}, given the last simulated month."
    )
    return DemoComparison(
        table=pd.DataFrame(rows), caption=caption, sentence=" ".join(sentences), notes=notes
    )
