"""Small computations the report notebooks show, kept here so that they are tested code.

Notebooks only call the package; anything computed for a report (the as-of cut of a
quarterly run, the data summary table, the regions drawn around a focus) lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.formatting import format_probability, probability_range  # noqa: F401
from analysis.periods import quarter_end


def panel_as_of(panel: pd.DataFrame, quarter: str | None) -> pd.DataFrame:
    """Keep the periods that start before the end of ``quarter`` (all of them if none).

    A quarterly report is written as of the end of its quarter, so later data (present when a
    past quarter is re-rendered) must not leak into it.
    """
    if not quarter:
        return panel
    out = panel[panel["period"] < quarter_end(quarter)].reset_index(drop=True)
    out.attrs = dict(panel.attrs)
    return out


def events_as_of(events: pd.DataFrame, quarter: str | None) -> pd.DataFrame:
    """Keep events that started before the end of ``quarter`` (all of them if none)."""
    if not quarter:
        return events
    return events[events["date_start"] < quarter_end(quarter)].reset_index(drop=True)


def data_summary(
    events: pd.DataFrame,
    panel: pd.DataFrame,
    region_id: str,
    inputs: list[dict[str, Any]],
    set_aside: dict[str, int] | None = None,
) -> pd.DataFrame:
    """The data behind a region report as an ``item``/``value`` table.

    Parameters
    ----------
    events : DataFrame
        Canonical events selected by the study.
    panel : DataFrame
        The study panel (already cut to the report's as-of date).
    region_id : str
        The report's region.
    inputs : list of dict
        Data files (``path``, ``rows``, ``source``).
    set_aside : dict, optional
        Rows set aside by reason.

    Returns
    -------
    DataFrame
        Columns ``item`` and ``value`` (strings, ready to show).
    """
    in_region = panel[panel["region_id"] == region_id]
    if in_region.empty:
        raise ValueError(f"expected region {region_id!r} in the panel")
    periods = panel["period"]
    freq = panel.attrs.get("freq", "month")
    sources = sorted({str(i.get("source", "")) for i in inputs if i.get("source")})
    rows = [
        ("Events in the study (all regions)", f"{int(panel['events'].sum()):,}"),
        ("Events in this region", f"{int(in_region['events'].sum()):,}"),
        ("Fatalities in this region (best estimate)", f"{int(in_region['fatalities'].sum()):,}"),
        (
            f"{freq.capitalize()}s with at least one event in this region",
            f"{int((in_region['events'] > 0).sum())} of {len(in_region)}",
        ),
        (
            "Window",
            f"{periods.min():%Y-%m} to {periods.max():%Y-%m} ({freq}ly, "
            f"{panel['region_id'].nunique()} regions)",
        ),
        ("Sources", ", ".join(sources) or "unknown"),
        ("Data files", str(len(inputs))),
        ("Rows read", f"{sum(int(i.get('rows', 0)) for i in inputs):,}"),
    ]
    if len(events):
        rows.append(
            (
                "Event dates",
                f"{events['date_start'].min():%Y-%m-%d} to {events['date_start'].max():%Y-%m-%d}",
            )
        )
    for reason, count in sorted((set_aside or {}).items()):
        rows.append((f"Rows set aside: {reason}", f"{int(count):,}"))
    if not set_aside:
        rows.append(("Rows set aside", "0"))
    return pd.DataFrame(rows, columns=["item", "value"])


def region_with_neighbours(region_id: str, boundaries: Any, limit: int = 8) -> list[str]:
    """The region followed by its first-order neighbours (at most ``limit`` of them)."""
    from analysis.geography import neighbours

    return [region_id, *neighbours(region_id, boundaries=boundaries)[:limit]]


def recent_events(events: pd.DataFrame, region_id: str, n: int = 5) -> pd.DataFrame:
    """The ``n`` latest events in a region, with the columns a reader checks (notes cut short).

    Strings are returned as they are in the data; display them with
    :func:`analysis.report.show.table`, which escapes them.
    """
    cols = ["date_start", "event_type", "actor1", "actor2", "fatalities", "notes"]
    rows = events[events["region_id"] == region_id]
    rows = rows.sort_values(["date_start", "event_id"], ascending=[False, True]).head(n)
    out = rows.reindex(columns=cols).copy()
    out["date_start"] = out["date_start"].dt.strftime("%Y-%m-%d")
    out["notes"] = out["notes"].astype("string").str.slice(0, 160)
    return out.rename(columns={"date_start": "date"}).reset_index(drop=True)


def actor_sentence(
    events: pd.DataFrame,
    region_id: str,
    region_name: str,
    actors: list[str] | None = None,
    include_predecessors: bool = False,
    top: int = 3,
) -> str | None:
    """Who fought whom in a region: the study's actor and the sides it fought most.

    UCDP writes the government as ``side_a`` of state-based events, so counting the first
    actor names the opponent ("Government of Mali") rather than the group a study follows.
    Here each event's side matching the study's actor patterns is the actor, and the other
    side its opponent (civilians, in one-sided events).

    Parameters
    ----------
    events : DataFrame
        Canonical events selected by the study.
    region_id, region_name : str
        The region and its display name.
    actors : list of str, optional
        The study's ``actors``; without them the sentence names the most frequent actors.
    include_predecessors : bool
        As in the study.
    top : int
        Opponents named at most.

    Returns
    -------
    str or None
        One sentence (Markdown-safe text is left to the caller), None without events.
    """
    from analysis.events import _contains, actor_patterns

    rows = events[events["region_id"] == region_id]
    if rows.empty:
        return None
    side_a = rows["actor1"].astype("string")
    side_b = rows["actor2"].astype("string")
    if not actors:
        counts = pd.concat([side_a, side_b]).dropna().value_counts()
        named = ", ".join(f"{name} ({n})" for name, n in counts.head(top).items())
        return f"The actors in most of {region_name}'s {len(rows):,} events: {named}."
    combined = "|".join(f"(?:{p})" for p in actor_patterns(actors, include_predecessors))
    a_is_actor = _contains(side_a, combined)
    b_is_actor = _contains(side_b, combined) & ~a_is_actor
    own = pd.concat([side_a[a_is_actor], side_b[b_is_actor]]).dropna()
    against = pd.concat([side_b[a_is_actor], side_a[b_is_actor]]).dropna()
    # ties in alphabetical order, so the sentence does not depend on row order
    against = against[against.str.strip() != ""].value_counts().sort_index()
    against = against.sort_values(ascending=False, kind="stable")
    own_counts = own.value_counts().sort_index().sort_values(ascending=False, kind="stable")
    name = str(own_counts.index[0]) if len(own) else ", ".join(actors)
    sentence = f"In {region_name}, {name} took part in {len(rows):,} events"
    if against.empty:
        return sentence + "; no opposing side is recorded."
    listed = [f"{side} ({n:,})" for side, n in against.head(top).items()]
    joined = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
    return sentence + f"; the sides it fought or attacked most were {joined}."


def usable_comparisons(
    compare: list[tuple[str, str]] | list[list[str]], panel: pd.DataFrame
) -> list[tuple[str, str]]:
    """The study's growth comparisons whose windows lie inside the panel's periods.

    A report as of a past quarter drops comparisons that reach beyond it, rather than
    comparing a full window with a partial one.
    """
    from analysis.periods import parse_window

    first = panel["period"].min()
    last_end = panel["period"].max() + (
        pd.offsets.QuarterBegin(1, startingMonth=1)
        if panel.attrs.get("freq") == "quarter"
        else pd.offsets.MonthBegin(1)
    )
    kept = []
    for a, b in compare:
        wa, wb = parse_window(a), parse_window(b)
        if min(wa.start, wb.start) >= first and max(wa.end, wb.end) <= last_end:
            kept.append((str(a), str(b)))
    return kept


GROWTH_COLUMNS = {
    "period_a": "from",
    "period_b": "to",
    "count_a": "events (from)",
    "count_b": "events (to)",
    "ratio": "ratio",
    "headline_ci_low": "95% CI low",
    "headline_ci_high": "95% CI high",
    "ci_low": "exact CI low (reference)",
    "ci_high": "exact CI high (reference)",
    "annual_growth_pct": "trend % a year",
    "trend_ci": "trend 95% CI",
    "p_value_bh": "p (BH-adjusted)",
    "change_point": "change point",
}


def format_p_value(p: float | None) -> str:
    """A p-value as a reader expects it: ``<0.001`` rather than ``0.00``."""
    if p is None or not np.isfinite(p):
        return ""
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def growth_display(table: pd.DataFrame) -> pd.DataFrame:
    """The reader's columns of :func:`analysis.growth.growth_table`, renamed in plain words."""
    shown = table.reindex(columns=list(GROWTH_COLUMNS)).copy()
    shown["p_value_bh"] = [format_p_value(p) for p in shown["p_value_bh"]]
    if "annual_growth_ci" in table.columns:
        shown["trend_ci"] = [
            f"{ci[0]:+.0f}% to {ci[1]:+.0f}%" if np.all(np.isfinite(ci)) else ""
            for ci in (np.asarray(c, dtype=float) for c in table["annual_growth_ci"])
        ]
    shown["change_point"] = shown["change_point"].fillna("none")
    return shown.rename(columns=GROWTH_COLUMNS)


def dependence_sentence(table: pd.DataFrame, region_name: str) -> str:
    """How much month-to-month dependence widened a region's latest growth interval.

    Parameters
    ----------
    table : DataFrame
        Rows of :func:`analysis.growth.growth_table` for one region.
    region_name : str

    Returns
    -------
    str
        E.g. "In Kayes, 2021 to 2024, the estimated month-to-month correlation is 0.42; allowing
        for it (and overdispersion) makes the 95% interval of the ratio 1.6 times as wide (on
        the log scale) as the exact one."
    """
    row = table.iloc[-1]
    rho = float(row.get("own_lag", np.nan))
    lo, hi = float(row["headline_ci_low"]), float(row["headline_ci_high"])
    elo, ehi = float(row["ci_low"]), float(row["ci_high"])
    where = f"In {region_name}, {row['period_a']} to {row['period_b']}"
    if not np.isfinite(rho):
        return f"{where}, the month-to-month correlation could not be estimated."
    text = f"{where}, the estimated month-to-month correlation is {rho:.2f}"
    if all(np.isfinite([lo, hi, elo, ehi])) and min(lo, elo) > 0:
        factor = np.log(hi / lo) / np.log(ehi / elo)
        text += (
            f"; allowing for it (and overdispersion) makes the 95% interval of the ratio "
            f"{factor:.1f} times as wide (on the log scale) as the exact one"
        )
    return text + "."


def forecast_table(fc: Any, region_id: str) -> pd.DataFrame:
    """One region's forecast per step: mean, 90% interval, P(at least one event).

    Parameters
    ----------
    fc : analysis.models.forecast.ForecastResult
    region_id : str

    Returns
    -------
    DataFrame
        ``period`` (YYYY-MM), ``expected``, ``median``, ``90% interval``, ``P(at least 1)``.
    """
    frame = fc.to_frame()
    rows = frame[frame["region_id"] == region_id]
    if rows.empty:
        raise ValueError(f"expected region {region_id!r} in the forecast")
    return pd.DataFrame(
        {
            "period": pd.to_datetime(rows["period"]).dt.strftime("%Y-%m").to_numpy(),
            "expected": rows["mean"].round(1).to_numpy(),
            "median": rows["median"].to_numpy(),
            "90% interval": [
                f"{int(lo)}-{int(hi)}" for lo, hi in zip(rows["q05"], rows["q95"], strict=True)
            ],
            "P(at least 1)": [format_probability(p) for p in rows["p_any"]],
        }
    )


@dataclass(frozen=True)
class WindowForecast:
    """Forecast total over the first ``steps`` periods of a forecast, for one region."""

    region_id: str
    steps: int
    first: pd.Timestamp
    last: pd.Timestamp
    mean: float
    low: float
    high: float
    p_any: float
    level: float
    median: float = float("nan")


def window_forecast(fc: Any, region_id: str, steps: int = 3, level: float = 0.9) -> WindowForecast:
    """Total events over the next ``steps`` periods: mean, central interval, P(at least one).

    Sums each predictive sample path over the steps, so the interval carries the dependence
    between steps that the model's paths have (summing per-step quantiles would not).
    """
    import numpy as np

    if region_id not in fc.region_ids:
        raise ValueError(f"expected region {region_id!r} in the forecast")
    steps = max(1, min(int(steps), fc.samples.shape[1]))
    totals = fc.samples[fc.region_ids.index(region_id), :steps, :].sum(axis=0)
    tail = (1 - level) / 2
    low, med, high = np.quantile(totals, [tail, 0.5, 1 - tail], method="inverted_cdf")
    return WindowForecast(
        region_id=region_id,
        steps=steps,
        first=pd.Timestamp(fc.periods[0]),
        last=pd.Timestamp(fc.periods[steps - 1]),
        mean=float(totals.mean()),
        low=float(low),
        high=float(high),
        p_any=float((totals > 0).mean()),
        level=level,
        median=float(med),
    )


def forecast_sentence(w: WindowForecast, region_name: str, model: str) -> str:
    """Plain-language sentence for a :class:`WindowForecast` (numbers already computed)."""
    return (
        f"From {w.first:%Y-%m} to {w.last:%Y-%m}, the {model} forecast expects "
        f"{w.mean:.1f} events in {region_name} (median {w.median:.0f}, "
        f"{100 * w.level:.0f}% interval "
        f"{w.low:.0f}-{w.high:.0f}); the probability of at least one event in that time is "
        f"{format_probability(w.p_any)}"
    )


SPILLOVER_COLUMNS = {
    "region_id": "region",
    "region_name": "name",
    "country": "country",
    "p_any": "P(at least 1)",
    "p_any_low": "low",
    "p_any_high": "high",
    "expected": "expected events",
    "endemic": "of which endemic",
    "own": "own last counts",
    "neighbour": "neighbours' last counts",
    "share_neighbour": "share from neighbours",
}


def spillover_table(spill: Any, region_ids: list[str]) -> pd.DataFrame:
    """Spillover model rows for the given regions, in that order, in plain column names."""
    rows = spill.regions.set_index("region_id").reindex(region_ids).reset_index()
    rows = rows.dropna(subset=["p_any"])
    for col in ("p_any", "p_any_low", "p_any_high"):
        rows[col] = [format_probability(p) for p in rows[col].astype(float)]
    return rows.reindex(columns=list(SPILLOVER_COLUMNS)).rename(columns=SPILLOVER_COLUMNS)


def recent_mean(panel: pd.DataFrame, periods: int = 12) -> pd.Series:
    """Mean events per period over the last ``periods`` periods, per region."""
    last = sorted(panel["period"].unique())[-periods:]
    recent = panel[panel["period"].isin(last)]
    return recent.groupby("region_id")["events"].mean()


def surge_probability(
    fc: Any, panel: pd.DataFrame, factor: float = 2.0, steps: int = 3, periods: int = 12
) -> pd.DataFrame:
    """P(a surge) per region: events over the next ``steps`` periods reach ``factor`` times
    what the last ``periods`` periods' mean would give (and at least one event).

    Parameters
    ----------
    fc : ForecastResult
        Predictive samples for the regions.
    panel : DataFrame
        The panel the forecast was made from (for the recent mean).
    factor : float
        Surge multiple (the study's ``alerts.surge_factor``).
    steps, periods : int
        Forecast window and look-back window, in periods.

    Returns
    -------
    DataFrame
        ``region_id``, ``recent_mean``, ``threshold`` (events over the window), ``p_surge``.
    """
    import numpy as np

    steps = max(1, min(int(steps), fc.samples.shape[1]))
    base = recent_mean(panel, periods).reindex(list(fc.region_ids)).fillna(0.0)
    threshold = np.maximum(np.ceil(factor * steps * base.to_numpy() - 1e-9), 1.0)
    totals = fc.samples[:, :steps, :].sum(axis=1)  # (region, sample)
    p = (totals >= threshold[:, None]).mean(axis=1)
    return pd.DataFrame(
        {
            "region_id": list(fc.region_ids),
            "recent_mean": base.to_numpy(),
            "threshold": threshold,
            "p_surge": p,
        }
    )


def ranking(
    panel: pd.DataFrame,
    growth_rows: pd.DataFrame | None,
    surge: pd.DataFrame,
    spill: Any,
    periods: int = 12,
) -> pd.DataFrame:
    """Regions ranked by the growth we are sure of, then P(surge), spillover P(at least 1)
    and recent events.

    "Sure of" is the lower bound of the headline 95% interval of the latest growth ratio
    (allowing for overdispersion and month-to-month dependence; the exact one for tables
    without it): a region that went from 10 to 73 events ranks above one that went from 0 to 1,
    whose ratio is unbounded but whose lower bound is small.

    Returns one row per region with ``region_id``, ``region_name``, ``country``,
    ``events_recent`` (last ``periods`` periods), ``ratio`` with its interval (latest growth
    comparison), ``p_surge``, ``p_any`` (spillover model) and ``rank``.
    """
    last = sorted(panel["period"].unique())[-periods:]
    names = panel.drop_duplicates("region_id").set_index("region_id")[["region_name", "country"]]
    out = names.copy()
    out["events_recent"] = (
        panel[panel["period"].isin(last)].groupby("region_id")["events"].sum().reindex(out.index)
    )
    if growth_rows is not None and len(growth_rows):
        latest = growth_rows[
            (growth_rows["period_a"] == growth_rows["period_a"].iloc[-1])
            & (growth_rows["period_b"] == growth_rows["period_b"].iloc[-1])
        ].set_index("region_id")
        out["ratio"] = latest["ratio"].reindex(out.index)
        low, high = ("headline_ci_low", "headline_ci_high")
        if low not in latest.columns:
            low, high = "ci_low", "ci_high"
        out["ratio_low"] = latest[low].reindex(out.index)
        out["ratio_high"] = latest[high].reindex(out.index)
    out["p_surge"] = surge.set_index("region_id")["p_surge"].reindex(out.index)
    out["p_any"] = spill.regions.set_index("region_id")["p_any"].reindex(out.index)
    keys = [k for k in ("ratio_low", "p_surge", "p_any", "events_recent") if k in out.columns]
    out = out.reset_index().sort_values(keys, ascending=False, kind="stable", na_position="last")
    out["rank"] = range(1, len(out) + 1)
    return out.reset_index(drop=True)


def alerts(rank: pd.DataFrame, probability: float) -> pd.DataFrame:
    """Rows of :func:`ranking` whose P(surge) passes ``probability``."""
    return rank[rank["p_surge"] > probability].reset_index(drop=True)


def ranking_record(rank: pd.DataFrame) -> list[dict[str, Any]]:
    """The ranking as JSON-ready rows for the manifest (read by the next quarter), with the
    expected events of :func:`expected_next` when ``rank`` has them."""
    cols = ["region_id", "rank", "events_recent", "p_surge", "p_any"]
    expected = ["expected", "expected_low", "expected_high"]
    has_expected = all(c in rank.columns for c in expected)
    out = []
    for row in rank.reindex(columns=cols + expected).itertuples(index=False):
        item = {
            "region_id": str(row.region_id),
            "rank": int(row.rank),
            "events_recent": int(row.events_recent),
            "p_surge": float(row.p_surge),
            "p_any": None if pd.isna(row.p_any) else float(row.p_any),
        }
        if has_expected:
            for name in expected:
                value = getattr(row, name)
                item[name] = None if pd.isna(value) else float(value)
        out.append(item)
    return out


def expected_next(fc: Any, steps: int = 3, level: float = 0.9) -> pd.DataFrame:
    """Expected events over the next ``steps`` periods with a central interval, per region.

    Returns
    -------
    DataFrame
        ``region_id``, ``expected``, ``expected_low``, ``expected_high``.
    """
    rows = [window_forecast(fc, r, steps=steps, level=level) for r in fc.region_ids]
    return pd.DataFrame(
        {
            "region_id": [w.region_id for w in rows],
            "expected": [w.mean for w in rows],
            "expected_low": [w.low for w in rows],
            "expected_high": [w.high for w in rows],
        }
    )


#: Forecasters scored in the methods appendix: every model a report can use (``auto`` and the
#: spillover model as configured, the candidates ``auto`` chooses among and the models inside
#: them) and the baseline ladder.
METHOD_MODELS = (
    "auto",
    "spillover",
    "ensemble_trend",
    "ensemble_local",
    "damped_trend",
    "local_level",
    "conflictology",
    "nb_climatology",
    "recent_mean_6",
    "recent_mean_3",
    "last_value",
    "zero",
)
#: Periods between the appendix's rolling origins (three years of origins, 12 steps each).
METHOD_STRIDE = 3


def group_table(card: dict[str, Any]) -> pd.DataFrame:
    """Models by group of regions (focus, active, quiet): CRPS, skill against the group's
    best baseline and randomised-PIT 80% coverage, at steps 1-h together."""
    rows = pd.DataFrame(card["by_group"])
    if rows.empty:
        return rows
    rows = rows.sort_values(["group", "crps"], kind="stable")
    return rows.reindex(
        columns=["group", "model", "crps", "crps_skill_vs_best_baseline", "pit_coverage_80"]
    ).rename(
        columns={
            "crps": "CRPS",
            "crps_skill_vs_best_baseline": "CRPS skill vs best baseline",
            "pit_coverage_80": "80% coverage (randomised PIT)",
        }
    )


SCORE_COLUMNS = {
    "model": "model",
    "is_baseline": "baseline",
    "crps": "CRPS",
    "crps_skill_vs_best_baseline": "CRPS skill vs best baseline",
    "pit_coverage_50": "50% coverage (randomised PIT)",
    "pit_coverage_80": "80% coverage (randomised PIT)",
    "pit_coverage_95": "95% coverage (randomised PIT)",
    "interval_score_95": "95% interval score",
    "brier_any": "Brier P(at least 1)",
}


def scorecard_table(card: dict[str, Any]) -> pd.DataFrame:
    """The ``models`` part of :func:`analysis.evaluation.scorecard`, sorted by CRPS."""
    frame = pd.DataFrame(card["models"]).sort_values("crps", kind="stable")
    return frame.reindex(columns=list(SCORE_COLUMNS)).rename(columns=SCORE_COLUMNS)


RANKING_COLUMNS = {
    "rank": "rank",
    "region_id": "region",
    "region_name": "name",
    "country": "country",
    "events_recent": "events, last 12 periods",
    "ratio": "growth ratio",
    "ratio_low": "95% CI low",
    "ratio_high": "95% CI high",
    "p_surge": "P(surge)",
    "p_any": "P(at least 1) within the horizon",
}


def ranking_display(rank: pd.DataFrame, top: int = 20) -> pd.DataFrame:
    """The first ``top`` rows of :func:`ranking` in plain column names; unbounded ratios
    (no events in the earlier window) are shown as blank rather than ``inf``."""
    import numpy as np

    out = rank.head(top).reindex(columns=list(RANKING_COLUMNS)).copy()
    for col in ("ratio", "ratio_low", "ratio_high"):
        out[col] = out[col].astype(float).replace([np.inf, -np.inf], np.nan)
    for col in ("p_surge", "p_any"):
        out[col] = [format_probability(p) for p in out[col].astype(float)]
    return out.rename(columns=RANKING_COLUMNS)


def cross_border_sentence(
    spill: Any, region_id: str, boundaries: Any, targets: list[str] | None = None
) -> str | None:
    """One sentence on the chance of events in a region's cross-border neighbours.

    Country-level probabilities saturate when a target country already has active units, so
    the founding question ("how likely are the first attacks across the border?") is answered
    per neighbouring unit, each with its interval.

    Parameters
    ----------
    spill : analysis.models.spillover.SpilloverResult
    region_id : str
        The focus region.
    boundaries : analysis.geography.Boundaries
    targets : list of str, optional
        ISO3 codes of the countries of interest (default: every other country).

    Returns
    -------
    str or None
        ``None`` when the region has no cross-border neighbour in the model.
    """
    from analysis.geography import neighbours

    table = spill.regions.set_index("region_id")
    across = [
        r
        for r in neighbours(region_id, cross_border_only=True, boundaries=boundaries)
        if r in table.index and (not targets or table.loc[r, "country"] in targets)
    ]
    if not across:
        return None
    pct = int(round(100 * spill.level))
    if "p_any_low" in table.columns:
        parts = [
            f"{table.loc[r, 'region_name']} ({table.loc[r, 'country']}) "
            f"{format_probability(table.loc[r, 'p_any'])} ({pct}% interval "
            f"{probability_range(table.loc[r, 'p_any_low'], table.loc[r, 'p_any_high'])})"
            for r in across
        ]
    else:  # a predictive probability from one model's paths (parameter uncertainty inside)
        parts = [
            f"{table.loc[r, 'region_name']} ({table.loc[r, 'country']}) "
            f"{format_probability(table.loc[r, 'p_any'])}"
            for r in across
        ]
    name = table.loc[region_id, "region_name"] if region_id in table.index else region_id
    return (
        f"Across the border from {name}, the probability of at least one event within "
        f"{spill.horizon} periods after {spill.origin:%Y-%m} is: " + "; ".join(parts) + "."
    )


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


def region_group(bt: Any, region_id: str) -> str:
    """The backtest group (focus, active or quiet) a region fell in at the last origin."""
    s = bt.scores
    last = s[(s["origin"] == s["origin"].max()) & (s["region_id"] == region_id)]
    return str(last["group"].iloc[0]) if len(last) else "quiet"


def evidence_table(card: dict[str, Any], model: str, group: str) -> pd.DataFrame:
    """Per forecast step, for one group of regions: the model's CRPS, the best baseline's
    (chosen over all steps of the group), the skill and the randomised-PIT 80% coverage.

    ``card`` is :func:`analysis.evaluation.scorecard` of a backtest with a ``group`` column.
    """
    rows = pd.DataFrame(card["by_group_horizon"])
    rows = rows[rows["group"] == group]
    overall = pd.DataFrame(card["by_group"])
    overall = overall[(overall["group"] == group) & overall["is_baseline"]]
    if rows.empty or overall.empty or model not in set(rows["model"]):
        return pd.DataFrame(columns=["step", "CRPS", "best baseline", "baseline CRPS",
                                     "CRPS skill", "80% coverage (randomised PIT)"])  # fmt: skip
    base = str(overall.sort_values("crps").iloc[0]["model"])
    m = rows[rows["model"] == model].set_index("step")
    b = rows[rows["model"] == base].set_index("step")
    return pd.DataFrame(
        {
            "step": m.index.astype(int),
            "CRPS": m["crps"].to_numpy(),
            "best baseline": base,
            "baseline CRPS": b["crps"].reindex(m.index).to_numpy(),
            "CRPS skill": (1 - m["crps"] / b["crps"].reindex(m.index)).to_numpy(),
            "80% coverage (randomised PIT)": m["pit_coverage_80"].to_numpy(),
        }
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
