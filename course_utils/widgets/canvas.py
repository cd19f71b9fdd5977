"""The ipympl canvas every explorer draws on, with two patches for the pinned versions.

Written against ipympl 0.10.0 and matplotlib 3.11.2 (``requirements.txt``);
``tests/test_canvas.py`` pins both and fails when either changes, so that the patches are
checked again against the new code:

1. **PNG from the first frame.** Until the front end says "initialized", ipympl 0.10.0's
   ``Canvas.send_binary`` sends the raw RGBA buffer where the browser expects a PNG. An
   explorer draws before it is displayed, so the browser got a broken first image and never
   sized the canvas (found by tests/browser). :func:`make_canvas` turns that off.
2. **Fast frames.** Every redraw goes to the browser as a PNG of the changed pixels.
   matplotlib encodes it at zlib's default level 6, which at a device pixel ratio of 2 took
   35 ms of a 45 ms blit here; :class:`FastPNGCanvas` encodes at level 1, several times
   faster and, for diff frames that are mostly zeros, barely larger. Same logic as
   ``FigureCanvasWebAggCore.get_diff_image`` otherwise.

It also tells its explorer when a browser shows it (``on_displayed``).

Importing ipympl does not change pyplot's backend: ipympl's ``__init__`` calls
``matplotlib.use("module://ipympl.backend_nbagg")`` whenever matplotlib is already imported,
which would turn every later ``plt`` figure of the kernel into a live canvas (stored as
``text/html``, which nbval compares byte for byte, and shown twice on a second Run All).
:func:`_import_ipympl_backend` imports it with that call skipped; the explorers attach their
canvas to their own ``Figure`` and never go through pyplot.
"""

from __future__ import annotations

import functools
import importlib
import io
import sys
import warnings

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from PIL import Image

__all__ = ["make_canvas", "fast_png_canvas_class"]


def _import_ipympl_backend():
    """``ipympl.backend_nbagg``, imported without switching pyplot's backend to ipympl."""
    if "ipympl" not in sys.modules:
        use = matplotlib.use
        matplotlib.use = lambda *args, **kwargs: None  # the one call in ipympl/__init__.py
        try:
            importlib.import_module("ipympl")
        finally:
            matplotlib.use = use
    return importlib.import_module("ipympl.backend_nbagg")


@functools.cache
def fast_png_canvas_class():
    """The canvas class (built on first use, since ipympl is imported lazily, and once)."""
    Canvas = _import_ipympl_backend().Canvas

    class FastPNGCanvas(Canvas):
        """ipympl's canvas: PNG frames at zlib level 1, and an ``on_displayed`` hook."""

        def __init__(self, figure, *args, **kwargs):
            super().__init__(figure, *args, **kwargs)
            self.displayed_callbacks = []

        def get_diff_image(self):
            if not self._png_is_old:
                return None
            pixels = np.asarray(self.get_renderer().buffer_rgba())
            buff = pixels.view(np.uint32).squeeze(2)
            if (
                self._force_full
                or buff.shape != self._last_buff.shape
                or (pixels[:, :, 3] != 255).any()
            ):
                self.set_image_mode("full")
                output = buff
            else:
                self.set_image_mode("diff")
                output = np.where(buff != self._last_buff, buff, 0)
            self._last_buff = buff.copy()
            self._force_full = False
            self._png_is_old = False
            data = output.view(dtype=np.uint8).reshape((*output.shape, 4))
            with io.BytesIO() as png:
                Image.fromarray(data).save(png, format="png", compress_level=1)
                return png.getvalue()

        def _handle_message(self, object, content, buffers):
            super()._handle_message(object, content, buffers)
            if content.get("type") == "initialized":  # a browser shows the canvas
                for callback in self.displayed_callbacks:
                    callback()

    return FastPNGCanvas


def make_canvas(figure: Figure):
    """Attach a :class:`FastPNGCanvas` (and its manager) to ``figure``; return the canvas.

    Works in a kernel and in a plain Python process alike. The canvas has a fixed size:
    resizing would change the axes under the blitted background.
    """
    if not isinstance(figure, Figure):
        raise ValueError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
    FigureManager = _import_ipympl_backend().FigureManager

    canvas = fast_png_canvas_class()(figure)
    with warnings.catch_warnings():
        # ipympl 0.10's Toolbar passes the canvas on to traitlets, which warns; harmless.
        warnings.filterwarnings(
            "ignore", "Passing unrecognized arguments to super\\(Toolbar\\)", DeprecationWarning
        )
        FigureManager(canvas, 0)
    canvas.syncing_data_url = False  # patch 1: PNG frames from the first one on
    canvas.header_visible = False
    canvas.resizable = False
    canvas.footer_visible = False
    return canvas
