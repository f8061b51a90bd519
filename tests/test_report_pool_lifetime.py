"""A batch that is stopped takes its processes with it: SIGTERM is an interrupt with the usual
clean-up, and forked report and preparation processes end when their parent does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import yaml


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie has ended; only its parent has not collected it
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().split(")")[-1].split()[0] != "Z"


def test_a_forked_child_ends_when_its_parent_is_killed(tmp_path):
    code = textwrap.dedent(
        """
        import os, sys, time
        from analysis.report.pool import die_with_parent
        child = os.fork()
        if child == 0:
            die_with_parent()
            time.sleep(60)
            os._exit(0)
        print(child, flush=True)
        time.sleep(0.5)
        os._exit(0)  # the parent dies as a SIGKILLed batch would: no clean-up
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    child = int(done.stdout.split()[0])
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child)


def test_a_child_of_a_batch_that_is_pid_1_runs(tmp_path):
    """In a container the batch may be pid 1: its children must not take that parent for an
    init process that adopted them (every report and preparation had exited at once)."""
    import shutil

    if shutil.which("unshare") is None:
        import pytest

        pytest.skip("unshare is not installed")
    code = textwrap.dedent(
        """
        import os, sys
        from analysis.report.pool import die_with_parent
        parent = os.getpid()
        child = os.fork()
        if child == 0:
            die_with_parent(parent)
            os._exit(7)
        _, status = os.waitpid(child, 0)
        print(os.getpid(), os.waitstatus_to_exitcode(status), flush=True)
        """
    )
    done = subprocess.run(["unshare", "-pf", "--mount-proc", sys.executable, "-c", code],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    if done.returncode != 0 and "Operation not permitted" in done.stderr:
        import pytest

        pytest.skip("no permission for a pid namespace here")
    assert done.stdout.split() == ["1", "7"], done.stderr


def test_sigterm_is_an_interrupt_for_the_console_entry_point():
    code = textwrap.dedent(
        """
        import time
        from analysis.commands._common import stop_on_sigterm
        stop_on_sigterm()
        try:
            print("ready", flush=True)  # inside: the signal may come before the sleep
            time.sleep(30)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    assert out.strip() == "interrupted" and proc.returncode == 0


def test_a_batch_stopped_with_sigterm_leaves_no_process_and_no_staged_file(
    demo_study_path, tmp_path
):
    """Stopped while its study is prepared (a fresh cache makes that take a while): the
    batch exits as interrupted, and nothing it started goes on writing."""
    import psutil

    raw = yaml.safe_load(demo_study_path.read_text())
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(raw, sort_keys=False))
    out = tmp_path / "out"
    env = {**os.environ, "CONFLICT_TRENDS_REPORT_CACHE": str(tmp_path / "cache"),
           "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}  # fmt: skip
    command = [sys.executable, "-m", "analysis.cli", "batch", str(study), "--out", str(out),
               "--quiet"]  # fmt: skip
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    batch = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    children: list[psutil.Process] = []
    while time.monotonic() < deadline and not children:
        time.sleep(0.2)
        children = batch.children(recursive=True)
    assert children, "the batch started no process to prepare its study"
    time.sleep(1.0)
    children = batch.children(recursive=True)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert "interrupted" in err.decode()
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, [p.cmdline()[:3] for p in alive]
    staged = [p for p in Path(out).rglob("*") if ".staged." in p.name or p.suffix == ".tmp"]
    assert not staged
