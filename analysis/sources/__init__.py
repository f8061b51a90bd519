"""Readers: each turns one export format into the canonical event table.

``read_events(path, source=None)`` detects the format from the header unless told.
"""

from __future__ import annotations

import os
from pathlib import Path

from analysis.errors import InputError, Problem, parameter_kind
from analysis.sources.acled import read_acled
from analysis.sources.common import ReadResult, read_header
from analysis.sources.csv import read_csv_events
from analysis.sources.detect import detect_format
from analysis.sources.ucdp import read_ucdp

READERS = {"ucdp": read_ucdp, "acled": read_acled, "csv": read_csv_events}

__all__ = [
    "READERS",
    "ReadResult",
    "detect_format",
    "read_acled",
    "read_csv_events",
    "read_events",
    "read_ucdp",
]


def require_source(source: str | None, option: str = "source", file: str | None = None) -> None:
    """Refuse a source format that is neither a reader's nor ``auto`` (None: auto).

    Parameters
    ----------
    source : str or None
    option : str
        Where it was given, for the message: ``ingest --source`` or (the default) the
        ``source`` parameter of :func:`read_events`.
    file : str, optional
        The file it was to read.

    Raises
    ------
    InputError
        Naming ``option``, the formats allowed and ``source``.
    """
    if source in (None, "", "auto") or source in READERS:
        return
    raise InputError(
        "unknown source format",
        [Problem(file, None, option, "one of ucdp, acled, csv, auto", str(source),
                 kind=parameter_kind(option))],
    )  # fmt: skip


def read_events(
    path: str | os.PathLike[str], source: str | None = None, keep_extra: bool = True
) -> ReadResult:
    """Read one file into canonical events.

    Parameters
    ----------
    path : path-like
    source : {"ucdp", "acled", "csv"}, optional
        Overrides detection from the header.
    keep_extra : bool
        Keep unmapped source columns after the canonical ones.

    Returns
    -------
    ReadResult
    """
    path = Path(path)
    require_source(source, file=str(path))
    if source in (None, "", "auto"):
        source = detect_format(path, read_header(path))
    return READERS[source](path, keep_extra=keep_extra)
