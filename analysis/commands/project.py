"""Commands that set up an analyst's project: ``init`` and ``demo-data``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from analysis.commands._common import user_errors


@user_errors
def init_command(
    folder: Annotated[Path, typer.Argument(help="Project folder (created if missing).")],
) -> None:
    """Scaffold a project: studies/ (a commented example), data/raw, data/processed, reports,
    notebooks.

    \f
    Parameters
    ----------
    folder : Path
        The FOLDER argument: the project folder, created if missing; files already there are
        kept.
    """
    from analysis.scaffold import init_project

    result = init_project(folder)
    for path in result.written:
        typer.echo(f"wrote    {path}")
    for path in result.kept:
        typer.echo(f"kept     {path} (exists; not overwritten)")
    typer.echo(f"\nNext, in {folder}: see README.md (demo-data, report, notebook).")


@user_errors
def demo_data_command(
    out: Annotated[
        Path, typer.Argument(help="Folder for the synthetic events and their true parameters.")
    ] = Path("data/raw/demo"),
) -> None:
    """Write the SYNTHETIC demo events (ACLED format) and the parameters they were drawn from.

    \f
    Parameters
    ----------
    out : Path
        The OUT argument: folder for the synthetic events and their true parameters.

    Raises
    ------
    InputError
        If a demo file already in ``out`` holds other content (it is not overwritten).
    """
    from analysis.errors import InputError, Problem
    from analysis.simulate import write_demo

    try:
        paths = write_demo(out)
    except FileExistsError as exc:
        raise InputError(
            "demo data not written",
            [Problem(str(out), None, None, "no other files there", str(exc))],
        ) from None
    for kind, path in paths.items():
        typer.echo(f"{kind:7} {path}")


def register(app: typer.Typer) -> None:
    """Add this stage's commands to app.

    Parameters
    ----------
    app : typer.Typer
        The ``conflict-trends`` application.
    """
    app.command("init")(init_command)
    app.command("demo-data")(demo_data_command)
