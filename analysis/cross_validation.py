"""Rolling-origin cross-validation: the one loop that backtests, ``auto`` and stacking share.

At every origin each model is fitted on the history up to and including the origin and
asked for sample paths of the next ``horizon`` periods; the periods after the origin are
what it is scored on. Origins are given as the number of periods seen (``t``: the model sees
columns ``0..t-1``) or as period timestamps. All models use the same seed at a given origin
(common random numbers), so differences between them are not sampling noise of the seeds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from analysis.cache import Key, Memory, array_sha256, memo
from analysis.errors import InputError
from analysis.models.forecast import Forecaster, ForecastResult, History


@dataclass(frozen=True)
class Fold:
    """One model's forecast at one origin, with what happened next.

    Attributes
    ----------
    model : str
    seen : int
        Periods the model saw (the origin is period ``seen - 1``).
    result : ForecastResult
        Paths (region, step, sample).
    observed : ndarray (region, step)
        Counts after the origin; NaN beyond the end of the history.
    active : ndarray (region,) of bool
        An event in the ``active_window`` periods up to the origin.
    """

    model: str
    seen: int
    result: ForecastResult
    observed: np.ndarray
    active: np.ndarray

    @property
    def origin(self) -> pd.Timestamp:
        return self.result.origin


def origin_indices(
    history: History,
    *,
    start: Any = None,
    end: Any = None,
    min_train: int = 24,
    horizon: int = 1,
    stride: int = 1,
) -> list[int]:
    """Origins (periods seen) between ``start`` and ``end`` (periods, inclusive) with at
    least ``min_train`` periods seen and one period after.

    Without ``start`` the first origin leaves direct multi-step models three years of usable
    history (``max(min_train, horizon + 36)`` periods); without ``end`` the last is the
    period before the last. ``stride`` keeps every ``stride``-th origin, counted back from
    the last one.

    Parameters
    ----------
    history : History
        The counts the folds are cut from.
    start, end : str or pandas.Timestamp, optional
        First and last origins as periods (anything :class:`pandas.Timestamp` reads).
    min_train : int, optional
        Fewest periods seen at an origin; 24 by default.
    horizon : int, optional
        Forecast steps (1 by default); only moves the default first origin.
    stride : int, optional
        Keep every ``stride``-th origin; 1 (all) by default.

    Returns
    -------
    list of int
        The origins as numbers of periods seen, increasing.

    Raises
    ------
    InputError
        When no origin qualifies.
    """
    periods = history.periods
    T = len(periods)
    if start is None:
        min_train = max(min_train, horizon + 36)
    lo = pd.Timestamp(start) if start is not None else periods[min(min_train - 1, T - 1)]
    hi = pd.Timestamp(end) if end is not None else periods[-2]
    idx = [t + 1 for t in range(T - 1) if lo <= periods[t] <= hi and t + 1 >= min_train]
    idx = idx[::-1][:: max(1, int(stride))][::-1]
    if not idx:
        raise InputError(
            f"no origins between {lo:%Y-%m} and {hi:%Y-%m} with at least {min_train} periods of "
            f"history and one period after"
        )
    return idx


_FOLDS = Memory(2048)


def _fold_key(f: Forecaster, h: History, horizon: int, n: int, seed: int) -> Key:
    extra = (f.name, id(f), h.region_ids, str(h.origin), horizon, n, seed)
    return Key("fold", data_sha256=array_sha256(h.counts), extra=extra)


def _fold(
    f: Forecaster, h: History, horizon: int, n: int, seed: int
) -> tuple[Forecaster, ForecastResult]:
    # the forecaster is kept with its result so that its id is not reused while cached
    return f, f.fit(h).forecast(horizon, n, seed)


def cross_validation(
    history: History,
    models: Sequence[str | Forecaster],
    origins: Sequence[int | pd.Timestamp],
    horizon: int,
    *,
    n_samples: int = 500,
    seed: int = 0,
    active_window: int | None = None,
    cache: bool = False,
) -> Iterator[Fold]:
    """Fit every model at every origin and yield its forecast with the observed outcome.

    Parameters
    ----------
    history : History
        The whole window (the models see only the part up to each origin).
    models : sequence of str or Forecaster
        Registry names or forecasters.
    origins : sequence of int or Timestamp
        Periods seen (int) or origin periods.
    horizon : int
    n_samples : int
    seed : int
        The origin with ``t`` periods seen uses ``seed + t`` for every model (a function of
        the origin, so nested loops that revisit an origin draw the same paths).
    active_window : int, optional
        Periods up to the origin in which an event makes a region active (``Fold.active``);
        by default one year of the history's periods (12 months, 4 quarters).
    cache : bool
        Reuse forecasts already made for the same model, history, horizon, samples and seed
        (nested loops such as ``auto`` inside a backtest revisit the same inner origins).

    Yields
    ------
    Fold
        Origin by origin, model by model in the order given.
    """
    from analysis.models.registry import get

    if horizon < 1:
        raise InputError("expected horizon >= 1")
    forecasters = [get(m) if isinstance(m, str) else m for m in models]
    if active_window is None:
        active_window = history.per_year
    T = history.counts.shape[1]
    for o in origins:
        t = int(o) if isinstance(o, (int, np.integer)) else int((history.periods <= o).sum())
        if not 1 <= t <= T:
            raise InputError(f"origin {o} is outside the history")
        sub = history.until(t)
        obs = np.full((history.counts.shape[0], horizon), np.nan)
        avail = min(horizon, T - t)
        obs[:, :avail] = history.counts[:, t : t + avail]
        active = history.counts[:, max(0, t - active_window) : t].sum(axis=1) > 0
        for f in forecasters:
            fold = partial(_fold, f, sub, horizon, n_samples, seed + t)
            if cache:
                _, res = memo(_fold_key(f, sub, horizon, n_samples, seed + t), fold, memory=_FOLDS)
            else:
                _, res = fold()
            yield Fold(f.name, t, res, obs, active)
