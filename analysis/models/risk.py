"""What a report reads from one model's sample paths: totals, P(any event), per region and
country, over the whole horizon or its first steps, and P(a surge).

Every number comes from summing or scanning the same joint paths
(:class:`~analysis.models.forecast.ForecastResult`), so a region's expected total, its
interval, its P(at least one event) and its country's P(any event in any unit) agree with the
monthly forecast table by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.formatting import format_probability, period_label
from analysis.models.forecast import ForecastResult

#: Periods of the near-term window (expected events, P(surge)) and of the recent mean a surge
#: is measured against: one place for the overview, the region reports and the backtest that
#: scores P(surge) (:func:`analysis.evaluation.backtest`).
NEAR_STEPS, SURGE_LOOKBACK = 3, 12

#: Fewest events over the :data:`NEAR_STEPS` window that make a surge (the default of the
#: study's ``alerts.min_events``). Without a floor the factor rule collapses to "at least one
#: event" in sparse regions: 2 events in the last 12 periods give a threshold of 1, so P(surge)
#: was P(any event) and a near-quiet region outranked the busiest one (demo: Mauritania's MR-01
#: 48%, Kayes 4%). 3 is the smallest floor under which, at the default factor of 2, a region
#: keeping a steady Poisson pace of fewer than 6 events in 12 periods is never likelier to
#: "surge" than one at 6 (19%), the pace at which the factor rule alone first asks for 3: with
#: a floor of 2 a steady 4 in 12 periods surges in 26% of windows, with none a steady 2 in 39%;
#: with 3 a steady 2 surges in 1.4%.
MIN_SURGE_EVENTS = 3


@dataclass(frozen=True)
class PathRisk:
    """Horizon totals and P(any) of one forecast.

    Attributes
    ----------
    regions : DataFrame
        ``region_id, region_name, country, expected, median, expected_low, expected_high,
        p_any, p_any_se`` (totals over steps 1..horizon; interval central ``level``;
        ``p_any_se`` the Monte Carlo standard error of ``p_any``).
    countries : DataFrame
        ``country, p_any, p_any_se``: at least one event in any unit of the country.
    model : str
    horizon : int
    origin : Timestamp
    level : float
    n_samples : int
    """

    regions: pd.DataFrame
    countries: pd.DataFrame
    model: str
    horizon: int
    origin: pd.Timestamp
    level: float
    n_samples: int

    def sentence(
        self, targets: Sequence[str] | None = None, period: str = "period", freq: str | None = None
    ) -> str:
        """P(at least one event in any unit) of each target country, and where it comes from:
        events of any origin (a reader of a section titled Spillover took the demo's "MRT
        >99.9%" for spread from Kayes).

        Each probability is the share of the model's sample paths with an event: the paths
        carry no separate draws of the model's parameters, so there is no interval to give;
        the sentence says so and gives the largest Monte Carlo standard error instead.
        Probabilities are formatted as in the reports' tables (``format_probability``);
        ``period`` is the study's period word (``month``), as the tables name the horizon;
        ``freq`` labels the origin (``2020-12``, ``2020Q4``), by default as ``period`` names
        it, a month where that is the generic "period".

        Parameters
        ----------
        targets : sequence of str, optional
            Countries to report (values of ``countries["country"]``; default None: all).
        period : str, optional
            The study's period word (default ``"period"``).
        freq : str, optional
            ``"month"`` or ``"quarter"``, for the origin's label (default None: from ``period``).

        Returns
        -------
        str
        """
        c = self.countries
        if targets:
            c = c[c["country"].isin(list(targets))]
        if c.empty:
            return "No target countries in the panel."
        # simulated probabilities of 0 or 1 mean "beyond what the paths resolve", not certainty
        parts = [f"{r.country} {format_probability(r.p_any)}" for r in c.itertuples()]
        se = 100 * float(c["p_any_se"].max())
        # rounded up: "at most" must hold for the largest (0.82 read "at most 0.8")
        error = "under 0.1" if se < 0.05 else f"at most {np.ceil(10 * se) / 10:.1f}"
        freq = freq or ("quarter" if period == "quarter" else "month")
        return (
            f"Probability of at least one event in any admin-1 unit within {self.horizon} "
            f"{period}{'s' if self.horizon != 1 else ''} after {period_label(self.origin, freq)}: "
            + "; ".join(parts)
            + ". Each is the share "
            f"of the {self.model} model's {self.n_samples:,} sample paths with such an event, "
            "whatever its origin, not the part spread from the focus regions "
            f"(Monte Carlo standard error {error} percentage points); no interval over the "
            "model's parameters is computed."
        )


def path_risk(
    fc: ForecastResult,
    region_names: Sequence[str] | None = None,
    countries: Sequence[str] | None = None,
    level: float = 0.9,
) -> PathRisk:
    """Summarise the paths of ``fc`` over its whole horizon.

    Parameters
    ----------
    fc : ForecastResult
    region_names, countries : sequence of str, optional
        Per region of ``fc`` (default: the ids, and the ISO 3166-2 prefix).
    level : float
        Central interval of the totals.

    Returns
    -------
    PathRisk
    """
    ids = list(fc.region_ids)
    names = list(region_names) if region_names is not None else ids
    ctry = np.asarray(
        list(countries) if countries is not None else [r.split("-")[0] for r in ids], dtype=object
    )
    tot = fc.totals()  # (R, M)
    M = tot.shape[1]
    a = (1 - level) / 2
    q = np.quantile(tot, [a, 0.5, 1 - a], axis=1, method="inverted_cdf")
    p = (tot > 0).mean(axis=1)
    regions = pd.DataFrame(
        {
            "region_id": ids,
            "region_name": names,
            "country": ctry,
            "expected": tot.mean(axis=1),
            "median": q[1],
            "expected_low": q[0],
            "expected_high": q[2],
            "p_any": p,
            "p_any_se": np.sqrt(p * (1 - p) / M),
        }
    )
    uniq = sorted(set(ctry))
    pc = np.array([(tot[ctry == c] > 0).any(axis=0).mean() for c in uniq])
    ctab = pd.DataFrame({"country": uniq, "p_any": pc, "p_any_se": np.sqrt(pc * (1 - pc) / M)})
    return PathRisk(regions, ctab, fc.model, fc.horizon, fc.origin, level, M)


@dataclass(frozen=True)
class WindowForecast:
    """Forecast total over the first ``steps`` periods of a forecast, for one region."""

    region_id: str
    steps: int
    first: pd.Timestamp
    last: pd.Timestamp
    mean: float
    low: float
    high: float
    p_any: float
    level: float
    median: float = float("nan")


def window_forecast(
    fc: ForecastResult, region_id: str, steps: int = NEAR_STEPS, level: float = 0.9
) -> WindowForecast:
    """Total events over the next ``steps`` periods: mean, central interval, P(at least one).

    Sums each predictive sample path over the steps, so the interval carries the dependence
    between steps that the model's paths have (summing per-step quantiles would not).

    Parameters
    ----------
    fc : ForecastResult
        The forecast.
    region_id : str
        A region of ``fc``.
    steps : int, optional
        Leading steps summed (default :data:`NEAR_STEPS`), clipped to 1..horizon.
    level : float, optional
        Central probability of the interval (default 0.9).

    Returns
    -------
    WindowForecast

    Raises
    ------
    ValueError
        When ``region_id`` is not in the forecast.
    """
    if region_id not in fc.region_ids:
        raise ValueError(f"expected region {region_id!r} in the forecast")
    steps = max(1, min(int(steps), fc.samples.shape[1]))
    totals = fc.samples[fc.region_ids.index(region_id), :steps, :].sum(axis=0)
    tail = (1 - level) / 2
    low, med, high = np.quantile(totals, [tail, 0.5, 1 - tail], method="inverted_cdf")
    return WindowForecast(
        region_id=region_id,
        steps=steps,
        first=pd.Timestamp(fc.periods[0]),
        last=pd.Timestamp(fc.periods[steps - 1]),
        mean=float(totals.mean()),
        low=float(low),
        high=float(high),
        p_any=float((totals > 0).mean()),
        level=level,
        median=float(med),
    )


def expected_next(fc: ForecastResult, steps: int = NEAR_STEPS, level: float = 0.9) -> pd.DataFrame:
    """Expected events over the next ``steps`` periods with a central interval, per region.

    Parameters
    ----------
    fc : ForecastResult
        The forecast.
    steps : int, optional
        Leading steps summed (default :data:`NEAR_STEPS`).
    level : float, optional
        Central probability of the interval (default 0.9).

    Returns
    -------
    DataFrame
        ``region_id``, ``expected``, ``expected_low``, ``expected_high``.
    """
    rows = [window_forecast(fc, r, steps=steps, level=level) for r in fc.region_ids]
    return pd.DataFrame(
        {
            "region_id": [w.region_id for w in rows],
            "expected": [w.mean for w in rows],
            "expected_low": [w.low for w in rows],
            "expected_high": [w.high for w in rows],
        }
    )


def recent_mean(panel: pd.DataFrame, periods: int = SURGE_LOOKBACK) -> pd.Series:
    """Mean events per period over the last ``periods`` periods, per region.

    Parameters
    ----------
    panel : DataFrame
        ``region_id, period, events`` rows.
    periods : int, optional
        Latest periods of the panel averaged (default :data:`SURGE_LOOKBACK`).

    Returns
    -------
    Series
        Mean events per period, indexed by ``region_id``.
    """
    last = sorted(panel["period"].unique())[-periods:]
    recent = panel[panel["period"].isin(last)]
    return recent.groupby("region_id")["events"].mean()


def surge_rule(factor: float, min_events: int) -> dict[str, Any]:
    """The surge rule as the manifests and backtests record it: the study's
    ``alerts.surge_factor`` and ``alerts.min_events`` with the window and look-back of
    :func:`surge_threshold`.

    Parameters
    ----------
    factor : float
        ``alerts.surge_factor``.
    min_events : int
        ``alerts.min_events``.

    Returns
    -------
    dict
        ``surge_factor``, ``min_events``, ``steps`` and ``lookback``.
    """
    return {
        "surge_factor": float(factor),
        "min_events": int(min_events),
        "steps": NEAR_STEPS,
        "lookback": SURGE_LOOKBACK,
    }


def surge_threshold(
    recent: np.ndarray, factor: float, steps: int, min_events: int = MIN_SURGE_EVENTS
) -> np.ndarray:
    """Events over ``steps`` periods that make a surge: ``factor`` times what the recent
    per-period mean ``recent`` would give over them, and at least ``min_events``.

    The one surge rule: the overview's P(surge) and alerts (:func:`surge_probability`) and the
    backtest that scores them (:func:`analysis.evaluation.backtest`) all read it here.

    Parameters
    ----------
    recent : ndarray (region,)
        Mean events per period over the look-back window.
    factor : float
    steps : int
    min_events : int
        Fewest events over the window that count as a surge (the study's
        ``alerts.min_events``; :data:`MIN_SURGE_EVENTS`).

    Returns
    -------
    ndarray (region,)
        ``max(ceil(factor * steps * recent), min_events)``.

    Raises
    ------
    ValueError
        When ``min_events`` is not a whole number of at least 1: a threshold of 0 events would
        call every path a surge.
    """
    if isinstance(min_events, bool) or int(min_events) != min_events or min_events < 1:
        raise ValueError(f"expected min_events a whole number of at least 1, got {min_events!r}")
    # the tolerance keeps an exact multiple at its integer (1.1 x 3 x 40/12 is 11.000000000000002)
    factor_rule = np.ceil(factor * steps * np.asarray(recent, float) - 1e-9)
    return np.maximum(factor_rule, float(min_events))


def path_surge_probability(samples: np.ndarray, threshold: np.ndarray, steps: int) -> np.ndarray:
    """Share of paths whose total over the first ``steps`` periods reaches ``threshold``.

    Parameters
    ----------
    samples : ndarray (region, step, sample)
    threshold : ndarray (region,)
    steps : int

    Returns
    -------
    ndarray (region,)
    """
    totals = samples[:, :steps, :].sum(axis=1)  # (region, sample)
    return (totals >= np.asarray(threshold)[:, None]).mean(axis=1)


def surge_probability(
    fc: ForecastResult,
    panel: pd.DataFrame,
    factor: float = 2.0,
    steps: int = NEAR_STEPS,
    periods: int = SURGE_LOOKBACK,
    min_events: int = MIN_SURGE_EVENTS,
) -> pd.DataFrame:
    """P(a surge) per region: events over the next ``steps`` periods reach ``factor`` times
    what the last ``periods`` periods' mean would give, and at least ``min_events``
    (:func:`surge_threshold`).

    Parameters
    ----------
    fc : ForecastResult
        Predictive samples for the regions.
    panel : DataFrame
        The panel the forecast was made from (for the recent mean).
    factor : float
        Surge multiple (the study's ``alerts.surge_factor``).
    steps, periods : int
        Forecast window and look-back window, in periods.
    min_events : int
        Fewest events over the window that make a surge (the study's ``alerts.min_events``).

    Returns
    -------
    DataFrame
        ``region_id``, ``recent_mean``, ``threshold`` (events over the window), ``p_surge``.
    """
    steps = max(1, min(int(steps), fc.samples.shape[1]))
    base = recent_mean(panel, periods).reindex(list(fc.region_ids)).fillna(0.0)
    threshold = surge_threshold(base.to_numpy(), factor, steps, min_events)
    p = path_surge_probability(fc.samples, threshold, steps)
    return pd.DataFrame(
        {
            "region_id": list(fc.region_ids),
            "recent_mean": base.to_numpy(),
            "threshold": threshold,
            "p_surge": p,
        }
    )
