r"""Chapter 01's deep stacks (``notebooks/01_activation_functions.ipynb``): the gradient
measured layer by layer, and SELU's self-normalising fixed point.

:func:`layer_gradient_norms` backpropagates through a deep plain network (the course's shared
core, :func:`course_utils.network.forward` / :func:`~course_utils.network.backward`) and
returns :math:`\lVert\partial L/\partial W_l\rVert` for every layer: the vanishing gradient
measured, where the text only bounds it by :math:`0.25^n`.

:func:`selu_moment_map` is the map of Klambauer et al. (NeurIPS 2017, section 3): the mean and
variance of a SELU unit's output for inputs of mean :math:`\mu` and variance :math:`\nu`,

.. math:: (\tilde\mu, \tilde\nu) = \bigl(E[\mathrm{selu}(z)],\ \mathrm{Var}[\mathrm{selu}(z)]\bigr),
   \qquad z \sim N(\mu\omega, \nu\tau),

with :math:`\omega = \sum_i w_i` and :math:`\tau = \sum_i w_i^2` of the unit's weights; at
:math:`\omega = 0, \tau = 1` its fixed point is :math:`(0, 1)`, and it attracts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr, ndtr

from course_utils import activations, network
from course_utils.stats import Spread, spread
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

__all__ = [
    "DEPTH_ACTIVATIONS",
    "gradient_norms_table",
    "GradientNorms",
    "layer_gradient_norms",
    "per_layer_factor_over_seeds",
    "selu_moment_map",
    "iterate_moment_map",
    "variance_map_slope",
    "deep_activation_stats",
]

#: Activations of the deep-stack experiments, with the initialisation each is meant for:
#: Kaiming (variance 2/n) for ReLU, LeCun / Xavier's fan-in form (1/n) for the others.
DEPTH_ACTIVATIONS = ("sigmoid", "tanh", "relu", "elu", "selu")
_GAIN = {"relu": 2.0}
#: Width and depth limits of the deep stacks.
MAX_WIDTH = 2048
MAX_DEPTH = 200


def _pair(activation: str):
    check_choice("activation", activation, DEPTH_ACTIVATIONS)
    if activation == "selu":
        return activations.selu, activations.selu_grad
    return activations.get(activation)


def _stack(activation, depth, width, batch, seed):
    depth = check_int("depth", depth, 1, MAX_DEPTH)
    width = check_int("width", width, 1, MAX_WIDTH)
    batch = check_int("batch", batch, 1, MAX_WIDTH)
    check_work("the deep stack", 3 * depth * batch * width * width, advice="use a smaller stack")
    rng = make_rng(seed)
    x = rng.standard_normal((batch, width))
    std = math.sqrt(_GAIN.get(activation, 1.0) / width)
    weights = [rng.normal(0.0, std, size=(width, width)) for _ in range(depth)]
    return x, weights, rng


def _norm(a: np.ndarray) -> float:
    return float(np.sqrt(np.sum(a * a)))  # no BLAS call: steady timing on a busy machine


@dataclass(frozen=True)
class GradientNorms:
    r"""One backward pass through a deep stack.

    Attributes
    ----------
    activation : str
    weight_grad : ndarray, shape (depth,)
        :math:`\lVert\partial L/\partial W_l\rVert_F`, layer 1 (next to the input) first.
    delta : ndarray, shape (depth,)
        :math:`\lVert\partial L/\partial z_l\rVert_F`, the signal the backward pass carries.
    mean_slope : ndarray, shape (depth,)
        Mean local gradient :math:`f'(z_l)` over the layer's units and examples.
    """

    activation: str
    weight_grad: np.ndarray
    delta: np.ndarray
    mean_slope: np.ndarray

    @property
    def relative(self) -> np.ndarray:
        """``weight_grad`` divided by the last layer's, shape (depth,)."""
        return self.weight_grad / self.weight_grad[-1]

    @property
    def per_layer_factor(self) -> float:
        r"""Geometric mean factor of the backward signal from one layer to the one below,
        :math:`(\lVert\delta_1\rVert / \lVert\delta_L\rVert)^{1/(L-1)}` (1 for one layer)."""
        n = len(self.delta)
        return float((self.delta[0] / self.delta[-1]) ** (1 / (n - 1))) if n > 1 else 1.0


def layer_gradient_norms(
    activation: str = "sigmoid", depth: int = 10, width: int = 256, batch: int = 64, seed=0
) -> GradientNorms:
    r"""Backpropagate through ``depth`` layers of ``width`` units and measure every layer's
    weight gradient.

    Inputs :math:`x \sim N(0, 1)` of shape (batch, width); weights :math:`N(0, g/n)` with
    :math:`g = 2` for ReLU (Kaiming) and 1 otherwise (LeCun / Xavier fan-in, chapter 03), no
    biases; the gradient arriving at the top, :math:`\partial L/\partial a_L`, is
    :math:`N(0, 1)` per entry (what a loss sends, up to scale). Drawn in this order from
    ``seed``. Per layer, :math:`\partial L/\partial z_l = \partial L/\partial a_l \odot
    f'(z_l)` and :math:`\partial L/\partial W_l = a_{l-1}^\top\,\partial L/\partial z_l`.

    Parameters
    ----------
    activation : str
        One of :data:`DEPTH_ACTIVATIONS`.
    depth, width, batch : int
        At most :data:`MAX_DEPTH`, :data:`MAX_WIDTH`, :data:`MAX_WIDTH`.
    seed : int or numpy.random.Generator

    Returns
    -------
    GradientNorms
    """
    pair = _pair(activation)
    x, weights, rng = _stack(activation, depth, width, batch, seed)
    with one_thread():  # small products: one thread is fastest on a busy machine
        record = network.forward(x, weights, pair)
        upstream = rng.standard_normal(record.output.shape)
        grads = network.backward(record, weights, upstream, pair)
        norms = np.array([_norm(grads.weight(i + 1)) for i in range(len(weights))])
    delta = np.array([_norm(grads.z[i]) for i in range(len(weights))])
    slopes = np.array([pair[1](z).mean() for z in record.pre_activations])
    return GradientNorms(activation, norms, delta, slopes)


def per_layer_factor_over_seeds(
    activation: str = "sigmoid", seeds=range(10), depth: int = 10, width: int = 256
) -> Spread:
    """:attr:`GradientNorms.per_layer_factor` of :func:`layer_gradient_norms`, once per seed
    (batch 64)."""
    seeds = check_sequence(
        "seeds", seeds, lambda name, s: check_int(name, s, 0, MAX_SEED), max_len=100
    )
    return spread(
        [layer_gradient_norms(activation, depth, width, 64, s).per_layer_factor for s in seeds]
    )


def selu_moment_map(mean: float, var: float, omega: float = 0.0, tau: float = 1.0) -> tuple:
    r"""Mean and variance of :math:`\mathrm{selu}(z)`, :math:`z \sim N(\mu\omega, \nu\tau)`.

    Klambauer et al. (NeurIPS 2017): the map from one layer's activation moments
    :math:`(\mu, \nu)` to the next's, for a unit whose weights sum to :math:`\omega` with squares
    summing to :math:`\tau`. In closed form, with :math:`m = \mu\omega`,
    :math:`s^2 = \nu\tau` and :math:`\Phi` the normal CDF:
    :math:`E[z\,1_{z>0}] = m\Phi(m/s) + s\varphi(m/s)`,
    :math:`E[e^{kz}1_{z\le0}] = e^{km + k^2s^2/2}\,\Phi(-(m + ks^2)/s)`, and so on for the
    second moment (the exponentials in log space, so nothing overflows).

    Parameters
    ----------
    mean : float
        :math:`\mu`, |mean| <= 100.
    var : float
        :math:`\nu`, in [0, 1e4].
    omega, tau : float
        :math:`|\omega| \le 100`, :math:`0 \le \tau \le 100`.

    Returns
    -------
    (float, float)
        :math:`(\tilde\mu, \tilde\nu)`.
    """
    mean = check_real("mean", mean, low=-100, high=100)
    var = check_real("var", var, low=0, high=1e4)
    omega = check_real("omega", omega, low=-100, high=100)
    tau = check_real("tau", tau, low=0, high=100)
    m, s = mean * omega, math.sqrt(var * tau)
    if s == 0:
        a = float(activations.selu(np.array([m]))[0])
        return a, 0.0
    r = m / s
    pos = ndtr(r)  # P(z > 0)
    density = math.exp(-0.5 * r * r) / math.sqrt(2 * math.pi)

    def exp_below(k):  # E[e^{kz} 1{z <= 0}]
        return math.exp(k * m + 0.5 * k * k * s * s + log_ndtr(-(m + k * s * s) / s))

    e1, e2, neg = exp_below(1), exp_below(2), 1 - pos
    first = m * pos + s * density + activations.SELU_ALPHA * (e1 - neg)
    second = (
        (m * m + s * s) * pos + m * s * density + activations.SELU_ALPHA**2 * (e2 - 2 * e1 + neg)
    )
    lam = activations.SELU_SCALE
    mu_out = lam * first
    return float(mu_out), float(max(lam * lam * second - mu_out * mu_out, 0.0))


def iterate_moment_map(mean: float, var: float, layers: int = 10) -> np.ndarray:
    r""":func:`selu_moment_map` applied ``layers`` times (:math:`\omega = 0, \tau = 1`).

    Returns
    -------
    ndarray, shape (layers + 1, 2)
        Row l is :math:`(\mu_l, \nu_l)`; row 0 is the start.
    """
    layers = check_int("layers", layers, 0, 1000)
    out = [selu_moment_map(mean, var)]
    out[0] = (check_real("mean", mean), check_real("var", var))
    for _ in range(layers):
        out.append(selu_moment_map(*out[-1]))
    return np.array(out)


def variance_map_slope(var: float = 1.0, step: float = 1e-4) -> float:
    r""":math:`d\tilde\nu/d\nu` of :func:`selu_moment_map` (:math:`\mu = 0, \omega = 0, \tau = 1`)
    at ``var``, by a central difference of half-width ``step``: below 1 at the fixed point
    :math:`\nu = 1`, so a deviation of the variance shrinks by this factor per layer."""
    var = check_real("var", var, low=0, high=1e4)
    step = check_real("step", step, low=0, high=0.5, low_open=True)
    step = min(step, var) if var > 0 else step
    lo = max(var - step, 0.0)
    return (selu_moment_map(0.0, var + step)[1] - selu_moment_map(0.0, lo)[1]) / (var + step - lo)


def deep_activation_stats(
    activation: str = "selu",
    depth: int = 30,
    width: int = 256,
    batch: int = 64,
    input_std: float = 1.0,
    seed=0,
) -> np.ndarray:
    r"""Mean and std of every layer's activations in a deep stack at initialisation.

    The stack of :func:`layer_gradient_norms` (weights :math:`N(0, 1/n)`, Kaiming for ReLU),
    fed :math:`x \sim N(0, \text{input\_std}^2)`.

    Returns
    -------
    ndarray, shape (depth, 2)
        Row l: mean and std over the batch and units of :math:`a_{l+1}`.
    """
    pair = _pair(activation)
    input_std = check_real("input_std", input_std, low=0, high=100, low_open=True)
    x, weights, _ = _stack(activation, depth, width, batch, seed)
    with one_thread():
        record = network.forward(x * input_std, weights, pair)
    return np.array([(a.mean(), a.std()) for a in record.activations])


def gradient_norms_table(results) -> str:
    """Per layer, :math:`\\lVert\\partial L/\\partial W_l\\rVert` over the top layer's, one
    column per :class:`GradientNorms` (same depth), layer 1 (next to the input) first."""

    def check(name, value):
        if not isinstance(value, GradientNorms):
            raise ValueError(f"{name} must be a GradientNorms; got {type(value).__name__}")
        return value

    results = check_sequence("results", results, check, max_len=len(DEPTH_ACTIVATIONS))
    depth = len(results[0].weight_grad)
    if any(len(r.weight_grad) != depth for r in results):
        raise ValueError("results must all have the same depth")
    return format_table(
        {r.activation: [f"{v:.2g}" for v in r.relative] for r in results},
        index=[str(i + 1) for i in range(depth)],
        index_name="layer",
    )
