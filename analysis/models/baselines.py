"""The ladder of baselines every forecaster must beat.

- ``zero``: no events, ever (hard to beat where nothing happens).
- ``last_value``: Poisson around the last observed count.
- ``recent_mean_3`` / ``recent_mean_6``: Poisson around the mean of the last 3 or 6 periods.
- ``conflictology``: each step resamples one of the region's last 12 observed periods, as the
  VIEWS "conflictology" benchmark does.
- ``nb_climatology``: a negative binomial fitted to the region's last 24 periods (mean and
  moment dispersion), the same distribution at every step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.models.forecast import History, MatrixFitted, MatrixForecaster, register
from analysis.models.glm import sample_nb


def _tail(history: History, k: int) -> np.ndarray:
    return history.counts[:, -k:].astype(float)


@dataclass(frozen=True)
class Zero(MatrixForecaster):
    name: str = "zero"
    is_baseline: bool = True

    def fit_history(self, history: History) -> None:
        return None

    def sample(self, fitted: MatrixFitted, horizon, n_samples, rng) -> np.ndarray:
        R = fitted.history.counts.shape[0]
        return np.zeros((R, horizon, n_samples), dtype=np.int64)


@dataclass(frozen=True)
class PoissonAroundMean(MatrixForecaster):
    """Poisson with mean equal to the average of the last ``window`` periods."""

    name: str = "recent_mean_3"
    is_baseline: bool = True
    window: int = 3

    def fit_history(self, history: History) -> np.ndarray:
        return _tail(history, self.window).mean(axis=1)

    def sample(self, fitted: MatrixFitted, horizon, n_samples, rng) -> np.ndarray:
        lam = fitted.state[:, None, None]
        R = lam.shape[0]
        return rng.poisson(np.broadcast_to(lam, (R, horizon, n_samples))).astype(np.int64)


@dataclass(frozen=True)
class Conflictology(MatrixForecaster):
    """Resample each region's last ``window`` observed counts, independently per step."""

    name: str = "conflictology"
    is_baseline: bool = True
    window: int = 12

    def fit_history(self, history: History) -> np.ndarray:
        return history.counts[:, -self.window :].astype(np.int64)

    def sample(self, fitted: MatrixFitted, horizon, n_samples, rng) -> np.ndarray:
        pool = fitted.state
        R, k = pool.shape
        idx = rng.integers(0, k, size=(R, horizon, n_samples))
        return np.take_along_axis(pool[:, None, :], idx.reshape(R, 1, -1), axis=2).reshape(
            R, horizon, n_samples
        )


@dataclass(frozen=True)
class NBClimatology(MatrixForecaster):
    """NB2 with the mean and moment dispersion of the last ``window`` periods."""

    name: str = "nb_climatology"
    is_baseline: bool = True
    window: int = 24

    def fit_history(self, history: History) -> tuple[np.ndarray, np.ndarray]:
        y = _tail(history, self.window)
        m = y.mean(axis=1)
        v = y.var(axis=1, ddof=1) if y.shape[1] > 1 else m.copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = np.where(m > 0, np.clip((v - m) / m**2, 0.0, 50.0), 0.0)
        return m, alpha

    def sample(self, fitted: MatrixFitted, horizon, n_samples, rng) -> np.ndarray:
        m, alpha = fitted.state
        R = m.shape[0]
        mu = np.broadcast_to(m[:, None, None], (R, horizon, n_samples))
        a = np.broadcast_to(alpha[:, None, None], (R, horizon, n_samples))
        return sample_nb(mu, a, rng)


BASELINES = (
    Zero(),
    PoissonAroundMean(name="last_value", window=1),
    PoissonAroundMean(name="recent_mean_3", window=3),
    PoissonAroundMean(name="recent_mean_6", window=6),
    Conflictology(),
    NBClimatology(),
)
for _b in BASELINES:
    register(_b)
