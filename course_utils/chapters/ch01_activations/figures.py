"""Chapter 01's static figure: every activation with its derivative."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from course_utils import activations
from course_utils.plots import check_figure_size
from course_utils.validation import check_array, check_choice, check_real, check_sequence

__all__ = [
    "CURVE_RANGE",
    "MAXOUT_EXAMPLE",
    "ACTIVATION_TITLES",
    "activation_curve",
    "plot_activation_functions",
]

#: x-range of the activation curves (the figure and the explorer).
CURVE_RANGE = (-6.0, 6.0)
#: Pieces of the one-dimensional Maxout example: slopes and intercepts of k = 3 lines.
MAXOUT_EXAMPLE = ((-0.5, -0.5), (0.3, 0.0), (1.2, -1.0))
ACTIVATION_TITLES = {
    "sigmoid": "sigmoid σ(z)",
    "tanh": "tanh(z)",
    "relu": "ReLU",
    "leaky_relu": "Leaky ReLU",
    "elu": "ELU (α = 1)",
    "maxout": "Maxout (k = 3)",
    "gelu": "GELU",
    "silu": "SiLU / Swish",
    "softplus": "softplus",
}


def activation_curve(name: str, z: np.ndarray, leaky_slope: float = 0.1):
    """``(f(z), f'(z))`` for the figure: the registry's pairs, Leaky ReLU with a visible
    slope, and :data:`MAXOUT_EXAMPLE` as a one-input Maxout (max of 3 lines).

    Parameters
    ----------
    name : str
        A key of :data:`ACTIVATION_TITLES`.
    z : ndarray, shape (n,)
    leaky_slope : float
        Leaky ReLU's ``negative_slope``.

    Returns
    -------
    f, df : ndarray, shape (n,)
    """
    check_choice("name", name, tuple(ACTIVATION_TITLES))
    z = check_array("z", z, ndim=1)
    leaky_slope = check_real("leaky_slope", leaky_slope)
    if name == "maxout":
        W = np.array([[[w]] for w, _ in MAXOUT_EXAMPLE])
        b = np.array([[c] for _, c in MAXOUT_EXAMPLE])
        out, cache = activations.maxout_forward(z[:, None], W, b)
        dx, _, _ = activations.maxout_backward(np.ones_like(out), cache)
        return out[:, 0], dx[:, 0]
    if name == "leaky_relu":
        return (
            activations.leaky_relu(z, negative_slope=leaky_slope),
            activations.leaky_relu_grad(z, negative_slope=leaky_slope),
        )
    f, df = activations.get(name)
    return f(z), df(z)


def plot_activation_functions(
    names=("sigmoid", "tanh", "relu", "leaky_relu", "elu", "maxout", "gelu", "silu", "softplus"),
    figsize=(9.0, 6.6),
    dpi: int = 96,
    figure: Figure | None = None,
) -> Figure:
    """Each activation (solid) with its derivative (dashed) on z in [-6, 6], three a row.

    Leaky ReLU is drawn with slope 0.1 (0.01 would look like ReLU), Maxout as the max of the
    three lines of :data:`MAXOUT_EXAMPLE`.

    Parameters
    ----------
    names : sequence of str
        Keys of :data:`ACTIVATION_TITLES`, one panel each.
    figsize, dpi
        Of the new figure (when ``figure`` is None).
    figure : matplotlib.figure.Figure, optional
        Draw on this (empty) figure instead.

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = check_sequence(
        "names",
        names,
        lambda name, value: check_choice(name, value, tuple(ACTIVATION_TITLES)),
        max_len=3 * 12,
    )
    if figure is None:
        check_real("dpi", dpi, low=10)  # below, FreeType refuses the fonts
        check_figure_size(figsize, dpi)
        figure = Figure(figsize=figsize, dpi=dpi)
    elif not isinstance(figure, Figure):
        raise ValueError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
    rows = max(1, math.ceil(len(names) / 3))
    grid = figure.add_gridspec(
        rows, 3, left=0.06, right=0.98, bottom=0.06, top=0.93, hspace=0.45, wspace=0.25
    )
    z = np.linspace(*CURVE_RANGE, 601)
    for i, name in enumerate(names):
        ax = figure.add_subplot(grid[i // 3, i % 3])
        f, df = activation_curve(name, z)
        ax.axhline(0, color="0.8", lw=0.8)
        ax.axvline(0, color="0.8", lw=0.8)
        ax.plot(z, f, color="C0", lw=1.8, label="f(z)")
        ax.plot(z, df, color="C3", lw=1.4, ls="--", label="f'(z)")
        ax.set_title(ACTIVATION_TITLES[name], fontsize=10)
        ax.set_xlim(*CURVE_RANGE)
        ax.set_ylim(-1.6, 3.2)
        ax.tick_params(labelsize=8)
        if i == 0:
            ax.legend(fontsize=8, loc="upper left", frameon=False)
    figure.suptitle("Activation functions (solid) and their derivatives (dashed)", fontsize=11)
    return figure
