"""Ensemble: an equal-weight mixture of the predictive distributions of several forecasters.

Each sample of the mixture comes from one member chosen at random (equal weights), so the
ensemble's samples are draws from the mixture distribution, not an average of counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.models.forecast import (
    History,
    MatrixFitted,
    MatrixForecaster,
    get_forecaster,
    register,
)


@dataclass(frozen=True)
class Ensemble(MatrixForecaster):
    """Mixture of ``members`` (names in the registry) with equal weights."""

    name: str = "ensemble"
    members: tuple[str, ...] = ("local_level", "pooled_nb")

    def fit_history(self, history: History) -> list[MatrixFitted]:
        return [get_forecaster(m).fit_matrix(history) for m in self.members]

    def sample(self, fitted: MatrixFitted, horizon, n_samples, rng) -> np.ndarray:
        k = len(fitted.state)
        draws = np.stack([f.sample(horizon, n_samples, rng) for f in fitted.state])  # (k,R,H,M)
        which = rng.integers(0, k, size=draws.shape[1:])
        return np.take_along_axis(draws, which[None], axis=0)[0]


register(Ensemble())
# mixes in the conflictology baseline: often the best single forecaster on sparse panels
register(Ensemble(name="ensemble_hybrid", members=("local_level", "pooled_nb", "conflictology")))

# stacking and the spatial hurdle live in their own modules; load them with the built-ins so
# that they are listed
import analysis.models.hurdle  # noqa: E402, F401
import analysis.models.stacking  # noqa: E402, F401
