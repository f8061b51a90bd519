"""Figures that are the same in every region report of a study, drawn once per study.

The region report's PIT histogram shows the chosen model's backtest for the region's group
(focus, active or quiet), and its onset reliability curve shows the study's onset backtest:
neither depends on the region beyond its group. Drawing them in every report cost about a
fifth of a report's time; here each is drawn once per study, as-of quarter and group, and
kept as a rendered PNG (:class:`analysis.report.show.Picture`). In a batch
:func:`warm` runs in the fork server before the first fork (:mod:`analysis.report.warmup`),
so every report inherits the pictures; a report run on its own draws them on first use.
The fork server also draws, through :func:`shared_backgrounds`, the part of the region
report's counts figure and fan chart that is the same in every region (their x-axis,
:mod:`analysis.report.pictures`).

Kept in memory only (never on disk): a picture depends on the installed matplotlib and fonts,
which the cache key does not cover. The key is otherwise that of the study's results
(:func:`analysis.report.context.results`): study file, data bytes, code version, quarter.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from analysis import cache
from analysis.report import context
from analysis.report.show import Picture, picture

T = TypeVar("T")
_PICTURES = cache.Memory(32)


def _memo(
    kind: str, study_path: str | os.PathLike[str], quarter: str, extra: tuple, draw: Callable[[], T]
) -> T:
    # the key of the study's results (context's key: the same study, data bytes,
    # code version and quarter), plus what tells the pictures of one study apart
    key = replace(context.study_key(kind, study_path, quarter), extra=extra)
    return cache.memo(key, draw, memory=_PICTURES)


def pit_histogram(study_path: str | os.PathLike[str], quarter: str, group: str) -> Picture:
    """Randomised PIT histogram of the chosen model's backtest forecasts for one group.

    Parameters
    ----------
    study_path : str or path
        The study YAML.
    quarter : str
        ``YYYYQn`` or empty for the whole window.
    group : str
        ``focus``, ``active`` or ``quiet`` (the ``group`` column of the backtest scores).

    Returns
    -------
    Picture
        The figure of :func:`analysis.plots.pit_histogram`, rendered, titled with the report
        model as the backtest runs it (choosing its candidates afresh at each origin) and the
        group.
    """
    from analysis import plots

    def draw() -> Picture:
        shared = context.results(study_path, quarter)
        scores = shared.backtest.scores
        sub = scores[(scores["group"] == group) & (scores["model"] == shared.evidence_model)]
        # the backtest reruns auto's choice at every origin, so the panel is auto's as it runs,
        # not the candidates it chose today (which the Forecast section names)
        title = f"{shared.evidence_model} ({group} regions, choosing at each origin)"
        return picture(plots.pit_histogram({title: sub["pit"]}))

    return _memo("pit_figure", study_path, quarter, (group,), draw)


def onset_reliability(study_path: str | os.PathLike[str], quarter: str) -> Picture | None:
    """Reliability curve of the study's onset backtest (None when it is not available).

    Parameters
    ----------
    study_path : str or path
        The study YAML.
    quarter : str
        ``YYYYQn`` or empty for the whole window.

    Returns
    -------
    Picture or None
        The figure of :func:`analysis.plots.onset_reliability`, rendered.
    """
    from analysis import plots

    def draw() -> Picture | None:
        card = context.results(study_path, quarter).onset_backtest
        if not card or not card.get("available"):
            return None
        return picture(plots.onset_reliability(card["reliability_onset_model"]))

    return _memo("onset_figure", study_path, quarter, (), draw)


def shared_backgrounds(study_path: str | os.PathLike[str], quarter: str = "") -> list[Picture]:
    """Draw the region report's counts figure and fan chart once, for the study's first focus
    region, keeping the background they share with every region's
    (:func:`analysis.report.pictures.recording`): each report then draws only the rest.

    Parameters
    ----------
    study_path : str or path
        The study YAML.
    quarter : str, optional
        ``YYYYQn`` or empty (the default) for the whole window.

    Returns
    -------
    list of Picture
        The two pictures drawn (for tests; what is kept is their backgrounds).
    """
    from analysis import as_of, plots
    from analysis.report.pictures import recording

    ctx = context.load(study_path)
    panel = as_of.panel_as_of(ctx.data.panel, quarter)
    forecast = context.results(study_path, quarter).forecast
    region = ctx.study.focus[0] if ctx.study.focus else forecast.region_ids[0]
    with recording():
        return [
            picture(plots.monthly_counts(panel, [region], focus=region)),
            picture(plots.fan_chart(panel, forecast, region, title=region)),
        ]


def warm(study_path: str | os.PathLike[str], quarter: str = "") -> list[Any]:
    """Draw every study-level figure of a study (each group's PIT histogram, the onset curve).

    Parameters
    ----------
    study_path : str or path
        The study YAML.
    quarter : str, optional
        ``YYYYQn`` or empty (the default) for the whole window.

    Returns
    -------
    list
        The pictures (for tests; callers only want them cached).
    """
    groups = context.results(study_path, quarter).backtest.scores["group"].unique()
    drawn: list[Any] = [pit_histogram(study_path, quarter, str(g)) for g in sorted(groups)]
    drawn.append(onset_reliability(study_path, quarter))
    return drawn
