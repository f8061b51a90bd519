"""Tests of the cross-validated choice of the spillover model's endemic offsets and damping."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.models.forecast import panel_to_history
from analysis.models.spillover import SpilloverForecaster
from analysis.models.spillover_select import choose_spillover
from analysis.panel import from_matrix
from analysis.simulate import simulate_demo


@pytest.fixture(scope="module")
def demo_panel(boundaries):
    """The demo's counts (heterogeneous regions, Kayes surging) for 2018-01 .. 2022-12."""
    demo = simulate_demo(boundaries=boundaries)
    n = 60
    return from_matrix(demo.counts[:, :n], demo.region_ids, demo.periods[:n], "month", boundaries)


@pytest.mark.slow
def test_choice_is_the_best_eligible_candidate_and_is_recorded(demo_panel, boundaries):
    choice = choose_spillover(
        demo_panel, boundaries=boundaries, focus=["ML-1"], horizon=6, dampings=(0.6, 0.9),
        n_origins=2, spacing=6, n_samples=120, seed=1,
    )  # fmt: skip
    s = choice.scores
    assert len(s) == 2 * 3 and s["chosen"].sum() == 1
    best = s[s["eligible"]]["crps"].idxmin()
    assert s.loc[best, "chosen"]
    assert (choice.endemic_effects, choice.damping) == tuple(
        s.loc[best, ["endemic_effects", "damping"]]
    )
    assert choice.damping < 1.0 and not s.loc[s["damping"] == 1.0, "eligible"].any()
    assert np.all(s["crps"] > 0) and s.loc[best, "diff"] == 0.0
    assert choice.origins == ("2021-12", "2022-06")
    # the chosen model names regions as the panel does (the command's JSON had read "ML-1")
    names = demo_panel.drop_duplicates("region_id").set_index("region_id")["region_name"]
    assert choice.model.region_names[choice.model.region_ids.index("ML-1")] == names["ML-1"]
    assert names["ML-1"] != "ML-1"
    assert all(n >= 1 for n in choice.n_regions_scored)
    record = json.loads(json.dumps(choice.to_dict()))
    assert record["endemic_effects"] == choice.endemic_effects
    assert len(record["candidates"]) == 6
    # the chosen options build the registered forecaster
    fc = SpilloverForecaster(
        boundaries=boundaries,
        focus=("ML-1",),
        endemic_effects=choice.endemic_effects,
        damping=choice.damping,
    ).fit(panel_to_history(demo_panel))
    assert fc.spillover.fit.spec.trend_damping == choice.damping
    assert fc.spillover.endemic_effects == choice.endemic_effects


def test_bad_choices(demo_panel):
    with pytest.raises(InputError, match="effects"):
        choose_spillover(demo_panel, effects=("county",))
    with pytest.raises(InputError, match="dampings"):
        choose_spillover(demo_panel, dampings=(1.2,))
    with pytest.raises(InputError, match="dampings"):
        choose_spillover(demo_panel, dampings=(0.0,))
    short = demo_panel[pd.to_datetime(demo_panel["period"]) < "2019-06-01"]
    with pytest.raises(InputError, match="too short"):
        choose_spillover(short, horizon=12)
    with pytest.raises(InputError, match="endemic_effects"):
        SpilloverForecaster(endemic_effects="county")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="damping"):
        SpilloverForecaster(damping=0.0)


def test_a_history_without_events_forecasts_none_rather_than_failing(demo_panel, boundaries):
    """An early backtest origin of a short conflict sees no event: the spillover model's
    fit had raised there, and every report of such a study (Togo's 2005 violence) failed."""
    history = panel_to_history(demo_panel)
    empty = replace(history, counts=np.zeros_like(history.counts))
    fitted = SpilloverForecaster(boundaries=boundaries, focus=("ML-1",)).fit(empty)
    assert fitted.model == "spillover"
    paths = fitted.sample_paths(3, 20, np.random.default_rng(0))
    assert paths.shape == (len(history.region_ids), 3, 20) and not paths.any()


def test_a_quarterly_choice_labels_its_origins_as_quarters(demo_panel, boundaries):
    """The spillover command's JSON gave a quarterly study's cross-validation origins as the
    quarters' first months ("2016-10" for 2016Q4)."""
    quarters = pd.date_range("2006-01-01", periods=demo_panel["period"].nunique(), freq="QS")
    ids = list(dict.fromkeys(demo_panel["region_id"]))
    counts = demo_panel.pivot(index="region_id", columns="period", values="events").loc[ids]
    quarterly = from_matrix(counts.to_numpy(np.int64), ids, quarters, "quarter", boundaries)
    choice = choose_spillover(
        quarterly, boundaries=boundaries, focus=["ML-1"], horizon=2, effects=("country",),
        dampings=(0.9,), n_origins=2, spacing=2, n_samples=40, seed=1,
    )  # fmt: skip
    # 2006Q1-2020Q4: the last origin leaves the horizon's 2 quarters to score, the one before
    # is 2 quarters earlier
    assert quarters[-1] == pd.Timestamp("2020-10-01")
    assert choice.origins == ("2019Q4", "2020Q2")
    assert json.loads(json.dumps(choice.to_dict()))["origins"] == list(choice.origins)
