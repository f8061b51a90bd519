"""Small computations the report notebooks show, kept here so that they are tested code.

Notebooks only call the package; anything computed for a report (the as-of cut of a
quarterly run, the data summary table, the regions drawn around a focus) lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.report.run import QUARTER_PATTERN, validate_quarter


def quarter_end(quarter: str) -> pd.Timestamp:
    """First day after ``quarter`` (``2024Q4`` -> 2025-01-01): the as-of cut-off."""
    match = QUARTER_PATTERN.fullmatch(validate_quarter(quarter))
    assert match is not None
    year, q = int(match.group(1)), int(match.group(2))
    return pd.Timestamp(year=year, month=3 * q, day=1) + pd.offsets.MonthBegin(1)


def panel_as_of(panel: pd.DataFrame, quarter: str | None) -> pd.DataFrame:
    """Keep the periods that start before the end of ``quarter`` (all of them if none).

    A quarterly report is written as of the end of its quarter, so later data (present when a
    past quarter is re-rendered) must not leak into it.
    """
    if not quarter:
        return panel
    out = panel[panel["period"] < quarter_end(quarter)].reset_index(drop=True)
    out.attrs = dict(panel.attrs)
    return out


def events_as_of(events: pd.DataFrame, quarter: str | None) -> pd.DataFrame:
    """Keep events that started before the end of ``quarter`` (all of them if none)."""
    if not quarter:
        return events
    return events[events["date_start"] < quarter_end(quarter)].reset_index(drop=True)


def data_summary(
    events: pd.DataFrame,
    panel: pd.DataFrame,
    region_id: str,
    inputs: list[dict[str, Any]],
    set_aside: dict[str, int] | None = None,
) -> pd.DataFrame:
    """The data behind a region report as an ``item``/``value`` table.

    Parameters
    ----------
    events : DataFrame
        Canonical events selected by the study.
    panel : DataFrame
        The study panel (already cut to the report's as-of date).
    region_id : str
        The report's region.
    inputs : list of dict
        Data files (``path``, ``rows``, ``source``).
    set_aside : dict, optional
        Rows set aside by reason.

    Returns
    -------
    DataFrame
        Columns ``item`` and ``value`` (strings, ready to show).
    """
    in_region = panel[panel["region_id"] == region_id]
    if in_region.empty:
        raise ValueError(f"expected region {region_id!r} in the panel")
    periods = panel["period"]
    freq = panel.attrs.get("freq", "month")
    sources = sorted({str(i.get("source", "")) for i in inputs if i.get("source")})
    rows = [
        ("Events in the study (all regions)", f"{int(panel['events'].sum()):,}"),
        ("Events in this region", f"{int(in_region['events'].sum()):,}"),
        ("Fatalities in this region (best estimate)", f"{int(in_region['fatalities'].sum()):,}"),
        (
            f"{freq.capitalize()}s with at least one event in this region",
            f"{int((in_region['events'] > 0).sum())} of {len(in_region)}",
        ),
        (
            "Window",
            f"{periods.min():%Y-%m} to {periods.max():%Y-%m} ({freq}ly, "
            f"{panel['region_id'].nunique()} regions)",
        ),
        ("Sources", ", ".join(sources) or "unknown"),
        ("Data files", str(len(inputs))),
        ("Rows read", f"{sum(int(i.get('rows', 0)) for i in inputs):,}"),
    ]
    if len(events):
        rows.append(
            (
                "Event dates",
                f"{events['date_start'].min():%Y-%m-%d} to {events['date_start'].max():%Y-%m-%d}",
            )
        )
    for reason, count in sorted((set_aside or {}).items()):
        rows.append((f"Rows set aside: {reason}", f"{int(count):,}"))
    if not set_aside:
        rows.append(("Rows set aside", "0"))
    return pd.DataFrame(rows, columns=["item", "value"])


def region_with_neighbours(region_id: str, boundaries: Any, limit: int = 8) -> list[str]:
    """The region followed by its first-order neighbours (at most ``limit`` of them)."""
    from analysis.geography import neighbours

    return [region_id, *neighbours(region_id, boundaries=boundaries)[:limit]]


def recent_events(events: pd.DataFrame, region_id: str, n: int = 5) -> pd.DataFrame:
    """The ``n`` latest events in a region, with the columns a reader checks (notes cut short).

    Strings are returned as they are in the data; display them with
    :func:`analysis.report.show.table`, which escapes them.
    """
    cols = ["date_start", "event_type", "actor1", "actor2", "fatalities", "notes"]
    rows = events[events["region_id"] == region_id]
    rows = rows.sort_values(["date_start", "event_id"], ascending=[False, True]).head(n)
    out = rows.reindex(columns=cols).copy()
    out["date_start"] = out["date_start"].dt.strftime("%Y-%m-%d")
    out["notes"] = out["notes"].astype("string").str.slice(0, 160)
    return out.rename(columns={"date_start": "date"}).reset_index(drop=True)


def main_actor(events: pd.DataFrame, region_id: str) -> tuple[str, int] | None:
    """The most frequent first actor in a region's events and its count (None if no events)."""
    rows = events.loc[events["region_id"] == region_id, "actor1"].dropna()
    if rows.empty:
        return None
    counts = rows.value_counts()
    return str(counts.index[0]), int(counts.iloc[0])


def usable_comparisons(
    compare: list[tuple[str, str]] | list[list[str]], panel: pd.DataFrame
) -> list[tuple[str, str]]:
    """The study's growth comparisons whose windows lie inside the panel's periods.

    A report as of a past quarter drops comparisons that reach beyond it, rather than
    comparing a full window with a partial one.
    """
    from analysis.growth import parse_window

    first = panel["period"].min()
    last_end = panel["period"].max() + (
        pd.offsets.QuarterBegin(1, startingMonth=1)
        if panel.attrs.get("freq") == "quarter"
        else pd.offsets.MonthBegin(1)
    )
    kept = []
    for a, b in compare:
        wa, wb = parse_window(a), parse_window(b)
        if min(wa.start, wb.start) >= first and max(wa.end, wb.end) <= last_end:
            kept.append((str(a), str(b)))
    return kept


GROWTH_COLUMNS = {
    "period_a": "from",
    "period_b": "to",
    "count_a": "events (from)",
    "count_b": "events (to)",
    "ratio": "ratio",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "nb_ci_low": "overdispersion-aware low",
    "nb_ci_high": "overdispersion-aware high",
    "annual_growth_pct": "trend % a year",
    "p_value_bh": "p (BH-adjusted)",
}


def growth_display(table: pd.DataFrame) -> pd.DataFrame:
    """The reader's columns of :func:`analysis.growth.growth_table`, renamed in plain words."""
    return table.reindex(columns=list(GROWTH_COLUMNS)).rename(columns=GROWTH_COLUMNS)


def forecast_table(fc: Any, region_id: str) -> pd.DataFrame:
    """One region's forecast per step: mean, 90% interval, P(at least one event).

    Parameters
    ----------
    fc : analysis.models.forecast.ForecastResult
    region_id : str

    Returns
    -------
    DataFrame
        ``period`` (YYYY-MM), ``expected``, ``90% interval``, ``P(at least 1)``.
    """
    frame = fc.to_frame()
    rows = frame[frame["region_id"] == region_id]
    if rows.empty:
        raise ValueError(f"expected region {region_id!r} in the forecast")
    return pd.DataFrame(
        {
            "period": pd.to_datetime(rows["period"]).dt.strftime("%Y-%m").to_numpy(),
            "expected": rows["mean"].round(1).to_numpy(),
            "90% interval": [
                f"{int(lo)}-{int(hi)}" for lo, hi in zip(rows["q05"], rows["q95"], strict=True)
            ],
            "P(at least 1)": [f"{100 * p:.0f}%" for p in rows["p_any"]],
        }
    )


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


def window_forecast(fc: Any, region_id: str, steps: int = 3, level: float = 0.9) -> WindowForecast:
    """Total events over the next ``steps`` periods: mean, central interval, P(at least one).

    Sums each predictive sample path over the steps, so the interval carries the dependence
    between steps that the model's paths have (summing per-step quantiles would not).
    """
    import numpy as np

    if region_id not in fc.region_ids:
        raise ValueError(f"expected region {region_id!r} in the forecast")
    steps = max(1, min(int(steps), fc.samples.shape[1]))
    totals = fc.samples[fc.region_ids.index(region_id), :steps, :].sum(axis=0)
    tail = (1 - level) / 2
    low, high = np.quantile(totals, [tail, 1 - tail], method="inverted_cdf")
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
    )


def forecast_sentence(w: WindowForecast, region_name: str, model: str) -> str:
    """Plain-language sentence for a :class:`WindowForecast` (numbers already computed)."""
    return (
        f"From {w.first:%Y-%m} to {w.last:%Y-%m}, the {model} forecast expects "
        f"{w.mean:.1f} events in {region_name} ({100 * w.level:.0f}% interval "
        f"{w.low:.0f}-{w.high:.0f}); the probability of at least one event in that time is "
        f"{100 * w.p_any:.0f}%"
    )


SPILLOVER_COLUMNS = {
    "region_id": "region",
    "region_name": "name",
    "country": "country",
    "p_any": "P(at least 1)",
    "p_any_low": "low",
    "p_any_high": "high",
    "expected": "expected events",
    "share_neighbour": "share from neighbours",
}


def spillover_table(spill: Any, region_ids: list[str]) -> pd.DataFrame:
    """Spillover model rows for the given regions, in that order, in plain column names."""
    rows = spill.regions.set_index("region_id").reindex(region_ids).reset_index()
    rows = rows.dropna(subset=["p_any"])
    return rows.reindex(columns=list(SPILLOVER_COLUMNS)).rename(columns=SPILLOVER_COLUMNS)
