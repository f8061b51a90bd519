"""`conflict-trends init`: an analyst's project layout, never overwriting anything."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from analysis.cli import app
from analysis.config import load_study
from analysis.scaffold import FOLDERS, init_project

runner = CliRunner()


def test_init_writes_the_layout_and_a_valid_commented_study(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "proj")])
    assert result.exit_code == 0, result.output
    root = tmp_path / "proj"
    for folder in FOLDERS:
        assert (root / folder).is_dir(), folder
    study_text = (root / "studies" / "example.yaml").read_text()
    assert study_text.count("#") >= 10  # every key explained
    raw = yaml.safe_load(study_text)
    assert raw["data"] == ["../data/raw/demo/demo_acled.csv"] and raw["synthetic"] is True
    readme = (root / "README.md").read_text()
    for command in ("conflict-trends demo-data", "conflict-trends report studies/example.yaml",
                    "conflict-trends notebook studies/example.yaml"):  # fmt: skip
        assert command in readme
    assert "conflict-trends report $(STUDY)" in (root / "Makefile").read_text()
    # the study is valid once the demo data are there
    written = runner.invoke(app, ["demo-data", str(root / "data" / "raw" / "demo")])
    assert written.exit_code == 0, written.output
    study = load_study(root / "studies" / "example.yaml")
    assert study.focus == ["ML-1"] and study.synthetic


def test_init_never_overwrites(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "studies").mkdir(parents=True)
    mine = root / "studies" / "example.yaml"
    mine.write_text("title: mine\n")
    (root / "README.md").write_text("my notes\n")
    result = init_project(root)
    assert mine.read_text() == "title: mine\n"
    assert (root / "README.md").read_text() == "my notes\n"
    assert set(result.kept) == {mine, root / "README.md"}
    assert root / "Makefile" in result.written
    again = runner.invoke(app, ["init", str(root)])
    assert again.exit_code == 0 and "not overwritten" in again.output
    assert mine.read_text() == "title: mine\n"


def test_init_on_a_file_is_an_input_error(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 2 and "a folder" in result.output
    assert target.read_text() == "x"


def test_notebook_without_jupyterlab_says_how_to_get_it(
    tmp_path: Path, demo_dir: Path, monkeypatch
) -> None:
    import importlib.util
    import shutil

    from analysis.commands import report

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "jupyterlab" else real(name)
    )
    assert report.lab_command(tmp_path / "x.ipynb") is None
    init_project(tmp_path / "p")
    shutil.copytree(demo_dir, tmp_path / "p" / "data" / "raw" / "demo")
    study = tmp_path / "p" / "studies" / "example.yaml"
    out = tmp_path / "p" / "notebooks" / "n.ipynb"
    result = runner.invoke(app, ["notebook", str(study), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and "pip install 'conflict-trends[lab]'" in result.output


def test_lab_command_opens_the_notebook_with_this_python(tmp_path: Path, monkeypatch) -> None:
    import importlib.util
    import sys

    from analysis.commands import report

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    assert report.lab_command(tmp_path / "x.ipynb") == [
        sys.executable, "-m", "jupyterlab", str(tmp_path / "x.ipynb")
    ]  # fmt: skip


def test_example_study_states_the_history_forecasts_need(tmp_path: Path) -> None:
    """The comments name the history the forecaster checks for (they said 27 months, while a
    12-month horizon needs 48: a study cut to 27 months stopped with exit code 2)."""
    import re

    from analysis.pipeline import forecast_history_needed

    init_project(tmp_path / "proj")
    text = (tmp_path / "proj" / "studies" / "example.yaml").read_text()
    horizon = yaml.safe_load(text)["horizon"]
    need = forecast_history_needed(horizon)
    assert f"{horizon} needs {need} months" in text
    assert re.search(rf"need {need - horizon} months of history plus the horizon", text)
    assert "27 months" not in text


def test_the_example_study_describes_every_key_a_study_may_have(tmp_path: Path) -> None:
    """Its first line says "Every key is described here": `attribution`, `boundaries` and
    `onset_quiet_periods` were accepted by the validator and described nowhere in it."""
    import re

    from analysis.config import Study

    init_project(tmp_path / "p")
    text = (tmp_path / "p" / "studies" / "example.yaml").read_text()
    written = set(re.findall(r"^(?:# )?(\w+):", text, flags=re.MULTILINE))
    keys = {name for name, field in Study.model_fields.items() if not field.exclude}
    assert keys <= written, sorted(keys - written)
