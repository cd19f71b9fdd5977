r"""Chapter 03 in deeper networks: the per-layer factors compound.

- :func:`deeper_gradients`: the lecture's tanh network at depth 6 and at a larger depth,
  with the chapter's three scales :math:`\sigma\sqrt{n}` (0.64, 1, 3.2): the weight
  gradient of the first and of the last layer (:func:`.runs.gradient_sizes`).
- :func:`residual_stream_std`: a residual stream at initialisation, with GPT-2's
  :math:`1/\sqrt{N}` on the branches, without it, and with Fixup's zero branches.
- :func:`matrix_product_norms`: d2l's experiment (Zhang et al., *Dive into Deep Learning*,
  section 5.4): multiply many random matrices and watch the entries of the product; the
  backward pass of a linear network is such a product.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from course_utils.chapters.ch03_initialization.runs import Experiment, gradient_sizes
from course_utils.threads import one_thread
from course_utils.validation import (
    MAX_SEED,
    check_int,
    check_real,
    check_sequence,
    check_work,
)

__all__ = [
    "DEPTH_GAINS",
    "DeeperGradients",
    "deeper_gradients",
    "matrix_product_norms",
    "residual_stream_std",
]

#: sigma * sqrt(n) of the chapter's three tanh cases at the lecture's width 4096.
DEPTH_GAINS = {"N(0, 0.01²)": 0.64, "Xavier": 1.0, "N(0, 0.05²)": 3.2}


@dataclass(frozen=True)
class DeeperGradients:
    """What :func:`deeper_gradients` measured.

    Attributes
    ----------
    names : tuple of str, length I
    depths : tuple of int, length D
    first, last : ndarray, shape (I, D)
        RMS of :math:`\\partial L/\\partial W` of layer 1 and of the last layer.
    """

    names: tuple
    depths: tuple
    first: np.ndarray
    last: np.ndarray


def deeper_gradients(
    gains=None, depths=(6, 24), width: int = 256, n_samples: int = 16, seed: int = 0
) -> DeeperGradients:
    r"""Weight-gradient sizes of the lecture's tanh network at several depths.

    Each case is ``Experiment(depth, width, n_samples, "tanh", "normal", g / sqrt(width),
    seed)`` with the loss of :func:`.runs.gradient_sizes` (:math:`\partial L/\partial a_L =
    G \sim N(0, 1)`). A narrower layer with the same :math:`g = \sigma\sqrt{n}` multiplies
    the signal by the same factor per layer (:math:`\operatorname{Var}(z) = n\sigma^2
    \mathbb{E}[a^2]`), so width 256 stands in for the lecture's 4096 at 1/64 of the cost.

    Depth 24, not more, by default: with :math:`g = 3.2` the forward pass is chaotic (a
    perturbation grows about 1.4 times per layer), so float32 rounding, which differs
    between CPUs, would reach the second digit by depth 48.

    Parameters
    ----------
    gains : dict of str -> float, optional
        Name -> :math:`g`; default :data:`DEPTH_GAINS`.
    depths : sequence of int
        Each 1 to 100.
    width, n_samples, seed : int
        As in :class:`~.runs.Experiment`.

    Returns
    -------
    DeeperGradients
    """
    gains = DEPTH_GAINS if gains is None else gains
    if not isinstance(gains, dict) or not gains:
        raise ValueError(f"gains must be a non-empty dict of name -> gain; got {gains!r}")
    if len(gains) > 16:
        raise ValueError(f"gains must hold at most 16 entries; got {len(gains)}")
    values = [check_real(f"gains[{name!r}]", g, 0, 100, low_open=True) for name, g in gains.items()]
    depths = tuple(
        check_sequence("depths", depths, lambda n, d: check_int(n, d, 1, 100), max_len=8)
    )
    width = check_int("width", width, 1, 4096)
    n_samples = check_int("n_samples", n_samples, 1, 256)
    seed = check_int("seed", seed, 0, MAX_SEED)
    check_work("these backward passes", len(values) * sum(depths) * n_samples * width * width * 3)
    first = np.empty((len(values), len(depths)))
    last = np.empty_like(first)
    with one_thread():  # small matrices: one thread is fastest on a busy machine
        _fill(values, depths, width, n_samples, seed, first, last)
    return DeeperGradients(tuple(gains), depths, first, last)


def _fill(values, depths, width, n_samples, seed, first, last):
    for i, g in enumerate(values):
        for j, depth in enumerate(depths):
            experiment = Experiment(
                depth, width, n_samples, "tanh", "normal", g / math.sqrt(width), seed
            )
            sizes = gradient_sizes(experiment)
            first[i, j], last[i, j] = sizes.weights[0], sizes.weights[-1]


def matrix_product_norms(
    size: int = 4, std: float = 1.0, n_matrices: int = 100, seeds=range(20)
) -> np.ndarray:
    r"""RMS of the entries of a product of random matrices, per seed.

    :math:`P_k = M_1 M_2 \cdots M_k` with every :math:`M_i` of shape ``(size, size)`` and
    i.i.d. :math:`N(0, \text{std}^2)` entries (float64). In expectation each factor
    multiplies the mean square of the entries by :math:`n\,\text{std}^2`, so ``std =
    1/sqrt(size)`` keeps it; d2l's example is ``size=4, std=1`` (a factor 4 per matrix).
    The product is rescaled as it goes and the scale kept in logarithms, so nothing
    overflows.

    Parameters
    ----------
    size : int
        1 to 256.
    std : float
        Greater than 0.
    n_matrices : int
        1 to 1000.
    seeds : sequence of int
        One product per seed (1 to 100 seeds).

    Returns
    -------
    ndarray, shape (S,)
        :math:`\log_{10}` of the RMS of the entries of :math:`P_k`, ``k = n_matrices``.
    """
    size = check_int("size", size, 1, 256)
    std = check_real("std", std, 0, 1e6, low_open=True)
    n_matrices = check_int("n_matrices", n_matrices, 1, 1000)
    seeds = check_sequence("seeds", seeds, lambda n, s: check_int(n, s, 0, MAX_SEED), max_len=100)
    check_work("these matrix products", len(seeds) * n_matrices * size**3)
    rngs = [np.random.default_rng([s, 5, size]) for s in seeds]
    product = np.stack([np.eye(size)] * len(seeds))
    log10_scale = np.zeros(len(seeds))
    with one_thread():
        for _ in range(n_matrices):
            product, log10_scale = _multiply(product, log10_scale, rngs, size, std)
    return log10_scale


def _multiply(product, log10_scale, rngs, size, std):
    factor = np.stack([rng.standard_normal((size, size)) for rng in rngs]) * std
    product = product @ factor
    rms = np.sqrt(np.mean(product**2, axis=(1, 2)))
    product /= rms[:, None, None]
    return product, log10_scale + np.log10(rms)


def residual_stream_std(
    n_branches: int, branch_scale: float, width: int = 256, n_samples: int = 64, seed: int = 0
) -> np.ndarray:
    r"""Std of a pre-norm residual stream, block by block, at initialisation.

    :math:`x_0 \sim N(0, 1)`, then for :math:`k = 1, \dots, N`:
    :math:`x_k = x_{k-1} + s\,\mathrm{relu}(\hat x_{k-1} W_1) W_2`, with :math:`\hat x` each
    row of :math:`x` normalised to mean 0 and std 1 (the LayerNorm before every branch of
    GPT-2), :math:`W_1` Kaiming (:math:`\sqrt{2/n}`) and :math:`W_2` of std
    :math:`1/\sqrt{n}`. Every branch adds about unit variance times :math:`s^2`, so the
    stream's variance grows like :math:`1 + N s^2`: GPT-2's :math:`s = 1/\sqrt{N}`
    (Radford et al., 2019) keeps it near 2; :math:`s = 0` (Fixup's zero-initialised last
    layer of a branch, Zhang et al., 2019) keeps the stream at :math:`x_0`.

    Parameters
    ----------
    n_branches : int
        :math:`N`, 1 to 200.
    branch_scale : float
        :math:`s \ge 0`.
    width, n_samples : int
        The stream is ``(n_samples, width)``; width 2 to 1024, 1 to 1024 samples.
    seed : int

    Returns
    -------
    ndarray, shape (N + 1,)
        The std of :math:`x_0, x_1, \dots, x_N` (float64).
    """
    n_branches = check_int("n_branches", n_branches, 1, 200)
    branch_scale = check_real("branch_scale", branch_scale, 0, 1e3)
    width = check_int("width", width, 2, 1024)
    n_samples = check_int("n_samples", n_samples, 1, 1024)
    seed = check_int("seed", seed, 0, MAX_SEED)
    check_work("this residual stream", n_branches * n_samples * width * width * 2)
    rng = np.random.default_rng([seed, 6, width])
    x = rng.standard_normal((n_samples, width))
    stds = [x.std()]
    with one_thread():
        for _ in range(n_branches):
            w1 = rng.standard_normal((width, width)) * math.sqrt(2 / width)
            w2 = rng.standard_normal((width, width)) / math.sqrt(width)
            normed = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
            x = x + branch_scale * (np.maximum(normed @ w1, 0.0) @ w2)
            stds.append(x.std())
    return np.array(stds)
