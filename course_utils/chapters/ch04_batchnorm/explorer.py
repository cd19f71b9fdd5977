"""Chapter 04's explorer: init std, Batch Norm on/off and batch size; per-layer histograms.

:func:`explorer_run` computes one move (a direct call gives the same numbers);
:class:`BatchNormExplorer` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from course_utils import network
from course_utils.batchnorm import EPS, BatchNormStep
from course_utils.chapters.ch03_initialization.explorer import STD_SLIDER
from course_utils.plots import LayerHistogramFigure
from course_utils.validation import MAX_SEED, check_bool, check_choice, check_int, check_real
from course_utils.weight_cache import ScaledMatrix
from course_utils.widgets.base import Explorer, check_start, make_controls, new_figure

__all__ = [
    "EXPLORER_WIDTH",
    "EXPLORER_DEPTH",
    "EXPLORER_MAX_BATCH",
    "ExplorerRun",
    "explorer_run",
    "BatchNormExplorer",
    "batchnorm_explorer",
]

#: y-range of the std panel: down to 1e-6, so the collapse without Batch Norm stays visible.
STD_AXIS = {"tanh": (1e-6, 2.0), "relu": (1e-6, 1e2)}
#: Activations the explorer offers (a constructor argument, not a control).
ACTIVATIONS = ("tanh", "relu")


#: The explorer's network: 6 layers of 256 units, batches up to 256 (a few ms per move).
EXPLORER_WIDTH = 256
EXPLORER_DEPTH = 6
EXPLORER_MAX_BATCH = 256
#: Largest network :func:`explorer_run` accepts (a direct call): 12 x 1024^2 float32 weights
#: are 48 MiB and a forward pass of 256 rows stays under a second.
EXPLORER_MAX_DEPTH = 12
EXPLORER_MAX_WIDTH = 1024


@lru_cache(maxsize=1)
def _threads():
    """A ThreadpoolController, inspected once (a new threadpool_limits costs ~3.5 ms)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@lru_cache(maxsize=2)
def _explorer_arrays(seed: int, width: int, depth: int):
    rng = np.random.default_rng(seed)
    # float32, as the lecture's network in chapter 03: half the time of float64 per move
    x = rng.standard_normal((EXPLORER_MAX_BATCH, width), dtype=np.float32)
    unit = [rng.standard_normal((width, width), dtype=np.float32) for _ in range(depth)]
    for a in (x, *unit):
        a.flags.writeable = False
    return x, unit


@dataclass(frozen=True)
class ExplorerRun:
    """What :func:`explorer_run` computed: per-layer activations and batch variances of z."""

    activations: list  #: depth arrays (batch_size, width): a_l
    var_z: np.ndarray  #: (depth,) mean over units of the batch variance of z_l (before BN)


def explorer_run(
    std: float,
    batchnorm: bool,
    batch_size: int,
    activation: str = "tanh",
    depth: int = EXPLORER_DEPTH,
    width: int = EXPLORER_WIDTH,
    eps: float = EPS,
    seed: int = 0,
) -> ExplorerRun:
    r"""A ``depth`` x ``width`` network with weights :math:`N(0, \sigma^2)`, with or without BN.

    The first ``batch_size`` of a fixed set of :math:`N(0, 1)` inputs go through
    :func:`course_utils.network.forward`, with :class:`BatchNormStep` (training mode,
    gamma 1, beta 0) before each activation when ``batchnorm``. The weights are fixed
    unit-variance draws times ``std``, so only the scale changes between calls.
    """
    std = check_real("std", std, 0.0, 1e3, low_open=True)
    batchnorm = check_bool("batchnorm", batchnorm)
    batch_size = check_int("batch_size", batch_size, 2, EXPLORER_MAX_BATCH)
    check_choice("activation", activation, ACTIVATIONS)
    depth = check_int("depth", depth, 1, EXPLORER_MAX_DEPTH)
    width = check_int("width", width, 2, EXPLORER_MAX_WIDTH)
    eps = check_real("eps", eps, 0.0, low_open=True)
    x, unit = _explorer_arrays(check_int("seed", seed, 0, MAX_SEED), width, depth)
    weights = [ScaledMatrix(w, std) for w in unit]  # (a @ U) * std: no scaled copy of U
    step = BatchNormStep(eps=eps) if batchnorm else None
    # One BLAS thread: fastest for these small matrices on a busy 2-core machine, and the
    # same summation order (hence the same float32 result) in the explorer and a direct call.
    with _threads().limit(limits=1), np.errstate(over="ignore", invalid="ignore"):
        record = network.forward(x[:batch_size], weights, activation, step=step)
        if batchnorm:
            var_z = np.array([c.batch_var.mean(dtype=np.float64) for c in record.step_caches])
        else:
            var_z = np.array(
                [z.var(axis=0, dtype=np.float64).mean() for z in record.pre_activations]
            )
    return ExplorerRun(record.activations, var_z)


class BatchNormExplorer(Explorer):
    """Per-layer activation histograms of a 6 x 256 network, with or without Batch Norm.

    ``result`` is the :class:`ExplorerRun` of
    :func:`explorer_run` for the controls' ``std``, ``batchnorm``
    and ``batch_size`` (``activation``, ``eps`` and ``seed`` fixed at construction): the
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
        self.activation = check_choice("activation", activation, ACTIVATIONS)
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
