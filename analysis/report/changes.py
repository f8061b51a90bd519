"""What changed since the previous quarter, in words a reviewer reads.

Three things count as material, and nothing else is listed (a rank shuffle among regions with
no events is not a change):

- regions with events in the latest quarter and none in the twelve months before;
- alert thresholds crossed: P(surge) moved across the study's alert probability (only when
  both overviews computed P(surge) under the same surge rule, :func:`surge_rule_record`);
- the largest moves in expected events over the next three periods, each with its interval,
  from the previous overview's record to this one's.

The previous quarter's numbers come from the ``ranking`` record its overview left in the
batch manifest (:func:`analysis.report.overview_text.ranking_record`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.formatting import format_probability, join_words
from analysis.periods import parse_quarter, quarter_of

#: Moves in expected events smaller than this are not listed.
MIN_MOVE = 1.0


@dataclass(frozen=True)
class QuarterChanges:
    """Material changes between two quarterly overviews of a study.

    Attributes
    ----------
    quarter : str
        The latest quarter of the panel (``2024Q4``).
    new_regions : DataFrame
        ``region_id``, ``region_name``, ``events``: first events in twelve months.
    raised, cleared : DataFrame
        ``region_id``, ``region_name``, ``p_before``, ``p_now``: alerts raised and cleared.
    moves : DataFrame
        ``region_id``, ``region_name``, ``before``, ``before_low``, ``before_high``, ``now``,
        ``now_low``, ``now_high``, ``change``: largest moves in expected events, largest first.
    probability : float
        The alert probability.
    compared : bool
        Whether a previous overview was there to compare with (else only new regions).
    expected_recorded : bool
        Whether the previous overview recorded expected events.
    rule_changed : bool
        Whether the previous overview computed P(surge) under another surge rule (or did not
        record its rule), so that alert crossings are not compared.
    """

    quarter: str
    new_regions: pd.DataFrame
    raised: pd.DataFrame
    cleared: pd.DataFrame
    moves: pd.DataFrame
    probability: float
    compared: bool
    expected_recorded: bool
    rule_changed: bool = False

    def sentences(self) -> list[str]:
        """One sentence per kind of change, numbers included."""
        out = []
        if len(self.new_regions):
            listed = join_words(
                f"{r.region_name} ({_events(r.events)})" for r in self.new_regions.itertuples()
            )
            out.append(f"First events in twelve months in {self.quarter}: {listed}.")
        else:
            out.append(f"No region had its first events in twelve months in {self.quarter}.")
        if not self.compared:
            out.append("There is no previous quarter's overview to compare forecasts with.")
            return out
        threshold = _percent(self.probability)
        if self.rule_changed:
            # a crossing between two rules would be the rule's change, not the forecast's
            out.append(
                "The previous overview computed P(surge) under another surge rule (or did not "
                "record its rule), so alert crossings are not compared this quarter."
            )
        for frame, verb in ((self.raised, "raised"), (self.cleared, "cleared")):
            if len(frame):
                listed = join_words(
                    f"{r.region_name} (P(surge) {_percent(r.p_before)} to {_percent(r.p_now)})"
                    for r in frame.itertuples()
                )
                out.append(f"Alert {verb} (threshold {threshold}): {listed}.")
        if not self.rule_changed and not len(self.raised) and not len(self.cleared):
            out.append(f"No region crossed the alert threshold ({threshold}) either way.")
        if not self.expected_recorded:
            out.append("The previous overview did not record expected events to compare with.")
        elif len(self.moves):
            listed = join_words(
                f"{r.region_name} {r.before:.1f} ({r.before_low:.0f}-{r.before_high:.0f}) to "
                f"{r.now:.1f} ({r.now_low:.0f}-{r.now_high:.0f})"
                for r in self.moves.itertuples()
            )
            out.append(
                "Largest moves in expected events over the next three periods "
                f"(90% intervals): {listed}."
            )
        else:
            out.append(
                f"No region's expected events over the next three periods moved by "
                f"{MIN_MOVE:g} or more."
            )
        return out

    def table(self) -> pd.DataFrame:
        """The moves with reviewer-readable column names (intervals as ``low-high``)."""
        m = self.moves
        return pd.DataFrame(
            {
                "region": m["region_name"].astype(str),
                "expected events, previous quarter": m["before"].round(1),
                "90% interval, previous": _intervals(m["before_low"], m["before_high"]),
                "expected events, this quarter": m["now"].round(1),
                "90% interval, this quarter": _intervals(m["now_low"], m["now_high"]),
                "change": m["change"].round(1),
            }
        )


def _events(n: Any) -> str:
    return "1 event" if int(n) == 1 else f"{int(n):,} events"


def _percent(p: float) -> str:
    return format_probability(p)


def _intervals(low: pd.Series, high: pd.Series) -> list[str]:
    return [f"{a:.0f}-{b:.0f}" for a, b in zip(low, high, strict=True)]


def _previous_records(previous_manifest: str, study_slug: str) -> dict[str, Any]:
    """The records of the previous manifest's overview of this study (empty if none)."""
    if not previous_manifest or not Path(previous_manifest).is_file():
        return {}
    try:
        manifest = json.loads(Path(previous_manifest).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    for entry in manifest.get("reports", []):
        if entry.get("kind") == "overview" and entry.get("study_slug") == study_slug:
            return entry.get("records") or {}
    return {}


def previous_ranking(previous_manifest: str, study_slug: str) -> list[dict[str, Any]] | None:
    """The ``ranking`` record of the previous manifest's overview of this study, if any.

    Parameters
    ----------
    previous_manifest : str
        Path of the previous batch's ``manifest.json``; empty, missing or unreadable gives None.
    study_slug : str
        The study's slug, as its overview entry in the manifest records it.

    Returns
    -------
    list of dict or None
        One dict per region (:func:`analysis.report.overview_text.ranking_record`), or None.
    """
    return _previous_records(previous_manifest, study_slug).get("ranking") or None


def previous_surge_rule(previous_manifest: str, study_slug: str) -> dict[str, Any] | None:
    """The ``surge_rule`` record (:func:`surge_rule_record`) of the previous manifest's overview
    of this study; None when it has none (an overview from before the rule was recorded).

    Parameters
    ----------
    previous_manifest : str
        Path of the previous batch's ``manifest.json``; empty, missing or unreadable gives None.
    study_slug : str
        The study's slug, as its overview entry in the manifest records it.

    Returns
    -------
    dict or None
        The recorded surge rule, or None.
    """
    return _previous_records(previous_manifest, study_slug).get("surge_rule") or None


def surge_rule_record(factor: float, min_events: int) -> dict[str, Any]:
    """The surge rule an overview computed P(surge) under, as its manifest records it
    (:func:`analysis.models.risk.surge_rule`).

    Parameters
    ----------
    factor : float
        The study's ``alerts.surge_factor``.
    min_events : int
        The study's ``alerts.min_events``.

    Returns
    -------
    dict
        ``surge_factor``, ``min_events``, ``steps`` and ``lookback``.
    """
    from analysis.models.risk import surge_rule

    return surge_rule(factor, min_events)


def new_regions(panel: pd.DataFrame, quiet_months: int = 12) -> tuple[str, pd.DataFrame]:
    """Regions with events in the panel's latest quarter and none in the months before it.

    Parameters
    ----------
    panel : DataFrame
        The panel, with ``period``, ``region_id``, ``region_name`` and ``events``.
    quiet_months : int, optional
        Months before the quarter's start that must have no events; default 12.

    Returns
    -------
    (str, DataFrame)
        The quarter (``2024Q4``) and ``region_id``, ``region_name``, ``events``.
    """
    periods = pd.to_datetime(panel["period"])
    last = periods.max()
    quarter = quarter_of(last)
    start = parse_quarter(quarter).start_time
    in_quarter = panel[periods >= start]
    before = panel[(periods < start) & (periods >= start - pd.DateOffset(months=quiet_months))]
    now = in_quarter.groupby("region_id")["events"].sum()
    earlier = before.groupby("region_id")["events"].sum().reindex(now.index, fill_value=0)
    new = now[(now > 0) & (earlier == 0)].sort_values(ascending=False, kind="stable")
    names = panel.drop_duplicates("region_id").set_index("region_id")["region_name"]
    frame = pd.DataFrame(
        {
            "region_id": new.index.astype(str),
            "region_name": names.reindex(new.index).astype(str).to_numpy(),
            "events": new.to_numpy(dtype=int),
        }
    )
    return quarter, frame


def quarter_changes(
    panel: pd.DataFrame,
    rank: pd.DataFrame,
    previous: list[dict[str, Any]] | None,
    probability: float,
    top: int = 5,
    *,
    surge_rule: dict[str, Any] | None = None,
    previous_rule: dict[str, Any] | None = None,
) -> QuarterChanges:
    """Material changes since the previous quarter's overview.

    Parameters
    ----------
    panel : DataFrame
        The panel as of this quarter.
    rank : DataFrame
        This quarter's :func:`analysis.ranking.ranking`, with ``expected``,
        ``expected_low`` and ``expected_high`` (:func:`analysis.models.risk.expected_next`).
    previous : list of dict or None
        The previous overview's ranking record (:func:`previous_ranking`).
    probability : float
        The study's alert probability.
    top : int
        Moves in expected events listed at most.
    surge_rule, previous_rule : dict, optional
        This overview's and the previous one's :func:`surge_rule_record`. When ``surge_rule``
        is given and ``previous_rule`` differs from it (or is None: an overview from before
        the rule was recorded), alert crossings are not compared: P(surge) under two rules
        (``alerts.min_events`` moved the demo's MR-01 from 48% to 2%) would cross the
        threshold by the rule's change, not the forecast's.

    Returns
    -------
    QuarterChanges
    """
    quarter, fresh = new_regions(panel)
    empty = pd.DataFrame(columns=["region_id", "region_name", "p_before", "p_now"])
    no_moves = pd.DataFrame(
        columns=[
            "region_id", "region_name", "before", "before_low", "before_high",
            "now", "now_low", "now_high", "change",
        ]
    )  # fmt: skip
    if not previous:
        return QuarterChanges(quarter, fresh, empty, empty, no_moves, probability, False, False)
    before = pd.DataFrame(previous)
    merged = rank.merge(before, on="region_id", how="inner", suffixes=("", "_before"))
    p_before, p_now = merged["p_surge_before"].astype(float), merged["p_surge"].astype(float)
    crossed = pd.DataFrame(
        {
            "region_id": merged["region_id"],
            "region_name": merged["region_name"],
            "p_before": p_before,
            "p_now": p_now,
        }
    )
    rule_changed = surge_rule is not None and previous_rule != surge_rule
    if rule_changed:
        raised = cleared = empty
    else:
        raised = crossed[(p_before <= probability) & (p_now > probability)]
        cleared = crossed[(p_before > probability) & (p_now <= probability)]
    recorded = "expected" in before.columns and before["expected"].notna().any()
    moves = no_moves
    if recorded and "expected" in merged.columns:
        change = merged["expected"].astype(float) - merged["expected_before"].astype(float)
        frame = pd.DataFrame(
            {
                "region_id": merged["region_id"],
                "region_name": merged["region_name"],
                "before": merged["expected_before"].astype(float),
                "before_low": merged["expected_low_before"].astype(float),
                "before_high": merged["expected_high_before"].astype(float),
                "now": merged["expected"].astype(float),
                "now_low": merged["expected_low"].astype(float),
                "now_high": merged["expected_high"].astype(float),
                "change": change,
            }
        )
        frame = frame[np.abs(frame["change"]) >= MIN_MOVE]
        order = np.argsort(-np.abs(frame["change"].to_numpy()), kind="stable")
        moves = frame.iloc[order].head(top)
    return QuarterChanges(
        quarter,
        fresh,
        raised.reset_index(drop=True),
        cleared.reset_index(drop=True),
        moves.reset_index(drop=True),
        probability,
        True,
        bool(recorded),
        rule_changed,
    )
