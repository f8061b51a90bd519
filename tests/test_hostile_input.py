"""Bad and hostile input files, each with its expected outcome.

Every case either ends in a clear message (file, line, column, what was expected) with exit code
2 and nothing written, or in a documented repair that is counted in the manifest. No case may
show a traceback or leave partial output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from analysis.cli import app

UCDP_HEADER = [
    "id", "year", "type_of_violence", "side_a", "side_b", "country", "adm_1", "latitude",
    "longitude", "date_start", "date_end", "best", "low", "high",
]  # fmt: skip
UCDP_REQUIRED = ["id", "type_of_violence", "side_a", "country", "date_start", "best"]
ACLED_HEADER = [
    "event_id_cnty", "event_date", "year", "time_precision", "event_type", "actor1",
    "assoc_actor_1", "actor2", "assoc_actor_2", "country", "admin1", "latitude", "longitude",
    "fatalities", "notes",
]  # fmt: skip
ACLED_REQUIRED = ["event_id_cnty", "event_date", "event_type", "actor1", "country", "fatalities"]


def ucdp_row(i: int = 1, **changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": i, "year": 2020, "type_of_violence": 1, "side_a": "JNIM",
        "side_b": "Government of Mali", "country": "Mali", "adm_1": "Kayes",
        "latitude": 14.45, "longitude": -11.44, "date_start": "2020-03-0" + str(1 + i % 9),
        "date_end": "2020-03-0" + str(1 + i % 9), "best": 2, "low": 1, "high": 3,
    }  # fmt: skip
    row.update(changes)
    return row


def acled_row(i: int = 1, **changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "event_id_cnty": f"MLI{i:05d}", "event_date": "08 February 2024", "year": 2024,
        "time_precision": 1, "event_type": "Battles",
        "actor1": "JNIM: Group for Support of Islam and Muslims", "assoc_actor_1": "",
        "actor2": "Military Forces of Mali (2021-)", "assoc_actor_2": "", "country": "Mali",
        "admin1": "Kayes", "latitude": 14.45, "longitude": -11.44, "fatalities": 3,
        "notes": "An attack near Kayes.",
    }  # fmt: skip
    row.update(changes)
    return row


def _csv_field(value: object) -> str:
    text = "" if value is None else str(value)
    if any(ch in text for ch in ',"\n\r'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def csv_text(header: list[str], rows: list[dict[str, object]], sep: str = ",") -> str:
    lines = [sep.join(header)]
    for row in rows:
        lines.append(sep.join(_csv_field(row.get(col, "")) for col in header))
    return "\n".join(lines) + "\n"


@dataclass
class Case:
    """One bad file and what must come of it."""

    name: str
    content: bytes
    exit_code: int
    message: list[str] = field(default_factory=list)  # all must appear in the output
    check: object = None  # callable(manifest, events) for accepted files
    source: str | None = None


def _ucdp(rows: list[dict[str, object]], header: list[str] = UCDP_HEADER) -> bytes:
    return csv_text(header, rows).encode("utf-8")


def _acled(rows: list[dict[str, object]], header: list[str] = ACLED_HEADER) -> bytes:
    return csv_text(header, rows).encode("utf-8")


def _workbook() -> bytes:
    """The parts of an .xlsx file that name it a workbook."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return buffer.getvalue()


def _zip_of(content: bytes) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("events.csv", content)
    return buffer.getvalue()


def _gzip_of(content: bytes) -> bytes:
    import gzip

    return gzip.compress(content)


def _without(header: list[str], column: str) -> list[str]:
    return [c for c in header if c != column]


def _manifest_counts(key: str, reason: str, n: int):
    def check(manifest, events):
        assert manifest[key].get(reason) == n, manifest[key]

    return check


def _kept(n: int):
    def check(manifest, events):
        assert manifest["rows_kept"] == n

    return check


def _actor_kept(text: str):
    def check(manifest, events):
        assert text in set(events["actor1"].astype(str)) | set(events["notes"].astype(str))

    return check


GOOD_UCDP = [ucdp_row(i) for i in range(1, 4)]
GOOD_ACLED = [acled_row(i) for i in range(1, 4)]

CASES: list[Case] = [
    Case("empty file", b"", 2, ["empty"]),
    Case("only whitespace", b"\n\n  \n", 2, []),
    Case("header only (ucdp)", _ucdp([]), 2, ["at least one event", "line 2"]),
    Case("header only (acled)", _acled([]), 2, ["at least one event"]),
    Case(
        "truncated last line",
        _ucdp(GOOD_UCDP) + b"4,2020,1,JNIM,Government of Mali,Mali,Kayes,14.4",
        2,
        ["line 5"],
    ),
    Case(
        "semicolon delimiter",
        csv_text(UCDP_HEADER, GOOD_UCDP, sep=";").encode(),
        2,
        ["semicolon"],
    ),
    Case(
        "latin-1 encoding",
        csv_text(ACLED_HEADER, [acled_row(1, admin1="Ségou", notes="Attaque à Ségou")]).encode(
            "latin-1"
        ),
        2,
        ["UTF-8", "line 2"],
    ),
    # what `fetch` downloads: told to "re-save the file as UTF-8", not to unpack it
    Case(
        "zip archive of the CSV",
        _zip_of(_ucdp(GOOD_UCDP)),
        2,
        ["zip archive", "unpack the zip archive first"],
    ),
    Case("gzip of the CSV", _gzip_of(_ucdp(GOOD_UCDP)), 2, ["unpack the gzip archive first"]),
    # an ACLED export saved from Excel is a zip too, but unpacking it yields no CSV
    Case(
        "Excel workbook",
        _workbook(),
        2,
        ["spreadsheet workbook", "save the sheet as CSV UTF-8"],
    ),
    # a code outside the source's list had counted as merely "imprecise" (kept)
    Case(
        "ACLED time precision outside 1-3",
        _acled([acled_row(1, time_precision=9), acled_row(2)]),
        2,
        ["line 2", "time_precision", "1, 2 or 3", "found '9'"],
    ),
    Case(
        "UCDP date precision outside 1-5",
        _ucdp([ucdp_row(1, date_prec=0)], [*UCDP_HEADER, "date_prec"]),
        2,
        ["line 2", "date_prec", "1 to 5"],
    ),
    Case(
        "utf-8 BOM",
        b"\xef\xbb\xbf" + _acled(GOOD_ACLED),
        0,
        check=_kept(3),
    ),
    Case(
        "excel thousands separator in fatalities",
        _ucdp([ucdp_row(1, best="1,234")]),
        2,
        ["line 2", "best"],
    ),
    Case(
        "excel day/month date",
        _acled([acled_row(1, event_date="08/02/2024")]),
        2,
        ["line 2", "event_date"],
    ),
    Case("duplicate ids", _ucdp([ucdp_row(1), ucdp_row(1)]), 2, ["line 3", "unique"]),
    *[
        Case(
            f"ucdp missing column {column}",
            _ucdp(GOOD_UCDP, _without(UCDP_HEADER, column)),
            2,
            [column],
            source="ucdp",
        )
        for column in UCDP_REQUIRED
    ],
    *[
        Case(
            f"acled missing column {column}",
            _acled(GOOD_ACLED, _without(ACLED_HEADER, column)),
            2,
            [column],
            source="acled",
        )
        for column in ACLED_REQUIRED
    ],
    Case(
        "extra columns are kept",
        csv_text(
            [*UCDP_HEADER, "analyst_comment"], [dict(ucdp_row(1), analyst_comment="ok")]
        ).encode(),
        0,
        check=lambda manifest, events: "analyst_comment" in events.columns,
    ),
    Case(
        "missing coordinates are counted, not dropped",
        _ucdp([ucdp_row(1, latitude="", longitude=""), ucdp_row(2)]),
        0,
        check=_manifest_counts("quality_warnings", "missing_coordinates", 1),
    ),
    Case(
        "NaN coordinates",
        _ucdp([ucdp_row(1, latitude="NaN", longitude="NaN")]),
        0,
        check=_manifest_counts("quality_warnings", "missing_coordinates", 1),
    ),  # fmt: skip
    Case("latitude out of range", _ucdp([ucdp_row(1, latitude=95.0)]), 2, ["line 2", "latitude"]),
    Case("longitude out of range", _ucdp([ucdp_row(1, longitude=-200)]), 2, ["longitude"]),
    Case("infinite latitude", _ucdp([ucdp_row(1, latitude="inf")]), 2, ["latitude"]),
    Case(
        "date in 1900",
        _ucdp([ucdp_row(1, date_start="1900-01-01", date_end="1900-01-01")]),
        2,
        ["line 2", "date_start"],
    ),  # fmt: skip
    Case(
        "date in 2100",
        _acled([acled_row(1, event_date="01 January 2100")]),
        2,
        ["line 2", "event_date"],
    ),  # fmt: skip
    Case("unparseable date", _ucdp([ucdp_row(1, date_start="yesterday")]), 2, ["date_start"]),
    Case("end before start", _ucdp([ucdp_row(1, date_end="2019-01-01")]), 2, ["date_end"]),
    Case("negative fatalities", _ucdp([ucdp_row(1, best=-3)]), 2, ["line 2", "best"]),
    Case("fractional fatalities", _acled([acled_row(1, fatalities=2.5)]), 2, ["fatalities"]),
    Case("absurd fatalities", _ucdp([ucdp_row(1, best=10**9)]), 2, ["best"]),
    Case("text in fatalities", _acled([acled_row(1, fatalities="many")]), 2, ["fatalities"]),
    Case(
        "10 MB field",
        _acled([acled_row(1, notes="x" * 10_000_000), acled_row(2)]),
        0,
        check=_kept(2),
    ),
    Case(
        "spreadsheet formula in actor",
        _acled([acled_row(1, actor1="=cmd|' /c calc'!A0")]),
        0,
        check=_actor_kept("=cmd|' /c calc'!A0"),
    ),
    Case(
        "html and script in names and notes",
        _acled(
            [acled_row(1, actor1="<script>alert(1)</script>", notes="<img src=x onerror=alert(1)>")]
        ),
        0,
        check=_actor_kept("<script>alert(1)</script>"),
    ),
    Case(
        "path traversal as a region name",
        _acled([acled_row(1, admin1="../../etc/passwd", latitude="", longitude="")]),
        0,
        check=_manifest_counts("set_aside", "unresolved_region", 1),
    ),
    Case(
        "right-to-left and combining unicode",
        _acled(
            [
                acled_row(
                    1,
                    actor1="\u202ejnim\u202c \u0645\u062c\u0645\u0648\u0639\u0629",
                    admin1="Se\u0301gou",
                    notes="e\u0301\u0301\u0301",
                )
            ]
        ),
        0,
        check=_kept(1),
    ),  # fmt: skip
    Case("null bytes", _ucdp(GOOD_UCDP).replace(b"JNIM", b"JN\x00IM", 1), 2, ["line 2"]),
    Case("binary garbage", bytes(range(256)) * 40, 2, []),
    Case("json instead of csv", b'{"id": 1, "country": "Mali"}\n', 2, []),
    Case("unknown format header", b"foo,bar,baz\n1,2,3\n", 2, ["format"]),
    Case(
        "type_of_violence outside 1-3",
        _ucdp([ucdp_row(1, type_of_violence=7)]),
        2,
        ["type_of_violence"],
    ),  # fmt: skip
    Case(
        "uppercase acled header",
        csv_text(
            [c.upper() for c in ACLED_HEADER],
            [{c.upper(): v for c, v in acled_row(1).items()}],
        ).encode(),
        0,
        check=_kept(1),
    ),  # fmt: skip
    Case("CRLF line endings", _acled(GOOD_ACLED).replace(b"\n", b"\r\n"), 0, check=_kept(3)),
    Case(
        "quoted newline in notes",
        _acled([acled_row(1, notes="line one\nline two"), acled_row(2)]),
        0,
        check=_kept(2),
    ),  # fmt: skip
    Case("empty event id", _ucdp([ucdp_row(1, id="")]), 2, ["line 2", "id"]),
    Case(
        "UCDP file that cannot place any event",
        _ucdp(
            [ucdp_row(1)], [c for c in UCDP_HEADER if c not in ("adm_1", "latitude", "longitude")]
        ),
        2,
        ["an admin-1 column", "adm_1", "latitude", "longitude"],
    ),
    Case(
        "ACLED file with a latitude but no longitude or admin1",
        _acled([acled_row(1)], [c for c in ACLED_HEADER if c not in ("admin1", "longitude")]),
        2,
        ["an admin-1 column", "admin1", "longitude"],
    ),
]


def test_there_are_at_least_forty_cases():
    assert len(CASES) >= 40
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_file(case: Case, tmp_path: Path):
    raw = tmp_path / "raw" / "events.csv"
    raw.parent.mkdir()
    raw.write_bytes(case.content)
    before = raw.read_bytes()
    out = tmp_path / "out" / "events.parquet"
    args = ["ingest", str(raw), "--out", str(out)]
    if case.source:
        args += ["--source", case.source]
    result = CliRunner().invoke(app, args)
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "Traceback" not in output
    assert result.exit_code == case.exit_code, output[-2000:]
    assert raw.read_bytes() == before  # data/raw is never modified
    if case.exit_code == 2:
        assert not result.exception or isinstance(result.exception, SystemExit), result.exception
        assert str(raw) in output or "events.csv" in output, output[-2000:]
        for text in case.message:
            assert text.lower() in output.lower(), (text, output[-2000:])
        assert not out.exists()
        assert not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True
    else:
        import pandas as pd

        manifest = json.loads(out.with_name(out.name + ".manifest.json").read_text())
        events = pd.read_parquet(out)
        if case.check is not None:
            case.check(manifest, events)


_FUZZ_CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "NaN", "-1", "1e309", "2.5", "1,234", "=1+1", "<b>", "\x00", "2020-13-45",
                     "08 February 2024", "8-Feb-24", "2024-02-08", "Mali", "Kayes", "JNIM"]),
    st.integers(-10**12, 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)  # fmt: skip


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.sampled_from([UCDP_HEADER, ACLED_HEADER, [c.upper() for c in ACLED_HEADER]]),
    rows=st.lists(st.lists(_FUZZ_CELLS, min_size=0, max_size=17), max_size=6),
    sep=st.sampled_from([",", ";", "\t"]),
    bom=st.booleans(),
)
def test_readers_never_fail_other_than_with_an_input_error(tmp_path, header, rows, sep, bom):
    from analysis.errors import InputError
    from analysis.sources.ingest import ingest

    lines = [sep.join(header)] + [sep.join(_csv_field(v) for v in row) for row in rows]
    path = tmp_path / "fuzz.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + ("\n".join(lines) + "\n").encode())
    try:
        result = ingest([path])
    except InputError as exc:
        assert exc.problems or exc.message
        return
    # accepted: every row kept (nothing dropped silently) and every date plausible
    assert result.manifest["rows_kept"] == result.manifest["rows_read"]
    assert result.events["date_start"].notna().all()
