"""Chapter 03's explorer: weight-init scheme, std, activation, depth and width."""

from __future__ import annotations

import numpy as np
import ipywidgets
from matplotlib.figure import Figure

from course_utils import activations as _activations
from course_utils.init import SCHEMES, forward_activations, init_std, validate_experiment
from course_utils.plots import HIST_RANGE, LayerHistogramFigure
from course_utils.widgets.base import Explorer, IntSlider, LogSlider

__all__ = ["InitExplorer", "init_explorer", "WIDTHS"]

#: Widths the explorer offers. At 4096 a move costs a 6 x 4096 x 4096 forward pass.
WIDTHS = (64, 256, 1024, 2048, 4096)
#: Activations the explorer offers: those the histograms have a fixed range for.
ACTIVATIONS = tuple(a for a in _activations.NAMES if a in HIST_RANGE)
STD_RANGE = (1e-4, 10.0)
DEPTH_RANGE = (1, 10)


def _check_defaults(scheme, std, activation, depth, width, n_samples, seed):
    # The controls would raise traitlets errors or clamp silently: say what is allowed.
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}; got {scheme!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}")
    if not (isinstance(std, (int, float)) and STD_RANGE[0] <= std <= STD_RANGE[1]):
        raise ValueError(f"std must be a number between {STD_RANGE[0]:g} and {STD_RANGE[1]:g}; "
                         f"got {std!r}")
    if isinstance(depth, bool) or depth not in range(DEPTH_RANGE[0], DEPTH_RANGE[1] + 1):
        raise ValueError(f"depth must be an integer between {DEPTH_RANGE[0]} and "
                         f"{DEPTH_RANGE[1]}; got {depth!r}")
    if isinstance(width, bool) or width not in WIDTHS:
        raise ValueError(f"width must be one of {', '.join(map(str, WIDTHS))}; got {width!r}")
    # n_samples and seed: the compute function's own checks, without computing anything
    validate_experiment(depth, width, n_samples, activation, scheme, std, seed)


class InitExplorer(Explorer):
    """Per-layer activation histograms and std of the lecture's network, live.

    ``result`` is the list returned by
    :func:`course_utils.init.forward_activations` for the current controls (``n_samples``
    and ``seed`` are fixed at construction).
    """

    name = "InitExplorer"

    def __init__(self, scheme="normal", std=0.01, activation="tanh", depth=6, width=4096,
                 n_samples=16, seed=0, figsize=(8.5, 4.0), dpi=96):
        _check_defaults(scheme, std, activation, depth, width, n_samples, seed)
        self.n_samples = n_samples
        self.seed = seed
        style = {"description_width": "70px"}
        controls = {
            "scheme": ipywidgets.Dropdown(options=SCHEMES, value=scheme,
                                          description="scheme", style=style),
            "std": LogSlider(value=std, base=10, min=np.log10(STD_RANGE[0]),
                             max=np.log10(STD_RANGE[1]), step=0.01,
                             description="std", readout_format=".3g", style=style),
            "activation": ipywidgets.Dropdown(options=ACTIVATIONS, value=activation,
                                              description="activation", style=style),
            # A new depth rebuilds the axes (~0.2 s) and a new width draws new weights
            # the first time: update on release, not on every step of a drag.
            "depth": IntSlider(value=depth, min=DEPTH_RANGE[0], max=DEPTH_RANGE[1],
                               description="depth", style=style, continuous_update=False),
            "width": ipywidgets.SelectionSlider(options=WIDTHS, value=width, description="width",
                                                style=style, continuous_update=False),
        }
        self._plot = None
        super().__init__(controls, Figure(figsize=figsize, dpi=dpi))
        controls["scheme"].observe(self._sync_std_enabled, names="value")
        self._sync_std_enabled()
        self.update()

    def compute(self, scheme, std, activation, depth, width):
        return forward_activations(depth=depth, width=width, n_samples=self.n_samples,
                                   activation=activation, scheme=scheme, std=std,
                                   seed=self.seed)

    def layout(self, scheme, std, activation, depth, width) -> bool:
        plot = self._plot
        if plot is not None and plot.depth == depth and plot.activation == activation:
            return False
        self._plot = LayerHistogramFigure(self.figure, depth, activation, animated=True)
        return True

    def render(self, result, scheme, std, activation, depth, width) -> list:
        # The title changes with the layout, not with std: std moves stay blitted.
        sigma = "std" if scheme == "normal" else f"{init_std(scheme, width, width):.3g}"
        title = (f"{activation}, {scheme} init: W ~ N(0, {sigma}²), "
                 f"{depth} layers x {width} units, {self.n_samples} samples")
        if self._plot.set_title(title):
            self.request_full_draw()
        return self._plot.update(result)

    def warning(self, result) -> str:
        for layer, a in enumerate(result, start=1):
            if not np.isfinite(a).all():
                return (f"activations overflow float32 from layer {layer} on: this std is "
                        "far too large for the activation")
        return ""

    def _sync_std_enabled(self, change=None):
        # std only matters for the "normal" scheme; Xavier and Kaiming derive it.
        self.controls["std"].disabled = self.controls["scheme"].value != "normal"


def init_explorer(**defaults) -> InitExplorer:
    """Build chapter 03's explorer; keyword arguments set the controls' starting values.

    Accepted: ``scheme``, ``std``, ``activation``, ``depth``, ``width`` (controls) and
    ``n_samples``, ``seed``, ``figsize``, ``dpi``. See :class:`InitExplorer`.
    """
    return InitExplorer(**defaults)
