"""Tests of the spillover layer: panel fit on real geography, probabilities, scenarios,
forecaster registration, JSON and the ``spillover`` command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.models import hhh4 as H
from analysis.models.spillover import (
    fit_spillover,
    fit_spillover_matrix,
    geography_matrices,
    result_to_dict,
    spillover_forecast,
)
from analysis.panel import from_matrix
from analysis.simulate import simulate_demo

COUNTRIES = ["MLI", "MRT", "SEN"]


@pytest.fixture(scope="module")
def geo(boundaries):
    ids = list(boundaries.regions_of(COUNTRIES)["region_id"])
    order, cross, countries = geography_matrices(ids, boundaries)
    return ids, order, cross, countries


@pytest.fixture(scope="module")
def synthetic(geo, boundaries):
    """A panel on the real Mali/Mauritania/Senegal units from known parameters: a hot Kayes
    (ML-1), a quiet rest, strong neighbour transmission."""
    ids, order, cross, _ = geo
    levels = {rid: -2.0 for rid in ids}
    levels["ML-1"] = 2.0
    truth = {
        "end.intercept": np.log(0.2),
        "end.trend": 0.0,
        "ar.log_lambda": np.log(0.3),
        "ne.log_phi": np.log(0.4),
        "ne.cross_border": -0.3,
        "ne.log_d": np.log(2.0),
        "log_psi": np.log(0.4),
        **{f"end.group[{rid}]": lv for rid, lv in levels.items()},
    }
    y = H.simulate_hhh4(
        truth, order, cross, n_periods=96, groups=np.asarray(ids),
        spec=H.HHH4Spec(group_sd=1.0), seed=12,
    )  # fmt: skip
    periods = pd.date_range("2017-01-01", periods=96, freq="MS")
    panel = from_matrix(y, ids, periods, "month", boundaries)
    return panel, truth


@pytest.fixture(scope="module")
def fitted(synthetic, boundaries):
    panel, _ = synthetic
    return fit_spillover(panel, boundaries=boundaries, endemic_effects="region")


def test_fit_on_real_geography_recovers_transmission(fitted, synthetic):
    _, truth = synthetic
    fit = fitted.fit
    est = dict(zip(fit.names, fit.params, strict=True))
    se = dict(zip(fit.names, fit.se, strict=True))
    for name in ("ar.log_lambda", "ne.log_phi", "log_psi"):
        assert abs(est[name] - truth[name]) < 4 * se[name], (name, est[name], truth[name])
    assert fitted.origin == pd.Timestamp("2024-12-01")
    assert len(fitted.region_ids) == 36


def test_probabilities_intervals_and_aggregation(fitted):
    res = spillover_forecast(fitted, 6, n_draws=60, n_paths=80, seed=3)
    reg, ctry = res.regions, res.countries
    assert len(reg) == 36 and set(ctry["country"]) == set(COUNTRIES)
    assert ((reg["p_any"] >= 0) & (reg["p_any"] <= 1)).all()
    assert (reg["p_any_low"] <= reg["p_any"] + 1e-12).all()
    assert (reg["p_any"] <= reg["p_any_high"] + 1e-12).all()
    # A country's P(any unit) is at least that of its likeliest unit.
    for c in ctry.itertuples():
        assert c.p_any >= reg.loc[reg["country"] == c.country, "p_any"].max() - 1e-12
    parts = reg[["endemic", "own", "neighbour"]].sum(axis=1)
    # Expected counts: the mean of simulated totals agrees with the sum of the parts.
    np.testing.assert_allclose(reg["expected"], parts, rtol=0.25, atol=0.05)
    assert reg["share_neighbour"].between(0, 1).all()
    # The hot focus has the highest probability.
    assert reg.set_index("region_id")["p_any"].idxmax() == "ML-1"
    assert res.periods[0] == pd.Timestamp("2025-01-01") and len(res.periods) == 6


def test_longer_horizon_never_lowers_probability(fitted):
    """Paths share random numbers for their first steps, so P(any within h) is monotone."""
    short = spillover_forecast(fitted, 2, n_draws=30, n_paths=50, seed=9).regions["p_any"]
    long = spillover_forecast(fitted, 5, n_draws=30, n_paths=50, seed=9).regions["p_any"]
    assert (long.to_numpy() >= short.to_numpy() - 1e-12).all()


def test_silencing_the_focus_lowers_neighbour_risk(fitted, boundaries):
    from analysis.geography import neighbours
    from analysis.models.spillover_scenarios import contrast_to_dict, focus_scenarios

    res = focus_scenarios(fitted, 6, ["ML-1"], n_draws=60, n_paths=80, seed=4)
    reg = res.regions.set_index("region_id")
    assert reg.loc["ML-1", "p_any_silenced"] == 0.0
    assert reg.loc["ML-1", "is_focus"]
    first = neighbours("ML-1", 1, boundaries=boundaries)
    near = [r for r in first if r in reg.index]
    att = reg.loc[near, "p_any_diff"]
    assert (att > 0).all()
    assert att.mean() > 0.05
    # far-away units (order >= 4) are barely affected
    far = [r for r in reg.index if r not in first and r != "ML-1" and r.startswith("SN-")]
    assert reg.loc[far, "p_any_diff"].abs().mean() < att.mean()
    # the JSON carries the shares only, each with its interval, and no unit is the focus
    out = json.loads(json.dumps(contrast_to_dict(res)))
    assert out["focus"] == ["ML-1"] and out["level"] == 0.9
    assert {r["region_id"] for r in out["regions"]} == set(reg.index) - {"ML-1"}
    row = next(r for r in out["regions"] if r["region_id"] == near[0])
    assert set(row) == {"region_id", "region_name", "country", "expected_share",
                        "expected_share_ci", "p_any_share", "p_any_share_ci"}  # fmt: skip
    assert row["p_any_share"] == pytest.approx(reg.loc[near[0], "p_any_share"])
    lo, hi = row["p_any_share_ci"]
    assert lo <= row["p_any_share"] <= hi
    assert {c["country"] for c in out["countries"]} == set(res.countries["country"])
    # what the reports would need before quoting them, said where the JSON gives them
    assert "not a forecast" in out["caveat"] and "ahead of the best baseline" in out["caveat"]


def test_json_has_the_issue_keys(fitted):
    res = spillover_forecast(fitted, 3, focus=["ML-1"], n_draws=20, n_paths=20, seed=1)
    out = json.loads(json.dumps(result_to_dict(res, fitted)))
    assert set(out["targets"][0]) == {
        "region_id", "region_name", "country", "p_any", "p_any_ci", "p_any_ci_mc_error",
        "expected", "expected_median", "expected_ci_90", "expected_mean_ci", "share_neighbour",
        "share_neighbour_ci",
    }  # fmt: skip
    assert {"p_any_ci_max", "p_any_max", "target", "met"} <= set(out["mc_error"])
    assert set(out["countries"][0]) == {"country", "p_any", "p_any_ci"}
    names = {p["name"] for p in out["parameters"]}
    assert {"lambda", "phi", "d", "psi", "cross_border_multiplier"} <= names
    assert "scenarios" not in out  # the focus contrast is spillover_scenarios'


def test_path_noise_is_removed_from_the_spread_across_draws():
    """Per-draw probabilities are means of a few paths: their spread across draws is the
    parameter spread plus binomial noise. After denoising it is the parameter spread again."""
    from analysis.models.spillover import _denoise

    rng = np.random.default_rng(0)
    true_p = rng.beta(4.0, 6.0, size=(4000, 3)) * np.array([1.0, 0.5, 0.1])
    noisy = rng.binomial(30, true_p) / 30
    clean = _denoise(noisy, 30)
    assert noisy.std(axis=0).min() > 1.1 * true_p.std(axis=0).min()
    np.testing.assert_allclose(clean.std(axis=0)[:2], true_p.std(axis=0)[:2], rtol=0.06)
    # where the noise is 2.5 times the signal the moment estimate is rougher, but close
    assert clean.std(axis=0)[2] == pytest.approx(true_p.std(axis=0)[2], rel=0.2)
    np.testing.assert_allclose(clean.mean(axis=0), noisy.mean(axis=0))


def test_monte_carlo_error_of_interval_limits_matches_the_quantile_formula():
    """Bootstrap standard error of the 2.5% and 97.5% limits vs the asymptotic
    sqrt(a (1 - a) / M) / density(quantile) for normal per-draw values."""
    from scipy import stats

    from analysis.models.spillover import _mc_error

    rng = np.random.default_rng(1)
    m, sd = 2000, 0.1
    draws = rng.normal(0.5, sd, size=(m, 2))
    got = _mc_error(draws, 0.95, rng, n_boot=400)
    a = 0.025
    expected = np.sqrt(a * (1 - a) / m) * sd / stats.norm.pdf(stats.norm.ppf(a))
    np.testing.assert_allclose(got, expected, rtol=0.3)


def test_draws_are_added_until_the_limits_are_precise_enough(fitted):
    res = spillover_forecast(fitted, 3, n_paths=20, seed=2, mc_target=0.03, max_draws=1500)
    err = res.mc_error
    assert err["met"] == (err["p_any_ci_max"] < 0.03)
    assert err["met"] or res.n_draws == 1500
    assert res.n_draws >= 400
    assert res.regions["p_any_ci_mc_error"].max() <= err["p_any_ci_max"] + 1e-12
    fixed = spillover_forecast(fitted, 3, n_draws=50, n_paths=20, seed=2)
    assert fixed.n_draws == 50 and fixed.mc_error["p_any_ci_max"] > err["p_any_ci_max"]


def test_registered_as_forecaster(synthetic, boundaries):
    from analysis.models.forecast import forecast
    from analysis.models.registry import get

    panel, _ = synthetic
    f = get("spillover", boundaries=boundaries)
    assert f.name == "spillover" and not f.is_baseline and f.boundaries is boundaries
    res = forecast(f, panel, origin="2024-06", horizon=3, n_samples=400, seed=2)
    assert res.samples.shape == (36, 3, 400)
    assert res.origin == pd.Timestamp("2024-06-01")
    assert res.model == "spillover"
    # one-step predictive mean close to the fitted conditional mean (parameter draws add noise)
    fitted = fit_spillover(panel, origin="2024-06", endemic_effects="country")
    sim = H.simulate_forward(
        fitted.fit, fitted.recent_counts, 1, n_draws=4, n_paths=2000, uncertainty=False
    )
    mu = (sim.endemic + sim.own + sim.neighbour)[0, 0]
    assert res.samples[:, 0].mean(axis=1).sum() == pytest.approx(mu.sum(), rel=0.15)


def test_bad_inputs(fitted, synthetic):
    with pytest.raises(InputError, match="focus"):
        spillover_forecast(fitted, 3, focus=["XX-1"])
    with pytest.raises(InputError):
        spillover_forecast(fitted, 3, level=1.5)
    panel, _ = synthetic
    with pytest.raises(InputError, match="origin"):
        fit_spillover(panel, origin="1990-01")
    with pytest.raises(InputError):
        fit_spillover(panel.drop(columns="country"))


def test_spillover_command_json(demo_dir, tmp_path):
    from typer.testing import CliRunner

    from analysis.cli import app

    study = tmp_path / "demo.yaml"
    study.write_text(
        "title: demo\n"
        f"data: [{demo_dir / 'demo_acled.csv'}]\n"
        "source: acled\nactors: [JNIM]\ncountries: [Mali, Mauritania, Senegal]\n"
        "focus: [Kayes]\nstart: 2018-01\nend: 2024-12\nfreq: month\nhorizon: 12\n"
        "spillover_targets: [Mauritania, Senegal]\nseed: 7\n"
    )
    result = CliRunner().invoke(
        app,
        ["spillover", str(study), "--origin", "2024-06", "--horizon", "3", "--json",
         "--draws", "20", "--paths", "20", "--timings"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["origin"] == "2024-06" and out["horizon"] == 3
    assert len(out["targets"]) == 36  # every admin-1 unit of Mali, Mauritania and Senegal
    assert {c["country"] for c in out["countries"]} == set(COUNTRIES)
    assert out["scenarios"]["focus"] == ["ML-1"]
    # the contrast's units named as the panel names them, as in targets
    names = {t["region_id"]: t["region_name"] for t in out["targets"]}
    assert all(r["region_name"] == names[r["region_id"]] for r in out["scenarios"]["regions"])
    assert names["MR-10"] == "Guidimaka"
    # the report model's paths as many as the reports draw, whatever --draws x --paths (400
    # here) gives the spillover model: it had been 1,000-4,000, and P(>=1) differed
    from analysis.report.context import FORECAST_SAMPLES

    assert out["forecast_model"]["samples"] == FORECAST_SAMPLES
    chosen = out["model"]["selection"]
    assert (out["model"]["endemic_effects"], out["model"]["trend_damping"]) == (
        chosen["endemic_effects"], chosen["trend_damping"],
    )  # fmt: skip
    assert chosen["trend_damping"] < 1.0
    # stage timings in the JSON; no progress bar when stderr is not a terminal
    timings = out["timings"]
    assert {"data", "fit", "intervals", "onset", "total"} <= set(timings)
    assert timings["total"] == pytest.approx(
        sum(v for k, v in timings.items() if k != "total"), abs=0.01
    )
    assert result.stderr == ""
    bad = CliRunner().invoke(app, ["spillover", str(study), "--origin", "2024-13"])
    assert bad.exit_code == 2


def test_spillover_command_refuses_an_origin_after_the_data(demo_study_path):
    """It used to cut at the last period silently, as if the origin had been 2024-12."""
    from typer.testing import CliRunner

    from analysis.cli import app

    result = CliRunner().invoke(
        app, ["spillover", str(demo_study_path), "--origin", "2030-01", "--model", "spillover",
              "--draws", "10", "--paths", "10", "--json"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "option '--origin': expected a month up to the data's last period, 2024-12" in (
        result.output
    )
    assert "(found '2030-01')" in result.output


@pytest.mark.real_data
def test_real_data_fit(real_data_path, boundaries):
    d = pd.read_csv(real_data_path, usecols=["adm1_iso", "date_start"])
    from analysis.panel import build_panel

    events = pd.DataFrame(
        {"region_id": d["adm1_iso"], "date_start": pd.to_datetime(d["date_start"]),
         "fatalities": 0.0}
    )  # fmt: skip
    panel = build_panel(events, boundaries, ["MLI", "BFA", "NER"], "2008-01", "2016-12")
    model = fit_spillover(panel, boundaries=boundaries, profile=False)
    res = spillover_forecast(model, 12, n_draws=40, n_paths=40, seed=1)
    reg = res.regions.set_index("region_id")
    assert np.isfinite(model.fit.loglik)
    # Northern Mali (Kidal, Gao) was far likelier to see events in 2017 than Burkina's Cascades.
    assert reg.loc["ML-8", "p_any"] > 0.9 and reg.loc["ML-7", "p_any"] > 0.8
    assert reg.loc["BF-02", "p_any"] < 0.5


def test_focus_trend_on_the_demo_follows_the_kayes_surge(geo):
    """Demo truth: Kayes' endemic level grows by log(7)/3 per year, the rest is flat. With its
    own trend the fitted slope covers the truth and the 2025 forecast continues the surge (the
    shared-trend fit forecast about 30 events against about 140 under the truth)."""
    ids, order, cross, countries = geo
    demo = simulate_demo()
    assert demo.region_ids == ids
    model = fit_spillover_matrix(
        demo.counts, ids, demo.periods, order, cross, countries, focus_trend=["ML-1"]
    )
    fit = model.fit
    i = fit.names.index("end.focus_trend")
    lo, hi = fit.conf_int()[i]
    assert lo <= np.log(7.0) / 3 <= hi, (lo, hi)
    assert fit.trend_mask.tolist() == [r == "ML-1" for r in ids]
    res = spillover_forecast(model, 12, focus=["ML-1"], n_draws=30, n_paths=40, seed=1)
    kayes = res.regions.set_index("region_id").loc["ML-1"]
    last_year = demo.counts[ids.index("ML-1"), demo.periods.year == 2024].sum()
    assert kayes["expected"] > 1.5 * last_year, (kayes["expected"], last_year)
    out = result_to_dict(res, model)
    assert out["model"]["focus_trend"] == ["ML-1"]
    assert "end.focus_trend" in {p["name"] for p in out["parameters"]}
    with pytest.raises(InputError, match="focus_trend"):
        fit_spillover_matrix(
            demo.counts, ids, demo.periods, order, cross, countries, focus_trend=["XX-9"]
        )


@pytest.mark.parametrize(
    ("options", "need", "earliest"),
    [
        # the reports' model (auto) chooses on 36 months before origins 12 months apart
        ([], 48, "2021-12"),
        # the spillover model's own cross-validated options: two years, then 12 steps
        (["--model", "spillover"], 37, "2021-01"),
    ],
)
def test_spillover_command_applies_the_history_rule_before_fitting(
    demo_study_path, options, need, earliest
):
    """An early origin used to fail inside the cross-validation, naming neither the option
    nor the first origin that would do."""
    from typer.testing import CliRunner

    from analysis.cli import app

    result = CliRunner().invoke(
        app, ["spillover", str(demo_study_path), "--origin", "2019-06", "--json", *options]
    )
    assert result.exit_code == 2, result.output
    assert "option '--origin'" in result.output
    assert f"at least {need} months of history up to the origin" in result.output
    assert f"an origin from {earliest} on" in result.output


def test_quarterly_json_and_sentence_label_the_periods_as_quarters(synthetic, boundaries):
    """A quarterly study's spillover JSON gave its origin, periods and fitted window as the
    quarters' first months ("origin": "2020-10" for 2020Q4); the monthly JSON is unchanged
    (test_spillover_command_json pins its origin)."""
    from analysis.panel import to_matrix

    panel, _ = synthetic
    counts, ids, months = to_matrix(panel)
    quarters = pd.date_range("1997-01-01", periods=len(months), freq="QS")  # to 2020Q4
    quarterly = from_matrix(counts, ids, quarters, "quarter", boundaries)
    model = fit_spillover(quarterly, boundaries=boundaries, endemic_effects="country")
    res = spillover_forecast(model, 2, focus=["ML-1"], n_draws=20, n_paths=20, seed=1)
    out = json.loads(json.dumps(result_to_dict(res, model)))
    assert out["origin"] == "2020Q4" and out["periods"] == ["2021Q1", "2021Q2"]
    assert (out["model"]["fitted_from"], out["model"]["fitted_to"]) == ("1997Q1", "2020Q4")
    assert "within 2 periods after 2020Q4: " in res.sentence(COUNTRIES, "quarter")
    # a monthly fit as before
    monthly = fit_spillover(panel, boundaries=boundaries, endemic_effects="country")
    res = spillover_forecast(monthly, 2, focus=["ML-1"], n_draws=20, n_paths=20, seed=1)
    out = result_to_dict(res, monthly)
    assert out["origin"] == "2024-12" and out["periods"] == ["2025-01", "2025-02"]
    assert (out["model"]["fitted_from"], out["model"]["fitted_to"]) == ("2017-01", "2024-12")
    assert "within 2 periods after 2024-12: " in res.sentence(COUNTRIES)


def test_spillover_command_labels_a_quarterly_studys_periods(demo_study_path, tmp_path):
    """The command's JSON and sentences for a quarterly study: the origin, the periods, the
    fitted window and the onset block's origin as quarters (they read "2024-04" for 2024Q2)."""
    import yaml
    from typer.testing import CliRunner

    from analysis.cli import app

    raw = yaml.safe_load(demo_study_path.read_text())
    study = tmp_path / "quarterly.yaml"
    study.write_text(yaml.safe_dump({**raw, "freq": "quarter", "horizon": 2}, sort_keys=False))
    args = ["spillover", str(study), "--origin", "2024-06", "--model", "spillover",
            "--endemic", "country", "--damping", "0.9", "--draws", "20",
            "--paths", "20"]  # fmt: skip
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["origin"] == "2024Q2" and out["periods"] == ["2024Q3", "2024Q4"]
    assert (out["model"]["fitted_from"], out["model"]["fitted_to"]) == ("2018Q1", "2024Q2")
    assert out["onset"]["available"] and out["onset"]["origin"] == "2024Q2"
    assert "after 2024Q2)" in out["onset"]["definition"]
    text = CliRunner().invoke(app, args)
    assert text.exit_code == 0, text.output
    assert "within 2 periods after 2024Q2: " in text.stdout


def test_forecast_and_spillover_commands_fit_one_spillover_configuration(demo_study_path):
    """``forecast --model spillover`` built the model with its defaults (country offsets,
    damping 0.8) while ``spillover`` and the reports used the study's cross-validated choice:
    the demo's Koulikoro read 9.5 events in one and 2.7 in the other over six months."""
    from typer.testing import CliRunner

    from analysis.cli import app
    from analysis.config import load_study
    from analysis.pipeline import prepare, spillover_settings, study_model

    data = prepare(load_study(demo_study_path))
    model = study_model("spillover", data, 3)
    chosen = spillover_settings(data, 3)
    assert (model.endemic_effects, model.damping) == (
        chosen["endemic_effects"],
        chosen["damping"],
    )
    result = CliRunner().invoke(
        app, ["spillover", str(demo_study_path), "--model", "spillover", "--horizon", "3",
              "--draws", "20", "--paths", "20", "--json", "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    selection = json.loads(result.stdout)["model"]["selection"]
    assert selection["endemic_effects"] == model.endemic_effects
    assert selection["trend_damping"] == model.damping


def test_spillover_json_names_the_kind_and_level_of_each_interval(demo_study_path):
    """``continued_activity[].expected_ci`` was the 90% predictive range with the reports'
    model and a 95% interval of the mean over parameter draws with ``--model spillover``,
    under one key, while ``interval_level`` said 0.95; the spillover model's targets had no
    range at all and its JSON no sentence."""
    from typer.testing import CliRunner

    from analysis.cli import app

    result = CliRunner().invoke(
        app, ["spillover", str(demo_study_path), "--model", "spillover", "--endemic", "country",
              "--damping", "0.9", "--horizon", "3", "--draws", "20", "--paths", "20", "--json",
              "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["sentence"].startswith("Probability of at least one event")
    for t in out["targets"]:
        lo, hi = t["expected_ci_90"]
        assert lo <= t["expected_median"] <= hi and lo == int(lo) and hi == int(hi)
        m_lo, m_hi = t["expected_mean_ci"]
        assert m_lo <= m_hi
    wide = [t for t in out["targets"] if t["expected"] > 5]
    # a 90% range of the counts is wider than a 95% interval of their mean
    assert wide and all(
        t["expected_ci_90"][1] - t["expected_ci_90"][0]
        > t["expected_mean_ci"][1] - t["expected_mean_ci"][0]
        for t in wide
    )
    by_id = {t["region_id"]: t for t in out["targets"]}
    assert out["continued_activity"]
    for u in out["continued_activity"]:
        assert "expected_ci" not in u
        assert u["expected_ci_90"] == by_id[u["region_id"]]["expected_ci_90"]


def test_parameter_draw_intervals_hold_the_true_values_in_most_panels(boundaries):
    """The neighbour share's and P(at least 1)'s intervals are over parameter draws. On panels
    simulated from known parameters (country endemic levels, own-lag 0.3, neighbour weight
    0.4, the real Mali, Mauritania and Senegal geography, 96 months), the 90% intervals are
    set against the values the true parameters give from the same last counts.

    They under-cover, and the bounds pin what was measured rather than the nominal level:
    over these 10 panels the share's holds the truth in 0.67 of region-panels (0.80 over 20
    with 20 paths a draw), P(at least 1)'s in 0.76 where it lies in (0.02, 0.98) (0.65 when
    path noise was removed by moments alone, below the lower bound). The estimates'
    normal approximation is the cause: the countries' endemic levels have Wald intervals
    that hold the truth in 0.80-0.83 of 30 such panels. A plug-in interval (one value) or a
    [0, 1] one fails the bounds."""
    from analysis.simulate import known_spillover_panel

    spec = H.HHH4Spec(trend=False, activity_window=0)
    held = {"share": [], "p_any": []}
    widths = {"share": [], "p_any": []}
    for rep in range(10):
        p = known_spillover_panel(boundaries, rep)
        model = fit_spillover_matrix(
            p.counts, p.region_ids, p.periods, p.order, p.cross, p.countries, spec=spec,
            endemic_effects="country", profile=False,
        )  # fmt: skip
        sim = H.simulate_paths(
            p.at_truth(model.fit), model.recent_counts, 3, {"continue": None}, n_draws=1,
            n_paths=4000, seed=3, uncertainty=False,
        )["continue"]  # fmt: skip
        parts = np.stack([sim.endemic, sim.own, sim.neighbour]).sum(axis=2)[:, 0]
        true_share = parts[2] / parts.sum(axis=0)
        true_p = sim.any_event.mean(axis=1)[0]
        reg = spillover_forecast(model, 3, n_draws=100, n_paths=50, seed=rep, level=0.9).regions
        for key, true, keep in (
            ("share", true_share, np.ones(len(p.region_ids), dtype=bool)),
            ("p_any", true_p, (true_p > 0.02) & (true_p < 0.98)),
        ):
            column = "share_neighbour" if key == "share" else "p_any"
            lo = reg[f"{column}_low"].to_numpy()[keep]
            hi = reg[f"{column}_high"].to_numpy()[keep]
            held[key].append((lo <= true[keep]) & (true[keep] <= hi))
            widths[key].append(hi - lo)
    share_held, p_held = np.concatenate(held["share"]).mean(), np.concatenate(held["p_any"]).mean()
    assert 0.55 <= share_held <= 0.97, share_held
    assert 0.68 <= p_held <= 0.97, p_held
    assert 0.05 <= np.median(np.concatenate(widths["share"])) <= 0.4
    assert 0.02 <= np.median(np.concatenate(widths["p_any"])) <= 0.15


def test_path_noise_is_removed_by_regression_on_the_draws_parameters():
    """Per-draw P(at least 1) from 50 paths is mostly binomial noise. Removed by moments alone,
    the interval across draws was too narrow for some regions and too wide for others; with
    the draws' parameters the part they explain keeps its spread. Truth: the exact per-draw
    probabilities, a logistic function of the parameters."""
    from scipy.special import expit

    from analysis.models.spillover import _denoise, _interval

    rng = np.random.default_rng(4)
    draws, regions, paths = 400, 200, 50
    theta = rng.standard_normal((draws, 3))
    p = expit(rng.normal(-1, 1, regions) + theta @ (rng.normal(0, 0.3, (3, regions)) / 3**0.5))
    seen = rng.binomial(paths, p) / paths
    true_low, true_high = _interval(p, 0.9)

    def width_ratio(with_theta):
        low, high = _interval(_denoise(seen, paths, with_theta), 0.9)
        return (high - low) / (true_high - true_low)

    by_moments, by_regression = width_ratio(None), width_ratio(theta)
    assert 0.9 <= np.median(by_regression) <= 1.1
    assert np.quantile(by_regression, 0.1) >= 0.85 > 0.8 > np.quantile(by_moments, 0.1)
    # too few draws for the parameters: moments alone
    few = theta[:, :1].repeat(200, axis=1)[:, :150] + rng.normal(0, 1e-3, (draws, 150))
    assert np.array_equal(_denoise(seen, paths, few), _denoise(seen, paths, None))
