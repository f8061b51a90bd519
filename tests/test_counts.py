"""Tests of analysis.models.counts: fast NB2 MLE, statsmodels fits, fallbacks, overdispersion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from analysis.models import counts as c


def _nb_draw(mu, alpha, rng):
    r = 1 / alpha
    return rng.negative_binomial(r, r / (r + mu)).astype(float)


@pytest.fixture(scope="module")
def nb_data():
    rng = np.random.default_rng(11)
    n = 60
    t = np.arange(n) / 12
    X = np.column_stack([np.ones(n), t])
    y = _nb_draw(np.exp(0.8 + 0.6 * t), 0.4, rng)
    return y, X


def _reference_nb2(y, X):
    """Independent NB2 MLE: scipy.stats.nbinom log-pmf, derivative-free Nelder-Mead."""

    def nll(theta):
        mu = np.exp(X @ theta[:-1])
        r = np.exp(-theta[-1])
        return -np.sum(stats.nbinom.logpmf(y, r, r / (r + mu)))

    start = np.append(np.zeros(X.shape[1]), 0.0)
    start[0] = np.log(y.mean())
    res = optimize.minimize(
        nll, start, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 20000}
    )
    return res.x[:-1], np.exp(res.x[-1]), -res.fun


def test_nb2_mle_matches_independent_scipy_likelihood(nb_data):
    y, X = nb_data
    fit = c.nb2_mle(y, X)
    b_ref, a_ref, llf_ref = _reference_nb2(y, X)
    assert fit.converged and not fit.boundary
    np.testing.assert_allclose(fit.params, b_ref, atol=1e-4)
    assert fit.alpha == pytest.approx(a_ref, rel=1e-3)
    assert fit.llf == pytest.approx(llf_ref, abs=1e-6)
    assert c.nb2_loglik(y, np.exp(X @ fit.params), fit.alpha) == pytest.approx(fit.llf)


def test_nb2_mle_matches_statsmodels_params_and_standard_errors(nb_data):
    from statsmodels.discrete.discrete_model import NegativeBinomial

    y, X = nb_data
    fit = c.nb2_mle(y, X)
    sm = NegativeBinomial(y, X, loglike_method="nb2").fit(disp=0, maxiter=500)
    np.testing.assert_allclose(fit.params, sm.params[:-1], rtol=1e-4)
    assert fit.alpha == pytest.approx(sm.params[-1], rel=1e-3)
    # statsmodels' bse comes from the full Hessian (alpha included): same quantity as ours.
    np.testing.assert_allclose(fit.bse(), sm.bse[:-1], rtol=2e-3)


def test_poisson_boundary_when_underdispersed():
    y = np.array([3, 4, 3, 4, 3, 4, 3, 4, 3, 4], dtype=float)
    fit = c.nb2_mle(y)
    assert fit.boundary and fit.alpha == 0.0
    assert np.exp(fit.params[0]) == pytest.approx(y.mean())
    # Poisson standard error of log(mean) is 1 / sqrt(total count).
    assert fit.bse()[0] == pytest.approx(1 / np.sqrt(y.sum()), rel=1e-6)


def test_poisson_mle_matches_statsmodels(nb_data):
    from statsmodels.discrete.discrete_model import Poisson

    y, X = nb_data
    fit = c.poisson_mle(y, X)
    sm = Poisson(y, X).fit(disp=0)
    np.testing.assert_allclose(fit.params, sm.params, rtol=1e-6)
    np.testing.assert_allclose(fit.bse(), sm.bse, rtol=1e-5)
    assert fit.llf == pytest.approx(sm.llf)


def test_fixed_dispersion_likelihood_matches_statsmodels_glm_and_the_full_mle(nb_data):
    from statsmodels.genmod.families import NegativeBinomial
    from statsmodels.genmod.generalized_linear_model import GLM

    y, X = nb_data
    full = c.nb2_mle(y, X)
    # At the MLE's dispersion the fixed-dispersion maximum is the full maximum.
    assert c.nb2_fixed_dispersion_llf(y, X, full.alpha) == pytest.approx(full.llf, abs=1e-8)
    # With the slope fixed away from its estimate (an offset), against statsmodels' NB GLM
    # with the same fixed dispersion, started far from the answer.
    slope = full.params[1] + 0.3
    offset = slope * X[:, 1]
    sm = GLM(y, X[:, :1], family=NegativeBinomial(alpha=0.7), offset=offset).fit()
    ours = c.nb2_fixed_dispersion_llf(y, X[:, :1], 0.7, offset, start=np.array([5.0]))
    assert ours == pytest.approx(sm.llf, abs=1e-7)
    assert ours < full.llf
    # Dispersion 0 is the Poisson maximum.
    assert c.nb2_fixed_dispersion_llf(y, X, 0.0) == pytest.approx(c.poisson_mle(y, X).llf)


def test_statsmodels_fits_agree_with_fast_path(nb_data):
    y, X = nb_data
    nb = c.fit_nb2(y, X)
    fast = c.nb2_mle(y, X)
    assert nb.model == "nb2" and nb.converged and not nb.fallback
    assert nb.llf == pytest.approx(fast.llf, abs=1e-4)
    assert nb.params["alpha"] == pytest.approx(fast.alpha, rel=1e-3)
    assert nb.fitted.shape == y.shape
    assert list(nb.conf_int.columns) == ["low", "high"]
    assert (nb.conf_int["low"] < nb.params).all() and (nb.params < nb.conf_int["high"]).all()
    pois = c.fit_poisson(y, X)
    assert pois.llf < nb.llf
    assert pois.aic == pytest.approx(-2 * pois.llf + 2 * 2)


def test_zero_inflated_poisson_recovers_inflation():
    rng = np.random.default_rng(3)
    n = 600
    structural = rng.random(n) < 0.3
    y = np.where(structural, 0, rng.poisson(4.0, n)).astype(float)
    res = c.fit_zip(y)
    assert res.model == "zip" and res.converged
    pi = 1 / (1 + np.exp(-res.params["inflate_const"]))
    assert pi == pytest.approx(0.3, abs=0.06)
    assert np.exp(res.params["const"]) == pytest.approx(4.0, rel=0.08)
    assert res.fitted.mean() == pytest.approx(0.7 * 4.0, rel=0.1)


def test_zinb_and_hurdle_run_and_fit_better_than_poisson():
    rng = np.random.default_rng(4)
    n = 300
    y = np.where(rng.random(n) < 0.4, 0, _nb_draw(np.full(n, 3.0), 0.5, rng))
    zinb = c.fit_zinb(y)
    hurdle = c.fit_hurdle_nb(y)
    pois = c.fit_poisson(y)
    for res in (zinb, hurdle):
        assert res.converged
        assert res.llf > pois.llf + 10
        assert res.fitted.shape == (n,)
        # mean of the fitted marginal mean equals the sample mean closely for these models
        assert res.fitted.mean() == pytest.approx(y.mean(), rel=0.1)


def test_all_zero_series_falls_back_to_exact_with_warning():
    y = np.zeros(24)
    for fitter in (c.fit_poisson, c.fit_nb2, c.fit_zip, c.fit_zinb, c.fit_hurdle_nb):
        res = fitter(y)
        assert res.model == "exact" and res.fallback
        assert np.all(res.fitted == 0)
        assert res.params.isna().all()
        assert "all 24 counts are zero" in res.warnings[0]
        # rule of three: -log(0.05)/24
        assert f"{-np.log(0.05) / 24:.3g}" in res.warnings[0]


def test_single_event_and_short_series_fall_back_to_poisson():
    y = np.zeros(12)
    y[5] = 1
    res = c.fit_nb2(y)
    assert res.model == "poisson" and res.requested == "nb2"
    assert "fell back to Poisson" in res.warnings[0]
    assert np.exp(res.params.iloc[0]) == pytest.approx(1 / 12, rel=1e-4)
    short = c.fit_zinb(np.array([0.0, 2.0, 5.0]))
    assert short.model == "poisson" and short.warnings


def test_zero_inflation_without_zeros_falls_back():
    y = np.array([2, 3, 5, 1, 4, 6, 2, 3, 7, 2], dtype=float)
    res = c.fit_zip(y)
    assert res.model == "poisson" and "no zero counts" in res.warnings[0]
    res = c.fit_hurdle_nb(y)
    assert res.requested == "hurdle_nb" and res.model in ("nb2", "poisson")


def test_bad_counts_raise():
    with pytest.raises(ValueError, match="non-negative integer"):
        c.fit_poisson(np.array([1.0, -1.0, 2.0]))
    with pytest.raises(ValueError, match="non-negative"):
        c.nb2_mle(np.array([1.0, np.nan]))


def test_cameron_trivedi_matches_auxiliary_ols():
    from statsmodels.regression.linear_model import OLS

    rng = np.random.default_rng(8)
    y = _nb_draw(np.full(80, 4.0), 0.5, rng)
    mu = c.fit_poisson(y).fitted
    res = c.overdispersion_test(y, mu)
    aux = OLS(((y - mu) ** 2 - y) / mu, mu).fit()
    assert res.alpha == pytest.approx(aux.params[0])
    assert res.statistic == pytest.approx(aux.tvalues[0])
    assert res.se == pytest.approx(aux.bse[0])  # the appendix quotes alpha with it
    assert res.p_value == pytest.approx(aux.pvalues[0] / 2 if aux.tvalues[0] > 0 else 1, rel=1e-6)


def test_cameron_trivedi_size_and_power():
    rng = np.random.default_rng(9)
    n_sim = 200
    rej_null = rej_alt = 0
    alphas = []
    for _ in range(n_sim):
        y0 = rng.poisson(5.0, 60).astype(float)
        y1 = _nb_draw(np.full(60, 5.0), 0.5, rng)
        rej_null += c.overdispersion_test(y0, np.full(60, y0.mean())).p_value < 0.05
        t1 = c.overdispersion_test(y1, np.full(60, y1.mean()))
        rej_alt += t1.p_value < 0.05
        alphas.append(t1.alpha)
    assert rej_null / n_sim < 0.10
    assert rej_alt / n_sim > 0.9
    assert np.mean(alphas) == pytest.approx(0.5, abs=0.08)


def test_cameron_trivedi_degenerate_is_nan():
    res = c.overdispersion_test(np.zeros(5), np.zeros(5))
    assert np.isnan(res.p_value)


def test_compare_models_prefers_nb_for_overdispersed(nb_data):
    y, X = nb_data
    table = c.compare_models(y, pd.DataFrame(X, columns=["const", "t"]), models=["poisson", "nb2"])
    assert list(table["model"]) == ["nb2", "poisson"]
    assert table["delta_aic"].iloc[0] == 0 and table["delta_aic"].iloc[1] > 10
    assert {"llf", "aic", "bic", "converged", "warnings", "fitted_model", "k"} <= set(table)
    with pytest.raises(ValueError, match="expected models"):
        c.compare_models(y, models=["gamma"])


def test_boundary_likelihood_ratio_is_half_the_chi2_tail():
    stat, p = c._boundary_lr(-100.0, -103.0)
    assert stat == pytest.approx(6.0) and p == pytest.approx(0.5 * stats.chi2.sf(6.0, 1))
    assert c._boundary_lr(-100.0, -100.0 + 1e-9) == (0.0, 1.0)


def test_region_count_models_tell_overdispersed_from_poisson_regions():
    """Three simulated regions with trends: an overdispersed one with an own lag (as conflict
    series are), a Poisson one, and an almost silent one. The table has every model for each,
    the tests reject Poisson only where the truth is overdispersed, and sparse data fall back
    with a warning instead of a number."""
    from analysis.simulate import draw_negative_binomial, simulate_endemic_epidemic, synthetic_panel

    rng = np.random.default_rng(11)
    n = 96
    trend = np.exp(0.25 * np.arange(n) / 12)
    over, _ = simulate_endemic_epidemic(
        (1.2 * trend)[None, :], np.array([0.3]), np.zeros(1), np.zeros((1, 1)), 0.7, rng
    )
    pois = draw_negative_binomial(2.0 * trend, 0.0, rng)
    sparse = np.zeros(n, dtype=int)
    sparse[[40, 77]] = 1
    panel = synthetic_panel(np.vstack([over[0], pois, sparse]))
    table = c.region_count_models(panel, ["ZZ-1", "ZZ-2", "ZZ-3"])
    assert len(table) == 15
    assert set(table["model"]) == {"poisson", "nb2", "zip", "zinb", "hurdle_nb"}
    by = table.set_index(["region_id", "model"])
    assert by.loc[("ZZ-1", "nb2"), "lr_against"] == "poisson"
    assert by.loc[("ZZ-1", "nb2"), "lr_p"] < 0.01
    assert by.loc[("ZZ-1", "nb2"), "overdispersion_p"] < 0.01
    assert by.loc[("ZZ-1", "nb2"), "aic"] < by.loc[("ZZ-1", "poisson"), "aic"]
    assert by.loc[("ZZ-2", "nb2"), "lr_p"] > 0.05
    assert by.loc[("ZZ-2", "nb2"), "overdispersion_p"] > 0.05
    quiet = table[table["region_id"] == "ZZ-3"]
    assert (quiet["fitted_model"] != quiet["model"]).any()
    assert quiet["warnings"].str.len().gt(0).any()
    assert quiet["lr_p"].isna().all()
    assert table.groupby("region_id")["delta_aic"].min().eq(0).all()
    with pytest.raises(ValueError, match="not in the panel"):
        c.region_count_models(panel, ["XX-9"])


def test_zero_inflation_is_tested_against_the_model_without_it():
    """ZIP reduces to Poisson, and ZINB to NB2, at an inflation probability of 0: each is
    tested against that model on the boundary. Structural zeros in a third of the months are
    found; plain Poisson counts are not called zero-inflated."""
    from analysis.simulate import synthetic_panel

    rng = np.random.default_rng(5)
    n = 120
    mean = 4.0 * np.exp(0.1 * np.arange(n) / 12)
    inflated = np.where(rng.random(n) < 0.35, 0, rng.poisson(mean))
    plain = rng.poisson(mean)
    table = c.region_count_models(synthetic_panel(np.vstack([inflated, plain])), ["ZZ-1", "ZZ-2"])
    by = table.set_index(["region_id", "model"])
    assert by.loc[("ZZ-1", "zip"), "lr_against"] == "poisson"
    assert by.loc[("ZZ-1", "zip"), "lr_p"] < 0.001
    # plain Poisson counts: no inflation found (ZIP at its boundary is Poisson), or not significant
    plain_zip = by.loc[("ZZ-2", "zip")]
    assert plain_zip["fitted_model"] == "poisson" or plain_zip["lr_p"] > 0.05
    # ZINB's other boundary: no dispersion beyond the structural zeros, so it is ZIP (it had
    # "fallen back to NB2", 92 AIC points behind ZIP)
    assert by.loc[("ZZ-1", "zinb"), "fitted_model"] == "zip"
    assert by.loc[("ZZ-1", "zinb"), "aic"] == by.loc[("ZZ-1", "zip"), "aic"]
    assert "dispersion is at 0" in by.loc[("ZZ-1", "zinb"), "warnings"]
    for region in ("ZZ-1", "ZZ-2"):
        row = by.loc[(region, "zinb")]
        # tested against NB2 where both were fitted as themselves, else no test
        assert row["lr_against"] in ("nb2", "")
        assert (row["lr_against"] == "nb2") == np.isfinite(row["lr_p"])
    assert by.loc[("ZZ-1", "hurdle_nb"), "lr_against"] == ""  # nested in none of them


def _trend_design(n: int = 72) -> tuple[np.ndarray, pd.DataFrame]:
    t = (np.arange(n) - (n - 1) / 2) / 12
    return t, pd.DataFrame({"const": np.ones(n), "trend_per_year": t})


def test_zinb_without_zero_inflation_is_reported_as_nb2_not_as_a_failed_fit():
    """NB2 counts (no inflation): the ZINB inflation runs to 0, where the likelihood is NB2's
    and the Hessian singular. On real UCDP data (Mopti) the methods appendix showed an empty
    ZINB row with raw optimiser warnings; it now says it fell back to NB2, like the others."""
    import warnings

    t, X = _trend_design()
    mu = np.exp(0.9 + 0.4 * t)
    y = np.random.default_rng(11).negative_binomial(3, 3 / (3 + mu)).astype(float)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        z = c.fit_zinb(y, X)
    assert not caught, [str(w.message) for w in caught]
    nb2 = c.fit_nb2(y, X)
    assert z.model == "nb2" and z.requested == "zinb" and z.llf == pytest.approx(nb2.llf)
    assert "no zero-inflation found" in z.warnings[0] and "fell back to nb2" in z.warnings[0]


def test_zinb_keeps_a_real_zero_inflation():
    # a third of the months forced to 0 on top of NB2 counts: the inflation is found
    t, X = _trend_design()
    rng = np.random.default_rng(5)
    mu = np.exp(0.9 + 0.4 * t)
    y = np.where(rng.uniform(size=t.size) < 0.35, 0, rng.negative_binomial(3, 3 / (3 + mu)))
    z = c.fit_zinb(y.astype(float), X)
    assert z.model == "zinb" and not z.warnings
    assert 0.2 < 1 / (1 + np.exp(-z.params["inflate_const"])) < 0.5
    assert z.llf > c.fit_nb2(y.astype(float), X).llf
