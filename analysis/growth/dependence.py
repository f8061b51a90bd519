"""Variances of the NB2 estimating equations under serial dependence: Newey-West HAC,
the AR(1) own-lag sandwich, the own-lag NB model interval, and which of them the headlines use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.models.counts import NB2Fit
from analysis.models.inarch import inarch_mle

#: Dependence-aware interval(s) in the headline of rate ratios: ``"ar1"``, ``"inarch"`` or their
#: hull ``"ar1+inarch"``, always hulled with the independent-count NB interval. Chosen by the
#: coverage study in ``benchmarks/growth_coverage.py`` (see docs/internals.md, "Growth
#: intervals"): for ratios the AR(1) sandwich alone covers best (the hull with the own-lag model
#: over-covers at 99-100% in three scenarios).
HEADLINE_INTERVAL = "ar1"

#: The same for trends: the hull of the AR(1) sandwich and the own-lag NB model, which was
#: within simulation error of 93-97% in every scenario with own-lag up to 0.7 (the AR(1)
#: sandwich alone fell to 90% for sparse, strongly dependent growing series).
TREND_HEADLINE_INTERVAL = "ar1+inarch"


def _headline_parts(name: str) -> tuple[str, ...]:
    return tuple(name.split("+"))


#: Upper clip of the estimated own-lag correlation: beyond it a short series cannot tell a
#: persistent level from a trend, and the variance factor explodes.
_MAX_OWN_LAG = 0.95

#: Average the AR(1) sandwich over the sampling uncertainty of the estimated own-lag correlation.
_RHO_UNCERTAINTY = True

#: Floor of the Satterthwaite degrees of freedom of the AR(1) interval of rate ratios. Below 3
#: the t reference has no finite variance and the approximation is outside its range: with
#: 12-month windows and a high estimated own-lag share it fell to 1-2 in up to 60% of the series
#: of ``benchmarks/growth_coverage.py`` and gave intervals spanning 10^9 to 10^49 (a reader was
#: shown a ratio "between 1.5e-12 and 6.5e11"). At 3 the widest fall to 10^2-10^16 and the
#: ratio headline's coverage moved by at most 0.8 points in any scenario (two runs of 500
#: series; 0.5 points in the 60 scenarios of the benchmark). Trends keep the unfloored t: there
#: the floor cost coverage at own-lag 0.8 (24 months, level 2: 90.0% -> 88.5%, 200 series).
_MIN_AR1_DF = 3.0


def newey_west_bandwidth(n: int) -> int:
    """Newey-West lag truncation used for HAC standard errors: ``floor(4 (n / 100) ** (2/9))``.

    The rule of thumb of Newey and West (1994) for the Bartlett kernel: 2 lags for 24 months,
    3 for 48 to 72 months, 4 from 124 months.

    Parameters
    ----------
    n : int
        Number of periods.

    Returns
    -------
    int
        At least 1.
    """
    return max(1, int(math.floor(4 * (n / 100) ** (2 / 9))))


@dataclass(frozen=True)
class _Dependence:
    """Covariances of NB2 coefficients under serial dependence, and what they rest on."""

    cov_hac: np.ndarray
    cov_ar1: np.ndarray
    own_lag: float
    bandwidth: int
    df_ar1: float


def ar1_mean_variance_factor(own_lag: float, n: int) -> float:
    """Variance of the mean of ``n`` periods with AR(1) correlation ``own_lag ** |s - t|``,
    relative to independent periods: ``1 + 2 sum_{j<n} (1 - j/n) own_lag ** j``.

    For a window of constant mean it is what the AR(1) sandwich multiplies the independent
    variance of the window's log mean by; ``(1 + own_lag) / (1 - own_lag)`` is its limit as
    ``n`` grows (at own-lag 0.95 and 12 months the factor is 9.9, the limit 39).

    Parameters
    ----------
    own_lag : float
        Lag-1 correlation of consecutive periods.
    n : int
        Periods in the window.

    Returns
    -------
    float
        1 for ``n`` of 1 (or less) or an own-lag of 0.
    """
    j = np.arange(1, max(int(n), 1))
    return float(1 + 2 * np.sum((1 - j / n) * own_lag**j))


def _segments_lag_pairs(segments: np.ndarray, lag: int) -> np.ndarray:
    """Indices ``t`` such that ``t`` and ``t - lag`` lie in the same segment."""
    t = np.arange(lag, segments.size)
    return t[segments[t] == segments[t - lag]]


def _own_lag_correlation(pearson: np.ndarray, segments: np.ndarray, n_trend: int = 1) -> float:
    """Lag-1 autocorrelation of Pearson residuals within segments, corrected for small-sample bias.

    The lag-1 autocorrelation of the residuals of an AR(1) series of length ``n`` around a
    fitted mean (``k = n_trend = 1``) is biased down by about ``(1 + 4 rho) / n`` (Marriott and
    Pope 1954); around a fitted line (``k = 2``) by about ``(2 + 5 rho) / n`` (one more
    coefficient, as for the least-squares AR(1) estimator with a trend). Solving
    ``r = rho - (k + (k + 3) rho) / n`` for ``rho`` removes most of it. An NB model with an
    own-lag term (INARCH(1), a one-region endemic-epidemic model) implies exactly this AR(1)
    correlation. Negative values are kept (down to -0.5): the intervals built on them are
    never used narrower than the independent-count ones.
    """
    pairs = _segments_lag_pairs(segments, 1)
    if pairs.size < 3 or not np.all(np.isfinite(pearson)):
        return 0.0
    den = float(np.mean(pearson**2))
    if den <= 0:
        return 0.0
    r1 = float(np.mean(pearson[pairs] * pearson[pairs - 1])) / den
    n = segments.size / np.unique(segments).size
    rho = (n * r1 + n_trend) / (n - n_trend - 3) if n > 2 * (n_trend + 3) else r1
    return float(np.clip(rho, -0.5, _MAX_OWN_LAG))


def _dependence(
    fit: NB2Fit, y: np.ndarray, X: np.ndarray, segments: np.ndarray, rho: float | None = None
) -> _Dependence:
    """Newey-West and AR(1)-correlation sandwich covariances of an NB2 fit's coefficients.

    Both use the NB2 estimating equations ``sum_t x_t (y_t - mu_t) / (1 + alpha mu_t) = 0``
    (the point estimates are unchanged) and the expected information as the bread. HAC: the
    meat is the Bartlett-weighted sum of empirical score cross-products up to
    :func:`newey_west_bandwidth` lags. AR(1): the meat is the model variance of the scores with
    correlation ``rho ** |s - t|`` between periods of the same segment (windows of a ratio are
    separate segments), ``rho`` from :func:`_own_lag_correlation` unless given; with
    ``rho = 0`` it is the usual model-based covariance.
    """
    mu = np.exp(np.clip(X @ fit.params, -50, 50))
    w = 1.0 / (1.0 + fit.alpha * mu)
    info = (X * (mu * w)[:, None]).T @ X
    bread = _safe_inv(info)
    scores = X * (w * (y - mu))[:, None]
    bandwidth = newey_west_bandwidth(y.size)
    meat = scores.T @ scores
    for lag in range(1, bandwidth + 1):
        t = _segments_lag_pairs(segments, lag)
        cross = scores[t].T @ scores[t - lag]
        meat += (1 - lag / (bandwidth + 1)) * (cross + cross.T)
    cov_hac = bread @ meat @ bread
    if rho is None:
        pearson = (y - mu) / np.sqrt(mu + fit.alpha * mu**2)
        # Coefficients other than segment intercepts (a trend) bias the residual correlation.
        n_trend = 1 + (X.shape[1] - np.unique(segments).size > 0)
        rho = _own_lag_correlation(pearson, segments, n_trend)
    g = X * np.sqrt(mu * w)[:, None]
    # rho is estimated from a short series: average the sandwich over its sampling uncertainty
    # (sd ~ sqrt((1 - rho^2) / n)) rather than plugging it in; the variance is convex in rho, so
    # a plug-in understates it.
    n_seg = y.size / np.unique(segments).size
    sd = math.sqrt(max(1 - rho**2, 0.05) / n_seg) if _RHO_UNCERTAINTY else 0.0
    cov_ar1 = _ar1_sandwich(bread, g, segments, rho, sd)
    return _Dependence(cov_hac, cov_ar1, rho, bandwidth, _ar1_df(y.size, rho, X.shape[1]))


def _ar1_df(n: int, rho: float, p: int) -> float:
    """Degrees of freedom of the t reference for the AR(1) sandwich (Satterthwaite).

    Two estimated pieces make the studentised coefficient heavier-tailed than normal: the NB
    variance, worth ``n (1 - rho) / (1 + rho) - p`` effective periods, and the long-run
    variance factor ``f(rho) = (1 + rho) / (1 - rho)``, whose relative variance is
    ``f'(rho)^2 var(rho_hat) / f^2`` with ``var(rho_hat) = (1 - rho^2) / n``, i.e. worth
    ``2 f^2 / (f'^2 var(rho_hat))`` degrees of freedom. Their harmonic combination is used
    (Satterthwaite 1946). Without the second piece the intervals under-covered by 3-7 points
    at own-lag 0.3-0.7 in ``benchmarks/growth_coverage.py``: a small estimated own-lag share
    was read as if it were known.
    """
    r = max(rho, 0.0)
    df_counts = max(n * (1 - r) / (1 + r) - p, 1.0)
    factor = (1 + r) / (1 - r)
    slope = 2 / (1 - r) ** 2
    var_rho = max(1 - r * r, 0.05) / n
    df_factor = 2 * factor**2 / (slope**2 * var_rho)
    return max(1.0 / (1.0 / df_counts + 1.0 / df_factor), 1.0)


def _ar1_sandwich(
    bread: np.ndarray, g: np.ndarray, segments: np.ndarray, rho: float, sd: float
) -> np.ndarray:
    """``bread G' R G bread`` with ``R[s, t] = rho^|s - t|`` within segments, 0 across them.

    With ``sd > 0`` the average over ``rho + sd * (-sqrt 3, 0, sqrt 3)`` with weights
    ``(1/6, 2/3, 1/6)`` (three-point Gauss-Hermite rule for a normal ``rho``), each node clipped
    to ``[-0.5, 0.95]``.
    """
    n = g.shape[0]
    gap = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    same = np.equal.outer(segments, segments)
    nodes = (
        ((0.0, 1.0),) if sd <= 0 else ((-math.sqrt(3), 1 / 6), (0.0, 2 / 3), (math.sqrt(3), 1 / 6))
    )
    cov = np.zeros((g.shape[1], g.shape[1]))
    for node, weight in nodes:
        r = float(np.clip(rho + node * sd, -0.5, _MAX_OWN_LAG))
        corr = np.where(same, r**gap, 0.0)
        cov += weight * (bread @ (g.T @ corr @ g) @ bread)
    return cov


def _safe_inv(m: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(m)
    except np.linalg.LinAlgError:
        return np.full_like(m, np.nan)


@dataclass(frozen=True)
class _OwnLagInterval:
    """Wald-t interval of one coefficient of the NB autoregression (``analysis.models.inarch``)."""

    low: float
    high: float
    p_value: float
    own_lag: float
    df: float
    cov: np.ndarray


_NO_OWN_LAG = _OwnLagInterval(math.nan, math.nan, math.nan, math.nan, math.nan, np.empty((0, 0)))


def _ownlag_interval(
    y: np.ndarray,
    X: np.ndarray,
    segments: np.ndarray | None,
    j: int,
    alpha_level: float,
    start: NB2Fit | None = None,
) -> _OwnLagInterval:
    """Model-based interval for coefficient ``j`` of the log level in an NB model with an own-lag
    term (``mean = (1 - lam) exp(x b) + lam y[t-1]``, INARCH(1), a one-region hhh4).

    Wald on the coefficient scale with the expected conditional information, read on a t scale
    with ``n - p - 2`` degrees of freedom (``p`` level coefficients, the own-lag share and the
    dispersion are estimated). Its point estimate is the model's own, so the interval is not
    centred on the NB2 ratio or slope.
    """
    fit = inarch_mle(y, X, segments, start=start)
    var = float(fit.cov_model[j, j]) if fit.cov_model.size else math.nan
    if not fit.converged or not np.isfinite(var) or var <= 0:
        return _NO_OWN_LAG
    se = math.sqrt(var)
    df = float(max(y.size - X.shape[1] - 2, 1))
    q = stats.t.ppf(1 - alpha_level / 2, df)
    b = float(fit.params[j])
    p = float(2 * stats.t.sf(abs(b) / se, df))
    p_ = X.shape[1]
    return _OwnLagInterval(b - q * se, b + q * se, p, fit.own_lag, df, fit.cov_model[:p_, :p_])
