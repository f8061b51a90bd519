"""Plan a batch: which reports, with which parameters, written where, under which input key.

Which regions: each study's focus regions plus their first-order neighbours (across borders
too), the regions a reader of the focus report asks about next. ``regions="all"`` renders every
region of the study's countries instead (slower: dozens of mostly empty reports).

A report's key hashes its inputs: study file, data and boundary files, notebook, parameters,
package code and versions; the batch skips a report whose key matches the previous manifest's.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.as_of import require_quarter_within
from analysis.errors import InputError, Problem, parameter_kind
from analysis.io import sha256_file
from analysis.periods import previous_quarter, validate_quarter
from analysis.report.provenance import code_fingerprint, package_versions
from analysis.report.run import ReportJob, notebook_path, slugify, validate_parameters

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class BatchItem:
    """One planned report."""

    report_id: str  # "<study-slug>/<region-slug>", "<study-slug>/overview" or ".../methods"
    kind: str  # "region", "overview" or "methods"
    study: str
    study_slug: str
    study_title: str
    region: str
    region_name: str
    job: ReportJob
    inputs: list[dict[str, Any]]
    key: str


def require_own_folder(study: Any, folder_of: dict[str, str], out: Path) -> None:
    """Claim ``out/<slug>`` for ``study``, or raise an :class:`InputError` if another study
    file of the batch has it (two files named alike, in different folders: the second's
    reports had been left out without a word).

    Parameters
    ----------
    study : analysis.config.Study
        The loaded study (its ``slug`` and ``path``).
    folder_of : dict
        Study slug -> resolved study file that claimed it; updated in place.
    out : Path
        The batch's output folder (named in the message).

    Raises
    ------
    InputError
        If another study file of the batch already claimed the slug.
    """
    file = str(Path(study.path).resolve())
    owner = folder_of.setdefault(study.slug, file)
    if owner != file:
        raise InputError(
            "two study files would write to the same folder",
            [
                Problem(
                    file,
                    None,
                    None,
                    f"a study file name of its own in the batch ({owner} "
                    f"writes to {out / study.slug})",
                    study.slug,
                )
            ],  # fmt: skip
        )


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


#: The region selections of a batch, besides a list of regions.
REGION_MODES = ("focus", "neighbours", "all")


def require_region_mode(mode: str | list[str], option: str = "regions") -> None:
    """Refuse a region selection that is neither a list nor one of :data:`REGION_MODES`.

    Parameters
    ----------
    mode : str or list of str
    option : str
        Where it was given, for the message: ``batch --regions`` or (the default) the
        ``regions`` parameter of :func:`plan`.

    Raises
    ------
    InputError
        Naming ``option``, the selections allowed and ``mode``.
    """
    if isinstance(mode, list) or mode in REGION_MODES:
        return
    kind = parameter_kind(option)
    # a list of regions can be given to plan(), not to the command's option
    expected = "focus, neighbours or all" if kind is None else "focus, neighbours, all or a list"
    raise InputError(
        "invalid region selection", [Problem(None, None, option, expected, str(mode), kind=kind)]
    )


def _regions_for(study: Any, mode: str | list[str]) -> list[tuple[str, str]]:
    """Return [(region_id, region_name)] for a study, focus first."""
    from analysis import geography

    require_region_mode(mode)
    boundaries = geography.load_boundaries(study.boundaries) if study.boundaries else None
    boundaries = boundaries or geography.load_boundaries()
    regions = boundaries.regions
    names = dict(zip(regions["region_id"], regions["region_name"], strict=False))
    if isinstance(mode, list):
        chosen = list(mode)
    elif mode == "all":
        in_countries = regions[regions["country"].isin(study.countries)]
        chosen = list(study.focus) + sorted(set(in_countries["region_id"]) - set(study.focus))
    elif mode == "neighbours":
        # neighbours outside the study's countries have no panel rows, so no report
        countries = dict(zip(regions["region_id"], regions["country"], strict=False))
        chosen = list(study.focus)
        for region in study.focus:
            for other in geography.neighbours(region, boundaries=boundaries):
                if other not in chosen and countries.get(other) in study.countries:
                    chosen.append(other)
    else:  # "focus"
        chosen = list(study.focus)
    return [(r, str(names.get(r, r))) for r in chosen]


def plan(
    studies: Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    quarter: str | None = None,
    regions: str | list[str] = "neighbours",
    overview: bool = True,
    timeout: float = 300.0,
    region_notebook: str = "region_report",
    overview_notebook: str = "overview",
    methods_notebook: str | None = "methods",
    code: str | None = None,
    errors: dict[str, InputError] | None = None,
) -> list[BatchItem]:
    """List the reports a batch makes, with the input key that decides whether to rerun each.

    Parameters
    ----------
    studies : iterable of path
        Study YAML files.
    out : path
        Output folder (already including the quarter, see :func:`output_folder`).
    quarter : str, optional
        ``YYYYQn``: reports are as of the end of that quarter.
    regions : {"neighbours", "focus", "all"} or list of str
        Which regions get a report (see module docstring).
    overview : bool
        Also make each study's overview.
    timeout : float
        Seconds allowed per report.
    region_notebook, overview_notebook, methods_notebook : str
        Report templates (names of the shipped ones, see :mod:`analysis.report.assets`, or
        paths); no methods appendix if ``methods_notebook`` is None.
    code : str, optional
        Fingerprint of the package's code (part of every key); by default
        :func:`analysis.report.provenance.code_fingerprint`.
    errors : dict, optional
        When given, a study file that cannot be loaded is recorded here (its resolved path
        -> the ``InputError``) and left out of the plan, so that a batch can go on with the
        other studies; without it, the error is raised.

    Returns
    -------
    list of BatchItem

    Raises
    ------
    InputError
        A study file that cannot be loaded (unless ``errors`` is given), or an invalid
        ``regions`` or notebook.
    """
    from analysis.config import load_study

    out = Path(out)
    quarter = validate_quarter(quarter) if quarter else ""
    versions = package_versions()
    code = code_fingerprint() if code is None else code
    items: list[BatchItem] = []
    seen: set[str] = set()
    folder_of: dict[str, str] = {}  # study slug -> the study file whose reports go there
    for study_path in studies:
        try:
            study = load_study(study_path)
            # its reports' as-of cut must fall within its months: exit 2, not failed reports
            require_quarter_within(quarter, study.start, study.end, str(study.path), "--quarter")
            require_own_folder(study, folder_of, out)
        except InputError as exc:
            if errors is None:
                raise
            errors[str(Path(study_path).resolve())] = exc
            continue
        study_file = str(Path(study.path).resolve())
        study_sha = sha256_file(study_file)
        inputs = [{"path": str(p), "sha256": sha256_file(p)} for p in study.data_files()]
        base = {"study": study_file, "quarter": quarter}
        specs: list[tuple[str, str, str, str, dict[str, Any]]] = []
        for region, name in _regions_for(study, regions):
            specs.append(("region", region, name, region_notebook, {**base, "region": region}))
        if overview:
            previous = ""
            if quarter:
                candidate = out.parent / previous_quarter(quarter) / MANIFEST
                previous = str(candidate) if candidate.is_file() else ""
            specs.append(
                ("overview", "", "", overview_notebook, {**base, "previous_manifest": previous})
            )
        if methods_notebook:
            specs.append(("methods", "", "", methods_notebook, dict(base)))
        for kind, region, name, notebook, params in specs:
            params = validate_parameters({k: v for k, v in params.items() if v != ""})
            name_part = slugify(region) if kind == "region" else kind
            report_id = f"{study.slug}/{name_part}"
            if report_id in seen:
                continue
            seen.add(report_id)
            nb_file = notebook_path(notebook)
            extra_inputs = []
            if params.get("previous_manifest"):
                extra_inputs.append(
                    {
                        "path": params["previous_manifest"],
                        "sha256": sha256_file(params["previous_manifest"]),
                    }
                )
            key = _key(
                study_sha, inputs, extra_inputs, sha256_file(nb_file), params, versions, code
            )
            job = ReportJob(
                notebook=str(nb_file),
                parameters=params,
                html_path=str(out / study.slug / f"{name_part}.html"),
                ipynb_path=str(out / study.slug / f"{name_part}.ipynb"),
                timeout=timeout,
                key=key,
            )
            items.append(
                BatchItem(
                    report_id=report_id,
                    kind=kind,
                    study=study_file,
                    study_slug=study.slug,
                    study_title=study.title,
                    region=region,
                    region_name=name,
                    job=job,
                    inputs=inputs + extra_inputs,
                    key=key,
                )
            )
    return items


def output_folder(out: str | os.PathLike[str], quarter: str | None) -> Path:
    """The folder a batch writes to: ``out/<quarter>`` for a quarterly run, else ``out``.

    Parameters
    ----------
    out : str or path
        The batch's ``--out`` folder.
    quarter : str or None
        ``YYYYQn`` (any case), or None or empty for a run without a quarter.

    Returns
    -------
    Path

    Raises
    ------
    InputError
        If ``quarter`` is given but is not a quarter.
    """
    return Path(out) / validate_quarter(quarter) if quarter else Path(out)
