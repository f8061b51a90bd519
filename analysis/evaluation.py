"""Scoring rules for sample forecasts, rolling-origin backtests and scorecards.

CRPS uses the energy form ``E|X - y| - 1/2 E|X - X'|`` with the empirical distribution of the
samples (the 1/M**2 "nrg" estimator of scoringrules, which is also what properscoring's
``crps_ensemble`` used by VIEWS computes), evaluated exactly in O(M log M) by sorting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import InputError
from analysis.models.forecast import (
    ForecastResult,
    History,
    fit_at,
    get_forecaster,
    panel_to_history,
)

# VIEWS bins for the ignorance score (counts): 0 | 1-2 | 3-5 | 6-10 | 11-25 | ... | >1000
VIEWS_IGN_EDGES = np.array(
    [0, 0.5, 2.5, 5.5, 10.5, 25.5, 50.5, 100.5, 250.5, 500.5, 1000.5, np.inf]
)
LEVELS = (0.5, 0.8, 0.95)


# --------------------------------------------------------------------------- scoring rules


def _check(obs: np.ndarray, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    obs = np.asarray(obs, dtype=float)
    samples = np.asarray(samples, dtype=float)
    if samples.shape[:-1] != obs.shape:
        raise InputError(
            f"expected samples of shape obs.shape + (n_samples,); got {samples.shape} for "
            f"obs {obs.shape}"
        )
    return obs, samples


def crps_ensemble(obs: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """CRPS of sample forecasts, energy form with the 1/M**2 estimator.

    Parameters
    ----------
    obs : ndarray (...)
    samples : ndarray (..., M)

    Returns
    -------
    ndarray (...)
        ``mean|x_i - y| - (1 / (2 M**2)) sum_ij |x_i - x_j|``.
    """
    obs, x = _check(obs, samples)
    M = x.shape[-1]
    xs = np.sort(x, axis=-1)
    term1 = np.abs(xs - obs[..., None]).mean(axis=-1)
    # sum_ij |x_i - x_j| = 2 sum_i (2i - M - 1) x_(i), i = 1..M
    w = 2.0 * np.arange(1, M + 1) - M - 1
    term2 = (xs * w).sum(axis=-1) / M**2
    return term1 - term2


def twcrps_ensemble(obs: np.ndarray, samples: np.ndarray, threshold: float = 1.0) -> np.ndarray:
    """Threshold-weighted CRPS with weight ``1{z >= threshold}``.

    Computed as the CRPS of the chained values ``max(z, threshold)`` (Allen et al. 2023), the
    same as scoringrules' ``twcrps_ensemble`` with ``v_func = max(z, t)``.
    """
    obs, x = _check(obs, samples)
    return crps_ensemble(np.maximum(obs, threshold), np.maximum(x, threshold))


def interval_score(
    obs: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float
) -> np.ndarray:
    """Interval score of the central ``level`` interval (Gneiting and Raftery 2007)."""
    a = 1.0 - level
    obs = np.asarray(obs, float)
    return (
        (upper - lower)
        + (2.0 / a) * np.clip(lower - obs, 0, None)
        + (2.0 / a) * np.clip(obs - upper, 0, None)
    )


def sample_quantiles(samples: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles along the last axis (inverted empirical CDF: always a sampled count)."""
    return np.quantile(np.asarray(samples), qs, axis=-1, method="inverted_cdf").astype(float)


def ignorance(
    obs: np.ndarray, samples: np.ndarray, edges: np.ndarray = VIEWS_IGN_EDGES
) -> np.ndarray:
    """Ignorance (-log2 probability of the observed bin), VIEWS bins.

    Bin probabilities come from the samples with 0.5 added to every bin count, so that a bin
    no sample fell into gets a finite (large) penalty rather than infinity.
    """
    obs, x = _check(obs, samples)
    K = len(edges) - 1
    M = x.shape[-1]
    ob = np.clip(np.searchsorted(edges, obs, side="right") - 1, 0, K - 1)
    xb = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, K - 1)
    count = (xb == ob[..., None]).sum(axis=-1)
    return -np.log2((count + 0.5) / (M + 0.5 * K))


def randomized_pit(
    obs: np.ndarray, samples: np.ndarray, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Randomised PIT for counts: ``F(y-1) + U (F(y) - F(y-1))``, uniform if calibrated."""
    obs, x = _check(obs, samples)
    rng = rng or np.random.default_rng(0)
    below = (x < obs[..., None]).mean(axis=-1)
    at = (x <= obs[..., None]).mean(axis=-1)
    return below + rng.uniform(size=obs.shape) * (at - below)


def score_samples(
    obs: np.ndarray, samples: np.ndarray, *, rng: np.random.Generator | None = None
) -> dict[str, np.ndarray]:
    """Every per-forecast score for obs (...) and samples (..., M), as arrays of shape (...)."""
    obs, x = _check(obs, samples)
    q = sample_quantiles(x, [0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975])
    lo = {0.5: q[3], 0.8: q[2], 0.9: q[1], 0.95: q[0]}
    hi = {0.5: q[5], 0.8: q[6], 0.9: q[7], 0.95: q[8]}
    p_any = (x >= 1).mean(axis=-1)
    out = {
        "crps": crps_ensemble(obs, x),
        "twcrps": twcrps_ensemble(obs, x, 1.0),
        "interval_score_95": interval_score(obs, lo[0.95], hi[0.95], 0.95),
        "interval_score_80": interval_score(obs, lo[0.8], hi[0.8], 0.8),
        "brier_any": (p_any - (obs >= 1)) ** 2,
        "ignorance": ignorance(obs, x),
        "ae_median": np.abs(q[4] - obs),
        "pit": randomized_pit(obs, x, rng),
        "mean": x.mean(axis=-1),
        "median": q[4],
        "p_any": p_any,
    }
    for lev in LEVELS:
        out[f"coverage_{round(lev * 100)}"] = ((obs >= lo[lev]) & (obs <= hi[lev])).astype(float)
    # closed count intervals cover at least their level (a [0, 0] interval covers every zero);
    # the randomised PIT inside its central 80% is the exact analogue for discrete forecasts
    out["pit_coverage_80"] = ((out["pit"] > 0.1) & (out["pit"] < 0.9)).astype(float)
    return out


def score_forecast(
    result: ForecastResult, observed: np.ndarray, *, active: np.ndarray | None = None
) -> pd.DataFrame:
    """Long table of scores, one row per region and step with an observation.

    ``observed`` has shape (region, step) and may be NaN where the target is not yet known.
    """
    obs = np.asarray(observed, dtype=float)
    R, H, _ = result.samples.shape
    if obs.shape != (R, H):
        raise InputError(f"expected observed of shape {(R, H)}, got {obs.shape}")
    ok = np.isfinite(obs)
    scores = score_samples(
        np.where(ok, obs, 0.0), result.samples, rng=np.random.default_rng(result.seed)
    )
    frame = pd.DataFrame(
        {
            "model": result.model,
            "origin": result.origin,
            "region_id": np.repeat(np.asarray(result.region_ids, dtype=object), H),
            "step": np.tile(np.arange(1, H + 1), R),
            "period": np.tile(np.asarray(result.periods), R),
            "observed": obs.ravel(),
            "active": np.repeat(np.ones(R, bool) if active is None else np.asarray(active), H),
            **{k: v.ravel() for k, v in scores.items()},
        }
    )
    return frame[ok.ravel()].reset_index(drop=True)


# --------------------------------------------------------------------------- backtest


@dataclass(frozen=True)
class BacktestResult:
    """Scores of every model at every origin, region and step (``scores``, long format)."""

    scores: pd.DataFrame
    models: tuple[str, ...]
    is_baseline: dict[str, bool]
    origins: tuple[pd.Timestamp, ...]
    horizon: int
    n_samples: int
    seed: int
    meta: dict[str, Any] = field(default_factory=dict)


def backtest(
    data: pd.DataFrame | History,
    models: Sequence[str | Any],
    *,
    start: Any = None,
    end: Any = None,
    horizon: int = 6,
    n_samples: int = 1000,
    seed: int = 0,
    active_window: int = 12,
    min_train: int = 24,
    progress: bool = False,
) -> BacktestResult:
    """Rolling-origin backtest: refit each model at every origin and score steps 1..horizon.

    Parameters
    ----------
    data : DataFrame or History
        A panel (docs/internals.md) or a :class:`History` of the whole window.
    models : sequence of str or forecaster objects
    start, end : str or Timestamp, optional
        First and last origin (inclusive; default: from ``max(min_train, horizon + 36)``
        periods in to the period before the last).
    horizon, n_samples, seed : int
        Every model uses the same seed at a given origin (common random numbers).
    active_window : int
        A region is *active* at an origin if it had an event in the last ``active_window``
        periods up to the origin.
    min_train : int
        Origins with fewer periods of history are skipped.

    Returns
    -------
    BacktestResult
    """
    panel = data if isinstance(data, pd.DataFrame) else None
    hist = panel_to_history(data) if panel is not None else data
    if horizon < 1:
        raise InputError("expected horizon >= 1")
    T = hist.counts.shape[1]
    periods = hist.periods
    if start is None:
        # Direct multi-step models lose `horizon` periods of their training window; leave
        # them three years of usable history (lags reach back a year) at the first origin.
        min_train = max(min_train, horizon + 36)
    lo = pd.Timestamp(start) if start is not None else periods[min(min_train - 1, T - 1)]
    hi = pd.Timestamp(end) if end is not None else periods[-2]
    idx = [t for t in range(T - 1) if lo <= periods[t] <= hi and t + 1 >= min_train]
    if not idx:
        raise InputError(
            f"no origins between {lo:%Y-%m} and {hi:%Y-%m} with at least {min_train} periods of "
            f"history and one period after"
        )
    forecasters = [get_forecaster(m) if isinstance(m, str) else m for m in models]
    frames = []
    for k, t in enumerate(idx):
        h_t = hist.until(t + 1)
        obs = np.full((hist.counts.shape[0], horizon), np.nan)
        avail = min(horizon, T - 1 - t)
        obs[:, :avail] = hist.counts[:, t + 1 : t + 1 + avail]
        active = hist.counts[:, max(0, t + 1 - active_window) : t + 1].sum(axis=1) > 0
        for f in forecasters:
            fitted = fit_at(f, panel, h_t)
            res = fitted.forecast(horizon, n_samples, seed + k)
            frames.append(score_forecast(res, obs, active=active))
        if progress:
            print(f"origin {periods[t]:%Y-%m} done", flush=True)
    scores = pd.concat(frames, ignore_index=True)
    return BacktestResult(
        scores=scores,
        models=tuple(f.name for f in forecasters),
        is_baseline={f.name: bool(getattr(f, "is_baseline", False)) for f in forecasters},
        origins=tuple(periods[t] for t in idx),
        horizon=horizon,
        n_samples=n_samples,
        seed=seed,
    )


# --------------------------------------------------------------------------- paired tests


def _origin_differential(scores: pd.DataFrame, a: str, b: str, metric: str) -> np.ndarray:
    piv = scores[scores["model"].isin([a, b])].pivot_table(
        index="origin", columns="model", values=metric, aggfunc="mean"
    )
    if a not in piv or b not in piv:
        raise InputError(f"models {a!r} and {b!r} must both be in the scores")
    return (piv[a] - piv[b]).to_numpy()


def diebold_mariano(d: np.ndarray, lag: int) -> tuple[float, float]:
    """Diebold-Mariano statistic and two-sided p-value with a Newey-West (Bartlett) HAC
    variance of the mean loss differential ``d`` (small-sample t reference, n-1 df)."""
    d = np.asarray(d, float)
    n = len(d)
    if n < 3:
        return float("nan"), float("nan")
    e = d - d.mean()
    var = e @ e / n
    for k in range(1, min(lag, n - 1) + 1):
        var += 2 * (1 - k / (lag + 1)) * (e[k:] @ e[:-k]) / n
    if var <= 0:
        return float("nan"), float("nan")
    stat = d.mean() / np.sqrt(var / n)
    return float(stat), float(2 * stats.t.sf(abs(stat), n - 1))


def block_bootstrap_p(
    d: np.ndarray, block: int, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """Moving-block bootstrap of the mean differential: (low 2.5%, high 97.5%, two-sided p)."""
    d = np.asarray(d, float)
    n = len(d)
    block = max(1, min(block, n))
    rng = np.random.default_rng(seed)
    nb = int(np.ceil(n / block))
    starts = rng.integers(0, n - block + 1, size=(n_boot, nb))
    idx = (starts[..., None] + np.arange(block)).reshape(n_boot, -1)[:, :n]
    means = d[idx].mean(axis=1)
    centred = means - d.mean()
    p = float(np.mean(np.abs(centred) >= abs(d.mean())))
    lo_, hi_ = np.quantile(means, [0.025, 0.975])
    return float(lo_), float(hi_), p


def paired_test(
    scores: pd.DataFrame, a: str, b: str, *, metric: str = "crps", lag: int | None = None
) -> dict[str, float]:
    """Is ``a``'s mean score really different from ``b``'s? Differences are averaged over
    regions and steps per origin; overlapping multi-step forecasts make them autocorrelated,
    hence HAC (lag = horizon - 1) and a block bootstrap (block = horizon)."""
    d = _origin_differential(scores, a, b, metric)
    H = int(scores["step"].max())
    lag = H - 1 if lag is None else lag
    stat, p = diebold_mariano(d, lag)
    lo_, hi_, pb = block_bootstrap_p(d, max(H, 1))
    return {
        "model": a,
        "versus": b,
        "mean_difference": float(d.mean()),
        "dm_stat": stat,
        "dm_p": p,
        "boot_low": lo_,
        "boot_high": hi_,
        "boot_p": pb,
        "n_origins": int(len(d)),
    }


# --------------------------------------------------------------------------- scorecard

METRICS = (
    "crps",
    "twcrps",
    "coverage_50",
    "coverage_80",
    "coverage_95",
    "pit_coverage_80",
    "interval_score_95",
    "interval_score_80",
    "brier_any",
    "ignorance",
    "ae_median",
)


def _summary(scores: pd.DataFrame, is_baseline: dict[str, bool]) -> list[dict[str, Any]]:
    g = scores.groupby("model", sort=False)
    table = g[list(METRICS)].mean()
    table["n_forecasts"] = g.size()
    base = [m for m in table.index if is_baseline.get(m)]
    best_base = table.loc[base, "crps"].idxmin() if base else None
    rows = []
    for m, r in table.iterrows():
        row: dict[str, Any] = {"model": m, "is_baseline": bool(is_baseline.get(m, False))}
        row["crps"] = float(r["crps"])
        row["crps_skill_vs_best_baseline"] = (
            float(1 - r["crps"] / table.loc[best_base, "crps"])
            if best_base is not None and table.loc[best_base, "crps"] > 0
            else None
        )
        for k in METRICS[1:]:
            row[k] = float(r[k])
        row["n_forecasts"] = int(r["n_forecasts"])
        row["crps_skill_vs"] = {
            b: (float(1 - r["crps"] / table.loc[b, "crps"]) if table.loc[b, "crps"] > 0 else None)
            for b in base
        }
        rows.append(row)
    return rows


def scorecard(bt: BacktestResult, *, paired: bool = True) -> dict[str, Any]:
    """Scorecard JSON: ``models``, ``by_horizon``, ``by_activity``, ``best_model``,
    ``best_baseline``, ``best_non_baseline`` and paired tests of the best non-baseline against
    every baseline."""
    s = bt.scores
    models = _summary(s, bt.is_baseline)
    by_h = []
    for h, sub in s.groupby("step"):
        for row in _summary(sub, bt.is_baseline):
            by_h.append({"step": int(h), **row})
    by_act = []
    for act, sub in s.groupby("active"):
        for row in _summary(sub, bt.is_baseline):
            by_act.append({"active": bool(act), **row})
    crps = {r["model"]: r["crps"] for r in models}
    base = {m: c for m, c in crps.items() if bt.is_baseline.get(m)}
    non = {m: c for m, c in crps.items() if not bt.is_baseline.get(m)}
    best_base = min(base, key=base.get) if base else None
    best_non = min(non, key=non.get) if non else None
    out: dict[str, Any] = {
        "models": models,
        "by_horizon": by_h,
        "by_activity": by_act,
        "best_model": min(crps, key=crps.get),
        "best_baseline": best_base,
        "best_non_baseline": best_non,
        "origins": [f"{o:%Y-%m}" for o in (bt.origins[0], bt.origins[-1])],
        "n_origins": len(bt.origins),
        "horizon": bt.horizon,
        "n_samples": bt.n_samples,
    }
    if paired and best_non and base:
        out["paired_tests"] = [paired_test(s, best_non, b) for b in base]
    return out


def pit_values(bt: BacktestResult, model: str) -> np.ndarray:
    """Randomised PIT values of ``model`` across the backtest (for calibration plots)."""
    return bt.scores.loc[bt.scores["model"] == model, "pit"].to_numpy()
