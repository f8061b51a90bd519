"""The one rolling-origin generator: which regions count as active at an origin."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.cross_validation import cross_validation
from analysis.evaluation import backtest
from analysis.models.forecast import History


def _history(freq: str) -> History:
    # region A-1 had its last event 6 periods before the origin, A-2 2 periods before it
    counts = np.zeros((2, 30), dtype=np.int64)
    counts[0, 23] = 3
    counts[1, 27] = 1
    start = "2010-01-01"
    periods = pd.date_range(start, periods=30, freq="MS" if freq == "month" else "QS")
    return History(counts, ("A-1", "A-2"), periods, freq)


def test_a_region_is_active_for_one_year_of_periods_by_default():
    # an event six periods ago is within a year of months, not of quarters (one and a half
    # years): a quarterly study had counted three years
    monthly = next(cross_validation(_history("month"), ["zero"], [29], 1, n_samples=10))
    quarterly = next(cross_validation(_history("quarter"), ["zero"], [29], 1, n_samples=10))
    assert monthly.active.tolist() == [True, True]
    assert quarterly.active.tolist() == [False, True]
    wider = next(
        cross_validation(_history("quarter"), ["zero"], [29], 1, n_samples=10, active_window=12)
    )
    assert wider.active.tolist() == [True, True]


def test_the_backtest_groups_follow_the_same_window():
    history = _history("quarter")
    origin = history.periods[28]  # as in cross_validation above: 29 periods seen
    bt = backtest(history, ["zero"], start=origin, horizon=1, n_samples=10, min_train=4)
    assert set(bt.scores["origin"]) == {origin}
    groups = bt.scores.drop_duplicates("region_id").set_index("region_id")["group"]
    assert groups.to_dict() == {"A-1": "quiet", "A-2": "active"}
