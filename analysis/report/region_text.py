"""Sentences and tables of the region report: data, actors, growth, forecast and its evidence.

Every function takes computed results and returns a data frame with reader-facing column
names or a sentence; the statistics live in the model layer (:mod:`analysis.models.risk`,
:mod:`analysis.growth`, :mod:`analysis.evaluation`). Spillover and onset sentences, which
the overview shares, are in :mod:`analysis.report.spillover_text`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.formatting import (
    SKILL_INTERVAL_COLUMN,
    format_difference,
    format_growth_pct,
    format_p_value,
    format_probability,
    format_ratio,
    format_ratio_estimate,
    format_share,
    format_skill,
    format_skill_interval,
    format_unbounded,
    join_words,
    period_label,
    period_unit,
)
from analysis.models.risk import WindowForecast

if TYPE_CHECKING:
    from analysis.growth.coverage import CoverageRanges

#: The study's selection steps (:attr:`analysis.pipeline.StudyData.selection`, in the order
#: applied) and the data table's row for the rows each one leaves out.
SELECTION_STEPS = {
    "actors": "Left out: not involving the study's actors",
    "event_types": "Left out: not of the study's event types",
    "acled_violence": "Left out: ACLED events other than political violence (battles, "
    "explosions/remote violence, violence against civilians)",
    "countries": "Left out: outside the study's countries",
    "window": "Left out: outside the study's window",
    "in_panel": "Left out: no admin-1 unit of the study (set aside)",
}


#: The region report's one pointer to the methods appendix's Terms (its ``## Terms`` heading's
#: anchor), shown once, after the summary where the first technical terms appear. Where the
#: appendix is not rendered beside the report the link becomes plain words
#: (:func:`analysis.report.render.drop_dead_links`).
TERMS_POINTER = (
    "Technical terms (overdispersion, own-lag share, CRPS and its skill, coverage, the models' "
    "names) are explained under [Terms](methods.html#Terms) in the methods appendix."
)


def data_summary(
    events: pd.DataFrame,
    panel: pd.DataFrame,
    region_id: str,
    inputs: list[dict[str, Any]],
    selection: dict[str, int] | None = None,
    as_of: str = "",
) -> pd.DataFrame:
    """The data behind a region report as an ``item``/``value`` table.

    From the rows read to the events in the study, every row is accounted for: the rows each
    selection step leaves out (actors, event types, countries, window, admin-1 unit) and,
    for a report as of an earlier quarter, those after it, so that the rows read minus the
    rows left out are the events in the study (the table had shown 8,351 rows read, 0 set
    aside and 629 events, leaving the filters' 7,722 rows unexplained).

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
    selection : dict, optional
        Rows after each selection step (:attr:`analysis.pipeline.StudyData.selection`:
        ``ingested``, then the keys of :data:`SELECTION_STEPS` the study applies); without it
        the table gives the rows read and the events only.
    as_of : str
        The report's quarter (``YYYYQn``), empty for the whole window.

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
        ("Sources", ", ".join(source_name(s) for s in sources) or "unknown"),
        ("Data files", str(len(inputs))),
        *_row_accounting(inputs, selection or {}, int(panel["events"].sum()), as_of),
        ("Events in this region", f"{int(in_region['events'].sum()):,}"),
        (_fatalities_label(sources), f"{int(in_region['fatalities'].sum()):,}"),
        (
            f"{freq.capitalize()}s with at least one event in this region",
            f"{int((in_region['events'] > 0).sum())} of {len(in_region)}",
        ),
        (
            "Window",
            f"{period_label(periods.min(), freq)} to {period_label(periods.max(), freq)} "
            f"({freq}ly, {panel['region_id'].nunique()} regions)",
        ),
    ]
    if len(events):
        rows.append(
            (
                "Event dates",
                f"{events['date_start'].min():%Y-%m-%d} to {events['date_start'].max():%Y-%m-%d}",
            )
        )
    return pd.DataFrame(rows, columns=["item", "value"])


def source_name(source: str) -> str:
    """How the data table names a source (an ingest manifest code), as the readers name it.

    Parameters
    ----------
    source : str
        ``ucdp``, ``acled`` or ``csv``; any other code is shown as it is.

    Returns
    -------
    str
    """
    from analysis.sources.common import FORMAT_NAMES

    return FORMAT_NAMES[source][0] if source in FORMAT_NAMES else source


#: What each source's fatality figure is: UCDP's column is its best estimate, ACLED's the
#: reported number it calls conservative.
FATALITY_FIGURES = {"ucdp": "UCDP's best estimate", "acled": "as ACLED reports them"}


def _fatalities_label(sources: list[str]) -> str:
    """The data table's fatalities row, saying what figure each source gives."""
    figures = [FATALITY_FIGURES[s] for s in sources if s in FATALITY_FIGURES]
    return "Fatalities in this region" + (f" ({'; '.join(figures)})" if figures else "")


def _row_accounting(
    inputs: list[dict[str, Any]], selection: dict[str, int], in_study: int, as_of: str
) -> list[tuple[str, str]]:
    """Rows read, the rows each step leaves out, and the events in the study: the first minus
    the others is the last."""
    read = sum(int(i.get("rows", 0)) for i in inputs)
    rows = [("Rows read", f"{read:,}")]
    if not selection:
        return [*rows, ("Events in the study (all regions)", f"{in_study:,}")]
    left = read
    steps = {"ingested": "Left out while reading", **SELECTION_STEPS}
    for step, label in steps.items():
        if step in selection and not (step == "ingested" and selection[step] == left):
            rows.append((label, f"{left - int(selection[step]):,}"))
            left = int(selection[step])
    if left != in_study:
        # the panel is cut at the report's quarter; anything else would be a bug to show
        label = f"Left out: after {as_of}" if as_of else "Left out: not counted in the panel"
        rows.append((label, f"{left - in_study:,}"))
    return [*rows, ("Events in the study (all regions)", f"{in_study:,}")]


def region_with_neighbours(
    region_id: str, boundaries: Any, limit: int = 8, within: Any = None
) -> list[str]:
    """The region followed by its first-order neighbours (at most ``limit`` of them).

    With ``within`` (the study's region ids) only neighbours in the study are listed and
    counted toward ``limit``: a unit outside the study has no counts to show, and counting it
    would push study units (Tambacounda next to Kayes) out of the table and the figure.

    Parameters
    ----------
    region_id : str
        The region's ISO 3166-2 code.
    boundaries : Boundaries or None
        The study's boundaries (None: the shipped ones).
    limit : int, optional
        Neighbours listed at most; default 8.
    within : collection of str, optional
        The study's region ids; by default every neighbour counts.

    Returns
    -------
    list of str
        ``region_id`` first, then the neighbours' ids.
    """
    from analysis.geography import neighbours

    around = neighbours(region_id, boundaries=boundaries)
    if within is not None:
        keep = set(within)
        around = [r for r in around if r in keep]
    return [region_id, *around[:limit]]


#: Readable names of UCDP GED's three types of violence (``type_of_violence`` 1-3, read as
#: :data:`analysis.sources.ucdp.VIOLENCE_TYPES`), as the UCDP codebook names them. Only rows
#: whose ``source`` is ``ucdp`` are renamed: ACLED's event types are already words.
UCDP_EVENT_TYPES = {
    "state-based": "State-based conflict",
    "non-state": "Non-state conflict",
    "one-sided": "One-sided violence",
}


def recent_events(events: pd.DataFrame, region_id: str, n: int = 5) -> pd.DataFrame:
    """The ``n`` latest events in a region, with the columns a reader checks (notes cut short).

    UCDP's event types get their codebook names (:data:`UCDP_EVENT_TYPES`), and a column that
    is empty in every row shown is left out (UCDP has no notes: the real report showed an
    empty notes column). Strings are otherwise returned as they are in the data; display them
    with :func:`analysis.report.show.table`, which escapes them. Columns are headed in words
    (:data:`RECENT_EVENT_COLUMNS`).

    Parameters
    ----------
    events : DataFrame
        The study's events, with ``region_id``, ``date_start`` (datetime), ``event_id``,
        ``event_type``, ``actor1``, ``actor2``, ``fatalities``, ``notes`` and optionally
        ``source``.
    region_id : str
        The region's ISO 3166-2 code.
    n : int, optional
        Events shown; default 5.

    Returns
    -------
    DataFrame
        Latest first (within a day, the deadliest first); ``attrs["not_shown_same_day"]``
        counts the events of the earliest day shown that are left out.
    """
    cols = ["date_start", "event_type", "actor1", "actor2", "fatalities", "notes"]
    rows = events[events["region_id"] == region_id]
    if len(rows) > n:  # sort only the rows on or after the n-th latest date (ties kept)
        rows = rows[rows["date_start"] >= rows["date_start"].nlargest(n).iloc[-1]]
    # within a day the deadliest first: a cut through a day had dropped a 13-fatality event
    # for a 1-fatality one on the real Ségou's 2020-10-06
    deaths = pd.to_numeric(rows["fatalities"], errors="coerce").fillna(-1)
    rows = rows.assign(_deaths=deaths).sort_values(
        ["date_start", "_deaths", "event_id"], ascending=[False, False, True]
    )
    left_out = rows.iloc[n:]
    rows = rows.head(n)
    out = rows.reindex(columns=cols).copy()
    out["date_start"] = out["date_start"].dt.strftime("%Y-%m-%d")
    out["notes"] = out["notes"].astype("string").str.slice(0, 160)
    if "source" in rows.columns:
        ucdp = (rows["source"].astype("string") == "ucdp").fillna(False).to_numpy(bool)
        types = out["event_type"].astype("string")
        out["event_type"] = types.where(~ucdp, types.map(UCDP_EVENT_TYPES).fillna(types))
    blank = [c for c in cols[1:] if len(out) and _empty(out[c])]
    shown = out.drop(columns=blank).rename(columns=RECENT_EVENT_COLUMNS).reset_index(drop=True)
    shown.attrs["not_shown_same_day"] = len(left_out)
    return shown


def recent_events_caption(recent: pd.DataFrame) -> str:
    """The latest-events table's caption: what it holds, and how many events of its earliest
    day it leaves out (the table shows a fixed number of rows, and a day can hold more).

    Parameters
    ----------
    recent : DataFrame
        :func:`recent_events`' table.

    Returns
    -------
    str
        Plain text, ending with a full stop.
    """
    rows = len(recent)
    if not rows:
        return "No event in this region."
    caption = f"The {rows} latest events in this region" if rows > 1 else "The latest event"
    more = int(recent.attrs.get("not_shown_same_day", 0))
    if more:
        day = recent["date"].iloc[-1]
        caption += (
            f"; {more} more event{'s' if more > 1 else ''} of {day}, with as many or fewer "
            f"fatalities, {'are' if more > 1 else 'is'} not shown"
        )
    return caption + "."


#: The latest-events table's headers, as a reader reads them (its header had shown the data's
#: column names: "event_type", "actor1", "actor2").
RECENT_EVENT_COLUMNS = {
    "date_start": "date",
    "event_type": "event type",
    "actor1": "actor 1",
    "actor2": "actor 2",
}


def _empty(column: pd.Series) -> bool:
    """Whether a column holds nothing to read: every value missing or blank."""
    text = column.astype("string").str.strip()
    return bool((text.isna() | (text == "")).all())


def actor_sentence(
    events: pd.DataFrame,
    region_id: str,
    region_name: str,
    actors: list[str] | None = None,
    include_predecessors: bool = False,
    top: int = 3,
) -> str | None:
    """Who fought whom in a region: the study's actor and the sides it fought most.

    UCDP writes the government as ``side_a`` of state-based events, so counting the first
    actor names the opponent ("Government of Mali") rather than the group a study follows.
    Here each event's side matching the study's actor patterns is the actor, and the other
    side its opponent (civilians, in one-sided events).

    Parameters
    ----------
    events : DataFrame
        Canonical events selected by the study.
    region_id, region_name : str
        The region and its display name.
    actors : list of str, optional
        The study's ``actors``; without them the sentence names the most frequent actors.
    include_predecessors : bool
        As in the study.
    top : int
        Opponents named at most.

    Returns
    -------
    str or None
        One sentence (Markdown-safe text is left to the caller), None without events.
    """
    from analysis.events import _contains, actor_patterns

    rows = events[events["region_id"] == region_id]
    if rows.empty:
        return None
    side_a = rows["actor1"].astype("string")
    side_b = rows["actor2"].astype("string")
    if not actors:
        counts = pd.concat([side_a, side_b]).dropna().value_counts()
        named = ", ".join(f"{name} ({n})" for name, n in counts.head(top).items())
        return f"The actors in most of {region_name}'s {len(rows):,} events: {named}."
    combined = "|".join(f"(?:{p})" for p in actor_patterns(actors, include_predecessors))
    # one pattern match over both sides (the pattern is compiled once, not twice)
    is_actor = _contains(pd.concat([side_a, side_b], ignore_index=True), combined)
    a_is_actor = is_actor[: len(rows)]
    b_is_actor = is_actor[len(rows) :] & ~a_is_actor
    own = pd.concat([side_a[a_is_actor], side_b[b_is_actor]]).dropna()
    against = pd.concat([side_b[a_is_actor], side_a[b_is_actor]]).dropna()
    # ties in alphabetical order, so the sentence does not depend on row order
    against = against[against.str.strip() != ""].value_counts().sort_index()
    against = against.sort_values(ascending=False, kind="stable")
    own_counts = own.value_counts().sort_index().sort_values(ascending=False, kind="stable")
    name = str(own_counts.index[0]) if len(own) else ", ".join(actors)
    if include_predecessors and len(own_counts) > 1:
        # the real study's Mopti: "JNIM took part in 210 events", 2015-16's by its
        # predecessors (Katiba Macina, Ansar Dine, AQIM) among them; named by the study's
        # actor, whichever name its events carry most often
        name = join_words([str(a) for a in actors], "or") + _predecessors(len(actors))
    events_word = "event" if len(rows) == 1 else "events"
    sentence = f"In {region_name}, {name} took part in {len(rows):,} {events_word}"
    if against.empty:
        return sentence + "; no opposing side is recorded."
    listed = [f"{side} ({n:,})" for side, n in against.head(top).items()]
    if len(against) == 1:
        # one opponent is not "the sides it fought most" (Sud-Ouest: 1 event, Civilians)
        return sentence + f"; the side it fought or attacked was {listed[0]}."
    return sentence + f"; the sides it fought or attacked most were {join_words(listed)}."


GROWTH_COLUMNS = {
    "period_a": "from",
    "period_b": "to",
    "count_a": "events (from)",
    "count_b": "events (to)",
    "ratio": "ratio",
    "headline_ci_low": "95% CI low",
    "headline_ci_high": "95% CI high",
    "ci_low": "exact CI low (reference)",
    "ci_high": "exact CI high (reference)",
    "annual_growth_pct": "trend a year",
    "trend_ci": "trend 95% CI",
    "p_value": "p (this comparison)",
    "p_value_bh": "p (BH-adjusted)",
    "change_point": "change point",
}
#: The growth table's ratio columns, to the precision their size needs (``0.0011``, ``909``),
#: and its trend as the growth sentence writes it (``+83%``, not ``82.82``).
GROWTH_FORMATS = {
    GROWTH_COLUMNS["ratio"]: format_unbounded(format_ratio_estimate),
    **{
        GROWTH_COLUMNS[c]: format_unbounded(format_ratio)
        for c in ("headline_ci_low", "headline_ci_high", "ci_low", "ci_high")
    },
    GROWTH_COLUMNS["annual_growth_pct"]: format_growth_pct,
}


def _percent_span(span: tuple[float, float]) -> str:
    return f"{100 * span[0]:.0f}-{100 * span[1]:.0f}%"


def growth_method(
    coverage: CoverageRanges | None = None, freq: str = "month", windows: Iterable[str] = ()
) -> str:
    """How the Growth section's intervals are made, above its table (a region with no event in
    either window of every comparison has no table and gets :func:`untested_sentence` instead),
    with the coverage the simulation study measured.

    Parameters
    ----------
    coverage : CoverageRanges, optional
        The run quoted; the one shipped with the package
        (:func:`analysis.growth.coverage.shipped_coverage`) by default.
    freq : {"month", "quarter"}
        The panel's frequency: the dependence the intervals allow for is between its periods.
    windows : iterable of str
        The comparison windows shown (``period_a``, ``period_b``): those shorter than any the
        simulation study drew get its caveat
        (:func:`analysis.growth.coverage.short_windows_sentence`).

    Returns
    -------
    str
        One paragraph and two list items, in Markdown.
    """
    # imported here: the growth package loads scipy's fitting code, which the other sentences
    # of this module (and the overview, which imports it) do not need
    from analysis.growth.coverage import STRONG_OWN_LAG, shipped_coverage, short_windows_sentence

    c = coverage or shipped_coverage()
    unit, units = period_unit(freq), period_unit(freq, 2)
    # the simulation study's series are in periods; windows shorter than its own are named
    short = short_windows_sentence(windows, freq, c)
    return (
        "Ratios compare event rates between the study's windows; the trend is a "
        f"negative-binomial log-linear fit. Conflict counts depend on last {unit}'s, so the "
        "intervals do too:\n\n"
        "- **Headline 95% interval**: for ratios, negative-binomial estimates with standard "
        f"errors that allow for {unit}-to-{unit} dependence (the AR(1) correlation that a "
        "negative-binomial model with an own-lag term implies, estimated from the series, with "
        "its uncertainty; in windows shorter than 24 periods read as a Jeffreys interval on "
        "counts deflated by that variance, as the independent-count one below is); for trends, "
        "that width read on the likelihood of the slope (so a "
        "trend through a handful of events keeps its skew), widened to the interval of a "
        "negative-binomial model with an own-lag term fitted directly. Never narrower than the "
        f"interval that treats {units} as independent (for ratios a Jeffreys interval on "
        "overdispersion-deflated counts, which suits windows with few events better than a Wald "
        f"one). It is the headline because, of the candidates (independent {units}, Newey-West "
        "HAC, a moving-block bootstrap, the own-lag model alone, this one), it came closest to "
        "95% coverage in the simulation study (`benchmarks/growth_coverage.py`, "
        f"{c.scenarios} scenarios, own-lag shares {c.own_lag[0]:g}-{c.own_lag[1]:g}): "
        f"{_percent_span(c.headline)} across the scenarios, where the interval that treats "
        f"{units} as independent covered {_percent_span(c.independent)}. It errs on the wide "
        "side more often than the narrow one: most of all for very sparse series (about 3-4 "
        f"events a window: {_percent_span(c.sparse)}) and for {units} that do not depend on "
        f"each other; in strongly dependent series (own-lag share {STRONG_OWN_LAG:g} or more) "
        f"it can hold as little as {100 * c.strong_dependence_low:.0f}%."
        + (f" {short}" if short else "")
        + "\n"
        "- **Exact interval** (reference): conditional "
        "binomial (Clopper-Pearson); exact only for independent Poisson counts, and too narrow "
        f"when counts are overdispersed or {units} depend on each other. It is also "
        "conservative by construction (built to hold at least 95%, so it often holds more), "
        f"so where a region's counts show little overdispersion or dependence the headline, "
        "which aims at 95%, can be a little narrower at both ends."
    )


def tested(table: pd.DataFrame) -> bool:
    """Whether any comparison of a region's growth rows has something to show: an event in
    either window (a ratio), or a trend fitted over the months from one window to the other
    (which can hold events the windows do not).

    Parameters
    ----------
    table : DataFrame
        The region's rows of the growth table (:meth:`StudyGrowth.region`), with ``count_a``,
        ``count_b`` and optionally ``annual_growth_pct``.

    Returns
    -------
    bool
    """
    events = (table["count_a"].astype(float) + table["count_b"].astype(float)) > 0
    trend = (
        np.isfinite(table["annual_growth_pct"].astype(float))
        if "annual_growth_pct" in table.columns
        else False
    )
    return bool((events | trend).any())


def untested_sentence(table: pd.DataFrame, region_name: str, freq: str = "month") -> str:
    """The Growth section of a region with nothing to show (:func:`tested`): why it has no
    table, in place of the intervals' method; ``freq`` names the periods the trend counts.

    Parameters
    ----------
    table : DataFrame
        The region's rows of the growth table, with ``period_a`` and ``period_b``.
    region_name : str
        The region's name, as the sentence shows it.
    freq : str, optional
        ``"month"`` (the default) or ``"quarter"``: the panel's period.

    Returns
    -------
    str
    """
    periods = sorted({str(p) for p in table["period_a"]} | {str(p) for p in table["period_b"]})
    return (
        f"{region_name} had no event in {join_words(periods, 'or')}, so there is no ratio or "
        f"test to give, and too few {period_unit(freq, 2)} with events from {periods[0]} to "
        f"{periods[-1]} "
        "(fewer than 3) for a trend; the figure shows its counts beside its neighbours'."
    )


def growth_display(table: pd.DataFrame) -> pd.DataFrame:
    """The reader's columns of :func:`analysis.growth.growth_table`, renamed in plain words;
    unbounded ratios and limits (no event in the earlier window) stay infinite, which
    :data:`GROWTH_FORMATS` prints as "∞", and a comparison without events is blank (NaN).

    Parameters
    ----------
    table : DataFrame
        Rows of :func:`analysis.growth.growth_table` (a region's).

    Returns
    -------
    DataFrame
        Columns renamed by :data:`GROWTH_COLUMNS`; p-values, trend interval and change point
        as text.
    """
    shown = table.reindex(columns=list(GROWTH_COLUMNS)).copy()
    # a comparison without any event has no ratio or interval at all
    bounds = ["ratio", "headline_ci_low", "headline_ci_high", "ci_low", "ci_high"]
    shown[bounds] = shown[bounds].astype(float).replace(-np.inf, np.nan)
    untested = (shown["count_a"].astype(float) + shown["count_b"].astype(float)) == 0
    shown.loc[untested, bounds] = np.nan
    for col in ("p_value", "p_value_bh"):
        # a comparison without events is no test: its placeholder p-value is not shown
        shown[col] = [
            "" if gone else format_p_value(p) for p, gone in zip(shown[col], untested, strict=True)
        ]
    if "annual_growth_ci" in table.columns:
        shown["trend_ci"] = [
            f"{format_growth_pct(ci[0])} to {format_growth_pct(ci[1])}"
            if np.all(np.isfinite(ci))
            else ""
            for ci in (np.asarray(c, dtype=float) for c in table["annual_growth_ci"])
        ]
    shown["change_point"] = [
        _change_point_cell(row) for row in table.reindex(columns=_CHANGE_POINT_KEYS).itertuples()
    ]
    return shown.rename(columns=GROWTH_COLUMNS)


_CHANGE_POINT_KEYS = ["change_point", "change_point_best", "change_point_p_value",
                      "change_point_p_bh"]  # fmt: skip


def _change_point_cell(row: Any) -> str:
    """The change point found, or "none", with the test's p-value and its study-wide
    adjustment: the adjustment counts these tests, so the reader sees what it adjusted (the
    real Sahel's p 0.032 had stood behind a bare "none")."""
    label = row.change_point if isinstance(row.change_point, str) else None
    p, p_bh = row.change_point_p_value, row.change_point_p_bh
    if not (isinstance(p, float | int) and np.isfinite(p)):
        return label or "none"
    tested = f"p {format_p_value(p)}"
    if isinstance(p_bh, float | int) and np.isfinite(p_bh):
        tested += f", BH-adjusted {format_p_value(p_bh)}"
    if label:
        return f"{label} ({tested})"
    best = row.change_point_best if isinstance(row.change_point_best, str) else None
    return f"none (likeliest {best}: {tested})" if best else f"none ({tested})"


def p_value_sentence(table: pd.DataFrame) -> str:
    """What the growth table's two p-values are: the comparison's own test, and the study-wide
    Benjamini-Hochberg adjustment with the number of tests it spans; and that the intervals
    are not adjusted. The region report says this once, here (its Growth section's opening had
    said it again); the summary's growth sentence gives the consequence for the region's own
    comparison (:func:`analysis.growth.sentence._multiplicity_clause`).

    Parameters
    ----------
    table : DataFrame
        Rows of :func:`analysis.growth.growth_table` (with ``bh_family_size``).

    Returns
    -------
    str
        Empty when the table has no adjusted p-values.
    """
    if "p_value_bh" not in table.columns or table["p_value_bh"].isna().all():
        return ""
    size = table["bh_family_size"].iloc[0] if "bh_family_size" in table.columns else None
    tests = f" ({int(size)} tests)" if size is not None and np.isfinite(size) else ""
    return (
        "p (this comparison) is the largest of three tests of an unchanged rate (negative-"
        "binomial likelihood ratio, exact conditional, and the test that goes with the "
        "dependence-aware interval: below 0.05 when that interval excludes 1, also where a "
        "window is empty and the interval has one finite end); p "
        "(BH-adjusted) is that p-value adjusted by Benjamini-Hochberg once for "
        "the whole study, together with every other comparison and change-point test of every "
        f"region{tests}, the same numbers as in the overview's ranking; a comparison without "
        "an event in either window is not a test and has none. The change point column gives "
        "the likeliest month for a change in the trend's slope with its test's p-value, "
        "unadjusted and adjusted with the others; it names that month as a change point only "
        "where the adjusted p-value is below 0.05. The intervals, the trend's "
        "included, are not adjusted: among many regions, some ratio intervals exclude 1, and "
        "some trend intervals 0, by chance."
    )


def dependence_sentence(table: pd.DataFrame, region_name: str, freq: str = "month") -> str:
    """How much month-to-month dependence widened a region's latest growth interval.

    Parameters
    ----------
    table : DataFrame
        Rows of :func:`analysis.growth.growth_table` for one region.
    region_name : str
    freq : {"month", "quarter"}
        The panel's frequency: the correlation is between its consecutive periods.

    Returns
    -------
    str
        E.g. "In Kayes, 2021 to 2024, the estimated month-to-month correlation is 0.42; allowing
        for it makes the 95% interval of the ratio 1.4 times as wide (on the log scale) as the
        one that treats months as independent." (The exact interval is no yardstick: it is
        conservative by construction, and the overdispersion-aware interval can be the shorter
        one where counts show little overdispersion.)
    """
    row = table.iloc[-1]
    rho = float(row.get("own_lag", np.nan))
    lo, hi = float(row["headline_ci_low"]), float(row["headline_ci_high"])
    elo, ehi = float(row["nb_ci_low"]), float(row["nb_ci_high"])
    unit, units = period_unit(freq), period_unit(freq, 2)
    where = f"In {region_name}, {row['period_a']} to {row['period_b']}"
    if not np.isfinite(rho):
        return f"{where}, the {unit}-to-{unit} correlation could not be estimated."
    text = f"{where}, the estimated {unit}-to-{unit} correlation is {rho:.2f}"
    if rho < 0:
        # the residuals' lag-1 correlation can be negative by chance or by alternation; an
        # own-lag model cannot be, and the headline never narrows below independent months
        text += (
            f" (below 0: busy {units} tended to be followed by quieter ones, possibly by chance); "
            "the interval is not narrowed for a negative correlation"
        )
        # imported here, as in growth_method: the growth package loads its fitting code
        from analysis.growth.sentence import headline_is_independent

        if headline_is_independent(row):
            return text + (
                f", so the 95% interval of the ratio is the one that treats {units} as independent."
            )
        # the AR(1) part, read on a small df and averaged over the correlation's uncertainty,
        # can still reach past the independent interval (the real Boucle du Mouhoun: 1.35 below
        # 1.50), and the hull keeps it: the table's interval is not the independent one
        return text + (
            f", but the uncertainty of that estimate widens it: the 95% interval of the ratio, "
            f"{format_ratio(lo)}-{format_ratio(hi)}, is wider than the one that treats {units} "
            f"as independent ({_nb_interval(elo, ehi)})."
        )
    if not all(np.isfinite([lo, hi])) or min(lo, hi) <= 0:
        # one window without events: the interval has one finite end, which allows for the
        # correlation through the same inflation; there is no width to compare
        return text + "; the finite end of the ratio's interval allows for it."
    if all(np.isfinite([lo, hi, elo, ehi])) and min(lo, elo) > 0:
        factor = np.log(hi / lo) / np.log(ehi / elo)
        if factor < 1.05:
            text += (
                "; allowing for it leaves the 95% interval of the ratio as wide as the one that "
                f"treats {units} as independent (the headline is never narrower)"
            )
        else:
            # the width comes from the correlation and from how uncertain its estimate from a
            # few dozen months is (the interval averages over it): near 0 it is the latter
            text += (
                f"; allowing for it, and for the uncertainty of that estimate, makes the 95% "
                f"interval of the ratio {factor:.1f} times as wide (on the log scale) as the one "
                f"that treats {units} as independent ({_nb_interval(elo, ehi)})"
            )
    return text + "."


def _nb_interval(low: float, high: float) -> str:
    """The independent-count negative-binomial interval, which the growth table does not show:
    named with its limits so that a width compared with it is not read against the table's
    exact interval (the demo's Kayes: 1.4 times the NB interval's log width, 1.7 times the
    exact one's)."""
    return (
        f"negative-binomial, {format_ratio(low)}-{format_ratio(high)}, not in the table, "
        "which gives the exact interval"
    )


def counted_noun(
    actors: list[str] | tuple[str, ...] | None, include_predecessors: bool = False
) -> str:
    """What a study's growth sentences count, capitalised: "Events involving JNIM" when the
    study selects actors, else "Events" (an event is not always an attack: UCDP's include
    clashes the actor did not start).

    Parameters
    ----------
    actors : list of str, optional
        The study's ``actors``.
    include_predecessors : bool
        As in the study: the count then holds the predecessor groups' events too (the real
        study's 2015-17 counts are mostly theirs, JNIM being formed in March 2017).

    Returns
    -------
    str
    """
    names = [str(a) for a in (actors or []) if str(a).strip()]
    if not names:
        return "Events"
    groups = _predecessors(len(names)) if include_predecessors else ""
    return f"Events involving {join_words(names, 'or')}{groups}"


def _predecessors(actors: int) -> str:
    """The words naming the predecessor groups of ``actors`` actors a study counts too."""
    return f" or {'its' if actors == 1 else 'their'} predecessor groups"


def forecast_table(fc: Any, region_id: str, freq: str = "month") -> pd.DataFrame:
    """One region's forecast per step: mean, 90% interval, P(at least one event).

    Parameters
    ----------
    fc : analysis.models.forecast.ForecastResult
    region_id : str
    freq : {"month", "quarter"}
        The panel's frequency, for the period labels.

    Returns
    -------
    DataFrame
        ``period`` (``YYYY-MM`` or ``YYYYQn``), ``expected``, ``median``, ``90% interval``,
        ``P(at least 1)``.
    """
    if region_id not in fc.region_ids:
        raise ValueError(f"expected region {region_id!r} in the forecast")
    rows = fc.select([region_id]).to_frame()  # quantiles of this region's paths only
    return pd.DataFrame(
        {
            "period": [period_label(p, freq) for p in pd.to_datetime(rows["period"])],
            # unrounded: the table prints two decimals, and rounding first showed 0.20 for
            # months of 0.16-0.20 whose sum is the summary's total
            "expected": rows["mean"].to_numpy(),
            "median": [f"{m:g}" for m in rows["median"]],
            "90% interval": [
                f"{int(lo)}-{int(hi)}" for lo, hi in zip(rows["q05"], rows["q95"], strict=True)
            ],
            "P(at least 1)": [format_probability(p) for p in rows["p_any"]],
        }
    )


def expected_words(mean: float) -> str:
    """An expected count for a sentence: one decimal, but two below 0.1 (and ``<0.01`` below
    that), so a quiet region's forecast does not read "expects 0.0 events" beside a 2%
    chance of at least one, and the sentence gives the Spillover table's number (0.06, not
    0.1).

    Parameters
    ----------
    mean : float
        Expected events.

    Returns
    -------
    str
    """
    if not np.isfinite(mean) or mean <= 0 or mean >= 0.095:
        return f"{mean:.1f}"
    return "<0.01" if mean < 0.005 else f"{mean:.2f}"


def forecast_sentence(
    w: WindowForecast,
    region_name: str,
    model: str,
    *,
    p_any: bool = True,
    previous: int | None = None,
    freq: str = "month",
) -> str:
    """Plain-language sentence for a :class:`~analysis.models.risk.WindowForecast` (numbers
    already computed).

    Parameters
    ----------
    w : WindowForecast
    region_name : str
    model : str
        What goes between "the" and "forecast": the model's name (``"auto (ensemble_local)"``)
        or a back reference such as ``"same"`` for a second sentence.
    p_any : bool
        Whether to add the window's P(at least one event). A quiet region's report leaves it
        to its onset sentence over the same window, which gives it with its interval.
    previous : int, optional
        Events in the as many periods before the window, said beside the forecast: the
        demo's Kayes expected 20.4 events in the next 3 months after 26 in the last 3, and
        the reader had to find the 26 in the data.
    freq : str
        The panel's period word, for ``previous``, and how the window's periods are labelled.

    Returns
    -------
    str
    """
    before = ""
    if previous is not None:
        periods = freq if w.steps == 1 else f"{w.steps} {freq}s"
        before = f"; {previous:,} in the previous {periods}"
    text = (
        f"From {period_label(w.first, freq)} to {period_label(w.last, freq)}, the {model} "
        "forecast expects "
        f"{expected_words(w.mean)} events in {region_name} (median {w.median:.0f}, "
        f"{100 * w.level:.0f}% interval {w.low:.0f}-{w.high:.0f}{before})"
    )
    if not p_any:
        return text
    return f"{text}; the probability of at least one event in that time is " + (
        format_probability(w.p_any)
    )


def previous_events(panel: pd.DataFrame, region_id: str, periods: int) -> int:
    """Events of ``region_id`` in the last ``periods`` periods of ``panel`` (the data up to
    the forecast origin), for :func:`forecast_sentence`'s ``previous``.

    Parameters
    ----------
    panel : DataFrame
        The panel up to the forecast origin, with ``region_id``, ``period`` and ``events``.
    region_id : str
        The region's ISO 3166-2 code.
    periods : int
        Number of latest periods summed (the forecast window's length).

    Returns
    -------
    int
    """
    rows = panel[panel["region_id"] == region_id].sort_values("period")
    return int(rows["events"].tail(periods).sum())


def trend_forecast_sentence(
    row: Any, w: WindowForecast, evidence: StepEvidence | None = None
) -> str:
    """Where the forecast of the year after the growth table's later window lies outside what
    the fitted trend's interval says about a year's growth, one sentence that says so and why.

    The demo's Kayes read "+83% a year (95% CI +40% to +143%)" and then a forecast of 94.9
    events after 2024's 73 (1.3 times) with nothing joining the two; a reviewer took the
    forecast for a contradiction of the growth section.

    Parameters
    ----------
    row : mapping
        The region's latest row of the growth table (``period_b``, ``count_b``,
        ``exposure_b``, ``annual_growth_ci``).
    w : WindowForecast
        The forecast total over the horizon.
    evidence : StepEvidence, optional
        The backtest's evidence at the forecast's steps: where it says such forecasts ran
        too low (too high) on the side the trend points to, the sentence says so.

    Returns
    -------
    str
        Empty unless ``w`` covers the year that follows a calendar-year window ``period_b``
        of as many periods, and its total over that window's count lies beyond the trend's
        interval on the side the trend points to.
    """
    label = str(row.get("period_b", ""))
    if not (len(label) == 4 and label.isdigit()):  # a calendar year, the trend's unit
        return ""
    later = pd.Period(label, freq="Y")
    count = float(row.get("count_b", np.nan))
    ci = np.asarray(row.get("annual_growth_ci") or (np.nan, np.nan), dtype=float)
    follows = pd.Timestamp(w.first) == (later + 1).start_time
    if not (follows and row.get("exposure_b") == w.steps and count > 0 and np.isfinite(ci).all()):
        return ""
    factor = w.mean / count
    low, high = 1 + ci[0] / 100, 1 + ci[1] / 100
    where = f"{factor:.1f} times {later}'s {count:.0f}"
    if low > 1 and factor < low:
        side, end, slows = "below", "low", "growth"
        bound = format_growth_pct(ci[0])
    elif high < 1 and factor > high:
        side, end, slows = "above", "high", "fall"
        bound = format_growth_pct(ci[1])
    else:
        return ""
    text = (
        f"The forecast of {expected_words(w.mean)} events is {where}, {side} the {end} end of "
        f"the fitted trend's interval ({bound} a year): the report model's candidates damp "
        f"any trend, so it expects the {slows} to slow. That is the candidates' assumption, "
        "not something the data show"
    )
    # The sentence had ended "the backtest quoted here, not the trend, is the evidence for
    # it" beside a backtest whose forecasts ran too low (the demo's Kayes): the backtest
    # judges how such forecasts fared, and where it found them short on the trend's side,
    # this total is likely short too.
    bias = evidence.bias if evidence is not None else ""
    if bias.endswith(end):
        probably = "probably " if bias.startswith("probably") else ""
        text += (
            f"; in the backtest above such forecasts have {probably}run too {end}, so this "
            f"total is likely too {end} as well"
        )
    return text + "."


def summary_model(model: str, auto_name: str, *, onset_driven: bool) -> str:
    """The model a summary sentence names: its group's candidates, or, for a quiet region whose
    chance of an event is the onset model's (:attr:`StudyResults.onset_driven`), that model, as
    the candidates are named ("auto (onset model)"), so the sentence does not credit
    candidates that did not give its number; the region's onset sentence says more. A longer
    parenthesis ("auto (for this quiet region, the onset model's chance of a first event)
    forecast expects") did not parse on first reading.

    Parameters
    ----------
    model : str
        :meth:`analysis.report.context.StudyResults.model_for` of the region's group.
    auto_name : str
        The report model's name.
    onset_driven : bool

    Returns
    -------
    str
    """
    if not onset_driven:
        return model
    return f"{auto_name} (onset model)"


def model_fields(
    auto_name: str, focus_plan: str | None, other_plan: str | None, single: str
) -> dict[str, str]:
    """The Forecast section's model line, as the values of ``Model: **{model}**{groups}``.

    Parameters
    ----------
    auto_name : str
        The report model's name (``auto``).
    focus_plan, other_plan : str or None
        The focus regions' and the other regions' candidates in words
        (:meth:`analysis.report.context.StudyResults.plan_label`).
    single : str
        The model in the summary's words when one plan serves every region (or there is no
        plan): :meth:`analysis.report.context.StudyResults.model_for`.

    Returns
    -------
    dict
        ``model`` and ``groups`` (empty unless the two groups' plans differ).
    """
    if focus_plan != other_plan:
        groups = f": for the focus regions, {focus_plan}; for the other regions, {other_plan}"
        return {"model": auto_name, "groups": groups}
    return {"model": single, "groups": ""}


def choice_sentence(evidence: dict[str, Any]) -> str:
    """Why ``auto`` chose its candidates, saying which scores it read: its own inner backtest,
    not the Evidence section's.

    The fair CRPS that ``auto`` quotes (e.g. 1.6986 for ensemble_local at steps 1-3 on the
    demo) is a different quantity from the evidence table's CRPS at the same steps (about
    1.77): other origins (the latest ones whose steps of a block are observed before the
    forecast origin), the candidate before spread calibration, the fair estimator rather
    than the 1/M**2 one, and its own sample paths, whose Monte Carlo error is of the order of
    the difference (docs/internals.md, "Report results").

    Parameters
    ----------
    evidence : dict
        :attr:`analysis.models.auto.AutoFitted.evidence` (``reason``, ``block_origins``); empty
        for a model that chose nothing.

    Returns
    -------
    str
        Plain text, without a final full stop.
    """
    reason = str(evidence.get("reason") or "no choice was needed")
    blocks = evidence.get("block_origins") or {}
    if not blocks:
        return reason
    steps, origins = next(iter(blocks.items()))
    return (
        "Chosen on auto's own backtest inside the history, before the forecast origin: the "
        "fair CRPS of each candidate, before spread calibration, at the "
        f"{len(origins)} latest origins whose steps of a block are observed (for steps "
        f"{steps}, {origins[0]} to {origins[-1]}), not the evidence table's scores below "
        "(calibrated forecasts at other origins). For each group and block of steps it takes "
        "the lowest-scoring candidate, or a simpler one within Monte Carlo error of it. "
        + _group_reasons(evidence.get("groups") or {}, reason)
    )


#: How :func:`choice_sentence` names auto's groups.
_GROUP_NAMES = {"focus": "Focus regions", "other": "Other regions", "all": "All regions"}


def _group_reasons(groups: dict[str, Any], reason: str) -> str:
    """Each group's choice as its own sentence, its blocks after commas ("Focus regions: steps
    1-3, ensemble_local ...; steps 4-6, ..."), without a final full stop; ``reason`` (auto's
    one-line form) without the groups' blocks. One line of every group's blocks had made the
    demo's model line a sentence of 191 words."""
    parts = []
    for name, group in groups.items():
        blocks = group.get("blocks") or []
        if not blocks:
            parts.append(f"{_GROUP_NAMES.get(name, name)}: {group.get('reason', '')}")
            continue
        said = "; ".join(f"steps {b['steps']}, {b['reason']}" for b in blocks)
        parts.append(f"{_GROUP_NAMES.get(name, name)}: {said}")
    return ". ".join(parts) if parts else reason[:1].upper() + reason[1:]


def switch_sentence(
    switches: list[tuple[int, str, str]],
    periods: Any,
    *,
    onset_driven: bool = False,
    freq: str = "month",
) -> str | None:
    """What a step in the forecast between two quarters is: a change of candidate.

    Parameters
    ----------
    switches : list of (int, str, str)
        :meth:`analysis.models.auto.AutoFitted.switches` of the region's group: the first step
        (1-based) of each new candidate, the candidate before and the one after.
    periods : sequence of Timestamp
        The forecast's target periods, step 1 first.
    onset_driven : bool
        The region is quiet and its paths are the onset model's first-event paths
        (``ReportResults.onset_driven``): no candidate's paths reach its forecast, so a change
        of candidate explains nothing in it (the demo's Guidimaka report had said it did).
    freq : {"month", "quarter"}
        The panel's frequency, for the period labels.

    Returns
    -------
    str or None
        ``None`` when one candidate serves every step shown, or the region is onset-driven.
    """
    shown = [(s, a, b) for s, a, b in switches if 2 <= s <= len(periods)]
    if not shown or onset_driven:
        return None
    at = join_words(
        f"between {period_label(periods[s - 2], freq)} and {period_label(periods[s - 1], freq)}"
        f" ({a} to {b})"
        for s, a, b in shown
    )
    return (
        f"The forecast changes candidate {at}, as chosen above for each block of steps: any "
        "jump in the expected counts there comes from that change of model, not from a "
        "forecast of a sudden change."
    )


def region_group(bt: Any, region_id: str) -> str:
    """The backtest group (focus, active or quiet) a region fell in at the last origin.

    Parameters
    ----------
    bt : BacktestResult
        A backtest whose ``scores`` have a ``group`` column.
    region_id : str
        The region's ISO 3166-2 code.

    Returns
    -------
    str
        ``"quiet"`` when the region has no score at the last origin.
    """
    s = bt.scores
    last = s[(s["origin"] == s["origin"].max()) & (s["region_id"] == region_id)]
    return str(last["group"].iloc[0]) if len(last) else "quiet"


def evidence_scope_sentence(origins: int, stride: int, horizon: int) -> str:
    """What the region report's evidence table scores: ``auto`` as the reports run it, its
    choice of candidates and spread calibration redone at every origin from the history
    before it (the methods appendix's backtest, at the report's steps).

    Parameters
    ----------
    origins, stride : int
        Origins span the last ``origins`` periods, one every ``stride`` periods.
    horizon : int
        Steps scored here (the report's horizon).

    Returns
    -------
    str
        Plain text (no Markdown: :func:`analysis.report.show.markdown` escapes values).
    """
    every = "every period" if stride == 1 else f"every {_ordinal(stride)} period"
    return (
        f"What is scored: auto as this report runs it, refitted at rolling origins over the "
        f"last {origins} periods ({every}), each time choosing its candidates and calibrating "
        "their spread on the history before that origin only, and scored on what happened "
        f"next at steps 1-{horizon}, for the regions of this region's group (focus, active or "
        "quiet): CRPS against the best baseline of the ladder (skill above 0 means better), "
        "and the share of outcomes inside the central 80% of the forecast (randomised PIT, so "
        "80% is calibrated). The table's best baseline is the best over all its steps; the "
        "summary judges each of its sentences' steps against the baseline best at those steps."
    )


def _ordinal(n: int) -> str:
    words = {2: "second", 3: "third", 4: "fourth", 6: "sixth", 12: "twelfth"}
    return words.get(n, f"{n}th")


#: The evidence table's baseline column: one baseline for every row, the best over all of
#: the table's steps (a step's own best can differ; the summary sentences use each one's).
BASELINE_COLUMN = "baseline (best over all steps)"


def evidence_table(card: dict[str, Any], model: str, group: str) -> pd.DataFrame:
    """Per forecast step, for one group of regions: the model's CRPS, the best baseline's
    (chosen over all steps of the group), the skill and the randomised-PIT 80% and 90%
    coverage (90%: the level of the intervals the report quotes).

    ``card`` is :func:`analysis.evaluation.scorecard` of a backtest with a ``group`` column.

    Parameters
    ----------
    card : dict
        The scorecard, with ``by_group_horizon`` and ``by_group``.
    model : str
        The model whose scores the table shows.
    group : str
        ``focus``, ``active`` or ``quiet``.

    Returns
    -------
    DataFrame
        One row per step; no rows when the group, its baselines or ``model`` are missing.
    """
    rows = pd.DataFrame(card["by_group_horizon"])
    rows = rows[rows["group"] == group]
    overall = pd.DataFrame(card["by_group"])
    overall = overall[(overall["group"] == group) & overall["is_baseline"]]
    if rows.empty or overall.empty or model not in set(rows["model"]):
        return pd.DataFrame(columns=["step", "CRPS", BASELINE_COLUMN, "baseline CRPS",
                                     "CRPS skill", "80% coverage (randomised PIT)",
                                     "90% coverage (randomised PIT)",
                                     "outcomes"])  # fmt: skip
    base = str(overall.sort_values("crps").iloc[0]["model"])
    m = rows[rows["model"] == model].set_index("step")
    b = rows[rows["model"] == base].set_index("step")
    return pd.DataFrame(
        {
            "step": m.index.astype(int),
            "CRPS": m["crps"].to_numpy(),
            BASELINE_COLUMN: base,
            "baseline CRPS": b["crps"].reindex(m.index).to_numpy(),
            "CRPS skill": (1 - m["crps"] / b["crps"].reindex(m.index)).to_numpy(),
            "80% coverage (randomised PIT)": m["pit_coverage_80"].to_numpy(),
            # the level of every interval the report quotes: its own check beside the 80%
            "90% coverage (randomised PIT)": (
                m["pit_coverage_90"].to_numpy() if "pit_coverage_90" in m else np.nan
            ),
            "outcomes": m["n_forecasts"].astype(int).to_numpy(),
        }
    )


def with_step_intervals(
    table: pd.DataFrame, scores: pd.DataFrame, model: str, group: str, level: float = 0.9
) -> pd.DataFrame:
    """An :func:`evidence_table` for display, with each step's skill interval over origins
    beside its skill (:data:`~analysis.formatting.SKILL_INTERVAL_COLUMN`): the table had given
    point values only, a focus region's on 10-12 outcomes a step (the real Mopti's -18.5% and
    -22.2% read as findings). A step with too few origins for an interval gets an empty cell.

    Parameters
    ----------
    table : DataFrame
        :func:`evidence_table`.
    scores : DataFrame
        The backtest's per-forecast scores (with ``group``).
    model : str
        The report model's name there.
    group : str
    level : float

    Returns
    -------
    DataFrame
        A copy; ``table`` itself when it is empty.
    """
    from analysis.evaluation import skill_intervals

    if table.empty:
        return table
    base = str(table[BASELINE_COLUMN].iloc[0])
    mine = scores[scores["group"] == group]
    cells = []
    for step in table["step"]:
        ev = skill_intervals(mine[mine["step"] == step], model, base, level=level)
        cells.append(format_skill_interval(ev["skill_low"], ev["skill_high"]))
    out = table.copy()
    out.insert(out.columns.get_loc("CRPS skill") + 1, SKILL_INTERVAL_COLUMN, cells)
    return out


def _at_steps(table: pd.DataFrame, steps: tuple[int, int] | None) -> pd.DataFrame:
    """The rows of an :func:`evidence_table` at steps ``first..last`` (all without ``steps``)."""
    if steps is None:
        return table
    first, last = steps
    return table[(table["step"] >= first) & (table["step"] <= last)]


def evidence_skill(table: pd.DataFrame, steps: tuple[int, int] | None = None) -> float:
    """Pooled CRPS skill against the best baseline of an :func:`evidence_table`.

    Mean CRPS over every scored forecast (each step weighted by its outcomes), then
    ``1 - model / baseline``: the pooling of :func:`analysis.evaluation.scorecard`, so the
    number is the one the scorecard and the methods appendix would give for the same forecasts
    (an unweighted mean over steps gave the late steps, with fewer outcomes, more weight).

    Parameters
    ----------
    table : DataFrame
        :func:`evidence_table`.
    steps : (int, int), optional
        First and last step to pool; all without it.

    Returns
    -------
    float
        NaN when the baseline's CRPS is 0 (a group without events: skill is undefined).
    """
    rows = _at_steps(table, steps)
    n = rows["outcomes"].to_numpy(float)
    base = float((rows["baseline CRPS"].to_numpy(float) * n).sum())
    if base <= 0:
        return float("nan")
    return float(1 - (rows["CRPS"].to_numpy(float) * n).sum() / base)


#: Where a coverage is called too narrow (or too wide): at least this confidence that the true
#: coverage is below (above) the nominal one by the margin, and "probably" from the second.
COVERAGE_CLEAR, COVERAGE_PROBABLE = 0.95, 0.90


@dataclass(frozen=True)
class StepEvidence:
    """The evidence table over a range of steps: pooled skill and 80% coverage, each with its
    interval over origins (:func:`analysis.evaluation.skill_intervals`).

    Attributes
    ----------
    first, last : int
        Steps pooled.
    baseline : str
        The group's best baseline (the table's).
    skill, skill_low, skill_high : float
        Pooled CRPS skill (:func:`evidence_skill`) and its interval.
    coverage, coverage_low, coverage_high : float
        Randomised-PIT 80% coverage and its interval.
    below, above : float
        Confidence that the true coverage is more than
        :data:`analysis.evaluation.CALIBRATION_MARGIN` below / above 80%.
    high, high_low, high_high : float
        Share of outcomes above the forecast's median (randomised PIT above 0.5; 0.5 when
        the forecasts are not biased) and its interval.
    high_over, high_under : float
        Confidence that that share is more than the same margin above / below 0.5.
    coverage_90, coverage_90_low, coverage_90_high : float
        Randomised-PIT 90% coverage, the level of the intervals the reports quote, and its
        interval.
    below_90, above_90 : float
        Confidence that the true 90% coverage is more than the same margin below / above
        90%.
    printed_90 : float
        The share of outcomes inside the 90% intervals as printed (closed at whole counts,
        from the sample quantiles), which holds a count more often than the randomised PIT
        says.
    outcomes, origins : int
    behind : tuple of int
        Steps at which the model's CRPS is above the baseline's.
    clearly_behind : tuple of int
        Those of them whose own skill interval (over origins, at ``level``) lies wholly below
        0.
    clearly_ahead : tuple of int
        The other steps whose own skill interval lies wholly above 0.
    level : float
        Level of the intervals.
    """

    first: int
    last: int
    baseline: str
    skill: float
    skill_low: float
    skill_high: float
    coverage: float
    coverage_low: float
    coverage_high: float
    below: float
    above: float
    outcomes: int
    origins: int
    behind: tuple[int, ...]
    level: float
    high: float = float("nan")
    high_low: float = float("nan")
    high_high: float = float("nan")
    high_over: float = float("nan")
    high_under: float = float("nan")
    coverage_90: float = float("nan")
    printed_90: float = float("nan")
    coverage_90_low: float = float("nan")
    coverage_90_high: float = float("nan")
    below_90: float = float("nan")
    above_90: float = float("nan")
    clearly_behind: tuple[int, ...] = ()
    clearly_ahead: tuple[int, ...] = ()

    @property
    def steps(self) -> str:
        """``"1-3"``, or ``"1"`` for one step."""
        return f"{self.first}" if self.first == self.last else f"{self.first}-{self.last}"

    @property
    def calibration(self) -> str:
        """``"too narrow"``, ``"probably too narrow"``, the same for wide, or ``""``."""
        return share_verdict((self.below, "narrow"), (self.above, "wide"))

    @property
    def calibration_90(self) -> str:
        """:attr:`calibration` of the 90% intervals (the level the reports quote)."""
        return share_verdict((self.below_90, "narrow"), (self.above_90, "wide"))

    @property
    def bias(self) -> str:
        """``"too low"`` when outcomes fell above the forecast's median more often than half
        the time (as clearly as :attr:`calibration` asks of coverage), ``"probably too low"``,
        the same for high, or ``""``: the direction a PIT histogram piled at one end shows."""
        return share_verdict((self.high_over, "low"), (self.high_under, "high"))

    def probable_note(self, kind: str) -> str:
        """For a "probably" verdict, the confidence it rests on: "(93% confidence that the
        true coverage is below 77.5%)". Such a verdict needs 90% confidence on one side, so
        the two-sided 90% interval printed beside it can still hold the nominal value (the
        demo's Kayes read "above its median 66% (90% interval 49%-82%), so it has probably
        run too low"). Empty for a firm verdict or none.

        Parameters
        ----------
        kind : str
            ``"80"`` (:attr:`calibration`), ``"90"`` (:attr:`calibration_90`) or ``"bias"``.

        Returns
        -------
        str
            :func:`probable_note` of that verdict.
        """
        verdict, below, above, centre, what = {
            "80": (self.calibration, self.below, self.above, 0.8, "the true coverage is"),
            "90": (self.calibration_90, self.below_90, self.above_90, 0.9, "the true coverage is"),
            "bias": (self.bias, self.high_under, self.high_over, 0.5,
                     "the true share above the median is"),
        }[kind]  # fmt: skip
        return probable_note(verdict, below, above, centre, what)

    @property
    def standing(self) -> str:
        """:func:`skill_standing` of this skill and its interval."""
        return skill_standing(self.skill, self.skill_low, self.skill_high)

    @property
    def within_uncertainty(self) -> str:
        """ ", not distinguishable from that baseline" where the interval holds 0, else empty
        (a point value of either sign inside such an interval is no edge and no shortfall)."""
        if self.standing != "unclear":
            return ""
        return standing_phrase("unclear", "that baseline")


def standing_phrase(standing: str, ref: str = "it") -> str:
    """ ", ahead of it", ", behind it" or ", not distinguishable from it" for a
    :func:`skill_standing` (``ref`` names the baseline).

    Parameters
    ----------
    standing : str
        ``"ahead"``, ``"behind"`` or ``"unclear"``.
    ref : str, optional
        Words naming the baseline; default ``"it"``.

    Returns
    -------
    str
    """
    return {"ahead": f", ahead of {ref}", "behind": f", behind {ref}",
            "unclear": f", not distinguishable from {ref}"}[standing]  # fmt: skip


def skill_standing(skill: float, low: float, high: float) -> str:
    """``"ahead"`` or ``"behind"`` the best baseline where the skill's interval excludes 0,
    ``"unclear"`` where it holds 0; by the point value alone without an interval.

    Parameters
    ----------
    skill : float
        CRPS skill against the best baseline (a fraction; above 0 is better).
    low, high : float
        The skill's interval (NaN without one).

    Returns
    -------
    str
    """
    if not (np.isfinite(low) and np.isfinite(high)):
        return "ahead" if skill >= 0 else "behind"
    return "ahead" if low > 0 else ("behind" if high < 0 else "unclear")


def probable_note(verdict: str, below: float, above: float, centre: float, what: str) -> str:
    """The confidence behind a "probably" verdict of :func:`share_verdict`: "(93% confidence
    that the true coverage is below 77.5%)" (``what`` names the share, ``centre`` its nominal
    value, ``below``/``above`` the confidences of missing it by more than the margin on each
    side); empty for a firm verdict or none. See :meth:`StepEvidence.probable_note`.

    Parameters
    ----------
    verdict : str
        :func:`share_verdict`'s result.
    below, above : float
        Confidences (0 to 1) that the true share is below or above ``centre`` by more than
        :data:`analysis.evaluation.CALIBRATION_MARGIN`.
    centre : float
        The nominal share (0.8, 0.9, or 0.5 for the share above the median).
    what : str
        Words naming the share, e.g. ``"the true coverage is"``.

    Returns
    -------
    str
        Starting with a space, in parentheses; empty unless ``verdict`` starts with "probably".
    """
    from analysis.evaluation import CALIBRATION_MARGIN

    if not verdict.startswith("probably"):
        return ""
    low_side = bool(np.nan_to_num(below) >= np.nan_to_num(above))
    confidence = below if low_side else above
    edge = centre - CALIBRATION_MARGIN if low_side else centre + CALIBRATION_MARGIN
    side = "below" if low_side else "above"
    # one-sided, and so said: beside a two-sided 90% interval that holds the nominal value it
    # had read as a contradiction
    return f" (one-sided, {100 * confidence:.0f}% confidence that {what} {side} {100 * edge:g}%)"


def share_verdict(*sides: tuple[float, str]) -> str:
    """``"too <word>"`` for the first side whose confidence reaches
    :data:`COVERAGE_CLEAR`, ``"probably too <word>"`` from :data:`COVERAGE_PROBABLE`, else
    ``""``.

    Parameters
    ----------
    *sides : tuple of (float, str)
        Each side's confidence (0 to 1) that the share is off on that side, and the word
        for it (``"narrow"``, ``"wide"``, ``"low"``, ``"high"``), in the order checked.

    Returns
    -------
    str
    """
    for share, word in sides:
        if share >= COVERAGE_CLEAR:
            return f"too {word}"
        if share >= COVERAGE_PROBABLE:
            return f"probably too {word}"
    return ""


_INTERVALS = ("skill_low", "skill_high", "coverage_low", "coverage_high", "coverage_below",
              "coverage_above", "above_median", "above_median_low", "above_median_high",
              "above_median_over_half", "above_median_under_half", "printed_90",
              "coverage_90_low", "coverage_90_high", "coverage_90_below",
              "coverage_90_above")  # fmt: skip


def step_evidence(
    table: pd.DataFrame,
    scores: pd.DataFrame | None,
    model: str,
    group: str,
    steps: tuple[int, int] | None = None,
    level: float = 0.9,
    baselines: Collection[str] | None = None,
) -> StepEvidence | None:
    """The evidence over a range of steps, with its sampling uncertainty.

    The point values are the table's, pooled (:func:`evidence_skill`); the intervals and the
    shares below/above 80% come from the same backtest's per-forecast scores
    (:func:`analysis.evaluation.skill_intervals`, whose point values are the same numbers).
    With ``baselines`` and the scores, "the best baseline" is the one best over these steps
    (the overview's rule), not the table's (best over all its steps): at steps 1-3 the demo's
    focus group is best served by recent_mean_3, while the table's recent_mean_6, best over
    steps 1-12, had made the skill at steps 1-3 read -2.1% where the overview read -3.0%. The
    skill and the steps behind are then taken against that baseline from the scores.

    Parameters
    ----------
    table : DataFrame
        :func:`evidence_table` of ``model`` and ``group``.
    scores : DataFrame or None
        The backtest's per-forecast scores (``BacktestResult.scores``) the table's scorecard
        was made from; without them the intervals are NaN (and not quoted).
    model, group : str
    steps : (int, int), optional
        First and last step; all the table's without it.
    level : float
    baselines : collection of str, optional
        The backtest's baselines, from which the best over these steps is picked.

    Returns
    -------
    StepEvidence or None
        None when the table has no row at those steps.
    """
    from analysis.evaluation import best_baseline, skill_intervals

    rows = _at_steps(table, steps)
    if rows.empty:
        return None
    first, last = int(rows["step"].min()), int(rows["step"].max())
    base = str(rows[BASELINE_COLUMN].iloc[0])
    skill = evidence_skill(rows)
    behind = tuple(int(s) for s in rows.loc[rows["CRPS skill"] < 0, "step"])
    clearly: tuple[int, ...] = ()
    ahead: tuple[int, ...] = ()
    if scores is None:
        nan = float("nan")
        boot = {"n_origins": 0, **dict.fromkeys(_INTERVALS, nan)}
    else:
        cut = scores[(scores["group"] == group) & scores["step"].between(first, last)]
        best = best_baseline(cut, list(baselines or ()))
        if best is not None and best != base and model in set(cut["model"]):
            base = best
            per_step = cut.groupby(["model", "step"])["crps"].mean()
            mine, theirs = per_step.loc[model], per_step.loc[base]
            behind = tuple(int(s) for s in mine.index if mine[s] > theirs.get(s, np.inf))
            skill = None  # pooled against the new baseline: the intervals' point value
        boot = skill_intervals(cut, model, base, level=level)
        if skill is None:
            skill = boot["skill"]
        per_step = {
            int(s): skill_intervals(cut[cut["step"] == s], model, base, level=level)
            for s in sorted(set(cut["step"]))
        }
        clearly = tuple(s for s in behind if s in per_step and per_step[s]["skill_high"] < 0)
        ahead = tuple(s for s, iv in per_step.items() if s not in behind and iv["skill_low"] > 0)
    n = int(rows["outcomes"].sum())
    cover = rows["80% coverage (randomised PIT)"].to_numpy(float)
    cover_90 = rows.get("90% coverage (randomised PIT)")
    return StepEvidence(
        first=first,
        last=last,
        baseline=base,
        skill=skill,
        skill_low=boot["skill_low"],
        skill_high=boot["skill_high"],
        coverage=float(np.average(cover, weights=rows["outcomes"])) if n else float("nan"),
        coverage_low=boot["coverage_low"],
        coverage_high=boot["coverage_high"],
        below=boot["coverage_below"],
        above=boot["coverage_above"],
        outcomes=n,
        origins=int(boot["n_origins"]),
        behind=behind,
        clearly_behind=clearly,
        clearly_ahead=ahead,
        level=level,
        high=boot["above_median"],
        high_low=boot["above_median_low"],
        high_high=boot["above_median_high"],
        high_over=boot["above_median_over_half"],
        high_under=boot["above_median_under_half"],
        coverage_90=(
            float(np.average(cover_90.to_numpy(float), weights=rows["outcomes"]))
            if cover_90 is not None and n
            else float("nan")
        ),
        printed_90=boot["printed_90"],
        coverage_90_low=boot["coverage_90_low"],
        coverage_90_high=boot["coverage_90_high"],
        below_90=boot["coverage_90_below"],
        above_90=boot["coverage_90_above"],
    )


def skill_words(ev: StepEvidence) -> str:
    """The skill with its interval: "+1.1% (90% interval -4.4% to +7.2%)".

    Parameters
    ----------
    ev : StepEvidence
        :func:`step_evidence`'s result.

    Returns
    -------
    str
    """
    return format_skill(ev.skill, ev.skill_low, ev.skill_high, ev.level)


def coverage_words(ev: StepEvidence) -> str:
    """The 80% coverage with its interval: "67% of 118 outcomes (90% interval 56%-81%)".

    Parameters
    ----------
    ev : StepEvidence
        :func:`step_evidence`'s result.

    Returns
    -------
    str
    """
    share = format_share(ev.coverage, ev.coverage_low, ev.coverage_high, ev.level)
    return share.replace("%", f"% of {ev.outcomes:,} outcomes", 1)


def evidence_verdict(
    ev: StepEvidence | None, model: str, group: str | None = None, freq: str = "month"
) -> str:
    """The evidence table in one sentence: pooled skill over all its steps with its interval,
    the steps where the model is behind the best baseline, and the 80% coverage with its
    interval, called too narrow (or wide) when the evidence says so
    (:attr:`StepEvidence.calibration`).

    Parameters
    ----------
    ev : StepEvidence or None
        :func:`step_evidence` over every step of the table.
    model : str
    group : str, optional
        The region's group: for ``"quiet"`` the sentence adds that coverage says little there.
    freq : {"month", "quarter"}
        The panel's frequency: origins score the same or neighbouring periods of it.

    Returns
    -------
    str
        Empty without evidence.
    """
    from analysis.evaluation import CALIBRATION_MARGIN

    periods = period_unit(freq, 2)
    if ev is None:
        return ""
    steps = list(ev.behind)
    where = (
        f"its CRPS is above the baseline's at step{'s' if len(steps) > 1 else ''} "
        f"{_step_list(steps)} (each step's point value)"
        if steps
        else "its CRPS is at or below the baseline's at every step (each step's point value)"
    )
    # a pooled "not distinguishable" had hidden steps clearly lost (the real Mopti's steps 2
    # and 5, -18.5% and -22.2%, intervals wholly below 0); the steps clearly won are named
    # too. By chance about one step in 20 would show either, were steps independent; they are
    # not (a reviewer read steps 1, 4, 7 and 10 as four findings: from origins 3 periods
    # apart they score many of the same months)
    sides = [
        (f"at {_steps_words(list(steps))} wholly {side} 0")
        for steps, side in ((ev.clearly_behind, "below"), (ev.clearly_ahead, "above"))
        if steps
    ]
    if sides:
        where += (
            f"; each step's own {100 * ev.level:.0f}% interval lies {' and '.join(sides)} "
            f"(were the steps independent, about one step in {round(2 / (1 - ev.level)):.0f} "
            "would by chance, each way; they are not: steps scored from the same origins, or "
            f"the same {periods} from other origins, move together)"
        )
    origins = f" ({ev.origins} origins)" if ev.origins else ""
    text = (
        f"Over steps {ev.steps}{origins}, {model}'s CRPS is "
        f"{abs(100 * ev.skill):.1f}% {'below' if ev.skill >= 0 else 'above'} the best baseline's "
        f"({ev.baseline}): a CRPS skill of {skill_words(ev)}{ev.within_uncertainty}; {where}. "
        "Its 80% intervals held "
        f"{coverage_words(ev)}"
    )
    if ev.calibration:
        text += f": they have {ev.calibration.replace('too', 'been too')}{ev.probable_note('80')}"
    if np.isfinite(ev.coverage_90):
        printed = (
            f"; the intervals as printed, closed at whole counts, held {100 * ev.printed_90:.0f}%"
            if np.isfinite(ev.printed_90)
            else ""
        )
        coverage = format_share(ev.coverage_90, ev.coverage_90_low, ev.coverage_90_high, ev.level)
        verdict = (
            f", so they have {ev.calibration_90.replace('too', 'been too')}{ev.probable_note('90')}"
            if ev.calibration_90
            else ""
        )
        text += (
            f". At 90%, the level of the intervals this report quotes, the randomised-PIT "
            f"coverage is {coverage}{verdict}{printed}"
        )
    if ev.bias:
        text += (
            f". Outcomes fell above the forecast's median {100 * ev.high:.0f}% of the time "
            f"({100 * ev.level:.0f}% interval {100 * ev.high_low:.0f}%-"
            f"{100 * ev.high_high:.0f}%; 50% if unbiased): the forecasts have "
            f"{ev.bias.replace('too', 'been too')}{ev.probable_note('bias')}"
        )
    if group == "quiet":
        # a forecast of "no events" covers about 80% where nearly every outcome is 0, so the
        # calibrated-looking number would otherwise read as evidence it is not
        text += (
            ". In quiet regions, where almost every outcome is 0, coverage says little: even "
            "a forecast of no events at all covers about 80%; the Brier score of the chance of "
            "a first event (the onset evidence) says more"
        )
    if not origins:
        return text + "."
    return text + (
        ". (Intervals: over the backtest's origins, allowing for the correlation between "
        "forecasts of one region from one origin and between origins that score the same or "
        f"neighbouring {periods}, which a dozen overlapping origins make large. A verdict such as "
        "too narrow or too low needs a confidence of at least 95% (90%: probably) that it "
        f"misses by more than {100 * CALIBRATION_MARGIN:g} points.)"
    )


def brier_gap(card: dict[str, Any], model: str) -> str:
    """ "0.135 against nb_climatology's 0.138, not distinguishable from it (difference -0.003,
    90% interval -0.024 to +0.019)": a Brier score beside the best baseline's, with the
    verdict the interval of their difference gives.

    Parameters
    ----------
    card : dict
        :func:`analysis.evaluation.any_event_scorecard`.
    model : str
        The model whose score is quoted.

    Returns
    -------
    str
    """
    own = card["brier"][model]
    best = card.get("best_baseline")
    if best is None:
        return f"{own:.3f} (no baseline scored)"
    lo, hi = card["difference_low"], card["difference_high"]
    if not (np.isfinite(lo) and np.isfinite(hi)):
        verdict, interval = "not judged (too few independent windows)", ""
    else:
        verdict = (
            "better than it"
            if hi < 0
            else ("worse than it" if lo > 0 else "not distinguishable from it")
        )
        interval = (
            f", {100 * card['level']:.0f}% interval {format_difference(lo)} to "
            f"{format_difference(hi)}"
        )
    return (
        f"{own:.3f} against {best}'s {card['brier'][best]:.3f}, {verdict} (difference "
        f"{format_difference(card['difference'])}{interval})"
    )


def any_event_clause(card: dict[str, Any] | None, model: str, group: str) -> str:
    """The evidence of a window's P(at least one event) for a region report's summary: its
    Brier score on the backtest's windows of that length in the region's group, beside the
    best baseline's (:func:`analysis.evaluation.any_event_scorecard`). Quiet regions' is the
    onset evidence's to give, so they get none here.

    Parameters
    ----------
    card : dict or None
    model : str
        The report model's name.
    group : str
        The region's group.

    Returns
    -------
    str
        Empty for quiet regions or without a scored window.
    """
    if group == "quiet" or not card or not card.get("n"):
        return ""
    # windows that all had an event (or none) leave nothing for a probability to tell apart:
    # the real study's Mopti scored 0.000 against 0.000
    if card.get("with_event") in (0, card["n"]):
        return ""
    return (
        f"Its P(at least one event) over such windows had a Brier score of "
        f"{brier_gap(card, model)} in the backtest ({card['n']:,} {group} "
        "region-windows)."
    )


#: Why the printed and the randomised coverage of the same intervals can fall either side of
#: 90% (:func:`totals_sentence`), said once per report.
PRINTED_COVERAGE_NOTE = (
    "the printed intervals count an outcome on an end count as inside; the randomised measure "
    "counts it as partly outside, which is what tells whether the forecast distribution is "
    "too narrow or too wide"
)


def totals_sentence(
    card: dict | None,
    steps: int,
    freq: str = "month",
    whose: str | None = None,
    *,
    explain: bool = True,
) -> str:
    """How well the 90% intervals of window totals covered the observed totals in the backtest
    (:func:`analysis.evaluation.total_scorecard`): randomised-PIT coverage with its interval and
    verdict, then the share the intervals as printed held, for a sentence that quotes such a
    total. The per-step scores cannot say whether the paths' sums have the right spread.

    Parameters
    ----------
    card : dict or None
        :func:`~analysis.evaluation.total_scorecard` of the report model at ``steps``.
    steps : int
        Window length (periods).
    freq : str
        The panel's period word.
    whose : str, optional
        A model's name in the possessive (``"auto's"``) where "its" would not say whose.
    explain : bool
        Say why the printed and the randomised coverage can fall either side of 90%, where
        they do; a report quoting several windows says it at the first only.

    Returns
    -------
    str
        One sentence; says so when no total of that length could be scored yet.
    """
    window = f"{steps}-{freq} totals"
    if card is None or not card.get("n"):
        return (
            f"No {window} have been scored yet: the backtest has no origin whose next {steps} "
            f"{freq}s are all known."
        )
    cover, low, high = (card[k] for k in ("pit_coverage_90", "pit_coverage_90_low",
                                          "pit_coverage_90_high"))  # fmt: skip
    level = int(round(100 * card["level"]))
    whose_totals = f"{whose} {window}" if whose else f"such {window}"
    origins = int(card["origins"])
    text = (
        f"In the backtest, the randomised-PIT coverage of the 90% intervals of {whose_totals} "
        f"is {100 * cover:.0f}% ({card['n']:,} totals, {origins} origin"
        f"{'s' if origins != 1 else ''}"
    )
    # windows from nearby origins share outcomes, and where they are worth too few
    # independent windows the scorecard gives no interval (origin_inference.MIN_DF)
    bounded = bool(np.isfinite(low) and np.isfinite(high))
    if bounded:
        text += f", {level}% interval {100 * low:.0f}%-{100 * high:.0f}%"
    elif origins > 1:
        # the rule (evaluation.skill_intervals): no interval where it would run from 0% to
        # 100%; a reviewer could not tell why Kayes' 8 totals had none and Mopti's 10 had one
        text += (
            " whose windows overlap: too few independent windows for an interval, which would "
            "run from 0% to 100%"
        )
    text += ")"
    # the per-step coverage's rule: a confidence that it misses by more than the margin
    below = card.get("pit_coverage_90_below", float("nan"))
    above = card.get("pit_coverage_90_above", float("nan"))
    called = share_verdict((below, "narrow"), (above, "wide"))
    if called:
        note = probable_note(called, below, above, 0.9, "the true coverage is")
        text += f", so by that measure they have {called.replace('too', 'been too')}{note}"
    printed = card.get("printed_90", float("nan"))
    if np.isfinite(printed):
        # the intervals the reader sees are closed at whole counts and hold an edge count too
        text += f"; as printed, closed at whole counts, they held {100 * printed:.0f}%"
        if explain and (printed >= card["level"]) != (cover >= card["level"]):
            # the two point opposite ways around 90%: say why, so neither reads as an error
            text += f" ({PRINTED_COVERAGE_NOTE})"
        text += misses_words(
            card.get("printed_90_above"), card.get("printed_90_below"),
            card.get("printed_90_miss_p"),
        )  # fmt: skip
    return text + "."


def misses_words(above: int | None, below: int | None, p: float | None = None) -> str:
    """Which way the totals outside the printed intervals fell, where any did: "; the 3
    totals outside them were all above", "; of the 24 totals outside them, 22 fell above and
    2 below (a test of an even split that allows for dependent totals rejects it, p 0.004:
    the intervals' upper ends ran too low)". The verdict needs ``p`` below 0.05: the test of
    an even split of :func:`analysis.evaluation.skill_intervals` (``printed_90_miss_p``, never
    below the exact sign test's), which allows for totals of nearby origins sharing their
    months. The sign test alone had called 8 of 9 above at p 0.039; no verdict without ``p``.
    Empty without misses or counts.

    Parameters
    ----------
    above, below : int or None
        Totals above the interval's upper end and below its lower end.
    p : float, optional
        Two-sided p-value of an even split over origins.

    Returns
    -------
    str
    """
    if above is None or below is None or above + below == 0:
        return ""
    n = above + below
    # a verdict only where the split itself is evidence: two misses out of 247 had read "the
    # forecasts ran too low", and 22 of 24 above had read as nothing
    end = "upper ends ran too low" if above > below else "lower ends ran too high"
    called = p is not None and np.isfinite(p) and p < 0.05 and above != below
    verdict = (
        f" (a test of an even split that allows for dependent totals rejects it, p "
        f"{format_p_value(p)}: the intervals' {end})"
        if called
        else ""
    )
    if n == 1:
        return f"; the one total outside them was {'above' if above else 'below'}"
    if below == 0 or above == 0:
        every = "both" if n == 2 else "all"
        return (
            f"; the {n} totals outside them were {every} {'above' if above else 'below'}{verdict}"
        )
    return f"; of the {n} totals outside them, {above} fell above and {below} below{verdict}"


def _group_words(group: str) -> str:
    """The evidence's group as a reader of one region's report should take it: the active and
    quiet groups pool every region in that state at each origin (five real region reports
    printed the same "+1.4%" as if each were its own)."""
    if group in ("active", "quiet"):
        return f"every {group} region together, not this one alone"
    return f"{group} group"


def evidence_clause(ev: StepEvidence | None, group: str, *, onset_note: bool = True) -> str:
    """A forecast sentence's evidence at its own steps, for the summary: how the report model
    did against the best baseline there (with the skill's interval) and, when the evidence
    says its 80% intervals covered less (or more) than 80%, that they have been too narrow
    (wide).

    Parameters
    ----------
    ev : StepEvidence or None
        :func:`step_evidence` at the sentence's steps.
    group : str
        The region's backtest group (focus, active or quiet).
    onset_note : bool
        For a quiet region, whether to add that the onset evidence says more (once a summary:
        the demo's Guidimaka had it after both windows and then a link to that evidence).

    Returns
    -------
    str
        One sentence, empty without evidence.
    """
    if ev is None or not np.isfinite(ev.skill):
        return ""
    where = (
        # the count says how thin a one-region group's evidence is (a focus of one region has
        # a few dozen outcomes where "focus regions" suggested many)
        f"In the backtest at step{'s' if ev.first != ev.last else ''} {ev.steps} "
        f"({_group_words(group)}, {ev.outcomes:,} outcomes)"
    )
    lead = {
        "ahead": f"it beat the best baseline ({ev.baseline}): CRPS skill",
        "behind": f"it was behind the best baseline ({ev.baseline}): CRPS skill",
        "unclear": f"its CRPS skill against the best baseline ({ev.baseline}) is",
    }[ev.standing]
    text = f"{where}, {lead} {skill_words(ev)}{ev.within_uncertainty}"
    if group == "quiet" and onset_note:
        # almost every outcome there is 0, where any forecast of "little" scores well
        text += "; in quiet regions the evidence for the onset probabilities, below, says more"
    if ev.calibration:
        text += (
            f"; its 80% intervals held {coverage_words(ev)}, so its intervals have "
            f"{ev.calibration.replace('too', 'been too')}{ev.probable_note('80')}"
        )
    if ev.bias:
        text += (
            f"; outcomes fell above its median {100 * ev.high:.0f}% of the time "
            f"({100 * ev.level:.0f}% interval {100 * ev.high_low:.0f}%-{100 * ev.high_high:.0f}%), "
            f"so it has {ev.bias.replace('too', 'run too')}{ev.probable_note('bias')}"
        )
    return text + "."


def _steps_words(steps: list[int]) -> str:
    """ "step 4" or "steps 2 and 5"."""
    return f"step{'' if len(steps) == 1 else 's'} {_step_list(steps)}"


def _step_list(steps: list[int]) -> str:
    """``[2, 4, 5, 6]`` as "2 and 4-6"."""
    runs: list[list[int]] = []
    for s in steps:
        if runs and s == runs[-1][-1] + 1:
            runs[-1].append(s)
        else:
            runs.append([s])
    return join_words(f"{r[0]}" if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def fitted_trend_windows(results: Sequence[Any]) -> list[tuple[str, str]]:
    """The (first, last) period of each comparison whose trend was fitted: the counts caption
    names only those (Guidimaka's caption had named a trend its legend said was not fitted).

    Parameters
    ----------
    results : sequence of GrowthResult

    Returns
    -------
    list of (str, str)
    """
    return [
        (r.ratio.period_a, r.ratio.period_b) for r in results if np.isfinite(r.trend.growth_pct)
    ]


def forecast_intro(freq: str = "month") -> str:
    """The Forecast section's first paragraph: one model's paths behind every forecast of the
    report, and the dependence between the panel's periods that their totals carry (a
    Markdown cell had said months in quarterly reports too).

    Parameters
    ----------
    freq : str, optional
        ``"month"`` (the default) or ``"quarter"``: the panel's period.

    Returns
    -------
    str
        Markdown written in the package (not escaped).
    """
    return (
        "Every forecast in this report (this section, the spillover section, the summary) comes "
        "from one model's sample paths: the candidates the study's `auto` forecaster chose "
        "(below). Totals are sums over each path, so their intervals carry the dependence "
        f"between {period_unit(freq, 2)}. Intervals in the text and tables are central 90% "
        "predictive intervals."
    )


def counts_caption(region_name: str, freq: str, windows: list[tuple[str, str]]) -> str:
    """Caption of the region's counts figure, which also draws its fitted growth trends.

    Parameters
    ----------
    region_name : str
    freq : str
        The panel's period (``month`` or ``quarter``).
    windows : list of (str, str)
        First and last period of each fitted trend drawn (empty: counts only).

    Returns
    -------
    str
    """
    text = f"Events per {freq} in {region_name} (black) and its neighbouring regions"
    if not windows:
        return text + "."
    spans = "; ".join(f"{a} to {b}" for a, b in windows)
    return (
        f"{text}, with the trend of {region_name} fitted over {spans} (dashed) and its 95% "
        f"confidence band (allowing for overdispersion and {freq}-to-{freq} dependence, and "
        "never narrowed where that dependence is estimated negative)."
    )
