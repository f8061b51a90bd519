"""Stacking: exact mixture CRPS, optimal weights (closed form), no look-ahead, seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.models.forecast import History, forecast, panel_to_history
from analysis.models.registry import get as get_forecaster
from analysis.models.stacking import Stacking, crps_terms, stacking_weights
from analysis.scoring import crps_ensemble
from analysis.simulate import simulate_nb_panel, synthetic_panel

_panel = synthetic_panel


def test_quadratic_form_is_the_crps_of_the_mixture():
    rng = np.random.default_rng(0)
    n, M = 40, 50
    obs = rng.poisson(3.0, n)
    s1 = rng.poisson(2.0, (n, M))
    s2 = rng.negative_binomial(2, 0.3, (n, M))
    a, D = crps_terms(obs, [s1, s2])
    # one member alone: its own CRPS
    np.testing.assert_allclose(a[0] - 0.5 * D[0, 0], crps_ensemble(obs, s1).mean(), rtol=1e-12)
    # equal weights: the pooled samples are exactly the mixture's empirical distribution
    w = np.array([0.5, 0.5])
    pooled = np.concatenate([s1, s2], axis=1)
    np.testing.assert_allclose(w @ a - 0.5 * w @ D @ w, crps_ensemble(obs, pooled).mean())


def test_two_member_weights_match_the_closed_form():
    rng = np.random.default_rng(1)
    obs = rng.poisson(4.0, 300)
    s1 = rng.poisson(3.0, (300, 100))
    s2 = rng.poisson(6.0, (300, 100))
    a, D = crps_terms(obs, [s1, s2])
    t = (a[1] - a[0] + D[0, 1] - D[1, 1]) / (2 * D[0, 1] - D[0, 0] - D[1, 1])
    assert 0 < t < 1
    w = stacking_weights(a, D)
    np.testing.assert_allclose(w, [t, 1 - t], atol=1e-5)
    # shrinkage pulls towards equal weights
    w_s = stacking_weights(a, D, shrinkage=100.0)
    assert abs(w_s[0] - 0.5) < abs(w[0] - 0.5)


def test_a_useless_member_gets_no_weight():
    sim = simulate_nb_panel(12, 84, level_mean=1.5, level_sd=0.5, dispersion=0.3, seed=2)
    h = History(sim.counts, tuple(f"ZZ-{i}" for i in range(12)), sim.periods)
    st = Stacking(members=("nb_climatology", "zero"), inner_origins=12, inner_samples=200)
    w, n = st.weights(h)
    assert n == 12
    assert w[1] < 0.05 and w[0] > 0.95


@pytest.mark.parametrize("model", ["stacking"])
def test_no_look_ahead_and_seeds(model):
    sim = simulate_nb_panel(8, 72, level_sd=1.0, season_amplitude=0.3, seed=4)
    clean = _panel(sim.counts)
    poisoned = clean.copy()
    late = poisoned["period"] > pd.Timestamp("2016-06-01")
    poisoned.loc[late, "events"] = 10**7
    poisoned.attrs = clean.attrs
    a = forecast(model, clean, origin="2016-06", horizon=3, n_samples=100, seed=3)
    b = forecast(model, poisoned, origin="2016-06", horizon=3, n_samples=100, seed=3)
    np.testing.assert_array_equal(a.samples, b.samples)
    c = forecast(model, clean, origin="2016-06", horizon=3, n_samples=100, seed=4)
    assert not np.array_equal(a.samples, c.samples)
    assert a.samples.shape == (8, 3, 100) and a.samples.dtype == np.int64


def test_weights_are_reported_and_sum_to_one():
    sim = simulate_nb_panel(6, 72, level_sd=1.0, seed=5)
    f = get_forecaster("stacking").fit(panel_to_history(_panel(sim.counts)))
    w = f.weights
    assert set(w) == set(get_forecaster("stacking").members)
    assert abs(sum(w.values()) - 1) < 1e-9 and min(w.values()) >= 0
    assert f.inner_origins == 24
