"""Numbers as a reader sees them."""

from __future__ import annotations

import pytest

from analysis.formatting import (
    format_growth_pct,
    format_p_value,
    format_probability,
    probability_range,
)


def test_probabilities_never_read_as_certain() -> None:
    assert format_probability(0.0) == "<0.1%"
    assert format_probability(1.0) == ">99.9%"
    assert format_probability(0.996) == "99.6%"
    assert format_probability(0.004) == "0.4%"
    assert format_probability(0.5) == "50%"
    assert format_probability(float("nan")) == ""


def test_probability_ranges_read_naturally() -> None:
    assert probability_range(0.75, 0.99) == "75-99%"
    assert probability_range(0.996, 1.0) == "99.6% to >99.9%"
    assert probability_range(0.0, 0.2) == "<0.1% to 20%"


def test_p_values_are_never_shown_as_zero():
    assert format_p_value(3.5e-5) == "<0.001"
    assert format_p_value(0.0123) == "0.012"
    assert format_p_value(0.43) == "0.43"
    assert format_p_value(float("nan")) == ""


def test_join_words_lists_like_a_sentence() -> None:
    from analysis.formatting import join_words

    assert join_words([]) == "" and join_words(["Kayes"]) == "Kayes"
    assert join_words(["Kayes", "Mopti"]) == "Kayes and Mopti"
    assert join_words(("base rate", "neighbour rule", "decay"), "or") == (
        "base rate, neighbour rule or decay"
    )


def test_ratios_keep_the_precision_their_size_needs() -> None:
    from analysis.formatting import format_ratio

    # a demo overview row had read "0.00 908.78" for 0.0011-908.8
    assert format_ratio(0.001100373) == "0.0011"
    assert format_ratio(908.7827) == "909"
    assert format_ratio(24.804) == "24.8"
    assert format_ratio(2.1484) == "2.15"
    assert format_ratio(0.0437) == "0.044"
    assert format_ratio(1234.5) == "1,234"
    assert format_ratio(0.0) == "0"
    assert format_ratio(float("inf")) == "" and format_ratio(float("nan")) == ""
    # never the null when it is not
    assert format_ratio(0.996) == "0.996"
    assert format_ratio(1.004) == "1.004"
    assert format_ratio(1.0) == "1.00"
    assert format_ratio(1.0000001) == "1.0000001"
    # fixed point at any size, and the band of the rounded value
    assert format_ratio(9.9e-05) == "0.000099" and format_ratio(1e-9) == "0.0000000010"
    assert format_ratio(9.996) == "10.0" and format_ratio(99.97) == "100"
    assert format_ratio(0.09996) == "0.10"
    # numpy scalars and integers alike
    import numpy as np

    assert format_ratio(np.float32(2.148)) == "2.15" and format_ratio(np.int64(3)) == "3.00"
    # a point estimate needs no care for the null
    from analysis.formatting import format_ratio_estimate

    assert format_ratio_estimate(1.004) == "1.00" and format_ratio_estimate(0.0011) == "0.0011"


def test_growth_rates_are_signed_whole_percents_that_never_read_zero() -> None:
    assert format_growth_pct(82.82) == "+83%"
    assert format_growth_pct(-2.4) == "-2%"
    # a limit just off zero keeps the digits that show its sign means something
    assert format_growth_pct(0.4) == "+0.4%" and format_growth_pct(-0.04) == "-0.04%"
    assert format_growth_pct(0.0) == "+0%"
    assert format_growth_pct(float("inf")) == "" and format_growth_pct(None) == ""


def test_format_skill_gives_the_interval_only_when_there_is_one():
    from analysis.formatting import format_skill

    assert format_skill(0.0123, -0.073, 0.086) == "+1.2% (90% interval -7.3% to +8.6%)"
    assert format_skill(-0.057, -0.111, -0.009, 0.95) == "-5.7% (95% interval -11.1% to -0.9%)"
    assert format_skill(0.039) == "+3.9%"
    # a limit that rounds to 0.0 keeps its side of 0 (the demo overview read "-0.0%")
    assert format_skill(0.037, -0.0004, 0.074) == "+3.7% (90% interval -0.04% to +7.4%)"
    assert format_skill(0.0) == "0.0%"


def test_format_share_gives_the_interval_only_when_there_is_one():
    from analysis.formatting import format_share

    assert format_share(0.667, 0.56, 0.81) == "67% (90% interval 56%-81%)"
    assert format_share(0.8, 0.75, 0.91, 0.95) == "80% (95% interval 75%-91%)"
    assert format_share(0.62, float("nan"), float("nan")) == "62%"


def test_score_tables_show_skills_and_coverages_as_the_text_quotes_them():
    from analysis.formatting import score_formats

    formats = score_formats(["step", "CRPS", "CRPS skill", "80% coverage (randomised PIT)"])
    assert set(formats) == {"CRPS", "CRPS skill", "80% coverage (randomised PIT)"}
    # quiet regions' scores near 0.01 keep three significant digits, larger ones three decimals
    assert formats["CRPS"](0.01234) == "0.0123" and formats["CRPS"](0.265) == "0.265"
    assert formats["CRPS"](1.7344) == "1.734" and formats["CRPS"](float("nan")) == ""
    assert score_formats(["baseline CRPS"])["baseline CRPS"](0.0118) == "0.0118"
    assert formats["CRPS"](0.012) == "0.0120"  # the digits kept, not "0.012" beside "0.0115"
    assert formats["CRPS skill"](0.027) == "+2.7%"
    assert formats["CRPS skill"](-0.0004) == "-0.04%"  # not "-0.000"
    assert formats["80% coverage (randomised PIT)"](0.726) == "73%"


def test_format_difference_keeps_the_sign_of_a_gap_below_its_precision() -> None:
    from analysis.formatting import format_difference

    assert format_difference(0.022) == "+0.022" and format_difference(-0.029) == "-0.029"
    # 0.189 against 0.190 had read "+0.000"
    assert format_difference(-0.0004) == "-0.0004"
    assert format_difference(0.00004) == "+0.00004"
    assert format_difference(0.0) == "+0.000"
    assert format_difference(-0.0123, digits=2) == "-0.01"


def test_period_label_writes_a_quarter_as_a_quarter() -> None:
    """A quarterly panel stores 2020Q4 as 2020-10-01; written as a month it read as October
    alone ("From 2021-01 to 2021-07" of a forecast that ran to September)."""
    import pandas as pd

    from analysis.formatting import period_label

    assert period_label(pd.Timestamp("2020-10-01"), "quarter") == "2020Q4"
    assert period_label(pd.Timestamp("2021-01-01"), "quarter") == "2021Q1"
    assert period_label("2021-05-01", "quarter") == "2021Q2"  # any day of the quarter
    # months as every monthly label has always read them, and a panel without the attribute
    assert period_label(pd.Timestamp("2020-10-01"), "month") == "2020-10"
    assert period_label(pd.Timestamp("2020-10-01"), None) == "2020-10"
    with pytest.raises(ValueError, match="week"):
        period_label(pd.Timestamp("2020-10-01"), "week")


def test_period_unit_names_months_or_quarters_for_a_count() -> None:
    from analysis.formatting import period_unit

    assert period_unit("month") == "month" and period_unit("month", 6) == "months"
    assert period_unit("quarter") == "quarter" and period_unit("quarter", 2) == "quarters"
    assert period_unit("quarter", 0) == "quarters" and period_unit(None, 3) == "months"
    with pytest.raises(ValueError, match="year"):
        period_unit("year")
