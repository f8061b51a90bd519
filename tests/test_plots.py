"""Figures: the one region map, the backtest scores by step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from analysis.formatting import format_growth_pct, format_probability
from analysis.geography import neighbours
from analysis.plots import region_map


def test_region_map_labels_focus_and_neighbours_without_reading_as_certain(boundaries):
    regions = boundaries.regions
    ids = regions.loc[regions["country"].isin(["MLI", "MRT", "SEN"]), "region_id"].tolist()
    values = pd.Series(np.linspace(0.0, 1.0, len(ids)), index=ids)
    values["ML-1"] = 1.0
    values = values.drop("SN-TC")  # a neighbour without a value: grey, not labelled
    fig = region_map(values, boundaries, label="P(at least one event)", focus=["ML-1"])
    assert isinstance(fig, Figure)
    texts = [t.get_text() for t in fig.axes[0].texts]
    expected = ({"ML-1", *neighbours("ML-1", 1, boundaries=boundaries)} & set(ids)) - {"SN-TC"}
    assert len(texts) == len(expected)
    assert "Kayes\n>99.9%" in texts  # a simulated probability of 1 is never shown as 100%
    # the neighbours are numbered on the map (full labels of small adjacent regions overlapped)
    # and named with their probabilities in the key, numbered north to south
    numbers = sorted(int(t) for t in texts if t.isdigit())
    assert numbers == list(range(1, len(expected)))
    key = [t.get_text() for t in fig.legends[0].get_texts()]
    assert len(key) == len(expected) - 1
    names = regions.set_index("region_id")["region_name"]
    for rid in expected - {"ML-1"}:
        assert any(k.endswith(f"{names[rid]}: {format_probability(values[rid])}") for k in key)
    assert key[0].startswith("1  ")
    assert not any("Tambacounda" in t for t in texts + key)
    # drawn: every region of the three countries, Guinea's neighbours of Kayes not
    drawn = fig.axes[0].collections[0]
    assert len(drawn.get_paths()) >= len(values)
    colorbar = fig.axes[-1]
    assert colorbar.get_ylabel() == "P(at least one event)"


def test_region_map_without_focus_has_no_labels(boundaries):
    values = pd.Series({"ML-1": 0.2, "ML-2": 0.9})
    fig = region_map(values, boundaries, label="P(surge)", label_neighbours=True)
    assert len(fig.axes[0].texts) == 0 and not fig.legends


def test_region_map_key_sits_below_the_map(boundaries):
    """The key has its own room under the axes: it never covers a region."""
    regions = boundaries.regions
    ids = regions.loc[regions["country"].isin(["MLI", "MRT", "SEN"]), "region_id"]
    values = pd.Series(0.5, index=ids.tolist())
    fig = region_map(values, boundaries, label="p", focus=["ML-1"])
    renderer = fig.canvas.get_renderer()
    key = fig.legends[0].get_window_extent(renderer)
    assert key.y1 <= fig.axes[0].get_window_extent(renderer).y0 + 1
    assert key.y0 >= 0 and key.x1 <= fig.bbox.x1
    bare = region_map(values, boundaries, label="p", focus=["ML-1"], label_neighbours=False)
    assert not bare.legends and bare.get_figheight() < fig.get_figheight()


def test_line_styles_tell_every_model_apart_and_emphasise_one():
    from analysis.plots import line_styles

    models = [(f"m{i}", False) for i in range(12)] + [(f"b{i}", True) for i in range(12)]
    models.insert(3, ("auto", False))
    styles = line_styles(models, emphasise="auto")
    looks = [(tuple(np.round(st["color"], 3)) if not isinstance(st["color"], str) else
              st["color"], st["linestyle"], st["marker"]) for st in styles]  # fmt: skip
    assert len(set(looks)) == len(models)  # no two alike, even past the palette's 10 colours
    auto = styles[3]
    assert auto["color"] == "black" and auto["linewidth"] > max(
        st["linewidth"] for i, st in enumerate(styles) if i != 3
    )
    assert all(st["color"] != "black" for i, st in enumerate(styles) if i != 3)
    assert {st["linestyle"] for (_, b), st in zip(models, styles, strict=True) if b} == {"--"}


def test_score_by_horizon_legend_is_beside_the_axes_and_names_the_reports_model():
    from analysis.plots import score_by_horizon

    card = {"by_horizon": [{"model": m, "is_baseline": m == "zero", "step": s, "crps": 1.0 + s}
                           for m in ("auto", "ensemble_climatology36_heavy", "zero")
                           for s in (1, 2, 3)]}  # fmt: skip
    fig = score_by_horizon(card, emphasise="auto")
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    assert legend.x0 >= ax.get_window_extent(renderer).x1  # never over the lines
    assert legend.x1 <= fig.bbox.x1
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "auto (reports' model)"
    assert ax.get_lines()[0].get_color() == "black"


def test_pit_histograms_of_many_models_are_a_grid_at_page_width():
    from analysis.plots import PIT_COLUMNS, pit_histogram

    rng = np.random.default_rng(0)
    names = [f"model_{i}" for i in range(14)] + ["ensemble_climatology36_heavy"]
    fig = pit_histogram({n: rng.uniform(size=50) for n in names})
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 15
    assert fig.get_figwidth() <= 9.5  # the report page's width at 96 dpi: shown unscaled
    lefts = sorted({round(ax.get_position().x0, 4) for ax in shown})
    bottoms = sorted({round(ax.get_position().y0, 4) for ax in shown})
    assert (len(lefts), len(bottoms)) == (PIT_COLUMNS, 3)
    assert shown[-1].get_title() == "ensemble_\nclimatology36_heavy"
    one = pit_histogram({"auto": rng.uniform(size=50)})
    assert len(one.axes) == 1


def test_forecast_and_counts_figures_name_the_studys_period():
    from analysis import plots
    from analysis.models.forecast import ForecastResult

    periods = pd.date_range("2015-01-01", periods=24, freq="QS")
    panel = pd.DataFrame({"region_id": "ML-1", "region_name": "Kayes", "period": periods,
                          "events": np.arange(24)})  # fmt: skip
    panel.attrs["freq"] = "quarter"
    steps = pd.date_range("2021-01-01", periods=4, freq="QS")
    fc = ForecastResult(np.ones((1, 4, 10), dtype=int), ("ML-1",), steps, periods[-1], "m", 1)
    fan = plots.fan_chart(panel, fc, "ML-1")
    counts = plots.monthly_counts(panel, ["ML-1"], focus="ML-1")
    assert fan.axes[0].get_ylabel() == counts.axes[0].get_ylabel() == "events per quarter"
    # the widest band is the 90% interval the reports' tables quote
    labels = fan.axes[0].get_legend_handles_labels()[1]
    assert [x for x in labels if x.endswith("interval")] == [
        "90% interval", "80% interval", "50% interval"
    ]  # fmt: skip


def test_score_by_horizon_draws_baselines_dashed():
    from analysis.plots import score_by_horizon

    card = {
        "by_horizon": [
            {"model": m, "is_baseline": b, "step": s, "crps": c}
            for m, b, base in (("auto", False, 1.0), ("zero", True, 2.0))
            for s, c in ((1, base), (2, base + 0.5))
        ]
    }
    fig = score_by_horizon(card)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert set(lines) == {"auto", "zero (baseline)"}
    assert lines["zero (baseline)"].get_linestyle() == "--"
    assert lines["auto"].get_linestyle() == "-"
    assert list(lines["auto"].get_ydata()) == [1.0, 1.5]


def test_region_map_is_rendered_once_and_looks_the_same(boundaries, monkeypatch):
    import contextlib
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    from analysis import plots

    values = pd.Series({"ML-1": 0.7, "ML-2": 0.2, "MR-1": 0.05})
    renders = []
    draw = FigureCanvasAgg.draw
    monkeypatch.setattr(FigureCanvasAgg, "draw", lambda self: renders.append(1) or draw(self))

    def saved(fig):
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=40)
        pixels = np.asarray(Image.open(buffer)).astype(int)
        return pixels, np.array([ax.get_position().bounds for ax in fig.axes])

    once = region_map(values, boundaries, label="p", focus=["ML-1"])
    assert renders == []  # geopandas' plt.draw() after each layer no longer renders
    fast, fast_axes = saved(once)
    monkeypatch.setattr(plots, "_render_once", lambda fig: contextlib.nullcontext())
    slow, slow_axes = saved(region_map(values, boundaries, label="p", focus=["ML-1"]))
    assert len(renders) >= 3  # without it: one full render per layer
    # the same picture: constrained layout lands within a thousandth of the figure, so at
    # most anti-aliased edge pixels differ, and only slightly
    assert fast.shape == slow.shape
    np.testing.assert_allclose(fast_axes, slow_axes, atol=1e-3)
    assert np.abs(fast - slow).max() <= 40
    assert (fast != slow).any(axis=-1).mean() < 0.06


def _trend(panel, region_id):
    """The fitted growth trend of one region's last 48 periods."""
    from analysis import growth

    rows = panel[panel["region_id"] == region_id].tail(48)
    return growth.trend(rows["events"].to_numpy(), pd.DatetimeIndex(rows["period"]))


def test_counts_figure_draws_each_trend_with_band_and_headline_interval():
    """The region report's counts figure carries the growth trends (no separate figure):
    the fitted mean over its window, its band, and the annual growth with its interval."""
    import matplotlib.pyplot as plt

    from analysis import plots

    rng = np.random.default_rng(3)
    periods = pd.date_range("2019-01-01", periods=72, freq="MS")
    counts = rng.poisson(np.linspace(2, 12, 72))
    panel = pd.DataFrame({"region_id": "ML-1", "region_name": "Kayes", "period": periods,
                          "events": counts})  # fmt: skip
    tr = _trend(panel, "ML-1")
    fig = plots.monthly_counts(panel, ["ML-1"], focus="ML-1", trends=[tr])
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == 2  # the counts, the trend
    np.testing.assert_allclose(lines[1].get_ydata(), tr.fitted)
    assert list(pd.DatetimeIndex(lines[1].get_xdata())) == list(periods[-48:])
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(min(tr.band_low)) and band.max() == pytest.approx(
        max(tr.band_high)
    )
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    lo, hi = tr.growth_ci
    assert (
        f"fitted trend: {format_growth_pct(tr.growth_pct)} a year (95% CI "
        f"{format_growth_pct(lo)} to {format_growth_pct(hi)})"
    ) in texts
    plain = plots.monthly_counts(panel, ["ML-1"], focus="ML-1")
    assert len(plain.axes[0].get_lines()) == 1 and not plain.axes[0].collections
    plt.close(fig)
    plt.close(plain)


def test_a_trend_band_far_above_the_counts_is_cut_and_said_to_be():
    """A band from 12 quarters reached 5,700 events a quarter against counts of about 20, and
    the axes, scaled to it, flattened the series onto the axis."""
    import dataclasses

    import matplotlib.pyplot as plt

    from analysis import plots

    rng = np.random.default_rng(3)
    periods = pd.date_range("2019-01-01", periods=72, freq="MS")
    panel = pd.DataFrame({"region_id": "ML-1", "region_name": "Kayes", "period": periods,
                          "events": rng.poisson(np.linspace(2, 12, 72))})  # fmt: skip
    tr = _trend(panel, "ML-1")
    wide = dataclasses.replace(tr, band_high=np.asarray(tr.band_high) * 500)
    fig = plots.monthly_counts(panel, ["ML-1"], focus="ML-1", trends=[wide])
    ax = fig.axes[0]
    top = max(panel["events"].max(), np.max(tr.fitted))
    # at most twice the highest count or fitted value, with the legend's headroom
    assert 2 * top <= ax.get_ylim()[1] <= 2 * top * 1.2
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.endswith("; its band runs above the axes") for t in texts)
    # a band within reach is drawn whole, and nothing is said
    whole = plots.monthly_counts(panel, ["ML-1"], focus="ML-1", trends=[tr])
    assert whole.axes[0].get_ylim()[1] >= max(tr.band_high)
    assert not any("runs above" in t.get_text() for t in whole.axes[0].get_legend().get_texts())
    plt.close(fig)
    plt.close(whole)


def test_trend_legend_writes_a_limit_near_zero_as_the_growth_sentence_does() -> None:
    """Mopti's trend interval starts just below zero: "+0%" beside "includes zero" misleads."""
    from types import SimpleNamespace

    from analysis.plots import _trend_label

    tr = SimpleNamespace(growth_pct=21.25, growth_ci=(-0.3, 51.2), conf_level=0.95, note="")
    assert _trend_label(tr) == "fitted trend: +21% a year (95% CI -0.3% to +51%)"


def _report_figures(boundaries):
    """One of each figure a report draws, on data with wide tick labels (counts in 1000s)."""
    from analysis import plots
    from analysis.models.forecast import ForecastResult

    rng = np.random.default_rng(7)
    periods = pd.date_range("2018-01-01", periods=84, freq="MS")
    ids = ["ML-1", "ML-2", "MR-02", "SN-KE"]
    panel = pd.DataFrame(
        {
            "region_id": np.repeat(ids, len(periods)),
            "region_name": np.repeat(["Kayes", "Koulikoro", "Hodh el Gharbi", "Kédougou"], 84),
            "period": np.tile(periods, len(ids)),
            "events": rng.poisson(900, 84 * len(ids)),
        }
    )
    samples = rng.poisson(1200, (len(ids), 12, 200))
    fc = ForecastResult(samples, tuple(ids), pd.date_range("2025-01-01", periods=12, freq="MS"),
                        periods[-1], "local_level", 1)  # fmt: skip
    table = [{"mean_predicted": p, "observed_frequency": p, "n": 10} for p in (0.1, 0.5)]
    values = pd.Series({"ML-1": 0.7, "ML-2": 0.2, "MR-02": 0.05})
    return {
        "monthly_counts": plots.monthly_counts(panel, ids, focus="ML-1", title="Kayes"),
        "monthly_counts_trends": plots.monthly_counts(
            panel, ids, focus="ML-1", trends=[_trend(panel, "ML-1")]
        ),
        "fan_chart": plots.fan_chart(panel, fc, "ML-2", title="Koulikoro: forecast"),
        "pit_histogram": plots.pit_histogram(
            {"a": rng.uniform(size=50), "b": rng.uniform(size=50)}
        ),
        "pit_histogram_grid": plots.pit_histogram(
            {f"ensemble_climatology36_heavy_{i}": rng.uniform(size=50) for i in range(12)}
        ),
        # the region report's one panel, titled with a long group label (it had been clipped)
        "pit_histogram_long_title": plots.pit_histogram(
            {
                "auto (ensemble_climatology36_heavy at steps 1-3, ensemble_climatology36 at "
                "steps 4-6, ensemble_climatology36_heavy at steps 7-12)": rng.uniform(size=50)
            }
        ),
        "onset_reliability": plots.onset_reliability(table),
        "region_map": plots.region_map(
            values, boundaries, label="P(at least one event)", focus=["ML-1"]
        ),  # fmt: skip
        "score_by_horizon": plots.score_by_horizon(
            {
                "by_horizon": [
                    {"model": m, "is_baseline": m == "zero", "step": s, "crps": 1000.0 + s}
                    for m in ("auto", "ensemble_climatology36_heavy", "zero")
                    for s in (1, 2, 3)
                ]
            },
            emphasise="auto",
        ),
    }


def test_report_figures_have_fixed_margins_that_hold_their_labels(boundaries):
    """No layout engine (it draws each figure twice), and nothing drawn outside the figure:
    tick labels of four digits, axis labels, titles and legends fit the fixed margins."""
    import matplotlib.pyplot as plt

    for name, fig in _report_figures(boundaries).items():
        assert fig.get_layout_engine() is None, name
        renderer = fig.canvas.get_renderer()
        drawn = fig.get_tightbbox(renderer)  # inches
        width, height = fig.get_size_inches()
        assert drawn.x0 >= -0.01 and drawn.y0 >= -0.01, (name, drawn)
        assert drawn.x1 <= width + 0.01 and drawn.y1 <= height + 0.01, (name, drawn)
        plt.close(fig)


def test_figures_on_prepared_blanks_are_the_same_pictures(monkeypatch):
    """A report figure drawn on a blank prepared before the fork (ticks already made) is
    byte for byte the picture drawn on a new figure; blanks are used once, then new ones."""
    from analysis import plots
    from analysis.models.forecast import ForecastResult
    from analysis.report.show import picture

    rng = np.random.default_rng(11)
    periods = pd.date_range("2019-01-01", periods=60, freq="MS")
    panel = pd.DataFrame(
        {
            "region_id": np.repeat(["ML-1", "ML-2"], 60),
            "region_name": np.repeat(["Kayes", "Koulikoro"], 60),
            "period": np.tile(periods, 2),
            "events": rng.poisson(4, 120),
        }
    )
    steps = pd.date_range("2024-01-01", periods=6, freq="MS")
    fc = ForecastResult(rng.poisson(5, (2, 6, 100)), ("ML-1", "ML-2"), steps, periods[-1], "m", 1)

    def pictures():
        return [
            picture(plots.monthly_counts(panel, ["ML-1", "ML-2"], focus="ML-1")).png,
            picture(plots.fan_chart(panel, fc, "ML-1", title="Kayes: forecast")).png,
        ]

    monkeypatch.setattr(plots, "_BLANKS", {})
    new = pictures()
    plots.prepare_blanks([(9.0, 4.2), (8.0, 3.6)])
    blanks = [fig for figs in plots._BLANKS.values() for fig in figs]
    assert len(blanks) == 2
    assert pictures() == new
    assert plots._BLANKS == {(9.0, 4.2): [], (8.0, 3.6): []}  # each used once
    assert pictures() == new  # then new figures again
