"""The onset reference: the onset model trained on every unit the data files cover, without
look-ahead, scored and used for the quiet regions' paths."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.errors import InputError, ModelError
from analysis.models.onset import onset_geography
from analysis.models.onset_reference import OnsetReference, onset_reference_from_panel
from analysis.panel import from_matrix
from analysis.simulate import simulate_endemic_epidemic

ROOT = Path(__file__).resolve().parents[1]
COUNTRIES = ["MLI", "BFA", "NER", "MRT", "SEN"]
PERIODS = pd.date_range("1995-01-01", periods=240, freq="MS")


@pytest.fixture(scope="module")
def simulated(boundaries):
    """Endemic-epidemic counts on the real units of five countries: a few hot units, the rest
    nearly quiet, own-lag 0.4 and a neighbour share of 0.35, overdispersed, so that first
    events spread from the hot units to their neighbours."""
    ids = list(boundaries.regions_of(COUNTRIES)["region_id"])
    geo = onset_geography(ids, boundaries)
    rng = np.random.default_rng(11)
    n = len(ids)
    level = np.full(n, 0.004)
    hot = rng.choice(n, 8, replace=False)
    level[hot] = rng.uniform(0.3, 1.5, 8)
    o = geo.order
    w = np.where(o == 1, 1.0, np.where(o == 2, 0.25, 0.0))
    w = w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)
    y, _ = simulate_endemic_epidemic(
        np.repeat(level[:, None], len(PERIODS), axis=1),
        np.full(n, 0.4),
        np.full(n, 0.35),
        w,
        0.8,
        rng,
    )
    panel = from_matrix(y, ids, PERIODS, "month", boundaries)
    return {"ids": ids, "geo": geo, "counts": y, "panel": panel}


@pytest.fixture(scope="module")
def reference(simulated, boundaries) -> OnsetReference:
    return onset_reference_from_panel(simulated["panel"], boundaries)


def _study_panel(simulated, countries=("MLI",)):
    panel = simulated["panel"]
    own = panel[panel["country"].isin(list(countries))].reset_index(drop=True)
    return _keep_attrs(own, panel)


def _keep_attrs(frame, source):
    frame.attrs.update(source.attrs)
    return frame


def test_the_fit_and_the_bursts_at_an_origin_never_see_past_it(simulated, boundaries, reference):
    t = 150
    origin = PERIODS[t]
    spec = reference.spec(12, 12)
    changed = simulated["counts"].copy()
    changed[:, t + 1 :] = np.random.default_rng(0).poisson(3.0, changed[:, t + 1 :].shape)
    other = onset_reference_from_panel(
        from_matrix(changed, simulated["ids"], PERIODS, "month", boundaries), boundaries
    )
    ids = simulated["ids"]
    assert np.array_equal(reference.p_onset(ids, origin, spec), other.p_onset(ids, origin, spec))
    assert np.array_equal(
        reference.first_bursts(origin, spec, 36), other.first_bursts(origin, spec, 36)
    )
    # while the fit one period later has seen one more outcome window end
    later = PERIODS[t + 12]
    assert not np.array_equal(reference.p_onset(ids, later, spec), other.p_onset(ids, later, spec))
    # the fit used exactly the rows whose outcome had ended by the origin
    design = reference.design(spec)
    assert reference.fit_at(origin, spec).n_obs == int((design["origin"] <= t - 12).sum())


def test_rows_before_a_countrys_coverage_are_left_out(simulated, boundaries, reference):
    spec = reference.spec(12, 12)
    late = onset_reference_from_panel(
        simulated["panel"], boundaries, {c: "1995-01" for c in COUNTRIES} | {"SEN": "2005-01"}
    )
    design, full = late.design(spec), reference.design(spec)
    start = int(np.searchsorted(PERIODS, pd.Timestamp("2005-01-01")))
    sen = design["country"] == "SEN"
    assert sen.any() and design.loc[sen, "origin"].min() == start + spec.quiet - 1
    assert len(full) - len(design) == int(
        ((full["country"] == "SEN") & (full["origin"] < start + spec.quiet - 1)).sum()
    )
    with pytest.raises(InputError, match="no coverage date"):
        onset_reference_from_panel(simulated["panel"], boundaries, {"MLI": "1995-01"})


def test_first_bursts_are_what_followed_quiet_units_that_had_an_event(simulated, reference):
    t = 180
    spec = reference.spec(6, 12)
    bursts = reference.first_bursts(PERIODS[t], spec, 36)
    assert bursts.shape[1] == 6 and len(bursts) >= 30
    assert (bursts.sum(axis=1) > 0).all()
    counts = simulated["counts"]
    expected = []
    for s in range(t - 6 - 35, t - 6 + 1):
        quiet = counts[:, s - 11 : s + 1].sum(axis=1) == 0
        ahead = counts[quiet, s + 1 : s + 7]
        expected.append(ahead[ahead.sum(axis=1) > 0])
    assert np.array_equal(bursts, np.concatenate(expected))


def test_an_origin_outside_the_reference_and_unknown_units_are_refused(reference):
    spec = reference.spec(12, 12)
    with pytest.raises(ModelError, match="outside the onset reference"):
        reference.p_onset(["ML-1"], "2030-01", spec)
    with pytest.raises(InputError, match="not in the onset reference"):
        reference.p_onset(["XX-1"], PERIODS[100], spec)


def test_pickling_leaves_the_cache_behind(reference):
    spec = reference.spec(12, 12)
    p = reference.p_onset(["ML-1"], PERIODS[120], spec)
    copy = pickle.loads(pickle.dumps(reference))
    assert copy._cache == {} and reference._cache
    assert np.array_equal(copy.p_onset(["ML-1"], PERIODS[120], spec), p)


def test_more_first_events_make_a_better_onset_model(simulated, boundaries, reference):
    """One country's panel holds few first events; trained on all five, the onset model scores
    better on that country's quiet units at the same origins (the naive rules stay its own)."""
    from analysis.models.onset_backtest import NAIVE_RULES, study_onset_backtest

    panel = _study_panel(simulated)
    own = study_onset_backtest(panel, 12, 12, boundaries=boundaries, stride=6)
    pooled = study_onset_backtest(panel, 12, 12, boundaries=boundaries, stride=6,
                                  reference=reference)  # fmt: skip
    assert pooled["onset_reference"] == {"used": True, "units": reference.n_units,
                                         "countries": sorted(COUNTRIES),
                                         "from": f"{reference.periods[0]:%Y-%m}",
                                         "plain_logistic": "reference"}  # fmt: skip
    assert f"fitted on the {reference.n_units} units" in pooled["verdict"]
    assert pooled["n_forecasts"] == own["n_forecasts"]
    for m in NAIVE_RULES:
        assert pooled["methods"][m] == own["methods"][m]
    assert pooled["methods"]["onset_model"]["brier"] < own["methods"]["onset_model"]["brier"]
    assert pooled["methods"]["onset_model"]["auc"] > own["methods"]["onset_model"]["auc"]


def test_quiet_regions_paths_carry_the_onset_models_probability(simulated, boundaries, reference):
    """With a reference, ``auto`` gives each quiet region other than the focus an event within
    the horizon in the share of paths the onset model says, sized like real first events."""
    from analysis.models.analogs import quiet_regions
    from analysis.models.forecast import panel_to_history
    from analysis.models.registry import get

    panel = _study_panel(simulated, ("MRT", "SEN"))
    origin = PERIODS[200]
    history = panel_to_history(panel, origin)
    ids = list(history.region_ids)
    focus = ids[int(np.argmax(history.counts.sum(axis=1)))]
    auto = get("auto", boundaries=boundaries, focus=[focus], horizon=6, onset_reference=reference,
               candidates=("ensemble_local",))  # fmt: skip
    fitted = auto.fit(history)
    assert "onset_reference" in fitted.evidence["quiet_regions"]
    quiet = quiet_regions(history.counts, 12) & (np.asarray(ids) != focus)
    assert quiet.sum() >= 2
    # the regions it names are the ones whose paths it replaces (the focus is active here)
    assert fitted.onset_regions(6) == tuple(np.asarray(ids)[quiet].tolist())
    spec = reference.spec(6, 12)
    want = reference.p_onset(np.asarray(ids)[quiet], origin, spec)
    fc = fitted.forecast(6, 4000, seed=3)
    got = (fc.totals() > 0).mean(axis=-1)[quiet]
    assert got == pytest.approx(want, abs=4 * np.sqrt(0.25 / 4000))
    bursts = {tuple(b) for b in reference.first_bursts(origin, spec, 36)}
    some = fc.samples[np.flatnonzero(quiet)[0]]
    hit = some[:, some.sum(axis=0) > 0].T
    assert all(tuple(p) in bursts for p in hit)
    # longer paths (a 12-step backtest of this 6-step rule) keep the 6-step probability in
    # their first 6 steps, the number a report shows, with bursts of 12 steps
    long = fitted.forecast(12, 4000, seed=4).samples
    first6 = (long[:, :6].sum(axis=1) > 0).mean(axis=-1)[quiet]
    assert first6 == pytest.approx(want, abs=4 * np.sqrt(0.25 / 4000))
    longer = {tuple(b) for b in reference.first_bursts(origin, spec, 36, length=12)}
    some = long[np.flatnonzero(quiet)[0]]
    assert all(tuple(p) in longer for p in some[:, some[:6].sum(axis=0) > 0].T)
    # a path's first event is within those 6 steps or it has none: the onset model of 6 steps
    # decides, not one fitted for 12 whose bursts may start later
    quiet_paths = long[quiet]
    assert not np.any((quiet_paths[:, :6].sum(axis=1) == 0) & (quiet_paths.sum(axis=1) > 0))
    # a quiet focus region too: a year without events makes its next one a first event
    quiet_focus = np.asarray(ids)[quiet][0]
    refit = get("auto", boundaries=boundaries, focus=[quiet_focus], horizon=6,
                onset_reference=reference, candidates=("ensemble_local",)).fit(history)  # fmt: skip
    row = ids.index(quiet_focus)
    p_focus = (refit.forecast(6, 4000, seed=5).totals() > 0).mean(axis=-1)[row]
    assert p_focus == pytest.approx(want[0], abs=4 * np.sqrt(0.25 / 4000))
    # without a reference the quiet regions keep the reference class of the study's own units
    plain = get("auto", boundaries=boundaries, focus=[focus], horizon=6,
                candidates=("ensemble_local",)).fit(history)  # fmt: skip
    assert "onset_reference" not in plain.evidence["quiet_regions"]


def test_real_onsets_of_an_untuned_window_are_learnt_from_the_whole_file(real_data_path, tmp_path):
    """UCDP GED, Ivory Coast 2000-2016 (quiet window and horizon 12): trained on the study's own
    panel the onset model loses to every naive rule (Brier 0.130 against 0.090 for the base
    rate); trained on every unit of the file it beats each of them by more than two
    unit-clustered standard errors."""
    import yaml

    from analysis.config import load_study
    from analysis.models.onset_backtest import study_onset_backtest
    from analysis.pipeline import onset_reference, prepare

    raw = yaml.safe_load((ROOT / "benchmarks/real_study_ivory_coast.yaml").read_text())
    raw["data"] = [str(real_data_path)]
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(raw))
    data = prepare(load_study(path), use_cache=False)
    ref = onset_reference(data)
    assert ref.n_units > data.panel["region_id"].nunique()
    own = study_onset_backtest(data.panel, 12, 12, boundaries=data.boundaries)
    card = study_onset_backtest(data.panel, 12, 12, boundaries=data.boundaries, reference=ref)
    assert not own["beats_naive"]
    assert card["beats_naive"] and card["edge_established"]
    assert card["methods"]["onset_model"]["brier"] == pytest.approx(0.0835, abs=0.002)


def test_onset_forecast_takes_the_reference_fit_for_the_studys_own_quiet_units(
    simulated, boundaries, reference
):
    from analysis.models.onset_forecast import onset_forecast, onset_to_dict

    panel = _study_panel(simulated, ("MRT", "SEN"))
    origin = PERIODS[200]
    fc = onset_forecast(panel, 12, 12, origin=origin, boundaries=boundaries, reference=reference)
    assert fc.trained_on == reference.summary() and fc.trained_on["countries"] == sorted(COUNTRIES)
    assert fc.fit.meta["covariance"] == "cluster-robust"
    ids = fc.units["region_id"].tolist()
    assert len(ids) >= 3  # several, so a misaligned row would show
    spec = reference.spec(12, 12)
    assert np.allclose(fc.units["p_onset"], reference.p_onset(ids, origin, spec))
    # each unit's own features, in its own row
    assert np.allclose(
        fc.units[list(spec.features)].to_numpy(float),
        reference.features_at(ids, origin, spec).to_numpy(float),
    )
    assert onset_to_dict(fc)["model"]["trained_on"]["units"] == reference.n_units
    # an origin the reference cannot answer (no outcome had ended yet): the study's own panel
    early = onset_reference_from_panel(
        simulated["panel"][simulated["panel"]["period"] >= PERIODS[195]], boundaries
    )
    own = onset_forecast(panel, 12, 12, origin=origin, boundaries=boundaries, reference=early)
    plain = onset_forecast(panel, 12, 12, origin=origin, boundaries=boundaries)
    assert own.trained_on == {} and onset_to_dict(own)["model"]["trained_on"] == {
        "study_panel": True
    }
    assert np.allclose(own.units["p_onset"], plain.units["p_onset"])


def test_first_bursts_respect_coverage_and_reach_back_when_too_few(simulated, boundaries):
    from analysis.models.onset_reference import MIN_BURSTS

    late = onset_reference_from_panel(
        simulated["panel"], boundaries, {c: "1995-01" for c in COUNTRIES} | {"SEN": "2012-01"}
    )
    start = int(np.searchsorted(PERIODS, pd.Timestamp("2012-01-01")))
    spec = late.spec(3, 12)
    t = start + 20  # SEN's quiet windows inside its coverage end by t - 3 only from start + 11
    counts = simulated["counts"]
    sen = late.geography.countries == "SEN"

    def expected(origins, covered=True):
        out = []
        for s in origins:
            quiet = counts[:, s - 11 : s + 1].sum(axis=1) == 0
            if covered:
                quiet &= ~sen | (s >= start + 11)
            ahead = counts[quiet, s + 1 : s + 4]
            out.append(ahead[ahead.sum(axis=1) > 0])
        return np.concatenate(out)

    recent, every = expected(range(t - 3 - 35, t - 3 + 1)), expected(range(11, t - 3 + 1))
    assert len(recent) >= MIN_BURSTS
    assert np.array_equal(late.first_bursts(PERIODS[t], spec, 36), recent)
    # Senegal's quiet windows before its coverage held first events that are left out
    assert len(expected(range(t - 3 - 35, t - 3 + 1), covered=False)) > len(recent)
    # the last origin alone holds fewer than MIN_BURSTS: every origin since the first
    assert len(expected([t - 3])) < MIN_BURSTS
    assert np.array_equal(late.first_bursts(PERIODS[t], spec, 1), every)


def test_a_quarterly_panel_covers_a_country_from_the_quarter_holding_its_month(boundaries):
    ids = list(boundaries.regions_of(["MLI", "SEN"])["region_id"])
    quarters = pd.date_range("2010-01-01", periods=20, freq="QS")
    counts = np.zeros((len(ids), len(quarters)), dtype=np.int64)
    counts[0, ::3] = 1
    panel = from_matrix(counts, ids, quarters, "quarter", boundaries)
    ref = onset_reference_from_panel(panel, boundaries, {"MLI": "2010-01", "SEN": "2011-05"})
    sen = ref.geography.countries == "SEN"
    # May 2011 is in the quarter that starts in April 2011 (index 5)
    assert set(ref.covered_from[sen]) == {5} and set(ref.covered_from[~sen]) == {0}
    assert ref.freq == "quarter" and ref.quiet == 4
    assert ref.spec(2, 4).periods_per_year == 4


def test_auto_falls_back_to_the_reference_class_where_the_reference_cannot_answer(
    simulated, boundaries
):
    from analysis.models.forecast import panel_to_history
    from analysis.models.registry import get

    panel = _study_panel(simulated, ("MRT", "SEN"))
    history = panel_to_history(panel, PERIODS[200])
    # a reference whose rows start too late for any outcome to have ended by the origin
    late = onset_reference_from_panel(
        simulated["panel"][simulated["panel"]["period"] >= PERIODS[195]], boundaries
    )
    ids = list(history.region_ids)
    focus = ids[int(np.argmax(history.counts.sum(axis=1)))]
    kwargs = dict(boundaries=boundaries, focus=[focus], horizon=6, candidates=("ensemble_local",))
    with_late = get("auto", onset_reference=late, **kwargs).fit(history)
    without = get("auto", **kwargs).fit(history)
    assert with_late.quiet_onset(6) is None and with_late.onset_regions(6) == ()
    a = with_late.forecast(6, 500, seed=2).samples
    b = without.forecast(6, 500, seed=2).samples
    assert np.array_equal(a, b)


def test_study_onset_backtest_says_when_the_reference_could_not_train_the_model(
    simulated, boundaries
):
    from analysis.models.onset_backtest import study_onset_backtest

    panel = _study_panel(simulated)
    # a reference that does not hold the study's units
    other = onset_reference_from_panel(
        simulated["panel"][simulated["panel"]["country"] != "MLI"], boundaries
    )
    card = study_onset_backtest(panel, 12, 12, boundaries=boundaries, stride=6, reference=other)
    own = study_onset_backtest(panel, 12, 12, boundaries=boundaries, stride=6)
    assert card["onset_reference"]["used"] is False
    assert "not in the onset reference" in card["onset_reference"]["reason"]
    assert card["methods"]["onset_model"] == own["methods"]["onset_model"]
    assert "fitted on the" not in card["verdict"]


def test_auto_takes_the_quiet_window_of_the_onset_reference(simulated, boundaries):
    """The study's quiet window decides which regions are quiet (6 periods here, where auto's
    own active window is 12), so the report model and the onset forecast agree on them."""
    from analysis.models.analogs import quiet_regions
    from analysis.models.forecast import panel_to_history
    from analysis.models.registry import get

    six = onset_reference_from_panel(simulated["panel"], boundaries, quiet=6)
    panel = _study_panel(simulated, ("MRT", "SEN"))
    ids = np.asarray(sorted(panel["region_id"].unique()))
    origin = next(
        PERIODS[t]
        for t in range(150, 230)
        if (
            quiet_regions(panel_to_history(panel, PERIODS[t]).counts, 6)
            & ~quiet_regions(panel_to_history(panel, PERIODS[t]).counts, 12)
        ).any()
    )
    history = panel_to_history(panel, origin)
    quiet6 = quiet_regions(history.counts, 6)
    fitted = get("auto", boundaries=boundaries, horizon=6, onset_reference=six,
                 candidates=("ensemble_local",)).fit(history)  # fmt: skip
    assert fitted.onset_regions(6) == tuple(ids[quiet6].tolist())
    want = six.p_onset(ids[quiet6], origin, six.spec(6, 6))
    got = (fitted.forecast(6, 4000, seed=1).totals() > 0).mean(axis=-1)[quiet6]
    assert got == pytest.approx(want, abs=4 * np.sqrt(0.25 / 4000))


def test_training_words_say_units_countries_and_how_far_back(reference) -> None:
    from analysis.models.onset_reference import training_words

    summary = reference.summary()
    assert summary["from"] == f"{reference.periods[0]:%Y-%m}"
    words = training_words(summary)
    assert words.startswith(f"{summary['units']} units of the data files' ")
    assert words.endswith(f", from {summary['from']}")
    assert training_words({"units": 3, "countries": ["MLI"]}) == (
        "3 units of the data files' 1 country"
    )


def test_a_quarterly_reference_says_from_which_quarter_it_learnt(boundaries):
    """The onset evidence read "fitted on the 169 units ..., from 1989-04" of a quarterly
    reference that starts in 1989Q2."""
    from analysis.models.onset_reference import training_words

    ids = list(boundaries.regions_of(["MLI", "SEN"])["region_id"])
    quarters = pd.date_range("1989-04-01", periods=20, freq="QS")
    counts = np.zeros((len(ids), len(quarters)), dtype=np.int64)
    counts[0, ::3] = 1
    panel = from_matrix(counts, ids, quarters, "quarter", boundaries)
    ref = onset_reference_from_panel(panel, boundaries)
    assert ref.summary()["from"] == "1989Q2"
    assert training_words(ref.summary()).endswith(", from 1989Q2")
    with pytest.raises(ModelError, match=r"origin 1980Q1 is outside .* \(1989Q2 to 1994Q1\)"):
        ref.index("1980-01-01")
