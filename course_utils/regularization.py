r"""Chapter 07: regularisation. Weight penalties, dropout and the methods that follow its pattern.

The lecture's general pattern (一种通用模式): **randomness at training time, its expectation
at test time.** Every random method here has a ``train`` mode that draws from a
:class:`numpy.random.Generator` and a test mode that is deterministic and equals (or, after
a non-linearity, approximates) the expectation of the training-time output.

- Weight penalties: :func:`l2_penalty`, :func:`l1_penalty` and their gradients
  (:func:`l2_grad`, :func:`l1_grad`); :func:`torch_penalty` builds the same term for
  :func:`course_utils.training.train`.
- Dropout (Srivastava et al., JMLR 2014): :func:`dropout`, version 1 (drop at train time,
  scale by the keep probability at test time) and version 2 (inverted: divide by the keep
  probability at train time, identity at test time); :class:`DropoutStep` plugs it into the
  lecture's NumPy network (:mod:`course_utils.network`); :func:`dropout_net_loss` is a
  two-layer ReLU network with inverted dropout, forward and backward (chapter 07's second
  exercise).

The functions that compute an exercise's answer (``dropout``, ``apply_dropout``,
``dropout_mask``, ``monte_carlo_dropout``, ``DropoutStep``, ``dropout_net_loss``) are marked
with :func:`course_utils.references.reference_answer`: they raise while a student's answer
to that exercise runs inside ``references.hidden(...)``, and work as usual everywhere else.
- DropConnect (Wan et al., ICML 2013): :func:`dropconnect` drops weights, not units.
- Stochastic depth (Huang et al., ECCV 2016): :func:`stochastic_depth` skips residual blocks.
- Cutout (DeVries & Taylor, arXiv 2017) and random erasing (Zhong et al., AAAI 2020):
  :func:`cutout`, :func:`random_erasing`.
- Data augmentation: :func:`random_flip`, :func:`random_crop`, :func:`color_jitter`.

**Convention**: everywhere ``p`` is the probability of DROPPING (a unit, a weight), as in
``torch.nn.Dropout(p)``; the keep probability is ``1 - p``. (CS231n's notes and the
lecture's figure call the keep probability ``p``.)

Images are ``(H, W, C)`` arrays, ``uint8`` in [0, 255] or floats in [0, 1]; each image
function returns a new array of the input's dtype and shape.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from course_utils.network import LayerStep
from course_utils.references import reference_answer
from course_utils.tables import format_table

__all__ = ["MAX_ELEMENTS", "l2_penalty", "l2_grad", "l1_penalty", "l1_grad", "torch_penalty",
           "dropout_mask", "apply_dropout", "dropout", "DropoutStep", "dropout_net_loss",
           "monte_carlo_dropout",
           "MonteCarloResult", "dropconnect", "dropconnect_mask", "linear_survival",
           "stochastic_depth", "cutout", "random_erasing", "random_flip", "random_crop",
           "color_jitter", "near_zero_share", "small_digits", "GapRun", "gap_runs",
           "GapStudy", "gap_over_seeds",
           "penalty_weights", "METHODS", "DropoutDemo", "dropout_demo",
           "expectation_gaps", "decay_equivalence"]

#: At most this many array elements per call (a mask, a Monte-Carlo stack, an image):
#: 2**24 float64 values are 128 MiB, well inside a 2 GB kernel.
MAX_ELEMENTS = 2**24


# ------------------------------------------------------------------ argument checks
def _check_p(p, name: str = "p") -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not math.isfinite(p):
        raise ValueError(f"{name} must be a number in [0, 1); got {p!r}")
    if not 0.0 <= p < 1.0:
        raise ValueError(f"{name}, the probability of dropping, must be in [0, 1) (p = 1 "
                         f"drops everything); got {p!r}")
    return float(p)


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def _check_version(version) -> int:
    if isinstance(version, bool) or version not in (1, 2):
        raise ValueError(f"version must be 1 (scale at test time) or 2 (inverted: scale at "
                         f"train time); got {version!r}")
    return int(version)


def _check_rng(rng) -> np.random.Generator:
    if rng is None:
        return np.random.default_rng()
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)) "
                         f"or None; got {type(rng).__name__}")
    return rng


def _check_array(name: str, x) -> np.ndarray:
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise ValueError(f"{name} must be a real numeric array; got dtype {x.dtype}")
    if x.size > MAX_ELEMENTS:
        raise ValueError(f"{name} has {x.size:,} elements; at most {MAX_ELEMENTS:,} are allowed")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf")
    return x


def _check_lam(lam) -> float:
    if isinstance(lam, bool) or not isinstance(lam, numbers.Real) or not math.isfinite(lam) \
            or lam < 0:
        raise ValueError(f"lam, the penalty strength, must be a finite number >= 0; got {lam!r}")
    return float(lam)


def _weight_list(weights) -> tuple[list, bool]:
    if isinstance(weights, np.ndarray) or np.isscalar(weights):
        return [_check_array("weights", weights).astype(np.float64)], True
    if not isinstance(weights, Sequence) or len(weights) == 0:
        raise ValueError("weights must be an array or a non-empty sequence of arrays; got "
                         f"{type(weights).__name__}")
    return [_check_array(f"weights[{i}]", w).astype(np.float64)
            for i, w in enumerate(weights)], False


# ------------------------------------------------------------------ weight penalties
def l2_penalty(weights, lam: float) -> float:
    r"""L2 penalty :math:`R(W) = \frac{\lambda}{2} \sum_l \lVert W_l \rVert_F^2`.

    With this scaling the gradient is :math:`\lambda W`, so one SGD step with learning rate
    :math:`\eta` multiplies the weights by :math:`1 - \eta\lambda` before the data gradient:
    PyTorch's ``SGD(weight_decay=lam)``. (It is not AdamW's decoupled decay: Adam divides
    this gradient by its running RMS, Loshchilov & Hutter, ICLR 2019.)

    Parameters
    ----------
    weights : ndarray or sequence of ndarray
        One weight array or several (biases are usually left out).
    lam : float
        :math:`\lambda \ge 0`.

    Returns
    -------
    float
    """
    lam = _check_lam(lam)
    ws, _ = _weight_list(weights)
    return 0.5 * lam * float(sum(np.sum(w * w) for w in ws))


def l2_grad(weights, lam: float):
    r"""Gradient of :func:`l2_penalty`: :math:`\lambda W_l` per array (same structure as
    ``weights``: an array for an array, a list for a sequence)."""
    lam = _check_lam(lam)
    ws, single = _weight_list(weights)
    grads = [lam * w for w in ws]
    return grads[0] if single else grads


def l1_penalty(weights, lam: float) -> float:
    r"""L1 penalty :math:`R(W) = \lambda \sum_l \sum_{ij} |W_{l,ij}|`.

    Parameters
    ----------
    weights : ndarray or sequence of ndarray
    lam : float
        :math:`\lambda \ge 0`.

    Returns
    -------
    float
    """
    lam = _check_lam(lam)
    ws, _ = _weight_list(weights)
    return lam * float(sum(np.sum(np.abs(w)) for w in ws))


def l1_grad(weights, lam: float):
    r"""(Sub)gradient of :func:`l1_penalty`: :math:`\lambda\,\mathrm{sign}(W)`, 0 at
    :math:`W = 0` (the subgradient torch's autograd picks for ``abs``).

    Its size does not shrink with the weight, unlike L2's :math:`\lambda W`: a weight whose
    data gradient is smaller than :math:`\lambda` in size is pushed all the way to 0.
    """
    lam = _check_lam(lam)
    ws, single = _weight_list(weights)
    grads = [lam * np.sign(w) for w in ws]
    return grads[0] if single else grads


def torch_penalty(kind: str, lam: float) -> Callable:
    """``penalty(model) -> scalar tensor`` for :func:`course_utils.training.train`.

    ``kind="l2"``: :math:`\\frac{\\lambda}{2}\\sum \\lVert W\\rVert^2`; ``kind="l1"``:
    :math:`\\lambda\\sum |W|`; over the weights of every ``torch.nn.Linear`` (biases are
    not penalised), the same values as :func:`l2_penalty` / :func:`l1_penalty`.
    """
    if kind not in ("l1", "l2"):
        raise ValueError(f"kind must be 'l1' or 'l2'; got {kind!r}")
    lam = _check_lam(lam)

    def penalty(model):
        from torch import nn

        weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
        if kind == "l1":
            return lam * sum(w.abs().sum() for w in weights)
        return 0.5 * lam * sum((w * w).sum() for w in weights)

    penalty.__name__ = f"{kind}_penalty(lam={lam:g})"
    return penalty


def near_zero_share(weights, threshold: float = 1e-3) -> float:
    """Share of the weights with ``|w| < threshold`` (all arrays pooled)."""
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or threshold <= 0:
        raise ValueError(f"threshold must be a number > 0; got {threshold!r}")
    ws, _ = _weight_list(weights)
    return float(sum(np.sum(np.abs(w) < threshold) for w in ws) / sum(w.size for w in ws))


# ------------------------------------------------------------------ dropout
@reference_answer("dropout", "dropout_network")
def dropout_mask(shape, p: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """A boolean keep-mask: each entry is ``True`` (kept) with probability ``1 - p``.

    ``p`` is the probability of DROPPING, as in ``torch.nn.Dropout``.

    Parameters
    ----------
    shape : tuple of int
    p : float in [0, 1)
    rng : numpy.random.Generator, optional

    Returns
    -------
    ndarray of bool, shape ``shape``
    """
    p = _check_p(p)
    shape = tuple(int(s) for s in np.atleast_1d(shape))
    if any(s < 0 for s in shape):
        raise ValueError(f"shape must hold sizes >= 0; got {shape}")
    if math.prod(shape) > MAX_ELEMENTS:
        raise ValueError(f"shape {shape} has {math.prod(shape):,} elements; at most "
                         f"{MAX_ELEMENTS:,} are allowed")
    return _check_rng(rng).random(shape) >= p


@reference_answer("dropout", "dropout_network")
def apply_dropout(x, mask, p: float, version: int = 2) -> np.ndarray:
    r"""Training-time dropout with a given keep-mask (``p`` = probability of DROPPING).

    Version 1: :math:`x \odot m`; version 2 (inverted): :math:`x \odot m / (1 - p)`.
    """
    p, version = _check_p(p), _check_version(version)
    x = _check_array("x", x).astype(np.float64, copy=False)
    mask = np.asarray(mask)
    if mask.shape != x.shape or mask.dtype != bool:
        raise ValueError(f"mask must be a boolean array of x's shape {x.shape}; got "
                         f"{mask.dtype} {mask.shape}")
    out = x * mask
    return out / (1.0 - p) if version == 2 else out


@reference_answer("dropout", "dropout_network")
def dropout(x, p: float, train: bool, version: int = 2,
            rng: np.random.Generator | None = None) -> np.ndarray:
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
    rng : numpy.random.Generator, optional
        Draws the mask (a fresh unseeded generator if ``None``); unused at test time.

    Returns
    -------
    ndarray of float64, shape of ``x``
    """
    p, version, train = _check_p(p), _check_version(version), _check_bool("train", train)
    x = _check_array("x", x).astype(np.float64, copy=False)
    if not train:
        return (1.0 - p) * x if version == 1 else x.copy()
    return apply_dropout(x, dropout_mask(x.shape, p, rng), p, version)


class DropoutStep(LayerStep):
    """Dropout on every layer's activations ``a`` of :func:`course_utils.network.forward`.

    ``p`` is the probability of DROPPING, as in ``torch.nn.Dropout``. At training time each
    forward call draws a new mask per layer from ``rng`` and keeps it for the backward pass
    (:math:`\\partial L/\\partial a = \\partial L/\\partial y \\odot m` [``/ (1 - p)`` for
    version 2]); at test time the step scales by ``1 - p`` (version 1) or is the identity.

    Parameters
    ----------
    p : float in [0, 1)
    train : bool
    version : {1, 2}
    rng : numpy.random.Generator, optional
    depth : int, optional
        The network's depth: if given, the last layer's output (index ``depth - 1``) is
        left alone, as a classifier drops hidden units only; if ``None`` every layer drops.
    """

    where = "a"

    def __init__(self, p: float, train: bool = True, version: int = 2,
                 rng: np.random.Generator | None = None, depth: int | None = None):
        self.p, self.version = _check_p(p), _check_version(version)
        self.train = _check_bool("train", train)
        self.rng = _check_rng(rng)
        if depth is not None and (isinstance(depth, bool) or not isinstance(depth, numbers.Integral)
                                  or depth < 1):
            raise ValueError(f"depth must be an integer >= 1 or None; got {depth!r}")
        self.depth = depth

    def _skips(self, layer: int) -> bool:
        return self.depth is not None and layer == self.depth - 1

    @reference_answer("dropout", "dropout_network")
    def forward(self, h, layer):
        if self._skips(layer):
            return h, None
        if not self.train:
            return (h * (1.0 - self.p) if self.version == 1 else h), None
        mask = self.rng.random(h.shape) >= self.p
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
def dropout_net_loss(X, Y, W1, b1, W2, b2, p: float, train: bool,
                     rng: np.random.Generator | None = None) -> tuple[float, dict]:
    r"""Loss and gradients of a two-layer ReLU network with inverted dropout on its hidden
    layer; ``p`` is the probability of DROPPING a hidden unit.

    Forward (:math:`\odot` element-wise, :math:`N` examples):

    .. math::

        z = X W_1 + b_1, \quad h = \max(0, z), \quad
        \tilde h = h \odot m / (1 - p) \ \text{(training)}, \ \tilde h = h \ \text{(test)},

        s = \tilde h W_2 + b_2, \qquad L = \frac{1}{2N}\sum_{n,c} (s_{nc} - Y_{nc})^2,

    with one keep-mask :math:`m` drawn as ``rng.random(h.shape) >= p``. Backward, with the
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
        Training mode (one mask from ``rng``) or test mode (no mask, no scale).
    rng : numpy.random.Generator, optional
        Draws the mask (a fresh unseeded generator if ``None``); unused at test time.

    Returns
    -------
    loss : float
    grads : dict
        ``{"W1", "b1", "W2", "b2"}``, float64 arrays of the parameters' shapes.
    """
    p, train = _check_p(p), _check_bool("train", train)
    X, Y, W1, b1, W2, b2 = (_check_array(name, a).astype(np.float64, copy=False) for name, a in
                            zip(("X", "Y", "W1", "b1", "W2", "b2"), (X, Y, W1, b1, W2, b2)))
    if X.ndim != 2 or W1.ndim != 2 or W2.ndim != 2 or b1.ndim != 1 or b2.ndim != 1:
        raise ValueError("X, W1 and W2 must be 2-D and b1, b2 1-D; got shapes "
                         f"{X.shape}, {W1.shape}, {W2.shape}, {b1.shape}, {b2.shape}")
    (n, d), hidden = X.shape, W1.shape[1]
    if n == 0 or W1.shape[0] != d or b1.shape != (hidden,) or W2.shape[0] != hidden \
            or b2.shape != (W2.shape[1],) or Y.shape != (n, W2.shape[1]):
        raise ValueError(f"shapes must be X (N, D), Y (N, C), W1 (D, H), b1 (H,), W2 (H, C), "
                         f"b2 (C,) with N >= 1; got X {X.shape}, Y {Y.shape}, W1 {W1.shape}, "
                         f"b1 {b1.shape}, W2 {W2.shape}, b2 {b2.shape}")
    if n * hidden > MAX_ELEMENTS:
        raise ValueError(f"the hidden layer would have {n * hidden:,} elements; at most "
                         f"{MAX_ELEMENTS:,} are allowed")
    z = X @ W1 + b1
    h = np.maximum(z, 0.0)
    scale = (_check_rng(rng).random(h.shape) >= p) / (1.0 - p) if train else 1.0
    h_tilde = h * scale
    scores = h_tilde @ W2 + b2
    loss = float(0.5 * np.sum((scores - Y) ** 2) / n)
    dscores = (scores - Y) / n
    dh = (dscores @ W2.T) * scale            # the forward pass's mask and 1/(1 - p)
    dz = dh * (z > 0)
    return loss, {"W1": X.T @ dz, "b1": dz.sum(axis=0),
                  "W2": h_tilde.T @ dscores, "b2": dscores.sum(axis=0)}


@dataclass(frozen=True)
class MonteCarloResult:
    r"""Mean of many training-time outputs against the test-time output.

    Attributes
    ----------
    mean_train : ndarray
        The average of ``n_masks`` training-time outputs.
    test : ndarray
        The test-time output.
    rel_error : float
        :math:`\lVert \bar y_\text{train} - y_\text{test} \rVert_2 / \lVert y_\text{test}\rVert_2`.
    predicted_rel_error : float
        Its expected size from the Bernoulli variance,
        :math:`\sqrt{p / ((1 - p)\,n)}` (the same for both versions).
    n_masks : int
    """

    mean_train: np.ndarray
    test: np.ndarray
    rel_error: float
    predicted_rel_error: float
    n_masks: int


@reference_answer("dropout", "dropout_network")
def monte_carlo_dropout(x, p: float, version: int = 2, n_masks: int = 10_000,
                        rng: np.random.Generator | None = None,
                        chunk: int = 1000) -> MonteCarloResult:
    r"""Average ``n_masks`` training-time dropout outputs of ``x`` and compare with test time.

    ``p`` is the probability of DROPPING, as in ``torch.nn.Dropout``. Each output unit's
    average has standard error :math:`|x_i|\sqrt{p/((1-p)\,n)}` relative to its test value
    (version 2; version 1 gives the same ratio), hence ``predicted_rel_error``.

    Parameters
    ----------
    x : ndarray, shape (D,) or (N, D)
    p : float in [0, 1)
    version : {1, 2}
    n_masks : int, >= 1
    rng : numpy.random.Generator, optional
    chunk : int
        Masks drawn at a time (memory: ``chunk * x.size`` booleans).

    Returns
    -------
    MonteCarloResult
    """
    p, version = _check_p(p), _check_version(version)
    x = _check_array("x", x).astype(np.float64)
    if isinstance(n_masks, bool) or not isinstance(n_masks, numbers.Integral) \
            or not 1 <= n_masks <= 10_000_000:
        raise ValueError(f"n_masks must be an integer between 1 and 10,000,000; got {n_masks!r}")
    if isinstance(chunk, bool) or not isinstance(chunk, numbers.Integral) or chunk < 1 \
            or chunk * x.size > MAX_ELEMENTS:
        raise ValueError(f"chunk must be an integer >= 1 with chunk * x.size <= {MAX_ELEMENTS:,}; "
                         f"got {chunk!r}")
    rng = _check_rng(rng)
    total = np.zeros_like(x)
    done = 0
    while done < n_masks:
        k = min(chunk, n_masks - done)
        masks = rng.random((k, *x.shape)) >= p
        total += (masks * x).sum(axis=0)
        done += k
    mean = total / n_masks
    if version == 2:
        mean = mean / (1.0 - p)
    test = dropout(x, p, train=False, version=version)
    norm = float(np.linalg.norm(test))
    rel = float(np.linalg.norm(mean - test) / norm) if norm > 0 else float(np.linalg.norm(mean))
    return MonteCarloResult(mean, test, rel, math.sqrt(p / ((1.0 - p) * n_masks)), int(n_masks))


# ------------------------------------------------------------------ DropConnect
def dropconnect_mask(shape, p: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Keep-mask for a weight matrix; ``p`` is the probability of DROPPING a weight (a
    connection), as ``torch.nn.Dropout``'s ``p`` is for a unit. Same as :func:`dropout_mask`."""
    return dropout_mask(shape, p, rng)


def dropconnect(x, W, p: float, train: bool, version: int = 2,
                rng: np.random.Generator | None = None) -> np.ndarray:
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
    rng : numpy.random.Generator, optional

    Returns
    -------
    ndarray, shape (N, D_out)
    """
    p, version, train = _check_p(p), _check_version(version), _check_bool("train", train)
    x = _check_array("x", x).astype(np.float64, copy=False)
    W = _check_array("W", W).astype(np.float64, copy=False)
    if x.ndim != 2 or W.ndim != 2 or x.shape[1] != W.shape[0]:
        raise ValueError(f"x must be (N, D_in) and W (D_in, D_out); got {x.shape} and {W.shape}")
    if x.shape[0] * W.shape[1] > MAX_ELEMENTS:
        raise ValueError(f"the output would have {x.shape[0] * W.shape[1]:,} elements; at most "
                         f"{MAX_ELEMENTS:,} are allowed")
    if not train:
        return x @ W * (1.0 - p) if version == 1 else x @ W
    return x @ apply_dropout(W, dropconnect_mask(W.shape, p, rng), p, version)


# ------------------------------------------------------------------ stochastic depth
def linear_survival(n_blocks: int, p_last: float = 0.5) -> np.ndarray:
    r"""Huang et al.'s linear decay rule: block :math:`l` survives with probability
    :math:`p_l = 1 - \frac{l}{L}(1 - p_L)`, :math:`l = 1..L` (the input side is kept
    almost always, the last block with :math:`p_L`, 0.5 in the paper).

    Returns
    -------
    ndarray, shape (n_blocks,)
    """
    if isinstance(n_blocks, bool) or not isinstance(n_blocks, numbers.Integral) \
            or not 1 <= n_blocks <= 1000:
        raise ValueError(f"n_blocks must be an integer between 1 and 1000; got {n_blocks!r}")
    if isinstance(p_last, bool) or not isinstance(p_last, numbers.Real) or not 0 < p_last <= 1:
        raise ValueError(f"p_last, a survival probability, must be in (0, 1]; got {p_last!r}")
    l = np.arange(1, n_blocks + 1)
    return 1.0 - l / n_blocks * (1.0 - p_last)


def stochastic_depth(x, blocks: Sequence[Callable], survival, train: bool, version: int = 1,
                     rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
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
    rng : numpy.random.Generator, optional

    Returns
    -------
    out : ndarray, shape (N, D)
    ran : ndarray of bool, shape (len(blocks),)
        Which blocks ran (all ``True`` at test time).
    """
    train, version = _check_bool("train", train), _check_version(version)
    x = _check_array("x", x).astype(np.float64)
    if len(blocks) == 0 or not all(callable(f) for f in blocks):
        raise ValueError("blocks must be a non-empty sequence of functions f(h) -> h")
    survival = np.broadcast_to(np.asarray(survival, dtype=np.float64), (len(blocks),))
    if not np.all((survival > 0) & (survival <= 1)):
        raise ValueError(f"survival probabilities must be in (0, 1]; got {survival.tolist()}")
    ran = (_check_rng(rng).random(len(blocks)) < survival if train
           else np.ones(len(blocks), dtype=bool))
    h = x
    for f, keep, p_l in zip(blocks, ran, survival):
        if train:
            if keep:
                h = h + (f(h) / p_l if version == 2 else f(h))
        else:
            h = h + (p_l * f(h) if version == 1 else f(h))
    return h, ran


# ------------------------------------------------------------------ images
def _check_image(image) -> np.ndarray:
    image = _check_array("image", image)
    if image.ndim != 3 or image.shape[2] not in (1, 3) or min(image.shape[:2]) < 1:
        raise ValueError(f"image must be (H, W, C) with C = 1 or 3; got shape {image.shape}")
    if image.dtype != np.uint8 and (image.min() < 0 or image.max() > 1):
        raise ValueError("a float image must have values in [0, 1] (or pass uint8 in [0, 255])")
    return image


def _as_float(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float64) / 255.0 if image.dtype == np.uint8 else image.astype(np.float64)


def _like(values: np.ndarray, image: np.ndarray) -> np.ndarray:
    values = np.clip(values, 0.0, 1.0)
    if image.dtype == np.uint8:
        return np.round(values * 255.0).astype(np.uint8)
    return values.astype(image.dtype)


def _check_int(name, value, low, high=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low \
            or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"between {low} and {high}"
        raise ValueError(f"{name} must be an integer {allowed}; got {value!r}")
    return int(value)


def cutout(image, size: int, rng: np.random.Generator | None = None,
           fill: float = 0.0) -> tuple[np.ndarray, tuple]:
    """Cutout (DeVries & Taylor, arXiv 2017): blank a ``size x size`` square at a random centre.

    The centre is uniform over the image, so the square may be cut by the border (as in the
    paper: about a quarter of squares are partly outside). Test time: the image unchanged.

    Parameters
    ----------
    image : ndarray, (H, W, C)
    size : int, >= 1
    rng : numpy.random.Generator, optional
    fill : float in [0, 1]
        The value written (0: black, the paper's zero after mean subtraction is grey).

    Returns
    -------
    out : ndarray, the image's shape and dtype
    box : (top, left, bottom, right), the blanked rows ``top:bottom`` and columns ``left:right``
    """
    image = _check_image(image)
    size = _check_int("size", size, 1, max(image.shape[:2]))
    if not 0.0 <= fill <= 1.0:
        raise ValueError(f"fill must be in [0, 1]; got {fill!r}")
    rng = _check_rng(rng)
    h, w = image.shape[:2]
    cy, cx = int(rng.integers(h)), int(rng.integers(w))
    top, left = max(cy - size // 2, 0), max(cx - size // 2, 0)
    bottom, right = min(cy - size // 2 + size, h), min(cx - size // 2 + size, w)
    out = _as_float(image)
    out[top:bottom, left:right] = fill
    return _like(out, image), (top, left, bottom, right)


def random_erasing(image, rng: np.random.Generator | None = None, p: float = 0.5,
                   scale=(0.02, 0.33), ratio=(0.3, 3.3),
                   max_attempts: int = 10) -> tuple[np.ndarray, tuple | None]:
    """Random erasing (Zhong et al., AAAI 2020): with probability ``p`` replace a random
    rectangle by random values.

    Here ``p`` is the probability of ERASING (applying the operation), as in
    ``torchvision.transforms.RandomErasing(p)``. The rectangle's area is a uniform share
    ``scale`` of the image and its aspect ratio ``h / w`` is log-uniform in ``ratio``; a
    draw that does not fit is retried up to ``max_attempts`` times, then nothing is erased.

    Returns
    -------
    out : ndarray, the image's shape and dtype
    box : (top, left, bottom, right) or None when nothing was erased
    """
    image = _check_image(image)
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"p, the probability of erasing, must be in [0, 1]; got {p!r}")
    lo, hi = (float(v) for v in scale)
    if not 0 < lo <= hi <= 1:
        raise ValueError(f"scale must be (low, high) with 0 < low <= high <= 1; got {scale!r}")
    r_lo, r_hi = (float(v) for v in ratio)
    if not 0 < r_lo <= r_hi:
        raise ValueError(f"ratio must be (low, high) with 0 < low <= high; got {ratio!r}")
    max_attempts = _check_int("max_attempts", max_attempts, 1, 1000)
    rng = _check_rng(rng)
    if rng.random() >= p:
        return image.copy(), None
    h, w = image.shape[:2]
    for _ in range(max_attempts):
        area = rng.uniform(lo, hi) * h * w
        aspect = math.exp(rng.uniform(math.log(r_lo), math.log(r_hi)))
        eh, ew = int(round(math.sqrt(area * aspect))), int(round(math.sqrt(area / aspect)))
        if 1 <= eh < h and 1 <= ew < w:
            top, left = int(rng.integers(h - eh + 1)), int(rng.integers(w - ew + 1))
            out = _as_float(image)
            out[top:top + eh, left:left + ew] = rng.random((eh, ew, image.shape[2]))
            return _like(out, image), (top, left, top + eh, left + ew)
    return image.copy(), None


def random_flip(image, rng: np.random.Generator | None = None,
                p: float = 0.5) -> tuple[np.ndarray, bool]:
    """Mirror the image left-right with probability ``p`` (the probability of FLIPPING, as
    in ``torchvision.transforms.RandomHorizontalFlip(p)``). Returns ``(out, flipped)``."""
    image = _check_image(image)
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"p, the probability of flipping, must be in [0, 1]; got {p!r}")
    flipped = bool(_check_rng(rng).random() < p)
    return (image[:, ::-1].copy() if flipped else image.copy()), flipped


def random_crop(image, size, padding: int = 0,
                rng: np.random.Generator | None = None) -> tuple[np.ndarray, tuple]:
    """Pad with zeros by ``padding`` pixels on every side, then crop a random ``size`` window
    (``torchvision.transforms.RandomCrop(size, padding)``; CIFAR's usual is 32 with 4).

    Parameters
    ----------
    image : ndarray, (H, W, C)
    size : int or (int, int)
        Crop height and width, at most the padded size.
    padding : int, >= 0
    rng : numpy.random.Generator, optional

    Returns
    -------
    out : ndarray, (size_h, size_w, C), the image's dtype
    offset : (top, left) of the window in the padded image
    """
    image = _check_image(image)
    padding = _check_int("padding", padding, 0, 4096)
    ch, cw = (size, size) if isinstance(size, numbers.Integral) else tuple(size)
    h, w = image.shape[0] + 2 * padding, image.shape[1] + 2 * padding
    ch, cw = _check_int("size[0]", ch, 1, h), _check_int("size[1]", cw, 1, w)
    if h * w * image.shape[2] > MAX_ELEMENTS:
        raise ValueError(f"the padded image would have {h * w * image.shape[2]:,} elements; "
                         f"at most {MAX_ELEMENTS:,} are allowed")
    padded = np.pad(image, ((padding, padding), (padding, padding), (0, 0)))
    rng = _check_rng(rng)
    top, left = int(rng.integers(h - ch + 1)), int(rng.integers(w - cw + 1))
    return padded[top:top + ch, left:left + cw].copy(), (top, left)


def color_jitter(image, rng: np.random.Generator | None = None, brightness: float = 0.4,
                 contrast: float = 0.4, saturation: float = 0.4) -> tuple[np.ndarray, dict]:
    """Random brightness, contrast and saturation, in this order (as torchvision's
    ``ColorJitter`` without hue, whose order is itself random).

    Each factor is uniform in ``[1 - s, 1 + s]``: brightness multiplies the image,
    contrast blends it with its mean grey level, saturation with its grey version (luma
    weights 0.299, 0.587, 0.114). Values are clipped to [0, 1] after each step.

    Returns
    -------
    out : ndarray, the image's shape and dtype
    factors : dict with "brightness", "contrast", "saturation"
    """
    image = _check_image(image)
    strengths = {"brightness": brightness, "contrast": contrast, "saturation": saturation}
    for name, s in strengths.items():
        if isinstance(s, bool) or not isinstance(s, numbers.Real) or not 0 <= s <= 1:
            raise ValueError(f"{name} must be a strength in [0, 1]; got {s!r}")
    rng = _check_rng(rng)
    factors = {name: float(rng.uniform(1 - s, 1 + s)) for name, s in strengths.items()}
    out = np.clip(_as_float(image) * factors["brightness"], 0, 1)
    luma = np.array([0.299, 0.587, 0.114])[:image.shape[2]] if image.shape[2] == 3 else np.ones(1)
    grey = (out @ luma)[..., None]
    out = np.clip(factors["contrast"] * out + (1 - factors["contrast"]) * grey.mean(), 0, 1)
    grey = (out @ luma)[..., None]
    out = np.clip(factors["saturation"] * out + (1 - factors["saturation"]) * grey, 0, 1)
    return _like(out, image), factors


# ------------------------------------------------------------------ experiments on digits
def small_digits(n_train: int, label_noise: float = 0.0, seed: int = 0):
    """A small training subset of :func:`course_utils.data.load_digits` (stratification
    not kept: a random ``n_train`` of the 1347), the full validation set, and optionally a
    share ``label_noise`` of the training labels replaced by a different random class.

    Returns
    -------
    course_utils.data.Digits
    """
    from course_utils.data import Digits, load_digits

    n_train = _check_int("n_train", n_train, 10, 1347)
    if isinstance(label_noise, bool) or not isinstance(label_noise, numbers.Real) \
            or not 0 <= label_noise <= 1:
        raise ValueError(f"label_noise must be a share in [0, 1]; got {label_noise!r}")
    seed = _check_int("seed", seed, 0)
    digits = load_digits(seed=seed)
    rng = np.random.default_rng(seed)
    index = rng.permutation(len(digits.x_train))[:n_train]
    y = digits.y_train[index].copy()
    k = int(round(label_noise * n_train))
    wrong = rng.choice(n_train, k, replace=False)
    y[wrong] = (y[wrong] + rng.integers(1, 10, k)) % 10  # a different class, never the same
    return Digits(digits.x_train[index], y, digits.x_val, digits.y_val)


@dataclass(frozen=True)
class GapRun:
    """One training run of :func:`gap_runs`: final accuracies, the gap and the history."""

    name: str
    train_acc: float
    val_acc: float
    history: object

    @property
    def gap(self) -> float:
        """Training minus validation accuracy."""
        return self.train_acc - self.val_acc


def gap_runs(data, settings: dict, width: int = 128, depth: int = 2, lr: float = 0.2,
             epochs: int = 60, batch_size: int = 20, seed: int = 0,
             eval_every: int | None = None, activation: str = "relu") -> list:
    """Train the same MLP under each regulariser and report the train/validation gap.

    Parameters
    ----------
    data : Digits-like (see :func:`small_digits`)
    settings : dict of name -> {"dropout": p, "l2": lam, "l1": lam}
        ``dropout`` is ``build_mlp``'s ``p`` (probability of DROPPING); ``l2``/``l1`` go to
        :func:`torch_penalty`. ``{}`` is the unregularised baseline.
    width, depth, lr, epochs, batch_size, seed, activation
        As :func:`course_utils.training.build_mlp` and ``train`` (plain SGD, one seed for
        every run, so runs differ only by the regulariser).
    eval_every : int, optional
        Passed to ``train``; by default the full sets are evaluated only before and after
        training (the gap is measured at the end).

    Returns
    -------
    list of GapRun
    """
    from course_utils.training import build_mlp, train

    if eval_every is None:
        eval_every = epochs * math.ceil(len(data.x_train) / batch_size)
    runs = []
    for name, setting in settings.items():
        _check_setting(name, setting)
        kinds = [k for k in ("l1", "l2") if k in setting]
        model = build_mlp(data.x_train.shape[1], 10, depth=depth, width=width,
                          activation=activation, dropout=setting.get("dropout", 0.0), seed=seed)
        penalty = torch_penalty(kinds[0], setting[kinds[0]]) if kinds else None
        history = train(model, data, "sgd", lr=lr, epochs=epochs, batch_size=batch_size,
                        seed=seed, penalty=penalty, eval_every=eval_every, progress=False)
        final = history.final()
        runs.append(GapRun(name, final["train_acc"], final["val_acc"], history))
    return runs


@dataclass(frozen=True)
class GapStudy:
    """Final accuracies of :func:`gap_over_seeds`: one row per (label noise, regulariser),
    one column per seed.

    Attributes
    ----------
    rows : tuple of (float, str)
        ``(label_noise, name)`` of each row.
    seeds : tuple of int
    train_acc, val_acc : ndarray, (rows, seeds)
        Accuracy on the run's own (noisy) training labels and on the 450 validation digits,
        after the last step.
    settings : dict
        The training settings shared by every run.
    """

    rows: tuple
    seeds: tuple
    train_acc: np.ndarray
    val_acc: np.ndarray
    settings: dict

    @property
    def gap(self) -> np.ndarray:
        """Training minus validation accuracy, (rows, seeds)."""
        return self.train_acc - self.val_acc

    def _row(self, label_noise: float, name: str) -> int:
        try:
            return self.rows.index((label_noise, name))
        except ValueError:
            raise ValueError(f"no row ({label_noise!r}, {name!r}); rows: {self.rows}") from None

    def names(self, label_noise: float) -> list:
        """The regularisers run at ``label_noise``, in order."""
        return [name for noise, name in self.rows if noise == label_noise]

    def fewer(self, label_noise: float, name: str, baseline: str = "none",
              what: str = "gap") -> np.ndarray:
        """Per seed, ``what`` (``"gap"``, ``"train_acc"``, ``"val_acc"``) of ``name`` minus
        that of ``baseline``: the same seed, the same data, the same step."""
        if what not in ("gap", "train_acc", "val_acc"):
            raise ValueError(f"what must be 'gap', 'train_acc' or 'val_acc'; got {what!r}")
        values = getattr(self, what)
        return values[self._row(label_noise, name)] - values[self._row(label_noise, baseline)]

    def table(self, label_noise: float) -> str:
        """Mean +- standard deviation over the seeds, two decimals, one row per regulariser.

        Computed from the integer counts of correct examples, so the same accuracies give
        the same digits whatever the summation order of the machine.
        """
        index = [i for i, (noise, _) in enumerate(self.rows) if noise == label_noise]
        if not index:
            raise ValueError(f"no runs with label_noise {label_noise!r}")
        n_train, n_val = self.settings["n_train"], self.settings["n_val"]

        def cells(counts, n):
            return [f"{_mean(c) / n:.2f} ± {_sd(c) / n:.2f}" for c in counts]

        train = np.rint(self.train_acc[index] * n_train).astype(np.int64)
        val = np.rint(self.val_acc[index] * n_val).astype(np.int64)
        gap = train * n_val - val * n_train  # in units of 1 / (n_train * n_val)
        return format_table({"train acc": cells(train, n_train), "val acc": cells(val, n_val),
                             "gap": cells(gap, n_train * n_val)},
                            index=[self.rows[i][1] for i in index], index_name="regulariser")


def _mean(counts) -> float:
    """Mean of integers: an exact integer sum, one rounding."""
    return sum(int(c) for c in counts) / len(counts)


def _sd(counts) -> float:
    """Sample standard deviation of integers: exact integer sums, then one division and sqrt."""
    m, total = len(counts), sum(int(c) for c in counts)
    return math.sqrt((m * sum(int(c) ** 2 for c in counts) - total**2) / (m * (m - 1)))


def gap_over_seeds(experiments: dict, seeds: Sequence[int] = range(8), n_train: int = 100,
                   width: int = 64, depth: int = 2, activation: str = "gelu", lr: float = 0.2,
                   epochs: int = 60, batch_size: int = 50) -> GapStudy:
    r"""Train the same MLP under each regulariser, for every seed at once; the final gaps.

    Parameters
    ----------
    experiments : dict of label_noise -> {name: setting}
        For each share of wrong labels, the runs: ``setting`` as in :func:`gap_runs`
        (``{}``, ``{"dropout": p}``, ``{"l2": lam}`` or ``{"l1": lam}``).
    seeds : sequence of int
        Seed ``s`` fixes the run's data (:func:`small_digits` with ``seed=s``: which
        ``n_train`` digits, which labels are wrong), its initial weights
        (``build_mlp(seed=s)``), its minibatch order (as ``train(seed=s)``) and its dropout
        masks (drawn for all dropout networks together from one generator seeded with the first
    seed); every regulariser of a seed sees the same data, start and order.
    n_train, width, depth, activation
        The MLP (:func:`course_utils.training.build_mlp`; ``"relu"`` or ``"gelu"``).
    lr, epochs, batch_size
        Plain SGD on the mean cross-entropy (+ the penalty), as
        :func:`course_utils.training.train`.

    All ``len(experiments) x len(settings) x len(seeds)`` networks are trained side by
    side, one stacked weight tensor per layer (``torch.bmm``): network k's update is the
    one ``train`` would make for it alone (the tests compare the two), at a fraction of the
    cost of a Python loop over runs.

    Returns
    -------
    GapStudy
    """
    seeds = tuple(_check_int("seed", s, 0) for s in seeds)
    if not 1 <= len(seeds) <= 32 or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must hold 1 to 32 different seeds; got {seeds}")
    n_train = _check_int("n_train", n_train, 10, 1347)
    width = _check_int("width", width, 1, 512)
    depth = _check_int("depth", depth, 1, 4)
    if activation not in ("relu", "gelu"):
        raise ValueError(f"activation must be 'relu' or 'gelu'; got {activation!r}")
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not 0 < lr <= 10:
        raise ValueError(f"lr must be a number in (0, 10]; got {lr!r}")
    lr = float(lr)
    epochs = _check_int("epochs", epochs, 1, 500)
    batch_size = _check_int("batch_size", batch_size, 1, n_train)
    if not isinstance(experiments, dict) or not experiments:
        raise ValueError("experiments must be a dict label_noise -> {name: setting}, not empty")
    rows, runs = [], []
    for noise, settings in experiments.items():
        if not isinstance(settings, dict) or not settings:
            raise ValueError(f"experiments[{noise!r}] must be a dict name -> setting, not empty")
        for name, setting in settings.items():
            _check_setting(name, setting)
            rows.append((noise, name))
            runs += [(noise, setting, seed) for seed in seeds]
    if len(runs) > 256:
        raise ValueError(f"at most 256 networks at once; got {len(runs)}")
    data = {(noise, seed): small_digits(n_train, noise, seed) for noise in experiments
            for seed in seeds}
    from course_utils.training import single_torch_thread

    # Dropout networks first (one mask draw for all of them), then back to the rows' order.
    order = sorted(range(len(runs)), key=lambda i: runs[i][1].get("dropout", 0.0) == 0)
    with threadpool_limits(1), single_torch_thread():  # small products: one thread is fastest
        train_acc, val_acc = _stacked_sgd([runs[i] for i in order], data, width, depth,
                                          activation, lr, epochs, batch_size)
    back = np.argsort(order)
    train_acc, val_acc = train_acc[back], val_acc[back]
    shape = (len(rows), len(seeds))
    settings = dict(n_train=n_train, n_val=len(next(iter(data.values())).x_val), width=width,
                    depth=depth, activation=activation, lr=lr, epochs=epochs,
                    batch_size=batch_size, optimizer="sgd")
    return GapStudy(tuple(rows), seeds, train_acc.reshape(shape), val_acc.reshape(shape),
                    settings)


def _check_setting(name, setting) -> None:
    if not isinstance(setting, dict):
        raise ValueError(f"settings[{name!r}] must be a dict such as {{'dropout': 0.5}}; "
                         f"got {setting!r}")
    unknown = set(setting) - {"dropout", "l1", "l2"}
    if unknown:
        raise ValueError(f"settings[{name!r}] has unknown keys {sorted(unknown)}; allowed: "
                         "dropout, l1, l2")
    if "l1" in setting and "l2" in setting:
        raise ValueError(f"settings[{name!r}] may hold l1 or l2, not both")


def _stacked_sgd(runs, data, width, depth, activation, lr, epochs, batch_size):
    """Train one MLP per ``(label_noise, setting, seed)`` in ``runs``, all in one loop.

    Returns (train_acc, val_acc), arrays of len(runs).
    """
    import torch
    import torch.nn.functional as F

    from course_utils.training import build_mlp

    k = len(runs)
    x = torch.stack([torch.as_tensor(data[n, s].x_train, dtype=torch.float32)
                     for n, _, s in runs])  # (K, n_train, 64)
    y = torch.stack([torch.as_tensor(data[n, s].y_train, dtype=torch.int64) for n, _, s in runs])
    first = next(iter(data.values()))
    x_val = torch.as_tensor(first.x_val, dtype=torch.float32)
    y_val = torch.as_tensor(first.y_val, dtype=torch.int64)
    # Weights as (K, in, out) and biases as (K, 1, out), copied from build_mlp(seed=s).
    layers = [([], []) for _ in range(depth + 1)]
    for _, _, seed in runs:
        model = build_mlp(x.shape[2], 10, depth=depth, width=width, activation=activation,
                          seed=seed)
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        for (ws, bs), m in zip(layers, linears):
            ws.append(m.weight.detach().T.clone())
            bs.append(m.bias.detach()[None].clone())
    weights = [torch.stack(ws).requires_grad_() for ws, _ in layers]
    biases = [torch.stack(bs).requires_grad_() for _, bs in layers]
    p = torch.tensor([float(setting.get("dropout", 0.0)) for _, setting, _ in runs])
    dropped = int((p > 0).sum())  # the caller puts the dropout networks first
    p_dropped = p[:dropped].view(-1, 1, 1)
    masks = torch.Generator().manual_seed(runs[0][2])
    l2 = torch.tensor([setting.get("l2", 0.0) for _, setting, _ in runs])
    l1 = torch.tensor([setting.get("l1", 0.0) for _, setting, _ in runs])
    shuffles = [torch.Generator().manual_seed(seed) for _, _, seed in runs]
    rows = torch.arange(k)[:, None]
    f = F.relu if activation == "relu" else F.gelu

    def forward(h, train):
        for layer in range(depth):
            h = f(torch.bmm(h, weights[layer]) + biases[layer])
            if train and dropped:  # inverted dropout on the first `dropped` networks
                keep = torch.rand((dropped, *h.shape[1:]), generator=masks) >= p_dropped
                h = torch.cat([h[:dropped] * keep / (1.0 - p_dropped), h[dropped:]])
        return torch.bmm(h, weights[depth]) + biases[depth]

    n = x.shape[1]
    params = weights + biases
    for _ in range(epochs):
        order = torch.stack([torch.randperm(n, generator=g) for g in shuffles])
        xs, ys = x[rows, order], y[rows, order]
        for start in range(0, n, batch_size):
            scores = forward(xs[:, start:start + batch_size], True)
            target = ys[:, start:start + batch_size]
            # The sum over networks of each one's mean loss: network k's gradient is its own.
            loss = F.cross_entropy(scores.reshape(-1, scores.shape[2]), target.reshape(-1),
                                   reduction="none").view(k, -1).mean(dim=1).sum()
            if bool((l2 > 0).any()):
                loss = loss + 0.5 * (l2 * sum((w * w).sum(dim=(1, 2)) for w in weights)).sum()
            if bool((l1 > 0).any()):
                loss = loss + (l1 * sum(w.abs().sum(dim=(1, 2)) for w in weights)).sum()
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for param, grad in zip(params, grads):
                    param.sub_(lr * grad)
    with torch.no_grad():
        train_acc = (forward(x, False).argmax(dim=2) == y).double().mean(dim=1)
        val_scores = forward(x_val.expand(k, -1, -1), False)
        val_acc = (val_scores.argmax(dim=2) == y_val).double().mean(dim=1)
    return train_acc.numpy(), val_acc.numpy()


def penalty_weights(kind: str, lam: float, data=None, width: int = 64, lr: float = 0.1,
                    epochs: int = 10, batch_size: int = 64, seed: int = 0) -> list:
    """Train a one-hidden-layer MLP on the digits with an L1 or L2 penalty; return its two
    weight matrices as NumPy arrays (torch's (out, in) layout)."""
    from torch import nn

    from course_utils.data import load_digits
    from course_utils.training import build_mlp, train

    data = load_digits(seed=seed) if data is None else data
    model = build_mlp(data.x_train.shape[1], 10, depth=1, width=width, seed=seed)
    train(model, data, "sgd", lr=lr, epochs=epochs, batch_size=batch_size, seed=seed,
          penalty=torch_penalty(kind, lam), progress=False)
    return [m.weight.detach().numpy().astype(np.float64) for m in model if isinstance(m, nn.Linear)]


# ------------------------------------------------------------------ the explorer's compute
METHODS = ("dropout", "DropConnect")


@dataclass(frozen=True)
class DropoutDemo:
    r"""One layer :math:`z = a W` with dropout on ``a`` or DropConnect on ``W``.

    Attributes
    ----------
    a : ndarray, (N, D)
        The layer's input activations (fixed: ReLU of a seeded Gaussian).
    W : ndarray, (D, D_out)
    mask : ndarray of bool
        The keep-mask drawn for this seed: (N, D) on the units for dropout, (D, D_out) on
        the weights for DropConnect.
    train : ndarray, (N, D_out)
        The training-time output with this mask.
    test : ndarray, (N, D_out)
        The test-time output.
    expected : ndarray, (N, D_out)
        The mean of the training-time output over ``n_masks`` masks.
    rel_error : float
        :math:`\lVert \text{expected} - \text{test}\rVert / \lVert\text{test}\rVert`.
    kept : float
        Share of the mask that is kept.
    """

    a: np.ndarray
    W: np.ndarray
    mask: np.ndarray
    train: np.ndarray
    test: np.ndarray
    expected: np.ndarray
    rel_error: float
    kept: float


def dropout_demo(p: float = 0.5, version: int = 2, method: str = "dropout", seed: int = 0,
                 n: int = 16, d: int = 16, n_masks: int = 1000) -> DropoutDemo:
    """The explorer's computation: one mask, the train and test outputs, and the average
    train output over ``n_masks`` masks, for dropout or DropConnect.

    ``p`` is the probability of DROPPING (a unit for dropout, a weight for DropConnect), as
    in ``torch.nn.Dropout``. The layer (``a``, ``W``) is fixed; ``seed`` draws the masks.
    Because the layer is linear in the mask, the average over masks is computed exactly as
    the layer applied to the average mask.
    """
    p, version = _check_p(p), _check_version(version)
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    seed = _check_int("seed", seed, 0)
    n, d = _check_int("n", n, 1, 256), _check_int("d", d, 1, 256)
    n_masks = _check_int("n_masks", n_masks, 1, 100_000)
    layer = np.random.default_rng(12345)  # the same layer for every seed: only masks change
    a = np.maximum(layer.standard_normal((n, d)), 0.0)
    W = layer.standard_normal((d, d)) / math.sqrt(d)
    rng = np.random.default_rng(seed)
    shape = a.shape if method == "dropout" else W.shape
    if n_masks * math.prod(shape) > MAX_ELEMENTS:
        raise ValueError(f"n_masks * mask size must be at most {MAX_ELEMENTS:,}")
    mask = rng.random(shape) >= p
    mean_mask = (mask + (rng.random((n_masks - 1, *shape)) >= p).sum(axis=0)) / n_masks
    scale = 1.0 / (1.0 - p) if version == 2 else 1.0
    if method == "dropout":
        train = (a * mask * scale) @ W
        expected = (a * mean_mask * scale) @ W
    else:
        train = a @ (W * mask * scale)
        expected = a @ (W * mean_mask * scale)
    test = a @ W * (1.0 - p if version == 1 else 1.0)
    rel = float(np.linalg.norm(expected - test) / np.linalg.norm(test))
    return DropoutDemo(a, W, mask, train, test, expected, rel, float(mask.mean()))


# ------------------------------------------------------------------ the general pattern
def expectation_gaps(n_draws: int = 10_000, p: float = 0.5, seed: int = 0,
                     chunk: int = 500) -> dict:
    r"""Relative error between the mean of ``n_draws`` training-time outputs and the
    test-time output, for the chapter's random methods (all inverted, version 2).

    ``p`` is the probability of DROPPING a unit (dropout) or a weight (DropConnect); the
    residual blocks survive with :func:`linear_survival` (12 blocks, :math:`p_L` = 0.5).
    A fixed layer: ``a = relu(N(0, 1))`` of shape (16, 32), ``W`` (32, 16) with entries
    :math:`N(0, 1/32)` (pre-activations of size about 1: tanh is non-linear there, more so
    with the extra spread dropout adds).

    Returns
    -------
    dict of str -> float
        ``"dropout, linear layer"``, ``"DropConnect, linear layer"``: exact in expectation
        (the error is Monte-Carlo noise); ``"dropout, then tanh"``,
        ``"stochastic depth, 1 block"`` (exact) and ``"stochastic depth, 12 blocks"``
        (tanh blocks on 4 samples: the test rule is an approximation, the error a bias that
        more draws do not remove).
    """
    p = _check_p(p)
    n_draws = _check_int("n_draws", n_draws, 1, 1_000_000)
    chunk = _check_int("chunk", chunk, 1, 10_000)
    rng = np.random.default_rng(seed)
    a = np.maximum(rng.standard_normal((16, 32)), 0.0)
    W = rng.standard_normal((32, 16)) / math.sqrt(32)
    blocks_W = rng.standard_normal((12, 16, 16)) * (1.0 / math.sqrt(16))
    survival = linear_survival(12, 0.5)
    h0 = np.tanh(a[:4] @ W / 2)  # the residual stack's input: 4 samples of 16 features
    keep = 1.0 - p
    with threadpool_limits(1):  # small products: one BLAS thread is faster on a busy machine
        means = _expectation_means(a, W, blocks_W, survival, h0, p, keep, n_draws, chunk, rng)

    def rel(mean, test):
        return float(np.linalg.norm(mean - test) / np.linalg.norm(test))

    h_test = h0
    for l in range(12):
        h_test = h_test + survival[l] * np.tanh(h_test @ blocks_W[l])
    return {
        "dropout, linear layer": rel(means["dropout"], a @ W),
        "DropConnect, linear layer": rel(means["dropconnect"], a @ W),
        "dropout, then tanh": rel(means["tanh"], np.tanh(a @ W)),
        "stochastic depth, 1 block": rel(means["sd1"], h0 + survival[0] * np.tanh(h0 @ blocks_W[0])),
        "stochastic depth, 12 blocks": rel(means["sd12"], h_test),
    }


def _expectation_means(a, W, blocks_W, survival, h0, p, keep, n_draws, chunk, rng) -> dict:
    sums = {name: 0.0 for name in ("dropout", "dropconnect", "tanh", "sd1", "sd12")}
    done = 0
    while done < n_draws:
        k = min(chunk, n_draws - done)
        unit = rng.random((k, *a.shape)) >= p
        # Linear in the mask: the sum of the outputs is the output of the summed masks.
        sums["dropout"] = sums["dropout"] + (a * unit.sum(axis=0) / keep) @ W
        dropped = (a * unit / keep).reshape(-1, a.shape[1])  # one 2-D product, not k small
        sums["tanh"] = sums["tanh"] + np.tanh(dropped @ W).reshape(k, -1, W.shape[1]).sum(axis=0)
        weight = (rng.random((k, *W.shape)) >= p).sum(axis=0)
        sums["dropconnect"] = sums["dropconnect"] + a @ (W * weight / keep)
        ran = rng.random((k, 12)) < survival
        sums["sd1"] = sums["sd1"] + k * h0 + ran[:, 0].sum() * np.tanh(h0 @ blocks_W[0])
        h = np.tile(h0, (k, 1))  # (k * 16, 16): draw after draw
        for l in range(12):
            h = h + np.repeat(ran[:, l], len(h0))[:, None] * np.tanh(h @ blocks_W[l])
        sums["sd12"] = sums["sd12"] + h.reshape(k, *h0.shape).sum(axis=0)
        done += k
    return {name: total / n_draws for name, total in sums.items()}


def decay_equivalence(lam: float = 0.01, lr: float = 0.1, steps: int = 20,
                      seed: int = 0) -> dict:
    r"""L2 penalty vs weight decay, for SGD and for Adam, on a small softmax classifier.

    For each optimiser three runs from the same start (float64, full-batch, random data
    of shape (64, 10), 3 classes): (a) the L2 term :math:`\frac{\lambda}{2}\lVert
    W\rVert^2` added to the loss; (b) torch's ``weight_decay=lam`` argument; (c)
    *decoupled* decay: :math:`W \leftarrow (1 - \eta\lambda) W`, then the optimiser's step on
    the data loss alone (for Adam this is AdamW, Loshchilov & Hutter, ICLR 2019).

    Returns
    -------
    dict of str -> float
        ``"<opt>: (a) vs (b)"`` and ``"<opt>: (a) vs (c)"``: the largest absolute weight
        difference after ``steps`` steps, for ``opt`` in ``sgd``, ``adam``.
    """
    import torch

    lam = _check_lam(lam)
    steps = _check_int("steps", steps, 1, 10_000)
    gen = torch.Generator().manual_seed(_check_int("seed", seed, 0))
    x = torch.randn(64, 10, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 3, (64,), generator=gen)
    w0 = torch.randn(10, 3, generator=gen, dtype=torch.float64)

    def run(name, mode):
        w = w0.clone().requires_grad_(True)
        cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[name]
        opt = cls([w], lr=lr, weight_decay=lam if mode == "b" else 0.0)
        for _ in range(steps):
            loss = torch.nn.functional.cross_entropy(x @ w, y)
            if mode == "a":
                loss = loss + 0.5 * lam * (w * w).sum()
            opt.zero_grad()
            loss.backward()
            if mode == "c":
                with torch.no_grad():
                    w.mul_(1.0 - lr * lam)
            opt.step()
        return w.detach()

    out = {}
    for name in ("sgd", "adam"):
        a, b, c = run(name, "a"), run(name, "b"), run(name, "c")
        out[f"{name}: (a) vs (b)"] = float((a - b).abs().max())
        out[f"{name}: (a) vs (c)"] = float((a - c).abs().max())
    return out
