"""auto's pieces for regions whose counts swing around a stable mean: weighted mixtures with the
36-month NB climatology, block scores on the freshest inner origins, and a focus spread that
the other regions cannot narrow (analysis/models/auto.py, benchmarks/auto_replay.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.models.auto import AUTO_CANDIDATES, AutoForecaster
from analysis.models.ensemble import Ensemble, mix_paths
from analysis.models.forecast import History
from analysis.models.registry import get
from analysis.simulate import simulate_nb_panel


def _flat_history(level: int = 10, n_periods: int = 40) -> History:
    counts = np.full((2, n_periods), level, dtype=np.int64)
    periods = pd.date_range("2015-01-01", periods=n_periods, freq="MS")
    return History(counts, ("A-1", "A-2"), periods)


def test_weighted_ensemble_draws_each_member_in_proportion():
    h = _flat_history()
    ens = Ensemble(name="w", members=("zero", "recent_mean_6"), weights=(1.0, 3.0))
    np.testing.assert_allclose(ens.mixture_weights(), [0.25, 0.75])
    paths = ens.fit(h).sample_paths(3, 8000, np.random.default_rng(0))
    # zero gives 0; Poisson(10) almost never does (P = 4.5e-5)
    share_zero = (paths == 0).mean()
    assert share_zero == pytest.approx(0.25, abs=0.02)
    # equal weights unless given
    np.testing.assert_allclose(Ensemble(members=("zero", "last_value")).mixture_weights(), 0.5)
    with pytest.raises(InputError, match="non-negative weights"):
        Ensemble(members=("zero", "last_value"), weights=(1.0, -1.0)).mixture_weights()
    with pytest.raises(InputError, match="non-negative weights"):
        Ensemble(members=("zero", "last_value"), weights=(1.0,)).mixture_weights()


def test_climatology36_mixtures_weigh_the_36_month_climatology_as_stated():
    half, heavy = get("ensemble_climatology36"), get("ensemble_climatology36_heavy")
    assert half.members[-1] == heavy.members[-1] == "nb_climatology_36"
    assert half.mixture_weights()[-1] == pytest.approx(0.5)
    assert heavy.mixture_weights()[-1] == pytest.approx(0.75)
    # a member of auto's mixtures, not a rung of the baseline ladder
    assert not get("nb_climatology_36").is_baseline and get("nb_climatology").is_baseline
    nb = get("nb_climatology_36").fit(_flat_history(n_periods=60))
    np.testing.assert_allclose(nb.mean, 10.0)


@pytest.fixture(scope="module")
def stable():
    # counts swing around stable regional means (independent NB draws): the long-window NB
    # climatology is the true model and recent levels only chase noise
    sim = simulate_nb_panel(8, 84, level_mean=1.5, level_sd=0.5, dispersion=1.0, seed=3)
    return History(sim.counts, sim.region_ids, sim.periods)


def test_fresh_blocks_are_scored_on_the_latest_origins_whose_steps_are_observed(stable):
    T = stable.counts.shape[1]
    cheap = ("recent_mean_6", "conflictology")
    auto = AutoForecaster(candidates=cheap, horizon=6, blocks=(3,), inner_samples=100,
                          focus=(stable.region_ids[0],))  # fmt: skip
    ev = auto.evaluate(stable)
    label = lambda t: f"{stable.periods[t - 1]:%Y-%m}"  # noqa: E731
    # steps 1-3 of an origin 3 periods before the end are observed: the block uses it; steps
    # 4-6 need origins 6 periods back, as do the scores over all steps
    assert ev["block_origins"]["1-3"][-1] == label(T - 3)
    assert ev["block_origins"]["4-6"][-1] == label(T - 6)
    assert ev["origins"][-1] == label(T - 6)
    assert len(ev["block_origins"]["1-3"]) == len(ev["block_origins"]["4-6"]) == 12
    for g in ev["scores"]:
        for key, by_model in ev["scores"][g].items():
            assert all(np.isfinite(s) for s, _ in by_model.values())
            assert all(np.isfinite(p).all() for p in ev["pit"][g][key].values())


@pytest.mark.slow
def test_auto_leans_on_the_long_climatology_where_it_is_the_truth(stable):
    # on these data the regions around the focus should take a climatology mixture at the
    # long steps, clearly
    auto = AutoForecaster(horizon=12, inner_samples=200, focus=(stable.region_ids[0],))
    fitted = auto.fit(stable)
    groups = fitted.evidence["groups"]
    for block in groups["focus"]["blocks"]:
        assert {c["model"] for c in block["candidates"]} == set(AUTO_CANDIDATES)
    last = groups["other"]["blocks"][-1]
    assert last["steps"] == "10-12"
    climatology = {"ensemble_climatology", "ensemble_climatology36", "ensemble_climatology36_heavy"}
    assert last["chosen"] in climatology
    scores = {c["model"]: c for c in last["candidates"]}
    pick, level = scores[last["chosen"]], scores["ensemble_local"]
    # better than the level mixture by more than the paired Monte Carlo error allows
    assert level["crps_fair"] - pick["crps_fair"] > auto.tolerance * level["mc_se_diff"]
    assert fitted.plan["other"][-1] == last["chosen"]
    assert "whose steps of that block are observed" in fitted.evidence["rule"]


def test_the_climatology36_mixtures_are_candidates_after_the_simpler_ones():
    assert AutoForecaster().candidates == AUTO_CANDIDATES
    assert AUTO_CANDIDATES[-2:] == ("ensemble_climatology36", "ensemble_climatology36_heavy")


def test_focus_spread_is_the_wider_of_the_pooled_and_its_own(stable):
    cheap = ("recent_mean_6", "conflictology")
    auto = AutoForecaster(candidates=cheap, horizon=6, blocks=(3,), inner_samples=100,
                          focus=(stable.region_ids[0],))  # fmt: skip
    fitted = auto.fit(stable)
    cal = fitted.evidence["spread_calibration"]
    assert cal["c"] == fitted.spread and cal["c_focus"] == fitted.focus_spread
    assert fitted.focus_spread <= fitted.spread
    assert 0 < cal["n_pit_focus"] < cal["n_pit"]
    # a smaller focus c widens the focus's paths only; the others' are untouched
    plain = replace(fitted, spread=1.0, focus_spread=1.0)
    wide = replace(fitted, spread=1.0, focus_spread=0.5)
    a = plain.sample_paths(6, 4000, np.random.default_rng(5))
    b = wide.sample_paths(6, 4000, np.random.default_rng(5))
    np.testing.assert_array_equal(a[1:], b[1:])
    # (the map moves each value to another sampled value, so the spread grows within the
    # sampled range: here 1.23 times in standard deviation)
    assert b[0].std() > 1.1 * a[0].std()


def test_the_spread_calibration_never_widens_beyond_its_floor(stable):
    """The fitted c is recorded; the c used is never below ``min_spread`` (one outbreak's tail
    PIT values among 12 overlapping inner origins pulled it to 0.5 in Mali, 2012-15)."""
    from analysis.models.auto import MIN_SPREAD

    cheap = ("recent_mean_6", "conflictology")
    kw = dict(candidates=cheap, horizon=6, blocks=(3,), inner_samples=100,
              focus=(stable.region_ids[0],))  # fmt: skip
    free = AutoForecaster(min_spread=0.25, **kw).fit(stable)
    cal = free.evidence["spread_calibration"]
    assert cal["c"] == cal["c_fitted"] and cal["c_focus"] == cal["c_focus_fitted"]
    # a floor above what these data fitted binds, and only the c used changes
    floor = max(cal["c_fitted"], cal["c_focus_fitted"]) + 0.1
    capped = AutoForecaster(min_spread=floor, **kw).fit(stable)
    cal2 = capped.evidence["spread_calibration"]
    assert cal2["c_fitted"] == cal["c_fitted"] and cal2["c_focus_fitted"] == cal["c_focus_fitted"]
    assert capped.spread == capped.focus_spread == floor == cal2["min_c"]
    assert f"neither goes below {floor:g}" in cal2["rule"]
    assert AutoForecaster().min_spread == MIN_SPREAD == 0.8


def test_ensembles_fitted_on_one_history_share_their_members_fits(stable):
    local, climatology = get("ensemble_local").fit(stable), get("ensemble_climatology").fit(stable)
    assert local.members[0] is climatology.members[0]  # the local level, fitted once
    assert get("ensemble_local").fit(stable.until(60)).members[0] is not local.members[0]
    # sharing the fit changes nothing: the same paths as with each member fitted afresh
    fresh = [get(m).fit(stable) for m in get("ensemble_local").members]
    np.testing.assert_array_equal(
        local.sample_paths(6, 300, np.random.default_rng(2)),
        mix_paths(fresh, local.weights, 6, 300, np.random.default_rng(2)),
    )


def test_the_rule_says_how_many_inner_origins_a_short_history_gave():
    # 52 quarters: 36 to train leave few origins 3 periods apart, far from the rule's 12
    sim = simulate_nb_panel(4, 52, level_mean=1.5, level_sd=0.5, dispersion=1.0, seed=5)
    quarters = pd.date_range("2008-01-01", periods=52, freq="QS")
    history = History(sim.counts, sim.region_ids, quarters, "quarter")
    cheap = ("recent_mean_6", "conflictology")
    auto = AutoForecaster(candidates=cheap, horizon=4, blocks=(3,), inner_samples=100,
                          focus=(history.region_ids[0],))  # fmt: skip
    fitted = auto.fit(history)
    used = [len(v) for v in fitted.evidence["block_origins"].values()]
    assert max(used) < auto.inner_origins
    expected = str(used[0]) if len(set(used)) == 1 else f"{used[0]} and {used[1]}"
    assert "up to the 12 latest inner origins 3 periods apart" in fitted.evidence["rule"]
    assert f"are observed (here {expected})," in fitted.evidence["rule"]
    # quiet regions: no event in the last year, 4 quarters, as the onset forecasts' quiet units
    assert "no event in the last 4 periods" in fitted.evidence["quiet_regions"]["rule"]
    assert fitted.quiet_window == 4
    # its inner origins are quarters, labelled as such
    origins = fitted.evidence["origins"]
    assert origins and all(o[4] == "Q" for o in origins)
