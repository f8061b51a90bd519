"""Running reports: parameter validation, papermill in-process and forked, isolation, timeouts."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest

from analysis import periods
from analysis.errors import InputError
from analysis.report import run
from analysis.report.pool import ReportPool

PROBE = textwrap.dedent(
    """
    # %% tags=["parameters"]
    study = ""
    region = "ML-1"

    # %% [markdown]
    # ## Probe

    # %%
    import time
    import matplotlib
    import numpy as np
    import analysis.report.show as show_module

    if region == "ML-2":
        # leave traces everywhere a reused interpreter would keep them
        leaked_global = 1
        show_module.LEAKED = 1
        matplotlib.rcParams["lines.linewidth"] = 9.0
        np.random.seed(7)
    if region == "ML-3":
        time.sleep(120)
    if region == "ML-4":
        raise RuntimeError("probe failure <b>")
    print("stdout line")
    show_module.record(
        title="probe " + region,
        leaked_global="leaked_global" in globals(),
        module_attr=hasattr(show_module, "LEAKED"),
        linewidth=float(matplotlib.rcParams["lines.linewidth"]),
        draw=float(np.random.random()),
    )
    """
)


@pytest.fixture()
def probe(tmp_path: Path) -> tuple[Path, Path]:
    notebook = tmp_path / "probe.py"
    notebook.write_text(PROBE)
    study = tmp_path / "study.yaml"
    study.write_text("title: unused\n")
    return notebook, study


def _job(
    tmp_path: Path, notebook: Path, study: Path, region: str, timeout: float = 60
) -> run.ReportJob:
    return run.ReportJob(
        notebook=str(notebook),
        parameters={"study": str(study), "region": region},
        html_path=str(tmp_path / "out" / f"{region}.html"),
        ipynb_path=str(tmp_path / "out" / f"{region}.ipynb"),
        timeout=timeout,
    )


# -- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "region",
    ['ML-1"; import os; os.system("x") #', "ML-1\nimport os", "ml 1", "", "ML-12345", "XX"],
)
def test_bad_region_is_refused(region: str, probe: tuple[Path, Path]) -> None:
    with pytest.raises(InputError, match="region"):
        run.validate_parameters({"study": str(probe[1]), "region": region})


def test_parameters_are_normalised_and_checked(probe: tuple[Path, Path], tmp_path: Path) -> None:
    out = run.validate_parameters({"study": str(probe[1]), "region": "ml-1", "quarter": "2024q4"})
    assert out == {"study": str(probe[1].resolve()), "region": "ML-1", "quarter": "2024Q4"}
    with pytest.raises(InputError, match="study"):
        run.validate_parameters({"study": str(tmp_path / "missing.yaml")})
    with pytest.raises(InputError, match="study"):
        run.validate_parameters({"study": str(probe[0])})  # exists but is not a .yaml
    with pytest.raises(InputError, match="quarter"):
        run.validate_parameters({"quarter": "2024Q5"})
    with pytest.raises(InputError, match="one of"):
        run.validate_parameters({"code": "1"})
    with pytest.raises(InputError, match="control"):
        run.validate_parameters({"study": str(probe[1]) + "\n__import__('os')"})


def test_quarters() -> None:
    assert periods.previous_quarter("2024Q1") == "2023Q4"
    assert periods.previous_quarter("2024Q3") == "2024Q2"
    assert run.slugify("ML-1") == "ml-1"


# -- execution ------------------------------------------------------------------------------


def test_in_process_run_writes_notebook_and_html(probe, tmp_path: Path) -> None:
    result = run.execute_job(_job(tmp_path, *probe, "ML-1"))
    assert result.status == "ok", result.error
    assert result.records["title"] == "probe ML-1"
    nb = nbformat.read(tmp_path / "out" / "ML-1.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'region = "ML-1"' in injected[0].source
    # published without this machine's paths: the study relative to the notebook's folder
    assert 'study = "../study.yaml"' in injected[0].source
    assert str(tmp_path) not in (tmp_path / "out" / "ML-1.ipynb").read_text()
    assert nb.metadata.papermill.input_path == "probe.py"
    assert any(o.get("name") == "stdout" for c in nb.cells for o in c.get("outputs", []))
    page = (tmp_path / "out" / "ML-1.html").read_text()
    assert "<title>probe ML-1</title>" in page
    assert "import matplotlib" not in page  # no code in the report


def test_published_notebook_outputs_name_no_local_path(tmp_path: Path) -> None:
    """A library's warning on stderr named its file under this machine's site-packages in
    the published methods.ipynb; a traceback names the package's files and the study's."""
    import sysconfig

    site_packages = sysconfig.get_paths()["purelib"]
    package = str(Path(run.__file__).resolve().parents[1])
    study = tmp_path / "studies" / "s.yaml"
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [
        nbformat.v4.new_output(
            "stream",
            name="stderr",
            text=f"{site_packages}/statsmodels/discrete/discrete_model.py:4917: RuntimeWarning",
        ),
        nbformat.v4.new_output(
            "error",
            ename="InputError",
            evalue=f"invalid study {study}",
            traceback=[f"File \x1b[0;32m{package}/config.py:12\x1b[0m, in load_study", "30 km/h"],
        ),
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    out = run.without_local_paths(nb, {}, tmp_path / "out" / "r.ipynb", "probe.py")
    text = nbformat.writes(out)
    assert str(tmp_path) not in text and site_packages not in text and package not in text
    stream, error = out.cells[0].outputs
    assert stream.text.startswith("<site-packages>/statsmodels/discrete/discrete_model.py:4917")
    assert error.evalue == "invalid study ../studies/s.yaml"
    assert error.traceback == [
        "File \x1b[0;32m<conflict-trends>/config.py:12\x1b[0m, in load_study",
        "30 km/h",
    ]
    # prose with slashes, and paths whose top folder is not on this machine, are left alone
    assert run.portable_text("1/2 of /nonexistent-top/x", tmp_path) == "1/2 of /nonexistent-top/x"


def test_failure_keeps_notebook_with_error(probe, tmp_path: Path) -> None:
    result = run.execute_job(_job(tmp_path, *probe, "ML-4"))
    assert result.status == "failed"
    assert "probe failure" in result.error
    nb = nbformat.read(tmp_path / "out" / "ML-4.ipynb", as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors and errors[0].ename == "RuntimeError"
    assert nb.metadata.papermill.parameters["study"] == "../study.yaml"
    page = (tmp_path / "out" / "ML-4.html").read_text()
    assert "did not finish" in page and "probe failure &lt;b&gt;" in page


def test_forked_reports_do_not_leak_state_and_time_out(probe, tmp_path: Path) -> None:
    with ReportPool(modules=("numpy", "matplotlib.pyplot", "analysis.report.show")) as server:
        baseline = server.run(_job(tmp_path, *probe, "ML-1"))
        polluter = server.run(_job(tmp_path, *probe, "ML-2"))
        after = server.run(_job(tmp_path, *probe, "ML-5"))
        slow = server.run(_job(tmp_path, *probe, "ML-3"), timeout=3)
        still_serving = server.run(_job(tmp_path, *probe, "ML-6"))
    assert polluter.status == "ok"
    # the polluting report saw its own changes ...
    assert polluter.records["leaked_global"] and polluter.records["module_attr"]
    assert polluter.records["linewidth"] == 9.0
    # ... and the next report in the same server saw none of them
    for key in ("leaked_global", "module_attr", "linewidth"):
        assert after.records[key] == baseline.records[key], key
    # the seeded global random state did not carry over either (numpy reseeds in a fork)
    import numpy as np

    seeded = np.random.RandomState(7).random(2)
    assert polluter.records["draw"] == seeded[0]
    assert after.records["draw"] != seeded[1]
    assert slow.status == "timeout" and "timeout" in slow.error
    assert 2.5 < slow.duration < 30
    nb = nbformat.read(tmp_path / "out" / "ML-3.ipynb", as_version=4)
    assert nb.cells[-1].outputs[0].ename == "TimeoutError"
    assert "did not finish" in (tmp_path / "out" / "ML-3.html").read_text()
    assert still_serving.status == "ok"


def test_parameterized_copy(probe, tmp_path: Path) -> None:
    target = run.write_parameterized(
        str(probe[0]), {"study": str(probe[1]), "region": "ML-2"}, tmp_path / "copy.ipynb"
    )
    nb = nbformat.read(target, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert any('region = "ML-2"' in c.source for c in nb.cells)
    json.loads(target.read_text())


def test_single_report_forks_this_process(probe, tmp_path: Path) -> None:
    from analysis.report.pool import run_in_fork

    ok = run_in_fork(_job(tmp_path, *probe, "ML-2"))
    assert ok.status == "ok" and ok.records["leaked_global"]
    assert "leaked_global" not in globals()  # the report ran in the child, not here
    import analysis.report.show as show_module

    assert not hasattr(show_module, "LEAKED")
    slow = run_in_fork(_job(tmp_path, *probe, "ML-3"), timeout=2)
    assert slow.status == "timeout"


def test_records_are_json_safe() -> None:
    out = run._jsonable({"a": float("inf"), "b": [np.float64(np.nan), np.int64(3)], "c": {1: "x"}})
    assert out == {"a": None, "b": [None, 3], "c": {"1": "x"}}
    json.dumps(out, allow_nan=False)


def test_profiled_run_times_its_stages(tmp_path: Path) -> None:
    notebook = tmp_path / "timed.py"
    notebook.write_text(
        textwrap.dedent(
            """
            # %% tags=["parameters"]
            region = "ML-1"

            # %%
            import time
            from analysis.report import show

            show.markdown("Region {r}", r=region)
            time.sleep(0.3)
            show.record(title="timed")
            """
        )
    )
    study = tmp_path / "study.yaml"
    study.write_text("title: unused\n")
    job = _job(tmp_path, notebook, study, "ML-1")
    plain = run.execute_job(job)
    assert plain.status == "ok", plain.error
    assert {"template", "execute", "nbconvert", "writing", "total"} <= set(plain.timings)
    assert "tables_text" not in plain.timings  # fine stages only when profiling
    assert plain.timings["execute"] >= 0.3
    from dataclasses import replace

    from analysis.report import show

    profiled = run.execute_job(replace(job, extra={"profile": True}))
    assert profiled.timings["tables_text"] > 0
    assert profiled.timings["cells_other"] >= 0.3  # the sleep is in no instrumented stage
    assert not hasattr(show.markdown, "__wrapped__")  # the instrumentation was removed


def test_syntax_error_and_crash_are_recorded(probe, tmp_path: Path) -> None:
    notebook = tmp_path / "broken.py"
    notebook.write_text('# %% tags=["parameters"]\nregion = "ML-1"\n\n# %%\nif region ==\n')
    result = run.execute_job(_job(tmp_path, notebook, probe[1], "ML-1"))
    assert result.status == "failed" and "SyntaxError" in result.error
    nb = nbformat.read(tmp_path / "out" / "ML-1.ipynb", as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors and errors[0].ename == "SyntaxError"

    crash = tmp_path / "crash.py"
    crash.write_text('# %% tags=["parameters"]\nregion = "ML-1"\n\n# %%\nimport os\nos._exit(3)\n')
    from analysis.report.pool import run_in_fork

    died = run_in_fork(_job(tmp_path, crash, probe[1], "ML-7"))
    assert died.status == "failed" and "exit code 3" in died.error
    assert "did not finish" in (tmp_path / "out" / "ML-7.html").read_text()
