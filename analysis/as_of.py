"""As-of cuts: what a report written at the end of a quarter may see.

A quarterly report is written as of the end of its quarter, so data present when a past quarter
is re-rendered (later events, later periods, comparisons that reach beyond it) must not leak
into it. Quarters and windows are parsed by :mod:`analysis.periods`.
"""

from __future__ import annotations

import pandas as pd

from analysis.periods import parse_window, period_end, quarter_end


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
    out = panel[panel["period"] < quarter_end(quarter)].reset_index(drop=True)
    out.attrs = dict(panel.attrs)
    return out


def events_as_of(events: pd.DataFrame, quarter: str | None) -> pd.DataFrame:
    """Keep events that started before the end of ``quarter`` (all of them if none)."""
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
