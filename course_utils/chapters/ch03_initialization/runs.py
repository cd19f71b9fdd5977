r"""Chapter 03's experiments: the lecture's network under each initialisation, in numbers.

The lecture (seed section 三、权重初始化) pushes 16 samples :math:`x \sim N(0, 1)` through a
6-layer fully connected network of 4096 units,
:math:`a_0 = x,\; z_l = a_{l-1} W_l,\; a_l = f(z_l)`, and looks at a histogram of
:math:`a_l` per layer for four initialisations of :math:`W_l`. One run of it is an
:class:`Experiment`; the stds come from :mod:`course_utils.init` (the lesson), the network
from :mod:`course_utils.network` (forward and backward), fed with cached weights by
:mod:`course_utils.weight_cache`. Also here: the gradients of that network, the forward and
backward variance rules measured, and the five lecture cases in one table. Why the weights
start random at all is :mod:`.runs_symmetry`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from course_utils import activations as _activations
from course_utils import network, weight_cache
from course_utils.chapters.ch03_initialization import _fast_path
from course_utils.init import SCHEMES, init_std, sample_weights
from course_utils.stats import layer_stats
from course_utils.tables import format_table
from course_utils.validation import MAX_SEED, check_choice, check_int, check_real

__all__ = [
    "MAX_DEPTH",
    "MAX_WIDTH",
    "MAX_WEIGHT_BYTES",
    "MAX_ACTIVATION_BYTES",
    "MAX_FORWARD_MULTIPLY_ADDS",
    "Experiment",
    "forward_pass",
    "forward_activations",
    "SMALL_LOCAL_GRAD",
    "GradientSignals",
    "gradient_signals",
    "GradientSizes",
    "gradient_sizes",
    "LECTURE_CASES",
    "cases_table",
    "VarianceGains",
    "layer_variance_gains",
    "SecondMoments",
    "second_moments",
    "backward_gain",
]

# Limits: every call must fit a 2 GB Binder next to the rest of a kernel (~300 MB with torch)
# and answer in a few seconds on 2 CPU cores. They are checked before anything is allocated.
#: Layers of one :class:`Experiment`: beyond any lecture figure (6) and the explorer (10).
MAX_DEPTH = 100
#: Units per layer of one :class:`Experiment`: twice the lecture's 4096.
MAX_WIDTH = 8192
#: Weights of one :class:`Experiment` (depth x width^2 float32): the lecture's network takes
#: 384 MiB, the explorer's deepest (10 x 4096) 640 MiB.
MAX_WEIGHT_BYTES = 640 * 2**20
#: Per-layer arrays of one run (z and a, forward; their gradients, backward), float32.
MAX_ACTIVATION_BYTES = 256 * 2**20
#: Multiply-adds of one forward pass, depth x n_samples x width^2: about 2 s here (float32
#: BLAS), below the shared MAX_MULTIPLY_ADDS because the notebook runs many of them.
MAX_FORWARD_MULTIPLY_ADDS = 50 * 10**9
#: Fans and samples of :func:`layer_variance_gains`: a 4096 x 4096 float64 layer is 128 MiB.
MAX_GAIN_SIZE = 4096


def _check_seed(name, seed) -> int:
    # An int (not a Generator): it is part of the weight cache's keys.
    return check_int(name, seed, 0, MAX_SEED)


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
    most :data:`MAX_ACTIVATION_BYTES`, the forward pass at most :data:`MAX_FORWARD_MULTIPLY_ADDS`.
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
        set_("depth", check_int("depth", self.depth, 1, MAX_DEPTH))
        set_("width", check_int("width", self.width, 1, MAX_WIDTH))
        set_("n_samples", check_int("n_samples", self.n_samples, 1))
        set_("seed", _check_seed("seed", self.seed))
        if not isinstance(self.activation, str):
            raise ValueError(
                f"activation must be a name from course_utils.activations.NAMES; "
                f"got {self.activation!r}"
            )
        _activations.get(self.activation)
        set_("activation", self.activation.lower())
        check_choice("scheme", self.scheme, SCHEMES)
        if self.scheme == "normal":
            set_("std", check_real("std", self.std, 0.0, low_open=True))
        self._check_size()

    def _check_size(self):
        depth, width, n = self.depth, self.width, self.n_samples
        weight_bytes = depth * width * width * 4
        if weight_bytes > MAX_WEIGHT_BYTES:
            raise ValueError(
                f"depth={depth}, width={width} needs {_mib(weight_bytes)} of float32 weights; "
                f"the limit is {_mib(MAX_WEIGHT_BYTES)} (what fits a 2 GB Binder next to the "
                "rest of the kernel): lower depth or width"
            )
        array_bytes = 2 * depth * n * width * 4
        if array_bytes > MAX_ACTIVATION_BYTES:
            raise ValueError(
                f"n_samples={n} with depth={depth}, width={width} keeps {_mib(array_bytes)} of "
                f"per-layer arrays; the limit is {_mib(MAX_ACTIVATION_BYTES)} (2 GB Binder): "
                f"use at most {MAX_ACTIVATION_BYTES // (8 * depth * width)} samples"
            )
        work = depth * n * width * width
        if work > MAX_FORWARD_MULTIPLY_ADDS:
            raise ValueError(
                f"n_samples={n} with depth={depth}, width={width} is {work / 1e9:.0f} billion "
                f"multiply-adds; the limit is {MAX_FORWARD_MULTIPLY_ADDS / 1e9:.0f} billion (a few "
                f"seconds on 2 cores): use at most {MAX_FORWARD_MULTIPLY_ADDS // (depth * width**2)} "
                "samples"
            )

    @property
    def weight_std(self) -> float:
        r""":math:`\sigma`, the std every :math:`W_l` is drawn with (:func:`init_std`)."""
        return init_std(self.scheme, self.width, self.width, std=self.std)

    def replace(self, **changes) -> "Experiment":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def forward_pass(experiment: Experiment, full_width: int | None = None) -> network.Forward:
    """Run the lecture's experiment and keep every layer's input, :math:`z_l` and :math:`a_l`.

    With ``full_width`` (>= ``experiment.width``, at most 8192) the weights and the batch are
    the top-left corner of the ``full_width`` network's: the explorer's networks of every
    width then share one cache of weights. At ``full_width == width`` nothing changes.

    The notebook asks for the same few networks in many cells (figure, statistics,
    gradients, the summary table): the last records are kept in memory
    (:mod:`._fast_path`) and a repeated call returns a copy.

    Returns
    -------
    course_utils.network.Forward
        Fresh float32 arrays of shape ``(n_samples, width)``; ``inputs[0]``, the batch, is
        read-only (shared with the weight cache).
    """
    if not isinstance(experiment, Experiment):
        raise ValueError(f"experiment must be an Experiment; got {experiment!r}")
    if full_width is not None:  # checked here too: it is part of the key
        full_width = check_int("full_width", full_width, 1, weight_cache.MAX_CACHED_WIDTH)
    key = (experiment, experiment.width if full_width is None else full_width)

    def run():
        # A deeper network continues from the deepest shallower one computed already (the
        # explorer's depth slider): only the new layers, the same bits as a full run.
        with _fast_path.one_blas_thread():
            for depth in range(experiment.depth - 1, 0, -1):
                shallower = _fast_path.peek((dataclasses.replace(experiment, depth=depth), key[1]))
                if shallower is not None:
                    return weight_cache.resume(experiment, full_width, shallower)
            return weight_cache.run(experiment, full_width)

    return _fast_path.cached_forward(key, run)


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
    if not isinstance(experiment, Experiment):
        raise ValueError(f"experiment must be an Experiment; got {experiment!r}")
    upstream_seed = _check_seed("upstream_seed", upstream_seed)
    arrays = 4 * experiment.depth * experiment.n_samples * experiment.width * 4
    if arrays > MAX_ACTIVATION_BYTES:  # forward keeps 2 arrays per layer, backward 2 more
        raise ValueError(
            f"the backward pass of this experiment keeps {_mib(arrays)} of per-layer arrays; "
            f"the limit is {_mib(MAX_ACTIVATION_BYTES)} (2 GB Binder): use at most "
            f"{MAX_ACTIVATION_BYTES // (16 * experiment.depth * experiment.width)} samples"
        )
    run = forward_pass(experiment)
    weights = weight_cache.weights(experiment)
    rng = np.random.default_rng([experiment.seed, 2, upstream_seed])
    upstream = rng.standard_normal(run.output.shape, dtype=np.float32)
    with _fast_path.one_blas_thread(), np.errstate(over="ignore", invalid="ignore"):
        grads = network.backward(run, weights, upstream, experiment.activation)
        _, df = _activations.get(experiment.activation)
        return GradientSizes(
            weights=np.array(
                [_weight_gradient_rms(a, dz) for a, dz in zip(grads.layer_inputs, grads.z)]
            ),
            activations=np.array([_rms(g) for g in grads.activations]),
            local=np.array([np.mean(df(z), dtype=np.float64) for z in run.pre_activations]),
        )


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
    if (
        not isinstance(cases, dict)
        or not cases
        or not all(isinstance(c, Experiment) for c in cases.values())
    ):
        raise ValueError("cases must map names to Experiment objects")
    depths = {c.depth for c in cases.values()}
    if len(depths) != 1:
        raise ValueError(f"cases must share one depth; got depths {sorted(depths)}")
    first, last = "layer 1", f"layer {depths.pop()}"
    columns: dict[str, list] = {
        f"std, {first}": [],
        f"std, {last}": [],
        f"|a|>0.99, {first}": [],
        f"|a|>0.99, {last}": [],
    }
    for experiment in cases.values():
        stats = layer_stats(forward_pass(experiment).activations)
        tanh = experiment.activation == "tanh"
        for title, value in zip(
            columns, (stats.std[0], stats.std[-1], stats.saturated[0], stats.saturated[-1])
        ):
            columns[title].append(value if tanh or title.startswith("std") else "-")
    return format_table(
        columns,
        index=list(cases),
        index_name="network",
        percent=[t for t in columns if t.startswith("|a|")],
    )


@dataclass(frozen=True)
class VarianceGains:
    r"""How one linear layer scales the variance of its input and of its gradient."""

    forward: float  #: Var(z) / Var(x) for z = x W; theory n_in sigma^2
    backward: float  #: Var(g W^T) / Var(g); theory n_out sigma^2


def layer_variance_gains(
    fan_in: int, fan_out: int, std: float, n_samples: int = 512, seed: int = 0
) -> VarianceGains:
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
    fan_in = check_int("fan_in", fan_in, 1, MAX_GAIN_SIZE)
    fan_out = check_int("fan_out", fan_out, 1, MAX_GAIN_SIZE)
    std = check_real("std", std, 0.0, low_open=True)
    n_samples = check_int("n_samples", n_samples, 1, MAX_GAIN_SIZE)
    rng = np.random.default_rng([_check_seed("seed", seed), 3])
    w = sample_weights("normal", fan_in, fan_out, std=std, seed=rng)
    x = rng.standard_normal((n_samples, fan_in))
    g = rng.standard_normal((n_samples, fan_out))
    return VarianceGains(
        forward=float((x @ w).var() / x.var()), backward=float((g @ w.T).var() / g.var())
    )


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
    sigma2 = experiment.weight_std**2
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
        return np.array(
            [
                math.sqrt(z.shape[1] * _mean_square(df(z))) * experiment.weight_std
                for z in run.pre_activations
            ]
        )
