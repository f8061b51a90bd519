"""ACLED reader: every written date form, both header cases, byte-order mark, extras."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.errors import InputError
from analysis.events import EVENT_SCHEMA, DataQualityWarning
from analysis.sources import detect_format, read_acled, read_events

COLUMNS = (
    "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,"
    "actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,"
    "iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,"
    "source_scale,notes,fatalities,tags,timestamp"
).split(",")

ROWS = [
    {
        "event_id_cnty": "MLI1001",
        "event_date": "2024-02-08",
        "year": "2024",
        "time_precision": "1",
        "event_type": "Violence against civilians",
        "actor1": "JNIM: Group for Support of Islam and Muslims",
        "actor2": "Civilians (Mali)",
        "country": "Mali",
        "iso": "466",
        "admin1": "Kayes",
        "latitude": "14.4469",
        "longitude": "-11.4445",
        "source": "Studio Tamani",
        "notes": "On 8 February 2024, JNIM militants attacked a truck convoy near Diema, Kayes.",
        "fatalities": "3",
    },
    {
        "event_id_cnty": "MLI1002",
        "event_date": "08 February 2024",
        "time_precision": "2",
        "event_type": "Battles",
        "actor1": "Military Forces of Mali (2021-)",
        "assoc_actor_1": "Wagner Group",
        "actor2": "JNIM: Group for Support of Islam and Muslims",
        "country": "Mali",
        "iso": "466",
        "admin1": "Koulikoro",
        "latitude": "",
        "longitude": "",
        "notes": 'Clash near "Kati", with a line\nbreak in the notes.',
        "fatalities": "0",
    },
    {
        "event_id_cnty": "SEN77",
        "event_date": "8-Feb-24",
        "time_precision": "1",
        "event_type": "Protests",
        "actor1": "Protesters (Senegal)",
        "country": "Senegal",
        "iso": "686",
        "admin1": "Tambacounda",
        "latitude": "13.77",
        "longitude": "-13.67",
        "fatalities": "0",
    },
]


def write_acled(
    path: Path, rows: list[dict], upper: bool = False, bom: bool = False, columns=COLUMNS
) -> Path:
    """Write an ACLED-format CSV (the tests' own fixture writer)."""
    header = [c.upper() if upper else c for c in columns]
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns])
    return path


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("bom", [False, True])
def test_reads_every_date_form_header_case_and_bom(tmp_path, upper, bom):
    path = write_acled(tmp_path / "acled.csv", ROWS, upper=upper, bom=bom)
    assert detect_format(path) == "acled"
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        result = read_events(path)
    events = result.events
    assert result.source == "acled" and result.rows_read == 3
    assert list(events["date_start"]) == [pd.Timestamp("2024-02-08")] * 3
    assert events["date_start"].dtype == "datetime64[ns]"
    assert (events["date_end"] == events["date_start"]).all()
    assert list(events["event_id"]) == ["MLI1001", "MLI1002", "SEN77"]
    assert list(events["fatalities"]) == [3.0, 0.0, 0.0]
    assert events.loc[1, "assoc_actor_1"] == "Wagner Group"
    assert events.loc[1, "notes"].endswith("line\nbreak in the notes.")
    assert pd.isna(events.loc[1, "latitude"])
    assert events["source"].eq("acled").all()
    # extras kept, lower-cased; ACLED's news source does not clobber the canonical source
    assert events.loc[0, "acled_source"] == "Studio Tamani"
    assert {"sub_event_type", "iso", "time_precision", "geo_precision"} <= set(events.columns)
    EVENT_SCHEMA.validate(events)


def test_quality_issues_counted_and_warned(tmp_path):
    path = write_acled(tmp_path / "acled.csv", ROWS)
    with pytest.warns(DataQualityWarning) as record:
        result = read_acled(path)
        from analysis.events import warn_quality

        warn_quality(str(path), result.quality)
    assert result.quality == {"missing_coordinates": 1, "imprecise_date": 1}
    text = " ".join(str(w.message) for w in record)
    assert "1 events without coordinates" in text and "imprecise date" in text
    assert len(result.events) == 3  # nothing dropped


def test_minimal_columns_and_source_override(tmp_path):
    cols = ["event_id_cnty", "event_date", "event_type", "actor1", "country", "fatalities"]
    path = write_acled(tmp_path / "min.csv", ROWS[:1], columns=cols)
    result = read_events(path, source="acled")
    assert result.events["admin1"].isna().all() and result.events["latitude"].isna().all()
    assert list(result.events.columns[:19]) == list(EVENT_SCHEMA.columns)


def test_keep_extra_false_drops_unmapped_columns(tmp_path):
    path = write_acled(tmp_path / "acled.csv", ROWS)
    events = read_acled(path, keep_extra=False).events
    assert list(events.columns) == list(EVENT_SCHEMA.columns)


def test_line_numbers_follow_quoted_newlines(tmp_path):
    rows = [dict(ROWS[1], event_id_cnty="A1"), dict(ROWS[0], event_id_cnty="A2", latitude="95")]
    path = write_acled(tmp_path / "acled.csv", rows)
    with pytest.raises(InputError) as info:
        read_acled(path)
    # record 2 starts on line 4: the header, then record 1 spanning lines 2-3
    assert "line 4" in str(info.value) and "'latitude'" in str(info.value)


_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20
).map(str.strip)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.lists(
        st.tuples(
            st.dates(
                min_value=pd.Timestamp("1997-01-01").date(),
                max_value=pd.Timestamp("2025-12-31").date(),
            ),
            st.sampled_from(["%Y-%m-%d", "%d %B %Y", "%-d-%b-%y"]),
            st.integers(0, 500),
            st.one_of(st.none(), st.floats(-90, 90, allow_nan=False).map(lambda x: round(x, 4))),
            _text,
            _text,
        ),
        min_size=1,
        max_size=15,
    ),
    upper=st.booleans(),
)
def test_round_trip_property(tmp_path, data, upper):
    """Whatever is written in ACLED form reads back as the same events."""
    rows = []
    for i, (day, fmt, deaths, lat, actor, notes) in enumerate(data):
        if fmt == "%-d-%b-%y" and not 1969 <= day.year <= 2068:
            fmt = "%Y-%m-%d"
        rows.append(
            {
                "event_id_cnty": f"EV{i}",
                "event_date": day.strftime(fmt),
                "event_type": "Battles",
                "actor1": actor,
                "country": "Mali",
                "latitude": "" if lat is None else repr(lat),
                "longitude": "" if lat is None else "1.5",
                "notes": notes,
                "fatalities": str(deaths),
            }
        )
    path = write_acled(tmp_path / "prop.csv", rows, upper=upper)
    events = read_acled(path).events
    assert list(events["date_start"]) == [pd.Timestamp(d[0]) for d in data]
    assert list(events["fatalities"]) == [float(d[2]) for d in data]
    lats = np.array([np.nan if d[3] is None else d[3] for d in data])
    np.testing.assert_array_equal(events["latitude"].to_numpy(), lats)
    for got, want in zip(events["actor1"], [d[4] for d in data], strict=True):
        assert (pd.isna(got) and want == "") or got == want
    for got, want in zip(events["notes"], [d[5] for d in data], strict=True):
        assert (pd.isna(got) and want == "") or got == want


def test_two_overlapping_exports_name_the_id_column_as_acled_writes_it(tmp_path):
    """Two downloads that overlap hold the same events: refused, on ACLED's own column name
    (it had said 'event_id', a name the files do not have) and with the line of the first."""
    from analysis.sources.ingest import ingest

    first = write_acled(tmp_path / "jan.csv", ROWS[:2])
    second = write_acled(tmp_path / "feb.csv", ROWS[1:])
    with pytest.raises(InputError, match="duplicate event ids across files") as info:
        ingest([first, second], regions="none")
    (problem,) = info.value.problems
    assert problem.column == "event_id_cnty" and problem.found == "MLI1002"
    assert problem.file == str(second) and problem.line == 2
    assert f"also in {first}, line 3" in problem.expected
    assert "overlapping exports" in problem.expected
