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
    samples[1, 0, :250] = 1  # quiet region: 1 event is not a surge (threshold min_events, 3)
    samples[1, :, :100] = 1  # 3 events over the window: a surge
    fc = _forecast(samples, ("ML-1", "ML-2"))
    out = surge_probability(fc, panel, factor=2.0, steps=3, min_events=3).set_index("region_id")
    assert out.loc["ML-1", "threshold"] == 12
    assert out.loc["ML-1", "p_surge"] == pytest.approx(0.4)
    assert out.loc["ML-2", "threshold"] == 3
    assert out.loc["ML-2", "p_surge"] == pytest.approx(0.1)
    # a floor of 1 is the rule as it was: any event in a quiet region is a surge
    old = surge_probability(fc, panel, factor=2.0, steps=3, min_events=1).set_index("region_id")
    assert old.loc["ML-2", "p_surge"] == pytest.approx(0.25)
    assert old.loc["ML-1", "p_surge"] == out.loc["ML-1", "p_surge"]


@pytest.mark.parametrize(
    ("events_last_12", "min_events", "expected"),
    [
        (0, 3, 3),  # quiet: the floor
        (2, 3, 3),  # factor rule 2 x 3 x 2/12 = 1: the floor
        (4, 3, 3),  # 2: the floor
        (6, 3, 3),  # 3: both
        (7, 3, 4),  # 3.5 -> 4: the factor rule
        (73, 3, 37),  # demo Kayes: 36.5 -> 37, the floor irrelevant
        (2, 1, 1),  # no floor: the old collapse to "at least one event"
        (0, 1, 1),
        (73, 50, 50),  # a floor above the factor rule wins even in a busy region
    ],
)
def test_surge_threshold_is_the_factor_rule_with_a_floor(
    events_last_12: int, min_events: int, expected: int
) -> None:
    """max(ceil(factor x steps x recent mean), min_events), in closed form."""
    from analysis.models.risk import surge_threshold

    got = surge_threshold(np.array([events_last_12 / 12]), 2.0, 3, min_events)
    assert got.tolist() == [expected]


def test_surge_threshold_keeps_exact_multiples_and_refuses_bad_floors() -> None:
    from analysis.models.risk import MIN_SURGE_EVENTS, surge_threshold

    # 1.1 x 3 x 40/12 is 11.000000000000002 in floating point: the threshold is 11, not 12
    assert surge_threshold(np.array([40 / 12]), 1.1, 3, 1).tolist() == [11]
    assert surge_threshold(np.array([0.0]), 2.0, 3).tolist() == [MIN_SURGE_EVENTS]
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="min_events"):
            surge_threshold(np.array([1.0]), 2.0, 3, bad)


def test_sparse_regions_p_surge_is_not_p_any() -> None:
    """A region with 2 events in the last year, forecast at that steady pace: P(surge) had been
    P(at least one event) over the window (about 39%); with the floor it is P(at least 3),
    about 1.4%, while a busy region's P(surge) is the factor rule's whatever the floor."""
    rng = np.random.default_rng(3)
    panel = _panel({"MR-01": ([0] * 5 + [1] + [0] * 5 + [1]) * 2, "ML-1": [6] * 24})
    samples = np.stack([rng.poisson(2 / 12, (3, 20000)), rng.poisson(9.0, (3, 20000))])
    fc = _forecast(samples, ("MR-01", "ML-1"))
    out = surge_probability(fc, panel, factor=2.0, steps=3, min_events=3).set_index("region_id")
    totals = samples.sum(axis=1)
    p_any = window_forecast(fc, "MR-01", steps=3).p_any
    assert p_any == pytest.approx(1 - np.exp(-0.5), abs=0.01)
    assert out.loc["MR-01", "recent_mean"] == pytest.approx(2 / 12)
    assert out.loc["MR-01", "threshold"] == 3
    assert out.loc["MR-01", "p_surge"] == pytest.approx((totals[0] >= 3).mean())
    assert out.loc["MR-01", "p_surge"] == pytest.approx(0.0144, abs=0.003)  # P(Poisson(0.5) >= 3)
    assert out.loc["MR-01", "p_surge"] < p_any / 10
    # the busy region's threshold is 2 x 3 x 6 = 36 events, with or without the floor
    old = surge_probability(fc, panel, factor=2.0, steps=3, min_events=1).set_index("region_id")
    assert out.loc["ML-1", "threshold"] == old.loc["ML-1", "threshold"] == 36
    assert out.loc["ML-1", "p_surge"] == pytest.approx((totals[1] >= 36).mean())
    assert old.loc["MR-01", "p_surge"] == pytest.approx(p_any)  # the collapse the floor ends


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
    # a country's chance of any event, not what spreads from the focus
    assert "whatever its origin, not the part spread from the focus regions" in text
    # SEN's 100 sqrt(0.02 x 0.98 / 2000) = 0.31 points is the largest, rounded up so that
    # "at most" holds
    assert "Monte Carlo standard error at most 0.4 percentage" in text
    assert "no interval over the model's parameters" in text
    assert "within 4 periods after 2024-12" in text
    monthly = path_risk(fc, countries=["MLI", "MRT", "SEN"]).sentence(["SEN"], "month")
    assert "within 4 months after 2024-12: SEN 2%." in monthly


def test_country_sentence_labels_a_quarterly_origin_as_a_quarter() -> None:
    """The quarterly overview read "within 4 quarters after 2020-10" of origin 2020Q4."""
    from dataclasses import replace

    from analysis.models.risk import path_risk

    samples = np.zeros((1, 4, 100), dtype=int)
    quarters = pd.date_range("2021-01-01", periods=4, freq="QS")
    fc = replace(_forecast(samples, ("SN-TC",)), periods=quarters,
                 origin=pd.Timestamp("2020-10-01"))  # fmt: skip
    risk = path_risk(fc, countries=["SEN"])
    assert "within 4 quarters after 2020Q4: SEN <0.1%." in risk.sentence(["SEN"], "quarter")
    # the generic "periods" of the command's JSON, its origin labelled as the panel's
    assert "within 4 periods after 2020Q4: " in risk.sentence(["SEN"], freq="quarter")
    assert "within 4 periods after 2020-10: " in risk.sentence(["SEN"])
    assert "within 4 months after 2020-10: " in risk.sentence(["SEN"], "month")
