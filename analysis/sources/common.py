"""Machinery shared by the readers: headers, date parsing, line numbers, problems.

Readers read only the columns they need, in batches (:mod:`analysis.sources.batches`; strings
stay Arrow strings in pandas), parse dates once per distinct value, and check everything
vectorised. The slow paths (scanning the file with the ``csv`` module for line numbers,
re-parsing a batch's numbers to find the value that would not convert) only run when something
is wrong.
"""

from __future__ import annotations

import csv
import functools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.errors import InputError, Problem, not_utf8_problem
from analysis.events import (
    CANONICAL_COLUMNS,
    DATE_DTYPE,
    STRING_DTYPE,
    failure_problems,
)
from analysis.io import open_text_for_reading

if TYPE_CHECKING:
    from analysis.sources.batches import Batched

ACLED_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d-%b-%y")
ISO_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")
DATE_FORMS = {
    "%Y-%m-%d": "2024-02-08",
    "%d %B %Y": "08 February 2024",
    "%d-%b-%y": "8-Feb-24",
    "%Y-%m-%d %H:%M:%S.%f": "2024-02-08 00:00:00.000",
    "%Y-%m-%d %H:%M:%S": "2024-02-08 00:00:00",
    "%Y-%m-%dT%H:%M:%S": "2024-02-08T00:00:00",
}
MAX_SHOWN = 50


@dataclass(frozen=True)
class ReadResult:
    """Canonical events read from one file.

    Attributes
    ----------
    events : pandas.DataFrame
        Canonical events (region_id and iso3 not yet assigned), row ``i`` from record ``i``.
    source : str
        ``ucdp``, ``acled`` or ``csv``.
    path : pathlib.Path
    rows_read : int
        Records in the file (header excluded).
    quality : dict
        Fixable quality issue -> number of rows (kept).
    lines : callable
        ``lines()`` returns the line number of every record (computed on demand).
    sha256 : str or None
        Hex SHA-256 of the file, computed while it was read (None if not computed).
    note : str
        What a reader of the counts should know about the file itself (e.g. that it is a
        partial copy of a release); empty when nothing.
    """

    events: pd.DataFrame
    source: str
    path: Path
    rows_read: int
    quality: dict[str, int]
    lines: Callable[[], np.ndarray] = field(repr=False, compare=False)
    sha256: str | None = field(default=None, compare=False)
    note: str = ""


@dataclass
class Problems:
    """Problems found by a reader, kept by row position until line numbers are known.

    A file read in batches sets ``offset`` to the position of the batch's first row; positions
    given to :meth:`add` are within the batch. Failures of one column and expected form are
    pooled over the batches, so they are capped and counted as for a file read whole.
    """

    path: Path
    found: dict[tuple[str | None, str], tuple[list[np.ndarray], list[str]]] = field(
        default_factory=dict
    )
    skip: dict[str, set[int]] = field(default_factory=dict)
    offset: int = 0

    def add(
        self,
        column: str | None,
        positions: np.ndarray,
        values: list[str],
        expected: str,
        canonical: str | None = None,
    ) -> None:
        """Record failing rows of one column (``canonical``: its canonical name).

        Parameters
        ----------
        column : str or None
            The column as written in the file (None: a problem of no one column).
        positions : ndarray of int
            Row positions of the failing rows within the batch (``offset`` is added).
        values : list of str
            The failing values as found, in the order of ``positions``; at most :data:`MAX_SHOWN`
            are kept per column and expected form.
        expected : str
            What the column should hold, for the message.
        canonical : str, optional
            The column's canonical name; its positions go to ``skip``, so that the schema check does
            not report them again.
        """
        if len(positions) == 0:
            return
        positions = np.asarray(positions, dtype=np.int64) + self.offset
        where, shown = self.found.setdefault((column, expected), ([], []))
        where.append(positions)
        shown.extend(values[: max(MAX_SHOWN - len(shown), 0)])
        if canonical:
            self.skip.setdefault(canonical, set()).update(positions.tolist())

    def merge(self, other: Problems, offset: int) -> None:
        """Add the problems of a later range of the file, whose first row is at ``offset``.

        Parameters
        ----------
        other : Problems
            Problems of the later range, by row position within that range.
        offset : int
            Position in the file of the range's first row.
        """
        for key, (where, values) in other.found.items():
            mine, shown = self.found.setdefault(key, ([], []))
            mine.extend(positions + offset for positions in where)
            shown.extend(values[: max(MAX_SHOWN - len(shown), 0)])
        for canonical, positions in other.skip.items():
            self.skip.setdefault(canonical, set()).update(p + offset for p in positions)

    def reset(self) -> None:
        """Forget everything (the file is about to be read again)."""
        self.found.clear()
        self.skip.clear()
        self.offset = 0

    def to_problems(self, lines: np.ndarray) -> list[Problem]:
        """The problems found, with line numbers: at most :data:`MAX_SHOWN` rows
        per column and expected form, then one problem counting the rest.

        Parameters
        ----------
        lines : ndarray of int
            Line number of every record, by row position (:func:`record_lines`).

        Returns
        -------
        list of Problem
        """
        out: list[Problem] = []
        for (column, expected), (where, values) in self.found.items():
            positions = np.concatenate(where)
            for pos, value in zip(positions[:MAX_SHOWN], values[:MAX_SHOWN], strict=False):
                out.append(Problem(str(self.path), int(lines[pos]), column, expected, value))
            if len(positions) > MAX_SHOWN:
                rest = len(positions) - MAX_SHOWN
                more = f"{rest} more rows failing this check, {len(positions)} in all"
                out.append(Problem(str(self.path), None, column, expected, more, more_rows=rest))
        return out


def empty_file_error(path: Path, line: int, what: str) -> InputError:
    """The error for a file that ends where ``what`` was expected.

    Parameters
    ----------
    path : pathlib.Path
    line : int
        The line at which the file ended.
    what : str
        What was expected there, for the message.

    Returns
    -------
    InputError
    """
    return InputError(f"{path}: no events", [Problem(str(path), line, None, what, "end of file")])


def read_header(path: str | os.PathLike[str]) -> list[str]:
    """The header row of a CSV file (a UTF-8 byte-order mark is dropped).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    list of str
        The column names, stripped of surrounding whitespace.

    Raises
    ------
    InputError
        If the file is empty or its first line holds no column names.
    FileNotFoundError
        If there is no such file.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder", [Problem(str(path), None, None, "a CSV file")])
    with open_text_for_reading(path) as handle:
        try:
            header = next(csv.reader(handle))
        except StopIteration:
            raise empty_file_error(path, 1, "a header row naming the columns") from None
        except UnicodeDecodeError:
            # the text layer decodes ahead of the header: find the real line
            raise _utf8_error(path) or InputError(f"{path}: not UTF-8 text") from None
        except csv.Error as exc:
            raise InputError(
                f"{path}: not a CSV file",
                [Problem(str(path), 1, None, "a CSV header", str(exc))],
            ) from None
    header = [h.strip() for h in header]
    if not any(header):
        raise empty_file_error(path, 1, "a header row naming the columns")
    return header


def lower_names(header: list[str]) -> dict[str, str]:
    """Lower-case column name -> the name as written (first occurrence wins).

    Parameters
    ----------
    header : list of str
        Column names as written.

    Returns
    -------
    dict
        Lower-case name -> the name as written.
    """
    names: dict[str, str] = {}
    for name in header:
        names.setdefault(name.lower(), name)
    return names


_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def not_commas(path: Path, header: list[str], what: str) -> None:
    """Raise an :class:`InputError` saying so if a header of one column is held together by
    another separator (a semicolon-separated export reads as one column).

    Parameters
    ----------
    path : pathlib.Path
        The file, named in the message.
    header : list of str
        The header as read with commas as the separator.
    what : str
        The form expected (e.g. ``ACLED CSV``), for the message.

    Raises
    ------
    InputError
        When the one column of ``header`` holds a semicolon, a tab or a vertical bar.
    """
    if len(header) != 1:
        return
    for separator, word in _SEPARATORS.items():
        if separator in header[0]:
            raise InputError(
                f"{path}: not comma-separated",
                [
                    Problem(
                        str(path),
                        1,
                        None,
                        f"columns separated by commas ({what})",
                        f"a header separated by {word}: {header[0][:80]}",
                    )
                ],  # fmt: skip
            )


def require_columns(path: Path, header: list[str], required: list[str], fmt: str) -> dict[str, str]:
    """Check the header has every required column (any case); return lower -> written name.

    Parameters
    ----------
    path : pathlib.Path
        The file, named in the message.
    header : list of str
        Column names as written.
    required : list of str
        Lower-case names of the columns the format needs.
    fmt : str
        Name of the format (``ACLED``, ``UCDP GED``, ``generic CSV``), for the message.

    Returns
    -------
    dict
        Lower-case name -> the name as written (:func:`lower_names`).

    Raises
    ------
    InputError
        Naming every missing column (and the format the header belongs to, when it is another
        known format's), or a header held together by another separator (:func:`not_commas`).
    """
    names = lower_names(header)
    missing = [c for c in required if c not in names]
    if missing:
        # one problem, not one per required column each repeating the whole line
        not_commas(path, header, f"{fmt} CSV")
        shown = ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
        hint = _other_format(path, header, fmt)
        raise InputError(
            f"{path}: missing required columns for the {fmt} format",
            [
                Problem(str(path), 1, c, f"a column named {c!r} in the header ({fmt}{hint})", shown)
                for c in missing
            ],
        )
    return names


def _other_format(path: Path, header: list[str], fmt: str) -> str:
    """ "; the header is UCDP GED's: source ucdp, or auto" where the header is another
    format's: a UCDP file read as `source: acled` had listed five missing ACLED columns and
    no remedy."""
    from analysis.sources.detect import detect_format

    try:
        found = detect_format(path, tuple(header))
    except InputError:  # no known format's header
        return ""
    own, name = FORMAT_NAMES[found]
    if own == fmt:
        return ""  # its own format, a column short: nothing else to suggest
    return f"; the header is {name}: source {found}, or auto"


#: Each ``source`` value: the format name the readers give :func:`require_columns` and the
#: reports' data table shows, and the header's name in a hint.
FORMAT_NAMES = {"acled": ("ACLED", "ACLED's"), "ucdp": ("UCDP GED", "UCDP GED's"),
                "csv": ("generic CSV", "the canonical CSV's")}  # fmt: skip


#: Header columns (any case) that can place an event in an admin-1 unit without coordinates.
PLACING_COLUMNS = ("admin1", "adm_1", "adm1_iso", "region_id")


def require_placeable(path: Path, header: list[str]) -> None:
    """Check a file's header can place an event: an admin-1 column or both coordinates.

    Without either, no event of the file can ever reach a region panel, so the file is
    refused up front instead of being read with every row set aside.

    Parameters
    ----------
    path : pathlib.Path
        The file, named in the message.
    header : list of str
        Column names as written.

    Raises
    ------
    InputError
        When the header has none of :data:`PLACING_COLUMNS` and not both ``latitude`` and
        ``longitude``.
    """
    names = lower_names(header)
    if any(c in names for c in PLACING_COLUMNS) or ("latitude" in names and "longitude" in names):
        return
    missing = [c for c in ("latitude", "longitude") if c not in names]
    shown = ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
    admin = " or ".join(repr(c) for c in PLACING_COLUMNS)
    raise InputError(
        f"{path}: no column places an event in a region",
        [
            Problem(
                str(path),
                1,
                " / ".join(["admin1", *missing]),
                f"an admin-1 column ({admin}) or both 'latitude' and 'longitude'",
                shown,
            )
        ],
    )


def _open_lenient(path: str | Path):  # noqa: ANN202 - a text file object
    # Line counting must not fail on a stray byte in a column nobody reads, nor on a field
    # longer than the csv module's default limit of 128 KiB.
    csv.field_size_limit(2**31 - 1)
    return open(path, encoding="utf-8-sig", errors="replace", newline="")


@functools.lru_cache(maxsize=4)
def _record_lines(path: str, mtime: float, size: int) -> np.ndarray:
    lines: list[int] = []
    with _open_lenient(path) as handle:
        reader = csv.reader(handle)
        next(reader, None)
        previous = reader.line_num
        for row in reader:
            # pyarrow skips blank lines; so must the count
            if row:
                lines.append(previous + 1)
            previous = reader.line_num
    return np.asarray(lines, dtype=np.int64)


def record_lines(path: Path, n_records: int) -> np.ndarray:
    """Line number (header = line 1) of each record, honouring quoted newlines and blank lines.

    Parameters
    ----------
    path : pathlib.Path
    n_records : int
        Number of records the reader found.

    Returns
    -------
    ndarray of int64
        One line number per record. When the csv module counts another number of records,
        the record at position ``i`` is taken to be on line ``i + 2``.
    """
    stat = path.stat()
    lines = _record_lines(str(path), stat.st_mtime, stat.st_size)
    if len(lines) != n_records:  # the two parsers disagree: fall back to the simple count
        return np.arange(n_records, dtype=np.int64) + 2
    return lines


#: Leading bytes of compressed files a data source is downloaded as (``fetch`` keeps the
#: UCDP release zipped), which a reader would otherwise be told to "re-save as UTF-8".
COMPRESSED_MAGIC = {b"PK\x03\x04": "zip", b"\x1f\x8b": "gzip", b"BZh": "bzip2",
                    b"\xfd7zXZ\x00": "xz"}  # fmt: skip


def _is_workbook(path: Path) -> bool:
    """Whether a zip file is an Excel (.xlsx) or OpenDocument (.ods) workbook."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False
    return "xl/workbook.xml" in names or "content.xml" in names and "mimetype" in names


def _utf8_error(path: Path) -> InputError | None:
    """The line of the first byte that is not UTF-8, if any (a compressed file is named
    as such, with the advice to unpack it)."""
    data = path.read_bytes()
    if data.startswith(b"PK\x03\x04") and _is_workbook(path):
        # an Excel or OpenDocument workbook is a zip too, but unpacking it yields no CSV
        return InputError(
            f"{path}: a spreadsheet workbook, not a CSV file",
            [Problem(str(path), None, None,
                     "a CSV file (open the workbook and save the sheet as CSV UTF-8)",
                     "spreadsheet workbook")],
        )  # fmt: skip
    for magic, kind in COMPRESSED_MAGIC.items():
        if data.startswith(magic):
            return InputError(
                f"{path}: a {kind} archive, not a CSV file",
                [Problem(str(path), None, None,
                         f"a CSV file (unpack the {kind} archive first and name the CSV in it)",
                         f"{kind} data")],
            )  # fmt: skip
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        return InputError(f"{path}: not UTF-8 text", [not_utf8_problem(str(path), data, err.start)])
    return None


def _parse_error(path: Path, exc: Exception, n_columns: int) -> InputError:
    """Locate a malformed row (wrong number of fields) with the csv module."""
    if "UTF8" in str(exc) or "UTF-8" in str(exc):
        error = _utf8_error(path)
        if error is not None:
            return error
    with _open_lenient(path) as handle:
        reader = csv.reader(handle)
        next(reader, None)
        previous = reader.line_num
        try:
            for row in reader:
                if row and len(row) != n_columns:
                    return InputError(
                        f"{path}: malformed CSV",
                        [
                            Problem(
                                str(path),
                                previous + 1,
                                None,
                                f"{n_columns} fields as in the header",
                                f"{len(row)} fields",
                            )
                        ],
                    )
                previous = reader.line_num
        except csv.Error as err:
            return InputError(
                f"{path}: malformed CSV",
                [Problem(str(path), reader.line_num, None, "CSV", str(err))],
            )
    return InputError(f"{path}: malformed CSV", [Problem(str(path), None, None, "CSV", str(exc))])


def nul_byte_error(path: Path) -> InputError | None:
    """An error naming the line and column of the first NUL byte in ``path``, if any.

    A NUL byte in a CSV means a binary or corrupted export. One ``memchr`` pass over a mapped
    file costs a fraction of a second even for a gigabyte.

    Parameters
    ----------
    path : pathlib.Path

    Returns
    -------
    InputError or None
        None when the file holds no NUL byte (or is empty).
    """
    import mmap

    if path.stat().st_size == 0:
        return None
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        pos = mm.find(b"\x00")
        if pos < 0:
            return None
        line = mm[:pos].count(b"\n") + 1
        start = mm.rfind(b"\n", 0, pos) + 1
        end = mm.find(b"\n", pos)
        text = mm[start : end if end >= 0 else len(mm)].decode("utf-8", "replace")
        header_end = mm.find(b"\n")
        header_text = mm[: header_end if header_end >= 0 else len(mm)].decode("utf-8", "replace")
    header = next(csv.reader([header_text.lstrip("\ufeff").replace("\x00", "")]), [])
    fields = next(csv.reader([text.replace("\x00", "\ufffd")]), [])
    column = next(
        (header[i] if i < len(header) else None for i, f in enumerate(fields) if "\ufffd" in f),
        None,
    )
    return InputError(
        f"{path}: NUL byte in the file",
        [
            Problem(
                str(path),
                line,
                column,
                "text without NUL bytes (the file looks binary or corrupted)",
                text.replace("\x00", "\\x00")[:60],
            )
        ],
    )


def _settle_extras(table: pa.Table, extras: list[str]) -> pa.Table:
    """Dictionary-encoded extra columns -> integers or floats where every value is one,
    else categories (few distinct values) or plain text."""
    n = table.num_rows
    for name in extras:
        column = table.column(name)
        if column.num_chunks == 0:
            continue
        column = column.unify_dictionaries()
        values = column.chunk(0).dictionary
        indices = pa.chunked_array([chunk.indices for chunk in column.chunks], type=pa.int32())
        settled = None
        for kind in (pa.int64(), pa.float64()):
            try:
                settled = pc.take(pc.cast(values, kind), indices)
                break
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
        if settled is None:
            settled = column if len(values) <= max(n // 2, 1) else column.cast(pa.string())
        table = table.set_column(table.column_names.index(name), name, settled)
    return table


def _string_mapper(kind: pa.DataType) -> object:
    if kind in (pa.string(), pa.large_string()):
        return STRING_DTYPE
    return None


def text(table: pa.Table, name: str | None) -> pd.Series:
    """A column as a pandas Arrow-string Series (all null if ``name`` is None).

    Parameters
    ----------
    table : pyarrow.Table
    name : str or None
        The column as written in the file.

    Returns
    -------
    pandas.Series
        In the canonical string dtype, one value per row of ``table``.
    """
    n = table.num_rows
    if name is None:
        return constant_text(None, n)
    column = table.column(name)
    if column.type != pa.string():
        column = column.cast(pa.string())
    # wrapping the Arrow column costs a fifth of to_pandas(types_mapper=...) and copies nothing
    return pd.Series(pd.arrays.ArrowStringArray(column))


def constant_text(value: str | None, n: int) -> pd.Series:
    """A Series of ``n`` copies of ``value`` (or nulls) in the canonical string dtype.

    Parameters
    ----------
    value : str or None
        The value of every row (None: null).
    n : int
        Number of rows.

    Returns
    -------
    pandas.Series
    """
    if value is None:
        array = pa.nulls(n, pa.string())
    else:
        array = pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(n, dtype=np.int32)), pa.array([value])
        ).cast(pa.string())
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([array], type=pa.string())))


def number(table: pa.Table, name: str | None) -> pd.Series:
    """A numeric column as float64 (NaN where empty; all NaN if ``name`` is None).

    Parameters
    ----------
    table : pyarrow.Table
    name : str or None
        The column as written in the file.

    Returns
    -------
    pandas.Series
        float64, one value per row of ``table``.
    """
    n = table.num_rows
    if name is None:
        return pd.Series(np.full(n, np.nan))
    column = table.column(name)
    if column.type != pa.float64():
        column = column.cast(pa.float64())
    return pd.Series(column.to_numpy(zero_copy_only=False).astype(float, copy=False))


def precision_code(
    table: pa.Table, name: str | None, highest: int, problems: Problems, expected: str
) -> pd.Series:
    """A date precision code column (``1..highest``, empty allowed) as float64; a value
    outside the codes is a problem (ACLED's 9 had counted as merely "imprecise").

    Parameters
    ----------
    table : pyarrow.Table
    name : str or None
        The column as written in the file (None: no such column, all NaN, nothing checked).
    highest : int
        The largest valid code.
    problems : Problems
        Where a value that is not a whole number from 1 to ``highest`` is recorded.
    expected : str
        What the column should hold, for the message.

    Returns
    -------
    pandas.Series
        float64, NaN where empty.
    """
    values = number(table, name)
    if name is None:
        return values
    v = values.to_numpy()
    bad = np.flatnonzero(~np.isnan(v) & ((v < 1) | (v > highest) | (v != np.round(v))))
    shown = [f"{x:g}" for x in v[bad[:MAX_SHOWN]]]
    problems.add(name, bad, shown, expected)
    return values


def required_count(
    table: pa.Table, name: str, problems: Problems, expected: str, canonical: str
) -> pd.Series:
    """A required count column as float64, every empty or NaN value recorded as a problem.

    GED's ``best`` and ACLED's ``fatalities`` are always filled in their exports; the
    canonical schema lets fatalities be missing (``low``/``high`` may be), so an empty
    value here would have passed as "unknown" without a word.

    Parameters
    ----------
    table : pyarrow.Table
    name : str
        The column as written in the file.
    problems : Problems
        Where every empty or NaN value is recorded (values already recorded for ``name`` and
        ``expected``, such as text that is not a number, are not recorded again).
    expected : str
        What the column should hold, for the message.
    canonical : str
        The column's canonical name (see :meth:`Problems.add`).

    Returns
    -------
    pandas.Series
        float64, NaN where empty.
    """
    values = number(table, name)
    missing = np.flatnonzero(values.isna().to_numpy())
    # a value that was not a number at all is already recorded, with what it was
    where, _ = problems.found.get((name, expected), ([], []))
    if where:
        missing = np.setdiff1d(missing, np.concatenate(where) - problems.offset)
    problems.add(name, missing, ["an empty value or NaN"] * min(len(missing), MAX_SHOWN),
                 expected, canonical)  # fmt: skip
    return values


class DateCache:
    """Parsed values of the distinct date strings met so far in one file.

    A file read in batches has the same few thousand dates in every batch: each is parsed
    once. ``None`` values (NaT) mark strings that matched no format.
    """

    def __init__(self) -> None:
        self.index = pd.Index([], dtype=object)
        self.values = np.array([], dtype=DATE_DTYPE)
        # the two halves of a large file are converted on two threads
        self._lock = threading.Lock()

    def parse(self, uniques: pd.Index, formats: tuple[str, ...]) -> np.ndarray:
        """Parsed value of every string in ``uniques`` (NaT where no format matches).

        Parameters
        ----------
        uniques : pandas.Index
            Distinct date strings.
        formats : tuple of str
            ``strptime`` formats, tried in order; the first that matches gives the value.

        Returns
        -------
        ndarray of datetime64[ns]
            One value per entry of ``uniques``, normalised to midnight.
        """
        with self._lock:
            return self._parse(uniques, formats)

    def _parse(self, uniques: pd.Index, formats: tuple[str, ...]) -> np.ndarray:
        where = self.index.get_indexer(uniques)
        new = where < 0
        if new.any():
            fresh = uniques[new]
            parsed = _parse_distinct(fresh, formats)
            where[new] = np.arange(len(fresh)) + len(self.index)
            self.index = self.index.append(pd.Index(fresh, dtype=object))
            self.values = np.concatenate([self.values, parsed])
        return self.values[where]


def _parse_distinct(uniques: pd.Index, formats: tuple[str, ...]) -> np.ndarray:
    parsed = pd.Series(pd.NaT, index=range(len(uniques)), dtype=DATE_DTYPE)
    for fmt in formats:
        todo = parsed.isna().to_numpy()
        if not todo.any():
            break
        attempt = pd.to_datetime(uniques[todo], format=fmt, errors="coerce")
        parsed.iloc[np.flatnonzero(todo)] = attempt.astype(DATE_DTYPE).to_numpy()
    return parsed.dt.normalize().to_numpy()


def parse_dates(
    table: pa.Table,
    name: str,
    formats: tuple[str, ...],
    problems: Problems,
    canonical: str,
    cache: DateCache | None = None,
) -> pd.Series:
    """Parse a text date column, trying each format on the distinct values only.

    Values matching none of ``formats`` are recorded in ``problems`` and become NaT. With a
    ``cache`` (one per file and formats), values parsed in earlier batches are not parsed again.

    Parameters
    ----------
    table : pyarrow.Table
    name : str
        The column as written in the file.
    formats : tuple of str
        ``strptime`` formats, tried in order (e.g. :data:`ACLED_DATE_FORMATS`).
    problems : Problems
        Where empty values and values matching no format are recorded.
    canonical : str
        The column's canonical name (see :meth:`Problems.add`).
    cache : DateCache, optional
        Dates parsed in earlier batches of the same file with the same formats.

    Returns
    -------
    pandas.Series
        datetime64[ns], NaT where empty or not parsed.
    """
    column = table.column(name)
    if column.type != pa.string():
        column = column.cast(pa.string())
    encoded = column.combine_chunks().dictionary_encode()
    uniques = pd.Index(encoded.dictionary.to_pandas()).str.strip()
    parsed = (cache or DateCache()).parse(uniques, formats)
    indices = encoded.indices
    codes = indices.fill_null(0).to_numpy() if indices.null_count else indices.to_numpy()
    if len(parsed):
        values = parsed[codes]
    else:
        values = np.full(len(codes), np.datetime64("NaT", "ns")).astype(DATE_DTYPE)
    valid = np.ones(len(codes), dtype=bool)
    if indices.null_count:
        valid = indices.is_valid().to_numpy(zero_copy_only=False)
        values[~valid] = np.datetime64("NaT", "ns")
    forms = " or ".join(DATE_FORMS.get(f, f) for f in formats)
    empty = np.flatnonzero(~valid)
    # named here, not by the schema's check of the parsed column, which would show 'NaT'
    problems.add(name, empty, ["an empty value"] * min(len(empty), MAX_SHOWN),
                 f"a date written like {forms}", canonical)  # fmt: skip
    bad_unique = np.isnat(parsed)
    if bad_unique.any():
        bad = np.flatnonzero(valid & bad_unique[codes])
        shown = [str(uniques[codes[p]]) for p in bad[:MAX_SHOWN]]
        problems.add(name, bad, shown, f"a date written like {forms}", canonical)
    return pd.Series(values, dtype=DATE_DTYPE)


def finish(
    path: Path, source: str, batched: Batched, problems: Problems, names: dict[str, str]
) -> ReadResult:
    """Report the reader's problems and the schema failures at once, else the result.

    ``batched.failures`` are :func:`analysis.events.failure_rows` pooled over the batches of
    the file; ``batched.sha256`` is the digest of the file computed while it was read.

    Parameters
    ----------
    path : pathlib.Path
    source : str
        ``ucdp``, ``acled`` or ``csv``.
    batched : Batched
        The file's canonical events, quality counts, pooled schema failures and digest.
    problems : Problems
        What the reader found while converting the columns.
    names : dict
        Canonical column -> the column as written in the file, so that problems name the
        column the user sees.

    Returns
    -------
    ReadResult

    Raises
    ------
    InputError
        Listing the reader's problems and the schema's, when there are any.
    """
    frame, failures = batched.frame, batched.failures
    n = len(frame)
    lines = functools.partial(record_lines, path, n)
    schema_problems = failure_problems(failures, str(path), _Lazy(lines), problems.skip, names)
    # Two canonical columns may come from one source column (ACLED's event_date gives
    # date_start and date_end): report each problem once.
    schema_problems = list(dict.fromkeys(schema_problems))
    if problems.found or schema_problems:
        reader_problems = problems.to_problems(lines()) if problems.found else []
        raise InputError(f"{path}: invalid {source} file", reader_problems + schema_problems)
    return ReadResult(frame, source, path, n, batched.quality, lines, batched.sha256)


class _Lazy:
    """An array of line numbers computed on first access (only needed when a row fails)."""

    def __init__(self, compute: Callable[[], np.ndarray]) -> None:
        self._compute = compute
        self._value: np.ndarray | None = None

    def __getitem__(self, index: int) -> int:
        if self._value is None:
            self._value = self._compute()
        return int(self._value[index])


def extra_columns(
    header: list[str], used: set[str], source: str, canonical: set[str] | None = None
) -> list[tuple[str, str]]:
    """(name as written, output name) of the columns a reader does not map.

    Names are lower-cased; one that collides with a canonical column (ACLED's ``source``, the
    news outlet) is prefixed with the source, e.g. ``acled_source``.

    Parameters
    ----------
    header : list of str
        Column names as written.
    used : set of str
        Lower-case names of the columns the reader maps.
    source : str
        ``ucdp``, ``acled`` or ``csv``: the prefix of a name that collides.
    canonical : set of str, optional
        Names that collide (default: :data:`CANONICAL_COLUMNS`).

    Returns
    -------
    list of (str, str)
        One pair per column, in header order; empty names and repeats (in any case) are left
        out.
    """
    canonical = canonical or set(CANONICAL_COLUMNS)
    seen: set[str] = set()
    out = []
    for name in header:
        low = name.lower()
        if low in used or low in seen or not name:
            continue
        seen.add(low)
        out.append((name, f"{source}_{low}" if low in canonical else low))
    return out
