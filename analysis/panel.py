"""Events -> zero-filled region x period count panels.

Every admin-1 unit of the selected countries gets exactly one row per period of the window,
with zeros where nothing happened: models of spread and of sparse counts need the zeros, and
a unit that never appears in the events is still a unit that could be attacked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import InputError, Problem
from analysis.geography import Boundaries, load_boundaries
from analysis.periods import Freq, parse_month, period_range, period_start

#: Country code of synthetic regions (ISO 3166 leaves ZZZ to user assignment).
SYNTHETIC_COUNTRY = "ZZZ"
PANEL_COLUMNS = ["region_id", "region_name", "country", "period", "events", "fatalities"]


def build_panel(
    events: pd.DataFrame,
    boundaries: Boundaries | None = None,
    countries: list[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    freq: Freq = "month",
) -> pd.DataFrame:
    """Count events per admin-1 unit and period, zero-filled over the whole window.

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events with ``region_id``, ``date_start`` and ``fatalities``; already filtered
        by actor and event type.
    boundaries : Boundaries, optional
        Defaults to the shipped boundaries.
    countries : list of str, optional
        ISO3 codes whose units form the rows. Defaults to the countries of the events.
    start, end : str, optional
        ``YYYY-MM``; default to the first and last event month.
    freq : {"month", "quarter"}

    Returns
    -------
    pandas.DataFrame
        Columns ``region_id, region_name, country, period, events, fatalities``, one row per
        unit and period, sorted. ``attrs`` carries ``freq`` and the number of events outside
        the units or window (``events_outside``).
    """
    boundaries = boundaries or load_boundaries()
    if freq not in ("month", "quarter"):
        raise InputError(
            "bad frequency", [Problem(None, None, "freq", "month or quarter", str(freq))]
        )
    if not countries:
        known = boundaries.regions.set_index("region_id")["country"]
        countries = sorted(known.reindex(events["region_id"].dropna().unique()).dropna().unique())
    units = boundaries.regions_of(countries)
    missing = sorted(set(countries) - set(units["country"]))
    if missing:
        raise InputError(
            "countries not in the boundaries",
            [
                Problem(None, None, "countries", "ISO3 codes of countries with admin-1 units", c)
                for c in missing
            ],
        )

    dates = pd.to_datetime(events["date_start"])
    first = parse_month(start, "start") if start else dates.min()
    last = parse_month(end, "end") if end else dates.max()
    if pd.isna(first) or pd.isna(last):
        raise InputError(
            "cannot build a panel without a window",
            [Problem(None, None, "start/end", "a window (YYYY-MM) or at least one event")],
        )
    if last < first:
        raise InputError(
            "window ends before it starts",
            [Problem(None, None, "end", f"a month on or after {first:%Y-%m}", f"{last:%Y-%m}")],
        )
    periods = period_range(first, last, freq)
    window_end = periods[-1] + (
        pd.offsets.MonthBegin(1) if freq == "month" else pd.offsets.QuarterBegin(1, startingMonth=1)
    )

    inside = (
        events["region_id"].isin(units["region_id"]).to_numpy()
        & (dates >= periods[0]).to_numpy()
        & (dates < window_end).to_numpy()
    )
    # Only the three columns a count needs: copying whole event rows (notes and all) would
    # double the memory of a large export.
    codes, uniques = pd.factorize(events["region_id"])
    region = pd.Categorical.from_codes(codes[inside], categories=pd.Index(uniques, dtype=object))
    period = period_start(dates[inside], freq).to_numpy()
    if "fatalities" in events.columns:
        fatalities = pd.to_numeric(events["fatalities"], errors="coerce").to_numpy(float)[inside]
    else:
        fatalities = np.zeros(int(inside.sum()))
    counts = (
        pd.DataFrame(
            {
                "region_id": region,
                "period": period,
                "events": 1,
                "fatalities": np.nan_to_num(fatalities),
            }
        )
        .groupby(["region_id", "period"], sort=False, observed=True)
        .sum()
    )

    grid = pd.MultiIndex.from_product([units["region_id"], periods], names=["region_id", "period"])
    panel = counts.reindex(grid, fill_value=0).reset_index()
    info = units.set_index("region_id")
    panel.insert(1, "region_name", info.loc[panel["region_id"], "region_name"].to_numpy())
    panel.insert(2, "country", info.loc[panel["region_id"], "country"].to_numpy())
    panel["events"] = panel["events"].astype("int64")
    panel["fatalities"] = np.rint(panel["fatalities"]).astype("int64")
    panel["region_id"] = panel["region_id"].astype(str)
    panel = panel[PANEL_COLUMNS].sort_values(["region_id", "period"]).reset_index(drop=True)
    # Events of other countries are expected when a study selects countries; the count is
    # kept for the data summary rather than raised as a warning.
    panel.attrs = {"freq": freq, "events_outside": int(len(events) - inside.sum())}
    return panel


def to_matrix(
    panel: pd.DataFrame, value: str = "events"
) -> tuple[np.ndarray, list[str], pd.DatetimeIndex]:
    """Reshape a panel to a regions x periods matrix.

    Returns
    -------
    counts : numpy.ndarray
        Shape (regions, periods), int64 for counts.
    region_ids : list of str
        Row labels, sorted.
    periods : pandas.DatetimeIndex
        Column labels.
    """
    wide = panel.pivot(index="region_id", columns="period", values=value).sort_index()
    if wide.isna().any().any():
        raise InputError(
            "panel is not complete", [Problem(None, None, value, "one row per region and period")]
        )
    return wide.to_numpy(), list(wide.index), pd.DatetimeIndex(wide.columns)


def from_matrix(
    counts: np.ndarray,
    region_ids: list[str],
    periods: pd.DatetimeIndex,
    freq: Freq = "month",
    boundaries: Boundaries | None = None,
) -> pd.DataFrame:
    """Build a panel from a regions x periods matrix (fatalities set to 0).

    Region names and countries come from the boundaries when the ids are known there; other
    ids (synthetic regions in tests and benchmarks) get their id as name and
    :data:`SYNTHETIC_COUNTRY` as country.
    """
    counts = np.asarray(counts)
    boundaries = boundaries or load_boundaries()
    info = boundaries.regions.set_index("region_id")
    names = [info["region_name"].get(r, r) for r in region_ids]
    countries = [info["country"].get(r, SYNTHETIC_COUNTRY) for r in region_ids]
    n_r, n_t = counts.shape
    panel = pd.DataFrame(
        {
            "region_id": np.repeat(region_ids, n_t),
            "region_name": np.repeat(names, n_t),
            "country": np.repeat(countries, n_t),
            "period": np.tile(pd.DatetimeIndex(periods).to_numpy(), n_r),
            "events": counts.reshape(-1).astype("int64"),
            "fatalities": np.zeros(n_r * n_t, dtype="int64"),
        }
    )
    panel = panel.sort_values(["region_id", "period"]).reset_index(drop=True)
    panel.attrs = {"freq": freq, "events_outside": 0}
    return panel
