"""The estimator contract every forecaster follows, and the forecast result it produces.

- A :class:`Forecaster` is a frozen description of a model (its settings). It has one way
  to fit: ``fit(history) -> Fitted``, where :class:`History` is the count matrix up to the
  origin. Nothing else is seen, so no model can look past the origin.
- A :class:`Fitted` is a frozen dataclass with the model's typed fitted state. It draws
  coherent joint sample paths with ``sample_paths(horizon, n, rng)``: an array (region, step,
  sample) in which each sample is one possible future of every region together, so sums over
  steps (window totals), "any event in the quarter" and surges are read from the same paths.
  :meth:`Fitted.forecast` wraps the paths in a :class:`ForecastResult`.

Models are listed in :mod:`analysis.models.registry`; rolling-origin evaluation of any of them
is :func:`analysis.cross_validation.cross_validation`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import InputError, ModelError

FREQ_MONTHS = {"month": 1, "quarter": 3}


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ForecastResult:
    """Predictive samples of counts for each region and forecast step.

    Attributes
    ----------
    samples : ndarray (region, step, sample) of int64
    region_ids : tuple of str
    periods : DatetimeIndex
        Start of each forecast target period (``len == samples.shape[1]``).
    origin : Timestamp
        Last period whose data the forecaster saw.
    model : str
    seed : int
    """

    samples: np.ndarray
    region_ids: tuple[str, ...]
    periods: pd.DatetimeIndex
    origin: pd.Timestamp
    model: str
    seed: int

    def __post_init__(self) -> None:
        s = self.samples
        if s.ndim != 3:
            raise InputError(f"expected samples of shape (region, step, sample), got {s.shape}")
        if s.shape[0] != len(self.region_ids) or s.shape[1] != len(self.periods):
            raise InputError(
                f"samples shape {s.shape} does not match {len(self.region_ids)} regions and "
                f"{len(self.periods)} periods"
            )

    @property
    def horizon(self) -> int:
        return self.samples.shape[1]

    def mean(self) -> np.ndarray:
        """Predictive mean, shape (region, step)."""
        return self.samples.mean(axis=2)

    def median(self) -> np.ndarray:
        """Predictive median, shape (region, step)."""
        return self.quantile(0.5)

    def quantile(self, q: float | Sequence[float]) -> np.ndarray:
        """Predictive quantile(s) (inverted empirical CDF, so always an observed count).

        Returns shape (region, step) for a scalar ``q``, else (len(q), region, step).

        Parameters
        ----------
        q : float or sequence of float
            Probability level(s), each in [0, 1].

        Returns
        -------
        ndarray
            Float quantiles, of the shapes above.
        """
        return np.quantile(self.samples, q, axis=2, method="inverted_cdf").astype(float)

    def p_at_least(self, k: int = 1) -> np.ndarray:
        """P(count >= k) per region and step.

        Parameters
        ----------
        k : int, optional
            Threshold count (default 1: P(any event)).

        Returns
        -------
        ndarray (region, step)
            Share of the sample paths with at least ``k`` events.
        """
        return (self.samples >= k).mean(axis=2)

    def select(self, regions: Sequence[str]) -> ForecastResult:
        """The same forecast for ``regions`` only (in that order).

        Parameters
        ----------
        regions : sequence of str
            Region ids of this forecast, in the order wanted.

        Returns
        -------
        ForecastResult

        Raises
        ------
        InputError
            When a region is not in the forecast.
        """
        unknown = sorted(set(regions) - set(self.region_ids))
        if unknown:
            raise InputError(f"regions not in the panel: {unknown}")
        idx = [self.region_ids.index(r) for r in regions]
        return ForecastResult(
            self.samples[idx], tuple(regions), self.periods, self.origin, self.model, self.seed
        )

    def totals(self, steps: int | None = None) -> np.ndarray:
        """Path totals over steps ``1..steps`` (default all), shape (region, sample).

        Parameters
        ----------
        steps : int, optional
            Number of leading steps summed (default None: the whole horizon).

        Returns
        -------
        ndarray (region, sample)
        """
        return self.samples[:, : steps or self.horizon].sum(axis=1)

    def to_frame(self) -> pd.DataFrame:
        """Long table: region_id, period, step, mean, median, q05, q10, q90, q95, p_any."""
        R, H, _ = self.samples.shape
        q = self.quantile([0.05, 0.10, 0.5, 0.90, 0.95])
        return pd.DataFrame(
            {
                "region_id": np.repeat(np.asarray(self.region_ids, dtype=object), H),
                "period": np.tile(np.asarray(self.periods), R),
                "step": np.tile(np.arange(1, H + 1), R),
                "mean": self.mean().ravel(),
                "median": q[2].ravel(),
                "q05": q[0].ravel(),
                "q10": q[1].ravel(),
                "q90": q[3].ravel(),
                "q95": q[4].ravel(),
                "p_any": self.p_at_least(1).ravel(),
            }
        )


# --------------------------------------------------------------------------- history


@dataclass(frozen=True)
class History:
    """Counts up to and including the origin: what a matrix forecaster may see."""

    counts: np.ndarray  # (region, period) int64
    region_ids: tuple[str, ...]
    periods: pd.DatetimeIndex
    freq: str = "month"

    @property
    def origin(self) -> pd.Timestamp:
        return self.periods[-1]

    @property
    def per_year(self) -> int:
        return 12 // FREQ_MONTHS[self.freq]

    def future_periods(self, horizon: int) -> pd.DatetimeIndex:
        """Start of each of the ``horizon`` periods after the origin.

        Parameters
        ----------
        horizon : int
            Number of periods ahead.

        Returns
        -------
        DatetimeIndex
            One period start per step, 1..horizon periods (months or quarters) after the origin.
        """
        step = FREQ_MONTHS[self.freq]
        return pd.DatetimeIndex(
            [self.origin + pd.DateOffset(months=step * h) for h in range(1, horizon + 1)]
        )

    def until(self, t_end: int) -> History:
        """History truncated to the first ``t_end`` periods (columns ``0..t_end-1``).

        Parameters
        ----------
        t_end : int
            Number of leading periods kept.

        Returns
        -------
        History
        """
        return History(self.counts[:, :t_end], self.region_ids, self.periods[:t_end], self.freq)

    def until_period(self, origin: Any) -> History:
        """History cut at ``origin`` (a period; inclusive).

        Parameters
        ----------
        origin : str or Timestamp
            Last period kept (anything ``pandas.Timestamp`` accepts).

        Returns
        -------
        History

        Raises
        ------
        InputError
            When no period is at or before ``origin``.
        """
        t = int((self.periods <= pd.Timestamp(origin)).sum())
        if t == 0:
            raise InputError(f"no periods at or before origin {pd.Timestamp(origin):%Y-%m}")
        return self.until(t)

    def select(self, rows: np.ndarray) -> History:
        """The history of a subset of regions (boolean mask or indices).

        Parameters
        ----------
        rows : ndarray
            Boolean mask over the regions, or integer region indices (in the order wanted).

        Returns
        -------
        History
        """
        idx = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows)
        return History(
            self.counts[idx], tuple(self.region_ids[i] for i in idx), self.periods, self.freq
        )


def panel_to_history(panel: pd.DataFrame, origin: Any = None) -> History:
    """Turn a panel (docs/internals.md) into a :class:`History`, cut at ``origin`` inclusive.

    Parameters
    ----------
    panel : DataFrame
        Zero-filled ``region_id, period, events`` rows; ``panel.attrs["freq"]`` is ``"month"``
        (the default) or ``"quarter"``.
    origin : str or Timestamp, optional
        Last period kept (default None: every period).

    Returns
    -------
    History

    Raises
    ------
    InputError
        On missing columns, an unknown frequency, no period at or before ``origin``, missing
        region x period cells or negative counts.
    """
    needed = {"region_id", "period", "events"}
    missing = needed - set(panel.columns)
    if missing:
        raise InputError(f"expected panel columns {sorted(needed)}; missing {sorted(missing)}")
    freq = panel.attrs.get("freq", "month")
    if freq not in FREQ_MONTHS:
        raise InputError(f"expected panel.attrs['freq'] 'month' or 'quarter', got {freq!r}")
    p = panel
    if origin is not None:
        origin = pd.Timestamp(origin)
        p = panel[pd.to_datetime(panel["period"]) <= origin]
        if p.empty:
            raise InputError(f"no panel periods at or before origin {origin:%Y-%m}")
    wide = p.pivot_table(index="region_id", columns="period", values="events", aggfunc="sum")
    if wide.isna().any().any():
        raise InputError("expected a zero-filled panel: some region x period cells are missing")
    counts = wide.to_numpy()
    if (counts < 0).any():
        raise InputError("expected non-negative event counts")
    return History(
        counts=counts.astype(np.int64),
        region_ids=tuple(str(r) for r in wide.index),
        periods=pd.DatetimeIndex(wide.columns),
        freq=freq,
    )


# --------------------------------------------------------------------------- contract


@dataclass(frozen=True)
class Fitted(ABC):
    """A fitted model: typed state plus the history it was fitted on.

    Subclasses add their state as further (frozen) fields and implement
    :meth:`sample_paths`.
    """

    history: History
    model: str

    @abstractmethod
    def sample_paths(self, horizon: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """Joint predictive paths, int64 (region, step, sample), steps ``1..horizon``.

        Parameters
        ----------
        horizon : int
            Number of steps ahead.
        n : int
            Number of sample paths.
        rng : Generator
            Random number generator the paths are drawn with.

        Returns
        -------
        ndarray (region, step, sample)
            int64 counts; sample ``j`` of every region and step is one joint future.
        """

    def forecast(self, horizon: int, n_samples: int = 1000, seed: int = 0) -> ForecastResult:
        """Sample paths wrapped with their labels; the same seed gives the same paths.

        Parameters
        ----------
        horizon : int
            Number of steps ahead, at least 1.
        n_samples : int, optional
            Number of sample paths (default 1000).
        seed : int, optional
            Seed of the ``numpy.random.default_rng`` the paths are drawn with (default 0).

        Returns
        -------
        ForecastResult

        Raises
        ------
        InputError
            When ``horizon`` or ``n_samples`` is below 1.
        ModelError
            When :meth:`sample_paths` returns the wrong shape, or negative or non-finite counts.
        """
        if horizon < 1 or n_samples < 1:
            raise InputError("expected horizon >= 1 and n_samples >= 1")
        s = np.asarray(self.sample_paths(horizon, n_samples, np.random.default_rng(seed)))
        R = len(self.history.region_ids)
        if s.shape != (R, horizon, n_samples):
            raise ModelError(
                f"{self.model}: sample_paths returned shape {s.shape}, expected "
                f"{(R, horizon, n_samples)}"
            )
        if not np.isfinite(s).all() or (s < 0).any():
            raise ModelError(f"{self.model}: produced invalid (negative or NaN) samples")
        return ForecastResult(
            samples=s.astype(np.int64),
            region_ids=self.history.region_ids,
            periods=self.history.future_periods(horizon),
            origin=self.history.origin,
            model=self.model,
            seed=int(seed),
        )


@dataclass(frozen=True)
class Forecaster(ABC):
    """Settings of one model. ``fit(history)`` is the only way to fit it.

    Attributes
    ----------
    name : str
        Registry key and label in results.
    is_baseline : bool
        A rung of the baseline ladder (scorecards report skill against the best of them).
    description : str
        One line for readers.
    """

    name: str = "base"
    is_baseline: bool = False
    description: str = ""

    @abstractmethod
    def fit(self, history: History) -> Fitted:
        """Fit on ``history`` (every period up to and including the origin).

        Parameters
        ----------
        history : History
            Counts of every region up to and including the origin.

        Returns
        -------
        Fitted
        """


def forecast(
    model: str | Forecaster,
    data: pd.DataFrame | History,
    origin: Any = None,
    horizon: int = 6,
    n_samples: int = 1000,
    seed: int = 0,
    regions: Sequence[str] | None = None,
    **context: Any,
) -> ForecastResult:
    """Fit ``model`` on the data up to ``origin`` (default: last period) and forecast.

    Parameters
    ----------
    model : str or Forecaster
        A registry name (:func:`analysis.models.registry.get`) or a forecaster.
    data : DataFrame or History
        Panel as in docs/internals.md, or a :class:`History`.
    origin : str or Timestamp, optional
        Last period the model may see; later rows are ignored.
    horizon, n_samples, seed : int
    regions : sequence of str, optional
        Keep only these regions in the result (the model still sees all of them).
    **context
        ``boundaries``, ``focus``, ``horizon`` for models built with them (registry).

    Returns
    -------
    ForecastResult
    """
    from analysis.models.registry import get

    f = get(model, **context) if isinstance(model, str) else model
    if isinstance(data, History):
        history = data if origin is None else data.until_period(origin)
    else:
        history = panel_to_history(data, origin)
    res = f.fit(history).forecast(horizon, n_samples, seed)
    return res.select(regions) if regions else res
