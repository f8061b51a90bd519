"""Unit checks of auto's per-block choice: step blocks, labels and the Schaake reordering."""

import numpy as np
import pytest

from analysis.models.auto import _label, block_bounds, plan_label, plan_switches, reorder_like


@pytest.mark.parametrize(
    ("horizon", "ends", "expected"),
    [
        (12, (3, 6), [(0, 3), (3, 6), (6, 12)]),
        (6, (3, 6), [(0, 3), (3, 6)]),
        (3, (3, 6), [(0, 3)]),
        (2, (3, 6), [(0, 2)]),
        (12, (), [(0, 12)]),
    ],
)
def test_block_bounds_cover_every_step_once(horizon, ends, expected):
    bounds = block_bounds(horizon, ends)
    assert bounds == expected
    assert sum(b - a for a, b in bounds) == horizon


def test_label_names_runs_of_blocks():
    keys = ["1-3", "4-6", "7-12"]
    assert _label(("a", "a", "a"), keys) == "a"
    assert _label(("a", "a", "b"), keys) == "a (steps 1-6), b (steps 7-12)"
    assert _label(("a", "b", "a"), keys) == "a (steps 1-3), b (steps 4-6), a (steps 7-12)"


def test_plan_label_names_one_groups_candidates_in_words():
    bounds = ((0, 3), (3, 6), (6, 12))
    assert plan_label(("a", "a", "b"), bounds) == "a at steps 1-6, b at steps 7-12"
    assert plan_label(("c", "c", "c"), bounds) == "c"
    one_step = ((0, 1), (1, 12))
    assert plan_label(("a", "b"), one_step) == "a at step 1, b at steps 2-12"
    assert plan_switches(("a", "a", "b"), bounds) == [(7, "a", "b")]
    assert plan_switches(("c", "c", "c"), bounds) == []
    assert plan_switches(("a", "b"), one_step) == [(2, "a", "b")]


def test_reorder_like_keeps_the_marginals_and_takes_the_template_dependence():
    rng = np.random.default_rng(0)
    n = 4000
    # template: strongly dependent paths (a shared level per path), two regions, four steps
    level = rng.gamma(2.0, 2.0, size=(2, 1, n))
    template = rng.poisson(np.broadcast_to(level, (2, 4, n)))
    # the other candidate's paths: independent over steps, another marginal
    other = rng.negative_binomial(3, 0.3, size=(2, 4, n))
    out = reorder_like(template, other, rng)
    # every (region, step) keeps exactly the other candidate's values ...
    np.testing.assert_array_equal(np.sort(out, axis=-1), np.sort(other, axis=-1))
    # ... in the template's rank order, so the dependence over steps is the template's
    r_out = np.corrcoef(out[0, 0], out[0, 3])[0, 1]
    r_tpl = np.corrcoef(template[0, 0], template[0, 3])[0, 1]
    r_other = np.corrcoef(other[0, 0], other[0, 3])[0, 1]
    assert abs(r_other) < 0.05 and r_tpl > 0.5
    assert r_out == pytest.approx(r_tpl, abs=0.1)
    # and window totals get the spread that dependence implies
    assert out.sum(axis=1).var() > 2 * other.sum(axis=1).var()


def test_paired_error_of_a_difference_cancels_shared_noise():
    from analysis.models.auto import choose, diff_se

    rng = np.random.default_rng(1)
    shared = rng.normal(0, 1.0, size=2000)  # Monte Carlo noise both candidates share
    errors = {"a": shared + rng.normal(0, 0.1, 2000), "b": shared + rng.normal(0, 0.1, 2000)}
    se = diff_se(errors, "a", "b")
    # the difference's error is that of the unshared parts: sqrt(2 * 0.01 / n)
    assert se == pytest.approx(np.sqrt(2 * 0.01 / 2000), rel=0.1)
    independent = np.sqrt(2 * (1.01 / 2000))
    assert se < independent / 5
    # a gap of 3 paired errors is real: the more complex, better candidate is chosen; read
    # as independent errors the same gap would have kept the simpler one
    scores = {"a": (1.0 + 3 * se, 1.01 / 2000), "b": (1.0, 1.01 / 2000)}
    assert choose(scores, ("a", "b"), 2.0, errors)[0] == "b"
    assert choose(scores, ("a", "b"), 2.0)[0] == "a"
    assert diff_se(errors, "a", "missing") is None
    # the reason gives the scores to the precision their error allows
    _, why = choose({"a": (1.6986, 0.0001), "b": (1.6837, 0.0001)}, ("a", "b"), 2.0)
    assert "(1.699 vs 1.684, error 0.014)" in why
