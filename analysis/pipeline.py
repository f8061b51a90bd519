"""From a study to its data: ingest the raw files, select the events, build the panel.

This is the one place where the stages are chained for a study, so that the CLI, the report
notebooks and the batch all see the same numbers. Results are memoised per process on the
files' identity (path, size, modification time) and the study, which lets a warm report kernel
reuse a study's panel across its region reports.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis.config import Study
from analysis.events import filter_events
from analysis.geography import Boundaries, load_boundaries
from analysis.panel import build_panel
from analysis.sources.ingest import ingest

_CACHE: dict[str, StudyData] = {}
_CACHE_SIZE = 8


@dataclass(frozen=True)
class StudyData:
    """A study's events, panel and the provenance of both.

    Attributes
    ----------
    study : Study
    events : pandas.DataFrame
        Canonical events after the study's selection (actors, event types, countries, window).
    panel : pandas.DataFrame
        Zero-filled region x period panel of the selected events.
    boundaries : Boundaries
    inputs : list of dict
        ``path``, ``sha256``, ``source``, ``rows`` per data file.
    manifest : dict
        The ingest manifest: rows read and kept, set aside and quality counts by reason.
    selection : dict
        Rows at each selection step (``ingested``, ``actors``, ``event_types``, ``countries``,
        ``window``, ``in_panel``).
    """

    study: Study
    events: pd.DataFrame
    panel: pd.DataFrame
    boundaries: Boundaries
    inputs: list[dict[str, Any]]
    manifest: dict[str, Any]
    selection: dict[str, int] = field(default_factory=dict)

    @property
    def set_aside(self) -> dict[str, int]:
        """Rows set aside by reason (kept in the events, left out of the panel)."""
        return dict(self.manifest.get("set_aside", {}))

    @property
    def quality(self) -> dict[str, int]:
        """Fixable quality issues by reason (rows kept)."""
        return dict(self.manifest.get("quality_warnings", {}))

    def region_name(self, region_id: str) -> str:
        """Display name of a region."""
        return self.boundaries.name_of(region_id)


def _key(study: Study) -> str:
    files = []
    for path in study.data:
        stat = path.stat()
        files.append([str(path), stat.st_size, stat.st_mtime_ns])
    return json.dumps([files, study.parameters()], sort_keys=True, default=str)


def prepare(study: Study, use_cache: bool = True) -> StudyData:
    """Ingest a study's files and build its panel.

    Parameters
    ----------
    study : Study
        A validated study (see ``analysis.config.load_study``).
    use_cache : bool
        Reuse the result of an earlier call in this process for the same files and study.

    Returns
    -------
    StudyData

    Raises
    ------
    InputError
        When a data file is invalid (every problem named with file, line and column).
    """
    key = _key(study)
    if use_cache and key in _CACHE:
        return _CACHE[key]
    boundaries = load_boundaries(study.boundaries) if study.boundaries else load_boundaries()
    source = None if study.source == "auto" else study.source
    with warnings.catch_warnings():
        # Quality counts are carried in the manifest and shown in reports.
        warnings.simplefilter("ignore")
        result = ingest(study.data, source=source, boundaries=boundaries)
    events = result.events
    selection = {"ingested": len(events)}
    if study.actors:
        events = filter_events(
            events, actors=study.actors, include_predecessors=study.include_predecessors
        )
        selection["actors"] = len(events)
    if study.event_types:
        events = filter_events(events, event_types=study.event_types)
        selection["event_types"] = len(events)
    events = events[events["iso3"].isin(study.countries).fillna(False).to_numpy(bool)]
    selection["countries"] = len(events)
    events = filter_events(events, start=study.start, end=study.end)
    selection["window"] = len(events)
    panel = build_panel(
        events,
        boundaries,
        countries=list(study.countries),
        start=study.start,
        end=study.end,
        freq=study.freq,
    )
    selection["in_panel"] = int(panel["events"].sum())
    data = StudyData(
        study=study,
        events=events.reset_index(drop=True),
        panel=panel,
        boundaries=boundaries,
        inputs=list(result.manifest["inputs"]),
        manifest=result.manifest,
        selection=selection,
    )
    if use_cache:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = data
    return data
