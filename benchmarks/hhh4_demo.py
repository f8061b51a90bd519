"""The spillover model's options on the demo study against the demo's stated model.

For each endemic-offset option (``country``; ``region_in_country``) and trend damping, fitted on
the demo panel up to 2024-12: the own-lag share lambda (truth 0.25), the neighbour share phi
(truth 0.12), Bamako's P(at least one event within 12 months) and Kayes's 12-month total
(mean, median, 90% interval) against the demo's stated model run forward from 2024-12
(:func:`analysis.simulate.demo_forward_truth`, with growth continuing and with growth
stopped). Not a timing: the speed benchmarks are ``backtest_speed.py`` and ``batch.py``.

Usage: ``python benchmarks/hhh4_demo.py [--draws 2000]``. Writes the demo data to a temporary
directory; the JSON result is printed on stdout.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from analysis.models.hhh4 import simulate_forward
from analysis.models.spillover import fit_spillover
from analysis.simulate import demo_forward_truth, simulate_demo

DAMPINGS = (1.0, 0.95, 0.9, 0.8, 0.6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=2000)
    args = parser.parse_args()
    demo = simulate_demo()
    from analysis.config import load_study
    from analysis.pipeline import prepare
    from analysis.simulate import write_demo

    with tempfile.TemporaryDirectory() as tmp:
        write_demo(Path(tmp) / "demo")
        study_text = (Path(__file__).parents[1] / "studies" / "demo.yaml").read_text()
        study_path = Path(tmp) / "studies" / "demo.yaml"
        study_path.parent.mkdir()
        study_path.write_text(study_text.replace("../data/raw/demo/", "../demo/"))
        study = load_study(study_path)
        data = prepare(study)
    panel = data.panel
    ids = sorted(panel["region_id"].unique())
    assert ids == sorted(demo.region_ids)
    kayes, bamako = "ML-1", "ML-BKO"
    truth = demo_forward_truth(demo, 12, n_paths=4000, seed=1)
    stopped = demo_forward_truth(demo, 12, growth=False, n_paths=4000, seed=1)
    k = demo.region_ids.index(kayes)
    b = demo.region_ids.index(bamako)
    out: dict = {
        "benchmark": "hhh4_demo",
        "truth": {
            "lambda": 0.25,
            "phi": 0.12,
            "kayes_12m_expected": float(truth["expected"][k].sum()),
            "kayes_12m_expected_if_growth_stops": float(stopped["expected"][k].sum()),
            "kayes_12m_interval_90": np.quantile(truth["totals"][:, k], [0.05, 0.95]).tolist(),
            "bamako_p_any_12m": float(truth["any"][:, b].mean()),
            "bamako_events_2018_2024": int(demo.counts[b].sum()),
        },
        "configs": [],
    }
    for effects in ("country", "region_in_country"):
        model = fit_spillover(
            panel, boundaries=data.boundaries, endemic_effects=effects, focus_trend=[kayes]
        )
        fit = model.fit
        row = model.region_ids.index(kayes)
        rowb = model.region_ids.index(bamako)
        for damping in DAMPINGS:
            f = replace(fit, spec=replace(fit.spec, trend_damping=damping))
            sim = simulate_forward(
                f, model.recent_counts, 12, n_draws=args.draws, n_paths=1, seed=3, keep_paths=True
            )
            plug = simulate_forward(
                f, model.recent_counts, 12, n_draws=args.draws, n_paths=1, seed=3,
                uncertainty=False,
            )  # fmt: skip
            tot = sim.total[:, 0, row]
            out["configs"].append(
                {
                    "endemic_effects": effects,
                    "trend_damping": damping,
                    "group_sd": fit.spec.group_sd,
                    "lambda": float(np.exp(fit.get("ar.log_lambda"))),
                    "phi": float(np.exp(fit.get("ne.log_phi"))),
                    "focus_trend_per_year": fit.get("end.focus_trend"),
                    "loglik": fit.loglik,
                    "bamako_p_any_12m_plugin": float(plug.any_event[:, 0, rowb].mean()),
                    "bamako_p_any_12m_with_uncertainty": float(sim.any_event[:, 0, rowb].mean()),
                    "kayes_12m_mean": float(tot.mean()),
                    "kayes_12m_median": float(np.median(tot)),
                    "kayes_12m_interval_90": np.quantile(tot, [0.05, 0.95]).tolist(),
                }
            )
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
