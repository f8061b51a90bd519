"""UCDP Georeferenced Event Dataset (GED) CSV files, as published or as a column subset."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.events import STRING_DTYPE, quality_counts
from analysis.sources.batches import read_batched
from analysis.sources.common import (
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
    precision_code,
    read_header,
    require_columns,
    required_count,
    text,
)

REQUIRED = ["id", "type_of_violence", "side_a", "country", "date_start", "best"]
TEXT = {
    "id": "event_id",
    "country": "country",
    "adm_1": "admin1",
    "side_a": "actor1",
    "side_b": "actor2",
}
NUMBERS = {
    "latitude": ("latitude", "a latitude in decimal degrees"),
    "longitude": ("longitude", "a longitude in decimal degrees"),
    "best": ("fatalities", "a whole number of fatalities (0 or more)"),
    "low": ("fatalities_low", "a whole number of fatalities (0 or more)"),
    "high": ("fatalities_high", "a whole number of fatalities (0 or more)"),
    "date_prec": (None, "a date precision code (1 to 5)"),
}
#: GED's codebook: type_of_violence 1, 2, 3.
VIOLENCE_TYPES = {"1": "state-based", "2": "non-state", "3": "one-sided"}
HEADER_MARKERS = {"id", "type_of_violence", "date_start"}


def read_ucdp(path: str | os.PathLike[str], keep_extra: bool = True) -> ReadResult:
    """Read a UCDP GED CSV into canonical events.

    Parameters
    ----------
    path : path-like
        ``GEDEvent_vXX_X.csv`` or any file with GED's column names (any case); only ``id``,
        ``type_of_violence``, ``side_a``, ``country``, ``date_start`` and ``best`` are required.
    keep_extra : bool
        Keep the columns that are not mapped (e.g. ``conflict_name``, ``where_prec``).

    Returns
    -------
    ReadResult
        ``actor1``/``actor2`` from ``side_a``/``side_b``; ``event_type`` from
        ``type_of_violence`` (``state-based``, ``non-state``, ``one-sided``); ``fatalities``,
        ``fatalities_low``, ``fatalities_high`` from ``best``, ``low``, ``high``. ``date_prec``
        above 1 counts as an imprecise date.

    Raises
    ------
    InputError
        Every invalid value, with file, line, column and expected form.
    """
    path = Path(path)
    header = read_header(path)
    names = require_columns(path, header, REQUIRED, "UCDP GED")
    types: dict[str, pa.DataType] = {names[c]: pa.string() for c in TEXT if c in names}
    for c in ("type_of_violence", "date_start", "date_end"):
        if c in names:
            types[names[c]] = pa.string()
    types.update({names[c]: pa.float64() for c in NUMBERS if c in names})
    expected = {names[c]: NUMBERS[c][1] for c in NUMBERS if c in names}
    used = set(TEXT) | {"type_of_violence", "date_start", "date_end"}
    used |= {raw for raw, (canonical, _) in NUMBERS.items() if canonical}
    extras = extra_columns(header, used, "ucdp") if keep_extra else []
    problems = Problems(path)
    cache = DateCache()

    def convert(table: pa.Table, problems: Problems) -> tuple[dict[str, pd.Series], dict]:
        n = table.num_rows
        columns = {c: text(table, names.get(raw)) for raw, c in TEXT.items()}
        start = parse_dates(
            table, names["date_start"], ISO_DATE_FORMATS, problems, "date_start", cache
        )
        if "date_end" in names:
            end = parse_dates(
                table, names["date_end"], ISO_DATE_FORMATS, problems, "date_end", cache
            )
        else:
            end = start
            problems.skip["date_end"] = problems.skip.setdefault("date_start", set())
        violence = text(table, names["type_of_violence"]).str.strip()
        violence = violence.str.replace(r"\.0$", "", regex=True)
        event_type = violence.map(VIOLENCE_TYPES).astype(STRING_DTYPE)
        bad = np.flatnonzero(event_type.isna().to_numpy())
        problems.add(
            names["type_of_violence"],
            bad,
            [str(v) if pd.notna(v) else "an empty value" for v in violence.iloc[bad[:50]]],
            "type_of_violence 1 (state-based), 2 (non-state) or 3 (one-sided)",
            "event_type",
        )
        columns.update(
            source=constant_text("ucdp", n),
            date_start=start,
            date_end=end,
            iso3=text(table, None),
            region_id=text(table, None),
            assoc_actor_1=text(table, None),
            assoc_actor_2=text(table, None),
            event_type=event_type,
            notes=text(table, None),
        )
        for raw, (canonical, expected) in NUMBERS.items():
            if raw == "best":  # required: an empty value is an error, not a missing count
                columns[canonical] = required_count(
                    table, names[raw], problems, expected, canonical
                )
            elif canonical:
                columns[canonical] = number(table, names.get(raw))
        code = names.get("date_prec")
        imprecise = precision_code(table, code, 5, problems, NUMBERS["date_prec"][1]) > 1
        return columns, quality_counts(pd.DataFrame(columns, copy=False), imprecise)

    batched = read_batched(path, header, types, expected, extras, problems, convert)
    if len(batched.frame) == 0:
        raise empty_file_error(path, 2, "at least one event after the header")
    written = {canonical: names[raw] for raw, canonical in TEXT.items() if raw in names}
    written.update({c: names[raw] for raw, (c, _) in NUMBERS.items() if c and raw in names})
    written.update(date_start=names["date_start"], event_type=names["type_of_violence"])
    written["date_end"] = names.get("date_end", names["date_start"])
    result = finish(path, "ucdp", batched, problems, written)
    return dataclasses.replace(result, note=copy_note(header))


#: Columns of the official GED CSV whose absence marks a file as a partial copy: a reader of
#: the counts cannot tell from the release's name whether it holds every event.
RELEASE_MARKERS = ("where_prec", "date_prec")


def copy_note(header: Sequence[str]) -> str:
    """What the file's columns say about whether it is the whole GED release.

    The official CSV has about 49 columns, ``where_prec`` (location precision) among them.
    A copy without it may keep only some events (the real study's file keeps those with
    precise locations, 16 columns), and its counts can be lower than the release's; the
    reports' Provenance section says so of the file at hand instead of "the official CSV, or
    a copy of part of it".

    Parameters
    ----------
    header : sequence of str
        The file's column names.

    Returns
    -------
    str
        Empty where every marker column is present.
    """
    present = {str(c).strip().lower() for c in header}
    missing = [c for c in RELEASE_MARKERS if c not in present]
    if not missing:
        return ""
    return (
        f"a partial copy of the GED release: {len(header)} columns, without "
        f"{' and '.join(missing)}; it may hold only some of the release's events (e.g. those "
        "with precise locations), so its counts can be lower"
    )
