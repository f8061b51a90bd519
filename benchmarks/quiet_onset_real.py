"""The report model's probability of a first event in quiet units, scored on real first events.

A region report shows, for a unit with no event in the last 12 months, P(at least one event
within the horizon) from the report model's paths (``auto``, whose quiet regions are half its
own paths and half the reference class of :mod:`analysis.models.analogs`). The onset model is
quoted beside it only as a check. This benchmark scores the number the report shows, on the
same quiet units, origins and outcomes as the onset model and the naive rules
(:func:`analysis.models.onset_backtest.rolling_onset_evaluation`): at each origin ``auto`` is
fitted on the counts up to it, draws 400 paths and gives each quiet unit the share of paths with
an event in the next ``h`` months.

Two settings:

* ``panel``: every admin-1 unit of the 11 countries of the shipped boundaries, any actor,
  origins every 3 months from 2016-01 (the period ``benchmarks/spillover_real.py`` holds out),
  the onset model with its default features refitted at each origin on the rows whose outcome
  had ended; ``auto``'s focus is the unit with the most events;
* ``study --study FILE --start YYYY-MM --end YYYY-MM``: one study's own panel and focus, origins
  every 3 months in the window whose outcomes are known, everything refitted on the study's own
  history, as the region report's onset evidence is.

Prints one JSON object: per method the Brier score, log score, ROC AUC and mean probability,
the observed onset frequency, and the Brier margin of the report model over each other method
(positive: the report model is better) with its standard error clustered by unit. Usage::

    CONFLICT_TRENDS_REAL_DATA=/path/ged.csv .venv/bin/python benchmarks/quiet_onset_real.py panel
    CONFLICT_TRENDS_REAL_DATA=/path/ged.csv .venv/bin/python benchmarks/quiet_onset_real.py \
        study --study benchmarks/real_study_burkina.yaml --start 2016-01 --end 2019-12
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from analysis.models import registry  # noqa: E402
from analysis.models.onset import (  # noqa: E402
    DEFAULT_FEATURES,
    OnsetSpec,
    onset_design,
    onset_geography,
)
from analysis.models.onset_backtest import (  # noqa: E402
    brier_margin,
    forecaster_p_any,
    onset_scorecard,
    rolling_onset_evaluation,
)

HORIZON = 12
QUIET = 12
SAMPLES = 400
NAIVE = ("base_rate", "neighbour_rule", "distance_decay")
METHODS = ("report_model", "onset_model", *NAIVE)


def evaluate(counts, region_ids, periods, boundaries, origins, focus) -> dict:
    """Onset model, naive rules and the report model at ``origins``; scores and margins."""
    spec = OnsetSpec(quiet=QUIET, horizon=HORIZON, features=DEFAULT_FEATURES)
    geo = onset_geography(region_ids, boundaries)
    # every origin with a full quiet window behind it trains; the naive rules need nb_first
    design = onset_design(
        counts,
        list(range(QUIET - 1, len(periods) - HORIZON)),
        geo,
        replace(spec, features=(*DEFAULT_FEATURES, "nb_first")),
    )
    pred = rolling_onset_evaluation(design, origins, spec)
    model = registry.get("auto", boundaries=boundaries, focus=focus, horizon=HORIZON)
    pred["report_model"] = forecaster_p_any(
        model, counts, region_ids, periods, "month", pred, HORIZON, SAMPLES, 0
    )
    card = onset_scorecard(pred, list(METHODS), reference="report_model")
    for method in METHODS:
        card["methods"][method]["mean_probability"] = float(pred[method].mean())
    margins = {}
    for other in METHODS[1:]:
        diff, se = brier_margin(pred, "report_model", other)
        margins[other] = {"difference": diff, "se": se}
    card["report_model_brier_margin"] = margins
    card["first_origin"] = f"{periods[min(origins)]:%Y-%m}"
    card["last_origin"] = f"{periods[max(pred['origin'])]:%Y-%m}"
    return card


def _origins(periods: pd.DatetimeIndex, start: str, end: str | None) -> list[int]:
    last = len(periods) - 1 - HORIZON  # outcomes known
    first = int(np.searchsorted(periods, pd.Timestamp(f"{start}-01")))
    if end is not None:
        last = min(last, int(np.searchsorted(periods, pd.Timestamp(f"{end}-01"))))
    return [t for t in range(first, last + 1) if periods[t].month % 3 == 0]


def panel_setting(data: Path) -> dict:
    """The 11-country panel of ``benchmarks/spillover_real.py``, any actor, origins 2016-."""
    import spillover_real

    from analysis.geography import load_boundaries

    events = spillover_real.load_events(data)
    boundaries = load_boundaries()
    countries = sorted(boundaries.regions["country"].unique())
    counts, ids, periods, _ = spillover_real.matrix(events, boundaries, countries)
    focus = [ids[int(np.argmax(counts.sum(axis=1)))]]
    origins = _origins(periods, "2016-01", None)
    return {"setting": "panel", "focus": focus, **evaluate(counts, ids, periods, boundaries,
                                                           origins, focus)}  # fmt: skip


def study_setting(data: Path, study_file: str, start: str, end: str) -> dict:
    """One study's own panel, boundaries and focus."""
    from analysis.config import load_study
    from analysis.models.forecast import panel_to_history
    from analysis.pipeline import prepare

    raw = yaml.safe_load((ROOT / study_file).read_text())
    raw["data"] = [str(data.resolve())]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "study.yaml"
        path.write_text(yaml.safe_dump(raw, sort_keys=False))
        study = load_study(path)
        prepared = prepare(study, use_cache=False)
    history = panel_to_history(prepared.panel)
    ids = list(history.region_ids)
    names = {r: prepared.boundaries.name_of(r) for r in ids}
    focus = [r for r in ids if r in study.focus or names[r] in study.focus]
    origins = _origins(history.periods, start, end)
    card = evaluate(history.counts, ids, history.periods, prepared.boundaries, origins, focus)
    return {"setting": "study", "study": study_file, "focus": focus, **card}


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("setting", choices=["panel", "study"])
    ap.add_argument("--study", default="benchmarks/real_study.yaml")
    ap.add_argument("--start", default="2014-01")
    ap.add_argument("--end", default=None)
    args = ap.parse_args(argv)
    data = Path(os.environ["CONFLICT_TRENDS_REAL_DATA"])
    started = time.perf_counter()
    if args.setting == "panel":
        out = panel_setting(data)
    else:
        out = study_setting(data, args.study, args.start, args.end)
    out["seconds"] = time.perf_counter() - started
    print(json.dumps(out, default=float))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
