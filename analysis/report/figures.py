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
