"""Moving-block bootstrap indices."""

from __future__ import annotations

import numpy as np

from analysis.resampling import moving_block_indices


def test_blocks_keep_consecutive_items_together_and_cover_every_start():
    idx = moving_block_indices(10, 3, 4000, np.random.default_rng(0))
    assert idx.shape == (4000, 10) and idx.min() == 0 and idx.max() == 9
    # within each block of 3 the indices run on by one: 0-1, 1-2 inside, 2-3 may jump
    steps = np.diff(idx, axis=1)
    assert np.all(steps[:, [0, 1, 3, 4, 6, 7]] == 1)
    assert not np.all(steps[:, 2] == 1)
    # every start 0..7 is drawn, about equally often
    starts = np.bincount(idx[:, 0], minlength=8)
    assert starts.size == 8 and starts.min() > 400
    # a block longer than the series is the series; block 1 is the ordinary bootstrap
    assert np.all(moving_block_indices(4, 9, 5, np.random.default_rng(1)) == np.arange(4))
    single = moving_block_indices(50, 1, 200, np.random.default_rng(2))
    assert np.abs(np.diff(single, axis=1)).max() > 1
