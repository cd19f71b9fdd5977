r"""Chapter 01's zig-zag path (``notebooks/01_activation_functions.ipynb``, section 2): the
two weights of one sigmoid unit, trained by SGD on all-positive inputs and on the same
inputs centred.

The unit computes :math:`a = \sigma(w^\top x)`, :math:`w \in \mathbb{R}^2`, and learns a teacher
:math:`w^*`: the target is :math:`y = \sigma(w^{*\top} x)` and the loss the cross-entropy
:math:`-y\log a - (1 - y)\log(1 - a)`, whose per-example gradient is

.. math:: \nabla_w L = (a - y)\,x ,

a multiple of :math:`x`. With :math:`x = \sigma(u) > 0` (the outputs of a sigmoid layer) every
step moves both weights the same way, so reaching :math:`w^*` in the direction (+, -) takes a
zig-zag (LeCun, Bottou, Orr & Müller, *Efficient BackProp*, 1998, section 4.3). The centred
inputs :math:`x = \sigma(u) - \tfrac12` have the same spread and the same component along
(1, -1); the loss's minimum is :math:`w^*` for both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils import activations
from course_utils.tables import format_table
from course_utils.validation import (
    check_array,
    check_int,
    check_real,
    check_seed,
    check_sequence,
    check_work,
    make_rng,
)

__all__ = ["TEACHER", "ZigzagPath", "zigzag_path", "paths_table", "mean_loss_grid"]

#: The teacher's weights :math:`w^*`: one up, one down, what all-positive inputs cannot do in
#: one step.
TEACHER = (3.0, -3.0)


@dataclass(frozen=True)
class ZigzagPath:
    r"""One SGD run of the two-weight unit, from :math:`w = (0, 0)`.

    Attributes
    ----------
    centred : bool
    lr : float
    inputs : ndarray, shape (steps, 2)
        The examples, one a step.
    weights : ndarray, shape (steps + 1, 2)
        :math:`w` before the first step and after each.
    """

    centred: bool
    lr: float
    inputs: np.ndarray
    weights: np.ndarray

    @property
    def same_direction(self) -> float:
        """Share of steps that move both weights the same way (both up or both down)."""
        d = np.diff(self.weights, axis=0)
        return float(np.mean(np.sign(d[:, 0]) == np.sign(d[:, 1])))

    @property
    def detour(self) -> float:
        """Length of the path divided by the straight line from start to end."""
        d = np.diff(self.weights, axis=0)
        straight = np.linalg.norm(self.weights[-1] - self.weights[0])
        return float(np.linalg.norm(d, axis=1).sum() / straight) if straight > 0 else np.inf

    def steps_to(self, radius: float = 0.5):
        """First step after which :math:`\\lVert w - w^*\\rVert < \\text{radius}` (None if never)."""
        radius = check_real("radius", radius, low=0, low_open=True)
        inside = np.linalg.norm(self.weights - np.array(TEACHER), axis=1) < radius
        return int(np.argmax(inside)) if inside.any() else None


def zigzag_path(centred: bool = False, lr: float = 5.0, steps: int = 60, seed=0) -> ZigzagPath:
    r"""Train :math:`a = \sigma(w^\top x)` towards :data:`TEACHER` by SGD, one example a step.

    Each step draws :math:`u \sim N(0, I_2)` (from ``seed``; the same draws whether centred
    or not), sets :math:`x = \sigma(u)` or :math:`\sigma(u) - \tfrac12`, and updates
    :math:`w \leftarrow w - \eta\,(a - y)\,x`.

    Parameters
    ----------
    centred : bool
    lr : float
        :math:`\eta`, in (0, 1000].
    steps : int
        1 to 100,000.
    seed : int or numpy.random.Generator

    Returns
    -------
    ZigzagPath
    """
    if not isinstance(centred, (bool, np.bool_)):
        raise ValueError(f"centred must be True or False; got {centred!r}")
    lr = check_real("lr", lr, low=0, high=1000, low_open=True)
    steps = check_int("steps", steps, 1, 100_000)
    u = make_rng(check_seed("seed", seed)).standard_normal((steps, 2))
    x = activations.sigmoid(u) - (0.5 if centred else 0.0)
    teacher = np.array(TEACHER)
    w = np.zeros(2)
    path = [w]
    with np.errstate(over="ignore", invalid="ignore"):
        for x_t in x:
            error = activations.sigmoid(np.array(w @ x_t)) - activations.sigmoid(
                np.array(teacher @ x_t)
            )
            w = w - lr * error * x_t
            if not np.isfinite(w).all():
                break
            path.append(w)
    return ZigzagPath(bool(centred), lr, x, np.array(path))


def paths_table(paths, radius: float = 0.5) -> str:
    """One row per :class:`ZigzagPath`: the share of steps moving both weights the same way,
    the detour (path length over straight line), the first step within ``radius`` of
    :data:`TEACHER` and the distance to it at the end."""

    def check(name, value):
        if not isinstance(value, ZigzagPath):
            raise ValueError(f"{name} must be a ZigzagPath; got {type(value).__name__}")
        return value

    paths = check_sequence("paths", paths, check, max_len=100)
    radius = check_real("radius", radius, low=0, low_open=True)
    teacher = np.array(TEACHER)
    return format_table(
        {
            "η": [f"{p.lr:g}" for p in paths],
            "same-way steps": [f"{p.same_direction:.0%}" for p in paths],
            "path / straight line": [f"{p.detour:.1f}" for p in paths],
            f"first step within {radius:g} of w*": [
                "never" if p.steps_to(radius) is None else str(p.steps_to(radius)) for p in paths
            ],
            f"‖w − w*‖ after {len(paths[0].weights) - 1}": [
                f"{np.linalg.norm(p.weights[-1] - teacher):.1f}" for p in paths
            ],
        },
        index=["centred σ(u) − ½" if p.centred else "all-positive σ(u)" for p in paths],
        index_name="inputs",
    )


def mean_loss_grid(inputs: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    r"""The mean cross-entropy over ``inputs`` at every :math:`(w_1, w_2)` of a grid, minus its
    minimum (the entropy of the soft targets), for contour lines.

    Parameters
    ----------
    inputs : ndarray, shape (N, 2)
    w1, w2 : ndarray, shape (G1,), (G2,)

    Returns
    -------
    ndarray, shape (G2, G1)
        Row i, column j: the excess loss at :math:`(w_1[j], w_2[i])`.
    """
    x = check_array("inputs", inputs, shape=(None, 2))
    w1, w2 = check_array("w1", w1, ndim=1), check_array("w2", w2, ndim=1)
    check_work("the loss grid", len(x) * len(w1) * len(w2))
    z = w1[None, :, None] * x[:, 0] + w2[:, None, None] * x[:, 1]  # (G2, G1, N)
    zt = x @ np.array(TEACHER)
    y = activations.sigmoid(zt)
    # cross-entropy minus the targets' entropy = KL(y || a), from log-sigmoids
    log_a, log_1a = -np.logaddexp(0, -z), -np.logaddexp(0, z)
    log_y, log_1y = -np.logaddexp(0, -zt), -np.logaddexp(0, zt)
    kl = y * (log_y - log_a) + (1 - y) * (log_1y - log_1a)
    return kl.mean(axis=-1)
