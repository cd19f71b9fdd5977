r"""Chapter 01's experiments on single layers (``notebooks/01_activation_functions.ipynb``):
what an activation does to a spread of inputs, and the zig-zag of all-positive inputs. The
activations themselves are the lesson, in :mod:`course_utils.activations`; the dead-ReLU
training runs are in :mod:`.runs_dead_relu`.

:func:`unit_response` applies an activation to a fixed normal sample and measures saturation
and dead units (the notebook's table and the explorer).

:func:`weight_gradient_signs` counts, per neuron, the signs of
:math:`\partial L/\partial w_{ij} = x_i\,\partial L/\partial z_j`: with all-positive inputs
:math:`x_i > 0` all of them share the sign of :math:`\partial L/\partial z_j`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from course_utils import activations
from course_utils.stats import spread
from course_utils.validation import (
    MAX_SEED,
    check_array,
    check_elements,
    check_int,
    check_real,
    check_seed,
    check_sequence,
    check_work,
    make_rng,
)

__all__ = [
    "SATURATION",
    "MAX_SAMPLES",
    "saturation_bounds",
    "UnitResponse",
    "unit_response",
    "SignCounts",
    "weight_gradient_signs",
    "sign_counts_per_neuron",
    "batch_gradient_mixed",
    "batch_gradient_mixed_over_seeds",
]

#: Width of the random layers of the zig-zag experiment (batch, d_in, d_out).
MAX_LAYER_WIDTH = 4096

# ---------------------------------------------------------------------------- unit response
#: Saturation threshold: a unit whose local gradient |f'(z)| is below it passes back less
#: than 1% of the gradient it receives.
SATURATION = 0.01
#: Half-width of the grid on which :func:`saturation_bounds` finds the tails, and its step.
_TAIL_GRID = (60.0, 1e-3)
#: Size of the explorer's normal sample: a million float64 values and their three images
#: (z, a, f'(z)) take 32 MB and about 50 ms per move.
MAX_SAMPLES = 1_000_000
_NORMAL_CACHE: dict = {}


def _standard_normal(n: int, seed) -> np.ndarray:
    if isinstance(seed, np.random.Generator):  # a generator's draws are never reused
        eps = seed.standard_normal(n)
        eps.flags.writeable = False
        return eps
    key = (n, seed)
    if key not in _NORMAL_CACHE:
        eps = make_rng(seed).standard_normal(n)
        eps.flags.writeable = False
        _NORMAL_CACHE.clear()  # one sample kept: the explorer's
        _NORMAL_CACHE[key] = eps
    return _NORMAL_CACHE[key]


def saturation_bounds(activation: str) -> tuple[float, float]:
    r"""Where an activation's flat tails begin: ``(low, high)`` such that a unit is saturated
    when :math:`|f'(z)| <` :data:`SATURATION` and :math:`z < \text{low}` or
    :math:`z > \text{high}`.

    ``low`` is the smallest and ``high`` the largest z (on a grid of step 0.001 over
    [-60, 60]) with :math:`|f'(z)| \ge` :data:`SATURATION`: beyond them :math:`|f'|` stays below
    the threshold all the way out, the flat tail of a sigmoid or tanh, or ELU's and GELU's
    left side. Between them a small :math:`|f'|` is not saturation: GELU and SiLU have
    :math:`f' = 0` at their minimum (z = -0.75 and -1.28), where :math:`f` turns, not flattens,
    and a step of z moves the unit off it. ``(-inf, inf)`` sides mean no tail (ReLU's right
    side; Leaky ReLU's slope 0.01 is not below the threshold).

    Parameters
    ----------
    activation : str
        One of :data:`course_utils.activations.NAMES`.

    Returns
    -------
    low, high : float
    """
    activations.get(activation)  # the name's check
    return _saturation_bounds(activation.lower())


@functools.lru_cache(maxsize=None)
def _saturation_bounds(activation: str) -> tuple[float, float]:
    half, step = _TAIL_GRID
    z = np.linspace(-half, half, int(round(2 * half / step)) + 1)
    passing = np.flatnonzero(np.abs(activations.get(activation)[1](z)) >= SATURATION)
    if passing.size == 0:
        return (np.inf, -np.inf)  # never passes 1%: everything is tail
    low = -np.inf if passing[0] == 0 else round(float(z[passing[0]]), 3)
    high = np.inf if passing[-1] == z.size - 1 else round(float(z[passing[-1]]), 3)
    return (low, high)


class UnitResponse:
    r"""What an activation does to pre-activations :math:`z \sim N(\text{bias}, \text{scale}^2)`.

    Attributes
    ----------
    z, a, grad : ndarray, shape (n,)
        The sample, :math:`a = f(z)` and :math:`f'(z)` (read-only).
    saturated : float
        Share of units in a flat tail: :math:`|f'(z)| <` :data:`SATURATION` beyond
        :func:`saturation_bounds` (not near GELU's or SiLU's minimum); dead units left out.
    dead : float
        Share of units on a side where the derivative is 0 by design (ReLU's
        :math:`z \le 0`); 0 for the other activations, which only saturate.
    near_minimum : float
        Share of units with :math:`|f'(z)| <` :data:`SATURATION` that are neither saturated
        nor dead: near the minimum of GELU or SiLU, where :math:`f'` crosses 0.
    mean, std : float
        Of the outputs ``a``.
    """

    __slots__ = (
        "activation",
        "scale",
        "bias",
        "z",
        "a",
        "grad",
        "saturated",
        "dead",
        "near_minimum",
        "mean",
        "std",
    )

    def __init__(self, activation, scale, bias, z, a, grad):
        self.activation, self.scale, self.bias = activation, scale, bias
        for array in (z, a, grad):
            array.flags.writeable = False
        self.z, self.a, self.grad = z, a, grad
        n = z.size
        small = np.abs(grad) < SATURATION
        if activation == "relu":  # z <= 0 has f' = 0 by design: dead, not saturated
            dead, tail = np.count_nonzero(z <= 0), 0
        else:
            low, high = _saturation_bounds(activation)
            dead, tail = 0, np.count_nonzero(small & ((z < low) | (z > high)))
        self.dead, self.saturated = float(dead) / n, float(tail) / n
        self.near_minimum = float(max(np.count_nonzero(small) - tail - dead, 0)) / n
        self.mean, self.std = float(a.mean()), float(a.std())


def unit_response(
    activation: str = "tanh", scale: float = 1.0, bias: float = 0.0, n: int = 20_000, seed=0
) -> UnitResponse:
    r"""Apply an activation to a fixed sample :math:`z = \text{bias} + \text{scale}\cdot\epsilon`,
    :math:`\epsilon \sim N(0, 1)`, and measure saturation and dead units.

    Parameters
    ----------
    activation : str
        One of :data:`course_utils.activations.NAMES`.
    scale : float
        Std of the pre-activations, in (0, 1e6].
    bias : float
        Their mean, |bias| <= 1e6.
    n : int
        Sample size, 1 to :data:`MAX_SAMPLES` (the sample is drawn once per (n, seed) and
        reused).
    seed : int or numpy.random.Generator

    Returns
    -------
    UnitResponse
    """
    f, df = activations.get(activation)
    scale = check_real("scale", scale, low=0, high=1e6, low_open=True)
    bias = check_real("bias", bias, low=-1e6, high=1e6)
    n = check_int("n", n, 1, MAX_SAMPLES)
    seed = check_seed("seed", seed)
    z = _standard_normal(n, seed) * scale
    z += bias
    return UnitResponse(activation.lower(), scale, bias, z, f(z), df(z))


# ---------------------------------------------------------------------------- zig-zag
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


def _check_layer(inputs, upstream) -> tuple:
    inputs = check_array("inputs", inputs, ndim=2)
    upstream = check_array("upstream", upstream, shape=(len(inputs), None))
    return inputs, upstream


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
    inputs, upstream = _check_layer(inputs, upstream)
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
    x, delta = check_array("x", x, ndim=1), check_array("delta", delta, ndim=1)
    check_elements("the gradient x δ^T", (x.size, delta.size))
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
    inputs, upstream = _check_layer(inputs, upstream)
    check_elements("the gradient X^T Δ", (inputs.shape[1], upstream.shape[1]))
    check_work("the gradient X^T Δ", inputs.size * upstream.shape[1])
    grad = inputs.T @ upstream
    return int(((grad > 0).any(axis=0) & (grad < 0).any(axis=0)).sum())


def batch_gradient_mixed_over_seeds(
    seeds=range(200), batch: int = 32, d_in: int = 100, d_out: int = 50
) -> dict:
    r""":func:`batch_gradient_mixed` for sigmoid and tanh inputs, once per seed.

    Each seed draws, as chapter 01's cell does, pre-activations ``z`` (batch, d_in) and then
    :math:`\delta` (batch, d_out) from ``numpy.random.default_rng(seed).normal``.

    Returns
    -------
    dict with keys "sigmoid", "tanh": Spread of the number of neurons (of d_out) whose
    mini-batch weight gradient has both signs.
    """
    seeds = _check_seeds(seeds)
    batch, d_in, d_out = (
        check_int(name, value, 1, MAX_LAYER_WIDTH)
        for name, value in (("batch", batch), ("d_in", d_in), ("d_out", d_out))
    )
    check_work(
        "the gradients of every seed",
        2 * len(seeds) * batch * d_in * d_out,
        advice="use fewer seeds or smaller layers",
    )
    counts = {"sigmoid": [], "tanh": []}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        z, delta = rng.normal(size=(batch, d_in)), rng.normal(size=(batch, d_out))
        counts["sigmoid"].append(batch_gradient_mixed(activations.sigmoid(z), delta))
        counts["tanh"].append(batch_gradient_mixed(activations.tanh(z), delta))
    return {name: spread(values) for name, values in counts.items()}


def _check_seeds(seeds) -> list:
    return check_sequence("seeds", seeds, lambda name, s: check_int(name, s, 0, MAX_SEED))
