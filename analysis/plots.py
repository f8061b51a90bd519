"""Figures for reports: one function per figure, each returning a matplotlib Figure.

Figures take computed results (panels, result objects) and only draw them; no statistics are
computed here. The Agg backend is used so that reports render without a display.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

PALETTE = "colorblind"


def _style() -> None:
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook", palette=PALETTE)


def monthly_counts(
    panel: pd.DataFrame,
    region_ids: list[str],
    focus: str | None = None,
    value: str = "events",
    title: str | None = None,
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

    Returns
    -------
    matplotlib.figure.Figure
    """
    import seaborn as sns

    _style()
    data = panel[panel["region_id"].isin(region_ids)].copy()
    data["region"] = data["region_name"] + " (" + data["region_id"] + ")"
    order = [
        f"{name} ({rid})"
        for rid, name in data[["region_id", "region_name"]].drop_duplicates().to_numpy()
    ]
    fig, ax = plt.subplots(figsize=(9, 4.2), layout="constrained")
    if focus is not None and focus in region_ids:
        others = data[data["region_id"] != focus]
        main = data[data["region_id"] == focus]
        if len(others):
            sns.lineplot(
                data=others, x="period", y=value, hue="region", ax=ax, linewidth=1.0, alpha=0.8,
                hue_order=[o for o in order if not o.endswith(f"({focus})")],
            )  # fmt: skip
        ax.plot(
            main["period"], main[value], color="black", linewidth=2.2, label=main["region"].iloc[0]
        )
    else:
        sns.lineplot(data=data, x="period", y=value, hue="region", ax=ax, hue_order=order)
    freq = panel.attrs.get("freq", "month")
    ax.set_xlabel("")
    ax.set_ylabel(f"{value} per {freq}")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, ncol=2, frameon=False, loc="upper left")
    ax.set_ylim(bottom=0)
    return fig


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
    fig, ax = plt.subplots(figsize=(9, 4.2), layout="constrained")
    periods = pd.DatetimeIndex(tr.periods)
    width = 20 if len(periods) < 2 else 0.8 * (periods[1] - periods[0]).days
    ax.bar(periods, tr.counts, width=width, color="0.75", label="observed", align="edge")
    level = int(round(100 * tr.conf_level))
    if math.isfinite(tr.growth_pct):
        label = (
            f"fitted trend: {tr.growth_pct:+.0f}% a year "
            f"({level}% CI {tr.growth_ci[0]:+.0f}% to {tr.growth_ci[1]:+.0f}%)"
        )
        centre = periods + pd.Timedelta(days=width / 2)
        ax.plot(centre, tr.fitted, color="black", linewidth=2, label=label)
        if show_band:
            ax.fill_between(
                centre, tr.band_low, tr.band_high, color="black", alpha=0.15,
                label=f"{level}% band of the fitted mean",
            )  # fmt: skip
    else:
        ax.plot([], [], " ", label=f"no trend fitted: {tr.note}")
    ax.set_xlabel("")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    return fig
