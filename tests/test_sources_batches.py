"""Reading in record batches: same events, same problems and line numbers as one whole read."""

from __future__ import annotations

import gc
import hashlib

import pandas as pd
import pytest

from analysis import progress
from analysis.errors import InputError
from analysis.sources import batches, read_events

HEADER = "event_id_cnty,event_date,event_type,actor1,country,admin1,fatalities,notes,tags"


def _write(path, n, bad_date=(), bad_number=(), duplicate=None):
    """An ACLED file with a two-line note on every third record; returns each record's line."""
    lines, text, line = [], [HEADER], 2
    for i in range(n):
        note = '"first line\nsecond, with a comma"' if i % 3 == 0 else "plain note"
        date = "31 Febtember 2024" if i in bad_date else ("2024-02-08", "8-Feb-24")[i % 2]
        fatalities = "many" if i in bad_number else str(i % 5)
        event_id = f"MLI{duplicate[0]:06d}" if duplicate and i == duplicate[1] else f"MLI{i:06d}"
        tag = "crowd size=no report" if i % 2 else ""
        text.append(f"{event_id},{date},Battles,JNIM,Mali,Kayes,{fatalities},{note},{tag}")
        lines.append(line)
        line += 1 + (i % 3 == 0)
    path.write_text("\n".join(text) + "\n")
    return lines


@pytest.fixture(params=["one stream", "two halves"])
def small_batches(request, monkeypatch):
    """Blocks of 4 KiB and chunks of 500 rows: a few thousand rows span many batches; read as
    one stream or as two halves on two threads."""
    monkeypatch.setattr(batches, "BLOCK_SIZE", 4096)
    monkeypatch.setattr(batches, "CHUNK_ROWS", 500)
    monkeypatch.setattr(batches, "SPLIT_BYTES", 1 if request.param == "two halves" else 1 << 40)


def test_batches_give_the_events_of_a_whole_read(tmp_path, monkeypatch):
    path = tmp_path / "acled.csv"
    _write(path, 3000)
    whole = read_events(path).events
    monkeypatch.setattr(batches, "BLOCK_SIZE", 4096)
    monkeypatch.setattr(batches, "CHUNK_ROWS", 500)
    batched = read_events(path).events
    pd.testing.assert_frame_equal(batched, whole)
    assert (
        len(batched) == 3000 and batched["notes"].iloc[2997] == "first line\nsecond, with a comma"
    )
    assert batched["tags"].iloc[1] == "crowd size=no report" and pd.isna(batched["tags"].iloc[0])


def test_two_halves_give_the_events_of_one_stream(tmp_path, monkeypatch):
    path = tmp_path / "acled.csv"
    _write(path, 3000)
    one = read_events(path).events
    monkeypatch.setattr(batches, "SPLIT_BYTES", 1)
    split = batches._split_point(path, HEADER.split(","))
    data = path.read_bytes()
    assert split is not None and data[split - 1 : split] == b"\n"
    assert data[:split].count(b'"') % 2 == 0 and data[split:].startswith(b"MLI")
    scan = batches._Scan(path, split)
    assert scan.split_outside_quotes() and scan.sha256() == hashlib.sha256(data).hexdigest()
    starts = []
    produce = batches._produce
    monkeypatch.setattr(
        batches,
        "_produce",
        lambda reading, start, *a: starts.append(start) or produce(reading, start, *a),
    )
    result = read_events(path)
    assert sorted(starts) == [0, split]  # read as two halves
    pd.testing.assert_frame_equal(result.events, one)
    assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_no_split_inside_a_quoted_field(tmp_path, monkeypatch):
    monkeypatch.setattr(batches, "SPLIT_BYTES", 1)
    path = tmp_path / "acled.csv"
    note = '"' + "a long note\n" * 200 + '"'
    path.write_text(f"{HEADER}\nMLI1,2024-02-08,Battles,JNIM,Mali,Kayes,1,{note},\n")
    split = batches._split_point(path, HEADER.split(","))
    assert split is not None and path.read_bytes()[:split].count(b'"') == 1
    assert not batches._Scan(path, split).split_outside_quotes()
    assert read_events(path).events["notes"].iloc[0].count("\n") == 200


def test_nul_byte_is_refused_before_other_problems(tmp_path, small_batches):
    path = tmp_path / "acled.csv"
    lines = _write(path, 3000, bad_date={5})
    data = path.read_bytes()
    at = data.index(b"MLI002900")
    path.write_bytes(data[:at] + b"MLI\x00" + data[at + 4 :])
    with pytest.raises(InputError) as err:
        read_events(path)
    (problem,) = err.value.problems
    assert problem.line == lines[2900] and problem.column == "event_id_cnty"
    assert "NUL" in str(err.value) and "binary or corrupted" in problem.expected


def test_problems_in_late_batches_name_their_line(tmp_path, small_batches):
    path = tmp_path / "acled.csv"
    lines = _write(path, 3000, bad_date={2500}, bad_number={2801}, duplicate=(10, 2999))
    with pytest.raises(InputError) as err:
        read_events(path)
    found = {(p.column, p.line, p.found) for p in err.value.problems}
    assert ("event_date", lines[2500], "31 Febtember 2024") in found
    assert ("fatalities", lines[2801], "many") in found
    assert ("event_id_cnty", lines[2999], "MLI000010") in found
    assert all(p.file == str(path) for p in err.value.problems)
    # the quoted newlines push the last record well past line 3001
    assert lines[2999] == 2 + 2999 + 1000


def test_problems_are_capped_once_over_all_batches(tmp_path, small_batches):
    path = tmp_path / "acled.csv"
    lines = _write(path, 3000, bad_date=set(range(0, 2400, 20)))  # 120 rows in every chunk
    with pytest.raises(InputError) as err:
        read_events(path)
    dates = [p for p in err.value.problems if p.column == "event_date"]
    assert len(dates) == 51
    assert [p.line for p in dates[:50]] == [lines[i] for i in range(0, 1000, 20)]
    assert dates[-1].line is None and "70 more rows" in dates[-1].found
    assert dates[-1].more_rows == 70 and "120 in all" in dates[-1].found


def test_progress_bar_names_the_stage_on_a_terminal_only(tmp_path, monkeypatch, capsys):
    path = tmp_path / "acled.csv"
    _write(path, 50)
    monkeypatch.setattr(progress.sys.stderr, "isatty", lambda: True, raising=False)
    read_events(path)
    assert "ingest" in capsys.readouterr().err
    progress.set_quiet(True)
    try:
        read_events(path)
    finally:
        progress.set_quiet(False)
    assert capsys.readouterr().err == ""


def test_malformed_row_in_the_second_half_names_its_line(tmp_path, small_batches):
    path = tmp_path / "acled.csv"
    lines = _write(path, 3000)
    text = path.read_text().split("\n")
    record = lines[2900] - 1  # index of the record's first physical line
    text[record] = text[record] + ",one field too many"
    path.write_text("\n".join(text))
    with pytest.raises(InputError) as err:
        read_events(path)
    (problem,) = err.value.problems
    assert problem.file == str(path) and problem.line == lines[2900]
    assert problem.expected == "9 fields as in the header" and problem.found == "10 fields"


def test_garbage_collector_is_paused_while_reading_only(tmp_path, monkeypatch):
    path = tmp_path / "acled.csv"
    _write(path, 50)
    during = []
    convert = batches._convert_chunk
    monkeypatch.setattr(
        batches, "_convert_chunk", lambda *a: during.append(gc.isenabled()) or convert(*a)
    )
    assert gc.isenabled()
    read_events(path)
    assert during == [False] and gc.isenabled()
    path.write_text(HEADER + "\nMLI1,2024-02-08,Battles,JNIM,Mali,Kayes,1,one,two,three\n")
    with pytest.raises(InputError):
        read_events(path)
    assert gc.isenabled()


def _canonical(n: int, **columns) -> pd.DataFrame:
    from analysis.events import coerce_events

    base = {
        "event_id": [f"E{i}" for i in range(n)],
        "source": ["acled"] * n,
        "date_start": pd.to_datetime(["2021-01-15"] * n),
        "date_end": pd.to_datetime(["2021-01-15"] * n),
        "country": ["Mali"] * n,
        "event_type": ["Battles"] * n,
        "latitude": [90.0, -90.0, None, 14.5][:n],
        "longitude": [180.0, -180.0, 0.0, None][:n],
        "fatalities": [0.0, 1_000_000.0, None, 3.0][:n],
    }
    base.update(columns)
    return coerce_events(pd.DataFrame(base))


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("latitude", 90.5),
        ("longitude", -180.01),
        ("fatalities", -1.0),
        ("fatalities", 2.5),
        ("fatalities", 1_000_001.0),
        ("fatalities_high", -3.0),
        ("date_start", pd.Timestamp("1900-01-01")),
        ("date_end", pd.Timestamp("2021-01-01")),  # before date_start
        ("date_end", pd.NaT),
        ("event_id", None),
        ("country", None),
        ("source", "gdelt"),
    ],
)
def test_fast_row_check_defers_to_pandera_on_every_failure(column, value):
    from analysis.events import (
        _ROW_SCHEMA_TEXT_TYPED,
        ROW_SCHEMA,
        _rows_surely_pass,
        row_failure_rows,
    )

    clean = _canonical(4)
    for schema in (ROW_SCHEMA, _ROW_SCHEMA_TEXT_TYPED):
        assert _rows_surely_pass(schema, clean)
        schema.validate(clean, lazy=True)  # pandera agrees: nothing fails
    assert row_failure_rows(clean).empty
    bad = clean.copy()
    bad.loc[2, column] = value
    if column in ("event_id", "country", "source"):
        bad[column] = bad[column].astype(clean[column].dtype)
    for schema in (ROW_SCHEMA, _ROW_SCHEMA_TEXT_TYPED):
        assert not _rows_surely_pass(schema, bad)
    failures = row_failure_rows(bad, offset=10)
    assert len(failures) >= 1 and set(failures["position"]) == {12}


def test_fast_row_check_defers_on_a_wrong_dtype():
    from analysis.events import ROW_SCHEMA, _rows_surely_pass

    frame = _canonical(4)
    frame["latitude"] = frame["latitude"].astype(object)
    assert not _rows_surely_pass(ROW_SCHEMA, frame)
