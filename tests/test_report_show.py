from __future__ import annotations

import pandas as pd

from analysis.report.show import escape_markdown, table_html


def test_table_escapes_every_cell_and_aligns_text_left():
    frame = pd.DataFrame(
        {"actor": ["<script>alert(1)</script>", "A & B"], "events": [3, 1200], "p": [0.5, None]}
    )
    html = table_html(frame)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "A &amp; B" in html
    assert '<td class="text nowrap">A &amp; B</td>' in html  # a short name: one line
    assert "<td>1,200</td>" in html  # numbers right-aligned (no text class), grouped
    assert "<td>0.50</td>" in html and "<td></td>" in html  # missing shown blank


def test_markdown_escape_neutralises_markup():
    text = escape_markdown("*bold* [link](javascript:alert(1)) <b>")
    assert "<b>" not in text and "\\*" in text


def test_only_long_text_may_wrap():
    frame = pd.DataFrame({"name": ["Koulikoro", "word " * 20], "date": ["2017-01-05", "2024"]})
    html = table_html(frame)
    assert '<td class="text nowrap">Koulikoro</td>' in html
    assert '<td class="text nowrap">2017-01-05</td>' in html
    assert '<td class="text">word word' in html


def test_a_picture_is_shown_as_the_figure_it_was_rendered_from(monkeypatch):
    """A figure drawn once (a study-level picture) shows the same PNG as drawing it in place."""
    import base64

    import IPython.display
    import matplotlib.pyplot as plt

    from analysis.report import show

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append((obj, kw)))

    def draw():
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot([0, 1, 2], [2, 0, 1])
        ax.set_title("a title")
        return fig

    open_before = set(plt.get_fignums())
    picture = show.picture(draw())
    assert base64.b64decode(picture.png).startswith(b"\x89PNG")
    show.figure(draw(), "Drawn here.")
    show.figure(picture, "Drawn before.")
    (direct, meta_a), (stored, meta_b) = shown
    assert stored["image/png"] == direct["image/png"] == picture.png
    assert meta_b["metadata"] == {"conflict_trends": {"caption": "Drawn before."}}
    assert set(plt.get_fignums()) == open_before  # both figures were closed once rendered


def test_a_column_can_have_its_own_format_and_stays_right_aligned():
    import pytest

    from analysis.formatting import format_ratio

    frame = pd.DataFrame({"name": ["Sikasso"], "low": [0.0011], "high": [908.78], "x": [1.5]})
    html = table_html(frame, formats={"low": format_ratio, "high": format_ratio})
    assert "<td>0.0011</td>" in html and "<td>909</td>" in html and "<td>1.50</td>" in html
    with pytest.raises(KeyError, match="lo"):
        table_html(frame, formats={"lo": format_ratio})


def test_a_table_caption_is_escaped_and_comes_first():
    frame = pd.DataFrame({"quantity": ["ratio"], "value": [7.0]})
    html = table_html(frame, caption="Stated <model> & estimates")
    assert html.startswith(
        '<table class="dataframe"><caption>Stated &lt;model&gt; &amp; estimates</caption><thead>'
    )
    assert "<caption>" not in table_html(frame)  # none unless asked for


def test_section_link_uses_the_heading_id_nbconvert_gives() -> None:
    """Escaped as a value the anchor would read "#Quiet\\-units"; built into the template it
    links to the heading's id."""
    from analysis.report import show

    assert show.section_link("Quiet units") == "[Quiet units](#Quiet-units)"
    assert show.section_link("Evidence for the onset probabilities") == (
        "[Evidence for the onset probabilities](#Evidence-for-the-onset-probabilities)"
    )
