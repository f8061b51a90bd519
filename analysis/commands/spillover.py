"""Commands of the spillover stage: ``spillover``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from analysis.commands._common import (
    HORIZON_HELP,
    QUIET_HELP,
    print_json,
    user_errors,
    warn_partial_period,
)
from analysis.errors import InputError, Problem


@user_errors
def spillover_command(
    study_path: Annotated[Path, typer.Argument(help="Study YAML file.", metavar="STUDY.yaml")],
    origin: Annotated[
        str | None,
        typer.Option(
            "--origin",
            help="Last period the model sees (YYYY-MM; a quarterly study: YYYYQn or a quarter's "
            "last month). Default: study end.",
        ),
    ] = None,
    horizon: Annotated[
        int | None,
        typer.Option("--horizon", help=HORIZON_HELP, min=1, max=36),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    draws: Annotated[
        int | None,
        typer.Option(
            "--draws",
            help="Parameter draws of the spillover model (its intervals, with --model "
            "spillover). Default: enough for a Monte Carlo error of the interval limits below "
            "0.01, at most 2000 (with --model spillover, mc_error in the JSON says where that "
            "was not met).",
            min=10,
        ),
    ] = None,
    paths: Annotated[
        int | None,
        typer.Option(
            "--paths",
            help="Paths per parameter draw of the spillover model (default 50).",
            min=10,
        ),
    ] = None,
    weights: Annotated[
        str, typer.Option("--weights", help="power_law or first_order neighbour weights.")
    ] = "power_law",
    endemic: Annotated[
        str,
        typer.Option(
            "--endemic",
            help="Endemic offsets: cv (chosen by rolling-origin CRPS between country and "
            "region_in_country), country, region_in_country, region or none.",
        ),
    ] = "cv",
    damping: Annotated[
        float | None,
        typer.Option(
            "--damping",
            help="Trend damping beyond the origin, in (0, 1]. Default: chosen by cross-validation.",
        ),
    ] = None,
    model: Annotated[
        str,
        typer.Option(
            "--model",
            help="Model whose paths give P(>=1) and expected counts: the reports' (auto, "
            "default) or any other, e.g. spillover.",
        ),
    ] = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", help=QUIET_HELP)] = False,
    timings: Annotated[
        bool,
        typer.Option(
            "--timings",
            help="With --json: add the seconds each stage took (data, fit, intervals, forecast, "
            "onset) as `timings`. Off by default, so the same inputs and seed give "
            "byte-identical JSON.",
        ),
    ] = False,
) -> None:
    """Spillover risk: P(at least one event within the horizon) in every admin-1 unit and
    country of the study, and expected counts, from one model's sample paths (by default the
    model the reports use, so the numbers match `forecast`); the endemic-epidemic model adds
    each region's share from its neighbours, its parameters and the focus scenarios; for quiet
    units, P(first event within the horizon) comes from the onset model.

    \f
    Parameters
    ----------
    study_path : Path
        The STUDY.yaml argument: the study file.
    origin : str or None
        The ``--origin`` option: last period the model sees (None: the study's end).
    horizon : int or None
        The ``--horizon`` option: periods ahead (None: the study's horizon).
    as_json : bool
        The ``--json`` flag: print JSON instead of tables.
    draws : int or None
        The ``--draws`` option: parameter draws of the spillover model (None: enough for the
        Monte Carlo error target, at most 2000).
    paths : int or None
        The ``--paths`` option: sample paths per parameter draw (None:
        :data:`analysis.models.spillover.DEFAULT_PATHS`).
    weights : str
        The ``--weights`` option: neighbour weights, ``power_law`` or ``first_order``.
    endemic : str
        The ``--endemic`` option: endemic offsets, ``cv`` (chosen by cross-validation) or one
        of :data:`~analysis.models.spillover.ENDEMIC_EFFECTS`.
    damping : float or None
        The ``--damping`` option: trend damping beyond the origin, in (0, 1] (None: chosen by
        cross-validation).
    model : str
        The ``--model`` option: model whose paths give P(>=1) and the expected counts
        (``auto``: the reports').
    quiet : bool
        The ``--quiet`` flag: no progress bar.
    timings : bool
        The ``--timings`` flag: with ``as_json``, add the seconds each stage took.

    Raises
    ------
    InputError
        If ``weights``, ``endemic`` or ``damping`` is not one of the accepted values.
    """

    from analysis import progress
    from analysis.config import load_study
    from analysis.models.hhh4 import HHH4Spec
    from analysis.models.spillover import (
        ENDEMIC_EFFECTS,
        result_to_dict,
        spillover_forecast,
    )
    from analysis.models.spillover_scenarios import contrast_to_dict, study_contrast
    from analysis.models.spillover_select import MIN_TRAIN, history_needed
    from analysis.periods import parse_origin
    from analysis.pipeline import check_origin, prepare, require_history

    study = load_study(study_path)
    if weights not in ("power_law", "first_order"):
        raise InputError(
            "bad --weights", [Problem(None, None, "--weights", "power_law or first_order", weights)]
        )
    if endemic not in ("cv", *ENDEMIC_EFFECTS):
        raise InputError(
            "bad --endemic",
            [Problem(None, None, "--endemic", f"cv or one of {ENDEMIC_EFFECTS}", endemic)],
        )
    if damping is not None and not 0.0 < damping <= 1.0:
        raise InputError(
            "bad --damping", [Problem(None, None, "--damping", "a number in (0, 1]", damping)]
        )
    progress.set_quiet(quiet)
    timer = progress.StageTimer()
    stages = ["data", "fit", "intervals", "onset"] + ([] if model == "spillover" else ["forecast"])
    bar = progress.bar(total=len(stages), stage="data", unit="stage")

    def advance(name: str) -> None:
        # one bar through the stages, named after the one running
        bar.update(1)
        bar.set_description(name)

    with timer.stage("data"):
        data = prepare(study)
    cut = check_origin(
        data.panel, study, parse_origin(origin, study.freq, "--origin") if origin else None
    )
    per_year = 12 if study.freq == "month" else 4
    from analysis.commands.forecast import _check_models

    _check_models([model])
    h = horizon or study.horizon
    # the rules `forecast` applies, before any fitting: the reports' model chooses by
    # out-of-sample scores, and so does the spillover model's cross-validated options
    if model == "auto":
        require_history(data.panel, study, "the spillover paths", origin=cut, horizon=h)
    if endemic == "cv" or damping is None:
        rule = (
            history_needed(h),
            f"the spillover model's endemic effects and trend damping are chosen by "
            f"out-of-sample scores at steps 1-{h} after {MIN_TRAIN} {study.freq}s of history",
        )
        require_history(data.panel, study, "the spillover model", origin=cut, rule=rule)
    warn_partial_period(data, cut)
    spec = HHH4Spec(weights=weights, periods_per_year=per_year, activity_window=per_year)  # type: ignore[arg-type]
    choice = None
    advance("fit")
    with timer.stage("fit"):
        fitted_model, choice = _fit(study, data, cut, spec, endemic, damping, h)
    advance("intervals")
    with timer.stage("intervals"):  # probabilities, their intervals and the focus contrast
        result = spillover_forecast(
            fitted_model,
            h,
            focus=list(study.focus),
            n_draws=draws,
            **({} if paths is None else {"n_paths": paths}),
            seed=study.seed,
        )
        # the reports' contrast, computed as they compute it: the CLI had its own (a plug-in
        # P(any) difference at 95%), which put the demo's Guidimaka at 0.87 where the reports
        # said 61% of its probability was attributable to Kayes
        contrast = study_contrast(fitted_model, study, h)
    out = result_to_dict(result, fitted_model, study.freq)
    shares_said = None
    if contrast is not None:
        import pandas as pd

        # an --origin at the study's last period is the reports' cut too
        last = pd.Timestamp(pd.to_datetime(data.panel["period"]).max())
        as_reports = (
            (cut is None or pd.Timestamp(cut) == last)
            and h == study.horizon
            and (weights, endemic, damping) == ("power_law", "cv", None)
        )
        contrast, shares_said, checked = _checked_shares(study_path, study, contrast, as_reports)
        out["scenarios"] = {**contrast_to_dict(contrast), **checked}
    if choice is not None:
        out["model"]["selection"] = choice.to_dict()
    if model != "spillover":
        advance("forecast")
        with timer.stage("forecast"):
            out = _from_paths(out, model, study, data, cut, h)
    else:
        out["sentence"] = result.sentence(study.spillover_targets or None, study.freq)
    out = {"study": study.title, "spillover_targets": list(study.spillover_targets), **out}
    advance("onset")
    with timer.stage("onset"):
        out.update(_onset_blocks(study, data, result, out, origin=cut, horizon=h))
    bar.update(1)
    bar.close()
    if timings:
        out["timings"] = timer.as_dict()
    if as_json:
        print_json(out)
        return
    typer.echo(out.get("sentence") or result.sentence(study.spillover_targets or None, study.freq))
    if shares_said:
        typer.echo(shares_said)
    typer.echo("")
    # each interval sits beside the number it belongs to: the one beside P(>=1) had been the
    # expected count's range whenever P(>=1) had none of its own
    # the spillover model's split of a region's events into own past and neighbours is its
    # what-if as the shares are: beside another model's P(>=1) it is shown only where the
    # shares are quoted (it had stood beside shares the reports withheld)
    split = model == "spillover" or (out.get("scenarios") or {}).get("quoted_in_reports") is True
    share_header = f"neighbour share ({out['interval_level']:.0%})"
    typer.echo(
        f"{'region':<24}{'country':<8}{'P(>=1)':>8}  {'P interval':<12}{'expected':>9}  "
        f"{'90% range':<14}" + (f"{share_header:<22}" if split else "")
    )
    for t in out["targets"]:
        p_ci, e_ci = t["p_any_ci"], t.get("expected_ci_90")
        p_label = "" if p_ci is None else f"{p_ci[0]:.2f}-{p_ci[1]:.2f}"
        e_label = "" if e_ci is None else f"{e_ci[0]:g}-{e_ci[1]:g}"
        typer.echo(
            f"{t['region_name'][:23]:<24}{t['country']:<8}{t['p_any']:>8.2f}  "
            f"{p_label:<12}{t['expected']:>9.2f}  {e_label:<14}"
            + (_share_label(t) if split else "")
        )
    onset = out["onset"]
    typer.echo("")
    if not onset["available"]:
        typer.echo(f"Onset: not available ({onset['reason']})")
        return
    typer.echo(f"Onset: {onset['definition']}")
    for u in onset["units"]:
        lo, hi = u["p_onset_ci"]
        typer.echo(
            f"{u['region_name'][:23]:<24}{u['country']:<8}{u['p_onset']:>8.2f}  {lo:.2f}-{hi:.2f}"
        )


def _share_label(target: dict) -> str:
    """The neighbour share with its interval over parameter draws, as the table shows it."""
    lo, hi = target["share_neighbour_ci"]
    return f"{target['share_neighbour']:.2f} ({lo:.2f}-{hi:.2f})"


def _checked_shares(study_path: Path, study, contrast, as_reports: bool):  # noqa: ANN202
    """The focus scenarios, the sentence on their shares and what checked them.

    With the reports' settings the shares are the reports' and are said as the overview says
    them: quoted only where the spillover model's own backtest on the focus regions is ahead of
    the best baseline (:func:`analysis.report.spillover_text.shares_earned`), from the same
    study results (cached with the reports'). The command had quoted them whatever that
    backtest said: "attributable to Mopti: BFA 13%" beside reports that attribute none. With
    other settings no backtest checks them: the JSON keeps them, marked unchecked, and the text
    does not quote them.
    """
    from analysis.report.spillover_text import focus_names, shares_earned, study_shares

    if not as_reports:
        reason = (
            "no backtest checks the spillover model with these settings (the reports' checks "
            "it with the study's origin, horizon, weights, endemic effects and damping)"
        )
        said = (
            f"The shares attributable to {focus_names(contrast)} are not quoted: {reason}; "
            "the JSON gives them, marked unchecked."
        )
        return contrast, said, {"quoted_in_reports": None, "unchecked": reason}
    from analysis.report import context

    shared = context.results(study_path)
    if shared.scenarios is None:
        unchecked = {"quoted_in_reports": False, "unchecked": "the reports have no scenarios"}
        return contrast, None, unchecked
    said, evidence = study_shares(
        shared, list(study.spillover_targets) or None, where="the reports' backtest"
    )
    checked: dict = {"quoted_in_reports": shares_earned(evidence, shared.scenarios)}
    if evidence is not None:
        checked["evidence"] = {
            "model": "spillover",
            "regions": "focus",
            "steps": [evidence.first, evidence.last],
            "baseline": evidence.baseline,
            "crps_skill": evidence.skill,
            "crps_skill_interval": [evidence.skill_low, evidence.skill_high],
            "level": evidence.level,
            "standing": evidence.standing,
        }
    return shared.scenarios, said, checked


def _fit(study, data, cut, spec, endemic: str, damping: float | None, horizon: int):
    """The study's spillover model (and the cross-validated choice, when one is made)."""
    import pandas as pd

    from analysis.models.spillover import ENDEMIC_EFFECTS, fit_spillover
    from analysis.models.spillover_select import fit_chosen

    choice = None
    if endemic == "cv" or damping is None:
        panel = data.panel
        if cut is not None:
            panel = panel[pd.to_datetime(panel["period"]) <= cut]
        # the study's model: what cross-validation chooses among the options not fixed here
        fitted_model, choice = fit_chosen(
            panel,
            boundaries=data.boundaries,
            focus=list(study.focus),
            horizon=horizon,
            seed=study.seed,
            spec=spec,
            effects=ENDEMIC_EFFECTS[:2] if endemic == "cv" else (endemic,),
            **({} if damping is None else {"dampings": (damping,)}),
        )
    else:
        fitted_model = fit_spillover(
            data.panel,
            origin=cut,
            boundaries=data.boundaries,
            spec=spec,
            endemic_effects=endemic,  # type: ignore[arg-type]
            focus_trend=list(study.focus),
            damping=damping,
        )
    return fitted_model, choice


def _onset_blocks(study, data, result, out: dict, *, origin, horizon: int) -> dict:
    """``onset`` (quiet units: P(first event within h)) and ``continued_activity`` (active units:
    expected count from the same paths as ``targets``), for the target countries' units and the
    focus regions' neighbours (every unit when the study names neither)."""
    from analysis.geography import neighbours
    from analysis.models.onset_forecast import onset_forecast, onset_to_dict
    from analysis.pipeline import onset_reference

    reg = result.regions
    # expected counts as `targets` states them (the report model's paths, when one was named)
    shown = {t["region_id"]: t for t in out["targets"]}
    wanted = set(reg.loc[reg["country"].isin(list(study.spillover_targets)), "region_id"])
    for f in study.focus:
        wanted |= set(neighbours(f, 1, boundaries=data.boundaries))
    wanted -= set(study.focus)
    if not study.spillover_targets and not study.focus:
        wanted = set(reg["region_id"])
    try:
        forecast = onset_forecast(
            data.panel,
            horizon,
            study.quiet_periods,
            origin=origin,
            boundaries=data.boundaries,
            seed=study.seed,
            reference=onset_reference(data),
        )
    except InputError as exc:
        # No onsets in the study's own history: say so instead of inventing a probability.
        return {"onset": {"available": False, "reason": str(exc)}, "continued_activity": []}
    onset = {"available": True, **onset_to_dict(forecast, sorted(wanted), study.freq)}
    active = reg[reg["region_id"].isin(set(forecast.active) & wanted)]
    continued = [
        {
            "region_id": r.region_id,
            "region_name": r.region_name,
            "country": r.country,
            "expected": float(shown[r.region_id]["expected"]),
            # the window total's predictive 90% range, as `targets` gives it
            "expected_ci_90": shown[r.region_id]["expected_ci_90"],
        }
        for r in active.itertuples()
    ]
    return {"onset": onset, "continued_activity": continued}


def _from_paths(out: dict, name: str, study, data, origin, horizon: int) -> dict:
    """Replace P(>=1) and expected counts by those of ``name``'s paths (one model per report);
    keep the spillover model's neighbour shares, parameters and scenario contrasts.

    As many paths as the reports and ``forecast`` draw, with the study's seed, so the numbers
    are theirs (the path count had followed ``--draws`` x ``--paths``: 4,000 by default, and
    the demo's Senegal read P(>=1) 97% here and 98% in the overview)."""
    import numpy as np

    from analysis.models.forecast import panel_to_history
    from analysis.models.risk import path_risk
    from analysis.pipeline import study_model
    from analysis.report.context import FORECAST_SAMPLES

    f = study_model(name, data, horizon, origin)
    fitted = f.fit(panel_to_history(data.panel, origin))
    fc = fitted.forecast(horizon, FORECAST_SAMPLES, study.seed)
    names = {t["region_id"]: t["region_name"] for t in out["targets"]}
    ctry = {t["region_id"]: t["country"] for t in out["targets"]}
    risk = path_risk(
        fc, [names.get(r, r) for r in fc.region_ids], [ctry.get(r, "") for r in fc.region_ids]
    )
    reg = risk.regions.set_index("region_id")
    for t in out["targets"]:
        r = reg.loc[t["region_id"]]
        t["p_any"] = float(r["p_any"])
        t["p_any_ci"] = None  # a predictive probability: parameter uncertainty is inside it
        t["expected"] = float(r["expected"])
        t["expected_median"] = float(r["median"])
        t["expected_ci_90"] = [float(r["expected_low"]), float(r["expected_high"])]
        t["expected_mean_ci"] = None  # the paths' mean has no parameter interval of its own
        t["p_any_ci_mc_error"] = None  # the spillover model's interval is not shown
    cp = risk.countries.set_index("country")["p_any"]
    for c in out["countries"]:
        c["p_any"] = float(cp.get(c["country"], float("nan")))
        c["p_any_ci"] = None
        if "p_any_ci_mc_error" in c:
            c["p_any_ci_mc_error"] = None
    # the Monte Carlo error of what is shown: the point probabilities of these paths (the
    # spillover model's block described interval limits that are no longer in the output,
    # and read "met: false" beside targets without an interval). No target: the reports'
    # 2,000 paths fix it, at most sqrt(0.25 / 2000) = 0.011, and no option changes it.
    shown = np.array([t["p_any"] for t in out["targets"]] + [c["p_any"] for c in out["countries"]])
    n_samples = fc.samples.shape[2]
    binomial_se = np.sqrt(shown * (1 - shown) / n_samples)
    worst = int(np.nanargmax(binomial_se))
    labels = [t["region_id"] for t in out["targets"]] + [c["country"] for c in out["countries"]]
    out["mc_error"] = {
        "p_any_max": float(binomial_se[worst]),
        "p_any_worst": labels[worst],
        "method": f"binomial standard error of P(>=1) from the forecast model's {n_samples} "
        "paths (the reports' number of paths)",
    }
    out["forecast_model"] = {
        "name": name,
        "chosen": getattr(fitted, "chosen", name),
        "samples": fc.samples.shape[2],
        "note": "p_any, expected and countries come from this model's paths; share_neighbour, "
        "parameters and scenarios from the endemic-epidemic spillover model",
    }
    evidence = getattr(fitted, "evidence", None)
    if evidence is not None:
        out["forecast_model"]["evidence"] = evidence
    # the origin as the panel writes its periods (a quarter's first month had read as a month)
    out["sentence"] = risk.sentence(study.spillover_targets or None, freq=study.freq)
    return out


def register(app: typer.Typer) -> None:
    """Add this stage's commands to app.

    Parameters
    ----------
    app : typer.Typer
        The ``conflict-trends`` application.
    """
    app.command("spillover")(spillover_command)
