"""Chapter 04's explorer: init std, Batch Norm on/off and batch size; per-layer histograms."""

from __future__ import annotations

import ipywidgets
import numpy as np
from matplotlib.figure import Figure

from course_utils import batchnorm as _bn
from course_utils.plots import LayerHistogramFigure, check_figure_size
from course_utils.widgets.base import Explorer, IntSlider, LogSlider

__all__ = ["BatchNormExplorer", "batchnorm_explorer"]

STD_RANGE_EXPLORER = (1e-4, 10.0)
#: y-range of the std panel: down to 1e-6, so the collapse without Batch Norm stays visible.
STD_AXIS = {"tanh": (1e-6, 2.0), "relu": (1e-6, 1e2)}
#: Activations the explorer offers (a constructor argument, not a control).
ACTIVATIONS = ("tanh", "relu")


class BatchNormExplorer(Explorer):
    """Per-layer activation histograms of a 6 x 256 network, with or without Batch Norm.

    ``result`` is the :class:`course_utils.batchnorm.ExplorerRun` of
    :func:`course_utils.batchnorm.explorer_run` for the controls' ``std``, ``batchnorm``
    and ``batch_size`` (``activation``, ``eps`` and ``seed`` fixed at construction): the
    same unit-variance weights and inputs for every move, so only the scale, the
    normalisation and the batch change.
    """

    def __init__(self, std=0.01, batchnorm=False, batch_size=64, activation="tanh",
                 eps=_bn.EPS, seed=0, figsize=(8.5, 3.6), dpi=96):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; "
                             f"got {activation!r}")
        _bn.explorer_run(1.0, True, 2, activation, depth=1, eps=eps, seed=seed)  # their checks
        check_figure_size(figsize, dpi)
        self.activation, self.eps, self.seed = activation, eps, seed
        self.view = LayerHistogramFigure(Figure(figsize=figsize, dpi=dpi), _bn.EXPLORER_DEPTH,
                                         activation, animated=True, std_range=STD_AXIS,
                                         std_labels=False)
        style = {"description_width": "80px"}
        controls = {
            "std": LogSlider(base=10, min=np.log10(STD_RANGE_EXPLORER[0]),
                             max=np.log10(STD_RANGE_EXPLORER[1]), step=0.01,
                             description="std", readout_format=".3g", style=style),
            "batchnorm": ipywidgets.Checkbox(description="batchnorm", indent=False),
            "batch_size": IntSlider(min=2, max=_bn.EXPLORER_MAX_BATCH, description="batch_size",
                                    style=style),
        }
        super().__init__(controls, self.view.figure, std=std, batchnorm=batchnorm,
                         batch_size=batch_size)

    def compute(self, std, batchnorm, batch_size):
        return _bn.explorer_run(std, batchnorm, batch_size, self.activation, eps=self.eps,
                                seed=self.seed)

    def title(self, batchnorm) -> str:
        return (f"{self.activation} network, {_bn.EXPLORER_DEPTH} layers of "
                f"{_bn.EXPLORER_WIDTH} units, {'with' if batchnorm else 'without'} Batch Norm")

    def render(self, result, std, batchnorm, batch_size) -> list:
        if self.view.set_title(self.title(batchnorm)):
            self.request_full_draw()  # the title is not animated; its bitmap is kept per key
        return self.view.update(result.activations)

    def describe(self, result, std, batchnorm, batch_size) -> str:
        stds = self.view.stats.std  # computed by render for this very result
        return ("std of a per layer: "
                + "  ".join("overflow" if not np.isfinite(s) else f"{s:.3g}" for s in stds)
                + f"   |   var(z) layer 1: {result.var_z[0]:.3g}")

    def background_key(self, std, batchnorm, batch_size):
        return batchnorm  # the title; ranges are fixed, bars, labels and std line animated

    def warning(self, result) -> str:
        if not all(np.isfinite(a).all() for a in result.activations):
            return "activations overflow: this std is far too large"
        if self.controls["batchnorm"].value:
            low = np.flatnonzero(result.var_z < 10 * self.eps)
            if low.size:
                return (f"var(z) in layer {low[0] + 1} is {result.var_z[low[0]]:.2g}, not much "
                        f"larger than eps = {self.eps:g}: Batch Norm no longer normalises to "
                        "unit variance")
            if self.controls["batch_size"].value == 2:
                return "a batch of 2: every normalised feature is -1 or +1"
        return ""


def batchnorm_explorer(**start) -> BatchNormExplorer:
    """Build chapter 04's explorer; keyword arguments set the controls' starting values.

    Accepted: ``std``, ``batchnorm``, ``batch_size`` (controls) and ``activation``,
    ``eps``, ``seed``, ``figsize``, ``dpi``. See :class:`BatchNormExplorer`.
    """
    return BatchNormExplorer(**start)
