"""The numbers report notebooks show, computed by package code and checked against numpy."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

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
    assert summary.quarter_end("2024Q4") == pd.Timestamp("2025-01-01")
    assert summary.quarter_end("2024Q1") == pd.Timestamp("2024-04-01")
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
    assert summary.main_actor(events, "ML-1") == ("X <b>", 2)
    assert summary.main_actor(events, "SN-KE") is None
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
