r"""Karpathy's cheap checks, run (chapter 08, section 4).

From "A Recipe for Training Neural Networks" (Karpathy, 2019), step 2, "set up the end-to-end
training/evaluation skeleton + get dumb baselines":

- **input-independent baseline**: "set all your inputs to zero. This should perform worse than
  when you actually plug in your data": :func:`recipe_baselines` trains the same model on the
  real inputs, on inputs set to 0, and (the control of Zhang et al., ICLR 2017) on the real
  inputs with shuffled labels, all seeds and variants in one vectorised run. A model that sees
  only zeros can learn nothing but the class frequencies, so its loss bottoms out at the label
  entropy :math:`H(y) = -\sum_c f_c \ln f_c` (:func:`label_entropy`).
- **use backprop to chart dependencies**: "set the loss to be something trivial like the sum of
  all outputs of example i, run the backward pass all the way to the input, and ensure that you
  get a non-zero gradient only on the i-th input": :func:`batch_dependency`; the bug it
  catches, "a view instead of a transpose/permute", is :class:`TransposeByView`.
"""

from __future__ import annotations

import types
from dataclasses import dataclass

import numpy as np
import torch

from course_utils.models import single_torch_thread
from course_utils.sanity import check_data, fresh_classifier
from course_utils.validation import (
    MAX_SEED,
    check_array,
    check_int,
    check_real,
    check_sequence,
)

__all__ = [
    "VARIANTS",
    "label_entropy",
    "RecipeRuns",
    "recipe_baselines",
    "TransposeByView",
    "batch_dependency",
]

#: The three training sets of :func:`recipe_baselines`, in its order.
VARIANTS = ("real inputs", "inputs set to 0", "shuffled labels")


def label_entropy(y) -> float:
    r"""Entropy of the class frequencies, :math:`H = -\sum_c f_c \ln f_c` (nats).

    The lowest mean cross-entropy any input-blind model can reach on labels ``y``: its best
    constant prediction is :math:`p_c = f_c`. :math:`\ln C` for balanced classes.

    Parameters
    ----------
    y : array-like of int, shape (N,), values >= 0

    Returns
    -------
    float
    """
    y = check_array("y", y, ndim=1, dtype=np.int64)
    if y.min() < 0:
        raise ValueError(f"y must hold class indices >= 0; got {y.min()}")
    _, counts = np.unique(y, return_counts=True)  # not bincount: labels may be huge numbers
    f = counts / len(y)
    return float(-(f * np.log(f)).sum())


@dataclass(frozen=True)
class RecipeRuns:
    """What :func:`recipe_baselines` recorded.

    Attributes
    ----------
    variants : tuple of str, length V
        :data:`VARIANTS`.
    seeds : tuple of int, length S
    eval_step : ndarray of int, shape (E,)
        0, then the end of every epoch.
    train_loss, train_acc, val_loss, val_acc : ndarray, shape (V, S, E)
        On the variant's own training set (zeroed inputs, shuffled labels) and on the
        validation set (zeroed inputs for the zero variant; true labels always).
    label_entropy : float
        :func:`label_entropy` of the training labels: the input-blind model's floor.
    """

    variants: tuple
    seeds: tuple
    eval_step: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    val_loss: np.ndarray
    val_acc: np.ndarray
    label_entropy: float

    def final(self, name: str) -> np.ndarray:
        """``name`` (e.g. ``"val_acc"``) at the end of training: shape (V, S)."""
        if name not in ("train_loss", "train_acc", "val_loss", "val_acc"):
            raise ValueError(
                f"name must be one of train_loss, train_acc, val_loss, val_acc; got {name!r}"
            )
        return getattr(self, name)[:, :, -1]


def recipe_baselines(
    data,
    seeds=range(4),
    epochs: int = 6,
    batch_size: int = 128,
    lr: float = 0.1,
    depth: int = 1,
    width: int = 32,
) -> RecipeRuns:
    """Train on the real data, on inputs set to 0 and on shuffled labels, seed by seed.

    Seed ``s`` of every variant starts from ``sanity.fresh_classifier(..., seed=s)`` (output
    layer std 1e-3: loss :math:`\\ln C` at step 0) and sees the same minibatch order; the
    shuffled labels are ``numpy.random.default_rng(s).permutation(y_train)``. Momentum SGD
    (0.9, torch's convention), all V x S networks in one vectorised loop
    (:func:`course_utils.seed_runs.train_seeds`).

    Parameters
    ----------
    data : object with ``x_train (N, D), y_train (N,), x_val, y_val``
    seeds : sequence of int (1 to 50)
    epochs : int
        1 to 200.
    batch_size : int
    lr : float
        > 0, at most 10.
    depth, width : int
        Of the classifier (hidden layers, units per layer).

    Returns
    -------
    RecipeRuns
    """
    from course_utils import seed_runs

    check_data(data)
    seeds = tuple(
        check_sequence(
            "seeds", seeds, max_len=50, item=lambda n, s: check_int(n, s, 0, MAX_SEED - 1)
        )
    )
    epochs = check_int("epochs", epochs, 1, 200)
    batch_size = check_int("batch_size", batch_size, 1, len(data.y_train))
    lr = check_real("lr", lr, 0.0, 10.0, low_open=True)
    depth = check_int("depth", depth, 0, 10)
    width = check_int("width", width, 1, 1024)
    x, y = np.asarray(data.x_train), np.asarray(data.y_train)
    num_classes = max(getattr(data, "num_classes", int(y.max()) + 1), 2)
    sets = []
    for variant in VARIANTS:
        for s in seeds:
            zero = variant == "inputs set to 0"
            labels = np.random.default_rng(s).permutation(y) if variant == "shuffled labels" else y
            sets.append(
                types.SimpleNamespace(
                    x_train=np.zeros_like(x) if zero else x,
                    y_train=labels,
                    x_val=np.zeros_like(data.x_val) if zero else data.x_val,
                    y_val=data.y_val,
                )
            )
    runs = seed_runs.train_seeds(
        sets,
        seeds * len(VARIANTS),
        lr=lr,
        optimizer="momentum",
        batch_size=batch_size,
        epochs=epochs,
        build=lambda s: fresh_classifier(x.shape[1], num_classes, depth=depth, width=width, seed=s),
    )
    shape = (len(VARIANTS), len(seeds), -1)
    return RecipeRuns(
        VARIANTS,
        seeds,
        runs.eval_step,
        runs.train_loss.reshape(shape),
        runs.train_acc.reshape(shape),
        runs.val_loss.reshape(shape),
        runs.val_acc.reshape(shape),
        label_entropy(y),
    )


class TransposeByView(torch.nn.Module):
    """A classic bug: ``x.view(D, N)`` where ``x.t()`` was meant, then transposed back.

    Input (N, D), output (N, D): the shapes are right and the model trains, but row ``i`` of
    the output is built from entries of many examples (the flat memory read in the wrong
    order). ``x.t().t()``, the intended identity, is what a correct layer would do.
    """

    def forward(self, x):  # noqa: D102
        n, d = x.shape
        return x.reshape(d, n).t()


def batch_dependency(model, x, i: int = 0) -> np.ndarray:
    r"""How much example ``i``'s outputs depend on each example's input, by backprop.

    Karpathy's check: with the loss :math:`\ell = \sum_c \mathrm{out}_{ic}`, the gradient
    :math:`\partial \ell / \partial x_j` must be exactly 0 for every :math:`j \ne i` in a model
    that treats examples independently. The model is run as it is (``model.training`` is
    respected: Batch Norm in training mode mixes examples on purpose, so check in eval mode).

    Parameters
    ----------
    model : torch.nn.Module
        Maps (N, D) to (N, ...) outputs.
    x : array-like, shape (N, D)
        2 to 4,096 examples.
    i : int
        The example whose outputs are summed, 0 <= i < N.

    Returns
    -------
    ndarray, shape (N,), float64
        :math:`\lVert \partial \ell / \partial x_j \rVert` for every example :math:`j`.
    """
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    x = check_array("x", x, ndim=2, dtype=np.float32)
    if not 2 <= len(x) <= 4096:
        raise ValueError(f"x must have between 2 and 4096 examples; got {len(x)}")
    i = check_int("i", i, 0, len(x) - 1)
    with torch.enable_grad(), single_torch_thread():  # tiny products: one thread is fastest
        inputs = torch.tensor(x, requires_grad=True)
        out = model(inputs)
        if out.shape[0] != len(x):
            raise ValueError(f"model must keep the batch dimension {len(x)}; got {out.shape}")
        out[i].sum().backward()
    grad = inputs.grad.double()
    return grad.flatten(1).norm(dim=1).numpy()
