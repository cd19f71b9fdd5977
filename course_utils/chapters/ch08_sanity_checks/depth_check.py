r"""Gradient checks of deeper and deeper networks: the relative error grows (chapter 08, 3.5).

CS231n ("Neural Networks Part 3", gradient checks): "the deeper the network, the higher the
relative errors will be. So if you are gradient checking the input data for a 10-layer
network, a relative error of 1e-2 might be okay because the errors build up on the way."

:func:`input_gradient_errors` measures it on the lecture's NumPy network
(:mod:`course_utils.network`, every layer activated, softmax cross-entropy on top): the
whole-gradient relative error of :math:`\partial L/\partial x` against centred differences,
for each depth and seed. The mechanism, in numbers: each evaluation of the loss is rounded to
about :math:`\epsilon |L|`, so the numerical gradient carries an *absolute* error of about
:math:`\epsilon |L| / h` whatever the depth (:attr:`DepthErrors.roundoff_floor`), while the
gradient that reaches the input shrinks layer by layer when the layers' gains are below 1
(sigmoid: :math:`\sigma' \le 1/4`). Relative error :math:`\approx \epsilon|L|/(h \lVert
\nabla_x L\rVert)` then grows as fast as the gradient vanishes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from course_utils import network
from course_utils.gradcheck import check_gradient
from course_utils.gradcheck_models import softmax_cross_entropy
from course_utils.validation import (
    MAX_SEED,
    check_choice,
    check_int,
    check_real,
    check_sequence,
    make_rng,
)

__all__ = ["ACTIVATIONS", "DepthErrors", "input_gradient_errors"]

#: Activations :func:`input_gradient_errors` accepts, with the gain their weights get
#: (Xavier's 1 for tanh and sigmoid, Kaiming's sqrt(2) for ReLU: chapter 03).
ACTIVATIONS = {"sigmoid": 1.0, "tanh": 1.0, "relu": math.sqrt(2.0)}


@dataclass(frozen=True)
class DepthErrors:
    """What :func:`input_gradient_errors` measured.

    Attributes
    ----------
    depths : ndarray of int, shape (K,)
    seeds : tuple of int, length S
    activation : str
    errors : ndarray, shape (K, S)
        Whole-gradient relative error :math:`\\lVert a - n\\rVert / \\max(\\lVert a\\rVert,
        \\lVert n\\rVert)` of :math:`\\partial L / \\partial x`.
    grad_norm : ndarray, shape (K, S)
        :math:`\\lVert \\partial L / \\partial x \\rVert` (analytic).
    loss : ndarray, shape (K, S)
    h : float
    """

    depths: np.ndarray
    seeds: tuple
    activation: str
    errors: np.ndarray
    grad_norm: np.ndarray
    loss: np.ndarray
    h: float

    @property
    def roundoff_floor(self) -> np.ndarray:
        """shape (K, S): :math:`\\epsilon |L| / h`, the absolute round-off of one numerical
        derivative."""
        return np.finfo(np.float64).eps * np.abs(self.loss) / self.h

    @property
    def median_error(self) -> np.ndarray:
        """shape (K,): the median over seeds."""
        return np.median(self.errors, axis=1)


def input_gradient_errors(
    depths=(1, 2, 4, 6, 8, 10, 12),
    activation: str = "sigmoid",
    seeds=range(5),
    width: int = 10,
    n: int = 2,
    h: float = 1e-5,
) -> DepthErrors:
    r"""Gradient-check :math:`\partial L/\partial x` of the NumPy network at several depths.

    For each depth :math:`L` and seed: ``n`` inputs :math:`x \sim N(0, 1)` of ``width``
    features, :math:`L` square layers :math:`W_l \sim N(0, g^2/\text{width})` (``g`` from
    :data:`ACTIVATIONS`), every layer followed by the activation, softmax cross-entropy over
    ``width`` classes with random labels; the analytic input gradient of
    :func:`course_utils.network.backward` against :func:`course_utils.gradcheck.check_gradient`
    (centred differences, float64).

    Parameters
    ----------
    depths : sequence of int
        1 to 30 layers each, at most 20 depths.
    activation : {"sigmoid", "tanh", "relu"}
    seeds : sequence of int (1 to 20)
    width : int
        2 to 64.
    n : int
        Examples, 1 to 16.
    h : float
        The step, 1e-10 to 1e-1.

    Returns
    -------
    DepthErrors
    """
    depths = check_sequence(
        "depths", depths, max_len=20, item=lambda name, d: check_int(name, d, 1, 30)
    )
    activation = check_choice("activation", activation, tuple(ACTIVATIONS))
    seeds = tuple(
        check_sequence(
            "seeds", seeds, max_len=20, item=lambda name, s: check_int(name, s, 0, MAX_SEED)
        )
    )
    width = check_int("width", width, 2, 64)
    n = check_int("n", n, 1, 16)
    h = check_real("h", h, 1e-10, 0.1)
    gain = ACTIVATIONS[activation]
    shape = (len(depths), len(seeds))
    errors, norms, losses = np.empty(shape), np.empty(shape), np.empty(shape)
    for k, depth in enumerate(depths):
        for j, seed in enumerate(seeds):
            rng = make_rng(seed)
            x = rng.standard_normal((n, width))
            y = rng.integers(0, width, n)
            weights = [
                rng.standard_normal((width, width)) * gain / math.sqrt(width) for _ in range(depth)
            ]

            def loss(v, weights=weights, y=y):
                return softmax_cross_entropy(network.forward(v, weights, activation).output, y)[0]

            record = network.forward(x, weights, activation)
            value, upstream = softmax_cross_entropy(record.output, y)
            grad = network.backward(record, weights, upstream, activation).input
            check = check_gradient(loss, x, grad, h=h, name="x")
            errors[k, j], norms[k, j], losses[k, j] = check.norm_error, np.linalg.norm(grad), value
    return DepthErrors(np.array(depths), seeds, activation, errors, norms, losses, h)
