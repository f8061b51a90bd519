"""NB autoregression with an own-lag term (INARCH(1), a one-region endemic-epidemic model).

``y[t] | y[t-1] ~ NB2(mean mu[t], alpha)`` with

    mu[t] = (1 - lam) exp(x[t] b) + lam y[t-1]

so ``exp(x b)`` is the long-run (marginal) level the series returns to and ``lam`` the share of
last month's count carried into this month's mean. With a window indicator in ``x`` its
coefficient is the log ratio of the two windows' levels; with time in years it is the log
annual growth. The first period of each segment (a window, or the start of the series) has no
observed predecessor and gets the marginal mean ``exp(x b)``.

The fit maximises the conditional likelihood with analytic gradients (L-BFGS-B, ``lam`` in
``[0, 0.98]``). Because the conditional scores are martingale differences when the conditional
mean is right, their outer product gives a covariance that holds even when the NB variance is
wrong, with no lag window to choose (:attr:`InarchFit.cov_robust`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from analysis.models.counts import NB2Fit, nb2_mle

__all__ = ["InarchFit", "inarch_mle"]

_LAM_MAX = 0.98
_LOG_ALPHA = (-18.0, 6.0)


@dataclass(frozen=True)
class InarchFit:
    """Result of :func:`inarch_mle`.

    Attributes
    ----------
    params : ndarray
        Coefficients ``b`` of the long-run level ``exp(x b)``.
    own_lag : float
        ``lam``.
    alpha : float
        Conditional NB2 overdispersion.
    cov_model, cov_robust : ndarray
        Covariance of ``(b, lam)`` from the expected conditional information, and the sandwich
        with the outer product of the conditional scores.
    llf : float
    converged : bool
    n : int
    """

    params: np.ndarray
    own_lag: float
    alpha: float
    cov_model: np.ndarray
    cov_robust: np.ndarray
    llf: float
    converged: bool
    n: int


def _parts(theta, y, X, prev, first):
    p = X.shape[1]
    b, lam, phi = theta[:p], theta[p], theta[p + 1]
    e = np.exp(np.clip(X @ b, -50, 50))
    z = np.where(first, e, prev)
    mu = np.maximum((1 - lam) * e + lam * z, 1e-10)
    r = math.exp(-phi)
    rm = r + mu
    ll = (
        special.gammaln(y + r)
        - special.gammaln(r)
        - special.gammaln(y + 1)
        + r * np.log(r / rm)
        + special.xlogy(y, mu / rm)
    )
    d_mu = y / mu - (y + r) / rm
    dmu_db = (np.where(first, 1.0, 1 - lam) * e)[:, None] * X
    dmu_dlam = z - e
    d_r = special.digamma(y + r) - special.digamma(r) + np.log(r / rm) + 1.0 - (r + y) / rm
    grad = np.empty(theta.size)
    grad[:p] = dmu_db.T @ d_mu
    grad[p] = dmu_dlam @ d_mu
    grad[p + 1] = -r * np.sum(d_r)
    return ll, grad, mu, np.column_stack([dmu_db, dmu_dlam])


def inarch_mle(
    y: np.ndarray,
    X: np.ndarray,
    segments: np.ndarray | None = None,
    *,
    start_lag: float = 0.3,
    start: NB2Fit | None = None,
) -> InarchFit:
    """Conditional maximum likelihood of the NB autoregression with a log-linear level.

    Parameters
    ----------
    y : ndarray
        Counts in time order.
    X : ndarray
        Design of the log long-run level (intercept included).
    segments : ndarray, optional
        Segment label per period; a period whose predecessor is in another segment (or the
        first period) has no own-lag term. Default one segment.
    start_lag : float
        Starting value of ``lam``.
    start : NB2Fit, optional
        An NB2 fit of the same design (no own-lag term) to start from; fitted here if omitted.

    Returns
    -------
    InarchFit
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    seg = np.zeros(y.size) if segments is None else np.asarray(segments)
    first = np.r_[True, seg[1:] != seg[:-1]]
    prev = np.r_[0.0, y[:-1]]
    p = X.shape[1]
    nb = start if start is not None and start.params.size == p else nb2_mle(y, X)
    b0 = nb.params if np.all(np.isfinite(nb.params)) else np.zeros(p)
    a0 = min(max(nb.alpha, 1e-3), 50.0)
    theta0 = np.r_[b0, start_lag, math.log(a0)]
    bounds = [(None, None)] * p + [(0.0, _LAM_MAX), _LOG_ALPHA]

    def fun(theta):
        ll, grad, _, _ = _parts(theta, y, X, prev, first)
        total = float(np.sum(ll))
        if not np.isfinite(total):
            return 1e300, np.zeros(theta.size)
        return -total, -grad

    res = optimize.minimize(
        fun, theta0, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 500}
    )
    theta = res.x
    ll, _, mu, g = _parts(theta, y, X, prev, first)
    alpha = math.exp(theta[p + 1])
    w = 1.0 / (mu * (1.0 + alpha * mu))
    info = (g * w[:, None]).T @ g
    try:
        bread = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        bread = np.full_like(info, np.nan)
    scores = g * (w * (y - mu))[:, None]
    cov_robust = bread @ (scores.T @ scores) @ bread
    return InarchFit(
        params=theta[:p].copy(),
        own_lag=float(theta[p]),
        alpha=alpha,
        cov_model=bread,
        cov_robust=cov_robust,
        llf=float(np.sum(ll)),
        converged=bool(res.success),
        n=int(y.size),
    )
