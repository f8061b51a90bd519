"""Pooled spatio-temporal hurdle model: P(any event) and the size of positive counts.

For each step ``h`` (direct, one model per step), across all regions:

- ``P(y[t + h] > 0)``: logistic regression;
- ``y[t + h] | y[t + h] > 0``: zero-truncated NB2, ``log mu`` linear in the same features.

Features known at the origin ``t`` (VIEWS-style): the region's own exponentially weighted
means at several decay rates, the time since its last event (a decay ``2 ** (-s / 6)``), the
mean of its first-order neighbours and of its country over the last 3 and 12 periods (shipped
adjacency; regions the boundaries do not know fall back to their country), and the mean over
all regions. All enter as ``log1p``. Sparse regions borrow strength because the coefficients
are shared: a silent region next to busy ones gets a higher chance of a first event.

Both parts carry parameter uncertainty: every sample path draws its coefficients once from
the asymptotic normal distribution of the (ridge-penalised) maximum likelihood estimate (the
same normals at every step). Whether a step of a path has any event is tied across steps by a
Gaussian copula with the correlation of the logistic parts' in-sample residuals at common
origins, and the size of an event month follows the same latent draw, so quiet and busy runs
within a path look like the data's.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special

from analysis.errors import ModelError
from analysis.models.forecast import Fitted, Forecaster, History
from analysis.models.nbglm import nb_quantile, spatial_mix, step_correlation

DECAYS = (0.5, 0.8, 0.95)
FEATURES = (
    "ewma_0.5",
    "ewma_0.8",
    "ewma_0.95",
    "decay_since_last",
    "neighbours_mean_3",
    "neighbours_mean_12",
    "country_mean_3",
    "country_mean_12",
    "all_mean_3",
)


def _ewma(y: np.ndarray, lam: float) -> np.ndarray:
    out = np.empty_like(y)
    e = np.zeros(y.shape[0])
    for t in range(y.shape[1]):
        e = lam * e + (1 - lam) * y[:, t]
        out[:, t] = e
    return out


def _rolling_mean(y: np.ndarray, k: int) -> np.ndarray:
    c = np.concatenate([np.zeros((y.shape[0], 1)), np.cumsum(y, axis=1)], axis=1)
    t = np.arange(1, y.shape[1] + 1)
    lo = np.maximum(t - k, 0)
    return (c[:, t] - c[:, lo]) / (t - lo)


def _since_last(y: np.ndarray, cap: int = 120) -> np.ndarray:
    out = np.empty_like(y)
    s = np.full(y.shape[0], float(cap))
    for t in range(y.shape[1]):
        s = np.where(y[:, t] > 0, 0.0, np.minimum(s + 1, cap))
        out[:, t] = s
    return out


def origin_features(y: np.ndarray, region_ids: tuple[str, ...]) -> np.ndarray:
    """Features known at the end of every period, (region, period, len(FEATURES)).

    Column ``t`` uses ``y[:, :t + 1]`` only.

    Parameters
    ----------
    y : ndarray (region, period)
        Counts.
    region_ids : tuple of str
        Ids of the rows of ``y``, for the neighbour and country means.

    Returns
    -------
    ndarray (region, period, len(FEATURES))
    """
    y = np.asarray(y, dtype=float)
    nb = spatial_mix(tuple(region_ids), "neighbours")
    cty = spatial_mix(tuple(region_ids), "country")
    m3, m12 = _rolling_mean(y, 3), _rolling_mean(y, 12)
    feats = [
        *(np.log1p(_ewma(y, lam)) for lam in DECAYS),
        2.0 ** (-_since_last(y) / 6.0),
        np.log1p(nb @ m3),
        np.log1p(nb @ m12),
        np.log1p(cty @ m3),
        np.log1p(cty @ m12),
        np.broadcast_to(np.log1p(m3.mean(axis=0, keepdims=True)), y.shape),
    ]
    return np.stack(feats, axis=-1)


def fit_logistic(X: np.ndarray, z: np.ndarray, ridge: np.ndarray, iters: int = 50):
    """Ridge-penalised logistic regression by Newton; returns (coef, covariance).

    Parameters
    ----------
    X : ndarray (n, p)
        Design matrix, intercept column included.
    z : ndarray (n,)
        Outcomes, 0 or 1.
    ridge : ndarray (p,)
        Penalty precision per coefficient.
    iters : int, optional
        Most Newton steps (default 50); stops once no coefficient moves by 1e-8.

    Returns
    -------
    coef : ndarray (p,)
    cov : ndarray (p, p)
        Inverse penalised Fisher information at the estimate.
    """
    beta = np.zeros(X.shape[1])
    P = np.diag(ridge)
    for _ in range(iters):
        p = special.expit(X @ beta)
        w = np.maximum(p * (1 - p), 1e-10)
        Hm = (X * w[:, None]).T @ X + P
        step = np.linalg.solve(Hm, X.T @ (z - p) - P @ beta)
        beta = beta + step
        if np.abs(step).max() < 1e-8:
            break
    p = special.expit(X @ beta)
    Hm = (X * np.maximum(p * (1 - p), 1e-10)[:, None]).T @ X + P
    return beta, np.linalg.inv(Hm)


def _trunc_nb_nll(theta: np.ndarray, X: np.ndarray, y: np.ndarray, ridge: np.ndarray):
    """Negative log-likelihood (and gradient) of a zero-truncated NB2; theta = (beta, log a)."""
    beta, la = theta[:-1], theta[-1]
    a = np.exp(la)
    r = 1.0 / a
    eta = np.clip(X @ beta, -20, 12)
    mu = np.exp(eta)
    log_p0 = -r * np.log1p(a * mu)
    p0 = np.exp(log_p0)
    ll = (
        special.gammaln(y + r)
        - special.gammaln(r)
        - special.gammaln(y + 1)
        + r * np.log(r / (r + mu))
        + y * np.log(mu / (r + mu))
        - np.log(-np.expm1(log_p0))
    )
    nll = -ll.sum() + 0.5 * np.sum(ridge * beta**2)
    d_eta = (y - mu) / (1 + a * mu) - (p0 / -np.expm1(log_p0)) * mu / (1 + a * mu)
    g_beta = -(X.T @ d_eta) + ridge * beta
    # d/d log a, numerically (one scalar)
    eps = 1e-5

    def ll_a(la_: float) -> float:
        a_ = np.exp(la_)
        r_ = 1.0 / a_
        lp0 = -r_ * np.log1p(a_ * mu)
        return float(
            (
                special.gammaln(y + r_)
                - special.gammaln(r_)
                + r_ * np.log(r_ / (r_ + mu))
                + y * np.log(mu / (r_ + mu))
                - np.log(-np.expm1(lp0))
            ).sum()
        )

    g_la = -(ll_a(la + eps) - ll_a(la - eps)) / (2 * eps)
    return float(nll), np.append(g_beta, g_la)


def fit_truncated_nb(X: np.ndarray, y: np.ndarray, ridge: np.ndarray):
    """Zero-truncated NB2 by L-BFGS; returns (beta, alpha, covariance of beta).

    Parameters
    ----------
    X : ndarray (n, p)
        Design matrix, intercept column first.
    y : ndarray (n,)
        Positive counts.
    ridge : ndarray (p,)
        Penalty precision per coefficient of ``log mu``.

    Returns
    -------
    beta : ndarray (p,)
        Coefficients of ``log mu``.
    alpha : float
        NB2 dispersion, within [1e-3, 50].
    cov : ndarray (p, p)
        Covariance of ``beta`` (inverse numerical Hessian; the dispersion's uncertainty included).
    """
    p = X.shape[1]
    theta0 = np.zeros(p + 1)
    theta0[0] = np.log(max(y.mean() - 0.5, 0.1))
    theta0[-1] = np.log(0.5)
    bounds = [(None, None)] * p + [(np.log(1e-3), np.log(50.0))]
    res = optimize.minimize(
        _trunc_nb_nll, theta0, args=(X, y, ridge), jac=True, method="L-BFGS-B", bounds=bounds
    )
    theta = res.x
    # covariance of beta: the beta block of the inverse numerical Hessian over (beta, log a),
    # so the uncertainty about the dispersion (correlated with the intercept) is included
    eps = 1e-4
    Hm = np.empty((p + 1, p + 1))
    for j in range(p + 1):
        e = np.zeros(p + 1)
        e[j] = eps
        up = _trunc_nb_nll(theta + e, X, y, ridge)[1]
        down = _trunc_nb_nll(theta - e, X, y, ridge)[1]
        Hm[:, j] = (up - down) / (2 * eps)
    Hm = 0.5 * (Hm + Hm.T) + 1e-8 * np.eye(p + 1)
    return theta[:-1], float(np.exp(theta[-1])), np.linalg.inv(Hm)[:p, :p]


def _mvn(mean: np.ndarray, cov: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Draws (n, p) from N(mean, cov) at standard normals ``z`` (n, p)."""
    vals, vecs = np.linalg.eigh(0.5 * (cov + cov.T))
    root = vecs * np.sqrt(np.clip(vals, 0, None))
    return mean[None, :] + z @ root.T


def truncated_nb_quantile(v: np.ndarray, mu: np.ndarray, alpha: float) -> np.ndarray:
    """Zero-truncated NB2 quantile at ``v`` in (0, 1): the NB2 quantile at
    ``P(0) + v (1 - P(0))``, at least 1.

    Parameters
    ----------
    v : ndarray
        Probabilities in (0, 1).
    mu : ndarray
        Means of the untruncated NB2.
    alpha : float
        NB2 dispersion, positive.

    Returns
    -------
    ndarray
        int64 counts, at least 1, one per element of ``v`` and ``mu``.
    """
    mu = np.asarray(mu, float)
    p0 = (1.0 + alpha * mu) ** (-1.0 / alpha)
    q = nb_quantile(p0 + (1.0 - p0) * np.asarray(v, float), mu, np.full_like(mu, alpha))
    return np.maximum(q, 1)


@dataclass(frozen=True)
class HurdleFitted(Fitted):
    """Step fits (made when first needed, memoised) of the spatial hurdle."""

    spec: SpatialHurdle
    fits: dict = field(default_factory=dict, compare=False, repr=False)

    def step_fit(self, h: int) -> dict:
        """The fit of step ``h``, made when first asked for and kept in ``fits``.

        Parameters
        ----------
        h : int
            Periods after the origin.

        Returns
        -------
        dict
            ``zero`` (logistic coefficients, covariance), ``size`` (truncated NB2 coefficients,
            dispersion, covariance), ``origins`` (training origin indices) and ``residuals``
            (Pearson residuals of the logistic part, (region, origin)).
        """
        if h not in self.fits:
            self.fits[h] = self.spec._fit_step(self.history, h)
        return self.fits[h]

    def sample_paths(self, horizon, n, rng) -> np.ndarray:
        """Hurdle paths: an event with the logistic part's probability, its size from the truncated
        NB2, the steps of a path tied by a Gaussian copula (module docstring).

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
        hist = self.history
        F = self.spec._features(hist)
        x = self.spec._design(F, np.array([hist.counts.shape[1] - 1]))  # (R, p)
        R, p = x.shape
        cap = np.log(3.0 * hist.counts.max(axis=1) + 10.0)
        fits = [self.step_fit(h) for h in range(1, horizon + 1)]
        first = max(f["origins"][0] for f in fits)
        resid = [f["residuals"][:, f["origins"] >= first] for f in fits]
        corr = step_correlation(resid)
        from scipy.special import ndtr

        u = ndtr(
            np.einsum("ij,rjm->rim", np.linalg.cholesky(corr), rng.standard_normal((R, horizon, n)))
        )
        zz, zs = rng.standard_normal((n, p)), rng.standard_normal((n, p))
        out = np.empty((R, horizon, n), dtype=np.int64)
        for h, f in enumerate(fits, start=1):
            (bz, cz), (bs, alpha, cs) = f["zero"], f["size"]
            if self.spec.param_uncertainty:
                Bz, Bs = _mvn(bz, cz, zz), _mvn(bs, cs, zs)
            else:
                Bz, Bs = np.tile(bz, (n, 1)), np.tile(bs, (n, 1))
            p_any = special.expit(x @ Bz.T)  # (R, M)
            mu = np.exp(np.minimum(x @ Bs.T, cap[:, None]))
            # one latent per step drives both parts: a low uniform means an event and, within
            # the events, a large one (its rank among the events' uniforms), so busy months
            # of a path are busy in both senses
            uh = u[:, h - 1]
            event = uh < p_any
            v = np.clip(1.0 - uh / np.maximum(p_any, 1e-12), 1e-9, 1 - 1e-9)
            size = truncated_nb_quantile(v, mu, alpha)
            out[:, h - 1] = np.where(event, size, 0)
        return out


@dataclass(frozen=True)
class SpatialHurdle(Forecaster):
    """Pooled logistic + zero-truncated NB on spatio-temporal features; see module docstring."""

    name: str = "hurdle"
    description: str = "pooled spatio-temporal hurdle (logistic + truncated NB), direct"
    window: int = 72
    ridge: float = 1.0
    param_uncertainty: bool = True

    def _features(self, history: History) -> np.ndarray:
        c = np.ascontiguousarray(history.counts, dtype=np.int64)
        return _cached_features(c.tobytes(), c.shape, history.region_ids)

    def fit(self, history: History) -> HurdleFitted:
        """Check the history's length; the step fits are made when first needed
        (:meth:`HurdleFitted.step_fit`).

        Parameters
        ----------
        history : History
            Counts up to and including the origin. See :meth:`Forecaster.fit`.

        Returns
        -------
        HurdleFitted

        Raises
        ------
        ModelError
            When the history has fewer than 24 periods.
        """
        T = history.counts.shape[1]
        if T < 24:
            raise ModelError(f"{self.name}: need at least 24 periods of history, got {T}")
        return HurdleFitted(history, self.name, self)

    def _design(self, F: np.ndarray, origins: np.ndarray) -> np.ndarray:
        X = F[:, origins, :].reshape(-1, F.shape[-1])
        return np.concatenate([np.ones((len(X), 1)), X], axis=1)

    def _fit_step(self, history: History, h: int) -> dict:
        y = history.counts.astype(float)
        R, T = y.shape
        F = self._features(history)
        o = np.arange(max(12, T - self.window - h), T - h)
        if len(o) < 6:
            raise ModelError(f"{self.name}: too short a history for step {h}")
        X = self._design(F, o)
        target = y[:, o + h].reshape(-1)
        ridge = np.full(X.shape[1], self.ridge)
        ridge[0] = 1e-4
        z = (target > 0).astype(float)
        bz, cz = fit_logistic(X, z, ridge)
        p = special.expit(X @ bz)
        resid = ((z - p) / np.sqrt(np.maximum(p * (1 - p), 1e-6))).reshape(R, len(o))
        pos = target > 0
        if pos.sum() >= X.shape[1] + 2:
            bs, alpha, cs = fit_truncated_nb(X[pos], target[pos], ridge)
        else:  # too few positive counts to fit sizes: they are all ones (or nearly)
            bs = np.zeros(X.shape[1])
            bs[0] = np.log(max(target[pos].mean() - 0.5, 0.05)) if pos.any() else np.log(0.05)
            alpha, cs = 1.0, np.zeros((X.shape[1], X.shape[1]))
        return {"zero": (bz, cz), "size": (bs, alpha, cs), "origins": o, "residuals": resid}


@functools.lru_cache(maxsize=64)
def _cached_features(buf: bytes, shape: tuple[int, int], region_ids: tuple[str, ...]):
    y = np.frombuffer(buf, dtype=np.int64).reshape(shape)
    return origin_features(y, region_ids)
