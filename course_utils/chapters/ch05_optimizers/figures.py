"""Chapter 05's static figures: the optimiser family graph and the digits race's curves."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from course_utils.validation import check_int, check_sequence

__all__ = ["FAMILY_EDGES", "plot_family_graph", "plot_loss_curves"]


#: The lecture's family graph: (parent, child) edges.
FAMILY_EDGES = (
    ("SGD", "Momentum"),
    ("SGD", "AdaGrad"),
    ("AdaGrad", "RMSProp"),
    ("AdaGrad", "AdaDelta"),
    ("Momentum", "Adam"),
    ("RMSProp", "Adam"),
    ("Adam", "AdamW"),
)

_FAMILY_POSITIONS = {
    "SGD": (0, 0),
    "Momentum": (1, 0.8),
    "AdaGrad": (1, -0.8),
    "RMSProp": (2, -0.3),
    "AdaDelta": (2, -1.3),
    "Adam": (3, 0.25),
    "AdamW": (4, 0.25),
}
_FAMILY_NOTES = {
    "SGD": "θ -= η g",
    "Momentum": "velocity\n(Polyak 1964)",
    "AdaGrad": "Σ g², per coordinate\n(Duchi+ 2011)",
    "RMSProp": "running mean of g²\n(Tieleman & Hinton 2012)",
    "AdaDelta": "units: RMS[Δθ]/RMS[g]\n(Zeiler 2012)",
    "Adam": "m and v, bias-corrected\n(Kingma & Ba 2015)",
    "AdamW": "decoupled decay\n(Loshchilov & Hutter 2019)",
}


def plot_family_graph(ax):
    """Draw the lecture's optimiser family graph on ``ax`` (matplotlib only, no graphviz).

    Returns
    -------
    list of matplotlib artists (the boxes, then the arrows).
    """
    check_axes("ax", ax)
    boxes, arrows = [], []
    for name, (x, y) in _FAMILY_POSITIONS.items():
        boxes.append(
            ax.text(
                x,
                y,
                name,
                ha="center",
                va="center",
                fontsize=11,
                bbox=dict(boxstyle="round,pad=0.4", fc="#e8f0fe", ec="#3367d6"),
            )
        )
        boxes.append(
            ax.text(
                x, y - 0.3, _FAMILY_NOTES[name], ha="center", va="top", fontsize=7.5, color="#444"
            )
        )
    for parent, child in FAMILY_EDGES:
        (x0, y0), (x1, y1) = _FAMILY_POSITIONS[parent], _FAMILY_POSITIONS[child]
        arrows.append(
            ax.annotate(
                "",
                xy=(x1 - 0.3, y1),
                xytext=(x0 + 0.3, y0),
                arrowprops=dict(arrowstyle="->", color="#555", lw=1.3),
            )
        )
    ax.set_xlim(-0.5, 4.6)
    ax.set_ylim(-2.1, 1.3)
    ax.set_axis_off()
    return boxes + arrows


def plot_loss_curves(axes, results: dict, smooth: int = 5):
    """Minibatch loss (moving average over ``smooth`` steps) per optimiser on ``axes[0]``,
    validation accuracy per epoch on ``axes[1]``; ``results`` as :func:`digits_race`.
    Returns the lines."""
    axes = check_sequence("axes", axes, item=check_axes, min_len=2, max_len=2)
    smooth = check_int("smooth", smooth, 1, 1000)
    if not isinstance(results, dict) or not results:
        raise ValueError(
            f"results must be a non-empty dict as digits_race returns; got {type(results).__name__}"
        )
    for label, value in results.items():
        if not (isinstance(value, tuple) and len(value) == 2 and hasattr(value[0], "step_loss")):
            raise ValueError(
                f"results[{label!r}] must be (History, weight norm) as digits_race returns"
            )
    lines = []
    for label, (history, _) in results.items():
        loss = np.asarray(history.step_loss)
        k = min(smooth, len(loss))
        avg = np.convolve(loss, np.ones(k) / k, mode="valid")
        lines += axes[0].plot(np.arange(k, len(loss) + 1), avg, label=label, lw=1.3)
        lines += axes[1].plot(history.eval_step, history.val_acc, marker="o", ms=3, label=label)
    axes[0].set(xlabel="step", ylabel="minibatch loss", yscale="log")
    axes[1].set(xlabel="step", ylabel="validation accuracy")
    axes[1].legend(fontsize=7, loc="lower right")
    return lines


def check_axes(name: str, ax) -> Axes:
    """``ax`` if it is a matplotlib ``Axes``, else ``ValueError`` (the chapter's plots draw on it)."""
    if not isinstance(ax, Axes):
        raise ValueError(f"{name} must be a matplotlib Axes; got {type(ax).__name__}")
    return ax
