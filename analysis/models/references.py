"""Standard time-series references from statsmodels: SARIMAX and exponential smoothing.

Both model ``log1p(y)`` as Gaussian (the usual way to apply them to counts); forecasts draw
from the Gaussian predictive distribution on that scale, transform back with ``expm1``
(clipped at 0) and add Poisson count noise so that samples are counts. Parameter uncertainty
is not included (statsmodels forecasts condition on the estimates) - one reason they serve as
references. One fit per region with any event in the training window; regions with none get
zeros (both models are degenerate on a constant series). They are slow: about 20-80 ms a fit.
A sample path draws one standard normal per region and scales it by each step's predictive
standard deviation, so a path that starts high stays high (the statsmodels predictive
variances are marginal; this is the comonotone path with those margins).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from analysis.models.forecast import Fitted, Forecaster, History


def _fit_one(kind: str, z: np.ndarray, per_year: int):
    from statsmodels.tsa.statespace.exponential_smoothing import ExponentialSmoothing
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "ets":
            model = ExponentialSmoothing(z, trend=False, initialization_method="concentrated")
        else:
            model = SARIMAX(z, order=(1, 0, 0), trend="c")
        return model.fit(disp=False)


@dataclass(frozen=True)
class ReferenceFitted(Fitted):
    fits: dict  # region index -> statsmodels results (None where the fit failed)
    recent: np.ndarray  # (R, window) counts

    def sample_paths(self, horizon, n, rng):
        """Poisson counts around each fitted region's back-transformed Gaussian path.

        See the module docstring. A region whose fit failed uses the mean of its last 6 counts; a
        region without a fit (no event in the window) gets zeros.

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
        y = self.recent
        R = y.shape[0]
        lam = np.zeros((R, horizon, n))
        for r, res in self.fits.items():
            if res is None:
                lam[r] = y[r, -6:].mean()
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fc = res.get_forecast(horizon)
                m = np.asarray(fc.predicted_mean)
                sd = np.sqrt(np.maximum(np.asarray(fc.var_pred_mean), 0.0))
            z = m[:, None] + sd[:, None] * rng.standard_normal((1, n))
            lam[r] = np.clip(np.expm1(np.minimum(z, 15.0)), 0.0, None)
        return rng.poisson(lam).astype(np.int64)


@dataclass(frozen=True)
class StatsmodelsReference(Forecaster):
    """``kind`` is ``"sarimax"`` (AR(1) with constant on log1p) or ``"ets"`` (simple ES)."""

    name: str = "sarimax"
    description: str = "statsmodels reference on log1p counts"
    kind: str = "sarimax"
    window: int = 48

    def fit(self, history: History) -> ReferenceFitted:
        """One statsmodels fit per region with an event in the last ``window`` periods.

        Parameters
        ----------
        history : History
            Counts up to and including the origin. See :meth:`Forecaster.fit`.

        Returns
        -------
        ReferenceFitted
            ``fits`` holds None for a region whose fit failed.
        """
        y = history.counts[:, -self.window :].astype(float)
        fits = {}
        for r in np.flatnonzero(y.sum(axis=1) > 0):
            try:
                fits[int(r)] = _fit_one(self.kind, np.log1p(y[r]), history.per_year)
            except (np.linalg.LinAlgError, ValueError):
                # a failed fit falls back to the region's recent level
                fits[int(r)] = None
        return ReferenceFitted(history, self.name, fits, y)
