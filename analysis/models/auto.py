"""``auto``: choose a model on the question the report asks, from the history only.

The report shows forecasts for steps 1..h of its focus region and the regions around it,
so candidates are compared on exactly that: rolling-origin forecasts at ``inner_origins``
origins inside the history, ``stride`` periods apart, scored with the fair (unbiased) CRPS
over steps 1..h. Each block of steps (below) is scored on the latest origins whose steps of
that block are observed before the forecast origin: the next quarter is judged on the
freshest evidence there is, not on origins a year old. The choice is
made twice on the same inner forecasts: once for the focus regions, on their own scores, and
once for the other regions, on the scores where they were active at the inner origin (quiet
regions, where every model says "nothing", would only dilute the differences); within a
group every region and step weighs the same. One choice for all regions with the focus
weighted half (the earlier rule) let one region's noisy scores choose for every region, or
many regions choose for the focus; in an offline replay on three real UCDP windows (central
Sahel, Nigeria, Algeria; 72 origins each) choosing per group gave lower CRPS in all three.

Within a group the choice is made per block of steps (``blocks``: each quarter of the year
ahead, 1-3, 4-6, 7-9 and 10-h, by default) on that block's scores only: what the recent level
says about the next quarter and what the long-run view says about the next year are different
questions, and one choice over steps 1..h lets the many long steps decide the short ones (and
the reverse). The paths of a block whose pick differs from the first block's are reordered by
the first block's candidate's ranks, region by region and step by step (the Schaake shuffle,
Clark et al. 2004): each step keeps its own candidate's distribution and the paths keep one
dependence across steps and regions, so window totals stay coherent. On the three real
windows (``benchmarks/backtest_auto_real.py``, 72 origins, 400 samples, with the paired Monte
Carlo error below) quarters did better than steps 1-3, 4-6 and 7-12 (central Sahel +2.5% ->
+2.9% against the best baseline, Nigeria +1.3% -> +1.4%, Algeria +2.8% -> +2.7%) and lost
fewer steps (3 -> 2); choosing once for steps 1-12 had lost 3-5 steps in the Sahel alone.

Sample-based scores carry Monte Carlo error. Each score's error is estimated from the
difference between the two halves of the samples, and the error of a difference between two
candidates from the paired per-forecast differences (same forecasts, common random numbers):
treating the two errors as independent overstates it when their noise is shared, and then
keeps the simplest candidate too often. Candidates are listed from the simplest
to the most complex, and the first one within ``tolerance`` standard errors (of the
difference) of the best is chosen: a more complex candidate must beat it by more than that
error. The choice, every
candidate's score and error, and the rule are kept in the fitted state
(:attr:`AutoFitted.evidence`) for the JSON and the reports.

The same inner forecasts then calibrate the chosen candidates' spread: the PIT values
(:func:`~analysis.models.calibration.ensemble_pit`) of their inner forecasts (focus and active
regions, each block's steps from its pick) give the ``c`` of a symmetric ``Beta(c, c)`` by
maximum likelihood, and the final paths are mapped through it
(:mod:`analysis.models.calibration`; ``c < 1`` widens a forecast whose past observations fell
in its tails too often). Every candidate of the real UCDP backtest was too narrow in this
sense (randomised-PIT 80% coverage 0.74-0.76); the map changes the spread only, never the
centre. The focus regions take the smaller (wider) of that ``c`` and the one of their own PIT
values: pooled alone, the other regions' better-calibrated picks could narrow the focus (on
the demo they raised ``c`` from 0.84 to 0.87, and Kayes' 12-month 90% interval ended below
the stated model's truth). Neither ``c`` goes below :data:`MIN_SPREAD`: the inner PIT values
come from overlapping origins of one history, and an outbreak among them pulled the maximum
likelihood ``c`` to about 0.5 and widened the forecasts of the calmer years after it.

Regions other than the focus that had no event in the last ``active_window`` periods are
scored nowhere above (every candidate says "almost surely nothing" there), and under-forecast
where conflict spreads: in the central Sahel backtest their monthly mean was 0.008 where
0.04-0.11 was observed, and their misses above the 80% interval made the long steps
under-cover. With an onset reference (every unit the data files cover,
:mod:`analysis.models.onset_reference`), every quiet region, a focus region too, has an event
within the horizon in the share of its paths that the onset model fitted there gives, each such
path an observed first burst (:meth:`AutoFitted.quiet_onset`). Without one, or where that model
cannot be fitted, the paths of the quiet regions other than the focus are an equal mixture of
the chosen model's and the reference class's, the observed continuations of regions that were
as quiet at recent origins, with or without an active neighbour as they have one now
(:mod:`analysis.models.analogs`, :data:`ANALOG_WEIGHT`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from analysis.formatting import period_label
from analysis.models.analogs import mix_quiet_analogs, onset_paths, quiet_regions
from analysis.models.calibration import (
    central_coverage,
    ensemble_pit,
    fit_symmetric_beta,
    recalibrate_paths,
)
from analysis.models.ensemble import member_fit
from analysis.models.forecast import Fitted, Forecaster, History
from analysis.scoring import crps_fair_halves

# listed in order of preference (simplest first): auto takes the first candidate within Monte
# Carlo error of the best. The level mixture (local level, 6-month mean, conflictology); the
# same with the negative-binomial climatology as a fourth member, a hedge toward the region's
# long-run distribution that has no dynamics of its own; the level mixture with the damped
# trend (per-region slopes); the level mixture pooled with the 36-month NB climatology at half
# and at three quarters of the weight, for regions whose counts swing around a stable mean
# (without them Borno and the regions around it lost 2.3% to the NB climatology over 72
# origins, and steps 3-12). Picking among single models or baselines by inner scores was
# noisy: the baseline that wins over the inner origins is often not the one that wins next
# (on the real UCDP windows that cost 1-10% CRPS), and learned (stacking) weights did worse
# than equal ones; fixed mixtures that contain both the recent and the long-run view were the
# most robust across windows (benchmarks/backtest_auto_real.py, docs/internals.md).
#: The most the spread calibration may widen: c is never below this. The inner PIT values
#: come from 12 overlapping origins of one history, so one outbreak's tail values can pull the
#: maximum-likelihood c to 0.5 and widen every forecast of the calmer years that follow; the
#: floor keeps the widening to Beta(0.8, 0.8) (an 80% interval becomes about the model's 86%
#: one). Chosen in the offline replay of five cached windows (benchmarks/auto_replay.py: at
#: 0.8 skill at least the uncapped rule's in all five, steps lost 2 -> 0 in the central
#: Sahel, Mali -5.3% -> -0.9%, Nigeria 2003-16 +1.3% -> +4.6%) and checked on windows it had
#: not seen (docs/internals.md, "auto").
MIN_SPREAD = 0.8

#: Weight of the reference class in the forecasts of quiet regions (no event in the last
#: ``active_window`` periods, focus regions excepted): each of their sample paths is, with this
#: probability, the observed continuation of a region that was quiet at an origin of the last
#: ``analog_lookback``, beside an active neighbour or not as the region is now
#: (:mod:`analysis.models.analogs`); 0 turns it off. An equal mixture, like
#: the candidates, of the region's own view and the reference class's: in the ten real UCDP
#: windows (``benchmarks/backtest_auto_real.py``) the randomised-PIT 80% coverage of the
#: weakest step rose in all ten (central Sahel 0.746 -> 0.756), the skill against the best
#: baseline moved by -0.19 to +0.19 points and one step fewer was lost (docs/internals.md,
#: "auto"); the whole reference class (weight 1) covered better still but lost skill in four.
ANALOG_WEIGHT = 0.5

#: The model whose paths give ``auto``'s the dependence across steps (None keeps the chosen
#: candidates' own). Two of the three members of every candidate draw their months
#: independently given a level (the 6-month mean, the NB climatology) and a third replays one
#: year, so a mixture's 12-month totals are too narrow although each month's distribution is
#: calibrated: on five real UCDP windows (``conflict-trends backtest --horizon 12``, 36-72
#: origins) the randomised-PIT 80% coverage of auto's 12-month totals was 0.61-0.77. Each
#: step's samples are reordered by the ranks of the local level's paths (a path that starts
#: high stays high; the Schaake shuffle with a model's paths as the template, as in ensemble
#: copula coupling, Schefzik et al. 2013), which leaves every per-step score as it was (up to
#: Monte Carlo noise) and raised that coverage to 0.64-0.79 and the 12-month totals' CRPS
#: skill by 1.1-5.2 points in all five (docs/internals.md, "auto").
DEPENDENCE = "local_level"

AUTO_CANDIDATES = (
    "ensemble_local",
    "ensemble_climatology",
    "ensemble_trend",
    "ensemble_climatology36",
    "ensemble_climatology36_heavy",
)


def block_bounds(horizon: int, ends: tuple[int, ...]) -> list[tuple[int, int]]:
    """Step blocks as (start, stop) column slices of 1..horizon: ``ends`` are the last steps
    of every block but the final one (those at or past ``horizon`` are dropped).

    Parameters
    ----------
    horizon : int
        Number of steps.
    ends : tuple of int
        Last step (1-based) of each block but the final one.

    Returns
    -------
    list of (int, int)
        ``(start, stop)`` column slices, in order, covering ``0..horizon``.
    """
    cuts = [e for e in sorted(set(ends)) if 0 < e < horizon]
    edges = [0, *cuts, horizon]
    return list(zip(edges[:-1], edges[1:], strict=False))


def block_label(start: int, stop: int) -> str:
    """A block's steps in words: ``"4"`` for one step, ``"4-6"`` for several.

    Parameters
    ----------
    start, stop : int
        The block's column slice (``start`` 0-based, ``stop`` exclusive), as in
        :func:`block_bounds`.

    Returns
    -------
    str
    """
    return f"{start + 1}" if stop == start + 1 else f"{start + 1}-{stop}"


def reorder_like(template: np.ndarray, paths: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``paths``' values at each (region, step) placed in the rank order of ``template``'s
    samples (the Schaake shuffle): the marginals of ``paths``, the dependence across steps
    and regions of ``template``. Ties in ``template`` are broken at random.

    Parameters
    ----------
    template : ndarray (..., sample)
        Paths, e.g. (region, step, sample), whose rank order is kept.
    paths : ndarray (..., sample)
        Paths of the same shape whose values are reordered.
    rng : Generator
        Breaks the ties in ``template``.

    Returns
    -------
    ndarray (..., sample)
    """
    jitter = rng.uniform(0.0, 0.5, size=template.shape)
    ranks = np.argsort(np.argsort(template + jitter, axis=-1, kind="stable"), axis=-1)
    return np.take_along_axis(np.sort(paths, axis=-1), ranks, axis=-1)


@dataclass(frozen=True)
class AutoFitted(Fitted):
    """The chosen candidates' fits, the spread calibration ``c`` and the evidence.

    ``plan[group]`` names the candidate of every step block (``bounds``, column slices of
    1..h) for the focus regions (``focus_mask``) and the other regions; ``fits`` holds each
    distinct candidate's fit and ``fitted`` the first block's pick for the focus, whose paths
    order the other blocks' values; ``dependence`` (the local level's fit, :data:`DEPENDENCE`)
    then gives every step its rank order, unless it is None. ``chosen`` is the label shown to
    readers; ``picks`` the distinct candidates' names.
    """

    chosen: str
    fitted: Fitted
    evidence: dict[str, Any]
    spread: float = 1.0
    focus_spread: float | None = None
    fits: dict[str, Fitted] = field(default_factory=dict)
    plan: dict[str, tuple[str, ...]] = field(default_factory=dict)
    bounds: tuple[tuple[int, int], ...] = ()
    focus_mask: np.ndarray | None = None
    picks: tuple[str, ...] = ()
    quiet_window: int = 12
    analog_lookback: int = 36
    analog_weight: float = 0.0
    adjacency: np.ndarray | None = None
    onset_reference: Any = None
    onset_horizon: int | None = None
    dependence: Fitted | None = None

    def sample_paths(self, horizon, n, rng) -> np.ndarray:
        """The chosen candidates' paths, the quiet regions' drawn from the onset model.

        Where :meth:`quiet_onset` cannot answer, the paths of the quiet regions other than
        the focus are mixed with their reference class instead (module docstring).

        Parameters
        ----------
        horizon : int
            Number of steps ahead.
        n : int
            Number of sample paths.
        rng : Generator
            Random number generator. See :meth:`Fitted.sample_paths`.

        Returns
        -------
        ndarray (region, step, sample)
            int64 counts.
        """
        out = self._model_paths(horizon, n, rng)
        counts = self.history.counts
        onset = self.quiet_onset(horizon)
        if onset is not None:
            return onset_paths(out, *onset, rng)
        # as in _model_paths, no mask means every region is a focus region
        focus = self.focus_mask if self.focus_mask is not None else np.ones(len(counts), bool)
        quiet = quiet_regions(counts, self.quiet_window) & ~focus
        return mix_quiet_analogs(out, quiet, counts, self.quiet_window, self.analog_lookback,
                                 self.analog_weight, rng, self.adjacency)  # fmt: skip

    def quiet_onset(self, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The regions quiet for the onset reference's quiet window (a focus region too: a year
        without events makes its next one a first event, which its own candidates, chosen on
        its fighting years, cannot foresee), the onset model's P(any event within
        ``horizon``) for them and the first-event paths to draw from, all at the history's
        last period.

        Paths longer than ``onset_horizon`` (the horizon the rule was built for, the report's)
        keep the onset model of that horizon, with bursts of ``horizon`` steps whose event
        falls within its first ``onset_horizon``: a backtest scored at steps 1..h of longer
        paths then scores the probability the report shows, not one fitted for a longer
        window (the real study's evidence ran 12 steps for a 6-month report).

        None without a reference or a quiet region, or where the reference cannot answer (no
        first event before the origin, an origin or a region it does not hold): the reference
        class is then mixed in (:func:`analysis.models.analogs.mix_quiet_analogs`).

        Parameters
        ----------
        horizon : int
            Steps of the paths to be drawn.

        Returns
        -------
        tuple of ndarray, or None
            Boolean quiet mask (one per region), P(any event) of each quiet region and the burst
            paths, int64 (path, step); None in the cases above.
        """
        from analysis.models.onset_reference import CANNOT_ANSWER

        ref = self.onset_reference
        if ref is None:
            return None
        quiet = quiet_regions(self.history.counts, ref.quiet)
        if not quiet.any():
            return None
        spec = ref.spec(min(horizon, self.onset_horizon or horizon), ref.quiet)
        origin = self.history.periods[-1]
        try:
            bursts = ref.first_bursts(origin, spec, self.analog_lookback, length=horizon)
            p_any = ref.p_onset(np.asarray(self.history.region_ids)[quiet], origin, spec)
        except CANNOT_ANSWER:
            return None
        if not len(bursts) or not np.all(np.isfinite(p_any)):
            return None
        return quiet, p_any, bursts

    def onset_regions(self, horizon: int) -> tuple[str, ...]:
        """The regions whose paths carry the onset model's probability at ``horizon``
        (:meth:`quiet_onset`); empty where the reference class is mixed in instead.

        Parameters
        ----------
        horizon : int
            Steps of the paths.

        Returns
        -------
        tuple of str
            Region ids.
        """
        onset = self.quiet_onset(horizon)
        if onset is None:
            return ()
        return tuple(np.asarray(self.history.region_ids)[onset[0]].tolist())

    def _model_paths(self, horizon: int, n: int, rng: np.random.Generator) -> np.ndarray:
        paths = self.fitted.sample_paths(horizon, n, rng)
        lead = self.plan["focus"][0] if self.plan else self.fitted.model
        draws = {lead: paths}
        for m, f in self.fits.items():
            if m != lead:
                draws[m] = f.sample_paths(horizon, n, rng)
        out = paths.copy()
        mask = self.focus_mask if self.focus_mask is not None else np.ones(len(out), bool)
        for g, rows in (("focus", mask), ("other", ~mask)):
            for k, m in enumerate(self.plan.get(g, ())):
                start, stop = self.bounds[k]
                stop = horizon if k == len(self.bounds) - 1 else min(stop, horizon)
                if m == lead or start >= stop or not rows.any():
                    continue
                out[rows, start:stop] = reorder_like(
                    paths[rows, start:stop], draws[m][rows, start:stop], rng
                )
        if self.dependence is not None:
            # each step keeps its distribution; the paths take the dependence across steps of
            # the dependence model's paths (module docstring). A spawned generator leaves this
            # one's stream, and so every per-step draw below, as it was.
            (child,) = rng.spawn(1)
            out = reorder_like(self.dependence.sample_paths(horizon, n, child), out, child)
        if self.focus_spread is None or self.focus_spread == self.spread:
            return recalibrate_paths(out, self.spread, rng)
        out[~mask] = recalibrate_paths(out[~mask], self.spread, rng)
        out[mask] = recalibrate_paths(out[mask], self.focus_spread, rng)
        return out


def diff_se(errors: dict[str, np.ndarray], a: str, b: str) -> float | None:
    """Monte Carlo standard error of the difference of two candidates' mean scores, from
    their per-forecast errors (half-sample differences / 2) on the same forecasts: paired, so
    the Monte Carlo noise the two share (common random numbers, shared members) cancels.
    ``None`` when either is missing.

    Parameters
    ----------
    errors : dict of str to ndarray
        Per-forecast Monte Carlo errors of each candidate, aligned across candidates.
    a, b : str
        The two candidates' names.

    Returns
    -------
    float or None
    """
    if a not in errors or b not in errors or errors[a].shape != errors[b].shape:
        return None
    d = errors[a] - errors[b]
    d = d[np.isfinite(d)]
    return float(np.sqrt((d**2).sum()) / d.size) if d.size else None


def choose(
    scores: dict[str, tuple[float, float]],
    order: tuple[str, ...],
    tolerance: float,
    errors: dict[str, np.ndarray] | None = None,
) -> tuple[str, str]:
    """The first candidate in ``order`` (simplest first) whose mean score is within
    ``tolerance`` standard errors of the best one's; returns it and a sentence saying why.

    ``scores`` maps name to (mean score, squared standard error). With ``errors`` (name to
    per-forecast Monte Carlo errors on the same forecasts) the error of each difference is
    the paired one (:func:`diff_se`); otherwise the two errors are taken as independent.

    Parameters
    ----------
    scores : dict of str to (float, float)
        Mean score (lower is better) and squared standard error per candidate.
    order : tuple of str
        Candidates from the simplest to the most complex.
    tolerance : float
        Standard errors of the difference a simpler candidate may be behind the best.
    errors : dict of str to ndarray, optional
        Per-forecast Monte Carlo errors per candidate (default None: errors taken as independent).

    Returns
    -------
    name : str
        The chosen candidate.
    reason : str
        A sentence saying why.
    """
    best = min(scores, key=lambda m: scores[m][0])
    b, vb = scores[best]
    for m in order:
        if m not in scores:
            continue
        s, v = scores[m]
        paired = diff_se(errors, m, best) if errors is not None else None
        se = paired if paired is not None else float(np.sqrt(v + vb))
        if m == best or s - b <= tolerance * se:
            if m == best:
                why = f"{m} had the lowest fair CRPS ({s:#.3g})"
            else:
                why = (
                    f"{m} is simpler than {best} and within {tolerance:g} Monte Carlo "
                    f"standard errors of it ({_to_error(s, se)} vs {_to_error(b, se)}, error "
                    f"{se:#.2g})"
                )
            return m, why
    return best, f"{best} had the lowest fair CRPS ({b:#.3g})"


def _to_error(x: float, se: float) -> str:
    """``x`` to one digit past the leading digit of its error ``se``: the four decimals once
    used read "1.6986 vs 1.6837, error 0.0218", more digits than the error allows, and fewer
    would hide differences of 0.0002 when the error is 0.0001."""
    if not (np.isfinite(se) and se > 0):
        return f"{x:#.3g}"
    return f"{x:.{max(0, int(-np.floor(np.log10(se))) + 1)}f}"


@dataclass(frozen=True)
class AutoForecaster(Forecaster):
    """Choose among ``candidates`` by rolling-origin fair CRPS; see the module docstring.

    Attributes
    ----------
    horizon : int
        Steps 1..horizon are scored (the report's horizon).
    focus : tuple of str
        Regions always scored (the report's focus); active regions are added per origin.
    boundaries : Boundaries, optional
        Passed to candidates that need geography (``spillover``).
    calibrate : bool
        Calibrate the chosen candidates' spread on the inner forecasts (module docstring).
    min_spread : float
        The smallest ``c`` the calibration may use: it never widens beyond ``Beta(min_spread,
        min_spread)`` (module docstring).
    blocks : tuple of int
        Last steps of the step blocks chosen separately, but the final block (which ends at
        ``horizon``); ``()`` chooses once for steps 1..horizon.
    analog_lookback, analog_weight : int, float
        The reference class of quiet regions: how many origins back it reaches and its weight
        in their forecasts (:data:`ANALOG_WEIGHT`; 0 turns it off).
    onset_reference : OnsetReference, optional
        The study's selection in every unit its data files cover
        (:func:`analysis.pipeline.onset_reference`). With it, each path of a quiet region has
        an event with the onset model's probability fitted there, and the reference class
        above is used only where that model cannot answer (:meth:`AutoFitted.quiet_onset`).
    """

    name: str = "auto"
    description: str = (
        "chooses among five level and climatology mixtures, per region group and quarter "
        "ahead, by rolling-origin fair CRPS at steps 1..h"
    )
    candidates: tuple[str, ...] = AUTO_CANDIDATES
    horizon: int = 12
    inner_origins: int = 12
    stride: int = 3
    inner_samples: int = 400
    tolerance: float = 2.0
    active_window: int | None = None
    min_train: int = 36
    focus: tuple[str, ...] = ()
    boundaries: Any = field(default=None, repr=False, compare=False)
    seed: int = 0
    calibrate: bool = True
    min_spread: float = MIN_SPREAD
    blocks: tuple[int, ...] = (3, 6, 9)
    analog_lookback: int = 36
    analog_weight: float = ANALOG_WEIGHT
    onset_reference: Any = field(default=None, repr=False, compare=False)
    dependence: str | None = DEPENDENCE

    def _active_window(self, history: History) -> int:
        """Periods in which an event makes a region active: ``active_window``, by default one
        year of the history's periods (a quarterly study's 12 had meant three years, beside
        its onset forecasts' quiet units of one)."""
        return self.active_window if self.active_window is not None else history.per_year

    def restricted_to(self, fitted: AutoFitted, inner_samples: int) -> AutoForecaster:
        """This rule limited to the candidates ``fitted`` chose, under its label.

        Backtesting it scores the forecast a report shows (per-group choice and spread
        calibration included) without re-running the comparison of every candidate.

        Parameters
        ----------
        fitted : AutoFitted
            A fit of this rule; its ``picks`` (or ``chosen``) become the candidates.
        inner_samples : int
            Samples per inner forecast of the restricted rule.

        Returns
        -------
        AutoForecaster
        """
        return replace(
            self,
            name=fitted.chosen,
            candidates=fitted.picks or (fitted.chosen,),
            inner_samples=inner_samples,
        )

    def _models(self) -> list[Forecaster]:
        from analysis.models.registry import get

        return [
            get(c, boundaries=self.boundaries, focus=self.focus or None) for c in self.candidates
        ]

    def evaluate(self, history: History) -> dict[str, Any]:
        """Inner rolling-origin scores of every candidate (no look past the history), for the
        focus regions and for the other active regions (groups without regions are left out).

        Returns the inner origins, ``scores[group][block][model] = (mean, squared MC error)``
        (blocks as in :func:`block_bounds`, ``"1-h"`` for all steps),
        ``errors[group][block][model]``, each forecast's Monte Carlo error (for paired
        comparisons), and ``pit[group][block][model]``, the PIT values of the same forecasts.

        Parameters
        ----------
        history : History
            Counts up to the forecast origin; inner origins are at least ``min_train`` periods in.

        Returns
        -------
        dict
            ``origins``, ``block_origins`` (period labels), ``scores``, ``errors``, ``pit`` and
            ``bounds``; without any inner origin, only ``origins``, ``scores``, ``pit`` and
            ``bounds``, all empty.
        """
        from analysis.cross_validation import cross_validation

        T = history.counts.shape[1]
        H = self.horizon
        bounds = block_bounds(H, self.blocks)
        spans = [*bounds, (0, H)] if len(bounds) > 1 else bounds

        def origins(stop: int) -> list[int]:
            # the latest origins whose steps 1..stop are observed in the history
            last = T - stop
            seen = [t for t in range(last, 0, -self.stride) if t >= self.min_train]
            return sorted(seen[: self.inner_origins])

        by_span = {span: origins(span[1]) for span in spans}
        seen = sorted(set().union(*by_span.values()))
        if not seen:
            return {"origins": [], "scores": {}, "pit": {}, "bounds": []}
        is_focus = np.isin(np.asarray(history.region_ids), list(self.focus))
        parts: dict[str, dict[str, list[np.ndarray]]] = {}
        pits: dict[str, dict[str, list[np.ndarray]]] = {}
        when: dict[str, dict[str, list[int]]] = {}
        for fold in cross_validation(
            history, self._models(), seen, H, n_samples=self.inner_samples, seed=self.seed,
            active_window=self._active_window(history), cache=True,
        ):  # fmt: skip
            rng = np.random.default_rng(self.seed + fold.seen)
            for g, rows in (("focus", is_focus), ("other", fold.active & ~is_focus)):
                if not rows.any():
                    continue
                halves = crps_fair_halves(fold.observed[rows], fold.result.samples[rows])
                parts.setdefault(g, {}).setdefault(fold.model, []).append(halves)
                pit = ensemble_pit(fold.observed[rows], fold.result.samples[rows], rng)
                pits.setdefault(g, {}).setdefault(fold.model, []).append(pit)
                when.setdefault(g, {}).setdefault(fold.model, []).append(fold.seen)
        scores: dict[str, dict[str, dict[str, tuple[float, float]]]] = {}
        errors: dict[str, dict[str, dict[str, np.ndarray]]] = {}
        pit_out: dict[str, dict[str, dict[str, np.ndarray]]] = {}
        for g, by_model in parts.items():
            for m, chunks in by_model.items():
                for a, b in spans:
                    # only the origins of this span (every step of it observed), in the
                    # same order for every candidate, so the errors stay paired
                    use = [k for k, t in enumerate(when[g][m]) if t in by_span[(a, b)]]
                    if not use:
                        continue
                    hv_all = np.concatenate([chunks[k] for k in use])  # (row, step, half)
                    pv_all = np.concatenate([pits[g][m][k] for k in use])  # (row, step)
                    key = block_label(a, b)
                    pit_out.setdefault(g, {}).setdefault(key, {})[m] = pv_all[:, a:b].ravel()
                    hv = hv_all[:, a:b].reshape(-1, 2)
                    # per-forecast Monte Carlo error, kept aligned across candidates (the
                    # folds come origin by origin, so every candidate has the same rows)
                    errors.setdefault(g, {}).setdefault(key, {})[m] = (hv[:, 0] - hv[:, 1]) / 2
                    hv = hv[np.isfinite(hv).all(axis=1)]
                    n = len(hv)
                    if not n:
                        continue
                    # per-forecast MC variance of the full-sample estimate ~ (h1 - h2)**2/4
                    var = float(((hv[:, 0] - hv[:, 1]) ** 2 / 4).sum() / n**2)
                    scores.setdefault(g, {}).setdefault(key, {})[m] = (float(hv.mean()), var)
        label = {t: period_label(history.periods[t - 1], history.freq) for t in seen}
        return {
            "origins": [label[t] for t in by_span[(0, H)]],
            "block_origins": {
                block_label(a, b): [label[t] for t in by_span[(a, b)]] for a, b in bounds
            },
            "scores": scores,
            "errors": errors,
            "pit": pit_out,
            "bounds": bounds,
        }

    def fit(self, history: History) -> AutoFitted:
        """Choose the candidates on the inner forecasts (:meth:`evaluate`), calibrate their
        spread and fit them on ``history``; see the module docstring.

        Parameters
        ----------
        history : History
            Counts up to and including the origin. See :meth:`Forecaster.fit`.

        Returns
        -------
        AutoFitted
            The fits, the plan, the spread calibration and the evidence.
        """
        ev = self.evaluate(history)
        models = {m.name: m for m in self._models()}
        bounds = ev["bounds"] or block_bounds(self.horizon, self.blocks)
        keys = [block_label(a, b) for a, b in bounds]
        plan: dict[str, tuple[str, ...]] = {}
        groups: dict[str, dict[str, Any]] = {}
        for g, by_block in ev["scores"].items():
            picks, blocks = [], []
            for key in keys:
                by_model = by_block.get(key, {})
                scores = {m: v for m, v in by_model.items() if np.isfinite(v[0])}
                if not scores:
                    break
                errs = ev["errors"].get(g, {}).get(key, {})
                pick, why = choose(scores, self.candidates, self.tolerance, errs)
                picks.append(pick)
                best = min(scores, key=lambda m: scores[m][0])
                rows = _rows({m: v for m, v in by_model.items() if m in scores})
                for r in rows:  # the error each candidate's difference to the best was read on
                    r["mc_se_diff"] = diff_se(errs, r["model"], best)
                blocks.append({"steps": key, "chosen": pick, "reason": why, "candidates": rows})
            if len(picks) != len(keys):
                continue
            plan[g] = tuple(picks)
            whole = by_block.get(block_label(0, self.horizon), {})
            groups[g] = {
                "chosen": _label(plan[g], keys),
                "reason": "; ".join(f"steps {b['steps']}: {b['reason']}" for b in blocks),
                "blocks": blocks,
                "candidates": _rows(whole),
            }
        if not plan:
            first = self.candidates[0]
            plan = {"focus": (first,) * len(keys), "other": (first,) * len(keys)}
            groups = {"all": {"chosen": first, "reason": "too short a history to compare; "
                              "simplest used", "blocks": [], "candidates": []}}  # fmt: skip
        plan.setdefault("focus", plan.get("other"))
        plan.setdefault("other", plan["focus"])
        labels = {g: _label(plan[g], keys) for g in ("focus", "other")}
        chosen = (
            labels["focus"]
            if plan["focus"] == plan["other"]
            else f"{labels['focus']} (focus); {labels['other']} (other regions)"
        )
        main = groups.get("focus", next(iter(groups.values())))
        block_rule = (
            f"chosen separately for steps {', '.join(keys)}, "
            if len(keys) > 1
            else f"chosen once for steps 1-{self.horizon}, "
        )
        # how many inner origins each block had: a short history (a quarterly study's 36
        # training periods are nine years) has fewer than the rule's most, and the rule had
        # said "the 12 latest" beside 4
        used = [len(v) for v in ev.get("block_origins", {}).values()] or [len(ev["origins"])]
        counts = (
            f"{used[0]}"
            if len(set(used)) == 1
            else f"{', '.join(str(n) for n in used[:-1])} and {used[-1]}"
        )
        evidence = {
            "chosen": chosen,
            "reason": "; ".join(f"{g}: {v['reason']}" for g, v in groups.items()),
            "rule": (
                f"fair CRPS at steps 1-{self.horizon}, {block_rule}separately for the focus "
                "regions and for the other regions (scored where active; every region and step "
                f"weighted the same), for each block up to the {self.inner_origins} latest "
                f"inner origins {self.stride} periods apart whose steps of that block are "
                f"observed (here {counts}), "
                f"{self.inner_samples} samples; simplest within {self.tolerance:g} "
                f"Monte Carlo standard errors of the best, in the order "
                f"{', '.join(self.candidates)}"
            ),
            "origins": ev["origins"],
            "block_origins": ev.get("block_origins", {}),
            "candidates": main["candidates"],
            "groups": groups,
        }

        def chosen_pit(groups: tuple[str, ...]) -> np.ndarray:
            return np.concatenate(
                [
                    ev["pit"][g][key][m]
                    for g in groups
                    for key, m in zip(keys, plan[g], strict=True)
                    if m in ev["pit"].get(g, {}).get(key, {})
                ]
                or [np.empty(0)]
            )

        pit = chosen_pit(("focus", "other"))
        focus_pit = chosen_pit(("focus",))
        c_pooled = fit_symmetric_beta(pit) if self.calibrate else 1.0
        # The focus regions are never narrowed by the other regions' calibration: their c is
        # the wider (smaller) of the pooled one and their own. Pooled alone, the others'
        # better-calibrated picks raised c on the demo and the focus's 12-month interval fell
        # below the stated model's truth (docs/internals.md, "auto").
        c_focus = min(c_pooled, fit_symmetric_beta(focus_pit)) if self.calibrate else 1.0
        spread, focus_spread = max(c_pooled, self.min_spread), max(c_focus, self.min_spread)
        evidence["spread_calibration"] = {
            "c": spread,
            "c_focus": focus_spread,
            "c_fitted": c_pooled,
            "c_focus_fitted": c_focus,
            "min_c": self.min_spread,
            "n_pit": int(pit.size),
            "n_pit_focus": int(focus_pit.size),
            "inner_pit_coverage_80": central_coverage(pit, 0.8) if pit.size else None,
            "rule": (
                "paths mapped through Beta(c, c) fitted by maximum likelihood to the PIT "
                "values of the chosen candidates' inner forecasts (c < 1 widens); the focus "
                "regions take the smaller of that c and the one of their own PIT values; "
                f"neither goes below {self.min_spread:g}"
            ),
        }
        quiet_window = self._active_window(history)
        adjacency = _first_order_adjacency(history.region_ids, self.boundaries)
        classes = (
            ", with an active neighbour or not as the region has now"
            if adjacency is not None
            else " (no geography: one class)"
        )
        evidence["quiet_regions"] = {
            "weight": self.analog_weight,
            "by_neighbourhood": adjacency is not None,
            "rule": (
                f"regions other than the focus with no event in the last {quiet_window} "
                f"periods: each path is, with probability {self.analog_weight:g}, the observed "
                f"continuation of a region that was as quiet at one of the {self.analog_lookback}"
                f" latest origins whose steps are observed{classes} (the reference class), "
                "else the chosen model's"
            ),
        }
        if self.onset_reference is not None:
            evidence["quiet_regions"].update(_onset_rule(self.onset_reference, self))
        picks = tuple(dict.fromkeys((*plan["focus"], *plan["other"])))
        fits = {m: models[m].fit(history) for m in picks}
        mask = np.isin(np.asarray(history.region_ids), list(self.focus))
        return AutoFitted(
            history, self.name, chosen, fits[plan["focus"][0]], evidence, spread,
            focus_spread=focus_spread, fits=fits, plan=plan, bounds=tuple(bounds),
            focus_mask=mask, picks=picks, quiet_window=quiet_window,
            analog_lookback=self.analog_lookback, analog_weight=self.analog_weight,
            adjacency=adjacency, onset_reference=self.onset_reference,
            onset_horizon=self.horizon,
            dependence=member_fit(self.dependence, history) if self.dependence else None,
        )  # fmt: skip


def _onset_rule(ref: Any, rule: AutoForecaster) -> dict[str, Any]:
    """The quiet regions' rule in the evidence when an onset reference can drive them."""
    from analysis.models.onset_reference import training_words

    return {
        "onset_reference": {
            **ref.summary(),
            "first_period": period_label(ref.periods[0], ref.freq),
        },
        "rule": (
            f"regions with no event in the last {ref.quiet} periods (a focus region too): each "
            "path holds an event with the onset model's probability, the model "
            f"fitted on the quiet units of all {training_words(ref.summary())} whose outcome "
            "had ended by the origin; a path "
            "with an event is the observed continuation of a unit quiet at one of the "
            f"{rule.analog_lookback} latest such origins that had one, a path without is "
            "empty (where the onset model cannot be fitted, the reference class of the study's "
            "own quiet regions is mixed in instead)"
        ),
    }


def _first_order_adjacency(region_ids: tuple[str, ...], boundaries: Any) -> np.ndarray | None:
    """Boolean first-order adjacency of the regions, or None without geography (or when the
    boundaries do not cover every region): the reference class of quiet regions is then one."""
    if boundaries is None:
        return None
    from analysis.errors import InputError
    from analysis.geography import adjacency_order_matrix

    try:
        return np.asarray(adjacency_order_matrix(list(region_ids), boundaries)) == 1
    except InputError:  # regions the boundaries do not know
        return None


def _rows(by_model: dict[str, tuple[float, float]]) -> list[dict[str, Any]]:
    return [
        {"model": m, "crps_fair": s, "mc_se": float(np.sqrt(v))} for m, (s, v) in by_model.items()
    ]


def plan_label(picks: tuple[str, ...], bounds: tuple[tuple[int, int], ...]) -> str:
    """One group's candidates in words, for readers.

    Parameters
    ----------
    picks : tuple of str
        The candidate of each block (:attr:`AutoFitted.plan` of one group).
    bounds : tuple of (int, int)
        The blocks' column slices of steps 1..h (:attr:`AutoFitted.bounds`).

    Returns
    -------
    str
        One name when one candidate serves every step, else each run of steps, e.g.
        ``"ensemble_local at steps 1-3, ensemble_trend at steps 4-12"``.
    """
    spans = [(a + 1, b) for a, b in bounds]
    return _runs_label(picks, spans, "{m} at step {a}", "{m} at steps {a}-{b}")


def plan_switches(
    picks: tuple[str, ...], bounds: tuple[tuple[int, int], ...]
) -> list[tuple[int, str, str]]:
    """Where one group's candidate changes from one block of steps to the next.

    Parameters
    ----------
    picks, bounds
        As in :func:`plan_label`.

    Returns
    -------
    list of (int, str, str)
        The first step (1-based) of each block whose candidate differs from the block before,
        that candidate before and the new one, in step order; empty when one candidate serves
        every step.
    """
    return [
        (bounds[k][0] + 1, picks[k - 1], picks[k])
        for k in range(1, len(picks))
        if picks[k] != picks[k - 1]
    ]


def _label(picks: tuple[str, ...], keys: list[str]) -> str:
    """One name when every block chose it, else each run of blocks with its steps."""
    spans = [(int(k.split("-")[0]), int(k.split("-")[-1])) for k in keys]
    return _runs_label(picks, spans, "{m} (step {a})", "{m} (steps {a}-{b})")


def _runs_label(
    picks: tuple[str, ...], spans: list[tuple[int, int]], one: str, several: str
) -> str:
    """Consecutive blocks with the same pick merged into runs, each written with ``one`` (a
    run of one step) or ``several`` (``{m}``, ``{a}``, ``{b}``: the pick, first and last
    step); the pick alone when one serves every block."""
    if len(set(picks)) == 1:
        return picks[0]
    runs: list[list] = []
    for (a, b), m in zip(spans, picks, strict=True):
        if runs and runs[-1][0] == m:
            runs[-1][2] = b
        else:
            runs.append([m, a, b])
    return ", ".join((one if a == b else several).format(m=m, a=a, b=b) for m, a, b in runs)
