# %% [markdown]
# <!-- Region report. Thin on purpose: every number comes from the analysis package. -->

# %% tags=["parameters"]
study = "../../studies/demo.yaml"
region = ""
quarter = ""

# %%
from analysis import growth, plots
from analysis.report import context, provenance, show, summary

ctx = context.load(study)
data = ctx.data
panel = summary.panel_as_of(data.panel, quarter)
events = summary.events_as_of(data.events, quarter)
region_id = region or ctx.study.focus[0]
region_name = data.region_name(region_id)
around = summary.region_with_neighbours(region_id, data.boundaries)
show.record(
    title=f"{region_name} ({region_id})",
    subtitle=ctx.study.title + (f", as of the end of {quarter}" if quarter else ""),
    banner=(
        "These data are SYNTHETIC (simulated from a stated model for demonstration); "
        "they describe no real events."
        if ctx.study.synthetic
        else ""
    ),
    region=region_id,
    region_name=region_name,
    events_total=int(panel.loc[panel["region_id"] == region_id, "events"].sum()),
)

# %%
# Computed up front so that the summary can state the results first.
comparisons = summary.usable_comparisons(ctx.study.compare, panel)
growth_rows = (
    growth.growth_table(panel, [region_id], comparisons) if comparisons else None
)
growth_results = [growth.growth(panel, region_id, a, b) for a, b in comparisons]
shared = context.results(study, quarter)
next_quarter = summary.window_forecast(shared.forecast, region_id, steps=3)
show.record(
    forecast_mean_3=next_quarter.mean,
    forecast_p_any_3=next_quarter.p_any,
    ratio=float(growth_rows["ratio"].iloc[-1]) if growth_rows is not None else None,
)

# %% [markdown]
# ## Summary

# %%
for _, row in (growth_rows.iterrows() if growth_rows is not None else []):
    show.markdown("- {sentence}.", sentence=growth.growth_sentence(row))
if growth_rows is None:
    show.markdown("- No growth comparison of the study falls inside this report's window.")
show.markdown(
    "- {sentence}.",
    sentence=summary.forecast_sentence(next_quarter, region_name, shared.model),
)
show.markdown("- {sentence}", sentence=shared.spillover.sentence(ctx.study.spillover_targets))
across = summary.cross_border_sentence(
    shared.spillover, region_id, data.boundaries, list(ctx.study.spillover_targets)
)
if across:
    show.markdown("- {sentence}", sentence=across)

# %% [markdown]
# ## Data

# %%
if ctx.study.attribution:
    show.markdown("Data source: {text}", text=ctx.study.attribution)
show.table(summary.data_summary(events, panel, region_id, data.inputs, data.set_aside))

# %%
actors = summary.actor_sentence(
    events, region_id, region_name, ctx.study.actors, ctx.study.include_predecessors
)
if actors is not None:
    show.markdown("{sentence}", sentence=actors)

# %%
show.figure(
    plots.monthly_counts(panel, around, focus=region_id),
    f"Events per {panel.attrs.get('freq', 'month')} in {region_name} (black) and its "
    "neighbouring regions.",
)

# %% [markdown]
# ### Latest events

# %%
show.table(summary.recent_events(events, region_id), float_format="{:,.0f}")

# %% [markdown]
# ## Growth
#
# Ratios compare event counts between the study's windows: an exact (conditional binomial)
# interval and a wider one that allows for overdispersion (negative binomial). The trend is a
# negative-binomial log-linear fit; the band is its pointwise 95% confidence interval.

# %%
if growth_rows is not None:
    show.table(summary.growth_display(growth_rows))
    for result in growth_results:
        show.figure(
            plots.growth_trend(result.trend, ylabel="events"),
            f"Events in {region_name} with the fitted trend and its 95% confidence band, "
            f"{result.ratio.period_a} to {result.ratio.period_b}.",
        )

# %% [markdown]
# ## Forecast
#
# Forecasts are predictive distributions from the study's `auto` forecaster, which picks,
# among count models and baselines, the one with the lowest rolling-origin CRPS on the
# history before the forecast origin. Intervals are central 90% predictive intervals.

# %%
show.figure(
    plots.fan_chart(panel, shared.forecast, region_id, title=f"{region_name}: forecast"),
    f"Events per {panel.attrs.get('freq', 'month')} in {region_name}: observed, and the "
    "forecast median with central 50%, 80% and 95% predictive intervals.",
)
show.table(summary.forecast_table(shared.forecast, region_id))

# %% [markdown]
# ## Spillover
#
# An endemic-epidemic model (Held, Höhle and Hofmann 2005) splits each region's expected
# count into its own endemic level, a share of its own last counts and a share of its
# neighbours' last counts. Simulated forward, it gives the probability of at least one event
# within the horizon, with 95% intervals across parameter draws.

# %%
show.table(summary.spillover_table(shared.spillover, around), float_format="{:,.2f}")
if region_id in ctx.study.focus:
    show.figure(
        plots.spillover_map(shared.spillover.regions, data.boundaries, focus=[region_id]),
        f"Probability of at least one event within {ctx.study.horizon} periods by admin-1 "
        f"region, from the spillover model; {region_name} outlined.",
    )

# %% [markdown]
# ## Methods and evidence
#
# Each forecaster's backtest evidence (rolling-origin CRPS, interval coverage and Brier score
# against the baseline ladder) is in the study's [methods appendix](methods.html), rendered
# beside this report by `conflict-trends report` and `conflict-trends batch`; the model
# assumptions and known limits are stated there too.

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
