"""Chapter 07's seeded experiments: the numbers ``notebooks/07_regularization.ipynb`` prints.

Every experiment uses the lesson's code (:mod:`course_utils.regularization`): its masks come
from :func:`~course_utils.regularization.dropout_mask` (a stack of masks is one call with a
leading axis), its penalties from :func:`~course_utils.regularization.torch_penalty`.

- :func:`near_zero_share`: L1 against L2 on trained weights (the weights themselves:
  :func:`~.runs_gap.penalty_study`, or :func:`~.runs_single.penalty_weights` one run at a time);
- :func:`decay_equivalence`: the L2 term against weight decay, for SGD and Adam;
- :func:`monte_carlo_dropout`, :func:`expectation_gaps`: the mean of many training-time
  outputs against the test-time output (the chapter's general pattern);
- :func:`mask_set_errors`: the Monte-Carlo error over many mask sets;
- :func:`noise_injection`: dropout as noise injection (Bishop 1995);
- the train/validation gap under each regulariser, over seeds: :mod:`.runs_gap`;
- the explorer's computation (``dropout_demo``): :mod:`.runs_explorer`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from course_utils.references import reference_answer
from course_utils.regularization import (
    check_drop_probability,
    dropconnect_mask,
    dropout,
    dropout_mask,
    dropout_penalty,
    linear_survival,
)
from course_utils.threads import one_thread
from course_utils.validation import (
    MAX_ELEMENTS,
    check_array,
    check_choice,
    check_elements,
    check_int,
    check_real,
    check_sequence,
    make_rng,
)

__all__ = [
    "near_zero_share",
    "decay_equivalence",
    "MonteCarloResult",
    "monte_carlo_dropout",
    "expectation_gaps",
    "MAX_MASK_SETS",
    "mask_set_errors",
    "noise_injection",
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
    with one_thread():  # small products: one BLAS thread is faster on a busy machine
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
    of shape (64, 10), 3 classes, ``W`` of shape (10, 3)): (a) the L2 term
    :math:`\frac{\lambda}{2}\lVert W\rVert^2` added to the loss, its gradient
    :math:`\lambda W` added to the data gradient; (b) the optimiser's ``weight_decay=lam``;
    (c) *decoupled* decay: :math:`W \leftarrow (1 - \eta\lambda) W`, then the optimiser's
    step on the data loss alone (for Adam this is AdamW, Loshchilov & Hutter, ICLR 2019).

    The optimisers are chapter 05's :class:`course_utils.optim.SGD` and
    :class:`course_utils.optim.Adam`, NumPy copies of ``torch.optim.SGD`` / ``Adam`` with
    the same ``weight_decay`` rule (the unit tests run (b) with torch's own classes too and
    get the same weights to 1e-12); they spare the notebook the 2 s that importing
    ``torch.optim``'s machinery costs.

    Returns
    -------
    dict of str -> float
        ``"<opt>: (a) vs (b)"`` and ``"<opt>: (a) vs (c)"``: the largest absolute weight
        difference after ``steps`` steps, for ``opt`` in ``sgd``, ``adam``.
    """
    from course_utils import optim

    lam = check_real("lam", lam, 0.0)
    lr = check_real("lr", lr, 0.0, 10.0, low_open=True)
    steps = check_int("steps", steps, 1, 10_000)
    x, y, w0 = decay_problem(seed)

    def run(name, mode):
        w = w0.copy()
        cls = {"sgd": optim.SGD, "adam": optim.Adam}[name]
        opt = cls([w], lr=lr, weight_decay=lam if mode == "b" else 0.0)
        for _ in range(steps):
            grad = softmax_loss_grad(x, y, w)
            if mode == "a":
                grad = grad + lam * w
            if mode == "c":
                w *= 1.0 - lr * lam
            opt.step([grad])
        return w

    out = {}
    for name in ("sgd", "adam"):
        a, b, c = run(name, "a"), run(name, "b"), run(name, "c")
        out[f"{name}: (a) vs (b)"] = float(np.abs(a - b).max())
        out[f"{name}: (a) vs (c)"] = float(np.abs(a - c).max())
    return out


def decay_problem(seed: int = 0) -> tuple:
    """:func:`decay_equivalence`'s problem: ``x`` (64, 10) N(0, 1), labels ``y`` (64,) in
    0..2, start ``w0`` (10, 3) N(0, 1), float64, from ``numpy.random.default_rng(seed)``."""
    rng = np.random.default_rng(check_int("seed", seed, 0, 2**32 - 1))
    return rng.standard_normal((64, 10)), rng.integers(0, 3, 64), rng.standard_normal((10, 3))


def softmax_loss_grad(x, y, w) -> np.ndarray:
    r"""Gradient of the mean softmax cross-entropy of scores ``x @ w`` with labels ``y``:
    :math:`x^\top(\mathrm{softmax}(xW) - \mathrm{onehot}(y))/N`, shape of ``w``."""
    x = check_array("x", x, ndim=2)
    w = check_array("w", w, shape=(x.shape[1], None))
    check_elements("the scores (N, C)", (x.shape[0], w.shape[1]))
    y = check_array("y", y, shape=(x.shape[0],))
    if len(y) == 0 or w.shape[1] == 0:
        raise ValueError("x and y need at least one example, w at least one class")
    if not (np.all(y == np.round(y)) and 0 <= y.min() and y.max() < w.shape[1]):
        raise ValueError(f"y must hold integer labels 0..{w.shape[1] - 1} (one per class of w)")
    y = y.astype(np.int64)
    scores = x @ w
    scores = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    probs[np.arange(len(y)), y] -= 1.0
    return x.T @ probs / len(y)


# ------------------------------------------------------------ Monte Carlo over mask sets
#: Independent mask sets :func:`mask_set_errors` draws at once.
MAX_MASK_SETS = 100_000


@reference_answer("dropout", "dropout_network")
def mask_set_errors(x, p: float, n_masks: int = 10_000, n_sets: int = 300, seed=0) -> np.ndarray:
    r"""The relative error of :func:`monte_carlo_dropout` over ``n_sets`` independent sets of
    ``n_masks`` masks: its distribution, not one draw.

    Unit :math:`i` is kept in :math:`K_i \sim \mathrm{Binomial}(n, 1 - p)` of the ``n`` masks
    of a set (a sum of independent Bernoulli keep decisions), so its mean training output is
    :math:`x_i K_i / (n (1 - p))` (version 2; version 1 has the same ratio to its test
    output). Drawing the counts instead of the masks gives the same distribution at a
    ten-thousandth of the cost.

    Parameters
    ----------
    x : ndarray, shape (D,) or (N, D)
        Not all zero.
    p : float in [0, 1)
        Probability of DROPPING.
    n_masks : int, >= 1
    n_sets : int, >= 1
    seed : int or numpy.random.Generator

    Returns
    -------
    ndarray, shape (n_sets,)
        :math:`\lVert \bar y_\text{train} - y_\text{test}\rVert_2 / \lVert y_\text{test}\rVert_2`
        of each set; its root mean square is :math:`\sqrt{p/((1-p)\,n)}`.
    """
    p = check_drop_probability(p)
    x = check_array("x", x, ndim=(1, 2))
    n_masks = check_int("n_masks", n_masks, 1, MAX_MASKS)
    n_sets = check_int("n_sets", n_sets, 1, max(1, min(MAX_MASK_SETS, MAX_ELEMENTS // x.size)))
    norm = float(np.linalg.norm(x))
    if norm == 0:
        raise ValueError("x must not be all zero: the relative error needs a test output != 0")
    rng = make_rng(seed)
    kept = rng.binomial(n_masks, 1.0 - p, size=(n_sets, *x.shape))
    ratio = kept / (n_masks * (1.0 - p)) - 1.0
    return np.linalg.norm((ratio * x).reshape(n_sets, -1), axis=1) / norm


# ------------------------------------------------------------------ noise injection
def noise_injection(p: float = 0.5, sigma: float = 0.5, n_draws: int = 2000, seed: int = 0) -> dict:
    r"""Dropout as noise injection, in numbers: the extra squared loss each kind of noise adds
    to a linear layer, Monte Carlo against its closed form, and how it correlates outputs.

    For a linear layer :math:`z = aW` whose noisy version :math:`\tilde z` has mean
    :math:`z`, the expected squared loss against any target :math:`y` is
    :math:`(y - z)^2 + \mathrm{Var}[\tilde z]`: the noise adds a penalty (Bishop, Neural
    Computation 1995). Per output :math:`j` of example :math:`n`:

    - Gaussian input noise :math:`\tilde a = a + \epsilon`, :math:`\epsilon \sim N(0,
      \sigma^2)`: :math:`\sigma^2 \sum_i W_{ij}^2`, an L2 penalty (Tikhonov);
    - inverted dropout of the inputs, :math:`\tilde a = m \odot a / (1 - p)`:
      :math:`\frac{p}{1-p}\sum_i a_{ni}^2 W_{ij}^2`, an L2 penalty weighted by the data
      (Wager, Wang & Liang, NeurIPS 2013; :func:`course_utils.regularization.dropout_penalty`);
    - DropConnect, :math:`\tilde W = M \odot W / (1 - p)`: the same per output, but its
      masks are independent across outputs, where dropout's one mask is shared by them all.

    The layer: ``a = relu(N(0, 1))`` of shape (16, 32), ``W`` (32, 8) with entries
    :math:`N(0, 1/32)`, drawn from ``default_rng(seed)``.

    Returns
    -------
    dict of str -> dict
        For ``"Gaussian noise"``, ``"dropout"``, ``"DropConnect"``: ``"extra loss"``,
        the Monte-Carlo mean of :math:`(\tilde z - z)^2` over examples, outputs and
        ``n_draws`` draws; ``"formula"``, its closed form; ``"|corr|"``, the mean over
        examples and pairs of outputs of the absolute correlation of their noise
        (Monte Carlo); ``"|corr| formula"``.
    """
    p = check_drop_probability(p)
    if p == 0:
        raise ValueError("p must be > 0 here: without dropping there is no noise to measure")
    sigma = check_real("sigma", sigma, 0.0, 100.0, low_open=True)
    n_draws = check_int("n_draws", n_draws, 2, 100_000)
    rng = make_rng(check_int("seed", seed, 0, 2**32 - 1))
    a = np.maximum(rng.standard_normal((16, 32)), 0.0)
    W = rng.standard_normal((32, 8)) / math.sqrt(32)
    z = a @ W
    keep = 1.0 - p
    odds = p / keep
    kinds = {
        "Gaussian noise": lambda k: (a + sigma * rng.standard_normal((k, *a.shape))) @ W,
        "dropout": lambda k: (a * dropout_mask((k, *a.shape), p, rng) / keep) @ W,
        "DropConnect": lambda k: np.einsum(
            "ni,knij->knj", a, W * dropconnect_mask((k, len(a), *W.shape), p, rng) / keep
        ),
    }
    # closed forms: covariance of the noise of outputs j and k, per example, (N, 8, 8)
    covariance = {
        "Gaussian noise": np.broadcast_to(sigma**2 * W.T @ W, (len(a), 8, 8)),
        "dropout": odds * np.einsum("ni,ij,ik->njk", a * a, W, W),
        "DropConnect": odds
        * np.einsum("ni,ij,ik->njk", a * a, W, W)
        * np.eye(8)[None],  # independent masks: no covariance between outputs
    }
    extra = {
        "Gaussian noise": sigma**2 * float(np.sum(W * W)) / W.shape[1],
        "dropout": float(dropout_penalty(a, W, p).mean()),
        "DropConnect": float(dropout_penalty(a, W, p).mean()),  # the same per output
    }
    pairs = ~np.eye(8, dtype=bool)
    out = {}
    with one_thread():
        for name, draw in kinds.items():
            total, products, done = 0.0, np.zeros((len(a), 8, 8)), 0
            while done < n_draws:
                k = min(500, n_draws - done)
                noise = draw(k) - z  # (k, N, 8)
                total += float(np.sum(noise * noise))
                products += np.einsum("knj,knl->njl", noise, noise)
                done += k
            cov = products / n_draws
            sd = np.sqrt(np.einsum("njj->nj", cov))
            corr = cov / (sd[:, :, None] * sd[:, None, :])
            exact = covariance[name]
            exact_sd = np.sqrt(np.einsum("njj->nj", exact))
            exact_corr = exact / (exact_sd[:, :, None] * exact_sd[:, None, :])
            out[name] = {
                "extra loss": total / (n_draws * z.size),
                "formula": extra[name],
                "|corr|": float(np.abs(corr[:, pairs]).mean()),
                "|corr| formula": float(np.abs(exact_corr[:, pairs]).mean()),
            }
    return out
