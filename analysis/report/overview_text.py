"""Tables of the quarterly overview: the ranking as readers see it and as the manifest
records it for the next quarter (what changed since then is :mod:`analysis.report.changes`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.formatting import (
    format_difference,
    format_p_value,
    format_probability,
    format_ratio,
    format_ratio_estimate,
    format_share,
    format_skill,
    format_unbounded,
    join_words,
    period_label,
    period_unit,
    probability_range,
)
from analysis.growth.sentence import UNINFORMATIVE_SPAN
from analysis.models.risk import NEAR_STEPS, SURGE_LOOKBACK
from analysis.ranking import PEAK_FACTOR, PEAK_MIN_EXCESS
from analysis.report.region_text import brier_gap, expected_words

RANKING_COLUMNS = {
    "rank": "rank",
    "region_id": "region",
    "region_name": "name",
    "country": "country",
    "events_recent": "events, last 12 periods",
    "ratio": "growth ratio",
    "ratio_low": "95% CI low",
    "ratio_high": "95% CI high",
    "p_value_bh": "p (BH-adjusted)",
    "expected": "expected events, next 3 periods",
    "expected_interval": "90% interval",
    "p_surge": "P(surge)",
    "p_any": "P(at least 1) within the horizon",
    "p_any_interval": "its 90% interval (onset model)",
}
#: Periods of the overview's near-term numbers (expected events, P(surge)): the default
#: ``steps`` of :func:`analysis.models.risk.expected_next` and ``surge_probability``.
NEXT_STEPS = NEAR_STEPS


def horizon_columns(horizon: int, freq: str, steps: int = NEXT_STEPS) -> dict[str, str]:
    """The forecast columns of :func:`ranking_display` renamed with the window each covers.

    The ranking puts 3-period numbers beside P(at least 1 event) over the whole horizon; with
    both windows in the column names a row such as 1.8 expected events beside 98% does not
    read as a contradiction.

    Parameters
    ----------
    horizon : int
        The study's horizon (the window of ``p_any``).
    freq : str
        The study's period word (``month`` or ``quarter``).
    steps : int
        The window of ``expected`` and ``p_surge``.

    Returns
    -------
    dict
        Old column name to new, for ``DataFrame.rename``.
    """

    def window(n: int) -> str:
        return f"next {n} {freq}" + ("s" if n != 1 else "")

    return {
        RANKING_COLUMNS["expected"]: f"expected events, {window(steps)}",
        RANKING_COLUMNS["p_surge"]: f"P(surge), {window(steps)}",
        RANKING_COLUMNS["p_any"]: f"P(at least 1 event), {window(horizon)}",
    }


#: The ranking table's ratio columns, to the precision their size needs (``0.0011``, ``909``),
#: "∞" where the earlier window had no event.
RANKING_FORMATS = {
    RANKING_COLUMNS["ratio"]: format_unbounded(format_ratio_estimate),
    RANKING_COLUMNS["ratio_low"]: format_ratio,
    RANKING_COLUMNS["ratio_high"]: format_unbounded(format_ratio),
}


def ranking_formats(shown: pd.DataFrame, windows: dict[str, str]) -> dict[str, Any]:
    """:data:`RANKING_FORMATS` and, where ``shown`` has the column, the expected events'
    format under the name :func:`horizon_columns` gives it: the expected events are printed as
    the region reports' sentences print them
    (:func:`~analysis.report.region_text.expected_words`), so one number does not read as two
    (the real Boucle du Mouhoun's 1.8475 had been 1.85 in the table and 1.8 in its report).

    Parameters
    ----------
    shown : DataFrame
        :func:`ranking_display`, renamed with ``windows``.
    windows : dict
        :func:`horizon_columns`.

    Returns
    -------
    dict
        Column name to a function of a float, for ``show.table(formats=)``.
    """
    expected = windows.get(RANKING_COLUMNS["expected"], RANKING_COLUMNS["expected"])
    if expected not in shown.columns:
        return dict(RANKING_FORMATS)
    return {**RANKING_FORMATS, expected: expected_words}


def ranking_display(rank: pd.DataFrame, top: int = 20, surge: bool = True) -> pd.DataFrame:
    """The first ``top`` rows of :func:`analysis.ranking.ranking` in plain column names;
    unbounded ratios (no events in the earlier window) stay infinite, which
    :data:`RANKING_FORMATS` prints as "∞"; a region with no event in either window has blank
    growth cells.
    With the study's ``p_value_bh`` and the report model's ``expected`` (next 3 periods,
    :func:`analysis.models.risk.expected_next`) when ``rank`` has them, and P(surge) only with
    ``surge`` (:func:`surge_skill_shown`).

    Parameters
    ----------
    rank : DataFrame
        :func:`analysis.ranking.ranking`, best first.
    top : int, optional
        Rows shown; default 20.
    surge : bool, optional
        Whether to keep the P(surge) column; default True.

    Returns
    -------
    DataFrame
        Columns renamed by :data:`RANKING_COLUMNS`; probabilities as text.
    """
    out = rank.head(top).reindex(columns=list(RANKING_COLUMNS)).copy()
    for col in ("ratio", "ratio_low", "ratio_high"):
        out[col] = out[col].astype(float).replace(-np.inf, np.nan)
    if {"peak_label", "peak_events", "region_name"} <= set(rank.columns):
        # the row itself says a rise peaked between the windows, not only the notes below
        # (the real study's first row, Sahel: 54 events in 2019, 17 in 2020)
        head = rank.head(top)
        peaked = _rose_past_a_peak(head)
        out["region_name"] = [
            f"{name} (peaked {label})" if flag else name
            for name, label, flag in zip(
                out["region_name"], head["peak_label"], peaked, strict=True
            )
        ]
    for col in ("p_surge", "p_any"):
        out[col] = [format_probability(p) for p in out[col].astype(float)]
    if _shows_onset_intervals(rank.head(top)):
        # the region reports print the onset model's interval beside a quiet region's chance;
        # the ranking had shown the demo's Guidimaka at a bare 43% (30%-57% in its report)
        head = rank.head(top)
        out["p_any_interval"] = [
            probability_range(lo, hi) if np.isfinite(lo) and np.isfinite(hi) else ""
            for lo, hi in zip(head["p_any_low"].astype(float), head["p_any_high"].astype(float),
                              strict=True)
        ]  # fmt: skip
    else:
        out = out.drop(columns="p_any_interval")
    if rank.get("p_value_bh") is None:
        out = out.drop(columns="p_value_bh")
    else:
        out["p_value_bh"] = [format_p_value(p) for p in out["p_value_bh"].astype(float)]
    if rank.get("expected") is None:
        out = out.drop(columns=["expected", "expected_interval"])
    else:
        # the region reports' next-quarter numbers: the same paths of the same model
        head = rank.head(top)
        out["expected_interval"] = [
            f"{lo:.0f}-{hi:.0f}" if np.isfinite(lo) and np.isfinite(hi) else ""
            for lo, hi in zip(head["expected_low"], head["expected_high"], strict=True)
        ]
    if not surge:
        out = out.drop(columns="p_surge")
    return out.rename(columns=RANKING_COLUMNS)


def ranking_notes(
    rank: pd.DataFrame, top: int = 20, surge: bool = True, freq: str = "month"
) -> list[str]:
    """What the ranking table is sorted by, which windows it compares and how many of the
    study's regions it shows, then one note per caveat that applies to the rows shown (bounds
    of empty windows, peaks between the windows, uninformative intervals, the p-values and
    their study-wide adjustment, where the expected events come from); without ``surge``, that
    P(surge) is neither a column nor a tie-break (:func:`surge_skill_shown`).

    The overview shows the first as a paragraph and the others as a list: run together they
    made one paragraph of 319 words in the real study. ``freq`` (``month`` or ``quarter``)
    names the periods whose dependence the intervals allow for.

    Parameters
    ----------
    rank : DataFrame
        :func:`analysis.ranking.ranking`, best first.
    top : int, optional
        Rows the table shows; default 20.
    surge : bool, optional
        Whether the table ranks on and shows P(surge); default True.
    freq : str, optional
        ``"month"`` (the default) or ``"quarter"``: the panel's period.

    Returns
    -------
    list of str
        The lead sentence first, then the notes (plain text).
    """
    unit = period_unit(freq)
    shown = min(top, len(rank))
    then = "P(surge), P(at least 1)" if surge else "P(at least 1)"
    pair = _one_comparison(rank)
    windows = f"{pair[1]} against {pair[0]}, " if pair else ""
    lead = (
        "Regions are ranked by the lower bound of the headline 95% interval of the latest "
        f"growth ratio ({windows}the region reports' interval, allowing for "
        f"overdispersion and {unit}-to-{unit} dependence, never narrowed where that dependence "
        f"is estimated negative), then {then} and recent events. "
        f"The first {shown} of {len(rank)} regions are shown."
    )
    notes = [lead]
    if not surge:
        notes.append(
            "P(surge) is neither ranked on nor shown: its backtest did not show it better "
            "than the best baseline's (Alerts)."
        )
    if "ratio_high" in rank.columns and np.isinf(rank["ratio_high"].to_numpy(float)).any():
        notes.append(
            "Where the earlier window had no event the ratio and its upper bound are ∞; its "
            "low end is as strict as every other row's (2.5% of the chance below it), so the "
            "rows are ranked on one scale." + _open_ended_below_one(rank.head(top))
        )
    shown_rows = rank.head(top)
    if "ratio" in rank.columns:
        blank = int(np.isnan(shown_rows["ratio"].to_numpy(float)).sum())
        if blank:
            notes.append(
                f"{_blank_rows_words(blank)} no event in either window: there is no ratio, "
                "interval or test to show."
            )
    if {"ratio", "ratio_high"} <= set(rank.columns):
        zero = (shown_rows["ratio"].to_numpy(float) == 0) & np.isfinite(
            shown_rows["ratio_high"].to_numpy(float)
        )
        if zero.any():
            # a ratio of 0 has no lower limit to rank by: its 0 is the bound, not a measure
            notes.append(
                "Where the later window had no event the ratio is 0 and its low end is 0: how "
                "far the rate fell is not measured."
            )
    notes.append(_peak_clause(shown_rows))
    wide = _uninformative_names(shown_rows)
    if wide:
        notes.append(
            f"Where the interval's limits are more than {UNINFORMATIVE_SPAN:g}-fold apart "
            f"({', '.join(wide)}), the region had too few events to pin down the "
            f"ratio or how much its {period_unit(freq, 2)} depend on each other: its ratio is "
            "not measured, whatever its place in the ranking."
        )
    if "p_value_bh" in rank.columns:
        notes.append(
            "The p-values are Benjamini-Hochberg adjusted once over the whole study's ratio and "
            "change-point tests, the same numbers as in the region reports; a region without an "
            "event in either window has no test and no p-value." + _adjusted_verdict(rank)
        )
    if "expected" in rank.columns:
        notes.append(
            "Expected events over the next 3 periods, with their 90% interval, come from the "
            "same model's paths as the region reports' forecasts."
        )
    if _shows_onset_intervals(shown_rows):
        notes.append(
            "Beside P(at least 1), the onset model's 90% interval over its parameters, for "
            "the quiet regions whose chance that model gives (as their region reports print "
            "it); the other regions' probabilities are read from the report model's paths, "
            "which carry no interval over parameters."
        )
    return [n for n in notes if n]


def _shows_onset_intervals(rows: pd.DataFrame) -> bool:
    """Whether :func:`ranking_display` shows an onset interval for any of ``rows``."""
    if not {"p_any_low", "p_any_high"} <= set(rows.columns):
        return False
    low, high = rows["p_any_low"].to_numpy(float), rows["p_any_high"].to_numpy(float)
    return bool((np.isfinite(low) & np.isfinite(high)).any())


def with_onset_intervals(rank: pd.DataFrame, intervals: pd.DataFrame) -> pd.DataFrame:
    """``rank`` with ``p_any_low`` and ``p_any_high``: the onset model's interval of the
    chance of a first event for the quiet regions whose P(at least 1) that model gives, NaN
    for the others.

    Parameters
    ----------
    rank : DataFrame
        :func:`analysis.ranking.ranking` (``region_id``).
    intervals : DataFrame
        :meth:`analysis.report.context.StudyResults.onset_intervals` (``low``, ``high`` by
        ``region_id``).

    Returns
    -------
    DataFrame
    """
    ids = rank["region_id"]
    return rank.assign(
        p_any_low=ids.map(intervals["low"]).astype(float).to_numpy(),
        p_any_high=ids.map(intervals["high"]).astype(float).to_numpy(),
    )


def _open_ended_below_one(rows: pd.DataFrame) -> str:
    """The open-ended rows whose low end is below 1, named: they measure no change at all (a
    reviewer found the real Est, 0 -> 4 events, "0.026 to ∞", ranked above a region the
    hundredfold note called unmeasured). Empty without such rows."""
    if not {"ratio_low", "ratio_high"} <= set(rows.columns):
        return ""
    low = rows["ratio_low"].to_numpy(float)
    open_ended = np.isinf(rows["ratio_high"].to_numpy(float)) & (low < 1)
    if not open_ended.any():
        return ""
    names = np.asarray(rows.get("region_name", rows["region_id"]), dtype=object)[open_ended]
    return (
        f" Where that low end is below 1 ({', '.join(str(n) for n in names)}), the interval "
        "holds no change and every rise: neither a rise nor a fall is established."
    )


def _blank_rows_words(n: int) -> str:
    """ "The row whose growth cells are blank had" or "The 4 rows ... had"."""
    if n == 1:
        return "The row whose growth cells are blank had"
    return f"The {n} rows whose growth cells are blank had"


def _rose_past_a_peak(rows: pd.DataFrame) -> np.ndarray:
    """The rows ranked on a rise (ratio above 1) whose events peaked between the two windows:
    one rule for the row's "(peaked ...)" mark and the note under the table."""
    return rows["peak_events"].notna().to_numpy() & (rows["ratio"].to_numpy(float) > 1)


def _peak_clause(rows: pd.DataFrame) -> str:
    """The rows ranked on a rise whose events peaked between the two windows
    (:func:`analysis.ranking.peaks_between`): the real study's first row, Sahel, "5.67 times"
    from 2017 to 2020, had held 54 events in 2019 against 17 in 2020."""
    if not {"peak_label", "peak_events", "ratio", "count_b", "period_b"} <= set(rows.columns):
        return ""
    peaked = rows[_rose_past_a_peak(rows)]
    if peaked.empty:
        return ""
    names = peaked.get("region_name", peaked["region_id"])
    parts = [
        f"{name} ({int(r.peak_events)} events in {r.peak_label}, {int(r.count_b)} in {r.period_b})"
        for name, r in zip(names, peaked.itertuples(), strict=True)
    ]
    one = len(parts) == 1
    # the rule is said: a reviewer found Mopti (65 in 2019, 56 in 2020) missing from a list
    # that read as "more events between the windows"
    return (
        f"Of the rows with a ratio above 1, {join_words(parts)} peaked between the two "
        f"windows (a window between them held at least {PEAK_FACTOR:g} times the later "
        f"window's events, and {PEAK_MIN_EXCESS} more): "
        f"{'its ratio compares' if one else 'their ratios compare'} the two windows, not the "
        f"months between, and {'does' if one else 'do'} not say the count is still rising."
    )


def _adjusted_verdict(rank: pd.DataFrame) -> str:
    """How many regions' changes are significant after the study-wide adjustment, said once:
    the real study's ranking showed five intervals above 1 and every adjusted p-value at 0.13
    or more, and only the region reports said what that means."""
    p = rank["p_value_bh"].to_numpy(float)
    tested = np.isfinite(p)
    if not tested.any():
        return ""
    names = np.asarray(rank.get("region_name", rank.get("region_id")), dtype=object)
    significant = [str(n) for n in names[tested & (p < 0.05)]]
    above = 0
    if "ratio_low" in rank.columns:
        above = int(np.sum(tested & (rank["ratio_low"].to_numpy(float) > 1)))
    if not significant:
        tail = (
            f", though {above} of the unadjusted 95% intervals lie{'s' if above == 1 else ''} "
            "above 1"
            if above
            else ""
        )
        return (
            f" No region's change is significant at 0.05 after that adjustment "
            f"({_tested_words(rank, int(tested.sum()))}){tail}."
        )
    verb = "is" if len(significant) == 1 else "are"
    return (
        f" After that adjustment {len(significant)} of the {int(tested.sum())} regions' changes "
        f"{verb} significant at 0.05{_family_words(rank, int(tested.sum()), ' (', ')')}: "
        f"{', '.join(significant)}."
    )


def _one_comparison(rank: pd.DataFrame) -> tuple[str, str] | None:
    """The ranking's windows (earlier, later) when every row compares the same two; None
    otherwise or without them."""
    if not {"period_a", "period_b"} <= set(rank.columns):
        return None
    pairs = rank[["period_a", "period_b"]].dropna().drop_duplicates()
    if len(pairs) != 1:
        return None
    a, b = pairs.iloc[0]
    return str(a), str(b)


def _tested_words(rank: pd.DataFrame, regions: int) -> str:
    """How many regions were tested, and the study-wide family where it is larger."""
    return f"{regions} regions tested" + _family_words(rank, regions, "; ", "")


def _family_words(rank: pd.DataFrame, regions: int, before: str, after: str) -> str:
    """Where the study-wide family is larger than the regions tested (the region reports' "26
    tests"), what the other tests are: change-point tests, and other comparisons where the
    study has more than one. Empty otherwise."""
    sizes = rank["bh_family_size"].dropna() if "bh_family_size" in rank.columns else ()
    if not len(sizes) or int(sizes.max()) <= regions:
        return ""
    words = f"the adjustment is over the study's {int(sizes.max())} tests"
    if _one_comparison(rank):
        words += ", the others change-point tests"
    else:
        words += ", change-point tests and other comparisons included"
    return before + words + after


def _uninformative_names(rank: pd.DataFrame) -> list[str]:
    """Names of the rows whose two-sided headline interval spans more than
    :data:`~analysis.growth.sentence.UNINFORMATIVE_SPAN` (the growth sentence's threshold)."""
    if not {"ratio_low", "ratio_high"} <= set(rank.columns):
        return []
    low = rank["ratio_low"].to_numpy(float)
    high = rank["ratio_high"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        wide = np.isfinite(high) & (low > 0) & (high / low > UNINFORMATIVE_SPAN)
    names = rank.get("region_name", rank.get("region_id"))
    return [str(n) for n in np.asarray(names)[wide]]


def any_event_evidence_sentence(
    cards: dict[str, dict[str, Any] | None], model: str, freq: str = "month"
) -> str:
    """The evidence behind the ranking's P(at least 1 event) over the horizon: the Brier score
    of that probability on the backtest's windows of the same length
    (:func:`analysis.evaluation.any_event_scorecard`), over every region and apart for the
    regions with an event in the active window and the quiet ones, whose scores can point in
    opposite directions (real study: the report model's P(any) was better than the `zero`
    baseline's in quiet regions, and behind the NB climatology's, within its interval, in active
    ones).

    Parameters
    ----------
    cards : dict
        ``"all"``, ``"active"`` (active regions other than the focus, the region reports'
        group) and ``"quiet"`` scorecards.
    model : str
        The report model's name.
    freq : str
        The period word.

    Returns
    -------
    str
        Empty without a scored window.
    """
    every = cards.get("all")
    if not every or not every.get("n"):
        return ""
    k = every["steps"]
    text = (
        f"P(at least 1 event) over the next {k} {freq}{'s' if k != 1 else ''}, in the "
        f"backtest's {k}-{freq} windows ({every['n']:,} region-windows at {every['origins']} "
        f"origin{'s' if every['origins'] != 1 else ''}, {every['with_event']:,} with an "
        f"event): {model}'s Brier score is "
        f"{brier_gap(every, model)}"
    )
    parts = []
    # the groups as the CRPS sentence above and the region reports have them: "active" is
    # the other regions with an event in the active window, the focus apart
    for key, who in (("active", "in the other active regions"), ("quiet", "in quiet ones")):
        card = cards.get(key)
        if card and card.get("n"):
            parts.append(f"{who} ({card['n']:,}) {brier_gap(card, model)}")
    if parts:
        text += "; " + "; ".join(parts)
    return text + "."


def near_term_evidence_sentence(
    bt: Any, model: str, steps: int = NEXT_STEPS, freq: str = "month"
) -> str:
    """The evidence behind the table's expected events over the next ``steps`` periods, for
    every region the table lists: the report model's pooled CRPS skill at those steps against
    the baseline with the lowest CRPS there, with its interval over origins, and its
    randomised-PIT 80% coverage (:func:`analysis.evaluation.skill_intervals`).

    Parameters
    ----------
    bt : BacktestResult
        The reports' evidence backtest (every region, every group).
    model : str
        The report model's name in ``bt``.
    steps : int
    freq : str
        The panel's period word, for the totals' sentence.

    Returns
    -------
    str
        Plain text; empty when the backtest has no baseline or no forecast at those steps.
    """
    from analysis.evaluation import best_baseline, skill_intervals, total_scorecard
    from analysis.report.region_text import totals_sentence

    scores = bt.scores[bt.scores["step"] <= steps]
    base = [m for m in bt.models if bt.is_baseline.get(m)]
    best = best_baseline(scores, base)
    if best is None or model not in set(scores["model"]):
        return ""
    ev = skill_intervals(scores, model, best)
    # the pooled skill is against the one baseline best over all regions, many of them quiet:
    # each group with events against its own best baseline beside it (the real study read
    # "+3.4%, ahead" while the active regions were +1.4% (-1.3% to +4.2%) against theirs,
    # and the focus -5.1%); where none of them backs "ahead", the pooled verdict says so where
    # it is made, not four sentences later
    groups = [
        _group_clause(scores, model, base),
        _group_clause(scores, model, base, group="active"),
    ]
    said = [g for g in groups if g]
    standing = _standing_words(ev)
    if standing == ", ahead of it" and said and not any(", ahead of it" in g for g in said):
        standing = (
            ", ahead of it over all regions but not within the focus or the other active "
            "regions (below)"
        )
    text = (
        f"Over every region in the study's backtest ({ev['n_origins']} origins, "
        f"{ev['n_forecasts']:,} forecasts at steps 1-{steps}"
        f"{_partial_origins_clause(scores[scores['model'] == model], steps, freq)}), "
        f"{model}'s CRPS skill against "
        f"the best baseline there ({best}) is "
        f"{format_skill(ev['skill'], ev['skill_low'], ev['skill_high'], ev['level'])}"
        f"{standing}, and its 80% intervals held "
        f"{_coverage(ev).replace('%', '% of the outcomes', 1)}{_quiet_share_clause(scores, model)}"
        "; the region reports give the evidence of their own group."
    )
    if (bt.meta or {}).get("totals") is not None:
        # the table's interval is of the total over these steps: scored as such
        card = total_scorecard(bt, model, steps)
        text += " " + totals_sentence(card, steps, freq, whose=f"{model}'s")
    text += "".join(groups)
    horizon = int(bt.scores["step"].max())
    if horizon > steps:
        # the table's chance of at least one event looks further ahead than the expected events
        text += _group_clause(
            bt.scores,
            model,
            base,
            f"over steps 1-{horizon}, the forecast horizon",
        )
    return text


def _quiet_share_clause(scores: pd.DataFrame, model: str) -> str:
    """How many of the pooled forecasts were of quiet regions, where a forecast of "almost
    surely nothing" covers nearly every outcome: the pooled coverage (79% in the demo, 763 of
    its 1,224 forecasts quiet) had led the sentence as if it were the active regions'. Empty
    without groups or quiet forecasts."""
    if "group" not in scores.columns:
        return ""
    own = scores[scores["model"] == model]
    quiet = int((own["group"] == "quiet").sum())
    if not quiet:
        return ""
    return (
        f" (of its {len(own):,} forecasts, {quiet:,} were of quiet regions, where coverage says "
        "little: the groups below tell more)"
    )


def _standing_words(ev: dict) -> str:
    """ ", ahead of it" / ", behind it" where the skill's interval excludes 0, else ", not
    distinguishable from it" (:func:`analysis.evaluation.skill_intervals`'s dict)."""
    from analysis.report.region_text import skill_standing, standing_phrase

    return standing_phrase(skill_standing(ev["skill"], ev["skill_low"], ev["skill_high"]))


def _coverage(ev: dict) -> str:
    """The 80% coverage of a :func:`analysis.evaluation.skill_intervals` dict with its
    interval."""
    return format_share(ev["coverage"], ev["coverage_low"], ev["coverage_high"], ev["level"])


def _group_clause(
    scores: pd.DataFrame, model: str, base: list[str], over: str = "", group: str = "focus"
) -> str:
    """One group's own skill at the same steps, against its own best baseline: the focus
    regions by default (the table ranks them first, and the study-wide skill, carried by many
    other regions, can hide that the model was behind a baseline there: the real study's
    Mopti), or ``group="active"``, the other regions with an event in the year before
    the origin. ``over`` names other steps than the sentence's (the table's chance of at
    least one event covers the whole horizon)."""
    from analysis.evaluation import best_baseline, skill_intervals
    from analysis.report.region_text import share_verdict

    if "group" not in scores.columns:
        return ""
    rows = scores[scores["group"] == group]
    best = best_baseline(rows, base)
    if best is None or model not in set(rows["model"]):
        return ""
    ev = skill_intervals(rows, model, best)
    skill = format_skill(ev["skill"], ev["skill_low"], ev["skill_high"], ev["level"])
    verdict = _standing_words(ev)
    if verdict == ", behind it":
        verdict += f": {model} forecast worse than {best} there"
    regions = rows["region_id"].nunique()
    counted = f"{ev['n_forecasts']:,} forecasts"
    whose = "its" if group == "focus" and regions == 1 else "their"
    if group == "focus":
        who = "focus region alone" if regions == 1 else f"{regions} focus regions alone"
    else:
        who = "other active regions"
        counted = f"an event in the year before the origin; {counted}"
    lead = f" {over[0].upper()}{over[1:]}, for" if over else " For"
    # the study-wide coverage pools many quiet forecasts that cover whatever the model says;
    # the group's own is the one its printed intervals need
    cover = ""
    if np.isfinite(ev["coverage_low"]):
        called = share_verdict((ev["coverage_below"], "narrow"), (ev["coverage_above"], "wide"))
        cover = f"; {whose} 80% intervals held {_coverage(ev)}" + (f", {called}" if called else "")
    return (
        f"{lead} the {who} ({counted}) the skill against {whose} best "
        f"baseline ({best}) is {skill}{verdict}{cover}."
    )


def _partial_origins_clause(scores: pd.DataFrame, steps: int, freq: str = "month") -> str:
    """Which origins the near-term evidence scores at fewer than ``steps`` steps (the latest,
    whose later periods are not yet observed), so that its count of origins does not read as
    a contradiction of the surge evidence's, which leaves them out; labelled as ``freq``'s
    periods are."""
    last = scores.groupby("origin")["step"].max()
    partial = last[last < steps].sort_index()
    if partial.empty:
        return ""
    if len(partial) == 1:
        origin, k = partial.index[0], int(partial.iloc[0])
        at = "step 1" if k == 1 else f"steps 1-{k}"
        seen = "the one period" if k == 1 else f"the {k} periods"
        return (
            f"; the latest origin, {period_label(origin, freq)}, at {at} only, {seen} observed "
            "after it"
        )
    return (
        f"; the latest {len(partial)} origins at the steps observed after them so far, "
        f"from {period_label(partial.index[0], freq)}"
    )


def surge_rule_sentence(
    factor: float, min_events: int, probability: float, freq: str = "month"
) -> str:
    """The overview's definition of a surge and of an alert: the rule of
    :func:`analysis.models.risk.surge_threshold` with the study's ``alerts`` values.

    Parameters
    ----------
    factor : float
        ``alerts.surge_factor``.
    min_events : int
        ``alerts.min_events``: the fewest events over the window that make a surge.
    probability : float
        ``alerts.probability``: an alert is raised when P(surge) passes it.
    freq : str
        The study's period word (``month`` or ``quarter``).

    Returns
    -------
    str
        Plain text.
    """
    events = f"{min_events} event" + ("s" if min_events != 1 else "")
    return (
        f"A surge is at least {factor:g} times as many events over the next {NEXT_STEPS} "
        f"{freq}s as the mean of the last {SURGE_LOOKBACK} {freq}s would give, and at least "
        f"{events}, so that in a near-quiet region a few events, within its usual variation, "
        "do not count as a surge. An alert is raised when the probability of a surge passes "
        f"{probability:.0%}."
    )


def surge_evidence_sentence(card: dict[str, Any] | None, model: str, freq: str = "month") -> str:
    """The evidence behind P(surge): its Brier score in the study's backtest beside the best
    baseline's, with the interval of the difference (:func:`analysis.evaluation.surge_scorecard`).

    Parameters
    ----------
    card : dict or None
        :func:`analysis.evaluation.surge_scorecard` of the reports' evidence backtest.
    model : str
        The report model's name.
    freq : {"month", "quarter"}
        The panel's frequency, for the labels of the origins left out.

    Returns
    -------
    str
        Plain text; says so when no surge window could be scored.
    """
    if card is None or card.get("n", 0) == 0:
        return (
            f"P(surge) has not been scored: the backtest has no origin whose next {NEXT_STEPS} "
            "periods are "
            "known, so read it as the model's view only."
        )
    own = card["brier"][model]
    left_out = card.get("left_out") or ()
    # the near-term evidence counts these origins too, scored at the steps already observed
    if len(left_out) == 1:
        gap = (
            f"; its latest origin, {period_label(left_out[0], freq)}, is left out: its "
            f"{card['steps']} periods are not all observed yet"
        )
    elif left_out:
        gap = (
            f"; its latest {len(left_out)} origins, from {period_label(left_out[0], freq)}, are "
            f"left out: their {card['steps']} periods are not all observed yet"
        )
    else:
        gap = ""
    text = (
        f"In the backtest ({card['origins']} origin{'s' if card['origins'] != 1 else ''}, "
        f"{card['n']:,} region-windows of "
        f"{card['steps']} periods, "
        f"{card['surges']:,} of them surges{gap}), the Brier score of {model}'s P(surge) is "
        f"{own:.3f} ({_base_rate_reference(card.get('base_rate'))})"
    )
    best = card.get("best_baseline")
    alerts = _alert_record(card)
    if best is None:
        return text + "." + alerts
    pct = int(round(100 * card["level"]))
    lo, hi = card["difference_low"], card["difference_high"]
    if hi < 0:
        verdict = "better than"
    elif lo > 0:
        verdict = "worse than"
    else:
        verdict = "not distinguishable from"
    return text + (
        f", {verdict} the best baseline's ({best}, {card['brier'][best]:.3f}; difference "
        f"{format_difference(card['difference'])}, {pct}% interval {format_difference(lo)} to "
        f"{format_difference(hi)} over origins)." + alerts
    )


def surge_skill_shown(card: dict[str, Any] | None) -> bool:
    """Whether the backtest shows the report model's P(surge) better than the best baseline's
    (the interval of the Brier difference wholly below 0): the overview maps P(surge) only
    then. Neither study's was (real: difference -0.001, 90% interval -0.002 to +0.001, the
    alert rule missing all 22 surges), and the map had stood as the overview's first figure.

    Parameters
    ----------
    card : dict or None
        :func:`analysis.evaluation.surge_scorecard`.

    Returns
    -------
    bool
    """
    if not card or card.get("n", 0) == 0 or card.get("best_baseline") is None:
        return False
    return bool(np.isfinite(card["difference_high"]) and card["difference_high"] < 0)


def _alert_record(card: dict[str, Any]) -> str:
    """The alert rule's own record in the backtest: how many region-windows it would have
    flagged, how many of those surged, and how many surges it missed (the Brier score does
    not say how the threshold itself did)."""
    alerts, hits = card.get("alerts"), card.get("alert_hits")
    if alerts is None or hits is None:
        return ""
    surges = int(card["surges"])
    rule = f"The alert rule (P(surge) above {100 * float(card['alert']):.0f}%)"
    if alerts == 0:
        missed = f"so it missed all {surges:,} surges" if surges else "and no window surged"
        return f" {rule} would have raised no alert in these windows, {missed}."
    before = f"{hits:,} of them" if hits else "none of them"
    missed = (
        f"all {surges:,} surges" if hits == 0 else f"{surges - hits:,} of the {surges:,} surges"
    )
    return (
        f" {rule} would have raised {alerts:,} alert{'s' if alerts != 1 else ''} in these "
        f"windows, {before} before a surge; it missed {missed}."
    )


def no_alert_sentence(card: dict[str, Any] | None) -> str:
    """What the Alerts section says when no region passes the threshold: that, and, where the
    rule caught fewer than half of the backtest's surges, that its silence is no sign of calm
    (the real study's rule missed all 22, and "No region passes the alert threshold" had stood
    alone as if it reassured).

    Parameters
    ----------
    card : dict or None
        :func:`analysis.evaluation.surge_scorecard`.

    Returns
    -------
    str
    """
    text = "No region passes the alert threshold"
    if not card or card.get("alert_hits") is None or not card.get("surges"):
        return text + "."
    hits, surges = int(card["alert_hits"]), int(card["surges"])
    if 2 * hits >= surges:
        return text + "."
    # the record itself is the sentence above's (_alert_record): not restated
    return text + ", which, with that record, is no sign of calm."


def _base_rate_reference(rate: float | None) -> str:
    """What the Brier score of a constant forecast at the observed surge share would be: the
    reference a reader needs to read a Brier score, known only with hindsight."""
    if rate is None or not np.isfinite(rate):
        return "0 is perfect"
    return (
        "0 is perfect; "
        f"forecasting the share of windows that turned out to surge, {100 * rate:.1f}%, for "
        f"every one would score {rate * (1 - rate):.3f}"
    )


def ranking_record(rank: pd.DataFrame) -> list[dict[str, Any]]:
    """The ranking as JSON-ready rows for the manifest (read by the next quarter), with the
    expected events of :func:`analysis.models.risk.expected_next` when ``rank`` has them.

    Parameters
    ----------
    rank : DataFrame
        :func:`analysis.ranking.ranking`, with ``p_surge`` and ``p_any``.

    Returns
    -------
    list of dict
        Per region: ``region_id``, ``rank``, ``events_recent``, ``p_surge``, ``p_any`` (None
        when missing) and, when recorded, ``expected``, ``expected_low``, ``expected_high``.
    """
    cols = ["region_id", "rank", "events_recent", "p_surge", "p_any"]
    expected = ["expected", "expected_low", "expected_high"]
    has_expected = all(c in rank.columns for c in expected)
    out = []
    for row in rank.reindex(columns=cols + expected).itertuples(index=False):
        item = {
            "region_id": str(row.region_id),
            "rank": int(row.rank),
            "events_recent": int(row.events_recent),
            "p_surge": float(row.p_surge),
            "p_any": None if pd.isna(row.p_any) else float(row.p_any),
        }
        if has_expected:
            for name in expected:
                value = getattr(row, name)
                item[name] = None if pd.isna(value) else float(value)
        out.append(item)
    return out
