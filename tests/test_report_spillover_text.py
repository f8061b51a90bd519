"""Spillover and onset sentences across the border, shared by the region report and overview."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from analysis.report import spillover_text


def _onset_inputs():
    onset = SimpleNamespace(
        units=pd.DataFrame(
            {
                "region_id": ["MR-10"],
                "region_name": ["Guidimaka"],
                "country": ["MRT"],
                "p_onset": [0.427],
                "p_onset_low": [0.277],
                "p_onset_high": [0.598],
            }
        ),
        level=0.95,
        quiet=12,
        horizon=12,
    )
    risk = SimpleNamespace(
        regions=pd.DataFrame(
            {
                "region_id": ["SN-KE", "MR-10"],
                "region_name": ["Kédougou", "Guidimaka"],
                "country": ["SEN", "MRT"],
                "expected": [8.4, 8.6],
                "median": [7.0, 7.0],
                "expected_low": [2.0, 1.0],
                "expected_high": [19.0, 20.0],
                "p_any": [0.95, 0.95],
            }
        )
    )
    contrast = SimpleNamespace(
        regions=pd.DataFrame(
            {
                "region_id": ["ML-1", "SN-KE", "MR-10"],
                "region_name": ["Kayes", "Kédougou", "Guidimaka"],
                "p_any_continue": [1.0, 0.953, 0.953],
                "p_any_silenced": [0.0, 0.367, 0.361],
                "expected_continue": [225.9, 8.4, 8.6],
                "expected_silenced": [0.0, 1.0, 0.9],
                "p_any_diff": [1.0, 0.586, 0.592],
                "p_any_diff_low": [1.0, 0.45, 0.47],
                "p_any_diff_high": [1.0, 0.70, 0.71],
                "expected_diff": [225.9, 7.4, 7.7],
                "expected_diff_low": [108.4, 3.2, 3.1],
                "expected_diff_high": [421.0, 14.5, 14.7],
            }
        ),
        countries=pd.DataFrame(
            {
                "country": ["MLI", "SEN"],
                "expected_continue": [334.9, 23.5],
                "expected_silenced": [95.4, 4.7],
                "expected_diff": [239.5, 18.8],
                "expected_diff_low": [114.4, 8.0],
                "expected_diff_high": [448.6, 35.9],
            }
        ),
        focus=("ML-1",),
        level=0.9,
        horizon=12,
    )
    return onset, risk, contrast


def test_onset_sentences_separate_first_events_from_continued_activity() -> None:
    onset, risk, contrast = _onset_inputs()
    quiet, active = spillover_text.onset_unit_sentences(
        ["MR-10", "SN-KE", "XX-9"], onset, risk, headline=True, contrast=contrast
    )
    assert "Guidimaka (MRT)" in quiet and "P(first event within 12 periods) 43%" in quiet
    assert "95% interval 28%-60%" in quiet
    assert "P 95% if Kayes continues, 36% if it is silenced" in quiet
    assert "Kayes accounts for +59 points (90% interval +47 to +71)" in quiet
    assert "Kédougou (SEN) is already active" in active
    assert "expected 8.4 events" in active and "median 7, 90% interval 2-19" in active
    assert "expects 8.4 there if Kayes continues and 1.0 if it is silenced" in active
    assert "+7.4 events attributable to Kayes (90% interval +3.2 to +14.5)" in active
    (hidden,) = spillover_text.onset_unit_sentences(["MR-10"], onset, risk, headline=False)
    assert "not headlined" in hidden and "43%" not in hidden
    (unknown,) = spillover_text.onset_unit_sentences(["MR-10"], None, risk, headline=False)
    assert "no onset model" in unknown and "already active" not in unknown


def test_onset_headline_needs_the_backtest_verdict() -> None:
    assert not spillover_text.onset_headlined(None)
    assert not spillover_text.onset_headlined({"available": False, "beats_naive": False})
    assert not spillover_text.onset_headlined({"available": True, "beats_naive": False})
    assert spillover_text.onset_headlined({"available": True, "beats_naive": True})
    text = spillover_text.onset_evidence_sentence({"available": False, "reason": "too short"})
    assert "could not be checked" in text and "too short" in text


def test_attributable_sentence_and_onset_scorecard_table() -> None:
    _, _, contrast = _onset_inputs()
    text = spillover_text.attributable_sentence(contrast, ["SEN"])
    assert (
        "continue minus silenced" in text and "SEN +18.8 events (90% interval +8.0 to +35.9" in text
    )
    assert "MLI" not in text
    assert spillover_text.attributable_sentence(None) is None
    card = {
        "methods": {
            "onset_model": {"brier": 0.096, "auc": 0.81},
            "base_rate": {"brier": 0.115, "auc": 0.5},
        },
        "onset_model_brier_skill_vs": {"base_rate": 1 - 0.096 / 0.115},
    }
    table = spillover_text.onset_scorecard_table(card)
    assert list(table["method"]) == ["onset model", "base rate"]
    assert table.loc[1, "onset model's Brier skill"] == pytest.approx(1 - 0.096 / 0.115)


def test_risk_table_keeps_the_order_and_adds_the_neighbour_share() -> None:
    _, risk, _ = _onset_inputs()
    spill = SimpleNamespace(
        regions=pd.DataFrame({"region_id": ["MR-10", "SN-KE"], "share_neighbour": [0.7, 0.2]})
    )
    table = spillover_text.risk_table(risk, ["MR-10", "XX-9", "SN-KE"], spill)
    assert table["region"].tolist() == ["MR-10", "SN-KE"]  # unknown regions dropped
    assert table["90% interval"].tolist() == ["1-20", "2-19"]
    assert table["share from neighbours (spillover model)"].tolist() == [0.7, 0.2]
    alone = spillover_text.risk_table(risk, ["SN-KE"])
    assert "share from neighbours (spillover model)" not in alone.columns
