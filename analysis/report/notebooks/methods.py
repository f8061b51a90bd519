# %% [markdown]
# <!-- Methods appendix (model card) of a study. Every number comes from the package. -->

# %% tags=["parameters"]
study = "../../studies/demo.yaml"
quarter = ""

# %%
from analysis import evaluation, plots
from analysis.report import context, figures, provenance, show, summary

ctx = context.load(study)
panel = summary.panel_as_of(ctx.data.panel, quarter)
shared = context.results(study, quarter)
models = list(summary.METHOD_MODELS)
bt = evaluation.backtest(
    panel,
    models,
    horizon=min(3, ctx.study.horizon),
    n_samples=500,
    seed=ctx.study.seed,
    min_train=36,
)
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
# - **Ensemble (`ensemble`)**: an equal mixture of the local-level and pooled predictive
#   samples.
# - **Negative-binomial GLM (`nb_glm`)**: log-linear mean with trend and season per region,
#   overdispersed counts. Assumes the recent trend continues; no spatial coupling; overfits
#   sparse regions.
# - **Conflictology**: resamples the region's last 12 months. Assumes the near future looks
#   like the recent past; cannot extrapolate growth.
# - **Recent mean, last value, zero**: naive baselines any model must beat.
# - **Negative-binomial climatology**: the region's long-run distribution.
# - **`auto`** (used in the reports): picks one of the local-level, pooled, ensemble and
#   baseline forecasters by rolling-origin CRPS on the history before each origin.
# - **Endemic-epidemic spillover model** (Held, Höhle and Hofmann 2005): expected count =
#   endemic level and trend + share of own last counts + share of neighbours' last counts;
#   negative-binomial. Assumes spread only between adjacent regions, at one-period lags.

# %% [markdown]
# ## Backtest evidence

# %%
show.markdown(
    "Rolling-origin backtest: each model refitted at every origin and scored on the next "
    "{h} periods ({n} forecasts per model). Lower CRPS is better; coverage should be near "
    "the nominal level.",
    h=min(3, ctx.study.horizon),
    n=int(card["models"][0]["n_forecasts"]),
)
show.table(summary.scorecard_table(card), float_format="{:,.3f}")
show.markdown("Best model by CRPS: **{m}**.", m=card.get("best_model"))

# %%
show.figure(
    figures.score_by_horizon(card),
    "Rolling-origin CRPS by forecast step for each model; baselines dashed.",
)
show.figure(
    plots.pit_histogram({m: evaluation.pit_values(bt, m) for m in models}),
    "Randomised PIT histograms of the backtest forecasts, one panel per model: flat means "
    "calibrated, U-shaped too narrow, hump-shaped too wide.",
)

# %% [markdown]
# ## Known limits
#
# - Counts depend on what the source records; reporting changes look like violence changes.
# - Forecasts assume the recent dynamics continue; they do not anticipate shocks.
# - Spillover probabilities come from adjacency only; roads, markets and borders crossings
#   are not modelled.

# %% [markdown]
# ## Provenance

# %%
provenance.show(
    provenance.collect(
        study=ctx.study_identity(),
        inputs=ctx.data.inputs,
        parameters={"study": study, "quarter": quarter, "models": ", ".join(models)},
        set_aside=ctx.data.set_aside,
    )
)
