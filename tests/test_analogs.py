"""The reference class of quiet regions: which continuations it holds, and how auto mixes it in."""

from dataclasses import replace

import numpy as np
import pytest

from analysis.models import analogs
from analysis.models.auto import ANALOG_WEIGHT, AutoForecaster
from analysis.models.forecast import History
from analysis.simulate import simulate_nb_panel


def quiet_analog_paths(counts, horizon, quiet_window, lookback, adjacency=None, near=None):
    """The reference class of one side (all quiet region-origins when ``near`` is None)."""
    found = analogs.quiet_analogs(counts, horizon, quiet_window, lookback, adjacency)
    return analogs.reference_class(*found, near)


def test_analog_paths_are_the_continuations_of_quiet_region_origins():
    # 60 regions, 12 periods: region r has one event at period r % 12 (quiet window 3)
    counts = np.zeros((60, 12), dtype=np.int64)
    counts[np.arange(60), np.arange(60) % 12] = 1 + np.arange(60) // 12
    pool = quiet_analog_paths(counts, horizon=2, quiet_window=3, lookback=4)
    expected = []
    # origins (index of their last period): latest 12 - 1 - 2 = 9, four back: 6..9
    for t in range(6, 10):
        quiet = counts[:, t - 2 : t + 1].sum(axis=1) == 0
        expected.append(counts[quiet, t + 1 : t + 3])
    expected = np.concatenate(expected)
    assert pool.shape == expected.shape == (4 * 45, 2)
    assert np.array_equal(pool, expected)
    # a region quiet at origin 9 with its event at period 10 continues as [its count, 0]
    assert [5, 0] in pool.tolist() and [0, 5] in pool.tolist()


def test_too_small_a_reference_class_gives_no_paths():
    counts = np.ones((5, 40), dtype=np.int64)
    counts[:3, 20:30] = 0  # three regions quiet at a few origins only
    pool = quiet_analog_paths(counts, horizon=6, quiet_window=6, lookback=36)
    assert pool.shape == (0, 6)
    # a horizon longer than the history leaves no origin at all
    assert quiet_analog_paths(counts, 45, 6, 36).shape == (0, 45)


def test_mix_in_analogs_replaces_a_weighted_share_of_the_quiet_rows_only():
    rng = np.random.default_rng(0)
    paths = np.full((3, 4, 20000), 7, dtype=np.int64)
    pool = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    rows = np.array([False, True, True])
    out = analogs.mix_in_analogs(paths, rows, pool, 0.3, rng)
    assert np.array_equal(out[0], paths[0])
    for r in (1, 2):
        from_pool = out[r, 0] != 7
        assert from_pool.mean() == pytest.approx(0.3, abs=0.015)
        # whole paths, in step order: every replaced sample is one row of the pool
        picked = out[r][:, from_pool].T
        assert all(list(p) in pool.tolist() for p in picked[:200])
    assert np.array_equal(analogs.mix_in_analogs(paths, rows, pool, 0.0, rng), paths)


@pytest.fixture(scope="module")
def spreading():
    # eight busy regions and 24 sporadic ones (about one event in 16 months); the last six
    # sporadic ones are silent for the final 12 months, so they are quiet at the origin
    busy = simulate_nb_panel(8, 84, level_mean=2.0, level_sd=0.3, dispersion=0.5, seed=8)
    rng = np.random.default_rng(8)
    sporadic = rng.poisson(0.06, size=(24, 84)) * rng.integers(1, 4, size=(24, 84))
    sporadic[-6:, -12:] = 0
    counts = np.vstack([busy.counts, sporadic]).astype(np.int64)
    ids = (*busy.region_ids, *(f"S-{i:02d}" for i in range(24)))
    return History(counts, ids, busy.periods)


def test_auto_gives_quiet_regions_the_reference_class_at_its_weight(spreading):
    cheap = ("recent_mean_6", "conflictology")
    # one busy and one quiet focus region: the focus keeps the chosen model's paths
    focus = (spreading.region_ids[0], spreading.region_ids[-1])
    auto = AutoForecaster(candidates=cheap, horizon=6, blocks=(3,), inner_samples=100,
                          focus=focus, analog_lookback=60)  # fmt: skip
    fitted = auto.fit(spreading)
    assert fitted.analog_weight == ANALOG_WEIGHT > 0
    assert "reference class" in fitted.evidence["quiet_regions"]["rule"]
    pool = quiet_analog_paths(spreading.counts, 6, 12, 60)
    assert len(pool) >= analogs.MIN_ANALOGS
    own = replace(fitted, analog_weight=0.0).sample_paths(6, 4000, np.random.default_rng(3))
    full = replace(fitted, analog_weight=1.0).sample_paths(6, 4000, np.random.default_rng(3))
    mixed = fitted.sample_paths(6, 4000, np.random.default_rng(3))
    quiet = analogs.quiet_regions(spreading.counts, 12)
    assert quiet[-6:].all() and not quiet[:8].any()
    # active regions and the focus (quiet or not) keep the chosen model's paths
    kept = ~quiet
    kept[-1] = True
    assert np.array_equal(own[kept], full[kept]) and np.array_equal(own[kept], mixed[kept])
    quiet[-1] = False  # the quiet regions that are mixed
    # quiet regions: every path of the whole reference class is one of its continuations, and
    # the mixture's P(any event in 6 months) lies halfway between the model's and the class's
    rows = {tuple(p) for p in pool.tolist()}
    assert all(tuple(p) in rows for p in full[-2].T[:300].tolist())
    p_own, p_full, p_mixed = ((x[quiet].sum(axis=1) > 0).mean() for x in (own, full, mixed))
    p_class = (pool.sum(axis=1) > 0).mean()
    assert p_full == pytest.approx(p_class, abs=0.02)
    assert p_full > p_own + 0.1
    assert p_mixed == pytest.approx(0.5 * (p_own + p_full), abs=0.02)


def test_quiet_regions_beside_fighting_draw_from_their_own_class():
    # contagion on a line of 60 regions: a month's event chance is 0.08 beside a region active
    # in the last 12 months and 0.002 elsewhere; region 0 always fights
    rng = np.random.default_rng(1)
    n, T = 60, 120
    adjacency = np.zeros((n, n), dtype=bool)
    idx = np.arange(n - 1)
    adjacency[idx, idx + 1] = adjacency[idx + 1, idx] = True
    counts = np.zeros((n, T), dtype=np.int64)
    counts[0] = 2
    for t in range(T):
        recent = counts[:, max(t - 12, 0) : t].sum(axis=1) > 0
        beside = adjacency.astype(int) @ recent.astype(int) > 0
        p = np.where(beside, 0.08, 0.002)
        counts[1:, t] = rng.uniform(size=n - 1) < p[1:]
    near = quiet_analog_paths(counts, 6, 12, 36, adjacency, near=True)
    far = quiet_analog_paths(counts, 6, 12, 36, adjacency, near=False)
    pooled = quiet_analog_paths(counts, 6, 12, 36)
    assert len(near) >= analogs.MIN_ANALOGS and len(far) >= analogs.MIN_ANALOGS
    assert len(near) + len(far) == len(pooled)
    # the classes are what the truth says: events follow within 6 months far more often beside
    # fighting (1 - 0.92^6 = 0.39 while the neighbour stays active) than away from it (0.012
    # while no neighbour becomes active)
    p_near, p_far = ((x.sum(axis=1) > 0).mean() for x in (near, far))
    assert p_near > 0.2 and p_far < 0.08
    # by hand: the near class is every quiet region-origin with an active neighbour
    expected = []
    for t in range(T - 1 - 6 - 35, T - 6):
        quiet = counts[:, t - 11 : t + 1].sum(axis=1) == 0
        beside = adjacency.astype(int) @ (~quiet).astype(int) > 0
        expected.append(counts[quiet & beside, t + 1 : t + 7])
    assert np.array_equal(near, np.concatenate(expected))


def test_auto_draws_each_quiet_region_from_its_neighbourhood_class(spreading):
    from analysis.models.auto import _first_order_adjacency

    cheap = ("recent_mean_6", "conflictology")
    auto = AutoForecaster(candidates=cheap, horizon=6, blocks=(3,), inner_samples=100,
                          focus=(spreading.region_ids[0],), analog_lookback=60)  # fmt: skip
    fitted = auto.fit(spreading)
    assert fitted.adjacency is None  # simulated ids: no geography, one class
    # the busy regions 0-7 border the sporadic ones 8-19; 20-31 border only each other
    n = len(spreading.region_ids)
    adjacency = np.zeros((n, n), dtype=bool)
    for a in range(8, 20):
        adjacency[a, a - 8] = adjacency[a - 8, a] = True
    for a in range(20, n - 1):
        adjacency[a, a + 1] = adjacency[a + 1, a] = True
    geo = replace(fitted, adjacency=adjacency, analog_weight=1.0)
    paths = geo.sample_paths(6, 500, np.random.default_rng(2))
    quiet = analogs.quiet_regions(spreading.counts, 12)
    near = analogs.near_activity(spreading.counts, 12, adjacency)
    args = (spreading.counts, 6, 12, 60, adjacency)
    classes = {side: {tuple(p) for p in quiet_analog_paths(*args, near=side).tolist()}
               for side in (True, False)}  # fmt: skip
    for r in np.flatnonzero(quiet & (np.arange(n) > 0)):
        side = bool(near[r])
        pool = classes[side] or {tuple(p) for p in quiet_analog_paths(*args[:4]).tolist()}
        assert all(tuple(p) in pool for p in paths[r].T.tolist()), (r, side)
    # with real region ids the study's boundaries give the first-order neighbours
    from analysis.geography import load_boundaries

    ids = ("ML-1", "ML-2", "MR-10")  # Kayes, Koulikoro, Guidimaka
    adj = _first_order_adjacency(ids, load_boundaries())
    assert adj.shape == (3, 3) and adj[0, 2] and not adj.diagonal().any()
    assert _first_order_adjacency(("nowhere",), load_boundaries()) is None


def test_onset_paths_hold_an_event_at_the_given_probability():
    rng = np.random.default_rng(4)
    paths = np.full((3, 4, 20000), 7, dtype=np.int64)
    bursts = np.array([[0, 2, 0, 1], [3, 0, 0, 0], [0, 0, 0, 5]])
    rows = np.array([True, False, True])
    out = analogs.onset_paths(paths, rows, np.array([0.1, 0.6]), bursts, rng)
    assert np.array_equal(out[1], paths[1])
    for r, p in ((0, 0.1), (2, 0.6)):
        hit = out[r].sum(axis=0) > 0
        assert hit.mean() == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / 20000))
        # whole observed paths where there is an event, nothing at all elsewhere
        assert {tuple(c) for c in out[r][:, hit].T} == {tuple(b) for b in bursts}
        assert not out[r][:, ~hit].any()
    # shorter horizons take the bursts' first steps
    short = analogs.onset_paths(paths[:, :2], rows, np.array([1.0, 1.0]), bursts, rng)
    assert {tuple(c) for c in short[0].T} <= {(0, 2), (3, 0), (0, 0)}
    assert analogs.onset_paths(paths, np.zeros(3, bool), np.zeros(0), bursts, rng) is paths
    with pytest.raises(ValueError, match="probabilities"):
        analogs.onset_paths(paths, rows, np.array([0.1, 1.2]), bursts, rng)
    with pytest.raises(ValueError, match="first-event paths"):
        analogs.onset_paths(paths, rows, np.array([0.1, 0.2]), bursts[:0], rng)
