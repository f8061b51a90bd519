"""The overview's ranking and alerts."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from analysis.ranking import alerts, peaks_between, ranking, with_peaks


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


def test_peaks_between_names_a_region_busier_between_the_windows_than_in_the_later_one() -> None:
    """The real study's Sahel ranked first on 3 events in 2017 against 17 in 2020, with 54 in
    2019: the busiest window of the later one's length between the two is named, when it held
    half as many again and 5 more events."""
    years = {2017: 3, 2018: 25, 2019: 54, 2020: 17}
    steady = {2017: 3, 2018: 8, 2019: 12, 2020: 17}
    close = {2017: 2, 2018: 4, 2019: 8, 2020: 4}  # twice 2020's, but only 4 events more

    def monthly(by_year: dict[int, int]) -> list[int]:
        out = []
        for n in by_year.values():
            months = [n // 12] * 12
            for k in range(n % 12):
                months[k] += 1
            out += months
        return out

    panel = _panel(
        {"BF-12": monthly(years), "ML-5": monthly(steady), "ML-4": monthly(close)},
        start="2017-01",
    )
    rows = pd.DataFrame(
        {
            "region_id": ["BF-12", "ML-5", "ML-4"],
            "period_a": "2017",
            "period_b": "2020",
            "count_b": [17, 17, 4],
        }
    )
    peaks = peaks_between(panel, rows)
    assert list(peaks.index) == ["BF-12"]
    assert peaks.loc["BF-12", "peak_label"] == "2019" and peaks.loc["BF-12", "peak_events"] == 54
    # adjacent windows leave nothing between; quarters are written as the study writes them
    assert peaks_between(panel, rows.assign(period_a="2019")).empty
    q = peaks_between(panel, rows.assign(period_a="2019Q4", period_b="2020Q2", count_b=[1, 4, 1]))
    assert q.loc["BF-12", "peak_label"] == "2020Q1" and q.loc["BF-12", "peak_events"] == 6
    # the ranking carries it, for the overview's sentence
    surge = pd.DataFrame({"region_id": rows["region_id"], "p_surge": 0.1})
    spill = SimpleNamespace(regions=pd.DataFrame({"region_id": rows["region_id"], "p_any": 1.0}))
    growth = rows.assign(ratio=[5.7, 5.7, 2.0], headline_ci_low=[1.7, 1.7, 0.3],
                         headline_ci_high=[25.0, 25.0, 15.0])  # fmt: skip
    rank = ranking(panel, growth, surge, spill).set_index("region_id")
    assert rank.loc["BF-12", "peak_label"] == "2019" and pd.isna(rank.loc["ML-5", "peak_label"])
    # and every comparison of a growth table, for the region reports' sentences
    two = pd.concat([rows, rows.assign(period_a="2018", count_b=[17, 17, 4])], ignore_index=True)
    marked = with_peaks(panel, two)
    assert list(marked["peak_label"].fillna("-")) == ["2019", "-", "-", "2019", "-", "-"]
    assert marked["peak_events"].iloc[3] == 54 and list(marked.index) == list(two.index)


def test_ranking_without_surge_breaks_ties_by_p_any() -> None:
    """Where P(surge) has no shown skill the overview neither ranks on it nor shows it."""
    panel = _panel({"ML-1": [2] * 24, "ML-2": [0] * 24, "SN-KE": [1] * 24})
    surge = pd.DataFrame({"region_id": ["ML-1", "ML-2", "SN-KE"], "p_surge": [0.2, 0.7, 0.2]})
    spill = SimpleNamespace(
        regions=pd.DataFrame({"region_id": ["ML-1", "ML-2", "SN-KE"], "p_any": [0.9, 0.5, 0.95]})
    )
    assert list(ranking(panel, None, surge, spill)["region_id"]) == ["ML-2", "SN-KE", "ML-1"]
    plain = ranking(panel, None, surge, spill, by_surge=False)
    assert list(plain["region_id"]) == ["SN-KE", "ML-1", "ML-2"]
    assert "p_surge" in plain.columns  # the alert rule still reads it
