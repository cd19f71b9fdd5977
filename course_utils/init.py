r"""Weight initialisation: the standard deviations, the samplers, and the lecture's experiment.

The lecture (seed section 三、权重初始化) pushes 16 samples :math:`x \sim N(0, 1)` through a
6-layer fully connected network of 4096 units,
:math:`a_0 = x,\; z_l = a_{l-1} W_l,\; a_l = f(z_l)`, and looks at a histogram of
:math:`a_l` per layer for four initialisations of :math:`W_l`.

Conventions follow ``torch.nn.init``: the same fan and gain give the same std, and a uniform
sampler uses the bound :math:`\sqrt{3}\,\sigma`, so that its std is :math:`\sigma`. One
difference: here a weight matrix is ``(fan_in, fan_out)`` because the lecture writes
:math:`z = aW`; torch's ``nn.Linear.weight`` is ``(fan_out, fan_in)``.

- ``"normal"``: :math:`W \sim N(0, \sigma^2)` with an explicit ``std`` :math:`\sigma`.
- ``"xavier"`` (Glorot & Bengio, 2010):
  :math:`\sigma = g\sqrt{2 / (n_\text{in} + n_\text{out})}`, default gain :math:`g = 1`;
  for a square layer this is the lecture's :math:`1/\sqrt{n_\text{in}}`.
- ``"kaiming"`` (He et al., 2015), fan_in mode: :math:`\sigma = g / \sqrt{n_\text{in}}`,
  default gain :math:`g = \sqrt{2}` (ReLU), i.e. :math:`\sqrt{2 / n_\text{in}}`.
"""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from course_utils import activations as _activations
from course_utils.stats import LayerStats, layer_stats  # noqa: F401  (part of this API)
from course_utils.tables import format_table

__all__ = [
    "SCHEMES",
    "DISTRIBUTIONS",
    "default_gain",
    "init_std",
    "sample_weights",
    "forward_pass",
    "forward_activations",
    "validate_experiment",
    "ForwardPass",
    "LayerStats",
    "layer_stats",
    "GradientSignals",
    "gradient_signals",
    "LECTURE_CASES",
    "cases_table",
]

#: Initialisation schemes accepted by :func:`init_std` and :func:`sample_weights`.
SCHEMES: tuple[str, ...] = ("normal", "xavier", "kaiming")
#: Distributions accepted by :func:`sample_weights`.
DISTRIBUTIONS: tuple[str, ...] = ("normal", "uniform")

_DEFAULT_GAIN = {"xavier": 1.0, "kaiming": math.sqrt(2.0)}

#: Largest network :func:`forward_activations` builds: one 16384 x 16384 float32 layer is 1 GiB.
MAX_WIDTH = 16384
MAX_DEPTH = 100



#: The lecture's four figures and the chapter's contrast, as arguments of
#: :func:`forward_activations` (each on the lecture's 6 x 4096 network, 16 samples).
LECTURE_CASES: dict[str, dict] = {
    "tanh, N(0, 0.01^2)": dict(activation="tanh", scheme="normal", std=0.01),
    "tanh, N(0, 0.05^2)": dict(activation="tanh", scheme="normal", std=0.05),
    "tanh, Xavier": dict(activation="tanh", scheme="xavier"),
    "ReLU, Kaiming": dict(activation="relu", scheme="kaiming"),
    "ReLU, Xavier": dict(activation="relu", scheme="xavier"),
}


# --------------------------------------------------------------------------- checks
def _check_scheme(scheme):
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}; got {scheme!r}")


def _check_positive_int(name, value, maximum=None):
    allowed = ">= 1" if maximum is None else f"between 1 and {maximum}"
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1
            or (maximum is not None and value > maximum)):
        raise ValueError(f"{name} must be an integer {allowed}; got {value!r}")
    return int(value)


def _check_positive_finite(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a positive finite number; got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number; got {value!r}")
    return float(value)


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")
    return int(seed)


# --------------------------------------------------------------------------- stds
def default_gain(scheme: str) -> float:
    """The gain a scheme uses when none is given: 1 for Xavier, sqrt(2) for Kaiming (ReLU)."""
    _check_scheme(scheme)
    if scheme == "normal":
        raise ValueError("scheme 'normal' has no gain: it takes an explicit std")
    return _DEFAULT_GAIN[scheme]


def init_std(
    scheme: str,
    fan_in: int,
    fan_out: int,
    gain: float | None = None,
    std: float | None = None,
) -> float:
    r"""Standard deviation of the weights of one layer under an initialisation scheme.

    Parameters
    ----------
    scheme : {"normal", "xavier", "kaiming"}
        ``"normal"`` returns ``std``; ``"xavier"`` returns
        :math:`g\sqrt{2/(n_\text{in}+n_\text{out})}`; ``"kaiming"`` returns
        :math:`g/\sqrt{n_\text{in}}` (fan_in mode).
    fan_in, fan_out : int
        Number of inputs and outputs of the layer (the weight matrix is ``(fan_in, fan_out)``).
    gain : float, optional
        Scale factor :math:`g`; defaults to 1 (Xavier) or :math:`\sqrt{2}` (Kaiming), as
        ``torch.nn.init`` with ``nonlinearity="relu"``. Not used by ``"normal"``.
    std : float, optional
        Required by ``"normal"``, ignored by the others.

    Returns
    -------
    float
        The standard deviation :math:`\sigma`.

    References
    ----------
    Glorot & Bengio, "Understanding the difficulty of training deep feedforward neural
    networks", 2010. He, Zhang, Ren & Sun, "Delving deep into rectifiers", 2015.
    """
    _check_scheme(scheme)
    fan_in = _check_positive_int("fan_in", fan_in)
    fan_out = _check_positive_int("fan_out", fan_out)
    if scheme == "normal":
        if std is None:
            raise ValueError("scheme 'normal' needs an explicit std, e.g. std=0.01")
        return _check_positive_finite("std", std)
    g = default_gain(scheme) if gain is None else _check_positive_finite("gain", gain)
    if scheme == "xavier":
        return g * math.sqrt(2.0 / (fan_in + fan_out))
    return g / math.sqrt(fan_in)


def sample_weights(
    scheme: str,
    fan_in: int,
    fan_out: int,
    *,
    distribution: str = "normal",
    gain: float | None = None,
    std: float | None = None,
    rng: np.random.Generator | int | None = None,
    dtype=np.float64,
) -> np.ndarray:
    r"""Draw a ``(fan_in, fan_out)`` weight matrix with the std of :func:`init_std`.

    ``distribution="normal"`` draws :math:`N(0, \sigma^2)`; ``"uniform"`` draws
    :math:`U(-\sqrt{3}\sigma, \sqrt{3}\sigma)`, which has the same std (torch's
    ``xavier_uniform_`` and ``kaiming_uniform_``).

    Parameters
    ----------
    scheme, fan_in, fan_out, gain, std
        As in :func:`init_std`.
    distribution : {"normal", "uniform"}
    rng : numpy.random.Generator or int, optional
        Source of randomness, or a seed for one.
    dtype : numpy floating dtype

    Returns
    -------
    W : ndarray, shape (fan_in, fan_out)
    """
    sigma = init_std(scheme, fan_in, fan_out, gain=gain, std=std)
    if distribution not in DISTRIBUTIONS:
        raise ValueError(
            f"distribution must be one of {', '.join(DISTRIBUTIONS)}; got {distribution!r}"
        )
    if scheme == "normal" and distribution != "normal":
        raise ValueError("scheme 'normal' samples from a normal distribution only")
    rng = np.random.default_rng(rng)
    if distribution == "normal":
        w = rng.standard_normal((fan_in, fan_out), dtype=np.float64) * sigma
    else:
        bound = math.sqrt(3.0) * sigma
        w = rng.uniform(-bound, bound, size=(fan_in, fan_out))
    return w.astype(dtype, copy=False)


# --------------------------------------------------------------------------- forward
class _UnitWeightCache:
    """Unit-variance float32 weights, one ``(width, width)`` matrix per (seed, width, layer).

    Layer ``l`` of a network is the same matrix whatever the depth, so a 3-layer network is
    the first three layers of a 6-layer one and both share memory. Least recently used
    matrices are dropped past ``max_bytes``.
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._items: OrderedDict = OrderedDict()

    def get(self, key, make):
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = make()
        value.flags.writeable = False  # shared by every caller: nobody may change it
        self._items[key] = value
        while len(self._items) > 1 and self.nbytes > self.max_bytes:
            self._items.popitem(last=False)
        return value

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in self._items.values())

    def clear(self):
        self._items.clear()


# 10 layers of 4096 x 4096 float32 = 640 MiB: the explorer's largest network fits.
_CACHE = _UnitWeightCache(max_bytes=640 * 2**20)


def _unit_weights(seed: int, width: int, layer: int) -> np.ndarray:
    def make():
        rng = np.random.default_rng([seed, 1, width, layer])
        return rng.standard_normal((width, width), dtype=np.float32)

    return _CACHE.get(("W", seed, width, layer), make)


def _inputs(seed: int, width: int, n_samples: int) -> np.ndarray:
    # Row i is the same sample whatever n_samples is: rows are drawn in order.
    def make():
        rng = np.random.default_rng([seed, 0, width])
        return rng.standard_normal((n_samples, width), dtype=np.float32)

    return _CACHE.get(("x", seed, width, n_samples), make)


def _first_product(seed: int, width: int, n_samples: int) -> np.ndarray:
    # x @ W_1 does not depend on the scheme or std: cache it and rescale.
    def make():
        return _inputs(seed, width, n_samples) @ _unit_weights(seed, width, 0)

    return _CACHE.get(("xW1", seed, width, n_samples), make)


@dataclass(frozen=True)
class ForwardPass:
    """One run of the lecture's experiment.

    Attributes
    ----------
    inputs : ndarray, shape (n_samples, width)
        :math:`a_0 = x \\sim N(0, 1)`; read-only (shared with the weight cache).
    pre_activations : list of ndarray, each (n_samples, width)
        :math:`z_l = a_{l-1} W_l`, for l = 1..depth.
    activations : list of ndarray, each (n_samples, width)
        :math:`a_l = f(z_l)`.
    weight_std : float
        The std :math:`\\sigma` every :math:`W_l` was drawn with.
    activation : str
    seed : int
    """

    inputs: np.ndarray
    pre_activations: list
    activations: list
    weight_std: float
    activation: str
    seed: int


def validate_experiment(depth, width, n_samples, activation, scheme, std, seed):
    """Check the arguments of :func:`forward_activations`; return the normalised
    ``(depth, width, n_samples, seed)`` or raise ``ValueError`` saying what is allowed."""
    depth = _check_positive_int("depth", depth, maximum=MAX_DEPTH)
    width = _check_positive_int("width", width, maximum=MAX_WIDTH)
    n_samples = _check_positive_int("n_samples", n_samples)
    seed = _check_seed(seed)
    _activations.get(activation)
    _check_scheme(scheme)
    if scheme == "normal":
        _check_positive_finite("std", std)
    return depth, width, n_samples, seed


def forward_pass(
    depth: int = 6,
    width: int = 4096,
    n_samples: int = 16,
    activation: str = "tanh",
    scheme: str = "normal",
    std: float = 0.01,
    seed: int = 0,
) -> ForwardPass:
    """Run the lecture's experiment and keep both :math:`z_l` and :math:`a_l`.

    Arguments as in :func:`forward_activations`.
    """
    depth, width, n_samples, seed = validate_experiment(
        depth, width, n_samples, activation, scheme, std, seed
    )
    f, _ = _activations.get(activation)
    weight_std = init_std(scheme, width, width, std=std)
    sigma = np.float32(weight_std)
    pre, post = [], []
    # Huge stds overflow float32 on purpose (the lecture's "exploding" case): no warning,
    # the inf/nan shows up in the statistics instead.
    with np.errstate(over="ignore", invalid="ignore"):
        a = None
        for layer in range(depth):
            if layer == 0:
                z = _first_product(seed, width, n_samples) * sigma
            else:
                z = a @ _unit_weights(seed, width, layer)
                z *= sigma
            a = f(z)
            pre.append(z)
            post.append(a)
    return ForwardPass(
        inputs=_inputs(seed, width, n_samples),  # read-only, shared with the cache
        pre_activations=pre,
        activations=post,
        weight_std=weight_std,
        activation=activation.lower(),
        seed=seed,
    )


def forward_activations(
    depth: int = 6,
    width: int = 4096,
    n_samples: int = 16,
    activation: str = "tanh",
    scheme: str = "normal",
    std: float = 0.01,
    seed: int = 0,
) -> list:
    r"""Activations of every layer of the lecture's network.

    :math:`a_0 = x \sim N(0, 1)`, :math:`a_l = f(a_{l-1} W_l)` with
    :math:`W_l \sim N(0, \sigma^2)` of shape ``(width, width)``, no bias.

    Parameters
    ----------
    depth : int
        Number of layers, >= 1.
    width : int
        Units per layer (and input dimension), >= 1.
    n_samples : int
        Number of input samples, >= 1.
    activation : str
        A name from :data:`course_utils.activations.NAMES`.
    scheme : {"normal", "xavier", "kaiming"}
        How :math:`\sigma` is chosen, see :func:`init_std` (default gains).
    std : float
        :math:`\sigma` for ``scheme="normal"``; ignored otherwise.
    seed : int
        Fixes the inputs and the weights. Layer ``l``'s unit-variance weights depend on
        ``(seed, width, l)`` only, so a shallower network is a prefix of a deeper one.

    Returns
    -------
    list of ``depth`` float32 arrays, each of shape ``(n_samples, width)``
        Fresh arrays on every call.
    """
    return forward_pass(depth, width, n_samples, activation, scheme, std, seed).activations


# --------------------------------------------------------------------------- summaries
# Per-layer statistics (LayerStats, layer_stats) live in course_utils.stats, for every
# chapter; they are imported above so that ``init.layer_stats`` reads naturally here.
def cases_table(cases: dict | None = None, depth: int = 6, width: int = 4096,
                n_samples: int = 16, seed: int = 0) -> str:
    """One line per network: std of layers 1 and ``depth``, and their saturated share.

    Parameters
    ----------
    cases : dict of str -> dict, optional
        Name -> keyword arguments of :func:`forward_activations`; default
        :data:`LECTURE_CASES`.
    depth, width, n_samples, seed
        As in :func:`forward_activations`, shared by every case.

    Returns
    -------
    str
        A table; the saturated share is shown for tanh networks only (it is a tanh notion).
    """
    cases = LECTURE_CASES if cases is None else cases
    first, last = "layer 1", f"layer {depth}"
    columns: dict[str, list] = {f"std, {first}": [], f"std, {last}": [],
                                f"|a|>0.99, {first}": [], f"|a|>0.99, {last}": []}
    for kwargs in cases.values():
        stats = layer_stats(forward_activations(depth, width, n_samples, seed=seed, **kwargs))
        tanh = kwargs.get("activation", "tanh") == "tanh"
        for title, value in zip(columns, (stats.std[0], stats.std[-1],
                                          stats.saturated[0], stats.saturated[-1])):
            columns[title].append(value if tanh or title.startswith("std") else "-")
    return format_table(columns, index=list(cases), index_name="network",
                        percent=[t for t in columns if t.startswith("|a|")])


#: A local gradient below this counts as "near 0" in :func:`gradient_signals`.
SMALL_LOCAL_GRAD = 0.02


@dataclass(frozen=True)
class GradientSignals:
    r"""The two local factors of a weight gradient, per layer; each field has shape (depth,).

    For :math:`z_l = a_{l-1} W_l` and :math:`a_l = f(z_l)` the chain rule gives
    :math:`\partial L/\partial W_l = a_{l-1}^\top \big((\partial L/\partial a_l) \odot f'(z_l)\big)`:
    the gradient reaching :math:`W_l` is scaled by :math:`\partial z_l/\partial W_l = a_{l-1}`
    and by :math:`\partial a_l/\partial z_l = f'(z_l)`.
    """

    input_abs_mean: np.ndarray  #: mean |a_{l-1}|, the size of dz_l/dW_l
    local_grad_mean: np.ndarray  #: mean f'(z_l), the size of da_l/dz_l
    local_grad_small: np.ndarray  #: share of units with f'(z_l) < SMALL_LOCAL_GRAD


def gradient_signals(
    depth: int = 6,
    width: int = 4096,
    n_samples: int = 16,
    activation: str = "tanh",
    scheme: str = "normal",
    std: float = 0.01,
    seed: int = 0,
) -> GradientSignals:
    """Measure the lecture's two gradient factors in every layer of one forward pass.

    Arguments as in :func:`forward_activations`. Layer 1's input is :math:`x`.
    """
    run = forward_pass(depth, width, n_samples, activation, scheme, std, seed)
    _, df = _activations.get(activation)
    layer_inputs = [run.inputs] + run.activations[:-1]
    with np.errstate(over="ignore", invalid="ignore"):
        local = [df(z.astype(np.float64)) for z in run.pre_activations]
        return GradientSignals(
            input_abs_mean=np.array([np.mean(np.abs(a, dtype=np.float64)) for a in layer_inputs]),
            local_grad_mean=np.array([g.mean() for g in local]),
            local_grad_small=np.array([np.mean(g < SMALL_LOCAL_GRAD) for g in local]),
        )
