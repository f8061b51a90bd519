"""Onset: the probability that a quiet unit sees its first events within the horizon.

For units with no event in the last ``k`` periods the spillover question is not "how many
events" but "will there be any". Count models answer it poorly on real data (their P(at least
one) for quiet units loses to the base rate), so this module models the onset directly:

- **target**: at origin ``t`` a unit is *quiet* when it had no event of the study's selection in
  periods ``t-k+1 .. t``; its outcome is whether it has at least one event in ``t+1 .. t+h``;
- **features** (:data:`FEATURES`), every one computed from periods ``<= t`` only: intensity and
  trend of violence in neighbouring units with power-law decay over adjacency order, distance to
  the nearest active unit (adjacency order and kilometres), activity of *other* actors in and
  around the unit (from the all-actor panel), time since the unit's last event, country level
  and trend, panel-wide level;
- **model**: a ridge-penalised binary regression with a logit or complementary log-log (a
  constant hazard over the horizon) link, fitted on stacked (unit, origin) rows whose outcome
  window has ended by the fit origin; probabilities get intervals from draws of the coefficients
  from a normal approximation (penalised Fisher information inside a sandwich clustered by
  unit, since a unit's rows at nearby origins share their outcome window), with the Monte Carlo
  error of the interval limits computed and driven below a tolerance. The intervals carry
  parameter uncertainty only.

The default spec (features, link, penalty, decay) was chosen by time-blocked cross-validation on
real UCDP GED onsets with origins up to 2014 (``benchmarks/spillover_real.py``); the benchmark
prints the evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import norm

from analysis.errors import InputError, Problem

__all__ = [
    "FEATURES",
    "DEFAULT_FEATURES",
    "OnsetSpec",
    "OnsetGeography",
    "OnsetFit",
    "OnsetPrediction",
    "onset_geography",
    "quiet_units",
    "onset_outcome",
    "onset_features",
    "onset_design",
    "fit_onset",
    "quantile_mc_error",
]

#: Candidate features: name -> what it measures (all from periods up to the origin).
FEATURES: dict[str, str] = {
    "nb_level": "log(1 + power-law weighted events of the selection in other units, last window)",
    "nb_trend": "change of nb_level against the window before (log ratio)",
    "nb_first": "1 if a first-order neighbour had an event of the selection in the last window",
    "near_order": "log adjacency order to the nearest unit with an event in the last window",
    "near_km": "log(1 + km/100) between centroids to the nearest active unit",
    "other_own": "log(1 + events of other actors in the unit itself, last window)",
    "other_nb": "log(1 + power-law weighted events of other actors nearby, last window)",
    "since_last": "log(periods since the unit's last event), capped at five years",
    "own_history": "log(1 + events of the selection in the unit in the last five years)",
    "country_level": "log(1 + events of the selection in the unit's country, last window)",
    "country_trend": "change of country_level against the window before (log ratio)",
    "panel_level": "log(1 + events of the selection in all units of the panel, last window)",
}

#: Chosen on real UCDP GED onsets (11 West African countries, origins 2003-2014 in yearly
#: forward-chaining folds): forward selection then backward elimination, a feature kept only if
#: it lowers both the CV log score and the CV Brier score (``benchmarks/spillover_real.py``).
DEFAULT_FEATURES: tuple[str, ...] = (
    "country_level",
    "own_history",
    "near_order",
    "since_last",
    "country_trend",
    "panel_level",
    "nb_level",
)

#: Features that need the all-actor panel.
NEEDS_ALL_ACTORS = frozenset({"other_own", "other_nb"})

#: Periods a year at each panel frequency (the feature window and the time-since cap).
PERIODS_PER_YEAR = {"month": 12, "quarter": 4}

_NEAR_CAP_ORDER = 8
_NEAR_CAP_KM = 2000.0


@dataclass(frozen=True)
class OnsetSpec:
    """Settings of the onset target, its features and the hazard model.

    Attributes
    ----------
    quiet : int
        Periods without an event that make a unit quiet (``k``).
    horizon : int
        Periods ahead (``h``): the outcome is at least one event in ``t+1 .. t+h``.
    periods_per_year : int
        12 (months) or 4 (quarters); sets the feature window and the time-since cap.
    features : tuple of str
        Names from :data:`FEATURES`.
    link : {"cloglog", "logit"}
    penalty : float
        Ridge penalty per training row on the standardised coefficients (intercept free): the
        fit maximises ``loglik - penalty * n_rows * sum(beta**2) / 2``. Scaling with the rows
        keeps the shrinkage comparable between a long real history and a short study panel
        (stacked rows at nearby origins are strongly dependent, so their number overstates
        the information).
    decay : float
        Power-law exponent of the neighbour weights ``order ** -decay``.
    max_order : int
        Neighbours up to this adjacency order carry weight.
    """

    quiet: int = 12
    horizon: int = 12
    periods_per_year: int = 12
    features: tuple[str, ...] = DEFAULT_FEATURES
    # Link, penalty and decay: the best CV log score of the grid in the benchmark.
    link: Literal["cloglog", "logit"] = "logit"
    penalty: float = 0.03
    decay: float = 3.0
    max_order: int = 4

    def __post_init__(self) -> None:
        problems = []
        if self.quiet < 1:
            problems.append(Problem(None, None, "quiet", "an integer >= 1", str(self.quiet)))
        if self.horizon < 1:
            problems.append(Problem(None, None, "horizon", "an integer >= 1", str(self.horizon)))
        if self.periods_per_year not in (4, 12):
            problems.append(
                Problem(None, None, "periods_per_year", "4 or 12", str(self.periods_per_year))
            )
        for name in self.features:
            if name not in FEATURES:
                problems.append(
                    Problem(None, None, "features", f"one of {', '.join(FEATURES)}", name)
                )
        if self.link not in ("cloglog", "logit"):
            problems.append(Problem(None, None, "link", "cloglog or logit", str(self.link)))
        if not self.penalty >= 0:
            problems.append(Problem(None, None, "penalty", ">= 0", str(self.penalty)))
        if problems:
            raise InputError("invalid onset settings", problems)

    @property
    def window(self) -> int:
        """Periods over which recent activity is summed (one year)."""
        return self.periods_per_year

    @property
    def needs_all_actors(self) -> bool:
        return bool(NEEDS_ALL_ACTORS & set(self.features))


def onset_spec(
    freq: str,
    horizon: int,
    quiet: int,
    base: OnsetSpec | None = None,
    *,
    selection_only: bool = False,
) -> OnsetSpec:
    """The onset spec for ``horizon`` and ``quiet`` at a panel's frequency.

    Parameters
    ----------
    freq : str
        ``"month"`` or ``"quarter"`` (sets ``periods_per_year``).
    horizon, quiet : int
    base : OnsetSpec, optional
        Other settings (the defaults without it).
    selection_only : bool
        The counts are of the study's selection only: features of other actors
        (:data:`NEEDS_ALL_ACTORS`) are dropped.

    Returns
    -------
    OnsetSpec
    """
    spec = replace(
        base or OnsetSpec(), horizon=int(horizon), quiet=int(quiet),
        periods_per_year=PERIODS_PER_YEAR[freq],
    )  # fmt: skip
    if selection_only:
        spec = replace(spec, features=tuple(f for f in spec.features if f not in NEEDS_ALL_ACTORS))
    return spec


@dataclass(frozen=True)
class OnsetGeography:
    """Plain arrays the features need.

    Attributes
    ----------
    region_ids : tuple of str
    order : ndarray int (R, R)
        Adjacency order (0 on the diagonal, large where unconnected).
    km : ndarray (R, R)
        Great-circle distance between centroids.
    countries : ndarray of str (R,)
    """

    region_ids: tuple[str, ...]
    order: np.ndarray
    km: np.ndarray
    countries: np.ndarray


def onset_geography(region_ids: Sequence[str], boundaries=None) -> OnsetGeography:
    """Adjacency orders, centroid distances and countries of the given units.

    Parameters
    ----------
    region_ids : sequence of str
        Unit ids, all known to ``boundaries``.
    boundaries : Boundaries, optional
        Default None: the shipped boundaries (:func:`analysis.geography.load_boundaries`).

    Returns
    -------
    OnsetGeography
    """
    import warnings

    from analysis.geography import adjacency_order_matrix, load_boundaries

    boundaries = boundaries or load_boundaries()
    ids = [str(r) for r in region_ids]
    order = adjacency_order_matrix(ids, boundaries)
    regions = boundaries.regions.set_index("region_id").loc[ids]
    with warnings.catch_warnings():
        # Centroids in degrees are adequate at these latitudes for a distance-decay feature.
        warnings.simplefilter("ignore")
        cent = regions.geometry.centroid
    lat = np.radians(cent.y.to_numpy(float))
    lon = np.radians(cent.x.to_numpy(float))
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
    km = 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
    return OnsetGeography(
        tuple(ids), np.asarray(order), km, regions["country"].astype(str).to_numpy()
    )


def _window_sum(cum: np.ndarray, t: int, width: int) -> np.ndarray:
    """Sum over periods ``t-width+1 .. t`` from a cumulative sum with a leading zero column."""
    return cum[:, t + 1] - cum[:, max(t + 1 - width, 0)]


def _cumsum(counts: np.ndarray) -> np.ndarray:
    c = np.asarray(counts, dtype=float)
    return np.concatenate([np.zeros((c.shape[0], 1)), np.cumsum(c, axis=1)], axis=1)


def quiet_units(counts: np.ndarray, t: int, quiet: int) -> np.ndarray:
    """Units with no event in periods ``t-quiet+1 .. t`` (needs ``t >= quiet - 1``).

    Parameters
    ----------
    counts : ndarray (unit, period)
        Counts.
    t : int
        Origin, a column index of ``counts``.
    quiet : int
        Periods of the quiet window, the origin's included.

    Returns
    -------
    ndarray (unit,)
        Boolean.

    Raises
    ------
    InputError
        When ``t < quiet - 1`` or ``t`` is past the last column.
    """
    if t < quiet - 1 or t >= counts.shape[1]:
        raise InputError(
            f"origin index {t} leaves fewer than {quiet} periods of history or is past the panel"
        )
    return np.asarray(counts)[:, t - quiet + 1 : t + 1].sum(axis=1) == 0


def onset_outcome(counts: np.ndarray, t: int, horizon: int) -> np.ndarray:
    """At least one event in periods ``t+1 .. t+horizon`` (needs them in the panel).

    Parameters
    ----------
    counts : ndarray (unit, period)
        Counts.
    t : int
        Origin, a column index of ``counts``.
    horizon : int
        Periods after the origin.

    Returns
    -------
    ndarray (unit,)
        Boolean.

    Raises
    ------
    InputError
        When ``t + horizon`` is past the last column.
    """
    if t + horizon >= counts.shape[1]:
        raise InputError(f"the outcome window of origin index {t} runs past the panel")
    return np.asarray(counts)[:, t + 1 : t + horizon + 1].sum(axis=1) > 0


def _weights(order: np.ndarray, decay: float, max_order: int) -> np.ndarray:
    o = np.asarray(order, dtype=float)
    ok = (o >= 1) & (o <= max_order)
    return np.where(ok, np.where(ok, o, 1.0) ** (-decay), 0.0)


@dataclass(frozen=True)
class _Prepared:
    """Cumulative sums and last-event indices, computed once per panel."""

    cum: np.ndarray
    cum_other: np.ndarray | None
    last_event: np.ndarray  # (R, T): index of the last period <= t with an event, -1 if none
    weights: np.ndarray
    country_sum: np.ndarray  # (R, R): 1 where same country


def _prepare(
    counts: np.ndarray, counts_all: np.ndarray | None, geo: OnsetGeography, spec: OnsetSpec
) -> _Prepared:
    counts = np.asarray(counts)
    if counts.shape[0] != len(geo.region_ids):
        raise InputError(
            f"counts have {counts.shape[0]} rows, the geography {len(geo.region_ids)} units"
        )
    other = None
    if counts_all is not None:
        counts_all = np.asarray(counts_all)
        if counts_all.shape != counts.shape:
            raise InputError(
                f"all-actor counts {counts_all.shape} do not match the panel {counts.shape}"
            )
        # Events of the selection are part of the all-actor panel; what is left is other actors.
        other = _cumsum(np.clip(counts_all - counts, 0, None))
    elif spec.needs_all_actors:
        raise InputError(
            "features "
            + ", ".join(sorted(NEEDS_ALL_ACTORS & set(spec.features)))
            + " need the all-actor panel (counts_all)"
        )
    idx = np.where(counts > 0, np.arange(counts.shape[1])[None, :], -1)
    last = np.maximum.accumulate(idx, axis=1)
    same = (geo.countries[:, None] == geo.countries[None, :]).astype(float)
    return _Prepared(
        _cumsum(counts), other, last, _weights(geo.order, spec.decay, spec.max_order), same
    )


def _features_at(prep: _Prepared, geo: OnsetGeography, spec: OnsetSpec, t: int) -> pd.DataFrame:
    w = spec.window
    recent = _window_sum(prep.cum, t, w)
    before = _window_sum(prep.cum, t - w, w) if t - w >= 0 else np.zeros_like(recent)
    out: dict[str, np.ndarray] = {}
    wanted = set(spec.features)
    nb_now = prep.weights @ recent
    if wanted & {"nb_level", "nb_trend"}:
        out["nb_level"] = np.log1p(nb_now)
        out["nb_trend"] = np.log1p(nb_now) - np.log1p(prep.weights @ before)
    active = recent > 0
    if "nb_first" in wanted:
        out["nb_first"] = ((geo.order == 1) & active[None, :]).any(axis=1).astype(float)
    if "near_order" in wanted:
        o = np.where(active[None, :] & (geo.order >= 1), geo.order, _NEAR_CAP_ORDER)
        out["near_order"] = np.log(np.clip(o.min(axis=1), 1, _NEAR_CAP_ORDER))
    if "near_km" in wanted:
        d = np.where(active[None, :] & (geo.order != 0), geo.km, _NEAR_CAP_KM)
        out["near_km"] = np.log1p(np.clip(d.min(axis=1), 0, _NEAR_CAP_KM) / 100.0)
    if wanted & NEEDS_ALL_ACTORS:
        assert prep.cum_other is not None
        other = _window_sum(prep.cum_other, t, w)
        out["other_own"] = np.log1p(other)
        out["other_nb"] = np.log1p(prep.weights @ other)
    if "since_last" in wanted:
        cap = 5 * spec.periods_per_year
        last = prep.last_event[:, t]
        gap = np.where(last >= 0, t - last, cap)
        out["since_last"] = np.log(np.clip(gap, 1, cap))
    if "own_history" in wanted:
        out["own_history"] = np.log1p(_window_sum(prep.cum, t, 5 * spec.periods_per_year))
    if wanted & {"country_level", "country_trend"}:
        c_now = prep.country_sum @ recent
        out["country_level"] = np.log1p(c_now)
        out["country_trend"] = np.log1p(c_now) - np.log1p(prep.country_sum @ before)
    if "panel_level" in wanted:
        out["panel_level"] = np.full(len(recent), np.log1p(recent.sum()))
    return pd.DataFrame({name: out[name] for name in spec.features})


def onset_features(
    counts: np.ndarray,
    t: int,
    geo: OnsetGeography,
    spec: OnsetSpec,
    counts_all: np.ndarray | None = None,
) -> pd.DataFrame:
    """Features of every unit at origin index ``t``, from periods ``<= t`` only.

    Parameters
    ----------
    counts : ndarray (R, T)
        Counts of the study's selection.
    t : int
        Origin index (last period seen).
    geo : OnsetGeography
    spec : OnsetSpec
    counts_all : ndarray (R, T), optional
        Counts of all actors (needed by ``other_own`` and ``other_nb``).

    Returns
    -------
    DataFrame
        One row per unit (``geo.region_ids`` order), one column per feature of ``spec``.
    """
    counts = np.asarray(counts)
    cut_all = None if counts_all is None else np.asarray(counts_all)[:, : t + 1]
    # Slicing first makes look-ahead impossible, whatever the feature code does.
    prep = _prepare(counts[:, : t + 1], cut_all, geo, spec)
    frame = _features_at(prep, geo, spec, t)
    frame.index = pd.Index(geo.region_ids, name="region_id")
    return frame


def onset_design(
    counts: np.ndarray,
    origins: Sequence[int],
    geo: OnsetGeography,
    spec: OnsetSpec,
    counts_all: np.ndarray | None = None,
    *,
    outcome: bool = True,
) -> pd.DataFrame:
    """Stacked rows (quiet unit, origin) with features and, optionally, the onset outcome.

    Parameters
    ----------
    counts, geo, spec, counts_all
        As in :func:`onset_features`.
    origins : sequence of int
        Origin indices; each needs ``spec.quiet`` periods of history (and, with ``outcome``,
        ``spec.horizon`` periods after it).
    outcome : bool
        Add the column ``onset`` (bool).

    Returns
    -------
    DataFrame
        Columns ``origin`` (index), ``region_id``, ``country``, the features, and ``onset``.
    """
    counts = np.asarray(counts)
    prep = _prepare(counts, counts_all, geo, spec)
    parts = []
    for t in origins:
        t = int(t)
        quiet = quiet_units(counts, t, spec.quiet)
        if not quiet.any():
            continue
        frame = _features_at(prep, geo, spec, t)[quiet]
        frame.insert(0, "country", geo.countries[quiet])
        frame.insert(0, "region_id", np.asarray(geo.region_ids)[quiet])
        frame.insert(0, "origin", t)
        if outcome:
            frame["onset"] = onset_outcome(counts, t, spec.horizon)[quiet]
        parts.append(frame)
    columns = ["origin", "region_id", "country", *spec.features] + (["onset"] if outcome else [])
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


# --------------------------------------------------------------------------- model


def _inverse_link(eta: np.ndarray, link: str) -> np.ndarray:
    if link == "logit":
        return expit(eta)
    return -np.expm1(-np.exp(np.clip(eta, -50, 5)))


def _neg_loglik_parts(
    x: np.ndarray, y: np.ndarray, beta: np.ndarray, link: str
) -> tuple[float, np.ndarray, np.ndarray]:
    """Negative log-likelihood, its gradient and the Fisher weights at ``beta``."""
    eta = x @ beta
    if link == "logit":
        p = expit(eta)
        ll = float(np.sum(y * eta - np.logaddexp(0.0, eta)))
        score = y - p
        w = p * (1 - p)
    else:
        eta = np.clip(eta, -30, 4)
        mu = np.exp(eta)
        p = -np.expm1(-mu)
        log_p = np.log(np.clip(p, 1e-300, None))
        ll = float(np.sum(y * log_p - (1 - y) * mu))
        score = mu * (y - p) / np.clip(p, 1e-300, None)
        w = mu**2 * (1 - p) / np.clip(p, 1e-300, None)
    return -ll, -(x.T @ score), w


def _fit_penalised(
    x: np.ndarray, y: np.ndarray, penalty: float, link: str, max_iter: int = 100
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Fisher scoring with step halving for the ridge-penalised binary regression."""
    k = x.shape[1]
    pen = np.full(k, float(penalty))
    pen[0] = 0.0
    rate = np.clip(y.mean(), 1e-4, 1 - 1e-4)
    beta = np.zeros(k)
    beta[0] = np.log(rate / (1 - rate)) if link == "logit" else np.log(-np.log1p(-rate))

    def objective(b: np.ndarray) -> float:
        return _neg_loglik_parts(x, y, b, link)[0] + 0.5 * float(np.sum(pen * b**2))

    value = objective(beta)
    converged = False
    for _ in range(max_iter):
        _, grad, w = _neg_loglik_parts(x, y, beta, link)
        grad = grad + pen * beta
        info = x.T @ (x * w[:, None]) + np.diag(pen) + 1e-10 * np.eye(k)
        step = np.linalg.solve(info, grad)
        scale = 1.0
        while scale > 1e-8:
            cand = beta - scale * step
            new = objective(cand)
            if new <= value + 1e-12:
                break
            scale /= 2
        else:
            converged = True
            break
        beta, value = cand, new
        if np.max(np.abs(scale * step)) < 1e-8:
            converged = True
            break
    _, _, w = _neg_loglik_parts(x, y, beta, link)
    info = x.T @ (x * w[:, None]) + np.diag(pen) + 1e-10 * np.eye(k)
    return beta, np.linalg.inv(info), pen, converged


def _row_scores(x: np.ndarray, y: np.ndarray, beta: np.ndarray, link: str) -> np.ndarray:
    """Per-row score vectors (gradient of each row's log-likelihood)."""
    eta = x @ beta
    if link == "logit":
        s = y - expit(eta)
    else:
        mu = np.exp(np.clip(eta, -30, 4))
        p = -np.expm1(-mu)
        s = mu * (y - p) / np.clip(p, 1e-300, None)
    return x * s[:, None]


def quantile_mc_error(draws: np.ndarray, q: float, z: float = 1.96) -> np.ndarray:
    """Monte Carlo standard error of the ``q`` quantile of draws (along the last axis).

    Order-statistic method: the ``q`` quantile of ``n`` draws lies between the order statistics
    of ranks ``n q -/+ z sqrt(n q (1-q))`` with probability about 95%; half their distance over
    ``z`` estimates the standard error.

    Parameters
    ----------
    draws : ndarray (..., n)
        Draws along the last axis.
    q : float
        Quantile level, in (0, 1).
    z : float, optional
        Normal quantile of the order-statistic interval (default 1.96, about 95%).

    Returns
    -------
    ndarray (...)
    """
    s = np.sort(np.asarray(draws), axis=-1)
    n = s.shape[-1]
    half = z * np.sqrt(n * q * (1 - q))
    lo = int(np.clip(np.floor(n * q - half), 0, n - 1))
    hi = int(np.clip(np.ceil(n * q + half), 0, n - 1))
    return (s[..., hi] - s[..., lo]) / (2 * z)


@dataclass(frozen=True)
class OnsetPrediction:
    """Onset probabilities with intervals for a set of rows.

    Attributes
    ----------
    p : ndarray
        Plug-in probability (the coefficients' estimate).
    low, high : ndarray
        Interval limits: quantiles of the probability over coefficient draws.
    mc_error : ndarray
        Monte Carlo standard error of each row's interval limits (the larger of the two).
    n_draws : int
    level : float
    """

    p: np.ndarray
    low: np.ndarray
    high: np.ndarray
    mc_error: np.ndarray
    n_draws: int
    level: float


@dataclass(frozen=True)
class OnsetFit:
    """A fitted onset model (immutable).

    Attributes
    ----------
    spec : OnsetSpec
    coef : ndarray (1 + F,)
        Intercept and coefficients of the standardised features.
    cov : ndarray (1 + F, 1 + F)
        Inverse penalised Fisher information (approximate posterior covariance).
    mean, scale : ndarray (F,)
        Standardisation of the features on the training rows (scale 0 = constant, dropped).
    n_obs, n_onsets : int
    converged : bool
    loglik : float
    """

    spec: OnsetSpec
    coef: np.ndarray
    cov: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    n_obs: int
    n_onsets: int
    converged: bool
    loglik: float
    meta: dict = field(default_factory=dict)

    def _x(self, frame: pd.DataFrame) -> np.ndarray:
        missing = [f for f in self.spec.features if f not in frame.columns]
        if missing:
            raise InputError(f"feature columns missing: {missing}")
        raw = frame[list(self.spec.features)].to_numpy(float)
        z = np.divide(
            raw - self.mean, self.scale, out=np.zeros_like(raw), where=self.scale[None, :] > 0
        )
        return np.column_stack([np.ones(len(raw)), z])

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Plug-in P(first event within the horizon) for each row of features.

        Parameters
        ----------
        frame : DataFrame
            Rows of features, with the spec's feature columns (raw, not standardised).

        Returns
        -------
        ndarray (row,)
        """
        return _inverse_link(self._x(frame) @ self.coef, self.spec.link)

    def predict_interval(
        self,
        frame: pd.DataFrame,
        level: float = 0.95,
        *,
        mc_tolerance: float = 0.01,
        n_draws: int = 2000,
        max_draws: int = 64000,
        seed: int = 0,
    ) -> OnsetPrediction:
        """Probabilities with intervals from coefficient draws.

        Draws ``n_draws`` coefficient vectors from N(coef, cov) and doubles them until the
        Monte Carlo error of every interval limit is below ``mc_tolerance`` (or ``max_draws``).

        Parameters
        ----------
        frame : DataFrame
            Rows of features, with the spec's feature columns.
        level : float, optional
            Central probability of the intervals (default 0.95).
        mc_tolerance : float, optional
            Largest Monte Carlo error of an interval limit, on the probability scale (default 0.01).
        n_draws : int, optional
            Coefficient draws to start with (default 2000).
        max_draws : int, optional
            Most draws (default 64000).
        seed : int, optional
            Seed of the draws (default 0).

        Returns
        -------
        OnsetPrediction
        """
        x = self._x(frame)
        rng = np.random.default_rng(seed)
        chol = np.linalg.cholesky(self.cov + 1e-12 * np.eye(len(self.coef)))
        a = (1 - level) / 2
        draws = np.empty((len(x), 0))
        n = n_draws
        while True:
            z = rng.standard_normal((len(self.coef), n - draws.shape[1]))
            beta = self.coef[:, None] + chol @ z
            draws = np.concatenate([draws, _inverse_link(x @ beta, self.spec.link)], axis=1)
            err = (
                np.maximum(quantile_mc_error(draws, a), quantile_mc_error(draws, 1 - a))
                if len(x)
                else np.zeros(0)
            )
            if not len(x) or err.max() < mc_tolerance or n >= max_draws:
                break
            n *= 2
        low, high = np.quantile(draws, [a, 1 - a], axis=1) if len(x) else (err, err)
        return OnsetPrediction(self.predict(frame), low, high, err, int(n), level)

    def interval_closed_form(self, frame: pd.DataFrame, level: float = 0.95):
        """Exact limits of the draw-based interval: the link is monotone in one normal predictor.

        Parameters
        ----------
        frame : DataFrame
            Rows of features, with the spec's feature columns.
        level : float, optional
            Central probability of the interval (default 0.95).

        Returns
        -------
        low, high : ndarray (row,)
        """
        x = self._x(frame)
        eta = x @ self.coef
        sd = np.sqrt(np.einsum("ij,jk,ik->i", x, self.cov, x))
        zq = norm.ppf(0.5 + level / 2)
        link = self.spec.link
        return _inverse_link(eta - zq * sd, link), _inverse_link(eta + zq * sd, link)

    def table(self) -> pd.DataFrame:
        """Coefficients (per standard deviation of each feature) with standard errors."""
        se = np.sqrt(np.diag(self.cov))
        return pd.DataFrame(
            {
                "term": ["intercept", *self.spec.features],
                "estimate": self.coef,
                "se": se,
                "feature_mean": [np.nan, *self.mean],
                "feature_sd": [np.nan, *self.scale],
            }
        )


def fit_onset(
    design: pd.DataFrame,
    spec: OnsetSpec | None = None,
    *,
    cluster: str | None = "region_id",
) -> OnsetFit:
    """Fit the onset hazard model on stacked rows from :func:`onset_design`.

    Parameters
    ----------
    design : DataFrame
        With the spec's feature columns and a boolean ``onset`` column.
    spec : OnsetSpec, optional
    cluster : str or None
        Column whose values group dependent rows (default the unit): the coefficient covariance
        is then the cluster-robust sandwich. None (or a missing column) = model-based.

    Returns
    -------
    OnsetFit

    Raises
    ------
    InputError
        Without rows, or when every row has the same outcome (nothing to learn).
    """
    spec = spec or OnsetSpec()
    if "onset" not in design.columns or design.empty:
        raise InputError("no onset rows to fit (need quiet units with known outcomes)")
    y = design["onset"].to_numpy(float)
    if y.min() == y.max():
        raise InputError(
            f"all {len(y)} quiet-unit rows have onset={bool(y[0])}: the onset model needs both"
        )
    clusters = design[cluster].to_numpy() if cluster and cluster in design.columns else None
    raw = design[list(spec.features)].to_numpy(float)
    mean = raw.mean(axis=0) if raw.size else np.zeros(0)
    scale = raw.std(axis=0) if raw.size else np.zeros(0)
    scale = np.where(scale > 1e-12, scale, 0.0)
    z = np.divide(raw - mean, scale, out=np.zeros_like(raw), where=scale[None, :] > 0)
    x = np.column_stack([np.ones(len(y)), z])
    beta, cov, pen, converged = _fit_penalised(x, y, spec.penalty * len(y), spec.link)
    n_clusters = len(y)
    if clusters is not None:
        # Rows of one unit at consecutive origins share most of their outcome window, so they
        # are far from independent: a sandwich with scores summed per unit keeps the interval
        # honest (the model-based covariance would treat 12 overlapping rows as 12 new ones).
        codes, uniques = pd.factorize(pd.Series(np.asarray(clusters)))
        if len(codes) != len(y):
            raise InputError(f"{len(codes)} cluster labels for {len(y)} rows")
        n_clusters = len(uniques)
        scores = _row_scores(x, y, beta, spec.link)
        summed = np.zeros((n_clusters, x.shape[1]))
        np.add.at(summed, codes, scores)
        # The penalty's own gradient is not noise: only the likelihood scores enter the meat.
        meat = summed.T @ summed * n_clusters / max(n_clusters - 1, 1)
        cov = cov @ meat @ cov
    # A constant feature carries no information: pin it at 0 with no spread.
    dead = np.concatenate([[False], scale == 0])
    beta[dead] = 0.0
    cov[dead, :] = 0.0
    cov[:, dead] = 0.0
    loglik = -_neg_loglik_parts(x, y, beta, spec.link)[0]
    return OnsetFit(
        spec=spec,
        coef=beta,
        cov=cov,
        mean=mean,
        scale=scale,
        n_obs=len(y),
        n_onsets=int(y.sum()),
        converged=converged,
        loglik=loglik,
        meta={
            "covariance": "cluster-robust" if clusters is not None else "model-based",
            "n_clusters": n_clusters,
        },
    )
