"""Negative-binomial regressions on the region's own past, simulated forward step by step.

Covariates of the count in period t (all known at t-1, so forecasts can be simulated):
trend (years relative to the origin), one annual harmonic (sin, cos), and the lagged counts
``log1p(y[t-1])``, ``log1p(mean(y[t-3:t]))`` and ``log1p(mean(y[t-12:t]))`` (windows in
periods, scaled for quarterly data).

- ``nb_glm``: one NB2 GLM per region (batched IRLS), with a weak ridge so that sparse
  regions fall back to their mean instead of diverging.
- ``pooled_nb``: one NB2 model across regions with shared slopes and region levels shrunk
  towards the common level by empirical Bayes (Gaussian random intercepts, variance by EM):
  regions with few events borrow strength from the others.

Both are direct multi-step models: step h comes from a model fitted for counts h periods
after the origin. Each sample path draws its parameters once (the same standard normals and
uniforms at every step, so a path with a high level stays high), and the count noise of the
steps of a path is tied by a Gaussian copula whose correlation is that of the in-sample
residuals of the step models at common origins. Sums over months then have the spread the
data show, not the spread of independent months.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

import numpy as np

from analysis.errors import ModelError
from analysis.models.forecast import Fitted, Forecaster, History
from analysis.models.glm import fit_nb_batched_alpha


def _windows(history: History, lags: tuple[int, ...]) -> tuple[int, ...]:
    # monthly windows (1, 3, 12) become (1, 1, 4) quarters
    scale = 12 // history.per_year
    return tuple(max(1, round(k / scale)) for k in lags)


def _season(months: np.ndarray, per_year: int) -> np.ndarray:
    ang = 2 * np.pi * (months - 1) / 12.0
    return np.stack([np.sin(ang), np.cos(ang)], axis=-1)


def design(
    y: np.ndarray,
    months: np.ndarray,
    per_year: int,
    windows: tuple[int, ...],
    *,
    trend: bool = True,
    season: bool = True,
    intercept: bool = True,
    offset: float = 1.0,
    h: int = 1,
    mix: np.ndarray | None = None,
    group_windows: tuple[int, ...] = (),
    t_ref: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Design rows for a count ``h`` periods after the end of each full lag window.

    Returns ``X (region, n, p)`` and ``target (region, n)`` with ``n = T - max(windows) - h + 1``.
    Row for target period t uses counts up to ``t - h`` only. Columns: intercept, trend (years
    relative to period ``t_ref``, default the last of ``y``), sin/cos of the target month, lag
    features ``log(mean / offset + 1)`` (``offset = 1`` gives ``log1p``; a smaller offset
    spreads out the small counts that dominate conflict panels) for each window, then the same
    for the mean over the region's group (country) for each of ``group_windows``.

    Parameters
    ----------
    y : ndarray (region, T)
        Counts per period.
    months : ndarray (T,)
        Calendar month (1 to 12) of each period.
    per_year : int
        Periods per year (12 or 4), for the trend in years.
    windows : tuple of int
        Lag windows, in periods.
    trend, season, intercept : bool
        Include the trend, the sin/cos pair, the intercept.
    offset : float
        Scale of the lag features, ``log(mean / offset + 1)``.
    h : int
        Periods from the end of the lag window to the target.
    mix : ndarray (region, region), optional
        Averaging matrix of the group features (:func:`spatial_mix`; default: all regions
        weighted equally).
    group_windows : tuple of int
        Windows of the group features (none by default).
    t_ref : int, optional
        Period at which the trend is 0.

    Returns
    -------
    X : ndarray (region, n, p)
    target : ndarray (region, n)
        The counts ``h`` periods after each lag window, as floats.
    """
    R, T = y.shape
    L = max((*windows, *group_windows))
    t_idx = np.arange(L + h - 1, T)
    n = len(t_idx)
    t_ref = T - 1 if t_ref is None else t_ref
    parts = []
    if intercept:
        parts.append(np.ones((R, n, 1)))
    if trend:
        parts.append(np.broadcast_to(((t_idx - t_ref) / per_year)[None, :, None], (R, n, 1)))
    if season:
        parts.append(np.broadcast_to(_season(months[t_idx], per_year)[None], (R, n, 2)))
    yf = y.astype(float)
    csum = np.concatenate([np.zeros((R, 1)), np.cumsum(yf, axis=1)], axis=1)
    end = t_idx - h + 1  # exclusive end of the lag window

    def wmean(k: int) -> np.ndarray:
        return (csum[:, end] - csum[:, end - k]) / k

    lag = [np.log(wmean(k) / offset + 1.0) for k in windows]
    if group_windows:
        mix = np.full((R, R), 1.0 / R) if mix is None else mix
        for k in group_windows:
            lag.append(np.log(mix @ wmean(k) / offset + 1.0))
    parts.append(np.stack(lag, axis=-1))
    X = np.concatenate([np.broadcast_to(p, (R, n, p.shape[-1])) for p in parts], axis=2)
    return X, yf[:, t_idx]


def origin_row(
    history_y: np.ndarray, history_months: np.ndarray, future_month: int, h: int, **kw
) -> np.ndarray:
    """Feature row (region, p) for the count ``h`` periods after the last column.

    Built by :func:`design` on the history padded with ``h`` placeholder periods, which the
    lag windows never reach, so fitting and forecasting share one feature definition.

    Parameters
    ----------
    history_y : ndarray (region, T)
        Counts up to the origin.
    history_months : ndarray (T,)
        Calendar month of each period.
    future_month : int
        Calendar month of the period forecast.
    h : int
        Periods from the origin to the period forecast.
    **kw
        The other arguments of :func:`design` (``per_year``, ``windows``, ...).

    Returns
    -------
    ndarray (region, p)
    """
    R, T = history_y.shape
    y = np.concatenate([history_y, np.zeros((R, h), dtype=history_y.dtype)], axis=1)
    months = np.concatenate([history_months, np.full(h, future_month)])
    X, _ = design(y, months, h=h, t_ref=T - 1, **kw)
    return X[:, -1, :]


@functools.lru_cache(maxsize=32)
def spatial_mix(region_ids: tuple[str, ...], kind: str) -> np.ndarray:
    """Row-normalised (R, R) averaging matrix over each region's ``country`` (ISO 3166-2
    prefix) or first-order ``neighbours`` (shipped boundaries); regions without neighbours, or
    ids unknown to the boundaries, average over their country.

    Parameters
    ----------
    region_ids : tuple of str
    kind : {"country", "neighbours"}

    Returns
    -------
    ndarray (R, R)
        Each row sums to 1.

    Raises
    ------
    ModelError
        When ``kind`` is neither.
    """
    keys = np.array([r.split("-")[0] if "-" in r else "" for r in region_ids])
    mix = (keys[:, None] == keys[None, :]).astype(float)
    if kind == "neighbours":
        from analysis.errors import InputError
        from analysis.geography import adjacency_order_matrix

        try:
            adj = (adjacency_order_matrix(list(region_ids)) == 1).astype(float)
        except InputError:
            adj = np.zeros_like(mix)
        has = adj.sum(1) > 0
        mix[has] = adj[has]
    elif kind != "country":
        raise ModelError(f"unknown spatial feature {kind!r}; expected 'country' or 'neighbours'")
    return mix / mix.sum(1, keepdims=True)


def _future_months(history: History, horizon: int) -> np.ndarray:
    return np.asarray(history.future_periods(horizon).month)


def _mvn_draws(mean: np.ndarray, cov: np.ndarray, z: np.ndarray) -> np.ndarray:
    """(B, p) means, (B, p, p) covariances and standard normals (B, M, p) -> (B, M, p) draws.

    The normals are passed in so that every step of a path uses the same ones.
    """
    p = mean.shape[1]
    cov = 0.5 * (cov + cov.transpose(0, 2, 1)) + 1e-10 * np.eye(p)
    L = np.linalg.cholesky(cov)
    return mean[:, None, :] + np.einsum("bij,bmj->bmi", L, z)


def _cap(history: History) -> np.ndarray:
    return np.log(3.0 * history.counts.max(axis=1) + 10.0)


@dataclass(frozen=True)
class PooledFit:
    level: np.ndarray  # (R,) region deviations b_r from the common level
    shared: np.ndarray  # (q,) common level then shared slopes
    A: np.ndarray  # (R,) precision of b_r given the shared coefficients
    Bm: np.ndarray  # (R, q) cross-precision
    S_inv: np.ndarray  # (q, q) marginal covariance of the shared coefficients
    alpha: float
    tau2: float
    windows: tuple[int, ...]
    target: np.ndarray  # (R, n) training counts
    offset_eta: np.ndarray  # (R, n) shared part of the linear predictor
    grid: tuple[np.ndarray, np.ndarray] | None = None  # level posterior (values, CDF)


def _gram(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    q = X.shape[-1]
    flat = X.reshape(-1, q)
    return (flat * w.reshape(-1, 1)).T @ flat


def fit_pooled_nb(
    X: np.ndarray,
    y: np.ndarray,
    *,
    alpha: float | None = None,
    tau2: float = 1.0,
    em_rounds: int = 8,
    max_iter: int = 50,
    tol: float = 1e-7,
    ridge: float | np.ndarray = 1e-6,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float]:
    """NB2 with random region intercepts ``b_r ~ N(0, tau2)`` and shared coefficients.

    ``X (R, n, q)`` holds the shared covariates (first column ones = common level). Penalised
    IRLS solves for ``(b, gamma)`` through the Schur complement, so the cost is linear in the
    number of regions. ``tau2`` is re-estimated by EM (``mean(b_r**2 + 1/A_r)``) and ``alpha``
    by moments between rounds. ``ridge`` is a Gaussian prior precision on each shared
    coefficient (keeps slopes finite when the data carry no information about them).

    Returns ``b, gamma, A, Bm, S_inv, alpha, tau2``.

    Parameters
    ----------
    X : ndarray (R, n, q)
    y : ndarray (R, n)
        Counts.
    alpha : float, optional
        NB2 dispersion, held fixed (None: estimated).
    tau2 : float
        Starting variance of the region intercepts.
    em_rounds : int
        Rounds of penalised IRLS, each followed (but the last) by the updates of ``tau2`` and
        ``alpha``.
    max_iter : int
        IRLS iterations per round at most.
    tol : float
        IRLS stops when no coefficient moves by more.
    ridge : float or ndarray (q,)

    Returns
    -------
    b : ndarray (R,)
        Region intercepts (deviations from the common level).
    gamma : ndarray (q,)
        Shared coefficients.
    A : ndarray (R,)
        Precision of each ``b_r`` given ``gamma``.
    Bm : ndarray (R, q)
        Cross-precision of ``b`` and ``gamma``.
    S_inv : ndarray (q, q)
        Covariance of ``gamma`` with ``b`` integrated out.
    alpha, tau2 : float
    """
    R, n, q = X.shape
    P = np.diag(np.broadcast_to(np.asarray(ridge, dtype=float), (q,)))
    yf = y.astype(float)
    b = np.zeros(R)
    gamma = np.zeros(q)
    gamma[0] = np.log(yf.mean() + 0.1)
    a = 0.0 if alpha is None else float(alpha)
    for rnd in range(em_rounds):
        for _ in range(max_iter):
            eta = np.clip(b[:, None] + X @ gamma, -30, 30)
            mu = np.exp(eta)
            w = mu / (1 + a * mu)
            z = eta + (yf - mu) / mu
            A = w.sum(1) + 1.0 / tau2
            Bm = np.einsum("rn,rnq->rq", w, X)
            C = _gram(X, w) + P
            rb = (w * z).sum(1)
            rg = np.einsum("rn,rnq->q", w * z, X)
            S = C - Bm.T @ (Bm / A[:, None])
            g_new = np.linalg.solve(S, rg - Bm.T @ (rb / A))
            b_new = (rb - Bm @ g_new) / A
            step = max(np.abs(g_new - gamma).max(), np.abs(b_new - b).max())
            gamma, b = g_new, b_new
            if step < tol:
                break
        mu = np.exp(np.clip(b[:, None] + X @ gamma, -30, 30))
        w = mu / (1 + a * mu)
        A = w.sum(1) + 1.0 / tau2
        if rnd < em_rounds - 1:
            tau2 = float(max(np.mean(b**2 + 1.0 / A), 1e-3))
            if alpha is None:
                a = float(np.clip(((yf - mu) ** 2 - yf).sum() / (mu**2).sum(), 1e-3, 50.0))
    Bm = np.einsum("rn,rnq->rq", w, X)
    C = _gram(X, w) + P
    S = C - Bm.T @ (Bm / A[:, None])
    return b, gamma, A, Bm, np.linalg.inv(S), a, tau2


def level_posterior_grid(f: PooledFit, grid: int = 121) -> tuple[np.ndarray, np.ndarray]:
    """Grid ``(R, G)`` of region levels and the CDF of ``NB likelihood x N(0, tau2)`` on it,
    with the shared coefficients at their estimate.

    Parameters
    ----------
    f : PooledFit
    grid : int
        Points per region, spread evenly over seven standard deviations (``1 / sqrt(A)``) either
        side of the region's estimate.

    Returns
    -------
    b : ndarray (R, G)
        Region levels.
    cdf : ndarray (R, G)
        Their posterior CDF, 1 at the last point.
    """
    y, o = f.target, f.offset_eta  # (R, n): counts and shared linear predictor
    sd = 1.0 / np.sqrt(f.A)
    u = np.linspace(-7.0, 7.0, grid)
    b = f.level[:, None] + sd[:, None] * u[None, :]  # (R, G)
    eta = np.clip(b[:, :, None] + o[:, None, :], -30, 30)  # (R, G, n)
    a = max(f.alpha, 1e-8)
    ll = (y[:, None, :] * eta - (y[:, None, :] + 1 / a) * np.log1p(a * np.exp(eta))).sum(-1)
    lp = ll - 0.5 * b**2 / f.tau2
    cdf = np.cumsum(np.exp(lp - lp.max(axis=1, keepdims=True)), axis=1)
    return b, cdf / cdf[:, -1:]


def _level_posterior_draws(f: PooledFit, r: np.ndarray) -> np.ndarray:
    """Region levels at uniforms ``r`` (R, M) by inverting the gridded posterior CDF (linear
    within cells)."""
    b, cdf = f.grid
    R, G = b.shape
    n_samples = r.shape[1]
    # vectorised searchsorted: offset each region's CDF into its own [i, i + 1) band
    flat = (cdf + np.arange(R)[:, None]).ravel()
    pos = np.searchsorted(flat, (r + np.arange(R)[:, None]).ravel()).reshape(R, n_samples)
    idx = np.clip(pos - np.arange(R)[:, None] * G, 0, G - 1)
    hi = np.take_along_axis(cdf, idx, axis=1)
    lo = np.where(idx > 0, np.take_along_axis(cdf, np.maximum(idx - 1, 0), axis=1), 0.0)
    frac = np.where(hi > lo, (r - lo) / np.maximum(hi - lo, 1e-300), 0.5)
    b_hi = np.take_along_axis(b, idx, axis=1)
    b_lo = np.take_along_axis(b, np.maximum(idx - 1, 0), axis=1)
    return b_lo + np.clip(frac, 0, 1) * (b_hi - b_lo)


# --------------------------------------------------------------------------- paths


def step_correlation(residuals: list[np.ndarray]) -> np.ndarray:
    """Correlation (H, H) of the step models' Pearson residuals at common origins.

    ``residuals[h - 1]`` is (region, origin) for step h, aligned on origins, so entry
    (h, h') says how much a surprise h periods after an origin goes with one h' periods after
    it. Repaired to a valid correlation matrix (eigenvalues clipped at a small positive value).

    Parameters
    ----------
    residuals : list of ndarray (region, n_h)
        One per step; only the first ``min(n_h)`` origins are used.

    Returns
    -------
    ndarray (H, H)
    """
    H = len(residuals)
    if H == 1:
        return np.ones((1, 1))
    n = min(r.shape[1] for r in residuals)
    Z = np.stack([r[:, :n].ravel() for r in residuals])
    Z = np.clip(Z, -10.0, 10.0)  # one wild residual of a quiet region must not set rho alone
    C = np.nan_to_num(np.corrcoef(Z), nan=0.0)
    np.fill_diagonal(C, 1.0)
    vals, vecs = np.linalg.eigh(C)
    C = (vecs * np.clip(vals, 1e-3, None)) @ vecs.T
    d = np.sqrt(np.diag(C))
    return C / d[:, None] / d[None, :]


def nb_quantile(u: np.ndarray, mu: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Smallest k with NB2 CDF(k; mu, alpha) >= u, elementwise (Poisson where alpha is 0).

    Walks the CDF up from 0 with the pmf recursion, keeping only the cells not yet resolved,
    which is far faster than ``scipy.stats.nbinom.ppf`` for the small counts of these panels.

    Parameters
    ----------
    u : ndarray
        Probabilities.
    mu : ndarray
        Means.
    alpha : ndarray
        Dispersions.

    Returns
    -------
    ndarray of int64
        In the shape ``u``, ``mu`` and ``alpha`` broadcast to.
    """
    u, mu, alpha = np.broadcast_arrays(
        np.asarray(u, float), np.asarray(mu, float), np.asarray(alpha, float)
    )
    shape = u.shape
    u, mu, a = u.ravel(), np.maximum(mu.ravel(), 1e-12), alpha.ravel()
    out = np.zeros(u.size, dtype=np.int64)
    pois = a < 1e-8
    size = np.where(pois, 1.0, 1.0 / np.where(pois, 1.0, a))
    q = np.where(pois, 1.0, mu / (size + mu))  # per-step ratio factor
    with np.errstate(divide="ignore", over="ignore", under="ignore"):
        log_p0 = np.where(pois, -mu, size * np.log(np.where(pois, 1.0, size / (size + mu))))
    pmf = np.exp(log_p0)
    cdf = pmf.copy()
    todo = np.flatnonzero(cdf < u)
    k = 0
    while todo.size:
        # far tails (a draw of a huge mean): finish by the normal approximation
        if k > 5000:
            m, v = mu[todo], mu[todo] * (1 + a[todo] * mu[todo])
            from scipy.special import ndtri

            out[todo] = np.maximum(np.round(m + np.sqrt(v) * ndtri(u[todo])), k)
            break
        t = todo
        ratio = np.where(pois[t], mu[t] / (k + 1), (k + size[t]) / (k + 1) * q[t])
        pmf[t] = pmf[t] * ratio
        cdf[t] = cdf[t] + pmf[t]
        out[t] = k + 1
        todo = t[cdf[t] < u[t] - 1e-12]
        k += 1
    return out.reshape(shape)


def copula_nb(
    mu: np.ndarray, alpha: np.ndarray, corr: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """NB2 counts (R, H, M) with means ``mu`` (R, H, M), dispersion ``alpha`` (broadcastable)
    and a Gaussian copula with correlation ``corr`` (H, H) across steps.

    Each margin is exactly NB2(mu, alpha) (Poisson where alpha is 0); only the dependence
    between the steps of a path comes from the copula.

    Parameters
    ----------
    mu : ndarray (R, H, M)
    alpha : ndarray
    corr : ndarray (H, H)
        Positive definite.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of int64 (R, H, M)
    """
    from scipy import special

    R, H, M = mu.shape
    L = np.linalg.cholesky(corr)
    z = np.einsum("ij,rjm->rim", L, rng.standard_normal((R, H, M)))
    u = np.clip(special.ndtr(z), 1e-12, 1 - 1e-12)
    return nb_quantile(u, mu, np.broadcast_to(np.asarray(alpha, float), mu.shape))


@dataclass(frozen=True)
class DirectFitted(Fitted):
    """State of a direct multi-step NB model: one fit per step, made when first needed.

    ``fits`` memoises the step fits (a pure function of the history and the step), so one
    fitted model can be asked for any horizon.
    """

    spec: Forecaster
    fits: dict = field(default_factory=dict, compare=False, repr=False)

    def step_fit(self, h: int):
        """The fit of step ``h``, made when first asked for and kept in ``fits``.

        Parameters
        ----------
        h : int
            Periods after the origin.

        Returns
        -------
        StepFit
        """
        if h not in self.fits:
            self.fits[h] = self.spec._fit_step(self.history, h)  # type: ignore[attr-defined]
        return self.fits[h]

    def sample_paths(self, horizon, n, rng) -> np.ndarray:
        """NB2 paths from the step fits, coupled across steps by a Gaussian copula with the
        correlation of the steps' residuals (:func:`copula_nb`).

        Parameters
        ----------
        horizon : int
            Number of steps ahead.
        n : int
            Number of sample paths.
        rng : Generator
            Random number generator. See :meth:`Fitted.sample_paths`.

        Returns
        -------
        ndarray (region, step, sample)
            int64 counts.
        """
        spec = self.spec
        hist = self.history
        cap = _cap(hist)
        y, months = spec._data(hist)  # type: ignore[attr-defined]
        fut = _future_months(hist, horizon)
        fits = [self.step_fit(h) for h in range(1, horizon + 1)]
        shared = spec._shared_draws(fits[0], n, rng)  # type: ignore[attr-defined]
        mu = np.empty((len(hist.region_ids), horizon, n))
        alpha = np.empty((len(hist.region_ids), horizon, 1))
        for h, fit in enumerate(fits, start=1):
            row = origin_row(y, months, int(fut[h - 1]), h, **spec._kw(hist))  # type: ignore[attr-defined]
            coef = spec._coef(fit, shared)  # type: ignore[attr-defined]
            eta = np.einsum("rp,rmp->rm", row, coef)
            mu[:, h - 1] = np.exp(np.minimum(eta, cap[:, None]))
            alpha[:, h - 1, 0] = np.broadcast_to(fit.alpha, (len(hist.region_ids),))
        corr = step_correlation([f.residuals for f in fits])
        return copula_nb(mu, alpha, corr, rng)


@dataclass(frozen=True)
class StepFit:
    """One step's fit: coefficients, their covariance, dispersion and Pearson residuals."""

    coef: np.ndarray
    cov: np.ndarray
    alpha: np.ndarray
    residuals: np.ndarray  # (R, n) aligned on origins
    pooled: PooledFit | None = None


def _pearson(target: np.ndarray, mu: np.ndarray, alpha: np.ndarray | float) -> np.ndarray:
    a = np.asarray(alpha, float)
    a = a[:, None] if a.ndim == 1 else a
    return (target - mu) / np.sqrt(mu + a * mu**2 + 1e-12)


class _DirectDesign:
    """The design and fit shared by the direct NB forecasters (settings ``window``, ``lags``,
    ``trend``, ``season``, ``offset`` on the subclass): the last ``window`` periods plus the
    longest lag window, and a lazy :class:`DirectFitted` that fits each step when sampled."""

    def _kw(self, history: History) -> dict:
        return dict(
            per_year=history.per_year,
            windows=_windows(history, self.lags),
            trend=self.trend,
            season=self.season,
            offset=self.offset,
        )

    def _data(self, history: History) -> tuple[np.ndarray, np.ndarray]:
        L = max(_windows(history, self.lags))
        y = history.counts[:, -(self.window + L) :]
        return y, np.asarray(history.periods.month)[-y.shape[1] :]

    def fit(self, history: History) -> DirectFitted:
        return DirectFitted(history, self.name, self)


@dataclass(frozen=True)
class NBGLM(_DirectDesign, Forecaster):
    """One NB2 GLM per region for each step: trend, seasonality and lagged counts."""

    name: str = "nb_glm"
    description: str = "negative-binomial GLM per region (trend, season, lags), direct"
    window: int = 60
    lags: tuple[int, ...] = (1, 3, 12)
    trend: bool = True
    season: bool = True
    ridge: float = 1.0
    intercept_ridge: float = 0.1
    param_uncertainty: bool = True
    offset: float = 0.1

    def _fit_step(self, history: History, h: int) -> StepFit:
        y, months = self._data(history)
        X, target = design(y, months, h=h, **self._kw(history))
        if X.shape[1] < 2 * X.shape[2]:
            raise ModelError(
                f"{self.name}: {X.shape[1]} usable periods for {X.shape[2]} coefficients; "
                "need a longer history"
            )
        ridge = np.full(X.shape[2], self.ridge)
        ridge[0] = self.intercept_ridge
        fit = fit_nb_batched_alpha(X, target, ridge=ridge)
        mu = np.exp(np.clip(np.einsum("rnp,rp->rn", X, fit.coef), -30, 30))
        # row j of step h's design is the origin j + L - 1 for every h: aligned already
        return StepFit(fit.coef, fit.cov, fit.alpha, _pearson(target, mu, fit.alpha))

    def _shared_draws(self, fit: StepFit, n: int, rng: np.random.Generator) -> np.ndarray:
        R, p = fit.coef.shape
        return rng.standard_normal((R, n, p))

    def _coef(self, fit: StepFit, z: np.ndarray) -> np.ndarray:
        if self.param_uncertainty:
            return _mvn_draws(fit.coef, fit.cov, z)
        return np.repeat(fit.coef[:, None, :], z.shape[1], axis=1)


@dataclass(frozen=True)
class PooledNB(_DirectDesign, Forecaster):
    """NB2 across regions for each step: shared seasonality and lag slopes, shrunk region
    levels (empirical Bayes). Lag features are the region's own recent means."""

    name: str = "pooled_nb"
    description: str = "pooled negative binomial (shared lags and season, shrunk levels), direct"
    window: int = 72
    lags: tuple[int, ...] = (1, 3, 12)
    trend: bool = False
    season: bool = True
    param_uncertainty: bool = True
    offset: float = 0.1
    slope_ridge: float = 1.0

    def _fit_step(self, history: History, h: int) -> StepFit:
        y, months = self._data(history)
        X, target = design(y, months, h=h, **self._kw(history))
        if X.shape[1] < 3:
            raise ModelError(f"{self.name}: too short a history ({y.shape[1]} periods)")
        ridge = np.full(X.shape[2], self.slope_ridge)
        ridge[0] = 1e-6
        b, g, A, Bm, S_inv, a, tau2 = fit_pooled_nb(X, target, ridge=ridge)
        f = PooledFit(b, g, A, Bm, S_inv, a, tau2, (), target, X @ g)
        if self.param_uncertainty:
            f = dataclasses.replace(f, grid=level_posterior_grid(f))
        mu = np.exp(np.clip(b[:, None] + f.offset_eta, -30, 30))
        return StepFit(g, S_inv, np.asarray(a), _pearson(target, mu, a), pooled=f)

    def _shared_draws(self, fit: StepFit, n: int, rng: np.random.Generator):
        R, q = fit.pooled.level.shape[0], fit.pooled.shared.shape[0]
        return rng.standard_normal((1, n, max(q - 1, 1))), rng.uniform(size=(R, n))

    def _coef(self, fit: StepFit, draws) -> np.ndarray:
        f = fit.pooled
        z, r = draws
        n = r.shape[1]
        R, q = f.level.shape[0], f.shared.shape[0]
        g = np.repeat(f.shared[None], n, axis=0)
        if self.param_uncertainty:
            # slopes given the common level at its estimate: the level's own uncertainty is
            # carried by the region levels below, and its Gaussian approximation is poor
            # when the window holds almost no events
            if q > 1:
                prec = np.linalg.inv(f.S_inv)[1:, 1:]
                g[:, 1:] = _mvn_draws(f.shared[None, 1:], np.linalg.inv(prec)[None], z)[0]
            # b_r | gamma from its exact 1-D posterior on a grid (the Gaussian approximation
            # has a far too heavy right tail for sparse regions), shifted for gamma's draw
            b = _level_posterior_draws(f, r)
            b = b - (f.Bm @ (g - f.shared).T) / f.A[:, None]
        else:
            b = np.repeat(f.level[:, None], n, axis=1)
        coef = np.broadcast_to(g[None], (R, n, q)).copy()
        coef[..., 0] += b
        return coef


__all__ = ["NBGLM", "PooledNB", "design", "fit_pooled_nb", "origin_row", "spatial_mix"]
