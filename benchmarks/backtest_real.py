"""Rolling-origin backtest on the real UCDP GED file (Mali, Burkina Faso, Niger, Mauritania,
Senegal; every admin-1 unit, zero-filled), all events and JNIM events, monthly.

Origins 2016-01 .. 2020-06, horizons 1-6. Prints one scorecard per series; the last line is
JSON with both. Each series also gets ``dev`` and ``held_out`` scorecards: origins before and
from ``--split`` (default 2018-01). Settings were chosen on the ``dev`` origins only; the
``held_out`` part is the check that they did not merely fit the early years. Usage::

    CONFLICT_TRENDS_REAL_DATA=../shared/data/ged211_west_africa.csv \
        .venv/bin/python benchmarks/backtest_real.py [--samples 1000] [--models a,b,...]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.evaluation import BacktestResult, backtest, paired_test, scorecard  # noqa: E402
from analysis.models.forecast import History  # noqa: E402

COUNTRIES = {
    "MLI": "Mali",
    "BFA": "Burkina Faso",
    "NER": "Niger",
    "MRT": "Mauritania",
    "SEN": "Senegal",
}
DEFAULT_MODELS = (
    "zero,last_value,recent_mean_3,recent_mean_6,conflictology,nb_climatology,"
    "nb_glm,pooled_nb,local_level,ensemble,ensemble_hybrid,ets,sarimax,auto,stacking,hurdle"
)


def region_ids() -> list[str]:
    g = json.loads((ROOT / "analysis/data/admin1_west_africa.geojson").read_text())
    return sorted(
        f["properties"]["iso_3166_2"]
        for f in g["features"]
        if f["properties"]["adm0_a3"] in COUNTRIES
    )


def monthly_history(events: pd.DataFrame, ids: list[str], start: str, end: str) -> History:
    periods = pd.date_range(start, end, freq="MS")
    month = pd.to_datetime(events["date_start"]).dt.to_period("M").dt.to_timestamp()
    tab = pd.crosstab(events["adm1_iso"], month)
    tab = tab.reindex(index=ids, columns=periods, fill_value=0)
    return History(tab.to_numpy().astype(np.int64), tuple(ids), pd.DatetimeIndex(periods))


def split_scorecards(bt: BacktestResult, split: str) -> dict:
    """Scorecards of the origins before ``split`` (``dev``) and from it on (``held_out``)."""
    cut = pd.Timestamp(split)
    out = {}
    for part, keep in (("dev", lambda o: o < cut), ("held_out", lambda o: o >= cut)):
        origins = tuple(o for o in bt.origins if keep(o))
        if not origins:
            continue
        sub = dataclasses.replace(
            bt, scores=bt.scores[bt.scores["origin"].map(keep)], origins=origins
        )
        sc = scorecard(sub)
        # paired tests exist only where the scorecard has a baseline and another model
        out[part] = {k: sc.get(k) for k in ("models", "best_baseline", "best_non_baseline",
                                             "origins", "n_origins", "paired_tests")}  # fmt: skip
        out[part]["paired_vs_best_baseline"] = paired_vs_best_baseline(sub, sc)
    return out


def paired_vs_best_baseline(bt: BacktestResult, sc: dict) -> list[dict]:
    """Paired test of every non-baseline model against the best baseline."""
    base = sc["best_baseline"]
    if base is None:
        return []
    return [paired_test(bt.scores, m, base) for m in bt.models if not bt.is_baseline[m]]


def _brief(sc: dict) -> dict:
    """Per model: CRPS, randomised-PIT and closed-interval 80% coverage (stderr progress)."""
    return {
        r["model"]: [
            round(r["crps"], 4),
            round(r["pit_coverage_80"], 3),
            round(r["closed_coverage_80"], 3),
        ]
        for r in sc["models"]
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--models", default=DEFAULT_MODELS)
    ap.add_argument("--start", default="2016-01")
    ap.add_argument("--end", default="2020-06")
    ap.add_argument("--series", default="all,jnim")
    ap.add_argument("--split", default="2018-01")
    args = ap.parse_args()
    path = os.environ.get(
        "CONFLICT_TRENDS_REAL_DATA", str(ROOT.parent / "shared/data/ged211_west_africa.csv")
    )
    ev = pd.read_csv(path)
    ev = ev[ev["country"].isin(COUNTRIES.values())]
    jnim = ev["side_a"].astype(str).str.contains("JNIM") | ev["side_b"].astype(str).str.contains(
        "JNIM"
    )
    ids = region_ids()
    models = args.models.split(",")
    out = {"data": Path(path).name, "regions": len(ids), "models": models}
    for name in args.series.split(","):
        sub = ev if name == "all" else ev[jnim]
        hist = monthly_history(sub, ids, "2008-01-01", "2020-12-01")
        t0 = time.perf_counter()
        bt = backtest(
            hist, models, start=args.start, end=args.end, horizon=6, n_samples=args.samples, seed=1
        )
        sc = scorecard(bt)
        sc["seconds"] = round(time.perf_counter() - t0, 1)
        sc["events_in_window"] = int(hist.counts.sum())
        sc["paired_vs_best_baseline"] = paired_vs_best_baseline(bt, sc)
        sc["split"] = split_scorecards(bt, args.split)
        out[name] = sc
        print(name, json.dumps(_brief(sc)), file=sys.stderr, flush=True)
        for part, psc in sc["split"].items():
            print(f"{name} {part}", json.dumps(_brief(psc)), file=sys.stderr, flush=True)
    print(json.dumps(out, default=float))


if __name__ == "__main__":
    main()
