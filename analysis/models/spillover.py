"""Spillover risk from an endemic-epidemic count model fitted to an admin-1 panel.

:mod:`analysis.models.hhh4` holds the model (likelihood, fit, forward simulation) on plain
arrays; this module connects it to panels and geography and answers the spillover questions:

- P(at least one event in region q within h periods), and in any unit of a country, each with
  an interval that carries parameter uncertainty (parameter draws from the asymptotic normal of
  the estimates; per-draw probabilities from simulated paths; interval = quantiles across draws);
- expected counts within the horizon split into endemic, own (autoregressive) and neighbour parts;
- scenarios for focus regions: ``continue`` (simulated on the estimated path), ``held`` (counts
  held at the current level) and ``silenced`` (no events). ``continue - held`` is the risk
  attributable to the focus region's estimated path (the issue's definition);
  ``continue - silenced`` the risk attributable to the focus region's activity altogether.

The model is also registered as the forecaster ``spillover`` (:data:`FORECASTERS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.models.forecast import ForecastResult, register
from analysis.models.hhh4 import (
    HHH4Fit,
    HHH4Spec,
    fit_hhh4,
    profile_intervals,
    simulate_forward,
)

__all__ = [
    "SpilloverModel",
    "SpilloverResult",
    "SpilloverForecaster",
    "fit_spillover",
    "fit_spillover_matrix",
    "spillover_forecast",
    "geography_matrices",
    "result_to_dict",
]

_PER_YEAR = {"month": 12, "quarter": 4}


def geography_matrices(
    region_ids: Sequence[str], boundaries=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adjacency order, cross-border indicator and country of each region, from the boundaries.

    Returns
    -------
    order : ndarray int (R, R)
    cross : ndarray bool (R, R)
    countries : ndarray of str (R,)
    """
    from analysis.geography import adjacency_order_matrix, cross_border_matrix, load_boundaries

    boundaries = boundaries or load_boundaries()
    ids = list(region_ids)
    order = adjacency_order_matrix(ids, boundaries)
    cross = cross_border_matrix(ids, boundaries)
    countries = boundaries.regions.set_index("region_id")["country"].reindex(ids).to_numpy()
    return order, cross, countries.astype(str)


@dataclass(frozen=True)
class SpilloverModel:
    """A fitted spillover model together with the panel labels it was fitted on.

    Attributes
    ----------
    fit : HHH4Fit
    region_ids, region_names, countries : tuple of str
    periods : DatetimeIndex
        Fitted periods; ``periods[-1]`` is the forecast origin.
    freq : str
    last_counts : ndarray (R,)
        Counts of the origin period (the first lag of a forecast).
    recent_counts : ndarray (R, k)
        The last periods of counts (for "held at current level" scenarios).
    """

    fit: HHH4Fit
    region_ids: tuple[str, ...]
    region_names: tuple[str, ...]
    countries: tuple[str, ...]
    periods: pd.DatetimeIndex
    freq: str
    last_counts: np.ndarray
    recent_counts: np.ndarray

    @property
    def origin(self) -> pd.Timestamp:
        return self.periods[-1]

    def future_periods(self, horizon: int) -> pd.DatetimeIndex:
        step = 12 // _PER_YEAR[self.freq]
        return pd.DatetimeIndex(
            [self.origin + pd.DateOffset(months=step * h) for h in range(1, horizon + 1)]
        )


def fit_spillover_matrix(
    counts: np.ndarray,
    region_ids: Sequence[str],
    periods: pd.DatetimeIndex,
    order: np.ndarray,
    cross: np.ndarray,
    countries: Sequence[str],
    *,
    region_names: Sequence[str] | None = None,
    freq: Literal["month", "quarter"] = "month",
    spec: HHH4Spec | None = None,
    endemic_effects: Literal["country", "region", "none"] = "country",
    profile: bool = True,
    focus_trend: Sequence[str] = (),
) -> SpilloverModel:
    """Fit the spillover model on a count matrix with plain geography arrays.

    Parameters
    ----------
    counts : ndarray (R, T)
    region_ids : sequence of str (R,)
    periods : DatetimeIndex (T,)
    order : ndarray (R, R)
        Adjacency order (0 diagonal, large where unconnected).
    cross : ndarray (R, R)
        True where two regions lie in different countries.
    countries : sequence of str (R,)
        ISO3 per region.
    region_names : sequence of str, optional
    freq : {"month", "quarter"}
    spec : HHH4Spec, optional
        Defaults to power-law weights, cross-border term, trend, no seasonality, a one-year
        recent-activity covariate, with ``periods_per_year`` set from ``freq``.
    endemic_effects : {"country", "region", "none"}
        Penalised endemic offsets per country (default), per region, or none (one shared level).
        Penalised (random-effect) offsets keep all-zero units finite.
    profile : bool
        Profile-likelihood intervals for parameters estimated on a bound (e.g. a cross-border
        effect at "never crosses"); forecasts still hold such parameters at the bound.
    focus_trend : sequence of str
        Region ids (typically the study's focus) that get their own endemic trend
        (``end.focus_trend``, log change per year, continued in forecasts). Without it a surge
        confined to the focus is absorbed by the autoregressive parameter and its forecast
        falls back towards the shared level. Empty = no such term.

    Returns
    -------
    SpilloverModel
    """
    if freq not in _PER_YEAR:
        raise InputError(f"freq must be 'month' or 'quarter', got {freq!r}")
    counts = np.asarray(counts)
    ids = tuple(str(r) for r in region_ids)
    if counts.shape[0] != len(ids) or counts.shape[1] != len(periods):
        raise InputError(
            f"counts shape {counts.shape} does not match "
            f"{len(ids)} regions x {len(periods)} periods"
        )
    if spec is None:
        # Default from the real-data benchmark (benchmarks/spillover_real.py): the recent
        # activity covariate (one year) raised ROC AUC for first events from 0.61 to 0.70-0.73.
        spec = HHH4Spec(periods_per_year=_PER_YEAR[freq], activity_window=_PER_YEAR[freq])
    ctry = np.asarray(countries).astype(str)
    groups = {"country": ctry, "region": np.asarray(ids), "none": None}.get(endemic_effects, "bad")
    if isinstance(groups, str):
        raise InputError(
            f"endemic_effects must be country, region or none, got {endemic_effects!r}"
        )
    unknown = [f for f in focus_trend if str(f) not in ids]
    if unknown:
        raise InputError(f"focus_trend regions not in the panel: {unknown}")
    chosen = {str(f) for f in focus_trend}
    mask = np.array([r in chosen for r in ids], dtype=bool) if chosen else None
    season_start = int(pd.Timestamp(periods[0]).month - 1) // (12 // spec.periods_per_year)
    fit = fit_hhh4(
        counts, order, cross, spec=spec, groups=groups, season_start=season_start, trend_mask=mask
    )
    if profile and fit.at_bound:
        fit = profile_intervals(fit, counts, cross, groups=groups)
    return SpilloverModel(
        fit=fit,
        region_ids=ids,
        region_names=tuple(str(n) for n in (region_names if region_names is not None else ids)),
        countries=tuple(ctry),
        periods=pd.DatetimeIndex(periods),
        freq=freq,
        last_counts=counts[:, -1].astype(float),
        recent_counts=counts[:, -max(12, spec.activity_window) :].astype(float),
    )


def fit_spillover(
    panel: pd.DataFrame,
    *,
    origin=None,
    boundaries=None,
    spec: HHH4Spec | None = None,
    endemic_effects: Literal["country", "region", "none"] = "country",
    profile: bool = True,
    focus_trend: Sequence[str] = (),
) -> SpilloverModel:
    """Fit the spillover model on a panel (docs/internals.md), using data up to ``origin``.

    Parameters
    ----------
    panel : DataFrame
        Zero-filled panel with ``region_id``, ``region_name``, ``country``, ``period``, ``events``.
    origin : str or Timestamp, optional
        Last period used (inclusive); default the panel's last period.
    boundaries : Boundaries, optional
        Source of adjacency; defaults to the shipped boundaries.
    spec : HHH4Spec, optional
    endemic_effects : {"country", "region", "none"}
    profile : bool
        Profile-likelihood intervals for parameters on a bound.
    focus_trend : sequence of str
        Region ids with their own endemic trend (see :func:`fit_spillover_matrix`).

    Returns
    -------
    SpilloverModel
    """
    from analysis.panel import to_matrix

    needed = {"region_id", "region_name", "country", "period", "events"}
    missing = needed - set(panel.columns)
    if missing:
        raise InputError(f"expected panel columns {sorted(needed)}; missing {sorted(missing)}")
    p = panel
    if origin is not None:
        origin = pd.Timestamp(origin)
        p = panel[pd.to_datetime(panel["period"]) <= origin]
        if p.empty:
            raise InputError(f"no panel periods at or before origin {origin:%Y-%m}")
    counts, ids, periods = to_matrix(p)
    info = p.drop_duplicates("region_id").set_index("region_id")
    order, cross, _ = geography_matrices(ids, boundaries)
    freq = panel.attrs.get("freq", "month")
    return fit_spillover_matrix(
        counts,
        ids,
        periods,
        order,
        cross,
        info.loc[ids, "country"].astype(str).to_numpy(),
        region_names=info.loc[ids, "region_name"].astype(str).to_numpy(),
        freq=freq,
        spec=spec,
        endemic_effects=endemic_effects,
        profile=profile,
        focus_trend=focus_trend,
    )


@dataclass(frozen=True)
class SpilloverResult:
    """Spillover probabilities and decompositions for one origin and horizon.

    Attributes
    ----------
    regions : DataFrame
        One row per region: ``region_id, region_name, country, is_focus, p_any, p_any_low,
        p_any_high, expected, expected_low, expected_high, endemic, own, neighbour,
        share_neighbour``; with focus regions also ``p_any_held, attributable,
        attributable_low, attributable_high, p_any_silenced, attributable_total,
        attributable_total_low, attributable_total_high``.
    countries : DataFrame
        One row per country: ``country, p_any, p_any_low, p_any_high`` (+ scenario columns).
    params : DataFrame
        :meth:`HHH4Fit.table` of the fit.
    horizon : int
    origin : Timestamp
    periods : DatetimeIndex
    focus : tuple of str
    level : float
    seed : int
    n_draws, n_paths : int
    """

    regions: pd.DataFrame
    countries: pd.DataFrame
    params: pd.DataFrame
    horizon: int
    origin: pd.Timestamp
    periods: pd.DatetimeIndex
    focus: tuple[str, ...]
    level: float
    seed: int
    n_draws: int
    n_paths: int

    def sentence(self, targets: Sequence[str] | None = None) -> str:
        """One plain-language sentence on the spillover risk to the target countries."""
        c = self.countries
        if targets:
            c = c[c["country"].isin(list(targets))]
        if c.empty:
            return "No target countries in the panel."
        pct = int(round(100 * self.level))
        # simulated probabilities of 0 or 1 mean "beyond what the paths resolve", not certainty
        from analysis.report.summary import format_probability as fmt
        from analysis.report.summary import probability_range

        parts = [
            f"{r.country} {fmt(r.p_any)} ({pct}% interval "
            f"{probability_range(r.p_any_low, r.p_any_high)})"
            for r in c.itertuples()
        ]
        text = (
            f"Probability of at least one event in any admin-1 unit within {self.horizon} "
            f"periods after {self.origin:%Y-%m}: " + "; ".join(parts) + "."
        )
        if self.focus and "attributable" in c.columns:
            att = "; ".join(
                f"{r.country} {_points(r.attributable)} "
                f"({_points(r.attributable_low)} to {_points(r.attributable_high)})"
                for r in c.itertuples()
            )
            names = self.regions.set_index("region_id")["region_name"]
            focus = ", ".join(str(names.get(f, f)) for f in self.focus)
            text += (
                f" Letting {focus} follow its estimated path, rather than holding it at its "
                f"recent level, changes these probabilities by (percentage points): {att}."
            )
        return text


def _mask(fit: HHH4Fit) -> np.ndarray:
    n = fit.order.shape[0]
    return np.zeros(n, dtype=bool) if fit.trend_mask is None else fit.trend_mask


def _points(share: float) -> str:
    """A difference of probabilities in whole percentage points, with no "-0"."""
    value = int(round(100 * float(share)))
    return f"{value:+d}" if value else "0"


def _interval(per_draw: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    a = (1.0 - level) / 2.0
    return np.quantile(per_draw, a, axis=0), np.quantile(per_draw, 1.0 - a, axis=0)


def spillover_forecast(
    model: SpilloverModel,
    horizon: int,
    *,
    focus: Sequence[str] = (),
    n_draws: int = 200,
    n_paths: int = 200,
    seed: int = 0,
    level: float = 0.95,
    held_window: int = 3,
    point: Literal["plugin", "mean"] = "plugin",
) -> SpilloverResult:
    """Simulate forward and summarise spillover probabilities with intervals.

    Parameters
    ----------
    model : SpilloverModel
    horizon : int
        Periods ahead (P(at least one event) is over periods ``1..horizon``).
    focus : sequence of str
        Focus region ids for the scenarios (may be empty).
    n_draws : int
        Parameter draws (the interval is across draws).
    n_paths : int
        Paths per draw (per-draw probabilities are means over paths).
    seed : int
    level : float
        Interval level.
    held_window : int
        "Current level" of a focus region = mean count over its last ``held_window`` periods
        (three by default: one month is too noisy a level to hold a region at).
    point : {"plugin", "mean"}
        Point values (probabilities, expected counts, parts, scenario differences) at the
        estimates (``plugin``, default; ``n_draws * n_paths`` paths at the estimate) or averaged
        over the parameter draws (``mean``). The normal approximation is poor for the endemic
        level of units that never had an event (its right tail is too heavy on the count scale),
        which inflates ``mean`` for quiet units; the real-data benchmark scores both.

    Returns
    -------
    SpilloverResult
    """
    if not 0 < level < 1:
        raise InputError(f"level must be in (0, 1), got {level}")
    if n_draws < 2 or n_paths < 1:
        raise InputError("need n_draws >= 2 and n_paths >= 1")
    if point not in ("plugin", "mean"):
        raise InputError(f"point must be 'plugin' or 'mean', got {point!r}")
    ids = list(model.region_ids)
    unknown = [f for f in focus if f not in ids]
    if unknown:
        raise InputError(f"focus regions not in the panel: {unknown}")
    if held_window < 1 or held_window > model.recent_counts.shape[1]:
        raise InputError(f"held_window must be 1..{model.recent_counts.shape[1]}")
    focus_idx = [ids.index(f) for f in focus]
    countries = np.asarray(model.countries)
    uniq = list(dict.fromkeys(sorted(countries)))

    def run(fixed: dict[int, float] | None, uncertainty: bool):
        # The same seed gives the same parameter draws and random numbers in every scenario,
        # so differences between scenarios are paired draw by draw.
        return simulate_forward(
            model.fit,
            model.recent_counts,
            horizon,
            n_draws=n_draws,
            n_paths=n_paths,
            seed=seed,
            fixed=fixed,
            uncertainty=uncertainty,
        )

    def region_p(sim) -> np.ndarray:
        return sim.any_event.mean(axis=1)  # (M, R)

    def country_p(sim) -> np.ndarray:
        return np.stack(
            [sim.any_event[:, :, countries == c].any(axis=2).mean(axis=1) for c in uniq], axis=1
        )

    scenarios: dict[str, dict[int, float] | None] = {"continue": None}
    if focus_idx:
        recent = model.recent_counts[:, -held_window:].mean(axis=1)
        scenarios["held"] = {i: float(recent[i]) for i in focus_idx}
        scenarios["silenced"] = {i: 0.0 for i in focus_idx}
    drawn = {k: run(v, True) for k, v in scenarios.items()}
    plug = {k: run(v, False) for k, v in scenarios.items()} if point == "plugin" else drawn

    base, base_pt = drawn["continue"], plug["continue"]
    p_draw = region_p(base)
    lo, hi = _interval(p_draw, level)
    exp_draw = base.total.mean(axis=1)
    elo, ehi = _interval(exp_draw, level)
    end = base_pt.endemic.sum(axis=1).mean(axis=0)
    own = base_pt.own.sum(axis=1).mean(axis=0)
    nb = base_pt.neighbour.sum(axis=1).mean(axis=0)
    comp_total = end + own + nb
    regions = pd.DataFrame(
        {
            "region_id": ids,
            "region_name": list(model.region_names),
            "country": countries,
            "is_focus": [i in focus_idx for i in range(len(ids))],
            "p_any": region_p(base_pt).mean(axis=0),
            "p_any_low": lo,
            "p_any_high": hi,
            "expected": base_pt.total.mean(axis=(0, 1)),
            "expected_low": elo,
            "expected_high": ehi,
            "endemic": end,
            "own": own,
            "neighbour": nb,
            "share_neighbour": np.divide(
                nb, comp_total, out=np.zeros_like(nb), where=comp_total > 0
            ),
        }
    )
    cp = country_p(base)
    clo, chi = _interval(cp, level)
    cp_pt = country_p(base_pt).mean(axis=0)
    ctab = pd.DataFrame({"country": uniq, "p_any": cp_pt, "p_any_low": clo, "p_any_high": chi})
    for name, col in (("held", "attributable"), ("silenced", "attributable_total")):
        if name not in drawn:
            continue
        diff = p_draw - region_p(drawn[name])
        dlo, dhi = _interval(diff, level)
        pr_pt = region_p(plug[name]).mean(axis=0)
        regions[f"p_any_{name}"] = pr_pt
        regions[col] = regions["p_any"].to_numpy() - pr_pt
        regions[f"{col}_low"] = dlo
        regions[f"{col}_high"] = dhi
        dc = cp - country_p(drawn[name])
        dclo, dchi = _interval(dc, level)
        pc_pt = country_p(plug[name]).mean(axis=0)
        ctab[f"p_any_{name}"] = pc_pt
        ctab[col] = cp_pt - pc_pt
        ctab[f"{col}_low"] = dclo
        ctab[f"{col}_high"] = dchi
    return SpilloverResult(
        regions=regions,
        countries=ctab,
        params=model.fit.table(level),
        horizon=int(horizon),
        origin=model.origin,
        periods=model.future_periods(horizon),
        focus=tuple(focus),
        level=float(level),
        seed=int(seed),
        n_draws=int(n_draws),
        n_paths=int(n_paths),
    )


# --------------------------------------------------------------------------- forecaster


@dataclass(frozen=True)
class _SpilloverFitted:
    model: SpilloverModel
    name: str = "spillover"

    def forecast(self, horizon: int, n_samples: int = 1000, seed: int = 0) -> ForecastResult:
        """Predictive samples (region, step, sample): one parameter draw per sample path."""
        if horizon < 1 or n_samples < 1:
            raise InputError("expected horizon >= 1 and n_samples >= 1")
        sim = simulate_forward(
            self.model.fit,
            self.model.recent_counts,
            horizon,
            n_draws=n_samples,
            n_paths=1,
            seed=seed,
            keep_paths=True,
        )
        samples = np.transpose(sim.paths[:, 0], (2, 1, 0)).astype(np.int64)
        return ForecastResult(
            samples=samples,
            region_ids=self.model.region_ids,
            periods=self.model.future_periods(horizon),
            origin=self.model.origin,
            model=self.name,
            seed=int(seed),
        )


@dataclass(frozen=True)
class SpilloverForecaster:
    """The spillover model under the forecast interface (panel-level forecaster).

    Needs region ids known to the boundaries (it reads adjacency from them).
    """

    name: str = "spillover"
    is_baseline: bool = False
    description: str = "endemic-epidemic NB (hhh4-type) with power-law neighbour weights"
    spec: HHH4Spec | None = None
    endemic_effects: str = "country"

    def fit(self, panel: pd.DataFrame) -> _SpilloverFitted:
        return _SpilloverFitted(
            fit_spillover(
                panel, spec=self.spec, endemic_effects=self.endemic_effects, profile=False
            ),  # type: ignore[arg-type]
            name=self.name,
        )


register(SpilloverForecaster())


def result_to_dict(result: SpilloverResult, model: SpilloverModel | None = None) -> dict:
    """JSON-ready summary: ``targets``, ``countries``, ``parameters`` (+ scenarios, model).

    ``targets`` has one entry per region with ``region_id, region_name, country, p_any,
    p_any_ci, expected, share_neighbour``; ``countries`` one per country with ``country, p_any,
    p_any_ci``; ``parameters`` each ``name, estimate, ci, at_bound`` (log-scale parameters and
    their natural-scale versions).
    """
    reg = result.regions
    targets = [
        {
            "region_id": r.region_id,
            "region_name": r.region_name,
            "country": r.country,
            "p_any": float(r.p_any),
            "p_any_ci": [float(r.p_any_low), float(r.p_any_high)],
            "expected": float(r.expected),
            "share_neighbour": float(r.share_neighbour),
        }
        for r in reg.itertuples()
    ]
    countries = [
        {
            "country": c.country,
            "p_any": float(c.p_any),
            "p_any_ci": [float(c.p_any_low), float(c.p_any_high)],
        }
        for c in result.countries.itertuples()
    ]
    params = [
        {
            "name": p.name,
            "estimate": float(p.estimate),
            "ci": [float(p.low), float(p.high)],
            "at_bound": bool(p.at_bound),
        }
        for p in result.params.itertuples()
    ]
    out: dict = {
        "origin": f"{result.origin:%Y-%m}",
        "horizon": result.horizon,
        "periods": [f"{p:%Y-%m}" for p in result.periods],
        "interval_level": result.level,
        "seed": result.seed,
        "n_draws": result.n_draws,
        "n_paths": result.n_paths,
        "targets": targets,
        "countries": countries,
        "parameters": params,
    }
    if result.focus and "attributable" in reg.columns:

        def scen(frame: pd.DataFrame, key: str) -> list[dict]:
            return [
                {
                    key: getattr(r, key),
                    "p_any_continue": float(r.p_any),
                    "p_any_held": float(r.p_any_held),
                    "attributable": float(r.attributable),
                    "attributable_ci": [float(r.attributable_low), float(r.attributable_high)],
                    "p_any_silenced": float(r.p_any_silenced),
                    "attributable_total": float(r.attributable_total),
                    "attributable_total_ci": [
                        float(r.attributable_total_low),
                        float(r.attributable_total_high),
                    ],
                }
                for r in frame.itertuples()
            ]

        out["scenarios"] = {
            "focus": list(result.focus),
            "definition": (
                "attributable = P(continue) - P(focus held at its current level); "
                "attributable_total = P(continue) - P(focus silenced)"
            ),
            "regions": scen(reg[~reg["is_focus"]], "region_id"),
            "countries": scen(result.countries, "country"),
        }
    if model is not None:
        spec = model.fit.spec
        out["model"] = {
            "name": "endemic-epidemic negative binomial (hhh4-type)",
            "weights": spec.weights,
            "max_order": spec.max_order,
            "cross_border_term": "ne.cross_border" in model.fit.names,
            "trend": spec.trend,
            "focus_trend": [
                r for r, m in zip(model.region_ids, _mask(model.fit), strict=True) if m
            ],
            "seasonality": spec.seasonality,
            "group_sd": spec.group_sd,
            "loglik": model.fit.loglik,
            "n_obs": model.fit.n_obs,
            "at_bound": list(model.fit.at_bound),
            "fitted_from": f"{model.periods[0]:%Y-%m}",
            "fitted_to": f"{model.periods[-1]:%Y-%m}",
        }
    return out
