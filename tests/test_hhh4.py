"""Tests of the endemic-epidemic (hhh4-type) model: likelihood, fit, recovery, simulation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats
from scipy.sparse.csgraph import shortest_path

from analysis.errors import InputError, ModelError
from analysis.models import hhh4 as H
from analysis.simulate import simulate_hhh4_counts

TRUTH = {
    "end.intercept": np.log(0.5),
    "end.trend": 0.1,
    "ar.log_lambda": np.log(0.4),
    "ne.log_phi": np.log(0.3),
    "ne.cross_border": -0.5,
    "ne.log_d": np.log(1.5),
    "log_psi": np.log(0.5),
}


def grid(n_rows: int = 4, n_cols: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A grid of regions (rook adjacency) split into three 'countries' by column."""
    n = n_rows * n_cols
    adj = np.zeros((n, n))
    for i in range(n_rows):
        for j in range(n_cols):
            a = i * n_cols + j
            if i + 1 < n_rows:
                adj[a, a + n_cols] = adj[a + n_cols, a] = 1
            if j + 1 < n_cols:
                adj[a, a + 1] = adj[a + 1, a] = 1
    order = shortest_path(adj, unweighted=True)
    order[np.isinf(order)] = 999
    col = np.arange(n) % n_cols
    country = np.where(col < 2, 0, np.where(col < 4, 1, 2))
    cross = country[:, None] != country[None, :]
    return order.astype(int), cross, country


def sim_independent(order, cross, n_periods, seed, truth=TRUTH, first_order=False):
    return simulate_hhh4_counts(
        order,
        cross,
        n_periods,
        intercept=truth["end.intercept"],
        trend=truth["end.trend"],
        log_lambda=truth["ar.log_lambda"],
        log_phi=truth["ne.log_phi"],
        cross_border_effect=truth["ne.cross_border"],
        decay=None if first_order else float(np.exp(truth["ne.log_d"])),
        dispersion=float(np.exp(truth["log_psi"])),
        seed=seed,
    )


def test_negative_binomial_terms_match_scipy():
    rng = np.random.default_rng(0)
    y = rng.poisson(3.0, size=(4, 50)).astype(float)
    mu = rng.uniform(0.1, 8.0, size=y.shape)
    k = 1.7
    ll, _, _ = H._nb_terms(y, mu, k)
    assert ll == pytest.approx(stats.nbinom.logpmf(y, k, k / (k + mu)).sum(), rel=1e-12)


@pytest.mark.parametrize("weights", ["power_law", "first_order"])
def test_gradient_matches_finite_differences(weights):
    order, cross, country = grid()
    spec = H.HHH4Spec(weights=weights, seasonality=1, group_sd=0.7, activity_window=6)
    y = sim_independent(order, cross, 40, seed=3)
    pb, _, _ = H._build_problem(y, order, cross, country, None, spec, 0)
    rng = np.random.default_rng(1)
    theta = rng.normal(0, 0.3, len(pb.layout.names))
    _, g = H.loglik_and_grad(theta, pb)
    eps = 1e-6
    num = np.array(
        [
            (H.loglik_and_grad(theta + eps * e, pb)[0] - H.loglik_and_grad(theta - eps * e, pb)[0])
            / (2 * eps)
            for e in np.eye(len(theta))
        ]
    )
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-5)


def test_weights_are_row_normalised_and_first_order_is_the_steep_limit():
    order, _, _ = grid()
    for kind in ("power_law", "first_order"):
        w = H.neighbour_weights(order, kind, d=1.2)
        np.testing.assert_allclose(w.sum(axis=1), 1.0)
        assert np.all(np.diag(w) == 0)
    first = H.neighbour_weights(order, "first_order")
    n_nb = (order == 1).sum(axis=1)
    np.testing.assert_allclose(first[order == 1], np.repeat(1.0 / n_nb, n_nb))
    steep = H.neighbour_weights(order, "power_law", d=60.0)
    np.testing.assert_allclose(steep, first, atol=1e-12)
    # Orders beyond max_order get nothing.
    w3 = H.neighbour_weights(order, "power_law", d=1.0, max_order=2)
    assert np.all(w3[order > 2] == 0)


def test_cross_border_multiplier_is_applied_before_normalising():
    """Every source passes on the same total whatever gamma is (as hhh4's normalize=TRUE);
    gamma only shifts that total between foreign and domestic neighbours, by the odds
    exp(gamma) per unit of raw weight."""
    order, cross, _ = grid()
    base = H.neighbour_weights(order, "power_law", d=1.5)
    for gamma in (-2.0, 0.7):
        w = H.neighbour_weights(order, "power_law", d=1.5, cross=cross, gamma=gamma)
        np.testing.assert_allclose(w.sum(axis=1), 1.0)
        both = (w > 0) & (base > 0)
        ratio = np.where(both, w / np.where(both, base, 1.0), np.nan)
        # within a source row, foreign/domestic ratio of the rescaling is exactly exp(gamma)
        for q in range(20):
            f, dmt = ratio[q, cross[q] & both[q]], ratio[q, ~cross[q] & both[q]]
            if len(f) and len(dmt):
                np.testing.assert_allclose(f / dmt[0], np.exp(gamma))
    # a border region's total transmission no longer depends on gamma
    fit_like = H.neighbour_weights(order, "first_order", cross=cross, gamma=-3.0)
    assert np.allclose(fit_like.sum(axis=1), 1.0)


def _coverage(
    weights: str, n_sims: int, n_periods: int
) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
    order, cross, _ = grid()
    truth = dict(TRUTH)
    if weights == "first_order":
        truth.pop("ne.log_d")
    spec = H.HHH4Spec(weights=weights)
    hits, z = [], []
    names = ()
    for s in range(n_sims):
        y = sim_independent(order, cross, n_periods, seed=1000 + s, truth=truth,
                            first_order=weights == "first_order")  # fmt: skip
        fit = H.fit_hhh4(y, order, cross, spec=spec)
        # A parameter estimated on a bound has no Wald interval and counts as a miss.
        ci = fit.conf_int(0.95)
        tv = np.array([truth[n] for n in fit.names])
        hits.append((ci[:, 0] <= tv) & (tv <= ci[:, 1]))
        z.append((fit.params - tv) / fit.se)
        names = fit.names
    return np.mean(hits, axis=0), names, np.array(z)


def test_recovery_power_law_200_simulations():
    """95% Wald intervals cover the true parameters in >= 90% of 200 simulated panels.

    Data come from ``analysis.simulate.simulate_hhh4_counts`` (built on the generic
    endemic-epidemic simulator, not on the model's own code).
    """
    cover, names, _ = _coverage("power_law", 200, 120)
    assert set(names) == set(TRUTH)
    assert np.all(cover >= 0.90), dict(zip(names, cover, strict=True))
    # and not trivially wide: no parameter is covered every time
    assert np.all(cover <= 0.995), dict(zip(names, cover, strict=True))


def test_recovery_first_order_point_estimates():
    """First-order weights, 25 panels: the estimates centre on the truth (mean z-score within
    about three of its standard errors, 0.2), their standard errors are the spread's (z-scores'
    SD 0.6-1.5: neither too narrow nor too wide), and 95% intervals cover >= 80%."""
    cover, names, z = _coverage("first_order", 25, 120)
    assert np.all(cover >= 0.8), dict(zip(names, cover, strict=True))
    assert np.all(np.abs(z.mean(axis=0)) < 0.6), dict(zip(names, z.mean(axis=0), strict=True))
    sd = z.std(axis=0, ddof=1)
    assert np.all((sd > 0.6) & (sd < 1.5)), dict(zip(names, sd, strict=True))


def test_estimates_are_consistent_on_a_long_panel():
    order, cross, _ = grid()
    y = sim_independent(order, cross, 1500, seed=7)
    fit = H.fit_hhh4(y, order, cross)
    est = dict(zip(fit.names, fit.params, strict=True))
    se = dict(zip(fit.names, fit.se, strict=True))
    for name, value in TRUTH.items():
        assert abs(est[name] - value) < 4 * se[name], (name, est[name], value, se[name])
    assert se["ar.log_lambda"] < 0.05


def test_all_zero_groups_stay_finite_with_penalised_offsets():
    order, cross, country = grid()
    y = sim_independent(order, cross, 100, seed=11)
    y[country == 2] = 0  # a whole 'country' never sees an event
    fit = H.fit_hhh4(y, order, cross, groups=country, spec=H.HHH4Spec(group_sd=1.0))
    table = fit.table()
    groups = table[table["name"].str.startswith("end.group")].set_index("name")
    assert np.isfinite(groups["estimate"]).all() and np.isfinite(groups["se"]).all()
    assert groups.loc["end.group[2]", "estimate"] < groups.loc["end.group[0]", "estimate"] - 0.5
    assert not any(n.startswith("end.group") for n in fit.at_bound)


def test_empirical_bayes_group_sd_tracks_the_spread_of_group_levels():
    """The Laplace-marginal estimate of the group sd is near the realised spread of the true
    group levels when the endemic part is informative, and small when there is no spread."""
    order, cross, _ = grid(6, 5)
    groups = np.arange(order.shape[0]) // 3  # 10 groups of 3 regions
    truth = {**TRUTH, "ar.log_lambda": np.log(0.2), "ne.log_phi": np.log(0.1)}
    spread = np.random.default_rng(5).normal(0, 1.5, 10)
    sims = {}
    for label, levels in (("flat", np.zeros(10)), ("spread", spread)):
        sims[label] = H.simulate_hhh4(
            {**truth, **{f"end.group[{g}]": levels[g] for g in range(10)}},
            order, cross, n_periods=80, groups=groups, spec=H.HHH4Spec(group_sd=1.0), seed=2,
        )  # fmt: skip
    sd_flat = H.fit_hhh4(sims["flat"], order, cross, groups=groups).spec.group_sd
    sd_spread = H.fit_hhh4(sims["spread"], order, cross, groups=groups).spec.group_sd
    realised = spread.std()
    assert sd_flat < 0.4
    assert 0.6 * realised < sd_spread < 1.6 * realised


def test_clear_errors():
    order, cross, _ = grid()
    with pytest.raises(ModelError, match="no events"):
        H.fit_hhh4(np.zeros((20, 30)), order, cross)
    y = sim_independent(order, cross, 60, seed=1)
    isolated = np.where(np.eye(20, dtype=bool), 0, 999)
    with pytest.raises(ModelError, match="not identified"):
        H.fit_hhh4(y, isolated, cross, spec=H.HHH4Spec(cross_border=False))
    with pytest.raises(InputError):
        H.fit_hhh4(y[:5], order, cross)
    with pytest.raises(InputError):
        H.fit_hhh4(-y, order, cross)
    with pytest.raises(InputError):
        H.HHH4Spec(weights="gravity")


def test_one_step_simulation_matches_closed_forms():
    """At horizon 1 (no parameter uncertainty) the mean, decomposition and P(>=1) are exact."""
    order, cross, _ = grid()
    y = sim_independent(order, cross, 100, seed=21)
    fit = H.fit_hhh4(y, order, cross)
    p = dict(zip(fit.names, fit.params, strict=True))
    last = y[:, -1].astype(float)
    en = np.exp(p["end.intercept"] + p["end.trend"] * 1 / 12)  # trend is zero at the last period
    raw = np.where((order >= 1) & (order <= 5), np.maximum(order, 1.0) ** -np.exp(p["ne.log_d"]), 0)
    raw = raw * np.exp(p["ne.cross_border"] * cross)
    w = raw / raw.sum(axis=1, keepdims=True)
    ne = np.exp(p["ne.log_phi"]) * (w.T @ last)
    own = np.exp(p["ar.log_lambda"]) * last
    mu = en + own + ne
    k = np.exp(-p["log_psi"])
    sim = H.simulate_forward(fit, last, 1, n_draws=4, n_paths=20000, seed=3, uncertainty=False)
    np.testing.assert_allclose(sim.endemic[0, 0], en)
    np.testing.assert_allclose(sim.own[0, 0], own)
    # the simulation keeps the neighbour weights in float32 (half the memory of the largest
    # arrays): a few float32 ulps apart (1.2e-7 with numpy 2.4), no more
    np.testing.assert_allclose(sim.neighbour[0, 0], ne, rtol=1e-6)
    p_any = sim.any_event.mean(axis=(0, 1))
    exact = 1 - (k / (k + mu)) ** k
    se = np.sqrt(exact * (1 - exact) / 80000)
    assert np.all(np.abs(p_any - exact) < 4.5 * se + 1e-9)
    mean = sim.total.mean(axis=(0, 1))
    sd = np.sqrt((mu + mu**2 / k) / 80000)
    assert np.all(np.abs(mean - mu) < 4.5 * sd)


def test_parameter_uncertainty_widens_and_fixed_regions_hold():
    order, cross, _ = grid()
    y = sim_independent(order, cross, 60, seed=4)
    fit = H.fit_hhh4(y, order, cross)
    last = y[:, -1]
    a = H.simulate_forward(fit, last, 6, n_draws=100, n_paths=100, seed=1, uncertainty=False)
    b = H.simulate_forward(fit, last, 6, n_draws=100, n_paths=100, seed=1, uncertainty=True)
    # Spread across draws of the per-draw expected total: path noise only vs path noise plus
    # parameter uncertainty.
    spread_a = a.total.mean(axis=1).std(axis=0)
    spread_b = b.total.mean(axis=1).std(axis=0)
    assert np.median(spread_b) > 1.3 * np.median(spread_a)
    held = H.simulate_forward(fit, last, 6, n_draws=5, n_paths=10, seed=1, fixed={0: 2.0},
                              keep_paths=True)  # fmt: skip
    assert np.all(held.paths[:, :, :, 0] == 2)


def test_own_simulator_agrees_with_generic_simulator():
    order, cross, _ = grid()
    spec = H.HHH4Spec()
    a = np.stack([H.simulate_hhh4(TRUTH, order, cross, n_periods=60, spec=spec, seed=s)
                  for s in range(60)])  # fmt: skip
    b = np.stack([sim_independent(order, cross, 60, seed=500 + s) for s in range(60)])
    ma, mb = a.mean(axis=(0, 1)), b.mean(axis=(0, 1))
    se = np.sqrt(a.var(axis=(0, 1)) / 60 / 20 + b.var(axis=(0, 1)) / 60 / 20)
    # per-period averages agree within sampling noise (loose: regions are correlated)
    assert np.mean(np.abs(ma - mb) < 4 * se) > 0.9


def test_spec_replace_keeps_validation():
    with pytest.raises(InputError):
        replace(H.HHH4Spec(), max_order=0)


def test_profile_interval_for_a_parameter_on_its_bound():
    """No cross-border transmission in the data: the estimate sits on its bound, and the
    profile-likelihood interval bounds how large the cross-border effect could be."""
    order, cross, _ = grid()
    truth = {**TRUTH, "ne.cross_border": -9.0}
    y = sim_independent(order, cross, 240, seed=8, truth=truth)
    fit = H.fit_hhh4(y, order, cross)
    assert "ne.cross_border" in fit.at_bound
    prof = H.profile_intervals(fit, y, cross)
    lo, hi = prof.profile_ci["ne.cross_border"]
    assert lo == pytest.approx(-8.0) and -8.0 < hi < 0.0
    np.testing.assert_allclose(prof.conf_int()[fit.names.index("ne.cross_border")], [lo, hi])
    # At the upper limit the constrained log-likelihood is chi2_1(0.95)/2 below the maximum.
    free_start = fit.params.copy()
    free_start[fit.names.index("ne.cross_border")] = hi
    pb, _, _ = H._build_problem(y, order, cross, None, None, fit.spec, 0)
    bounds = [H._BOUNDS.get(n, (None, None)) for n in fit.names]
    bounds[fit.names.index("ne.cross_border")] = (hi, hi)
    from scipy import optimize

    res = optimize.minimize(
        lambda th: tuple(-v for v in H.loglik_and_grad(th, pb)), free_start, jac=True,
        method="L-BFGS-B", bounds=bounds,
    )  # fmt: skip
    assert fit.loglik - (-res.fun) == pytest.approx(stats.chi2.ppf(0.95, 1) / 2, abs=0.02)


def test_endemic_only_model_matches_statsmodels_negative_binomial():
    """Without the own and neighbour parts the model is an NB2 regression on a trend:
    estimates, standard errors and log-likelihood match statsmodels."""
    import statsmodels.api as sm

    order, cross, _ = grid()
    y = sim_independent(order, cross, 60, seed=5)
    spec = H.HHH4Spec(autoregressive=False, neighbourhood=False)
    fit = H.fit_hhh4(y, order, cross, spec=spec)
    assert fit.names == ("end.intercept", "end.trend", "log_psi")
    n_reg, n_per = y.shape
    t = np.tile(np.arange(1, n_per), n_reg).astype(float)
    exog = np.column_stack([np.ones_like(t), (t - (n_per - 1)) / 12])
    ref = sm.NegativeBinomial(y[:, 1:].ravel(), exog, loglike_method="nb2").fit(
        disp=0, method="bfgs", maxiter=500
    )
    np.testing.assert_allclose(fit.params[:2], ref.params[:2], rtol=1e-4, atol=1e-5)
    assert np.exp(fit.params[2]) == pytest.approx(ref.params[2], rel=1e-4)
    assert fit.loglik == pytest.approx(ref.llf, rel=1e-8)
    np.testing.assert_allclose(fit.se[:2], ref.bse[:2], rtol=2e-3)


def test_activity_covariate_recovery_and_forward_consistency():
    """The recent-activity covariate of the endemic part: estimates cover the truth, and the
    forward simulation uses the same covariate as the fit."""
    order, cross, _ = grid()
    truth = {
        **TRUTH, "end.intercept": np.log(0.05), "end.activity": 1.2,
        "ar.log_lambda": np.log(0.3), "ne.log_phi": np.log(0.2),
    }  # fmt: skip
    spec = H.HHH4Spec(activity_window=12)
    hits = []
    for s in range(40):
        y = H.simulate_hhh4(truth, order, cross, n_periods=120, spec=spec, seed=300 + s)
        fit = H.fit_hhh4(y, order, cross, spec=spec)
        ci = fit.conf_int()
        i = fit.names.index("end.activity")
        hits.append(ci[i, 0] <= 1.2 <= ci[i, 1])
    assert np.mean(hits) >= 0.85
    p = dict(zip(fit.names, fit.params, strict=True))
    sim = H.simulate_forward(fit, y[:, -12:], 1, n_draws=2, n_paths=5, uncertainty=False)
    nu = np.exp(
        p["end.intercept"] + p["end.trend"] / 12 + p["end.activity"] * (y[:, -12:].sum(1) > 0)
    )
    np.testing.assert_allclose(sim.endemic[0, 0], nu, rtol=1e-12)
    with pytest.raises(InputError, match="last 12 periods"):
        H.simulate_forward(fit, y[:, -3:], 1)


def test_parameter_draws_are_kept_stationary():
    """Draws whose transmission would explode (dominant eigenvalue >= 1) are redrawn."""
    order, cross, _ = grid()
    truth = {**TRUTH, "ar.log_lambda": np.log(0.5), "ne.log_phi": np.log(0.4)}
    y = sim_independent(order, cross, 30, seed=2, truth=truth)
    fit = H.fit_hhh4(y, order, cross)
    assert H.epidemic_radius(fit)[0] < 1
    # with enough sampling noise some raw draws would be explosive; none survive
    theta = H._param_rows(fit, 300, np.random.default_rng(0), True)
    assert np.all(H.epidemic_radius(fit, theta) < 1)
    lam = np.exp(fit.get("ar.log_lambda"))
    phi = np.exp(fit.get("ne.log_phi"))
    w = H.neighbour_weights(
        order,
        "power_law",
        np.exp(fit.get("ne.log_d")),
        cross=cross,
        gamma=fit.get("ne.cross_border"),
    )
    mat = lam * np.eye(20) + phi * w
    assert H.epidemic_radius(fit)[0] == pytest.approx(np.max(np.abs(np.linalg.eigvals(mat))))


def test_focus_trend_gradient_matches_finite_differences():
    order, cross, country = grid()
    spec = H.HHH4Spec(seasonality=1, group_sd=0.7, activity_window=6)
    mask = np.zeros(20, dtype=bool)
    mask[[3, 7]] = True
    y = sim_independent(order, cross, 40, seed=3)
    pb, _, _ = H._build_problem(y, order, cross, country, None, spec, 0, mask)
    names = pb.layout.names
    # the new coefficient sits between the endemic block and the epidemic parameters
    assert names.index("end.focus_level") == names.index("end.activity") + 1
    assert names.index("end.focus_trend") == names.index("end.activity") + 2
    assert pb.layout.i_lam == names.index("ar.log_lambda")
    assert pb.layout.i_phi == names.index("ne.log_phi")
    theta = np.random.default_rng(1).normal(0, 0.3, len(names))
    _, g = H.loglik_and_grad(theta, pb)
    eps = 1e-6
    num = np.array(
        [
            (H.loglik_and_grad(theta + eps * e, pb)[0] - H.loglik_and_grad(theta - eps * e, pb)[0])
            / (2 * eps)
            for e in np.eye(len(theta))
        ]
    )
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-5)


def test_focus_trend_mask_validation_and_default_unchanged():
    order, cross, _ = grid()
    y = sim_independent(order, cross, 40, seed=4)
    plain = H.fit_hhh4(y, order, cross)
    none_selected = H.fit_hhh4(y, order, cross, trend_mask=np.zeros(20, dtype=bool))
    assert none_selected.names == plain.names and none_selected.trend_mask is None
    np.testing.assert_allclose(none_selected.params, plain.params)
    with pytest.raises(InputError, match="duplicates the shared endemic level"):
        H.fit_hhh4(y, order, cross, trend_mask=np.ones(20, dtype=bool))
    with pytest.raises(InputError, match="boolean array"):
        H.fit_hhh4(y, order, cross, trend_mask=np.zeros(5, dtype=bool))


def test_focus_trend_recovery_coverage_and_forecast_growth():
    """One region whose endemic level grows by 0.6 per year on the log scale: the intervals of
    the focus trend and of lambda cover the truth, and forecasts continue the growth."""
    order, cross, _ = grid()
    truth = {
        **TRUTH, "end.trend": 0.0, "end.focus_level": np.log(4.0), "end.focus_trend": 0.6,
        "ar.log_lambda": np.log(0.25), "ne.log_phi": np.log(0.15),
    }  # fmt: skip
    mask = np.zeros(20, dtype=bool)
    mask[7] = True
    spec = H.HHH4Spec(weights="first_order", cross_border=False)
    hits = {"end.focus_trend": [], "end.focus_level": [], "ar.log_lambda": []}
    z = {name: [] for name in hits}
    for s in range(50):
        y = H.simulate_hhh4(
            truth, order, cross, n_periods=96, spec=spec, seed=500 + s,
            trend_mask=mask,
        )  # fmt: skip
        fit = H.fit_hhh4(y, order, cross, spec=spec, trend_mask=mask)
        ci = fit.conf_int()
        for name in hits:
            i = fit.names.index(name)
            hits[name].append(ci[i, 0] <= truth[name] <= ci[i, 1])
            z[name].append((fit.params[i] - truth[name]) / fit.se[i])
    for name, h in hits.items():
        assert np.mean(h) >= 0.85, (name, np.mean(h))
        # recovered: centred on the truth (the mean z-score's SE is 0.14), with standard
        # errors near the estimates' spread (z-scores' SD 0.78-0.99 measured: the focus
        # terms' are somewhat wide; 0.6 would be SEs two thirds too wide)
        assert abs(np.mean(z[name])) < 0.45, (name, np.mean(z[name]))
        assert 0.6 < np.std(z[name], ddof=1) < 1.4, (name, np.std(z[name], ddof=1))
    # forward simulation: the focus region's endemic level keeps growing step by step
    p = dict(zip(fit.names, fit.params, strict=True))
    sim = H.simulate_forward(fit, y[:, -1], 3, n_draws=2, n_paths=5, uncertainty=False)
    steps = np.arange(1, 4)[:, None] / 12
    nu = np.exp(
        p["end.intercept"] + p["end.trend"] * steps
        + (p["end.focus_level"] + p["end.focus_trend"] * steps) * mask[None, :]
    )  # fmt: skip
    np.testing.assert_allclose(sim.endemic[0], nu, rtol=1e-12)


_R_SCRIPT = """
suppressPackageStartupMessages(library(surveillance))
args <- commandArgs(trailingOnly = TRUE)
y <- as.matrix(read.csv(args[1], header = FALSE))
o <- as.matrix(read.csv(args[2], header = FALSE))
colnames(y) <- rownames(o) <- colnames(o) <- paste0("r", seq_len(ncol(y)) - 1)
fit <- hhh4(sts(observed = y, neighbourhood = o), list(
  end = list(f = ~ -1 + t + ri(type = "iid", corr = "none")),
  ar = list(f = ~ 1),
  ne = list(f = ~ 1, weights = W_powerlaw(maxlag = 5, normalize = TRUE, log = TRUE)),
  family = "NegBin1", subset = 2:nrow(y)))
stopifnot(fit$convergence)
cf <- coef(fit, se = TRUE)
out <- data.frame(name = c(rownames(cf), "sd.log", "loglik"),
                  estimate = c(cf[, 1], fit$Sigma.orig, fit$loglikelihood),
                  se = c(cf[, 2], NA, NA))
write.csv(out, args[3], row.names = FALSE)
"""


def _r_surveillance_available() -> bool:
    import shutil
    import subprocess

    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(
        ["Rscript", "-e", "library(surveillance)"], capture_output=True, timeout=60
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _r_surveillance_available(), reason="Rscript with surveillance not found")
def test_matches_r_surveillance_hhh4_with_power_law_and_random_intercepts(tmp_path):
    """The same simulated panel (20 regions, 150 months) fitted here and by R's
    ``surveillance::hhh4`` with power-law weights (maxlag 5, normalised), a linear trend and iid
    region random intercepts. Given R's random-effect variance, every estimate, standard error
    and the penalised log-likelihood agree to optimiser precision, and so does the variance
    estimated here. (R's hhh4 has no cross-border multiplier, so that term is off.)"""
    import subprocess

    import pandas as pd

    order, _, _ = grid()
    ids = np.array([f"r{i}" for i in range(20)])
    u = np.random.default_rng(3).normal(0.0, 0.8, 20)
    spec = H.HHH4Spec(cross_border=False, group_sd=1.0)
    truth = {
        "end.intercept": np.log(0.5), "end.trend": 0.1, "ar.log_lambda": np.log(0.3),
        "ne.log_phi": np.log(0.4), "ne.log_d": np.log(1.8), "log_psi": np.log(0.4),
        **{f"end.group[{g}]": v for g, v in zip(ids, u, strict=True)},
    }  # fmt: skip
    y = H.simulate_hhh4(truth, order, None, n_periods=150, spec=spec, groups=ids, seed=4)
    np.savetxt(tmp_path / "y.csv", y.T, delimiter=",", fmt="%d")
    np.savetxt(tmp_path / "order.csv", order, delimiter=",", fmt="%d")
    (tmp_path / "fit.R").write_text(_R_SCRIPT)
    subprocess.run(
        ["Rscript", str(tmp_path / "fit.R"), str(tmp_path / "y.csv"),
         str(tmp_path / "order.csv"), str(tmp_path / "r.csv")],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    ref = pd.read_csv(tmp_path / "r.csv").set_index("name")
    r_sd = float(np.exp(ref.loc["sd.log", "estimate"]))
    fixed = H.fit_hhh4(
        y, order, None, spec=replace(spec, group_sd=r_sd), groups=ids
    )  # R's variance
    est = dict(zip(fixed.names, fixed.params, strict=True))
    se = dict(zip(fixed.names, fixed.se, strict=True))
    assert not fixed.at_bound
    t_ref = y.shape[1] - 1  # R's trend is in periods from t = 0, ours in years from t_ref
    pairs = {
        "ar.log_lambda": ("ar.1", 1.0, 0.0),
        "ne.log_phi": ("ne.1", 1.0, 0.0),
        "ne.log_d": ("neweights.d", 1.0, 0.0),
        "log_psi": ("overdisp", None, 0.0),
        "end.trend": ("end.t", 12.0, 0.0),
        "end.intercept": ("end.ri(iid)", 1.0, ref.loc["end.t", "estimate"] * t_ref),
        **{f"end.group[{g}]": (f"end.ri(iid).{g}", 1.0, 0.0) for g in ids},
    }
    for ours, (theirs, factor, shift) in pairs.items():
        r_est = ref.loc[theirs, "estimate"]
        value = np.log(r_est) if factor is None else factor * r_est + shift
        assert est[ours] == pytest.approx(value, abs=2e-4), (ours, est[ours], value)
        if ours in ("ar.log_lambda", "ne.log_phi", "ne.log_d", "end.trend"):
            r_se = ref.loc[theirs, "se"] * (factor or 1.0)
            assert se[ours] == pytest.approx(r_se, rel=2e-3), (ours, se[ours], r_se)
    assert fixed.loglik == pytest.approx(ref.loc["loglik", "estimate"], abs=1e-3)
    # the variance itself, estimated here as hhh4 does
    eb = H.fit_hhh4(y, order, None, spec=replace(spec, group_sd=None), groups=ids)
    assert np.log(eb.spec.group_sd) == pytest.approx(np.log(r_sd), abs=1e-4)
    assert eb.loglik == pytest.approx(ref.loc["loglik", "estimate"], abs=1e-3)
    np.testing.assert_allclose(eb.params, fixed.params, atol=1e-3)


def test_trend_damping_leaves_the_fit_alone_and_damps_forecasts():
    """Damping only acts beyond the fitted periods: the estimates are those of the undamped
    model, and h steps ahead the trend has moved by phi (1 - phi**h) / (1 - phi) periods."""
    order, cross, _ = grid()
    mask = np.zeros(20, dtype=bool)
    mask[7] = True
    truth = {
        **TRUTH, "end.focus_level": np.log(3.0), "end.focus_trend": 0.5,
        "ar.log_lambda": np.log(0.25), "ne.log_phi": np.log(0.15),
    }  # fmt: skip
    spec = H.HHH4Spec(weights="first_order", cross_border=False)
    y = H.simulate_hhh4(truth, order, cross, n_periods=72, spec=spec, seed=8, trend_mask=mask)
    plain = H.fit_hhh4(y, order, cross, spec=spec, trend_mask=mask)
    damped = H.fit_hhh4(y, order, cross, spec=replace(spec, trend_damping=0.8), trend_mask=mask)
    np.testing.assert_allclose(damped.params, plain.params, rtol=1e-8, atol=1e-10)
    sim = H.simulate_forward(damped, y[:, -1], 24, n_draws=2, n_paths=2, uncertainty=False)
    p = dict(zip(damped.names, damped.params, strict=True))
    h = np.arange(1, 25)
    moved = 0.8 * (1 - 0.8**h) / 0.2 / 12  # years of trend after h months
    nu = np.exp(
        p["end.intercept"] + p["end.trend"] * moved[:, None]
        + (p["end.focus_level"] + p["end.focus_trend"] * moved[:, None]) * mask[None, :]
    )  # fmt: skip
    np.testing.assert_allclose(sim.endemic[0], nu, rtol=1e-12)
    # the damped trend levels off at phi / (1 - phi) = 4 months of growth
    assert moved[-1] < 4 / 12 and moved[-1] > 0.99 * 4 / 12
    with pytest.raises(InputError, match="trend_damping"):
        H.HHH4Spec(trend_damping=0.0)


def _nested_panel(seed: int):
    """30 regions in 3 countries; region levels spread widely around their country's level,
    as admin-1 units do (the demo's Bamako vs Mopti); own-lag share 0.25."""
    order, _, _ = grid(6, 5)
    col = np.arange(30) % 5
    country = np.where(col < 2, "A", np.where(col < 4, "B", "C"))
    cross = country[:, None] != country[None, :]
    rng = np.random.default_rng(seed)
    cty = {"A": 0.8, "B": -0.5, "C": -1.5}
    region = rng.normal(0.0, 1.5, 30)
    truth = {
        "end.intercept": np.log(0.3), "end.trend": 0.0, "ar.log_lambda": np.log(0.25),
        "ne.log_phi": np.log(0.12), "ne.cross_border": 0.0, "ne.log_d": np.log(2.0),
        "log_psi": np.log(0.6),
        **{f"end.group[{c}]": v for c, v in cty.items()},
        **{f"end.region[r{i}]": region[i] for i in range(30)},
    }  # fmt: skip
    groups = {"group": country, "region": np.array([f"r{i}" for i in range(30)])}
    y = H.simulate_hhh4(
        truth, order, cross, n_periods=96, spec=H.HHH4Spec(group_sd=1.0), groups=groups,
        seed=seed,
    )  # fmt: skip
    return y, order, cross, country, groups


def test_nested_region_effects_remove_the_own_lag_bias_of_country_effects():
    """With region levels spread within countries, country-level offsets make the own lag
    stand in for each region's level (lambda biased upwards); offsets per region nested in
    country recover lambda, and both variances are estimated."""
    lam_country, lam_nested, hits = [], [], []
    for seed in range(4):
        y, order, cross, country, groups = _nested_panel(seed)
        by_country = H.fit_hhh4(y, order, cross, groups=country)
        nested = H.fit_hhh4(y, order, cross, groups=groups)
        assert any(n.startswith("end.region[") for n in nested.names)
        assert len(nested.spec.group_sd) == 2
        lam_country.append(np.exp(by_country.get("ar.log_lambda")))
        lam_nested.append(np.exp(nested.get("ar.log_lambda")))
        i = nested.names.index("ar.log_lambda")
        lo, hi = nested.conf_int()[i]
        hits.append(lo <= np.log(0.25) <= hi)
    assert np.mean(lam_country) > 0.32, lam_country
    assert abs(np.mean(lam_nested) - 0.25) < 0.04, lam_nested
    assert sum(hits) >= 3
    with pytest.raises(InputError, match="group_sd has 3 values"):
        H.fit_hhh4(y, order, cross, groups=groups, spec=H.HHH4Spec(group_sd=(1.0, 1.0, 1.0)))


def _reference_forward(fit, last, horizon, n_draws, n_paths, seed, fixed=None):
    """The forward simulation as it was before it was vectorised over scenarios: one scenario,
    a weight matrix built per draw, numpy's gamma and Poisson samplers (no activity term)."""
    rng = np.random.default_rng(seed)
    lay = fit.layout
    theta = H._param_rows(fit, n_draws, rng, True)
    t = np.arange(fit.n_periods, fit.n_periods + horizon, dtype=float)
    en = np.exp(fit.endemic_log_level(theta, t))
    lam = np.exp(theta[:, lay.i_lam])[:, None, None]
    k = np.exp(-theta[:, lay.i_psi])[:, None, None]
    mats = np.stack([
        np.exp(th[lay.i_phi]) * H.neighbour_weights(
            fit.order, fit.spec.weights, np.exp(th[lay.i_d]), fit.spec.max_order, fit.cross,
            th[lay.i_gamma],
        )
        for th in theta
    ])  # fmt: skip
    prev = np.broadcast_to(np.asarray(last, float), (n_draws, n_paths, len(last))).copy()
    total = np.zeros_like(prev)
    any_event = np.zeros(prev.shape, dtype=bool)
    for h in range(horizon):
        mu = en[:, h, None, :] + lam * prev + prev @ mats
        y = rng.poisson(rng.gamma(np.broadcast_to(k, mu.shape), mu / k)).astype(float)
        for i, v in (fixed or {}).items():
            y[:, :, i] = v
        total += y
        any_event |= y > 0
        prev = y
    return total, any_event


def test_vectorised_simulation_matches_the_reference_loop_in_distribution():
    """Same parameter draws (same seed), different samplers: per-region means of the totals and
    P(at least one event) agree within Monte Carlo error."""
    order, cross, _ = grid()
    y = sim_independent(order, cross, 80, seed=31)
    fit = H.fit_hhh4(y, order, cross)
    last = y[:, -1]
    new = H.simulate_forward(fit, last, 4, n_draws=200, n_paths=100, seed=5)
    old_total, old_any = _reference_forward(fit, last, 4, 200, 100, seed=5)
    n = 200 * 100
    for a, b in ((new.total, old_total), (new.any_event, old_any)):
        ma, mb = a.mean(axis=(0, 1)), b.mean(axis=(0, 1))
        # draws are shared, so the per-draw means differ only by path noise
        se = np.sqrt((a.var(axis=(0, 1)) + b.var(axis=(0, 1))) / n)
        assert np.all(np.abs(ma - mb) < 4.5 * se + 1e-9), np.max(np.abs(ma - mb) / se)
    # Draw by draw (the same parameters), the per-draw means differ by path noise only: the
    # standardised differences have mean 0 and standard deviation 1.
    a, b = new.total.mean(axis=1), old_total.mean(axis=1)
    z = (a - b) / np.sqrt((new.total.var(axis=1) + old_total.var(axis=1)) / 100)
    assert abs(z.mean()) < 0.15 and 0.9 < z.std() < 1.1, (z.mean(), z.std())
    # and the 90% intervals across draws have the same width
    qa, qb = np.quantile(a, [0.05, 0.95], axis=0), np.quantile(b, [0.05, 0.95], axis=0)
    ratio = (qa[1] - qa[0]) / (qb[1] - qb[0])
    assert np.all((ratio > 0.8) & (ratio < 1.25)), ratio


def test_a_scenario_gets_the_same_numbers_alone_or_with_others():
    """Common random numbers: simulating a scenario with others changes none of its numbers,
    whatever the chunking of the draws."""
    order, cross, _ = grid()
    y = sim_independent(order, cross, 60, seed=32)
    fit = H.fit_hhh4(y, order, cross)
    alone = H.simulate_forward(fit, y[:, -1], 5, n_draws=30, n_paths=20, seed=9,
                               fixed={3: 0.0}, keep_paths=True)  # fmt: skip
    both = H.simulate_paths(fit, y[:, -1], 5, {"continue": None, "silenced": {3: 0.0}},
                            n_draws=30, n_paths=20, seed=9, keep_paths=True)  # fmt: skip
    np.testing.assert_array_equal(alone.paths, both["silenced"].paths)
    np.testing.assert_array_equal(alone.any_event, both["silenced"].any_event)
    np.testing.assert_allclose(alone.neighbour, both["silenced"].neighbour)
    assert np.all(both["silenced"].paths[..., 3] == 0)
    # counts are monotone in the mean: silencing a region never raises another's count
    assert np.all(both["silenced"].paths <= both["continue"].paths)


def test_common_random_numbers_reduce_the_variance_of_a_scenario_difference():
    """The per-path difference continue - silenced at a neighbour of the silenced region has a
    far smaller variance on common random numbers than from independent simulations."""
    order, cross, _ = grid()
    truth = {**TRUTH, "ne.log_phi": np.log(0.5)}
    y = sim_independent(order, cross, 80, seed=33, truth=truth)
    fit = H.fit_hhh4(y, order, cross)
    last = y[:, -1]
    kw = dict(n_draws=50, n_paths=100, uncertainty=False)
    crn = H.simulate_paths(fit, last, 6, {"c": None, "s": {7: 0.0}}, seed=1, **kw)
    diff_crn = crn["c"].total - crn["s"].total
    other = H.simulate_forward(fit, last, 6, seed=2, fixed={7: 0.0}, **kw)
    diff_ind = crn["c"].total - other.total
    nb = [2, 6, 8, 12]  # first-order neighbours of region 7 on the 4 x 5 grid
    assert np.all(diff_crn[..., nb].mean(axis=(0, 1)) > 0)
    ratio = diff_crn[..., nb].var(axis=(0, 1)) / diff_ind[..., nb].var(axis=(0, 1))
    assert np.all(ratio < 0.5), ratio


def test_transmission_blocks_follow_connected_groups():
    """Two unconnected copies of the grid: weights are built per group and the simulation of
    the pair equals that of each copy (same parameters, no transmission between them)."""
    order, cross, _ = grid()
    big = np.full((40, 40), 999)
    big[:20, :20] = order
    big[20:, 20:] = order
    bcross = np.ones((40, 40), dtype=bool)
    bcross[:20, :20] = cross
    bcross[20:, 20:] = cross
    y = sim_independent(order, cross, 60, seed=34)
    fit = H.fit_hhh4(np.vstack([y, y]), big, bcross)
    theta = fit.params[None, :]
    tr = H._transmission(fit, theta)
    assert [s.stop - s.start for s in tr.slices] == [20, 20]
    lay = fit.layout
    dense = np.exp(fit.get("ne.log_phi")) * H.neighbour_weights(
        big, "power_law", np.exp(fit.params[lay.i_d]), 5, bcross, fit.params[lay.i_gamma]
    )
    prev = np.random.default_rng(0).poisson(2.0, size=(1, 3, 40)).astype(float)
    got = np.empty_like(prev)
    got[..., tr.perm] = tr.apply(prev[..., tr.perm])
    np.testing.assert_allclose(got, prev @ dense, rtol=1e-10)


def test_likelihood_is_computed_per_connected_group():
    """Two unconnected copies of the grid plus an isolated region: the likelihood (done per
    connected group) equals the sum over the separate panels, and its gradient matches finite
    differences."""
    order, cross, country = grid()
    big = np.full((41, 41), 999)
    big[:20, :20] = order
    big[20:40, 20:40] = order
    np.fill_diagonal(big, 0)
    bcross = np.ones((41, 41), dtype=bool)
    bcross[:20, :20] = cross
    bcross[20:40, 20:40] = cross
    y = sim_independent(order, cross, 40, seed=3)
    y2 = sim_independent(order, cross, 40, seed=4)
    lone = np.random.default_rng(5).poisson(0.5, size=(1, 40))
    spec = H.HHH4Spec(group_sd=0.7)
    groups = np.concatenate([country, country, [0]])
    pb, _, _ = H._build_problem(np.vstack([y, y2, lone]), big, bcross, groups, None, spec, 0)
    assert len(pb.groups_w) == 2
    theta = np.random.default_rng(1).normal(0, 0.3, len(pb.layout.names))
    _, g = H.loglik_and_grad(theta, pb)
    eps = 1e-6
    num = np.array([
        (H.loglik_and_grad(theta + eps * e, pb)[0] - H.loglik_and_grad(theta - eps * e, pb)[0])
        / (2 * eps)
        for e in np.eye(len(theta))
    ])  # fmt: skip
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-5)
    # the neighbour part of each copy is that of the copy alone
    one, _, _ = H._build_problem(y2, order, cross, country, None, spec, 0)
    _, _, ne_big, _, _, _ = H._components(theta, pb)
    _, _, ne_one, _, _, _ = H._components(theta, one)
    np.testing.assert_allclose(ne_big[20:40], ne_one, rtol=1e-12)
    assert np.all(ne_big[40] == 0)


@pytest.mark.real_data
def test_line_search_overflow_never_reaches_the_reader_as_a_warning(real_data_path):
    """The real study's spillover fit on its first 56 months (2015-01 to 2019-08) sent the
    optimiser's line search through exp() overflows, which the methods appendix printed as
    RuntimeWarnings; the fit must be silent and unchanged in kind (a finite optimum)."""
    import warnings
    from pathlib import Path

    from analysis.models import registry
    from analysis.models.forecast import History
    from analysis.report import context

    study = Path(__file__).resolve().parent.parent / "studies" / "jnim_sahel_ucdp.yaml"
    ctx = context.load(study)
    wide = ctx.data.panel.pivot(index="region_id", columns="period", values="events")
    history = History(
        wide.to_numpy()[:, :56].astype(np.int64), tuple(wide.index), wide.columns[:56]
    )
    model = registry.get(
        "spillover", boundaries=ctx.data.boundaries, focus=list(ctx.study.focus), horizon=6
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        fitted = model.fit(history)
    paths = fitted.sample_paths(6, 50, np.random.default_rng(0))
    assert np.isfinite(paths).all()
