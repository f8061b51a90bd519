"""Focus scenarios of the spillover model with common random numbers.

The change attributable to the focus regions is ``continue - silenced``: the same model
simulated forward with the focus regions following the model, and with them producing no
events. A third scenario, ``held``, keeps each focus region's mean at its recent level (the
mean count of its last ``held_window`` periods) while still drawing its counts, so it keeps the
count noise a real region has instead of repeating a constant.

All scenarios share, per parameter draw, path, step and region, the same random number (a
uniform turned into a negative-binomial count by inversion), so counts are monotone in the
scenario's mean and the differences are paired draw by draw and path by path: their interval
reflects parameter uncertainty, not independent path noise.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.models.hhh4 import HHH4Fit, poisson_quantile, simulate_paths

__all__ = [
    "ScenarioContrast",
    "attributable_share",
    "poisson_quantile",
    "simulate_scenarios",
    "focus_scenarios",
]

SCENARIOS = ("continue", "held", "silenced")


def simulate_scenarios(
    fit: HHH4Fit,
    recent_counts: np.ndarray,
    horizon: int,
    scenarios: dict[str, dict[int, float] | None],
    *,
    n_draws: int = 200,
    n_paths: int = 100,
    seed: int = 0,
) -> dict[str, dict[str, np.ndarray]]:
    """Simulate several scenarios forward on common random numbers.

    Parameters
    ----------
    fit : HHH4Fit
    recent_counts : ndarray (R, k)
        The last observed periods (the last column is the first lag).
    horizon : int
    scenarios : dict
        Name -> ``{region index: mean}`` or ``None``. A listed region's conditional mean is
        replaced by that value at every step and its counts are drawn from the negative
        binomial with that mean (0 silences it); ``None`` simulates the model as fitted.
    n_draws, n_paths : int
        Parameter draws, and paths per draw.
    seed : int

    Returns
    -------
    dict
        Per scenario ``total`` (M, K, R) summed counts over the horizon and ``any_event``
        (M, K, R) booleans; the same parameter draws and random numbers in every scenario
        (:func:`analysis.models.hhh4.simulate_paths` with ``hold="mean"``).
    """
    recent = np.asarray(recent_counts, dtype=float)
    if recent.ndim == 1:
        recent = recent[:, None]
    if recent.shape[0] != fit.order.shape[0]:
        raise InputError(f"recent_counts needs one row per region ({fit.order.shape[0]})")
    sims = simulate_paths(
        fit, recent, horizon, scenarios, n_draws=n_draws, n_paths=n_paths, seed=seed,
        hold="mean",
    )  # fmt: skip
    return {n: {"total": s.total, "any_event": s.any_event} for n, s in sims.items()}


@dataclass(frozen=True)
class ScenarioContrast:
    """Focus scenarios and the change attributable to the focus regions.

    Attributes
    ----------
    regions : DataFrame
        One row per region: ``region_id, region_name, country, is_focus``, per scenario
        ``expected_<s>`` and ``p_any_<s>`` (means over draws and paths), and the paired
        differences ``expected_diff, expected_diff_low, expected_diff_high`` and ``p_any_diff,
        p_any_diff_low, p_any_diff_high`` (continue minus silenced, interval across draws); the
        same contrast as a share of the continue scenario, ``expected_share`` (events:
        ``(continue - silenced) / continue``) and ``p_any_share`` (the relative drop in
        P(any)), each with ``_low``/``_high`` (see :func:`attributable_share`). The shares
        let a report state the what-if without printing this model's own levels beside the
        report model's forecast.
    countries : DataFrame
        ``country``, ``expected_<s>`` (sum over the country's units other than the focus;
        a country of focus units alone has no row), ``expected_diff`` with
        its interval, and ``expected_share`` with its interval (on the country sums).
    horizon : int
    origin : Timestamp
    focus : tuple of str
    level : float
    n_draws, n_paths, seed, held_window : int
    endemic_effects : str or None
        The spillover model's endemic effects (``country``, ``region_in_country``, ``region``,
        ``none``), which decide whether the reports may quote the shares
        (:func:`analysis.report.spillover_text.shares_earned`).
    """

    regions: pd.DataFrame
    countries: pd.DataFrame
    horizon: int
    origin: pd.Timestamp
    focus: tuple[str, ...]
    level: float
    n_draws: int
    n_paths: int
    seed: int
    held_window: int
    endemic_effects: str | None = None


def _limits(per_draw: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    a = (1.0 - level) / 2.0
    return np.quantile(per_draw, a, axis=0), np.quantile(per_draw, 1.0 - a, axis=0)


def attributable_share(
    continued: np.ndarray, silenced: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share of the continue scenario attributable to the focus, per parameter draw.

    Parameters
    ----------
    continued, silenced : ndarray (M, ...)
        Per-draw values (expected events or P(any)) of the two scenarios, paired by draw.
    level : float
        Level of the interval across draws.

    Returns
    -------
    mean, low, high : ndarray (...)
        Mean over draws of ``(continue - silenced) / continue`` and its central interval
        across draws. Draws whose continue value is 0 have no share and are left out; where
        every draw's is 0 the result is NaN.
    """
    cont = np.asarray(continued, dtype=float)
    sil = np.asarray(silenced, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(cont > 0, (cont - sil) / cont, np.nan)
    a = (1.0 - level) / 2.0
    with warnings.catch_warnings():  # all-NaN slices (continue 0 in every draw) give NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return (
            np.nanmean(share, axis=0),
            np.nanquantile(share, a, axis=0),
            np.nanquantile(share, 1.0 - a, axis=0),
        )


def focus_scenarios(
    model,
    horizon: int,
    focus: Sequence[str],
    *,
    n_draws: int = 200,
    n_paths: int = 50,
    seed: int = 0,
    level: float = 0.9,
    held_window: int = 3,
) -> ScenarioContrast:
    """Continue, held (with noise) and silenced scenarios for the focus regions.

    Parameters
    ----------
    model : analysis.models.spillover.SpilloverModel
    horizon : int
    focus : sequence of str
        Focus region ids (at least one).
    n_draws, n_paths, seed
        As in :func:`simulate_scenarios`.
    level : float
        Interval level of the differences (across parameter draws).
    held_window : int
        The held mean is the focus region's mean count over its last ``held_window`` periods.

    Returns
    -------
    ScenarioContrast
    """
    ids = list(model.region_ids)
    unknown = [f for f in focus if f not in ids]
    if not focus or unknown:
        raise InputError(f"focus regions must be in the panel (unknown: {unknown or 'none given'})")
    if not 0 < level < 1:
        raise InputError(f"level must be in (0, 1), got {level}")
    if held_window < 1 or held_window > model.recent_counts.shape[1]:
        raise InputError(f"held_window must be 1..{model.recent_counts.shape[1]}")
    fidx = [ids.index(f) for f in focus]
    held = model.recent_counts[:, -held_window:].mean(axis=1)
    sims = simulate_scenarios(
        model.fit,
        model.recent_counts,
        horizon,
        {
            "continue": None,
            "held": {i: float(held[i]) for i in fidx},
            "silenced": dict.fromkeys(fidx, 0.0),
        },
        n_draws=n_draws,
        n_paths=n_paths,
        seed=seed,
    )
    countries = np.asarray(model.countries)
    regions = pd.DataFrame(
        {
            "region_id": ids,
            "region_name": list(model.region_names),
            "country": countries,
            "is_focus": [i in fidx for i in range(len(ids))],
        }
    )
    per_draw = {}
    for name, sim in sims.items():
        per_draw[name] = (sim["total"].mean(axis=1), sim["any_event"].mean(axis=1))  # (M, R)
        regions[f"expected_{name}"] = per_draw[name][0].mean(axis=0)
        regions[f"p_any_{name}"] = per_draw[name][1].mean(axis=0)
    for key, j in (("expected", 0), ("p_any", 1)):
        diff = per_draw["continue"][j] - per_draw["silenced"][j]
        lo, hi = _limits(diff, level)
        regions[f"{key}_diff"] = diff.mean(axis=0)
        regions[f"{key}_diff_low"] = lo
        regions[f"{key}_diff_high"] = hi
        mean, lo, hi = attributable_share(per_draw["continue"][j], per_draw["silenced"][j], level)
        regions[f"{key}_share"] = mean
        regions[f"{key}_share_low"] = lo
        regions[f"{key}_share_high"] = hi
    # a country's sum leaves the focus out: silencing the focus silences its own events, so
    # with them its country's share read as spread into the rest of that country (the real
    # JNIM study's MLI 70%, mostly Mopti's own events)
    others = ~regions["is_focus"].to_numpy(bool)
    uniq = sorted(set(countries[others]))
    member = {c: (countries == c) & others for c in uniq}
    ctab = {"country": uniq}
    sums = {
        name: np.stack([per_draw[name][0][:, member[c]].sum(axis=1) for c in uniq], axis=1)
        for name in SCENARIOS
    }  # (M, countries)
    for name in SCENARIOS:
        ctab[f"expected_{name}"] = sums[name].mean(axis=0)
    csum = {name: sums[name] for name in ("continue", "silenced")}
    cdiff = csum["continue"] - csum["silenced"]
    clo, chi = _limits(cdiff, level)
    ctab.update(expected_diff=cdiff.mean(axis=0), expected_diff_low=clo, expected_diff_high=chi)
    cshare, cslo, cshi = attributable_share(csum["continue"], csum["silenced"], level)
    ctab.update(expected_share=cshare, expected_share_low=cslo, expected_share_high=cshi)
    return ScenarioContrast(
        regions=regions,
        countries=pd.DataFrame(ctab),
        horizon=int(horizon),
        origin=model.origin,
        focus=tuple(focus),
        level=float(level),
        n_draws=int(n_draws),
        n_paths=int(n_paths),
        seed=int(seed),
        held_window=int(held_window),
        endemic_effects=getattr(model, "endemic_effects", None),
    )


def study_contrast(model, study: Any, horizon: int | None = None) -> ScenarioContrast | None:
    """The focus contrast of a study, as the reports and ``spillover --json`` both quote it.

    Parameters
    ----------
    model : analysis.models.spillover.SpilloverModel
        The study's spillover model.
    study : analysis.config.Study
        Its focus regions and seed are used.
    horizon : int, optional
        Periods ahead (default: the study's).

    Returns
    -------
    ScenarioContrast or None
        None for a study without focus regions.
    """
    if not study.focus:
        return None
    h = study.horizon if horizon is None else horizon
    return focus_scenarios(model, h, list(study.focus), seed=study.seed)


#: What the shares are not, said wherever they are given without the reports' evidence (the
#: ``spillover`` command runs no backtest): the reports withhold them unless the spillover
#: model's backtest shows it ahead of the best baseline
#: (:func:`analysis.report.spillover_text.shares_earned`).
SHARES_CAVEAT = (
    "a what-if of the spillover model, not a forecast: the reports quote these shares only "
    "where that model's backtest (conflict-trends backtest --model spillover) shows it ahead "
    "of the best baseline"
)


def contrast_to_dict(contrast: ScenarioContrast) -> dict[str, Any]:
    """JSON-ready focus contrast: the shares the reports quote, and only those.

    ``regions`` (every unit but the focus) and ``countries`` give ``expected_share`` (continue
    minus silenced, over continue, on expected events) with its interval; regions also
    ``p_any_share`` (the relative drop in P(at least one event)). Means over parameter draws;
    intervals across them at ``level``. The scenarios' own expected counts and probabilities
    are left out as the reports leave them out: they are the spillover model's forecast, a
    second one beside the forecast model's ``targets``.

    Parameters
    ----------
    contrast : ScenarioContrast
        The focus contrast.

    Returns
    -------
    dict
        ``focus``, ``level``, ``n_draws``, ``n_paths``, ``definition``, ``caveat``,
        ``regions`` and ``countries``; missing values as None.
    """

    def pair(row: pd.Series, key: str) -> list[float | None]:
        return [_number(v) for v in (row[f"{key}_low"], row[f"{key}_high"])]

    def one(row: pd.Series, shares: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for share in shares:
            out[share] = _number(row[share])
            out[f"{share}_ci"] = pair(row, share)
        return out

    regions = contrast.regions[~contrast.regions["is_focus"]]
    return {
        "focus": list(contrast.focus),
        "level": contrast.level,
        "n_draws": contrast.n_draws,
        "n_paths": contrast.n_paths,
        "definition": (
            "share = (continue - silenced) / continue, per parameter draw, with the focus "
            "regions continuing on their fitted path against silenced (no events); "
            "expected_share on expected events, p_any_share on P(at least one event)"
        ),
        "caveat": SHARES_CAVEAT,
        "regions": [
            {
                "region_id": r["region_id"],
                "region_name": r["region_name"],
                "country": r["country"],
                **one(r, ["expected_share", "p_any_share"]),
            }
            for _, r in regions.iterrows()
        ],
        "countries": [
            {
                "country": r["country"],
                **one(r, ["expected_share"]),
            }
            for _, r in contrast.countries.iterrows()
        ],
    }


def _number(value: Any) -> float | None:
    """A float for JSON, None where there is no value (a unit with no events in any draw)."""
    v = float(value)
    return v if np.isfinite(v) else None
