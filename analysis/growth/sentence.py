"""Plain-language sentence for a growth table row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from analysis.formatting import as_sentences, format_growth_pct, format_p_value, format_ratio
from analysis.growth.table import GrowthResult


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "unbounded"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 0.1:
        return f"{x:.2g}" if x < 1 else f"{x:.1f}"
    return f"{x:.2g}"


def growth_sentence(
    row_or_result: Mapping | pd.Series | GrowthResult,
    region_name: str | None = None,
    *,
    noun: str = "Attacks",
    family: str = "the study's {n} tests",
) -> str:
    """One plain-language sentence from a :func:`growth_table` row or a :class:`GrowthResult`.

    Parameters
    ----------
    row_or_result : mapping, Series or GrowthResult
    region_name : str, optional
        Name used in the sentence (default the row's ``region_name``).
    noun : str
        What is counted, capitalised (e.g. ``"Attacks"``, ``"Events"``).
    family : str
        The tests the adjusted p-value was adjusted over, ``{n}`` their number (the ``growth``
        command names its own family when its comparisons are not the study's).

    Returns
    -------
    str
        E.g. "Attacks in Kayes rose from 10 in 2021 to 70 in 2024, 7.0 times (95% CI 2.90-17.1
        allowing for overdispersion and month-to-month dependence; exact Poisson interval
        3.59-15.2); the fitted trend is +91% a year (95% CI +52% to +140%)". The headline
        interval comes first, the exact one is the labelled reference. Limits are written as
        the growth table writes them (:func:`analysis.formatting.format_ratio`), so the
        sentence and the table give the same numbers.
    """
    row = row_or_result.to_row() if isinstance(row_or_result, GrowthResult) else row_or_result
    name = region_name or row.get("region_name") or row.get("region_id")
    ca, cb = int(row["count_a"]), int(row["count_b"])
    pa, pb = row["period_a"], row["period_b"]
    level = int(round(100 * float(row.get("conf_level", 0.95))))
    ratio = float(row["ratio"])
    head_lo = row.get("headline_ci_low", row["nb_ci_low"])
    head_hi = row.get("headline_ci_high", row["nb_ci_high"])
    allowing = _allowing_label(row)
    per = ""
    if row.get("exposure_a") is not None and row.get("exposure_a") != row.get("exposure_b"):
        per = " (per period, the windows differ in length)"
    if ca == 0 and cb == 0:
        # the trend is fitted on every period from the first window to the last, so it can
        # exist where the two windows cannot be compared (the sentence had said "no growth can
        # be measured" and then gave one)
        text = f"{noun} in {name}: no events in {pa} or {pb}, so the two cannot be compared"
    elif ca == 0:
        text = (
            # "starts at 0.14 times the earlier rate" read oddly beside an earlier count of 0
            f"{noun} in {name} rose from 0 in {pa} to {cb} in {pb}; with none in {pa} the ratio "
            f"of the later rate to the earlier has no upper bound, and its {level}% interval "
            f"starts at {format_ratio(head_lo)} ({allowing}; exact Poisson interval from "
            f"{format_ratio(row['ci_low'])}){per}"
        )
        # the bound says which way the change went only when it excludes 1
        # "a fall is not ruled out" after a rise from 0 read as impossible: say what the
        # interval holds
        text += (
            ", so it also holds no change or a fall: the rise is not established"
            if float(head_lo) < 1
            else ", which excludes a fall"
        )
    elif cb == 0:
        text = (
            f"{noun} in {name} fell from {ca} in {pa} to 0 in {pb}; its {level}% interval ends "
            f"at {format_ratio(head_hi)} times the earlier rate ({allowing}; exact Poisson "
            f"interval up to {format_ratio(row['ci_high'])}){per}"
        )
        text += (
            ", so it also holds no change or a rise: the fall is not established"
            if float(head_hi) > 1
            else ", which excludes a rise"
        )
    else:
        # equal counts say nothing of the years between ("stayed at 1 in 2021 and 1 in 2024"
        # had stood over 4 events in 2022 and none in 2023)
        verb = "rose" if cb > ca else ("fell" if cb < ca else "numbered")
        move = f"from {ca} in {pa} to {cb} in {pb}" if verb != "numbered" else f"{ca} in {pa}"
        move += "" if verb != "numbered" else f" and {cb} in {pb} alike"
        text = (
            f"{noun} in {name} {verb} {move}, {_fmt(ratio)} times{per} ({level}% CI "
            f"{format_ratio(head_lo)}-{format_ratio(head_hi)} {allowing}; exact Poisson interval "
            f"{format_ratio(row['ci_low'])}-{format_ratio(row['ci_high'])})"
        )
        text += _uninformative_clause(float(head_lo), float(head_hi), _unit(row))
    g = row.get("annual_growth_pct")
    if g is not None and np.isfinite(float(g)):
        # written as the growth table writes it (format_growth_pct), so both give one number
        text += f"; the fitted trend is {format_growth_pct(float(g))} a year"
        ci = row.get("annual_growth_ci")
        if ci is not None and len(ci) == 2 and np.all(np.isfinite(np.asarray(ci, dtype=float))):
            text += (
                f" ({level}% CI {format_growth_pct(float(ci[0]))} to "
                f"{format_growth_pct(float(ci[1]))})"
            )
            text += _uninformative_trend_clause(float(ci[0]), float(ci[1]), _unit(row))
    # what the comparison and the trend say ends here; every caveat after it is a sentence
    head = len(text)
    if g is not None and np.isfinite(float(g)):
        text += _agreement_clause((head_lo, head_hi), row.get("annual_growth_ci"), pa, pb)
    if ca > 0 and cb > 0:
        text += _no_change_clause(
            cb - ca, (float(head_lo), float(head_hi)), row.get("annual_growth_ci")
        )
    cp = row.get("change_point")
    if cp:
        text += f", and the growth changed pace around {cp}"
    peak = row.get("peak_label")
    if isinstance(peak, str) and peak and cb > 0 and cb >= ca:
        # the ratio says nothing of the periods between (analysis.ranking.peaks_between): the
        # real study's Sahel "rose from 3 in 2017 to 17 in 2020" with 54 in 2019
        text += (
            f"; {peak} had more ({int(row['peak_events'])}), so the count peaked between the "
            f"two windows and {pb} is below that peak"
        )
    if ca > 0 or cb > 0:
        text += _multiplicity_clause(row, float(head_lo), float(head_hi), family)
    text += _trend_multiplicity_clause(row, float(head_lo), float(head_hi), family)
    return as_sentences(text[:head], text[head:])


def _trend_multiplicity_clause(
    row: Mapping | pd.Series, low: float, high: float, family: str = "the study's {n} tests"
) -> str:
    """Where the trend's interval excludes 0 but the window comparison's holds 1, that the
    trend's interval is not adjusted for the study's tests either: the real Nord read "the
    trend's interval lies wholly above zero" with no word on the 26 tests, while the rows
    whose comparison excluded 1 had one (empty otherwise, or without a family)."""
    tests = row.get("bh_family_size")
    ci = row.get("annual_growth_ci")
    if tests is None or ci is None or len(ci) != 2 or int(tests) < 2:
        return ""
    lo, hi = (float(v) for v in ci)
    if not (np.isfinite(lo) and np.isfinite(hi)) or not (lo > 0 or hi < 0):
        return ""
    if low > 1 or high < 1:  # the comparison's clause already speaks of the adjustment
        return ""
    return (
        f"; the trend's interval is not adjusted for {family.format(n=int(tests))}: among many "
        "regions, some trend intervals exclude 0 by chance"
    )


def headline_is_independent(row: Mapping | pd.Series) -> bool:
    """Whether a growth row's headline ratio interval is the independent-count one: where the
    months' estimated correlation is negative the dependence-aware part is not wider, and the
    headline is never narrowed (the real Sahel, own-lag -0.48). Read by this sentence's label
    and by the region report's dependence sentence.

    Parameters
    ----------
    row : Mapping or pandas.Series
        A row of :func:`analysis.growth.growth_table`, read for ``own_lag``, ``nb_ci_low``,
        ``nb_ci_high``, ``headline_ci_low`` and ``headline_ci_high``.

    Returns
    -------
    bool
        False where the own-lag is missing, not finite or not negative, or a limit is missing.
    """
    rho = row.get("own_lag")
    nb = [row.get("nb_ci_low"), row.get("nb_ci_high")]
    # a row without the headline's columns shows the independent-count interval itself
    limits = [row.get("headline_ci_low", nb[0]), row.get("headline_ci_high", nb[1]), *nb]
    if rho is None or None in limits or not np.isfinite(float(rho)) or float(rho) >= 0:
        return False
    lo, hi, nb_lo, nb_hi = (float(x) for x in limits)
    return bool(np.allclose([lo, hi], [nb_lo, nb_hi], rtol=1e-9, atol=0.0, equal_nan=True))


def _unit(row: Mapping | pd.Series) -> str:
    """The panel's period, "month" or "quarter", from a growth row (``freq``; month without)."""
    return "quarter" if row.get("freq") == "quarter" else "month"


def _allowing_label(row: Mapping | pd.Series) -> str:
    """What the headline interval allows for: not dependence where it is the independent-count
    interval (:func:`headline_is_independent`). In the panel's periods: a quarterly study's
    dependence is from quarter to quarter."""
    unit = _unit(row)
    if headline_is_independent(row):
        return (
            f"allowing for overdispersion; the {unit}s' estimated correlation is negative, and "
            "the interval is not narrowed for it"
        )
    return f"allowing for overdispersion and {unit}-to-{unit} dependence"


def _multiplicity_clause(
    row: Mapping | pd.Series, low: float, high: float, family: str = "the study's {n} tests"
) -> str:
    """Where the headline ratio interval excludes 1: whether the comparison is significant at
    0.05 after the study-wide adjustment (Benjamini-Hochberg), and where it is not, whether on
    its own already (its p-value is the largest of three tests), so that "a rise" beside
    "p 0.099 | 0.26" does not read as a finding (empty where the interval holds 1, or without
    the columns)."""
    p_bh = row.get("p_value_bh")
    tests = row.get("bh_family_size")
    if p_bh is None or tests is None or not np.isfinite(float(p_bh)) or int(tests) < 2:
        return ""
    if not (low > 1 or high < 1):
        return ""
    if float(p_bh) < 0.05:
        # said too when the adjustment does not overturn the finding: a reader of the demo's
        # Kayes had no word on it once it was significant
        return (
            f"; adjusted for {family.format(n=int(tests))} (Benjamini-Hochberg) the "
            f"comparison's p-value is {format_p_value(float(p_bh))}, significant at 0.05"
        )
    own = row.get("p_value")
    own = float(own) if own is not None and np.isfinite(float(own)) else None
    tests_of = family.format(n=int(tests))
    what = "interval" if np.isfinite(low) and np.isfinite(high) and low > 0 else "bound"
    adjusted = f"(Benjamini-Hochberg) the comparison's p-value is {format_p_value(float(p_bh))}"
    if own is not None and own >= 0.05:
        # the real Nord had read "the window comparison's bound is not a test: ..." beside "a
        # fall is ruled out", which a reviewer could not parse: say why the two differ
        return (
            f"; though that {what} excludes 1, the comparison's p-value, the largest of its "
            f"three tests, is {format_p_value(own)}, and adjusted for {tests_of} {adjusted}, "
            "so the change is not significant at 0.05"
        )
    return (
        f"; the window comparison's {what} is not adjusted for {tests_of}, "
        f"and adjusted {adjusted}, not significant at 0.05"
    )


#: A headline interval whose limits are further apart than this factor is called
#: uninformative in words: the demo's Sikasso, 6 events in each
#: window and an estimated own-lag share of 0.85, read "1.0 times (95% CI 0.0011-909)"
#: without comment.
UNINFORMATIVE_SPAN = 100.0


def _uninformative_clause(low: float, high: float, unit: str = "month") -> str:
    """Plain words for a two-sided headline interval so wide that its numbers say little
    (``unit`` the panel's period)."""
    if not (np.isfinite(low) and np.isfinite(high)) or low <= 0 or high / low <= UNINFORMATIVE_SPAN:
        return ""
    what = (
        "so the comparison cannot tell growth from decline"
        if low <= 1.0 <= high
        else "so, though it excludes no change, the size of the change is not determined"
    )
    return (
        f"; the limits of the interval allowing for dependence are more than "
        f"{UNINFORMATIVE_SPAN:g}-fold apart (few events, and a {unit}-to-{unit} dependence "
        f"that so few events cannot pin down), {what}"
    )


def _uninformative_trend_clause(low_pct: float, high_pct: float, unit: str = "month") -> str:
    """Plain words for a trend interval whose yearly growth factors are more than
    :data:`UNINFORMATIVE_SPAN`-fold apart, as :func:`_uninformative_clause` says of ratios (a
    region with a few scattered events read "+19% a year (95% CI -91% to +3971%)" without
    comment). Over quarters the cause is as often too few periods: the real Mopti, 158
    events in 12 quarters, had read "(too few events)"."""
    low, high = 1 + low_pct / 100, 1 + high_pct / 100
    # a lower factor of 0 (-100%, an underflow) is the widest interval of all, not a narrow one
    if high <= 0 or (low > 0 and high / low <= UNINFORMATIVE_SPAN):
        return ""
    cause = "too few events" if unit == "month" else f"too few events or {unit}s"
    return f", an interval too wide to say how fast counts change ({cause})"


def _no_change_clause(change: int, ratio_ci: tuple[float, float], trend_ci: Any) -> str:
    """Where the counts moved but the two-sided headline interval includes 1: a clause saying
    the change is not established (the real study's Ségou, "rose from 6 in 2017 to 15 in 2020,
    2.5 times (95% CI 0.40-15.6 ...)", p 0.26, had read as a rise without a word). Empty where
    another clause already says what the intervals do not establish: an interval too wide to
    read (:func:`_uninformative_clause`) or a trend whose interval excludes 0
    (:func:`_agreement_clause`)."""
    low, high = ratio_ci
    if change == 0 or not (np.isfinite(low) and np.isfinite(high)) or not low <= 1 <= high:
        return ""
    if low > 0 and high / low > UNINFORMATIVE_SPAN:
        return ""
    what = "a rise" if change > 0 else "a fall"
    trend = np.asarray(trend_ci, dtype=float) if trend_ci is not None else np.array([])
    if trend.size == 2 and np.all(np.isfinite(trend)):
        if trend[0] > 0 or trend[1] < 0:
            return ""
        return (
            "; both intervals include no change, so neither the window comparison nor the "
            f"trend establishes {what}"
        )
    return f"; the interval includes 1, so {what} is not established"


def _agreement_clause(ratio_ci: tuple, trend_ci, period_a, period_b) -> str:
    """What a reader should make of a window comparison and a trend that disagree: a clause
    when one interval excludes no change and the other does not, or when they exclude it in
    opposite directions (empty when they agree, or either interval is missing). It speaks of
    the two intervals the sentence shows, not of tests: the study-wide adjusted p-values
    beside it may still call neither significant. An open-ended ratio interval (an empty
    window) counts too: its finite end is as strict as a two-sided interval's (the real
    Nord, 0 -> 13 events, read "a fall is not ruled out" beside a trend of +44% to +641% a
    year with nothing to reconcile them)."""
    if trend_ci is None or len(trend_ci) != 2:
        return ""
    r_lo, r_hi = (float(v) for v in ratio_ci)
    t_lo, t_hi = (float(v) for v in trend_ci)
    if np.isnan([r_lo, r_hi]).any() or not np.all(np.isfinite([t_lo, t_hi])):
        return ""
    ratio_dir = 1 if r_lo > 1 else (-1 if r_hi < 1 else 0)
    trend_dir = 1 if t_lo > 0 else (-1 if t_hi < 0 else 0)
    if ratio_dir == trend_dir:
        return ""
    if ratio_dir and trend_dir:
        return (
            f"; the two windows and the trend from {period_a} to {period_b} point in opposite "
            "directions, so the counts did not move steadily (see the counts figure)"
        )
    # say where each interval lies, not "excludes no change ... does not" (a double negative)
    if ratio_dir:
        side = "above 1 (a rise)" if ratio_dir > 0 else "below 1 (a fall)"
        return (
            f"; the window comparison's interval lies wholly {side}, but the trend's includes "
            f"zero, so a steady trend from {period_a} to {period_b} is not established"
        )
    side = "above" if trend_dir > 0 else "below"
    return (
        f"; the trend's interval lies wholly {side} zero, but the window comparison's "
        "includes a ratio of 1, so these two windows alone do not establish a change"
    )
