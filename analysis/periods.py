"""Months, quarters and calendar windows: the project's one parser for period text.

Users write periods in four forms: ``YYYY`` (a year), ``YYYYQn`` (a quarter), ``YYYY-MM`` (a
month) and ``A..B`` (an inclusive range of those). Everything is parsed here, on
:class:`pandas.Period`, and handed on as period-start timestamps (the panel's ``period``
column) or half-open ``[start, end)`` windows. Bad text raises :class:`InputError` naming the
option and the form expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from analysis.errors import InputError, Problem

Freq = Literal["month", "quarter"]

_YEAR = re.compile(r"^\d{4}$")
_QUARTER = re.compile(r"^\d{4}Q[1-4]$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_PANDAS_FREQ = {"month": "M", "quarter": "Q"}


def _bad(what: str, expected: str, found: object) -> InputError:
    return InputError(f"bad {what}", [Problem(None, None, what, expected, str(found))])


def is_month(text: str) -> bool:
    """True when ``text`` has the form ``YYYY-MM`` with a month from 01 to 12.

    Parameters
    ----------
    text : str

    Returns
    -------
    bool
    """
    return bool(_MONTH.fullmatch(str(text).strip()))


def parse_month(text: str, what: str = "month") -> pd.Timestamp:
    """Parse ``YYYY-MM`` to the first day of that month.

    Parameters
    ----------
    text
        The month as written, e.g. ``"2021-01"``.
    what
        Name of the option or field, used in the error.

    Returns
    -------
    pandas.Timestamp

    Raises
    ------
    InputError
        When ``text`` is not of that form.
    """
    value = str(text).strip()
    if not _MONTH.fullmatch(value):
        raise _bad(what, "YYYY-MM, e.g. 2021-01", text)
    return pd.Period(value, freq="M").start_time


def parse_quarter(text: str, what: str = "quarter") -> pd.Period:
    """Parse ``YYYYQn`` (case-insensitive) to a quarterly :class:`pandas.Period`.

    Parameters
    ----------
    text : str
        The quarter as written, e.g. ``"2024Q4"``.
    what : str
        Name of the option or field, used in the error.

    Returns
    -------
    pandas.Period

    Raises
    ------
    InputError
        When ``text`` is not of that form.
    """
    value = str(text).strip().upper()
    if not _QUARTER.fullmatch(value):
        raise _bad(what, "a quarter such as 2024Q4", text)
    return pd.Period(value, freq="Q")


def validate_quarter(text: str, what: str = "quarter") -> str:
    """Return ``text`` normalised to ``YYYYQn`` if it is a quarter, else raise InputError
    naming ``what`` (a command's ``--quarter``, where it came from the command line).

    Parameters
    ----------
    text : str
        The quarter as written, e.g. ``"2024q4"``.
    what : str
        Name of the option or field, used in the error.

    Returns
    -------
    str

    Raises
    ------
    InputError
        When ``text`` is not a quarter.
    """
    return str(parse_quarter(text, what))


def previous_quarter(text: str) -> str:
    """The quarter before ``text`` (``2024Q1`` -> ``2023Q4``).

    Parameters
    ----------
    text : str
        A quarter, ``YYYYQn``.

    Returns
    -------
    str

    Raises
    ------
    InputError
        When ``text`` is not a quarter.
    """
    return str(parse_quarter(text) - 1)


def quarter_end(text: str) -> pd.Timestamp:
    """First day after the quarter (``2024Q4`` -> 2025-01-01): a report's as-of cut-off.

    Parameters
    ----------
    text : str
        A quarter, ``YYYYQn``.

    Returns
    -------
    pandas.Timestamp

    Raises
    ------
    InputError
        When ``text`` is not a quarter.
    """
    return (parse_quarter(text) + 1).start_time


@dataclass(frozen=True)
class Window:
    """A half-open calendar window ``[start, end)`` with the label the user wrote."""

    label: str
    start: pd.Timestamp
    end: pd.Timestamp


def _period(spec: str) -> pd.Period:
    if _YEAR.fullmatch(spec):
        return pd.Period(spec, freq="Y")
    if _QUARTER.fullmatch(spec):
        return pd.Period(spec, freq="Q")
    if _MONTH.fullmatch(spec):
        return pd.Period(spec, freq="M")
    raise ValueError(spec)


def is_window(text: str) -> bool:
    """True when :func:`parse_window` would accept ``text``.

    Parameters
    ----------
    text : str

    Returns
    -------
    bool
    """
    try:
        parse_window(text)
    except InputError:
        return False
    return True


def parse_window(spec: str | int) -> Window:
    """Parse ``YYYY``, ``YYYYQn``, ``YYYY-MM`` or ``A..B`` (inclusive range of those) to a window.

    Parameters
    ----------
    spec
        E.g. ``2021``, ``"2021Q3"``, ``"2021-03"``, ``"2021-01..2021-06"``.

    Returns
    -------
    Window

    Raises
    ------
    InputError
        When the text is not one of these forms, or a range ends before it starts.
    """
    text = str(spec).strip()
    try:
        if ".." in text:
            left, right = (part.strip() for part in text.split("..", 1))
            start = _period(left).start_time
            end = (_period(right) + 1).start_time
        else:
            period = _period(text)
            start, end = period.start_time, (period + 1).start_time
    except ValueError:
        raise InputError(
            f"{text!r} is not a period: expected YYYY, YYYYQn, YYYY-MM or YYYY-MM..YYYY-MM"
        ) from None
    if end <= start:
        raise InputError(f"period {text!r} ends before it starts")
    return Window(text, start, end)


def misaligned_with_quarters(window: Window) -> bool:
    """Whether ``window`` starts or ends inside a quarter (a quarterly panel cannot count it).

    Parameters
    ----------
    window : Window

    Returns
    -------
    bool
    """
    return bool((window.start.month - 1) % 3 or (window.end.month - 1) % 3)


def quarter_window_problems(
    start: str | None,
    end: str | None,
    keys: tuple[str, str] = ("start", "end"),
    file: str | None = None,
) -> list[Problem]:
    """A problem for a quarterly window's first or last month (``YYYY-MM``) that cuts a quarter.

    A quarterly panel counts whole quarters, so ``start: 2018-02`` had counted January's
    events and ``end: 2020-11`` December's, outside the window asked for.

    Parameters
    ----------
    start, end : str or None
        The window's first and last months (None: not given, nothing to check).
    keys : (str, str)
        The study keys or CLI options that gave them, for the messages.
    file : str, optional
        The file they came from.

    Returns
    -------
    list of Problem
    """
    problems = []
    for value, key, months, which in (
        (start, keys[0], (1, 4, 7, 10), "first"),
        (end, keys[1], (3, 6, 9, 12), "last"),
    ):
        if value is None or parse_month(value, key).month in months:
            continue
        year = str(value)[:4]
        expected = (
            f"the {which} month of a quarter (the periods are quarters), "
            f"e.g. {year}-{months[0]:02d} or {year}-{months[-1]:02d}"
        )
        problems.append(Problem(file, None, key, expected, str(value)))
    return problems


def comparison_order(a: str, b: str) -> str | None:
    """Why windows ``a`` (before) and ``b`` (after) cannot be compared, or None if they can.

    Growth is read from the earlier window to the later: the reverse pair had printed "fell
    from 73 in 2024 to 10 in 2021", and overlapping windows share months, which the tests of
    a rate ratio take as independent.

    Parameters
    ----------
    a, b : str
        The two windows as written (see :func:`parse_window`).

    Returns
    -------
    str or None
        What the user should write instead, or None.

    Raises
    ------
    InputError
        When ``a`` or ``b`` is not a window.
    """
    first, second = parse_window(a), parse_window(b)
    if first.end <= second.start:
        return None
    if second.end <= first.start:
        return f"the earlier window first: {b}:{a}, not {a}:{b}"
    return f"windows that do not overlap ({a} and {b} share months)"


def date_bound(text: str, end: bool, what: str) -> pd.Timestamp:
    """Start (or, with ``end``, the first day after) a year, quarter, month or day.

    Accepts ``YYYY``, ``YYYYQn``, ``YYYY-MM`` and ``YYYY-MM-DD``: the inclusive date filters of
    event selection.

    Parameters
    ----------
    text : str
        The year, quarter, month or day as written.
    end : bool
        Return the first day after it instead of its start.
    what : str
        Name of the option or field, used in the error.

    Returns
    -------
    pandas.Timestamp

    Raises
    ------
    InputError
        Naming ``what`` when the text is none of these forms.
    """
    value = str(text).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = pd.Timestamp(value)
            return day + pd.Timedelta(days=1) if end else day
        window = parse_window(value) if ".." not in value else None
    except (ValueError, InputError):
        window = None
    if window is None:
        raise _bad(what, "YYYY, YYYYQn, YYYY-MM or YYYY-MM-DD", text)
    return window.end if end else window.start


def period_start(dates: pd.Series | pd.DatetimeIndex, freq: Freq) -> pd.Series:
    """Floor dates to the first day of their month or quarter (missing dates stay missing).

    Parameters
    ----------
    dates : pandas.Series or pandas.DatetimeIndex
    freq : {"month", "quarter"}

    Returns
    -------
    pandas.Series

    Raises
    ------
    ValueError
        When ``freq`` is neither.
    """
    if freq not in _PANDAS_FREQ:
        raise ValueError(f"freq must be 'month' or 'quarter', not {freq!r}")
    dates = pd.to_datetime(pd.Series(dates))
    return dates.dt.to_period(_PANDAS_FREQ[freq]).dt.start_time


def period_range(start: pd.Timestamp, end: pd.Timestamp, freq: Freq) -> pd.DatetimeIndex:
    """Period starts from the period containing ``start`` to the one containing ``end``.

    Parameters
    ----------
    start, end : pandas.Timestamp
    freq : {"month", "quarter"}

    Returns
    -------
    pandas.DatetimeIndex
        Empty when ``end`` lies in an earlier period than ``start``.

    Raises
    ------
    ValueError
        When ``freq`` is neither.
    """
    if freq not in _PANDAS_FREQ:
        raise ValueError(f"freq must be 'month' or 'quarter', not {freq!r}")
    code = _PANDAS_FREQ[freq]
    periods = pd.period_range(
        pd.Timestamp(start).to_period(code), pd.Timestamp(end).to_period(code)
    )
    return periods.to_timestamp(how="start")


def period_end(start: pd.Timestamp, freq: Freq) -> pd.Timestamp:
    """First day after the month or quarter that contains ``start``.

    Parameters
    ----------
    start : pandas.Timestamp
    freq : {"month", "quarter"}

    Returns
    -------
    pandas.Timestamp

    Raises
    ------
    ValueError
        When ``freq`` is neither.
    """
    if freq not in _PANDAS_FREQ:
        raise ValueError(f"freq must be 'month' or 'quarter', not {freq!r}")
    return (pd.Timestamp(start).to_period(_PANDAS_FREQ[freq]) + 1).start_time


def quarter_of(date: pd.Timestamp) -> str:
    """The quarter that contains ``date``, as ``YYYYQn`` (2024-11-01 -> ``2024Q4``).

    Parameters
    ----------
    date : pandas.Timestamp

    Returns
    -------
    str
    """
    return str(pd.Timestamp(date).to_period("Q"))


def parse_origin(text: str, freq: str, what: str = "--origin") -> pd.Timestamp:
    """A forecast origin as a study of ``freq`` reads it: the first day of the last month the
    model sees.

    A monthly study takes ``YYYY-MM``. A quarterly one takes a quarter (``2024Q1``, the label
    its JSON prints) or the last month of one (``2024-03``): a month inside a quarter had been
    accepted and read as the whole quarter, so the model saw months after the one asked for.

    Parameters
    ----------
    text : str
    freq : {"month", "quarter"}
    what : str
        The option, for the message.

    Returns
    -------
    pandas.Timestamp
        The first day of the last month the model sees (for a quarter, its last month).

    Raises
    ------
    InputError
        Naming ``what`` and the forms the study's periods allow.
    """
    value = str(text).strip()
    if freq == "quarter":
        if _QUARTER.fullmatch(value.upper()):
            return parse_quarter(value, what).asfreq("M", "end").start_time
        month = parse_month(value, what) if _MONTH.fullmatch(value) else None
        if month is None or month.month % 3:
            raise _bad(
                what,
                "a quarter (2024Q1) or its last month (2024-03): the study's periods are quarters",
                text,
            )
        return month
    return parse_month(value, what)
