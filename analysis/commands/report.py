"""Commands of the report stage: ``report``, ``batch`` and ``notebook``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from analysis.commands._common import QUIET_HELP, user_errors, warn_coverage_notes

DEFAULT_OUT = Path("reports")


#: ``--quarter`` of the report commands.
QUARTER_HELP = "YYYYQn: reports as of that quarter's end."

#: ``--timeout`` of the report commands (analysis.report.batch.prepare_study).
TIMEOUT_HELP = (
    "Seconds each report, and each study's preparation before its reports (data, model "
    "fits, backtests), may take; past it, that step is stopped (timeout) and the exit code is 1."
)


@user_errors
def report_command(
    study: Annotated[Path, typer.Argument(help="Study YAML file.")],
    region: Annotated[
        list[str] | None,
        typer.Option("--region", help="Region (ISO 3166-2 or name); repeatable. Default: focus."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = DEFAULT_OUT,
    timeout: Annotated[float, typer.Option("--timeout", min=1.0, help=TIMEOUT_HELP)] = 600.0,
    methods: Annotated[
        bool,
        typer.Option("--methods/--no-methods", help="Also render the methods appendix it links."),
    ] = True,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also print each page to PDF (needs Chromium).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help=QUIET_HELP)] = False,
    quarter: Annotated[str | None, typer.Option("--quarter", help=QUARTER_HELP)] = None,
) -> None:
    """Render region reports of one study to OUT/<study>/<region>.html (and the .ipynb),
    with the study's methods appendix (OUT/<study>/methods.html) they link to; with
    --quarter, as of that quarter's end, into OUT/<quarter>/<study>/ as batch does.

    \f
    Parameters
    ----------
    study : Path
        The STUDY argument: the study file.
    region : list of str or None
        The ``--region`` options: regions to report on (None: the study's focus).
    out : Path
        The ``--out`` option: output root folder.
    timeout : float
        The ``--timeout`` option: seconds the study's preparation and each report may take.
    methods : bool
        The ``--methods/--no-methods`` flag: also render the methods appendix.
    pdf : bool
        The ``--pdf`` flag: also print each page to PDF (needs Chromium).
    quiet : bool
        The ``--quiet`` flag: no progress bar.
    quarter : str or None
        The ``--quarter`` option: ``YYYYQn``, reports as of that quarter's end.

    Raises
    ------
    typer.Exit
        Always, at the end: with the batch's exit code (0 when every report is ok, 1 if one
        failed), or 1 when the study's preparation was stopped (nothing written).
    """
    from analysis import progress
    from analysis.config import load_study
    from analysis.io import require_writable
    from analysis.report import context
    from analysis.report.batch import PreparationStopped, output_folder, prepare_study, run_batch

    quarter = _quarter_option(quarter)
    require_writable(output_folder(out, quarter), "folder")
    progress.set_quiet(quiet)
    loaded = load_study(study)
    _check_quarter(loaded, quarter)
    # a region of the study's countries, checked here: outside them a report would fail
    asked = (
        [context.study_region(loaded, r, option="--region") for r in region]
        if region
        else list(loaded.focus)
    )
    regions = list(dict.fromkeys(asked))
    if pdf:
        from analysis.report.pdf import html_to_pdf, require_chromium

        require_chromium()  # before any work: say what is missing
    # before any report runs: bad input is a message and exit 2, not failed reports; bounded
    # as the reports are (the data are prepared in a fork, stopped after --timeout)
    try:
        prepare_study(loaded.path, timeout=timeout)
    except PreparationStopped as exc:
        typer.echo(f"error: {exc.message}; nothing was written", err=True)
        raise typer.Exit(1) from None
    # read back from the disk cache the preparation filled; a single report's fork inherits it
    warn_coverage_notes(context.load(loaded.path).data)
    result = run_batch(
        [study],
        out,
        workers=1,
        force=True,
        regions=regions,
        overview=False,
        methods_notebook="methods" if methods else None,
        timeout=timeout,
        quarter=quarter,
        raise_input_errors=True,  # nothing written on bad input, as for every command
    )
    for entry in result.manifest["reports"]:
        if entry.get("from_earlier_batch"):
            continue
        typer.echo(f"{entry['status']:8} {result.out / (entry['html'] or entry['id'])}")
        if entry.get("kept_html"):
            typer.echo(f"{'kept':8} {result.out / entry['kept_html']}")
        if entry["error"]:
            typer.echo(f"         {entry['error']}", err=True)
        elif pdf:
            typer.echo(f"{'pdf':8} {html_to_pdf(result.out / entry['html'])}")
    raise typer.Exit(result.exit_code)


@user_errors
def batch_command(
    studies: Annotated[list[Path], typer.Argument(help="Study YAML files.")],
    quarter: Annotated[str | None, typer.Option("--quarter", help=QUARTER_HELP)] = None,
    workers: Annotated[int, typer.Option("--workers", help="Reports at once (local).")] = 2,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Output root folder.")] = DEFAULT_OUT,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Rerun unchanged reports too, and replace the reports of another study file "
            "with the same name in --out.",
        ),
    ] = False,
    regions: Annotated[
        str, typer.Option("--regions", help="neighbours (focus + neighbours), focus or all.")
    ] = "neighbours",
    timeout: Annotated[float, typer.Option("--timeout", min=1.0, help=TIMEOUT_HELP)] = 600.0,
    quiet: Annotated[bool, typer.Option("--quiet", help=QUIET_HELP)] = False,
) -> None:
    """Render every region report and the overview of each study, with index and manifest
    (per-report stage timings in the manifest). A study whose file or data are invalid runs
    none of its reports (their pages are kept; the manifest says "input error") and makes
    the exit code 2; a failed report makes it 1.

    \f
    Parameters
    ----------
    studies : list of Path
        The STUDIES arguments: the study files.
    quarter : str or None
        The ``--quarter`` option: ``YYYYQn``, reports as of that quarter's end, in their own
        folder.
    workers : int
        The ``--workers`` option: reports rendered at once on this machine, at least 1.
    scheduler : str or None
        The ``--scheduler`` option: Dask scheduler address (None: local workers).
    out : Path
        The ``--out`` option: output root folder.
    force : bool
        The ``--force`` flag: rerun unchanged reports, and replace the reports of another
        study file of the same name.
    regions : str
        The ``--regions`` option: ``neighbours`` (focus and neighbours), ``focus`` or ``all``.
    timeout : float
        The ``--timeout`` option: seconds each study's preparation and each report may take.
    quiet : bool
        The ``--quiet`` flag: no progress bar.

    Raises
    ------
    typer.Exit
        Always, at the end: with the batch's exit code (0 when every report is ok or unchanged,
        2 if a study's inputs are invalid, else 1 if a report failed), or 2 when ``workers`` is
        below 1.
    """
    from analysis import progress
    from analysis.io import require_writable
    from analysis.report.batch import INPUT_ERROR, PREPARATION, output_folder, run_batch
    from analysis.report.plan import require_region_mode

    quarter = _quarter_option(quarter)
    # before the output folder is made: a misspelt option is no study's input error
    require_region_mode(regions, option="--regions")
    require_writable(output_folder(out, quarter), "folder")
    progress.set_quiet(quiet)
    if workers < 1:
        typer.echo("error: --workers must be at least 1", err=True)
        raise typer.Exit(2)
    result = run_batch(
        studies,
        out,
        quarter=quarter,
        workers=workers,
        scheduler=scheduler,
        force=force,
        replace_other_studies=force,
        regions=regions,
        timeout=timeout,
        # once per study, before its reports run (not once per report, nor in their pages
        # alone): a country without events reads as a quiet one
        on_note=lambda study, note: typer.echo(f"warning: {study}: {note}", err=True),
    )
    counts = ", ".join(f"{n} {status}" for status, n in result.manifest["counts"].items())
    typer.echo(f"{counts or 'no reports'} in {result.manifest['wall_seconds']:.1f} s")
    typer.echo(f"index: {result.index}")
    for study, error in result.input_errors.items():
        # once per study (not per report): its reports were not run, their pages kept
        typer.echo(
            f"error: {study}: its reports were not run (earlier pages kept): {error}", err=True
        )
    for study, error in result.unprepared.items():
        typer.echo(
            f"error: {study}: its reports were not run (earlier pages kept): {error}", err=True
        )
    for entry in result.failed:
        if entry["status"] != INPUT_ERROR and entry.get("stage") != PREPARATION:
            typer.echo(f"{entry['status']}: {entry['id']}: {entry['error']}", err=True)
    raise typer.Exit(result.exit_code)


LAB_MISSING = (
    "JupyterLab is not installed, so the notebook was written but not opened. "
    "Install it with: pip install 'conflict-trends[lab]'"
)


def lab_command(notebook: Path) -> list[str] | None:
    """The command that opens ``notebook`` in JupyterLab, or None without the [lab] extra.

    Parameters
    ----------
    notebook : Path
        The notebook to open.

    Returns
    -------
    list of str or None
        The argument list (this Python's ``-m jupyterlab`` and the notebook).
    """
    import importlib.util
    import sys

    if importlib.util.find_spec("jupyterlab") is None:
        return None
    return [sys.executable, "-m", "jupyterlab", str(notebook)]


@user_errors
def notebook_command(
    study: Annotated[Path, typer.Argument(help="Study YAML file.")],
    region: Annotated[
        str | None, typer.Option("--region", help="Region (ISO 3166-2 or name). Default: focus.")
    ] = None,
    template: Annotated[
        str, typer.Option("--template", help="region_report, overview or methods.")
    ] = "region_report",
    out: Annotated[Path | None, typer.Option("--out", help="Notebook to write (.ipynb).")] = None,
    open_lab: Annotated[
        bool, typer.Option("--open/--no-open", help="Open it in JupyterLab ([lab] extra).")
    ] = True,
    quarter: Annotated[str | None, typer.Option("--quarter", help=QUARTER_HELP)] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the notebook if it exists (edits are lost).")
    ] = False,
) -> None:
    """Write a parameterized copy of a report notebook and open it in JupyterLab. A notebook
    that exists is opened as it is, with the analyst's edits; --force writes a fresh copy.

    \f
    Parameters
    ----------
    study : Path
        The STUDY argument: the study file.
    region : str or None
        The ``--region`` option: the notebook's region (None: the study's first focus region).
    template : str
        The ``--template`` option: ``region_report``, ``overview``, ``methods`` or a notebook
        file.
    out : Path or None
        The ``--out`` option: notebook to write, ``*.ipynb`` (None: under ``notebooks/``, named
        after the study, region, template and quarter).
    open_lab : bool
        The ``--open/--no-open`` flag: open the notebook in JupyterLab (this process is
        replaced by it).
    quarter : str or None
        The ``--quarter`` option: ``YYYYQn``, the notebook as of that quarter's end.
    force : bool
        The ``--force`` flag: replace an existing notebook with a fresh copy.
    """
    import os

    from analysis.config import load_study
    from analysis.io import require_writable
    from analysis.report.context import study_region
    from analysis.report.run import notebook_path, slugify, write_parameterized

    notebook_path(template, option="--template")  # an unknown template stops before the rest
    quarter = _quarter_option(quarter)
    loaded = load_study(study)
    if out is not None:
        require_writable(out, inputs=loaded.input_files())
        _require_notebook_name(out)
    _check_quarter(loaded, quarter)
    code = study_region(loaded, region, option="--region")
    # the overview and the methods appendix cover the whole study: no region in their name
    part = f"{slugify(code)}-" if Path(template).stem == "region_report" else ""
    as_of = f"-{quarter.lower()}" if quarter else ""
    name = f"{loaded.slug}-{part}{slugify(Path(template).stem)}{as_of}.ipynb"
    target = out or Path("notebooks") / name
    if out is None:  # a folder in its place had ended in a traceback (IsADirectoryError)
        require_writable(target, inputs=loaded.input_files())
    # before the data are read: what is at the path decides whether there is anything to do
    keep = target.is_file() and not force
    if keep:
        _require_readable_notebook(target)
    # the data the notebook will read, checked as `report` checks them (a window past the
    # data's reach had given a notebook and exit 0 where every other command refused)
    from analysis.report import context

    # a shipped template forecasts, and its first cell stops where the history as of the
    # quarter is too short: checked here, as `report` checks it (the notebook had been written,
    # exit 0, and failed when run)
    from analysis.report.assets import TEMPLATES

    shipped = template in TEMPLATES  # a name, not a notebook file of the analyst's
    warn_coverage_notes(context.check(loaded.path, forecasts=shipped, quarter=quarter).data)
    parameters = {"study": str(study), "region": code}
    if quarter:
        parameters["quarter"] = quarter
    if keep:
        path = target
        typer.echo(f"kept {path}: it exists and may hold edits (--force replaces it)", err=True)
    else:
        path = write_parameterized(template, parameters, target)
    typer.echo(str(path))
    if not open_lab:
        return
    command = lab_command(path)
    if command is None:
        typer.echo(LAB_MISSING, err=True)
        return
    # JupyterLab takes over this process; its server stops with Ctrl-C as usual.
    os.execv(command[0], command)


def _require_notebook_name(out: Path) -> None:
    """``--out`` names a notebook (``*.ipynb``), checked before any work: a text file there
    had been "kept" as the analyst's notebook, and opened in JupyterLab as one."""
    from analysis.errors import InputError, Problem

    if out.suffix == ".ipynb":
        return
    if out.exists():
        found = f"{out.name}, an existing file that is not a notebook"
    else:
        found = out.name
    raise InputError(
        f"cannot write --out {out}",
        [Problem(str(out), None, "--out", "a notebook file ending in .ipynb", found)],
    )


def _require_readable_notebook(path: Path) -> None:
    """An existing ``.ipynb`` kept (and opened) as the analyst's notebook must read as one; a
    file that does not is an ``InputError`` that asks for ``--force`` to replace it."""
    import nbformat

    from analysis.errors import InputError, Problem

    try:
        nbformat.read(path, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for a non-notebook
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            f"{path} exists and is not a notebook",
            [Problem(str(path), None, "--out", "a notebook to open, or --force to replace "
                     "the file with a fresh one", f"a file nbformat cannot read ({reason})")],
        ) from None  # fmt: skip


def _quarter_option(quarter: str | None) -> str | None:
    """``--quarter`` normalised to ``YYYYQn`` (None if not given); a value that is no quarter
    stops naming the option, not a "column 'quarter'"."""
    from analysis.periods import validate_quarter

    return validate_quarter(quarter, "--quarter") if quarter else None


def _check_quarter(study, quarter: str | None) -> None:
    """A quarter the study's months cover, checked before any work (exit 2)."""
    if not quarter:
        return
    from analysis.as_of import require_quarter_within

    require_quarter_within(
        _quarter_option(quarter), study.start, study.end, str(study.path), "--quarter"
    )


def register(app: typer.Typer) -> None:
    """Add this stage's commands to app.

    Parameters
    ----------
    app : typer.Typer
        The ``conflict-trends`` application.
    """
    app.command("report")(report_command)
    app.command("batch")(batch_command)
    app.command("notebook")(notebook_command)
