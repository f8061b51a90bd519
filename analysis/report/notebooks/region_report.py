# %% [markdown]
# <!-- Region report. Thin on purpose: every number comes from the analysis package. -->

# %% tags=["parameters"]
study = "../../studies/demo.yaml"
region = ""
quarter = ""

# %%
from analysis import as_of, evaluation, formatting, growth, plots, ranking
from analysis.models import risk
from analysis.report import context, demo_truth, provenance, region_text, show, spillover_text, study_figures

ctx = context.load(study)
data = ctx.data
panel = as_of.panel_as_of(data.panel, quarter)
events = as_of.events_as_of(data.events, quarter)
# a code or an admin-1 name of the study's countries; empty: the first focus region
region_id = context.study_region(ctx.study, region, data.boundaries)
region_name = data.region_name(region_id)
freq = panel.attrs.get("freq", "month")
study_ids = set(data.panel["region_id"])
around = region_text.region_with_neighbours(region_id, data.boundaries, within=study_ids)
show.record(
    title=f"{region_name} ({region_id})",
    subtitle=ctx.study.title + (f", as of the end of {quarter}" if quarter else ""),
    banner=demo_truth.page_banner(
        ctx, demo_truth.study_section(ctx, study, quarter), quarter=quarter
    ),
    region=region_id,
    region_name=region_name,
    events_total=int(panel.loc[panel["region_id"] == region_id, "events"].sum()),
)

# %%
# Computed up front so that the summary can state the results first.
# One growth table per study (BH across all its regions, comparisons and change points), so
# this region's adjusted p-values are the overview's.
study_growth = context.growth(study, quarter)
comparisons = study_growth.comparisons
growth_rows = study_growth.region(region_id)
growth_results = [study_growth.results[(region_id, a, b)] for a, b in comparisons]
shared = context.results(study, quarter)
next_quarter = risk.window_forecast(shared.forecast, region_id, steps=3)
whole = risk.window_forecast(shared.forecast, region_id, steps=ctx.study.horizon)
# the Evidence section's backtest, read once: the summary quotes it at each sentence's steps
card = shared.scorecard
group = region_text.region_group(shared.backtest, region_id)
evidence = region_text.evidence_table(card, shared.evidence_model, group)
baselines = [m for m in shared.backtest.models if shared.backtest.is_baseline.get(m)]
evidence_at = {
    w.steps: region_text.step_evidence(
        evidence, shared.backtest.scores, shared.evidence_model, group, (1, w.steps),
        baselines=baselines,
    )  # fmt: skip
    for w in (next_quarter, whole)
}
show.record(
    forecast_model=shared.model,
    forecast_mean_3=next_quarter.mean,
    forecast_p_any_3=next_quarter.p_any,
    forecast_mean_total=whole.mean,
    forecast_median_total=whole.median,
    ratio=float(growth_rows["ratio"].iloc[-1]) if growth_rows is not None else None,
)

# %% [markdown]
# ## Summary

# %%
counted = region_text.counted_noun(ctx.study.actors, ctx.study.include_predecessors)
# where the counts peaked between the two windows, the sentence says so (as the overview does)
peaked = ranking.with_peaks(panel, growth_rows) if growth_rows is not None else None
for _, row in (peaked.iterrows() if peaked is not None else []):
    show.markdown("- {sentence}.", sentence=growth.growth_sentence(row, noun=counted))
if growth_rows is None:
    show.markdown("- No growth comparison of the study falls inside this report's window.")
# the candidates of this region's group only; both groups' are in the Forecast section
model_here = region_text.summary_model(
    shared.model_for(region_id in ctx.study.focus),
    context.FORECAST_MODEL,
    onset_driven=region_id in shared.onset_driven,
)
# a quiet region's own chance of a first event, with the onset verdict its neighbours'
# reports give it (its CRPS against the zero baseline below says little); the window of the
# onset horizon leaves its P(at least one event) to that sentence, which gives its interval
own_onset = spillover_text.own_onset_sentence(
    region_id, shared.onset, shared.risk, shared.onset_backtest, from_onset=shared.onset_driven
)
# each forecast with its evidence at its own steps (the Evidence section's backtest)
explained = False  # why printed and randomised coverage differ: said at the first window only
for window, named in ((next_quarter, model_here), (whole, "same")):
    # the total's own interval, scored: per-step scores cannot say if the sums are right
    totals = region_text.totals_sentence(
        evaluation.total_scorecard(
            shared.backtest, shared.evidence_model, window.steps, groups=[group]
        ),
        window.steps,
        panel.attrs.get("freq", "month"),
        explain=not explained,
    )
    explained = explained or region_text.PRINTED_COVERAGE_NOTE in totals
    sentence = region_text.forecast_sentence(
        window,
        region_name,
        named,
        p_any=not (own_onset and window.steps == shared.onset.horizon),
        previous=region_text.previous_events(panel, region_id, window.steps),
        freq=panel.attrs.get("freq", "month"),
    )
    parts = [
        sentence + ".",
        # a quiet region's pointer to the onset evidence: once, and not where its own onset
        # sentence below links to it
        region_text.evidence_clause(
            evidence_at[window.steps], group, onset_note=not own_onset and window is next_quarter
        ),
        totals,
        # and the window's P(at least one event), which the sentence also quotes
        region_text.any_event_clause(
            evaluation.any_event_scorecard(
                shared.backtest, shared.evidence_model, window.steps, groups=[group]
            ),
            shared.evidence_model,
            group,
        ),
        # a forecast below (above) the growth section's trend interval says why, once
        region_text.trend_forecast_sentence(growth_rows.iloc[-1], window, evidence_at[window.steps])
        if growth_rows is not None and window is whole
        else "",
    ]
    # the parts that apply, one space apart (an empty clause had left two)
    show.markdown("- {text}", text=formatting.join_nonempty(*parts))
if own_onset:
    show.markdown(
        "- {sentence} The scores are in "  # a quiet region: its section is shown
        + show.section_link(spillover_text.ONSET_EVIDENCE_SECTION)
        + ".",
        sentence=own_onset,
    )
# Country-level P(at least one event) saturates once a country has active units: the summary
# quotes, from the spillover model, only the share attributable to the focus (one model's
# levels per report), and only where that model's own backtest shows it ahead of the best
# baseline and its endemic effects are not region-level (spillover_text.shares_earned); the
# units across the border get one sentence that points to their section.
is_focus = region_id in ctx.study.focus
# only the focus's reports quote the shares, so only they need the spillover model's evidence
spillover_evidence = (
    spillover_text.spillover_evidence(card, group, scores=shared.backtest.scores)
    if is_focus
    else None
)
shares = spillover_text.earned_contrast(shared.scenarios if is_focus else None, spillover_evidence)
attributable = spillover_text.attributable_sentence(
    shares, list(ctx.study.spillover_targets), evidence=spillover_evidence,
    defined_in="the Spillover section",
)  # fmt: skip
if attributable:
    show.markdown("- {sentence}", sentence=attributable)
border_units = spillover_text.cross_border_units(
    region_id, data.boundaries, list(ctx.study.spillover_targets), within=study_ids
)
# units across the border get a sentence of their own only where it adds to the Spillover
# table's row (quiet units, shares); the onset method and evidence only where a unit whose
# probability the onset model gives is shown (in the table or across the border)
described = spillover_text.units_to_describe(
    border_units, shared.onset, tabled=around, contrast=shares
)
quiet_shown = spillover_text.quiet_units(shared.onset, [*around, *border_units])
across = "the section " + show.section_link(spillover_text.ACROSS_SECTION)
links = {
    "table": "the " + show.section_link("Spillover") + " table.",
    "section": across + ".",
    "section_quiet": across + ", and the evidence for the onset probabilities in the one after "
    "it, " + show.section_link(spillover_text.ONSET_EVIDENCE_SECTION) + ".",
}
near_focus = spillover_text.focus_neighbour_sentence(
    region_id, ctx.study.focus, data.boundaries, panel
)
if near_focus:
    show.markdown("- {sentence}", sentence=near_focus)
for part, where in spillover_text.border_summary_parts(
    border_units, shared.onset, shared.risk, shares, described=described
):
    show.markdown("- {sentence} " + links[where], sentence=part)

# %%
show.markdown(region_text.TERMS_POINTER)

# %% [markdown]
# ## Data

# %%
# the attribution (a licence term) is given in full once, under Provenance, as in every report
if ctx.study.attribution:
    show.markdown(provenance.ATTRIBUTION_POINTER)
show.table(
    region_text.data_summary(events, panel, region_id, data.inputs, data.selection, quarter)
)

# %%
actors = region_text.actor_sentence(
    events, region_id, region_name, ctx.study.actors, ctx.study.include_predecessors
)
if actors is not None:
    show.markdown("{sentence}", sentence=actors)

# %% [markdown]
# ### Latest events

# %%
recent = region_text.recent_events(events, region_id)
show.table(recent, float_format="{:,.0f}", caption=region_text.recent_events_caption(recent))

# %% [markdown]
# ## Growth

# %%
if growth_rows is not None and region_text.tested(growth_rows):
    windows = [*growth_rows["period_a"].astype(str), *growth_rows["period_b"].astype(str)]
    show.markdown(region_text.growth_method(freq=freq, windows=windows))
    show.markdown(
        "{sentence}", sentence=region_text.dependence_sentence(growth_rows, region_name, freq)
    )
    show.table(region_text.growth_display(growth_rows), formats=region_text.GROWTH_FORMATS)
    # the p-values, their study-wide adjustment and the unadjusted intervals, said once here
    if p_words := region_text.p_value_sentence(growth_rows):
        show.markdown("{sentence}", sentence=p_words)
elif growth_rows is not None:
    show.markdown(
        "{sentence}", sentence=region_text.untested_sentence(growth_rows, region_name, freq)
    )
# one figure for the counts and the fitted trends: both show this region's counts over time
fitted = growth_results if growth_rows is not None else []
show.figure(
    plots.monthly_counts(panel, around, focus=region_id, trends=[r.trend for r in fitted]),
    region_text.counts_caption(
        region_name,
        panel.attrs.get("freq", "month"),
        region_text.fitted_trend_windows(fitted),
    ),
)

# %% [markdown]
# ## Forecast

# %%
show.markdown(region_text.forecast_intro(freq))  # trusted text written in the package
show.markdown(
    "Model: **{model}**{groups}. {reason}.",
    **region_text.model_fields(
        context.FORECAST_MODEL, shared.plan_label(True), shared.plan_label(False),
        shared.model_for(True),
    ),
    reason=region_text.choice_sentence(shared.evidence),
)
show.figure(
    plots.fan_chart(panel, shared.forecast, region_id, title=f"{region_name}: forecast"),
    f"Events per {panel.attrs.get('freq', 'month')} in {region_name}: observed, and the "
    "forecast median with central 50%, 80% and 90% predictive intervals (the 90% interval "
    "is the one the table below and the text give).",
)
show.table(region_text.forecast_table(shared.forecast, region_id, freq))
switched = region_text.switch_sentence(
    shared.switches_for(region_id in ctx.study.focus),
    shared.forecast.periods,
    onset_driven=region_id in shared.onset_driven,
    freq=freq,
)
if switched:
    show.markdown("{sentence}", sentence=switched)
if region_id in shared.onset_driven:
    # the model line names the candidates, which do not give a quiet region's chance of an event
    show.markdown(
        "{name} is quiet: its chance of an event, and the paths that have one, come from the "
        "onset model (see " + show.section_link(spillover_text.QUIET_SECTION) + "), not from "
        "the candidates above.",
        name=region_name,
    )

# %% [markdown]
# ### Evidence for this forecast

# %%
# the methods appendix's same scores are pointed to once, in the Methods and evidence section
show.markdown(
    "{sentence}",
    sentence=region_text.evidence_scope_sentence(
        context.EVIDENCE_ORIGINS, context.EVIDENCE_STRIDE, ctx.study.horizon
    ),
)
show.markdown(
    "{name} is in the **{group}** group; {n} rolling origins, {first} to {last}.",
    name=region_name,
    group=group,
    n=card["n_origins"],
    first=card["origins"][0],
    last=card["origins"][1],
)
show.markdown(
    "{sentence}",
    sentence=region_text.evidence_verdict(
        evidence_at[whole.steps], "the report model", group, freq
    ),
)
# each step's skill with its interval over origins: a focus region's steps hold a dozen outcomes
show.score_table(
    region_text.with_step_intervals(
        evidence, shared.backtest.scores, shared.evidence_model, group
    )
)
show.figure(
    study_figures.pit_histogram(study, quarter, group),  # one per group, drawn once a study
    f"Randomised PIT of the report model's backtest forecasts for the {group} regions, steps "
    f"1-{ctx.study.horizon}: flat means calibrated, U-shaped too narrow, hump-shaped too wide, "
    "piled at 1 (at 0) too low (too high).",
)

# %% [markdown]
# ## Spillover
#
# Expected events over the horizon and the probability of at least one event in this region
# and its neighbours, from the same paths as the forecast above.

# %%
if shares is not None:
    show.markdown("{text}", text=spillover_text.SHARE_PARAGRAPH)
show.table(spillover_text.risk_table(shared.risk, around), float_format="{:,.2f}")
# the spillover model's evidence goes with its shares, or says why there are none: only the
# focus's reports would quote them
if shares is not None:
    spillover_sentence = spillover_text.spillover_evidence_sentence(
        card, group, shared.evidence_model, evidence=spillover_evidence
    )
elif is_focus and shared.scenarios is not None:
    spillover_sentence = spillover_text.withheld_shares_sentence(
        shared.scenarios, spillover_evidence, where="this report's backtest",
        unscored=shared.spillover_unscored,
        reference=spillover_text.spillover_evidence(
            card, group, shared.evidence_model, scores=shared.backtest.scores
        ),
    )  # fmt: skip
else:
    spillover_sentence = None
if spillover_sentence:
    show.markdown("{sentence}", sentence=spillover_sentence)
no_border = spillover_text.no_border_unit_sentence(
    region_id, region_name, data.boundaries, list(ctx.study.spillover_targets), study_ids
)
if no_border:
    show.markdown("{sentence}", sentence=no_border)
if region_id in ctx.study.focus:
    show.figure(
        plots.region_map(
            shared.risk.regions.set_index("region_id")["p_any"],
            data.boundaries,
            label="P(at least one event)",
            focus=[region_id],
        ),
        f"Probability of at least one event within {ctx.study.horizon} periods by admin-1 "
        f"region, from the report model's forecast ({context.FORECAST_MODEL}, Forecast "
        f"section); {region_name} outlined."
        + spillover_text.quiet_map_note(shared.onset, evidence_here=bool(quiet_shown)),
    )

# %%
# Shown only where they bear on a number of this report: how quiet units get their
# probability, where one is shown (in the table or across the border); the units across the
# border that need a sentence beyond the table's row; the onset model's evidence. The methods
# appendix gives the study's onset evidence in full.
if quiet_shown:
    show.markdown("### {title}", title=spillover_text.QUIET_SECTION)
    show.markdown(
        "A unit is **quiet** after {n} {freq}s without an event (the study's quiet window); "
        "in this report: {units}.",
        n=str(ctx.study.quiet_periods),
        freq=panel.attrs.get("freq", "month"),
        units=spillover_text.unit_names(quiet_shown, shared.risk),
    )
    show.markdown(spillover_text.QUIET_UNITS_PARAGRAPH)
if described:
    show.markdown("### {title}", title=spillover_text.ACROSS_SECTION)
    if set(described) & set(quiet_shown):
        show.markdown(spillover_text.QUIET_SENTENCE_PARAGRAPH)
unit_sentences = spillover_text.onset_unit_sentences(
    described, shared.onset, shared.risk,
    headline=spillover_text.onset_headlined(shared.onset_backtest),
    contrast=shares,
    established=spillover_text.onset_edge_established(shared.onset_backtest),
    calibration=spillover_text.calibration_clauses(shared.onset_backtest),
    from_onset=shared.onset_driven,
)  # fmt: skip
for sentence in unit_sentences:
    show.markdown("- {sentence}", sentence=sentence)

# %%
if quiet_shown:
    show.markdown("### {title}", title=spillover_text.ONSET_EVIDENCE_SECTION)
    spillover_text.show_onset_evidence(
        shared.onset_backtest,
        shared.onset_reason,
        lambda: study_figures.onset_reliability(study, quarter),  # drawn once a study
    )

# %% [markdown]
# ## Methods and evidence

# %%
show.markdown(
    "Every model a report can use (`auto` {included}) is "
    "scored at the reports' steps 1-{h} for focus, active and quiet regions in the study's "
    "[methods appendix](methods.html), rendered beside this report by `conflict-trends report` "
    "and `conflict-trends batch`; the model assumptions and known limits are stated there too.",
    h=ctx.study.horizon,
    # the parameter is escaped as text: the code span stays in the template
    included=(
        "included; not the spillover model, which could not be fitted at every origin"
        if shared.spillover_unscored
        else "and the spillover model as configured included"
    ),
)

# %% [markdown]
# ## Provenance

# %%
provenance.show(
    provenance.collect(
        study=ctx.study_identity(),
        inputs=data.inputs,
        parameters={"study": study, "region": region_id, "quarter": quarter},
        set_aside=data.set_aside,
    )
)
