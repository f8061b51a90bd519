"""UCDP GED reader: the real West African extract and small files in GED's published form."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from analysis.events import EVENT_SCHEMA, filter_events
from analysis.sources import detect_format, read_events, read_ucdp


def real_file() -> Path:
    value = os.environ.get("CONFLICT_TRENDS_REAL_DATA")
    if not value:
        pytest.skip("CONFLICT_TRENDS_REAL_DATA not set")
    path = Path(value)
    if not path.exists():
        pytest.skip(f"{path} missing")
    return path


@pytest.fixture(scope="module")
def real():
    path = real_file()
    return path, read_ucdp(path)


@pytest.mark.real_data
def test_real_file_counts_match_independent_pandas_count(real):
    path, result = real
    raw = pd.read_csv(path)  # independent: pandas' own parser, no code of ours
    assert result.rows_read == len(raw) == 8351
    events = result.events
    EVENT_SCHEMA.validate(events)
    ours = events.groupby([events["country"].astype(str), events["date_start"].dt.year]).size()
    theirs = raw.groupby(["country", pd.to_datetime(raw["date_start"]).dt.year]).size()
    ours.index.names = theirs.index.names = ["country", "year"]
    pd.testing.assert_series_equal(ours.sort_index(), theirs.sort_index(), check_names=False)
    # and the figures published in SOURCES.md
    per_country = events["country"].value_counts()
    assert per_country["Nigeria"] == 3728 and per_country["Mali"] == 891
    mali = events[events["country"] == "Mali"]
    assert mali["date_start"].dt.year.value_counts()[2018] == 183


@pytest.mark.real_data
def test_real_file_mapping(real):
    path, result = real
    raw = pd.read_csv(path)
    events = result.events
    assert (events["event_id"] == raw["id"].astype(str).to_numpy()).all()
    assert set(events["event_type"]) == {"state-based", "non-state", "one-sided"}
    codes = raw["type_of_violence"].map({1: "state-based", 2: "non-state", 3: "one-sided"})
    assert (events["event_type"].to_numpy() == codes.to_numpy()).all()
    assert (events["fatalities"].to_numpy() == raw["best"].to_numpy()).all()
    assert (events["fatalities_low"].to_numpy() == raw["low"].to_numpy()).all()
    assert (events["actor1"].to_numpy() == raw["side_a"].to_numpy()).all()
    # extra columns kept, including the non-GED adm1_iso
    assert {"year", "conflict_name", "adm1_iso"} <= set(events.columns)
    # pandas' own count of the rows whose best estimate lies outside low..high
    outside = ((raw["best"] < raw["low"]) | (raw["best"] > raw["high"])).sum()
    assert result.quality == {"fatality_bounds": outside} and outside == 76


@pytest.mark.real_data
def test_real_file_jnim_counts_per_year(real):
    _, result = real
    jnim = filter_events(result.events, actors=["JNIM"])
    per_year = jnim["date_start"].dt.year.value_counts().sort_index()
    assert per_year.to_dict() == {2017: 66, 2018: 116, 2019: 201, 2020: 163}
    mali_2017 = filter_events(jnim, countries=["MLI", "Mali"], start="2017-01", end="2017-12")
    assert len(mali_2017) == 62


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_published_form_with_times_and_precision(tmp_path):
    # GED's own CSV writes timestamps and has date_prec / where_prec
    path = write(
        tmp_path / "GEDEvent_v25_1.csv",
        "id,relid,year,active_year,type_of_violence,side_a,side_b,country,adm_1,"
        "latitude,longitude,where_prec,date_prec,date_start,date_end,best,low,high\n"
        "101,MLI-1,2024,1,3,JNIM,Civilians,Mali,Kayes region,14.4,-11.4,1,1,"
        "2024-02-08 00:00:00.000,2024-02-08 00:00:00.000,3,2,5\n"
        "102,MLI-2,2024,1,1,Government of Mali,JNIM,Mali,Koulikoro region,,,2,3,"
        "2024-03-01 00:00:00.000,2024-03-05 00:00:00.000,10,8,12\n"
        "103,MLI-3,2024,0,2,Dozo,Fulani,Mali,Mopti region,14.5,-4.2,1,1,"
        "2024-04-01 00:00:00.000,2024-04-01 00:00:00.000,0,0,1\n",
    )
    assert detect_format(path) == "ucdp"
    result = read_events(path)
    events = result.events
    assert list(events["event_type"]) == ["one-sided", "state-based", "non-state"]
    assert list(events["date_start"]) == [
        pd.Timestamp(d) for d in ("2024-02-08", "2024-03-01", "2024-04-01")
    ]
    assert events.loc[1, "date_end"] == pd.Timestamp("2024-03-05")
    assert list(events["fatalities_high"]) == [5.0, 12.0, 1.0]
    assert events.loc[0, "admin1"] == "Kayes region"
    assert result.quality == {"missing_coordinates": 1, "date_range": 1, "imprecise_date": 1}
    assert {"relid", "where_prec", "date_prec", "active_year"} <= set(events.columns)
    assert result.note == ""  # the release's precision columns: nothing to say of the copy


def test_a_copy_without_the_releases_precision_columns_is_called_partial(tmp_path):
    """The real study's file keeps GED's events with precise locations and 16 columns; its
    reports had said "the official GED CSV, or a copy of part of it"."""
    path = write(
        tmp_path / "extract.csv",
        "id,year,type_of_violence,side_a,side_b,country,date_start,date_end,best\n"
        "7,2020,1,Government of Niger,JNIM,Niger,2020-01-02,2020-01-02,4\n",
    )
    result = read_events(path)
    assert result.note == (
        "a partial copy of the GED release: 9 columns, without where_prec and date_prec; it may "
        "hold only some of the release's events (e.g. those with precise locations), so its "
        "counts can be lower"
    )
    from analysis.sources.ingest import ingest

    assert ingest([path], regions="none").manifest["inputs"][0]["note"] == result.note


def test_core_subset_only(tmp_path):
    path = write(
        tmp_path / "core.csv",
        "ID,TYPE_OF_VIOLENCE,SIDE_A,COUNTRY,DATE_START,BEST\n"
        "7,1,Government of Niger,Niger,2020-01-02,4\n",
    )
    events = read_events(path).events
    assert events.loc[0, "event_id"] == "7" and events.loc[0, "date_end"] == pd.Timestamp(
        "2020-01-02"
    )
    assert pd.isna(events.loc[0, "actor2"]) and pd.isna(events.loc[0, "fatalities_low"])
