"""Download the official UCDP GED CSV archive: resumable, verified, atomic.

The archive is streamed into ``<name>.part`` beside the target. An interrupted download leaves
the ``.part`` file; the next attempt asks the server for the remaining bytes (HTTP ``Range``)
and appends them. Only a complete archive that passes the zip integrity test (and the SHA-256,
when one is given) is renamed onto the target, so the target is never a partial file.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

from analysis.errors import InputError, Problem, parameter_kind

DEFAULT_UCDP_BASE = "https://ucdp.uu.se/downloads/ged"
UCDP_URL_ENV = "CONFLICT_TRENDS_UCDP_URL"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """A download failed (network, server or verification); the ``.part`` file is kept when
    resuming makes sense."""


@dataclass(frozen=True)
class FetchResult:
    """What a fetch produced.

    Attributes
    ----------
    path : pathlib.Path
        The verified archive.
    url : str
    sha256 : str
    bytes : int
    resumed_from : int
        Bytes already present from an earlier, interrupted attempt (0 if none).
    attempts : int
    members : list of str
        Files inside the archive.
    csv : pathlib.Path or None
        The archive's CSV, unpacked beside it (:func:`extract_csv`), which ``ingest`` reads;
        None until unpacked.
    """

    path: Path
    url: str
    sha256: str
    bytes: int
    resumed_from: int
    attempts: int
    members: list[str]
    csv: Path | None = None


def ucdp_url(version: str, base_url: str | None = None, option: str = "version") -> str:
    """URL of the GED CSV archive of a release, e.g. ``25.1`` -> ``.../ged251-csv.zip``.

    The base URL comes from ``base_url``, else the ``CONFLICT_TRENDS_UCDP_URL`` environment
    variable, else UCDP's download site. ``option`` names where the version was given, for
    the message (the ``fetch`` command's ``--version``).

    Parameters
    ----------
    version : str
        The release, ``YY.N`` (e.g. ``25.1``); surrounding spaces are ignored.
    base_url : str, optional
        Base URL of the downloads (a mirror); a trailing slash is ignored.
    option : str, optional
        Where ``version`` was given, named in the error message; default ``"version"``.

    Returns
    -------
    str
        The archive's URL, ``<base>/ged<YYN>-csv.zip``.

    Raises
    ------
    InputError
        If ``version`` is not a release like ``25.1``.
    """
    text = str(version).strip()
    if not re.fullmatch(r"\d{2}\.\d", text):
        kind = parameter_kind(option)
        problem = Problem(None, None, option, "a release like 25.1", text, kind=kind)
        raise InputError("bad UCDP version", [problem])
    base = base_url or os.environ.get(UCDP_URL_ENV) or DEFAULT_UCDP_BASE
    return f"{base.rstrip('/')}/ged{text.replace('.', '')}-csv.zip"


def check_url(url: str) -> None:
    """Allow https anywhere, plain http only to this machine (tests, local mirrors).

    Parameters
    ----------
    url : str
        The URL to be downloaded.

    Raises
    ------
    InputError
        If the URL is neither https nor http to localhost.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS:
        return
    raise InputError(
        "refusing to download",
        [Problem(None, None, "url", "an https:// URL (http only to localhost)", url)],
    )


def download(
    url: str,
    target: str | os.PathLike[str],
    sha256: str | None = None,
    retries: int = 3,
    timeout: float = 60.0,
) -> FetchResult:
    """Download ``url`` to ``target`` with resume, zip verification and an atomic rename.

    Parameters
    ----------
    url : str
        https (or http to localhost).
    target : path-like
        Final path of the archive; ``target + ".part"`` holds a download in progress.
    sha256 : str, optional
        Expected hex digest of the whole archive.
    retries : int
        Further attempts after a broken connection, each resuming where the last stopped.
    timeout : float
        Seconds to wait for the server on each read.

    Returns
    -------
    FetchResult

    Raises
    ------
    InputError
        Refused URL.
    DownloadError
        Network or server failure after all retries (``.part`` kept for a later resume), or a
        complete file that fails verification (``.part`` removed, it cannot be resumed).
    """
    check_url(url)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    resumed_from = part.stat().st_size if part.exists() else 0
    attempts = 0
    last_error: Exception | None = None
    while attempts <= retries:
        attempts += 1
        try:
            if _fetch_once(url, part, timeout):
                break
        except (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError) as exc:
            if isinstance(exc, urllib.error.HTTPError) and exc.code not in (
                408,
                429,
                500,
                502,
                503,
                504,
            ):
                raise DownloadError(f"{url}: server answered {exc.code} {exc.reason}") from None
            last_error = exc
    else:
        have = part.stat().st_size if part.exists() else 0
        # a connection that failed before any byte leaves no partial file to speak of
        kept = (
            f"{have} bytes kept in {part}; run again to resume"
            if have
            else "nothing was received; run again to retry"
        )
        raise DownloadError(f"{url}: download incomplete after {attempts} attempts ({kept}): "
                            f"{last_error}")  # fmt: skip

    digest, size = _sha256(part)
    if sha256 and digest.lower() != sha256.strip().lower():
        part.unlink()
        raise DownloadError(f"{url}: SHA-256 {digest} does not match the expected {sha256}")
    members = _verify_zip(part)
    os.replace(part, target)
    return FetchResult(target, url, digest, size, resumed_from, attempts, members)


def _fetch_once(url: str, part: Path, timeout: float) -> bool:
    """One request; append to ``part``. True when the whole file is there."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "conflict-trends"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - scheme checked
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:
            # nothing left to send: the part file is already complete (verified next)
            return True
        raise
    with response:
        if response.status == 206:
            start = _range_start(response.headers.get("Content-Range"))
            if start != have:
                raise DownloadError(f"{url}: server resumed at byte {start}, expected {have}")
            mode = "ab"
        else:
            # the server ignored the Range header: start over
            mode, have = "wb", 0
        length = response.headers.get("Content-Length")
        expected = have + int(length) if length is not None else None
        with open(part, mode) as handle:
            try:
                while chunk := response.read(CHUNK):
                    handle.write(chunk)
            except http.client.IncompleteRead as exc:
                handle.write(exc.partial)
                raise
            handle.flush()
            os.fsync(handle.fileno())
    got = part.stat().st_size
    if expected is not None and got < expected:
        raise http.client.IncompleteRead(b"", expected - got)
    return True


def _range_start(header: str | None) -> int:
    match = re.match(r"bytes (\d+)-", header or "")
    if not match:
        raise DownloadError(f"unexpected Content-Range {header!r}")
    return int(match.group(1))


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _verify_zip(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            members = archive.namelist()
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        # a corrupt deflate stream surfaces as zlib.error rather than a CRC mismatch
        path.unlink()
        raise DownloadError(f"{path.name}: not a valid zip archive ({exc}); removed") from None
    if bad is not None:
        path.unlink()
        raise DownloadError(f"{path.name}: member {bad} fails its CRC check; removed")
    return members


def extract_csv(archive: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> Path:
    """Unpack the archive's CSV into ``out_dir`` under its own file name, atomically.

    ``ingest`` reads CSV files, not archives, so a fetch that stopped at the zip left the user
    a step the README did not mention. The member is streamed into ``<name>.part`` and renamed,
    so an interrupted unpacking never leaves a truncated CSV where a whole one is expected.

    Parameters
    ----------
    archive : path-like
        A verified zip archive (:func:`download`).
    out_dir : path-like
        Folder for the CSV.

    Returns
    -------
    pathlib.Path
        The unpacked CSV.

    Raises
    ------
    DownloadError
        If the archive holds no CSV, or a different file of the CSV's name is already in
        ``out_dir`` (raw data are never overwritten).

    Notes
    -----
    A CSV already in place with the member's size and CRC-32 is left alone: a second fetch
    does not rewrite raw data, nor spend the time unpacking it again.
    """
    with zipfile.ZipFile(archive) as zipped:
        csvs = [n for n in zipped.namelist() if n.lower().endswith(".csv")]
        if not csvs:
            raise DownloadError(f"{Path(archive).name}: the archive holds no CSV file")
        target = Path(out_dir) / Path(csvs[0]).name
        member = zipped.getinfo(csvs[0])
        if target.exists():
            return _kept_or_refused(target, member, archive)
        part = target.with_name(target.name + ".part")
        try:
            with zipped.open(csvs[0]) as source, open(part, "wb") as handle:
                while chunk := source.read(1 << 20):
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            # a hard link, unlike a rename, fails where a file appeared meanwhile (another
            # fetch, a user's copy): raw data are never replaced
            os.link(part, target)
        except FileExistsError:
            return _kept_or_refused(target, member, archive)
        finally:
            part.unlink(missing_ok=True)
    return target


def _kept_or_refused(target: Path, member: zipfile.ZipInfo, archive: str | os.PathLike) -> Path:
    """The CSV already in place if it holds the member's bytes; else a refusal that names it."""
    if _same_as_member(target, member):
        return target
    raise DownloadError(
        f"{target} already exists and differs from {member.filename} in "
        f"{Path(archive).name}; move it away (raw data are not overwritten) and run the "
        "fetch again"
    )


def _same_as_member(path: Path, member: zipfile.ZipInfo) -> bool:
    """Whether the file holds exactly the archive member's bytes (size, then CRC-32)."""
    if path.stat().st_size != member.file_size:
        return False
    crc = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc == member.CRC


def fetch_ucdp(
    version: str,
    out_dir: str | os.PathLike[str] = "data/raw",
    sha256: str | None = None,
    base_url: str | None = None,
    retries: int = 3,
    timeout: float = 60.0,
) -> FetchResult:
    """Download the GED CSV archive of a UCDP release into ``out_dir``.

    The file keeps the server's name (``ged251-csv.zip``), and its CSV is unpacked beside it
    (:func:`extract_csv`, ``FetchResult.csv``). An archive already in place is verified and
    not downloaded again.

    Parameters
    ----------
    version : str
        The release, e.g. ``25.1`` (:func:`ucdp_url`).
    out_dir : path-like
        Folder for the archive and its CSV; ``data/raw`` by default.
    sha256 : str, optional
        Expected hex digest of the archive (also checked for an archive already in place).
    base_url : str, optional
        Mirror base URL (default: ``CONFLICT_TRENDS_UCDP_URL``, else UCDP's download site).
    retries : int
        Further attempts after a broken connection, each resuming where the last stopped.
    timeout : float
        Seconds to wait for the server on each read.

    Returns
    -------
    FetchResult
        With ``csv`` set to the unpacked CSV. For an archive already in place,
        ``resumed_from`` is its size and ``attempts`` is 0.

    Raises
    ------
    InputError
        If ``version`` is no release like ``25.1``, or the URL is refused (:func:`check_url`).
    DownloadError
        If an archive already in place fails its SHA-256 or is not a zip archive, or as
        :func:`download` and :func:`extract_csv` raise it.
    """
    url = ucdp_url(version, base_url)
    check_url(url)
    target = Path(out_dir) / url.rsplit("/", 1)[-1]
    if target.exists():
        digest, size = _sha256(target)
        if sha256 and digest.lower() != sha256.strip().lower():
            raise DownloadError(
                f"{target} exists but its SHA-256 {digest} differs from {sha256}; "
                "move it away to download again"
            )
        try:
            with zipfile.ZipFile(target) as archive:
                members = archive.namelist()
        except zipfile.BadZipFile:
            raise DownloadError(
                f"{target} exists but is not a zip archive; move it away to download again"
            ) from None
        result = FetchResult(target, url, digest, size, size, 0, members)
    else:
        result = download(url, target, sha256=sha256, retries=retries, timeout=timeout)
    return replace(result, csv=extract_csv(result.path, Path(out_dir)))
