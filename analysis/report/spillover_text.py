"""Sentences and tables on spillover and onset across the border, for the region report and
the overview: totals and P(at least one event) from the report model's paths, onset for quiet
units, and the share of the spillover model's own expectation attributable to the focus regions
(continue minus silenced, as a share of continue).

One predictive model per report: every level (count, probability) a reader sees comes from the
report model's paths. The spillover model's scenarios are only quoted as shares of its own
continue scenario, never as a second level for the same region.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np
import pandas as pd

from analysis.formatting import as_sentences, format_difference, format_probability, join_words
from analysis.report.region_text import (
    StepEvidence,
    evidence_skill,
    evidence_table,
    skill_words,
    step_evidence,
)

#: Where the study's onset scores are, for a sentence read outside the region reports.
ONSET_EVIDENCE_POINTER = "(the methods appendix's Onset evidence)"

RISK_COLUMNS = {
    "region_id": "region",
    "region_name": "name",
    "country": "country",
    "expected": "expected events",
    "median": "median",
    "interval": "90% interval",
    "p_any": "P(at least 1)",
}


def risk_table(risk: Any, region_ids: list[str]) -> pd.DataFrame:
    """Totals over the horizon and P(at least 1) for the given regions, in that order, from
    the report model's paths (:class:`analysis.models.risk.PathRisk`).

    The spillover model's share of a region's expected events that comes from its neighbours'
    past counts is not a column: beside the share attributable to the focus that the unit
    sentences quote (a different what-if of the same model) it read as one quantity with two
    values. It stays in the ``spillover`` command's JSON (``share_neighbour`` with
    ``share_neighbour_ci``).

    Parameters
    ----------
    risk : PathRisk
        The report model's risk (its ``regions`` frame).
    region_ids : list of str
        Regions to show, in order; ids without a P(at least 1) there are left out.

    Returns
    -------
    DataFrame
        Columns renamed by :data:`RISK_COLUMNS`; the interval, median and P(at least 1) as
        text.
    """
    rows = risk.regions.set_index("region_id").reindex(region_ids).dropna(subset=["p_any"])
    rows["interval"] = [
        f"{int(lo)}-{int(hi)}"
        for lo, hi in zip(rows["expected_low"], rows["expected_high"], strict=True)
    ]
    # as the summary writes them: ">99.9%", not a fraction rounded to "1.00"
    rows["p_any"] = [format_probability(p) for p in rows["p_any"].astype(float)]
    rows["median"] = [f"{m:g}" for m in rows["median"].astype(float)]
    return rows.reset_index().reindex(columns=list(RISK_COLUMNS)).rename(columns=RISK_COLUMNS)


def _pct(p: float) -> str:
    # never "0%" or "100%": sampled probabilities and shares are not certainties
    return format_probability(float(p))


def onset_headlined(card: dict | None) -> bool:
    """Whether the reports headline onset probabilities: only when the study's own onset
    backtest (:func:`analysis.models.onset_backtest.study_onset_backtest`) had enough first
    events and the onset model beat every naive rule on them.

    Parameters
    ----------
    card : dict or None
        :func:`analysis.models.onset_backtest.study_onset_backtest`'s result.

    Returns
    -------
    bool
    """
    return bool(card and card.get("available") and card.get("beats_naive"))


def onset_edge_established(card: dict | None) -> bool:
    """Whether the onset model's edge over every naive rule is more than two standard errors
    (clustered by unit and origin) of the Brier difference, not only a lower score.

    Parameters
    ----------
    card : dict or None
        :func:`analysis.models.onset_backtest.study_onset_backtest`'s result.

    Returns
    -------
    bool
        False without a card, when the model is not headlined (:func:`onset_headlined`) or
        when any margin is within two standard errors.
    """
    return bool(onset_headlined(card) and card.get("edge_established"))


def onset_evidence_sentence(card: dict | None, reason: str = "") -> str:
    """The onset backtest's verdict in plain words (or why there is none), followed by the
    verdict on the report model's probabilities when the backtest scored them, and whether
    the probabilities shown were right on average (:func:`calibration_sentence`).

    Parameters
    ----------
    card : dict or None
        :func:`analysis.models.onset_backtest.study_onset_backtest`'s result.
    reason : str, optional
        Why there is no onset backtest, used when the card gives no reason of its own.

    Returns
    -------
    str
    """
    if not card or not card.get("available"):
        why = (card or {}).get("reason") or reason or "no onset backtest was possible"
        return f"The onset model could not be checked on this study's history ({why})."
    shown = (card.get("report_model") or {}).get("verdict")
    text = f"{card['verdict']} {shown}" if shown else str(card["verdict"])
    calibration = calibration_sentence(card)
    return f"{text} {calibration}" if calibration else text


#: Fewest first events in a group of forecasts before its calibration gets a verdict ("ran
#: low"): with none (the real study's 120 forecasts for never-active units) the clustered
#: error sees no outcome variance at all.
CALIBRATION_MIN_EVENTS = 5

#: The unit histories of the calibration split, in words (after "units").
HISTORY_WORDS = {
    "never": "without any event since the study's start",
    "before": "with an event since the study's start",
}


def _calibration(card: dict | None, history: str | None = None) -> tuple[str, dict] | None:
    """The calibration in the large of the probabilities the reports show: the report
    model's where the onset backtest scored it, the onset model's otherwise (None without);
    over every forecast, or over those of one unit ``history`` (:data:`HISTORY_WORDS`)."""
    card = card or {}
    found = (
        (card.get("calibration_by_history") or {}).get(history) or {}
        if history
        else card.get("calibration") or {}
    )
    named = (("report_model", "the report model's"), ("onset_model", "the onset model's"))
    for method, words in named:
        cal = found.get(method)
        if cal and np.isfinite(cal.get("se", np.nan)):
            return words, cal
    return None


def _calibration_direction(cal: dict) -> str:
    """ "low" or "high" where the observed share differs from the mean probability by more than
    two standard errors (clustered by unit and origin), with at least
    :data:`CALIBRATION_MIN_EVENTS` first events; else ""."""
    d, se = cal["difference"], cal["se"]
    if cal.get("n_events", CALIBRATION_MIN_EVENTS) < CALIBRATION_MIN_EVENTS or abs(d) <= 2 * se:
        return ""
    return "low" if d > 0 else "high"


def _points(value: float) -> str:
    """A difference of shares in signed percentage points, one decimal; two where one would
    read 0 (the real study's lower limit, -0.04 points, had read "-0.0")."""
    points = 100 * value
    return f"{points:+.2f}" if points != 0 and abs(points) < 0.05 else f"{points:+.1f}"


def _gap_interval(cal: dict) -> str:
    """ "difference +5.1 points, 95% interval +0.7 to +9.6, clustered by unit and origin"."""
    d, se = cal["difference"], cal["se"]
    return (
        f"difference {_points(d)} points, 95% interval {_points(d - 1.96 * se)} to "
        f"{_points(d + 1.96 * se)}, clustered by unit and origin"
    )


def _events_of(cal: dict) -> str:
    """ "31 of 161 forecasts", "none of 120 forecasts"."""
    k, n = int(cal.get("n_events", 0)), int(cal.get("n_forecasts", 0))
    return f"{'none' if k == 0 else f'{k:,}'} of {n:,} forecasts"


def calibration_sentence(card: dict | None) -> str:
    """Whether the quiet units' probabilities were right on average on the study's past first
    events: their mean against the share of forecasts followed by a first event, with the
    difference's 95% interval clustered by unit and origin
    (:func:`analysis.models.onset_backtest.calibration_in_the_large`), then the same apart for
    units with and without an event before (:data:`HISTORY_WORDS`). A lower Brier score than
    the naive rules says the units are ranked usefully, not that the levels are right.

    Parameters
    ----------
    card : dict or None
        :func:`analysis.models.onset_backtest.study_onset_backtest`'s result.

    Returns
    -------
    str
        Empty without a calibration in the card.
    """
    found = _calibration(card)
    if found is None:
        return ""
    words, cal = found
    head = (
        f"On these forecasts {words} probabilities averaged {100 * cal['mean_probability']:.1f}%, "
        f"and {100 * cal['observed']:.1f}% were followed by a first event ({_gap_interval(cal)})"
    )
    direction = _calibration_direction(cal)
    if not direction:
        text = head + ": right on average, within their error."
    else:
        more = "too low than too high" if direction == "low" else "too high than too low"
        text = (
            f"{head}: they have run {direction}, so the quiet units' probabilities in this "
            f"study's reports are more likely {more}."
        )
    parts = []
    for history, unit_words in HISTORY_WORDS.items():
        group = _calibration(card, history)
        if group is not None:
            g = group[1]
            parts.append(
                f"for units {unit_words} they averaged {100 * g['mean_probability']:.1f}% and "
                f"{_events_of(g)} were followed by a first event"
            )
    if len(parts) == len(HISTORY_WORDS):
        text += f" By history: {'; '.join(parts)}."
    return text


def calibration_clause(card: dict | None, history: str) -> str:
    """A clause for a quiet unit's sentence: how such probabilities did on the study's past
    first events for units of its history (:data:`HISTORY_WORDS`): "ran low" or "ran high"
    with the interval where the record says so, its plain numbers otherwise (empty without a
    calibration in the card).

    Parameters
    ----------
    card : dict or None
        :func:`analysis.models.onset_backtest.study_onset_backtest`'s result.
    history : str
        ``"never"`` for a unit without any event since the study's start, ``"before"``
        otherwise.

    Returns
    -------
    str
    """
    found = _calibration(card, history) or _calibration(card)
    if found is None:
        return ""
    cal = found[1]
    which = (
        f"for units {HISTORY_WORDS[history]}"
        if _calibration(card, history) is not None
        else "for quiet units"
    )
    lead = f"; on this study's past first events, such probabilities {which}"
    direction = _calibration_direction(cal)
    if direction:
        # the consequence for the number beside it, whose own interval (the parameters') does
        # not hold that record: the real Tillabéri read "3% (90% interval 3%-4%)" beside a
        # record of such probabilities running 5 points low
        return (
            f"{lead} ran {direction} ({100 * cal['mean_probability']:.1f}% on average, where "
            f"{_events_of(cal)} were followed by a first event; {_gap_interval(cal)}), so this "
            f"one is more likely too {direction} than too {'high' if direction == 'low' else 'low'}"
        )
    few = cal.get("n_events", CALIBRATION_MIN_EVENTS) < CALIBRATION_MIN_EVENTS
    tail = "too few first events to tell whether they run low" if few else "within their error"
    if not few and math.isfinite(cal.get("se", math.nan)):
        # the verdict with the numbers it rests on, as where the record says "ran low"
        tail += f": {_gap_interval(cal)}"
    return (
        f"{lead} averaged {100 * cal['mean_probability']:.1f}%, and {_events_of(cal)} were "
        f"followed by a first event ({tail})"
    )


def calibration_clauses(card: dict | None) -> dict[str, str]:
    """:func:`calibration_clause` for each unit history, for :func:`onset_unit_sentences`.

    Parameters
    ----------
    card : dict or None
        :func:`analysis.models.onset_backtest.study_onset_backtest`'s result.

    Returns
    -------
    dict
        Unit history (``"never"``, ``"before"``) -> clause.
    """
    return {history: calibration_clause(card, history) for history in HISTORY_WORDS}


def cross_border_units(
    region_id: str,
    boundaries: Any,
    targets: list[str] | None = None,
    within: Any = None,
) -> list[str]:
    """The region's cross-border neighbours, limited to the target countries when given and to
    the study's units (``within``, region ids) when given.

    Parameters
    ----------
    region_id : str
        The region's ISO 3166-2 code.
    boundaries : analysis.geography.Boundaries
    targets : list of str, optional
        The study's ``spillover_targets`` (country codes or names); all countries without it.
    within : iterable of str, optional
        The study's region ids.

    Returns
    -------
    list of str
        Region ids of the neighbours in another country.
    """
    from analysis.geography import neighbours

    ids = neighbours(region_id, cross_border_only=True, boundaries=boundaries)
    if within is not None:
        keep = set(within)
        ids = [r for r in ids if r in keep]
    if not targets:
        return list(ids)
    country = boundaries.regions.set_index("region_id")["country"]
    names = boundaries.regions.set_index("region_id").get("country_name", country)
    wanted = set(targets)
    return [r for r in ids if country.get(r) in wanted or names.get(r) in wanted]


def focus_neighbour_sentence(
    region_id: str,
    focus: Collection[str],
    boundaries: Any,
    panel: pd.DataFrame,
    periods: int = 12,
) -> str:
    """For a region that borders a focus region, that neighbour and its recent events: the
    question such a report answers is whether the focus's violence reaches it, and the demo's
    Guidimaka named only Tambacounda across the border, never Kayes (73 events in 2024),
    since Mali is not a spillover target.

    Parameters
    ----------
    region_id : str
    focus : collection of str
        The study's focus regions.
    boundaries : Boundaries
    panel : DataFrame
        ``region_id``, ``region_name``, ``country``, ``period``, ``events``.
    periods : int
        Look-back of the count.

    Returns
    -------
    str
        Empty for a focus region or one without a focus neighbour.
    """
    from analysis.geography import neighbours

    if region_id in set(focus):
        return ""
    near = [r for r in neighbours(region_id, boundaries=boundaries) if r in set(focus)]
    info = panel.drop_duplicates("region_id").set_index("region_id")
    near = [r for r in near if r in info.index]
    if not near:
        return ""
    last = sorted(panel["period"].unique())[-periods:]
    recent = panel[panel["period"].isin(last)].groupby("region_id")["events"].sum()
    own = info.loc[region_id, "region_name"]
    parts = [
        f"{info.loc[r, 'region_name']} ({info.loc[r, 'country']}), with "
        f"{int(recent.get(r, 0)):,} event{'' if int(recent.get(r, 0)) == 1 else 's'} in the last "
        f"{periods} periods"
        for r in near
    ]
    what = "the focus region" if len(near) == 1 else "the focus regions"
    return f"{own} borders {what} {join_words(parts)}."


def no_border_unit_sentence(
    region_id: str,
    region_name: str,
    boundaries: Any,
    targets: list[str] | None = None,
    within: Any = None,
) -> str | None:
    """Why a region's report describes no unit across the border, or None when it does.

    A region can border units in the study that are outside the spillover target countries
    (a Mauritanian region next to Kayes, with targets Mauritania and Senegal): then the
    sentence names them instead of claiming there is no cross-border neighbour.

    Parameters
    ----------
    region_id, region_name : str
    boundaries : analysis.geography.Boundaries
    targets : list of str, optional
        The study's ``spillover_targets`` (country codes or names).
    within : iterable of str, optional
        The study's region ids.

    Returns
    -------
    str or None
    """
    if cross_border_units(region_id, boundaries, targets, within):
        return None
    others = cross_border_units(region_id, boundaries, None, within)
    if not others:
        where = "in the study" if within is not None else "in the boundaries"
        return f"{region_name} has no cross-border neighbour {where}."
    info = boundaries.regions.set_index("region_id")
    country = info.get("country_name", info["country"])
    # grouped by country, "Sikasso, Ségou and Mopti in Mali": a "Region, Country" pair per
    # unit had read "Sikasso, Mali,, Ségou, Mali, and Mopti, Mali,"
    by_country: dict[str, list[str]] = {}
    for r in others:
        by_country.setdefault(str(country.loc[r]), []).append(str(info.loc[r, "region_name"]))
    named = join_words(f"{join_words(names)} in {c}" for c, names in by_country.items())
    by_code = dict(zip(info["country"], country, strict=True))  # targets are ISO3 codes
    wanted = join_words(str(by_code.get(t, t)) for t in targets or [])
    if len(others) == 1:
        return (
            f"{region_name}'s one cross-border neighbour in the study ({named}) is outside the "
            f"spillover target countries ({wanted}), so it gets no sentence of its own here."
        )
    return (
        f"{region_name}'s cross-border neighbours in the study ({named}) are outside the "
        f"spillover target countries ({wanted}), so none of them gets a sentence of its own "
        "here."
    )


#: What "attributable to the focus" means, said once per report: where the share is first
#: quoted (the overview) or in the section that defines it (the region report's Spillover
#: section), never again in every sentence that quotes a share.
SHARE_DEFINITION = "continue minus silenced, as a share of continue, per parameter draw"


def focus_names(contrast: Any) -> str:
    """The focus regions of a scenario contrast by name, as the share sentences name them.

    Parameters
    ----------
    contrast : ScenarioContrast
        Its ``focus`` ids are named from its ``regions`` (an id without a name as itself).

    Returns
    -------
    str
        The names joined in words ("Kayes and Mopti").
    """
    names = contrast.regions.set_index("region_id")["region_name"]
    return join_words(str(names.get(f, f)) for f in contrast.focus)


def _share_clause(row: Any, key: str, focus: str, level: float) -> str:
    """The spillover model's what-if as a share of its own continue scenario (no level); what
    the share is, is defined once where the report first quotes it, not here."""
    share, low, high = (row.get(f"{key}_share{s}", float("nan")) for s in ("", "_low", "_high"))
    if not pd.notna(share):  # continue is 0 in every draw: nothing to attribute
        return ""
    interval = f"{int(round(100 * level))}% interval {_pct(low)}-{_pct(high)}"
    if key == "expected":
        return (
            f"; in the spillover model, {_pct(share)} of the events expected there ({interval}) "
            f"are attributable to {focus}"
        )
    return (
        f"; in the spillover model, {_pct(share)} of the probability of an event there "
        f"({interval}) is attributable to {focus}"
    )


def _never_active(unit: Any) -> bool:
    """Whether a quiet unit's row says it had no event anywhere in the panel."""
    events = unit.get("events_to_date") if hasattr(unit, "get") else None
    return events is not None and bool(np.isfinite(events)) and int(events) == 0


def _quiet_span(unit: Any, quiet: int) -> str:
    """ "in 12 periods", "in the 24 periods since 2022-12" where the unit's last event is
    older than the quiet window (the demo's Guidimaka, quiet since December 2022, read "in 12
    periods"), or "in the study's data" for a unit without any event in the panel (the real
    study's Tillabéri: none in 72 months, which "in 12 periods" understated)."""
    if _never_active(unit):
        return "in the study's data"
    since = unit.get("periods_quiet") if hasattr(unit, "get") else None
    last = unit.get("last_event") if hasattr(unit, "get") else None
    if since is None or last is None or pd.isna(last) or int(since) <= quiet:
        return f"in {quiet} periods"
    return f"in the {int(since)} periods since {pd.Timestamp(last):%Y-%m}"


def onset_unit_sentences(
    region_ids: list[str],
    onset: Any,
    risk: Any,
    *,
    headline: bool,
    contrast: Any = None,
    established: bool = False,
    from_onset: Collection[str] = (),
    calibration: Mapping[str, str] | None = None,
) -> list[str]:
    """One sentence per unit: onset for quiet units, continued activity for active ones.

    Parameters
    ----------
    region_ids : list of str
        Units to describe (e.g. the focus region's cross-border neighbours).
    onset : analysis.models.onset_forecast.OnsetForecast or None
        P(first event within the horizon) with its interval for the quiet units.
    risk : analysis.models.risk.PathRisk
        The report model's paths: expected count, median and 90% interval of active units.
    headline : bool
        Whether the onset model earned its place (:func:`onset_headlined`); if not, quiet
        units get the sentence without the model's probability.
    contrast : analysis.models.spillover_scenarios.ScenarioContrast, optional
        Adds the share of the spillover model's own continue scenario attributable to the
        focus (continue minus silenced, over continue) with its interval: of P(at least one
        event) for quiet units, of the expected events for active ones. Only shares are
        quoted, never the spillover model's levels: the levels a reader sees are the report
        model's.
    established : bool
        Whether the onset model's edge over the naive rules is established
        (:func:`onset_edge_established`); the sentence says which, so a lower Brier score
        within its error is not read as a win.
    from_onset : collection of str
        The units whose P(at least one event) in the report model is the onset model's own
        (:attr:`analysis.report.context.StudyResults.onset_driven`): their sentence says where
        the number comes from and gives the onset model's interval as its uncertainty, where
        the others quote the onset model as a check beside it. What the onset model is and
        what it is fitted on is the section's introduction's to say, once, not each unit's.
    calibration : mapping, optional
        :func:`calibration_clauses` of the study's onset backtest: the clause of the unit's
        history is added to every quiet unit's sentence that quotes a probability.

    Returns
    -------
    list of str
        In the order of ``region_ids``; a unit neither quiet nor in ``risk`` gets none.
    """
    paths = risk.regions.set_index("region_id")
    quiet = onset.units.set_index("region_id") if onset is not None else pd.DataFrame()
    diff = contrast.regions.set_index("region_id") if contrast is not None else None
    focus = focus_names(contrast) if contrast is not None else ""
    out = []
    for r in region_ids:
        if r in quiet.index:
            q = quiet.loc[r]
            name = f"{q['region_name']} ({q['country']})"
            calibrated = (calibration or {}).get("never" if _never_active(q) else "before", "")
            pct = int(round(100 * onset.level))
            same_question = r in paths.index and int(risk.horizon) == int(onset.horizon)
            if headline and same_question:
                # One number per question: P(at least one event) is the report model's, as in
                # the tables and maps; the onset model, checked on this study's first events,
                # is its evidence here, not a second forecast beside it.
                p_report = float(paths.loc[r, "p_any"])
                low, high = float(q["p_onset_low"]), float(q["p_onset_high"])
                verdict = (
                    "within which the report model's value lies"
                    if low <= p_report <= high
                    else "outside which the report model's value lies: treat it with care"
                )
                head = (
                    f"{name} has had no event {_quiet_span(q, onset.quiet)}: P(at least one event "
                    f"within {onset.horizon} periods) {_pct(p_report)} in the report model"
                )
                trained = getattr(onset, "trained_on", None) or {}
                if r in from_onset and trained:
                    # the report model's quiet paths carry this very model's probability, so
                    # its interval is the number's uncertainty, not a second opinion; how and
                    # on what it was fitted is said once, in the section's introduction
                    text = (
                        f"{head}, from the onset model ({pct}% interval "
                        f"{_pct(low)}-{_pct(high)}, from its parameter uncertainty)"
                    )
                    if established:
                        text += (
                            "; the onset model beat every naive rule on this study's first events "
                            "by more than two standard errors"
                        )
                    if not low <= p_report <= high:
                        text += (
                            f"; the report model's {_pct(p_report)} lies outside that interval "
                            "(its paths are a sample): treat it with care"
                        )
                else:
                    checked = (
                        ", which beat every naive rule on this study's first events by more "
                        "than two standard errors,"
                        if established
                        else ""
                    )
                    text = (
                        f"{head}; the onset model{checked} gives {_pct(q['p_onset'])} ({pct}% "
                        f"interval {_pct(low)}-{_pct(high)}), {verdict}"
                    )
                if not established:
                    text += (
                        "; the onset model's edge over the naive rules on this study's first "
                        "events is not established (a lower Brier score, but by less than two "
                        "standard errors against at least one of them)"
                    )
                text += calibrated
            elif headline:
                text = (
                    f"{name} has had no event {_quiet_span(q, onset.quiet)}: P(first event within "
                    f"{onset.horizon} periods) {_pct(q['p_onset'])} ({pct}% interval "
                    f"{_pct(q['p_onset_low'])}-{_pct(q['p_onset_high'])})"
                ) + calibrated
            else:
                text = (
                    f"{name} has had no event {_quiet_span(q, onset.quiet)}; the onset model's "
                    "probability of a first event is not headlined (see the onset evidence)"
                )
                trained = getattr(onset, "trained_on", None) or {}
                if r in from_onset and trained and r in paths.index:
                    # the tables and maps still show the report model's number: say where
                    # it comes from
                    text += (
                        "; the report model's P(at least one event) in the tables and maps, "
                        f"{_pct(float(paths.loc[r, 'p_any']))}, is that model's all the same"
                    )
            if diff is not None and r in diff.index:
                text += _share_clause(diff.loc[r], "p_any", focus, contrast.level)
            # each clause its own sentence: run together, Tillabéri's had 118 words
            out.append(as_sentences("", text) + ".")
        elif r in paths.index:
            a = paths.loc[r]
            name = f"{a['region_name']} ({a['country']})"
            # Without an onset model (no onset in the history) quiet and active units cannot
            # be told apart here, so the count is stated without calling the unit active.
            state = (
                "is already active (continued activity, not onset)"
                if onset is not None
                else "(no onset model for this study)"
            )
            text = (
                f"{name} {state}: expected "
                f"{a['expected']:.1f} events over the horizon (median {a['median']:.0f}, 90% "
                f"interval {a['expected_low']:.0f}-{a['expected_high']:.0f})"
            )
            if diff is not None and r in diff.index:
                text += _share_clause(diff.loc[r], "expected", focus, contrast.level)
            out.append(text + ".")
    return out


def own_onset_sentence(
    region_id: str,
    onset: Any,
    risk: Any,
    card: dict | None,
    *,
    from_onset: Collection[str] = (),
) -> str:
    """A quiet region's own onset sentence, for its report's summary: its probability of a
    first event, the onset model's interval and whether that model's edge over the naive rules
    is established, as :func:`onset_unit_sentences` gives it for a unit across the border
    (a quiet region's own report had quoted its probability with only the CRPS of the quiet
    group, where every outcome is almost always 0, and left the onset verdict to its
    neighbours' reports).

    Parameters
    ----------
    region_id : str
    onset : analysis.models.onset_forecast.OnsetForecast or None
    risk : analysis.models.risk.PathRisk
    card : dict or None
        :func:`analysis.models.onset_backtest.study_onset_backtest`'s result.
    from_onset : collection of str
        :attr:`analysis.report.context.StudyResults.onset_driven`.

    Returns
    -------
    str
        Empty when the region is not a quiet unit of the onset model.
    """
    if onset is None or region_id not in set(onset.units["region_id"]):
        return ""
    (sentence,) = onset_unit_sentences(
        [region_id],
        onset,
        risk,
        headline=onset_headlined(card),
        established=onset_edge_established(card),
        from_onset=from_onset,
        calibration=calibration_clauses(card),
    )
    return sentence


def silent_countries_sentence(
    panel: pd.DataFrame,
    targets: Collection[str],
    risk: Any = None,
    card: dict | None = None,
    where: str = ONSET_EVIDENCE_POINTER,
) -> str:
    """Target countries with no event of the study's selection anywhere in the panel, whose
    P(any) is therefore no extrapolation of their own history.

    A reader given "NER 16%" beside "BFA >99.9%" assumes both rest on events in the country;
    where none was ever recorded the probability comes from the quiet regions' rule alone (the
    onset model fitted on first events elsewhere, or the reference class), and says so.

    Parameters
    ----------
    panel : DataFrame
        The study panel (``country``, ``period``, ``events``).
    targets : collection of str
        The study's spillover target countries.
    risk : PathRisk, optional
        The report model's paths: the sentence then says that the country's P(any) combines
        its units' small chances, and names the largest (a reader of "NER 16%" would otherwise
        not know that no unit is above a few percent).
    card : dict, optional
        :func:`analysis.models.onset_backtest.study_onset_backtest`'s result: a second sentence
        then says how the quiet units' probabilities did against the naive rules on this
        study's past first events (:func:`quiet_probability_verdict`), so "NER 16%" is not
        read as a tested forecast where its edge over a base rate is not established.
    where : str
        Where those scores are (:func:`quiet_probability_verdict`); empty when the caller
        links to them after the sentence.

    Returns
    -------
    str
        Empty when every target country has an event in the panel.
    """
    if panel.empty or not targets:
        return ""
    events = panel.groupby("country")["events"].sum()
    silent = [c for c in targets if c in events.index and events[c] == 0]
    if not silent:
        return ""
    span = f"{panel['period'].min():%Y-%m} to {panel['period'].max():%Y-%m}"
    have, probability, own = (
        ("have", "their probabilities come", "their")
        if len(silent) > 1
        else ("has", "its probability comes", "its")
    )
    text = (
        f"{join_words(silent)} {have} no event of this selection in the study's data ({span}): "
        f"{probability} from the rule for quiet regions (first events elsewhere), not from "
        f"{own} own history"
    )
    verdict = f" {quiet_probability_verdict(card, where)}" if card is not None else ""
    if risk is None:
        return text + "." + verdict
    units = risk.regions[risk.regions["country"].isin(silent)]
    parts = []
    for country, rows in units.groupby("country", sort=False):
        top = rows.loc[rows["p_any"].idxmax()]
        record = country_record(card, country)
        parts.append(
            f"{country}'s probability combines {len(rows)} units' chances of "
            f"{format_probability(rows['p_any'].min())} to "
            f"{format_probability(rows['p_any'].max())}, the largest in {top['region_name']}"
            + (f"; {record}" if record else "")
        )
    return text + (f"; {'; '.join(parts)}." if parts else ".") + verdict


def quiet_probability_verdict(card: dict | None, where: str = ONSET_EVIDENCE_POINTER) -> str:
    """One sentence: how the quiet units' probabilities that the tables and maps show did
    against the naive rules on this study's past first events, for a reader who sees them
    outside the region reports (the overview's country probabilities), with where the scores
    are. The report model's own verdict is used when the backtest scored it, the onset
    model's otherwise.

    Parameters
    ----------
    card : dict or None
        :func:`analysis.models.onset_backtest.study_onset_backtest`'s result.
    where : str
        Where the scores are, in words; empty when the caller links to them after the
        sentence.

    Returns
    -------
    str
    """
    verdict = _quiet_verdict(card, f" {where}" if where else "")
    # these units are in countries without any event: their history is "never"
    found = _calibration(card, "never")
    if found is None:
        return verdict
    cal = found[1]
    direction = _calibration_direction(cal)
    # a lower Brier score ranks units usefully; it does not say the levels are right
    if direction:
        return (
            f"{verdict} For units {HISTORY_WORDS['never']}, their levels have run {direction} "
            f"on those events: {100 * cal['mean_probability']:.1f}% on average, where "
            f"{_events_of(cal)} were followed by a first event ({_gap_interval(cal)})."
        )
    return (
        f"{verdict} For units {HISTORY_WORDS['never']}, they averaged "
        f"{100 * cal['mean_probability']:.1f}% on those events, and {_events_of(cal)} were "
        "followed by a first event."
    )


def _quiet_verdict(card: dict | None, where: str) -> str:
    """:func:`quiet_probability_verdict`'s verdict on the Brier scores alone."""
    if not card or not card.get("available"):
        return f"These probabilities could not be checked on this study's past first events{where}."
    shown = card.get("report_model") or {}
    fields = shown if "beats" in shown else card
    lead = "On this study's past first events, these probabilities"
    if not fields.get("beats_naive"):
        from analysis.models.onset_backtest import RULE_NAMES

        lost = [RULE_NAMES.get(m, m) for m, ok in (fields.get("beats") or {}).items() if not ok]
        why = (
            f"did not beat {join_words(lost, 'or')}"
            if lost
            else "were scored on too few units with a first event to tell them from a naive rule"
        )
        return f"{lead} {why}{where}: they are not a tested forecast."
    if not fields.get("edge_established"):
        from analysis.models.onset_backtest import RULE_NAMES, _narrow

        margins = {
            m: (v["difference"], v["se"]) for m, v in (fields.get("brier_margin") or {}).items()
        }
        narrow = [RULE_NAMES.get(m, m) for m in _narrow(margins)]
        if narrow:
            # named: "not ... against all of them" could be read as "against none"
            return (
                f"{lead} had a lower Brier score than every naive rule, but by less than two "
                f"standard errors (clustered by unit and origin) against {join_words(narrow)}, so "
                f"their edge over {'it' if len(narrow) == 1 else 'them'} is not established{where}."
            )
        return (
            f"{lead} had a lower Brier score than every naive rule, but not by more than two "
            f"standard errors against all of them, so their edge over a naive rule such as the "
            f"base rate is not established{where}."
        )
    return (
        f"{lead} beat every naive rule by more than two standard errors (clustered by unit and "
        f"origin){where}."
    )


#: The region report's definition of the share attributable to the focus, shown in the
#: Spillover section of a focus region's report when it quotes the shares.
SHARE_PARAGRAPH = (
    "The **share attributable to the focus** (in the summary for each target country, in the "
    "next section for each unit across the border) comes from a second model, the "
    "endemic-epidemic spillover model (Held, Höhle and Hofmann 2005; methods appendix): the "
    "events it expects over the horizon if the focus's events continue, minus those it "
    "expects if they are silenced, as a share of the former, computed per parameter draw on "
    "common random numbers, with a 90% interval across draws; for a quiet unit, the same "
    "relative drop in its probability of at least one event. It is a what-if of that model, "
    "not a forecast, and only the share is quoted: every level shown is the report model's. "
    "The shares are quoted only because that model's forecasts beat the best baseline on "
    "this report's backtest (the sentence below the table)."
)


#: Endemic effects with which the spillover model's share intervals are not to be trusted: the
#: penalised region effects pull its neighbour weight 2-3 standard errors low, and on simulated
#: panels the shares' 90% intervals held the true shares in 0.33 of cases (0.93 with country
#: effects; benchmarks/spillover_intervals.py, docs/internals.md "Known limit: region-level
#: endemic effects").
UNCALIBRATED_SHARE_EFFECTS = ("region", "region_in_country")


def shares_uncalibrated(contrast: Any) -> bool:
    """Whether ``contrast`` comes from a spillover model whose share intervals are known not
    to hold (:data:`UNCALIBRATED_SHARE_EFFECTS`).

    Parameters
    ----------
    contrast : ScenarioContrast or None
        The study's focus scenarios.

    Returns
    -------
    bool
    """
    return getattr(contrast, "endemic_effects", None) in UNCALIBRATED_SHARE_EFFECTS


def shares_earned(evidence: StepEvidence | None, contrast: Any = None) -> bool:
    """Whether the reports may quote the spillover model's shares attributable to the focus.

    The share is that model's what-if, whose only check is its forecasts' backtest: the shares
    are quoted only where that backtest shows the model ahead of the best baseline (the 90%
    interval of its CRPS skill on the report's own backtest above 0, :func:`spillover_evidence`).
    A skill the interval cannot tell from 0 is no evidence either way, whichever its sign: the
    real JNIM study's -20.9% (90% interval -54.9% to +13.2%) and the demo's +10.7% (-20.3% to
    +41.8%) had both quoted shares beside the caveat that they "describe the model". Nor are
    they quoted from a model with region-level endemic effects, whatever its skill: their
    intervals would not hold (:func:`shares_uncalibrated`).

    Parameters
    ----------
    evidence : StepEvidence or None
        The spillover model's evidence for the focus regions.
    contrast : ScenarioContrast, optional
        The scenarios whose shares would be quoted (their model's endemic effects).

    Returns
    -------
    bool
    """
    ahead = evidence is not None and evidence.standing == "ahead"
    return ahead and not shares_uncalibrated(contrast)


def earned_contrast(contrast: Any, evidence: StepEvidence | None) -> Any:
    """``contrast`` where its shares may be quoted (:func:`shares_earned`), else None: what
    the sentences that would quote shares (:func:`attributable_sentence`,
    :func:`border_summary_parts`, :func:`onset_unit_sentences`) are given.

    Parameters
    ----------
    contrast : ScenarioContrast or None
        The study's focus scenarios.
    evidence : StepEvidence or None
        The spillover model's evidence for the focus regions (:func:`spillover_evidence`).

    Returns
    -------
    ScenarioContrast or None
    """
    return contrast if contrast is not None and shares_earned(evidence, contrast) else None


def share_sentence(
    contrast: Any,
    targets: list[str] | None,
    evidence: StepEvidence | None,
    *,
    where: str,
    reference: StepEvidence | None = None,
) -> str | None:
    """The shares attributable to the focus where they are earned
    (:func:`attributable_sentence`), else the sentence saying none is attributed
    (:func:`withheld_shares_sentence`, with the report model's ``reference`` evidence beside
    the spillover model's); None without scenarios.

    Parameters
    ----------
    contrast : ScenarioContrast or None
        The study's focus scenarios.
    targets : list of str or None
        Country codes to quote (all of the contrast's without them).
    evidence : StepEvidence or None
        The spillover model's evidence for the focus regions (:func:`spillover_evidence`).
    where : str
        The backtest the evidence comes from, as the sentence names it.
    reference : StepEvidence, optional
        The report model's evidence on the same backtest, steps and regions.

    Returns
    -------
    str or None
        None without ``contrast``, or when :func:`attributable_sentence` gives None.
    """
    if contrast is None:
        return None
    if shares_earned(evidence, contrast):
        return attributable_sentence(contrast, targets, evidence=evidence)
    return withheld_shares_sentence(contrast, evidence, where=where, reference=reference)


def study_shares(
    shared: Any, targets: list[str] | None, *, where: str
) -> tuple[str | None, StepEvidence | None]:
    """A study's sentence on the shares attributable to its focus (:func:`share_sentence`) and
    the spillover model's evidence on the focus regions it rests on, with the report model's
    beside it: what the overview says, and the ``spillover`` command with the study's settings.

    Parameters
    ----------
    shared : analysis.report.context.StudyResults
    targets : list of str or None
        Country codes to quote.
    where : str
        The backtest the evidence comes from, as the sentence names it.

    Returns
    -------
    tuple
        The sentence (None without scenarios) and the evidence (None without it).
    """
    scores = shared.backtest.scores
    evidence = spillover_evidence(shared.scorecard, "focus", scores=scores)
    reference = spillover_evidence(shared.scorecard, "focus", shared.evidence_model, scores=scores)
    sentence = share_sentence(shared.scenarios, targets, evidence, where=where, reference=reference)
    return sentence, evidence


def withheld_shares_sentence(
    contrast: Any,
    evidence: StepEvidence | None,
    *,
    where: str = "the reports' backtest",
    reference: StepEvidence | None = None,
    unscored: str = "",
) -> str:
    """What the reports say instead of the shares when :func:`shares_earned` is False.

    Parameters
    ----------
    contrast : analysis.models.spillover_scenarios.ScenarioContrast
        The scenarios whose shares are withheld (for the focus regions' names).
    evidence : StepEvidence or None
        The spillover model's evidence for the focus regions.
    where : str
        The backtest the evidence comes from, as the sentence names it.
    reference : StepEvidence, optional
        The report model's evidence on the same backtest, steps and regions
        (:func:`spillover_evidence` with its name), put beside the spillover model's: in the
        demo the withheld model scored +10.7% where the report model scored +1.2%, and a
        reviewer read the silence on it as a double standard.
    unscored : str
        Why the spillover model is not in the backtest
        (:attr:`analysis.report.context.StudyResults.spillover_unscored`), if it is not.

    Returns
    -------
    str
    """
    lead = f"No share of the events across the border is attributed to {focus_names(contrast)}"
    if evidence is None:
        why = (
            " (it could not be fitted at every origin of the backtest: "
            f"{unscored.removeprefix('spillover model: ').rstrip('.')})"
            if unscored
            else ""
        )
        return (
            f"{lead}: the spillover model that would attribute them has no backtest here{why}, "
            "so its what-if has nothing to stand on."
        )
    if evidence.standing == "ahead" and shares_uncalibrated(contrast):
        return (
            f"{lead}: the spillover model that would attribute them is ahead of the best "
            f"baseline ({evidence.baseline}) over steps {evidence.steps} of {where} (CRPS skill "
            f"{skill_words(evidence)}), but it has region-level endemic effects, with which its "
            "shares' intervals held the true shares in a third of simulated cases (the methods "
            "appendix's known limits): a share with such an interval would claim more than the "
            "model can support."
        )
    verdict = "behind it" if evidence.standing == "behind" else "not distinguishable from it"
    beside = ""
    if reference is not None and reference.baseline == evidence.baseline:
        # the same baseline, so the two skills are on one scale
        beside = (
            f"; the report model's, at the same steps and regions against the same baseline, is "
            f"{skill_words(reference)}{reference.within_uncertainty}"
        )
    return (
        f"{lead}: the spillover model that would attribute them is not shown better than the "
        f"best baseline ({evidence.baseline}) over steps {evidence.steps} of {where}, scored "
        f"in {focus_names(contrast)} alone: its "
        f"CRPS skill is {skill_words(evidence)}, {verdict}{beside} (the methods appendix "
        "scores both by group). How it splits a region's events between its own past and its "
        "neighbours would describe that model, not evidence that events will spread. The "
        "report's forecasts, which must come from some model, come from auto whatever its "
        "edge (its evidence is beside them); a split into causes is a further claim, made "
        "only where its model has earned it."
    )


def attributable_sentence(
    contrast: Any,
    targets: list[str] | None = None,
    *,
    evidence: StepEvidence | None = None,
    defined_in: str | None = None,
) -> str | None:
    """Share of the events the spillover model expects in each target country that is
    attributable to the focus regions: continue minus silenced over continue, on the country
    sums, per parameter draw on common random numbers, with its interval across draws.

    Only the share is quoted: the spillover model's own expected counts would be a second
    forecast beside the report model's.

    Parameters
    ----------
    contrast : analysis.models.spillover_scenarios.ScenarioContrast or None
    targets : list of str, optional
        Country codes to quote (all of the contrast's without them).
    evidence : StepEvidence, optional
        The spillover model's own backtest (:func:`spillover_evidence`): unless it shows the
        model ahead of the best baseline (:func:`shares_earned`), no share is quoted.
    defined_in : str, optional
        Where the report defines the share (e.g. ``"the Spillover section"``): the sentence
        points there instead of defining it (:data:`SHARE_DEFINITION`).

    Returns
    -------
    str or None
        None without a contrast, a target country with a share, or shares earned.
    """
    if contrast is None or (evidence is not None and not shares_earned(evidence, contrast)):
        return None
    c = contrast.countries
    if targets:
        c = c[c["country"].isin(list(targets))]
    if "expected_share" in c.columns:
        c = c[c["expected_share"].notna()]
    if c.empty or "expected_share" not in c.columns:
        return None
    focus = focus_names(contrast)
    pct = int(round(100 * contrast.level))
    parts = "; ".join(
        f"{r.country} {_pct(r.expected_share)} ({pct}% interval {_pct(r.expected_share_low)}-"
        f"{_pct(r.expected_share_high)})"
        for r in c.itertuples()
    )
    what = f"defined in {defined_in}" if defined_in else SHARE_DEFINITION
    text = (
        f"Share of the events the spillover model expects over the next {contrast.horizon} "
        f"periods that is attributable to {focus} ({what}): {parts}."
    )
    return text


#: The section on the units across the border (quiet ones, and active ones where the shares
#: attributable to the focus are quoted) and the one on the onset model's evidence; region
#: reports link to them by these titles' anchors.
ACROSS_SECTION = "Across the border"
#: How quiet units get their probability, in a report that shows one.
QUIET_SECTION = "Quiet units"
ONSET_EVIDENCE_SECTION = "Evidence for the onset probabilities"

#: How quiet units get their probability, said once in a report that shows one.
QUIET_UNITS_PARAGRAPH = (
    "Quiet units get the probability of at least one event (for them, a **first event**) "
    "within the horizon from the report model's paths, as in the tables and maps. A unit's own "
    "silent past says little about how conflict reaches it, so those paths take their "
    "probability from the **onset model**: a penalised binary regression on neighbourhood, "
    "country and history features, fitted on every unit of the countries the data files "
    "cover, which can be more than this study's units (one study holds few first events to "
    "learn from); its interval carries parameter uncertainty. A quiet unit has an event in the "
    "share of its paths that the onset model gives, whatever its backtest says, each such path "
    "replaying what followed an observed first event. Where the onset model cannot be fitted, "
    "units other than the focus with no event in the last year are forecast half by the "
    "report model's chosen candidate and half by the reference class (what followed, at the 36 "
    "latest origins whose outcomes are known, in units that were as quiet, beside fighting or "
    "not as the unit is now)."
)

#: What a quiet unit's sentence quotes, said once above those sentences.
QUIET_SENTENCE_PARAGRAPH = (
    "A quiet unit's sentence quotes the onset model's interval (or, where the paths do not come "
    "from it, its probability beside theirs as a check) only when it had a lower Brier score "
    "than every naive rule on this study's own first events, and says whether that edge is "
    "established (more than two standard errors) or not; otherwise it says the onset "
    "probability is not headlined."
)


#: What the onset evidence scores, above its sentence, table and figure.
ONSET_EVIDENCE_PARAGRAPH = (
    "The report model (here `auto` refitted with the candidates it chose on the whole history, "
    "since choosing afresh at each of these many origins costs too much, so its score may "
    'flatter it a little), the onset model and the naive rules (base rate; a calibrated "a '
    'neighbour had an event" rule; decay with adjacency distance to the nearest active unit), '
    "refitted at rolling origins inside this study's history (the onset model, and the plain "
    "logistic regression that is the onset model without its penalty, on every covered unit's "
    "rows whose outcome had ended by then; the naive rules on this study's own) and scored on "
    "the quiet units' first events. A forecast is one quiet unit at one origin; origins are "
    "closer together than the horizon, so one first event can follow the forecasts of several "
    "origins, and forecasts followed by a first event outnumber the units that had one. The "
    "Brier and log scores (mean negative log probability of what happened) are proper scores, "
    "lower is better; ROC AUC says how well the units are ranked, not whether the "
    "probabilities are right."
)

ONSET_RELIABILITY_CAPTION = (
    "Reliability of the onset model's backtest forecasts on this study's history: mean "
    "forecast P(first event within the horizon) against the share of quiet units that had "
    "one, per probability bin; on the dashed line forecasts are calibrated."
)


def unit_names(region_ids: Collection[str], risk: Any) -> str:
    """The units as "Name (country)", joined in words, from the report model's paths.

    Parameters
    ----------
    region_ids : collection of str
        The units, in the order named; each must be in ``risk.regions``.
    risk : PathRisk
        The report model's risk (its ``regions`` frame gives names and countries).

    Returns
    -------
    str
    """
    rows = risk.regions.set_index("region_id")
    return join_words(
        [f"{rows.loc[r, 'region_name']} ({rows.loc[r, 'country']})" for r in region_ids]
    )


#: The country-level rules, as the country sentence names them.
COUNTRY_RULE_NAMES = {
    "country_base_rate": "the country base rate (the share of earlier country-origins with one)",
    "base_rate": "the base rate",
    "neighbour_rule": "the neighbour rule",
    "distance_decay": "distance decay",
}


def country_evidence_sentence(card: dict | None) -> str:
    """How the chance of a first event in any of a country's quiet units, the number the
    overview states per target country, did on the study's past origins against the country
    base rate and the unit rules combined over a country's units
    (:func:`analysis.models.onset_backtest.country_onset_scorecard`); empty without country
    forecasts.

    The unit scores do not judge it: a country's chance combines its units' (from the report
    model's paths), and the overview's "NER 16%" had no record of its own.

    Parameters
    ----------
    card : dict or None
        :func:`analysis.models.onset_backtest.study_onset_backtest`'s result.

    Returns
    -------
    str
    """
    country = (card or {}).get("country") or {}
    if not country.get("n_forecasts"):
        return ""
    ref = country["reference"]
    who = "the report model's" if ref == "report_model" else "the onset model's"
    scores = country["methods"]
    rules = [m for m in COUNTRY_RULE_NAMES if m in scores]
    units = [m for m in rules if m != "country_base_rate"]
    against = []
    if "country_base_rate" in rules:
        against.append(
            f"{scores['country_base_rate']['brier']:.3f} for "
            f"{COUNTRY_RULE_NAMES['country_base_rate']}"
        )
    if units:
        combined = join_words(
            f"{scores[m]['brier']:.3f} for {COUNTRY_RULE_NAMES[m]}" for m in units
        )
        against.append(f"combined over a country's units, {combined}")
    verdict = _country_verdict(country)
    return (
        "At the country level (the chance of a first event in any of a country's quiet units, "
        f"as the overview states it for each target country), {who} probabilities had a Brier "
        f"score of {scores[ref]['brier']:.3f} on {country['n_forecasts']} country forecasts at "
        f"{country['n_origins']} origins ({country['n_onsets']} followed by a first event), "
        f"against {'; and, '.join(against)}: {verdict}. The forecasts of "
        f"{len(country['by_country'])} countries are few, and one country's at successive "
        "origins are not independent."
    )


def _country_verdict(country: dict) -> str:
    """The country chances' verdict (:func:`analysis.models.onset_backtest.
    country_onset_scorecard`) in words: too few first events, not lower than some rules,
    lower but within two standard errors of some, or lower than each by more."""
    from analysis.models.onset_backtest import MIN_STUDY_ONSETS

    short = {m: name.split(" (")[0] for m, name in COUNTRY_RULE_NAMES.items()}
    if not country.get("enough"):
        return (
            f"with fewer than {MIN_STUDY_ONSETS} country forecasts followed by a first event, "
            "too few to judge"
        )
    if country["behind"]:
        return f"not lower than {join_words(short[m] for m in country['behind'])}"
    if country["narrow"]:
        return (
            "lower than each naive rule, but by less than two standard errors against "
            f"{join_words(short[m] for m in country['narrow'])}"
        )
    return "lower than each naive rule by more than two standard errors (clustered by origin)"


def country_verdict_sentence(card: dict | None) -> str:
    """The overview's one sentence, after its country probabilities, on how such
    probabilities did on the study's past origins (:func:`country_evidence_sentence` has the
    numbers); empty without country forecasts.

    On the demo they did worse than the country base rate (Brier 0.304 against 0.245) while
    the overview stated "MRT" and "SEN" probabilities with no word of it.

    Parameters
    ----------
    card : dict or None
        :func:`analysis.models.onset_backtest.study_onset_backtest`'s result.

    Returns
    -------
    str
    """
    country = (card or {}).get("country") or {}
    if not country.get("n_forecasts"):
        return ""
    scores = country["methods"]
    ref = scores[country["reference"]]["brier"]
    base = scores.get("country_base_rate", {}).get("brier")
    against = f" against {base:.3f} for the country base rate" if base is not None else ""
    return (
        "On this study's past origins, the chance of a first event in any of a country's quiet "
        "units (what the probability above is for a country without events yet; scored for "
        f"every country of the study) had a Brier score of {ref:.3f}{against}: "
        f"{_country_verdict(country)}."
    )


def country_record(card: dict | None, country: str) -> str:
    """One country's record on the study's past origins, for the overview's sentence on its
    probability: "over this study's past origins such a probability for NER averaged 16% at
    15 origins, and none was followed by a first event"; empty without it.

    Parameters
    ----------
    card : dict or None
        :func:`analysis.models.onset_backtest.study_onset_backtest`'s result.
    country : str
        The country's code, as the panel's ``country`` column gives it (``NER``).

    Returns
    -------
    str
        A clause without a capital or a full stop.
    """
    found = ((card or {}).get("country") or {}).get("by_country", {}).get(country)
    if not found:
        return ""
    k, n = found["onsets"], found["forecasts"]
    followed = (
        "none was followed by a first event"
        if k == 0
        else f"{k} of them were followed by a first event"
    )
    return (
        f"over this study's past origins such a probability for {country} averaged "
        f"{format_probability(found['mean_probability'])} at {n} origins, and {followed}"
    )


def show_onset_evidence(card: dict | None, reason: str, reliability: Any) -> None:
    """Display the onset evidence: what it scores, its verdict and, when the backtest ran, its
    table and reliability figure. The methods appendix shows it once for the study, a region
    report again where it shows a quiet unit.

    Parameters
    ----------
    card : dict or None
        :func:`analysis.models.onset_backtest.study_onset_backtest`'s result.
    reason : str
        Why there is no onset model, when there is none.
    reliability : callable
        Returns the reliability figure (drawn once a study); called only when it is shown.
    """
    from analysis.report import show

    show.markdown(ONSET_EVIDENCE_PARAGRAPH)
    show.markdown("{sentence}", sentence=onset_evidence_sentence(card, reason))
    if card and card.get("available"):
        show.score_table(onset_scorecard_table(card))
        country = country_evidence_sentence(card)
        if country:
            show.markdown("{sentence}", sentence=country)
        show.figure(reliability(), ONSET_RELIABILITY_CAPTION)


def quiet_map_note(onset: Any, evidence_here: bool) -> str:
    """The end of a P(at least one event) map's caption: where quiet units' probabilities come
    from and where their evidence is (the report's own subsection, or the methods appendix);
    empty without an onset model.

    Parameters
    ----------
    onset : analysis.models.onset_forecast.OnsetForecast or None
        :attr:`analysis.report.context.StudyResults.onset`.
    evidence_here : bool
        Whether the report shows the onset evidence in its own subsection.

    Returns
    -------
    str
        Starting with a space.
    """
    if onset is None:
        return ""
    where = (
        f"{ONSET_EVIDENCE_SECTION}, below"
        if evidence_here
        else "the methods appendix's Onset evidence"
    )
    return f" Quiet units take theirs from the onset model (its evidence: {where})."


def quiet_units(onset: Any, region_ids: Collection[str]) -> list[str]:
    """The given units that are quiet units of the onset model, in the given order.

    A report that shows none of them shows no probability that the onset model gives, and
    needs neither its method nor its evidence.

    Parameters
    ----------
    onset : analysis.models.onset_forecast.OnsetForecast or None
    region_ids : collection of str

    Returns
    -------
    list of str
        Empty without an onset model.
    """
    if onset is None:
        return []
    quiet = set(onset.units["region_id"])
    return list(dict.fromkeys(r for r in region_ids if r in quiet))


def units_to_describe(
    region_ids: list[str],
    onset: Any,
    *,
    tabled: Collection[str] = (),
    contrast: Any = None,
) -> list[str]:
    """The units across the border that need a sentence of their own.

    Quiet units do (their first-event probability and its check); an active unit only where
    its sentence adds to the Spillover table's row: a share attributable to the focus, or a
    unit the table does not list. Otherwise the sentence restated the row (expected count,
    median and 90% interval) a few lines below it.

    Parameters
    ----------
    region_ids : list of str
        The units across the border (:func:`cross_border_units`).
    onset : analysis.models.onset_forecast.OnsetForecast or None
        Without it quiet and active units cannot be told apart, and every unit is described.
    tabled : collection of str
        The units of the report's Spillover table.
    contrast : analysis.models.spillover_scenarios.ScenarioContrast, optional
        The shares, when the report quotes them.

    Returns
    -------
    list of str
    """
    if onset is None:
        return list(region_ids)
    quiet = set(quiet_units(onset, region_ids))
    shared = set(contrast.regions["region_id"]) if contrast is not None else set()
    listed = set(tabled)
    return [r for r in region_ids if r in quiet or r in shared or r not in listed]


def border_summary_parts(
    region_ids: list[str],
    onset: Any,
    risk: Any,
    contrast: Any = None,
    *,
    described: Collection[str] | None = None,
) -> list[tuple[str, str]]:
    """The summary's words on the units across the border: which are already active and which
    quiet, with the numbers left to where each unit's are, which the caller links after each
    part.

    Parameters
    ----------
    region_ids : list of str
        The units (:func:`cross_border_units`).
    onset : analysis.models.onset_forecast.OnsetForecast or None
        Its quiet units are the quiet ones; without it units are not told apart.
    risk : analysis.models.risk.PathRisk
        Names and countries of the other units.
    contrast : analysis.models.spillover_scenarios.ScenarioContrast, optional
        Given when the section quotes the shares attributable to the focus regions.
    described : collection of str, optional
        The units that get a sentence in the section :data:`ACROSS_SECTION`
        (:func:`units_to_describe`); the others' numbers are the Spillover table's. All of
        them when not given.

    Returns
    -------
    list of (str, str)
        Each part ends with "is in" or "are in", followed by where: ``"table"`` (the
        Spillover table), ``"section"`` (:data:`ACROSS_SECTION`) or ``"section_quiet"``
        (that section, for a part with quiet units, whose evidence is in the subsection
        :data:`ONSET_EVIDENCE_SECTION` after it, which the caller links too). Empty without
        units.
    """
    described = set(region_ids if described is None else described)
    paths = risk.regions.set_index("region_id")
    quiet_ids = set(onset.units["region_id"]) if onset is not None else set()
    units = onset.units.set_index("region_id") if onset is not None else None
    groups: dict[str, dict[str, list[str]]] = {
        where: {"quiet": [], "never": [], "active": []} for where in ("table", "section")
    }
    spans: dict[str, str] = {}
    for r in region_ids:
        where = "section" if r in described else "table"
        if r in quiet_ids:
            row = units.loc[r]
            # as the unit's own sentence says it: none in the window, or none in the data
            state = "never" if _never_active(row) else "quiet"
            groups[where][state].append(f"{row['region_name']} ({row['country']})")
            spans[f"{row['region_name']} ({row['country']})"] = _quiet_span(row, onset.quiet)
        elif r in paths.index:
            groups[where]["active"].append(
                f"{paths.loc[r, 'region_name']} ({paths.loc[r, 'country']})"
            )
    parts = []
    for where in ("table", "section"):
        quiet, never, active = (groups[where][k] for k in ("quiet", "never", "active"))
        if not (quiet or never or active):
            continue
        opening = "Across the border, " if not parts else "Also across the border, "
        if onset is None:
            head = opening + join_words(active)
        else:
            said = []
            if active:
                verb = "is" if len(active) == 1 else "are"
                said.append(f"{join_words(active)} {verb} already active")
            if quiet:
                # one unit's own span ("in the 24 periods since 2022-12"); several share the
                # window, the least they all have in common
                span = spans[quiet[0]] if len(quiet) == 1 else f"in {onset.quiet} periods or more"
                verb = "has" if len(quiet) == 1 else "have"
                said.append(f"{join_words(quiet)} {verb} had no event {span}")
            if never:
                verb = "has" if len(never) == 1 else "have"
                said.append(f"{join_words(never)} {verb} had no event in the study's data")
            head = opening + ", and ".join(said)
        one = len(quiet) + len(never) + len(active) == 1
        what = ["its forecast" if one else "their forecasts"]
        if where == "section" and contrast is not None:
            what.append(f"the share{'' if one else 's'} attributable to {focus_names(contrast)}")
        verb = "is" if what == ["its forecast"] else "are"
        # the onset evidence has its own subsection after the units' one: the caller links it
        kind = "section_quiet" if where == "section" and (quiet or never) else where
        parts.append((f"{head}: {join_words(what)} {verb} in", kind))
    return parts


def spillover_evidence(
    card: dict[str, Any] | None,
    group: str,
    spillover: str = "spillover",
    scores: pd.DataFrame | None = None,
) -> StepEvidence | None:
    """The spillover model's own evidence on the report's backtest (same origins, steps and
    group of regions as the report model's): pooled skill against the group's best baseline,
    with its interval when the per-forecast ``scores`` are given
    (:func:`analysis.report.region_text.step_evidence`).

    Parameters
    ----------
    card : dict or None
        :func:`analysis.evaluation.scorecard` of the study's evidence backtest, which includes
        the spillover model as the study chose it.
    group : str
        The region's group (focus, active or quiet).
    spillover : str
        The spillover model's name in the card.
    scores : DataFrame, optional
        The backtest's per-forecast scores.

    Returns
    -------
    StepEvidence or None
        None without rows for the spillover model in this group, or without a skill (a group
        whose baseline CRPS is 0).
    """
    if not card:
        return None
    table = evidence_table(card, spillover, group)
    ev = step_evidence(table, scores, spillover, group) if not table.empty else None
    return ev if ev is not None and np.isfinite(ev.skill) else None


def spillover_evidence_sentence(
    card: dict[str, Any] | None,
    group: str,
    report_model: str,
    spillover: str = "spillover",
    scores: pd.DataFrame | None = None,
    evidence: StepEvidence | None = None,
) -> str:
    """The evidence behind the spillover shares: the spillover model's CRPS skill against the
    best baseline on the report's own backtest (:func:`spillover_evidence`), beside the report
    model's (pooled the same way; its interval is in the Evidence section).

    Parameters
    ----------
    card : dict or None
        :func:`analysis.evaluation.scorecard` of the study's evidence backtest.
    group : str
        The region's group (focus, active or quiet).
    report_model : str
        The name in the card of the model the report's forecasts come from.
    spillover : str
        The spillover model's name in the card.
    scores : DataFrame, optional
        The backtest's per-forecast scores, for the interval of the skill.
    evidence : StepEvidence, optional
        :func:`spillover_evidence` of the same arguments, when the caller already has it.

    Returns
    -------
    str
        Empty when the card has no rows for the spillover model in this group.
    """
    ev = evidence if evidence is not None else spillover_evidence(card, group, spillover, scores)
    if ev is None:
        return ""
    skill = ev.skill
    text = (
        f"Evidence for the spillover model behind the shares: over steps {ev.steps} of this "
        f"report's backtest ({ev.outcomes} outcomes in the {group} regions), "
        f"its CRPS is {abs(100 * skill):.1f}% {'below' if skill >= 0 else 'above'} the best "
        f"baseline's ({ev.baseline}), a CRPS skill of {skill_words(ev)}"
    )
    text += ev.within_uncertainty
    own = evidence_table(card, report_model, group)
    mine = evidence_skill(own) if not own.empty else math.nan
    if np.isfinite(mine):
        text += (
            f"; the report model's is {abs(100 * mine):.1f}% {'below' if mine >= 0 else 'above'}"
        )
    # the score tests the model's forecasts, not how it splits them between a region's own
    # past and its neighbours: say so either way
    if ev.standing != "ahead":
        how = {"behind": "forecasts worse than",
               "unclear": "does not beat" if skill < 0 else "is not distinguishable from"}[
            ev.standing
        ]  # fmt: skip
        return (
            text + f". It {how} a baseline here, so its shares say how that model spreads "
            "events, not that they will spread."
        )
    return (
        text + ". This scores its forecasts, not its split of them between a region's own past "
        "and its neighbours; the shares remain that model's reading."
    )


ONSET_METHODS = {
    "report_model": "report model (the probabilities shown)",
    "onset_model": "onset model",
    "plain_logistic": "plain logistic regression (the onset model's features, no penalty)",
    "base_rate": "base rate",
    "neighbour_rule": "neighbour rule",
    "distance_decay": "distance decay",
}


#: The onset table's column of Brier differences with their standard errors.
ONSET_GAP_COLUMN = (
    "Brier minus the onset model's (standard error, clustered by unit and origin; above 0: the "
    "onset model is better)"
)


def onset_scorecard_table(card: dict) -> pd.DataFrame:
    """Brier score, the onset model's Brier skill against each method, the Brier difference
    with its standard error clustered by unit and origin, the log score (both proper; the log
    score punishes a confident miss, distance decay's near-zero probabilities) and ROC AUC (a
    ranking, not a score of the probabilities), one row per method of a study onset backtest.

    The difference is what says whether an edge is more than noise (the reports call it
    established beyond two standard errors), so the table shows its error beside it.

    Parameters
    ----------
    card : dict
        An available :func:`analysis.models.onset_backtest.study_onset_backtest` result (with
        ``methods``).

    Returns
    -------
    DataFrame
        One row per method of :data:`ONSET_METHODS` that the card scored, in that order.
    """
    skill = card.get("onset_model_brier_skill_vs", {})
    margins = card.get("onset_model_brier_margin_vs", {})
    return pd.DataFrame(
        [
            {
                "method": label,
                "Brier": card["methods"][m]["brier"],
                "onset model's Brier skill over this method": skill.get(m, float("nan")),
                ONSET_GAP_COLUMN: _gap_with_error(margins.get(m)),
                "log score": card["methods"][m].get("log_score", float("nan")),
                "ROC AUC": card["methods"][m]["auc"],
            }
            for m, label in ONSET_METHODS.items()
            if m in card["methods"]
        ]
    )


def _gap_with_error(margin: dict | None) -> str:
    """``+0.019 (0.008)``; blank for the onset model itself (or an older card without it)."""
    if not margin or not np.isfinite(margin.get("difference", np.nan)):
        return ""
    d, se = margin["difference"], margin.get("se", np.nan)
    # a gap below the Brier scores' printed precision keeps its sign, and its error the
    # same precision
    shown = format_difference(d)
    digits = len(shown.split(".")[1]) if "." in shown else 3
    error = f"{se:.{digits}f}" if np.isfinite(se) else "no error: one unit"
    return f"{shown} ({error})"
