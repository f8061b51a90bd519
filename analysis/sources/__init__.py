"""Readers: each turns one export format into the canonical event table.

``read_events(path, source=None)`` detects the format from the header unless told.
"""

from __future__ import annotations

import os
from pathlib import Path

from analysis.errors import InputError, Problem
from analysis.sources.acled import read_acled
from analysis.sources.common import ReadResult, read_header
from analysis.sources.csv import read_csv_events
from analysis.sources.detect import FORMATS, detect_format
from analysis.sources.ucdp import read_ucdp

READERS = {"ucdp": read_ucdp, "acled": read_acled, "csv": read_csv_events}

__all__ = [
    "FORMATS",
    "READERS",
    "ReadResult",
    "detect_format",
    "read_acled",
    "read_csv_events",
    "read_events",
    "read_ucdp",
]


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
    if source in (None, "", "auto"):
        source = detect_format(path, read_header(path))
    if source not in READERS:
        raise InputError(
            "unknown source format",
            [Problem(str(path), None, "source", "one of ucdp, acled, csv, auto", str(source))],
        )
    return READERS[source](path, keep_extra=keep_extra)
