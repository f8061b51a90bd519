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

from pathlib import Path
from typing import Any

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
    (:func:`latest_event`'s other end).

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events as ingested, before a study's selection.

    Returns
    -------
    pandas.Timestamp or None
        None where no row has a date.
    """
    return _event_day(events, latest=False)


def _event_day(events: pd.DataFrame, latest: bool) -> pd.Timestamp | None:
    if events.empty or "date_start" not in events.columns:
        return None
    dates = pd.to_datetime(events["date_start"])
    day = dates.max() if latest else dates.min()
    return None if pd.isna(day) else pd.Timestamp(day).normalize()


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
    if latest > end or (end - latest).days <= PARTIAL_PERIOD_DAYS:
        return ""
    return (
        f"The data files' latest event is on {latest:%Y-%m-%d}, so the last "
        f"{period_unit(freq)}, {period_label(last_period, freq)}, may hold only part of its "
        "events: its count, and the forecasts that start from it, may be too low."
    )


def uncovered_countries_note(
    countries: list[str], coverage: dict[str, str], names: dict[str, str] | None = None
) -> str:
    """A sentence naming the study's countries in which the data files hold no event.

    A country with no event, of any actor, in files that do not cover it is read as a
    country where nothing happened: its units are quiet, and spillover gives it a chance of
    first events from the model alone (a study that added Niger to UCDP files of Mali had
    "NER 32%" without a word).

    Parameters
    ----------
    countries : list of str
        The study's countries (ISO3).
    coverage : dict
        ISO3 -> first covered month (:attr:`analysis.pipeline.StudyData.coverage`).
    names : dict, optional
        ISO3 -> country name, for the sentence.

    Returns
    -------
    str
        Empty where every country has an event in the files.
    """
    missing = [c for c in countries if c not in coverage]
    if not missing:
        return ""
    names = names or {}
    shown = ", ".join(f"{names[c]} ({c})" if names.get(c, c) != c else c for c in missing)
    it, its = ("it", "its") if len(missing) == 1 else ("them", "their")
    return (
        f"The data files hold no event, of any actor, in {shown} up to the study's end: "
        f"they may not cover {it}, and {its} units are read as quiet, so {its} forecasts and "
        "spillover risk rest on no observation there."
    )


def unknown_countries_note(records: list[dict], names: dict[str, str] | None = None) -> str:
    """A sentence on the events whose country name the boundaries did not know.

    Ingest counts such an event in the country its coordinates (or a unique admin-1 name)
    place it in; a reader of a study should know that some of its counts rest on that
    placement rather than on the file's own country column.

    Parameters
    ----------
    records : list of dict
        The ingest manifest's ``unknown_countries`` (path, country, rows, lines, placed,
        left_out).
    names : dict, optional
        ISO3 -> country name, for the sentence.

    Returns
    -------
    str
        Empty where every event's country was known.
    """
    if not records:
        return ""
    names = names or {}
    total = sum(r["rows"] for r in records)
    written = sorted({f"'{r['country']}'" if r["country"] else "an empty value" for r in records})
    shown = ", ".join(written[:5]) + (f" and {len(written) - 5} more" if len(written) > 5 else "")
    placed: dict[str, int] = {}
    for r in records:
        for iso, n in r["placed"].items():
            placed[iso] = placed.get(iso, 0) + n
    left = sum(r["left_out"] for r in records)
    where = ", ".join(f"{names.get(c, c)} {n}" for c, n in sorted(placed.items()))
    parts = []
    if placed:
        parts.append(f"counted where their coordinates or admin-1 name place them ({where})")
    if left:
        parts.append(f"{left} in no admin-1 unit, left out")
    return (
        f"{total} event{'s' if total != 1 else ''} in the data files name a country the "
        f"boundaries do not know ({shown}): {'; '.join(parts)}. {_lines_words(records)}."
    )


def _lines_words(records: list[dict], shown: int = 5) -> str:
    """ "They are in events.csv, lines 4, 9 and 12" (the first ``shown`` lines of each file):
    the sentence had pointed to the ingest manifest, which a study's commands never write."""
    by_file: dict[str, list[int]] = {}
    for r in records:
        by_file.setdefault(Path(str(r["path"])).name, []).extend(int(x) for x in r.get("lines", []))
    parts = []
    for name, lines in by_file.items():
        lines = sorted(set(lines))
        if not lines:
            continue
        listed = ", ".join(str(x) for x in lines[:shown])
        more = f" and {len(lines) - shown} more" if len(lines) > shown else ""
        parts.append(f"{name}, line{'s' if len(lines) > 1 else ''} {listed}{more}")
    return "They are in " + "; ".join(parts) if parts else "Their lines are not known"


def window_problems(
    start: str | None,
    end: str | None,
    earliest: pd.Timestamp | None,
    latest: pd.Timestamp | None,
    *,
    data_from: str | None = None,
    data_through: str | None = None,
    freq: Freq = "month",
    file: str | None = None,
    keys: tuple[str, str] = ("start", "end"),
    study: bool = True,
) -> list[Problem]:
    """A problem for a window's start before, or end after, the months the data files cover.

    The files cover the months from their earliest event to their latest (of any actor,
    country or source), or further where the study declares it (``data_from``,
    ``data_through``): an export that begins in 2020 read from 2018 had two zero-filled years
    ("rose from 0"), and one that ends in June read to December showed the conflict stopping.

    Parameters
    ----------
    start, end : str or None
        The window's first and last months, ``YYYY-MM`` (None: not given, not checked).
    earliest, latest : pandas.Timestamp or None
        :func:`earliest_event` and :func:`latest_event` of the files (None: no dated row,
        which other checks refuse).
    data_from, data_through : str, optional
        The study's declared reach.
    freq : {"month", "quarter"}
        A quarterly window is told the whole quarters it may use (the files' latest event in
        2024-05 allows an end of 2024-03, not 2024-05, which the quarter rule refuses).
    file : str, optional
        The file the keys came from, for the messages.
    keys : (str, str)
        The study keys or CLI options that gave ``start`` and ``end``.
    study : bool
        The window came from a study, which can declare a wider reach.

    Returns
    -------
    list of Problem
        Both ends' problems at once, after those of a declared reach the files contradict
        (:func:`declared_reach_problems`).
    """
    problems = declared_reach_problems(earliest, latest, data_from, data_through, file)
    for month, day, declared, later, key in (
        (start, earliest, data_from, False, keys[0]),
        (end, latest, data_through, True, keys[1]),
    ):
        if month is None or day is None:
            continue
        problem = _reach_problem(month, day, declared, later, freq, file, key, study)
        if problem is not None:
            problems.append(problem)
    return problems


def declared_reach_problems(
    earliest: pd.Timestamp | None,
    latest: pd.Timestamp | None,
    data_from: str | None,
    data_through: str | None,
    file: str | None = None,
) -> list[Problem]:
    """A problem for a study's ``data_through`` before the month of the files' latest event,
    or ``data_from`` after the month of their earliest.

    The keys widen the files' reach to quiet months they do not show; one that narrows it
    contradicts the files, and had been ignored without a word (``data_through: 2023-06``
    over files that run to 2024-12 changed nothing), so the study says what is not so.

    Parameters
    ----------
    earliest, latest : pandas.Timestamp or None
        :func:`earliest_event` and :func:`latest_event` of the files (None: not checked).
    data_from, data_through : str or None
        The study's declared reach (None: not declared).
    file : str, optional
        The study file, for the messages.

    Returns
    -------
    list of Problem
    """
    problems = []
    for declared, day, later, key in (
        (data_from, earliest, False, "data_from"),
        (data_through, latest, True, "data_through"),
    ):
        if not declared or day is None:
            continue
        month = pd.Timestamp(day).to_period("M").start_time
        asked = parse_month(declared, key)
        if (asked >= month) if later else (asked <= month):
            continue
        which, side, direction = (
            ("latest", "no earlier", "after") if later else ("earliest", "no later", "before")
        )
        expected = (
            f"a month {side} than {month:%Y-%m}, the month of the data files' {which} event "
            f"({day:%Y-%m-%d}): the files hold events {direction} {declared} (leave {key} "
            "out where they reach as far as their events)"
        )
        problems.append(Problem(file, None, key, expected, declared))
    return problems


def require_window_covered(*args: Any, **kwargs: Any) -> None:
    """Raise :func:`window_problems`' problems as one :class:`InputError` (same arguments).

    Parameters
    ----------
    *args, **kwargs
        The arguments of :func:`window_problems`.

    Raises
    ------
    InputError
        With every problem, when there is any.
    """
    problems = window_problems(*args, **kwargs)
    if problems:
        raise InputError("the window runs outside the data", problems)


def _reach_problem(
    month: str,
    day: pd.Timestamp,
    declared: str | None,
    later: bool,
    freq: Freq,
    file: str | None,
    key: str,
    study: bool,
) -> Problem | None:
    name = "data_through" if later else "data_from"
    months = [pd.Timestamp(day).to_period("M").start_time]
    if declared:
        months.append(parse_month(declared, name))
    reach = max(months) if later else min(months)
    asked = parse_month(month, key)
    if (asked <= reach) if later else (asked >= reach):
        return None
    by_declared = bool(declared) and parse_month(declared) == reach
    which, direction = ("latest", "later") if later else ("earliest", "earlier")
    source = (
        f"the study's {name}"
        if by_declared
        else f"the month of the data files' {which} event ({day:%Y-%m-%d})"
    )
    usable = reach
    if freq == "quarter":
        # the last whole quarter up to the reach, or the first one from it
        quarter = reach.to_period("Q")
        if later and quarter.asfreq("M", "end").start_time != reach:
            quarter -= 1
        if not later and quarter.asfreq("M", "start").start_time != reach:
            quarter += 1
        usable = quarter.asfreq("M", "end" if later else "start").start_time
    bound = f"up to {usable:%Y-%m}" if later else f"from {usable:%Y-%m} on"
    if usable != reach:
        edge = "end of the last whole quarter up to" if later else "start of the first from"
        bound += f" (the {edge} {reach:%Y-%m}, {source})"
    else:
        bound += f", {source}"
    expected = f"a month {bound}: {direction} months would be counted as months without events"
    if study and not by_declared:
        expected += f" (set {name} in the study if the files cover {direction}, quiet months)"
    return Problem(file, None, key, expected, month)
