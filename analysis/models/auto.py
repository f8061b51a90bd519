"""``auto``: choose a model on the question the report asks, from the history only.

The report shows forecasts for steps 1..h of its focus region and the regions around it,
so candidates are compared on exactly that: rolling-origin forecasts at ``inner_origins``
origins inside the history (every step 1..h observed before the forecast origin, origins
``stride`` periods apart), scored with the fair (unbiased) CRPS over steps 1..h. The choice is
made twice on the same inner forecasts: once for the focus regions, on their own scores, and
once for the other regions, on the scores where they were active at the inner origin (quiet
regions, where every model says "nothing", would only dilute the differences); within a
group every region and step weighs the same. One choice for all regions with the focus
weighted half (the earlier rule) let one region's noisy scores choose for every region, or
many regions choose for the focus; in an offline replay on three real UCDP windows (central
Sahel, Nigeria, Algeria; 72 origins each) choosing per group gave lower CRPS in all three.

Sample-based scores carry Monte Carlo error. Each score's error is estimated from the
difference between the two halves of the samples. Candidates are listed from the simplest
to the most complex, and the first one within ``tolerance`` standard errors (of the
difference) of the best is chosen: a more complex candidate must beat it by more than that
error. The choice, every
candidate's score and error, and the rule are kept in the fitted state
(:attr:`AutoFitted.evidence`) for the JSON and the reports.

The same inner forecasts then calibrate the chosen candidate's spread: the PIT values
(:func:`~analysis.models.calibration.ensemble_pit`) of its inner forecasts (focus and active
regions, steps 1..h) give the ``c`` of a symmetric ``Beta(c, c)`` by maximum likelihood, and
the final paths are mapped through it (:mod:`analysis.models.calibration`; ``c < 1`` widens a
forecast whose past observations fell in its tails too often). Every candidate of the real
UCDP backtest was too narrow in this sense (randomised-PIT 80% coverage 0.74-0.76); the map
changes the spread only, never the centre.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from analysis.models.calibration import (
    central_coverage,
    ensemble_pit,
    fit_symmetric_beta,
    recalibrate_paths,
)
from analysis.models.forecast import Fitted, Forecaster, History
from analysis.scoring import crps_fair_halves

# listed in order of preference (simplest first): auto takes the first candidate within Monte
# Carlo error of the best. The level mixture (local level, 6-month mean, conflictology); the
# same with the negative-binomial climatology as a fourth member, a hedge toward the region's
# long-run distribution that has no dynamics of its own; the level mixture with the damped
# trend (per-region slopes). Picking among single models or baselines by inner scores was
# noisy: the baseline that wins over the inner origins is often not the one that wins next
# (on the real UCDP windows that cost 1-10% CRPS), and learned (stacking) weights did worse
# than equal ones; equal mixtures that contain both the recent and the long-run view were the
# most robust across windows (benchmarks/backtest_auto_real.py, docs/internals.md).
AUTO_CANDIDATES = ("ensemble_local", "ensemble_climatology", "ensemble_trend")


@dataclass(frozen=True)
class AutoFitted(Fitted):
    """The chosen candidates' fits, the spread calibration ``c`` and the evidence.

    ``fitted`` forecasts the focus regions; ``other``, when the other regions chose a
    different candidate, forecasts them (``focus_mask`` marks the focus rows). ``chosen`` is
    the label shown to readers; ``picks`` the candidates' names (one or two).
    """

    chosen: str
    fitted: Fitted
    evidence: dict[str, Any]
    spread: float = 1.0
    other: Fitted | None = None
    focus_mask: np.ndarray | None = None
    picks: tuple[str, ...] = ()

    def sample_paths(self, horizon, n, rng) -> np.ndarray:
        paths = self.fitted.sample_paths(horizon, n, rng)
        if self.other is not None and self.focus_mask is not None:
            # each group's paths are coherent over steps and over its regions; between the
            # focus and the other regions the two candidates' paths are drawn independently
            rest = ~self.focus_mask
            paths[rest] = self.other.sample_paths(horizon, n, rng)[rest]
        return recalibrate_paths(paths, self.spread, rng)


def choose(
    scores: dict[str, tuple[float, float]], order: tuple[str, ...], tolerance: float
) -> tuple[str, str]:
    """The first candidate in ``order`` (simplest first) whose mean score is within
    ``tolerance`` standard errors of the best one's; returns it and a sentence saying why.

    ``scores`` maps name to (mean score, squared standard error).
    """
    best = min(scores, key=lambda m: scores[m][0])
    b, vb = scores[best]
    for m in order:
        if m not in scores:
            continue
        s, v = scores[m]
        se = float(np.sqrt(v + vb))
        if m == best or s - b <= tolerance * se:
            if m == best:
                why = f"{m} had the lowest fair CRPS ({s:.4f})"
            else:
                why = (
                    f"{m} is simpler than {best} and within {tolerance:g} Monte Carlo "
                    f"standard errors of it ({s:.4f} vs {b:.4f}, error {se:.4f})"
                )
            return m, why
    return best, f"{best} had the lowest fair CRPS ({b:.4f})"


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
        Calibrate the chosen candidate's spread on the inner forecasts (module docstring).
    """

    name: str = "auto"
    description: str = "chooses a model by rolling-origin fair CRPS at steps 1..h"
    candidates: tuple[str, ...] = AUTO_CANDIDATES
    horizon: int = 12
    inner_origins: int = 12
    stride: int = 3
    inner_samples: int = 400
    tolerance: float = 2.0
    active_window: int = 12
    min_train: int = 36
    focus: tuple[str, ...] = ()
    boundaries: Any = field(default=None, repr=False, compare=False)
    seed: int = 0
    calibrate: bool = True

    def restricted_to(self, fitted: AutoFitted, inner_samples: int) -> AutoForecaster:
        """This rule limited to the candidates ``fitted`` chose, under its label.

        Backtesting it scores the forecast a report shows (per-group choice and spread
        calibration included) without re-running the comparison of every candidate.
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

        Returns the inner origins, ``scores[group][model] = (mean, squared MC error)`` and
        ``pit[group][model]``, the PIT values of the same forecasts.
        """
        from analysis.cross_validation import cross_validation

        T = history.counts.shape[1]
        H = self.horizon
        last = T - H  # periods seen at the last origin whose steps 1..H are all observed
        seen = [t for t in range(last, 0, -self.stride) if t >= self.min_train]
        seen = sorted(seen[: self.inner_origins])
        if not seen:
            return {"origins": [], "scores": {}, "pit": {}}
        is_focus = np.isin(np.asarray(history.region_ids), list(self.focus))
        parts: dict[str, dict[str, list[np.ndarray]]] = {}
        pits: dict[str, dict[str, list[np.ndarray]]] = {}
        for fold in cross_validation(
            history, self._models(), seen, H, n_samples=self.inner_samples, seed=self.seed,
            active_window=self.active_window, cache=True,
        ):  # fmt: skip
            rng = np.random.default_rng(self.seed + fold.seen)
            for g, rows in (("focus", is_focus), ("other", fold.active & ~is_focus)):
                if not rows.any():
                    continue
                halves = crps_fair_halves(fold.observed[rows], fold.result.samples[rows])
                parts.setdefault(g, {}).setdefault(fold.model, []).append(halves.reshape(-1, 2))
                pit = ensemble_pit(fold.observed[rows], fold.result.samples[rows], rng)
                pits.setdefault(g, {}).setdefault(fold.model, []).append(pit.ravel())
        scores: dict[str, dict[str, tuple[float, float]]] = {}
        for g, by_model in parts.items():
            for m, chunks in by_model.items():
                hv = np.concatenate(chunks)
                hv = hv[np.isfinite(hv).all(axis=1)]
                n = len(hv)
                if not n:
                    continue
                # per-forecast MC variance of the full-sample estimate ~ (half1 - half2)**2/4
                var = float(((hv[:, 0] - hv[:, 1]) ** 2 / 4).sum() / n**2)
                scores.setdefault(g, {})[m] = (float(hv.mean()), var)
        return {
            "origins": [f"{history.periods[t - 1]:%Y-%m}" for t in seen],
            "scores": scores,
            "pit": {
                g: {m: np.concatenate(v) for m, v in by_model.items()}
                for g, by_model in pits.items()
            },
        }

    def fit(self, history: History) -> AutoFitted:
        ev = self.evaluate(history)
        models = {m.name: m for m in self._models()}
        picks: dict[str, str] = {}
        groups: dict[str, dict[str, Any]] = {}
        for g, by_model in ev["scores"].items():
            scores = {m: v for m, v in by_model.items() if np.isfinite(v[0])}
            if not scores:
                continue
            picks[g], why = choose(scores, self.candidates, self.tolerance)
            groups[g] = {
                "chosen": picks[g],
                "reason": why,
                "candidates": [
                    {"model": m, "crps_fair": s, "mc_se": float(np.sqrt(v))}
                    for m, (s, v) in by_model.items()
                ],
            }
        if not picks:
            first = self.candidates[0]
            picks = {"focus": first, "other": first}
            groups = {"all": {"chosen": first, "reason": "too short a history to compare; "
                              "simplest used", "candidates": []}}  # fmt: skip
        focus_pick = picks.get("focus", picks.get("other"))
        other_pick = picks.get("other", focus_pick)
        chosen = (
            focus_pick
            if focus_pick == other_pick
            else f"{focus_pick} (focus), {other_pick} (other regions)"
        )
        main = groups.get("focus", next(iter(groups.values())))
        evidence = {
            "chosen": chosen,
            "reason": "; ".join(f"{g}: {v['reason']}" for g, v in groups.items()),
            "rule": (
                f"fair CRPS at steps 1-{self.horizon}, chosen separately for the focus regions "
                "and for the other regions (scored where active; every region and step "
                f"weighted the same), {len(ev['origins'])} inner origins {self.stride} periods "
                f"apart, {self.inner_samples} samples; simplest within {self.tolerance:g} "
                f"Monte Carlo standard errors of the best, in the order "
                f"{', '.join(self.candidates)}"
            ),
            "origins": ev["origins"],
            "candidates": main["candidates"],
            "groups": groups,
        }
        pit = np.concatenate(
            [ev["pit"][g][picks[g]] for g in picks if picks[g] in ev["pit"].get(g, {})]
            or [np.empty(0)]
        )
        spread = fit_symmetric_beta(pit) if self.calibrate else 1.0
        evidence["spread_calibration"] = {
            "c": spread,
            "n_pit": int(pit.size),
            "inner_pit_coverage_80": central_coverage(pit, 0.8) if pit.size else None,
            "rule": (
                "paths mapped through Beta(c, c) fitted by maximum likelihood to the PIT "
                "values of the chosen candidates' inner forecasts (c < 1 widens)"
            ),
        }
        fitted = models[focus_pick].fit(history)
        other = None
        if other_pick != focus_pick:
            other = models[other_pick].fit(history)
        mask = np.isin(np.asarray(history.region_ids), list(self.focus))
        return AutoFitted(
            history, self.name, chosen, fitted, evidence, spread, other=other, focus_mask=mask,
            picks=tuple(dict.fromkeys((focus_pick, other_pick))),
        )  # fmt: skip
