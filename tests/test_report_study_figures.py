"""Study-level figures of the region report: drawn once per study, quarter and group."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def figures(demo_study_path, monkeypatch, tmp_path):
    """study_figures with fresh memory, reading backtest scores with known PIT values."""
    from analysis import cache
    from analysis.report import context, study_figures

    monkeypatch.setenv(context.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(study_figures, "_PICTURES", cache.Memory(8))
    rng = np.random.default_rng(3)
    n = 300
    scores = pd.DataFrame(
        {
            "group": np.repeat(["focus", "active", "quiet"], n),
            "model": np.tile(["local_level", "zero"], 3 * n // 2),
            # a different PIT shape per group, so a wrong group draws a different picture
            "pit": np.r_[rng.uniform(size=n), rng.beta(0.5, 0.5, n), rng.beta(3, 3, n)],
        }
    )
    onset = {
        "available": True,
        "reliability_onset_model": [
            {"mean_predicted": p, "observed_frequency": p * 0.9, "n": 20} for p in (0.05, 0.2, 0.4)
        ],
    }
    shared = SimpleNamespace(
        backtest=SimpleNamespace(scores=scores),
        evidence_model="local_level",
        onset_backtest=onset,
        model_for=lambda is_focus: (
            f"auto (local_level for the {'focus' if is_focus else 'others'})"
        ),
    )
    calls = []
    monkeypatch.setattr(context, "results", lambda *a, **k: calls.append(a) or shared)
    return study_figures, shared, str(demo_study_path)


def test_pit_histogram_is_the_groups_figure_drawn_once(figures, monkeypatch):
    from analysis import plots
    from analysis.report import show

    study_figures, shared, study = figures
    scores = shared.backtest.scores
    active = scores[(scores["group"] == "active") & (scores["model"] == "local_level")]
    # titled with the model as the backtest runs it, choosing at each origin, and the group:
    # not the candidates chosen today, which did not make these forecasts
    expected = show.picture(
        plots.pit_histogram(
            {"local_level (active regions, choosing at each origin)": active["pit"]}
        )
    )

    drawn = []
    original = plots.pit_histogram
    monkeypatch.setattr(plots, "pit_histogram", lambda *a, **k: drawn.append(a) or original(*a))
    first = study_figures.pit_histogram(study, "", "active")
    assert first.png == expected.png  # the chosen model's PIT of that group, nothing else
    assert study_figures.pit_histogram(study, "", "active") is first
    assert len(drawn) == 1  # the second report of the group reuses the picture
    assert study_figures.pit_histogram(study, "", "quiet").png != first.png
    assert study_figures.pit_histogram(study, "2024Q3", "active") is not first  # another key


def test_onset_reliability_is_drawn_once_or_not_at_all(figures):
    from analysis import plots
    from analysis.report import show

    study_figures, shared, study = figures
    expected = show.picture(
        plots.onset_reliability(shared.onset_backtest["reliability_onset_model"])
    )
    picture = study_figures.onset_reliability(study, "")
    assert picture.png == expected.png
    assert study_figures.onset_reliability(study, "") is picture
    shared.onset_backtest = {"available": False}
    assert study_figures.onset_reliability(study, "2024Q3") is None


def test_warm_draws_every_group_and_the_onset_curve(figures):
    study_figures, _, study = figures
    drawn = study_figures.warm(study, "")
    assert len(drawn) == 4 and all(d is not None for d in drawn)
    assert study_figures.pit_histogram(study, "", "focus") is drawn[1]  # sorted: active, focus
