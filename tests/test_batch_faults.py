"""Faults in a batch: a report that crashes its process, one that hangs, a Dask worker killed
in the middle. The batch goes on, records each failure, and never reports as done what is not."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import threading
import time
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

    # %%
    import os
    import time

    from analysis.report import show

    if region == "ML-5":
        os._exit(3)  # the report's process dies, as a crashing kernel would
    if region == "ML-6":
        time.sleep(600)  # hangs
    if os.path.exists(os.path.join(os.path.dirname(study), f"fail-{region}")):
        raise RuntimeError("probe failure")  # a file, not the environment: the fork server
        # that runs reports was started once, with the environment of its time
    time.sleep(float(os.environ.get("PROBE_SLEEP", "0")))
    show.record(title="probe " + (region or "overview"))
    show.markdown("Region {r}", r=region)
    """
)


@pytest.fixture()
def setup(tmp_path: Path, demo_dir: Path, monkeypatch) -> tuple[Path, Path]:
    monkeypatch.setattr(batch, "code_fingerprint", lambda: "fixed")
    notebook = tmp_path / "probe.py"
    notebook.write_text(PROBE)
    study = tmp_path / "faults.yaml"
    study.write_text(
        f"title: Faults\ndata: [{demo_dir / 'demo_acled.csv'}]\nsource: acled\n"
        "countries: [Mali]\nfocus: [Kayes]\nstart: 2018-01\nend: 2024-12\n"
    )
    return notebook, study


def _run(setup, out: Path, regions: list[str], **kwargs):
    notebook, study = setup
    return batch.run_batch(
        [study], out, regions=regions, region_notebook=str(notebook),
        overview_notebook=str(notebook), methods_notebook=None, progress=False,
        preload_results=False, **kwargs,
    )  # fmt: skip


def _check_done_means_done(result) -> dict[str, str]:
    statuses = {}
    for entry in result.manifest["reports"]:
        statuses[entry["id"]] = entry["status"]
        if entry["status"] in ("ok", "skipped"):
            html = (result.out / entry["html"]).read_text()
            assert "probe" in html and 'class="ct-failed' not in html
    on_disk = json.loads((result.out / "manifest.json").read_text())
    assert {e["id"]: e["status"] for e in on_disk["reports"]} == statuses
    return statuses


def test_crashing_and_hanging_reports_are_recorded_and_the_batch_goes_on(setup, tmp_path):
    started = time.monotonic()
    result = _run(setup, tmp_path / "out", ["ML-1", "ML-5", "ML-6", "ML-2"], workers=2, timeout=8)
    assert time.monotonic() - started < 120  # the hang was cut at its timeout
    statuses = _check_done_means_done(result)
    assert statuses["faults/ml-1"] == "ok" and statuses["faults/ml-2"] == "ok"
    assert statuses["faults/ml-5"] == "failed"
    assert statuses["faults/ml-6"] in ("failed", "timeout")
    errors = {e["id"]: e.get("error", "") for e in result.manifest["reports"]}
    assert "time" in errors["faults/ml-6"].lower()  # says it timed out
    assert result.exit_code == 1


def test_a_failed_rerun_keeps_the_good_page_and_a_success_clears_the_failure(setup, tmp_path):
    out = tmp_path / "out"
    first = _run(setup, out, ["ML-1", "ML-2"], workers=2)
    assert set(_check_done_means_done(first).values()) == {"ok"}
    good = (out / "faults" / "ml-1.html").read_bytes()
    finished = {e["id"]: e["finished"] for e in first.manifest["reports"]}

    fail = setup[1].with_name("fail-ML-1")
    fail.touch()
    failed = _run(setup, out, ["ML-1", "ML-2"], workers=2, force=True)
    record = {e["id"]: e for e in failed.manifest["reports"]}["faults/ml-1"]
    assert record["status"] == "failed" and "probe failure" in record["error"]
    assert (out / "faults" / "ml-1.html").read_bytes() == good  # the good page stays
    assert record["html"] == "faults/ml-1.failed.html"
    assert record["kept_html"] == "faults/ml-1.html"
    assert record["kept_from"] == finished["faults/ml-1"]
    page = (out / "faults" / "ml-1.failed.html").read_text()
    assert "did not finish" in page and "probe failure" in page
    assert (out / "faults" / "ml-1.failed.ipynb").is_file()
    for name in ("ml-1.ipynb", "ml-1.failed.ipynb"):  # each names itself, not a staged file
        meta = json.loads((out / "faults" / name).read_text())["metadata"]["papermill"]
        assert meta["output_path"] == name
    index = (out / "index.html").read_text()
    assert '<a href="faults/ml-1.html">report</a>' in index and "is kept" in index
    assert not list(out.rglob("*.staged.*"))

    # a second failure still keeps the first run's page, and says when it was made
    again = _run(setup, out, ["ML-1"], workers=1, force=True)
    record = {e["id"]: e for e in again.manifest["reports"]}["faults/ml-1"]
    assert record["kept_from"] == finished["faults/ml-1"]
    assert (out / "faults" / "ml-1.html").read_bytes() == good

    fail.unlink()
    fixed = _run(setup, out, ["ML-1"], workers=1, force=True)
    record = {e["id"]: e for e in fixed.manifest["reports"]}["faults/ml-1"]
    assert record["status"] == "ok" and "kept_html" not in record
    assert record["html"] == "faults/ml-1.html"
    assert not (out / "faults" / "ml-1.failed.html").exists()
    assert not (out / "faults" / "ml-1.failed.ipynb").exists()
    assert not list(out.rglob("*.staged.*"))


def test_a_first_failure_is_the_page_itself(setup, tmp_path):
    setup[1].with_name("fail-ML-1").touch()
    result = _run(setup, tmp_path / "out", ["ML-1"], workers=1)
    record = {e["id"]: e for e in result.manifest["reports"]}["faults/ml-1"]
    assert record["status"] == "failed" and record["html"] == "faults/ml-1.html"
    assert "kept_html" not in record
    assert "did not finish" in (result.out / "faults" / "ml-1.html").read_text()


@pytest.mark.slow
def test_killed_dask_worker_finishes_or_resumes_without_false_successes(
    setup, tmp_path, monkeypatch
):
    import dask
    from distributed import Client, LocalCluster

    monkeypatch.setenv("PROBE_SLEEP", "1.5")
    # the killed worker cannot remove its report's temporary folder: keep it in tmp_path, not
    # in the machine's /tmp after every run (workers are new interpreters: they read TMPDIR)
    worker_tmp = tmp_path / "worker-tmp"
    worker_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(worker_tmp))
    regions = ["ML-1", "ML-2", "ML-3", "ML-4", "ML-7", "ML-8"]
    out = tmp_path / "out"
    # report processes are forked from each worker: workers must not be daemonic
    with dask.config.set({"distributed.worker.daemon": False}), LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, Client(cluster.scheduler_address) as client:  # fmt: skip
        holder: dict[str, object] = {}

        def run() -> None:
            try:
                holder["result"] = _run(
                    setup, out, regions, scheduler=cluster.scheduler_address, timeout=60
                )
            except Exception as exc:  # noqa: BLE001 - recorded for the assertion below
                holder["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        time.sleep(6)  # some reports under way
        pids = client.run(os.getpid)
        os.kill(next(iter(pids.values())), signal.SIGKILL)
        thread.join(timeout=240)
        assert not thread.is_alive()

    if "result" in holder:
        first = holder["result"]
        statuses = _check_done_means_done(first)
        print("after kill:", statuses)
        assert set(statuses.values()) <= {"ok", "failed", "timeout"}
    # Resuming reruns only what did not finish, and then everything is done.
    again = _run(setup, out, regions, workers=2, timeout=60)
    final = _check_done_means_done(again)
    assert set(final.values()) <= {"ok", "skipped"}
    assert again.exit_code == 0


def _twin(setup, folder: Path) -> Path:
    """A second study file named like the first, in another folder."""
    folder.mkdir()
    twin = folder / setup[1].name
    twin.write_text(setup[1].read_text().replace("title: Faults", "title: Twin"))
    return twin


def test_two_study_files_named_alike_in_one_batch_do_not_share_a_folder(setup, tmp_path):
    notebook, study = setup
    twin = _twin(setup, tmp_path / "other")
    result = batch.run_batch(
        [study, twin], tmp_path / "out", regions=["ML-1"], region_notebook=str(notebook),
        overview=False, methods_notebook=None, progress=False, preload_results=False,
    )  # fmt: skip
    assert result.exit_code == 2
    by_study = {}
    for record in result.manifest["reports"]:
        by_study.setdefault(record["study"], []).append(record)
    assert [r["status"] for r in by_study[str(study.resolve())]] == ["ok"]
    (error,) = by_study[str(twin.resolve())]
    assert error["status"] == batch.INPUT_ERROR
    assert (
        str(study.resolve()) in error["error"] and "a study file name of its own" in error["error"]
    )


def test_a_study_named_like_an_earlier_batchs_keeps_out_of_its_folder(setup, tmp_path):
    out = tmp_path / "out"
    first = _run(setup, out, ["ML-1"], workers=1)
    page = (out / "faults" / "ml-1.html").read_bytes()
    twin = _twin(setup, tmp_path / "other")
    kwargs = dict(regions=["ML-1"], region_notebook=str(setup[0]), overview_notebook=str(setup[0]),
                  methods_notebook=None, progress=False, preload_results=False)  # fmt: skip
    second = batch.run_batch([twin], out, **kwargs)
    assert second.exit_code == 2
    assert (out / "faults" / "ml-1.html").read_bytes() == page
    records = {(r["study"], r["status"]) for r in second.manifest["reports"]}
    assert (str(twin.resolve()), batch.INPUT_ERROR) in records
    earlier = [r for r in second.manifest["reports"] if r.get("from_earlier_batch")]
    assert {r["id"] for r in earlier} == {r["id"] for r in first.manifest["reports"]}
    errors = [r["error"] for r in second.manifest["reports"] if r["status"] == batch.INPUT_ERROR]
    assert all("--force" in e for e in errors)
    # the report command reruns everything (force) but does not replace another study
    kept = batch.run_batch([twin], out, force=True, **kwargs)
    assert kept.exit_code == 2 and (out / "faults" / "ml-1.html").read_bytes() == page
    replaced = batch.run_batch([twin], out, force=True, replace_other_studies=True, **kwargs)
    assert replaced.exit_code == 0
    ids = [r["id"] for r in replaced.manifest["reports"]]
    assert len(ids) == len(set(ids))  # the replaced study's records are gone, not doubled
    assert {r["study_title"] for r in replaced.manifest["reports"]} == {"Twin"}
    assert batch.run_batch([twin], out, **kwargs).exit_code == 0  # and it stays replaced


def test_raise_input_errors_stops_before_the_manifest_and_index_are_rewritten(setup, tmp_path):
    """The `report` command's batch: a study's input error is raised, and the folder (pages,
    manifest, index) stays byte for byte as the earlier batch left it."""
    from analysis.errors import InputError

    out = tmp_path / "out"
    _run(setup, out, ["ML-1"], workers=1)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    twin = _twin(setup, tmp_path / "other")
    with pytest.raises(InputError, match="holds another study file's reports"):
        batch.run_batch([twin], out, regions=["ML-1"], region_notebook=str(setup[0]),
                        methods_notebook=None, progress=False, preload_results=False,
                        force=True, raise_input_errors=True)  # fmt: skip
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_a_good_page_is_kept_whatever_the_last_record_says(setup, tmp_path):
    """The page itself says whether it finished: a batch of other regions, or one stopped on
    bad input, leaves records that no longer do."""
    notebook, study = setup
    out = tmp_path / "out"
    _run(setup, out, ["ML-1", "ML-2"], workers=2)
    good = (out / "faults" / "ml-2.html").read_bytes()
    _run(setup, out, ["ML-1"], workers=1, force=True)  # the record of ML-2 is not this batch's
    text = study.read_text()
    study.write_text(text.replace("countries: [Mali]", "countries: [Mailand]"))
    assert _run(setup, out, ["ML-2"], workers=1).exit_code == 2  # input error: page kept
    study.write_text(text)
    study.with_name("fail-ML-2").touch()
    failed = _run(setup, out, ["ML-2"], workers=1, force=True)
    record = {e["id"]: e for e in failed.manifest["reports"]}["faults/ml-2"]
    assert record["status"] == "failed" and record["kept_html"] == "faults/ml-2.html"
    assert (out / "faults" / "ml-2.html").read_bytes() == good


def test_an_unusable_scheduler_address_is_an_input_error(setup, tmp_path):
    pytest.importorskip("distributed")
    from analysis.errors import InputError

    with pytest.raises(InputError) as info:
        _run(setup, tmp_path / "out", ["ML-1"], scheduler="nonsense")
    (problem,) = info.value.problems
    assert problem.column == "--scheduler" and "nonsense" in problem.found
    assert not list((tmp_path / "out").rglob("*.staged.*"))
