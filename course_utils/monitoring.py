"""Chapter 09: watch a network train. What to record, how to smooth it, how to read it.

- :func:`ema`: the smoothed loss curve, an exponential moving average *with bias correction*,
  exactly TensorBoard's scalar smoothing (its slider is ``smoothing``, default 0.6).
- :func:`update_ratio` (any optimiser, from weights before and after a step),
  :func:`sgd_update_ratio` (CS231n's formula for plain SGD) and
  :func:`momentum_update_ratios` (per layer, one step of SGD with momentum): the
  update-to-weight ratio ``||Δw|| / ||w||`` whose healthy size is about 1e-3 (Karpathy's rule
  of thumb, CS231n). They are the reference answers of chapter 09's exercises
  (:func:`course_utils.references.reference_answer`).
- :func:`update_ratios` and :func:`gradient_stats`: the same per layer of a model built by
  :func:`course_utils.training.build_mlp` (layers named ``W1`` ... ``WL``, input to output).
- :class:`Monitor`, :func:`weight_snapshot`, :func:`weight_gradients`,
  :func:`activation_stats`: per-layer numbers of such a model and the ``callback`` for
  :func:`course_utils.training.train` that records them while it trains, written in
  :mod:`course_utils.training_monitor` and importable from here.
- :func:`minibatch_loss_spread`: why the per-step loss is noisy, and how batch size changes it.

The chapter's seeded runs (the classic loss curves, statistics over seeds) are in
:mod:`course_utils.chapters.ch09_monitoring`; training many seeds at once is
:mod:`course_utils.seed_runs`.
"""

from __future__ import annotations

import math

import numpy as np

from course_utils.references import reference_answer
from course_utils.training import check_batch  # x (N, D) and y class indices for the model
from course_utils.training_monitor import (
    LayerTable,
    Monitor,
    activation_stats,
    linear_layers,
    weight_gradients,
    weight_snapshot,
)
from course_utils.validation import (
    check_array,
    check_choice,
    check_int,
    check_real,
    check_sequence,
    check_work,
    make_rng,
)

__all__ = [
    "SMOOTHING",
    "HEALTHY_RATIO",
    "MAX_SERIES",
    "ema",
    "update_ratio",
    "sgd_update_ratio",
    "momentum_update_ratios",
    "linear_layers",
    "weight_snapshot",
    "update_ratios",
    "LayerTable",
    "gradient_stats",
    "weight_gradients",
    "activation_stats",
    "Monitor",
    "minibatch_loss_spread",
]

#: Default smoothing weight of :func:`ema` (TensorBoard's default slider value).
SMOOTHING = 0.6
#: The rule of thumb for ``||lr * update|| / ||w||`` per step (CS231n, "Babysitting the
#: learning process"): about 1e-3; far above, the lr is probably too high; far below, too low.
HEALTHY_RATIO = 1e-3
#: At most this many values per smoothed series: :func:`ema` is a Python loop (the lesson's
#: recursion, step by step), about 1 s per million values; a training run here has far fewer.
MAX_SERIES = 1_000_000


# ------------------------------------------------------------------ smoothing
def ema(
    values, smoothing: float = SMOOTHING, debias: bool = True, nonfinite: str = "raise"
) -> np.ndarray:
    """Exponential moving average of a series, with bias correction (TensorBoard's smoothing).

    .. math::
        m_0 = 0, \\qquad m_t = s\\,m_{t-1} + (1 - s)\\,x_t, \\qquad
        \\hat m_t = \\frac{m_t}{1 - s^t}

    :math:`\\hat m_t` is the average of :math:`x_1 \\dots x_t` with weights
    :math:`s^{t-i}`: the correction divides by the weights' sum, so the start is not pulled
    towards 0 (the same correction as Adam's, Kingma & Ba, ICLR 2015).

    Parameters
    ----------
    values : array-like, shape (T,)
    smoothing : float
        :math:`s` in [0, 1): 0 returns the values; 0.99 averages over about 100 steps.
    debias : bool
        ``False`` gives the plain EMA :math:`m_t` (which starts near 0).
    nonfinite : {"raise", "pass"}
        What a NaN or inf in ``values`` does: ``"raise"`` a ValueError, or (``"pass"``, as in
        TensorBoard, for a diverged run's curve) pass through as it is without entering the
        average.

    Returns
    -------
    ndarray, shape (T,), float64
    """
    s = check_real("smoothing", smoothing, 0.0, 1.0, high_open=True)
    if not isinstance(debias, bool):
        raise ValueError(f"debias must be True or False; got {debias!r}")
    nonfinite = check_choice("nonfinite", nonfinite, ("raise", "pass"))
    x = check_array("values", values, finite=nonfinite == "raise", min_size=0, limit=MAX_SERIES)
    if x.ndim != 1:
        raise ValueError(f"values must be one series, shape (T,); got shape {x.shape}")
    out = np.empty_like(x)
    m, count = 0.0, 0
    for t, value in enumerate(x):
        if not math.isfinite(value):
            out[t] = value
            continue
        m = s * m + (1.0 - s) * value
        count += 1
        out[t] = m / (1.0 - s**count) if debias else m
    return out


# ------------------------------------------------------------------ update-to-weight ratio
def _as_float64(name, value) -> np.ndarray:
    """A non-empty finite float64 array (or torch tensor) of at most MAX_ELEMENTS entries."""
    return check_array(name, value)


@reference_answer("update_ratio", "momentum_update_ratios")
def update_ratio(before, after) -> float:
    """Size of one optimiser step relative to the weights: ``||w_after - w_before|| / ||w_before||``.

    The step :math:`\\Delta w` is whatever the optimiser did (``lr * update`` in CS231n's
    words), measured from two snapshots, so this is right for SGD, momentum, Adam, ... alike.
    Norms are Frobenius norms (all entries of the layer). Healthy: about 1e-3
    (:data:`HEALTHY_RATIO`).

    Parameters
    ----------
    before, after : array-like or torch.Tensor, same shape
        One layer's weights before and after the step.

    Returns
    -------
    float
    """
    w0, w1 = _as_float64("before", before), _as_float64("after", after)
    if w0.shape != w1.shape:
        raise ValueError(
            f"before and after must have the same shape; got {w0.shape} and {w1.shape}"
        )
    scale = float(np.linalg.norm(w0.ravel()))
    if scale == 0.0:
        raise ValueError("before has norm 0: the ratio is undefined (all-zero weights)")
    return float(np.linalg.norm((w1 - w0).ravel())) / scale


@reference_answer("update_ratio", "momentum_update_ratios")
def sgd_update_ratio(w, dw, lr: float) -> float:
    """CS231n's update-to-weight ratio for plain SGD: ``||-lr * dw|| / ||w||``.

    .. math:: r = \\frac{\\lVert \\eta\\,\\partial L/\\partial W \\rVert_F}{\\lVert W \\rVert_F}

    with :math:`W` the weights *before* the step :math:`W \\leftarrow W - \\eta\\,
    \\partial L/\\partial W`. Equals :func:`update_ratio` of the snapshots around a plain SGD
    step (the unit tests check it against ``torch.optim.SGD``).

    Parameters
    ----------
    w, dw : array-like, same shape
        Weights and their gradient.
    lr : float
        Learning rate :math:`\\eta > 0`.
    """
    lr = check_real("lr", lr, 0.0, low_open=True)
    w, dw = _as_float64("w", w), _as_float64("dw", dw)
    if w.shape != dw.shape:
        raise ValueError(f"w and dw must have the same shape; got {w.shape} and {dw.shape}")
    return update_ratio(w, w - lr * dw)


@reference_answer("momentum_update_ratios")
def momentum_update_ratios(
    weights: dict, grads: dict, velocities: dict, lr: float, momentum: float = 0.9
) -> dict:
    """Per layer, the update-to-weight ratio of one step of SGD with momentum (PyTorch's rule).

    .. math:: v' = \\mu v + g, \\qquad W' = W - \\eta v', \\qquad
              r = \\frac{\\lVert W' - W \\rVert_F}{\\lVert W \\rVert_F}
                = \\frac{\\eta \\lVert v' \\rVert_F}{\\lVert W \\rVert_F}

    ``torch.optim.SGD(momentum=mu)``'s step (and :class:`~course_utils.lean_sgd.LeanSGD`'s): the step is the
    *updated velocity* times the learning rate, not ``lr * g``; zero velocities give the first
    step, ``v' = g``. Polyak, USSR Comput. Math. Math. Phys., 1964; the ratio as in CS231n.

    Parameters
    ----------
    weights, grads, velocities : dict of str -> array-like
        The same layer names; per layer three arrays of one shape: the weights :math:`W`
        before the step, their gradient :math:`g`, the momentum buffer :math:`v` before it.
    lr : float
        Learning rate :math:`\\eta > 0`.
    momentum : float
        :math:`\\mu` in [0, 1); 0 is plain SGD.

    Returns
    -------
    dict of str -> float
        The ratio of every layer; the inputs are not changed.
    """
    lr = check_real("lr", lr, 0.0, low_open=True)
    mu = check_real("momentum", momentum, 0.0, 1.0, high_open=True)
    for name, value in (("weights", weights), ("grads", grads), ("velocities", velocities)):
        if not isinstance(value, dict) or not value:
            raise ValueError(
                f"{name} must be a non-empty dict of layer name -> array; got "
                f"{type(value).__name__}"
            )
    if not set(weights) == set(grads) == set(velocities):
        raise ValueError(
            f"weights, grads and velocities must name the same layers; got "
            f"{sorted(weights)}, {sorted(grads)} and {sorted(velocities)}"
        )
    ratios = {}
    for name in weights:
        w = _as_float64(f"weights[{name!r}]", weights[name])
        g = _as_float64(f"grads[{name!r}]", grads[name])
        v = _as_float64(f"velocities[{name!r}]", velocities[name])
        if not w.shape == g.shape == v.shape:
            raise ValueError(
                f"layer {name!r}: weights, grads and velocities must have one "
                f"shape; got {w.shape}, {g.shape} and {v.shape}"
            )
        scale = float(np.linalg.norm(w.ravel()))
        if scale == 0.0:
            raise ValueError(f"weights[{name!r}] has norm 0: the ratio is undefined")
        ratios[name] = lr * float(np.linalg.norm((mu * v + g).ravel())) / scale
    return ratios


@reference_answer("update_ratio", "momentum_update_ratios")
def update_ratios(before: dict, after: dict) -> dict:
    """:func:`update_ratio` per layer of two :func:`weight_snapshot` s: ``{"W1": r1, ...}``."""
    if set(before) != set(after):
        raise ValueError(
            f"before and after must name the same layers; got {sorted(before)} and {sorted(after)}"
        )
    return {name: update_ratio(before[name], after[name]) for name in before}


@reference_answer("update_ratio")
def gradient_stats(model) -> LayerTable:
    """Per layer, the weight gradient left by the last ``backward``: mean, std, RMS, and
    ``||dW|| / ||W||`` (the update ratio plain SGD would take at lr = 1).

    Returns
    -------
    LayerTable
        Columns ``"mean"``, ``"std"``, ``"rms"``, ``"|dW|/|W|"``; layers ``W1`` ... ``WL``.
    """
    rows = {"mean": [], "std": [], "rms": [], "|dW|/|W|": []}
    layers = linear_layers(model)
    for name, layer in layers.items():
        if layer.weight.grad is None:
            raise ValueError(f"layer {name} has no gradient: call loss.backward() first")
        g = layer.weight.grad.detach().cpu().numpy().astype(np.float64)
        w = layer.weight.detach().cpu().numpy().astype(np.float64)
        rows["mean"].append(g.mean())
        rows["std"].append(g.std())
        rows["rms"].append(math.sqrt(np.mean(g * g)))
        rows["|dW|/|W|"].append(np.linalg.norm(g) / np.linalg.norm(w))
    return LayerTable(tuple(layers), {k: np.array(v) for k, v in rows.items()})


# ------------------------------------------------------------------ minibatch noise
def minibatch_loss_spread(
    model, x, y, batch_sizes=(8, 32, 128, 512), n_batches: int = 200, seed: int = 0
) -> LayerTable:
    """How much the loss of a random minibatch scatters around the full-set loss, per batch size.

    A minibatch loss is the mean of :math:`B` per-example losses drawn without replacement
    from :math:`N`; its variance is

    .. math:: \\operatorname{Var}(\\bar\\ell_B) = \\frac{\\sigma^2}{B}\\,\\frac{N - B}{N - 1}

    with :math:`\\sigma^2` the variance of the per-example losses. So the std falls like
    :math:`1/\\sqrt{B}`: four times the batch, half the noise in the loss curve.

    Parameters
    ----------
    model : torch.nn.Module
        Evaluated as it is (eval mode, no gradients).
    x, y : array-like, shapes (N, D) and (N,)
    batch_sizes : sequence of int
        Each between 1 and N.
    n_batches : int
        Random minibatches drawn per batch size.
    seed : int or numpy.random.Generator

    Returns
    -------
    LayerTable
        Rows ``B=...``; columns ``"measured std"`` (over the drawn batches) and
        ``"sigma/sqrt(B) * fpc"`` (the formula above).
    """
    import torch
    import torch.nn.functional as F

    linear_layers(model)  # a torch model with Linear layers
    if y is None:
        raise ValueError("y must be the class indices of x, shape (N,); got None")
    x, y = check_batch(model, x, y)
    x, y = x.astype(np.float32), y.astype(np.int64)
    if len(x) < 2:
        raise ValueError(f"x must hold at least 2 examples; got shape {x.shape}")
    n = len(x)
    sizes = check_sequence(
        "batch_sizes", batch_sizes, lambda name, b: check_int("batch_sizes", b, 1, n), max_len=100
    )
    n_batches = check_int("n_batches", n_batches, 2, 100_000)
    check_work(
        "minibatch_loss_spread",
        float(n_batches) * sum(sizes),
        limit=10**8,
        advice="fewer or smaller batches",
    )
    rng = make_rng(seed)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            losses = (
                F.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y), reduction="none")
                .double()
                .numpy()
            )
    finally:
        model.train(was_training)
    sigma = losses.std()  # population std of the N per-example losses
    measured, predicted = [], []
    for b in sizes:
        means = [losses[rng.choice(n, size=b, replace=False)].mean() for _ in range(n_batches)]
        measured.append(np.std(means, ddof=1))
        predicted.append(sigma / math.sqrt(b) * math.sqrt((n - b) / (n - 1)) if n > 1 else 0.0)
    return LayerTable(
        tuple(f"B={b}" for b in sizes),
        {"measured std": np.array(measured), "sigma/sqrt(B) * fpc": np.array(predicted)},
        index_name="batch size",
    )
