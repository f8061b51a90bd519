"""A batch's record: ``manifest.json`` (one entry per report) and ``index.html`` (links)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from analysis.io import atomic_write_text
from analysis.report.plan import MANIFEST, BatchItem
from analysis.report.run import JobResult

INDEX = "index.html"


def entry(item: BatchItem, result: JobResult, out: Path, versions: dict[str, str]) -> dict:
    """The manifest's record of one report: what, from which inputs, how it went."""
    return {
        "id": item.report_id,
        "kind": item.kind,
        "study": item.study,
        "study_slug": item.study_slug,
        "study_title": item.study_title,
        "region": item.region,
        "region_name": item.region_name,
        "notebook": item.job.notebook,
        "parameters": item.job.parameters,
        "inputs": item.inputs,
        "versions": versions,
        "key": item.key,
        "status": result.status,
        "error": result.error,
        "duration": round(result.duration, 3),
        "html": os.path.relpath(item.job.html_path, out),
        "ipynb": os.path.relpath(item.job.ipynb_path, out),
        "records": result.records,
        "timings": result.timings,
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def read_manifest(out: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Read ``out/manifest.json`` if present (None if missing or unreadable)."""
    path = Path(out) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_index(root: Path, manifest: dict[str, Any]) -> Path:
    """Write ``index.html``: every report grouped by study, failures marked, all escaped."""
    import jinja2

    from analysis.report import assets

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(assets.template_dir())),
        autoescape=True,
    )
    css = assets.stylesheet()
    groups: dict[str, dict[str, Any]] = {}
    for entry in manifest["reports"]:
        group = groups.setdefault(
            entry["study_slug"], {"title": entry["study_title"], "reports": []}
        )
        group["reports"].append(entry)
    page = env.get_template("index.html.j2").render(
        manifest=manifest, groups=groups, css=jinja2.utils.markupsafe.Markup(css)
    )
    path = root / INDEX
    atomic_write_text(path, page)
    return path
