"""What a report notebook starts from: the study and its prepared data, read once per process.

In a batch the fork server calls :func:`load` (and :func:`warm`) before forking, so the events
are read, the panel built and the study's models fitted once per study and worker, not once
per report; each forked report inherits them. Everything here is cached through
:mod:`analysis.cache`, keyed by the study file, the SHA-256 of the data files' bytes, the
package version and source fingerprint, and the as-of quarter: in memory (a few studies), and
on disk so that a fresh process (a plain papermill kernel, the next batch) does not redo a
study's models either (``CONFLICT_TRENDS_REPORT_CACHE=off`` disables the disk cache).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis import cache


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


CACHE_ENV = cache.ENV
_MAX_STUDIES = 4  # in memory: long batches over many studies keep memory flat
_STUDIES = cache.Memory(_MAX_STUDIES)
_CONTEXTS = cache.Memory(_MAX_STUDIES)


def _study(path: Path) -> Any:
    """The validated study of a file (validation resolves names against the boundaries: 0.2 s)."""
    from analysis.config import load_study

    key = cache.Key("study", study=str(path), study_sha256=cache.file_sha256(path))
    return cache.memo(key, lambda: load_study(path), memory=_STUDIES)


def study_key(kind: str, study_path: str | os.PathLike[str], quarter: str = "") -> cache.Key:
    """The cache key of one kind of a study's results (study, data bytes, code, quarter).

    Parameters
    ----------
    kind : str
        Which result the key is for (``"data"``, ``"results"``, ``"growth"``, ...).
    study_path : str or path
        The study YAML (resolved to an absolute path).
    quarter : str, optional
        ``YYYYQn`` or empty (the default) for the whole window.

    Returns
    -------
    cache.Key
    """
    path = Path(study_path).resolve()
    return cache.study_key(kind, path, _study(path).data_files(), quarter)


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
    from analysis.pipeline import prepare

    path = Path(study_path).resolve()
    study = _study(path)
    key = study_key("data", path)

    def compute() -> ReportContext:
        data = cache.memo(key, lambda: prepare(study), disk=True)
        return ReportContext(study=study, data=data, study_sha256=key.study_sha256)

    return cache.memo(key, compute, memory=_CONTEXTS)


def study_region(
    study: Any, region: str | None, boundaries: Any = None, option: str = "region"
) -> str:
    """The region a report is about, as its ISO 3166-2 code: ``region`` or the first focus.

    What ``conflict-trends report --region``, ``conflict-trends notebook --region`` and the
    region report's ``region`` parameter accept: an ISO 3166-2 code or an admin-1 name
    (``"ML-1"``, ``"Kayes"``, ``"Kayes, Mali"``) of a unit in one of the study's countries,
    whose panel the report reads. An analyst who edits the parameter to a name, a typo or a
    unit of another country gets this message rather than a ``KeyError`` deep in a cell.

    Parameters
    ----------
    study : Study
        The validated study (countries as ISO3, focus as codes).
    region : str or None
        Empty or None: the study's first focus region (an InputError for a study without one).
    boundaries : Boundaries, optional
        The study's boundaries (default: its ``boundaries`` file, else the shipped ones).
    option : str
        Where ``region`` came from, for the message: the notebooks' parameter ``region``
        (the default) or a command's option (``--region``).

    Returns
    -------
    str

    Raises
    ------
    InputError
        Naming ``option``, what was expected, and the closest region names of the study's
        countries.
    """
    import difflib

    from analysis import geography
    from analysis.errors import InputError, Problem, parameter_kind

    if (region is None or not str(region).strip()) and study.focus:
        return study.focus[0]
    if boundaries is None:
        boundaries = (
            geography.load_boundaries(study.boundaries)
            if getattr(study, "boundaries", None)
            else geography.load_boundaries()
        )
    units = boundaries.regions_of(list(study.countries))
    countries = ", ".join(study.countries)
    # focus is optional: the example is then the first unit of the study's countries
    example = study.focus[0] if study.focus else str(units["region_id"].iloc[0])
    expected = (
        f"an ISO 3166-2 code or admin-1 name of a region of the study's countries ({countries}),"
        f" e.g. {example} or {boundaries.name_of(example)}"
    )
    # a notebook's parameter is neither a table's column nor a command's option
    kind = parameter_kind(option)

    def problem(wanted: str, found: str) -> Problem:
        return Problem(None, None, option, wanted, found, kind=kind)

    if region is None or not str(region).strip():  # and no focus region to default to
        raise InputError("no region", [problem(expected + " (the study has no focus)", "")])
    try:
        code = geography.resolve_region(region, boundaries)
    except InputError as exc:
        names = dict(zip(units["region_name"].astype(str), units["region_id"], strict=True))
        close = difflib.get_close_matches(str(region).strip(), list(names), n=3, cutoff=0.6)
        if close:
            expected += "; closest: " + ", ".join(f"{n} ({names[n]})" for n in close)
        found = str(region)
        if exc.problems and "matches" in str(exc.problems[0].found):
            found = str(exc.problems[0].found)  # an ambiguous name: the codes it matches
        raise InputError("unknown region", [problem(expected, found)]) from None
    if code not in set(units["region_id"]):
        country = boundaries.regions.set_index("region_id").loc[code, "country"]
        raise InputError(
            "region outside the study",
            [problem(expected, f"{region}: {code}, in {country}")],
        )
    return code


def check(
    study_path: str | os.PathLike[str], forecasts: bool = True, quarter: str | None = None
) -> ReportContext:
    """Check that a study's reports can start: its file and data are valid, its filters
    select events and, when the reports forecast, its history is long enough.

    The same checks the report notebooks make when they load the study, made before any
    report runs, so that invalid inputs stop with a message rather than as failed reports
    (whose "did not finish" pages would replace good ones). Through :func:`load`, so the
    prepared data are kept in this process's memory and in the disk cache, where the report
    processes find them (a fork server is a fresh process: it shares only the disk cache).

    Parameters
    ----------
    study_path : str or path
        The study YAML.
    forecasts : bool
        The reports forecast (the shipped templates): require the forecaster's history
        (:func:`analysis.pipeline.require_history`), up to the end of ``quarter`` if given.
    quarter : str, optional
        ``YYYYQn``: the reports are as of that quarter's end.

    Returns
    -------
    ReportContext

    Raises
    ------
    InputError
        Naming the file, line, column and what was expected.
    """
    from analysis.as_of import panel_as_of
    from analysis.config import COMPARISON_PROBLEM
    from analysis.errors import InputError
    from analysis.pipeline import require_history

    ctx = load(study_path)
    # a comparison outside the study's own window is a typo, refused as `growth` refuses it;
    # the reports had said only "No growth comparison of the study falls inside this report's
    # window", as for a comparison that an earlier quarter's reports rightly leave out
    problems = ctx.study.comparison_problems([tuple(map(str, p)) for p in ctx.study.compare])
    message = COMPARISON_PROBLEM
    if forecasts:
        what = f"the reports' forecasts as of {quarter}" if quarter else "the reports' forecasts"
        try:
            require_history(panel_as_of(ctx.data.panel, quarter), ctx.study, what)
        except InputError as exc:  # every problem of the study at once
            problems, message = [*exc.problems, *problems], exc.message
    if problems:
        raise InputError(message, problems)
    return ctx


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
    model : str
        The fitted model's full label, e.g. ``auto (ensemble_local (steps 1-3),
        ensemble_trend (steps 4-12))``, as in the JSON and the manifest; readers see
        :meth:`model_for` and :meth:`plan_label`.
    evidence : dict
        ``auto``'s evidence (candidates, scores, Monte Carlo errors, rule).
    backtest : analysis.evaluation.BacktestResult
        Rolling-origin backtest of the report model (``auto``, its choice and calibration
        redone at every origin: :attr:`evidence_model`), the spillover model as the study
        chose it (``spillover``, the source of the shares the reports quote) and the
        baselines at steps 1..horizon (origins every ``EVIDENCE_STRIDE`` periods over the last
        ``EVIDENCE_ORIGINS``).
    backtest_all : analysis.evaluation.BacktestResult
        The same run to step ``max(horizon, METHODS_HORIZON)``, which the methods appendix
        extends with its other models (:func:`methods_backtest`).
    scorecard : dict
        :func:`analysis.evaluation.scorecard` of ``backtest`` (unpaired): the same for every
        region report of the study, so computed here once rather than in each report.
    onset : analysis.models.onset_forecast.OnsetForecast or None
        P(first event within the horizon) with intervals for the units quiet at the origin
        (``None`` when the history has no quiet-unit onset to fit on; ``onset_reason`` says why).
    onset_backtest : dict
        :func:`analysis.models.onset_backtest.study_onset_backtest` on the study's own panel:
        the evidence that decides whether the reports headline the onset probabilities.
    scenarios : analysis.models.spillover_scenarios.ScenarioContrast or None
        Continue minus silenced for the focus regions (common random numbers, paired by draw).
        Reports quote only its shares of the continue scenario (``expected_share``,
        ``p_any_share``): its levels would be a second forecast beside ``forecast``'s.
    spillover_settings : dict
        ``endemic_effects`` and ``damping`` of the spillover model as the study chose them
        (the settings ``spillover`` is fitted and backtested with, here and in the appendix).
    spillover_parameters : DataFrame or None
        That fit's parameters (:meth:`analysis.models.hhh4.HHH4Fit.table` at
        :data:`PARAMETER_LEVEL`: ``name, estimate, se, low, high, at_bound``, with natural-scale
        rows such as ``lambda``, the own-lag share, and ``phi``, the neighbourhood share), kept
        so that a report can quote them without refitting (the demo's truth check).
    plan : dict
        ``auto``'s candidate of each block of steps per group (``focus``, ``other``,
        :attr:`analysis.models.auto.AutoFitted.plan`); empty for other models.
    plan_bounds : tuple
        The blocks' column slices of steps 1..h (:attr:`analysis.models.auto.AutoFitted.bounds`).
    onset_driven : tuple of str
        The quiet regions whose P(at least one event) in ``forecast`` is the onset model's, fitted
        on the onset reference (:meth:`analysis.models.auto.AutoFitted.onset_regions`).
    spillover_unscored : str
        Why the spillover model is not in ``backtest`` (it could not be fitted at an origin of
        the evidence run), empty when it is.
    """

    forecast: Any
    risk: Any
    model: str
    evidence: dict
    backtest: Any
    backtest_all: Any = None
    scorecard: dict | None = None
    onset: Any = None
    onset_backtest: dict | None = None
    onset_reason: str = ""
    scenarios: Any = None
    spillover_settings: dict = field(default_factory=dict)
    spillover_parameters: Any = None
    plan: dict = field(default_factory=dict)
    plan_bounds: tuple = ()
    onset_driven: tuple[str, ...] = ()
    spillover_unscored: str = ""

    @property
    def evidence_model(self) -> str:
        """The report model's name in ``backtest``."""
        return FORECAST_MODEL

    def plan_label(self, is_focus: bool) -> str | None:
        """The candidates of one group in words (:func:`analysis.models.auto.plan_label`).

        Parameters
        ----------
        is_focus : bool
            The focus regions' group, else the other regions'.

        Returns
        -------
        str or None
            None without a plan (a model other than ``auto``).
        """
        from analysis.models.auto import plan_label

        picks = self._picks(is_focus)
        return plan_label(picks, self.plan_bounds) if picks else None

    def onset_intervals(self) -> Any:
        """The onset model's interval of P(at least one event) for the quiet regions whose
        chance that model gives (:attr:`onset_driven`), as their reports print it: indexed by
        ``region_id``, columns ``low`` and ``high``; empty without an onset model. The
        overview's ranking and the demo check read it here."""
        import pandas as pd

        empty = pd.DataFrame(columns=["low", "high"], dtype=float)
        if self.onset is None or not self.onset_driven:
            return empty.rename_axis("region_id")
        units = self.onset.units.set_index("region_id")
        ids = [r for r in units.index if r in set(self.onset_driven)]
        return pd.DataFrame(
            {"low": units.loc[ids, "p_onset_low"].astype(float),
             "high": units.loc[ids, "p_onset_high"].astype(float)},
            index=pd.Index(ids, name="region_id"),
        )  # fmt: skip

    def model_for(self, is_focus: bool) -> str:
        """The report model as one region's reader needs it.

        Parameters
        ----------
        is_focus : bool
            Whether the region is a focus region (else it is one of the other regions).

        Returns
        -------
        str
            ``auto`` with the candidates of the region's group only, e.g. ``auto
            (ensemble_local at steps 1-3, ensemble_trend at steps 4-12)`` (both groups are
            the Forecast section's); :attr:`model` without a plan.
        """
        plan = self.plan_label(is_focus)
        return f"{FORECAST_MODEL} ({plan})" if plan else self.model

    def switches_for(self, is_focus: bool) -> list[tuple[int, str, str]]:
        """Where the region's group changes candidate (:func:`analysis.models.auto.plan_switches`);
        empty without a plan.

        Parameters
        ----------
        is_focus : bool
            The focus regions' group, else the other regions'.

        Returns
        -------
        list of (int, str, str)
        """
        from analysis.models.auto import plan_switches

        picks = self._picks(is_focus)
        return plan_switches(picks, self.plan_bounds) if picks else []

    def _picks(self, is_focus: bool) -> tuple[str, ...] | None:
        """The candidate of each block for one group (``focus`` or ``other``), if any."""
        return self.plan.get("focus" if is_focus else "other")


_RESULTS = cache.Memory(_MAX_STUDIES)

FORECAST_MODEL = "auto"
FORECAST_SAMPLES = 2000
EVIDENCE_ORIGINS = 36  # the region report's evidence: origins over the last three years,
EVIDENCE_STRIDE = 3  # every third period (twelve origins, each scored at steps 1..horizon)
EVIDENCE_SAMPLES = 200
#: The reports' one interval level for forecasts: the paths' totals, the spillover shares and
#: the onset model's probabilities (its parameter draws allow any level; 95% beside the 90%
#: of every other forecast interval read as a different kind of number).
INTERVAL_LEVEL = 0.9
#: The level of a fitted model's parameter intervals (the profile-likelihood intervals of
#: parameters on a bound exist at 95% only, :meth:`analysis.models.hhh4.HHH4Fit.conf_int`).
PARAMETER_LEVEL = 0.95
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
    from analysis.errors import InputError, ModelError
    from analysis.evaluation import backtest, first_steps, scorecard
    from analysis.models.forecast import panel_to_history
    from analysis.models.onset_backtest import study_onset_backtest
    from analysis.models.onset_forecast import onset_forecast
    from analysis.models.risk import NEAR_STEPS, path_risk
    from analysis.models.spillover_scenarios import study_contrast
    from analysis.models.spillover_select import fit_chosen

    ctx = load(study_path)
    key = study_key("results", study_path, quarter)
    study = ctx.study

    def compute() -> StudyResults:
        from analysis.pipeline import require_history, study_model

        panel = panel_as_of(ctx.data.panel, quarter)
        require_history(panel, study, "the reports' forecasts")
        history = panel_to_history(panel)
        auto = study_model(FORECAST_MODEL, ctx.data, study.horizon)
        reference = auto.onset_reference  # the onset model the report model's paths carry
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
        # the onset evidence scores the quiet units' probabilities at many origins: auto's
        # rule limited to the candidates it chose (spread calibration included) keeps that
        # affordable
        model = auto.restricted_to(fitted, EVIDENCE_SAMPLES)
        # neighbour shares and scenarios: endemic offsets and trend damping as
        # rolling-origin CRPS chooses them
        spillover_unscored = ""
        try:
            spill_model, spill_choice = fit_chosen(
                panel,
                boundaries=ctx.data.boundaries,
                focus=list(study.focus),
                horizon=study.horizon,
                seed=study.seed,
            )
        except ModelError as exc:
            # A history the spillover model cannot be fitted to (Boko Haram in Nigeria and
            # Niger, 2014-2020: no candidate fitted at every origin) had failed every report
            # of the study; the reports go on with the report model's numbers and withhold
            # the shares, as where its backtest fails below.
            spill_model, spillover_unscored = None, str(exc)
        # the spillover model as chosen is backtested beside the report model, so the shares
        # it gives are quoted with its own evidence on the same origins and steps
        spill_settings = (
            {"endemic_effects": spill_choice.endemic_effects, "damping": spill_choice.damping}
            if spill_model is not None
            else {}
        )
        n_per = history.counts.shape[1]
        # the evidence scores auto as the report runs it, its choice and calibration redone at
        # every origin from the history before it: the candidates it chose on the full history
        # had seen the scored periods (the real Mopti report read -1.7% against the best
        # baseline where the methods appendix, choosing at every origin, read -5.7%). To step
        # 12, so the methods appendix adds its other models to this run and gives the same
        # numbers (:func:`methods_backtest`).
        evidence_horizon = max(study.horizon, METHODS_HORIZON)
        run_evidence = functools.partial(
            backtest,
            history,
            start=history.periods[max(0, n_per - EVIDENCE_ORIGINS - 1)],
            horizon=evidence_horizon,
            # the totals the reports print (next quarter, the study's horizon) are scored too
            total_steps=(NEAR_STEPS, study.horizon, evidence_horizon),
            n_samples=EVIDENCE_SAMPLES,
            seed=study.seed,
            focus=list(study.focus),
            stride=EVIDENCE_STRIDE,
            # the overview's P(surge), scored too, under the study's alert rule
            surge_factor=study.alerts.surge_factor,
            surge_min_events=study.alerts.min_events,
        )
        if spill_model is None:
            bt_all = run_evidence([auto, *BASELINES])
        else:
            try:
                bt_all = run_evidence([auto, _spillover_as_chosen(ctx, spill_settings), *BASELINES])
            except ModelError as exc:
                # The spillover model as chosen can fail where the history before an origin
                # holds too few events to identify it (Togo's 2005 violence: a singular
                # information matrix). Its evidence is then missing, so its shares are
                # withheld, and the reports go on with the report model's: every report of
                # such a study had failed.
                spillover_unscored = str(exc)
                bt_all = run_evidence([auto, *BASELINES])
        bt = first_steps(bt_all, study.horizon)
        label = f"{FORECAST_MODEL} ({chosen})" if chosen != FORECAST_MODEL else chosen
        onset, reason = None, ""
        try:
            onset = onset_forecast(
                panel,
                study.horizon,
                study.quiet_periods,
                boundaries=ctx.data.boundaries,
                level=INTERVAL_LEVEL,
                seed=study.seed,
                reference=reference,
            )
        except InputError as exc:  # no onset in the history: say so, invent nothing
            reason = str(exc)
        # the quiet units' P(at least one event) the reports show is the report model's, so it
        # is scored on the study's past first events beside the onset model and naive rules
        onset_card = study_onset_backtest(
            panel,
            study.horizon,
            study.quiet_periods,
            boundaries=ctx.data.boundaries,
            forecaster=model,
            # as many paths as the probabilities the reports show: with 200 the report model
            # scored below the onset model it takes them from only by Monte Carlo noise (real
            # study: ROC AUC 0.740 against 0.791; with 2,000, 0.792, Brier 0.097 both)
            n_samples=FORECAST_SAMPLES,
            seed=study.seed,
            reference=reference,
        )
        # as `spillover --json` computes it, so both quote the same shares
        contrast = (  # named as the panel names them
            study_contrast(spill_model, study) if spill_model is not None else None
        )
        return StudyResults(
            forecast=fc,
            risk=risk,
            model=label,
            evidence=evidence,
            backtest=bt,
            backtest_all=bt_all,
            scorecard=scorecard(bt, paired=False),
            onset=onset,
            onset_backtest=onset_card,
            onset_reason=reason,
            scenarios=contrast,
            spillover_settings=spill_settings,
            spillover_parameters=(
                spill_model.fit.table(PARAMETER_LEVEL) if spill_model is not None else None
            ),
            spillover_unscored=spillover_unscored,
            plan=dict(getattr(fitted, "plan", {})),
            plan_bounds=tuple(getattr(fitted, "bounds", ())),
            onset_driven=(
                fitted.onset_regions(study.horizon) if hasattr(fitted, "onset_regions") else ()
            ),
        )

    return cache.memo(key, compute, memory=_RESULTS, disk=True)


def warm(study_path: str | os.PathLike[str], quarter: str = "") -> None:
    """Load a study and compute its shared results, so that forked reports inherit them.

    Parameters
    ----------
    study_path : str or path
        The study YAML.
    quarter : str, optional
        ``YYYYQn`` or empty (the default) for the whole window.
    """
    load(study_path)
    results(study_path, quarter)
    growth(study_path, quarter)


def _spillover_as_chosen(ctx: Any, settings: dict) -> Any:
    """The spillover model with the endemic effects and damping the study chose
    (:attr:`StudyResults.spillover_settings`), as the reports fit and backtest it."""
    from analysis.models.spillover import SpilloverForecaster

    return SpilloverForecaster(
        boundaries=ctx.data.boundaries, focus=tuple(ctx.study.focus), **settings
    )


METHODS_HORIZON = 12  # the appendix scores every model at steps 1-12
_METHODS = cache.Memory(_MAX_STUDIES)


def methods_backtest(study_path: str | os.PathLike[str], quarter: str = "") -> Any:
    """The methods appendix's ``BacktestResult``: every model it describes, last three years.

    The report model, the spillover model and the baselines are the reports' own evidence run
    (:attr:`StudyResults.backtest_all`); the appendix's other models are scored on the same
    origins, steps, samples and seed and joined to it, so a model scored in both places gives
    one number. Study-level work, cached in memory and on disk like :func:`results`.

    Parameters
    ----------
    study_path : str or path
        The study YAML.
    quarter : str, optional
        ``YYYYQn`` or empty (the default) for the whole window.

    Returns
    -------
    BacktestResult
    """
    from analysis.as_of import panel_as_of
    from analysis.evaluation import backtest, backtest_leaving_out, combine_backtests
    from analysis.pipeline import study_model
    from analysis.report.methods_text import METHOD_MODELS

    ctx = load(study_path)
    focus = list(ctx.study.focus)

    def compute() -> Any:
        panel = panel_as_of(ctx.data.panel, quarter)
        shared = results(study_path, quarter)
        done = shared.backtest_all
        # the spillover model, when the evidence run could not fit it, fails here as well
        unscored = {"spillover"} if shared.spillover_unscored else set()
        others = [
            study_model(name, ctx.data, ctx.study.horizon)
            for name in METHOD_MODELS
            if name not in done.models and name not in unscored
        ]
        if not others:
            return done

        def run(models: list[Any]) -> Any:
            return backtest(panel, models, horizon=done.horizon, n_samples=done.n_samples,
                            focus=focus, seed=done.seed, start=done.origins[0],
                            stride=EVIDENCE_STRIDE)  # fmt: skip

        # a model that cannot be fitted at some origin of a short study is left out of the
        # appendix's tables, rather than taking the whole appendix with it
        extra, _ = backtest_leaving_out(run, others)
        return done if extra is None else combine_backtests(done, extra)

    key = study_key("methods_backtest", study_path, quarter)
    return cache.memo(key, compute, memory=_METHODS, disk=True)


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
        """The table's rows of one region (None when the study has no usable comparison).

        Parameters
        ----------
        region_id : str
            The region's ISO 3166-2 code.

        Returns
        -------
        DataFrame or None
            The region's rows of :attr:`table`, index reset.
        """
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


_GROWTH = cache.Memory(_MAX_STUDIES)


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
    key = study_key("growth", study_path, quarter)

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

    return cache.memo(key, compute, memory=_GROWTH, disk=True)
