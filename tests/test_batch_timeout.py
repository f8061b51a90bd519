"""The timeout bounds a study's preparation too (its data, model fits and backtests, before
any report runs), not only each report's notebook: an unattended batch cannot hang there."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.report import batch, context

sys.path.insert(0, str(Path(__file__).parent))
from test_report_templates import PROBE, write_study  # noqa: E402


def _hang(*args, **kwargs) -> None:
    """A preparation that never ends (a fit stuck in a loop): the forked preparation inherits
    it."""
    time.sleep(600)


@pytest.fixture()
def hanging(tmp_path: Path, demo_dir: Path, monkeypatch) -> tuple[Path, Path]:
    monkeypatch.setenv("CONFLICT_TRENDS_REPORT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(batch, "code_fingerprint", lambda: "fixed")
    monkeypatch.setattr(context, "warm", _hang)
    notebook = tmp_path / "probe.py"
    notebook.write_text(PROBE)
    return notebook, write_study(tmp_path, demo_dir / "demo_acled.csv")


@pytest.mark.timeout(150)
def test_a_hanging_preparation_is_stopped_and_recorded(hanging, tmp_path: Path) -> None:
    """Its reports are not run, their earlier pages are kept, the manifest says why and the
    exit code is 1; the batch ends soon after the timeout."""
    notebook, study = hanging
    out = tmp_path / "out"
    (out / "smoke").mkdir(parents=True)
    (out / "smoke" / "ml-1.html").write_text("<html>an earlier page</html>")
    started = time.perf_counter()
    result = batch.run_batch(
        [study], out, regions=["ML-1", "ML-2"], region_notebook=str(notebook),
        overview_notebook=str(notebook), methods_notebook=None, progress=False, timeout=5,
        preload_results=True,
    )  # fmt: skip
    assert time.perf_counter() - started < 60
    assert result.exit_code == 1
    records = {r["id"]: r for r in result.manifest["reports"]}
    assert set(records) == {"smoke/ml-1", "smoke/ml-2", "smoke/overview"}
    for record in records.values():
        assert record["status"] == "timeout"
        assert "preparing the study" in record["error"] and "after 5 s" in record["error"]
    assert result.unprepared == {str(study.resolve()): records["smoke/ml-1"]["error"]}
    assert (out / "smoke" / "ml-1.html").read_text() == "<html>an earlier page</html>"
    assert sorted(p.name for p in out.rglob("*.html")) == ["index.html", "ml-1.html"]


@pytest.mark.timeout(150)
def test_report_timeout_bounds_the_preparation(hanging, tmp_path: Path) -> None:
    """`report --timeout` had bounded the notebook only: a preparation that hung, hung the
    command."""
    _, study = hanging
    out = tmp_path / "out"
    started = time.perf_counter()
    result = CliRunner().invoke(
        app, ["report", str(study), "--out", str(out), "--timeout", "10", "--no-methods"]
    )
    assert time.perf_counter() - started < 80
    assert result.exit_code == 1, result.output
    assert "timeout" in result.output and "preparing the study" in result.output
    assert not [p for p in out.rglob("*.html") if p.name != "index.html"]


def test_the_timeout_help_says_what_it_bounds() -> None:
    for command in ("report", "batch"):
        shown = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        text = " ".join(shown.output.split())
        assert "preparation" in text, command
