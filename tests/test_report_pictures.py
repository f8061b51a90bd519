"""Report pictures: a background drawn once makes the same PNG bytes as a full draw."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def pictures(monkeypatch):
    from analysis import cache, plots
    from analysis.report import pictures

    monkeypatch.setattr(pictures, "_BACKGROUNDS", cache.Memory(16))
    monkeypatch.setattr(plots, "_BLANKS", {})
    return pictures


def _panel(start: str = "2019-01-01", n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    periods = pd.date_range(start, periods=n, freq="MS")
    ids = ["ML-1", "ML-2", "ML-3"]
    return pd.DataFrame(
        {
            "region_id": np.repeat(ids, n),
            "region_name": np.repeat(["Kayes", "Koulikoro", "Sikasso"], n),
            "period": np.tile(periods, len(ids)),
            # very different scales: the y-axes (drawn by each figure) differ
            "events": np.r_[rng.poisson(2, n), rng.poisson(300, n), np.zeros(n, int)],
            "fatalities": 0,
        }
    )


def _forecast(panel: pd.DataFrame):
    from analysis.models.forecast import ForecastResult

    rng = np.random.default_rng(6)
    last = panel["period"].max()
    steps = pd.date_range(last + pd.offsets.MonthBegin(1), periods=6, freq="MS")
    samples = rng.poisson([[[2]], [[250]], [[0.2]]], (3, 6, 200))
    return ForecastResult(samples, ("ML-1", "ML-2", "ML-3"), steps, last, "m", 1)


def _figures(panel, fc, region):
    from analysis import plots

    return [
        plots.monthly_counts(panel, ["ML-1", "ML-2", "ML-3"], focus=region),
        plots.fan_chart(panel, fc, region, title=f"{region}: forecast"),
    ]


def _png(pictures, fig) -> bytes:
    import matplotlib.pyplot as plt

    data = pictures.png(fig)
    plt.close(fig)
    return data


def _count_reuse(pictures, monkeypatch) -> list:
    reused = []
    draw_over = pictures._draw_over
    monkeypatch.setattr(pictures, "_draw_over", lambda *a: reused.append(1) or draw_over(*a))
    return reused


def test_figures_over_a_recorded_background_are_the_same_pngs(pictures, monkeypatch):
    reused = _count_reuse(pictures, monkeypatch)
    panel = _panel()
    fc = _forecast(panel)
    full = {r: [_png(pictures, f) for f in _figures(panel, fc, r)] for r in ("ML-2", "ML-3")}
    assert pictures._BACKGROUNDS.keys() == []  # nothing kept outside recording()
    with pictures.recording():
        drawn = [_png(pictures, f) for f in _figures(panel, fc, "ML-1")]
    assert len(pictures._BACKGROUNDS.keys()) == 2  # one per figure kind
    assert drawn[0].startswith(b"\x89PNG")
    for region in ("ML-2", "ML-3"):
        assert [_png(pictures, f) for f in _figures(panel, fc, region)] == full[region], region
    assert len(reused) == 4


def test_a_figure_over_other_periods_is_drawn_in_full(pictures, monkeypatch):
    from PIL import Image

    reused = _count_reuse(pictures, monkeypatch)
    panel, other = _panel(), _panel("2015-01-01", 48)
    with pictures.recording():
        for fig in _figures(panel, _forecast(panel), "ML-1"):
            _png(pictures, fig)
    figs = _figures(other, _forecast(other), "ML-1")
    image = Image.open(io.BytesIO(_png(pictures, figs[0])))
    _png(pictures, figs[1])
    assert reused == []
    assert image.mode == "RGB" and image.size == (864, 403)  # 9 x 4.2 in at 96 dpi


def test_only_the_named_figures_share_a_background(pictures):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.2))
    ax.plot(pd.date_range("2019-01-01", periods=12, freq="MS"), np.arange(12))
    assert pictures.background_key(fig) is None
    fig.set_label("monthly_counts")
    fig.suptitle("a figure-level title")
    assert pictures.background_key(fig) is None  # not in the background: drawn in full
    with pictures.recording():
        _png(pictures, fig)
    assert pictures._BACKGROUNDS.keys() == []
