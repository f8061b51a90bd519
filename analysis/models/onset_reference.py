"""First events learnt from every unit the data files cover, not from one study's units alone.

One study holds few first events: on real UCDP data the onset model fitted on a study's own
panel lost to the best naive rule in 10 of 12 studies, while on all eleven countries of the file
it was the best method (``docs/internals.md``, "Onset"). A :class:`OnsetReference` holds the
counts of the study's own selection (its actors and event types) in every admin-1 unit of every
country the data files cover, from the files' first month to the study's end. The onset model
is fitted on its quiet-unit rows whose outcome had ended by the forecast origin, and it predicts
the study's quiet units from the same counts, so a unit's neighbours across a border the study
does not cover still count.

A country is covered from the first event of the source that reports it
(:func:`analysis.pipeline.onset_reference`); rows whose quiet window starts before that are
left out, since their zeros would be missing data rather than quiet months.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import InputError, ModelError
from analysis.formatting import period_label
from analysis.models.analogs import quiet_analogs
from analysis.models.onset import (
    PERIODS_PER_YEAR,
    OnsetFit,
    OnsetGeography,
    OnsetSpec,
    fit_onset,
    onset_design,
    onset_features,
    onset_geography,
    onset_spec,
)

__all__ = [
    "OnsetReference",
    "onset_reference_from_panel",
    "training_words",
    "CANNOT_ANSWER",
    "MIN_BURSTS",
]

#: Fewest first-event paths a reference draws burst sizes from before it reaches further back.
MIN_BURSTS = 30

#: What a reference raises when it cannot answer at an origin (an origin or a unit it does not
#: hold, no first event before the origin, a fit that does not solve): its users fall back to
#: the study's own panel.
CANNOT_ANSWER = (InputError, ModelError, ValueError, np.linalg.LinAlgError)


@dataclass(frozen=True, eq=False)
class OnsetReference:
    """Counts of one selection in every covered unit, and the onset fits drawn from them.

    Attributes
    ----------
    counts : ndarray
        int64 (unit, period).
    region_ids : tuple of str
    periods : DatetimeIndex
    geography : OnsetGeography
        Adjacency and countries of ``region_ids``.
    covered_from : ndarray
        Per unit, the index of the first period its country's data cover.
    freq : {"month", "quarter"}
    quiet : int
        The study's quiet window (periods without an event that make a unit quiet), which the
        report model's quiet regions use too.
    """

    counts: np.ndarray
    region_ids: tuple[str, ...]
    periods: pd.DatetimeIndex
    geography: OnsetGeography
    covered_from: np.ndarray
    freq: str = "month"
    quiet: int = 12
    # designs per spec and fits per (spec, origin): a backtest asks for each many times
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_cache"] = {}  # rebuilt on demand; kept out of the disk cache
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            object.__setattr__(self, key, value)

    @cached_property
    def _position(self) -> dict[str, int]:
        return {r: i for i, r in enumerate(self.region_ids)}

    @property
    def n_units(self) -> int:
        return len(self.region_ids)

    @property
    def countries(self) -> list[str]:
        return sorted(set(self.geography.countries.tolist()))

    def summary(self) -> dict[str, Any]:
        """``units``, ``countries`` and ``from`` (the first period, ``YYYY-MM`` or ``YYYYQn``):
        what the onset model learnt from (JSON-ready)."""
        return {
            "units": self.n_units,
            "countries": self.countries,
            "from": period_label(self.periods[0], self.freq),
        }

    def spec(self, horizon: int, quiet: int, base: OnsetSpec | None = None) -> OnsetSpec:
        """The onset spec for ``horizon`` and ``quiet`` at this reference's frequency.

        Parameters
        ----------
        horizon : int
            Periods ahead of the origin that the outcome covers.
        quiet : int
            Periods without an event that make a unit quiet.
        base : OnsetSpec, optional
            Other settings (default None: :class:`OnsetSpec`'s); features of other actors
            are dropped.

        Returns
        -------
        OnsetSpec
        """
        # the reference holds one selection; features of other actors are not available
        return onset_spec(self.freq, horizon, quiet, base, selection_only=True)

    def index(self, origin: Any) -> int:
        """Column of ``origin`` (a period); ModelError when the reference does not hold it.

        Parameters
        ----------
        origin : str or Timestamp
            A period start.

        Returns
        -------
        int

        Raises
        ------
        ModelError
            When ``periods`` does not hold ``origin``.
        """
        stamp = pd.Timestamp(origin)
        if stamp not in self.periods:
            raise ModelError(
                f"origin {period_label(stamp, self.freq)} is outside the onset reference's "
                f"periods ({period_label(self.periods[0], self.freq)} to "
                f"{period_label(self.periods[-1], self.freq)})"
            )
        return int(self.periods.get_loc(stamp))

    def design(self, spec: OnsetSpec) -> pd.DataFrame:
        """Quiet-unit rows at every origin with a quiet window behind it inside the unit's
        coverage and an outcome window ahead (:func:`analysis.models.onset.onset_design`).

        Parameters
        ----------
        spec : OnsetSpec
            Onset target and features.

        Returns
        -------
        DataFrame
            The rows (cached per spec).
        """
        key = ("design", spec)
        if key not in self._cache:
            last = self.counts.shape[1] - 1 - spec.horizon
            rows = onset_design(self.counts, range(spec.quiet - 1, last + 1), self.geography, spec)
            start = self.covered_from[rows["region_id"].map(self._position).to_numpy(int)]
            self._cache[key] = rows[rows["origin"].to_numpy(int) >= start + spec.quiet - 1]
        return self._cache[key]

    def fit_at(self, origin: Any, spec: OnsetSpec, cluster: str | None = None) -> OnsetFit:
        """The onset model fitted on the rows whose outcome had ended by ``origin``.

        ``cluster="region_id"`` gives the unit-clustered covariance the intervals need (the
        point estimates are the same).

        Parameters
        ----------
        origin : str or Timestamp
            Forecast origin, a period of the reference.
        spec : OnsetSpec
            Onset target, features and model settings.
        cluster : str, optional
            Column grouping dependent rows (default None: the model-based covariance).

        Returns
        -------
        OnsetFit

        Raises
        ------
        InputError
            When those rows do not hold both outcomes.
        ModelError
            When ``origin`` is outside the reference's periods (:meth:`index`).
        """
        t = self.index(origin)
        key = ("fit", spec, t, cluster)
        if key not in self._cache:
            design = self.design(spec)
            train = design[design["origin"].to_numpy(int) <= t - spec.horizon]
            self._cache[key] = fit_onset(train, spec, cluster=cluster)
        return self._cache[key]

    def features_at(self, region_ids: Any, origin: Any, spec: OnsetSpec) -> pd.DataFrame:
        """The onset features of ``region_ids`` at ``origin``, from periods up to it only.

        Parameters
        ----------
        region_ids : sequence of str
            Units of the reference.
        origin : str or Timestamp
            A period of the reference.
        spec : OnsetSpec
            Onset target and features.

        Returns
        -------
        DataFrame
            One row per unit, in the order of ``region_ids``.

        Raises
        ------
        InputError
            When a unit is not in the reference.
        ModelError
            When ``origin`` is outside the reference's periods (:meth:`index`).
        """
        ids = [str(r) for r in region_ids]
        unknown = [r for r in ids if r not in self._position]
        if unknown:
            raise InputError(f"units not in the onset reference: {unknown[:5]}")
        t = self.index(origin)
        features = onset_features(self.counts[:, : t + 1], t, self.geography, spec)
        return features.iloc[[self._position[r] for r in ids]].reset_index(drop=True)

    def p_onset(self, region_ids: Any, origin: Any, spec: OnsetSpec) -> np.ndarray:
        """P(at least one event in the ``spec.horizon`` periods after ``origin``) for each unit
        of ``region_ids``, from the fit at ``origin`` and the units' features then.

        Parameters
        ----------
        region_ids : sequence of str
            Units of the reference.
        origin : str or Timestamp
            Forecast origin, a period of the reference.
        spec : OnsetSpec
            Onset target, features and model settings.

        Returns
        -------
        ndarray (unit,)

        Raises
        ------
        InputError
            When a unit is not in the reference, or the fit has nothing to learn from.
        ModelError
            When ``origin`` is outside the reference's periods (:meth:`index`).
        """
        rows = self.features_at(region_ids, origin, spec)
        if rows.empty:
            return np.zeros(0)
        return np.asarray(self.fit_at(origin, spec).predict(rows), dtype=float)

    def first_bursts(
        self, origin: Any, spec: OnsetSpec, lookback: int, length: int | None = None
    ) -> np.ndarray:
        """What followed a first event: the next ``length`` counts (``spec.horizon`` by
        default, never fewer) of every unit quiet at one of the ``lookback`` latest origins
        whose ``length`` periods had ended by ``origin``, where the first ``spec.horizon`` of
        them held an event (int64, (path, step); the quiet window inside the unit's coverage).

        All earlier origins are used when the latest ones hold fewer than :data:`MIN_BURSTS`.

        Parameters
        ----------
        origin : str or Timestamp
            Forecast origin, a period of the reference.
        spec : OnsetSpec
            Its ``quiet`` and ``horizon`` define the quiet units and a first event.
        lookback : int
            Latest origins searched.
        length : int, optional
            Steps of each path (default None: ``spec.horizon``).

        Returns
        -------
        ndarray (path, step)
            int64 counts.
        """
        t = self.index(origin)
        length = max(int(length or spec.horizon), spec.horizon)
        key = ("bursts", spec, t, int(lookback), length)
        if key not in self._cache:
            seen = self.counts[:, : t + 1]
            paths = self._bursts(seen, spec, lookback, length)
            if len(paths) < MIN_BURSTS:
                paths = self._bursts(seen, spec, t + 1, length)
            self._cache[key] = paths
        return self._cache[key]

    def _bursts(self, seen: np.ndarray, spec: OnsetSpec, lookback: int, length: int) -> np.ndarray:
        paths, _ = quiet_analogs(seen, length, spec.quiet, lookback, covered_from=self.covered_from)
        return paths[paths[:, : spec.horizon].sum(axis=1) > 0]


def training_words(summary: dict[str, Any]) -> str:
    """Where the onset model learnt, from :meth:`OnsetReference.summary`, in words: "169 units
    of the data files' 10 countries, from 1989-01" ("1 country" for one; the first period
    says how far back the first events it learnt from reach).

    Parameters
    ----------
    summary : dict
        :meth:`OnsetReference.summary`: ``units``, ``countries`` and, optionally, ``from``.

    Returns
    -------
    str
    """
    n = len(summary["countries"])
    words = f"{summary['units']} units of the data files' {n} " + (
        "country" if n == 1 else "countries"
    )
    return words + (f", from {summary['from']}" if summary.get("from") else "")


def onset_reference_from_panel(
    panel: pd.DataFrame,
    boundaries: Any = None,
    covered_from: dict[str, Any] | None = None,
    quiet: int | None = None,
) -> OnsetReference:
    """Build a reference from a zero-filled panel of every covered unit.

    Parameters
    ----------
    panel : DataFrame
        ``region_id, period, events`` (and ``country``), zero-filled, one selection.
    boundaries : Boundaries, optional
        For the adjacency (default: the shipped boundaries).
    covered_from : dict, optional
        First covered month per country (the panel's ``country`` values); default the
        panel's first period for all. A quarterly panel covers a country from the quarter that
        holds that month.
    quiet : int, optional
        The study's quiet window (default one year at the panel's frequency).

    Returns
    -------
    OnsetReference
    """
    from analysis.panel import to_matrix

    counts, ids, periods = to_matrix(panel)
    geo = onset_geography(ids, boundaries)
    start = np.zeros(len(ids), dtype=int)
    if covered_from:
        for i, country in enumerate(geo.countries):
            first = covered_from.get(str(country))
            if first is None:
                raise InputError(f"no coverage date for country {country} of the onset reference")
            # the period that holds the month (a quarter starts before its second month)
            start[i] = max(int(np.searchsorted(periods, pd.Timestamp(first), "right")) - 1, 0)
    freq = panel.attrs.get("freq", "month")
    return OnsetReference(
        counts=counts.astype(np.int64),
        region_ids=tuple(ids),
        periods=periods,
        geography=geo,
        covered_from=start,
        freq=freq,
        quiet=int(quiet) if quiet is not None else PERIODS_PER_YEAR[freq],
    )
