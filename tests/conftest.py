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


def _small_strided_backtest(n_regions: int, seed: int):
    """A backtest of four baselines on ``n_regions`` Poisson series of different levels
    (48 months), origins 3 periods apart from 2017-06, 6 steps, the first two regions the
    focus: the late steps of the last origins are unscored, so steps differ in outcomes."""
    import numpy as np
    import pandas as pd

    from analysis.evaluation import backtest
    from analysis.models.forecast import History

    rng = np.random.default_rng(seed)
    counts = rng.poisson(rng.uniform(0.5, 4, n_regions)[:, None], size=(n_regions, 48))
    history = History(counts.astype(np.int64), tuple(f"XX-{i}" for i in range(n_regions)),
                      pd.date_range("2015-01-01", periods=48, freq="MS"))  # fmt: skip
    return backtest(history, ["zero", "last_value", "recent_mean_3", "nb_climatology"],
                    start="2017-06", horizon=6, n_samples=100, seed=1, stride=3,
                    focus=["XX-0", "XX-1"])  # fmt: skip


@pytest.fixture(scope="session")
def small_strided_backtest():
    """:func:`_small_strided_backtest`, called with the number of regions and a seed."""
    return _small_strided_backtest
