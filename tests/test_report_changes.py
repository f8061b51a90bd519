"""Changes since the previous quarter: only material ones, in words, with intervals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.report import changes


def _panel(counts: dict[str, list[int]], start: str = "2023-01-01") -> pd.DataFrame:
    rows = []
    for region, values in counts.items():
        for i, n in enumerate(values):
            rows.append(
                {
                    "region_id": region,
                    "region_name": f"name {region}",
                    "period": pd.Timestamp(start) + pd.DateOffset(months=i),
                    "events": n,
                }
            )
    return pd.DataFrame(rows)


def _rank(p_surge, expected) -> pd.DataFrame:
    ids = ["ML-1", "ML-2", "ML-3", "ML-4"]
    return pd.DataFrame(
        {
            "region_id": ids,
            "region_name": [f"name {r}" for r in ids],
            "rank": [1, 2, 3, 4],
            "p_surge": p_surge,
            "expected": expected,
            "expected_low": np.maximum(np.array(expected) - 2, 0),
            "expected_high": np.array(expected) + 3,
        }
    )


def test_new_regions_are_first_events_in_twelve_months() -> None:
    panel = _panel(
        {
            "ML-1": [1] * 24,  # active all along: not new
            "ML-2": [0] * 21 + [0, 2, 1],  # first events in the last quarter
            "ML-3": [1] + [0] * 20 + [0, 0, 1],  # events 20 months earlier: new again
            "ML-4": [0] * 14 + [1] + [0] * 8 + [1],  # an event 9 months before: not new
        }
    )
    quarter, frame = changes.new_regions(panel)
    assert quarter == "2024Q4"
    assert frame.to_dict("list") == {
        "region_id": ["ML-2", "ML-3"],
        "region_name": ["name ML-2", "name ML-3"],
        "events": [3, 1],
    }


def test_alerts_and_largest_moves_in_words(tmp_path: Path) -> None:
    panel = _panel({"ML-1": [1] * 24, "ML-2": [0] * 24, "ML-3": [0] * 24, "ML-4": [0] * 24})
    before = _rank([0.3, 0.7, 0.0, 0.0], [4.0, 6.0, 0.0, 0.0])
    now = _rank([0.6, 0.4, 0.0, 0.0], [9.5, 5.5, 0.3, 0.0])
    record = before.drop(columns=["region_name"]).to_dict("records")
    manifest = tmp_path / "manifest.json"
    entry = {"kind": "overview", "study_slug": "s", "records": {"ranking": record}}
    manifest.write_text(json.dumps({"reports": [entry]}))
    previous = changes.previous_ranking(str(manifest), "s")
    assert changes.previous_ranking(str(manifest), "other") is None
    result = changes.quarter_changes(panel, now, previous, probability=0.5)
    assert list(result.raised["region_id"]) == ["ML-1"]
    assert list(result.cleared["region_id"]) == ["ML-2"]
    # the zero regions and the 0.5 move are not material: only ML-1 moved
    assert list(result.moves["region_id"]) == ["ML-1"]
    assert result.moves.iloc[0]["change"] == pytest.approx(5.5)
    text = " ".join(result.sentences())
    assert "Alert raised (threshold 50%): name ML-1 (P(surge) 30% to 60%)" in text
    assert "Alert cleared (threshold 50%): name ML-2 (P(surge) 70% to 40%)" in text
    assert "name ML-1 4.0 (2-7) to 9.5 (8-12)" in text
    assert "name ML-3" not in text and "name ML-4" not in text
    table = result.table()
    assert list(table.columns) == [
        "region",
        "expected events, previous quarter",
        "90% interval, previous",
        "expected events, this quarter",
        "90% interval, this quarter",
        "change",
    ]


def test_without_a_previous_overview_says_so() -> None:
    panel = _panel({"ML-1": [0] * 24})
    result = changes.quarter_changes(panel, _rank([0.1] * 4, [1.0] * 4), None, 0.5)
    assert not result.compared and result.moves.empty
    assert result.sentences() == [
        "No region had its first events in twelve months in 2024Q4.",
        "There is no previous quarter's overview to compare forecasts with.",
    ]


def test_alert_crossings_compare_p_surge_under_one_rule_only(tmp_path: Path) -> None:
    """P(surge) from an overview computed under another surge rule (here: before the floor of
    events, or with no rule recorded) would cross the alert threshold by the rule's change:
    the crossings are not compared and the sentence says why; under the same rule they are."""
    panel = _panel({"ML-1": [1] * 24, "ML-2": [0] * 24, "ML-3": [0] * 24, "ML-4": [0] * 24})
    before = _rank([0.3, 0.7, 0.0, 0.0], [4.0, 6.0, 0.0, 0.0])
    now = _rank([0.6, 0.4, 0.0, 0.0], [9.5, 5.5, 0.3, 0.0])
    rule = changes.surge_rule_record(2.0, 3)
    assert rule == {"surge_factor": 2.0, "min_events": 3, "steps": 3, "lookback": 12}
    records = {"ranking": before.drop(columns=["region_name"]).to_dict("records")}
    manifest = tmp_path / "manifest.json"

    def compare(recorded_rule):
        entry = {"kind": "overview", "study_slug": "s", "records": dict(records)}
        if recorded_rule is not None:
            entry["records"]["surge_rule"] = recorded_rule
        manifest.write_text(json.dumps({"reports": [entry]}))
        assert changes.previous_surge_rule(str(manifest), "s") == recorded_rule
        return changes.quarter_changes(
            panel,
            now,
            changes.previous_ranking(str(manifest), "s"),
            0.5,
            surge_rule=rule,
            previous_rule=changes.previous_surge_rule(str(manifest), "s"),
        )

    same = compare(dict(rule))
    assert not same.rule_changed
    assert list(same.raised["region_id"]) == ["ML-1"]
    assert list(same.cleared["region_id"]) == ["ML-2"]
    for other in (None, changes.surge_rule_record(2.0, 1)):
        result = compare(other)
        assert result.rule_changed and result.raised.empty and result.cleared.empty
        text = " ".join(result.sentences())
        assert "under another surge rule" in text and "Alert" not in text
        assert "crossed the alert threshold" not in text
        assert "name ML-1 4.0 (2-7) to 9.5 (8-12)" in text  # expected events still compared
