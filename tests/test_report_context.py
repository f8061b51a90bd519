"""Tests of analysis.report.context.growth: one growth table per study, shared by all reports."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest


@pytest.mark.slow
def test_study_growth_is_adjusted_once_and_shared(demo_study_path, monkeypatch, tmp_path):
    """The region report's rows are the overview's rows: same adjusted p-values, one BH family."""
    from statsmodels.stats.multitest import multipletests

    from analysis import growth as g
    from analysis.report import context, region_text

    monkeypatch.setenv(context.CACHE_ENV, str(tmp_path / "cache"))
    sg = context.growth(demo_study_path)
    ctx = context.load(demo_study_path)
    assert sg.comparisons == [("2021", "2024")]
    table = sg.table
    assert set(table["region_id"]) == set(ctx.data.panel["region_id"])
    # comparisons without an event in either window are not tests: out of the family
    tested = (table["count_a"] + table["count_b"] > 0).to_numpy()
    ratio_p = np.where(tested, table["p_value"].to_numpy(float), np.nan)
    pooled = np.r_[ratio_p, table["change_point_p_value"].to_numpy(float)]
    ok = np.isfinite(pooled)
    assert 0 < tested.sum() < len(table)
    assert (table["bh_family_size"] == ok.sum()).all() and ok.sum() > tested.sum()
    adjusted = multipletests(pooled[ok], method="fdr_bh")[1]
    np.testing.assert_allclose(table["p_value_bh"].to_numpy(float)[ok[: len(table)]],
                               adjusted[: ok[: len(table)].sum()])  # fmt: skip
    kayes = sg.region("ML-1")
    overview = sg.latest().set_index("region_id").loc["ML-1"]
    assert len(kayes) == 1
    assert kayes["p_value_bh"].iloc[0] == overview["p_value_bh"]
    assert kayes["change_point_p_bh"].iloc[0] == overview["change_point_p_bh"]
    # a single-region table would adjust over that region alone: a different (smaller) number
    alone = g.growth_table(ctx.data.panel, ["ML-1"], sg.comparisons)
    assert alone["p_value_bh"].iloc[0] < kayes["p_value_bh"].iloc[0]
    # the figures' results are the table's
    result = sg.results[("ML-1", "2021", "2024")]
    assert result.ratio.headline_low == kayes["headline_ci_low"].iloc[0]
    # the second call is served from memory
    assert context.growth(demo_study_path) is sg
    shown = region_text.growth_display(kayes)
    assert list(shown.columns) == list(region_text.GROWTH_COLUMNS.values())
    assert shown["95% CI low"].iloc[0] == pytest.approx(result.ratio.headline_low)
    assert shown["exact CI low (reference)"].iloc[0] == pytest.approx(result.ratio.ci_low)
    text = region_text.dependence_sentence(kayes, "Kayes")
    assert text.startswith("In Kayes, 2021 to 2024, the estimated month-to-month correlation is ")
    assert f"{result.ratio.own_lag:.2f}" in text


def test_study_results_are_keyed_by_data_bytes_version_and_quarter(
    demo_study_path, demo_dir, tmp_path, monkeypatch
):
    """An edited data file, another package version or quarter is a different entry."""
    import shutil

    import yaml

    from analysis import cache
    from analysis.report import context

    data = tmp_path / "events.csv"
    shutil.copy(demo_dir / "demo_acled.csv", data)
    raw = yaml.safe_load(demo_study_path.read_text())
    raw["data"] = [str(data)]
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(raw, sort_keys=False))
    key = context.study_key("results", study, "2024Q4")
    assert key.study == str(study.resolve()) and key.quarter == "2024Q4"
    assert key.data_sha256 == cache.data_sha256([data])
    assert context.study_key("results", study, "2024Q3") != key
    with open(data, "ab") as handle:  # one more byte in the data
        handle.write(b"\n")
    assert context.study_key("results", study, "2024Q4").data_sha256 != key.data_sha256
    monkeypatch.setattr(cache, "package_version", lambda: "0.0.0-other")
    assert context.study_key("results", study, "2024Q4").version != key.version


def test_an_edited_boundary_file_is_a_new_entry_and_reruns_the_reports(demo_study_path, tmp_path):
    """A study's own boundary file had been in neither the results' cache key nor the batch
    plan's inputs: a renamed unit stayed as it was, even with --force (unattended-job
    review)."""
    import shutil

    import yaml

    from analysis import geography
    from analysis.report import context, plan

    boundaries = tmp_path / "admin1.geojson"
    shipped = Path(geography.__file__).parent / "data" / geography.SHIPPED_ADMIN1
    shutil.copy(shipped, boundaries)
    raw = yaml.safe_load(demo_study_path.read_text())
    raw["boundaries"] = str(boundaries)
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(raw, sort_keys=False))
    key = context.study_key("results", study)
    items = plan.plan([study], tmp_path / "out", regions=["ML-1"])
    assert any(i["path"] == str(boundaries) for i in items[0].inputs)
    text = boundaries.read_text().replace('"Guidimaka"', '"Guidimakha"')
    assert text != boundaries.read_text()
    boundaries.write_text(text)
    context._STUDIES.clear()
    assert context.study_key("results", study).data_sha256 != key.data_sha256
    again = plan.plan([study], tmp_path / "out", regions=["ML-1"])
    assert [i.key for i in again] != [i.key for i in items]


def test_methods_backtest_extends_the_reports_evidence_run(demo_study_path, monkeypatch, tmp_path):
    """The appendix's backtest is the reports' evidence run (report model, spillover model,
    baselines: one number per model in both places) plus the appendix's other models on the
    same origins, steps, samples and seed; study-level, computed once, then memory or disk."""
    import pandas as pd

    from analysis import evaluation
    from analysis.report import context, methods_text

    monkeypatch.setenv(context.CACHE_ENV, str(tmp_path / "cache"))
    origins = tuple(pd.date_range("2022-01-01", periods=12, freq="3MS"))

    def result(names):
        frame = pd.DataFrame({"model": list(names), "crps": 1.0})
        return evaluation.BacktestResult(frame, tuple(names), dict.fromkeys(names, False),
                                         origins, 12, 200, 7)  # fmt: skip

    reports = ("auto", "spillover", *context.BASELINES)
    calls = []

    def fake_backtest(panel, models, **kwargs):
        calls.append(([m.name for m in models], kwargs))
        return result([m.name for m in models])

    monkeypatch.setattr(evaluation, "backtest", fake_backtest)
    monkeypatch.setattr(
        context,
        "results",
        lambda *a, **k: SimpleNamespace(backtest_all=result(reports), spillover_unscored=""),
    )
    context._METHODS.clear()
    first = context.methods_backtest(demo_study_path)
    assert sorted(first.models) == sorted(set(methods_text.METHOD_MODELS) | set(reports))
    assert first.models[: len(reports)] == reports  # the reports' run, unchanged
    ((names, kwargs),) = calls
    assert not set(names) & set(reports)
    assert (kwargs["start"], kwargs["horizon"], kwargs["n_samples"], kwargs["seed"]) == (
        origins[0],
        12,
        200,
        7,
    )
    assert kwargs["stride"] == context.EVIDENCE_STRIDE
    assert context.methods_backtest(demo_study_path).models == first.models  # memory
    context._METHODS.clear()
    assert context.methods_backtest(demo_study_path).models == first.models  # disk
    assert len(calls) == 1
    context._METHODS.clear()

    # a spillover model the evidence run could not fit is not tried again for the appendix
    without = tuple(m for m in reports if m != "spillover")
    monkeypatch.setattr(
        context, "results",
        lambda *a, **k: SimpleNamespace(backtest_all=result(without), spillover_unscored="x"),
    )  # fmt: skip
    monkeypatch.setenv(context.CACHE_ENV, str(tmp_path / "cache2"))
    assert "spillover" not in context.methods_backtest(demo_study_path).models
    assert "spillover" not in calls[-1][0]
    context._METHODS.clear()


def test_model_for_names_only_the_regions_group():
    from analysis.report.context import StudyResults

    plan = {"focus": ("a", "b", "b"), "other": ("c", "c", "c")}
    shared = StudyResults(
        forecast=None, risk=None, model="auto (full label)",
        evidence={}, backtest=None, plan=plan, plan_bounds=((0, 3), (3, 6), (6, 12)),
    )  # fmt: skip
    assert shared.model_for(True) == "auto (a at steps 1-3, b at steps 4-12)"
    assert shared.model_for(False) == "auto (c)"
    assert shared.switches_for(True) == [(4, "a", "b")] and shared.switches_for(False) == []
    bare = StudyResults(None, None, "sarimax", {}, None)
    assert bare.model_for(True) == "sarimax"  # no plan: the model's own label
    assert bare.plan_label(True) is None and bare.switches_for(False) == []


def test_study_region_takes_codes_and_names_and_says_what_a_bad_one_should_be(demo_study_path):
    """The region of a report, a notebook or its edited parameter: a code or a name of the
    study's countries; a typo or a unit of another country is an InputError naming the
    parameter, what was expected and the closest names, not a KeyError in a cell."""
    from analysis.config import load_study
    from analysis.errors import InputError
    from analysis.report.context import study_region

    study = load_study(demo_study_path)
    assert study_region(study, "") == study_region(study, None) == "ML-1"  # the focus
    assert study_region(study, "Kayes") == study_region(study, "ml-1") == "ML-1"
    assert study_region(study, "Kayes, Mali") == "ML-1"
    assert study_region(study, "Koulikoro") == "ML-2"
    with pytest.raises(InputError) as typo:
        study_region(study, "Kayse")
    message = str(typo.value)
    assert "parameter 'region'" in message and "(MLI, MRT, SEN)" in message
    assert "closest: Kayes (ML-1)" in message and "(found 'Kayse')" in message
    # a command names its option, never a "column"
    with pytest.raises(InputError) as option:
        study_region(study, "Kayse", option="--region")
    assert "option '--region'" in str(option.value) and "column" not in str(option.value)
    with pytest.raises(InputError) as outside:
        study_region(study, "Niamey")  # a real unit, of a country the study does not cover
    assert "region outside the study" in str(outside.value)
    assert "NE-8, in NER" in str(outside.value)


def test_study_region_of_a_study_without_focus_regions(demo_study_path):
    """focus is optional: a study without one took a region on the command line until the
    example in the message (the first focus region) raised an IndexError."""
    from analysis.config import load_study
    from analysis.errors import InputError
    from analysis.report.context import study_region

    study = load_study(demo_study_path).model_copy(update={"focus": []})
    assert study_region(study, "Kayes") == "ML-1"
    with pytest.raises(InputError) as typo:
        study_region(study, "Kayse")
    assert "closest: Kayes (ML-1)" in str(typo.value)
    with pytest.raises(InputError) as missing:
        study_region(study, "")
    assert "parameter 'region'" in str(missing.value)


def test_a_study_too_short_for_the_spillover_backtest_still_has_reports(
    tmp_path: Path, real_data_path: Path, monkeypatch
) -> None:
    """Togo's government events, 2002-2006, all but a few in the 2005 crisis: before it the
    spillover model is not identified at the evidence run's origins (a singular information
    matrix), which had failed every report of the study. The report model's evidence stands;
    the spillover model's is missing, with the reason, so its shares are withheld."""
    from analysis.report import context

    study = tmp_path / "togo.yaml"
    study.write_text(
        f"title: Togo 2002-2006\ndata: [{real_data_path}]\nsource: ucdp\n"
        'actors: ["Government of Togo"]\ncountries: [Togo]\nfocus: [Maritime]\n'
        "start: 2002-01\nend: 2006-12\nhorizon: 3\nseed: 1\n"
    )
    import warnings

    monkeypatch.setenv(context.CACHE_ENV, str(tmp_path / "cache"))  # computed, not read back
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shared = context.results(str(study), "")
    # the spillover model's choice simulates this near-singular fit: its counts had
    # overflowed the paths' integers (negative garbage scored as forecasts)
    assert not [w for w in caught if "invalid value encountered in cast" in str(w.message)]
    assert "information matrix is singular" in shared.spillover_unscored
    assert "spillover" not in shared.backtest.models and "auto" in shared.backtest.models
    assert "spillover" not in context.methods_backtest(str(study), "").models


def test_a_study_the_spillover_model_cannot_be_fitted_to_still_has_reports(
    tmp_path: Path, real_data_path: Path, monkeypatch
) -> None:
    """Boko Haram in Nigeria and Niger, 2014-2019 (an analyst's study): the spillover model's
    choice fits no candidate at every origin, and its variance step had met a NaN information
    and failed every report with "group_sd must be > 0". The reports go on with the report
    model's numbers, the shares withheld with the reason."""
    from analysis.report import context

    study = tmp_path / "boko_haram.yaml"
    study.write_text(
        f"title: Boko Haram north-east\ndata: [{real_data_path}]\nsource: ucdp\n"
        "actors: [Boko Haram]\ncountries: [Nigeria, Niger]\nfocus: [Borno]\n"
        "start: 2014-01\nend: 2020-12\nhorizon: 6\nseed: 20191231\n"
        "compare: [[2015, 2019]]\nspillover_targets: [Niger]\n"
    )
    monkeypatch.setenv(context.CACHE_ENV, str(tmp_path / "cache"))  # computed, not read back
    shared = context.results(str(study), "2019Q4")
    assert shared.spillover_unscored  # the reason the shares are withheld
    assert shared.scenarios is None and shared.spillover_parameters is None
    assert "spillover" not in shared.backtest.models and "auto" in shared.backtest.models
    assert "NG-BO" in shared.forecast.region_ids
