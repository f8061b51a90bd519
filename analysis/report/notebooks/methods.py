# %% [markdown]
# <!-- Methods appendix (model card) of a study. Every number comes from the package. -->

# %% tags=["parameters"]
study = "../../studies/demo.yaml"
quarter = ""

# %%
from analysis import as_of, evaluation, plots
from analysis.report import context, methods_text, provenance, show

ctx = context.load(study)
panel = as_of.panel_as_of(ctx.data.panel, quarter)
shared = context.results(study, quarter)
bt = context.methods_backtest(study, quarter)
horizon = bt.horizon
card = evaluation.scorecard(bt)
show.record(
    title=f"{ctx.study.title}: methods",
    subtitle="What each model assumes, how it scored out of sample, and its known limits",
    banner=(
        "These data are SYNTHETIC (simulated from a stated model for demonstration); "
        "they describe no real events."
        if ctx.study.synthetic
        else ""
    ),
    best_model=card.get("best_model"),
)

# %% [markdown]
# ## Models
#
# - **Gamma-Poisson local level (`local_level`)** (Harvey and Fernandes 1989), pooled over
#   regions: a level that drifts from month to month, overdispersed counts. Assumes tomorrow
#   starts from a discounted average of the recent past; no trend, no spatial coupling.
# - **Pooled negative binomial (`pooled_nb`)**: shared lag and season effects, region levels
#   shrunk toward the common level (empirical Bayes), so sparse regions borrow strength.
# - **Ensemble (`ensemble_hybrid`)**: an equal mixture of the local-level, pooled and
#   conflictology predictive paths.
# - **Negative-binomial GLM (`nb_glm`)**: log-linear mean with trend and season per region,
#   overdispersed counts. Assumes the recent trend continues; no spatial coupling; overfits
#   sparse regions.
# - **Conflictology**: resamples the region's last 12 months. Assumes the near future looks
#   like the recent past; cannot extrapolate growth.
# - **Recent mean, last value, zero**: naive baselines any model must beat.
# - **Negative-binomial climatology**: the region's long-run distribution.
# - **Damped trend (`damped_trend`)**: the local level with each region's growth rate
#   (negative-binomial slope over three years, shrunk toward 0 by empirical Bayes) continued
#   damped (its effect shrinks by a factor 0.7 a month), so no trend is extrapolated without
#   bound.
# - **Mixtures (`ensemble_local`, `ensemble_climatology`, `ensemble_trend`)**: equal mixtures
#   of the local level (or the damped trend), the recent 6-month mean and conflictology;
#   `ensemble_climatology` adds the negative-binomial climatology as a fourth member;
#   `ensemble_climatology36` and `_heavy` give the 36-month negative-binomial climatology half
#   and three quarters of the weight, for regions whose counts swing around a stable mean.
# - **`auto`** (used in the reports): at each origin, picks among the five mixtures by
#   rolling-origin fair CRPS, once for the focus regions and once for the other active
#   regions, and for each quarter of the year ahead on its own, preferring the simpler when the
#   difference is within two Monte Carlo standard errors; its spread is calibrated on the same
#   inner forecasts. Regions with no event in the study's quiet window (the focus too) have an
#   event within the horizon in the share of paths the onset model gives, fitted on every unit
#   of the countries the data files cover, each such path the observed continuation of a real
#   first event; where the onset model cannot be fitted, regions other than the focus with no
#   event in the last 12 periods are forecast half by that choice and half by the reference
#   class: the next periods of every region that was as quiet at one of the 36 latest origins
#   whose outcomes are known, beside an active neighbour or not as the region is now. The
#   choice and its evidence are in the forecast JSON.
# - **Endemic-epidemic spillover model** (Held, Höhle and Hofmann 2005): expected count =
#   endemic level and trend + share of own last counts + share of neighbours' last counts;
#   negative-binomial. Endemic levels are random effects per country or per region nested in
#   its country, and the focus trend is damped beyond the last month; both are chosen by
#   rolling-origin CRPS. Assumes spread only between adjacent regions, at one-period lags.

# %% [markdown]
# ## Backtest evidence

# %%
show.markdown(
    "Rolling-origin backtest: each model, `auto` and the spillover model as the reports "
    "configure them included, refitted at {k} origins ({first} to {last}, every {s} periods) "
    "and scored on the next {h} periods ({n} forecasts per model). Lower CRPS is better. "
    "Coverage is the share of outcomes inside the central interval of the randomised PIT, "
    "which is the nominal level for a calibrated count forecast (closed intervals of counts "
    "over-cover and are not shown). `auto` chooses on the study's steps 1-{hs}, as in the "
    "reports{beyond}.",
    hs=ctx.study.horizon,
    beyond=(
        f"; beyond step {ctx.study.horizon} its last block's choice carries on"
        if ctx.study.horizon < horizon
        else ""
    ),
    k=card["n_origins"],
    first=card["origins"][0],
    last=card["origins"][1],
    s=methods_text.METHOD_STRIDE,
    h=horizon,
    n=int(card["models"][0]["n_forecasts"]),
)
show.table(methods_text.scorecard_table(card), float_format="{:,.3f}")
show.markdown("Best model by CRPS: **{m}**.", m=card.get("best_model"))

# %% [markdown]
# ### By group of regions
#
# Focus regions (the study's), active regions (an event in the 12 periods before the
# origin) and quiet ones, scored separately: a model that wins by saying "nothing" in quiet
# regions can still lose where the report's questions are.

# %%
show.table(methods_text.group_table(card), float_format="{:,.3f}")

# %%
show.figure(
    plots.score_by_horizon(card),
    "Rolling-origin CRPS by forecast step for each model; baselines dashed.",
)
show.figure(
    plots.pit_histogram({name: evaluation.pit_values(bt, name) for name in bt.models}),
    "Randomised PIT histograms of the backtest forecasts, one panel per model: flat means "
    "calibrated, U-shaped too narrow, hump-shaped too wide.",
)

# %% [markdown]
# ## Count models for the focus regions

# %%
from analysis.models.counts import region_count_models

counts_table = region_count_models(panel, list(ctx.study.focus))
show.markdown(
    "Each focus region's counts ({n} periods) fitted with an intercept and a linear trend by "
    "Poisson, negative-binomial (NB2), zero-inflated Poisson and NB (ZIP, ZINB) and hurdle NB "
    "models, sorted by AIC (lower is better). The overdispersion test (Cameron and Trivedi) "
    "asks whether the variance exceeds the Poisson mean; the likelihood-ratio tests compare "
    "the nested pairs NB2 against Poisson and ZINB against ZIP (p-value on the boundary: half "
    "the chi-square tail). Hurdle and zero-inflated models are not nested in NB2 and are "
    "compared by AIC and BIC only. A model that could not be identified falls back to a "
    "simpler one and says so.",
    n=int(counts_table["n"].max()) if len(counts_table) else 0,
)
show.table(methods_text.count_models_display(counts_table), float_format="{:,.3f}")

# %% [markdown]
# ## Known limits
#
# - Counts depend on what the source records; reporting changes look like violence changes.
# - Forecasts assume the recent dynamics continue; they do not anticipate shocks.
# - Spillover probabilities come from adjacency only; roads, markets and border crossings
#   are not modelled.

# %% [markdown]
# ## Provenance

# %%
provenance.show(
    provenance.collect(
        study=ctx.study_identity(),
        inputs=ctx.data.inputs,
        parameters={"study": study, "quarter": quarter, "models": ", ".join(bt.models)},
        set_aside=ctx.data.set_aside,
    )
)
