"""Figures for reports: one function per figure, each returning a matplotlib Figure.

Figures take computed results (panels, result objects) and only draw them; no statistics are
computed here. The Agg backend is used so that reports render without a display.

No figure uses a layout engine (constrained or tight layout): each has fixed margins in inches
(:func:`_frame`), wide enough for its labels. A layout engine measures every text of the figure
in one extra full draw before the one that renders it, which made it the larger half of a
report figure's cost.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from analysis.formatting import format_growth_pct  # noqa: E402

PALETTE = "colorblind"


def _style() -> None:
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook", palette=PALETTE)


#: Figures (by label) whose x-axis depends on their size, margins and x-limits alone: every
#: region report of a study draws the same one, so :mod:`analysis.report.pictures` may draw it
#: once and reuse its pixels.
SHARED_X = frozenset({"monthly_counts", "fan_chart"})

#: Empty figures drawn once before reports are forked from this process, by size (inches).
_BLANKS: dict[tuple[float, float], list[Figure]] = {}

#: The sizes of the per-report figures drawn on blanks: the counts (with the growth trends)
#: and the fan chart. (The map stays with pyplot: geopandas draws through ``plt.draw()``.)
BLANK_SIZES = ((9.0, 4.2), (8.0, 3.6))
#: The counts figure's axes reach at most this multiple of the highest count or fitted value
#: drawn; a trend's band above it is cut, and its legend entry says so.
BAND_HEADROOM = 2.0


def prepare_blanks(sizes: Sequence[tuple[float, float]] = BLANK_SIZES) -> None:
    """Make and draw empty report figures for the reports that will be forked from here.

    A figure's first draw creates its ticks (lines and labels, each with its properties),
    about a quarter of the cost of a report figure. Drawn once here, in the batch's fork
    server, each forked report draws on axes whose ticks exist (its own copy of the figure,
    used once); the pictures are the same bytes as on a new figure. In a process that does
    not fork, each blank is simply used once and then new figures are made.

    Parameters
    ----------
    sizes : Sequence of (float, float), optional
        Figure sizes (width, height) in inches, one blank each; :data:`BLANK_SIZES` by default.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    _style()
    for size in sizes:
        fig = Figure(figsize=size)
        FigureCanvasAgg(fig)
        fig.add_subplot()
        _frame(fig)
        fig.canvas.draw()
        _BLANKS.setdefault((float(size[0]), float(size[1])), []).append(fig)


def _subplots(width: float, height: float) -> tuple[Figure, plt.Axes]:
    """A figure with one axes: a prepared blank of that size if one is left, else new."""
    blanks = _BLANKS.get((float(width), float(height)))
    if blanks:
        fig = blanks.pop()
        return fig, fig.axes[0]
    return plt.subplots(figsize=(width, height))


def _colours(n: int) -> list:
    """``n`` line colours: the palette's while it has enough, else ``n`` evenly spaced hues."""
    import seaborn as sns

    palette = sns.color_palette(PALETTE)
    return list(palette[:n] if n <= len(palette) else sns.color_palette("husl", n))


def _frame(
    fig: Figure,
    *,
    left: float = 0.85,
    bottom: float = 0.45,
    right: float = 0.15,
    top: float = 0.15,
    wspace: float | None = None,
    title: bool = False,
    ncols: int | None = None,
    nrows: int = 1,
    hspace: float | None = None,
) -> Figure:
    """Place the axes with fixed margins in inches (instead of a layout engine).

    Parameters
    ----------
    fig : Figure
    left, bottom, right, top : float
        Margins in inches: room for tick labels and axis labels (``left``: up to five
        characters of tick label and the y label at the report's font sizes).
    wspace : float, optional
        Space between panels in inches (figures with several axes in a row).
    title : bool
        Add room for an axes title above.
    ncols, nrows : int
        The grid of panels (default: every axes in one row).
    hspace : float, optional
        Space between rows of panels in inches.
    """
    width, height = fig.get_size_inches()
    top = top + (0.3 if title else 0.0)
    spacing = {}
    if wspace is not None:
        n = max(1, ncols or len(fig.axes))
        panel = (width - left - right - wspace * (n - 1)) / n
        spacing["wspace"] = wspace / panel
    if hspace is not None and nrows > 1:
        panel = (height - top - bottom - hspace * (nrows - 1)) / nrows
        spacing["hspace"] = hspace / panel
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        bottom=bottom / height,
        top=1 - top / height,
        **spacing,
    )
    return fig


def _period_word(panel: pd.DataFrame) -> str:
    """The study's period (``month`` or ``quarter``), as the panel records it."""
    return str(panel.attrs.get("freq", "month"))


def monthly_counts(
    panel: pd.DataFrame,
    region_ids: list[str],
    focus: str | None = None,
    value: str = "events",
    title: str | None = None,
    trends: Sequence = (),
) -> Figure:
    """Counts per period for a focus region and the regions around it.

    Parameters
    ----------
    panel : pandas.DataFrame
        A panel (see ``analysis.panel.build_panel``).
    region_ids : list of str
        Regions to draw, the focus first.
    focus : str, optional
        Drawn thicker and on top.
    value : str
        ``events`` or ``fatalities``.
    title : str, optional
    trends : sequence of analysis.growth.TrendResult
        Fitted trends of the focus region's counts, each drawn over its window with its
        confidence band and labelled with its annual growth and headline interval (what
        :func:`growth_trend` draws, on this figure instead of one more).

    Returns
    -------
    matplotlib.figure.Figure
    """
    _style()
    data = panel[panel["region_id"].isin(region_ids)]
    order = list(dict.fromkeys(data["region_id"]))  # in the panel's order
    data = data.sort_values("period", kind="stable")
    data = data.assign(region=data["region_name"] + " (" + data["region_id"] + ")")
    fig, ax = _subplots(9.0, 4.2)
    fig.set_label("monthly_counts")
    _frame(fig, title=bool(title))
    highlighted = focus is not None and focus in region_ids
    others = [r for r in order if not (highlighted and r == focus)]
    # one line per region in the palette's colours (many regions: evenly spaced hues), drawn
    # with plain matplotlib lines: seaborn's lineplot cost as much as rendering the figure
    colours = _colours(len(others))
    for rid, colour in zip(others, colours, strict=True):
        rows = data[data["region_id"] == rid]
        ax.plot(rows["period"], rows[value], color=colour, label=rows["region"].iloc[0],
                **({"linewidth": 1.0, "alpha": 0.8} if highlighted else {}))  # fmt: skip
    if highlighted:
        main = data[data["region_id"] == focus]
        ax.plot(
            main["period"], main[value], color="black", linewidth=2.2, label=main["region"].iloc[0]
        )
    # the axes are scaled to the counts and the fitted lines, not to a trend's band: a band
    # from a few periods (a quarterly study's 12 quarters) reached 5,700 events a quarter
    # against Mopti's 20 and flattened every series onto the axis
    drawn = [float(data[value].max()) if len(data) else 0.0]
    drawn += [float(np.nanmax(tr.fitted)) for tr in trends if len(getattr(tr, "fitted", []))]
    top = max(1.0, *(d for d in drawn if np.isfinite(d)))
    cut = False
    for tr in trends:
        label = _trend_label(tr)
        if label.startswith("no trend"):
            ax.plot([], [], " ", label=label)
            continue
        periods = pd.DatetimeIndex(tr.periods)
        high = np.asarray(tr.band_high, dtype=float)
        if np.isfinite(high).any() and np.nanmax(high) > BAND_HEADROOM * top:
            cut = True
            label += "; its band runs above the axes"
        ax.plot(periods, tr.fitted, color="black", linestyle="--", linewidth=1.6, label=label)
        ax.fill_between(periods, tr.band_low, tr.band_high, color="black", alpha=0.12,
                        linewidth=0)  # fmt: skip
    if cut:
        ax.set_ylim(0, BAND_HEADROOM * top)
    ax.set_xlabel("")
    ax.set_ylabel(f"{value} per {_period_word(panel)}")
    if title:
        ax.set_title(title, y=1.0)
    legend = ax.legend(fontsize=8, ncol=2, frameon=False, loc="upper left")
    # headroom for the legend's rows, so the counts do not run through its text (the real
    # Mopti figure's trend label sat under the series)
    rows = -(-len(legend.get_texts()) // 2)
    ax.set_ylim(0, ax.get_ylim()[1] * (1 + 0.09 * rows))
    return fig


def _no_trend_label(note: str) -> str:
    """Legend text for a trend that was not fitted, saying "no trend" once."""
    return note if note.startswith("no trend") else f"no trend fitted: {note}"


def _trend_label(tr) -> str:
    """Legend text of a fitted trend: annual growth and its headline interval, or why none."""
    import math

    if not math.isfinite(tr.growth_pct):
        return _no_trend_label(tr.note)
    level = int(round(100 * tr.conf_level))
    # as the growth sentence and table write it: a limit of 0.4% is "+0.4%", never "+0%"
    return (
        f"fitted trend: {format_growth_pct(tr.growth_pct)} a year "
        f"({level}% CI {format_growth_pct(tr.growth_ci[0])} to "
        f"{format_growth_pct(tr.growth_ci[1])})"
    )


def growth_trend(
    trend_result,
    title: str | None = None,
    ylabel: str = "events",
    show_band: bool = True,
) -> Figure:
    """Counts per period with the fitted log-linear trend and its confidence band.

    Parameters
    ----------
    trend_result : analysis.growth.TrendResult
        From ``analysis.growth.trend`` (periods, counts, fitted, band_low, band_high).
    title : str, optional
        Axes title.
    ylabel : str
        What is counted.
    show_band : bool
        Draw the pointwise confidence band of the fitted mean.

    Returns
    -------
    matplotlib.figure.Figure
        Bars for the observed counts, a line for the fitted mean; the legend states the annual
        growth with its interval (or why there is none).
    """
    import math

    _style()
    tr = trend_result
    fig, ax = _subplots(9.0, 4.2)
    _frame(fig, title=bool(title))
    periods = pd.DatetimeIndex(tr.periods)
    width = 20 if len(periods) < 2 else 0.8 * (periods[1] - periods[0]).days
    ax.bar(periods, tr.counts, width=width, color="0.75", label="observed", align="edge")
    level = int(round(100 * tr.conf_level))
    if math.isfinite(tr.growth_pct):
        label = _trend_label(tr)
        centre = periods + pd.Timedelta(days=width / 2)
        ax.plot(centre, tr.fitted, color="black", linewidth=2, label=label)
        if show_band:
            ax.fill_between(
                centre, tr.band_low, tr.band_high, color="black", alpha=0.15,
                label=f"{level}% band of the fitted mean",
            )  # fmt: skip
    else:
        ax.plot([], [], " ", label=_no_trend_label(tr.note))
    ax.set_xlabel("")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    if title:
        ax.set_title(title, y=1.0)
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    return fig


@contextmanager
def _render_once(fig: Figure) -> Iterator[None]:
    """Skip the full renders geopandas asks for while a map is built.

    geopandas ends each ``plot`` call with ``plt.draw()``, which renders the whole figure,
    tick labels included: three renders of a three-layer map before the
    one that matters, when the figure is saved (they took 0.4 of the map's 0.6 s).
    """
    canvas = fig.canvas
    canvas.draw_idle = lambda *args, **kwargs: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        del canvas.draw_idle


#: The region map's key: entries a row and the height of a row (inches).
_KEY_COLUMNS = 3
_KEY_ROW = 0.22


def _numbered(shown) -> list[tuple[int, Any]]:
    """Regions numbered in reading order on a map: north to south, then west to east, by
    their representative points (rows of a GeoDataFrame)."""
    points = [(row, row.geometry.representative_point()) for row in shown.itertuples()]
    points.sort(key=lambda rp: (-round(rp[1].y, 6), rp[1].x))
    return [(i, row) for i, (row, _) in enumerate(points, start=1)]


def region_map(
    values: pd.Series,
    boundaries,
    *,
    label: str,
    focus: Sequence[str] = (),
    label_neighbours: bool = True,
    countries: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Admin-1 choropleth of a probability per region: the one map of the reports.

    The colour scale is fixed to [0, 1] so that maps of different studies and quarters read
    alike; regions without a value are grey, country borders are drawn over the regions.

    Parameters
    ----------
    values : pandas.Series
        Probability per region id (e.g. P(at least one event), P(surge)).
    boundaries : analysis.geography.Boundaries
        Polygons for the regions (``.regions`` GeoDataFrame).
    label : str
        Colour bar label.
    focus : sequence of str
        Focus regions, outlined in black.
    label_neighbours : bool
        Number the focus regions' first-order neighbours on the map, north to south, with
        their names and probabilities in a key below it (full labels of adjacent regions
        overlapped: Boucle du Mouhoun, Nord and Sahel beside Mopti). The focus regions are
        labelled on the map with name and probability.
    countries : sequence of str, optional
        ISO3 codes to draw (default: the countries of the regions in ``values``).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from analysis.formatting import format_probability
    from analysis.geography import neighbours

    _style()  # the same fonts wherever the map comes in a report (first figure or not)
    shapes = boundaries.regions
    if countries is None:
        countries = sorted(shapes.loc[shapes["region_id"].isin(values.index), "country"].unique())
    data = shapes[shapes["country"].isin(list(countries))].copy()
    data["value"] = values.reindex(data["region_id"]).to_numpy(dtype=float)
    labelled = set(focus)
    if label_neighbours:
        for f in focus:
            labelled.update(neighbours(f, 1, boundaries=boundaries))
    shown = data[data["region_id"].isin(labelled) & data["value"].notna()]
    keyed = _numbered(shown[~shown["region_id"].isin(list(focus))])
    key_rows = -(-len(keyed) // _KEY_COLUMNS)
    fig, ax = plt.subplots(figsize=(8, 6.5 + _KEY_ROW * key_rows))
    # the axes are off and the map keeps its aspect: only the colour bar and the key need room
    _frame(fig, left=0.1, bottom=0.1 + _KEY_ROW * key_rows, right=0.1, top=0.1,
           title=bool(title))  # fmt: skip
    with _render_once(fig):
        data.plot(
            column="value", ax=ax, cmap="Reds", vmin=0.0, vmax=1.0, edgecolor="0.6", linewidth=0.4,
            legend=True, legend_kwds={"label": label, "shrink": 0.7},
            missing_kwds={"color": "#dddddd", "edgecolor": "0.6", "linewidth": 0.4},
        )  # fmt: skip
        # Country outlines help the reader see which boundaries are international.
        data.dissolve(by="country").boundary.plot(ax=ax, color="0.25", linewidth=1.0)
        focus = [f for f in focus if f in set(data["region_id"])]
        if focus:
            data[data["region_id"].isin(focus)].boundary.plot(ax=ax, color="black", linewidth=2.4)
    for row in shown[shown["region_id"].isin(list(focus))].itertuples():
        pt = row.geometry.representative_point()
        ax.annotate(
            f"{row.region_name}\n{format_probability(row.value)}", (pt.x, pt.y),
            ha="center", va="center", fontsize=7, fontweight="bold",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.7},
        )  # fmt: skip
    for number, row in keyed:
        pt = row.geometry.representative_point()
        ax.annotate(
            str(number), (pt.x, pt.y), ha="center", va="center", fontsize=7,
            bbox={"boxstyle": "circle,pad=0.2", "fc": "white", "ec": "0.3", "lw": 0.5},
        )  # fmt: skip
    if keyed:
        from matplotlib.lines import Line2D

        entries = [f"{n}  {row.region_name}: {format_probability(row.value)}" for n, row in keyed]
        blank = [Line2D([], [], linestyle="none") for _ in entries]
        corner = (0.1 / fig.get_figwidth(), 0.1 / fig.get_figheight())  # 0.1 in from the edges
        fig.legend(blank, entries, loc="lower left", bbox_to_anchor=corner, ncol=_KEY_COLUMNS,
                   fontsize=8, frameon=False, handlelength=0, handletextpad=0,
                   columnspacing=2.0, borderaxespad=0.0, borderpad=0.0)  # fmt: skip
    ax.set_axis_off()
    if title:
        ax.set_title(title, y=1.0)
    return fig


def fan_chart(
    panel: pd.DataFrame,
    forecast,
    region_id: str,
    *,
    past: int = 36,
    levels: tuple[float, ...] = (0.5, 0.8, 0.9),
    title: str | None = None,
) -> Figure:
    """Observed counts of one region and its forecast: median and central intervals.

    The widest band is the 90% interval the reports' tables and sentences quote (a 95% band
    had shown an interval the text never gives, and not the one it does).

    Parameters
    ----------
    panel : pandas.DataFrame
        The panel the forecast was made from (observed counts, drawn up to the origin and,
        when present, after it as dots for comparison).
    forecast : ForecastResult
        From ``analysis.models.forecast``.
    region_id : str
    past : int
        Periods of history to show before the origin.
    levels : tuple of float
        Central interval levels to shade (widest lightest).
    title : str, optional
        The figure's title; by default the region, origin and model.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        When ``region_id`` is not in the forecast.
    """
    import numpy as np

    _style()
    if region_id not in forecast.region_ids:
        raise ValueError(f"region {region_id!r} is not in the forecast")
    # quantiles of this region's paths only, not of every region's (the same numbers)
    forecast = forecast.select([region_id])
    r = 0
    obs = panel[panel["region_id"] == region_id].sort_values("period")
    before = obs[obs["period"] <= forecast.origin].tail(past)
    after = obs[obs["period"] > forecast.origin]
    fig, ax = _subplots(8.0, 3.6)
    fig.set_label("fan_chart")
    ax.plot(before["period"], before["events"], color="0.2", lw=1.4, label="observed")
    x = list(forecast.periods)
    anchor_x = [forecast.origin, *x]
    last = float(before["events"].iloc[-1]) if len(before) else np.nan
    for level in sorted(levels, reverse=True):
        lo = forecast.quantile((1 - level) / 2)[r]
        hi = forecast.quantile(1 - (1 - level) / 2)[r]
        ax.fill_between(
            anchor_x, [last, *lo], [last, *hi], color="C0",
            alpha=0.15 + 0.25 * (1 - level), lw=0, label=f"{level:.0%} interval",
        )  # fmt: skip
    ax.plot(anchor_x, [last, *forecast.median()[r]], color="C0", lw=1.8, label="median forecast")
    if len(after):
        ax.scatter(after["period"], after["events"], color="0.2", s=12, zorder=3, label="later")
    ax.axvline(forecast.origin, color="0.5", ls=":", lw=1)
    ax.set_ylabel(f"events per {_period_word(panel)}")  # the counts figure's words
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    # a fixed title position: placing it automatically measures every tick label again
    ax.set_title(
        title or f"{region_id}: forecast from {forecast.origin:%Y-%m} ({forecast.model})", y=1.0
    )
    return _frame(fig, title=True)


def _wrap_name(name: str, width: int = 20) -> str:
    """A model name on lines of at most ``width`` characters where it can, broken after
    underscores and spaces (``ensemble_climatology36_heavy`` on two lines; the region
    report's "auto (ensemble_local at steps 1-3, ...)" on several), never inside a word."""
    lines: list[str] = []
    for part in re.split(r"(?<=[_ ])", name):
        if lines and len(lines[-1]) + len(part) <= width:
            lines[-1] += part
        else:
            lines.append(part)
    return "\n".join(line.rstrip(" ") for line in lines if line.strip())


#: Panels per row of :func:`pit_histogram`: the methods appendix's 15 models in 3 rows within
#: the report's page width (9.5 in at 96 dpi; one row of 15 was a 3801-pixel strip).
PIT_COLUMNS = 5


def pit_histogram(
    pit: dict, *, bins: int = 10, title: str | None = None, ncols: int = PIT_COLUMNS
) -> Figure:
    """Histograms of randomised PIT values, one panel per model (flat = calibrated), in a
    grid of ``ncols`` panels a row.

    Parameters
    ----------
    pit : dict of str -> array
        Model name to PIT values (``analysis.evaluation.pit_values``).
    bins : int
    title : str, optional
    ncols : int
        Panels per row (fewer when there are fewer models).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import numpy as np

    _style()
    n = max(1, len(pit))
    cols = max(1, min(ncols, n))
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.72 * cols + 0.9, 2.1 * rows + 0.2),
                             sharex=True, sharey=True, squeeze=False)  # fmt: skip
    flat = list(axes.ravel())
    names = {name: _wrap_name(str(name)) for name in pit}
    lines = max((t.count("\n") + 1 for t in names.values()), default=1)
    for i, (ax, (name, values)) in enumerate(zip(flat, pit.items(), strict=False)):
        v = np.asarray(values, dtype=float)
        ax.hist(v, bins=bins, range=(0, 1), density=True, color="C0", alpha=0.8)
        ax.axhline(1.0, color="0.3", ls="--", lw=1)
        ax.set_title(names[name], fontsize=9, y=1.0)
        # the axis labels once per row and column: the panels share both axes
        if i % cols == 0:
            ax.set_ylabel("density")
        if i + cols >= n:
            ax.set_xlabel("PIT")
            ax.xaxis.set_tick_params(labelbottom=True)
    for ax in flat[n:]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    # room above each row for its panel titles (as many lines as the longest), and the figure
    # title if any
    room = PIT_TITLE_LINE * lines
    return _frame(fig, left=0.75, bottom=0.6, top=0.1 + room + (0.35 if title else 0.0),
                  wspace=0.15, title=True, ncols=cols, nrows=rows, hspace=0.45 + room)  # fmt: skip


#: Height (inches) of one line of a PIT panel's title at 9 pt.
PIT_TITLE_LINE = 0.15


def onset_reliability(table: list[dict], *, title: str | None = None) -> Figure:
    """Reliability curve of onset forecasts: mean forecast P(first event) against the observed
    share with a first event, per probability bin, point size by the number of forecasts.

    Parameters
    ----------
    table : list of dict
        ``reliability_onset_model`` of :func:`analysis.models.onset_backtest.study_onset_backtest`
        (``mean_predicted``, ``observed_frequency``, ``n`` per bin).
    title : str, optional
        The figure's title; none by default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import numpy as np

    _style()
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    p = np.array([r["mean_predicted"] for r in table], dtype=float)
    y = np.array([r["observed_frequency"] for r in table], dtype=float)
    n = np.array([r["n"] for r in table], dtype=float)
    top = max(0.1, float(np.max(np.r_[p, y], initial=0.0)) * 1.1)
    ax.plot([0, top], [0, top], color="0.4", ls="--", lw=1, label="perfect calibration")
    ax.plot(p, y, color="C0", lw=1.2)
    ax.scatter(p, y, s=8 + 2 * n, color="C0", zorder=3, label="onset model (size: forecasts)")
    ax.set_xlabel("forecast P(first event)")
    ax.set_ylabel("observed share with a first event")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    if title:
        ax.set_title(title, y=1.0)
    return _frame(fig, left=0.8, bottom=0.6, title=bool(title))


_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def line_styles(models: Sequence[tuple[str, bool]], emphasise: str | None = None) -> list[dict]:
    """Line styles of many models on one axes, no two alike.

    Models (solid lines) and baselines (dashed) get colours of a palette each and markers in
    turn: within a group colour and marker never both repeat (10 colours, 7 markers), so
    colour, marker and line style together tell every model apart; the ``emphasise`` model is
    black, thick and drawn on top.

    Parameters
    ----------
    models : sequence of (str, bool)
        Model name and whether it is a baseline, in drawing order.
    emphasise : str, optional
        The model to stand out (the reports' model).

    Returns
    -------
    list of dict
        Keyword arguments of ``Axes.plot`` per model, in order.
    """
    import seaborn as sns

    palettes = {False: sns.color_palette("colorblind", 10), True: sns.color_palette("dark", 10)}
    seen = {False: 0, True: 0}
    out = []
    for name, baseline in models:
        if name == emphasise:
            out.append({"color": "black", "linestyle": "-", "marker": "o", "linewidth": 3.0,
                        "markersize": 6, "zorder": 5})  # fmt: skip
            continue
        i = seen[baseline]
        seen[baseline] += 1
        out.append(
            {
                "color": palettes[baseline][i % 10],
                "linestyle": "--" if baseline else "-",
                "marker": _MARKERS[(i + (3 if baseline else 0)) % len(_MARKERS)],
                "linewidth": 1.2 if baseline else 1.8,
                "markersize": 4,
                "zorder": 2 if baseline else 3,
            }
        )
    return out


def score_by_horizon(card: dict, metric: str = "crps", emphasise: str | None = None) -> Figure:
    """Backtest score per forecast step and model, from :func:`analysis.evaluation.scorecard`.

    Baselines are drawn dashed, so a reader sees at once whether a model beats them; every
    model has its own colour and line style (:func:`line_styles`), ``emphasise`` (the reports'
    model) is black and thick, and the legend sits beside the axes, never over the lines.

    Parameters
    ----------
    card : dict
        A scorecard of :func:`analysis.evaluation.scorecard` (its ``by_horizon`` rows are drawn).
    metric : str, optional
        The score drawn, a key of those rows; ``"crps"`` by default.
    emphasise : str, optional
        The model drawn black and thick; None (the default) for none.

    Returns
    -------
    matplotlib.figure.Figure
    """
    frame = pd.DataFrame(card["by_horizon"])
    models = [(str(m), bool(rows["is_baseline"].iloc[0]))
              for m, rows in frame.groupby("model", sort=False)]  # fmt: skip
    fig, ax = plt.subplots(figsize=(9.4, 4.2))
    # CRPS tick labels such as "1000.0" on the left, the legend's longest names on the right
    _frame(fig, left=1.05, bottom=0.6, right=2.75)
    for (model, baseline), style in zip(models, line_styles(models, emphasise), strict=True):
        rows = frame[frame["model"] == model]
        suffix = " (baseline)" if baseline else " (reports' model)" if model == emphasise else ""
        ax.plot(rows["step"], rows[metric], label=f"{model}{suffix}", **style)
    ax.set_xlabel("forecast step")
    ax.set_ylabel(metric.upper() + " (lower is better)")
    ax.set_xticks(sorted(frame["step"].unique()))
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              borderaxespad=0.0)  # fmt: skip
    return fig
