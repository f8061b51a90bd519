"""Which format a file is in, from its header."""

from __future__ import annotations

import os
from pathlib import Path

from analysis.errors import InputError, Problem
from analysis.sources import acled, ucdp
from analysis.sources import csv as generic
from analysis.sources.common import lower_names, not_commas, read_header


def detect_format(path: str | os.PathLike[str], header: list[str] | None = None) -> str:
    """Return ``"acled"``, ``"ucdp"`` or ``"csv"`` from the column names of ``path``.

    ACLED: ``event_id_cnty`` and ``event_date``. UCDP GED: ``id``, ``type_of_violence`` and
    ``date_start``. Generic: ``event_id`` and ``date_start``. Case is ignored.

    Parameters
    ----------
    path : path-like
        The event file.
    header : list of str, optional
        Its column names as written, when already read; read from ``path`` when None.

    Returns
    -------
    str

    Raises
    ------
    InputError
        If the header matches none of them.
    """
    path = Path(path)
    header = header if header is not None else read_header(path)
    names = set(lower_names(header))
    if acled.HEADER_MARKERS <= names:
        return "acled"
    if ucdp.HEADER_MARKERS <= names:
        return "ucdp"
    if generic.HEADER_MARKERS <= names:
        return "csv"
    not_commas(path, header, "an ACLED, UCDP GED or canonical CSV")
    shown = ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
    raise InputError(
        f"{path}: unknown format",
        [
            Problem(
                str(path),
                1,
                None,
                "a header of an ACLED export (event_id_cnty, event_date, ...), a UCDP GED file "
                "(id, type_of_violence, date_start, ...) or a canonical CSV (event_id, "
                "date_start, ...); or name the format with --source",
                shown,
            )
        ],
    )
