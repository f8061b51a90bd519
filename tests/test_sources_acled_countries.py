"""Events whose country name the boundaries do not know (a misspelling such as "Maii", a
form the lookup lacks): placed by their coordinates or admin-1 name, and told about, not left
out of a study's country-filtered panel without a word."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pandas as pd
import shapely
import yaml

from analysis.events import DataQualityWarning, UnknownCountryWarning
from analysis.sources.ingest import ingest

ACLED = ["event_id_cnty", "event_date", "event_type", "actor1", "country", "admin1",
         "latitude", "longitude", "fatalities"]  # fmt: skip
KAYES = ("14.4469", "-11.4445")  # ML-1
BAMAKO = ("12.65", "-8.0")  # ML-BKO
#: In Chad, about 0.01 degrees east of Niger's Diffa (NE-2): within the 0.05-degree snap
#: that brings a coastal point into its unit
NEAR_DIFFA = ("15.0", "13.835")
#: Off Dakar's coast, 0.016 degrees from SN-DK
OFF_DAKAR = ("14.75", "-17.55")


def _write(path: Path, columns: list[str], rows: list[tuple]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def _acled(path: Path) -> Path:
    # line 1 is the header: the event on line n is row n - 2 of the events
    return _write(path, ACLED, [
        ("MLI1", "2024-02-08", "Battles", "JNIM", "Mali", "Kayes", *KAYES, "1"),  # line 2
        ("MLI2", "2024-02-08", "Battles", "JNIM", "Maii", "Kayes", *KAYES, "1"),  # line 3
        ("MLI3", "2024-02-09", "Battles", "JNIM", "Maii", "", *BAMAKO, "1"),  # line 4
        # no coordinates: the admin-1 name is unique in the boundaries
        ("MLI4", "2024-02-10", "Battles", "JNIM", "Maii", "Kayes", "", "", "1"),  # line 5
        ("TCD1", "2024-02-10", "Battles", "JNIM", "Chad", "Lac", *NEAR_DIFFA, "1"),  # line 6
        # "Plateau" is a unit of Benin and of Nigeria: no unit can be chosen
        ("NGA1", "2024-02-11", "Battles", "JNIM", "Nigria", "Plateau", "", "", "1"),  # line 7
        ("SEN1", "2024-02-11", "Battles", "JNIM", "Senegal", "", *OFF_DAKAR, "1"),  # line 8
    ])  # fmt: skip


def _ingest(paths: list[Path], **kwargs) -> tuple:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = ingest(paths, **kwargs)
    return result, [w for w in caught if issubclass(w.category, UnknownCountryWarning)]


def test_the_test_points_lie_where_the_tests_say(boundaries):
    units = shapely.union_all(boundaries.regions.geometry.to_numpy())
    for lat, lon in (NEAR_DIFFA, OFF_DAKAR):
        point = shapely.Point(float(lon), float(lat))
        assert not units.contains(point) and units.distance(point) < 0.05


def test_an_unknown_country_is_placed_by_coordinates_or_unique_admin1_name(tmp_path):
    result, _ = _ingest([_acled(tmp_path / "acled.csv")])
    events = result.events.set_index("event_id")
    assert list(events["region_id"].fillna("-")) == [
        "ML-1", "ML-1", "ML-BKO", "ML-1", "-", "-", "SN-DK",
    ]  # fmt: skip
    # the country of the unit an event was placed in stands for the name nobody knows
    assert list(events["iso3"].fillna("-")) == ["MLI", "MLI", "MLI", "MLI", "-", "-", "SEN"]
    assert result.manifest["quality_warnings"]["unknown_country"] == 5


def test_a_point_outside_every_unit_snaps_only_into_its_own_country(tmp_path):
    # Chad's event beside Niger had been snapped into Diffa: now that a unit's country stands
    # for an unknown name, it would have been counted as Niger's
    result, _ = _ingest([_acled(tmp_path / "acled.csv")])
    events = result.events.set_index("event_id")
    assert pd.isna(events.loc["TCD1", "region_id"]) and pd.isna(events.loc["TCD1", "iso3"])
    assert events.loc["SEN1", "region_id"] == "SN-DK"  # a known country still snaps


def test_the_warning_names_the_file_the_names_rows_lines_and_outcome(tmp_path):
    path = _acled(tmp_path / "acled.csv")
    _, caught = _ingest([path])
    assert len(caught) == 1
    text = str(caught[0].message)
    assert text.startswith(f"{path}: 5 events name a country the boundaries do not know")
    assert "'Maii': 3 rows (lines 3, 4, 5), placed by coordinates or admin-1 name in MLI (3)" in (
        text
    )
    assert "'Chad': 1 row (line 6), in no admin-1 unit: left out of every panel" in text
    assert "'Nigria': 1 row (line 7), in no admin-1 unit: left out of every panel" in text
    assert issubclass(caught[0].category, DataQualityWarning)


def test_the_warning_is_per_file_with_that_files_lines(tmp_path):
    first = _acled(tmp_path / "first.csv")
    second = _write(tmp_path / "second.csv", ACLED, [
        ("MLI9", "2024-02-08", "Battles", "JNIM", "Mali", "Kayes", *KAYES, "1"),
        ("MLI8", "2024-02-08", "Battles", "JNIM", "Mail", "Kayes", *KAYES, "1"),
    ])  # fmt: skip
    result, caught = _ingest([first, second])
    texts = [str(w.message) for w in caught]
    assert len(texts) == 2 and texts[1].startswith(f"{second}: 1 events")
    assert "'Mail': 1 row (line 3), placed by coordinates or admin-1 name in MLI (1)" in texts[1]
    assert "Maii" not in texts[1]
    record = [r for r in result.manifest["unknown_countries"] if r["country"] == "Mail"]
    assert record == [
        {"path": str(second), "country": "Mail", "rows": 1, "lines": [3], "placed": {"MLI": 1},
         "left_out": 0},
    ]  # fmt: skip


def test_known_names_raise_no_warning(tmp_path):
    path = _write(tmp_path / "acled.csv", ACLED, [
        ("CIV1", "2024-02-08", "Battles", "JNIM", "Côte d’Ivoire", "", "5.35", "-4.0", "0"),
        ("CIV2", "2024-02-08", "Battles", "JNIM", "Ivory Coast", "", "5.35", "-4.0", "0"),
        ("CIV3", "2024-02-08", "Battles", "JNIM", "Cote D'Ivoire", "", "5.35", "-4.0", "0"),
    ])  # fmt: skip
    result, caught = _ingest([path])
    assert caught == [] and "unknown_countries" not in result.manifest
    assert result.events["iso3"].eq("CIV").all()


def test_ucdp_names_are_placed_the_same_way(tmp_path):
    columns = ["id", "type_of_violence", "side_a", "country", "adm_1", "latitude", "longitude",
               "date_start", "date_end", "best"]  # fmt: skip
    path = _write(tmp_path / "ged.csv", columns, [
        (1, 1, "JNIM", "Mali", "Kayes region", *KAYES, "2024-02-08", "2024-02-08", 1),
        (2, 1, "JNIM", "Mali (Malí)", "Kayes region", *KAYES, "2024-02-08", "2024-02-08", 1),
    ])  # fmt: skip
    result, caught = _ingest([path], source="ucdp")
    assert list(result.events["iso3"].fillna("-")) == ["MLI", "MLI"]
    assert len(caught) == 1 and "'Mali (Malí)': 1 row (line 3)" in str(caught[0].message)


def test_a_canonical_files_own_iso3_is_kept_over_an_unknown_name(tmp_path):
    columns = ["event_id", "date_start", "country", "iso3", "event_type", "admin1"]
    path = _write(tmp_path / "events.csv", columns, [
        ("a", "2024-02-08", "Maii", "MLI", "Battles", "Gao"),
        ("b", "2024-02-08", "Mali", "", "Battles", "Gao"),
    ])  # fmt: skip
    result, caught = _ingest([path], source="csv")
    assert list(result.events["iso3"].fillna("-")) == ["MLI", "MLI"]
    # the code put the event in its country, so its admin-1 name finds the unit
    assert list(result.events["region_id"].fillna("-")) == ["ML-7", "ML-7"]
    assert caught == []


def _study(tmp_path: Path, data: Path) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump({
        "title": "unknown country names", "data": [str(data)], "source": "acled",
        "countries": ["Mali"], "start": "2024-02", "end": "2024-02",
    }))  # fmt: skip
    return path


def test_a_study_counts_the_placed_events_and_says_so(tmp_path):
    from analysis.config import load_study
    from analysis.pipeline import prepare

    data = _acled(tmp_path / "acled.csv")
    # said by a note the commands print and the banners show, not by a Python warning that
    # a report's notebook would print into the page
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownCountryWarning)
        prepared = prepare(load_study(_study(tmp_path, data)), use_cache=False)
    assert prepared.selection["countries"] == 4
    assert int(prepared.panel["events"].sum()) == 4
    assert set(prepared.events["event_id"]) == {"MLI1", "MLI2", "MLI3", "MLI4"}
    note = prepared.unknown_countries_note()
    assert note.startswith("5 events in the data files name a country the boundaries do not")
    assert "('Chad', 'Maii', 'Nigria')" in note
    assert "(Mali 3)" in note and "2 in no admin-1 unit, left out" in note
    # it names the rows, rather than an ingest manifest that study commands never write
    assert "manifest" not in note
    lines = sorted(x for r in prepared.manifest["unknown_countries"] for x in r["lines"])
    assert note.endswith(f"They are in acled.csv, lines {', '.join(map(str, lines))}.")
    # what the banners and the batch's console show
    assert prepared.coverage_notes() == [note]


def test_a_study_command_prints_the_unknown_country_note(tmp_path):
    from typer.testing import CliRunner

    from analysis.cli import app

    study = _study(tmp_path, _acled(tmp_path / "acled.csv"))
    raw = yaml.safe_load(study.read_text())
    study.write_text(
        yaml.safe_dump(
            {**raw, "start": "2024-01", "data_from": "2024-01", "compare": [["2024-01", "2024-02"]]}
        )
    )
    result = CliRunner().invoke(app, ["growth", str(study), "--json"])
    assert result.exit_code == 0, result.output
    assert "warning: 5 events in the data files name a country" in result.stderr
