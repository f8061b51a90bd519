"""Choose the spillover model's endemic offsets and trend damping by rolling-origin CRPS.

Two choices of :func:`analysis.models.spillover.fit_spillover` cannot be made by the likelihood:

- the endemic offsets: per country, or per region nested in its country (the likelihood always
  prefers the richer one, but the question is whether it forecasts better);
- the damping of the trend beyond the origin (it does not enter the likelihood at all).

Each candidate is first fitted on the whole panel, which estimates its random-effect variances;
it is then refitted, with those variances held and warm-started from the whole-panel estimates
(one fit per origin, not an empirical-Bayes search), on the history up to several origins and
simulated ``horizon`` periods ahead (parameter uncertainty included, one path per parameter
draw). Each forecast is scored by the fair CRPS at steps 1..horizon on the regions the report
is about: the focus regions and every region with an event in the year before the origin. Damping
variants of one fit share their random numbers, so their differences carry little Monte Carlo
noise. The candidate with the lowest mean CRPS is chosen; the table keeps every candidate's
score and the standard error of its difference to the chosen one across origins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analysis.errors import InputError, ModelError
from analysis.formatting import period_label
from analysis.models.hhh4 import HHH4Spec, profile_intervals, simulate_forward
from analysis.models.spillover import (
    ENDEMIC_EFFECTS,
    SpilloverModel,
    fit_spillover_matrix,
    geography_matrices,
)
from analysis.scoring import crps_fair

__all__ = ["SpilloverChoice", "choose_spillover", "fit_chosen", "DAMPINGS"]

# By default the undamped trend (1.0) is scored for reference but not chosen: a trend is not
# extrapolated undamped in a report (DESIGN.md).
DAMPINGS: tuple[float, ...] = (0.6, 0.8, 0.9, 0.95)


@dataclass(frozen=True)
class SpilloverChoice:
    """The chosen configuration and the evidence for it.

    Attributes
    ----------
    endemic_effects : str
    damping : float
    scores : DataFrame
        One row per candidate: ``endemic_effects, damping, crps`` (mean over origins, scored
        regions and steps), ``diff`` (minus the chosen one's), ``diff_se`` (standard error of
        that difference across origins), ``chosen``, ``eligible`` (False for the undamped
        reference).
    origins : tuple of str
        ``YYYY-MM`` of each origin.
    horizon : int
    n_samples : int
    n_regions_scored : tuple of int
        Regions scored at each origin.
    model : SpilloverModel
        The chosen candidate fitted on the whole panel, with the chosen damping.
    """

    endemic_effects: str
    damping: float
    scores: pd.DataFrame
    origins: tuple[str, ...]
    horizon: int
    n_samples: int
    n_regions_scored: tuple[int, ...]
    model: SpilloverModel

    def to_dict(self) -> dict:
        """JSON-ready record of the choice and its evidence."""
        return {
            "endemic_effects": self.endemic_effects,
            "trend_damping": self.damping,
            "criterion": "mean fair CRPS, steps 1..horizon, focus and recently active regions",
            "origins": list(self.origins),
            "horizon": self.horizon,
            "n_samples": self.n_samples,
            "n_regions_scored": list(self.n_regions_scored),
            "candidates": [
                {
                    "endemic_effects": r.endemic_effects,
                    "trend_damping": float(r.damping),
                    "crps": float(r.crps),
                    "diff": float(r.diff),
                    "diff_se": float(r.diff_se),
                    "chosen": bool(r.chosen),
                    "eligible": bool(r.eligible),
                }
                for r in self.scores.itertuples()
            ],
        }


#: Periods of history before a cross-validation origin: two years, so that the endemic
#: season and the own-lag term are both estimable.
MIN_TRAIN = 24


def history_needed(horizon: int) -> int:
    """Periods the cross-validated choice needs: one origin after :data:`MIN_TRAIN` periods,
    with ``horizon`` observed periods after it.

    Parameters
    ----------
    horizon : int
        Forecast horizon, in periods.

    Returns
    -------
    int
    """
    return MIN_TRAIN + 1 + horizon


def _origin_indices(n_periods: int, horizon: int, n_origins: int, spacing: int) -> list[int]:
    last = n_periods - 1 - horizon
    idx = [last - spacing * k for k in range(n_origins)]
    idx = sorted(i for i in idx if i >= MIN_TRAIN)
    if not idx:
        raise InputError(
            f"the panel ({n_periods} periods) is too short for a {horizon}-period "
            "cross-validation origin after two years of history"
        )
    return idx


def choose_spillover(
    panel: pd.DataFrame,
    *,
    boundaries=None,
    focus: Sequence[str] = (),
    horizon: int = 12,
    effects: Sequence[str] = ("country", "region_in_country"),
    dampings: Sequence[float] = DAMPINGS,
    n_origins: int = 3,
    spacing: int = 6,
    n_samples: int = 500,
    seed: int = 0,
    spec: HHH4Spec | None = None,
) -> SpilloverChoice:
    """Choose ``endemic_effects`` and the trend damping by rolling-origin CRPS.

    Parameters
    ----------
    panel : DataFrame
        Zero-filled panel (docs/internals.md).
    boundaries : Boundaries, optional
    focus : sequence of str
        Focus region ids (they get their own trend, as in the study's model, and are always
        scored).
    horizon : int
        Steps scored after each origin (the report's horizon).
    effects : sequence of str
        Candidate endemic offsets.
    dampings : sequence of float
        Candidate dampings in (0, 1]; the undamped trend (1) is scored as a reference, and can
        be chosen only if it is listed here.
    n_origins, spacing : int
        Origins: the last period with ``horizon`` periods after it, and ``n_origins - 1`` more
        at ``spacing`` periods before it (each with at least two years of history).
    n_samples : int
        Sample paths per forecast (one parameter draw each).
    seed : int
    spec : HHH4Spec, optional
        Model terms (default as in :func:`fit_spillover_matrix`).

    Returns
    -------
    SpilloverChoice
    """
    from analysis.panel import to_matrix

    bad = [e for e in effects if e not in ENDEMIC_EFFECTS]
    if bad or not effects:
        raise InputError(f"effects must be among {ENDEMIC_EFFECTS}, got {list(effects)}")
    if not dampings or any(not 0.0 < d <= 1.0 for d in dampings):
        raise InputError(f"dampings must lie in (0, 1], got {list(dampings)}")
    candidates = tuple(dict.fromkeys((*dampings, 1.0)))
    if horizon < 1 or n_samples < 2:
        raise InputError("need horizon >= 1 and n_samples >= 2")
    counts, ids, periods = to_matrix(panel)
    info = panel.drop_duplicates("region_id").set_index("region_id")
    countries = info.loc[ids, "country"].astype(str).to_numpy()
    # the chosen model's results name regions by these (the command's JSON had read "ML-5"
    # where the panel says "Mopti")
    names = info.loc[ids, "region_name"].astype(str).to_numpy()
    order, cross, _ = geography_matrices(ids, boundaries)
    freq = panel.attrs.get("freq", "month")
    per_year = 12 if freq == "month" else 4
    focus_idx = [list(ids).index(f) for f in focus if f in ids]
    origins = _origin_indices(counts.shape[1], horizon, n_origins, spacing)
    full: dict[str, SpilloverModel] = {}
    for e in effects:
        try:
            full[e] = fit_spillover_matrix(
                counts, ids, periods, order, cross, countries, freq=freq, endemic_effects=e,
                spec=spec, profile=False, focus_trend=list(focus), region_names=names,
            )  # fmt: skip
        except ModelError:
            continue
    grid = [(e, d) for e in effects for d in candidates]
    per_origin = np.full((len(grid), len(origins)), np.nan)
    n_scored = []
    for j, o in enumerate(origins):
        hist = counts[:, : o + 1]
        future = counts[:, o + 1 : o + 1 + horizon]
        active = hist[:, -per_year:].sum(axis=1) > 0
        active[focus_idx] = True
        n_scored.append(int(active.sum()))
        for e, whole in full.items():
            try:
                model = fit_spillover_matrix(
                    hist, ids, periods[: o + 1], order, cross, countries, freq=freq,
                    spec=replace(whole.fit.spec, trend_damping=1.0), endemic_effects=e,
                    profile=False, focus_trend=list(focus), start=whole.fit.params,
                )  # fmt: skip
            except ModelError:
                continue  # a candidate that cannot be fitted at an origin is not chosen
            for d in candidates:
                fit = replace(model.fit, spec=replace(model.fit.spec, trend_damping=d))
                sim = simulate_forward(
                    fit, model.recent_counts, horizon, n_draws=n_samples, n_paths=1,
                    seed=seed + j, keep_paths=True,
                )  # fmt: skip
                paths = np.moveaxis(sim.paths[:, 0], 0, -1)  # (H, R, M)
                score = crps_fair(future[active].T, paths[:, active])
                per_origin[grid.index((e, d)), j] = float(score.mean())
    mean = per_origin.mean(axis=1)
    eligible = np.array([d in dampings for _, d in grid]) & np.isfinite(mean)
    if not eligible.any():
        raise ModelError("spillover model selection: no candidate could be fitted at every origin")
    best = int(np.argmin(np.where(eligible, mean, np.inf)))
    diff = per_origin - per_origin[best]
    se = diff.std(axis=1, ddof=1) / np.sqrt(len(origins)) if len(origins) > 1 else np.nan
    scores = pd.DataFrame(
        {
            "endemic_effects": [e for e, _ in grid],
            "damping": [d for _, d in grid],
            "crps": mean,
            "diff": mean - mean[best],
            "diff_se": se,
            "chosen": np.arange(len(grid)) == best,
            "eligible": eligible,
        }
    )
    chosen = full[grid[best][0]]
    chosen = replace(
        chosen,
        fit=replace(chosen.fit, spec=replace(chosen.fit.spec, trend_damping=grid[best][1])),
    )
    return SpilloverChoice(
        endemic_effects=grid[best][0],
        damping=float(grid[best][1]),
        model=chosen,
        scores=scores,
        origins=tuple(period_label(periods[o], freq) for o in origins),
        horizon=int(horizon),
        n_samples=int(n_samples),
        n_regions_scored=tuple(n_scored),
    )


def fit_chosen(
    panel: pd.DataFrame,
    *,
    boundaries=None,
    focus: Sequence[str] = (),
    horizon: int = 12,
    seed: int = 0,
    profile: bool = True,
    **options,
) -> tuple[SpilloverModel, SpilloverChoice]:
    """A study's spillover model: the configuration :func:`choose_spillover` picks, fitted on
    the whole panel (with profile intervals for parameters on a bound).

    Parameters
    ----------
    panel, boundaries, focus, horizon, seed
        As for :func:`choose_spillover`.
    profile : bool
    **options
        Passed to :func:`choose_spillover` (``effects``, ``dampings``, ...).

    Returns
    -------
    (SpilloverModel, SpilloverChoice)
    """
    from analysis.panel import to_matrix

    choice = choose_spillover(
        panel, boundaries=boundaries, focus=focus, horizon=horizon, seed=seed, **options
    )
    model = choice.model
    if profile and model.fit.at_bound:
        counts, _, _ = to_matrix(panel)
        fit = profile_intervals(model.fit, counts, model.fit.cross, model.endemic_groups())
        model = replace(model, fit=fit)
    return model, choice
