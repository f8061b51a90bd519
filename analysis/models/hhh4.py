"""Endemic-epidemic multivariate negative-binomial count model (hhh4 family).

For region ``r`` and period ``t`` the conditional mean is

    mu_rt = nu_rt + lambda * y_{r,t-1} + phi * sum_q w_qr * y_{q,t-1}

with the endemic part ``log nu_rt = o_r + alpha + u_g(r) + beta * t/ppy + seasonal terms``
(Held, Hoehle & Hofmann 2005; Paul & Held 2011; R's ``surveillance::hhh4``). ``y_rt`` given the
past is negative binomial with mean ``mu_rt`` and variance ``mu_rt + psi * mu_rt**2``.

Neighbour weights ``w_qr`` (from ``q`` to ``r``) come from the adjacency order ``o_qr``: either
first order only, or a power law ``o_qr ** -d`` up to ``max_order`` (Meyer & Held 2014) with ``d``
estimated, times ``exp(gamma * c_qr)`` where ``c_qr`` is 1 when ``q`` and ``r`` lie in different
countries; each source's row is then normalised to sum to one, as in hhh4 with
``normalize=TRUE``. So every region passes on the same share ``phi`` of its count, and ``gamma``
measures whether that share goes across international borders as readily as to domestic
neighbours (``gamma = 0``).

Many admin-1 units never see an event. A free endemic intercept per region would diverge to
minus infinity for them, so the endemic level is a shared intercept plus optional *group*
offsets with a Gaussian penalty ``u_g ~ N(0, group_sd**2)``: a random effect, estimated by
penalised maximum likelihood. Regions in a group without any event are pulled towards the
shared level instead of diverging. Groups may be nested, like hhh4's ``ri()`` terms: e.g. a
country offset plus a region offset, so a region's level is ``N(country level, sd_region**2)``
and the country levels are ``N(shared level, sd_country**2)``. By default (``group_sd=None``)
the variances are estimated as surveillance::hhh4 estimates them (an approximate marginal
likelihood with a REML-type correction; checked against R in the tests); standard errors of the
penalised fit come from the penalised Hessian and treat the variances as known.

All functions take plain arrays (counts, adjacency order, cross-border indicator) so they do not
depend on how geography is stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from analysis.errors import InputError, ModelError

__all__ = [
    "HHH4Spec",
    "HHH4Fit",
    "fit_hhh4",
    "loglik_and_grad",
    "neighbour_weights",
    "simulate_hhh4",
    "simulate_forward",
    "simulate_paths",
    "poisson_quantile",
    "nb_quantile",
    "ForwardSimulation",
    "profile_intervals",
    "epidemic_radius",
]

_BOUNDS = {
    "ar.log_lambda": (-12.0, 3.0),
    "ne.log_phi": (-12.0, 3.0),
    "ne.cross_border": (-8.0, 8.0),
    "ne.log_d": (np.log(0.05), np.log(20.0)),
    "log_psi": (-10.0, 5.0),
}


@dataclass(frozen=True)
class HHH4Spec:
    """Which terms the model has.

    Parameters
    ----------
    weights : {"power_law", "first_order"}
        Neighbour weights: power law in adjacency order (``d`` estimated) or first order only.
    max_order : int
        Largest adjacency order that receives weight under the power law.
    cross_border : bool
        Estimate the cross-border multiplier ``gamma``.
    trend : bool
        Linear trend (per year) in the endemic part.
    seasonality : int
        Number of sine/cosine harmonics in the endemic part (0 = none).
    periods_per_year : int
        12 for months, 4 for quarters; sets the trend unit and the seasonal period.
    group_sd : float, tuple of float, or None
        Standard deviation of the Gaussian penalty on group offsets of the endemic level, one
        per level of nested groups (a single float serves every level); None estimates them
        as surveillance::hhh4 does (see :func:`fit_hhh4`).
    autoregressive, neighbourhood : bool
        Include the own-lag and neighbour components (switch one off to test it by a
        likelihood ratio, or to compare with an endemic-only NB regression).
    activity_window : int
        If > 0, the endemic part has the covariate "the region had at least one event in its
        last activity_window periods" (0/1) with coefficient ``end.activity``: a unit's endemic
        level depends on whether it is currently active, so units that went quiet are not held
        at their long-run level (and vice versa). Forecasts update it along each path.
    trend_damping : float
        Damping ``phi_t`` in (0, 1] of every linear trend (shared and focus) *beyond the fitted
        periods*: the trend's increment ``h`` periods past the last fitted one is multiplied by
        ``phi_t ** h``, so a forecast adds ``phi_t (1 - phi_t ** h) / (1 - phi_t)`` periods of
        trend instead of ``h`` and levels off at ``phi_t / (1 - phi_t)`` periods (Gardner &
        McKenzie's damped trend). 1 extrapolates the trend undamped. It does not enter the
        likelihood (the fitted periods are unchanged), so it is chosen by rolling-origin
        cross-validation (:mod:`analysis.models.spillover_select`).
    """

    weights: Literal["power_law", "first_order"] = "power_law"
    max_order: int = 5
    cross_border: bool = True
    trend: bool = True
    seasonality: int = 0
    periods_per_year: int = 12
    group_sd: float | tuple[float, ...] | None = None
    autoregressive: bool = True
    neighbourhood: bool = True
    activity_window: int = 0
    trend_damping: float = 1.0

    def __post_init__(self) -> None:
        if self.weights not in ("power_law", "first_order"):
            raise InputError(f"weights must be 'power_law' or 'first_order', got {self.weights!r}")
        if self.max_order < 1:
            raise InputError(f"max_order must be >= 1, got {self.max_order}")
        if self.seasonality < 0:
            raise InputError(f"seasonality must be >= 0 harmonics, got {self.seasonality}")
        if self.activity_window < 0:
            raise InputError(f"activity_window must be >= 0, got {self.activity_window}")
        if self.periods_per_year < 1:
            raise InputError(f"periods_per_year must be >= 1, got {self.periods_per_year}")
        if not 0.0 < self.trend_damping <= 1.0:
            raise InputError(f"trend_damping must be in (0, 1], got {self.trend_damping}")
        if self.group_sd is not None and not np.all(np.asarray(self.group_sd, dtype=float) > 0):
            raise InputError(f"group_sd must be > 0, got {self.group_sd}")


@dataclass(frozen=True)
class _Layout:
    """Positions of each parameter block in the parameter vector."""

    names: tuple[str, ...]
    n_time: int  # trend + seasonal coefficients
    n_groups: int
    has_cross: bool
    has_d: bool
    has_ar: bool = True
    has_ne: bool = True
    has_act: bool = False
    has_focus: bool = False

    @property
    def i_act(self) -> int | None:
        return 1 + self.n_time + self.n_groups if self.has_act else None

    @property
    def i_focus_level(self) -> int | None:
        return 1 + self.n_time + self.n_groups + int(self.has_act) if self.has_focus else None

    @property
    def i_focus(self) -> int | None:
        return self.i_focus_level + 1 if self.has_focus else None

    @property
    def _n_endemic(self) -> int:
        return 1 + self.n_time + self.n_groups + int(self.has_act) + 2 * int(self.has_focus)

    @property
    def i_alpha(self) -> int:
        return 0

    @property
    def s_time(self) -> slice:
        return slice(1, 1 + self.n_time)

    @property
    def s_group(self) -> slice:
        a = 1 + self.n_time
        return slice(a, a + self.n_groups)

    @property
    def i_lam(self) -> int | None:
        return self._n_endemic if self.has_ar else None

    @property
    def i_phi(self) -> int | None:
        return self._n_endemic + int(self.has_ar) if self.has_ne else None

    @property
    def i_gamma(self) -> int | None:
        return self.i_phi + 1 if self.has_cross else None

    @property
    def i_d(self) -> int | None:
        if not self.has_d:
            return None
        return self.i_phi + 1 + int(self.has_cross)

    @property
    def i_psi(self) -> int:
        return len(self.names) - 1


def _layout(
    spec: HHH4Spec, group_names: tuple[str, ...], has_cross: bool, has_focus: bool = False
) -> _Layout:
    names = ["end.intercept"]
    if spec.trend:
        names.append("end.trend")
    for k in range(1, spec.seasonality + 1):
        names += [f"end.sin{k}", f"end.cos{k}"]
    names += list(group_names)
    if spec.activity_window:
        names.append("end.activity")
    if has_focus:
        names += ["end.focus_level", "end.focus_trend"]
    if spec.autoregressive:
        names.append("ar.log_lambda")
    has_cross = has_cross and spec.neighbourhood
    has_d = spec.weights == "power_law" and spec.neighbourhood
    if spec.neighbourhood:
        names.append("ne.log_phi")
    if has_cross:
        names.append("ne.cross_border")
    if has_d:
        names.append("ne.log_d")
    names.append("log_psi")
    return _Layout(
        names=tuple(names),
        n_time=int(spec.trend) + 2 * spec.seasonality,
        n_groups=len(group_names),
        has_cross=has_cross,
        has_d=has_d,
        has_ar=spec.autoregressive,
        has_ne=spec.neighbourhood,
        has_act=spec.activity_window > 0,
        has_focus=has_focus,
    )


def _trend_time(t: np.ndarray, spec: HHH4Spec, t_ref: float) -> np.ndarray:
    """Trend covariate in years: ``(t - t_ref) / ppy`` up to ``t_ref``, damped beyond it."""
    h = np.asarray(t, dtype=float) - t_ref
    phi = spec.trend_damping
    if phi < 1.0:
        ahead = h > 0
        h = np.where(ahead, phi * (1.0 - phi ** np.where(ahead, h, 0.0)) / (1.0 - phi), h)
    return h / spec.periods_per_year


def _time_design(t: np.ndarray, spec: HHH4Spec, t_ref: float, season_start: int) -> np.ndarray:
    """Time covariates of the endemic part for period indices ``t`` (shape (len(t), n_time))."""
    cols = []
    ppy = spec.periods_per_year
    if spec.trend:
        cols.append(_trend_time(t, spec, t_ref))
    for k in range(1, spec.seasonality + 1):
        angle = 2.0 * np.pi * k * (t + season_start) / ppy
        cols += [np.sin(angle), np.cos(angle)]
    if not cols:
        return np.zeros((len(t), 0))
    return np.column_stack(cols)


def _focus_design(t: np.ndarray, mask: np.ndarray, spec: HHH4Spec, t_ref: float) -> np.ndarray:
    """Focus-trend covariate ``mask[r] * (t - t_ref) / ppy`` (damped beyond ``t_ref``): (R, T)."""
    return mask.astype(float)[:, None] * _trend_time(t, spec, t_ref)[None, :]


def _check_mask(trend_mask, n_reg: int, spec: HHH4Spec) -> np.ndarray | None:
    """Validated focus-trend mask, or None when no region is selected."""
    if trend_mask is None:
        return None
    m = np.asarray(trend_mask)
    if m.shape != (n_reg,) or m.dtype != bool:
        raise InputError(
            f"trend_mask must be a boolean array with one entry per region ({n_reg}), "
            f"got dtype {m.dtype} and shape {m.shape}"
        )
    if not m.any():
        return None
    if m.all():
        raise InputError(
            "trend_mask selects every region, which duplicates the shared endemic level and "
            "trend; select the focus regions only"
        )
    return m.copy()


def _activity(y: np.ndarray, window: int) -> np.ndarray:
    """1 if the region had an event in its last ``window`` periods, else 0, for periods 1..T-1.

    An indicator rather than a level: a covariate growing with recent counts (e.g.
    ``log(1 + mean)``) gave coefficients above 1 on real data, i.e. super-linear self-excitation
    and explosive simulated paths.
    """
    c = np.concatenate([np.zeros((y.shape[0], 1)), np.cumsum(y, axis=1)], axis=1)
    t = np.arange(1, y.shape[1])
    lo = np.maximum(t - window, 0)
    return ((c[:, t] - c[:, lo]) > 0).astype(float)


def neighbour_weights(
    order: np.ndarray,
    weights: str = "power_law",
    d: float = 1.0,
    max_order: int = 5,
    cross: np.ndarray | None = None,
    gamma: float = 0.0,
) -> np.ndarray:
    """Row-normalised neighbour weights ``W[q, r]`` (from ``q`` to ``r``).

    The raw weight ``order ** -d`` (or 1 for first-order neighbours) is multiplied by
    ``exp(gamma)`` across international borders *before* each source's row is normalised, as
    hhh4 normalises its weights (``normalize=TRUE``): every region passes on the same total,
    and ``gamma`` only moves how that total is split between foreign and domestic neighbours.
    (Multiplying after normalising would also scale how much a border region passes on.)

    Parameters
    ----------
    order : ndarray (R, R)
        Adjacency order: 0 on the diagonal, 1 for neighbours, 2 for neighbours of neighbours, ...;
        any value above ``max_order`` (e.g. a large number for unconnected pairs) gets no weight.
    weights : {"power_law", "first_order"}
    d : float
        Power-law decay; ``w ∝ order ** -d``.
    max_order : int
    cross : ndarray (R, R), optional
        1 where ``q`` and ``r`` lie in different countries.
    gamma : float
        Log cross-border multiplier of the raw weights.

    Returns
    -------
    ndarray (R, R)
        Each row sums to one (rows of isolated regions are zero).
    """
    o = np.asarray(order, dtype=float)
    if weights == "first_order":
        raw = (o == 1).astype(float)
    else:
        mask = (o >= 1) & (o <= max_order)
        raw = np.where(mask, np.where(mask, o, 1.0) ** (-d), 0.0)
    if cross is not None and gamma != 0.0:
        raw = raw * np.exp(gamma * np.asarray(cross, dtype=float))
    rs = raw.sum(axis=1, keepdims=True)
    return np.divide(raw, rs, out=np.zeros_like(raw), where=rs > 0)


def _check_inputs(
    counts: np.ndarray, order: np.ndarray, cross: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(counts)
    if y.ndim != 2:
        raise InputError(f"counts must be a 2-d array (regions, periods), got shape {y.shape}")
    if not np.all(np.isfinite(y)) or np.any(y < 0) or np.any(np.round(y) != y):
        raise InputError("counts must be non-negative integers without missing values")
    n_reg = y.shape[0]
    o = np.asarray(order, dtype=float)
    if o.shape != (n_reg, n_reg):
        raise InputError(f"order must have shape ({n_reg}, {n_reg}) to match counts, got {o.shape}")
    if np.any(np.diag(o) != 0) or np.any(o < 0):
        raise InputError("order must be 0 on the diagonal and non-negative elsewhere")
    if cross is None:
        c = np.zeros((n_reg, n_reg), dtype=float)
    else:
        c = np.asarray(cross, dtype=float)
        if c.shape != (n_reg, n_reg):
            raise InputError(f"cross must have shape ({n_reg}, {n_reg}), got {c.shape}")
    return y.astype(float), o, c


def _nb_terms(y: np.ndarray, mu: np.ndarray, k: float) -> tuple[float, np.ndarray, float]:
    """Log-likelihood, d/dmu, and d/dk summed, for NB(mean mu, size k)."""
    log_k_mu = np.log(k + mu)
    ratio = (y + k) / (k + mu)
    # Most admin-1 cells are zero, where the gamma-function terms cancel: they are evaluated
    # on the non-zero cells only (about a tenth of a regional panel).
    nz = y > 0
    yn = y[nz]
    ll = k * (np.log(k) - log_k_mu).sum() + float(
        (
            special.gammaln(yn + k)
            - special.gammaln(k)
            - special.gammaln(yn + 1.0)
            + yn * (np.log(mu[nz]) - log_k_mu[nz])
        ).sum()
    )
    dmu = -ratio
    dmu[nz] += yn / mu[nz]
    dk = float(
        (special.digamma(yn + k) - special.digamma(k)).sum()
        + (np.log(k) - log_k_mu + 1.0 - ratio).sum()
    )
    return float(ll), dmu, dk


@dataclass(frozen=True)
class _Problem:
    """Everything the likelihood needs, precomputed once per fit."""

    y: np.ndarray  # (R, T') responses, periods 1..T-1
    yprev: np.ndarray  # (R, T') lagged counts
    x_time: np.ndarray  # (T', n_time)
    x_act: np.ndarray | None  # (R, T') activity covariate, or None
    x_focus: np.ndarray | None  # (R, T') focus-region trend covariate, or None
    trend_mask: np.ndarray | None  # (R,) regions with their own trend, or None
    offset: np.ndarray  # (R,)
    groups: np.ndarray  # (R, L) index of each region's offset at each group level, -1 = none
    blocks: np.ndarray  # (n_groups,) group level of each offset
    group_sd: np.ndarray  # (L,) penalty standard deviation per level
    order: np.ndarray
    cross: np.ndarray
    log_order: np.ndarray  # log(order) where weighted, else 0
    spec: HHH4Spec
    layout: _Layout
    # connected groups of regions: (index or slice, order, cross, log order) of each; weights
    # never cross groups, so R x R work is done per group (linear in regions for tiled panels)
    groups_w: tuple = ()


def _components(theta: np.ndarray, pb: _Problem, need_grad_parts: bool = False):
    lay = pb.layout
    u = np.zeros(lay.n_groups + 1)
    u[: lay.n_groups] = theta[lay.s_group]
    log_en_r = pb.offset + theta[lay.i_alpha] + u[pb.groups].sum(axis=1)
    log_en_t = pb.x_time @ theta[lay.s_time] if lay.n_time else np.zeros(pb.y.shape[1])
    log_en = log_en_r[:, None] + log_en_t[None, :]
    if lay.has_act:
        log_en = log_en + theta[lay.i_act] * pb.x_act
    if lay.has_focus:
        log_en = log_en + theta[lay.i_focus] * pb.x_focus
        log_en[pb.trend_mask] += theta[lay.i_focus_level]
    en = np.exp(log_en)
    lam = np.exp(theta[lay.i_lam]) if lay.has_ar else 0.0
    phi = np.exp(theta[lay.i_phi]) if lay.has_ne else 0.0
    gamma = theta[lay.i_gamma] if lay.has_cross else 0.0
    d = np.exp(theta[lay.i_d]) if lay.has_d else 1.0
    ws = [grp.weights(d, gamma) for grp in pb.groups_w]
    ar = lam * pb.yprev
    ne = np.zeros_like(pb.yprev)
    for grp, (w, _, _) in zip(pb.groups_w, ws, strict=True):
        # sum_q w_qr y_q,t-1 over the non-zero lagged counts only (most cells are zero)
        ne[grp.idx] = phi * (grp.yprev_t @ w).T
    return en, ar, ne, ws, phi, d


def loglik_and_grad(theta: np.ndarray, pb: _Problem) -> tuple[float, np.ndarray]:
    """Penalised log-likelihood and its analytic gradient at ``theta``.

    Parameters
    ----------
    theta : ndarray (p,)
        Parameters in the order of the fit's names (log scale for lambda, phi, d, psi).
    pb : _Problem
        The data and settings of one fit, precomputed by ``_build_problem``.

    Returns
    -------
    loglik : float
        Penalised log-likelihood.
    grad : ndarray (p,)
        Its gradient with respect to ``theta``.
    """
    lay = pb.layout
    en, ar, ne, ws, phi, d = _components(theta, pb)
    mu = en + ar + ne
    k = np.exp(-theta[lay.i_psi])
    ll, s, dk = _nb_terms(pb.y, mu, k)
    g = np.zeros_like(theta)
    a = s * en
    g[lay.i_alpha] = a.sum()
    if lay.n_time:
        g[lay.s_time] = a.sum(axis=0) @ pb.x_time
    if lay.n_groups:
        by_region = np.repeat(a.sum(axis=1)[:, None], pb.groups.shape[1], axis=1)
        valid = pb.groups >= 0
        g[lay.s_group] = np.bincount(
            pb.groups[valid], weights=by_region[valid], minlength=lay.n_groups
        )
        sd2 = pb.group_sd[pb.blocks] ** 2
        ugr = theta[lay.s_group]
        ll -= 0.5 * float(ugr @ (ugr / sd2))
        g[lay.s_group] -= ugr / sd2
    if lay.has_act:
        g[lay.i_act] = float((a * pb.x_act).sum())
    if lay.has_focus:
        g[lay.i_focus] = float((a * pb.x_focus).sum())
        g[lay.i_focus_level] = float(a[pb.trend_mask].sum())
    if lay.has_ar:
        g[lay.i_lam] = float((s * ar).sum())
    if lay.has_ne:
        g[lay.i_phi] = float((s * ne).sum())
    if lay.has_cross or lay.has_d:
        g_gamma = g_d = 0.0
        for grp, (_, per_class, rs) in zip(pb.groups_w, ws, strict=True):
            # c[q, r] = sum_t y_{q,t-1} s_{r,t}, summed per source over each weight class
            c = grp.class_sums(grp.yprev @ s[grp.idx].T)
            # d w_qr / d x = w_qr * (a_qr - sum_r' w_qr' a_qr') for raw weights exp(x * a_qr),
            # with w_qr = t_j / rs_q constant within a source's class j
            wc = per_class[None, :] / np.where(rs > 0, rs, 1.0)[:, None]  # (n, J) w per class
            wcc = wc * c
            if lay.has_cross:
                mean_c = (wc * grp.count) @ grp.cls_cross
                g_gamma += float((wcc @ grp.cls_cross).sum() - mean_c @ wcc.sum(axis=1))
            if lay.has_d:
                mean_log = (wc * grp.count) @ grp.cls_log_order
                g_d += float(mean_log @ wcc.sum(axis=1) - (wcc @ grp.cls_log_order).sum())
        if lay.has_cross:
            g[lay.i_gamma] = phi * g_gamma
        if lay.has_d:
            g[lay.i_d] = d * phi * g_d
    g[lay.i_psi] = dk * (-k)
    return ll, g


@dataclass(frozen=True)
class HHH4Fit:
    """A fitted endemic-epidemic model.

    Attributes
    ----------
    params : ndarray
        Estimates in the order of ``names`` (log scale for lambda, phi, d, psi).
    names : tuple of str
    cov : ndarray
        Asymptotic covariance (inverse penalised observed information); rows/columns of
        parameters estimated on a bound are zero.
    loglik : float
        Penalised log-likelihood at the optimum.
    n_obs : int
    at_bound : tuple of str
        Parameters that ended on an optimisation bound (their intervals are not reliable).
    spec : HHH4Spec
    order, cross : ndarray
        Adjacency order and cross-border indicator used in the fit.
    groups : ndarray (R, L)
        Index (among the group offsets) of each region's offset at each level of nested groups
        (-1 = none).
    group_labels : tuple of str
        Label of each group offset (its parameter is ``end.<level>[<label>]``).
    offset : ndarray
        Endemic log offset per region.
    t_ref : float
        Period index (0-based column of ``counts``) at which the trend term is zero.
    season_start : int
    n_periods : int
        Number of columns of the fitted counts; forecasts start at this index.
    n_iter : int
    trend_mask : ndarray bool (R,) or None
        Regions with their own endemic level and trend (``end.focus_level``,
        ``end.focus_trend``), or None.
    """

    params: np.ndarray
    names: tuple[str, ...]
    cov: np.ndarray
    loglik: float
    n_obs: int
    at_bound: tuple[str, ...]
    spec: HHH4Spec
    order: np.ndarray
    cross: np.ndarray
    groups: np.ndarray
    group_labels: tuple[str, ...]
    offset: np.ndarray
    t_ref: float
    season_start: int
    n_periods: int
    n_iter: int = 0
    layout: _Layout = field(repr=False, default=None)  # type: ignore[assignment]
    profile_ci: dict = field(default_factory=dict)
    trend_mask: np.ndarray | None = None

    @property
    def se(self) -> np.ndarray:
        """Standard errors (NaN for parameters on a bound)."""
        se = np.sqrt(np.clip(np.diag(self.cov), 0.0, None))
        for name in self.at_bound:
            se[self.names.index(name)] = np.nan
        return se

    def conf_int(self, level: float = 0.95) -> np.ndarray:
        """Intervals on the estimation scale, shape (n_params, 2).

        Wald intervals, except for parameters on a bound that have a profile-likelihood
        interval (``profile_ci``, computed at 95%): those run from the bound to where the
        profile log-likelihood has dropped by ``chi2_1(0.95) / 2``.

        Parameters
        ----------
        level : float, optional
            Coverage (default 0.95, the only level with the profile intervals).

        Returns
        -------
        ndarray (n_params, 2)
            Lower and upper limits, in the order of ``names``.
        """
        z = stats.norm.ppf(0.5 + level / 2.0)
        se = self.se
        ci = np.column_stack([self.params - z * se, self.params + z * se])
        if abs(level - 0.95) < 1e-9:
            for name, (lo, hi) in self.profile_ci.items():
                ci[self.names.index(name)] = (lo, hi)
        return ci

    def get(self, name: str) -> float:
        """Estimate of one parameter by name.

        Parameters
        ----------
        name : str
            One of ``names``.

        Returns
        -------
        float
            On the estimation scale.
        """
        return float(self.params[self.names.index(name)])

    def table(self, level: float = 0.95) -> pd.DataFrame:
        """Parameters with SEs and intervals, plus natural-scale rows for lambda, phi, d, psi.

        Natural-scale intervals are the exponentiated log-scale intervals.

        Parameters
        ----------
        level : float, optional
            Coverage of the intervals (default 0.95).

        Returns
        -------
        DataFrame
            ``name, estimate, se, low, high, at_bound``: a row per parameter, then the
            natural-scale rows (``se`` NaN).
        """
        ci = self.conf_int(level)
        rows = []
        for i, name in enumerate(self.names):
            rows.append(
                {
                    "name": name,
                    "estimate": float(self.params[i]),
                    "se": float(self.se[i]),
                    "low": float(ci[i, 0]),
                    "high": float(ci[i, 1]),
                    "at_bound": name in self.at_bound,
                }
            )
        natural = {
            "ar.log_lambda": "lambda",
            "ne.log_phi": "phi",
            "ne.log_d": "d",
            "log_psi": "psi",
            "ne.cross_border": "cross_border_multiplier",
        }
        for i, name in enumerate(self.names):
            if name in natural:
                rows.append(
                    {
                        "name": natural[name],
                        "estimate": float(np.exp(self.params[i])),
                        "se": np.nan,
                        "low": float(np.exp(ci[i, 0])),
                        "high": float(np.exp(ci[i, 1])),
                        "at_bound": name in self.at_bound,
                    }
                )
        return pd.DataFrame(rows)

    def endemic_log_level(self, theta: np.ndarray, t: np.ndarray) -> np.ndarray:
        """log nu for parameter rows ``theta`` (M, p) and period indices ``t`` -> (M, len(t), R).

        Parameters
        ----------
        theta : ndarray (M, p) or (p,)
            Parameter rows in the order of ``names``.
        t : ndarray
            Period indices (0-based columns of the fitted counts; forecasts start at
            ``n_periods``).

        Returns
        -------
        ndarray (M, len(t), R)
        """
        lay = self.layout
        theta = np.atleast_2d(theta)
        u = np.zeros((theta.shape[0], lay.n_groups + 1))
        u[:, : lay.n_groups] = theta[:, lay.s_group]
        base = self.offset[None, :] + theta[:, [lay.i_alpha]] + u[:, self.groups].sum(axis=2)
        x = _time_design(np.asarray(t, dtype=float), self.spec, self.t_ref, self.season_start)
        tt = theta[:, lay.s_time] @ x.T if lay.n_time else np.zeros((theta.shape[0], len(t)))
        out = base[:, None, :] + tt[:, :, None]
        if lay.has_focus:
            # the focus regions' own trend continues over forecast periods (damped if asked)
            z = _focus_design(np.asarray(t, dtype=float), self.trend_mask, self.spec, self.t_ref)
            out = out + theta[:, lay.i_focus][:, None, None] * z.T[None, :, :]
            out = out + theta[:, lay.i_focus_level][:, None, None] * self.trend_mask[None, None, :]
        return out


def _group_levels(groups) -> list[tuple[str, np.ndarray]]:
    """``groups`` as (level name, labels) pairs: one array is the level ``group``."""
    if groups is None:
        return []
    if isinstance(groups, Mapping):
        return [(str(k), np.asarray(v)) for k, v in groups.items()]
    return [("group", np.asarray(groups))]


def _group_codes(groups, n_reg: int):
    """Offset index per region and level, labels, parameter names and level of each offset.

    A level with fewer than two labels adds nothing (the shared intercept is that offset).
    """
    cols, labels, names, blocks = [], [], [], []
    for level, g in _group_levels(groups):
        if g.shape != (n_reg,):
            raise InputError(
                f"groups ({level}) must have one label per region ({n_reg}), got {g.shape}"
            )
        uniq, codes = np.unique(g.astype(str), return_inverse=True)
        if len(uniq) < 2:
            continue
        cols.append(codes + len(labels))
        blocks += [len(cols) - 1] * len(uniq)
        labels += [str(x) for x in uniq]
        names += [f"end.{level}[{x}]" for x in uniq]
    codes = np.column_stack(cols) if cols else np.full((n_reg, 0), -1, dtype=int)
    return codes.astype(int), tuple(labels), tuple(names), np.asarray(blocks, dtype=int)


def _group_sds(spec: HHH4Spec, n_levels: int) -> np.ndarray:
    if spec.group_sd is None:
        return np.ones(n_levels)
    sd = np.atleast_1d(np.asarray(spec.group_sd, dtype=float))
    if len(sd) == 1:
        return np.repeat(sd, n_levels)
    if len(sd) != n_levels:
        raise InputError(f"group_sd has {len(sd)} values for {n_levels} levels of groups")
    return sd


def _build_problem(
    counts: np.ndarray,
    order: np.ndarray,
    cross: np.ndarray | None,
    groups: np.ndarray | None,
    offset: np.ndarray | None,
    spec: HHH4Spec,
    season_start: int,
    trend_mask: np.ndarray | None = None,
) -> tuple[_Problem, tuple[str, ...], float]:
    y, o, c = _check_inputs(counts, order, cross)
    n_reg, n_per = y.shape
    mask = _check_mask(trend_mask, n_reg, spec)
    if n_per < 3:
        raise InputError(f"counts need at least 3 periods to fit the model, got {n_per}")
    codes, labels, names, blocks = _group_codes(groups, n_reg)
    sds = _group_sds(spec, codes.shape[1])
    off = np.zeros(n_reg) if offset is None else np.asarray(offset, dtype=float)
    if off.shape != (n_reg,) or not np.all(np.isfinite(off)):
        raise InputError(f"offset must be {n_reg} finite log values, one per region")
    has_cross = spec.cross_border and bool(np.any(c[(o >= 1) & (o <= spec.max_order)] != 0))
    if spec.weights == "first_order":
        has_cross = spec.cross_border and bool(np.any(c[o == 1] != 0))
    lay = _layout(spec, names, has_cross, has_focus=mask is not None)
    t_ref = float(n_per - 1)
    t_fit = np.arange(1, n_per, dtype=float)
    weighted = (o >= 1) & (o <= spec.max_order)
    log_o = np.where(weighted, np.log(np.where(weighted, o, 1.0)), 0.0)
    pb = _Problem(
        y=y[:, 1:],
        yprev=y[:, :-1],
        x_time=_time_design(t_fit, spec, t_ref, season_start),
        x_act=_activity(y, spec.activity_window) if spec.activity_window else None,
        x_focus=None if mask is None else _focus_design(t_fit, mask, spec, t_ref),
        trend_mask=mask,
        offset=off,
        groups=codes,
        blocks=blocks,
        group_sd=sds,
        order=o,
        cross=c,
        log_order=log_o,
        groups_w=_weight_groups(
            o, c, log_o, weighted if spec.weights == "power_law" else o == 1, y[:, :-1]
        ),
        spec=spec,
        layout=lay,
    )
    return pb, labels, t_ref


@dataclass(frozen=True)
class _WeightGroup:
    """One connected group of regions, with its weights in classes of equal raw weight.

    A raw weight ``order ** -d * exp(gamma * cross)`` depends on a pair only through its
    (order, cross) class, of which there are at most ``2 * max_order``. So a likelihood
    evaluation computes one raw weight per class, each source's normaliser from its class
    counts, and the gradient terms of ``d`` and ``gamma`` from per-class sums: the only work on
    all pairs is a gather and the products with the (sparse) lagged counts, instead of powers,
    exponentials and products over every pair.
    """

    idx: slice | np.ndarray  # the group's regions
    code: np.ndarray  # (n, n) class of each pair, 0 = no weight, 1..J
    count: np.ndarray  # (n, J) pairs of each class per source
    cls_log_order: np.ndarray  # (J,) log order of each class
    cls_cross: np.ndarray  # (J,) cross value of each class
    key: np.ndarray  # (n * n,) source * (J + 1) + class: flat index into (n, J + 1) tables
    yprev: object  # sparse (n, T') lagged counts
    yprev_t: object  # sparse (T', n) the same transposed

    def weights(self, d: float, gamma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row-normalised weights (n, n), raw weight per class (J,), row sums (n,)."""
        per_class = np.exp(-d * self.cls_log_order + gamma * self.cls_cross)
        rs = self.count @ per_class
        scaled = np.concatenate([[0.0], per_class])[None, :] / np.where(rs > 0, rs, np.inf)[:, None]
        n = len(rs)
        return scaled.ravel().take(self.key).reshape(n, n), per_class, rs

    def class_sums(self, pairs: np.ndarray) -> np.ndarray:
        """Per source, the sums of ``pairs[q, r]`` over each class: (n, J)."""
        n = self.code.shape[0]
        j = self.count.shape[1]
        sums = np.bincount(self.key, weights=pairs.ravel(), minlength=n * (j + 1))
        return sums.reshape(n, j + 1)[:, 1:]


def _weight_groups(
    o: np.ndarray, c: np.ndarray, log_o: np.ndarray, mask: np.ndarray, yprev: np.ndarray
) -> tuple[_WeightGroup, ...]:
    """Connected groups of regions under the weighted pairs ``mask`` (isolated regions left
    out), each with its weight classes and lagged counts (see :class:`_WeightGroup`)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n = o.shape[0]
    _, label = connected_components(csr_matrix(mask | mask.T), directed=False)
    out = []
    for g in np.unique(label):
        idx = np.flatnonzero(label == g)
        if len(idx) < 2:
            continue
        key = slice(None) if len(idx) == n else idx
        sub = np.ix_(idx, idx)
        m = mask[sub]
        pairs = np.column_stack([log_o[sub][m], c[sub][m]])
        classes, inverse = np.unique(pairs, axis=0, return_inverse=True)
        code = np.zeros(m.shape, dtype=np.intp)
        code[m] = inverse.reshape(-1) + 1
        n_g, n_cls = len(idx), len(classes)
        count = np.zeros((n_g, n_cls))
        np.add.at(count, (np.nonzero(m)[0], inverse.reshape(-1)), 1.0)
        bins = (np.arange(n_g)[:, None] * (n_cls + 1) + code).ravel()
        y = np.ascontiguousarray(yprev[key])
        out.append(
            _WeightGroup(
                idx=key,
                code=code,
                count=count,
                cls_log_order=classes[:, 0].copy(),
                cls_cross=classes[:, 1].copy(),
                key=bins,
                yprev=csr_matrix(y),
                yprev_t=csr_matrix(y.T),
            )  # fmt: skip
        )
    return tuple(out)


def _numerical_hessian(theta: np.ndarray, pb: _Problem, free: np.ndarray) -> np.ndarray:
    """Hessian of the penalised log-likelihood over the free parameters.

    The block of the group offsets is analytic: an offset enters only its regions' endemic
    means, so that block is ``G' diag(a) G`` minus the penalty (``G`` the regions' offset
    indicators, ``a`` per region a sum over periods). Every other column is a central
    difference of the analytic gradient, which also gives the offsets' cross terms. So the cost
    is two gradient evaluations per fixed effect, however many offsets there are (a region
    offset per unit made this hundreds of evaluations per fit).
    """
    lay = pb.layout
    idx = np.flatnonzero(free)
    in_group = (idx >= lay.s_group.start) & (idx < lay.s_group.stop)
    h = np.zeros((len(idx), len(idx)))
    for j in np.flatnonzero(~in_group):
        i = idx[j]
        step = 1e-5 * max(1.0, abs(theta[i]))
        tp = theta.copy()
        tm = theta.copy()
        tp[i] += step
        tm[i] -= step
        gp = loglik_and_grad(tp, pb)[1]
        gm = loglik_and_grad(tm, pb)[1]
        h[:, j] = (gp[idx] - gm[idx]) / (2 * step)
    fixed = np.flatnonzero(~in_group)
    h[np.ix_(fixed, fixed)] = 0.5 * (h[np.ix_(fixed, fixed)] + h[np.ix_(fixed, fixed)].T)
    grp = np.flatnonzero(in_group)
    if len(grp):
        en, ar, ne, _, _, _ = _components(theta, pb)
        mu = en + ar + ne
        k = np.exp(-theta[lay.i_psi])
        y = pb.y
        # a mean of 0 gives NaN here, which the caller refuses as a non-finite information
        # (ModelError), without numpy's warning on the terminal of every command
        with np.errstate(divide="ignore", invalid="ignore"):
            d1 = y / mu - (y + k) / (k + mu)  # d ll / d mu
            d2 = (y + k) / (k + mu) ** 2 - y / mu**2  # d2 ll / d mu2
            a = ((d2 * en + d1) * en).sum(axis=1)  # per region
        member = np.zeros((y.shape[0], lay.n_groups))
        for level in range(pb.groups.shape[1]):
            on = pb.groups[:, level] >= 0
            member[np.flatnonzero(on), pb.groups[on, level]] = 1.0
        block = member.T @ (a[:, None] * member)
        block[np.diag_indices_from(block)] -= 1.0 / pb.group_sd[pb.blocks] ** 2
        off = idx[grp] - lay.s_group.start
        h[np.ix_(grp, grp)] = block[np.ix_(off, off)]
        h[np.ix_(fixed, grp)] = h[np.ix_(grp, fixed)].T
    return h


def _optimise(fun, theta0, bounds, pb, scale, curvature=None):
    """L-BFGS-B, convergence check and observed information over the parameters off bounds.

    ``curvature`` (indices of the free parameters, their information matrix), when known from a
    nearby fit, is tried first: Newton steps with it (:func:`_newton_profile`) reach the
    maximum in a few evaluations; the parameters left out must sit on a bound with the
    gradient pushing outwards, else (or when the steps stall) L-BFGS-B runs from there.

    Returns the estimate, log-likelihood, optimiser result, on-bound mask, information matrix
    and the name of the weakest parameter when the information is singular (else None).
    """
    from types import SimpleNamespace

    lay = pb.layout
    res = None
    if curvature is not None:
        lo = np.array([b[0] if b[0] is not None else -np.inf for b in bounds])
        hi = np.array([b[1] if b[1] is not None else np.inf for b in bounds])
        found = _newton_profile(theta0, pb, curvature[0], curvature[1], lo, hi)
        if found is not None:
            theta_n, ll_n = found
            g_n = loglik_and_grad(theta_n, pb)[1]
            held = np.setdiff1d(np.arange(len(theta_n)), curvature[0])
            at_lo = theta_n[held] - lo[held] < 1e-6
            at_hi = hi[held] - theta_n[held] < 1e-6
            kkt = (at_lo & (g_n[held] <= 0)) | (at_hi & (g_n[held] >= 0))
            if np.all(kkt):
                res = SimpleNamespace(x=theta_n, success=True, nit=0, message="Newton")
            else:
                theta0 = theta_n
    for _attempt in range(0 if res is not None else 2):
        # The line search tries steps far from any sensible fit, where exp() overflows and the
        # likelihood is not finite; L-BFGS-B reads that as "step too long" and backs off, so
        # those trial points are expected and must not reach a report as warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            res = optimize.minimize(
                fun,
                theta0,
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
            )
        if res.success:
            break
        theta0 = res.x  # restart from where it stopped; L-BFGS-B memory often stalls
    assert res is not None
    theta = res.x
    ll, grad = loglik_and_grad(theta, pb)
    if not np.isfinite(ll):
        raise ModelError("spillover model fit failed: log-likelihood is not finite at the optimum")
    lo = np.array([b[0] if b[0] is not None else -np.inf for b in bounds])
    hi = np.array([b[1] if b[1] is not None else np.inf for b in bounds])
    on_bound = (theta - lo < 1e-6) | (hi - theta < 1e-6)
    free = ~on_bound
    gnorm = float(np.max(np.abs(grad[free]) * scale)) if free.any() else 0.0
    if not res.success and gnorm > 1e-4:
        raise ModelError(
            f"spillover model did not converge ({res.message}); largest scaled gradient {gnorm:.2e}"
        )
    info = -_numerical_hessian(theta, pb, free)
    free_names = [n for n, f in zip(lay.names, free, strict=True) if f]
    if not np.all(np.isfinite(info)):
        # a likelihood flat or overflowing around the optimum (Boko Haram in Nigeria and
        # Niger, 2014-2020): its NaN had reached the variance step as a NaN group_sd, and the
        # report failed with "group_sd must be > 0" instead of going on without this model
        raise ModelError("spillover model: its information matrix is not finite at the optimum")
    diag = np.diag(info)
    worst = None
    if np.any(diag <= 1e-12 * max(diag.max(), 1.0)):
        return theta, ll, res, on_bound, info, free_names[int(np.argmin(diag))]
    # Judge singularity on the correlation scale: a strong penalty on small random effects
    # makes some diagonal entries huge, which must not make weak fixed effects look singular.
    root = 1.0 / np.sqrt(diag)
    try:
        eig, vecs = np.linalg.eigh(info * root[:, None] * root[None, :])
    except np.linalg.LinAlgError as exc:  # pragma: no cover - numerical corner
        raise ModelError(
            f"spillover model: information matrix could not be decomposed: {exc}"
        ) from exc
    if eig.min() <= 1e-8 * max(eig.max(), 1.0):
        worst = free_names[int(np.argmax(np.abs(vecs[:, 0])))]
    return theta, ll, res, on_bound, info, worst


def fit_hhh4(
    counts: np.ndarray,
    order: np.ndarray,
    cross: np.ndarray | None = None,
    *,
    spec: HHH4Spec | None = None,
    groups: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    season_start: int = 0,
    start: np.ndarray | None = None,
    trend_mask: np.ndarray | None = None,
) -> HHH4Fit:
    """Fit the endemic-epidemic NB model by (penalised) maximum likelihood.

    Parameters
    ----------
    counts : ndarray (R, T)
        Event counts per region and period; the first period is only used as a lag.
    order : ndarray (R, R)
        Adjacency order (0 on the diagonal; large for unconnected pairs).
    cross : ndarray (R, R), optional
        1/True where ``q`` and ``r`` are in different countries.
    spec : HHH4Spec, optional
    groups : array of labels (R,), optional
        Group (e.g. country) per region for penalised endemic offsets.
    offset : ndarray (R,), optional
        Known log offset of the endemic part (e.g. log population share).
    season_start : int
        Position within the year of the first column (0 = January for monthly data).
    start : ndarray, optional
        Starting values (in the order of the fitted ``names``).
    trend_mask : ndarray bool (R,), optional
        Regions (e.g. the focus of a study) that get their own linear endemic trend on top of
        the shared one: the covariate ``mask[r] * (t - t_ref) / periods_per_year`` with
        coefficient ``end.focus_trend`` (log change per year), plus an unpenalised level
        ``end.focus_level`` (log ratio of the focus regions' endemic level at ``t_ref`` to
        their group's). A surge confined to a few regions cannot be expressed by the shared
        trend and would otherwise be absorbed by the autoregressive parameter. The level is
        needed because a trend anchored at the group level cannot fit a region that has moved
        far from it (on the demo the slope came out at a quarter of the truth without it).
        None or no region selected = neither term.

    Returns
    -------
    HHH4Fit

    Raises
    ------
    InputError
        Malformed inputs.
    ModelError
        No events at all, the optimiser failed, or the information matrix is singular.
    """
    spec = spec or HHH4Spec()
    if spec.group_sd is None:
        return _fit_empirical_bayes(
            counts, order, cross, spec=spec, groups=groups, offset=offset,
            season_start=season_start, start=start, trend_mask=trend_mask,
        )  # fmt: skip
    return _fit_given_sd(
        counts, order, cross, spec=spec, groups=groups, offset=offset,
        season_start=season_start, start=start, trend_mask=trend_mask,
    )  # fmt: skip


def _fit_given_sd(
    counts, order, cross, *, spec, groups, offset, season_start, start, trend_mask,
    curvature=None,
) -> HHH4Fit:  # fmt: skip
    """:func:`fit_hhh4` with the group variances given; ``curvature`` as in :func:`_optimise`
    (used for the first optimisation only)."""
    pb, labels, t_ref = _build_problem(
        counts, order, cross, groups, offset, spec, season_start, trend_mask
    )
    lay = pb.layout
    if pb.y.sum() == 0:
        raise ModelError("cannot fit the spillover model: there are no events in the panel")
    p = len(lay.names)
    if start is None:
        theta0 = np.zeros(p)
        theta0[lay.i_alpha] = np.log(max(pb.y.mean(), 1e-3) * 0.5) - pb.offset.mean()
        if lay.has_ar:
            theta0[lay.i_lam] = np.log(0.3)
        if lay.has_ne:
            theta0[lay.i_phi] = np.log(0.1)
        if lay.has_d:
            theta0[lay.i_d] = np.log(1.5)
        theta0[lay.i_psi] = 0.0
    else:
        theta0 = np.asarray(start, dtype=float)
        if theta0.shape != (p,):
            raise InputError(f"start must have {p} values ({', '.join(lay.names)})")
    bounds = [_BOUNDS.get(n, (None, None)) for n in lay.names]
    scale = 1.0 / max(pb.y.size, 1)

    def fun(th: np.ndarray) -> tuple[float, np.ndarray]:
        ll, g = loglik_and_grad(th, pb)
        if not np.isfinite(ll):
            return 1e10, np.zeros_like(th)
        return -ll * scale, -g * scale

    for _pin in range(4):
        theta, ll, res, on_bound, info, worst = _optimise(
            fun, theta0, bounds, pb, scale, curvature if _pin == 0 else None
        )
        if worst is None:
            break
        # A weakly identified parameter that drifted towards its limit (e.g. the power-law decay
        # towards first-order weights, or the cross-border effect towards "never crosses") is
        # pinned at that limit and reported in ``at_bound``; anything else is an error.
        i = lay.names.index(worst)
        lo_i, hi_i = _BOUNDS.get(worst, (None, None))
        near = [b for b in (lo_i, hi_i) if b is not None and abs(theta[i] - b) < 3.0]
        if not near:
            raise ModelError(
                "spillover model: the information matrix is singular, so parameters are not "
                f"identified by these data (weakest direction mostly '{worst}'); use fewer terms "
                "(e.g. first-order weights, no cross-border term) or more data"
            )
        theta0 = theta.copy()
        theta0[i] = near[0] if abs(theta[i] - near[0]) <= abs(theta[i] - near[-1]) else near[-1]
        bounds[i] = (theta0[i], theta0[i])
    else:
        raise ModelError("spillover model: too many weakly identified parameters for these data")
    free = ~on_bound
    cov = np.zeros((p, p))
    cov[np.ix_(free, free)] = np.linalg.inv(info)
    return HHH4Fit(
        params=theta,
        names=lay.names,
        cov=cov,
        loglik=float(ll),
        n_obs=int(pb.y.size),
        at_bound=tuple(n for n, b in zip(lay.names, on_bound, strict=True) if b),
        spec=spec,
        order=pb.order,
        cross=pb.cross,
        groups=pb.groups,
        group_labels=labels,
        offset=pb.offset,
        t_ref=t_ref,
        season_start=season_start,
        n_periods=int(np.asarray(counts).shape[1]),
        n_iter=int(res.nit),
        layout=lay,
        trend_mask=pb.trend_mask,
    )


@dataclass(frozen=True)
class ForwardSimulation:
    """Paths simulated forward from a fit.

    Attributes
    ----------
    any_event : ndarray bool (M, K, R)
        Whether each path had at least one event in each region within the horizon.
    endemic, own, neighbour : ndarray (M, H, R)
        Expected counts per step from each part, averaged over the K paths of each draw.
    total : ndarray (M, K, R)
        Total simulated events within the horizon per path and region.
    paths : ndarray int (M, K, H, R) or None
        All simulated counts when requested.
    theta : ndarray (M, P) or None
        Each draw's parameters (rows of copies of the estimate without uncertainty).
    """

    any_event: np.ndarray
    endemic: np.ndarray
    own: np.ndarray
    neighbour: np.ndarray
    total: np.ndarray
    paths: np.ndarray | None
    theta: np.ndarray | None = None


def epidemic_radius(fit: HHH4Fit, theta: np.ndarray | None = None) -> np.ndarray:
    """Dominant eigenvalue of the epidemic part ``lambda * I + phi * W`` (weights with gamma).

    Below 1 the own/neighbour transmission dies out on its own (the process is stationary
    around its endemic level); at or above 1 simulated paths explode. One value per row of
    ``theta`` (default: the estimate).

    Every source's row of ``W`` sums to one (or to zero for a region without weighted
    neighbours), whatever ``d`` and ``gamma``: a connected group of regions has the row-sum
    eigenvalue 1 and no eigenvalue exceeds the largest row sum. So the radius is
    ``lambda + phi`` when some region has a weighted neighbour and ``lambda`` otherwise; no
    eigen-decomposition is needed (it cost seconds per thousand draws at 181 regions).

    Parameters
    ----------
    fit : HHH4Fit
        The fitted model (its layout, weights spec and adjacency).
    theta : ndarray (M, p) or (p,), optional
        Parameter rows in the order of ``fit.names`` (default None: ``fit.params``).

    Returns
    -------
    ndarray (M,)
    """
    lay = fit.layout
    rows = np.atleast_2d(fit.params if theta is None else theta)
    lam = np.exp(rows[:, lay.i_lam]) if lay.has_ar else np.zeros(len(rows))
    phi = np.exp(rows[:, lay.i_phi]) if lay.has_ne else np.zeros(len(rows))
    return lam + phi * float(_neighbour_mask(fit).any())


def _neighbour_mask(fit: HHH4Fit) -> np.ndarray:
    """Pairs ``(q, r)`` that receive weight, as :func:`neighbour_weights` assigns it."""
    o = np.asarray(fit.order, dtype=float)
    if fit.spec.weights == "first_order":
        return o == 1
    return (o >= 1) & (o <= fit.spec.max_order)


def _param_rows(fit: HHH4Fit, n_draws: int, rng: np.random.Generator, uncertainty: bool):
    if not uncertainty:
        return np.repeat(fit.params[None, :], n_draws, axis=0)
    # Draws from the asymptotic normal; zero-variance rows (bound parameters) stay fixed.
    w, v = np.linalg.eigh(0.5 * (fit.cov + fit.cov.T))
    root = v * np.sqrt(np.clip(w, 0.0, None))
    theta = fit.params[None, :] + rng.standard_normal((n_draws, len(fit.params))) @ root.T
    # Weakly identified directions (e.g. the cross-border effect) can give draws whose
    # transmission is explosive (dominant eigenvalue >= 1), which the estimate is not; such
    # draws are redrawn, i.e. the normal is truncated to the stationary region.
    if epidemic_radius(fit)[0] < 1.0:
        for _ in range(20):
            bad = np.flatnonzero(epidemic_radius(fit, theta) >= 1.0)
            if not len(bad):
                break
            z = rng.standard_normal((len(bad), len(fit.params)))
            theta[bad] = fit.params[None, :] + z @ root.T
    return theta


def poisson_quantile(u: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Poisson quantile function: the smallest ``n`` with ``P(X <= n) >= u`` (elementwise).

    Monotone in ``rate`` for a fixed ``u``, which is what couples scenarios simulated on common
    random numbers. Rates up to 3 (almost every unit) are inverted by summing the probabilities
    from 0; larger rates start from the Cornish-Fisher approximation of the quantile, take the
    exact CDF there (``scipy.special.pdtr``) and step up or down, a step or two. Computed in
    single precision when both inputs are (the simulator's case; the large rates always in
    double precision), else in double precision.

    Parameters
    ----------
    u : ndarray
        Probabilities.
    rate : ndarray
        Poisson rates, broadcast against ``u``.

    Returns
    -------
    ndarray
        Integer-valued quantiles in the float dtype above, of the broadcast shape.
    """
    dtype = np.result_type(np.asarray(u).dtype, np.asarray(rate).dtype, np.float32)
    u = np.asarray(u, dtype=dtype)
    rate = np.asarray(rate, dtype=dtype)
    shape = np.broadcast_shapes(u.shape, rate.shape)
    # P(X = 0) = exp(-rate) >= u, i.e. rate <= -log(u): one comparison settles most units
    # (quiet ones), with the logarithm taken on u before it is broadcast (e.g. over scenarios).
    with np.errstate(divide="ignore"):
        neg_log_u = -np.log(u)
    flat_r = np.broadcast_to(rate, shape).reshape(-1)
    idx = np.flatnonzero(np.broadcast_to(rate, shape) > neg_log_u)
    out = np.zeros(flat_r.size, dtype=dtype)
    r = flat_r[idx]
    uu = np.broadcast_to(u, shape)[np.unravel_index(idx, shape)]
    big = r > 3.0
    _quantile_large(uu[big], r[big], out, idx[big])
    idx, r, uu = idx[~big], r[~big], uu[~big]
    p = np.exp(-r)
    cdf = p.copy()
    n = 0
    while idx.size and n < 1000:  # the cap only stops u rounding above the summed CDF
        n += 1
        out[idx] = n
        p = p * r / n
        cdf = cdf + p
        more = uu > cdf
        idx, r, uu, p, cdf = idx[more], r[more], uu[more], p[more], cdf[more]
    return out.reshape(shape)


def _quantile_large(u: np.ndarray, r: np.ndarray, out: np.ndarray, where: np.ndarray) -> None:
    """Poisson quantiles for rates above 3, written into ``out[where]``."""
    if not len(where):
        return
    u = u.astype(float)
    r = r.astype(float)
    z = special.ndtri(u)
    n = np.maximum(np.floor(r + z * np.sqrt(r) + (z * z - 1.0) / 6.0), 0.0)
    cdf = special.pdtr(n, r)
    pmf = np.exp(n * np.log(r) - r - special.gammaln(n + 1.0))
    # up: the smallest n with cdf(n) >= u
    for _ in range(10_000):
        up = u > cdf
        if not up.any():
            break
        n = np.where(up, n + 1.0, n)
        pmf = np.where(up, pmf * r / np.maximum(n, 1.0), pmf)
        cdf = np.where(up, cdf + pmf, cdf)
    # down: while cdf(n - 1) >= u, move to n - 1
    for _ in range(10_000):
        down = (n > 0) & (u <= cdf - pmf)
        if not down.any():
            break
        cdf = np.where(down, cdf - pmf, cdf)
        pmf = np.where(down, pmf * n / r, pmf)
        n = np.where(down, n - 1.0, n)
    out[where] = n


def nb_quantile(u: np.ndarray, mean: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Negative-binomial quantile function: the smallest ``n`` with ``P(X <= n) >= u``.

    ``X`` has mean ``mean`` and variance ``mean + mean**2 / size`` (elementwise, broadcast).
    Monotone in ``mean`` for fixed ``u`` and ``size`` (the distribution is stochastically
    increasing in its mean), so one uniform per count couples scenarios on common random
    numbers without a gamma mixing variate. Means whose quantiles are reached in a few terms
    are inverted by summing the probabilities from 0; the others start from the
    Cornish-Fisher approximation, take the exact CDF there (the regularised incomplete beta
    function) and step up or down. Double precision.

    Parameters
    ----------
    u : ndarray
        Probabilities.
    mean : ndarray
        Means.
    size : ndarray
        Sizes (``1 / psi``); ``u``, ``mean`` and ``size`` are broadcast together.

    Returns
    -------
    ndarray
        Integer-valued quantiles as float64, of the broadcast shape.
    """
    u, mean, size = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (u, mean, size)))
    shape = u.shape
    u, mean, size = u.ravel(), mean.ravel(), size.ravel()
    out = np.zeros(u.size)
    var = mean + mean * mean / size
    big = mean + 4.0 * np.sqrt(var) > _NB_SUMMED
    _nb_quantile_large(u[big], mean[big], size[big], out, np.flatnonzero(big))
    idx = np.flatnonzero(~big)
    uu, m, k = u[idx], mean[idx], size[idx]
    q = m / (k + m)
    # P(X = 0); log(1 + x) rather than log1p (not vectorised): its absolute error is what
    # enters, and it is at rounding level
    pmf = np.exp(-k * np.log(1.0 + m / k))
    cdf = pmf.copy()
    live = uu > cdf
    got = np.zeros(idx.size)  # the count reached by each cell (live cells: n)
    n = 0
    while n < 10_000:  # the cap only stops u rounding above the summed CDF
        if 2 * np.count_nonzero(live) < live.size:
            # write and drop the settled cells once they are half of them (not at every step)
            done = np.flatnonzero(~live)
            out[idx.take(done)] = got.take(done)
            keep = np.flatnonzero(live)
            idx, uu, k, q, pmf, cdf, got = (x.take(keep) for x in (idx, uu, k, q, pmf, cdf, got))
            live = np.ones(idx.size, dtype=bool)
        if not idx.size:
            break
        n += 1
        got += live
        pmf *= (n - 1 + k) / n * q
        cdf += pmf
        live &= uu > cdf
    out[idx] = got
    return out.reshape(shape)


def _nb_quantile_large(
    u: np.ndarray, m: np.ndarray, k: np.ndarray, out: np.ndarray, where: np.ndarray
) -> None:
    """Negative-binomial quantiles for long-tailed cells, written into ``out[where]``."""
    if not len(where):
        return
    p = k / (k + m)
    q = m / (k + m)
    sd = np.sqrt(m / p)
    skew = (2.0 - p) / np.sqrt(k * q)
    z = special.ndtri(u)
    n = np.maximum(np.floor(m + sd * (z + (z * z - 1.0) * skew / 6.0)), 0.0)
    cdf = special.betainc(k, n + 1.0, p)
    log_pmf = (
        special.gammaln(n + k) - special.gammaln(k) - special.gammaln(n + 1.0)
        + k * np.log(p) + n * np.log(q)
    )  # fmt: skip
    pmf = np.exp(log_pmf)
    # up: the smallest n with cdf(n) >= u, a step at a time (usually a step or two)
    idx = np.flatnonzero(u > cdf)
    for _ in range(_NB_STEPS):
        if not idx.size:
            break
        n[idx] += 1.0
        pmf[idx] *= (n[idx] - 1.0 + k[idx]) / n[idx] * q[idx]
        cdf[idx] += pmf[idx]
        idx = idx[u[idx] > cdf[idx]]
    if idx.size:  # far from the start (very long tails): bisection on the exact CDF
        n[idx] = _nb_bisect(u[idx], k[idx], p[idx], n[idx], up=True)
    # down: while cdf(n - 1) >= u, move to n - 1
    idx = np.flatnonzero((n > 0) & (u <= cdf - pmf))
    for _ in range(_NB_STEPS):
        if not idx.size:
            break
        cdf[idx] -= pmf[idx]
        pmf[idx] *= n[idx] / ((n[idx] - 1.0 + k[idx]) * q[idx])
        n[idx] -= 1.0
        idx = idx[(n[idx] > 0) & (u[idx] <= cdf[idx] - pmf[idx])]
    if idx.size:
        n[idx] = _nb_bisect(u[idx], k[idx], p[idx], n[idx] - 1.0, up=False)
    out[where] = n


#: Negative-binomial quantiles are summed from 0 where the mean plus four standard deviations is
#: below this (summing is cheaper than the incomplete beta function for all but long tails).
_NB_SUMMED = 200.0

#: Unit steps from the Cornish-Fisher start before a negative-binomial quantile is bisected.
_NB_STEPS = 32


def _nb_bisect(u, k, p, n, up: bool) -> np.ndarray:
    """Smallest ``m`` with ``cdf(m) >= u``, given ``cdf(n) < u`` (``up``) or ``>= u``."""
    cdf = lambda m: special.betainc(k, m + 1.0, p)  # noqa: E731
    if up:
        lo, width = n.copy(), np.maximum(n, 1.0)
        hi = lo + width
        for _ in range(200):
            short = cdf(hi) < u
            if not short.any():
                break
            lo = np.where(short, hi, lo)
            width = np.where(short, 2.0 * width, width)
            hi = np.where(short, lo + width, hi)
    else:
        hi, width = n.copy(), np.maximum(n, 1.0)
        lo = np.maximum(hi - width, -1.0)
        for _ in range(200):
            over = (lo >= 0) & (cdf(np.maximum(lo, 0.0)) >= u)
            if not over.any():
                break
            hi = np.where(over, lo, hi)
            width = np.where(over, 2.0 * width, width)
            lo = np.where(over, np.maximum(hi - width, -1.0), lo)
    # invariant: cdf(lo) < u (or lo = -1) and cdf(hi) >= u
    for _ in range(200):
        gap = hi - lo > 1.0
        if not gap.any():
            break
        mid = np.floor((lo + hi) / 2.0)
        ok = cdf(np.maximum(mid, 0.0)) >= u
        hi = np.where(gap & ok, mid, hi)
        lo = np.where(gap & ~ok, mid, lo)
    return hi


#: Elements (draws x paths x regions) of one chunk of the forward simulation per scenario;
#: bounds memory (about 20 arrays of this size per scenario) without a loop over draws.
_CHUNK = 2_000_000


@dataclass(frozen=True)
class _Transmission:
    """Per-draw ``phi * W`` as dense blocks, one per connected group of regions.

    Regions are permuted so that each group is a contiguous slice; isolated regions (no
    weighted neighbour) receive nothing. The neighbour sum then costs
    ``draws x paths x sum(group size ** 2)``: linear in the number of regions when they come in
    groups of bounded size, quadratic within one connected group.
    """

    perm: np.ndarray  # (R,) simulation order of the regions
    slices: tuple[slice, ...]
    blocks: tuple[np.ndarray, ...]  # (M, n_g, n_g) in the permuted order, or (1, n_g, n_g)
    blocks32: tuple[np.ndarray, ...]  # the same in single precision, for the paths

    def apply(self, prev: np.ndarray, dtype=np.float64) -> np.ndarray:
        """Neighbour sums ``sum_q prev[..., q] * phi W[q, r]`` for prev (M, N, R) permuted."""
        blocks = self.blocks if dtype == np.float64 else self.blocks32
        n_reg = prev.shape[-1]
        if len(self.slices) == 1 and self.slices[0] == slice(0, n_reg):
            # one group of every region (the regional panel): the product is written in place,
            # without zero-filling an output and copying the product into it
            b = blocks[0]
            x = np.ascontiguousarray(prev, dtype=dtype)
            if len(b) == 1:
                out = x.reshape(-1, n_reg) @ b[0]
                return out.reshape(prev.shape)
            return np.matmul(x, b)
        # isolated regions receive nothing: zero-filled only when there are any
        covered = sum(s.stop - s.start for s in self.slices)
        out = (np.empty if covered == n_reg else np.zeros)(prev.shape, dtype=dtype)
        for s, b in zip(self.slices, blocks, strict=True):
            if len(b) == 1:
                # one matrix for every draw: a single product over all draws and paths
                x = prev[:, :, s]
                out[:, :, s] = (x.reshape(-1, x.shape[-1]) @ b[0]).reshape(x.shape)
            else:
                out[:, :, s] = prev[:, :, s] @ b
        return out


def _transmission(fit: HHH4Fit, theta: np.ndarray) -> _Transmission:
    """Build ``phi * W`` for every parameter row at once (no loop over draws)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    lay = fit.layout
    n_reg = fit.order.shape[0]
    m = len(theta)
    mask = _neighbour_mask(fit)
    if not lay.has_ne or not mask.any():
        return _Transmission(np.arange(n_reg), (), (), ())
    _, label = connected_components(csr_matrix(mask | mask.T), directed=False)
    sizes = np.bincount(label)
    label = np.where(sizes[label] > 1, label, -1)  # isolated regions last
    perm = np.lexsort((np.arange(n_reg), label == -1, label))
    lab = label[perm]
    o = np.asarray(fit.order, dtype=float)[np.ix_(perm, perm)]
    c = np.asarray(fit.cross, dtype=float)[np.ix_(perm, perm)]
    msk = mask[np.ix_(perm, perm)]
    log_o = np.log(np.where(msk, o, 1.0))
    # copies of one parameter row (no parameter uncertainty): one matrix serves every draw
    rows = theta[:1] if bool(np.all(theta == theta[:1])) else theta
    m = len(rows)
    phi = np.exp(rows[:, lay.i_phi])
    d = np.exp(rows[:, lay.i_d]) if lay.has_d else np.zeros(m)
    gamma = rows[:, lay.i_gamma] if lay.has_cross else np.zeros(m)
    slices, blocks = [], []
    for g in np.unique(lab[lab >= 0]):
        idx = np.flatnonzero(lab == g)
        s = slice(int(idx[0]), int(idx[-1]) + 1)
        n = s.stop - s.start
        # raw weight order ** -d * exp(gamma * cross), normalised per source (hhh4 normalize);
        # it depends on a pair only through its (order, cross) class, so the exponentials are
        # taken per class and draw, and each draw's matrix is one gather
        ms = msk[s, s]
        classes, inverse = np.unique(
            np.column_stack([log_o[s, s][ms], c[s, s][ms]]), axis=0, return_inverse=True
        )
        code = np.zeros((n, n), dtype=np.intp)
        code[ms] = inverse.reshape(-1) + 1
        count = np.zeros((n, len(classes)))
        np.add.at(count, (np.nonzero(ms)[0], inverse.reshape(-1)), 1.0)
        expo = -d[:, None] * classes[None, :, 0] + gamma[:, None] * classes[None, :, 1]
        # a factor common to a draw's classes cancels in the normalisation: take out the
        # largest, so that no draw's weights overflow (a wide draw of gamma)
        per_class = np.exp(expo - expo.max(axis=1, keepdims=True))
        rs = per_class @ count.T  # (M, n) row sums
        scale = phi[:, None] / np.where(rs > 0, rs, np.inf)  # (M, n)
        table = np.concatenate([np.zeros((m, 1)), per_class], axis=1)  # (M, J + 1)
        scaled = scale[:, :, None] * table[:, None, :]  # (M, n, J + 1)
        key = (np.arange(n)[:, None] * table.shape[1] + code).ravel()
        slices.append(s)
        blocks.append(scaled.reshape(m, -1)[:, key].reshape(m, n, n))
    return _Transmission(
        perm, tuple(slices), tuple(blocks), tuple(b.astype(np.float32) for b in blocks)
    )


def simulate_paths(
    fit: HHH4Fit,
    last_counts: np.ndarray,
    horizon: int,
    scenarios: Mapping[str, Mapping[int, float] | None],
    *,
    n_draws: int = 200,
    n_paths: int = 200,
    seed: int | None = 0,
    uncertainty: bool = True,
    hold: Literal["counts", "mean"] = "counts",
    keep_paths: bool = False,
) -> dict[str, ForwardSimulation]:
    """Simulate several scenarios forward on common random numbers, all paths at once.

    Every scenario uses the same parameter draws and, per draw, path, region and step, the
    same random number: a uniform turned into a negative-binomial count by inversion
    (:func:`nb_quantile`). Counts are therefore monotone in the scenario's mean and
    differences between scenarios are paired path by path, so they carry little Monte Carlo
    noise. Each step is one array operation over draws, paths and scenarios (draws are
    processed in chunks of fixed size to bound memory); the result of a scenario does not
    depend on which other scenarios are simulated with it.

    Parameters
    ----------
    fit : HHH4Fit
    last_counts : ndarray (R,) or (R, k)
        The last observed periods (the last column is the first lag; the activity covariate
        needs ``activity_window`` columns).
    horizon : int
    scenarios : mapping
        Name -> ``{region index: level}`` or ``None`` (the model as fitted).
    n_draws : int
        Parameter draws from the asymptotic normal of the estimates (copies of the estimate
        when ``uncertainty`` is False).
    n_paths : int
        Paths per draw.
    seed : int or None
    uncertainty : bool
    hold : {"counts", "mean"}
        What a scenario's level fixes: the region's counts (``counts``: they are replaced by
        the level before they feed the next step) or its conditional mean (``mean``: counts
        are drawn around it, keeping count noise).
    keep_paths : bool
        Keep all simulated counts (memory M*K*H*R per scenario).

    Returns
    -------
    dict of ForwardSimulation
        One per scenario, in the order given.
    """
    if horizon < 1:
        raise InputError(f"horizon must be >= 1 period, got {horizon}")
    if hold not in ("counts", "mean"):
        raise InputError(f"hold must be 'counts' or 'mean', got {hold!r}")
    recent = np.asarray(last_counts, dtype=float)
    n_reg = fit.order.shape[0]
    if recent.ndim == 1:
        recent = recent[:, None]
    if recent.ndim != 2 or recent.shape[0] != n_reg:
        raise InputError(
            f"last_counts must have one value (or a row of recent values) per region ({n_reg}), "
            f"got shape {np.shape(last_counts)}"
        )
    window = fit.spec.activity_window
    if window and recent.shape[1] < window:
        raise InputError(f"the activity covariate needs the last {window} periods of counts")
    names = list(scenarios)
    if not names:
        raise InputError("at least one scenario is needed")
    # parameter draws from the seed's own stream (the same draws as before paths were
    # vectorised); paths from independent child streams, one per chunk of draws
    theta = _param_rows(fit, n_draws, np.random.default_rng(seed), uncertainty)
    per_chunk = max(1, _CHUNK // (n_paths * n_reg))
    starts = range(0, n_draws, per_chunk)
    streams = np.random.SeedSequence(seed).spawn(len(starts))
    parts = [
        _simulate_chunk(
            fit,
            recent,
            horizon,
            scenarios,
            theta[a : a + per_chunk],
            n_paths,
            np.random.default_rng(stream),
            hold,
            keep_paths,
        )  # fmt: skip
        for a, stream in zip(starts, streams, strict=True)
    ]
    out = {}
    for i, name in enumerate(names):
        pieces = [p[i] for p in parts]
        out[name] = ForwardSimulation(
            **{
                key: None
                if pieces[0][key] is None
                else np.concatenate([p[key] for p in pieces], axis=0)
                for key in ("any_event", "endemic", "own", "neighbour", "total", "paths")
            },
            theta=theta,
        )
    return out


def _simulate_chunk(fit, recent, horizon, scenarios, theta, n_paths, rng, hold, keep_paths):
    """Forward simulation of parameter rows ``theta`` for all scenarios; see simulate_paths."""
    lay = fit.layout
    n_draws = len(theta)
    n_reg = fit.order.shape[0]
    n_sc = len(scenarios)
    window = fit.spec.activity_window
    tr = _transmission(fit, theta)
    perm = tr.perm
    inv = np.argsort(perm)
    t_future = np.arange(fit.n_periods, fit.n_periods + horizon, dtype=float)
    # paths in single precision (counts are exact in it); the parts' means in double
    en64 = np.exp(np.clip(fit.endemic_log_level(theta, t_future), -50, 20))[:, :, perm]
    en = en64.astype(np.float32)  # (M, H, R)
    lam64 = np.exp(theta[:, lay.i_lam]) if lay.has_ar else np.zeros(n_draws)
    lam = lam64.astype(np.float32)
    k64 = np.exp(-theta[:, lay.i_psi])
    shape = (n_draws, n_sc, n_paths, n_reg)
    # scenario levels as a (S, R) table and mask, in the permuted order
    fixed = np.zeros((n_sc, n_reg), dtype=bool)
    level = np.zeros((n_sc, n_reg), dtype=np.float32)
    pos = {int(r): j for j, r in enumerate(perm)}
    for s, spec in enumerate(scenarios.values()):
        for r, v in dict(spec or {}).items():
            fixed[s, pos[int(r)]] = True
            level[s, pos[int(r)]] = v
    any_fixed = fixed.any()
    prev = np.broadcast_to(recent[perm, -1].astype(np.float32), shape).copy()
    if any_fixed and hold == "counts":
        prev = np.where(fixed[None, :, None, :], level[None, :, None, :], prev)
    if window:
        # the activity covariate only needs the step of each path's last event
        hit = recent[perm, -window:] > 0
        last_hit = np.where(hit.any(axis=1), window - 1 - np.argmax(hit[:, ::-1], axis=1), -1)
        last = np.broadcast_to((last_hit - window).astype(np.int16), shape).copy()
        if any_fixed:
            held_on = fixed & (level > 0)
            last = np.where(held_on[None, :, None, :], np.int16(0), last)
            last = np.where((fixed & ~held_on)[None, :, None, :], np.int16(-window - 1), last)
        boost64 = np.exp(theta[:, lay.i_act])[:, None, None]
        boost = boost64.astype(np.float32)[:, None]
    any_event = np.zeros(shape, dtype=bool)
    total = np.zeros(shape, dtype=np.float32)
    endemic = np.empty((n_draws, n_sc, horizon, n_reg))
    own = np.empty_like(endemic)
    neighbour = np.empty_like(endemic)
    paths = np.empty((*shape[:3], horizon, n_reg), dtype=np.int32) if keep_paths else None
    pairs = [(s, r, level[s, r]) for s, r in zip(*np.nonzero(fixed), strict=True)]
    lam4 = lam[:, None, None, None]
    tmp = np.empty(shape, dtype=np.float32)
    for h in range(horizon):
        if window:
            # active: an event in the last `window` periods (h - window .. h - 1)
            active = last >= h - window
            mu = np.where(active, en[:, None, None, h, :] * boost, en[:, None, None, h, :])
            share = np.count_nonzero(active, axis=2) / n_paths
            endemic[:, :, h] = en64[:, None, h, :] * (1.0 + (boost64 - 1.0) * share)
        else:
            mu = np.repeat(np.repeat(en[:, None, None, h, :], n_sc, axis=1), n_paths, axis=2)
            endemic[:, :, h] = en64[:, None, h, :]
        mean_prev = prev.mean(axis=2, dtype=np.float64)
        own[:, :, h] = lam64[:, None, None] * mean_prev
        mu += np.multiply(lam4, prev, out=tmp)
        from_neighbours = tr.apply(prev.reshape(n_draws, -1, n_reg), np.float32).reshape(shape)
        neighbour[:, :, h] = from_neighbours.mean(axis=2, dtype=np.float64)
        mu += from_neighbours
        if hold == "mean":
            for s, r, v in pairs:
                mu[:, s, :, r] = v
        # shared by every scenario: one uniform per draw, path and region, inverted to an NB
        # count; drawn as its minus logarithm (a standard exponential, cheaper than the log)
        e = rng.standard_exponential((n_draws, 1, n_paths, n_reg), dtype=np.float32)
        # u below 1 by at least a single-precision uniform's resolution (u = 1 has no quantile)
        np.maximum(e, np.float32(2.0**-24), out=e)
        # the clip guards against explosive draws overflowing
        np.minimum(mu, np.float32(1e7), out=mu)
        y = _nb_counts(e, mu, k64)
        # and the counts too: an NB with a tiny size around a clipped mean has quantiles far
        # beyond int32, which the paths' cast had turned into negative garbage (a near-singular
        # fit of a sparse study, Togo 2002-06, in the spillover model's cross-validated choice)
        np.minimum(y, np.float32(1e7), out=y)
        if hold == "counts":
            for s, r, v in pairs:
                y[:, s, :, r] = v
        pos_y = y > 0
        any_event |= pos_y
        total += y
        if paths is not None:
            paths[:, :, :, h] = y
        if window:
            np.putmask(last, pos_y, np.int16(h))
        prev = y
    out = []
    for s in range(n_sc):
        out.append(
            {
                "any_event": any_event[:, s][..., inv],
                "endemic": endemic[:, s][..., inv],
                "own": own[:, s][..., inv],
                "neighbour": neighbour[:, s][..., inv],
                "total": total[:, s][..., inv].astype(float),
                "paths": None if paths is None else paths[:, s][..., inv],
            }
        )
    return out


def _nb_counts(e: np.ndarray, mu: np.ndarray, k: np.ndarray) -> np.ndarray:
    """NB counts by inversion of ``u = exp(-e)``: ``e`` (M, 1, K, R) standard exponentials
    shared by the scenarios of ``mu`` (M, S, K, R), size ``k`` (M,) per draw; single precision
    like ``mu``.

    A count is 0 where ``u <= P(X = 0) = (1 + mu / k) ** -k``, i.e. where ``mu`` is at most
    ``k * expm1(e / k)``: that threshold is computed once per draw, path and region and
    settles most cells (quiet units) by one comparison; the rest go to :func:`nb_quantile`.
    A cell of a later scenario whose mean equals the first scenario's (bit for bit) has the
    same uniform and so the same count: it is copied, not inverted again (scenarios differ
    from each other only near the regions they fix, so this is most of their cells).
    """
    n_draws, n_sc, n_paths, n_reg = mu.shape
    kk = k.astype(np.float32)[:, None, None, None]
    with np.errstate(over="ignore"):
        x = e / kk
        # expm1 by exp - 1, with its series where that cancels (numpy's expm1 is not vectorised)
        thr = np.exp(x)
        thr -= 1.0
        small = x < 1e-3
        thr[small] = x[small] * (1.0 + 0.5 * x[small])
        thr *= kk
    need = mu > thr
    if n_sc > 1:
        same = mu[:, 1:] == mu[:, :1]
        need[:, 1:] &= ~same
    idx = np.flatnonzero(need)
    y = np.zeros(mu.shape, dtype=np.float32)
    if idx.size:
        per_draw = n_sc * n_paths * n_reg
        draw, cell = np.divmod(idx, per_draw)
        at_e = draw * (n_paths * n_reg) + cell % (n_paths * n_reg)
        u = np.exp(-e.ravel()[at_e].astype(np.float64))
        np.put(y, idx, nb_quantile(u, mu.ravel()[idx], k[draw]))
    if n_sc > 1:
        np.copyto(y[:, 1:], y[:, :1], where=same)
    return y


def simulate_forward(
    fit: HHH4Fit,
    last_counts: np.ndarray,
    horizon: int,
    *,
    n_draws: int = 200,
    n_paths: int = 200,
    seed: int | None = 0,
    uncertainty: bool = True,
    fixed: dict[int, float] | None = None,
    keep_paths: bool = False,
) -> ForwardSimulation:
    """Simulate counts ``horizon`` periods past the end of the fitted data.

    One scenario of :func:`simulate_paths` (with the same seed, its numbers are those of the
    same scenario simulated there alongside others).

    Parameters
    ----------
    fit : HHH4Fit
    last_counts : ndarray (R,) or (R, k)
        Counts of the last observed period(s) (the last is the lag for the first step).
    horizon : int
    n_draws : int
        Parameter draws from the asymptotic normal of the estimates (or copies of the
        estimate when ``uncertainty`` is False).
    n_paths : int
        Paths simulated per parameter draw.
    seed : int or None
    uncertainty : bool
        Propagate parameter uncertainty.
    fixed : dict {region index: level}, optional
        Regions whose counts are held at a fixed level at every step (scenario "held at its
        current level"); their simulated counts are replaced by that level before they feed
        the next step. Their own outputs (any_event, totals) refer to the held level.
    keep_paths : bool
        Keep all simulated counts (memory M*K*H*R).

    Returns
    -------
    ForwardSimulation
    """
    return simulate_paths(
        fit, last_counts, horizon, {"scenario": fixed}, n_draws=n_draws, n_paths=n_paths,
        seed=seed, uncertainty=uncertainty, hold="counts", keep_paths=keep_paths,
    )["scenario"]  # fmt: skip


def simulate_hhh4(
    params: dict[str, float],
    order: np.ndarray,
    cross: np.ndarray | None = None,
    *,
    n_periods: int,
    spec: HHH4Spec | None = None,
    groups: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    season_start: int = 0,
    y0: np.ndarray | None = None,
    burn_in: int = 50,
    seed: int | None = 0,
    trend_mask: np.ndarray | None = None,
) -> np.ndarray:
    """Simulate a count panel from the model with known parameters.

    Parameters
    ----------
    params : dict
        Values by name as in ``HHH4Fit.names`` (``end.intercept``, ``end.trend``,
        ``ar.log_lambda``, ``ne.log_phi``, ``ne.cross_border``, ``ne.log_d``, ``log_psi``,
        ``end.group[<label>]``...). Missing names raise.
    order, cross : ndarray (R, R)
    n_periods : int
        Length of the returned panel; the trend is zero at its last period, as in a fit.
    spec, groups, offset, season_start
        As in :func:`fit_hhh4`.
    y0 : ndarray (R,), optional
        Counts before the first simulated period; default zeros then ``burn_in`` periods run
        with the endemic level of period 0 so that the panel starts near its stationary state.
    burn_in : int
    seed : int or None
    trend_mask : ndarray bool (R,), optional
        Regions with their own level and trend (needs ``params["end.focus_level"]`` and
        ``params["end.focus_trend"]``), as in :func:`fit_hhh4`.

    Returns
    -------
    ndarray int (R, n_periods)
    """
    spec = spec or HHH4Spec()
    n_reg = np.asarray(order).shape[0]
    dummy = np.ones((n_reg, 3))
    pb, labels, _ = _build_problem(
        dummy, order, cross, groups, offset, spec, season_start, trend_mask
    )
    lay = pb.layout
    missing = [n for n in lay.names if n not in params]
    if missing:
        raise InputError(f"simulate_hhh4 needs values for {missing}")
    theta = np.array([params[n] for n in lay.names], dtype=float)
    rng = np.random.default_rng(seed)
    t = np.arange(n_periods, dtype=float)
    x = _time_design(t, spec, float(n_periods - 1), season_start)
    u = np.zeros(lay.n_groups + 1)
    u[: lay.n_groups] = theta[lay.s_group]
    base = pb.offset + theta[lay.i_alpha] + u[pb.groups].sum(axis=1)
    time_part = x @ theta[lay.s_time] if lay.n_time else np.zeros(n_periods)
    log_en = base[None, :] + time_part[:, None]
    if lay.has_focus:
        z = _focus_design(t, pb.trend_mask, spec, float(n_periods - 1))
        log_en = log_en + theta[lay.i_focus] * z.T + theta[lay.i_focus_level] * pb.trend_mask
    lam = np.exp(theta[lay.i_lam]) if lay.has_ar else 0.0
    phi = np.exp(theta[lay.i_phi]) if lay.has_ne else 0.0
    gamma = theta[lay.i_gamma] if lay.has_cross else 0.0
    d = np.exp(theta[lay.i_d]) if lay.has_d else 1.0
    mat = phi * neighbour_weights(pb.order, spec.weights, d, spec.max_order, pb.cross, gamma)
    k = np.exp(-theta[lay.i_psi])
    prev = np.zeros(n_reg) if y0 is None else np.asarray(y0, dtype=float)
    if y0 is None:
        for _ in range(burn_in):
            mu = np.exp(log_en[0]) + lam * prev + prev @ mat
            prev = rng.poisson(rng.gamma(k, mu / k)).astype(float)
    out = np.empty((n_reg, n_periods), dtype=np.int64)
    window = spec.activity_window
    for i in range(n_periods):
        log_nu = log_en[i]
        if window and i >= 1:
            # same definition as the fit: mean of the panel's own last `window` columns
            recent = out[:, max(0, i - window) : i].sum(axis=1) > 0
            log_nu = log_nu + theta[lay.i_act] * recent
        mu = np.exp(log_nu) + lam * prev + prev @ mat
        prev = rng.poisson(rng.gamma(k, mu / k)).astype(float)
        out[:, i] = prev
    return out


def _fit_empirical_bayes(
    counts, order, cross, *, spec, groups, offset, season_start, start, trend_mask
):
    """Penalised fit with the group variances estimated as surveillance::hhh4 does.

    hhh4 (Paul & Held 2011) alternates a penalised fit of all parameters with a step that
    maximises, over the variances and with the other parameters held, the approximate marginal
    likelihood ``-sum_l n_l log sd_l - u' Sigma^-1 u / 2 - log det F_pen / 2`` (``F_pen``: the
    penalised observed information of *all* parameters, a REML-type correction). Both steps
    are iterated here until the variances settle; between full fits the variance step runs on
    a Laplace (one Newton step) surrogate of the last fit, which needs no likelihood
    evaluation.
    """
    from dataclasses import replace

    codes, _, _, blocks = _group_codes(groups, np.asarray(counts).shape[0])
    n_levels = codes.shape[1]
    if n_levels == 0:
        return fit_hhh4(
            counts, order, cross, spec=replace(spec, group_sd=1.0), groups=None,
            offset=offset, season_start=season_start, start=start, trend_mask=trend_mask,
        )  # fmt: skip
    sizes = np.bincount(blocks, minlength=n_levels)
    floor, ceil = 1e-3, 10.0

    def full_fit(sd: np.ndarray, theta0, curvature=None) -> HHH4Fit:
        return _fit_given_sd(
            counts, order, cross, spec=replace(spec, group_sd=tuple(sd)), groups=groups,
            offset=offset, season_start=season_start, start=theta0, trend_mask=trend_mask,
            curvature=curvature,
        )  # fmt: skip

    def surrogate(fit: HHH4Fit, sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Variances where the variance step is stationary, on a Laplace surrogate.

        Around the penalised fit at ``sd`` the log-likelihood is taken as quadratic (its
        observed information held), so the penalised mode at another ``s`` is one Newton step
        away and costs no likelihood evaluation. The stationarity condition of the variance
        step, ``s_l**2 = (|u_l(s)|**2 + trace(F_pen(s)^-1)_ll) / n_l``, is iterated on it.
        Returns the variances, the predicted mode there (a warm start for the next fit) and
        the penalised information there over the free parameters (its curvature).
        """
        free = np.flatnonzero(np.any(fit.cov != 0, axis=0))
        info = np.linalg.inv(fit.cov[np.ix_(free, free)])
        lay = fit.layout
        pos = np.searchsorted(free, np.arange(lay.s_group.start, lay.s_group.stop))
        unpen = info.copy()
        unpen[pos, pos] -= 1.0 / sd[blocks] ** 2
        u0 = fit.params[lay.s_group]
        s2 = sd**2
        theta = fit.params.copy()
        step = np.zeros(len(free))
        for _ in range(5000):
            pen = unpen.copy()
            pen[pos, pos] += 1.0 / s2[blocks]
            # gradient at the fit under the new penalty: only the group rows change
            grad = np.zeros(len(free))
            grad[pos] = u0 * (1.0 / sd[blocks] ** 2 - 1.0 / s2[blocks])
            try:
                inv = np.linalg.inv(pen)
            except np.linalg.LinAlgError:
                break
            step = inv @ grad
            u = u0 + step[pos]
            ss = np.bincount(blocks, weights=u**2, minlength=n_levels)
            trace = np.bincount(blocks, weights=np.diag(inv)[pos], minlength=n_levels)
            new = np.clip((ss + trace) / sizes, floor**2, ceil**2)
            done = np.max(np.abs(np.log(new) - np.log(s2))) < 1e-10
            s2 = new
            if done:
                break
        theta[free] = fit.params[free] + step
        pen = unpen.copy()
        pen[pos, pos] += 1.0 / s2[blocks]
        return np.sqrt(s2), theta, (free, pen)

    # Each round: a full penalised fit at the current variances (warm-started), then the
    # variances that make hhh4's variance step stationary on a Laplace surrogate of that fit.
    # The surrogate is exact to second order, so the rounds converge fast (three or four full
    # fits instead of one per variance step); the answer is the same fixed point.
    sd = np.ones(n_levels)
    fit = full_fit(sd, start)
    for _ in range(30):
        new, theta, curvature = surrogate(fit, sd)
        if not np.all(np.isfinite(new)):
            raise ModelError("spillover model: the group variances could not be estimated")
        if np.max(np.abs(np.log(new) - np.log(sd))) < 1e-6:
            break
        sd = new
        fit = full_fit(sd, theta, curvature)
    else:
        raise ModelError("spillover model: the group variances did not converge")
    if len(sd) == 1:
        return replace(fit, spec=replace(fit.spec, group_sd=float(sd[0])))
    return fit


def _newton_profile(theta0, pb, free, info, lo, hi, tol: float = 1e-10, max_iter: int = 50):
    """Maximise the log-likelihood over ``free`` from ``theta0``, the rest held.

    Newton steps with the curvature held at the fit's information ``info`` (over ``free``),
    halved until the log-likelihood does not fall: one evaluation a step near the maximum,
    where L-BFGS-B rebuilds its curvature from nothing at each profile point and takes a
    hundred or more. Converged when the Newton decrement ``g' info^-1 g`` is below ``tol``
    (the log-likelihood is then within about ``tol / 2`` of its maximum). Returns the
    parameters and log-likelihood, or None when a step leaves the bounds or the iteration
    stalls (the caller falls back to L-BFGS-B).
    """
    from scipy.linalg import cho_factor, cho_solve

    if info is None or not len(free):
        return None
    try:
        factor = cho_factor(info)
    except np.linalg.LinAlgError:
        return None
    theta = theta0.copy()
    ll, g = loglik_and_grad(theta, pb)
    if not np.isfinite(ll):
        return None
    for _ in range(max_iter):
        step = cho_solve(factor, g[free])
        if float(g[free] @ step) < tol:
            return theta, float(ll)
        t = 1.0
        while t > 1e-4:
            cand = theta.copy()
            cand[free] += t * step
            if np.any(cand[free] < lo[free]) or np.any(cand[free] > hi[free]):
                return None
            ll_c, g_c = loglik_and_grad(cand, pb)
            if np.isfinite(ll_c) and ll_c >= ll:
                theta, ll, g = cand, ll_c, g_c
                break
            t /= 2.0
        else:
            return None
    return None


def profile_intervals(
    fit: HHH4Fit,
    counts: np.ndarray,
    cross: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    level: float = 0.95,
) -> HHH4Fit:
    """Profile-likelihood intervals for parameters estimated on a bound.

    A Wald interval does not exist on a bound (e.g. a cross-border effect at its lower limit:
    "the data show no cross-border transmission"), but the data still bound how large the
    parameter could be. For each such parameter the other parameters are re-estimated with it
    fixed at values moving away from the bound until the log-likelihood has dropped by
    ``chi2_1(level) / 2``; the interval runs from the bound to that value.

    Parameters
    ----------
    fit : HHH4Fit
    counts, cross, groups, offset
        The data the fit used.
    names : sequence of str, optional
        Parameters to profile (default: all in ``fit.at_bound``).
    level : float

    Returns
    -------
    HHH4Fit
        A copy with ``profile_ci`` filled in.
    """
    from dataclasses import replace

    names = list(fit.at_bound if names is None else names)
    if not names:
        return fit
    pb, _, _ = _build_problem(
        counts, fit.order, cross, groups, offset, fit.spec, fit.season_start, fit.trend_mask
    )
    lay = pb.layout
    scale = 1.0 / max(pb.y.size, 1)
    drop = stats.chi2.ppf(level, 1) / 2.0
    base_bounds = [_BOUNDS.get(n, (None, None)) for n in lay.names]
    for n in fit.at_bound:
        i = lay.names.index(n)
        base_bounds[i] = (fit.params[i], fit.params[i])

    def fun(th: np.ndarray) -> tuple[float, np.ndarray]:
        ll, g = loglik_and_grad(th, pb)
        if not np.isfinite(ll):
            return 1e10, np.zeros_like(th)
        return -ll * scale, -g * scale

    lo_all = np.array([b[0] if b[0] is not None else -np.inf for b in base_bounds])
    hi_all = np.array([b[1] if b[1] is not None else np.inf for b in base_bounds])
    fit_free = np.flatnonzero(np.any(fit.cov != 0, axis=0))
    fit_info = np.linalg.inv(fit.cov[np.ix_(fit_free, fit_free)]) if len(fit_free) else None

    out = dict(fit.profile_ci)
    for name in names:
        i = lay.names.index(name)
        lo_b, hi_b = _BOUNDS.get(name, (None, None))
        at = fit.params[i]
        direction = 1.0 if lo_b is not None and abs(at - lo_b) < 1e-6 else -1.0
        other = hi_b if direction > 0 else lo_b
        warm = fit.params.copy()
        keep = fit_free != i
        free = fit_free[keep]
        info = None if fit_info is None else fit_info[np.ix_(keep, keep)]

        def deficit(v: float, i=i, warm=warm, free=free, info=info) -> float:
            th0 = warm.copy()
            th0[i] = v
            found = _newton_profile(th0, pb, free, info, lo_all, hi_all)
            if found is None:  # the fixed-curvature iteration stalled: the general optimiser
                bounds = list(base_bounds)
                bounds[i] = (v, v)
                with np.errstate(over="ignore", invalid="ignore"):  # as in _optimise
                    res = optimize.minimize(
                        fun, th0, jac=True, method="L-BFGS-B", bounds=bounds,
                        options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
                    )  # fmt: skip
                found = res.x, -res.fun / scale
            warm[:] = found[0]
            return fit.loglik - found[1] - drop

        edge = at
        step = 0.5
        found = None
        while other is None or (edge - other) * direction < 0:
            nxt = edge + direction * step
            if other is not None and (nxt - other) * direction > 0:
                nxt = other
            value = deficit(nxt)
            if value > 0:
                try:
                    found = optimize.brentq(deficit, edge, nxt, xtol=1e-3)
                except ValueError:
                    # The re-optimised profile is not monotone between grid points (warm
                    # starts differ); keep the wider, conservative limit.
                    found = nxt
                break
            edge = nxt
            step *= 1.5
        limit = found if found is not None else (other if other is not None else np.inf)
        out[name] = (min(at, limit), max(at, limit))
    return replace(fit, profile_ci=out)
