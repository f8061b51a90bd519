"""Log-linear NB2 trend: annual growth, doubling time, test of no trend, with the
independent-count, HAC, AR(1) and own-lag model intervals and the headline."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis.errors import InputError
from analysis.growth.dependence import (
    TREND_HEADLINE_INTERVAL,
    _dependence,
    _headline_parts,
    _ownlag_interval,
)
from analysis.models.counts import NB2Fit, nb2_fixed_dispersion_llf, nb2_mle


@dataclass(frozen=True)
class TrendResult:
    """Log-linear NB2 trend over a window.

    Attributes
    ----------
    periods : DatetimeIndex
        Period starts of the fitted window.
    counts, fitted, band_low, band_high : ndarray
        Observed counts, fitted means and the pointwise confidence band of the mean (the wider
        of the independent-count and the headline dependence-aware band at each period).
    slope_per_year : float
        ``b``, the log-slope **per year** (time is measured in years from the first period).
    slope_se : float
        Model-based (independent-count) standard error of ``b``.
    growth_pct : float
        Annual growth ``100 (exp(b) - 1)``.
    growth_ci : tuple of float
        Headline interval for ``growth_pct``: the hull of the independent-count NB2 interval
        and the dependence-aware one named by ``interval_method`` (never narrower than the
        former).
    doubling_months : float
        ``12 log 2 / b`` months; NaN unless growth is positive (then ``note`` says why).
    doubling_ci : tuple of float
        From the headline interval (upper is infinity when it reaches 0).
    p_value : float
        Test of no trend: the larger of the NB2 likelihood-ratio p-value and the headline
        dependence-aware Wald p-value.
    interval_method : str
        Which dependence-aware intervals the headline hulls (:data:`TREND_HEADLINE_INTERVAL`,
        ``"ar1+inarch"``).
    growth_ci_inarch : tuple of float
        Model-based interval of the NB model with an own-lag term (``inarch_own_lag`` its
        estimated own-lag share).
    growth_ci_independent, growth_ci_hac, growth_ci_ar1 : tuple of float
        The intervals behind it: NB2 profile likelihood assuming independent months (cut at
        the squared t quantile of the Wald-t interval it replaces, :func:`_profile_slope_limits`),
        Newey-West HAC (bandwidth ``hac_bandwidth``), and the AR(1) own-lag sandwich.
    own_lag : float
        Estimated (bias-corrected) lag-1 correlation of the Pearson residuals.
    """

    periods: pd.DatetimeIndex
    counts: np.ndarray
    fitted: np.ndarray
    band_low: np.ndarray
    band_high: np.ndarray
    slope_per_year: float
    slope_se: float
    growth_pct: float
    growth_ci: tuple[float, float]
    doubling_months: float
    doubling_ci: tuple[float, float]
    p_value: float
    nb_alpha: float
    seasonal: bool
    method: str
    converged: bool
    conf_level: float
    note: str = ""
    interval_method: str = ""
    growth_ci_independent: tuple[float, float] = (math.nan, math.nan)
    growth_ci_hac: tuple[float, float] = (math.nan, math.nan)
    growth_ci_ar1: tuple[float, float] = (math.nan, math.nan)
    own_lag: float = math.nan
    hac_bandwidth: int = 0
    growth_ci_inarch: tuple[float, float] = (math.nan, math.nan)
    inarch_own_lag: float = math.nan


def _years(periods: pd.DatetimeIndex) -> np.ndarray:
    months = periods.year * 12 + periods.month
    return (np.asarray(months, dtype=float) - months[0]) / 12.0


def _season_dummies(periods: pd.DatetimeIndex) -> np.ndarray:
    month = np.asarray(periods.month)
    levels = np.unique(month)
    if levels.size < 2:
        return np.empty((len(periods), 0))
    return np.column_stack([(month == lv).astype(float) for lv in levels[1:]])


def _check_series(counts, periods) -> tuple[np.ndarray, pd.DatetimeIndex]:
    y = np.asarray(counts, dtype=float).ravel()
    idx = pd.DatetimeIndex(periods)
    if y.size != len(idx):
        raise InputError(f"expected one count per period, got {y.size} counts, {len(idx)} periods")
    if np.any(y < 0) or np.any(y != np.round(y)) or not np.all(np.isfinite(y)):
        raise InputError("expected non-negative integer counts")
    if not idx.is_monotonic_increasing:
        raise InputError("expected periods in increasing order")
    return y, idx


def _nan_trend(y, idx, seasonal, level, note) -> TrendResult:
    nan = np.full(y.size, np.nan)
    return TrendResult(
        idx, y, nan, nan, nan, math.nan, math.nan, math.nan, (math.nan, math.nan), math.nan,
        (math.nan, math.nan), math.nan, math.nan, seasonal, "none", False, level, note,
    )  # fmt: skip


def _growth_pct(slope: float) -> float:
    """Annual growth in percent, ``100 (exp(b) - 1)``; infinity beyond the float range (a
    series that falls to zeros can give an interval limit of hundreds on the log scale, where
    ``math.expm1`` raises)."""
    return 100 * math.expm1(slope) if slope < 700 else math.inf


def _profile_slope_limits(
    y: np.ndarray, X: np.ndarray, fit: NB2Fit, q: float, se: float
) -> tuple[float, float]:
    """Profile-likelihood limits of the slope (column 1 of ``X``) of an NB2 fit.

    The limits are where twice the drop of the log-likelihood, maximised over the other
    coefficients and the dispersion, reaches ``q^2`` (``q`` the t quantile of the Wald-t
    interval, so the two agree when the profile is quadratic). With a handful of events the
    log-likelihood of a log-linear slope is far from quadratic and the Wald-t interval
    over-covered: 97.5% and 96.8% at 0.3 events a month over 24 independent months, where
    this one covers 95.7% and 94.3% (280 series each; between 93.3% and 96.7% in all 12
    independent scenarios of ``benchmarks/growth_coverage.py``). Falls back on the Wald-t
    limit on a side where the profile cannot be followed.
    """
    b = float(fit.params[1])
    others = np.delete(X, 1, axis=1)
    start = np.delete(fit.params, 1)
    target = q * q

    def excess(c: float) -> float:
        prof = nb2_mle(y, others, offset=c * X[:, 1], start=start)
        return 2 * (fit.llf - prof.llf) - target if prof.converged else math.nan

    low = _likelihood_limit(excess, b, -q * se, b - q * se, xtol=1e-4)
    high = _likelihood_limit(excess, b, q * se, b + q * se, xtol=1e-4)
    return low, high


def _likelihood_limit(
    excess: Callable[[float], float], b: float, first_step: float, fallback: float, xtol: float
) -> float:
    """Where ``excess`` (a likelihood drop minus its cut) crosses 0 on one side of ``b``.

    Steps out from ``b`` by ``first_step``, doubling the distance up to six times until the
    drop passes the cut, then finds the crossing with Brent's method; ``fallback`` when the
    likelihood cannot be followed (a failed fit, or no crossing within 64 first steps).
    """
    inner, outer = b, b + first_step
    value = excess(outer)
    for _ in range(6):
        if not value < 0:
            break
        inner, outer = outer, b + 2 * (outer - b)
        value = excess(outer)
    if not value >= 0:
        return fallback
    try:
        lo, hi = sorted((inner, outer))
        return float(optimize.brentq(excess, lo, hi, xtol=xtol))
    except ValueError:
        return fallback


def _ar1_slope_limits(
    y: np.ndarray, X: np.ndarray, fit: NB2Fit, half_width: float, se: float
) -> tuple[float, float]:
    """AR(1) sandwich limits of the slope read on the NB2 likelihood of the slope.

    The Wald-t half-width ``half_width`` (``q_ar1 * se_ar1``) is ``half_width / se`` model
    standard errors; the limits are where the likelihood of the slope, maximised over the
    other coefficients with the dispersion held at its estimate (as in the sandwich's
    estimating equations), drops by half the square of that many. With many events this is
    the Wald-t interval; with a handful it keeps the likelihood's skew instead of a symmetric
    interval on the log scale, which over-covered at 0.3 events a month over 24 months (96-99%
    at every own-lag 0-0.7, 400 series each, benchmarks/growth_coverage.py). Re-maximising the
    dispersion too (the independent interval's profile) flattens the likelihood 3-5 standard
    errors out, where a dependence-widened cut lands, and would make it wider than Wald-t even
    with 40 events a month.
    """
    b = float(fit.params[1])
    wald = (b - half_width, b + half_width)
    if not (np.isfinite(half_width) and half_width > 0 and np.isfinite(se) and se > 0):
        return wald
    others = np.delete(X, 1, axis=1)
    start = np.delete(fit.params, 1)
    target = (half_width / se) ** 2
    top = nb2_fixed_dispersion_llf(y, X, fit.alpha, start=fit.params)

    def excess(c: float) -> float:
        llf = nb2_fixed_dispersion_llf(y, others, fit.alpha, c * X[:, 1], start=start)
        return 2 * (top - llf) - target

    low = _likelihood_limit(excess, b, -half_width, wald[0], xtol=1e-5)
    high = _likelihood_limit(excess, b, half_width, wald[1], xtol=1e-5)
    return low, high


def trend(
    counts: Sequence[float] | np.ndarray,
    periods: Sequence | pd.DatetimeIndex,
    *,
    seasonal: bool = False,
    alpha: float = 0.05,
) -> TrendResult:
    """Log-linear negative-binomial trend: annual growth, doubling time, test of no trend.

    Parameters
    ----------
    counts : array-like
        Counts per period (zeros included).
    periods : array-like of datetime
        Period starts (monthly or quarterly), increasing.
    seasonal : bool
        Add month-of-year (quarter-of-year) effects.
    alpha : float
        1 - confidence level.

    Returns
    -------
    TrendResult
        With NaN estimates and a ``note`` (never a made-up number) when the series has fewer than
        3 non-zero periods or too few periods for the model.
    """
    y, idx = _check_series(counts, periods)
    level = 1 - alpha
    t = _years(idx)
    cols = [np.ones(y.size), t]
    if seasonal:
        cols.append(_season_dummies(idx))
    X = np.column_stack(cols)
    nonzero = int(np.sum(y > 0))
    if nonzero < 3:
        periods_word = "period" if nonzero == 1 else "periods"
        return _nan_trend(
            y, idx, seasonal, level,
            f"no trend: only {nonzero} {periods_word} with events (at least 3 needed)",
        )  # fmt: skip
    if y.size < X.shape[1] + 3:
        return _nan_trend(
            y, idx, seasonal, level, f"only {y.size} periods for {X.shape[1]} coefficients"
        )
    fit = nb2_mle(y, X)
    null = nb2_mle(y, np.delete(X, 1, axis=1))
    lr = max(0.0, 2 * (fit.llf - null.llf))
    b, se = float(fit.params[1]), float(fit.bse()[1])
    df = max(y.size - X.shape[1] - 1, 1)
    q = stats.t.ppf(1 - alpha / 2, df)
    dep = _dependence(fit, y, X, np.zeros(y.size))
    se_hac = math.sqrt(max(dep.cov_hac[1, 1], 0.0))
    se_ar1 = math.sqrt(max(dep.cov_ar1[1, 1], 0.0))
    q_ar1 = stats.t.ppf(1 - alpha / 2, dep.df_ar1)
    own = _ownlag_interval(y, X, None, 1, alpha, start=fit)
    slopes = {
        "independent": _profile_slope_limits(y, X, fit, q, se),
        "hac": (b - q * se_hac, b + q * se_hac),
        "ar1": _ar1_slope_limits(y, X, fit, q_ar1 * se_ar1, se),
        "inarch": (own.low, own.high),
    }
    # The headline never narrows the independent-count interval (hull of it and the parts).
    parts = [k for k in _headline_parts(TREND_HEADLINE_INTERVAL) if np.all(np.isfinite(slopes[k]))]
    lo_b = min(slopes[k][0] for k in ("independent", *parts))
    hi_b = max(slopes[k][1] for k in ("independent", *parts))
    p_parts = {
        "hac": 2 * stats.t.sf(abs(b) / se_hac, df) if se_hac > 0 else 1.0,
        "ar1": 2 * stats.t.sf(abs(b) / se_ar1, dep.df_ar1) if se_ar1 > 0 else 1.0,
        "inarch": own.p_value,
    }
    p = float(max([stats.chi2.sf(lr, 1)] + [p_parts[k] for k in parts]))
    growth = _growth_pct(b)
    growth_ci = (_growth_pct(lo_b), _growth_pct(hi_b))
    as_pct = {k: (_growth_pct(lo), _growth_pct(hi)) for k, (lo, hi) in slopes.items()}
    notes = []
    if b > 0:
        doubling = 12 * math.log(2) / b
        doubling_ci = (
            12 * math.log(2) / hi_b,
            12 * math.log(2) / lo_b if lo_b > 0 else math.inf,
        )
        if lo_b <= 0:
            notes.append("growth interval includes 0: doubling time has no upper bound")
    else:
        doubling = math.nan
        doubling_ci = (math.nan, math.nan)
        notes.append("counts are not growing: no doubling time")
    eta = X @ fit.params
    var = np.einsum("ij,jk,ik->i", X, fit.cov, X)
    half = q * np.sqrt(np.clip(var, 0, None))
    for part in parts:
        # The own-lag model's band is about its own curve; its width is what is borrowed here.
        cov_dep, q_dep = {
            "hac": (dep.cov_hac, q),
            "ar1": (dep.cov_ar1, q_ar1),
            "inarch": (own.cov, stats.t.ppf(1 - alpha / 2, own.df)),
        }[part]
        var_dep = np.einsum("ij,jk,ik->i", X, cov_dep, X)
        half = np.maximum(half, q_dep * np.sqrt(np.clip(var_dep, 0, None)))
    fitted = np.exp(eta)
    method = "nb2" if not fit.boundary else "poisson (no overdispersion found)"
    if not fit.converged:
        notes.append("NB2 fit did not converge: estimates unreliable")
    return TrendResult(
        periods=idx,
        counts=y,
        fitted=fitted,
        band_low=np.exp(eta - half),
        band_high=np.exp(eta + half),
        slope_per_year=b,
        slope_se=se,
        growth_pct=growth,
        growth_ci=growth_ci,
        doubling_months=doubling,
        doubling_ci=doubling_ci,
        p_value=p,
        nb_alpha=fit.alpha,
        seasonal=seasonal,
        method=method,
        converged=fit.converged,
        conf_level=level,
        note="; ".join(notes),
        interval_method=TREND_HEADLINE_INTERVAL,
        growth_ci_independent=as_pct["independent"],
        growth_ci_hac=as_pct["hac"],
        growth_ci_ar1=as_pct["ar1"],
        own_lag=dep.own_lag,
        hac_bandwidth=dep.bandwidth,
        growth_ci_inarch=as_pct["inarch"],
        inarch_own_lag=own.own_lag,
    )
