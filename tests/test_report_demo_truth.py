"""The methods appendix's demo check: the stated model against the reports' estimates."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.models.risk import WindowForecast
from analysis.report import demo_truth
from analysis.report.demo_truth import Estimate

NAN = float("nan")
STUDIES = Path(__file__).resolve().parent.parent / "studies"

#: A stated model's summary as :func:`analysis.simulate.demo_truth_summary` gives it.
TRUTH = {
    "focus": "ML-1",
    "growth_years": (2021, 2024),
    "growth_factor": 7.0,
    "expected_ratio": 6.9,
    "simulated_counts": (10, 73),
    "autoregressive": 0.25,
    "neighbourhood": 0.12,
    "horizon": 12,
    "forward_first": "2025-01",
    "forward_total": 140.0,
}


def estimates(**changes: Estimate | str) -> dict[str, Estimate | str]:
    """Estimates whose intervals all hold the stated values, with ``changes`` applied."""
    found: dict[str, Estimate | str] = {
        "growth": Estimate(7.3, 3.1, 17.0, "growth table"),
        "own_lag": Estimate(0.27, 0.2, 0.35, "spillover fit"),
        "neighbourhood": Estimate(0.11, 0.05, 0.2, "spillover fit"),
        "forecast": Estimate(95.0, 50.0, 180.0, "report model"),
    }
    found.update(changes)
    return found


def rows(result: demo_truth.DemoComparison) -> pd.DataFrame:
    return result.table.set_index("quantity")


def test_every_stated_value_inside_its_interval_is_recovered() -> None:
    result = demo_truth.comparison(TRUTH, estimates(), "Kayes")
    table = rows(result)
    assert list(table["stated value inside the interval"]) == ["yes"] * 4
    assert table.loc["Kayes: events in 2024 / 2021 (rate ratio)", "stated model"] == (
        "6.90 (growth factor 7)"
    )
    assert table.loc["Kayes: events over the next 12 months", "interval"] == "50-180"
    assert result.sentence.startswith("Recovered: the stated value lies inside")
    assert "Not recovered" not in result.sentence
    # a point estimate a third below the stated total is named even inside the interval:
    # 95 / 140 - 1 = -32.1%
    assert "the 12-month total (the estimate 95.0 is 32% below the stated 140.0)" in (
        result.sentence
    )
    # within POINT_GAP of the stated value, the two numbers only: 7.3 / 6.9 - 1 = 5.8%
    assert "the growth ratio (7.30 against 6.90)" in result.sentence
    assert "10 to 73" in result.notes and "6.90-fold" in result.notes
    assert "demo_truth.json" in result.caption and "Kayes" in result.caption


def test_a_stated_value_outside_the_interval_is_not_recovered_and_says_which_side() -> None:
    result = demo_truth.comparison(
        TRUTH,
        estimates(
            own_lag=Estimate(0.4, 0.3, 0.5, "spillover fit"),  # stated 0.25 below it
            forecast=Estimate(60.0, 30.0, 110.0, "report model"),  # stated 140 above it
        ),
        "Kayes",
    )
    table = rows(result)
    position = table["stated value inside the interval"]
    assert position["own-lag share (last month's own events)"] == "no: below the interval"
    assert position["Kayes: events over the next 12 months"] == "no: above the interval"
    assert "Not recovered: the own-lag share (stated 0.25, below the interval 0.30-0.50" in (
        result.sentence
    )
    assert "the 12-month total (stated 140.0, above the interval 30-110 around 60.0)" in (
        result.sentence
    )
    recovered = result.sentence[: result.sentence.index("Not recovered")]
    assert "own-lag" not in recovered and "12-month" not in recovered


def test_an_estimate_without_interval_is_flagged_not_judged() -> None:
    result = demo_truth.comparison(
        TRUTH, estimates(neighbourhood=Estimate(0.05, NAN, NAN, "on a bound")), "Kayes"
    )
    row = rows(result).loc["neighbourhood share (neighbours' last month's events)"]
    assert row["interval"] == "" and row["stated value inside the interval"] == (
        "no interval to check"
    )
    assert "No interval to check the stated value against: the neighbourhood share" in (
        result.sentence
    )
    assert "58% below the stated 0.12" in result.sentence  # 0.05 / 0.12 - 1 = -58.3%
    assert "Not recovered" not in result.sentence


def test_a_quantity_that_cannot_be_compared_says_why() -> None:
    result = demo_truth.comparison(
        TRUTH, estimates(growth="the study does not compare 2021 with 2024"), "Kayes"
    )
    row = rows(result).loc["Kayes: events in 2024 / 2021 (rate ratio)"]
    assert row["estimate"] == "" and row["stated value inside the interval"] == "not compared"
    assert row["estimate from"] == "the study does not compare 2021 with 2024"
    assert "Not compared: the growth ratio (the study does not compare 2021 with 2024)." in (
        result.sentence
    )


def test_growth_estimate_reads_the_headline_interval_of_the_stated_years() -> None:
    table = pd.DataFrame(
        {
            "period_a": ["2018", "2021"],
            "period_b": ["2020", "2024"],
            "ratio": [2.0, 7.3],
            "headline_ci_low": [1.0, 3.1],
            "headline_ci_high": [4.0, 17.0],
            "conf_level": [0.95, 0.95],
        }
    )
    found = demo_truth.growth_estimate(table, (2021, 2024))
    assert isinstance(found, Estimate)
    assert (found.value, found.low, found.high) == (7.3, 3.1, 17.0)
    assert "headline 95% interval" in found.source
    assert demo_truth.growth_estimate(table, (2019, 2024)) == (
        "the study does not compare 2019 with 2024"
    )
    assert "no comparison" in demo_truth.growth_estimate(None, (2021, 2024))


def test_parameter_estimate_keeps_the_interval_only_where_the_fit_has_one() -> None:
    params = pd.DataFrame(
        {
            "name": ["ar.log_lambda", "lambda", "phi"],
            "estimate": [math.log(0.3), 0.3, 0.01],
            "se": [0.1, NAN, NAN],
            "low": [NAN, 0.24, NAN],
            "high": [NAN, 0.37, NAN],
            "at_bound": [False, False, True],
        }
    )
    own = demo_truth.parameter_estimate(params, "own_lag", 0.95)
    assert isinstance(own, Estimate) and (own.value, own.low, own.high) == (0.3, 0.24, 0.37)
    assert "95% Wald interval" in own.source
    near = demo_truth.parameter_estimate(params, "neighbourhood", 0.95)
    assert isinstance(near, Estimate) and not near.has_interval
    assert "on a bound" in near.source
    no_phi = params[params["name"] != "phi"]
    assert demo_truth.parameter_estimate(no_phi, "neighbourhood", 0.95) == (
        "the spillover model has no phi term"
    )
    assert "not kept" in demo_truth.parameter_estimate(None, "own_lag", 0.95)


def test_parameter_rows_are_the_names_the_spillover_fit_gives() -> None:
    """The shares are looked up by the natural-scale names of ``HHH4Fit.table``."""
    from analysis.models import hhh4
    from analysis.simulate import simulate_hhh4_counts

    order = np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]])
    cross = np.zeros((3, 3), dtype=bool)
    counts = simulate_hhh4_counts(
        order, cross, 120, intercept=0.5, trend=0.0, log_lambda=np.log(0.3),
        log_phi=np.log(0.1), decay=None, seed=3,
    )  # fmt: skip
    spec = hhh4.HHH4Spec(weights="first_order", cross_border=False, trend=False)
    table = hhh4.fit_hhh4(counts, order, cross, spec=spec).table(0.95)
    for quantity in demo_truth.PARAMETER_ROWS:
        found = demo_truth.parameter_estimate(table, quantity, 0.95)
        assert isinstance(found, Estimate) and found.has_interval, (quantity, found)
        assert 0 < found.low <= found.value <= found.high


def window(first: str, steps: int = 12) -> WindowForecast:
    start = pd.Timestamp(first)
    return WindowForecast(
        region_id="ML-1", steps=steps, first=start, last=start + pd.DateOffset(months=steps - 1),
        mean=95.0, low=50.0, high=180.0, p_any=1.0, level=0.9, median=90.0,
    )  # fmt: skip


def test_forecast_estimate_only_for_the_months_the_stated_model_was_continued_for() -> None:
    found = demo_truth.forecast_estimate(window("2025-01-01"), "2025-01", 12)
    assert isinstance(found, Estimate) and (found.value, found.low, found.high) == (95, 50, 180)
    assert "90% interval of the 12-month total" in found.source
    earlier = demo_truth.forecast_estimate(window("2024-07-01"), "2025-01", 12)
    assert earlier == "the forecast starts in 2024-07; the stated model is continued from 2025-01"
    shorter = demo_truth.forecast_estimate(window("2025-01-01", 6), "2025-01", 12)
    assert isinstance(shorter, str) and "6 months" in shorter


def test_estimates_without_the_focus_compare_only_the_shares() -> None:
    params = pd.DataFrame(
        {"name": ["lambda", "phi"], "estimate": [0.3, 0.1], "se": [NAN, NAN],
         "low": [0.2, 0.05], "high": [0.4, 0.2], "at_bound": [False, False]}
    )  # fmt: skip
    found = demo_truth.estimates(
        TRUTH, growth_rows=None, parameters=params, parameter_level=0.95, window=None
    )
    assert found["growth"] == found["forecast"] == "ML-1 is not in the study"
    assert isinstance(found["own_lag"], Estimate) and isinstance(found["neighbourhood"], Estimate)


def test_the_real_study_never_shows_the_section(tmp_path: Path, monkeypatch) -> None:
    """Not synthetic, so no demo section, even with a truth file beside its data."""
    from analysis.config import load_study
    from analysis.simulate import write_demo

    paths = write_demo(tmp_path)
    monkeypatch.setenv("CONFLICT_TRENDS_REAL_DATA", str(paths["events"]))
    real = load_study(STUDIES / "jnim_sahel_ucdp.yaml")
    assert demo_truth.truth_file(real) == paths["truth"]  # the file is there ...
    assert not demo_truth.shows_section(real)  # ... and still no section


def test_a_synthetic_study_finds_its_truth_or_says_it_is_missing(
    demo_study_path: Path, demo_dir: Path, tmp_path: Path
) -> None:
    from analysis.config import load_study

    study = load_study(demo_study_path)
    assert demo_truth.shows_section(study)
    assert demo_truth.truth_file(study) == demo_dir / "demo_truth.json"
    truth = demo_truth.read_truth(study)
    assert isinstance(truth, dict) and truth["focus"] == "ML-1"
    assert truth["horizon"] == study.horizon == 12
    # the same study on a copy of the events without the truth file beside them
    lone = tmp_path / "events"
    lone.mkdir()
    (lone / "demo_acled.csv").write_bytes((demo_dir / "demo_acled.csv").read_bytes())
    text = demo_study_path.read_text().replace(
        str(demo_dir / "demo_acled.csv"), str(lone / "demo_acled.csv")
    )
    copy = tmp_path / "demo.yaml"
    copy.write_text(text)
    missing = load_study(copy)
    assert demo_truth.truth_file(missing) is None
    said = demo_truth.read_truth(missing)
    assert isinstance(said, str) and "no demo_truth.json was found beside its data" in said
    assert "events" in said  # the folder it looked in, relative to the study file
    # a truth file that does not match the demo its scenario regenerates: said, not used
    edited = json.loads((demo_dir / "demo_truth.json").read_text())
    edited["simulated_focus_counts_by_year"]["2024"] += 1
    (lone / "demo_truth.json").write_text(json.dumps(edited))
    said = demo_truth.read_truth(missing)
    assert isinstance(said, str) and "could not be used" in said
    assert "does not match" in said
