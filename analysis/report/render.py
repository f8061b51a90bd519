"""Render an executed report notebook to one self-contained HTML page.

The page has no code, a title and date, a table of contents, numbered figures with captions,
print CSS and embedded images, and it makes no request when opened: the custom template in
``templates/conflict_trends`` has no script tag, no CDN link and no web font, and a
Content-Security-Policy that forbids anything but inline styles and ``data:`` images.

Anything coming from data is escaped: the template escapes captions and titles, and every
HTML or Markdown output passes an allow-list sanitiser (no script, no event handler, no
``javascript:`` link) as a second line of defence behind :func:`analysis.report.show.markdown`.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import os
import re
from pathlib import Path
from typing import Any

import nbformat
import nh3

from analysis import cache
from analysis.io import atomic_write_text

TEMPLATE_NAME = "conflict_trends"
RECORD_MIME = "application/vnd.conflict-trends.record+json"
TOC_MARK = "<!--CT-TOC-->"

_STYLE_BLOCK = re.compile(r"<style\b[^>]*>.*?</style\s*>", re.IGNORECASE | re.DOTALL)
_ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "div", "dl", "dt", "em",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "small", "span",
        "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "*": {"class", "id"},
    "a": {"href", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "abbr": {"title"},
}


def clean_html(fragment: Any) -> str:
    """Sanitise an HTML fragment against an allow-list fit for report tables and text.

    Parameters
    ----------
    fragment : str or bytes
        HTML produced by a notebook output or by the Markdown renderer.

    Returns
    -------
    str
        The fragment with disallowed tags removed (``script`` and ``style`` with their
        content; the text of others is kept), disallowed attributes (``on*``, ``style``,
        ``src``) removed and only http(s)/mailto/fragment links. Text that should show markup
        literally is escaped before it gets here (:func:`analysis.report.show.markdown`).
    """
    text = fragment.decode() if isinstance(fragment, bytes) else str(fragment)
    # pandas' notebook repr carries a <style scoped> block; the page has its own table style
    text = _STYLE_BLOCK.sub("", text)
    return nh3.clean(
        text,
        tags=set(_ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        strip_comments=True,
        link_rel=None,
    )


def collect_records(nb: nbformat.NotebookNode) -> dict[str, Any]:
    """Merge every record a notebook published with :func:`analysis.report.show.record`.

    Later records override earlier keys, so a notebook may refine a value as it goes.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        Executed notebook.

    Returns
    -------
    dict
        The records' keys and values (deep copies), merged in cell order.
    """
    merged: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = output.get("data") or {}
            if RECORD_MIME in data and isinstance(data[RECORD_MIME], dict):
                merged.update(copy.deepcopy(dict(data[RECORD_MIME])))
    return merged


def notebook_failed(nb: nbformat.NotebookNode) -> bool:
    """Return whether any cell of an executed notebook holds an error output.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        Executed notebook.

    Returns
    -------
    bool
    """
    return any(
        output.get("output_type") == "error"
        for cell in nb.get("cells", [])
        if cell.get("cell_type") == "code"
        for output in cell.get("outputs", [])
    )


def _prepare(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """Copy ``nb`` (shallowly: images are not copied), drop record outputs (machine data, not
    for readers) and number the captioned figures."""
    out = nbformat.NotebookNode(dict(nb))
    out.cells = []
    number = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            out.cells.append(cell)
            continue
        kept = []
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            if RECORD_MIME in data:
                continue
            meta = (output.get("metadata") or {}).get("conflict_trends")
            if "image/png" in data and meta is not None and "caption" in meta:
                number += 1
                output = nbformat.NotebookNode(dict(output))
                output.metadata = nbformat.NotebookNode(dict(output.metadata))
                output.metadata["conflict_trends"] = nbformat.NotebookNode(
                    {**meta, "number": number}
                )
            kept.append(output)
        copy_cell = nbformat.NotebookNode(dict(cell))
        copy_cell.outputs = kept
        out.cells.append(copy_cell)
    return out, number


_HEADING = re.compile(r"<h([23])\b([^>]*)>(.*?)</h\1\s*>", re.DOTALL | re.IGNORECASE)
_HEADING_ID = re.compile(r"""(?:^|\s)id\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_ANCHOR_LINK = re.compile(r"<a\b[^>]*\banchor-link\b[^>]*>.*?</a\s*>", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


def _headings(page: str) -> list[tuple[int, str, str]]:
    """(level, id, text) of the h2/h3 headings with an id inside ``<main>``, in page order.

    The headings come from this package's template and nbconvert's Markdown renderer, so
    regular expressions suffice (a Python HTML parser over the page cost about 7 ms a report).
    """
    start = page.find("<main")
    if start < 0:
        return []
    end = page.find("</main", start)
    body = page[start : end if end >= 0 else len(page)]
    found = []
    for level, attributes, inner in _HEADING.findall(body):
        ident = _HEADING_ID.search(attributes)
        if ident is None:
            continue
        text = html.unescape(_TAG.sub("", _ANCHOR_LINK.sub("", inner)))
        found.append(
            (
                int(level),
                html.unescape(ident.group(1) or ident.group(2) or ""),
                " ".join(text.split()),
            )
        )
    return [h for h in found if h[1]]


def table_of_contents(page: str) -> str:
    """Build the nested ``<ol>`` table of contents for the h2/h3 headings of a rendered page.

    Parameters
    ----------
    page : str
        The page's HTML; only headings with an ``id`` inside ``<main>`` are listed.

    Returns
    -------
    str
        The ``<ol>`` element, h3 headings nested under the h2 before them (``<ol></ol>``
        without headings).
    """
    items: list[str] = []
    open_sub = False
    for level, ident, text in _headings(page):
        link = f'<a href="#{html.escape(ident, quote=True)}">{html.escape(text)}</a>'
        if level == 2:
            if open_sub:
                items.append("</ol></li>")
                open_sub = False
            elif items:
                items.append("</li>")
            items.append(f"<li>{link}")
        else:
            if not items:
                items.append("<li>")
            if not open_sub:
                items.append("<ol>")
                open_sub = True
            items.append(f"<li>{link}</li>")
    if open_sub:
        items.append("</ol></li>")
    elif items:
        items.append("</li>")
    return "<ol>" + "".join(items) + "</ol>"


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("conflict-trends")
    except metadata.PackageNotFoundError:
        return "unknown"


_EXPORTER: Any = None

#: Markdown rendered by this process, by (source, notebook path): most of a report's Markdown
#: (the template's cells, recurring sentences) is the same in every report, so a batch renders
#: it once in the fork server (``warmup``) and every forked report finds it here.
_MARKDOWN = cache.Memory(4096)


def _memo_markdown(render: Any) -> Any:
    """nbconvert's ``markdown2html`` filter, remembering its output for cells without
    attachments (the only other input it reads is the notebook's path)."""
    import jinja2

    @jinja2.pass_context
    def markdown2html(context: Any, source: str) -> str:
        if context.get("cell", {}).get("attachments"):
            return render(context, source)
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        key = (str(source), str(path))
        out = _MARKDOWN.get(key)
        if out is None:
            out = render(context, source)
            _MARKDOWN.put(key, out)
        return out

    return markdown2html


def _exporter() -> Any:
    """One exporter per process: building it loads templates (about 0.2 s).

    nbconvert's ``HTMLExporter`` with two costs left out, a third of a page's render:

    - its last step re-parses the whole page with BeautifulSoup (images included) to give
      images without one an ``alt`` text and Jupyter's input and output wrappers a tab stop;
      this template gives every figure its caption as ``alt`` text and has no such wrappers,
      so the page is the template's output (``TemplateExporter.from_notebook_node``);
    - it validates the notebook after each of its eleven preprocessors: here once, after the
      last (``optimistic_validation``).
    """
    global _EXPORTER
    if _EXPORTER is None:
        from nbconvert import HTMLExporter, TemplateExporter

        from analysis.report import assets

        class ReportExporter(HTMLExporter):
            def from_notebook_node(self, nb: Any, resources: Any = None, **kw: Any) -> Any:
                return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

        exporter = ReportExporter(
            template_name=TEMPLATE_NAME,
            extra_template_basedirs=[str(assets.template_dir())],
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            optimistic_validation=True,
        )
        exporter.register_filter("ct_clean", clean_html)
        exporter.register_filter("markdown2html", _memo_markdown(exporter.markdown2html))
        _EXPORTER = exporter
    return _EXPORTER


def render_html(
    nb: nbformat.NotebookNode,
    *,
    title: str | None = None,
    generated: dt.datetime | None = None,
) -> str:
    """Render an executed notebook to a self-contained HTML page.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        Executed notebook (as returned by papermill).
    title : str, optional
        Page title; by default the ``title`` the notebook recorded, else "Report".
    generated : datetime, optional
        Time stamp printed under the title; by default now (UTC).

    Returns
    -------
    str
        The HTML page.
    """
    records = collect_records(nb)
    prepared, _ = _prepare(nb)
    when = generated or dt.datetime.now(dt.UTC)
    resources = {
        "ct": {
            "title": title or records.get("title") or "Report",
            "subtitle": records.get("subtitle") or "",
            "banner": records.get("banner") or "",
            "generated": when.strftime("%Y-%m-%d %H:%M UTC"),
            "version": _version(),
            "failed": notebook_failed(nb),
            "show_stderr": False,
        }
    }
    page, _ = _exporter().from_notebook_node(prepared, resources=resources)
    return page.replace(TOC_MARK, table_of_contents(page), 1)


def write_html(nb: nbformat.NotebookNode, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Render ``nb`` with :func:`render_html` and write it atomically to ``path``.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        Executed notebook.
    path : str or path
        The HTML file to write.
    **kwargs
        Passed to :func:`render_html` (``title``, ``generated``).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    atomic_write_text(path, render_html(nb, **kwargs))
    return path


_LOCAL_LINK = re.compile(r'<a\b[^>]*\bhref="([^"#:]+?)(#[^"]*)?"[^>]*>(.*?)</a>', re.DOTALL)


def dead_links(page: str, folder: str | os.PathLike[str]) -> list[str]:
    """Relative links in ``page`` whose target file does not exist beside it in ``folder``.

    Parameters
    ----------
    page : str
        The page's HTML.
    folder : str or path
        The folder the page is in; link targets are resolved against it.

    Returns
    -------
    list of str
        The missing targets (without any ``#fragment``), in page order.
    """
    folder = Path(folder)
    return [m.group(1) for m in _LOCAL_LINK.finditer(page) if not (folder / m.group(1)).exists()]


def drop_dead_links(path: str | os.PathLike[str]) -> list[str]:
    """Turn relative links to missing files into plain text, in place (atomically).

    A report links its study's methods appendix; when that was not rendered beside it, the
    reader gets the words without a link that leads nowhere.

    Parameters
    ----------
    path : str or path
        The HTML page; nothing is done when it does not exist.

    Returns
    -------
    list of str
        The link targets removed.
    """
    path = Path(path)
    if not path.is_file():
        return []
    page = path.read_text(encoding="utf-8")
    dead = dead_links(page, path.parent)
    if dead:

        def unlink(match: re.Match[str]) -> str:
            return match.group(3) if match.group(1) in dead else match.group(0)

        atomic_write_text(path, _LOCAL_LINK.sub(unlink, page))
    return dead
