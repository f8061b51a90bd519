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
    # another truth file and no events: nothing is written, not events beside a foreign truth
    paths["events"].unlink()
    paths["truth"].write_text("{}\n")
    with pytest.raises(FileExistsError, match="never overwritten"):
        write_demo(tmp_path)
    assert not paths["events"].exists() and paths["truth"].read_text() == "{}\n"


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


def test_silencing_a_region_zeroes_its_months_and_what_it_passes_on_from_the_second():
    """The spillover model's silenced scenario: the region's mean is 0 in every month ahead,
    but its last simulated month still feeds the first. So in month 1 nothing else changes;
    in month 2 each first-order neighbour loses exactly phi * w[n, focus] * (the focus's
    expected month 1), and units two orders away are still untouched."""
    from analysis.geography import adjacency_order_matrix, load_boundaries
    from analysis.simulate import demo_forward_expected

    demo = simulate_demo()
    scenario = DemoScenario()
    ids = demo.region_ids
    kayes = ids.index("ML-1")
    continued = demo_forward_expected(demo, 3)
    silenced = demo_forward_expected(demo, 3, silenced=["ML-1"])
    assert np.all(silenced[kayes] == 0) and np.all(continued[kayes] > 0)
    others = np.arange(len(ids)) != kayes
    np.testing.assert_array_equal(silenced[others, 0], continued[others, 0])
    orders = adjacency_order_matrix(ids, load_boundaries())
    weights = first_order_weights(orders)
    first = np.flatnonzero(orders[:, kayes] == 1)
    loss = scenario.neighbourhood * weights[first, kayes] * continued[kayes, 0]
    np.testing.assert_allclose(continued[first, 1] - silenced[first, 1], loss, rtol=1e-12)
    far = np.flatnonzero(orders[:, kayes] >= 2)
    np.testing.assert_array_equal(silenced[far, 1], continued[far, 1])
    assert np.all(silenced[others, 2] <= continued[others, 2])
    with pytest.raises(ValueError, match="not in the demo"):
        demo_forward_expected(demo, 3, silenced=["XX-1"])


def test_truth_summary_gives_every_unit_its_stated_continuation(tmp_path):
    """Per unit: exact expectations, the focus silenced, and simulated totals whose means
    agree with the exact expectations within Monte Carlo error."""
    from analysis.simulate import DEMO_TRUTH_PATHS, demo_truth_summary

    truth = json.loads(write_demo(tmp_path)["truth"].read_text())
    summary = demo_truth_summary(truth, 12)
    ids = summary["forward_region_ids"]
    assert ids == truth["region_ids"] and len(summary["forward_countries"]) == len(ids)
    assert summary["forward_countries"][ids.index("ML-1")] == "MLI"
    assert summary["forward_countries"][ids.index("MR-10")] == "MRT"
    kayes = ids.index("ML-1")
    expected = summary["forward_expected"]
    assert expected[kayes] == summary["forward_total"]
    totals = summary["forward_totals"]
    assert totals.shape == (DEMO_TRUTH_PATHS, len(ids)) == (summary["forward_paths"], len(ids))
    se = totals.std(axis=0, ddof=1) / np.sqrt(len(totals))
    assert np.all(np.abs(totals.mean(axis=0) - expected) < 4 * se + 1e-9)
    silenced = summary["forward_expected_silenced"]
    assert silenced[kayes] == 0 and np.all(silenced <= expected)
    # the near-term quarter: its paths' mean agrees with the exact expectation too, and is
    # below the 12-month one
    near = summary["forward_near_totals"][:, kayes]
    assert summary["near_steps"] == 3
    near_se = near.std(ddof=1) / np.sqrt(len(near))
    assert abs(near.mean() - summary["forward_near_total"]) < 4 * near_se
    assert 0 < summary["forward_near_total"] < summary["forward_total"] / 3
    # growth a year of the stated factor 7 over three years: 7 ** (1 / 3) - 1
    assert summary["annual_growth_pct"] == pytest.approx(100 * (7 ** (1 / 3) - 1))
    # the same seed, the same paths: the appendix does not change between renders
    np.testing.assert_array_equal(demo_truth_summary(truth, 12)["forward_totals"], totals)


def test_truth_summary_refuses_a_file_its_scenario_does_not_regenerate(tmp_path):
    from analysis.simulate import demo_truth_summary

    truth = json.loads(write_demo(tmp_path)["truth"].read_text())
    truth["scenario"]["seed"] = 37  # another simulation than the one the counts record
    with pytest.raises(ValueError, match="does not match"):
        demo_truth_summary(truth, 12)
