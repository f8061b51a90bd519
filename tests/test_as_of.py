"""As-of cuts: a report as of a quarter sees nothing after it."""

from __future__ import annotations

import pandas as pd

from analysis import periods
from analysis.as_of import events_as_of, panel_as_of, usable_comparisons


def _panel(values: list[int], start: str = "2021-01", freq: str = "month") -> pd.DataFrame:
    step = "MS" if freq == "month" else "QS"
    idx = pd.date_range(start, periods=len(values), freq=step)
    panel = pd.DataFrame({"region_id": "ML-1", "period": idx, "events": values})
    panel.attrs["freq"] = freq
    return panel


def test_quarter_cut() -> None:
    assert periods.quarter_end("2024Q4") == pd.Timestamp("2025-01-01")
    assert periods.quarter_end("2024Q1") == pd.Timestamp("2024-04-01")
    panel = _panel(list(range(24)))
    cut = panel_as_of(panel, "2021Q2")
    assert cut["period"].max() == pd.Timestamp("2021-06-01") and len(cut) == 6
    assert cut.attrs["freq"] == "month"
    assert panel_as_of(panel, "") is panel


def test_events_cut_at_the_end_of_the_quarter() -> None:
    events = pd.DataFrame(
        {"date_start": pd.to_datetime(["2021-03-31", "2021-04-01", "2021-01-01"])}
    )
    assert list(events_as_of(events, "2021Q1")["date_start"].dt.strftime("%m-%d")) == [
        "03-31",
        "01-01",
    ]
    assert events_as_of(events, None) is events


def test_usable_comparisons() -> None:
    panel = _panel([1] * 48)  # 2021-01 .. 2024-12
    assert usable_comparisons([("2021", "2024")], panel) == [("2021", "2024")]
    assert usable_comparisons([("2021", "2024")], panel_as_of(panel, "2024Q2")) == []
    assert usable_comparisons([("2020", "2022")], panel) == []


def test_usable_comparisons_on_a_quarterly_panel() -> None:
    # the last period 2024Q4 starts on 2024-10-01 and covers the whole of 2024's last quarter
    panel = _panel([1] * 16, freq="quarter")  # 2021Q1 .. 2024Q4
    assert usable_comparisons([("2021", "2024")], panel) == [("2021", "2024")]
    assert usable_comparisons([("2021", "2024-12")], panel_as_of(panel, "2024Q3")) == []
    assert usable_comparisons([("2021", "2024Q3")], panel_as_of(panel, "2024Q3")) == [
        ("2021", "2024Q3")
    ]


def test_a_quarter_outside_the_studys_months_is_refused() -> None:
    """A quarter after the data gave a report "as of the end of 2026Q1" forecasting 2025; one
    before them an AttributeError on an empty panel. Both now name the quarters allowed."""
    import pytest

    from analysis.as_of import require_quarter_within
    from analysis.errors import InputError

    panel = _panel([1] * 48)  # 2021-01 .. 2024-12
    assert len(panel_as_of(panel, "2024Q4")) == 48 and len(panel_as_of(panel, "2021Q1")) == 3
    for quarter in ("2025Q1", "2020Q4"):
        with pytest.raises(InputError) as error:
            panel_as_of(panel, quarter)
        message = str(error.value)
        assert "'quarter': expected a quarter from 2021Q1 to 2024Q4" in message
        assert f"(found '{quarter}')" in message
    quarterly = _panel([1] * 16, freq="quarter")  # 2021Q1 .. 2024Q4: its last month 2024-12
    assert len(panel_as_of(quarterly, "2024Q4")) == 16
    # a study ending within a quarter: a report as of that quarter would miss its last months
    with pytest.raises(InputError, match="from 2018Q1 to 2024Q3"):
        require_quarter_within("2024Q4", "2018-01", "2024-11", "study.yaml")
    require_quarter_within("", "2018-01", "2024-11")
