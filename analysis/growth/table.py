"""Growth of regions of a panel: one result per region and comparison, the study table
and its single Benjamini-Hochberg adjustment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.growth.changepoint import ChangePointResult, change_point
from analysis.growth.ratio import RateRatioResult, rate_ratio
from analysis.growth.trends import TrendResult, trend
from analysis.periods import Window, misaligned_with_quarters, parse_window


def region_series(panel: pd.DataFrame, region_id: str) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Counts and periods of one region of a panel (contract in docs/internals.md).

    Parameters
    ----------
    panel : pandas.DataFrame
        Panel with ``region_id``, ``period`` and ``events``.
    region_id : str

    Returns
    -------
    counts : numpy.ndarray of float
        Events per period, in period order.
    periods : pandas.DatetimeIndex

    Raises
    ------
    InputError
        When the panel lacks the contract columns or the region.
    """
    missing = {"region_id", "period", "events"} - set(panel.columns)
    if missing:
        raise InputError(f"expected a panel with columns {sorted(missing)}")
    rows = panel[panel["region_id"] == region_id]
    if rows.empty:
        raise InputError(f"region {region_id!r} is not in the panel")
    rows = rows.sort_values("period")
    return rows["events"].to_numpy(dtype=float), pd.DatetimeIndex(rows["period"])


def _window_counts(y, idx, window: Window, freq: str | None) -> np.ndarray:
    first, last = idx[0], idx[-1]
    step = pd.DateOffset(months=3 if freq == "quarter" else 1)
    covered_end = last + step
    if window.start < first or window.end > covered_end:
        raise InputError(
            f"period {window.label} ({window.start:%Y-%m} to "
            f"{window.end - pd.DateOffset(days=1):%Y-%m}) is outside the panel window "
            f"{first:%Y-%m}..{last:%Y-%m}"
        )
    mask = (idx >= window.start) & (idx < window.end)
    if freq == "quarter" and misaligned_with_quarters(window):
        raise InputError(
            f"period {window.label} does not align with quarters: use years or quarters "
            "with a quarterly panel"
        )
    if not mask.any():
        raise InputError(f"period {window.label} contains no panel periods")
    return y[mask]


@dataclass(frozen=True)
class GrowthResult:
    """Rate ratio, trend and change point for one region and one comparison."""

    region_id: str
    region_name: str
    ratio: RateRatioResult
    trend: TrendResult
    change: ChangePointResult
    notes: tuple[str, ...] = field(default_factory=tuple)
    freq: str = "month"

    def to_row(self) -> dict:
        """The row of :func:`growth_table` (JSON keys of the ``growth`` command first)."""
        r, tr, cp = self.ratio, self.trend, self.change
        return {
            "region_id": self.region_id,
            "region_name": self.region_name,
            "period_a": r.period_a,
            "period_b": r.period_b,
            "count_a": r.count_a,
            "count_b": r.count_b,
            "ratio": r.ratio,
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
            "nb_ci_low": r.nb_ci_low,
            "nb_ci_high": r.nb_ci_high,
            "headline_ci_low": r.headline_low,
            "headline_ci_high": r.headline_high,
            "interval_method": r.headline_method,
            "p_value": r.p_value,
            "annual_growth_pct": tr.growth_pct,
            "annual_growth_ci": [tr.growth_ci[0], tr.growth_ci[1]],
            "doubling_time_months": tr.doubling_months,
            "change_point": cp.label if cp.significant else None,
            # extras for reports (not part of the command's JSON)
            "hac_ci_low": r.hac_ci_low,
            "hac_ci_high": r.hac_ci_high,
            "ar1_ci_low": r.ar1_ci_low,
            "ar1_ci_high": r.ar1_ci_high,
            "inarch_ci_low": r.inarch_ci_low,
            "inarch_ci_high": r.inarch_ci_high,
            "inarch_own_lag": r.inarch_own_lag,
            "own_lag": r.own_lag,
            "hac_bandwidth": r.hac_bandwidth,
            "dep_p_value": r.dep_p_value,
            "annual_growth_ci_independent": list(tr.growth_ci_independent),
            "annual_growth_ci_hac": list(tr.growth_ci_hac),
            "annual_growth_ci_ar1": list(tr.growth_ci_ar1),
            "annual_growth_ci_inarch": list(tr.growth_ci_inarch),
            "trend_own_lag": tr.own_lag,
            "exposure_a": r.exposure_a,
            "exposure_b": r.exposure_b,
            "midp_low": r.midp_low,
            "midp_high": r.midp_high,
            "exact_p_value": r.exact_p_value,
            "nb_p_value": r.nb_p_value,
            "one_sided": r.one_sided,
            "nb_alpha": r.nb_alpha,
            "trend_p_value": tr.p_value,
            "doubling_ci": [tr.doubling_ci[0], tr.doubling_ci[1]],
            "change_point_best": cp.label,
            "change_point_p_value": cp.p_value,
            "change_point_set": (
                [cp.confidence_set[0].strftime("%Y-%m"), cp.confidence_set[-1].strftime("%Y-%m")]
                if len(cp.confidence_set)
                else None
            ),
            "conf_level": r.conf_level,
            "freq": self.freq,
            "note": "; ".join(n for n in (r.note, tr.note, cp.note, *self.notes) if n),
        }


JSON_KEYS = (
    "region_id",
    "region_name",
    "period_a",
    "period_b",
    "count_a",
    "count_b",
    "ratio",
    "ci_low",
    "ci_high",
    "nb_ci_low",
    "nb_ci_high",
    "headline_ci_low",
    "headline_ci_high",
    "interval_method",
    "p_value",
    "annual_growth_pct",
    "annual_growth_ci",
    "doubling_time_months",
    "change_point",
)


def growth(
    panel: pd.DataFrame,
    region_id: str,
    period_a: str | int,
    period_b: str | int,
    *,
    alpha: float = 0.05,
    seasonal: bool = False,
    min_segment: int = 6,
) -> GrowthResult:
    """Rate ratio of B to A, trend and change point over ``[start of A, end of B)`` for a region.

    Parameters
    ----------
    panel : DataFrame
        Panel as in docs/internals.md (``attrs['freq']`` month or quarter).
    region_id : str
    period_a, period_b : str or int
        Windows, see :func:`parse_window`.
    alpha : float
    seasonal : bool
        Seasonal effects in the trend.
    min_segment : int
        Minimum segment length in months of the change-point scan (converted to quarters,
        at least 2, for quarterly panels).

    Returns
    -------
    GrowthResult
    """
    freq = panel.attrs.get("freq", "month")
    y, idx = region_series(panel, region_id)
    wa, wb = parse_window(period_a), parse_window(period_b)
    ya = _window_counts(y, idx, wa, freq)
    yb = _window_counts(y, idx, wb, freq)
    rr = rate_ratio(ya, yb, period_a=wa.label, period_b=wb.label, alpha=alpha)
    lo, hi = min(wa.start, wb.start), max(wa.end, wb.end)
    mask = (idx >= lo) & (idx < hi)
    tr = trend(y[mask], idx[mask], seasonal=seasonal, alpha=alpha)
    seg = min_segment if freq == "month" else max(2, min_segment // 3)
    cp = change_point(y[mask], idx[mask], min_segment=seg, alpha=alpha)
    name = region_id
    if "region_name" in panel.columns:
        names = panel.loc[panel["region_id"] == region_id, "region_name"]
        if len(names):
            name = str(names.iloc[0])
    return GrowthResult(region_id, name, rr, tr, cp, freq=freq)


def growth_table(
    panel: pd.DataFrame,
    region_ids: Sequence[str] | None,
    compare: Sequence[Sequence[str | int]],
    *,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Growth of every region x comparison as a tidy table with BH-adjusted p-values.

    Multiplicity is handled once for the whole table: one Benjamini-Hochberg adjustment over
    every rate-ratio test *and* every change-point test in it (all regions, all comparisons).
    Compute the table once per study (:func:`analysis.report.context.growth`) and filter it,
    so that a region's adjusted p-value is the same number in every report.

    Parameters
    ----------
    panel : DataFrame
        Panel as in docs/internals.md.
    region_ids : sequence of str, optional
        Regions to include; None means every region in the panel.
    compare : sequence of (a, b)
        Window pairs, e.g. ``[(2021, 2024)]``.
    alpha : float
        1 - confidence level, and the false discovery rate of the change-point flags.

    Returns
    -------
    DataFrame
        One row per region and comparison: the ``growth`` command's JSON keys (see
        :data:`JSON_KEYS`), then extras, including ``p_value_bh`` (the ratio test's adjusted
        p-value), ``change_point_p_bh`` (the change point's), ``bh_family_size`` (number of
        tests adjusted together) and ``note``. ``change_point`` is set only where the adjusted
        change-point p-value is below ``alpha``.
    """
    return bh_adjust(growth_rows(panel, region_ids, compare, alpha=alpha), alpha=alpha)


def growth_rows(
    panel: pd.DataFrame,
    region_ids: Sequence[str] | None,
    compare: Sequence[Sequence[str | int]],
    *,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """The rows of :func:`growth_table` before any multiplicity adjustment.

    Parameters
    ----------
    panel, region_ids, compare, alpha
        As for :func:`growth_table`.

    Returns
    -------
    pandas.DataFrame
        One row per region and comparison, without the adjusted p-values.

    Raises
    ------
    InputError
        When ``compare`` is empty.
    """
    return _growth_frame(growth_results(panel, region_ids, compare, alpha=alpha))


def growth_results(
    panel: pd.DataFrame,
    region_ids: Sequence[str] | None,
    compare: Sequence[Sequence[str | int]],
    *,
    alpha: float = 0.05,
) -> list[GrowthResult]:
    """:func:`growth` for every comparison (outer) and region (inner).

    Parameters
    ----------
    panel : pandas.DataFrame
        Panel as in docs/internals.md.
    region_ids : sequence of str, optional
        Regions to include; None means every region in the panel (in order of appearance).
    compare : sequence of (a, b)
        Window pairs, e.g. ``[(2021, 2024)]``.
    alpha : float, optional
        1 - confidence level; 0.05 by default.

    Returns
    -------
    list of GrowthResult

    Raises
    ------
    InputError
        When ``compare`` is empty.
    """
    if not compare:
        raise InputError("expected at least one comparison [period_a, period_b], e.g. [2021, 2024]")
    if region_ids is None:
        region_ids = list(pd.unique(panel["region_id"]))
    return [growth(panel, rid, a, b, alpha=alpha) for a, b in compare for rid in region_ids]


def _growth_frame(results: Sequence[GrowthResult]) -> pd.DataFrame:
    return pd.DataFrame([r.to_row() for r in results])


def bh_adjust(table: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """One Benjamini-Hochberg adjustment over a growth table's ratio and change-point p-values.

    Parameters
    ----------
    table : DataFrame
        Rows of :func:`growth_rows` (any regions and comparisons).
    alpha : float
        False discovery rate for the ``change_point`` flag.

    Returns
    -------
    DataFrame
        A copy with ``p_value_bh``, ``change_point_p_bh``, ``bh_family_size`` and the
        ``change_point`` flag recomputed from the adjusted change-point p-values. Comparisons
        without an event in either window are not tests: they are left out of the family and
        their ``p_value_bh`` is NaN.
    """
    from statsmodels.stats.multitest import multipletests

    table = table.copy()
    ratio_p = table["p_value"].to_numpy(dtype=float).copy()
    # No event in either window: nothing is tested (the ratio is undefined and its p-value a
    # placeholder 1), so it stays out of the family instead of diluting every other test's
    # adjustment (20 of the demo study's 36 comparisons).
    untestable = (
        table["count_a"].to_numpy(dtype=float) + table["count_b"].to_numpy(dtype=float)
    ) == 0
    ratio_p[untestable] = np.nan
    cp_p = table["change_point_p_value"].to_numpy(dtype=float)
    pooled = np.concatenate([ratio_p, cp_p])
    ok = np.isfinite(pooled)
    adjusted = np.full(pooled.size, np.nan)
    if ok.any():
        adjusted[ok] = multipletests(pooled[ok], method="fdr_bh")[1]
    n = len(table)
    table["p_value_bh"] = adjusted[:n]
    table["change_point_p_bh"] = adjusted[n:]
    table["bh_family_size"] = int(ok.sum())
    flagged = np.isfinite(adjusted[n:]) & (adjusted[n:] < alpha)
    table["change_point"] = [
        best if flag else None
        for best, flag in zip(table["change_point_best"], flagged, strict=True)
    ]
    return table
