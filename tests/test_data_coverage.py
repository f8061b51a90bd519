"""How far the data files reach: windows past them are refused, a short last period is said."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.data_coverage import (
    declared_reach_problems,
    earliest_event,
    latest_event,
    partial_period_note,
    require_window_covered,
    uncovered_countries_note,
    window_problems,
)
from analysis.errors import InputError


def _events(*days: str) -> pd.DataFrame:
    return pd.DataFrame({"date_start": pd.to_datetime(list(days))})


def test_latest_event_is_the_latest_day_of_any_row():
    assert latest_event(_events("2024-03-02", "2024-06-14", "2023-12-31")) == pd.Timestamp(
        "2024-06-14"
    )
    assert latest_event(_events()) is None
    assert latest_event(pd.DataFrame({"date_start": [pd.NaT]})) is None


FIRST, LAST = pd.Timestamp("2020-03-18"), pd.Timestamp("2024-06-14")


def _problems(start, end, **kwargs):
    return window_problems(start, end, FIRST, LAST, **kwargs)


def test_a_window_runs_from_the_month_of_the_earliest_event_to_that_of_the_latest():
    assert earliest_event(_events("2021-05-01", "2020-03-18")) == FIRST
    assert _problems("2020-03", "2024-06") == _problems("2021-01", "2023-01") == []
    early, late = _problems("2018-01", "2024-07", file="s.yaml")  # both ends at once
    assert (early.file, early.column, early.found) == ("s.yaml", "start", "2018-01")
    assert early.expected == (
        "a month from 2020-03 on, the month of the data files' earliest event (2020-03-18): "
        "earlier months would be counted as months without events (set data_from in the "
        "study if the files cover earlier, quiet months)"
    )
    assert (late.column, late.found) == ("end", "2024-07")
    assert late.expected == (
        "a month up to 2024-06, the month of the data files' latest event (2024-06-14): "
        "later months would be counted as months without events (set data_through in the "
        "study if the files cover later, quiet months)"
    )
    with pytest.raises(InputError, match="runs outside the data") as info:
        require_window_covered("2018-01", "2024-07", FIRST, LAST)
    assert len(info.value.problems) == 2
    require_window_covered("2020-03", None, FIRST, None)  # nothing given or known: nothing said


def test_a_declared_reach_widens_the_window_and_is_named_without_advice_to_set_it():
    assert _problems("2019-01", "2024-09", data_from="2019-01", data_through="2024-09") == []
    early, late = _problems("2018-01", "2024-10", data_from="2018-06", data_through="2024-09")
    assert early.expected == (
        "a month from 2018-06 on, the study's data_from: earlier months would be counted as "
        "months without events"
    )
    assert late.expected.startswith("a month up to 2024-09, the study's data_through:")
    assert "set data_through" not in late.expected
    # a declared month inside the data's reach does not narrow it: the files contradict it
    declared, problem = _problems("2020-02", None, data_from="2020-06")
    assert declared.column == "data_from" and "events before 2020-06" in declared.expected
    assert problem.column == "start" and "earliest event" in problem.expected


def test_a_quarterly_window_is_told_the_whole_quarters_it_may_use():
    # the data end in 2024-06 (a quarter's last month) and begin in 2020-03 (inside 2020Q1)
    early, late = _problems("2019-10", "2024-09", freq="quarter")
    assert early.expected.startswith(
        "a month from 2020-04 on (the start of the first from 2020-03, the month of the data "
        "files' earliest event (2020-03-18))"
    )
    assert late.expected.startswith(
        "a month up to 2024-06, the month of the data files' latest event (2024-06-14)"
    )
    may = window_problems(None, "2024-06", None, pd.Timestamp("2024-05-19"), freq="quarter")
    assert may[0].expected.startswith(
        "a month up to 2024-03 (the end of the last whole quarter up to 2024-05, the month of "
        "the data files' latest event (2024-05-19))"
    )


def test_a_cli_window_is_not_told_of_the_study_keys():
    problems = _problems("2019-12", "2025-01", keys=("--start", "--end"), study=False)
    assert [p.column for p in problems] == ["--start", "--end"]
    assert not any("data_" in p.expected for p in problems)


@pytest.mark.parametrize(
    ("last_period", "freq", "latest", "declared", "says"),
    [
        ("2024-06-01", "month", "2024-06-14", None, "the last month, 2024-06,"),
        ("2024-06-01", "month", "2024-06-23", None, ""),  # a week before the end: whole
        ("2024-06-01", "month", "2024-06-22", None, "the last month, 2024-06,"),
        ("2024-06-01", "month", "2024-06-14", "2024-06", ""),  # declared covered
        ("2024-04-01", "quarter", "2024-05-31", None, "the last quarter, 2024Q2,"),
        ("2024-04-01", "quarter", "2024-06-29", None, ""),
        ("2024-04-01", "quarter", "2024-08-02", None, ""),  # as of an earlier quarter
    ],
)
def test_a_last_period_the_files_end_early_in_is_called_partial(
    last_period, freq, latest, declared, says
):
    note = partial_period_note(pd.Timestamp(last_period), freq, pd.Timestamp(latest), declared)
    if not says:
        assert note == ""
    else:
        assert says in note and latest in note and "may hold only part of its events" in note


def test_no_note_without_a_dated_row():
    assert partial_period_note(pd.Timestamp("2024-06-01"), "month", None) == ""


def _study(tmp_path, end: str, last_day: str, *, freq: str = "month", extra: str = ""):
    """A study of ACLED-style rows in Kayes whose latest event is on ``last_day``."""
    rows = ["event_id_cnty,event_date,year,event_type,actor1,country,admin1,latitude,longitude,"
            "fatalities"]  # fmt: skip
    days = pd.date_range("2022-01-05", last_day, freq="9D").append(pd.DatetimeIndex([last_day]))
    for i, day in enumerate(days):
        rows.append(f"MLI{i},{day:%d %B %Y},{day.year},Battles,JNIM,Mali,Kayes,14.4,-11.4,{i % 3}")
    data = tmp_path / "events.csv"
    data.write_text("\n".join(rows) + "\n")
    path = tmp_path / "study.yaml"
    path.write_text(
        f"title: t\ndata: [{data}]\nsource: acled\ncountries: [Mali]\n"
        f"start: 2022-01\nend: {end}\nfreq: {freq}\n{extra}"
    )
    return path


def test_a_study_ending_past_its_data_is_refused_at_its_end_line(tmp_path):
    from analysis.config import load_study
    from analysis.pipeline import prepare

    path = _study(tmp_path, "2024-12", "2024-06-14")
    with pytest.raises(InputError) as info:
        prepare(load_study(path), use_cache=False)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.column) == (str(path), 6, "end")
    assert problem.found == "2024-12" and "2024-06-14" in problem.expected
    # a study that says its files reach further is taken at its word, with a partial note
    # only where the declared reach does not cover the last month
    declared = _study(tmp_path, "2024-12", "2024-06-14", extra="data_through: 2024-12\n")
    data = prepare(load_study(declared), use_cache=False)
    assert data.panel["period"].max() == pd.Timestamp("2024-12-01")
    assert data.partial_period_note() == ""


def test_a_study_ending_in_its_datas_last_month_gets_the_partial_note(tmp_path):
    from analysis.config import load_study
    from analysis.pipeline import prepare

    data = prepare(load_study(_study(tmp_path, "2024-06", "2024-06-14")), use_cache=False)
    assert data.latest_event == pd.Timestamp("2024-06-14")
    assert "the last month, 2024-06," in data.partial_period_note()
    # as of a quarter the files cover whole, nothing to say
    assert data.partial_period_note("2024Q1") == ""
    whole = prepare(load_study(_study(tmp_path, "2024-06", "2024-06-29")), use_cache=False)
    assert whole.partial_period_note() == ""


def test_the_forecast_command_warns_of_a_partial_last_month(tmp_path):
    from typer.testing import CliRunner

    from analysis.cli import app

    path = _study(tmp_path, "2024-06", "2024-06-14")
    result = CliRunner().invoke(app, ["growth", str(path), "--compare", "2023:2024-01..2024-06"])
    assert result.exit_code == 0, result.output
    assert "warning: The data files' latest event is on 2024-06-14" in result.stderr
    # only where the command reads the last month, and never before a refusal
    earlier = CliRunner().invoke(app, ["growth", str(path), "--compare", "2022:2023"])
    assert earlier.exit_code == 0 and "warning" not in earlier.stderr
    for origin, warned in (("2024-03", False), ("2024-06", True)):
        run = CliRunner().invoke(
            app, ["forecast", str(path), "--model", "zero", "--origin", origin, "--json"]
        )
        assert run.exit_code == 0, run.output
        assert ("warning: The data files' latest event" in run.stderr) is warned, origin
    refused = CliRunner().invoke(app, ["forecast", str(path), "--model", "zero", "--origin",
                                       "2024-09"])  # fmt: skip
    assert refused.exit_code == 2 and "warning" not in refused.stderr


def test_a_quarterly_forecast_takes_the_quarter_its_json_prints(tmp_path):
    import json

    from typer.testing import CliRunner

    from analysis.cli import app

    path = _study(tmp_path, "2024-06", "2024-06-29", freq="quarter")
    runs = {
        o: CliRunner().invoke(
            app, ["forecast", str(path), "--model", "zero", "--origin", o, "--json"]
        )  # fmt: skip
        for o in ("2023Q4", "2023-12", "2023-11")
    }
    assert json.loads(runs["2023Q4"].stdout)["origin"] == "2023Q4"
    assert runs["2023-12"].stdout == runs["2023Q4"].stdout
    assert runs["2023-11"].exit_code == 2 and "a quarter (2024Q1) or its last month" in (
        runs["2023-11"].output
    )


def test_a_declared_reach_the_files_contradict_is_a_problem_at_its_key():
    """`data_through: 2023-06` over files that run to 2024-12 had been ignored silently."""
    earliest, latest = pd.Timestamp("2018-01-10"), pd.Timestamp("2024-12-31")
    (through,) = declared_reach_problems(earliest, latest, None, "2023-06", "s.yaml")
    assert (through.file, through.column, through.found) == ("s.yaml", "data_through", "2023-06")
    assert "no earlier than 2024-12" in through.expected
    assert "the files hold events after 2023-06" in through.expected
    (since,) = declared_reach_problems(earliest, latest, "2019-06", None, "s.yaml")
    assert since.column == "data_from" and "no later than 2018-01" in since.expected
    # a reach that widens the files' (or names their own months) is what the keys are for
    assert declared_reach_problems(earliest, latest, "2018-01", "2024-12") == []
    assert declared_reach_problems(earliest, latest, "2017-01", "2025-06") == []
    # and window_problems reports it with the window's own
    both = window_problems("2018-01", "2024-12", earliest, latest, data_through="2023-06")
    assert [p.column for p in both] == ["data_through"]


def test_a_study_whose_data_through_is_before_its_latest_event_stops_at_that_line(tmp_path):
    from analysis.config import load_study
    from analysis.pipeline import prepare

    path = _study(tmp_path, "2024-06", "2024-06-14", extra="data_through: 2023-06\n")
    with pytest.raises(InputError) as info:
        prepare(load_study(path), use_cache=False)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.column) == (str(path), 8, "data_through")
    assert "2024-06-14" in problem.expected and problem.found == "2023-06"


def test_a_country_without_any_event_in_the_files_is_named():
    names = {"NER": "Niger", "MLI": "Mali"}
    note = uncovered_countries_note(["MLI", "NER"], {"MLI": "2018-01"}, names)
    assert note.startswith("The data files hold no event, of any actor, in Niger (NER)")
    assert "Mali" not in note
    assert uncovered_countries_note(["MLI"], {"MLI": "2018-01", "SEN": "2018-01"}) == ""


def test_the_commands_warn_of_a_study_country_the_files_hold_no_event_in(tmp_path):
    """Niger added to a study of Mali's events: `spillover` had said "NER 32%" without a
    word that the files hold no event there."""
    from typer.testing import CliRunner

    from analysis.cli import app
    from analysis.config import load_study
    from analysis.pipeline import prepare

    path = _study(tmp_path, "2024-06", "2024-06-29")
    path.write_text(path.read_text().replace("countries: [Mali]", "countries: [Mali, Niger]"))
    data = prepare(load_study(path), use_cache=False)
    assert "in Niger (NER)" in data.uncovered_note()
    result = CliRunner().invoke(app, ["growth", str(path), "--compare", "2023:2024-01..2024-06"])
    assert result.exit_code == 0, result.output
    assert "warning: The data files hold no event, of any actor, in Niger (NER)" in result.stderr
    assert "Mali" not in result.stderr
    covered = _study(tmp_path, "2024-06", "2024-06-29")
    plain = CliRunner().invoke(app, ["growth", str(covered), "--compare", "2023:2024-01..2024-06"])
    assert plain.exit_code == 0 and "warning" not in plain.stderr
