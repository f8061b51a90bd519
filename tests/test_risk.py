"""What a report reads from one model's paths: window totals and P(surge), against numpy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.models.forecast import ForecastResult
from analysis.models.risk import expected_next, recent_mean, surge_probability, window_forecast


def _panel(counts: dict[str, list[int]], start: str = "2021-01") -> pd.DataFrame:
    periods = pd.date_range(start, periods=len(next(iter(counts.values()))), freq="MS")
    rows = [
        (rid, period, v)
        for rid, vs in counts.items()
        for period, v in zip(periods, vs, strict=True)
    ]
    return pd.DataFrame(rows, columns=["region_id", "period", "events"])


def _forecast(samples: np.ndarray, regions: tuple[str, ...]) -> ForecastResult:
    periods = pd.date_range("2025-01", periods=samples.shape[1], freq="MS")
    return ForecastResult(samples, regions, periods, pd.Timestamp("2024-12"), "test", 0)


def test_window_forecast_sums_paths() -> None:
    rng = np.random.default_rng(1)
    samples = rng.poisson(2.0, size=(2, 6, 4000))
    fc = _forecast(samples, ("ML-1", "ML-2"))
    w = window_forecast(fc, "ML-2", steps=3, level=0.9)
    totals = samples[1, :3].sum(axis=0)
    assert w.mean == pytest.approx(totals.mean())
    assert w.low == np.quantile(totals, 0.05, method="inverted_cdf")
    assert w.high == np.quantile(totals, 0.95, method="inverted_cdf")
    assert w.p_any == pytest.approx((totals > 0).mean())
    assert w.mean == pytest.approx(6.0, rel=0.05)  # Poisson(2) x 3 steps
    assert (w.first, w.last) == (pd.Timestamp("2025-01-01"), pd.Timestamp("2025-03-01"))
    with pytest.raises(ValueError):
        window_forecast(fc, "ML-9")


def test_expected_next_is_the_window_forecast_of_every_region() -> None:
    rng = np.random.default_rng(2)
    samples = rng.poisson([[[1.0]], [[4.0]]], size=(2, 5, 2000))
    fc = _forecast(samples, ("ML-1", "ML-2"))
    table = expected_next(fc, steps=3).set_index("region_id")
    for i, rid in enumerate(fc.region_ids):
        totals = samples[i, :3].sum(axis=0)
        assert table.loc[rid, "expected"] == pytest.approx(totals.mean())
        assert table.loc[rid, "expected_low"] == np.quantile(totals, 0.05, method="inverted_cdf")
        assert table.loc[rid, "expected_high"] == np.quantile(totals, 0.95, method="inverted_cdf")


def test_surge_probability_matches_direct_count() -> None:
    panel = _panel({"ML-1": [2] * 24, "ML-2": [0] * 24})
    samples = np.zeros((2, 3, 1000), dtype=int)
    samples[0, :, :400] = 5  # 15 over 3 steps: surge (threshold 2 x 3 x 2 = 12)
    samples[0, :, 400:] = 3  # 9: no surge
    samples[1, 0, :250] = 1  # quiet region: any event is a surge (threshold at least 1)
    fc = _forecast(samples, ("ML-1", "ML-2"))
    out = surge_probability(fc, panel, factor=2.0, steps=3).set_index("region_id")
    assert out.loc["ML-1", "threshold"] == 12
    assert out.loc["ML-1", "p_surge"] == pytest.approx(0.4)
    assert out.loc["ML-2", "threshold"] == 1
    assert out.loc["ML-2", "p_surge"] == pytest.approx(0.25)


def test_recent_mean_reads_the_last_periods_only() -> None:
    panel = _panel({"ML-1": [100] * 12 + [1, 2, 3], "ML-2": [0] * 15})
    means = recent_mean(panel, periods=3)
    assert means["ML-1"] == pytest.approx(2.0) and means["ML-2"] == 0.0


def test_country_sentence_says_where_its_probabilities_come_from() -> None:
    from analysis.models.risk import path_risk

    samples = np.zeros((3, 4, 2000), dtype=int)
    samples[0, 0, :] = 1  # MLI: every path has an event
    samples[1, 1, :1998] = 1  # MRT: 1998 of 2000, 99.9%
    samples[2, 2, :40] = 2  # SEN: 2%
    fc = _forecast(samples, ("ML-1", "MR-01", "SN-TC"))
    text = path_risk(fc, countries=["MLI", "MRT", "SEN"]).sentence(["MLI", "MRT", "SEN"])
    # the tables' formatter: a simulated 1 is never "100%", 0.999 is not rounded up to it
    assert "MLI >99.9%; MRT 99.9%; SEN 2%." in text
    assert "share of the test model's 2,000 sample paths" in text
    se = 100 * np.sqrt(0.02 * 0.98 / 2000)
    assert f"Monte Carlo standard error at most {se:.1f} percentage points" in text
    assert "no interval over the model's parameters" in text
    assert "within 4 periods after 2024-12" in text
    monthly = path_risk(fc, countries=["MLI", "MRT", "SEN"]).sentence(["SEN"], "month")
    assert "within 4 months after 2024-12: SEN 2%." in monthly
