"""The report commands: clear messages and exit codes, parameterized notebook copies."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
from filelock import FileLock
from typer.testing import CliRunner

from analysis.cli import app

sys.path.insert(0, str(Path(__file__).parent))
from test_report_templates import write_study  # noqa: E402

runner = CliRunner()


def test_batch_on_a_locked_folder_says_so(tmp_path: Path, demo_dir: Path) -> None:
    study = write_study(tmp_path, demo_dir / "demo_acled.csv")
    out = tmp_path / "out"
    out.mkdir()
    with FileLock(str(out / ".batch.lock")):
        result = runner.invoke(app, ["batch", str(study), "--out", str(out)])
    assert result.exit_code == 2
    assert "another batch is writing to this folder" in result.output


def test_bad_quarter_and_region_are_input_errors(tmp_path: Path, demo_dir: Path) -> None:
    study = write_study(tmp_path, demo_dir / "demo_acled.csv")
    result = runner.invoke(
        app, ["batch", str(study), "--quarter", "2024Q9", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and "quarter" in result.output
    result = runner.invoke(app, ["notebook", str(study), "--region", "Atlantis"])
    assert result.exit_code == 2


def test_notebook_writes_parameterized_copy(tmp_path: Path, demo_dir: Path) -> None:
    study = write_study(tmp_path, demo_dir / "demo_acled.csv")
    target = tmp_path / "explore.ipynb"
    result = runner.invoke(
        app, ["notebook", str(study), "--region", "Kayes", "--out", str(target), "--no-open"]
    )
    assert result.exit_code == 0, result.output
    nb = nbformat.read(target, as_version=4)
    # one place for the parameters, the cell an analyst edits: a cell injected after it had
    # overridden every edit there without a word
    assert not [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert 'region = "ML-1"' in cell.source and "../../studies/demo.yaml" not in cell.source
    assert f"study = {json.dumps(str(study.resolve()))}" in cell.source
    # papermill -p region ... overrides that one value; the study stays the one written (it
    # had fallen back to the template's ../../studies/demo.yaml)
    from papermill.parameterize import parameterize_notebook

    ran = parameterize_notebook(nb, {"region": "ML-2"})
    namespace: dict = {}
    for c in ran.cells:
        tags = c.metadata.get("tags", [])
        if "parameters" in tags or "injected-parameters" in tags:
            exec(c.source, namespace)  # noqa: S102 - assignments written above
    assert namespace["region"] == "ML-2" and namespace["study"] == str(study.resolve())
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
    # the template by name, not papermill's copy of the whole template; a kernel to open with
    assert nb.metadata["papermill"]["input_path"] == "region_report.py"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert target.stat().st_size < 40_000

    # run again, it opens the analyst's edited notebook as it is; --force writes a fresh one
    nb.cells.append(nbformat.v4.new_markdown_cell("my notes"))
    nbformat.write(nb, target)
    again = runner.invoke(
        app, ["notebook", str(study), "--region", "Kayes", "--out", str(target), "--no-open"]
    )
    assert again.exit_code == 0 and "kept" in again.output
    assert "my notes" in target.read_text()
    fresh = runner.invoke(
        app, ["notebook", str(study), "--region", "Kayes", "--out", str(target), "--no-open",
              "--force"],
    )  # fmt: skip
    assert fresh.exit_code == 0 and "my notes" not in target.read_text()


def test_notebook_and_report_refuse_a_region_outside_the_study_before_any_work(
    tmp_path: Path, demo_dir: Path
) -> None:
    """A typo gets the closest names; a unit of another country stops with exit 2 and no page
    written, where `report` used to render a failed page ("KeyError: ('NE-8', ...)")."""
    study = write_study(tmp_path, demo_dir / "demo_acled.csv")
    typo = runner.invoke(app, ["notebook", str(study), "--region", "Kayse", "--no-open"])
    assert typo.exit_code == 2 and "closest: Kayes (ML-1)" in typo.output
    assert "option '--region'" in typo.output
    out = tmp_path / "out"
    outside = runner.invoke(app, ["report", str(study), "--region", "Niamey", "--out", str(out)])
    assert outside.exit_code == 2 and "region outside the study" in outside.output
    assert "option '--region'" in outside.output
    assert not out.exists()


def test_notebook_names_the_templates_for_an_unknown_one(tmp_path: Path, demo_dir: Path) -> None:
    study = write_study(tmp_path, demo_dir / "demo_acled.csv")
    result = runner.invoke(app, ["notebook", str(study), "--template", "overveiw", "--no-open"])
    assert result.exit_code == 2
    assert "expected region_report, overview, methods or a notebook file" in result.output
    assert "overveiw.py" not in result.output  # not the package's internal path


def test_batch_of_a_study_with_too_short_a_history_is_an_input_error(
    tmp_path: Path, demo_dir: Path
) -> None:
    """The forecaster's minimum history is checked before any report runs: exit 2, the
    message once, no page written, the manifest saying why."""
    import json

    study = write_study(tmp_path, demo_dir / "demo_acled.csv")
    study.write_text(study.read_text().replace("start: 2019-01", "start: 2024-01"))
    out = tmp_path / "out"
    result = runner.invoke(app, ["batch", str(study), "--out", str(out), "--quiet"])
    assert result.exit_code == 2, result.output
    from analysis.pipeline import forecast_history_needed

    assert result.output.count(f"at least {forecast_history_needed(6)} months of history") == 1
    assert "Traceback" not in result.output
    assert [p.name for p in out.rglob("*.html")] == ["index.html"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert {r["status"] for r in manifest["reports"]} == {"input error"}
    assert all(r["html"] is None for r in manifest["reports"])


def test_an_out_that_cannot_be_a_folder_is_exit_2_before_any_work(
    tmp_path: Path, demo_dir: Path
) -> None:
    study = write_study(tmp_path, demo_dir / "demo_acled.csv")
    for args in (
        ["report", str(study), "--out", str(study)],
        ["report", str(study), "--out", str(study / "reports")],
        ["batch", str(study), "--out", str(study), "--quarter", "2024Q4"],
        ["notebook", str(study), "--out", str(tmp_path), "--no-open"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
        assert "option '--out': expected a" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["smoke.yaml"]


def test_batch_as_of_a_quarter_after_the_study_is_an_input_error(
    tmp_path: Path, demo_dir: Path
) -> None:
    study = write_study(tmp_path, demo_dir / "demo_acled.csv")  # 2019-01 .. 2024-12
    out = tmp_path / "out"
    result = runner.invoke(app, ["batch", str(study), "--quarter", "2025Q1", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "expected a quarter from 2019Q1 to 2024Q4" in result.output
    assert not [p for p in out.rglob("*.html") if p.name != "index.html"]  # no report page


def test_notebook_and_report_take_the_quarter_batch_takes(tmp_path: Path, demo_dir: Path) -> None:
    """An analyst could set a report's as-of quarter only by editing the notebook's cell."""
    study = write_study(tmp_path, demo_dir / "demo_acled.csv")  # 2019-01 .. 2024-12
    made = runner.invoke(
        app, ["notebook", str(study), "--quarter", "2023q4", "--no-open",
              "--out", str(tmp_path / "q.ipynb")],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    cells = [c for c in nbformat.read(tmp_path / "q.ipynb", as_version=4).cells
             if "parameters" in c.metadata.get("tags", [])]  # fmt: skip
    assert 'quarter = "2023Q4"' in cells[0].source
    # a quarter whose history is too short for the forecasts: refused as `report` refuses it
    # (the notebook had been written, exit 0, and failed in its first cell)
    short = runner.invoke(app, ["notebook", str(study), "--quarter", "2020Q4", "--no-open",
                                "--out", str(tmp_path / "short.ipynb")])  # fmt: skip
    assert short.exit_code == 2 and "history" in short.output, short.output
    assert not (tmp_path / "short.ipynb").exists()
    # outside the study's months: exit 2 before anything is written, for both commands
    late = runner.invoke(app, ["notebook", str(study), "--quarter", "2025Q1", "--no-open",
                               "--out", str(tmp_path / "late.ipynb")])  # fmt: skip
    assert late.exit_code == 2 and "expected a quarter from 2019Q1 to 2024Q4" in late.output
    assert "option '--quarter'" in late.output  # not a key of the study file
    assert not (tmp_path / "late.ipynb").exists()
    # a study whose window runs past its data gets no notebook either, as `report` refuses it
    past = tmp_path / "past.yaml"
    past.write_text(study.read_text().replace("end: 2024-12", "end: 2025-06"))
    refused = runner.invoke(app, ["notebook", str(past), "--no-open",
                                  "--out", str(tmp_path / "past.ipynb")])  # fmt: skip
    assert refused.exit_code == 2 and "the window runs outside the data" in refused.output
    assert not (tmp_path / "past.ipynb").exists()
    out = tmp_path / "out"
    report = runner.invoke(app, ["report", str(study), "--quarter", "2025Q1", "--out", str(out)])
    assert report.exit_code == 2 and "quarter" in report.output
    assert not list(out.rglob("*.html"))


def test_options_are_named_as_options(tmp_path: Path, demo_dir: Path) -> None:
    """`--quarter 2024Q5`, `--regions foo` and `--template foo` had been called "column
    'quarter'" and so on, as if a table's; and a bad option to batch had made the folder."""
    study = write_study(tmp_path, demo_dir / "demo_acled.csv")
    out = tmp_path / "out"
    cases = [
        (["report", str(study), "--quarter", "2024Q5", "--out", str(out)], "--quarter"),
        (["batch", str(study), "--quarter", "2024Q5", "--out", str(out)], "--quarter"),
        (["notebook", str(study), "--quarter", "2024Q5", "--no-open"], "--quarter"),
        (["batch", str(study), "--regions", "foo", "--out", str(out)], "--regions"),
        (["notebook", str(study), "--template", "foo", "--no-open"], "--template"),
    ]
    for args, option in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert f"option '{option}': expected" in result.output, result.output
        assert "column" not in result.output, result.output
    regions = runner.invoke(app, ["batch", str(study), "--regions", "foo", "--out", str(out)])
    assert "expected focus, neighbours or all (found 'foo')" in regions.output
    assert not out.exists() and not (tmp_path / "notebooks").exists()


def test_notebook_out_may_not_replace_the_study_or_its_data(tmp_path: Path, demo_dir: Path) -> None:
    data = tmp_path / "events.csv"
    data.write_bytes((demo_dir / "demo_acled.csv").read_bytes())
    study = write_study(tmp_path, data)
    kept = {path: path.read_bytes() for path in (study, data)}
    for out in (study, data):
        result = runner.invoke(app, ["notebook", str(study), "--out", str(out), "--no-open",
                                     "--force"])  # fmt: skip
        assert result.exit_code == 2, result.output
        assert "expected a path other than the input files, the study file and data/raw/" in (
            result.output
        )
    assert {path: path.read_bytes() for path in kept} == kept


def test_report_stopped_by_another_studys_folder_writes_nothing(
    tmp_path: Path, demo_dir: Path
) -> None:
    """A study file named like one whose reports are in --out stops with exit 2, and (as for
    every command's bad input) writes nothing: it had rewritten manifest.json and index.html
    with an "input error" record."""
    import json

    study = write_study(tmp_path, demo_dir / "demo_acled.csv")
    other = tmp_path / "other" / study.name
    other.parent.mkdir()
    other.write_text(study.read_text())
    out = tmp_path / "out"
    (out / "smoke").mkdir(parents=True)
    # what `report other/smoke.yaml --out out` leaves (paths relative to the folder)
    record = {"id": "smoke/ml-1", "study": "../other/smoke.yaml", "status": "ok",
              "html": "smoke/ml-1.html", "error": ""}  # fmt: skip
    (out / "manifest.json").write_text(json.dumps({"reports": [record]}))
    (out / "index.html").write_text("<html>earlier index</html>")
    (out / "smoke" / "ml-1.html").write_text("<html>the other study's page</html>")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    result = runner.invoke(app, ["report", str(study), "--no-methods", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "free of other studies' reports" in result.output
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".batch.lock"}
    assert after == before


def test_report_refuses_a_comparison_outside_the_studys_window(
    tmp_path: Path, demo_dir: Path
) -> None:
    """`growth` refused compare: [[2021, 2031]]; `report` had rendered, saying only that no
    comparison falls inside the report's window, as for an earlier quarter's reports."""
    study = write_study(tmp_path, demo_dir / "demo_acled.csv")
    text = study.read_text()
    assert "compare: [[2021, 2024]]" in text
    study.write_text(text.replace("compare: [[2021, 2024]]", "compare: [[2021, 2031]]"))
    result = runner.invoke(app, ["report", str(study), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "key 'compare'" in result.output, result.output
    assert "2031" in result.output and not (tmp_path / "out").exists()
