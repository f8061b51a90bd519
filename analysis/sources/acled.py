"""ACLED exports (lower-case or UPPERCASE headers, three date forms, optional BOM)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa

from analysis.events import quality_counts
from analysis.sources.batches import read_batched
from analysis.sources.common import (
    ACLED_DATE_FORMATS,
    DateCache,
    Problems,
    ReadResult,
    constant_text,
    empty_file_error,
    extra_columns,
    finish,
    number,
    parse_dates,
    precision_code,
    read_header,
    require_columns,
    required_count,
    text,
)

REQUIRED = ["event_id_cnty", "event_date", "event_type", "actor1", "country", "fatalities"]
TEXT = {
    "event_id_cnty": "event_id",
    "country": "country",
    "admin1": "admin1",
    "actor1": "actor1",
    "actor2": "actor2",
    "assoc_actor_1": "assoc_actor_1",
    "assoc_actor_2": "assoc_actor_2",
    "event_type": "event_type",
    "notes": "notes",
}
NUMBERS = {
    "latitude": ("latitude", "a latitude in decimal degrees"),
    "longitude": ("longitude", "a longitude in decimal degrees"),
    "fatalities": ("fatalities", "a whole number of fatalities (0 or more)"),
    "time_precision": (None, "a time precision code (1, 2 or 3)"),
}
HEADER_MARKERS = {"event_id_cnty", "event_date"}


def read_acled(path: str | os.PathLike[str], keep_extra: bool = True) -> ReadResult:
    """Read an ACLED export into canonical events.

    Parameters
    ----------
    path : path-like
        CSV as exported from ACLED (any header case; dates ``2024-02-08``, ``08 February
        2024`` or ``8-Feb-24``; UTF-8, with or without byte-order mark).
    keep_extra : bool
        Keep the columns that are not mapped (lower-cased; ACLED's ``source`` becomes
        ``acled_source``).

    Returns
    -------
    ReadResult
        ``event_id`` from ``event_id_cnty``; ``date_start`` = ``date_end`` = ``event_date``;
        ``fatalities_low``/``_high`` empty. ``time_precision`` above 1 counts as an imprecise
        date.

    Raises
    ------
    InputError
        Every invalid value, with file, line, column and expected form.
    """
    path = Path(path)
    header = read_header(path)
    names = require_columns(path, header, REQUIRED, "ACLED")
    types: dict[str, pa.DataType] = {names[c]: pa.string() for c in TEXT if c in names}
    types[names["event_date"]] = pa.string()
    types.update({names[c]: pa.float64() for c in NUMBERS if c in names})
    expected = {names[c]: NUMBERS[c][1] for c in NUMBERS if c in names}
    used = set(TEXT) | {"event_date", "latitude", "longitude", "fatalities"}
    extras = extra_columns(header, used, "acled") if keep_extra else []
    problems = Problems(path)
    cache = DateCache()

    def convert(table: pa.Table, problems: Problems) -> tuple[dict[str, pd.Series], dict]:
        columns = {c: text(table, names.get(raw)) for raw, c in TEXT.items()}
        dates = parse_dates(
            table, names["event_date"], ACLED_DATE_FORMATS, problems, "date_start", cache
        )
        n = table.num_rows
        # date_end is the same parsed column: a bad date is reported once
        problems.skip["date_end"] = problems.skip.setdefault("date_start", set())
        columns.update(
            source=constant_text("acled", n),
            date_start=dates,
            date_end=dates,
            iso3=text(table, None),
            region_id=text(table, None),
            latitude=number(table, names.get("latitude")),
            longitude=number(table, names.get("longitude")),
            fatalities=required_count(
                table, names["fatalities"], problems, NUMBERS["fatalities"][1], "fatalities"
            ),
            fatalities_low=number(table, None),
            fatalities_high=number(table, None),
        )
        code = names.get("time_precision")
        imprecise = precision_code(table, code, 3, problems, NUMBERS["time_precision"][1]) > 1
        return columns, quality_counts(pd.DataFrame(columns, copy=False), imprecise)

    batched = read_batched(path, header, types, expected, extras, problems, convert)
    if len(batched.frame) == 0:
        raise empty_file_error(path, 2, "at least one event after the header")
    written = {canonical: names[raw] for raw, canonical in TEXT.items() if raw in names}
    written.update(date_start=names["event_date"], date_end=names["event_date"])
    written.update({c: names[c] for c in ("latitude", "longitude", "fatalities") if c in names})
    return finish(path, "acled", batched, problems, written)
