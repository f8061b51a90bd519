"""Batched NB IRLS against statsmodels, and recovery of known parameters."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm

from analysis.errors import InputError
from analysis.models.glm import fit_nb_batched, fit_nb_batched_alpha, moment_alpha, sample_nb


def _problems(B=12, n=90, p=4, alpha=0.7, seed=3):
    rng = np.random.default_rng(seed)
    X = np.concatenate([np.ones((B, n, 1)), rng.normal(size=(B, n, p - 1)) * 0.6], axis=2)
    beta = rng.normal(size=(B, p)) * 0.3 + np.r_[0.8, np.zeros(p - 1)]
    mu = np.exp(np.einsum("bnp,bp->bn", X, beta))
    y = rng.poisson(mu * rng.gamma(1 / alpha, alpha, size=mu.shape))
    return X, y, beta


def test_batched_fit_matches_statsmodels_fixed_alpha():
    X, y, _ = _problems()
    fit = fit_nb_batched(X, y, 0.7, tol=1e-12)
    assert fit.converged.all()
    for b in range(X.shape[0]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = sm.GLM(y[b], X[b], family=sm.families.NegativeBinomial(alpha=0.7)).fit(
                tol=1e-13, maxiter=200
            )
        np.testing.assert_allclose(fit.coef[b], ref.params, atol=1e-6)
        # covariance: inverse expected information, as statsmodels' IRLS reports it
        np.testing.assert_allclose(fit.cov[b], ref.cov_params(), rtol=1e-5, atol=1e-9)


def test_padding_with_mask_gives_the_same_fit():
    X, y, _ = _problems(B=3)
    full = fit_nb_batched(X[:, :60], y[:, :60], 0.7)
    Xp = X.copy()
    Xp[:, 60:] = np.nan  # padding may hold anything
    yp = y.astype(float)
    yp[:, 60:] = -5
    mask = np.zeros(y.shape)
    mask[:, :60] = 1
    padded = fit_nb_batched(Xp, yp, 0.7, mask=mask)
    np.testing.assert_allclose(padded.coef, full.coef, atol=1e-9)


def test_recovers_known_coefficients_within_standard_errors():
    X, y, beta = _problems(B=200, n=400, p=3, alpha=0.5, seed=11)
    fit = fit_nb_batched(X, y, 0.5)
    z = (fit.coef - beta) / np.sqrt(np.einsum("bii->bi", fit.cov))
    # standardised errors ~ N(0, 1): 95% of them inside +-1.96
    inside = (np.abs(z) < 1.96).mean()
    assert 0.92 < inside < 0.98
    assert abs(z.mean()) < 0.15


def test_moment_alpha_recovers_dispersion():
    X, y, beta = _problems(B=4, n=5000, p=2, alpha=0.5, seed=5)
    fit = fit_nb_batched_alpha(X, y)
    assert np.all(np.abs(fit.alpha - 0.5) < 0.08)
    assert np.all(np.abs(moment_alpha(X, y, beta) - 0.5) < 0.08)


def test_sample_nb_has_nb2_mean_and_variance():
    rng = np.random.default_rng(0)
    x = sample_nb(np.full(200_000, 4.0), 0.5, rng)
    assert abs(x.mean() - 4.0) < 0.05
    assert abs(x.var() - (4.0 + 0.5 * 16.0)) < 0.3
    p = sample_nb(np.full(100_000, 3.0), 0.0, rng)
    assert abs(p.var() - 3.0) < 0.1


def test_all_zero_series_stays_finite_with_a_small_ridge():
    X = np.ones((1, 40, 1))
    fit = fit_nb_batched(X, np.zeros((1, 40)), 0.5, ridge=1e-3)
    assert np.isfinite(fit.coef).all() and fit.coef[0, 0] < -5


def test_bad_input_is_rejected():
    with pytest.raises(InputError):
        fit_nb_batched(np.ones((2, 5)), np.ones((2, 5)), 0.5)
    with pytest.raises(InputError):
        fit_nb_batched(np.ones((1, 5, 1)), -np.ones((1, 5)), 0.5)
    with pytest.raises(InputError):
        fit_nb_batched(np.ones((1, 5, 1)), np.ones((1, 5)), -1.0)
