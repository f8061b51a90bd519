"""Commands of the data stage: ``ingest``, ``fetch`` and ``panel``."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from analysis.commands._common import EXIT_FAILED, QUIET_HELP, print_json, user_errors
from analysis.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_EVENTS = Path("data/processed/events.parquet")
DEFAULT_PANEL = Path("data/processed/panel.parquet")
DEFAULT_RAW = Path("data/raw")


def manifest_path(out: Path) -> Path:
    """``events.parquet`` -> ``events.parquet.manifest.json``.

    Parameters
    ----------
    out : Path
        The output file.

    Returns
    -------
    Path
        Beside ``out``, in its folder.
    """
    return out.with_name(out.name + ".manifest.json")


@user_errors
def ingest_command(
    files: Annotated[
        list[Path], typer.Argument(help="Raw exports (UCDP GED, ACLED or canonical CSV).")
    ],
    source: Annotated[
        str, typer.Option("--source", help="Format of every file: auto, ucdp, acled or csv.")
    ] = "auto",
    out: Annotated[Path, typer.Option("--out", help="Parquet file to write.")] = DEFAULT_EVENTS,
    boundaries: Annotated[
        Path | None,
        typer.Option("--boundaries", help="Admin-1 boundary file (default: the shipped ones)."),
    ] = None,
    no_geography: Annotated[
        bool, typer.Option("--no-geography", help="Leave iso3 and region_id empty.")
    ] = False,
    drop_extra: Annotated[
        bool,
        typer.Option("--drop-extra", help="Keep only the canonical columns (less memory)."),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help=QUIET_HELP)] = False,
) -> None:
    """Read, validate and combine raw event files into one canonical events table.

    Writes OUT and OUT.manifest.json (inputs with SHA-256, rows read, kept and set aside).
    Nothing is written when any input is invalid (exit code 2). Large files are read in
    batches, with a progress bar on a terminal (stage "ingest", in MB).

    \f
    Parameters
    ----------
    files : list of Path
        The FILES arguments: raw exports to read and combine, in the given order.
    source : str
        The ``--source`` option: format of every file (``auto`` detects each file's).
    out : Path
        The ``--out`` option: events parquet to write; its manifest is written beside it.
    boundaries : Path or None
        The ``--boundaries`` option: admin-1 boundary file that regions are assigned from
        (None: the shipped boundaries); not read with ``no_geography``.
    no_geography : bool
        The ``--no-geography`` flag: assign no region (``iso3`` and ``region_id`` left empty).
    drop_extra : bool
        The ``--drop-extra`` flag: keep only the canonical columns.
    quiet : bool
        The ``--quiet`` flag: no progress bar.
    """
    from analysis import progress
    from analysis.io import atomic_write_json, atomic_write_with, require_writable
    from analysis.sources import require_source
    from analysis.sources.ingest import ingest

    require_source(source, option="--source")  # before the files are read, naming the option
    inputs = [*files, *([boundaries] if boundaries else [])]
    require_writable(out, inputs=inputs)
    require_writable(manifest_path(out), option="--out (its manifest)", inputs=inputs)
    progress.set_quiet(quiet)
    timer = progress.StageTimer()

    bounds = None
    if boundaries is not None and not no_geography:
        from analysis.geography import load_boundaries

        bounds = load_boundaries(boundaries)
    # imported here: pandas and pandera would otherwise load for every `--help`
    from analysis.events import DataQualityWarning

    with warnings.catch_warnings(record=True) as caught, timer.stage("ingest"):
        warnings.simplefilter("always", DataQualityWarning)
        result = ingest(
            files,
            source=None if source == "auto" else source,
            regions="none" if no_geography else "assign",
            boundaries=bounds,
            keep_extra=not drop_extra,
        )
    for warning in caught:
        if issubclass(warning.category, DataQualityWarning):
            typer.echo(f"warning: {warning.message}", err=True)
        else:
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    with timer.stage("write"):
        atomic_write_with(out, lambda tmp: result.events.to_parquet(tmp, index=False))
        manifest = dict(result.manifest, output=str(out))
        if len(result.unresolved):
            manifest["unresolved"] = result.unresolved.head(100).to_dict(orient="records")
        atomic_write_json(manifest_path(out), manifest)
    print_json(
        {
            "out": str(out),
            "manifest": str(manifest_path(out)),
            "rows_read": manifest["rows_read"],
            "rows_kept": manifest["rows_kept"],
            "set_aside": manifest["set_aside"],
            "quality_warnings": manifest["quality_warnings"],
            "date_range": manifest["date_range"],
            "sources": manifest["sources"],
            "timings_s": timer.as_dict(),
        }
    )


@user_errors
def fetch_command(
    dataset: Annotated[str, typer.Argument(help="What to download: ucdp (GED CSV archive).")],
    version: Annotated[str, typer.Option("--version", help="Release, e.g. 25.1.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to download into.")] = DEFAULT_RAW,
    sha256: Annotated[
        str | None, typer.Option("--sha256", help="Expected SHA-256 of the archive.")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="Mirror base URL (env CONFLICT_TRENDS_UCDP_URL)."),
    ] = None,
    retries: Annotated[int, typer.Option("--retries", help="Resumed attempts after a break.")] = 3,
) -> None:
    """Download a UCDP GED CSV release (resumable, zip- and checksum-verified, atomic) and
    unpack its CSV beside the archive, ready for `ingest`.

    \f
    Parameters
    ----------
    dataset : str
        The DATASET argument: what to download; only ``ucdp`` (any case) is known.
    version : str
        The ``--version`` option: UCDP release, e.g. ``25.1``.
    out : Path
        The ``--out`` option: folder the archive is downloaded and its CSV unpacked into.
    sha256 : str or None
        The ``--sha256`` option: expected SHA-256 of the archive (None: not checked).
    base_url : str or None
        The ``--base-url`` option: mirror base URL (None: ``CONFLICT_TRENDS_UCDP_URL``, else
        UCDP's download site).
    retries : int
        The ``--retries`` option: resumed attempts after a broken connection.

    Raises
    ------
    InputError
        If ``dataset`` is not ``ucdp`` or ``version`` is no release like ``25.1``.
    typer.Exit
        With exit code 1 when the download or its verification fails (a
        :class:`~analysis.sources.fetch.DownloadError`, reported on stderr).
    """
    from analysis.io import require_writable
    from analysis.sources.fetch import DownloadError, fetch_ucdp, ucdp_url

    require_writable(out, "folder", raw_allowed=True)  # raw exports are what it downloads
    if dataset.lower() != "ucdp":
        raise InputError(
            "unknown dataset",
            [Problem(None, None, "DATASET", "ucdp (ACLED needs an account)", dataset)],
        )
    ucdp_url(version, base_url, option="--version")  # a bad --version, named as the option
    try:
        result = fetch_ucdp(version, out, sha256=sha256, base_url=base_url, retries=retries)
    except DownloadError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    print_json(
        {
            "path": str(result.path),
            "url": result.url,
            "sha256": result.sha256,
            "bytes": result.bytes,
            "resumed_from": result.resumed_from,
            "attempts": result.attempts,
            "members": result.members,
            "csv": None if result.csv is None else str(result.csv),
        }
    )


def _no_event_selected(
    table: pd.DataFrame,
    actors: list[str] | None,
    event_types: list[str] | None,
    countries: list[str] | None,
    predecessors: bool,
) -> None:
    """Raise an :class:`InputError` naming the filter that selected nothing, with the names
    the data hold (a panel of zeros would read as calm, not as a misspelt actor)."""
    from analysis.events import filter_events
    from analysis.pipeline import closest_actors

    if actors and filter_events(table, actors=actors, include_predecessors=predecessors).empty:
        close = "; ".join(closest_actors(table, list(actors))) or "none"
        problem = Problem(
            None, None, "--actor", "an actor name or pattern that matches events in the data",
            f"{'; '.join(actors)}; closest actor names in the data: {close}",
        )  # fmt: skip
    elif event_types and filter_events(table, event_types=event_types).empty:
        kinds = "; ".join(sorted(table["event_type"].dropna().astype(str).unique())[:10])
        problem = Problem(
            None, None, "--event-type", "event types present in the data",
            f"{'; '.join(event_types)}; event types in the data: {kinds}",
        )  # fmt: skip
    else:
        given = {"--actor": actors, "--event-type": event_types, "--country": countries}
        asked = [f"{option} {v}" for option, values in given.items() for v in values or []]
        problem = Problem(
            None, None, "/".join(o for o, values in given.items() if values),
            "filters that together select at least one event", ", ".join(asked),
        )  # fmt: skip
    raise InputError("the filters select no event", [problem])


@user_errors
def panel_command(
    events: Annotated[Path, typer.Argument(help="Events parquet written by `ingest`.")],
    actor: Annotated[
        list[str] | None,
        typer.Option("--actor", help="Actor name, alias (e.g. JNIM) or regex; repeatable."),
    ] = None,
    country: Annotated[
        list[str] | None, typer.Option("--country", help="Country name or ISO3; repeatable.")
    ] = None,
    event_type: Annotated[
        list[str] | None, typer.Option("--event-type", help="Event type; repeatable.")
    ] = None,
    predecessors: Annotated[
        bool, typer.Option("--predecessors", help="Include predecessor groups of an alias.")
    ] = False,
    freq: Annotated[str, typer.Option("--freq", help="month or quarter.")] = "month",
    start: Annotated[str | None, typer.Option("--start", help="First month, YYYY-MM.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last month, YYYY-MM.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Parquet file to write.")] = DEFAULT_PANEL,
    boundaries: Annotated[
        Path | None, typer.Option("--boundaries", help="Admin-1 boundary file.")
    ] = None,
) -> None:
    """Count events per admin-1 unit and month (or quarter), zero-filled, as parquet.

    \f
    Parameters
    ----------
    events : Path
        The EVENTS argument: events parquet written by ``ingest``.
    actor : list of str or None
        The ``--actor`` options: actor names, aliases or regular expressions to keep.
    country : list of str or None
        The ``--country`` options: country names or ISO3 codes; the panel covers their units.
    event_type : list of str or None
        The ``--event-type`` options: event types to keep.
    predecessors : bool
        The ``--predecessors`` flag: an alias also selects its predecessor groups.
    freq : str
        The ``--freq`` option: ``month`` or ``quarter``.
    start : str or None
        The ``--start`` option: first month, ``YYYY-MM`` (None: that of the first selected event).
    end : str or None
        The ``--end`` option: last month, ``YYYY-MM`` (None: that of the last selected event).
    out : Path
        The ``--out`` option: panel parquet to write.
    boundaries : Path or None
        The ``--boundaries`` option: admin-1 boundary file (None: the shipped boundaries).

    Raises
    ------
    InputError
        If ``freq`` is neither month nor quarter, the window cuts a quarter, ends before it
        starts or lies outside the data, a country is unknown, or the filters select no event.
    """
    import pandas as pd

    from analysis.data_coverage import earliest_event, latest_event, require_window_covered
    from analysis.events import filter_events
    from analysis.formatting import period_label
    from analysis.geography import country_iso3, load_boundaries
    from analysis.io import atomic_write_with, require_writable
    from analysis.panel import build_panel
    from analysis.periods import parse_month, quarter_window_problems

    require_writable(out, inputs=[events, *([boundaries] if boundaries else [])])
    if freq not in ("month", "quarter"):
        raise InputError("bad frequency", [Problem(None, None, "--freq", "month or quarter", freq)])
    if freq == "quarter":
        misaligned = quarter_window_problems(start, end, keys=("--start", "--end"))
        if misaligned:
            raise InputError("window cuts a quarter", misaligned)
    if start and end and parse_month(end, "--end") < parse_month(start, "--start"):
        raise InputError(
            "window ends before it starts",
            [Problem(None, None, "--end", f"a month on or after --start {start}", end)],
        )
    table = _read_events(events)
    first, last = earliest_event(table), latest_event(table)
    require_window_covered(
        start, end, first, last, freq=freq, file=str(events), keys=("--start", "--end"),
        study=False,
    )  # fmt: skip
    # one end given: the default other end is the data's, so the given end may not cross it
    # (an --end before the data began had read "column 'end': expected a month on or after")
    if bool(start) != bool(end):
        require_window_covered(
            end, start, first, last, file=str(events), keys=("--end", "--start"), study=False
        )
    bounds = load_boundaries(boundaries) if boundaries else load_boundaries()
    iso3: list[str] | None = None
    if country:
        codes = country_iso3(pd.Series(country, dtype="string"), bounds)
        unknown = [c for c, code in zip(country, codes, strict=True) if pd.isna(code)]
        if unknown:
            raise InputError(
                "unknown countries",
                [
                    Problem(None, None, "--country", "a country name or ISO3 code", c)
                    for c in unknown
                ],
            )
        iso3 = sorted(set(codes))
        if "iso3" not in table.columns or table["iso3"].isna().all():
            table["iso3"] = country_iso3(table["country"], bounds)
    selected = filter_events(
        table,
        actors=actor or None,
        event_types=event_type or None,
        countries=iso3,
        include_predecessors=predecessors,
    )
    if selected.empty and not table.empty:
        _no_event_selected(table, actor, event_type, iso3, predecessors)
    panel = build_panel(selected, bounds, countries=iso3, start=start, end=end, freq=freq)  # type: ignore[arg-type]
    atomic_write_with(out, lambda tmp: panel.to_parquet(tmp, index=False))
    print_json(
        {
            "out": str(out),
            "rows": len(panel),
            "regions": int(panel["region_id"].nunique()),
            "periods": int(panel["period"].nunique()),
            "freq": freq,
            # a quarterly panel's last period 2024-04-01 is 2024Q2, not April
            "window": [
                period_label(panel["period"].min(), freq) if len(panel) else None,
                period_label(panel["period"].max(), freq) if len(panel) else None,
            ],
            "events_selected": len(selected),
            "events_counted": int(panel["events"].sum()),
            "events_unresolved_region": int(selected["region_id"].isna().sum()),
            "events_outside": panel.attrs.get("events_outside"),
        }
    )


def _read_events(path: Path):  # noqa: ANN202 - pandas frame
    import pandas as pd
    import pyarrow as pa

    from analysis.events import coerce_events

    if not path.exists():
        raise FileNotFoundError(2, "No such file", str(path))
    try:
        table = pd.read_parquet(path)
    except (pa.ArrowInvalid, OSError, ValueError) as exc:
        raise InputError(
            f"{path}: not an events parquet file",
            [
                Problem(
                    str(path),
                    None,
                    None,
                    "a parquet file written by `conflict-trends ingest`",
                    str(exc),
                )
            ],
        ) from None
    missing = [
        c for c in ("event_id", "date_start", "region_id", "country") if c not in table.columns
    ]
    if missing:
        raise InputError(
            f"{path}: not an events table",
            [Problem(str(path), None, c, "a canonical events column") for c in missing],
        )
    return coerce_events(table)


def register(app: typer.Typer) -> None:
    """Add this stage's commands to app.

    Parameters
    ----------
    app : typer.Typer
        The ``conflict-trends`` application.
    """
    app.command("ingest")(ingest_command)
    app.command("fetch")(fetch_command)
    app.command("panel")(panel_command)
