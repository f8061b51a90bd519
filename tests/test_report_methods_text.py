"""The methods appendix's tables."""

from __future__ import annotations

from analysis.models.registry import get
from analysis.report import methods_text


def test_scorecard_table_sorts_by_crps() -> None:
    card = {"models": [{"model": "m", "is_baseline": False, "crps": 2.0},
                       {"model": "z", "is_baseline": True, "crps": 1.0}]}  # fmt: skip
    assert list(methods_text.scorecard_table(card)["model"]) == ["z", "m"]


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
