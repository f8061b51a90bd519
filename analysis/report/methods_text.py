"""The methods appendix's model list and backtest tables."""

from __future__ import annotations

from typing import Any

import pandas as pd

#: Forecasters scored in the methods appendix: every model a report can use (``auto`` and the
#: spillover model as configured, the candidates ``auto`` chooses among and the models inside
#: them) and the baseline ladder.
METHOD_MODELS = (
    "auto",
    "spillover",
    "ensemble_trend",
    "ensemble_local",
    "ensemble_climatology",
    "ensemble_climatology36",
    "ensemble_climatology36_heavy",
    "damped_trend",
    "local_level",
    "conflictology",
    "nb_climatology",
    "recent_mean_6",
    "recent_mean_3",
    "last_value",
    "zero",
)

#: Periods between the appendix's rolling origins (three years of origins, 12 steps each).
METHOD_STRIDE = 3

SCORE_COLUMNS = {
    "model": "model",
    "is_baseline": "baseline",
    "crps": "CRPS",
    "crps_skill_vs_best_baseline": "CRPS skill vs best baseline",
    "pit_coverage_50": "50% coverage (randomised PIT)",
    "pit_coverage_80": "80% coverage (randomised PIT)",
    "pit_coverage_95": "95% coverage (randomised PIT)",
    "interval_score_95": "95% interval score",
    "brier_any": "Brier P(at least 1)",
}


def scorecard_table(card: dict[str, Any]) -> pd.DataFrame:
    """The ``models`` part of :func:`analysis.evaluation.scorecard`, sorted by CRPS."""
    frame = pd.DataFrame(card["models"]).sort_values("crps", kind="stable")
    return frame.reindex(columns=list(SCORE_COLUMNS)).rename(columns=SCORE_COLUMNS)


def group_table(card: dict[str, Any]) -> pd.DataFrame:
    """Models by group of regions (focus, active, quiet): CRPS, skill against the group's
    best baseline and randomised-PIT 80% coverage, at steps 1-h together."""
    rows = pd.DataFrame(card["by_group"])
    if rows.empty:
        return rows
    rows = rows.sort_values(["group", "crps"], kind="stable")
    return rows.reindex(
        columns=["group", "model", "crps", "crps_skill_vs_best_baseline", "pit_coverage_80"]
    ).rename(
        columns={
            "crps": "CRPS",
            "crps_skill_vs_best_baseline": "CRPS skill vs best baseline",
            "pit_coverage_80": "80% coverage (randomised PIT)",
        }
    )
