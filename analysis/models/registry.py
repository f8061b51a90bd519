"""Every model a report or the command line can use, listed explicitly and loaded lazily.

Each entry names the module and the class (with its settings) that builds the forecaster, so
listing the models imports nothing and using one imports only its module. Models that need
geography (the spillover model reads adjacency and countries) take it when they are built:
``get("spillover", boundaries=b, focus=("ML-1",))``; the others ignore it. Every model then
fits on the same :class:`~analysis.models.forecast.History`.
"""

from __future__ import annotations

import importlib
from fractions import Fraction
from typing import Any

from analysis.errors import InputError
from analysis.models.forecast import Forecaster


def _level_with_climatology36(name: str, share: Fraction) -> tuple[str, str, dict[str, Any]]:
    """The level mixture (local level, 6-month mean, conflictology, equal among themselves)
    with the 36-month NB climatology at ``share`` of the weight."""
    each = (1 - share) / 3
    return (
        "ensemble",
        "Ensemble",
        {
            "name": name,
            "description": f"local level, 6-month mean and conflictology ({each} each) with the "
            f"36-month NB climatology ({share})",
            "members": ("local_level", "recent_mean_6", "conflictology", "nb_climatology_36"),
            "weights": (float(each),) * 3 + (float(share),),
        },
    )


def _poisson_around_mean(name: str, window: int) -> tuple[str, str, dict[str, Any]]:
    last = "the last month's count" if window == 1 else f"the mean of the last {window} months"
    return (
        "baselines",
        "PoissonAroundMean",
        {"name": name, "window": window, "description": f"Poisson around {last}"},
    )


# name -> (module under analysis.models, class, settings)
ENTRIES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "zero": ("baselines", "Zero", {}),
    "last_value": _poisson_around_mean("last_value", 1),
    "recent_mean_3": _poisson_around_mean("recent_mean_3", 3),
    "recent_mean_6": _poisson_around_mean("recent_mean_6", 6),
    "conflictology": ("baselines", "Conflictology", {}),
    "nb_climatology": ("baselines", "NBClimatology", {}),
    # the same over 36 periods: a member of auto's climatology-36 mixtures, not a rung of the
    # baseline ladder
    "nb_climatology_36": (
        "baselines",
        "NBClimatology",
        {
            "name": "nb_climatology_36",
            "window": 36,
            "is_baseline": False,
            "description": "negative binomial of the last 36 months",
        },
    ),  # fmt: skip
    "local_level": ("local_level", "LocalLevelNB", {}),
    "damped_trend": ("damped_trend", "DampedTrendNB", {}),
    "nb_glm": ("nbglm", "NBGLM", {}),
    "pooled_nb": ("nbglm", "PooledNB", {}),
    "hurdle": ("hurdle", "SpatialHurdle", {}),
    "ensemble": ("ensemble", "Ensemble", {}),
    "ensemble_hybrid": (
        "ensemble",
        "Ensemble",
        # mixes in the conflictology baseline: often the best single forecaster on sparse panels
        {
            "name": "ensemble_hybrid",
            "description": "equal mixture of local level, pooled NB and conflictology",
            "members": ("local_level", "pooled_nb", "conflictology"),
        },
    ),
    # equal mixtures of a local level (with or without the damped trend) and the two best
    # baselines of the real UCDP backtest: the level wins at short steps, the recent means at
    # long ones, and the mixture at both
    "ensemble_local": (
        "ensemble",
        "Ensemble",
        {
            "name": "ensemble_local",
            "description": "equal mixture of local level, 6-month mean and conflictology",
            "members": ("local_level", "recent_mean_6", "conflictology"),
        },
    ),
    "ensemble_trend": (
        "ensemble",
        "Ensemble",
        {
            "name": "ensemble_trend",
            "description": "equal mixture of damped trend, 6-month mean and conflictology",
            "members": ("damped_trend", "recent_mean_6", "conflictology"),
        },
    ),
    # the same level mixture with the negative-binomial climatology (the region's last 24
    # periods) as a fourth member: a hedge toward the long-run distribution, which wins where
    # a busy region swings around a stable mean (Borno, 2018-2019) and costs little elsewhere
    "ensemble_climatology": (
        "ensemble",
        "Ensemble",
        {
            "name": "ensemble_climatology",
            "description": "equal mixture of local level, 6-month mean, conflictology and "
            "24-month NB climatology",
            "members": ("local_level", "recent_mean_6", "conflictology", "nb_climatology"),
        },
    ),
    # the level mixture pooled with the 36-month NB climatology at half and at three quarters
    # of the weight: the long-run view auto can lean on where counts swing around a stable
    # mean (analysis/models/auto.py)
    "ensemble_climatology36": _level_with_climatology36("ensemble_climatology36", Fraction(1, 2)),
    "ensemble_climatology36_heavy": _level_with_climatology36(
        "ensemble_climatology36_heavy", Fraction(3, 4)
    ),
    "stacking": ("stacking", "Stacking", {}),
    "auto": ("auto", "AutoForecaster", {}),
    "sarimax": (
        "references",
        "StatsmodelsReference",
        {
            "name": "sarimax",
            "kind": "sarimax",
            "description": "statsmodels AR(1) with a constant on log1p counts (reference)",
        },
    ),
    "ets": (
        "references",
        "StatsmodelsReference",
        {
            "name": "ets",
            "kind": "ets",
            "description": "statsmodels simple exponential smoothing on log1p counts (reference)",
        },
    ),
    "spillover": ("spillover", "SpilloverForecaster", {}),
}
# the context each model takes when it is built (keyword arguments of its class); the
# report's focus, geography and horizon, passed to `get`, reach only the models listed here
CONTEXT: dict[str, tuple[str, ...]] = {
    "spillover": ("boundaries", "focus", "endemic_effects", "damping"),
    "auto": ("boundaries", "focus", "horizon", "candidates", "onset_reference"),
}

_EXTRA: dict[str, Forecaster] = {}
_BUILT: dict[str, Forecaster] = {}


def available() -> list[str]:
    """Names of every model (built-in and registered)."""
    return sorted({*ENTRIES, *_EXTRA})


def register(forecaster: Forecaster) -> Forecaster:
    """Make a forecaster built elsewhere (a notebook, a test) reachable by its name.

    Parameters
    ----------
    forecaster : Forecaster
        Reached afterwards by :func:`get` under its ``name``.

    Returns
    -------
    Forecaster
        The same forecaster.

    Raises
    ------
    InputError
        When it is not a Forecaster, or its name is a built-in model's.
    """
    if not isinstance(forecaster, Forecaster):
        raise InputError(f"expected a Forecaster, got {type(forecaster).__name__}")
    if forecaster.name in ENTRIES:
        raise InputError(f"{forecaster.name!r} is a built-in model name")
    _EXTRA[forecaster.name] = forecaster
    return forecaster


def unregister(name: str) -> None:
    """Remove a forecaster added with :func:`register` (no-op if absent).

    Parameters
    ----------
    name : str
        The forecaster's ``name``.
    """
    _EXTRA.pop(name, None)


def get(name: str, **context: Any) -> Forecaster:
    """The forecaster ``name``.

    Parameters
    ----------
    name : str
    **context
        ``boundaries``, ``focus``, ``horizon``: used by the models that take them (see
        :data:`CONTEXT`), ignored by the others. ``None`` values are ignored.

    Returns
    -------
    Forecaster
    """
    if name in _EXTRA:
        return _EXTRA[name]
    if name not in ENTRIES:
        raise InputError(f"unknown model {name!r}; expected one of {available()}")
    extra = {k: v for k, v in context.items() if v is not None and k in CONTEXT.get(name, ())}
    if extra:
        return _build(name, extra)
    if name not in _BUILT:
        _BUILT[name] = _build(name, {})
    return _BUILT[name]


def _build(name: str, extra: dict[str, Any]) -> Forecaster:
    module, cls, settings = ENTRIES[name]
    klass = getattr(importlib.import_module(f"analysis.models.{module}"), cls)
    kw = {**settings, **extra}
    for k in ("focus", "candidates"):
        if k in kw:
            kw[k] = tuple(kw[k])
    return klass(**kw)


def describe() -> list[dict[str, Any]]:
    """Name, baseline flag and one-line description of every model (imports them all)."""
    return [
        {"model": n, "is_baseline": get(n).is_baseline, "description": get(n).description}
        for n in available()
    ]
