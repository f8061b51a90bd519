"""Spillover risk from an endemic-epidemic count model fitted to an admin-1 panel.

:mod:`analysis.models.hhh4` holds the model (likelihood, fit, forward simulation) on plain
arrays; this module connects it to panels and geography and answers the spillover questions:

- P(at least one event in region q within h periods), and in any unit of a country, each with
  an interval that carries parameter uncertainty (parameter draws from the asymptotic normal of
  the estimates; per-draw probabilities from simulated paths; interval = quantiles across draws);
- expected counts within the horizon split into endemic, own (autoregressive) and neighbour parts;
- what the focus regions' activity adds elsewhere is :mod:`analysis.models.spillover_scenarios`'
  (continue against silenced, the one contrast the reports and ``spillover --json`` quote).

The model is also the forecaster ``spillover`` of :mod:`analysis.models.registry`
(:class:`SpilloverForecaster`), fitted on the same History as every other model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.formatting import period_label
from analysis.models.forecast import Fitted, Forecaster, History
from analysis.models.hhh4 import (
    ForwardSimulation,
    HHH4Fit,
    HHH4Spec,
    fit_hhh4,
    profile_intervals,
    simulate_forward,
    simulate_paths,
)
from analysis.models.onset import PERIODS_PER_YEAR
from analysis.scoring import sample_quantiles

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


def geography_matrices(
    region_ids: Sequence[str], boundaries=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adjacency order, cross-border indicator and country of each region, from the boundaries.

    Parameters
    ----------
    region_ids : sequence of str (R,)
        The regions, in the order of the matrices' rows and columns.
    boundaries : Boundaries, optional
        Source of adjacency and countries; defaults to the shipped boundaries.

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
    endemic_effects : str
        Which penalised endemic offsets the fit has (see :func:`fit_spillover_matrix`).
    """

    fit: HHH4Fit
    region_ids: tuple[str, ...]
    region_names: tuple[str, ...]
    countries: tuple[str, ...]
    periods: pd.DatetimeIndex
    freq: str
    last_counts: np.ndarray
    recent_counts: np.ndarray
    endemic_effects: str = "country"

    @property
    def origin(self) -> pd.Timestamp:
        return self.periods[-1]

    def endemic_groups(self):
        """The ``groups`` argument of :func:`fit_hhh4` this model was fitted with."""
        return _endemic_groups(self.endemic_effects, np.asarray(self.countries), self.region_ids)

    def future_periods(self, horizon: int) -> pd.DatetimeIndex:
        """Start of each of the ``horizon`` periods after the origin.

        Parameters
        ----------
        horizon : int
            Number of periods ahead.

        Returns
        -------
        DatetimeIndex
            One period start per step, 1..horizon periods (months or quarters) after the origin.
        """
        step = 12 // PERIODS_PER_YEAR[self.freq]
        return pd.DatetimeIndex(
            [self.origin + pd.DateOffset(months=step * h) for h in range(1, horizon + 1)]
        )


EndemicEffects = Literal["country", "region_in_country", "region", "none"]
ENDEMIC_EFFECTS: tuple[str, ...] = ("country", "region_in_country", "region", "none")


def _endemic_groups(effects: str, countries: np.ndarray, ids: Sequence[str]):
    """The ``groups`` argument of :func:`fit_hhh4` for an ``endemic_effects`` choice."""
    regions = np.asarray(ids)
    table = {
        "country": countries,
        "region_in_country": {"group": countries, "region": regions},
        "region": regions,
        "none": None,
    }
    if effects not in table:
        raise InputError(f"endemic_effects must be one of {ENDEMIC_EFFECTS}, got {effects!r}")
    return table[effects]


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
    endemic_effects: EndemicEffects = "country",
    profile: bool = True,
    focus_trend: Sequence[str] = (),
    damping: float | None = None,
    start: np.ndarray | None = None,
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
    endemic_effects : {"country", "region_in_country", "region", "none"}
        Penalised (random-effect) endemic offsets: per country (default); per region nested in
        its country (a region's level ~ N(its country's level, sd_region**2), like hhh4's
        ``ri()``); per region around one shared level; or none (one shared level). Penalised
        offsets keep all-zero units finite; the variances are estimated as hhh4 does.
    profile : bool
        Profile-likelihood intervals for parameters estimated on a bound (e.g. a cross-border
        effect at "never crosses"); forecasts still hold such parameters at the bound.
    focus_trend : sequence of str
        Region ids (typically the study's focus) that get their own endemic trend
        (``end.focus_trend``, log change per year, continued in forecasts). Without it a surge
        confined to the focus is absorbed by the autoregressive parameter and its forecast
        falls back towards the shared level. Empty = no such term.
    damping : float, optional
        Trend damping beyond the origin (:attr:`HHH4Spec.trend_damping`); overrides the spec's.
        :func:`analysis.models.spillover_select.choose_spillover` picks it by cross-validation.
    start : ndarray, optional
        Starting values of the parameters (e.g. a fit of the same model on more periods).

    Returns
    -------
    SpilloverModel
    """
    if freq not in PERIODS_PER_YEAR:
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
        per_year = PERIODS_PER_YEAR[freq]
        spec = HHH4Spec(periods_per_year=per_year, activity_window=per_year)
    ctry = np.asarray(countries).astype(str)
    if damping is not None:
        spec = replace(spec, trend_damping=float(damping))
    groups = _endemic_groups(endemic_effects, ctry, ids)
    unknown = [f for f in focus_trend if str(f) not in ids]
    if unknown:
        raise InputError(f"focus_trend regions not in the panel: {unknown}")
    chosen = {str(f) for f in focus_trend}
    mask = np.array([r in chosen for r in ids], dtype=bool) if chosen else None
    season_start = int(pd.Timestamp(periods[0]).month - 1) // (12 // spec.periods_per_year)
    fit = fit_hhh4(
        counts, order, cross, spec=spec, groups=groups, season_start=season_start,
        trend_mask=mask, start=start,
    )  # fmt: skip
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
        endemic_effects=endemic_effects,
    )


def fit_spillover(
    panel: pd.DataFrame,
    *,
    origin=None,
    boundaries=None,
    spec: HHH4Spec | None = None,
    endemic_effects: EndemicEffects = "country",
    profile: bool = True,
    focus_trend: Sequence[str] = (),
    damping: float | None = None,
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
    endemic_effects : {"country", "region_in_country", "region", "none"}
    profile : bool
        Profile-likelihood intervals for parameters on a bound.
    focus_trend : sequence of str
        Region ids with their own endemic trend (see :func:`fit_spillover_matrix`).
    damping : float, optional
        Trend damping beyond the origin (see :func:`fit_spillover_matrix`).

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
        damping=damping,
    )


@dataclass(frozen=True)
class SpilloverResult:
    """Spillover probabilities and decompositions for one origin and horizon.

    Attributes
    ----------
    regions : DataFrame
        One row per region: ``region_id, region_name, country, is_focus, p_any, p_any_low,
        p_any_high, p_any_ci_mc_error, expected, expected_low, expected_high (the expected
        count's interval over parameter draws), total_median, total_q05, total_q95 (the window
        total's predictive median and 90% range, over draws and paths), endemic, own,
        neighbour, share_neighbour, share_neighbour_low, share_neighbour_high`` (the share of
        the expected events that comes from neighbours' past counts, and its interval at
        ``level`` over parameter draws).
    countries : DataFrame
        One row per country: ``country, p_any, p_any_low, p_any_high``.
    params : DataFrame
        :meth:`HHH4Fit.table` of the fit.
    horizon : int
    origin : Timestamp
    periods : DatetimeIndex
    focus : tuple of str
    level : float
    seed : int
    n_draws, n_paths : int
        Parameter draws used (after any increase for Monte Carlo error) and paths per draw.
    mc_error : dict
        ``p_any_ci_max``: largest Monte Carlo standard error of an interval limit of P(at least
        one event) (regions and countries); ``p_any_max``: of a point probability; ``target``
        and whether it was ``met``. Per region in ``regions["p_any_ci_mc_error"]``.
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
    mc_error: dict = field(default_factory=dict)

    def sentence(self, targets: Sequence[str] | None = None, freq: str = "month") -> str:
        """One plain-language sentence on the spillover risk to the target countries; ``freq``
        (the panel's, ``month`` or ``quarter``) labels the origin.

        Parameters
        ----------
        targets : sequence of str, optional
            ISO3 codes of the countries to name; None or empty: every country.
        freq : str
            The panel's frequency, ``month`` or ``quarter``.

        Returns
        -------
        str
            P(at least one event in any admin-1 unit within the horizon) per country with its
            interval, or a note that no target country is in the panel.
        """
        c = self.countries
        if targets:
            c = c[c["country"].isin(list(targets))]
        if c.empty:
            return "No target countries in the panel."
        pct = int(round(100 * self.level))
        # simulated probabilities of 0 or 1 mean "beyond what the paths resolve", not certainty
        from analysis.formatting import format_probability as fmt
        from analysis.formatting import probability_range

        parts = [
            f"{r.country} {fmt(r.p_any)} ({pct}% interval "
            f"{probability_range(r.p_any_low, r.p_any_high)})"
            for r in c.itertuples()
        ]
        return (
            f"Probability of at least one event in any admin-1 unit within {self.horizon} "
            f"periods after {period_label(self.origin, freq)}: " + "; ".join(parts) + "."
        )


def _mask(fit: HHH4Fit) -> np.ndarray:
    n = fit.order.shape[0]
    return np.zeros(n, dtype=bool) if fit.trend_mask is None else fit.trend_mask


PILOT_DRAWS = 400
#: Paths per parameter draw of :func:`spillover_forecast`. The paths' noise is most of each
#: draw's spread of P(at least 1) with 50; ``_denoise`` removes it with the draws' parameters,
#: and the 90% intervals then held the true value in 0.82 of simulated cases, against 0.83
#: with 200 paths a draw, which take twice as long (docs/internals.md).
DEFAULT_PATHS = 50


def _denoise(per_draw: np.ndarray, n_paths: int, theta: np.ndarray | None = None) -> np.ndarray:
    """Per-draw probabilities (M, R) with the binomial noise of ``n_paths`` paths removed.

    The noise variance is estimated unbiasedly by ``mean(p (1 - p)) / (n_paths - 1)``, and
    deviations from the mean are shrunk by ``sqrt(1 - noise / spread)`` so that the spread
    across draws estimates the spread due to the parameters alone. With the draws' parameters
    ``theta`` (M, P), the probabilities are first regressed on them (least squares, with an
    intercept): the fitted values carry the parameters' effect with only the noise the
    coefficients pick up (a share ``(k - 1) / M`` of it, k columns), and are shrunk for that;
    only the residual, mostly noise, is shrunk as above. Where the noise is most of the spread
    (few paths a draw), shrinking it all at once had left the parameters' share estimated from
    two nearly equal variances, and the intervals too narrow for some regions and too wide for
    others; with fewer than four draws per column the regression is not used.
    """
    mean = per_draw.mean(axis=0)
    noise = (per_draw * (1 - per_draw)).mean(axis=0) / (n_paths - 1)

    def shrink(dev: np.ndarray, spread: np.ndarray, noisy: np.ndarray) -> np.ndarray:
        keep = np.sqrt(np.clip(1.0 - np.divide(noisy, spread, out=np.ones_like(spread),
                                               where=spread > 0), 0.0, 1.0))  # fmt: skip
        return dev * keep

    m = per_draw.shape[0]
    if theta is not None:
        varying = theta[:, theta.std(axis=0) > 0]
        design = np.column_stack([np.ones(m), varying - varying.mean(axis=0)])
        k = design.shape[1]
        if k > 1 and 4 * k <= m:
            beta, *_ = np.linalg.lstsq(design, per_draw, rcond=None)
            fitted = design @ beta
            resid = per_draw - fitted
            explained = fitted - mean
            part = shrink(explained, (explained**2).mean(axis=0), noise * (k - 1) / m)
            rest = shrink(resid, (resid**2).mean(axis=0), noise * (m - k) / m)
            return mean + part + rest
    return mean + shrink(per_draw - mean, per_draw.var(axis=0, ddof=1), noise)


def _mc_error(per_draw: np.ndarray, level: float, rng, n_boot: int = 200) -> np.ndarray:
    """Bootstrap (over draws) standard error of both interval limits; the larger per column."""
    m = per_draw.shape[0]
    idx = rng.integers(0, m, size=(n_boot, m))
    a = (1.0 - level) / 2.0
    boot = np.quantile(per_draw[idx], [a, 1.0 - a], axis=1)  # (2, B, R)
    return boot.std(axis=1, ddof=1).max(axis=0)


def _concat(a, b):
    """Two forward simulations of the same scenario, draws stacked."""
    return ForwardSimulation(
        any_event=np.concatenate([a.any_event, b.any_event]),
        endemic=np.concatenate([a.endemic, b.endemic]),
        own=np.concatenate([a.own, b.own]),
        neighbour=np.concatenate([a.neighbour, b.neighbour]),
        total=np.concatenate([a.total, b.total]),
        paths=None,
        theta=None if a.theta is None or b.theta is None else np.concatenate([a.theta, b.theta]),
    )


def _interval(per_draw: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    a = (1.0 - level) / 2.0
    return np.quantile(per_draw, a, axis=0), np.quantile(per_draw, 1.0 - a, axis=0)


def _share_interval(sim: ForwardSimulation, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Interval over parameter draws of each region's share of its expected events that
    comes from its neighbours' past counts (0 where a draw expects nothing)."""
    # the parts are means over each draw's paths: their spread across draws is the
    # parameters' plus what path noise is left, which widens the interval a little (not
    # removed as for P(at least 1): on simulated panels it held the truth in 0.80 of cases
    # at 20 paths a draw, 0.76 at 200)
    parts = np.stack([sim.endemic, sim.own, sim.neighbour]).sum(axis=2)  # (3, M, R)
    whole = parts.sum(axis=0)
    share = np.divide(parts[2], whole, out=np.zeros_like(whole), where=whole > 0)
    return _interval(share, level)


def spillover_forecast(
    model: SpilloverModel,
    horizon: int,
    *,
    focus: Sequence[str] = (),
    n_draws: int | None = None,
    n_paths: int = DEFAULT_PATHS,
    seed: int = 0,
    level: float = 0.95,
    point: Literal["plugin", "mean"] = "plugin",
    mc_target: float = 0.01,
    max_draws: int = 2000,
) -> SpilloverResult:
    """Simulate forward and summarise spillover probabilities with intervals.

    Parameters
    ----------
    model : SpilloverModel
    horizon : int
        Periods ahead (P(at least one event) is over periods ``1..horizon``).
    focus : sequence of str
        Focus region ids, marked ``is_focus`` (may be empty). What their activity adds
        elsewhere is :func:`analysis.models.spillover_scenarios.focus_scenarios`'.
    n_draws : int, optional
        Parameter draws (the interval is across draws). None (default): a pilot of
        :data:`PILOT_DRAWS` draws, then as many more as the Monte Carlo error of the interval
        limits of P(at least one event) needs to fall below ``mc_target`` (at most
        ``max_draws``).
    n_paths : int
        Paths per draw (per-draw probabilities are means over paths). The binomial noise of
        these means would widen the intervals; it is removed by regressing them on the draws'
        parameters and shrinking what is left so that the spread across draws loses the noise
        variance (``_denoise``).
    seed : int
    level : float
        Interval level.
    point : {"plugin", "mean"}
        Point values (probabilities, expected counts, parts) at the
        estimates (``plugin``, default; ``n_draws * n_paths`` paths at the estimate) or averaged
        over the parameter draws (``mean``). The normal approximation is poor for the endemic
        level of units that never had an event (its right tail is too heavy on the count scale),
        which inflates ``mean`` for quiet units; the real-data benchmark scores both.
    mc_target : float
        Wanted Monte Carlo error (standard error) of the interval limits of P(at least one
        event), by region and country; the achieved one is in ``mc_error``.
    max_draws : int
        Cap on the draws (run time grows linearly with them). Heavy-tailed per-draw
        probabilities (quiet units whose endemic level is uncertain) may need more for their
        upper limit; ``mc_error`` then says the target was not met and where.

    Returns
    -------
    SpilloverResult
    """
    if not 0 < level < 1:
        raise InputError(f"level must be in (0, 1), got {level}")
    if (n_draws is not None and n_draws < 2) or n_paths < 2:
        raise InputError("need n_draws >= 2 and n_paths >= 2")
    if point not in ("plugin", "mean"):
        raise InputError(f"point must be 'plugin' or 'mean', got {point!r}")
    ids = list(model.region_ids)
    unknown = [f for f in focus if f not in ids]
    if unknown:
        raise InputError(f"focus regions not in the panel: {unknown}")
    focus_idx = [ids.index(f) for f in focus]
    countries = np.asarray(model.countries)
    uniq = list(dict.fromkeys(sorted(countries)))

    def run(uncertainty: bool, draws: int, batch: int = 0) -> dict:
        return simulate_paths(
            model.fit,
            model.recent_counts,
            horizon,
            scenarios,
            n_draws=draws,
            n_paths=n_paths,
            seed=seed + 7919 * batch,
            uncertainty=uncertainty,
        )

    def region_p(sim) -> np.ndarray:
        return sim.any_event.mean(axis=1)  # (M, R)

    def country_p(sim) -> np.ndarray:
        return np.stack(
            [sim.any_event[:, :, countries == c].any(axis=2).mean(axis=1) for c in uniq], axis=1
        )

    scenarios: dict[str, dict[int, float] | None] = {"continue": None}
    first = PILOT_DRAWS if n_draws is None else n_draws
    drawn = run(True, first)
    rng = np.random.default_rng(seed)

    def limits_error(sim) -> float:
        p = np.concatenate([region_p(sim), country_p(sim)], axis=1)
        return float(_mc_error(_denoise(p, n_paths, sim.theta), level, rng).max())

    if n_draws is None:
        err = limits_error(drawn["continue"])
        # the standard error of a quantile falls as 1 / sqrt(draws)
        wanted = min(max_draws, int(np.ceil(1.1 * first * (err / mc_target) ** 2)))
        if wanted > first:
            more = run(True, wanted - first, batch=1)
            drawn = {k: _concat(drawn[k], more[k]) for k in scenarios}
    plug = run(False, PILOT_DRAWS) if point == "plugin" else drawn

    base, base_pt = drawn["continue"], plug["continue"]
    n_used = base.any_event.shape[0]
    p_draw = region_p(base)
    p_clean = _denoise(p_draw, n_paths, base.theta)
    lo, hi = _interval(p_clean, level)
    # The point is simulated at the estimate with its own paths. Where a probability saturates
    # the draws' spread is all path noise (denoising collapses it to the draws' mean, which lies
    # below the point by Jensen), and a limit can miss the point by Monte Carlo error: the
    # interval is widened to contain its point.
    p_pt = region_p(base_pt).mean(axis=0)
    lo, hi = np.minimum(lo, p_pt), np.maximum(hi, p_pt)
    region_mc = _mc_error(p_clean, level, rng)
    exp_draw = base.total.mean(axis=1)
    elo, ehi = _interval(exp_draw, level)
    # the window total's predictive range, over parameter draws and paths together (the
    # interval above is the expected count's, over draws only)
    pooled = base.total.reshape(-1, base.total.shape[-1])
    t05, t50, t95 = sample_quantiles(pooled.T, [0.05, 0.5, 0.95])
    end = base_pt.endemic.sum(axis=1).mean(axis=0)
    own = base_pt.own.sum(axis=1).mean(axis=0)
    nb = base_pt.neighbour.sum(axis=1).mean(axis=0)
    comp_total = end + own + nb
    share_lo, share_hi = _share_interval(base, level)
    share_pt = np.divide(nb, comp_total, out=np.zeros_like(nb), where=comp_total > 0)
    regions = pd.DataFrame(
        {
            "region_id": ids,
            "region_name": list(model.region_names),
            "country": countries,
            "is_focus": [i in focus_idx for i in range(len(ids))],
            "p_any": p_pt,
            "p_any_low": lo,
            "p_any_high": hi,
            "expected": base_pt.total.mean(axis=(0, 1)),
            "expected_low": elo,
            "expected_high": ehi,
            "total_median": t50.astype(float),
            "total_q05": t05.astype(float),
            "total_q95": t95.astype(float),
            "endemic": end,
            "own": own,
            "neighbour": nb,
            "share_neighbour": share_pt,
            # as for P(at least 1): the interval holds its plug-in point
            "share_neighbour_low": np.minimum(share_lo, share_pt),
            "share_neighbour_high": np.maximum(share_hi, share_pt),
        }
    )
    cp = country_p(base)
    cp_clean = _denoise(cp, n_paths, base.theta)
    clo, chi = _interval(cp_clean, level)
    country_mc = _mc_error(cp_clean, level, rng)
    names = [*ids, *uniq]
    errors = np.concatenate([region_mc, country_mc])
    regions["p_any_ci_mc_error"] = region_mc
    n_plug = plug["continue"].any_event.shape[0] * n_paths
    point_mc = np.sqrt(regions["p_any"] * (1 - regions["p_any"]) / n_plug)
    cp_pt = country_p(base_pt).mean(axis=0)
    clo, chi = np.minimum(clo, cp_pt), np.maximum(chi, cp_pt)
    ctab = pd.DataFrame({"country": uniq, "p_any": cp_pt, "p_any_low": clo, "p_any_high": chi})
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
        n_draws=int(n_used),
        n_paths=int(n_paths),
        mc_error={
            "p_any_ci_max": float(errors.max()),
            "p_any_ci_worst": names[int(np.argmax(errors))],
            "p_any_ci_over_target": int((errors >= mc_target).sum()),
            "p_any_max": float(point_mc.max()),
            "target": float(mc_target),
            "met": bool(errors.max() < mc_target),
            "method": (
                "bootstrap over parameter draws of the interval limits (path noise removed "
                "by regression on the draws' parameters and moments); binomial standard error "
                "of the point probabilities"
            ),
        },
    )


# --------------------------------------------------------------------------- forecaster


@dataclass(frozen=True)
class SpilloverFitted(Fitted):
    """The fitted spillover model under the estimator contract."""

    spillover: SpilloverModel

    def sample_paths(self, horizon, n, rng) -> np.ndarray:
        """Paths simulated forward from the origin, one parameter draw per path.

        Parameters
        ----------
        horizon : int
            Number of steps ahead.
        n : int
            Number of sample paths (and of parameter draws).
        rng : Generator
            Random number generator the simulation's seed is drawn from.

        Returns
        -------
        ndarray (region, step, sample)
            int64 counts; sample ``j`` of every region and step is one joint future.
        """
        sim = simulate_forward(
            self.spillover.fit,
            self.spillover.recent_counts,
            horizon,
            n_draws=n,
            n_paths=1,
            seed=int(rng.integers(2**31)),
            keep_paths=True,
        )
        return np.transpose(sim.paths[:, 0], (2, 1, 0)).astype(np.int64)


@dataclass(frozen=True)
class SpilloverForecaster(Forecaster):
    """The spillover model as a forecaster; it takes its geography when it is built.

    Attributes
    ----------
    boundaries : Boundaries, optional
        Adjacency and countries of the regions (default: the shipped boundaries).
    focus : tuple of str
        Regions with their own endemic level and trend (``focus_trend`` of
        :func:`fit_spillover_matrix`).
    spec : HHH4Spec, optional
    endemic_effects : {"country", "region_in_country", "region", "none"}
    damping : float
        Trend damping beyond the origin, in (0, 1]; damped by default so that no trend is
        extrapolated undamped. A study's reports use the configuration that
        :func:`analysis.models.spillover_select.choose_spillover` picks by cross-validation.
    options : dict
        Further keyword arguments of :func:`fit_spillover_matrix`, passed through unchanged.
    """

    name: str = "spillover"
    description: str = "endemic-epidemic NB (hhh4-type) with power-law neighbour weights"
    boundaries: Any = field(default=None, repr=False, compare=False)
    focus: tuple[str, ...] = ()
    spec: HHH4Spec | None = None
    endemic_effects: EndemicEffects = "country"
    damping: float = 0.8
    options: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.endemic_effects not in ENDEMIC_EFFECTS:
            raise InputError(
                f"endemic_effects must be one of {ENDEMIC_EFFECTS}, got {self.endemic_effects!r}"
            )
        if not 0.0 < self.damping <= 1.0:
            raise InputError(f"damping must be in (0, 1], got {self.damping}")

    def fit(self, history: History) -> Fitted:
        """Fit the spillover model on ``history`` with this forecaster's geography.

        Parameters
        ----------
        history : History
            Counts of every region up to and including the origin.

        Returns
        -------
        Fitted
            A :class:`SpilloverFitted`; the point mass at zero (``ZeroFitted``) when the
            history holds no event.
        """
        from analysis.geography import load_boundaries

        if not history.counts.any():
            # No event yet (an early backtest origin of a short conflict): the likelihood's
            # maximum is a rate of zero, which no endemic level on the log scale reaches, so
            # the fit is the point mass at zero. It had raised, failing every report of a study.
            from analysis.models.baselines import ZeroFitted

            return ZeroFitted(history, self.name)
        boundaries = self.boundaries or load_boundaries()
        order, cross, countries = geography_matrices(history.region_ids, boundaries)
        names = (
            boundaries.regions.set_index("region_id")["region_name"]
            .reindex(list(history.region_ids))
            .fillna(pd.Series(history.region_ids, index=history.region_ids))
        )
        focus = [f for f in self.focus if f in history.region_ids]
        model = fit_spillover_matrix(
            history.counts, history.region_ids, history.periods, order, cross, countries,
            region_names=names.astype(str).to_numpy(), freq=history.freq,  # type: ignore[arg-type]
            spec=self.spec, endemic_effects=self.endemic_effects,  # type: ignore[arg-type]
            profile=False, focus_trend=focus, damping=self.damping, **self.options,
        )  # fmt: skip
        return SpilloverFitted(history, self.name, model)


def result_to_dict(
    result: SpilloverResult, model: SpilloverModel | None = None, freq: str | None = None
) -> dict:
    """JSON-ready summary: ``targets``, ``countries``, ``parameters`` (+ model).

    ``targets`` has one entry per region with ``region_id, region_name, country, p_any,
    p_any_ci, expected, expected_median, expected_ci_90`` (the window total's predictive 90%
    range), ``expected_mean_ci`` (the expected count's interval at ``interval_level`` over
    parameter draws), ``share_neighbour`` and ``share_neighbour_ci`` (its interval at
    ``interval_level`` over parameter draws); ``countries`` one per country with ``country,
    p_any, p_any_ci``; ``parameters`` each ``name, estimate, ci, at_bound`` (log-scale
    parameters and their natural-scale versions). ``origin``, ``periods`` and the fitted window
    are labelled as the panel's periods are written (``2024-06``, ``2024Q2``): by ``freq``,
    else by ``model``'s, else as months.

    Parameters
    ----------
    result : SpilloverResult
        The spillover forecast (:func:`spillover_forecast`).
    model : SpilloverModel, optional
        The fitted model; when given, the output adds its description under ``model``.
    freq : str, optional
        ``month`` or ``quarter``, for the period labels (default: ``model``'s, else months).

    Returns
    -------
    dict
        ``origin``, ``horizon``, ``periods``, ``interval_level``, ``seed``, ``n_draws``,
        ``n_paths``, ``mc_error``, ``targets``, ``countries``, ``parameters`` and, with
        ``model``, ``model``.
    """
    freq = freq or (model.freq if model is not None else "month")
    reg = result.regions
    targets = [
        {
            "region_id": r.region_id,
            "region_name": r.region_name,
            "country": r.country,
            "p_any": float(r.p_any),
            "p_any_ci": [float(r.p_any_low), float(r.p_any_high)],
            "p_any_ci_mc_error": float(r.p_any_ci_mc_error),
            "expected": float(r.expected),
            "expected_median": float(r.total_median),
            "expected_ci_90": [float(r.total_q05), float(r.total_q95)],
            "expected_mean_ci": [float(r.expected_low), float(r.expected_high)],
            "share_neighbour": float(r.share_neighbour),
            "share_neighbour_ci": [float(r.share_neighbour_low), float(r.share_neighbour_high)],
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
        "origin": period_label(result.origin, freq),
        "horizon": result.horizon,
        "periods": [period_label(p, freq) for p in result.periods],
        "interval_level": result.level,
        "seed": result.seed,
        "n_draws": result.n_draws,
        "n_paths": result.n_paths,
        "mc_error": result.mc_error,
        "targets": targets,
        "countries": countries,
        "parameters": params,
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
            "endemic_effects": model.endemic_effects,
            "group_sd": spec.group_sd,
            "trend_damping": spec.trend_damping,
            "loglik": model.fit.loglik,
            "n_obs": model.fit.n_obs,
            "at_bound": list(model.fit.at_bound),
            "fitted_from": period_label(model.periods[0], freq),
            "fitted_to": period_label(model.periods[-1], freq),
        }
    return out
