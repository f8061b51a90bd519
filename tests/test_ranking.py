"""The overview's ranking and alerts."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from analysis.ranking import alerts, ranking


def _panel(counts: dict[str, list[int]], start: str = "2021-01") -> pd.DataFrame:
    periods = pd.date_range(start, periods=len(next(iter(counts.values()))), freq="MS")
    rows = [
        (rid, f"name {rid}", rid[:2], period, value)
        for rid, values in counts.items()
        for period, value in zip(periods, values, strict=True)
    ]
    return pd.DataFrame(rows, columns=["region_id", "region_name", "country", "period", "events"])


def test_ranking_and_alerts() -> None:
    panel = _panel({"ML-1": [2] * 24, "ML-2": [0] * 24, "SN-KE": [1] * 24})
    surge = pd.DataFrame({"region_id": ["ML-1", "ML-2", "SN-KE"], "p_surge": [0.2, 0.7, 0.2]})
    spill = SimpleNamespace(
        regions=pd.DataFrame({"region_id": ["ML-1", "ML-2", "SN-KE"], "p_any": [0.9, 0.5, 0.95]})
    )
    rank = ranking(panel, None, surge, spill)
    assert list(rank["region_id"]) == ["ML-2", "SN-KE", "ML-1"]
    assert list(rank["rank"]) == [1, 2, 3]
    assert rank.set_index("region_id").loc["ML-1", "events_recent"] == 24
    assert list(alerts(rank, 0.5)["region_id"]) == ["ML-2"]


def test_ranking_puts_the_growth_we_are_sure_of_first() -> None:
    # 0 -> 1 event has an unbounded ratio but a small lower bound; 10 -> 73 ranks above it
    panel = _panel({"ML-1": [1] * 12, "ML-2": [1] * 12})
    growth = pd.DataFrame(
        {
            "region_id": ["ML-1", "ML-2"],
            "period_a": ["2021", "2021"],
            "period_b": ["2024", "2024"],
            "ratio": [np.inf, 7.3],
            "headline_ci_low": [0.2, 4.9],
            "headline_ci_high": [np.inf, 11.0],
        }
    )
    surge = pd.DataFrame({"region_id": ["ML-1", "ML-2"], "p_surge": [0.9, 0.1]})
    spill = SimpleNamespace(regions=pd.DataFrame({"region_id": ["ML-1", "ML-2"], "p_any": [1, 1]}))
    rank = ranking(panel, growth, surge, spill)
    assert list(rank["region_id"]) == ["ML-2", "ML-1"]
    assert rank.loc[0, "ratio_low"] == 4.9 and rank.loc[0, "ratio_high"] == 11.0


def test_ranking_breaks_bounds_that_print_the_same_by_p_surge() -> None:
    """Kidal (0.03912) ranked above Koulikoro (0.03895) though both print 0.039 and the
    overview says ties go to the higher P(surge), Koulikoro's 10% against Kidal's 5%."""
    panel = _panel({"ML-8": [1] * 12, "ML-2": [1] * 12, "ML-5": [1] * 12})
    growth = pd.DataFrame(
        {
            "region_id": ["ML-8", "ML-2", "ML-5"],
            "period_a": ["2017"] * 3,
            "period_b": ["2020"] * 3,
            "ratio": [0.3, 1.0, 2.0],
            "headline_ci_low": [0.03912, 0.03895, 0.0392],
            "headline_ci_high": [2.31, 25.8, 9.0],
        }
    )
    surge = pd.DataFrame({"region_id": ["ML-8", "ML-2", "ML-5"], "p_surge": [0.05, 0.10, 0.01]})
    spill = SimpleNamespace(
        regions=pd.DataFrame({"region_id": ["ML-8", "ML-2", "ML-5"], "p_any": [0.7, 0.8, 0.9]})
    )
    rank = ranking(panel, growth, surge, spill)
    # 0.0392 prints as 0.039 too: all three tie on the printed bound
    assert list(rank["region_id"]) == ["ML-2", "ML-8", "ML-5"]
    assert "_low_shown" not in rank.columns and rank["ratio_low"].tolist()[0] == 0.03895
    # a bound that prints higher still ranks first, whatever its P(surge)
    growth.loc[2, "headline_ci_low"] = 0.041
    assert ranking(panel, growth, surge, spill)["region_id"].iloc[0] == "ML-5"
