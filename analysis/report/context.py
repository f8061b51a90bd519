"""What a report notebook starts from: the study and its prepared data, read once per process.

In a batch the fork server calls :func:`load` before forking, so the events are read and the
panel built once per study and worker, not once per report; each forked report inherits them.
The cache is keyed by the study file's SHA-256 and the size and modification time of every
data file, so an edited input is never served stale.

Both are also kept on disk (pickles in ``data/processed/report-cache`` when the current folder
has ``data/processed``, else ``~/.cache/conflict-trends/report-cache``, or the folder named by
``CONFLICT_TRENDS_REPORT_CACHE``; ``off`` disables it), keyed as above plus the package's
source fingerprint, so a fresh process (a plain papermill kernel, the next batch) does not
redo a study's models either. The folder holds only what this code wrote; delete it freely.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from analysis.io import sha256_file


@dataclass(frozen=True)
class ReportContext:
    """A loaded study: ``study`` (``analysis.config.Study``), ``data`` (``StudyData``)."""

    study: Any
    data: Any
    study_sha256: str

    def study_identity(self) -> dict[str, Any]:
        """Title, slug, path and SHA-256 of the study file, for provenance."""
        return {
            "title": self.study.title,
            "slug": self.study.slug,
            "path": str(self.study.path),
            "sha256": self.study_sha256,
            "attribution": getattr(self.study, "attribution", ""),
        }


CACHE_ENV = "CONFLICT_TRENDS_REPORT_CACHE"

_CACHE: dict[tuple[Any, ...], ReportContext] = {}
_STUDIES: dict[tuple[Any, ...], Any] = {}
_MAX_STUDIES = 4


def _cache_dir() -> Path | None:
    value = os.environ.get(CACHE_ENV, "")
    if value.lower() == "off":
        return None
    if value:
        return Path(value)
    from analysis.config import DATA_PROCESSED

    if DATA_PROCESSED.is_dir():  # inside a project (a checkout or `conflict-trends init`)
        return DATA_PROCESSED / "report-cache"
    # elsewhere, the user's cache folder rather than a data/ tree made in any folder
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "conflict-trends" / "report-cache"


def _disk(kind: str, key: tuple[Any, ...], compute: Any) -> Any:
    """Return the cached pickle for (kind, key, code) or compute, store and return it."""
    import hashlib
    import json
    import pickle

    from analysis.io import atomic_write_bytes
    from analysis.report.provenance import code_fingerprint

    folder = _cache_dir()
    if folder is None:
        return compute()
    digest = hashlib.sha256(
        json.dumps([kind, key, code_fingerprint()], default=str).encode()
    ).hexdigest()
    path = folder / f"{kind}-{digest[:32]}.pkl"
    if path.is_file():
        try:
            with open(path, "rb") as handle:
                return pickle.load(handle)
        except Exception:  # noqa: BLE001 - a damaged cache entry is recomputed
            path.unlink(missing_ok=True)
    value = compute()
    try:
        atomic_write_bytes(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass  # a read-only cache folder only costs speed
    return value


def _memo(store: dict, kind: str, key: tuple[Any, ...], compute: Any) -> Any:
    """``store[key]``, else the disk cache of ``kind``, else ``compute()``; keeps at most
    ``_MAX_STUDIES`` entries in memory (oldest out first)."""
    if key not in store:
        value = _disk(kind, key, compute)
        if len(store) >= _MAX_STUDIES:
            store.pop(next(iter(store)))
        store[key] = value
    return store[key]


def _key(path: Path, study: Any) -> tuple[Any, ...]:
    stats = []
    for item in study.data:
        st = os.stat(item)
        stats.append((str(item), st.st_size, st.st_mtime_ns))
    return (str(path), sha256_file(path), tuple(stats))


def load(study_path: str | os.PathLike[str]) -> ReportContext:
    """Load and prepare a study, reusing this process's copy while its files are unchanged.

    Parameters
    ----------
    study_path : str or path
        The study YAML.

    Returns
    -------
    ReportContext
    """
    from analysis.config import load_study
    from analysis.pipeline import prepare

    path = Path(study_path).resolve()
    st = path.stat()
    study_key = (str(path), st.st_size, st.st_mtime_ns)
    study = _STUDIES.get(study_key)
    if study is None:  # validating a study resolves names against the boundaries: 0.2 s
        study = load_study(path)
        _STUDIES[study_key] = study
    key = _key(path, study)
    cached = _CACHE.get(key)
    if cached is None:
        data = _disk("data", key, lambda: prepare(study))
        cached = ReportContext(study=study, data=data, study_sha256=key[1])
        if len(_CACHE) >= _MAX_STUDIES:  # bounded: long batches keep memory flat
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = cached
    return cached


@dataclass(frozen=True)
class StudyResults:
    """Study-wide model results that every report of a study shares.

    Computed once per study, as-of date and process (so once per worker in a batch, before
    the first fork), which also makes the region reports and the overview agree. One model
    per report: every forecast number (monthly table, totals, P(any) in neighbours, surges,
    ranking) is read from ``forecast``, the paths of the model ``auto`` chose.

    Attributes
    ----------
    forecast : analysis.models.forecast.ForecastResult
        Every region, ``horizon`` periods, paths of the chosen model.
    risk : analysis.models.risk.PathRisk
        Totals and P(at least one event) over the horizon from those paths.
    spillover : analysis.models.spillover.SpilloverResult
        The endemic-epidemic model's decomposition (shares from own past and neighbours) and
        scenarios; its probabilities are not shown next to ``risk``.
    model : str
        Label shown to readers, e.g. ``auto (local_level)``.
    chosen : str
        The candidate ``auto`` chose.
    evidence : dict
        ``auto``'s evidence (candidates, scores, Monte Carlo errors, rule).
    backtest : analysis.evaluation.BacktestResult
        Rolling-origin backtest of the chosen model and the baselines at steps 1..horizon
        (origins every ``EVIDENCE_STRIDE`` periods over the last ``EVIDENCE_ORIGINS``).
    onset : analysis.models.onset_forecast.OnsetForecast or None
        P(first event within the horizon) with intervals for the units quiet at the origin
        (``None`` when the history has no quiet-unit onset to fit on; ``onset_reason`` says why).
    onset_backtest : dict
        :func:`analysis.models.onset_backtest.study_onset_backtest` on the study's own panel:
        the evidence that decides whether the reports headline the onset probabilities.
    scenarios : analysis.models.spillover_scenarios.ScenarioContrast or None
        Continue minus silenced for the focus regions (common random numbers, paired by draw).
    """

    forecast: Any
    risk: Any
    spillover: Any
    model: str
    chosen: str
    evidence: dict
    backtest: Any
    onset: Any = None
    onset_backtest: dict | None = None
    onset_reason: str = ""
    scenarios: Any = None


_RESULTS: dict[tuple[Any, ...], StudyResults] = {}

FORECAST_MODEL = "auto"
FORECAST_SAMPLES = 2000
EVIDENCE_ORIGINS = 36  # the region report's evidence: origins over the last three years,
EVIDENCE_STRIDE = 3  # every third period (twelve origins, each scored at steps 1..horizon)
EVIDENCE_SAMPLES = 200
SPILLOVER_SHARE_DRAWS = 200  # neighbour shares only; P(any) and its intervals are not read
BASELINES = ("zero", "last_value", "recent_mean_3", "recent_mean_6", "conflictology",
             "nb_climatology")  # fmt: skip


def results(study_path: str | os.PathLike[str], quarter: str = "") -> StudyResults:
    """Forecast and spillover results of a study as of ``quarter`` (cached per process).

    Parameters
    ----------
    study_path : str or path
        The study YAML.
    quarter : str
        ``YYYYQn`` or empty for the whole window.

    Returns
    -------
    StudyResults
    """
    from analysis.as_of import panel_as_of
    from analysis.errors import InputError
    from analysis.evaluation import backtest
    from analysis.models.forecast import panel_to_history
    from analysis.models.onset_backtest import study_onset_backtest
    from analysis.models.onset_forecast import onset_forecast
    from analysis.models.registry import get
    from analysis.models.risk import path_risk
    from analysis.models.spillover import spillover_forecast
    from analysis.models.spillover_scenarios import focus_scenarios
    from analysis.models.spillover_select import fit_chosen

    ctx = load(study_path)
    path = Path(study_path).resolve()
    key = (_key(path, ctx.study), quarter)
    study = ctx.study

    def compute() -> StudyResults:
        from analysis.pipeline import require_history

        panel = panel_as_of(ctx.data.panel, quarter)
        require_history(panel, study, "the reports' forecasts")
        history = panel_to_history(panel)
        auto = get(
            FORECAST_MODEL,
            boundaries=ctx.data.boundaries,
            focus=list(study.focus),
            horizon=study.horizon,
        )
        fitted = auto.fit(history)
        fc = fitted.forecast(study.horizon, FORECAST_SAMPLES, study.seed)
        info = panel.drop_duplicates("region_id").set_index("region_id")
        risk = path_risk(
            fc,
            info.loc[list(fc.region_ids), "region_name"].astype(str).tolist(),
            info.loc[list(fc.region_ids), "country"].astype(str).tolist(),
        )
        chosen = getattr(fitted, "chosen", auto.name)
        evidence = getattr(fitted, "evidence", {})
        model = get(chosen, boundaries=ctx.data.boundaries, focus=list(study.focus))
        n_per = history.counts.shape[1]
        bt = backtest(
            history,
            [model, *BASELINES],
            start=history.periods[max(0, n_per - EVIDENCE_ORIGINS - 1)],
            horizon=study.horizon,
            n_samples=EVIDENCE_SAMPLES,
            seed=study.seed,
            focus=list(study.focus),
            stride=EVIDENCE_STRIDE,
        )
        # neighbour shares and scenarios: endemic offsets and trend damping as
        # rolling-origin CRPS chooses them
        spill_model, _ = fit_chosen(
            panel,
            boundaries=ctx.data.boundaries,
            focus=list(study.focus),
            horizon=study.horizon,
            seed=study.seed,
        )
        # the reports read only the neighbour shares (point estimates) from this run: the
        # probabilities are the report model's, the contrasts come from focus_scenarios
        spill = spillover_forecast(
            spill_model,
            study.horizon,
            focus=study.focus,
            n_draws=SPILLOVER_SHARE_DRAWS,
            seed=study.seed,
        )
        label = f"{FORECAST_MODEL} ({chosen})" if chosen != FORECAST_MODEL else chosen
        onset, reason = None, ""
        try:
            onset = onset_forecast(
                panel,
                study.horizon,
                study.quiet_periods,
                boundaries=ctx.data.boundaries,
                seed=study.seed,
            )
        except InputError as exc:  # no onset in the history: say so, invent nothing
            reason = str(exc)
        onset_card = study_onset_backtest(
            panel, study.horizon, study.quiet_periods, boundaries=ctx.data.boundaries
        )
        contrast = (
            focus_scenarios(
                spill_model, study.horizon, list(study.focus), n_paths=50, seed=study.seed
            )
            if study.focus
            else None
        )
        if contrast is not None:  # the panel's names (a model fitted on ids may lack them)
            names = info["region_name"].astype(str)
            contrast = replace(
                contrast,
                regions=contrast.regions.assign(
                    region_name=contrast.regions["region_id"]
                    .map(names)
                    .fillna(contrast.regions["region_name"])
                ),
            )
        return StudyResults(
            forecast=fc,
            risk=risk,
            spillover=spill,
            model=label,
            chosen=chosen,
            evidence=evidence,
            backtest=bt,
            onset=onset,
            onset_backtest=onset_card,
            onset_reason=reason,
            scenarios=contrast,
        )

    return _memo(_RESULTS, "results", key, compute)


def warm(study_path: str | os.PathLike[str], quarter: str = "") -> None:
    """Load a study and compute its shared results, so that forked reports inherit them."""
    load(study_path)
    results(study_path, quarter)
    growth(study_path, quarter)


@dataclass(frozen=True)
class StudyGrowth:
    """The study's growth results, computed once and shared by the overview and region reports.

    Attributes
    ----------
    table : DataFrame
        :func:`analysis.growth.growth_table` over every region of the panel and every usable
        comparison of the study, with one Benjamini-Hochberg adjustment over all its ratio and
        change-point tests; filter it by ``region_id`` or comparison, never re-adjust.
    results : dict
        ``(region_id, period_a, period_b) -> analysis.growth.GrowthResult`` (for figures).
    comparisons : list of (str, str)
        The study's comparisons that fit the panel's window (in study order).
    """

    table: Any
    results: dict[tuple[str, str, str], Any]
    comparisons: list[tuple[str, str]]

    def region(self, region_id: str) -> Any:
        """The table's rows of one region (None when the study has no usable comparison)."""
        if not self.comparisons:
            return None
        return self.table[self.table["region_id"] == region_id].reset_index(drop=True)

    def latest(self) -> Any:
        """The table's rows of the last usable comparison (None when there is none)."""
        if not self.comparisons:
            return None
        a, b = self.comparisons[-1]
        rows = self.table[(self.table["period_a"] == a) & (self.table["period_b"] == b)]
        return rows.reset_index(drop=True)


_GROWTH: dict[tuple[Any, ...], StudyGrowth] = {}


def growth(study_path: str | os.PathLike[str], quarter: str = "") -> StudyGrowth:
    """Growth table of a whole study as of ``quarter`` (cached per process and on disk).

    Parameters
    ----------
    study_path : str or path
        The study YAML.
    quarter : str
        ``YYYYQn`` or empty for the whole window.

    Returns
    -------
    StudyGrowth
    """
    from analysis import growth as gr
    from analysis.as_of import panel_as_of, usable_comparisons

    ctx = load(study_path)
    path = Path(study_path).resolve()
    key = (_key(path, ctx.study), quarter)

    def compute() -> StudyGrowth:
        import pandas as pd

        panel = panel_as_of(ctx.data.panel, quarter)
        comparisons = usable_comparisons(ctx.study.compare, panel)
        if not comparisons:
            return StudyGrowth(table=None, results={}, comparisons=[])
        found = gr.growth_results(panel, None, comparisons)
        table = gr.bh_adjust(pd.DataFrame([r.to_row() for r in found]))
        results = {(r.region_id, r.ratio.period_a, r.ratio.period_b): r for r in found}
        return StudyGrowth(table=table, results=results, comparisons=comparisons)

    return _memo(_GROWTH, "growth", key, compute)
