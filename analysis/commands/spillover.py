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
        int, typer.Option("--draws", help="Parameter draws (intervals).", min=10)
    ] = 200,
    paths: Annotated[int, typer.Option("--paths", help="Paths per parameter draw.", min=10)] = 200,
    weights: Annotated[
        str, typer.Option("--weights", help="power_law or first_order neighbour weights.")
    ] = "power_law",
    endemic: Annotated[
        str, typer.Option("--endemic", help="Endemic offsets by country, region or none.")
    ] = "country",
) -> None:
    """Spillover risk: P(at least one event within the horizon) in every admin-1 unit and
    country of the study, with 95% intervals, from an endemic-epidemic count model; and, for
    quiet units, P(first event within the horizon) from the onset model."""
    from analysis.config import load_study
    from analysis.models.hhh4 import HHH4Spec
    from analysis.models.spillover import fit_spillover, result_to_dict, spillover_forecast
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
    if endemic not in ("country", "region", "none"):
        raise InputError(
            "bad --endemic", [Problem(None, None, "--endemic", "country, region or none", endemic)]
        )
    data = prepare(study)
    cut = parse_month(origin, "--origin") if origin else None
    per_year = 12 if study.freq == "month" else 4
    model = fit_spillover(
        data.panel,
        origin=cut,
        boundaries=data.boundaries,
        spec=HHH4Spec(weights=weights, periods_per_year=per_year, activity_window=per_year),  # type: ignore[arg-type]
        endemic_effects=endemic,  # type: ignore[arg-type]
        focus_trend=list(study.focus),
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
    out = {"study": study.title, "spillover_targets": list(study.spillover_targets), **out}
    out.update(_onset_blocks(study, data, result, origin=cut, horizon=horizon or study.horizon))
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


def _onset_blocks(study, data, result, *, origin, horizon: int) -> dict:
    """``onset`` (quiet units: P(first event within h)) and ``continued_activity`` (active units:
    expected count from the count model), for the target countries' units and the focus
    regions' neighbours (every unit when the study names neither)."""
    from analysis.geography import neighbours
    from analysis.models.onset_forecast import onset_forecast, onset_to_dict

    reg = result.regions
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
        )
    except InputError as exc:
        # No onsets in the study's own history: say so instead of inventing a probability.
        return {"onset": {"available": False, "reason": str(exc)}, "continued_activity": []}
    onset = {"available": True, **onset_to_dict(forecast, sorted(wanted))}
    active = reg[reg["region_id"].isin(set(forecast.active) & wanted)]
    continued = [
        {
            "region_id": r.region_id,
            "region_name": r.region_name,
            "country": r.country,
            "expected": float(r.expected),
            "expected_ci": [float(r.expected_low), float(r.expected_high)],
        }
        for r in active.itertuples()
    ]
    return {"onset": onset, "continued_activity": continued}


def register(app: typer.Typer) -> None:
    """Add this stage's commands to app."""
    app.command("spillover")(spillover_command)
