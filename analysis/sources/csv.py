"""Generic CSV files that already use the canonical column names (any case)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa

from analysis.events import (
    CANONICAL_COLUMNS,
    FLOAT_COLUMNS,
    STRING_COLUMNS,
    quality_counts,
)
from analysis.sources.batches import read_batched
from analysis.sources.common import (
    ACLED_DATE_FORMATS,
    ISO_DATE_FORMATS,
    DateCache,
    Problems,
    ReadResult,
    constant_text,
    empty_file_error,
    extra_columns,
    finish,
    number,
    parse_dates,
    read_header,
    require_columns,
    text,
)

REQUIRED = ["event_id", "date_start", "country", "event_type"]
DATE_FORMATS = tuple(dict.fromkeys(ISO_DATE_FORMATS + ACLED_DATE_FORMATS))
HEADER_MARKERS = {"event_id", "date_start"}
_NUMBER_TEXT = {
    "latitude": "a latitude in decimal degrees",
    "longitude": "a longitude in decimal degrees",
}


def read_csv_events(path: str | os.PathLike[str], keep_extra: bool = True) -> ReadResult:
    """Read a CSV whose header uses the canonical column names (see ``docs/internals.md``).

    Required: ``event_id``, ``date_start``, ``country``, ``event_type``; every other canonical
    column is optional (``date_end`` defaults to ``date_start``). Dates may be written in ISO
    form or in any of ACLED's forms. A ``source`` column in the file is kept as ``csv_source``;
    the canonical ``source`` is ``csv``.

    Parameters
    ----------
    path : path-like
        The CSV file (any header case).
    keep_extra : bool, optional
        Keep the columns that are not canonical (lower-cased); True by default.

    Returns
    -------
    ReadResult

    Raises
    ------
    InputError
        A required column missing, no event after the header, or invalid values (with file,
        line, column and expected form).
    """
    path = Path(path)
    header = read_header(path)
    names = require_columns(path, header, REQUIRED, "generic CSV")
    text_columns = [c for c in STRING_COLUMNS if c != "source"]
    types: dict[str, pa.DataType] = {names[c]: pa.string() for c in text_columns if c in names}
    for c in ("date_start", "date_end"):
        if c in names:
            types[names[c]] = pa.string()
    types.update({names[c]: pa.float64() for c in FLOAT_COLUMNS if c in names})
    expected = {
        names[c]: _NUMBER_TEXT.get(c, "a whole number of fatalities (0 or more)")
        for c in FLOAT_COLUMNS
        if c in names
    }
    used = set(CANONICAL_COLUMNS) - {"source"}
    extras = extra_columns(header, used, "csv") if keep_extra else []
    problems = Problems(path)
    cache = DateCache()

    def convert(table: pa.Table, problems: Problems) -> tuple[dict[str, pd.Series], dict]:
        n = table.num_rows
        columns = {c: text(table, names.get(c)) for c in text_columns}
        columns.update({c: number(table, names.get(c)) for c in FLOAT_COLUMNS})
        start = parse_dates(table, names["date_start"], DATE_FORMATS, problems, "date_start", cache)
        columns["date_start"] = start
        if "date_end" in names:
            columns["date_end"] = parse_dates(
                table, names["date_end"], DATE_FORMATS, problems, "date_end"
            )
        else:
            columns["date_end"] = start
            problems.skip["date_end"] = problems.skip.setdefault("date_start", set())
        columns["source"] = constant_text("csv", n)
        return columns, quality_counts(pd.DataFrame(columns, copy=False))

    batched = read_batched(path, header, types, expected, extras, problems, convert)
    if len(batched.frame) == 0:
        raise empty_file_error(path, 2, "at least one event after the header")
    written = {c: names[c] for c in CANONICAL_COLUMNS if c in names}
    return finish(path, "csv", batched, problems, written)
