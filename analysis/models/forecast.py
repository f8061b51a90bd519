"""One interface for every forecaster: predictive samples per region and step.

A forecaster is fitted on a panel up to an origin and returns a :class:`ForecastResult` whose
``samples`` have shape (region, step, sample). Everything a reader wants - mean, median,
quantiles, P(at least k) - follows from the samples, so parameter uncertainty and count noise
are carried together.

Two ways to implement a forecaster, both accepted by :func:`forecast` and by
:func:`analysis.evaluation.backtest`:

- panel-level (any object with ``name``, ``is_baseline`` and ``fit(panel) -> fitted`` where
  ``fitted.forecast(horizon, n_samples, seed) -> ForecastResult``): what the spillover model
  uses, because it needs region ids and neighbours;
- matrix-level (subclass :class:`MatrixForecaster`, implement ``fit_history``): the built-ins,
  which work on the count matrix and can be refitted cheaply at many origins.

Register with :func:`register`; look up with :func:`get_forecaster`. ``FORECASTERS`` is the
registry (name -> forecaster).
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

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
        """
        return np.quantile(self.samples, q, axis=2, method="inverted_cdf").astype(float)

    def p_at_least(self, k: int = 1) -> np.ndarray:
        """P(count >= k) per region and step."""
        return (self.samples >= k).mean(axis=2)

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
        step = FREQ_MONTHS[self.freq]
        return pd.DatetimeIndex(
            [self.origin + pd.DateOffset(months=step * h) for h in range(1, horizon + 1)]
        )

    def until(self, t_end: int) -> History:
        """History truncated to the first ``t_end`` periods (columns ``0..t_end-1``)."""
        return History(self.counts[:, :t_end], self.region_ids, self.periods[:t_end], self.freq)


def panel_to_history(panel: pd.DataFrame, origin: Any = None) -> History:
    """Turn a panel (docs/internals.md) into a :class:`History`, cut at ``origin`` inclusive."""
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


# --------------------------------------------------------------------------- interface


@runtime_checkable
class Fitted(Protocol):
    def forecast(self, horizon: int, n_samples: int = 1000, seed: int = 0) -> ForecastResult: ...


@runtime_checkable
class Forecaster(Protocol):
    name: str
    is_baseline: bool

    def fit(self, panel: pd.DataFrame) -> Fitted: ...


@dataclass(frozen=True)
class MatrixFitted:
    """A fitted matrix forecaster: draws (region, step, sample) counts."""

    forecaster: MatrixForecaster
    history: History
    state: Any = None

    def sample(self, horizon: int, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        return self.forecaster.sample(self, horizon, n_samples, rng)

    def forecast(self, horizon: int, n_samples: int = 1000, seed: int = 0) -> ForecastResult:
        if horizon < 1 or n_samples < 1:
            raise InputError("expected horizon >= 1 and n_samples >= 1")
        rng = np.random.default_rng(seed)
        s = np.asarray(self.sample(horizon, n_samples, rng))
        if not np.isfinite(s).all() or (s < 0).any():
            raise ModelError(f"{self.forecaster.name}: produced invalid (negative or NaN) samples")
        return ForecastResult(
            samples=s.astype(np.int64),
            region_ids=self.history.region_ids,
            periods=self.history.future_periods(horizon),
            origin=self.history.origin,
            model=self.forecaster.name,
            seed=int(seed),
        )


@dataclass(frozen=True)
class MatrixForecaster(ABC):
    """Base class for forecasters that only need the count matrix.

    Subclasses implement ``fit_history(history) -> state`` and
    ``sample(fitted, horizon, n_samples, rng) -> ndarray (region, step, sample)``.
    """

    name: str = "base"
    is_baseline: bool = False
    description: str = ""
    meta: dict = field(default_factory=dict, compare=False)

    def fit(self, panel: pd.DataFrame) -> MatrixFitted:
        return self.fit_matrix(panel_to_history(panel))

    def fit_matrix(self, history: History) -> MatrixFitted:
        if history.counts.shape[1] < 1:
            raise InputError("expected at least one period of history")
        return MatrixFitted(self, history, self.fit_history(history))

    @abstractmethod
    def fit_history(self, history: History) -> Any:
        """Fit on the history up to the origin; return the state that ``sample`` needs."""

    @abstractmethod
    def sample(
        self, fitted: MatrixFitted, horizon: int, n_samples: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Predictive samples shaped (region, step, sample)."""


# --------------------------------------------------------------------------- registry

FORECASTERS: dict[str, Any] = {}
_BUILTIN_MODULES = ("baselines", "nbglm", "local_level", "references", "ensemble")


def register(forecaster: Any, name: str | None = None) -> Any:
    """Add ``forecaster`` to :data:`FORECASTERS` under ``name`` (default ``forecaster.name``)."""
    key = name or getattr(forecaster, "name", None)
    if not key:
        raise InputError("expected a forecaster with a name")
    if not hasattr(forecaster, "fit"):
        raise InputError(f"forecaster {key!r} has no fit(panel) method")
    FORECASTERS[key] = forecaster
    return forecaster


def _load_builtins() -> None:
    for mod in _BUILTIN_MODULES:
        importlib.import_module(f"analysis.models.{mod}")


def get_forecaster(name: str) -> Any:
    """The registered forecaster ``name``; modules ``analysis.models.<name>`` load on demand."""
    _load_builtins()
    if name not in FORECASTERS:
        try:
            importlib.import_module(f"analysis.models.{name}")
        except ImportError:
            pass
    if name not in FORECASTERS:
        raise InputError(f"unknown model {name!r}; expected one of {sorted(FORECASTERS)}")
    return FORECASTERS[name]


def available() -> list[str]:
    """Names of all registered forecasters."""
    _load_builtins()
    return sorted(FORECASTERS)


def fit_at(forecaster: Any, panel: pd.DataFrame | None, history: History) -> Fitted:
    """Fit ``forecaster`` on exactly the data in ``history`` (matrix route when possible)."""
    if hasattr(forecaster, "fit_matrix"):
        return forecaster.fit_matrix(history)
    if panel is None:
        raise InputError(f"forecaster {forecaster.name!r} needs a panel, not a bare matrix")
    cut = panel[pd.to_datetime(panel["period"]) <= history.origin].copy()
    cut.attrs = dict(panel.attrs)
    return forecaster.fit(cut)


def forecast(
    model_name: str,
    panel: pd.DataFrame,
    origin: Any = None,
    horizon: int = 6,
    n_samples: int = 1000,
    seed: int = 0,
    regions: Sequence[str] | None = None,
) -> ForecastResult:
    """Fit ``model_name`` on ``panel`` up to ``origin`` (default: last period) and forecast.

    Parameters
    ----------
    model_name : str
        A key of :data:`FORECASTERS` (``auto`` picks by backtested CRPS).
    panel : DataFrame
        Panel as in docs/internals.md.
    origin : str or Timestamp, optional
        Last period the model may see; later rows are ignored.
    horizon, n_samples, seed : int
    regions : sequence of str, optional
        Keep only these regions in the result (the model still sees all of them).

    Returns
    -------
    ForecastResult
    """
    f = get_forecaster(model_name)
    history = panel_to_history(panel, origin)
    fitted = fit_at(f, panel, history)
    res = fitted.forecast(horizon, n_samples, seed)
    if regions:
        unknown = sorted(set(regions) - set(res.region_ids))
        if unknown:
            raise InputError(f"regions not in the panel: {unknown}")
        idx = [res.region_ids.index(r) for r in regions]
        res = ForecastResult(
            res.samples[idx], tuple(regions), res.periods, res.origin, res.model, res.seed
        )
    return res


# --------------------------------------------------------------------------- auto

AUTO_CANDIDATES = (
    "local_level",
    "pooled_nb",
    "ensemble",
    "ensemble_hybrid",
    "nb_climatology",
    "conflictology",
    "recent_mean_6",
)


@dataclass(frozen=True)
class AutoForecaster(MatrixForecaster):
    """Pick the candidate with the lowest rolling-origin CRPS on the training history only.

    The inner backtest uses origins inside the history whose targets are also inside it, so
    the choice never looks past the origin. The chosen model is then refitted on all of it.
    """

    name: str = "auto"
    candidates: tuple[str, ...] = AUTO_CANDIDATES
    inner_origins: int = 12
    inner_horizon: int = 3
    inner_samples: int = 200
    min_train: int = 24

    def choose(self, history: History) -> tuple[str, dict[str, float]]:
        from analysis.evaluation import crps_ensemble

        T = history.counts.shape[1]
        H = self.inner_horizon
        last = T - H  # origin index t means columns 0..t-1 are seen
        first = max(self.min_train, last - self.inner_origins + 1)
        if first > last:
            return self.candidates[0], {}
        totals: dict[str, float] = {}
        for name in self.candidates:
            f = get_forecaster(name)
            scores = []
            for k, t in enumerate(range(first, last + 1)):
                fitted = f.fit_matrix(history.until(t))
                s = fitted.sample(H, self.inner_samples, np.random.default_rng(k))
                obs = history.counts[:, t : t + H]
                scores.append(crps_ensemble(obs, s).mean())
            totals[name] = float(np.mean(scores))
        best = min(totals, key=totals.get)
        return best, totals

    def fit_history(self, history: History) -> Any:
        best, totals = self.choose(history)
        return {
            "chosen": best,
            "inner_crps": totals,
            "fitted": get_forecaster(best).fit_matrix(history),
        }

    def sample(self, fitted, horizon, n_samples, rng):
        return fitted.state["fitted"].sample(horizon, n_samples, rng)


register(AutoForecaster())

# the built-in forecasters register themselves on import; load them so that FORECASTERS is
# complete for anyone who reads it directly (they import this module, which is complete by now)
_load_builtins()
