"""Chapter 03's explorer: weight-init scheme, std, activation, depth and width.

:func:`.runs.forward_pass` is its compute (a corner of the 4096-wide network),
:class:`course_utils.plots.LayerHistogramFigure` its view.
"""

from __future__ import annotations

import concurrent.futures

import ipywidgets
import numpy as np

from course_utils import weight_cache
from course_utils.chapters.ch03_initialization.figures import tidy_std_axis
from course_utils.chapters.ch03_initialization.runs import Experiment, forward_pass
from course_utils.init import SCHEMES, init_std
from course_utils.plots import HIST_RANGE, STD_RANGE, LayerHistogramFigure
from course_utils.widgets.base import Explorer, check_start, log_range, make_controls, new_figure

__all__ = ["InitExplorer", "init_explorer", "WIDTHS", "STD_SLIDER"]

#: Widths the explorer offers; a narrower network is a corner of the 4096-wide one.
WIDTHS = (64, 256, 1024, 2048, 4096)
#: Activations the explorer offers: those the histograms have a fixed range for.
ACTIVATIONS = tuple(HIST_RANGE)
#: The weight std control (1e-4 to 10, log scale); chapter 04's explorer uses it too.
STD_SLIDER = log_range(1e-4, 10.0)
MAX_DEPTH = 10


class InitExplorer(Explorer):
    """Per-layer activation histograms and std of the lecture's network, live.

    ``result`` is the list of per-layer activations of the network the controls describe
    (``n_samples`` and ``seed`` fixed at construction). Its weights are the top-left
    corner of the 4096-wide network's (see :mod:`course_utils.weight_cache`), so at width
    4096 it equals :func:`.runs.forward_activations` and any width costs no new
    weights.
    """

    def __init__(
        self,
        scheme="normal",
        std=0.01,
        activation="tanh",
        depth=6,
        width=4096,
        n_samples=16,
        seed=0,
        figsize=(8.5, 4.6),
        dpi=96,
    ):
        # n_samples and seed: the experiment's own checks, for the largest network offered
        Experiment(depth=MAX_DEPTH, width=max(WIDTHS), n_samples=n_samples, seed=seed)
        controls = make_controls(
            scheme=SCHEMES,
            std=STD_SLIDER,
            activation=ACTIVATIONS,
            depth=(1, MAX_DEPTH, 1),
            width=ipywidgets.SelectionSlider(
                options=WIDTHS, description="width", style={"description_width": "initial"}
            ),
        )
        start = dict(scheme=scheme, std=std, activation=activation, depth=depth, width=width)
        check_start(controls, start)  # before the figure: a mistake costs no drawing
        self.n_samples, self.seed = n_samples, seed
        self._start_depth = depth  # prepare() draws these layers in the background
        self._deeper = None  # the deeper layers' drawing, started by on_display
        # All MAX_DEPTH panels are laid out once (the contract: axes are never rebuilt); the
        # panels beyond the current depth are hidden, so no picture shows empty panels.
        self.view = self._new_view(new_figure(figsize, dpi), MAX_DEPTH, activation)
        super().__init__(controls, self.view.figure, **start)

    @staticmethod
    def _new_view(figure, panels, activation) -> LayerHistogramFigure:
        view = LayerHistogramFigure(
            figure, panels, activation, animated=True, std_range=STD_RANGE, std_labels=False
        )
        tidy_std_axis(view.std_axes)
        return view

    preparing_message = (
        "preparing: drawing the network's random weights (4096 x 4096 per layer); "
        "the histograms appear in a moment"
    )

    def prepare(self):
        # The start's layers (384 MiB for the lecture's six), two at a time, on the
        # background worker; the base then computes the first result there too.
        weight_cache.draw_layers(self.seed, max(WIDTHS), self._start_depth)

    def update(self):
        # A move deeper than the start waits for the deeper layers being drawn (on_display)
        # instead of drawing them a second time (the move's thread never runs on the worker).
        deeper = self._deeper
        if deeper is not None and self.controls["depth"].value > self._start_depth:
            concurrent.futures.wait([deeper])
        super().update()

    may_ignore = ("std",)

    def ignored_controls(self, scheme, **values) -> set:
        # std only matters for the "normal" scheme; Xavier and Kaiming derive it.
        return set() if scheme == "normal" else {"std"}

    @property
    def experiment(self) -> Experiment:
        """The :class:`~.runs.Experiment` the controls describe now."""
        return self._experiment(**self.values)

    def _experiment(self, scheme, std, activation, depth, width) -> Experiment:
        return Experiment(depth, width, self.n_samples, activation, scheme, std, self.seed)

    def compute(self, **values):
        activations = forward_pass(self._experiment(**values), max(WIDTHS)).activations
        for a in activations:  # results are kept and shared: nobody may change them
            a.flags.writeable = False
        return activations

    def cache_key(self, scheme, std, activation, depth, width):
        # The network only sees the float32 weight std: equal keys, identical results.
        try:
            sigma = np.float32(init_std(scheme, width, width, std=std))
        except ValueError:
            return ("invalid", scheme, std)  # compute raises the message; nothing to share
        return (activation, depth, width, sigma)

    def neighbours(self, scheme, std, activation, depth, width) -> list:
        """One keyboard step of each slider, the dropdowns' other options, then depth's ends."""
        now = dict(scheme=scheme, std=std, activation=activation, depth=depth, width=width)
        steps = []
        if scheme == "normal" and np.isfinite(std) and std > 0:
            control = self.controls["std"]
            exponent = round(np.log10(std) / control.step) * control.step
            steps += [
                dict(now, std=float(10 ** (exponent + d * control.step)))
                for d in (1, -1)
                if control.min <= exponent + d * control.step <= control.max
            ]
        steps += [dict(now, depth=d) for d in (depth + 1, depth - 1) if 1 <= d <= MAX_DEPTH]
        i = WIDTHS.index(width) if width in WIDTHS else -1
        steps += [dict(now, width=WIDTHS[j]) for j in (i + 1, i - 1) if 0 <= j < len(WIDTHS)]
        steps += [dict(now, scheme=s) for s in SCHEMES if s != scheme]
        steps += [dict(now, activation=a) for a in ACTIVATIONS if a != activation]
        # the slider's ends, last: a click there, or End / Home, jumps straight to them
        steps += [dict(now, depth=d) for d in (MAX_DEPTH, 1) if abs(d - depth) > 1]
        return steps

    def render(self, result, scheme, std, activation, depth, width) -> list:
        if self._show_layers(depth):
            self.request_full_draw()  # panels appeared or disappeared
        if self.view.set_activation(activation):
            self.request_full_draw()  # new histogram range: new ticks
        if self.view.set_title(
            f"{activation} network, activations per layer, {self.n_samples} samples"
        ):
            self.request_full_draw()
        artists = self.view.update(result)
        for layer in range(depth, self.view.panels):  # hidden panels: draw nothing of theirs
            for artist in (self.view.bars[layer], self.view.labels[layer], self.view.covers[layer]):
                artist.set_visible(False)
        return artists

    def _show_layers(self, depth) -> bool:
        """Show the first ``depth`` histogram panels, hide the rest; True if any changed."""
        changed = False
        for layer, ax in enumerate(self.view.hist_axes):
            shown = layer < depth
            if ax.get_visible() != shown:
                ax.set_visible(shown)
                self.view.bars[layer].set_visible(shown)
                self.view.labels[layer].set_visible(shown)
                changed = True
        return changed

    def describe(self, result, scheme, std, activation, depth, width) -> str:
        stds = self.view.stats.std  # computed by render for this very result
        sigma = init_std(scheme, width, width, std=std)
        return f"W ~ N(0, {sigma:.3g}²); std of a per layer: " + "  ".join(
            "overflow" if not np.isfinite(s) else f"{s:.3g}" for s in stds
        )

    def background_key(self, scheme, std, activation, depth, width):
        # The layout, the histograms' range and the title; the rest is animated.
        return activation, depth  # the visible panels and the histogram range

    def warning(self, result) -> str:
        for layer, a in enumerate(result, start=1):
            if not np.isfinite(a).all():
                return (
                    f"activations overflow float32 from layer {layer} on: this std is "
                    "far too large for the activation"
                )
        return ""

    def on_display(self):
        # Draw the deepest network's weights in the background, once a student can see
        # the explorer: a new depth then costs no new weights (640 MiB for 10 x 4096).
        # After prepare() on the same worker; wait_ready() waits for it too.
        if self._deeper is None:
            seed, width = self.seed, max(WIDTHS)
            self._deeper = self._results.prepare(
                lambda: weight_cache.draw_layers(seed, width, MAX_DEPTH)
            )


def init_explorer(**start) -> InitExplorer:
    """Build chapter 03's explorer; keyword arguments set the controls' starting values.

    Accepted: ``scheme``, ``std``, ``activation``, ``depth``, ``width`` (controls) and
    ``n_samples``, ``seed``, ``figsize``, ``dpi``. See :class:`InitExplorer`.
    """
    return InitExplorer(**start)
