"""Gamma-Poisson local-level model (Harvey and Fernandes 1989), pooled over regions.

Each region's event rate follows a random walk that is tracked by a gamma distribution:
the count in a period is Poisson given the rate; after each period the gamma's shape and rate
are discounted by ``omega`` (old evidence fades) and updated with the count. The one-step
predictive is then negative binomial with mean equal to an exponentially weighted average of
past counts, and the uncertainty about the level is part of it. Paths are simulated forward:
each step draws a rate from the current gamma, a count given the rate, and then updates the
gamma with that simulated count, exactly as the filter would with data. A path that starts
high therefore stays high, window totals get the spread the model implies, and intervals
widen with the horizon as old evidence fades.

So that silent regions are not forecast at exactly zero forever, every period of the filter
also adds a little prior evidence, ``(1 - omega) * (b0 * m, b0)`` with ``m`` the mean rate of
all regions: in the steady state the level is the EWMA shrunk towards ``m`` with the weight of
``b0`` periods. Forward simulation adds none by default (``forward_prior=False``): repeated
every step, it would pull every path back to the all-region mean, which on the real UCDP
backtest (central Sahel, 2014-2019 origins) cost CRPS at steps 4-12.

Counts scatter around the rate more than Poisson: a gamma factor with variance ``kappa``
multiplies it (the likelihood uses the NB with the same mean and variance).
``omega``, ``b0`` and ``kappa`` are chosen by maximising the one-step predictive likelihood of
the training window over all regions (a small grid; no look-ahead).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from analysis.models.forecast import Fitted, Forecaster, History

OMEGAS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.96, 0.98)
PRIOR_WEIGHTS = (0.25, 1.0, 4.0)
KAPPAS = (0.0, 0.25, 0.5, 1.0, 2.0)


def _filter(y: np.ndarray, omega: float, a_p: float, b_p: float):
    """Run the filter over y (R, T); return one-step predictive (a, b) per period and the
    posterior (a, b) after the last period."""
    R, T = y.shape
    a = np.full(R, a_p)
    b = np.full(R, b_p)
    pa = np.empty((R, T))
    pb = np.empty((R, T))
    for t in range(T):
        a = omega * a + (1 - omega) * a_p
        b = omega * b + (1 - omega) * b_p
        pa[:, t], pb[:, t] = a, b
        a = a + y[:, t]
        b = b + 1.0
    return pa, pb, a, b


def _nb_loglik(y: np.ndarray, a: np.ndarray, b: np.ndarray, kappa: float) -> np.ndarray:
    """log P(y) for ``y ~ Poisson(lam * eps)``, ``lam ~ Gamma(a, rate b)``,
    ``eps ~ Gamma(1/kappa, scale kappa)``, approximated by the NB with the same mean and
    variance (exact when ``kappa = 0``)."""
    mu = a / b
    size = 1.0 / (1.0 / a + kappa + kappa / a)
    return (
        special.gammaln(y + size)
        - special.gammaln(size)
        - special.gammaln(y + 1)
        + size * np.log(size / (size + mu))
        + y * np.log(mu / (size + mu))
    )


@dataclass(frozen=True)
class LocalLevelFitted(Fitted):
    """Discount ``omega``, prior weight, extra noise ``kappa``, mean rate of all regions and
    the gamma (shape ``a``, rate ``b``) of every region's level after the origin."""

    omega: float
    prior_weight: float
    kappa: float
    mean_rate: float
    a: np.ndarray
    b: np.ndarray
    forward_prior: bool = False

    def sample_paths(self, horizon, n, rng) -> np.ndarray:
        """Paths of the local level without a trend (:meth:`simulate`).

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
        return self.simulate(horizon, n, rng)

    def simulate(
        self, horizon: int, n: int, rng: np.random.Generator, factor: np.ndarray | None = None
    ) -> np.ndarray:
        """Paths (region, step, path) of the level, optionally times a multiplicative trend.

        Parameters
        ----------
        horizon, n, rng
            Steps, paths and random generator, as in ``sample_paths``.
        factor : ndarray (region, horizon, path), optional
            Multiplies each step's level (the damped trend); the level is then updated with
            the de-trended count, so the trend is not counted twice.

        Returns
        -------
        ndarray (region, horizon, path)
            int64 counts.
        """
        omega, m = self.omega, self.mean_rate
        w = self.prior_weight if self.forward_prior else 0.0
        R = self.a.shape[0]
        a = np.repeat(self.a[:, None], n, axis=1)
        b = np.repeat(self.b[:, None], n, axis=1)
        out = np.empty((R, horizon, n), dtype=np.int64)
        for h in range(horizon):
            a = omega * a + (1 - omega) * w * m
            b = omega * b + (1 - omega) * w
            lam = rng.gamma(a, 1.0 / b)
            if factor is not None:
                lam = lam * factor[:, h]
            if self.kappa > 0:
                lam = lam * rng.gamma(1.0 / self.kappa, self.kappa, size=(R, n))
            y = rng.poisson(lam)
            out[:, h] = y
            a = a + (y if factor is None else y / factor[:, h])
            b = b + 1.0
        return out


@dataclass(frozen=True)
class LocalLevelNB(Forecaster):
    """Pooled gamma-Poisson local level; see the module docstring."""

    name: str = "local_level"
    description: str = "gamma-Poisson local level (no trend), pooled discount"
    window: int = 60
    burn_in: int = 12
    omegas: tuple[float, ...] = OMEGAS
    prior_weights: tuple[float, ...] = PRIOR_WEIGHTS
    kappas: tuple[float, ...] = KAPPAS
    forward_prior: bool = False

    def fit(self, history: History) -> LocalLevelFitted:
        """Choose ``omega``, the prior weight and ``kappa`` on their grids by the one-step
        predictive likelihood of the last ``window`` periods, then filter to the origin.

        Parameters
        ----------
        history : History
            Counts up to and including the origin. See :meth:`Forecaster.fit`.

        Returns
        -------
        LocalLevelFitted
        """
        y = history.counts[:, -self.window :].astype(float)
        m = max(float(y.mean()), 1e-3)
        best = None
        for omega in self.omegas:
            for w in self.prior_weights:
                pa, pb, _, _ = _filter(y, omega, w * m, w)
                yb, ab, bb = (v[:, self.burn_in :] for v in (y, pa, pb))
                for kappa in self.kappas:
                    score = float(_nb_loglik(yb, ab, bb, kappa).sum())
                    if best is None or score > best[0]:
                        best = (score, omega, w, kappa)
        _, omega, w, kappa = best
        _, _, a, b = _filter(y, omega, w * m, w)
        return LocalLevelFitted(history, self.name, omega, w, kappa, m, a, b, self.forward_prior)
