from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.errors import InputError
from analysis.panel import build_panel, from_matrix, to_matrix
from analysis.periods import parse_month, period_start

MALI = ["ML-1", "ML-2", "ML-3", "ML-4", "ML-5", "ML-6", "ML-7", "ML-8", "ML-BKO"]


def _events(region_ids, dates, fatalities=None):
    return pd.DataFrame(
        {
            "region_id": pd.Series(region_ids, dtype="string"),
            "date_start": pd.to_datetime(dates),
            "fatalities": fatalities if fatalities is not None else np.ones(len(dates)),
        }
    )


def test_zero_filled_for_every_unit_and_period(boundaries):
    events = _events(
        ["ML-1", "ML-1", "ML-5"], ["2021-01-05", "2021-01-31", "2021-03-02"], [2, 0, 5]
    )
    panel = build_panel(events, boundaries, ["MLI"], "2021-01", "2021-04")
    assert len(panel) == 9 * 4
    assert list(panel.columns) == [
        "region_id", "region_name", "country", "period", "events", "fatalities",
    ]  # fmt: skip
    kayes = panel[panel.region_id == "ML-1"].set_index("period")
    assert kayes.loc["2021-01-01", "events"] == 2
    assert kayes.loc["2021-01-01", "fatalities"] == 2
    assert kayes.loc["2021-02-01", "events"] == 0
    assert panel["events"].sum() == 3
    assert panel.attrs["freq"] == "month"
    assert set(panel["region_id"]) == set(MALI)


def test_quarterly_panel_and_window_edges(boundaries):
    events = _events(["ML-1"] * 3, ["2020-12-31", "2021-01-01", "2021-06-30"])
    panel = build_panel(events, boundaries, ["MLI"], "2021-01", "2021-06", freq="quarter")
    kayes = panel[panel.region_id == "ML-1"]
    assert list(kayes["events"]) == [1, 1]
    assert panel.attrs["events_outside"] == 1


def test_bad_window_and_country_are_input_errors(boundaries):
    events = _events(["ML-1"], ["2021-01-01"])
    with pytest.raises(InputError, match="ends before"):
        build_panel(events, boundaries, ["MLI"], "2021-05", "2021-01")
    with pytest.raises(InputError, match="countries not in"):
        build_panel(events, boundaries, ["XXX"], "2021-01", "2021-02")
    with pytest.raises(InputError, match="bad start"):
        parse_month("2021-13", "start")


def test_matrix_round_trip(boundaries):
    counts = np.arange(12).reshape(3, 4)
    periods = pd.date_range("2020-01-01", periods=4, freq="MS")
    panel = from_matrix(counts, ["ML-1", "ML-2", "ML-3"], periods, boundaries=boundaries)
    back, ids, per = to_matrix(panel)
    assert (back == counts).all() and ids == ["ML-1", "ML-2", "ML-3"]
    assert (per == periods).all()


def test_period_start_floors_to_quarter():
    dates = pd.Series(pd.to_datetime(["2021-02-15", "2021-06-30", "2021-12-01"]))
    assert list(period_start(dates, "quarter").dt.month) == [1, 4, 10]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.lists(
        st.tuples(
            st.sampled_from(MALI + ["MR-10", "SN-TC"]),
            st.dates(
                min_value=pd.Timestamp("2019-06-01").date(),
                max_value=pd.Timestamp("2021-06-30").date(),
            ),
            st.integers(min_value=0, max_value=50),
        ),
        max_size=60,
    ),
    freq=st.sampled_from(["month", "quarter"]),
)
def test_panel_properties(boundaries, data, freq):
    regions = [d[0] for d in data]
    dates = [pd.Timestamp(d[1]) for d in data]
    fatalities = np.array([d[2] for d in data], dtype=float)
    events = _events(regions, dates, fatalities)
    panel = build_panel(events, boundaries, ["MLI"], "2020-01", "2020-12", freq=freq)
    n_periods = 12 if freq == "month" else 4
    # exactly one row per region x period
    assert len(panel) == 9 * n_periods
    assert not panel.duplicated(["region_id", "period"]).any()
    # sums equal the filtered events
    inside = events["region_id"].isin(MALI) & events["date_start"].between(
        "2020-01-01", "2020-12-31"
    )
    assert panel["events"].sum() == inside.sum()
    assert panel["fatalities"].sum() == fatalities[inside.to_numpy()].sum()
    # zeros exactly where nothing happened
    expected = events[inside].assign(period=period_start(events.loc[inside, "date_start"], freq))
    happened = set(zip(expected["region_id"], expected["period"], strict=True))
    nonzero = set(
        zip(
            panel.loc[panel.events > 0, "region_id"],
            panel.loc[panel.events > 0, "period"],
            strict=True,
        )
    )
    assert nonzero == happened


def test_months_match_numpys_calendar_before_and_after_1970():
    from analysis.panel import _months

    rng = np.random.default_rng(3)
    days = np.datetime64("1946-01-01") + rng.integers(0, 30_000, 5_000).astype("timedelta64[D]")
    stamps = days.astype("datetime64[ns]") + rng.integers(0, 86_400 * 10**9, 5_000).astype(
        "timedelta64[ns]"
    )
    stamps[::7] = np.datetime64("NaT")
    known = ~np.isnat(stamps)
    expected = stamps.astype("datetime64[M]").astype(np.int64)
    np.testing.assert_array_equal(_months(stamps)[known], expected[known])


def test_a_quarterly_panel_refuses_a_window_that_cuts_a_quarter(boundaries):
    events = _events(["ML-1"], [pd.Timestamp("2021-01-15")], np.zeros(1))
    with pytest.raises(InputError) as info:
        build_panel(events, boundaries, ["MLI"], "2021-02", "2021-05", freq="quarter")
    assert [(p.column, p.found) for p in info.value.problems] == [
        ("start", "2021-02"),
        ("end", "2021-05"),
    ]
    # the January event is not counted in a window that starts in February
    monthly = build_panel(events, boundaries, ["MLI"], "2021-02", "2021-05", freq="month")
    assert monthly["events"].sum() == 0
