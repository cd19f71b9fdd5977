"""Chapter 04's explorer: init std, Batch Norm on/off and batch size; per-layer histograms.

:func:`~course_utils.chapters.ch04_batchnorm.runs.explorer_run` computes one move (a direct
call gives the same numbers); :class:`BatchNormExplorer` draws it.
"""

from __future__ import annotations

import numpy as np

from course_utils.batchnorm import EPS
from course_utils.chapters.ch03_initialization.explorer import STD_SLIDER
from course_utils.chapters.ch04_batchnorm.runs import (
    EXPLORER_ACTIVATIONS,
    EXPLORER_DEPTH,
    EXPLORER_MAX_BATCH,
    EXPLORER_WIDTH,
    explorer_run,
)
from course_utils.plots import LayerHistogramFigure
from course_utils.validation import MAX_SEED, check_choice, check_int, check_real
from course_utils.widgets.base import Explorer, check_start, make_controls, new_figure

__all__ = ["BatchNormExplorer", "batchnorm_explorer"]

#: y-range of the std panel: down to 1e-6, so the collapse without Batch Norm stays visible.
STD_AXIS = {"tanh": (1e-6, 2.0), "relu": (1e-6, 1e2)}


class BatchNormExplorer(Explorer):
    """Per-layer activation histograms of a 6 x 256 network, with or without Batch Norm.

    ``result`` is the :class:`~course_utils.chapters.ch04_batchnorm.runs.ExplorerRun` of
    :func:`~course_utils.chapters.ch04_batchnorm.runs.explorer_run` for the controls' ``std``,
    ``batchnorm`` and ``batch_size`` (``activation``, ``eps`` and ``seed`` fixed at construction): the
    same unit-variance weights and inputs for every move, so only the scale, the
    normalisation and the batch change.
    """

    def __init__(
        self,
        std=0.01,
        batchnorm=False,
        batch_size=64,
        activation="tanh",
        eps=EPS,
        seed=0,
        figsize=(8.5, 3.6),
        dpi=96,
    ):
        controls = make_controls(
            std=STD_SLIDER, batchnorm=False, batch_size=(2, EXPLORER_MAX_BATCH, 1)
        )
        start = dict(std=std, batchnorm=batchnorm, batch_size=batch_size)
        check_start(controls, start)  # before the figure: a mistake costs no drawing
        self.activation = check_choice("activation", activation, EXPLORER_ACTIVATIONS)
        self.eps = check_real("eps", eps, 0.0, low_open=True)
        self.seed = check_int("seed", seed, 0, MAX_SEED)
        self.view = LayerHistogramFigure(
            new_figure(figsize, dpi),
            EXPLORER_DEPTH,
            activation,
            animated=True,
            std_range=STD_AXIS,
            std_labels=False,
        )
        super().__init__(controls, self.view.figure, **start)

    def compute(self, std, batchnorm, batch_size):
        return explorer_run(
            std, batchnorm, batch_size, self.activation, eps=self.eps, seed=self.seed
        )

    def title(self, batchnorm) -> str:
        return (
            f"{self.activation} network, {EXPLORER_DEPTH} layers of "
            f"{EXPLORER_WIDTH} units, {'with' if batchnorm else 'without'} Batch Norm"
        )

    def render(self, result, std, batchnorm, batch_size) -> list:
        if self.view.set_title(self.title(batchnorm)):
            self.request_full_draw()  # the title is not animated; its bitmap is kept per key
        return self.view.update(result.activations)

    def describe(self, result, std, batchnorm, batch_size) -> str:
        stds = self.view.stats.std  # computed by render for this very result
        return (
            "std of a per layer: "
            + "  ".join("overflow" if not np.isfinite(s) else f"{s:.3g}" for s in stds)
            + f"   |   var(z) layer 1: {result.var_z[0]:.3g}"
        )

    def background_key(self, std, batchnorm, batch_size):
        return batchnorm  # the title; ranges are fixed, bars, labels and std line animated

    def warning(self, result) -> str:
        if not all(np.isfinite(a).all() for a in result.activations):
            return "activations overflow: this std is far too large"
        if self.controls["batchnorm"].value:
            low = np.flatnonzero(result.var_z < 10 * self.eps)
            if low.size:
                return (
                    f"var(z) in layer {low[0] + 1} is {result.var_z[low[0]]:.2g}, not much "
                    f"larger than eps = {self.eps:g}: Batch Norm no longer normalises to "
                    "unit variance"
                )
            if self.controls["batch_size"].value == 2:
                return "a batch of 2: every normalised feature is -1 or +1"
        return ""


def batchnorm_explorer(**start) -> BatchNormExplorer:
    """Build chapter 04's explorer; keyword arguments set the controls' starting values.

    Accepted: ``std``, ``batchnorm``, ``batch_size`` (controls) and ``activation``,
    ``eps``, ``seed``, ``figsize``, ``dpi``. See :class:`BatchNormExplorer`.
    """
    return BatchNormExplorer(**start)
