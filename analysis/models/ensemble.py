"""Ensemble: a mixture of the predictive distributions of several forecasters.

Each sample path of the mixture is a whole path of one member chosen at random (with the
members' weights, equal unless given), so the ensemble's paths are draws from the mixture of
the members' joint path distributions, not an average of counts, and stay coherent across
steps and regions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.cache import Key, Memory, array_sha256, memo
from analysis.errors import InputError
from analysis.models.forecast import Fitted, Forecaster, History

# Member fits by member and history: auto's candidates share members (the local level is in
# four of them), and every candidate is fitted on the same history at each origin.
_MEMBER_FITS = Memory(64)


def member_fit(name: str, history: History) -> Fitted:
    """The registry model ``name`` fitted on ``history``, cached: mixtures that share a member
    (and ``auto``'s dependence model) fit it once per history.

    Parameters
    ----------
    name : str
        A registry name (:func:`analysis.models.registry.get`).
    history : History
        Counts up to and including the origin.

    Returns
    -------
    Fitted
    """
    from analysis.models.registry import get

    member = get(name)
    extra = (name, id(member), history.region_ids, str(history.origin), history.freq)
    key = Key("member_fit", data_sha256=array_sha256(history.counts), extra=extra)
    # the member is kept with its fit so that its id is not reused while cached
    return memo(key, lambda: (member, member.fit(history)), memory=_MEMBER_FITS)[1]


def mix_paths(
    members: list[Fitted], weights: np.ndarray, horizon: int, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Paths (region, step, sample) of the mixture: sample j is member ``k_j``'s sample j,
    with ``k_j`` drawn with probabilities ``weights``.

    Parameters
    ----------
    members : list of Fitted
        The members' fits.
    weights : ndarray (k,)
        Probability of each member, summing to 1.
    horizon, n : int
        Steps ahead and number of sample paths.
    rng : Generator
        Draws the members' paths and each sample's member.

    Returns
    -------
    ndarray (region, step, sample)
        int64 counts.
    """
    draws = np.stack([f.sample_paths(horizon, n, rng) for f in members])  # (k, R, H, n)
    which = rng.choice(len(members), size=n, p=weights)
    return draws[which, :, :, np.arange(n)].transpose(1, 2, 0)


@dataclass(frozen=True)
class EnsembleFitted(Fitted):
    members: tuple[Fitted, ...]
    weights: np.ndarray

    def sample_paths(self, horizon, n, rng) -> np.ndarray:
        """Paths of the mixture of ``members`` with ``weights`` (:func:`mix_paths`).

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
        return mix_paths(list(self.members), self.weights, horizon, n, rng)


@dataclass(frozen=True)
class Ensemble(Forecaster):
    """Mixture of ``members`` (names in the registry), with ``weights`` (normalised to sum
    to 1; equal when empty)."""

    name: str = "ensemble"
    description: str = "equal mixture of the local-level and pooled NB forecasts"
    members: tuple[str, ...] = ("local_level", "pooled_nb")
    weights: tuple[float, ...] = ()

    def mixture_weights(self) -> np.ndarray:
        """The members' weights, summing to 1."""
        k = len(self.members)
        if not self.weights:
            return np.full(k, 1.0 / k)
        w = np.asarray(self.weights, dtype=float)
        if w.shape != (k,) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise InputError(
                f"ensemble {self.name}: expected {k} non-negative weights, got {self.weights}"
            )
        return w / w.sum()

    def fit(self, history: History) -> EnsembleFitted:
        """Every member fitted on ``history`` (:func:`member_fit`), with the mixture weights.

        Parameters
        ----------
        history : History
            Counts up to and including the origin. See :meth:`Forecaster.fit`.

        Returns
        -------
        EnsembleFitted

        Raises
        ------
        InputError
            When ``weights`` are not one non-negative, finite weight per member with a positive sum.
        """
        w = self.mixture_weights()
        fitted = tuple(member_fit(m, history) for m in self.members)
        return EnsembleFitted(history, self.name, fitted, w)
