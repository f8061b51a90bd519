"""The methods appendix's model list and backtest tables."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.formatting import format_p_value

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
    """The ``models`` part of :func:`analysis.evaluation.scorecard`, sorted by CRPS, with
    "yes"/"no" for the baseline flag (not Python's True/False)."""
    frame = pd.DataFrame(card["models"]).sort_values("crps", kind="stable")
    frame["is_baseline"] = ["yes" if b else "no" for b in frame["is_baseline"]]
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


#: The count-model table's columns in plain words (:func:`count_models_display`).
COUNT_MODEL_COLUMNS = {
    "region_name": "region",
    "model": "model",
    "fitted_model": "fitted as",
    "k": "parameters",
    "llf": "log-likelihood",
    "aic": "AIC",
    "bic": "BIC",
    "delta_aic": "AIC above the best",
    "lr_against": "likelihood-ratio test against",
    "lr_p": "likelihood-ratio p",
    "overdispersion_alpha": "overdispersion alpha (Cameron-Trivedi)",
    "overdispersion_p": "overdispersion p",
    "warnings": "notes",
}


def count_models_display(table: pd.DataFrame) -> pd.DataFrame:
    """The reader's columns of :func:`analysis.models.counts.region_count_models`.

    Parameters
    ----------
    table : DataFrame
        One row per region and count model.

    Returns
    -------
    DataFrame
        The columns of :data:`COUNT_MODEL_COLUMNS`, renamed in plain words; p-values as a
        reader expects them (``<0.001``, not ``0.000``; blank where there is no test).
    """
    shown = table.reindex(columns=list(COUNT_MODEL_COLUMNS)).copy()
    for col in ("lr_p", "overdispersion_p"):
        shown[col] = [format_p_value(p) for p in shown[col].astype(float)]
    shown["lr_against"] = shown["lr_against"].fillna("")
    shown["warnings"] = shown["warnings"].fillna("")
    return shown.rename(columns=COUNT_MODEL_COLUMNS)
