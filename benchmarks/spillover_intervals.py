"""How often the spillover model's intervals over parameter draws hold the true values.

Panels from :func:`analysis.simulate.known_spillover_panel` (the real Mali, Mauritania and
Senegal admin-1 geography, 96 months, known parameters), with endemic effects per country and
per region, each fitted with the matching ``endemic_effects``. Against the values the true
parameters give from the same last counts, per panel:

- the neighbour share's interval (``share_neighbour``, 3 months; every region);
- P(at least 1)'s interval (3 months; regions whose true P lies in (0.02, 0.98));
- the share attributable to the focus, the busiest Malian region over the last year (what the
  reports quote; 6 months; other regions whose true share is above 0.02);
- the z-score of the log neighbour weight, (estimate - truth) / standard error.

All intervals at 90%. Figures quoted in docs/internals.md ("Known limit: region-level endemic
effects") and in the methods appendix's known limits. About a minute per 10 panels of each
kind on one core.

Usage: ``python benchmarks/spillover_intervals.py [--panels 20] [--paths 50] [--draws N]``;
one JSON document on stdout, a line per panel on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.geography import load_boundaries  # noqa: E402
from analysis.models import hhh4  # noqa: E402
from analysis.models.spillover import (  # noqa: E402
    DEFAULT_PATHS,
    fit_spillover_matrix,
    spillover_forecast,
)
from analysis.models.spillover_scenarios import (  # noqa: E402
    focus_scenarios,
    simulate_scenarios,
)
from analysis.simulate import known_spillover_panel  # noqa: E402

LEVEL = 0.9


def one_panel(boundaries, seed: int, effects: str, paths: int, draws: int | None) -> dict:
    """Coverage of each interval on one simulated panel, and the neighbour weight's z-score."""
    p = known_spillover_panel(boundaries, seed, effects=effects)
    ids = list(p.region_ids)
    spec = hhh4.HHH4Spec(trend=False, activity_window=0)
    model = fit_spillover_matrix(
        p.counts, ids, p.periods, p.order, p.cross, p.countries, spec=spec,
        endemic_effects=effects, profile=False,
    )  # fmt: skip
    true_fit = p.at_truth(model.fit)
    sim = hhh4.simulate_paths(
        true_fit, model.recent_counts, 3, {"continue": None}, n_draws=1, n_paths=4000, seed=3,
        uncertainty=False,
    )["continue"]  # fmt: skip
    parts = np.stack([sim.endemic, sim.own, sim.neighbour]).sum(axis=2)[:, 0]
    true_share = parts[2] / parts.sum(axis=0)
    true_p = sim.any_event.mean(axis=1)[0]
    reg = spillover_forecast(model, 3, n_draws=draws, n_paths=paths, seed=seed, level=LEVEL).regions
    mid = (true_p > 0.02) & (true_p < 0.98)

    def held(column: str, truth: np.ndarray, keep: np.ndarray) -> list[bool]:
        lo = reg[f"{column}_low"].to_numpy()[keep]
        hi = reg[f"{column}_high"].to_numpy()[keep]
        return ((lo <= truth[keep]) & (truth[keep] <= hi)).tolist()

    mali = np.flatnonzero(p.countries == "MLI")
    focus = int(mali[np.argmax(p.counts[mali, -12:].sum(axis=1))])
    sims = simulate_scenarios(
        true_fit, model.recent_counts, 6, {"continue": None, "silenced": {focus: 0.0}},
        n_draws=1, n_paths=20000, seed=3,
    )  # fmt: skip
    cont = sims["continue"]["total"].mean(axis=1)[0]
    attributable = (cont - sims["silenced"]["total"].mean(axis=1)[0]) / cont
    # the reports' own settings (study_contrast: focus_scenarios' defaults)
    contrast = focus_scenarios(model, 6, [ids[focus]], seed=seed)
    shares = contrast.regions.set_index("region_id").loc[ids]
    keep = (np.arange(len(ids)) != focus) & (attributable > 0.02)
    lo = shares["expected_share_low"].to_numpy()[keep]
    hi = shares["expected_share_high"].to_numpy()[keep]
    i = model.fit.names.index("ne.log_phi")
    return {
        "share_neighbour": held("share_neighbour", true_share, np.ones(len(ids), dtype=bool)),
        "p_any": held("p_any", true_p, mid),
        "attributable_share": ((lo <= attributable[keep]) & (attributable[keep] <= hi)).tolist(),
        "log_phi_z": float((model.fit.params[i] - p.truth["ne.log_phi"]) / model.fit.se[i]),
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--panels", type=int, default=20, help="simulated panels per kind")
    ap.add_argument(
        "--paths", type=int, default=DEFAULT_PATHS, help="paths per draw of P(at least 1)"
    )
    ap.add_argument(
        "--draws", type=int, default=None,
        help="parameter draws of P(at least 1) (default: the command's, adaptive up to 2000)",
    )  # fmt: skip
    args = ap.parse_args(argv)
    boundaries = load_boundaries()
    started = time.perf_counter()
    out: dict = {
        "benchmark": "spillover_intervals", "level": LEVEL, "panels": args.panels,
        "paths": args.paths, "draws": args.draws,
    }  # fmt: skip
    for effects in ("country", "region"):
        rows = []
        for seed in range(args.panels):
            rows.append(one_panel(boundaries, seed, effects, args.paths, args.draws))
            print(effects, seed, json.dumps(rows[-1]["log_phi_z"]), file=sys.stderr, flush=True)
        summary: dict = {}
        for key in ("share_neighbour", "p_any", "attributable_share"):
            flat = [x for r in rows for x in r[key]]
            summary[key] = {"held": float(np.mean(flat)), "cases": len(flat)}
        z = np.array([r["log_phi_z"] for r in rows])
        summary["log_phi_z"] = {
            "mean": float(z.mean()),
            "sd": float(z.std(ddof=1)),
            "wald_90_held": float(np.mean(np.abs(z) < 1.645)),
        }
        out[effects] = summary
    out["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
