"""Onset of violence in quiet units on real UCDP GED events: the onset model against naive rules.

Target: at each origin month ``t`` an admin-1 unit of the 11 West African countries of the
shipped boundaries (181 units; Benin has no events in the file) is *quiet* when it had no event
(of the selection: any actor by default) in the 12 months up to ``t``; the outcome is at least
one event in the next 12 months.

Design (nothing after an origin is used to predict at that origin):

- **selection on development data**: features, neighbour decay, link and penalty are chosen by
  forward-chaining cross-validation with yearly folds 2003-2014 (a fold's model sees only rows
  whose outcome window ended before the fold's first origin); every candidate's CV log score and
  Brier score are printed, so each kept feature shows its evidence;
- **scorecards**: at every evaluation origin (every ``--every`` months) each method is refitted
  on rows whose outcome had ended by the origin, then scored on the quiet units of the origin:
  dev origins 2005-2015 and held-out origins 2016-2019 (outcomes to 2020-12);
- **methods**: the onset model (:mod:`analysis.models.onset`); the base rate; the neighbour
  rule ("a first-order neighbour had an event in the last 12 months", its two rates estimated on
  the training rows); distance decay (logistic in log adjacency order to the nearest active
  unit); a plain (unpenalised logit) regression on the same features; with ``--hhh4`` also the
  hhh4 spillover model's P(at least one event) at quarterly held-out origins;
- scores: Brier, Brier skill against every naive rule, ROC AUC, log score, a reliability table,
  interval checks (Monte Carlo error, plug-in inside interval), and the Burkina Faso 2017-2018
  story (JNIM and Ansarul Islam's spread).

Usage: ``python benchmarks/spillover_real.py [--hhh4] [--actors jihadist|REGEX] [--no-select]``
(about 5 minutes; ``--hhh4`` adds 16 hhh4 fits of 1.5-2 minutes each on a loaded machine).
Reads CONFLICT_TRENDS_REAL_DATA. Progress goes to stderr; stdout is one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.geography import load_boundaries
from analysis.models.onset import (
    DEFAULT_FEATURES,
    FEATURES,
    OnsetSpec,
    fit_onset,
    onset_design,
    onset_geography,
)
from analysis.models.onset_backtest import onset_scorecard, rolling_onset_evaluation
from analysis.panel import build_panel
from analysis.scoring import brier, log_score

#: GED 21.1 dyad names of the jihadist groups active in Burkina Faso ("IS" is Islamic State).
JIHADIST_BF = ("JNIM", "Ansaroul Islam", "IS", "AQIM", "Ansar Dine", "MUJAO")
START = "1989-01"
END = "2020-12"


def load_events(path: Path) -> pd.DataFrame:
    d = pd.read_csv(path, usecols=["adm1_iso", "date_start", "side_a", "side_b", "country"])
    sides = d["side_a"].fillna("") + " | " + d["side_b"].fillna("")
    jihadist = d["side_a"].isin(JIHADIST_BF) | d["side_b"].isin(JIHADIST_BF)
    return pd.DataFrame(
        {
            "region_id": d["adm1_iso"].astype(str),
            "date_start": pd.to_datetime(d["date_start"]),
            "fatalities": 0.0,
            "sides": sides,
            "country": d["country"],
            "jihadist": jihadist.to_numpy(),
        }
    )


def matrix(events: pd.DataFrame, boundaries, countries, ids=None):
    panel = build_panel(events, boundaries, countries, START, END, "month")
    wide = panel.pivot(index="region_id", columns="period", values="events").sort_index()
    if ids is not None:
        wide = wide.reindex(ids)
    return wide.to_numpy(), list(wide.index), pd.DatetimeIndex(wide.columns), panel


def scorecard(pred: pd.DataFrame, methods: list[str]) -> dict:
    return _round(onset_scorecard(pred, methods))


def _round(obj):
    if isinstance(obj, float):
        return round(obj, 5)
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_round(v) for v in obj]
    return obj


# --------------------------------------------------------------------------- selection


def cv_score(design: pd.DataFrame, spec: OnsetSpec, folds, horizon: int) -> tuple[float, float]:
    """Pooled log score and Brier over forward-chaining yearly folds."""
    ys, ps = [], []
    for train_end, test_origins in folds:
        train = design[design["origin"] <= train_end - horizon]
        test = design[design["origin"].isin(test_origins)]
        if test.empty:
            continue
        if spec.features:
            p = fit_onset(train, spec, cluster=None).predict(test)
        else:
            y0 = train["onset"].to_numpy(float)
            p = np.full(len(test), y0.mean())
        ys.append(test["onset"].to_numpy(float))
        ps.append(p)
    y, p = np.concatenate(ys), np.concatenate(ps)
    return log_score(p, y), brier(p, y)


def select(designs: dict[float, pd.DataFrame], folds, base: OnsetSpec, horizon: int, log):
    """Decay, then forward feature selection, then link and penalty, all by CV log score."""
    evidence: dict = {}
    full = replace(base, features=tuple(FEATURES))
    decay_scores = {}
    for d, des in designs.items():
        decay_scores[d] = cv_score(des, replace(full, decay=d), folds, horizon)
        log(
            f"decay {d}: all features CV log {decay_scores[d][0]:.5f} "
            f"brier {decay_scores[d][1]:.5f}"
        )
    decay = min(decay_scores, key=lambda d: decay_scores[d][0])
    evidence["decay_all_features"] = {str(k): _pair(v) for k, v in decay_scores.items()}
    design = designs[decay]
    chosen: list[str] = []
    current = cv_score(design, replace(base, features=(), decay=decay), folds, horizon)
    steps = [{"added": None, "cv": _pair(current)}]
    remaining = list(FEATURES)
    while remaining:
        trials = {
            f: cv_score(design, replace(base, features=(*chosen, f), decay=decay), folds, horizon)
            for f in remaining
        }
        best = min(trials, key=lambda f: trials[f][0])
        steps.append(
            {
                "candidates": {f: _pair(v) for f, v in sorted(trials.items())},
                "best": best,
            }
        )
        # Kept only if both the log score and the Brier score improve.
        if trials[best][0] < current[0] and trials[best][1] < current[1]:
            chosen.append(best)
            remaining.remove(best)
            current = trials[best]
            steps[-1]["added"] = best
            steps[-1]["cv"] = _pair(current)
            log(f"+ {best}: CV log {current[0]:.5f} brier {current[1]:.5f}")
        else:
            steps[-1]["added"] = None
            log(f"stop: best candidate {best} does not improve both scores")
            break
    evidence["forward_selection"] = steps
    spec = replace(base, features=tuple(chosen), decay=decay)
    drop = {}
    for f in chosen:
        rest = tuple(x for x in chosen if x != f)
        drop[f] = _pair(cv_score(design, replace(spec, features=rest), folds, horizon))
    evidence["forward_cv"] = _pair(current)
    evidence["drop_one_cv"] = drop
    # Backward pass: a feature the others make redundant has not earned its place.
    removed = []
    while len(chosen) > 1:
        drop = {
            f: cv_score(
                design,
                replace(spec, features=tuple(x for x in chosen if x != f)),
                folds,
                horizon,
            )
            for f in chosen
        }
        worst = min(drop, key=lambda f: drop[f][0])
        if drop[worst][0] < current[0] and drop[worst][1] < current[1]:
            chosen.remove(worst)
            removed.append({"removed": worst, "cv": _pair(drop[worst])})
            current = drop[worst]
            spec = replace(spec, features=tuple(chosen))
            log(f"- {worst}: CV log {current[0]:.5f} brier {current[1]:.5f}")
        else:
            break
    evidence["backward_elimination"] = removed
    evidence["selected_cv"] = _pair(current)
    grid = {}
    for link in ("cloglog", "logit"):
        for pen in (0.0, 0.001, 0.003, 0.01, 0.03, 0.1):
            grid[f"{link}/{pen:g}"] = cv_score(
                design, replace(spec, link=link, penalty=pen), folds, horizon
            )
    best = min(grid, key=lambda k: grid[k][0])
    evidence["link_penalty_cv"] = {k: _pair(v) for k, v in grid.items()}
    link, pen = best.split("/")
    log(f"link/penalty {best}: CV log {grid[best][0]:.5f}")
    return replace(spec, link=link, penalty=float(pen)), evidence


def _pair(v: tuple[float, float]) -> dict:
    return {"log_score": round(v[0], 5), "brier": round(v[1], 5)}


# --------------------------------------------------------------------------- hhh4


def hhh4_p_any(counts, ids, periods, boundaries, origins, horizon, log) -> dict[int, np.ndarray]:
    """The hhh4 spillover model's P(at least one event within the horizon) per unit."""
    from analysis.models.hhh4 import HHH4Spec
    from analysis.models.spillover import (
        fit_spillover_matrix,
        geography_matrices,
        spillover_forecast,
    )

    order, cross, countries = geography_matrices(ids, boundaries)
    spec = HHH4Spec(periods_per_year=12, activity_window=12)
    t0 = int(np.searchsorted(periods, pd.Timestamp("2005-01-01")))
    out = {}
    for t in origins:
        start = time.perf_counter()
        model = fit_spillover_matrix(
            counts[:, t0 : t + 1], ids, periods[t0 : t + 1], order, cross, countries,
            freq="month", spec=spec, endemic_effects="country", profile=False,
        )  # fmt: skip
        res = spillover_forecast(model, horizon, n_draws=100, n_paths=100, seed=t)
        out[t] = res.regions["p_any"].to_numpy(float)
        log(f"hhh4 {periods[t]:%Y-%m}: {time.perf_counter() - start:.1f}s")
    return out


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--actors",
        default="",
        help="'jihadist' (JNIM, Ansaroul Islam, IS, AQIM, Ansar Dine, MUJAO) or a regex on "
        "side_a/side_b (default: any actor)",
    )
    ap.add_argument("--quiet", type=int, default=12)
    ap.add_argument("--horizon", type=int, default=12)
    ap.add_argument("--every", type=int, default=3, help="months between evaluation origins")
    ap.add_argument("--hhh4", action="store_true", help="also score hhh4 p_any (slow)")
    ap.add_argument("--no-select", action="store_true", help="use the package default spec")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    started = time.perf_counter()
    path = Path(
        os.environ.get("CONFLICT_TRENDS_REAL_DATA", "../shared/data/ged211_west_africa.csv")
    )
    events = load_events(path)
    boundaries = load_boundaries()
    # Every country of the shipped boundaries (Benin has no events: its units are quiet).
    countries = sorted(boundaries.regions["country"].unique())
    all_counts, ids, periods, panel = matrix(events, boundaries, countries)
    if args.actors == "jihadist":
        sel = events[events["jihadist"]]
        counts = matrix(sel, boundaries, countries, ids)[0]
    elif args.actors:
        sel = events[events["sides"].str.contains(args.actors, regex=True)]
        counts = matrix(sel, boundaries, countries, ids)[0]
    else:
        counts = all_counts
    geo = onset_geography(ids, boundaries)
    h = args.horizon
    base = OnsetSpec(quiet=args.quiet, horizon=h)
    first = int(np.searchsorted(periods, pd.Timestamp("1994-12-01")))
    last = len(periods) - 1 - h
    all_origins = list(range(first, last + 1))
    month = {t: periods[t] for t in all_origins}

    def idx(stamp: str) -> int:
        return int(np.searchsorted(periods, pd.Timestamp(stamp)))

    designs = {}
    for d in (1.0, 2.0, 3.0):
        designs[d] = onset_design(
            counts, all_origins, geo, replace(base, features=tuple(FEATURES), decay=d), all_counts
        )
    log(f"design rows {len(designs[2.0])}, units {len(ids)}, countries {countries}")

    # Yearly forward-chaining folds on development data (outcomes ended by 2015-12).
    folds = []
    for year in range(2003, 2015):
        test_origins = [t for t in all_origins if month[t].year == year]
        folds.append((test_origins[0], test_origins))
    if args.no_select:
        spec, evidence = replace(base, features=DEFAULT_FEATURES), {"skipped": True}
    else:
        spec, evidence = select(designs, folds, base, h, log)
    design = designs.get(spec.decay)
    if design is None:
        design = onset_design(
            counts, all_origins, geo, replace(spec, features=tuple(FEATURES)), all_counts
        )
    # The naive rules need nb_first and near_order whatever the model uses.
    log(f"spec: {spec}")

    every = args.every
    dev_origins = [t for t in all_origins if idx("2005-01-01") <= t <= idx("2015-12-01")]
    held_origins = [t for t in all_origins if t >= idx("2016-01-01")]
    dev_origins = [t for t in dev_origins if (periods[t].month % every) == 0]
    held_origins = [t for t in held_origins if (periods[t].month % every) == 0]
    methods = ["onset_model", "base_rate", "neighbour_rule", "distance_decay", "plain_logistic"]
    dev = rolling_onset_evaluation(design, dev_origins, spec)
    held = rolling_onset_evaluation(design, held_origins, spec)
    result: dict = {
        "benchmark": "spillover_real (onset)",
        "data": str(path),
        "countries": countries,
        "n_units": len(ids),
        "selection": args.actors or "any actor",
        "quiet_periods": args.quiet,
        "horizon": h,
        "evaluation_origins_every_months": every,
        "spec": {
            "features": list(spec.features),
            "link": spec.link,
            "penalty": spec.penalty,
            "decay": spec.decay,
            "max_order": spec.max_order,
        },
        "cv_evidence": evidence,
        "dev": scorecard(dev, methods) | {"origins": _span(periods, dev_origins)},
        "held_out": scorecard(held, methods) | {"origins": _span(periods, held_origins)},
    }

    # Intervals at the held-out origins: Monte Carlo error, plug-in inside the interval.
    mc, inside, n_draws, cf_diff = [], [], [], []
    for t in held_origins:
        test = design[design["origin"] == t]
        fit = fit_onset(design[design["origin"] <= t - h], spec)
        pr = fit.predict_interval(test, seed=t)
        lo, hi = fit.interval_closed_form(test)
        mc.append(pr.mc_error.max())
        inside.append(float(np.mean((pr.p >= pr.low) & (pr.p <= pr.high))))
        n_draws.append(pr.n_draws)
        cf_diff.append(max(np.abs(pr.low - lo).max(), np.abs(pr.high - hi).max()))
    result["intervals_held_out"] = {
        "level": 0.95,
        "max_mc_error": round(float(max(mc)), 5),
        "share_plug_in_inside_interval": float(np.min(inside)),
        "n_draws_median": float(np.median(n_draws)),
        "n_draws_max": int(max(n_draws)),
        "max_abs_difference_from_closed_form": round(float(max(cf_diff)), 5),
    }
    final = fit_onset(design[design["origin"] <= idx("2019-12-01") - h], spec)
    result["coefficients_fit_2019_12"] = final.table().round(4).to_dict(orient="records")

    if args.hhh4:
        q_origins = [t for t in held_origins if periods[t].month % 3 == 0]
        hp = hhh4_p_any(counts, ids, periods, boundaries, q_origins, h, log)
        sub = held[held["origin"].isin(q_origins)].copy()
        pos = {r: i for i, r in enumerate(ids)}
        sub["hhh4_p_any"] = [
            hp[t][pos[r]] for t, r in zip(sub["origin"], sub["region_id"], strict=True)
        ]
        result["held_out_with_hhh4"] = scorecard(sub, [*methods, "hhh4_p_any"])

    result["burkina_faso_2017_2018"] = bf_story(
        events, boundaries, countries, ids, periods, design, spec, h, idx
    )
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, default=float))
    return 0


def _span(periods, origins) -> list[str]:
    return [f"{periods[origins[0]]:%Y-%m}", f"{periods[origins[-1]]:%Y-%m}"]


def bf_story(events, boundaries, countries, ids, periods, design, spec, h, idx) -> dict:
    """Burkina Faso units at the end of 2016 and 2017: probabilities and what followed."""
    jihad = events[events["jihadist"]]
    jcounts = matrix(jihad, boundaries, countries, ids)[0]
    names = boundaries.regions.set_index("region_id")["region_name"]
    story: dict = {"actors": list(JIHADIST_BF)}
    for stamp in ("2016-12-01", "2017-12-01"):
        t = idx(stamp)
        fit = fit_onset(design[design["origin"] <= t - h], spec)
        test = design[design["origin"] == t].reset_index(drop=True)
        pr = fit.predict_interval(test, seed=t)
        rank = pd.Series(pr.p).rank(ascending=False).to_numpy()
        entries = []
        for i, r in test.iterrows():
            if not str(r["region_id"]).startswith("BF-"):
                continue
            j = ids.index(r["region_id"])
            entries.append(
                {
                    "region_id": r["region_id"],
                    "region_name": str(names.get(r["region_id"], r["region_id"])),
                    "p_onset": round(float(pr.p[i]), 3),
                    "p_onset_ci": [round(float(pr.low[i]), 3), round(float(pr.high[i]), 3)],
                    "rank_among_quiet_units": int(rank[i]),
                    "onset_next_12m": bool(r["onset"]),
                    "jihadist_events_next_12m": int(jcounts[j, t + 1 : t + h + 1].sum()),
                }
            )
        entries.sort(key=lambda e: -e["p_onset"])
        bf_active = [
            ids[j]
            for j in range(len(ids))
            if ids[j].startswith("BF-") and ids[j] not in set(test["region_id"])
        ]
        story[stamp[:7]] = {
            "n_quiet_units_all_countries": int(len(test)),
            "base_rate_training": round(float(fit.n_onsets / fit.n_obs), 3),
            "bf_units_active_in_last_12m": bf_active,
            "bf_quiet_units": entries,
        }
    return story


if __name__ == "__main__":
    raise SystemExit(main())
