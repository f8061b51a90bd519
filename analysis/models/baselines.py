"""The ladder of baselines every forecaster must beat.

- ``zero``: no events, ever (hard to beat where nothing happens).
- ``last_value``: Poisson around the last observed count.
- ``recent_mean_3`` / ``recent_mean_6``: Poisson around the mean of the last 3 or 6 periods.
- ``conflictology``: each step is one of the region's last 12 observed periods, as the VIEWS
  "conflictology" benchmark does. A path takes consecutive months of that year, starting at a
  random one (wrapping round), so each step is uniform over the 12 months as in VIEWS, and
  window totals keep the runs of busy and quiet months the data had.
- ``nb_climatology``: a negative binomial fitted to the region's last 24 periods (mean and
  moment dispersion), the same distribution at every step.

The Poisson and NB baselines assume independent periods; their paths are independent draws,
which is what that assumption means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.models.forecast import Fitted, Forecaster, History
from analysis.models.glm import sample_nb


def _tail(history: History, k: int) -> np.ndarray:
    return history.counts[:, -k:].astype(float)


@dataclass(frozen=True)
class ZeroFitted(Fitted):
    def sample_paths(self, horizon, n, rng) -> np.ndarray:
        """All-zero paths: no event at any step.

        Parameters
        ----------
        horizon : int
            Number of steps ahead.
        n : int
            Number of sample paths.
        rng : Generator
            Unused (nothing is random). See :meth:`Fitted.sample_paths`.

        Returns
        -------
        ndarray (region, step, sample)
            int64 zeros.
        """
        return np.zeros((len(self.history.region_ids), horizon, n), dtype=np.int64)


@dataclass(frozen=True)
class Zero(Forecaster):
    name: str = "zero"
    is_baseline: bool = True
    description: str = "no events, ever"

    def fit(self, history: History) -> ZeroFitted:
        """Nothing to estimate: the fit only keeps ``history``.

        Parameters
        ----------
        history : History
            Counts up to and including the origin. See :meth:`Forecaster.fit`.

        Returns
        -------
        ZeroFitted
        """
        return ZeroFitted(history, self.name)


@dataclass(frozen=True)
class PoissonFitted(Fitted):
    rate: np.ndarray  # (R,)

    def sample_paths(self, horizon, n, rng) -> np.ndarray:
        """Independent Poisson draws with each region's ``rate`` at every step.

        Parameters
        ----------
        horizon : int
            Number of steps ahead.
        n : int
            Number of sample paths.
        rng : Generator
            Random number generator. See :meth:`Fitted.sample_paths`.

        Returns
        -------
        ndarray (region, step, sample)
            int64 counts.
        """
        R = self.rate.shape[0]
        lam = np.broadcast_to(self.rate[:, None, None], (R, horizon, n))
        return rng.poisson(lam).astype(np.int64)


@dataclass(frozen=True)
class PoissonAroundMean(Forecaster):
    """Poisson with mean equal to the average of the last ``window`` periods."""

    name: str = "recent_mean_3"
    is_baseline: bool = True
    description: str = "Poisson around the recent mean"
    window: int = 3

    def fit(self, history: History) -> PoissonFitted:
        """Each region's rate: its mean count over the last ``window`` periods.

        Parameters
        ----------
        history : History
            Counts up to and including the origin. See :meth:`Forecaster.fit`.

        Returns
        -------
        PoissonFitted
        """
        return PoissonFitted(history, self.name, _tail(history, self.window).mean(axis=1))


@dataclass(frozen=True)
class ConflictologyFitted(Fitted):
    pool: np.ndarray  # (R, k) the last k observed counts

    def sample_paths(self, horizon, n, rng) -> np.ndarray:
        """Consecutive counts of each region's ``pool``, from a random start, wrapping round.

        Parameters
        ----------
        horizon : int
            Number of steps ahead.
        n : int
            Number of sample paths.
        rng : Generator
            Draws each path's start. See :meth:`Fitted.sample_paths`.

        Returns
        -------
        ndarray (region, step, sample)
            int64 counts.
        """
        R, k = self.pool.shape
        start = rng.integers(0, k, size=(R, 1, n))
        idx = (start + np.arange(horizon)[None, :, None]) % k  # (R, H, n)
        return _gather(self.pool, idx)


def _gather(pool: np.ndarray, idx: np.ndarray) -> np.ndarray:
    R = pool.shape[0]
    return pool[np.arange(R)[:, None, None], idx].astype(np.int64)


@dataclass(frozen=True)
class Conflictology(Forecaster):
    """Runs of the region's last ``window`` observed counts; see the module docstring."""

    name: str = "conflictology"
    is_baseline: bool = True
    description: str = "the region's last 12 months, resampled"
    window: int = 12

    def fit(self, history: History) -> ConflictologyFitted:
        """Each region's last ``window`` observed counts, the pool its paths replay.

        Parameters
        ----------
        history : History
            Counts up to and including the origin. See :meth:`Forecaster.fit`.

        Returns
        -------
        ConflictologyFitted
        """
        return ConflictologyFitted(
            history, self.name, history.counts[:, -self.window :].astype(np.int64)
        )


@dataclass(frozen=True)
class NBFitted(Fitted):
    mean: np.ndarray  # (R,)
    alpha: np.ndarray  # (R,) NB2 dispersion

    def sample_paths(self, horizon, n, rng) -> np.ndarray:
        """Independent NB2 draws with each region's ``mean`` and ``alpha`` at every step.

        Parameters
        ----------
        horizon : int
            Number of steps ahead.
        n : int
            Number of sample paths.
        rng : Generator
            Random number generator. See :meth:`Fitted.sample_paths`.

        Returns
        -------
        ndarray (region, step, sample)
            int64 counts.
        """
        R = self.mean.shape[0]
        mu = np.broadcast_to(self.mean[:, None, None], (R, horizon, n))
        a = np.broadcast_to(self.alpha[:, None, None], (R, horizon, n))
        return sample_nb(mu, a, rng)


@dataclass(frozen=True)
class NBClimatology(Forecaster):
    """NB2 with the mean and moment dispersion of the last ``window`` periods."""

    name: str = "nb_climatology"
    is_baseline: bool = True
    description: str = "negative binomial of the last 24 months"
    window: int = 24

    def fit(self, history: History) -> NBFitted:
        """Each region's mean and moment NB2 dispersion over the last ``window`` periods.

        The dispersion is clipped to [0, 50], and is 0 where the mean is 0.

        Parameters
        ----------
        history : History
            Counts up to and including the origin. See :meth:`Forecaster.fit`.

        Returns
        -------
        NBFitted
        """
        y = _tail(history, self.window)
        m = y.mean(axis=1)
        v = y.var(axis=1, ddof=1) if y.shape[1] > 1 else m.copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = np.where(m > 0, np.clip((v - m) / m**2, 0.0, 50.0), 0.0)
        return NBFitted(history, self.name, m, alpha)
