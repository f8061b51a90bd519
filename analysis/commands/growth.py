"""Commands of the growth stage: ``growth``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from analysis.commands._common import print_json, user_errors, warn_partial_period
from analysis.errors import InputError, Problem
from analysis.periods import comparison_order


def _parse_compare(values: list[str]) -> list[tuple[str, str]]:
    pairs = []
    problems = []
    for value in values:
        parts = value.split(":")
        if len(parts) != 2 or not all(p.strip() for p in parts):
            problems.append(Problem(None, None, "--compare", "A:B, e.g. 2021:2024", value))
            continue
        a, b = parts[0].strip(), parts[1].strip()
        try:
            why = comparison_order(a, b)
        except InputError as exc:
            problems.append(Problem(None, None, "--compare", "A:B of periods", exc.message))
            continue
        if why:
            problems.append(Problem(None, None, "--compare", why, value))
            continue
        pairs.append((a, b))
    if problems:
        raise InputError("invalid --compare", problems)
    return pairs


@user_errors
def growth_command(
    study_path: Annotated[Path, typer.Argument(help="Study YAML file.", metavar="STUDY.yaml")],
    region: Annotated[
        list[str] | None,
        typer.Option(
            "--region", help="Region (ISO 3166-2 code or name); repeatable. Default: focus."
        ),
    ] = None,
    compare: Annotated[
        list[str] | None,
        typer.Option(
            "--compare",
            help="Periods A:B (YYYY, YYYYQn, YYYY-MM or YYYY-MM..YYYY-MM); repeatable. "
            "Default: the study's comparisons.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON, one object per row.")
    ] = False,
) -> None:
    """Growth between two periods for each region: rate ratio with its headline 95% interval
    (allowing for overdispersion and the dependence between consecutive periods, months or
    quarters) and the exact one, trend growth per year, doubling time, change point.

    \f
    Parameters
    ----------
    study_path : Path
        The STUDY.yaml argument: the study file.
    region : list of str or None
        The ``--region`` options: regions to show (None: the study's focus, else every
        region of its panel).
    compare : list of str or None
        The ``--compare`` options: pairs of periods ``A:B`` (None: the study's comparisons).
    as_json : bool
        The ``--json`` flag: print JSON, one object per region and comparison.

    Raises
    ------
    InputError
        If a comparison is malformed or outside the study's window, there is nothing to
        compare, or a region is not in the study's panel.
    """
    import pandas as pd

    from analysis.config import COMPARISON_PROBLEM, load_study
    from analysis.geography import resolve_region
    from analysis.growth import JSON_KEYS, growth_sentence, growth_table
    from analysis.periods import parse_window
    from analysis.pipeline import prepare

    study = load_study(study_path)
    pairs = _parse_compare(compare) if compare else [tuple(map(str, p)) for p in study.compare]
    # a comparison or region asked twice is one test, not two in the adjustment's family
    pairs = list(dict.fromkeys(pairs))
    if not pairs:
        raise InputError(
            "nothing to compare",
            [Problem(str(study_path), None, "compare", "a comparison, or --compare A:B")],
        )
    outside = study.comparison_problems(pairs, "--compare" if compare else "compare")
    if outside:
        raise InputError(COMPARISON_PROBLEM, outside)
    data = prepare(study)
    if region:
        regions = list(
            dict.fromkeys(resolve_region(r, data.boundaries, "--region") for r in region)
        )
    else:
        regions = list(study.focus) or list(dict.fromkeys(data.panel["region_id"]))
    missing = sorted(set(regions) - set(data.panel["region_id"]))
    if missing:
        raise InputError(
            "region not in the study's panel",
            [
                Problem(None, None, "--region", "a region of the study's countries", m)
                for m in missing
            ],
        )
    # the comparisons' latest window: a partial last period matters only if they reach it
    latest_end = max(parse_window(b).end for _, b in pairs) - pd.Timedelta(days=1)
    warn_partial_period(data, latest_end)
    # One Benjamini-Hochberg family over every region of the study for these comparisons,
    # then the asked regions: with the study's comparisons the adjusted p-values and the
    # change-point flags are the reports' (a family of the asked regions alone had flagged the
    # real Nord's and Sahel's change points and read Sahel's p as 0.0098 beside the reports'
    # 0.13, in a sentence that called its 2 tests "the study's").
    every = list(dict.fromkeys(data.panel["region_id"]))
    full = growth_table(data.panel, every, pairs)
    where = {rid: i for i, rid in enumerate(every)}
    table = full.iloc[[k * len(every) + where[r] for k in range(len(pairs)) for r in regions]]
    study_pairs = [tuple(map(str, p)) for p in study.compare]
    if [tuple(p) for p in pairs] == study_pairs:
        family = "the study's {n} tests"
        scope = "the study's {n} ratio and change-point tests, as in the reports"
    else:
        family = "the {n} tests of the study's regions for these comparisons"
        scope = (
            "the {n} ratio and change-point tests of the study's regions for these "
            "comparisons; the reports adjust over the study's comparisons"
        )
    if as_json:
        rows = []
        for row in table.to_dict(orient="records"):
            out = {k: row[k] for k in JSON_KEYS}
            if row["count_a"] + row["count_b"] == 0:
                # no event in either window: no test and no interval (as the reports)
                out.update(p_value=None, ci_low=None, ci_high=None)
            out.update({k: row[k] for k in JSON_EXTRA_KEYS})
            rows.append(out)
        print_json(rows)
        return
    for row in table.to_dict(orient="records"):
        typer.echo(growth_sentence(row, noun="Events", family=family) + ".")
        extras = []
        if row.get("note"):
            extras.append(f"note: {row['note']}")
        if isinstance(row.get("p_value_bh"), float) and math.isfinite(row["p_value_bh"]):
            extras.append(
                f"p = {row['p_value']:.3g} (BH-adjusted {row['p_value_bh']:.3g} over "
                + scope.format(n=int(row["bh_family_size"]))
                + ")"
            )
        for extra in extras:
            typer.echo(f"  {extra}")


#: Keys the command's JSON adds after :data:`analysis.growth.JSON_KEYS`: the study-wide
#: adjusted p-value the reports show, the size of its family, and the doubling time's interval
#: in months (its upper end null where the trend's interval reaches 0).
JSON_EXTRA_KEYS = ("p_value_bh", "bh_family_size", "doubling_ci")


def register(app: typer.Typer) -> None:
    """Add this stage's commands to app.

    Parameters
    ----------
    app : typer.Typer
        The ``conflict-trends`` application.
    """
    app.command("growth")(growth_command)
