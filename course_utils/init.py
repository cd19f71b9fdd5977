r"""Weight initialisation: the standard deviations, the samplers, and the lecture's experiment.

The lecture (seed section 三、权重初始化) pushes 16 samples :math:`x \sim N(0, 1)` through a
6-layer fully connected network of 4096 units,
:math:`a_0 = x,\; z_l = a_{l-1} W_l,\; a_l = f(z_l)`, and looks at a histogram of
:math:`a_l` per layer for four initialisations of :math:`W_l`. One run of it is an
:class:`Experiment`; the network itself is :mod:`course_utils.network` (forward and
backward), fed with cached weights by :mod:`course_utils.weight_cache`.

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

import dataclasses
import math
import numbers
from dataclasses import dataclass

import numpy as np

from course_utils import activations as _activations
from course_utils import network, weight_cache
from course_utils.references import reference_answer
from course_utils.stats import LayerStats, layer_stats  # noqa: F401  (part of this API)
from course_utils.tables import format_table

__all__ = [
    "SCHEMES",
    "DISTRIBUTIONS",
    "default_gain",
    "init_std",
    "sample_weights",
    "Experiment",
    "forward_pass",
    "forward_activations",
    "LayerStats",
    "layer_stats",
    "GradientSignals",
    "gradient_signals",
    "GradientSizes",
    "gradient_sizes",
    "symmetry_table",
    "SymmetryOverSeeds",
    "symmetry_over_seeds",
    "symmetry_seeds_table",
    "LECTURE_CASES",
    "cases_table",
]

#: Initialisation schemes accepted by :func:`init_std` and :func:`sample_weights`.
SCHEMES: tuple[str, ...] = ("normal", "xavier", "kaiming")
#: Distributions accepted by :func:`sample_weights`.
DISTRIBUTIONS: tuple[str, ...] = ("normal", "uniform")

_DEFAULT_GAIN = {"xavier": 1.0, "kaiming": math.sqrt(2.0)}

# Limits: every call must fit a 2 GB Binder next to the rest of a kernel (~300 MB with torch)
# and answer in a few seconds on 2 CPU cores. They are checked before anything is allocated.
MAX_DEPTH = 100
MAX_WIDTH = 8192
#: Weights of one :class:`Experiment` (depth x width^2 float32): the lecture's network takes
#: 384 MiB, the explorer's deepest (10 x 4096) 640 MiB.
MAX_WEIGHT_BYTES = 640 * 2**20
#: Per-layer arrays of one run (z and a, forward; their gradients, backward), float32.
MAX_ACTIVATION_BYTES = 256 * 2**20
#: Multiply-adds of one forward pass, depth x n_samples x width^2: about 2 s here.
MAX_MULTIPLY_ADDS = 50 * 10**9
#: Entries of one matrix drawn by :func:`sample_weights` (float64: 512 MiB).
MAX_SAMPLED_ENTRIES = 2**26
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


@reference_answer("init_std")
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
    if fan_in * fan_out > MAX_SAMPLED_ENTRIES:
        raise ValueError(
            f"fan_in x fan_out = {fan_in * fan_out:,} entries is too many to draw here; the "
            f"limit is {MAX_SAMPLED_ENTRIES:,} (512 MiB in float64, so that a 2 GB Binder "
            "copes): use smaller fans")
    rng = np.random.default_rng(rng)
    if distribution == "normal":
        w = rng.standard_normal((fan_in, fan_out), dtype=np.float64) * sigma
    else:
        bound = math.sqrt(3.0) * sigma
        w = rng.uniform(-bound, bound, size=(fan_in, fan_out))
    return w.astype(dtype, copy=False)


# --------------------------------------------------------------------------- the experiment
def _mib(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:,.0f} MiB"


@dataclass(frozen=True)
class Experiment:
    r"""One run of the lecture's experiment: the network, its batch and its initialisation.

    Validated when made (``ValueError`` saying what is allowed), immutable, hashable.
    ``Experiment()`` is the lecture's first figure; :meth:`replace` makes a variant.

    Attributes
    ----------
    depth : int
        Number of layers, 1 to :data:`MAX_DEPTH`.
    width : int
        Units per layer (and input dimension), 1 to :data:`MAX_WIDTH`.
    n_samples : int
        Rows of the batch :math:`x \sim N(0, 1)`, >= 1.
    activation : str
        A name from :data:`course_utils.activations.NAMES`.
    scheme : {"normal", "xavier", "kaiming"}
        How :math:`\sigma` is chosen, see :func:`init_std` (default gains).
    std : float
        :math:`\sigma` for ``scheme="normal"``; ignored by the other schemes.
    seed : int
        Fixes the batch and the weights.

    The whole run must fit a 2 GB Binder and take a few seconds: the weights
    (``depth * width**2`` float32) at most :data:`MAX_WEIGHT_BYTES`, the per-layer arrays at
    most :data:`MAX_ACTIVATION_BYTES`, the forward pass at most :data:`MAX_MULTIPLY_ADDS`.
    """

    depth: int = 6
    width: int = 4096
    n_samples: int = 16
    activation: str = "tanh"
    scheme: str = "normal"
    std: float = 0.01
    seed: int = 0

    def __post_init__(self):
        set_ = object.__setattr__.__get__(self)
        set_("depth", _check_positive_int("depth", self.depth, maximum=MAX_DEPTH))
        set_("width", _check_positive_int("width", self.width, maximum=MAX_WIDTH))
        set_("n_samples", _check_positive_int("n_samples", self.n_samples))
        set_("seed", _check_seed(self.seed))
        _activations.get(self.activation)
        set_("activation", self.activation.lower())
        _check_scheme(self.scheme)
        if self.scheme == "normal":
            set_("std", _check_positive_finite("std", self.std))
        self._check_size()

    def _check_size(self):
        depth, width, n = self.depth, self.width, self.n_samples
        weight_bytes = depth * width * width * 4
        if weight_bytes > MAX_WEIGHT_BYTES:
            raise ValueError(
                f"depth={depth}, width={width} needs {_mib(weight_bytes)} of float32 weights; "
                f"the limit is {_mib(MAX_WEIGHT_BYTES)} (what fits a 2 GB Binder next to the "
                "rest of the kernel): lower depth or width")
        array_bytes = 2 * depth * n * width * 4
        if array_bytes > MAX_ACTIVATION_BYTES:
            raise ValueError(
                f"n_samples={n} with depth={depth}, width={width} keeps {_mib(array_bytes)} of "
                f"per-layer arrays; the limit is {_mib(MAX_ACTIVATION_BYTES)} (2 GB Binder): "
                f"use at most {MAX_ACTIVATION_BYTES // (8 * depth * width)} samples")
        work = depth * n * width * width
        if work > MAX_MULTIPLY_ADDS:
            raise ValueError(
                f"n_samples={n} with depth={depth}, width={width} is {work / 1e9:.0f} billion "
                f"multiply-adds; the limit is {MAX_MULTIPLY_ADDS / 1e9:.0f} billion (a few "
                f"seconds on 2 cores): use at most {MAX_MULTIPLY_ADDS // (depth * width**2)} "
                "samples")

    @property
    def weight_std(self) -> float:
        r""":math:`\sigma`, the std every :math:`W_l` is drawn with (:func:`init_std`)."""
        return init_std(self.scheme, self.width, self.width, std=self.std)

    def replace(self, **changes) -> "Experiment":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def forward_pass(experiment: Experiment) -> network.Forward:
    """Run the lecture's experiment and keep every layer's input, :math:`z_l` and :math:`a_l`.

    Returns
    -------
    course_utils.network.Forward
        float32 arrays of shape ``(n_samples, width)``; ``inputs[0]``, the batch, is
        read-only (shared with the weight cache).
    """
    if not isinstance(experiment, Experiment):
        raise ValueError(f"experiment must be an init.Experiment; got {experiment!r}")
    return weight_cache.run(experiment)


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
    :math:`W_l \sim N(0, \sigma^2)` of shape ``(width, width)``, no bias. The arguments are
    those of :class:`Experiment` (same checks and limits). Layer ``l``'s weights depend on
    ``(seed, width, l)`` only, so a shallower network is a prefix of a deeper one.

    Returns
    -------
    list of ``depth`` float32 arrays, each of shape ``(n_samples, width)``
        Fresh arrays on every call.
    """
    experiment = Experiment(depth, width, n_samples, activation, scheme, std, seed)
    return forward_pass(experiment).activations


# --------------------------------------------------------------------------- gradients
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


def gradient_signals(experiment: Experiment) -> GradientSignals:
    """Measure the lecture's two gradient factors in every layer of one forward pass.

    Layer 1's input is :math:`x`.
    """
    run = forward_pass(experiment)
    _, df = _activations.get(experiment.activation)
    with np.errstate(over="ignore", invalid="ignore"):
        local = [df(z.astype(np.float64)) for z in run.pre_activations]
        return GradientSignals(
            input_abs_mean=np.array([np.mean(np.abs(a, dtype=np.float64)) for a in run.inputs]),
            local_grad_mean=np.array([g.mean() for g in local]),
            local_grad_small=np.array([np.mean(g < SMALL_LOCAL_GRAD) for g in local]),
        )


def _rms(a: np.ndarray) -> float:
    return math.sqrt(_mean_square(a))


def _weight_gradient_rms(layer_input: np.ndarray, grad_z: np.ndarray) -> float:
    r"""RMS of :math:`\partial L/\partial W = a^\top \delta` without forming it.

    :math:`\|a^\top \delta\|_F^2 = \sum_{ij} (a a^\top)_{ij} (\delta \delta^\top)_{ij}`: two
    ``(N, N)`` products instead of one ``(D, D)`` matrix (64 MiB for the lecture's layers).
    ``Gradients.weight`` forms it; the tests check that both agree.
    """
    a, d = layer_input.astype(np.float64), grad_z.astype(np.float64)
    return float(np.sqrt(np.sum((a @ a.T) * (d @ d.T)) / (a.shape[1] * d.shape[1])))


@dataclass(frozen=True)
class GradientSizes:
    r"""Root-mean-square size of the real gradients, per layer; each field has shape (depth,)."""

    weights: np.ndarray  #: RMS of dL/dW_l
    activations: np.ndarray  #: RMS of dL/da_l, the gradient reaching layer l's output
    local: np.ndarray  #: mean f'(z_l)


def gradient_sizes(experiment: Experiment, upstream_seed: int = 1) -> GradientSizes:
    r"""Backpropagate through the lecture's network and measure every layer's gradients.

    The loss is :math:`L = \sum_{ij} G_{ij}\, (a_L)_{ij}` with a fixed
    :math:`G \sim N(0, 1)` (seeded by ``upstream_seed``): whatever sits on top of the
    network sends back :math:`\partial L/\partial a_L = G`, the same for every
    initialisation, so the sizes compare the initialisations alone.

    Returns
    -------
    GradientSizes
    """
    upstream_seed = _check_seed(upstream_seed)
    arrays = 4 * experiment.depth * experiment.n_samples * experiment.width * 4
    if arrays > MAX_ACTIVATION_BYTES:  # forward keeps 2 arrays per layer, backward 2 more
        raise ValueError(
            f"the backward pass of this experiment keeps {_mib(arrays)} of per-layer arrays; "
            f"the limit is {_mib(MAX_ACTIVATION_BYTES)} (2 GB Binder): use at most "
            f"{MAX_ACTIVATION_BYTES // (16 * experiment.depth * experiment.width)} samples")
    run = forward_pass(experiment)
    weights = weight_cache.weights(experiment)
    rng = np.random.default_rng([experiment.seed, 2, upstream_seed])
    upstream = rng.standard_normal(run.output.shape, dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        grads = network.backward(run, weights, upstream, experiment.activation)
        _, df = _activations.get(experiment.activation)
        return GradientSizes(
            weights=np.array([_weight_gradient_rms(a, dz)
                              for a, dz in zip(grads.layer_inputs, grads.z)]),
            activations=np.array([_rms(g) for g in grads.activations]),
            local=np.array([np.mean(df(z), dtype=np.float64) for z in run.pre_activations]),
        )


def _symmetry_run(init: str, value: float, sizes, n_samples: int, activation: str,
                  seed: int) -> np.ndarray:
    """One forward and backward pass of :func:`symmetry_table`'s network.

    Returns an array (3, hidden layers): units' outputs spread, dL/dW columns spread, RMS.
    """
    rng = np.random.default_rng(seed)
    shapes = list(zip(sizes[:-1], sizes[1:]))
    if init == "zero":
        weights = [np.zeros(shape) for shape in shapes]
    elif init == "constant":
        weights = [np.full(shape, value) for shape in shapes]
    else:
        weights = [rng.normal(0.0, value, shape) for shape in shapes]
    x = rng.standard_normal((n_samples, sizes[0]))
    run = network.forward(x, weights, activation)
    grads = network.backward(run, weights, rng.standard_normal(run.output.shape), activation)
    hidden = range(1, len(sizes) - 1)
    spread = lambda m, axis: np.max(np.ptp(m, axis=axis))  # noqa: E731
    return np.array([[spread(run.activations[l - 1], 1) for l in hidden],
                     [spread(grads.weight(l), 1) for l in hidden],
                     [_rms(grads.weight(l)) for l in hidden]])


_SYMMETRY_INITS = ("zero", "constant", "random")


def _check_symmetry_args(init, value, sizes, n_samples):
    if init not in _SYMMETRY_INITS:
        raise ValueError(f"init must be one of {', '.join(_SYMMETRY_INITS)}; got {init!r}")
    value = _check_positive_finite("value", value)
    if (not isinstance(sizes, (tuple, list)) or len(sizes) < 3
            or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or not 1 <= s <= 64
                   for s in sizes)):
        raise ValueError("sizes must list at least 3 layer sizes (input, hidden..., output), "
                         f"each an integer between 1 and 64; got {sizes!r}")
    return value, tuple(int(s) for s in sizes), _check_positive_int("n_samples", n_samples,
                                                                    maximum=64)


def symmetry_table(init: str, value: float = 0.5, sizes=(3, 5, 5, 2), n_samples: int = 4,
                   activation: str = "tanh", seed: int = 0) -> str:
    r"""Why weights start random: what a zero or constant initialisation does, in numbers.

    A small network with layer sizes ``sizes`` is initialised with ``init``:
    ``"zero"`` (every weight 0), ``"constant"`` (every weight ``value``) or ``"random"``
    (:math:`N(0, \text{value}^2)`). One forward and backward pass (inputs
    :math:`x \sim N(0, 1)`, upstream gradient :math:`G \sim N(0, 1)`, both drawn from
    ``seed``) later, per hidden layer: how far apart the units' activations are (largest
    spread across units, over the batch), how far apart the columns of
    :math:`\partial L/\partial W_l` are (the gradients of different units), and the RMS
    of :math:`\partial L/\partial W_l`. A spread of 0 means every unit computes, and learns,
    the same thing: the layer has one unit's worth of capacity.

    Returns
    -------
    str
        A table, one row per hidden layer.
    """
    value, sizes, n_samples = _check_symmetry_args(init, value, sizes, n_samples)
    out = _symmetry_run(init, value, sizes, n_samples, activation, _check_seed(seed))
    return format_table({"units' outputs spread": out[0], "dL/dW columns spread": out[1],
                         "RMS dL/dW": out[2]},
                        index=[f"hidden {l}" for l in range(1, len(sizes) - 1)])


#: Spreads up to this count as 0 in :class:`SymmetryOverSeeds`: values of order 1 differing
#: only by rounding (a few ulps, ~1e-16), far below any real difference between units.
SAME_UNITS_TOLERANCE = 1e-12


@dataclass(frozen=True)
class SymmetryOverSeeds:
    r""":func:`symmetry_table`'s three columns at each seed; each field (n_seeds, hidden layers).

    With a zero or constant initialisation every unit of a hidden layer computes the same sum
    of the same numbers and gets the same gradient: in exact arithmetic both spreads are 0, at
    every seed. In floating point a CPU's matrix kernel may add up one column in another order
    than its neighbours (a SIMD main loop and a scalar tail), so equal units can differ by a
    few ulps (about 1e-16 under the SSE4 baseline); :data:`SAME_UNITS_TOLERANCE` separates that
    from a real difference. With all weights 0 every value is exactly 0 (tanh(0) = 0, and
    0 times anything is 0), in any order. The RMS of :math:`\partial L/\partial W_l`
    depends on the seed's inputs and upstream gradient.
    """

    init: str
    outputs_spread: np.ndarray
    columns_spread: np.ndarray
    rms: np.ndarray

    @property
    def n(self) -> int:
        return len(self.rms)

    @property
    def identical_units(self) -> int:
        """Seeds at which every hidden layer's units are copies of one another: both spreads
        at most :data:`SAME_UNITS_TOLERANCE` (rounding), at every hidden layer."""
        return int(np.sum((self.outputs_spread <= SAME_UNITS_TOLERANCE).all(axis=1)
                          & (self.columns_spread <= SAME_UNITS_TOLERANCE).all(axis=1)))


def symmetry_over_seeds(init: str, value: float = 0.5, seeds=range(100), sizes=(3, 5, 5, 2),
                        n_samples: int = 4, activation: str = "tanh") -> SymmetryOverSeeds:
    """:func:`symmetry_table`'s network once per seed (new inputs, upstream gradient and,
    for ``"random"``, weights). The arguments are :func:`symmetry_table`'s; ``seeds``
    1 to 10,000 integers >= 0."""
    value, sizes, n_samples = _check_symmetry_args(init, value, sizes, n_samples)
    seeds = list(seeds)
    if not 1 <= len(seeds) <= 10_000:
        raise ValueError(f"seeds must hold 1 to 10,000 seeds; got {len(seeds)}")
    runs = np.array([_symmetry_run(init, value, sizes, n_samples, activation, _check_seed(s))
                     for s in seeds])
    return SymmetryOverSeeds(init, runs[:, 0], runs[:, 1], runs[:, 2])


def symmetry_seeds_table(results: dict) -> str:
    """One row per (case, hidden layer): in how many seeds the units are identical (up to
    rounding, :data:`SAME_UNITS_TOLERANCE`), the
    smallest and largest dL/dW columns spread, and the RMS of dL/dW, median (range).

    Parameters
    ----------
    results : dict of str -> SymmetryOverSeeds
    """
    if not results or not all(isinstance(r, SymmetryOverSeeds) for r in results.values()):
        raise ValueError("results must map case names to SymmetryOverSeeds "
                         "(see symmetry_over_seeds)")
    identical = f"units identical (spreads <= {SAME_UNITS_TOLERANCE:g})"
    rows = {identical: [], "dL/dW columns spread": [], "RMS dL/dW, median (range)": []}
    index = []
    for name, r in results.items():
        for layer in range(r.rms.shape[1]):
            index.append(f"{name}, hidden {layer + 1}")
            rows[identical].append(f"{r.identical_units} of {r.n} seeds")
            cols, rms = r.columns_spread[:, layer], r.rms[:, layer]
            rows["dL/dW columns spread"].append(f"{cols.min():.3f} to {cols.max():.3f}")
            rows["RMS dL/dW, median (range)"].append(
                f"{np.median(rms):.3f} ({rms.min():.3f} to {rms.max():.3f})")
    return format_table(rows, index=index, index_name="initialisation")


# --------------------------------------------------------------------------- summaries
#: The lecture's four figures and the chapter's contrast, each on the lecture's
#: 6 x 4096 network with 16 samples.
LECTURE_CASES: dict[str, Experiment] = {
    "tanh, N(0, 0.01^2)": Experiment(activation="tanh", scheme="normal", std=0.01),
    "tanh, N(0, 0.05^2)": Experiment(activation="tanh", scheme="normal", std=0.05),
    "tanh, Xavier": Experiment(activation="tanh", scheme="xavier"),
    "ReLU, Kaiming": Experiment(activation="relu", scheme="kaiming"),
    "ReLU, Xavier": Experiment(activation="relu", scheme="xavier"),
}


def cases_table(cases: dict | None = None) -> str:
    """One line per network: std of the first and last layer, and their saturated share.

    Parameters
    ----------
    cases : dict of str -> Experiment, optional
        Default :data:`LECTURE_CASES`. All must have the same depth.

    Returns
    -------
    str
        A table; the saturated share is shown for tanh networks only (it is a tanh notion).
    """
    cases = LECTURE_CASES if cases is None else cases
    if not cases or not all(isinstance(c, Experiment) for c in cases.values()):
        raise ValueError("cases must map names to init.Experiment objects")
    depths = {c.depth for c in cases.values()}
    if len(depths) != 1:
        raise ValueError(f"cases must share one depth; got depths {sorted(depths)}")
    first, last = "layer 1", f"layer {depths.pop()}"
    columns: dict[str, list] = {f"std, {first}": [], f"std, {last}": [],
                                f"|a|>0.99, {first}": [], f"|a|>0.99, {last}": []}
    for experiment in cases.values():
        stats = layer_stats(forward_pass(experiment).activations)
        tanh = experiment.activation == "tanh"
        for title, value in zip(columns, (stats.std[0], stats.std[-1],
                                          stats.saturated[0], stats.saturated[-1])):
            columns[title].append(value if tanh or title.startswith("std") else "-")
    return format_table(columns, index=list(cases), index_name="network",
                        percent=[t for t in columns if t.startswith("|a|")])


# --------------------------------------------------------------------------- chapter 03 extras
#: Nonlinearities :func:`calculate_gain` knows, as ``torch.nn.init.calculate_gain`` names them.
GAIN_NONLINEARITIES: tuple[str, ...] = ("linear", "conv1d", "conv2d", "conv3d", "sigmoid",
                                        "tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    r"""The recommended gain :math:`g` for a nonlinearity, as ``torch.nn.init.calculate_gain``.

    ``linear``/``conv*``/``sigmoid``: 1; ``tanh``: 5/3; ``relu``: :math:`\sqrt{2}`;
    ``leaky_relu`` with negative slope :math:`s` (``param``, default 0.01):
    :math:`\sqrt{2/(1+s^2)}`; ``selu``: 3/4. The std of a scheme is multiplied by :math:`g`
    (:func:`init_std`'s ``gain``).

    Parameters
    ----------
    nonlinearity : str
        One of :data:`GAIN_NONLINEARITIES`.
    param : float, optional
        The negative slope of ``leaky_relu``; not allowed for the others.
    """
    if nonlinearity not in GAIN_NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {', '.join(GAIN_NONLINEARITIES)}; "
                         f"got {nonlinearity!r}")
    if param is not None and nonlinearity != "leaky_relu":
        raise ValueError(f"param is the negative slope of leaky_relu only; got param={param!r} "
                         f"for {nonlinearity!r}")
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, numbers.Real) or not math.isfinite(
                slope):
            raise ValueError(f"param (negative slope) must be a finite number; got {param!r}")
        return math.sqrt(2.0 / (1.0 + slope ** 2))
    return {"tanh": 5.0 / 3.0, "relu": math.sqrt(2.0), "selu": 0.75}.get(nonlinearity, 1.0)


def conv_fans(c_in: int, c_out: int, kernel_size) -> tuple[int, int]:
    r"""``(fan_in, fan_out)`` of a convolution layer, as torch computes them.

    An output unit sums over :math:`C_\text{in}` channels times the :math:`k_h \times k_w`
    window: :math:`n_\text{in} = C_\text{in} k_h k_w`; likewise
    :math:`n_\text{out} = C_\text{out} k_h k_w` (torch's weight is
    ``(C_out, C_in, k_h, k_w)``).

    Parameters
    ----------
    c_in, c_out : int
        Input and output channels.
    kernel_size : int or tuple of int
        :math:`k` (square kernel) or the kernel's sides, e.g. ``(3, 3)``.
    """
    c_in = _check_positive_int("c_in", c_in)
    c_out = _check_positive_int("c_out", c_out)
    sides = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * 2
    if len(sides) == 0:
        raise ValueError(f"kernel_size must be an integer >= 1 or a tuple of them; "
                         f"got {kernel_size!r}")
    window = math.prod(_check_positive_int("kernel_size", k) for k in sides)
    return c_in * window, c_out * window


def torch_linear_default_std(fan_in: int) -> float:
    r"""Std of PyTorch's default ``nn.Linear`` (and ``nn.Conv*d``) weights.

    ``reset_parameters`` calls ``kaiming_uniform_(weight, a=sqrt(5))``: gain
    :math:`\sqrt{2/(1+5)} = 1/\sqrt{3}`, bound :math:`\sqrt{3}\,g/\sqrt{n_\text{in}}
    = 1/\sqrt{n_\text{in}}`, i.e. :math:`U(-1/\sqrt{n_\text{in}}, 1/\sqrt{n_\text{in}})`, whose
    std is :math:`1/\sqrt{3 n_\text{in}}`.
    """
    fan_in = _check_positive_int("fan_in", fan_in)
    return init_std("kaiming", fan_in, 1, gain=calculate_gain("leaky_relu", math.sqrt(5.0)))


@dataclass(frozen=True)
class VarianceGains:
    r"""How one linear layer scales the variance of its input and of its gradient."""

    forward: float  #: Var(z) / Var(x) for z = x W; theory n_in sigma^2
    backward: float  #: Var(g W^T) / Var(g); theory n_out sigma^2


def layer_variance_gains(fan_in: int, fan_out: int, std: float, n_samples: int = 512,
                         seed: int = 0) -> VarianceGains:
    r"""Measure the forward and backward variance gains of one linear layer.

    With :math:`W \sim N(0, \sigma^2)` of shape ``(fan_in, fan_out)``, inputs
    :math:`x \sim N(0, 1)` of shape ``(n_samples, fan_in)`` and upstream gradients
    :math:`g = \partial L/\partial z \sim N(0, 1)` of shape ``(n_samples, fan_out)``:

    .. math::

        \frac{\operatorname{Var}(xW)}{\operatorname{Var}(x)} \approx n_\text{in}\sigma^2,
        \qquad
        \frac{\operatorname{Var}(gW^\top)}{\operatorname{Var}(g)} \approx n_\text{out}\sigma^2.

    Xavier's two conditions (Glorot & Bengio, 2010) ask for both to be 1.

    Parameters
    ----------
    fan_in, fan_out : int
        Between 1 and 4096.
    std : float
        :math:`\sigma`, positive.
    n_samples : int
        Rows of x and g, between 1 and 4096.
    seed : int
    """
    fan_in = _check_positive_int("fan_in", fan_in, maximum=4096)
    fan_out = _check_positive_int("fan_out", fan_out, maximum=4096)
    std = _check_positive_finite("std", std)
    n_samples = _check_positive_int("n_samples", n_samples, maximum=4096)
    rng = np.random.default_rng([_check_seed(seed), 3])
    w = sample_weights("normal", fan_in, fan_out, std=std, rng=rng)
    x = rng.standard_normal((n_samples, fan_in))
    g = rng.standard_normal((n_samples, fan_out))
    return VarianceGains(forward=float((x @ w).var() / x.var()),
                         backward=float((g @ w.T).var() / g.var()))


def _mean_square(a) -> float:
    # Summed in float64 without a float64 copy (a 4096 x 4096 gradient is 64 MiB).
    a = np.asarray(a)
    return float(np.einsum("ij,ij->", a, a, dtype=np.float64) / a.size)


@dataclass(frozen=True)
class SecondMoments:
    r"""The forward variance rule, measured per layer; each field has shape (depth,)."""

    predicted_z: np.ndarray  #: n_in sigma^2 E[a_{l-1}^2], the rule's E[z_l^2]
    z: np.ndarray  #: measured E[z_l^2]
    a: np.ndarray  #: measured E[a_l^2]

    @property
    def kept(self) -> np.ndarray:
        """E[a_l^2] / E[z_l^2]: the share of the second moment the activation passes on."""
        return self.a / self.z


def second_moments(experiment: Experiment) -> SecondMoments:
    r"""Check :math:`E[z_l^2] = n_\text{in}\sigma^2 E[a_{l-1}^2]` and measure what f keeps.

    For independent zero-mean weights,
    :math:`E[z_l^2] = n_\text{in}\,\sigma^2\,E[a_{l-1}^2]`. ReLU keeps half of it,
    :math:`E[\mathrm{relu}(z)^2] = E[z^2]/2` for a symmetric z (He et al., 2015); tanh keeps
    less the larger z is.
    """
    run = forward_pass(experiment)
    sigma2 = experiment.weight_std ** 2
    with np.errstate(over="ignore", invalid="ignore"):
        return SecondMoments(
            predicted_z=np.array([a.shape[1] * sigma2 * _mean_square(a) for a in run.inputs]),
            z=np.array([_mean_square(z) for z in run.pre_activations]),
            a=np.array([_mean_square(a) for a in run.activations]),
        )


def backward_gain(experiment: Experiment) -> np.ndarray:
    r"""The backward variance rule: the predicted factor from RMS dL/da_l to RMS dL/da_{l-1}.

    :math:`\partial L/\partial a_{l-1} = (\partial L/\partial a_l \odot f'(z_l))\,W_l^\top`,
    so, for independent factors,
    :math:`\mathrm{RMS}(\partial L/\partial a_{l-1}) \approx \sqrt{n_\text{out}}\,\sigma\,
    \mathrm{RMS}(f'(z_l))\;\mathrm{RMS}(\partial L/\partial a_l)`.

    Returns
    -------
    ndarray, shape (depth,)
        Entry ``l - 1`` is :math:`\sqrt{n_\text{out}}\,\sigma\,\sqrt{E[f'(z_l)^2]}` for
        layer l (entry 0 would lead to dL/dx).
    """
    run = forward_pass(experiment)
    _, df = _activations.get(experiment.activation)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.array([math.sqrt(z.shape[1] * _mean_square(df(z))) * experiment.weight_std
                         for z in run.pre_activations])
