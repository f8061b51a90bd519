"""The canonical event table: its schema, its validation and the filters over it.

Every reader in :mod:`analysis.sources` returns this table; every later stage reads it. The
schema is a pandera ``DataFrameSchema`` so that it is declared once and checked lazily (all
problems reported at once). The checks are vectorised: a two-million-row export validates in a
fraction of a second.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.engines.pandas_engine import Engine

from analysis.errors import InputError, Problem
from analysis.periods import date_bound

SOURCES = ("ucdp", "acled", "csv")

#: Canonical columns in order; extra source columns follow them.
CANONICAL_COLUMNS: list[str] = [
    "event_id",
    "source",
    "date_start",
    "date_end",
    "country",
    "iso3",
    "admin1",
    "region_id",
    "latitude",
    "longitude",
    "actor1",
    "actor2",
    "assoc_actor_1",
    "assoc_actor_2",
    "event_type",
    "fatalities",
    "fatalities_low",
    "fatalities_high",
    "notes",
]

ACTOR_COLUMNS: tuple[str, ...] = ("actor1", "actor2", "assoc_actor_1", "assoc_actor_2")
STRING_DTYPE = pd.StringDtype("pyarrow")
DATE_DTYPE = "datetime64[ns]"
STRING_COLUMNS = [
    "event_id",
    "source",
    "country",
    "iso3",
    "admin1",
    "region_id",
    *ACTOR_COLUMNS,
    "event_type",
    "notes",
]
EARLIEST_DATE = pd.Timestamp("1946-01-01")
# Larger than any single event in UCDP GED (whose largest best estimates are in the
# hundreds of thousands); a bigger number is a data-entry error, not a massacre.
MAX_FATALITIES = 1_000_000
FLOAT_COLUMNS = ["latitude", "longitude", "fatalities", "fatalities_low", "fatalities_high"]


class DataQualityWarning(UserWarning):
    """A fixable quality issue in an input (rows are kept and counted, never dropped)."""


class UnknownCountryWarning(DataQualityWarning):
    """Events of a file name a country the boundaries do not know.

    Its own class because it decides which country's panel an event counts in: a study,
    which keeps its files' other quality warnings to its manifest, lets this one through.
    """


def _whole_number(series: pd.Series) -> pd.Series:
    values = series.to_numpy(dtype=float, na_value=np.nan)
    return pd.Series(np.isnan(values) | (np.floor(values) == values), index=series.index)


def _string_hash(values: pd.Series) -> np.ndarray:
    """64-bit hash of every string, vectorised over Arrow's buffers (nulls hash like "")."""
    import pyarrow as pa

    arr = pa.array(values.array) if not isinstance(values.array, np.ndarray) else None
    if arr is None:
        arr = pa.array(values.to_numpy(dtype=object, na_value=None), type=pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    n = len(arr)
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0)
    padded = np.zeros(len(data) + 16, dtype=np.uint8)
    padded[: len(data)] = data
    # every byte position read as the start of an unaligned little-endian 8-byte word
    words = np.ndarray(
        shape=(len(padded) - 7,), dtype="<u8", buffer=padded.data, offset=0, strides=(1,)
    )
    starts = offsets[:-1]
    lengths = (offsets[1:] - starts).astype(np.int64)
    h = lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    for k in range(0, int(lengths.max(initial=0)), 8):
        remaining = np.clip(lengths - k, 0, 8).astype(np.uint64)
        mask = np.where(
            remaining >= 8,
            np.uint64(0xFFFFFFFFFFFFFFFF),
            (np.uint64(1) << (remaining * np.uint64(8))) - np.uint64(1),
        )
        word = words[np.minimum(starts + k, len(words) - 1)] & mask
        h = (h ^ word) * np.uint64(0x100000001B3)
        h ^= h >> np.uint64(29)
    return h


def id_hashes(frame: pd.DataFrame) -> np.ndarray:
    """64-bit hash of every row's (source, event_id); equal keys give equal hashes.

    A file read in batches hashes each batch as it comes; :func:`duplicated_ids` then takes
    the hashes of the whole file.

    Parameters
    ----------
    frame : pandas.DataFrame
        Events with ``source`` and ``event_id`` columns.

    Returns
    -------
    ndarray of uint64
        One hash per row.
    """
    h = _string_hash(frame["event_id"])
    sources = frame["source"]
    if len(sources) == 0:
        return h
    first = sources.iloc[0]
    # one file has one source: its hash is computed once (the same value as row by row)
    if pd.notna(first) and bool(sources.eq(first).fillna(False).all()):
        mixed = _string_hash(pd.Series([first], dtype=STRING_DTYPE))  # broadcast
    else:
        mixed = _string_hash(sources)
    return h ^ (mixed * np.uint64(0xC2B2AE3D27D4EB4F))


def duplicated_ids(frame: pd.DataFrame, hashes: np.ndarray | None = None) -> np.ndarray | None:
    """Positions-mask of rows whose (source, event_id) appeared on an earlier row, or None.

    A vectorised 64-bit hash (:func:`id_hashes`, or ``hashes`` computed earlier) finds
    candidates; only rows whose hashes collide are compared exactly, so the common case (all
    unique) costs one hash pass.

    Parameters
    ----------
    frame : pandas.DataFrame
        Events with ``source`` and ``event_id`` columns.
    hashes : ndarray of uint64, optional
        :func:`id_hashes` of ``frame``, if already computed.

    Returns
    -------
    ndarray of bool or None
        True on each row whose key appeared earlier (a row without an ``event_id`` never is);
        None when no row is.
    """
    ids = frame["event_id"]
    h = id_hashes(frame) if hashes is None else hashes
    valid = ids.notna().to_numpy()
    # numpy sorts 64-bit keys in a few tens of milliseconds, well ahead of a hash table
    ordered = np.sort(h[valid])
    if not (ordered[1:] == ordered[:-1]).any():
        return None
    candidates = pd.Series(h).duplicated(keep=False).to_numpy() & valid
    exact = frame.loc[candidates, ["source", "event_id"]].astype(str)
    dup = np.zeros(len(frame), dtype=bool)
    dup[np.flatnonzero(candidates)] = exact.duplicated(keep="first").to_numpy()
    return dup if dup.any() else None


def _unique_ids(frame: pd.DataFrame) -> pd.Series | bool:
    dup = duplicated_ids(frame)
    if dup is None:
        return True
    return pd.Series(~dup, index=frame.index)


def _end_after_start(frame: pd.DataFrame) -> pd.Series:
    return ~(frame["date_end"] < frame["date_start"]).fillna(False)


def _plausible_date(series: pd.Series) -> pd.Series:
    # Organised-violence data start in 1946 (UCDP/PRIO); an event cannot lie in the future.
    latest = pd.Timestamp.now().normalize() + pd.Timedelta(days=1)
    return ((series >= EARLIEST_DATE) & (series <= latest)) | series.isna()


def _text(nullable: bool = True) -> pa.Column:
    # NUL bytes are found by the readers with one byte scan of the file
    # (analysis.sources.common.nul_byte_error), far cheaper than a check per text column.
    return pa.Column("string", nullable=nullable)


def _date() -> pa.Column:
    return pa.Column(
        DATE_DTYPE,
        pa.Check(_plausible_date, name="plausible_date", error="a date from 1946 to today"),
        nullable=False,
    )


def _count(column: str) -> pa.Column:
    return pa.Column(
        "float64",
        [
            pa.Check.ge(0, error=f"{column}: a count of zero or more"),
            pa.Check.le(MAX_FATALITIES, error=f"{column}: at most {MAX_FATALITIES:,}"),
            pa.Check(_whole_number, name="whole_number", error=f"{column}: a whole number"),
        ],
        nullable=True,
    )


#: The canonical event schema. Extra columns are allowed (``strict=False``).
EVENT_SCHEMA = pa.DataFrameSchema(
    {
        "event_id": _text(nullable=False),
        "source": pa.Column("string", pa.Check.isin(list(SOURCES)), nullable=False),
        "date_start": _date(),
        "date_end": _date(),
        "country": _text(nullable=False),
        "iso3": _text(),
        "admin1": _text(),
        "region_id": _text(),
        "latitude": pa.Column("float64", pa.Check.in_range(-90, 90), nullable=True),
        "longitude": pa.Column("float64", pa.Check.in_range(-180, 180), nullable=True),
        "actor1": _text(),
        "actor2": _text(),
        "assoc_actor_1": _text(),
        "assoc_actor_2": _text(),
        "event_type": _text(nullable=False),
        "fatalities": _count("fatalities"),
        "fatalities_low": _count("fatalities_low"),
        "fatalities_high": _count("fatalities_high"),
        "notes": _text(),
    },
    checks=[
        pa.Check(_unique_ids, name="unique_event_id", error="event ids unique within a source"),
        pa.Check(_end_after_start, name="end_after_start", error="date_end on or after date_start"),
    ],
    strict=False,
    ordered=False,
    name="canonical events",
)

#: :data:`EVENT_SCHEMA` without its check across rows (unique ids): what one batch of a file
#: can be validated against on its own. Ids are checked over the whole file by
#: :func:`duplicate_id_rows`.
ROW_SCHEMA = pa.DataFrameSchema(
    EVENT_SCHEMA.columns,
    checks=[c for c in EVENT_SCHEMA.checks if c.name != "unique_event_id"],
    strict=False,
    ordered=False,
    name="canonical events (row checks)",
)
# pandera checks a pyarrow string column element by element (about a second at two million
# rows). A column whose dtype already is STRING_DTYPE holds only strings and nulls, so for such
# columns the batch check below leaves the dtype out; nullability and value checks stay.
_ROW_SCHEMA_TEXT_TYPED = ROW_SCHEMA.update_columns({c: {"dtype": None} for c in STRING_COLUMNS})
# Without its dtype, a nullable text column with no checks has nothing left to check, yet
# pandera still walks it (a third of the batch check): such columns are left out. They are
# present, as the typed check is only used when every text column is.
_ROW_SCHEMA_TEXT_TYPED = _ROW_SCHEMA_TEXT_TYPED.remove_columns(
    [
        name
        for name, column in _ROW_SCHEMA_TEXT_TYPED.columns.items()
        if column.nullable and not column.checks and column.dtype is None
    ]
)

# What a user should have written, per failed check; pandera's own names are for programmers.
_EXPECTED = {
    "in_range": "a number in [{lo}, {hi}]",
    "greater_than_or_equal_to": "a count of zero or more",
    "less_than_or_equal_to": "a plausible count (at most 1,000,000 for one event)",
    "plausible_date": "a date from 1946-01-01 to today",
    "whole_number": "a whole number (no fractional fatalities)",
    "not_nullable": "a value (this column may not be empty)",
    "isin": "one of " + ", ".join(SOURCES),
    "unique_event_id": "a unique event id (this id appears on an earlier line)",
    "end_after_start": "date_end on or after date_start",
}
_FRAME_CHECKS = {"unique_event_id": "event_id", "end_after_start": "date_end"}
_RANGES = {"latitude": (-90, 90), "longitude": (-180, 180)}
MAX_PROBLEMS_PER_CHECK = 50


def empty_events() -> pd.DataFrame:
    """An empty canonical event table with the right dtypes."""
    data: dict[str, pd.Series] = {}
    for column in CANONICAL_COLUMNS:
        if column in STRING_COLUMNS:
            data[column] = pd.Series([], dtype=STRING_DTYPE)
        elif column in FLOAT_COLUMNS:
            data[column] = pd.Series([], dtype="float64")
        else:
            data[column] = pd.Series([], dtype=DATE_DTYPE)
    return pd.DataFrame(data)


def coerce_events(events: pd.DataFrame) -> pd.DataFrame:
    """Return ``events`` with canonical columns in canonical dtypes and order (extras after).

    Useful after reading a parquet file written by another pandas, where strings may come back
    as ``str`` or ``object``. Missing canonical columns are added as nulls.

    Parameters
    ----------
    events : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        A new frame with the index of ``events``.
    """
    out = {}
    n = len(events)
    for column in CANONICAL_COLUMNS:
        if column in events.columns:
            series = events[column]
        else:
            series = pd.Series(pd.NA if column not in FLOAT_COLUMNS else np.nan, index=events.index)
        if column in STRING_COLUMNS:
            if series.dtype != STRING_DTYPE:
                series = series.astype(STRING_DTYPE)
        elif column in FLOAT_COLUMNS:
            series = series.astype("float64")
        elif series.dtype != DATE_DTYPE:
            series = pd.to_datetime(series).astype(DATE_DTYPE)
        out[column] = series
    frame = pd.DataFrame(out, index=events.index)
    extras = [c for c in events.columns if c not in out]
    if extras:
        frame = pd.concat([frame, events[extras]], axis=1)
    assert len(frame) == n
    return frame


def validate_events(
    events: pd.DataFrame,
    file: str | None = None,
    lines: Sequence[int] | np.ndarray | None = None,
    skip: dict[str, set[int]] | None = None,
    names: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Check ``events`` against :data:`EVENT_SCHEMA`; raise one error listing every problem.

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events; row ``i`` (by position) came from record ``i`` of ``file``.
    file : str, optional
        The file the rows came from, named in every problem.
    lines : array of int, optional
        Line number in ``file`` of each row (header is line 1). Without it rows are numbered
        from line 2 onwards.
    skip : dict, optional
        Column -> row positions already reported by a reader (e.g. an unparseable date shows
        up here as a missing one); not reported twice.
    names : dict, optional
        Canonical column -> the column as written in ``file`` (e.g. ``fatalities`` -> ``best``),
        so that problems name the column the user sees.

    Returns
    -------
    pandas.DataFrame
        ``events`` unchanged, if valid.

    Raises
    ------
    InputError
        Naming file, line, column and the expected form of every failing value.
    """
    try:
        # inplace: pandera would otherwise copy the whole frame (no coercion is declared)
        EVENT_SCHEMA.validate(events, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as exc:
        problems = schema_problems(exc.failure_cases, events, file, lines, skip or {}, names or {})
        # Two canonical columns may come from one source column (ACLED's event_date gives
        # date_start and date_end): report each problem once.
        problems = list(dict.fromkeys(problems))
        if problems:
            raise InputError(f"{file or 'events'}: invalid events", problems) from None
    return events


def schema_problems(
    failures: pd.DataFrame,
    events: pd.DataFrame,
    file: str | None,
    lines: Sequence[int] | np.ndarray | None,
    skip: dict[str, set[int]],
    names: dict[str, str] | None = None,
) -> list[Problem]:
    """Turn pandera's failure cases into :class:`Problem` objects with line numbers.

    Parameters
    ----------
    failures : pandas.DataFrame
        pandera's ``failure_cases``.
    events : pandas.DataFrame
        The events validated.
    file, lines, skip, names
        As for :func:`validate_events`.

    Returns
    -------
    list of Problem
    """
    return failure_problems(failure_rows(failures, events), file, lines, skip, names)


def failure_rows(failures: pd.DataFrame, events: pd.DataFrame, offset: int = 0) -> pd.DataFrame:
    """Pandera's failure cases as one row per failing value: column, check, position, found.

    ``position`` is the row position in ``events`` plus ``offset`` (so that failures of several
    batches of one file can be pooled and reported once by :func:`failure_problems`); it is -1
    for failures that belong to no row (a wrong dtype, a missing column).

    Parameters
    ----------
    failures : pandas.DataFrame
        pandera's ``failure_cases``.
    events : pandas.DataFrame
        The events validated.
    offset : int
        Position in the file of the first row of ``events``.

    Returns
    -------
    pandas.DataFrame
        Columns ``column``, ``check`` (the check's name), ``position`` and ``found``.
    """
    check_names = _check_names()
    failures = failures.copy()
    failures["check"] = [check_names.get(str(c), str(c).split("(")[0]) for c in failures["check"]]
    # dataframe-level checks report every column of a failing row; keep one per row
    frame_level = failures["check"].isin(list(_FRAME_CHECKS))
    if frame_level.any():
        collapsed = failures[frame_level].drop_duplicates(["check", "index"]).copy()
        collapsed["column"] = collapsed["check"].map(_FRAME_CHECKS)
        failures = pd.concat([failures[~frame_level], collapsed], ignore_index=True)
    index_position = pd.Series(np.arange(len(events)), index=events.index)
    positions = np.full(len(failures), -1, dtype=np.int64)
    found: list[object] = []
    for i, (idx, check, value) in enumerate(
        zip(failures["index"], failures["check"], failures["failure_case"], strict=True)
    ):
        if not pd.isna(idx):
            pos = int(index_position[idx])
            positions[i] = pos + offset
            if check == "unique_event_id":
                value = events["event_id"].iloc[pos]
            elif check == "end_after_start":
                value = str(events["date_end"].iloc[pos].date())
        found.append(value)
    return pd.DataFrame(
        {
            "column": failures["column"].to_numpy(dtype=object),
            "check": failures["check"].to_numpy(dtype=object),
            "position": positions,
            "found": pd.Series(found, dtype=object).to_numpy(),
        }
    )


def failure_problems(
    rows: pd.DataFrame,
    file: str | None,
    lines: Sequence[int] | np.ndarray | None,
    skip: dict[str, set[int]],
    names: dict[str, str] | None = None,
) -> list[Problem]:
    """Report :func:`failure_rows` (of one file, possibly pooled from batches) as problems.

    At most :data:`MAX_PROBLEMS_PER_CHECK` per column and check, then one line counting the
    rest. ``skip`` holds positions a reader already reported for a column.

    Parameters
    ----------
    rows : pandas.DataFrame
        :func:`failure_rows`.
    file : str or None
        The file the rows came from, named in every problem.
    lines : array of int or None
        Line number of each row by position; without it rows are numbered from line 2.
    skip : dict
        Column -> row positions already reported by a reader.
    names : dict, optional
        Canonical column -> the column as written in ``file``.

    Returns
    -------
    list of Problem
    """
    problems: list[Problem] = []
    for (column, check_name), group in rows.groupby(["column", "check"], sort=False, dropna=False):
        column = None if pd.isna(column) else str(column)
        expected = _EXPECTED.get(check_name, str(check_name))
        if check_name == "in_range" and column in _RANGES:
            lo, hi = _RANGES[column]
            expected = expected.format(lo=lo, hi=hi)
        shown_as = (names or {}).get(column, column) if column else column
        shown = eligible = 0
        for pos, found in zip(group["position"], group["found"], strict=True):
            if pos < 0:
                problems.append(Problem(file, None, shown_as, expected, _show(found)))
                continue
            pos = int(pos)
            if column in skip and pos in skip[column]:
                continue
            eligible += 1
            if shown >= MAX_PROBLEMS_PER_CHECK:
                continue
            line = int(lines[pos]) if lines is not None else pos + 2
            problems.append(Problem(file, line, shown_as, expected, _show(found)))
            shown += 1
        if eligible > shown:
            rest = eligible - shown
            more = f"{rest} more rows failing this check, {eligible} in all"
            problems.append(Problem(file, None, shown_as, expected, more, more_rows=rest))
    return problems


def row_failure_rows(events: pd.DataFrame, offset: int = 0) -> pd.DataFrame:
    """Validate one batch of events against :data:`ROW_SCHEMA`; return its :func:`failure_rows`.

    ``offset`` is the position of the batch's first row in its file.

    Parameters
    ----------
    events : pandas.DataFrame
        One batch of canonical events.
    offset : int

    Returns
    -------
    pandas.DataFrame
        Empty when every row passes.
    """
    typed = all(c in events and events[c].dtype == STRING_DTYPE for c in STRING_COLUMNS)
    schema = _ROW_SCHEMA_TEXT_TYPED if typed else ROW_SCHEMA
    if _rows_surely_pass(schema, events):
        return failure_rows(_NO_CASES, events)
    try:
        # inplace: pandera would otherwise copy the batch (no coercion is declared)
        schema.validate(events, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as exc:
        return failure_rows(exc.failure_cases, events, offset)
    return failure_rows(_NO_CASES, events)


_NO_CASES = pd.DataFrame(columns=["column", "check", "index", "failure_case"])

#: pandera's built-in checks that :func:`_rows_surely_pass` evaluates itself.
_BUILTIN_TESTS: dict[str, Callable[[pd.Series, dict[str, Any]], pd.Series]] = {
    "isin": lambda s, st: s.isin(st["allowed_values"]),
    "greater_than_or_equal_to": lambda s, st: s >= st["min_value"],
    "less_than_or_equal_to": lambda s, st: s <= st["max_value"],
    "in_range": lambda s, st: (
        (s >= st["min_value"] if st["include_min"] else s > st["min_value"])
        & (s <= st["max_value"] if st["include_max"] else s < st["max_value"])
    ),
}


def _rows_surely_pass(schema: pa.DataFrameSchema, events: pd.DataFrame) -> bool:
    """Whether every row of ``events`` passes ``schema``, found without pandera's machinery.

    pandera's lazy validation costs about half a second per million rows on clean data, most
    of it per-call bookkeeping. This evaluates the same conditions vectorised: dtypes,
    nullability, the built-in checks in :data:`_BUILTIN_TESTS` and this module's own check
    functions, nulls passing the checks of nullable columns as in pandera. It is conservative:
    ``False`` means "not known", and pandera then validates and names the failing rows. Any
    schema feature it does not evaluate (coercion, uniqueness, regex columns, an index, other
    checks) also gives ``False``.
    """
    if schema.index is not None or schema.unique or schema.coerce:
        return False
    for name, column in schema.columns.items():
        if name not in events or column.regex or column.unique or column.coerce:
            return False
        series = events[name]
        if column.dtype is not None and not column.dtype.check(Engine.dtype(series.dtype)):
            return False
        null = series.isna().to_numpy(dtype=bool)
        if not column.nullable and null.any():
            return False
        for check in column.checks:
            passed = _check_passes(check, series)
            if passed is None or not (passed | null).all():
                return False
    for check in schema.checks:
        passed = _check_passes(check, events)
        if passed is None or not passed.all():
            return False
    return True


def _check_passes(check: pa.Check, data: pd.Series | pd.DataFrame) -> np.ndarray | None:
    """Row-wise result of one vectorised check (NA counts as failing), or None if unknown."""
    if check.element_wise or not check.ignore_na or check.groupby is not None:
        return None
    builtin = _BUILTIN_TESTS.get(check.name)
    if builtin is not None and isinstance(data, pd.Series):
        result = builtin(data, check.statistics)
    elif getattr(fn := getattr(check, "_check_fn", None), "__module__", None) == __name__:
        # pandera has no public name for a custom check's function; without it: "not known"
        result = fn(data)
    else:
        return None
    if isinstance(result, bool | np.bool_):
        return np.full(len(data), bool(result))
    return pd.Series(result).fillna(False).to_numpy(dtype=bool)


def duplicate_id_rows(events: pd.DataFrame, hashes: np.ndarray | None = None) -> pd.DataFrame:
    """:func:`failure_rows` of the events whose (source, event_id) appeared on an earlier row.

    ``hashes``: :func:`id_hashes` of ``events``, if already computed.

    Parameters
    ----------
    events : pandas.DataFrame
    hashes : ndarray of uint64, optional

    Returns
    -------
    pandas.DataFrame
        Columns ``column``, ``check``, ``position`` (in ``events``) and ``found`` (the id).
    """
    dup = duplicated_ids(events, hashes)
    positions = np.flatnonzero(dup) if dup is not None else np.zeros(0, dtype=np.int64)
    return pd.DataFrame(
        {
            "column": "event_id",
            "check": "unique_event_id",
            "position": positions.astype(np.int64),
            "found": events["event_id"].iloc[positions].to_numpy(dtype=object),
        }
    )


def _check_names() -> dict[str, str]:
    # pandera reports a check by its error text when it has one; map that back to its name
    checks = list(EVENT_SCHEMA.checks)
    for column in EVENT_SCHEMA.columns.values():
        checks.extend(column.checks)
    return {str(c.error): c.name for c in checks if c.error}


def _show(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "an empty value"
    if isinstance(value, pd.Timestamp | np.datetime64):
        stamp = pd.Timestamp(value)
        return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def quality_counts(events: pd.DataFrame, imprecise_date: pd.Series | None = None) -> dict[str, int]:
    """Count fixable quality issues per reason (rows are kept).

    Reasons: ``missing_coordinates``, ``imprecise_date`` (when a precision column says the
    date is approximate), ``date_range`` (``date_end`` differs from ``date_start``),
    ``fatality_bounds`` (the best fatality estimate outside the ``fatalities_low`` to
    ``fatalities_high`` range where the source gives one: 76 of UCDP GED 21.1's 8,351 West
    African events; the panel counts the best estimate as given).

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events.
    imprecise_date : pandas.Series of bool, optional
        True where the source's precision column says the date is approximate (None: not
        counted).

    Returns
    -------
    dict
        Reason -> number of rows, only the reasons with at least one row.
    """
    counts = {
        "missing_coordinates": int((events["latitude"].isna() | events["longitude"].isna()).sum()),
        "date_range": int((events["date_end"] != events["date_start"]).sum()),
    }
    if {"fatalities_low", "fatalities_high"} <= set(events.columns):
        best = pd.to_numeric(events["fatalities"], errors="coerce")
        low = pd.to_numeric(events["fatalities_low"], errors="coerce")
        high = pd.to_numeric(events["fatalities_high"], errors="coerce")
        counts["fatality_bounds"] = int(((best < low) | (best > high)).sum())
    if imprecise_date is not None:
        counts["imprecise_date"] = int(imprecise_date.sum())
    return {k: v for k, v in counts.items() if v}


_QUALITY_TEXT = {
    "missing_coordinates": "events without coordinates",
    "imprecise_date": "events with an imprecise date (precision code above 1)",
    "date_range": "events spanning several days (date_end after date_start)",
    "fatality_bounds": "events whose best fatality estimate lies outside their low-high range",
    "unresolved_region": "events whose admin-1 unit could not be resolved",
    "unknown_country": "events whose country could not be mapped to ISO3",
}


def warn_quality(file: str, counts: dict[str, int]) -> None:
    """Issue one :class:`DataQualityWarning` per reason with a non-zero count.

    Parameters
    ----------
    file : str
        Named in every warning.
    counts : dict
        Reason -> number of rows (:func:`quality_counts`).
    """
    for reason, n in counts.items():
        if n:
            text = _QUALITY_TEXT.get(reason, reason)
            warnings.warn(f"{file}: {n} {text} (kept)", DataQualityWarning, stacklevel=3)


# --- filters ------------------------------------------------------------------------------

#: Names under which one armed group appears in UCDP, ACLED and the press.
ACTOR_ALIASES: dict[str, list[str]] = {
    "JNIM": [
        "JNIM",
        "Jama'at Nusrat al-Islam wal-Muslimin",
        "Jamaat Nusrat al-Islam wal-Muslimin",
        "Jama'at Nusrat al-Islam wa al-Muslimin",
        "Jamaat Nusrat al-Islam wa al-Muslimin",
        "Group for Support of Islam and Muslims",
        "Group for the Support of Islam and Muslims",
        "GSIM",
    ],
    "ISSP": [
        "ISSP",
        "Islamic State Sahel",
        "Islamic State - Sahel",
        "Islamic State in the Greater Sahara",
        "Islamic State (Sahel)",
        "Islamic State (Greater Sahara)",
        "ISGS",
    ],
    "Boko Haram": [
        "Boko Haram",
        "Jama'atu Ahlis Sunna Lidda'awati wal-Jihad",
        "JAS",
    ],
    "ISWAP": [
        "ISWAP",
        "Islamic State West Africa Province",
        "IS West Africa",
        "Islamic State (West Africa)",
    ],
}

#: Groups that merged into a named group (opt in with ``include_predecessors``). JNIM was
#: formed in 2017 from Ansar Dine, al-Murabitun, Katiba Macina (FLM) and AQIM's Sahara branch;
#: MUJAO merged into al-Murabitun in 2013 (UCDP Actor Dataset 22.1, actors 1157, 4376, 6267,
#: 539, 1161).
ACTOR_PREDECESSORS: dict[str, dict[str, list[str]]] = {
    "JNIM": {
        "AQIM": [
            "AQIM",
            "al-Qaida Organization in the Islamic Maghreb",
            "al-Qaeda in the Islamic Maghreb",
            "Al Qaeda in the Islamic Maghreb",
            "al-Qaida in the Islamic Maghreb",
            "Qaida al-Jihad fi Bilad al-Maghrib al-Islami",
            "GSPC",
        ],
        "Ansar Dine": ["Ansar Dine", "Ansar al-Din", "Ansar Eddine", "Defenders of the Faith"],
        "al-Murabitun": ["al-Murabitun", "Al Mourabitoune", "Al-Mourabitoun", "Al Mourabitoun"],
        "MUJAO": [
            "MUJAO",
            "MUJWA",
            "Movement for Unity and Jihad in West Africa",
            "Movement for Oneness and Jihad in West Africa",
            "Mouvement pour le Tawhid et du Jihad en Afrique de l'Ouest",
        ],
        "Katiba Macina": [
            "Katiba Macina",
            "Katiba Massina",
            "FLM",
            "Macina Liberation Front",
            "Front de Liberation du Macina",
            "Front de Libération du Macina",
        ],
    }
}


def _literal(alias: str) -> str:
    # Word boundaries keep short acronyms (FLM, JAS) from matching inside other words; RE2
    # (used by pyarrow) has \b but no lookarounds.
    body = re.escape(alias).replace("'", "['’]")
    head = r"\b" if alias[:1].isalnum() else ""
    tail = r"\b" if alias[-1:].isalnum() else ""
    return f"{head}{body}{tail}"


#: ACLED's political-violence event types: what a study of ACLED data counts when it names no
#: event types. ACLED also records strategic developments (looting, arrests, agreements, troop
#: movements), protests and riots; counted as "events involving JNIM" beside attacks, 3 of
#: Kayes' 5 events in 2018 of an ACLED test export were strategic developments.
ACLED_POLITICAL_VIOLENCE = ("Battles", "Explosions/Remote violence", "Violence against civilians")


def acled_violence_only(events: pd.DataFrame) -> pd.DataFrame:
    """``events`` without ACLED's rows of other event types (:data:`ACLED_POLITICAL_VIOLENCE`).

    Rows of other sources are kept whatever their type: UCDP GED records organised violence
    only, and a generic CSV's types are the user's.

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events.

    Returns
    -------
    pandas.DataFrame
    """
    acled = np.asarray(events["source"].str.lower().eq("acled").fillna(False), dtype=bool)
    wanted = {t.lower() for t in ACLED_POLITICAL_VIOLENCE}
    violent = np.asarray(events["event_type"].str.lower().isin(wanted).fillna(False), dtype=bool)
    return events.loc[~acled | violent]


def actor_patterns(actors: Iterable[str], include_predecessors: bool = False) -> list[str]:
    """Expand actor names into case-insensitive regular expressions.

    A name that is a key of :data:`ACTOR_ALIASES` (case-insensitive) becomes its aliases, matched
    as whole words; with ``include_predecessors`` the groups in :data:`ACTOR_PREDECESSORS` are
    added. Any other string matches where it occurs as written (case-insensitive) or, if it is
    a valid regular expression, where that matches: an exact name with parentheses, such as
    ACLED's "Islamic State (Sahel)", read as an expression alone matched no event.

    Parameters
    ----------
    actors : iterable of str
        Alias keys, names or regular expressions.
    include_predecessors : bool
        Add the names of the groups that merged into an alias key's group.

    Returns
    -------
    list of str
    """
    keys = {k.lower(): k for k in ACTOR_ALIASES}
    patterns: list[str] = []
    for actor in actors:
        key = keys.get(str(actor).strip().lower())
        if key is not None:
            patterns.extend(_literal(a) for a in ACTOR_ALIASES[key])
            if include_predecessors:
                for names in ACTOR_PREDECESSORS.get(key, {}).values():
                    patterns.extend(_literal(a) for a in names)
            continue
        try:
            re.compile(actor)
            patterns.append(f"{re.escape(actor)}|(?:{actor})")
        except re.error:
            patterns.append(re.escape(actor))
    return patterns


def _contains(series: pd.Series, pattern: str) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            # a user's pattern may hold groups ("(Sahel)"); only whether it matches is used
            warnings.filterwarnings("ignore", "This pattern is interpreted", UserWarning)
            hit = series.str.contains(pattern, case=False, regex=True, na=False)
    # pandas before 3 hands a pyarrow column's pattern to RE2, which lacks some of Python's
    # regex features and says so with ArrowInvalid (a ValueError): Python's re reads those
    except ValueError:
        compiled = re.compile(pattern, re.IGNORECASE)
        hit = series.astype(object).map(lambda v: isinstance(v, str) and bool(compiled.search(v)))
    return np.asarray(hit, dtype=bool)


def filter_events(
    events: pd.DataFrame,
    actors: Sequence[str] | None = None,
    event_types: Sequence[str] | None = None,
    countries: Sequence[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    include_predecessors: bool = False,
) -> pd.DataFrame:
    """Select events by actor, event type, country and date window.

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events.
    actors : list of str, optional
        Names, alias keys (see :data:`ACTOR_ALIASES`) or regular expressions; an event matches
        if any pattern occurs (case-insensitive) in ``actor1``, ``actor2``, ``assoc_actor_1`` or
        ``assoc_actor_2``.
    event_types : list of str, optional
        Exact event types, case-insensitive (e.g. ``one-sided``, ``Battles``).
    countries : list of str, optional
        Country names as written in the source, or ISO3 codes; case-insensitive.
    start, end : str, optional
        Inclusive window on ``date_start``: ``YYYY``, ``YYYY-MM`` (whole month) or ``YYYY-MM-DD``.
    include_predecessors : bool
        Add the predecessor groups of alias keys (see :data:`ACTOR_PREDECESSORS`).

    Returns
    -------
    pandas.DataFrame
        The matching rows, index preserved.
    """
    keep = np.ones(len(events), dtype=bool)
    if actors:
        patterns = actor_patterns(actors, include_predecessors)
        combined = "|".join(f"(?:{p})" for p in patterns)
        hit = np.zeros(len(events), dtype=bool)
        for column in ACTOR_COLUMNS:
            if column in events.columns:
                hit |= _contains(events[column], combined)
        keep &= hit
    if event_types:
        wanted = {str(t).strip().lower() for t in event_types}
        keep &= np.asarray(events["event_type"].str.lower().isin(wanted).fillna(False), dtype=bool)
    if countries:
        wanted = {str(c).strip().lower() for c in countries}
        hit = np.array(events["country"].str.lower().isin(wanted).fillna(False), dtype=bool)
        if "iso3" in events.columns:
            hit |= np.asarray(events["iso3"].str.lower().isin(wanted).fillna(False), dtype=bool)
        keep &= hit
    if start is not None:
        keep &= np.asarray(
            events["date_start"] >= date_bound(start, end=False, what="start"), dtype=bool
        )
    if end is not None:
        keep &= np.asarray(events["date_start"] < date_bound(end, end=True, what="end"), dtype=bool)
    return events.loc[keep]
