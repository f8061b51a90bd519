"""Figures specific to reports (general figures, the region map among them, live in
:mod:`analysis.plots`)."""

from __future__ import annotations

from typing import Any

import pandas as pd


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
