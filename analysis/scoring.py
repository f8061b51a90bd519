"""Scoring rules for sample forecasts of counts: pure functions of observations and samples.

CRPS has two sample estimators here. :func:`crps_ensemble` is the energy form
``E|X - y| - 1/2 E|X - X'|`` with the empirical distribution of the samples (the 1/M**2 "nrg"
estimator of scoringrules, which is also what properscoring's ``crps_ensemble`` used by VIEWS
computes). It is biased upward by ``E|X - X'| / (2M)``, more for wider forecasts, so with few
samples it penalises spread. :func:`crps_fair` divides the spread term by ``M (M - 1)``
instead (the "fair" estimator of Ferro 2014, scoringrules' ``estimator="fair"``): unbiased for
the CRPS of the distribution the samples come from, which is what a choice between models
needs. Both are evaluated exactly in O(M log M) by sorting.

Nothing here knows about models, panels or backtests.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis.errors import InputError

# VIEWS bins for the ignorance score (counts): 0 | 1-2 | 3-5 | 6-10 | 11-25 | ... | >1000
VIEWS_IGN_EDGES = np.array(
    [0, 0.5, 2.5, 5.5, 10.5, 25.5, 50.5, 100.5, 250.5, 500.5, 1000.5, np.inf]
)
# 0.9: the central interval the reports quote, so its coverage is scored too
LEVELS = (0.5, 0.8, 0.9, 0.95)


# --------------------------------------------------------------------------- scoring rules


def _check(obs: np.ndarray, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    obs = np.asarray(obs, dtype=float)
    samples = np.asarray(samples, dtype=float)
    if samples.shape[:-1] != obs.shape:
        raise InputError(
            f"expected samples of shape obs.shape + (n_samples,); got {samples.shape} for "
            f"obs {obs.shape}"
        )
    return obs, samples


def _crps_terms(obs: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``mean|x_i - y|`` and ``sum_ij |x_i - x_j| / 2`` by sorting (both CRPS estimators)."""
    M = x.shape[-1]
    xs = np.sort(x, axis=-1)
    term1 = np.abs(xs - obs[..., None]).mean(axis=-1)
    # sum_ij |x_i - x_j| = 2 sum_i (2i - M - 1) x_(i), i = 1..M
    w = 2.0 * np.arange(1, M + 1) - M - 1
    return term1, (xs * w).sum(axis=-1)


def crps_ensemble(obs: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """CRPS of sample forecasts, energy form with the 1/M**2 estimator.

    Parameters
    ----------
    obs : ndarray (...)
    samples : ndarray (..., M)

    Returns
    -------
    ndarray (...)
        ``mean|x_i - y| - (1 / (2 M**2)) sum_ij |x_i - x_j|``.
    """
    obs, x = _check(obs, samples)
    term1, spread = _crps_terms(obs, x)
    return term1 - spread / x.shape[-1] ** 2


def crps_fair(obs: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """CRPS of sample forecasts, fair (unbiased) estimator.

    Parameters
    ----------
    obs : ndarray (...)
    samples : ndarray (..., M), M >= 2

    Returns
    -------
    ndarray (...)
        ``mean|x_i - y| - (1 / (2 M (M - 1))) sum_ij |x_i - x_j|``.
    """
    obs, x = _check(obs, samples)
    M = x.shape[-1]
    if M < 2:
        raise InputError("the fair CRPS needs at least two samples per forecast")
    term1, spread = _crps_terms(obs, x)
    return term1 - spread / (M * (M - 1))


def crps_both(obs: np.ndarray, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`crps_ensemble` and :func:`crps_fair` (the former again with one sample) from
    one sort of the samples: the same numbers at half the cost.

    Parameters
    ----------
    obs : ndarray (...)
    samples : ndarray (..., M)

    Returns
    -------
    (ndarray (...), ndarray (...))
        The CRPS by the 1/M**2 estimator, then by the fair one.

    Raises
    ------
    InputError
        When the shape of ``samples`` is not ``obs.shape + (M,)``.
    """
    obs, x = _check(obs, samples)
    M = x.shape[-1]
    term1, spread = _crps_terms(obs, x)
    return term1 - spread / M**2, term1 - spread / (M * (M - 1) if M > 1 else 1)


def crps_fair_halves(obs: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """Fair CRPS of each half of the samples, stacked on a new last axis (..., 2).

    The difference between the halves estimates the Monte Carlo error of the fair CRPS:
    ``Var(full) ~ Var(half_1 - half_2) / 4`` (two independent estimates of one quantity,
    each with twice the variance of the full-sample one).

    Parameters
    ----------
    obs : ndarray (...)
    samples : ndarray (..., M), M >= 4
        With an odd M the last sample is left out.

    Returns
    -------
    ndarray (..., 2)

    Raises
    ------
    InputError
        With fewer than four samples, or when the shape of ``samples`` is not
        ``obs.shape + (M,)``.
    """
    obs, x = _check(obs, samples)
    M = x.shape[-1] // 2
    if M < 2:
        raise InputError("need at least four samples to split into halves")
    return np.stack([crps_fair(obs, x[..., :M]), crps_fair(obs, x[..., M : 2 * M])], axis=-1)


def twcrps_ensemble(obs: np.ndarray, samples: np.ndarray, threshold: float = 1.0) -> np.ndarray:
    """Threshold-weighted CRPS with weight ``1{z >= threshold}``.

    Computed as the CRPS of the chained values ``max(z, threshold)`` (Allen et al. 2023), the
    same as scoringrules' ``twcrps_ensemble`` with ``v_func = max(z, t)``.

    Parameters
    ----------
    obs : ndarray (...)
    samples : ndarray (..., M)
    threshold : float
        Counts below it are scored as equal to it.

    Returns
    -------
    ndarray (...)

    Raises
    ------
    InputError
        When the shape of ``samples`` is not ``obs.shape + (M,)``.
    """
    obs, x = _check(obs, samples)
    return crps_ensemble(np.maximum(obs, threshold), np.maximum(x, threshold))


def interval_score(
    obs: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float
) -> np.ndarray:
    """Interval score of the central ``level`` interval (Gneiting and Raftery 2007).

    Parameters
    ----------
    obs : ndarray
    lower, upper : ndarray
        Limits of the interval, broadcastable with ``obs``.
    level : float
        Nominal coverage of the interval, between 0 and 1.

    Returns
    -------
    ndarray
        Width plus ``2 / (1 - level)`` times the distance of ``obs`` outside the interval.
    """
    a = 1.0 - level
    obs = np.asarray(obs, float)
    return (
        (upper - lower)
        + (2.0 / a) * np.clip(lower - obs, 0, None)
        + (2.0 / a) * np.clip(obs - upper, 0, None)
    )


def sample_quantiles(samples: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles along the last axis (inverted empirical CDF: always a sampled count).

    Parameters
    ----------
    samples : ndarray (..., M)
    qs : sequence of float
        Probabilities, each between 0 and 1.

    Returns
    -------
    ndarray (len(qs), ...)
    """
    return np.quantile(np.asarray(samples), qs, axis=-1, method="inverted_cdf").astype(float)


def ignorance(
    obs: np.ndarray, samples: np.ndarray, edges: np.ndarray = VIEWS_IGN_EDGES
) -> np.ndarray:
    """Ignorance (-log2 probability of the observed bin), VIEWS bins.

    Bin probabilities come from the samples with 0.5 added to every bin count, so that a bin
    no sample fell into gets a finite (large) penalty rather than infinity.

    Parameters
    ----------
    obs : ndarray (...)
    samples : ndarray (..., M)
    edges : ndarray
        Increasing bin edges; bin k holds values from ``edges[k]`` up to, not including,
        ``edges[k + 1]``. Values outside the edges count in the first or last bin.

    Returns
    -------
    ndarray (...)
        In bits.

    Raises
    ------
    InputError
        When the shape of ``samples`` is not ``obs.shape + (M,)``.
    """
    obs, x = _check(obs, samples)
    K = len(edges) - 1
    M = x.shape[-1]
    ob = np.clip(np.searchsorted(edges, obs, side="right") - 1, 0, K - 1)
    xb = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, K - 1)
    count = (xb == ob[..., None]).sum(axis=-1)
    return -np.log2((count + 0.5) / (M + 0.5 * K))


def randomized_pit(
    obs: np.ndarray, samples: np.ndarray, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Randomised PIT for counts: ``F(y-1) + U (F(y) - F(y-1))``, uniform if calibrated.

    Parameters
    ----------
    obs : ndarray (...)
    samples : ndarray (..., M)
    rng : numpy.random.Generator, optional
        Source of the uniform draws (default: a generator seeded with 0).

    Returns
    -------
    ndarray (...)

    Raises
    ------
    InputError
        When the shape of ``samples`` is not ``obs.shape + (M,)``.
    """
    return _draw_pit(*pit_interval(obs, samples), rng)


def _draw_pit(below: np.ndarray, at: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    rng = rng or np.random.default_rng(0)
    return below + rng.uniform(size=below.shape) * (at - below)


def pit_interval(obs: np.ndarray, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(F(y-1), F(y))``: the interval over which a count's randomised PIT is uniform.

    Parameters
    ----------
    obs : ndarray (...)
    samples : ndarray (..., M)

    Returns
    -------
    (ndarray (...), ndarray (...))
        Share of the samples below ``obs``, and share at or below it.

    Raises
    ------
    InputError
        When the shape of ``samples`` is not ``obs.shape + (M,)``.
    """
    obs, x = _check(obs, samples)
    return (x < obs[..., None]).mean(axis=-1), (x <= obs[..., None]).mean(axis=-1)


def expected_central_coverage(below: np.ndarray, at: np.ndarray, level: float) -> np.ndarray:
    """Probability that the randomised PIT, uniform on ``[below, at]``, falls inside the
    central ``level`` interval ``(a, 1 - a)``, ``a = (1 - level) / 2``.

    This is the randomised-PIT coverage indicator averaged over its uniform draw (the
    non-randomised PIT of Czado, Gneiting and Held 2009, Biometrics 65): the same expectation
    with none of the draw's noise. That noise is shared by every model scored with the same
    draws, so per step it moved every model's coverage together (by up to 4 points at one
    step of a 72-origin backtest) and read as a miscalibration at that step.

    Parameters
    ----------
    below, at : ndarray
        The PIT interval of each forecast (:func:`pit_interval`).
    level : float
        Nominal coverage of the central interval, between 0 and 1.

    Returns
    -------
    ndarray
        One probability per forecast.
    """
    a = (1.0 - level) / 2.0
    return _uniform_share_inside(below, at, a, 1.0 - a)


def expected_share_above_median(below: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Probability that the randomised PIT, uniform on ``[below, at]``, is above 0.5: the
    outcome above the forecast's median, averaged over the draw as in
    :func:`expected_central_coverage`.

    Parameters
    ----------
    below, at : ndarray
        The PIT interval of each forecast (:func:`pit_interval`).

    Returns
    -------
    ndarray
        One probability per forecast.
    """
    return _uniform_share_inside(below, at, 0.5, np.inf)


def _uniform_share_inside(below: np.ndarray, at: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Share of ``U(below, at)`` inside ``(lo, hi)``; a point mass (``below == at``) is
    inside or not."""
    below = np.asarray(below, dtype=float)
    at = np.asarray(at, dtype=float)
    width = at - below
    overlap = np.clip(np.minimum(at, hi) - np.maximum(below, lo), 0.0, None)
    point = ((below > lo) & (below < hi)).astype(float)
    return np.where(width > 0, overlap / np.where(width > 0, width, 1.0), point)


def score_samples(
    obs: np.ndarray, samples: np.ndarray, *, rng: np.random.Generator | None = None
) -> dict[str, np.ndarray]:
    """Every per-forecast score for obs (...) and samples (..., M), as arrays of shape (...).

    Parameters
    ----------
    obs : ndarray (...)
    samples : ndarray (..., M)
    rng : numpy.random.Generator, optional
        Source of the randomised PIT's draws (see :func:`randomized_pit`).

    Returns
    -------
    dict
        Score name -> ndarray (...): ``crps``, ``crps_fair``, ``twcrps``, ``interval_score_95``,
        ``interval_score_80``, ``brier_any``, ``ignorance``, ``ae_median``, ``pit``,
        ``pit_above_median``, ``mean``, ``median``, ``p_any``, and ``pit_coverage_<pct>`` and
        ``closed_coverage_<pct>`` for each level of :data:`LEVELS`.

    Raises
    ------
    InputError
        When the shape of ``samples`` is not ``obs.shape + (M,)``.
    """
    obs, x = _check(obs, samples)
    q = sample_quantiles(x, [0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975])
    lo = {0.5: q[3], 0.8: q[2], 0.9: q[1], 0.95: q[0]}
    below, at = pit_interval(obs, x)
    hi = {0.5: q[5], 0.8: q[6], 0.9: q[7], 0.95: q[8]}
    p_any = (x >= 1).mean(axis=-1)
    crps, fair = crps_both(obs, x)
    out = {
        "crps": crps,
        "crps_fair": fair,
        "twcrps": twcrps_ensemble(obs, x, 1.0),
        "interval_score_95": interval_score(obs, lo[0.95], hi[0.95], 0.95),
        "interval_score_80": interval_score(obs, lo[0.8], hi[0.8], 0.8),
        "brier_any": (p_any - (obs >= 1)) ** 2,
        "ignorance": ignorance(obs, x),
        "ae_median": np.abs(q[4] - obs),
        "pit": _draw_pit(below, at, rng),
        "pit_above_median": expected_share_above_median(below, at),
        "mean": x.mean(axis=-1),
        "median": q[4],
        "p_any": p_any,
    }
    # Coverage that readers see is the randomised-PIT kind: the share of PIT values inside the
    # central interval, exactly the nominal level for a calibrated discrete forecast, taken as
    # its expectation over the PIT's uniform draw (expected_central_coverage). Closed
    # sample-quantile intervals cover at least their level (a [0, 0] interval covers every
    # zero), so they are kept only under a name that says what they are.
    for lev in LEVELS:
        pct = round(lev * 100)
        out[f"pit_coverage_{pct}"] = expected_central_coverage(below, at, lev)
        out[f"closed_coverage_{pct}"] = ((obs >= lo[lev]) & (obs <= hi[lev])).astype(float)
    return out


# Probabilities of a binary outcome (e.g. a first event within h periods).

RELIABILITY_BINS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)


def brier(p: np.ndarray, y: np.ndarray) -> float:
    """Mean squared difference between probabilities and 0/1 outcomes.

    Parameters
    ----------
    p : ndarray
        Forecast probabilities.
    y : ndarray
        Outcomes, 0 or 1.

    Returns
    -------
    float
    """
    return float(np.mean((np.asarray(p, float) - np.asarray(y, float)) ** 2))


def log_score(p: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood of 0/1 outcomes (probabilities clipped to 1e-6).

    Parameters
    ----------
    p : ndarray
        Forecast probabilities.
    y : ndarray
        Outcomes, 0 or 1.

    Returns
    -------
    float
    """
    p = np.clip(np.asarray(p, float), 1e-6, 1 - 1e-6)
    y = np.asarray(y, float)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def roc_auc(p: np.ndarray, y: np.ndarray) -> float:
    """ROC AUC by the rank (Mann-Whitney) formula, ties counted half; NaN without both classes.

    Parameters
    ----------
    p : ndarray
        Forecast probabilities.
    y : ndarray
        Outcomes, 0 or 1.

    Returns
    -------
    float
    """
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
    """Mean predicted probability and observed frequency in probability bins (non-empty ones).

    Parameters
    ----------
    p : ndarray
        Forecast probabilities.
    y : ndarray
        Outcomes, 0 or 1.
    bins : sequence of float
        Bin edges from 0 to 1; a probability at an inner edge falls in the bin above it.

    Returns
    -------
    list of dict
        One per non-empty bin: ``bin`` (its edges), ``n``, ``mean_predicted``,
        ``observed_frequency`` and ``onsets`` (outcomes equal to 1).
    """
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
