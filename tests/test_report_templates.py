"""Smoke test of every report template on the demo data, end to end, with a timeout."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from analysis.report import batch

#: The smoke study's data attribution (a licence term in a real study): every report gives it
#: once, under Provenance.
ATTRIBUTION = "Smoke events from the synthetic demo generator, licensed CC BY 4.0 (smoke test)"


#: A report notebook that only records its title: for tests of the batch around the reports.
PROBE = textwrap.dedent(
    """
    # %% tags=["parameters"]
    study = ""
    region = ""
    quarter = ""
    previous_manifest = ""

    # %%
    from analysis.report import show

    show.record(title="probe " + (region or "overview"))
    """
)


def write_study(
    folder: Path, data: Path, title: str = "Smoke study", attribution: str = ""
) -> Path:
    """A small study over the demo data (three countries, four years)."""
    study = folder / "smoke.yaml"
    study.write_text(
        textwrap.dedent(
            f"""
            title: "{title}"
            attribution: "{attribution}"
            data: [{data}]
            source: acled
            countries: [Mali, Mauritania, Senegal]
            focus: [Kayes]
            start: 2019-01
            end: 2024-12
            freq: month
            horizon: 6
            compare: [[2021, 2024]]
            spillover_targets: [Mauritania, Senegal]
            seed: 7
            synthetic: true
            """
        )
    )
    return study


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_every_template_renders(tmp_path: Path, demo_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("CONFLICT_TRENDS_REPORT_CACHE", str(tmp_path / "cache"))
    study = write_study(tmp_path, demo_dir / "demo_acled.csv", attribution=ATTRIBUTION)
    result = batch.run_batch(
        [study], tmp_path / "out", regions=["ML-1"], workers=2, timeout=300, progress=False
    )
    by_kind = {r["kind"]: r for r in result.manifest["reports"]}
    assert set(by_kind) == {"region", "overview", "methods"}
    assert result.exit_code == 0, [r["error"] for r in result.failed]
    region = (result.out / by_kind["region"]["html"]).read_text()
    for section in ("Summary", "Data", "Growth", "Forecast", "Spillover", "Provenance"):
        assert re.search(rf"<h2 id=\"{section}[^\"]*\">{section}", region), section
    assert "SYNTHETIC" in region
    assert "times (95% CI" in region  # growth sentence with its interval
    assert "90% interval" in region
    # the report model is named in full once (Forecast), by the region's group's candidates in
    # the summary, and as "the report model" in the evidence
    assert re.search(r"Model: <strong>auto", region)
    assert re.search(r"the auto( \([^)]*\))? forecast expects", region)
    assert "the same forecast expects" in region
    assert "the report model&#x27;s CRPS" in region or "the report model's CRPS" in region
    assert region.count('class="ct-figure"') >= 2
    # Spillover: onset for quiet units across the border; active ones' numbers are the table's
    # (their sentence had restated its row); the onset evidence where a quiet unit is shown
    spill = region[region.index('id="Spillover') :]
    assert "first event within" in spill or "not headlined" in spill
    assert "already active (continued activity, not onset): expected" not in spill
    assert 'id="Across-the-border"' in spill
    assert "Evidence for the onset probabilities" in spill and "Reliability of the onset" in spill
    summary_part = region[: region.index('id="Data')]
    assert "already active: their forecasts are in the " in summary_part
    assert 'href="#Spillover"' in summary_part and 'href="#Across-the-border"' in summary_part
    # the attributable share is defined once (Spillover section), not in every sentence, and
    # only where the spillover model's backtest earns the shares; otherwise one sentence says
    # that none is attributed, and no share is quoted
    withheld = spill.count("No share of the events across the border is attributed to")
    if withheld:
        assert withheld == 1 and "as a share of the former" not in region
        assert not re.search(r"\d+% of the (events expected|probability)", region)
    else:
        assert spill.count("as a share of the former") == 1
    assert "continue minus silenced" not in region
    # each summary forecast with its evidence at its own steps
    summary = region[: region.index('id="Data')]
    assert "In the backtest at steps 1-3" in summary and "In the backtest at steps 1-6" in summary
    # one interval level for forecasts: the onset model's too (it had been 95% beside 90%);
    # the record of past first events after it is a test's interval, 95% like the others
    quiet_units = re.findall(r"has had no event in [^<]*", spill)
    forecasts = [re.split(r"[Oo]n this study's past first events", u)[0] for u in quiet_units]
    assert quiet_units and all("95% interval" not in u for u in forecasts), quiet_units
    assert any("90% interval" in u for u in quiet_units), quiet_units
    # the Spillover table shows the report model's levels only, not a second kind of share
    assert "share from neighbours" not in region
    # the onset model is explained once, in its section
    assert region.count("fitted on every unit of the countries the data files cover") == 1
    forecast = region[region.index('id="Forecast') : region.index('id="Evidence-for-this')]
    assert "reference class" not in forecast
    # growth a year as the sentence writes it, a signed whole percent
    growth = region[region.index('id="Growth') : region.index('id="Forecast')]
    assert re.search(r"<td[^>]*>[+-]\d+%</td>", growth), "trend a year as +NN%"
    # one pointer to the appendix's Terms, whose heading carries that anchor
    assert region.count('href="methods.html#Terms"') == 1
    # each thing said once: the p-values' adjustment below the growth table only; auto's rule
    # for choosing in its model line only; the appendix's scores pointed to once
    assert growth.count("once for the whole study") == 1, "BH adjustment explained twice"
    assert growth.count("are not adjusted") == 1 and "They are not adjusted intervals" not in growth
    assert forecast.count("within Monte Carlo error") == 1
    assert region.count('href="methods.html"') == 1  # the Methods and evidence section's
    assert "whose paths give every probability" not in region
    sha = by_kind["region"]["inputs"][0]["sha256"]
    on_disk = json.loads((result.out / "manifest.json").read_text())
    assert {r["notebook"] for r in on_disk["reports"]} >= {"region_report.py", "overview.py"}

    assert sha in region  # provenance names the data file's hash
    overview = (result.out / by_kind["overview"]["html"]).read_text()
    methods = (result.out / by_kind["methods"]["html"]).read_text()
    # the attribution in full once in every report, under Provenance; the region report's
    # Data section points there (it had given it in full in both sections)
    for page in (region, overview, methods):
        assert page.count(ATTRIBUTION) == 1
        assert page.index(ATTRIBUTION) > page.index('<h2 id="Provenance"')
    data_section = region[region.index('id="Data') : region.index('id="Growth')]
    assert 'href="#Provenance"' in data_section and "licence" in data_section
    assert "Ranking" in overview and 'class="ct-figure"' in overview
    assert by_kind["overview"]["records"]["ranking"][0]["rank"] == 1
    # the rule its P(surge) was computed under, for next quarter's alert crossings
    assert by_kind["overview"]["records"]["surge_rule"]["min_events"] == 3
    assert "P(at least 1 event), next 6 months" in overview  # the column names its window
    assert "the Brier score of auto's P(surge) is" in overview  # the alert number is scored
    # the surge rule as risk.surge_threshold applies it, with the default floor of events
    assert "would give, and at least 3 events" in overview
    assert "(and at least one event)" not in overview
    # the surge evidence says why it counts one origin fewer than the near-term evidence
    assert re.search(r"its latest origin, \d{4}-\d{2}, is left out", overview)
    assert re.search(r"the latest origin, \d{4}-\d{2}, at step", overview)
    assert "CRPS" in methods and "Known limits" in methods
    # every skill with its interval over origins, in the main, group and longer tables
    assert methods.count("its 90% interval (over origins)") == 3
    assert "Count models for the focus regions" in methods and "ZINB" in methods
    assert "hurdle_nb" not in methods  # the code's names stay out of the reader's table
    # headline scores at the study's 6 steps, 1-12 apart; the list names scored models only
    assert "scored at steps 1-6, the periods the reports show" in methods
    assert re.search(r"<h3[^>]*>Steps 1-12", methods)
    assert "forecasts all come from auto" in methods and "pooled_nb" not in methods
    assert re.search(r'<h2 id="Terms"', methods) and "fair CRPS</strong>" in methods
    assert "Spillover probabilities come from adjacency only" not in methods
    assert "comes from one model, <code>auto</code>" in methods
    # the overdispersion test once per region, not a column on every model's row
    assert methods.count("Overdispersion (the Cameron and Trivedi test") == 1
    # the onset model described once (auto's entry), not again in the known limits
    assert methods.count("fitted on every unit of the countries the data files cover") == 1
    assert "overdispersion p" not in methods and "fitted as" not in methods
    # synthetic, with the truth file beside the data: the stated model against the estimates,
    # a heading in the contents, one captioned row per quantity and a computed verdict
    title = "Demo: the stated model against the estimates"
    assert re.search(rf'<h2 id="Demo[^"]*">{title}', methods)
    assert re.search(rf'<a href="#Demo[^"]*">{title}</a>', methods)  # in the contents
    demo = methods[methods.index('id="Demo') : methods.index('id="Known-limits')]
    assert "<caption>The stated model behind the demo data" in demo
    # the header, eight quantities (Kayes's 3-month total, which the summaries lead with, and
    # seven for Kayes, the fit and its cross-border neighbours), one attributable share per
    # spillover target country (Mauritania, Senegal), and one row per quiet unit across the
    # border whose printed onset interval is judged
    assert demo.count("Kayes: events over the next 3 months") == 1
    quiet_rows = demo.count("(quiet): P(at least one event")
    assert quiet_rows >= 1 and demo.count("<tr>") == 11 + quiet_rows
    assert "overdispersion (variance = mean + overdispersion x mean²)" in demo
    assert "How each row is judged" in demo and "90% predictive interval" in demo
    assert "next 6 months" in demo  # the smoke study's horizon, stated model run as far
    assert "Recovered: " in demo or "Not recovered: " in demo
    assert "could not be used" not in demo and "was not found" not in demo
    assert "not compared" not in demo  # the wiring gave every row its estimate
    # the spillover model's parameters are in no report: judged apart, and the table says so
    assert "Of the spillover model&#x27;s own numbers" in demo or (
        "Of the spillover model's own numbers" in demo
    )
    assert "no report quotes it" in demo
    # the methods appendix gives the study's onset evidence once, in full
    assert re.search(r'<h2 id="Onset-evidence"', methods) and "Reliability of the onset" in methods
    # the section is the appendix's; the other reports' banner points to it
    assert 'id="Demo' not in region and 'id="Demo' not in overview
    for page in (region, overview):
        assert f"{title}&#34; in the methods appendix checks" in page


def test_region_template_takes_a_region_name_and_explains_a_typo(
    tmp_path: Path, demo_dir: Path, monkeypatch
) -> None:
    """An analyst edits the notebook's parameter to a name ("Kayes") or mistypes it: the
    setup cell resolves the name, and a typo is an InputError naming the parameter (it was a
    bare KeyError: 'Kayes')."""
    import jupytext

    from analysis.errors import InputError
    from analysis.report.assets import notebook

    monkeypatch.setenv("CONFLICT_TRENDS_REPORT_CACHE", "off")
    monkeypatch.chdir(tmp_path)
    study = write_study(tmp_path, demo_dir / "demo_acled.csv")
    cells = [c for c in jupytext.read(notebook("region_report")).cells if c.cell_type == "code"]
    setup = cells[1].source  # the cell after the parameters: loads the study, picks the region
    assert "study_region(" in setup
    namespace = {"study": str(study), "region": "Kayes", "quarter": ""}
    exec(compile(setup, "setup", "exec"), namespace)
    assert namespace["region_id"] == "ML-1" and namespace["region_name"] == "Kayes"
    with pytest.raises(InputError, match="closest: Kayes"):
        exec(compile(setup, "setup", "exec"), {**namespace, "region": "Kayse"})
