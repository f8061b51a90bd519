"""Rolling-origin backtests, paired tests and scorecards.

The scoring rules are in :mod:`analysis.scoring`; the loop over origins is
:func:`analysis.cross_validation.cross_validation`. ``crps`` in the scorecards is the VIEWS
(1/M**2) estimator, ``crps_fair`` the unbiased one; coverage is the randomised-PIT kind
(``pit_coverage_*``); ``closed_coverage_*`` are the closed sample-quantile intervals, which
over-cover counts and are kept only under that name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from analysis.cross_validation import cross_validation, origin_indices
from analysis.errors import InputError
from analysis.formatting import period_label
from analysis.models.forecast import Forecaster, ForecastResult, History, panel_to_history
from analysis.models.risk import MIN_SURGE_EVENTS, NEAR_STEPS, surge_rule, surge_threshold
from analysis.models.risk import SURGE_LOOKBACK as RISK_SURGE_LOOKBACK
from analysis.origin_inference import origin_pairs, pooled_ratio, step_items
from analysis.scoring import (
    sample_quantiles,
    score_samples,
)


def score_forecast(
    result: ForecastResult, observed: np.ndarray, *, active: np.ndarray | None = None
) -> pd.DataFrame:
    """Long table of scores, one row per region and step with an observation.

    ``observed`` has shape (region, step) and may be NaN where the target is not yet known.

    Parameters
    ----------
    result : ForecastResult
        Sample paths (region, step, sample); its seed drives the randomised PIT.
    observed : numpy.ndarray (region, step)
        What happened; NaN where not yet known (those rows are left out).
    active : numpy.ndarray (region,) of bool, optional
        Whether each region had a recent event at the origin; all True by default.

    Returns
    -------
    pandas.DataFrame
        ``model``, ``origin``, ``region_id``, ``step`` (from 1), ``period``, ``observed``,
        ``active`` and one column per score of :func:`analysis.scoring.score_samples`.

    Raises
    ------
    InputError
        When ``observed`` does not have the shape (region, step) of ``result``.
    """
    obs = np.asarray(observed, dtype=float)
    R, H, _ = result.samples.shape
    if obs.shape != (R, H):
        raise InputError(f"expected observed of shape {(R, H)}, got {obs.shape}")
    ok = np.isfinite(obs)
    scores = score_samples(
        np.where(ok, obs, 0.0), result.samples, rng=np.random.default_rng(result.seed)
    )
    frame = pd.DataFrame(
        {
            "model": result.model,
            "origin": result.origin,
            "region_id": np.repeat(np.asarray(result.region_ids, dtype=object), H),
            "step": np.tile(np.arange(1, H + 1), R),
            "period": np.tile(np.asarray(result.periods), R),
            "observed": obs.ravel(),
            "active": np.repeat(np.ones(R, bool) if active is None else np.asarray(active), H),
            **{k: v.ravel() for k, v in scores.items()},
        }
    )
    return frame[ok.ravel()].reset_index(drop=True)


# --------------------------------------------------------------------------- backtest


@dataclass(frozen=True)
class BacktestResult:
    """Scores of every model at every origin, region and step (``scores``, long format)."""

    scores: pd.DataFrame
    models: tuple[str, ...]
    is_baseline: dict[str, bool]
    origins: tuple[pd.Timestamp, ...]
    horizon: int
    n_samples: int
    seed: int
    meta: dict[str, Any] = field(default_factory=dict)
    #: The panel's periods, ``month`` or ``quarter``: how its origins are written.
    freq: str = "month"


def backtest(
    data: pd.DataFrame | History,
    models: Sequence[str | Forecaster],
    *,
    start: Any = None,
    end: Any = None,
    horizon: int = 6,
    n_samples: int = 1000,
    seed: int = 0,
    active_window: int | None = None,
    min_train: int = 24,
    focus: Sequence[str] = (),
    stride: int = 1,
    surge_factor: float | None = None,
    surge_min_events: int = MIN_SURGE_EVENTS,
    total_steps: Sequence[int] | None = None,
) -> BacktestResult:
    """Rolling-origin backtest: refit each model at every origin and score steps 1..horizon.

    Parameters
    ----------
    data : DataFrame or History
        A panel (docs/internals.md) or a :class:`History` of the whole window.
    models : sequence of str or Forecaster
    start, end : str or Timestamp, optional
        First and last origin (inclusive; see
        :func:`analysis.cross_validation.origin_indices` for the defaults).
    horizon, n_samples, seed : int
        Every model uses the same seed at a given origin (common random numbers).
    active_window : int, optional
        A region is *active* at an origin if it had an event in the last ``active_window``
        periods up to the origin; by default one year (12 months, 4 quarters: a quarterly
        study's quiet units, which its onset forecasts take, had counted as active for
        three years).
    min_train : int
        Origins with fewer periods of history are skipped.
    focus : sequence of str
        Region ids marked ``focus`` in the scores (``group`` is focus, active or quiet).
    stride : int
        Every ``stride``-th origin only (counted back from the last).
    surge_factor : float, optional
        Also score each model's P(surge) over the first :data:`SURGE_STEPS` steps (the
        overview's alert number, :func:`analysis.models.risk.surge_probability`, with this
        factor) against whether the surge happened: ``meta["surge"]`` (:func:`_surge_rows`),
        and the rule in ``meta["surge_rule"]`` (:func:`analysis.models.risk.surge_rule`, as
        the overview's manifest records it).
    surge_min_events : int
        Fewest events over the window that make a surge (the study's ``alerts.min_events``),
        as :func:`analysis.models.risk.surge_threshold` applies it.
    total_steps : sequence of int, optional
        Window lengths ``k`` whose totals are scored: at every origin, each model's paths
        summed over steps ``1..k`` against the observed total, for the regions whose ``k``
        outcomes are all known (``meta["totals"]``, :func:`_total_rows`). By default the
        reports' windows, :data:`NEAR_STEPS` and ``horizon`` (those not above ``horizon``);
        ``()`` scores no totals.

    Returns
    -------
    BacktestResult

    Notes
    -----
    Progress over origins is drawn by :func:`analysis.progress.bar` (stage ``origins``): only
    when stderr is a terminal and ``--quiet`` was not given.
    """
    from analysis import progress

    if surge_factor is not None:  # the rule's own check, before any model is fitted
        surge_threshold(np.zeros(0), surge_factor, SURGE_STEPS, surge_min_events)
    windows = total_windows(horizon, total_steps)
    hist = panel_to_history(data) if isinstance(data, pd.DataFrame) else data
    idx = origin_indices(
        hist, start=start, end=end, min_train=min_train, horizon=horizon, stride=stride
    )
    is_focus = np.isin(np.asarray(hist.region_ids), list(focus))
    frames: list[pd.DataFrame] = []
    surges: list[pd.DataFrame] = []
    totals: list[dict[str, np.ndarray]] = []
    names: list[str] = []
    folds = cross_validation(
        hist, models, idx, horizon, n_samples=n_samples, seed=seed, active_window=active_window
    )
    with progress.bar(total=len(idx), stage="origins", unit="origin") as bar:
        for i, fold in enumerate(folds, start=1):
            if fold.model not in names:
                names.append(fold.model)
            frame = score_forecast(fold.result, fold.observed, active=fold.active)
            frame["group"] = np.where(
                is_focus[_rows(fold.result, frame)], "focus",
                np.where(frame["active"], "active", "quiet"),
            )  # fmt: skip
            frames.append(frame)
            if surge_factor is not None and horizon >= SURGE_STEPS:
                surges.append(_surge_rows(fold, hist, surge_factor, surge_min_events, is_focus))
            if windows:
                totals.append(_total_rows(fold, hist, windows, is_focus))
            if i % len(models) == 0:  # every model has been scored at this origin
                bar.update(1)
    scores = pd.concat(frames, ignore_index=True)
    flags = {m: _is_baseline(m, models) for m in names}
    meta: dict[str, Any] = {}
    if surges:
        meta["surge"] = pd.concat(surges, ignore_index=True)
        meta["surge_rule"] = surge_rule(surge_factor, surge_min_events)
    if windows:
        meta["totals"] = _join_columns(totals)
    return BacktestResult(
        scores=scores,
        models=tuple(names),
        is_baseline=flags,
        origins=tuple(hist.periods[t - 1] for t in idx),
        horizon=horizon,
        n_samples=n_samples,
        seed=seed,
        meta=meta,
        freq=hist.freq,
    )


#: Steps of the overview's P(surge) window and periods of the mean it is measured against.
SURGE_STEPS, SURGE_LOOKBACK = NEAR_STEPS, RISK_SURGE_LOOKBACK


def _surge_rows(
    fold: Any, hist: History, factor: float, min_events: int, is_focus: np.ndarray
) -> pd.DataFrame:
    """One model's P(surge) at one origin, per region whose first ``SURGE_STEPS`` outcomes are
    known, beside whether the surge happened (the rule of the overview's alerts)."""
    from analysis.models.risk import path_surge_probability

    t = fold.seen
    recent = hist.counts[:, max(0, t - SURGE_LOOKBACK) : t].mean(axis=1)
    threshold = surge_threshold(recent, factor, SURGE_STEPS, min_events)
    observed = fold.observed[:, :SURGE_STEPS]
    known = np.isfinite(observed).all(axis=1)
    p = path_surge_probability(fold.result.samples, threshold, SURGE_STEPS)
    group = np.where(is_focus, "focus", np.where(fold.active, "active", "quiet"))
    return pd.DataFrame(
        {
            "model": fold.model,
            "origin": hist.periods[t - 1],
            "region_id": np.asarray(fold.result.region_ids, dtype=object),
            "group": group,
            "threshold": threshold,
            "p_surge": p,
            "surge": np.nansum(observed, axis=1) >= threshold,
        }
    )[known]


def _window_gap(both: pd.DataFrame, score: str, steps: int, level: float) -> Any:
    """The mean of ``score`` minus ``score + "_base"`` over region-windows of ``steps``
    periods ending at ``period``, with its interval over origins: each window's outcomes are
    its periods, which windows of nearby origins share (:mod:`analysis.origin_inference`)."""
    both = both.assign(step=int(steps))
    return pooled_ratio(
        step_items(both, window="step"), (both[score] - both[f"{score}_base"]).to_numpy(float),
        np.ones(len(both)), level,
    )  # fmt: skip


def surge_scorecard(
    bt: BacktestResult, model: str, *, level: float = 0.9, alert: float | None = None
) -> dict | None:
    """Brier scores of every model's P(surge) in ``bt`` (``meta["surge"]``), and ``model``'s
    against the best baseline's, with its interval over origins (:mod:`analysis.origin_inference`).

    Parameters
    ----------
    bt : BacktestResult
        Run with ``surge_factor``.
    model : str
        The model whose P(surge) the reports show.
    level : float
        Central level of the interval of the Brier difference.
    alert : float, optional
        The study's alert probability: ``alerts`` counts ``model``'s region-windows whose
        P(surge) passed it, ``alert_hits`` those of them that surged (None without it), and
        ``alert`` is the probability itself.

    Returns
    -------
    dict or None
        ``brier`` (model -> mean), ``n`` (region-windows scored), ``surges`` (how many
        happened), ``base_rate``, ``best_baseline``, ``difference`` (``model`` minus the best
        baseline; below 0 is better), ``difference_low`` and ``difference_high``, ``origins``
        (origins scored), ``left_out`` (the backtest's other origins: their window is not yet
        observed), ``rule`` (``meta["surge_rule"]``, or None), ``steps`` (the window) and
        ``level``; None when no surge window was scored.
    """
    frame = bt.meta.get("surge") if bt.meta else None
    if frame is None or frame.empty or model not in set(frame["model"]):
        return None
    frame = frame.assign(brier=(frame["p_surge"] - frame["surge"].astype(float)) ** 2)
    brier = frame.groupby("model", sort=False)["brier"].mean()
    own = frame[frame["model"] == model]
    scored = set(own["origin"])
    base = [m for m in brier.index if bt.is_baseline.get(m)]
    out: dict[str, Any] = {
        "brier": {str(m): float(b) for m, b in brier.items()},
        "n": len(own),
        "surges": int(own["surge"].sum()),
        "base_rate": float(own["surge"].mean()),
        "origins": own["origin"].nunique(),
        # the near-term CRPS evidence scores these origins at the steps already observed, so
        # the two counts of origins differ: say which ones are not here
        "left_out": tuple(o for o in bt.origins if o not in scored),
        "rule": dict(bt.meta["surge_rule"]) if "surge_rule" in bt.meta else None,
        "best_baseline": None,
        "steps": SURGE_STEPS,
        "level": level,
        "alert": alert,
        "alerts": None if alert is None else int((own["p_surge"] > alert).sum()),
        "alert_hits": (
            None if alert is None else int(((own["p_surge"] > alert) & own["surge"]).sum())
        ),
    }
    if not base:
        return out
    best = str(brier[base].idxmin())
    keys = ["origin", "region_id"]
    both = own[[*keys, "brier"]].merge(
        frame.loc[frame["model"] == best, [*keys, "brier"]], on=keys, suffixes=("", "_base")
    )
    # each region-window's outcomes are the SURGE_STEPS periods after its origin: windows of
    # nearby origins share them (analysis.origin_inference)
    ends = bt.scores.loc[bt.scores["step"] == SURGE_STEPS, ["origin", "period"]]
    both = both.merge(ends.drop_duplicates("origin"), on="origin")
    gap = _window_gap(both, "brier", SURGE_STEPS, level)
    lo, hi = gap.low, gap.high
    out.update(
        best_baseline=best,
        difference=float(own["brier"].mean() - brier[best]),
        difference_low=lo,
        difference_high=hi,
    )
    return out


# --------------------------------------------------------------------------- window totals


def total_windows(horizon: int, total_steps: Sequence[int] | None = None) -> tuple[int, ...]:
    """The window lengths whose totals :func:`backtest` scores.

    Parameters
    ----------
    horizon : int
    total_steps : sequence of int, optional
        By default the reports' windows: :data:`NEAR_STEPS` and ``horizon``, those not above
        ``horizon``. ``()`` gives none.

    Returns
    -------
    tuple of int
        Distinct, ascending.

    Raises
    ------
    InputError
        When a window given is below 1 or above ``horizon``.
    """
    if total_steps is None:
        return tuple(sorted({k for k in (NEAR_STEPS, horizon) if 1 <= k <= horizon}))
    bad = [k for k in total_steps if not 1 <= int(k) <= horizon]
    if bad:
        raise InputError(f"expected total_steps between 1 and the horizon {horizon}, got {bad}")
    return tuple(sorted({int(k) for k in total_steps}))


def _total_rows(
    fold: Any, hist: History, windows: Sequence[int], is_focus: np.ndarray
) -> dict[str, np.ndarray]:
    """One model's window totals at one origin: per window length ``k`` and region whose ``k``
    first outcomes are all known, the observed total beside the scores of the paths' sums over
    steps ``1..k`` (the totals the reports quote, with their median and 90% interval).

    Columns of ``meta["totals"]`` as arrays, joined once by :func:`_join_columns`: a frame per
    fold cost as much as the scores themselves.
    """
    res = fold.result
    last = max(windows)
    # running sums over the steps, kept at the window ends: (window, region, sample) and
    # (window, region); a NaN outcome makes its total NaN
    cols = np.asarray(windows) - 1
    paths = np.cumsum(res.samples[:, :last], axis=1)[:, cols].transpose(1, 0, 2)
    observed = np.cumsum(fold.observed[:, :last], axis=1)[:, cols].T
    known = np.isfinite(observed)
    scores = _total_scores(observed[known], paths[known], np.random.default_rng(res.seed))
    window, region = np.nonzero(known)
    group = np.where(is_focus, "focus", np.where(fold.active, "active", "quiet"))
    n = len(region)
    return {
        "model": np.full(n, fold.model, dtype=object),
        "origin": np.repeat(np.asarray(hist.periods)[fold.seen - 1 : fold.seen], n),
        "region_id": np.asarray(res.region_ids, dtype=object)[region],
        "steps": np.asarray(windows, dtype=np.int64)[window],
        "last_period": np.asarray(res.periods)[cols][window],
        "observed": observed[known],
        **scores,
        "group": group[region],
    }


def _join_columns(parts: Sequence[dict[str, np.ndarray]]) -> pd.DataFrame:
    """One frame of the rows of ``parts`` (dicts of equal-length columns, the same keys)."""
    return pd.DataFrame({k: np.concatenate([p[k] for p in parts]) for k in parts[0]})


def _total_scores(
    obs: np.ndarray, samples: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """:func:`analysis.scoring.score_samples` of window totals, with the ends of the 90%
    interval the reports print for a total; obs (N,), samples (N, M)."""
    q05, q95 = sample_quantiles(samples, [0.05, 0.95])
    return {**score_samples(obs, samples, rng=rng), "q05": q05, "q95": q95}


def _totals(bt: BacktestResult, steps: int, groups: Sequence[str] | None) -> pd.DataFrame:
    frame = bt.meta.get("totals") if bt.meta else None
    if frame is None or frame.empty:
        return pd.DataFrame()
    frame = frame[frame["steps"] == steps]
    if groups is not None:
        frame = frame[frame["group"].isin(list(groups))]
    return frame


def total_scorecard(
    bt: BacktestResult,
    model: str,
    steps: int,
    *,
    groups: Sequence[str] | None = None,
    level: float = 0.9,
) -> dict | None:
    """CRPS of every model's window totals over steps ``1..steps`` (``meta["totals"]``),
    ``model``'s skill against the best baseline and its 80% and 90% coverage, with intervals
    over origins (:func:`skill_intervals`).

    Totals test what the per-step scores cannot: whether the paths' dependence across steps
    gives their sums the right spread (months drawn independently give sums too narrow).

    Parameters
    ----------
    bt : BacktestResult
        Run with ``steps`` among its ``total_steps``.
    model : str
        The model whose totals the reports show.
    steps : int
        Window length.
    groups : collection of str, optional
        Only the totals of regions in these groups (focus, active, quiet) at their origin.
    level : float
        Central level of the intervals.

    Returns
    -------
    dict or None
        ``crps`` (model -> mean CRPS of the totals), ``n`` (``model``'s totals scored),
        ``origins`` (origins scored), ``best_baseline`` (lowest mean CRPS among the
        baselines, None without one), ``skill`` (``1 - crps[model] / crps[best_baseline]``
        over the totals both scored) with ``skill_low`` and ``skill_high``,
        ``pit_coverage_80`` and ``pit_coverage_90`` (``model``'s expected randomised-PIT
        coverage of the totals) with ``_low`` and ``_high`` bounds and ``_below`` and
        ``_above`` (confidence that the truth is more than :data:`CALIBRATION_MARGIN` below /
        above the level), ``printed_90`` (the share inside the 90% intervals as printed,
        closed at whole counts) with ``printed_90_above`` and ``printed_90_below`` (how many
        totals fell outside them on each side) and ``printed_90_miss_p`` (two-sided p-value
        of an even split of those, :func:`skill_intervals`), ``df`` (degrees of freedom of
        the skill's error), ``steps``,
        ``groups`` and ``level``; None when ``model`` has no total of that length scored.
        Skill and its bounds are None without a baseline (NaN when its CRPS is 0); bounds
        and confidences NaN where the origins are worth too few independent windows
        (:data:`analysis.origin_inference.MIN_DF`).

    Notes
    -----
    The statistics and their intervals are :func:`skill_intervals`', each total one item
    whose outcomes are its window's ``steps`` periods: totals of origins closer than
    ``steps`` periods share outcomes.
    """
    frame = _totals(bt, steps, groups)
    if frame.empty or model not in set(frame["model"]):
        return None
    crps = frame.groupby("model", sort=False)["crps"].mean()
    best = best_baseline(frame, [m for m in crps.index if bt.is_baseline.get(m)])
    # a total is scored as skill_intervals scores a step, one forecast per origin and region,
    # whose outcomes are the window's periods
    boot = skill_intervals(
        frame.rename(columns={"steps": "step", "last_period": "period"}), model,
        best if best is not None else model, level=level, window="step",
    )  # fmt: skip
    skill = {k: (boot[k] if best is not None else None) for k in ("skill", "skill_low",
             "skill_high")}  # fmt: skip
    return {
        "crps": {str(m): float(c) for m, c in crps.items()},
        "n": boot["n_forecasts"],
        "origins": boot["n_origins"],
        "best_baseline": best,
        "steps": int(steps),
        "groups": None if groups is None else tuple(groups),
        "level": level,
        "df": boot["df"],
        "printed_90": boot["printed_90"],
        **{k: boot[k] for k in ("printed_90_above", "printed_90_below", "printed_90_miss_p")
           if k in boot},  # fmt: skip
        **skill,
        **{f"pit_coverage_{lev}{end}": boot[f"{name}{end}"]
           for lev, name in ((80, "coverage"), (90, "coverage_90"))
           for end in ("", "_low", "_high", "_below", "_above")},
    }  # fmt: skip


def any_event_scorecard(
    bt: BacktestResult,
    model: str,
    steps: int,
    *,
    groups: Sequence[str] | None = None,
    level: float = 0.9,
) -> dict | None:
    """Brier scores of every model's P(at least one event within ``steps`` periods), the
    share of a window's paths whose total is at least 1 (``brier_any`` of ``meta["totals"]``),
    and ``model``'s difference from the best baseline's with its interval over origins.

    The reports print this probability for every region over the horizon; the per-step
    scores judge each month's, not the window's, and the onset backtest only quiet units'.

    Parameters
    ----------
    bt : BacktestResult
        Run with ``steps`` among its ``total_steps``.
    model : str
        The model whose probabilities the reports show.
    steps : int
        Window length.
    groups : collection of str, optional
        Only the windows of regions in these groups (focus, active, quiet) at their origin.
    level : float
        Central level of the interval of the difference.

    Returns
    -------
    dict or None
        ``brier`` (model -> mean), ``n`` (region-windows scored), ``with_event`` (how many
        had one), ``origins``, ``best_baseline`` (lowest mean Brier among the baselines, None
        without one), ``difference`` (``model`` minus it; below 0 is better) with
        ``difference_low`` and ``difference_high`` (NaN where the origins are worth too few
        independent windows), ``steps``, ``groups`` and ``level``; None when ``model`` has
        no window of that length scored.
    """
    frame = _totals(bt, steps, groups)
    if frame.empty or model not in set(frame["model"]):
        return None
    brier = frame.groupby("model", sort=False)["brier_any"].mean()
    own = frame[frame["model"] == model]
    out: dict[str, Any] = {
        "brier": {str(m): float(b) for m, b in brier.items()},
        "n": len(own),
        "with_event": int((own["observed"] >= 1).sum()),
        "origins": int(own["origin"].nunique()),
        "best_baseline": None,
        "steps": int(steps),
        "groups": None if groups is None else tuple(groups),
        "level": level,
    }
    base = [m for m in brier.index if bt.is_baseline.get(m)]
    if not base:
        return out
    best = str(brier[base].idxmin())
    keys = ["origin", "region_id"]
    both = own[[*keys, "last_period", "brier_any"]].merge(
        frame.loc[frame["model"] == best, [*keys, "brier_any"]], on=keys, suffixes=("", "_base")
    )
    gap = _window_gap(both.rename(columns={"last_period": "period"}), "brier_any", steps, level)
    out.update(
        best_baseline=best,
        difference=float(own["brier_any"].mean() - brier[best]),
        difference_low=gap.low,
        difference_high=gap.high,
    )
    return out


def total_summary(bt: BacktestResult) -> list[dict[str, Any]]:
    """One row per window length and model of ``meta["totals"]``: mean CRPS of the totals,
    skill against the best baseline on the same totals, randomised-PIT 80% and 90% coverage.

    Parameters
    ----------
    bt : BacktestResult

    Returns
    -------
    list of dict
        ``steps``, ``model``, ``is_baseline``, ``crps``, ``crps_skill_vs_best_baseline``
        (None without a baseline or when its CRPS is 0), ``pit_coverage_80``,
        ``pit_coverage_90``, ``n_forecasts`` (totals scored) and ``n_origins``; empty without
        totals.
    """
    frame = bt.meta.get("totals") if bt.meta else None
    if frame is None or frame.empty:
        return []
    rows = []
    for k, sub in frame.groupby("steps"):
        g = sub.groupby("model", sort=False)
        table = g[["crps", "pit_coverage_80", "pit_coverage_90"]].mean()
        table["n"], table["origins"] = g.size(), g["origin"].nunique()
        best = best_baseline(sub, [m for m in table.index if bt.is_baseline.get(m)])
        ref = float(table.loc[best, "crps"]) if best is not None else float("nan")
        for m, r in table.iterrows():
            rows.append(
                {
                    "steps": int(k),
                    "model": str(m),
                    "is_baseline": bool(bt.is_baseline.get(m, False)),
                    "crps": float(r["crps"]),
                    "crps_skill_vs_best_baseline": float(1 - r["crps"] / ref) if ref > 0 else None,
                    "pit_coverage_80": float(r["pit_coverage_80"]),
                    "pit_coverage_90": float(r["pit_coverage_90"]),
                    "n_forecasts": int(r["n"]),
                    "n_origins": int(r["origins"]),
                }
            )
    return rows


def first_steps(bt: BacktestResult, steps: int) -> BacktestResult:
    """The same backtest scored at steps 1..``steps`` only (the same origins and forecasts).

    A report that shows ``steps`` periods is judged on those steps: later steps of a longer
    backtest would weigh in scores no report shows.

    Parameters
    ----------
    bt : BacktestResult
    steps : int
        Last step kept; at or above ``bt.horizon`` the backtest is returned unchanged.

    Returns
    -------
    BacktestResult
        ``horizon`` is ``min(steps, bt.horizon)``; ``meta["totals"]`` keeps the windows of
        at most ``steps`` steps.

    Raises
    ------
    InputError
        When ``steps`` is below 1.
    """
    if steps < 1:
        raise InputError(f"expected at least 1 step, got {steps}")
    if steps >= bt.horizon:
        return bt
    kept = bt.scores[bt.scores["step"] <= steps].reset_index(drop=True)
    meta = dict(bt.meta)
    if "totals" in meta:  # the windows that fit in the steps kept
        totals = meta["totals"]
        meta["totals"] = totals[totals["steps"] <= steps].reset_index(drop=True)
    return replace(bt, scores=kept, horizon=int(steps), meta=meta)


def combine_backtests(first: BacktestResult, second: BacktestResult) -> BacktestResult:
    """One backtest of both results' models: the same origins, steps, samples and seed, so
    every model keeps the forecasts and scores it had (common random numbers per origin).

    The reports' evidence backtest and the methods appendix's extra models are run apart and
    joined here, so a model scored in both places gives one number.

    Parameters
    ----------
    first, second : BacktestResult
        Backtests with the same origins, horizon, sample count and seed, and no model in both.

    Returns
    -------
    BacktestResult
        ``first``'s models, then ``second``'s; ``first``'s ``meta``, with both surge
        frames joined under their one surge rule, and both window-total frames joined.

    Raises
    ------
    InputError
        When the two differ in origins, horizon, samples, seed or surge rule, or share a
        model.
    """
    for attr in ("origins", "horizon", "n_samples", "seed", "freq"):
        if getattr(first, attr) != getattr(second, attr):
            raise InputError(
                f"cannot combine backtests with different {attr}: "
                f"{getattr(first, attr)!r} and {getattr(second, attr)!r}"
            )
    shared = set(first.models) & set(second.models)
    if shared:
        raise InputError(f"cannot combine backtests that both score {sorted(shared)}")
    meta = dict(first.meta)
    surges = [b.meta["surge"] for b in (first, second) if "surge" in b.meta]
    if surges:
        meta["surge"] = pd.concat(surges, ignore_index=True)
    totals = [b.meta["totals"] for b in (first, second) if "totals" in b.meta]
    if totals:
        meta["totals"] = pd.concat(totals, ignore_index=True)
    rules = [b.meta["surge_rule"] for b in (first, second) if "surge_rule" in b.meta]
    if rules:
        # one scorecard over both: its models must have been scored against one surge rule
        if any(rule != rules[0] for rule in rules):
            raise InputError(f"cannot combine backtests with different surge rules: {rules}")
        meta["surge_rule"] = rules[0]
    return replace(
        first,
        scores=pd.concat([first.scores, second.scores], ignore_index=True),
        models=(*first.models, *second.models),
        is_baseline={**first.is_baseline, **second.is_baseline},
        meta=meta,
    )


def _rows(result: ForecastResult, frame: pd.DataFrame) -> np.ndarray:
    pos = {r: i for i, r in enumerate(result.region_ids)}
    return frame["region_id"].map(pos).to_numpy()


def _is_baseline(name: str, models: Sequence[str | Forecaster]) -> bool:
    from analysis.models.registry import get

    for m in models:
        if isinstance(m, Forecaster) and m.name == name:
            return bool(m.is_baseline)
    return bool(get(name).is_baseline)


# --------------------------------------------------------------------------- paired tests


def best_baseline(scores: pd.DataFrame, baselines: Sequence[str]) -> str | None:
    """The baseline with the lowest mean CRPS over the forecasts in ``scores`` (a group, a
    range of steps): the one a skill over exactly those forecasts is measured against, so the
    overview and the region reports name the same baseline for the same forecasts.

    Parameters
    ----------
    scores : DataFrame
        Backtest scores cut to the forecasts wanted.
    baselines : sequence of str

    Returns
    -------
    str or None
        None when no baseline is scored there.
    """
    crps = scores[scores["model"].isin(list(baselines))].groupby("model")["crps"].mean()
    return str(crps.idxmin()) if not crps.empty else None


def backtest_leaving_out(
    run: Any, models: Sequence[Any]
) -> tuple[BacktestResult | None, list[dict[str, str]]]:
    """``run(models)``; where a model cannot be fitted at some origin (``ModelError``), each
    model alone, the ones that fit joined (:func:`combine_backtests`: the same origins, seed
    and samples, so their scores are those of one run) and the others named with the reason.

    The ``backtest`` command and the methods appendix's extra models both rely on it: one
    model that cannot be fitted at a short history's early origins (``nb_glm``, "13 usable
    periods for 7 coefficients") had stopped the command's whole default ladder.

    Parameters
    ----------
    run : callable
        ``run(models) -> BacktestResult`` (e.g. :func:`backtest` with all but its models
        bound).
    models : sequence of Forecaster

    Returns
    -------
    (BacktestResult or None, list of dict)
        The joined backtest (None when no model could be fitted) and ``{"model", "reason"}``
        for each model left out.
    """
    from analysis.errors import ModelError

    try:
        return run(list(models)), []
    except ModelError as exc:
        if len(models) == 1:
            return None, [{"model": getattr(models[0], "name", str(models[0])), "reason": str(exc)}]
    done, left_out = None, []
    for model in models:
        try:
            one = run([model])
        except ModelError as exc:
            left_out.append({"model": getattr(model, "name", str(model)), "reason": str(exc)})
            continue
        done = one if done is None else combine_backtests(done, one)
    return done, left_out


#: The name :func:`group_best_baselines` gives its composite forecasts.
GROUP_BEST = "each group's best baseline"


def group_best_baselines(
    scores: pd.DataFrame, baselines: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, str]]:
    """A composite reference: in each group of regions (focus, active, quiet) the scores of
    that group's best baseline (:func:`best_baseline` over the group's forecasts), as one model
    named :data:`GROUP_BEST`.

    A skill pooled over every region is measured against the one baseline best over all of
    them, which can be a poor one within a group: the real study's +3.1% against conflictology
    came from the active regions, where the 6-month mean is better. Against this composite,
    which no single baseline gives and which picks each group's baseline with hindsight, the
    skill is what the model adds in every group at once.

    Parameters
    ----------
    scores : DataFrame
        Backtest scores with ``group``.
    baselines : sequence of str

    Returns
    -------
    (DataFrame, dict)
        The composite's score rows (``model`` = :data:`GROUP_BEST`), and group -> baseline.
    """
    rows, chosen = [], {}
    for group, part in scores.groupby("group", sort=True):
        best = best_baseline(part, baselines)
        if best is None:
            continue
        chosen[str(group)] = best
        rows.append(part[part["model"] == best].assign(model=GROUP_BEST))
    if not rows:
        return scores.iloc[:0], chosen
    return pd.concat(rows, ignore_index=True), chosen


#: How far the 80% coverage (or the share of outcomes above the forecast median) must be from
#: 80% (50%) before the reports call the intervals too narrow or wide (the forecasts too low
#: or high): half the 0.75-0.85 band the real-data acceptance of ``auto`` allows. A miss of a
#: point over thousands of outcomes is measurable but changes no reader's use of an interval,
#: and a verdict on it read as a contradiction beside "80% (90% interval 80%-81%)".
CALIBRATION_MARGIN = 0.025


def skill_intervals(
    scores: pd.DataFrame,
    model: str,
    baseline: str,
    *,
    level: float = 0.9,
    margin: float | None = None,
    window: str | None = None,
) -> dict[str, float]:
    """Pooled CRPS skill of ``model`` against ``baseline`` and ``model``'s randomised-PIT 80%
    and 90% coverage and share above the median, with intervals over origins whose forecasts
    share outcomes.

    The skill is ``1 - mean CRPS(model) / mean CRPS(baseline)`` over every forecast in
    ``scores``, as in :func:`scorecard` (so the same number as its pooled rows); each
    statistic is a ratio of sums over origins, and its interval allows for the dependence
    between forecasts of one region from one origin, and from origins that score the same or
    neighbouring periods, estimated from the forecasts themselves
    (:mod:`analysis.origin_inference`): the sampling uncertainty over which periods happened
    to be scored, with the two models' shared difficulty cancelling.

    Parameters
    ----------
    scores : DataFrame
        Backtest scores (:attr:`BacktestResult.scores`) cut to the rows wanted (a group, a
        range of steps).
    model, baseline : str
    level : float
        Central interval level.
    margin : float, optional
        How far from 0.8 (coverage) and 0.5 (share above the median) the truth must be to
        count as missing it; :data:`CALIBRATION_MARGIN` by default.
    window : str, optional
        For window totals scored as one row each: the column holding each row's window
        length in periods (the row's ``period`` is the window's last).

    Returns
    -------
    dict
        ``skill``, ``skill_low``, ``skill_high``, ``coverage``, ``coverage_low``,
        ``coverage_high``, ``coverage_below`` and ``coverage_above`` (the confidence, on the
        interval's t scale, that the true coverage is more than ``margin`` below / above
        0.8), ``above_median`` (the share of outcomes above the forecast's median, the
        randomised PIT above 0.5 averaged over its draw: 0.5 when unbiased) with
        ``above_median_low``, ``above_median_high``, ``above_median_over_half`` and
        ``above_median_under_half`` (confidence that it is more than ``margin`` above /
        below 0.5), ``margin``, ``printed_90`` (the share inside the 90% intervals as
        printed, closed at whole counts; NaN without ``closed_coverage_90``) with
        ``printed_90_above`` and ``printed_90_below`` (outcomes outside them on each side;
        absent without ``closed_coverage_90`` and ``pit_above_median``) and
        ``printed_90_miss_p`` (two-sided p-value of an even split of those misses over
        origins, NaN where not estimable),
        ``coverage_90`` (randomised-PIT 90% coverage, the level the reports quote) with
        ``coverage_90_low``, ``coverage_90_high``, ``coverage_90_below`` and
        ``coverage_90_above`` (all NaN without ``pit_coverage_90``), ``n_forecasts``,
        ``n_origins``, ``df`` (the degrees of freedom of the skill's error: how many
        independent windows the origins are worth) and ``level``. Intervals and confidences
        are NaN where the degrees of freedom are below
        :data:`analysis.origin_inference.MIN_DF`; the skill is NaN when the baseline's CRPS
        is 0.
    """
    keys = ["origin", "region_id", "step"]
    wanted = ["pit_coverage_80", "pit_above_median", "pit_coverage_90", "closed_coverage_90"]
    own = scores.loc[scores["model"] == model]
    cols = [*keys, "period", "crps", *[c for c in wanted if c in own.columns]]
    cols += [window] if window is not None and window not in cols else []
    both = own[cols].merge(
        scores.loc[scores["model"] == baseline, [*keys, "crps"]],
        on=keys, suffixes=("", "_base"), validate="one_to_one",
    )  # fmt: skip
    margin = CALIBRATION_MARGIN if margin is None else margin
    nan = float("nan")
    # over the forecasts both models scored, as every other number here
    printed = both.get("closed_coverage_90")
    out: dict[str, Any] = {
        "n_forecasts": len(both),
        "n_origins": int(both["origin"].nunique()),
        "level": level,
        "margin": margin,
        # the 90% intervals as the reports print them (closed at whole counts), beside the
        # randomised-PIT coverages: a point value, read from the same forecasts
        "printed_90": float(printed.mean()) if printed is not None and len(printed) else nan,
        **_printed_misses(both),
    }
    if both.empty:
        return {**out, **dict.fromkeys(_INTERVAL_KEYS, nan), "df": nan,
                "printed_90_miss_p": nan}  # fmt: skip
    items = origin_pairs(step_items(both, window))  # one layout for the four statistics
    ones = np.ones(len(both))
    out["printed_90_miss_p"] = _miss_balance_p(both, items, ones, level)
    skill = pooled_ratio(items, both["crps"].to_numpy(float), both["crps_base"].to_numpy(float),
                         level)  # fmt: skip
    out.update(
        skill=1 - skill.estimate, skill_low=1 - skill.high, skill_high=1 - skill.low,
        df=skill.df,
    )  # fmt: skip
    # share -> (its column, target, names of the confidences of missing it below / above)
    shares = {
        "coverage": ("pit_coverage_80", 0.8, "coverage_below", "coverage_above"),
        "above_median": ("pit_above_median", 0.5, "above_median_under_half",
                         "above_median_over_half"),
        "coverage_90": ("pit_coverage_90", 0.9, "coverage_90_below", "coverage_90_above"),
    }  # fmt: skip
    for name, (column, target, below, above) in shares.items():
        if column not in both.columns:  # not scored: nothing claimed
            out.update({name: nan, f"{name}_low": nan, f"{name}_high": nan, below: nan,
                        above: nan})  # fmt: skip
            continue
        share = pooled_ratio(items, both[column].to_numpy(float), ones, level)
        # a share's t interval can pass 0 or 1 from a few origins; no share lies beyond them
        low, high = max(share.low, 0.0), min(share.high, 1.0)
        if low <= 0.0 and high >= 1.0:
            # "62% (0%-100%)" from a focus region's 8 overlapping 12-month totals says nothing
            # an interval should: the origins are too few to narrow it
            out.update({name: share.estimate, f"{name}_low": nan, f"{name}_high": nan,
                        below: nan, above: nan})  # fmt: skip
            continue
        out.update({name: share.estimate, f"{name}_low": low, f"{name}_high": high,
                    below: share.below(target - margin),
                    above: share.above(target + margin)})  # fmt: skip
    return out


def _printed_misses(both: pd.DataFrame) -> dict[str, int]:
    """How many outcomes fell outside the printed 90% intervals, above and below: which way a
    few misses fell says what their share cannot (the demo's Kayes, 3 of 8 12-month totals
    outside, all above, a forecast too low), from :func:`_miss_sides`. Empty without
    ``closed_coverage_90`` or ``pit_above_median``."""
    sides = _miss_sides(both)
    if sides is None:
        return {}
    return {
        "printed_90_above": int(np.sum(sides > 0)),
        "printed_90_below": int(np.sum(sides < 0)),
    }


def _miss_sides(both: pd.DataFrame) -> np.ndarray | None:
    """Per forecast, +1 where the outcome fell above its printed 90% interval, -1 below, 0
    inside (an outcome outside a closed interval is beyond the median on its side, so the PIT
    share above the median gives the side); None without ``closed_coverage_90`` or
    ``pit_above_median``."""
    if not {"closed_coverage_90", "pit_above_median"} <= set(both.columns):
        return None
    outside = both["closed_coverage_90"].to_numpy(float) < 0.5
    above = both["pit_above_median"].to_numpy(float) > 0.5
    return np.where(outside, np.where(above, 1.0, -1.0), 0.0)


def _miss_balance_p(both: pd.DataFrame, items: Any, ones: np.ndarray, level: float) -> float:
    """Two-sided p-value that outcomes outside the printed 90% intervals fall above and below
    them equally often: the larger of the exact sign test over the misses and a test over
    origins (:mod:`analysis.origin_inference`; each forecast scores +1 for a miss above, -1
    below, 0 inside, and the null is a mean of 0). Totals of nearby origins share outcomes
    and their misses come together, which the sign test counts as independent evidence (the
    real study's 8 of 9 above had read p 0.039); with a few misses of windows that share
    nothing the test over origins is a large-sample t test, more lenient than the exact one
    (4 of 4 above: 0.039 against 0.125), and dependence can only weaken the evidence. NaN
    without misses, without the columns, or with too few independent windows."""
    from scipy import stats

    sides = _miss_sides(both)
    if sides is None or not sides.any():
        return float("nan")
    balance = pooled_ratio(items, sides, ones, level)
    exact = stats.binomtest(int(np.sum(sides > 0)), int(np.sum(sides != 0)), 0.5).pvalue
    return float(max(balance.p_value(0.0), exact))


_INTERVAL_KEYS = tuple(
    f"{name}{end}"
    for name in ("skill", "coverage", "above_median", "coverage_90")
    for end in ("", "_low", "_high")
) + ("coverage_below", "coverage_above", "above_median_over_half", "above_median_under_half",
     "coverage_90_below", "coverage_90_above")  # fmt: skip


def paired_test(
    scores: pd.DataFrame, a: str, b: str, *, metric: str = "crps", level: float = 0.95
) -> dict[str, float]:
    """Is ``a``'s mean score really different from ``b``'s? Differences are averaged over
    regions and steps per origin, and over origins (each origin weighs the same); the
    interval and the two-sided p-value allow for the forecasts' dependence within an origin
    and between origins that score the same or neighbouring periods
    (:mod:`analysis.origin_inference`). The p-value is below ``1 - level`` exactly when the
    interval excludes 0.

    Parameters
    ----------
    scores : pandas.DataFrame
        Long scores (:attr:`BacktestResult.scores`) with ``model``, ``origin``, ``region_id``,
        ``step``, ``period`` and the ``metric`` column.
    a, b : str
        The two models; the difference is ``a``'s score minus ``b``'s.
    metric : str, optional
        The score compared (a column of ``scores``); ``"crps"`` by default.
    level : float, optional
        Confidence level of the interval, 0.95 by default.

    Returns
    -------
    dict
        ``model``, ``versus``, ``mean_difference``, ``low``, ``high``, ``p``, ``df`` (the
        degrees of freedom of its error; interval and p NaN below
        :data:`analysis.origin_inference.MIN_DF`), ``level`` and ``n_origins``.

    Raises
    ------
    InputError
        When the two models share no scored (origin, region, step).
    """
    keys = ["origin", "region_id", "step"]
    pair = scores.loc[scores["model"] == a, [*keys, "period", metric]].merge(
        scores.loc[scores["model"] == b, [*keys, metric]], on=keys, suffixes=("", "_b"),
        validate="one_to_one",
    )  # fmt: skip
    if pair.empty:
        raise InputError(f"models {a!r} and {b!r} must both be in the scores")
    per_origin = pair.groupby("origin")["origin"].transform("size").to_numpy(float)
    test = pooled_ratio(
        step_items(pair), (pair[metric] - pair[f"{metric}_b"]).to_numpy(float),
        np.ones(len(pair)), level, weights=1 / per_origin,
    )  # fmt: skip
    return {
        "model": a,
        "versus": b,
        "mean_difference": test.estimate,
        "low": test.low,
        "high": test.high,
        "p": test.p_value(0.0),
        "df": test.df,
        "level": level,
        "n_origins": int(pair["origin"].nunique()),
    }


# --------------------------------------------------------------------------- scorecard

METRICS = (
    "crps",
    "crps_fair",
    "twcrps",
    "pit_coverage_50",
    "pit_coverage_80",
    "pit_coverage_90",
    "pit_coverage_95",
    "closed_coverage_50",
    "closed_coverage_80",
    "closed_coverage_90",
    "closed_coverage_95",
    "interval_score_95",
    "interval_score_80",
    "brier_any",
    "ignorance",
    "ae_median",
)


def _summary(scores: pd.DataFrame, is_baseline: dict[str, bool]) -> list[dict[str, Any]]:
    g = scores.groupby("model", sort=False)
    table = g[list(METRICS)].mean()
    table["n_forecasts"] = g.size()
    base = [m for m in table.index if is_baseline.get(m)]
    best_base = table.loc[base, "crps"].idxmin() if base else None
    rows = []
    for m, r in table.iterrows():
        row: dict[str, Any] = {"model": m, "is_baseline": bool(is_baseline.get(m, False))}
        row["crps"] = float(r["crps"])
        row["crps_skill_vs_best_baseline"] = (
            float(1 - r["crps"] / table.loc[best_base, "crps"])
            if best_base is not None and table.loc[best_base, "crps"] > 0
            else None
        )
        for k in METRICS[1:]:
            row[k] = float(r[k])
        row["n_forecasts"] = int(r["n_forecasts"])
        row["crps_skill_vs"] = {
            b: (float(1 - r["crps"] / table.loc[b, "crps"]) if table.loc[b, "crps"] > 0 else None)
            for b in base
        }
        rows.append(row)
    return rows


def scorecard(
    bt: BacktestResult, *, paired: bool = True, report_model: str | None = None
) -> dict[str, Any]:
    """Scorecard JSON: ``models``, ``by_horizon``, ``by_activity``, ``by_group`` and
    ``by_group_horizon`` (focus / active / quiet regions), ``best_model``,
    ``best_baseline``, ``best_non_baseline`` and paired tests of the best non-baseline against
    every baseline.

    Parameters
    ----------
    bt : BacktestResult
    paired : bool
        Add the paired tests (``paired_tests``, and ``report_model_test`` below).
    report_model : str, optional
        The model the reports use. When it is scored and is not the best, ``report_model_test``
        is its paired test against the best (:func:`paired_test`: positive
        ``mean_difference`` means it scored worse): the best is picked with hindsight over
        these origins, so the reader needs to know whether the report model is really behind
        it or only by chance.

    Returns
    -------
    dict
        The keys above, with ``origins`` (first and last), ``n_origins``, ``horizon`` and
        ``n_samples``; ``paired_tests`` and ``report_model_test`` only where made.
    """
    s = bt.scores
    models = _summary(s, bt.is_baseline)
    by_h = []
    for h, sub in s.groupby("step"):
        for row in _summary(sub, bt.is_baseline):
            by_h.append({"step": int(h), **row})
    by_act = []
    for act, sub in s.groupby("active"):
        for row in _summary(sub, bt.is_baseline):
            by_act.append({"active": bool(act), **row})
    by_group, by_group_h = [], []
    if "group" in s:
        for grp, sub in s.groupby("group"):
            for row in _summary(sub, bt.is_baseline):
                by_group.append({"group": str(grp), **row})
            for h, sub_h in sub.groupby("step"):
                for row in _summary(sub_h, bt.is_baseline):
                    by_group_h.append({"group": str(grp), "step": int(h), **row})
    crps = {r["model"]: r["crps"] for r in models}
    base = {m: c for m, c in crps.items() if bt.is_baseline.get(m)}
    non = {m: c for m, c in crps.items() if not bt.is_baseline.get(m)}
    best_base = min(base, key=base.get) if base else None
    best_non = min(non, key=non.get) if non else None
    out: dict[str, Any] = {
        "models": models,
        "by_horizon": by_h,
        "by_activity": by_act,
        "by_group": by_group,
        "by_group_horizon": by_group_h,
        "best_model": min(crps, key=crps.get),
        "best_baseline": best_base,
        "best_non_baseline": best_non,
        "origins": [period_label(o, bt.freq) for o in (bt.origins[0], bt.origins[-1])],
        "n_origins": len(bt.origins),
        "horizon": bt.horizon,
        "n_samples": bt.n_samples,
    }
    if paired and best_non and base:
        out["paired_tests"] = [paired_test(s, best_non, b) for b in base]
    if paired and report_model in crps and report_model != out["best_model"]:
        out["report_model_test"] = paired_test(s, report_model, out["best_model"])
    return out


def pit_values(bt: BacktestResult, model: str) -> np.ndarray:
    """Randomised PIT values of ``model`` across the backtest (for calibration plots).

    Parameters
    ----------
    bt : BacktestResult
    model : str
        One of ``bt.models``.

    Returns
    -------
    numpy.ndarray
        One value in [0, 1] per scored (origin, region, step) of ``model``.
    """
    return bt.scores.loc[bt.scores["model"] == model, "pit"].to_numpy()
