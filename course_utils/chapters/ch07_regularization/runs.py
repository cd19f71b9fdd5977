"""Chapter 07's seeded experiments: the numbers ``notebooks/07_regularization.ipynb`` prints.

Every experiment uses the lesson's code (:mod:`course_utils.regularization`): its masks come
from :func:`~course_utils.regularization.dropout_mask` (a stack of masks is one call with a
leading axis), its penalties from :func:`~course_utils.regularization.torch_penalty`.

- :func:`penalty_weights`, :func:`near_zero_share`: L1 against L2 on trained weights;
- :func:`decay_equivalence`: the L2 term against weight decay, for SGD and Adam;
- :func:`monte_carlo_dropout`, :func:`expectation_gaps`: the mean of many training-time
  outputs against the test-time output (the chapter's general pattern);
- the train/validation gap under each regulariser, over seeds: :mod:`.runs_gap`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from course_utils.chapters.ch07_regularization.runs_gap import (
    MAX_GAP_EPOCHS,
)
from course_utils.data import N_DIGITS_TRAIN, check_digits
from course_utils.references import reference_answer
from course_utils.regularization import (
    check_drop_probability,
    dropconnect_mask,
    dropout,
    dropout_mask,
    linear_survival,
    torch_penalty,
)
from course_utils.validation import (
    MAX_ELEMENTS,
    check_array,
    check_choice,
    check_int,
    check_real,
    check_sequence,
    make_rng,
)

__all__ = [
    "near_zero_share",
    "penalty_weights",
    "decay_equivalence",
    "MonteCarloResult",
    "monte_carlo_dropout",
    "expectation_gaps",
    "METHODS",
    "DropoutDemo",
    "dropout_demo",
]

#: Masks averaged by one Monte-Carlo call: 10**7 masks of a 64-unit layer take ~10 s here.
MAX_MASKS = 10_000_000


def _weight_list(weights) -> list:
    if isinstance(weights, np.ndarray):
        return [check_array("weights", weights)]
    return check_sequence("weights", weights, item=lambda n, w: check_array(n, w))


def near_zero_share(weights, threshold: float = 1e-3) -> float:
    """Share of the weights with ``|w| < threshold`` (all arrays pooled)."""
    threshold = check_real("threshold", threshold, 0.0, low_open=True)
    ws = _weight_list(weights)
    return float(sum(np.sum(np.abs(w) < threshold) for w in ws) / sum(w.size for w in ws))


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
def monte_carlo_dropout(
    x, p: float, version: int = 2, n_masks: int = 10_000, seed=0, chunk: int = 1000
) -> MonteCarloResult:
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
    seed : int or numpy.random.Generator
        Draws the masks, ``chunk`` at a time (one :func:`dropout_mask` of shape
        ``(chunk, *x.shape)``).
    chunk : int
        Masks drawn at a time (memory: ``chunk * x.size`` booleans).

    Returns
    -------
    MonteCarloResult
    """
    p, version = check_drop_probability(p), check_choice("version", version, (1, 2))
    x = check_array("x", x, ndim=(1, 2))
    n_masks = check_int("n_masks", n_masks, 1, MAX_MASKS)
    chunk = check_int("chunk", chunk, 1, max(MAX_ELEMENTS // x.size, 1))
    rng = make_rng(seed)
    total = np.zeros_like(x)
    done = 0
    while done < n_masks:
        k = min(chunk, n_masks - done)
        masks = dropout_mask((k, *x.shape), p, rng)
        total += (masks * x).sum(axis=0)
        done += k
    mean = total / n_masks
    if version == 2:
        mean = mean / (1.0 - p)
    test = dropout(x, p, train=False, version=version)
    norm = float(np.linalg.norm(test))
    rel = float(np.linalg.norm(mean - test) / norm) if norm > 0 else float(np.linalg.norm(mean))
    return MonteCarloResult(mean, test, rel, math.sqrt(p / ((1.0 - p) * n_masks)), int(n_masks))


def penalty_weights(
    kind: str,
    lam: float,
    data=None,
    width: int = 64,
    lr: float = 0.1,
    epochs: int = 10,
    batch_size: int = 64,
    seed: int = 0,
) -> list:
    """Train a one-hidden-layer MLP on the digits with an L1 or L2 penalty; return its two
    weight matrices as NumPy arrays (torch's (out, in) layout)."""
    from torch import nn

    from course_utils.data import load_digits
    from course_utils.training import build_mlp, train

    penalty = torch_penalty(kind, lam)
    width = check_int("width", width, 1, 512)
    lr = check_real("lr", lr, 0.0, 10.0, low_open=True)
    epochs = check_int("epochs", epochs, 1, MAX_GAP_EPOCHS)
    batch_size = check_int("batch_size", batch_size, 1, N_DIGITS_TRAIN)
    seed = check_int("seed", seed, 0, 2**32 - 1)
    data = load_digits(seed=seed) if data is None else check_digits(data)
    model = build_mlp(data.x_train.shape[1], 10, depth=1, width=width, seed=seed)
    train(
        model,
        data,
        "sgd",
        lr=lr,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        penalty=penalty,
        progress=False,
    )
    return [m.weight.detach().numpy().astype(np.float64) for m in model if isinstance(m, nn.Linear)]


# ------------------------------------------------------------------ the general pattern
def expectation_gaps(
    n_draws: int = 10_000, p: float = 0.5, seed: int = 0, chunk: int = 500
) -> dict:
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
    p = check_drop_probability(p)
    n_draws = check_int("n_draws", n_draws, 1, 1_000_000)
    chunk = check_int("chunk", chunk, 1, 10_000)
    rng = make_rng(seed)
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
        "stochastic depth, 1 block": rel(
            means["sd1"], h0 + survival[0] * np.tanh(h0 @ blocks_W[0])
        ),
        "stochastic depth, 12 blocks": rel(means["sd12"], h_test),
    }


def _expectation_means(a, W, blocks_W, survival, h0, p, keep, n_draws, chunk, rng) -> dict:
    sums = {name: 0.0 for name in ("dropout", "dropconnect", "tanh", "sd1", "sd12")}
    done = 0
    while done < n_draws:
        k = min(chunk, n_draws - done)
        unit = dropout_mask((k, *a.shape), p, rng)
        # Linear in the mask: the sum of the outputs is the output of the summed masks.
        sums["dropout"] = sums["dropout"] + (a * unit.sum(axis=0) / keep) @ W
        dropped = (a * unit / keep).reshape(-1, a.shape[1])  # one 2-D product, not k small
        sums["tanh"] = sums["tanh"] + np.tanh(dropped @ W).reshape(k, -1, W.shape[1]).sum(axis=0)
        weight = dropconnect_mask((k, *W.shape), p, rng).sum(axis=0)
        sums["dropconnect"] = sums["dropconnect"] + a @ (W * weight / keep)
        ran = rng.random((k, 12)) < survival
        sums["sd1"] = sums["sd1"] + k * h0 + ran[:, 0].sum() * np.tanh(h0 @ blocks_W[0])
        h = np.tile(h0, (k, 1))  # (k * 16, 16): draw after draw
        for l in range(12):
            h = h + np.repeat(ran[:, l], len(h0))[:, None] * np.tanh(h @ blocks_W[l])
        sums["sd12"] = sums["sd12"] + h.reshape(k, *h0.shape).sum(axis=0)
        done += k
    return {name: total / n_draws for name, total in sums.items()}


def decay_equivalence(lam: float = 0.01, lr: float = 0.1, steps: int = 20, seed: int = 0) -> dict:
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

    lam = check_real("lam", lam, 0.0)
    lr = check_real("lr", lr, 0.0, 10.0, low_open=True)
    steps = check_int("steps", steps, 1, 10_000)
    gen = torch.Generator().manual_seed(check_int("seed", seed, 0, 2**32 - 1))
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


# ---------------------------------------------------------------- the explorer's computation
#: Masks averaged by the explorer's mean: 1000 masks of 16 x 16 redraw in ~5 ms.
MAX_DEMO_MASKS = 100_000
#: What the explorer's mask drops: units of ``a`` (dropout) or weights of ``W`` (DropConnect).
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


def dropout_demo(
    p: float = 0.5,
    version: int = 2,
    method: str = "dropout",
    seed: int = 0,
    n: int = 16,
    d: int = 16,
    n_masks: int = 1000,
) -> DropoutDemo:
    """The explorer's computation: one mask, the train and test outputs, and the average
    train output over ``n_masks`` masks, for dropout or DropConnect.

    ``p`` is the probability of DROPPING (a unit for dropout, a weight for DropConnect), as
    in ``torch.nn.Dropout``. The layer (``a``, ``W``) is fixed; ``seed`` draws the masks.
    Because the layer is linear in the mask, the average over masks is computed exactly as
    the layer applied to the average mask.
    """
    p, version = check_drop_probability(p), check_choice("version", version, (1, 2))
    method = check_choice("method", method, METHODS)
    rng = make_rng(seed)
    n, d = check_int("n", n, 1, 256), check_int("d", d, 1, 256)
    n_masks = check_int("n_masks", n_masks, 1, MAX_DEMO_MASKS)
    layer = np.random.default_rng(12345)  # the same layer for every seed: only masks change
    a = np.maximum(layer.standard_normal((n, d)), 0.0)
    W = layer.standard_normal((d, d)) / math.sqrt(d)
    shape = a.shape if method == "dropout" else W.shape
    if n_masks * math.prod(shape) > MAX_ELEMENTS:
        raise ValueError(
            f"n_masks: n_masks * mask size must be at most {MAX_ELEMENTS:,}; "
            f"got {n_masks} masks of {math.prod(shape)}"
        )
    mask = dropout_mask(shape, p, rng)
    mean_mask = (mask + dropout_mask((n_masks - 1, *shape), p, rng).sum(axis=0)) / n_masks
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
