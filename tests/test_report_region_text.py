"""The region report's tables and sentences, computed by package code."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis.models.risk import WindowForecast
from analysis.report import region_text


def _panel(counts: dict[str, list[int]], start: str = "2021-01") -> pd.DataFrame:
    periods = pd.date_range(start, periods=len(next(iter(counts.values()))), freq="MS")
    rows = []
    for rid, values in counts.items():
        for period, value in zip(periods, values, strict=True):
            rows.append((rid, f"name {rid}", rid[:2], period, value, 2 * value))
    panel = pd.DataFrame(
        rows, columns=["region_id", "region_name", "country", "period", "events", "fatalities"]
    )
    panel.attrs["freq"] = "month"
    return panel


def test_data_summary_and_recent_events() -> None:
    panel = _panel({"ML-1": [0, 3, 0, 1], "ML-2": [5, 0, 0, 0]})
    events = pd.DataFrame(
        {
            "event_id": ["a", "b", "c"],
            "region_id": ["ML-1", "ML-1", "ML-2"],
            "date_start": pd.to_datetime(["2021-02-03", "2021-04-01", "2021-01-05"]),
            "event_type": ["Battles"] * 3,
            "actor1": ["X <b>", "X <b>", "Y"],
            "actor2": [None, None, None],
            "fatalities": [1.0, 0.0, 2.0],
            "notes": ["n" * 300, "short", "y"],
        }
    )
    table = region_text.data_summary(events, panel, "ML-1", [{"rows": 10, "source": "acled"}])
    values = dict(zip(table["item"], table["value"], strict=True))
    assert values["Events in this region"] == "4"
    assert values["Events in the study (all regions)"] == "9"
    assert values["Months with at least one event in this region"] == "2 of 4"
    assert values["Sources"] == "ACLED"
    # ACLED's fatality figure is its reported one, not UCDP's "best estimate"
    assert "Fatalities in this region (as ACLED reports them)" in values
    both = [{"rows": 5, "source": "acled"}, {"rows": 5, "source": "ucdp"}]
    items = region_text.data_summary(events, panel, "ML-1", both)["item"].tolist()
    assert "Fatalities in this region (as ACLED reports them; UCDP's best estimate)" in items
    recent = region_text.recent_events(events, "ML-1")
    assert list(recent["date"]) == ["2021-04-01", "2021-02-03"]
    assert recent["notes"].str.len().max() == 160
    with pytest.raises(ValueError):
        region_text.data_summary(events, panel, "SN-KE", [])


def test_recent_events_name_ucdp_types_and_leave_out_empty_columns() -> None:
    """UCDP's types of violence read as its codebook names them, and a column empty in every
    row shown (UCDP has no notes) is left out; ACLED's event types are already words."""
    events = pd.DataFrame(
        {
            "event_id": ["1", "2", "3", "4"],
            "source": ["ucdp", "ucdp", "ucdp", "acled"],
            "region_id": ["ML-5"] * 4,
            "date_start": pd.to_datetime(["2020-12-29", "2020-12-28", "2020-12-09", "2020-11-01"]),
            "event_type": ["state-based", "non-state", "one-sided", "Battles"],
            "actor1": ["Government of Mali", "Dan na Ambassagou", "JNIM", "JNIM"],
            "actor2": ["JNIM", "JNIM", "Civilians", "Military Forces of Mali"],
            "fatalities": [2.0, 5.0, 1.0, 0.0],
            "notes": [None, "", "  ", None],
        }
    )
    recent = region_text.recent_events(events, "ML-5")
    assert recent["event type"].tolist() == [
        "State-based conflict", "Non-state conflict", "One-sided violence", "Battles",
    ]  # fmt: skip
    assert "notes" not in recent.columns
    # headed in words, not with the data's column names
    assert list(recent.columns) == ["date", "event type", "actor 1", "actor 2", "fatalities"]
    # one row with notes keeps the column; an ACLED type called like a UCDP one is not renamed
    noted = events.assign(notes=[None, "a note", None, None], source="acled")
    shown = region_text.recent_events(noted, "ML-5")
    assert "notes" in shown.columns and shown["event type"].iloc[0] == "state-based"
    # no event: the columns stay (an empty table, not a table without columns)
    assert "notes" in region_text.recent_events(events, "SN-KE").columns
    assert region_text.recent_events_caption(region_text.recent_events(events, "SN-KE")) == (
        "No event in this region."
    )


def test_recent_events_cut_through_a_day_keeps_the_deadliest_and_says_so() -> None:
    """Five rows of a day with six events: the one left out is the least deadly, and the
    caption counts it (the real Ségou's 13-fatality event had been dropped without a word)."""
    day = pd.Timestamp("2020-10-06")
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(8)],
            "region_id": ["ML-4"] * 8,
            "date_start": [day - pd.Timedelta(days=3)] * 2 + [day] * 6,
            "event_type": ["Battles"] * 8,
            "actor1": ["JNIM"] * 8,
            "actor2": ["Civilians"] * 8,
            "fatalities": [50.0, 40.0, 1.0, 13.0, 2.0, 0.0, 5.0, 3.0],
            "notes": [None] * 8,
        }
    )
    recent = region_text.recent_events(events, "ML-4")
    assert recent["fatalities"].tolist() == [13.0, 5.0, 3.0, 2.0, 1.0]
    assert region_text.recent_events_caption(recent) == (
        "The 5 latest events in this region; 1 more event of 2020-10-06, with as many or "
        "fewer fatalities, is not shown."
    )
    # nothing left out: the caption says what the table holds, and no more
    whole = region_text.recent_events(events.iloc[:3], "ML-4")
    assert region_text.recent_events_caption(whole) == "The 3 latest events in this region."


def _count(value: str) -> int:
    return int(value.replace(",", ""))


def test_data_summary_accounts_for_every_row_read() -> None:
    """Rows read minus the rows each selection step left out are the events in the study (the
    real report had shown 8,351 rows read, 0 set aside and 629 events)."""
    panel = _panel({"ML-5": [200, 129, 100], "BF-01": [100, 50, 50]})
    events = pd.DataFrame({"region_id": [], "date_start": pd.to_datetime([])})
    selection = {"ingested": 8351, "actors": 1885, "countries": 728, "window": 629,
                 "in_panel": 629}  # fmt: skip
    inputs = [{"rows": 8351, "source": "ucdp"}]
    table = region_text.data_summary(events, panel, "ML-5", inputs, selection)
    values = dict(zip(table["item"], table["value"], strict=True))
    assert values["Left out: not involving the study's actors"] == "6,466"
    assert values["Left out: outside the study's countries"] == "1,157"
    assert values["Left out: outside the study's window"] == "99"
    assert values["Left out: no admin-1 unit of the study (set aside)"] == "0"
    assert "Left out while reading" not in values  # every row read was kept
    left = sum(_count(v) for k, v in values.items() if k.startswith("Left out"))
    assert _count(values["Rows read"]) - left == _count(values["Events in the study (all regions)"])
    # read order: the account runs from the rows read to the events, one row after another
    items = table["item"].tolist()
    first, last = items.index("Rows read"), items.index("Events in the study (all regions)")
    assert all(i.startswith("Left out") for i in items[first + 1 : last])
    # a report as of an earlier quarter: its panel is cut, the rows after it are left out too
    cut = panel[panel["period"] < "2021-03-01"]
    past = region_text.data_summary(
        events, cut, "ML-5", inputs, {**selection, "in_panel": 629}, "2021Q1"
    )
    values = dict(zip(past["item"], past["value"], strict=True))
    assert values["Left out: after 2021Q1"] == "150"
    left = sum(_count(v) for k, v in values.items() if k.startswith("Left out"))
    assert 8351 - left == _count(values["Events in the study (all regions)"]) == 479
    # rows dropped while reading (a reader that skips rows) are counted too
    dropped = region_text.data_summary(
        events, panel, "ML-5", [{"rows": 8400}], {**selection, "ingested": 8351}
    )
    assert (
        dict(zip(dropped["item"], dropped["value"], strict=True))["Left out while reading"] == "49"
    )


def test_actor_sentence_names_the_study_actor_and_its_opponents():
    # UCDP state-based events put the government in side_a: counting side_a would name it
    events = pd.DataFrame(
        {
            "region_id": ["ML-5"] * 6 + ["ML-1"],
            "actor1": ["Government of Mali"] * 3 + ["JNIM", "JNIM", "Dozo militia", "JNIM"],
            "actor2": ["JNIM"] * 3 + ["Civilians", "Dan Na Ambassagou", "JNIM", "Civilians"],
        }
    )
    text = region_text.actor_sentence(events, "ML-5", "Mopti", ["JNIM"])
    assert text == (
        "In Mopti, JNIM took part in 6 events; the sides it fought or attacked most were "
        "Government of Mali (3), Civilians (1) and Dan Na Ambassagou (1)."
    )
    assert region_text.actor_sentence(events, "SN-KE", "Kedougou", ["JNIM"]) is None
    # with its predecessors counted, the events are not all JNIM's: the sentence says so
    older = events.assign(actor2=events["actor2"].replace({"JNIM": "Ansar Dine"}))
    text = region_text.actor_sentence(older, "ML-5", "Mopti", ["JNIM"], include_predecessors=True)
    assert text.startswith("In Mopti, JNIM or its predecessor groups took part in 6 events")
    # one name matched: the plain sentence
    assert region_text.actor_sentence(
        events, "ML-5", "Mopti", ["JNIM"], include_predecessors=True
    ).startswith("In Mopti, JNIM took part in 6 events")
    anyone = region_text.actor_sentence(events, "ML-5", "Mopti", [], top=1)
    assert anyone == "The actors in most of Mopti's 6 events: JNIM (6)."


def test_forecast_sentence_states_the_interval() -> None:
    w = WindowForecast(
        "ML-1", 3, pd.Timestamp("2025-01-01"), pd.Timestamp("2025-03-01"),
        mean=6.04, low=2.0, high=10.0, p_any=0.998, level=0.9, median=6.0,
    )  # fmt: skip
    text = region_text.forecast_sentence(w, "Kayes", "auto")
    assert "90% interval" in text
    assert text == (
        "From 2025-01 to 2025-03, the auto forecast expects 6.0 events in Kayes (median 6, "
        "90% interval 2-10); the probability of at least one event in that time is 99.8%"
    )
    # a quiet region's onset sentence gives that probability with its interval: not twice
    assert region_text.forecast_sentence(w, "Kayes", "auto", p_any=False) == (
        "From 2025-01 to 2025-03, the auto forecast expects 6.0 events in Kayes (median 6, "
        "90% interval 2-10)"
    )
    # the count of as many periods before the window, beside it (the demo's Kayes: 20.4
    # expected after 26 in the last 3 months)
    assert region_text.forecast_sentence(w, "Kayes", "auto", p_any=False, previous=26) == (
        "From 2025-01 to 2025-03, the auto forecast expects 6.0 events in Kayes (median 6, "
        "90% interval 2-10; 26 in the previous 3 months)"
    )
    panel = pd.DataFrame({"region_id": ["ML-1"] * 5 + ["ML-2"],
                          "period": [*pd.date_range("2024-08-01", periods=5, freq="MS"),
                                     pd.Timestamp("2024-12-01")],
                          "events": [100, 1, 2, 3, 4, 50]})  # fmt: skip
    assert region_text.previous_events(panel, "ML-1", 3) == 9


def test_growth_section_without_events_says_why_instead_of_the_method() -> None:
    """The demo's Guidimaka (0 events in 2021 and 2024) had the intervals' method over a table
    row of blanks; a region with no event in either window gets one sentence."""
    rows = pd.DataFrame(
        {"period_a": ["2021"], "period_b": ["2024"], "count_a": [0], "count_b": [0]}
    )
    assert not region_text.tested(rows)
    assert region_text.untested_sentence(rows, "Guidimaka") == (
        "Guidimaka had no event in 2021 or 2024, so there is no ratio or test to give, and too "
        "few months with events from 2021 to 2024 (fewer than 3) for a trend; the figure shows "
        "its counts beside its neighbours'."
    )
    assert not region_text.tested(rows.assign(annual_growth_pct=np.nan))
    # events between the windows can carry a trend, which the table then shows
    assert region_text.tested(rows.assign(annual_growth_pct=40.0))
    assert region_text.tested(rows.assign(count_b=1))
    assert region_text.tested(pd.concat([rows, rows.assign(period_a="2023", count_a=2)]))
    # the method is one paragraph and two list items, the second not run into the first
    assert "\n- **Exact interval**" in region_text.growth_method()
    # what the method text says of the exact interval holds: with neither overdispersion nor
    # dependence in the counts (13 and 7 events, the real Tombouctou's 26 alike), the headline
    # lies inside the conservative Clopper-Pearson interval at both ends
    from analysis.growth import rate_ratio

    even = rate_ratio(np.array([1, 2, 1, 0, 1, 2, 1, 1, 0, 2, 1, 1]),
                      np.array([1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0]))  # fmt: skip
    assert even.ci_low < even.headline_low < even.headline_high < even.ci_high
    assert "can be a little narrower at both ends" in region_text.growth_method()


def test_forecast_table_reads_the_paths_quantiles() -> None:
    from analysis.models.forecast import ForecastResult

    samples = np.zeros((2, 2, 100), dtype=int)
    samples[1, 0] = np.arange(100)  # quantiles 5% and 95%: 4 and 94 (inverted cdf)
    samples[1, 1, :3] = 1
    periods = pd.date_range("2025-01", periods=2, freq="MS")
    fc = ForecastResult(samples, ("ML-1", "ML-2"), periods, pd.Timestamp("2024-12"), "m", 0)
    frame = fc.to_frame()
    rows = frame[frame["region_id"] == "ML-2"]
    table = region_text.forecast_table(fc, "ML-2")
    assert list(table["period"]) == ["2025-01", "2025-02"]
    # not rounded before display (the table prints two decimals): 3 paths of 100 with 1 event
    assert table["expected"].tolist() == pytest.approx([49.5, 0.03])
    assert table["median"].tolist() == ["49", "0"]  # an inverted-cdf quantile: a count
    assert table["90% interval"].tolist() == [
        f"{int(lo)}-{int(hi)}" for lo, hi in zip(rows["q05"], rows["q95"], strict=True)
    ]
    assert table["P(at least 1)"].tolist() == ["99%", "3%"]  # 99 and 3 paths of 100
    with pytest.raises(ValueError):
        region_text.forecast_table(fc, "SN-KE")


def test_evidence_table_compares_with_the_groups_best_baseline() -> None:
    scores = pd.DataFrame(
        {
            "origin": pd.to_datetime(["2024-01-01", "2024-06-01", "2024-06-01"]),
            "region_id": ["ML-1", "ML-1", "ML-2"],
            "group": ["quiet", "focus", "active"],
        }
    )
    bt = SimpleNamespace(scores=scores)
    assert region_text.region_group(bt, "ML-1") == "focus"  # the last origin's group
    assert region_text.region_group(bt, "SN-KE") == "quiet"
    card = {
        "by_group": [
            {"group": "focus", "model": "zero", "is_baseline": True, "crps": 3.0},
            {"group": "focus", "model": "last_value", "is_baseline": True, "crps": 2.0},
            {"group": "focus", "model": "auto", "is_baseline": False, "crps": 1.0},
        ],
        "by_group_horizon": [
            {"group": "focus", "model": m, "step": s, "crps": c, "pit_coverage_80": cov,
             "pit_coverage_90": cov + 0.05, "n_forecasts": 50}
            for m, base in (("auto", 1.0), ("last_value", 2.0), ("zero", 3.0))
            for s, c, cov in ((1, base, 0.7), (2, 2 * base, 0.9))
        ],
    }  # fmt: skip
    table = region_text.evidence_table(card, "auto", "focus")
    assert table[region_text.BASELINE_COLUMN].tolist() == ["last_value", "last_value"]
    assert table["CRPS skill"].tolist() == [0.5, 0.5]
    assert table["outcomes"].tolist() == [50, 50]
    assert table["90% coverage (randomised PIT)"].tolist() == pytest.approx([0.75, 0.95])
    assert region_text.evidence_table(card, "auto", "quiet").empty
    assert region_text._step_list([2, 4, 5, 6]) == "2 and 4-6"
    assert region_text._step_list([1, 2, 3]) == "1-3"


def _evidence(**kw) -> region_text.StepEvidence:
    values = dict(first=1, last=12, baseline="recent_mean_6", skill=0.011, skill_low=-0.044,
                  skill_high=0.072, coverage=0.67, coverage_low=0.56, coverage_high=0.81,
                  below=0.94, above=0.05, outcomes=118, origins=12, behind=(2, 3, 8, 11),
                  level=0.9)  # fmt: skip
    return region_text.StepEvidence(**{**values, **kw})


def test_evidence_verdict_gives_the_skill_and_coverage_with_their_intervals() -> None:
    verdict = region_text.evidence_verdict(_evidence(), "the report model")
    assert verdict.startswith(
        "Over steps 1-12 (12 origins), the report model's CRPS is 1.1% below the best "
        "baseline's (recent_mean_6): a CRPS skill of +1.1% (90% interval -4.4% to +7.2%), not "
        "distinguishable from that baseline; its CRPS is above the baseline's at steps 2-3, 8 "
        "and 11 (each step's point value). Its 80% intervals held 67% of 118 outcomes (90% "
        "interval 56%-81%): they have probably been too narrow (one-sided, 94% confidence "
        "that the true coverage is below 77.5%)."
    )
    assert "binomial" not in verdict and "between origins that score the same" in verdict
    assert "90% intervals" not in verdict  # no 90% coverage given: none claimed
    quoted = region_text.evidence_verdict(_evidence(coverage_90=0.79), "auto")
    assert "At 90%, the level of the intervals this report quotes, the randomised-PIT " in quoted
    assert "coverage is 79%." in quoted and "as printed" not in quoted
    printed = region_text.evidence_verdict(_evidence(coverage_90=0.79, printed_90=0.86), "auto")
    assert "coverage is 79%; the intervals as printed, closed at whole counts, held 86%" in printed
    # with its bootstrap interval and, where the bootstrap says so, a verdict of its own
    narrow = region_text.evidence_verdict(
        _evidence(coverage_90=0.79, coverage_90_low=0.72, coverage_90_high=0.85, below_90=0.97),
        "auto",
    )
    assert "coverage is 79% (90% interval 72%-85%), so they have been too narrow." in narrow
    unsure = region_text.evidence_verdict(
        _evidence(coverage_90=0.88, coverage_90_low=0.8, coverage_90_high=0.95, below_90=0.4),
        "auto",
    )
    assert "coverage is 88% (90% interval 80%-95%)." in unsure
    ahead = region_text.evidence_verdict(_evidence(behind=(), below=0.3, above=0.7), "auto")
    assert "at or below the baseline's at every step" in ahead
    assert "too" not in ahead.split("held")[1].split("(Intervals")[0]
    assert "by more than 2.5 points" in ahead  # the rule behind "too narrow" is named
    assert "they have been too wide" in region_text.evidence_verdict(
        _evidence(below=0.0, above=0.97), "auto"
    )
    assert region_text.evidence_verdict(None, "auto") == ""
    quiet = region_text.evidence_verdict(_evidence(), "auto", "quiet")
    assert "In quiet regions, where almost every outcome is 0, coverage says little" in quiet
    assert "coverage says little" not in region_text.evidence_verdict(_evidence(), "auto", "focus")


def test_evidence_clause_says_how_the_forecast_did_at_its_own_steps() -> None:
    behind = _evidence(last=3, skill=-0.043, skill_low=-0.095, skill_high=0.002, below=0.75)
    assert region_text.evidence_clause(behind, "focus") == (
        "In the backtest at steps 1-3 (focus group, 118 outcomes), its CRPS skill against the "
        "best baseline "
        "(recent_mean_6) is -4.3% (90% interval -9.5% to +0.2%), not distinguishable "
        "from that baseline."
    )  # "behind" only where the interval says so
    # no interval (no per-forecast scores): no claim about an uncertainty it cannot show
    bare = _evidence(skill=-0.03, skill_low=float("nan"), skill_high=float("nan"))
    assert bare.standing == "behind" and "distinguishable" not in region_text.evidence_clause(
        bare, "f"
    )
    clearly = region_text.evidence_clause(_evidence(last=3, skill=-0.06, skill_high=-0.01), "f")
    assert clearly.startswith("In the backtest at steps 1-3 (f group, 118 outcomes), it was behind")
    assert "distinguishable" not in clearly
    whole = region_text.evidence_clause(_evidence(), "focus")
    assert whole == (
        "In the backtest at steps 1-12 (focus group, 118 outcomes), its CRPS skill against the "
        "best baseline "
        "(recent_mean_6) is +1.1% (90% interval -4.4% to +7.2%), not distinguishable "
        "from that baseline; its 80% intervals held 67% of 118 outcomes (90% interval "
        "56%-81%), so its intervals have probably been too narrow (one-sided, 94% confidence "
        "that the true coverage is below 77.5%)."
    )
    won = region_text.evidence_clause(_evidence(skill_low=0.01, below=0.99), "active")
    assert won.startswith(
        "In the backtest at steps 1-12 (every active region together, not this one alone, 118 "
        "outcomes), it beat"
    )
    assert won.endswith("so its intervals have been too narrow.")
    assert region_text.evidence_clause(None, "focus") == ""
    assert region_text.evidence_clause(_evidence(skill=float("nan")), "focus") == ""


def test_evidence_says_which_way_the_forecasts_missed() -> None:
    """A PIT histogram piled at 1 (the demo's Kayes: outcomes above the forecasts of a rising
    series) is said in words: the share of outcomes above the forecast's median, with its
    interval, and the verdict "too low" as clearly as the bootstrap says it."""
    low = _evidence(high=0.64, high_low=0.55, high_high=0.72, high_over=0.99, high_under=0.0)
    assert low.bias == "too low"
    verdict = region_text.evidence_verdict(low, "auto")
    assert (
        "Outcomes fell above the forecast's median 64% of the time (90% interval 55%-72%; 50% "
        "if unbiased): the forecasts have been too low" in verdict
    )
    clause = region_text.evidence_clause(low, "focus")
    assert clause.endswith(
        "outcomes fell above its median 64% of the time (90% interval 55%-72%), so it has run "
        "too low."
    )
    high = _evidence(high=0.4, high_low=0.3, high_high=0.49, high_over=0.05, high_under=0.92)
    assert high.bias == "probably too high"
    # a "probably" says the confidence it rests on: its two-sided 90% interval can hold 50%
    # (the demo's Kayes: 66%, 49%-82%, "probably run too low")
    assert region_text.evidence_clause(high, "focus").endswith(
        "outcomes fell above its median 40% of the time (90% interval 30%-49%), so it has "
        "probably run too high (one-sided, 92% confidence that the true share above the "
        "median is below 47.5%)."
    )
    kayes = _evidence(high=0.66, high_low=0.49, high_high=0.82, high_over=0.93, high_under=0.0)
    assert (
        "(90% interval 49%-82%), so it has probably run too low (one-sided, 93% confidence "
        "that the true share above the median is above 52.5%)."
        in region_text.evidence_clause(kayes, "f")
    )
    even = _evidence(high=0.52, high_low=0.45, high_high=0.6, high_over=0.7, high_under=0.3)
    assert even.bias == "" and "median" not in region_text.evidence_verdict(even, "auto")
    assert _evidence().bias == ""  # without the bootstrap: nothing said


def test_step_evidence_pools_the_backtest_as_its_scorecard_does(small_strided_backtest) -> None:
    """The region report's skill is the scorecard's (every forecast weighted the same), so a
    step with fewer outcomes does not count as much as one with more; the interval comes from
    the same backtest's per-forecast scores."""
    from analysis.evaluation import scorecard, skill_intervals

    bt = small_strided_backtest(8, seed=3)
    card = scorecard(bt, paired=False)
    table = region_text.evidence_table(card, "recent_mean_3", "focus")
    assert table["outcomes"].nunique() > 1  # the late steps of the last origins are unscored
    base = table[region_text.BASELINE_COLUMN].iloc[0]
    pooled = next(
        r["crps_skill_vs"][base] for r in card["by_group"]
        if r["group"] == "focus" and r["model"] == "recent_mean_3"
    )  # fmt: skip
    assert region_text.evidence_skill(table) == pytest.approx(pooled, rel=1e-12)
    ev = region_text.step_evidence(table, bt.scores, "recent_mean_3", "focus")
    assert ev.skill == pytest.approx(pooled, rel=1e-12) and (ev.first, ev.last) == (1, 6)
    focus = bt.scores[bt.scores["group"] == "focus"]
    assert ev.skill_low == skill_intervals(focus, "recent_mean_3", base)["skill_low"]
    assert ev.outcomes == len(focus[focus["model"] == "recent_mean_3"])
    short = region_text.step_evidence(table, bt.scores, "recent_mean_3", "focus", (1, 3))
    first3 = focus[focus["step"] <= 3]
    assert short.skill == pytest.approx(skill_intervals(first3, "recent_mean_3", base)["skill"])
    assert short.coverage == pytest.approx(
        first3.loc[first3["model"] == "recent_mean_3", "pit_coverage_80"].mean()
    )
    assert region_text.step_evidence(table, bt.scores, "recent_mean_3", "focus", (7, 9)) is None
    # the steps clearly behind are those behind whose own interval lies below 0, by the same
    # per-step intervals as the table's column
    for s in range(1, 7):
        per = skill_intervals(focus[focus["step"] == s], "recent_mean_3", base)
        assert (s in ev.clearly_behind) == (s in ev.behind and per["skill_high"] < 0)
        assert (s in ev.clearly_ahead) == (s not in ev.behind and per["skill_low"] > 0)


def test_evidence_verdict_names_the_steps_clearly_behind() -> None:
    """The real Mopti's pooled -5.6% read "not distinguishable" while steps 2 and 5 (-18.5%
    and -22.2%) had intervals wholly below 0: the sentence names them, with the chance rate."""
    verdict = region_text.evidence_verdict(_evidence(clearly_behind=(2, 11)), "auto")
    assert (
        "its CRPS is above the baseline's at steps 2-3, 8 and 11 (each step's point value); "
        "each step's own 90% interval lies at steps 2 and 11 wholly below 0 (were the steps "
        "independent, about one step in 20 would by chance, each way; they are not: steps "
        "scored from the same origins, or the same months from other origins, move together)."
        in verdict
    )
    both = region_text.evidence_verdict(_evidence(clearly_behind=(8,), clearly_ahead=(4,)), "a")
    assert "lies at step 8 wholly below 0 and at step 4 wholly above 0 (were the steps" in both
    assert "wholly" not in region_text.evidence_verdict(_evidence(), "auto")


def test_counts_caption_names_the_trend_windows() -> None:
    assert region_text.counts_caption("Kayes", "month", []) == (
        "Events per month in Kayes (black) and its neighbouring regions."
    )
    text = region_text.counts_caption("Kayes", "month", [("2019", "2020"), ("2021", "2024")])
    assert text.startswith("Events per month in Kayes (black) and its neighbouring regions, ")
    # the windows are the trend's, not the figure's span (a reviewer read them as the latter)
    assert "the trend of Kayes fitted over 2019 to 2020; 2021 to 2024 (dashed)" in text
    assert text.endswith("never narrowed where that dependence is estimated negative).")


def test_counted_noun_does_not_call_every_event_an_attack() -> None:
    assert region_text.counted_noun([]) == "Events"
    assert region_text.counted_noun(None) == "Events"
    assert region_text.counted_noun(["JNIM"]) == "Events involving JNIM"
    assert (
        region_text.counted_noun(["JNIM"], include_predecessors=True)
        == "Events involving JNIM or its predecessor groups"
    )
    assert (
        region_text.counted_noun(["JNIM", "ISGS", "AQIM"]) == "Events involving JNIM, ISGS or AQIM"
    )


def test_region_with_neighbours_counts_only_units_in_the_study(boundaries) -> None:
    """Kayes has nine neighbours, three of them in Guinea (outside the demo study): counting
    those toward the limit of eight pushed Tambacounda out of the table and the figure."""
    study = set(boundaries.regions_of(["MLI", "MRT", "SEN"])["region_id"])
    around = region_text.region_with_neighbours("ML-1", boundaries, within=study)
    assert around[0] == "ML-1" and "SN-TC" in around
    assert set(around) <= study and len(around) == 7  # Kayes and its six study neighbours
    assert not any(r.startswith("GN-") for r in around)
    assert len(region_text.region_with_neighbours("ML-1", boundaries, limit=2, within=study)) == 3
    # without a study every neighbour counts (the old behaviour)
    assert "SN-TC" not in region_text.region_with_neighbours("ML-1", boundaries)


def test_evidence_scope_sentence_says_what_is_scored() -> None:
    """The evidence is auto with its choice redone at every origin (the methods appendix's
    backtest), not the candidates it chose on the full history: that evidence had seen the
    periods it scored (the real Mopti report read -1.7% beside the appendix's -5.7%)."""
    text = region_text.evidence_scope_sentence(36, 3, 12)
    assert "last 36 periods (every third period)" in text and "steps 1-12" in text
    assert "history before that origin only" in text and "is calibrated)." in text
    assert text.endswith("against the baseline best at those steps.")
    assert "optimistic" not in text and "full history" not in text
    assert "steps 1-6," in region_text.evidence_scope_sentence(36, 1, 6)
    assert "every period" in region_text.evidence_scope_sentence(36, 1, 6)


def test_dependence_sentence_does_not_credit_width_to_a_correlation_that_added_none() -> None:
    row = {"period_a": "2021", "period_b": "2024", "nb_ci_low": 2.0, "nb_ci_high": 8.0}
    same = pd.DataFrame([{**row, "own_lag": -0.37, "headline_ci_low": 2.0,
                          "headline_ci_high": 8.0}])  # fmt: skip
    text = region_text.dependence_sentence(same, "Nord")
    # a negative correlation is no own-lag share: it is said to narrow nothing
    assert "is -0.37 (below 0" in text and "not narrowed for a negative correlation" in text
    assert "times as wide" not in text
    flat = same.assign(own_lag=0.02)
    text = region_text.dependence_sentence(flat, "Nord")
    assert "leaves the 95% interval of the ratio as wide" in text
    wider = pd.DataFrame([{**row, "own_lag": 0.05, "headline_ci_low": 1.0,
                           "headline_ci_high": 16.0}])  # fmt: skip
    text = region_text.dependence_sentence(wider, "Kédougou")
    assert "and for the uncertainty of that estimate" in text and "2.0 times as wide" in text


def test_dependence_sentence_negative_correlation_with_a_wider_headline() -> None:
    """The real Boucle du Mouhoun (own-lag -0.37): the headline 1.35-133 hulls the AR(1) part
    below the independent NB interval 1.50-133, and the sentence had called the table's
    interval "the one that treats months as independent"."""
    row = {"period_a": "2017", "period_b": "2020", "own_lag": -0.37, "nb_ci_low": 1.502,
           "nb_ci_high": 133.19, "headline_ci_low": 1.347, "headline_ci_high": 133.19}  # fmt: skip
    text = region_text.dependence_sentence(pd.DataFrame([row]), "Boucle du Mouhoun")
    assert "is the one that treats months as independent" not in text
    assert "1.35-133, is wider than the one that treats months as independent" in text
    assert "(negative-binomial, 1.50-133, not in the table" in text
    # a width compared with the NB interval names it, not the table's exact one
    kayes = {"period_a": "2021", "period_b": "2024", "own_lag": 0.11, "nb_ci_low": 3.234,
             "nb_ci_high": 18.91, "headline_ci_low": 2.148, "headline_ci_high": 24.80}  # fmt: skip
    text = region_text.dependence_sentence(pd.DataFrame([kayes]), "Kayes")
    assert "1.4 times as wide" in text and "(negative-binomial, 3.23-18.9, not in the table" in text


def test_p_value_sentence_names_both_tests_and_the_family() -> None:
    table = pd.DataFrame({"p_value": [0.004, 0.3], "p_value_bh": [0.15, 0.6],
                          "bh_family_size": [38, 38]})  # fmt: skip
    text = region_text.p_value_sentence(table)
    assert "largest of three tests" in text and "region (38 tests)" in text
    # the one place the report says the adjustment is study-wide and the intervals are not
    # adjusted (the Growth section's opening had said both again)
    assert "once for the whole study" in text and "the same numbers as in the overview" in text
    assert "The intervals, the trend's included, are not adjusted" in text
    assert region_text.p_value_sentence(table.assign(p_value_bh=np.nan)) == ""


def test_growth_display_marks_unbounded_limits_and_blanks_untested_comparisons() -> None:
    inf, nan = np.inf, np.nan
    table = pd.DataFrame(
        {
            "period_a": ["2021"] * 3, "period_b": ["2024"] * 3,
            "count_a": [0, 0, 5], "count_b": [3, 0, 7], "ratio": [inf, nan, 1.4],
            "headline_ci_low": [0.5, 0.0, 0.4], "headline_ci_high": [inf, inf, 4.0],
            "ci_low": [0.58, 0.0, 0.4], "ci_high": [inf, inf, 4.5],
            "annual_growth_pct": [nan] * 3, "p_value": [0.2, 1.0, 0.0004],
            "p_value_bh": [0.5, nan, 0.9],
            "change_point": [None] * 3,
        }
    )  # fmt: skip
    shown = region_text.growth_display(table)
    assert shown["95% CI low"].tolist()[0] == 0.5 and shown["95% CI high"].iloc[0] == inf
    assert shown.iloc[1][["ratio", "95% CI low", "exact CI high (reference)"]].isna().all()
    assert shown["95% CI high"].iloc[2] == 4.0
    # the comparison's own p-value beside the adjusted one; none where nothing was tested
    assert shown["p (this comparison)"].tolist() == ["0.20", "", "<0.001"]
    # unbounded reads as "∞", as in the overview; nothing to compare reads as blank
    from analysis.report.show import table_html

    cells = table_html(shown, formats=region_text.GROWTH_FORMATS).split("<tr>")
    assert cells[2].count("<td>∞</td>") == 3 and "∞" not in cells[3] + cells[4]


def test_growth_display_gives_the_change_point_tests_it_adjusted() -> None:
    """The study-wide adjustment counts the change-point tests, so the table shows them: the
    real Sahel's p 0.032 (0.13 adjusted) had stood behind a bare "none"."""
    base = {"period_a": "2017", "period_b": "2020", "count_a": 3, "count_b": 17, "ratio": 5.7,
            "p_value": 0.01, "p_value_bh": 0.05}  # fmt: skip
    rows = pd.DataFrame(
        [
            {**base, "change_point": None, "change_point_best": "2019-08",
             "change_point_p_value": 0.032, "change_point_p_bh": 0.13},
            {**base, "change_point": "2019-08", "change_point_best": "2019-08",
             "change_point_p_value": 0.0004, "change_point_p_bh": 0.004},
            {**base, "change_point": None, "change_point_best": None,
             "change_point_p_value": np.nan, "change_point_p_bh": np.nan},
        ]
    )  # fmt: skip
    cells = region_text.growth_display(rows)["change point"].tolist()
    assert cells == [
        "none (likeliest 2019-08: p 0.032, BH-adjusted 0.13)",
        "2019-08 (p <0.001, BH-adjusted 0.004)",
        "none",
    ]
    assert "adjusted p-value is below 0.05" in region_text.p_value_sentence(
        rows.assign(bh_family_size=6)
    )


def test_growth_table_writes_the_trend_as_the_sentence_does() -> None:
    """The demo's Kayes: the sentence said "+83% a year (95% CI +40% to +143%)" while the
    table showed "82.82"; both now give the signed whole percent, limits included."""
    from analysis.growth.sentence import growth_sentence
    from analysis.report.show import table_html

    row = {
        "period_a": "2021", "period_b": "2024", "count_a": 10, "count_b": 73, "ratio": 7.3,
        "headline_ci_low": 2.15, "headline_ci_high": 24.8, "ci_low": 3.75, "ci_high": 15.9,
        "nb_ci_low": 2.5, "nb_ci_high": 20.0, "annual_growth_pct": 82.82,
        "annual_growth_ci": [40.2, 142.9], "p_value_bh": 0.15, "change_point": None,
    }  # fmt: skip
    shown = region_text.growth_display(pd.DataFrame([row]))
    html = table_html(shown, formats=region_text.GROWTH_FORMATS)
    assert ">+83%<" in html and ">+40% to +143%<" in html and "82.82" not in html
    sentence = growth_sentence(row, "Kayes")
    assert "+83% a year (95% CI +40% to +143%)" in sentence
    # a limit just off zero reads as in the sentence, not "+0%"
    near = region_text.growth_display(pd.DataFrame([{**row, "annual_growth_ci": [0.4, 51.0]}]))
    assert near["trend 95% CI"].iloc[0] == "+0.4% to +51%"


def test_switch_sentence_says_a_step_between_quarters_is_a_change_of_model():
    periods = pd.date_range("2025-01", periods=12, freq="MS")
    text = region_text.switch_sentence([(4, "ensemble_local", "ensemble_trend")], periods)
    assert text.startswith(
        "The forecast changes candidate between 2025-03 and 2025-04 (ensemble_local to "
        "ensemble_trend)"
    )
    assert "comes from that change of model, not from a forecast of a sudden change" in text
    # the rule for choosing is the model line's (choice_sentence), not said again here
    assert "as chosen above for each block of steps" in text and "Monte Carlo" not in text
    two = region_text.switch_sentence([(4, "a", "b"), (10, "b", "a")], periods)
    assert "between 2025-03 and 2025-04 (a to b) and between 2025-09 and 2025-10 (b to a)" in two
    # one candidate throughout, or a change beyond the steps shown: nothing to explain
    assert region_text.switch_sentence([], periods) is None
    assert region_text.switch_sentence([(10, "a", "b")], periods[:6]) is None


def test_switch_sentence_is_silent_for_a_region_whose_paths_are_the_onset_models():
    """A quiet region's paths are first-event paths at the onset model's probability: the
    candidates never reach them (the demo's Guidimaka report said its expected counts jumped
    with a change of candidate, beside a summary that named the onset model)."""
    periods = pd.date_range("2025-01", periods=12, freq="MS")
    switches = [(4, "ensemble_climatology36_heavy", "ensemble_climatology36")]
    assert region_text.switch_sentence(switches, periods, onset_driven=True) is None
    assert region_text.switch_sentence(switches, periods, onset_driven=False) is not None


def test_model_fields_name_both_groups_only_when_their_plans_differ() -> None:
    both = region_text.model_fields("auto", "ensemble_local", "ensemble_trend", "unused")
    assert both == {
        "model": "auto",
        "groups": ": for the focus regions, ensemble_local; for the other regions, ensemble_trend",
    }
    same = region_text.model_fields("auto", "ensemble_local", "ensemble_local",
                                    "auto (ensemble_local)")  # fmt: skip
    assert same == {"model": "auto (ensemble_local)", "groups": ""}
    assert region_text.model_fields("auto", None, None, "zero")["model"] == "zero"


def test_choice_sentence_says_auto_scored_other_origins_than_the_evidence() -> None:
    evidence = {
        "reason": "focus: steps 1-3: ensemble_local had the lowest fair CRPS (1.6986)",
        "block_origins": {"1-3": ["2021-12", "2022-03", "2024-09"], "4-6": ["2021-09"]},
    }
    text = region_text.choice_sentence(evidence)
    assert text.startswith("Chosen on auto's own backtest inside the history, before the "
                           "forecast origin: the fair CRPS of each candidate, before spread "
                           "calibration, at the 3 latest origins")  # fmt: skip
    assert "(for steps 1-3, 2021-12 to 2024-09), not the evidence table's scores" in text
    # the rule is stated here once (the Forecast section's opening had stated it too)
    assert "the lowest-scoring candidate, or a simpler one within Monte Carlo error" in text
    assert text.endswith(
        "within Monte Carlo error of it. Focus: steps 1-3: ensemble_local had the lowest fair "
        "CRPS (1.6986)"
    )
    # with auto's groups, one sentence each (the demo's model line had been one of 191 words)
    groups = {
        "focus": {"blocks": [{"steps": "1-3", "reason": "a had the lowest fair CRPS (1.70)"},
                             {"steps": "4-6", "reason": "b is simpler than a"}]},
        "other": {"blocks": [{"steps": "1-3", "reason": "c had the lowest fair CRPS (0.61)"}]},
    }  # fmt: skip
    split = region_text.choice_sentence({**evidence, "groups": groups})
    assert split.endswith(
        "within Monte Carlo error of it. Focus regions: steps 1-3, a had the lowest fair CRPS "
        "(1.70); steps 4-6, b is simpler than a. Other regions: steps 1-3, c had the lowest "
        "fair CRPS (0.61)"
    )
    assert max(len(x.split()) for x in split.split(". ")) < 70
    assert region_text.choice_sentence({"reason": "fixed"}) == "fixed"
    assert region_text.choice_sentence({}) == "no choice was needed"


def test_terms_pointer_links_the_methods_appendix_terms_once() -> None:
    from analysis.report import methods_text

    text = region_text.TERMS_POINTER
    assert text.count("](methods.html#Terms)") == 1 and text.format() == text
    named = " ".join(term for term, _ in methods_text.TERMS)
    for term in ("overdispersion", "own-lag share", "CRPS", "coverage"):
        assert term in text and term in named, term
    # the share is defined where a report quotes it, and most reports withhold it
    assert "attributable share" not in text and "attributable share" in named


def test_step_evidence_names_the_best_baseline_of_its_own_steps(small_strided_backtest) -> None:
    """The summary's steps 1-3 are judged against the baseline best at steps 1-3 (as the
    overview judges them), not the table's, which is best over all its steps."""
    from analysis.evaluation import scorecard, skill_intervals

    bt = small_strided_backtest(8, seed=3)
    card = scorecard(bt, paired=False)
    table = region_text.evidence_table(card, "recent_mean_3", "focus")
    # the table's baseline (best over steps 1-6) is nb_climatology; offered only these two,
    # steps 1-3 must be judged against the better of them
    base = ["zero", "last_value"]
    assert table[region_text.BASELINE_COLUMN].iloc[0] not in base
    near = bt.scores[(bt.scores["group"] == "focus") & (bt.scores["step"] <= 3)]
    best = near[near["model"].isin(base)].groupby("model")["crps"].mean().idxmin()
    ev = region_text.step_evidence(table, bt.scores, "recent_mean_3", "focus", (1, 3),
                                   baselines=base)  # fmt: skip
    assert ev.baseline == best
    assert ev.skill == pytest.approx(skill_intervals(near, "recent_mean_3", best)["skill"])
    per_step = near.groupby(["model", "step"])["crps"].mean()
    behind = [s for s in (1, 2, 3) if per_step[("recent_mean_3", s)] > per_step[(best, s)]]
    assert list(ev.behind) == behind
    mine = near[near["model"] == "recent_mean_3"]
    assert ev.printed_90 == pytest.approx(mine["closed_coverage_90"].mean())
    # without the baselines: the table's baseline, as before
    plain = region_text.step_evidence(table, bt.scores, "recent_mean_3", "focus", (1, 3))
    assert plain.baseline == table[region_text.BASELINE_COLUMN].iloc[0]


def test_fitted_trend_windows_leave_out_comparisons_without_a_trend() -> None:
    def result(a, b, g):
        return SimpleNamespace(ratio=SimpleNamespace(period_a=a, period_b=b),
                               trend=SimpleNamespace(growth_pct=g))  # fmt: skip

    fitted = [result("2019", "2020", float("nan")), result("2021", "2024", 83.0)]
    assert region_text.fitted_trend_windows(fitted) == [("2021", "2024")]


def test_dependence_sentence_for_a_one_sided_bound() -> None:
    row = {"period_a": "2017", "period_b": "2020", "nb_ci_low": 1.2, "nb_ci_high": np.inf,
           "own_lag": 0.55, "headline_ci_low": 1.004, "headline_ci_high": np.inf}  # fmt: skip
    text = region_text.dependence_sentence(pd.DataFrame([row]), "Nord")
    assert text.endswith("is 0.55; the finite end of the ratio's interval allows for it.")


def test_totals_sentence_gives_the_coverage_of_the_printed_totals() -> None:
    # as total_scorecard gives it: the verdict reads the shares of bootstrap samples beyond
    # the margin, the rule of the per-step coverage
    card = {"n": 9, "origins": 9, "level": 0.9, "pit_coverage_90": 0.667,
            "pit_coverage_90_low": 0.42, "pit_coverage_90_high": 0.86,
            "pit_coverage_90_below": 0.97, "pit_coverage_90_above": 0.0}  # fmt: skip
    text = region_text.totals_sentence(card, 12)
    assert text == (
        "In the backtest, the randomised-PIT coverage of the 90% intervals of such 12-month "
        "totals is 67% (9 totals, 9 origins, 90% interval 42%-86%), so by that measure they "
        "have been too narrow."
    )
    # the intervals as printed (closed at whole counts) beside it: they hold an edge count too
    printed = region_text.totals_sentence({**card, "printed_90": 0.78}, 12)
    assert printed.endswith("too narrow; as printed, closed at whole counts, they held 78%.")
    # on either side of 90% (the real overview: 86% beside 93%), the sentence says why
    straddle = region_text.totals_sentence({**card, "pit_coverage_90": 0.86,
                                            "printed_90": 0.93}, 3)  # fmt: skip
    assert straddle.endswith(
        "they held 93% (the printed intervals count an outcome on an end count as inside; the "
        "randomised measure counts it as partly outside, which is what tells whether the "
        "forecast distribution is too narrow or too wide)."
    )
    # said once a report: the second window's sentence leaves the reason out
    again = region_text.totals_sentence({**card, "pit_coverage_90": 0.86,
                                         "printed_90": 0.93}, 6, explain=False)  # fmt: skip
    assert again.endswith("they held 93%.") and region_text.PRINTED_COVERAGE_NOTE in straddle
    # too few bootstrap samples beyond the margin: no verdict, or a "probably"
    near = region_text.totals_sentence(
        {**card, "pit_coverage_90_high": 0.88, "pit_coverage_90_below": 0.5}, 3, "quarter"
    )
    assert "such 3-quarter totals is 67%" in near and "too" not in near
    likely = region_text.totals_sentence({**card, "pit_coverage_90_below": 0.92}, 12)
    assert "so by that measure they have probably been too narrow (one-sided, 92% " \
        "confidence that the true coverage is below 87.5%)." in likely  # fmt: skip
    wide = region_text.totals_sentence(
        {
            **card,
            "pit_coverage_90": 0.97,
            "pit_coverage_90_low": 0.93,
            "pit_coverage_90_high": 1,
            "pit_coverage_90_below": 0.0,
            "pit_coverage_90_above": 0.98,
        },
        12,
    )
    assert wide.endswith("so by that measure they have been too wide.")
    one = {**card, "origins": 1, "pit_coverage_90_low": float("nan"),
           "pit_coverage_90_below": float("nan")}  # fmt: skip
    assert "(9 totals, 1 origin)." in region_text.totals_sentence(one, 12)
    assert region_text.totals_sentence(None, 12).startswith("No 12-month totals have been scored")
    named = region_text.totals_sentence(card, 3, whose="auto's")
    assert "the 90% intervals of auto's 3-month totals is 67%" in named
    # origins whose windows overlap, worth too few independent windows for an interval
    nan = float("nan")
    unbounded = {"pit_coverage_90_low": nan, "pit_coverage_90_high": nan,
                 "pit_coverage_90_below": nan, "pit_coverage_90_above": nan}  # fmt: skip
    few = region_text.totals_sentence({**card, **unbounded, "origins": 8, "df": 1.4}, 12)
    assert "(9 totals, 8 origins whose windows overlap: too few independent windows" in few
    assert "interval" in few and "too narrow" not in few and "42%" not in few
    assert "for an interval, which would run from 0% to 100%)" in few
    # which way the totals outside the printed intervals fell (the demo's Kayes: 3 of 8, all
    # above, the one backtest number that pointed at its low forecast)
    printed = {**card, **unbounded, "origins": 8, "printed_90": 0.62}
    misses = {(3, 0, nan): "; the 3 totals outside them were all above.",
              (0, 2, nan): "; the 2 totals outside them were both below.",
              (1, 0, nan): "; the one total outside them was above.",
              (4, 1, 0.2): "; of the 5 totals outside them, 4 fell above and 1 below.",
              # a split the test over origins calls one-sided (the real overview's 22 of 24)
              (22, 2, 0.0004): "; of the 24 totals outside them, 22 fell above and 2 below "
              "(a test of an even split that allows for dependent totals rejects it, p <0.001: "
              "the intervals' upper ends ran too low).",
              (0, 6, 0.031): "; the 6 totals outside them were all below (a test of an even "
              "split that allows for dependent totals rejects it, p 0.031: the intervals' lower "
              "ends ran too high).",
              # 8 of 9 above, which a sign test over independent misses called at p 0.039:
              # the misses of overlapping windows are worth fewer, and no verdict is given
              (8, 1, 0.12): "; of the 9 totals outside them, 8 fell above and 1 below.",
              (8, 1, nan): "; of the 9 totals outside them, 8 fell above and 1 below."}  # fmt: skip
    for (above, below, p), words in misses.items():
        counted = {**printed, "printed_90_above": above, "printed_90_below": below,
                   "printed_90_miss_p": p}  # fmt: skip
        assert region_text.totals_sentence(counted, 12).endswith("they held 62%" + words)
    for counted in (printed, {**printed, "printed_90_above": 0, "printed_90_below": 0}):
        assert region_text.totals_sentence(counted, 12).endswith("they held 62%.")


def test_a_quiet_regions_summary_names_the_onset_rule_that_gives_its_chance() -> None:
    chosen = "auto (ensemble_climatology36_heavy at steps 1-3)"
    assert region_text.summary_model(chosen, "auto", onset_driven=False) == chosen
    onset = region_text.summary_model(chosen, "auto", onset_driven=True)
    assert onset == "auto (onset model)"
    # and its CRPS evidence points to the onset evidence, which says more there
    quiet = region_text.evidence_clause(_evidence(last=3), "quiet")
    assert "; in quiet regions the evidence for the onset probabilities, below, says more" in quiet
    assert "onset" not in region_text.evidence_clause(_evidence(last=3), "active")


def test_actor_sentence_with_one_event_and_one_opponent() -> None:
    """The real study's Sud-Ouest read "JNIM took part in 1 events; the sides it fought or
    attacked most were Civilians (1)"."""
    events = pd.DataFrame({"region_id": ["BF-13"], "actor1": ["JNIM"], "actor2": ["Civilians"]})
    text = region_text.actor_sentence(events, "BF-13", "Sud-Ouest", ["JNIM"])
    assert (
        text == "In Sud-Ouest, JNIM took part in 1 event; the side it fought or attacked was "
        "Civilians (1)."
    )
    # two opponents, the top one shown: still "most"
    two = pd.concat([events, events.assign(actor2="Koglweogo")], ignore_index=True)
    text = region_text.actor_sentence(two, "BF-13", "Sud-Ouest", ["JNIM"], top=1)
    assert text.endswith("2 events; the sides it fought or attacked most were Civilians (1).")


def test_forecast_sentence_gives_a_small_expected_count_two_decimals() -> None:
    """Tillabéri's summary read "expects 0.0 events ... the probability of at least one event
    in that time is 2%"; below 0.1 the expected count gets two decimals, as in the tables."""
    w = WindowForecast(
        "NE-6", 3, pd.Timestamp("2021-01-01"), pd.Timestamp("2021-03-01"),
        mean=0.024, low=0.0, high=0.0, p_any=0.021, level=0.9, median=0.0,
    )  # fmt: skip
    text = region_text.forecast_sentence(w, "Tillabéri", "auto")
    assert "expects 0.02 events" in text and "is 2%" in text
    assert region_text.expected_words(0.06) == "0.06"
    assert region_text.expected_words(0.28) == "0.3"
    assert region_text.expected_words(0.0) == "0.0"
    assert region_text.expected_words(0.001) == "<0.01"
    assert region_text.expected_words(13.88) == "13.9"


def test_any_event_clause_gives_a_windows_p_any_its_brier_evidence() -> None:
    """The summary's P(at least one event) over a window had no evidence at that window; the
    clause gives its Brier score beside the best baseline's, for active and focus groups."""
    card = {"brier": {"auto": 0.164, "nb_climatology": 0.142}, "n": 124, "with_event": 90,
            "origins": 10, "best_baseline": "nb_climatology", "steps": 6, "level": 0.9,
            "difference": 0.022, "difference_low": -0.019, "difference_high": 0.062}  # fmt: skip
    assert region_text.any_event_clause(card, "auto", "active") == (
        "Its P(at least one event) over such windows had a Brier score of 0.164 against "
        "nb_climatology's 0.142, not distinguishable from it (difference +0.022, 90% interval "
        "-0.019 to +0.062) in the backtest (124 active region-windows)."
    )
    tiny = {**card, "difference": -0.0004, "difference_low": -0.0004, "difference_high": 0.0003}
    assert "(difference -0.0004, 90% interval -0.0004 to +0.0003)" in (
        region_text.any_event_clause(tiny, "auto", "active")
    )
    # quiet regions have the onset evidence; windows that all had an event test nothing
    assert region_text.any_event_clause(card, "auto", "quiet") == ""
    assert region_text.any_event_clause({**card, "with_event": 124}, "auto", "focus") == ""
    assert region_text.any_event_clause(None, "auto", "active") == ""


def test_evidence_steps_get_their_skill_intervals(small_strided_backtest) -> None:
    """The per-step evidence table had bare point skills, a focus region's on a dozen outcomes
    a step; each step now has its interval over origins beside it, around the same skill."""
    from analysis.evaluation import scorecard, skill_intervals
    from analysis.formatting import SKILL_INTERVAL_COLUMN, format_skill_interval

    bt = small_strided_backtest(6, seed=4)
    table = region_text.evidence_table(scorecard(bt), "recent_mean_3", "active")
    shown = region_text.with_step_intervals(table, bt.scores, "recent_mean_3", "active")
    columns = list(shown.columns)
    assert columns[columns.index("CRPS skill") + 1] == SKILL_INTERVAL_COLUMN
    base = table[region_text.BASELINE_COLUMN].iloc[0]
    active = bt.scores[bt.scores["group"] == "active"]
    for row in shown.itertuples(index=False):
        at = active[active["step"] == row.step]
        ev = skill_intervals(at, "recent_mean_3", base)
        assert row[columns.index("CRPS skill")] == pytest.approx(ev["skill"])
        assert row[columns.index(SKILL_INTERVAL_COLUMN)] == format_skill_interval(
            ev["skill_low"], ev["skill_high"]
        )
    assert any(shown[SKILL_INTERVAL_COLUMN] != "")
    assert list(table.columns) == [c for c in columns if c != SKILL_INTERVAL_COLUMN]
    empty = table.iloc[0:0]
    assert region_text.with_step_intervals(empty, bt.scores, "recent_mean_3", "active") is empty
    assert format_skill_interval(float("nan"), 0.1) == ""


def test_trend_forecast_sentence_joins_a_damped_forecast_to_the_growth_section() -> None:
    """The demo's Kayes: "+83% a year (95% CI +40% to +143%)" and then 94.9 events after
    2024's 73 with nothing joining the two (a reviewer read a contradiction)."""
    from analysis.models.risk import WindowForecast

    row = {"period_b": "2024", "count_b": 73, "exposure_b": 12.0,
           "annual_growth_ci": [40.0, 142.9]}  # fmt: skip
    year = WindowForecast("ML-1", 12, pd.Timestamp("2025-01-01"), pd.Timestamp("2025-12-01"),
                          94.9, 50.0, 165.0, 1.0, 0.9, 88.0)  # fmt: skip
    assert region_text.trend_forecast_sentence(row, year) == (
        "The forecast of 94.9 events is 1.3 times 2024's 73, below the low end of the fitted "
        "trend's interval (+40% a year): the report model's candidates damp any trend, so it "
        "expects the growth to slow. That is the candidates' assumption, not something the "
        "data show."
    )
    # beside a backtest whose forecasts ran too low (the demo's Kayes: the sentence had
    # called that backtest "the evidence for" the slowdown), it says what the backtest says
    from types import SimpleNamespace

    short = region_text.trend_forecast_sentence(row, year, SimpleNamespace(bias="probably too low"))
    assert short.endswith(
        "not something the data show; in the backtest above such forecasts have probably run "
        "too low, so this total is likely too low as well."
    )
    for other in ("", "too high", "probably too high"):
        plain = region_text.trend_forecast_sentence(row, year, SimpleNamespace(bias=other))
        assert plain.endswith("not something the data show.")
    # inside the trend's interval, a trend that includes 0, or a window that does not follow
    # the later year or is not a year long: nothing to join
    inside = WindowForecast("ML-1", 12, pd.Timestamp("2025-01-01"), pd.Timestamp("2025-12-01"),
                            110.0, 60.0, 180.0, 1.0, 0.9, 105.0)  # fmt: skip
    quarter = WindowForecast("ML-1", 3, pd.Timestamp("2025-01-01"), pd.Timestamp("2025-03-01"),
                             20.0, 6.0, 39.0, 1.0, 0.9, 19.0)  # fmt: skip
    later = WindowForecast("ML-1", 12, pd.Timestamp("2026-01-01"), pd.Timestamp("2026-12-01"),
                           94.9, 50.0, 165.0, 1.0, 0.9, 88.0)  # fmt: skip
    for r, w in ((row, inside), ({**row, "annual_growth_ci": [-5.0, 140.0]}, year),
                 (row, quarter), (row, later), ({**row, "period_b": "2024Q4"}, year)):  # fmt: skip
        assert region_text.trend_forecast_sentence(r, w) == ""
    # a fall the forecast slows
    fall = {**row, "count_b": 100, "annual_growth_ci": [-60.0, -20.0]}
    assert "above the high end of the fitted trend's interval (-20% a year)" in (
        region_text.trend_forecast_sentence(fall, year)
    )
    assert "expects the fall to slow" in region_text.trend_forecast_sentence(fall, year)


def test_importing_region_text_leaves_the_growth_package_unloaded() -> None:
    """The overview and every report import region_text; the growth package (its fitting
    code) is imported only by the sentences that need it, which had cost about 0.5 s."""
    import subprocess
    import sys

    code = "import sys, analysis.report.region_text; print('analysis.growth' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _quarterly(panel: pd.DataFrame) -> pd.DataFrame:
    """``panel`` with its periods read as quarters from 2009Q1."""
    months = sorted(panel["period"].unique())
    quarters = pd.date_range("2009-01-01", periods=len(months), freq="QS")
    out = panel.assign(period=panel["period"].map(dict(zip(months, quarters, strict=True))))
    out.attrs["freq"] = "quarter"
    return out


def test_quarterly_reports_label_their_periods_as_quarters() -> None:
    """A quarterly study's region reports had labelled its quarters by their first months:
    "From 2021-01 to 2021-07" (a forecast to the end of September), a Window of "2009-01 to
    2020-10", forecast rows 2021-01, 2021-04, ... and a change of candidate "between 2021-07
    and 2021-10". Monthly labels are unchanged (the tests above pin them)."""
    from analysis.models.forecast import ForecastResult

    w = WindowForecast(
        "ML-5", 3, pd.Timestamp("2021-01-01"), pd.Timestamp("2021-07-01"),
        mean=41.8, low=15.0, high=85.0, p_any=0.9999, level=0.9, median=37.0,
    )  # fmt: skip
    text = region_text.forecast_sentence(w, "Mopti", "auto", previous=44, freq="quarter")
    assert text.startswith("From 2021Q1 to 2021Q3, the auto forecast expects 41.8 events")
    assert "44 in the previous 3 quarters" in text
    assert region_text.forecast_sentence(w, "Mopti", "auto").startswith("From 2021-01 to 2021-07")
    # the Data table's window
    panel = _panel({"ML-1": [0, 3, 0, 1], "ML-2": [5, 0, 0, 0]})
    events = pd.DataFrame({"region_id": [], "date_start": pd.to_datetime([])})
    for frame, window in (
        (panel, "2021-01 to 2021-04 (monthly, 2 regions)"),
        (_quarterly(panel), "2009Q1 to 2009Q4 (quarterly, 2 regions)"),
    ):
        table = region_text.data_summary(events, frame, "ML-1", [{"rows": 9}])
        assert dict(zip(table["item"], table["value"], strict=True))["Window"] == window
    # the forecast table's rows and the change of candidate between two of them
    quarters = pd.date_range("2021-01-01", periods=4, freq="QS")
    fc = ForecastResult(np.zeros((1, 4, 10), dtype=int), ("ML-5",), quarters,
                        pd.Timestamp("2020-10-01"), "m", 0)  # fmt: skip
    assert list(region_text.forecast_table(fc, "ML-5", "quarter")["period"]) == [
        "2021Q1", "2021Q2", "2021Q3", "2021Q4",
    ]  # fmt: skip
    assert list(region_text.forecast_table(fc, "ML-5")["period"])[:2] == ["2021-01", "2021-04"]
    switched = region_text.switch_sentence([(4, "a", "b")], quarters, freq="quarter")
    assert switched.startswith("The forecast changes candidate between 2021Q3 and 2021Q4 (a to b)")


def test_quarterly_growth_text_speaks_of_quarters() -> None:
    """The Growth section counts quarters in a quarterly study: its intervals allow for
    quarter-to-quarter dependence, which the text had called month-to-month."""
    monthly, quarterly = region_text.growth_method(), region_text.growth_method(freq="quarter")
    assert "month" not in quarterly
    assert "Conflict counts depend on last quarter's" in quarterly
    assert "allow for quarter-to-quarter dependence" in quarterly
    assert "the interval that treats quarters as independent" in quarterly
    assert "Conflict counts depend on last month's" in monthly
    assert quarterly.replace("quarter", "month") == monthly
    # the simulation's series are in periods: a quarterly year, 4 periods, is shorter than
    # any window it drew, and the text says so; a monthly year is one of them
    short = region_text.growth_method(freq="quarter", windows=["2017", "2019"])
    assert "this study's windows of 4 quarters are shorter" in short
    assert region_text.growth_method(windows=["2017", "2019"]) == monthly
    row = {"period_a": "2017", "period_b": "2019", "own_lag": -0.39, "nb_ci_low": 2.0,
           "nb_ci_high": 8.0, "headline_ci_low": 2.0, "headline_ci_high": 8.0}  # fmt: skip
    text = region_text.dependence_sentence(pd.DataFrame([row]), "Nord", "quarter")
    assert "the estimated quarter-to-quarter correlation is -0.39" in text
    assert "busy quarters tended to be followed by quieter ones" in text
    assert "treats quarters as independent" in text and "month" not in text
    wider = {**row, "own_lag": 0.32, "headline_ci_low": 1.0, "headline_ci_high": 16.0}
    text = region_text.dependence_sentence(pd.DataFrame([wider]), "Sahel", "quarter")
    assert "times as wide (on the log scale) as the one that treats quarters as" in text
    nan = region_text.dependence_sentence(
        pd.DataFrame([{**row, "own_lag": np.nan}]), "N", "quarter"
    )
    assert "the quarter-to-quarter correlation could not be estimated" in nan
    rows = pd.DataFrame({"period_a": ["2017"], "period_b": ["2019"], "count_a": [0],
                         "count_b": [0]})  # fmt: skip
    assert "too few quarters with events from 2017 to 2019" in region_text.untested_sentence(
        rows, "Ségou", "quarter"
    )
    caption = region_text.counts_caption("Mopti", "quarter", [("2017", "2019")])
    assert "allowing for overdispersion and quarter-to-quarter dependence" in caption
    monthly_caption = region_text.counts_caption("Mopti", "month", [("2017", "2019")])
    assert "allowing for overdispersion and month-to-month dependence" in monthly_caption


def test_quarterly_evidence_verdict_says_origins_score_the_same_quarters() -> None:
    ev = _evidence(clearly_behind=(2,))
    quarterly = region_text.evidence_verdict(ev, "the report model", freq="quarter")
    assert "the same quarters from other origins, move together" in quarterly
    assert "score the same or neighbouring quarters, which a dozen" in quarterly
    assert "month" not in quarterly
    monthly = region_text.evidence_verdict(ev, "the report model")
    assert monthly == quarterly.replace("quarters", "months")


def test_the_forecast_intro_names_the_panels_periods() -> None:
    monthly, quarterly = region_text.forecast_intro(), region_text.forecast_intro("quarter")
    assert "their intervals carry the dependence between months." in monthly
    assert "their intervals carry the dependence between quarters." in quarterly
    assert quarterly.replace("quarters", "months") == monthly
