"""Batched NB GLM IRLS versus a loop of statsmodels GLM fits, same data, same run.

1,000 synthetic regions x 120 months, 24 rolling origins (months 96..119), the one-step NB
GLM of ``nb_glm`` (intercept, trend, annual harmonic, lags log1p of the last 1, 3 and 12
months) with the dispersion fixed at its true value, so both fit exactly the same likelihood.
Then the nb_glm forecaster draws 12-step sample paths for every region (timed separately).

Both sides are timed ``--repeats`` times in the same run and compared by their medians. The
statsmodels loop is timed on a random subset of fits and extrapolated (stated in the JSON as
``loop_fits_timed``) so that the benchmark stays short on a shared machine.
Last line of output is JSON: fits, seconds, loop_seconds, speedup, max_abs_diff, ...

Usage: ``python benchmarks/backtest_speed.py [--regions 1000] [--repeats 3] ...``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.models.forecast import History  # noqa: E402
from analysis.models.glm import fit_nb_batched  # noqa: E402
from analysis.models.nbglm import NBGLM, design  # noqa: E402

ALPHA = 0.5
LAGS = (1, 3, 12)


def synthetic(R: int, T: int, seed: int = 7) -> np.ndarray:
    """NB2 counts from a known log-linear model with a seasonal term and AR in log1p(y)."""
    rng = np.random.default_rng(seed)
    level = rng.normal(0.5, 0.8, R)
    y = np.zeros((R, T), dtype=np.int64)
    y[:, 0] = rng.poisson(np.exp(level))
    for t in range(1, T):
        eta = 0.6 * level + 0.35 * np.log1p(y[:, t - 1]) + 0.3 * np.sin(2 * np.pi * t / 12)
        mu = np.exp(eta)
        y[:, t] = rng.poisson(mu * rng.gamma(1 / ALPHA, ALPHA, R))
    return y


def stacked_designs(y: np.ndarray, months: np.ndarray, origins: list[int]):
    """Design (fits, rows, p), targets and masks for every region x origin (expanding window)."""
    R, T = y.shape
    Xs, ys, ms = [], [], []
    for o in origins:  # origin o: columns 0..o are seen
        X, tgt = design(y[:, : o + 1], months[: o + 1], 12, LAGS)
        n = X.shape[1]
        pad = (T - max(LAGS)) - n
        Xs.append(np.pad(X, ((0, 0), (0, pad), (0, 0))))
        ys.append(np.pad(tgt, ((0, 0), (0, pad))))
        ms.append(np.pad(np.ones((R, n)), ((0, 0), (0, pad))))
    return np.concatenate(Xs), np.concatenate(ys), np.concatenate(ms)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--regions", type=int, default=1000, help="synthetic regions")
    ap.add_argument("--months", type=int, default=120, help="months per region")
    ap.add_argument("--origins", type=int, default=24, help="rolling origins (the last months)")
    ap.add_argument("--loop-fits", type=int, default=1500, help="statsmodels fits timed per repeat")
    ap.add_argument("--chunk", type=int, default=4000, help="fits per batched call")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of each side (median)")
    args = ap.parse_args()
    import statsmodels.api as sm

    R, T = args.regions, args.months
    y = synthetic(R, T)
    periods = pd.date_range("2011-01-01", periods=T, freq="MS")
    months = np.asarray(periods.month)
    origins = list(range(T - args.origins, T))

    # batched: designs are built once per run; the timing covers building and fitting
    runs = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        coefs = []
        for c0 in range(0, len(origins), max(1, args.chunk // R)):
            X, tgt, m = stacked_designs(y, months, origins[c0 : c0 + max(1, args.chunk // R)])
            fit = fit_nb_batched(X, tgt, ALPHA, mask=m, tol=1e-10)
            coefs.append(fit.coef)
        runs.append(time.perf_counter() - t0)
    coef = np.concatenate(coefs)
    n_fits = coef.shape[0]
    seconds = float(np.median(runs))

    # 12-step sample paths of the nb_glm forecaster at the last origin through the estimator
    # contract (1,000 regions x 1,000 paths): its 12 direct step fits, shared parameter draws
    # and the copula across steps
    hist = History(y, tuple(str(i) for i in range(R)), pd.DatetimeIndex(periods))
    sim_runs = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        NBGLM().fit(hist).sample_paths(12, 1000, np.random.default_rng(0))
        sim_runs.append(time.perf_counter() - t0)
    sim_seconds = float(np.median(sim_runs))

    # statsmodels loop on a random subset of the same fits
    X, tgt, m = stacked_designs(y, months, origins)
    rng = np.random.default_rng(0)
    pick = rng.choice(n_fits, size=min(args.loop_fits, n_fits), replace=False)
    diffs, diffs_tight = [], []
    loop_runs = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        results = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in pick:
                keep = m[i] > 0
                family = sm.families.NegativeBinomial(alpha=ALPHA)
                results.append(sm.GLM(tgt[i, keep], X[i, keep], family=family).fit())
        loop_runs.append(time.perf_counter() - t0)
    loop_timed = float(np.median(loop_runs))
    loop_seconds = loop_timed * n_fits / len(pick)
    for i, res in zip(pick, results, strict=True):
        diffs.append(np.abs(res.params - coef[i]).max())
    # statsmodels' default stopping rule (relative deviance change 1e-8) is looser than ours;
    # refit a few with a tight tolerance to show the estimates agree to that precision
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in pick[:200]:
            keep = m[i] > 0
            r = sm.GLM(tgt[i, keep], X[i, keep], family=sm.families.NegativeBinomial(alpha=ALPHA))
            diffs_tight.append(np.abs(r.fit(tol=1e-13, maxiter=200).params - coef[i]).max())
    out = {
        "fits": int(n_fits),
        "regions": R,
        "months": T,
        "origins": len(origins),
        "coefficients": int(coef.shape[1]),
        "seconds": round(seconds, 3),
        "seconds_runs": [round(s, 3) for s in runs],
        "loop_seconds": round(loop_seconds, 2),
        "loop_fits_timed": int(len(pick)),
        "loop_seconds_timed": round(loop_timed, 2),
        "loop_seconds_timed_runs": [round(s, 2) for s in loop_runs],
        "loop_extrapolated": bool(len(pick) < n_fits),
        "speedup": round(loop_seconds / seconds, 1),
        "max_abs_diff_vs_statsmodels_default_tol": float(np.max(diffs)),
        "max_abs_diff_vs_statsmodels_tol_1e-13": float(np.max(diffs_tight)),
        "forecast_12_steps_1000_paths_seconds": round(sim_seconds, 2),
        "forecast_seconds_runs": [round(s, 2) for s in sim_runs],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
