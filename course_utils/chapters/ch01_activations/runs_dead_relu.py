r"""Chapter 01's dead ReLUs (``notebooks/01_activation_functions.ipynb``, section 4): a
large update leaves hidden units that never activate again.

:func:`train_relu_classifier` trains a one-hidden-layer ReLU network on the digits
(:func:`course_utils.data.load_digits`) with plain gradient descent. The hidden layer computes
what the course's shared core, :func:`course_utils.network.forward` /
:func:`~course_utils.network.backward`, computes, written out to skip the input's gradient (a
constant 1 appended to the input gives its units a bias); a linear softmax layer sits on top. After training it counts the hidden units that never activate:

.. math:: \text{dead}_j \iff z_{nj} = x_n^\top w_j \le 0 \text{ for every example } n,

a unit whose gradient is then 0 on every example, so gradient descent can never revive it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from course_utils import activations
from course_utils.data import Digits, check_digits, load_digits
from course_utils.stats import Spread, spread
from course_utils.tables import format_table
from course_utils.threads import one_thread
from course_utils.validation import (
    MAX_SEED,
    check_array,
    check_choice,
    check_elements,
    check_int,
    check_real,
    check_seed,
    check_sequence,
    check_work,
    make_rng,
)

__all__ = [
    "TrainResult",
    "train_relu_classifier",
    "dead_units",
    "dead_relu_table",
    "runs_table",
    "dead_at_init_over_seeds",
    "train_over_seeds",
    "over_seeds_table",
    "FIX_ACTIVATIONS",
    "DIVERGED",
    "fixes_table",
]

#: A training loss this large (4 times chance's ln 10) counts as diverged in :func:`fixes_table`.
DIVERGED = 10.0
#: The activations :func:`train_relu_classifier` accepts besides ReLU: the fixes for dead units.
FIX_ACTIVATIONS = ("relu", "leaky_relu", "elu")

#: Hidden units of the dead-ReLU network: 4096 columns of float64 weights per seed block
#: (50 seeds) is 50 x 65 x 4096 x 8 bytes = 106 MB, what a 2 GB server holds beside the rest.
MAX_HIDDEN_UNITS = 4096
#: Training runs one call may start (about 0.1 s each at the notebook's sizes).
MAX_RUNS = 100


@dataclass(frozen=True)
class TrainResult:
    r"""One training run.

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
    activation : str
        The hidden layer's, one of :data:`FIX_ACTIVATIONS`; for Leaky ReLU and ELU the "dead"
        shares count units with :math:`z \le 0` on every example, which still get a gradient.
    no_gradient : float
        Share of hidden units whose local gradient :math:`|f'(z)|` is below 0.01 on every
        example after training: dead ReLUs, and ELUs deep in their flat tail.
    """

    lr: float
    dead_at_init: float
    dead_after_first_step: float
    dead: float
    train_loss: float
    val_accuracy: float
    activation: str = "relu"
    no_gradient: float = float("nan")


def _check_training(hidden, steps, data: Digits, runs: int = 1) -> tuple:
    """hidden and steps checked, and the cost of ``runs`` runs bounded (before they start)."""
    hidden = check_int("hidden", hidden, 1, MAX_HIDDEN_UNITS)
    steps = check_int("steps", steps, 1)
    d_in = data.x_train.shape[1] + 1
    # per step: forward and backward through both layers, about 3 products each
    check_work(
        "training",
        3 * runs * steps * len(data.x_train) * hidden * (d_in + data.num_classes),
        advice="use fewer steps, runs or hidden units",
    )
    return hidden, steps


def _check_lr(name, value):
    return check_real(name, value, low=0, high=1000, low_open=True)


def _with_bias(x: np.ndarray) -> np.ndarray:
    return np.hstack([x, np.ones((len(x), 1))])


def dead_units(x: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Boolean mask (D_hidden,): units with :math:`z = xW \\le 0` on every row of ``x``.

    Parameters
    ----------
    x : ndarray, shape (N, D_in)
    W : ndarray, shape (D_in, D_hidden)
    """
    x = check_array("x", x, ndim=2)
    W = check_array("W", W, shape=(x.shape[1], None))
    check_elements("x @ W", (len(x), W.shape[1]))
    # float32 first (twice as fast), float64 for the units whose largest z is too close to 0
    # for float32 to tell its sign: the same answer as the float64 product alone.
    top = (x.astype(np.float32) @ W.astype(np.float32)).max(axis=0)
    scale = np.abs(x).sum(axis=1).max() * np.abs(W).max(axis=0)
    unsure = np.flatnonzero(~(np.abs(top) > 1e-5 * scale))  # NaN and inf included
    dead = top <= 0
    if unsure.size:
        dead[unsure] = ~((x @ W[:, unsure]) > 0).any(axis=0)
    return dead


def _softmax_loss(scores: np.ndarray, y: np.ndarray):
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(len(y)), y].mean()
    dscores = np.exp(log_p)
    dscores[np.arange(len(y)), y] -= 1
    return loss, dscores / len(y)


def _softmax_grad(scores: np.ndarray, y: np.ndarray) -> np.ndarray:
    """:func:`_softmax_loss`'s gradient alone, computed the same way (the same numbers)."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    dscores = np.exp(shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)))
    dscores[np.arange(len(y)), y] -= 1
    dscores /= len(y)
    return dscores


def _initial_weights(seed, d_in: int, hidden: int, classes: int):
    """W1 (Kaiming, std sqrt(2/d_in)) and W2 (std 1/sqrt(hidden)), drawn in this order."""
    rng = make_rng(seed)
    W1 = rng.normal(0.0, math.sqrt(2.0 / d_in), size=(d_in, hidden))
    W2 = rng.normal(0.0, 1 / math.sqrt(hidden), size=(hidden, classes))
    return W1, W2


#: :func:`_relu_steps` leaves dead units out in blocks of this many columns, at least two:
#: OpenBLAS computes each entry the same whichever columns it is given only in whole blocks of
#: its kernels (AVX2, SSE4) and above its small-matrix size (AVX-512), checked on all three.
COLUMN_BLOCK = 8


def _relu_steps(x, y, W1, W2, lr, steps, x_all) -> float:
    """``steps`` full-batch gradient steps of the ReLU network, updating W1 and W2 in place;
    returns the share of units dead (on ``x_all``) after the first step.

    A unit dead on the training images (:math:`z \\le 0` on each) gets exactly 0 as the
    gradient of its column of W1 and its row of W2, so they never change again: its columns
    are left out of the products for W1 from then on (the same numbers for the others, bit for
    bit: a unit test compares), while the gradients are finite (inf times the mask's 0 is nan).
    """
    hidden = W1.shape[1]
    x_t = np.ascontiguousarray(x.T)  # the same products as x.T, a quarter faster
    trained = np.arange(hidden)  # the columns of W1 the products compute
    h = np.zeros((len(x), hidden))
    dead_after_first = float("nan")
    for step in range(steps):
        every = len(trained) == hidden
        # network.forward / network.backward's arithmetic, written out: they would also compute
        # the gradient for the input x, a third of the work, which nobody needs here. The loss
        # itself is computed once, after training: its gradient is all a step needs.
        z = x @ (W1 if every else W1[:, trained])
        if every:
            h = np.maximum(z, 0)  # relu(z) without its input checks
        else:  # the left-out columns stay 0
            h[:, trained] = np.maximum(z, 0)
        dscores = _softmax_grad(h @ W2, y)
        if not every and not np.isfinite(dscores).all():
            trained, every = np.arange(hidden), True  # the left-out gradients would be nan
            z = x @ W1
        active = z > 0
        dz = dscores @ (W2 if every else W2[trained]).T
        dz *= active.astype(np.float64)  # relu_grad(z); a bool mask is 10x slower to multiply
        W2 -= lr * (h.T @ dscores)  # in place: the same numbers as W2 - lr * (...)
        if every:
            W1 -= lr * (x_t @ dz)
        else:
            W1[:, trained] -= lr * (x_t @ dz)
        if step == 0:
            dead_after_first = dead_units(x_all, W1).mean()
        trained = _still_trained(trained, ~active.any(axis=0), hidden, dscores, W2)
    return dead_after_first


def _still_trained(trained, dead, hidden, dscores, W2) -> np.ndarray:
    """The columns :func:`_relu_steps` trains next: ``trained`` without those ``dead`` on the
    training images, padded with dead ones to whole blocks of :data:`COLUMN_BLOCK` (at least
    two); all of them while the gradients may overflow or the width is not whole blocks."""
    if hidden % COLUMN_BLOCK or not dead.any() or not np.isfinite(dscores).all():
        return trained
    frozen = trained[dead]
    if not np.abs(W2[frozen]).max() < 1e300:  # dscores @ W2.T could overflow on them
        return trained
    keep = trained[~dead]
    size = max(2, -(-len(keep) // COLUMN_BLOCK)) * COLUMN_BLOCK
    if size >= len(trained):
        return trained
    return np.union1d(keep, frozen[: size - len(keep)])


def train_relu_classifier(
    lr: float, hidden: int = 128, steps: int = 50, seed=0, digits=None, activation="relu"
) -> TrainResult:
    r"""Train ``x -> relu(x W1) -> softmax(h W2)`` on the digits by full-batch gradient descent.

    The setting: ``x`` is the 64 pixels (in [0, 1]) and a constant 1, whose row of ``W1`` is the
    hidden units' bias; ``W1`` (65 x hidden) is Kaiming-initialised, :math:`N(0, 2/65)`, then
    ``W2`` (hidden x 10, no bias) :math:`N(0, 1/\text{hidden})`, both from ``seed``; the data
    is :func:`course_utils.data.load_digits`'s stratified 75/25 split (1,347 training and 450
    validation images). Each step is :math:`W \leftarrow W - \eta\,\partial L/\partial W`
    for the mean cross-entropy over all training images.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\eta`, in (0, 1000].
    hidden : int
        Hidden units, 1 to :data:`MAX_HIDDEN_UNITS`.
    steps : int
        Gradient steps, at least 1; the run's cost is bounded by
        :data:`~course_utils.validation.MAX_MULTIPLY_ADDS` (about 10,000 steps at 128 units).
    seed : int or numpy.random.Generator
        Fixes the initial weights.
    digits : Digits, optional
        The data (default :func:`course_utils.data.load_digits`).
    activation : str
        One of :data:`FIX_ACTIVATIONS` (default ReLU), with torch's defaults (slope 0.01,
        alpha 1).

    Returns
    -------
    TrainResult
    """
    check_choice("activation", activation, FIX_ACTIVATIONS)
    f, df = activations.get(activation)
    seed = check_seed("seed", seed)
    data = check_digits(digits)
    lr = _check_lr("lr", lr)
    hidden, steps = _check_training(hidden, steps, data)
    x, y = _with_bias(data.x_train), data.y_train
    x_all = np.vstack([x, _with_bias(data.x_val)])
    x_t = np.ascontiguousarray(x.T)  # the same products as x.T, a quarter faster
    W1, W2 = _initial_weights(seed, x.shape[1], hidden, data.num_classes)
    dead_at_init = dead_units(x_all, W1).mean()
    # Small matrices: one BLAS thread is fastest, and several threads on a busy 2-core machine
    # were 10x slower (threadpoolctl comes with scikit-learn).
    with one_thread(), np.errstate(over="ignore", invalid="ignore"):  # huge lr: nan
        if activation == "relu":
            dead_after_first = _relu_steps(x, y, W1, W2, lr, steps, x_all)
        for step in range(steps if activation != "relu" else 0):
            z = x @ W1  # _relu_steps' arithmetic, with f and df
            h = f(z)
            dscores = _softmax_grad(h @ W2, y)
            dz = dscores @ W2.T
            dz *= df(z)
            W2 -= lr * (h.T @ dscores)  # in place: the same numbers as W2 - lr * (...)
            W1 -= lr * (x_t @ dz)
            if step == 0:
                dead_after_first = dead_units(x_all, W1).mean()
        h_val = f(_with_bias(data.x_val) @ W1)
        accuracy = float(((h_val @ W2).argmax(axis=1) == data.y_val).mean())
        z_all = x_all @ W1
        final_loss = _softmax_loss(f(z_all[: len(x)]) @ W2, y)[0]
        no_gradient = float((np.abs(df(z_all)) < 0.01).all(axis=0).mean())
        dead = ~(z_all > 0).any(axis=0)  # dead_units(x_all, W1): its float64 product
    return TrainResult(
        lr,
        float(dead_at_init),
        float(dead_after_first),
        float(dead.mean()),
        float(final_loss) if np.isfinite(final_loss) else float("nan"),
        accuracy,
        activation,
        no_gradient,
    )


def _check_result(name, value):
    if not isinstance(value, TrainResult):
        raise ValueError(f"{name} must be a TrainResult; got {type(value).__name__}")
    return value


def runs_table(results, steps: int = 50) -> str:
    """The printed table of some runs, one row per run (learning rate); ``steps`` names the
    column of the final share."""
    results = check_sequence("results", results, _check_result)
    steps = check_int("steps", steps, 1)
    return format_table(
        {
            "dead at init": [r.dead_at_init for r in results],
            "after 1 step": [r.dead_after_first_step for r in results],
            f"after {steps} steps": [r.dead for r in results],
            "train loss": [r.train_loss for r in results],
            "val accuracy": [r.val_accuracy for r in results],
        },
        index=[f"{r.lr:g}" for r in results],
        index_name="learning rate",
        percent=["dead at init", "after 1 step", f"after {steps} steps", "val accuracy"],
    )


def dead_relu_table(
    lrs=(0.3, 1.0, 10.0), hidden: int = 128, steps: int = 50, seed: int = 0
) -> tuple[str, list]:
    """Train once per learning rate (at most :data:`MAX_RUNS`); return the printed table and
    the results."""
    lrs = check_sequence("lrs", lrs, _check_lr, max_len=MAX_RUNS)
    digits = load_digits()  # once, for every run
    _check_training(hidden, steps, digits, runs=len(lrs))
    results = [train_relu_classifier(lr, hidden, steps, seed, digits) for lr in lrs]
    return runs_table(results, steps), results


# ------------------------------------------------------------------ over seeds
def _check_seeds(seeds, max_len=None) -> list:
    def seed(name, value):
        return check_int(name, value, 0, MAX_SEED)

    return check_sequence("seeds", seeds, seed, **({} if max_len is None else {"max_len": max_len}))


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
    hidden = check_int("hidden", hidden, 1, MAX_HIDDEN_UNITS)
    data = check_digits(digits)
    x_all = _with_bias(np.vstack([data.x_train, data.x_val]))
    check_work(
        "the initial weights of every seed",
        len(seeds) * x_all.size * hidden,
        advice="use fewer seeds or hidden units",
    )
    shares = []
    for start in range(0, len(seeds), 50):  # 50 seeds at a time: at most 50 x 4096 columns
        block = seeds[start : start + 50]
        W1 = np.hstack(
            [_initial_weights(s, x_all.shape[1], hidden, data.num_classes)[0] for s in block]
        )
        with one_thread():  # as in training: one thread is fastest on a busy machine
            dead = dead_units(x_all, W1).reshape(len(block), hidden)
        shares.extend(dead.mean(axis=1))
    return spread(shares)


def train_over_seeds(
    lrs=(0.3, 1.0, 10.0), seeds=range(5), hidden: int = 128, steps: int = 50, activation="relu"
) -> dict:
    """:func:`train_relu_classifier` for every learning rate and seed (``activation`` one of
    :data:`FIX_ACTIVATIONS`).

    Returns
    -------
    dict of float -> list of TrainResult
        Per learning rate, one result per seed, in the order of ``seeds``.
    """
    lrs = check_sequence("lrs", lrs, _check_lr, max_len=MAX_RUNS)
    seeds = _check_seeds(seeds, max_len=MAX_RUNS)
    if len(seeds) * len(lrs) > MAX_RUNS:
        raise ValueError(
            f"at most {MAX_RUNS} runs (each takes ~0.1 s); got {len(lrs)} learning "
            f"rates x {len(seeds)} seeds"
        )
    digits = load_digits()  # once, for every run
    _check_training(hidden, steps, digits, runs=len(seeds) * len(lrs))
    check_choice("activation", activation, FIX_ACTIVATIONS)
    return {
        float(lr): [train_relu_classifier(lr, hidden, steps, s, digits, activation) for s in seeds]
        for lr in lrs
    }


def over_seeds_table(runs: dict, steps: int = 50) -> str:
    """Per learning rate, each column of :func:`runs_table` over the seeds:
    ``median (smallest to largest)``; "newly dead" counts the units that died in training."""
    if not isinstance(runs, dict) or not runs:
        raise ValueError(
            "runs must map learning rates to non-empty lists of TrainResult "
            f"(see train_over_seeds); got {type(runs).__name__}"
        )
    runs = {
        check_real("a learning rate of runs", lr): check_sequence(
            f"runs[{lr!r}]", results, _check_result
        )
        for lr, results in runs.items()
    }
    steps = check_int("steps", steps, 1)

    def cell(values, percent=True):
        s = spread(values)
        f = (lambda v: f"{v:.1%}") if percent else (lambda v: f"{v:.2f}")
        return f"{f(s.median)} ({f(s.min)} to {f(s.max)})"

    columns = {
        "after 1 step": [],
        f"after {steps} steps": [],
        "newly dead": [],
        "train loss": [],
        "val accuracy": [],
    }
    for results in runs.values():
        columns["after 1 step"].append(cell([r.dead_after_first_step for r in results]))
        columns[f"after {steps} steps"].append(cell([r.dead for r in results]))
        columns["newly dead"].append(cell([r.dead - r.dead_at_init for r in results]))
        columns["train loss"].append(cell([r.train_loss for r in results], percent=False))
        columns["val accuracy"].append(cell([r.val_accuracy for r in results]))
    return format_table(columns, index=[f"{lr:g}" for lr in runs], index_name="learning rate")


def fixes_table(runs: dict, steps: int = 50) -> str:
    """One row per activation (runs at one learning rate, one list of results per activation):
    the units negative on every image, those passing less than 1% of the gradient on every
    image, the final loss and the validation accuracy, each ``median (smallest to largest)``
    (the value itself for one seed).

    A loss of :data:`DIVERGED` or more (or an overflow) is only counted: the size of a
    diverged run's loss is not a reproducible number.
    """
    if not isinstance(runs, dict) or not runs:
        raise ValueError(
            "runs must map activation names to non-empty lists of TrainResult; "
            f"got {type(runs).__name__}"
        )
    runs = {
        check_choice("an activation of runs", name, FIX_ACTIVATIONS): check_sequence(
            f"runs[{name!r}]", results, _check_result
        )
        for name, results in runs.items()
    }
    steps = check_int("steps", steps, 1)

    def cell(values, fmt):
        if len(values) == 1:  # one seed: the value itself
            return fmt(values[0])
        s = spread(values)
        return f"{fmt(s.median)} ({fmt(s.min)} to {fmt(s.max)})"

    def percent(v):
        return f"{v:.0%}"

    def loss(results):
        values = [r.train_loss for r in results]
        if all(np.isfinite(v) and v < DIVERGED for v in values):
            return cell(values, lambda v: f"{v:.2g}")
        count = sum(not np.isfinite(v) or v >= DIVERGED for v in values)
        return (
            f"> {DIVERGED:g}" if len(values) == 1 else f"> {DIVERGED:g} in {count} of {len(values)}"
        )

    columns = {
        f"z ≤ 0 on all, step {steps}": [
            cell([r.dead for r in rs], percent) for rs in runs.values()
        ],
        "|f'| < 0.01 on all": [cell([r.no_gradient for r in rs], percent) for rs in runs.values()],
        "train loss": [loss(rs) for rs in runs.values()],
        "val accuracy": [cell([r.val_accuracy for r in rs], percent) for rs in runs.values()],
    }
    return format_table(columns, index=list(runs), index_name="activation")
