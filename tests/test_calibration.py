"""Spread calibration: the Beta(c, c) fit recovers c, widening fixes a too-narrow forecast's
coverage and CRPS on new data, and paths keep their ranks (coherent totals)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.errors import InputError
from analysis.models.calibration import (
    MIN_PIT,
    central_coverage,
    ensemble_pit,
    fit_symmetric_beta,
    recalibrate_paths,
)
from analysis.scoring import crps_ensemble, randomized_pit


@pytest.mark.parametrize("c", [0.6, 1.0, 2.0])
def test_fit_recovers_the_beta_parameter(c):
    rng = np.random.default_rng(3)
    assert fit_symmetric_beta(rng.beta(c, c, size=20_000)) == pytest.approx(c, rel=0.05)


def test_too_few_pit_values_leave_the_forecast_alone():
    assert fit_symmetric_beta(np.full(MIN_PIT - 1, 0.01)) == 1.0
    with pytest.raises(InputError):
        fit_symmetric_beta(np.linspace(-1, 1, 500))


def _narrow_forecasts(rng, R, H, n, alpha=0.25):
    """Truth NB(mu, alpha) with heterogeneous mu; the forecast is Poisson(mu): too narrow."""
    mu = np.exp(rng.normal(0.5, 1.0, size=(R, 1)))
    lam = mu * rng.gamma(1 / alpha, alpha, size=(R, H))
    y = rng.poisson(lam)
    paths = rng.poisson(np.broadcast_to(mu[..., None], (R, H, n)))
    return y, paths


def test_widening_learned_on_past_forecasts_calibrates_new_ones():
    rng = np.random.default_rng(11)
    y_past, f_past = _narrow_forecasts(rng, 200, 6, 400)
    c = fit_symmetric_beta(ensemble_pit(y_past, f_past, rng))
    assert c < 0.8  # too narrow: PIT values pile up at both ends
    y, f = _narrow_forecasts(rng, 400, 6, 400)
    g = recalibrate_paths(f, c, rng)
    before = central_coverage(randomized_pit(y, f, rng))
    after = central_coverage(randomized_pit(y, g, rng))
    assert before < 0.75 and abs(after - 0.8) < 0.025
    assert crps_ensemble(y, g).mean() < crps_ensemble(y, f).mean()
    # a calibrated forecast is (almost) left alone
    y2 = rng.poisson(np.full((300, 6), 3.0))
    f2 = rng.poisson(np.full((300, 6, 400), 3.0))
    assert fit_symmetric_beta(ensemble_pit(y2, f2, rng)) == pytest.approx(1.0, abs=0.06)


def test_paths_keep_their_ranks_and_their_dependence_across_steps():
    rng = np.random.default_rng(5)
    level = rng.gamma(2.0, 2.0, size=(3, 1, 500))  # one level per path: steps correlate
    paths = rng.poisson(np.broadcast_to(level, (3, 6, 500)))
    out = recalibrate_paths(paths, 0.5, rng)
    assert out.shape == paths.shape and out.dtype == np.int64
    for r in range(3):
        for h in range(6):
            a, b = paths[r, h], out[r, h]
            assert set(b) <= set(a)  # only the model's own counts
            i, j = np.meshgrid(np.arange(500), np.arange(500), indexing="ij")
            assert not np.any((a[i] < a[j]) & (b[i] > b[j]))  # order kept
        assert out[r].std(axis=1).mean() > paths[r].std(axis=1).mean()  # wider
        rho_in = np.corrcoef(paths[r, 0], paths[r, 5])[0, 1]
        rho_out = np.corrcoef(out[r, 0], out[r, 5])[0, 1]
        assert rho_out > 0.8 * rho_in > 0.3
    np.testing.assert_array_equal(recalibrate_paths(paths, 1.0, rng), paths)


def test_ensemble_pit_is_uniform_for_exchangeable_draws_even_with_few_samples():
    rng = np.random.default_rng(2)
    draws = rng.poisson(0.7, size=(20_000, 20))  # many ties, many zeros
    p = ensemble_pit(draws[:, 0], draws[:, 1:], rng)
    assert 0 < p.min() and p.max() < 1
    np.testing.assert_allclose(np.histogram(p, bins=10, range=(0, 1))[0] / len(p), 0.1, atol=0.01)
    # the empirical-CDF PIT puts an observation above all 19 samples at exactly 1
    assert (randomized_pit(draws[:, 0], draws[:, 1:], rng) == 1).mean() > 0.001


def test_ensemble_pit_of_an_unknown_observation_is_nan():
    """An outcome not yet observed has no place among the samples; it read as a PIT near 0,
    which a caller that did not mask it would take for a forecast far too high."""
    rng = np.random.default_rng(3)
    obs = np.array([2.0, np.nan, 0.0])
    p = ensemble_pit(obs, rng.poisson(1.0, size=(3, 50)), rng)
    assert np.isnan(p[1]) and np.isfinite(p[[0, 2]]).all()
