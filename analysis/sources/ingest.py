"""Many raw files -> one validated canonical event table with region ids and a manifest."""

from __future__ import annotations

import datetime as dt
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from analysis import installed_version as package_version
from analysis.errors import InputError, Problem
from analysis.events import (
    CANONICAL_COLUMNS,
    STRING_DTYPE,
    DataQualityWarning,
    UnknownCountryWarning,
    warn_quality,
)
from analysis.io import sha256_file
from analysis.sources import ReadResult, read_events
from analysis.sources.common import read_header, require_placeable

Regions = Literal["assign", "admin1", "none"]


@dataclass(frozen=True)
class IngestResult:
    """The combined events of several files and what happened to them.

    Attributes
    ----------
    events : pandas.DataFrame
        Canonical events of every input, in input order; ``iso3`` and ``region_id`` filled
        where they could be resolved (<NA> otherwise, never dropped).
    manifest : dict
        Inputs (path, SHA-256, source, rows), rows read and kept, rows set aside by reason,
        quality warnings by reason, date range, sources, package version.
    unresolved : pandas.DataFrame
        Distinct (country, admin1) pairs without a region id, with their event counts.
    """

    events: pd.DataFrame
    manifest: dict[str, Any]
    unresolved: pd.DataFrame = field(repr=False)


def ingest(
    paths: Sequence[str | os.PathLike[str]],
    source: str | None = None,
    regions: Regions = "assign",
    boundaries: Any = None,
    keep_extra: bool = True,
) -> IngestResult:
    """Read, validate and combine raw exports; give every event its ISO3 and region id.

    Parameters
    ----------
    paths : list of path-like
        Raw files (never modified).
    source : {"ucdp", "acled", "csv"}, optional
        Format of every file; detected per file from its header when omitted.
    regions : {"assign", "admin1", "none"}
        ``assign``: ISO3 from the file's ``iso3`` column (a canonical file), else the country
        name, and region id from :func:`analysis.geography.assign_regions` (given code,
        admin-1 name, then coordinates); an event whose country the boundaries do not know
        (a misspelt "Maii") takes the country of the unit it was placed in, and each file's
        unknown names are named in an :class:`~analysis.events.UnknownCountryWarning`.
        ``admin1``: take the region id verbatim from ``admin1`` (for data that already carries
        unit ids, and for benchmarks with synthetic units). ``none``: leave both empty.
    boundaries : analysis.geography.Boundaries, optional
        Defaults to the shipped West African admin-1 units.
    keep_extra : bool
        Keep unmapped source columns.

    Returns
    -------
    IngestResult

    Raises
    ------
    InputError
        With the problems of every file at once (each names file, line, column, expected form);
        also for the same event id in two files of one source.
    """
    if not paths:
        raise InputError("no input files", [Problem(None, None, "FILE", "at least one file")])
    results: list[ReadResult] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            result = read_events(path, source=source, keep_extra=keep_extra)
            if regions == "assign":
                require_placeable(Path(path), read_header(Path(path)))
            results.append(result)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError("invalid input; nothing was written", problems)
    # the readers hash each file on a thread while they parse it
    sha = [r.sha256 or sha256_file(r.path) for r in results]
    if len(results) > 1:
        _check_ids_across_files(results)

    quality: dict[str, int] = {}
    for result in results:
        warn_quality(str(result.path), result.quality)
        for reason, n in result.quality.items():
            quality[reason] = quality.get(reason, 0) + n

    frames = [r.events for r in results]
    events = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    set_aside: dict[str, int] = {}
    region_counts: dict[str, int] = {}
    unknown_countries: list[dict[str, Any]] = []
    unresolved = pd.DataFrame(columns=["country", "admin1", "events"])
    if regions == "assign":
        from analysis import geography

        boundaries = boundaries or geography.load_boundaries()
        events["iso3"] = _country_codes(events, boundaries)
        unknown = events["iso3"].isna().to_numpy()
        assignment = geography.assign_regions(events, boundaries)
        events["region_id"] = assignment.region_id.astype(STRING_DTYPE).to_numpy()
        region_counts = dict(assignment.counts)
        unresolved = assignment.unresolved
        if assignment.counts.get("unresolved"):
            set_aside["unresolved_region"] = int(assignment.counts["unresolved"])
        if unknown.any():
            # A study selects its countries by ISO3: an event that its coordinates placed in
            # Mali but whose country reads "Maii" had been left out of every study of Mali.
            placed = geography.region_countries(events["region_id"], boundaries)
            events["iso3"] = events["iso3"].fillna(placed).astype(STRING_DTYPE)
            quality["unknown_country"] = int(unknown.sum())
            unknown_countries = _unknown_countries(results, events, unknown)
            for result in results:
                _warn_unknown_countries(result.path, unknown_countries)
        if set_aside:
            warnings.warn(
                f"{set_aside['unresolved_region']} events have no resolvable admin-1 unit; "
                "they are kept with an empty region_id and left out of panels",
                DataQualityWarning,
                stacklevel=2,
            )
    elif regions == "admin1":
        events["region_id"] = events["admin1"]
        missing = int(events["region_id"].isna().sum())
        if missing:
            set_aside["unresolved_region"] = missing
    elif regions != "none":
        raise InputError(
            "bad region option", [Problem(None, None, "regions", "assign, admin1 or none", regions)]
        )

    manifest = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "package": "conflict-trends",
        "package_version": package_version(),
        "inputs": [
            {
                "path": str(r.path),
                "sha256": digest,
                "source": r.source,
                "rows": r.rows_read,
                **({"note": r.note} if r.note else {}),
            }
            for r, digest in zip(results, sha, strict=True)
        ],
        "rows_read": int(sum(r.rows_read for r in results)),
        "rows_kept": int(len(events)),
        "set_aside": set_aside,
        "set_aside_note": "set-aside rows stay in the table (region_id empty) but not in panels",
        "quality_warnings": quality,
        "regions": {"method": regions, **region_counts},
        **({"unknown_countries": unknown_countries} if unknown_countries else {}),
        "date_range": _date_range(events),
        "sources": sorted({r.source for r in results}),
        "columns": list(events.columns),
    }
    return IngestResult(events, manifest, unresolved)


def _map_unique(values: pd.Series, func: Any, boundaries: Any) -> pd.Series:
    # Map the distinct values only: a country column has a handful of values in millions of rows.
    codes, uniques = pd.factorize(values)
    mapped = func(pd.Series(uniques, dtype=STRING_DTYPE), boundaries)
    lookup = np.append(mapped.to_numpy(dtype=object, na_value=None), None)
    return pd.Series(lookup[codes], index=values.index, dtype=STRING_DTYPE)


def _country_codes(events: pd.DataFrame, boundaries: Any) -> pd.Series:
    """ISO3 of every event: a canonical file's own ``iso3`` (a code or name the boundaries
    know), else its country name (<NA> where neither is known)."""
    from analysis.geography import country_iso3

    by_name = _map_unique(events["country"], country_iso3, boundaries)
    if events["iso3"].notna().any():
        return _map_unique(events["iso3"], country_iso3, boundaries).fillna(by_name)
    return by_name


#: Lines shown per unknown country name, and names shown per file, in a warning.
_SHOWN_LINES = 5
_SHOWN_NAMES = 10


def _unknown_countries(
    results: list[ReadResult], events: pd.DataFrame, unknown: np.ndarray
) -> list[dict[str, Any]]:
    """Per file and unknown country name: rows, first lines, the countries of the units its
    events were placed in (``placed``: ISO3 -> rows) and how many no unit holds
    (``left_out``); most rows first. ``events`` are those of ``results`` in order, with the
    ISO3 of the placed events filled in; ``unknown`` marks the events whose name was unknown.
    """
    records: list[dict[str, Any]] = []
    start = 0
    for result in results:
        n = len(result.events)
        rows = np.flatnonzero(unknown[start : start + n])
        if len(rows):
            part = pd.DataFrame(
                {
                    "country": events["country"].iloc[start + rows].to_numpy(object, na_value=""),
                    "iso3": events["iso3"].iloc[start + rows].to_numpy(object, na_value=""),
                    "line": result.lines()[rows],
                }
            )
            found = []
            for name, group in part.groupby("country", sort=False):
                placed = group.loc[group["iso3"] != "", "iso3"].value_counts()
                found.append(
                    {
                        "path": str(result.path),
                        "country": name or None,
                        "rows": len(group),
                        "lines": [int(x) for x in group["line"].iloc[:_SHOWN_LINES]],
                        "placed": {str(k): int(v) for k, v in sorted(placed.items())},
                        "left_out": int((group["iso3"] == "").sum()),
                    }
                )
            records.extend(sorted(found, key=lambda r: (-r["rows"], r["lines"][0])))
        start += n
    return records


def _warn_unknown_countries(path: Path, records: list[dict[str, Any]]) -> None:
    """One :class:`UnknownCountryWarning` naming the unknown country names of ``path``."""
    mine = [r for r in records if r["path"] == str(path)]
    if not mine:
        return
    parts = []
    for record in mine[:_SHOWN_NAMES]:
        name = f"'{record['country']}'" if record["country"] else "an empty country"
        rows, lines = record["rows"], record["lines"]
        more = ", ..." if rows > len(lines) else ""
        where = f"line {lines[0]}" if rows == 1 else f"lines {', '.join(map(str, lines))}{more}"
        counted = ", ".join(f"{iso} ({n})" for iso, n in record["placed"].items())
        n_placed, left = sum(record["placed"].values()), record["left_out"]
        outcome = []
        if n_placed:
            count = f"{n_placed} " if left else ""
            outcome.append(f"{count}placed by coordinates or admin-1 name in {counted}")
        if left:
            count = f"{left} " if n_placed else ""
            outcome.append(f"{count}in no admin-1 unit: left out of every panel")
        parts.append(f"{name}: {rows} row{'s' if rows > 1 else ''} ({where}), {', '.join(outcome)}")
    rest = mine[_SHOWN_NAMES:]
    if rest:
        parts.append(f"and {len(rest)} more names ({sum(r['rows'] for r in rest)} rows)")
    total = sum(r["rows"] for r in mine)
    warnings.warn(
        f"{path}: {total} events name a country the boundaries do not know (kept): "
        + "; ".join(parts),
        UnknownCountryWarning,
        stacklevel=3,
    )


def _date_range(events: pd.DataFrame) -> list[str | None]:
    if events.empty:
        return [None, None]
    return [
        events["date_start"].min().date().isoformat(),
        events["date_end"].max().date().isoformat(),
    ]


def _id_column(source: str) -> str:
    """The event-id column as a source's export names it (ACLED ``event_id_cnty``, UCDP
    ``id``), read from its reader's column map; ``event_id`` for a generic CSV."""
    from analysis.sources import acled, ucdp

    maps = {"acled": acled.TEXT, "ucdp": ucdp.TEXT}
    written = {v: k for k, v in maps.get(source, {}).items()}
    return written.get("event_id", "event_id")


def _check_ids_across_files(results: list[ReadResult]) -> None:
    keys = pd.concat(
        [
            pd.DataFrame(
                {
                    "source": r.source,
                    "event_id": r.events["event_id"].to_numpy(dtype=object),
                    "file": i,
                    "row": np.arange(len(r.events)),
                }
            )
            for i, r in enumerate(results)
        ],
        ignore_index=True,
    )
    dup = keys.duplicated(["source", "event_id"], keep="first")
    if not dup.any():
        return
    first = keys.drop_duplicates(["source", "event_id"]).set_index(["source", "event_id"])
    problems = []
    for _, row in keys[dup].head(50).iterrows():
        orig = first.loc[(row["source"], row["event_id"])]
        orig_result = results[int(orig["file"])]
        result = results[int(row["file"])]
        problems.append(
            Problem(
                str(result.path),
                int(result.lines()[int(row["row"])]),
                _id_column(str(row["source"])),
                "an event id unique within its source (also in "
                f"{orig_result.path}, line {int(orig_result.lines()[int(orig['row'])])}: "
                "overlapping exports? keep one copy of each event)",
                str(row["event_id"]),
            )
        )
    raise InputError("duplicate event ids across files; nothing was written", problems)


__all__ = ["CANONICAL_COLUMNS", "IngestResult", "ingest", "package_version"]
