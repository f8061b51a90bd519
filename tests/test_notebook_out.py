"""`notebook --out`: a path that is no notebook is refused before any work, and nothing there
is opened, overwritten or kept as if it were the analyst's notebook."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from typer.testing import CliRunner

from analysis.cli import app

sys.path.insert(0, str(Path(__file__).parent))
from test_report_templates import write_study  # noqa: E402

runner = CliRunner()


def _notebook(study: Path, *args: str):
    return runner.invoke(app, ["notebook", str(study), "--region", "Kayes", "--no-open", *args])


def test_an_out_that_is_no_notebook_file_is_refused(tmp_path: Path, demo_dir: Path) -> None:
    """An existing .txt had been "kept" (exit 0, and opened in JupyterLab as the notebook)."""
    study = write_study(tmp_path, demo_dir / "demo_acled.csv")
    text = tmp_path / "notes.txt"
    text.write_text("my notes")
    for force in ((), ("--force",)):
        result = _notebook(study, "--out", str(text), *force)
        assert result.exit_code == 2, result.output
        assert "option '--out': expected a notebook file ending in .ipynb" in result.output
        assert "kept" not in result.output and "Traceback" not in result.output
        assert text.read_text() == "my notes"
    absent = _notebook(study, "--out", str(tmp_path / "new.txt"))
    assert absent.exit_code == 2 and "ending in .ipynb" in absent.output
    assert not (tmp_path / "new.txt").exists()
    folder = tmp_path / "folder.ipynb"
    folder.mkdir()
    refused = _notebook(study, "--out", str(folder))
    assert refused.exit_code == 2 and "(found 'an existing folder')" in refused.output
    assert list(folder.iterdir()) == []


def test_an_existing_ipynb_that_is_no_notebook_needs_force(tmp_path: Path, demo_dir: Path) -> None:
    """It was "kept" and opened as the analyst's notebook; --force replaces it."""
    study = write_study(tmp_path, demo_dir / "demo_acled.csv")
    broken = tmp_path / "broken.ipynb"
    broken.write_text("not json")
    result = _notebook(study, "--out", str(broken))
    assert result.exit_code == 2, result.output
    assert "exists and is not a notebook" in result.output and "--force" in result.output
    assert broken.read_text() == "not json"
    replaced = _notebook(study, "--out", str(broken), "--force")
    assert replaced.exit_code == 0, replaced.output
    assert nbformat.read(broken, as_version=4).cells


def test_the_default_notebook_path_is_checked_as_out_is(
    tmp_path: Path, demo_dir: Path, monkeypatch
) -> None:
    """A folder where the default notebook goes ended in a traceback (IsADirectoryError)."""
    study = write_study(tmp_path, demo_dir / "demo_acled.csv")
    monkeypatch.chdir(tmp_path)
    made = _notebook(study)
    assert made.exit_code == 0, made.output
    written = Path(made.stdout.strip().splitlines()[-1])
    written.unlink()
    written.mkdir()
    result = _notebook(study)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "an existing folder" in result.output
