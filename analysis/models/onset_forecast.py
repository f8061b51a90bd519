"""Onset forecasts for a study's panel: P(first event within h) for every quiet unit.

Connects :mod:`analysis.models.onset` to panels (docs/internals.md): the model is fitted on the
panel's own history (every origin whose outcome window has ended by the forecast origin) and
predicts the units quiet at the forecast origin, with intervals from coefficient draws whose
Monte Carlo error is reported. Units active at the origin are not onset candidates: their
forecast is continued activity (an expected count from the count model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.formatting import period_label
from analysis.models.onset import (
    OnsetFit,
    OnsetSpec,
    fit_onset,
    onset_design,
    onset_features,
    onset_geography,
    onset_spec,
    quiet_units,
)
from analysis.models.onset_reference import CANNOT_ANSWER

__all__ = ["OnsetForecast", "onset_forecast", "onset_to_dict"]


@dataclass(frozen=True)
class OnsetForecast:
    """Onset probabilities at one origin.

    Attributes
    ----------
    units : DataFrame
        One row per unit quiet at the origin: ``region_id, region_name, country, p_onset,
        p_onset_low, p_onset_high, mc_error, events_to_date`` (events in the panel up to the
        origin), ``last_event`` and ``periods_quiet`` (the period of the unit's last event and
        the periods since it, NaT and -1 without one) and the feature values.
    active : tuple of str
        Units with an event in the quiet window (continued activity, not onset).
    fit : OnsetFit
    origin : Timestamp
    horizon, quiet : int
    level : float
    n_draws : int
    seed : int
    trained_on : dict
        ``units`` and ``countries`` of the onset reference that trained the model; empty when
        the study's own panel did.
    """

    units: pd.DataFrame
    active: tuple[str, ...]
    fit: OnsetFit
    origin: pd.Timestamp
    horizon: int
    quiet: int
    level: float
    n_draws: int
    seed: int
    trained_on: dict = field(default_factory=dict)


def _matrix(panel: pd.DataFrame, origin: pd.Timestamp | None):
    from analysis.panel import to_matrix

    p = panel
    if origin is not None:
        p = panel[pd.to_datetime(panel["period"]) <= origin]
        if p.empty:
            raise InputError(f"no panel periods at or before origin {origin:%Y-%m}")
    return to_matrix(p)


def onset_forecast(
    panel: pd.DataFrame,
    horizon: int,
    quiet: int,
    *,
    panel_all: pd.DataFrame | None = None,
    origin=None,
    boundaries=None,
    spec: OnsetSpec | None = None,
    level: float = 0.95,
    mc_tolerance: float = 0.01,
    seed: int = 0,
    reference: Any = None,
) -> OnsetForecast:
    """Fit the onset model on a panel's history and predict its quiet units.

    Parameters
    ----------
    panel : DataFrame
        Zero-filled panel of the study's selection.
    horizon, quiet : int
        Periods ahead, and periods without an event that make a unit quiet.
    panel_all : DataFrame, optional
        The same units and periods for all actors (for the other-actor features).
    origin : str or Timestamp, optional
        Last period seen; default the panel's last period.
    boundaries : Boundaries, optional
    spec : OnsetSpec, optional
        Defaults to the package default features; ``quiet``, ``horizon`` and the frequency are
        set from the arguments and the panel.
    level : float
        Interval level.
    mc_tolerance : float
        Largest Monte Carlo error allowed for the interval limits.
    seed : int
    reference : OnsetReference, optional
        Every unit the data files cover (:func:`analysis.pipeline.onset_reference`): the model
        is fitted on its rows whose outcome had ended by the origin (one study holds few first
        events) and the quiet units' features are read from its counts, so neighbours across
        the study's borders count. Without it, the panel's own history.

    Returns
    -------
    OnsetForecast

    Raises
    ------
    InputError
        When the panel's history has no quiet-unit rows with both outcomes (and the reference,
        if any, cannot answer).
    """
    freq = panel.attrs.get("freq", "month")
    cut = pd.Timestamp(origin) if origin is not None else None
    counts, ids, periods = _matrix(panel, cut)
    counts_all = None
    if panel_all is not None:
        all_counts, all_ids, all_periods = _matrix(panel_all, cut)
        if all_ids != ids or not all_periods.equals(periods):
            raise InputError("the all-actor panel must have the same units and periods")
        counts_all = np.maximum(all_counts, counts)
    spec = onset_spec(freq, horizon, quiet, spec, selection_only=counts_all is None)
    t = counts.shape[1] - 1
    if t < quiet - 1:
        raise InputError(
            f"the panel has {counts.shape[1]} periods up to the origin; onset needs at least "
            f"{quiet} (the quiet window)"
        )
    quiet_now = quiet_units(counts, t, quiet)
    qids = [r for r, q in zip(ids, quiet_now, strict=True) if q]
    trained_on = {}
    fitted = _fit_on_reference(reference, spec, horizon, quiet, periods[t], qids)
    if fitted is not None:
        spec, fit, features = fitted
        trained_on = reference.summary()
    else:
        geo = onset_geography(ids, boundaries)
        train_origins = range(quiet - 1, t - horizon + 1)
        design = onset_design(counts, train_origins, geo, spec, counts_all)
        fit = fit_onset(design, spec)
        features = onset_features(counts, t, geo, spec, counts_all)[quiet_now]
    pred = fit.predict_interval(features, level, mc_tolerance=mc_tolerance, seed=seed)
    info = panel.drop_duplicates("region_id").set_index("region_id")
    last_event, periods_quiet = _last_event(counts[quiet_now, : t + 1], periods)
    units = pd.DataFrame(
        {
            "region_id": qids,
            "region_name": info.loc[qids, "region_name"].astype(str).to_numpy(),
            "country": info.loc[qids, "country"].astype(str).to_numpy(),
            "p_onset": pred.p,
            "p_onset_low": pred.low,
            "p_onset_high": pred.high,
            "mc_error": pred.mc_error,
            # a unit quiet for the window but never active in the panel is a different
            # reading ("no event in the study's data") from one quiet for the window only
            "events_to_date": counts[quiet_now, : t + 1].sum(axis=1).astype(int),
            # how long the unit has been quiet, which can be far longer than the window
            "last_event": last_event,
            "periods_quiet": periods_quiet,
        }
    )
    units = pd.concat([units, features.reset_index(drop=True)], axis=1)
    return OnsetForecast(
        units=units,
        active=tuple(r for r, q in zip(ids, quiet_now, strict=True) if not q),
        fit=fit,
        origin=periods[t],
        horizon=horizon,
        quiet=quiet,
        level=level,
        n_draws=pred.n_draws,
        seed=seed,
        trained_on=trained_on,
    )


def _fit_on_reference(
    reference: Any, spec: OnsetSpec, horizon: int, quiet: int, origin: Any, units: list[str]
) -> tuple[OnsetSpec, OnsetFit, pd.DataFrame] | None:
    """The onset model fitted on the reference at ``origin`` (clustered by unit, for the
    intervals) and the ``units``' features there; None without a reference or where it cannot
    answer (an origin before its first period, no first event before the origin, a unit it
    does not hold), and the study's own panel is used instead."""
    if reference is None:
        return None
    spec = reference.spec(horizon, quiet, base=spec)
    try:
        fit = reference.fit_at(origin, spec, cluster="region_id")
        return spec, fit, reference.features_at(units, origin, spec)
    except CANNOT_ANSWER:
        return None


def onset_to_dict(
    result: OnsetForecast, regions: Sequence[str] | None = None, freq: str = "month"
) -> dict:
    """JSON-ready onset block; ``regions`` limits the listed quiet units (all by default), and
    ``freq`` (the panel's, ``month`` or ``quarter``) labels the origin.

    Parameters
    ----------
    result : OnsetForecast
        The onset forecast.
    regions : sequence of str, optional
        Region ids of the quiet units to list (default None: all).
    freq : str, optional
        ``"month"`` (default) or ``"quarter"``.

    Returns
    -------
    dict
    """
    origin = period_label(result.origin, freq)
    units = result.units
    if regions is not None:
        units = units[units["region_id"].isin(list(regions))]
    feats = list(result.fit.spec.features)
    fit = result.fit
    return {
        "definition": (
            f"P(at least one event within {result.horizon} periods after {origin}) "
            f"for units with no event in the last {result.quiet} periods"
        ),
        "origin": origin,
        "horizon": result.horizon,
        "quiet_periods": result.quiet,
        "interval_level": result.level,
        "n_draws": result.n_draws,
        "max_mc_error": float(units["mc_error"].max()) if len(units) else 0.0,
        "seed": result.seed,
        "model": {
            "name": f"ridge-penalised binary regression ({fit.spec.link} link) on stacked "
            "quiet-unit origins",
            "features": feats,
            "penalty": fit.spec.penalty,
            "neighbour_decay": fit.spec.decay,
            "coefficients": [
                {"term": r.term, "estimate": float(r.estimate), "se": float(r.se)}
                for r in fit.table().itertuples()
            ],
            "covariance": fit.meta.get("covariance"),
            "n_obs": fit.n_obs,
            "trained_on": result.trained_on or {"study_panel": True},
            "n_onsets": fit.n_onsets,
        },
        "units": [
            {
                "region_id": r["region_id"],
                "region_name": r["region_name"],
                "country": r["country"],
                "p_onset": float(r["p_onset"]),
                "p_onset_ci": [float(r["p_onset_low"]), float(r["p_onset_high"])],
                "mc_error": float(r["mc_error"]),
                "features": {f: float(r[f]) for f in feats},
            }
            for _, r in units.iterrows()
        ],
    }


def _last_event(counts: np.ndarray, periods: Any) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """The period of each row's last non-zero count and the periods after it up to the last
    column (NaT and -1 for a row of zeros)."""
    seen = counts > 0
    after = np.argmax(seen[:, ::-1], axis=1)
    stamps = pd.DatetimeIndex(periods)[counts.shape[1] - 1 - after]
    ever = seen.any(axis=1)
    return stamps.where(ever, pd.NaT), np.where(ever, after, -1)
