"""Spatial hurdle forecaster: both parts against statsmodels, truncated sampling, no look-ahead."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.discrete.truncated_model import TruncatedLFNegativeBinomialP

from analysis.models.forecast import History, forecast
from analysis.models.hurdle import (
    FEATURES,
    fit_logistic,
    fit_truncated_nb,
    origin_features,
    truncated_nb_quantile,
)
from analysis.models.registry import get as get_forecaster
from analysis.simulate import simulate_nb_panel, synthetic_panel

_panel = synthetic_panel


def test_logistic_part_matches_statsmodels():
    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(2000), rng.normal(size=(2000, 2))])
    z = (rng.uniform(size=2000) < 1 / (1 + np.exp(-(X @ [-0.5, 1.0, -0.7])))).astype(float)
    b, cov = fit_logistic(X, z, np.full(3, 1e-10))
    ref = sm.Logit(z, X).fit(disp=0)
    np.testing.assert_allclose(b, ref.params, atol=1e-6)
    np.testing.assert_allclose(cov, ref.cov_params(), rtol=1e-4)


def test_truncated_nb_part_matches_statsmodels_and_recovers_the_truth():
    rng = np.random.default_rng(1)
    n = 6000
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    beta, alpha = np.array([0.8, 0.5]), 0.6
    mu = np.exp(X @ beta)
    y = rng.poisson(mu * rng.gamma(1 / alpha, alpha, n))
    keep = y > 0
    b, a, cov = fit_truncated_nb(X[keep], y[keep].astype(float), np.full(2, 1e-10))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = TruncatedLFNegativeBinomialP(y[keep], X[keep], p=2).fit(disp=0, maxiter=500)
    np.testing.assert_allclose(b, ref.params[:2], atol=2e-3)
    np.testing.assert_allclose(a, ref.params[2], rtol=2e-2)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), ref.bse[:2], rtol=0.1)
    # and the truth lies within 4 standard errors
    assert np.all(np.abs(b - beta) < 4 * np.sqrt(np.diag(cov)))


def test_truncated_quantile_has_the_closed_form_mean():
    rng = np.random.default_rng(2)
    mu, alpha = np.full(200_000, 0.7), 0.5
    s = truncated_nb_quantile(rng.uniform(size=mu.shape), mu, alpha)
    r = 1 / alpha
    p0 = stats.nbinom.pmf(0, r, r / (r + 0.7))
    assert s.min() >= 1
    np.testing.assert_allclose(s.mean(), 0.7 / (1 - p0), rtol=0.01)


def test_features_use_only_the_past_and_neighbours_fall_back_to_country():
    y = np.zeros((3, 30), dtype=np.int64)
    y[0, 10] = 5
    F_ids = ("ZZ-1", "ZZ-2", "ZZ-3")
    F = origin_features(y, F_ids)
    assert F.shape == (3, 30, len(FEATURES))
    # nothing of the event is known before it happens
    np.testing.assert_array_equal(F[:, :10], origin_features(np.zeros_like(y), F_ids)[:, :10])
    assert F[1, 10, FEATURES.index("neighbours_mean_3")] > 0  # unknown ids: same country


def test_no_look_ahead_and_seeds():
    sim = simulate_nb_panel(8, 72, level_sd=1.0, season_amplitude=0.3, seed=4)
    clean = _panel(sim.counts)
    poisoned = clean.copy()
    late = poisoned["period"] > pd.Timestamp("2016-06-01")
    poisoned.loc[late, "events"] = 10**7
    poisoned.attrs = clean.attrs
    a = forecast("hurdle", clean, origin="2016-06", horizon=3, n_samples=100, seed=3)
    b = forecast("hurdle", poisoned, origin="2016-06", horizon=3, n_samples=100, seed=3)
    np.testing.assert_array_equal(a.samples, b.samples)
    c = forecast("hurdle", clean, origin="2016-06", horizon=3, n_samples=100, seed=4)
    assert not np.array_equal(a.samples, c.samples)


def test_forecast_mean_tracks_the_simulated_levels():
    """Stationary NB panel: the hurdle's predictive mean per region is close to the truth."""
    sim = simulate_nb_panel(20, 96, level_mean=1.0, level_sd=0.8, dispersion=0.3, seed=6)
    h = History(sim.counts, sim.region_ids, sim.periods)
    res = get_forecaster("hurdle").fit(h).forecast(2, 2000, seed=1)
    truth = sim.means[:, -1]  # no season: constant over time
    ratio = res.mean().mean(axis=1) / truth
    assert np.median(np.abs(np.log(ratio))) < 0.15
