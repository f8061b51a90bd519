"""Coverage of the growth intervals on overdispersed series with known truth.

For each scenario, simulate NB2 monthly counts (``analysis.simulate``), compute the rate ratio of
two 12-month windows and the log-linear trend over 48 months, and count how often the 95%
intervals contain the true ratio / true annual growth. The overdispersion-aware (NB2) interval
should cover 93-97%; the exact conditional interval is shown beside it to show how much it
under-covers when counts are overdispersed.

It also reports, for the change point, how often the break-date confidence set contains the true
break (60 months, break at month 30), the power of the test, and the rejection rate of the Davies
bound under a steady trend (should be at most 5%).

Usage: ``python benchmarks/growth_coverage.py [N_PER_SCENARIO] [SEED]`` (default 250, 2024).
The last line printed is JSON.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from analysis.growth import change_point, rate_ratio, trend
from analysis.simulate import simulate_growth_series, simulate_two_windows

RATIO_SCENARIOS = [
    # (rate in window A per month, true ratio, NB2 dispersion)
    (1.0, 7.0, 0.3),
    (3.0, 7.0, 0.5),
    (5.0, 2.0, 0.5),
    (10.0, 1.0, 1.0),
]
TREND_SCENARIOS = [
    # (mean of the first month, true annual growth %, NB2 dispersion)
    (2.0, 90.0, 0.3),
    (5.0, 30.0, 0.5),
    (3.0, 0.0, 1.0),
    (8.0, -40.0, 0.5),
]


def _binom_se(p: float, n: int) -> float:
    return float(np.sqrt(p * (1 - p) / n))


def ratio_coverage(n: int, rng: np.random.Generator) -> list[dict]:
    out = []
    for rate_a, ratio, disp in RATIO_SCENARIOS:
        nb_hit = exact_hit = midp_hit = 0
        times = []
        for _ in range(n):
            a, b = simulate_two_windows(rate_a, ratio, disp, rng)
            t0 = time.perf_counter()
            r = rate_ratio(a, b)
            times.append(time.perf_counter() - t0)
            nb_hit += r.nb_ci_low <= ratio <= r.nb_ci_high
            exact_hit += r.ci_low <= ratio <= r.ci_high
            midp_hit += r.midp_low <= ratio <= r.midp_high
        out.append(
            {
                "rate_a": rate_a,
                "true_ratio": ratio,
                "dispersion": disp,
                "n": n,
                "nb_coverage": nb_hit / n,
                "exact_coverage": exact_hit / n,
                "midp_coverage": midp_hit / n,
                "median_ms": 1000 * float(np.median(times)),
            }
        )
    return out


def trend_coverage(n: int, rng: np.random.Generator) -> list[dict]:
    out = []
    for start_rate, growth_pct, disp in TREND_SCENARIOS:
        hit = 0
        fitted = 0
        times = []
        for _ in range(n):
            s = simulate_growth_series(start_rate, growth_pct, disp, rng, n_periods=48)
            t0 = time.perf_counter()
            tr = trend(s.counts, s.periods)
            times.append(time.perf_counter() - t0)
            if np.isfinite(tr.growth_pct):
                fitted += 1
                hit += tr.growth_ci[0] <= growth_pct <= tr.growth_ci[1]
        out.append(
            {
                "start_rate": start_rate,
                "true_growth_pct": growth_pct,
                "dispersion": disp,
                "n": n,
                "n_fitted": fitted,
                "nb_coverage": hit / max(fitted, 1),
                "median_ms": 1000 * float(np.median(times)),
            }
        )
    return out


def change_point_checks(n: int, rng: np.random.Generator) -> dict:
    """Break-date set coverage and power with a true break; Davies size under no break."""
    hit = sig = 0
    sizes, times = [], []
    for _ in range(n):
        s = simulate_growth_series(
            3.0, 0.0, 0.2, rng, n_periods=60, break_at=30, growth_after_pct=200
        )
        t0 = time.perf_counter()
        cp = change_point(s.counts, s.periods)
        times.append(time.perf_counter() - t0)
        hit += s.true_break in cp.confidence_set
        sig += cp.significant
        sizes.append(len(cp.confidence_set))
    false_pos = 0
    for _ in range(n):
        s = simulate_growth_series(4.0, 40.0, 0.4, rng, n_periods=48)
        false_pos += change_point(s.counts, s.periods).p_value < 0.05
    return {
        "n": n,
        "break_set_coverage": hit / n,
        "power": sig / n,
        "median_set_size_months": float(np.median(sizes)),
        "davies_size_at_5pct": false_pos / n,
        "median_ms": 1000 * float(np.median(times)),
    }


def main(argv: list[str]) -> dict:
    n = int(argv[0]) if argv else 250
    seed = int(argv[1]) if len(argv) > 1 else 2024
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    ratio = ratio_coverage(n, rng)
    trend_rows = trend_coverage(n, rng)
    cp = change_point_checks(max(n // 5, 20), rng)
    n_ratio = sum(r["n"] for r in ratio)
    n_trend = sum(r["n_fitted"] for r in trend_rows)
    pooled = {
        "ratio_series": n_ratio,
        "ratio_nb_coverage": sum(r["nb_coverage"] * r["n"] for r in ratio) / n_ratio,
        "ratio_exact_coverage": sum(r["exact_coverage"] * r["n"] for r in ratio) / n_ratio,
        "ratio_midp_coverage": sum(r["midp_coverage"] * r["n"] for r in ratio) / n_ratio,
        "trend_series": n_trend,
        "trend_nb_coverage": sum(r["nb_coverage"] * r["n_fitted"] for r in trend_rows) / n_trend,
    }
    pooled["ratio_nb_coverage_se"] = _binom_se(pooled["ratio_nb_coverage"], n_ratio)
    pooled["trend_nb_coverage_se"] = _binom_se(pooled["trend_nb_coverage"], n_trend)
    pooled["target"] = [0.93, 0.97]
    pooled["nb_in_target"] = bool(
        0.93 <= pooled["ratio_nb_coverage"] <= 0.97 and 0.93 <= pooled["trend_nb_coverage"] <= 0.97
    )
    result = {
        "benchmark": "growth_coverage",
        "seed": seed,
        "pooled": pooled,
        "ratio": ratio,
        "trend": trend_rows,
        "change_point": cp,
        "seconds": time.perf_counter() - t0,
    }
    for row in ratio + trend_rows:
        print(json.dumps(row), file=sys.stderr)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
