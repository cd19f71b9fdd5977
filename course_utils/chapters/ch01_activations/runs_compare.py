r"""Chapter 01's side-by-side training (``notebooks/01_activation_functions.ipynb``): the same
small network trained on the digits with each activation.

:func:`compare_activations` trains ``64 -> 64 -> 64 -> 64 -> 10`` (three hidden layers with
biases, softmax output) by mini-batch SGD, one network per seed, all seeds at once: the
weights carry a leading seed axis and every product is a batched ``matmul``. Each hidden layer
is :math:`a_l = f(a_{l-1} W_l + b_l)`; the backward pass is the one of
:func:`course_utils.network.backward`, with the bias gradient
:math:`\partial L/\partial b_l = \sum_n \partial L/\partial z_{l,n}` added.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from course_utils import activations
from course_utils.data import check_digits
from course_utils.stats import spread
from course_utils.tables import format_table
from course_utils.threads import one_thread
from course_utils.validation import (
    MAX_SEED,
    check_choice,
    check_int,
    check_real,
    check_sequence,
    check_work,
    make_rng,
)

__all__ = ["KAIMING", "ComparisonRun", "compare_activations", "comparison_table"]

#: Activations initialised with Kaiming's variance 2/n (ReLU and its relatives); the others
#: (sigmoid, tanh, softplus) get 1/n, the fan-in form of Xavier's (chapter 03).
KAIMING = ("relu", "leaky_relu", "elu", "gelu", "silu")


@dataclass(frozen=True)
class ComparisonRun:
    """One activation trained once per seed.

    Attributes
    ----------
    activation : str
    val_accuracy : dict of int -> ndarray, shape (n_seeds,)
        Validation accuracy per seed after the epochs asked for (0: before training).
    """

    activation: str
    val_accuracy: dict


def _forward(x, weights, biases, f):
    """Hidden activations (inputs of each layer, pre-activations) and the scores."""
    inputs, zs = [], []
    a = x
    for W, b in zip(weights[:-1], biases[:-1]):
        inputs.append(a)
        z = a @ W + b
        zs.append(z)
        a = f(z)
    inputs.append(a)
    return inputs, zs, a @ weights[-1] + biases[-1]


def _log_softmax(scores):
    shifted = scores - scores.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _accuracy(x, y, weights, biases, f) -> np.ndarray:
    """Accuracy per seed, shape (S,)."""
    scores = _forward(x, weights, biases, f)[2]  # (S, N, classes)
    return (scores.argmax(axis=-1) == y[None, :]).mean(axis=1)


def compare_activations(
    names=("sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu"),
    seeds=range(5),
    epochs: int = 5,
    lr: float = 0.1,
    batch: int = 32,
    hidden: int = 64,
    layers: int = 3,
    report=(1,),
    digits=None,
) -> dict:
    r"""Train the same network with each activation by mini-batch SGD, once per seed.

    Per seed: weights :math:`N(0, g/n_\text{in})` with :math:`g = 2` for :data:`KAIMING` and
    1 otherwise (the output layer :math:`1/n_\text{in}`), biases 0, then ``epochs`` passes
    over the training digits in a seeded random order (``batch`` examples a step, the last
    partial batch dropped), :math:`\theta \leftarrow \theta - \eta\,\nabla L` on the batch's
    mean cross-entropy. Every activation sees the same initial draws and the same order, so
    the runs differ only in :math:`f`.

    Parameters
    ----------
    names : sequence of str
        Names from :data:`course_utils.activations.NAMES`.
    seeds : sequence of int
        At most 20.
    epochs : int
        1 to 50.
    lr : float
        :math:`\eta`, in (0, 10].
    batch, hidden, layers : int
        Batch size (1 to the training set's size), hidden width (1 to 512) and hidden
        layers (1 to 10).
    report : sequence of int
        Epochs (0 to ``epochs``) after which the validation accuracy is kept; the last
        epoch always is.
    digits : Digits, optional
        The data (default :func:`course_utils.data.load_digits`).

    Returns
    -------
    dict of str -> ComparisonRun
    """
    names = check_sequence(
        "names",
        names,
        lambda name, value: check_choice(name, value, activations.NAMES),
        max_len=len(activations.NAMES),
    )
    seeds = check_sequence(
        "seeds", seeds, lambda name, s: check_int(name, s, 0, MAX_SEED), max_len=20
    )
    epochs = check_int("epochs", epochs, 1, 50)
    lr = check_real("lr", lr, low=0, high=10, low_open=True)
    hidden = check_int("hidden", hidden, 1, 512)
    layers = check_int("layers", layers, 1, 10)
    data = check_digits(digits)
    x = data.x_train
    batch = check_int("batch", batch, 1, len(x))
    sizes = [x.shape[1]] + [hidden] * layers + [data.num_classes]
    check_work(
        "the comparison",
        3
        * len(names)
        * len(seeds)
        * epochs
        * len(x)
        * sum(a * b for a, b in zip(sizes, sizes[1:])),
        advice="use fewer activations, seeds, epochs or units",
    )
    report = set(
        check_sequence("report", report, lambda n, e: check_int(n, e, 0, epochs), max_len=51)
    )
    steps = len(x) // batch
    return {
        name: _train(name, seeds, epochs, lr, batch, sizes, steps, data, report) for name in names
    }


def _train(name, seeds, epochs, lr, batch, sizes, steps, data, report):
    f, df = activations.get(name)
    gain = 2.0 if name in KAIMING else 1.0
    x, y = data.x_train, data.y_train
    rngs = [make_rng(s) for s in seeds]
    weights, biases = [], []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        g = gain if i < len(sizes) - 2 else 1.0
        weights.append(
            np.stack([r.normal(0.0, math.sqrt(g / n_in), size=(n_in, n_out)) for r in rngs])
        )
        biases.append(np.zeros((len(seeds), 1, n_out)))
    orders = np.stack([[r.permutation(len(x)) for _ in range(epochs)] for r in rngs], axis=1)
    rows, columns = np.arange(len(seeds))[:, None], np.arange(batch)[None, :]
    accuracy = {}
    with one_thread(), np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(epochs):
            if epoch in report:
                accuracy[epoch] = _accuracy(data.x_val, data.y_val, weights, biases, f)
            for step in range(steps):
                idx = orders[epoch][:, step * batch : (step + 1) * batch]  # (S, batch)
                inputs, zs, scores = _forward(x[idx], weights, biases, f)
                dz = np.exp(_log_softmax(scores))
                dz[rows, columns, y[idx]] -= 1
                dz /= batch
                for layer in range(len(weights) - 1, -1, -1):
                    grad_w = np.swapaxes(inputs[layer], 1, 2) @ dz
                    grad_b = dz.sum(axis=1, keepdims=True)
                    if layer > 0:
                        dz = (dz @ np.swapaxes(weights[layer], 1, 2)) * df(zs[layer - 1])
                    weights[layer] -= lr * grad_w
                    biases[layer] -= lr * grad_b
        accuracy[epochs] = _accuracy(data.x_val, data.y_val, weights, biases, f)
    return ComparisonRun(name, accuracy)


def comparison_table(runs: dict) -> str:
    """Validation accuracy after each reported epoch, ``median (smallest to largest)`` over
    the seeds, one row per activation."""
    if not isinstance(runs, dict) or not runs:
        raise ValueError(
            "runs must map activation names to ComparisonRun (see compare_activations); "
            f"got {type(runs).__name__}"
        )
    for key, run in runs.items():
        if not isinstance(run, ComparisonRun):
            raise ValueError(f"runs[{key!r}] must be a ComparisonRun; got {type(run).__name__}")
    epochs = sorted(set.intersection(*(set(r.val_accuracy) for r in runs.values())))

    def cell(values):
        s = spread(values)
        return f"{s.median:.0%} ({s.min:.0%} to {s.max:.0%})"

    columns = {
        f"val accuracy, epoch {e}": [cell(r.val_accuracy[e]) for r in runs.values()] for e in epochs
    }
    return format_table(columns, index=list(runs), index_name="activation")
