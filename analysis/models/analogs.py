"""Reference-class paths for quiet regions: what happened next to regions that were as quiet.

A region with no event in the last ``quiet_window`` periods has no recent history of its own to
forecast from, and every forecaster built on its own counts says "almost surely nothing" (in
the real central Sahel backtest, a monthly mean of 0.008 where 0.04-0.11 was observed, as the
conflict spread into regions that had been quiet). The base rate of the reference class
answers the question those regions pose: among all region-origins of the recent past that were
quiet in the same sense, what did the next ``horizon`` periods hold? Each such observed
continuation is one coherent path (its months keep their order and dependence), so a window
total or P(any in the quarter) read from them is the reference class's own.
"""

from __future__ import annotations

import numpy as np

from analysis.models.onset import quiet_units

#: Fewest quiet region-origins that make a reference class; below it, no analog paths.
MIN_ANALOGS = 50


def quiet_regions(counts: np.ndarray, quiet_window: int) -> np.ndarray:
    """Regions with no event in the last ``quiet_window`` periods.

    Parameters
    ----------
    counts : ndarray
        Counts, region x period.
    quiet_window : int
        Periods looked back, the last one included.

    Returns
    -------
    ndarray
        Boolean, one per region.
    """
    # the onset model's rule at the last period; a history shorter than the window is read whole
    last = counts.shape[1] - 1
    return quiet_units(counts, last, min(quiet_window, last + 1))


def near_activity(counts: np.ndarray, quiet_window: int, adjacency: np.ndarray) -> np.ndarray:
    """Regions with a neighbour that had an event in the last ``quiet_window`` periods.

    Parameters
    ----------
    counts, quiet_window
        As in :func:`quiet_regions`.
    adjacency : ndarray
        Boolean region x region, first-order neighbours.

    Returns
    -------
    ndarray
        Boolean, one per region.
    """
    active = ~quiet_regions(counts, quiet_window)
    return (adjacency.astype(float) @ active.astype(float)) > 0


def quiet_analogs(
    counts: np.ndarray,
    horizon: int,
    quiet_window: int,
    lookback: int,
    adjacency: np.ndarray | None = None,
    covered_from: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The next ``horizon`` counts of every region at every past origin where it was quiet, and
    whether a neighbour of it was active then.

    Origins are the ``lookback`` latest ones whose ``horizon`` following periods are all in
    ``counts`` and which have ``quiet_window`` periods behind them; a region counts at an origin
    when it had no event in the ``quiet_window`` periods up to and including it. Whether a
    neighbour had an event in those periods (:func:`near_activity`) splits the reference class:
    a quiet region beside a fighting one is not in the same class as one far from any.

    Parameters
    ----------
    counts : ndarray
        Counts, region x period, up to the forecast origin.
    horizon, quiet_window, lookback : int
        Steps of each path, the quiet rule and how many origins back to look.
    adjacency : ndarray, optional
        Boolean region x region, first-order neighbours; without it no path is near.
    covered_from : ndarray, optional
        Per region, the first period the data cover: a region counts at an origin only with
        its whole quiet window covered (before, its zeros are missing data, not quiet).

    Returns
    -------
    tuple of ndarray
        Paths, int64 (analog, step), and one boolean per path: a neighbour was active.
    """
    T = counts.shape[1]
    last = T - 1 - horizon  # latest origin (index of its last period) with every step observed
    first = max(quiet_window - 1, last - lookback + 1)
    paths, near = [np.empty((0, horizon), dtype=np.int64)], [np.empty(0, dtype=bool)]
    for t in range(first, last + 1):
        keep = quiet_units(counts, t, quiet_window)
        if covered_from is not None:
            keep &= t >= np.asarray(covered_from) + quiet_window - 1
        paths.append(counts[keep, t + 1 : t + 1 + horizon].astype(np.int64))
        beside = (
            near_activity(counts[:, : t + 1], quiet_window, adjacency)
            if adjacency is not None
            else np.zeros_like(keep)
        )
        near.append(beside[keep])
    return np.concatenate(paths), np.concatenate(near)


def reference_class(paths: np.ndarray, near: np.ndarray, side: bool | None = None) -> np.ndarray:
    """The analog paths of one class of :func:`quiet_analogs` (``side``: beside an active
    neighbour or not; None: all), empty when fewer than :data:`MIN_ANALOGS`.

    Parameters
    ----------
    paths : ndarray (analog, step)
        Analog paths from :func:`quiet_analogs`.
    near : ndarray (analog,)
        Boolean per path: a neighbour was active.
    side : bool, optional
        The class kept (default None: every path).

    Returns
    -------
    ndarray (analog, step)
    """
    chosen = paths if side is None else paths[near == side]
    return chosen if len(chosen) >= MIN_ANALOGS else chosen[:0]


def mix_quiet_analogs(
    paths: np.ndarray,
    rows: np.ndarray,
    counts: np.ndarray,
    quiet_window: int,
    lookback: int,
    weight: float,
    rng: np.random.Generator,
    adjacency: np.ndarray | None = None,
) -> np.ndarray:
    """Forecast paths of the quiet regions ``rows`` mixed with their reference class.

    Each region draws from the class it is in now (beside an active neighbour or not, with
    ``adjacency``), or from all quiet region-origins when that class is too small or there is
    no geography.

    Parameters
    ----------
    paths : ndarray
        Sample paths, (region, step, sample).
    rows : ndarray
        Boolean, the quiet regions to mix.
    counts : ndarray
        Counts, region x period, up to the forecast origin.
    quiet_window, lookback : int
        As in :func:`quiet_analogs`.
    weight : float
        Probability that a sample path is replaced by an analog.
    rng : Generator
    adjacency : ndarray, optional
        Boolean region x region, first-order neighbours.

    Returns
    -------
    ndarray
        The mixed paths (``paths`` itself when there is nothing to mix).
    """
    if weight <= 0 or not rows.any():
        return paths
    analogs, near_then = quiet_analogs(counts, paths.shape[1], quiet_window, lookback, adjacency)
    pooled = reference_class(analogs, near_then)
    if adjacency is None:
        return mix_in_analogs(paths, rows, pooled, weight, rng)
    near_now = near_activity(counts, quiet_window, adjacency)
    for side in (True, False):
        mine = rows & (near_now == side)
        if mine.any():
            own = reference_class(analogs, near_then, side)
            paths = mix_in_analogs(paths, mine, own if len(own) else pooled, weight, rng)
    return paths


def mix_in_analogs(
    paths: np.ndarray,
    rows: np.ndarray,
    analogs: np.ndarray,
    weight: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Replace each sample path of some regions, with probability ``weight``, by an analog.

    Parameters
    ----------
    paths : ndarray
        Sample paths, (region, step, sample).
    rows : ndarray
        Boolean, the regions whose paths are mixed.
    analogs : ndarray
        Analog paths, (analog, step), at least as many steps as ``paths``; none leaves
        ``paths`` as they are.
    weight : float
        Probability that a sample path is replaced.
    rng : Generator
        Draws which samples are replaced and by which analog.

    Returns
    -------
    ndarray
        A copy of ``paths`` with the replacements (analog draws are independent across
        regions and samples: the mixed regions lose their dependence on the other regions).
    """
    idx = np.flatnonzero(rows)
    if not idx.size or not len(analogs) or weight <= 0:
        return paths
    return _replace_paths(paths, idx, np.full(idx.size, float(weight)), analogs, rng)


def _replace_paths(
    paths: np.ndarray,
    idx: np.ndarray,
    share: np.ndarray,
    pool: np.ndarray,
    rng: np.random.Generator,
    *,
    clear: bool = False,
) -> np.ndarray:
    """A copy of ``paths`` in which each sample path of region ``idx[k]`` is, with probability
    ``share[k]``, a random row of ``pool`` (its first steps); with ``clear`` the other paths
    of those regions are emptied."""
    steps, n = paths.shape[1], paths.shape[2]
    take = rng.uniform(size=(idx.size, n)) < share[:, None]
    which = rng.integers(len(pool), size=(idx.size, n))
    out = paths.copy()
    if clear:
        out[idx] = 0
    r, j = np.nonzero(take)
    out[idx[r], :, j] = pool[which[r, j], :steps]
    return out


def onset_paths(
    paths: np.ndarray,
    rows: np.ndarray,
    p_any: np.ndarray,
    bursts: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Paths of the quiet regions ``rows`` with a first event at a given probability.

    Each sample path of region ``rows[k]`` is, with probability ``p_any[k]``, a random path of
    ``bursts`` (observed continuations that held an event), else no event at all: P(at least
    one event within the bursts' horizon) is then ``p_any`` and a window total has the size and
    timing of real first events. Paths shorter than the bursts take their first steps, which
    may hold no event (``auto`` draws bursts as long as its paths, with the event within the
    horizon its onset model was fitted for).

    Parameters
    ----------
    paths : ndarray
        Sample paths, (region, step, sample).
    rows : ndarray
        Boolean, the regions to replace.
    p_any : ndarray
        One probability per region of ``rows``.
    bursts : ndarray
        (path, step), at least as many steps as ``paths``, each with an event.
    rng : Generator

    Returns
    -------
    ndarray
        A copy of ``paths`` (``paths`` itself when there is nothing to replace).

    Raises
    ------
    ValueError
        When ``p_any`` does not match ``rows`` or is outside [0, 1], or ``bursts`` is empty.
    """
    idx = np.flatnonzero(rows)
    if not idx.size:
        return paths
    p_any = np.asarray(p_any, dtype=float)
    if p_any.shape != idx.shape or not np.all((p_any >= 0) & (p_any <= 1)):
        raise ValueError(f"need {idx.size} probabilities in [0, 1], got {p_any!r}")
    if not len(bursts):
        raise ValueError("no first-event paths to draw from")
    return _replace_paths(paths, idx, p_any, bursts, rng, clear=True)
