"""The explorer contract every chapter follows, and its plumbing.

An explorer is a pure compute function behind a set of ipywidgets controls and one
persistent matplotlib figure:

- ``.controls``: dict of named ipywidgets controls;
- ``.figure``: the :class:`matplotlib.figure.Figure`, drawn on an ipympl canvas;
- ``.result``: what the last recompute returned (a new object each time), or ``None``
  while the controls hold a value the compute function rejects;
- ``.message``: the text shown above the figure (an error, a warning or ``""``).

Setting a control's ``.value`` (from the browser or from plain Python) recomputes and
redraws before the assignment returns, so tests and benchmarks drive an explorer without
a browser. Bad input never raises: ``ValueError`` from the compute function, a value a
slider had to clamp, or an overflow shows up as ``.message``.

Drawing is blitted: subclasses mark their data artists ``animated``; a full draw (on first
display, after a layout change, or when the front end asks) paints everything else and
keeps it as the background, and each later update restores that background and draws only
the data artists.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import warnings

import ipywidgets
import numpy as np
from PIL import Image
from matplotlib.figure import Figure
from traitlets import Any, HasTraits, validate

__all__ = ["Explorer", "LogSlider", "IntSlider", "make_canvas"]


class _NoticesClamping(HasTraits):
    """Mixin for bounded sliders: remember a value that had to be clamped into range."""

    clamped_from = Any(None, allow_none=True)

    @validate("value")
    def _validate_value(self, proposal):
        raw = proposal["value"]
        value = super()._validate_value(proposal)
        self.clamped_from = raw if value != raw and raw == raw else None
        return value


class LogSlider(_NoticesClamping, ipywidgets.FloatLogSlider):
    """``FloatLogSlider`` that records an out-of-range value in ``clamped_from``."""


class IntSlider(_NoticesClamping, ipywidgets.IntSlider):
    """``IntSlider`` that records an out-of-range value in ``clamped_from``."""


@functools.cache
def _fast_png_canvas_class():
    # Built on first use (ipympl is imported lazily) and once: every explorer shares it.
    from ipympl.backend_nbagg import Canvas

    class FastPNGCanvas(Canvas):
        """ipympl's canvas, sending its frames as PNGs compressed at zlib level 1.

        Every redraw goes to the browser as a PNG of the changed pixels. matplotlib
        encodes it at zlib's default level 6, which at a device pixel ratio of 2 took
        35 ms of a 45 ms blit here; level 1 is several times faster and, for diff frames
        that are mostly zeros, barely larger. Same logic as
        ``FigureCanvasWebAggCore.get_diff_image`` (matplotlib 3.11) otherwise.
        """

        def get_diff_image(self):
            if not self._png_is_old:
                return None
            pixels = np.asarray(self.get_renderer().buffer_rgba())
            buff = pixels.view(np.uint32).squeeze(2)
            if (self._force_full or buff.shape != self._last_buff.shape
                    or (pixels[:, :, 3] != 255).any()):
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

    return FastPNGCanvas


def make_canvas(figure: Figure):
    """Attach an ipympl canvas (and its manager) to ``figure``; return the canvas widget.

    Works in a kernel and in a plain Python process alike. The canvas has a fixed size:
    resizing would change the axes under the blitted background.
    """
    from ipympl.backend_nbagg import FigureManager

    canvas = _fast_png_canvas_class()(figure)
    with warnings.catch_warnings():
        # ipympl 0.10's Toolbar passes the canvas on to traitlets, which warns; harmless.
        warnings.filterwarnings("ignore", "Passing unrecognized arguments to super\\(Toolbar\\)",
                                DeprecationWarning)
        FigureManager(canvas, 0)
    # ipympl 0.10.0: until the front end says "initialized", Canvas.send_binary sends the raw
    # RGBA buffer where the browser expects a PNG. An explorer draws before it is displayed,
    # so the browser got a broken first image and never sized the canvas (found by
    # tests/browser). Send PNGs from the start; explorers keep their own PNG fallback.
    canvas.syncing_data_url = False
    canvas.header_visible = False
    canvas.resizable = False
    canvas.footer_visible = False
    return canvas


class Explorer:
    """Base class: controls -> ``compute`` -> ``render`` (artists updated in place).

    Subclasses implement:

    - ``compute(**values)``: pure; returns the result or raises ``ValueError``;
    - ``layout(**values) -> bool``: (re)build axes and artists if the values need a new
      layout, return True when it did (a full draw follows);
    - ``render(result, **values) -> list``: update artists, return those to redraw; call
      :meth:`request_full_draw` if something in the background changed (a title, say);
    - optionally ``warning(result) -> str``: a note about a valid but degenerate result.

    Parameters
    ----------
    controls : dict of str -> ipywidgets.ValueWidget
    figure : matplotlib.figure.Figure
    """

    name = "Explorer"

    def __init__(self, controls: dict, figure: Figure):
        self.controls = dict(controls)
        self.figure = figure
        self.canvas = make_canvas(figure)
        self.result = None
        self.message = ""
        self._text, self._level = "", "warning"
        self._status = ipywidgets.HTML(layout=ipywidgets.Layout(min_height="1.6em"))
        self._animated: list = []
        self._background = None
        self._full_draw_requested = False
        self.figure.canvas.mpl_connect("draw_event", self._on_draw)
        for control in self.controls.values():
            control.observe(self._on_value, names="value")
            if isinstance(control, _NoticesClamping):
                control.observe(self._on_clamp, names="clamped_from")
        self.widget = ipywidgets.VBox(
            [self._control_box(), self._status, self.canvas],
            layout=ipywidgets.Layout(width="auto"),
        )

    # ------------------------------------------------------------------ to override
    def compute(self, **values):  # pragma: no cover - abstract
        raise NotImplementedError

    def layout(self, **values) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def render(self, result, **values) -> list:  # pragma: no cover - abstract
        raise NotImplementedError

    def warning(self, result) -> str:
        return ""

    # ------------------------------------------------------------------ the loop
    @property
    def values(self) -> dict:
        """Current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def update(self):
        """Recompute from the controls and redraw; never raises for bad control values."""
        values = self.values
        try:
            result = self.compute(**values)
        except ValueError as error:
            self.result = None
            self._set_message(str(error), "error")
            return
        self.result = result
        self._full_draw_requested = self.layout(**values) or self._background is None
        self._animated = self.render(result, **values)
        self._set_message(self.warning(result), "warning")
        if self._full_draw_requested:
            self.canvas.draw()
        else:
            self._blit()

    def request_full_draw(self):
        """Ask the current update to redraw the whole figure instead of blitting."""
        self._full_draw_requested = True

    def _on_value(self, change):
        self.update()

    def _on_clamp(self, change):
        self._set_message(self._text, self._level)

    def _clamp_notes(self) -> list:
        notes = []
        for name, control in self.controls.items():
            raw = getattr(control, "clamped_from", None)
            if raw is not None:
                lo = control.base ** control.min if hasattr(control, "base") else control.min
                hi = control.base ** control.max if hasattr(control, "base") else control.max
                notes.append(
                    f"{name} = {raw:g} is out of range (allowed {lo:g} to {hi:g}); "
                    f"using {control.value:g}"
                )
        return notes

    def _set_message(self, text: str, level: str):
        self._text, self._level = text, level
        lines = self._clamp_notes() + ([text] if text else [])
        self.message = "\n".join(lines)
        colour = {"error": "#b00020", "warning": "#8a5a00"}[level]
        self._status.value = "".join(
            f'<div style="color:{colour}">&#9888; {html.escape(line)}</div>' for line in lines
        )

    # ------------------------------------------------------------------ drawing
    def _on_draw(self, event):
        # A full draw skips animated artists: keep it as the background, then add them.
        canvas = self.figure.canvas
        if canvas.is_saving():  # savefig draws the animated artists too: not a background
            return
        self._background = canvas.copy_from_bbox(self.figure.bbox)
        for artist in self._animated:
            self.figure.draw_artist(artist)

    def _blit(self):
        canvas = self.figure.canvas
        canvas.restore_region(self._background)
        for artist in self._animated:
            self.figure.draw_artist(artist)
        canvas.blit(self.figure.bbox)

    # ------------------------------------------------------------------ display
    def _control_box(self):
        children = list(self.controls.values())
        return ipywidgets.GridBox(
            children,
            layout=ipywidgets.Layout(grid_template_columns="repeat(3, 300px)",
                                     grid_gap="2px 8px"),
        )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"{self.name}({args})"

    def _repr_mimebundle_(self, **kwargs):
        # The live widget in JupyterLab; a PNG of the figure where widgets cannot run
        # (GitHub, nbviewer); a stable text for nbval and terminals.
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=self.figure.dpi)
        bundle["image/png"] = base64.b64encode(buffer.getvalue()).decode("ascii")
        bundle["text/plain"] = repr(self)
        return bundle
