"""Negative-binomial GLMs fitted by IRLS, many at once.

A backtest refits the same small model for every region and every origin: thousands of fits
with a handful of coefficients each. Stacking them into arrays of shape (batch, rows, coefs)
and running IRLS with batched matrix products is far faster than a Python loop over
statsmodels fits, and gives the same estimates (checked in tests and in
``benchmarks/backtest_speed.py``).

The model is NB2 with a log link: ``Var(y) = mu + alpha * mu**2``. With ``alpha`` fixed the
IRLS weights are ``mu / (1 + alpha * mu)``, exactly as in statsmodels'
``GLM(family=NegativeBinomial(alpha=alpha))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.errors import InputError

_ETA_MAX = 30.0  # exp(30) ~ 1e13 counts: far beyond any real count, keeps IRLS finite


@dataclass(frozen=True)
class BatchedNBFit:
    """Result of :func:`fit_nb_batched`.

    Attributes
    ----------
    coef : ndarray (batch, p)
        Estimated coefficients.
    cov : ndarray (batch, p, p)
        Inverse (penalised) Fisher information at the estimate: the asymptotic covariance.
    alpha : ndarray (batch,)
        NB2 dispersion used (fixed or estimated).
    converged : ndarray (batch,) bool
    n_iter : int
        IRLS iterations run.
    n_obs : ndarray (batch,)
        Rows used per fit.
    """

    coef: np.ndarray
    cov: np.ndarray
    alpha: np.ndarray
    converged: np.ndarray
    n_iter: int
    n_obs: np.ndarray


def _as_batch(X: np.ndarray, y: np.ndarray, mask: np.ndarray | None):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 3 or y.ndim != 2 or X.shape[:2] != y.shape:
        raise InputError(
            f"expected X of shape (batch, n, p) and y of shape (batch, n); got {X.shape} and "
            f"{y.shape}"
        )
    m = np.ones(y.shape, dtype=float) if mask is None else np.asarray(mask, dtype=float)
    if m.shape != y.shape:
        raise InputError(f"expected mask of shape {y.shape}, got {m.shape}")
    bad = (~np.isfinite(y) | ~np.isfinite(X).all(axis=2)) & (m > 0)
    if bad.any():
        raise InputError("expected finite X and y in every row that is used (mask > 0)")
    if ((y < 0) & (m > 0)).any():
        raise InputError("expected non-negative counts y")
    # zero the unused rows so that NaN in padding cannot leak into products
    X = np.where(m[..., None] > 0, X, 0.0)
    y = np.where(m > 0, y, 0.0)
    return X, y, m


def fit_nb_batched(
    X: np.ndarray,
    y: np.ndarray,
    alpha: float | np.ndarray,
    *,
    mask: np.ndarray | None = None,
    ridge: float | np.ndarray = 0.0,
    max_iter: int = 100,
    tol: float = 1e-10,
    beta0: np.ndarray | None = None,
) -> BatchedNBFit:
    """Fit ``batch`` NB2 log-link GLMs with fixed dispersion by IRLS (Fisher scoring).

    Parameters
    ----------
    X : ndarray (batch, n, p)
        Design matrices. Fits of different length are padded and masked.
    y : ndarray (batch, n)
        Counts.
    alpha : float or ndarray (batch,)
        NB2 dispersion (0 gives Poisson).
    mask : ndarray (batch, n), optional
        1 for rows used, 0 for padding.
    ridge : float or ndarray (p,)
        Gaussian penalty precision on each coefficient (0 = maximum likelihood). A small
        penalty keeps all-zero series finite instead of letting the intercept go to -inf.
    max_iter, tol : int, float
        Stop when the largest coefficient change of every fit is below ``tol``.
    beta0 : ndarray (batch, p), optional
        Starting values.

    Returns
    -------
    BatchedNBFit
    """
    X, y, m = _as_batch(X, y, mask)
    B, n, p = X.shape
    a = np.broadcast_to(np.asarray(alpha, dtype=float), (B,)).copy()
    if (a < 0).any():
        raise InputError("expected alpha >= 0")
    pen = np.broadcast_to(np.asarray(ridge, dtype=float), (p,))
    P = np.diag(pen)
    if beta0 is None:
        # one Fisher-scoring step from a constant mean lands close to the optimum
        eta0 = np.log((y * m).sum(1) / np.maximum(m.sum(1), 1) + 0.1)
        w = m * np.exp(eta0)[:, None] / (1.0 + a[:, None] * np.exp(eta0)[:, None])
        z = eta0[:, None] + (y - np.exp(eta0)[:, None]) / np.exp(eta0)[:, None]
        Xw = X * w[..., None]
        H = np.matmul(Xw.transpose(0, 2, 1), X) + P
        beta = np.linalg.solve(H, np.einsum("bnp,bn->bp", Xw, z)[..., None])[..., 0]
    else:
        beta = np.array(beta0, dtype=float)
    converged = np.zeros(B, dtype=bool)
    active = np.arange(B)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - reported below
        Xa, ya, ma, aa, ba = X[active], y[active], m[active], a[active, None], beta[active]
        eta = np.clip(np.einsum("bnp,bp->bn", Xa, ba), -_ETA_MAX, _ETA_MAX)
        mu = np.exp(eta)
        # Fisher scoring for two steps (robust far from the optimum), then Newton with the
        # observed information (quadratic convergence); the optimum is the same
        if n_iter <= 2:
            w = ma * mu / (1.0 + aa * mu)
        else:
            w = ma * mu * (1.0 + aa * ya) / (1.0 + aa * mu) ** 2
        score = np.einsum("bnp,bn->bp", Xa, ma * (ya - mu) / (1.0 + aa * mu)) - ba * pen
        H = np.matmul((Xa * w[..., None]).transpose(0, 2, 1), Xa) + P
        step = np.linalg.solve(H, score[..., None])[..., 0]
        beta[active] = ba + step
        done = np.abs(step).max(axis=1) < tol
        converged[active[done]] = True
        active = active[~done]
        if active.size == 0:
            break
    eta = np.clip(np.einsum("bnp,bp->bn", X, beta), -_ETA_MAX, _ETA_MAX)
    mu = np.exp(eta)
    w = m * mu / (1.0 + a[:, None] * mu)
    H = np.matmul((X * w[..., None]).transpose(0, 2, 1), X) + P
    cov = np.linalg.inv(H)
    return BatchedNBFit(
        coef=beta, cov=cov, alpha=a, converged=converged, n_iter=n_iter, n_obs=m.sum(1)
    )


def moment_alpha(
    X: np.ndarray, y: np.ndarray, coef: np.ndarray, mask: np.ndarray | None = None
) -> np.ndarray:
    """Method-of-moments NB2 dispersion per fit (Cameron and Trivedi's auxiliary regression).

    ``alpha = sum(((y - mu)**2 - y) / mu) / sum(mu)`` - the least-squares slope of
    ``((y-mu)**2 - y)/mu`` on ``mu`` without intercept; clipped at 0 (no underdispersion).

    Parameters
    ----------
    X : ndarray (batch, n, p)
        Design matrices.
    y : ndarray (batch, n)
        Counts.
    coef : ndarray (batch, p)
        Coefficients; the means are ``exp(X @ coef)``.
    mask : ndarray (batch, n), optional
        1 for rows used, 0 for padding (default None: every row).

    Returns
    -------
    ndarray (batch,)
        Dispersion per fit, clipped to [0, 50].
    """
    X, y, m = _as_batch(X, y, mask)
    mu = np.exp(np.clip(np.einsum("bnp,bp->bn", X, coef), -_ETA_MAX, _ETA_MAX))
    num = (m * ((y - mu) ** 2 - y)).sum(1)
    den = (m * mu**2).sum(1)
    return np.clip(num / np.maximum(den, 1e-12), 0.0, 50.0)


def fit_nb_batched_alpha(
    X: np.ndarray,
    y: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    ridge: float | np.ndarray = 0.0,
    rounds: int = 3,
    alpha_floor: float = 1e-3,
) -> BatchedNBFit:
    """Fit NB2 GLMs with dispersion estimated by alternating IRLS and moments.

    Start from Poisson, estimate ``alpha`` by :func:`moment_alpha`, refit, repeat ``rounds``
    times. Cheap and batched; the estimate of ``alpha`` is consistent, not maximum likelihood.

    Parameters
    ----------
    X, y, mask, ridge
        As in :func:`fit_nb_batched`.
    rounds : int, optional
        Moment estimates of ``alpha``, each followed by a refit (default 3).
    alpha_floor : float, optional
        Smallest dispersion the refits use (default 1e-3).

    Returns
    -------
    BatchedNBFit
    """
    fit = fit_nb_batched(X, y, 0.0, mask=mask, ridge=ridge, tol=1e-6)
    for _ in range(rounds):
        a = np.maximum(moment_alpha(X, y, fit.coef, mask), alpha_floor)
        fit = fit_nb_batched(X, y, a, mask=mask, ridge=ridge, beta0=fit.coef, tol=1e-6)
    return fit


def sample_nb(mu: np.ndarray, alpha: np.ndarray | float, rng: np.random.Generator) -> np.ndarray:
    """Draw NB2 counts with mean ``mu`` and dispersion ``alpha`` (gamma-Poisson mixture).

    ``alpha`` broadcasts against ``mu``; where it is 0 the draw is Poisson.

    Parameters
    ----------
    mu : ndarray
        Means, any shape.
    alpha : ndarray or float
        NB2 dispersion, broadcast against ``mu``.
    rng : Generator
        Random number generator.

    Returns
    -------
    ndarray
        int64 counts, of ``mu``'s shape.
    """
    mu = np.asarray(mu, dtype=float)
    a = np.broadcast_to(np.asarray(alpha, dtype=float), mu.shape)
    lam = mu.copy()
    pos = a > 1e-9
    if pos.any():
        shape = 1.0 / a[pos]
        lam[pos] = mu[pos] * rng.gamma(shape, 1.0 / shape)
    return rng.poisson(np.minimum(lam, 1e9)).astype(np.int64)
