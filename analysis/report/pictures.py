"""Render report figures to PNG, drawing the x-axis the region reports of a study share once.

Every region report of a study draws its counts figure and its fan chart over the same
periods, so over the same x-axis: date ticks, tick labels and vertical grid lines, about a
fifth of drawing those two figures. A figure that :mod:`analysis.plots` names in
:data:`analysis.plots.SHARED_X` (its x-axis depends on its size, margins and x-limits alone)
can be drawn in two layers:

- the *background*: the figure and axes backgrounds and the x-axis, drawn once, in the batch's
  fork server (:func:`recording`, from :func:`analysis.report.study_figures.warm`), and kept as
  pixels (``copy_from_bbox``) under a key of everything it depends on;
- the rest (y-axis, data, spines, legend, title), drawn by each report over a copy of those
  pixels (``restore_region``), in the order and at the positions of a full draw.

Matplotlib draws an axes' artists in z-order, and the x-axis comes before everything but the
axes background, so the two layers make the same pixels as one full draw (tests compare the
PNG bytes). Any figure without a recorded background of the same key is drawn in full.

PNGs are encoded here from the Agg canvas, at zlib level 1 (a third of level 6's time, files
about 7% larger), as RGB when the figure is opaque (its background covers every pixel), which
saves a quarter of the bytes to compress; no ``bbox_inches="tight"`` (report figures have fixed
margins, and it would draw every figure twice).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Hashable, Iterator
from typing import Any

from analysis import cache

#: Backgrounds by key; a few figure kinds per study, 1-2 MB each.
_BACKGROUNDS = cache.Memory(16)
_RECORDING = False


@contextlib.contextmanager
def recording() -> Iterator[None]:
    """Keep the background of every shareable figure drawn in full while the block runs
    (in a process that will fork reports: each fork then reuses them)."""
    global _RECORDING
    saved, _RECORDING = _RECORDING, True
    try:
        yield
    finally:
        _RECORDING = saved


def _canvas(fig: Any) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    return fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)


def background_key(fig: Any) -> Hashable | None:
    """What a shareable figure's background depends on, or None for any other figure.

    The figure's name in :data:`analysis.plots.SHARED_X`, its size in pixels, the axes'
    position, x-limits, x label, background colours, and the style (every rcParam: tick
    labels, grid and fonts take theirs from it).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure; shareable only with one visible axes and nothing else at figure level.

    Returns
    -------
    Hashable or None
        A tuple of the above (the style as its hash), or None.
    """
    import matplotlib

    from analysis.plots import SHARED_X

    if fig.get_label() not in SHARED_X or len(fig.get_children()) != 2:
        return None  # other figures, or figure-level texts, legends or images
    (ax,) = fig.axes
    if not ax.axison or ax.images or not ax.xaxis.get_visible():
        return None
    # RcParams is a dict: its plain items are 20 times faster than its validating ones
    style = tuple(sorted((k, repr(v)) for k, v in dict.items(matplotlib.rcParams)))
    return (
        fig.get_label(),
        _canvas(fig).get_width_height(physical=True),
        tuple(ax.get_position().bounds),
        tuple(ax.get_xlim()),
        ax.get_xlabel(),
        tuple(fig.get_facecolor()),
        tuple(ax.get_facecolor()),
        hash(style),
    )


def _draw_over(fig: Any, canvas: Any, background: Any) -> None:
    """Draw everything but the background's layers over a copy of ``background``."""
    (ax,) = fig.axes
    renderer = canvas.get_renderer()
    renderer.clear()
    canvas.restore_region(background)
    ax.get_ylim()  # brings the autoscaled limits up to date, as a full draw does first
    ax.apply_aspect()
    rest = [a for a in ax.get_children() if a is not ax.patch and a is not ax.xaxis]
    for artist in sorted(rest, key=lambda a: a.get_zorder()):  # stable, as in Axes.draw
        artist.draw(renderer)


def _record(fig: Any, canvas: Any, key: Hashable) -> None:
    """Draw and keep the background layers of a figure just drawn in full."""
    (ax,) = fig.axes
    renderer = canvas.get_renderer()
    renderer.clear()
    for artist in (fig.patch, ax.patch, ax.xaxis):
        artist.draw(renderer)
    _BACKGROUNDS.put(key, canvas.copy_from_bbox(fig.bbox))


def png(fig: Any, dpi: float = 96) -> bytes:
    """The figure as PNG bytes at ``dpi``, reusing a recorded background when one fits.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Left open (the caller closes it).
    dpi : float
        Resolution; the figure's own is set to it.

    Returns
    -------
    bytes
    """
    from PIL import Image

    if fig.dpi != dpi:
        fig.set_dpi(dpi)
    canvas = _canvas(fig)
    key = background_key(fig)
    background = _BACKGROUNDS.get(key) if key is not None else None
    if background is not None:
        _draw_over(fig, canvas, background)
    else:
        canvas.draw()
    size = canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", size, bytes(canvas.buffer_rgba()), "raw", "RGBA", 0, 1)
    if fig.patch.get_visible() and fig.get_facecolor()[3] == 1.0:
        image = image.convert("RGB")  # opaque: the alpha channel says nothing
    buffer = io.BytesIO()
    image.save(buffer, format="png", compress_level=1, dpi=(dpi, dpi))
    if background is None and key is not None and _RECORDING:
        _record(fig, canvas, key)
    return buffer.getvalue()
