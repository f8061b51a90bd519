# %% [markdown]
# <!-- Quarterly overview of a study. Thin: every number comes from the analysis package. -->

# %% tags=["parameters"]
study = "../../studies/demo.yaml"
quarter = ""
previous_manifest = ""

# %%
from analysis import as_of, evaluation, formatting, plots, ranking
from analysis.models import risk
from analysis.report import changes as quarterly
from analysis.report import context, demo_truth, overview_text, provenance, show, spillover_text

ctx = context.load(study)
data = ctx.data
panel = as_of.panel_as_of(data.panel, quarter)
freq = panel.attrs.get("freq", "month")
shared = context.results(study, quarter)
alert_rule = ctx.study.alerts
growth_rows = context.growth(study, quarter).latest()  # the study's one BH-adjusted table
surge = risk.surge_probability(
    shared.forecast, panel, factor=alert_rule.surge_factor, min_events=alert_rule.min_events
)
# P(surge) orders and fills the ranking only where its backtest shows it better than the
# best baseline's; the alert rule reads it either way
surge_card = evaluation.surge_scorecard(
    shared.backtest_all, shared.evidence_model, alert=alert_rule.probability
)
surge_shown = overview_text.surge_skill_shown(surge_card)
rank = ranking.ranking(panel, growth_rows, surge, shared.risk, by_surge=surge_shown)
rank = rank.merge(risk.expected_next(shared.forecast), on="region_id", how="left")
rank = overview_text.with_onset_intervals(rank, shared.onset_intervals())
raised = ranking.alerts(rank, alert_rule.probability)
# recorded, so that next quarter's crossings compare P(surge) under one rule only
surge_rule = quarterly.surge_rule_record(alert_rule.surge_factor, alert_rule.min_events)
changes = quarterly.quarter_changes(
    panel,
    rank,
    quarterly.previous_ranking(previous_manifest, ctx.study.slug),
    alert_rule.probability,
    surge_rule=surge_rule,
    previous_rule=quarterly.previous_surge_rule(previous_manifest, ctx.study.slug),
)
show.record(
    title=f"{ctx.study.title}: overview" + (f" {quarter}" if quarter else ""),
    subtitle=f"{panel['region_id'].nunique()} regions, "
    f"{formatting.period_label(panel['period'].min(), freq)} to "
    f"{formatting.period_label(panel['period'].max(), freq)}",
    banner=demo_truth.page_banner(
        ctx, demo_truth.study_section(ctx, study, quarter), quarter=quarter
    ),
    ranking=overview_text.ranking_record(rank),
    surge_rule=surge_rule,
    alerts=[str(r) for r in raised["region_id"]],
)

# %% [markdown]
# ## Alerts

# %%
show.markdown(
    "{sentence}",
    sentence=overview_text.surge_rule_sentence(
        alert_rule.surge_factor,
        alert_rule.min_events,
        alert_rule.probability,
        panel.attrs.get("freq", "month"),
    ),
)
show.markdown(
    "{sentence}",
    sentence=overview_text.surge_evidence_sentence(surge_card, shared.evidence_model, freq),
)
# every forecast column names its window: 3-period numbers sit beside the horizon's P(any)
windows = overview_text.horizon_columns(ctx.study.horizon, freq)
if len(raised):
    alerts = overview_text.ranking_display(raised, top=len(raised)).rename(columns=windows)
    show.table(alerts, formats=overview_text.ranking_formats(alerts, windows))
else:
    show.markdown("{sentence}", sentence=overview_text.no_alert_sentence(surge_card))

# %% [markdown]
# ## Ranking

# %%
# what the ranking is sorted by first, then each caveat that applies as an item of its own
lead, *notes = overview_text.ranking_notes(rank, surge=surge_shown, freq=freq)
show.markdown("{sentence}", sentence=lead)
# one list, not one list an item
show.markdown(
    "\n".join(f"- {{note{i}}}" for i in range(len(notes))),
    **{f"note{i}": note for i, note in enumerate(notes)},
)
near_term = overview_text.near_term_evidence_sentence(
    shared.backtest, shared.evidence_model, freq=panel.attrs.get("freq", "month")
)
if near_term:  # the expected events' evidence, for every region the table lists
    show.markdown("{sentence}", sentence=near_term)
# and the evidence of its P(at least 1 event) over the horizon, on windows of that length
any_event = overview_text.any_event_evidence_sentence(
    {
        key: evaluation.any_event_scorecard(
            shared.backtest, shared.evidence_model, ctx.study.horizon, groups=groups
        )
        for key, groups in (("all", None), ("active", ["active"]), ("quiet", ["quiet"]))
    },
    shared.evidence_model,
    panel.attrs.get("freq", "month"),
)
if any_event:
    show.markdown("{sentence}", sentence=any_event)
ranked = overview_text.ranking_display(rank, surge=surge_shown).rename(columns=windows)
show.table(ranked, float_format="{:,.2f}", formats=overview_text.ranking_formats(ranked, windows))

# %%
# a map of P(surge) only where its backtest shows it better than the best baseline's: a map
# of a number without that evidence reads as more than the Alerts section says it is
if surge_shown:
    show.figure(
        plots.region_map(
            rank.set_index("region_id")["p_surge"],
            data.boundaries,
            label="P(surge) next 3 periods",
            focus=list(ctx.study.focus),
        ),
        "Probability of a surge in the next three periods by admin-1 region (focus regions "
        "outlined).",
    )

# %% [markdown]
# ## Changes since the previous quarter

# %%
for sentence in changes.sentences():
    show.markdown("- {sentence}", sentence=sentence)
if len(changes.moves):
    show.table(changes.table(), float_format="{:,.1f}")

# %% [markdown]
# ## Spillover

# %%
show.markdown(
    "{sentence}",
    sentence=shared.risk.sentence(ctx.study.spillover_targets, panel.attrs.get("freq", "month")),
)
# the country probabilities' own record (the unit scores do not judge them)
country_verdict = spillover_text.country_verdict_sentence(shared.onset_backtest)
if country_verdict:
    show.markdown(
        "{sentence} The scores: [Onset evidence](methods.html#Onset-evidence) in the methods "
        "appendix.",
        sentence=country_verdict,
    )
silent = spillover_text.silent_countries_sentence(
    panel, ctx.study.spillover_targets, shared.risk, card=shared.onset_backtest, where=""
)
if silent:
    # the scores are the methods appendix's, linked (it is rendered beside this report)
    show.markdown(
        "{sentence} The scores: [Onset evidence](methods.html#Onset-evidence) in the methods "
        "appendix.",
        sentence=silent,
    )
# country-level P(any) saturates once a country has active units: the change attributable to
# the focus is stated as the share of the spillover model's expected events (continue minus
# silenced over continue, paired draws), never as that model's own counts, and only where that
# model's own backtest on the focus regions is not behind the best baseline
attributable, _ = spillover_text.study_shares(
    shared, list(ctx.study.spillover_targets), where="the region reports' backtest"
)
if attributable:
    show.markdown("{sentence}", sentence=attributable)
show.figure(
    plots.region_map(
        shared.risk.regions.set_index("region_id")["p_any"],
        data.boundaries,
        label="P(at least one event)",
        focus=list(ctx.study.focus),
    ),
    f"Probability of at least one event within {ctx.study.horizon} periods by admin-1 region, "
    f"from the {context.FORECAST_MODEL} forecast that the region reports use (its choice of "
    "candidates is in their Forecast sections); focus regions outlined.",
)

# %% [markdown]
# ## Provenance

# %%
provenance.show(
    provenance.collect(
        study=ctx.study_identity(),
        inputs=data.inputs,
        parameters={"study": study, "quarter": quarter, "previous_manifest": previous_manifest},
        set_aside=data.set_aside,
    )
)
