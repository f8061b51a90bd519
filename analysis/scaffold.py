"""``conflict-trends init``: the folder layout an analyst's project starts from.

The layout follows the checkout's own conventions (cookiecutter-data-science style)::

    studies/example.yaml   a commented study on the synthetic demo events
    data/raw/              exports as downloaded; never modified
    data/processed/        derived tables and the report cache
    reports/               rendered HTML
    notebooks/             parameterised copies to explore in JupyterLab
    README.md, Makefile    the next three commands

Existing files are never overwritten: a file already present is left as it is and listed as
kept, so running ``init`` on an existing project only adds what is missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from analysis.errors import InputError, Problem
from analysis.io import atomic_write_text

EXAMPLE_STUDY = """\
# An example study. Every key is described here; `conflict-trends report` validates the file
# and names any key it cannot use. Paths are relative to this file.
#
# It runs on SYNTHETIC events (written by `conflict-trends demo-data`): JNIM-like attacks in
# Mali's Kayes region rising about sevenfold 2021-2024 and spreading toward Mauritania and
# Senegal. For real events, download UCDP GED (`conflict-trends fetch ucdp --version 25.1`,
# then unzip into data/raw/), point `data` at the CSV, set `source: ucdp` and remove
# `synthetic: true`.
title: "JNIM in Kayes and its borderlands (synthetic example)"
data:
  - ../data/raw/demo/demo_acled.csv   # or ${{MY_DATA_VARIABLE:-../data/raw/file.csv}}
source: acled                         # ucdp | acled | csv | auto (from the header)
actors: [JNIM]                        # names, alias lists or regular expressions
include_predecessors: false           # true adds AQIM, Ansar Dine, al-Murabitun, MUJAO, ...
event_types: []                       # UCDP e.g. [state-based, one-sided]; ACLED e.g. [Battles];
                                      # empty = all (ACLED: its political violence only)
countries: [Mali, Mauritania, Senegal]  # names or ISO3 codes
focus: [Kayes]                        # the regions the reports are about (name or ISO 3166-2)
start: 2021-01                        # first month of the window (YYYY-MM); forecasts
                                      # need 36 months of history plus the horizon
end: 2024-12                          # last month, no later than the data's latest event
# data_from: 2021-01                  # only for an extract whose first months were quiet
# data_through: 2024-12               # only for an extract whose last months were quiet
freq: month                           # month | quarter (start and end then whole quarters)
horizon: 12                           # periods to forecast (12 needs 48 months from start)
# onset_quiet_periods: 12             # periods without an event that make a unit quiet for
                                      # first-event forecasts (default a year: 12 or 4)
compare:                              # growth comparisons: years, quarters or month windows
  - [2021, 2024]
spillover_targets: [Mauritania, Senegal]
seed: {seed}                          # random seed: the same seed gives the same report
synthetic: true                       # reports say in a banner that the data are synthetic
# attribution: "UCDP GED 25.1, CC BY 4.0"  # data source, version and licence, shown in every
                                      # report's Provenance section
# boundaries: ../data/admin1.geojson  # admin-1 polygons of your own (default: the shipped
                                      # West African units); may name ${{VARIABLES}} as data do
alerts:
  surge_factor: 2.0                   # a surge: at least twice the last-12-period mean
  min_events: 3                       # ... and at least 3 events over the next 3 periods
  probability: 0.5                    # alert when P(surge) passes this
"""

README = """\
# {name}

A conflict-trends project. The next three commands, from this folder:

```bash
conflict-trends demo-data                      # 1. synthetic example events -> data/raw/demo/
conflict-trends report studies/example.yaml    # 2. HTML reports -> reports/example/
conflict-trends notebook studies/example.yaml  # 3. explore it in JupyterLab (the [lab] extra)
```

`make data report notebook` does the same. Step 3 needs JupyterLab:
`pip install 'conflict-trends[lab]'`. For real events, run
`conflict-trends fetch ucdp --version 25.1`, unzip the archive in `data/raw/`, and edit
`studies/example.yaml` (its comments say how).

- `studies/`: one YAML file per study.
- `data/raw/`: exports as downloaded; never modified by conflict-trends.
- `data/processed/`: derived tables and the report cache (safe to delete).
- `reports/`: rendered HTML; each report links its methods appendix.
- `notebooks/`: parameterised report notebooks to explore.
"""

MAKEFILE = """\
# The next three steps of a conflict-trends project (see README.md).
STUDY ?= studies/example.yaml

.PHONY: data report notebook
data:
\tconflict-trends demo-data
report:
\tconflict-trends report $(STUDY)
notebook:
\tconflict-trends notebook $(STUDY)
"""

GITIGNORE = """\
data/processed/*
!data/processed/.gitkeep
reports/*
!reports/.gitkeep
.ipynb_checkpoints/
"""

FOLDERS = ("studies", "data/raw", "data/processed", "reports", "notebooks")


@dataclass(frozen=True)
class ScaffoldResult:
    """What :func:`init_project` did: files written and files that were already there."""

    root: Path
    written: list[Path]
    kept: list[Path]


def project_files(name: str, seed: int = 20240101) -> dict[str, str]:
    """The text of every file a new project gets, by path relative to its folder.

    Parameters
    ----------
    name : str
        The project's name, the title of its README (:func:`init_project` passes the folder's).
    seed : int, optional
        The example study's random seed; 20240101 by default.

    Returns
    -------
    dict of str to str
        Text by relative path; each folder but the first of :data:`FOLDERS` gets an empty
        ``.gitkeep``.
    """
    files = {
        "studies/example.yaml": EXAMPLE_STUDY.format(seed=seed),
        "README.md": README.format(name=name),
        "Makefile": MAKEFILE,
        ".gitignore": GITIGNORE,
    }
    for folder in FOLDERS[1:]:
        files[f"{folder}/.gitkeep"] = ""
    return files


def init_project(root: str | os.PathLike[str]) -> ScaffoldResult:
    """Create an analyst's project folder; never overwrite a file that exists.

    Parameters
    ----------
    root : path
        The project folder (created if missing; may already hold files).

    Returns
    -------
    ScaffoldResult

    Raises
    ------
    InputError
        ``root`` exists and is not a folder.
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise InputError(
            "cannot create a project here",
            [Problem(str(root), None, None, "a folder or a path that does not exist", "a file")],
        )
    written: list[Path] = []
    kept: list[Path] = []
    for folder in FOLDERS:
        (root / folder).mkdir(parents=True, exist_ok=True)
    for relative, text in project_files(root.resolve().name).items():
        path = root / relative
        if path.exists():
            kept.append(path)
            continue
        atomic_write_text(path, text)
        written.append(path)
    return ScaffoldResult(root=root, written=written, kept=kept)
