"""Focus scenarios of the spillover model with common random numbers.

The change attributable to the focus regions is ``continue - silenced``: the same model
simulated forward with the focus regions following the model, and with them producing no
events. A third scenario, ``held``, keeps each focus region's mean at its recent level (the
mean count of its last ``held_window`` periods) while still drawing its counts, so it keeps the
count noise a real region has instead of repeating a constant.

All scenarios share, per parameter draw and path, the same random numbers (a standard gamma for
the negative binomial mixing and a uniform turned into a Poisson count by inversion), so counts
are monotone in the scenario's mean and the differences are paired draw by draw and path by
path: their interval reflects parameter uncertainty, not independent path noise.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import poisson

from analysis.errors import InputError
from analysis.models.hhh4 import HHH4Fit, _param_rows, neighbour_weights

__all__ = ["ScenarioContrast", "poisson_quantile", "simulate_scenarios", "focus_scenarios"]

SCENARIOS = ("continue", "held", "silenced")


def poisson_quantile(u: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Poisson quantile function: the smallest ``n`` with ``P(X <= n) >= u`` (elementwise).

    Inversion by the recursive probabilities for rates up to 50 (almost every unit), SciPy's
    quantile above; monotone in ``rate`` for a fixed ``u``, which is what couples scenarios.
    """
    u = np.asarray(u, dtype=float)
    rate = np.asarray(rate, dtype=float)
    u, rate = np.broadcast_arrays(u, rate)
    flat_u, flat_r = u.ravel(), rate.ravel()
    out = np.zeros(flat_r.size)
    big = flat_r > 50.0
    if big.any():
        out[big] = poisson.ppf(flat_u[big], flat_r[big])
    idx = np.flatnonzero(~big)
    r, uu = flat_r[idx], flat_u[idx]
    p = np.exp(-r)
    cdf = p.copy()
    n = 0
    while idx.size and n < 1000:  # the cap only stops u rounding above the summed CDF
        more = uu > cdf
        idx, r, uu, p, cdf = idx[more], r[more], uu[more], p[more], cdf[more]
        n += 1
        out[idx] = n
        p = p * r / n
        cdf = cdf + p
    return out.reshape(rate.shape)


def _transmission(fit: HHH4Fit, phi: float, d: float, gamma: float) -> np.ndarray:
    """``phi * W`` with the cross-border multiplier, as the forward simulator builds it."""
    params = inspect.signature(neighbour_weights).parameters
    if "cross" in params:  # weights normalised after the multiplier (hhh4 normalize=TRUE)
        w = neighbour_weights(fit.order, fit.spec.weights, d, fit.spec.max_order, fit.cross, gamma)
        return phi * w
    w = neighbour_weights(fit.order, fit.spec.weights, d, fit.spec.max_order)
    return phi * w * np.exp(gamma * fit.cross)


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
        (M, K, R) booleans; the same parameter draws and random numbers in every scenario.
    """
    if horizon < 1:
        raise InputError(f"horizon must be >= 1 period, got {horizon}")
    recent = np.asarray(recent_counts, dtype=float)
    if recent.ndim == 1:
        recent = recent[:, None]
    n_reg = fit.order.shape[0]
    if recent.shape[0] != n_reg:
        raise InputError(f"recent_counts needs one row per region ({n_reg})")
    window = fit.spec.activity_window
    if window and recent.shape[1] < window:
        raise InputError(f"the activity covariate needs the last {window} periods of counts")
    rng = np.random.default_rng(seed)
    lay = fit.layout
    theta = _param_rows(fit, n_draws, rng, True)
    t_future = np.arange(fit.n_periods, fit.n_periods + horizon, dtype=float)
    en = np.exp(np.clip(fit.endemic_log_level(theta, t_future), -50, 20))  # (M, H, R)
    lam = (np.exp(theta[:, lay.i_lam]) if lay.has_ar else np.zeros(n_draws))[:, None, None]
    phi = np.exp(theta[:, lay.i_phi]) if lay.has_ne else np.zeros(n_draws)
    gamma = theta[:, lay.i_gamma] if lay.has_cross else np.zeros(n_draws)
    d = np.exp(theta[:, lay.i_d]) if lay.has_d else np.ones(n_draws)
    k = np.exp(-theta[:, lay.i_psi])[:, None, None]
    mats = np.stack([_transmission(fit, phi[m], d[m], gamma[m]) for m in range(n_draws)])
    b_act = theta[:, lay.i_act][:, None, None] if window else None
    shape = (n_draws, n_paths, n_reg)
    state = {}
    for name, fixed in scenarios.items():
        fixed = dict(fixed or {})
        idx = np.array(sorted(fixed), dtype=int)
        val = np.array([fixed[i] for i in idx], dtype=float)
        s = {
            "idx": idx,
            "val": val,
            "prev": np.broadcast_to(recent[:, -1], shape).copy(),
            "total": np.zeros(shape),
            "any_event": np.zeros(shape, dtype=bool),
        }
        if window:
            s["buf"] = np.empty((window, *shape), dtype=np.float32)
            s["buf"][:] = np.moveaxis(recent[:, -window:], 1, 0)[:, None, None, :]
            s["run"] = s["buf"].sum(axis=0, dtype=float)
        state[name] = s
    kk = np.broadcast_to(k, shape)
    for h in range(horizon):
        g = rng.standard_gamma(kk)  # shared: mixing ~ Gamma(k, 1) in every scenario
        u = rng.random(shape)  # shared: the Poisson count by inversion
        for s in state.values():
            en_h = en[:, h, None, :]
            if window:
                en_h = en_h * np.exp(b_act * (s["run"] > 0.5))
            mu = en_h + lam * s["prev"] + s["prev"] @ mats
            if len(s["idx"]):
                mu[:, :, s["idx"]] = s["val"]
            y = poisson_quantile(u, g * np.minimum(mu, 1e7) / kk)
            s["total"] += y
            s["any_event"] |= y > 0
            if window:
                slot = h % window
                s["run"] += y - s["buf"][slot]
                s["buf"][slot] = y
            s["prev"] = y
    return {n: {"total": s["total"], "any_event": s["any_event"]} for n, s in state.items()}


@dataclass(frozen=True)
class ScenarioContrast:
    """Focus scenarios and the change attributable to the focus regions.

    Attributes
    ----------
    regions : DataFrame
        One row per region: ``region_id, region_name, country, is_focus``, per scenario
        ``expected_<s>`` and ``p_any_<s>`` (means over draws and paths), and the paired
        differences ``expected_diff, expected_diff_low, expected_diff_high`` and ``p_any_diff,
        p_any_diff_low, p_any_diff_high`` (continue minus silenced, interval across draws).
    countries : DataFrame
        ``country``, ``expected_<s>`` (sum over the country's units) and ``expected_diff`` with
        its interval.
    horizon : int
    origin : Timestamp
    focus : tuple of str
    level : float
    n_draws, n_paths, seed, held_window : int
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


def _limits(per_draw: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    a = (1.0 - level) / 2.0
    return np.quantile(per_draw, a, axis=0), np.quantile(per_draw, 1.0 - a, axis=0)


def focus_scenarios(
    model,
    horizon: int,
    focus: Sequence[str],
    *,
    n_draws: int = 200,
    n_paths: int = 100,
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
    uniq = sorted(set(countries))
    ctab = {"country": uniq}
    for name in SCENARIOS:
        ctab[f"expected_{name}"] = [
            per_draw[name][0][:, countries == c].sum(axis=1).mean() for c in uniq
        ]
    cdiff = np.stack(
        [
            (per_draw["continue"][0] - per_draw["silenced"][0])[:, countries == c].sum(axis=1)
            for c in uniq
        ],
        axis=1,
    )
    clo, chi = _limits(cdiff, level)
    ctab.update(expected_diff=cdiff.mean(axis=0), expected_diff_low=clo, expected_diff_high=chi)
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
    )
