r"""Weight initialisation: the standard deviation of a layer's weights, and how to draw them.

The lecture (seed section 三、权重初始化) asks how large the weights :math:`W_l` of
:math:`z_l = a_{l-1} W_l` should start. This module is its answer, from scratch:

- ``"normal"``: :math:`W \sim N(0, \sigma^2)` with an explicit ``std`` :math:`\sigma`.
- ``"xavier"`` (Glorot & Bengio, 2010):
  :math:`\sigma = g\sqrt{2 / (n_\text{in} + n_\text{out})}`, default gain :math:`g = 1`;
  for a square layer this is the lecture's :math:`1/\sqrt{n_\text{in}}`.
- ``"kaiming"`` (He et al., 2015), fan_in mode: :math:`\sigma = g / \sqrt{n_\text{in}}`,
  default gain :math:`g = \sqrt{2}` (ReLU), i.e. :math:`\sqrt{2 / n_\text{in}}`.

Conventions follow ``torch.nn.init``: the same fan and gain give the same std
(:func:`calculate_gain`, :func:`conv_fans`), and a uniform sampler uses the bound
:math:`\sqrt{3}\,\sigma`, so that its std is :math:`\sigma`. One difference: here a weight
matrix is ``(fan_in, fan_out)`` because the lecture writes :math:`z = aW`; torch's
``nn.Linear.weight`` is ``(fan_out, fan_in)``.

The chapter's experiments (the lecture's 6 x 4096 network, its histograms and gradients)
are in :mod:`course_utils.chapters.ch03_initialization`.
"""

from __future__ import annotations

import math

import numpy as np

from course_utils.references import reference_answer
from course_utils.validation import (
    check_choice,
    check_elements,
    check_int,
    check_real,
    check_sequence,
    make_rng,
)

__all__ = [
    "SCHEMES",
    "DISTRIBUTIONS",
    "MAX_SAMPLED_ENTRIES",
    "default_gain",
    "init_std",
    "sample_weights",
    "GAIN_NONLINEARITIES",
    "calculate_gain",
    "conv_fans",
    "torch_linear_default_std",
    "truncated_normal_std",
]

#: Initialisation schemes accepted by :func:`init_std` and :func:`sample_weights`.
SCHEMES: tuple[str, ...] = ("normal", "xavier", "kaiming")
#: Distributions accepted by :func:`sample_weights`.
DISTRIBUTIONS: tuple[str, ...] = ("normal", "uniform")
#: Entries of one matrix drawn by :func:`sample_weights`: 2**26 float64 is 512 MiB, a
#: quarter of a 2 GB server (a 4096 x 4096 layer is 2**24).
MAX_SAMPLED_ENTRIES = 2**26
#: Largest fan accepted: far beyond any layer of the course (a 7x7 conv of 2048 channels
#: has a fan of 100,352); it keeps the arithmetic exact and the messages readable.
MAX_FAN = 10**8

_DEFAULT_GAIN = {"xavier": 1.0, "kaiming": math.sqrt(2.0)}


def _check_fan(name, value) -> int:
    return check_int(name, value, 1, MAX_FAN)


def default_gain(scheme: str) -> float:
    """The gain a scheme uses when none is given: 1 for Xavier, sqrt(2) for Kaiming (ReLU)."""
    check_choice("scheme", scheme, SCHEMES)
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
        Number of inputs and outputs of the layer (the weight matrix is ``(fan_in, fan_out)``),
        1 to :data:`MAX_FAN`.
    gain : float, optional
        Scale factor :math:`g > 0`; defaults to 1 (Xavier) or :math:`\sqrt{2}` (Kaiming), as
        ``torch.nn.init`` with ``nonlinearity="relu"``. Not used by ``"normal"``.
    std : float, optional
        Required by ``"normal"`` (> 0), ignored by the others.

    Returns
    -------
    float
        The standard deviation :math:`\sigma`.

    References
    ----------
    Glorot & Bengio, "Understanding the difficulty of training deep feedforward neural
    networks", 2010. He, Zhang, Ren & Sun, "Delving deep into rectifiers", 2015.
    """
    check_choice("scheme", scheme, SCHEMES)
    fan_in = _check_fan("fan_in", fan_in)
    fan_out = _check_fan("fan_out", fan_out)
    if scheme == "normal":
        if std is None:
            raise ValueError("scheme 'normal' needs an explicit std, e.g. std=0.01")
        return check_real("std", std, 0.0, low_open=True)
    g = default_gain(scheme) if gain is None else check_real("gain", gain, 0.0, low_open=True)
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
    seed: np.random.Generator | int = 0,
    dtype=np.float64,
) -> np.ndarray:
    r"""Draw a ``(fan_in, fan_out)`` weight matrix with the std of :func:`init_std`.

    ``distribution="normal"`` draws :math:`N(0, \sigma^2)`; ``"uniform"`` draws
    :math:`U(-\sqrt{3}\sigma, \sqrt{3}\sigma)`, which has the same std (torch's
    ``xavier_uniform_`` and ``kaiming_uniform_``).

    Parameters
    ----------
    scheme, fan_in, fan_out, gain, std
        As in :func:`init_std`; ``fan_in * fan_out`` at most :data:`MAX_SAMPLED_ENTRIES`.
    distribution : {"normal", "uniform"}
    seed : int or numpy.random.Generator
        Source of randomness (a Generator is used and advanced), or a seed for one.
    dtype : {numpy.float64, numpy.float32}

    Returns
    -------
    W : ndarray, shape (fan_in, fan_out)
    """
    sigma = init_std(scheme, fan_in, fan_out, gain=gain, std=std)
    check_choice("distribution", distribution, DISTRIBUTIONS)
    if scheme == "normal" and distribution != "normal":
        raise ValueError("scheme 'normal' samples from a normal distribution only")
    check_elements("the weight matrix (fan_in, fan_out)", (fan_in, fan_out), MAX_SAMPLED_ENTRIES)
    if dtype not in (np.float64, np.float32):
        raise ValueError(f"dtype must be numpy.float64 or numpy.float32; got {dtype!r}")
    rng = make_rng(seed)
    if distribution == "normal":
        w = rng.standard_normal((fan_in, fan_out), dtype=np.float64) * sigma
    else:
        bound = math.sqrt(3.0) * sigma
        w = rng.uniform(-bound, bound, size=(fan_in, fan_out))
    return w.astype(dtype, copy=False)


# --------------------------------------------------------------------------- gains and fans
#: Nonlinearities :func:`calculate_gain` knows, as ``torch.nn.init.calculate_gain`` names them.
GAIN_NONLINEARITIES: tuple[str, ...] = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
)


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
        The negative slope of ``leaky_relu`` (a finite number, at most 1e6 in size); not
        allowed for the others.
    """
    check_choice("nonlinearity", nonlinearity, GAIN_NONLINEARITIES)
    if param is not None and nonlinearity != "leaky_relu":
        raise ValueError(
            f"param is the negative slope of leaky_relu only; got param={param!r} "
            f"for {nonlinearity!r}"
        )
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else check_real("param (negative slope)", param, -1e6, 1e6)
        return math.sqrt(2.0 / (1.0 + slope**2))
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
        :math:`k` (square kernel) or the kernel's sides, e.g. ``(3, 3)`` (1 to 3 sides).
    """
    c_in = _check_fan("c_in", c_in)
    c_out = _check_fan("c_out", c_out)
    if isinstance(kernel_size, (tuple, list)):
        sides = check_sequence("kernel_size", kernel_size, lambda n, k: _check_fan(n, k), max_len=3)
    else:
        sides = [_check_fan("kernel_size", kernel_size)] * 2
    window = math.prod(sides)
    if max(c_in, c_out) * window > MAX_FAN:
        raise ValueError(
            f"the fans C * window = {max(c_in, c_out) * window} would be over "
            f"{MAX_FAN}; use fewer channels or a smaller kernel"
        )
    return c_in * window, c_out * window


def torch_linear_default_std(fan_in: int) -> float:
    r"""Std of PyTorch's default ``nn.Linear`` (and ``nn.Conv*d``) weights.

    ``reset_parameters`` calls ``kaiming_uniform_(weight, a=sqrt(5))``: gain
    :math:`\sqrt{2/(1+5)} = 1/\sqrt{3}`, bound :math:`\sqrt{3}\,g/\sqrt{n_\text{in}}
    = 1/\sqrt{n_\text{in}}`, i.e. :math:`U(-1/\sqrt{n_\text{in}}, 1/\sqrt{n_\text{in}})`, whose
    std is :math:`1/\sqrt{3 n_\text{in}}`.
    """
    fan_in = _check_fan("fan_in", fan_in)
    return init_std("kaiming", fan_in, 1, gain=calculate_gain("leaky_relu", math.sqrt(5.0)))


def truncated_normal_std(a: float = -2.0, b: float = 2.0) -> float:
    r"""Std of :math:`N(0, 1)` truncated to :math:`[a, b]` (values outside redrawn).

    With :math:`\phi`, :math:`\Phi` the standard normal density and distribution function and
    :math:`Z = \Phi(b) - \Phi(a)`,

    .. math::

        \operatorname{Var} = 1 + \frac{a\phi(a) - b\phi(b)}{Z}
        - \left(\frac{\phi(a) - \phi(b)}{Z}\right)^2.

    At :math:`\pm 2` it is 0.880: ``torch.nn.init.trunc_normal_(w, std=s, a=-2 * s,
    b=2 * s)`` draws weights of std :math:`0.88\,s`, not :math:`s`; TensorFlow's
    ``VarianceScaling(distribution="truncated_normal")`` divides by 0.8796 to make up for
    it. Note that torch's ``a`` and ``b`` are absolute bounds (default :math:`\pm 2`), not
    multiples of ``std``: with ``std=0.02`` the default truncates nothing.

    Parameters
    ----------
    a, b : float
        Bounds in units of the std, :math:`-10 \le a < b \le 10`.

    Returns
    -------
    float
    """
    a = check_real("a", a, -10.0, 10.0)
    b = check_real("b", b, -10.0, 10.0)
    if not a < b:
        raise ValueError(f"a must be smaller than b; got a={a!r}, b={b!r}")

    def phi(x):
        return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)

    def cdf(x):
        return 0.5 * math.erfc(-x / math.sqrt(2))

    z = cdf(b) - cdf(a)
    if z < 1e-12:
        raise ValueError(
            f"[a, b] = [{a!r}, {b!r}] holds almost no probability: choose wider bounds"
        )
    mean = (phi(a) - phi(b)) / z
    var = 1 + (a * phi(a) - b * phi(b)) / z - mean * mean
    return math.sqrt(max(var, 0.0))
