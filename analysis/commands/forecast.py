"""Commands of the forecast stage: ``forecast`` and ``backtest``."""

from __future__ import annotations

import functools
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

DEFAULT_BACKTEST_MODELS = (
    "zero",
    "last_value",
    "recent_mean_3",
    "recent_mean_6",
    "conflictology",
    "nb_climatology",
    "nb_glm",
    "pooled_nb",
    "ensemble",
)
FORECAST_KEYS = (
    "region_id",
    "period",
    "step",
    "mean",
    "median",
    "q05",
    "q10",
    "q90",
    "q95",
    "p_any",
)
MODEL_KEYS = (
    "model",
    "is_baseline",
    "crps",
    "crps_fair",
    "crps_skill_vs_best_baseline",
    "pit_coverage_50",
    "pit_coverage_80",
    "pit_coverage_90",
    "pit_coverage_95",
    "closed_coverage_80",
    "interval_score_95",
    "brier_any",
    "n_forecasts",
)


def _month(value: str | None, option: str, freq: str = "month"):
    from analysis.periods import parse_origin

    return None if value is None else parse_origin(value, freq, option)


def _check_models(names: list[str]) -> None:
    from analysis.models.registry import available

    known = set(available())
    bad = [n for n in names if n not in known]
    if bad:
        raise InputError(
            "unknown model",
            [Problem(None, None, "--model", f"one of {', '.join(sorted(known))}", b) for b in bad],
        )


@user_errors
def forecast_command(
    study_path: Annotated[Path, typer.Argument(help="Study YAML file.", metavar="STUDY.yaml")],
    region: Annotated[
        list[str] | None,
        typer.Option(
            "--region", help="Region (ISO 3166-2 code or name); repeatable. Default: focus."
        ),
    ] = None,
    horizon: Annotated[
        int | None, typer.Option("--horizon", min=1, max=36, help=HORIZON_HELP)
    ] = None,
    model: Annotated[
        str, typer.Option("--model", help="Forecaster name (`conflict-trends models` lists them).")
    ] = "auto",
    origin: Annotated[
        str | None,
        typer.Option(
            "--origin",
            help="Last month the model sees (YYYY-MM; a quarterly study: YYYYQn or a "
            "quarter's last month).",
        ),
    ] = None,
    samples: Annotated[
        int | None,
        typer.Option(
            "--samples",
            min=10,
            max=100_000,
            help="Sample paths. Default: as many as the reports draw (2000), so the numbers "
            "are the reports'.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Probabilistic forecasts per region and step: mean, median, 90%/80% ranges, P(>=1),
    and each region's total over the horizon (from the same sample paths).

    \f
    Parameters
    ----------
    study_path : Path
        The STUDY.yaml argument: the study file.
    region : list of str or None
        The ``--region`` options: regions to show (None: the study's focus).
    horizon : int or None
        The ``--horizon`` option: periods ahead (None: the study's horizon).
    model : str
        The ``--model`` option: forecaster name; ``auto`` is the reports' choice.
    origin : str or None
        The ``--origin`` option: last period the model sees (None: the study's end).
    samples : int or None
        The ``--samples`` option: sample paths (None: as many as the reports draw).
    as_json : bool
        The ``--json`` flag: print JSON instead of a table.

    Raises
    ------
    InputError
        If the model is unknown or a region is not in the study's panel.
    """
    from analysis.config import load_study
    from analysis.formatting import period_label
    from analysis.geography import resolve_region
    from analysis.models.forecast import panel_to_history
    from analysis.pipeline import check_origin, prepare, require_history, study_model
    from analysis.report.context import FORECAST_SAMPLES

    # the reports' paths, seed and count: with 1,000 the demo's Kayes read 93.5 events over
    # 2025 (90% interval 49-157) where every report said 94.9 (50-165)
    samples = FORECAST_SAMPLES if samples is None else samples

    _check_models([model])
    study = load_study(study_path)
    data = prepare(study)
    cut = check_origin(data.panel, study, _month(origin, "--origin", study.freq))
    h = horizon or study.horizon
    if model == "auto":
        # the rule a study's window meets, applied to the history the model sees
        require_history(data.panel, study, origin=cut, horizon=h)
    warn_partial_period(data, cut)
    # a region asked twice is printed once
    asked = (
        [resolve_region(r, data.boundaries, "--region") for r in region]
        if region
        else list(study.focus)
    )
    regions = list(dict.fromkeys(asked))
    missing = sorted(set(regions) - set(data.panel["region_id"]))
    if missing:
        raise InputError(
            "region not in the study's panel",
            [
                Problem(None, None, "--region", "a region of the study's countries", m)
                for m in missing
            ],
        )
    f = study_model(model, data, h, cut)
    fitted = f.fit(panel_to_history(data.panel, cut))
    res = fitted.forecast(h, samples, study.seed).select(regions)
    table = res.to_frame()
    # a row's period is a date (the period's first day), not a label: its form does not
    # depend on the study's frequency
    table["period"] = table["period"].dt.strftime("%Y-%m-%d")
    rows = [{k: row[k] for k in FORECAST_KEYS} for row in table.to_dict(orient="records")]
    # the period as `spillover --json` and `--origin` write it ("2021Q2", "2021-04"), so the
    # two outputs join on it and a forecast's period can be fed back as an origin
    for r in rows:
        r["period_label"] = period_label(res.periods[int(r["step"]) - 1], study.freq)
    out = {
        "model": res.model,
        # a quarter written as its first month had read as that month ("2020-10" for 2020Q4)
        "origin": period_label(res.origin, study.freq),
        "horizon": h,
        "samples": samples,
        "seed": res.seed,
        "forecasts": rows,
        "totals": window_totals(res),
    }
    evidence = getattr(fitted, "evidence", None)
    if evidence is not None:
        out["chosen"] = evidence["chosen"]
        out["evidence"] = evidence
    if as_json:
        print_json(out)
        return
    chosen = f" (chose {out['chosen']})" if "chosen" in out else ""
    typer.echo(
        f"model {res.model}{chosen}, origin {out['origin']}, {samples} samples, seed {res.seed}"
    )
    typer.echo(table.round(2).to_string(index=False))
    for t in out["totals"]:
        typer.echo(
            f"{t['region_id']}: total over {h} periods mean {t['mean']:.1f}, median "
            f"{t['median']:.0f}, 90% interval {t['q05']:.0f}-{t['q95']:.0f}"
        )


def window_totals(res) -> list[dict]:
    """Each region's total over all forecast steps: mean, median, 90% interval, P(any).

    Parameters
    ----------
    res : ForecastResult
        The forecast of the regions shown.

    Returns
    -------
    list of dict
        One per region: ``region_id``, ``steps``, ``mean``, ``median``, ``q05``, ``q95``
        (the 90% interval) and ``p_any``.
    """
    import numpy as np

    tot = res.totals()
    q = np.quantile(tot, [0.05, 0.5, 0.95], axis=1, method="inverted_cdf")
    return [
        {
            "region_id": r,
            "steps": res.horizon,
            "mean": float(tot[i].mean()),
            "median": float(q[1, i]),
            "q05": float(q[0, i]),
            "q95": float(q[2, i]),
            "p_any": float((tot[i] > 0).mean()),
        }
        for i, r in enumerate(res.region_ids)
    ]


@user_errors
def backtest_command(
    study_path: Annotated[Path, typer.Argument(help="Study YAML file.", metavar="STUDY.yaml")],
    start: Annotated[str | None, typer.Option("--start", help="First origin (YYYY-MM).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last origin (YYYY-MM).")] = None,
    horizon: Annotated[
        int | None, typer.Option("--horizon", min=1, max=36, help=HORIZON_HELP)
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            help="Forecaster; repeatable (`conflict-trends models` lists them). "
            "Default: baselines + NB models.",
        ),
    ] = None,
    samples: Annotated[
        int,
        typer.Option("--samples", min=10, max=100_000, help="Sample paths per region and origin."),
    ] = 500,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write every score (long format) to this CSV.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help=QUIET_HELP)] = False,
) -> None:
    """Rolling-origin backtest with CRPS, randomised-PIT coverage, interval score and Brier
    score per model, per step and per region group (focus, active, quiet), skill against the
    best baseline, and a paired test; and each region's total over the first 3 steps and over
    the horizon, scored from the path sums ("by_total": CRPS, skill, 80% and 90% coverage).
    A progress bar over origins is drawn on a terminal; --json includes the seconds each
    stage took ("timings").

    \f
    Parameters
    ----------
    study_path : Path
        The STUDY.yaml argument: the study file.
    start : str or None
        The ``--start`` option: first forecast origin (None: the first with enough history).
    end : str or None
        The ``--end`` option: last forecast origin (None: the period before the last).
    horizon : int or None
        The ``--horizon`` option: periods ahead (None: the study's horizon).
    model : list of str or None
        The ``--model`` options: forecasters to score (None: :data:`DEFAULT_BACKTEST_MODELS`).
    samples : int
        The ``--samples`` option: sample paths per region and origin.
    as_json : bool
        The ``--json`` flag: print JSON instead of tables.
    out : Path or None
        The ``--out`` option: CSV to write every score to, in long format (None: none).
    quiet : bool
        The ``--quiet`` flag: no progress bar.

    Raises
    ------
    InputError
        If a model is unknown.
    ModelError
        If no model could be fitted (the first one's reason).
    """
    from analysis import progress
    from analysis.config import load_study
    from analysis.errors import ModelError
    from analysis.evaluation import backtest, backtest_leaving_out, scorecard, total_summary
    from analysis.io import atomic_write_with, require_writable
    from analysis.pipeline import prepare, study_model

    progress.set_quiet(quiet)
    timer = progress.StageTimer()
    names = list(dict.fromkeys(model)) if model else list(DEFAULT_BACKTEST_MODELS)
    _check_models(names)
    with timer.stage("prepare"):
        study = load_study(study_path)
        if out is not None:
            # before the backtest, not after it; the study names the files it may not replace
            require_writable(out, inputs=study.input_files())
        data = prepare(study)
    h = horizon or study.horizon
    models = [study_model(m, data, h) for m in names]
    with timer.stage("origins"):
        run = functools.partial(
            backtest,
            data.panel,
            focus=list(study.focus),
            start=_month(start, "--start", study.freq),
            end=_month(end, "--end", study.freq),
            horizon=h,
            n_samples=samples,
            seed=study.seed,
        )
        bt, left_out = backtest_leaving_out(run, models)
        if bt is None:  # no model could be fitted: the first one's reason stands
            raise ModelError(left_out[0]["reason"])
    # the latest outcome the backtest scored: a partial last period matters only if scored
    scored = bt.scores["period"].max() if len(bt.scores) else data.panel["period"].min()
    warn_partial_period(data, scored)
    with timer.stage("scorecard"):
        sc = scorecard(bt)
        totals = total_summary(bt)
    if out is not None:
        with timer.stage("write"):
            atomic_write_with(out, lambda p: bt.scores.to_csv(p, index=False))
    result = {
        "models": [{k: r[k] for k in MODEL_KEYS} for r in sc["models"]],
        "by_horizon": [
            {"step": r["step"], **{k: r[k] for k in MODEL_KEYS}} for r in sc["by_horizon"]
        ],
        "by_group": [
            {"group": r["group"], **{k: r[k] for k in MODEL_KEYS}} for r in sc["by_group"]
        ],
        "best_model": sc["best_model"],
        "best_baseline": sc["best_baseline"],
        "best_non_baseline": sc["best_non_baseline"],
        "origins": sc["origins"],
        "n_origins": sc["n_origins"],
        "paired_tests": sc.get("paired_tests", []),
        # models that could not be fitted at some origin, with why (not scored)
        "left_out": left_out,
        # each region's total over the first 3 steps and over the horizon, scored from the
        # paths' sums: whether the paths' dependence across steps gives them the right spread
        "by_total": totals,
        "timings": timer.as_dict(),
    }
    if as_json:
        print_json(result)
        return
    import pandas as pd

    typer.echo(
        f"origins {sc['origins'][0]}..{sc['origins'][1]} ({sc['n_origins']}), horizon {bt.horizon}"
    )
    typer.echo(pd.DataFrame(result["models"]).round(4).to_string(index=False))
    if totals:
        typer.echo("totals over the first steps (path sums):")
        typer.echo(pd.DataFrame(totals).round(4).to_string(index=False))
    best = f"best model: {sc['best_model']}; best baseline: {sc['best_baseline']}"
    if sc["n_origins"] < FEW_ORIGINS:
        # one origin's scores had been printed as "best model: ensemble" on a 2% difference
        best += f" (from {sc['n_origins']} origin{'s' if sc['n_origins'] != 1 else ''}: too few "
        best += "to rank models; see paired_tests in --json)"
    typer.echo(best)
    for gone in left_out:
        typer.echo(f"left out: {gone['model']} ({gone['reason']})", err=True)


#: Below this many origins the backtest command says its "best model" ranks nothing.
FEW_ORIGINS = 6


@user_errors
def models_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List every forecaster --model accepts: its name, whether it is a baseline, and what it
    is.

    \f
    Parameters
    ----------
    as_json : bool
        The ``--json`` flag: print JSON instead of a table.
    """
    from analysis.models.registry import describe

    rows = describe()
    if as_json:
        print_json({"models": rows})
        return
    width = max(len(r["model"]) for r in rows)
    for r in rows:
        kind = "baseline" if r["is_baseline"] else "model"
        typer.echo(f"{r['model']:<{width}}  {kind:<8}  {r['description']}")


def register(app: typer.Typer) -> None:
    """Add this stage's commands to app.

    Parameters
    ----------
    app : typer.Typer
        The ``conflict-trends`` application.
    """
    app.command("models")(models_command)
    app.command("forecast")(forecast_command)
    app.command("backtest")(backtest_command)
