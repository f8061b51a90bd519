"""Progress bars are drawn only on a terminal and never with --quiet; stage timings add up."""

from __future__ import annotations

import io

import pytest

from analysis import progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _reset_quiet():
    yield
    progress.set_quiet(False)


def test_bar_is_silent_when_stderr_is_not_a_terminal(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    assert not progress.enabled()
    assert list(progress.bar(range(3), stage="origins")) == [0, 1, 2]
    assert stream.getvalue() == ""


def test_bar_draws_on_a_terminal_and_names_the_stage(monkeypatch):
    stream = _Terminal()
    monkeypatch.setattr("sys.stderr", stream)
    assert progress.enabled()
    assert sum(progress.bar(range(4), stage="scenarios")) == 6
    assert "scenarios" in stream.getvalue()


def test_quiet_silences_a_terminal(monkeypatch):
    stream = _Terminal()
    monkeypatch.setattr("sys.stderr", stream)
    progress.set_quiet(True)
    assert not progress.enabled()
    list(progress.bar(range(3), stage="fit"))
    assert stream.getvalue() == ""


def test_stage_timer_accumulates_repeated_stages():
    timer = progress.StageTimer()
    with timer.stage("fit"):
        pass
    with timer.stage("fit"):
        pass
    with timer.stage("scenarios"):
        pass
    out = timer.as_dict()
    assert list(out) == ["fit", "scenarios", "total"]
    assert out["total"] == pytest.approx(out["fit"] + out["scenarios"], abs=2e-3)
