"""What a reviewer sees: each report opened in headless Chromium with the network cut off.

No request may leave the file system, no console error, every figure loads, every table of
contents link lands on a heading, and data carrying script payloads runs nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.report import batch, render

sys.path.insert(0, str(Path(__file__).parent))
from test_report_templates import write_study  # noqa: E402

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
PAYLOADS = {
    "actor1": "JNIM <script>window.__pwned = 'actor1'</script>",
    "actor2": '"><img src=x onerror="window.__pwned = \'actor2\'">',
    "notes": "<svg onload=\"window.__pwned='notes'\"></svg> [click](javascript:window.__pwned=1)",
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory, demo_dir: Path) -> dict[str, Path]:
    """Every template rendered from demo events whose strings carry script payloads."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    pytest.importorskip("playwright.sync_api")
    tmp = tmp_path_factory.mktemp("browser")
    events = pd.read_csv(demo_dir / "demo_acled.csv", dtype=str, keep_default_na=False)
    kayes = events["admin1"] == "Kayes"
    for column, payload in PAYLOADS.items():
        events.loc[kayes, column] = payload
    hostile = tmp / "hostile_acled.csv"
    events.to_csv(hostile, index=False)
    study = write_study(tmp, hostile, title="Hostile <b>study</b>")
    mp = pytest.MonkeyPatch()
    mp.setenv("CONFLICT_TRENDS_REPORT_CACHE", str(tmp / "cache"))
    try:
        result = batch.run_batch(
            [study], tmp / "out", regions=["ML-1"], workers=2, timeout=300, progress=False
        )
    finally:
        mp.undo()
    assert result.exit_code == 0, [r["error"] for r in result.failed]
    pages = {r["kind"]: result.out / r["html"] for r in result.manifest["reports"]}
    pages["index"] = result.index
    region_html = pages["region"].read_text()
    assert "JNIM &lt;script&gt;" in region_html  # the payload is shown, as text
    return pages


def _open(page_path: Path, screenshot: Path) -> dict:
    from playwright.sync_api import sync_playwright

    external: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            context = browser.new_context(offline=True)
            page = context.new_page()

            def route(r) -> None:
                if r.request.url.startswith(("file://", "data:")):
                    r.continue_()
                else:
                    external.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_path.as_uri(), wait_until="load")
            page.wait_for_timeout(300)  # let any deferred handler (onerror, onload) fire
            facts = page.evaluate(
                """() => ({
                    pwned: typeof window.__pwned,
                    images: Array.from(document.images).map(i => i.complete ? i.naturalWidth : -1),
                    toc: Array.from(document.querySelectorAll('nav.ct-toc a[href^="#"]')).map(
                        a => [a.getAttribute('href'),
                              !!document.getElementById(decodeURIComponent(a.hash.slice(1)))]),
                    scripts: document.scripts.length,
                    title: document.title,
                    // numbers and short names must sit on one line ("201 / 7" is a bug)
                    wrapped: Array.from(document.querySelectorAll('td:not(.text), td.nowrap'))
                        .filter(td => {
                            const range = document.createRange();
                            range.selectNodeContents(td);
                            const tops = Array.from(range.getClientRects())
                                .map(r => Math.round(r.top));
                            return new Set(tops).size > 1;
                        }).map(td => td.textContent),
                    cells: document.querySelectorAll('td').length,
                    text: document.body.innerText,
                })"""
            )
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    facts.update(external=external, errors=errors)
    return facts


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["region", "overview", "methods", "index"])
def test_report_in_browser(reports: dict[str, Path], kind: str) -> None:
    facts = _open(reports[kind], ARTIFACTS / f"report-{kind}.png")
    assert facts["external"] == []
    assert facts["errors"] == []
    assert facts["pwned"] == "undefined"
    assert facts["scripts"] == 0
    if kind != "index":
        assert facts["images"], "expected at least one figure"
        assert facts["toc"], "expected a table of contents"
    assert all(width > 0 for width in facts["images"]), facts["images"]
    assert all(ok for _, ok in facts["toc"]), facts["toc"]
    assert facts["wrapped"] == []
    # Markdown a reader would see raw: a code span passed as a text parameter is escaped
    # ("(`auto` and the spillover model ...)" had shown its backticks)
    assert "`" not in facts["text"], facts["text"][facts["text"].find("`") - 80 :][:160]
    assert (ARTIFACTS / f"report-{kind}.png").stat().st_size > 1000


STUDIES = Path(__file__).resolve().parents[1] / "studies"


@pytest.fixture(scope="module")
def real_reports(tmp_path_factory, real_data_path: Path) -> dict[str, Path]:
    """The shipped real-data study rendered from CONFLICT_TRENDS_REAL_DATA (focus + overview;
    the methods appendix's backtest is exercised by the template smoke test)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    pytest.importorskip("playwright.sync_api")
    tmp = tmp_path_factory.mktemp("real")
    mp = pytest.MonkeyPatch()
    mp.setenv("CONFLICT_TRENDS_REPORT_CACHE", str(tmp / "cache"))
    try:
        result = batch.run_batch(
            [STUDIES / "jnim_sahel_ucdp.yaml"],
            tmp / "out",
            regions="focus",
            methods_notebook=None,
            workers=2,
            timeout=600,
            progress=False,
        )
    finally:
        mp.undo()
    assert result.exit_code == 0, [r["error"] for r in result.failed]
    pages = {r["kind"]: result.out / r["html"] for r in result.manifest["reports"]}
    return pages


@pytest.mark.slow
@pytest.mark.real_data
@pytest.mark.parametrize("kind", ["region", "overview"])
def test_real_study_in_browser(real_reports: dict[str, Path], real_data_path: Path, kind) -> None:
    page = real_reports[kind]
    html = page.read_text(encoding="utf-8")
    facts = _open(page, ARTIFACTS / f"real-{kind}.png")
    assert facts["external"] == [] and facts["errors"] == [] and facts["scripts"] == 0
    assert facts["images"] and all(width > 0 for width in facts["images"])
    assert facts["toc"] and all(ok for _, ok in facts["toc"])
    assert facts["cells"] > 10 and facts["wrapped"] == []
    text = facts["text"]
    # source, version and licence; no path of the machine that rendered it; no dead link
    assert "UCDP" in text and "21.1" in text and "CC BY 4.0" in text
    assert str(real_data_path.parent) not in html and str(STUDIES) not in html
    assert str(Path.home()) not in html or str(Path.home()) == "/"
    assert render.dead_links(html, page.parent) == []
    assert "SYNTHETIC" not in text
    if kind == "region":
        assert "Mopti (ML-5)" in text
        # the study counts JNIM's predecessors too, and the sentences say so
        assert "In Mopti, JNIM or its predecessor groups took part in" in text
        assert "Events involving JNIM or its predecessor groups in Mopti rose" in text
        assert "Government of Mali" in text
        assert "fought or attacked most" in text
        assert " 100%" not in text and " 0%" not in text
        # the spillover model forecast worse than the best baseline here: its shares are
        # withheld, and the report says so with its skill
        assert "No share of the events across the border is attributed to Mopti" in text
        assert "attributable to Mopti" not in text
        # every unit around Mopti is active: no onset method or evidence over no onset number,
        # and the units across the border are pointed to their rows of the Spillover table
        assert "Evidence for the onset probabilities" not in text
        assert "penalised binary regression" not in text
        assert "are already active: their forecasts are in the Spillover table" in text
    else:
        assert "Changes since the previous quarter" in text
        assert "events_recent" not in text and "p_surge" not in text
