"""The methods appendix's demo check: the stated model behind synthetic data against the
estimates the reports show.

The demo study runs on events simulated from a stated model (:mod:`analysis.simulate`), whose
parameters :func:`analysis.simulate.write_demo` saves beside the events. This module finds that
file for a synthetic study, turns the reports' numbers into :class:`Estimate` values, the stated
model's into :class:`Stated` values, and builds the table and sentences that say which of the
stated values the estimates recover. The stated model's values themselves come from
:func:`analysis.simulate.demo_truth_summary`.

Two rules judge a row, because the rows estimate two kinds of thing:

- a fixed quantity of the model (the growth ratio, the own-lag and neighbourhood shares, the
  share of a country's expected events attributable to the focus): recovered when the stated
  value lies inside the estimate's interval, an interval for that quantity;
- a forecast (expected events, a probability of at least one event): recovered when the report
  model's mean is within a tolerance of the stated expectation (:func:`point_check`). Its
  predictive interval covers one outcome over the horizon, not the mean, and holds almost any
  plausible mean, so a stated expectation inside it says little; the table shows it, the rule
  does not use it.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import cache
from analysis.formatting import (
    format_growth_pct,
    format_probability,
    format_ratio,
    format_ratio_estimate,
    join_nonempty,
    join_words,
    probability_range,
)
from analysis.report.context import INTERVAL_LEVEL
from analysis.simulate import DEMO_TRUTH_FILE, demo_truth_summary

SECTION_TITLE = "Demo: the stated model against the estimates"

#: Relative gap between an estimate and the stated value that counts. For a forecast row it is
#: the tolerance of the point rule (:func:`point_check`); for a row judged by its interval, a
#: point estimate this far off is named even when the interval holds the stated value ("inside
#: a wide interval" alone would hide it). A materiality threshold, not a test: how far the
#: report model's mean would move on other data drawn from the stated model is not computed
#: (it would need the report model refitted on many simulated data sets).
POINT_GAP = 0.10

#: Monte Carlo standard errors (of the report's and the stated model's path means together)
#: that widen a forecast row's tolerance where they exceed :data:`POINT_GAP`: a gap within
#: them could be path noise alone. With thousands of paths they are a few percent at most for
#: the demo's rows, so :data:`POINT_GAP` decides.
MC_ERRORS = 2.0

#: Level of the predictive intervals of forecast totals: the reports' one interval level.
PREDICTIVE_LEVEL = INTERVAL_LEVEL

#: The quantities compared, in table order; the attributable shares follow, one per target
#: country, keyed :data:`SHARE_PREFIX` + country code.
QUANTITIES = ("growth", "own_lag", "neighbourhood", "dispersion", "forecast_near", "forecast",
              "border_total", "border_any")  # fmt: skip
SHARE_PREFIX = "share:"

#: The forecast rows, judged on their point (:func:`point_check`); every other row by whether
#: its interval holds the stated value (:func:`position`).
POINT_RULE = frozenset({"forecast_near", "forecast", "border_total", "border_any"})

#: The spillover model's natural-scale parameters that the stated shares correspond to, and
#: its negative-binomial overdispersion (``psi``: variance = mean + psi mean^2, the stated
#: model's ``dispersion``), which the check had left out although the fit reports it.
PARAMETER_ROWS = {"own_lag": "lambda", "neighbourhood": "phi", "dispersion": "psi"}


@dataclass(frozen=True)
class Estimate:
    """An estimate the reports show, with its interval.

    Attributes
    ----------
    value : float
        The point estimate (a ratio, a share, a forecast mean, a probability).
    low, high : float
        The interval's limits (NaN when the estimate has none).
    source : str
        Where it comes from, in the table's words.
    interval : str
        The interval's level and kind, e.g. ``"95% Wald interval"`` (blank without one).
    draws : ndarray or None
        The report model's paths of the quantity (one value per path) for a forecast: its
        Monte Carlo error and where the stated value falls among them.
    parts : mapping or None
        Per unit, for a quantity over several units: region id -> the unit's value.
    """

    value: float
    low: float
    high: float
    source: str
    interval: str = ""
    draws: np.ndarray | None = field(default=None, compare=False, repr=False)
    parts: Mapping[str, float] | None = field(default=None, compare=False, repr=False)

    @property
    def has_interval(self) -> bool:
        """Whether both limits are finite numbers."""
        return bool(np.isfinite(self.low) and np.isfinite(self.high))

    @property
    def mc_se(self) -> float:
        """Monte Carlo standard error of ``value`` (0 without paths)."""
        return _mean_se(self.draws)


@dataclass(frozen=True)
class Stated:
    """A value of the stated model.

    Attributes
    ----------
    value : float
        Exact where the model gives it in closed form (expectations, shares of them), else the
        mean of its simulated paths.
    se : float
        Monte Carlo standard error of ``value`` (0 when exact).
    draws : ndarray or None
        The stated model's own paths of the quantity (a forecast total), for its interval.
    """

    value: float
    se: float = 0.0
    draws: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class PointCheck:
    """The point rule's verdict on a forecast row (:func:`point_check`).

    Attributes
    ----------
    recovered : bool
    gap : float
        ``estimate / stated - 1`` (NaN when the stated value is 0).
    tolerance : float
        The relative gap allowed: :data:`POINT_GAP`, or :data:`MC_ERRORS` Monte Carlo
        standard errors where that is wider.
    """

    recovered: bool
    gap: float
    tolerance: float


@dataclass(frozen=True)
class DemoComparison:
    """The section's table (one row per quantity), its caption, its verdict sentences, the note
    on how each row is judged (``rules``), the notes on how each stated value relates to
    what is estimated, and the short names of the numbers the reports quote that are not
    recovered (``missed``, for :func:`banner`)."""

    table: pd.DataFrame
    caption: str
    sentence: str
    rules: str
    notes: str
    missed: tuple[str, ...] = ()


def _mean_se(draws: np.ndarray | None) -> float:
    if draws is None or len(draws) < 2:
        return 0.0
    return float(np.std(draws, ddof=1) / np.sqrt(len(draws)))


def banner(study: Any, *, here: bool = False, missed: Sequence[str] = ()) -> str:
    """The banner of a synthetic study's reports (empty for a real one): the data are
    simulated, where the numbers are checked against the model they were simulated from, and
    which of the numbers the reports quote that check does not recover.

    Parameters
    ----------
    study : Study
    here : bool
        The banner of the methods appendix itself, which holds that section.
    missed : sequence of str
        :attr:`DemoComparison.missed` (:func:`missed_names`): named in the banner, so that a
        reader of the demo's Kayes report learns there, not only in the appendix, that its
        forecast runs below the stated model's.

    Returns
    -------
    str
    """
    if not shows_section(study):
        return ""
    where = "below" if here else "in the methods appendix"
    text = (
        "These data are SYNTHETIC (simulated from a stated model for demonstration); they "
        f'describe no real events. The section "{SECTION_TITLE}" {where} checks the reports\' '
        "numbers against that model's true values, and says which are not recovered."
    )
    if missed:
        text += (
            " Of the numbers the reports quote, not recovered (the report's figure against "
            f"the stated model's): {join_words(missed)}."
        )
    return text


_SECTIONS = cache.Memory(4)


def study_section(ctx: Any, study: Any, quarter: str | None = None) -> DemoComparison | str | None:
    """:func:`section` for a synthetic study, None for a real one (which has no truth to
    check): for the banner and, in the methods appendix, the section itself.

    Once per study and quarter: every report of the study shows the same check, which cost
    each of them 0.27 s; :func:`analysis.report.warmup.warm_studies` computes it before the
    reports are forked. The key holds the truth file's bytes with the data's.

    Parameters
    ----------
    ctx : analysis.report.context.ReportContext
        The notebook's context (``ctx.study``, ``ctx.data``).
    study : str or Path
        The study file, as :func:`analysis.report.context.results` takes it.
    quarter : str, optional
        ``YYYYQn`` the reports are as of; None or empty for the study's end.

    Returns
    -------
    DemoComparison, str or None
        :func:`section`'s result (the comparison, or why there is none); None for a real study.
    """
    if not shows_section(ctx.study):
        return None
    from analysis.report.context import study_key

    truth = truth_file(ctx.study)
    key = study_key("demo_section", study, quarter or "")
    if truth is not None:
        key = dataclasses.replace(key, extra=(cache.file_sha256(truth),))
    return cache.memo(key, lambda: section(ctx, study, quarter), memory=_SECTIONS)


def missed_names(found: DemoComparison | str | None) -> tuple[str, ...]:
    """:attr:`DemoComparison.missed` of :func:`study_section`'s result; empty for a real study
    or without a readable truth file.

    Parameters
    ----------
    found : DemoComparison, str or None
        :func:`study_section`'s result.

    Returns
    -------
    tuple of str
        Short names of the quoted numbers that are not recovered.
    """
    return found.missed if isinstance(found, DemoComparison) else ()


def page_banner(
    ctx: Any, found: DemoComparison | str | None, *, here: bool = False, quarter: str = ""
) -> str:
    """Every report's banner: the demo notice with the quoted numbers the truth check does
    not recover (:func:`banner`, ``found`` from :func:`study_section`), then the data files'
    notes (:func:`analysis.report.provenance.data_note_banner`), the study's countries in
    which they hold no event and events counted by where they lie because their country was
    unknown (:meth:`analysis.pipeline.StudyData.coverage_notes`, which the commands print as
    warnings) and, where the files end early in the last period, that it
    may be counted in part (:meth:`analysis.pipeline.StudyData.partial_period_note`).

    Parameters
    ----------
    ctx : analysis.report.context.ReportContext
        The study and its data.
    found : DemoComparison, str or None
        :func:`study_section`'s result.
    here : bool
        The page holds the check (the methods appendix).
    quarter : str
        ``YYYYQn`` the report is as of (empty: the study's end).

    Returns
    -------
    str
    """
    from analysis.report.provenance import data_note_banner

    return join_nonempty(
        banner(ctx.study, here=here, missed=missed_names(found)),
        data_note_banner(ctx.data.inputs),
        *ctx.data.coverage_notes(),
        ctx.data.partial_period_note(quarter or None),
    )


def shows_section(study: Any) -> bool:
    """Whether the methods appendix has the demo section: only for a synthetic study.

    A real study never shows it, even with a truth file beside its data: the stated model is
    the simulation's, and only a study marked ``synthetic`` is simulated.

    Parameters
    ----------
    study : analysis.config.Study
        The validated study (its ``synthetic`` flag; False when it has none).

    Returns
    -------
    bool
    """
    return bool(getattr(study, "synthetic", False))


def truth_file(study: Any) -> Path | None:
    """The demo truth file (:data:`analysis.simulate.DEMO_TRUTH_FILE`) beside the study's data.

    Parameters
    ----------
    study : analysis.config.Study
        Its ``data`` paths are already resolved against the study file.

    Returns
    -------
    Path or None
        The first data file's folder that holds one; None when none does.
    """
    for data in study.data:
        candidate = Path(data).parent / DEMO_TRUTH_FILE
        if candidate.is_file():
            return candidate
    return None


def missing_sentence(study: Any) -> str:
    """What the section says when a synthetic study has no truth file beside its data.

    Parameters
    ----------
    study : analysis.config.Study
        Its ``data`` folders are named relative to the study file's folder (when it has a path).

    Returns
    -------
    str
    """
    base = Path(study.path).parent if getattr(study, "path", None) else None
    folders = []
    for data in study.data:
        folder = Path(data).parent
        shown = os.path.relpath(folder, base) if base is not None else str(folder)
        if shown not in folders:
            folders.append(shown)
    return (
        f"The study is marked synthetic, but no {DEMO_TRUTH_FILE} was found beside its data "
        f"({join_words(folders)}), so its estimates cannot be set against the model the data "
        "were simulated from. The command conflict-trends demo-data writes the file beside the "
        "events."
    )


def unreadable_sentence(path_name: str, reason: str) -> str:
    """What the section says when the truth file cannot be used (unreadable or not matching).

    Parameters
    ----------
    path_name : str
        The truth file's name, as the sentence shows it.
    reason : str
        Why it could not be used (the error's message, or its type's name).

    Returns
    -------
    str
    """
    return (
        f"The truth file {path_name} could not be used ({reason}), so the estimates are not set "
        "against the stated model."
    )


def read_truth(study: Any) -> dict | str:
    """The stated model's values for a synthetic study, or the sentence that says why not.

    Parameters
    ----------
    study : analysis.config.Study

    Returns
    -------
    dict or str
        :func:`analysis.simulate.demo_truth_summary` of the truth file beside the data at the
        study's horizon; a sentence for the section when the file is missing, unreadable or
        does not match the demo its scenario regenerates (the section says so; nothing is
        invented and the appendix still renders).
    """
    path = truth_file(study)
    if path is None:
        return missing_sentence(study)
    try:
        truth = json.loads(path.read_text(encoding="utf-8"))
        return demo_truth_summary(truth, int(study.horizon))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return unreadable_sentence(path.name, str(exc) or type(exc).__name__)


def section(ctx: Any, study: Any, quarter: str | None = None) -> DemoComparison | str:
    """The methods appendix's demo section from the report context: the truth file read, the
    reports' own numbers gathered (the study's growth table, the chosen spillover fit's
    parameters, the report model's paths and the what-if contrast, all already computed and
    cached) and compared.

    Parameters
    ----------
    ctx : analysis.report.context.ReportContext
        The notebook's context (``ctx.study``, ``ctx.data``).
    study : str or Path
        The study file, as :func:`analysis.report.context.results` takes it.
    quarter : str, optional

    Returns
    -------
    DemoComparison or str
        The comparison, or the sentence saying why there is none (:func:`read_truth`).
    """
    from analysis.report import context
    from analysis.report.spillover_text import cross_border_units

    truth = read_truth(ctx.study)
    if isinstance(truth, str):
        return truth
    focus = truth["focus"]
    shared = context.results(study, quarter)
    targets = list(ctx.study.spillover_targets)
    # the units across the border that the focus's region report describes
    border = cross_border_units(
        focus, ctx.data.boundaries, targets, within=set(ctx.data.panel["region_id"])
    )
    regions = ctx.data.boundaries.regions
    names = {r: ctx.data.region_name(r) for r in border}
    country_names = regions.get("country_name", regions["country"])
    names |= dict(zip(regions["country"], country_names, strict=True))
    found = estimates(
        truth,
        growth_rows=context.growth(study, quarter).region(focus),
        parameters=shared.spillover_parameters,
        parameter_level=context.PARAMETER_LEVEL,
        forecast=shared.forecast,
        border=border,
        contrast=shared.scenarios,
        targets=targets,
    )
    # what no report quotes: the spillover model's parameters always, its shares unless the
    # focus's report earns them (the region report's own gate)
    from analysis.report.region_text import region_group
    from analysis.report.spillover_text import earned_contrast, spillover_evidence

    group = region_group(shared.backtest, focus)
    evidence = spillover_evidence(shared.scorecard, group, scores=shared.backtest.scores)
    unquoted = set(PARAMETER_ROWS)
    if earned_contrast(shared.scenarios, evidence) is None:
        unquoted |= {k for k in found if k.startswith(SHARE_PREFIX)}
    return comparison(
        truth,
        found,
        ctx.data.region_name(focus),
        border=border,
        names=names,
        unquoted=unquoted,
        onset_intervals=printed_onset_intervals(shared, border),
    )


def printed_onset_intervals(shared: Any, border: Sequence[str]) -> dict[str, tuple[float, ...]]:
    """The quiet units across the border whose P(at least one event) the focus's region report
    prints with the onset model's interval: region id -> (the report model's probability, the
    interval's low and high ends).

    Parameters
    ----------
    shared : analysis.report.context.StudyResults
    border : sequence of str
        The units across the border the focus's report describes.

    Returns
    -------
    dict
        Empty without an onset model.
    """
    intervals = shared.onset_intervals()
    paths = shared.risk.regions.set_index("region_id")
    return {
        r: (
            float(paths.loc[r, "p_any"]),
            float(intervals.loc[r, "low"]),
            float(intervals.loc[r, "high"]),
        )
        for r in border
        if r in intervals.index and r in paths.index
    }


def estimates(
    truth: Mapping[str, Any],
    *,
    growth_rows: pd.DataFrame | None,
    parameters: pd.DataFrame | None,
    parameter_level: float,
    forecast: Any,
    border: Sequence[str] = (),
    contrast: Any = None,
    targets: Sequence[str] = (),
) -> dict[str, Estimate | str]:
    """The reports' estimates of every quantity compared (or why there is none).

    Parameters
    ----------
    truth : mapping
        :func:`analysis.simulate.demo_truth_summary`.
    growth_rows : DataFrame or None
        The focus region's rows of the study's growth table.
    parameters : DataFrame or None
        The spillover fit's parameter table.
    parameter_level : float
        Its intervals' level.
    forecast : analysis.models.forecast.ForecastResult or None
        The report model's paths (``context.results(...).forecast``), from which the region
        reports read every forecast number; None, or without the focus, when the focus is not
        among its regions (then neither its growth nor a forecast is compared).
    border : sequence of str
        The focus's cross-border neighbours as its region report names them
        (:func:`analysis.report.spillover_text.cross_border_units` with the study's targets).
    contrast : analysis.models.spillover_scenarios.ScenarioContrast or None
        The spillover model's focus scenarios, whose attributable shares the reports define.
    targets : sequence of str
        The study's spillover target countries (codes): one share row each.

    Returns
    -------
    dict
        Keyed by :data:`QUANTITIES` and :data:`SHARE_PREFIX` + country code.
    """
    found: dict[str, Estimate | str] = {}
    focus = truth["focus"]
    first, horizon = truth["forward_first"], int(truth["horizon"])
    if forecast is None or focus not in forecast.region_ids:
        reason = f"{focus} is not in the study"
        found["growth"] = found["forecast"] = found["forecast_near"] = reason
    else:
        found["growth"] = growth_estimate(growth_rows, truth["growth_years"])
        found["forecast"] = path_estimate(forecast, [focus], first, horizon, "total")
        if "near_steps" in truth:
            near = int(truth["near_steps"])
            found["forecast_near"] = path_estimate(forecast, [focus], first, near, "total")
    for quantity in PARAMETER_ROWS:
        found[quantity] = parameter_estimate(parameters, quantity, parameter_level)
    if not border:
        reason = f"{focus} has no cross-border neighbour in the study's target countries"
        found["border_total"] = found["border_any"] = reason
    elif forecast is None:
        found["border_total"] = found["border_any"] = "the study has no forecast"
    else:
        found["border_total"] = path_estimate(forecast, border, first, horizon, "total")
        found["border_any"] = path_estimate(forecast, border, first, horizon, "any")
    for code in targets:
        found[SHARE_PREFIX + code] = share_estimate(contrast, code, truth)
    return found


def growth_estimate(rows: pd.DataFrame | None, years: tuple[int, int]) -> Estimate | str:
    """The growth table's ratio and headline interval for the truth's growth years.

    Parameters
    ----------
    rows : DataFrame or None
        The focus region's rows of the study's growth table
        (:meth:`analysis.report.context.StudyGrowth.region`), the numbers its region report
        shows; None when the study has no usable comparison.
    years : (int, int)
        The stated model's growth years.

    Returns
    -------
    Estimate or str
        The reason it cannot be compared, as a string, when the table has no such comparison.
        The estimate's ``parts`` hold the fitted trend (``annual_growth_pct`` with its interval
        ``annual_growth_low``, ``annual_growth_high``), which the notes quote.
    """
    a, b = (str(y) for y in years)
    if rows is None or rows.empty:
        return f"the study's growth table has no comparison of {a} with {b}"
    match = rows[(rows["period_a"].astype(str) == a) & (rows["period_b"].astype(str) == b)]
    if match.empty:
        return f"the study does not compare {a} with {b}"
    row = match.iloc[0]
    level = round(100 * float(row.get("conf_level", 0.95)))
    trend = {}
    if "annual_growth_pct" in row.index and "annual_growth_ci" in row.index:
        low, high = np.asarray(row["annual_growth_ci"], dtype=float)
        trend = {
            "annual_growth_pct": float(row["annual_growth_pct"]),
            "annual_growth_low": float(low),
            "annual_growth_high": float(high),
            "level": level,
        }
    return Estimate(
        value=float(row["ratio"]),
        low=float(row["headline_ci_low"]),
        high=float(row["headline_ci_high"]),
        source="growth table (as in the region report)",
        interval=f"{level}% headline interval",
        parts=trend or None,
    )


def parameter_estimate(
    parameters: pd.DataFrame | None, quantity: str, level: float
) -> Estimate | str:
    """One share of the spillover model as the reports fit it, with its interval if any.

    Parameters
    ----------
    parameters : DataFrame or None
        :attr:`analysis.report.context.StudyResults.spillover_parameters`.
    quantity : {"own_lag", "neighbourhood", "dispersion"}
    level : float
        The level of the table's intervals.

    Returns
    -------
    Estimate or str
        An estimate whose limits are NaN when the fit gives no interval (a parameter on a
        bound without a profile interval); a string reason when the fit has no such term.
    """
    name = PARAMETER_ROWS[quantity]
    if parameters is None:
        return "the spillover model's parameters were not kept with the study's results"
    found = parameters[parameters["name"] == name]
    if found.empty:
        return f"the spillover model has no {name} term"
    row = found.iloc[-1]
    low, high = float(row["low"]), float(row["high"])
    pct = f"{100 * level:.0f}%"
    if bool(row.get("at_bound", False)):
        source = "spillover model as the reports fit it; on a bound"
        interval = f"{pct} profile-likelihood interval from the bound"
        interval = interval if np.isfinite(low + high) else ""
    else:
        source = "spillover model as the reports fit it (Wald interval on the log scale)"
        interval = f"{pct} Wald interval"
    return Estimate(
        value=float(row["estimate"]), low=low, high=high, source=source, interval=interval
    )


def path_estimate(
    forecast: Any, units: Sequence[str], forward_first: str, horizon: int, what: str
) -> Estimate | str:
    """A forecast over the horizon from the report model's paths, for one unit or several.

    Parameters
    ----------
    forecast : analysis.models.forecast.ForecastResult
        The report model's paths, as the region reports read them.
    units : sequence of str
        Region ids.
    forward_first : str
        ``YYYY-MM``, the first month of the stated model's continuation.
    horizon : int
        Months the stated model's values cover.
    what : {"total", "any"}
        ``total``: the units' events over the horizon, summed on each path, with its mean and
        central :data:`PREDICTIVE_LEVEL` predictive interval (for one unit, the numbers of
        :func:`analysis.models.risk.window_forecast`, which the region report shows).
        ``any``: the share of the units with at least one event over the horizon on each path;
        its mean is the mean of the units' P(at least one event). No interval: a mean of
        probabilities has no predictive interval to show.

    Returns
    -------
    Estimate or str
        A reason when the forecast covers other months (an as-of quarter before the end of
        the simulated data, a shorter horizon) or lacks a unit: its values are not the ones
        the stated model was continued for.
    """
    first = f"{pd.Timestamp(forecast.periods[0]):%Y-%m}"
    if first != forward_first:
        return f"the forecast starts in {first}; the stated model is continued from {forward_first}"
    if int(forecast.horizon) < int(horizon):
        return f"the forecast covers {forecast.horizon} months, the stated model {horizon}"
    missing = [u for u in units if u not in forecast.region_ids]
    if missing:
        return f"{join_words(missing)} not in the forecast"
    per_unit = forecast.select(list(units)).totals(horizon).astype(float)  # (unit, path)
    n_paths = per_unit.shape[1]
    several = len(units) > 1
    if what == "any":
        hit = per_unit > 0
        draws = hit.mean(axis=0)
        return Estimate(
            value=float(draws.mean()),
            low=float("nan"),
            high=float("nan"),
            source=(
                f"report model's {n_paths:,} paths, share with an event"
                + (f", averaged over the {len(units)} units" if several else "")
            ),
            draws=draws,
            parts=dict(zip(units, hit.mean(axis=1).tolist(), strict=True)),
        )
    if what != "total":
        raise ValueError(f"what must be 'total' or 'any', got {what!r}")
    draws = per_unit.sum(axis=0)
    low, _, high = _central(draws)
    return Estimate(
        value=float(draws.mean()),
        low=float(low),
        high=float(high),
        source=(
            f"report model's {n_paths:,} paths, mean"
            + (" of the units' summed total" if several else " (as in the region report)")
        ),
        interval=f"{100 * PREDICTIVE_LEVEL:.0f}% predictive interval",
        draws=draws,
        parts=dict(zip(units, per_unit.mean(axis=1).tolist(), strict=True)),
    )


def _central(draws: np.ndarray) -> tuple[float, float, float]:
    """Low end, median and high end of the central :data:`PREDICTIVE_LEVEL` interval of
    ``draws``, as sample quantiles of the kind the region reports print (``inverted_cdf``)."""
    tail = (1 - PREDICTIVE_LEVEL) / 2
    low, med, high = np.quantile(draws, [tail, 0.5, 1 - tail], method="inverted_cdf")
    return float(low), float(med), float(high)


def share_estimate(contrast: Any, country: str, truth: Mapping[str, Any]) -> Estimate | str:
    """The spillover model's share of a country's expected events attributable to the focus,
    as the reports define it (:func:`analysis.report.spillover_text.attributable_sentence`,
    which quotes it only where that model's backtest earns it).

    Parameters
    ----------
    contrast : analysis.models.spillover_scenarios.ScenarioContrast or None
    country : str
        Country code.
    truth : mapping
        :func:`analysis.simulate.demo_truth_summary`: the stated share silences the focus alone
        from ``forward_first`` over ``horizon`` months and sums the demo's units, so the
        report's is compared only when it is the same what-if over the same units.

    Returns
    -------
    Estimate or str
        Its mean over parameter draws and the interval across them; a reason otherwise.
    """
    if contrast is None:
        return "the spillover model's focus scenarios were not computed"
    focus = truth["focus"]
    if tuple(contrast.focus) != (focus,):
        return (
            f"the reports' what-if silences {join_words(list(contrast.focus))}, not {focus} alone"
        )
    start = f"{pd.Timestamp(contrast.origin) + pd.DateOffset(months=1):%Y-%m}"
    if start != truth["forward_first"] or int(contrast.horizon) != int(truth["horizon"]):
        return (
            f"the reports' what-if covers {contrast.horizon} months from {start}, the stated "
            f"model {truth['horizon']} from {truth['forward_first']}"
        )
    if set(contrast.regions["region_id"]) != set(truth.get("forward_region_ids", [])):
        return "the spillover model's units are not the stated model's, so the sums differ"
    row = contrast.countries[contrast.countries["country"] == country]
    if row.empty or not np.isfinite(float(row["expected_share"].iloc[0])):
        return f"the spillover model gives no share for {country}"
    row = row.iloc[0]
    return Estimate(
        value=float(row["expected_share"]),
        low=float(row["expected_share_low"]),
        high=float(row["expected_share_high"]),
        source=(
            f"spillover model's what-if, {contrast.n_draws} parameter draws x "
            f"{contrast.n_paths} paths (the reports' definition)"
        ),
        interval=f"{100 * contrast.level:.0f}% interval across parameter draws",
    )


def stated_values(
    truth: Mapping[str, Any], border: Sequence[str] = (), countries: Sequence[str] = ()
) -> dict[str, Stated]:
    """The stated model's value of every quantity it gives.

    Parameters
    ----------
    truth : mapping
        :func:`analysis.simulate.demo_truth_summary`.
    border : sequence of str
        The units of the ``border_*`` rows.
    countries : sequence of str
        Country codes of the share rows.

    Returns
    -------
    dict
        Keyed as :func:`estimates`. Expected totals and shares are exact (the stated model's
        expectations); the totals carry the stated model's paths (``forward_totals``) for its
        own interval, and the mean P(at least one event) comes from those paths with its
        Monte Carlo standard error. A quantity whose units the truth does not have is left out.
    """
    stated = {
        "growth": Stated(float(truth["expected_ratio"])),
        "own_lag": Stated(float(truth["autoregressive"])),
        "neighbourhood": Stated(float(truth["neighbourhood"])),
    }
    if "dispersion" in truth:
        stated["dispersion"] = Stated(float(truth["dispersion"]))
    ids = list(truth.get("forward_region_ids", []))
    totals = truth.get("forward_totals")
    totals = None if totals is None else np.asarray(totals, dtype=float)
    focus = truth["focus"]
    focus_draws = totals[:, ids.index(focus)] if totals is not None and focus in ids else None
    stated["forecast"] = Stated(float(truth["forward_total"]), draws=focus_draws)
    near = truth.get("forward_near_totals")
    if near is not None and focus in ids:
        draws = np.asarray(near, dtype=float)[:, ids.index(focus)]
        stated["forecast_near"] = Stated(float(truth["forward_near_total"]), draws=draws)
    if border and totals is not None and all(u in ids for u in border):
        cols = [ids.index(u) for u in border]
        expected = np.asarray(truth["forward_expected"], dtype=float)
        stated["border_total"] = Stated(
            float(expected[cols].sum()), draws=totals[:, cols].sum(axis=1)
        )
        share_hit = (totals[:, cols] > 0).mean(axis=1)
        stated["border_any"] = Stated(float(share_hit.mean()), se=_mean_se(share_hit))
    if countries and "forward_countries" in truth:
        codes = np.asarray(truth["forward_countries"])
        cont = np.asarray(truth["forward_expected"], dtype=float)
        silenced = np.asarray(truth["forward_expected_silenced"], dtype=float)
        for code in countries:
            total = cont[codes == code].sum()
            if total > 0:  # a country without expected events has nothing to attribute
                share = (total - silenced[codes == code].sum()) / total
                stated[SHARE_PREFIX + code] = Stated(float(share))
    return stated


def position(stated: float, est: Estimate) -> str:
    """Where the stated value lies against the estimate's interval.

    Parameters
    ----------
    stated : float
        The stated model's value.
    est : Estimate
        The estimate whose interval (``low``, ``high``) the value is set against.

    Returns
    -------
    str
        ``"inside"``, ``"above"``, ``"below"`` or ``"no interval"``.
    """
    if not est.has_interval:
        return "no interval"
    if stated < est.low:
        return "below"
    if stated > est.high:
        return "above"
    return "inside"


def point_check(stated: Stated, est: Estimate) -> PointCheck:
    """The point rule of the forecast rows: the report model's mean against the stated value.

    Recovered when ``|estimate / stated - 1|`` is at most the tolerance: :data:`POINT_GAP`,
    widened to :data:`MC_ERRORS` Monte Carlo standard errors of the two values together
    (relative to the stated value) where those are wider, since a gap within them could be
    path noise. Whether the stated value lies inside the estimate's predictive interval plays
    no part.

    Parameters
    ----------
    stated : Stated
    est : Estimate

    Returns
    -------
    PointCheck
        With a stated value of 0, recovered when the estimate is within the Monte Carlo
        standard errors of it (no relative gap).
    """
    noise = MC_ERRORS * float(np.hypot(est.mc_se, stated.se))
    if stated.value == 0:
        return PointCheck(abs(est.value) <= noise, float("nan"), float("nan"))
    gap = est.value / stated.value - 1
    tolerance = max(POINT_GAP, noise / abs(stated.value))
    return PointCheck(bool(abs(gap) <= tolerance), float(gap), float(tolerance))


def percentile(x: float, draws: np.ndarray) -> float:
    """Where ``x`` falls among ``draws``: the share below it plus half the share equal to it
    (the mid-rank, so a count equal to many paths' is not pushed to one end).

    Parameters
    ----------
    x : float
        The value to place.
    draws : ndarray
        One value per path.

    Returns
    -------
    float
        Between 0 and 1.
    """
    d = np.asarray(draws, dtype=float)
    return float((d < x).mean() + 0.5 * (d == x).mean())


def _ordinal(p: float) -> str:
    """A percentile in words: ``13th``, ``1st``, ``92nd``, ``below the 1st``/``above the 99th``
    at the ends, where the paths do not resolve it."""
    n = int(round(100 * p))
    if n < 1:
        return "below the 1st"
    if n > 99:
        return "above the 99th"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _kind(quantity: str) -> str:
    if quantity == "growth":
        return "ratio"
    if quantity in ("forecast", "forecast_near", "border_total"):
        return "count"
    if quantity == "border_any" or quantity.startswith(SHARE_PREFIX):
        return "probability"
    return "share"


def _number(quantity: str, x: float, limit: bool = False) -> str:
    """A value in its quantity's precision: ratios as the growth table, shares of the fit to 2
    decimals, forecast totals to 1 (the region report's mean; a ``limit`` to whole events),
    probabilities and attributable shares as percentages (as the reports quote them)."""
    if not np.isfinite(x):
        return ""
    kind = _kind(quantity)
    if kind == "ratio":
        return format_ratio(x) if limit else format_ratio_estimate(x)
    if kind == "count":
        return f"{x:,.0f}" if limit else f"{x:,.1f}"
    if kind == "probability":
        return format_probability(x)
    return f"{x:.2f}"


def _range(quantity: str, low: float, high: float) -> str:
    """An interval in its quantity's precision; probabilities as the reports write them
    (``43% to >99.9%``, not ``43->99.9%``)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return ""
    if _kind(quantity) == "probability":
        return probability_range(low, high)
    return f"{_number(quantity, low, limit=True)}-{_number(quantity, high, limit=True)}"


def _pct(gap: float) -> str:
    return f"{100 * abs(gap):.0f}%"


def _side(gap: float) -> str:
    return "above" if gap > 0 else "below"


def _names(
    truth: Mapping[str, Any],
    region_name: str,
    n_border: int,
    names: Mapping[str, str],
    shares: Sequence[str],
) -> dict[str, tuple[str, str]]:
    """Per quantity, the table's label and the sentences' short name."""
    a, b = truth["growth_years"]
    h = truth["horizon"]
    count = f" {n_border}" if n_border else ""
    units = f"{region_name}'s{count} cross-border neighbours"
    out = {
        "growth": (f"{region_name}: events in {b} / {a} (rate ratio)", "the growth ratio"),
        "own_lag": ("own-lag share (last month's own events)", "the own-lag share"),
        "neighbourhood": (
            "neighbourhood share (neighbours' last month's events)",
            "the neighbourhood share",
        ),
        "dispersion": (
            "overdispersion (variance = mean + overdispersion x mean²)",
            "the overdispersion",
        ),
        "forecast_near": (
            f"{region_name}: events over the next {truth.get('near_steps', 3)} months",
            f"{region_name}'s {truth.get('near_steps', 3)}-month total",
        ),
        "forecast": (
            f"{region_name}: events over the next {h} months",
            f"{region_name}'s {h}-month total",
        ),
        "border_total": (
            f"{units}: events over the next {h} months, summed",
            f"the cross-border neighbours' summed {h}-month total",
        ),
        "border_any": (
            f"{units}: P(at least one event in {h} months), mean over the units",
            "the cross-border neighbours' mean P(at least one event)",
        ),
    }
    for key in shares:
        code = key[len(SHARE_PREFIX) :]
        country = names.get(code, code)
        out[key] = (
            f"{country}: share of its events over the next {h} months attributable to "
            f"{region_name}",
            f"{country}'s share attributable to {region_name}",
        )
    return out


def _stated_cell(quantity: str, stated: Stated | None, truth: Mapping[str, Any]) -> str:
    if stated is None:
        return ""
    cell = _number(quantity, stated.value)
    if quantity == "growth":
        cell += f" (growth factor {truth['growth_factor']:g})"
    if stated.draws is not None and len(stated.draws):
        low, _, high = _central(stated.draws)
        cell += f" ({100 * PREDICTIVE_LEVEL:.0f}% of its paths: {_range(quantity, low, high)})"
    return cell


def _row(
    quantity: str, stated: str, estimate: str, interval: str, verdict: str, source: str
) -> dict[str, str]:
    """One row of the demo section's table."""
    return {"quantity": quantity, "stated model": stated, "estimate": estimate,
            "interval": interval, "recovered?": verdict, "estimate from": source}  # fmt: skip


@dataclass(frozen=True)
class _Judged:
    """One row's verdict: the table cell, which sentence it goes to (``recovered``,
    ``missed`` or ``unchecked``) with its phrase, and whether the stated value lies inside a
    predictive interval all the same (the weak check)."""

    verdict: str
    outcome: str
    phrase: str
    weak: bool = False
    brief: str = ""


def _judge_point(q: str, s: Stated, est: Estimate, short: str) -> _Judged:
    """A forecast row, judged on its point (:func:`point_check`); its predictive interval is
    shown, not used."""
    st, ev = _number(q, s.value), _number(q, est.value)
    where = position(s.value, est)
    check = point_check(s, est)
    mean = "mean " if _kind(q) == "count" else ""
    widened = " (Monte Carlo error)" if check.tolerance > POINT_GAP else ""
    if np.isfinite(check.gap):
        # a relative gap of a probability could be read as percentage points
        relative = " (relative)" if _kind(q) == "probability" else ""
        off = f"{_pct(check.gap)}{relative} {_side(check.gap)}"
        tol = f"{_pct(check.tolerance)} tolerance{widened}"
    else:
        off, tol = f"{ev} against 0", "Monte Carlo error"
    verdict = f"{'yes' if check.recovered else 'no'}: {mean}{off}, "
    verdict += f"{'within' if check.recovered else 'beyond'} the {tol}"
    if where != "no interval":
        verdict += f"; stated value {where} the {est.interval} (not used)"
    if check.recovered:
        return _Judged(verdict, "recovered", f"{short} ({mean}{ev} against the stated {st}, {off})")
    phrase = f"{short} (the report model's {mean}{ev} is {off} the stated {st}, beyond the {tol})"
    return _Judged(verdict, "missed", phrase, weak=where == "inside", brief=f"{ev} against {st}")


def _judge_interval(q: str, s: Stated, est: Estimate, short: str) -> _Judged:
    """A row estimating a quantity of the model, judged by whether its interval holds the
    stated value; a point 10% or more off is named even then."""
    st, ev = _number(q, s.value), _number(q, est.value)
    where = position(s.value, est)
    gap = est.value / s.value - 1 if s.value != 0 else float("nan")
    point = (
        f"the estimate {ev} is {_pct(gap)} {_side(gap)} the stated {st}"
        if np.isfinite(gap) and abs(gap) >= POINT_GAP
        else f"{ev} against the stated {st}"
    )
    if where == "inside":
        return _Judged(
            f"yes: inside the {est.interval}", "recovered",
            f"{short} ({point}, inside its {est.interval}{_loose(q, est)})",
        )  # fmt: skip
    if where == "no interval":
        return _Judged("no interval to check", "unchecked", f"{short} ({point})")
    return _Judged(
        f"no: {where} the {est.interval}", "missed",
        f"{short} (stated {st}, {where} the {est.interval} {_range(q, est.low, est.high)} "
        f"around {ev})", brief=f"{ev} against {st}",
    )  # fmt: skip


#: A ratio interval wider than this factor is called a loose check of the stated value.
LOOSE_RATIO_SPAN = 4.0


def _loose(q: str, est: Estimate) -> str:
    """ ", which spans 11.5-fold: a loose check" for a ratio interval so wide that many
    stated values would pass (the demo's growth: 2.44-28.0 holds 3-fold and 25-fold rises
    alike); empty otherwise."""
    if _kind(q) != "ratio" or not (est.low > 0 and np.isfinite(est.high)):
        return ""
    span = est.high / est.low
    return f", which spans {span:.1f}-fold: a loose check" if span > LOOSE_RATIO_SPAN else ""


def comparison(
    truth: Mapping[str, Any],
    estimates: Mapping[str, Estimate | str],
    region_name: str,
    *,
    border: Sequence[str] = (),
    names: Mapping[str, str] | None = None,
    unquoted: Collection[str] = (),
    onset_intervals: Mapping[str, tuple[float, ...]] | None = None,
) -> DemoComparison:
    """The demo section's table, caption, verdict sentences and notes.

    Parameters
    ----------
    truth : mapping
        :func:`analysis.simulate.demo_truth_summary` (``growth_years``, ``growth_factor``,
        ``expected_ratio``, ``simulated_counts``, ``autoregressive``, ``neighbourhood``,
        ``horizon``, ``forward_first``, ``forward_total``; for the border and share rows and
        the stated intervals, its per-unit ``forward_*`` values).
    estimates : mapping
        For each of :data:`QUANTITIES` and any share row (:data:`SHARE_PREFIX` + country
        code), an :class:`Estimate` or the reason (a string) it cannot be compared; a missing
        key of :data:`QUANTITIES` counts as "no estimate".
    region_name : str
        The focus region's name.
    border : sequence of str
        The units of the border rows (region ids), as given to :func:`estimates`.
    names : mapping, optional
        Display names of region ids and country codes (ids and codes otherwise).
    unquoted : collection of str
        Keys of ``estimates`` that no report quotes (the spillover model's parameters; its
        shares while they are withheld): their verdicts are said apart, so "recovered" does
        not credit the reports with numbers they do not show.
    onset_intervals : mapping, optional
        :func:`printed_onset_intervals`: each is checked against the stated model's P(at
        least one event) of that unit, since the region report prints the interval as the
        number's uncertainty.

    Returns
    -------
    DemoComparison
        One table row per quantity (stated value, estimate, interval, whether the stated
        value is recovered and by which rule, at which interval level and kind, where the
        estimate comes from) and sentences that name what was recovered and what was not,
        from these numbers only.
    """
    shares = [k for k in estimates if k.startswith(SHARE_PREFIX)]
    countries = [k[len(SHARE_PREFIX) :] for k in shares]
    label = _names(truth, region_name, len(border), names or {}, shares)
    stated = stated_values(truth, border, countries)
    rows = []
    found: dict[str, list[str]] = {"recovered": [], "missed": [], "unchecked": []}
    aside: dict[str, list[str]] = {"recovered": [], "missed": [], "unchecked": []}
    skipped, weak, missed_names = [], [], []
    intervals: dict[str, list[str]] = {}  # interval words -> the rows judged by them
    for q in [*QUANTITIES, *shares]:
        if q not in estimates and q not in stated:
            continue  # a quantity neither side gives (a truth summary without the near term)
        est = estimates.get(q, "no estimate")
        full, short = label[q]
        s = stated.get(q)
        if isinstance(est, str) or s is None:
            est = est if isinstance(est, str) else "the stated model gives no value for it"
            rows.append(_row(full, _stated_cell(q, s, truth), "", "", "not compared", est))
            skipped.append(f"{short} ({est})")
            continue
        judged = (_judge_point if q in POINT_RULE else _judge_interval)(q, s, est, short)
        (aside if q in unquoted else found)[judged.outcome].append(judged.phrase)
        if judged.outcome == "missed" and q not in unquoted:
            missed_names.append(f"{short} ({judged.brief})" if judged.brief else short)
        if judged.weak:
            weak.append(short)
        if q not in POINT_RULE and est.interval:
            intervals.setdefault(est.interval, []).append(short)
        source = est.source + ("; no report quotes it" if q in unquoted else "")
        rows.append(
            _row(full, _stated_cell(q, s, truth), _number(q, est.value),
                 _range(q, est.low, est.high), judged.verdict, source)
        )  # fmt: skip
    # the quiet units' printed intervals are judged as the reports print them
    checks = _onset_interval_checks(truth, onset_intervals or {}, names or {}, region_name)
    for check in checks:
        rows.append(check.row)
        found["recovered" if check.recovered else "missed"].append(check.phrase)
        if not check.recovered:
            missed_names.append(check.name)
    recovered, missed, unchecked = found["recovered"], found["missed"], found["unchecked"]

    sentences = []
    if recovered:
        sentences.append(f"Recovered: {join_words(recovered)}.")
    if missed:
        sentences.append(f"Not recovered: {join_words(missed)}.")
    if weak:
        one = len(weak) == 1
        sentences.append(
            f"The stated value{'' if one else 's'} of {join_words(weak)} "
            f"{'lies' if one else 'lie'} inside the report's {100 * PREDICTIVE_LEVEL:.0f}% "
            f"predictive interval{'' if one else 's'} all the same: a weak check, since a "
            "predictive interval covers one outcome over the horizon, not its mean, and holds "
            "almost any plausible mean."
        )
    spread = _spread_sentence(truth, stated.get("forecast"), estimates.get("forecast"), region_name)
    if spread:
        sentences.append(spread)
    if unchecked:
        sentences.append(f"No interval to check the stated value against: {join_words(unchecked)}.")
    said = [
        f"{word}: {join_words(aside[key])}"
        for key, word in (
            ("recovered", "recovered"),
            ("missed", "not recovered"),
            ("unchecked", "no interval to check"),
        )
        if aside[key]
    ]
    if said:
        sentences.append(
            "Of the spillover model's own numbers, which no report quotes (its parameters, and "
            "its shares while they are withheld): " + "; ".join(said) + "."
        )
    if skipped:
        sentences.append(f"Not compared: {join_words(skipped)}.")

    caption = (
        f"The stated model behind the demo data ({DEMO_TRUTH_FILE}) against the reports' "
        f"estimates and the spillover model's, for {region_name} and its cross-border "
        "neighbours; the last column says where each estimate comes from and which no report "
        "quotes."
    )
    notes = " ".join(
        part
        for part in (
            _growth_note(truth, region_name, stated["growth"].value, estimates.get("growth")),
            _shares_note(),
            _forecast_note(truth, region_name, border, estimates, names or {}),
            _attributable_note(truth, region_name) if shares else "",
        )
        if part
    )
    return DemoComparison(
        table=pd.DataFrame(rows),
        caption=caption,
        sentence=" ".join(sentences),
        rules=_rule_note(intervals, onset=bool(checks)),
        notes=notes,
        missed=tuple(missed_names),
    )


@dataclass(frozen=True)
class _OnsetCheck:
    """A quiet unit's printed P(at least one event) and onset interval against the stated
    model's P(at least one event): one table row and one phrase."""

    row: dict[str, str]
    phrase: str
    recovered: bool
    name: str = ""


def _onset_interval_checks(
    truth: Mapping[str, Any],
    intervals: Mapping[str, tuple[float, ...]],
    names: Mapping[str, str],
    region_name: str,
) -> list[_OnsetCheck]:
    """The quiet units' printed onset intervals against the stated model's P(at least one
    event), as table rows and phrases for the recovered and the not-recovered lists: the demo's
    Guidimaka read "43% ... (90% interval 30%-57%, from its parameter uncertainty)" in the
    reports, where the stated model gives 92%, and the check had judged only the mean over
    five units."""
    ids = list(truth.get("forward_region_ids", []))
    if not intervals or "forward_totals" not in truth:
        return []
    totals = np.asarray(truth["forward_totals"], dtype=float)
    level = f"{100 * PREDICTIVE_LEVEL:.0f}%"
    horizon = truth.get("horizon")
    months = f" in {horizon} months" if horizon else ""
    out = []
    for r, (p, low, high) in intervals.items():
        if r not in ids:
            continue
        truth_p = float((totals[:, ids.index(r)] > 0).mean())
        stated = format_probability(truth_p)
        name = names.get(r, r)
        span = f"the onset model's {level} interval {format_probability(low)}-" + (
            f"{format_probability(high)} printed with it"
        )
        inside = low <= truth_p <= high
        head = f"{name}'s P(at least one event), {format_probability(p)}"
        phrase = (
            f"{head} ({span} holds the stated {stated})"
            if inside
            else f"{head} (the stated {stated} lies outside {span})"
        )
        row = _row(
            f"{name} (quiet): P(at least one event{months})",
            stated,
            format_probability(p),
            probability_range(low, high),
            f"{'yes: inside' if inside else 'no: outside'} the onset model's {level} interval",
            f"report model's paths, the onset model's probability, with its interval from its "
            f"parameter uncertainty (as in {region_name}'s region report)",
        )
        brief = f"{format_probability(p)} against {stated}"
        out.append(_OnsetCheck(row, phrase, inside, f"{name}'s P(at least one event) ({brief})"))
    return out


def _spread_sentence(
    truth: Mapping[str, Any], stated: Stated | None, est: Any, region_name: str
) -> str:
    """The focus total's two distributions: the stated model's and the report model's paths,
    each holding the other's central value at some percentile."""
    if stated is None or stated.draws is None or not isinstance(est, Estimate):
        return ""
    if est.draws is None or not len(stated.draws):
        return ""
    low, med, high = _central(stated.draws)
    q = "forecast"
    return (
        f"Under the stated model {region_name}'s {truth['horizon']}-month total has the "
        f"{100 * PREDICTIVE_LEVEL:.0f}% interval {_range(q, low, high)} (median "
        f"{_number(q, med, limit=True)}); the report model's mean, {_number(q, est.value)}, "
        "lies at its "
        f"{_ordinal(percentile(est.value, stated.draws))} percentile, and the stated "
        f"expectation, {_number(q, stated.value)}, at the "
        f"{_ordinal(percentile(stated.value, est.draws))} percentile of the report model's paths."
    )


def _rule_note(intervals: Mapping[str, list[str]], onset: bool = False) -> str:
    """How the rows are judged, naming the interval (level and kind) each judged row used.

    Parameters
    ----------
    intervals : mapping
        Interval words (``Estimate.interval``) -> short names of the rows judged by it.
    onset : bool
        Whether quiet units' printed onset intervals were judged too (said last).
    """
    gap = f"{100 * POINT_GAP:.0f}%"
    # "; " between the kinds: each kind's rows are already joined with "and"
    used = "; ".join(f"the {kind} for {join_words(rows)}" for kind, rows in intervals.items())
    by_interval = (
        "Rows that estimate a quantity of the model are recovered when the stated value lies "
        f"inside the estimate's interval ({used}); a point estimate {gap} or more off is named "
        "even then. "
        if used
        else ""
    )
    return (
        f"How each row is judged. {by_interval}Forecast rows are judged on the point: "
        f"recovered when the report model's mean is within {gap} of the stated expectation "
        f"(or within {MC_ERRORS:g} Monte Carlo standard errors of the two, where wider). Their "
        f"{100 * PREDICTIVE_LEVEL:.0f}% predictive intervals are shown, not used: they hold one "
        f"outcome over the horizon, not its mean. The {gap} is a threshold of materiality, not "
        "a test: how far the report model's mean would move on other data drawn from the "
        "stated model is not computed."
        + (
            f" A quiet unit's P(at least one event), which the region report prints with the "
            f"onset model's {100 * PREDICTIVE_LEVEL:.0f}% interval as its uncertainty, is "
            "recovered when the stated probability lies inside that interval."
            if onset
            else ""
        )
    )


def _growth_note(
    truth: Mapping[str, Any], region_name: str, expected_ratio: float, growth: Any
) -> str:
    a, b = truth["growth_years"]
    count_a, count_b = truth["simulated_counts"]
    text = (
        f"Growth: the stated growth factor, {truth['growth_factor']:g}, drives {region_name}'s "
        "own level; its expected counts, which its neighbours' events also feed, rise "
        f"{format_ratio_estimate(expected_ratio)}-fold from {a} to {b} (the value checked), "
        f"and the simulated counts themselves went from {count_a} to {count_b}."
    )
    trend = growth.parts if isinstance(growth, Estimate) else None
    stated_pct = truth.get("annual_growth_pct")
    if trend and stated_pct is not None:
        text += (
            f" The growth table's trend over the same years, "
            f"{format_growth_pct(trend['annual_growth_pct'])} a year ({trend['level']}% interval "
            f"{format_growth_pct(trend['annual_growth_low'])} to "
            f"{format_growth_pct(trend['annual_growth_high'])}), compares with the stated "
            f"growth of the endemic level, {format_growth_pct(stated_pct)} a year."
        )
    return text


def _shares_note() -> str:
    return (
        "Shares: the stated model passes events to first-order neighbours only, the spillover "
        "model by a power law over adjacency orders with a cross-border factor; in both the "
        "neighbourhood share is the part of a region's events passed on to all its neighbours "
        "together."
    )


def _forecast_note(
    truth: Mapping[str, Any],
    region_name: str,
    border: Sequence[str],
    estimates: Mapping[str, Any],
    names: Mapping[str, str],
) -> str:
    paths = truth.get("forward_paths")
    text = (
        "Forecasts: the stated values are the expectations of the stated model continued from "
        f"{truth['forward_first']}, given the last simulated month (exact"
        + (
            f"; its intervals and probabilities of at least one event come from {paths:,} of "
            "its paths"
            if paths
            else ""
        )
        + ")."
    )
    total, hit = estimates.get("border_total"), estimates.get("border_any")
    ids = list(truth.get("forward_region_ids", []))
    if not (border and isinstance(total, Estimate) and isinstance(hit, Estimate)):
        return text
    if total.parts is None or hit.parts is None or not all(u in ids for u in border):
        return text
    expected = np.asarray(truth["forward_expected"], dtype=float)
    totals = np.asarray(truth["forward_totals"], dtype=float)
    parts = []
    for u in border:
        col = ids.index(u)
        parts.append(
            f"{names.get(u, u)} {total.parts[u]:.1f} against {expected[col]:.1f} "
            f"({format_probability(hit.parts[u])} against "
            f"{format_probability(float((totals[:, col] > 0).mean()))})"
        )
    return (
        text + f" The cross-border neighbours are {region_name}'s region report's (the units "
        "across the border in the spillover target countries); by unit, the report model's "
        "expected events (and P(at least one event)) against the stated model's: "
        + "; ".join(parts)
        + "."
    )


def _attributable_note(truth: Mapping[str, Any], region_name: str) -> str:
    return (
        f"Attributable shares, the reports' definition: of the events expected in a target "
        f"country's units over the {truth['horizon']} months, the part that goes if "
        f"{region_name} is silenced (its expected events set to 0 in every month ahead, its "
        "last month still feeding the first), as a share of those expected with it "
        "continuing. The stated share is exact (the stated model's expectations); the "
        "estimate is the spillover model's mean over its parameter draws, which the reports "
        "quote only where that model's backtest shows it ahead of the best baseline (their "
        "Spillover sections say whether)."
    )
