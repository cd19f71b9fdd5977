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

import functools
import math
import numbers
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from course_utils import network
from course_utils.data import load_digits
from course_utils.stats import Spread, spread

__all__ = ["TrainResult", "train_relu_classifier", "dead_units", "dead_relu_table",
           "runs_table", "dead_at_init_over_seeds", "train_over_seeds",
           "over_seeds_table",
           "sign_counts_per_neuron", "batch_gradient_mixed", "batch_gradient_mixed_over_seeds",
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


@functools.lru_cache(maxsize=1)
def _default_digits():
    """The digits, loaded once per process (loading takes about a second)."""
    return load_digits()


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


def _initial_weights(seed: int, d_in: int, hidden: int, classes: int):
    """W1 (Kaiming, std sqrt(2/d_in)) and W2 (std 1/sqrt(hidden)), drawn in this order."""
    rng = np.random.default_rng(seed)
    W1 = rng.normal(0.0, math.sqrt(2.0 / d_in), size=(d_in, hidden))
    W2 = rng.normal(0.0, 1 / math.sqrt(hidden), size=(hidden, classes))
    return W1, W2


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
    data = _default_digits() if digits is None else digits
    x, y = _with_bias(data.x_train), data.y_train
    x_all = np.vstack([x, _with_bias(data.x_val)])
    W1, W2 = _initial_weights(seed, x.shape[1], hidden, data.num_classes)
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


def runs_table(results, steps: int = 50) -> str:
    """The printed table of some runs, one row per run (learning rate)."""
    from course_utils.tables import format_table

    if not results or not all(isinstance(r, TrainResult) for r in results):
        raise ValueError("results must be a non-empty sequence of TrainResult")
    return format_table({"dead at init": [r.dead_at_init for r in results],
                         "after 1 step": [r.dead_after_first_step for r in results],
                         f"after {steps} steps": [r.dead for r in results],
                         "train loss": [r.train_loss for r in results],
                         "val accuracy": [r.val_accuracy for r in results]},
                        index=[f"{r.lr:g}" for r in results], index_name="learning rate",
                        percent=["dead at init", "after 1 step", f"after {steps} steps",
                                 "val accuracy"])


def dead_relu_table(lrs=(0.3, 1.0, 10.0), hidden: int = 128, steps: int = 50,
                    seed: int = 0) -> tuple[str, list]:
    """Train once per learning rate; return the printed table and the results."""
    results = [train_relu_classifier(lr, hidden, steps, seed) for lr in lrs]
    return runs_table(results, steps), results


# ------------------------------------------------------------------ over seeds
def _check_seeds(seeds) -> list:
    seeds = list(seeds)
    if not seeds or len(seeds) > 10_000 or any(
            isinstance(s, bool) or not isinstance(s, numbers.Integral) or not 0 <= s < 2**32
            for s in seeds):
        raise ValueError("seeds must be 1 to 10,000 integers between 0 and 2**32 - 1; "
                         f"got {seeds[:5]!r}{'...' if len(seeds) > 5 else ''}")
    return [int(s) for s in seeds]


def dead_at_init_over_seeds(seeds=range(200), hidden: int = 128, digits=None) -> Spread:
    r"""Share of hidden units dead before training, for each seed of
    :func:`train_relu_classifier` (the same initial weights, drawn the same way).

    A unit is dead when :math:`x_n^\top w_j \le 0` on every image, training and validation.
    Only the initial weights are drawn: no training, so 200 seeds cost one matrix product.

    Returns
    -------
    Spread
        One share per seed.
    """
    seeds = _check_seeds(seeds)
    _check("hidden", hidden, 1, MAX_HIDDEN, integer=True)
    data = _default_digits() if digits is None else digits
    x_all = _with_bias(np.vstack([data.x_train, data.x_val]))
    shares = []
    for start in range(0, len(seeds), 50):  # 50 seeds at a time: at most 50 x 4096 columns
        block = seeds[start:start + 50]
        W1 = np.hstack([_initial_weights(s, x_all.shape[1], hidden, data.num_classes)[0]
                        for s in block])
        with threadpool_limits(1):  # as in training: one thread is fastest on a busy machine
            dead = dead_units(x_all, W1).reshape(len(block), hidden)
        shares.extend(dead.mean(axis=1))
    return spread(shares)


def train_over_seeds(lrs=(0.3, 1.0, 10.0), seeds=range(5), hidden: int = 128,
                     steps: int = 50) -> dict:
    """:func:`train_relu_classifier` for every learning rate and seed.

    Returns
    -------
    dict of float -> list of TrainResult
        Per learning rate, one result per seed, in the order of ``seeds``.
    """
    seeds = _check_seeds(seeds)
    if len(seeds) * len(lrs) > 100:
        raise ValueError(f"at most 100 runs (each takes ~0.1 s); got {len(lrs)} learning rates "
                         f"x {len(seeds)} seeds")
    return {float(lr): [train_relu_classifier(lr, hidden, steps, s) for s in seeds]
            for lr in lrs}


def over_seeds_table(runs: dict, steps: int = 50) -> str:
    """Per learning rate, each column of :func:`runs_table` over the seeds:
    ``median (smallest to largest)``; "newly dead" counts the units that died in training."""
    from course_utils.tables import format_table

    if not runs or not all(isinstance(v, list) and v for v in runs.values()):
        raise ValueError("runs must map learning rates to non-empty lists of TrainResult "
                         "(see train_over_seeds)")

    def cell(values, percent=True):
        s = spread(values)
        f = (lambda v: f"{v:.1%}") if percent else (lambda v: f"{v:.2f}")
        return f"{f(s.median)} ({f(s.min)} to {f(s.max)})"

    columns = {"after 1 step": [], f"after {steps} steps": [], "newly dead": [],
               "train loss": [], "val accuracy": []}
    for results in runs.values():
        columns["after 1 step"].append(cell([r.dead_after_first_step for r in results]))
        columns[f"after {steps} steps"].append(cell([r.dead for r in results]))
        columns["newly dead"].append(cell([r.dead - r.dead_at_init for r in results]))
        columns["train loss"].append(cell([r.train_loss for r in results], percent=False))
        columns["val accuracy"].append(cell([r.val_accuracy for r in results]))
    return format_table(columns, index=[f"{lr:g}" for lr in runs], index_name="learning rate")


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


def batch_gradient_mixed_over_seeds(seeds=range(200), batch: int = 32, d_in: int = 100,
                                    d_out: int = 50) -> dict:
    r""":func:`batch_gradient_mixed` for sigmoid and tanh inputs, once per seed.

    Each seed draws, as chapter 01's cell does, pre-activations ``z`` (batch, d_in) and then
    :math:`\delta` (batch, d_out) from ``numpy.random.default_rng(seed).normal``.

    Returns
    -------
    dict with keys "sigmoid", "tanh": Spread of the number of neurons (of d_out) whose
    mini-batch weight gradient has both signs.
    """
    from course_utils import activations

    seeds = _check_seeds(seeds)
    for name, value in (("batch", batch), ("d_in", d_in), ("d_out", d_out)):
        _check(name, value, 1, 4096, integer=True)
    counts = {"sigmoid": [], "tanh": []}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        z, delta = rng.normal(size=(batch, d_in)), rng.normal(size=(batch, d_out))
        counts["sigmoid"].append(batch_gradient_mixed(activations.sigmoid(z), delta))
        counts["tanh"].append(batch_gradient_mixed(activations.tanh(z), delta))
    return {name: spread(values) for name, values in counts.items()}
