"""Provenance of a report: data files with SHA-256, study, parameters, versions, time."""

from __future__ import annotations

import datetime as dt
import functools
import os
import platform
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.cache import code_fingerprint  # noqa: F401 - the batch manifest records it

if TYPE_CHECKING:
    import pandas as pd

#: Where a report's attribution (the study's ``attribution``: source, version, licence) is
#: given: in full once, in the Provenance section, in every report kind (:func:`show`); a
#: region report's Data section points there with this sentence rather than repeating it.
ATTRIBUTION_POINTER = (
    "The data source, its licence and the data file are given under [Provenance](#Provenance)."
)

#: Distributions whose versions change numbers or rendering, recorded in every report.
TRACKED_PACKAGES = (
    "conflict-trends",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "scoringrules",
    "geopandas",
    "matplotlib",
    "seaborn",
    "papermill",
    "nbconvert",
)


def package_versions(names: Iterable[str] = TRACKED_PACKAGES) -> dict[str, str]:
    """Return ``{distribution: version}`` for installed distributions (missing ones omitted).

    Parameters
    ----------
    names : iterable of str, optional
        Distribution names; default :data:`TRACKED_PACKAGES`.

    Returns
    -------
    dict
        ``python`` (the interpreter's version) first, then each installed name's version.
    """
    return dict(_versions(tuple(names)))


@functools.lru_cache(maxsize=8)
def _versions(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    # once per process (the batch's fork server): reading the metadata of eleven
    # distributions cost every report about 0.05 s
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return tuple(versions.items())


def data_note_banner(inputs: Iterable[dict[str, Any]]) -> str:
    """A sentence for a report's banner per data file whose reader noted something about the
    file itself (``inputs[].note``, e.g. :func:`analysis.sources.ucdp.copy_note`): that a
    partial copy of a release can count fewer events bears on every number of the report,
    and the Provenance table at its end was the only place that said so.

    Parameters
    ----------
    inputs : iterable of dict
        The study's data files (``StudyData.inputs``: ``path``, ``note``).

    Returns
    -------
    str
        Empty where no file has a note.
    """
    return " ".join(
        f"The data file {Path(str(item.get('path', ''))).name} is {item['note']}."
        for item in inputs
        if item.get("note")
    )


@dataclass(frozen=True)
class Provenance:
    """Everything a reviewer needs to reproduce a report."""

    study: dict[str, Any]
    inputs: list[dict[str, Any]]
    parameters: dict[str, Any]
    versions: dict[str, str]
    created: str
    set_aside: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {
            "study": self.study,
            "inputs": self.inputs,
            "parameters": self.parameters,
            "versions": self.versions,
            "created": self.created,
            "set_aside": self.set_aside,
        }


def relative_path(path: str | os.PathLike[str], start: str | os.PathLike[str]) -> str:
    """``path`` relative to the folder ``start`` (POSIX separators), for a page that may be
    read on another machine: never the absolute path of the machine that rendered it.

    Parameters
    ----------
    path : str or path
        The path to show; relative paths are taken from the current folder.
    start : str or path
        The folder it is made relative to.

    Returns
    -------
    str
        The relative path, ``..`` where needed; empty for an empty ``path``.
    """
    if not str(path):
        return ""
    relative = os.path.relpath(os.path.abspath(path), os.path.abspath(start))
    return Path(relative).as_posix()


def _project_path(path: str | os.PathLike[str], study_folder: str | os.PathLike[str]) -> str:
    """A data file's path relative to the study file's folder while it stays inside the
    project (the study folder's parent, where ``data/`` sits beside ``studies/``); a file
    outside it is named by its file name alone, since the folders leading to it belong to
    the machine that rendered the report (the SHA-256 identifies the file)."""
    relative = relative_path(path, study_folder)
    if Path(relative).parts[:2] == ("..", ".."):
        return f"{Path(str(path)).name} (outside the project folder)"
    return relative


def _portable(
    study: dict[str, Any], inputs: list[dict[str, Any]], parameters: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """Study, inputs and path parameters with paths relative to the study file's folder."""
    study = dict(study)
    if not study.get("path"):
        return study, [dict(i) for i in inputs], dict(parameters)
    folder = Path(str(study["path"])).parent
    study["path"] = relative_path(study["path"], folder)
    inputs = [
        {**item, "path": _project_path(item["path"], folder)} if "path" in item else dict(item)
        for item in inputs
    ]
    shown = {}
    for name, value in parameters.items():
        is_path = isinstance(value, str | os.PathLike) and os.path.isabs(str(value))
        shown[name] = relative_path(value, folder) if is_path else value
    return study, inputs, shown


def collect(
    *,
    study: dict[str, Any],
    inputs: list[dict[str, Any]],
    parameters: dict[str, Any],
    set_aside: dict[str, int] | None = None,
    now: dt.datetime | None = None,
) -> Provenance:
    """Assemble a :class:`Provenance` with current package versions and time (UTC).

    Parameters
    ----------
    study : dict
        Study identity, e.g. ``{"title", "slug", "path", "sha256"}``.
    inputs : list of dict
        Data files as ``{path, sha256, rows}`` (``StudyData.inputs``).
    parameters : dict
        The notebook parameters the report ran with.

    Paths (the study's, the inputs', absolute path parameters) are kept relative to the study
    file's folder, so a report read elsewhere shows no path of the machine that rendered it;
    the SHA-256 identifies each file.
    set_aside : dict, optional
        Rows set aside by reason.
    now : datetime, optional
        Time stamp; by default now.

    Returns
    -------
    Provenance
    """
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    study, inputs, parameters = _portable(study, inputs, parameters)
    return Provenance(
        study=study,
        inputs=inputs,
        parameters=parameters,
        versions=package_versions(),
        created=when.isoformat(timespec="seconds"),
        set_aside=dict(set_aside or {}),
    )


def parameter_table(parameters: dict[str, Any]) -> pd.DataFrame:
    """The run's parameters as the Provenance section lists them: an empty one reads "(not
    set)", the run having left it at its default (no quarter: the latest data; no previous
    manifest: no quarter-on-quarter changes).

    Parameters
    ----------
    parameters : dict
        Parameter name -> value, as :attr:`Provenance.parameters` holds them.

    Returns
    -------
    DataFrame
        Columns ``parameter`` and ``value`` (values as text).
    """
    import pandas as pd

    return pd.DataFrame(
        {
            "parameter": list(parameters),
            "value": [str(v) if str(v) != "" else "(not set)" for v in parameters.values()],
        }
    )


def show(prov: Provenance) -> None:
    """Display the provenance block in a notebook: tables of inputs, parameters, versions.

    Parameters
    ----------
    prov : Provenance
        What to display (:func:`collect`).
    """
    import pandas as pd

    from analysis.report import show as display

    display.markdown(
        # no code spans: Markdown does not undo backslash escapes inside them
        "Study **{title}** ({path}, SHA-256 {sha}), rendered {created}.",
        title=prov.study.get("title", ""),
        path=prov.study.get("path", ""),
        sha=prov.study.get("sha256", ""),
        created=prov.created,
    )
    if prov.study.get("attribution"):
        display.markdown("Data source: {text}", text=prov.study["attribution"])
    display.markdown("**Data files** (paths relative to the study file's folder)")
    display.table(pd.DataFrame(prov.inputs))
    if prov.set_aside:
        display.markdown("**Rows set aside, by reason**")
        display.table(
            pd.DataFrame({"reason": list(prov.set_aside), "rows": list(prov.set_aside.values())})
        )
    display.markdown("**Parameters**")
    display.table(parameter_table(prov.parameters))
    display.markdown("**Package versions**")
    display.table(
        pd.DataFrame({"package": list(prov.versions), "version": list(prov.versions.values())})
    )
