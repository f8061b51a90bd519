"""Numbers as a reader sees them, shared by the models' sentences and the reports."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


def format_probability(p: float | None) -> str:
    """A forecast probability as a percentage that never reads as certain.

    Probabilities are estimated from a finite number of sample paths, so an estimate of 0 or
    1 means "below or above what the samples resolve", not impossibility or certainty; it is
    shown as ``<0.1%`` or ``>99.9%`` (baselines that really give 0 or 1 are labelled apart).

    Parameters
    ----------
    p : float or None
        A probability between 0 and 1.

    Returns
    -------
    str
        One decimal below 1% and above 99%, none between; empty for None or a non-finite value.
    """
    if p is None or not np.isfinite(p):
        return ""
    if p < 0.001:
        return "<0.1%"
    if p > 0.999:
        return ">99.9%"
    if p < 0.01 or p > 0.99:
        return f"{100 * p:.1f}%"
    return f"{100 * p:.0f}%"


def probability_range(low: float, high: float) -> str:
    """An interval of probabilities, e.g. ``75-99%`` or ``99.6% to >99.9%``.

    Parameters
    ----------
    low, high : float
        The interval's limits, probabilities between 0 and 1.

    Returns
    -------
    str
    """
    a, b = format_probability(low), format_probability(high)
    if a.endswith("%") and b.endswith("%") and a[:1].isdigit() and b[:1].isdigit():
        if "." not in a + b:
            return f"{a[:-1]}-{b}"
    return f"{a} to {b}"


def format_p_value(p: float | None) -> str:
    """A p-value as a reader expects it: ``<0.001`` rather than ``0.00``.

    Parameters
    ----------
    p : float or None

    Returns
    -------
    str
        Three decimals below 0.1, two from 0.1; empty for None or a non-finite value.
    """
    if p is None or not np.isfinite(p):
        return ""
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def format_ratio(x: float | None, null: float | None = 1.0) -> str:
    """A rate ratio or an interval limit in table form, to the precision its size needs.

    Parameters
    ----------
    x : float or None
    null : float or None
        The value of no change. A value that is not ``null`` never prints as it (``0.996``
        is ``0.996``, not ``1.00``: beside "excludes no change" that read as a contradiction);
        None for a point estimate, which needs no such care.

    Returns
    -------
    str
        Two decimals from 0.1 up (``2.15``), one from 10 (``24.8``), none from 100 (``909``,
        ``1,234``), two significant figures in fixed point below 0.1 (``0.0011``, never
        ``0.00``, which reads as "no events", nor ``1e-05``); ``"0"`` for zero; blank when
        undefined or infinite.
    """
    if x is None or not np.isfinite(x):
        return ""
    x = float(x)
    if x == 0:
        return "0"

    def fixed(v: float) -> str:
        if v >= 100:
            return f"{v:,.0f}"
        if v >= 10:
            return f"{v:.1f}"
        if v >= 0.1:
            return f"{v:.2f}"
        return f"{v:.{1 - math.floor(math.log10(v))}f}"  # two significant figures

    text = fixed(x)
    # rounding can carry a value into the next band (9.996 -> "10.00"): format the rounded one
    text = fixed(float(text.replace(",", "")))
    digits = 3
    while null is not None and x != null and float(text.replace(",", "")) == null:
        text = f"{x:.{digits}f}"
        digits += 1
    return text


def format_growth_pct(x: float | None) -> str:
    """A growth rate in percent a year, or a limit of its interval, as the sentences and the
    tables both write it: signed, whole, with decimals only where the whole number reads 0.

    Parameters
    ----------
    x : float or None
        Percent a year (``82.8`` for +82.8%).

    Returns
    -------
    str
        ``+83%``, ``-2%``, ``+0.4%`` (never ``+0%`` for a rate that is not zero); blank when
        undefined or infinite.
    """
    if x is None or not np.isfinite(x):
        return ""
    x = float(x)
    digits = 0
    while x != 0 and float(f"{x:.{digits}f}") == 0 and digits < 4:
        digits += 1
    return f"{x:+.{digits}f}%"


def format_difference(x: float, digits: int = 3) -> str:
    """A signed score difference (Brier), to ``digits`` decimals, or more where it would read
    0 at that precision, so its sign still says which side of 0 it lies ("-0.0004", where
    "+0.000" beside 0.189 against 0.190 read as a contradiction); "+0.000" only at 0.

    Parameters
    ----------
    x : float
    digits : int

    Returns
    -------
    str
    """
    if not np.isfinite(x):
        return f"{x:+}"
    while x != 0 and float(f"{x:.{digits}f}") == 0 and digits < 8:
        digits += 1
    return f"{x:+.{digits}f}"


def join_nonempty(*parts: str) -> str:
    """The non-empty parts, one space apart: a report's banner (the synthetic-data banner, the
    data files' notes) or a summary bullet whose clauses may be empty (an empty one had left
    two spaces).

    Parameters
    ----------
    *parts : str
        The pieces of text, in order; empty ones are skipped.

    Returns
    -------
    str
    """
    return " ".join(p for p in parts if p)


def as_sentences(head: str, caveats: str) -> str:
    """``head`` as one sentence and each clause of ``caveats`` (clauses that each begin "; ")
    as its own, capitalised; semicolons inside parentheses stay. Text of ``caveats`` before
    its first "; " stays in the head's sentence. No final full stop: callers add it.

    Clauses run together had made sentences of 100-120 words in the reports (the real
    study's Sahel growth sentence, Tillabéri's chance of a first event).

    Parameters
    ----------
    head : str
    caveats : str

    Returns
    -------
    str
    """
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(caveats):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and caveats.startswith("; ", i):
            parts.append(caveats[start:i])
            start = i + 2
    parts.append(caveats[start:])
    rest = [p for p in parts[1:] if p]
    head += parts[0]
    return ". ".join([head, *(p[:1].upper() + p[1:] for p in rest)])


def format_unbounded(fmt: Callable[[float], str]) -> Callable[[float], str]:
    """``fmt`` with ``+inf`` printed as "∞".

    A ratio and its upper limit are unbounded where the earlier window had no event; printed
    blank they read like the cells of a comparison without any event, which has nothing to
    show (the real overview's Centre-Nord beside Centre-Est).

    Parameters
    ----------
    fmt : callable
        Formatter of a finite float (e.g. :func:`format_ratio`).

    Returns
    -------
    callable
    """

    def cell(x: float) -> str:
        return "∞" if x == np.inf else fmt(x)

    return cell


def format_ratio_estimate(x: float | None) -> str:
    """A ratio's point estimate in table form: :func:`format_ratio`'s precision, without the
    extra digits that keep a limit off the null (``1.004`` prints as ``1.00``).

    Parameters
    ----------
    x : float or None
        The ratio.

    Returns
    -------
    str
        Blank when None or not finite.
    """
    return format_ratio(x, null=None)


def join_words(items: Any, last: str = "and") -> str:
    """``["a", "b", "c"]`` as "a, b and c" (or "a, b or c" with ``last="or"``).

    Parameters
    ----------
    items : iterable of str
    last : str
        The word before the last item.

    Returns
    -------
    str
        Empty for no items, the item itself for one.
    """
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


#: The score tables' column beside a CRPS skill that gives its interval over origins (the
#: methods appendix's tables and the region reports' per-step evidence). Its name holds
#: neither "skill" nor "coverage", which :func:`score_formats` would format as numbers.
SKILL_INTERVAL_COLUMN = "its 90% interval (over origins)"


def format_skill_interval(low: float, high: float) -> str:
    """A skill interval as a table cell, "-1.1% to +6.3%"; empty when either limit is not
    finite (too few origins to compute one).

    Parameters
    ----------
    low, high : float
        The interval's limits as fractions (0.063 for +6.3%).

    Returns
    -------
    str
    """
    if not (np.isfinite(low) and np.isfinite(high)):
        return ""
    return f"{_signed_percent(low)} to {_signed_percent(high)}"


def format_skill(skill: float, low: float = float("nan"), high: float = float("nan"),
                 level: float = 0.9) -> str:  # fmt: skip
    """A CRPS skill in percent with its interval when it has one: "+1.2% (90% interval -7.3%
    to +8.6%)", or "+1.2%".

    Parameters
    ----------
    skill : float
        1 - model CRPS / baseline CRPS.
    low, high : float
        The interval's limits (NaN: none shown).
    level : float
        The interval's level.

    Returns
    -------
    str
    """
    text = _signed_percent(skill)
    if np.isfinite(low) and np.isfinite(high):
        text += f" ({100 * level:.0f}% interval {_signed_percent(low)} to {_signed_percent(high)})"
    return text


def _signed_percent(x: float) -> str:
    """``+1.2%``; a value that rounds to 0.0 gets a second decimal so its sign still shows
    which side of 0 it lies (an interval read "-0.0% to +7.4%"), and is 0.0% only at 0."""
    if round(100 * x, 1) != 0:
        return f"{100 * x:+.1f}%"
    if round(100 * x, 2) != 0:
        return f"{100 * x:+.2f}%"
    return "0.0%"


def format_share(share: float, low: float = float("nan"), high: float = float("nan"),
                 level: float = 0.9) -> str:  # fmt: skip
    """A share (a coverage) in whole percent with its interval when it has one: "67% (90%
    interval 56%-81%)", or "67%".

    Parameters
    ----------
    share : float
        Between 0 and 1.
    low, high : float
        The interval's limits (NaN: none shown).
    level : float
        The interval's level.

    Returns
    -------
    str
    """
    text = f"{100 * share:.0f}%"
    if np.isfinite(low) and np.isfinite(high):
        text += f" ({100 * level:.0f}% interval {100 * low:.0f}%-{100 * high:.0f}%)"
    return text


def score_formats(columns: Any) -> dict[str, Any]:
    """Formatters of a score table's skill and coverage columns, in the form the text quotes
    them: skills as signed percentages ("+2.7%", :func:`format_skill`), coverages as whole
    percentages ("73%", :func:`format_share`); mean CRPS to three significant digits
    (:func:`format_crps`). The tables had printed 0.027 and 0.726 beside sentences reading +2.7%
    and 73%, and a skill just below 0 as "-0.000".

    Parameters
    ----------
    columns : iterable of str
        The table's column names; a name with "skill" or "coverage" in it is formatted.

    Returns
    -------
    dict
        Column name to formatter, for :func:`analysis.report.show.table`'s ``formats``.
    """
    out: dict[str, Any] = {}
    for c in columns:
        name = str(c).lower()
        if "skill" in name:
            out[c] = format_skill
        elif "coverage" in name:
            out[c] = format_share
        elif name in ("crps", "baseline crps"):
            out[c] = format_crps
    return out


def format_crps(value: float) -> str:
    """A mean CRPS to three significant digits: quiet regions' scores are near 0.01, where
    three decimals printed "0.012" beside "0.012" and a skill of +4.0% between them.

    Parameters
    ----------
    value : float

    Returns
    -------
    str
        Empty for a missing value.
    """
    if not np.isfinite(value):
        return ""
    return f"{value:#.3g}" if abs(value) < 1 else f"{value:,.3f}"


def period_label(start: Any, freq: str | None = "month") -> str:
    """A panel period as readers write it: ``2021-01`` for a month, ``2021Q1`` for a quarter.

    Panels store a period by its first day, so a quarter 2021Q1 is 2021-01-01; written as a
    month it read as January alone (quarterly reports said "From 2021-01 to 2021-07" of
    forecasts that ran to the end of September).

    Parameters
    ----------
    start : timestamp-like
        The period's first day (any day inside it gives the same label).
    freq : {"month", "quarter"} or None
        The panel's frequency (``panel.attrs["freq"]``); None reads as a month, as panels
        without the attribute are monthly.

    Returns
    -------
    str
    """
    stamp = pd.Timestamp(start)
    if freq == "quarter":
        return str(stamp.to_period("Q"))
    if freq in ("month", None):
        return f"{stamp:%Y-%m}"
    raise ValueError(f"freq must be 'month' or 'quarter', not {freq!r}")


def period_unit(freq: str | None = "month", n: float = 1) -> str:
    """The word for ``n`` panel periods: "month" or "months", "quarter" or "quarters".

    Parameters
    ----------
    freq : {"month", "quarter"} or None
        The panel's frequency; None reads as a month.
    n : float
        The count the word follows; only 1 takes the singular.

    Returns
    -------
    str
    """
    if freq not in ("month", "quarter", None):
        raise ValueError(f"freq must be 'month' or 'quarter', not {freq!r}")
    word = freq or "month"
    return word if n == 1 else f"{word}s"
