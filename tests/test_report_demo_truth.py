"""The methods appendix's demo check: the stated model against the reports' estimates."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis.models.forecast import ForecastResult
from analysis.models.risk import window_forecast
from analysis.report import demo_truth
from analysis.report.demo_truth import Estimate, Stated

NAN = float("nan")
STUDIES = Path(__file__).resolve().parent.parent / "studies"

#: Paths of the stated model in the truth summary below: Kayes 90..189 events; MR-1 with no
#: event on the first 10 of 100 paths, SN-1 on the first 20 (P(any) 0.9 and 0.8).
PATHS = 100
_KAYES = np.arange(90.0, 190.0)
_MR = np.where(np.arange(PATHS) < 10, 0.0, 4.0)
_SN = np.where(np.arange(PATHS) < 20, 0.0, 5.0)

#: A stated model's summary as :func:`analysis.simulate.demo_truth_summary` gives it.
TRUTH = {
    "focus": "ML-1",
    "growth_years": (2021, 2024),
    "growth_factor": 7.0,
    "expected_ratio": 6.9,
    "simulated_counts": (10, 73),
    "autoregressive": 0.25,
    "neighbourhood": 0.12,
    "dispersion": 0.6,
    "annual_growth_pct": 91.3,
    "horizon": 12,
    "forward_first": "2025-01",
    "forward_total": 140.0,
    "forward_region_ids": ["ML-1", "MR-1", "SN-1", "ML-2"],
    "forward_countries": ["MLI", "MRT", "SEN", "MLI"],
    "forward_expected": np.array([140.0, 4.0, 4.0, 10.0]),
    # Kayes silenced: MR-1 keeps 1 of its 4 expected events, SN-1 2 of 4
    "forward_expected_silenced": np.array([0.0, 1.0, 2.0, 6.0]),
    "forward_totals": np.column_stack([_KAYES, _MR, _SN, np.full(PATHS, 10.0)]),
    "forward_paths": PATHS,
    "near_steps": 3,
    "forward_near_total": 30.0,
    "forward_near_totals": np.column_stack(
        [_KAYES / 4 - 10, _MR / 4, _SN / 4, np.full(PATHS, 2.5)]
    ),
}
BORDER = ["MR-1", "SN-1"]
NAMES = {"MR-1": "Guidimaka", "SN-1": "Tambacounda", "MRT": "Mauritania", "SEN": "Senegal"}


def estimates(**changes: Estimate | str) -> dict[str, Estimate | str]:
    """Estimates that recover every stated value, with ``changes`` applied."""
    found: dict[str, Estimate | str] = {
        "growth": Estimate(7.3, 3.1, 17.0, "growth table", "95% headline interval"),
        "own_lag": Estimate(0.27, 0.2, 0.35, "spillover fit", "95% Wald interval"),
        "neighbourhood": Estimate(0.11, 0.05, 0.2, "spillover fit", "95% Wald interval"),
        "dispersion": Estimate(0.52, 0.4, 0.68, "spillover fit", "95% Wald interval"),
        "forecast_near": Estimate(31.0, 10.0, 50.0, "report model", "90% predictive interval"),
        "forecast": Estimate(133.0, 50.0, 180.0, "report model", "90% predictive interval"),
        "border_total": Estimate(8.4, 2.0, 15.0, "report model", "90% predictive interval"),
        "border_any": Estimate(0.8, NAN, NAN, "report model"),
        "share:MRT": Estimate(0.7, 0.5, 0.9, "what-if", "90% interval across parameter draws"),
        "share:SEN": Estimate(0.53, 0.3, 0.7, "what-if", "90% interval across parameter draws"),
    }
    found.update(changes)
    return found


def compare(found: dict[str, Estimate | str]) -> demo_truth.DemoComparison:
    return demo_truth.comparison(TRUTH, found, "Kayes", border=BORDER, names=NAMES)


def rows(result: demo_truth.DemoComparison) -> pd.DataFrame:
    return result.table.set_index("quantity")


KAYES_TOTAL = "Kayes: events over the next 12 months"
BORDER_TOTAL = "Kayes's 2 cross-border neighbours: events over the next 12 months, summed"
BORDER_ANY = (
    "Kayes's 2 cross-border neighbours: P(at least one event in 12 months), mean over the units"
)
MRT_SHARE = "Mauritania: share of its events over the next 12 months attributable to Kayes"


def test_the_stated_values_of_the_new_rows_in_closed_form() -> None:
    stated = demo_truth.stated_values(TRUTH, BORDER, ["MRT", "SEN"])
    assert stated["border_total"].value == 8.0  # 4 + 4, the exact expectations
    # the mean over paths of the share of the two units with an event: (0.9 + 0.8) / 2
    assert stated["border_any"].value == pytest.approx(0.85)
    assert stated["border_any"].se > 0  # simulated, so it has a Monte Carlo error
    assert stated["share:MRT"].value == 0.75  # (4 - 1) / 4
    assert stated["share:SEN"].value == 0.5  # (4 - 2) / 4
    assert stated["forecast"].value == 140.0 and stated["forecast"].se == 0  # exact
    np.testing.assert_array_equal(stated["border_total"].draws, _MR + _SN)
    # a border unit the stated model lacks: no stated value, the row says it is not compared
    assert "border_total" not in demo_truth.stated_values(TRUTH, ["XX-1"], [])


def test_every_stated_value_recovered_by_its_own_rule() -> None:
    result = compare(estimates())
    table = rows(result)
    assert len(table) == 10  # eight quantities and one share per target country
    verdict = table["recovered?"]
    assert verdict["Kayes: events in 2024 / 2021 (rate ratio)"] == (
        "yes: inside the 95% headline interval"
    )
    assert verdict["own-lag share (last month's own events)"] == "yes: inside the 95% Wald interval"
    assert verdict[MRT_SHARE] == "yes: inside the 90% interval across parameter draws"
    # 133 / 140 - 1 = -5%: within the tolerance, whatever the interval
    assert verdict[KAYES_TOTAL] == (
        "yes: mean 5% below, within the 10% tolerance; stated value inside the 90% predictive "
        "interval (not used)"
    )
    assert verdict[BORDER_TOTAL].startswith("yes: mean 5% above")  # 8.4 / 8 - 1
    # 0.8 / 0.85 - 1 = -5.9%, and no interval to mention
    assert verdict[BORDER_ANY] == "yes: 6% (relative) below, within the 10% tolerance"
    stated = table["stated model"]
    assert stated["Kayes: events in 2024 / 2021 (rate ratio)"] == "6.90 (growth factor 7)"
    # the stated model's own 90% interval of the total: its paths' 5th and 95th of 100
    assert stated[KAYES_TOTAL] == "140.0 (90% of its paths: 94-184)"
    assert (stated[BORDER_ANY], stated[MRT_SHARE]) == ("85%", "75%")
    assert table.loc[MRT_SHARE, "interval"] == "50-90%"
    assert result.sentence.startswith(
        "Recovered: the growth ratio (7.30 against the stated 6.90, inside its 95% headline "
        "interval, which spans 5.5-fold: a loose check)"
    )
    # a narrow ratio interval is not called loose
    tight = dict(estimates(), growth=demo_truth.Estimate(7.3, 5.0, 11.0, "growth table",
                                                         "95% headline interval"))  # fmt: skip
    assert "loose" not in compare(tight).sentence
    assert "Not recovered" not in result.sentence and "weak check" not in result.sentence
    assert "Kayes's 12-month total (mean 133.0 against the stated 140.0, 5% below)" in (
        result.sentence
    )
    # the rules note names each interval used, by level and kind, and the point rule
    assert "the 95% headline interval for the growth ratio; the 95% Wald interval for" in (
        result.rules
    )
    assert "Forecast rows are judged on the point" in result.rules
    assert "within 10% of the stated expectation" in result.rules
    assert "10% or more off is named" in result.rules


def test_numbers_no_report_quotes_are_judged_apart() -> None:
    """The demo check listed the spillover model's parameters and withheld shares under
    "Recovered" beside the growth ratio, as if the reports showed them; a reviewer reading the
    reports finds none of them."""
    unquoted = {"own_lag", "neighbourhood", "share:MRT", "share:SEN"}
    result = demo_truth.comparison(
        TRUTH, estimates(), "Kayes", border=BORDER, names=NAMES, unquoted=unquoted
    )
    first, aside = result.sentence.split("Of the spillover model's own numbers")
    assert "own-lag share" not in first and "Mauritania's share" not in first
    assert "growth ratio" in first and "growth ratio" not in aside
    assert aside.startswith(
        ", which no report quotes (its parameters, and its shares while they are withheld): "
        "recovered: the own-lag share (0.27"
    )
    table = rows(result)
    assert table.loc[MRT_SHARE, "estimate from"] == "what-if; no report quotes it"
    assert table.loc[KAYES_TOTAL, "estimate from"] == "report model"
    # a missed unquoted row is said apart too, as not recovered
    missed = demo_truth.comparison(
        TRUTH,
        estimates(own_lag=Estimate(0.5, 0.4, 0.6, "spillover fit", "95% Wald interval")),
        "Kayes",
        border=BORDER,
        names=NAMES,
        unquoted=unquoted,
    )
    assert "Not recovered" not in missed.sentence.split("Of the spillover")[0]
    # the banner's list holds only what the reports quote
    assert not any("own-lag" in m for m in missed.missed)
    assert "; not recovered: the own-lag share (stated 0.25, below the 95% Wald interval" in (
        missed.sentence
    )
    # every number quoted: no second sentence
    assert "Of the spillover model" not in compare(estimates()).sentence


def test_printed_onset_intervals_are_checked_against_the_stated_probability() -> None:
    """The demo's Guidimaka read "43% ... (90% interval 30%-57%)" where the stated model gives
    92%; the check had judged only the mean over the border units."""
    printed = {"MR-1": (0.43, 0.30, 0.57), "SN-1": (0.75, 0.7, 0.85)}
    result = demo_truth.comparison(
        TRUTH, estimates(), "Kayes", border=BORDER, names=NAMES, onset_intervals=printed
    )
    # stated P(any): MR-1 90%, SN-1 80% (the paths above): judged with the other rows
    assert (
        "Not recovered: Guidimaka's P(at least one event), 43% (the stated 90% lies outside the "
        "onset model's 90% interval 30%-57% printed with it)."
    ) in result.sentence
    assert (
        "and Tambacounda's P(at least one event), 75% (the onset model's 90% interval 70%-85% "
        "printed with it holds the stated 80%)."
    ) in result.sentence
    assert "A quiet unit's P(at least one event), which the region report prints" in result.rules
    # and each is a row of the table, judged as the phrase says
    table = rows(result)
    assert table.loc["Guidimaka (quiet): P(at least one event in 12 months)", "recovered?"] == (
        "no: outside the onset model's 90% interval"
    )
    held = table.loc["Tambacounda (quiet): P(at least one event in 12 months)"]
    assert (held["stated model"], held["estimate"], held["interval"]) == ("80%", "75%", "70-85%")
    assert held["recovered?"] == "yes: inside the onset model's 90% interval"
    assert len(table) == 12  # the 10 rows and the 2 units
    # the banner names the miss with both numbers, and not the unit whose interval held
    assert "Guidimaka's P(at least one event) (43% against 90%)" in result.missed
    assert not any(m.startswith("Tambacounda") for m in result.missed)
    assert "A quiet unit's" not in compare(estimates()).rules
    assert "quiet units across the border" not in compare(estimates()).sentence
    # a unit the stated model was not continued for is not judged
    assert (
        "quiet units"
        not in demo_truth.comparison(
            TRUTH, estimates(), "Kayes", border=BORDER, onset_intervals={"XX-1": (0.4, 0.3, 0.5)}
        ).sentence
    )


def test_a_forecast_32_percent_low_is_not_recovered_even_inside_its_predictive_interval() -> None:
    """The reviewer's case: 94.9 against the stated 139.8, inside 39-143."""
    result = compare(estimates(forecast=Estimate(95.0, 50.0, 180.0, "report model",
                                                 "90% predictive interval")))  # fmt: skip
    verdict = rows(result).loc[KAYES_TOTAL, "recovered?"]
    # 95 / 140 - 1 = -32.1%
    assert verdict == (
        "no: mean 32% below, beyond the 10% tolerance; stated value inside the 90% predictive "
        "interval (not used)"
    )
    assert "Not recovered: Kayes's 12-month total (the report model's mean 95.0 is 32% below " in (
        result.sentence
    )
    recovered = result.sentence[: result.sentence.index("Not recovered")]
    assert "Kayes's 12-month total" not in recovered
    assert result.missed == ("Kayes's 12-month total (95.0 against 140.0)",)
    assert "The stated value of Kayes's 12-month total lies inside the report's 90% predictive" in (
        result.sentence
    )
    assert "a weak check" in result.sentence


def test_a_forecast_within_tolerance_is_recovered_even_outside_its_predictive_interval() -> None:
    # 150 / 140 - 1 = +7.1%: recovered, though a narrow interval 145-155 misses 140
    result = compare(estimates(forecast=Estimate(150.0, 145.0, 155.0, "report model",
                                                 "90% predictive interval")))  # fmt: skip
    assert rows(result).loc[KAYES_TOTAL, "recovered?"] == (
        "yes: mean 7% above, within the 10% tolerance; stated value below the 90% predictive "
        "interval (not used)"
    )
    assert "Not recovered" not in result.sentence


def test_the_borderland_rows_missed_say_by_how_much() -> None:
    """The demo's borderland: the report's neighbours far below the stated model."""
    result = compare(
        estimates(
            border_total=Estimate(3.2, 0.0, 9.0, "report model", "90% predictive interval"),
            border_any=Estimate(0.51, NAN, NAN, "report model"),
        )
    )
    verdict = rows(result)["recovered?"]
    assert verdict[BORDER_TOTAL] == (  # 3.2 / 8 - 1 = -60%
        "no: mean 60% below, beyond the 10% tolerance; stated value inside the 90% predictive "
        "interval (not used)"
    )
    assert verdict[BORDER_ANY] == "no: 40% (relative) below, beyond the 10% tolerance"  # .51/.85
    assert (
        "the cross-border neighbours' mean P(at least one event) (the report model's 51% is "
        in (result.sentence)
    )
    assert "The stated value of the cross-border neighbours' summed 12-month total lies" in (
        result.sentence
    )


def test_point_check_in_closed_form() -> None:
    stated = Stated(100.0)
    assert demo_truth.point_check(stated, Estimate(109.0, NAN, NAN, "")).recovered
    missed = demo_truth.point_check(stated, Estimate(68.0, 40.0, 140.0, ""))
    assert not missed.recovered and missed.gap == pytest.approx(-0.32)
    assert missed.tolerance == demo_truth.POINT_GAP
    # Monte Carlo error wider than 10% widens the tolerance: draws 0 and 20 alternating,
    # standard error sd / sqrt(100); two of them relative to the stated 10
    draws = np.tile([0.0, 20.0], 50)
    noisy = Estimate(11.5, NAN, NAN, "", draws=draws)
    check = demo_truth.point_check(Stated(10.0), noisy)
    se = np.std(draws, ddof=1) / 10
    assert check.tolerance == pytest.approx(2 * se / 10) and check.tolerance > 0.15
    assert check.recovered  # +15%, within two standard errors of path noise
    # the stated value's own Monte Carlo error counts too: hypot(0, 1) * 2 / 10 = 0.2
    assert demo_truth.point_check(Stated(10.0, se=1.0), Estimate(8.1, NAN, NAN, "")).recovered
    assert not demo_truth.point_check(Stated(10.0, se=0.2), Estimate(8.1, NAN, NAN, "")).recovered
    # a stated 0: no relative gap, only the Monte Carlo error
    assert demo_truth.point_check(Stated(0.0), Estimate(0.0, NAN, NAN, "")).recovered
    assert not demo_truth.point_check(Stated(0.0), Estimate(1.0, NAN, NAN, "")).recovered


def test_percentiles_and_the_two_distributions_of_the_focus_total() -> None:
    assert demo_truth.percentile(5.0, np.arange(10.0)) == 0.55  # 5 below, one equal
    assert demo_truth.percentile(-1.0, np.arange(10.0)) == 0.0
    # the report's paths 0..199: the stated 140.0 lies above 140 of them (70th percentile);
    # the report's mean 99.5 lies above 10 of the stated 90..189 (10th)
    report = Estimate(99.5, 9.0, 189.0, "report model", "90% predictive interval",
                      draws=np.arange(200.0))  # fmt: skip
    result = compare(estimates(forecast=report))
    assert (
        "Under the stated model Kayes's 12-month total has the 90% interval 94-184 (median 139); "
        "the report model's mean, 99.5, lies at its 10th percentile, and the stated "
        "expectation, 140.0, at the 70th percentile of the report model's paths."
    ) in result.sentence


def test_a_stated_value_outside_the_interval_is_not_recovered_and_says_which_side() -> None:
    result = compare(
        estimates(own_lag=Estimate(0.4, 0.3, 0.5, "spillover fit", "95% Wald interval"))
    )
    position = rows(result)["recovered?"]
    assert position["own-lag share (last month's own events)"] == (
        "no: below the 95% Wald interval"
    )
    assert (
        "Not recovered: the own-lag share (stated 0.25, below the 95% Wald interval 0.30-0.50 "
        "around 0.40)" in result.sentence
    )
    recovered = result.sentence[: result.sentence.index("Not recovered")]
    assert "own-lag" not in recovered
    # this comparison treats every row as quoted, so the banner names it
    assert result.missed == ("the own-lag share (0.40 against 0.25)",)


def test_an_interval_row_names_a_large_point_gap_even_when_recovered() -> None:
    # 0.6 / 0.75 - 1 = -20%, inside 0.4-0.9
    result = compare(estimates(**{"share:MRT": Estimate(0.6, 0.4, 0.9, "what-if", "90% x")}))
    assert (
        "Mauritania's share attributable to Kayes (the estimate 60% is 20% below the stated "
        in (result.sentence)
    )


def test_an_estimate_without_interval_is_flagged_not_judged() -> None:
    result = compare(estimates(neighbourhood=Estimate(0.05, NAN, NAN, "on a bound")))
    row = rows(result).loc["neighbourhood share (neighbours' last month's events)"]
    assert row["interval"] == "" and row["recovered?"] == "no interval to check"
    assert "No interval to check the stated value against: the neighbourhood share" in (
        result.sentence
    )
    assert "58% below the stated 0.12" in result.sentence  # 0.05 / 0.12 - 1 = -58.3%
    assert "Not recovered" not in result.sentence


def test_a_quantity_that_cannot_be_compared_says_why() -> None:
    result = compare(estimates(growth="the study does not compare 2021 with 2024"))
    row = rows(result).loc["Kayes: events in 2024 / 2021 (rate ratio)"]
    assert row["estimate"] == "" and row["recovered?"] == "not compared"
    assert row["estimate from"] == "the study does not compare 2021 with 2024"
    assert "Not compared: the growth ratio (the study does not compare 2021 with 2024)." in (
        result.sentence
    )


def test_the_notes_give_the_trend_and_each_border_unit() -> None:
    growth = Estimate(7.3, 3.1, 17.0, "growth table", "95% headline interval",
                      parts={"annual_growth_pct": 82.8, "annual_growth_low": 40.0,
                             "annual_growth_high": 142.9, "level": 95})  # fmt: skip
    total = Estimate(3.0, 0.0, 9.0, "report model", "90% predictive interval",
                     parts={"MR-1": 0.7, "SN-1": 2.3})  # fmt: skip
    hit = Estimate(0.6, NAN, NAN, "report model", parts={"MR-1": 0.43, "SN-1": 0.77})
    result = compare(estimates(growth=growth, border_total=total, border_any=hit))
    assert "+83% a year (95% interval +40% to +143%)" in result.notes
    assert "stated growth of the endemic level, +91% a year" in result.notes
    # per unit: the report's expected events and P(any) against the stated model's
    assert "Guidimaka 0.7 against 4.0 (43% against 90%)" in result.notes
    assert "Tambacounda 2.3 against 4.0 (77% against 80%)" in result.notes
    assert "10 to 73" in result.notes and "6.90-fold" in result.notes
    assert "silenced" in result.notes  # the attributable share's definition, with share rows
    assert "demo_truth.json" in result.caption and "Kayes" in result.caption


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
    assert found.interval == "95% headline interval"
    assert found.parts is None  # no trend columns in this table, so no trend in the notes
    # the trend's interval at the table's level, which the note names
    ninety = table.assign(
        conf_level=0.9, annual_growth_pct=[10.0, 82.8], annual_growth_ci=[(0, 20), (40, 143)]
    )
    trend = demo_truth.growth_estimate(ninety, (2021, 2024)).parts
    assert trend == {"annual_growth_pct": 82.8, "annual_growth_low": 40.0,
                     "annual_growth_high": 143.0, "level": 90}  # fmt: skip
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
    assert own.interval == "95% Wald interval" and "log scale" in own.source
    assert demo_truth.parameter_estimate(params, "own_lag", 0.9).interval == "90% Wald interval"
    near = demo_truth.parameter_estimate(params, "neighbourhood", 0.95)
    assert isinstance(near, Estimate) and not near.has_interval
    assert "on a bound" in near.source and near.interval == ""
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


def paths_forecast(first: str = "2025-01-01", steps: int = 12) -> ForecastResult:
    """Report-model paths for Kayes and two neighbours: 200 paths, one event a month in Kayes
    times the path's number (0..199) spread over the months; MR-1 an event in month 1 on even
    paths; SN-1 two events in month 2 on paths below 50."""
    n = 200
    samples = np.zeros((3, steps, n), dtype=np.int64)
    samples[0, 0] = np.arange(n)  # Kayes's total on path k is k
    samples[1, 0] = np.arange(n) % 2 == 0
    samples[2, min(1, steps - 1)] = np.where(np.arange(n) < 50, 2, 0)
    periods = pd.date_range(first, periods=steps, freq="MS")
    return ForecastResult(
        samples=samples, region_ids=("ML-1", "MR-1", "SN-1"), periods=periods,
        origin=periods[0] - pd.DateOffset(months=1), model="auto", seed=0,
    )  # fmt: skip


def test_path_estimates_read_the_report_models_paths() -> None:
    fc = paths_forecast()
    kayes = demo_truth.path_estimate(fc, ["ML-1"], "2025-01", 12, "total")
    assert isinstance(kayes, Estimate) and kayes.value == 99.5  # mean of 0..199
    # the region report's numbers for one unit: risk.window_forecast's mean and 90% interval
    window = window_forecast(fc, "ML-1", steps=12)
    assert (kayes.value, kayes.low, kayes.high) == (window.mean, window.low, window.high)
    assert kayes.interval == "90% predictive interval"
    np.testing.assert_array_equal(kayes.draws, np.arange(200.0))
    # summed over the neighbours on each path: 1 on even paths, 2 on paths below 50
    border = demo_truth.path_estimate(fc, ["MR-1", "SN-1"], "2025-01", 12, "total")
    assert isinstance(border, Estimate)
    assert border.value == pytest.approx((100 * 1 + 50 * 2) / 200)
    assert border.parts == {"MR-1": 0.5, "SN-1": 0.5}
    # the mean of the units' P(at least one event): (0.5 + 0.25) / 2, no interval
    hit = demo_truth.path_estimate(fc, ["MR-1", "SN-1"], "2025-01", 12, "any")
    assert isinstance(hit, Estimate) and hit.value == pytest.approx(0.375)
    assert not hit.has_interval and hit.parts == {"MR-1": 0.5, "SN-1": 0.25}
    assert hit.mc_se > 0


def test_path_estimates_only_for_the_months_the_stated_model_was_continued_for() -> None:
    earlier = demo_truth.path_estimate(paths_forecast("2024-07-01"), ["ML-1"], "2025-01", 12,
                                       "total")  # fmt: skip
    assert earlier == "the forecast starts in 2024-07; the stated model is continued from 2025-01"
    shorter = demo_truth.path_estimate(paths_forecast(steps=6), ["ML-1"], "2025-01", 12, "total")
    assert isinstance(shorter, str) and "6 months" in shorter
    missing = demo_truth.path_estimate(paths_forecast(), ["XX-1"], "2025-01", 12, "total")
    assert missing == "XX-1 not in the forecast"


def contrast(**changes) -> SimpleNamespace:
    """The spillover model's focus scenarios as the reports hold them (the fields read)."""
    fields = {
        "focus": ("ML-1",),
        "origin": pd.Timestamp("2024-12-01"),
        "horizon": 12,
        "level": 0.9,
        "n_draws": 200,
        "n_paths": 50,
        "regions": pd.DataFrame({"region_id": TRUTH["forward_region_ids"]}),
        "countries": pd.DataFrame(
            {
                "country": ["MLI", "MRT", "SEN"],
                "expected_share": [0.5, 0.6, NAN],
                "expected_share_low": [0.4, 0.43, NAN],
                "expected_share_high": [0.6, 0.74, NAN],
            }
        ),  # fmt: skip
    }
    fields.update(changes)
    return SimpleNamespace(**fields)


def test_share_estimate_only_for_the_same_what_if_over_the_same_units() -> None:
    found = demo_truth.share_estimate(contrast(), "MRT", TRUTH)
    assert isinstance(found, Estimate) and (found.value, found.low, found.high) == (
        0.6, 0.43, 0.74,
    )  # fmt: skip
    assert found.interval == "90% interval across parameter draws"
    assert "200 parameter draws" in found.source
    assert demo_truth.share_estimate(contrast(), "SEN", TRUTH) == (
        "the spillover model gives no share for SEN"
    )
    assert "not ML-1 alone" in demo_truth.share_estimate(
        contrast(focus=("ML-1", "ML-2")), "MRT", TRUTH
    )
    later = demo_truth.share_estimate(contrast(origin=pd.Timestamp("2024-09-01")), "MRT", TRUTH)
    assert later == (
        "the reports' what-if covers 12 months from 2024-10, the stated model 12 from 2025-01"
    )
    fewer = contrast(regions=pd.DataFrame({"region_id": ["ML-1", "MR-1"]}))
    assert "units are not the stated model's" in demo_truth.share_estimate(fewer, "MRT", TRUTH)
    assert "not computed" in demo_truth.share_estimate(None, "MRT", TRUTH)


#: The spillover fit's parameter table as the reports keep it (own-lag, neighbourhood and
#: overdispersion).
PARAMS = pd.DataFrame(
    {"name": ["lambda", "phi", "psi"], "estimate": [0.3, 0.1, 0.25], "se": [NAN] * 3,
     "low": [0.2, 0.05, 0.15], "high": [0.4, 0.2, 0.4], "at_bound": [False] * 3}
)  # fmt: skip


def test_estimates_build_every_row_from_the_reports_numbers() -> None:
    found = demo_truth.estimates(
        TRUTH, growth_rows=None, parameters=PARAMS, parameter_level=0.95,
        forecast=paths_forecast(), border=["MR-1", "SN-1"], contrast=contrast(),
        targets=["MRT", "SEN"],
    )  # fmt: skip
    assert set(found) == {*demo_truth.QUANTITIES, "share:MRT", "share:SEN"}
    assert isinstance(found["forecast"], Estimate) and found["forecast"].value == 99.5
    assert isinstance(found["border_any"], Estimate)
    assert found["border_any"].value == pytest.approx(0.375)
    assert isinstance(found["share:MRT"], Estimate) and isinstance(found["share:SEN"], str)
    result = demo_truth.comparison(TRUTH, found, "Kayes", border=["MR-1", "SN-1"], names=NAMES)
    assert len(result.table) == 10
    # the fit's overdispersion against the stated one (0.6 outside 0.15-0.4: not recovered)
    dispersion = result.table.set_index("quantity").loc[
        "overdispersion (variance = mean + overdispersion x mean²)"
    ]
    assert dispersion["stated model"] == "0.60" and dispersion["estimate"] == "0.25"
    assert dispersion["recovered?"].startswith("no")
    assert "the overdispersion" in result.sentence
    # the quarter the summaries lead with is judged too: the paths' 99.5 against 30
    assert found["forecast_near"].value == 99.5
    assert "Kayes's 3-month total (the report model's mean 99.5 is 232% above the stated " \
        "30.0" in result.sentence  # fmt: skip
    # a truth summary without the near term (an older cache) leaves the row out
    old = {k: v for k, v in TRUTH.items() if not k.startswith(("near", "forward_near"))}
    found_old = demo_truth.estimates(
        old, growth_rows=None, parameters=PARAMS, parameter_level=0.95,
        forecast=paths_forecast(), border=["MR-1", "SN-1"], contrast=contrast(),
        targets=["MRT", "SEN"],
    )  # fmt: skip
    assert "forecast_near" not in found_old
    assert len(demo_truth.comparison(old, found_old, "Kayes", border=BORDER).table) == 9
    assert "Senegal's share attributable to Kayes (the spillover model gives no share for SEN)" in (
        result.sentence
    )


def test_estimates_without_the_focus_compare_only_the_shares() -> None:
    found = demo_truth.estimates(
        TRUTH, growth_rows=None, parameters=PARAMS, parameter_level=0.95, forecast=None
    )
    assert found["growth"] == found["forecast"] == "ML-1 is not in the study"
    assert (
        found["border_total"]
        == found["border_any"]
        == ("ML-1 has no cross-border neighbour in the study's target countries")
    )
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
    # the stated growth ratio is checked too: an edited one would have changed the growth row
    ratio = json.loads((demo_dir / "demo_truth.json").read_text())
    ratio["focus_true_rate_ratio"] *= 2
    (lone / "demo_truth.json").write_text(json.dumps(ratio))
    said = demo_truth.read_truth(missing)
    assert isinstance(said, str) and "focus_true_rate_ratio" in said


def test_the_check_is_made_once_per_study_and_again_when_its_truth_changes(
    demo_study_path: Path, demo_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    """Every report of a study shows the same check, which had cost each of them 0.27 s."""
    from analysis.config import load_study

    folder = tmp_path / "events"
    folder.mkdir()
    for name in ("demo_acled.csv", "demo_truth.json"):
        (folder / name).write_bytes((demo_dir / name).read_bytes())
    copy = tmp_path / "demo.yaml"
    copy.write_text(
        demo_study_path.read_text().replace(str(demo_dir / "demo_acled.csv"),
                                            str(folder / "demo_acled.csv"))
    )  # fmt: skip
    ctx = SimpleNamespace(study=load_study(copy))
    made = []
    monkeypatch.setattr(
        demo_truth, "section", lambda c, s, q: made.append(q) or f"check {len(made)}"
    )
    assert demo_truth.study_section(ctx, copy) == "check 1"
    assert demo_truth.study_section(ctx, copy) == "check 1" and len(made) == 1
    assert demo_truth.study_section(ctx, copy, "2024Q3") == "check 2"  # another as-of date
    truth = folder / "demo_truth.json"
    truth.write_text(truth.read_text() + "\n")
    assert demo_truth.study_section(ctx, copy) == "check 3"


def test_probability_ranges_are_written_as_the_reports_write_them() -> None:
    # the hand-made "43->99.9%" glued a bound's sign to the dash
    assert demo_truth._range("border_any", 0.43, 0.9999) == "43% to >99.9%"
    assert demo_truth._range("border_any", 0.3, 0.57) == "30-57%"
    assert demo_truth._range("forecast", 38.6, 143.2) == "39-143"
    assert demo_truth._range("forecast", 1.0, float("nan")) == ""


def test_banner_points_a_synthetic_studys_reader_to_the_truth_check() -> None:
    synthetic, real = SimpleNamespace(synthetic=True), SimpleNamespace(synthetic=False)
    assert demo_truth.banner(real) == ""
    text = demo_truth.banner(synthetic)
    assert text.startswith("These data are SYNTHETIC")
    assert f'"{demo_truth.SECTION_TITLE}" in the methods appendix checks' in text
    assert "which are not recovered" in text
    assert f'"{demo_truth.SECTION_TITLE}" below checks' in demo_truth.banner(synthetic, here=True)
    assert "Of the numbers" not in text
    # the misses named in every report's banner (the demo's Kayes report had its forecast
    # 32% below the stated model's with no word outside the appendix)
    named = demo_truth.banner(synthetic, missed=["Kayes's 12-month total (94.9 against 139.8)"])
    assert named.endswith(
        " Of the numbers the reports quote, not recovered (the report's figure against the "
        "stated model's): Kayes's 12-month total (94.9 against 139.8)."
    )
    assert demo_truth.banner(real, missed=["x"]) == ""
    # the banner's list is the section's: none for a real study or an unreadable truth file
    assert demo_truth.missed_names(None) == () and demo_truth.missed_names("no file") == ()
    real_ctx = SimpleNamespace(study=real)
    assert demo_truth.study_section(real_ctx, "real.yaml") is None
    # every page's banner: the demo notice, then the data files' notes, then a short last
    # period (as of the page's quarter)
    inputs = [{"path": "/data/ged.csv", "note": "a partial copy"}, {"path": "/data/b.csv"}]

    def short_last_month(quarter=None):
        return "" if quarter else "The last month is short."

    data = SimpleNamespace(inputs=inputs, partial_period_note=short_last_month,
                           coverage_notes=lambda: ["No event in Guinea."])  # fmt: skip
    ctx = SimpleNamespace(study=synthetic, data=data)
    page = demo_truth.page_banner(ctx, "no truth file", here=True)
    assert page == (
        demo_truth.banner(synthetic, here=True)
        + " The data file ged.csv is a partial copy. No event in Guinea. The last month is short."
    )
    assert not demo_truth.page_banner(ctx, None, quarter="2024Q1").endswith("short.")
    real_data = SimpleNamespace(inputs=inputs[1:], partial_period_note=lambda quarter=None: "",
                                coverage_notes=lambda: [])  # fmt: skip
    assert demo_truth.page_banner(SimpleNamespace(study=real, data=real_data), None) == ""
