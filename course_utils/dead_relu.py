r"""Chapter 01's experiments: dead ReLUs after a large update, and the zig-zag of
all-positive inputs.

:func:`train_relu_classifier` trains a one-hidden-layer ReLU network on the digits
(:func:`course_utils.data.load_digits`) with plain gradient descent. The hidden layer is the
course's shared core, :func:`course_utils.network.forward` / :func:`~course_utils.network.backward`
(a constant 1 appended to the input gives its units a bias); a linear softmax layer on top is
written out here. After training it counts the hidden units that never activate:

.. math:: \text{dead}_j \iff z_{nj} = x_n^\top w_j \le 0 \text{ for every example } n,

a unit whose gradient is then 0 on every example, so gradient descent can never revive it.

:func:`weight_gradient_signs` counts, per neuron, the signs of
:math:`\partial L/\partial w_{ij} = x_i\,\partial L/\partial z_j`: with all-positive inputs
:math:`x_i > 0` all of them share the sign of :math:`\partial L/\partial z_j`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from course_utils import network
from course_utils.data import load_digits

__all__ = ["TrainResult", "train_relu_classifier", "dead_units", "dead_relu_table",
           "sign_counts_per_neuron", "batch_gradient_mixed",
           "SignCounts", "weight_gradient_signs"]

MAX_HIDDEN = 4096
MAX_STEPS = 10_000


@dataclass(frozen=True)
class TrainResult:
    """One training run.

    Attributes
    ----------
    lr : float
    dead_at_init, dead : float
        Share of hidden units that never activate on the whole data set (training and
        validation), before and after training.
    dead_after_first_step : float
        The same after the first update.
    train_loss : float
        Final cross-entropy on the training set (``nan`` if it overflowed).
    val_accuracy : float
    """

    lr: float
    dead_at_init: float
    dead_after_first_step: float
    dead: float
    train_loss: float
    val_accuracy: float


def _check(name, value, lo, hi, integer=False):
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value) \
            or not lo <= value <= hi:
        what = "an integer" if integer else "a number"
        raise ValueError(f"{name} must be {what} between {lo:g} and {hi:g}; got {value!r}")
    return value


def _with_bias(x: np.ndarray) -> np.ndarray:
    return np.hstack([x, np.ones((len(x), 1))])


def dead_units(x: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Boolean mask (D_hidden,): units with :math:`z = xW \\le 0` on every row of ``x``.

    Parameters
    ----------
    x : ndarray, shape (N, D_in)
    W : ndarray, shape (D_in, D_hidden)
    """
    return ~((x @ W) > 0).any(axis=0)


def _softmax_loss(scores: np.ndarray, y: np.ndarray):
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(len(y)), y].mean()
    dscores = np.exp(log_p)
    dscores[np.arange(len(y)), y] -= 1
    return loss, dscores / len(y)


def train_relu_classifier(lr: float, hidden: int = 128, steps: int = 50, seed: int = 0,
                          digits=None) -> TrainResult:
    r"""Train ``x -> relu(x W1) -> softmax(h W2)`` on the digits by full-batch gradient descent.

    ``W1`` is Kaiming-initialised (std :math:`\sqrt{2/n_\text{in}}`), ``W2`` small; each step
    is :math:`W \leftarrow W - \eta\,\partial L/\partial W` for the mean cross-entropy.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\eta`, in (0, 1000].
    hidden : int
        Hidden units, 1 to 4096.
    steps : int
        Gradient steps, 1 to 10,000.
    seed : int
        Fixes the initial weights.
    digits : Digits, optional
        The data (default :func:`course_utils.data.load_digits`).

    Returns
    -------
    TrainResult
    """
    _check("lr", lr, 0, 1000)
    if lr == 0:
        raise ValueError("lr must be a number between 0 and 1000, not 0; got 0")
    _check("hidden", hidden, 1, MAX_HIDDEN, integer=True)
    _check("steps", steps, 1, MAX_STEPS, integer=True)
    _check("seed", seed, 0, 2**32 - 1, integer=True)
    data = load_digits() if digits is None else digits
    x, y = _with_bias(data.x_train), data.y_train
    x_all = np.vstack([x, _with_bias(data.x_val)])
    rng = np.random.default_rng(seed)
    W1 = rng.normal(0.0, math.sqrt(2.0 / x.shape[1]), size=(x.shape[1], hidden))
    W2 = rng.normal(0.0, 1 / math.sqrt(hidden), size=(hidden, data.num_classes))
    dead_at_init = dead_units(x_all, W1).mean()
    dead_after_first = dead_at_init
    loss = float("nan")
    # Small matrices: one BLAS thread is fastest, and several threads on a busy 2-core machine
    # were 10x slower (threadpoolctl comes with scikit-learn).
    with threadpool_limits(1), np.errstate(over="ignore", invalid="ignore"):  # huge lr: nan
        for step in range(steps):
            record = network.forward(x, [W1], "relu")
            h = record.output
            loss, dscores = _softmax_loss(h @ W2, y)
            grads = network.backward(record, [W1], dscores @ W2.T, "relu")
            W2 = W2 - lr * (h.T @ dscores)
            W1 = W1 - lr * grads.weight(1)
            if step == 0:
                dead_after_first = dead_units(x_all, W1).mean()
        h_val = np.maximum(_with_bias(data.x_val) @ W1, 0)
        accuracy = float(((h_val @ W2).argmax(axis=1) == data.y_val).mean())
        final_loss = _softmax_loss(np.maximum(x @ W1, 0) @ W2, y)[0]
    return TrainResult(float(lr), float(dead_at_init), float(dead_after_first),
                       float(dead_units(x_all, W1).mean()),
                       float(final_loss) if np.isfinite(final_loss) else float("nan"), accuracy)


def dead_relu_table(lrs=(0.3, 1.0, 10.0), hidden: int = 128, steps: int = 50,
                    seed: int = 0) -> tuple[str, list]:
    """Train once per learning rate; return the printed table and the results."""
    from course_utils.tables import format_table

    digits = load_digits()
    results = [train_relu_classifier(lr, hidden, steps, seed, digits) for lr in lrs]
    table = format_table({"dead at init": [r.dead_at_init for r in results],
                          "after 1 step": [r.dead_after_first_step for r in results],
                          f"after {steps} steps": [r.dead for r in results],
                          "train loss": [r.train_loss for r in results],
                          "val accuracy": [r.val_accuracy for r in results]},
                         index=[f"{lr:g}" for lr in lrs], index_name="learning rate",
                         percent=["dead at init", "after 1 step", f"after {steps} steps",
                                  "val accuracy"])
    return table, results


@dataclass(frozen=True)
class SignCounts:
    """Per-neuron signs of the weight gradient over one batch.

    Attributes
    ----------
    mixed : int
        Neurons whose incoming weight gradients have both signs.
    same_sign : int
        Neurons whose incoming weight gradients all share one sign (all > 0 or all < 0).
    neurons : int
    """

    mixed: int
    same_sign: int
    neurons: int


def weight_gradient_signs(inputs: np.ndarray, upstream: np.ndarray) -> SignCounts:
    r"""Per example and neuron: do the weight gradients :math:`\partial L/\partial w_{ij}`
    of the neuron's incoming weights have one sign, or both?

    For one example, :math:`\partial L/\partial w_{ij} = x_i\,\delta_j` with
    :math:`\delta_j = \partial L/\partial z_j`: if every :math:`x_i > 0`, the column j has the
    sign of :math:`\delta_j` throughout. Each example is counted on its own (the
    per-example gradient, what one SGD step of batch size 1 follows).

    Parameters
    ----------
    inputs : ndarray, shape (N, D_in)
        The layer's inputs :math:`x`.
    upstream : ndarray, shape (N, D_out)
        :math:`\partial L/\partial z` for each example.

    Returns
    -------
    SignCounts
        Counted over all N x D_out (example, neuron) pairs.
    """
    inputs, upstream = np.asarray(inputs, dtype=float), np.asarray(upstream, dtype=float)
    if inputs.ndim != 2 or upstream.ndim != 2 or len(inputs) != len(upstream):
        raise ValueError(f"inputs must be (N, D_in) and upstream (N, D_out); got "
                         f"{inputs.shape} and {upstream.shape}")
    positive = (inputs > 0).sum(axis=1)[:, None]  # per example, how many x_i > 0
    negative = (inputs < 0).sum(axis=1)[:, None]
    # sign(x_i * delta_j): both signs occur iff delta_j != 0 and x has both signs
    mixed = (positive > 0) & (negative > 0) & (upstream != 0)
    mixed_count = int(mixed.sum())
    total = upstream.size
    return SignCounts(mixed=mixed_count, same_sign=total - mixed_count, neurons=total)


def sign_counts_per_neuron(x: np.ndarray, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""For one example: how many incoming weights of each neuron get a positive, and how
    many a negative gradient :math:`\partial L/\partial w_{ij} = x_i\,\delta_j`.

    Parameters
    ----------
    x : ndarray, shape (D_in,)
        The example's inputs to the layer.
    delta : ndarray, shape (D_out,)
        :math:`\partial L/\partial z_j` for the example.

    Returns
    -------
    positive, negative : ndarray of int, shape (D_out,)
    """
    x, delta = np.asarray(x, dtype=float), np.asarray(delta, dtype=float)
    if x.ndim != 1 or delta.ndim != 1:
        raise ValueError(f"x and delta must be 1-D (one example); got {x.shape} and {delta.shape}")
    grad = np.outer(x, delta)
    return (grad > 0).sum(axis=0), (grad < 0).sum(axis=0)


def batch_gradient_mixed(inputs: np.ndarray, upstream: np.ndarray) -> int:
    r"""Neurons whose *mini-batch* weight gradient :math:`\partial L/\partial W = X^\top\Delta`
    has incoming weights of both signs.

    Summed over examples with different :math:`\delta_j` the per-example sign rule no longer
    holds: the zig-zag argument is about each example's (or a batch of one's) step.

    Parameters
    ----------
    inputs : ndarray, shape (N, D_in)
    upstream : ndarray, shape (N, D_out)

    Returns
    -------
    int
        Out of D_out neurons.
    """
    inputs, upstream = np.asarray(inputs, dtype=float), np.asarray(upstream, dtype=float)
    if inputs.ndim != 2 or upstream.ndim != 2 or len(inputs) != len(upstream):
        raise ValueError(f"inputs must be (N, D_in) and upstream (N, D_out); got "
                         f"{inputs.shape} and {upstream.shape}")
    grad = inputs.T @ upstream
    return int(((grad > 0).any(axis=0) & (grad < 0).any(axis=0)).sum())
