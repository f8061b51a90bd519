"""The registry lists every model, and each one goes through a backtest end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.evaluation import backtest, scorecard
from analysis.models import registry
from analysis.models.forecast import Fitted, Forecaster, History
from analysis.simulate import draw_negative_binomial, first_order_weights


@pytest.fixture(scope="module")
def mali(boundaries):
    """Five years of own-lag NB counts on the real Mali units (the spillover model needs
    their adjacency)."""
    from analysis.geography import adjacency_order_matrix

    ids = list(boundaries.regions_of(["MLI"])["region_id"])
    rng = np.random.default_rng(8)
    w = first_order_weights(adjacency_order_matrix(ids, boundaries))
    level = np.exp(rng.normal(0.0, 1.0, len(ids)))
    y = np.zeros((len(ids), 60), dtype=np.int64)
    prev = level.copy()
    for t in range(60):
        mu = 0.6 * level + 0.3 * prev + 0.1 * (w @ prev)
        y[:, t] = draw_negative_binomial(mu, 0.5, rng)
        prev = y[:, t].astype(float)
    return History(y, tuple(ids), pd.date_range("2015-01-01", periods=60, freq="MS"))


def test_every_model_is_listed_and_built_lazily():
    names = registry.available()
    for expected in ("auto", "spillover", "damped_trend", "local_level", "pooled_nb", "hurdle",
                     "stacking", "zero", "conflictology", "ensemble_local",
                     "ensemble_climatology"):  # fmt: skip
        assert expected in names
    assert set(registry.ENTRIES) <= set(names)
    with pytest.raises(InputError, match="unknown model"):
        registry.get("no_such_model")


@pytest.mark.parametrize("name", sorted(registry.ENTRIES))
def test_each_model_round_trips_through_backtest(name, mali, boundaries):
    # (a focus trend of the spillover model is not identified on these trendless data)
    f = registry.get(name, boundaries=boundaries, horizon=2)
    assert isinstance(f, Forecaster) and f.name == name
    if name in {"sarimax", "ets"}:  # slow references: a few regions suffice
        hist = History(mali.counts[:3], mali.region_ids[:3], mali.periods)
    else:
        hist = mali
    peer = "last_value" if name == "zero" else "zero"
    bt = backtest(hist, [f, peer], start="2019-06", end="2019-07", horizon=2,
                  n_samples=40, seed=1, focus=["ML-1"])  # fmt: skip
    sc = scorecard(bt, paired=False)
    row = {r["model"]: r for r in sc["models"]}[name]
    R = len(hist.region_ids)
    assert row["n_forecasts"] == R * 2 * 2  # two origins, two steps, every region
    assert np.isfinite(row["crps"]) and 0 <= row["pit_coverage_80"] <= 1
    assert set(bt.scores["group"]) <= {"focus", "active", "quiet"}
    assert (bt.scores.loc[bt.scores["region_id"] == "ML-1", "group"] == "focus").all()
    fitted = f.fit(hist)
    assert isinstance(fitted, Fitted)
    paths = fitted.sample_paths(3, 7, np.random.default_rng(0))
    assert paths.shape == (R, 3, 7) and paths.dtype == np.int64 and (paths >= 0).all()


def test_models_command_lists_every_model_once_with_its_own_description():
    import json

    from typer.testing import CliRunner

    from analysis.cli import app

    res = CliRunner().invoke(app, ["models", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)["models"]
    assert [r["model"] for r in rows] == registry.available()
    # two models described alike would tell a user nothing about which to pick ("ensemble_hybrid"
    # and "ensemble_local" both read "local-level and pooled NB" when they took the class default)
    duplicated = pd.Series([r["description"] for r in rows]).duplicated(keep=False)
    assert not duplicated.any(), [r["model"] for r, d in zip(rows, duplicated, strict=True) if d]
    baselines = {r["model"] for r in rows if r["is_baseline"]}
    assert baselines == {"zero", "last_value", "recent_mean_3", "recent_mean_6", "conflictology",
                         "nb_climatology"}  # fmt: skip
    table = CliRunner().invoke(app, ["models"])
    assert table.exit_code == 0 and "nb_climatology_36" in table.output
