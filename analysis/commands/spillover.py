"""Commands of the spillover stage: ``spillover``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from analysis.commands._common import print_json, user_errors
from analysis.errors import InputError, Problem


@user_errors
def spillover_command(
    study_path: Annotated[Path, typer.Argument(help="Study YAML file.", metavar="STUDY.yaml")],
    origin: Annotated[
        str | None,
        typer.Option("--origin", help="Last period the model sees (YYYY-MM). Default: study end."),
    ] = None,
    horizon: Annotated[
        int | None,
        typer.Option("--horizon", help="Periods ahead. Default: the study's horizon.", min=1),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    draws: Annotated[
        int | None,
        typer.Option(
            "--draws",
            help="Parameter draws (intervals). Default: enough for a Monte Carlo error of the "
            "interval limits below 0.01.",
            min=10,
        ),
    ] = None,
    paths: Annotated[int, typer.Option("--paths", help="Paths per parameter draw.", min=10)] = 50,
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
) -> None:
    """Spillover risk: P(at least one event within the horizon) in every admin-1 unit and
    country of the study, with 95% intervals, from an endemic-epidemic count model."""
    import pandas as pd

    from analysis.config import load_study
    from analysis.models.hhh4 import HHH4Spec
    from analysis.models.spillover import (
        ENDEMIC_EFFECTS,
        fit_spillover,
        result_to_dict,
        spillover_forecast,
    )
    from analysis.models.spillover_select import fit_chosen
    from analysis.panel import parse_month
    from analysis.pipeline import prepare

    study = load_study(study_path)
    outside = sorted(set(study.spillover_targets) - set(study.countries))
    if outside:
        raise InputError(
            "spillover targets must be among the study's countries (their events are needed)",
            [
                Problem(str(study_path), None, "countries", "to include each target", c)
                for c in outside
            ],
        )
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
    data = prepare(study)
    cut = parse_month(origin, "--origin") if origin else None
    per_year = 12 if study.freq == "month" else 4
    spec = HHH4Spec(weights=weights, periods_per_year=per_year, activity_window=per_year)  # type: ignore[arg-type]
    choice = None
    if endemic == "cv" or damping is None:
        panel = data.panel
        if cut is not None:
            panel = panel[pd.to_datetime(panel["period"]) <= cut]
        # the study's model: what cross-validation chooses among the options not fixed here
        model, choice = fit_chosen(
            panel,
            boundaries=data.boundaries,
            focus=list(study.focus),
            horizon=horizon or study.horizon,
            seed=study.seed,
            spec=spec,
            effects=ENDEMIC_EFFECTS[:2] if endemic == "cv" else (endemic,),
            **({} if damping is None else {"dampings": (damping,)}),
        )
    else:
        model = fit_spillover(
            data.panel,
            origin=cut,
            boundaries=data.boundaries,
            spec=spec,
            endemic_effects=endemic,  # type: ignore[arg-type]
            focus_trend=list(study.focus),
            damping=damping,
        )
    result = spillover_forecast(
        model,
        horizon or study.horizon,
        focus=list(study.focus),
        n_draws=draws,
        n_paths=paths,
        seed=study.seed,
    )
    out = result_to_dict(result, model)
    if choice is not None:
        out["model"]["selection"] = choice.to_dict()
    out = {"study": study.title, "spillover_targets": list(study.spillover_targets), **out}
    if as_json:
        print_json(out)
        return
    typer.echo(result.sentence(study.spillover_targets or None))
    typer.echo("")
    typer.echo(
        f"{'region':<24}{'country':<8}{'P(>=1)':>8}  {'95% interval':<14}{'expected':>9}"
        f"{'neighbour share':>17}"
    )
    for t in out["targets"]:
        lo, hi = t["p_any_ci"]
        typer.echo(
            f"{t['region_name'][:23]:<24}{t['country']:<8}{t['p_any']:>8.2f}  "
            f"{f'{lo:.2f}-{hi:.2f}':<14}{t['expected']:>9.2f}{t['share_neighbour']:>17.2f}"
        )


def register(app: typer.Typer) -> None:
    """Add this stage's commands to app."""
    app.command("spillover")(spillover_command)
