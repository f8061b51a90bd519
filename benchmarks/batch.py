"""Batch speed: N region reports of the demo study (notebook run + HTML), two ways, same run.

- ``batch``: the batch runner (``analysis.report.pool``, as ``batch`` uses it), in a fresh
  process: one pre-imported fork server, the study loaded and modelled once before the first
  fork, two reports at a time.
- ``baseline``: the plain way: papermill with a fresh Jupyter kernel per notebook, two at a
  time, then nbconvert to HTML with the same template.

Both read the same on-disk study cache (warmed first, outside the timings), so the difference
is what the batch runner exists to remove: kernel start and imports per report. Wall times
include starting the fork server. CPU seconds are printed beside them, which a shared machine
does not inflate as it does wall times: each report process's own (``timings["cpu"]``), the
fork server's start-up, and for the baseline this process with the kernels it started and
waited for. The last line printed is JSON.

``--profile`` instead runs reports one at a time through the same runner and prints where one
report's time goes (medians over the reports): ``fork_ipc`` (the parent's wall time minus the
child's own, i.e. forking, shipping the job and the result), ``template`` (parameters and
notebook), ``study_load``, ``model_fits``, ``figures``, ``tables_text``, ``cells_other``
(the rest of the cells: interpreter, IPython, papermill), ``nbconvert`` and ``writing``;
plus the once-per-batch start-up (server start and study preload, up to a first no-op job).
``--profile --cprofile`` also runs each of those reports under :mod:`cProfile` (in the report
process) and adds the functions with the most cumulative time, per report, to the JSON.

Usage: ``python benchmarks/batch.py [--reports 60] [--workers 2] [--repeats 3] [--profile
[--cprofile]]``; the ratios are of medians over the repeats, each way timed in every one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def _study(tmp: Path) -> Path:
    """The demo study, with its data written to a scratch folder if the repo has none."""
    from analysis.simulate import write_demo

    demo = ROOT / "data" / "raw" / "demo" / "demo_acled.csv"
    if not demo.is_file():
        demo = tmp / "demo" / "demo_acled.csv"
        if not demo.is_file():
            write_demo(tmp / "demo")
    text = (ROOT / "studies" / "demo.yaml").read_text()
    text = text.replace("../data/raw/demo/demo_acled.csv", str(demo))
    study = tmp / "demo.yaml"
    study.write_text(text)
    return study


def _jobs(study: Path, out: Path, n: int) -> list:
    from analysis.report.batch import plan

    items = plan([study], out, regions="all", overview=False, methods_notebook=None)
    jobs = []
    for i in range(n):
        job = items[i % len(items)].job
        stem = f"{i:03d}-{Path(job.html_path).stem}"
        jobs.append(
            replace(
                job,
                html_path=str(out / f"{stem}.html"),
                ipynb_path=str(out / f"{stem}.ipynb"),
            )
        )
    return jobs


def run_batch_way(study: Path, jobs: list, workers: int) -> tuple[float, dict, list]:
    """Wall time, start-up time and results of the batch runner, in a fresh process (the
    standard library's fork server lives as long as the process that started it, so a fresh
    process is what makes every repeat pay the server start and study preload, as a batch
    does)."""
    import subprocess

    from analysis.report.run import JobResult

    spec = Path(jobs[0].html_path).parent / "jobs.json"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(json.dumps({"study": str(study), "jobs": [j.to_dict() for j in jobs]}))
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--run-batch", str(spec), "--workers", str(workers)],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    reply = json.loads(done.stdout.strip().splitlines()[-1])
    results = [JobResult(**r) for r in reply["results"]]
    return wall, {"wall": reply["startup"], "cpu": reply["server_cpu"]}, results


def _batch_child(spec: Path, workers: int) -> None:
    """Body of :func:`run_batch_way`'s process: the batch runner's pool, as ``batch`` uses it."""
    from analysis.report.pool import ReportPool
    from analysis.report.run import ReportJob

    order = json.loads(spec.read_text())
    jobs = [ReportJob(**j) for j in order["jobs"]]
    results = []
    start = time.perf_counter()
    with ReportPool(workers=workers, studies=[(order["study"], "", True)]) as pool:
        pool_started = time.perf_counter()
        startup = pool.ready() + pool_started - start
        server_cpu = pool.server_cpu_seconds()
        pool.run_all(jobs, lambda job, result: results.append(result.to_dict()))
    reply = {"startup": startup, "server_cpu": server_cpu, "results": results}
    print(json.dumps(reply, default=str))


def profile_way(study: Path, jobs: list, cprofile_dir: Path | None = None) -> dict:
    """Run ``jobs`` one at a time with per-stage timing; medians of each stage (and, with
    ``cprofile_dir``, the top functions of a cProfile of every report)."""
    from analysis.report.pool import ReportPool

    rows, stats = [], []
    start = time.perf_counter()
    with ReportPool(workers=1, studies=[(str(study), "", True)]) as pool:
        pool_started = time.perf_counter()
        startup = pool.ready() + pool_started - start
        for job in jobs:
            extra = {**job.extra, "profile": True}
            if cprofile_dir is not None:
                stats.append(str(cprofile_dir / f"report-{len(stats)}.prof"))
                extra["cprofile"] = stats[-1]
            job = replace(job, extra=extra)
            t = time.perf_counter()
            result = pool.run(job)
            wall = time.perf_counter() - t
            if result.status != "ok":
                raise RuntimeError(f"profiled report failed: {result.error}")
            rows.append({"wall": wall, "fork_ipc": wall - result.duration, **result.timings})
    stages = [k for k in rows[0] if k not in ("execute",)]
    out = {
        "reports": len(rows),
        "startup_and_study_preload_seconds": round(startup, 3),
        "per_report_median_seconds": {
            k: round(statistics.median(r.get(k, 0.0) for r in rows), 3) for k in stages
        },
    }
    if stats:
        out["cprofile_top_cumulative_seconds_per_report"] = _cprofile_top(stats)
    return out


def _cprofile_top(paths: list[str], n: int = 25) -> list[list]:
    """``[function, cumulative seconds per report]`` of the ``n`` functions with the most
    cumulative time over the profiled reports (the profiler's overhead included)."""
    import pstats

    table = pstats.Stats(*paths).stats  # (file, line, name) -> (cc, nc, tt, ct, callers)
    rows = sorted(table.items(), key=lambda item: -item[1][3])[:n]
    return [
        [f"{Path(f).name}:{line}({name})", round(v[3] / len(paths), 4)]
        for (f, line, name), v in rows
    ]


def _cpu_with_children() -> float:
    """CPU seconds of this process and of its children that have been waited for."""
    import resource

    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_plain_way(jobs: list, workers: int) -> tuple[float, float, list]:
    """Wall time, CPU seconds (this process and the kernels it started) and results."""
    from analysis.report.run import execute_job

    start, cpu = time.perf_counter(), _cpu_with_children()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda j: execute_job(j, engine="kernel"), jobs))
    return time.perf_counter() - start, _cpu_with_children() - cpu, results


EMPTY_WITH_IMPORTS = """
import nbformat, papermill
from nbconvert import HTMLExporter
nb = nbformat.v4.new_notebook()
nb.cells = [nbformat.v4.new_code_cell(
    "import numpy, pandas, scipy.stats, matplotlib.pyplot, seaborn\\n"
    "import statsmodels.discrete.discrete_model, geopandas\\n"
    "import analysis.report.show, analysis.growth, analysis.plots, analysis.models.forecast\\n"
    "import analysis.models.spillover, analysis.pipeline"
)]
out = papermill.execute_notebook(nb, None, kernel_name="python3", progress_bar=False)
HTMLExporter(exclude_input=True).from_notebook_node(out)
"""


def cold(study: Path, tmp: Path, runs: int = 3) -> dict[str, float | list[float]]:
    """One report from a cold start (the CLI), against papermill + nbconvert on an empty
    notebook that makes the same imports, both as fresh Python processes, alternated
    ``runs`` times; medians."""
    import subprocess

    env = {**os.environ}
    reports, empties = [], []
    for r in range(runs):
        t = time.perf_counter()
        subprocess.run(
            [
                str(Path(sys.executable).parent / "conflict-trends"),
                "report",
                str(study),
                "--out",
                str(tmp / f"cold-{r}"),
            ],  # fmt: skip
            check=True,
            env=env,
            capture_output=True,
        )
        reports.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", EMPTY_WITH_IMPORTS], check=True, env=env, capture_output=True
        )
        empties.append(time.perf_counter() - t)
    report, empty = statistics.median(reports), statistics.median(empties)
    return {
        "cold_report_seconds": round(report, 2),
        "cold_empty_notebook_seconds": round(empty, 2),
        "cold_ratio": round(report / empty, 2),
        "cold_report_seconds_runs": [round(x, 2) for x in reports],
        "cold_empty_notebook_seconds_runs": [round(x, 2) for x in empties],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each way (medians)")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--cold", action="store_true", help="also time one cold report")
    parser.add_argument("--profile", action="store_true", help="where one report's time goes")
    parser.add_argument("--cprofile", action="store_true", help="with --profile: cProfile too")
    parser.add_argument("--run-batch", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_batch:
        _batch_child(args.run_batch, args.workers)
        return 0

    tmp = Path(tempfile.mkdtemp(prefix="ct-bench-"))
    # an existing cache folder may be given: the study is then kept beside it, so that its
    # study-level results are computed once, not in every run (outside the timings anyway)
    given = os.environ.get("CONFLICT_TRENDS_REPORT_CACHE", "")
    os.environ.setdefault("CONFLICT_TRENDS_REPORT_CACHE", str(tmp / "cache"))
    try:
        kept = Path(given).parent / "benchmark-study" if given not in ("", "off") else tmp
        kept.mkdir(parents=True, exist_ok=True)
        study = _study(kept)
        from analysis.report import context

        t0 = time.perf_counter()
        context.warm(str(study))  # fills the on-disk study cache both ways read
        warm_seconds = time.perf_counter() - t0

        if args.profile:
            jobs = _jobs(study, tmp / "profile", args.reports)
            out = profile_way(study, jobs, tmp if args.cprofile else None)
            out.update(cpu_count=os.cpu_count(), load_average_1min=round(os.getloadavg()[0], 2))
            print(json.dumps(out))
            return 0
        if args.reports < 1:  # only the cold-start comparison
            print(json.dumps({"study_cache_warm_seconds": round(warm_seconds, 2),
                              **cold(study, tmp)}))  # fmt: skip
            return 0
        batch_times, plain_times, startups, failures, per_report = [], [], [], [], []
        batch_cpu, plain_cpu, report_cpu = [], [], []
        for r in range(args.repeats):
            jobs = _jobs(study, tmp / f"batch-{r}", args.reports)
            seconds, startup, results = run_batch_way(study, jobs, args.workers)
            batch_times.append(seconds)
            startups.append(startup)
            failures += [x.error for x in results if x.status != "ok"]
            per_report += [x.duration for x in results]
            report_cpu += [x.timings.get("cpu", 0.0) for x in results]
            batch_cpu.append(startup["cpu"] + sum(x.timings.get("cpu", 0.0) for x in results))
            if not args.skip_baseline:
                jobs = _jobs(study, tmp / f"plain-{r}", args.reports)
                seconds, cpu, results = run_plain_way(jobs, args.workers)
                plain_times.append(seconds)
                plain_cpu.append(cpu)
                failures += [x.error for x in results if x.status != "ok"]
            print(
                f"repeat {r}: batch {batch_times[-1]:.1f} s"
                + (f", plain {plain_times[-1]:.1f} s" if plain_times else ""),
                file=sys.stderr,
            )
        batch_s = statistics.median(batch_times)
        out = {
            "reports": args.reports,
            "workers": args.workers,
            "repeats": args.repeats,
            "seconds": round(batch_s, 2),
            "seconds_per_report": round(batch_s / args.reports, 3),
            "median_report_seconds_in_child": round(statistics.median(per_report), 3),
            "median_report_cpu_seconds": round(statistics.median(report_cpu), 3),
            "batch_startup_seconds": round(statistics.median(s["wall"] for s in startups), 2),
            "batch_startup_cpu_seconds": round(statistics.median(s["cpu"] for s in startups), 2),
            # fork server start-up plus every report, in CPU seconds: what the batch costs
            # whatever else the machine runs (wall times on a shared machine are not)
            "batch_cpu_seconds_per_report": round(statistics.median(batch_cpu) / args.reports, 3),
            "study_cache_warm_seconds": round(warm_seconds, 2),
            "failures": len(failures),
            "cpu_count": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
        }
        if plain_times:
            plain_s = statistics.median(plain_times)
            out.update(
                baseline_seconds=round(plain_s, 2),
                baseline_seconds_per_report=round(plain_s / args.reports, 3),
                speedup=round(plain_s / batch_s, 2),
                baseline_cpu_seconds_per_report=round(
                    statistics.median(plain_cpu) / args.reports, 3
                ),
                cpu_ratio=round(statistics.median(plain_cpu) / statistics.median(batch_cpu), 2),
            )
        if args.cold:
            out.update(cold(study, tmp))
        if failures:
            print("failures:", failures[:3], file=sys.stderr)
        print(json.dumps(out))
        return 1 if failures else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
