"""Spread calibration of sample paths, learned from past forecasts' randomised PIT values.

A forecast that is too narrow puts the observations in its tails too often: its randomised
PIT values pile up near 0 and 1. If past PIT values follow a symmetric ``Beta(c, c)``, the
forecast ``H(y) = B_c(F(y))``, with ``B_c`` the ``Beta(c, c)`` CDF and ``F`` the model's
predictive CDF, has uniform PIT values: it is calibrated. This is the beta transform of
Gneiting and Ranjan (2013, "Combining predictive distributions") restricted to one
parameter, so it changes the spread only and never moves the centre (a location shift
learned on a few past years followed the growth of those years, and on the real UCDP
backtest it cost CRPS when the growth changed). ``c < 1`` widens, ``c > 1`` narrows, ``c = 1``
leaves the forecast alone.

Paths are transformed region by region and step by step through their ranks: the path at
level ``u`` of the model's marginal takes the model's quantile at level ``B_c^{-1}(u)``. The
map is monotone, so every path keeps its rank at every step and the dependence between steps
and regions (the empirical copula of the paths) is unchanged; window totals stay coherent.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special, stats

from analysis.errors import InputError

#: fewer PIT values than this give no calibration (c = 1)
MIN_PIT = 100
C_BOUNDS = (0.25, 4.0)


def fit_symmetric_beta(pit: np.ndarray, bounds: tuple[float, float] = C_BOUNDS) -> float:
    """Maximum-likelihood ``c`` of ``Beta(c, c)`` for PIT values in (0, 1).

    Parameters
    ----------
    pit : ndarray
        Randomised PIT values of past forecasts (NaNs are dropped).
    bounds : (float, float)
        Search range of ``c``.

    Returns
    -------
    float
        ``c``; 1.0 (no change) when there are fewer than :data:`MIN_PIT` values.
    """
    p = np.asarray(pit, dtype=float).ravel()
    p = p[np.isfinite(p)]
    if p.size < MIN_PIT:
        return 1.0
    if (p < 0).any() or (p > 1).any():
        raise InputError("expected PIT values between 0 and 1")
    # the log-likelihood depends on the data only through this sufficient statistic
    s = float(np.log(np.clip(p * (1 - p), 1e-12, None)).sum())
    n = p.size

    def nll(log_c: float) -> float:
        c = np.exp(log_c)
        return -((c - 1.0) * s - n * special.betaln(c, c))

    lo, hi = np.log(bounds[0]), np.log(bounds[1])
    res = optimize.minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-6})
    return float(np.exp(res.x))


def recalibrate_paths(paths: np.ndarray, c: float, rng: np.random.Generator) -> np.ndarray:
    """Paths of ``H = B_c(F)``, with ``F`` the paths' own marginals; see the module docstring.

    Parameters
    ----------
    paths : ndarray (region, step, sample) of int
    c : float
        ``Beta(c, c)`` parameter (1 returns ``paths`` unchanged).
    rng : Generator
        Breaks ties between equal counts at random, so the levels ``u`` are uniform.

    Returns
    -------
    ndarray (region, step, sample) of int64
        Each value is one of the same region and step's sampled counts.
    """
    x = np.asarray(paths)
    if x.ndim != 3:
        raise InputError(f"expected paths of shape (region, step, sample), got {x.shape}")
    if not np.isfinite(c) or c <= 0:
        raise InputError(f"expected a positive spread parameter c, got {c}")
    if c == 1.0 or x.size == 0:
        return x.astype(np.int64)
    n = x.shape[-1]
    # jitter below 1 orders equal counts at random without crossing distinct ones
    order = np.argsort(x + rng.uniform(0.0, 0.5, size=x.shape), axis=-1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(n), x.shape), axis=-1)
    u = (ranks + rng.uniform(size=x.shape)) / n
    level = stats.beta.ppf(u, c, c)
    idx = np.clip((level * n).astype(np.int64), 0, n - 1)
    return np.take_along_axis(np.sort(x, axis=-1), idx, axis=-1).astype(np.int64)


def ensemble_pit(obs: np.ndarray, samples: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """PIT of observations among ``M`` samples, exactly uniform when they are exchangeable.

    The observation's position among the samples is random over its ``M + 1`` possible
    places, ties broken at random: ``(#(x < y) + W (#(x == y) + 1)) / (M + 1)``, ``W``
    uniform. Unlike the PIT against the samples' empirical CDF, it is never exactly 0 or 1
    (an observation above every sample has probability ``1 / (M + 1)`` even for a perfect
    model), so the ``Beta(c, c)`` likelihood is not dominated by a few such cases.

    Parameters
    ----------
    obs : ndarray (...)
    samples : ndarray (..., M)
    rng : Generator

    Returns
    -------
    ndarray (...)
        NaN where the observation is (not yet known): no comparison holds for it, and it
        would otherwise read as a PIT near 0 and widen the calibrated spread.
    """
    y = np.asarray(obs, dtype=float)[..., None]
    x = np.asarray(samples)
    if x.shape[:-1] != y.shape[:-1]:
        raise InputError(f"expected samples of shape obs.shape + (M,), got {x.shape}")
    below = (x < y).sum(axis=-1)
    at = (x == y).sum(axis=-1)
    pit = (below + rng.uniform(size=below.shape) * (at + 1)) / (x.shape[-1] + 1)
    return np.where(np.isnan(y[..., 0]), np.nan, pit)


def central_coverage(pit: np.ndarray, level: float = 0.8) -> float:
    """Share of PIT values inside the central ``level`` interval.

    Parameters
    ----------
    pit : ndarray
        PIT values, any shape; the non-finite ones are left out.
    level : float, optional
        Probability of the central interval (default 0.8).

    Returns
    -------
    float
        NaN when no PIT value is finite.
    """
    p = np.asarray(pit, dtype=float).ravel()
    p = p[np.isfinite(p)]
    a = (1.0 - level) / 2.0
    return float(((p > a) & (p < 1.0 - a)).mean()) if p.size else float("nan")
