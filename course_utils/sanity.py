r"""Sanity checks before training for real (chapter 08, 八、合理性检查).

Three checks that cost seconds and catch most broken set-ups (CS231n, "Neural Networks Part 3:
Learning and Evaluation", 2016-; Karpathy, "A Recipe for Training Neural Networks", 2019):

1. **The loss at initialisation.** A classifier whose class scores are all (nearly) equal
   predicts :math:`p_c = 1/C` for every class, so its softmax cross-entropy is
   :math:`-\ln(1/C) = \ln C` (2.303 for 10 classes): :func:`expected_initial_loss`,
   measured by :func:`initial_loss` on :func:`fresh_classifier`. Scores with a spread
   :math:`\sigma` raise it, to about :math:`\ln C + \frac{C-1}{2C}\sigma^2` for small
   :math:`\sigma` (:func:`small_score_loss`); a regularisation term adds its own value on top
   (:func:`l2_penalty`).
2. **Overfit a tiny subset.** A model that cannot reach 100% training accuracy on 20
   examples has a bug (or no capacity): :func:`tiny_subset`, :func:`overfit_tiny_subset`.
3. **Gradient check**: :mod:`course_utils.gradcheck`.

Training uses :func:`course_utils.training.train` (the course's one training loop).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from course_utils import training as _training
from course_utils.gradcheck import single_torch_thread
from course_utils.monitoring import lean_optimizer
from course_utils.monitoring import spread  # median (min to max) over seeds

__all__ = ["expected_initial_loss", "small_score_loss", "fresh_classifier", "InitialLoss",
           "initial_loss", "LossSweep", "initial_loss_sweep", "l2_penalty", "Subset", "tiny_subset",
           "OverfitResult", "overfit_tiny_subset", "Memorisation", "memorisation_over_seeds",
           "spread"]


def _check_classes(num_classes) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) \
            or not 2 <= num_classes <= 100_000:
        raise ValueError(f"num_classes must be an integer between 2 and 100000; got "
                         f"{num_classes!r}")
    return int(num_classes)


def _check_nonnegative(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    return float(value)


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
    sigma = _check_nonnegative("score_std", score_std)
    return math.log(c) + (c - 1) / (2 * c) * sigma ** 2


def fresh_classifier(in_features: int, num_classes: int, depth: int = 2, width: int = 64,
                     activation: str = "relu", init: str = "kaiming", std: float | None = None,
                     output_std: float | None = 1e-3, seed: int = 0):
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

    model = _training.build_mlp(in_features, num_classes, depth=depth, width=width,
                                activation=activation, init=init, std=std, seed=seed)
    if output_std is not None:
        if isinstance(output_std, bool) or not isinstance(output_std, numbers.Real) \
                or not math.isfinite(output_std) or not 0 < output_std <= 1e3:
            raise ValueError(f"output_std must be a number in (0, 1000] or None; got "
                             f"{output_std!r}")
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
        (e.g. :func:`l2_penalty`).

    Returns
    -------
    InitialLoss
    """
    import torch

    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 2 or y.shape != (len(x),) or len(x) == 0:
        raise ValueError(f"x must be (N, D) with N >= 1 and y (N,); got {x.shape} and {y.shape}")
    if penalty is not None and not callable(penalty):
        raise ValueError(f"penalty must be a function of the model; got {penalty!r}")
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
    return InitialLoss(expected=expected_initial_loss(num_classes), data_loss=data_loss,
                       penalty=value, accuracy=accuracy,
                       score_std=float(scores.double().std(unbiased=False)))


@dataclass(frozen=True)
class LossSweep:
    """Initial losses over output-layer scales, each averaged over several seeds.

    Attributes
    ----------
    output_std : ndarray, shape (K,)
    score_std : ndarray, shape (K,)
        Std of the class scores, mean over the seeds.
    mean_loss, min_loss, max_loss : ndarray, shape (K,)
        The data loss over the seeds.
    predicted : ndarray, shape (K,)
        :func:`small_score_loss` at ``score_std``.
    """

    output_std: np.ndarray
    score_std: np.ndarray
    mean_loss: np.ndarray
    min_loss: np.ndarray
    max_loss: np.ndarray
    predicted: np.ndarray


def initial_loss_sweep(x, y, num_classes: int, output_stds, seeds=range(10), depth: int = 2,
                       width: int = 64) -> LossSweep:
    """The initial loss of :func:`fresh_classifier` for each ``output_std``, over ``seeds``.

    One seed's loss also carries a first-order term of random sign (the random output weights
    happen to favour the right classes a little, or the wrong ones); averaged over seeds it
    cancels and the mean follows :func:`small_score_loss` for small scores.

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
    num_classes = _check_classes(num_classes)
    stds = [float(s) for s in output_stds]
    seeds = [int(s) for s in seeds]
    if not 1 <= len(stds) <= 20 or not 1 <= len(seeds) <= 50:
        raise ValueError(f"output_stds must hold 1 to 20 values and seeds 1 to 50; got "
                         f"{len(stds)} and {len(seeds)}")
    x = np.asarray(x)
    rows = []
    for std in stds:
        runs = [initial_loss(fresh_classifier(x.shape[1], num_classes, depth=depth, width=width,
                                              output_std=std, seed=seed), x, y)
                for seed in seeds]
        losses = np.array([r.data_loss for r in runs])
        score = float(np.mean([r.score_std for r in runs]))
        rows.append((score, losses.mean(), losses.min(), losses.max(),
                     small_score_loss(num_classes, score)))
    cols = np.array(rows).T
    return LossSweep(np.array(stds), *cols)


def l2_penalty(strength: float):
    r"""An L2 regularisation term for :func:`course_utils.training.train`'s ``penalty``.

    .. math:: R(W) = \frac{\lambda}{2} \sum_{\text{layers}} \lVert W_l \rVert_F^2

    over the weights of every ``Linear`` layer (not the biases). Its gradient
    :math:`\lambda W` is what ``weight_decay=lambda`` adds in ``torch.optim.SGD``.

    Parameters
    ----------
    strength : float
        :math:`\lambda`, >= 0.

    Returns
    -------
    callable
        ``penalty(model) -> scalar tensor``.
    """
    lam = _check_nonnegative("strength", strength)

    def penalty(model):
        import torch

        total = None
        for module in model.modules():
            if isinstance(module, torch.nn.Linear):
                term = module.weight.pow(2).sum()
                total = term if total is None else total + term
        if total is None:
            raise ValueError("l2_penalty found no torch.nn.Linear layer in the model")
        return 0.5 * lam * total

    penalty.strength = lam
    return penalty


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
    for name in ("x_train", "y_train", "x_val", "y_val"):
        if not hasattr(data, name):
            raise ValueError(f"data must have x_train, y_train, x_val, y_val; it has no {name!r}")
    x = np.asarray(data.x_train)
    y = np.asarray(data.y_train)
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 1 <= n <= len(y):
        raise ValueError(f"n must be an integer between 1 and {len(y)} (the training set); "
                         f"got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")
    rng = np.random.default_rng(int(seed))
    per_class = [rng.permutation(np.flatnonzero(y == c)) for c in np.unique(y)]
    order = [idx[k] for k in range(max(len(p) for p in per_class))
             for idx in per_class if k < len(idx)]
    indices = np.array(order[:n], dtype=np.int64)
    return Subset(x[indices], y[indices], np.asarray(data.x_val), np.asarray(data.y_val),
                  indices)


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


def overfit_tiny_subset(data, n: int = 20, steps: int = 200, lr: float = 0.1,
                        optimizer: str = "sgd", depth: int = 2, width: int = 64,
                        activation: str = "relu", eval_every: int = 10, seed: int = 0,
                        model=None) -> OverfitResult:
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
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) \
            or not 1 <= steps <= 10_000:
        raise ValueError(f"steps must be an integer between 1 and 10000; got {steps!r}")
    subset = tiny_subset(data, n, seed)
    if model is None:
        num_classes = getattr(data, "num_classes", int(np.max(np.asarray(data.y_train))) + 1)
        model = fresh_classifier(subset.x_train.shape[1], max(num_classes, 2), depth=depth,
                                 width=width, activation=activation, seed=seed)
    with single_torch_thread():
        # plain SGD and momentum without torch.optim (its first import costs ~2 s), same steps
        history = _training.train(model, subset, optimizer=lean_optimizer(optimizer, lr), lr=lr,
                                  epochs=int(steps),
                                  batch_size=len(subset.y_train), seed=seed,
                                  eval_every=eval_every, progress=False)
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
    return OverfitResult(history=history, n=len(subset.y_train),
                         steps_to_perfect=perfect[0] if perfect else None,
                         train_acc=history.train_acc[-1], train_loss=history.train_loss[-1],
                         val_acc=history.val_acc[-1])


@dataclass(frozen=True)
class Memorisation:
    """:func:`overfit_tiny_subset` over many seeds (:func:`memorisation_over_seeds`).

    Attributes
    ----------
    seeds : tuple of int, length S
    steps_to_perfect : ndarray, shape (S,), float
        First evaluated step with 100% training accuracy; NaN where never reached.
    train_loss, val_acc : ndarray, shape (S,)
        At the end of each run.
    runs : course_utils.monitoring.SeedRuns
        The runs themselves.
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


def memorisation_over_seeds(data, seeds=range(10), n: int = 20, steps: int = 200,
                            lr: float = 0.1, shuffle_labels: bool = False, eval_every: int = 10,
                            depth: int = 2, width: int = 64,
                            activation: str = "relu") -> Memorisation:
    """:func:`overfit_tiny_subset` for every seed, all seeds trained at once.

    Seed ``s`` takes the subset ``tiny_subset(data, n, s)`` and the network
    ``fresh_classifier(..., seed=s)``, as ``overfit_tiny_subset(data, seed=s)`` does, and
    trains it full batch with plain SGD, vectorised over the seeds by
    :func:`course_utils.monitoring.train_seeds` (so to rounding, not bit for bit, the same
    runs). With ``shuffle_labels`` the training labels are first permuted by
    ``numpy.random.default_rng(s)`` (Zhang et al., ICLR 2017: random labels are memorised
    too); validation labels stay true.

    Parameters
    ----------
    data : object with ``x_train, y_train, x_val, y_val``
    seeds : sequence of int (1 to 200)
    n, steps, lr, depth, width, activation
        As for :func:`overfit_tiny_subset`.
    shuffle_labels : bool
    eval_every : int
        Training and validation accuracy are evaluated every this many steps (and at the end).

    Returns
    -------
    Memorisation
    """
    import types

    from course_utils import monitoring

    if not isinstance(shuffle_labels, bool):
        raise ValueError(f"shuffle_labels must be True or False; got {shuffle_labels!r}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) \
            or not 1 <= steps <= 10_000:
        raise ValueError(f"steps must be an integer between 1 and 10000; got {steps!r}")
    seeds = tuple(seeds)
    for name in ("x_train", "y_train", "x_val", "y_val"):
        if not hasattr(data, name):
            raise ValueError(f"data must have x_train, y_train, x_val, y_val; it has no {name!r}")
    y = np.asarray(data.y_train)
    subsets = []
    for seed in seeds:
        labelled = data
        if shuffle_labels:
            labelled = types.SimpleNamespace(
                x_train=data.x_train, y_train=np.random.default_rng(int(seed)).permutation(y),
                x_val=data.x_val, y_val=data.y_val)
        subsets.append(tiny_subset(labelled, n, seed))
    num_classes = max(getattr(data, "num_classes", int(np.max(y)) + 1), 2)
    features = subsets[0].x_train.shape[1]
    runs = monitoring.train_seeds(
        subsets, seeds, lr=lr, optimizer="sgd", batch_size=None, epochs=int(steps),
        eval_every=eval_every,
        build=lambda seed: fresh_classifier(features, num_classes, depth=depth, width=width,
                                            activation=activation, seed=seed))
    perfect = runs.train_acc == 1.0  # an accuracy is a count / n: exactly 1 when all are right
    first = np.where(perfect.any(axis=1), runs.eval_step[np.argmax(perfect, axis=1)], np.nan)
    return Memorisation(seeds, first.astype(float), runs.train_loss[:, -1], runs.val_acc[:, -1],
                        runs)

