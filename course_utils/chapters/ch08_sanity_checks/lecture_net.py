r"""The lecture's own loss check: CS231n's two-layer net on CIFAR-10-shaped inputs (chapter 08).

The lecture's 2.302 comes from the CS231n slide "Double check that the loss is reasonable"
(Li, Karpathy & Johnson, CS231n 2015-2016, lecture "Training Neural Networks, Part 1"):

.. code-block:: python

    model = init_two_layer_model(32*32*3, 50, 10)  # input size, hidden size, number of classes
    loss, grad = two_layer_net(X_train, model, y_train, 0.0)      # 2.30261216167
    loss, grad = two_layer_net(X_train, model, y_train, 1e3)      # 3.06859716482: went up, good

The assignment's ``init_two_layer_model`` draws both weight matrices as ``1e-4 * randn`` and
zero biases; ``two_layer_net`` is affine - ReLU - affine - softmax cross-entropy plus
:math:`\frac{\lambda}{2}(\lVert W_1\rVert^2 + \lVert W_2\rVert^2)`. :func:`init_two_layer_model`
and :func:`two_layer_loss` are the same two functions in NumPy; :func:`cifar_shaped_inputs`
gives inputs of CIFAR-10's shape when the data set is not on disk, and
:func:`lecture_loss_check` runs the slide.

Why the input hardly matters: with weights of std :math:`10^{-4}` the class scores have a std
of order :math:`10^{-4}` even for raw pixel values, so the data loss is :math:`\ln 10` to
about :math:`10^{-8}` (:func:`course_utils.sanity.small_score_loss`), and the penalty depends on
the weights only: :math:`\mathbb{E}[\text{penalty}] = \frac{\lambda}{2}\,\sigma^2\,(DH + HC)
= \frac{10^3}{2}\cdot 10^{-8}\cdot 154{,}100 = 0.77`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from course_utils.validation import (
    MAX_SEED,
    check_array,
    check_elements,
    check_int,
    check_mapping,
    check_real,
    check_sequence,
    make_rng,
)

__all__ = [
    "CIFAR10_SHAPE",
    "init_two_layer_model",
    "two_layer_loss",
    "cifar_shaped_inputs",
    "LectureLossCheck",
    "lecture_loss_check",
]

#: One CIFAR-10 image: 32 x 32 pixels x 3 colour channels, flattened to 3,072 features.
CIFAR10_SHAPE = (32, 32, 3)
#: Hidden units of the two-layer net: 100,000 bounds W1 (3,072 x 100,000 is ~2.5 GB).
MAX_HIDDEN = 100_000


def init_two_layer_model(
    input_size: int, hidden_size: int, output_size: int, std: float = 1e-4, seed=0
) -> dict:
    r"""CS231n's ``init_two_layer_model``: small Gaussian weights, zero biases.

    .. math:: W_1 \sim N(0, \sigma^2)^{D \times H},\quad b_1 = 0,\quad
              W_2 \sim N(0, \sigma^2)^{H \times C},\quad b_2 = 0,\qquad \sigma = 10^{-4}.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        :math:`D` (3,072 for CIFAR-10), :math:`H` (50 on the slide), :math:`C` (10), each >= 1
        (:math:`C \ge 2`).
    std : float
        :math:`\sigma` > 0.
    seed : int or numpy.random.Generator

    Returns
    -------
    dict
        ``W1 (D, H)``, ``b1 (H,)``, ``W2 (H, C)``, ``b2 (C,)``, all float64.
    """
    d = check_int("input_size", input_size, 1, MAX_HIDDEN)
    h = check_int("hidden_size", hidden_size, 1, MAX_HIDDEN)
    c = check_int("output_size", output_size, 2, MAX_HIDDEN)
    check_elements("W1", (d, h))
    check_elements("W2", (h, c))
    std = check_real("std", std, 0.0, 1e3, low_open=True)
    rng = make_rng(seed)
    return {
        "W1": std * rng.standard_normal((d, h)),
        "b1": np.zeros(h),
        "W2": std * rng.standard_normal((h, c)),
        "b2": np.zeros(c),
    }


def two_layer_loss(x, model: dict, y, reg: float = 0.0) -> tuple[float, float]:
    r"""The data loss and the L2 penalty of CS231n's ``two_layer_net``.

    .. math::

        s = \max(0, x W_1 + b_1)\, W_2 + b_2,\qquad
        L = \underbrace{-\frac{1}{N}\sum_i \ln \frac{e^{s_{i y_i}}}{\sum_c e^{s_{ic}}}}_{\text{data}}
        + \underbrace{\frac{\lambda}{2}\big(\lVert W_1\rVert_F^2 + \lVert W_2\rVert_F^2\big)}_{\text{penalty}}.

    Parameters
    ----------
    x : array-like, shape (N, D)
    model : dict
        ``W1 (D, H)``, ``b1 (H,)``, ``W2 (H, C)``, ``b2 (C,)`` (:func:`init_two_layer_model`).
    y : array-like of int, shape (N,), values in 0..C-1
    reg : float
        :math:`\lambda` >= 0 (the slide's 0 and 1e3).

    Returns
    -------
    data_loss, penalty : float
        The slide's loss is their sum.
    """
    x = check_array("x", x, ndim=2)
    model = check_mapping("model", model, np.ndarray, "weight arrays", max_len=4)
    if set(model) != {"W1", "b1", "W2", "b2"}:
        raise ValueError(f"model must have the keys W1, b1, W2, b2; got {sorted(model)}")
    w1 = check_array("model['W1']", model["W1"], shape=(x.shape[1], None))
    h = w1.shape[1]
    b1 = check_array("model['b1']", model["b1"], shape=(h,))
    w2 = check_array("model['W2']", model["W2"], shape=(h, None))
    c = w2.shape[1]
    b2 = check_array("model['b2']", model["b2"], shape=(c,))
    y = check_array("y", y, shape=(len(x),), dtype=np.int64)
    if c < 2 or (y.size and (y.min() < 0 or y.max() >= c)):
        raise ValueError(f"y must hold labels 0..{c - 1} for W2 with {c} >= 2 columns")
    reg = check_real("reg", reg, 0.0, 1e12)
    scores = np.maximum(0.0, x @ w1 + b1) @ w2 + b2
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    data_loss = -float(log_p[np.arange(len(y)), y].mean())
    penalty = 0.5 * reg * float(np.sum(w1 * w1) + np.sum(w2 * w2))
    return data_loss, penalty


def cifar_shaped_inputs(n: int = 500, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """Stand-in inputs of CIFAR-10's shape: random 8-bit images, mean image subtracted.

    Each of the ``n`` images has 32 x 32 x 3 pixels drawn uniformly from 0..255 (std 74, a
    little above CIFAR-10's ~64), flattened to 3,072 features; the mean image is subtracted,
    as CS231n's assignment does; labels are drawn uniformly from 10 classes.

    Parameters
    ----------
    n : int
        1 to 5,000 images.
    seed : int or numpy.random.Generator

    Returns
    -------
    x : ndarray, shape (n, 3072), float64
    y : ndarray, shape (n,), int64
    """
    n = check_int("n", n, 1, 5_000)
    rng = make_rng(seed)
    x = rng.integers(0, 256, size=(n, math.prod(CIFAR10_SHAPE))).astype(np.float64)
    x -= x.mean(axis=0)
    return x, rng.integers(0, 10, size=n).astype(np.int64)


@dataclass(frozen=True)
class LectureLossCheck:
    """The slide's two losses, over seeds (:func:`lecture_loss_check`).

    Attributes
    ----------
    seeds : tuple of int, length S
    data_loss : ndarray, shape (S,)
        ``two_layer_loss(..., reg=0)``: the slide's 2.30261216167.
    penalty : ndarray, shape (S,)
        :math:`\\frac{\\lambda}{2}\\sum W^2` at ``reg``.
    predicted_penalty : float
        :math:`\\frac{\\lambda}{2}\\,\\sigma^2 (DH + HC)`, its expectation.
    reg : float
    """

    seeds: tuple
    data_loss: np.ndarray
    penalty: np.ndarray
    predicted_penalty: float
    reg: float

    @property
    def total(self) -> np.ndarray:
        """shape (S,): the loss with regularisation (the slide's 3.06859716482)."""
        return self.data_loss + self.penalty


def lecture_loss_check(
    x,
    y,
    hidden_size: int = 50,
    num_classes: int = 10,
    std: float = 1e-4,
    reg: float = 1e3,
    seeds=range(5),
) -> LectureLossCheck:
    r"""Run the slide: :func:`init_two_layer_model` for each seed, loss with ``reg`` 0 and ``reg``.

    Parameters
    ----------
    x : array-like, shape (N, D)
        CIFAR-10 images flattened (D = 3,072), or :func:`cifar_shaped_inputs`.
    y : array-like of int, shape (N,)
    hidden_size, num_classes, std, reg
        The slide's 50, 10, 1e-4 and 1e3.
    seeds : sequence of int (1 to 50)

    Returns
    -------
    LectureLossCheck
    """
    x = check_array("x", x, ndim=2)
    num_classes = check_int("num_classes", num_classes, 2, MAX_HIDDEN)
    seeds = tuple(
        check_sequence("seeds", seeds, max_len=50, item=lambda n, s: check_int(n, s, 0, MAX_SEED))
    )
    hidden_size = check_int("hidden_size", hidden_size, 1, MAX_HIDDEN)
    std = check_real("std", std, 0.0, 1e3, low_open=True)
    reg = check_real("reg", reg, 0.0, 1e12)
    check_elements("x @ W1", (x.shape[0], hidden_size))
    losses, penalties = [], []
    for seed in seeds:
        model = init_two_layer_model(x.shape[1], hidden_size, num_classes, std, seed)
        data_loss, penalty = two_layer_loss(x, model, y, reg)  # the data loss is reg 0's
        losses.append(data_loss)
        penalties.append(penalty)
    predicted = 0.5 * reg * std**2 * (x.shape[1] * hidden_size + hidden_size * num_classes)
    return LectureLossCheck(seeds, np.array(losses), np.array(penalties), predicted, reg)
