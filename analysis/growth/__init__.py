"""Growth of event counts with honest intervals: rate ratios, trend growth, change points.

Three questions a reviewer asks of a region's series, each answered with an interval:

* **How much did it grow?** :func:`rate_ratio` compares two windows (years ``2021``, quarters
  ``2021Q3``, months ``2021-03`` or ranges ``2021-01..2021-06``). The point estimate is the ratio
  of event rates per panel period (exposure-adjusted when the windows differ in length). Beside it:

  - the *exact conditional* interval: given the total ``n = count_a + count_b``, ``count_b`` is
    binomial with ``p = rr E_b / (E_a + rr E_b)``; the Clopper-Pearson limits for ``p`` map to the
    ratio. Also the mid-p interval and exact / mid-p p-values. Exact only under Poisson counts;
    overdispersed counts make it too narrow.
  - the *independent-count NB* interval: an NB2 regression of the per-period counts on a
    window indicator; its Wald-t variance of the log ratio (t on ``n - 3`` degrees of freedom)
    is turned into a design effect ``k`` (variance and t quantile relative to Poisson counts and
    the normal one) and the limits are the Jeffreys interval on the effective counts
    ``count / k`` (:func:`analysis.growth.ratio._effective_count_limits`). With many events it
    is the Wald-t interval; with three or four events a window it keeps the conditional
    binomial's skew where the log-Wald and profile-likelihood intervals over-covered (97-98%
    in ``benchmarks/growth_coverage.py``). Valid for overdispersed counts only if months are
    independent. The exact interval is a labelled reference, not contained by construction.
  - the *dependence-aware* intervals: the same estimating equations with a Newey-West HAC
    sandwich (``hac_*``) and with the AR(1) own-lag sandwich (``ar1_*``, see
    :func:`_dependence`), and the model-based interval of an NB model with an own-lag term
    (``inarch_*``, :mod:`analysis.models.inarch`). The **headline** (``headline_low``/
    ``headline_high``) is the hull of the independent-count NB interval and the one named by
    :data:`HEADLINE_INTERVAL`, chosen by the coverage study in ``benchmarks/growth_coverage.py``.
    The headline p-value is the largest of the NB2 likelihood-ratio, exact conditional and
    headline Wald p-values.
  - zero counts: ``0 -> 5`` has no upper limit. The result says so (``one_sided=True`` and a
    ``note``) and gives the finite end of a two-sided 95% interval (2.5% below it, as R's
    ``poisson.test`` does, so that every interval's low end is equally strict): Clopper-Pearson
    for the exact interval, and the profile-likelihood bound of the NB model for the
    overdispersion-aware one.

* **How fast is it growing?** :func:`trend` fits a log-linear NB2 regression over a window
  (month-of-year or quarter effects optional) with time in years: annual growth
  ``exp(b) - 1`` in percent and the doubling time ``12 log 2 / b`` months, each with
  independent (profile likelihood of the slope) / HAC / AR(1) / own-lag model / headline
  intervals, and a test of no trend. It
  returns the fitted curve and its 95% band for plotting.

* **Since when?** :func:`change_point` profiles a segmented log-linear NB2 model over candidate
  break periods (at least ``min_segment`` periods on each side): ``continuous`` adds a slope
  change (hinge), ``discontinuous`` also a level jump. The likelihood-ratio statistic against no
  change does not follow a chi-squared law (the break date exists only under the alternative), so
  the p-value is Davies' (1987) upper bound on the signed root by default, after deflating each
  LR by its variance inflation under the own-lag correlation and reading it on the Satterthwaite
  t scale of the AR(1) intervals (conservative, fast), or a
  parametric bootstrap from the no-change model as an NB autoregression, the same dependent
  null (``method='bootstrap'``). The confidence
  set for the break date collects the candidates whose profile LR statistic against the best
  break is below the chi-squared(1) 95% quantile (an approximate set in the sense of Siegmund
  1988; coverage is checked by simulation in the tests).

:func:`growth_table` does all three for many regions and comparisons, with one
Benjamini-Hochberg adjustment over all its ratio and change-point tests (compute it once per
study and filter it); :func:`growth_sentence` turns a row into plain language.
"""

from __future__ import annotations

from analysis.growth.blocks import block_length, moving_block_ratio_interval
from analysis.growth.changepoint import ChangePointResult, change_point
from analysis.growth.dependence import (
    HEADLINE_INTERVAL,
    TREND_HEADLINE_INTERVAL,
    newey_west_bandwidth,
)
from analysis.growth.ratio import RateRatioResult, rate_ratio
from analysis.growth.sentence import growth_sentence
from analysis.growth.table import (
    JSON_KEYS,
    GrowthResult,
    bh_adjust,
    growth,
    growth_results,
    growth_rows,
    growth_table,
    region_series,
)
from analysis.growth.trends import TrendResult, trend
from analysis.periods import Window, parse_window

__all__ = [
    "JSON_KEYS",
    "ChangePointResult",
    "GrowthResult",
    "RateRatioResult",
    "TrendResult",
    "Window",
    "change_point",
    "HEADLINE_INTERVAL",
    "TREND_HEADLINE_INTERVAL",
    "bh_adjust",
    "block_length",
    "growth",
    "growth_results",
    "growth_rows",
    "growth_sentence",
    "growth_table",
    "moving_block_ratio_interval",
    "newey_west_bandwidth",
    "parse_window",
    "rate_ratio",
    "region_series",
    "trend",
]
