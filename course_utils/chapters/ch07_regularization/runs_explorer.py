"""Chapter 07's explorer computation: one layer under dropout or DropConnect, for one seed.

:func:`dropout_demo` draws one keep-mask with the lesson's
:func:`~course_utils.regularization.dropout_mask`, and returns (:class:`DropoutDemo`) the
layer's training-time output with it, the test-time output and the mean training output over
many masks; :mod:`.explorer` shows it (through :class:`.figures.DropoutView`) and ``METHODS``
lists what its mask can drop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from course_utils.regularization import check_drop_probability, dropout_mask
from course_utils.validation import MAX_ELEMENTS, check_choice, check_int, make_rng

__all__ = ["METHODS", "DropoutDemo", "dropout_demo"]

#: Masks averaged by the explorer's mean: 1000 masks of 16 x 16 redraw in ~5 ms.
MAX_DEMO_MASKS = 100_000
#: What the explorer's mask drops: units of ``a`` (dropout) or weights of ``W`` (DropConnect).
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
