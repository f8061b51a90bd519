"""Spillover model on real UCDP GED events: does it predict where violence appears next?

For each origin month 2014-01 .. 2019-12 the model is fitted on monthly counts 2005-01 .. origin
for every admin-1 unit of Mali, Burkina Faso, Niger, Mauritania and Senegal, and predicts for
every unit with no event in the previous 12 months (origin included) P(at least one event in
the next 12 months). Scores: Brier score, Brier skill against (a) the base rate and (b) the rule
"a neighbour had an event in the last 12 months", ROC AUC, a reliability table. Baseline
probabilities are out of sample: frequencies among eligible units at earlier origins whose
12-month outcome was known at the origin (origins from 2006-01). The raw 0/1 rule is scored too.

Then the JNIM expansion from Mali into Burkina Faso: what the model said at the end of 2016 and
2017 for each Burkina Faso region, and what happened in the following 12 months.

Usage: ``python benchmarks/spillover_real.py [--endemic country|region] [--weights ...]``.
Reads CONFLICT_TRENDS_REAL_DATA (default ../shared/data/ged211_west_africa.csv). Progress goes
to stderr; the last line of stdout is the JSON result.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.geography import load_boundaries, neighbours
from analysis.models.hhh4 import HHH4Spec
from analysis.models.spillover import fit_spillover_matrix, geography_matrices, spillover_forecast
from analysis.panel import build_panel

COUNTRIES = ["MLI", "BFA", "NER", "MRT", "SEN"]
BINS = [0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0]


def load_events(path: Path) -> pd.DataFrame:
    d = pd.read_csv(path, usecols=["adm1_iso", "date_start", "side_a", "side_b"])
    jnim = d["side_a"].fillna("").str.contains("JNIM") | d["side_b"].fillna("").str.contains("JNIM")
    return pd.DataFrame(
        {
            "region_id": d["adm1_iso"].astype(str),
            "date_start": pd.to_datetime(d["date_start"]),
            "fatalities": 0.0,
            "jnim": jnim.to_numpy(),
        }
    )


def auc(p: np.ndarray, y: np.ndarray) -> float:
    """ROC AUC by the rank (Mann-Whitney) formula, ties counted half."""
    from scipy.stats import rankdata

    y = y.astype(bool)
    n1, n0 = y.sum(), (~y).sum()
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(p)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def brier(p: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


def reliability(p: np.ndarray, y: np.ndarray) -> list[dict]:
    rows = []
    idx = np.clip(np.digitize(p, BINS[1:-1]), 0, len(BINS) - 2)
    for b in range(len(BINS) - 1):
        m = idx == b
        if m.any():
            rows.append(
                {
                    "bin": [BINS[b], BINS[b + 1]],
                    "n": int(m.sum()),
                    "mean_predicted": float(p[m].mean()),
                    "observed_frequency": float(y[m].mean()),
                    "events": int(y[m].sum()),
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--endemic", default="country", choices=["country", "region", "none"])
    ap.add_argument("--weights", default="power_law", choices=["power_law", "first_order"])
    ap.add_argument("--start", default="2005-01")
    ap.add_argument("--draws", type=int, default=100)
    ap.add_argument("--paths", type=int, default=100)
    ap.add_argument("--first-origin", default="2014-01")
    ap.add_argument("--last-origin", default="2019-12")
    ap.add_argument("--window", type=int, default=0, help="training months (0: from --start)")
    ap.add_argument("--every", type=int, default=1, help="months between origins")
    ap.add_argument("--point", default="plugin", choices=["plugin", "mean"])
    ap.add_argument("--activity", type=int, default=12, help="activity window (0: none)")
    ap.add_argument("--no-trend", action="store_true", help="no endemic trend")
    ap.add_argument(
        "--backtest",
        action="store_true",
        help="instead: rolling-origin CRPS backtest of the spillover forecaster vs baselines",
    )
    args = ap.parse_args(argv)
    if args.backtest:
        return backtest_main(args)

    path = Path(
        os.environ.get("CONFLICT_TRENDS_REAL_DATA", "../shared/data/ged211_west_africa.csv")
    )
    events = load_events(path)
    boundaries = load_boundaries()
    panel = build_panel(events, boundaries, COUNTRIES, args.start, "2020-12", "month")
    wide = panel.pivot(index="region_id", columns="period", values="events").sort_index()
    ids = list(wide.index)
    periods = pd.DatetimeIndex(wide.columns)
    counts = wide.to_numpy()
    jnim_panel = build_panel(
        events[events["jnim"]], boundaries, COUNTRIES, args.start, "2020-12", "month"
    )
    jnim = (
        jnim_panel.pivot(index="region_id", columns="period", values="events")
        .reindex(index=ids, columns=periods)
        .to_numpy()
    )
    order, cross, countries = geography_matrices(ids, boundaries)
    names = panel.drop_duplicates("region_id").set_index("region_id")["region_name"]
    first_nb = order == 1
    spec = HHH4Spec(
        weights=args.weights,
        periods_per_year=12,
        activity_window=args.activity,
        trend=not args.no_trend,
    )

    def window_any(t0: int, t1: int) -> np.ndarray:
        """Any event in columns t0..t1 inclusive, per region."""
        return counts[:, max(t0, 0) : t1 + 1].sum(axis=1) > 0

    # Out-of-sample baseline frequencies from all origins with a known outcome.
    t_hist0 = int(np.searchsorted(periods, pd.Timestamp("2006-01-01")))
    hist = []  # (t, eligible mask, neighbour-rule mask, outcome)
    for t in range(t_hist0, len(periods) - 12):
        elig = ~window_any(t - 11, t)
        rule = (first_nb & window_any(t - 11, t)[:, None]).any(axis=0)
        hist.append((t, elig, rule, window_any(t + 1, t + 12)))

    def baselines(t: int) -> tuple[float, float, float]:
        """Base rate, and rates with/without the neighbour rule, from origins <= t - 12."""
        n = k = n1 = k1 = n0 = k0 = 0
        for th, elig, rule, out in hist:
            if th > t - 12:
                break
            n += elig.sum()
            k += (elig & out).sum()
            n1 += (elig & rule).sum()
            k1 += (elig & rule & out).sum()
            n0 += (elig & ~rule).sum()
            k0 += (elig & ~rule & out).sum()
        # add-one smoothing keeps early estimates away from exactly 0 or 1
        return (k + 1) / (n + 2), (k1 + 1) / (n1 + 2), (k0 + 1) / (n0 + 2)

    origins = pd.date_range(args.first_origin, args.last_origin, freq=f"{args.every}MS")
    rows = []
    kept = {}
    fit_times, sim_times = [], []
    at_bound_counts: dict[str, int] = {}
    estimates = []
    for origin in origins:
        t = int(np.searchsorted(periods, origin))
        story = origin in (pd.Timestamp("2016-12-01"), pd.Timestamp("2017-12-01"))
        t_start = time.perf_counter()
        t0 = max(0, t + 1 - args.window) if args.window else 0
        model = fit_spillover_matrix(
            counts[:, t0 : t + 1], ids, periods[t0 : t + 1], order, cross, countries,
            region_names=list(names.loc[ids]), freq="month", spec=spec,
            endemic_effects=args.endemic, profile=story,
        )  # fmt: skip
        fit_times.append(time.perf_counter() - t_start)
        for name in model.fit.at_bound:
            at_bound_counts[name] = at_bound_counts.get(name, 0) + 1
        tab = model.fit.table().set_index("name")
        estimates.append(
            {
                "origin": f"{origin:%Y-%m}",
                **{
                    k: float(tab.loc[k, "estimate"])
                    for k in ("lambda", "phi", "d", "psi", "cross_border_multiplier")
                    if k in tab.index
                },
                "group_sd": model.fit.spec.group_sd,
            }
        )
        t_start = time.perf_counter()
        focus = ["ML-5"] if story else []
        res = spillover_forecast(
            model, 12, focus=focus, n_draws=args.draws, n_paths=args.paths, seed=t,
            point=args.point,
        )  # fmt: skip
        sim_times.append(time.perf_counter() - t_start)
        if focus:
            kept[f"{origin:%Y-%m}"] = res
        elig = ~window_any(t - 11, t)
        rule = (first_nb & window_any(t - 11, t)[:, None]).any(axis=0)
        out = window_any(t + 1, t + 12)
        base, p_rule1, p_rule0 = baselines(t)
        reg = res.regions
        for i in np.flatnonzero(elig):
            rows.append(
                {
                    "origin": origin,
                    "region_id": ids[i],
                    "country": countries[i],
                    "p_model": float(reg["p_any"].iloc[i]),
                    "p_base": base,
                    "p_rule": p_rule1 if rule[i] else p_rule0,
                    "rule": bool(rule[i]),
                    "outcome": bool(out[i]),
                }
            )
        print(
            f"{origin:%Y-%m} fit {fit_times[-1]:.1f}s sim {sim_times[-1]:.1f}s "
            f"eligible {elig.sum()} events-next {int((elig & out).sum())}",
            file=sys.stderr,
        )

    df = pd.DataFrame(rows)
    y = df["outcome"].to_numpy(float)
    clim = float(y.mean())
    scores = {}
    for col in ("p_model", "p_base", "p_rule"):
        scores[col] = {"brier": brier(df[col].to_numpy(), y), "auc": auc(df[col].to_numpy(), y)}
    rule01 = df["rule"].to_numpy(float)
    bs_model = scores["p_model"]["brier"]
    result = {
        "benchmark": "spillover_real",
        "data": str(path),
        "countries": COUNTRIES,
        "model": {
            "endemic_effects": args.endemic,
            "weights": args.weights,
            "train_start": args.start,
            "train_window_months": args.window or None,
            "origin_every_months": args.every,
            "point": args.point,
            "activity_window": args.activity,
            "trend": not args.no_trend,
            "n_draws": args.draws,
            "n_paths": args.paths,
        },  # fmt: skip
        "origins": [f"{origins[0]:%Y-%m}", f"{origins[-1]:%Y-%m}"],
        "n_forecasts": int(len(df)),
        "n_positive": int(y.sum()),
        "base_rate_in_sample": clim,
        "brier": {
            "model": bs_model,
            "base_rate_out_of_sample": scores["p_base"]["brier"],
            "neighbour_rule_calibrated": scores["p_rule"]["brier"],
            "neighbour_rule_0_1": brier(rule01, y),
            "climatology_in_sample": brier(np.full_like(y, clim), y),
        },
        "brier_skill": {
            "vs_base_rate_out_of_sample": 1 - bs_model / scores["p_base"]["brier"],
            "vs_climatology_in_sample": 1 - bs_model / brier(np.full_like(y, clim), y),
            "vs_neighbour_rule_calibrated": 1 - bs_model / scores["p_rule"]["brier"],
            "vs_neighbour_rule_0_1": 1 - bs_model / brier(rule01, y),
        },
        "auc": {
            "model": scores["p_model"]["auc"],
            "neighbour_rule": auc(rule01, y),
        },
        "reliability": reliability(df["p_model"].to_numpy(), y),
        "by_country": {
            c: {
                "n": int((df["country"] == c).sum()),
                "positives": int(df.loc[df["country"] == c, "outcome"].sum()),
                "brier_model": brier(
                    df.loc[df["country"] == c, "p_model"].to_numpy(),
                    df.loc[df["country"] == c, "outcome"].to_numpy(float),
                ),
                "brier_base": brier(
                    df.loc[df["country"] == c, "p_base"].to_numpy(),
                    df.loc[df["country"] == c, "outcome"].to_numpy(float),
                ),
                "mean_p_model": float(df.loc[df["country"] == c, "p_model"].mean()),
            }  # fmt: skip
            for c in COUNTRIES
        },
        "timing_seconds": {
            "note": "fits at 2016-12 and 2017-12 include profile-likelihood intervals",
            "fit_median": float(np.median(fit_times)),
            "simulate_median": float(np.median(sim_times)),
            "total": float(np.sum(fit_times) + np.sum(sim_times)),
        },
        "at_bound_fits": at_bound_counts,
        "estimates_first_last": [estimates[0], estimates[-1]],
    }

    # JNIM expansion into Burkina Faso.
    bf = [i for i, c in enumerate(countries) if c == "BFA"]
    stories = {}
    for key, res in kept.items():
        t = int(np.searchsorted(periods, pd.Timestamp(f"{key}-01")))
        reg = res.regions
        entries = []
        for i in bf:
            r = reg.iloc[i]
            entries.append(
                {
                    "region_id": ids[i],
                    "region_name": str(names.loc[ids[i]]),
                    "borders_mali": bool(
                        any(
                            n.startswith("ML-")
                            for n in neighbours(ids[i], 1, boundaries=boundaries)
                        )
                    ),
                    "events_prev_12m": int(counts[i, t - 11 : t + 1].sum()),
                    "p_any": round(float(r["p_any"]), 3),
                    "p_any_ci": [round(float(r["p_any_low"]), 3), round(float(r["p_any_high"]), 3)],
                    "share_neighbour": round(float(r["share_neighbour"]), 3),
                    "events_next_12m": int(counts[i, t + 1 : t + 13].sum()),
                    "jnim_events_next_12m": int(np.nan_to_num(jnim[i, t + 1 : t + 13]).sum()),
                }
            )
        crow = res.countries.set_index("country").loc["BFA"]
        ptab = res.params.set_index("name")
        stories[key] = {
            "cross_border_multiplier_estimate_low_high": [
                round(float(ptab.loc["cross_border_multiplier", c]), 3)
                for c in ("estimate", "low", "high")
            ]
            if "cross_border_multiplier" in ptab.index
            else None,
            "bfa_p_any_country": round(float(crow["p_any"]), 3),
            "bfa_p_any_country_ci": [
                round(float(crow["p_any_low"]), 3),
                round(float(crow["p_any_high"]), 3),
            ],  # fmt: skip
            "mopti_attributable_total_bfa": round(float(crow["attributable_total"]), 3),
            "mopti_attributable_total_bfa_ci": [
                round(float(crow["attributable_total_low"]), 3),
                round(float(crow["attributable_total_high"]), 3),
            ],  # fmt: skip
            "regions": entries,
        }
    result["jnim_burkina_faso"] = stories
    print(json.dumps(result))
    return 0


def backtest_main(args) -> int:
    """CRPS / Brier backtest through analysis.evaluation (forecaster interface)."""
    from analysis.evaluation import backtest, scorecard

    path = Path(
        os.environ.get("CONFLICT_TRENDS_REAL_DATA", "../shared/data/ged211_west_africa.csv")
    )
    events = load_events(path)
    boundaries = load_boundaries()
    panel = build_panel(events, boundaries, COUNTRIES, args.start, "2020-12", "month")
    t0 = time.perf_counter()
    bt = backtest(
        panel,
        ["spillover", "pooled_nb", "nb_climatology", "conflictology", "recent_mean_6", "zero"],
        start=args.first_origin,
        end=args.last_origin,
        horizon=3,
        n_samples=500,
        seed=1,
    )
    card = scorecard(bt)
    print(
        json.dumps(
            {
                "benchmark": "spillover_backtest",
                "origins": [args.first_origin, args.last_origin],
                "horizon": 3,
                "seconds": time.perf_counter() - t0,
                "scorecard": card,
            },
            default=str,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
