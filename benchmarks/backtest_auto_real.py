"""`conflict-trends backtest --model auto` with the baseline ladder at horizon 12 on real UCDP
data: the acceptance check of issue 10.

Writes ``benchmarks/real_study.yaml`` (or ``--study``: ``benchmarks/real_study_nigeria.yaml``,
``benchmarks/real_study_algeria.yaml``) with ``data`` set to ``$CONFLICT_TRENDS_REAL_DATA`` into
a temporary folder, runs the backtest command (the same code path as the command line) over
``--start``..``--end`` origins, splits the scores into ``dev`` (origins before ``--split``)
and ``held_out``, and prints one JSON line: per part, every model's CRPS, fair CRPS,
randomised-PIT 80% coverage and skill overall and by step, ``auto``'s CRPS and coverage in the
focus, active and quiet regions (``auto_by_group``: the focus's interval is the one a report
shows), whether ``auto`` is at or below the best baseline at every step, and the seconds
taken. ``--no-calibration`` runs ``auto`` without its spread calibration (``calibrate=False``)
to measure what the calibration costs and buys; ``--keep-scores PATH`` also writes the long
scores (one row per model, origin, region and step; PATH relative to the working directory)
for analysis by origin year or region group. Usage::

    CONFLICT_TRENDS_REAL_DATA=/path/ged.csv .venv/bin/python benchmarks/backtest_auto_real.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASELINES = ["zero", "last_value", "recent_mean_3", "recent_mean_6", "conflictology",
             "nb_climatology"]  # fmt: skip


def _by_group(scores: pd.DataFrame) -> dict:
    """CRPS and randomised-PIT 80% coverage per region group (focus, active, quiet)."""
    return {
        str(group): {
            "crps": float(rows["crps"].mean()),
            "pit_coverage_80": float(rows["pit_coverage_80"].mean()),
        }
        for group, rows in scores.groupby("group")
    }


def summarise(scores: pd.DataFrame, is_baseline: dict[str, bool]) -> dict:
    """Overall and per-step table of a backtest's long scores, and the acceptance checks."""
    from analysis.evaluation import BacktestResult, scorecard

    origins = tuple(sorted(pd.to_datetime(scores["origin"]).unique()))
    bt = BacktestResult(scores, tuple(is_baseline), is_baseline, origins, 12, 0, 0)
    sc = scorecard(bt, paired=False)
    keys = ("model", "crps", "crps_fair", "pit_coverage_80", "crps_skill_vs_best_baseline")
    steps = pd.DataFrame(sc["by_horizon"])
    base = steps[steps["is_baseline"]].groupby("step")["crps"].min()
    auto = steps[steps["model"] == "auto"].set_index("step")["crps"]
    return {
        "origins": sc["origins"],
        "n_origins": sc["n_origins"],
        "models": [{k: r[k] for k in keys} for r in sc["models"]],
        "by_horizon": [{"step": r["step"], **{k: r[k] for k in keys}} for r in sc["by_horizon"]],
        "auto_by_group": _by_group(scores[scores["model"] == "auto"]),
        "auto_at_or_below_best_baseline_every_step": bool((auto <= base).all()),
        "auto_skill_by_step": {int(h): float(1 - auto[h] / base[h]) for h in auto.index},
    }


def main() -> None:
    from typer.testing import CliRunner

    from analysis.cli import app
    from analysis.models import registry

    ap = argparse.ArgumentParser()
    ap.add_argument("--start", default="2014-01")
    ap.add_argument("--end", default="2019-12")
    ap.add_argument("--split", default="2018-01")
    ap.add_argument("--samples", type=int, default=400)
    ap.add_argument("--models", default="auto," + ",".join(BASELINES))
    ap.add_argument("--study", default="benchmarks/real_study.yaml", help="relative to the repo")
    ap.add_argument("--no-calibration", action="store_true", help="auto without spread calibration")
    ap.add_argument("--keep-scores", help="also write the long scores (CSV) here, for analysis")
    args = ap.parse_args()
    if args.no_calibration:
        module, cls, settings = registry.ENTRIES["auto"]
        registry.ENTRIES["auto"] = (module, cls, {**settings, "calibrate": False})
    data = os.environ.get("CONFLICT_TRENDS_REAL_DATA")
    if not data:
        sys.exit("set CONFLICT_TRENDS_REAL_DATA to the UCDP GED CSV")
    study = yaml.safe_load((ROOT / args.study).read_text())
    study["data"] = [str(Path(data).resolve())]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "real.yaml"
        path.write_text(yaml.safe_dump(study, sort_keys=False))
        out = Path(tmp) / "scores.csv"
        cmd = ["backtest", str(path), "--start", args.start, "--end", args.end, "--horizon",
               "12", "--samples", str(args.samples), "--json", "--quiet",
               "--out", str(out)]  # fmt: skip
        for m in args.models.split(","):
            cmd += ["--model", m]
        t0 = time.perf_counter()
        res = CliRunner().invoke(app, cmd)
        seconds = time.perf_counter() - t0
        if res.exit_code != 0:
            sys.exit(res.output)
        card = json.loads(res.stdout)
        scores = pd.read_csv(out, parse_dates=["origin", "period"])
        if args.keep_scores:
            from analysis.io import atomic_write_with

            atomic_write_with(args.keep_scores, lambda tmp: scores.to_csv(tmp, index=False))
    flags = {r["model"]: r["is_baseline"] for r in card["models"]}
    cut = pd.Timestamp(args.split)
    result = {
        "data": Path(data).name,
        "study": args.study,
        "seconds": round(seconds, 1),
        "timings": card.get("timings"),
        "samples": args.samples,
        "calibrate": not args.no_calibration,
        "all": summarise(scores, flags),
        "dev": summarise(scores[scores["origin"] < cut], flags),
        "held_out": summarise(scores[scores["origin"] >= cut], flags),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
