"""Synthetic events from stated models: demo data and ground truth for tests.

The demo scenario mirrors the founding case: attacks by a JNIM-like actor in Mali's Kayes
region rise sevenfold from 2021 to 2024 and spread into the adjacent Mauritanian and Senegalese
regions. Counts follow an endemic-epidemic negative-binomial model (Held, Höhle & Hofmann 2005),
so every number a report estimates on the demo has a known true value, saved beside the events.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.geography import Boundaries, adjacency_order_matrix, load_boundaries
from analysis.io import atomic_write_bytes, sha256_file
from analysis.panel import from_matrix, period_range

DEMO_ACTOR = "JNIM: Group for Support of Islam and Muslims"
DEMO_COUNTRIES = ("MLI", "MRT", "SEN")
#: The file :func:`write_demo` writes beside the demo events: the stated model and its truths.
DEMO_TRUTH_FILE = "demo_truth.json"
ACLED_ISO_NUMERIC = {"MLI": 466, "MRT": 478, "SEN": 686, "BFA": 854, "NER": 562, "GIN": 324}
ACLED_COLUMNS = [
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
    "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2",
    "interaction", "civilian_targeting", "iso", "region", "country", "admin1", "admin2", "admin3",
    "location", "latitude", "longitude", "geo_precision", "source", "source_scale", "notes",
    "fatalities", "tags", "timestamp",
]  # fmt: skip


def simulate_endemic_epidemic(
    endemic: np.ndarray,
    autoregressive: np.ndarray,
    neighbourhood: np.ndarray,
    weights: np.ndarray,
    dispersion: float,
    rng: np.random.Generator,
    initial: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate counts from an endemic-epidemic negative-binomial model.

    ``mu[r, t] = endemic[r, t] + autoregressive[r] * y[r, t-1]
    + neighbourhood[r] * sum_q weights[r, q] * y[q, t-1]``, and
    ``y[r, t] ~ NegBin(mean mu, variance mu + dispersion * mu**2)``.

    Parameters
    ----------
    endemic : ndarray, shape (regions, periods)
        Endemic means (already including trend and season).
    autoregressive, neighbourhood : ndarray, shape (regions,)
        Shares of the region's own and its neighbours' last counts.
    weights : ndarray, shape (regions, regions)
        ``weights[r, q]``: how much of region q's count reaches region r (zero diagonal).
    dispersion : float
        NB2 overdispersion (0 gives Poisson).
    rng : numpy.random.Generator
    initial : ndarray, shape (regions,), optional
        Counts before the first period (zeros by default).

    Returns
    -------
    counts : ndarray of int64, shape (regions, periods)
    means : ndarray, shape (regions, periods)
        The conditional means used at each step.
    """
    n_regions, n_periods = endemic.shape
    counts = np.zeros((n_regions, n_periods), dtype=np.int64)
    means = np.zeros((n_regions, n_periods))
    previous = np.zeros(n_regions) if initial is None else np.asarray(initial, dtype=float)
    for t in range(n_periods):
        mu = endemic[:, t] + autoregressive * previous + neighbourhood * (weights @ previous)
        means[:, t] = mu
        counts[:, t] = draw_negative_binomial(mu, dispersion, rng)
        previous = counts[:, t].astype(float)
    return counts, means


def draw_negative_binomial(
    mean: np.ndarray, dispersion: float, rng: np.random.Generator
) -> np.ndarray:
    """Draw NB2 counts with the given means and ``variance = mean + dispersion * mean**2``.

    Parameters
    ----------
    mean : numpy.ndarray
        Means of the counts, any shape.
    dispersion : float
        NB2 overdispersion; 0 or less gives Poisson counts.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray of int
        One count per mean, in the shape of ``mean``.
    """
    mean = np.asarray(mean, dtype=float)
    if dispersion <= 0:
        return rng.poisson(mean)
    size = 1.0 / dispersion
    return rng.negative_binomial(size, size / (size + np.maximum(mean, 1e-300)))


def expected_counts(
    endemic: np.ndarray,
    autoregressive: np.ndarray,
    neighbourhood: np.ndarray,
    weights: np.ndarray,
    initial: np.ndarray | None = None,
) -> np.ndarray:
    """Expected counts of the endemic-epidemic model (exact: the mean is linear), from zero
    counts or, given ``initial`` (regions,), from those counts in the period before.

    Parameters
    ----------
    endemic : numpy.ndarray (regions, periods)
        Endemic means.
    autoregressive, neighbourhood : numpy.ndarray (regions,)
        Shares of the region's own and its neighbours' last counts.
    weights : numpy.ndarray (regions, regions)
        ``weights[r, q]``: how much of region q's count reaches region r.
    initial : numpy.ndarray (regions,), optional
        Counts in the period before the first; zeros by default.

    Returns
    -------
    numpy.ndarray (regions, periods)
    """
    n_regions, n_periods = endemic.shape
    expected = np.zeros((n_regions, n_periods))
    previous = np.zeros(n_regions) if initial is None else np.asarray(initial, dtype=float)
    for t in range(n_periods):
        previous = endemic[:, t] + autoregressive * previous + neighbourhood * (weights @ previous)
        expected[:, t] = previous
    return expected


def first_order_weights(orders: np.ndarray) -> np.ndarray:
    """Weights that share each source region's count equally among its first-order neighbours.

    Returns ``w[r, q]`` = 1 / (number of neighbours of q) when r and q share a border.

    Parameters
    ----------
    orders : numpy.ndarray (regions, regions)
        Adjacency orders (:func:`analysis.geography.adjacency_order_matrix`); 1 marks a shared
        border.

    Returns
    -------
    numpy.ndarray (regions, regions)
        Each column sums to 1, or is all 0 for a region without neighbours.
    """
    adjacent = (orders == 1).astype(float)
    n_neighbours = adjacent.sum(axis=0)
    return np.divide(adjacent, n_neighbours, out=np.zeros_like(adjacent), where=n_neighbours > 0)


@dataclass(frozen=True)
class DemoScenario:
    """The stated model behind the demo data.

    Endemic means are per month. The focus region's endemic level grows log-linearly so that
    its expected count in ``end_year`` is ``growth_factor`` times that of ``start_year``.
    """

    focus: str = "ML-1"
    start: str = "2018-01"
    end: str = "2024-12"
    countries: tuple[str, ...] = DEMO_COUNTRIES
    growth_years: tuple[int, int] = (2021, 2024)
    growth_factor: float = 7.0
    focus_events_first_year: float = 10.0
    autoregressive: float = 0.25
    neighbourhood: float = 0.12
    dispersion: float = 0.6
    background_endemic: float = 0.004
    levels: dict[str, float] = field(
        default_factory=lambda: {
            "ML-5": 3.0,  # Mopti
            "ML-4": 1.2,  # Ségou
            "ML-6": 1.0,  # Tombouctou
            "ML-7": 1.4,  # Gao
            "ML-8": 0.6,  # Kidal
            "ML-2": 0.3,  # Koulikoro
            "ML-3": 0.15,  # Sikasso
            "ML-BKO": 0.03,
        }
    )
    other_actor_rate: float = 0.4
    seed: int = 36


@dataclass(frozen=True)
class DemoData:
    """Synthetic events (ACLED columns) and the truth behind them."""

    events: pd.DataFrame
    counts: np.ndarray
    expected: np.ndarray
    region_ids: list[str]
    periods: pd.DatetimeIndex
    truth: dict


def _focus_endemic(scenario: DemoScenario, periods: pd.DatetimeIndex) -> np.ndarray:
    year_a, year_b = scenario.growth_years
    slope = np.log(scenario.growth_factor) / (12 * (year_b - year_a))
    months = np.arange(len(periods), dtype=float)
    mid_a = np.flatnonzero(periods.year == year_a).mean()
    # The AR term multiplies a geometrically growing endemic input by 1/(1 - lambda/g);
    # scale the level so that the first comparison year has the stated expected count.
    g = np.exp(slope)
    level = scenario.focus_events_first_year / 12 * (1 - scenario.autoregressive / g)
    return level * np.exp(slope * (months - mid_a))


def simulate_demo(
    scenario: DemoScenario | None = None, boundaries: Boundaries | None = None
) -> DemoData:
    """Simulate the demo scenario: counts from the stated model, then events with places.

    Parameters
    ----------
    scenario : DemoScenario, optional
        Defaults to the founding case (Kayes, sevenfold 2021-2024).
    boundaries : Boundaries, optional
        Defaults to the shipped boundaries.

    Returns
    -------
    DemoData
        Deterministic for ``scenario.seed``.
    """
    scenario = scenario or DemoScenario()
    boundaries = boundaries or load_boundaries()
    rng = np.random.default_rng(scenario.seed)
    units = boundaries.regions_of(list(scenario.countries))
    region_ids = list(units["region_id"])
    periods = period_range(pd.Timestamp(scenario.start), pd.Timestamp(scenario.end), "month")
    n_r, n_t = len(region_ids), len(periods)

    endemic = np.full((n_r, n_t), scenario.background_endemic)
    for rid, level in scenario.levels.items():
        endemic[region_ids.index(rid)] = level
    endemic[region_ids.index(scenario.focus)] = _focus_endemic(scenario, periods)
    orders = adjacency_order_matrix(region_ids, boundaries)
    weights = first_order_weights(orders)
    lam = np.full(n_r, scenario.autoregressive)
    phi = np.full(n_r, scenario.neighbourhood)
    counts, _ = simulate_endemic_epidemic(endemic, lam, phi, weights, scenario.dispersion, rng)
    expected = expected_counts(endemic, lam, phi, weights)

    events = _events_from_counts(counts, region_ids, periods, boundaries, rng, scenario)
    focus_row = region_ids.index(scenario.focus)
    year_a, year_b = scenario.growth_years
    true_ratio = (
        expected[focus_row, periods.year == year_b].sum()
        / expected[focus_row, periods.year == year_a].sum()
    )
    truth = {
        "model": "endemic-epidemic negative binomial (hhh4-type), monthly",
        "scenario": asdict(scenario),
        "actor": DEMO_ACTOR,
        "region_ids": region_ids,
        "periods": [f"{p:%Y-%m}" for p in periods],
        "weights": "first-order adjacency, each source's count shared equally among its neighbours",
        "focus_expected_by_year": {
            str(y): float(expected[focus_row, periods.year == y].sum())
            for y in sorted(set(periods.year))
        },
        "focus_true_rate_ratio": float(true_ratio),
        "focus_true_annual_growth_pct": float(
            100 * (scenario.growth_factor ** (1 / (year_b - year_a)) - 1)
        ),
        "simulated_focus_counts_by_year": {
            str(y): int(counts[focus_row, periods.year == y].sum())
            for y in sorted(set(periods.year))
        },
        "synthetic": True,
    }
    return DemoData(events, counts, expected, region_ids, periods, truth)


def _demo_forward_parts(
    demo: DemoData,
    horizon: int,
    scenario: DemoScenario,
    boundaries: Boundaries,
    growth: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Endemic levels for the next ``horizon`` months, weights, own-lag and neighbour shares."""
    ids = list(demo.region_ids)
    end = demo.periods[-1]
    periods = period_range(
        pd.Timestamp(scenario.start), end + pd.DateOffset(months=horizon), "month"
    )
    endemic = np.full((len(ids), horizon), scenario.background_endemic)
    for rid, level in scenario.levels.items():
        endemic[ids.index(rid)] = level
    focus = _focus_endemic(scenario, periods)
    endemic[ids.index(scenario.focus)] = focus[-horizon:] if growth else focus[-horizon - 1]
    weights = first_order_weights(adjacency_order_matrix(ids, boundaries))
    lam = np.full(len(ids), scenario.autoregressive)
    phi = np.full(len(ids), scenario.neighbourhood)
    return endemic, weights, lam, phi


def simulate_demo_forward(
    demo: DemoData,
    horizon: int,
    n_paths: int = 2000,
    seed: int = 0,
    scenario: DemoScenario | None = None,
    boundaries: Boundaries | None = None,
    growth: bool = True,
) -> np.ndarray:
    """Continue the demo's stated model past its last period: the truth a forecast made at
    the end of the demo data should match.

    Paths start from the demo's last counts; the focus region's endemic level keeps growing as
    stated (or, with ``growth=False``, stays at its last month's level), and every other part
    of the model stays as it was.

    Parameters
    ----------
    demo : DemoData
        From :func:`simulate_demo`.
    horizon : int
        Months ahead.
    n_paths : int, optional
        Simulated paths; 2000 by default.
    seed : int, optional
        Seed of the paths' generator; 0 by default.
    scenario : DemoScenario, optional
        The scenario that made ``demo``; defaults to the founding case.
    boundaries : Boundaries, optional
        Defaults to the shipped boundaries.
    growth : bool, optional
        Continue the focus region's endemic growth (True, the default) or hold its level.

    Returns
    -------
    ndarray (region, step, path) of int64
        Simulated counts for periods ``end + 1 .. end + horizon``.
    """
    scenario = scenario or DemoScenario()
    boundaries = boundaries or load_boundaries()
    endemic, weights, lam, phi = _demo_forward_parts(demo, horizon, scenario, boundaries, growth)
    rng = np.random.default_rng(seed)
    out = np.empty((len(demo.region_ids), horizon, n_paths), dtype=np.int64)
    previous = np.repeat(demo.counts[:, -1:].astype(float), n_paths, axis=1)  # (R, paths)
    for h in range(horizon):
        # the recursion of simulate_endemic_epidemic, every path at once
        mu = endemic[:, h : h + 1] + lam[:, None] * previous + phi[:, None] * (weights @ previous)
        out[:, h] = draw_negative_binomial(mu, scenario.dispersion, rng)
        previous = out[:, h].astype(float)
    return out


#: Months of the near-term total the demo check compares too: the quarter the region reports'
#: summaries lead with and the overview ranks on (``analysis.models.risk.NEAR_STEPS``).
DEMO_NEAR_STEPS = 3


def demo_forward_truth(
    demo: DemoData,
    horizon: int,
    *,
    scenario: DemoScenario | None = None,
    boundaries: Boundaries | None = None,
    growth: bool = True,
    n_paths: int = 4000,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Summaries of the demo's stated model run forward from its last simulated month.

    Parameters
    ----------
    demo : DemoData
        From :func:`simulate_demo`.
    horizon : int
        Months ahead.
    scenario, boundaries
        As for :func:`simulate_demo`.
    growth : bool
        Continue the focus region's endemic growth (the stated model) or hold its endemic level
        at the last month's ("growth stops").
    n_paths : int
    seed : int

    Returns
    -------
    dict
        ``expected`` (R, horizon): exact conditional means given the last month (the mean is
        linear); ``totals`` (n_paths, R): simulated totals over the horizon; ``near_totals``
        (n_paths, R): the same over the first :data:`DEMO_NEAR_STEPS` months (the quarter the
        reports lead with); ``any`` (n_paths, R): whether each path had an event.
    """
    expected = demo_forward_expected(
        demo, horizon, scenario=scenario, boundaries=boundaries, growth=growth
    )
    paths = simulate_demo_forward(
        demo, horizon, n_paths, seed, scenario=scenario, boundaries=boundaries, growth=growth
    )
    totals = paths.sum(axis=1).T.astype(float)
    near = paths[:, : min(DEMO_NEAR_STEPS, horizon)].sum(axis=1).T.astype(float)
    return {"expected": expected, "totals": totals, "near_totals": near, "any": totals > 0}


def demo_forward_expected(
    demo: DemoData,
    horizon: int,
    *,
    scenario: DemoScenario | None = None,
    boundaries: Boundaries | None = None,
    growth: bool = True,
    silenced: Sequence[str] = (),
) -> np.ndarray:
    """Exact expected counts of the demo's stated model continued past its last month.

    The conditional mean is linear in the previous counts, so its expectation given the last
    simulated month follows the recursion without simulation (no Monte Carlo error).

    Parameters
    ----------
    demo : DemoData
        From :func:`simulate_demo`.
    horizon : int
        Months ahead.
    scenario, boundaries, growth
        As for :func:`demo_forward_truth`.
    silenced : sequence of str
        Region ids whose conditional mean is 0 in every month of the horizon, so they have no
        event there; their last simulated month still feeds the first month ahead. This is the
        spillover model's "silenced" scenario
        (:func:`analysis.models.spillover_scenarios.focus_scenarios`, which replaces the focus's
        conditional mean by 0 from the first step on), so the share attributable to a region
        can be computed the same way from the stated model.

    Returns
    -------
    ndarray (region, horizon)
        Expected counts for periods ``end + 1 .. end + horizon``.
    """
    scenario = scenario or DemoScenario()
    boundaries = boundaries or load_boundaries()
    endemic, weights, lam, phi = _demo_forward_parts(demo, horizon, scenario, boundaries, growth)
    ids = list(demo.region_ids)
    unknown = [r for r in silenced if r not in ids]
    if unknown:
        raise ValueError(f"silenced regions are not in the demo: {unknown}")
    quiet = [ids.index(r) for r in silenced]
    # a silenced region's every term is 0, so its mean is, and it feeds nothing forward
    endemic[quiet], lam[quiet], phi[quiet] = 0.0, 0.0, 0.0
    return expected_counts(endemic, lam, phi, weights, initial=demo.counts[:, -1])


def scenario_from_truth(truth: dict) -> DemoScenario:
    """The :class:`DemoScenario` a truth file (:data:`DEMO_TRUTH_FILE`) states.

    JSON has lists where the scenario has tuples; they are turned back, so that the scenario
    equals the one that wrote the file.

    Parameters
    ----------
    truth : dict
        The parsed truth file (``demo_truth.json``), with its ``scenario``.

    Returns
    -------
    DemoScenario
    """
    fields = dict(truth["scenario"])
    for name in ("countries", "growth_years"):
        fields[name] = tuple(fields[name])
    return DemoScenario(**fields)


#: Paths and seed of the stated model's continuation in :func:`demo_truth_summary`: its
#: intervals of totals and its P(at least one event). 4,000 paths put the Monte Carlo standard
#: error of a probability near 0.9 under half a percentage point; the seed makes the methods
#: appendix the same on every render.
DEMO_TRUTH_PATHS, DEMO_TRUTH_SEED = 4000, 0


#: The parts of a truth file that must equal the regenerated demo's before its truths are used:
#: the scenario, the simulated units and months, and the focus's simulated counts.
# every value the demo section reads from the file, so an edited file cannot change a row
_TRUTH_CHECKED = (
    "scenario", "region_ids", "periods", "simulated_focus_counts_by_year", "focus_true_rate_ratio",
)  # fmt: skip


def demo_truth_summary(truth: dict, horizon: int, *, boundaries: Boundaries | None = None) -> dict:
    """The stated model's values that a report on the demo estimates, from its truth file.

    The demo is regenerated from the file's scenario (deterministic for its seed) to continue
    the model past its last month; the file must match the regenerated demo.

    Parameters
    ----------
    truth : dict
        The parsed truth file (:data:`DEMO_TRUTH_FILE`, :func:`write_demo`).
    horizon : int
        Months ahead for the expected total (the study's forecast horizon).
    boundaries : Boundaries, optional
        Defaults to the shipped boundaries (those the demo is simulated on).

    Returns
    -------
    dict
        ``focus`` (region id), ``growth_years`` (a, b), ``growth_factor`` (stated),
        ``expected_ratio`` (ratio of the focus's expected counts in year b to year a, which
        the neighbours' events also feed), ``simulated_counts`` (the focus's simulated counts
        in years a and b), ``autoregressive`` and ``neighbourhood`` (the stated shares),
        ``dispersion`` (the stated NB2 overdispersion),
        ``annual_growth_pct`` (the stated growth of the focus's endemic level, percent a year),
        ``horizon``, ``forward_first`` (``YYYY-MM``, the month after the last simulated one)
        and ``forward_total`` (the focus's expected total over the ``horizon`` months from
        there, given the last simulated month); ``near_steps``, ``forward_near_total`` and
        ``forward_near_totals`` (paths, R) the same over the first :data:`DEMO_NEAR_STEPS`
        months. Per unit of the demo, in the order of
        ``forward_region_ids`` (with their country codes, ``forward_countries``):
        ``forward_expected`` (R,), the exact expected totals over the horizon;
        ``forward_expected_silenced`` (R,), the same with the focus silenced
        (:func:`demo_forward_expected` with ``silenced``); and ``forward_totals``
        (``forward_paths``, R), totals of :data:`DEMO_TRUTH_PATHS` simulated paths
        (:func:`simulate_demo_forward`, seed :data:`DEMO_TRUTH_SEED`), for the stated model's
        own intervals and probabilities of at least one event.

    Raises
    ------
    ValueError
        When the file does not match the demo its scenario regenerates (written by another
        version of this module, or edited).
    """
    scenario = scenario_from_truth(truth)
    boundaries = boundaries or load_boundaries()
    demo = simulate_demo(scenario, boundaries)
    regenerated = json.loads(json.dumps(demo.truth))  # the file's types (lists, str keys)
    differs = [k for k in _TRUTH_CHECKED if regenerated.get(k) != truth.get(k)]
    if differs:
        raise ValueError(
            "the truth file does not match the demo its scenario regenerates "
            f"({', '.join(differs)})"
        )
    focus = demo.region_ids.index(scenario.focus)
    forward = demo_forward_truth(
        demo, horizon, scenario=scenario, boundaries=boundaries, n_paths=DEMO_TRUTH_PATHS,
        seed=DEMO_TRUTH_SEED,
    )  # fmt: skip
    expected = forward["expected"]
    silenced = demo_forward_expected(
        demo, horizon, scenario=scenario, boundaries=boundaries, silenced=[scenario.focus]
    )
    country = boundaries.regions.set_index("region_id")["country"]
    year_a, year_b = scenario.growth_years
    # the regenerated demo's values (the file's were checked equal to them above)
    counts = regenerated["simulated_focus_counts_by_year"]
    return {
        "focus": scenario.focus,
        "growth_years": (year_a, year_b),
        "growth_factor": float(scenario.growth_factor),
        "expected_ratio": float(regenerated["focus_true_rate_ratio"]),
        "simulated_counts": (int(counts[str(year_a)]), int(counts[str(year_b)])),
        "autoregressive": float(scenario.autoregressive),
        "neighbourhood": float(scenario.neighbourhood),
        "dispersion": float(scenario.dispersion),
        "annual_growth_pct": float(demo.truth["focus_true_annual_growth_pct"]),
        "horizon": int(horizon),
        "forward_first": f"{demo.periods[-1] + pd.DateOffset(months=1):%Y-%m}",
        "forward_total": float(expected[focus].sum()),
        "near_steps": min(DEMO_NEAR_STEPS, int(horizon)),
        "forward_near_total": float(expected[focus, :DEMO_NEAR_STEPS].sum()),
        "forward_near_totals": forward["near_totals"],
        "forward_region_ids": list(demo.region_ids),
        "forward_countries": [str(country[r]) for r in demo.region_ids],
        "forward_expected": expected.sum(axis=1),
        "forward_expected_silenced": silenced.sum(axis=1),
        "forward_totals": forward["totals"],
        "forward_paths": DEMO_TRUTH_PATHS,
    }


def _random_points(geometry, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    import shapely

    minx, miny, maxx, maxy = geometry.bounds
    xs, ys = [], []
    while sum(len(x) for x in xs) < n:
        x = rng.uniform(minx, maxx, 4 * n + 16)
        y = rng.uniform(miny, maxy, 4 * n + 16)
        inside = shapely.contains_xy(geometry, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
    return np.concatenate(xs)[:n].round(4), np.concatenate(ys)[:n].round(4)


_EVENT_TYPES = [
    ("Battles", "Armed clash", "Political violence", "Military Forces of {country} (2021-)"),
    ("Violence against civilians", "Attack", "Political violence", "Civilians ({country})"),
    ("Explosions/Remote violence", "Remote explosive/landmine/IED", "Political violence",
     "Military Forces of {country} (2021-)"),
]  # fmt: skip
_OTHER_ACTORS = [
    "Islamic State (Sahel)",
    "Dozo Communal Militia (Mali)",
    "Unidentified Armed Group (Mali)",
]


def _events_from_counts(
    counts: np.ndarray,
    region_ids: list[str],
    periods: pd.DatetimeIndex,
    boundaries: Boundaries,
    rng: np.random.Generator,
    scenario: DemoScenario,
) -> pd.DataFrame:
    info = boundaries.regions.set_index("region_id")
    rows = []
    other = rng.poisson(scenario.other_actor_rate / 10, size=counts.shape)
    mali = np.array([info.loc[r, "country"] == "MLI" for r in region_ids])
    other[~mali] = 0
    for actor_kind, matrix in (("jnim", counts), ("other", other)):
        for i, rid in enumerate(region_ids):
            n_region = int(matrix[i].sum())
            if n_region == 0:
                continue
            lon, lat = _random_points(info.loc[rid, "geometry"], n_region, rng)
            k = 0
            for t in np.flatnonzero(matrix[i]):
                start = periods[t]
                days = start.days_in_month
                for _ in range(int(matrix[i, t])):
                    rows.append(
                        (
                            actor_kind,
                            rid,
                            start + pd.Timedelta(days=int(rng.integers(days))),
                            lon[k],
                            lat[k],
                        )
                    )
                    k += 1
    frame = pd.DataFrame(rows, columns=["kind", "region_id", "date", "longitude", "latitude"])
    frame = frame.sort_values(["date", "region_id", "kind"], kind="stable").reset_index(drop=True)
    n = len(frame)
    type_index = rng.integers(len(_EVENT_TYPES), size=n)
    fatalities = draw_negative_binomial(np.full(n, 2.5), 1.5, rng)
    iso3 = frame["region_id"].map(info["country"])
    country = iso3.map({"MLI": "Mali", "MRT": "Mauritania", "SEN": "Senegal"})
    actor1 = np.where(
        frame["kind"] == "jnim",
        DEMO_ACTOR,
        np.array(_OTHER_ACTORS)[rng.integers(len(_OTHER_ACTORS), size=n)],
    )
    event_type = [_EVENT_TYPES[j][0] for j in type_index]
    actor2 = [
        _EVENT_TYPES[j][3].format(country=c) for j, c in zip(type_index, country, strict=True)
    ]
    admin1 = frame["region_id"].map(info["region_name"])
    dates = frame["date"]
    events = pd.DataFrame(
        {
            "event_id_cnty": [f"{c[:3].upper()}{i + 1:05d}" for i, c in enumerate(iso3)],
            "event_date": dates.dt.strftime("%d %B %Y"),
            "year": dates.dt.year,
            "time_precision": 1,
            "disorder_type": "Political violence",
            "event_type": event_type,
            "sub_event_type": [_EVENT_TYPES[j][1] for j in type_index],
            "actor1": actor1,
            "assoc_actor_1": "",
            "inter1": np.where(frame["kind"] == "jnim", 2, 3),
            "actor2": actor2,
            "assoc_actor_2": "",
            "inter2": [1 if j != 1 else 7 for j in type_index],
            "interaction": [12 if j != 1 else 27 for j in type_index],
            "civilian_targeting": ["Civilian targeting" if j == 1 else "" for j in type_index],
            "iso": iso3.map(ACLED_ISO_NUMERIC),
            "region": "Western Africa",
            "country": country,
            "admin1": admin1,
            "admin2": "",
            "admin3": "",
            "location": admin1 + " (synthetic)",
            "latitude": frame["latitude"],
            "longitude": frame["longitude"],
            "geo_precision": 1,
            "source": "conflict-trends synthetic demo",
            "source_scale": "Other",
            "notes": [
                f"SYNTHETIC EVENT. On {d:%d %B %Y}, a simulated {t.lower()} event in {a}."
                for d, t, a in zip(dates, event_type, admin1, strict=True)
            ],
            "fatalities": fatalities,
            "tags": "",
            "timestamp": (
                (dates - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1) + 86400 * 30
            ).astype("int64"),
        }
    )
    return events[ACLED_COLUMNS]


def write_demo(out_dir: str | Path, scenario: DemoScenario | None = None) -> dict[str, Path]:
    """Write the demo events (ACLED CSV) and their truth (JSON) to ``out_dir``.

    Existing files are left alone when their content is what this scenario produces, so a rerun
    never rewrites raw data; a different existing file is an error rather than overwritten.

    Parameters
    ----------
    out_dir : str or Path
        The folder; ``demo_acled.csv`` and :data:`DEMO_TRUTH_FILE` are written there.
    scenario : DemoScenario, optional
        Defaults to the founding case (:class:`DemoScenario`).

    Returns
    -------
    dict
        ``events`` and ``truth`` paths.

    Raises
    ------
    FileExistsError
        When a file there holds other content.
    """
    out_dir = Path(out_dir)
    demo = simulate_demo(scenario)
    events_path = out_dir / "demo_acled.csv"
    truth_path = out_dir / DEMO_TRUTH_FILE
    csv_bytes = demo.events.to_csv(index=False, lineterminator="\n").encode("utf-8")
    truth_text = json.dumps(demo.truth, indent=2) + "\n"
    import hashlib

    files = ((events_path, csv_bytes), (truth_path, truth_text.encode()))
    # both are checked before either is written: events written beside another run's truth
    # would be a pair that does not belong together
    for path, content in files:
        if path.exists() and sha256_file(path) != hashlib.sha256(content).hexdigest():
            raise FileExistsError(
                f"{path} exists with other content; raw data is never overwritten. "
                "Move it away to regenerate the demo."
            )
    for path, content in files:
        if not path.exists():
            atomic_write_bytes(path, content)
    return {"events": events_path, "truth": truth_path}


# --------------------------------------------------------------------------------------------
# Overdispersed series with known growth (ground truth for analysis.growth)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrowthSeries:
    """Simulated monthly NB2 counts with their true means and growth parameters.

    ``true_ratio`` is the ratio of the mean rate in window B to window A (when two windows were
    simulated); ``true_growth_pct`` the annual growth of the log-linear trend; ``true_break`` the
    period where the slope changes (or None).
    """

    counts: np.ndarray
    means: np.ndarray
    periods: pd.DatetimeIndex
    dispersion: float
    true_ratio: float | None = None
    true_growth_pct: float | None = None
    true_break: pd.Timestamp | None = None


def simulate_two_windows(
    rate_a: float,
    ratio: float,
    dispersion: float,
    rng: np.random.Generator,
    *,
    periods_a: int = 12,
    periods_b: int = 12,
) -> tuple[np.ndarray, np.ndarray]:
    """NB2 counts for two windows with constant means ``rate_a`` and ``ratio * rate_a``.

    Parameters
    ----------
    rate_a : float
        Mean count per period of the first window.
    ratio : float
        The second window's mean over the first's.
    dispersion : float
        NB2 alpha (``Var = mu + alpha mu^2``); 0 gives Poisson counts.
    rng : numpy.random.Generator
    periods_a, periods_b : int, optional
        Periods in each window; 12 by default.

    Returns
    -------
    (counts_a, counts_b) : tuple of ndarray
        The true rate ratio is ``ratio`` whatever the window lengths.
    """
    a = draw_negative_binomial(np.full(periods_a, rate_a), dispersion, rng)
    b = draw_negative_binomial(np.full(periods_b, rate_a * ratio), dispersion, rng)
    return a, b


def simulate_growth_series(
    start_rate: float,
    annual_growth_pct: float,
    dispersion: float,
    rng: np.random.Generator,
    *,
    n_periods: int = 48,
    start: str = "2021-01",
    break_at: int | None = None,
    growth_after_pct: float | None = None,
) -> GrowthSeries:
    """Monthly NB2 counts around a log-linear trend, optionally with a slope change.

    Parameters
    ----------
    start_rate : float
        Mean of the first month.
    annual_growth_pct : float
        Growth per year in percent (before the break, if any).
    dispersion : float
        NB2 alpha (``Var = mu + alpha mu^2``); 0 gives Poisson counts.
    rng : numpy.random.Generator
    n_periods : int
        Number of months.
    start : str
        First month, ``YYYY-MM``.
    break_at : int, optional
        Index of the first month of the new slope (continuous hinge).
    growth_after_pct : float, optional
        Annual growth after the break.

    Returns
    -------
    GrowthSeries
    """
    periods = pd.date_range(pd.Timestamp(f"{start}-01"), periods=n_periods, freq="MS")
    t = np.arange(n_periods) / 12.0
    slope = np.log1p(annual_growth_pct / 100)
    log_mu = np.log(start_rate) + slope * t
    true_break = None
    if break_at is not None:
        if growth_after_pct is None:
            raise ValueError("expected growth_after_pct together with break_at")
        extra = np.log1p(growth_after_pct / 100) - slope
        log_mu = log_mu + extra * np.clip(t - t[break_at], 0, None)
        true_break = periods[break_at]
    means = np.exp(log_mu)
    counts = draw_negative_binomial(means, dispersion, rng)
    return GrowthSeries(
        counts=np.asarray(counts),
        means=means,
        periods=periods,
        dispersion=dispersion,
        true_growth_pct=annual_growth_pct if break_at is None else None,
        true_break=true_break,
    )


def conditional_dispersion(level: float, dispersion: float, own_lag: float) -> float:
    """Conditional NB2 alpha of an INARCH(1) whose stationary counts have marginal ``dispersion``.

    See :func:`simulate_ownlag_series`; 0 when Poisson innovations already exceed it.

    Parameters
    ----------
    level : float
        Expected count per period.
    dispersion : float
        Marginal NB2 alpha of the counts at ``level``.
    own_lag : float
        Share of last period's count carried into this period's mean, in ``[0, 1)``.

    Returns
    -------
    float
        The conditional alpha, at least 0.
    """
    var = level + dispersion * level**2
    return float(max((var * (1 - own_lag**2) - level) / (level**2 + var * own_lag**2), 0.0))


def inarch_counts(
    endemic: np.ndarray,
    own_lag: float,
    alpha_c: float,
    rng: np.random.Generator,
    *,
    first_previous: float,
) -> np.ndarray:
    """Counts of an INARCH(1) path: ``y[t] ~ NB2(endemic[t] + own_lag * y[t-1], alpha_c)``.

    Parameters
    ----------
    endemic : ndarray
        Endemic part of the conditional mean, one value per period.
    own_lag : float
        Share of the previous count carried into the mean.
    alpha_c : float
        Conditional NB2 dispersion (0: Poisson).
    rng : numpy.random.Generator
    first_previous : float
        Stands in for the count before the first period (usually its expected count).

    Returns
    -------
    ndarray of int64
    """
    counts = np.zeros(len(endemic), dtype=np.int64)
    previous = float(first_previous)
    for t in range(len(endemic)):
        counts[t] = draw_negative_binomial(endemic[t] + own_lag * previous, alpha_c, rng)
        previous = float(counts[t])
    return counts


def simulate_ownlag_series(
    level: float,
    annual_growth_pct: float,
    own_lag: float,
    dispersion: float,
    rng: np.random.Generator,
    *,
    n_periods: int = 48,
    start: str = "2021-01",
    burn_in: int = 100,
) -> GrowthSeries:
    """Monthly counts that depend on last month's: an NB autoregression around a trend.

    ``y[t] ~ NB2(mean nu[t] + own_lag * y[t-1], alpha_c)`` (a single-region endemic-epidemic
    model, INARCH(1)). The endemic part is ``nu[t] = m[t] (1 - own_lag exp(-b / 12))`` with
    ``m[t] = level exp(b (t - t_mid))``, so the *expected* count is exactly ``m[t]``: the series
    grows by ``annual_growth_pct`` a year and the lag-``k`` autocorrelation is ``own_lag ** k``.
    The process runs ``burn_in`` months before the first returned one, so it starts in its
    stationary regime.

    ``dispersion`` is the *marginal* overdispersion of the counts at ``level``
    (``Var y = m + dispersion m^2``, what an NB fit that ignores the dependence estimates). The
    conditional ``alpha_c`` that gives it solves
    ``Var y = (m + alpha_c m^2) / (1 - own_lag^2 (1 + alpha_c))`` (stationary INARCH(1)
    moments); when even Poisson innovations give more (a sparse, strongly dependent series),
    ``alpha_c = 0`` and the marginal overdispersion is ``own_lag^2 / ((1 - own_lag^2) m)``.
    Fixing the conditional dispersion instead would give series without a finite variance
    (``own_lag^2 (1 + alpha_c) >= 1``, e.g. 0.8 and 2), for which no interval can be calibrated.

    Parameters
    ----------
    level : float
        Expected count per month in the middle of the series.
    annual_growth_pct : float
        True growth of the expected count, percent a year (0: stationary).
    own_lag : float
        Share of last month's count carried into this month's mean, in ``[0, 1)``.
    dispersion : float
        Marginal NB2 alpha of the counts at ``level`` (see above).
    rng : numpy.random.Generator
    n_periods : int
        Months returned.
    start : str
        First month, ``YYYY-MM``.
    burn_in : int
        Months simulated and dropped before the first.

    Returns
    -------
    GrowthSeries
        ``means`` are the expected (not conditional) counts; ``dispersion`` is the conditional
        ``alpha_c`` used; ``true_ratio`` is the ratio of the expected totals of the second half
        to the first half (``n_periods`` even) and ``true_growth_pct`` the growth of the
        expected count.
    """
    if not 0 <= own_lag < 1:
        raise ValueError(f"expected 0 <= own_lag < 1, got {own_lag}")
    periods = pd.date_range(pd.Timestamp(f"{start}-01"), periods=n_periods, freq="MS")
    b = np.log1p(annual_growth_pct / 100)
    months = np.arange(-burn_in, n_periods, dtype=float)
    expected = level * np.exp(b * (months - (n_periods - 1) / 2) / 12)
    endemic = expected * (1 - own_lag * np.exp(-b / 12))
    alpha_c = conditional_dispersion(level, dispersion, own_lag)
    counts = inarch_counts(endemic, own_lag, alpha_c, rng, first_previous=expected[0])
    means = expected[burn_in:]
    half = n_periods // 2
    return GrowthSeries(
        counts=counts[burn_in:],
        means=means,
        periods=periods,
        dispersion=alpha_c,
        true_ratio=float(means[n_periods - half :].sum() / means[:half].sum()),
        true_growth_pct=float(annual_growth_pct),
    )


def simulate_hhh4_counts(
    orders: np.ndarray,
    cross_border: np.ndarray,
    n_periods: int,
    *,
    intercept: float,
    trend: float,
    log_lambda: float,
    log_phi: float,
    cross_border_effect: float = 0.0,
    decay: float | None = 1.5,
    max_order: int = 5,
    dispersion: float = 0.5,
    periods_per_year: int = 12,
    burn_in: int = 50,
    seed: int = 0,
) -> np.ndarray:
    """Counts from the spillover model of ``analysis.models.hhh4`` with known parameters.

    Built on :func:`simulate_endemic_epidemic` (independent of the model's own simulator), for
    recovery tests: ``log nu_t = intercept + trend * (t - (n_periods - 1)) / periods_per_year``,
    ``lambda = exp(log_lambda)``, neighbour weights from ``q`` to ``r`` proportional to
    ``order ** -decay`` up to ``max_order`` (first-order only when ``decay`` is None), times
    ``exp(cross_border_effect)`` across borders, then normalised over each source, times
    ``exp(log_phi)``.

    Parameters
    ----------
    orders : numpy.ndarray (regions, regions)
        Adjacency orders between the regions (1 for a shared border).
    cross_border : numpy.ndarray (regions, regions)
        1 (or True) where two regions lie in different countries.
    n_periods : int
        Periods returned.
    intercept : float
        Log endemic mean at the last period.
    trend : float
        Change of the log endemic mean per year.
    log_lambda : float
        Log of the own-lag coefficient.
    log_phi : float
        Log of the neighbourhood coefficient.
    cross_border_effect : float, optional
        Log multiplier of the raw weights across borders; 0 by default.
    decay : float or None, optional
        Power-law decay of the weights with order; 1.5 by default.
    max_order : int, optional
        Highest order with a weight; 5 by default.
    dispersion : float, optional
        NB2 alpha; 0.5 by default.
    periods_per_year : int, optional
        12 (the default) for months, 4 for quarters.
    burn_in : int, optional
        Periods simulated before the first returned, at the first period's level; 50 by default.
    seed : int, optional
        0 by default.

    Returns
    -------
    ndarray of int64, shape (regions, n_periods)
    """
    rng = np.random.default_rng(seed)
    o = np.asarray(orders, dtype=float)
    if decay is None:
        raw = (o == 1).astype(float)
    else:
        ok = (o >= 1) & (o <= max_order)
        raw = np.where(ok, np.where(ok, o, 1.0) ** (-decay), 0.0)
    # the cross-border multiplier acts on the raw weights, then each source is normalised
    raw = raw * np.exp(cross_border_effect * np.asarray(cross_border, dtype=float))
    total = raw.sum(axis=1, keepdims=True)
    from_q_to_r = np.divide(raw, total, out=np.zeros_like(raw), where=total > 0)
    n_regions = o.shape[0]
    t = np.arange(-burn_in, n_periods, dtype=float)
    # Burn-in periods (t < 0) run at the level of period 0 so the panel starts near stationarity.
    level = intercept + trend * (np.clip(t, 0, None) - (n_periods - 1)) / periods_per_year
    endemic = np.tile(np.exp(level), (n_regions, 1))
    counts, _ = simulate_endemic_epidemic(
        endemic,
        np.full(n_regions, np.exp(log_lambda)),
        np.full(n_regions, np.exp(log_phi)),
        from_q_to_r.T,
        dispersion,
        rng,
    )
    return counts[:, burn_in:]


@dataclass(frozen=True)
class KnownSpilloverPanel:
    """A monthly panel on real admin-1 geography simulated from known spillover parameters
    (:func:`known_spillover_panel`): the truth that interval coverage is checked against.

    Attributes
    ----------
    counts : ndarray (regions, periods)
    region_ids : tuple of str
    periods : DatetimeIndex
    order, cross : ndarray (regions, regions)
        Adjacency order and cross-border indicator
        (:func:`analysis.models.spillover.geography_matrices`).
    countries : ndarray of str
    groups : ndarray of str
        Each region's endemic group: its country or itself.
    truth : dict
        hhh4 parameter name -> true value.
    """

    counts: np.ndarray
    region_ids: tuple[str, ...]
    periods: pd.DatetimeIndex
    order: np.ndarray
    cross: np.ndarray
    countries: np.ndarray
    groups: np.ndarray
    truth: dict[str, float]

    def at_truth(self, fit: Any) -> Any:
        """``fit`` (an :class:`analysis.models.hhh4.HHH4Fit` of this panel) with its parameters
        set to the true ones (0 for a term the truth does not have).

        Parameters
        ----------
        fit : HHH4Fit

        Returns
        -------
        HHH4Fit
        """
        from dataclasses import replace

        return replace(fit, params=np.array([self.truth.get(n, 0.0) for n in fit.names]))


def known_spillover_panel(
    boundaries: Boundaries,
    seed: int,
    *,
    effects: str = "country",
    countries: Sequence[str] = ("MLI", "MRT", "SEN"),
    n_periods: int = 96,
) -> KnownSpilloverPanel:
    """Simulate an endemic-epidemic panel with known parameters on real geography.

    Endemic level 0.3 a month per region shifted by a N(0, 1) effect per country
    (``effects="country"``) or per region (``"region"``), own-lag share 0.3, neighbour weight
    0.4 with power-law decay 2 over adjacency orders and a cross-border factor exp(-0.3),
    negative-binomial overdispersion 0.5, no trend; simulated by
    :func:`analysis.models.hhh4.simulate_hhh4`. The panels of the spillover model's coverage
    tests and ``benchmarks/spillover_intervals.py``.

    Parameters
    ----------
    boundaries : Boundaries
    seed : int
        Draws the effects (``default_rng(seed)``) and the counts (seed ``100 + seed``).
    effects : {"country", "region"}
    countries : sequence of str
        ISO3 codes of the countries whose admin-1 units form the panel.
    n_periods : int
        Months, from 2017-01.

    Returns
    -------
    KnownSpilloverPanel
    """
    from analysis.models import hhh4
    from analysis.models.spillover import geography_matrices

    if effects not in ("country", "region"):
        raise ValueError(f"effects must be 'country' or 'region', got {effects!r}")
    ids = list(boundaries.regions_of(list(countries))["region_id"])
    order, cross, ctry = geography_matrices(ids, boundaries)
    labels = list(countries) if effects == "country" else ids
    shifts = np.random.default_rng(seed).normal(0, 1, len(labels))
    truth = {
        "end.intercept": np.log(0.3), "ar.log_lambda": np.log(0.3), "ne.log_phi": np.log(0.4),
        "ne.cross_border": -0.3, "ne.log_d": np.log(2.0), "log_psi": np.log(0.5),
        **{f"end.group[{g}]": float(v) for g, v in zip(labels, shifts, strict=True)},
    }  # fmt: skip
    groups = np.asarray(ctry if effects == "country" else ids)
    spec = hhh4.HHH4Spec(trend=False, activity_window=0, group_sd=1.0)
    counts = hhh4.simulate_hhh4(
        truth, order, cross, n_periods=n_periods, groups=groups, spec=spec, seed=100 + seed
    )
    return KnownSpilloverPanel(
        counts=counts,
        region_ids=tuple(ids),
        periods=pd.date_range("2017-01-01", periods=n_periods, freq="MS"),
        order=order,
        cross=cross,
        countries=np.asarray(ctry),
        groups=groups,
        truth=truth,
    )


@dataclass(frozen=True)
class NBPanelTruth:
    """Counts of independent NB2 regions with known means (for forecast calibration tests)."""

    counts: np.ndarray  # (regions, periods) int64
    means: np.ndarray  # (regions, periods) true expected counts
    periods: pd.DatetimeIndex
    region_ids: tuple[str, ...]
    dispersion: float


def simulate_nb_panel(
    n_regions: int,
    n_periods: int,
    *,
    level_mean: float = 0.0,
    level_sd: float = 1.0,
    season_amplitude: float = 0.0,
    dispersion: float = 0.5,
    start: str = "2010-01-01",
    seed: int = 0,
) -> NBPanelTruth:
    """Monthly NB2 counts, ``log mu[r, t] = level_r + amplitude * sin(2 pi (month - 1) / 12)``,
    ``level_r ~ N(level_mean, level_sd)``, independent over regions and months.

    The pooled NB model and NB climatology (without season) are correctly specified for it.

    Parameters
    ----------
    n_regions, n_periods : int
        Regions (``SY-1``, ``SY-2``, ...) and months.
    level_mean, level_sd : float, optional
        Mean (0) and standard deviation (1) of the regions' log levels.
    season_amplitude : float, optional
        Amplitude of the seasonal term on the log scale; 0 (none) by default.
    dispersion : float, optional
        NB2 alpha (gamma-Poisson mixing); 0 gives Poisson counts; 0.5 by default.
    start : str, optional
        First month's date; ``"2010-01-01"`` by default.
    seed : int, optional
        0 by default.

    Returns
    -------
    NBPanelTruth
        Counts with their true means, periods, region ids and dispersion.
    """
    rng = np.random.default_rng(seed)
    periods = pd.date_range(start, periods=n_periods, freq="MS")
    level = rng.normal(level_mean, level_sd, n_regions)
    season = season_amplitude * np.sin(2 * np.pi * (np.asarray(periods.month) - 1) / 12)
    means = np.exp(level[:, None] + season[None, :])
    if dispersion > 0:
        lam = means * rng.gamma(1 / dispersion, dispersion, size=means.shape)
    else:
        lam = means
    counts = rng.poisson(lam).astype(np.int64)
    ids = tuple(f"SY-{i + 1}" for i in range(n_regions))
    return NBPanelTruth(counts, means, periods, ids, dispersion)


def main(argv: list[str] | None = None) -> int:
    """``python -m analysis.simulate [OUT_DIR]``: write the demo data (default data/raw/demo).

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program's name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        The exit code, 0; the paths written are printed as JSON.
    """
    import sys

    from analysis.config import DATA_RAW

    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else DATA_RAW / "demo"
    paths = write_demo(out)
    print(json.dumps({k: str(v) for k, v in paths.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def synthetic_panel(counts: np.ndarray, start: str = "2012-01-01") -> pd.DataFrame:
    """A monthly panel (docs/internals.md) of simulated counts for regions ``ZZ-1``, ``ZZ-2``, ...

    For tests and benchmarks on synthetic regions that are not in any boundary file; their
    country is :data:`analysis.panel.SYNTHETIC_COUNTRY`.

    Parameters
    ----------
    counts : numpy.ndarray (regions, months)
        Event counts.
    start : str, optional
        First month's date; ``"2012-01-01"`` by default.

    Returns
    -------
    pandas.DataFrame
        A panel as :func:`analysis.panel.from_matrix` makes it.
    """
    counts = np.asarray(counts)
    ids = [f"ZZ-{i + 1}" for i in range(counts.shape[0])]
    return from_matrix(counts, ids, pd.date_range(start, periods=counts.shape[1], freq="MS"))
