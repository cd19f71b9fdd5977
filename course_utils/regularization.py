r"""Chapter 07: regularisation. Weight penalties, dropout and the methods that follow its pattern.

The lecture's general pattern (一种通用模式): **randomness at training time, its expectation
at test time.** Every random method here has a ``train`` mode that draws from a
:class:`numpy.random.Generator` and a test mode that is deterministic and equals (or, after
a non-linearity, approximates) the expectation of the training-time output.

- Weight penalties: :func:`l2_penalty`, :func:`l1_penalty` and their gradients
  (:func:`l2_grad`, :func:`l1_grad`); :func:`torch_penalty` builds the same term for
  :func:`course_utils.training.train`. They are written in :mod:`course_utils.penalties`
  (no randomness in them) and importable from here.
- Dropout (Srivastava et al., JMLR 2014): :func:`dropout`, version 1 (drop at train time,
  scale by the keep probability at test time) and version 2 (inverted: divide by the keep
  probability at train time, identity at test time); :class:`DropoutStep` plugs it into the
  lecture's NumPy network (:mod:`course_utils.network`); :func:`dropout_net_loss` is a
  two-layer ReLU network with inverted dropout, forward and backward (chapter 07's second
  exercise).

- DropConnect (Wan et al., ICML 2013): :func:`dropconnect` drops weights, not units.
- Stochastic depth (Huang et al., ECCV 2016): :func:`stochastic_depth` skips residual blocks.

Every mask is drawn by one function, :func:`dropout_mask` (``rng.random(shape) >= p``);
randomness is passed as ``seed``, an int or a :class:`numpy.random.Generator`
(:func:`course_utils.validation.make_rng`). Data augmentation (flips, crops, colour jitter,
cutout, random erasing) is :mod:`course_utils.augmentation`; the chapter's experiments,
figures and explorer are in :mod:`course_utils.chapters.ch07_regularization`.

The functions that compute an exercise's answer (``dropout``, ``apply_dropout``,
``dropout_mask``, ``DropoutStep``, ``dropout_net_loss``) are marked with
:func:`course_utils.references.reference_answer`: they raise while a student's answer to
that exercise runs inside ``references.hidden(...)``, and work as usual everywhere else.

**Convention**: everywhere ``p`` is the probability of DROPPING (a unit, a weight), as in
``torch.nn.Dropout(p)``; the keep probability is ``1 - p``. (CS231n's notes and the
lecture's figure call the keep probability ``p``.)
"""

from __future__ import annotations

import numbers
from typing import Callable, Sequence

import numpy as np

from course_utils.network import LayerStep
from course_utils.penalties import (
    elastic_net_grad,
    elastic_net_penalty,
    l1_grad,
    l1_penalty,
    l2_grad,
    l2_penalty,
    max_norm,
    torch_penalty,
)
from course_utils.references import reference_answer
from course_utils.validation import (
    check_array,
    check_bool,
    check_callable,
    check_choice,
    check_elements,
    check_int,
    check_real,
    check_sequence,
    make_rng,
)

__all__ = [
    "check_drop_probability",
    "l2_penalty",
    "l2_grad",
    "l1_penalty",
    "l1_grad",
    "torch_penalty",
    "elastic_net_penalty",
    "elastic_net_grad",
    "max_norm",
    "dropout_mask",
    "apply_dropout",
    "dropout",
    "DropoutStep",
    "dropout_net_loss",
    "dropout_penalty",
    "dropconnect_mask",
    "dropconnect",
    "linear_survival",
    "stochastic_depth",
]

#: Layers of a DropoutStep network and residual blocks of a stochastic-depth stack: the
#: lecture's deepest example has 110 layers; a thousand is beyond any lesson and bounds the loop.
MAX_DEPTH = 1000


# ------------------------------------------------------------------ argument checks
def check_drop_probability(p, name: str = "p") -> float:
    """``p``, the probability of DROPPING, as a float in [0, 1) (p = 1 drops everything)."""
    return check_real(name, p, 0.0, 1.0, high_open=True)


def _check_version(version) -> int:
    # 1: scale at test time; 2: inverted, scale at train time
    return check_choice("version", version, (1, 2))


# ------------------------------------------------------------------ dropout
@reference_answer("dropout", "dropout_network")
def dropout_mask(shape, p: float, seed=0) -> np.ndarray:
    """A boolean keep-mask: each entry is ``True`` (kept) with probability ``1 - p``.

    ``p`` is the probability of DROPPING, as in ``torch.nn.Dropout``.

    Parameters
    ----------
    shape : tuple of int
    p : float in [0, 1)
    seed : int or numpy.random.Generator
        Draws the mask: ``make_rng(seed).random(shape) >= p``. Every mask of the chapter
        (dropout, DropConnect, the experiments' stacks of masks) is drawn here.

    Returns
    -------
    ndarray of bool, shape ``shape``
    """
    p = check_drop_probability(p)
    if not isinstance(shape, numbers.Integral):  # at most 32 dimensions, as numpy allows
        shape = check_sequence("shape", shape, max_len=32)
    shape = check_elements("shape", (shape,) if isinstance(shape, numbers.Integral) else shape)
    return make_rng(seed).random(shape) >= p


@reference_answer("dropout", "dropout_network")
def apply_dropout(x, mask, p: float, version: int = 2) -> np.ndarray:
    r"""Training-time dropout with a given keep-mask (``p`` = probability of DROPPING).

    Version 1: :math:`x \odot m`; version 2 (inverted): :math:`x \odot m / (1 - p)`.
    """
    p, version = check_drop_probability(p), _check_version(version)
    x = check_array("x", x)
    mask = np.asarray(mask)
    if mask.shape != x.shape or mask.dtype != bool:
        raise ValueError(
            f"mask must be a boolean array of x's shape {x.shape}; got {mask.dtype} {mask.shape}"
        )
    out = x * mask
    return out / (1.0 - p) if version == 2 else out


@reference_answer("dropout", "dropout_network")
def dropout(x, p: float, train: bool, version: int = 2, seed=0) -> np.ndarray:
    r"""Dropout (Srivastava et al., JMLR 2014); ``p`` is the probability of DROPPING a unit,
    as in ``torch.nn.Dropout(p)``.

    With a keep-mask :math:`m_i \sim \mathrm{Bernoulli}(1 - p)`:

    ======================  ==============================  ==========================
    version                 train (``train=True``)           test (``train=False``)
    ======================  ==============================  ==========================
    1 (the paper's)         :math:`x \odot m`                :math:`(1 - p)\,x`
    2 (inverted, torch's)   :math:`x \odot m / (1 - p)`      :math:`x`
    ======================  ==============================  ==========================

    In both the test-time output is the expectation of the training-time output:
    :math:`\mathbb{E}[x_i m_i] = (1 - p)\,x_i`.

    Parameters
    ----------
    x : ndarray, any shape, e.g. (N, D) activations
    p : float in [0, 1)
        Probability of dropping each unit.
    train : bool
        Training mode (random mask) or test mode (deterministic).
    version : {1, 2}
    seed : int or numpy.random.Generator
        Draws the mask (:func:`dropout_mask`); unused at test time.

    Returns
    -------
    ndarray of float64, shape of ``x``
    """
    p, version = check_drop_probability(p), _check_version(version)
    train = check_bool("train", train)
    x = check_array("x", x)
    if not train:
        return (1.0 - p) * x if version == 1 else x.copy()
    return apply_dropout(x, dropout_mask(x.shape, p, seed), p, version)


class DropoutStep(LayerStep):
    """Dropout on every layer's activations ``a`` of :func:`course_utils.network.forward`.

    ``p`` is the probability of DROPPING, as in ``torch.nn.Dropout``. At training time each
    forward call draws a new mask per layer (:func:`dropout_mask`) from ``seed``'s generator and keeps it for the backward pass
    (:math:`\\partial L/\\partial a = \\partial L/\\partial y \\odot m` [``/ (1 - p)`` for
    version 2]); at test time the step scales by ``1 - p`` (version 1) or is the identity.

    Parameters
    ----------
    p : float in [0, 1)
    train : bool
    version : {1, 2}
    seed : int or numpy.random.Generator
        The generator every mask is drawn from, in turn.
    depth : int, optional
        The network's depth: if given, the last layer's output (index ``depth - 1``) is
        left alone, as a classifier drops hidden units only; if ``None`` every layer drops.
    """

    where = "a"

    def __init__(
        self, p: float, train: bool = True, version: int = 2, seed=0, depth: int | None = None
    ):
        self.p, self.version = check_drop_probability(p), _check_version(version)
        self.train = check_bool("train", train)
        self.rng = make_rng(seed)
        self.depth = None if depth is None else check_int("depth", depth, 1, MAX_DEPTH)

    def _skips(self, layer: int) -> bool:
        return self.depth is not None and layer == self.depth - 1

    @reference_answer("dropout", "dropout_network")
    def forward(self, h, layer):
        if self._skips(layer):
            return h, None
        if not self.train:
            return (h * (1.0 - self.p) if self.version == 1 else h), None
        mask = dropout_mask(h.shape, self.p, self.rng)
        scale = 1.0 / (1.0 - self.p) if self.version == 2 else 1.0
        return h * mask * scale, mask * scale

    @reference_answer("dropout_network")
    def backward(self, grad, cache, layer):
        if self._skips(layer):
            return grad
        if not self.train:
            return grad * (1.0 - self.p) if self.version == 1 else grad
        return grad * cache


@reference_answer("dropout_network")
def dropout_net_loss(X, Y, W1, b1, W2, b2, p: float, train: bool, seed=0) -> tuple[float, dict]:
    r"""Loss and gradients of a two-layer ReLU network with inverted dropout on its hidden
    layer; ``p`` is the probability of DROPPING a hidden unit.

    Forward (:math:`\odot` element-wise, :math:`N` examples):

    .. math::

        z = X W_1 + b_1, \quad h = \max(0, z), \quad
        \tilde h = h \odot m / (1 - p) \ \text{(training)}, \ \tilde h = h \ \text{(test)},

        s = \tilde h W_2 + b_2, \qquad L = \frac{1}{2N}\sum_{n,c} (s_{nc} - Y_{nc})^2,

    with one keep-mask :math:`m` drawn by :func:`dropout_mask` (``rng.random(h.shape) >= p``). Backward, with the
    SAME mask and scale (the mask is a constant of the forward pass):
    :math:`\partial L/\partial s = (s - Y)/N`, :math:`\partial L/\partial h =
    (\partial L/\partial \tilde h) \odot m / (1 - p)`, then the ReLU and the two affine
    layers as usual.

    Parameters
    ----------
    X : ndarray, (N, D)
    Y : ndarray, (N, C)
        Regression targets.
    W1 : ndarray, (D, H); b1 : ndarray, (H,)
    W2 : ndarray, (H, C); b2 : ndarray, (C,)
    p : float in [0, 1)
    train : bool
        Training mode (one mask from ``seed``) or test mode (no mask, no scale).
    seed : int or numpy.random.Generator
        Draws the mask; unused at test time.

    Returns
    -------
    loss : float
    grads : dict
        ``{"W1", "b1", "W2", "b2"}``, float64 arrays of the parameters' shapes.
    """
    p, train = check_drop_probability(p), check_bool("train", train)
    X, Y, W1, b1, W2, b2 = (
        check_array(name, a)
        for name, a in zip(("X", "Y", "W1", "b1", "W2", "b2"), (X, Y, W1, b1, W2, b2))
    )
    if X.ndim != 2 or W1.ndim != 2 or W2.ndim != 2 or b1.ndim != 1 or b2.ndim != 1:
        raise ValueError(
            "X, W1 and W2 must be 2-D and b1, b2 1-D; got shapes "
            f"{X.shape}, {W1.shape}, {W2.shape}, {b1.shape}, {b2.shape}"
        )
    (n, d), hidden = X.shape, W1.shape[1]
    if (
        n == 0
        or W1.shape[0] != d
        or b1.shape != (hidden,)
        or W2.shape[0] != hidden
        or b2.shape != (W2.shape[1],)
        or Y.shape != (n, W2.shape[1])
    ):
        raise ValueError(
            f"shapes must be X (N, D), Y (N, C), W1 (D, H), b1 (H,), W2 (H, C), "
            f"b2 (C,) with N >= 1; got X {X.shape}, Y {Y.shape}, W1 {W1.shape}, "
            f"b1 {b1.shape}, W2 {W2.shape}, b2 {b2.shape}"
        )
    check_elements("the hidden layer (N, H)", (n, hidden))
    z = X @ W1 + b1
    h = np.maximum(z, 0.0)
    scale = dropout_mask(h.shape, p, seed) / (1.0 - p) if train else 1.0
    h_tilde = h * scale
    scores = h_tilde @ W2 + b2
    loss = float(0.5 * np.sum((scores - Y) ** 2) / n)
    dscores = (scores - Y) / n
    dh = (dscores @ W2.T) * scale  # the forward pass's mask and 1/(1 - p)
    dz = dh * (z > 0)
    return loss, {
        "W1": X.T @ dz,
        "b1": dz.sum(axis=0),
        "W2": h_tilde.T @ dscores,
        "b2": dscores.sum(axis=0),
    }


# ------------------------------------------------------------------ dropout as noise
def dropout_penalty(a, W, p: float) -> np.ndarray:
    r"""The penalty inverted dropout of the inputs adds to a linear layer's squared loss.

    With :math:`\tilde a = m \odot a / (1 - p)`, :math:`m_i \sim \mathrm{Bernoulli}(1 - p)`,
    the output :math:`\tilde z = \tilde a W` has mean :math:`z = aW`, so for any target
    :math:`y`, :math:`\mathbb{E}[(y - \tilde z_j)^2] = (y - z_j)^2 + \mathrm{Var}[\tilde z_j]`
    with

    .. math:: \mathrm{Var}[\tilde z_j] = \frac{p}{1-p} \sum_i a_i^2 W_{ij}^2 ,

    an L2 penalty on :math:`W` weighted by the squared inputs (Bishop, Neural Computation
    1995, for noise in general; Wager, Wang & Liang, NeurIPS 2013, for dropout). DropConnect
    on ``W`` adds the same per output (its masks are independent across outputs instead of
    shared). Gaussian input noise of variance :math:`\sigma^2` adds
    :math:`\sigma^2\sum_i W_{ij}^2`, plain L2.

    Parameters
    ----------
    a : ndarray, shape (N, D_in)
    W : ndarray, shape (D_in, D_out)
    p : float in [0, 1)
        Probability of DROPPING.

    Returns
    -------
    ndarray, shape (N, D_out)
        :math:`\mathrm{Var}[\tilde z_{nj}]` for each example and output.
    """
    p = check_drop_probability(p)
    a, W = check_array("a", a, ndim=2), check_array("W", W, ndim=2)
    if a.shape[1] != W.shape[0]:
        raise ValueError(f"a must be (N, D_in) and W (D_in, D_out); got {a.shape} and {W.shape}")
    check_elements("the output (N, D_out)", (a.shape[0], W.shape[1]))
    return p / (1.0 - p) * ((a * a) @ (W * W))


# ------------------------------------------------------------------ DropConnect
def dropconnect_mask(shape, p: float, seed=0) -> np.ndarray:
    """Keep-mask for a weight matrix; ``p`` is the probability of DROPPING a weight (a
    connection), as ``torch.nn.Dropout``'s ``p`` is for a unit. Same as :func:`dropout_mask`."""
    return dropout_mask(shape, p, seed)


def dropconnect(x, W, p: float, train: bool, version: int = 2, seed=0) -> np.ndarray:
    r"""A linear layer with DropConnect (Wan et al., ICML 2013): drop weights, not units.

    ``p`` is the probability of DROPPING each weight, as ``torch.nn.Dropout``'s ``p`` is for
    units. With a keep-mask :math:`M_{ij} \sim \mathrm{Bernoulli}(1 - p)` on ``W``:

    - version 1: train :math:`x (M \odot W)`, test :math:`(1 - p)\,x W`;
    - version 2 (inverted): train :math:`x (M \odot W) / (1 - p)`, test :math:`x W`.

    The test output is the expectation of the training output (the layer is linear in
    :math:`M`). Wan et al. draw one mask per example and, at test time, approximate the
    distribution of the pre-activation by a Gaussian before the non-linearity; this
    function draws one mask per call, shared by the batch, and uses the mean (the simple
    rule, exact for the linear layer itself).

    Parameters
    ----------
    x : ndarray, shape (N, D_in)
    W : ndarray, shape (D_in, D_out)
    p : float in [0, 1)
    train : bool
    version : {1, 2}
    seed : int or numpy.random.Generator

    Returns
    -------
    ndarray, shape (N, D_out)
    """
    p, version = check_drop_probability(p), _check_version(version)
    train = check_bool("train", train)
    x, W = check_array("x", x, ndim=2), check_array("W", W, ndim=2)
    if x.ndim != 2 or W.ndim != 2 or x.shape[1] != W.shape[0]:
        raise ValueError(f"x must be (N, D_in) and W (D_in, D_out); got {x.shape} and {W.shape}")
    check_elements("the output (N, D_out)", (x.shape[0], W.shape[1]))
    if not train:
        return x @ W * (1.0 - p) if version == 1 else x @ W
    return x @ apply_dropout(W, dropconnect_mask(W.shape, p, seed), p, version)


# ------------------------------------------------------------------ stochastic depth
def linear_survival(n_blocks: int, p_last: float = 0.5) -> np.ndarray:
    r"""Huang et al.'s linear decay rule: block :math:`l` survives with probability
    :math:`p_l = 1 - \frac{l}{L}(1 - p_L)`, :math:`l = 1..L` (the input side is kept
    almost always, the last block with :math:`p_L`, 0.5 in the paper).

    Returns
    -------
    ndarray, shape (n_blocks,)
    """
    n_blocks = check_int("n_blocks", n_blocks, 1, MAX_DEPTH)
    p_last = check_real("p_last", p_last, 0.0, 1.0, low_open=True)
    l = np.arange(1, n_blocks + 1)
    return 1.0 - l / n_blocks * (1.0 - p_last)


def stochastic_depth(
    x, blocks: Sequence[Callable], survival, train: bool, version: int = 1, seed=0
) -> tuple[np.ndarray, np.ndarray]:
    r"""Residual blocks with stochastic depth (Huang et al., ECCV 2016).

    Block :math:`l` computes :math:`h_l = h_{l-1} + b_l\,f_l(h_{l-1})` with
    :math:`b_l \sim \mathrm{Bernoulli}(p_l)` at training time: a skipped block leaves only
    the identity shortcut. Note the parameter is the *survival* probability :math:`p_l`
    (the paper's); the probability of DROPPING block :math:`l` is :math:`1 - p_l`
    (torchvision's ``stochastic_depth(p=...)`` takes that one, like ``torch.nn.Dropout``).

    - version 1 (the paper's): train :math:`b_l f_l`, test :math:`p_l f_l`;
    - version 2 (inverted, torchvision's): train :math:`b_l f_l / p_l`, test :math:`f_l`.

    For one block the test output is the expectation of the training output; through
    several non-linear blocks it is an approximation (the same one dropout makes).

    Parameters
    ----------
    x : ndarray, shape (N, D)
    blocks : sequence of callables, ``f_l(h) -> ndarray`` of ``h``'s shape
    survival : float or sequence of float in (0, 1]
        :math:`p_l` for every block (see :func:`linear_survival`).
    train : bool
    version : {1, 2}
    seed : int or numpy.random.Generator

    Returns
    -------
    out : ndarray, shape (N, D)
    ran : ndarray of bool, shape (len(blocks),)
        Which blocks ran (all ``True`` at test time).
    """
    train, version = check_bool("train", train), _check_version(version)
    x = check_array("x", x, ndim=2)
    blocks = check_sequence("blocks", blocks, item=check_callable, max_len=MAX_DEPTH)
    survival = check_array("survival", survival, ndim=(0, 1))
    if survival.ndim == 1 and survival.size != len(blocks):
        raise ValueError(
            f"survival must be one probability or one per block ({len(blocks)}); "
            f"got {survival.size}"
        )
    survival = np.broadcast_to(survival, (len(blocks),))
    if not np.all((survival > 0) & (survival <= 1)):
        raise ValueError(f"survival probabilities must be in (0, 1]; got {survival.tolist()}")
    ran = (
        make_rng(seed).random(len(blocks)) < survival if train else np.ones(len(blocks), dtype=bool)
    )
    h = x
    for l, (f, keep, p_l) in enumerate(zip(blocks, ran, survival)):
        if train and not keep:
            continue
        out = check_array(f"blocks[{l}](h)", f(h), shape=h.shape)
        if train:
            h = h + (out / p_l if version == 2 else out)
        else:
            h = h + (p_l * out if version == 1 else out)
    return h, ran
