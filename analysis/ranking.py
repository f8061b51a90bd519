"""Regions ranked for the quarterly overview, and the alerts the ranking raises.

The ranking combines numbers computed elsewhere (the study's growth table, P(surge) and
P(at least one event) from the report model's paths, :mod:`analysis.models.risk`); it adds
only the order.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.formatting import format_ratio
from analysis.periods import parse_window

#: A region "peaked between the windows" when a window of the later one's length between the
#: two held at least this many times the later window's events and ...
PEAK_FACTOR = 1.5
#: ... at least this many more, so that a handful of events' noise is not called a peak.
PEAK_MIN_EXCESS = 5


def ranking(
    panel: pd.DataFrame,
    growth_rows: pd.DataFrame | None,
    surge: pd.DataFrame,
    spill: Any,
    periods: int = 12,
    by_surge: bool = True,
) -> pd.DataFrame:
    """Regions ranked by the growth we are sure of, then P(surge), P(at least 1) and recent
    events.

    "Sure of" is the lower bound of the headline 95% interval of the latest growth ratio
    (allowing for overdispersion and the dependence between consecutive periods, months or
    quarters; the exact one for tables without it): a region that went from 10 to 73 events
    ranks above one that went from 0 to 1, whose ratio is unbounded but whose lower bound is
    small.

    Parameters
    ----------
    panel : DataFrame
        The panel as of the report's date.
    growth_rows : DataFrame or None
        Rows of :func:`analysis.growth.growth_table` (the latest comparison is used).
    surge : DataFrame
        :func:`analysis.models.risk.surge_probability`.
    spill : object with ``regions``
        A frame with ``region_id`` and ``p_any`` (e.g. :class:`analysis.models.risk.PathRisk`).
    periods : int
        Look-back window of ``events_recent``.
    by_surge : bool
        Break ties by P(surge); the overview turns it off where P(surge)'s backtest does not
        show it better than the best baseline's (it is still a column here).

    Returns
    -------
    DataFrame
        One row per region with ``region_id``, ``region_name``, ``country``,
        ``events_recent`` (last ``periods`` periods), ``ratio`` with its interval (latest
        growth comparison), ``p_surge``, ``p_any`` and ``rank``.
    """
    last = sorted(panel["period"].unique())[-periods:]
    names = panel.drop_duplicates("region_id").set_index("region_id")[["region_name", "country"]]
    out = names.copy()
    out["events_recent"] = (
        panel[panel["period"].isin(last)].groupby("region_id")["events"].sum().reindex(out.index)
    )
    if growth_rows is not None and len(growth_rows):
        latest = growth_rows[
            (growth_rows["period_a"] == growth_rows["period_a"].iloc[-1])
            & (growth_rows["period_b"] == growth_rows["period_b"].iloc[-1])
        ].set_index("region_id")
        out["ratio"] = latest["ratio"].reindex(out.index)
        low, high = ("headline_ci_low", "headline_ci_high")
        if low not in latest.columns:
            low, high = "ci_low", "ci_high"
        out["ratio_low"] = latest[low].reindex(out.index)
        out["ratio_high"] = latest[high].reindex(out.index)
        if "p_value_bh" in latest.columns:
            out["p_value_bh"] = latest["p_value_bh"].reindex(out.index)
        if "bh_family_size" in latest.columns:
            # the family's size counts the change-point tests too: the overview says so
            out["bh_family_size"] = latest["bh_family_size"].reindex(out.index)
        if "count_b" in latest.columns:
            peaks = peaks_between(panel, latest.reset_index())
            out["count_b"] = latest["count_b"].reindex(out.index)
            out["period_a"] = latest["period_a"].reindex(out.index)
            out["period_b"] = latest["period_b"].reindex(out.index)
            out["peak_label"] = peaks["peak_label"].reindex(out.index)
            out["peak_events"] = peaks["peak_events"].reindex(out.index)
    out["p_surge"] = surge.set_index("region_id")["p_surge"].reindex(out.index)
    out["p_any"] = spill.regions.set_index("region_id")["p_any"].reindex(out.index)
    if "ratio_low" in out.columns:
        # ranked on the bound as the table prints it: two bounds that read the same (Kidal and
        # Koulikoro, both 0.039) are a tie, broken by P(surge) as the overview says, not by
        # digits no reader sees
        out["_low_shown"] = out["ratio_low"].map(_as_printed)
    order = ("_low_shown", "p_surge", "p_any", "events_recent")
    keys = [k for k in order if k in out.columns and (by_surge or k != "p_surge")]
    out = out.reset_index().sort_values(keys, ascending=False, kind="stable", na_position="last")
    out["rank"] = range(1, len(out) + 1)
    return out.drop(columns="_low_shown", errors="ignore").reset_index(drop=True)


def peaks_between(panel: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Where a region's events peaked between the two windows of its growth comparison.

    A ratio of two windows says nothing of the months between: the real study's Sahel (BF-12)
    ranked first on "3 events in 2017, 17 in 2020" although 2019 held 54. The windows of the
    later window's length that lie wholly between the two (for years, the years between) are
    counted, and the busiest is returned where it held at least :data:`PEAK_FACTOR` times the
    later window's events and :data:`PEAK_MIN_EXCESS` more.

    Parameters
    ----------
    panel : DataFrame
        ``region_id``, ``period``, ``events``.
    rows : DataFrame
        Growth table rows of one comparison (``region_id``, ``period_a``, ``period_b``,
        ``count_b``).

    Returns
    -------
    DataFrame
        Indexed by ``region_id``: ``peak_label`` (the window, written as the study writes
        windows) and ``peak_events``, for the regions that peaked only.
    """
    found: dict[str, tuple[str, int]] = {}
    if rows.empty:
        return pd.DataFrame(columns=["peak_label", "peak_events"])
    a, b = parse_window(rows["period_a"].iloc[0]), parse_window(rows["period_b"].iloc[0])
    months = (b.end.year - b.start.year) * 12 + b.end.month - b.start.month
    spans = []
    start = b.start - pd.DateOffset(months=months)
    while start >= a.end:
        spans.append((start, start + pd.DateOffset(months=months)))
        start -= pd.DateOffset(months=months)
    if not spans:
        return pd.DataFrame(columns=["peak_label", "peak_events"])
    later = rows.set_index("region_id")["count_b"]
    # only the rows' regions: a region report asks for its own, not the whole panel's
    mine = panel[panel["region_id"].isin(later.index)]
    for region_id, series in mine.set_index("period").groupby("region_id")["events"]:
        counts = [
            (lo, int(series[(series.index >= lo) & (series.index < hi)].sum())) for lo, hi in spans
        ]
        lo, most = max(counts, key=lambda c: c[1])
        count_b = int(later[region_id])
        if most >= PEAK_FACTOR * count_b and most - count_b >= PEAK_MIN_EXCESS:
            found[str(region_id)] = (_window_label(lo, months), most)
    return pd.DataFrame.from_dict(found, orient="index", columns=["peak_label", "peak_events"])


def with_peaks(panel: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (growth table rows, any comparisons) with ``peak_label`` and ``peak_events``
    from :func:`peaks_between`, NaN where the region did not peak between its windows.

    Parameters
    ----------
    panel : DataFrame
    rows : DataFrame
        Growth table rows (``region_id``, ``period_a``, ``period_b``, ``count_b``).

    Returns
    -------
    DataFrame
        A copy, in the same order.
    """
    out = rows.copy()
    out["peak_label"] = pd.Series([None] * len(out), index=out.index, dtype=object)
    out["peak_events"] = float("nan")
    for _, same in out.groupby(["period_a", "period_b"], sort=False):
        peaks = peaks_between(panel, same)
        for idx, region_id in same["region_id"].items():
            if region_id in peaks.index:
                out.at[idx, "peak_label"] = peaks.at[region_id, "peak_label"]
                out.at[idx, "peak_events"] = peaks.at[region_id, "peak_events"]
    return out


def _window_label(start: pd.Timestamp, months: int) -> str:
    """A window as :func:`analysis.periods.parse_window` reads one: a year, quarter or month
    where it is one, else a month range."""
    if months == 12 and start.month == 1:
        return f"{start.year}"
    if months == 3 and start.month % 3 == 1:
        return f"{start.year}Q{(start.month - 1) // 3 + 1}"
    if months == 1:
        return f"{start:%Y-%m}"
    end = start + pd.DateOffset(months=months - 1)
    return f"{start:%Y-%m}..{end:%Y-%m}"


def _as_printed(x: float) -> float:
    """``x`` at the precision :func:`analysis.formatting.format_ratio` prints it (NaN when it
    prints blank)."""
    shown = format_ratio(x)
    return float(shown.replace(",", "")) if shown else float("nan")


def alerts(rank: pd.DataFrame, probability: float) -> pd.DataFrame:
    """Rows of :func:`ranking` whose P(surge) passes ``probability``.

    Parameters
    ----------
    rank : pandas.DataFrame
        The table of :func:`ranking`.
    probability : float
        The alert threshold, between 0 and 1; a row passes with P(surge) strictly above it.

    Returns
    -------
    pandas.DataFrame
        The rows kept, in ranking order, with a fresh index.
    """
    return rank[rank["p_surge"] > probability].reset_index(drop=True)
