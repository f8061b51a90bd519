"""The methods appendix's tables."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.models.registry import get
from analysis.report import methods_text


def test_scorecard_table_sorts_by_crps() -> None:
    card = {"models": [{"model": "m", "is_baseline": False, "crps": 2.0},
                       {"model": "z", "is_baseline": True, "crps": 1.0}]}  # fmt: skip
    table = methods_text.scorecard_table(card)
    assert list(table["model"]) == ["z", "m"]
    assert list(table["baseline"]) == ["yes", "no"]


def test_group_table_orders_models_within_groups() -> None:
    card = {
        "by_group": [
            {"group": "quiet", "model": "a", "crps": 0.3, "crps_skill_vs_best_baseline": 0.1,
             "pit_coverage_80": 0.8},
            {"group": "focus", "model": "b", "crps": 2.0, "crps_skill_vs_best_baseline": -0.1,
             "pit_coverage_80": 0.7},
            {"group": "focus", "model": "a", "crps": 1.0, "crps_skill_vs_best_baseline": 0.2,
             "pit_coverage_80": 0.9},
        ]
    }  # fmt: skip
    table = methods_text.group_table(card)
    pairs = list(zip(table["group"], table["model"], strict=True))
    assert pairs == [("focus", "a"), ("focus", "b"), ("quiet", "a")]
    assert "80% coverage (randomised PIT)" in table.columns


def test_every_method_model_is_in_the_registry() -> None:
    for name in methods_text.METHOD_MODELS:
        assert get(name).name == name


def _count_rows():
    """Kayes's rows as the demo's appendix had them: zinb fell back to nb2 (no zeros inflated)
    and repeated its row; the overdispersion test repeated on every row."""
    import numpy as np
    import pandas as pd

    return pd.DataFrame(
        {
            "region_id": ["ML-1"] * 3, "region_name": ["Kayes"] * 3, "n": [84] * 3,
            "model": ["nb2", "zinb", "poisson"], "fitted_model": ["nb2", "nb2", "poisson"],
            "k": [3, 3, 2], "llf": [-111.9, -111.9, -115.8], "aic": [229.8, 229.8, 235.6],
            "bic": [237.1, 237.1, 240.4], "delta_aic": [0.0, 0.0, 5.8],
            "lr_against": ["poisson", "", None], "lr_stat": [7.8, np.nan, np.nan],
            "lr_p": [0.0026, np.nan, np.nan], "overdispersion_alpha": [0.175] * 3,
            "overdispersion_se": [0.041] * 3, "overdispersion_p": [2e-5] * 3,
            "converged": [True] * 3,
            "warnings": ["", "zinb: no zero-inflation found (its probability is at 0); fell "
                         "back to nb2", None],
        }
    )  # fmt: skip


def test_count_models_table_shows_fitted_models_once_in_plain_words() -> None:
    shown = methods_text.count_models_display(_count_rows())
    assert list(shown.columns) == list(methods_text.COUNT_MODEL_COLUMNS.values())
    # no zinb row repeating nb2's; models named as the text names them, not the code's names
    assert shown["model"].tolist() == ["NB2", "Poisson"]
    assert shown["likelihood-ratio p"].tolist() == ["0.003", ""]
    assert shown["likelihood-ratio test against"].tolist() == ["Poisson", ""]
    assert not any("overdispersion" in c for c in shown.columns)  # a sentence, said once
    assert "llf" not in shown.columns and "region_id" not in shown.columns


def test_count_fallback_and_overdispersion_are_each_said_once() -> None:
    rows = _count_rows()
    assert methods_text.count_fallback_sentence(rows) == (
        "No row for ZINB in Kayes: no zero-inflation found (its probability is at 0), so it "
        "fell back to NB2, whose row it would repeat."
    )
    assert methods_text.count_fallback_sentence(rows[rows["model"] != "zinb"]) == ""
    text = methods_text.overdispersion_sentence(rows)
    assert text.count("Kayes") == 1
    assert "in Kayes alpha is 0.175, standard error 0.041 (one-sided p <0.001): its counts" in text
    two = rows.assign(region_id="ML-5", region_name="Mopti", overdispersion_p=0.43)
    both = methods_text.overdispersion_sentence(pd.concat([rows, two]))
    assert "in Mopti alpha is 0.175, standard error 0.041 (one-sided p = 0.43): no evidence" in both
    silent = rows.assign(overdispersion_alpha=float("nan"), overdispersion_p=float("nan"))
    assert "in Kayes it cannot be computed" in methods_text.overdispersion_sentence(silent)


def test_models_list_describes_the_scored_models_only() -> None:
    text = methods_text.models_markdown(methods_text.METHOD_MODELS)
    for name in methods_text.METHOD_MODELS:
        assert f"`{name}`" in text, name
    for stale in ("pooled_nb", "ensemble_hybrid", "nb_glm"):  # never scored by the appendix
        assert stale not in text
    assert text.format() == text  # a template without fields, as show.markdown takes it
    short = methods_text.models_markdown(["auto", "zero"])
    assert short.count("\n- ") == 1 and "`zero`" in short and "recent_mean_6" not in short
    with pytest.raises(ValueError, match="pooled_nb"):
        methods_text.models_markdown(["auto", "pooled_nb"])


def _card(best: str = "spillover", test: dict | None = None) -> dict:
    card = {
        "best_model": best,
        "best_baseline": "nb_climatology",
        "n_origins": 12,
        "origins": ["2022-02", "2024-11"],
        "models": [
            {"model": "spillover", "crps": 0.272, "crps_skill_vs_best_baseline": 0.071,
             "n_forecasts": 2124},
            {"model": "auto", "crps": 0.281, "crps_skill_vs_best_baseline": 0.039,
             "n_forecasts": 2124},
        ],
    }  # fmt: skip
    if test:
        card["report_model_test"] = test
    return card


def test_model_choice_names_the_report_model_and_its_gap_to_the_hindsight_best() -> None:
    gap = {"mean_difference": 0.021, "low": 0.0003, "high": 0.037, "p": 0.06, "df": 3.4,
           "n_origins": 12}  # fmt: skip
    text = methods_text.model_choice_sentence(_card(test=gap), "auto")
    assert "forecasts all come from auto" in text and "history before that origin" in text
    assert "hindsight" in text and "spillover is not among the candidates auto chooses" in text
    # the per-origin mean is not the table's pooled gap: the sentence says how it weighs
    assert "each of the 12 origins weighs the same" in text
    assert (
        "skill against the best baseline (nb_climatology), pooled over every region and quiet "
        "ones included, is +3.9%; above 0" in text
    )
    # a bound just above 0 is not printed as 0.000
    assert "+0.021 (95% interval +0.0003 to +0.037, over origins" in text
    # one procedure gives the interval and the p-value, so the two cannot disagree
    assert "two-sided p = 0.060" in text
    assert "do not establish that auto is behind spillover" in text
    behind = methods_text.model_choice_sentence(
        _card(test={**gap, "low": 0.004, "p": 0.01}), "auto"
    )
    assert "auto is behind spillover on these origins by more than their noise" in behind
    # origins worth too few independent windows: the gap, no interval and no verdict
    nan = float("nan")
    few = methods_text.model_choice_sentence(
        _card(test={**gap, "low": nan, "high": nan, "p": nan, "df": 1.6}), "auto"
    )
    assert "+0.021; these origins are worth too few independent windows" in few
    assert "do not establish that auto is behind spillover" in few
    assert "interval" not in methods_text.model_choice_sentence(_card(), "auto")
    same = methods_text.model_choice_sentence(_card(best="auto"), "auto")
    assert "also has the lowest CRPS" in same and "hindsight" not in same


def test_backtest_scope_says_which_steps_and_what_coverage_is() -> None:
    card = _card()
    six = methods_text.backtest_scope_sentence(
        card, stride=3, report_horizon=6, backtest_horizon=12
    )
    assert "12 origins (2022-02 to 2024-11, every 3 periods)" in six
    assert "scored at steps 1-6, the periods the reports show" in six
    assert "central 50%, 80%, 90% (the level the reports quote) or 95% interval" in six
    assert "well-calibrated" in six
    assert "scores steps 1-12, beyond the 6 the reports show" in six
    twelve = methods_text.backtest_scope_sentence(
        card, stride=3, report_horizon=12, backtest_horizon=12
    )
    assert "beyond" not in twelve and "steps 1-12, the periods the reports show" in twelve
    beyond = methods_text.steps_beyond_sentence(6, 12)
    assert "steps 7-12 appear in no report" in beyond and "beyond step 6" in beyond


def test_scorecard_table_can_show_the_headline_columns_only() -> None:
    card = {"models": [{"model": "m", "is_baseline": False, "crps": 2.0,
                        "crps_skill_vs_best_baseline": 0.1, "pit_coverage_80": 0.8,
                        "brier_any": 0.1}]}  # fmt: skip
    table = methods_text.scorecard_table(card, methods_text.BRIEF_SCORE_COLUMNS)
    assert list(table.columns) == ["model", "baseline", "CRPS", "CRPS skill vs best baseline",
                                   "80% coverage (randomised PIT)"]  # fmt: skip


def test_known_limits_say_which_model_each_number_comes_from() -> None:
    """The limit "Spillover probabilities come from adjacency only" outlived the change that
    made every probability the report model's; the list now names each model's part, and
    what it says the models do not use is checked against their settings."""
    from analysis.models.hhh4 import HHH4Spec
    from analysis.models.onset import DEFAULT_FEATURES

    text = methods_text.known_limits_markdown()
    assert text.format() == text and text.count("\n- ") == len(methods_text.KNOWN_LIMITS) - 1
    assert "Spillover probabilities" not in text
    assert "comes from one model, `auto`" in text and "no term for neighbours' events" in text
    assert "from the onset model" in text and "what-if of the spillover model" in text
    # "distances in kilometres ... and other armed groups' activity are not used"
    assert not {"near_km", "other_own", "other_nb"} & set(DEFAULT_FEATURES)
    assert "distances in kilometres" in text and "other armed groups' activity" in text
    # the spillover model's neighbours: a power law in adjacency order, not first order only
    spill = dict((names, body) for names, _, body in methods_text.MODEL_DESCRIPTIONS)
    spec = HHH4Spec()
    assert spec.weights == "power_law" and spec.max_order == 5 and spec.cross_border
    assert "up to five" in spill[("spillover",)]
    assert "only between adjacent regions" not in spill[("spillover",)]


def test_terms_explain_every_baseline_and_candidate_a_report_names() -> None:
    """The region reports name baselines (best baseline: recent_mean_6) and auto's candidates
    (ensemble_climatology36_heavy) and speak of CRPS skill and coverage; the appendix's Terms
    explain each, one line apiece."""
    from analysis.models.auto import AUTO_CANDIDATES
    from analysis.report.context import BASELINES

    named = {n.strip() for term, _ in methods_text.TERMS for n in term.split(",")}
    assert set(BASELINES) <= named and set(AUTO_CANDIDATES) <= named
    for term in ("CRPS", "fair CRPS", "CRPS skill against the best baseline", "randomised PIT",
                 "coverage", "own-lag share", "overdispersion",
                 # the reports' tables and sentences use these too (third review)
                 "Brier score", "ROC AUC", "interval score", "intervals over origins",
                 "Benjamini-Hochberg", "Monte Carlo standard error",
                 "reference class"):  # fmt: skip
        assert term in named, term
    assert any(t.startswith("attributable share (continue minus silenced)") for t in named)
    text = methods_text.terms_markdown()
    assert text.format() == text and len(text.splitlines()) == len(methods_text.TERMS)
    assert all(len(words) <= 200 for _, words in methods_text.TERMS)  # a line, not a paragraph


def test_model_choice_gives_the_report_models_skill_its_interval(small_strided_backtest):
    """With the per-forecast scores the skill is the region reports' number: pooled, in
    percent, with its interval over origins (the appendix had printed a bare 0.012)."""
    from analysis.evaluation import scorecard, skill_intervals

    bt = small_strided_backtest(6, seed=5)
    card = scorecard(bt, paired=False)
    model = next(m for m in ("last_value", "zero") if m != card["best_baseline"])
    boot = skill_intervals(bt.scores, model, card["best_baseline"])
    text = methods_text.model_choice_sentence(card, model, bt.scores)
    assert (
        f"is {100 * boot['skill']:+.1f}% (90% interval {100 * boot['skill_low']:+.1f}% to "
        f"{100 * boot['skill_high']:+.1f}%); above 0 is better" in text
    )
    # pooled over quiet regions too, which the groups' own baselines need not back
    assert "pooled over every region and quiet ones included" in text


def test_skill_interval_cells_give_each_skill_its_interval_over_origins(
    small_strided_backtest,
) -> None:
    """The appendix's tables gave the skills bare, beside the region reports' intervals of the
    same numbers; each model's cell is the interval of the skill the table prints."""
    from analysis.evaluation import best_baseline, scorecard, skill_intervals
    from analysis.formatting import format_skill

    bt = small_strided_backtest(6, seed=3)
    cells = methods_text.skill_interval_cells(bt.scores, bt.is_baseline)
    best = best_baseline(bt.scores, [m for m in bt.models if bt.is_baseline[m]])
    assert cells[best] == ""  # the reference itself
    other = next(m for m in bt.models if m != best)
    ev = skill_intervals(bt.scores, other, best)
    assert ev["skill_low"] < ev["skill"] < ev["skill_high"]
    assert cells[other] == f"{format_skill(ev['skill_low'])} to {format_skill(ev['skill_high'])}"
    card = scorecard(bt)
    table = methods_text.scorecard_table(card, intervals=cells).set_index("model")
    skill = methods_text.SCORE_COLUMNS["crps_skill_vs_best_baseline"]
    columns = list(table.columns)
    assert columns[columns.index(skill) + 1] == methods_text.SKILL_INTERVAL_COLUMN
    # the table's skill is the one the interval is around
    assert table.loc[other, skill] == pytest.approx(ev["skill"])
    assert table.loc[other, methods_text.SKILL_INTERVAL_COLUMN] == cells[other]
    assert methods_text.SKILL_INTERVAL_COLUMN not in methods_text.scorecard_table(card).columns
    # a model scoring exactly as the reference on every forecast (the naive baselines in
    # quiet regions) says so, where the interval of a zero difference would be blank
    twin = bt.scores[bt.scores["model"] == best].assign(model="twin")
    cells_twin = methods_text.skill_interval_cells(
        pd.concat([bt.scores, twin]), {**bt.is_baseline, "twin": False}
    )
    assert cells_twin["twin"] == "the same scores" and cells_twin[other] == cells[other]
    # by group: each group's cells against its own best baseline
    groups = {
        str(g): methods_text.skill_interval_cells(sub, bt.is_baseline)
        for g, sub in bt.scores.groupby("group")
    }
    by_group = methods_text.group_table(card, intervals=groups)
    group_columns = list(by_group.columns)
    assert group_columns[group_columns.index(skill) + 1] == methods_text.SKILL_INTERVAL_COLUMN
    focus = by_group[by_group["group"] == "focus"].set_index("model")
    assert list(focus[methods_text.SKILL_INTERVAL_COLUMN]) == [
        groups["focus"][m] for m in focus.index
    ]


def test_quarterly_appendix_describes_the_models_in_quarters() -> None:
    """The models count periods: a quarterly appendix had described "the recent 6-month
    mean", "the 36-month climatology", "the last 12 months" and "a level that drifts from
    month to month". The damped trend's factor is per month of time whatever the panel
    (DampedTrendNB raises it to the months a period holds), so a quarter's is given beside it."""
    from analysis.models.damped_trend import DampedTrendNB

    models = methods_text.models_markdown(methods_text.METHOD_MODELS, "quarter")
    limits = methods_text.known_limits_markdown("quarter")
    terms = methods_text.terms_markdown("quarter")
    for text in (models, limits, terms):
        assert text.format() == text  # every field filled
        assert "month" not in text.replace("0.7 a month", "")
    for phrase in ("the recent 6-quarter mean", "the 36-quarter negative-binomial climatology",
                   "the region's last 12 quarters", "the region's last 24 quarters",
                   "a level that drifts from quarter to quarter",
                   "dependence across quarters (each quarter's distribution unchanged)",
                   "the last 6 or 3 quarters or around last quarter's count",
                   "damped beyond the last quarter",
                   "shrinks by a factor 0.7 a month, 0.34 a quarter"):  # fmt: skip
        assert phrase in models, phrase
    assert DampedTrendNB.phi**3 == pytest.approx(0.343)
    assert "discounted average of its past quarters" in limits
    assert "recent mean and the last 12 quarters;" in limits  # three years, not last year's
    assert "last 12 observed quarters" in terms and "nearby quarters'" in terms
    # the monthly appendix as it was
    monthly = methods_text.models_markdown(methods_text.METHOD_MODELS)
    assert monthly == methods_text.models_markdown(methods_text.METHOD_MODELS, "month")
    for phrase in ("the recent 6-month mean", "the 36-month negative-binomial climatology",
                   "a level that drifts from month to month",
                   "dependence across months (each month's distribution unchanged), so totals "
                   "over several months", "(its effect shrinks by a factor 0.7 a month), so",
                   "damped beyond the last month;",
                   "the last 6 or 3 months or around last month's count"):  # fmt: skip
        assert phrase in monthly, phrase
    limits = methods_text.known_limits_markdown()
    assert "(its effect shrinks by a factor 0.7 a month): growth" in limits
    assert "recent mean and last year's months; some" in limits
    assert "from the first months on" in limits
    assert "last 12 observed months." in methods_text.terms_markdown()


def test_model_choice_says_whether_the_hindsight_best_is_one_of_autos_candidates() -> None:
    """The quarterly appendix said "ensemble_local is not among the candidates auto chooses
    from", of one of auto's candidates: the sentence had said it of every hindsight best."""
    from analysis.models.auto import AUTO_CANDIDATES

    candidate = methods_text.model_choice_sentence(_card(best="ensemble_local"), "auto")
    assert "ensemble_local is one of the candidates auto chooses from; auto is scored" in candidate
    assert "not among" not in candidate
    for best in ("local_level", "spillover", "recent_mean_6"):  # members, other models, baselines
        text = methods_text.model_choice_sentence(_card(best=best), "auto")
        assert f"{best} is not among the candidates auto chooses from" in text
    assert "ensemble_local" in AUTO_CANDIDATES and "local_level" not in AUTO_CANDIDATES
    # the candidates given, as for a report model other than the registered auto
    given = methods_text.model_choice_sentence(_card(best="a"), "auto", candidates=("a", "b"))
    assert "a is one of the candidates auto chooses from" in given


def test_model_choice_gives_the_skill_against_each_groups_own_best_baseline() -> None:
    """The pooled skill beside the one against each group's best baseline: the real study's
    +3.1% against conflictology had been about +0.7% so measured, and said nowhere."""
    from test_evaluation import group_scores

    scores = group_scores(8, drift=0.01)
    card = {"best_model": "m", "best_baseline": "b1",
            "models": [{"model": "m", "is_baseline": False, "crps_skill_vs_best_baseline": 0.1},
                       {"model": "b1", "is_baseline": True, "crps_skill_vs_best_baseline": 0.0},
                       {"model": "b2", "is_baseline": True,
                        "crps_skill_vs_best_baseline": -0.1}]}  # fmt: skip
    text = methods_text.model_choice_sentence(card, "m", scores, candidates=())
    assert (
        "Against each group's own best baseline (b2 for the active regions and b1 for the "
        "quiet regions), a composite chosen with hindsight"
    ) in text
    from analysis.evaluation import GROUP_BEST, group_best_baselines, skill_intervals

    composite, _ = group_best_baselines(scores, ["b1", "b2"])
    ev = skill_intervals(pd.concat([scores, composite]), "m", GROUP_BEST)
    assert f"it is {100 * ev['skill']:+.1f}%" in text
    # one baseline best in every group: nothing to add to the pooled skill
    same = scores[scores["model"] != "b2"]
    card_same = {**card, "models": card["models"][:2]}
    assert "own best baseline" not in methods_text.model_choice_sentence(
        card_same, "m", same, candidates=()
    )
