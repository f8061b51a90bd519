"""The overview's ranking as readers see it and as the manifest records it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from analysis import evaluation
from analysis.report import overview_text, show


def ranking_sentence(rank, top: int = 20, surge: bool = True, freq: str = "month") -> str:
    """The overview's ranking notes read as one paragraph."""
    return " ".join(overview_text.ranking_notes(rank, top, surge, freq))


def _rank() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "region_id": ["ML-2", "SN-KE", "ML-1"],
            "region_name": ["name ML-2", "name SN-KE", "name ML-1"],
            "country": ["ML", "SN", "ML"],
            "events_recent": [0, 12, 24],
            "p_surge": [0.7, 0.2, 0.2],
            "p_any": [0.5, 0.95, 0.9],
        }
    )


def test_ranking_gives_a_quiet_regions_chance_with_the_onset_interval_its_report_prints():
    """The demo's Guidimaka: 43% in the ranking, "43% (30%-57%)" in its region report."""
    from types import SimpleNamespace

    onset = SimpleNamespace(
        units=pd.DataFrame(
            {"region_id": ["ML-2", "SN-KE"], "p_onset_low": [0.30, 0.6],
             "p_onset_high": [0.57, 0.9]}
        )
    )  # fmt: skip
    from analysis.report.context import StudyResults

    def intervals(onset_model, driven):  # the study's results as far as the method reads them
        return StudyResults.onset_intervals(SimpleNamespace(onset=onset_model, onset_driven=driven))

    # only ML-2's chance is the onset model's: SN-KE is active, its P(any) from the paths
    rank = overview_text.with_onset_intervals(_rank(), intervals(onset, {"ML-2"}))
    shown = overview_text.ranking_display(rank)
    assert shown["its 90% interval (onset model)"].tolist() == ["30-57%", "", ""]
    assert "onset model's 90% interval over its parameters" in (ranking_sentence(rank))
    # no onset model, or no onset-driven region shown: no column and no note
    for plain in (
        overview_text.with_onset_intervals(_rank(), intervals(None, {"ML-2"})),
        overview_text.with_onset_intervals(_rank(), intervals(onset, set())),
    ):
        assert "its 90% interval (onset model)" not in overview_text.ranking_display(plain)
        assert "onset model's 90%" not in ranking_sentence(plain)
    assert "its 90% interval (onset model)" not in overview_text.ranking_display(rank, top=0)


def test_ranking_display_and_record() -> None:
    rank = _rank()
    shown = overview_text.ranking_display(rank.assign(ratio=[np.inf, 1.0, 2.0]), top=2)
    assert len(shown) == 2 and shown["growth ratio"].tolist()[0] == np.inf
    # an unbounded ratio reads as such, not as a blank like a region with nothing to compare
    # (the real overview's Centre-Nord and Centre-Est looked alike)
    ratio_cell = overview_text.RANKING_FORMATS["growth ratio"]
    assert ratio_cell(np.inf) == "∞" and ratio_cell(2.0) == "2.00"
    html = show.table_html(shown, formats=overview_text.RANKING_FORMATS)
    assert "<td>∞</td>" in html
    blank = rank.assign(ratio=[np.nan, 1.0, np.nan])
    assert "The 2 rows whose growth cells are blank had no event in either window" in (
        ranking_sentence(blank)
    )
    assert "The row whose growth cells are blank" in ranking_sentence(blank, top=2)
    assert "blank" not in ranking_sentence(rank)
    optional = ("p_value_bh", "expected", "expected_interval", "p_any_interval")
    plain = [c for k, c in overview_text.RANKING_COLUMNS.items() if k not in optional]
    assert list(shown.columns) == plain
    assert shown["P(surge)"].tolist() == ["70%", "20%"]
    # with the study's adjusted p-values: the region reports' numbers, formatted as there
    with_p = overview_text.ranking_display(
        rank.assign(
            p_value_bh=[0.0004, 0.2, np.nan],
            expected=[1.5, 2.0, np.nan],
            expected_low=[0.0, 1.0, np.nan],
            expected_high=[4.0, 5.0, np.nan],
        )
    )
    assert list(with_p.columns) == [
        c for k, c in overview_text.RANKING_COLUMNS.items() if k != "p_any_interval"
    ]
    assert with_p["p (BH-adjusted)"].tolist() == ["<0.001", "0.20", ""]
    assert with_p["expected events, next 3 periods"].tolist()[:2] == [1.5, 2.0]
    assert with_p["90% interval"].tolist() == ["0-4", "1-5", ""]
    sentence = ranking_sentence(rank.assign(p_value_bh=0.1), top=2)
    assert "lower bound of the headline 95% interval" in sentence
    assert "Benjamini-Hochberg" in sentence and "first 2 of 3 regions" in sentence
    assert "Benjamini-Hochberg" not in ranking_sentence(rank)
    assert "same model's paths" in ranking_sentence(rank.assign(expected=1.0))
    # a 0 -> k region's interval is open-ended: the sentence says how its low end compares
    # only when one is shown
    one_sided = "its low end is as strict as every other row's"
    assert one_sided not in ranking_sentence(rank.assign(ratio_high=5.0))
    unbounded = rank.assign(ratio_high=[5.0, np.inf, np.nan])
    assert one_sided in ranking_sentence(unbounded)
    # an open-ended row whose low end is below 1 measures no change, and is named
    low = unbounded.assign(ratio_low=[0.5, 0.19, np.nan])
    assert "Where that low end is below 1 (name SN-KE), the interval holds no change and " \
        "every rise" in ranking_sentence(low)  # fmt: skip
    assert "Where that low end is below 1" not in ranking_sentence(
        unbounded.assign(ratio_low=[0.5, 1.2, np.nan])
    )
    record = overview_text.ranking_record(rank)
    json.dumps(record)
    assert set(record[0]) == {"region_id", "rank", "events_recent", "p_surge", "p_any"}
    expected = rank.assign(expected=[1.5, 2.0, np.nan], expected_low=0.0, expected_high=4.0)
    with_expected = overview_text.ranking_record(expected)
    assert with_expected[0]["expected"] == 1.5 and with_expected[2]["expected"] is None
    json.dumps(with_expected, allow_nan=False)


def test_ranking_sentence_says_how_many_changes_survive_the_adjustment() -> None:
    """The real study's ranking showed five 95% intervals above 1 beside adjusted p-values of
    0.13 or more, and only the region reports said that none was significant."""
    rank = _rank().assign(
        ratio_low=[1.7, 1.35, 0.4], ratio_high=[25.0, 133.0, 15.6], p_value_bh=[0.13, 0.14, np.nan]
    )
    sentence = ranking_sentence(rank)
    assert (
        "No region's change is significant at 0.05 after that adjustment (2 regions tested), "
        "though 2 of the unadjusted 95% intervals lie above 1." in sentence
    )
    # an open-ended interval (no event in the earlier window) keeps 2.5% below its low end as
    # the others do, so it is counted with them
    open_ended = rank.assign(ratio_high=[25.0, np.inf, 15.6])
    assert "though 2 of the unadjusted 95% intervals lie above 1." in (ranking_sentence(open_ended))
    some = ranking_sentence(rank.assign(p_value_bh=[0.01, 0.2, 0.04]))
    assert "After that adjustment 2 of the 3 regions' changes are significant at 0.05: name " \
        "ML-2, name ML-1." in some  # fmt: skip
    one = ranking_sentence(rank.assign(p_value_bh=[0.01, 0.2, 0.3], bh_family_size=7))
    assert "After that adjustment 1 of the 3 regions' changes is significant at 0.05 (the " \
        "adjustment is over the study's 7 tests, change-point tests and other comparisons " \
        "included): name ML-2." in one  # fmt: skip
    # the region reports name the family's size, change-point tests included: so does this
    family = ranking_sentence(rank.assign(bh_family_size=5))
    assert (
        "(2 regions tested; the adjustment is over the study's 5 tests, change-point tests "
        "and other comparisons included), though" in family
    )
    # one comparison in the study: the other tests are its change-point tests
    single = ranking_sentence(rank.assign(bh_family_size=5, period_a="2017", period_b="2020"))
    assert (
        "(2 regions tested; the adjustment is over the study's 5 tests, the others change-point "
        "tests), though" in single
    )
    assert "significant" not in ranking_sentence(rank.assign(p_value_bh=np.nan))


def test_ratio_formats_name_columns_the_displayed_tables_have():
    """A renamed column would lose its format; table_html raises, and so does this test first."""
    from analysis.report import overview_text, region_text

    assert set(overview_text.RANKING_FORMATS) <= set(overview_text.RANKING_COLUMNS.values())
    assert set(region_text.GROWTH_FORMATS) <= set(region_text.GROWTH_COLUMNS.values())
    assert len(overview_text.RANKING_FORMATS) == 3 and len(region_text.GROWTH_FORMATS) == 6
    # the expected events as the region reports' sentences print them, under the renamed column
    windows = overview_text.horizon_columns(6, "month")
    rank = _rank()
    with_expected = rank.assign(expected=[1.8475, 13.94, 0.06], expected_low=0.0, expected_high=9.0)
    for frame, added in ((with_expected, {"expected events, next 3 months"}), (rank, set())):
        shown = overview_text.ranking_display(frame).rename(columns=windows)
        formats = overview_text.ranking_formats(shown, windows)
        assert set(formats) - set(overview_text.RANKING_FORMATS) == added
        assert set(formats) <= set(shown.columns)  # show.table raises otherwise
    expected = overview_text.ranking_formats(
        overview_text.ranking_display(with_expected).rename(columns=windows), windows
    )["expected events, next 3 months"]
    assert [expected(x) for x in (1.8475, 13.94, 0.06)] == ["1.8", "13.9", "0.06"]


def test_ranking_sentence_names_the_regions_whose_interval_says_little() -> None:
    """The demo's Sikasso (6 events in each window, own-lag share 0.85) ranks with a headline
    interval of 0.0011-909: the sentence under the table names it as unmeasured, with the
    growth sentence's threshold, and names no region whose interval is narrower or one-sided."""
    rank = _rank().assign(
        ratio_low=[0.0011, 0.5, 2.0], ratio_high=[909.0, 40.0, np.inf], ratio=[1.0, 4.0, np.inf]
    )
    sentence = ranking_sentence(rank)
    assert "more than 100-fold apart (name ML-2)" in sentence
    assert "SN-KE" not in sentence and "name ML-1" not in sentence
    assert "fold apart" not in ranking_sentence(rank, top=0)
    assert "fold apart" not in ranking_sentence(rank.assign(ratio_low=0.9, ratio_high=50.0))
    # a ratio of 0 (no event in the later window) is said to be a bound, not a measure
    assert "later window had no event" not in sentence
    fell = rank.assign(
        ratio_low=[0.0, 0.5, 2.0], ratio_high=[3.47, 40.0, 9.0], ratio=[0.0, 4.0, 5.0]
    )
    assert "Where the later window had no event the ratio is 0" in ranking_sentence(fell)


def test_forecast_columns_name_their_windows():
    """3-period numbers beside the horizon's P(at least 1): each column says its window."""
    import inspect

    from analysis.models import risk

    shown = overview_text.ranking_display(
        _rank().assign(expected=1.76, expected_low=0.0, expected_high=5.0)
    ).rename(columns=overview_text.horizon_columns(12, "month"))
    assert "P(at least 1 event), next 12 months" in shown.columns
    assert "expected events, next 3 months" in shown.columns
    assert "P(surge), next 3 months" in shown.columns
    assert shown["P(at least 1 event), next 12 months"].tolist() == ["50%", "95%", "90%"]
    quarterly = overview_text.horizon_columns(1, "quarter")
    assert quarterly[overview_text.RANKING_COLUMNS["p_any"]].endswith("next 1 quarter")
    # the near-term window is the one the overview's numbers are computed over
    for fn in (risk.expected_next, risk.surge_probability):
        assert inspect.signature(fn).parameters["steps"].default == overview_text.NEXT_STEPS


def test_surge_evidence_sentence_gives_the_brier_score_and_its_verdict() -> None:
    card = {"brier": {"auto": 0.081, "nb_climatology": 0.083}, "n": 396, "surges": 43,
            "origins": 11, "best_baseline": "nb_climatology", "difference": -0.002,
            "steps": 3, "level": 0.9,
            "difference_low": -0.005, "difference_high": 0.002}  # fmt: skip
    text = overview_text.surge_evidence_sentence(card, "auto")
    assert "11 origins, 396 region-windows of 3 periods, 43 of them surges" in text
    assert "auto's P(surge) is 0.081 (0 is perfect)," in text  # no base rate: no reference
    # the reference a Brier score needs: a constant forecast at the observed share
    rated = overview_text.surge_evidence_sentence({**card, "base_rate": 43 / 396}, "auto")
    assert (
        "0.081 (0 is perfect; forecasting the share of windows that turned out to surge, "
        "10.9%, for every one would score 0.097)" in rated
    )
    assert "not distinguishable from the best baseline's (nb_climatology, 0.083" in text
    assert "90% interval -0.005 to +0.002" in text
    better = overview_text.surge_evidence_sentence({**card, "difference_high": -0.001}, "auto")
    assert "better than the best baseline" in better
    worse = overview_text.surge_evidence_sentence({**card, "difference_low": 0.001}, "auto")
    assert "worse than the best baseline" in worse
    assert "has not been scored" in overview_text.surge_evidence_sentence(None, "auto")
    # the window and level are the scorecard's, not fixed in the sentence
    other = overview_text.surge_evidence_sentence({**card, "steps": 2, "level": 0.8}, "auto")
    assert "region-windows of 2 periods" in other and "80% interval" in other
    assert "left out" not in text  # every origin scored: nothing to explain
    assert "alert rule" not in text  # no alert probability given: no record claimed
    # the alert rule's own record: alerts raised, how many before a surge, surges missed
    rec = overview_text.surge_evidence_sentence(
        {**card, "alert": 0.5, "alerts": 5, "alert_hits": 3}, "auto"
    )
    assert rec.endswith(
        " The alert rule (P(surge) above 50%) would have raised 5 alerts in these windows, 3 "
        "of them before a surge; it missed 40 of the 43 surges."
    )
    # none before a surge: said in words (the demo's "1 alert ..., 0 of them before a surge;
    # it missed 18 of the 18 surges")
    assert overview_text.surge_evidence_sentence(
        {**card, "alert": 0.5, "alerts": 1, "alert_hits": 0}, "auto"
    ).endswith("1 alert in these windows, none of them before a surge; it missed all 43 surges.")
    none = overview_text.surge_evidence_sentence(
        {**card, "alert": 0.5, "alerts": 0, "alert_hits": 0}, "auto"
    )
    assert none.endswith("would have raised no alert in these windows, so it missed all 43 surges.")


def test_surge_evidence_sentence_says_which_origins_it_leaves_out() -> None:
    """The near-term evidence counts 12 origins, the surge evidence 11: the latest origin has
    no complete 3-period window, and the sentence says so rather than leaving two counts that
    look contradictory."""
    card = {"brier": {"auto": 0.081}, "n": 396, "surges": 43, "origins": 11, "steps": 3,
            "level": 0.9, "left_out": (pd.Timestamp("2024-11-01"),)}  # fmt: skip
    text = overview_text.surge_evidence_sentence(card, "auto")
    assert (
        "43 of them surges; its latest origin, 2024-11, is left out: its 3 periods are not all "
        "observed yet)" in text
    )
    two = overview_text.surge_evidence_sentence(
        {**card, "left_out": (pd.Timestamp("2024-10-01"), pd.Timestamp("2024-11-01"))}, "auto"
    )
    assert "its latest 2 origins, from 2024-10, are left out" in two


def test_surge_rule_sentence_states_the_floor() -> None:
    """The definition readers see is the rule risk.surge_threshold applies, with the study's
    values: the factor, the floor of events and the alert probability, in its period word."""
    from analysis.models.risk import NEAR_STEPS, SURGE_LOOKBACK

    text = overview_text.surge_rule_sentence(2.0, 3, 0.5, "month")
    assert (
        f"at least 2 times as many events over the next {NEAR_STEPS} months as the mean of the "
        f"last {SURGE_LOOKBACK} months would give, and at least 3 events" in text
    )
    assert "passes 50%" in text and "at least one event" not in text
    other = overview_text.surge_rule_sentence(1.5, 1, 0.25, "quarter")
    assert "at least 1.5 times" in other and "next 3 quarters" in other
    assert "at least 1 event," in other and "passes 25%" in other


def test_near_term_evidence_sentence_scores_every_region_at_the_tables_steps(
    small_strided_backtest,
) -> None:
    """The table's next-3-period numbers with the report model's skill over every region at
    steps 1-3, against the baseline best there, as skill_intervals pools it."""
    from analysis.evaluation import skill_intervals

    bt = small_strided_backtest(6, seed=5)
    text = overview_text.near_term_evidence_sentence(bt, "recent_mean_3")
    near = bt.scores[bt.scores["step"] <= 3]
    crps = near.groupby("model")["crps"].mean()
    best = crps[[m for m in bt.models if bt.is_baseline[m]]].idxmin()
    ev = skill_intervals(near, "recent_mean_3", best)
    assert f"best baseline there ({best}) is {100 * ev['skill']:+.1f}%" in text
    standing = ("behind it" if ev["skill_high"] < 0 else "ahead of it" if ev["skill_low"] > 0
                else "not distinguishable from it")  # fmt: skip
    assert f"{100 * ev['skill_high']:+.1f}%), {standing}, and its 80% intervals" in text
    assert f"{ev['n_forecasts']:,} forecasts at steps 1-3" in text
    # the pooled coverage says how many of its outcomes were quiet regions' (the demo's
    # 79% was 763 of 1,224 quiet forecasts, where even "nothing" covers)
    assert "quiet regions" not in text  # this backtest has none
    own = near[near["model"] == "recent_mean_3"]
    regions = sorted(own["region_id"].unique())
    quiet = near.assign(group=np.where(near["region_id"] == regions[0], "quiet", near["group"]))
    n_quiet = int((own["region_id"] == regions[0]).sum())
    assert overview_text._quiet_share_clause(quiet, "recent_mean_3") == (
        f" (of its {len(own):,} forecasts, {n_quiet:,} were of quiet regions, where coverage "
        "says little: the groups below tell more)"
    )
    assert overview_text._quiet_share_clause(quiet.drop(columns="group"), "recent_mean_3") == ""
    # the table's interval is of a 3-period total, and its coverage is scored as such
    totals = evaluation.total_scorecard(bt, "recent_mean_3", 3)
    assert (
        f"the 90% intervals of recent_mean_3's 3-month totals is "
        f"{100 * totals['pit_coverage_90']:.0f}% ({totals['n']:,} totals" in text
    )
    assert overview_text.near_term_evidence_sentence(bt, "not_scored") == ""
    # the focus regions' own skill follows, with its verdict from its interval
    focus = near[near["group"] == "focus"]
    fbest = focus.groupby("model")["crps"].mean()[[m for m in bt.models if bt.is_baseline[m]]]
    fbest = fbest.idxmin()
    fev = skill_intervals(focus, "recent_mean_3", fbest)
    n = focus.loc[focus["model"] == "recent_mean_3"].shape[0]
    assert f"For the 2 focus regions alone ({n:,} forecasts) the skill against their best " in text
    assert f"baseline ({fbest})" in text
    assert f"is {100 * fev['skill']:+.1f}%" in text.split("focus regions alone")[1]
    verdict = ("behind it" if fev["skill_high"] < 0 else "ahead of it" if fev["skill_low"] > 0
               else "not distinguishable from it")  # fmt: skip
    assert verdict in text
    # with the focus's own 80% coverage: the study-wide one pools quiet regions
    assert (
        f"; their 80% intervals held {100 * fev['coverage']:.0f}% (90% interval "
        f"{100 * fev['coverage_low']:.0f}%-" in text.split("focus regions alone")[1]
    )
    # and at every step of the backtest, the forecast horizon
    whole = bt.scores[bt.scores["group"] == "focus"]
    wbest = whole.groupby("model")["crps"].mean()[[m for m in bt.models if bt.is_baseline[m]]]
    wev = skill_intervals(whole, "recent_mean_3", wbest.idxmin())
    tail = text.split("Over steps 1-6, the forecast horizon, ")
    assert len(tail) == 2 and tail[1].startswith("for the 2 focus regions alone")
    assert f"is {100 * wev['skill']:+.1f}%" in tail[1]
    short = overview_text.near_term_evidence_sentence(
        evaluation.first_steps(bt, 3), "recent_mean_3"
    )
    assert "Over steps 1-" not in short  # nothing beyond the table's steps to add
    # the other active regions' own skill, against their own best baseline, follows the focus's
    active = near[near["group"] == "active"]
    abest = active.groupby("model")["crps"].mean()[[m for m in bt.models if bt.is_baseline[m]]]
    aev = skill_intervals(active, "recent_mean_3", abest.idxmin())
    part = text.split(
        "For the other active regions (an event in the year before the origin; "
    )[1]  # fmt: skip
    assert part.startswith(
        f"{aev['n_forecasts']:,} forecasts) the skill against their best baseline "
        f"({abest.idxmin()}) is {100 * aev['skill']:+.1f}%"
    )


def test_a_pooled_edge_no_group_with_events_shows_is_qualified_where_it_is_claimed(
    small_strided_backtest, monkeypatch
) -> None:
    """The real study read "+3.4%, ahead" over every region while the active regions were
    +1.4% (-1.3% to +4.2%) against their own best baseline and the focus -5.1%: pooling over
    many quiet regions picks the baseline best in aggregate."""
    bt = small_strided_backtest(6, seed=5)
    monkeypatch.setattr(overview_text, "_standing_words", lambda ev: ", ahead of it")
    monkeypatch.setattr(
        overview_text,
        "_group_clause",
        lambda scores, model, base, over="", group="focus": f" {group}: not distinguishable.",
    )
    text = overview_text.near_term_evidence_sentence(bt, "recent_mean_3")
    assert "focus: not distinguishable. active: not distinguishable." in text
    # said where the pooled verdict is made, not sentences later
    assert (
        ", ahead of it over all regions but not within the focus or the other active regions "
        "(below), and its 80% intervals held"
    ) in text
    assert ", ahead of it," not in text
    monkeypatch.setattr(
        overview_text,
        "_group_clause",
        lambda scores, model, base, over="", group="focus": f" {group}, ahead of it.",
    )
    text = overview_text.near_term_evidence_sentence(bt, "recent_mean_3")
    assert "but not within the focus" not in text and ", ahead of it, and its 80%" in text


def test_near_term_and_surge_evidence_count_the_same_origins() -> None:
    """Both sentences over one backtest: the near-term one names the origins it scores at
    fewer than 3 steps, the surge one leaves exactly those out, so their counts add up."""
    from analysis.evaluation import backtest, surge_scorecard
    from analysis.models.forecast import History

    rng = np.random.default_rng(5)
    counts = rng.poisson(rng.uniform(0.5, 4, 6)[:, None], size=(6, 48))
    history = History(counts.astype(np.int64), tuple(f"XX-{i}" for i in range(6)),
                      pd.date_range("2015-01-01", periods=48, freq="MS"))  # fmt: skip
    bt = backtest(history, ["zero", "recent_mean_3"], start="2017-06", horizon=6,
                  n_samples=100, seed=1, stride=3, surge_factor=2.0)  # fmt: skip
    near = overview_text.near_term_evidence_sentence(bt, "recent_mean_3")
    card = surge_scorecard(bt, "recent_mean_3")
    surge = overview_text.surge_evidence_sentence(card, "recent_mean_3")
    last = bt.origins[-1]
    assert card["left_out"] == (last,) and card["origins"] == len(bt.origins) - 1
    steps_seen = int(bt.scores.loc[bt.scores["origin"] == last, "step"].max())
    assert steps_seen < 3
    assert f"({len(bt.origins)} origins," in near
    assert f"the latest origin, {last:%Y-%m}, at step" in near
    assert f"({card['origins']} origins," in surge
    assert f"its latest origin, {last:%Y-%m}, is left out" in surge
    # a backtest whose every origin has its 3 periods: no clause in either sentence
    full = backtest(history, ["zero", "recent_mean_3"], start="2017-06", end="2018-06",
                    horizon=6, n_samples=100, seed=1, stride=3, surge_factor=2.0)  # fmt: skip
    assert "latest origin" not in overview_text.near_term_evidence_sentence(full, "zero")
    card = surge_scorecard(full, "zero")
    assert card["left_out"] == ()
    assert "left out" not in overview_text.surge_evidence_sentence(card, "zero")


def test_ranking_sentence_names_regions_that_peaked_between_the_windows() -> None:
    """The real study's first row, Sahel, 5.67 times from 2017 to 2020, had held 54 events in
    2019 against 17 in 2020: the sentence says so for the rows ranked on a rise."""
    rank = _rank().assign(
        ratio=[5.67, 2.8, 0.5],
        ratio_low=[1.7, 1.2, 0.1],
        ratio_high=[25.0, 6.0, 2.0],
        count_b=[17, 28, 4],
        period_b="2020",
        peak_label=["2019", np.nan, "2019"],
        peak_events=[54, np.nan, 12],
    )
    sentence = ranking_sentence(rank)
    assert (
        "Of the rows with a ratio above 1, name ML-2 (54 events in 2019, 17 in 2020) peaked "
        "between the two windows (a window between them held at least 1.5 times the later "
        "window's events, and 5 more): its ratio compares the two windows, not the months "
        "between, and does not say the count is still rising." in sentence
    )
    # the table's row says it too, beside its name
    shown = overview_text.ranking_display(rank)
    assert shown["name"].tolist() == ["name ML-2 (peaked 2019)", "name SN-KE", "name ML-1"]
    # a fall that peaked earlier is not a rise to qualify; without the columns, nothing
    assert "name ML-1 (12" not in sentence
    assert "peaked between" not in ranking_sentence(_rank())


def test_surge_map_only_where_the_backtest_shows_p_surge_better_than_a_baseline() -> None:
    """Neither study's P(surge) beat the best baseline (real: -0.001, 90% interval -0.002 to
    +0.001), yet its map was the overview's first figure."""
    card = {"n": 330, "best_baseline": "recent_mean_6", "difference_high": 0.001}
    assert not overview_text.surge_skill_shown(card)
    assert overview_text.surge_skill_shown({**card, "difference_high": -0.0005})
    assert not overview_text.surge_skill_shown({**card, "best_baseline": None})
    assert not overview_text.surge_skill_shown({**card, "n": 0})
    assert not overview_text.surge_skill_shown(None)


def test_any_event_evidence_sentence_gives_each_groups_verdict_from_its_interval() -> None:
    """The ranking's P(at least 1 event) had no evidence at its horizon: the sentence gives
    its Brier score on windows of that length beside the best baseline's, overall and for
    active and quiet regions, whose verdicts can differ."""

    def card(own: float, best: str, base: float, lo: float, hi: float, n: int) -> dict:
        return {"brier": {"auto": own, best: base}, "n": n, "with_event": 40, "origins": 10,
                "best_baseline": best, "steps": 6, "level": 0.9, "difference": own - base,
                "difference_low": lo, "difference_high": hi}  # fmt: skip

    cards = {
        "all": card(0.135, "nb_climatology", 0.138, -0.024, 0.019, 300),
        "active": card(0.152, "nb_climatology", 0.132, -0.017, 0.057, 134),
        "quiet": card(0.122, "zero", 0.139, -0.031, -0.002, 166),
    }
    text = overview_text.any_event_evidence_sentence(cards, "auto")
    assert text.startswith(
        "P(at least 1 event) over the next 6 months, in the backtest's 6-month windows (300 "
        "region-windows at 10 origins, 40 with an event): auto's Brier score is 0.135 against "
        "nb_climatology's 0.138, not distinguishable from it (difference -0.003, 90% interval "
        "-0.024 to +0.019)"
    )
    assert "in quiet ones (166) 0.122 against zero's 0.139, better than it" in text
    assert "in the other active regions (134) 0.152 against nb_climatology's 0.132" in text
    worse = {**cards, "active": card(0.2, "nb_climatology", 0.13, 0.01, 0.1, 134)}
    assert "(134) 0.200 against nb_climatology's 0.130, worse than it" in (
        overview_text.any_event_evidence_sentence(worse, "auto")
    )
    few = {"all": {**cards["all"], "difference_low": np.nan, "difference_high": np.nan}}
    assert "not judged (too few independent windows)" in (
        overview_text.any_event_evidence_sentence(few, "auto")
    )
    assert overview_text.any_event_evidence_sentence({"all": None}, "auto") == ""


def test_ranking_without_surge_skill_drops_its_column_and_says_why() -> None:
    rank = _rank()
    assert "P(surge)" in overview_text.ranking_display(rank).columns
    assert "P(surge)" not in overview_text.ranking_display(rank, surge=False).columns
    text = ranking_sentence(rank, surge=False)
    assert "estimated negative), then P(at least 1) and recent events." in text
    assert "P(surge) is neither ranked on nor shown" in text
    assert "then P(surge), P(at least 1) and recent events" in ranking_sentence(rank)


def test_no_alert_sentence_says_when_silence_is_no_sign_of_calm() -> None:
    """The real study's alert rule missed all 22 surges of its backtest; "No region passes the
    alert threshold" alone read as reassurance."""
    missed = {"surges": 22, "alert_hits": 0, "alerts": 0}
    # the record itself is the Alerts evidence sentence's, just above: not restated
    assert overview_text.no_alert_sentence(missed) == (
        "No region passes the alert threshold, which, with that record, is no sign of calm."
    )
    few = {"surges": 10, "alert_hits": 3, "alerts": 5}
    assert overview_text.no_alert_sentence(few) == overview_text.no_alert_sentence(missed)
    # a rule that caught half or more, or one never scored, gets the plain statement
    plain = "No region passes the alert threshold."
    assert overview_text.no_alert_sentence({"surges": 10, "alert_hits": 5}) == plain
    assert overview_text.no_alert_sentence({"surges": 0, "alert_hits": 0}) == plain
    assert overview_text.no_alert_sentence(None) == plain


def test_ranking_notes_name_the_windows_and_list_each_caveat_apart() -> None:
    """The real overview's ranking paragraph ran to 319 words of caveats and never said which
    windows the ratio compares; the lead now says, and each caveat is an item of its own."""
    rank = _rank().assign(
        period_a="2017",
        period_b="2020",
        ratio=[np.inf, 2.5, 0.0],
        ratio_low=[1.2, 0.4, 0.0],
        ratio_high=[np.inf, 15.6, 1.9],
        p_value_bh=[0.18, 0.51, np.nan],
    )
    lead, *notes = overview_text.ranking_notes(rank, surge=False)
    assert lead == (
        "Regions are ranked by the lower bound of the headline 95% interval of the latest "
        "growth ratio (2020 against 2017, the region reports' interval, allowing for "
        "overdispersion and month-to-month dependence, never narrowed where that dependence is "
        "estimated negative), then P(at least 1) and recent events. "
        "The first 3 of 3 regions are shown."
    )
    assert notes[0].startswith("P(surge) is neither ranked on nor shown")
    assert notes[1].startswith("Where the earlier window had no event")
    assert notes[2].startswith("Where the later window had no event the ratio is 0")
    assert notes[3].startswith("The p-values are Benjamini-Hochberg adjusted")
    assert len(notes) == 4 and all(notes)
    assert ranking_sentence(rank, surge=False) == " ".join([lead, *notes])
    # windows that differ between rows are not named as one pair
    mixed = rank.assign(period_a=["2017", "2018", "2017"])
    assert "against" not in overview_text.ranking_notes(mixed)[0]


def test_quarterly_overview_speaks_of_quarters() -> None:
    """A quarterly overview's ranking allowed for "month-to-month dependence" and called a
    region's unmeasured ratio one whose months depend on each other; its backtest said "its
    latest origin, 2020-07, is left out" of 2020Q3. Monthly wording is unchanged."""
    from analysis.evaluation import backtest, surge_scorecard
    from analysis.models.forecast import History

    rank = _rank().assign(ratio_low=[0.0011, 0.5, 2.0], ratio_high=[909.0, 40.0, 9.0],
                          ratio=[1.0, 4.0, 4.5])  # fmt: skip
    lead, *notes = overview_text.ranking_notes(rank, freq="quarter")
    assert "allowing for overdispersion and quarter-to-quarter dependence, never" in lead
    assert any("how much its quarters depend on each other" in n for n in notes)
    monthly = ranking_sentence(rank)
    assert "month-to-month dependence" in monthly and "how much its months depend" in monthly
    assert ranking_sentence(rank, freq="quarter") == (
        monthly.replace("month-to-month", "quarter-to-quarter").replace(
            "its months", "its quarters"
        )
    )
    # the same series read as quarters: the origins are quarters in both sentences
    rng = np.random.default_rng(5)
    counts = rng.poisson(rng.uniform(0.5, 4, 6)[:, None], size=(6, 48))
    history = History(counts.astype(np.int64), tuple(f"XX-{i}" for i in range(6)),
                      pd.date_range("2009-01-01", periods=48, freq="QS"), "quarter")  # fmt: skip
    bt = backtest(history, ["zero", "recent_mean_3"], start="2015-04", horizon=6,
                  n_samples=100, seed=1, stride=3, surge_factor=2.0)  # fmt: skip
    last = bt.origins[-1]
    assert last == pd.Timestamp("2020-07-01")  # 2020Q3
    near = overview_text.near_term_evidence_sentence(bt, "recent_mean_3", freq="quarter")
    assert "the latest origin, 2020Q3, at step" in near
    card = surge_scorecard(bt, "recent_mean_3")
    surge = overview_text.surge_evidence_sentence(card, "recent_mean_3", "quarter")
    assert "its latest origin, 2020Q3, is left out" in surge
    assert "its latest origin, 2020-07, is left out" in overview_text.surge_evidence_sentence(
        card, "recent_mean_3"
    )
    two = {**card, "left_out": (bt.origins[-2], last)}
    assert "its latest 2 origins, from 2019Q4, are left out" in (  # 3 quarters apart
        overview_text.surge_evidence_sentence(two, "recent_mean_3", "quarter")
    )
