"""Where the report templates and page styles live: package data, found with importlib.resources.

The notebooks (``analysis/report/notebooks/*.py``, jupytext py:percent) and the nbconvert
template (``analysis/report/templates/``) ship inside the wheel, so a report renders from any
folder, with or without the source checkout. pip installs packages as plain folders, so the
resources are real files; a zipped install is refused with a clear message rather than
half-working, because papermill and nbconvert read templates from paths.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from analysis.errors import InputError, Problem

#: Report templates shipped with the package, by name.
TEMPLATES = ("region_report", "overview", "methods")


def _folder(name: str) -> Path:
    root = resources.files("analysis.report").joinpath(name)
    path = Path(str(root))
    if not path.is_dir():
        raise InputError(
            "report resources not found",
            [
                Problem(
                    str(root),
                    None,
                    None,
                    "conflict-trends installed as a folder (pip install, not a zip file)",
                    "missing",
                )
            ],
        )
    return path


@functools.cache
def notebook_dir() -> Path:
    """Folder of the shipped report notebooks (``region_report.py``, ``overview.py``, ...)."""
    return _folder("notebooks")


@functools.cache
def template_dir() -> Path:
    """Folder holding the nbconvert template ``conflict_trends`` and ``index.html.j2``."""
    return _folder("templates")


def notebook(name: str) -> Path:
    """Path of a shipped report notebook by name (``region_report``); it may not exist.

    Parameters
    ----------
    name : str
        Notebook name without the ``.py`` suffix, normally one of :data:`TEMPLATES`.

    Returns
    -------
    Path
        ``<notebook_dir>/<name>.py``.
    """
    return notebook_dir() / f"{name}.py"


def stylesheet() -> str:
    """The page CSS shared by reports and the index."""
    return (template_dir() / "conflict_trends" / "report.css").read_text(encoding="utf-8")
