"""Spillover and onset sentences across the border, shared by the region report and overview."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pandas as pd
import pytest

from analysis.report import spillover_text


def _onset_inputs():
    onset = SimpleNamespace(
        units=pd.DataFrame(
            {
                "region_id": ["MR-10"],
                "region_name": ["Guidimaka"],
                "country": ["MRT"],
                "p_onset": [0.427],
                "p_onset_low": [0.277],
                "p_onset_high": [0.598],
            }
        ),
        level=0.95,
        quiet=12,
        horizon=12,
    )
    risk = SimpleNamespace(
        regions=pd.DataFrame(
            {
                "region_id": ["SN-KE", "MR-10"],
                "region_name": ["Kédougou", "Guidimaka"],
                "country": ["SEN", "MRT"],
                "expected": [8.4, 8.6],
                "median": [7.0, 7.0],
                "expected_low": [2.0, 1.0],
                "expected_high": [19.0, 20.0],
                "p_any": [0.95, 0.45],
            }
        ),
        horizon=12,
    )
    # the spillover model's own levels differ from the report model's (risk above): none of
    # them may reach a sentence
    contrast = SimpleNamespace(
        regions=pd.DataFrame(
            {
                "region_id": ["ML-1", "SN-KE", "MR-10"],
                "region_name": ["Kayes", "Kédougou", "Guidimaka"],
                "p_any_continue": [1.0, 0.964, 0.932],
                "p_any_silenced": [0.0, 0.377, 0.414],
                "expected_continue": [147.3, 4.5, 3.9],
                "expected_silenced": [0.0, 1.7, 0.6],
                "p_any_diff": [1.0, 0.587, 0.518],
                "p_any_diff_low": [1.0, 0.46, 0.39],
                "p_any_diff_high": [1.0, 0.69, 0.66],
                "expected_diff": [147.3, 2.8, 3.3],
                "expected_diff_low": [108.4, 1.1, 1.4],
                "expected_diff_high": [221.0, 5.3, 6.2],
                "expected_share": [1.0, 0.62, 0.846],
                "expected_share_low": [1.0, 0.40, 0.71],
                "expected_share_high": [1.0, 0.78, 0.93],
                "p_any_share": [1.0, 0.609, 0.556],
                "p_any_share_low": [1.0, 0.48, 0.45],
                "p_any_share_high": [1.0, 0.72, 0.67],
            }
        ),
        countries=pd.DataFrame(
            {
                "country": ["MLI", "SEN"],
                "expected_continue": [334.9, 23.5],
                "expected_silenced": [95.4, 4.7],
                "expected_diff": [239.5, 18.8],
                "expected_diff_low": [114.4, 8.0],
                "expected_diff_high": [448.6, 35.9],
                "expected_share": [0.715, 0.80],
                "expected_share_low": [0.55, 0.66],
                "expected_share_high": [0.83, 0.89],
            }
        ),
        focus=("ML-1",),
        level=0.9,
        horizon=12,
    )
    return onset, risk, contrast


def _spillover_levels(row) -> list[str]:
    """Every way a sentence could print one of the spillover model's own levels or
    attributable counts/points (continue, silenced, their difference and its interval)."""
    out = []
    for c in ("expected_continue", "expected_silenced", "expected_diff", "expected_diff_low",
              "expected_diff_high"):  # fmt: skip
        if c in row:
            out += [f"{row[c]:.1f}", f"{row[c]:+.1f}"]
    for c in ("p_any_continue", "p_any_silenced"):
        if c in row:
            out.append(f"{100 * row[c]:.0f}%")
    for c in ("p_any_diff", "p_any_diff_low", "p_any_diff_high"):
        if c in row:
            out.append(f"{100 * row[c]:+.0f}")
    return out


def test_sentences_print_no_level_of_the_spillover_model() -> None:
    """One model per report: the neighbour sentences quote the report model's levels and only
    the spillover model's attributable share, never its continue/silenced levels."""
    onset, risk, contrast = _onset_inputs()
    regions = contrast.regions.set_index("region_id")
    for headline in (True, False):
        quiet, active = spillover_text.onset_unit_sentences(
            ["MR-10", "SN-KE"], onset, risk, headline=headline, contrast=contrast
        )
        for text, rid in ((quiet, "MR-10"), (active, "SN-KE")):
            leaked = [v for v in _spillover_levels(regions.loc[rid]) if v in text]
            assert not leaked, (text, leaked)
    text = spillover_text.attributable_sentence(contrast, ["SEN", "MLI"])
    for _, row in contrast.countries.iterrows():
        leaked = [v for v in _spillover_levels(row) if v in text]
        assert not leaked, (text, leaked)
    # the guard itself catches the old wording
    old = "the spillover model expects 4.5 there if Kayes continues and 1.7 if it is silenced"
    assert [v for v in _spillover_levels(regions.loc["SN-KE"]) if v in old]


def test_no_share_clause_when_the_spillover_model_expects_nothing() -> None:
    onset, risk, contrast = _onset_inputs()
    contrast.regions.loc[1, ["expected_share", "expected_share_low", "expected_share_high"]] = (
        float("nan")
    )
    (active,) = spillover_text.onset_unit_sentences(
        ["SN-KE"], onset, risk, headline=True, contrast=contrast
    )
    assert "spillover model" not in active and "nan" not in active.lower()
    assert active.startswith("Kédougou (SEN) is already active")


def test_onset_sentences_separate_first_events_from_continued_activity() -> None:
    onset, risk, contrast = _onset_inputs()
    quiet, active = spillover_text.onset_unit_sentences(
        ["MR-10", "SN-KE", "XX-9"], onset, risk, headline=True, contrast=contrast
    )
    # one number per question: the report model's P(at least one event), the onset model as
    # its evidence (the same event: a quiet unit's first event within the horizon)
    assert "Guidimaka (MRT)" in quiet
    assert "P(at least one event within 12 periods) 45% in the report model" in quiet
    # a lower Brier score within two standard errors is not called a win
    assert (
        "The onset model gives 43% (95% interval 28%-60%), within which the report model's value "
        "lies. The onset model's edge over the naive rules on this study's first events is not "
        "established" in quiet
    )
    assert "beat every naive rule" not in quiet
    (won,) = spillover_text.onset_unit_sentences(
        ["MR-10"], onset, risk, headline=True, established=True
    )
    assert (
        "The onset model, which beat every naive rule on this study's first events by more than "
        "two standard errors, gives 43% (95% interval 28%-60%), within which" in won
    )
    assert "not established" not in won
    assert "P(first event" not in quiet
    # the share is defined once in the report (Spillover section), not in every sentence
    assert quiet.endswith(
        "In the spillover model, 56% of the probability of an event there (90% interval "
        "45%-67%) is attributable to Kayes."
    )
    assert "Kédougou (SEN) is already active" in active
    assert "expected 8.4 events" in active and "median 7, 90% interval 2-19" in active
    assert active.endswith(
        "in the spillover model, 62% of the events expected there (90% interval 40%-78%) are "
        "attributable to Kayes."
    )
    assert "continue minus" not in quiet + active and "silenced" not in quiet + active
    risk.regions.loc[risk.regions["region_id"] == "MR-10", "p_any"] = 0.7
    (apart,) = spillover_text.onset_unit_sentences(["MR-10"], onset, risk, headline=True)
    assert "70% in the report model" in apart and "outside which" in apart
    # different horizons are different questions: the onset model's own probability
    risk.horizon = 6
    (other,) = spillover_text.onset_unit_sentences(["MR-10"], onset, risk, headline=True)
    assert "P(first event within 12 periods) 43%" in other and "report model" not in other
    risk.horizon = 12
    (hidden,) = spillover_text.onset_unit_sentences(["MR-10"], onset, risk, headline=False)
    assert "not headlined" in hidden and "43%" not in hidden
    (unknown,) = spillover_text.onset_unit_sentences(["MR-10"], None, risk, headline=False)
    assert "no onset model" in unknown and "already active" not in unknown


def test_onset_sentence_when_the_onset_model_drives_the_report_models_quiet_paths() -> None:
    """Where the report model's quiet paths carry the onset model's probability (fitted on the
    onset reference), the sentence says where the number comes from and gives the onset
    model's interval as its uncertainty, not as a second forecast to compare with; other
    units keep the check."""
    onset, risk, _ = _onset_inputs()
    onset.trained_on = {"units": 169, "countries": ["BFA", "MLI", "MRT", "SEN"]}
    (won,) = spillover_text.onset_unit_sentences(
        ["MR-10"], onset, risk, headline=True, established=True, from_onset=("MR-10",)
    )
    # what the onset model is fitted on is said once, in the section's introduction
    assert won == (
        "Guidimaka (MRT) has had no event in 12 periods: P(at least one event within 12 "
        "periods) 45% in the report model, from the onset model (95% interval 28%-60%, from "
        "its parameter uncertainty). The onset model beat every naive rule on this study's "
        "first events by more than two standard errors."
    )
    # a unit with no event anywhere in the panel is not "quiet for 12 periods" only
    never = SimpleNamespace(**{**vars(onset), "units": onset.units.assign(events_to_date=0)})
    (none,) = spillover_text.onset_unit_sentences(
        ["MR-10"], never, risk, headline=True, established=True, from_onset=("MR-10",)
    )
    assert none.startswith("Guidimaka (MRT) has had no event in the study's data: P(at least")
    once = SimpleNamespace(**{**vars(onset), "units": onset.units.assign(events_to_date=2)})
    assert (
        "has had no event in 12 periods"
        in spillover_text.onset_unit_sentences(
            ["MR-10"], once, risk, headline=True, established=True, from_onset=("MR-10",)
        )[0]
    )
    # quiet for longer than the window: the demo's Guidimaka, last event in December 2022
    units = onset.units.assign(
        events_to_date=3, last_event=pd.Timestamp("2022-12-01"), periods_quiet=24
    )
    longer = SimpleNamespace(**{**vars(onset), "units": units})
    (since,) = spillover_text.onset_unit_sentences(
        ["MR-10"], longer, risk, headline=True, established=True, from_onset=("MR-10",)
    )
    assert since.startswith("Guidimaka (MRT) has had no event in the 24 periods since 2022-12:")
    assert spillover_text.border_summary_parts(["MR-10"], longer, risk)[0][0] == (
        "Across the border, Guidimaka (MRT) has had no event in the 24 periods since 2022-12: "
        "its forecast is in"
    )
    just = SimpleNamespace(**{**vars(onset), "units": units.assign(periods_quiet=12)})
    assert (
        "has had no event in 12 periods:"
        in spillover_text.onset_unit_sentences(
            ["MR-10"], just, risk, headline=True, established=True, from_onset=("MR-10",)
        )[0]
    )
    (open_,) = spillover_text.onset_unit_sentences(
        ["MR-10"], onset, risk, headline=True, from_onset=("MR-10",)
    )
    assert open_.endswith(
        "from its parameter uncertainty). The onset model's edge over the naive rules on this "
        "study's first events is not established (a lower Brier score, but by less than two "
        "standard errors against at least one of them)."
    )
    # a sampled value outside the model's own interval is flagged, as before
    risk.regions.loc[risk.regions["region_id"] == "MR-10", "p_any"] = 0.7
    (apart,) = spillover_text.onset_unit_sentences(
        ["MR-10"], onset, risk, headline=True, established=True, from_onset=("MR-10",)
    )
    assert apart.endswith(
        "from its parameter uncertainty). The onset model beat every naive rule on this study's "
        "first events by more than two standard errors. The report model's 70% lies outside "
        "that interval (its paths are a sample): treat it with care."
    )
    # not headlined: the tables still show the report model's number, so say where it is from
    (hidden,) = spillover_text.onset_unit_sentences(
        ["MR-10"], onset, risk, headline=False, from_onset=("MR-10",)
    )
    assert hidden.endswith(
        "is not headlined (see the onset evidence). The report model's P(at least one event) in "
        "the tables and maps, 70%, is that model's all the same."
    )
    assert "fitted on" not in won + hidden
    # a unit whose paths did not take the onset model's probability keeps the check
    (other,) = spillover_text.onset_unit_sentences(
        ["MR-10"], onset, risk, headline=True, established=True, from_onset=()
    )
    assert "gives 43% (95% interval 28%-60%), outside which" in other
    assert "from the onset model" not in other


def test_onset_headline_needs_the_backtest_verdict() -> None:
    assert not spillover_text.onset_headlined(None)
    assert not spillover_text.onset_headlined({"available": False, "beats_naive": False})
    assert not spillover_text.onset_headlined({"available": True, "beats_naive": False})
    assert spillover_text.onset_headlined({"available": True, "beats_naive": True})
    assert not spillover_text.onset_edge_established({"available": True, "beats_naive": True})
    assert not spillover_text.onset_edge_established(
        {"available": True, "beats_naive": False, "edge_established": True}
    )
    assert spillover_text.onset_edge_established(
        {"available": True, "beats_naive": True, "edge_established": True}
    )
    text = spillover_text.onset_evidence_sentence({"available": False, "reason": "too short"})
    assert "could not be checked" in text and "too short" in text
    card = {"available": True, "verdict": "On this study's own history, the onset model ..."}
    assert spillover_text.onset_evidence_sentence(card) == card["verdict"]
    card["report_model"] = {"verdict": "The probabilities the tables and maps show ..."}
    assert spillover_text.onset_evidence_sentence(card) == (
        "On this study's own history, the onset model ... The probabilities the tables and "
        "maps show ..."
    )


def test_a_limit_that_rounds_to_zero_keeps_its_sign_and_a_digit() -> None:
    cal = {"difference": 0.051, "se": 0.0262}
    assert spillover_text._gap_interval(cal) == (
        "difference +5.1 points, 95% interval -0.04 to +10.2, clustered by unit and origin"
    )


def test_attributable_sentence_and_onset_scorecard_table() -> None:
    _, _, contrast = _onset_inputs()
    text = spillover_text.attributable_sentence(contrast, ["SEN"])
    assert "continue minus silenced" in text and "SEN 80% (90% interval 66%-89%)" in text
    assert "attributable to Kayes" in text and "next 12 periods" in text
    assert "MLI" not in text
    assert spillover_text.attributable_sentence(contrast, ["BFA"]) is None
    assert spillover_text.attributable_sentence(None) is None
    # the region report defines the share in its Spillover section and points there
    short = spillover_text.attributable_sentence(
        contrast, ["SEN"], defined_in="the Spillover section"
    )
    assert short == (
        "Share of the events the spillover model expects over the next 12 periods that is "
        "attributable to Kayes (defined in the Spillover section): SEN 80% (90% interval "
        "66%-89%)."
    )
    card = {
        "methods": {
            "onset_model": {"brier": 0.096, "auc": 0.81, "log_score": 0.332},
            "base_rate": {"brier": 0.115, "auc": 0.5, "log_score": 0.406},
        },
        "onset_model_brier_skill_vs": {"base_rate": 1 - 0.096 / 0.115},
    }
    table = spillover_text.onset_scorecard_table(card)
    assert list(table["method"]) == ["onset model", "base rate"]
    # the log score, a proper score like the Brier, is shown beside the AUC ranking
    assert table["log score"].tolist() == [0.332, 0.406]
    card["methods"]["report_model"] = {"brier": 0.101, "auc": 0.7}
    card["onset_model_brier_skill_vs"]["report_model"] = 1 - 0.096 / 0.101
    table = spillover_text.onset_scorecard_table(card)
    assert list(table["method"]) == [
        "report model (the probabilities shown)",
        "onset model",
        "base rate",
    ]
    skill = table.set_index("method")["onset model's Brier skill over this method"]
    assert skill["base rate"] == pytest.approx(1 - 0.096 / 0.115)
    assert skill["report model (the probabilities shown)"] == pytest.approx(1 - 0.096 / 0.101)
    # the difference is shown with its error, which decides "established" in the sentences
    card["onset_model_brier_margin_vs"] = {
        "base_rate": {"difference": 0.0192, "se": 0.0081},
        "report_model": {"difference": -0.0002, "se": float("nan")},
    }
    gap = spillover_text.onset_scorecard_table(card).set_index("method")[
        spillover_text.ONSET_GAP_COLUMN
    ]
    assert gap["base rate"] == "+0.019 (0.008)"
    # a gap below the printed precision keeps its sign (0.097 against 0.098 read "+0.000")
    assert gap["report model (the probabilities shown)"] == "-0.0002 (no error: one unit)"
    assert gap["onset model"] == ""


def test_risk_table_keeps_the_order_and_shows_the_report_model_only() -> None:
    """The table's "share from neighbours (spillover model)" (Hodh el Gharbi 78%, no interval)
    sat beside the sentence's "82% ... attributable to Kayes": one unit, two shares. The table
    now holds the report model's levels only; the shares are the unit sentences'."""
    _, risk, _ = _onset_inputs()
    table = spillover_text.risk_table(risk, ["MR-10", "XX-9", "SN-KE"])
    assert table["region"].tolist() == ["MR-10", "SN-KE"]  # unknown regions dropped
    assert table["90% interval"].tolist() == ["1-20", "2-19"]
    assert list(table.columns) == list(spillover_text.RISK_COLUMNS.values())
    assert not any("share" in c for c in table.columns)
    # probabilities as the sentences write them, never a fraction rounded to certainty
    assert table["P(at least 1)"].tolist() == ["45%", "95%"]
    assert table["median"].tolist() == ["7", "7"]
    risk.regions.loc[risk.regions["region_id"] == "SN-KE", "p_any"] = 0.9996
    assert spillover_text.risk_table(risk, ["SN-KE"])["P(at least 1)"].tolist() == [">99.9%"]


def test_cross_border_units_and_the_sentence_when_none_is_described(boundaries) -> None:
    """A Mauritanian region next to Kayes, with targets Mauritania and Senegal: its only
    cross-border neighbours (in Mali) are outside the targets, and the sentence says so
    instead of claiming it has none."""
    study = set(boundaries.regions_of(["MLI", "MRT", "SEN"])["region_id"])
    targets = ["Mauritania", "Senegal"]
    kayes = spillover_text.cross_border_units("ML-1", boundaries, targets, within=study)
    assert {"MR-02", "MR-03", "MR-10", "SN-KE", "SN-TC"} == set(kayes)  # no Guinean unit
    none = spillover_text.no_border_unit_sentence("ML-1", "Kayes", boundaries, targets, study)
    assert none is None
    assert spillover_text.cross_border_units("MR-02", boundaries, targets, within=study) == []
    text = spillover_text.no_border_unit_sentence(
        "MR-02", "Hodh el Gharbi", boundaries, targets, study
    )
    assert "no cross-border neighbour" not in text
    # grouped by country, never "Kayes, Mali,, Koulikoro, Mali,"
    assert "(Kayes and Koulikoro in Mali)" in text and ",," not in text
    assert "outside the spillover target countries (Mauritania and Senegal)" in text
    assert "none of them gets a sentence" in text
    # one neighbour: said in the singular, without a parenthesis inside another (Assaba's
    # "(Kayes (Mali)) are outside ... none of them")
    assaba = spillover_text.no_border_unit_sentence("MR-03", "Assaba", boundaries, targets, study)
    assert assaba == (
        "Assaba's one cross-border neighbour in the study (Kayes in Mali) is outside the spillover "
        "target countries (Mauritania and Senegal), so it gets no sentence of its own here."
    )
    # the study's targets are ISO3 codes: named in the sentence all the same
    coded = spillover_text.no_border_unit_sentence(
        "MR-02", "Hodh el Gharbi", boundaries, ["MRT", "SEN"], study
    )
    assert coded == text
    # a region whose cross-border neighbours are all outside the study has none in it
    alone = spillover_text.no_border_unit_sentence(
        "MR-02", "Hodh el Gharbi", boundaries, targets, {"MR-02", "MR-03"}
    )
    assert alone == "Hodh el Gharbi has no cross-border neighbour in the study."


def test_spillover_evidence_sentence_quotes_its_skill_beside_the_report_models() -> None:
    def rows(model: str, crps: tuple[float, float]) -> list[dict]:
        return [
            {"group": "focus", "model": model, "step": s, "crps": c, "pit_coverage_80": 0.8,
             "n_forecasts": 12}
            for s, c in zip((1, 2), crps, strict=True)
        ]  # fmt: skip

    card = {
        "by_group": [
            {"group": "focus", "model": "nb_climatology", "is_baseline": True, "crps": 2.0},
            {"group": "focus", "model": "zero", "is_baseline": True, "crps": 4.0},
            {"group": "focus", "model": "auto", "is_baseline": False, "crps": 1.5},
            {"group": "focus", "model": "spillover", "is_baseline": False, "crps": 2.5},
        ],
        "by_group_horizon": rows("nb_climatology", (1.0, 3.0))
        + rows("zero", (2.0, 6.0))
        + rows("ensemble_local", (0.8, 2.4))
        + rows("spillover", (1.5, 3.5)),
    }
    text = spillover_text.spillover_evidence_sentence(card, "focus", "ensemble_local")
    # spillover: 1 - 5 / 4 = -25%; the report model: 1 - 3.2 / 4 = +20%
    assert "over steps 1-2 of this report's backtest (24 outcomes in the focus regions)" in text
    assert "its CRPS is 25.0% above the best baseline's (nb_climatology)" in text
    assert "the report model's is 20.0% below" in text
    assert "forecasts worse than a baseline here" in text
    better = {
        **card,
        "by_group_horizon": card["by_group_horizon"][:-2] + rows("spillover", (0.5, 2.5)),
    }
    text = spillover_text.spillover_evidence_sentence(better, "focus", "ensemble_local")
    assert "its CRPS is 25.0% below" in text and "worse than a baseline" not in text
    assert "scores its forecasts, not its split of them" in text
    # a group without events (baseline CRPS 0): no skill to quote
    silent = {**card, "by_group_horizon": [
        {**r, "crps": 0.0} for r in card["by_group_horizon"] if r["model"] != "spillover"
    ] + rows("spillover", (0.0, 0.0))}  # fmt: skip
    assert spillover_text.spillover_evidence_sentence(silent, "focus", "ensemble_local") == ""
    assert spillover_text.spillover_evidence_sentence(card, "quiet", "ensemble_local") == ""
    assert spillover_text.spillover_evidence_sentence(None, "focus", "ensemble_local") == ""


def test_spillover_evidence_gives_the_skill_its_interval_from_the_scores(
    small_strided_backtest,
) -> None:
    """With the backtest's per-forecast scores the skill is quoted with its bootstrap interval,
    pooled over every forecast as in the scorecard."""
    from analysis.evaluation import scorecard

    bt = small_strided_backtest(6, seed=5)
    card = scorecard(bt, paired=False)
    ev = spillover_text.spillover_evidence(card, "focus", "recent_mean_3", bt.scores)
    assert ev is not None and ev.skill_low < ev.skill < ev.skill_high
    text = spillover_text.spillover_evidence_sentence(
        card, "focus", "last_value", "recent_mean_3", scores=bt.scores
    )
    assert f"a CRPS skill of {100 * ev.skill:+.1f}% (90% interval " in text
    # the evidence the report already computed gives the same sentence
    assert text == spillover_text.spillover_evidence_sentence(
        card, "focus", "last_value", "recent_mean_3", evidence=ev
    )
    # a gap the interval does not establish is called so, whichever its sign
    within = ev.skill_low <= 0 <= ev.skill_high
    assert ("not distinguishable from that baseline" in text) == within
    assert spillover_text.spillover_evidence(card, "focus", "recent_mean_3") is not None
    assert "interval" not in spillover_text.spillover_evidence_sentence(
        card, "focus", "last_value", "recent_mean_3"
    )


def test_shares_are_quoted_only_from_a_spillover_model_shown_ahead_of_the_baseline() -> None:
    """The share is the spillover model's what-if, checked only by its forecasts' backtest: a
    skill whose interval holds 0 is no evidence whichever its sign, so the shares are withheld
    and the sentence that replaces them gives the skill; ahead of the baseline they are
    quoted without a caveat."""
    from analysis.report.region_text import StepEvidence

    _, _, contrast = _onset_inputs()

    def evidence(skill: float, half: float = 0.2) -> StepEvidence:
        return StepEvidence(first=1, last=6, baseline="conflictology", skill=skill,
                            skill_low=skill - half, skill_high=skill + half, coverage=0.9,
                            coverage_low=0.8, coverage_high=1.0, below=0.0, above=0.9,
                            outcomes=65, origins=12, behind=(1,), level=0.9)  # fmt: skip

    # behind, or either side of 0 within the noise: no share
    for skill in (-0.5, -0.209, 0.0, 0.107, 0.19):
        assert not spillover_text.shares_earned(evidence(skill))
        assert spillover_text.attributable_sentence(
            contrast, ["SEN"], evidence=evidence(skill), defined_in="the Spillover section"
        ) is None  # fmt: skip
    assert not spillover_text.shares_earned(None)
    unclear = spillover_text.withheld_shares_sentence(
        contrast, evidence(-0.209), where="this report's backtest"
    )
    assert unclear.startswith("No share of the events across the border is attributed to ")
    assert (
        "is not shown better than the best baseline (conflictology) over steps 1-6 of this "
        "report's backtest, scored in Kayes alone: its CRPS skill is -20.9% (90% interval "
        "-40.9% to -0.9%), behind "
        "it (the methods appendix scores both by group). How it splits"
    ) in unclear
    assert unclear.count("not distinguishable from it") == 0  # its interval is below 0
    assert "behind it" in unclear
    # why auto's forecasts stand without an edge while the split does not (a reviewer read
    # the two as a double standard)
    assert unclear.endswith(
        "The report's forecasts, which must come from some model, come from auto whatever its "
        "edge (its evidence is beside them); a split into causes is a further claim, made only "
        "where its model has earned it."
    )
    # the report model's skill on the same backtest beside it, where the baseline is the same
    # (the demo: the withheld model +10.7%, the report model +1.2%)
    beside = spillover_text.withheld_shares_sentence(
        contrast, evidence(0.107), reference=evidence(0.012)
    )
    assert (
        "; the report model's, at the same steps and regions against the same baseline, is "
        "+1.2% (" in beside
    )
    assert "not distinguishable from that baseline (the methods appendix scores both" in beside
    other = dataclasses.replace(evidence(0.012), baseline="zero")
    assert "report model's" not in spillover_text.withheld_shares_sentence(
        contrast, evidence(0.107), reference=other
    )
    level = spillover_text.withheld_shares_sentence(contrast, evidence(0.107))
    assert "skill is +10.7% (90% interval" in level and "not distinguishable from it" in level
    assert "%)" not in spillover_text.withheld_shares_sentence(contrast, None)
    # a study where the spillover model could not be fitted at every origin says why
    why = spillover_text.withheld_shares_sentence(
        contrast, None, unscored="spillover model: the information matrix is singular."
    )
    assert (
        "has no backtest here (it could not be fitted at every origin of the backtest: the "
        "information matrix is singular), so its what-if has nothing to stand on."
    ) in why
    # ahead: quoted, without the caveat
    assert spillover_text.shares_earned(evidence(0.307))
    ahead = spillover_text.attributable_sentence(contrast, ["SEN"], evidence=evidence(0.307))
    assert ahead.endswith("SEN 80% (90% interval 66%-89%).")
    # without evidence the caller has gated: the same shares
    assert spillover_text.attributable_sentence(contrast, ["SEN"]) == ahead


def test_share_sentence_quotes_earned_shares_and_otherwise_says_none_is_attributed() -> None:
    """The overview and the region report gate the shares in one place."""
    from analysis.report.region_text import StepEvidence

    _, _, contrast = _onset_inputs()

    def evidence(skill: float) -> StepEvidence:
        return StepEvidence(first=1, last=6, baseline="conflictology", skill=skill,
                            skill_low=skill - 0.2, skill_high=skill + 0.2, coverage=0.9,
                            coverage_low=0.8, coverage_high=1.0, below=0.0, above=0.9,
                            outcomes=65, origins=12, behind=(1,), level=0.9)  # fmt: skip

    ahead, unclear = evidence(0.307), evidence(0.107)
    assert spillover_text.earned_contrast(contrast, ahead) is contrast
    assert spillover_text.earned_contrast(contrast, unclear) is None
    assert spillover_text.earned_contrast(None, ahead) is None
    quoted = spillover_text.share_sentence(contrast, ["SEN"], ahead, where="x")
    assert quoted == spillover_text.attributable_sentence(contrast, ["SEN"], evidence=ahead)
    withheld = spillover_text.share_sentence(contrast, ["SEN"], unclear, where="x")
    assert withheld == spillover_text.withheld_shares_sentence(contrast, unclear, where="x")
    assert spillover_text.share_sentence(None, ["SEN"], ahead, where="x") is None
    # a model with region-level endemic effects earns no shares, whatever its skill: their
    # intervals held the true shares in a third of simulated cases
    for effects in ("region", "region_in_country"):
        regional = SimpleNamespace(**{**vars(contrast), "endemic_effects": effects})
        assert not spillover_text.shares_earned(ahead, regional)
        assert spillover_text.earned_contrast(regional, ahead) is None
        said = spillover_text.share_sentence(regional, ["SEN"], ahead, where="x")
        assert said == spillover_text.withheld_shares_sentence(regional, ahead, where="x")
        assert "ahead of the best baseline (conflictology)" in said
        assert "region-level endemic effects" in said and "a third of simulated cases" in said
        assert "80%" not in said and "66%-89%" not in said  # the share is not quoted
    for effects in ("country", None):
        kept = SimpleNamespace(**{**vars(contrast), "endemic_effects": effects})
        assert spillover_text.earned_contrast(kept, ahead) is kept


def test_border_summary_parts_point_each_unit_to_where_its_numbers_are() -> None:
    """The summary names the units across the border, active or quiet, once; their numbers
    stay where they are: the Spillover table's row for an active unit, the section across the
    border for a quiet one (the summary had repeated every unit sentence word for word, and
    that section had restated the table's rows)."""
    onset, risk, contrast = _onset_inputs()
    risk.regions = pd.concat(
        [risk.regions, risk.regions.iloc[[0]].assign(region_id="SN-TC", region_name="Tambacounda")]
    )
    units = ["MR-10", "SN-KE", "SN-TC"]
    # with the shares quoted, every unit gets its sentence: the table has no share
    described = spillover_text.units_to_describe(units, onset, tabled=units, contrast=contrast)
    assert described == ["MR-10", "SN-KE"]  # Tambacounda has no share in this contrast
    parts = spillover_text.border_summary_parts(units, onset, risk, contrast, described=described)
    assert parts == [
        ("Across the border, Tambacounda (SEN) is already active: its forecast is in", "table"),
        (
            "Also across the border, Kédougou (SEN) is already active, and Guidimaka (MRT) has "
            "had no event in 12 periods: their forecasts and the shares attributable to Kayes "
            "are in",
            "section_quiet",
        ),
    ]
    # without shares only the quiet unit needs a sentence; a unit the table leaves out too
    assert spillover_text.units_to_describe(units, onset, tabled=units) == ["MR-10"]
    assert spillover_text.units_to_describe(units, onset, tabled=["MR-10"]) == units
    assert spillover_text.border_summary_parts(units, onset, risk, described=["MR-10"]) == [
        (
            "Across the border, Kédougou (SEN) and Tambacounda (SEN) are already active: their "
            "forecasts are in",
            "table",
        ),
        (
            "Also across the border, Guidimaka (MRT) has had no event in 12 periods: its "
            "forecast is in",
            "section_quiet",
        ),
    ]
    never = SimpleNamespace(**{**vars(onset), "units": onset.units.assign(events_to_date=0)})
    # every unit across the border without any event in the data (the real Tillabéri alone)
    assert spillover_text.border_summary_parts(["MR-10"], never, risk) == [
        (
            "Across the border, Guidimaka (MRT) has had no event in the study's data: its "
            "forecast is in",
            "section_quiet",
        )
    ]
    one = spillover_text.border_summary_parts(["SN-KE"], onset, risk, described=[])
    assert one == [
        ("Across the border, Kédougou (SEN) is already active: its forecast is in", "table")
    ]
    # without an onset model quiet and active cannot be told apart: every unit is described
    assert spillover_text.units_to_describe(units, None, tabled=units) == units
    blind = spillover_text.border_summary_parts(["MR-10", "SN-KE"], None, risk)
    assert blind == [
        ("Across the border, Guidimaka (MRT) and Kédougou (SEN): their forecasts are in", "section")
    ]
    assert spillover_text.border_summary_parts([], onset, risk) == []


def test_quiet_units_are_the_onset_models_in_the_given_order() -> None:
    """A report shows the onset model's method and evidence only where it shows one of its
    units' probabilities."""
    onset, risk, _ = _onset_inputs()
    assert spillover_text.quiet_units(onset, ["SN-KE", "MR-10", "MR-10"]) == ["MR-10"]
    assert spillover_text.quiet_units(onset, ["SN-KE"]) == []
    assert spillover_text.quiet_units(None, ["MR-10"]) == []
    assert spillover_text.unit_names(["SN-KE", "MR-10"], risk) == (
        "Kédougou (SEN) and Guidimaka (MRT)"
    )


def test_silent_countries_sentence_names_targets_without_any_event() -> None:
    """The real study's Niger: no JNIM-family event in 2015-2020, yet a P(any) of 16% beside
    Burkina Faso's; the reader is told where that number comes from."""
    periods = pd.date_range("2015-01-01", periods=3, freq="MS")
    panel = pd.DataFrame(
        {
            "country": ["BFA"] * 3 + ["NER"] * 3 + ["MLI"] * 3,
            "period": list(periods) * 3,
            "events": [0, 2, 1, 0, 0, 0, 4, 0, 0],
        }
    )
    text = spillover_text.silent_countries_sentence(panel, ["BFA", "NER"])
    assert text.startswith("NER has no event of this selection in the study's data (2015-01 to")
    assert "BFA" not in text and "not from its own history" in text
    assert spillover_text.silent_countries_sentence(panel, ["BFA"]) == ""
    both = spillover_text.silent_countries_sentence(panel.assign(events=0), ["BFA", "NER"])
    assert both.startswith("BFA and NER have no event") and "their probabilities" in both
    # with the paths: the country's number is a combination of small unit chances
    risk = SimpleNamespace(regions=pd.DataFrame({
        "region_id": ["NE-1", "NE-2", "BF-1"], "region_name": ["Tillabéri", "Diffa", "Sahel"],
        "country": ["NER", "NER", "BFA"], "p_any": [0.0315, 0.014, 0.9],
    }))  # fmt: skip
    text = spillover_text.silent_countries_sentence(panel, ["BFA", "NER"], risk)
    assert text.endswith("; NER's probability combines 2 units' chances of 1% to 3%, the "
                         "largest in Tillabéri.")  # fmt: skip


def test_silent_countries_sentence_says_how_the_quiet_probabilities_scored() -> None:
    """The real study's overview gave "NER 16%" from the quiet units' rule without saying that,
    on the study's own past first events, its edge over the base rate and the neighbour rule
    was within two standard errors; the sentence now says so, as the region reports do."""
    periods = pd.date_range("2015-01-01", periods=3, freq="MS")
    panel = pd.DataFrame(
        {
            "country": ["BFA"] * 3 + ["NER"] * 3,
            "period": list(periods) * 2,
            "events": [0, 2, 1, 0, 0, 0],
        }
    )
    narrow = {
        "available": True, "beats_naive": True, "edge_established": False,
        "report_model": {"beats": {"base_rate": True}, "beats_naive": True,
                         "edge_established": False},
    }  # fmt: skip
    text = spillover_text.silent_countries_sentence(panel, ["BFA", "NER"], card=narrow)
    assert text.startswith("NER has no event")
    assert text.endswith(
        "On this study's past first events, these probabilities had a lower Brier score than "
        "every naive rule, but not by more than two standard errors against all of them, so "
        "their edge over a naive rule such as the base rate is not established (the methods "
        "appendix's Onset evidence)."
    )
    # the overview links to the scores after the sentence: no pointer in words then
    linked = spillover_text.silent_countries_sentence(panel, ["BFA", "NER"], card=narrow, where="")
    assert linked.endswith("such as the base rate is not established.")
    assert spillover_text.quiet_probability_verdict(None, where="").endswith("past first events.")
    # the report model's own verdict is the one quoted when the backtest scored it
    lost = dict(narrow, report_model={"beats": {"base_rate": False, "neighbour_rule": True},
                                      "beats_naive": False})  # fmt: skip
    assert "did not beat the base rate " in spillover_text.quiet_probability_verdict(lost)
    few = {"available": True, "beats": {"base_rate": True}, "beats_naive": False}
    assert "too few units" in spillover_text.quiet_probability_verdict(few)
    # with the margins, the rules the edge is not established over are named
    margins = {"base_rate": {"difference": 0.004, "se": 0.003},
               "neighbour_rule": {"difference": 0.003, "se": 0.002},
               "distance_decay": {"difference": 0.006, "se": 0.0025}}  # fmt: skip
    named = dict(narrow, report_model={**narrow["report_model"], "brier_margin": margins})
    assert spillover_text.quiet_probability_verdict(named, where="") == (
        "On this study's past first events, these probabilities had a lower Brier score than "
        "every naive rule, but by less than two standard errors (clustered by unit and origin) "
        "against the base rate and the neighbour rule, so their edge over them is not established."
    )
    won = dict(narrow, report_model={"beats": {}, "beats_naive": True, "edge_established": True})
    assert "by more than two standard errors" in spillover_text.quiet_probability_verdict(won)
    assert "could not be checked" in spillover_text.quiet_probability_verdict(None)
    # without a card the sentence is as before
    assert "Brier" not in spillover_text.silent_countries_sentence(panel, ["BFA", "NER"])


def test_own_onset_sentence_gives_a_quiet_region_its_own_verdict() -> None:
    """Tillabéri's own report quoted its 2%/3% with only the quiet group's CRPS against the
    zero baseline; the onset verdict (edge not established) was only in Sahel's report. A quiet
    region's own summary now gets the sentence its neighbours' reports give it."""
    onset, risk, _ = _onset_inputs()
    onset.trained_on = {"units": 169, "countries": ["BFA", "MLI", "MRT", "SEN"]}
    card = {"available": True, "beats_naive": True, "edge_established": False}
    own = spillover_text.own_onset_sentence("MR-10", onset, risk, card, from_onset=("MR-10",))
    assert own.startswith(
        "Guidimaka (MRT) has had no event in 12 periods: P(at least one event within 12 "
        "periods) 45% in the report model, from the onset model (95% interval 28%-60%"
    )
    assert own.endswith("is not established (a lower Brier score, but by less than two "
                        "standard errors against at least one of them).")  # fmt: skip
    # not headlined where the onset model lost to a naive rule
    lost = spillover_text.own_onset_sentence(
        "MR-10", onset, risk, {"available": True, "beats_naive": False}
    )
    assert "not headlined" in lost
    # an active region, or a study without an onset model: no sentence
    assert spillover_text.own_onset_sentence("SN-KE", onset, risk, card) == ""
    assert spillover_text.own_onset_sentence("MR-10", None, risk, card) == ""


def test_quiet_map_note_points_to_the_onset_evidence_the_reader_can_reach() -> None:
    onset, _, _ = _onset_inputs()
    assert spillover_text.quiet_map_note(onset, evidence_here=True) == (
        " Quiet units take theirs from the onset model (its evidence: Evidence for the onset "
        "probabilities, below)."
    )
    assert spillover_text.quiet_map_note(onset, evidence_here=False).endswith(
        "(its evidence: the methods appendix's Onset evidence)."
    )
    assert spillover_text.quiet_map_note(None, evidence_here=True) == ""


def test_calibration_sentence_says_whether_the_probabilities_ran_low_or_high() -> None:
    """The real study's onset probabilities averaged 5.9% where 11% of the forecasts had a
    first event, and "Tillabéri 3%" came with no word on it: a lower Brier score than the
    naive rules ranks units, it does not make the levels right. Split by history, the 120
    forecasts for never-active units (Niger's) were followed by none, the other 161 by 31: a
    unit is told its own group's record."""

    def cal(mean, observed, se, events, forecasts, units=30):
        gap = observed - mean
        return {"mean_probability": mean, "observed": observed, "difference": gap, "se": se,
                "n_units": units, "n_events": events, "n_forecasts": forecasts}  # fmt: skip

    low = {
        "calibration": {"onset_model": cal(0.0591, 0.1103, 0.018, 31, 281),
                        "report_model": cal(0.059, 0.1103, 0.018, 31, 281)},
        "calibration_by_history": {
            "never": {"report_model": cal(0.029, 0.0, 0.004, 0, 120, 8)},
            "before": {"report_model": cal(0.081, 0.1925, 0.03, 31, 161, 22)},
        },
    }  # fmt: skip
    assert spillover_text.calibration_sentence(low) == (
        "On these forecasts the report model's probabilities averaged 5.9%, and 11.0% were "
        "followed by a first event (difference +5.1 points, 95% interval +1.6 to +8.7, "
        "clustered by unit and origin): they have run low, so the quiet units' probabilities in "
        "this study's reports are more likely too low than too high. By history: for units "
        "without any event since the study's start they averaged 2.9% and none of 120 forecasts "
        "were followed by a first event; for units with an event since the study's start they "
        "averaged 8.1% and 31 of 161 forecasts were followed by a first event."
    )
    clauses = spillover_text.calibration_clauses(low)
    # no first event among the never-active units' forecasts: no verdict, the plain numbers
    assert clauses["never"] == (
        "; on this study's past first events, such probabilities for units without any event "
        "since the study's start averaged 2.9%, and none of 120 forecasts were followed by a "
        "first event (too few first events to tell whether they run low)"
    )
    assert clauses["before"] == (
        "; on this study's past first events, such probabilities for units with an event since "
        "the study's start ran low (8.1% on average, where 31 of 161 forecasts were followed by "
        "a first event; difference +11.2 points, 95% interval +5.3 to +17.0, clustered by unit "
        "and origin), so this one is more likely too low than too high"
    )
    # the demo's: 15.1% against 13.0%, within its error
    fine = {"calibration": {"onset_model": cal(0.151, 0.130, 0.02, 39, 299, 25)}}
    assert spillover_text.calibration_sentence(fine).endswith(
        "(difference -2.1 points, 95% interval -6.0 to +1.8, clustered by unit and origin): right "
        "on average, within their error."
    )
    assert spillover_text.calibration_sentence(fine).startswith(
        "On these forecasts the onset model's probabilities"
    )
    # without the split the unit is told the pooled record, its verdict with the interval it
    # rests on (the demo's Guidimaka had read "(within their error)" with no numbers)
    assert spillover_text.calibration_clause(fine, "never") == (
        "; on this study's past first events, such probabilities for quiet units averaged "
        "15.1%, and 39 of 299 forecasts were followed by a first event (within their error: "
        "difference -2.1 points, 95% interval -6.0 to +1.8, clustered by unit and origin)"
    )
    few = {"calibration": {"onset_model": cal(0.151, 0.130, 0.02, 3, 299, 25)}}
    assert spillover_text.calibration_clause(few, "never").endswith(
        "(too few first events to tell whether they run low)"
    )
    high = {"calibration": {"onset_model": cal(0.151, 0.130, 0.005, 39, 299)}}
    assert "they have run high" in spillover_text.calibration_sentence(high)
    assert spillover_text.calibration_clause(high, "before").endswith(
        "so this one is more likely too high than too low"
    )
    # no calibration (an older card, one unit): nothing said
    assert spillover_text.calibration_sentence({"calibration": {}}) == ""
    one_unit = {"calibration": {"onset_model": {**fine["calibration"]["onset_model"],
                                                "se": float("nan")}}}  # fmt: skip
    assert spillover_text.calibration_sentence(one_unit) == ""
    assert spillover_text.calibration_clause(one_unit, "never") == ""
    # the overview speaks of silent countries, whose units never had an event
    card = {"available": True, "beats_naive": True, "edge_established": False, **low}
    verdict = spillover_text.quiet_probability_verdict(card, where="")
    assert verdict.endswith(
        "is not established. For units without any event since the study's start, they averaged "
        "2.9% on those events, and none of 120 forecasts were followed by a first event."
    )
    # a quiet unit's sentence carries its own history's clause
    onset, risk, _ = _onset_inputs()
    onset.trained_on = {"units": 169, "countries": ["BFA", "MLI", "MRT", "SEN"]}
    own = spillover_text.own_onset_sentence("MR-10", onset, risk, card, from_onset=("MR-10",))
    # each clause its own sentence (the real Tillabéri's had run to 118 words)
    as_sentence = clauses["before"].replace("; on", ". On", 1)
    assert own.endswith(as_sentence + ".")
    never = SimpleNamespace(**{**vars(onset), "units": onset.units.assign(events_to_date=0)})
    assert spillover_text.own_onset_sentence(
        "MR-10", never, risk, card, from_onset=("MR-10",)
    ).endswith(clauses["never"].replace("; on", ". On", 1) + ".")


def test_focus_neighbour_sentence_names_the_focus_next_door(boundaries) -> None:
    """The demo's Guidimaka report named Tambacounda across the border but never Kayes, the
    focus, whose 73 events of 2024 are what its spillover question is about."""
    periods = pd.date_range("2024-01-01", periods=14, freq="MS")
    rows = []
    for rid, name, country, per_month in (("ML-1", "Kayes", "MLI", 6), ("MR-10", "Guidimaka",
                                          "MRT", 0), ("ML-2", "Koulikoro", "MLI", 1)):  # fmt: skip
        rows += [dict(region_id=rid, region_name=name, country=country, period=p,
                      events=per_month) for p in periods]  # fmt: skip
    panel = pd.DataFrame(rows)
    text = spillover_text.focus_neighbour_sentence("MR-10", ["ML-1"], boundaries, panel)
    assert text == (
        "Guidimaka borders the focus region Kayes (MLI), with 72 events in the last 12 periods."
    )
    # a neighbour in the same country counts too; the focus itself and a far region get none
    assert spillover_text.focus_neighbour_sentence("ML-2", ["ML-1"], boundaries, panel).startswith(
        "Koulikoro borders the focus region Kayes (MLI)"
    )
    assert spillover_text.focus_neighbour_sentence("ML-1", ["ML-1"], boundaries, panel) == ""
    assert spillover_text.focus_neighbour_sentence("MR-10", ["SN-DK"], boundaries, panel) == ""
