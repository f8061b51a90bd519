"""Figures specific to reports (general figures live in :mod:`analysis.plots`)."""

from __future__ import annotations

from typing import Any

import pandas as pd


def region_map(
    boundaries: Any,
    values: pd.Series,
    *,
    label: str,
    countries: list[str] | None = None,
    highlight: list[str] | None = None,
) -> Any:
    """Admin-1 choropleth of ``values`` (indexed by region id); regions without a value grey.

    Parameters
    ----------
    boundaries : analysis.geography.Boundaries
    values : Series
        Value per region id.
    label : str
        Colour bar label.
    countries : list of str, optional
        ISO3 codes to draw (default: those of the values' regions).
    highlight : list of str, optional
        Region ids outlined in black (e.g. focus regions).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    regions = boundaries.regions
    if countries is None:
        countries = sorted(regions.loc[regions["region_id"].isin(values.index), "country"].unique())
    shown = regions[regions["country"].isin(countries)].copy()
    shown["value"] = values.reindex(shown["region_id"]).to_numpy()
    fig, ax = plt.subplots(figsize=(8, 6), layout="constrained")
    shown.plot(
        column="value",
        ax=ax,
        cmap="OrRd",
        legend=True,
        legend_kwds={"label": label, "shrink": 0.6},
        edgecolor="white",
        linewidth=0.5,
        missing_kwds={"color": "#dddddd"},
    )
    if highlight:
        shown[shown["region_id"].isin(highlight)].boundary.plot(ax=ax, color="black", linewidth=1.5)
    ax.set_axis_off()
    return fig


def score_by_horizon(card: dict[str, Any], metric: str = "crps") -> Any:
    """Backtest score per forecast step and model, from :func:`analysis.evaluation.scorecard`.

    Baselines are drawn dashed, so a reader sees at once whether a model beats them.
    """
    import matplotlib.pyplot as plt

    frame = pd.DataFrame(card["by_horizon"])
    fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    for model, rows in frame.groupby("model", sort=False):
        baseline = bool(rows["is_baseline"].iloc[0])
        ax.plot(
            rows["step"],
            rows[metric],
            marker="o",
            linestyle="--" if baseline else "-",
            linewidth=1.0 if baseline else 2.0,
            label=f"{model}{' (baseline)' if baseline else ''}",
        )
    ax.set_xlabel("forecast step")
    ax.set_ylabel(metric.upper() + " (lower is better)")
    ax.set_xticks(sorted(frame["step"].unique()))
    ax.legend(fontsize=8, frameon=False)
    return fig
