"""A study country without events in the data files is said once by `batch`, and in every
report's banner, as `report` and the other commands say it."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.report import batch

sys.path.insert(0, str(Path(__file__).parent))
from test_report_templates import PROBE, write_study  # noqa: E402

#: The start of :func:`analysis.data_coverage.uncovered_countries_note`'s sentence.
NOTE = "The data files hold no event, of any actor, in Guinea (GIN)"


@pytest.fixture()
def guinea(tmp_path: Path, demo_dir: Path, monkeypatch) -> Path:
    """The smoke study with Guinea among its countries: the demo data hold no event there."""
    monkeypatch.setenv("CONFLICT_TRENDS_REPORT_CACHE", str(tmp_path / "cache"))
    study = write_study(tmp_path, demo_dir / "demo_acled.csv")
    text = study.read_text()
    study.write_text(text.replace("Mauritania, Senegal]", "Mauritania, Senegal, Guinea]"))
    return study


def test_batch_warns_once_of_a_country_without_events(guinea: Path, tmp_path: Path, monkeypatch):
    notebook = tmp_path / "probe.py"
    notebook.write_text(PROBE)
    # the batch command with probe templates: the warning is the command's, not the templates'
    monkeypatch.setattr(
        batch, "run_batch", functools.partial(
            batch.run_batch, region_notebook=str(notebook), overview_notebook=str(notebook),
            methods_notebook=None, preload_results=False,
        ),
    )  # fmt: skip
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["batch", str(guinea), "--out", str(out), "--quiet",
                                      "--regions", "focus", "--workers", "1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.count(NOTE) == 1  # two reports, one warning
    assert f"warning: {guinea.resolve()}: {NOTE}" in result.output


def test_report_warns_once_as_well(guinea: Path, tmp_path: Path, monkeypatch) -> None:
    """`report` prepares the study in a fork (bounded by --timeout) and still warns, once."""
    notebook = tmp_path / "probe.py"
    notebook.write_text(PROBE)
    monkeypatch.setattr(
        batch, "run_batch",
        functools.partial(batch.run_batch, region_notebook=str(notebook), preload_results=False),
    )  # fmt: skip
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["report", str(guinea), "--out", str(out), "--no-methods"])
    assert result.exit_code == 0, result.output
    assert result.output.count(f"warning: {NOTE}") == 1


def test_every_report_banner_names_a_country_without_events(guinea: Path) -> None:
    """The banner every template shows (region report, overview, methods appendix) says it
    where it gives the data files' other coverage notes; a study they cover gets none."""
    from analysis.report import context, demo_truth

    shown = demo_truth.page_banner(context.load(guinea), None)
    assert NOTE in shown
    assert shown.startswith("These data are SYNTHETIC")  # the notes it had come first
    covered = guinea.with_name("covered.yaml")
    covered.write_text(guinea.read_text().replace(", Guinea]", "]"))
    assert "hold no event" not in demo_truth.page_banner(context.load(covered), None)
