"""Stacking: a mixture of forecasters with weights that minimise CRPS on earlier origins.

The CRPS of a mixture ``sum_i w_i F_i`` is a quadratic function of the weights:

    CRPS(w, y) = sum_i w_i E|X_i - y| - 1/2 sum_ij w_i w_j E|X_i - X_j|

with ``X_i ~ F_i`` independent. The matrix ``E|X_i - X_j|`` is conditionally negative
definite (energy distance), so the mean CRPS over many past forecasts is convex in ``w`` on the
simplex and has a unique minimum. Both expectations are computed exactly from each member's
empirical CDF on the integer grid: ``E|X - Y| = sum_k F_X(k)(1 - F_Y(k)) + F_Y(k)(1 - F_X(k))``.

The past forecasts are made inside the training history only: every member is refitted at the
last ``inner_origins`` origins whose targets (steps ``1..inner_horizon``, cut at the history's
end) are all observed before the forecast origin, so no weight ever sees the future. Weights
are shrunk towards equal weights by ``shrinkage`` (a fraction of the objective's scale), which
keeps them stable when few inner forecasts are available.

The inner forecasts come from :func:`analysis.cross_validation.cross_validation` with its
cache on (keyed by the exact content of the truncated history), so a rolling-origin backtest
reuses them across consecutive origins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from analysis.errors import InputError
from analysis.models.ensemble import mix_paths
from analysis.models.forecast import Fitted, Forecaster, History


def _ecdf(samples: np.ndarray, K: int) -> np.ndarray:
    """Empirical CDF on 0..K-1 of samples (..., M) -> (..., K); counts >= K are in the tail."""
    s = np.asarray(samples, dtype=np.int64)
    lead, M = s.shape[:-1], s.shape[-1]
    flat = s.reshape(-1, M)
    n = flat.shape[0]
    cells = (np.arange(n)[:, None] * K + np.clip(flat, 0, K - 1)).ravel()
    hist = np.bincount(cells, minlength=n * K).reshape(n, K)
    return (np.cumsum(hist, axis=1) / M).reshape(*lead, K)


def crps_terms(obs: np.ndarray, member_samples: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``E|X_i - y|`` (k,) and ``E|X_i - X_j|`` (k, k) over all forecasts.

    Parameters
    ----------
    obs : ndarray (n,)
        Observed counts.
    member_samples : list of ndarray (n, M_i)
        Samples of each member for the same forecasts.

    Returns
    -------
    a : ndarray (k,)
    D : ndarray (k, k)
        With these, the mean CRPS of the mixture with weights ``w`` is ``w @ a - w @ D @ w / 2``.
    """
    obs = np.asarray(obs)
    K = int(max(obs.max(), *(s.max() for s in member_samples))) + 2
    F = [_ecdf(s, K) for s in member_samples]  # (n, K) each
    Fy = (obs[:, None] <= np.arange(K)[None, :]).astype(float)
    k = len(F)
    a = np.array([np.mean((Fi * (1 - Fy) + Fy * (1 - Fi)).sum(-1)) for Fi in F])
    D = np.zeros((k, k))
    for i in range(k):
        # the diagonal is each member's own E|X - X'| (1/M**2 estimator, as in the CRPS)
        for j in range(i, k):
            D[i, j] = D[j, i] = np.mean((F[i] * (1 - F[j]) + F[j] * (1 - F[i])).sum(-1))
    return a, D


def stacking_weights(a: np.ndarray, D: np.ndarray, shrinkage: float = 0.0) -> np.ndarray:
    """Simplex weights minimising ``w @ a - w @ D @ w / 2 + shrinkage * s * |w - 1/k|**2``.

    ``s`` is the mean of ``a`` (the scale of the CRPS), so ``shrinkage`` is unit-free.

    Parameters
    ----------
    a : ndarray (k,)
        Mean ``E|X_i - y|`` of each member (:func:`crps_terms`).
    D : ndarray (k, k)
        Mean ``E|X_i - X_j|`` of each pair of members.
    shrinkage : float, optional
        Pull toward equal weights (default 0: none).

    Returns
    -------
    ndarray (k,)
        Non-negative weights summing to 1.
    """
    k = len(a)
    if k == 1:
        return np.ones(1)
    s = max(float(np.mean(a)), 1e-12)
    eq = np.full(k, 1.0 / k)

    def f(w):
        return w @ a - 0.5 * w @ D @ w + shrinkage * s * np.sum((w - eq) ** 2)

    def g(w):
        return a - D @ w + 2 * shrinkage * s * (w - eq)

    res = optimize.minimize(
        f, eq, jac=g, method="SLSQP", bounds=[(0.0, 1.0)] * k,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones(k)}],
        options={"ftol": 1e-12, "maxiter": 200},
    )  # fmt: skip
    w = np.clip(res.x, 0.0, None)
    return w / w.sum()


@dataclass(frozen=True)
class StackingFitted(Fitted):
    members: tuple[Fitted, ...]
    weights: dict[str, float]
    inner_origins: int

    def sample_paths(self, horizon, n, rng) -> np.ndarray:
        """Paths of the mixture of ``members`` with the stacking ``weights``.

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
        w = np.array(list(self.weights.values()))
        return mix_paths(list(self.members), w, horizon, n, rng)


@dataclass(frozen=True)
class Stacking(Forecaster):
    """CRPS-optimal mixture of ``members`` fitted on earlier origins; see the module docstring."""

    name: str = "stacking"
    description: str = "CRPS-optimal mixture of local level, conflictology and recent mean"
    # defaults chosen on the real backtest's 2016-01..2017-12 origins only (see
    # benchmarks/backtest_real.py); adding pooled_nb, nb_climatology or the hurdle, 12 or 36
    # inner origins, or shrinkage did not lower CRPS there
    members: tuple[str, ...] = ("local_level", "conflictology", "recent_mean_6")
    inner_origins: int = 24
    inner_horizon: int = 3
    inner_samples: int = 200
    min_train: int = 48
    shrinkage: float = 0.0
    seed: int = 0

    def weights(self, history: History) -> tuple[np.ndarray, int]:
        """Weights from inner origins inside ``history``; equal weights if there are none.

        Returns the weights and the number of inner origins used.

        Parameters
        ----------
        history : History
            Counts up to and including the forecast origin.

        Returns
        -------
        weights : ndarray (k,)
            One per member, in the order of ``members``.
        n_origins : int
            Inner origins used (0 with equal weights).
        """
        from analysis.cross_validation import cross_validation

        T = history.counts.shape[1]
        # origin t: the member sees columns 0..t-1 and targets t..t+H-1 (cut at T)
        last = T - 1
        first = max(self.min_train, last - self.inner_origins + 1)
        k = len(self.members)
        if first > last:
            return np.full(k, 1.0 / k), 0
        obs, per_member = [], {m: [] for m in self.members}
        folds = cross_validation(
            history, self.members, range(first, last + 1), self.inner_horizon,
            n_samples=self.inner_samples, seed=self.seed, cache=True,
        )  # fmt: skip
        for fold in folds:
            ok = np.isfinite(fold.observed)
            if fold.model == self.members[0]:
                obs.append(fold.observed[ok].astype(np.int64))
            per_member[fold.model].append(fold.result.samples[ok])
        a, D = crps_terms(
            np.concatenate(obs), [np.concatenate(per_member[m]) for m in self.members]
        )
        return stacking_weights(a, D, self.shrinkage), last - first + 1

    def fit(self, history: History) -> StackingFitted:
        """Every member fitted on ``history``, weighted by :meth:`weights`.

        Parameters
        ----------
        history : History
            Counts up to and including the origin. See :meth:`Forecaster.fit`.

        Returns
        -------
        StackingFitted

        Raises
        ------
        InputError
            When ``members`` is empty.
        """
        from analysis.models.registry import get

        if not self.members:
            raise InputError("expected at least one member forecaster")
        w, n = self.weights(history)
        return StackingFitted(
            history,
            self.name,
            tuple(get(m).fit(history) for m in self.members),
            dict(zip(self.members, w.tolist(), strict=True)),
            n,
        )
