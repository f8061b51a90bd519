"""Provenance a reviewer can forward: no absolute path of the rendering machine, hashes kept."""

from __future__ import annotations

from pathlib import Path

from analysis.report import provenance


def test_paths_are_relative_to_the_study_file(tmp_path: Path) -> None:
    project = tmp_path / "machine-specific-folder"
    (project / "studies").mkdir(parents=True)
    (project / "data").mkdir()
    study = project / "studies" / "s.yaml"
    data = project / "data" / "events.csv"
    prov = provenance.collect(
        study={"title": "T", "path": str(study), "sha256": "abc"},
        inputs=[{"path": str(data), "sha256": "def", "rows": 3}],
        parameters={"study": str(study), "region": "ML-1", "previous_manifest": ""},
    )
    assert prov.study["path"] == "s.yaml"
    assert prov.inputs == [{"path": "../data/events.csv", "sha256": "def", "rows": 3}]
    assert prov.parameters == {"study": "s.yaml", "region": "ML-1", "previous_manifest": ""}
    assert "machine-specific-folder" not in repr(prov.to_dict())
    assert str(tmp_path) not in repr(prov.to_dict())


def test_a_data_file_outside_the_project_is_named_by_its_file_name(tmp_path: Path) -> None:
    (tmp_path / "elsewhere" / "shared").mkdir(parents=True)
    (tmp_path / "project" / "studies").mkdir(parents=True)
    study = tmp_path / "project" / "studies" / "s.yaml"
    data = tmp_path / "elsewhere" / "shared" / "ged.csv"
    prov = provenance.collect(
        study={"title": "T", "path": str(study), "sha256": "abc"},
        inputs=[{"path": str(data), "sha256": "def", "rows": 3}],
        parameters={},
    )
    assert prov.inputs[0]["path"] == "ged.csv (outside the project folder)"
    assert "elsewhere" not in repr(prov.to_dict())


def test_relative_path_outside_the_study_folder() -> None:
    assert provenance.relative_path("/a/b/c.csv", "/a/x") == "../b/c.csv"
    assert provenance.relative_path("", "/a") == ""


def test_parameters_left_empty_read_not_set() -> None:
    from analysis.report.provenance import parameter_table

    table = parameter_table({"study": "studies/demo.yaml", "quarter": "", "seed": 0})
    assert table["value"].tolist() == ["studies/demo.yaml", "(not set)", "0"]
    assert table["parameter"].tolist() == ["study", "quarter", "seed"]


def test_a_data_files_note_reaches_the_reports_banner() -> None:
    """The real study's file is a partial copy of GED (16 columns, precise locations only);
    only the Provenance table at the end of each report had said so."""
    from analysis.formatting import join_nonempty
    from analysis.report.provenance import data_note_banner

    note = "a partial copy of the GED release: 16 columns, without where_prec and date_prec"
    inputs = [{"path": "/data/ged211_west_africa.csv", "sha256": "x", "note": note},
              {"path": "/data/other.csv", "sha256": "y"}]  # fmt: skip
    assert data_note_banner(inputs) == f"The data file ged211_west_africa.csv is {note}."
    assert data_note_banner(inputs[1:]) == ""
    assert join_nonempty("", data_note_banner(inputs)) == data_note_banner(inputs)
    assert join_nonempty("SYNTHETIC.", "") == "SYNTHETIC."
    assert join_nonempty("A.", "B.") == "A. B."
