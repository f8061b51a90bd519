"""Damped trend: slopes shrunk by empirical Bayes, growth extrapolated damped; auto's rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.models.auto import choose
from analysis.models.damped_trend import DampedTrendNB, shrunk_slopes
from analysis.models.forecast import History
from analysis.simulate import draw_negative_binomial


def _growth_panel(seed=0, n_flat=30, T=72, growth=0.06):
    """One region growing by ``growth`` a month, ``n_flat`` flat ones at rate 2."""
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    mu = np.vstack([3.0 * np.exp(growth * (t - T + 1)) * 8, np.full((n_flat, T), 2.0)])
    y = draw_negative_binomial(mu, 0.2, rng).astype(np.int64)
    ids = tuple(f"ZZ-{i:02d}" for i in range(n_flat + 1))
    return History(y, ids, pd.date_range("2015-01-01", periods=T, freq="MS")), mu


def test_slopes_are_shrunk_for_flat_regions_and_kept_for_a_clear_trend():
    h, _ = _growth_panel()
    slope, var, tau2 = shrunk_slopes(h.counts[:, -36:], 12)
    # a normal prior fitted to 30 flat regions and one growing one shrinks the outlier too
    # (by about a third here): growth is followed, but conservatively
    assert 0.025 < slope[0] < 0.07  # per month; truth 0.06
    assert np.median(np.abs(slope[1:])) < 0.2 * slope[0]  # noise pulled toward 0
    assert tau2 > 0 and (var >= 0).all()


def test_growth_is_extrapolated_damped_not_compounded():
    h, mu = _growth_panel(seed=1)
    model = DampedTrendNB(phi=0.7)
    fitted = model.fit(h)
    m = fitted.forecast(24, 4000, seed=2).mean()[0]
    g = fitted.growth[0]
    # the step-24 mean exceeds the step-1 mean by at most the damped bound, far below the
    # undamped growth exp(g * 23)
    bound = np.exp(g * 0.7 / 0.3)
    assert m[-1] / m[0] < 1.15 * bound
    assert m[-1] / m[0] < 0.5 * np.exp(g * 23)
    # the discounted level lags a growing series; the catch-up moves step 1 toward the true
    # current rate (the shrunk slope keeps it below)
    from analysis.models.registry import get

    level_only = get("local_level").fit(h).forecast(1, 4000, seed=2).mean()[0, 0]
    true_next = mu[0, -1] * np.exp(0.06)
    assert level_only * 1.2 < m[0] < true_next * 1.1
    # flat regions stay flat
    flat = fitted.forecast(24, 2000, seed=3).mean()[1:]
    assert np.median(flat[:, -1] / flat[:, 0]) == pytest.approx(1.0, abs=0.1)


def test_choose_prefers_the_simpler_within_monte_carlo_error():
    scores = {"simple": (1.002, 0.001**2), "complex": (1.000, 0.001**2)}
    assert choose(scores, ("simple", "complex"), 2.0)[0] == "simple"
    scores = {"simple": (1.010, 0.001**2), "complex": (1.000, 0.001**2)}
    chosen, why = choose(scores, ("simple", "complex"), 2.0)
    assert chosen == "complex" and "lowest" in why
