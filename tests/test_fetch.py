"""`fetch ucdp`: resumable, verified, atomic downloads, against a local HTTP server."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.errors import InputError
from analysis.sources.fetch import DownloadError, check_url, fetch_ucdp, ucdp_url


def make_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        rows = "\n".join(f"{i},2024,1,JNIM,Mali,2024-01-01,1" for i in range(20000))
        archive.writestr(
            "GEDEvent_v25_1.csv", "id,year,type_of_violence,side_a,country,date_start,best\n" + rows
        )
    return buffer.getvalue()


PAYLOAD = make_zip()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        server = self.server
        server.requests.append((self.path, self.headers.get("Range")))
        if self.path != "/ged/ged251-csv.zip":
            self.send_error(404)
            return
        data = server.payload
        start = 0
        wanted = self.headers.get("Range")
        if wanted and server.honour_range:
            start = int(re.match(r"bytes=(\d+)-", wanted).group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/zip")
        self.end_headers()
        if server.cuts:
            cut = server.cuts.pop(0)
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.payload = PAYLOAD
    httpd.honour_range = True
    httpd.cuts = []
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}/ged"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_full_download_with_env_base_url(server, tmp_path, monkeypatch):
    monkeypatch.setenv("CONFLICT_TRENDS_UCDP_URL", server.base)
    out = tmp_path / "raw"
    result = CliRunner().invoke(app, ["fetch", "ucdp", "--version", "25.1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    target = out / "ged251-csv.zip"
    assert target.read_bytes() == PAYLOAD
    assert info["sha256"] == hashlib.sha256(PAYLOAD).hexdigest()
    assert info["members"] == ["GEDEvent_v25_1.csv"] and info["resumed_from"] == 0
    # the CSV `ingest` reads is unpacked beside the archive, and nothing half-written is left
    assert sorted(p.name for p in out.iterdir()) == ["GEDEvent_v25_1.csv", "ged251-csv.zip"]
    member = zipfile.ZipFile(io.BytesIO(PAYLOAD)).read("GEDEvent_v25_1.csv")
    assert (out / "GEDEvent_v25_1.csv").read_bytes() == member
    assert info["csv"] == str(out / "GEDEvent_v25_1.csv")
    # already there: verified, not downloaded again, and the CSV in place is not rewritten
    csv = out / "GEDEvent_v25_1.csv"
    os.utime(csv, ns=(1_000_000_000, 1_000_000_000))
    again = fetch_ucdp("25.1", out, sha256=info["sha256"])
    assert again.attempts == 0 and len(server.requests) == 1
    assert again.csv == csv and csv.stat().st_mtime_ns == 1_000_000_000


def test_a_different_csv_in_place_is_not_overwritten(server, tmp_path):
    """data/raw is never modified: a CSV of the member's name that is not the member's bytes
    (an edited or older export) stops the fetch, and stays as it was."""
    first = fetch_ucdp("25.1", tmp_path, base_url=server.base)
    edited = first.csv.read_bytes().replace(b"1", b"2", 1)
    first.csv.write_bytes(edited)
    with pytest.raises(DownloadError, match="already exists and differs"):
        fetch_ucdp("25.1", tmp_path, base_url=server.base)
    assert first.csv.read_bytes() == edited
    assert sorted(p.name for p in tmp_path.iterdir()) == ["GEDEvent_v25_1.csv", "ged251-csv.zip"]


def test_a_csv_that_appears_while_unpacking_is_not_replaced(tmp_path, monkeypatch):
    """Another process writing the CSV between the check and the end of unpacking: its file
    stays, the fetch is refused, and no partial file is left."""
    from analysis.sources import fetch

    archive = tmp_path / "ged251-csv.zip"
    archive.write_bytes(PAYLOAD)
    target = tmp_path / "GEDEvent_v25_1.csv"
    real_fsync = os.fsync

    def fsync_then_race(fd: int) -> None:
        real_fsync(fd)
        target.write_bytes(b"written by someone else\n")

    monkeypatch.setattr(fetch.os, "fsync", fsync_then_race)
    with pytest.raises(DownloadError, match="already exists and differs"):
        fetch.extract_csv(archive, tmp_path)
    assert target.read_bytes() == b"written by someone else\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name, archive.name]


def test_an_archive_without_a_csv_is_refused(tmp_path):
    from analysis.sources.fetch import extract_csv

    archive = tmp_path / "ged251-csv.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("readme.txt", "no data here")
    with pytest.raises(DownloadError, match="holds no CSV"):
        extract_csv(archive, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ged251-csv.zip"]


def test_interrupted_download_resumes_with_range(server, tmp_path):
    server.cuts = [30000]
    with pytest.raises(DownloadError, match="run again to resume"):
        fetch_ucdp("25.1", tmp_path, base_url=server.base, retries=0)
    part = tmp_path / "ged251-csv.zip.part"
    assert part.stat().st_size == 30000 and not (tmp_path / "ged251-csv.zip").exists()
    result = fetch_ucdp(
        "25.1",
        tmp_path,
        base_url=server.base,
        retries=0,
        sha256=hashlib.sha256(PAYLOAD).hexdigest(),
    )
    assert server.requests[-1][1] == "bytes=30000-"
    assert result.resumed_from == 30000
    assert result.path.read_bytes() == PAYLOAD and not part.exists()


def test_a_download_that_received_nothing_claims_no_partial_file(tmp_path):
    """A refused connection said "0 bytes kept in ....part" where no such file exists."""
    import socket

    with socket.socket() as sock:  # a port with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DownloadError, match="nothing was received") as err:
        fetch_ucdp("25.1", tmp_path, base_url=f"http://127.0.0.1:{port}/ged", retries=0)
    assert "bytes kept" not in str(err.value)
    assert not (tmp_path / "ged251-csv.zip.part").exists()


def test_breaks_are_retried_within_one_call(server, tmp_path):
    server.cuts = [1000, 5000]
    result = fetch_ucdp("25.1", tmp_path, base_url=server.base, retries=3)
    assert result.attempts == 3
    assert [r[1] for r in server.requests] == [None, "bytes=1000-", "bytes=6000-"]
    assert result.path.read_bytes() == PAYLOAD


def test_server_ignoring_range_restarts_cleanly(server, tmp_path):
    server.honour_range = False
    (tmp_path / "ged251-csv.zip.part").write_bytes(b"stale bytes from elsewhere")
    result = fetch_ucdp("25.1", tmp_path, base_url=server.base, retries=0)
    assert result.path.read_bytes() == PAYLOAD


def test_complete_part_file_gets_416_and_is_verified(server, tmp_path):
    (tmp_path / "ged251-csv.zip.part").write_bytes(PAYLOAD)
    result = fetch_ucdp("25.1", tmp_path, base_url=server.base, retries=0)
    assert result.path.read_bytes() == PAYLOAD and result.resumed_from == len(PAYLOAD)


def test_checksum_mismatch_keeps_nothing(server, tmp_path):
    with pytest.raises(DownloadError, match="does not match"):
        fetch_ucdp("25.1", tmp_path, base_url=server.base, sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_archive_is_rejected(server, tmp_path):
    broken = bytearray(PAYLOAD)
    broken[200:210] = b"XXXXXXXXXX"  # inside the compressed member: CRC fails
    server.payload = bytes(broken)
    with pytest.raises(DownloadError):
        fetch_ucdp("25.1", tmp_path, base_url=server.base)
    server.payload = b"<html>not found</html>"
    with pytest.raises(DownloadError, match="not a valid zip"):
        fetch_ucdp("25.1", tmp_path, base_url=server.base)
    assert list(tmp_path.iterdir()) == []


def test_http_errors_exit_1(server, tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "fetch",
            "ucdp",
            "--version",
            "99.9",
            "--out",
            str(tmp_path),
            "--base-url",
            server.base + "/x",
        ],
    )
    assert result.exit_code == 1 and "404" in result.output
    assert list(tmp_path.iterdir()) == []


def test_urls_and_refusals(tmp_path):
    assert ucdp_url("25.1", "https://ucdp.uu.se/downloads/ged") == (
        "https://ucdp.uu.se/downloads/ged/ged251-csv.zip"
    )
    assert ucdp_url("21.1").startswith("https://ucdp.uu.se/")
    check_url("http://localhost:8000/x.zip")
    for url in ("http://ucdp.uu.se/downloads/ged/x.zip", "ftp://127.0.0.1/x", "file:///etc/passwd"):
        with pytest.raises(InputError):
            check_url(url)
    with pytest.raises(InputError):
        ucdp_url("25")
    result = CliRunner().invoke(
        app,
        [
            "fetch",
            "ucdp",
            "--version",
            "25.1",
            "--out",
            str(tmp_path),
            "--base-url",
            "http://example.org",
        ],
    )
    assert result.exit_code == 2 and "https" in result.output
    assert CliRunner().invoke(app, ["fetch", "acled", "--version", "1.0"]).exit_code == 2


def test_a_bad_version_names_the_option_before_any_download(tmp_path):
    """`fetch ucdp --version abc` had said "column 'version'", as if of a table."""
    result = CliRunner().invoke(app, ["fetch", "ucdp", "--version", "abc", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "option '--version': expected a release like 25.1 (found 'abc')" in result.output
    assert "column" not in result.output and list(tmp_path.iterdir()) == []
    with pytest.raises(InputError) as called:  # called from Python: the function's parameter
        ucdp_url("abc")
    assert "parameter 'version'" in called.value.render()


def test_fetch_may_download_into_data_raw(server, tmp_path):
    """The one command that writes under data/raw/: its job is to put raw exports there."""
    out = tmp_path / "data" / "raw"
    result = CliRunner().invoke(
        app, ["fetch", "ucdp", "--version", "25.1", "--out", str(out), "--base-url", server.base]
    )
    assert result.exit_code == 0, result.output
    assert (out / "ged251-csv.zip").read_bytes() == PAYLOAD
