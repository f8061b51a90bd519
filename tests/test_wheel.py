"""The product a team installs: the wheel, installed into a fresh venv, renders a report in a
project scaffolded by ``conflict-trends init``, from a folder away from the checkout.

Dependencies are installed with ``--no-index`` from a wheelhouse kept between runs
(``test-artifacts/wheelhouse``, or ``CONFLICT_TRENDS_WHEELHOUSE``), filled by ``pip wheel`` the
first time and whenever the wheel's requirements change; the package itself always comes
from the wheel built in this run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
WHEELHOUSE = Path(
    os.environ.get("CONFLICT_TRENDS_WHEELHOUSE", ROOT / "test-artifacts" / "wheelhouse")
)


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 900) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def _build_wheel(tmp: Path, env: dict[str, str]) -> Path:
    """Build from a copy of the sources, so the checkout gets no build/ or egg-info."""
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "analysis", src / "analysis", ignore=shutil.ignore_patterns("__pycache__", "*.ipynb")
    )
    dist = tmp / "dist"
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(src)], tmp, env)
    (wheel,) = dist.glob("conflict_trends-*.whl")
    return wheel


def test_sdist_builds_a_wheel_with_the_package_data_and_no_tests(tmp_path: Path) -> None:
    """``python -m build`` as a release does it: the sdist, then the wheel built from the sdist.

    The wheel must carry every file the package loads at run time (the notebook templates,
    nbconvert templates and styles, boundaries and adjacency), and neither archive a test: the
    sdist carried tests/test_*.py (setuptools adds them) without tests/conftest.py, studies/ or
    benchmarks/, so they could not run.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "MANIFEST.in", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.ipynb", ".pytest_cache")
    for name in ("analysis", "tests"):
        shutil.copytree(ROOT / name, src / name, ignore=junk)
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(src)], tmp_path, env)
    (sdist,) = dist.glob("conflict_trends-*.tar.gz")
    (wheel,) = dist.glob("conflict_trends-*.whl")

    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    prefix = f"conflict_trends-{version.group(1)}/"
    with tarfile.open(sdist) as archive:
        in_sdist = {n.removeprefix(prefix) for n in archive.getnames()}
    assert {"pyproject.toml", "README.md", "PKG-INFO", "LICENSE"} <= in_sdist
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    # the MIT notice travels with the code (pyproject declared MIT with no text to ship)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in in_wheel), sorted(in_wheel)
    tracked = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "analysis").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".ipynb")
    }
    data = {p for p in tracked if not p.endswith(".py")}
    assert data >= {
        "analysis/data/admin1_west_africa.geojson",
        "analysis/data/admin1_adjacency_west_africa.csv",
        "analysis/report/templates/conflict_trends/report.css",
        "analysis/py.typed",  # PEP 561: other projects' type checkers read the hints
    }
    notebooks = {p for p in tracked if p.startswith("analysis/report/notebooks/")}
    assert notebooks >= {"analysis/report/notebooks/region_report.py"}
    assert tracked <= in_sdist, sorted(tracked - in_sdist)
    assert tracked <= in_wheel, sorted(tracked - in_wheel)
    for names in (in_sdist, in_wheel):
        assert not [n for n in names if n.startswith("tests/") or "conftest" in n]
        assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".ipynb"))]
    assert not [n for n in in_wheel if not n.startswith(("analysis/", "conflict_trends-"))]


def _requirements(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(name).decode()
    return sorted(
        line.split(":", 1)[1].strip()
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    )


def _fill_wheelhouse(wheel: Path, env: dict[str, str]) -> None:
    """Wheels of every runtime dependency, refreshed only when the requirements change."""
    stamp = WHEELHOUSE / "requirements.sha256"
    digest = hashlib.sha256(json.dumps(_requirements(wheel)).encode()).hexdigest()
    if stamp.is_file() and stamp.read_text().strip() == digest:
        return
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", str(WHEELHOUSE), str(wheel)],
        WHEELHOUSE,
        env,
        timeout=1800,
    )
    for own in WHEELHOUSE.glob("conflict_trends-*.whl"):  # always the wheel of this run
        own.unlink()
    stamp.write_text(digest + "\n")


@pytest.mark.timeout(1800)
def test_wheel_installs_and_renders_a_report_in_a_fresh_project(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    env["CONFLICT_TRENDS_REPORT_CACHE"] = str(tmp_path / "cache")
    wheel = _build_wheel(tmp_path, env)
    assert {"analysis/report/notebooks/region_report.py", "analysis/report/assets.py"} <= set(
        zipfile.ZipFile(wheel).namelist()
    )
    _fill_wheelhouse(wheel, env)

    started = time.perf_counter()
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path, env)
    python = venv / "bin" / "python"
    _run(
        # --no-compile: byte-compiling every dependency up front took 5 of 6 minutes here;
        # modules are compiled when first imported instead
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-index",
         "--no-compile", "--find-links", str(WHEELHOUSE), str(wheel)],
        tmp_path,
        env,
    )  # fmt: skip
    installed = time.perf_counter()
    cli = str(venv / "bin" / "conflict-trends")
    where = tmp_path / "elsewhere"
    where.mkdir()
    origin = _run([str(python), "-c", "import analysis; print(analysis.__file__)"], where, env)
    assert str(venv) in origin and str(ROOT) not in origin
    # pip ran with --no-compile, so compile what a report imports now (counted in the time to
    # the first report) rather than inside the report server's start-up time limit
    warm = "import importlib, analysis.report.warmup as f\n"
    warm += "for m in f.MODULES: importlib.import_module(m)"
    _run([str(python), "-c", warm], where, env)

    # the README's next three steps in a project made by `init`
    _run([cli, "init", "proj"], where, env)
    project = where / "proj"
    readme = (project / "README.md").read_text()
    steps = re.findall(r"^(conflict-trends [^#\n]+?)\s+#", readme, flags=re.MULTILINE)
    assert [s.split()[1] for s in steps] == ["demo-data", "report", "notebook"]
    _run([cli, *steps[0].split()[1:]], project, env)
    _run([cli, *steps[1].split()[1:]], project, env)
    rendered = time.perf_counter()
    out = _run([cli, *steps[2].split()[1:]], project, env)
    assert "pip install 'conflict-trends[lab]'" in out  # no JupyterLab in this venv
    assert list((project / "notebooks").glob("*.ipynb"))

    pages = sorted((project / "reports").rglob("*.html"))
    assert {p.name for p in pages} >= {"ml-1.html", "methods.html"}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert str(tmp_path) not in text, page  # no path of the machine that rendered it
        for target in re.findall(r'href="([^"#:]+)[^"]*"', text):
            assert (page.parent / target).exists(), (page.name, target)
    region = (project / "reports" / "example" / "ml-1.html").read_text(encoding="utf-8")
    assert "SYNTHETIC" in region and 'href="methods.html"' in region
    assert "../data/raw/demo/demo_acled.csv" in region  # relative to the study file
    # the sizes and times a team asks about, in the test log (-s or -rA)
    size = wheel.stat().st_size
    print(
        f"\nwheel {wheel.name}: {size / 1024:.0f} KiB; pip install (from the wheelhouse) "
        f"{installed - started:.1f} s; install to first report {rendered - started:.1f} s"
    )
