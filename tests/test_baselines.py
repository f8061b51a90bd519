"""Baselines: each draws from the distribution it states, from the past only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.models.forecast import History
from analysis.models.registry import get as get_forecaster


def _history() -> History:
    rng = np.random.default_rng(0)
    y = rng.poisson([[0.0], [0.5], [3.0], [12.0]], size=(4, 36)).astype(np.int64)
    y[0] = 0
    return History(
        y, ("A-1", "A-2", "B-1", "B-2"), pd.date_range("2017-01-01", periods=36, freq="MS")
    )


def _draw(name: str, h: History, horizon=4, n=20_000, seed=1) -> np.ndarray:
    return get_forecaster(name).fit(h).forecast(horizon, n, seed).samples


def test_zero_is_zero():
    s = _draw("zero", _history(), n=10)
    assert s.shape == (4, 4, 10) and not s.any()


@pytest.mark.parametrize("name,k", [("last_value", 1), ("recent_mean_3", 3), ("recent_mean_6", 6)])
def test_poisson_baselines_centre_on_recent_mean(name, k):
    h = _history()
    s = _draw(name, h)
    target = h.counts[:, -k:].mean(axis=1)
    assert np.all(np.abs(s.mean(axis=(1, 2)) - target) <= 0.06 + 0.02 * target)
    # Poisson: variance equals the mean
    assert np.all(np.abs(s.var(axis=(1, 2)) - target) <= 0.1 + 0.05 * target)


def test_conflictology_resamples_the_last_twelve_periods():
    h = _history()
    s = _draw("conflictology", h)
    for r in range(4):
        last = h.counts[r, -12:]
        assert set(np.unique(s[r])) <= set(last)
        for v in np.unique(last):
            assert (s[r] == v).mean() == pytest.approx((last == v).mean(), abs=0.01)


def test_nb_climatology_matches_moments_of_last_24():
    h = _history()
    s = _draw("nb_climatology", h, n=50_000)
    y = h.counts[:, -24:].astype(float)
    np.testing.assert_allclose(s.mean(axis=(1, 2)), y.mean(1), rtol=0.03, atol=0.02)
    # variance is the sample variance when overdispersed, else Poisson
    target_var = np.maximum(y.var(1, ddof=1), y.mean(1))
    np.testing.assert_allclose(s.var(axis=(1, 2)), target_var, rtol=0.08, atol=0.05)


@pytest.mark.parametrize(
    "name",
    ["zero", "last_value", "recent_mean_3", "recent_mean_6", "conflictology", "nb_climatology"],
)
def test_baselines_never_see_the_future(name):
    h = _history()
    cut = h.until(30)
    poisoned = h.counts.copy()
    poisoned[:, 30:] = 10**6
    hp = History(poisoned, h.region_ids, h.periods).until(30)
    a = get_forecaster(name).fit(cut).forecast(3, 200, 5).samples
    b = get_forecaster(name).fit(hp).forecast(3, 200, 5).samples
    np.testing.assert_array_equal(a, b)
    assert get_forecaster(name).is_baseline
