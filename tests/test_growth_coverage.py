"""The growth intervals' simulated coverage as the reports quote it."""

from __future__ import annotations

import pytest

from analysis.growth.coverage import coverage_ranges, shipped_coverage, short_windows_sentence
from analysis.report import region_text


def _scenario(own_lag, level, window, ratio, trend, independent=(0.8, 0.9)):
    return {
        "own_lag": own_lag,
        "level": level,
        "window": window,
        "ratio": {"headline": ratio, "independent": independent[0]},
        "trend": {"headline": trend, "independent": independent[1]},
    }


def test_ranges_pool_ratios_and_trends_and_pick_the_sparse_and_dependent_scenarios() -> None:
    record = {
        "scenarios": [
            _scenario(0.0, 0.3, 12, 0.985, 0.981, (0.967, 0.956)),  # 3.6 events a window
            _scenario(0.0, 0.3, 36, 0.973, 0.965, (0.938, 0.948)),  # 10.8: not sparse
            _scenario(0.7, 10.0, 12, 0.922, 0.960, (0.580, 0.620)),
            _scenario(0.8, 2.0, 36, 0.910, 0.938, (0.445, 0.477)),
        ]
    }
    ranges = coverage_ranges(record)
    assert ranges.scenarios == 4 and ranges.own_lag == (0.0, 0.8)
    assert ranges.headline == (0.910, 0.985)
    assert ranges.independent == (0.445, 0.967)
    assert ranges.sparse == (0.985, 0.985)
    assert ranges.strong_dependence_low == 0.910
    assert ranges.windows == (12, 36)
    with pytest.raises(ValueError, match="no scenarios"):
        coverage_ranges({"scenarios": []})
    with pytest.raises(ValueError, match="events a window"):
        coverage_ranges({"scenarios": record["scenarios"][2:]})


def test_the_growth_method_quotes_the_shipped_run() -> None:
    shipped = shipped_coverage()
    # the run behind the issue-14 table: five own-lag shares, sparse and dense, 12 and 36 months
    assert shipped.scenarios == 60 and shipped.own_lag == (0.0, 0.8)
    assert shipped.headline[0] <= shipped.strong_dependence_low <= shipped.headline[1]
    assert shipped.independent[0] < shipped.headline[0]
    text = region_text.growth_method()
    low, high = (round(100 * x) for x in shipped.headline)
    assert f"60 scenarios, own-lag shares 0-0.8): {low}-{high}% across the scenarios" in text
    # the lowest strongly dependent coverage lies inside the range the text gives first
    assert f"as little as {round(100 * shipped.strong_dependence_low)}%" in text
    assert low <= round(100 * shipped.strong_dependence_low)


def test_windows_shorter_than_any_simulated_get_a_caveat() -> None:
    shipped = shipped_coverage()
    assert shipped.windows == (12, 36)
    # a year of months is a simulated window; a year of quarters, 4 periods, is not
    assert short_windows_sentence(["2017", "2019"], "month") == ""
    assert short_windows_sentence(["2017..2019", "2020"], "quarter") == (
        "The simulation study's windows were 12 to 36 periods long; this study's windows of 4 "
        "quarters are shorter, and the intervals' coverage there has not been measured, so the "
        "ranges above may not hold for them."
    )
    # each short length once, in order, as the study's windows give them
    text = short_windows_sentence(["2021-01..2021-06", "2024Q1", "2024-01..2024-06"], "month")
    assert "windows of 3 months and 6 months are shorter" in text
