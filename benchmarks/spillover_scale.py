"""Spillover at regional scale: seconds per stage at 50, 181 and 500 admin-1 units.

The panel is the real one: every event of the UCDP GED file in the 11 West African countries of
the shipped boundaries, monthly 2010-01 to 2020-12 (181 units x 132 months). Smaller sizes take
the first units (by id, with their real adjacency); larger sizes tile copies of the panel that
are not adjacent to each other (each copy keeps its countries, so the model has the same
parameters at every size). Horizon and draws are fixed, so the time per unit should not grow.

Neighbour weights reach adjacency order 5 (``HHH4Spec.max_order``), under which the 181 real
units form one connected group with about 64 weighted sources per unit (35% of the pairs): the
per-draw neighbour product is a dense one within a group, so its cost per unit grows with the
size of the largest group (50 at 50 units, 181 at 181 and above), not with the number of units.
Each size's row gives that group size (``largest_group``) and the weighted pairs per unit, and
the CPU time per unit against the next smaller size (``total_cpu_per_unit_vs_previous``): from
181 to 500 units (tiles of the same group) it measures growth in units alone.

The first 50 units are also quieter than the whole panel (``events_per_unit`` 13 against 29):
the simulated paths have fewer units with a count above zero (5.4% of simulated cells against
8.3%), and those are the cells whose negative-binomial count is found by inversion rather than
by one comparison with a threshold. So from 50 to 181 units the time per unit grows with the
group (the dense neighbour product, ``group size`` multiply-adds a cell) and with the activity
of the data (inversions a cell), neither of which grows with units at a fixed group and data.

Stages, each the median of ``--runs`` runs (a fresh fit each run), in wall-clock and in CPU
seconds of the process (``_cpu``; steadier than wall-clock on a shared machine):

- ``fit``: :func:`fit_spillover_matrix` with country offsets, their variance estimated
  (empirical Bayes), a focus trend on the most active unit, profile intervals for bound
  parameters;
- ``intervals``: :func:`spillover_forecast` (P(at least one event), expected counts and their
  intervals);
- ``scenarios``: :func:`focus_scenarios` (continue, held, silenced: the reports' contrast);
- ``total``; peak RSS of the process (``ru_maxrss``, so the largest size run so far).

Usage: ``python benchmarks/spillover_scale.py [--sizes 50 181 500] [--runs 3] [--draws 400]``.
Reads CONFLICT_TRENDS_REAL_DATA. Progress goes to stderr; stdout is one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from analysis.geography import load_boundaries
from analysis.models.hhh4 import HHH4Spec
from analysis.models.spillover import fit_spillover_matrix, geography_matrices, spillover_forecast
from analysis.models.spillover_scenarios import focus_scenarios
from analysis.panel import build_panel

START, END = "2010-01", "2020-12"


def real_panel(path: Path):
    """Counts (R, T), ids, periods, order, cross and countries of the real regional panel."""
    d = pd.read_csv(path, usecols=["adm1_iso", "date_start"])
    events = pd.DataFrame(
        {
            "region_id": d["adm1_iso"].astype(str),
            "date_start": pd.to_datetime(d["date_start"]),
            "fatalities": 0.0,
        }
    )
    boundaries = load_boundaries()
    countries = sorted(boundaries.regions["country"].unique())
    panel = build_panel(events, boundaries, countries, START, END, "month")
    wide = panel.pivot(index="region_id", columns="period", values="events").sort_index()
    ids = list(wide.index)
    order, cross, ctry = geography_matrices(ids, boundaries)
    return wide.to_numpy(), ids, pd.DatetimeIndex(wide.columns), order, cross, ctry


def sized(base, n_units: int):
    """The first ``n_units`` units of the panel tiled as often as needed (copies unconnected)."""
    counts, ids, periods, order, cross, ctry = base
    n = len(ids)
    copies = -(-n_units // n)
    big_order = np.full((n * copies, n * copies), 999, dtype=int)
    big_cross = np.ones((n * copies, n * copies), dtype=bool)
    for c in range(copies):
        s = slice(c * n, (c + 1) * n)
        big_order[s, s] = order
        big_cross[s, s] = cross
    keep = slice(0, n_units)
    tile_ids = [f"{r}~{c}" if c else r for c in range(copies) for r in ids]
    return (
        np.tile(counts, (copies, 1))[keep],
        tile_ids[keep],
        periods,
        big_order[keep, keep],
        big_cross[keep, keep],
        np.tile(ctry, copies)[keep],
    )


def one_run(panel, horizon: int, draws: int, paths: int, seed: int) -> dict[str, float]:
    counts, ids, periods, order, cross, ctry = panel
    focus = [ids[int(np.argmax(counts[:, -12:].sum(axis=1)))]]
    spec = HHH4Spec(periods_per_year=12, activity_window=12)
    wall, cpu = [time.perf_counter()], [time.process_time()]

    def tick() -> None:
        wall.append(time.perf_counter())
        cpu.append(time.process_time())

    model = fit_spillover_matrix(
        counts, ids, periods, order, cross, ctry, freq="month", spec=spec,
        endemic_effects="country", focus_trend=focus, damping=0.8,
    )  # fmt: skip
    tick()
    spillover_forecast(model, horizon, focus=focus, n_draws=draws, n_paths=paths, seed=seed)
    tick()
    focus_scenarios(model, horizon, focus, n_draws=draws // 2, n_paths=2 * paths, seed=seed)
    tick()
    out = {}
    for i, key in enumerate(("fit", "intervals", "scenarios")):
        out[key] = wall[i + 1] - wall[i]
        out[f"{key}_cpu"] = cpu[i + 1] - cpu[i]
    out["total"] = wall[-1] - wall[0]
    out["total_cpu"] = cpu[-1] - cpu[0]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[50, 181, 500])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--horizon", type=int, default=12)
    ap.add_argument("--draws", type=int, default=400, help="parameter draws of the intervals")
    ap.add_argument("--paths", type=int, default=50, help="paths per draw")
    args = ap.parse_args(argv)
    root = Path(__file__).resolve().parents[1]
    default = root.parent / "shared/data/ged211_west_africa.csv"
    path = Path(os.environ.get("CONFLICT_TRENDS_REAL_DATA", str(default)))
    if not path.exists():
        raise SystemExit(f"{path}: no GED file; set CONFLICT_TRENDS_REAL_DATA to the UCDP CSV")
    base = real_panel(path)
    rows = []
    for n in args.sizes:
        panel = sized(base, n)
        runs = []
        for r in range(args.runs):
            runs.append(one_run(panel, args.horizon, args.draws, args.paths, seed=r))
            print(f"{n} units, run {r + 1}: {runs[-1]}", file=sys.stderr, flush=True)
        weighted = (panel[3] >= 1) & (panel[3] <= HHH4Spec().max_order)
        _, label = connected_components(csr_matrix(weighted), directed=False)
        row = {
            "units": n,
            "events": int(panel[0].sum()),
            "events_per_unit": round(float(panel[0].sum()) / n, 1),
            "largest_group": int(np.bincount(label).max()),
            "weighted_pairs_per_unit": round(float(weighted.sum(axis=1).mean()), 1),
        }
        for key in runs[0]:
            row[key] = round(statistics.median(x[key] for x in runs), 2)
        row["seconds_per_100_units"] = round(100 * row["total"] / n, 2)
        row["cpu_seconds_per_100_units"] = round(100 * row["total_cpu"] / n, 2)
        row["peak_rss_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
        rows.append(row)
    first = rows[0]
    for prev, row in zip(rows[:1] + rows[:-1], rows, strict=True):
        # time per unit relative to the smallest size: <= 1 means no faster than linear (CPU
        # seconds too: wall-clock seconds on a shared machine follow its load)
        for key in ("total", "total_cpu"):
            row[f"{key}_per_unit_vs_smallest"] = round(
                (row[key] / row["units"]) / (first[key] / first["units"]), 2
            )
        row["total_cpu_per_unit_vs_previous"] = round(
            (row["total_cpu"] / row["units"]) / (prev["total_cpu"] / prev["units"]), 2
        )
    print(
        json.dumps(
            {
                "benchmark": "spillover_scale",
                "horizon": args.horizon,
                "draws": args.draws,
                "paths": args.paths,
                "runs": args.runs,
                "periods": len(base[2]),
                "load_average": os.getloadavg()[0],
                "sizes": rows,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
