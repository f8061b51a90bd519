"""The numbers report notebooks show, computed by package code and checked against numpy."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis import periods
from analysis.models.forecast import ForecastResult
from analysis.report import summary
from analysis.report.run import _jsonable


def _panel(counts: dict[str, list[int]], start: str = "2021-01") -> pd.DataFrame:
    periods = pd.date_range(start, periods=len(next(iter(counts.values()))), freq="MS")
    rows = []
    for rid, values in counts.items():
        for period, value in zip(periods, values, strict=True):
            rows.append((rid, f"name {rid}", rid[:2], period, value, 2 * value))
    panel = pd.DataFrame(
        rows, columns=["region_id", "region_name", "country", "period", "events", "fatalities"]
    )
    panel.attrs["freq"] = "month"
    return panel


def _forecast(samples: np.ndarray, regions: tuple[str, ...]) -> ForecastResult:
    periods = pd.date_range("2025-01", periods=samples.shape[1], freq="MS")
    return ForecastResult(samples, regions, periods, pd.Timestamp("2024-12"), "test", 0)


def test_quarter_cut() -> None:
    assert periods.quarter_end("2024Q4") == pd.Timestamp("2025-01-01")
    assert periods.quarter_end("2024Q1") == pd.Timestamp("2024-04-01")
    panel = _panel({"ML-1": list(range(24))})
    cut = summary.panel_as_of(panel, "2021Q2")
    assert cut["period"].max() == pd.Timestamp("2021-06-01") and len(cut) == 6
    assert cut.attrs["freq"] == "month"
    assert summary.panel_as_of(panel, "") is panel


def test_usable_comparisons() -> None:
    panel = _panel({"ML-1": [1] * 48})  # 2021-01 .. 2024-12
    assert summary.usable_comparisons([("2021", "2024")], panel) == [("2021", "2024")]
    assert (
        summary.usable_comparisons([("2021", "2024")], summary.panel_as_of(panel, "2024Q2")) == []
    )
    assert summary.usable_comparisons([("2020", "2022")], panel) == []


def test_window_forecast_sums_paths() -> None:
    rng = np.random.default_rng(1)
    samples = rng.poisson(2.0, size=(2, 6, 4000))
    fc = _forecast(samples, ("ML-1", "ML-2"))
    w = summary.window_forecast(fc, "ML-2", steps=3, level=0.9)
    totals = samples[1, :3].sum(axis=0)
    assert w.mean == pytest.approx(totals.mean())
    assert w.low == np.quantile(totals, 0.05, method="inverted_cdf")
    assert w.high == np.quantile(totals, 0.95, method="inverted_cdf")
    assert w.p_any == pytest.approx((totals > 0).mean())
    assert w.mean == pytest.approx(6.0, rel=0.05)  # Poisson(2) x 3 steps
    assert "90% interval" in summary.forecast_sentence(w, "Kayes", "auto")
    with pytest.raises(ValueError):
        summary.window_forecast(fc, "ML-9")


def test_surge_probability_matches_direct_count() -> None:
    panel = _panel({"ML-1": [2] * 24, "ML-2": [0] * 24})
    samples = np.zeros((2, 3, 1000), dtype=int)
    samples[0, :, :400] = 5  # 15 over 3 steps: surge (threshold 2 x 3 x 2 = 12)
    samples[0, :, 400:] = 3  # 9: no surge
    samples[1, 0, :250] = 1  # quiet region: any event is a surge (threshold at least 1)
    fc = _forecast(samples, ("ML-1", "ML-2"))
    out = summary.surge_probability(fc, panel, factor=2.0, steps=3).set_index("region_id")
    assert out.loc["ML-1", "threshold"] == 12
    assert out.loc["ML-1", "p_surge"] == pytest.approx(0.4)
    assert out.loc["ML-2", "threshold"] == 1
    assert out.loc["ML-2", "p_surge"] == pytest.approx(0.25)


def test_ranking_alerts_and_changes(tmp_path: Path) -> None:
    panel = _panel({"ML-1": [2] * 24, "ML-2": [0] * 24, "SN-KE": [1] * 24})
    surge = pd.DataFrame({"region_id": ["ML-1", "ML-2", "SN-KE"], "p_surge": [0.2, 0.7, 0.2]})
    spill = SimpleNamespace(
        regions=pd.DataFrame({"region_id": ["ML-1", "ML-2", "SN-KE"], "p_any": [0.9, 0.5, 0.95]})
    )
    rank = summary.ranking(panel, None, surge, spill)
    assert list(rank["region_id"]) == ["ML-2", "SN-KE", "ML-1"]
    assert list(rank["rank"]) == [1, 2, 3]
    assert rank.set_index("region_id").loc["ML-1", "events_recent"] == 24
    assert list(summary.alerts(rank, 0.5)["region_id"]) == ["ML-2"]
    shown = summary.ranking_display(rank.assign(ratio=[np.inf, 1.0, 2.0]), top=2)
    assert len(shown) == 2 and shown["growth ratio"].isna().tolist() == [True, False]
    record = summary.ranking_record(rank)
    json.dumps(record)
    assert set(record[0]) == {"region_id", "rank", "events_recent", "p_surge", "p_any"}


def test_probabilities_never_read_as_certain() -> None:
    assert summary.format_probability(0.0) == "<0.1%"
    assert summary.format_probability(1.0) == ">99.9%"
    assert summary.format_probability(0.996) == "99.6%"
    assert summary.format_probability(0.004) == "0.4%"
    assert summary.format_probability(0.5) == "50%"
    assert summary.format_probability(float("nan")) == ""


def test_data_summary_and_recent_events() -> None:
    panel = _panel({"ML-1": [0, 3, 0, 1], "ML-2": [5, 0, 0, 0]})
    events = pd.DataFrame(
        {
            "event_id": ["a", "b", "c"],
            "region_id": ["ML-1", "ML-1", "ML-2"],
            "date_start": pd.to_datetime(["2021-02-03", "2021-04-01", "2021-01-05"]),
            "event_type": ["Battles"] * 3,
            "actor1": ["X <b>", "X <b>", "Y"],
            "actor2": [None, None, None],
            "fatalities": [1.0, 0.0, 2.0],
            "notes": ["n" * 300, "short", "y"],
        }
    )
    table = summary.data_summary(events, panel, "ML-1", [{"rows": 10, "source": "acled"}], {})
    values = dict(zip(table["item"], table["value"], strict=True))
    assert values["Events in this region"] == "4"
    assert values["Events in the study (all regions)"] == "9"
    assert values["Months with at least one event in this region"] == "2 of 4"
    assert values["Sources"] == "acled"
    recent = summary.recent_events(events, "ML-1")
    assert list(recent["date"]) == ["2021-04-01", "2021-02-03"]
    assert recent["notes"].str.len().max() == 160
    with pytest.raises(ValueError):
        summary.data_summary(events, panel, "SN-KE", [], {})


def test_spillover_and_score_tables() -> None:
    spill = SimpleNamespace(
        regions=pd.DataFrame(
            {
                "region_id": ["A-1", "B-2"],
                "region_name": ["a", "b"],
                "country": ["A", "B"],
                "p_any": [0.5, 0.25],
                "p_any_low": [0.4, 0.2],
                "p_any_high": [0.6, 0.3],
                "expected": [1.0, 0.3],
                "share_neighbour": [0.1, 0.9],
            }
        )
    )
    table = summary.spillover_table(spill, ["B-2", "Z-9", "A-1"])
    assert list(table["region"]) == ["B-2", "A-1"]
    card = {"models": [{"model": "m", "is_baseline": False, "crps": 2.0},
                       {"model": "z", "is_baseline": True, "crps": 1.0}]}  # fmt: skip
    assert list(summary.scorecard_table(card)["model"]) == ["z", "m"]


def test_records_are_json_safe() -> None:
    out = _jsonable({"a": float("inf"), "b": [np.float64(np.nan), np.int64(3)], "c": {1: "x"}})
    assert out == {"a": None, "b": [None, 3], "c": {"1": "x"}}
    json.dumps(out, allow_nan=False)


def test_cross_border_sentence_names_each_neighbour_with_its_interval(boundaries) -> None:
    spill = SimpleNamespace(
        regions=pd.DataFrame(
            {
                "region_id": ["ML-1", "MR-10", "SN-TC", "ML-2"],
                "region_name": ["Kayes", "Guidimaka", "Tambacounda", "Koulikoro"],
                "country": ["MLI", "MRT", "SEN", "MLI"],
                "p_any": [1.0, 0.96, 0.5, 1.0],
                "p_any_low": [1.0, 0.88, 0.25, 1.0],
                "p_any_high": [1.0, 1.0, 0.75, 1.0],
            }
        ),
        level=0.95,
        horizon=12,
        origin=pd.Timestamp("2024-12-01"),
    )
    text = summary.cross_border_sentence(spill, "ML-1", boundaries, ["MRT", "SEN"])
    assert text.startswith("Across the border from Kayes")
    assert "Guidimaka (MRT) 96% (95% interval 88% to >99.9%)" in text  # never "100%"
    assert "Tambacounda (SEN) 50% (95% interval 25-75%)" in text
    assert "Koulikoro" not in text  # same country
    assert summary.cross_border_sentence(spill, "ML-1", boundaries, ["NGA"]) is None


def test_actor_sentence_names_the_study_actor_and_its_opponents():
    # UCDP state-based events put the government in side_a: counting side_a would name it
    events = pd.DataFrame(
        {
            "region_id": ["ML-5"] * 6 + ["ML-1"],
            "actor1": ["Government of Mali"] * 3 + ["JNIM", "JNIM", "Dozo militia", "JNIM"],
            "actor2": ["JNIM"] * 3 + ["Civilians", "Dan Na Ambassagou", "JNIM", "Civilians"],
        }
    )
    text = summary.actor_sentence(events, "ML-5", "Mopti", ["JNIM"])
    assert text == (
        "In Mopti, JNIM took part in 6 events; the sides it fought or attacked most were "
        "Government of Mali (3), Civilians (1) and Dan Na Ambassagou (1)."
    )
    assert summary.actor_sentence(events, "SN-KE", "Kedougou", ["JNIM"]) is None
    anyone = summary.actor_sentence(events, "ML-5", "Mopti", [], top=1)
    assert anyone == "The actors in most of Mopti's 6 events: JNIM (6)."


def test_probability_ranges_read_naturally() -> None:
    assert summary.probability_range(0.75, 0.99) == "75-99%"
    assert summary.probability_range(0.996, 1.0) == "99.6% to >99.9%"
    assert summary.probability_range(0.0, 0.2) == "<0.1% to 20%"


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
    quiet, active = summary.onset_unit_sentences(
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
    (hidden,) = summary.onset_unit_sentences(["MR-10"], onset, risk, headline=False)
    assert "not headlined" in hidden and "43%" not in hidden
    (unknown,) = summary.onset_unit_sentences(["MR-10"], None, risk, headline=False)
    assert "no onset model" in unknown and "already active" not in unknown


def test_onset_headline_needs_the_backtest_verdict() -> None:
    assert not summary.onset_headlined(None)
    assert not summary.onset_headlined({"available": False, "beats_naive": False})
    assert not summary.onset_headlined({"available": True, "beats_naive": False})
    assert summary.onset_headlined({"available": True, "beats_naive": True})
    text = summary.onset_evidence_sentence({"available": False, "reason": "too short"})
    assert "could not be checked" in text and "too short" in text


def test_attributable_sentence_and_onset_scorecard_table() -> None:
    _, _, contrast = _onset_inputs()
    text = summary.attributable_sentence(contrast, ["SEN"])
    assert (
        "continue minus silenced" in text and "SEN +18.8 events (90% interval +8.0 to +35.9" in text
    )
    assert "MLI" not in text
    assert summary.attributable_sentence(None) is None
    card = {
        "methods": {
            "onset_model": {"brier": 0.096, "auc": 0.81},
            "base_rate": {"brier": 0.115, "auc": 0.5},
        },
        "onset_model_brier_skill_vs": {"base_rate": 1 - 0.096 / 0.115},
    }
    table = summary.onset_scorecard_table(card)
    assert list(table["method"]) == ["onset model", "base rate"]
    assert table.loc[1, "onset model's Brier skill"] == pytest.approx(1 - 0.096 / 0.115)
