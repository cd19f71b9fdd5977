"""Chapter 08's seeded experiments: the numbers ``notebooks/08_sanity_checks.ipynb`` prints.

They run the lesson's checks (:mod:`course_utils.sanity`, :mod:`course_utils.gradcheck`) many
times:

- :func:`initial_loss_sweep`: the loss at step 0 over output-layer scales and seeds;
- :func:`memorisation_over_seeds`: overfitting 20 examples for many seeds at once, with true
  or shuffled labels;
- :func:`difference_errors`: the error of a difference quotient over a grid of steps ``h``
  (truncation against round-off); the explorer's computation, that error for tanh with its
  two models, is :mod:`~course_utils.chapters.ch08_sanity_checks.runs_step_tradeoff`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from course_utils.gradcheck import METHODS
from course_utils.sanity import (
    MAX_CLASSES,
    MAX_OVERFIT_STEPS,
    check_data,
    fresh_classifier,
    initial_loss,
    small_score_loss,
    tiny_subset,
)
from course_utils.validation import (
    MAX_ITEMS,
    MAX_SEED,
    check_array,
    check_bool,
    check_callable,
    check_choice,
    check_finite_result,
    check_int,
    check_real,
    check_sequence,
    check_work,
)

__all__ = [
    "LossSweep",
    "initial_loss_sweep",
    "SeedLosses",
    "initial_loss_over_seeds",
    "Memorisation",
    "memorisation_over_seeds",
    "memorisation_true_and_shuffled",
    "difference_errors",
]


@dataclass(frozen=True)
class LossSweep:
    r"""Initial losses over output-layer scales, each averaged over several seeds.

    Attributes
    ----------
    output_std : ndarray, shape (K,)
    score_std : ndarray, shape (K,)
        Std of the class scores, mean over the seeds.
    mean_loss, min_loss, max_loss : ndarray, shape (K,)
        The data loss over the seeds.
    predicted : ndarray, shape (K,)
        :func:`~course_utils.sanity.small_score_loss` at ``score_std``.
    sem_loss : ndarray, shape (K,)
        Standard error of ``mean_loss``: the seeds' sample std (ddof 1) over
        :math:`\sqrt{S}`; NaN for a single seed. A mean over S seeds and the formula can only
        be expected to agree to about this.
    """

    output_std: np.ndarray
    score_std: np.ndarray
    mean_loss: np.ndarray
    min_loss: np.ndarray
    max_loss: np.ndarray
    predicted: np.ndarray
    sem_loss: np.ndarray


def initial_loss_sweep(
    x, y, num_classes: int, output_stds, seeds=range(10), depth: int = 2, width: int = 64
) -> LossSweep:
    """The initial loss of :func:`~course_utils.sanity.fresh_classifier` for each ``output_std``, over ``seeds``.

    Each seed builds the whole network afresh (hidden layers with ``seed``, the output layer
    redrawn with ``seed + 1``), so the spread over seeds is that of the whole init. One seed's loss also carries a first-order term of random sign (the random output weights
    happen to favour the right classes a little, or the wrong ones); averaged over seeds it
    cancels and the mean follows :func:`~course_utils.sanity.small_score_loss` for small scores.

    Parameters
    ----------
    x : array-like, shape (N, D)
    y : array-like of int, shape (N,)
    num_classes : int
    output_stds : sequence of float, each > 0 (at most 20)
    seeds : sequence of int (at most 50)
    depth, width : int
        Of the classifier.

    Returns
    -------
    LossSweep
    """
    num_classes = check_int("num_classes", num_classes, 2, MAX_CLASSES)
    stds = check_sequence(
        "output_stds",
        output_stds,
        max_len=20,
        item=lambda n, s: check_real(n, s, 0.0, 1e3, low_open=True),
    )
    seeds = check_sequence(
        "seeds", seeds, max_len=50, item=lambda n, s: check_int(n, s, 0, MAX_SEED - 1)
    )
    x = check_array("x", x, ndim=2)
    y = check_array("y", y, shape=(len(x),), dtype=np.int64)
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"y must hold class indices 0..{num_classes - 1}; got values from {y.min()} to "
            f"{y.max()}"
        )
    check_work("initial_loss_sweep", len(stds) * len(seeds) * x.size * width * (depth + 1))
    # (K, S) losses and score stds. Only the output layer depends on output_std: each seed's
    # network is built once and its hidden layers run once; the output layer is redrawn per
    # std exactly as fresh_classifier draws it, so every number is initial_loss's, bit for bit.
    per_seed = [_losses_over_output_stds(x, y, num_classes, stds, s, depth, width) for s in seeds]
    rows = []
    for k in range(len(stds)):
        losses = np.array([runs[k][0] for runs in per_seed])
        score = float(np.mean([runs[k][1] for runs in per_seed]))
        sem = losses.std(ddof=1) / math.sqrt(len(losses)) if len(losses) > 1 else math.nan
        rows.append(
            (
                score,
                losses.mean(),
                losses.min(),
                losses.max(),
                small_score_loss(num_classes, score),
                sem,
            )
        )
    cols = np.array(rows).T
    return LossSweep(np.array(stds), *cols)


def _losses_over_output_stds(x, y, num_classes, stds, seed, depth, width) -> list:
    """``[(data_loss, score_std)]`` of ``initial_loss(fresh_classifier(..., output_std=std,
    seed=seed), x, y)`` for each std, the same floats: one build, one pass of the hidden layers."""
    import torch
    import torch.nn.functional as F

    from course_utils.training import single_torch_thread

    model = fresh_classifier(
        x.shape[1], num_classes, depth=depth, width=width, output_std=stds[0], seed=seed
    )
    last = model[-1]
    model.eval()
    out = []
    with single_torch_thread(), torch.no_grad():  # as initial_loss and training.evaluate
        hidden = model[:-1](torch.as_tensor(x, dtype=torch.float32))
        targets = torch.as_tensor(y, dtype=torch.int64)
        for std in stds:
            # fresh_classifier's output layer for this std: N(0, std²) from seed + 1, bias 0
            last.weight.normal_(0.0, float(std), generator=torch.Generator().manual_seed(seed + 1))
            last.bias.zero_()
            scores = last(hidden)
            loss = F.cross_entropy(scores, targets).item()
            out.append((loss, float(scores.double().std(unbiased=False))))
    return out


@dataclass(frozen=True)
class SeedLosses:
    r"""The initial loss of one kind of fresh classifier, seed by seed (:func:`initial_loss_over_seeds`).

    Attributes
    ----------
    seeds : tuple of int, length S
    data_loss : ndarray, shape (S,)
    score_std : ndarray, shape (S,)
        Each seed's std of the class scores, :math:`\sigma_s`.
    predicted : ndarray, shape (S,)
        :func:`~course_utils.sanity.small_score_loss` at each seed's :math:`\sigma_s`.
    """

    seeds: tuple
    data_loss: np.ndarray
    score_std: np.ndarray
    predicted: np.ndarray

    @property
    def sem(self) -> float:
        """Standard error of the mean loss over the seeds (sample std / sqrt(S))."""
        if len(self.seeds) < 2:
            return math.nan
        return float(self.data_loss.std(ddof=1) / math.sqrt(len(self.seeds)))


def initial_loss_over_seeds(x, y, num_classes: int, seeds=range(10), **classifier) -> SeedLosses:
    r""":func:`~course_utils.sanity.initial_loss` of ``fresh_classifier(..., seed=s)`` for each seed.

    One seed's loss is the second-order prediction plus a first-order term of either sign
    (:math:`m - s_y`, see :func:`~course_utils.sanity.small_score_loss`); the mean over seeds
    removes it, to within the standard error :attr:`SeedLosses.sem`.

    Parameters
    ----------
    x : array-like, shape (N, D)
    y : array-like of int, shape (N,)
    num_classes : int
    seeds : sequence of int (at most 50)
    **classifier
        Passed to :func:`~course_utils.sanity.fresh_classifier` (``depth``, ``width``,
        ``activation``, ``init``, ``std``, ``output_std``); e.g. ``output_std=None`` keeps
        Kaiming's init in the output layer.

    Returns
    -------
    SeedLosses
    """
    num_classes = check_int("num_classes", num_classes, 2, MAX_CLASSES)
    seeds = tuple(
        check_sequence(
            "seeds", seeds, max_len=50, item=lambda n, s: check_int(n, s, 0, MAX_SEED - 1)
        )
    )
    unknown = set(classifier) - {"depth", "width", "activation", "init", "std", "output_std"}
    if unknown:
        raise ValueError(
            f"unknown settings {sorted(unknown)}; allowed: depth, width, activation, init, "
            "std, output_std"
        )
    x = check_array("x", x, ndim=2)
    check_array("y", y, shape=(len(x),), dtype=np.int64)
    width = classifier.get("width", 64)
    depth = classifier.get("depth", 2)
    if isinstance(width, int) and isinstance(depth, int):
        check_work("initial_loss_over_seeds", len(seeds) * x.size * width * (depth + 1))
    runs = [
        initial_loss(fresh_classifier(x.shape[1], num_classes, seed=s, **classifier), x, y)
        for s in seeds
    ]
    stds = np.array([r.score_std for r in runs])
    return SeedLosses(
        seeds,
        np.array([r.data_loss for r in runs]),
        stds,
        np.array([small_score_loss(num_classes, s) for s in stds]),
    )


@dataclass(frozen=True)
class Memorisation:
    """:func:`~course_utils.sanity.overfit_tiny_subset` over many seeds (:func:`memorisation_over_seeds`).

    Attributes
    ----------
    seeds : tuple of int, length S
    steps_to_perfect : ndarray, shape (S,), float
        First evaluated step with 100% training accuracy; NaN where never reached.
    train_loss, val_acc : ndarray, shape (S,)
        At the end of each run.
    runs : course_utils.seed_runs.SeedRuns
        The runs themselves. Their validation columns are NaN but the last: the full
        validation set is evaluated once, at the end.
    """

    seeds: tuple
    steps_to_perfect: np.ndarray
    train_loss: np.ndarray
    val_acc: np.ndarray
    runs: object

    @property
    def memorised(self) -> np.ndarray:
        """shape (S,), bool: which seeds reached 100% training accuracy."""
        return ~np.isnan(self.steps_to_perfect)


def memorisation_over_seeds(
    data,
    seeds=range(10),
    n: int = 20,
    steps: int = 200,
    lr: float = 0.1,
    shuffle_labels: bool = False,
    eval_every: int = 10,
    depth: int = 2,
    width: int = 64,
    activation: str = "relu",
) -> Memorisation:
    """:func:`~course_utils.sanity.overfit_tiny_subset` for every seed, all seeds trained at once.

    Seed ``s`` takes the subset ``sanity.tiny_subset(data, n, s)`` and the network
    ``fresh_classifier(..., seed=s)``, as ``overfit_tiny_subset(data, seed=s)`` does, and
    trains it full batch with plain SGD, vectorised over the seeds by
    :func:`course_utils.seed_runs.train_seeds` (so to rounding, not bit for bit, the same
    runs). With ``shuffle_labels`` the training labels are first permuted by
    ``numpy.random.default_rng(s)`` (Zhang et al., ICLR 2017: random labels are memorised
    too); validation labels stay true.

    Parameters
    ----------
    data : object with ``x_train, y_train, x_val, y_val``
    seeds : sequence of int (1 to 200)
    n, steps, lr, depth, width, activation
        As for :func:`~course_utils.sanity.overfit_tiny_subset`.
    shuffle_labels : bool
    eval_every : int
        Training and validation accuracy are evaluated every this many steps (and at the end).

    Returns
    -------
    Memorisation
    """
    shuffle_labels = check_bool("shuffle_labels", shuffle_labels)
    return _memorise(
        data, seeds, (shuffle_labels,), n, steps, lr, eval_every, depth, width, activation
    )[0]


def memorisation_true_and_shuffled(
    data,
    seeds=range(10),
    n: int = 20,
    steps: int = 200,
    lr: float = 0.1,
    eval_every: int = 10,
    depth: int = 2,
    width: int = 64,
    activation: str = "relu",
) -> dict:
    """:func:`memorisation_over_seeds` with true and with shuffled labels, in one vectorised run.

    The same runs as two calls (``shuffle_labels=False`` and ``True``), to rounding, at about
    the cost of one: the 2 S networks share one training loop.

    Parameters
    ----------
    As for :func:`memorisation_over_seeds` (seeds: 1 to 100).

    Returns
    -------
    dict
        ``{"true labels": Memorisation, "shuffled labels": Memorisation}``.
    """
    if isinstance(seeds, (list, tuple, range)) and len(seeds) > 100:
        raise ValueError(f"seeds must have between 1 and 100 items; got {len(seeds)}")
    true, shuffled = _memorise(
        data, seeds, (False, True), n, steps, lr, eval_every, depth, width, activation
    )
    return {"true labels": true, "shuffled labels": shuffled}


def _memorise(data, seeds, shuffles, n, steps, lr, eval_every, depth, width, activation):
    """One train_seeds run for every (shuffle, seed) pair; a Memorisation per shuffle flag."""
    import dataclasses
    import types

    from course_utils import seed_runs

    steps = check_int("steps", steps, 1, MAX_OVERFIT_STEPS)
    lr = check_real("lr", lr, 0.0, 1e6, low_open=True)
    eval_every = check_int("eval_every", eval_every, 1)
    seeds = tuple(
        check_sequence(
            "seeds", seeds, max_len=200, item=lambda n, s: check_int(n, s, 0, MAX_SEED - 1)
        )
    )
    check_data(data)
    y = np.asarray(data.y_train)
    subsets = []
    for shuffle in shuffles:
        for seed in seeds:
            labelled = data
            if shuffle:
                labelled = types.SimpleNamespace(
                    x_train=data.x_train,
                    y_train=np.random.default_rng(int(seed)).permutation(y),
                    x_val=data.x_val,
                    y_val=data.y_val,
                )
            subset = tiny_subset(labelled, n, seed)
            # validation is evaluated once, at the end (below): evaluating the full set every
            # eval_every steps would cost more than the training itself
            subsets.append(
                dataclasses.replace(subset, x_val=subset.x_val[:1], y_val=subset.y_val[:1])
            )
    num_classes = max(getattr(data, "num_classes", int(np.max(y)) + 1), 2)
    features = subsets[0].x_train.shape[1]
    runs = seed_runs.train_seeds(
        subsets,
        seeds * len(shuffles),
        lr=lr,
        optimizer="sgd",
        batch_size=None,
        epochs=int(steps),
        eval_every=eval_every,
        build=lambda seed: fresh_classifier(
            features, num_classes, depth=depth, width=width, activation=activation, seed=seed
        ),
    )
    from course_utils.training import evaluate, single_torch_thread

    x_val, y_val = np.asarray(data.x_val), np.asarray(data.y_val)
    with single_torch_thread():  # small products: more threads only wait for each other
        val = np.array([evaluate(model, x_val, y_val) for model in runs.models])  # (2S, 2)
    val_loss = np.full(runs.val_loss.shape, np.nan)
    val_acc = np.full(runs.val_acc.shape, np.nan)
    val_loss[:, -1], val_acc[:, -1] = val[:, 0], val[:, 1]
    out = []
    for k in range(len(shuffles)):
        part = slice(k * len(seeds), (k + 1) * len(seeds))
        own = dataclasses.replace(
            runs,
            seeds=seeds,
            step_loss=runs.step_loss[part],
            train_loss=runs.train_loss[part],
            train_acc=runs.train_acc[part],
            val_loss=val_loss[part],
            val_acc=val_acc[part],
            ratios=runs.ratios[part],
            diverged_at=runs.diverged_at[part],
            models=tuple(runs.models[part]),
        )
        # an accuracy is a count / n: exactly 1 when all are right
        perfect = own.train_acc == 1.0
        first = np.where(perfect.any(axis=1), own.eval_step[np.argmax(perfect, axis=1)], np.nan)
        out.append(
            Memorisation(seeds, first.astype(float), own.train_loss[:, -1], own.val_acc[:, -1], own)
        )
    return out


def difference_errors(
    f: Callable[[np.ndarray], np.ndarray],
    df: Callable[[np.ndarray], np.ndarray],
    x0: float,
    steps: Sequence[float],
    method: str = "centred",
    dtype=np.float64,
) -> np.ndarray:
    r"""Absolute error of a difference quotient of a scalar function, for each step ``h``.

    Truncation error falls with ``h`` (:math:`\frac{h^2}{6}|f'''|` centred,
    :math:`\frac{h}{2}|f''|` forward); round-off grows like :math:`\epsilon |f| / h`
    (:math:`\epsilon` the machine epsilon of ``dtype``: 2.2e-16 for float64, 1.2e-7 for
    float32). The total is smallest near :math:`h \approx \epsilon^{1/3}` (centred) or
    :math:`\epsilon^{1/2}` (forward).

    Parameters
    ----------
    f, df : callable
        An element-wise function and its exact derivative (NumPy ufunc-like).
    x0 : float
        The point.
    steps : sequence of float, each > 0
        The values of ``h``.
    method : {"centred", "forward"}
    dtype : numpy float dtype
        Precision in which ``f`` is evaluated (float64 or float32).

    Returns
    -------
    ndarray, shape (len(steps),), float64
        :math:`|\text{difference quotient} - f'(x_0)|`, the exact derivative in float64.
    """
    check_callable("f", f)
    check_callable("df", df)
    method = check_choice("method", method, METHODS)
    if dtype not in (np.float64, np.float32, "float64", "float32"):
        raise ValueError(f"dtype must be numpy.float64 or numpy.float32; got {dtype!r}")
    dtype = np.dtype(dtype)
    x0 = check_real("x0", x0)
    hs = check_array("steps", steps, ndim=1, limit=MAX_ITEMS)
    if np.any(hs <= 0):
        raise ValueError("steps must hold numbers > 0")
    x = dtype.type(x0)
    exact = float(df(np.float64(x0)))
    check_finite_result("df(x0)", exact, "df must be the derivative, finite at x0")
    errors = np.empty(hs.size)
    for k, h in enumerate(hs):
        step = dtype.type(h)
        if method == "centred":
            quotient = (f(x + step) - f(x - step)) / (dtype.type(2) * step)
        else:
            quotient = (f(x + step) - f(x)) / step
        errors[k] = abs(float(quotient) - exact)
    return errors
