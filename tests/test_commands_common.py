"""What every command does with a user's mistake and with Ctrl-C (analysis.commands._common)."""

from __future__ import annotations

import importlib
import sys

import pytest
import typer
from typer.testing import CliRunner

from analysis.commands._common import EXIT_INPUT, EXIT_INTERRUPTED, user_errors
from analysis.errors import InputError, Problem


def _app(raised: BaseException) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    @user_errors
    def run() -> None:
        raise raised

    return app


def test_ctrl_c_is_a_short_message_and_exit_130() -> None:
    result = CliRunner().invoke(_app(KeyboardInterrupt()), [])
    assert result.exit_code == EXIT_INTERRUPTED == 130
    assert result.output.strip() == "interrupted"
    assert "Traceback" not in result.output


def test_bad_input_is_its_message_and_exit_2() -> None:
    error = InputError("bad study", [Problem("s.yaml", None, "end", "a month")])
    result = CliRunner().invoke(_app(error), [])
    assert result.exit_code == EXIT_INPUT
    assert "error: bad study" in result.output and "s.yaml, key 'end'" in result.output


def test_the_fork_server_stopped_while_warming_up_leaves_quietly(monkeypatch) -> None:
    import analysis.report.warmup as warmup

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(warmup, "prepare", interrupted)
    monkeypatch.delitem(sys.modules, "analysis.report.preload", raising=False)
    with pytest.raises(SystemExit) as stopped:
        importlib.import_module("analysis.report.preload")
    assert stopped.value.code == 130
    sys.modules.pop("analysis.report.preload", None)
