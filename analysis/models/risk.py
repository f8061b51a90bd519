"""What a report reads from one model's sample paths: totals, P(any event), per region and
country, over the whole horizon.

Every number comes from summing or scanning the same joint paths
(:class:`~analysis.models.forecast.ForecastResult`), so a region's expected total, its
interval, its P(at least one event) and its country's P(any event in any unit) agree with the
monthly forecast table by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.formatting import format_probability
from analysis.models.forecast import ForecastResult


@dataclass(frozen=True)
class PathRisk:
    """Horizon totals and P(any) of one forecast.

    Attributes
    ----------
    regions : DataFrame
        ``region_id, region_name, country, expected, median, expected_low, expected_high,
        p_any, p_any_se`` (totals over steps 1..horizon; interval central ``level``;
        ``p_any_se`` the Monte Carlo standard error of ``p_any``).
    countries : DataFrame
        ``country, p_any, p_any_se``: at least one event in any unit of the country.
    model : str
    horizon : int
    origin : Timestamp
    level : float
    n_samples : int
    """

    regions: pd.DataFrame
    countries: pd.DataFrame
    model: str
    horizon: int
    origin: pd.Timestamp
    level: float
    n_samples: int

    def sentence(self, targets: Sequence[str] | None = None) -> str:
        """P(at least one event in any unit) of each target country, in one sentence."""
        c = self.countries
        if targets:
            c = c[c["country"].isin(list(targets))]
        if c.empty:
            return "No target countries in the panel."
        # simulated probabilities of 0 or 1 mean "beyond what the paths resolve", not certainty
        parts = [f"{r.country} {format_probability(r.p_any)}" for r in c.itertuples()]
        return (
            f"Probability of at least one event in any admin-1 unit within {self.horizon} "
            f"periods after {self.origin:%Y-%m} ({self.model} model): " + "; ".join(parts) + "."
        )


def path_risk(
    fc: ForecastResult,
    region_names: Sequence[str] | None = None,
    countries: Sequence[str] | None = None,
    level: float = 0.9,
) -> PathRisk:
    """Summarise the paths of ``fc`` over its whole horizon.

    Parameters
    ----------
    fc : ForecastResult
    region_names, countries : sequence of str, optional
        Per region of ``fc`` (default: the ids, and the ISO 3166-2 prefix).
    level : float
        Central interval of the totals.

    Returns
    -------
    PathRisk
    """
    ids = list(fc.region_ids)
    names = list(region_names) if region_names is not None else ids
    ctry = np.asarray(
        list(countries) if countries is not None else [r.split("-")[0] for r in ids], dtype=object
    )
    tot = fc.totals()  # (R, M)
    M = tot.shape[1]
    a = (1 - level) / 2
    q = np.quantile(tot, [a, 0.5, 1 - a], axis=1, method="inverted_cdf")
    p = (tot > 0).mean(axis=1)
    regions = pd.DataFrame(
        {
            "region_id": ids,
            "region_name": names,
            "country": ctry,
            "expected": tot.mean(axis=1),
            "median": q[1],
            "expected_low": q[0],
            "expected_high": q[2],
            "p_any": p,
            "p_any_se": np.sqrt(p * (1 - p) / M),
        }
    )
    uniq = sorted(set(ctry))
    pc = np.array([(tot[ctry == c] > 0).any(axis=0).mean() for c in uniq])
    ctab = pd.DataFrame({"country": uniq, "p_any": pc, "p_any_se": np.sqrt(pc * (1 - pc) / M)})
    return PathRisk(regions, ctab, fc.model, fc.horizon, fc.origin, level, M)
