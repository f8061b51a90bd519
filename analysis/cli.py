"""The ``conflict-trends`` command line: thin wrappers that parse, call the package and print.

Each pipeline stage registers its commands from ``analysis.commands.<stage>`` so that the
commands of one stage live next to each other and this file stays a table of contents.
"""

from __future__ import annotations

from typing import Annotated

import typer

from analysis.commands import data, forecast, growth, project, report, spillover

app = typer.Typer(
    name="conflict-trends",
    help="Conflict-event panels, growth with intervals, forecasts, spillover risk and reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # click's plain help: typer's rich panels print a type beside every option ("--json
    # <bool>") and read square brackets in help text as markup
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        import analysis

        typer.echo(f"conflict-trends {analysis.__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Conflict-event panels, growth with intervals, forecasts, spillover risk and reports."""


for _module in (project, data, growth, forecast, spillover, report):
    _module.register(app)


def main() -> None:
    """The console entry point: the commands, with SIGTERM treated as an interrupt
    (:func:`analysis.commands._common.stop_on_sigterm`), so that a batch stopped by cron or
    systemd cleans up as after Ctrl-C."""
    from analysis.commands._common import stop_on_sigterm

    stop_on_sigterm()
    app()


if __name__ == "__main__":  # python -m analysis.cli, as the console script
    main()
