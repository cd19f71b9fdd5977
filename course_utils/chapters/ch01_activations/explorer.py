"""Chapter 01's explorer: an activation, the scale and shift of its input, its output.

:func:`.runs.unit_response` is its compute, :class:`.figures.ActivationResponseFigure` its view.
"""

from __future__ import annotations

import numpy as np

from course_utils import activations
from course_utils.chapters.ch01_activations.figures import CURVE_RANGE, ActivationResponseFigure
from course_utils.chapters.ch01_activations.runs import MAX_SAMPLES, SATURATION, unit_response
from course_utils.validation import check_int, fixed_seed
from course_utils.widgets.base import Explorer, check_start, log_range, make_controls, new_figure

__all__ = [
    "ActivationExplorer",
    "activation_explorer",
    "SCALE_RANGE",
    "BIAS_RANGE",
]

#: Range of the pre-activation std (log slider) and of the shift.
SCALE_RANGE = (0.01, 100.0)
BIAS_RANGE = (-5.0, 5.0)


class ActivationExplorer(Explorer):
    """Pre-activations z ~ N(bias, scale²) through an activation, live.

    ``result`` is the :class:`.runs.UnitResponse` of :func:`.runs.unit_response` for the
    controls' values, on one fixed sample of ``n`` standard-normal values (drawn once with
    ``seed``; a Generator gives the integer seed of that sample).
    """

    def __init__(
        self, activation="tanh", scale=1.0, bias=0.0, n=20_000, seed=0, figsize=(8.5, 3.4), dpi=96
    ):
        controls = make_controls(
            activation=activations.NAMES,
            scale=log_range(*SCALE_RANGE, 0.02),
            bias=(*BIAS_RANGE, 0.1),
        )
        start = dict(activation=activation, scale=scale, bias=bias)
        check_start(controls, start)  # before the figure: a mistake costs no drawing
        self.n = check_int("n", n, 1, MAX_SAMPLES)
        seed = fixed_seed("seed", seed)  # the same draws on every call
        self.seed = seed
        self.view = ActivationResponseFigure(new_figure(figsize, dpi), activation, animated=True)
        super().__init__(controls, self.view.figure, **start)

    def compute(self, activation, scale, bias):
        return unit_response(activation, scale, bias, n=self.n, seed=self.seed)

    def render(self, result, activation, scale, bias) -> list:
        if self.view.set_activation(activation):
            self.request_full_draw()  # new curves, output range and title
        return self.view.update(result)

    def background_key(self, activation, scale, bias):
        return activation

    def describe(self, result, activation, scale, bias) -> str:
        lo, hi = CURVE_RANGE
        outside = float(np.count_nonzero((result.z < lo) | (result.z > hi))) / result.z.size
        parts = [
            f"z ~ N({bias:.3g}, {scale:.3g}²)",
            f"a: mean {result.mean:.3g}, std {result.std:.3g}",
            f"saturated (flat tail, |f'(z)| < {SATURATION:g}): {result.saturated:.1%}",
        ]
        if activation == "relu":
            parts.append(f"dead (z ≤ 0, f' = 0): {result.dead:.1%}")
        if outside > 0.001:
            parts.append(f"{outside:.1%} of z beyond ±{hi:g}")
        return "; ".join(parts)

    def warning(self, result) -> str:
        # ReLU's half of dead units at bias 0 is normal; warn only when most units are lost.
        if result.saturated > 0.5:
            return (
                f"{result.saturated:.0%} of the units are saturated: they pass back less "
                f"than {SATURATION:.0%} of their gradient"
            )
        if result.dead > 0.75:
            return f"{result.dead:.0%} of the units are dead for this input: f'(z) = 0"
        return ""


def activation_explorer(**start) -> ActivationExplorer:
    """Build chapter 01's explorer; keyword arguments set the controls' starting values.

    Accepted: ``activation``, ``scale``, ``bias`` (controls) and ``n``, ``seed``,
    ``figsize``, ``dpi``. See :class:`ActivationExplorer`.
    """
    return ActivationExplorer(**start)
