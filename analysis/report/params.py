"""Report parameters, checked before they are injected into a notebook.

Only known names, and only values of the expected form (ISO 3166-2 region codes, existing
study files, ``YYYYQn`` quarters), so nothing a user types can become code in the injected
cell.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from analysis.errors import InputError, Problem

# ISO 3166-2; the shipped boundaries join units that share a polygon with "|" (MR-13|MR-14)
REGION_PATTERN = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}(\|[A-Z]{2}-[A-Z0-9]{1,3}){0,5}$")

#: The parameters a report notebook accepts and how each is checked.
PARAMETER_KINDS = {
    "study": "study_path",
    "region": "region",
    "quarter": "quarter",
    "previous_manifest": "optional_path",
}


def slugify(text: str) -> str:
    """Return a lowercase file-name-safe slug (``ML-KY`` -> ``ml-ky``).

    Parameters
    ----------
    text : str
        Text to slug (a region code, a study name); converted with ``str`` first.

    Returns
    -------
    str
        Runs of characters other than ``a-z0-9`` replaced by one ``-``, no ``-`` at either end.

    Raises
    ------
    InputError
        If nothing is left of ``text`` (no letter or digit).
    """
    slug = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    if not slug:
        raise InputError(f"cannot make a file name from {text!r}")
    return slug


def validate_region(region: str) -> str:
    """Return ``region`` upper-cased if it is an ISO 3166-2 code, else raise InputError.

    Parameters
    ----------
    region : str
        Region code such as ``ML-KY``, or units joined with ``|`` (``MR-13|MR-14``); surrounding
        whitespace and case are ignored.

    Returns
    -------
    str
        The code stripped and upper-cased.

    Raises
    ------
    InputError
        If the code does not match :data:`REGION_PATTERN`.
    """
    value = str(region).strip().upper()
    if not REGION_PATTERN.fullmatch(value):
        raise InputError(
            "invalid region",
            [
                Problem(
                    None,
                    None,
                    "region",
                    "an ISO 3166-2 code such as ML-KY",
                    str(region),
                    kind="parameter",
                )
            ],
        )
    return value


def _safe_text(name: str, value: Any) -> str:
    text = str(value)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise InputError(
            "invalid parameter",
            [Problem(None, None, name, "text without control characters", text)],
        )
    return text


def validate_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """Check report parameters before they are injected into a notebook.

    Parameters
    ----------
    parameters : dict
        Names from :data:`PARAMETER_KINDS` only.

    Returns
    -------
    dict
        Normalised values: absolute study path, upper-case region code, and so on.

    Raises
    ------
    InputError
        Unknown name, or a value not of the expected form.
    """
    # imported here: the batch's parent process checks no parameter and so needs no pandas
    from analysis.periods import validate_quarter

    out: dict[str, Any] = {}
    problems = []
    for name, value in parameters.items():
        kind = PARAMETER_KINDS.get(name)
        if kind is None:
            problems.append(
                Problem(None, None, name, f"one of {', '.join(PARAMETER_KINDS)}", str(name))
            )
            continue
        try:
            if kind == "region":
                out[name] = validate_region(value)
            elif kind == "quarter":
                out[name] = "" if value in (None, "") else validate_quarter(value)
            elif kind == "study_path":
                path = Path(_safe_text(name, value)).expanduser().resolve()
                if not path.is_file() or path.suffix.lower() not in (".yaml", ".yml"):
                    raise InputError(
                        "invalid study",
                        [Problem(str(path), None, None, "an existing study .yaml file")],
                    )
                out[name] = str(path)
            elif kind == "optional_path":
                if value in (None, ""):
                    out[name] = ""
                else:
                    path = Path(_safe_text(name, value)).expanduser().resolve()
                    out[name] = str(path) if path.is_file() else ""
        except InputError as exc:
            problems.extend(exc.problems or [Problem(None, None, name, exc.message, str(value))])
        except (TypeError, ValueError):
            problems.append(Problem(None, None, name, f"a valid {kind}", str(value)))
    if problems:
        raise InputError("invalid report parameters", problems)
    return out
