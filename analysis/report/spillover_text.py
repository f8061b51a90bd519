"""Sentences and tables on spillover and onset across the border, for the region report and
the overview: totals and P(at least one event) from the report model's paths, onset for quiet
units, and the change attributable to the focus regions (continue minus silenced).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

RISK_COLUMNS = {
    "region_id": "region",
    "region_name": "name",
    "country": "country",
    "expected": "expected events",
    "median": "median",
    "interval": "90% interval",
    "p_any": "P(at least 1)",
    "share_neighbour": "share from neighbours (spillover model)",
}


def risk_table(risk: Any, region_ids: list[str], spill: Any = None) -> pd.DataFrame:
    """Totals over the horizon and P(at least 1) for the given regions, in that order, from
    the report model's paths (:class:`analysis.models.risk.PathRisk`); with ``spill`` (a
    spillover result), the spillover model's share of each region's expected count that comes
    from its neighbours, a share and not a second count."""
    rows = risk.regions.set_index("region_id").reindex(region_ids).dropna(subset=["p_any"])
    rows["interval"] = [
        f"{int(lo)}-{int(hi)}"
        for lo, hi in zip(rows["expected_low"], rows["expected_high"], strict=True)
    ]
    if spill is not None:
        rows["share_neighbour"] = spill.regions.set_index("region_id")["share_neighbour"]
    return (
        rows.reset_index()
        .reindex(columns=[c for c in RISK_COLUMNS if c in rows.columns or c == "region_id"])
        .rename(columns=RISK_COLUMNS)
    )


def _pct(p: float) -> str:
    return f"{100 * float(p):.0f}%"


def onset_headlined(card: dict | None) -> bool:
    """Whether the reports headline onset probabilities: only when the study's own onset
    backtest (:func:`analysis.models.onset_backtest.study_onset_backtest`) had enough first
    events and the onset model beat every naive rule on them."""
    return bool(card and card.get("available") and card.get("beats_naive"))


def onset_evidence_sentence(card: dict | None, reason: str = "") -> str:
    """The onset backtest's verdict in plain words (or why there is none)."""
    if not card or not card.get("available"):
        why = (card or {}).get("reason") or reason or "no onset backtest was possible"
        return f"The onset model could not be checked on this study's history ({why})."
    return str(card["verdict"])


def cross_border_units(region_id: str, boundaries: Any, targets: list[str] | None = None):
    """The region's cross-border neighbours, limited to the target countries when given."""
    from analysis.geography import neighbours

    ids = neighbours(region_id, cross_border_only=True, boundaries=boundaries)
    if not targets:
        return list(ids)
    country = boundaries.regions.set_index("region_id")["country"]
    names = boundaries.regions.set_index("region_id").get("country_name", country)
    wanted = set(targets)
    return [r for r in ids if country.get(r) in wanted or names.get(r) in wanted]


def onset_unit_sentences(
    region_ids: list[str],
    onset: Any,
    risk: Any,
    *,
    headline: bool,
    contrast: Any = None,
) -> list[str]:
    """One sentence per unit: onset for quiet units, continued activity for active ones.

    Parameters
    ----------
    region_ids : list of str
        Units to describe (e.g. the focus region's cross-border neighbours).
    onset : analysis.models.onset_forecast.OnsetForecast or None
        P(first event within the horizon) with its interval for the quiet units.
    risk : analysis.models.risk.PathRisk
        The report model's paths: expected count, median and 90% interval of active units.
    headline : bool
        Whether the onset model earned its place (:func:`onset_headlined`); if not, quiet
        units get the sentence without the model's probability.
    contrast : analysis.models.spillover_scenarios.ScenarioContrast, optional
        Adds the change attributable to the focus (continue minus silenced) with its interval:
        in P(first event) points for quiet units, in events for active ones.
    """
    paths = risk.regions.set_index("region_id")
    quiet = onset.units.set_index("region_id") if onset is not None else pd.DataFrame()
    diff = contrast.regions.set_index("region_id") if contrast is not None else None
    focus = ""
    if contrast is not None:
        focus = ", ".join(str(diff.loc[f, "region_name"]) for f in contrast.focus)
    out = []
    for r in region_ids:
        if r in quiet.index:
            q = quiet.loc[r]
            name = f"{q['region_name']} ({q['country']})"
            pct = int(round(100 * onset.level))
            if headline:
                text = (
                    f"{name} has had no event in {onset.quiet} periods: P(first event within "
                    f"{onset.horizon} periods) {_pct(q['p_onset'])} ({pct}% interval "
                    f"{_pct(q['p_onset_low'])}-{_pct(q['p_onset_high'])})"
                )
            else:
                text = (
                    f"{name} has had no event in {onset.quiet} periods; the onset model's "
                    "probability of a first event is not headlined (see the onset evidence)"
                )
            if diff is not None and r in diff.index:
                d = diff.loc[r]
                text += (
                    f"; in the spillover model (P {_pct(d['p_any_continue'])} if {focus} "
                    f"continues, {_pct(d['p_any_silenced'])} if it is silenced) {focus} accounts "
                    f"for {100 * d['p_any_diff']:+.0f} points ({int(100 * contrast.level)}% "
                    f"interval {100 * d['p_any_diff_low']:+.0f} to "
                    f"{100 * d['p_any_diff_high']:+.0f})"
                )
            out.append(text + ".")
        elif r in paths.index:
            a = paths.loc[r]
            name = f"{a['region_name']} ({a['country']})"
            # Without an onset model (no onset in the history) quiet and active units cannot
            # be told apart here, so the count is stated without calling the unit active.
            state = (
                "is already active (continued activity, not onset)"
                if onset is not None
                else "(no onset model for this study)"
            )
            text = (
                f"{name} {state}: expected "
                f"{a['expected']:.1f} events over the horizon (median {a['median']:.0f}, 90% "
                f"interval {a['expected_low']:.0f}-{a['expected_high']:.0f})"
            )
            if diff is not None and r in diff.index:
                d = diff.loc[r]
                text += (
                    f"; the spillover model expects {d['expected_continue']:.1f} there if "
                    f"{focus} continues and {d['expected_silenced']:.1f} if it is silenced: "
                    f"{d['expected_diff']:+.1f} events attributable to {focus} "
                    f"({int(100 * contrast.level)}% interval {d['expected_diff_low']:+.1f} to "
                    f"{d['expected_diff_high']:+.1f})"
                )
            out.append(text + ".")
    return out


def attributable_sentence(contrast: Any, targets: list[str] | None = None) -> str | None:
    """Expected events attributable to the focus regions in the target countries: continue
    minus silenced, paired by draw on common random numbers, with its interval."""
    if contrast is None:
        return None
    c = contrast.countries
    if targets:
        c = c[c["country"].isin(list(targets))]
    if c.empty:
        return None
    names = contrast.regions.set_index("region_id")["region_name"]
    focus = ", ".join(str(names.get(f, f)) for f in contrast.focus)
    pct = int(round(100 * contrast.level))
    parts = "; ".join(
        f"{r.country} {r.expected_diff:+.1f} events ({pct}% interval {r.expected_diff_low:+.1f} "
        f"to {r.expected_diff_high:+.1f}; {r.expected_continue:.1f} expected if {focus} continues, "
        f"{r.expected_silenced:.1f} if it is silenced)"
        for r in c.itertuples()
    )
    return (
        f"Change attributable to {focus} over the next {contrast.horizon} periods in the "
        f"spillover model (continue minus silenced, paired by parameter draw): {parts}."
    )


ONSET_METHODS = {
    "onset_model": "onset model",
    "plain_logistic": "plain logistic regression",
    "base_rate": "base rate",
    "neighbour_rule": "neighbour rule",
    "distance_decay": "distance decay",
}


def onset_scorecard_table(card: dict) -> pd.DataFrame:
    """Brier score, the onset model's Brier skill against each method, and ROC AUC, one row per
    method of a study onset backtest."""
    skill = card.get("onset_model_brier_skill_vs", {})
    return pd.DataFrame(
        [
            {
                "method": label,
                "Brier": card["methods"][m]["brier"],
                "onset model's Brier skill": skill.get(m, float("nan")),
                "ROC AUC": card["methods"][m]["auc"],
            }
            for m, label in ONSET_METHODS.items()
            if m in card["methods"]
        ]
    )
