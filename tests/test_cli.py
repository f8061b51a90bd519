"""The command line's help reads as plain text, and every option says what it does."""

from __future__ import annotations

import pytest
import typer.main
from typer.testing import CliRunner

from analysis.cli import app

COMMANDS = sorted(typer.main.get_command(app).commands)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_has_help_text(command):
    cmd = typer.main.get_command(app).commands[command]
    bare = [p.opts[0] for p in cmd.params if p.param_type_name == "option" and not p.help]
    assert not bare, f"{command}: {bare} have no help text"


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_help_is_plain_text(command):
    res = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "100"})
    assert res.exit_code == 0, res.output
    # typer's rich panels printed a type beside each option ("--json <bool>"), read "[lab]" as
    # a markup tag and dropped it, and docstrings' reStructuredText backticks reached the user
    assert "<bool>" not in res.output
    assert "``" not in res.output
    assert "╭" not in res.output


def test_help_keeps_square_brackets():
    res = CliRunner().invoke(app, ["notebook", "--help"], env={"COLUMNS": "100"})
    assert "[lab]" in res.output


def test_version_is_the_installed_distributions():
    """``conflict-trends --version`` and ``analysis.__version__`` (neither existed) give the
    version pip installed, the one pyproject.toml declares."""
    from importlib import metadata

    import analysis

    assert analysis.__version__ == metadata.version("conflict-trends")
    res = CliRunner().invoke(app, ["--version"])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == f"conflict-trends {analysis.__version__}"
    with pytest.raises(AttributeError):
        analysis.no_such_name  # noqa: B018
