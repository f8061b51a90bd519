"""Growth of event counts with honest intervals: rate ratios, trend growth, change points.

Three questions a reviewer asks of a region's series, each answered with an interval:

* **How much did it grow?** :func:`rate_ratio` compares two windows (years ``2021``, quarters
  ``2021Q3``, months ``2021-03`` or ranges ``2021-01..2021-06``). The point estimate is the ratio
  of event rates per panel period (exposure-adjusted when the windows differ in length). Beside it:

  - the *exact conditional* interval: given the total ``n = count_a + count_b``, ``count_b`` is
    binomial with ``p = rr E_b / (E_a + rr E_b)``; the Clopper-Pearson limits for ``p`` map to the
    ratio. Also the mid-p interval and exact / mid-p p-values. Exact only under Poisson counts;
    overdispersed counts make it too narrow.
  - the *overdispersion-aware* interval, the headline: an NB2 regression of the per-period counts
    on a window indicator, Wald interval on the log ratio with a t reference distribution on
    ``n - 3`` degrees of freedom (the dispersion is estimated from few periods; the t quantile
    is the small-sample allowance that the coverage study in ``benchmarks/growth_coverage.py``
    supports), widened where needed to contain the exact interval. The headline p-value is the
    larger of the NB2 likelihood-ratio and exact conditional p-values.
  - zero counts: ``0 -> 5`` has no upper limit. The result says so (``one_sided=True`` and a
    ``note``) and gives one-sided 95% lower bounds: Clopper-Pearson for the exact interval, and
    the profile-likelihood bound of the NB model for the overdispersion-aware one.

* **How fast is it growing?** :func:`trend` fits a log-linear NB2 regression over a window
  (month-of-year or quarter effects optional): annual growth ``exp(12 b) - 1`` in percent and the
  doubling time ``12 log 2 / b`` months, each with a Wald interval, and a likelihood-ratio test of
  no trend. It returns the fitted curve and its 95% band for plotting.

* **Since when?** :func:`change_point` profiles a segmented log-linear NB2 model over candidate
  break periods (at least ``min_segment`` periods on each side): ``continuous`` adds a slope
  change (hinge), ``discontinuous`` also a level jump. The likelihood-ratio statistic against no
  change does not follow a chi-squared law (the break date exists only under the alternative), so
  the p-value is Davies' (1987) upper bound by default (conservative, instantaneous), or a
  parametric bootstrap from the fitted no-change model (``method='bootstrap'``). The confidence
  set for the break date collects the candidates whose profile LR statistic against the best
  break is below the chi-squared(1) 95% quantile (an approximate set in the sense of Siegmund
  1988; coverage is checked by simulation in the tests).

:func:`growth_table` does all three for many regions and comparisons, with Benjamini-Hochberg
adjusted p-values; :func:`growth_sentence` turns a row into plain language.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from analysis.errors import InputError
from analysis.models.counts import NB2Fit, nb2_mle

__all__ = [
    "ChangePointResult",
    "GrowthResult",
    "RateRatioResult",
    "TrendResult",
    "Window",
    "change_point",
    "growth",
    "growth_sentence",
    "growth_table",
    "parse_window",
    "rate_ratio",
    "region_series",
    "trend",
]

# --------------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------------

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Window:
    """A half-open calendar window ``[start, end)`` with the label the user wrote."""

    label: str
    start: pd.Timestamp
    end: pd.Timestamp


def _one(spec: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    if m := _YEAR.match(spec):
        y = int(m.group(1))
        return pd.Timestamp(y, 1, 1), pd.Timestamp(y + 1, 1, 1)
    if m := _QUARTER.match(spec):
        y, q = int(m.group(1)), int(m.group(2))
        start = pd.Timestamp(y, 3 * q - 2, 1)
        return start, start + pd.DateOffset(months=3)
    if m := _MONTH.match(spec):
        y, mo = int(m.group(1)), int(m.group(2))
        if not 1 <= mo <= 12:
            raise ValueError(spec)
        start = pd.Timestamp(y, mo, 1)
        return start, start + pd.DateOffset(months=1)
    raise ValueError(spec)


def parse_window(spec: str | int) -> Window:
    """Parse ``YYYY``, ``YYYYQn``, ``YYYY-MM`` or ``A..B`` (inclusive range of those) to a window.

    Parameters
    ----------
    spec : str or int
        E.g. ``2021``, ``"2021Q3"``, ``"2021-03"``, ``"2021-01..2021-06"``.

    Returns
    -------
    Window

    Raises
    ------
    InputError
        When the text is not one of these forms, or a range ends before it starts.
    """
    text = str(spec).strip()
    try:
        if ".." in text:
            left, right = (part.strip() for part in text.split("..", 1))
            start, _ = _one(left)
            _, end = _one(right)
        else:
            start, end = _one(text)
    except ValueError:
        raise InputError(
            f"{text!r} is not a period: expected YYYY, YYYYQn, YYYY-MM or YYYY-MM..YYYY-MM"
        ) from None
    if end <= start:
        raise InputError(f"period {text!r} ends before it starts")
    return Window(text, start, end)


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


def _p_to_ratio(p: float, ea: float, eb: float) -> float:
    if p >= 1.0:
        return math.inf
    return p / (1.0 - p) * ea / eb


def _midp_limits(x: int, n: int, alpha: float) -> tuple[float, float]:
    """Mid-p limits for a binomial proportion (Berry and Armitage 1995), by root finding."""

    def upper_tail(p):  # P(X > x) + P(X = x) / 2
        return stats.binom.sf(x, n, p) + 0.5 * stats.binom.pmf(x, n, p)

    def lower_tail(p):  # P(X < x) + P(X = x) / 2
        return stats.binom.cdf(x - 1, n, p) + 0.5 * stats.binom.pmf(x, n, p)

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


def _nb_part(y_a, y_b, alpha_level: float):
    """NB2 window-indicator model: (low, high, p_value, nb_alpha, method, one_sided)."""
    y = np.concatenate([y_a, y_b]).astype(float)
    ind = np.concatenate([np.zeros(y_a.size), np.ones(y_b.size)])
    ca, cb = y_a.sum(), y_b.sum()
    null = nb2_mle(y)
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
            return math.nan, math.nan, p, fit.alpha, "nb2 fit failed", False
        return float(np.exp(b - q * se)), float(np.exp(b + q * se)), p, fit.alpha, method, False
    # One window has no events: the MLE of the log ratio is +-infinity. The supremum of the
    # likelihood is the NB2 fit to the non-zero window alone (the zero window fits exactly with
    # mean -> 0); the one-sided bound is where the profile drops by chi2_1(1 - 2 alpha) / 2.
    pos = y_b if ca == 0 else y_a
    sup = nb2_mle(pos)
    lr = max(0.0, 2 * (sup.llf - null.llf))
    p = float(stats.chi2.sf(lr, 1))
    cut = stats.chi2.ppf(1 - 2 * alpha_level, 1) / 2
    sign = 1.0 if ca == 0 else -1.0

    def gap(c):
        return sup.llf - _profile_llf(y, ind, sign * c) - cut

    # gap(0) = sup - null - cut; if already <= 0 the bound is at ratio 1 or beyond.
    lo_c = -20.0
    hi_c = 30.0
    try:
        c_star = optimize.brentq(gap, lo_c, hi_c, xtol=1e-6)
    except ValueError:
        return math.nan, math.nan, p, sup.alpha, "nb2 profile failed", True
    bound = float(np.exp(sign * c_star))
    # With few events the profile-likelihood bound is narrower than even the exact Poisson
    # bound (the chi-squared approximation fails near a zero count). Take the wider of it and
    # the Clopper-Pearson bound on dispersion-deflated counts (count / (1 + alpha * mean)),
    # which reduces to the exact bound when no overdispersion is found.
    n_eff = pos.sum() / (1.0 + sup.alpha * pos.mean())
    e_pos, e_zero = (y_b.size, y_a.size) if ca == 0 else (y_a.size, y_b.size)
    p_lim = alpha_level ** (1.0 / n_eff)  # one-sided CP limit for x = n: p^n = alpha
    exact_bound = p_lim / (1 - p_lim) * e_zero / e_pos
    if ca == 0:
        bound = min(bound, exact_bound)
    else:
        bound = max(bound, 1.0 / exact_bound)
    if ca == 0:
        return (
            bound,
            math.inf,
            p,
            sup.alpha,
            "nb2-one-sided (wider of profile LR and deflated exact)",
            True,
        )
    return 0.0, bound, p, sup.alpha, "nb2-one-sided (wider of profile LR and deflated exact)", True


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
    nb_lo, nb_hi, nb_p, nb_alpha, method, one_sided = _nb_part(y_a, y_b, alpha)
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
    p = max(nb_p, exact["p"])
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
        nb_alpha=float(nb_alpha),
        nb_method=method,
        one_sided=one_sided,
        conf_level=level,
        note="; ".join(notes),
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
        Observed counts, fitted means and the pointwise confidence band of the mean.
    growth_pct : float
        Annual growth ``100 (exp(12 b) - 1)`` with ``b`` the log-slope per month.
    growth_ci : tuple of float
        Interval for ``growth_pct``.
    doubling_months : float
        ``12 log 2 / (12 b)`` months; NaN unless growth is positive (then ``note`` says why).
    doubling_ci : tuple of float
        Interval (upper is infinity when the growth interval reaches 0).
    p_value : float
        Likelihood-ratio test of no trend.
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
    p = float(stats.chi2.sf(lr, 1))
    b, se = float(fit.params[1]), float(fit.bse()[1])
    df = max(y.size - X.shape[1] - 1, 1)
    q = stats.t.ppf(1 - alpha / 2, df)
    lo_b, hi_b = b - q * se, b + q * se
    growth = 100 * math.expm1(b)
    growth_ci = (100 * math.expm1(lo_b), 100 * math.expm1(hi_b))
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
    se_eta = np.sqrt(np.clip(var, 0, None))
    fitted = np.exp(eta)
    method = "nb2" if not fit.boundary else "poisson (no overdispersion found)"
    if not fit.converged:
        notes.append("NB2 fit did not converge: estimates unreliable")
    return TrendResult(
        periods=idx,
        counts=y,
        fitted=fitted,
        band_low=np.exp(eta - q * se_eta),
        band_high=np.exp(eta + q * se_eta),
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
    llfs = np.full(len(cand_idx), -np.inf)
    fits: list[NB2Fit | None] = []
    for j, i in enumerate(cand_idx):
        # tau is placed at the candidate period itself: the new slope starts there.
        fit = nb2_mle(y, _segment_design(t, t[i], kind))
        fits.append(fit)
        if fit.converged and np.isfinite(fit.llf):
            llfs[j] = fit.llf
    return llfs, fits


def _davies_bound(lr_profile: np.ndarray, k: int) -> float:
    """Davies (1987) upper bound for P(sup LR > M) with a chi2_k process on a grid."""
    stat = np.clip(lr_profile[np.isfinite(lr_profile)], 0, None)
    if stat.size == 0:
        return math.nan
    m = float(stat.max())
    v = float(np.sum(np.abs(np.diff(np.sqrt(stat)))))
    bound = stats.chi2.sf(m, k) + v * m ** ((k - 1) / 2) * math.exp(-m / 2) * 2 ** (
        -k / 2
    ) / special.gamma(k / 2)
    return float(min(1.0, bound))


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
    llfs, fits = _scan(y, t, cand_idx, kind)
    if not np.any(np.isfinite(llfs)):
        return none("no segmented model could be fitted")
    best = int(np.argmax(llfs))
    lr_profile = 2 * (llfs - null.llf)
    lr = max(0.0, float(lr_profile[best]))
    if method == "davies":
        p = _davies_bound(lr_profile, k)
    else:
        rng = np.random.default_rng(seed)
        mu0 = np.exp(X0 @ null.params)
        exceed = 0
        for _ in range(n_boot):
            if null.alpha > 0:
                r = 1 / null.alpha
                yb = rng.negative_binomial(r, r / (r + mu0)).astype(float)
            else:
                yb = rng.poisson(mu0).astype(float)
            if np.sum(yb > 0) < 4:
                continue  # such a replicate cannot show a change: counts as not exceeding
            nb = nb2_mle(yb, X0)
            lb, _ = _scan(yb, t, cand_idx, kind)
            if np.nanmax(2 * (lb - nb.llf)) >= lr:
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
            "p_value": r.p_value,
            "annual_growth_pct": tr.growth_pct,
            "annual_growth_ci": [tr.growth_ci[0], tr.growth_ci[1]],
            "doubling_time_months": tr.doubling_months,
            "change_point": cp.label if cp.significant else None,
            # extras for reports (not part of the command's JSON)
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

    Parameters
    ----------
    panel : DataFrame
        Panel as in docs/internals.md.
    region_ids : sequence of str, optional
        Regions to include; None means every region in the panel.
    compare : sequence of (a, b)
        Window pairs, e.g. ``[(2021, 2024)]``.
    alpha : float
        1 - confidence level.

    Returns
    -------
    DataFrame
        One row per region and comparison: the ``growth`` command's JSON keys (see
        :data:`JSON_KEYS`), then extras, including ``p_value_bh`` (Benjamini-Hochberg across the
        regions of each comparison) and ``note``.
    """
    if not compare:
        raise InputError("expected at least one comparison [period_a, period_b], e.g. [2021, 2024]")
    if region_ids is None:
        region_ids = list(pd.unique(panel["region_id"]))
    rows = []
    for a, b in compare:
        for rid in region_ids:
            rows.append(growth(panel, rid, a, b, alpha=alpha).to_row())
    table = pd.DataFrame(rows)
    table["p_value_bh"] = np.nan
    from statsmodels.stats.multitest import multipletests

    for _, grp in table.groupby(["period_a", "period_b"], sort=False):
        ok = grp["p_value"].notna()
        if ok.any():
            adj = multipletests(grp.loc[ok, "p_value"].to_numpy(), method="fdr_bh")[1]
            table.loc[grp.index[ok], "p_value_bh"] = adj
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
        E.g. "Attacks in Kayes rose from 10 in 2021 to 70 in 2024, 7.0 times (95% CI 3.6-15.2;
        2.9-17.1 allowing for overdispersion); the fitted trend is +91% a year (95% CI +52% to
        +140%)".
    """
    row = row_or_result.to_row() if isinstance(row_or_result, GrowthResult) else row_or_result
    name = region_name or row.get("region_name") or row.get("region_id")
    ca, cb = int(row["count_a"]), int(row["count_b"])
    pa, pb = row["period_a"], row["period_b"]
    level = int(round(100 * float(row.get("conf_level", 0.95))))
    ratio = float(row["ratio"])
    per = ""
    if row.get("exposure_a") is not None and row.get("exposure_a") != row.get("exposure_b"):
        per = " (per period, the windows differ in length)"
    if ca == 0 and cb == 0:
        text = f"{noun} in {name}: no events in {pa} or {pb}, so no growth can be measured"
    elif ca == 0:
        text = (
            f"{noun} in {name} rose from 0 in {pa} to {cb} in {pb}; with none in {pa} the rise "
            f"has no upper bound: at least {_fmt(row['ci_low'])} times (one-sided {level}%; "
            f"{_fmt(row['nb_ci_low'])} allowing for overdispersion){per}"
        )
    elif cb == 0:
        text = (
            f"{noun} in {name} fell from {ca} in {pa} to 0 in {pb}; the rate is at most "
            f"{_fmt(row['ci_high'])} times the earlier one (one-sided {level}%; "
            f"{_fmt(row['nb_ci_high'])} allowing for overdispersion){per}"
        )
    else:
        verb = "rose" if cb > ca else ("fell" if cb < ca else "stayed")
        move = f"from {ca} in {pa} to {cb} in {pb}" if verb != "stayed" else f"at {ca} in {pa}"
        move += "" if verb != "stayed" else f" and {cb} in {pb}"
        text = (
            f"{noun} in {name} {verb} {move}, {_fmt(ratio)} times{per} ({level}% CI "
            f"{_fmt(row['ci_low'])}-{_fmt(row['ci_high'])}; {_fmt(row['nb_ci_low'])}-"
            f"{_fmt(row['nb_ci_high'])} allowing for overdispersion)"
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
