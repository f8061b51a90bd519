"""Tests of the onset model: target, features (no look-ahead), fit, intervals, calibration,
naive rules, and the held-out result on real UCDP GED onsets."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from analysis.errors import InputError
from analysis.models.forecast import Fitted, Forecaster, History
from analysis.models.onset import (
    FEATURES,
    OnsetGeography,
    OnsetSpec,
    fit_onset,
    onset_design,
    onset_features,
    onset_geography,
    onset_outcome,
    quantile_mc_error,
    quiet_units,
)
from analysis.models.onset_backtest import naive_onset_rules, rolling_onset_evaluation
from analysis.scoring import brier, reliability, roc_auc
from analysis.simulate import draw_negative_binomial, simulate_endemic_epidemic

SAHEL = ["MLI", "BFA", "NER", "MRT", "SEN"]
ALL = tuple(FEATURES)


@pytest.fixture(scope="module")
def sahel_geo(boundaries) -> OnsetGeography:
    return onset_geography(list(boundaries.regions_of(SAHEL)["region_id"]), boundaries)


def _weights(geo: OnsetGeography) -> np.ndarray:
    o = geo.order
    w = np.where(o == 1, 1.0, np.where(o == 2, 0.25, 0.0))
    return w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)


@pytest.fixture(scope="module")
def sahel_sim(sahel_geo):
    """Endemic-epidemic counts on the real Sahel units: six hot units, the rest nearly quiet,
    own-lag 0.4 and neighbour share 0.3 (the dependence real panels have), overdispersed;
    plus an all-actor panel that adds other actors' events."""
    rng = np.random.default_rng(7)
    n = len(sahel_geo.region_ids)
    level = np.full(n, 0.003)
    hot = rng.choice(n, 6, replace=False)
    level[hot] = rng.uniform(0.5, 2.0, 6)
    endemic = np.repeat(level[:, None], 300, axis=1)
    lam, phi = np.full(n, 0.4), np.full(n, 0.3)
    w = _weights(sahel_geo)
    y, _ = simulate_endemic_epidemic(endemic, lam, phi, w, 0.8, rng)
    other, _ = simulate_endemic_epidemic(endemic * 0.5, lam, phi, w, 0.8, rng)
    return {"counts": y, "all": y + other, "endemic": level, "lam": lam, "phi": phi, "w": w}


# --------------------------------------------------------------------------- target


def test_quiet_units_and_outcome_windows():
    counts = np.array([[0, 0, 0, 1, 0, 0], [1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 2]])
    assert quiet_units(counts, 2, 3).tolist() == [True, False, True]
    assert quiet_units(counts, 3, 2).tolist() == [False, True, True]
    assert onset_outcome(counts, 2, 3).tolist() == [True, False, True]
    assert onset_outcome(counts, 1, 2).tolist() == [True, False, False]
    assert onset_outcome(counts, 0, 2).tolist() == [False, False, False]
    with pytest.raises(InputError, match="fewer than 3"):
        quiet_units(counts, 1, 3)
    with pytest.raises(InputError, match="runs past"):
        onset_outcome(counts, 3, 3)


def test_design_is_separate_from_continued_activity(sahel_geo, sahel_sim):
    """Only units quiet at the origin enter the onset rows; their outcome is the first event."""
    y = sahel_sim["counts"]
    spec = OnsetSpec(features=("nb_level",))
    design = onset_design(y, [100, 150], sahel_geo, spec)
    ids = list(sahel_geo.region_ids)
    assert set(design["origin"]) == {100, 150}
    for t, rows in design.groupby("origin"):
        idx = [ids.index(r) for r in rows["region_id"]]
        assert (y[idx, t - 11 : t + 1].sum(axis=1) == 0).all()
        assert rows["onset"].tolist() == (y[idx, t + 1 : t + 13].sum(axis=1) > 0).tolist()
        assert len(rows) == int(quiet_units(y, t, 12).sum())


# --------------------------------------------------------------------------- features


def _chain_geo() -> OnsetGeography:
    order = np.array([[0, 1, 2, 3], [1, 0, 1, 2], [2, 1, 0, 1], [3, 2, 1, 0]])
    km = 100.0 * order
    return OnsetGeography(("A-1", "A-2", "B-1", "B-2"), order, km, np.array(["A", "A", "B", "B"]))


def test_features_match_hand_computation():
    geo = _chain_geo()
    spec = OnsetSpec(quiet=2, horizon=1, periods_per_year=4, features=ALL, decay=2.0)
    # window = 4 periods; origin t = 7
    counts = np.zeros((4, 9), dtype=int)
    counts[1, 5] = 3  # A-2, inside the window 4..7
    counts[2, 1] = 2  # B-1, in the window before (0..3)
    counts[3, 6] = 1  # B-2, inside
    counts[0, 0] = 1  # A-1's last event at period 0
    allc = counts.copy()
    allc[0, 7] += 4  # other actors in A-1 itself
    allc[2, 4] += 2  # other actors in B-1
    f = onset_features(counts, 7, geo, spec, allc).loc["A-1"]
    w2, w3 = 2.0**-2, 3.0**-2
    assert f["nb_level"] == pytest.approx(np.log1p(3 + w3 * 1))
    assert f["nb_trend"] == pytest.approx(np.log1p(3 + w3) - np.log1p(w2 * 2))
    assert f["nb_first"] == 1.0
    assert f["near_order"] == pytest.approx(0.0)
    assert f["near_km"] == pytest.approx(np.log1p(1.0))
    assert f["other_own"] == pytest.approx(np.log1p(4))
    assert f["other_nb"] == pytest.approx(np.log1p(w2 * 2))
    assert f["since_last"] == pytest.approx(np.log(7))
    assert f["own_history"] == pytest.approx(np.log1p(1))
    assert f["country_level"] == pytest.approx(np.log1p(3))
    assert f["country_trend"] == pytest.approx(np.log1p(3) - np.log1p(1))
    assert f["panel_level"] == pytest.approx(np.log1p(4))
    # A unit that never had an event gets the five-year cap; nothing active nearby: the caps.
    quiet = np.zeros((4, 9), dtype=int)
    g = onset_features(quiet, 7, geo, spec, quiet).loc["A-1"]
    assert g["since_last"] == pytest.approx(np.log(20))
    assert g["near_order"] == pytest.approx(np.log(8))
    assert g["near_km"] == pytest.approx(np.log1p(20.0))


def test_features_never_look_ahead(sahel_geo, sahel_sim):
    """Changing every count after the origin changes no feature, in both code paths."""
    y, allc = sahel_sim["counts"], sahel_sim["all"]
    spec = OnsetSpec(features=ALL)
    rng = np.random.default_rng(3)
    for t in (40, 120, 250):
        y2, a2 = y.copy(), allc.copy()
        y2[:, t + 1 :] = rng.poisson(5.0, y2[:, t + 1 :].shape)
        a2[:, t + 1 :] = y2[:, t + 1 :] + rng.poisson(5.0, y2[:, t + 1 :].shape)
        f1 = onset_features(y, t, sahel_geo, spec, allc)
        f2 = onset_features(y2, t, sahel_geo, spec, a2)
        pd.testing.assert_frame_equal(f1, f2)
        # The stacked design (one pass over the whole panel) agrees with the truncated path.
        d1 = onset_design(y, [t], sahel_geo, spec, allc, outcome=False)
        d2 = onset_design(y2, [t], sahel_geo, spec, a2, outcome=False)
        pd.testing.assert_frame_equal(d1, d2)
        quiet = quiet_units(y, t, spec.quiet)
        np.testing.assert_allclose(d1[list(ALL)].to_numpy(), f1[quiet].to_numpy())


def test_feature_settings_are_validated():
    with pytest.raises(InputError, match="invalid onset settings"):
        OnsetSpec(features=("nb_level", "crystal_ball"))
    with pytest.raises(InputError):
        OnsetSpec(quiet=0)
    with pytest.raises(InputError):
        OnsetSpec(link="probit")  # type: ignore[arg-type]
    geo = _chain_geo()
    with pytest.raises(InputError, match="all-actor panel"):
        onset_features(np.zeros((4, 30)), 20, geo, OnsetSpec(features=("other_own",)))


# --------------------------------------------------------------------------- fit


@pytest.mark.parametrize("link", ["cloglog", "logit"])
def test_fit_recovers_known_coefficients(link):
    """Outcomes drawn from the model itself: estimates within 4 standard errors of the truth."""
    rng = np.random.default_rng(11)
    n = 20000
    x = rng.normal(size=(n, 2)) * [1.0, 2.0] + [0.5, -1.0]
    truth = np.array([-2.0, 0.8, -0.3])
    eta = truth[0] + x @ truth[1:]
    p = 1 / (1 + np.exp(-eta)) if link == "logit" else -np.expm1(-np.exp(eta))
    design = pd.DataFrame({"nb_level": x[:, 0], "since_last": x[:, 1], "onset": rng.random(n) < p})
    fit = fit_onset(design, OnsetSpec(features=("nb_level", "since_last"), link=link, penalty=0))
    assert fit.converged
    # back to the raw scale: coef / sd, intercept - sum(coef * mean / sd)
    raw = fit.coef[1:] / fit.scale
    intercept = fit.coef[0] - np.sum(raw * fit.mean)
    se = np.sqrt(np.diag(fit.cov))[1:] / fit.scale
    assert np.all(np.abs(raw - truth[1:]) < 4 * se)
    assert abs(intercept - truth[0]) < 0.15
    np.testing.assert_allclose(fit.predict(design).mean(), design["onset"].mean(), atol=0.01)


def test_penalty_shrinks_towards_the_base_rate():
    rng = np.random.default_rng(2)
    x = rng.normal(size=500)
    design = pd.DataFrame({"nb_level": x, "onset": rng.random(500) < 1 / (1 + np.exp(-(x - 1)))})
    spec = OnsetSpec(features=("nb_level",), link="logit")
    free = fit_onset(design, replace(spec, penalty=0.0)).coef[1]
    tight = fit_onset(design, replace(spec, penalty=1e6)).coef[1]
    assert free > 0.5
    assert abs(tight) < 0.01


def test_cluster_covariance_counts_repeated_rows_once():
    """Twelve copies of each row (overlapping windows at its extreme): the model-based standard
    error shrinks by sqrt(12), the cluster-robust one stays at the single-copy value."""
    rng = np.random.default_rng(5)
    n = 3000
    x = rng.normal(size=n)
    y = rng.random(n) < 1 / (1 + np.exp(-(-1.5 + 0.7 * x)))
    one = pd.DataFrame({"nb_level": x, "onset": y, "region_id": np.arange(n)})
    many = pd.concat([one] * 12, ignore_index=True)
    spec = OnsetSpec(features=("nb_level",), link="logit", penalty=0.0)
    se_one = np.sqrt(fit_onset(one, spec).cov[1, 1])
    se_many_model = np.sqrt(fit_onset(many, spec, cluster=None).cov[1, 1])
    se_many_cluster = np.sqrt(fit_onset(many, spec).cov[1, 1])
    assert se_many_model == pytest.approx(se_one / np.sqrt(12), rel=0.1)
    assert se_many_cluster == pytest.approx(se_one, rel=0.05)


def test_fit_refuses_rows_without_both_outcomes():
    design = pd.DataFrame({"nb_level": [0.1, 0.2, 0.3], "onset": [False] * 3})
    with pytest.raises(InputError, match="needs both"):
        fit_onset(design, OnsetSpec(features=("nb_level",)))
    with pytest.raises(InputError, match="no onset rows"):
        fit_onset(design.iloc[:0], OnsetSpec(features=("nb_level",)))


# --------------------------------------------------------------------------- intervals


def test_quantile_mc_error_matches_asymptotic_formula():
    rng = np.random.default_rng(0)
    n, q = 4000, 0.025
    errs = [quantile_mc_error(rng.normal(size=n), q) for _ in range(50)]
    theory = np.sqrt(q * (1 - q) / n) / norm.pdf(norm.ppf(q))
    assert np.median(errs) == pytest.approx(theory, rel=0.25)


def test_interval_from_draws_matches_closed_form(sahel_geo, sahel_sim):
    y = sahel_sim["counts"]
    spec = OnsetSpec(features=("nb_level", "since_last", "country_level"))
    design = onset_design(y, range(60, 200), sahel_geo, spec)
    fit = fit_onset(design, spec)
    test = onset_design(y, [250], sahel_geo, spec, outcome=False)
    pred = fit.predict_interval(test, seed=1, mc_tolerance=0.002)
    low, high = fit.interval_closed_form(test)
    assert pred.mc_error.max() < 0.002
    assert np.all((pred.low <= pred.p) & (pred.p <= pred.high))
    assert np.max(np.abs(pred.low - low)) < 4 * 0.002
    assert np.max(np.abs(pred.high - high)) < 4 * 0.002
    assert fit.meta["covariance"] == "cluster-robust"


# --------------------------------------------------------------------------- calibration


def _true_onset_probability(sim, t: int, horizon: int, n_paths: int, rng) -> np.ndarray:
    """P(at least one event in t+1..t+horizon) under the simulating model, by forward paths."""
    y = sim["counts"]
    prev = np.repeat(y[:, t][None, :].astype(float), n_paths, axis=0)
    hit = np.zeros_like(prev, dtype=bool)
    for _ in range(horizon):
        mu = sim["endemic"] + sim["lam"] * prev + sim["phi"] * (prev @ sim["w"].T)
        prev = draw_negative_binomial(mu, 0.8, rng).astype(float)
        hit |= prev > 0
    return hit.mean(axis=0)


def test_onset_probabilities_track_the_true_ones(sahel_geo, sahel_sim):
    """Fitted on earlier origins, the model's probabilities at later origins follow the true
    onset probabilities of the simulating process (computed by forward simulation), and score
    better than the base rate."""
    y = sahel_sim["counts"]
    spec = OnsetSpec(features=("nb_level", "nb_first", "since_last"))
    design = onset_design(y, range(60, 288), sahel_geo, spec)
    fit = fit_onset(design[design["origin"] <= 180], spec)
    rng = np.random.default_rng(9)
    model, truth = [], []
    for t in range(192, 288, 12):
        rows = design[design["origin"] == t]
        model.append(fit.predict(rows))
        truth.append(_true_onset_probability(sahel_sim, t, 12, 400, rng)[quiet_units(y, t, 12)])
    pm, pt = np.concatenate(model), np.concatenate(truth)
    assert len(pm) > 100
    assert np.corrcoef(pm, pt)[0, 1] > 0.7
    assert abs(pm.mean() - pt.mean()) < 0.1
    assert np.mean(np.abs(pm - pt)) < 0.15
    held = design[design["origin"] >= 192]
    assert brier(fit.predict(held), held["onset"]) < brier(
        np.full(len(held), design.loc[design["origin"] <= 180, "onset"].mean()), held["onset"]
    )


def test_reliability_when_the_model_is_right():
    """Outcomes drawn from a known logistic hazard: every reliability bin's observed frequency
    lies within 3 binomial standard errors of its mean prediction."""
    rng = np.random.default_rng(4)
    n = 30000
    x = rng.normal(size=(n, 2))
    p = 1 / (1 + np.exp(-(-2.2 + 0.9 * x[:, 0] - 0.5 * x[:, 1])))
    design = pd.DataFrame({"nb_level": x[:, 0], "since_last": x[:, 1]})
    design["onset"] = rng.random(n) < p
    train, test = design.iloc[: n // 2], design.iloc[n // 2 :]
    spec = OnsetSpec(features=("nb_level", "since_last"), link="logit", penalty=0.0)
    fit = fit_onset(train, spec)
    rows = reliability(fit.predict(test), test["onset"])
    assert sum(r["n"] for r in rows) == len(test)
    for r in rows:
        se = np.sqrt(r["mean_predicted"] * (1 - r["mean_predicted"]) / r["n"])
        assert abs(r["observed_frequency"] - r["mean_predicted"]) < 3 * se + 0.005


# --------------------------------------------------------------------------- naive rules


def test_naive_rules_are_training_frequencies():
    train = pd.DataFrame(
        {
            "nb_first": [1, 1, 1, 0, 0, 0, 0, 0],
            "near_order": np.log([1, 1, 1, 2, 3, 3, 8, 8]),
            "onset": [True, True, False, True, False, False, False, False],
        }
    )
    test = pd.DataFrame({"nb_first": [1, 0], "near_order": np.log([1, 8])})
    rules = naive_onset_rules(train, test)
    assert rules["base_rate"] == pytest.approx([4 / 10, 4 / 10])
    assert rules["neighbour_rule"] == pytest.approx([3 / 5, 2 / 7])
    assert rules["distance_decay"][0] > rules["distance_decay"][1]


def test_roc_auc_and_brier_closed_forms():
    assert roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == 0.75
    assert roc_auc(np.array([0.5, 0.5]), np.array([0, 1])) == 0.5
    assert brier(np.array([0.2, 0.9]), np.array([0, 1])) == pytest.approx((0.04 + 0.01) / 2)


# --------------------------------------------------------------------------- real data


@pytest.mark.real_data
@pytest.mark.slow
def test_real_onsets_held_out_2016_2019(real_data_path, boundaries):
    """UCDP GED, 11 West African countries, quiet k=12, horizon 12, quarterly held-out origins
    2016-03..2019-12 (outcomes to 2020-12), the default spec refitted at each origin on rows
    whose outcome had ended. Pins the benchmark's held-out scorecard."""
    from analysis.panel import build_panel

    d = pd.read_csv(real_data_path, usecols=["adm1_iso", "date_start"])
    events = pd.DataFrame(
        {"region_id": d["adm1_iso"].astype(str), "date_start": pd.to_datetime(d["date_start"])}
    )
    countries = sorted(boundaries.regions["country"].unique())
    panel = build_panel(events, boundaries, countries, "1989-01", "2020-12", "month")
    wide = panel.pivot(index="region_id", columns="period", values="events").sort_index()
    counts, ids, periods = wide.to_numpy(), list(wide.index), pd.DatetimeIndex(wide.columns)
    geo = onset_geography(ids, boundaries)
    spec = OnsetSpec()
    full = replace(spec, features=tuple(dict.fromkeys((*spec.features, "nb_first", "near_order"))))
    start = int(np.searchsorted(periods, pd.Timestamp("1994-12-01")))
    design = onset_design(counts, range(start, len(periods) - 12), geo, full)
    held = [
        t
        for t in range(int(np.searchsorted(periods, pd.Timestamp("2016-01-01"))), len(periods) - 12)
        if periods[t].month % 3 == 0
    ]
    pred = rolling_onset_evaluation(design, held, spec)
    y = pred["onset"].to_numpy(float)
    scores = {m: brier(pred[m], y) for m in ("onset_model", "base_rate", "neighbour_rule")}
    assert len(pred) == 2223
    assert int(y.sum()) == 256
    assert scores["onset_model"] == pytest.approx(HELD_OUT_BRIER, abs=0.002)
    assert scores["onset_model"] < scores["neighbour_rule"] < scores["base_rate"]
    assert roc_auc(pred["onset_model"], y) >= 0.78
    # intervals hold the plug-in probability, with small Monte Carlo error
    last = design[design["origin"] == held[-1]]
    fit = fit_onset(design[design["origin"] <= held[-1] - 12], spec)
    pi = fit.predict_interval(last, seed=1)
    assert np.all((pi.low <= pi.p) & (pi.p <= pi.high))
    assert pi.mc_error.max() < 0.01


HELD_OUT_BRIER = 0.0884


# --------------------------------------------------------------------------- command


@pytest.mark.slow
def test_spillover_command_onset_block(demo_dir, tmp_path):
    """``spillover --json`` separates onset (quiet units) from continued activity (active
    units) for the target countries' units and the focus's neighbours."""
    import json

    from typer.testing import CliRunner

    from analysis.cli import app

    study = tmp_path / "demo.yaml"
    study.write_text(
        "title: demo\n"
        f"data: [{demo_dir / 'demo_acled.csv'}]\n"
        "source: acled\nactors: [JNIM]\ncountries: [Mali, Mauritania, Senegal]\n"
        "focus: [Kayes]\nstart: 2018-01\nend: 2024-12\nfreq: month\nhorizon: 12\n"
        "spillover_targets: [Mauritania, Senegal]\nseed: 7\nonset_quiet_periods: 6\n"
    )
    result = CliRunner().invoke(
        app, ["spillover", str(study), "--origin", "2023-12", "--json", "--draws", "20",
              "--paths", "20"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    onset, continued = out["onset"], out["continued_activity"]
    assert onset["available"], onset
    assert onset["quiet_periods"] == 6 and onset["horizon"] == 12
    assert onset["max_mc_error"] < 0.01
    quiet = {u["region_id"] for u in onset["units"]}
    active = {u["region_id"] for u in continued}
    assert quiet and active and not quiet & active
    assert "ML-1" not in quiet | active  # the focus itself is neither
    for u in onset["units"]:
        lo, hi = u["p_onset_ci"]
        assert 0 <= lo <= u["p_onset"] <= hi <= 1
        assert u["country"] in ("MRT", "SEN") or u["region_id"].startswith("ML-")
        assert set(u["features"]) == set(onset["model"]["features"])
    for u in continued:
        assert u["expected"] > 0


def test_study_quiet_periods_setting(tmp_path):
    from analysis.config import study_from_dict

    (tmp_path / "e.csv").write_text("x\n")
    base = {
        "title": "t",
        "data": ["e.csv"],
        "countries": ["Mali"],
        "start": "2018-01",
        "end": "2024-12",
    }
    assert study_from_dict(base, tmp_path / "s.yaml").quiet_periods == 12
    quarterly = study_from_dict({**base, "freq": "quarter"}, tmp_path / "s.yaml")
    assert quarterly.quiet_periods == 4
    assert (
        study_from_dict({**base, "onset_quiet_periods": 6}, tmp_path / "s.yaml").quiet_periods == 6
    )
    with pytest.raises(InputError) as err:
        study_from_dict({**base, "onset_quiet_periods": 0}, tmp_path / "s.yaml")
    assert err.value.problems[0].column == "onset_quiet_periods"


# --------------------------------------------------------------------------- study backtest


def _sim_panel(sahel_geo, sahel_sim, boundaries, periods: int = 96) -> pd.DataFrame:
    from analysis.panel import from_matrix

    y = sahel_sim["counts"][:, -periods:]
    index = pd.date_range("2015-01-01", periods=periods, freq="MS")
    return from_matrix(y, list(sahel_geo.region_ids), index, "month", boundaries)


def test_study_onset_backtest_scores_and_verdict(sahel_geo, sahel_sim, boundaries):
    from analysis.models.onset_backtest import NAIVE_RULES, study_onset_backtest

    panel = _sim_panel(sahel_geo, sahel_sim, boundaries)
    card = study_onset_backtest(panel, 12, 12, boundaries=boundaries, stride=6)
    assert card["available"]
    # origins: every 6th from the last with a known outcome (96-1-12=83) down to 11+12+12=35
    assert card["n_origins"] == len(range(83, 34, -6))
    assert card["last_origin"] == f"{pd.Timestamp('2015-01-01') + pd.DateOffset(months=83):%Y-%m}"
    for m in ("onset_model", *NAIVE_RULES):
        assert 0.0 <= card["methods"][m]["brier"] <= 1.0
    assert card["beats"] == {
        m: card["methods"]["onset_model"]["brier"] < card["methods"][m]["brier"]
        for m in NAIVE_RULES
    }
    assert card["beats_naive"] == (all(card["beats"].values()) and card["distinct_onsets"] >= 5)
    assert ("beat every naive rule" in card["verdict"]) == card["beats_naive"]
    assert f"({card['n_origins']} origins, {card['first_origin']} to " in card["verdict"]
    # one origin, as a short study's quarter gives: "1 origins, 2023-12 to 2023-12" had read
    from analysis.models.onset_backtest import _verdict

    one = _verdict({**card, "n_origins": 1, "last_origin": card["first_origin"]}, True, 5)
    assert f"(1 origin, at {card['first_origin']};" in one and "1 origins" not in one
    # the margins carry their error: a win within two standard errors is not called established
    for m in NAIVE_RULES:
        margin = card["brier_margin"][m]
        assert margin["difference"] == pytest.approx(
            card["methods"][m]["brier"] - card["methods"]["onset_model"]["brier"], abs=1e-12
        )
        assert margin["se"] > 0
    # the table's gaps: every other method against the onset model, the same numbers
    gaps = card["onset_model_brier_margin_vs"]
    assert set(gaps) == set(card["methods"]) - {"onset_model"}
    for m in NAIVE_RULES:
        assert gaps[m] == pytest.approx(card["brier_margin"][m], abs=1e-12)
    narrow = any(not v["difference"] > 2 * v["se"] for v in card["brier_margin"].values())
    if card["beats_naive"]:
        assert ("the edge is not established" in card["verdict"]) == narrow
    assert card["edge_established"] == (card["beats_naive"] and not narrow)
    # neighbour-driven onsets: the model ranks them better than chance
    assert card["methods"]["onset_model"]["auc"] > 0.6
    few = study_onset_backtest(panel, 12, 12, boundaries=boundaries, stride=6, min_onsets=10**6)
    assert not few["beats_naive"] and "too few" in few["verdict"]


@dataclasses.dataclass(frozen=True)
class _RowPAnyFitted(Fitted):
    """Region ``i`` of ``R`` has an event at step 1 in a share ``(i + 1) / (R + 1)`` of paths."""

    def sample_paths(self, horizon, n, rng):
        regions = len(self.history.region_ids)
        paths = np.zeros((regions, horizon, n), dtype=np.int64)
        for i in range(regions):
            paths[i, 0, : round(n * (i + 1) / (regions + 1))] = 1
        return paths


@dataclasses.dataclass(frozen=True)
class _RowPAny(Forecaster):
    """A stand-in report model whose P(any) depends on the region's row; it records the last
    period of every history it is fitted on."""

    name: str = "row_p_any"
    seen: list = dataclasses.field(default_factory=list, compare=False)

    def fit(self, history):
        assert len(history.periods) == history.counts.shape[1]
        self.seen.append(history.periods[-1])
        return _RowPAnyFitted(history=history, model=self.name)


def test_study_onset_backtest_scores_the_report_models_probabilities(
    sahel_geo, sahel_sim, boundaries
):
    """The probability the reports show for quiet units (the share of the report model's paths
    with an event) is scored on the same forecasts as the onset model, from one fit per origin
    that saw only the counts up to it; its verdict follows its margins over the naive rules."""
    from analysis.models.onset_backtest import NAIVE_RULES, forecaster_p_any, study_onset_backtest
    from analysis.models.registry import get
    from analysis.panel import to_matrix

    panel = _sim_panel(sahel_geo, sahel_sim, boundaries)
    counts, ids, periods = to_matrix(panel)
    stub = _RowPAny()
    card = study_onset_backtest(panel, 12, 12, boundaries=boundaries, stride=6, forecaster=stub)
    assert stub.seen == [periods[t] for t in range(83, 34, -6)[::-1]]  # one fit per origin
    pred = pd.DataFrame({"origin": [40, 83, 40], "region_id": [ids[2], ids[0], ids[-1]]},
                        index=[7, 3, 5])  # fmt: skip
    history = History(counts, tuple(ids), periods, "month")
    p = forecaster_p_any(_RowPAny(), history, pred, 12, 400, 0)
    R = len(ids)
    assert list(p.index) == [7, 3, 5]
    assert p.tolist() == pytest.approx([round(400 * k / (R + 1)) / 400 for k in (3, 1, R)])
    with pytest.raises(InputError, match="not in the counts"):
        forecaster_p_any(stub, history, pred.assign(region_id="XX"), 12, 9, 0)
    # a country's chance is any event among its units on the same paths (the stub's events
    # are nested across rows, so it is the largest of theirs), not a product of independents
    _, joint = forecaster_p_any(
        _RowPAny(), history, pred.assign(country=["A", "B", "A"]), 12, 400, 0, by_country=True
    )
    assert joint[(40, "A")] == pytest.approx(round(400 * R / (R + 1)) / 400)
    assert joint[(83, "B")] == pytest.approx(round(400 / (R + 1)) / 400)
    assert card["country"]["reference"] == "report_model" and card["country"]["n_forecasts"] > 0
    shown = card["report_model"]
    for m in NAIVE_RULES:
        assert shown["brier_margin"][m]["difference"] == pytest.approx(
            card["methods"][m]["brier"] - card["methods"]["report_model"]["brier"], abs=1e-12
        )
    wins = all(v["difference"] > 0 for v in shown["brier_margin"].values())
    assert shown["beats_naive"] == (wins and card["distinct_onsets"] >= 5)
    assert ("did not beat" in shown["verdict"]) == (not wins)
    # the onset model's own verdict and scores are unchanged by scoring the report model
    plain = study_onset_backtest(panel, 12, 12, boundaries=boundaries, stride=6)
    assert plain["verdict"] == card["verdict"] and "report_model" not in plain
    # a model that never forecasts an event scores the onset frequency, and loses to the base rate
    zero = study_onset_backtest(
        panel, 12, 12, boundaries=boundaries, stride=6, forecaster=get("zero")
    )
    assert zero["methods"]["report_model"]["brier"] == pytest.approx(zero["onset_frequency"])
    assert not zero["report_model"]["beats_naive"]
    assert "did not beat the base rate" in zero["report_model"]["verdict"]


def test_report_model_verdict_wording_follows_the_margins():
    from analysis.models.onset_backtest import _report_model_verdict

    card = {"n_forecasts": 299, "methods": {"report_model": {"brier": 0.095}}}

    def verdict(margins, enough=True):
        return _report_model_verdict(card, margins, enough, 5)

    clear = {"base_rate": (0.02, 0.005), "neighbour_rule": (0.01, 0.004),
             "distance_decay": (0.012, 0.005)}  # fmt: skip
    text = verdict(clear)
    assert "Brier score of 0.095 on the same 299 quiet-unit forecasts" in text
    assert "they beat every naive rule (Brier score lower by 0.010 to 0.020), each by more" in text
    narrow = {**clear, "neighbour_rule": (0.002, 0.004)}
    assert "but the neighbour rule by less than two standard errors" in verdict(narrow)
    one = {**clear, "distance_decay": (-0.001, 0.004)}
    assert verdict(one).endswith(
        "they did not beat distance decay on these past first events (Brier score higher by 0.001)."
    )
    two = {**one, "base_rate": (-0.0002, 0.004)}
    assert "did not beat the base rate or distance decay" in verdict(two)
    assert "(Brier score higher by up to 0.001)" in verdict(two)
    tie = {**clear, "base_rate": (-0.0002, 0.004)}
    assert (
        "did not beat the base rate on these past first events (Brier score higher by less "
        "than 0.001)" in verdict(tie)
    )
    assert "that says little" in verdict(clear, enough=False)
    # the onset model's own score and verdict: said once, not again with the same numbers
    same = {**card, "methods": {**card["methods"], "onset_model": {"brier": 0.0951}},
            "beats_naive": True, "edge_established": True}  # fmt: skip
    assert _report_model_verdict(same, clear, True, 5).endswith(
        "forecasts, the onset model's to three decimals, so the same verdict holds for them."
    )
    # a different verdict (the onset model's edge not established) is still spelt out
    assert "each by more" in _report_model_verdict({**same, "edge_established": False}, clear,
                                                   True, 5)  # fmt: skip


def test_study_onset_backtest_keeps_the_onset_evidence_when_the_report_model_fails(
    sahel_geo, sahel_sim, boundaries
):
    from analysis.errors import ModelError
    from analysis.models.onset_backtest import study_onset_backtest

    @dataclasses.dataclass(frozen=True)
    class Broken(Forecaster):
        name: str = "broken"

        def fit(self, history):
            raise ModelError("did not converge")

    panel = _sim_panel(sahel_geo, sahel_sim, boundaries)
    card = study_onset_backtest(panel, 12, 12, boundaries=boundaries, stride=6, forecaster=Broken())
    assert card["available"] and "report_model" not in card["methods"]
    assert not card["report_model"]["beats_naive"]
    assert "did not converge" in card["report_model"]["reason"]


def test_study_onset_backtest_starts_after_the_first_onset_it_can_learn_from(
    sahel_geo, sahel_sim, boundaries
):
    """A conflict that spreads into a quiet country: for its first years no quiet unit has had
    a first event, so no model can be fitted at the early origins. Those origins are skipped,
    not the whole backtest (which had read "all N quiet-unit rows have onset=False")."""
    from analysis.models.onset_backtest import study_onset_backtest
    from analysis.panel import from_matrix, to_matrix

    counts, ids, periods = to_matrix(_sim_panel(sahel_geo, sahel_sim, boundaries))
    late = counts.copy()
    late[:, :50] = 0  # nothing at all before period 50
    panel = from_matrix(late, ids, periods, "month", boundaries)
    card = study_onset_backtest(panel, 12, 12, boundaries=boundaries, stride=1)
    assert card["available"], card.get("reason")
    # a row at origin o has an onset only if o + 12 >= 50; the rows an origin t trains on end
    # at t - 12, so no origin before 50 has one to learn from
    assert pd.Timestamp(card["first_origin"]) >= periods[50]
    assert card["n_origins"] <= len(range(50, 84))
    silent = from_matrix(np.zeros_like(counts), ids, periods, "month", boundaries)
    none = study_onset_backtest(silent, 12, 12, boundaries=boundaries)
    assert not none["available"] and "both with and without a first event" in none["reason"]


def test_study_onset_backtest_too_short(sahel_geo, sahel_sim, boundaries):
    from analysis.models.onset_backtest import study_onset_backtest

    panel = _sim_panel(sahel_geo, sahel_sim, boundaries, periods=40)
    card = study_onset_backtest(panel, 12, 12, boundaries=boundaries)
    assert not card["available"] and not card["beats_naive"] and "too short" in card["reason"]


def test_brier_margin_is_the_mean_loss_gain_with_a_unit_clustered_error():
    """The margin is the mean per-forecast Brier gain; its error is the cluster-robust one over
    units, as statsmodels computes for a constant-only regression with clusters."""
    import statsmodels.api as sm

    from analysis.models.onset_backtest import brier_margin

    rng = np.random.default_rng(4)
    units = np.repeat([f"u{i}" for i in range(9)], 6)
    onset = rng.integers(0, 2, size=units.size)
    pred = pd.DataFrame({"region_id": units, "onset": onset,
                         "model": np.clip(0.3 + 0.4 * onset + rng.normal(0, 0.2, units.size), 0, 1),
                         "rule": np.full(units.size, onset.mean())})  # fmt: skip
    gain = (pred["rule"] - onset) ** 2 - (pred["model"] - onset) ** 2
    margin, se = brier_margin(pred, "model", "rule")
    ols = sm.OLS(gain.to_numpy(), np.ones((units.size, 1))).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(units)[0]}
    )
    assert margin == pytest.approx(float(ols.params[0]), rel=1e-12)
    assert se == pytest.approx(float(ols.bse[0]), rel=1e-9)
    # forecasts of one unit move together: the clustered error is not the naive one
    assert se != pytest.approx(float(gain.std(ddof=1) / np.sqrt(units.size)), rel=1e-3)


def test_with_origins_the_error_is_clustered_by_unit_and_origin():
    """First events come in waves that strike several units at one origin: with the origins
    the error is Cameron, Gelbach and Miller's two-way one, as statsmodels computes it, and
    wider than the unit-clustered one when a wave is shared; a test over simulated waves
    holds its size where clustering by unit alone does not."""
    import statsmodels.api as sm

    from analysis.models.onset_backtest import brier_margin, calibration_in_the_large

    rng = np.random.default_rng(5)
    units = np.repeat([f"u{i}" for i in range(12)], 10)
    origins = np.tile(np.arange(10), 12)
    wave = rng.uniform(0, 0.5, 10)[origins]  # a shared shock at each origin
    onset = (rng.uniform(size=units.size) < wave).astype(int)
    pred = pd.DataFrame({"region_id": units, "origin": origins, "onset": onset,
                         "model": np.full(units.size, 0.2),
                         "rule": np.full(units.size, onset.mean())})  # fmt: skip
    gain = (pred["rule"] - onset) ** 2 - (pred["model"] - onset) ** 2
    ols = sm.OLS(gain.to_numpy(), np.ones((units.size, 1))).fit(
        cov_type="cluster", cov_kwds={"groups": np.column_stack([pd.factorize(units)[0], origins])}
    )
    margin, se = brier_margin(pred, "model", "rule")
    assert margin == pytest.approx(float(ols.params[0]), rel=1e-12)
    assert se == pytest.approx(float(ols.bse[0]), rel=1e-9)
    _, by_unit = brier_margin(pred.drop(columns="origin"), "model", "rule")
    assert se > by_unit
    # size: probabilities right on average over origins, which do not know each origin's
    # wave (the forecasts' position); the gap's 95% interval should hold 0 in about 95% of
    # studies, where by unit alone it holds fewer
    held = {"both": 0, "unit": 0}
    for seed in range(300):
        r = np.random.default_rng(seed)
        p = np.repeat(r.uniform(0.02, 0.3, 12), 10)
        y = (r.uniform(size=p.size) < p * r.uniform(0, 2, 10)[origins]).astype(int)
        frame = pd.DataFrame({"region_id": units, "origin": origins, "onset": y, "p": p})
        for key, part in (("both", frame), ("unit", frame.drop(columns="origin"))):
            c = calibration_in_the_large(part, "p")
            held[key] += abs(c["difference"]) <= 1.96 * c["se"]
    assert held["both"] / 300 >= 0.88
    assert held["both"] > held["unit"]


def test_brier_gaps_are_the_differences_of_the_printed_scores():
    """The real Mopti report printed 0.097 against 0.101, 0.103 and 0.104 and then "lower by
    0.003 to 0.007" (unrounded gaps); the range now subtracts the printed numbers."""
    from analysis.models.onset_backtest import _shown_gaps

    card = {"methods": {"report_model": {"brier": 0.0974}, "base_rate": {"brier": 0.1031},
                        "neighbour_rule": {"brier": 0.1006},
                        "distance_decay": {"brier": 0.1043}}}  # fmt: skip
    unrounded = {m: card["methods"][m]["brier"] - 0.0974 for m in _RULES}
    assert _shown_gaps(card, "report_model", unrounded) == " (Brier score lower by 0.004 to 0.007)"
    tied = {"methods": {"report_model": {"brier": 0.1001}, "base_rate": {"brier": 0.1004}}}
    assert "equal to three decimals" in _shown_gaps(tied, "report_model", {"base_rate": 3e-4})


_RULES = ("base_rate", "neighbour_rule", "distance_decay")


def test_onset_verdict_says_when_a_win_is_within_sampling_error():
    from analysis.models.onset_backtest import _verdict

    briers = {"onset_model": 0.096, "base_rate": 0.115, "neighbour_rule": 0.097,
              "distance_decay": 0.097}  # fmt: skip
    card = {"n_origins": 13, "first_origin": "2020-12", "last_origin": "2023-12",
            "n_forecasts": 299, "distinct_onsets": 11, "beats_naive": True,
            "beats": {"base_rate": True, "neighbour_rule": True, "distance_decay": True},
            "methods": {m: {"brier": b} for m, b in briers.items()}}  # fmt: skip
    margins = {"base_rate": (0.019, 0.004), "neighbour_rule": (0.001, 0.002),
               "distance_decay": (0.001, 0.0004)}  # fmt: skip
    card["brier_margin"] = {m: {"difference": d, "se": se} for m, (d, se) in margins.items()}
    narrow = _verdict(card, True, 5)
    assert "Brier score lower by 0.001 to 0.019" in narrow
    assert "but over the neighbour rule by less than two standard errors" in narrow
    assert narrow.endswith("so the edge is not established.")
    card["brier_margin"]["neighbour_rule"]["se"] = 0.0004
    clear = _verdict(card, True, 5)
    assert "each by more than two standard errors (clustered by unit and origin)." in clear
    assert "not established" not in clear


def test_onset_spec_sets_the_frequency_and_drops_other_actors_for_a_selection():
    from analysis.models.onset import NEEDS_ALL_ACTORS, OnsetSpec, onset_spec

    base = OnsetSpec(penalty=2.0, features=(*OnsetSpec().features, *sorted(NEEDS_ALL_ACTORS)))
    full = onset_spec("quarter", 4, 4, base)
    assert (full.horizon, full.quiet, full.periods_per_year) == (4, 4, 4)
    assert NEEDS_ALL_ACTORS <= set(full.features) and full.penalty == 2.0
    own = onset_spec("month", 12, 12, base, selection_only=True)
    assert own.periods_per_year == 12 and own.penalty == 2.0
    assert not NEEDS_ALL_ACTORS & set(own.features)
    assert set(own.features) == set(OnsetSpec().features) - NEEDS_ALL_ACTORS


def test_calibration_in_the_large_is_the_mean_gap_with_a_unit_clustered_error():
    """Observed share minus mean probability, with the cluster-robust error over units that
    statsmodels gives a constant-only regression of ``onset - p``; probabilities at half the
    true chance are found to run low, calibrated ones are not."""
    import statsmodels.api as sm

    from analysis.models.onset_backtest import calibration_in_the_large

    rng = np.random.default_rng(7)
    units = np.repeat([f"u{i}" for i in range(40)], 8)
    # heterogeneous units with a shared outcome within a unit's overlapping windows
    chance = np.repeat(rng.uniform(0.02, 0.4, 40), 8)
    onset = (rng.uniform(size=units.size) < chance).astype(int)
    pred = pd.DataFrame({"region_id": units, "onset": onset, "right": chance, "half": chance / 2})
    cal = calibration_in_the_large(pred, "half")
    gap = onset - pred["half"].to_numpy()
    ols = sm.OLS(gap, np.ones((units.size, 1))).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(units)[0]}
    )
    assert cal["difference"] == pytest.approx(float(ols.params[0]), rel=1e-12)
    assert cal["se"] == pytest.approx(float(ols.bse[0]), rel=1e-9)
    assert cal["observed"] == pytest.approx(onset.mean())
    assert cal["mean_probability"] == pytest.approx(pred["half"].mean())
    assert cal["n_units"] == 40
    assert cal["difference"] > 2 * cal["se"]  # halved probabilities are found to run low
    # calibrated probabilities: the 95% interval of the gap holds 0 in about 95% of studies
    held = 0
    for seed in range(200):
        r = np.random.default_rng(seed)
        p = np.repeat(r.uniform(0.02, 0.4, 40), 8)
        y = (r.uniform(size=p.size) < p).astype(int)
        c = calibration_in_the_large(pd.DataFrame({"region_id": units, "onset": y, "p": p}), "p")
        held += abs(c["difference"]) <= 1.96 * c["se"]
    assert 0.90 <= held / 200 <= 0.99


def test_last_event_and_the_periods_since_it():
    """The quiet units' sentences say how long a unit has been quiet (the demo's Guidimaka:
    24 months, read as "in 12 periods")."""
    from analysis.models.onset_forecast import _last_event

    periods = pd.date_range("2023-01-01", periods=6, freq="MS")
    counts = np.array([[0, 2, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 3]])
    last, quiet = _last_event(counts, periods)
    assert last[0] == pd.Timestamp("2023-02-01") and quiet[0] == 4
    assert pd.isna(last[1]) and quiet[1] == -1
    assert last[2] == pd.Timestamp("2023-06-01") and quiet[2] == 0


def test_calibration_by_history_splits_never_active_units_from_the_others():
    """A unit with an event at or before the origin (even outside the quiet window) is
    "before"; one without any is "never" (the real study's Niger units, 120 forecasts, no
    first event, beside 31 of 161 for the others)."""
    from analysis.models.onset_backtest import calibration_by_history

    counts = np.array([[0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0], [0, 0, 0, 2, 0, 0]])
    ids = ["A", "B", "C"]
    pred = pd.DataFrame({
        "origin": [2, 2, 2, 4, 4, 4], "region_id": ["A", "B", "C"] * 2,
        "onset": [0, 1, 0, 1, 0, 0], "onset_model": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
    })  # fmt: skip
    split = calibration_by_history(pred, counts, ids, ["onset_model"])
    never, before = split["never"]["onset_model"], split["before"]["onset_model"]
    # never: A at 2 and 4, C at 2 (C's event is at period 3, after origin 2)
    assert never["n_forecasts"] == 3 and never["n_events"] == 1
    assert never["mean_probability"] == pytest.approx((0.1 + 0.3 + 0.4) / 3)
    # before: B at 2 and 4, C at 4
    assert before["n_forecasts"] == 3 and before["n_events"] == 1
    assert before["observed"] == pytest.approx(1 / 3)
    assert "report_model" not in split["never"]


def test_quarterly_onset_evidence_and_json_label_quarters(sahel_geo, sahel_sim, boundaries):
    """A quarterly study's onset evidence read "11 origins, 2012-04 to 2019-10" of origins
    2012Q2 to 2019Q4, and its JSON "within 4 periods after 2020-10" of 2020Q4."""
    from analysis.models.onset_backtest import study_onset_backtest
    from analysis.models.onset_forecast import onset_forecast, onset_to_dict
    from analysis.panel import from_matrix

    y = sahel_sim["counts"][:, -96:]
    quarters = pd.date_range("1997-01-01", periods=96, freq="QS")  # to 2020Q4
    panel = from_matrix(y, list(sahel_geo.region_ids), quarters, "quarter", boundaries)
    card = study_onset_backtest(panel, 4, 4, boundaries=boundaries, stride=6)
    assert card["available"], card.get("reason")
    # the last origin whose 4 quarters are known is 2019Q4 (index 91); every 6th before it
    # down to 2000Q2 (index 13)
    assert (card["first_origin"], card["last_origin"]) == ("2000Q2", "2019Q4")
    fc = onset_forecast(panel, 4, 4, boundaries=boundaries)
    out = onset_to_dict(fc, freq="quarter")
    assert out["origin"] == "2020Q4"
    assert out["definition"].startswith("P(at least one event within 4 periods after 2020Q4)")
    assert onset_to_dict(fc)["origin"] == "2020-10"  # a monthly caller's label, as before


def test_country_chances_combine_units_and_their_base_rate_uses_only_ended_windows():
    """The overview states each target country's chance of a first event in any of its quiet
    units; the backtest scores it: units combined as 1 - prod(1 - p) (the report model's from
    its paths), the outcome any first event, the country base rate from earlier (origin,
    country) pairs whose window had ended."""
    from analysis.models.onset_backtest import country_onset_forecasts, country_onset_scorecard
    from analysis.report import spillover_text

    pred = pd.DataFrame({
        "origin": [20, 20, 20, 23, 23],
        "region_id": ["a1", "a2", "b1", "a1", "b1"],
        "country": ["A", "A", "B", "A", "B"],
        "onset": [0, 1, 0, 0, 0],
        "onset_model": [0.1, 0.2, 0.3, 0.1, 0.4],
        "base_rate": [0.2] * 5,
        "neighbour_rule": [0.1, 0.3, 0.2, 0.1, 0.2],
        "distance_decay": [0.1] * 5,
    })  # fmt: skip
    # earlier design rows: A had a first event at origin 5, B none; origin 15 ends at 21
    design = pd.DataFrame({
        "origin": [5, 5, 8, 15],
        "country": ["A", "B", "B", "A"],
        "onset": [1, 0, 0, 1],
    })  # fmt: skip
    joint = pd.Series([0.25, 0.3, 0.12, 0.4], index=pd.MultiIndex.from_tuples(
        [(20, "A"), (20, "B"), (23, "A"), (23, "B")]))  # fmt: skip
    frame = country_onset_forecasts(pred, design, horizon=6, joint=joint)
    row = frame.set_index(["origin", "country"])
    assert row.loc[(20, "A"), "onset_model"] == pytest.approx(1 - 0.9 * 0.8)
    assert row.loc[(20, "A"), "onset"] == 1 and row.loc[(20, "A"), "units"] == 2
    assert row.loc[(23, "B"), "report_model"] == pytest.approx(0.4)
    # at origin 20 the pairs with origin <= 14 are known: (5, A) hit, (5, B), (8, B) not
    assert row.loc[(20, "A"), "country_base_rate"] == pytest.approx((1 + 1) / (3 + 2))
    # at 23 (15, A) has ended too
    assert row.loc[(23, "B"), "country_base_rate"] == pytest.approx((2 + 1) / (4 + 2))
    card = country_onset_scorecard(frame)
    assert card["reference"] == "report_model" and card["n_forecasts"] == 4
    assert card["n_onsets"] == 1 and card["n_origins"] == 2
    y = frame["onset"].to_numpy(float)
    brier = ((frame["report_model"] - y) ** 2).mean()
    assert card["methods"]["report_model"]["brier"] == pytest.approx(brier)
    base = ((frame["country_base_rate"] - y) ** 2).mean()
    assert card["margin_vs"]["country_base_rate"]["difference"] == pytest.approx(base - brier)
    assert card["by_country"]["B"] == {"forecasts": 2, "onsets": 0,
                                       "mean_probability": pytest.approx(0.35)}  # fmt: skip
    said = spillover_text.country_record({"country": card}, "B")
    assert said == (
        "over this study's past origins such a probability for B averaged 35% at 2 origins, "
        "and none was followed by a first event"
    )
    text = spillover_text.country_evidence_sentence({"country": card})
    assert "on 4 country forecasts at 2 origins (1 followed by a first event)" in text
    assert f"{base:.3f} for the country base rate" in text
    assert spillover_text.country_evidence_sentence({}) == ""
    # the overview's sentence after its country probabilities: here the report model is
    # behind the country base rate, as on the demo
    verdict = spillover_text.country_verdict_sentence({"country": card})
    assert verdict.startswith(
        "On this study's past origins, the chance of a first event in any of a country's quiet "
        "units (what the probability above is for a country without events yet"
    )
    assert f"Brier score of {brier:.3f} against {base:.3f} for the country base rate" in verdict
    assert "too few to judge" in verdict  # one first event
    assert not card["enough"]
    enough = spillover_text.country_verdict_sentence({"country": {**card, "enough": True}})
    worse = [m for m, v in card["margin_vs"].items() if v["difference"] <= 0]
    assert worse and "not lower than" in enough
    assert spillover_text.country_verdict_sentence(None) == ""
    # one origin: no error can be estimated, so nothing is established; few first events:
    # no verdict at all
    one = country_onset_scorecard(frame[frame["origin"] == 20])
    assert all(np.isnan(v["se"]) for v in one["margin_vs"].values())
    rules = {"country_base_rate", "base_rate", "neighbour_rule", "distance_decay"}
    assert set(one["behind"]) | set(one["narrow"]) == rules  # no edge is established
    assert "more than two standard errors" not in spillover_text.country_verdict_sentence(
        {"country": one}
    )
    assert "too few to judge" in spillover_text.country_verdict_sentence({"country": one})
