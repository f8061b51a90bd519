"""The methods appendix's tables."""

from __future__ import annotations

from analysis.models.registry import get
from analysis.report import methods_text


def test_scorecard_table_sorts_by_crps() -> None:
    card = {"models": [{"model": "m", "is_baseline": False, "crps": 2.0},
                       {"model": "z", "is_baseline": True, "crps": 1.0}]}  # fmt: skip
    table = methods_text.scorecard_table(card)
    assert list(table["model"]) == ["z", "m"]
    assert list(table["baseline"]) == ["yes", "no"]


def test_group_table_orders_models_within_groups() -> None:
    card = {
        "by_group": [
            {"group": "quiet", "model": "a", "crps": 0.3, "crps_skill_vs_best_baseline": 0.1,
             "pit_coverage_80": 0.8},
            {"group": "focus", "model": "b", "crps": 2.0, "crps_skill_vs_best_baseline": -0.1,
             "pit_coverage_80": 0.7},
            {"group": "focus", "model": "a", "crps": 1.0, "crps_skill_vs_best_baseline": 0.2,
             "pit_coverage_80": 0.9},
        ]
    }  # fmt: skip
    table = methods_text.group_table(card)
    pairs = list(zip(table["group"], table["model"], strict=True))
    assert pairs == [("focus", "a"), ("focus", "b"), ("quiet", "a")]
    assert "80% coverage (randomised PIT)" in table.columns


def test_every_method_model_is_in_the_registry() -> None:
    for name in methods_text.METHOD_MODELS:
        assert get(name).name == name


def test_count_models_table_speaks_plain_words() -> None:
    import numpy as np
    import pandas as pd

    table = pd.DataFrame(
        {
            "region_id": ["ML-1", "ML-1"], "region_name": ["Kayes", "Kayes"], "n": [84, 84],
            "model": ["nb2", "poisson"], "fitted_model": ["nb2", "poisson"], "k": [3, 2],
            "llf": [-111.9, -115.8], "aic": [229.8, 235.6], "bic": [237.1, 240.4],
            "delta_aic": [0.0, 5.8], "lr_against": ["poisson", None], "lr_stat": [7.8, np.nan],
            "lr_p": [0.0026, np.nan], "overdispersion_alpha": [0.175, 0.175],
            "overdispersion_p": [2e-5, 2e-5], "converged": [True, True], "warnings": ["", None],
        }
    )  # fmt: skip
    shown = methods_text.count_models_display(table)
    assert list(shown.columns) == list(methods_text.COUNT_MODEL_COLUMNS.values())
    assert shown["likelihood-ratio p"].tolist() == ["0.003", ""]
    assert shown["overdispersion p"].tolist() == ["<0.001", "<0.001"]
    assert shown["likelihood-ratio test against"].tolist() == ["poisson", ""]
    assert "llf" not in shown.columns and "region_id" not in shown.columns
