"""Rolling-origin evaluation of onset probabilities against the naive rules.

At each evaluation origin every method is refitted on the stacked rows (from
:func:`analysis.models.onset.onset_design`) whose outcome window had ended by that origin, and
predicts the quiet units of the origin. The naive rules are estimated on the same rows:

- ``base_rate``: the share of quiet-unit rows followed by an onset;
- ``neighbour_rule``: that share separately for units with and without a first-order neighbour
  active in the last window (the rule "a neighbour had an event", calibrated);
- ``distance_decay``: a logistic regression on the log adjacency order to the nearest active
  unit (probability decaying as a power of that order);
- ``plain_logistic``: an unpenalised logit on the onset model's own features.

Scores: Brier, log score, ROC AUC and a reliability table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.formatting import join_words, period_label
from analysis.models.onset import OnsetSpec, fit_onset
from analysis.models.onset_reference import CANNOT_ANSWER, training_words
from analysis.scoring import brier, log_score, reliability, roc_auc

__all__ = [
    "NAIVE_NEEDS",
    "naive_onset_rules",
    "rolling_onset_evaluation",
    "onset_scorecard",
    "NAIVE_RULES",
    "study_onset_backtest",
    "forecaster_p_any",
    "country_onset_forecasts",
    "country_onset_scorecard",
    "reference_p_onset",
]

#: Feature columns the naive rules read from the design.
NAIVE_NEEDS = ("nb_first", "near_order")


def naive_onset_rules(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, np.ndarray]:
    """Base rate, calibrated neighbour rule and distance decay, estimated on ``train``.

    Rates carry add-one smoothing so that early, small training sets give no 0 or 1.

    Parameters
    ----------
    train : DataFrame
        Design rows whose outcome is known, with :data:`NAIVE_NEEDS` and ``onset``.
    test : DataFrame
        Rows to predict, with :data:`NAIVE_NEEDS`.

    Returns
    -------
    dict of str to ndarray
        ``base_rate``, ``neighbour_rule`` and ``distance_decay``: a probability per row of
        ``test``.

    Raises
    ------
    InputError
        When a needed column is missing.
    """
    missing = [c for c in (*NAIVE_NEEDS, "onset") if c not in train.columns]
    missing += [c for c in NAIVE_NEEDS if c not in test.columns]
    if missing:
        raise InputError(f"design columns missing for the naive rules: {sorted(set(missing))}")
    y = train["onset"].to_numpy(float)
    out = {"base_rate": np.full(len(test), (y.sum() + 1) / (len(y) + 2))}
    rule = train["nb_first"].to_numpy(bool)
    rate1 = (y[rule].sum() + 1) / (rule.sum() + 2)
    rate0 = (y[~rule].sum() + 1) / ((~rule).sum() + 2)
    out["neighbour_rule"] = np.where(test["nb_first"].to_numpy(bool), rate1, rate0)
    decay = OnsetSpec(features=("near_order",), link="logit", penalty=0.0)
    out["distance_decay"] = fit_onset(train, decay, cluster=None).predict(test)
    return out


def rolling_onset_evaluation(
    design: pd.DataFrame, origins: Sequence[int], spec: OnsetSpec
) -> pd.DataFrame:
    """Predictions of the onset model and every naive rule at each origin, out of sample.

    Parameters
    ----------
    design : DataFrame
        From :func:`analysis.models.onset.onset_design`, with the spec's features, the columns
        in :data:`NAIVE_NEEDS` and ``onset``.
    origins : sequence of int
        Evaluation origins (indices); those without quiet units, or whose training rows hold
        only one outcome (no onset yet, so nothing to fit), are skipped.
    spec : OnsetSpec
        The onset model; its ``horizon`` decides which rows are known at an origin.

    Returns
    -------
    DataFrame
        ``origin, region_id, country, onset`` and one probability column per method
        (``onset_model, plain_logistic, base_rate, neighbour_rule, distance_decay``).
    """
    plain = replace(spec, link="logit", penalty=0.0)
    by_origin = dict(tuple(design.groupby("origin")))
    parts = []
    for t in origins:
        test = by_origin.get(int(t))
        if test is None:
            continue
        train = design[design["origin"] <= int(t) - spec.horizon]
        if train.empty or train["onset"].nunique() < 2:
            # before the first known onset (or the first quiet non-onset) nothing can be
            # fitted; a conflict spreading into a quiet country starts this way
            continue
        frame = test[["origin", "region_id", "country", "onset"]].copy()
        frame["onset_model"] = fit_onset(train, spec, cluster=None).predict(test)
        frame["plain_logistic"] = fit_onset(train, plain, cluster=None).predict(test)
        for name, p in naive_onset_rules(train, test).items():
            frame[name] = p
        parts.append(frame)
    if not parts:
        raise InputError(
            "no evaluation origin has quiet units and, before it, quiet units both with and "
            "without a first event to learn from"
        )
    return pd.concat(parts, ignore_index=True)


def onset_scorecard(pred: pd.DataFrame, methods: Sequence[str], reference: str = "onset_model"):
    """Brier, log score, AUC and mean probability per method, Brier skill of ``reference``
    against each other one with the Brier difference and its standard error clustered by unit
    and origin (:func:`brier_margin`), the reliability table of ``reference``, and ``calibration``:
    :func:`calibration_in_the_large` of ``reference`` and, when scored, ``report_model``.

    Parameters
    ----------
    pred : DataFrame
        From :func:`rolling_onset_evaluation`: ``origin``, ``region_id``, ``onset`` and a
        probability column per method.
    methods : sequence of str
        Probability columns to score, ``reference`` among them.
    reference : str, optional
        The method compared with the others (default ``"onset_model"``).

    Returns
    -------
    dict
        ``n_forecasts``, ``n_onsets``, ``n_origins``, ``onset_frequency``, ``methods``, the
        ``reference``'s skill, margins and reliability (keys named after it) and ``calibration``.
    """
    y = pred["onset"].to_numpy(float)
    scores = {
        m: {
            "brier": brier(pred[m], y),
            "log_score": log_score(pred[m], y),
            "auc": roc_auc(pred[m], y),
            "mean_probability": float(np.mean(pred[m])),
        }
        for m in methods
    }
    ref = scores[reference]["brier"]
    return {
        "n_forecasts": int(len(pred)),
        "n_onsets": int(y.sum()),
        "n_origins": int(pred["origin"].nunique()),
        "onset_frequency": float(y.mean()),
        "methods": scores,
        f"{reference}_brier_skill_vs": {
            m: 1 - ref / scores[m]["brier"] for m in methods if m != reference
        },
        f"{reference}_brier_margin_vs": {
            m: dict(zip(("difference", "se"), brier_margin(pred, reference, m), strict=True))
            for m in methods
            if m != reference
        },
        f"reliability_{reference}": reliability(pred[reference], y),
        "calibration": {
            m: calibration_in_the_large(pred, m)
            for m in (reference, "report_model")
            if m in methods
        },
    }


def calibration_in_the_large(pred: pd.DataFrame, method: str) -> dict[str, float]:
    """Whether ``method``'s probabilities were right on average: the share of forecasts
    followed by a first event minus their mean probability, with its standard error clustered
    by unit and origin (:func:`brier_margin`'s: one unit's forecasts at overlapping origins
    share their outcome windows, and first events come in waves across units).

    A lower Brier score than the naive rules says the ranking of units is useful, not that the
    levels are: on the real JNIM study the onset model's probabilities averaged 5.9% where 11%
    of the forecasts had a first event, and a reader of "Tillabéri 3%" should know that.

    Parameters
    ----------
    pred : DataFrame
        One row per forecast: ``region_id``, ``onset`` (0/1) and the ``method`` column.
    method : str

    Returns
    -------
    dict
        ``mean_probability``, ``observed`` (share with a first event), ``difference``
        (observed minus mean probability) and ``se`` (NaN with fewer than two units),
        ``n_units``.
    """
    y = pred["onset"].to_numpy(float)
    p = pred[method].to_numpy(float)
    gap, se = _clustered_mean(y - p, pred["region_id"].to_numpy(), _origins(pred))
    return {
        "mean_probability": float(p.mean()),
        "observed": float(y.mean()),
        "difference": gap,
        "se": se,
        "n_units": int(pred["region_id"].nunique()),
        "n_forecasts": int(len(pred)),
        "n_events": int(y.sum()),
    }


#: Unit histories the calibration is split by: never an event before the origin, or some.
HISTORIES = ("never", "before")


def calibration_by_history(
    pred: pd.DataFrame, counts: np.ndarray, ids: Sequence[str], methods: Sequence[str]
) -> dict[str, dict[str, dict[str, float]]]:
    """:func:`calibration_in_the_large` apart for quiet units that never had an event before
    the origin and those that had one, for the onset model and (when scored) the report model.

    The two differ in kind: on the real JNIM study the 120 forecasts for Niger's never-active
    units were followed by no first event, while 31 of the other 161 were, so a pooled "ran
    low" said of Tillabéri pointed the wrong way.

    Parameters
    ----------
    pred : DataFrame
        The backtest's forecasts (``origin`` as a period index, ``region_id``, ``onset``).
    counts : ndarray (region, period)
        The panel's counts the origins index.
    ids : sequence of str
        Region ids of ``counts``' rows.
    methods : sequence of str

    Returns
    -------
    dict
        ``{history: {method: calibration}}`` for the :data:`HISTORIES` that have forecasts.
    """
    row = {r: i for i, r in enumerate(ids)}
    cumulative = np.cumsum(counts, axis=1)
    index = pred["region_id"].map(row).to_numpy(int)
    ever = cumulative[index, pred["origin"].to_numpy(int)] > 0
    out: dict[str, dict[str, dict[str, float]]] = {}
    for history, mask in zip(HISTORIES, (~ever, ever), strict=True):
        part = pred[mask]
        if len(part):
            out[history] = {
                m: calibration_in_the_large(part, m)
                for m in ("onset_model", "report_model")
                if m in methods
            }
    return out


def _cluster_variance(values: np.ndarray, mean: float, groups: np.ndarray) -> float:
    """One-way cluster-robust variance of a mean (the ratio estimator's sandwich,
    ``G / (G - 1) sum_g (S_g - m n_g)^2 / N^2``)."""
    sums = pd.DataFrame({"g": groups, "v": values}).groupby("g")["v"].agg(["sum", "size"])
    count, n = len(sums), float(sums["size"].sum())
    resid = sums["sum"].to_numpy() - mean * sums["size"].to_numpy()
    return float(count / (count - 1) * np.sum(resid**2) / n**2)


def _clustered_mean(
    values: np.ndarray, units: np.ndarray, origins: np.ndarray | None = None
) -> tuple[float, float]:
    """Mean of per-forecast values and its standard error clustered by unit and, given the
    origins, by origin too (Cameron, Gelbach and Miller's two-way variance,
    ``V_unit + V_origin - V_unit x origin``, each one-way term with its ``G / (G - 1)``; where
    that difference is not positive, the larger one-way variance). NaN with fewer than two
    units.

    One unit's forecasts at overlapping origins share their outcome windows; first events
    also come in waves that strike several units at one origin (Burkina Faso's in 2018-09 and
    2018-12 in the real study), which clustering by unit alone treats as independent: there
    it put a calibration gap of +5.2 points two standard errors from 0, and by unit and
    origin it is not.
    """
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(pd.unique(units)) < 2:
        return mean, float("nan")
    by_unit = _cluster_variance(values, mean, units)
    if origins is None or len(pd.unique(origins)) < 2:
        return mean, float(np.sqrt(by_unit))
    by_origin = _cluster_variance(values, mean, origins)
    cells = pd.MultiIndex.from_arrays([units, origins]).factorize()[0]
    both = by_unit + by_origin - _cluster_variance(values, mean, cells)
    return mean, float(np.sqrt(both if both > 0 else max(by_unit, by_origin)))


def _origins(pred: pd.DataFrame) -> np.ndarray | None:
    """The forecasts' origins, the second clustering dimension, where ``pred`` has them."""
    return pred["origin"].to_numpy() if "origin" in pred.columns else None


def brier_margin(pred: pd.DataFrame, reference: str, other: str) -> tuple[float, float]:
    """How much lower ``reference``'s Brier score is than ``other``'s, and its standard error.

    The forecasts of one unit at overlapping origins share their outcome windows, and first
    events come in waves across units at one origin, so the error is the cluster-robust one
    over units and origins (:func:`_clustered_mean`; by unit alone where ``pred`` has no
    ``origin``), not the one that treats every forecast as independent.

    Parameters
    ----------
    pred : DataFrame
        One row per forecast: ``region_id``, ``onset`` (0/1) and a probability column per
        method.
    reference, other : str
        The two methods' columns.

    Returns
    -------
    tuple of float
        The margin (``other``'s Brier minus ``reference``'s; positive when ``reference`` is
        better) and its standard error (NaN with fewer than two units).
    """
    y = pred["onset"].to_numpy(float)
    gain = (pred[other].to_numpy(float) - y) ** 2 - (pred[reference].to_numpy(float) - y) ** 2
    return _clustered_mean(gain, pred["region_id"].to_numpy(), _origins(pred))


#: Naive rules the study-level backtest compares the onset model with.
NAIVE_RULES = ("base_rate", "neighbour_rule", "distance_decay")
#: Fewest distinct evaluated onsets (unit, first onset origin) before a verdict is given.
MIN_STUDY_ONSETS = 5


def study_onset_backtest(
    panel: pd.DataFrame,
    horizon: int,
    quiet: int,
    *,
    boundaries=None,
    spec: OnsetSpec | None = None,
    stride: int = 3,
    min_train: int | None = None,
    min_onsets: int = MIN_STUDY_ONSETS,
    forecaster: Any = None,
    n_samples: int = 400,
    seed: int = 0,
    reference: Any = None,
) -> dict:
    """Rolling-origin onset backtest on a study's own panel, with a verdict for the reader.

    The onset model and the naive rules are refitted at origins every ``stride`` periods inside
    the history (each one trained only on rows whose outcome window had ended) and scored on the
    quiet units of that origin. With a ``forecaster`` (the report model), it is fitted on the
    counts up to each of those origins too, and the share of its sample paths with an event
    within the horizon, the probability the reports show for quiet units, is scored on the same
    forecasts as ``report_model``.

    Parameters
    ----------
    panel : DataFrame
        Zero-filled panel of the study's selection.
    horizon, quiet : int
        As in :func:`analysis.models.onset_forecast.onset_forecast`.
    boundaries : Boundaries, optional
    spec : OnsetSpec, optional
        Default: the package default features (those needing the all-actor panel dropped).
    stride : int
        Periods between evaluation origins.
    min_train : int, optional
        Periods of training origins before the first evaluation origin (default ``horizon``).
    min_onsets : int
        Fewest distinct onsets (a unit's first evaluated origin with an onset) for a verdict.
    forecaster : Forecaster, optional
        The report model (:class:`analysis.models.forecast.Forecaster`); None leaves it out.
    n_samples, seed : int
        Its sample paths per origin, and the seed (as in :func:`forecaster_p_any`).
    reference : OnsetReference, optional
        Every unit the data files cover (:func:`analysis.pipeline.onset_reference`): the onset
        model is then fitted there, on the rows whose outcome had ended by each origin, and
        predicts the study's quiet units from the reference's counts. The naive rules stay the
        study's own.

    Returns
    -------
    dict
        :func:`onset_scorecard` of the model against :data:`NAIVE_RULES` and the plain logistic
        regression, plus ``first_origin``, ``last_origin`` (``YYYY-MM``, ``YYYYQn`` for a
        quarterly panel), ``distinct_onsets``,
        ``beats_naive`` (bool: lower Brier than every naive rule, with enough onsets),
        ``edge_established`` (bool: and lower by more than two standard errors, clustered by
        unit and origin, against each rule, :func:`brier_margin`),
        ``verdict`` (one plain sentence) and ``available`` (False with ``reason`` when the
        history is too short or has no onset). With a ``forecaster``, ``methods`` also scores
        ``report_model``, and ``report_model`` holds its ``brier_margin`` over each naive rule,
        ``beats_naive``, ``edge_established`` and ``verdict``, as for the onset model.
        ``onset_reference`` says whether the reference trained the onset model (``used``,
        ``units``, ``countries``, or ``reason``).
    """
    from analysis.models.forecast import History
    from analysis.models.onset import onset_design, onset_geography, onset_spec
    from analysis.panel import to_matrix

    freq = panel.attrs.get("freq", "month")
    spec = onset_spec(freq, horizon, quiet, spec, selection_only=True)
    counts, ids, periods = to_matrix(panel)
    n_per = counts.shape[1]
    design_spec = replace(spec, features=tuple(dict.fromkeys((*spec.features, *NAIVE_NEEDS))))
    first_train = quiet - 1
    last = n_per - 1 - horizon  # last origin whose outcome window has ended
    start = first_train + horizon + (horizon if min_train is None else int(min_train))
    if last < start:
        return {
            "available": False,
            "reason": f"the history ({n_per} periods) is too short for a rolling onset backtest "
            f"(quiet window {quiet}, horizon {horizon})",
            "beats_naive": False,
        }
    geo = onset_geography(ids, boundaries)
    design = onset_design(counts, range(first_train, last + 1), geo, design_spec)
    origins = list(range(last, start - 1, -int(stride)))[::-1]
    try:
        pred = rolling_onset_evaluation(design, origins, spec)
    except (InputError, ValueError, np.linalg.LinAlgError) as exc:
        return {"available": False, "reason": str(exc), "beats_naive": False}
    reference_card = None
    if reference is not None:
        try:
            pred["onset_model"] = reference_p_onset(reference, pred, periods, spec)
            reference_card = {"used": True, **reference.summary()}
            # the plain logistic regression is the onset model without its penalty: fitted on
            # the same units, so that the comparison is of the penalty alone (fitted on the
            # study's own units it had read +48.8% on the real study, data and penalty mixed)
            plain = replace(spec, link="logit", penalty=0.0)
            try:
                pred["plain_logistic"] = reference_p_onset(reference, pred, periods, plain)
                reference_card["plain_logistic"] = "reference"
            except CANNOT_ANSWER as exc:
                reference_card["plain_logistic"] = f"study's own units ({exc})"
        except CANNOT_ANSWER as exc:
            # the study's own onset model stands; say why the reference did not train it
            reference_card = {"used": False, "reason": str(exc)}
    methods = ["onset_model", "plain_logistic", *NAIVE_RULES]
    shown_reason = ""
    joint = None
    if forecaster is not None:
        try:
            history = History(counts.astype(np.int64), tuple(ids), periods, freq)
            pred["report_model"], joint = forecaster_p_any(
                forecaster, history, pred, horizon, n_samples, seed, by_country=True
            )
            methods.append("report_model")
        except CANNOT_ANSWER as exc:
            # the onset model's evidence stands on its own; say why the other is missing
            shown_reason = f"the report model could not be refitted at every origin ({exc})"
    card = onset_scorecard(pred, methods)
    card["calibration_by_history"] = calibration_by_history(pred, counts, ids, methods)
    # Overlapping outcome windows count one onset at several origins; the verdict counts units.
    hit = pred[pred["onset"].astype(bool)]
    distinct = int(hit.drop_duplicates("region_id").shape[0])
    enough = distinct >= min_onsets
    origin_dates = sorted(pred["origin"].unique())
    card.update(
        available=True,
        first_origin=period_label(periods[int(origin_dates[0])], freq),
        last_origin=period_label(periods[int(origin_dates[-1])], freq),
        distinct_onsets=distinct,
        **_against_naive(pred, card, "onset_model", enough)[1],
    )
    if reference_card is not None:
        card["onset_reference"] = reference_card
    card["country"] = country_onset_scorecard(
        country_onset_forecasts(pred, design, horizon, joint=joint)
    )
    card["verdict"] = _verdict(card, enough, min_onsets)
    if shown_reason:
        card["report_model"] = {"beats_naive": False, "reason": shown_reason}
    elif forecaster is not None:
        shown, fields = _against_naive(pred, card, "report_model", enough)
        card["report_model"] = fields
        fields["verdict"] = _report_model_verdict(card, shown, enough, min_onsets)
    return card


def _against_naive(
    pred: pd.DataFrame, card: dict, method: str, enough: bool
) -> tuple[dict[str, tuple[float, float]], dict]:
    """One method against every naive rule: the margins (difference, SE) and the card fields
    ``beats`` (lower Brier, per rule), ``brier_margin``, ``beats_naive`` (all of them, with
    enough onsets) and ``edge_established`` (and each by more than two standard errors)."""
    ref = card["methods"][method]["brier"]
    beats = {m: ref < card["methods"][m]["brier"] for m in NAIVE_RULES}
    margins = {m: brier_margin(pred, method, m) for m in NAIVE_RULES}
    wins = enough and all(beats.values())
    return margins, {
        "beats": beats,
        "brier_margin": {m: {"difference": d, "se": se} for m, (d, se) in margins.items()},
        "beats_naive": bool(wins),
        "edge_established": bool(wins and not _narrow(margins)),
    }


def reference_p_onset(
    reference: Any, pred: pd.DataFrame, periods: pd.DatetimeIndex, spec: OnsetSpec
) -> pd.Series:
    """The onset model fitted on ``reference`` at each row's origin, for each row of ``pred``.

    Parameters
    ----------
    reference : OnsetReference
    pred : DataFrame
        ``origin`` (column index of ``periods``) and ``region_id`` per forecast.
    periods : DatetimeIndex
        The study's periods.
    spec : OnsetSpec
        The study's onset spec (horizon, quiet window, features).

    Returns
    -------
    Series
        Aligned with ``pred``.
    """
    ref_spec = reference.spec(spec.horizon, spec.quiet, base=spec)
    out = pd.Series(np.nan, index=pred.index, dtype=float)
    for t, rows in pred.groupby("origin"):
        out.loc[rows.index] = reference.p_onset(rows["region_id"], periods[int(t)], ref_spec)
    return out


def forecaster_p_any(
    forecaster: Any,
    history: Any,
    pred: pd.DataFrame,
    horizon: int,
    n_samples: int,
    seed: int,
    by_country: bool = False,
) -> pd.Series | tuple[pd.Series, pd.Series]:
    """A forecaster's P(at least one event within ``horizon``) for each row of ``pred``.

    The share of its sample paths with an event (path totals, as the reports compute it),
    from :func:`analysis.cross_validation.cross_validation` at each row's origin: fitted on
    the counts up to it, with that loop's seed (``seed`` plus the periods seen).

    Parameters
    ----------
    forecaster : Forecaster
    history : History
        The whole window (:class:`analysis.models.forecast.History`).
    pred : DataFrame
        ``origin`` (column index of ``history``) and ``region_id`` per forecast, as from
        :func:`rolling_onset_evaluation`.
    horizon, n_samples, seed : int
        Periods ahead, paths per origin and the seed.

    by_country : bool
        Also return, per origin and ``country`` of ``pred``, the share of paths with an event
        in any of that country's rows' units.

    Returns
    -------
    Series, or (Series, Series)
        Aligned with ``pred`` (empty for an empty ``pred``); with ``by_country``, also the
        country chances indexed by (origin, country).

    Raises
    ------
    InputError
        When ``pred`` names a region that is not in ``history``.
    """
    from analysis.cross_validation import cross_validation

    position = {r: i for i, r in enumerate(history.region_ids)}
    unknown = sorted(set(pred["region_id"]) - set(position))
    if unknown:
        raise InputError(f"regions not in the counts: {unknown[:5]}")
    out = pd.Series(np.nan, index=pred.index, dtype=float)
    rows_at = {int(t) + 1: rows for t, rows in pred.groupby("origin")}  # by periods seen
    folds = cross_validation(
        history, [forecaster], sorted(rows_at), horizon, n_samples=n_samples, seed=seed
    )
    countries = []
    for fold in folds:
        rows = rows_at[fold.seen]
        hit = fold.result.totals() > 0  # (region, path)
        out.loc[rows.index] = hit.mean(axis=-1)[[position[r] for r in rows["region_id"]]]
        if by_country:
            # any first event among the country's quiet units, on the same paths: the joint
            # chance the overview states per country, not a product of independent units
            for country, units in rows.groupby("country"):
                idx = [position[r] for r in units["region_id"]]
                countries.append((fold.seen - 1, country, float(hit[idx].any(axis=0).mean())))
    if by_country:
        joint = pd.DataFrame(countries, columns=["origin", "country", "report_model"])
        return out, joint.set_index(["origin", "country"])["report_model"]
    return out


#: The unit-level methods combined into a country's chance as if its units were independent.
COUNTRY_COMBINED = ("onset_model", *NAIVE_RULES)
#: The naive rules a country's chance is judged against.
COUNTRY_RULES = ("country_base_rate", *NAIVE_RULES)


def country_onset_forecasts(
    pred: pd.DataFrame,
    design: pd.DataFrame,
    horizon: int,
    joint: pd.Series | None = None,
) -> pd.DataFrame:
    """The chance of a first event in any of a country's quiet units, per origin and country:
    what the overview states for each target country ("NER 16%"), which the unit scores
    do not judge.

    Parameters
    ----------
    pred : DataFrame
        The backtest's unit forecasts (``origin``, ``region_id``, ``country``, ``onset`` and a
        probability column per method).
    design : DataFrame
        The onset design behind them (``origin``, ``country``, ``onset``, quiet units only),
        whose earlier rows give the country base rate.
    horizon : int
        Periods ahead: an origin's base rate uses rows whose outcome had ended by it.
    joint : Series, optional
        The report model's country chances from its paths (:func:`forecaster_p_any` with
        ``by_country``), indexed by (origin, country).

    Returns
    -------
    DataFrame
        ``origin, country, units, onset`` (any of the units had a first event), each method of
        :data:`COUNTRY_COMBINED` in ``pred`` combined as ``1 - prod(1 - p)``, ``report_model``
        (the joint chance) when given, and ``country_base_rate``: the share of earlier
        (origin, country) pairs with a first event among their quiet units, add-one smoothed.
    """
    groups = pred.groupby(["origin", "country"])
    out = groups.agg(units=("region_id", "size"), onset=("onset", "max"))
    for method in COUNTRY_COMBINED:
        if method in pred.columns:
            out[method] = 1.0 - groups[method].apply(lambda p: float(np.prod(1.0 - p)))
    if joint is not None:
        out["report_model"] = joint.reindex(out.index)
    out = out.reset_index()
    past = design.groupby(["origin", "country"])["onset"].max().reset_index()
    known = past["origin"].to_numpy(int)
    hits = past["onset"].to_numpy(float)
    rates = []
    for t in out["origin"].to_numpy(int):
        seen = known <= t - horizon
        rates.append((hits[seen].sum() + 1) / (seen.sum() + 2))
    out["country_base_rate"] = rates
    return out


def country_onset_scorecard(frame: pd.DataFrame) -> dict:
    """Brier scores of the country chances (:func:`country_onset_forecasts`), the shown
    method's margin over the country base rate and the combined naive rules, and each
    country's record.

    The margins' standard errors are clustered by origin (a country's forecasts at one origin
    are one item per country, and first events strike several countries in one wave); with a
    handful of countries, a study cannot cluster by country.

    Parameters
    ----------
    frame : DataFrame

    Returns
    -------
    dict
        ``n_forecasts``, ``n_onsets``, ``n_origins``, ``reference`` (``report_model`` where
        scored, else ``onset_model``), ``methods`` (``brier``, ``mean_probability``),
        ``margin_vs`` (``difference``: the other's Brier minus the reference's, ``se``),
        the verdict's parts over :data:`COUNTRY_RULES` as for the units (``enough``: at least
        :data:`MIN_STUDY_ONSETS` first events; ``behind``: rules not beaten; ``narrow``: the
        others beaten by no more than two standard errors, or by an error that cannot be
        estimated) and ``by_country`` (``forecasts``, ``onsets``, ``mean_probability`` of the
        reference).
    """
    if frame.empty:
        return {"n_forecasts": 0}
    y = frame["onset"].to_numpy(float)
    methods = [
        m
        for m in ("report_model", *COUNTRY_COMBINED, "country_base_rate")
        if m in frame.columns and frame[m].notna().all()
    ]
    reference = "report_model" if "report_model" in methods else "onset_model"
    origins = frame["origin"].to_numpy()
    loss = {m: (frame[m].to_numpy(float) - y) ** 2 for m in methods}
    margins = {}
    for m in methods:
        if m != reference:
            d, se = _clustered_mean(loss[m] - loss[reference], origins)
            margins[m] = {"difference": d, "se": se}
    by_country = {
        str(c): {
            "forecasts": int(len(rows)),
            "onsets": int(rows["onset"].sum()),
            "mean_probability": float(rows[reference].mean()),
        }
        for c, rows in frame.groupby("country")
    }
    rules = {m: (v["difference"], v["se"]) for m, v in margins.items() if m in COUNTRY_RULES}
    behind = [m for m, (d, _) in rules.items() if d <= 0]
    return {
        "n_forecasts": int(len(frame)),
        "n_onsets": int(y.sum()),
        "n_origins": int(frame["origin"].nunique()),
        "reference": reference,
        "enough": bool(y.sum() >= MIN_STUDY_ONSETS),
        "behind": behind,
        "narrow": [m for m in _narrow(rules) if m not in behind],
        "methods": {
            m: {"brier": float(loss[m].mean()), "mean_probability": float(frame[m].mean())}
            for m in methods
        },
        "margin_vs": margins,
        "by_country": by_country,
    }


def _brier_gap(gap: float) -> str:
    """A Brier difference in words: three decimals, or "less than 0.001" (never "0.000")."""
    return "less than 0.001" if gap < 0.0005 else f"{gap:.3f}"


def _report_model_verdict(
    card: dict, margins: dict[str, tuple[float, float]], enough: bool, min_onsets: int
) -> str:
    """One sentence on the report model's probabilities for quiet units, scored like the onset
    model on the same forecasts."""
    names = RULE_NAMES
    head = (
        "The report model's probabilities for quiet units (the share of its paths with an "
        "event, as the tables and maps show), refitted at the same origins, had a Brier score "
        f"of {card['methods']['report_model']['brier']:.3f} on the same "
        f"{card['n_forecasts']} quiet-unit forecasts"
    )
    if not enough:
        return head + f"; with fewer than {min_onsets} units with a first event, that says little."
    beats = all(d > 0 for d, _ in margins.values())
    edge = beats and not _narrow(margins)
    onset = card["methods"].get("onset_model", {}).get("brier")
    if (
        onset is not None
        and round(onset, 3) == round(card["methods"]["report_model"]["brier"], 3)
        and (beats, edge) == (card.get("beats_naive"), card.get("edge_established"))
    ):
        # where the report model's quiet paths carry the onset model's probabilities the two
        # score alike: the verdict above, said again with the same numbers, added nothing
        return head + ", the onset model's to three decimals, so the same verdict holds for them."
    worse = {names[m]: -d for m, (d, _) in margins.items() if d <= 0}
    if worse:
        most = max(worse.values())
        size = _brier_gap(most) if len(worse) == 1 or most < 0.0005 else f"up to {most:.3f}"
        return (
            head + f": they did not beat {join_words(list(worse), 'or')} on these past first "
            f"events (Brier score higher by {size})."
        )
    narrow = [names[m] for m in _narrow(margins)]
    size = _shown_gaps(card, "report_model", {m: d for m, (d, _) in margins.items()})
    if not narrow:
        return (
            head + f": they beat every naive rule{size}, each by more than two standard errors "
            "(clustered by unit and origin)."
        )
    return (
        head + f": they beat every naive rule{size}, but {join_words(narrow)} by less than two "
        "standard errors (clustered by unit and origin), so the edge is not established."
    )


def _shown_gaps(card: dict, method: str, differences: dict[str, float]) -> str:
    """ " (Brier score lower by a to b)": each rule's Brier score minus ``method``'s, taken from
    the scores as the sentences print them (three decimals) where the card has them, so a
    reader who subtracts the printed numbers gets the same range (from unrounded scores it had
    read 0.003 beside 0.097 against 0.101); ``differences`` (unrounded) serve otherwise."""
    if not differences:
        return ""
    scores = card["methods"]
    own = round(scores[method]["brier"], 3)
    gaps = [
        round(scores[m]["brier"], 3) - own if m in scores else d for m, d in differences.items()
    ]
    low, high = min(gaps), max(gaps)
    if high < 0.0005:
        return " (Brier scores equal to three decimals)"
    first = "under 0.001" if low < 0.0005 else f"{low:.3f}"
    return f" (Brier score lower by {first} to {high:.3f})"


def _trained_on(card: dict) -> str:
    """Where the onset model learnt, in words, when the onset reference trained it."""
    ref = card.get("onset_reference") or {}
    if not ref.get("used"):
        return ""
    return f" (fitted on the {training_words(ref)})"


#: The naive rules in the verdicts' words.
RULE_NAMES = {
    "base_rate": "the base rate",
    "neighbour_rule": "the neighbour rule",
    "distance_decay": "distance decay",
}


def _narrow(margins: dict) -> list[str]:
    """The rules whose Brier margin is not more than two standard errors (an undefined error
    counts as narrow: nothing establishes the edge)."""
    return [m for m, (d, se) in margins.items() if not (np.isfinite(se) and d > 2 * se)]


def _verdict(card: dict, enough: bool, min_onsets: int) -> str:
    names = RULE_NAMES
    brier_ = card["methods"]["onset_model"]["brier"]
    # one origin reads "1 origin, at 2023-12", not "1 origins, 2023-12 to 2023-12"
    n = card["n_origins"]
    when = (
        f"{n} origins, {card['first_origin']} to {card['last_origin']}"
        if n != 1
        else f"1 origin, at {card['first_origin']}"
    )
    head = (
        f"On this study's own history ({when}; {card['n_forecasts']} quiet-unit forecasts, "
        f"{card['distinct_onsets']} units with a first event), the onset model"
        + _trained_on(card)
        + f" had a Brier score of {brier_:.3f} against "
        + ", ".join(f"{card['methods'][m]['brier']:.3f} for {names[m]}" for m in NAIVE_RULES)
    )
    if not enough:
        return (
            head + f". Fewer than {min_onsets} units had a first event in the backtest, too few "
            "to tell whether the model beats the naive rules, so its probabilities are not "
            "headlined."
        )
    if card["beats_naive"]:
        margins = card.get("brier_margin", {})
        pairs = {m: (v["difference"], v["se"]) for m, v in margins.items()}
        narrow = [names[m] for m in _narrow(pairs)]
        size = _shown_gaps(card, "onset_model", {m: v["difference"] for m, v in margins.items()})
        if not narrow:
            return (
                head + f": it beat every naive rule on this study's past onsets{size}, each by "
                "more than two standard errors (clustered by unit and origin)."
            )
        return (
            head + f": it beat every naive rule on this study's past onsets{size}, but over "
            f"{join_words(narrow)} by less than two standard errors (clustered by unit and "
            "origin), so the edge is not established."
        )
    lost = [names[m] for m, ok in card["beats"].items() if not ok]
    return (
        head + f": it did not beat {join_words(lost, 'or')} on this study's past onsets, so its "
        "probabilities are not headlined."
    )
