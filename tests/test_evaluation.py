"""Scoring rules against scoringrules' estimators and closed forms; backtest bookkeeping."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import scoringrules as sr
from scipy import stats

from analysis.errors import InputError
from analysis.evaluation import (
    any_event_scorecard,
    backtest,
    combine_backtests,
    scorecard,
    skill_intervals,
    total_scorecard,
)
from analysis.models.forecast import History
from analysis.origin_inference import MIN_DF
from analysis.scoring import (
    crps_both,
    crps_ensemble,
    crps_fair,
    crps_fair_halves,
    expected_central_coverage,
    expected_share_above_median,
    ignorance,
    interval_score,
    pit_interval,
    randomized_pit,
    score_samples,
    twcrps_ensemble,
)


def test_crps_equals_scoringrules_energy_estimator():
    rng = np.random.default_rng(1)
    obs = rng.poisson(3, size=50).astype(float)
    fct = rng.negative_binomial(2, 0.4, size=(50, 301)).astype(float)
    ours = crps_ensemble(obs, fct)
    np.testing.assert_allclose(ours, sr.crps_ensemble(obs, fct, estimator="nrg"), atol=1e-10)
    # the quantile-decomposition form (scoringrules' default) is the same number
    np.testing.assert_allclose(ours, sr.crps_ensemble(obs, fct, estimator="qd"), atol=1e-10)


@pytest.mark.parametrize("mean", [0.2, 1.5, 8.0])
def test_crps_of_large_poisson_sample_matches_closed_form(mean):
    rng = np.random.default_rng(2)
    obs = np.array([0.0, 1.0, 3.0, 10.0])
    fct = rng.poisson(mean, size=(4, 100_000)).astype(float)
    np.testing.assert_allclose(
        crps_ensemble(obs, fct), sr.crps_poisson(obs, mean), rtol=0.02, atol=2e-3
    )


def test_crps_of_large_nb_sample_matches_closed_form():
    rng = np.random.default_rng(3)
    n, p = 0.8, 0.2  # mean 3.2, heavy overdispersion
    obs = np.array([0.0, 2.0, 7.0, 25.0])
    fct = rng.negative_binomial(n, p, size=(4, 100_000)).astype(float)
    np.testing.assert_allclose(
        crps_ensemble(obs, fct), sr.crps_negbinom(obs, n, p), rtol=0.02, atol=5e-3
    )


def test_twcrps_matches_scoringrules_chaining():
    rng = np.random.default_rng(4)
    obs = rng.poisson(1.0, size=30).astype(float)
    fct = rng.poisson(1.5, size=(30, 200)).astype(float)
    ref = sr.twcrps_ensemble(obs, fct, v_func=lambda z: np.maximum(z, 1.0), estimator="nrg")
    np.testing.assert_allclose(twcrps_ensemble(obs, fct, 1.0), ref, atol=1e-10)


def test_interval_score_matches_scoringrules():
    obs = np.array([0.0, 2.0, 5.0, 9.0])
    lo, hi = np.array([1.0, 1.0, 1.0, 1.0]), np.array([4.0, 4.0, 4.0, 4.0])
    ref = sr.interval_score(obs, lo, hi, 0.2)
    np.testing.assert_allclose(interval_score(obs, lo, hi, 0.8), ref)
    np.testing.assert_allclose(interval_score(obs, lo, hi, 0.8), [3 + 10, 3, 3 + 10, 3 + 50])


def test_ignorance_uses_views_bins():
    fct = np.array([[0] * 50 + [1] * 50])  # bins: 0 and 1-2
    k = 11
    assert ignorance(np.array([2.0]), fct)[0] == pytest.approx(-np.log2(50.5 / (100 + 0.5 * k)))
    # 3 falls in the 3-5 bin where no sample fell: finite, large
    assert ignorance(np.array([3.0]), fct)[0] == pytest.approx(-np.log2(0.5 / (100 + 0.5 * k)))


def test_randomized_pit_is_uniform_for_the_true_distribution():
    rng = np.random.default_rng(5)
    mu = rng.uniform(0.05, 4.0, size=3000)
    obs = rng.poisson(mu).astype(float)
    fct = rng.poisson(mu[:, None], size=(3000, 2000)).astype(float)
    pit = randomized_pit(obs, fct, np.random.default_rng(0))
    assert stats.kstest(pit, "uniform").pvalue > 0.01
    # a forecast that is too narrow piles PIT values at the ends
    narrow = randomized_pit(obs, np.round(fct * 0.0 + mu[:, None]), np.random.default_rng(0))
    assert stats.kstest(narrow, "uniform").pvalue < 1e-6


def test_score_samples_coverage_and_brier():
    fct = np.tile(np.arange(100.0), (3, 1))
    s = score_samples(np.array([50.0, 5.0, 99.0]), fct)
    assert s["closed_coverage_80"].tolist() == [1.0, 0.0, 0.0]
    assert s["closed_coverage_95"].tolist() == [1.0, 1.0, 0.0]
    # randomised PIT: 50 sits mid-distribution, 5 in the lowest 10% (outside the central 80%
    # but inside the central 95% only partly), 99 at the top
    assert s["pit_coverage_80"].tolist() == [1.0, 0.0, 0.0]
    np.testing.assert_allclose(s["brier_any"], (0.99 - 1) ** 2)
    np.testing.assert_allclose(s["ae_median"], [1.0, 44.0, 50.0])


def test_pit_coverage_is_the_randomised_indicator_averaged_over_its_draw():
    rng = np.random.default_rng(11)
    obs = rng.poisson(1.0, size=40).astype(float)
    fct = rng.poisson(rng.uniform(0.2, 3.0, size=(40, 1)), size=(40, 300)).astype(float)
    below, at = pit_interval(obs, fct)
    exact = expected_central_coverage(below, at, 0.8)
    # the randomised indicator, drawn 20,000 times per forecast, averages to the same value
    draws = np.stack([randomized_pit(obs, fct, np.random.default_rng(k)) for k in range(20000)])
    mc = ((draws > 0.1) & (draws < 0.9)).mean(axis=0)
    np.testing.assert_allclose(exact, mc, atol=0.015)
    np.testing.assert_allclose(expected_share_above_median(below, at), (draws > 0.5).mean(0),
                               atol=0.015)  # fmt: skip
    # closed forms: PIT uniform on [0.05, 0.25] is inside (0.1, 0.9) on 0.15 of 0.2; a point
    # mass counts as inside or not
    np.testing.assert_allclose(
        expected_central_coverage(
            np.array([0.05, 0.5, 0.95, 0.3]), np.array([0.25, 0.5, 1.0, 0.6]), 0.8
        ),
        [0.75, 1.0, 0.0, 1.0],
    )


def test_pit_coverage_of_the_true_distribution_is_its_level_without_draw_noise():
    # counts from the forecast distribution itself: the expected coverage is the level up
    # to the sampling of outcomes, and per forecast it does not depend on any random draw
    rng = np.random.default_rng(12)
    mu = rng.uniform(0.05, 4.0, size=4000)
    obs = rng.poisson(mu).astype(float)
    fct = rng.poisson(mu[:, None], size=(4000, 1000)).astype(float)
    a = score_samples(obs, fct, rng=np.random.default_rng(1))
    b = score_samples(obs, fct, rng=np.random.default_rng(2))
    np.testing.assert_array_equal(a["pit_coverage_80"], b["pit_coverage_80"])
    for level in (0.5, 0.8, 0.95):
        cover = a[f"pit_coverage_{round(level * 100)}"].mean()
        assert cover == pytest.approx(level, abs=0.02)


def _history(R=12, T=60, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.poisson(rng.uniform(0, 3, R)[:, None], size=(R, T))
    periods = pd.date_range("2015-01-01", periods=T, freq="MS")
    return History(y.astype(np.int64), tuple(f"XX-{i}" for i in range(R)), periods)


def test_backtest_bookkeeping_and_scorecard_json():
    h = _history()
    bt = backtest(
        h, ["zero", "recent_mean_3", "nb_climatology"], start="2018-01", end="2019-06",
        horizon=3, n_samples=100, seed=2,
    )  # fmt: skip
    assert len(bt.origins) == 18
    s = bt.scores
    # the last origin (2019-06) has 3 targets; origins near the end of the data fewer
    assert set(s["step"]) == {1, 2, 3}
    assert s.groupby("model").size().nunique() == 1
    assert (s["period"] > s["origin"]).all()
    sc = scorecard(bt)
    json.dumps(sc)
    assert sc["best_baseline"] in {"zero", "recent_mean_3", "nb_climatology"}
    rows = {r["model"]: r for r in sc["models"]}
    assert rows[sc["best_baseline"]]["crps_skill_vs_best_baseline"] == pytest.approx(0.0)
    assert {r["step"] for r in sc["by_horizon"]} == {1, 2, 3}
    for r in sc["models"]:
        assert r["n_forecasts"] == 12 * 18 * 3
        for k in ("crps", "crps_fair", "pit_coverage_50", "pit_coverage_80", "pit_coverage_95",
                  "closed_coverage_80", "interval_score_95"):  # fmt: skip
            assert np.isfinite(r[k])


def test_scorecard_labels_its_origins_as_the_panel_writes_its_periods():
    """A quarterly study's reports had read "8 rolling origins, 2015-04 to 2020-07" (and the
    methods appendix the same) for origins 2015Q2 to 2020Q3; months stay as they were."""
    monthly = _history(R=3, T=40)
    bt = backtest(monthly, ["zero"], start="2017-12", end="2018-03", horizon=2, n_samples=10)
    assert scorecard(bt, paired=False)["origins"] == ["2017-12", "2018-03"]
    quarters = pd.date_range("2010-01-01", periods=40, freq="QS")
    quarterly = History(monthly.counts, monthly.region_ids, quarters, "quarter")
    bt = backtest(quarterly, ["zero"], start="2016-04", end="2017-07", horizon=2, n_samples=10)
    assert bt.freq == "quarter" and scorecard(bt, paired=False)["origins"] == ["2016Q2", "2017Q3"]
    # a backtest keeps its panel's frequency: quarters are not joined with months
    other = backtest(quarterly, ["last_value"], start="2016-04", end="2017-07", horizon=2,
                     n_samples=10)  # fmt: skip
    assert combine_backtests(bt, other).freq == "quarter"
    with pytest.raises(InputError, match="different freq"):
        combine_backtests(bt, replace(other, freq="month"))


def test_backtest_stops_at_the_end_of_the_data():
    h = _history(T=40)
    bt = backtest(h, ["zero"], start="2017-12", horizon=6, n_samples=10)
    # origins through the second-to-last period; steps beyond the data are not scored
    assert bt.origins[-1] == h.periods[-2]
    last = bt.scores[bt.scores["origin"] == h.periods[-2]]
    assert set(last["step"]) == {1}


def test_fair_crps_equals_scoringrules_fair_estimator_and_is_unbiased():
    rng = np.random.default_rng(3)
    obs = rng.poisson(3, size=40).astype(float)
    fct = rng.poisson(3, size=(40, 25)).astype(float)
    np.testing.assert_allclose(
        crps_fair(obs, fct), sr.crps_ensemble(obs, fct, estimator="fair"), atol=1e-10
    )
    # both estimators from one sort: the same numbers
    both = crps_both(obs, fct)
    np.testing.assert_array_equal(both[0], crps_ensemble(obs, fct))
    np.testing.assert_array_equal(both[1], crps_fair(obs, fct))
    # with 5 samples per forecast the fair estimator averages to the closed form; the
    # 1/M**2 one is biased upward by E|X - X'| / (2M)
    y = rng.poisson(4, size=20_000).astype(float)
    small = rng.poisson(4, size=(20_000, 5)).astype(float)
    truth = sr.crps_poisson(y, 4.0).mean()
    assert crps_fair(y, small).mean() == pytest.approx(truth, rel=0.02)
    assert crps_ensemble(y, small).mean() > truth * 1.08


def test_half_sample_monte_carlo_error_matches_the_spread_over_seeds():
    rng = np.random.default_rng(4)
    y = rng.poisson(5, size=200).astype(float)
    means = [crps_fair(y, rng.poisson(5, size=(200, 100))).mean() for _ in range(300)]
    halves = crps_fair_halves(y, rng.poisson(5, size=(200, 100)))
    se = np.sqrt(((halves[:, 0] - halves[:, 1]) ** 2 / 4).sum()) / len(y)
    assert se == pytest.approx(np.std(means), rel=0.3)


def _strided_scores(n_origins: int = 12, stride: int = 3, horizon: int = 12) -> pd.DataFrame:
    """Long scores of two models at origins ``stride`` periods apart, ``horizon`` steps each,
    one region; model a is worse than b by a noisy margin."""
    rng = np.random.default_rng(4)
    periods = pd.date_range("2015-01-01", periods=n_origins * stride + horizon + 1, freq="MS")
    rows = []
    for i in range(n_origins):
        origin = periods[i * stride]
        for step in range(1, horizon + 1):
            b = rng.gamma(2.0, 0.5)
            for model, crps in (("a", b + rng.normal(0.1, 0.3)), ("b", b)):
                period = periods[i * stride + step]
                rows.append({"model": model, "origin": origin, "region_id": "XX-0",
                             "step": step, "period": period, "crps": crps})  # fmt: skip
    return pd.DataFrame(rows)


def test_paired_test_of_a_strided_backtest_has_an_interval():
    """12 origins 3 periods apart, 12 steps each (the methods appendix): the interval allows
    for the shared months, and the p-value is below 0.05 exactly when it excludes 0."""
    from analysis.evaluation import paired_test

    scores = _strided_scores()
    test = paired_test(scores, "a", "b")
    assert test["n_origins"] == 12 and test["level"] == 0.95
    assert test["low"] < test["mean_difference"] < test["high"]
    assert 0 < test["p"] <= 1 and test["df"] >= 2
    # the mean of per-origin mean differences
    wide = scores.pivot_table(index="origin", columns="model", values="crps", aggfunc="mean")
    assert test["mean_difference"] == pytest.approx(float((wide["a"] - wide["b"]).mean()))
    assert (test["p"] < 0.05) == (test["low"] > 0 or test["high"] < 0)
    far = paired_test(scores.assign(crps=scores["crps"] + (scores["model"] == "a")), "a", "b")
    assert far["low"] > 0.5 and far["p"] < 0.001


def test_first_steps_scores_the_reports_steps_only():
    from analysis.evaluation import first_steps

    h = _history()
    bt = backtest(h, ["zero", "recent_mean_3"], start="2018-01", end="2018-06", horizon=6,
                  n_samples=50, seed=1)  # fmt: skip
    short = first_steps(bt, 2)
    assert short.horizon == 2 and set(short.scores["step"]) == {1, 2}
    assert short.origins == bt.origins and short.models == bt.models
    assert len(short.scores) == len(bt.scores[bt.scores["step"] <= 2])
    assert {r["step"] for r in scorecard(short)["by_horizon"]} == {1, 2}
    assert first_steps(bt, 6) is bt and first_steps(bt, 9) is bt
    with pytest.raises(InputError, match="at least 1 step"):
        first_steps(bt, 0)


def test_scorecard_tests_the_report_model_against_the_best():
    h = _history()
    bt = backtest(h, ["zero", "recent_mean_3", "nb_climatology"], start="2018-01",
                  end="2019-06", horizon=3, n_samples=100, seed=2)  # fmt: skip
    best = scorecard(bt)["best_model"]
    other = next(m for m in bt.models if m != best)
    test = scorecard(bt, report_model=other)["report_model_test"]
    assert (test["model"], test["versus"]) == (other, best)
    assert test["low"] <= test["mean_difference"] <= test["high"]
    assert "report_model_test" not in scorecard(bt, report_model=best)
    assert "report_model_test" not in scorecard(bt, report_model=other, paired=False)
    assert "report_model_test" not in scorecard(bt)


def test_skill_intervals_pool_every_forecast_as_the_scorecard_does():
    """The skill is the scorecard's pooled one (mean CRPS over all forecasts, then the ratio),
    not a mean of per-step skills; its interval and the coverage's are over origins."""
    h = _history(T=48)
    # origins up to the second-to-last period: the late steps have fewer outcomes
    bt = backtest(h, ["zero", "recent_mean_3", "nb_climatology"], start="2016-06",
                  horizon=6, n_samples=100, seed=1, stride=3)  # fmt: skip
    card = scorecard(bt, paired=False)
    rows = {r["model"]: r for r in card["models"]}
    boot = skill_intervals(bt.scores, "recent_mean_3", "nb_climatology")
    assert boot["skill"] == pytest.approx(rows["recent_mean_3"]["crps_skill_vs"]["nb_climatology"])
    assert boot["coverage"] == pytest.approx(rows["recent_mean_3"]["pit_coverage_80"])
    assert boot["n_forecasts"] == rows["recent_mean_3"]["n_forecasts"]
    assert boot["skill_low"] < boot["skill"] < boot["skill_high"]
    assert boot["coverage_low"] <= boot["coverage"] <= boot["coverage_high"]
    assert boot["df"] >= 2
    # a model against itself: no skill, and no spread among origins to give an interval
    same = skill_intervals(bt.scores, "zero", "zero")
    assert same["skill"] == 0 and np.isnan(same["skill_low"]) and np.isnan(same["skill_high"])


def test_skill_intervals_confidences_say_which_side_of_80_percent():
    origins = pd.date_range("2020-01-01", periods=10, freq="3MS")
    # per origin, region A and region B; the shares differ a little between origins (with
    # none, the origins give no spread to judge by, and no interval)
    wobble = np.repeat(np.tile([0.01, -0.01], 5), 2)
    inside = np.array([1.0, 0.0] * 10)
    inside[[6, 15]] = [0.0, 1.0]  # origin 3 had neither inside, origin 7 both
    frame = pd.DataFrame(
        {
            "origin": np.repeat(origins, 2),
            "period": np.repeat(origins, 2) + pd.DateOffset(months=1),
            "region_id": ["A", "B"] * 10,
            "step": 1,
            "crps": 1.0 + wobble,
            "pit_coverage_80": inside,  # half the outcomes inside: too narrow
            "pit_above_median": 0.95 + wobble,  # nearly every outcome above the median
        }
    )
    both = pd.concat([frame.assign(model="m"), frame.assign(model="b", crps=2.0)])
    boot = _m_against_b(both)
    assert boot["coverage"] == 0.5 and boot["coverage_below"] > 0.95  # "too narrow"
    assert boot["coverage_above"] < 0.05 and boot["skill"] == pytest.approx(0.5)
    assert boot["above_median"] == pytest.approx(0.95) and boot["above_median_over_half"] > 0.95
    # a miss smaller than the margin is no verdict, however certain: 79% everywhere
    close = both.assign(pit_coverage_80=0.79 + np.tile(wobble, 2) / 10,
                        pit_above_median=0.51 + np.tile(wobble, 2) / 10)  # fmt: skip
    near = _m_against_b(close)
    assert near["coverage"] == pytest.approx(0.79) and near["coverage_below"] < 0.05
    assert near["above_median_over_half"] < 0.05 and near["margin"] == 0.025
    strict = skill_intervals(close, "m", "b", margin=0.0)
    assert strict["coverage_below"] > 0.95 and strict["above_median_over_half"] > 0.95
    one = _m_against_b(both[both["origin"] == origins[0]])
    assert one["n_origins"] == 1 and np.isnan(one["skill_low"])
    assert one["skill"] == pytest.approx(0.495)
    # the same share at every origin: no spread to judge by, so no interval and no verdict
    flat = _m_against_b(both.assign(pit_coverage_80=0.5))
    assert flat["coverage"] == 0.5 and np.isnan(flat["coverage_low"])
    assert np.isnan(flat["coverage_below"])
    # a share's interval stays within 0-1 (a t interval from few origins can pass 1)
    cover = np.ones(len(both))
    cover[0] = 0.0
    edge = _m_against_b(both.assign(pit_coverage_80=cover))
    assert edge["coverage"] == pytest.approx(0.95) and edge["coverage_high"] == 1.0
    assert 0.0 <= edge["coverage_low"] < 0.95
    # an interval that spans every share says nothing: none is given
    four = both[both["origin"].isin(origins[:4])]  # per origin: all inside, none, all, none
    two = _m_against_b(four.assign(pit_coverage_80=[1.0, 1.0, 0.0, 0.0] * 4))
    assert np.isfinite(two["coverage"]) and np.isnan(two["coverage_low"])
    assert np.isnan(two["coverage_below"])
    # no 90% coverage in the scores: none is claimed
    assert np.isnan(boot["coverage_90"]) and np.isnan(boot["coverage_90_low"])
    # the 90% coverage (the level the reports quote) gets its own interval and shares: 0.8
    # everywhere is 10 points short of 0.9, 0.91 is within the margin
    short = _m_against_b(both.assign(pit_coverage_90=0.8 + np.tile(wobble, 2)))
    assert short["coverage_90"] == pytest.approx(0.8) and short["coverage_90_below"] > 0.95
    assert short["coverage_90_low"] < 0.8 < short["coverage_90_high"] < 0.85
    fine = _m_against_b(both.assign(pit_coverage_90=[0.95, 0.87] * 20 + np.tile(wobble, 2)))
    assert fine["coverage_90"] == pytest.approx(0.91)
    assert fine["coverage_90_below"] < 0.05 and fine["coverage_90_above"] < 0.05


def _m_against_b(scores: pd.DataFrame) -> dict:
    return skill_intervals(scores, "m", "b")


def test_combine_backtests_refuses_runs_that_differ():
    import pandas as pd

    from analysis import evaluation
    from analysis.errors import InputError

    origins = tuple(pd.date_range("2022-01-01", periods=3, freq="3MS"))

    def result(names, horizon=12):
        frame = pd.DataFrame({"model": list(names), "crps": 1.0})
        return evaluation.BacktestResult(frame, tuple(names), dict.fromkeys(names, True),
                                         origins, horizon, 200, 0)  # fmt: skip

    both = evaluation.combine_backtests(result(["a"]), result(["b", "c"]))
    assert both.models == ("a", "b", "c") and len(both.scores) == 3
    with pytest.raises(InputError, match="horizon"):
        evaluation.combine_backtests(result(["a"]), result(["b"], horizon=6))
    with pytest.raises(InputError, match="both score"):
        evaluation.combine_backtests(result(["a"]), result(["a"]))


def test_backtest_scores_p_surge_against_what_happened():
    """The overview's P(surge), scored: per origin and region the share of paths whose 3-step
    total reaches the threshold (factor times the last 12 periods' mean, at least the study's
    `min_events`), beside whether the observed total did; `zero` never forecasts a surge, so
    its Brier score is the share of windows that surged."""
    from analysis.evaluation import SURGE_STEPS, surge_scorecard
    from analysis.models.risk import surge_threshold

    h = _history(R=6, T=48, seed=4)
    bt = backtest(h, ["zero", "recent_mean_3", "nb_climatology"], start="2017-06",
                  horizon=6, n_samples=200, seed=1, stride=3, surge_factor=2.0,
                  surge_min_events=4)  # fmt: skip
    surge = bt.meta["surge"]
    assert bt.meta["surge_rule"] == {
        "surge_factor": 2.0, "min_events": 4, "steps": 3, "lookback": 12
    }  # fmt: skip
    assert set(surge["model"]) == {"zero", "recent_mean_3", "nb_climatology"}
    origin = bt.origins[2]
    t = int((h.periods <= origin).sum())
    row = surge[(surge["model"] == "zero") & (surge["origin"] == origin)].set_index("region_id")
    recent = h.counts[:, t - 12 : t].mean(axis=1)
    thr = surge_threshold(recent, 2.0, SURGE_STEPS, 4)
    assert (thr >= 4).all()
    total = h.counts[:, t : t + SURGE_STEPS].sum(axis=1)
    np.testing.assert_array_equal(row.loc[list(h.region_ids), "threshold"], thr)
    np.testing.assert_array_equal(row.loc[list(h.region_ids), "surge"], total >= thr)
    assert (surge.loc[surge["model"] == "zero", "p_surge"] == 0).all()
    # only windows whose 3 periods are all observed are scored
    assert all(_window_known(h, o) for o in surge["origin"].unique())
    assert set(surge["origin"]) == {o for o in bt.origins if _window_known(h, o)}
    card = surge_scorecard(bt, "recent_mean_3")
    zero = surge[surge["model"] == "zero"]
    assert card["brier"]["zero"] == pytest.approx(zero["surge"].mean())
    assert card["surges"] == int(zero["surge"].sum()) and card["n"] == len(zero)
    assert card["best_baseline"] in {"zero", "nb_climatology"}
    assert card["difference_low"] <= card["difference"] <= card["difference_high"]
    # the origins whose window is not yet observed are named, for the overview's sentence
    assert card["left_out"] == tuple(o for o in bt.origins if not _window_known(h, o))
    assert card["origins"] + len(card["left_out"]) == len(bt.origins)
    assert card["rule"] == bt.meta["surge_rule"]
    assert card["alerts"] is None and card["alert_hits"] is None  # no alert probability given
    own = surge[surge["model"] == "recent_mean_3"]
    for p in (0.1, 0.3):
        alerted = surge_scorecard(bt, "recent_mean_3", alert=p)
        assert alerted["alerts"] == int((own["p_surge"] > p).sum())
        assert alerted["alert_hits"] == int(((own["p_surge"] > p) & own["surge"]).sum())
        assert alerted["alert"] == p
    assert surge_scorecard(backtest(h, ["zero"], start="2017-06", horizon=6, n_samples=10,
                                    stride=3), "zero") is None  # fmt: skip


def _window_known(h, origin) -> bool:
    """Whether the 3 periods after ``origin`` are all in the history."""
    return int((h.periods <= origin).sum()) + 3 <= h.counts.shape[1]


def test_surge_floor_reaches_the_backtests_scores():
    """The backtest scores P(surge) under the rule it is given: a higher floor raises every
    sparse region's threshold, so fewer windows surge and no model's P(surge) rises; a floor
    below 1 is refused before any model is fitted."""
    from analysis import evaluation
    from analysis.errors import InputError

    h = _history(R=6, T=48, seed=4)

    def surges(k: int) -> pd.DataFrame:
        return backtest(h, ["recent_mean_3", "nb_climatology"], start="2017-06", horizon=3,
                        n_samples=200, seed=1, stride=3, surge_factor=2.0,
                        surge_min_events=k).meta["surge"]  # fmt: skip

    runs = {k: surges(k) for k in (1, 6)}
    low, high = runs[1], runs[6]
    assert (low["threshold"] < 6).any() and (high["threshold"] >= 6).all()
    np.testing.assert_array_equal(high["threshold"], np.maximum(low["threshold"], 6))
    assert high["surge"].sum() < low["surge"].sum()
    assert (high["p_surge"] <= low["p_surge"]).all()
    for bad in (0, 1.5):
        with pytest.raises(ValueError, match="min_events"):
            backtest(h, ["zero"], horizon=3, surge_factor=2.0, surge_min_events=bad)
    # one scorecard cannot pool windows scored under two rules
    one = backtest(h, ["zero"], start="2017-06", horizon=3, n_samples=10, stride=3,
                   surge_factor=2.0, surge_min_events=1)  # fmt: skip
    two = backtest(h, ["recent_mean_3"], start="2017-06", horizon=3, n_samples=10, stride=3,
                   surge_factor=2.0, surge_min_events=6)  # fmt: skip
    with pytest.raises(InputError, match="surge rules"):
        evaluation.combine_backtests(one, two)


def test_best_baseline_is_the_lowest_mean_crps_among_the_baselines_given() -> None:
    from analysis.evaluation import best_baseline

    scores = pd.DataFrame({"model": ["a", "a", "b", "b", "m", "m"],
                           "crps": [1.0, 3.0, 2.5, 1.0, 0.1, 0.1]})  # fmt: skip
    assert best_baseline(scores, ["a", "b"]) == "b"  # 1.75 < 2.0; the non-baseline m ignored
    assert best_baseline(scores, ["a"]) == "a"
    assert best_baseline(scores, ["missing"]) is None


def test_backtest_scores_window_totals_where_every_outcome_is_known():
    """Each region's total over steps 1..k, from the paths' sums: only where the k outcomes
    after the origin are all observed, against their sum, scored by the per-step estimators."""
    from analysis.cross_validation import origin_indices
    from analysis.errors import InputError
    from analysis.models.registry import get

    h = _history(R=6, T=40, seed=3)
    models = ["zero", "recent_mean_3", "nb_climatology"]
    bt = backtest(h, models, start="2017-06", horizon=6, n_samples=100, seed=1,
                  focus=["XX-0"])  # fmt: skip
    totals = bt.meta["totals"]
    assert set(totals["steps"]) == {3, 6}  # NEAR_STEPS and the horizon
    T = h.counts.shape[1]
    for k in (3, 6):
        rows = totals[totals["steps"] == k]
        seen = {o: int((h.periods <= o).sum()) for o in bt.origins}
        # every region at the origins whose k periods are in the history, and no other
        assert set(rows["origin"]) == {o for o, t in seen.items() if t + k <= T}
        assert (rows.groupby(["model", "origin"]).size() == 6).all()
        # the observed total is the sum of the per-step outcomes of that origin and region
        steps = bt.scores[bt.scores["step"] <= k]
        keys = ["model", "origin", "region_id"]
        per = steps.groupby(keys).agg(observed=("observed", "sum"), n=("step", "size"),
                                      mean=("mean", "sum"), group=("group", "first"))  # fmt: skip
        both = rows.merge(per.reset_index(), on=keys, suffixes=("", "_steps"))
        assert len(both) == len(rows) and (both["n"] == k).all()
        np.testing.assert_array_equal(both["observed"], both["observed_steps"])
        np.testing.assert_allclose(both["mean"], both["mean_steps"])  # mean of sums
        assert (both["group"] == both["group_steps"]).all()
        assert (rows["q05"] <= rows["median"]).all() and (rows["median"] <= rows["q95"]).all()
    assert set(totals.loc[totals["region_id"] == "XX-0", "group"]) == {"focus"}
    # the CRPS of one total is the per-step estimator on the summed paths (seed + t per origin)
    origin = bt.origins[4]
    t = origin_indices(h, start=origin, end=origin, horizon=6)[0]
    paths = get("recent_mean_3").fit(h.until(t)).forecast(6, 100, 1 + t).samples
    row = totals[(totals["model"] == "recent_mean_3") & (totals["origin"] == origin)
                 & (totals["steps"] == 3)].set_index("region_id")  # fmt: skip
    sums = paths[:, :3].sum(axis=1)
    np.testing.assert_allclose(row.loc[list(h.region_ids), "crps"],
                               crps_ensemble(h.counts[:, t : t + 3].sum(axis=1), sums))  # fmt: skip
    np.testing.assert_array_equal(
        row.loc[list(h.region_ids), "q95"],
        np.quantile(sums, 0.95, axis=1, method="inverted_cdf"),
    )
    # other windows, none, or a window longer than the horizon
    short = backtest(h, ["zero"], start="2017-06", horizon=6, n_samples=10, total_steps=(2,))
    assert set(short.meta["totals"]["steps"]) == {2}
    assert "totals" not in backtest(h, ["zero"], start="2017-06", horizon=6, n_samples=10,
                                    total_steps=()).meta  # fmt: skip
    two = backtest(h, ["zero"], start="2017-06", horizon=2, n_samples=10)
    assert set(two.meta["totals"]["steps"]) == {2}  # the 3-step window does not fit
    with pytest.raises(InputError, match="total_steps"):
        backtest(h, ["zero"], horizon=6, total_steps=(7,))


_LAM, _ALPHA = 0.8, 0.3


def _own_lag_paths(level, start, n_steps, n_paths, rng):
    """Own-lag NB process ``mu = level * (1 - lam) + lam * y[t-1]`` from ``start`` counts."""
    from analysis.simulate import draw_negative_binomial

    out = np.empty((len(level), n_steps, n_paths), dtype=np.int64)
    prev = np.repeat(np.asarray(start, float)[:, None], n_paths, axis=1)
    for step in range(n_steps):
        out[:, step] = draw_negative_binomial(level[:, None] * (1 - _LAM) + _LAM * prev,
                                              _ALPHA, rng)  # fmt: skip
        prev = out[:, step].astype(float)
    return out


def _own_lag_forecasters(level: np.ndarray):
    """The true process from the last count (paths coherent across months), and the same
    paths with each month's draws shuffled apart: the same monthly margins, drawn as if the
    months were independent."""
    from dataclasses import dataclass

    from analysis.models.forecast import Fitted, Forecaster

    @dataclass(frozen=True)
    class OwnLagFitted(Fitted):
        level: np.ndarray
        shuffle: bool

        def sample_paths(self, horizon, n, rng):
            paths = _own_lag_paths(self.level, self.history.counts[:, -1], horizon, n, rng)
            return rng.permuted(paths, axis=2) if self.shuffle else paths

    @dataclass(frozen=True)
    class OwnLag(Forecaster):
        name: str = "own_lag"
        shuffle: bool = False

        def fit(self, history):
            return OwnLagFitted(history, self.name, level, self.shuffle)

    return OwnLag(), OwnLag(name="independent_months", shuffle=True, is_baseline=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_totals_coverage_sees_months_drawn_independently(seed):
    """Months of a strongly dependent process (own lag 0.8) forecast from the true process:
    the per-step scores of coherent paths and of the same margins drawn independently are
    identical, but the independent months' 6-month totals are too narrow and their 90%
    intervals cover far less (checked over 40 seeds: a gap of at least 0.17, the coherent
    paths' coverage 0.85-0.93, the independent months' at most 0.76)."""
    R, T = 30, 60
    rng = np.random.default_rng(seed)
    level = np.exp(rng.normal(1.0, 0.5, R))
    y = _own_lag_paths(level, level.round(), T + 50, 1, rng)[:, 50:, 0]  # stationary
    h = History(y, tuple(f"ZZ-{i:02d}" for i in range(R)),
                pd.date_range("2015-01-01", periods=T, freq="MS"))  # fmt: skip
    bt = backtest(h, list(_own_lag_forecasters(level)), start="2018-01", horizon=6,
                  n_samples=200, seed=seed)  # fmt: skip
    s = bt.scores.set_index(["model", "origin", "region_id", "step"]).sort_index()
    for col in ("crps", "pit_coverage_90"):
        np.testing.assert_array_equal(s.loc["own_lag", col], s.loc["independent_months", col])
    cover = bt.meta["totals"].groupby(["steps", "model"])["pit_coverage_90"].mean()
    coherent, independent = cover[(6, "own_lag")], cover[(6, "independent_months")]
    assert 0.8 < coherent < 0.97
    assert independent < 0.8 and coherent - independent > 0.1
    assert cover[(3, "own_lag")] > cover[(3, "independent_months")]
    card = total_scorecard(bt, "own_lag", 6)
    assert card["pit_coverage_90"] == pytest.approx(coherent)
    assert card["best_baseline"] == "independent_months" and card["df"] >= 2


def test_total_scorecard_skill_against_the_best_baseline_with_intervals():
    from analysis.evaluation import combine_backtests, first_steps

    # enough origins for an interval: enough independent windows among the overlapping ones
    h = _history(R=8, T=60, seed=5)
    kw = {"start": "2017-06", "horizon": 6, "n_samples": 100, "seed": 1}
    bt = backtest(h, ["zero", "recent_mean_3", "nb_climatology", "local_level"], **kw)
    totals = bt.meta["totals"]
    dfs = {}
    for k in (3, 6):
        card = total_scorecard(bt, "local_level", k)
        rows = totals[totals["steps"] == k]
        crps = rows.groupby("model")["crps"].mean()
        best = crps[["zero", "recent_mean_3", "nb_climatology"]].idxmin()
        assert card["best_baseline"] == best
        assert card["crps"] == pytest.approx(crps.to_dict())
        assert card["skill"] == pytest.approx(1 - crps["local_level"] / crps[best])
        assert card["skill_low"] < card["skill"] < card["skill_high"]
        own = rows[rows["model"] == "local_level"]
        for lev in (80, 90):
            c = card[f"pit_coverage_{lev}"]
            assert c == pytest.approx(own[f"pit_coverage_{lev}"].mean())
            assert card[f"pit_coverage_{lev}_low"] <= c <= card[f"pit_coverage_{lev}_high"]
        assert card["n"] == len(own) and card["origins"] == own["origin"].nunique()
        # the intervals as printed: the observed total inside [q05, q95] of the path sums
        inside = ((own["observed"] >= own["q05"]) & (own["observed"] <= own["q95"])).mean()
        assert card["printed_90"] == pytest.approx(inside)
        assert card["printed_90"] >= card["pit_coverage_90"] - 1e-12  # an edge count holds
        # and which side the others fell on, counted from the same quantiles
        assert card["printed_90_above"] == int((own["observed"] > own["q95"]).sum())
        assert card["printed_90_below"] == int((own["observed"] < own["q05"]).sum())
        assert card["printed_90_above"] + card["printed_90_below"] == round(
            card["n"] * (1 - card["printed_90"])
        )
        dfs[k] = card["df"]
    # an origin every period: windows of k steps overlap the next k - 1 origins', so the
    # 6-month totals are worth fewer independent windows than the 3-month ones
    assert 2 <= dfs[6] < dfs[3]
    quiet = total_scorecard(bt, "local_level", 3, groups=["quiet", "active"])
    assert quiet["n"] == int(((totals["model"] == "local_level") & (totals["steps"] == 3)
                              & totals["group"].isin(["quiet", "active"])).sum())  # fmt: skip
    # from too few independent windows: the point values, no interval or verdict
    short = backtest(_history(R=8, T=48, seed=5), ["zero", "local_level"],
                     **{**kw, "start": "2018-04"})  # fmt: skip
    few = total_scorecard(short, "local_level", 6)
    assert few["origins"] == 3 and not few["df"] >= MIN_DF
    assert np.isfinite(few["pit_coverage_90"]) and np.isfinite(few["skill"])
    for key in ("skill_low", "pit_coverage_90_high", "pit_coverage_90_below"):
        assert np.isnan(few[key])
    assert total_scorecard(bt, "local_level", 4) is None
    assert total_scorecard(bt, "ensemble", 3) is None
    # the reports' steps keep the windows that fit in them
    assert set(first_steps(bt, 4).meta["totals"]["steps"]) == {3}
    assert first_steps(bt, 2).meta["totals"].empty
    assert first_steps(bt, 6).meta["totals"] is totals
    # two runs on the same origins join their totals, and each model keeps its numbers
    other = backtest(h, ["ensemble"], **kw)
    both = combine_backtests(bt, other)
    assert len(both.meta["totals"]) == len(totals) + len(other.meta["totals"])
    joined = total_scorecard(both, "ensemble", 6)
    assert joined["crps"]["ensemble"] == pytest.approx(
        total_scorecard(other, "ensemble", 6)["crps"]["ensemble"]
    )
    assert joined["best_baseline"] == total_scorecard(bt, "local_level", 6)["best_baseline"]


def test_any_event_scorecard_scores_p_any_over_the_window_against_the_best_baseline():
    """The reports print P(at least 1 event) over the horizon: its Brier score on the
    backtest's windows of that length, paired with the best baseline's over origins."""
    h = _history(R=8, T=60, seed=5)
    bt = backtest(h, ["zero", "recent_mean_3", "nb_climatology", "local_level"],
                  start="2017-06", horizon=6, n_samples=100, seed=1)  # fmt: skip
    totals = bt.meta["totals"]
    rows = totals[totals["steps"] == 6]
    # the Brier score of P(total >= 1), from the windows' own columns
    brier = ((rows["p_any"] - (rows["observed"] >= 1)) ** 2).groupby(rows["model"]).mean()
    card = any_event_scorecard(bt, "local_level", 6)
    assert card["brier"] == pytest.approx(brier.to_dict())
    best = brier[["zero", "recent_mean_3", "nb_climatology"]].idxmin()
    assert card["best_baseline"] == best
    assert card["difference"] == pytest.approx(brier["local_level"] - brier[best])
    assert card["difference_low"] < card["difference"] < card["difference_high"]
    own = rows[rows["model"] == "local_level"]
    assert card["n"] == len(own) and card["with_event"] == int((own["observed"] >= 1).sum())
    quiet = any_event_scorecard(bt, "local_level", 6, groups=["quiet"])
    assert quiet is None or quiet["n"] == int((own["group"] == "quiet").sum())
    assert any_event_scorecard(bt, "local_level", 5) is None  # no window of that length


def _window_totals(
    miss: dict, n_origins: int = 60, regions: str = "ABC", every: int = 1, steps: int = 6
) -> pd.DataFrame:
    """One ``steps``-month total per origin (``every`` months apart) and region for a model
    and a baseline; ``miss`` maps (origin index, region) to +1 (outcome above the printed 90%
    interval) or -1."""
    rng = np.random.default_rng(0)
    rows = []
    starts = pd.period_range("2010-01", periods=n_origins * every, freq="M")[::every]
    for i, origin in enumerate(starts):
        for region in regions:
            side = miss.get((i, region), 0)
            for model in ("m", "b"):
                rows.append(
                    {
                        "model": model, "origin": origin.to_timestamp(), "region_id": region,
                        "step": steps, "period": (origin + steps).to_timestamp(),
                        "crps": rng.gamma(2.0), "pit_coverage_80": float(not side),
                        "pit_coverage_90": float(not side), "closed_coverage_90": float(not side),
                        "pit_above_median": float(side > 0) if side else float(rng.random() < 0.5),
                    }
                )  # fmt: skip
    return pd.DataFrame(rows)


def test_the_split_of_interval_misses_is_tested_over_origins_not_as_independent_misses():
    """Totals of neighbouring origins share months, so one burst puts several of them above
    their intervals: 8 such misses from consecutive origins are not the evidence of 8
    independent ones (a sign test: p 0.008), while misses all above, spread over regions and
    origins, are; an even split is no evidence of a side."""
    burst = _window_totals({(i, "A"): 1 for i in range(20, 28)})
    card = skill_intervals(burst, "m", "b", window="step")
    assert (card["printed_90_above"], card["printed_90_below"]) == (8, 0)
    assert stats.binomtest(8, 8, 0.5).pvalue < 0.01
    assert card["printed_90_miss_p"] > 0.05
    spread = {(i, r): 1 for i in range(60) for j, r in enumerate("ABC") if (i + j) % 5 == 0}
    many = skill_intervals(_window_totals(spread), "m", "b", window="step")
    assert many["printed_90_above"] == len(spread) and many["printed_90_miss_p"] < 0.01
    even = {(i, "A"): (1 if k % 2 else -1) for k, i in enumerate(range(2, 58, 7))}
    balanced = skill_intervals(_window_totals(even), "m", "b", window="step")
    assert balanced["printed_90_miss_p"] == pytest.approx(1.0)
    # a few misses of windows that share nothing: never more significant than the exact sign
    # test (4 of 4 above, 0.125), which the test over origins alone had undercut (0.039)
    # (the next quarter's totals: 3 months from origins 3 months apart, 12 origins, 10 regions)
    isolated = {(i, r): 1 for i, r in ((1, "A"), (4, "C"), (7, "F"), (10, "I"))}
    quarters = _window_totals(isolated, n_origins=12, regions="ABCDEFGHIJ", every=3, steps=3)
    few = skill_intervals(quarters, "m", "b", window="step")
    assert few["printed_90_miss_p"] >= stats.binomtest(4, 4, 0.5).pvalue
    # no miss: nothing to split
    assert np.isnan(
        skill_intervals(_window_totals({}), "m", "b", window="step")["printed_90_miss_p"]
    )


def group_scores(n_origins: int, drift: float = 0.0) -> pd.DataFrame:
    """Step-1 scores of a model ``m`` and baselines ``b1`` and ``b2`` in an active and a
    quiet region, one origin a month: ``b2`` is the better baseline in the active region,
    ``b1`` in the quiet one and over both; ``drift`` times the month is added to every score."""
    rows = []
    for origin in pd.date_range("2019-01-01", periods=n_origins, freq="MS"):
        for group, region, crps in (("active", "A", {"m": 1.0, "b1": 1.2, "b2": 1.05}),
                                    ("quiet", "Q", {"m": 0.1, "b1": 0.1, "b2": 0.5})):  # fmt: skip
            for model, value in crps.items():
                rows.append({"model": model, "origin": origin, "region_id": region, "step": 1,
                             "period": origin + pd.DateOffset(months=1), "group": group,
                             "crps": value + drift * origin.month})  # fmt: skip
    return pd.DataFrame(rows)


def test_each_groups_best_baseline_is_a_composite_of_the_groups_own_best():
    """Pooled over every region the best baseline can be poor within a group (the real
    study's conflictology in the active regions); the composite takes each group's best."""
    from analysis.evaluation import GROUP_BEST, best_baseline, group_best_baselines

    scores = group_scores(6)
    composite, chosen = group_best_baselines(scores, ["b1", "b2"])
    assert chosen == {"active": "b2", "quiet": "b1"}
    assert set(composite["model"]) == {GROUP_BEST} and len(composite) == 12
    # pooled, b1 is best (mean 0.65 against 0.775) and m's skill is 1 - 0.55 / 0.65;
    # against the composite (1.05 and 0.1) it is 1 - 0.55 / 0.575
    assert best_baseline(scores, ["b1", "b2"]) == "b1"
    both = pd.concat([scores, composite], ignore_index=True)
    assert skill_intervals(both, "m", GROUP_BEST)["skill"] == pytest.approx(1 - 0.55 / 0.575)
    assert skill_intervals(scores, "m", "b1")["skill"] == pytest.approx(1 - 0.55 / 0.65)
