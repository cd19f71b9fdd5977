"""Chapter 07's explorer: dropout / DropConnect masks and outputs of one layer.

The explorer shows one layer :math:`z = aW` with a keep-mask on the units of ``a``
(dropout) or on the weights ``W`` (DropConnect): the mask, the training-time output with
that mask, the test-time output, and the average training output over many masks against
the test output (the general pattern: randomness in training, its expectation at test).
``p`` is the probability of DROPPING, as in ``torch.nn.Dropout``. :func:`dropout_demo` is
its computation, with the lesson's masks (:func:`course_utils.regularization.dropout_mask`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from course_utils.regularization import check_drop_probability, dropout_mask
from course_utils.validation import MAX_ELEMENTS, check_choice, check_int, make_rng
from course_utils.widgets.base import Explorer, check_start, make_controls, new_figure

__all__ = [
    "METHODS",
    "DropoutDemo",
    "dropout_demo",
    "DropoutView",
    "DropoutExplorer",
    "dropout_explorer",
    "START",
]

#: Masks averaged by the explorer's mean: 1000 masks of 16 x 16 redraw in ~5 ms.
MAX_DEMO_MASKS = 100_000
P_MAX = 0.9
SEED_MAX = 50
MASK_LABELS = {"dropout": ("unit of a", "sample"), "DropConnect": ("output unit", "input unit")}


METHODS = ("dropout", "DropConnect")


@dataclass(frozen=True)
class DropoutDemo:
    r"""One layer :math:`z = a W` with dropout on ``a`` or DropConnect on ``W``.

    Attributes
    ----------
    a : ndarray, (N, D)
        The layer's input activations (fixed: ReLU of a seeded Gaussian).
    W : ndarray, (D, D_out)
    mask : ndarray of bool
        The keep-mask drawn for this seed: (N, D) on the units for dropout, (D, D_out) on
        the weights for DropConnect.
    train : ndarray, (N, D_out)
        The training-time output with this mask.
    test : ndarray, (N, D_out)
        The test-time output.
    expected : ndarray, (N, D_out)
        The mean of the training-time output over ``n_masks`` masks.
    rel_error : float
        :math:`\lVert \text{expected} - \text{test}\rVert / \lVert\text{test}\rVert`.
    kept : float
        Share of the mask that is kept.
    """

    a: np.ndarray
    W: np.ndarray
    mask: np.ndarray
    train: np.ndarray
    test: np.ndarray
    expected: np.ndarray
    rel_error: float
    kept: float


def dropout_demo(
    p: float = 0.5,
    version: int = 2,
    method: str = "dropout",
    seed: int = 0,
    n: int = 16,
    d: int = 16,
    n_masks: int = 1000,
) -> DropoutDemo:
    """The explorer's computation: one mask, the train and test outputs, and the average
    train output over ``n_masks`` masks, for dropout or DropConnect.

    ``p`` is the probability of DROPPING (a unit for dropout, a weight for DropConnect), as
    in ``torch.nn.Dropout``. The layer (``a``, ``W``) is fixed; ``seed`` draws the masks.
    Because the layer is linear in the mask, the average over masks is computed exactly as
    the layer applied to the average mask.
    """
    p, version = check_drop_probability(p), check_choice("version", version, (1, 2))
    method = check_choice("method", method, METHODS)
    rng = make_rng(seed)
    n, d = check_int("n", n, 1, 256), check_int("d", d, 1, 256)
    n_masks = check_int("n_masks", n_masks, 1, MAX_DEMO_MASKS)
    layer = np.random.default_rng(12345)  # the same layer for every seed: only masks change
    a = np.maximum(layer.standard_normal((n, d)), 0.0)
    W = layer.standard_normal((d, d)) / math.sqrt(d)
    shape = a.shape if method == "dropout" else W.shape
    if n_masks * math.prod(shape) > MAX_ELEMENTS:
        raise ValueError(
            f"n_masks: n_masks * mask size must be at most {MAX_ELEMENTS:,}; "
            f"got {n_masks} masks of {math.prod(shape)}"
        )
    mask = dropout_mask(shape, p, rng)
    mean_mask = (mask + dropout_mask((n_masks - 1, *shape), p, rng).sum(axis=0)) / n_masks
    scale = 1.0 / (1.0 - p) if version == 2 else 1.0
    if method == "dropout":
        train = (a * mask * scale) @ W
        expected = (a * mean_mask * scale) @ W
    else:
        train = a @ (W * mask * scale)
        expected = a @ (W * mean_mask * scale)
    test = a @ W * (1.0 - p if version == 1 else 1.0)
    rel = float(np.linalg.norm(expected - test) / np.linalg.norm(test))
    return DropoutDemo(a, W, mask, train, test, expected, rel, float(mask.mean()))


class DropoutView:
    """Four panels built once: keep-mask, train output, test output, mean train vs test.

    ``update(demo, method)`` changes the images' data and the scatter's points in place and
    returns the (animated) artists. The two output images share one colour scale, twice the
    largest ``|a W|``: fixed, so versions and drop probabilities compare by colour.
    """

    def __init__(self, figure: Figure, n: int = 16, d: int = 16, animated: bool = False):
        if not isinstance(figure, Figure):
            raise ValueError(f"figure must be a matplotlib Figure; got {figure!r:.60}")
        n, d = check_int("n", n, 1, 256), check_int("d", d, 1, 256)
        self.figure = figure
        axes = figure.subplots(1, 4)
        self.axes = list(axes)
        blank = np.zeros((n, d))
        self.mask = axes[0].imshow(
            np.zeros((n, d)), cmap="gray", vmin=0, vmax=1, interpolation="none", animated=animated
        )
        self.train = axes[1].imshow(
            blank, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="none", animated=animated
        )
        self.test = axes[2].imshow(
            blank, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="none", animated=animated
        )
        titles = (
            "keep-mask (white: kept)",
            "train: z with this mask",
            "test: z",
            "mean of train z vs test z",
        )
        for ax, title in zip(axes, titles):
            ax.set_title(title, fontsize=8)
            ax.tick_params(labelsize=6)
        for ax in axes[1:3]:
            ax.set_xlabel("output unit", fontsize=7)
            ax.set_ylabel("sample", fontsize=7)
        ax = axes[3]
        ax.set_xlim(-1.15, 1.15)
        ax.set_ylim(-1.15, 1.15)
        ax.set_aspect("equal")
        ax.plot([-1.15, 1.15], [-1.15, 1.15], color="0.7", lw=0.8, zorder=0)
        ax.set_xlabel("test z / max|test z|", fontsize=7)
        ax.set_ylabel("mean train z (same scale)", fontsize=7)
        self.points = ax.scatter(
            np.zeros(0), np.zeros(0), s=5, color="C0", linewidths=0, animated=animated
        )
        figure.subplots_adjust(left=0.05, right=0.99, bottom=0.16, top=0.9, wspace=0.45)
        self.set_method("dropout")

    def set_method(self, method: str) -> bool:
        """Label the mask panel for ``method``; ``True`` if the labels changed (the static
        part of the figure then needs a full draw)."""
        xlabel, ylabel = MASK_LABELS[method]
        ax = self.axes[0]
        if ax.get_xlabel() == xlabel:
            return False
        ax.set_xlabel(xlabel, fontsize=7)
        ax.set_ylabel(ylabel, fontsize=7)
        return True

    def update(self, demo: DropoutDemo, method: str) -> list:
        self.set_method(method)
        self.mask.set_data(demo.mask.astype(float))
        # One fixed colour scale for every p and version (the layer a, W never changes):
        # version 1's outputs look dimmer, large kept values at high p saturate.
        limit = float(max(2.0 * np.abs(demo.a @ demo.W).max(), 1e-12))
        for image, values in ((self.train, demo.train), (self.test, demo.test)):
            image.set_data(values)
            image.set_clim(-limit, limit)
        scale = float(max(np.abs(demo.test).max(), 1e-12))
        self.points.set_offsets(np.column_stack([demo.test.ravel(), demo.expected.ravel()]) / scale)
        return [self.mask, self.train, self.test, self.points]


#: The controls' starting values; each control is declared once, in :func:`_controls`.
START = dict(p=0.5, version=2, method="dropout", seed=0)


def _controls() -> dict:
    """The explorer's controls, named as :func:`dropout_demo`'s arguments."""
    return make_controls(
        p=(0.0, P_MAX, 0.05),
        version=(("1: scale at test", 1), ("2: inverted", 2)),
        method=METHODS,
        seed=(0, SEED_MAX, 1),
    )


class DropoutExplorer(Explorer):
    """Masks and outputs of one layer under dropout or DropConnect, live.

    ``result`` is :func:`dropout_demo` for the controls' ``p`` (probability of DROPPING),
    ``version``, ``method`` and ``seed`` (keyword arguments; defaults 0.5, 2, dropout, 0);
    ``n_masks`` (the masks the mean is taken over) is fixed at construction.
    """

    def __init__(self, n_masks=1000, figsize=(8.5, 2.6), dpi=96, **start):
        # the explorer's layer is 16 x 16: n_masks stacked masks of 256 entries each
        self.n_masks = check_int("n_masks", n_masks, 1, MAX_ELEMENTS // 256)
        controls = _controls()
        check_start(controls, start)  # before the figure (~1 s to build): a mistake costs none
        self.view = DropoutView(new_figure(figsize, dpi), animated=True)
        super().__init__(controls, self.view.figure, **{**START, **start})

    def compute(self, p, version, method, seed):
        return dropout_demo(p, version, method, seed, n_masks=self.n_masks)

    def render(self, result, p, version, method, seed) -> list:
        if self.view.set_method(method):
            self.request_full_draw()
        return self.view.update(result, method)

    def background_key(self, p, version, method, seed):
        return method  # only the mask panel's axis labels depend on a control

    def describe(self, result, p, version, method, seed) -> str:
        return (
            f"kept {result.kept:.0%} of the {'units' if method == 'dropout' else 'weights'}"
            f"   max|train z| {np.abs(result.train).max():.2f}"
            f"   max|test z| {np.abs(result.test).max():.2f}"
            f"   mean of {self.n_masks} masks vs test: rel. error {result.rel_error:.1%}"
        )

    def warning(self, result) -> str:
        if result.kept == 0:
            return "this mask drops everything: the training output is all zero"
        return ""


def dropout_explorer(**start) -> DropoutExplorer:
    """Build chapter 07's explorer; keyword arguments set the controls' starting values.

    Accepted: ``p`` (probability of DROPPING, 0 to 0.9), ``version`` (1 or 2), ``method``
    (``"dropout"`` or ``"DropConnect"``), ``seed`` (0 to 50), and ``n_masks``, ``figsize``,
    ``dpi``. See :class:`DropoutExplorer`.
    """
    return DropoutExplorer(**start)
