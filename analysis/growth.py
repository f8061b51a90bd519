"""Growth of event counts with honest intervals: rate ratios, trend growth, change points.

Three questions a reviewer asks of a region's series, each answered with an interval:

* **How much did it grow?** :func:`rate_ratio` compares two windows (years ``2021``, quarters
  ``2021Q3``, months ``2021-03`` or ranges ``2021-01..2021-06``). The point estimate is the ratio
  of event rates per panel period (exposure-adjusted when the windows differ in length). Beside it:

  - the *exact conditional* interval: given the total ``n = count_a + count_b``, ``count_b`` is
    binomial with ``p = rr E_b / (E_a + rr E_b)``; the Clopper-Pearson limits for ``p`` map to the
    ratio. Also the mid-p interval and exact / mid-p p-values. Exact only under Poisson counts;
    overdispersed counts make it too narrow.
  - the *independent-count NB* interval: an NB2 regression of the per-period counts on a
    window indicator, Wald interval on the log ratio with a t reference distribution on ``n - 3``
    degrees of freedom, widened where needed to contain the exact interval. Valid for
    overdispersed counts only if months are independent.
  - the *dependence-aware* intervals: the same estimating equations with a Newey-West HAC
    sandwich (``hac_*``) and with the AR(1) own-lag sandwich (``ar1_*``, see
    :func:`_dependence`), and the model-based interval of an NB model with an own-lag term
    (``inarch_*``, :mod:`analysis.models.inarch`). The **headline** (``headline_low``/
    ``headline_high``) is the hull of the independent-count NB interval and the one named by
    :data:`HEADLINE_INTERVAL`, chosen by the coverage study in ``benchmarks/growth_coverage.py``.
    The headline p-value is the largest of the NB2 likelihood-ratio, exact conditional and
    headline Wald p-values.
  - zero counts: ``0 -> 5`` has no upper limit. The result says so (``one_sided=True`` and a
    ``note``) and gives one-sided 95% lower bounds: Clopper-Pearson for the exact interval, and
    the profile-likelihood bound of the NB model for the overdispersion-aware one.

* **How fast is it growing?** :func:`trend` fits a log-linear NB2 regression over a window
  (month-of-year or quarter effects optional) with time in years: annual growth
  ``exp(b) - 1`` in percent and the doubling time ``12 log 2 / b`` months, each with the same
  independent / HAC / AR(1) / headline intervals as the ratio, and a test of no trend. It
  returns the fitted curve and its 95% band for plotting.

* **Since when?** :func:`change_point` profiles a segmented log-linear NB2 model over candidate
  break periods (at least ``min_segment`` periods on each side): ``continuous`` adds a slope
  change (hinge), ``discontinuous`` also a level jump. The likelihood-ratio statistic against no
  change does not follow a chi-squared law (the break date exists only under the alternative), so
  the p-value is Davies' (1987) upper bound on the signed root by default, after deflating each
  LR by its variance inflation under the own-lag correlation (conservative, fast), or a
  parametric bootstrap from the no-change model as an NB autoregression, the same dependent
  null (``method='bootstrap'``). The confidence
  set for the break date collects the candidates whose profile LR statistic against the best
  break is below the chi-squared(1) 95% quantile (an approximate set in the sense of Siegmund
  1988; coverage is checked by simulation in the tests).

:func:`growth_table` does all three for many regions and comparisons, with one
Benjamini-Hochberg adjustment over all its ratio and change-point tests (compute it once per
study and filter it); :func:`growth_sentence` turns a row into plain language.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from analysis.errors import InputError
from analysis.models.counts import NB2Fit, nb2_mle
from analysis.models.inarch import inarch_mle
from analysis.periods import Window, parse_window

__all__ = [
    "ChangePointResult",
    "GrowthResult",
    "RateRatioResult",
    "TrendResult",
    "Window",
    "change_point",
    "HEADLINE_INTERVAL",
    "TREND_HEADLINE_INTERVAL",
    "bh_adjust",
    "block_length",
    "growth",
    "growth_results",
    "growth_rows",
    "growth_sentence",
    "growth_table",
    "moving_block_ratio_interval",
    "newey_west_bandwidth",
    "parse_window",
    "rate_ratio",
    "region_series",
    "trend",
]

# --------------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------------

# --------------------------------------------------------------------------------------------
# Serial dependence: variances of the NB estimating equations that allow for it
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Rate ratio
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateRatioResult:
    """Rate ratio of window B to window A, with exact and overdispersion-aware intervals.

    ``ratio`` is ``(count_b / exposure_b) / (count_a / exposure_a)``, exposures in panel periods.
    ``ci_low``/``ci_high`` are exact conditional (Clopper-Pearson), ``midp_low``/``midp_high``
    mid-p, ``nb_ci_low``/``nb_ci_high`` the NB2 (overdispersion-aware) interval. When
    ``one_sided`` is true the finite limit is a one-sided bound at ``1 - alpha`` and the other is
    0 or infinity; ``note`` says so in words. The NB interval always contains the exact one
    (hull), so allowing for overdispersion never narrows it. ``p_value`` (the headline test of
    equal rates) is the larger of the NB2 likelihood-ratio p-value (``nb_p_value``) and the exact
    conditional p-value (``exact_p_value``); ``midp_p_value`` is the mid-p version of the latter.
    """

    period_a: str
    period_b: str
    count_a: int
    count_b: int
    exposure_a: float
    exposure_b: float
    ratio: float
    ci_low: float
    ci_high: float
    midp_low: float
    midp_high: float
    exact_p_value: float
    midp_p_value: float
    nb_ci_low: float
    nb_ci_high: float
    p_value: float
    nb_p_value: float
    nb_alpha: float
    nb_method: str
    one_sided: bool
    conf_level: float
    note: str = ""
    headline_low: float = math.nan
    headline_high: float = math.nan
    headline_method: str = ""
    dep_p_value: float = math.nan
    hac_ci_low: float = math.nan
    hac_ci_high: float = math.nan
    ar1_ci_low: float = math.nan
    ar1_ci_high: float = math.nan
    own_lag: float = math.nan
    hac_bandwidth: int = 0
    inarch_ci_low: float = math.nan
    inarch_ci_high: float = math.nan
    inarch_own_lag: float = math.nan


def _p_to_ratio(p: float, ea: float, eb: float) -> float:
    if p >= 1.0:
        return math.inf
    return p / (1.0 - p) * ea / eb


def _midp_limits(x: int, n: int, alpha: float) -> tuple[float, float]:
    """Mid-p limits for a binomial proportion (Berry and Armitage 1995), by root finding."""

    # scipy.special's binomial tails directly: the stats.binom wrappers cost 40x more per call
    # and these run inside root finders for every region of a study table.
    def pmf(p):
        return math.exp(
            special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)
            + special.xlogy(x, p) + special.xlog1py(n - x, -p)
        )  # fmt: skip

    def upper_tail(p):  # P(X > x) + P(X = x) / 2
        return (special.bdtrc(x, n, p) if x < n else 0.0) + 0.5 * pmf(p)

    def lower_tail(p):  # P(X < x) + P(X = x) / 2
        return (special.bdtr(x - 1, n, p) if x > 0 else 0.0) + 0.5 * pmf(p)

    eps = 1e-12
    lo = 0.0 if x == 0 else optimize.brentq(lambda p: upper_tail(p) - alpha / 2, eps, 1 - eps)
    hi = 1.0 if x == n else optimize.brentq(lambda p: lower_tail(p) - alpha / 2, eps, 1 - eps)
    return lo, hi


def _exact_part(ca: int, cb: int, ea: float, eb: float, alpha: float):
    n = ca + cb
    p0 = eb / (ea + eb)
    if n == 0:
        nan = math.nan
        return dict(ci=(0.0, math.inf), midp=(0.0, math.inf), p=1.0, midp_p=1.0), nan
    one_sided = ca == 0 or cb == 0
    # For 0 -> k (or k -> 0) only one limit is informative; spend all of alpha on it.
    a_eff = 2 * alpha if one_sided else alpha
    p_lo = 0.0 if cb == 0 else stats.beta.ppf(a_eff / 2, cb, n - cb + 1)
    p_hi = 1.0 if cb == n else stats.beta.ppf(1 - a_eff / 2, cb + 1, n - cb)
    m_lo, m_hi = _midp_limits(cb, n, a_eff)
    from scipy.stats import binomtest

    p_exact = binomtest(cb, n, p0).pvalue
    below = stats.binom.cdf(cb - 1, n, p0) + 0.5 * stats.binom.pmf(cb, n, p0)
    above = stats.binom.sf(cb, n, p0) + 0.5 * stats.binom.pmf(cb, n, p0)
    midp_p = min(1.0, 2 * min(below, above))
    out = dict(
        ci=(_p_to_ratio(p_lo, ea, eb), _p_to_ratio(p_hi, ea, eb)),
        midp=(_p_to_ratio(m_lo, ea, eb), _p_to_ratio(m_hi, ea, eb)),
        p=float(p_exact),
        midp_p=float(midp_p),
    )
    return out, (cb / eb) / (ca / ea) if ca > 0 else math.inf


def _profile_llf(y, ind, c, start=None):
    """Max log-likelihood of the NB2 two-window model with the log ratio fixed at ``c``."""
    fit = nb2_mle(y, None, offset=c * ind, start=start)
    return fit.llf


def _nb_part(y_a, y_b, alpha_level: float) -> dict:
    """NB2 window-indicator model: independent-count, HAC and own-lag (AR(1)) intervals.

    Returns a dict with ``low, high, p, nb_alpha, method, one_sided`` (independent counts),
    ``hac, ar1`` (interval tuples), ``hac_p, ar1_p`` (p-values of their Wald tests),
    ``own_lag`` and ``bandwidth``.
    """
    y = np.concatenate([y_a, y_b]).astype(float)
    ind = np.concatenate([np.zeros(y_a.size), np.ones(y_b.size)])
    ca, cb = y_a.sum(), y_b.sum()
    null = nb2_mle(y)
    nan2 = (math.nan, math.nan)
    out = dict(hac=nan2, ar1=nan2, hac_p=math.nan, ar1_p=math.nan, own_lag=math.nan, bandwidth=0)
    out.update(inarch=nan2, inarch_p=math.nan, inarch_own_lag=math.nan)
    if ca > 0 and cb > 0:
        X = np.column_stack([np.ones(y.size), ind])
        fit = nb2_mle(y, X)
        lr = max(0.0, 2 * (fit.llf - null.llf))
        p = float(stats.chi2.sf(lr, 1))
        df = max(y.size - 3, 1)
        q = stats.t.ppf(1 - alpha_level / 2, df)
        se = fit.bse()[1]
        b = fit.params[1]
        method = "nb2-wald-t" if not fit.boundary else "poisson-wald-t (no overdispersion found)"
        if not fit.converged or not np.isfinite(se):
            out.update(low=math.nan, high=math.nan, p=p, nb_alpha=fit.alpha)
            out.update(method="nb2 fit failed", one_sided=False)
            return out
        dep = _dependence(fit, y, X, ind, _window_own_lag(y, ind))
        se_hac = math.sqrt(max(dep.cov_hac[1, 1], 0.0))
        se_ar1 = math.sqrt(max(dep.cov_ar1[1, 1], 0.0))
        q_ar1 = stats.t.ppf(1 - alpha_level / 2, dep.df_ar1)
        own = _ownlag_interval(y, X, ind, 1, alpha_level, start=fit)
        out.update(
            inarch=(float(np.exp(own.low)), float(np.exp(own.high))),
            inarch_p=own.p_value,
            inarch_own_lag=own.own_lag,
        )
        out.update(
            low=float(np.exp(b - q * se)),
            high=float(np.exp(b + q * se)),
            p=p,
            nb_alpha=fit.alpha,
            method=method,
            one_sided=False,
            hac=(float(np.exp(b - q * se_hac)), float(np.exp(b + q * se_hac))),
            ar1=(float(np.exp(b - q_ar1 * se_ar1)), float(np.exp(b + q_ar1 * se_ar1))),
            hac_p=float(2 * stats.t.sf(abs(b) / se_hac, df)) if se_hac > 0 else 1.0,
            ar1_p=float(2 * stats.t.sf(abs(b) / se_ar1, dep.df_ar1)) if se_ar1 > 0 else 1.0,
            own_lag=dep.own_lag,
            bandwidth=dep.bandwidth,
        )
        return out
    # One window has no events: the MLE of the log ratio is +-infinity. The supremum of the
    # likelihood is the NB2 fit to the non-zero window alone (the zero window fits exactly with
    # mean -> 0); the one-sided bound is where the profile drops by chi2_1(1 - 2 alpha) / 2.
    pos = y_b if ca == 0 else y_a
    sup = nb2_mle(pos)
    lr = max(0.0, 2 * (sup.llf - null.llf))
    p = float(stats.chi2.sf(lr, 1))
    cut = stats.chi2.ppf(1 - 2 * alpha_level, 1) / 2
    sign = 1.0 if ca == 0 else -1.0
    out.update(p=p, nb_alpha=sup.alpha, one_sided=True)

    def gap(c):
        return sup.llf - _profile_llf(y, ind, sign * c) - cut

    # gap(0) = sup - null - cut; if already <= 0 the bound is at ratio 1 or beyond. The bracket
    # stops at a ratio of exp(-8): further out the NB2 fit pins alpha at its upper edge and takes
    # a second per evaluation, and the deflated exact bound below is wider there anyway.
    if np.sum(pos > 0) < 3:
        # The dispersion is not identified from fewer than 3 non-zero periods (the rule of
        # analysis.models.counts); the NB2 profile then costs up to seconds and the Poisson
        # (exact) bound below is the answer anyway.
        c_star = None
    else:
        # Bracket the root from 0 outwards, so the slow far end is only visited when needed.
        lo_c, hi_c = 0.0, 30.0
        if gap(0.0) <= 0:
            hi_c = 0.0
            for lo_c in (-1.0, -2.0, -4.0, -8.0):
                if gap(lo_c) > 0:
                    break
        try:
            c_star = optimize.brentq(gap, lo_c, hi_c, xtol=1e-6)
        except ValueError:
            c_star = lo_c
    bound = math.nan if c_star is None else float(np.exp(sign * c_star))
    # With few events the profile-likelihood bound is narrower than even the exact Poisson
    # bound (the chi-squared approximation fails near a zero count). Take the wider of it and
    # the Clopper-Pearson bound on dispersion-deflated counts (count / (1 + alpha * mean)),
    # which reduces to the exact bound when no overdispersion is found.
    e_pos, e_zero = (y_b.size, y_a.size) if ca == 0 else (y_a.size, y_b.size)
    n_eff = pos.sum() / (1.0 + sup.alpha * pos.mean())
    exact_bound = _one_sided_cp(n_eff, e_pos, e_zero, alpha_level)
    # Serially dependent months carry less information still: deflate the counts again by the
    # AR(1) long-run variance factor (1 + rho) / (1 - rho) of the non-zero window.
    mu = np.full(pos.size, pos.mean())
    rho = _own_lag_correlation((pos - mu) / np.sqrt(mu + sup.alpha * mu**2), np.zeros(pos.size))
    dep_bound = _one_sided_cp(n_eff * (1 - rho) / (1 + rho), e_pos, e_zero, alpha_level)
    method = "nb2-one-sided (wider of profile LR and deflated exact)"
    out.update(method=method, own_lag=rho)
    if ca == 0:
        low = exact_bound if c_star is None else min(bound, exact_bound)
        out.update(low=low, high=math.inf, ar1=(min(low, dep_bound), math.inf))
    else:
        high = 1.0 / exact_bound if c_star is None else max(bound, 1.0 / exact_bound)
        out.update(low=0.0, high=high, ar1=(0.0, max(high, 1.0 / dep_bound)))
    return out


def _window_own_lag(y: np.ndarray, ind: np.ndarray) -> float | None:
    """Own-lag correlation around a line fitted within each window (None: leave it to the
    window means).

    A trend inside a window is not noise: around constant window means it would pass for
    month-to-month dependence (a sevenfold rise over three years looks like an own-lag share of
    0.4 within each year). Windows shorter than 8 periods keep their means only.
    """
    sizes = [int(np.sum(ind == v)) for v in (0.0, 1.0)]
    if min(sizes) < 8:
        return None
    cols = []
    for v in (0.0, 1.0):
        inside = (ind == v).astype(float)
        steps = np.cumsum(inside) - 1
        cols += [inside, inside * (steps - steps[ind == v].mean())]
    X = np.column_stack(cols)
    fit = nb2_mle(y, X)
    if not fit.converged:
        return None
    mu = np.exp(np.clip(X @ fit.params, -50, 50))
    pearson = (y - mu) / np.sqrt(mu + fit.alpha * mu**2)
    return _own_lag_correlation(pearson, ind, n_trend=2)


def block_length(n: int) -> int:
    """Moving-block length for a window of ``n`` periods: ``max(1, round(n ** (1/3)))``.

    The ``n^(1/3)`` rate is optimal for bootstrap variance and distribution estimates (Hall,
    Horowitz and Jing 1995): 2 months for a 12-month window, 3 for 36.
    """
    return max(1, int(round(n ** (1 / 3))))


def moving_block_ratio_interval(
    counts_a: Sequence[float] | np.ndarray,
    counts_b: Sequence[float] | np.ndarray,
    *,
    alpha: float = 0.05,
    n_boot: int = 999,
    seed: int | None = 0,
) -> tuple[float, float, int]:
    """Moving-block bootstrap percentile interval for the rate ratio of B to A.

    Each window is resampled on its own by concatenating blocks of :func:`block_length`
    consecutive periods drawn with replacement (truncated to the window's length), so the
    dependence within a block is kept; the ratio of the resampled mean counts gives the
    percentile interval. A labelled reference in ``benchmarks/growth_coverage.py``: with 12 to 36
    periods per window it covers less than the AR(1) sandwich (see docs/internals.md).

    Parameters
    ----------
    counts_a, counts_b : array-like
        Per-period counts of each window.
    alpha : float
        1 - confidence level.
    n_boot : int
        Bootstrap replicates.
    seed : int, optional

    Returns
    -------
    (low, high, block) : tuple
        NaN limits when more than 10% of replicates have no events in a window (the ratio is
        then not defined often enough for a percentile interval).
    """
    rng = np.random.default_rng(seed)
    means = []
    blocks = []
    for counts in (counts_a, counts_b):
        y = np.asarray(counts, dtype=float).ravel()
        n = y.size
        length = block_length(n)
        k = -(-n // length)
        starts = rng.integers(0, n - length + 1, size=(n_boot, k))
        idx = (starts[:, :, None] + np.arange(length)).reshape(n_boot, -1)[:, :n]
        means.append(y[idx].mean(axis=1))
        blocks.append(length)
    ok = (means[0] > 0) & (means[1] > 0)
    if ok.mean() < 0.9:
        return math.nan, math.nan, blocks[0]
    log_ratio = np.log(means[1][ok]) - np.log(means[0][ok])
    lo, hi = np.quantile(log_ratio, [alpha / 2, 1 - alpha / 2])
    return float(np.exp(lo)), float(np.exp(hi)), blocks[0]


def _one_sided_cp(n_eff: float, e_pos: float, e_zero: float, alpha_level: float) -> float:
    """One-sided Clopper-Pearson lower bound on the ratio for ``x = n = n_eff`` events."""
    p_lim = alpha_level ** (1.0 / n_eff)  # p^n = alpha
    return p_lim / (1 - p_lim) * e_zero / e_pos


def rate_ratio(
    counts_a: Sequence[float] | np.ndarray,
    counts_b: Sequence[float] | np.ndarray,
    *,
    period_a: str = "A",
    period_b: str = "B",
    alpha: float = 0.05,
) -> RateRatioResult:
    """Rate ratio of window B to window A from the per-period counts of each window.

    Parameters
    ----------
    counts_a, counts_b : array-like
        Event counts of each panel period in the two windows (one entry per period, zeros
        included: the number of entries is the exposure).
    period_a, period_b : str
        Labels for the windows (used in notes and sentences).
    alpha : float
        1 - confidence level.

    Returns
    -------
    RateRatioResult

    Raises
    ------
    InputError
        Empty windows or negative / non-integer counts.
    """
    y_a = np.asarray(counts_a, dtype=float).ravel()
    y_b = np.asarray(counts_b, dtype=float).ravel()
    for name, arr in (("A", y_a), ("B", y_b)):
        if arr.size == 0:
            raise InputError(f"window {name} has no periods: expected at least one period")
        if np.any(arr < 0) or np.any(arr != np.round(arr)) or not np.all(np.isfinite(arr)):
            raise InputError(f"window {name}: expected non-negative integer counts")
    if not 0 < alpha < 1:
        raise InputError(f"expected 0 < alpha < 1, got {alpha}")
    ca, cb = int(y_a.sum()), int(y_b.sum())
    ea, eb = float(y_a.size), float(y_b.size)
    exact, ratio = _exact_part(ca, cb, ea, eb, alpha)
    level = 1 - alpha
    notes = []
    if ea != eb:
        notes.append(
            f"windows differ in length ({ea:g} vs {eb:g} periods): ratio of rates per period"
        )
    if ca + cb == 0:
        notes.append(f"no events in either {period_a} or {period_b}: the ratio is undefined")
        return RateRatioResult(
            period_a, period_b, 0, 0, ea, eb, math.nan, 0.0, math.inf, 0.0, math.inf, 1.0, 1.0,
            math.nan, math.nan, 1.0, 1.0, math.nan, "none", False, level, "; ".join(notes),
        )  # fmt: skip
    nb = _nb_part(y_a, y_b, alpha)
    nb_lo, nb_hi, nb_p = nb["low"], nb["high"], nb["p"]
    one_sided = ca == 0 or cb == 0
    # Allowing for overdispersion can only widen what the Poisson (exact) analysis says: the
    # reported NB interval is the hull of the NB interval and the exact one, and the p-value the
    # larger of the NB likelihood-ratio and exact conditional p-values. With few events the NB
    # asymptotics are optimistic and the exact result takes over; with many overdispersed events
    # the NB result does.
    if np.isfinite(nb_lo) and np.isfinite(exact["ci"][0]):
        nb_lo = min(nb_lo, exact["ci"][0])
    if not np.isnan(nb_hi):
        nb_hi = max(nb_hi, exact["ci"][1])
    # Allowing for serial dependence widens it again, never narrows it: the headline is the hull
    # of the independent NB interval and the dependence-aware one, its p-value the largest.
    head_lo, head_hi = nb_lo, nb_hi
    dep_ps = []
    for part in _headline_parts(HEADLINE_INTERVAL):
        dep_lo, dep_hi = nb[part]
        if np.isfinite(dep_lo) and np.isfinite(head_lo):
            head_lo = min(head_lo, dep_lo)
        if not np.isnan(dep_hi) and not np.isnan(head_hi):
            head_hi = max(head_hi, dep_hi)
        if np.isfinite(nb[f"{part}_p"]):
            dep_ps.append(nb[f"{part}_p"])
    dep_p = max(dep_ps) if dep_ps else math.nan
    p = max(nb_p, exact["p"], dep_p if np.isfinite(dep_p) else 0.0)
    if ca == 0:
        notes.append(
            f"no events in {period_a}: the ratio has no upper bound; the intervals are one-sided "
            f"{level:.0%} lower bounds"
        )
    elif cb == 0:
        notes.append(
            f"no events in {period_b}: the ratio is 0; the intervals are one-sided {level:.0%} "
            "upper bounds"
        )
    if y_a.size + y_b.size < 6:
        notes.append("fewer than 6 periods: the overdispersion-aware interval is unreliable")
    return RateRatioResult(
        period_a=period_a,
        period_b=period_b,
        count_a=ca,
        count_b=cb,
        exposure_a=ea,
        exposure_b=eb,
        ratio=float(ratio),
        ci_low=float(exact["ci"][0]),
        ci_high=float(exact["ci"][1]),
        midp_low=float(exact["midp"][0]),
        midp_high=float(exact["midp"][1]),
        exact_p_value=exact["p"],
        midp_p_value=exact["midp_p"],
        nb_ci_low=float(nb_lo),
        nb_ci_high=float(nb_hi),
        p_value=float(p),
        nb_p_value=float(nb_p),
        nb_alpha=float(nb["nb_alpha"]),
        nb_method=nb["method"],
        one_sided=one_sided,
        conf_level=level,
        note="; ".join(notes),
        headline_low=float(head_lo),
        headline_high=float(head_hi),
        headline_method=HEADLINE_INTERVAL,
        dep_p_value=float(dep_p),
        hac_ci_low=float(nb["hac"][0]),
        hac_ci_high=float(nb["hac"][1]),
        ar1_ci_low=float(nb["ar1"][0]),
        ar1_ci_high=float(nb["ar1"][1]),
        own_lag=float(nb["own_lag"]),
        hac_bandwidth=int(nb["bandwidth"]),
        inarch_ci_low=float(nb["inarch"][0]),
        inarch_ci_high=float(nb["inarch"][1]),
        inarch_own_lag=float(nb["inarch_own_lag"]),
    )


# --------------------------------------------------------------------------------------------
# Trend
# --------------------------------------------------------------------------------------------


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
        The intervals behind it: NB2 Wald-t assuming independent months (the old interval),
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
        return _nan_trend(
            y, idx, seasonal, level, f"only {nonzero} period(s) with events: no trend"
        )
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
        "independent": (b - q * se, b + q * se),
        "hac": (b - q * se_hac, b + q * se_hac),
        "ar1": (b - q_ar1 * se_ar1, b + q_ar1 * se_ar1),
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
    growth = 100 * math.expm1(b)
    growth_ci = (100 * math.expm1(lo_b), 100 * math.expm1(hi_b))
    as_pct = {k: (100 * math.expm1(lo), 100 * math.expm1(hi)) for k, (lo, hi) in slopes.items()}
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


# --------------------------------------------------------------------------------------------
# Change point
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangePointResult:
    """Segmented log-linear NB2 change point found by profile likelihood.

    Attributes
    ----------
    break_period : Timestamp or None
        Best break (first period of the new regime); None when no candidate could be fitted.
    lr_stat : float
        ``2 (llf(best break) - llf(no change))``.
    p_value : float
        Davies upper bound or parametric-bootstrap p-value (``p_method``).
    confidence_set : DatetimeIndex
        Candidate breaks whose profile LR against the best break is below chi2_1(1 - alpha).
    candidates, profile_llf : DatetimeIndex, ndarray
        The scanned breaks and their maximised log-likelihoods.
    growth_before_pct, growth_after_pct : float
        Annual growth of the fitted segments at the best break.
    """

    break_period: pd.Timestamp | None
    lr_stat: float
    p_value: float
    p_method: str
    kind: str
    confidence_set: pd.DatetimeIndex
    candidates: pd.DatetimeIndex
    profile_llf: np.ndarray
    null_llf: float
    growth_before_pct: float
    growth_after_pct: float
    significant: bool
    conf_level: float
    note: str = ""
    own_lag: float = 0.0
    lr_adjusted: float = math.nan

    @property
    def label(self) -> str | None:
        """Best break as ``YYYY-MM``, or None."""
        return None if self.break_period is None else self.break_period.strftime("%Y-%m")


def _segment_design(t: np.ndarray, tau: float, kind: str) -> np.ndarray:
    hinge = np.clip(t - tau, 0, None)
    cols = [np.ones(t.size), t, hinge]
    if kind == "discontinuous":
        cols.append((t >= tau).astype(float))
    return np.column_stack(cols)


def _scan(y, t, cand_idx, kind):
    """Profile the segmented model over the candidate breaks.

    Returns the maximised log-likelihoods, the fits and the sign of the slope change at each
    candidate (the variance inflation under dependence is :func:`_kappas`).
    """
    llfs = np.full(len(cand_idx), -np.inf)
    signs = np.zeros(len(cand_idx))
    fits: list[NB2Fit | None] = []
    start = None
    for j, i in enumerate(cand_idx):
        # tau is placed at the candidate period itself: the new slope starts there. Neighbouring
        # candidates have nearly the same fit: start from the previous one (same MLE, fewer steps).
        fit = nb2_mle(y, _segment_design(t, t[i], kind), start=start)
        start = fit.params if fit.converged and np.all(np.isfinite(fit.params)) else None
        fits.append(fit)
        if fit.converged and np.isfinite(fit.llf):
            llfs[j] = fit.llf
            signs[j] = 1.0 if fit.params[2] >= 0 else -1.0
    return llfs, fits, signs


def _inflation(fit: NB2Fit, y: np.ndarray, X: np.ndarray, corr: np.ndarray) -> np.ndarray:
    """Per-coefficient variance ratio (correlated / independent scores), at least 1."""
    mu = np.exp(np.clip(X @ fit.params, -50, 50))
    g = X * np.sqrt(mu / (1.0 + fit.alpha * mu))[:, None]
    bread = _safe_inv(g.T @ g)
    dep = np.diag(bread @ (g.T @ corr @ g) @ bread)
    ratio = dep / np.diag(bread)
    return np.where(np.isfinite(ratio), np.maximum(ratio, 1.0), 1.0)


def _davies_bound(lr_profile: np.ndarray, k: int, signs: np.ndarray | None = None) -> float:
    """Davies (1987) upper bound for P(sup LR > M) with a chi2_k process on a grid.

    With one restriction (``k = 1``) pass ``signs`` (the sign of the change coefficient at each
    candidate): the bound then measures the total variation of the *signed* root
    ``sign * sqrt(LR)``, which is the Gaussian process Davies' bound is about. The unsigned root
    hides every crossing of zero and makes the bound too small (7.7% size at the 5% level in
    the issue-14 simulation).
    """
    ok = np.isfinite(lr_profile)
    stat = np.clip(lr_profile[ok], 0, None)
    if stat.size == 0:
        return math.nan
    m = float(stat.max())
    root = np.sqrt(stat)
    if k == 1 and signs is not None:
        root = root * np.where(signs[ok] < 0, -1.0, 1.0)
    v = float(np.sum(np.abs(np.diff(root))))
    bound = stats.chi2.sf(m, k) + v * m ** ((k - 1) / 2) * math.exp(-m / 2) * 2 ** (
        -k / 2
    ) / special.gamma(k / 2)
    return float(min(1.0, bound))


def _ar1_corr(n: int, rho: float) -> np.ndarray:
    gap = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    return rho**gap


def _t_to_chi2(stat: np.ndarray, df: int) -> np.ndarray:
    """Map chi2_1-scale statistics through a t(df) reading of their root to the chi2_1 scale."""
    root = np.sqrt(np.clip(stat, 0, None))
    z = -stats.norm.ppf(stats.t.sf(root, max(df, 1)))
    return np.where(np.isfinite(stat), np.clip(z, 0, None) ** 2, stat)


def _residual_own_lag(y: np.ndarray, fit: NB2Fit, X: np.ndarray) -> float:
    """Bias-corrected own-lag correlation of the Pearson residuals of a fitted NB2 model."""
    mu = np.exp(np.clip(X @ fit.params, -50, 50))
    pearson = (y - mu) / np.sqrt(mu + fit.alpha * mu**2)
    return _own_lag_correlation(pearson, np.zeros(y.size), n_trend=X.shape[1])


def _kappas(y, t, cand_idx, kind, fits, rho: float) -> np.ndarray:
    """Variance inflation of each candidate's change coefficients under AR(1) correlation rho."""
    kappas = np.ones(len(cand_idx))
    if rho <= 0:
        return kappas
    # As for the intervals: average over the sampling uncertainty of rho (three-point rule).
    sd = math.sqrt(max(1 - rho**2, 0.05) / y.size) if _RHO_UNCERTAINTY else 0.0
    nodes = (
        ((0.0, 1.0),) if sd <= 0 else ((-math.sqrt(3), 1 / 6), (0.0, 2 / 3), (math.sqrt(3), 1 / 6))
    )
    corrs = [
        (w, _ar1_corr(y.size, float(np.clip(rho + z * sd, 0.0, _MAX_OWN_LAG)))) for z, w in nodes
    ]
    for j, i in enumerate(cand_idx):
        fit = fits[j]
        if fit is not None and fit.converged and np.isfinite(fit.llf):
            X = _segment_design(t, t[i], kind)
            kappas[j] = sum(w * _inflation(fit, y, X, corr)[2:].max() for w, corr in corrs)
    return kappas


def change_point(
    counts: Sequence[float] | np.ndarray,
    periods: Sequence | pd.DatetimeIndex,
    *,
    kind: str = "continuous",
    min_segment: int = 6,
    alpha: float = 0.05,
    method: str = "davies",
    n_boot: int = 199,
    seed: int | None = 0,
) -> ChangePointResult:
    """Find when growth started or accelerated: segmented NB2 log-linear model, profiled.

    Parameters
    ----------
    counts, periods
        As in :func:`trend`.
    kind : {'continuous', 'discontinuous'}
        Slope change only (hinge), or slope change plus a level jump.
    min_segment : int
        Minimum number of periods on each side of the break.
    alpha : float
        Level of the test and 1 - coverage of the break-date confidence set.
    method : {'davies', 'bootstrap'}
        p-value: Davies' upper bound (conservative, fast) or parametric bootstrap from the fitted
        no-change NB2 model with ``n_boot`` replicates (slower; exact up to Monte Carlo error).
    n_boot : int
        Bootstrap replicates.
    seed : int, optional
        Seed of the bootstrap.

    Returns
    -------
    ChangePointResult
        ``break_period=None`` with a ``note`` when the series is too short or too sparse.
    """
    if kind not in ("continuous", "discontinuous"):
        raise InputError(f"expected kind 'continuous' or 'discontinuous', got {kind!r}")
    if method not in ("davies", "bootstrap"):
        raise InputError(f"expected method 'davies' or 'bootstrap', got {method!r}")
    y, idx = _check_series(counts, periods)
    t = _years(idx)
    k = 1 if kind == "continuous" else 2
    level = 1 - alpha
    empty = pd.DatetimeIndex([])
    cand_idx = np.arange(min_segment, y.size - min_segment + 1)

    def none(note):
        return ChangePointResult(
            None, math.nan, math.nan, method, kind, empty, empty, np.array([]), math.nan,
            math.nan, math.nan, False, level, note,
        )  # fmt: skip

    if cand_idx.size == 0:
        return none(f"{y.size} periods: too short for segments of at least {min_segment}")
    if np.sum(y > 0) < 4 or y.sum() < 10:
        # The LR asymptotics behind both p-value methods' use (and the confidence set) fail for
        # a handful of events: a hinge can always "explain" three late events.
        return none(
            f"{int(y.sum())} events in {int(np.sum(y > 0))} periods: too few for a change point "
            "(need at least 10 events in 4 periods)"
        )
    X0 = np.column_stack([np.ones(y.size), t])
    null = nb2_mle(y, X0)
    mu0 = np.exp(X0 @ null.params)
    llfs, fits, signs = _scan(y, t, cand_idx, kind)
    if not np.any(np.isfinite(llfs)):
        return none("no segmented model could be fitted")
    best = int(np.argmax(llfs))
    lr_profile = 2 * (llfs - null.llf)
    lr = max(0.0, float(lr_profile[best]))
    # Month-to-month dependence inflates the LR statistic (the likelihood treats months as
    # independent): estimate the own-lag correlation around the no-change fit and deflate each
    # candidate's LR by the variance inflation kappa of its change coefficients (1 if rho <= 0).
    # Around the best segmented fit instead, the size was 8-15% (issue-14 benchmark): the
    # break absorbs the dependence it should be tested against. The price is power: a real
    # break left in the no-change residuals looks like dependence too.
    rho = _residual_own_lag(y, null, X0)
    kappas = _kappas(y, t, cand_idx, kind, fits, rho)
    # The dispersion is estimated from few periods: read the root of each adjusted LR on a t
    # scale with n - 4 degrees of freedom (as the Wald intervals do) before the Davies bound.
    adjusted = _t_to_chi2(lr_profile / kappas, y.size - X0.shape[1] - 2)
    if method == "davies":
        p = _davies_bound(adjusted, k, signs if k == 1 else None)
    else:
        # Parametric bootstrap under the same dependent null: an NB autoregression with the
        # fitted own-lag correlation whose expected counts follow the no-change trend and whose
        # marginal dispersion matches the fitted one.
        rng = np.random.default_rng(seed)
        rho = max(rho, 0.0)
        endemic = np.maximum(mu0 - rho * np.r_[mu0[0], mu0[:-1]], 1e-9)
        m = float(mu0.mean())
        var = m + null.alpha * m**2
        alpha_c = max((var * (1 - rho**2) - m) / (m**2 + var * rho**2), 0.0)
        stat = float(np.nanmax(lr_profile / kappas))
        exceed = 0
        for _ in range(n_boot):
            yb = np.empty(y.size)
            prev = mu0[0]
            for i in range(y.size):
                mean = endemic[i] + rho * prev
                if alpha_c > 0:
                    r = 1 / alpha_c
                    yb[i] = rng.negative_binomial(r, r / (r + mean))
                else:
                    yb[i] = rng.poisson(mean)
                prev = yb[i]
            if np.sum(yb > 0) < 4:
                continue  # such a replicate cannot show a change: counts as not exceeding
            nb = nb2_mle(yb, X0)
            lb, fb, _ = _scan(yb, t, cand_idx, kind)
            if not np.any(np.isfinite(lb)):
                continue
            rb = _residual_own_lag(yb, nb, X0)
            kb = _kappas(yb, t, cand_idx, kind, fb, rb)
            if np.nanmax(2 * (lb - nb.llf) / kb) >= stat:
                exceed += 1
        p = (exceed + 1) / (n_boot + 1)
    cut = stats.chi2.ppf(level, 1)
    in_set = 2 * (llfs[best] - llfs) <= cut
    cand_periods = idx[cand_idx]
    bf = fits[best]
    before = 100 * math.expm1(bf.params[1])
    after = 100 * math.expm1(bf.params[1] + bf.params[2])
    notes = []
    if in_set.all():
        notes.append("every candidate is in the confidence set: the break date is not identified")
    return ChangePointResult(
        break_period=cand_periods[best],
        lr_stat=lr,
        p_value=float(p),
        p_method=method if method == "bootstrap" else "davies-bound",
        kind=kind,
        confidence_set=cand_periods[in_set],
        candidates=cand_periods,
        profile_llf=llfs,
        null_llf=float(null.llf),
        growth_before_pct=before,
        growth_after_pct=after,
        significant=bool(p < alpha),
        conf_level=level,
        note="; ".join(notes),
        own_lag=rho,
        lr_adjusted=float(np.nanmax(adjusted)),
    )


# --------------------------------------------------------------------------------------------
# Panels and tables
# --------------------------------------------------------------------------------------------


def region_series(panel: pd.DataFrame, region_id: str) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Counts and periods of one region of a panel (contract in docs/internals.md).

    Raises
    ------
    InputError
        When the panel lacks the contract columns or the region.
    """
    missing = {"region_id", "period", "events"} - set(panel.columns)
    if missing:
        raise InputError(f"expected a panel with columns {sorted(missing)}")
    rows = panel[panel["region_id"] == region_id]
    if rows.empty:
        raise InputError(f"region {region_id!r} is not in the panel")
    rows = rows.sort_values("period")
    return rows["events"].to_numpy(dtype=float), pd.DatetimeIndex(rows["period"])


def _window_counts(y, idx, window: Window, freq: str | None) -> np.ndarray:
    first, last = idx[0], idx[-1]
    step = pd.DateOffset(months=3 if freq == "quarter" else 1)
    covered_end = last + step
    if window.start < first or window.end > covered_end:
        raise InputError(
            f"period {window.label} ({window.start:%Y-%m} to "
            f"{window.end - pd.DateOffset(days=1):%Y-%m}) is outside the panel window "
            f"{first:%Y-%m}..{last:%Y-%m}"
        )
    mask = (idx >= window.start) & (idx < window.end)
    misaligned = (window.start.month - 1) % 3 or (window.end.month - 1) % 3
    if freq == "quarter" and misaligned:
        raise InputError(
            f"period {window.label} does not align with quarters: use years or quarters "
            "with a quarterly panel"
        )
    if not mask.any():
        raise InputError(f"period {window.label} contains no panel periods")
    return y[mask]


@dataclass(frozen=True)
class GrowthResult:
    """Rate ratio, trend and change point for one region and one comparison."""

    region_id: str
    region_name: str
    ratio: RateRatioResult
    trend: TrendResult
    change: ChangePointResult
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_row(self) -> dict:
        """The row of :func:`growth_table` (JSON keys of the ``growth`` command first)."""
        r, tr, cp = self.ratio, self.trend, self.change
        return {
            "region_id": self.region_id,
            "region_name": self.region_name,
            "period_a": r.period_a,
            "period_b": r.period_b,
            "count_a": r.count_a,
            "count_b": r.count_b,
            "ratio": r.ratio,
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
            "nb_ci_low": r.nb_ci_low,
            "nb_ci_high": r.nb_ci_high,
            "headline_ci_low": r.headline_low,
            "headline_ci_high": r.headline_high,
            "interval_method": r.headline_method,
            "p_value": r.p_value,
            "annual_growth_pct": tr.growth_pct,
            "annual_growth_ci": [tr.growth_ci[0], tr.growth_ci[1]],
            "doubling_time_months": tr.doubling_months,
            "change_point": cp.label if cp.significant else None,
            # extras for reports (not part of the command's JSON)
            "hac_ci_low": r.hac_ci_low,
            "hac_ci_high": r.hac_ci_high,
            "ar1_ci_low": r.ar1_ci_low,
            "ar1_ci_high": r.ar1_ci_high,
            "inarch_ci_low": r.inarch_ci_low,
            "inarch_ci_high": r.inarch_ci_high,
            "inarch_own_lag": r.inarch_own_lag,
            "own_lag": r.own_lag,
            "hac_bandwidth": r.hac_bandwidth,
            "dep_p_value": r.dep_p_value,
            "annual_growth_ci_independent": list(tr.growth_ci_independent),
            "annual_growth_ci_hac": list(tr.growth_ci_hac),
            "annual_growth_ci_ar1": list(tr.growth_ci_ar1),
            "annual_growth_ci_inarch": list(tr.growth_ci_inarch),
            "trend_own_lag": tr.own_lag,
            "exposure_a": r.exposure_a,
            "exposure_b": r.exposure_b,
            "midp_low": r.midp_low,
            "midp_high": r.midp_high,
            "exact_p_value": r.exact_p_value,
            "nb_p_value": r.nb_p_value,
            "one_sided": r.one_sided,
            "nb_alpha": r.nb_alpha,
            "trend_p_value": tr.p_value,
            "doubling_ci": [tr.doubling_ci[0], tr.doubling_ci[1]],
            "change_point_best": cp.label,
            "change_point_p_value": cp.p_value,
            "change_point_set": (
                [cp.confidence_set[0].strftime("%Y-%m"), cp.confidence_set[-1].strftime("%Y-%m")]
                if len(cp.confidence_set)
                else None
            ),
            "conf_level": r.conf_level,
            "note": "; ".join(n for n in (r.note, tr.note, cp.note, *self.notes) if n),
        }


JSON_KEYS = (
    "region_id",
    "region_name",
    "period_a",
    "period_b",
    "count_a",
    "count_b",
    "ratio",
    "ci_low",
    "ci_high",
    "nb_ci_low",
    "nb_ci_high",
    "headline_ci_low",
    "headline_ci_high",
    "interval_method",
    "p_value",
    "annual_growth_pct",
    "annual_growth_ci",
    "doubling_time_months",
    "change_point",
)


def growth(
    panel: pd.DataFrame,
    region_id: str,
    period_a: str | int,
    period_b: str | int,
    *,
    alpha: float = 0.05,
    seasonal: bool = False,
    min_segment: int = 6,
) -> GrowthResult:
    """Rate ratio of B to A, trend and change point over ``[start of A, end of B)`` for a region.

    Parameters
    ----------
    panel : DataFrame
        Panel as in docs/internals.md (``attrs['freq']`` month or quarter).
    region_id : str
    period_a, period_b : str or int
        Windows, see :func:`parse_window`.
    alpha : float
    seasonal : bool
        Seasonal effects in the trend.
    min_segment : int
        Minimum segment length in months of the change-point scan (converted to quarters,
        at least 2, for quarterly panels).

    Returns
    -------
    GrowthResult
    """
    freq = panel.attrs.get("freq", "month")
    y, idx = region_series(panel, region_id)
    wa, wb = parse_window(period_a), parse_window(period_b)
    ya = _window_counts(y, idx, wa, freq)
    yb = _window_counts(y, idx, wb, freq)
    rr = rate_ratio(ya, yb, period_a=wa.label, period_b=wb.label, alpha=alpha)
    lo, hi = min(wa.start, wb.start), max(wa.end, wb.end)
    mask = (idx >= lo) & (idx < hi)
    tr = trend(y[mask], idx[mask], seasonal=seasonal, alpha=alpha)
    seg = min_segment if freq == "month" else max(2, min_segment // 3)
    cp = change_point(y[mask], idx[mask], min_segment=seg, alpha=alpha)
    name = region_id
    if "region_name" in panel.columns:
        names = panel.loc[panel["region_id"] == region_id, "region_name"]
        if len(names):
            name = str(names.iloc[0])
    return GrowthResult(region_id, name, rr, tr, cp)


def growth_table(
    panel: pd.DataFrame,
    region_ids: Sequence[str] | None,
    compare: Sequence[Sequence[str | int]],
    *,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Growth of every region x comparison as a tidy table with BH-adjusted p-values.

    Multiplicity is handled once for the whole table: one Benjamini-Hochberg adjustment over
    every rate-ratio test *and* every change-point test in it (all regions, all comparisons).
    Compute the table once per study (:func:`analysis.report.context.growth`) and filter it,
    so that a region's adjusted p-value is the same number in every report.

    Parameters
    ----------
    panel : DataFrame
        Panel as in docs/internals.md.
    region_ids : sequence of str, optional
        Regions to include; None means every region in the panel.
    compare : sequence of (a, b)
        Window pairs, e.g. ``[(2021, 2024)]``.
    alpha : float
        1 - confidence level, and the false discovery rate of the change-point flags.

    Returns
    -------
    DataFrame
        One row per region and comparison: the ``growth`` command's JSON keys (see
        :data:`JSON_KEYS`), then extras, including ``p_value_bh`` (the ratio test's adjusted
        p-value), ``change_point_p_bh`` (the change point's), ``bh_family_size`` (number of
        tests adjusted together) and ``note``. ``change_point`` is set only where the adjusted
        change-point p-value is below ``alpha``.
    """
    return bh_adjust(growth_rows(panel, region_ids, compare, alpha=alpha), alpha=alpha)


def growth_rows(
    panel: pd.DataFrame,
    region_ids: Sequence[str] | None,
    compare: Sequence[Sequence[str | int]],
    *,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """The rows of :func:`growth_table` before any multiplicity adjustment."""
    return _growth_frame(growth_results(panel, region_ids, compare, alpha=alpha))


def growth_results(
    panel: pd.DataFrame,
    region_ids: Sequence[str] | None,
    compare: Sequence[Sequence[str | int]],
    *,
    alpha: float = 0.05,
) -> list[GrowthResult]:
    """:func:`growth` for every comparison (outer) and region (inner)."""
    if not compare:
        raise InputError("expected at least one comparison [period_a, period_b], e.g. [2021, 2024]")
    if region_ids is None:
        region_ids = list(pd.unique(panel["region_id"]))
    return [growth(panel, rid, a, b, alpha=alpha) for a, b in compare for rid in region_ids]


def _growth_frame(results: Sequence[GrowthResult]) -> pd.DataFrame:
    return pd.DataFrame([r.to_row() for r in results])


def bh_adjust(table: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """One Benjamini-Hochberg adjustment over a growth table's ratio and change-point p-values.

    Parameters
    ----------
    table : DataFrame
        Rows of :func:`growth_rows` (any regions and comparisons).
    alpha : float
        False discovery rate for the ``change_point`` flag.

    Returns
    -------
    DataFrame
        A copy with ``p_value_bh``, ``change_point_p_bh``, ``bh_family_size`` and the
        ``change_point`` flag recomputed from the adjusted change-point p-values.
    """
    from statsmodels.stats.multitest import multipletests

    table = table.copy()
    ratio_p = table["p_value"].to_numpy(dtype=float)
    cp_p = table["change_point_p_value"].to_numpy(dtype=float)
    pooled = np.concatenate([ratio_p, cp_p])
    ok = np.isfinite(pooled)
    adjusted = np.full(pooled.size, np.nan)
    if ok.any():
        adjusted[ok] = multipletests(pooled[ok], method="fdr_bh")[1]
    n = len(table)
    table["p_value_bh"] = adjusted[:n]
    table["change_point_p_bh"] = adjusted[n:]
    table["bh_family_size"] = int(ok.sum())
    flagged = np.isfinite(adjusted[n:]) & (adjusted[n:] < alpha)
    table["change_point"] = [
        best if flag else None
        for best, flag in zip(table["change_point_best"], flagged, strict=True)
    ]
    return table


# --------------------------------------------------------------------------------------------
# Plain language
# --------------------------------------------------------------------------------------------


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
) -> str:
    """One plain-language sentence from a :func:`growth_table` row or a :class:`GrowthResult`.

    Parameters
    ----------
    row_or_result : mapping, Series or GrowthResult
    region_name : str, optional
        Name used in the sentence (default the row's ``region_name``).
    noun : str
        What is counted, capitalised (e.g. ``"Attacks"``, ``"Events"``).

    Returns
    -------
    str
        E.g. "Attacks in Kayes rose from 10 in 2021 to 70 in 2024, 7.0 times (95% CI 2.9-17.1
        allowing for overdispersion and month-to-month dependence; exact Poisson interval
        3.6-15.2); the fitted trend is +91% a year (95% CI +52% to +140%)". The headline
        interval comes first, the exact one is the labelled reference.
    """
    row = row_or_result.to_row() if isinstance(row_or_result, GrowthResult) else row_or_result
    name = region_name or row.get("region_name") or row.get("region_id")
    ca, cb = int(row["count_a"]), int(row["count_b"])
    pa, pb = row["period_a"], row["period_b"]
    level = int(round(100 * float(row.get("conf_level", 0.95))))
    ratio = float(row["ratio"])
    head_lo = row.get("headline_ci_low", row["nb_ci_low"])
    head_hi = row.get("headline_ci_high", row["nb_ci_high"])
    allowing = "allowing for overdispersion and month-to-month dependence"
    per = ""
    if row.get("exposure_a") is not None and row.get("exposure_a") != row.get("exposure_b"):
        per = " (per period, the windows differ in length)"
    if ca == 0 and cb == 0:
        text = f"{noun} in {name}: no events in {pa} or {pb}, so no growth can be measured"
    elif ca == 0:
        text = (
            f"{noun} in {name} rose from 0 in {pa} to {cb} in {pb}; with none in {pa} the rise "
            f"has no upper bound: at least {_fmt(head_lo)} times (one-sided {level}%, "
            f"{allowing}; exact Poisson bound {_fmt(row['ci_low'])}){per}"
        )
    elif cb == 0:
        text = (
            f"{noun} in {name} fell from {ca} in {pa} to 0 in {pb}; the rate is at most "
            f"{_fmt(head_hi)} times the earlier one (one-sided {level}%, {allowing}; exact "
            f"Poisson bound {_fmt(row['ci_high'])}){per}"
        )
    else:
        verb = "rose" if cb > ca else ("fell" if cb < ca else "stayed")
        move = f"from {ca} in {pa} to {cb} in {pb}" if verb != "stayed" else f"at {ca} in {pa}"
        move += "" if verb != "stayed" else f" and {cb} in {pb}"
        text = (
            f"{noun} in {name} {verb} {move}, {_fmt(ratio)} times{per} ({level}% CI "
            f"{_fmt(head_lo)}-{_fmt(head_hi)} {allowing}; exact Poisson interval "
            f"{_fmt(row['ci_low'])}-{_fmt(row['ci_high'])})"
        )
    g = row.get("annual_growth_pct")
    if g is not None and np.isfinite(float(g)):
        text += f"; the fitted trend is {float(g):+.0f}% a year"
        ci = row.get("annual_growth_ci")
        if ci is not None and len(ci) == 2 and np.all(np.isfinite(np.asarray(ci, dtype=float))):
            text += f" ({level}% CI {float(ci[0]):+.0f}% to {float(ci[1]):+.0f}%)"
    cp = row.get("change_point")
    if cp:
        text += f", and the growth changed pace around {cp}"
    return text
