"""Invalid input stops with file, line, column and the expected form; exit 2; nothing written."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.errors import InputError
from analysis.sources.ingest import ingest

HEADER = [
    "event_id_cnty",
    "event_date",
    "event_type",
    "actor1",
    "country",
    "admin1",
    "latitude",
    "longitude",
    "fatalities",
]
GOOD = ["MLI1", "2024-02-08", "Battles", "JNIM", "Mali", "Kayes", "14.4", "-11.4", "2"]


def write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def row(**changes: str) -> list[str]:
    values = dict(zip(HEADER, GOOD, strict=True))
    values.update(changes)
    return [values[c] for c in HEADER]


def good_rows(n: int = 3) -> list[list[str]]:
    return [row(event_id_cnty=f"MLI{i}") for i in range(n)]


# (name, rows or raw text, expected fragments of the message: line, column, expected form)
CASES = {
    "missing_column": (
        lambda p: write(p, [GOOD[:-1]], HEADER[:-1]),
        ["line 1", "'fatalities'", "a column named 'fatalities'"],
    ),
    "unparseable_date": (
        lambda p: write(p, [*good_rows(2), row(event_id_cnty="X", event_date="2024-13-45")]),
        ["line 4", "'event_date'", "2024-02-08 or 08 February 2024 or 8-Feb-24", "2024-13-45"],
    ),
    "latitude_out_of_range": (
        lambda p: write(p, [*good_rows(1), row(event_id_cnty="X", latitude="91.5")]),
        ["line 3", "'latitude'", "[-90, 90]", "91.5"],
    ),
    "longitude_out_of_range": (
        lambda p: write(p, [row(event_id_cnty="X", longitude="-181")]),
        ["line 2", "'longitude'", "[-180, 180]", "-181"],
    ),
    "negative_fatalities": (
        lambda p: write(p, [*good_rows(4), row(event_id_cnty="X", fatalities="-1")]),
        ["line 6", "'fatalities'", "zero or more", "-1"],
    ),
    "fractional_fatalities": (
        lambda p: write(p, [row(event_id_cnty="X", fatalities="2.5")]),
        ["line 2", "'fatalities'", "whole number", "2.5"],
    ),
    "non_numeric_fatalities": (
        lambda p: write(p, [*good_rows(1), row(event_id_cnty="X", fatalities="many")]),
        ["line 3", "'fatalities'", "whole number", "many"],
    ),
    "duplicate_ids": (
        lambda p: write(
            p, [row(event_id_cnty="A"), row(event_id_cnty="B"), row(event_id_cnty="A")]
        ),
        ["line 4", "'event_id_cnty'", "unique event id", "'A'"],
    ),
    "empty_file": (lambda p: p.write_bytes(b"") and p or p, ["line 1", "header row"]),
    "header_only": (lambda p: write(p, []), ["line 2", "at least one event"]),
    "unknown_format": (
        lambda p: write(p, [["1", "2"]], ["foo", "bar"]),
        ["line 1", "ACLED", "UCDP", "--source"],
    ),
    "not_utf8": (
        lambda p: (
            p.write_bytes(
                (",".join(HEADER) + "\n" + ",".join(GOOD) + "\n").encode()
                + ",".join(row(event_id_cnty="X", admin1="S\u00e9gou")).encode("latin-1")
                + b"\n"
            )
            and p
        ),
        ["line 3", "UTF-8"],
    ),
    "ragged_row": (
        lambda p: (
            p.write_text(",".join(HEADER) + "\n" + ",".join(GOOD) + "\n" + "MLI9,2024-01-01\n") or p
        ),
        ["line 3", f"{len(HEADER)} fields", "2 fields"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_reader_error_names_file_line_column_expected(tmp_path, case):
    make, fragments = CASES[case]
    path = tmp_path / "bad.csv"
    make(path)
    with pytest.raises(InputError) as info:
        ingest([path], regions="none")
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_exit_2_and_nothing_written(tmp_path, case):
    make, fragments = CASES[case]
    path = tmp_path / "raw" / "bad.csv"
    path.parent.mkdir()
    make(path)
    before = path.read_bytes()
    out = tmp_path / "processed" / "events.parquet"
    result = CliRunner().invoke(app, ["ingest", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert fragments[0] in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not out.with_name(out.name + ".manifest.json").exists()
    assert not out.parent.exists() or not any(out.parent.iterdir())  # no temp files left
    assert path.read_bytes() == before


def test_all_problems_reported_at_once(tmp_path):
    path = write(
        tmp_path / "many.csv",
        [
            row(event_id_cnty="A", event_date="yesterday"),
            row(event_id_cnty="B", latitude="-100"),
            row(event_id_cnty="C", fatalities="1.5"),
            row(event_id_cnty="A"),
        ],
    )
    with pytest.raises(InputError) as info:
        ingest([path], regions="none")
    lines = {(p.line, p.column) for p in info.value.problems}
    assert lines == {(2, "event_date"), (3, "latitude"), (4, "fatalities"), (5, "event_id_cnty")}


def test_duplicate_ids_across_files(tmp_path):
    a = write(tmp_path / "a.csv", good_rows(2))
    b = write(tmp_path / "b.csv", [row(event_id_cnty="Z"), row(event_id_cnty="MLI1")])
    with pytest.raises(InputError) as info:
        ingest([a, b], regions="none")
    message = str(info.value)
    assert f"{b}, line 3" in message and f"{a}, line 3" in message and "'MLI1'" in message


def test_problems_from_every_file_at_once(tmp_path):
    a = write(tmp_path / "a.csv", [row(latitude="99")])
    b = write(tmp_path / "b.csv", [row(fatalities="-3")])
    with pytest.raises(InputError) as info:
        ingest([a, b], regions="none")
    files = {p.file for p in info.value.problems}
    assert files == {str(a), str(b)}


def ged_file(path: Path, *rows: tuple[str, str, str]) -> Path:
    """A GED file of the required columns: one row per (type_of_violence, date_start, best)."""
    lines = ["id,type_of_violence,side_a,country,date_start,best"]
    lines += [f"{i},{v},Government of Mali,Mali,{d},{b}" for i, (v, d, b) in enumerate(rows, 1)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_ucdp_bad_violence_type_and_date(tmp_path):
    path = ged_file(tmp_path / "ged.csv", ("1", "2020-01-01", "1"), ("4", "2020-02-30", "1"))
    with pytest.raises(InputError) as info:
        ingest([path], regions="none")
    message = str(info.value)
    assert "line 3, column 'type_of_violence'" in message and "'4'" in message
    assert "line 3, column 'date_start'" in message and "2020-02-30" in message


def test_missing_file_exit_2(tmp_path):
    out = tmp_path / "events.parquet"
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "nope.csv"), "--out", str(out)])
    assert result.exit_code == 2 and "nope.csv" in result.output
    assert not out.exists()


@pytest.mark.parametrize("value", ["", "nan", "NaN"])
def test_an_empty_or_nan_fatality_count_is_an_error(tmp_path, value):
    acled = write(
        tmp_path / "acled.csv", [*good_rows(2), row(event_id_cnty="MLI9", fatalities=value)]
    )
    ged = ged_file(tmp_path / "ged.csv", ("1", "2020-01-01", "1"), ("1", "2020-01-02", value))
    for path, column in ((acled, "fatalities"), (ged, "best")):
        with pytest.raises(InputError) as info:
            ingest([path], regions="none")
        (problem,) = info.value.problems
        assert (problem.file, problem.line, problem.column) == (
            str(path),
            4 if path == acled else 3,
            column,
        )
        assert problem.expected == "a whole number of fatalities (0 or more)"


def test_a_count_that_is_not_a_number_is_reported_once(tmp_path):
    ged = ged_file(tmp_path / "ged.csv", ("1", "2020-01-01", "abc"), ("1", "2020-01-02", ""))
    with pytest.raises(InputError) as info:
        ingest([ged], regions="none")
    found = sorted((p.line, p.found) for p in info.value.problems)
    assert found == [(2, "abc"), (3, "an empty value or NaN")]


def test_an_empty_date_is_called_empty(tmp_path):
    path = write(tmp_path / "acled.csv", [*good_rows(2), row(event_id_cnty="MLI9", event_date="")])
    with pytest.raises(InputError) as info:
        ingest([path], regions="none")
    (problem,) = info.value.problems
    assert (problem.line, problem.column, problem.found) == (4, "event_date", "an empty value")
    assert "NaT" not in str(info.value)


@pytest.mark.parametrize("separator, word", [(";", "semicolons"), ("\t", "tabs")])
@pytest.mark.parametrize("source", [None, "acled"])
def test_a_file_not_separated_by_commas_is_one_problem_that_says_so(
    tmp_path, separator, word, source
):
    path = tmp_path / "events.csv"
    path.write_text("\n".join(separator.join(r) for r in [HEADER, *good_rows(2)]) + "\n")
    with pytest.raises(InputError) as info:
        ingest([path], regions="none", source=source)
    (problem,) = info.value.problems
    assert problem.line == 1 and "separated by commas" in problem.expected
    assert problem.found.startswith(f"a header separated by {word}")


def test_a_file_read_as_the_wrong_source_says_which_source_its_header_is(tmp_path):
    """A UCDP GED file read as `source: acled` had listed the missing ACLED columns and no
    remedy; each problem now names the format the header is."""
    from analysis.errors import InputError
    from analysis.sources import read_events

    path = tmp_path / "ged.csv"
    path.write_text(
        "id,year,type_of_violence,side_a,side_b,country,adm_1,latitude,longitude,"
        "date_start,date_end,best,low,high,where_prec,date_prec\n"
        "1,2020,1,A,B,Mali,Kayes region,14.4,-11.4,2020-01-01,2020-01-01,1,1,1,1,1\n"
    )
    with pytest.raises(InputError) as info:
        read_events(path, source="acled")
    assert info.value.problems
    assert all(
        p.expected.endswith("(ACLED; the header is UCDP GED's: source ucdp, or auto)")
        for p in info.value.problems
    )
