"""Size and power of the default change-point test when months depend on each other (issue 14).

**Size.** Each scenario simulates break-free monthly counts from an NB autoregression around a
steady log-linear trend (:func:`analysis.simulate.simulate_ownlag_series`: own-lag share,
marginal NB2 overdispersion, expected events a month in the middle of the series, length, true
growth 0 or +40% a year) and runs :func:`analysis.growth.change_point` with its defaults. The
size is the share of *all* series with ``p < 0.05`` (and ``p < 0.10``): a series the test
declines (too few events, ``p`` NaN) reports no break, so it counts as not rejected; the share
of declined series is reported beside it. The Monte Carlo standard error is
``sqrt(p (1 - p) / n)`` at the nominal level ``p``.

Scenarios start with ``--series`` series; a scenario whose rejection rate at 5% is within two
standard errors of the 5.5% cap (or above it) is extended in steps up to ``--max-series``, so
the verdict rests on enough series where it is close.

**Power.** Planted breaks in the middle of 60 months, independent and with own-lag 0.5: a slope
change (flat, then +200% a year) and a level shift (the expected count triples; the default test
fits a continuous hinge, so this also shows what it does with a jump). The planted series
keep the expected count on the stated path exactly (INARCH(1) with a time-varying endemic part).

Usage: ``python benchmarks/changepoint_size.py [--series N] [--max-series M] [--power-series K]
[--seed S] [--quick] [--no-power]`` (defaults 200, 400, 100, 2026). One JSON object per
scenario goes to stderr as it finishes; stdout gets the JSON summary. Runs serially (the
machine is shared).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from analysis.growth import change_point
from analysis.simulate import (
    GrowthSeries,
    conditional_dispersion,
    inarch_counts,
    simulate_ownlag_series,
)

CAP = 0.055
# (own-lag, level, overdispersion, months, growth % a year)
OWN_LAGS = (0.0, 0.3, 0.5, 0.7, 0.8)
GROWTHS = (0.0, 40.0)
SIZE_GRID = (
    # own-lag x steady trend, typical level and overdispersion, 60 months
    [(lam, 3.0, 0.5, 60, g) for lam in OWN_LAGS for g in GROWTHS]
    # sparse and bursty / busy and regular, independent and strongly dependent
    + [
        (lam, lev, disp, 60, g)
        for lev, disp in ((0.3, 2.0), (10.0, 0.2))
        for lam in (0.0, 0.7)
        for g in (40.0,)
    ]  # fmt: skip
    # shorter series
    + [(lam, 3.0, 0.5, n, 40.0) for n in (36, 48) for lam in (0.0, 0.7)]
)
QUICK_GRID = [(0.0, 3.0, 0.5, 48, 40.0), (0.7, 3.0, 0.5, 48, 40.0)]


def ownlag_break_series(
    level: float,
    own_lag: float,
    dispersion: float,
    rng: np.random.Generator,
    *,
    n_periods: int = 60,
    break_at: int = 30,
    growth_after_pct: float = 0.0,
    jump: float = 1.0,
    burn_in: int = 100,
) -> GrowthSeries:
    """INARCH(1) counts whose expected count is flat at ``level``, then changes at ``break_at``.

    After the break the expected count is ``level * jump * (1 + growth_after_pct/100) ** (years
    since the break)``. The endemic part is ``m[t] - own_lag m[t-1]`` so the expected count is
    exactly ``m[t]`` (as in :func:`analysis.simulate.simulate_ownlag_series`); the conditional
    dispersion gives marginal overdispersion ``dispersion`` at ``level``.
    """
    months = np.arange(-burn_in, n_periods)
    after = np.clip(months - break_at, 0, None) / 12.0
    shift = np.where(months >= break_at, jump, 1.0)
    expected = level * shift * (1 + growth_after_pct / 100) ** after
    previous_expected = np.r_[expected[0], expected[:-1]]
    endemic = np.maximum(expected - own_lag * previous_expected, 1e-6)
    alpha_c = conditional_dispersion(level, dispersion, own_lag)
    counts = inarch_counts(endemic, own_lag, alpha_c, rng, first_previous=expected[0])
    periods = pd.date_range("2021-01-01", periods=n_periods, freq="MS")
    return GrowthSeries(
        counts=counts[burn_in:],
        means=expected[burn_in:],
        periods=periods,
        dispersion=alpha_c,
        true_break=periods[break_at],
    )


def _run(make: Callable[[], GrowthSeries], n: int) -> tuple[np.ndarray, list[float]]:
    p_values, seconds = np.empty(n), []
    for i in range(n):
        s = make()
        t0 = time.perf_counter()
        p_values[i] = change_point(s.counts, s.periods).p_value
        seconds.append(time.perf_counter() - t0)
    return p_values, seconds


def size_scenario(
    spec: tuple[float, float, float, int, float], seed: int, n0: int, n_max: int
) -> dict:
    """Rejection rates of the default test on break-free series, extended where close to the cap."""
    lam, level, disp, months, growth = spec
    rng = np.random.default_rng(seed)

    def make() -> GrowthSeries:
        return simulate_ownlag_series(level, growth, lam, disp, rng, n_periods=months)

    p, seconds = _run(make, n0)
    step = max(n0 // 2, 50)
    while p.size < n_max:
        rate = float(np.mean(p < 0.05))
        if rate < CAP - 2 * math.sqrt(0.05 * 0.95 / p.size):
            break
        more, sec = _run(make, min(step, n_max - p.size))
        p, seconds = np.r_[p, more], seconds + sec
    n = p.size
    tested = np.isfinite(p)
    r5, r10 = float(np.mean(p < 0.05)), float(np.mean(p < 0.10))
    return {
        "own_lag": lam,
        "level": level,
        "dispersion": disp,
        "months": months,
        "growth_pct": growth,
        "n": n,
        "declined": int(np.sum(~tested)),
        "size_5": r5,
        "se_5": math.sqrt(0.05 * 0.95 / n),
        "size_10": r10,
        "se_10": math.sqrt(0.10 * 0.90 / n),
        "size_5_among_tested": float(np.mean(p[tested] < 0.05)) if tested.any() else math.nan,
        "over_cap": bool(r5 > CAP + 2 * math.sqrt(0.05 * 0.95 / n)),
        "median_p": float(np.nanmedian(p)) if tested.any() else math.nan,
        "median_ms": 1000 * float(np.median(seconds)),
    }


POWER = (
    # (label, own-lag, growth after %/yr, jump)
    ("slope 0 -> +200%/yr", 0.0, 200.0, 1.0),
    ("slope 0 -> +200%/yr", 0.5, 200.0, 1.0),
    ("slope 0 -> +100%/yr", 0.0, 100.0, 1.0),
    ("level x3", 0.0, 0.0, 3.0),
    ("level x3", 0.5, 0.0, 3.0),
)


def power_scenario(spec: tuple[str, float, float, float], seed: int, n: int) -> dict:
    label, lam, growth_after, jump = spec
    rng = np.random.default_rng(seed)

    def make() -> GrowthSeries:
        return ownlag_break_series(3.0, lam, 0.5, rng, growth_after_pct=growth_after, jump=jump)

    p, seconds = _run(make, n)
    return {
        "break": label,
        "own_lag": lam,
        "level": 3.0,
        "dispersion": 0.5,
        "months": 60,
        "break_at": 30,
        "n": n,
        "power_5": float(np.mean(p < 0.05)),
        "power_10": float(np.mean(p < 0.10)),
        "median_p": float(np.nanmedian(p)),
        "median_ms": 1000 * float(np.median(seconds)),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=200, help="series per size scenario")
    parser.add_argument("--max-series", type=int, default=400, help="cap when extending")
    parser.add_argument("--power-series", type=int, default=100, help="series per power scenario")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--quick", action="store_true", help="two scenarios, 20 series")
    parser.add_argument("--no-power", action="store_true")
    parser.add_argument("--only", type=str, default="", help="comma-separated size-grid indices")
    args = parser.parse_args(argv)
    grid = list(enumerate(SIZE_GRID))
    n0, n_max, n_pow = args.series, max(args.max_series, args.series), args.power_series
    if args.quick:
        grid, n0, n_max, n_pow = list(enumerate(QUICK_GRID)), 20, 20, 10
    if args.only:
        keep = {int(i) for i in args.only.split(",")}
        grid = [(i, spec) for i, spec in grid if i in keep]
    t0 = time.perf_counter()
    size = []
    for i, spec in grid:
        # one stream per scenario: a scenario's series do not depend on which others run
        size.append({"index": i, **size_scenario(spec, args.seed * 1000 + i, n0, n_max)})
        print(json.dumps(size[-1]), file=sys.stderr, flush=True)
    power = []
    if not args.no_power:
        for j, spec in enumerate(POWER[:2] if args.quick else POWER):
            power.append(power_scenario(spec, args.seed * 1000 + 500 + j, n_pow))
            print(json.dumps(power[-1]), file=sys.stderr, flush=True)
    result = {
        "benchmark": "changepoint_size",
        "seed": args.seed,
        "series": n0,
        "max_series": n_max,
        "cap_at_5pct": CAP,
        "size": size,
        "over_cap": [row for row in size if row["over_cap"]],
        "max_size_5": max((row["size_5"] for row in size), default=math.nan),
        "power": power,
        "seconds": time.perf_counter() - t0,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
