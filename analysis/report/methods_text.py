"""The methods appendix's model list, backtest sentences and tables."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.formatting import (
    SKILL_INTERVAL_COLUMN,
    format_difference,
    format_p_value,
    format_skill,
    format_skill_interval,
    join_words,
    period_unit,
)

#: Forecasters scored in the methods appendix: every model a report can use (``auto`` and the
#: spillover model as configured, the candidates ``auto`` chooses among and the models inside
#: them) and the baseline ladder.
METHOD_MODELS = (
    "auto",
    "spillover",
    "ensemble_trend",
    "ensemble_local",
    "ensemble_climatology",
    "ensemble_climatology36",
    "ensemble_climatology36_heavy",
    "damped_trend",
    "local_level",
    "conflictology",
    "nb_climatology",
    "recent_mean_6",
    "recent_mean_3",
    "last_value",
    "zero",
)

#: What each scored model assumes: (names, title, Markdown text) in the order the appendix
#: lists them. :func:`models_markdown` shows an entry only when the appendix scores one of its
#: names, so the list never describes a model the tables do not score. The texts are templates
#: of the study's period words (:func:`_period_words`): the models count periods, which a
#: quarterly study's appendix had called months.
MODEL_DESCRIPTIONS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (
        ("auto",),
        "Automatic choice, the model of every report forecast",
        "at each forecast origin, picks among the five mixtures below by rolling-origin fair "
        "CRPS on the history before that origin only, once for the focus regions and once for "
        "the other active regions, and for each block of steps of the forecast horizon (1-3, "
        "4-6, 7-9, then the rest) on its own, "
        "preferring the simpler when the difference is within two Monte Carlo standard errors "
        "(the noise of its sampled paths only: which inner origins happened to be scored is a "
        "larger noise, which this rule does not cover); "
        "its spread is calibrated on the same inner forecasts, and its paths take the local "
        "level's dependence across {periods} (each {period}'s distribution unchanged), so "
        "totals over several {periods} get their spread. Regions with no event in the study's "
        "quiet window (a year unless the study sets another; the region reports give it), the "
        "focus region included, have an event within the horizon in the share of paths the "
        "onset model gives, fitted on every unit of the countries the data files cover, each "
        "such path the observed continuation of a real first event; where the onset model "
        "cannot be fitted, regions other than the focus with no event in the last year are "
        "forecast half by that choice and half by the reference class: the next periods of "
        "every region that was as quiet at one of the 36 latest origins whose outcomes are "
        "known, beside an active neighbour or not as the region is now. The "
        "choice and its evidence are in the JSON of `conflict-trends forecast --json`.",
    ),
    (
        ("spillover",),
        "Endemic-epidemic spillover model (Held, Höhle and Hofmann 2005)",
        "expected count = endemic level and trend + share of own last counts + share of "
        "neighbours' last counts; negative-binomial. Endemic levels are random effects per "
        "country or per region nested in its country, and the focus trend is damped beyond "
        "the last {period}; both are chosen by rolling-origin CRPS. Neighbours' counts reach a "
        "region one period later, with weights that fall as a power (estimated) of the number "
        "of borders between the two regions, up to five, and an estimated factor across "
        "international borders; the endemic level also depends on whether the region had an "
        "event in the last year. The reports would quote it only for the share of events "
        "attributable to the focus, and quote that only where its backtest shows it ahead of "
        "the best baseline (their Spillover sections say whether it does).",
    ),
    (
        (
            "ensemble_local",
            "ensemble_climatology",
            "ensemble_trend",
            "ensemble_climatology36",
            "ensemble_climatology36_heavy",
        ),
        "Mixtures (auto's candidates)",
        "mixtures of the local level (or the damped trend), the recent 6-{period} mean "
        "and conflictology in equal parts; `ensemble_climatology` adds the negative-binomial "
        "climatology as a fourth equal member; `ensemble_climatology36` and `_heavy` give the "
        "36-{period} negative-binomial climatology half and three quarters of the weight (the "
        "other three sharing the rest equally), for regions whose counts swing around a "
        "stable mean.",
    ),
    (
        ("damped_trend",),
        "Damped trend",
        "the local level with each region's growth rate (negative-binomial slope over three "
        "years, shrunk toward 0 by empirical Bayes) continued damped (its effect shrinks by a "
        "factor {damping}), so no trend is extrapolated without bound.",
    ),
    (
        ("local_level",),
        "Gamma-Poisson local level (Harvey and Fernandes 1989)",
        "pooled over regions, a level that drifts from {period} to {period}, overdispersed "
        "counts. Assumes tomorrow starts from a discounted average of the recent past; no "
        "trend, no spatial coupling.",
    ),
    (
        ("conflictology",),
        "Conflictology",
        "replays runs of the region's last 12 {periods}. Assumes the near future looks like "
        "the recent past; cannot extrapolate growth.",
    ),
    (
        ("nb_climatology",),
        "Negative-binomial climatology",
        "the region's last 24 {periods} as a negative binomial (their mean and dispersion).",
    ),
    (
        ("recent_mean_6", "recent_mean_3", "last_value", "zero"),
        "Naive baselines",
        "Poisson around the mean of the last 6 or 3 {periods} or around last {period}'s count, "
        "and no events at all: what any model must beat.",
    ),
)


#: The appendix's known limits, one bullet each: what the models the reports use do not see.
#: Each says which model it is about, since every level a report shows is the report model's
#: (``auto``'s paths, quiet units' from the onset model) and the spillover model gives only
#: the shares attributable to the focus. Templates of the period words, as
#: :data:`MODEL_DESCRIPTIONS`.
KNOWN_LIMITS: tuple[str, ...] = (
    "Counts depend on what the source records; reporting changes look like violence changes.",
    "Counts cover the study's actor selection only: events of other armed groups in the same "
    "regions are not counted, so a region's growth can reflect which groups the selection "
    "covers, or a group changing name or allegiance, as well as violence.",
    "Forecasts start from each region's level as a discounted average of its past {periods}, "
    "which lags a rising series, and continue a fitted trend only damped (its effect shrinks "
    "by a factor {damping}): growth that goes on is under-forecast, from the first {periods} "
    "on where the level lags, and shocks are not anticipated.",
    "Every expected count the reports show comes from one model, `auto` (quiet regions' "
    "chance of a first event from the onset model, as `auto` above says). For regions "
    "with recent events its candidates forecast each region from its own past (its level, "
    "recent mean and {replayed}; some settings are pooled over regions) with no term "
    "for neighbours' events: fighting next door does not raise a forecast, so violence moving "
    "into an active region is not anticipated.",
    "Quiet regions take their probability of a first event from the onset model where it can "
    "be fitted (`auto` above says how). It sees the neighbourhood through adjacency only "
    "(recent events in nearby units, weighted down with the number of borders between, and the "
    "number of borders to the nearest active unit), beside the country's and the whole panel's "
    "recent events and the unit's own history; distances in kilometres, roads, markets, border "
    "crossings and other armed groups' activity are not used. Its interval carries parameter "
    "uncertainty only.",
    "The backtest tables' CRPS is the sample estimator over each forecast's paths (200 in "
    "the reports' evidence), which adds about 1/400 of the mean absolute difference between "
    "two of its paths, more for wider forecasts; `auto` chooses by the fair CRPS, and "
    "`conflict-trends backtest --json` gives both.",
    "`auto` is backtested as the reports run it, its choice and calibration redone at every "
    "origin from the history before it; at the earliest origins that history holds few or no "
    "inner origins for the later blocks of steps (it then uses its simplest candidate, "
    "uncalibrated), so those scores are of a less-informed `auto` than a report's.",
    "The spillover model's two settings (country or region endemic effects, the focus "
    "trend's damping) are chosen once, by rolling-origin CRPS on the whole panel, and held at "
    "every origin of its backtest: the outcomes that backtest scores took part in that "
    "choice, which can only flatter it.",
    "Which countries the onset model learns from, and from when each counts as covered, are "
    "read from the data files' events up to the study's end, so its backtest at earlier "
    "origins knows of countries whose coverage began later.",
    "The shares attributable to the focus are a what-if of the spillover model, in which "
    "events spread along the same adjacency, one period at a time; they are not forecasts. "
    "They are quoted only where that model's own backtest on the focus regions shows it "
    "ahead of the best baseline; otherwise they would describe the model, not evidence that "
    "events will spread, and the reports say that no share is attributed. Their intervals "
    "carry parameter uncertainty only. On simulated panels their 90% intervals held the "
    "true share in 93% of cases where the model has country-level endemic effects, but in "
    "33% with region-level ones, whose neighbour weight came out 2-3 standard errors low: "
    "from a model with region-level effects the shares are not quoted.",
)


def _period_words(freq: str) -> dict[str, str]:
    """The fields of :data:`MODEL_DESCRIPTIONS`, :data:`KNOWN_LIMITS` and :data:`TERMS` for a
    study of ``freq`` (``month`` or ``quarter``).

    The damped trend's factor is per month of time whatever the panel
    (:class:`analysis.models.damped_trend.DampedTrendNB` raises it to the months a period
    holds), so a quarterly study is told the quarter's factor beside the month's.
    """
    from analysis.models.damped_trend import DampedTrendNB

    phi = DampedTrendNB.phi
    months = 1 if freq == "month" else 3  # a period's months: the power DampedTrendNB takes
    damping = f"{phi:g} a month"
    if months > 1:
        damping += f", {phi**months:.2f} a {period_unit(freq)}"
    return {
        "period": period_unit(freq),
        "periods": period_unit(freq, 2),
        "damping": damping,
        # conflictology replays the last 12 periods: a year of months, three of quarters
        "replayed": (
            "last year's months" if freq == "month" else f"the last 12 {period_unit(freq, 2)}"
        ),
    }


def known_limits_markdown(freq: str = "month") -> str:
    """The appendix's Known limits list (:data:`KNOWN_LIMITS`) as Markdown bullets.

    Parameters
    ----------
    freq : {"month", "quarter"}
        The study's frequency, whose periods the limits name.

    Returns
    -------
    str
        Markdown written here (a trusted template with no ``{fields}``).
    """
    words = _period_words(freq)
    return "\n".join(f"- {limit.format(**words)}" for limit in KNOWN_LIMITS)


#: The appendix's Terms: (term, plain words), one line each, in the order a reader meets them.
#: The region reports point here once instead of explaining each term where it is used.
TERMS: tuple[tuple[str, str], ...] = (
    (
        "CRPS",
        "continuous ranked probability score: how far a forecast's whole distribution was from "
        "what happened, in events; lower is better, 0 is a sure forecast that came true.",
    ),
    (
        "fair CRPS",
        "the CRPS of a forecast given as sample paths, corrected so that a forecast is not "
        "judged by how many paths it drew; `auto` compares its candidates with it.",
    ),
    (
        "CRPS skill against the best baseline",
        "1 minus the model's CRPS divided by the CRPS of the baseline that scored best on the "
        "same forecasts: 0.05 (+5%) means a CRPS 5% below that baseline's, below 0 worse.",
    ),
    (
        "randomised PIT",
        "where each outcome fell within its forecast distribution, between 0 and 1, with ties "
        "between whole counts broken at random; a calibrated forecast spreads them evenly.",
    ),
    (
        "coverage",
        "the share of outcomes inside the central 50%, 80%, 90% or 95% interval (from the "
        "randomised PIT, averaged over its tie-break); a calibrated forecast covers that "
        "share.",
    ),
    (
        "coverage in quiet regions",
        "says little: where almost every outcome is 0 even the zero baseline covers about 80%; "
        "the Brier score of P(any) says more.",
    ),
    ("zero", "baseline: no events, ever."),
    ("last_value", "baseline: Poisson counts around the last observed count."),
    (
        "recent_mean_3, recent_mean_6",
        "baselines: Poisson counts around the mean of the last 3 or 6 periods.",
    ),
    (
        "conflictology",
        "baseline: each path replays a run of the region's last 12 observed {periods}.",
    ),
    (
        "nb_climatology",
        "baseline: a negative binomial with the mean and spread of the region's last 24 periods.",
    ),
    (
        "ensemble_local",
        "`auto` candidate: equal mixture of the local level (a level that drifts {period} to "
        "{period}), recent_mean_6 and conflictology.",
    ),
    (
        "ensemble_trend",
        "`auto` candidate: ensemble_local with the damped trend (the level plus the region's "
        "growth, fading) in place of the local level.",
    ),
    (
        "ensemble_climatology",
        "`auto` candidate: ensemble_local's three members and nb_climatology, a quarter each.",
    ),
    (
        "ensemble_climatology36",
        "`auto` candidate: ensemble_local's three members and a negative binomial of the "
        "region's last 36 periods, which gets half the weight.",
    ),
    (
        "ensemble_climatology36_heavy",
        "`auto` candidate: the same with three quarters of the weight on the 36-period "
        "negative binomial.",
    ),
    (
        "own-lag share",
        "the part of a period's expected count that carries over from the period before; 0 "
        "means periods do not depend on each other.",
    ),
    (
        "overdispersion",
        "counts that vary more than Poisson counts with the same mean (events come in "
        "clusters); it widens intervals.",
    ),
    (
        "attributable share (continue minus silenced)",
        "in the spillover model, the events it expects if the focus's events continue, minus "
        "those it expects if they stop, as a share of the former.",
    ),
    (
        "Brier score",
        "for a probability p of an event: the mean of (p - y) squared, y = 1 if the event "
        "happened and 0 if not; lower is better, 0 is perfect.",
    ),
    (
        "ROC AUC",
        "the chance that a unit where the event happened got a higher probability than one "
        "where it did not; 0.5 is guessing, 1 is perfect ranking.",
    ),
    (
        "interval score",
        "the width of a central interval plus a penalty for each outcome outside it; lower is "
        "better.",
    ),
    (
        "intervals over origins",
        "t intervals of skills and coverages, allowing for correlated forecasts (one origin's, "
        "or the same or nearby {periods}'); shares cut at 0-100%; none from too few independent "
        "windows.",
    ),
    (
        "Benjamini-Hochberg",
        "an adjustment of p-values for many tests at once: calling changes with adjusted p "
        "below 0.05 significant keeps the expected share of false ones at most 5% (tests "
        "independent or positively dependent).",
    ),
    (
        "Monte Carlo standard error",
        "how much a number computed from a finite set of sample paths would move with another set.",
    ),
    (
        "reference class",
        "regions that were as quiet at past origins, with or without an active neighbour: "
        "what followed there is a forecast for a quiet region now.",
    ),
)


def terms_markdown(freq: str = "month") -> str:
    """The appendix's Terms list (:data:`TERMS`) as Markdown bullets, one line each.

    Parameters
    ----------
    freq : {"month", "quarter"}
        The study's frequency, whose periods the terms name.

    Returns
    -------
    str
        Markdown written here (a trusted template with no ``{fields}``).
    """
    fields = _period_words(freq)
    return "\n".join(f"- **{term}**: {words.format(**fields)}" for term, words in TERMS)


def models_markdown(scored: Sequence[str], freq: str = "month") -> str:
    """The appendix's Models list: one bullet per :data:`MODEL_DESCRIPTIONS` entry with a
    scored model, naming only the scored ones.

    Parameters
    ----------
    scored : sequence of str
        The models of the appendix's backtest (``BacktestResult.models``).
    freq : {"month", "quarter"}
        The study's frequency, whose periods the descriptions name.

    Returns
    -------
    str
        Markdown written here (a trusted template with no ``{fields}``).

    Raises
    ------
    ValueError
        When a scored model has no description: the list would silently leave it out.
    """
    described = {n for names, _, _ in MODEL_DESCRIPTIONS for n in names}
    missing = [m for m in scored if m not in described]
    if missing:
        raise ValueError(f"expected a description of every scored model, missing {missing}")
    words = _period_words(freq)
    bullets = []
    for names, title, text in MODEL_DESCRIPTIONS:
        shown = [n for n in names if n in scored]
        if shown:
            named = ", ".join(f"`{n}`" for n in shown)
            bullets.append(f"- **{title}**, {named}: {text.format(**words)}")
    return "\n".join(bullets)


def _candidates_of(model: str) -> tuple[str, ...]:
    """The models the registered ``model`` chooses among (``auto``'s candidates); empty for a
    model that is not registered or chooses nothing."""
    from analysis.models.registry import available, get

    if model not in available():
        return ()
    return tuple(getattr(get(model), "candidates", ()))


def backtest_scope_sentence(
    card: dict[str, Any], *, stride: int, report_horizon: int, backtest_horizon: int
) -> str:
    """What the headline tables score: origins, steps and the coverage columns, in words.

    Parameters
    ----------
    card : dict
        :func:`analysis.evaluation.scorecard` of the backtest at steps 1..``report_horizon``.
    stride : int
        Periods between origins.
    report_horizon : int
        Steps the reports show (the headline tables score these).
    backtest_horizon : int
        Steps the backtest ran to; when longer, the sentence points to the table of them.

    Returns
    -------
    str
        Plain text (no Markdown: :func:`analysis.report.show.markdown` escapes values).
    """
    text = (
        "Rolling-origin backtest: each model, auto and the spillover model as the reports "
        f"configure them included, refitted at {card['n_origins']} origins "
        f"({card['origins'][0]} to {card['origins'][1]}, every {stride} periods) and scored "
        f"at steps 1-{report_horizon}, the periods the reports show "
        f"({int(card['models'][0]['n_forecasts']):,} forecasts per model). Lower CRPS is "
        "better. Coverage: the share of outcomes that fell inside the forecast's central 50%, "
        "80%, 90% (the level the reports quote) or 95% interval (randomised PIT, so discrete "
        "counts are handled fairly); a well-calibrated forecast covers that share of them. "
        "An interval closed at whole "
        "counts, as the reports print it, also holds an outcome on its edge, so it holds more "
        "outcomes than the randomised coverage says; the region reports give both at the "
        "level they quote, and these tables the randomised one."
    )
    if backtest_horizon > report_horizon:
        text += (
            f" The last table of this section scores steps 1-{backtest_horizon}, beyond the "
            f"{report_horizon} the reports show."
        )
    return text


def _group_best_clause(card: dict[str, Any], model: str, scores: pd.DataFrame | None) -> str:
    """The skill against each group's own best baseline (a composite picked with hindsight,
    :func:`analysis.evaluation.group_best_baselines`), beside the pooled one: two reviewers
    found the real study's pooled +3.1% against conflictology was about +0.7% so measured."""
    from analysis.evaluation import GROUP_BEST, group_best_baselines, skill_intervals

    if scores is None or "group" not in scores.columns:
        return ""
    baselines = [r["model"] for r in card["models"] if r.get("is_baseline")]
    composite, chosen = group_best_baselines(scores, baselines)
    if len(chosen) < 2 or len(set(chosen.values())) < 2:
        return ""  # one baseline is best everywhere: the pooled skill already is this one
    ev = skill_intervals(pd.concat([scores, composite], ignore_index=True), model, GROUP_BEST)
    named = join_words(f"{b} for the {g} regions" for g, b in chosen.items())
    return (
        f" Against each group's own best baseline ({named}), a composite chosen with "
        f"hindsight that no single baseline gives, it is "
        f"{format_skill(ev['skill'], ev['skill_low'], ev['skill_high'])}."
    )


def model_choice_sentence(
    card: dict[str, Any],
    report_model: str = "auto",
    scores: pd.DataFrame | None = None,
    candidates: Sequence[str] | None = None,
) -> str:
    """Which model the reports use, how it is chosen, and how far it is from the lowest CRPS.

    The lowest CRPS of the table is found with hindsight over the backtest origins: no report
    could have known at its origin to use that model. ``report_model`` is scored as the
    reports run it, so its row is the evidence for their forecasts; the paired test of the
    two (``report_model_test`` of :func:`analysis.evaluation.scorecard`) says whether the gap
    is more than these origins' noise.

    Parameters
    ----------
    card : dict
        The scorecard (``best_model``, ``best_baseline``, ``models``, and
        ``report_model_test`` when it was computed).
    report_model : str
        The model of the reports' forecasts.
    scores : DataFrame, optional
        The backtest's per-forecast scores the card was made from: the report model's skill is
        then given with its interval over origins, as the region reports give it
        (:func:`analysis.evaluation.skill_intervals`).
    candidates : sequence of str, optional
        The models ``report_model`` chooses among; by default the registered model's
        ``candidates`` (none for a model that chooses nothing).

    Returns
    -------
    str
        Plain text.
    """
    from analysis.evaluation import skill_intervals

    best = card["best_model"]
    rows = {r["model"]: r for r in card["models"]}
    if report_model not in rows:
        return f"The reports use {report_model}, which this backtest does not score."
    skill = rows[report_model].get("crps_skill_vs_best_baseline")
    base = card.get("best_baseline")
    against = ""
    if skill is not None and base:
        low = high = float("nan")
        if scores is not None:
            boot = skill_intervals(scores, report_model, base)
            skill, low, high = boot["skill"], boot["skill_low"], boot["skill_high"]
        against = (
            f" Its CRPS skill against the best baseline ({base}), pooled over every region "
            f"and quiet ones included, is {format_skill(skill, low, high)}; above 0 is better."
        )
        against += _group_best_clause(card, report_model, scores)
    how = (
        f"The reports' forecasts all come from {report_model}: at each forecast origin it "
        "picks among its candidates (the mixtures above) by their fair CRPS over rolling "
        "origins in the history before that origin, separately for the focus regions and the "
        "other regions (scored where they were active at the inner origin) and for each block "
        "of steps."
    )
    if best == report_model:
        return f"{how} It also has the lowest CRPS here.{against}"
    if candidates is None:
        candidates = _candidates_of(report_model)
    # the sentence had called every hindsight best "not among the candidates", auto's own
    # ensemble_local included (the quarterly real study's appendix)
    among = "one of" if best in candidates else "not among"
    text = (
        f"{how} The lowest CRPS here, {best}'s, is known only with hindsight over these same "
        f"backtest origins, and {best} is {among} the candidates {report_model} chooses "
        f"from; {report_model} is scored as the reports run it, choosing afresh at each "
        f"origin.{against}"
    )
    test = card.get("report_model_test")
    if not test:
        return text
    # one procedure for the interval and the p-value (evaluation.paired_test)
    lo, hi, p = test["low"], test["high"], test["p"]
    head = (
        f" Its CRPS minus {best}'s, averaged per origin (each of the {test['n_origins']} "
        "origins weighs the same, where the table pools every forecast and the late origins "
        f"have fewer): {format_difference(test['mean_difference'])}"
    )
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return text + (
            f"{head}; these origins are worth too few independent windows for an interval, "
            f"so they do not establish that {report_model} is behind {best}."
        )
    behind = lo > 0 and p < 0.05
    return text + (
        f"{head} (95% interval {format_difference(lo)} to {format_difference(hi)}, over "
        f"origins; two-sided p = {format_p_value(p)}, below 0.05 exactly when that interval "
        "excludes 0), "
        + (
            f"so {report_model} is behind {best} on these origins by more than their noise."
            if behind
            else f"so these origins do not establish that {report_model} is behind {best}."
        )
    )


#: Where the group table's candidates differ from the region reports' choice (one sentence).
CANDIDATE_ORIGINS_NOTE = (
    "The region reports name the candidates auto picked from its own inner origins, all "
    "before the forecast origin; these tables score every candidate over the appendix's "
    "backtest origins instead, so the candidate ranked first here need not be the one auto "
    "picked for the reports."
)


def steps_beyond_sentence(report_horizon: int, backtest_horizon: int) -> str:
    """Why the appendix also shows steps past the reports' horizon, and what they are not.

    Parameters
    ----------
    report_horizon : int
        The reports' horizon, in periods (steps).
    backtest_horizon : int
        The appendix's backtest horizon, in periods; above ``report_horizon``.

    Returns
    -------
    str
        Plain text.
    """
    return (
        f"The same backtest scored at steps 1-{backtest_horizon}: steps "
        f"{report_horizon + 1}-{backtest_horizon} appear in no report, and beyond step "
        f"{report_horizon} auto's choice for its last block of steps carries on. It shows how "
        "each model's scores hold up further ahead; the tables above are the evidence for the "
        "reports."
    )


SCORE_COLUMNS = {
    "model": "model",
    "is_baseline": "baseline",
    "crps": "CRPS",
    "crps_skill_vs_best_baseline": "CRPS skill vs best baseline",
    "pit_coverage_50": "50% coverage (randomised PIT)",
    "pit_coverage_80": "80% coverage (randomised PIT)",
    "pit_coverage_90": "90% coverage (randomised PIT; the reports quote 90% intervals)",
    "pit_coverage_95": "95% coverage (randomised PIT)",
    "interval_score_95": "95% interval score",
    "brier_any": "Brier P(at least 1 in the step's period)",
}


#: The columns of the secondary (longer-horizon) table: the headline scores only.
BRIEF_SCORE_COLUMNS = ("model", "is_baseline", "crps", "crps_skill_vs_best_baseline",
                       "pit_coverage_80")  # fmt: skip


def skill_interval_cells(
    scores: pd.DataFrame, is_baseline: dict[str, bool], level: float = 0.9
) -> dict[str, str]:
    """Each model's CRPS skill interval against the best baseline of these forecasts, as a
    table cell ("-1.1% to +6.3%"), from :func:`analysis.evaluation.skill_intervals` (over
    origins, allowing for forecasts that share outcomes). The appendix's tables had given the
    skills bare, beside the region reports' intervals of the same numbers.

    Parameters
    ----------
    scores : DataFrame
        Backtest scores cut to the forecasts of the table (a group, the reports' steps).
    is_baseline : dict
        Model name to whether it is a baseline (:attr:`BacktestResult.is_baseline`).
    level : float

    Returns
    -------
    dict
        Model name to its cell; the best baseline's, the reference, is empty, so is a model's
        whose interval cannot be computed, and a model that scored exactly as the reference on
        every forecast (in quiet regions the naive baselines all forecast 0) says so.
    """
    from analysis.evaluation import best_baseline, skill_intervals

    models = list(dict.fromkeys(scores["model"]))
    best = best_baseline(scores, [m for m in models if is_baseline.get(m)])
    cells = dict.fromkeys(models, "")
    if best is None:
        return cells
    keys = [c for c in ("origin", "region_id", "step") if c in scores.columns]
    reference = scores[scores["model"] == best].set_index(keys)["crps"]
    for model in models:
        if model == best:
            continue
        mine = scores[scores["model"] == model].set_index(keys)["crps"]
        same_forecasts = len(mine) == len(reference) and mine.index.isin(reference.index).all()
        if same_forecasts and np.allclose(
            mine.reindex(reference.index), reference, rtol=0, atol=1e-12
        ):
            cells[model] = "the same scores"
            continue
        ev = skill_intervals(scores, model, best, level=level)
        cells[model] = format_skill_interval(ev["skill_low"], ev["skill_high"])
    return cells


def scorecard_table(
    card: dict[str, Any],
    columns: Sequence[str] | None = None,
    intervals: dict[str, str] | None = None,
) -> pd.DataFrame:
    """The ``models`` part of :func:`analysis.evaluation.scorecard`, sorted by CRPS, with
    "yes"/"no" for the baseline flag (not Python's True/False).

    Parameters
    ----------
    card : dict
    columns : sequence of str, optional
        Keys of :data:`SCORE_COLUMNS` to show (default: all).
    intervals : dict, optional
        :func:`skill_interval_cells`: shown after the skill column.

    Returns
    -------
    DataFrame
        One row per model, columns renamed by :data:`SCORE_COLUMNS`.
    """
    keep = list(SCORE_COLUMNS) if columns is None else list(columns)
    frame = pd.DataFrame(card["models"]).sort_values("crps", kind="stable")
    frame["is_baseline"] = ["yes" if b else "no" for b in frame["is_baseline"]]
    table = frame.reindex(columns=keep).rename(columns=SCORE_COLUMNS)
    if intervals is None:
        return table
    return _with_intervals(table, [intervals.get(m, "") for m in frame["model"]])


def _with_intervals(table: pd.DataFrame, cells: list[str]) -> pd.DataFrame:
    """``table`` with ``cells`` (one a row) as :data:`SKILL_INTERVAL_COLUMN` after its skill
    column (as it is without that column)."""
    skill = SCORE_COLUMNS["crps_skill_vs_best_baseline"]
    if skill not in table.columns:
        return table
    table = table.reset_index(drop=True)
    table.insert(table.columns.get_loc(skill) + 1, SKILL_INTERVAL_COLUMN, cells)
    return table


def group_table(
    card: dict[str, Any], intervals: dict[str, dict[str, str]] | None = None
) -> pd.DataFrame:
    """Models by group of regions (focus, active, quiet): CRPS, skill against the group's
    best baseline (with its interval over origins where ``intervals``, group to
    :func:`skill_interval_cells`, is given) and randomised-PIT 80% coverage, at steps 1-h
    together.

    Parameters
    ----------
    card : dict
        :func:`analysis.evaluation.scorecard`; its ``by_group`` rows are shown.
    intervals : dict, optional
        Group -> :func:`skill_interval_cells` of that group's scores; without it, no interval
        column.

    Returns
    -------
    DataFrame
        One row per group and model, sorted by group then CRPS (empty without groups).
    """
    rows = pd.DataFrame(card["by_group"])
    if rows.empty:
        return rows
    rows = rows.sort_values(["group", "crps"], kind="stable")
    table = rows.reindex(
        columns=["group", "model", "crps", "crps_skill_vs_best_baseline", "pit_coverage_80"]
    ).rename(
        columns={
            "crps": "CRPS",
            "crps_skill_vs_best_baseline": SCORE_COLUMNS["crps_skill_vs_best_baseline"],
            "pit_coverage_80": "80% coverage (randomised PIT)",
        }
    )
    if intervals is None:
        return table
    return _with_intervals(
        table,
        [
            intervals.get(g, {}).get(m, "")
            for g, m in zip(rows["group"], rows["model"], strict=True)
        ],
    )


#: The count models as the appendix's text names them (the table had shown the code's names:
#: nb2, hurdle_nb, zip), in the table, its likelihood-ratio column and the fallback sentence.
COUNT_MODEL_NAMES = {
    "poisson": "Poisson",
    "nb2": "NB2",
    "zip": "ZIP",
    "zinb": "ZINB",
    "hurdle_nb": "hurdle NB",
}


def _count_model_name(code: Any) -> str:
    return COUNT_MODEL_NAMES.get(str(code), str(code))


#: The count-model table's columns in plain words (:func:`count_models_display`). The
#: overdispersion test is the region's, not a model's: :func:`overdispersion_sentence` states it
#: once instead of a column repeating it on every row.
COUNT_MODEL_COLUMNS = {
    "region_name": "region",
    "model": "model",
    "k": "parameters",
    "llf": "log-likelihood",
    "aic": "AIC",
    "bic": "BIC",
    "delta_aic": "AIC above the best",
    "lr_against": "likelihood-ratio test against",
    "lr_p": "likelihood-ratio p",
    "warnings": "notes",
}


def _fitted(table: pd.DataFrame) -> pd.Series:
    """Rows whose model was fitted as itself (a fallback row repeats a simpler model's fit)."""
    return table["fitted_model"].astype(str) == table["model"].astype(str)


def count_models_display(table: pd.DataFrame) -> pd.DataFrame:
    """The reader's rows and columns of :func:`analysis.models.counts.region_count_models`.

    Parameters
    ----------
    table : DataFrame
        One row per region and count model.

    Returns
    -------
    DataFrame
        One row per model actually fitted (a model that fell back would repeat the simpler
        model's row: :func:`count_fallback_sentence` says which and why), the columns of
        :data:`COUNT_MODEL_COLUMNS` renamed in plain words; p-values as a reader expects them
        (``<0.001``, not ``0.000``; blank where there is no test).
    """
    shown = table[_fitted(table)].reindex(columns=list(COUNT_MODEL_COLUMNS)).copy()
    shown["lr_p"] = [format_p_value(p) for p in shown["lr_p"].astype(float)]
    shown["model"] = [_count_model_name(m) for m in shown["model"]]
    shown["lr_against"] = [
        "" if pd.isna(m) or m == "" else _count_model_name(m) for m in shown["lr_against"]
    ]
    shown["warnings"] = shown["warnings"].fillna("")
    return shown.reset_index(drop=True).rename(columns=COUNT_MODEL_COLUMNS)


def _fallback_reason(model: str, warnings: str) -> tuple[str, str]:
    """(why, to what) of a fallback, from the fit's ``warnings``
    (``"zinb: <why>; fell back to nb2"``); the whole note and "" when it has no such form."""
    found = re.search(rf"{re.escape(model)}: (.+?); fell back to (\S+)", warnings)
    if found:
        return found.group(1), found.group(2)
    return warnings.strip(), ""


def count_fallback_sentence(table: pd.DataFrame) -> str:
    """Which models the count table leaves out because they fell back, and why, in one sentence.

    Parameters
    ----------
    table : DataFrame
        :func:`analysis.models.counts.region_count_models`'s rows.

    Returns
    -------
    str
        Plain text; empty when every model was fitted as itself.
    """
    dropped = table[~_fitted(table)]
    if dropped.empty:
        return ""
    clauses: dict[tuple[str, str, str], list[str]] = {}
    for row in dropped.itertuples():
        why, to = _fallback_reason(str(row.model), str(row.warnings or ""))
        clauses.setdefault((str(row.model), why, to), []).append(str(row.region_name))
    said = []
    for (model, why, to), regions in clauses.items():
        where = join_words(dict.fromkeys(regions))
        tail = (
            f", so it fell back to {_count_model_name(to)}, whose row it would repeat" if to else ""
        )
        said.append(f"no row for {_count_model_name(model)} in {where}: {why}{tail}")
    text = "; ".join(said)
    return text[0].upper() + text[1:] + "."


def overdispersion_sentence(table: pd.DataFrame) -> str:
    """The Cameron-Trivedi overdispersion test once per region: alpha with its standard
    error and the one-sided p-value, and what it says in words.

    Parameters
    ----------
    table : DataFrame
        :func:`analysis.models.counts.region_count_models`'s rows (the test repeats on every
        row of a region).

    Returns
    -------
    str
        Plain text; empty without regions.
    """
    regions = table.drop_duplicates("region_id")
    if regions.empty:
        return ""
    parts = []
    for row in regions.itertuples():
        alpha, p = float(row.overdispersion_alpha), float(row.overdispersion_p)
        se = float(getattr(row, "overdispersion_se", float("nan")))
        if not (np.isfinite(alpha) and np.isfinite(p)):
            parts.append(
                f"in {row.region_name} it cannot be computed (no events, or too few periods)"
            )
            continue
        shown_p = format_p_value(p)
        p_words = f"p {shown_p}" if shown_p.startswith("<") else f"p = {shown_p}"
        spread = f", standard error {se:.3f}" if np.isfinite(se) else ""
        verdict = (
            "its counts vary more than Poisson counts would"
            if p < 0.05
            else "no evidence that its counts vary more than Poisson counts would"
        )
        parts.append(
            f"in {row.region_name} alpha is {alpha:.3f}{spread} (one-sided {p_words}): {verdict}"
        )
    return (
        "Overdispersion (the Cameron and Trivedi test against the Poisson fit with the same "
        "trend, one per region whatever the model): " + "; ".join(parts) + "."
    )
