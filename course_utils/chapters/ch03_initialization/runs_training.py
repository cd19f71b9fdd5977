r"""Chapter 03 beyond step 0: does the initial scale change how a network *trains*?

:func:`train_inits` trains one deep tanh MLP on scikit-learn's digits from several weight
scales, several seeds each, all at once: the runs are stacked along a leading axis, so one
NumPy call steps every run (``(R, n_in, n_out)`` weights, ``(R, B, n)`` activations).

Every layer is :math:`z = aW + b`, weights :math:`W \sim N(0, (g/\sqrt{n_\text{in}})^2)`,
biases 0; the hidden layers apply tanh, the last one feeds a softmax cross-entropy. Plain
mini-batch SGD, the same batches for every run (only the weights differ).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils.data import check_digits
from course_utils.threads import one_thread
from course_utils.validation import (
    MAX_SEED,
    check_int,
    check_real,
    check_sequence,
    check_work,
)

__all__ = ["TRAINING_GAINS", "TrainingRuns", "train_inits"]

#: sigma * sqrt(fan_in) of the chapter's three tanh cases: the lecture's 0.01 and 0.05 at
#: fan_in 4096, and Xavier (fan_in) in between; then tanh's gain 5/3.
TRAINING_GAINS = {
    "N(0, 0.01²)-like, 0.64/√n": 0.64,
    "Xavier, 1/√n": 1.0,
    "gain 5/3, 1.67/√n": 5 / 3,
    "N(0, 0.05²)-like, 3.2/√n": 3.2,
}
_MAX_RUNS = 64


@dataclass(frozen=True)
class TrainingRuns:
    """What :func:`train_inits` recorded.

    Attributes
    ----------
    names : tuple of str, length I
    gains : ndarray, shape (I,)
    seeds : tuple of int, length S
    steps : ndarray, shape (T,)
        Where the losses were recorded: 0, then every ``record_every`` steps.
    train_loss : ndarray, shape (I, S, T)
        Cross-entropy: at step 0 on the whole training set, after that the mean over the
        mini-batches since the previous record (a training log's smoothed loss).
    val_accuracy : ndarray, shape (I, S)
        Validation accuracy after the last step.
    """

    names: tuple
    gains: np.ndarray
    seeds: tuple
    steps: np.ndarray
    train_loss: np.ndarray
    val_accuracy: np.ndarray

    def median_loss(self) -> np.ndarray:
        """``(I, T)``: the median over seeds of the training loss."""
        return np.median(self.train_loss, axis=1)


def _softmax_loss(logits: np.ndarray, y: np.ndarray):
    """Mean cross-entropy per run ``(R,)`` and its gradient w.r.t. ``logits (R, N, C)``."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    n = logits.shape[1]
    loss = -log_p[:, np.arange(n), y].mean(axis=1)
    grad = np.exp(log_p)
    grad[:, np.arange(n), y] -= 1.0
    return loss, grad / n


def _forward(x, weights, biases):
    """Activations of every layer; ``x`` is ``(N, D)`` (shared) or ``(R, N, D)``."""
    acts = [x]
    a = x
    for layer, (W, b) in enumerate(zip(weights, biases)):
        if a.ndim == 2:  # one input for every run: one matrix product, not R broadcast ones
            runs, n_in, n_out = W.shape
            z = (
                (a @ W.transpose(1, 0, 2).reshape(n_in, runs * n_out))
                .reshape(len(a), runs, n_out)
                .transpose(1, 0, 2)
            )
        else:
            z = a @ W
        z = z + b[:, None, :]
        a = z if layer == len(weights) - 1 else np.tanh(z)
        acts.append(a)
    return acts


def train_inits(
    gains=None,
    seeds=(0, 1, 2),
    depth: int = 6,
    width: int = 32,
    steps: int = 200,
    lr: float = 0.1,
    batch_size: int = 32,
    record_every: int = 25,
    data=None,
) -> TrainingRuns:
    r"""Train a deep tanh MLP on the digits from several initial scales and seeds.

    Parameters
    ----------
    gains : dict of str -> float, optional
        Name -> :math:`g`, each layer's weights drawn with std :math:`g/\sqrt{n_\text{in}}`;
        default :data:`TRAINING_GAINS`.
    seeds : sequence of int
        One run per gain and seed; the seed draws the weights (the batches are shared).
    depth : int
        Hidden tanh layers (1 to 20), each ``width`` units (2 to 256), then a linear layer
        to the 10 classes.
    steps : int
        SGD steps (1 to 5000), ``batch_size`` examples each (1 to 1347), learning rate ``lr``.
    record_every : int
        The training loss is recorded at step 0 (whole training set) and then every
        ``record_every`` steps (the mean over those mini-batches).
    data : Digits, optional
        As :func:`course_utils.data.load_digits` returns (the default); the inputs are
        standardised with the training set's mean and std per pixel (chapter 02).

    Returns
    -------
    TrainingRuns
    """
    gains = TRAINING_GAINS if gains is None else gains
    if not isinstance(gains, dict) or not gains:
        raise ValueError(f"gains must be a non-empty dict of name -> gain; got {gains!r}")
    gain_values = np.array(
        [check_real(f"gains[{name!r}]", g, 0, 100, low_open=True) for name, g in gains.items()]
    )
    seeds = tuple(
        check_sequence(
            "seeds", seeds, lambda n, s: check_int(n, s, 0, MAX_SEED), min_len=1, max_len=16
        )
    )
    depth = check_int("depth", depth, 1, 20)
    width = check_int("width", width, 2, 256)
    steps = check_int("steps", steps, 1, 5000)
    lr = check_real("lr", lr, 0, 10, low_open=True)
    batch_size = check_int("batch_size", batch_size, 1, 1347)
    record_every = check_int("record_every", record_every, 1, steps)
    n_runs = len(gain_values) * len(seeds)
    if n_runs > _MAX_RUNS:
        raise ValueError(f"gains x seeds must make at most {_MAX_RUNS} runs; got {n_runs}")
    data = check_digits(data)
    check_work("this training", n_runs * steps * batch_size * width * width * (depth + 1))
    # Small matrices: one BLAS thread is fastest, and 10x faster than two on a busy machine.
    with one_thread():
        return _train(
            gains, gain_values, seeds, depth, width, steps, lr, batch_size, record_every, data
        )


def _train(gains, gain_values, seeds, depth, width, steps, lr, batch_size, record_every, data):
    n_runs = len(gain_values) * len(seeds)

    mean, std = data.x_train.mean(axis=0), data.x_train.std(axis=0)
    std[std == 0] = 1.0
    x_train, x_val = (data.x_train - mean) / std, (data.x_val - mean) / std
    y_train, y_val = np.asarray(data.y_train), np.asarray(data.y_val)
    sizes = [x_train.shape[1]] + [width] * depth + [10]

    # Run r = (gain i, seed s); layer l of run r from seed s alone: every gain scales the
    # same unit-variance draw, so the runs of one seed differ only in the scale.
    gain_of_run = np.repeat(gain_values, len(seeds))
    units = [np.random.default_rng([s, 3]) for s in seeds]
    weights, biases = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        unit = np.stack([rng.standard_normal((n_in, n_out)) for rng in units])
        weights.append(
            np.tile(unit, (len(gain_values), 1, 1)) * (gain_of_run / np.sqrt(n_in))[:, None, None]
        )
        biases.append(np.zeros((n_runs, n_out)))

    batches = np.random.default_rng([seeds[0], 4])
    # Step 0 on the whole training set; after it, the mean loss of the last record_every
    # mini-batches (what a training log shows; it costs no extra forward pass).
    recorded = [0]
    losses = [_softmax_loss(_forward(x_train, weights, biases)[-1], y_train)[0]]
    window = np.zeros(n_runs)
    order, position = batches.permutation(len(x_train)), 0
    for step in range(1, steps + 1):
        if position + batch_size > len(order):
            order, position = batches.permutation(len(x_train)), 0
        idx = order[position : position + batch_size]
        position += batch_size
        acts = _forward(x_train[idx], weights, biases)
        loss, grad = _softmax_loss(acts[-1], y_train[idx])
        window += loss
        if step % record_every == 0 or step == steps:
            recorded.append(step)
            losses.append(window / (step - recorded[-2]))
            window = np.zeros(n_runs)
        for layer in range(len(weights) - 1, -1, -1):
            a_in = acts[layer]
            grad_w = (a_in.transpose(0, 2, 1) if a_in.ndim == 3 else a_in.T) @ grad
            grad_b = grad.sum(axis=1)
            if layer > 0:
                grad = (grad @ weights[layer].transpose(0, 2, 1)) * (1.0 - acts[layer] ** 2)
            weights[layer] -= lr * grad_w
            biases[layer] -= lr * grad_b
    logits = _forward(x_val, weights, biases)[-1]
    accuracy = (logits.argmax(axis=-1) == y_val).mean(axis=1)
    shape = (len(gain_values), len(seeds))
    return TrainingRuns(
        names=tuple(gains),
        gains=gain_values,
        seeds=seeds,
        steps=np.array(recorded),
        train_loss=np.stack(losses, axis=-1).reshape(*shape, len(recorded)),
        val_accuracy=accuracy.reshape(shape),
    )
