"""The explorer contract every chapter follows, and how to add an explorer.

An explorer is a pure compute function behind a set of ipywidgets controls and one
persistent matplotlib figure on an ipympl canvas. Its public contract:

- ``.controls``: dict of named ipywidgets controls;
- ``.figure``: the :class:`matplotlib.figure.Figure`;
- ``.result``: what the last recompute returned (a new object each time), or ``None``
  while the controls hold a value the compute function rejects;
- ``.message``: the text shown above the figure (an error, a warning or ``""``);
- ``.summary``: the numbers shown as text beside the figure (``""`` if none).

Setting a control's ``.value`` (from the browser or from plain Python) recomputes and
redraws before the assignment returns, so tests and benchmarks drive an explorer without a
browser. Bad input never raises: a ``ValueError`` from the compute function, a value a
slider had to clamp, or a warning about the result shows up as ``.message``.

Adding an explorer (``course_utils/chapters/chNN_*/explorer.py``; chapter 05's
:mod:`course_utils.chapters.ch05_optimizers.explorer` is the worked example)
--------------------------------------------------------------------------------------
1. **Compute**: a pure function (the lesson module's, or the chapter's ``runs.py``),
   arguments in, result out, ``ValueError`` for bad arguments. It is unit-tested there.
2. **View**: a class (in the explorer's module, or :mod:`course_utils.plots` if shared) that builds its axes once with
   fixed limits and has ``update(result) -> artists``, changing data in place
   (``set_data``, ``set_text``; never a new axes per move). Pass ``animated=True`` to its
   artists: the base then blits them over a cached background (~10x cheaper than a full
   draw). Anything that changes the axes (limits, ticks, a non-animated text) must call
   :meth:`Explorer.request_full_draw`.
3. **Explorer**: subclass :class:`Explorer`::

       class MyExplorer(Explorer):
           def __init__(self, figsize=(8, 4), dpi=96, **start):
               controls = make_controls(rate=log_range(1e-3, 1.0), kind=("a", "b"))
               check_start(controls, start)  # before the figure: a mistake costs no drawing
               self.view = MyView(new_figure(figsize, dpi), animated=True)
               super().__init__(controls, self.view.figure, **start)

           def compute(self, rate, kind):
               return my_module.my_function(rate=rate, kind=kind)

           def render(self, result, rate, kind):
               return self.view.update(result)

   Controls come from :func:`~course_utils.widgets.controls.make_controls` (one keyword
   per control: its name, label and kind). The base checks the starting values against the
   controls (``ValueError`` saying what is allowed), wires the controls, and does the first
   update. Optional hooks: ``describe``
   (the result's key numbers as one line of text, shown beside the figure: a widget's text
   costs nothing to draw, a figure's text is the costliest artist to blit), ``warning``
   (a note about a valid but degenerate result), ``ignored_controls`` with the class
   attribute ``may_ignore`` (the controls the current values make irrelevant: greyed out,
   so no move of a control does nothing), ``on_display`` (runs when a browser
   first shows the figure, e.g. to warm a cache), ``background_key`` (what the static
   part of the figure depends on: its bitmap is then kept per key, so going back to a
   layout seen before is a blit, not a full draw), and ``cache_key`` with ``neighbours``
   (results kept by key, and the likely next values computed in the background while the
   student looks: see :mod:`course_utils.widgets.prefetch`), and ``prepare`` (heavy work
   the first result needs, e.g. random weights: see "Ready at once" below).
4. **Register** a factory (``my_explorer(**start) -> MyExplorer``) as an ``Entry`` in
   :mod:`course_utils.widgets.registry`: the contract test
   (``tests/widgets/test_explorer_contract.py``), the browser test and the benchmark read
   it. Test what only this explorer does in ``tests/chapters/chNN_*/test_chNN_explorer.py``
   (``.result`` against a direct call of the compute function, its messages), and add its
   scenarios to ``benchmarks/widget_latency.py``.

Heavy controls (a new layout, a big recompute) take ``continuous_update=False``.

Ready at once
-------------
Building an explorer must take well under a second (issue 20; ``benchmarks/widget_latency.py``
times it). Work its first result needs that costs more (drawing 384 MiB of weights, importing
torch) goes in ``prepare``: the base starts it on the background worker of
:mod:`~course_utils.widgets.prefetch` as the explorer is built (followed by the first result's
``compute`` when ``cache_key`` gives a key), and shows ``preparing_message`` as ``.message``
(``.result`` is ``None``) until it is done; then the explorer redraws itself (in a kernel, on
its event loop; elsewhere, at the next move). Setting a control meanwhile waits for it (the
contract: the assignment returns with the result). :meth:`Explorer.wait_ready` waits for it
and everything it started (tests and scripts). The static PNG of a notebook's output waits for
it too unless a live front end shows the widget (a notebook run by nbclient or nbval stores
the real picture). With ``result_needs_preparation = False`` the results never wait (e.g. a
dashboard whose Start button is what needs the preparation) and the message stays free.
"""

from __future__ import annotations

import base64
import concurrent.futures
import html
import io
import sys
import textwrap

import ipywidgets
import matplotlib.image
from matplotlib.figure import Figure

from course_utils.plots import check_figure_size
from course_utils.widgets import controls
from course_utils.widgets.canvas import make_canvas
from course_utils.widgets.controls import *  # noqa: F403 - base re-exports the controls
from course_utils.widgets.controls import _NoticesClamping, bounds, check_start
from course_utils.widgets.prefetch import ResultCache

__all__ = ["Explorer", "new_figure", *controls.__all__]


def new_figure(figsize, dpi) -> Figure:
    """An explorer's figure, after :func:`~course_utils.plots.check_figure_size` (``ValueError``)."""
    check_figure_size(figsize, dpi)
    return Figure(figsize=tuple(figsize), dpi=dpi)


class Explorer:
    """Base class: controls -> ``compute`` -> ``render`` (artists updated in place).

    Parameters
    ----------
    controls : dict of str -> ipywidgets.ValueWidget
        Named controls; their names are the keyword arguments of ``compute`` and ``render``.
    figure : matplotlib.figure.Figure
        Drawn on an ipympl canvas (see :mod:`course_utils.widgets.canvas`).
    **start
        Starting value per control (checked, see :func:`check_start_value`); controls
        not named keep theirs.
    """

    def __init__(self, controls: dict, figure: Figure, **start):
        check_start(controls, start)
        for name, value in start.items():
            controls[name].value = value
        self.controls = dict(controls)
        self.figure = figure
        self.canvas = make_canvas(figure)
        self.canvas.displayed_callbacks.append(self.on_display)
        self.result = None
        self.message = ""
        self.summary = ""
        self._results = ResultCache(self.compute)
        self._text, self._level = "", "warning"
        self._status = ipywidgets.HTML(layout=ipywidgets.Layout(min_height="1.6em"))
        self._summary = ipywidgets.HTML(layout=ipywidgets.Layout(min_height="1.6em"))
        self._animated: list = []
        self._background = None
        self._backgrounds: dict = {}  # (background_key, canvas size) -> bitmap
        self._background_id = None
        self._full_draw_requested = False
        self.figure.canvas.mpl_connect("draw_event", self._on_draw)
        for control in self.controls.values():
            control.observe(self._on_value, names="value")
            if isinstance(control, _NoticesClamping):
                control.observe(self._on_clamp, names="clamped_from")
        self.widget = ipywidgets.VBox(
            [self._control_box(), self._status, self._summary, self.canvas],
            layout=ipywidgets.Layout(width="auto"),
        )
        self._preparation = None  # Future of prepare() (and the first result), if any
        self._preparing_shown = self._stale = False
        if type(self).prepare is not Explorer.prepare:
            values = self.values
            key = self.cache_key(**values) if self.result_needs_preparation else None
            self._preparation = self._results.prepare(self.prepare, key, values)
            self._preparation.add_done_callback(self._when_prepared)
        self._update(wait=False)

    # ------------------------------------------------------------------ to override
    def compute(self, **values):  # pragma: no cover - abstract
        """Pure: the result for these control values, or ``ValueError``."""
        raise NotImplementedError

    def render(self, result, **values) -> list:  # pragma: no cover - abstract
        """Update the figure's artists in place; return the animated ones to redraw."""
        raise NotImplementedError

    def warning(self, result) -> str:
        """A note about a valid but degenerate result (shown as ``.message``), or ""."""
        return ""

    def describe(self, result, **values) -> str:
        """The result's key numbers as one line of text (shown as ``.summary``), or ""."""
        return ""

    #: Controls that :meth:`ignored_controls` may grey out (the others are left alone).
    may_ignore: tuple = ()

    def ignored_controls(self, **values) -> set:
        """Names (from ``may_ignore``) of the controls these values make irrelevant."""
        return set()

    def on_display(self):
        """Called when a browser first shows the figure."""

    def cache_key(self, **values):
        """A hashable key equal for values that give the same result, or ``None`` (the
        default: results are not kept, nothing is prefetched)."""
        return None

    def neighbours(self, **values) -> list:
        """Control values a next move would likely give, most likely first (dicts of all
        control values); their results are computed in the background once idle."""
        return []

    def prepare(self):
        """Heavy work the first result needs (weights, an import): run in the background
        from the moment the explorer is built (see "Ready at once" above). None by default."""

    #: ``.message`` while :meth:`prepare` runs.
    preparing_message = "preparing..."
    #: False: results never wait for :meth:`prepare` (only what the subclass makes wait).
    result_needs_preparation = True

    def background_key(self, **values):
        """What the non-animated part of the figure depends on (hashable), or ``None``.

        With a key, a full draw requested for a layout seen before restores that layout's
        bitmap instead (ticks and titles cost most of a full draw).
        """
        return None

    # ------------------------------------------------------------------ the loop
    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def values(self) -> dict:
        """Current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    @property
    def ready(self) -> bool:
        """True once :meth:`prepare` (if any) is done."""
        return self._preparation is None or self._preparation.done()

    def wait_ready(self, timeout: float = 300.0) -> bool:
        """Wait (at most ``timeout`` s) until :meth:`prepare` and the background work it and
        the moves started are done, and show the result; True if all of it is done."""
        idle = self._results.join(timeout)
        self._refresh_if_preparing()
        return idle and self.ready

    def update(self):
        """Recompute from the controls and redraw; never raises for bad control values.

        Waits for :meth:`prepare` if it is still running (what the values need)."""
        self._update(wait=True)

    def _update(self, wait: bool):
        preparation = self._preparation
        if preparation is not None and self.result_needs_preparation:
            if not preparation.done() and not wait:
                self._show_preparing()
                return
            concurrent.futures.wait([preparation])
            error = preparation.exception()
            if error is not None:  # shown, never raised: the explorer stays usable
                self.result, self._preparing_shown, self._stale = None, False, False
                self._set_message(f"preparing failed: {type(error).__name__}: {error}", "error")
                return
        self._preparing_shown = False
        self._stale = not self.ready  # shown before the preparation was done: refresh then
        values = self.values
        ignored = self.ignored_controls(**values)
        for name in self.may_ignore:
            self.controls[name].disabled = name in ignored
        key = self.cache_key(**values)
        try:
            result = self.compute(**values) if key is None else self._results.get(key, values)
        except ValueError as error:
            self.result = None
            self._set_message(str(error), "error")
            return
        self.result = result
        self._full_draw_requested = self._background is None
        self._animated = self.render(result, **values)
        self._set_message(self.warning(result), "warning")
        if self._stale and not self.message:
            self._set_message(self.preparing_message, "info")
        self.summary = self.describe(result, **values)
        self._summary.value = f"<code>{html.escape(self.summary)}</code>" if self.summary else ""
        layout = self.background_key(**values)
        self._background_id = None if layout is None else (layout, self.figure.bbox.bounds)
        cached = self._backgrounds.get(self._background_id) if self._full_draw_requested else None
        if self._full_draw_requested and cached is None:
            self.canvas.draw()
        else:
            self._background = cached if cached is not None else self._background
            self._blit()
        if key is not None:
            self._results.prefetch([(self.cache_key(**v), v) for v in self.neighbours(**values)])

    def _show_preparing(self):
        """The state while :meth:`prepare` runs: the figure's layout, no result yet."""
        self.result, self._preparing_shown, self._stale = None, True, True
        self._set_message(self.preparing_message, "info")
        self.summary, self._summary.value = "", ""
        self.canvas.draw()

    def _when_prepared(self, future):
        # On the background worker: in a kernel, redraw on its event loop (the main thread,
        # between two messages); elsewhere the next move or wait_ready() shows the result.
        loop = _kernel_loop()
        if loop is not None:
            loop.add_callback(self._refresh_if_preparing)

    def _refresh_if_preparing(self):
        if self._stale and self.ready:
            self.update()

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
                lo, hi = bounds(control)
                notes.append(
                    f"{name} = {raw:g} is out of range (allowed {lo:g} to {hi:g}); "
                    f"using {control.value:g}"
                )
        return notes

    def _set_message(self, text: str, level: str):
        self._text, self._level = text, level
        lines = self._clamp_notes() + ([text] if text else [])
        self.message = "\n".join(lines)
        colour = {"error": "#b00020", "warning": "#8a5a00", "info": "#555555"}[level]
        sign = "&#8987;" if level == "info" else "&#9888;"
        self._status.value = "".join(
            f'<div style="color:{colour}">{sign} {html.escape(line)}</div>' for line in lines
        )

    # ------------------------------------------------------------------ drawing
    def _on_draw(self, event):
        # A full draw skips animated artists: keep it as the background, then add them.
        canvas = self.figure.canvas
        if canvas.is_saving():  # savefig draws the animated artists too: not a background
            return
        self._background = canvas.copy_from_bbox(self.figure.bbox)
        if self._background_id is not None:
            self._backgrounds[self._background_id] = self._background
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
        return ipywidgets.GridBox(
            list(self.controls.values()),
            layout=ipywidgets.Layout(grid_template_columns="repeat(3, 300px)", grid_gap="2px 8px"),
        )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"{self.name}({args})"

    def _repr_mimebundle_(self, **kwargs):
        # The live widget in JupyterLab; a PNG of the figure where widgets cannot run
        # (GitHub, nbviewer); a stable text for nbval and terminals.
        if self._stale and not _live_front_end():
            # A stored notebook keeps this PNG: the real picture, every run. Wait for prepare()
            # (not the prefetches) and redraw, also when it ended after the build but before
            # the kernel's loop redrew the figure.
            concurrent.futures.wait([self._preparation])
            self._refresh_if_preparing()
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle["image/png"] = base64.b64encode(self.snapshot_png()).decode("ascii")
        bundle["text/plain"] = repr(self)
        return bundle

    def snapshot_png(self) -> bytes:
        """The figure as PNG bytes, with the message and summary lines the live widget shows
        above it drawn as text under the figure (where widgets cannot run, the snapshot is
        all a reader sees, so it must carry the numbers the text refers to)."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=self.figure.dpi)
        lines = []
        for text in (self.message, self.summary):
            lines += textwrap.wrap(text, width=max(40, int(self.figure.get_figwidth() * 13)))
        if not lines:
            return buffer.getvalue()
        buffer.seek(0)
        pixels = matplotlib.image.imread(buffer, format="png")
        dpi = self.figure.dpi
        line_height = 15.0  # pixels per 9-point line at 96 dpi, scaled below
        band = int(round(len(lines) * line_height * dpi / 96 + 8 * dpi / 96))
        height, width = pixels.shape[0] + band, pixels.shape[1]
        sheet = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor="white")
        sheet.figimage(pixels, xo=0, yo=band, origin="upper")
        sheet.text(
            6 / width,
            (band - 4 * dpi / 96) / height,
            "\n".join(lines),
            fontsize=9,
            family="monospace",
            va="top",
            ha="left",
        )
        out = io.BytesIO()
        sheet.savefig(out, format="png", dpi=dpi)
        return out.getvalue()


def _kernel():
    """The running IPython kernel, or None (a plain Python process, a terminal IPython)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None)


def _kernel_loop():
    """The kernel's event loop (tornado's ``add_callback`` is thread-safe), or None."""
    return getattr(_kernel(), "io_loop", None)


def _live_front_end() -> bool:
    """True if the cell runs in a front end a student works in (JupyterLab, Notebook, VS Code:
    they allow input), False under nbclient and nbval (they refuse input) and outside a
    kernel: only those wait for the real picture before the output is stored."""
    return bool(getattr(_kernel(), "_allow_stdin", False))
