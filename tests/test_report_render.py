"""Rendering: self-contained HTML, no code, TOC, numbered figures, everything from data escaped."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from analysis import cache
from analysis.report import render
from analysis.report.show import escape_markdown


def _png() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


class _Tags(HTMLParser):
    """Every start tag with its attributes: what a browser would build, not the raw text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def _notebook(payload: str = "<script>window.__pwned=1</script>") -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("secret_code_line = 42")
    code.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={render.RECORD_MIME: {"title": f"Title {payload}", "subtitle": "Sub"}},
        ),
        nbformat.v4.new_output(
            "display_data",
            data={"image/png": _png(), "text/plain": "fig"},
            metadata={"conflict_trends": {"caption": f"First {payload}"}},
        ),
        nbformat.v4.new_output(
            "display_data",
            data={"image/png": _png(), "text/plain": "fig"},
            metadata={"conflict_trends": {"caption": "Second"}},
        ),
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/html": f"<style>td {{color: red}}</style><table><tr><td>{payload}</td>"
                '<td><img src=x onerror="window.__pwned=2"></td>'
                '<td><a href="javascript:alert(1)">x</a></td></tr></table>',
                "text/plain": "t",
            },
        ),
        nbformat.v4.new_output(
            "display_data", data={"application/javascript": "window.__pwned=3", "text/plain": ""}
        ),
    ]
    nb.cells = [
        nbformat.v4.new_markdown_cell("## Data\n\nSome text.\n\n### Detail\n\nMore."),
        code,
        nbformat.v4.new_markdown_cell(f"## Methods {escape_markdown(payload)}"),
    ]
    return nb


def test_page_is_self_contained_without_code_or_scripts() -> None:
    page = render.render_html(_notebook())
    assert "secret_code_line" not in page
    tags = _tags(page)
    assert not [t for t, _ in tags if t in ("script", "iframe", "object", "embed", "link")]
    assert not [(t, a) for t, a in tags for name in a if name.startswith("on")]
    assert not [a for _, a in tags if "javascript:" in str(a.get("href", ""))]
    assert [a["src"][:22] for t, a in tags if t == "img"] == ["data:image/png;base64,"] * 2
    assert "window.__pwned=3" not in page
    # nothing fetched from anywhere: no http(s) URL in src/href, no require.js or MathJax
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", page)
    assert "require.js" not in page and "MathJax" not in page
    assert "Content-Security-Policy" in page
    assert page.count('src="data:image/png;base64,') == 2


def test_toc_numbered_figures_and_escaped_data() -> None:
    page = render.render_html(_notebook())
    toc = re.split(r"<nav[^>]*ct-toc[^>]*>", page, maxsplit=1)[1].split("</nav>", 1)[0]
    links = re.findall(r'href="#([^"]+)"', toc)
    assert len(links) == 3  # Data, Detail (nested), Methods
    for ident in links:
        assert f'id="{ident}"' in page
    assert "<ol><li>" in toc and toc.count("<ol>") == 2  # Detail nested under Data
    assert "Figure 1.</span> First &lt;script&gt;" in page
    assert "Figure 2.</span> Second" in page
    assert "<title>Title &lt;script&gt;window.__pwned=1&lt;/script&gt;</title>" in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    assert "td {color: red}" not in page  # pandas-style <style> blocks dropped, not shown


def test_record_outputs_are_hidden_but_collected() -> None:
    nb = _notebook()
    assert render.collect_records(nb)["subtitle"] == "Sub"
    page = render.render_html(nb)
    assert render.RECORD_MIME not in page


def test_a_records_banner_shows_in_the_notebook_but_not_twice_in_the_page() -> None:
    """JupyterLab shows nothing for the private record type: the demo's SYNTHETIC banner went
    unseen by an analyst running the notebook. The record's Markdown shows it there, and the
    page, which puts the banner in its header, drops the whole output."""
    from analysis.report.show import record_markdown

    values = {"title": "Kayes <b>", "subtitle": "demo", "banner": "These data are SYNTHETIC"}
    text = record_markdown(values)
    assert text.startswith("# Kayes &lt;b&gt;") and "> **These data are SYNTHETIC**" in text
    assert record_markdown({"region": "ML-1"}) == ""
    nb = _notebook()
    nb.cells[1].outputs[0]["data"] = {render.RECORD_MIME: values, "text/markdown": text}
    page = render.render_html(nb)
    assert page.count("These data are SYNTHETIC") == 1  # the header's banner only


def test_failed_notebook_is_marked() -> None:
    nb = _notebook()
    nb.cells[1].outputs.append(
        nbformat.v4.new_output("error", ename="ValueError", evalue="bad <b>", traceback=["tb"])
    )
    assert render.notebook_failed(nb)
    page = render.render_html(nb)
    assert "did not finish" in page
    assert "bad &lt;b&gt;" not in page or "<b>" not in page.split("ct-error")[1]


@pytest.mark.parametrize(
    "raw",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[x](javascript:alert(1))",
        "*bold* _u_ `c` # h | a-b. 1) &amp; \\",
    ],
)
def test_escape_markdown_makes_literal_text(raw: str) -> None:
    from nbconvert.filters.markdown import markdown2html_mistune

    html = render.clean_html(markdown2html_mistune(f"Value: {escape_markdown(raw)}"))
    assert [t for t, _ in _tags(html)] == ["p"]  # no element made from the data
    text = re.sub(r"<[^>]+>", "", html)
    import html as html_module

    assert html_module.unescape(text).strip() == f"Value: {raw}"


def test_clean_html_keeps_tables_and_headings() -> None:
    fragment = '<h2 id="a">A</h2><table><thead><tr><th>x</th></tr></thead></table>'
    assert render.clean_html(fragment) == fragment
    assert "onclick" not in render.clean_html('<p onclick="x()">p</p>')


def test_table_of_contents_handles_h3_before_h2() -> None:
    page = '<main><h3 id="x">X</h3><h2 id="y">Y</h2></main>'
    toc = render.table_of_contents(page)
    assert toc.count("<li>") == 3 - 1 + 1  # wrapper li for orphan h3, X, Y
    assert 'href="#x"' in toc and 'href="#y"' in toc


def test_links_to_missing_reports_become_text(tmp_path: Path) -> None:
    (tmp_path / "methods.html").write_text("<html></html>")
    page = tmp_path / "region.html"
    page.write_text(
        '<p>See the <a href="methods.html">methods appendix</a>, the '
        '<a href="overview.html#Ranking">overview</a>, <a href="#Data">Data</a> and '
        '<a href="https://ucdp.uu.se/">UCDP</a>.</p>'
    )
    assert render.drop_dead_links(page) == ["overview.html"]
    text = page.read_text()
    assert '<a href="methods.html">methods appendix</a>' in text
    assert "the overview," in text and "overview.html" not in text
    assert '<a href="#Data">Data</a>' in text and 'href="https://ucdp.uu.se/"' in text
    assert render.dead_links(text, tmp_path) == []


def test_markdown_remembered_gives_the_same_page(monkeypatch):
    """Markdown rendered once (the fork server renders the templates' cells) and then looked
    up gives the page nbconvert renders from scratch; cells with attachments are not looked up."""
    import datetime as dt

    nb = _notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("## Again\n\nSame *text* as [before](a.html)."))
    attached = nbformat.v4.new_markdown_cell("With an attachment ![x](attachment:x.png)")
    attached.attachments = {"x.png": {"image/png": _png()}}
    nb.cells.append(attached)
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    monkeypatch.setattr(render, "_MARKDOWN", cache.Memory(4096))
    first = render.render_html(nb, generated=when)
    remembered = {k: render._MARKDOWN.get(k) for k in render._MARKDOWN.keys()}
    assert any("Same *text*" in source for source, _ in remembered)
    assert not any("attachment:" in source for source, _ in remembered)
    # a wrong remembered value shows: the page is built from what was remembered
    key = next(k for k in remembered if "Same *text*" in k[0])
    render._MARKDOWN.put(key, "<p>remembered</p>")
    assert "remembered" in render.render_html(nb, generated=when)
    render._MARKDOWN.clear()
    assert render.render_html(nb, generated=when) == first
    for k, v in remembered.items():
        render._MARKDOWN.put(k, v)
    assert render.render_html(nb, generated=when) == first
