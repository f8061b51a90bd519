"""Canonical schema, its validation, and the filters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import InputError
from analysis.events import (
    ACTOR_ALIASES,
    CANONICAL_COLUMNS,
    EVENT_SCHEMA,
    coerce_events,
    duplicated_ids,
    empty_events,
    filter_events,
    validate_events,
)


def events(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {
        "event_id": [f"E{i}" for i in range(n)],
        "source": ["acled"] * n,
        "date_start": pd.to_datetime(["2021-01-15"] * n),
        "country": ["Mali"] * n,
        "event_type": ["Battles"] * n,
    }
    base.update(columns)
    frame = pd.DataFrame(base)
    if "date_end" not in columns:
        frame["date_end"] = frame["date_start"]
    return coerce_events(frame)


def test_empty_and_coerced_frames_are_valid():
    EVENT_SCHEMA.validate(empty_events())
    frame = events(latitude=[14.0, np.nan], fatalities=[0, 3])
    assert list(frame.columns) == CANONICAL_COLUMNS
    assert frame["date_start"].dtype == "datetime64[ns]"
    validate_events(frame)


def test_validation_reports_every_problem_with_lines():
    frame = events(
        latitude=[14.0, 95.0, np.nan, -91.0],
        longitude=[0.0, 0.0, 200.0, 0.0],
        fatalities=[1, -2, 0.5, 3],
    )
    frame.loc[3, "event_id"] = "E0"
    frame.loc[2, "date_end"] = pd.Timestamp("2020-01-01")
    with pytest.raises(InputError) as info:
        validate_events(frame, file="x.csv", lines=[2, 3, 7, 9])
    got = {(p.line, p.column) for p in info.value.problems}
    assert got == {
        (3, "latitude"),
        (9, "latitude"),
        (7, "longitude"),
        (3, "fatalities"),
        (7, "fatalities"),
        (9, "event_id"),
        (7, "date_end"),
    }
    assert all(p.file == "x.csv" for p in info.value.problems)


def test_many_failures_are_summarised():
    frame = events(latitude=np.full(120, 100.0))
    with pytest.raises(InputError) as info:
        validate_events(frame)
    problems = info.value.problems
    assert len(problems) == 51 and "70 more rows" in problems[-1].found
    # the count line is marked, so the 20-line display never cuts it, and gives the total
    assert problems[-1].more_rows == 70 and "120 in all" in problems[-1].found
    assert all(p.more_rows is None for p in problems[:-1])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=30), min_size=1, max_size=60), st.booleans())
def test_duplicated_ids_matches_pandas(ids, two_sources):
    sources = ["ucdp" if (two_sources and i % 2) else "acled" for i in range(len(ids))]
    frame = pd.DataFrame(
        {
            "event_id": pd.array(ids, dtype="string[pyarrow]"),
            "source": pd.array(sources, dtype="string[pyarrow]"),
        }
    )
    expected = frame.duplicated(["source", "event_id"]).to_numpy()
    got = duplicated_ids(frame)
    if got is None:
        assert not expected.any()
    else:
        np.testing.assert_array_equal(got, expected)


def test_duplicated_ids_on_sliced_arrow_arrays():
    s = pd.Series([f"id-{i % 5000}" for i in range(10000)], dtype="string[pyarrow]")
    frame = pd.DataFrame({"event_id": s, "source": "acled"}).iloc[2500:7600]
    frame["source"] = frame["source"].astype("string[pyarrow]")
    got = duplicated_ids(frame.reset_index(drop=True))
    assert got is not None and got.sum() == 100


ACTORS = events(
    actor1=[
        "JNIM: Group for Support of Islam and Muslims",
        "Military Forces of Mali (2021-)",
        "Jama'at Nusrat al-Islam wal-Muslimin",
        "AQIM: Al Qaeda in the Islamic Maghreb",
        "Katiba Macina",
        "Ansar Dine",
        "Civilians (Mali)",
        "Islamic State (Sahel)",
    ],
    actor2=[None, "jnim", None, None, None, None, None, None],
    assoc_actor_1=[
        None,
        None,
        None,
        None,
        None,
        None,
        "Group for the Support of Islam and Muslims",
        None,
    ],
    country=["Mali", "Mali", "Burkina Faso", "Mali", "Mali", "Mali", "Mali", "Niger"],
    iso3=["MLI", "MLI", "BFA", "MLI", "MLI", "MLI", "MLI", "NER"],
    event_type=[
        "Battles",
        "Battles",
        "Violence against civilians",
        "Battles",
        "Battles",
        "Battles",
        "Violence against civilians",
        "Battles",
    ],
    date_start=pd.to_datetime(
        [
            "2017-03-02",
            "2018-12-31",
            "2019-01-01",
            "2012-05-05",
            "2015-06-06",
            "2013-01-01",
            "2021-07-31",
            "2021-08-01",
        ]
    ),
)


def test_actor_alias_matches_any_actor_column_case_insensitively():
    assert list(filter_events(ACTORS, actors=["jnim"]).index) == [0, 1, 2, 6]


def test_predecessors_are_opt_in():
    assert list(filter_events(ACTORS, actors=["JNIM"], include_predecessors=True).index) == [
        0,
        1,
        2,
        3,
        4,
        5,
        6,
    ]


def test_plain_and_regex_actor_patterns():
    assert list(filter_events(ACTORS, actors=["military forces"]).index) == [1]
    assert list(filter_events(ACTORS, actors=[r"islamic state|ansar"]).index) == [5, 7]
    assert list(filter_events(ACTORS, actors=["Mali (2021-"]).index) == [
        1
    ]  # invalid regex: literal


def test_an_exact_name_with_parentheses_matches_as_written(recwarn):
    # a valid expression whose groups read "(Sahel)" as "Sahel": it matched nothing
    assert list(filter_events(ACTORS, actors=["Islamic State (Sahel)"]).index) == [7]
    assert list(filter_events(ACTORS, actors=["Military Forces of Mali (2021-)"]).index) == [1]
    both = filter_events(ACTORS, actors=["JNIM", "Islamic State (Sahel)"])
    assert 7 in list(both.index) and 0 in list(both.index)
    assert not [w for w in recwarn if "match groups" in str(w.message)]


def test_short_aliases_need_whole_words():
    frame = events(actor1=["FLMX militia", "FLM"], date_start=pd.to_datetime(["2020-01-01"] * 2))
    got = filter_events(frame, actors=["JNIM"], include_predecessors=True)
    assert list(got.index) == [1]


def test_countries_by_name_or_iso3_and_event_types():
    assert list(filter_events(ACTORS, countries=["BFA", "niger"]).index) == [2, 7]
    got = filter_events(ACTORS, event_types=["violence against civilians"])
    assert list(got.index) == [2, 6]


def test_date_window_is_inclusive_by_month_year_or_day():
    assert list(filter_events(ACTORS, start="2018-12", end="2021-07").index) == [1, 2, 6]
    assert list(filter_events(ACTORS, start="2021").index) == [6, 7]
    assert list(filter_events(ACTORS, end="2012-05-05").index) == [3]
    with pytest.raises(InputError):
        filter_events(ACTORS, start="last year")


def test_alias_list_names_jnim_forms():
    names = {a.lower() for a in ACTOR_ALIASES["JNIM"]}
    assert "group for support of islam and muslims" in names
    assert "jama'at nusrat al-islam wal-muslimin" in names


def test_quality_counts_best_fatalities_outside_their_range():
    from analysis.events import quality_counts

    day = pd.Timestamp("2020-01-01")
    events = pd.DataFrame(
        {
            "latitude": [1.0] * 4,
            "longitude": [1.0] * 4,
            "date_start": [day] * 4,
            "date_end": [day] * 4,
            "fatalities": [5, 1, 9, 3],
            # inside; below its low; above its high; above its high with no low given
            "fatalities_low": [2, 2, 2, None],
            "fatalities_high": [8, 8, 8, 1],
        }
    )
    assert quality_counts(events) == {"fatality_bounds": 3}
    # a source without the range (ACLED) has nothing to count
    assert quality_counts(events.drop(columns=["fatalities_low", "fatalities_high"])) == {}


def test_an_actor_pattern_re2_refuses_is_matched_by_python_re(monkeypatch):
    """pandas before 3 passes a pyarrow column's pattern to RE2, which refuses some of
    Python's regex features with ArrowInvalid; the filter then matches with Python's re."""
    import pyarrow as pa

    from analysis import events as ev

    def refuse(self, *args, **kwargs):
        raise pa.ArrowInvalid("Invalid regular expression: invalid perl operator: (?<")

    frame = pd.DataFrame(
        {"actor1": pd.array(["JNIM: Group for Support", "AQIM", None], dtype="string[pyarrow]")}
    )
    monkeypatch.setattr(pd.core.strings.accessor.StringMethods, "contains", refuse)
    hit = ev._contains(frame["actor1"], "(?<=J)NIM")
    assert hit.tolist() == [True, False, False]
