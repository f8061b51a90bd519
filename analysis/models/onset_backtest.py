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

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.models.onset import OnsetSpec, fit_onset

__all__ = [
    "NAIVE_NEEDS",
    "RELIABILITY_BINS",
    "brier",
    "log_score",
    "roc_auc",
    "reliability",
    "naive_onset_rules",
    "rolling_onset_evaluation",
    "onset_scorecard",
]

#: Feature columns the naive rules read from the design.
NAIVE_NEEDS = ("nb_first", "near_order")
RELIABILITY_BINS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)


def brier(p: np.ndarray, y: np.ndarray) -> float:
    """Mean squared difference between probabilities and 0/1 outcomes."""
    return float(np.mean((np.asarray(p, float) - np.asarray(y, float)) ** 2))


def log_score(p: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood of 0/1 outcomes (probabilities clipped to 1e-6)."""
    p = np.clip(np.asarray(p, float), 1e-6, 1 - 1e-6)
    y = np.asarray(y, float)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def roc_auc(p: np.ndarray, y: np.ndarray) -> float:
    """ROC AUC by the rank (Mann-Whitney) formula, ties counted half; NaN without both classes."""
    from scipy.stats import rankdata

    y = np.asarray(y).astype(bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(np.asarray(p, float))
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def reliability(
    p: np.ndarray, y: np.ndarray, bins: Sequence[float] = RELIABILITY_BINS
) -> list[dict]:
    """Mean predicted probability and observed frequency in probability bins (non-empty ones)."""
    p = np.asarray(p, float)
    y = np.asarray(y, float)
    edges = list(bins)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, len(edges) - 2)
    rows = []
    for b in range(len(edges) - 1):
        m = idx == b
        if m.any():
            rows.append(
                {
                    "bin": [edges[b], edges[b + 1]],
                    "n": int(m.sum()),
                    "mean_predicted": float(p[m].mean()),
                    "observed_frequency": float(y[m].mean()),
                    "onsets": int(y[m].sum()),
                }
            )
    return rows


def naive_onset_rules(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, np.ndarray]:
    """Base rate, calibrated neighbour rule and distance decay, estimated on ``train``.

    Rates carry add-one smoothing so that early, small training sets give no 0 or 1.
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
        Evaluation origins (indices); those without quiet units are skipped.
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
        frame = test[["origin", "region_id", "country", "onset"]].copy()
        frame["onset_model"] = fit_onset(train, spec, cluster=None).predict(test)
        frame["plain_logistic"] = fit_onset(train, plain, cluster=None).predict(test)
        for name, p in naive_onset_rules(train, test).items():
            frame[name] = p
        parts.append(frame)
    if not parts:
        raise InputError("no evaluation origin has quiet units")
    return pd.concat(parts, ignore_index=True)


def onset_scorecard(pred: pd.DataFrame, methods: Sequence[str], reference: str = "onset_model"):
    """Brier, log score and AUC per method, Brier skill of ``reference`` against each other one,
    and the reliability table of ``reference``."""
    y = pred["onset"].to_numpy(float)
    scores = {
        m: {
            "brier": brier(pred[m], y),
            "log_score": log_score(pred[m], y),
            "auc": roc_auc(pred[m], y),
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
        f"reliability_{reference}": reliability(pred[reference], y),
    }
