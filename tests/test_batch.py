"""Batch: all reports, failures isolated and listed, manifest, index, skip, lock, Dask."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from analysis.report import batch

PROBE = textwrap.dedent(
    """
    # %% tags=["parameters"]
    study = ""
    region = ""
    quarter = ""
    previous_manifest = ""

    # %% [markdown]
    # ## Probe

    # %%
    from analysis.report import show

    if region == "ML-4":
        raise RuntimeError("probe failure")
    show.record(title="probe " + (region or "overview"), previous=previous_manifest)
    show.markdown("Region {r}", r=region)
    """
)


@pytest.fixture()
def setup(tmp_path: Path, demo_dir: Path, monkeypatch) -> tuple[Path, Path]:
    # The package's own sources are part of every report's key; other work in the same tree
    # must not change it between the runs of one test.
    monkeypatch.setattr(batch, "code_fingerprint", lambda: "fixed")
    notebook = tmp_path / "probe.py"
    notebook.write_text(PROBE)
    study = tmp_path / "probe-study.yaml"
    study.write_text(
        textwrap.dedent(
            f"""
            title: "Probe <study>"
            data: [{demo_dir / "demo_acled.csv"}]
            source: acled
            countries: [Mali, Mauritania, Senegal]
            focus: [Kayes]
            start: 2018-01
            end: 2024-12
            """
        )
    )
    return notebook, study


def _run(setup, out: Path, regions: list[str], **kwargs):
    notebook, study = setup
    return batch.run_batch(
        [study],
        out,
        regions=regions,
        region_notebook=str(notebook),
        overview_notebook=str(notebook),
        methods_notebook=None,
        progress=False,
        timeout=120,
        preload_results=False,
        **kwargs,
    )


def test_local_batch_isolates_failures_and_skips_unchanged(setup, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = _run(setup, out, ["ML-1", "ML-4", "ML-2"], workers=2)
    assert first.exit_code == 1
    by_id = {r["id"]: r for r in first.manifest["reports"]}
    assert set(by_id) == {
        "probe-study/ml-1",
        "probe-study/ml-4",
        "probe-study/ml-2",
        "probe-study/overview",
    }
    assert by_id["probe-study/ml-4"]["status"] == "failed"
    assert "probe failure" in by_id["probe-study/ml-4"]["error"]
    assert (out / "probe-study" / "ml-4.ipynb").is_file()  # kept, with the error
    ok = by_id["probe-study/ml-1"]
    assert ok["status"] == "ok" and ok["duration"] > 0
    assert ok["parameters"]["region"] == "ML-1"
    assert len(ok["inputs"][0]["sha256"]) == 64
    assert "pandas" in ok["versions"] and ok["records"]["title"] == "probe ML-1"
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk["counts"] == {"ok": 3, "failed": 1}
    # the published manifest carries no path of the rendering machine (the quarterly job
    # publishes the folder): paths relative to it, read back as the absolute ones
    text = (out / "manifest.json").read_text()
    assert str(tmp_path) not in text and "site-packages" not in text
    disk_ok = next(r for r in on_disk["reports"] if r["id"] == "probe-study/ml-1")
    assert disk_ok["study"] == "../probe-study.yaml" and disk_ok["notebook"] == "../probe.py"
    assert disk_ok["parameters"]["study"] == "../probe-study.yaml"
    assert not Path(disk_ok["inputs"][0]["path"]).is_absolute()
    read = batch.read_manifest(out)
    read_ok = next(r for r in read["reports"] if r["id"] == "probe-study/ml-1")
    assert read_ok["study"] == ok["study"] and read_ok["inputs"] == ok["inputs"]
    assert read["studies"] == first.manifest["studies"]
    index = (out / "index.html").read_text()
    for entry in first.manifest["reports"]:
        assert f'href="{entry["html"]}"' in index
        assert (out / entry["html"]).is_file()
    assert "Probe &lt;study&gt;" in index and "<study>" not in index

    again = _run(setup, out, ["ML-1", "ML-4", "ML-2"], workers=2)
    statuses = {r["id"]: r["status"] for r in again.manifest["reports"]}
    assert statuses["probe-study/ml-1"] == "skipped"
    assert statuses["probe-study/ml-4"] == "failed"  # failures are always retried
    assert again.exit_code == 1

    forced = _run(setup, out, ["ML-1", "ML-2"], workers=1, force=True)
    this_batch = [r for r in forced.manifest["reports"] if not r.get("from_earlier_batch")]
    assert {r["status"] for r in this_batch} == {"ok"}
    assert forced.exit_code == 0
    # the region this batch did not run stays listed while its page is on disk, as it was
    earlier = {r["id"]: r for r in forced.manifest["reports"] if r.get("from_earlier_batch")}
    assert (
        set(earlier) == {"probe-study/ml-4"} and earlier["probe-study/ml-4"]["status"] == "failed"
    )


def test_index_keeps_the_reports_of_studies_rendered_earlier(setup, tmp_path: Path) -> None:
    """`make report` then `make real` into one folder: the second batch's index and manifest
    still list the first study's reports (their pages are on disk), under their own record."""
    out = tmp_path / "out"
    notebook, study = setup
    first = _run(setup, out, ["ML-1", "ML-4"], workers=1)
    other = tmp_path / "other-study.yaml"
    other.write_text(study.read_text().replace("Probe <study>", "Other study"))
    second = batch.run_batch(
        [other], out, regions=["ML-2"], region_notebook=str(notebook),
        overview_notebook=str(notebook), methods_notebook=None, progress=False, timeout=120,
        preload_results=False, workers=1,
    )  # fmt: skip
    assert second.exit_code == 0  # the first batch's failure (ML-4) is not this batch's
    ids = {r["id"]: r for r in second.manifest["reports"]}
    assert {"other-study/ml-2", "probe-study/ml-1", "probe-study/ml-4"} <= set(ids)
    assert ids["probe-study/ml-1"]["from_earlier_batch"]
    assert not ids["other-study/ml-2"].get("from_earlier_batch")
    assert second.manifest["counts"] == {"ok": 2}  # this batch: ml-2 and the overview
    index = (out / "index.html").read_text()
    for entry in first.manifest["reports"]:
        assert f'href="{entry["html"]}"' in index
    assert "Other study" in index and "Probe &lt;study&gt;" in index
    carried = sum(bool(r.get("from_earlier_batch")) for r in second.manifest["reports"])
    assert "This batch: 2 ok." in index
    assert f"Also listed: {carried} reports of other studies from earlier batches" in index
    # a page that is gone is not listed
    (out / ids["probe-study/ml-1"]["html"]).unlink()
    third = batch.run_batch(
        [other], out, regions=["ML-2"], region_notebook=str(notebook),
        overview_notebook=str(notebook), methods_notebook=None, progress=False, timeout=120,
        preload_results=False, workers=1,
    )  # fmt: skip
    assert "probe-study/ml-1" not in {r["id"] for r in third.manifest["reports"]}


def test_changed_input_is_rerun(setup, tmp_path: Path) -> None:
    out = tmp_path / "out"
    notebook, study = setup
    items = batch.plan([study], out, regions=["ML-1"], region_notebook=str(notebook),
                       overview_notebook=str(notebook))  # fmt: skip
    study.write_text(study.read_text().replace("Probe", "Probe v2"))
    changed = batch.plan([study], out, regions=["ML-1"], region_notebook=str(notebook),
                         overview_notebook=str(notebook))  # fmt: skip
    assert [i.key for i in items] != [i.key for i in changed]
    assert len({i.key for i in items}) == len(items)


def test_lock_gives_clear_message(setup, tmp_path: Path) -> None:
    from filelock import FileLock

    out = tmp_path / "out"
    out.mkdir()
    with FileLock(str(out / batch.LOCK)), pytest.raises(batch.BatchLocked, match="another batch"):
        _run(setup, out, ["ML-1"])


def test_quarterly_folder_and_previous_manifest(setup, tmp_path: Path) -> None:
    out = tmp_path / "q"
    previous = out / "2024Q3"
    previous.mkdir(parents=True)
    (previous / "manifest.json").write_text('{"reports": []}')
    items = batch.plan([setup[1]], batch.output_folder(out, "2024Q4"), quarter="2024Q4",
                       regions=["ML-1"], region_notebook=str(setup[0]),
                       overview_notebook=str(setup[0]))  # fmt: skip
    overview = [i for i in items if i.kind == "overview"][0]
    assert overview.job.parameters["previous_manifest"] == str(previous / "manifest.json")
    assert overview.job.html_path.startswith(str(out / "2024Q4"))
    assert items[0].job.parameters["quarter"] == "2024Q4"


def test_quarters_are_linked_from_the_folder_above_them(setup, tmp_path: Path) -> None:
    """A published quarterly folder had no page at its root (a 404 on a static site), and no
    quarter linked another."""
    out = tmp_path / "site"
    for quarter in ("2024Q3", "2024Q4"):
        _run(setup, out, ["ML-1"], workers=1, quarter=quarter)
    root = (out / "index.html").read_text()
    assert root.index('href="2024Q4/index.html"') < root.index('href="2024Q3/index.html"')
    assert "2 ok" in root  # each quarter's counts, from its manifest
    assert 'href="../index.html"' in (out / "2024Q4" / "index.html").read_text()
    # a folder that is not a quarter's, or a quarter without its index, is not listed
    (out / "notes").mkdir()
    (out / "2023Q1").mkdir()
    batch.write_quarters_index(out)
    root = (out / "index.html").read_text()
    assert "notes" not in root and "2023Q1" not in root
    assert "not ok" not in root
    # a quarter whose batch had failures is marked, as its own index marks them
    manifest = json.loads((out / "2024Q3" / "manifest.json").read_text())
    manifest["counts"] = {"ok": 1, "failed": 1}
    (out / "2024Q3" / "manifest.json").write_text(json.dumps(manifest))
    batch.write_quarters_index(out)
    root = (out / "index.html").read_text()
    assert (
        '<span class="failed">1 not ok:</span>' in root and '<span class="failed">1 failed' in root
    )


def test_neighbour_selection(setup) -> None:
    from analysis.config import load_study
    from analysis.geography import neighbours

    study = load_study(setup[1])
    regions = [r for r, _ in batch._regions_for(study, "neighbours")]
    assert regions[0] == "ML-1"
    in_study = {r for r in neighbours("ML-1") if r[:2] in ("ML", "MR", "SN")}
    assert set(regions[1:]) == in_study
    assert len(in_study) < len(neighbours("ML-1"))  # Kayes also borders Guinea


@pytest.mark.slow
def test_dask_cluster_runs_the_batch(setup, tmp_path: Path) -> None:
    import dask
    from distributed import LocalCluster

    # report processes are forked from each worker: workers must not be daemonic
    with (
        dask.config.set({"distributed.worker.daemon": False}),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
    ):
        result = _run(setup, tmp_path / "out", ["ML-1", "ML-2", "ML-3"],
                      scheduler=cluster.scheduler_address)  # fmt: skip
    assert result.exit_code == 0
    assert result.manifest["scheduler"] == cluster.scheduler_address
    assert {r["status"] for r in result.manifest["reports"]} == {"ok"}
    for entry in result.manifest["reports"]:
        assert "<title>probe" in (result.out / entry["html"]).read_text()


def _own_study(tmp_path: Path, demo_dir: Path, study: Path) -> Path:
    """A copy of the probe study over its own copy of the demo data (which a test may spoil)."""
    import shutil

    data = tmp_path / "own" / "demo_acled.csv"
    data.parent.mkdir()
    shutil.copyfile(demo_dir / "demo_acled.csv", data)
    own = tmp_path / "own-study.yaml"
    text = study.read_text().replace(str(demo_dir / "demo_acled.csv"), str(data))
    own.write_text(text.replace("Probe <study>", "Own study"))
    return own


def _negative_fatality(path: Path, row: int) -> int:
    """Make the fatalities of the ``row``-th event negative; return its line in the file."""
    import csv

    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[row][rows[0].index("fatalities")] = "-3"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return row + 1  # no field of the demo data spans lines


def _pages(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _run_two(setup, out: Path, studies: list[Path], **kwargs):
    notebook, _ = setup
    return batch.run_batch(
        studies, out, regions=["ML-1", "ML-2"], region_notebook=str(notebook),
        overview_notebook=str(notebook), methods_notebook=None, progress=False, timeout=120,
        preload_results=False, workers=1, **kwargs,
    )  # fmt: skip


def test_invalid_data_keeps_the_study_pages_and_the_other_studies_render(
    setup, tmp_path: Path, demo_dir: Path
) -> None:
    """A negative fatality in a study's data: its reports are not run (their pages stay
    byte-identical, not "did not finish" pages), the manifest and index say why, with file,
    line and column, the exit code is 2 and the other study still renders."""
    notebook, study = setup
    # like the shipped templates, the probe reads the study's data: a report of an invalid
    # study fails and writes a page saying so
    notebook.write_text(PROBE + "\nfrom analysis.report import context\ncontext.load(study)\n")
    own = _own_study(tmp_path, demo_dir, study)
    out = tmp_path / "out"
    first = _run_two(setup, out, [study, own])
    assert first.exit_code == 0
    before = _pages(out / "own-study")
    assert {"ml-1.html", "ml-1.ipynb", "overview.html"} <= set(before)

    line = _negative_fatality(tmp_path / "own" / "demo_acled.csv", 5)
    second = _run_two(setup, out, [study, own], force=True)
    assert second.exit_code == 2
    assert _pages(out / "own-study") == before
    by_id = {r["id"]: r for r in second.manifest["reports"]}
    for name in ("ml-1", "ml-2", "overview"):
        record = by_id[f"own-study/{name}"]
        assert record["status"] == "input error"
        assert f"demo_acled.csv, line {line}, column 'fatalities'" in record["error"]
        assert "expected a count of zero or more" in record["error"]
        # the manifest and index are written: the record does not say "nothing was written"
        assert "nothing was written" not in record["error"]
        assert record["html"] == f"own-study/{name}.html"  # the earlier page, still linked
        assert by_id[f"probe-study/{name}"]["status"] == "ok"
    assert list(second.input_errors) == [str(own.resolve())]
    assert second.manifest["counts"] == {"ok": 3, "input error": 3}
    assert json.loads((out / "manifest.json").read_text())["counts"]["input error"] == 3
    index = (out / "index.html").read_text()
    assert 'class="input-error"' in index and f"line {line}" in index
    # the published record and index name the data file as the manifest's paths do,
    # relative to the folder, not by this machine's absolute path (the job publishes both)
    on_disk = (out / "manifest.json").read_text()
    assert str(tmp_path) not in on_disk and str(tmp_path) not in index
    assert f"../own/demo_acled.csv, line {line}" in index

    # fixed data: the study's reports run again (an input error is never skipped)
    (tmp_path / "own" / "demo_acled.csv").write_bytes((demo_dir / "demo_acled.csv").read_bytes())
    third = _run_two(setup, out, [study, own])
    assert third.exit_code == 0
    assert {r["status"] for r in third.manifest["reports"] if r["study"] == str(own.resolve())} \
        == {"ok"}  # fmt: skip


def test_a_study_file_that_cannot_be_loaded_keeps_its_pages(
    setup, tmp_path: Path, demo_dir: Path
) -> None:
    """A broken study file: its earlier reports are listed as input errors, untouched; a
    broken study without earlier reports gets one record for the file, with no link."""
    notebook, study = setup
    own = _own_study(tmp_path, demo_dir, study)
    out = tmp_path / "out"
    assert _run_two(setup, out, [study, own]).exit_code == 0
    before = _pages(out / "own-study")
    own.write_text(own.read_text() + "focus: [Kayes\n")
    never = tmp_path / "never.yaml"
    never.write_text("title: [unclosed\n")
    result = _run_two(setup, out, [study, own, never], force=True)
    assert result.exit_code == 2
    assert _pages(out / "own-study") == before
    by_id = {r["id"]: r for r in result.manifest["reports"]}
    for name in ("ml-1", "ml-2", "overview"):
        assert by_id[f"own-study/{name}"]["status"] == "input error"
        assert "own-study.yaml, line" in by_id[f"own-study/{name}"]["error"]
        assert by_id[f"probe-study/{name}"]["status"] == "ok"
    assert by_id["never/study"]["status"] == "input error"
    assert by_id["never/study"]["html"] is None
    assert "study file is not valid YAML" in by_id["never/study"]["error"]
    assert set(result.input_errors) == {str(own.resolve()), str(never.resolve())}
    assert not list(out.glob("never*"))
    assert 'href="None"' not in (out / "index.html").read_text()


def test_a_quarterly_batch_keeps_the_index_of_a_batch_in_the_folder_above(
    setup, tmp_path: Path
) -> None:
    """`batch` writes to --out (default reports/) with or without --quarter: a quarterly run
    replaced the index of a batch rendered into the folder above (its reports went unlisted).
    """
    out = tmp_path / "out"
    _run(setup, out, ["ML-1"], workers=1)
    _run(setup, out, ["ML-1"], workers=1, quarter="2024Q4")
    index = (out / "index.html").read_text()
    assert 'href="probe-study/ml-1.html"' in index  # the first batch's index, kept
    assert (out / "2024Q4" / "index.html").is_file()


def test_a_quarter_with_too_little_history_is_an_input_error_before_any_report(
    demo_study_path: Path, tmp_path: Path
) -> None:
    """The README's promise: as of 2020Q4 the demo has 36 of the 48 months its forecasts
    need, so no report runs (each had run and failed) and the exit code is 2."""
    result = batch.run_batch([demo_study_path], tmp_path / "out", quarter="2020Q4", progress=False)
    assert result.exit_code == 2
    records = result.manifest["reports"]
    assert records and {r["status"] for r in records} == {batch.INPUT_ERROR}
    assert "as of 2020Q4" in records[0]["error"] and "36 months" in records[0]["error"]
