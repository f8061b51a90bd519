# %% [markdown]
# <!-- Methods appendix (model card) of a study. Every number comes from the package. -->

# %% tags=["parameters"]
study = "../../studies/demo.yaml"
quarter = ""

# %%
from analysis import as_of, evaluation, formatting, plots
from analysis.report import (
    context,
    demo_truth,
    methods_text,
    provenance,
    show,
    spillover_text,
    study_figures,
)

ctx = context.load(study)
panel = as_of.panel_as_of(ctx.data.panel, quarter)
freq = panel.attrs.get("freq", "month")
bt_all = context.methods_backtest(study, quarter)
# the headline scores are the reports' steps; the longer backtest is a secondary table
bt = evaluation.first_steps(bt_all, ctx.study.horizon)
card = evaluation.scorecard(bt, report_model=context.FORECAST_MODEL)
# the demo check, once: its misses go in the banner, its table in its section below
demo_check = demo_truth.study_section(ctx, study, quarter)
show.record(
    title=f"{ctx.study.title}: methods",
    subtitle="What each model assumes, how it scored out of sample, and its known limits",
    banner=demo_truth.page_banner(ctx, demo_check, here=True, quarter=quarter),
    best_model=card.get("best_model"),
)

# %% [markdown]
# ## Models
#
# The models the backtest below scores, as the reports configure them.

# %%
show.markdown(methods_text.models_markdown(bt.models, freq))

# %% [markdown]
# ## Backtest evidence

# %%
show.markdown(
    "{sentence}",
    sentence=methods_text.backtest_scope_sentence(
        card,
        stride=context.EVIDENCE_STRIDE,
        report_horizon=ctx.study.horizon,
        backtest_horizon=bt_all.horizon,
    ),
)
# each skill with its interval over origins, as the region reports give theirs
show.score_table(
    methods_text.scorecard_table(
        card, intervals=methods_text.skill_interval_cells(bt.scores, bt.is_baseline)
    )
)
show.markdown(
    "Lowest CRPS at steps 1-{h}: **{m}**. {sentence}",
    h=ctx.study.horizon,
    m=card.get("best_model"),
    sentence=methods_text.model_choice_sentence(card, context.FORECAST_MODEL, bt.scores),
)

# %% [markdown]
# ### By group of regions
#
# Focus regions (the study's), active regions (an event in the year before the
# origin) and quiet ones, scored separately: a model that wins by saying "nothing" in quiet
# regions can still lose where the report's questions are.

# %%
show.markdown("{note}", note=methods_text.CANDIDATE_ORIGINS_NOTE)
show.score_table(
    methods_text.group_table(
        card,
        intervals={
            str(g): methods_text.skill_interval_cells(sub, bt.is_baseline)
            for g, sub in bt.scores.groupby("group")
        }
        if "group" in bt.scores
        else None,
    )
)

# %%
show.figure(
    plots.score_by_horizon(card, emphasise=context.FORECAST_MODEL),
    f"Rolling-origin CRPS by forecast step for each model, steps 1-{ctx.study.horizon}; "
    f"baselines dashed, {context.FORECAST_MODEL} (the reports' model) thick and black.",
)
show.figure(
    plots.pit_histogram({name: evaluation.pit_values(bt, name) for name in bt.models}),
    f"Randomised PIT histograms of the backtest forecasts at steps 1-{ctx.study.horizon}, one "
    "panel per model: flat means calibrated, U-shaped too narrow, hump-shaped too wide, "
    "piled at 1 (at 0) too low (too high), as the region reports' captions say.",
)
if bt_all.horizon > bt.horizon:
    show.markdown("### Steps 1-{h}", h=bt_all.horizon)
    show.markdown(
        "{sentence}",
        sentence=methods_text.steps_beyond_sentence(bt.horizon, bt_all.horizon),
    )
    show.score_table(
        methods_text.scorecard_table(
            evaluation.scorecard(bt_all, paired=False),
            methods_text.BRIEF_SCORE_COLUMNS,
            intervals=methods_text.skill_interval_cells(bt_all.scores, bt_all.is_baseline),
        )
    )

# %% [markdown]
# ## Count models for the focus regions

# %%
from analysis.models.counts import region_count_models

counts_table = region_count_models(panel, list(ctx.study.focus))
show.markdown(
    "Each focus region's counts ({n} periods) fitted with an intercept and a linear trend by "
    "Poisson, negative-binomial (NB2), zero-inflated Poisson and NB (ZIP, ZINB) and hurdle NB "
    "models, sorted by AIC (lower is better; a difference under 2 is no real preference, and "
    "BIC, which charges more per parameter, can order them otherwise). The likelihood-ratio "
    "tests compare the nested pairs: NB2 against Poisson (overdispersion), ZIP against "
    "Poisson and ZINB against NB2 (zero inflation); the extra parameter lies on its boundary "
    "under the smaller model, so the p-value is half the chi-square tail. The hurdle model, "
    "whose zero part has a trend of its own, is nested in none of them and is compared by AIC "
    "and BIC only. These tests, like the overdispersion test below, treat the {period_plural} "
    "as independent: dependence between {period_plural} also makes counts vary more than a "
    "Poisson model allows. A model that could not be identified falls back to a simpler one "
    "and has no row of its own.",
    n=int(counts_table["n"].max()) if len(counts_table) else 0,
    period_plural=formatting.period_unit(panel.attrs.get("freq", "month"), 2),
)
show.markdown("{sentence}", sentence=methods_text.overdispersion_sentence(counts_table))
show.table(methods_text.count_models_display(counts_table), float_format="{:,.3f}")
fallbacks = methods_text.count_fallback_sentence(counts_table)
if fallbacks:
    show.markdown("{sentence}", sentence=fallbacks)

# %% [markdown]
# ## Onset evidence
#
# This backtest checks every quiet unit's probability of a first event that a report shows;
# a region report repeats it where it shows such a unit.

# %%
shared = context.results(study, quarter)
spillover_text.show_onset_evidence(
    shared.onset_backtest,
    shared.onset_reason,
    lambda: study_figures.onset_reliability(study, quarter),
)

# %%
# Synthetic studies only: the model the data were simulated from against the reports' numbers
# (the growth table, the spillover fit and the forecast paths, read from the study's cache).
if demo_check is not None:
    show.markdown("## {title}", title=demo_truth.SECTION_TITLE)
    show.markdown(
        "The demo's events were simulated from a stated endemic-epidemic model whose "
        "parameters are saved beside them, so the estimates can be checked against known "
        "true values."
    )
    if isinstance(demo_check, str):  # no usable truth file: the section says why
        show.markdown("{sentence}", sentence=demo_check)
    else:
        show.markdown("{sentence}", sentence=demo_check.sentence)
        show.table(demo_check.table, caption=demo_check.caption)
        show.markdown("{rules}", rules=demo_check.rules)
        show.markdown("{notes}", notes=demo_check.notes)

# %% [markdown]
# ## Known limits

# %%
show.markdown(methods_text.known_limits_markdown(freq))

# %% [markdown]
# ## Terms

# %%
show.markdown(methods_text.terms_markdown(freq))

# %% [markdown]
# ## Provenance

# %%
provenance.show(
    provenance.collect(
        study=ctx.study_identity(),
        inputs=ctx.data.inputs,
        parameters={"study": study, "quarter": quarter, "models": ", ".join(bt_all.models)},
        set_aside=ctx.data.set_aside,
    )
)
