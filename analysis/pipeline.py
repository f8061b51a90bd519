"""From a study to its data: ingest the raw files, select the events, build the panel.

This is the one place where the stages are chained for a study, so that the CLI, the report
notebooks and the batch all see the same numbers. Results are kept in memory per process
(:mod:`analysis.cache`, keyed by the study's parameters and the SHA-256 of its data files'
bytes), which lets a warm report kernel reuse a study's panel across its region reports.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis import cache
from analysis.config import Study, at_study_lines
from analysis.data_coverage import earliest_event, latest_event, require_window_covered
from analysis.errors import InputError, Problem
from analysis.events import acled_violence_only, filter_events
from analysis.formatting import period_label
from analysis.geography import Boundaries, load_boundaries
from analysis.panel import build_panel
from analysis.periods import period_end
from analysis.sources.ingest import ingest

_PREPARED = cache.Memory(8)


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
    coverage : dict
        ISO3 -> the first month (``YYYY-MM``) the data files cover it: the month of the first
        event, of any actor, of a source that reports an event in the country up to the
        study's end (:func:`onset_reference`).
    latest_event : pandas.Timestamp or None
        The day of the data files' latest event, of any actor and country: how far they
        reach (:mod:`analysis.data_coverage`).
    """

    study: Study
    events: pd.DataFrame
    panel: pd.DataFrame
    boundaries: Boundaries
    inputs: list[dict[str, Any]]
    manifest: dict[str, Any]
    selection: dict[str, int] = field(default_factory=dict)
    coverage: dict[str, str] = field(default_factory=dict)
    latest_event: pd.Timestamp | None = None

    def partial_period_note(self, quarter: str | None = None) -> str:
        """The reader's warning where the last period (as of ``quarter``'s end) may hold only
        part of its events (:func:`analysis.data_coverage.partial_period_note`).

        Parameters
        ----------
        quarter : str, optional
            The report's as-of quarter, ``YYYYQn``; None (the default) for the whole panel.

        Returns
        -------
        str
            Empty when the last period is complete or the panel has no period.
        """
        from analysis.as_of import panel_as_of
        from analysis.data_coverage import partial_period_note

        last = pd.to_datetime(panel_as_of(self.panel, quarter)["period"]).max()
        if pd.isna(last):
            return ""
        freq = self.panel.attrs.get("freq", self.study.freq)
        return partial_period_note(last, freq, self.latest_event, self.study.data_through)

    def uncovered_note(self) -> str:
        """The reader's warning where a study country has no event in the data files
        (:func:`analysis.data_coverage.uncovered_countries_note`)."""
        from analysis.data_coverage import uncovered_countries_note

        regions = self.boundaries.regions
        names = dict(zip(regions["country"], regions["country_name"], strict=True))
        return uncovered_countries_note(list(self.study.countries), self.coverage, names)

    def unknown_countries_note(self) -> str:
        """The reader's note where events named a country the boundaries do not know and
        were counted by where they lie (:func:`analysis.data_coverage.unknown_countries_note`)."""
        from analysis.data_coverage import unknown_countries_note

        regions = self.boundaries.regions
        names = dict(zip(regions["country"], regions["country_name"], strict=True))
        return unknown_countries_note(self.manifest.get("unknown_countries", []), names)

    def coverage_notes(self) -> list[str]:
        """The notes on what the data files hold that every command prints and every banner
        shows: countries without events (:meth:`uncovered_note`) and events counted by where
        they lie because their country was unknown (:meth:`unknown_countries_note`)."""
        return [n for n in (self.uncovered_note(), self.unknown_countries_note()) if n]

    @property
    def set_aside(self) -> dict[str, int]:
        """Rows set aside by reason (kept in the events, left out of the panel)."""
        return dict(self.manifest.get("set_aside", {}))

    @property
    def quality(self) -> dict[str, int]:
        """Fixable quality issues by reason (rows kept)."""
        return dict(self.manifest.get("quality_warnings", {}))

    def region_name(self, region_id: str) -> str:
        """Display name of a region.

        Parameters
        ----------
        region_id : str
            An ISO 3166-2 code of the study's boundaries.

        Returns
        -------
        str

        Raises
        ------
        KeyError
            When the boundaries have no such unit.
        """
        return self.boundaries.name_of(region_id)


def _key(study: Study) -> cache.Key:
    parameters = json.dumps(study.parameters(), sort_keys=True, default=str)
    return cache.Key(
        "prepared",
        study=parameters,
        data_sha256=cache.data_sha256(study.data_files()),
        version=cache.version(),
    )


#: Selection steps in the order applied, with the study key each comes from.
_FILTERS = {
    "actors": "actors",
    "event_types": "event_types",
    "acled_violence": "event_types",
    "countries": "countries",
    "window": "start/end",
    "in_panel": "countries (no event placed in an admin-1 unit of them)",
}


def closest_actors(events: pd.DataFrame, wanted: list[str], n: int = 5) -> list[str]:
    """Actor names in the data closest to the names a study asked for (difflib ratio).

    Parameters
    ----------
    events : pandas.DataFrame
        Events with any of ``actor1``, ``actor2``, ``assoc_actor_1``, ``assoc_actor_2``.
    wanted : list of str
        The actor names the study gave.
    n : int, optional
        Most names returned; 5 by default.

    Returns
    -------
    list of str
        Matching built-in aliases first (marked "(a built-in alias)"), then names as the data
        write them; empty when nothing is close.
    """
    import difflib

    names: dict[str, str] = {}
    for column in ("actor1", "actor2", "assoc_actor_1", "assoc_actor_2"):
        if column in events.columns:
            for name in events[column].dropna().unique():
                names.setdefault(str(name).lower(), str(name))
    from analysis.events import ACTOR_ALIASES

    found: list[str] = []
    # the aliases a study can name ("Boko Haram" matches JAS's names in UCDP) first: "Boko
    # Harm" had been offered "Torma; Birom; Kounta", and never the alias it misspelt
    aliases = {k.lower(): k for k in ACTOR_ALIASES}
    for item in wanted:
        for key in difflib.get_close_matches(str(item).lower(), list(aliases), n=1, cutoff=0.6):
            found.append(f"{aliases[key]} (a built-in alias)")
    for item in wanted:
        for key in difflib.get_close_matches(str(item).lower(), list(names), n=n, cutoff=0.3):
            if names[key] not in found:
                found.append(names[key])
    if not found:  # a short alias inside longer names ("JNIM" in "JNIM: Group for ...")
        for item in wanted:
            found += [v for k, v in names.items() if str(item).lower()[:4] in k][:n]
    return found[:n]


def _require_events(study: Study, ingested: pd.DataFrame, selection: dict[str, int]) -> None:
    """Stop with the filter that selected nothing, rather than forecast exactly zero."""
    if selection.get("in_panel", 0) > 0:
        return
    empty = next((step for step in _FILTERS if selection.get(step, 1) == 0), "in_panel")
    key = _FILTERS[empty]
    file = str(study.path) if study.path else None
    if empty == "actors":
        close = closest_actors(ingested, list(study.actors))
        found = f"{study.actors}; closest actor names in the data: " + (
            "; ".join(close) if close else "none"
        )
        expected = "an actor name or pattern that matches events in the data"
    elif empty == "event_types":
        types = sorted(ingested["event_type"].dropna().unique().astype(str))[:10]
        found = f"{study.event_types}; event types in the data: {'; '.join(types)}"
        expected = "event types present in the data"
    elif empty == "acled_violence":
        types = sorted(ingested["event_type"].dropna().unique().astype(str))[:10]
        found = (
            "[] (ACLED events are then its political violence alone, and the selected ones "
            f"are all of other types); event types in the data: {'; '.join(types)}"
        )
        expected = "event types to count, named when they are not ACLED's political violence"
    elif empty == "window":
        dates = ingested["date_start"].dropna()
        found = f"{study.start} to {study.end}; the selected events run " + (
            f"{dates.min():%Y-%m} to {dates.max():%Y-%m}" if len(dates) else "nowhere"
        )
        expected = "a window that contains selected events"
    else:
        found = str(study.countries)
        expected = "countries with selected events placed in their admin-1 units"
    raise InputError(
        "the study selects no event",
        [Problem(file, None, key, expected, found)],
    )


def prepare(study: Study, use_cache: bool = True) -> StudyData:
    """Ingest a study's files and build its panel.

    Parameters
    ----------
    study : Study
        A validated study (see ``analysis.config.load_study``).
    use_cache : bool
        Reuse the result of an earlier call in this process for the same study and data bytes.

    Returns
    -------
    StudyData

    Raises
    ------
    InputError
        When a data file is invalid (every problem named with file, line and column), or
        when the study's filters select no event (naming the filter, and the closest actor
        names in the data when it is ``actors``).
    """
    try:
        if use_cache:
            return cache.memo(_key(study), lambda: _prepare(study), memory=_PREPARED)
        return _prepare(study)
    except InputError as exc:
        raise at_study_lines(exc, study) from None


def _prepare(study: Study) -> StudyData:
    boundaries = load_boundaries(study.boundaries) if study.boundaries else load_boundaries()
    source = None if study.source == "auto" else study.source
    with warnings.catch_warnings():
        # Quality counts are carried in the manifest and shown in reports; unknown country
        # names too, which commands and banners state (StudyData.unknown_countries_note)
        warnings.simplefilter("ignore")
        result = ingest(study.data, source=source, boundaries=boundaries)
    events = result.events
    latest = latest_event(events)
    file = str(study.path) if study.path else None
    require_window_covered(
        study.start,
        study.end,
        earliest_event(events),
        latest,
        data_from=study.data_from,
        data_through=study.data_through,
        freq=study.freq,
        file=file,
    )
    selection = {"ingested": len(events)}
    # up to the study's end: which countries the onset model learns from may not depend on
    # events the study has not reached
    coverage = _coverage(filter_events(events, end=study.end))
    if study.actors:
        events = filter_events(
            events, actors=study.actors, include_predecessors=study.include_predecessors
        )
        selection["actors"] = len(events)
    if study.event_types:
        events = filter_events(events, event_types=study.event_types)
        selection["event_types"] = len(events)
    elif events["source"].str.lower().eq("acled").any():
        # ACLED's strategic developments and demonstrations are not attacks: without a choice
        # of types a study of ACLED data counts its political violence, and the data table
        # says how many rows that left out (a study without ACLED rows has no such row)
        events = acled_violence_only(events)
        selection["acled_violence"] = len(events)
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
    _require_events(study, result.events, selection)
    data = StudyData(
        study=study,
        events=events.reset_index(drop=True),
        panel=panel,
        boundaries=boundaries,
        inputs=list(result.manifest["inputs"]),
        manifest=result.manifest,
        selection=selection,
        coverage=coverage,
        latest_event=latest,
    )
    return data


def _coverage(events: pd.DataFrame) -> dict[str, str]:
    """First month each ISO3 country is covered by the data files (events without ISO3 left
    out): the first event of any source that has an event in the country.

    A country is covered from its source's first event, not from its own: a quiet country is
    quiet, not missing, and the months before its own first event are the onset the model must
    learn (Burkina Faso's first UCDP event is in 2016; in the demo, Senegal's in 2020). A
    source that added a country later than its first event elsewhere (ACLED extended its
    coverage region by region) makes that country look quiet before it was covered; the
    shipped boundaries hold eleven West African countries, which UCDP covers from 1989 and
    ACLED from 1997.
    """
    known = events.dropna(subset=["iso3", "date_start"])
    if known.empty:
        return {}
    first: dict[str, pd.Timestamp] = {}
    for _, rows in known.groupby("source"):
        start = rows["date_start"].min()
        for iso in rows["iso3"].unique():
            first[str(iso)] = min(start, first.get(str(iso), start))
    return {iso: f"{day:%Y-%m}" for iso, day in sorted(first.items())}


def onset_reference(data: StudyData) -> Any:
    """The study's selection in every unit of every country its data files cover (and every
    country of the study), from the files' first month to the study's end: the onset model's
    training rows (:class:`analysis.models.onset_reference.OnsetReference`).

    A country is covered from the first event of the source that reports it
    (:attr:`StudyData.coverage`); a study country without any event in the files is covered
    from the files' first month, as the study asserts it is covered. Returns None when no
    country of the files is in the study's boundaries.

    Parameters
    ----------
    data : StudyData
        The prepared study.

    Returns
    -------
    OnsetReference or None
    """
    from analysis.models.onset_reference import onset_reference_from_panel

    study = data.study
    known = set(data.boundaries.regions["country"].astype(str))
    coverage = {c: m for c, m in data.coverage.items() if c in known}
    if not coverage:
        return None
    first = min(coverage.values())
    coverage = {**{c: first for c in study.countries if c in known}, **coverage}
    covered = sorted(coverage)
    wide = study.model_copy(
        update={
            "countries": covered,
            "start": min(first, study.start),
            "focus": [],
            "spillover_targets": [],
            "compare": [],
        }
    )
    return cache.memo(
        _key(wide),
        lambda: onset_reference_from_panel(
            prepare(wide).panel, data.boundaries, coverage, quiet=study.quiet_periods
        ),
        memory=_REFERENCES,
    )


_REFERENCES = cache.Memory(4)


def study_model(name: str, data: StudyData, horizon: int, origin: Any = None) -> Any:
    """A registered model built with the study's context: its geography, focus and horizon
    and, for the models that take one (``auto``), the onset reference (:func:`onset_reference`);
    the spillover model with the endemic effects and trend damping the study chooses
    (:func:`spillover_settings`, on the panel up to ``origin``).

    Every command and report builds its models here, so they see the same forecaster:
    ``forecast --model spillover`` had used the model's defaults while ``spillover`` and
    the reports used the study's choice, and gave other numbers for the same region.

    Parameters
    ----------
    name : str
        A registered model (``conflict-trends models`` lists them).
    data : StudyData
        The prepared study.
    horizon : int
        Forecast steps, in the study's periods.
    origin : pandas.Timestamp, optional
        Last period the spillover model's settings are chosen on (anything
        :class:`pandas.Timestamp` reads); None (the default) for the whole panel. Other models
        ignore it.

    Returns
    -------
    Forecaster

    Raises
    ------
    InputError
        When ``name`` is not a registered model.
    """
    from analysis.models.registry import CONTEXT, get

    extra: dict[str, Any] = {}
    if "onset_reference" in CONTEXT.get(name, ()):
        extra["onset_reference"] = onset_reference(data)
    if name == "spillover":
        extra.update(spillover_settings(data, horizon, origin))
    return get(
        name, boundaries=data.boundaries, focus=list(data.study.focus), horizon=horizon, **extra
    )


def spillover_settings(data: StudyData, horizon: int, origin: Any = None) -> dict[str, Any]:
    """``endemic_effects`` and ``damping`` of the study's spillover model, as rolling-origin
    CRPS chooses them on the panel up to ``origin`` (the ``spillover`` command's default
    choice, :func:`analysis.models.spillover_select.choose_spillover`). Cached per study,
    horizon and origin.

    Parameters
    ----------
    data : StudyData
        The prepared study.
    horizon : int
        Forecast steps, in the study's periods.
    origin : pandas.Timestamp, optional
        Last period of the panel the choice sees (anything :class:`pandas.Timestamp` reads);
        None (the default) for the whole panel.

    Returns
    -------
    dict
        ``endemic_effects`` and ``damping``, as keyword arguments of the spillover model.
    """
    import pandas as pd

    from analysis.models.spillover_select import choose_spillover

    study = data.study
    panel = data.panel
    if origin is not None:
        panel = panel[pd.to_datetime(panel["period"]) <= pd.Timestamp(origin)]

    def choose() -> dict[str, Any]:
        choice = choose_spillover(
            panel, boundaries=data.boundaries, focus=list(study.focus), horizon=horizon,
            seed=study.seed,
        )  # fmt: skip
        return {"endemic_effects": choice.endemic_effects, "damping": choice.damping}

    key = dataclasses.replace(_key(study), kind="spillover_settings", extra=(horizon, str(origin)))
    return cache.memo(key, choose, memory=_SPILLOVER_SETTINGS, disk=True)


_SPILLOVER_SETTINGS = cache.Memory(8)


def forecast_history_needed(horizon: int = 12) -> int:
    """Periods of history the ``auto`` forecaster needs to choose its model out of sample.

    It scores candidates by rolling-origin CRPS on inner origins with at least ``min_train``
    periods before them and ``horizon`` observed periods after; with less, the choice would
    be a default rather than evidence.

    Parameters
    ----------
    horizon : int, optional
        Forecast steps; 12 by default.

    Returns
    -------
    int
        ``auto``'s ``min_train`` (24 when it has none) plus ``horizon``.
    """
    from analysis.models.registry import get

    auto = get("auto", horizon=horizon)
    return int(getattr(auto, "min_train", 24)) + int(horizon)


def check_origin(
    panel: pd.DataFrame, study: Study, origin: pd.Timestamp | None, option: str = "--origin"
) -> pd.Timestamp | None:
    """Refuse a forecast origin outside the study's periods, rather than cut at the nearest.

    Parameters
    ----------
    panel : pandas.DataFrame
        The study's panel (:attr:`StudyData.panel`).
    study : Study
    origin : pandas.Timestamp or None
        The first day of the last month the model sees (None: the study's end).
    option : str
        The option that gave ``origin``, for the message.

    Returns
    -------
    pandas.Timestamp or None
        ``origin``.

    Raises
    ------
    InputError
        When ``origin`` is after the month the panel's last period ends in (a forecast from
        it would silently start at the last period) or before its first period.
    """
    if origin is None:
        return None
    origin = pd.Timestamp(origin)
    freq = panel.attrs.get("freq", study.freq)
    periods = pd.to_datetime(panel["period"])
    first, last = periods.min(), periods.max()
    file = str(study.path) if study.path else None
    if origin >= period_end(last, freq):
        raise InputError(
            f"{option} is after the data's last period",
            [
                Problem(
                    file,
                    None,
                    option,
                    f"a month up to the data's last period, {period_label(last, freq)} "
                    f"(the study's end, which the data files must reach)",
                    f"{origin:%Y-%m}",
                )
            ],
        )
    if origin < first:
        raise InputError(
            f"{option} is before the data's first period",
            [
                Problem(
                    file,
                    None,
                    option,
                    f"a month from the data's first period, {period_label(first, freq)}, on",
                    f"{origin:%Y-%m}",
                )
            ],
        )
    return origin


def require_history(
    panel: pd.DataFrame,
    study: Study,
    what: str = "a forecast",
    origin: pd.Timestamp | None = None,
    option: str = "--origin",
    horizon: int | None = None,
    rule: tuple[int, str] | None = None,
) -> None:
    """Refuse ``what`` when the study's panel, or its history up to ``origin``, is shorter
    than the forecaster needs.

    Parameters
    ----------
    panel : pandas.DataFrame
        The study's panel.
    study : Study
    what : str
        What is refused, for the message.
    origin : pandas.Timestamp, optional
        The last month the forecaster sees (see :func:`check_origin`): the rule applies to
        the periods up to it, as it would to a study that ended there.
    option : str
        The option that gave ``origin``, for the message.
    horizon : int, optional
        Periods ahead (default: the study's horizon).
    rule : (int, str), optional
        Periods needed and why, for a forecaster other than ``auto`` (default: ``auto``'s,
        :func:`forecast_history_needed`).

    Raises
    ------
    InputError
        Naming the study's window (or ``option``), the periods it has and the periods needed.
    """
    h = study.horizon if horizon is None else horizon
    freq = panel.attrs.get("freq", study.freq)
    if rule is None:
        need = forecast_history_needed(h)
        why = (
            f"the forecaster is chosen by out-of-sample scores at steps 1-{h} on "
            f"origins with {need - h} {freq}s before them"
        )
    else:
        need, why = rule
    periods = pd.to_datetime(panel["period"])
    file = str(study.path) if study.path else None
    have = int(periods.nunique())
    if have < need:
        span = f"{study.start} to {study.end}"
        if have:  # a report as of an earlier quarter sees a shorter panel: say which periods
            last = pd.Period(periods.max(), "Q" if freq == "quarter" else "M").asfreq("M", "end")
            if last < pd.Period(study.end, "M"):
                span = f"{study.start} to {last}, up to the report's as-of quarter"
        raise InputError(
            f"the study's history is too short for {what}",
            [
                Problem(
                    file,
                    None,
                    "start/end",
                    f"at least {need} {freq}s of history ({why})",
                    f"{have} {freq}s ({span})",
                )
            ],
        )
    if origin is None:
        return
    cut = periods[periods <= pd.Timestamp(origin)]
    have = int(cut.nunique())
    if have >= need:
        return
    earliest = sorted(periods.unique())[need - 1]
    raise InputError(
        f"the history up to {option} is too short for {what}",
        [
            Problem(
                file,
                None,
                option,
                f"at least {need} {freq}s of history up to the origin ({why}): an origin "
                f"from {period_label(pd.Timestamp(earliest), freq)} on",
                f"{pd.Timestamp(origin):%Y-%m}: {have} {freq}s of history "
                f"(from {period_label(periods.min(), freq)})",
            )
        ],
    )
