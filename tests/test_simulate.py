from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.simulate import (
    DemoScenario,
    draw_negative_binomial,
    expected_counts,
    first_order_weights,
    simulate_demo,
    simulate_endemic_epidemic,
    write_demo,
)


def test_negative_binomial_draws_have_stated_mean_and_variance():
    rng = np.random.default_rng(1)
    draws = draw_negative_binomial(np.full(200_000, 4.0), 0.5, rng)
    assert draws.mean() == pytest.approx(4.0, rel=0.02)
    assert draws.var() == pytest.approx(4.0 + 0.5 * 16.0, rel=0.04)


def test_expected_counts_match_simulation_average():
    rng = np.random.default_rng(2)
    endemic = np.array([[0.5] * 30, [0.1] * 30])
    lam = np.array([0.3, 0.2])
    phi = np.array([0.0, 0.4])
    weights = np.array([[0.0, 1.0], [1.0, 0.0]])
    exact = expected_counts(endemic, lam, phi, weights)
    n = 2000
    sims = np.stack(
        [simulate_endemic_epidemic(endemic, lam, phi, weights, 0.5, rng)[0] for _ in range(n)]
    )
    tail = sims[:, :, -5:]
    standard_error = tail.std(axis=0) / np.sqrt(n)
    assert (np.abs(tail.mean(axis=0) - exact[:, -5:]) < 4.5 * standard_error).all()
    # and the exact stationary means: 0.5 / (1 - 0.3) and (0.1 + 0.4 * 0.5 / 0.7) / 0.8
    np.testing.assert_allclose(exact[:, -1], [0.5 / 0.7, (0.1 + 0.4 * 0.5 / 0.7) / 0.8], rtol=1e-9)


def test_first_order_weights_share_each_source_equally():
    orders = np.array([[0, 1, 1], [1, 0, 2], [1, 2, 0]])
    w = first_order_weights(orders)
    np.testing.assert_allclose(w.sum(axis=0), 1.0)
    assert w[1, 0] == 0.5 and w[0, 1] == 1.0


def test_demo_scenario_mirrors_the_founding_case():
    demo = simulate_demo()
    truth = demo.truth
    assert truth["focus_true_rate_ratio"] == pytest.approx(7.0, rel=0.1)
    expected = truth["focus_expected_by_year"]
    assert expected["2021"] == pytest.approx(10, rel=0.15)
    events = demo.events
    assert set(events["country"]) == {"Mali", "Mauritania", "Senegal"}
    assert events["event_id_cnty"].is_unique
    # the same seed gives the same events
    again = simulate_demo()
    pd.testing.assert_frame_equal(events, again.events)
    different = simulate_demo(DemoScenario(seed=7))
    assert not different.events["event_date"].equals(events["event_date"])
    # counts and events agree
    jnim = events[events["actor1"].str.startswith("JNIM")]
    assert len(jnim) == demo.counts.sum()


def test_write_demo_never_overwrites_other_content(tmp_path):
    paths = write_demo(tmp_path)
    first = paths["events"].read_bytes()
    write_demo(tmp_path)  # identical content: left alone
    assert paths["events"].read_bytes() == first
    assert json.loads(paths["truth"].read_text())["synthetic"] is True
    paths["events"].write_text("edited by hand\n")
    with pytest.raises(FileExistsError, match="never overwritten"):
        write_demo(tmp_path)
    assert paths["events"].read_text() == "edited by hand\n"


def test_inarch_counts_have_the_stationary_mean_and_autocorrelation():
    # INARCH(1) with constant endemic part nu: mean nu / (1 - lam), lag-1 autocorrelation lam
    from analysis.simulate import inarch_counts

    nu, lam = 2.0, 0.6
    counts = inarch_counts(
        np.full(20_000, nu), lam, 0.3, np.random.default_rng(7), first_previous=nu / (1 - lam)
    )
    assert counts.dtype == np.int64
    assert abs(counts.mean() - nu / (1 - lam)) < 0.25
    assert abs(np.corrcoef(counts[:-1], counts[1:])[0, 1] - lam) < 0.05


def test_truth_file_summary_is_the_stated_model_continued(tmp_path):
    """The summary's expected total (exact recursion) matches the simulated continuation's
    mean, and its other values are the file's."""
    from analysis.simulate import (
        DEMO_TRUTH_FILE,
        demo_truth_summary,
        scenario_from_truth,
        simulate_demo_forward,
    )

    paths = write_demo(tmp_path)
    assert paths["truth"].name == DEMO_TRUTH_FILE
    truth = json.loads(paths["truth"].read_text())
    assert scenario_from_truth(truth) == DemoScenario()  # tuples back from JSON lists
    summary = demo_truth_summary(truth, 12)
    demo = simulate_demo()
    kayes = demo.region_ids.index("ML-1")
    totals = simulate_demo_forward(demo, 12, n_paths=4000, seed=5)[kayes].sum(axis=0)
    standard_error = totals.std() / np.sqrt(len(totals))
    assert abs(summary["forward_total"] - totals.mean()) < 4 * standard_error
    assert summary["forward_first"] == "2025-01" and summary["horizon"] == 12
    assert summary["expected_ratio"] == truth["focus_true_rate_ratio"]
    counts = truth["simulated_focus_counts_by_year"]
    assert summary["simulated_counts"] == (counts["2021"], counts["2024"])
    assert (summary["autoregressive"], summary["neighbourhood"]) == (0.25, 0.12)
    # a shorter horizon is a smaller total of the same growing series
    assert demo_truth_summary(truth, 6)["forward_total"] < summary["forward_total"] / 2


def test_truth_summary_refuses_a_file_its_scenario_does_not_regenerate(tmp_path):
    from analysis.simulate import demo_truth_summary

    truth = json.loads(write_demo(tmp_path)["truth"].read_text())
    truth["scenario"]["seed"] = 37  # another simulation than the one the counts record
    with pytest.raises(ValueError, match="does not match"):
        demo_truth_summary(truth, 12)
