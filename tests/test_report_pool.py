"""The report processes' fork server (:mod:`analysis.report.pool`)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import analysis

PROBE = textwrap.dedent(
    """
    import multiprocessing

    from analysis.report import pool

    if __name__ == "__main__":
        pool.start_server(modules=("analysis",))
        with multiprocessing.get_context("forkserver").Pool(1) as workers:
            print(workers.apply(eval, ("__import__('analysis').__file__",)))
            print(workers.apply(eval, ("__import__('os').environ.get('PYTHONSAFEPATH')",)))
    """
)


@pytest.mark.parametrize("user_value", [None, ""])
def test_a_users_own_analysis_package_does_not_shadow_this_one_in_report_processes(
    tmp_path: Path, user_value: str | None
) -> None:
    """A project folder with its own ``analysis/`` package, the command run from there: the
    fork server starts as ``python -c``, with the working folder first on its import path, and
    every report had failed ("cannot import name 'installed_version' from 'analysis'"). An
    empty PYTHONSAFEPATH, which Python reads as unset, is no reason to leave it so."""
    project = tmp_path / "project"
    (project / "analysis").mkdir(parents=True)
    (project / "analysis" / "__init__.py").write_text("# a user's own package\n")
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}
    if user_value is not None:
        env["PYTHONSAFEPATH"] = user_value
    run = subprocess.run(
        [sys.executable, str(script)], cwd=project, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    where, safe_path = run.stdout.split()
    assert Path(where) == Path(analysis.__file__)
    # and the reports' own processes do not inherit the variable (an empty one means unset)
    assert safe_path == "None"
