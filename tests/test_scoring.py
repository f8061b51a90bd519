"""Closed-form checks of the scoring rules in :mod:`analysis.scoring` that the onset
scorecard and the forecasts' intervals use (the CRPS family is tested against scoringrules
and by hand in ``tests/test_evaluation.py``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.scoring import brier, log_score, roc_auc, sample_quantiles


def test_log_score_is_the_mean_negative_log_likelihood():
    # an event forecast at 0.9 and a non-event at 0.2: -(log 0.9 + log 0.8) / 2
    assert log_score([0.9, 0.2], [1, 0]) == pytest.approx(-(math.log(0.9) + math.log(0.8)) / 2)
    # both terms count: the same probabilities with the outcomes swapped score worse
    assert log_score([0.9, 0.2], [0, 1]) == pytest.approx(-(math.log(0.1) + math.log(0.2)) / 2)
    # certainty that proves wrong is clipped at 1e-6, not infinite
    assert log_score([0.0], [1]) == pytest.approx(-math.log(1e-6))
    assert log_score([1.0], [0]) == pytest.approx(-math.log(1e-6))


def test_log_score_and_brier_rank_a_sharper_calibrated_forecast_first():
    """Both rules are proper: on outcomes drawn with probability p, forecasting p scores
    better on average than forecasting the base rate."""
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, 20_000)
    y = rng.uniform(size=p.size) < p
    base = np.full(p.size, y.mean())
    assert log_score(p, y) < log_score(base, y)
    assert brier(p, y) < brier(base, y)


def test_roc_auc_counts_ties_half():
    # pairs (event, non-event): (0.8, 0.1) right, (0.8, 0.8) tie, (0.3, 0.1) right,
    # (0.3, 0.8) wrong: (1 + 0.5 + 1 + 0) / 4
    assert roc_auc([0.8, 0.3, 0.1, 0.8], [1, 1, 0, 0]) == pytest.approx(0.625)
    assert math.isnan(roc_auc([0.2, 0.4], [1, 1]))


def test_sample_quantiles_are_sampled_values():
    samples = np.array([[0, 1, 1, 2, 7], [3, 3, 3, 3, 3]])
    q = sample_quantiles(samples, [0.05, 0.5, 0.95])
    # the inverted empirical CDF: the smallest sample whose CDF reaches the level
    np.testing.assert_array_equal(q, [[0, 3], [1, 3], [7, 3]])
    assert q.shape == (3, 2)
