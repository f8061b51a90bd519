"""Change point of a count series' growth: segmented NB2 profile, dependence-deflated LR,
Davies bound on the signed root or parametric bootstrap under a dependent null."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from analysis.errors import InputError
from analysis.growth.dependence import (
    _MAX_OWN_LAG,
    _RHO_UNCERTAINTY,
    _ar1_df,
    _own_lag_correlation,
    _safe_inv,
)
from analysis.growth.trends import _check_series, _years
from analysis.models.counts import NB2Fit, nb2_mle


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


def _t_to_chi2(stat: np.ndarray, df: float) -> np.ndarray:
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
        n, k = int(y.sum()), int(np.sum(y > 0))
        return none(
            f"{n} event{'' if n == 1 else 's'} in {k} period{'' if k == 1 else 's'} with "
            "events: too few for a change point (need at least 10 events and 4 periods with "
            "events)"
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
    # The dispersion and the own-lag correlation are estimated from few periods: read the root
    # of each adjusted LR on a t scale with the Satterthwaite degrees of freedom of the AR(1)
    # intervals (:func:`_ar1_df`, which counts the own-lag estimate as uncertain) before the
    # Davies bound. With n - 4 instead, the size was 6.0% at 5% (500 series, own-lag 0.7,
    # +40%/yr, 60 months; benchmarks/growth_coverage.py); with it, 0-2.9% in each of the 18
    # scenarios of benchmarks/changepoint_size.py (own-lag 0-0.8, levels 0.3-10, 36-60 months).
    df = _ar1_df(y.size, rho, X0.shape[1] + k)
    adjusted = _t_to_chi2(lr_profile / kappas, df)
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
