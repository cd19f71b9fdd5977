r"""The lecture's fully connected network, forward and backward, in plain NumPy.

One loop, written to be read, that every chapter shares:

.. math::

    a_0 = x, \qquad z_l = a_{l-1} W_l, \qquad a_l = f(z_l), \qquad l = 1, \dots, L

(no biases, as in the lecture). :func:`forward` runs it and records every layer;
:func:`backward` runs the chain rule back through the same network for a given upstream
gradient :math:`\partial L/\partial a_L` and returns, per layer,
:math:`\partial L/\partial z_l`, :math:`\partial L/\partial a_l` and
:math:`\partial L/\partial W_l = a_{l-1}^\top\, \partial L/\partial z_l`.

A chapter that needs one more operation per layer does not copy the loop: it passes a
:class:`LayerStep`, which acts either on :math:`z_l` before the activation (``where="z"``:
Batch Norm, chapter 04) or on :math:`a_l` after it (``where="a"``: dropout, chapter 07),
and brings its own backward. Other activations (chapter 01) are just another ``activation``.

Shapes: ``x`` is ``(N, D_0)``; ``W_l`` is ``(D_{l-1}, D_l)`` (the lecture writes
:math:`z = aW`; torch's ``nn.Linear.weight`` is the transpose); every per-layer array is
``(N, D_l)``. Any object with ``a @ W`` and ``W.T`` works as a weight (the explorer's
fast path passes lazily scaled matrices, see :mod:`course_utils.weight_cache`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from course_utils import activations as _activations
from course_utils.validation import check_array, check_sequence, check_work

__all__ = ["LayerStep", "Forward", "Gradients", "forward", "backward"]


class LayerStep:
    """One extra operation per layer, with its backward; the identity by default.

    Subclass it and override :meth:`forward` and :meth:`backward`.

    Attributes
    ----------
    where : {"z", "a"}
        ``"z"``: applied to :math:`z_l` before the activation (the activation then sees
        the step's output); ``"a"``: applied to :math:`a_l = f(z_l)` (the next layer then
        sees the step's output).
    """

    where = "z"

    def forward(self, h: np.ndarray, layer: int) -> tuple[np.ndarray, Any]:
        """Return the step's output for layer ``layer`` (0-based) and what backward needs."""
        return h, None

    def backward(self, grad: np.ndarray, cache: Any, layer: int) -> np.ndarray:
        """Gradient with respect to the step's input, given the one of its output."""
        return grad


@dataclass(frozen=True)
class Forward:
    """Everything :func:`forward` saw, one entry per layer l = 1..L (list index l - 1).

    Attributes
    ----------
    inputs : list of ndarray, (N, D_{l-1})
        :math:`a_{l-1}`, the input of layer l; ``inputs[0]`` is ``x``.
    pre_activations : list of ndarray, (N, D_l)
        What the activation received: :math:`z_l = a_{l-1} W_l`, after the step if
        ``step.where == "z"``.
    activations : list of ndarray, (N, D_l)
        The layer's output :math:`a_l = f(z_l)`, after the step if ``step.where == "a"``.
    step_caches : list
        What the step kept for its backward (``None`` without a step).
    """

    inputs: list
    pre_activations: list
    activations: list
    step_caches: list

    @property
    def output(self) -> np.ndarray:
        """:math:`a_L`, the last layer's output."""
        return self.activations[-1]


@dataclass(frozen=True)
class Gradients:
    r"""The backward pass, one entry per layer l = 1..L (list index l - 1).

    Attributes
    ----------
    z : list of ndarray, (N, D_l)
        :math:`\partial L/\partial z_l` (before the step, if it acts on z).
    activations : list of ndarray, (N, D_l)
        :math:`\partial L/\partial a_l`, the gradient reaching layer l's output.
    input : ndarray, (N, D_0)
        :math:`\partial L/\partial x`.
    layer_inputs : list of ndarray
        :math:`a_{l-1}`, shared with the :class:`Forward` record.
    """

    z: list
    activations: list
    input: np.ndarray
    layer_inputs: list

    def weight(self, layer: int, out: np.ndarray | None = None) -> np.ndarray:
        r""":math:`\partial L/\partial W_l = a_{l-1}^\top\, \partial L/\partial z_l`, shape
        ``(D_{l-1}, D_l)``, for the 1-based ``layer``.

        Computed on demand: for the lecture's 4096-unit layers each is 64 MiB in float32.
        ``out``, an array of that shape, is filled instead of allocating a new one.
        """
        if not 1 <= layer <= len(self.z):
            raise ValueError(f"layer must be between 1 and {len(self.z)}; got {layer!r}")
        return np.matmul(self.layer_inputs[layer - 1].T, self.z[layer - 1], out=out)

    @property
    def weights(self) -> list:
        r"""Every :math:`\partial L/\partial W_l`, l = 1..L."""
        return [self.weight(layer) for layer in range(1, len(self.z) + 1)]


def _activation_pair(activation) -> tuple[Callable, Callable]:
    if isinstance(activation, str):
        return _activations.get(activation)
    if (
        isinstance(activation, tuple)
        and len(activation) == 2
        and all(callable(f) for f in activation)
    ):
        return activation
    raise ValueError(
        "activation must be a name from course_utils.activations.NAMES or a "
        f"pair (f, df) of functions; got {activation!r}"
    )


def _check_step(step):
    if step is not None and getattr(step, "where", None) not in ("z", "a"):
        raise ValueError(f"step.where must be 'z' or 'a'; got {getattr(step, 'where', None)!r}")
    return step if step is not None else LayerStep()


def _check_weights(weights, n_in: int) -> list:
    """The layers as a list of 2-D matrices (arrays, or objects with a 2-D ``shape`` that
    support ``a @ W`` and ``W.T``) whose sizes chain from ``n_in`` inputs."""
    weights = check_sequence("weights", weights)
    checked = []
    for i, W in enumerate(weights):
        if not (hasattr(W, "shape") and hasattr(W, "T")):
            W = check_array(f"weights[{i}]", W, ndim=2, dtype=None, finite=False)
        shape = tuple(W.shape)
        if len(shape) != 2 or shape[0] != n_in:
            raise ValueError(
                f"weights[{i}] must have shape ({n_in}, D_{i + 1}) to follow "
                f"{'x' if i == 0 else f'weights[{i - 1}]'}; got {shape}"
            )
        n_in = shape[1]
        checked.append(W)
    return checked


def forward(
    x: np.ndarray, weights: Sequence, activation="tanh", step: LayerStep | None = None
) -> Forward:
    r"""Run the network on a batch and record every layer.

    Parameters
    ----------
    x : ndarray, shape (N, D_0)
        The batch; each row is one sample.
    weights : sequence of L matrices, W_l of shape (D_{l-1}, D_l)
    activation : str or (f, df)
        A name for :func:`course_utils.activations.get`, or the pair itself.
    step : LayerStep, optional
        An extra operation per layer (see :class:`LayerStep`).

    Returns
    -------
    Forward
    """
    f, _ = _activation_pair(activation)
    step = _check_step(step)
    x = check_array("x", x, ndim=2, dtype=None)
    weights = _check_weights(weights, x.shape[1])
    check_work("this forward pass", len(x) * sum(W.shape[0] * W.shape[1] for W in weights))
    record = Forward(inputs=[], pre_activations=[], activations=[], step_caches=[])
    a = x
    for layer, W in enumerate(weights):
        record.inputs.append(a)
        z = a @ W
        cache = None
        if step.where == "z":
            z, cache = step.forward(z, layer)
        a = f(z)
        if step.where == "a":
            a, cache = step.forward(a, layer)
        record.pre_activations.append(z)
        record.activations.append(a)
        record.step_caches.append(cache)
    return record


def backward(
    record: Forward,
    weights: Sequence,
    upstream: np.ndarray,
    activation="tanh",
    step: LayerStep | None = None,
) -> Gradients:
    r"""Backpropagate ``upstream`` = :math:`\partial L/\partial a_L` through the network.

    Per layer, from the last to the first (:math:`\odot` is the element-wise product):

    .. math::

        \frac{\partial L}{\partial z_l} = \frac{\partial L}{\partial a_l} \odot f'(z_l),
        \qquad
        \frac{\partial L}{\partial W_l} = a_{l-1}^\top \frac{\partial L}{\partial z_l},
        \qquad
        \frac{\partial L}{\partial a_{l-1}} = \frac{\partial L}{\partial z_l} W_l^\top,

    with the step's backward in between where it acts.

    Parameters
    ----------
    record : Forward
        What :func:`forward` returned for the same ``weights``, ``activation`` and ``step``.
    weights : sequence of L matrices
    upstream : ndarray, shape (N, D_L)
    activation, step
        As given to :func:`forward`.

    Returns
    -------
    Gradients
    """
    _, df = _activation_pair(activation)
    step = _check_step(step)
    if not isinstance(record, Forward):
        raise ValueError(
            f"record must be what forward() returned (a Forward); got {type(record).__name__}"
        )
    weights = _check_weights(weights, record.inputs[0].shape[1])
    upstream = check_array("upstream", upstream, ndim=2, dtype=None)
    depth = len(record.activations)
    if len(weights) != depth:
        raise ValueError(
            f"weights must hold {depth} layers, as in the forward record; got {len(weights)}"
        )
    if np.shape(upstream) != np.shape(record.output):
        raise ValueError(
            f"upstream must have the shape of the last layer's output "
            f"{np.shape(record.output)}; got {np.shape(upstream)}"
        )
    grad_z, grad_a = [None] * depth, [None] * depth
    grad = upstream
    for layer in reversed(range(depth)):
        grad_a[layer] = grad
        cache = record.step_caches[layer]
        if step.where == "a":
            grad = step.backward(grad, cache, layer)
        grad = grad * df(record.pre_activations[layer])
        if step.where == "z":
            grad = step.backward(grad, cache, layer)
        grad_z[layer] = grad
        grad = grad @ weights[layer].T
    return Gradients(z=grad_z, activations=grad_a, input=grad, layer_inputs=record.inputs)
