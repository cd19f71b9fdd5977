"""Chapter 01's explorer: an activation, the scale and shift of its input, its output.

:class:`ActivationResponseFigure` is its view, :func:`.runs.unit_response` its compute.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from course_utils import activations
from course_utils.chapters.ch01_activations.figures import (
    ACTIVATION_TITLES,
    CURVE_RANGE,
    activation_curve,
)
from course_utils.chapters.ch01_activations.runs import (
    MAX_SAMPLES,
    SATURATION,
    UnitResponse,
    unit_response,
)
from course_utils.plots import MAX_BINS, uniform_bin_counts
from course_utils.validation import check_int, fixed_seed
from course_utils.widgets.base import Explorer, check_start, log_range, make_controls, new_figure

__all__ = [
    "ActivationExplorer",
    "activation_explorer",
    "ActivationResponseFigure",
    "SCALE_RANGE",
    "BIAS_RANGE",
    "OUTPUT_RANGE",
]

#: Range of the pre-activation std (log slider) and of the shift.
SCALE_RANGE = (0.01, 100.0)
BIAS_RANGE = (-5.0, 5.0)
#: x-range of each activation's output histogram.
OUTPUT_RANGE = {
    "tanh": (-1.1, 1.1),
    "sigmoid": (-0.1, 1.1),
    "relu": (-1.0, 5.0),
    "leaky_relu": (-1.0, 5.0),
    "elu": (-1.5, 5.0),
    "gelu": (-1.0, 5.0),
    "silu": (-1.0, 5.0),
    "softplus": (-1.0, 5.0),
}


class ActivationResponseFigure:
    """Chapter 01's explorer view: the input distribution on the curve, the output histogram.

    Left: f(z) and f'(z) on [-6, 6] (static per activation) and a histogram of the
    pre-activations z (animated; the share beyond ±6 is in the explorer's summary). Right:
    the histogram of the outputs a = f(z) on :data:`OUTPUT_RANGE` (animated); ReLU's dead
    units (a = 0 exactly) are left out of the bars and counted in the summary.
    Both histograms are scaled to their own peak.
    """

    def __init__(
        self, figure: Figure, activation: str = "tanh", bins: int = 60, animated: bool = False
    ):
        if not isinstance(figure, Figure):
            raise ValueError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
        self.figure = figure
        self.bins = check_int("bins", bins, 1, MAX_BINS)
        width, height = figure.get_size_inches()
        self.curve_axes = figure.add_axes(
            _inches(figure, 0.5, 0.45, width / 2 - 0.75, height - 0.8)
        )
        self.out_axes = figure.add_axes(
            _inches(figure, width / 2 + 0.35, 0.45, width / 2 - 0.55, height - 0.8)
        )
        self.z_edges = np.linspace(*CURVE_RANGE, self.bins + 1)
        self.z_bars = self.curve_axes.stairs(
            np.zeros(self.bins),
            self.z_edges,
            fill=True,
            color="0.6",
            alpha=0.5,
            animated=animated,
            label="z (input)",
        )
        self.out_bars = self.out_axes.stairs(
            np.zeros(self.bins),
            np.arange(self.bins + 1.0),
            fill=True,
            color="C0",
            animated=animated,
        )
        self.curve_axes.set_xlim(*CURVE_RANGE)
        self.curve_axes.set_ylim(-1.6, 3.2)
        self.curve_axes.set_xlabel("pre-activation z", fontsize=9)
        self.out_axes.set_ylim(0, 1.05)
        self.out_axes.set_yticks([])
        self.out_axes.set_xlabel("output a = f(z)", fontsize=9)
        for ax in (self.curve_axes, self.out_axes):
            ax.tick_params(labelsize=8)
        self._curves = []
        self.activation = None
        self.set_activation(activation)

    @property
    def artists(self) -> list:
        return [self.z_bars, self.out_bars]

    def set_activation(self, activation: str) -> bool:
        """Draw this activation's curves and output range; ``True`` if anything changed."""
        activations.get(activation)
        if activation == self.activation:
            return False
        self.activation = activation
        for line in self._curves:
            line.remove()
        z = np.linspace(*CURVE_RANGE, 401)
        f, df = activation_curve(activation, z, leaky_slope=0.01)
        self._curves = [
            self.curve_axes.plot(z, f, color="C0", lw=1.8, label="f(z)")[0],
            self.curve_axes.plot(z, df, color="C3", lw=1.4, ls="--", label="f'(z)")[0],
        ]
        self.curve_axes.legend(fontsize=8, loc="upper left", frameon=False)
        self.curve_axes.set_title(f"{ACTIVATION_TITLES[activation]} and the input z", fontsize=10)
        lo, hi = OUTPUT_RANGE[activation]
        self.out_edges = np.linspace(lo, hi, self.bins + 1)
        self.out_bars.set_data(np.zeros(self.bins), self.out_edges)
        self.out_axes.set_xlim(lo, hi)
        self.out_axes.set_title(f"histogram of the outputs ({activation})", fontsize=10)
        return True

    def update(self, response) -> list:
        """Show a :class:`~course_utils.chapters.ch01_activations.runs.UnitResponse`; returns
        the artists."""
        if not isinstance(response, UnitResponse):
            raise ValueError(f"response must be a UnitResponse; got {type(response).__name__}")
        z_bars = _peak_scaled(response.z, *CURVE_RANGE, self.bins) * 3.0
        self.z_bars.set_data(z_bars, self.z_edges)
        a = response.a[response.z > 0] if response.activation == "relu" else response.a
        out_bars = _peak_scaled(a, *OUTPUT_RANGE[self.activation], self.bins)
        self.out_bars.set_data(out_bars, self.out_edges)
        return self.artists


def _peak_scaled(values, low, high, bins) -> np.ndarray:
    """Counts of ``values`` in ``bins`` bins on [low, high], scaled to a peak of 1 (or all 0)."""
    counts = uniform_bin_counts(values, low, high, bins).astype(float)
    peak = counts.max()
    return counts / peak if peak > 0 else counts


def _inches(figure: Figure, left, bottom, width, height):
    w, h = figure.get_size_inches()
    return [left / w, bottom / h, max(width, 0.1) / w, max(height, 0.1) / h]


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
            f"saturated (|f'(z)| < {SATURATION:g}): {result.saturated:.1%}",
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
