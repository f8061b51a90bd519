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
