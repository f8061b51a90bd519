"""The one period parser: months, quarters, windows and period starts."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import periods
from analysis.errors import InputError


def test_months_and_quarters_parse_to_period_starts():
    assert periods.parse_month("2021-03") == pd.Timestamp("2021-03-01")
    assert periods.validate_quarter(" 2024q3 ") == "2024Q3"
    assert periods.previous_quarter("2024Q1") == "2023Q4"
    assert periods.quarter_end("2024Q4") == pd.Timestamp("2025-01-01")


@pytest.mark.parametrize("text", ["2021-13", "2021-3", "21-03", "2021/03", ""])
def test_bad_months_name_the_option(text):
    with pytest.raises(InputError) as info:
        periods.parse_month(text, "--origin")
    assert info.value.problems[0].column == "--origin"
    assert not periods.is_month(text)


@pytest.mark.parametrize("text", ["2024Q5", "2024Q0", "2024-Q1", "Q1 2024"])
def test_bad_quarters_are_refused(text):
    with pytest.raises(InputError):
        periods.validate_quarter(text)
    # a command's --quarter is named as its option, not as a table's "column 'quarter'"
    with pytest.raises(InputError) as info:
        periods.validate_quarter(text, "--quarter")
    assert str(info.value.problems[0]).startswith("option '--quarter': expected a quarter")


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [
        (2021, "2021-01-01", "2022-01-01"),
        ("2021Q3", "2021-07-01", "2021-10-01"),
        ("2021-12", "2021-12-01", "2022-01-01"),
        ("2021-01..2021-06", "2021-01-01", "2021-07-01"),
        ("2020..2021Q1", "2020-01-01", "2021-04-01"),
        ("2021..2022", "2021-01-01", "2023-01-01"),
    ],
)
def test_windows_are_half_open(spec, start, end):
    window = periods.parse_window(spec)
    assert (window.start, window.end) == (pd.Timestamp(start), pd.Timestamp(end))
    assert window.label == str(spec)


@pytest.mark.parametrize(
    "spec", ["2021-06..2021-01", "2022..2021", "2021Q5", "2021-13", "21", "last year", "2021-00"]
)
def test_bad_windows_are_refused(spec):
    assert not periods.is_window(spec)


def test_period_start_and_range_agree():
    dates = pd.Series(pd.to_datetime(["2021-02-17", "2021-05-31", "2021-12-01", None]))
    assert list(periods.period_start(dates, "quarter").dt.month[:3]) == [1, 4, 10]
    assert periods.period_start(dates, "month").isna().iloc[3]
    rng = periods.period_range(pd.Timestamp("2021-02-17"), pd.Timestamp("2021-12-01"), "quarter")
    assert list(rng) == list(
        pd.to_datetime(["2021-01-01", "2021-04-01", "2021-07-01", "2021-10-01"])
    )
    with pytest.raises(ValueError):
        periods.period_start(dates, "week")


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2021", "2021-01-01", "2022-01-01"),
        ("2021-2", None, None),
        ("2021-02", "2021-02-01", "2021-03-01"),
        ("2021Q2", "2021-04-01", "2021-07-01"),
        ("2021-02-28", "2021-02-28", "2021-03-01"),
    ],
)
def test_date_bounds_include_the_whole_period(text, start, end):
    if start is None:
        with pytest.raises(InputError):
            periods.date_bound(text, end=False, what="start")
        return
    assert periods.date_bound(text, end=False, what="start") == pd.Timestamp(start)
    assert periods.date_bound(text, end=True, what="end") == pd.Timestamp(end)


def test_period_end_is_the_next_period_start() -> None:
    assert periods.period_end(pd.Timestamp("2024-12-01"), "month") == pd.Timestamp("2025-01-01")
    assert periods.period_end(pd.Timestamp("2024-10-01"), "quarter") == pd.Timestamp("2025-01-01")
    assert periods.period_end(pd.Timestamp("2024-02-15"), "quarter") == pd.Timestamp("2024-04-01")
    with pytest.raises(ValueError):
        periods.period_end(pd.Timestamp("2024-01-01"), "week")


def test_quarter_of_a_date() -> None:
    assert periods.quarter_of(pd.Timestamp("2024-11-01")) == "2024Q4"
    assert periods.quarter_of(pd.Timestamp("2024-01-01")) == "2024Q1"
    assert periods.parse_quarter(periods.quarter_of(pd.Timestamp("2023-06-30"))).start_time == (
        pd.Timestamp("2023-04-01")
    )


def test_comparison_order():
    from analysis.periods import comparison_order

    assert comparison_order("2021", "2024") is None
    assert comparison_order("2021Q4", "2022-01") is None  # adjacent windows share no month
    assert "earlier window first" in comparison_order("2024", "2021")
    assert "share months" in comparison_order("2021", "2021-06")


def test_a_quarterly_origin_is_a_quarter_or_its_last_month() -> None:
    from analysis.periods import parse_origin

    march = pd.Timestamp("2024-03-01")
    assert parse_origin("2024Q1", "quarter") == parse_origin("2024q1", "quarter") == march
    assert parse_origin("2024-03", "quarter") == march
    # a month inside a quarter would have the model see the months after it
    for text in ("2024-02", "2024-01", "March 2024"):
        with pytest.raises(InputError) as info:
            parse_origin(text, "quarter")
        (problem,) = info.value.problems
        assert problem.column == "--origin" and problem.expected.startswith(
            "a quarter (2024Q1) or its last month (2024-03)"
        )
    assert parse_origin("2024-02", "month") == pd.Timestamp("2024-02-01")
    with pytest.raises(InputError, match="YYYY-MM"):
        parse_origin("2024Q1", "month")
