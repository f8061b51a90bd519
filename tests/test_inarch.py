"""Tests of analysis.models.inarch: the NB autoregression with an own-lag term."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from analysis.models import inarch as m
from analysis.simulate import simulate_ownlag_series


@pytest.mark.parametrize("own_lag", [0.3, 0.7])
def test_inarch_recovers_simulated_parameters(own_lag):
    # 1500 months of the simulator's stationary NB autoregression (level 4, marginal alpha 0.5):
    # the long-run level, the own-lag share and the conditional dispersion come back.
    rng = np.random.default_rng(int(own_lag * 10))
    s = simulate_ownlag_series(4.0, 0.0, own_lag, 0.5, rng, n_periods=1500)
    fit = m.inarch_mle(s.counts, np.ones((1500, 1)))
    assert fit.converged
    se = np.sqrt(np.diag(fit.cov_model))
    assert abs(fit.params[0] - np.log(4.0)) < 3 * se[0] + 0.02
    assert abs(fit.own_lag - own_lag) < 3 * se[1] + 0.02
    assert fit.alpha == pytest.approx(s.dispersion, rel=0.35, abs=0.03)
    # the model-based and score-outer-product covariances agree when the model is right
    assert np.sqrt(fit.cov_robust[1, 1]) == pytest.approx(se[1], rel=0.3)


def test_inarch_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    s = simulate_ownlag_series(3.0, 40.0, 0.5, 0.5, rng, n_periods=40)
    y = s.counts.astype(float)
    X = np.column_stack([np.ones(40), np.arange(40) / 12])
    seg = np.r_[np.zeros(20), np.ones(20)]
    first = np.r_[True, seg[1:] != seg[:-1]]
    prev = np.r_[0.0, y[:-1]]
    theta = np.array([1.0, 0.2, 0.4, np.log(0.3)])
    grad = m._parts(theta, y, X, prev, first)[1]
    numeric = optimize.approx_fprime(
        theta, lambda t: np.sum(m._parts(t, y, X, prev, first)[0]), 1e-6
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-4)


def test_inarch_segment_start_has_no_own_lag_term():
    # The first period of a segment gets the long-run mean: changing the period before it
    # (in the other segment) leaves that period's likelihood contribution unchanged.
    y = np.array([1.0, 5.0, 2.0, 3.0, 0.0, 4.0])
    X = np.ones((6, 1))
    seg = np.array([0, 0, 0, 1, 1, 1])
    first = np.r_[True, seg[1:] != seg[:-1]]
    theta = np.array([np.log(2.0), 0.5, np.log(0.2)])
    y2 = y.copy()
    y2[2] = 9.0
    ll1 = m._parts(theta, y, X, np.r_[0.0, y[:-1]], first)[0]
    ll2 = m._parts(theta, y2, X, np.r_[0.0, y2[:-1]], first)[0]
    assert ll1[3] == pytest.approx(ll2[3])
