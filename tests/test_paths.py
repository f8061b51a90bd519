"""Sample paths are joint: window totals have the spread the process has, for recursive and
direct models alike (a direct model drawing months independently fails these checks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.models.forecast import History
from analysis.models.nbglm import nb_quantile, step_correlation
from analysis.models.registry import get
from analysis.simulate import draw_negative_binomial

R, T, H = 60, 96, 12


def _ar_paths(level, lam, alpha, start, n_steps, n_paths, rng):
    """Own-lag NB process ``mu = level * (1 - lam) + lam * y[t-1]`` from ``start`` counts."""
    out = np.empty((len(level), n_steps, n_paths), dtype=np.int64)
    prev = np.repeat(start[:, None].astype(float), n_paths, axis=1)
    for h in range(n_steps):
        mu = level[:, None] * (1 - lam) + lam * prev
        out[:, h] = draw_negative_binomial(mu, alpha, rng)
        prev = out[:, h].astype(float)
    return out


@pytest.fixture(scope="module")
def ar_panel():
    """Regions with strong own-lag dependence (lam 0.6), heterogeneous levels."""
    rng = np.random.default_rng(11)
    level = np.exp(rng.normal(1.0, 0.6, R))
    y = _ar_paths(level, 0.6, 0.3, level.round(), T, 1, rng)[:, :, 0]
    hist = History(y, tuple(f"ZZ-{i:02d}" for i in range(R)),
                   pd.date_range("2012-01-01", periods=T, freq="MS"))  # fmt: skip
    truth = _ar_paths(level, 0.6, 0.3, y[:, -1], H, 4000, rng)
    return hist, truth


def _spread_ratio(paths: np.ndarray, truth: np.ndarray) -> float:
    """Median over regions of SD(12-month total, model) / SD(12-month total, truth)."""
    return float(np.median(paths.sum(axis=1).std(axis=1) / truth.sum(axis=1).std(axis=1)))


@pytest.mark.parametrize("name", ["pooled_nb", "nb_glm"])
def test_window_totals_have_the_spread_of_the_process(ar_panel, name):
    hist, truth = ar_panel
    paths = get(name).fit(hist).sample_paths(H, 2000, np.random.default_rng(3))
    ratio = _spread_ratio(paths, truth)
    # the same monthly margins drawn independently: what the direct models used to do
    rng = np.random.default_rng(4)
    shuffled = np.stack([paths[:, h, rng.permutation(2000)] for h in range(H)], axis=1)
    indep = _spread_ratio(shuffled, truth)
    assert 0.75 < ratio < 1.5, ratio
    assert indep < 0.8 * ratio  # independence visibly under-disperses the totals


@pytest.mark.parametrize("name", ["local_level", "damped_trend"])
def test_recursive_level_paths_carry_their_level_forward(ar_panel, name):
    """The level models assume a random-walk level, so their totals are wider than this
    stationary truth's; what must hold is that a path that starts high stays high."""
    hist, truth = ar_panel
    paths = get(name).fit(hist).sample_paths(H, 2000, np.random.default_rng(3))
    busy = hist.counts[:, -12:].mean(axis=1) > 2
    corr = [np.corrcoef(paths[r, 0], paths[r, -1])[0, 1] for r in np.flatnonzero(busy)]
    assert np.median(corr) > 0.1  # independent months: 0
    rng = np.random.default_rng(4)
    shuffled = np.stack([paths[:, h, rng.permutation(2000)] for h in range(H)], axis=1)
    assert _spread_ratio(paths, truth) > 1.25 * _spread_ratio(shuffled, truth)


def test_hurdle_paths_keep_busy_and_quiet_runs(ar_panel):
    hist, truth = ar_panel
    paths = get("hurdle").fit(hist).sample_paths(H, 1000, np.random.default_rng(5))
    assert 0.7 < _spread_ratio(paths, truth) < 1.6


def test_step_correlation_is_a_correlation_matrix():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 200))
    res = [z + 0.5 * rng.standard_normal((5, 200)) for _ in range(4)]
    C = step_correlation(res)
    assert C.shape == (4, 4) and np.allclose(np.diag(C), 1)
    assert np.all(np.linalg.eigvalsh(C) > 0)
    assert 0.7 < C[0, 1] < 0.9  # 1 / (1 + 0.25)


def test_nb_quantile_matches_scipy():
    from scipy import stats

    rng = np.random.default_rng(1)
    u = rng.uniform(size=5000)
    mu = rng.gamma(0.5, 8, size=5000)
    a = np.where(rng.uniform(size=5000) < 0.3, 0.0, rng.uniform(0.01, 3, size=5000))
    ref = np.where(
        a < 1e-8, stats.poisson.ppf(u, mu), stats.nbinom.ppf(u, 1 / np.maximum(a, 1e-9),
                                                            1 / (1 + a * mu))
    )  # fmt: skip
    np.testing.assert_array_equal(nb_quantile(u, mu, a), ref)
