"""Shared fixtures: the real UCDP file (when available) and small synthetic data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REAL_DATA_ENV = "CONFLICT_TRENDS_REAL_DATA"


@pytest.fixture(scope="session")
def real_data_path() -> Path:
    """Path of the real UCDP GED file; skips the test when it is not configured."""
    value = os.environ.get(REAL_DATA_ENV)
    if not value:
        pytest.skip(f"{REAL_DATA_ENV} is not set")
    path = Path(value)
    if not path.is_file():
        pytest.fail(f"{REAL_DATA_ENV}={value} does not exist")
    return path


@pytest.fixture(scope="session")
def boundaries():
    from analysis.geography import load_boundaries

    return load_boundaries()


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """The demo data written once per session into a temporary folder."""
    from analysis.simulate import write_demo

    out = tmp_path_factory.mktemp("demo")
    write_demo(out)
    return out


@pytest.fixture(scope="session")
def demo_study_path(demo_dir: Path, tmp_path_factory) -> Path:
    """A copy of studies/demo.yaml pointing at the session's demo data."""
    import yaml

    root = Path(__file__).resolve().parent.parent
    raw = yaml.safe_load((root / "studies" / "demo.yaml").read_text())
    raw["data"] = [str(demo_dir / "demo_acled.csv")]
    folder = tmp_path_factory.mktemp("study")
    path = folder / "demo.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path
