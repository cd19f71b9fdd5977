r"""Sanity checks before training for real (chapter 08, 八、合理性检查).

Three checks that cost seconds and catch most broken set-ups (CS231n, "Neural Networks Part 3:
Learning and Evaluation", 2016-; Karpathy, "A Recipe for Training Neural Networks", 2019):

1. **The loss at initialisation.** A classifier whose class scores are all (nearly) equal
   predicts :math:`p_c = 1/C` for every class, so its softmax cross-entropy is
   :math:`-\ln(1/C) = \ln C` (2.303 for 10 classes): :func:`expected_initial_loss`,
   measured by :func:`initial_loss` on :func:`fresh_classifier`. Scores with a spread
   :math:`\sigma` raise it, to about :math:`\ln C + \frac{C-1}{2C}\sigma^2` for small
   :math:`\sigma` (:func:`small_score_loss`); a regularisation term adds its own value on top
   (:func:`course_utils.regularization.torch_penalty`, chapter 07's).
2. **Overfit a tiny subset.** A model that cannot reach 100% training accuracy on 20
   examples has a bug (or no capacity): :func:`tiny_subset`, :func:`overfit_tiny_subset`.
3. **Gradient check**: :mod:`course_utils.gradcheck`.

Training uses :func:`course_utils.training.train` (the course's one training loop). The
chapter's runs over seeds and output scales are in
:mod:`course_utils.chapters.ch08_sanity_checks.runs`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from course_utils import training as _training
from course_utils.seed_runs import lean_optimizer
from course_utils.training import single_torch_thread
from course_utils.validation import (
    MAX_SEED,
    check_array,
    check_callable,
    check_int,
    check_real,
    make_rng,
)

__all__ = [
    "MAX_CLASSES",
    "MAX_OVERFIT_STEPS",
    "expected_initial_loss",
    "small_score_loss",
    "fresh_classifier",
    "InitialLoss",
    "initial_loss",
    "Subset",
    "tiny_subset",
    "OverfitResult",
    "overfit_tiny_subset",
]

#: Classes of a classifier: ImageNet-21k has about 21,000; 100,000 bounds the output layer.
MAX_CLASSES = 100_000
#: Full-batch steps of an overfitting run: 200 memorise 20 examples; 10,000 take ~30 s here.
MAX_OVERFIT_STEPS = 10_000


def check_data(data):
    """``data`` if it has ``x_train (N, D)``, ``y_train (N,)``, ``x_val``, ``y_val``, else
    ``ValueError`` (the arrays are checked, not copied)."""
    for name in ("x_train", "y_train", "x_val", "y_val"):
        if not hasattr(data, name):
            raise ValueError(f"data must have x_train, y_train, x_val, y_val; it has no {name!r}")
    x = check_array("data.x_train", data.x_train, ndim=2)
    check_array("data.y_train", data.y_train, shape=(len(x),))
    check_array("data.x_val", data.x_val, shape=(None, x.shape[1]))
    check_array("data.y_val", data.y_val, shape=(len(data.x_val),))
    return data


def _check_classes(num_classes) -> int:
    return check_int("num_classes", num_classes, 2, MAX_CLASSES)


def expected_initial_loss(num_classes: int) -> float:
    r"""The softmax cross-entropy of a classifier that predicts every class equally.

    With equal scores :math:`s_1 = \dots = s_C`, softmax gives :math:`p_c = 1/C`, and the loss
    of any example is :math:`-\ln p_y = \ln C`, whatever its label.

    Parameters
    ----------
    num_classes : int
        :math:`C`, at least 2.

    Returns
    -------
    float
        :math:`\ln C` (2.302585 for C = 10, CIFAR-10's and the digits' number).
    """
    return math.log(_check_classes(num_classes))


def small_score_loss(num_classes: int, score_std: float) -> float:
    r"""The expected initial loss when the scores are small and random, to second order.

    For scores :math:`s_c` independent of the label with mean 0 and standard deviation
    :math:`\sigma`, expanding :math:`\ln \frac{1}{C}\sum_c e^{s_c}` to second order,

    .. math::

        \mathbb{E}[L] = \ln C + \mathbb{E}\Big[\ln \tfrac{1}{C}\textstyle\sum_c e^{s_c}
        - s_y\Big] \approx \ln C + \frac{C-1}{2C}\,\sigma^2 .

    A fair approximation for :math:`\sigma \lesssim 0.5`; for large :math:`\sigma` the loss
    grows like :math:`\mathbb{E}[\max_c s_c - s_y]`, linearly in :math:`\sigma`.

    Parameters
    ----------
    num_classes : int
    score_std : float
        :math:`\sigma`, >= 0.

    Returns
    -------
    float
    """
    c = _check_classes(num_classes)
    # beyond 1e6 the second-order formula means nothing (it holds for sigma <~ 0.5)
    sigma = check_real("score_std", score_std, 0.0, 1e6)
    return math.log(c) + (c - 1) / (2 * c) * sigma**2


def fresh_classifier(
    in_features: int,
    num_classes: int,
    depth: int = 2,
    width: int = 64,
    activation: str = "relu",
    init: str = "kaiming",
    std: float | None = None,
    output_std: float | None = 1e-3,
    seed: int = 0,
):
    """A freshly initialised MLP whose output layer starts small (Karpathy's "init well").

    :func:`course_utils.training.build_mlp` with the given init, then, unless ``output_std``
    is ``None``, the last ``Linear``'s weights redrawn from :math:`N(0, \\text{output\\_std}^2)`
    and its bias set to 0: the class scores start near 0, so the initial loss is near
    :math:`\\ln C`, while the hidden layers keep a scale that trains well.

    Parameters
    ----------
    in_features, num_classes, depth, width, activation, init, std, seed
        As for :func:`course_utils.training.build_mlp` (``depth=0``: a softmax classifier).
    output_std : float or None
        Std of the output layer's weights (> 0), or ``None`` to keep ``init``'s.

    Returns
    -------
    torch.nn.Sequential
    """
    import torch

    seed = check_int("seed", seed, 0, MAX_SEED - 1)  # the output layer is drawn with seed + 1
    model = _training.build_mlp(
        in_features,
        num_classes,
        depth=depth,
        width=width,
        activation=activation,
        init=init,
        std=std,
        seed=seed,
    )
    if output_std is not None:
        output_std = check_real("output_std", output_std, 0.0, 1e3, low_open=True)
        last = model[-1]
        generator = torch.Generator().manual_seed(int(seed) + 1)
        with torch.no_grad():
            last.weight.normal_(0.0, float(output_std), generator=generator)
            last.bias.zero_()
    return model


@dataclass(frozen=True)
class InitialLoss:
    """What :func:`initial_loss` measured.

    Attributes
    ----------
    expected : float
        :math:`\\ln C`.
    data_loss : float
        Mean softmax cross-entropy on the data (eval mode).
    penalty : float
        The regularisation term's value (0 without one).
    accuracy : float
        Share of examples classified correctly (about 1/C by chance).
    score_std : float
        Standard deviation of all class scores.
    """

    expected: float
    data_loss: float
    penalty: float
    accuracy: float
    score_std: float

    @property
    def total(self) -> float:
        """The objective training starts from: ``data_loss + penalty``."""
        return self.data_loss + self.penalty


def initial_loss(model, x, y, penalty=None) -> InitialLoss:
    """Measure a model's loss before any training step.

    Parameters
    ----------
    model : torch.nn.Module
        Maps (N, D) inputs to (N, C) class scores.
    x : array-like, shape (N, D)
    y : array-like of int, shape (N,)
    penalty : callable, optional
        ``penalty(model) -> scalar tensor``, as given to :func:`course_utils.training.train`
        (e.g. ``regularization.torch_penalty("l2", lam)``).

    Returns
    -------
    InitialLoss
    """
    import torch

    x = check_array("x", x, ndim=2)
    y = check_array("y", y, shape=(len(x),), dtype=np.int64)
    if penalty is not None:
        check_callable("penalty", penalty)
    with single_torch_thread():
        data_loss, accuracy = _training.evaluate(model, x, y)
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                scores = model(torch.as_tensor(x, dtype=torch.float32))
                value = float(penalty(model)) if penalty is not None else 0.0
        finally:
            model.train(was_training)
    num_classes = scores.shape[1]
    return InitialLoss(
        expected=expected_initial_loss(num_classes),
        data_loss=data_loss,
        penalty=value,
        accuracy=accuracy,
        score_std=float(scores.double().std(unbiased=False)),
    )


@dataclass(frozen=True)
class Subset:
    """A few training examples (and the full validation set), for :func:`train`.

    Attributes
    ----------
    x_train : ndarray, shape (n, D)
    y_train : ndarray, shape (n,), int64
    x_val, y_val
        The original validation data, unchanged.
    indices : ndarray, shape (n,)
        Rows of the original training set.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    indices: np.ndarray


def tiny_subset(data, n: int = 20, seed: int = 0) -> Subset:
    """``n`` training examples, as balanced over the classes as ``n`` allows.

    Each class's examples are shuffled (seeded); the subset takes the first example of every
    class, then the second of every class, and so on, until it has ``n`` (20 examples of 10
    classes: 2 per class).

    Parameters
    ----------
    data : object with ``x_train (N, D), y_train (N,), x_val, y_val``
    n : int
        Between 1 and N.
    seed : int

    Returns
    -------
    Subset
    """
    check_data(data)
    x = np.asarray(data.x_train)
    y = np.asarray(data.y_train)
    n = check_int("n", n, 1, len(y))
    rng = make_rng(seed)
    per_class = [rng.permutation(np.flatnonzero(y == c)) for c in np.unique(y)]
    order = [
        idx[k] for k in range(max(len(p) for p in per_class)) for idx in per_class if k < len(idx)
    ]
    indices = np.array(order[:n], dtype=np.int64)
    return Subset(x[indices], y[indices], np.asarray(data.x_val), np.asarray(data.y_val), indices)


@dataclass(frozen=True)
class OverfitResult:
    """What :func:`overfit_tiny_subset` found.

    Attributes
    ----------
    history : course_utils.training.History
        The run (evaluations every ``eval_every`` steps).
    n : int
        Training examples.
    steps_to_perfect : int or None
        The first evaluated step with 100% training accuracy (``None``: never reached).
    train_acc, train_loss, val_acc : float
        At the end of the run.
    """

    history: object
    n: int
    steps_to_perfect: int | None
    train_acc: float
    train_loss: float
    val_acc: float

    @property
    def perfect(self) -> bool:
        """Did the model reach 100% training accuracy?"""
        return self.steps_to_perfect is not None


def overfit_tiny_subset(
    data,
    n: int = 20,
    steps: int = 200,
    lr: float = 0.1,
    optimizer: str = "sgd",
    depth: int = 2,
    width: int = 64,
    activation: str = "relu",
    eval_every: int = 10,
    seed: int = 0,
    model=None,
) -> OverfitResult:
    """Train on ``n`` examples only, full batch, until the model memorises them.

    Parameters
    ----------
    data : object with ``x_train, y_train, x_val, y_val``
        The full data set; :func:`tiny_subset` takes ``n`` examples from it.
    n : int
        Subset size (20, as in the lecture's advice).
    steps : int
        Full-batch gradient steps (one per epoch), at most 10,000.
    lr, optimizer
        As for :func:`course_utils.training.train`.
    depth, width, activation
        Of the :func:`fresh_classifier` built when ``model`` is None.
    eval_every : int
        Evaluate training and validation accuracy every this many steps.
    seed : int
        Fixes the subset, the initial weights and the run.
    model : torch.nn.Module, optional
        Train this model (in place) instead of a fresh one.

    Returns
    -------
    OverfitResult
    """
    steps = check_int("steps", steps, 1, MAX_OVERFIT_STEPS)
    seed = check_int("seed", seed, 0, MAX_SEED)
    lr = check_real("lr", lr, 0.0, 1e6, low_open=True)
    eval_every = check_int("eval_every", eval_every, 1)
    subset = tiny_subset(data, n, seed)
    if model is None:
        num_classes = getattr(data, "num_classes", int(np.max(np.asarray(data.y_train))) + 1)
        model = fresh_classifier(
            subset.x_train.shape[1],
            max(num_classes, 2),
            depth=depth,
            width=width,
            activation=activation,
            seed=seed,
        )
    with single_torch_thread():
        # plain SGD and momentum without torch.optim (its first import costs ~2 s), same steps
        history = _training.train(
            model,
            subset,
            optimizer=lean_optimizer(optimizer, lr),
            lr=lr,
            epochs=int(steps),
            batch_size=len(subset.y_train),
            seed=seed,
            eval_every=eval_every,
            progress=False,
        )
    if history.eval_step[-1] != history.steps and not history.diverged:
        # the last step is always evaluated
        loss, acc = _training.evaluate(model, subset.x_train, subset.y_train)
        vloss, vacc = _training.evaluate(model, subset.x_val, subset.y_val)
        history.eval_step.append(history.steps)
        history.train_loss.append(loss)
        history.train_acc.append(acc)
        history.val_loss.append(vloss)
        history.val_acc.append(vacc)
    perfect = [s for s, a in zip(history.eval_step, history.train_acc) if a == 1.0]
    return OverfitResult(
        history=history,
        n=len(subset.y_train),
        steps_to_perfect=perfect[0] if perfect else None,
        train_acc=history.train_acc[-1],
        train_loss=history.train_loss[-1],
        val_acc=history.val_acc[-1],
    )
