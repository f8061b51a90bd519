"""`conflict-trends ingest` and `panel` end to end through the CLI."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.cli import app

HEADER = [
    "event_id_cnty",
    "event_date",
    "time_precision",
    "event_type",
    "actor1",
    "actor2",
    "assoc_actor_1",
    "country",
    "admin1",
    "latitude",
    "longitude",
    "fatalities",
    "source",
    "notes",
]
ROWS = [
    [
        "MLI1",
        "2021-01-03",
        "1",
        "Battles",
        "JNIM",
        "Military Forces of Mali",
        "",
        "Mali",
        "Kayes",
        "14.4",
        "-11.4",
        "2",
        "RFI",
        "attack on the road",
    ],
    [
        "MLI2",
        "15 January 2021",
        "2",
        "Battles",
        "Military Forces of Mali",
        "",
        "Group for Support of Islam and Muslims",
        "Mali",
        "Ségou Region",
        "13.4",
        "-6.2",
        "0",
        "AFP",
        "",
    ],
    [
        "MLI3",
        "3-Mar-21",
        "1",
        "Violence against civilians",
        "Dozo militia",
        "Civilians",
        "",
        "Mali",
        "",
        "",
        "",
        "1",
        "",
        "no place given",
    ],
    [
        "MRT1",
        "2021-03-20",
        "1",
        "Battles",
        "JNIM",
        "",
        "",
        "Mauritania",
        "Hodh el Gharbi",
        "16.6",
        "-10.1",
        "0",
        "",
        "",
    ],
    [
        "SEN1",
        "2021-02-11",
        "1",
        "Riots",
        "Rioters (Senegal)",
        "",
        "",
        "Senegal",
        "Nowhere land",
        "",
        "",
        "0",
        "",
        "",
    ],
]


@pytest.fixture()
def raw(tmp_path) -> Path:
    path = tmp_path / "data" / "raw" / "acled.csv"
    path.parent.mkdir(parents=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([h.upper() for h in HEADER])
        writer.writerows(ROWS)
    return path


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result


def test_ingest_writes_parquet_and_manifest(tmp_path, raw):
    before = raw.read_bytes()
    out = tmp_path / "processed" / "events.parquet"
    result = run("ingest", str(raw), "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    assert "warning: " in result.stderr and "2 events without coordinates" in result.stderr
    assert "2 events have no resolvable admin-1 unit" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows_read"] == 5 and summary["rows_kept"] == 5
    timings = summary["timings_s"]
    assert set(timings) == {"ingest", "write", "total"} and timings["total"] >= timings["ingest"]
    events = pd.read_parquet(out)
    assert len(events) == 5
    assert list(events["region_id"].fillna("-")) == ["ML-1", "ML-4", "-", "MR-02", "-"]
    assert list(events["iso3"]) == ["MLI", "MLI", "MLI", "MRT", "SEN"]
    manifest = json.loads((out.parent / "events.parquet.manifest.json").read_text())
    assert manifest["inputs"][0]["sha256"] == hashlib.sha256(before).hexdigest()
    assert manifest["inputs"][0]["source"] == "acled"
    assert manifest["rows_read"] == 5 and manifest["rows_kept"] == 5
    assert manifest["set_aside"] == {"unresolved_region": 2}
    assert manifest["quality_warnings"] == {"missing_coordinates": 2, "imprecise_date": 1}
    assert manifest["date_range"] == ["2021-01-03", "2021-03-20"]
    assert manifest["sources"] == ["acled"] and manifest["package_version"]
    assert {"country": "Senegal", "admin1": "Nowhere land", "events": 1} in manifest["unresolved"]
    assert raw.read_bytes() == before
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "events.parquet",
        "events.parquet.manifest.json",
    ]


def test_panel_from_ingested_events(tmp_path, raw):
    out = tmp_path / "events.parquet"
    assert run("ingest", str(raw), "--out", str(out)).exit_code == 0
    panel_path = tmp_path / "panel.parquet"
    result = run(
        "panel",
        str(out),
        "--actor",
        "JNIM",
        "--country",
        "Mali",
        "--country",
        "MRT",
        "--start",
        "2021-01",
        "--end",
        "2021-03",
        "--out",
        str(panel_path),
    )
    assert result.exit_code == 0, result.output
    panel = pd.read_parquet(panel_path)
    assert len(panel) == (9 + 13) * 3  # every unit of Mali and Mauritania, three months
    assert not panel.duplicated(["region_id", "period"]).any()
    nonzero = panel[panel["events"] > 0]
    assert set(zip(nonzero["region_id"], nonzero["period"].dt.strftime("%Y-%m"), strict=True)) == {
        ("ML-1", "2021-01"),
        ("ML-4", "2021-01"),
        ("MR-02", "2021-03"),
    }
    assert panel.loc[panel["region_id"] == "ML-1", "fatalities"].sum() == 2

    summary = json.loads(result.stdout)
    assert summary["events_selected"] == 3 and summary["events_counted"] == 3

    quarterly = tmp_path / "q.parquet"
    result = run(
        "panel", str(out), "--freq", "quarter", "--country", "SEN", "--out", str(quarterly)
    )
    assert result.exit_code == 0, result.output
    q = pd.read_parquet(quarterly)
    assert len(q) == 14 and q["events"].sum() == 0  # the Senegal event has no resolvable unit


def test_panel_refuses_months_past_the_data_and_cut_quarters(tmp_path, raw):
    events = tmp_path / "events.parquet"
    assert run("ingest", str(raw), "--out", str(events), "--quiet").exit_code == 0
    out = tmp_path / "panel.parquet"
    # the file's latest event is on 2021-03-20: April would read as a month without events
    late = run("panel", str(events), "--end", "2021-06", "--out", str(out))
    assert late.exit_code == 2 and not out.exists()
    assert "option '--end': expected a month up to 2021-03" in late.stderr
    assert "(2021-03-20)" in late.stderr and "data_through" not in late.stderr
    # and its earliest on 2021-01-03: December would read as a month without events
    early = run("panel", str(events), "--start", "2020-12", "--out", str(out))
    assert early.exit_code == 2 and not out.exists()
    assert "option '--start': expected a month from 2021-01 on" in early.stderr
    # one end alone may not cross the data's other end, which the window then takes
    before = run("panel", str(events), "--end", "2020-11", "--out", str(out))
    assert before.exit_code == 2 and "option '--end': expected a month from 2021-01 on" in (
        before.stderr
    )
    after = run("panel", str(events), "--start", "2021-05", "--out", str(out))
    assert after.exit_code == 2 and "option '--start': expected a month up to 2021-03" in (
        after.stderr
    )
    backwards = run("panel", str(events), "--start", "2021-03", "--end", "2021-01", "--out",
                    str(out))  # fmt: skip
    assert backwards.exit_code == 2
    assert "option '--end': expected a month on or after --start 2021-03" in backwards.stderr
    cut = run("panel", str(events), "--freq", "quarter", "--start", "2021-02", "--out", str(out))
    assert cut.exit_code == 2 and not out.exists()
    assert "option '--start': expected the first month of a quarter" in cut.stderr
    whole = run("panel", str(events), "--freq", "quarter", "--start", "2021-01", "--end",
                "2021-03", "--out", str(out))  # fmt: skip
    assert whole.exit_code == 0, whole.output
    assert pd.read_parquet(out)["period"].nunique() == 1
    assert json.loads(whole.stdout)["window"] == ["2021Q1", "2021Q1"]


def test_panel_bad_options_exit_2(tmp_path, raw):
    out = tmp_path / "events.parquet"
    run("ingest", str(raw), "--out", str(out))
    for args in (
        ["--freq", "week"],
        ["--country", "Atlantis"],
        ["--start", "January"],
    ):
        target = tmp_path / "p.parquet"
        result = run("panel", str(out), *args, "--out", str(target))
        assert result.exit_code == 2, (args, result.output)
        assert not target.exists()
    assert run("panel", str(tmp_path / "none.parquet")).exit_code == 2
    assert run("panel", str(raw)).exit_code == 2  # a CSV is not an events table


def test_a_panel_whose_filters_select_nothing_names_the_filter(tmp_path, raw):
    events = tmp_path / "events.parquet"
    run("ingest", str(raw), "--out", str(events))
    target = tmp_path / "p.parquet"
    cases = {
        (
            "--actor",
            "Military Forces of Mal1",
        ): "closest actor names in the data: Military Forces of Mali",
        ("--event-type", "Protests"): "event types in the data: Battles; Riots",
        ("--actor", "JNIM", "--event-type", "Riots"): "--actor JNIM, --event-type Riots",
        ("--country", "Niger"): "option '--country': expected filters",
    }
    for args, words in cases.items():
        result = run("panel", str(events), *args, "--out", str(target))
        assert result.exit_code == 2, (args, result.output)
        assert "the filters select no event" in result.output and words in result.output
        assert "without a window" not in result.output
        assert not target.exists()


def test_unwritable_out_is_exit_2_naming_the_path_before_any_work(tmp_path, raw):
    """--out a folder, or under a file: a message naming the path and what was expected, exit
    2, no traceback, nothing written (the ingest is not even started)."""
    folder = tmp_path / "a-folder"
    folder.mkdir()
    events = tmp_path / "events.parquet"
    assert run("ingest", str(raw), "--out", str(events)).exit_code == 0
    for command, source, out in (
        ("ingest", raw, folder),
        ("ingest", raw, raw / "events.parquet"),
        ("panel", events, folder),
        ("panel", events, events / "panel.parquet"),
    ):
        result = run(command, str(source), "--out", str(out))
        assert result.exit_code == 2, (command, out, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
        assert f"{out}, option '--out': expected a file path (not a folder)" in result.output
    assert sorted(p.name for p in folder.iterdir()) == []


def test_ingest_refuses_to_overwrite_input(raw):
    assert run("ingest", str(raw), "--out", str(raw)).exit_code == 2


def test_an_out_over_an_input_or_raw_data_is_exit_2_and_nothing_is_replaced(tmp_path, raw):
    """`panel ged.parquet --out ged.parquet` had replaced its events table with a panel (exit
    0), and `panel`/`ingest --out data/raw/x` had written over raw data."""
    events = tmp_path / "events.parquet"
    assert run("ingest", str(raw), "--out", str(events), "--quiet").exit_code == 0
    other_raw = raw.with_name("other.csv")
    other_raw.write_text("keep me")
    # ingest writes its manifest beside --out: that may not replace an input either
    manifest_input = tmp_path / "x.parquet.manifest.json"
    manifest_input.write_text("an input")
    kept = {path: path.read_bytes() for path in (raw, events, other_raw, manifest_input)}
    for args, out in (
        (("panel", str(events)), events),
        (("panel", str(events)), raw.with_name("panel.parquet")),
        (("ingest", str(raw)), other_raw),
        (("ingest", str(raw)), raw.parent / "sub" / "events.parquet"),
        (("ingest", str(raw), str(manifest_input)), tmp_path / "x.parquet"),
    ):
        result = run(*args, "--out", str(out))
        assert result.exit_code == 2, (args, out, result.output)
        assert "expected a path other than the input files, the study file and data/raw/" in (
            result.stderr
        ), result.stderr
        assert out in kept or not out.exists()
    assert {path: path.read_bytes() for path in kept} == kept
    assert sorted(p.name for p in raw.parent.iterdir()) == ["acled.csv", "other.csv"]


def test_an_unknown_source_names_the_option(tmp_path, raw):
    result = run("ingest", str(raw), "--source", "foo", "--out", str(tmp_path / "e.parquet"))
    assert result.exit_code == 2
    assert "option '--source': expected one of ucdp, acled, csv, auto (found 'foo')" in (
        result.stderr
    )
    assert "column" not in result.stderr


def test_ingest_says_how_many_rows_fail_a_check_however_many_are_listed(tmp_path, raw):
    """Every row failing one check: the display of 20 problems had cut the count line,
    leaving "... and 31 more problems" for 8,351 failing rows."""
    bad = tmp_path / "bad.csv"
    with open(bad, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(300):
            row = list(ROWS[0])
            row[0], row[HEADER.index("fatalities")] = f"MLI{i}", "x"
            writer.writerow(row)
    result = run("ingest", str(bad), "--out", str(tmp_path / "e.parquet"), "--quiet")
    assert result.exit_code == 2
    assert "250 more rows failing this check, 300 in all" in result.stderr, result.stderr
    assert not (tmp_path / "e.parquet").exists()


def test_ingest_and_panel_on_real_ucdp(tmp_path):
    value = os.environ.get("CONFLICT_TRENDS_REAL_DATA")
    if not value or not Path(value).exists():
        pytest.skip("CONFLICT_TRENDS_REAL_DATA not set")
    out = tmp_path / "ged.parquet"
    result = run("ingest", value, "--out", str(out))
    assert result.exit_code == 0, result.output
    panel_path = tmp_path / "mli.parquet"
    result = run(
        "panel",
        str(out),
        "--country",
        "MLI",
        "--start",
        "2012-01",
        "--end",
        "2020-12",
        "--freq",
        "quarter",
        "--out",
        str(panel_path),
    )
    assert result.exit_code == 0, result.output
    panel = pd.read_parquet(panel_path)
    per_year = panel.groupby(panel["period"].dt.year)["events"].sum()
    assert per_year.to_dict() == {
        2012: 34,
        2013: 72,
        2014: 24,
        2015: 45,
        2016: 43,
        2017: 100,
        2018: 183,
        2019: 149,
        2020: 156,
    }
    kayes = panel[panel["region_id"] == "ML-1"].groupby(panel["period"].dt.year)["events"].sum()
    assert kayes[kayes > 0].to_dict() == {2018: 2, 2020: 2}


def test_mixed_sources_and_canonical_csv_round_trip(tmp_path, raw):
    ged = tmp_path / "ged.csv"
    ged.write_text(
        "id,type_of_violence,side_a,side_b,country,adm_1,date_start,date_end,best,low,high\n"
        "MLI1,3,JNIM,Civilians,Mali,Kayes region,2021-02-01,2021-02-01,4,3,6\n"
    )
    out = tmp_path / "mixed.parquet"
    result = run("ingest", str(raw), str(ged), "--out", str(out))
    assert result.exit_code == 0, result.output  # the same id in two sources is no clash
    events = pd.read_parquet(out)
    assert json.loads(result.stdout)["sources"] == ["acled", "ucdp"]
    assert list(events["source"]) == ["acled"] * 5 + ["ucdp"]
    assert events["region_id"].iloc[-1] == "ML-1" and events["event_type"].iloc[-1] == "one-sided"

    # the canonical columns written as CSV read back as the same events (generic reader)
    canonical = events.iloc[:, :19].drop(columns=["source", "iso3", "region_id"])
    canonical["event_id"] = canonical["event_id"] + "-" + events["source"]
    csv_path = tmp_path / "canonical.csv"
    canonical.to_csv(csv_path, index=False, date_format="%Y-%m-%d")
    again_path = tmp_path / "again.parquet"
    result = run("ingest", str(csv_path), "--out", str(again_path))
    assert result.exit_code == 0, result.output
    again = pd.read_parquet(again_path)
    assert again["source"].eq("csv").all()
    for column in canonical.columns:
        pd.testing.assert_series_equal(
            again[column], canonical[column], check_dtype=False, check_names=False
        )
    assert list(again["region_id"]) == list(events["region_id"])
