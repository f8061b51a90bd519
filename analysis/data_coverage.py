"""How far the data files reach: a window must not run past what they cover.

A panel is zero-filled, so a month after the data files' last day reads as a month without
events. A study whose ``end`` was moved on before its export was refreshed (the quarterly
job's usual slip) would then show the conflict stopping: the demo study with ``end: 2025-06``
forecast Kayes from six empty months at 3 events a month, against 8 observed. The files'
latest event, of any actor and country, is the evidence of their reach: an export of a
region holds events most days. A narrow extract whose last months were quiet says so with
the study's ``data_through``; the window's start is held to the files' earliest event the same
way (``data_from``).
"""

from __future__ import annotations

import pandas as pd

from analysis.errors import InputError, Problem
from analysis.formatting import period_label, period_unit
from analysis.periods import Freq, parse_month, period_end

#: Days a last period may end after the files' latest event before it is called partial: a
#: week covers an export's usual lag and the quiet days of a sparse source.
PARTIAL_PERIOD_DAYS = 7


def latest_event(events: pd.DataFrame) -> pd.Timestamp | None:
    """The start date of the latest event of every row read (any actor, country or source).

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events as ingested, before a study's selection.

    Returns
    -------
    pandas.Timestamp or None
        None where no row has a date.
    """
    return _event_day(events, latest=True)


def earliest_event(events: pd.DataFrame) -> pd.Timestamp | None:
    """The start date of the earliest event of every row read: where the files begin
    (:func:`latest_event`'s other end)."""
    return _event_day(events, latest=False)


def _event_day(events: pd.DataFrame, latest: bool) -> pd.Timestamp | None:
    if events.empty or "date_start" not in events.columns:
        return None
    dates = pd.to_datetime(events["date_start"])
    day = dates.max() if latest else dates.min()
    return None if pd.isna(day) else pd.Timestamp(day).normalize()


def require_covered(
    end: str,
    latest: pd.Timestamp | None,
    declared: str | None = None,
    *,
    file: str | None = None,
    key: str = "end",
    study: bool = True,
) -> None:
    """Refuse a window that ends after the last month the data files cover.

    Parameters
    ----------
    end : str
        The window's last month, ``YYYY-MM``.
    latest : pandas.Timestamp or None
        :func:`latest_event` of the files (None: no dated row, which other checks refuse).
    declared : str, optional
        The study's ``data_through``.
    file : str, optional
        The file ``key`` came from, for the message.
    key : str
        The study key or CLI option that set ``end``.
    study : bool
        ``end`` came from a study, which can declare a later reach (``data_through``).

    Raises
    ------
    InputError
        Naming ``key``, the last month covered and the files' latest event.
    """
    _require_reach(end, latest, declared, later=True, file=file, key=key, study=study)


def partial_period_note(
    last_period: pd.Timestamp,
    freq: Freq,
    latest: pd.Timestamp | None,
    declared: str | None = None,
) -> str:
    """A sentence for the reader where the last period may hold only part of its events.

    Parameters
    ----------
    last_period : pandas.Timestamp
        The first day of the panel's last period (as of the report's date).
    freq : {"month", "quarter"}
    latest : pandas.Timestamp or None
        :func:`latest_event`.
    declared : str, optional
        The study's ``data_through``: a declared month is taken as covered whole.

    Returns
    -------
    str
        Empty where the files' latest event lies within :data:`PARTIAL_PERIOD_DAYS` of the
        period's end, after it, or where the study declares the period covered.
    """
    if latest is None:
        return ""
    end = period_end(pd.Timestamp(last_period), freq) - pd.Timedelta(days=1)
    if declared and parse_month(declared) >= end.to_period("M").start_time:
        return ""
    if latest > end or (end - latest).days < PARTIAL_PERIOD_DAYS:
        return ""
    return (
        f"The data files' latest event is on {latest:%Y-%m-%d}, so the last "
        f"{period_unit(freq)}, {period_label(last_period, freq)}, may hold only part of its "
        "events: its count, and the forecasts that start from it, may be too low."
    )


def require_covered_from(
    start: str,
    earliest: pd.Timestamp | None,
    declared: str | None = None,
    *,
    file: str | None = None,
    key: str = "start",
    study: bool = True,
) -> None:
    """Refuse a window that starts before the first month the data files cover: the
    counterpart of :func:`require_covered` for ``start`` (``earliest`` from
    :func:`earliest_event`, ``declared`` the study's ``data_from``). An export that begins in
    2020 read by a study from 2018 had two years of zero-filled months, and a growth
    comparison of 2018 with 2021 read "rose from 0"."""
    _require_reach(start, earliest, declared, later=False, file=file, key=key, study=study)


def _require_reach(
    month: str,
    event_day: pd.Timestamp | None,
    declared: str | None,
    *,
    later: bool,
    file: str | None,
    key: str,
    study: bool,
) -> None:
    """The check of :func:`require_covered` (``later``: an end) and
    :func:`require_covered_from` (a start): the files reach from or to the month of their
    earliest or latest event, or the study's declared month where that reaches further."""
    if event_day is None:
        return
    name = "data_through" if later else "data_from"
    months = [pd.Timestamp(event_day).to_period("M").start_time]
    if declared:
        months.append(parse_month(declared, name))
    reach = max(months) if later else min(months)
    asked = parse_month(month, key)
    if (asked <= reach) if later else (asked >= reach):
        return
    which, before_after = ("latest", "later") if later else ("earliest", "earlier")
    source = (
        f"the study's {name}"
        if declared and parse_month(declared) == reach
        else f"the month of the data files' {which} event ({event_day:%Y-%m-%d})"
    )
    bound = f"up to {reach:%Y-%m}" if later else f"from {reach:%Y-%m} on"
    expected = (
        f"a month {bound}, {source}: {before_after} months would be counted as months "
        "without events"
    )
    if study:
        expected += f" (set {name} in the study if the files cover {before_after}, quiet months)"
    message = "the window runs past the data" if later else "the window starts before the data"
    raise InputError(message, [Problem(file, None, key, expected, month)])
