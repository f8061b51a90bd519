"""One model per report: the forecast and spillover commands read the same model's paths, and
on the demo its 12-month total for Kayes covers the stated model's forward-simulated truth."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.simulate import simulate_demo, simulate_demo_forward


@pytest.fixture(scope="module")
def demo_outputs(demo_study_path):
    runner = CliRunner()
    fc = runner.invoke(app, ["forecast", str(demo_study_path), "--json", "--samples", "2000"])
    assert fc.exit_code == 0, fc.output
    sp = runner.invoke(
        app, ["spillover", str(demo_study_path), "--json", "--draws", "40", "--paths", "50"]
    )
    assert sp.exit_code == 0, sp.output
    return json.loads(fc.stdout), json.loads(sp.stdout)


@pytest.mark.slow
def test_forecast_and_spillover_agree_on_kayes(demo_outputs):
    fc, sp = demo_outputs
    assert fc["horizon"] == 12 and fc["model"] == "auto"
    monthly = sum(r["mean"] for r in fc["forecasts"] if r["region_id"] == "ML-1")
    (kayes,) = [t for t in sp["targets"] if t["region_id"] == "ML-1"]
    assert kayes["expected"] == pytest.approx(monthly, rel=0.10)
    # the same model, and auto's evidence recorded with the choice
    assert sp["forecast_model"]["chosen"] == fc["chosen"] == fc["evidence"]["chosen"]
    candidates = {c["model"] for c in fc["evidence"]["candidates"]}
    # each group chooses per block of steps, among the candidates
    blocks = [b for g in fc["evidence"]["groups"].values() for b in g["blocks"]]
    assert blocks and {b["chosen"] for b in blocks} <= candidates
    lo, hi = kayes["expected_ci_90"]
    assert lo <= kayes["expected_median"] <= hi


@pytest.mark.slow
def test_kayes_12_month_interval_covers_the_stated_models_truth(demo_outputs):
    fc, _ = demo_outputs
    demo = simulate_demo()
    truth = simulate_demo_forward(demo, 12, n_paths=4000, seed=1)
    kayes = demo.region_ids.index("ML-1")
    expected = truth[kayes].sum(axis=0).mean()  # about 140 events in 2025
    assert 120 < expected < 160
    (total,) = fc["totals"]
    assert total["region_id"] == "ML-1" and total["steps"] == 12
    assert total["q05"] <= expected <= total["q95"], (total, expected)
    # and the forecast is not the no-growth answer: the trend is followed, damped
    stopped = 12 * demo.counts[kayes, -12:].mean()
    assert total["mean"] > 1.1 * stopped
    assert np.isfinite(total["mean"])


@pytest.mark.slow
def test_spillover_names_regions_and_labels_each_interval(demo_outputs, demo_study_path):
    """The JSON named Kayes "ML-1", and the text table's one "interval" column beside P(>=1)
    held the expected count's range whenever P(>=1) had no interval of its own."""
    _, sp = demo_outputs
    names = {t["region_id"]: t["region_name"] for t in sp["targets"]}
    assert names["ML-1"] == "Kayes" and names["MR-02"] == "Hodh el Gharbi"
    text = CliRunner().invoke(
        app, ["spillover", str(demo_study_path), "--draws", "40", "--paths", "50"]
    )
    assert text.exit_code == 0, text.output
    header = next(line for line in text.stdout.splitlines() if line.startswith("region"))
    assert "P interval" in header and "90% range" in header
    (kayes,) = [line for line in text.stdout.splitlines() if line.startswith("Kayes")]
    lo, hi = next(t for t in sp["targets"] if t["region_id"] == "ML-1")["expected_ci_90"]
    assert f"{lo:g}-{hi:g}" in kayes


@pytest.mark.slow
def test_spillover_says_of_the_shares_what_the_reports_say(demo_outputs, demo_study_path):
    """The command had quoted the shares attributable to the focus whatever the spillover
    model's backtest said, beside reports that attribute none (real study: "attributable to
    Mopti: BFA 13%"); with the study's settings it now says what the overview says."""
    from analysis.config import load_study
    from analysis.report import context, spillover_text

    _, sp = demo_outputs
    study = load_study(demo_study_path)
    shared = context.results(str(demo_study_path))
    said, evidence = spillover_text.study_shares(
        shared, list(study.spillover_targets), where="the reports' backtest"
    )
    assert evidence is not None and said
    scenarios = sp["scenarios"]
    earned = spillover_text.shares_earned(evidence, shared.scenarios)
    # the demo's spillover model has region-in-country effects: its shares are never quoted
    assert shared.scenarios.endemic_effects == "region_in_country"
    assert scenarios["quoted_in_reports"] is False
    assert scenarios["quoted_in_reports"] is earned
    assert scenarios["evidence"]["crps_skill"] == pytest.approx(evidence.skill)
    assert scenarios["evidence"]["baseline"] == evidence.baseline
    text = CliRunner().invoke(
        app, ["spillover", str(demo_study_path), "--draws", "40", "--paths", "50"]
    )
    assert text.exit_code == 0, text.output
    assert said in text.stdout
    # the spillover model's neighbour split stands beside auto's numbers only where its
    # shares are quoted
    header = next(line for line in text.stdout.splitlines() if line.startswith("region"))
    assert ("neighbour share" in header) is earned

    # other settings than the reports': the shares stay in the JSON, marked unchecked, and
    # the text does not quote them
    def scenarios(*options: str) -> dict:
        args = ["spillover", str(demo_study_path), "--json", "--draws", "20", "--paths", "20",
                "--model", "spillover", *options]  # fmt: skip
        run = CliRunner().invoke(app, args)
        assert run.exit_code == 0, run.output
        return json.loads(run.stdout)["scenarios"]

    unchecked = scenarios("--horizon", "6")
    assert unchecked["quoted_in_reports"] is None and "no backtest" in unchecked["unchecked"]
    assert unchecked["countries"]
    # an --origin at the study's last period is the reports' cut: checked as they are
    checked = scenarios("--origin", "2024-12")
    assert checked["quoted_in_reports"] is earned
    # with the spillover model's own numbers the text table gives its neighbour share, each
    # with the interval across parameter draws
    args = ["spillover", str(demo_study_path), "--draws", "20", "--paths", "20", "--model",
            "spillover", "--horizon", "6"]  # fmt: skip
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 0, run.output
    lines = run.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("region"))
    assert "neighbour share (95%)" in lines[header]
    rows = lines[header + 1 : lines.index("", header)]
    shares = [re.search(r"(\d\.\d\d) \((\d\.\d\d)-(\d\.\d\d)\)$", row) for row in rows]
    assert rows and all(shares), rows[:3]
    assert all(float(m[2]) <= float(m[1]) <= float(m[3]) for m in shares)
    assert any(float(m[2]) < float(m[3]) for m in shares)


@pytest.mark.slow
def test_spillover_monte_carlo_error_describes_the_numbers_shown(demo_outputs):
    """With auto's paths behind P(>=1), the spillover model's interval limits are not shown;
    their Monte Carlo error read "met: false" beside targets with no interval."""
    _, sp = demo_outputs
    assert all(t["p_any_ci"] is None and t["p_any_ci_mc_error"] is None for t in sp["targets"])
    mc = sp["mc_error"]
    n = sp["forecast_model"]["samples"]
    assert str(n) in mc["method"] and "binomial" in mc["method"]
    worst = max(np.sqrt(t["p_any"] * (1 - t["p_any"]) / n) for t in sp["targets"])
    assert mc["p_any_max"] >= worst - 1e-12
    # no target to miss: the reports' path count fixes the error (at most 0.011)
    assert "met" not in mc and "target" not in mc
    assert mc["p_any_max"] <= np.sqrt(0.25 / n) + 1e-12
