from __future__ import annotations

import json

import pytest

from analysis.config import load_study
from analysis.pipeline import prepare


def test_demo_study_panel_reproduces_the_simulated_counts(demo_study_path, demo_dir):
    study = load_study(demo_study_path)
    data = prepare(study, use_cache=False)
    truth = json.loads((demo_dir / "demo_truth.json").read_text())
    panel = data.panel
    kayes = panel[panel["region_id"] == "ML-1"]
    by_year = kayes.groupby(kayes["period"].dt.year)["events"].sum()
    assert {str(k): int(v) for k, v in by_year.items()} == truth["simulated_focus_counts_by_year"]
    # every unit of Mali, Mauritania and Senegal, every month of 2018-2024
    assert panel["region_id"].nunique() == 9 + 13 + 14
    assert len(panel) == 36 * 84
    # the actor filter keeps JNIM and drops the other simulated actors
    assert data.selection["actors"] < data.selection["ingested"]
    assert data.selection["in_panel"] == data.selection["window"]
    assert data.inputs[0]["sha256"] and data.inputs[0]["source"] == "acled"


def test_prepare_is_memoised_for_the_same_files(demo_study_path):
    study = load_study(demo_study_path)
    assert prepare(study) is prepare(study)


def test_prepare_reads_the_real_ucdp_file(real_data_path, tmp_path):
    path = tmp_path / "jnim.yaml"
    path.write_text(
        f"title: JNIM in Burkina Faso\ndata: [{real_data_path}]\nactors: [JNIM]\n"
        "countries: [Burkina Faso, Mali]\nstart: 2017-01\nend: 2020-12\n"
    )
    data = prepare(load_study(path), use_cache=False)
    by_year = data.panel.groupby(data.panel["period"].dt.year)["events"].sum().to_dict()
    # SOURCES.md: JNIM events Mali + Burkina Faso per year
    assert by_year == {2017: 66, 2018: 116, 2019: 201, 2020: 163}
    # no ACLED row, so no ACLED step in the data table's accounting
    assert "acled_violence" not in data.selection


def test_prepare_reports_bad_data_file(tmp_path):
    from analysis.errors import InputError

    bad = tmp_path / "bad.csv"
    bad.write_text("id,year,type_of_violence,side_a,side_b,country,adm_1,latitude,longitude,"
                   "date_start,date_end,best,low,high\n1,2020,1,A,B,Mali,Kayes,95,1,2020-01-01,"
                   "2020-01-01,1,1,1\n")  # fmt: skip
    path = tmp_path / "s.yaml"
    path.write_text(f"title: t\ndata: [{bad}]\ncountries: [Mali]\nstart: 2020-01\nend: 2020-12\n")
    with pytest.raises(InputError) as info:
        prepare(load_study(path), use_cache=False)
    assert "latitude" in str(info.value) and "line 2" in str(info.value)


def _variant(demo_study_path, tmp_path, **changes):
    import yaml

    raw = yaml.safe_load(demo_study_path.read_text())
    raw.update(changes)
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_a_filter_that_selects_nothing_is_named_with_the_closest_actors(demo_study_path, tmp_path):
    from typer.testing import CliRunner

    from analysis.cli import app
    from analysis.errors import InputError

    path = _variant(demo_study_path, tmp_path, actors=["JNIMM"])
    with pytest.raises(InputError) as info:
        prepare(load_study(path), use_cache=False)
    text = info.value.render()
    assert "selects no event" in text and "'actors'" in text
    assert "closest actor names in the data: JNIM" in text
    result = CliRunner().invoke(app, ["forecast", str(path), "--json"])
    assert result.exit_code == 2 and "closest actor names" in result.output
    # a window before or after the data is refused on its start or end: it selects nothing
    # the files could have held
    earlier = _variant(demo_study_path, tmp_path, start="2010-01", end="2010-12")
    with pytest.raises(InputError, match="runs outside the data") as info:
        prepare(load_study(earlier), use_cache=False)
    (problem,) = info.value.problems
    assert problem.column == "start" and problem.expected.startswith(
        "a month from 2018-01 on, the month of the data files' earliest event (2018-01-10)"
    )
    later = _variant(demo_study_path, tmp_path, start="2030-01", end="2030-12")
    with pytest.raises(InputError, match="runs outside the data"):
        prepare(load_study(later), use_cache=False)
    # declared, an earlier reach is taken at its word: the filter then selects nothing
    declared = _variant(
        demo_study_path, tmp_path, start="2010-01", end="2010-12", data_from="2010-01"
    )
    with pytest.raises(InputError, match="start/end"):
        prepare(load_study(declared), use_cache=False)


def test_too_short_a_history_is_refused_with_what_it_needs(demo_study_path, tmp_path):
    from analysis.errors import InputError
    from analysis.pipeline import forecast_history_needed, require_history

    need = forecast_history_needed(load_study(demo_study_path).horizon)
    assert need >= 12
    path = _variant(demo_study_path, tmp_path, start="2024-10", end="2024-12")
    study = load_study(path)
    data = prepare(study, use_cache=False)
    with pytest.raises(InputError) as info:
        require_history(data.panel, study)
    assert f"at least {need} months" in info.value.render()
    assert "3 months (2024-10 to 2024-12)" in info.value.render()
    require_history(prepare(load_study(demo_study_path)).panel, load_study(demo_study_path))


def test_an_origin_outside_the_data_is_refused_naming_the_last_period(demo_study_path, tmp_path):
    import pandas as pd

    from analysis.errors import InputError
    from analysis.pipeline import check_origin

    study = load_study(demo_study_path)
    panel = prepare(study).panel
    assert check_origin(panel, study, None) is None
    assert check_origin(panel, study, pd.Timestamp("2024-12-01")) == pd.Timestamp("2024-12-01")
    for month, expected in (
        ("2025-01", "a month up to the data's last period, 2024-12"),
        ("2030-01", "a month up to the data's last period, 2024-12"),
        ("2017-12", "a month from the data's first period, 2018-01, on"),
    ):
        with pytest.raises(InputError) as info:
            check_origin(panel, study, pd.Timestamp(month))
        (problem,) = info.value.problems
        assert problem.column == "--origin" and problem.found == month
        assert problem.expected.startswith(expected)
    # a quarterly study's last period ends with its last month
    quarterly = load_study(_variant(demo_study_path, tmp_path, freq="quarter"))
    panel = prepare(quarterly).panel
    assert check_origin(panel, quarterly, pd.Timestamp("2024-12-01")) is not None
    with pytest.raises(InputError, match="last period, 2024Q4"):
        check_origin(panel, quarterly, pd.Timestamp("2025-01-01"))


def test_the_history_rule_applies_to_the_history_up_to_the_origin(demo_study_path):
    import pandas as pd

    from analysis.errors import InputError
    from analysis.pipeline import forecast_history_needed, require_history

    study = load_study(demo_study_path)
    panel = prepare(study).panel
    need = forecast_history_needed(study.horizon)
    earliest = pd.Timestamp("2018-01-01") + pd.DateOffset(months=need - 1)
    require_history(panel, study, origin=earliest)
    with pytest.raises(InputError) as info:
        require_history(panel, study, origin=earliest - pd.DateOffset(months=1))
    (problem,) = info.value.problems
    assert problem.column == "--origin"
    assert f"at least {need} months of history up to the origin" in problem.expected
    assert f"an origin from {earliest:%Y-%m} on" in problem.expected
    assert problem.found == f"{earliest - pd.DateOffset(months=1):%Y-%m}: {need - 1} months " \
        "of history (from 2018-01)"  # fmt: skip
    with pytest.raises(InputError, match="--origin"):
        require_history(panel, study, origin=pd.Timestamp("2018-06-01"))


def test_a_country_is_covered_from_its_sources_first_event_not_its_own():
    import pandas as pd

    from analysis.pipeline import _coverage

    events = pd.DataFrame(
        {
            "source": ["ucdp", "ucdp", "acled", "acled", "acled", "ucdp"],
            "iso3": ["MLI", "BFA", "SEN", "SEN", "MRT", None],
            "date_start": pd.to_datetime(
                ["2012-03-05", "2016-01-20", "2019-07-01", "2018-02-11", "2021-05-30", "1990-01-01"]
            ),
        }
    )
    # Burkina Faso's quiet years before its first event are covered (UCDP from 2012-03 here:
    # the row without a country is left out), as are Mauritania's before 2021 (ACLED, 2018-02)
    assert _coverage(events) == {
        "BFA": "2012-03",
        "MLI": "2012-03",
        "MRT": "2018-02",
        "SEN": "2018-02",
    }
    # a country two sources report is covered from the earlier
    both = pd.concat([events, events.iloc[[0]].assign(iso3="SEN")], ignore_index=True)
    assert _coverage(both)["SEN"] == "2012-03"
    assert _coverage(events.iloc[:0]) == {}


def test_the_onset_reference_covers_every_country_of_the_files(demo_study_path):
    from analysis.pipeline import onset_reference, study_model

    data = prepare(load_study(demo_study_path))
    ref = onset_reference(data)
    assert ref.countries == sorted(data.coverage) == ["MLI", "MRT", "SEN"]
    # Senegal's first event (any actor) is in 2020, but it is covered from the file's start
    assert set(data.coverage.values()) == {"2018-01"} and not ref.covered_from.any()
    assert ref.periods[-1] == data.panel["period"].max()
    # the study's own units, and the study's selection (JNIM only) in each of them
    assert set(data.panel["region_id"]) <= set(ref.region_ids)
    first = ref.periods.get_loc(data.panel["period"].min())
    kayes = ref.region_ids.index("ML-1")
    own = data.panel[data.panel["region_id"] == "ML-1"]["events"].to_numpy()
    assert ref.counts[kayes, first:].tolist() == own.tolist()
    assert onset_reference(data) is ref
    assert study_model("auto", data, 12).onset_reference is ref
    assert not hasattr(study_model("zero", data, 12), "onset_reference")


def test_a_study_country_without_events_in_the_files_is_in_the_onset_reference(
    real_data_path, tmp_path
):
    """UCDP GED holds no event in Benin: a Burkina Faso and Benin study still has every one of
    its units in the onset reference, covered from the file's first month."""
    from analysis.models.onset_forecast import onset_forecast
    from analysis.pipeline import onset_reference

    path = tmp_path / "spread.yaml"
    path.write_text(
        f"title: Burkina Faso into Benin\ndata: [{real_data_path}]\n"
        "countries: [Burkina Faso, Benin]\nstart: 2014-01\nend: 2020-12\n"
    )
    data = prepare(load_study(path), use_cache=False)
    assert "BEN" not in data.coverage
    ref = onset_reference(data)
    assert "BEN" in ref.countries and set(data.panel["region_id"]) <= set(ref.region_ids)
    benin = ref.geography.countries == "BEN"
    assert not ref.covered_from[benin].any()
    fc = onset_forecast(data.panel, 12, 12, boundaries=data.boundaries, reference=ref)
    assert fc.trained_on["units"] == ref.n_units
    assert fc.units["country"].eq("BEN").sum() == int(benin.sum())


def test_the_history_rule_follows_the_horizon_asked_for(demo_study_path):
    """A 3-step forecast needs 3 observed periods after each inner origin, not the study's 12."""
    import pandas as pd

    from analysis.errors import InputError
    from analysis.pipeline import forecast_history_needed, require_history

    study = load_study(demo_study_path)
    panel = prepare(study).panel
    short = forecast_history_needed(3)
    assert short == forecast_history_needed(study.horizon) - (study.horizon - 3)
    origin = pd.Timestamp("2018-01-01") + pd.DateOffset(months=short - 1)
    require_history(panel, study, origin=origin, horizon=3)
    with pytest.raises(InputError, match="--origin"):
        require_history(panel, study, origin=origin)


def test_too_short_a_history_as_of_a_quarter_names_the_periods_the_report_sees(demo_study_path):
    """As of 2019Q1 the demo study's report sees 15 months; the message said they ran from
    2018-01 to 2024-12 (the study's window), contradicting the count."""
    from analysis.as_of import panel_as_of
    from analysis.config import load_study
    from analysis.errors import InputError
    from analysis.pipeline import prepare, require_history

    study = load_study(demo_study_path)
    panel = panel_as_of(prepare(study).panel, "2019Q1")
    with pytest.raises(InputError) as error:
        require_history(panel, study, "the reports' forecasts")
    assert "15 months (2018-01 to 2019-03, up to the report's as-of quarter)" in str(error.value)


def test_a_misspelt_alias_is_offered_the_alias_first():
    """ "Boko Harm" had been offered "Torma; Birom; Kounta" from the data's names, never the
    built-in alias it misspelt."""
    import pandas as pd

    from analysis.pipeline import closest_actors

    events = pd.DataFrame({"actor1": ["Torma", "Birom", "Kounta"], "actor2": ["JAS", None, None]})
    close = closest_actors(events, ["Boko Harm"])
    assert close[0] == "Boko Haram (a built-in alias)"
    assert "Boko Haram (a built-in alias)" not in closest_actors(events, ["Kounta"])


def test_acled_strategic_developments_and_protests_are_not_counted_unless_asked(
    demo_study_path, demo_dir, tmp_path
):
    """ACLED records looting, arrests and protests beside attacks: a study that names no event
    types counts ACLED's political violence, and says how many rows that left out."""
    import pandas as pd
    import yaml

    from analysis.report.region_text import data_summary

    raw = pd.read_csv(demo_dir / "demo_acled.csv", dtype=str, keep_default_na=False)
    kayes = raw[(raw["admin1"] == "Kayes") & raw["actor1"].str.startswith("JNIM")].head(7)
    other = kayes.assign(
        event_id_cnty=[f"MLI9{i:04d}" for i in range(len(kayes))],
        event_type=["Strategic developments"] * 5 + ["Protests"] * 2,
        sub_event_type=["Looting/property destruction"] * 5 + ["Peaceful protest"] * 2,
        disorder_type=["Strategic developments"] * 5 + ["Demonstrations"] * 2,
    )
    data = tmp_path / "with_other_types.csv"
    pd.concat([raw, other]).to_csv(data, index=False)
    base = yaml.safe_load(demo_study_path.read_text())
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({**base, "data": [str(data)]}, sort_keys=False))
    before = prepare(load_study(demo_study_path), use_cache=False)
    after = prepare(load_study(study), use_cache=False)
    assert after.panel["events"].sum() == before.panel["events"].sum()
    selection = after.selection
    assert selection["actors"] - selection["acled_violence"] == 7
    table = data_summary(after.events, after.panel, "ML-1", after.inputs, selection=selection)
    row = table[table["item"].str.startswith("Left out: ACLED events other than")]
    assert row["value"].tolist() == ["7"]
    # named, they are counted: five more events, all in Kayes
    asked = tmp_path / "asked.yaml"
    asked.write_text(
        yaml.safe_dump(
            {**base, "data": [str(data)], "event_types": ["Strategic developments"]},
            sort_keys=False,
        )
    )
    chosen = prepare(load_study(asked), use_cache=False)
    assert chosen.panel["events"].sum() == 5
    assert set(chosen.panel.loc[chosen.panel["events"] > 0, "region_id"]) == {"ML-1"}


def test_acled_names_of_the_islamic_state_groups_match_their_aliases():
    import pandas as pd

    from analysis.events import filter_events

    names = [
        "Islamic State (Sahel)",
        "Islamic State (Greater Sahara)",
        "Islamic State (West Africa)",
    ]
    events = pd.DataFrame(
        {
            "actor1": pd.array(names + ["JNIM: Group for Support of Islam and Muslims"],
                               dtype="string[pyarrow]"),
            "event_type": pd.array(["Battles"] * 4, dtype="string[pyarrow]"),
        }
    )  # fmt: skip
    assert filter_events(events, actors=["ISSP"])["actor1"].tolist() == names[:2]
    assert filter_events(events, actors=["ISWAP"])["actor1"].tolist() == names[2:]
