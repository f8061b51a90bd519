"""Intervals for scores pooled over rolling origins whose forecast windows share outcomes.

A backtest with ``h`` steps and an origin every ``s`` periods scores each observed month up to
``ceil(h / s)`` times, once from every origin whose window holds it, and each origin's
forecasts of one region share that origin's state. A dozen origins then hold only a few
independent windows. The moving-block bootstrap over origins and the Newey-West variance the
scorecards used before could not see that: with the reports' 12 origins 3 periods apart and 12
steps, and the dependence measured on a real backtest (below), their 90% skill intervals
excluded a true skill of 0 in 36-41% of simulated backtests, not 10%.

Here the dependence is read from the scored items themselves. An item is one forecast's
score (a region's step, or a region's window total, whose outcomes are a run of periods). Two
items of one region are correlated with

- ``kappa`` when they come from the same origin (that origin's view of the region),
- ``rho`` times their overlap fraction when they come from different origins and share
  outcomes (the same months, forecast twice),
- ``lam`` when they come from different origins and their outcomes are at most
  :data:`NEAR_PERIODS` apart (a spell of conflict spans neighbouring months);

items of different regions, or further apart, are taken as independent. The three
correlations are estimated from the items' residuals pooled over every region
(:func:`origin_covariance`); on the real JNIM backtest (active regions, ``auto`` against the
NB climatology) they were about 0.25, 0.66 and 0.1, and across regions 0.02. That gives the
covariance of the per-origin sums up to one scale, which the per-origin residuals estimate
with its Satterthwaite degrees of freedom (:func:`ratio_interval`): the interval is as wide
as a dozen dependent origins allow, and no wider. In simulated backtests with those
correlations (and with shared outcomes only, or none) the 90% interval of a null skill
excluded it in 7-13% (``docs/internals.md``, "Intervals over origins").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

#: Degrees of freedom below which no interval is given: with fewer, the t quantiles run to
#: tens of standard errors, and the scale behind them rests on one or two independent windows.
MIN_DF = 2.0

#: Items of different origins whose outcomes are at most this many periods apart (and do not
#: overlap) are correlated with ``lam``; further apart, not. On the real JNIM backtest the
#: correlation was 0.08-0.22 one to three months apart and about 0 or negative beyond.
NEAR_PERIODS = 3


@dataclass(frozen=True)
class RatioInterval:
    """A ratio of sums over origins with its interval.

    ``estimate`` is ``sum(numerator) / sum(denominator)``; ``se`` its linearised standard
    error; ``df`` the degrees of freedom of that error's estimate; ``low`` and ``high`` the
    central interval at ``level`` (NaN when ``df`` is below :data:`MIN_DF` or the error
    cannot be estimated).
    """

    estimate: float
    se: float
    df: float
    low: float
    high: float
    level: float

    def below(self, value: float) -> float:
        """Confidence (on the interval's t scale) that the true ratio is below ``value``; NaN
        without an interval.

        Parameters
        ----------
        value : float
            On the scale of ``estimate``.

        Returns
        -------
        float
            Between 0 and 1.
        """
        if not np.isfinite(self.low):
            return float("nan")
        return float(stats.t.cdf((value - self.estimate) / self.se, self.df))

    def above(self, value: float) -> float:
        """Confidence that the true ratio is above ``value``; NaN without an interval.

        Parameters
        ----------
        value : float
            On the scale of ``estimate``.

        Returns
        -------
        float
            Between 0 and 1: ``1 - below(value)``.
        """
        below = self.below(value)
        return float(1 - below) if np.isfinite(below) else below

    def p_value(self, null: float = 0.0) -> float:
        """Two-sided p-value of ``estimate == null`` on the same t scale; NaN without an
        interval. Below ``1 - level`` exactly when the interval excludes ``null``.

        Parameters
        ----------
        null : float, optional
            The value tested; 0 by default.

        Returns
        -------
        float
        """
        below = self.below(null)
        return float(2 * min(below, 1 - below)) if np.isfinite(below) else below


@dataclass(frozen=True)
class OriginCovariance:
    """The covariance of per-origin sums of item residuals, up to a scale.

    ``matrix`` is (origin, origin), in units of one item's residual variance; ``kappa``,
    ``rho`` and ``lam`` are the correlations it was built from (module docstring).
    """

    matrix: np.ndarray
    kappa: float
    rho: float
    lam: float


@dataclass(frozen=True)
class OriginPairs:
    """Which scored items are correlated, and how: the layout of :func:`origin_covariance`,
    built once per set of items (:func:`origin_pairs`) and reused for every statistic over
    them.

    ``origin`` is each item's origin (index into ``origins``); ``first``/``second`` (item
    indices, each unordered pair once), ``kind`` (0: same origin, 1: different origins
    sharing outcomes, 2: different origins, outcomes at most :data:`NEAR_PERIODS` apart) and
    ``fraction`` (the overlap fraction, for kind 1) list the pairs of one region that are
    correlated at all; ``windows`` is true when some item spans several periods.
    """

    origins: list
    origin: np.ndarray
    first: np.ndarray
    second: np.ndarray
    kind: np.ndarray
    fraction: np.ndarray
    windows: bool


def origin_pairs(items: pd.DataFrame, origins: list | None = None) -> OriginPairs:
    """The correlated pairs of ``items`` (one region's, within the reach above).

    Parameters
    ----------
    items : DataFrame
        One row per scored item: ``origin``, ``region_id`` and the item's outcome periods
        as ``first`` and ``last`` (consecutive integers for consecutive periods, inclusive:
        equal for a step's forecast; :func:`step_items`).
    origins : list, optional
        The origins, in the order of the covariance matrix; as they first appear by default.

    Returns
    -------
    OriginPairs
    """
    origins = list(pd.unique(items["origin"])) if origins is None else list(origins)
    where = {o: k for k, o in enumerate(origins)}
    origin = items["origin"].map(where).to_numpy(int)
    start, end = items["first"].to_numpy(int), items["last"].to_numpy(int)
    if (end < start).any():
        raise ValueError("expected item windows with last >= first")
    parts: list[tuple[np.ndarray, ...]] = []
    by_region = pd.Series(np.arange(len(items))).groupby(items["region_id"].to_numpy()).indices
    for rows in by_region.values():
        # one region's pairs as dense masks (a few hundred items at most), kept sparse
        i, j = np.triu_indices(len(rows), k=1)
        o, a, b = origin[rows], start[rows], end[rows]
        overlap = np.clip(np.minimum(b[i], b[j]) - np.maximum(a[i], a[j]) + 1, 0, None)
        gap = np.maximum(a[i], a[j]) - np.minimum(b[i], b[j])
        same = o[i] == o[j]
        kind = np.full(len(i), -1)
        kind[~same & (overlap == 0) & (gap <= NEAR_PERIODS)] = 2
        kind[~same & (overlap > 0)] = 1
        kind[same] = 0
        keep = kind >= 0
        length = b - a + 1
        fraction = overlap / np.sqrt(length[i] * length[j])
        parts.append((rows[i[keep]], rows[j[keep]], kind[keep], fraction[keep]))
    joined = [np.concatenate(p) for p in zip(*parts, strict=True)] if parts else [np.empty(0)] * 4
    return OriginPairs(
        origins, origin, joined[0].astype(int), joined[1].astype(int), joined[2].astype(int),
        joined[3].astype(float), bool((end > start).any()),
    )  # fmt: skip


def origin_covariance(
    pairs: OriginPairs, residuals: np.ndarray, weights: np.ndarray | None = None
) -> OriginCovariance:
    """The covariance shape of per-origin sums of ``weights * residuals``.

    Parameters
    ----------
    pairs : OriginPairs
        The items' layout (:func:`origin_pairs`).
    residuals : ndarray
        Each item's residual (its part of the statistic minus the estimate's share of it),
        from which the correlations are estimated.
    weights : ndarray, optional
        Each item's weight in its origin's sum (``1 / items at the origin`` for per-origin
        means); ones by default.

    Returns
    -------
    OriginCovariance
        Each correlation is the mean cross-product of the residual pairs of its kind over
        the mean squared residual (the overlap fraction's sum for ``rho``), clipped to [0,
        1]: a negative estimate would narrow the interval on the strength of noise. Window
        totals take ``rho`` = 1: a region's few totals from overlapping windows, centred on
        their own mean, made its estimate 0 in two thirds of simulated one-region backtests
        (true about 0.66), and their intervals missed in a third of them. The matrix is
        projected onto the positive semidefinite ones: correlations estimated one by one
        need not make a covariance.
    """
    e = np.asarray(residuals, float)
    w = np.ones(len(e)) if weights is None else np.asarray(weights, float)
    i, j, kind = pairs.first, pairs.second, pairs.kind
    cross = e[i] * e[j]
    scale = np.where(kind == 1, pairs.fraction, 1.0)
    variance = float(np.mean(e**2)) if e.size else 0.0
    theta = np.zeros(3)
    for k in range(3):
        n = scale[kind == k].sum()
        if n > 0 and variance > 0:
            theta[k] = np.clip(cross[kind == k].sum() / (n * variance), 0.0, 1.0)
    if pairs.windows:
        theta[1] = 1.0
    n_origins = len(pairs.origins)
    c = np.where(kind == 1, theta[1] * pairs.fraction, theta[kind]) * w[i] * w[j]
    flat = pairs.origin[i] * n_origins + pairs.origin[j]
    K = np.bincount(flat, c, minlength=n_origins**2).reshape(n_origins, n_origins)
    K = K + K.T + np.diag(np.bincount(pairs.origin, w**2, minlength=n_origins))
    values, vectors = np.linalg.eigh(K)
    K = (vectors * np.clip(values, 0.0, None)) @ vectors.T
    return OriginCovariance(K, float(theta[0]), float(theta[1]), float(theta[2]))


def ratio_interval(
    numerator: np.ndarray,
    denominator: np.ndarray,
    covariance: np.ndarray,
    level: float = 0.9,
) -> RatioInterval:
    """``sum(numerator) / sum(denominator)`` over origins, with an interval that allows for
    the dependence between origins given by ``covariance``.

    Parameters
    ----------
    numerator, denominator : ndarray
        Per-origin sums (e.g. the model's and the baseline's summed CRPS, or the covered
        outcomes and the outcomes scored; a mean of per-origin values is the numerator over
        a denominator of ones).
    covariance : ndarray
        The covariance of the per-origin residuals ``numerator - ratio * denominator`` up to
        a scale (:attr:`OriginCovariance.matrix`).
    level : float
        Central level of the interval.

    Returns
    -------
    RatioInterval

    Notes
    -----
    With ``u = numerator - R denominator`` of covariance ``sigma^2 K``, the estimate's error
    is ``sum(u) / sum(denominator)``, of variance ``sigma^2 1'K1 / sum(denominator)^2``. The
    residuals ``z = A u``, ``A = I - denominator 1' / sum(denominator)``, have
    ``E[z'z] = sigma^2 tr(A K A')``, which gives ``sigma^2`` without bias, and
    ``tr(Q)^2 / tr(Q^2)``, ``Q = A K A'``, its Satterthwaite degrees of freedom.
    """
    a = np.asarray(numerator, float)
    b = np.asarray(denominator, float)
    K = np.asarray(covariance, float)
    nan = float("nan")
    total = float(b.sum())
    if not total > 0:
        return RatioInterval(nan, nan, nan, nan, nan, level)
    ratio = float(a.sum() / total)
    if len(a) < 2:
        return RatioInterval(ratio, nan, nan, nan, nan, level)
    z = a - ratio * b
    A = np.eye(len(a)) - np.outer(b, np.ones(len(a))) / total
    Q = A @ K @ A.T
    trace = float(np.trace(Q))
    if not trace > 0:
        return RatioInterval(ratio, nan, nan, nan, nan, level)
    se = float(np.sqrt(float(z @ z) / trace * max(float(K.sum()), 0.0)) / total)
    df = trace**2 / float(np.sum(Q * Q.T))
    # no spread among the origins is no evidence of certainty (every total of a few inside
    # its interval read "100% (100%-100%), too wide")
    if df < MIN_DF or not se > 0:
        return RatioInterval(ratio, se, df, nan, nan, level)
    q = float(stats.t.ppf(0.5 + level / 2, df))
    return RatioInterval(ratio, se, df, ratio - q * se, ratio + q * se, level)


def pooled_ratio(
    items: pd.DataFrame | OriginPairs,
    numerator: np.ndarray,
    denominator: np.ndarray,
    level: float = 0.9,
    weights: np.ndarray | None = None,
) -> RatioInterval:
    """A ratio of item sums pooled over origins (``sum(w * numerator) / sum(w *
    denominator)``) with its interval: per-origin sums, the items' residuals, their
    covariance (:func:`origin_covariance`) and :func:`ratio_interval`.

    Parameters
    ----------
    items : DataFrame or OriginPairs
        As for :func:`origin_pairs`, one row per item, or the layout it made (to reuse it
        for several statistics over the same items).
    numerator, denominator : ndarray
        Each item's part of the ratio's numerator and denominator.
    level : float
    weights : ndarray, optional
        Each item's weight (ones by default).

    Returns
    -------
    RatioInterval
    """
    pairs = items if isinstance(items, OriginPairs) else origin_pairs(items)
    num = np.asarray(numerator, float)
    den = np.asarray(denominator, float)
    w = np.ones(len(num)) if weights is None else np.asarray(weights, float)
    n = len(pairs.origins)
    per_num = np.bincount(pairs.origin, w * num, minlength=n)
    per_den = np.bincount(pairs.origin, w * den, minlength=n)
    total = per_den.sum()
    ratio = per_num.sum() / total if total > 0 else 0.0
    cov = origin_covariance(pairs, num - ratio * den, w)
    return ratio_interval(per_num, per_den, cov.matrix, level)


def step_items(scores: pd.DataFrame, window: str | None = None) -> pd.DataFrame:
    """The items of backtest scores (``origin``, ``region_id``, ``step``, ``period``).

    Parameters
    ----------
    scores : DataFrame
    window : str, optional
        The column holding each row's window length in periods, for window totals scored
        as one row ending at ``period``; each row is one period without it.

    Returns
    -------
    DataFrame
        ``origin``, ``region_id``, ``first`` and ``last``: periods numbered consecutively
        (months, or quarters where ``period`` lies ``step`` quarters past ``origin``).
    """
    months = _months(scores["period"])
    ahead = months - _months(scores["origin"])
    steps = scores["step"].to_numpy(int)
    spacing = max(int(np.round(np.median(ahead / steps))), 1) if len(steps) else 1
    last = months // spacing
    length = scores[window].to_numpy(int) if window is not None else np.ones(len(last), int)
    return pd.DataFrame(
        {
            "origin": scores["origin"].to_numpy(),
            "region_id": scores["region_id"].to_numpy(),
            "first": last - length + 1,
            "last": last,
        }
    )


def _months(periods: pd.Series) -> np.ndarray:
    when = pd.DatetimeIndex(pd.to_datetime(np.asarray(periods)))
    return np.asarray(when.year * 12 + when.month - 1, int)
