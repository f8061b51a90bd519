"""As-of cuts: what a report written at the end of a quarter may see.

A quarterly report is written as of the end of its quarter, so data present when a past quarter
is re-rendered (later events, later periods, comparisons that reach beyond it) must not leak
into it. Quarters and windows are parsed by :mod:`analysis.periods`.
"""

from __future__ import annotations

import pandas as pd

from analysis.errors import InputError, Problem, parameter_kind
from analysis.periods import parse_quarter, parse_window, period_end, quarter_end


def require_quarter_within(
    quarter: str | None,
    first: str | pd.Timestamp,
    last: str | pd.Timestamp,
    where: str | None = None,
    option: str = "quarter",
) -> None:
    """Refuse an as-of quarter that does not lie within the study's months.

    A quarter after the data's last month gave a report titled "as of the end of" it whose
    forecasts start before that date; one before the first month failed on an empty panel.

    Parameters
    ----------
    quarter : str or None
        ``YYYYQn``; empty or None is the whole study and always allowed.
    first, last : str or Timestamp
        The study's first and last months (``2018-01``, ``2024-12``).
    where : str, optional
        The file the quarter came with (the study), for the message.
    option : str
        Where the quarter was given: a command's ``--quarter`` (named as an option, not as a
        key of the study file it is checked against) or a notebook's parameter ``quarter``.

    Raises
    ------
    InputError
        Naming ``quarter``, the first and last quarters allowed and the study's months.
    """
    if not quarter:
        return
    wanted = parse_quarter(quarter)
    first_month, last_month = pd.Period(first, "M"), pd.Period(last, "M")
    first_q = first_month.asfreq("Q")
    last_q = last_month.asfreq("Q")
    if last_q.asfreq("M", "end") != last_month:
        last_q -= 1  # the study ends within that quarter: a report as of it would miss months
    if first_q <= wanted <= last_q:
        return
    expected = (
        f"a quarter from {first_q} to {last_q}, within the study's months {first_month} to "
        f"{last_month} (a report as of a quarter reads the data up to its end)"
    )
    kind = parameter_kind(option)
    problem = Problem(where, None, option, expected, quarter, kind=kind)
    raise InputError("quarter outside the study", [problem])


def panel_as_of(panel: pd.DataFrame, quarter: str | None) -> pd.DataFrame:
    """Keep the periods that start before the end of ``quarter`` (all of them if none).

    Parameters
    ----------
    panel : DataFrame
        A panel of :func:`analysis.panel.build_panel` (its ``attrs`` are kept).
    quarter : str or None
        ``YYYYQn``; empty or None keeps the whole panel (the same object).

    Returns
    -------
    DataFrame
    """
    if not quarter:
        return panel
    if len(panel):
        last = pd.Timestamp(panel["period"].max())
        if panel.attrs.get("freq") == "quarter":
            last = pd.Period(last, "Q").asfreq("M", "end").start_time
        require_quarter_within(quarter, panel["period"].min(), last)
    out = panel[panel["period"] < quarter_end(quarter)].reset_index(drop=True)
    out.attrs = dict(panel.attrs)
    return out


def events_as_of(events: pd.DataFrame, quarter: str | None) -> pd.DataFrame:
    """Keep events that started before the end of ``quarter`` (all of them if none).

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events with ``date_start``.
    quarter : str or None
        ``YYYYQn``; empty or None keeps every event (the same object).

    Returns
    -------
    pandas.DataFrame
        The events kept, with a fresh index.
    """
    if not quarter:
        return events
    return events[events["date_start"] < quarter_end(quarter)].reset_index(drop=True)


def usable_comparisons(
    compare: list[tuple[str, str]] | list[list[str]], panel: pd.DataFrame
) -> list[tuple[str, str]]:
    """The study's growth comparisons whose windows lie inside the panel's periods.

    A report as of a past quarter drops comparisons that reach beyond it, rather than
    comparing a full window with a partial one.

    Parameters
    ----------
    compare : list of (str, str)
        The study's ``compare`` windows (see :func:`analysis.periods.parse_window`).
    panel : DataFrame
        The panel, already cut to the report's as-of date.

    Returns
    -------
    list of (str, str)
        The comparisons kept, in the study's order.
    """
    first = panel["period"].min()
    last_end = period_end(panel["period"].max(), panel.attrs.get("freq", "month"))
    kept = []
    for a, b in compare:
        wa, wb = parse_window(a), parse_window(b)
        if min(wa.start, wb.start) >= first and max(wa.end, wb.end) <= last_end:
            kept.append((str(a), str(b)))
    return kept
