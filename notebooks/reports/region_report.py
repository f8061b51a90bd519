# %% [markdown]
# <!-- Region report. Thin on purpose: every number comes from the analysis package. -->

# %% tags=["parameters"]
study = "../../studies/demo.yaml"
region = ""
quarter = ""

# %%
from analysis import plots
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

# %% [markdown]
# ## Data

# %%
show.table(summary.data_summary(events, panel, region_id, data.inputs, data.set_aside))

# %%
actor = summary.main_actor(events, region_id)
if actor is not None:
    show.markdown(
        "The most frequent actor in {region}'s events is **{actor}** ({n} events).",
        region=region_name,
        actor=actor[0],
        n=actor[1],
    )

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
