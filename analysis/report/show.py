"""What a report notebook uses to show results: figures with captions, escaped text, tables.

Every string that may come from data (actor names, region names, notes) goes through
:func:`escape_markdown` before it reaches the Markdown renderer, which would otherwise pass raw
HTML such as ``<script>`` straight into the page.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from analysis.report.render import RECORD_MIME

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def escape_markdown(value: Any) -> str:
    """Return ``str(value)`` safe to place inside Markdown: literal text, never markup.

    Markdown punctuation is backslash-escaped (no accidental emphasis or links) and ``&``,
    ``<``, ``>`` and quotes become HTML entities (no tags, no attributes).

    Parameters
    ----------
    value : object

    Returns
    -------
    str
        Every run of whitespace (newlines too) becomes one space.
    """
    text = " ".join(str(value).split())
    return html.escape(_MD_SPECIAL.sub(r"\\\1", text), quote=True)


#: The ``text/plain`` that IPython gives Markdown and HTML display objects.
_MARKDOWN_PLAIN = "<IPython.core.display.Markdown object>"
_HTML_PLAIN = "<IPython.core.display.HTML object>"


def markdown(template: str, /, **values: Any) -> None:
    """Display Markdown built from a trusted ``template`` and escaped ``values``.

    Parameters
    ----------
    template : str
        Markdown written by the report author, with ``{name}`` fields.
    **values
        Values for the fields; each is escaped with :func:`escape_markdown`. Format numbers
        before passing them (they are escaped too, which is harmless for digits).
    """
    from IPython.display import display

    text = template.format(**{k: escape_markdown(v) for k, v in values.items()})
    # raw: the outputs ``display(Markdown(text))`` makes, without running IPython's formatters
    # (about 1 ms per call, some 40 calls a report)
    display({"text/plain": _MARKDOWN_PLAIN, "text/markdown": text}, raw=True)


def section_link(title: str) -> str:
    """Markdown linking to a heading of the same report, for a trusted ``markdown`` template:
    nbconvert's heading id is the title with its spaces as hyphens (the title is written by
    the report author, so it is not escaped; escaping would break the anchor).

    Parameters
    ----------
    title : str
        The heading's text as written.

    Returns
    -------
    str
    """
    return f"[{title}](#{title.replace(' ', '-')})"


@dataclass(frozen=True)
class Picture:
    """A figure already rendered: base64 PNG (e.g. one drawn once for a whole study)."""

    png: str


def picture(fig: Any, *, dpi: int = 96) -> Picture:
    """Render a matplotlib figure to a :class:`Picture` (PNG at ``dpi``), then close it
    (:func:`analysis.report.pictures.png`: fixed margins, no second draw).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : int
        Resolution.

    Returns
    -------
    Picture
    """
    import matplotlib.pyplot as plt

    from analysis.report.pictures import png

    data = png(fig, dpi=dpi)
    plt.close(fig)
    return Picture(base64.b64encode(data).decode("ascii"))


def figure(fig: Any, caption: str, *, dpi: int = 96) -> None:
    """Display a matplotlib figure (rendered here, then closed) or a :class:`Picture` as an
    embedded PNG with a numbered caption.

    Parameters
    ----------
    fig : matplotlib.figure.Figure or Picture
    caption : str
        The caption, also recorded in the output's metadata.
    dpi : int
        Resolution of a matplotlib figure (a :class:`Picture` is shown as rendered).
    """
    from IPython.display import display

    data = fig.png if isinstance(fig, Picture) else picture(fig, dpi=dpi).png
    display(
        {"image/png": data, "text/plain": f"Figure: {caption}"},
        metadata={"conflict_trends": {"caption": str(caption)}},
        raw=True,
    )


#: Text cells up to this many characters (names, codes, dates) are never wrapped.
NOWRAP_CHARS = 32


def table(
    frame: Any,
    *,
    index: bool = False,
    float_format: str = "{:,.2f}",
    formats: dict[str, Callable[[float], str]] | None = None,
    caption: str = "",
) -> None:
    """Display a DataFrame as an HTML table: every cell HTML-escaped, text left-aligned.

    Numbers are right-aligned (tabular figures) and text left-aligned, so that names, notes
    and actors read naturally beside aligned columns of numbers. ``formats`` maps a numeric
    column to its own formatter (e.g. :func:`analysis.formatting.format_ratio` for interval
    limits that span orders of magnitude); the others use ``float_format``. ``caption``, when
    given, is the table's ``<caption>`` (escaped).

    Parameters
    ----------
    frame : DataFrame
    index : bool
        Show the index as the first column(s).
    float_format : str
        Format of floats in numeric columns without their own formatter.
    formats : dict, optional
        Column name to a formatter of one float.
    caption : str
        Text of the table's ``<caption>`` (none when empty).

    Raises
    ------
    KeyError
        When ``formats`` names a column the table does not have.
    """
    from IPython.display import display

    html = table_html(
        frame, index=index, float_format=float_format, formats=formats, caption=caption
    )
    display({"text/plain": _HTML_PLAIN, "text/html": html}, raw=True)  # as display(HTML(html))


def score_table(frame: Any, *, caption: str = "") -> None:
    """Display a table of scores: CRPS and other scores to three decimals, skills and
    coverages as the text quotes them (:func:`analysis.formatting.score_formats`).

    Parameters
    ----------
    frame : DataFrame
    caption : str
        Text of the table's ``<caption>`` (none when empty).
    """
    from analysis.formatting import score_formats

    table(frame, float_format="{:,.3f}", formats=score_formats(frame.columns), caption=caption)


def table_html(
    frame: Any,
    *,
    index: bool = False,
    float_format: str = "{:,.2f}",
    formats: dict[str, Callable[[float], str]] | None = None,
    caption: str = "",
) -> str:
    """The HTML of :func:`table` (escaped; ``class="text"`` on non-numeric columns).

    Parameters
    ----------
    frame : DataFrame
    index : bool
        Show the index as the first column(s).
    float_format : str
        Format of floats in numeric columns without their own formatter.
    formats : dict, optional
        Column name to a formatter of one float (its numeric cells stay right-aligned).
    caption : str
        Text of the table's ``<caption>`` (none when empty); escaped like every cell.

    Returns
    -------
    str

    Raises
    ------
    KeyError
        When ``formats`` names a column the table does not have (a renamed column would
        otherwise lose its format without a word).
    """
    import html

    import pandas as pd

    if index:
        frame = frame.reset_index()
    columns = list(frame.columns)
    numeric = [
        pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        for c in columns
    ]

    formats = formats or {}
    unknown = set(formats) - set(columns)
    if unknown:
        raise KeyError(f"formats for columns the table does not have: {sorted(unknown)}")
    by_column = [formats.get(c) for c in columns]

    def cell(value: Any, is_number: bool, fmt: Callable[[float], str] | None = None) -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return ""
        if is_number and fmt is not None:
            return fmt(float(value))
        if is_number and isinstance(value, float):
            return float_format.format(value)
        if is_number:
            return f"{value:,}" if isinstance(value, int) else str(value)
        return str(value)

    def attr(is_number: bool, text: str = "") -> str:
        if is_number:
            return ""
        # names, codes and dates stay on one line; only long text wraps (at spaces)
        return ' class="text nowrap"' if len(text) <= NOWRAP_CHARS else ' class="text"'

    head = "".join(
        f"<th{attr(n)}>{html.escape(str(c))}</th>" for c, n in zip(columns, numeric, strict=True)
    )
    body = []
    for row in frame.itertuples(index=False, name=None):
        texts = [cell(v, n, f) for v, n, f in zip(row, numeric, by_column, strict=True)]
        cells = "".join(
            f"<td{attr(n, s)}>{html.escape(s)}</td>" for s, n in zip(texts, numeric, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    title = f"<caption>{html.escape(' '.join(caption.split()))}</caption>" if caption else ""
    return (
        f'<table class="dataframe">{title}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def record(**values: Any) -> None:
    """Publish machine-readable values (title, key figures) for the renderer and the manifest.

    They travel as an output with a private MIME type that the HTML template never shows
    (the renderer drops the whole output and puts the title, subtitle and banner in the
    page's header). The ``title``, ``subtitle`` and ``banner`` also go as Markdown in the
    same output, for the analyst running the notebook in JupyterLab: it shows nothing for
    the private type, and the demo's "SYNTHETIC" banner went unseen there. Values must be
    JSON-serialisable.

    Parameters
    ----------
    **values
        The values to publish, e.g. ``title``, ``subtitle``, ``banner`` and key figures.
    """
    from IPython.display import display

    bundle: dict[str, Any] = {RECORD_MIME: values}
    shown = record_markdown(values)
    if shown:
        bundle["text/markdown"] = shown
    display(bundle, raw=True)


def record_markdown(values: dict[str, Any]) -> str:
    """The Markdown a notebook shows for a record: its title as a heading, its subtitle, and
    its banner as a quoted warning (empty when the record has none of them).

    Parameters
    ----------
    values : dict
        The values given to :func:`record`.

    Returns
    -------
    str
    """
    parts = []
    if values.get("title"):
        parts.append(f"# {html.escape(str(values['title']))}")
    if values.get("subtitle"):
        parts.append(f"*{html.escape(str(values['subtitle']))}*")
    if values.get("banner"):
        parts.append(f"> **{html.escape(str(values['banner']))}**")
    return "\n\n".join(parts)
