"""Provenance of a report: data files with SHA-256, study, parameters, versions, time."""

from __future__ import annotations

import datetime as dt
import os
import platform
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from analysis.io import sha256_file

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
    """Return ``{distribution: version}`` for installed distributions (missing ones omitted)."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


PACKAGE_DIR = Path(__file__).resolve().parents[1]


def code_fingerprint() -> str:
    """SHA-256 over the package's Python sources: changed code means changed results."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def file_digests(paths: Iterable[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """Return ``[{path, sha256, bytes}]`` for each file, in the order given."""
    out = []
    for path in paths:
        path = Path(path)
        out.append({"path": str(path), "sha256": sha256_file(path), "bytes": path.stat().st_size})
    return out


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
    set_aside : dict, optional
        Rows set aside by reason.
    now : datetime, optional
        Time stamp; by default now.
    """
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return Provenance(
        study=dict(study),
        inputs=[dict(item) for item in inputs],
        parameters=dict(parameters),
        versions=package_versions(),
        created=when.isoformat(timespec="seconds"),
        set_aside=dict(set_aside or {}),
    )


def show(prov: Provenance) -> None:
    """Display the provenance block in a notebook: tables of inputs, parameters, versions."""
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
    display.markdown("**Data files**")
    display.table(pd.DataFrame(prov.inputs))
    if prov.set_aside:
        display.markdown("**Rows set aside, by reason**")
        display.table(
            pd.DataFrame({"reason": list(prov.set_aside), "rows": list(prov.set_aside.values())})
        )
    display.markdown("**Parameters**")
    display.table(
        pd.DataFrame(
            {
                "parameter": list(prov.parameters),
                "value": [str(v) for v in prov.parameters.values()],
            }
        )
    )
    display.markdown("**Package versions**")
    display.table(
        pd.DataFrame({"package": list(prov.versions), "version": list(prov.versions.values())})
    )
