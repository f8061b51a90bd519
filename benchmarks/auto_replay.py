"""Offline replay of ``auto``'s selection rules on real UCDP windows, in seconds, not hours.

A full ``benchmarks/backtest_auto_real.py`` run refits every candidate at every inner origin of
every outer origin. Every rule ``auto`` has used (and the ones tried instead) only mixes the
same few base forecasters, fitted on the history up to an origin. So this script:

1. ``cache``: fits each base model (local level, damped trend, the baselines) once at every
   origin of a window (every month with 36 months of history), draws ``--samples`` paths of
   12 steps and keeps each region's predictive CDF on 0..K (K = twice the region's largest
   count + 30) in a pickle;
2. ``replay``: scores rules with the *exact* CRPS of the mixture CDFs (a mixture's CRPS is a
   quadratic form in its weights, so inner scores of any weighting cost a matrix product),
   with the inner origins ``auto`` uses (12, every 3 months, all 12 steps observed before the
   outer origin), the per-group choice (focus / other active regions), the ``Beta(c, c)``
   spread calibration fitted on the inner PIT values, and the baselines' exact CRPS. It
   prints one JSON line: per window, rule and part (dev, held_out, all), the CRPS, the best
   baseline, the skill overall and by step, the steps lost and the randomised-PIT 80%
   coverage;
   ``augment`` adds to an older cache the members it lacks (``nb_climatology_36``), with the
   same seeds;
3. ``oracle``: the best case of any *fixed* pooling of the cached members (same weights in
   every window), per step, chosen with hindsight (see :func:`oracle`). On the central Sahel,
   Nigeria and Algeria windows (origins 2014-01..2019-12, all origins) it is negative at
   steps 7-10 and 12 (between -0.1% and -0.8%; steps 6-12, to -1.1%, without
   ``nb_climatology_36``), so no
   fixed pooling can meet "at or below the best baseline at every step" everywhere; a rule
   has to tell the windows apart from their inner scores, and none of those in ``RULES``
   did (the NB climatology is the best baseline at every step in Nigeria and behind the
   recent means and conflictology in the central Sahel; the inner scores did not say which).

Exploration only: the replay has no Monte Carlo error (exact CRPS), so it omits ``auto``'s
"simplest within 2 Monte Carlo SE" tolerance, and the acceptance figures still come from
``backtest_auto_real.py``. Its ``current`` rule reproduced the last full run's skills to
0.0-0.2 points (Nigeria all -2.2% against -2.3%, held-out -3.8% against -3.8%). Usage::

    CONFLICT_TRENDS_REAL_DATA=/path/ged.csv .venv/bin/python benchmarks/auto_replay.py \
        cache --study benchmarks/real_study_nigeria.yaml --out /tmp/replay/nigeria.pkl
    .venv/bin/python benchmarks/auto_replay.py replay /tmp/replay/*.pkl
    .venv/bin/python benchmarks/auto_replay.py oracle /tmp/replay/*.pkl --parts all
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import optimize, stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MEMBERS = ["local_level", "damped_trend", "recent_mean_6", "conflictology", "nb_climatology",
           "zero", "last_value", "recent_mean_3", "nb_climatology_36"]  # fmt: skip
BASELINES = ["zero", "last_value", "recent_mean_3", "recent_mean_6", "conflictology",
             "nb_climatology"]  # fmt: skip
IX = {m: i for i, m in enumerate(MEMBERS)}
H = 12
BLOCKS = (slice(0, 3), slice(3, 6), slice(6, 12))


def _study_history(study_rel: str):
    from analysis.config import load_study
    from analysis.models.forecast import panel_to_history
    from analysis.pipeline import prepare

    study = yaml.safe_load((ROOT / study_rel).read_text())
    study["data"] = [str(Path(os.environ["CONFLICT_TRENDS_REAL_DATA"]).resolve())]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "study.yaml"
        path.write_text(yaml.safe_dump(study, sort_keys=False))
        st = load_study(path)
        data = prepare(st)
    return st, panel_to_history(data.panel)


def _member_cdfs(hist, members: list[str], ts: list[int], K: np.ndarray, n: int) -> dict:
    """Each member's sampled CDFs on 0..K[r] at every origin (seed ``1000 + t``)."""
    from analysis.models.registry import get

    R = hist.counts.shape[0]
    cdf = {m: [np.zeros((len(ts), H, K[r]), np.float32) for r in range(R)] for m in members}
    steps = np.repeat(np.arange(H), n)
    for i, t in enumerate(ts):
        sub = hist.until(t)
        for m in members:
            s = get(m).fit(sub).sample_paths(H, n, np.random.default_rng(1000 + t))
            for r in range(R):
                counts = np.zeros((H, K[r]))
                np.add.at(counts, (steps, np.clip(s[r], 0, K[r] - 1).ravel()), 1.0)
                cdf[m][r][i] = np.cumsum(counts, axis=1) / n
    return cdf


def build_cache(study_rel: str, out: Path, n: int) -> None:
    """Fit every base model at every origin of the study's window and pickle the CDFs."""
    from analysis.io import atomic_write_with

    st, hist = _study_history(study_rel)
    y = hist.counts
    K = (2 * y.max(axis=1) + 30).astype(int)
    ts = list(range(36, y.shape[1]))
    cdf = _member_cdfs(hist, MEMBERS, ts, K, n)
    res = {"ts": ts, "counts": y, "regions": hist.region_ids, "periods": hist.periods,
           "focus": tuple(st.focus), "cdf": cdf, "study": study_rel, "samples": n}  # fmt: skip
    atomic_write_with(out, lambda p: p.write_bytes(pickle.dumps(res)))


def augment_cache(path: Path, n: int) -> None:
    """Add the members a cache lacks (made before they joined ``MEMBERS``), same seeds."""
    from analysis.io import atomic_write_with

    d = pickle.loads(Path(path).read_bytes())
    missing = [m for m in MEMBERS if m not in d["cdf"]]
    if missing:
        _, hist = _study_history(d["study"])
        if not np.array_equal(hist.counts, d["counts"]):
            sys.exit(f"{path}: the data changed since the cache was made; rebuild it")
        K = np.array([d["cdf"][MEMBERS[0]][r].shape[-1] for r in range(len(d["regions"]))])
        d["cdf"].update(_member_cdfs(hist, missing, d["ts"], K, d.get("samples", n)))
        atomic_write_with(Path(path), lambda p: p.write_bytes(pickle.dumps(d)))


class Window:
    """A cached window with each origin's CRPS quadratic forms and PIT ingredients."""

    def __init__(self, path: Path):
        d = pickle.loads(Path(path).read_bytes())
        missing = [m for m in MEMBERS if m not in d["cdf"]]
        if missing:
            sys.exit(f"{path} lacks {missing}: run `auto_replay.py augment {path}` first")
        self.__dict__.update(d)
        y = self.counts.astype(float)
        R, T = y.shape
        nt, M = len(self.ts), len(MEMBERS)
        self.R = R
        # CRPS(sum_m w_m F_m, y) = w'Aw - 2 w'b + c, summed over the count grid
        self.A = np.zeros((nt, R, H, M, M))
        self.b = np.zeros((nt, R, H, M))
        self.c = np.zeros((nt, R, H))
        self.lo = np.zeros((nt, R, H, M))  # F_m(y - 1)
        self.hi = np.zeros((nt, R, H, M))  # F_m(y)
        self.obs = np.full((nt, R, H), np.nan)
        for i, t in enumerate(self.ts):
            av = min(H, T - t)
            self.obs[i, :, :av] = y[:, t : t + av]
        for r in range(R):
            F = np.stack([self.cdf[m][r] for m in MEMBERS], axis=2).astype(float)
            K = F.shape[-1]
            yy = np.nan_to_num(self.obs[:, r], nan=-1).astype(int)
            ind = (np.arange(K) >= yy[..., None]).astype(float)
            ind[yy < 0] = 0.0
            self.A[:, r] = np.einsum("thmk,thnk->thmn", F, F)
            self.b[:, r] = np.einsum("thmk,thk->thm", F, ind)
            self.c[:, r] = ind.sum(-1)
            at = np.clip(yy, 0, K - 1)[..., None, None].repeat(M, 2)
            below = np.clip(yy - 1, 0, K - 1)[..., None, None].repeat(M, 2)
            self.hi[:, r] = np.take_along_axis(F, at, -1)[..., 0]
            self.lo[:, r] = np.where(
                (yy > 0)[..., None], np.take_along_axis(F, below, -1)[..., 0], 0.0
            )
        self.valid = ~np.isnan(self.obs)
        self.active = np.stack([y[:, max(0, t - 12) : t].sum(1) > 0 for t in self.ts])
        self.is_focus = np.isin(np.array(self.regions), list(self.focus))
        self.index = {t: i for i, t in enumerate(self.ts)}
        self.origin = pd.DatetimeIndex([self.periods[t - 1] for t in self.ts])

    def crps(self, i: int, w: np.ndarray) -> np.ndarray:
        """Exact CRPS (region, step) of the mixture with weights ``w`` (step, member)."""
        A, b, c = self.A[i], self.b[i], self.c[i]
        return np.einsum("hm,rhmn,hn->rh", w, A, w) - 2 * np.einsum("rhm,hm->rh", b, w) + c

    def pit(self, i: int, w: np.ndarray, u: np.ndarray) -> np.ndarray:
        lo = np.einsum("rhm,hm->rh", self.lo[i], w)
        return lo + u * (np.einsum("rhm,hm->rh", self.hi[i], w) - lo)

    def crps_calibrated(self, i: int, w: np.ndarray, c: float) -> np.ndarray:
        """Exact CRPS of ``B_c(F)``, the mixture after the spread calibration."""
        out = np.zeros((self.R, H))
        for r in range(self.R):
            F = np.stack([self.cdf[m][r][i] for m in MEMBERS], axis=1).astype(float)
            G = np.einsum("hmk,hm->hk", F, w)
            if c != 1.0:
                G = stats.beta.cdf(np.clip(G, 0, 1), c, c)
            yy = np.nan_to_num(self.obs[i, r], nan=np.inf)
            out[r] = ((G - (np.arange(G.shape[1]) >= yy[:, None])) ** 2).sum(-1)
        return out

    def inner(
        self, t: int, n: int = 12, stride: int = 3, min_train: int = 36, last_step: int = H
    ) -> list[int]:
        """Inner origins of outer origin ``t``: ``n`` origins ``stride`` apart, the latest
        one whose steps 1..``last_step`` are observed before ``t`` (``auto`` uses ``H``)."""
        seen = [s for s in range(t - last_step, 0, -stride) if s >= min_train][:n]
        return [self.index[s] for s in sorted(seen) if s in self.index]

    def groups(self, j: int) -> dict[str, np.ndarray]:
        return {"focus": self.is_focus, "other": self.active[j] & ~self.is_focus}


def mix(*names: str) -> np.ndarray:
    w = np.zeros((H, len(MEMBERS)))
    w[:, [IX[m] for m in names]] = 1.0 / len(names)
    return w


def decayed(members: tuple[str, ...], level: str, rho: float) -> np.ndarray:
    """Equal mixture of ``members`` whose ``level`` member's weight decays as ``rho**(h-1)``,
    the weight it loses going to the other members in proportion."""
    w = mix(*members)
    keep = rho ** np.arange(H)
    lost = w[:, IX[level]] * (1 - keep)
    w[:, IX[level]] *= keep
    rest = [IX[m] for m in members if m != level]
    w[:, rest] += lost[:, None] / len(rest)
    return w


CANDIDATES = {
    "ensemble_local": mix("local_level", "recent_mean_6", "conflictology"),
    "ensemble_climatology": mix("local_level", "recent_mean_6", "conflictology", "nb_climatology"),
    "ensemble_trend": mix("damped_trend", "recent_mean_6", "conflictology"),
}
DECAYED = {
    "ensemble_local": decayed(
        ("local_level", "recent_mean_6", "conflictology"), "local_level", 0.85
    ),
    "ensemble_climatology": decayed(
        ("local_level", "recent_mean_6", "conflictology", "nb_climatology"), "local_level", 0.85
    ),
    "ensemble_trend": decayed(
        ("damped_trend", "recent_mean_6", "conflictology"), "damped_trend", 0.85
    ),
}
Rule = Callable[[Window, int, list[int]], tuple[np.ndarray, np.ndarray]]


def choose_rule(
    cands: dict[str, np.ndarray],
    blocks=(slice(0, H),),
    *,
    fresh: bool = False,
    orders: tuple[tuple[str, ...], ...] | None = None,
    tol: tuple[float, ...] | None = None,
    focus_cands: tuple[str, ...] | None = None,
) -> Rule:
    """``auto``'s rule: per group (and per step block), the candidate of lowest inner CRPS.

    ``fresh``: each block is scored on the latest origins whose block steps are observed
    before the outer origin (``auto`` uses those whose every step 1..12 is). ``orders`` and
    ``tol`` (per block): the first candidate in the order within ``tol`` (relative) of the
    best, the replay's stand-in for ``auto``'s "simplest within the Monte Carlo error".
    ``focus_cands``: the focus group chooses only among these.
    """
    names = list(cands)

    def rule(W: Window, t: int, inner: list[int]) -> tuple[np.ndarray, np.ndarray]:
        picked = {g: np.array(cands[names[0]]) for g in ("focus", "other")}
        for k, bl in enumerate(blocks):
            js = W.inner(t, last_step=bl.stop) if fresh else inner
            order = list(orders[k]) if orders else names
            for g in picked:
                allowed = [m for m in order if g != "focus" or focus_cands is None
                           or m in focus_cands]  # fmt: skip
                sc = {}
                for name in allowed:
                    x = [W.crps(j, cands[name])[W.groups(j)[g]][:, bl] for j in js]
                    v = [W.valid[j][W.groups(j)[g]][:, bl] for j in js]
                    vals = np.concatenate([a[m] for a, m in zip(x, v, strict=True)] or [[]])
                    if vals.size:
                        sc[name] = vals.mean()
                if sc:
                    best = min(sc.values())
                    rel = tol[k] if tol else 0.0
                    pick = next(m for m in allowed if m in sc and sc[m] <= best * (1 + rel))
                    picked[g][bl] = cands[pick][bl]
        return picked["focus"], picked["other"]

    return rule


def stacking_rule(target: np.ndarray, shrink: float) -> Rule:
    """Per group and step block, the weights of local level, 6-month mean, conflictology and
    NB climatology that minimise the inner CRPS, shrunk by ``shrink`` toward ``target``."""
    ms = [IX[m] for m in ("local_level", "recent_mean_6", "conflictology", "nb_climatology")]

    def rule(W: Window, t: int, inner: list[int]) -> tuple[np.ndarray, np.ndarray]:
        out = []
        for g in ("focus", "other"):
            w = np.array(target)
            for bl in BLOCKS:
                A, b = np.zeros((4, 4)), np.zeros(4)
                for j in inner:
                    rows, v = W.groups(j)[g], W.valid[j][W.groups(j)[g]][:, bl]
                    A += W.A[j][rows][:, bl][:, :, ms][..., ms][v].sum(0)
                    b += W.b[j][rows][:, bl][:, :, ms][v].sum(0)
                if not b.any():
                    continue
                res = optimize.minimize(
                    lambda x, A=A, b=b: x @ A @ x - 2 * b @ x, np.full(4, 0.25),
                    jac=lambda x, A=A, b=b: 2 * A @ x - 2 * b, bounds=[(0, 1)] * 4,
                    constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1}], method="SLSQP",
                )  # fmt: skip
                fit = np.zeros(len(MEMBERS))
                fit[ms] = np.clip(res.x, 0, 1) / np.clip(res.x, 0, 1).sum()
                w[bl] = (1 - shrink) * fit + shrink * target[bl]
            out.append(w)
        return out[0], out[1]

    return rule


RULES: dict[str, Rule] = {
    "current": choose_rule(CANDIDATES),
    "current_by_block": choose_rule(CANDIDATES, BLOCKS),
    "decayed_level": choose_rule(DECAYED),
    "ensemble_local_decayed_fixed": choose_rule({"d": DECAYED["ensemble_local"]}),
    "stacking_to_decayed_local": stacking_rule(DECAYED["ensemble_local"], 2 / 3),
    "decay_to_nb_climatology_fixed": choose_rule(
        {
            "d": 0.5 * 0.7 ** np.arange(H)[:, None] * mix("local_level", "recent_mean_6")
            + (1 - 0.5 * 0.7 ** np.arange(H))[:, None] * mix("nb_climatology")
        }  # fmt: skip
    ),
}

# Issue 10, Nigeria: the NB climatology (the best baseline there) with more weight than the
# quarter it has in ensemble_climatology. Each is a mixture of the level ensemble and the
# climatology; the rules below choose their weight per block and group from inner scores.
NBC_MIXTURES = {
    **CANDIDATES,
    "local_nbc_half": 0.5 * CANDIDATES["ensemble_local"] + 0.5 * mix("nb_climatology"),
    "local_nbc_three_quarters": 0.25 * CANDIDATES["ensemble_local"] + 0.75 * mix("nb_climatology"),
}
CLIMATOLOGY36 = {
    **CANDIDATES,
    "ensemble_climatology36": 0.5 * CANDIDATES["ensemble_local"] + 0.5 * mix("nb_climatology_36"),
    "ensemble_climatology36_heavy": 0.25 * CANDIDATES["ensemble_local"]
    + 0.75 * mix("nb_climatology_36"),
}
CLIMATOLOGY_FIRST = ("local_nbc_three_quarters", "local_nbc_half", "ensemble_climatology",
                     "ensemble_local", "ensemble_trend")  # fmt: skip


def vote_rule(cands: dict[str, np.ndarray], blocks=BLOCKS) -> Rule:
    """Per group and block, each candidate weighted by the share of (fresh) inner origins at
    which it had the lowest CRPS: a hedge against a choice that flips between origins."""
    names = list(cands)

    def rule(W: Window, t: int, inner: list[int]) -> tuple[np.ndarray, np.ndarray]:
        out = []
        for g in ("focus", "other"):
            w = np.array(cands[names[0]])
            for bl in blocks:
                votes = np.zeros(len(names))
                for j in W.inner(t, last_step=bl.stop):
                    rows = W.groups(j)[g]
                    v = W.valid[j][rows][:, bl]
                    if v.any():
                        s = [W.crps(j, cands[m])[rows][:, bl][v].mean() for m in names]
                        votes[int(np.argmin(s))] += 1
                if votes.sum():
                    p = votes / votes.sum()
                    w[bl] = sum(p[k] * cands[m][bl] for k, m in enumerate(names))
            out.append(w)
        return out[0], out[1]

    return rule


RULES.update(
    {
        "current_by_block_fresh": choose_rule(CANDIDATES, BLOCKS, fresh=True),
        "fixed_local_nbc_three_quarters": choose_rule(
            {"x": NBC_MIXTURES["local_nbc_three_quarters"]}
        ),
        "nbc_mixtures_by_block": choose_rule(NBC_MIXTURES, BLOCKS, fresh=True),
        "nbc_mixtures_climatology_first_2pct": choose_rule(
            NBC_MIXTURES,
            BLOCKS,
            fresh=True,
            orders=(tuple(NBC_MIXTURES), CLIMATOLOGY_FIRST, CLIMATOLOGY_FIRST),
            tol=(0.0, 0.02, 0.02),
        ),  # fmt: skip
        "nbc_mixtures_other_regions_only": choose_rule(
            NBC_MIXTURES, BLOCKS, fresh=True, focus_cands=tuple(CANDIDATES)
        ),
        "nbc_mixtures_vote": vote_rule(NBC_MIXTURES),
        # auto's candidates since issue 10's last pass (analysis/models/auto.py), fresh block
        # origins; first with the focus choosing among the first three only
        "climatology36_other_regions": choose_rule(
            CLIMATOLOGY36, BLOCKS, fresh=True, focus_cands=tuple(CANDIDATES)
        ),
        # auto's default: every group chooses among all five
        "climatology36_every_group": choose_rule(CLIMATOLOGY36, BLOCKS, fresh=True),
        "nbc_alone_by_block": choose_rule(
            {**NBC_MIXTURES, "nb_climatology": mix("nb_climatology")}, BLOCKS, fresh=True
        ),
    }
)


def run(
    W: Window, rule: Rule, start: str, end: str, seed: int = 0, calibration: str = "focus-wider"
) -> list:
    """Outer origins: the rule's weights from the inner origins, calibrated, scored exactly.

    ``calibration``: ``"pooled"``, one ``c`` from both groups' inner PIT values (``auto``
    before issue 10's last pass); ``"per-group"``, one for the focus regions and one for the
    others, each from its group's; ``"focus-wider"`` (``auto``'s), the pooled one for the
    others and the smaller of it and their own for the focus regions."""
    from analysis.models.calibration import fit_symmetric_beta

    rng = np.random.default_rng(seed)
    rows = []
    for i, t in enumerate(W.ts):
        if not pd.Timestamp(start) <= W.origin[i] <= pd.Timestamp(end):
            continue
        inner = W.inner(t)
        if not inner:
            continue
        wf, wo = rule(W, t, inner)
        pits: dict[str, list[np.ndarray]] = {"focus": [], "other": []}
        for j in inner:
            u = rng.uniform(size=(W.R, H))
            for (g, rows_), w in zip(W.groups(j).items(), (wf, wo), strict=True):
                pits[g].append(W.pit(j, w, u)[rows_][W.valid[j][rows_]])
        fit = lambda x: fit_symmetric_beta(np.clip(np.concatenate(x), 1e-9, 1 - 1e-9))  # noqa: E731
        pooled = fit(pits["focus"] + pits["other"])
        if calibration == "per-group":
            cf, co = fit(pits["focus"]), fit(pits["other"])
        elif calibration == "focus-wider":
            cf, co = min(pooled, fit(pits["focus"])), pooled
        else:
            cf = co = pooled
        f = W.is_focus[:, None]
        s = np.where(f, W.crps_calibrated(i, wf, cf), W.crps_calibrated(i, wo, co))
        u = rng.uniform(size=(W.R, H))
        pit = np.where(
            f, stats.beta.cdf(W.pit(i, wf, u), cf, cf), stats.beta.cdf(W.pit(i, wo, u), co, co)
        )
        rows.append((W.origin[i], s, pit))
    return rows


def scorecard(W: Window, rows: list, start: str, end: str, split: str) -> dict:
    """Per part: CRPS against the best baseline overall and at every step, and PIT-80."""
    base = {
        b: [
            (W.origin[i], W.crps(i, mix(b)))
            for i in range(len(W.ts))
            if pd.Timestamp(start) <= W.origin[i] <= pd.Timestamp(end)
        ]  # fmt: skip
        for b in BASELINES
    }
    cut = pd.Timestamp(split)
    out = {}
    for part, keep in (("dev", lambda o: o < cut), ("held_out", lambda o: o >= cut),
                       ("all", lambda o: True)):  # fmt: skip
        a = np.nanmean(np.stack([s for o, s, _ in rows if keep(o)]), axis=(0, 1))
        bm = {b: np.nanmean(np.stack([s for o, s in v if keep(o)]), axis=(0, 1))
              for b, v in base.items()}  # fmt: skip
        best = min(bm, key=lambda b: bm[b].mean())
        per_step = np.min(np.stack(list(bm.values())), axis=0)
        pit = np.concatenate([p[np.isfinite(p)] for o, _, p in rows if keep(o)])
        skill = 1 - a / per_step
        out[part] = {
            "crps": round(float(a.mean()), 4),
            "best_baseline": best,
            "best_baseline_crps": round(float(bm[best].mean()), 4),
            "skill": round(float(1 - a.mean() / bm[best].mean()), 4),
            "skill_by_step": [round(float(x), 4) for x in skill],
            "steps_lost": int((skill < 0).sum()),
            "pit_coverage_80": round(float(((pit > 0.1) & (pit < 0.9)).mean()), 3),
        }
    return out


def simplex_grid(members: int, steps: int) -> np.ndarray:
    """Every weight vector over ``members`` whose weights are multiples of ``1 / steps``."""
    rows: list[tuple[int, ...]] = []

    def walk(left: int, k: int, prefix: tuple[int, ...]) -> None:
        if k == 1:
            rows.append((*prefix, left))
            return
        for i in range(left + 1):
            walk(left - i, k - 1, (*prefix, i))

    walk(steps, members, ())
    return np.array(rows, dtype=float) / steps


def oracle(windows: list[Window], parts: tuple[str, ...], start: str, end: str, split: str,
           grid: int = 10) -> dict:  # fmt: skip
    """Best case of any *fixed* pooling of the cached members (the same weights in every
    window and for every region): per step, the weights (multiples of ``1 / grid``) chosen
    *with hindsight* to maximise the smallest skill against the per-step best baseline over
    every window and part, without the spread calibration. Where that smallest skill is
    negative, no fixed pooling meets "at or below the best baseline at every step" in all the
    windows at once: a rule must then tell the windows apart from their inner scores."""
    cut, lo, hi = pd.Timestamp(split), pd.Timestamp(start), pd.Timestamp(end)
    M = len(MEMBERS)
    keep = {"dev": lambda o: o < cut, "held_out": lambda o: o >= cut, "all": lambda o: True}
    quads = []  # per window and part: per-step mean A, b, c of the CRPS quadratic form
    for W in windows:
        for part in parts:
            idx = [i for i, o in enumerate(W.origin) if lo <= o <= hi and keep[part](o)]
            A, b = np.zeros((H, M, M)), np.zeros((H, M))
            c, n = np.zeros(H), np.zeros(H)
            for i in idx:
                v = W.valid[i].astype(float)
                A += np.einsum("rh,rhmn->hmn", v, W.A[i])
                b += np.einsum("rh,rhm->hm", v, W.b[i])
                c += (v * W.c[i]).sum(0)
                n += v.sum(0)
            quads.append((f"{Path(W.study).stem}:{part}", A / n[:, None, None], b / n[:, None],
                          c / n))  # fmt: skip
    grid_w = simplex_grid(M, grid)
    steps = []
    for h in range(H):
        skills = []
        for _, A, b, c in quads:
            crps = np.einsum("pm,mn,pn->p", grid_w, A[h], grid_w) - 2 * grid_w @ b[h] + c[h]
            base = min(A[h][IX[m], IX[m]] - 2 * b[h][IX[m]] + c[h] for m in BASELINES)
            skills.append(1 - crps / base)
        worst = np.min(skills, axis=0)
        k = int(np.argmax(worst))
        steps.append({
            "step": h + 1,
            "max_min_skill": round(float(worst[k]), 4),
            "weights": {
                m: round(float(x), 2) for m, x in zip(MEMBERS, grid_w[k], strict=True) if x
            },
            "skill": {q[0]: round(float(s[k]), 4) for q, s in zip(quads, skills, strict=True)},
        })  # fmt: skip
    return {"parts": list(parts), "grid": grid, "by_step": steps}


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cache")
    c.add_argument("--study", default="benchmarks/real_study.yaml")
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--samples", type=int, default=1000)
    r = sub.add_parser("replay")
    r.add_argument("caches", nargs="+", type=Path)
    r.add_argument("--rules", default=",".join(RULES))
    r.add_argument("--start", default="2014-01")
    r.add_argument("--end", default="2019-12")
    r.add_argument("--split", default="2018-01")
    r.add_argument("--calibration", choices=("pooled", "per-group", "focus-wider"),
                   default="focus-wider")  # fmt: skip
    a = sub.add_parser("augment")
    a.add_argument("caches", nargs="+", type=Path)
    a.add_argument("--samples", type=int, default=1000, help="for caches that do not say")
    o = sub.add_parser("oracle")
    o.add_argument("caches", nargs="+", type=Path)
    o.add_argument("--parts", default="all", help="comma-separated: all, dev, held_out")
    o.add_argument("--grid", type=int, default=10)
    o.add_argument("--start", default="2014-01")
    o.add_argument("--end", default="2019-12")
    o.add_argument("--split", default="2018-01")
    args = ap.parse_args()
    if args.cmd == "augment":
        if not os.environ.get("CONFLICT_TRENDS_REAL_DATA"):
            sys.exit("set CONFLICT_TRENDS_REAL_DATA to the UCDP GED CSV")
        for path in args.caches:
            augment_cache(path, args.samples)
        return
    if args.cmd == "oracle":
        windows = [Window(p) for p in args.caches]
        parts = tuple(args.parts.split(","))
        print(json.dumps(oracle(windows, parts, args.start, args.end, args.split, args.grid)))
        return
    if args.cmd == "cache":
        if not os.environ.get("CONFLICT_TRENDS_REAL_DATA"):
            sys.exit("set CONFLICT_TRENDS_REAL_DATA to the UCDP GED CSV")
        build_cache(args.study, args.out, args.samples)
        return
    result = {}
    for path in args.caches:
        W = Window(path)
        result[W.study] = {
            name: scorecard(
                W,
                run(W, RULES[name], args.start, args.end, calibration=args.calibration),
                args.start,
                args.end,
                args.split,
            )
            for name in args.rules.split(",")
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
