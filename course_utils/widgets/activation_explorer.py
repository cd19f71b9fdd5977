"""Chapter 01's explorer: an activation, the scale and shift of its input, its output."""

from __future__ import annotations

import ipywidgets
import numpy as np
from matplotlib.figure import Figure

from course_utils import activations
from course_utils.plots import CURVE_RANGE, ActivationResponseFigure, check_figure_size
from course_utils.widgets.base import Explorer, LogSlider, _NoticesClamping

__all__ = ["ActivationExplorer", "activation_explorer", "SCALE_RANGE", "BIAS_RANGE"]

#: Range of the pre-activation std (log slider) and of the shift.
SCALE_RANGE = (0.01, 100.0)
BIAS_RANGE = (-5.0, 5.0)


class FloatSlider(_NoticesClamping, ipywidgets.FloatSlider):
    """``FloatSlider`` that records an out-of-range value in ``clamped_from``."""


class ActivationExplorer(Explorer):
    """Pre-activations z ~ N(bias, scale²) through an activation, live.

    ``result`` is the :class:`course_utils.activations.UnitResponse` of
    :func:`course_utils.activations.unit_response` for the controls' values, on one fixed
    sample of ``n`` standard-normal values (drawn once with ``seed``).
    """


    def __init__(self, activation="tanh", scale=1.0, bias=0.0, n=20_000, seed=0,
                 figsize=(8.5, 3.4), dpi=96):
        activations.unit_response("tanh", 1.0, 0.0, n=n, seed=seed)  # checks n and seed
        check_figure_size(figsize, dpi)
        self.n, self.seed = n, seed
        self.view = ActivationResponseFigure(
            Figure(figsize=figsize, dpi=dpi),
            activation if activation in activations.NAMES else "tanh", animated=True)
        style = {"description_width": "70px"}
        controls = {
            "activation": ipywidgets.Dropdown(options=activations.NAMES,
                                              description="activation", style=style),
            "scale": LogSlider(base=10, min=np.log10(SCALE_RANGE[0]), max=np.log10(SCALE_RANGE[1]),
                               step=0.02, value=1.0, description="scale", readout_format=".3g",
                               style=style),
            "bias": FloatSlider(min=BIAS_RANGE[0], max=BIAS_RANGE[1], step=0.1,
                                           value=0.0, description="bias", style=style),
        }
        super().__init__(controls, self.view.figure, activation=activation, scale=scale,
                         bias=bias)

    def compute(self, activation, scale, bias):
        return activations.unit_response(activation, scale, bias, n=self.n, seed=self.seed)

    def render(self, result, activation, scale, bias) -> list:
        if self.view.set_activation(activation):
            self.request_full_draw()  # new curves, output range and title
        return self.view.update(result)

    def background_key(self, activation, scale, bias):
        return activation

    def describe(self, result, activation, scale, bias) -> str:
        lo, hi = CURVE_RANGE
        outside = float(np.count_nonzero((result.z < lo) | (result.z > hi))) / result.z.size
        parts = [f"z ~ N({bias:.3g}, {scale:.3g}²)",
                 f"a: mean {result.mean:.3g}, std {result.std:.3g}",
                 f"saturated (|f'(z)| < {activations.SATURATION:g}): {result.saturated:.1%}"]
        if activation == "relu":
            parts.append(f"dead (z ≤ 0, f' = 0): {result.dead:.1%}")
        if outside > 0.001:
            parts.append(f"{outside:.1%} of z beyond ±{hi:g}")
        return "; ".join(parts)

    def warning(self, result) -> str:
        # ReLU's half of dead units at bias 0 is normal; warn only when most units are lost.
        if result.saturated > 0.5:
            return (f"{result.saturated:.0%} of the units are saturated: they pass back less "
                    f"than {activations.SATURATION:.0%} of their gradient")
        if result.dead > 0.75:
            return f"{result.dead:.0%} of the units are dead for this input: f'(z) = 0"
        return ""


def activation_explorer(**start) -> ActivationExplorer:
    """Build chapter 01's explorer; keyword arguments set the controls' starting values.

    Accepted: ``activation``, ``scale``, ``bias`` (controls) and ``n``, ``seed``,
    ``figsize``, ``dpi``. See :class:`ActivationExplorer`.
    """
    return ActivationExplorer(**start)
