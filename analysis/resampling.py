"""Moving-block bootstrap indices, for the growth benchmark's block interval
(:mod:`analysis.growth.blocks`). The scorecards' intervals over origins are
:mod:`analysis.origin_inference`'s."""

from __future__ import annotations

import numpy as np


def moving_block_indices(n: int, block: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n_boot`` moving-block resamples of ``n`` consecutive items.

    Each resample joins ``ceil(n / block)`` blocks of ``block`` consecutive indices, each
    starting at a uniform position, and keeps the first ``n``: items closer than ``block``
    stay together, so their dependence is kept (Kunsch 1989).

    Parameters
    ----------
    n : int
        Items to resample (at least 1).
    block : int
        Block length, clipped to ``[1, n]``.
    n_boot : int
    rng : Generator

    Returns
    -------
    ndarray
        Integer indices, shape (n_boot, n).
    """
    block = max(1, min(int(block), n))
    starts = rng.integers(0, n - block + 1, size=(n_boot, -(-n // block)))
    return (starts[..., None] + np.arange(block)).reshape(n_boot, -1)[:, :n]
