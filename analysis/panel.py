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
from analysis.periods import Freq, parse_month, period_range, quarter_window_problems

#: Country code of synthetic regions (ISO 3166 leaves ZZZ to user assignment).
SYNTHETIC_COUNTRY = "ZZZ"


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
    # the distinct region ids (a few hundred in millions of events) serve twice
    codes, uniques = pd.factorize(events["region_id"])
    if not countries:
        known = boundaries.regions.set_index("region_id")["country"]
        countries = sorted(known.reindex(pd.Index(uniques, dtype=object)).dropna().unique())
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

    if freq == "quarter":
        misaligned = quarter_window_problems(start, end)
        if misaligned:
            raise InputError("window cuts a quarter", misaligned)
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
    # Every (unit, period) cell is a position in one flat array: unit position x periods +
    # period position. Counting is then one bincount over the three columns a count needs;
    # a group-by and a reindex onto the grid cost ten times as much at two million events.
    ids = units["region_id"].astype(str)
    if ids.duplicated().any():
        raise InputError(
            "boundary codes must be unique",
            [Problem(None, None, "region_id", "a unique code", v) for v in ids[ids.duplicated()]],
        )
    # a missing region id (code -1) takes the appended -1: no unit
    known = pd.Index(ids).get_indexer(pd.Index(uniques, dtype=object).astype(str))
    unit = np.append(known, -1)[codes]
    step = 1 if freq == "month" else 3
    month = _months(dates.to_numpy())
    period = (
        month // step - periods[0].to_datetime64().astype("datetime64[M]").astype(np.int64) // step
    )
    inside = (unit >= 0) & ~np.isnat(dates.to_numpy()) & (period >= 0) & (period < len(periods))
    cell = unit[inside] * len(periods) + period[inside]
    cells = len(ids) * len(periods)
    if "fatalities" in events.columns:
        fatalities = pd.to_numeric(events["fatalities"], errors="coerce").to_numpy(float)[inside]
    else:
        fatalities = np.zeros(int(inside.sum()))
    counts = np.bincount(cell, minlength=cells)
    deaths = np.bincount(cell, weights=np.nan_to_num(fatalities), minlength=cells)

    order = np.argsort(ids.to_numpy(dtype=object), kind="stable")
    rows = (order[:, None] * len(periods) + np.arange(len(periods))).ravel()
    unit_rows = np.repeat(order, len(periods))
    panel = pd.DataFrame(
        {
            "region_id": ids.iloc[unit_rows].to_numpy(),
            "region_name": units["region_name"].to_numpy()[unit_rows],
            "country": units["country"].to_numpy()[unit_rows],
            "period": np.tile(periods.to_numpy(), len(ids)),
            "events": counts[rows].astype("int64"),
            "fatalities": np.rint(deaths[rows]).astype("int64"),
        }
    )
    panel["region_id"] = panel["region_id"].astype(str)
    # Events of other countries are expected when a study selects countries; the count is
    # kept for the data summary rather than raised as a warning.
    panel.attrs = {"freq": freq, "events_outside": int(len(events) - inside.sum())}
    return panel


_NS_PER_DAY = 86_400 * 10**9


def _months(stamps: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of datetimes (NaT gives an arbitrary value: mask it).

    Days are a division; months need the calendar, so they are looked up per day of the
    span (a few thousand days) instead of computed per event (five times faster).
    """
    # whole days by one floor division of the nanoseconds: numpy's datetime cast to days took
    # most of this function's time (NaT, the smallest int64, is clipped below and masked)
    days = stamps.astype("datetime64[ns]", copy=False).view(np.int64) // _NS_PER_DAY
    known = days[~np.isnat(stamps)]
    if len(known) == 0:
        return np.zeros(len(days), dtype=np.int64)
    lo, hi = int(known.min()), int(known.max())
    table = np.arange(lo, hi + 1).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return table[np.clip(days, lo, hi) - lo]


def to_matrix(
    panel: pd.DataFrame, value: str = "events"
) -> tuple[np.ndarray, list[str], pd.DatetimeIndex]:
    """Reshape a panel to a regions x periods matrix.

    Parameters
    ----------
    panel : pandas.DataFrame
        A panel of :func:`build_panel`: one row per region and period.
    value : str, optional
        The column to reshape: ``"events"`` (the default) or ``"fatalities"``.

    Returns
    -------
    counts : numpy.ndarray
        Shape (regions, periods), int64 for counts.
    region_ids : list of str
        Row labels, sorted.
    periods : pandas.DatetimeIndex
        Column labels.

    Raises
    ------
    InputError
        When some region lacks a row for some period.
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

    Parameters
    ----------
    counts : numpy.ndarray (region, period)
        Event counts (cast to int64).
    region_ids : list of str
        Row labels.
    periods : pandas.DatetimeIndex
        Column labels: the first day of each period.
    freq : {"month", "quarter"}, optional
        Recorded in ``attrs``; ``"month"`` by default.
    boundaries : Boundaries, optional
        Defaults to the shipped boundaries.

    Returns
    -------
    pandas.DataFrame
        A panel as :func:`build_panel` makes it, ``attrs`` with ``freq`` and
        ``events_outside`` 0.
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
