"""The report model's probability of a first event in quiet units, scored on real first events.

A region report shows, for a unit with no event in the last 12 months, P(at least one event
within the horizon) from the report model's paths (``auto``, whose quiet regions have an event
in the share of paths the onset model gives, fitted on every unit the data file covers:
:mod:`analysis.models.onset_reference`; with ``--no-reference``, as before it, half their own
paths and half the reference class of :mod:`analysis.models.analogs`). The reports score
that number on the study's past first events beside the onset model and the naive rules
(:func:`analysis.models.onset_backtest.study_onset_backtest` with ``forecaster``). This
benchmark runs the same function on real UCDP data with the full ``auto`` rule, chosen afresh
at each origin (the reports restrict ``auto`` to the candidates it chose on the whole history,
which has seen the later outcomes, so their figure can be a little optimistic), 400 paths,
quiet window and horizon 12:

* ``panel``: every admin-1 unit of the 11 countries of the shipped boundaries, any actor
  (the panel of ``benchmarks/spillover_real.py``, its own onset reference), origins every 3
  months back from the last one with a known outcome, the first in 2016 (the period that
  benchmark holds out); ``auto``'s focus is the unit with the most events;
* ``study --study FILE``: one study's own panel, boundaries and focus, at the origins the
  region report uses, and the onset reference the reports build
  (:func:`analysis.pipeline.onset_reference`).

Prints one JSON object: the card of ``study_onset_backtest`` (per method the Brier score, log
score, ROC AUC and mean probability; ``n_onsets``, forecasts followed by a first event, a unit
counted at every origin whose window holds it; ``distinct_onsets``, units with one; the onset
model's verdict; ``report_model`` with its Brier margin over each naive rule, positive when the
report model is better, with its standard error clustered by unit).
Usage::

    CONFLICT_TRENDS_REAL_DATA=/path/ged.csv .venv/bin/python benchmarks/quiet_onset_real.py panel
    CONFLICT_TRENDS_REAL_DATA=/path/ged.csv .venv/bin/python benchmarks/quiet_onset_real.py \
        study --study benchmarks/real_study_burkina.yaml
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from analysis.models import registry  # noqa: E402
from analysis.models.onset_backtest import study_onset_backtest  # noqa: E402

HORIZON = 12
QUIET = 12
SAMPLES = 400


def evaluate(panel: pd.DataFrame, boundaries, model, min_train=None, reference=None) -> dict:
    """The study onset backtest with ``model`` (the full ``auto`` rule) as the report model."""
    return study_onset_backtest(panel, HORIZON, QUIET, boundaries=boundaries, min_train=min_train,
                                forecaster=model, n_samples=SAMPLES, seed=0,
                                reference=reference)  # fmt: skip


def panel_setting(data: Path) -> dict:
    """The 11-country panel of ``benchmarks/spillover_real.py``, any actor, origins 2016-."""
    import spillover_real

    from analysis.geography import load_boundaries

    events = spillover_real.load_events(data)
    boundaries = load_boundaries()
    countries = sorted(boundaries.regions["country"].unique())
    counts, ids, periods, panel = spillover_real.matrix(events, boundaries, countries)
    focus = [ids[int(np.argmax(counts.sum(axis=1)))]]
    # study_onset_backtest's first origin is (quiet - 1) + horizon + min_train
    first = int(np.searchsorted(periods, pd.Timestamp("2016-01-01")))
    from analysis.models.onset_reference import onset_reference_from_panel

    # the panel is every unit of the file already: it is its own onset reference
    reference = onset_reference_from_panel(panel, boundaries)
    model = registry.get(
        "auto", boundaries=boundaries, focus=focus, horizon=HORIZON, onset_reference=reference
    )
    card = evaluate(
        panel, boundaries, model, min_train=first - (QUIET - 1) - HORIZON, reference=reference
    )
    return {"setting": "panel", "focus": focus, **card}


def study_setting(data: Path, study_file: str, use_reference: bool = True) -> dict:
    """One study's own panel, boundaries and focus."""
    from analysis.config import load_study
    from analysis.pipeline import onset_reference, prepare, study_model

    raw = yaml.safe_load((ROOT / study_file).read_text())
    raw["data"] = [str(data.resolve())]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "study.yaml"
        path.write_text(yaml.safe_dump(raw, sort_keys=False))
        study = load_study(path)
        prepared = prepare(study, use_cache=False)
    names = prepared.panel.drop_duplicates("region_id").set_index("region_id")["region_name"]
    focus = [r for r, n in names.items() if r in study.focus or n in study.focus]
    if use_reference:  # as the commands and reports build it
        reference = onset_reference(prepared)
        model = study_model("auto", prepared, HORIZON)
    else:
        reference = None
        model = registry.get("auto", boundaries=prepared.boundaries, focus=focus, horizon=HORIZON)
    card = evaluate(prepared.panel, prepared.boundaries, model, reference=reference)
    return {"setting": "study", "study": study_file, "focus": focus, **card}


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("setting", choices=["panel", "study"])
    ap.add_argument("--study", default="benchmarks/real_study.yaml")
    ap.add_argument(
        "--no-reference",
        action="store_true",
        help="study: leave out the onset reference (the reference class of the study's own "
        "quiet regions, as before)",
    )
    args = ap.parse_args(argv)
    if "CONFLICT_TRENDS_REAL_DATA" not in os.environ:
        raise SystemExit("set CONFLICT_TRENDS_REAL_DATA to the UCDP GED CSV")
    data = Path(os.environ["CONFLICT_TRENDS_REAL_DATA"])
    started = time.perf_counter()
    out = (
        panel_setting(data)
        if args.setting == "panel"
        else study_setting(data, args.study, not args.no_reference)
    )
    out["seconds"] = time.perf_counter() - started
    print(json.dumps(out, default=float))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
