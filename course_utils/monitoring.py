"""Chapter 09: watch a network train. What to record, how to smooth it, how to read it.

- :func:`ema`: the smoothed loss curve, an exponential moving average *with bias correction*,
  exactly TensorBoard's scalar smoothing (its slider is ``smoothing``, default 0.6).
- :func:`update_ratio` (any optimiser, from weights before and after a step),
  :func:`sgd_update_ratio` (CS231n's formula for plain SGD) and
  :func:`momentum_update_ratios` (per layer, one step of SGD with momentum): the
  update-to-weight ratio ``||Δw|| / ||w||`` whose healthy size is about 1e-3 (Karpathy's rule
  of thumb, CS231n). They are the reference answers of chapter 09's exercises
  (:func:`course_utils.references.reference_answer`).
- :func:`weight_snapshot`, :func:`update_ratios`, :func:`gradient_stats`,
  :func:`activation_stats`: per-layer numbers of a model built by
  :func:`course_utils.training.build_mlp` (layers named ``W1`` ... ``WL``, input to output).
- :class:`Monitor`: a ``callback`` for :func:`course_utils.training.train` that records all of
  the above while the model trains.
- :func:`minibatch_loss_spread`: why the per-step loss is noisy, and how batch size changes it.
- :data:`DIAGNOSES`, :func:`run_diagnosis`, :func:`curve_summary`: the classic loss curves
  (learning rate too high, too low, good; a bad initialisation's plateau) from real runs.
- :func:`train_seeds`, :func:`seed_metrics`, :func:`seed_table`, :func:`spread`: one setting
  for many seeds at once (the networks stacked, batched matrix products), and what holds over
  the seeds (median and range), since one run's exact decimals are an accident of its seed
  and of the CPU's rounding.
- :class:`LeanSGD`, :func:`lean_optimizer`: ``torch.optim.SGD``'s steps, bit for bit, without
  the ~2 s import of ``torch._dynamo`` that the first ``torch.optim`` optimiser triggers.
- Figures (:func:`plot_loss_curves`, :func:`plot_accuracy_gap`, :func:`plot_update_ratios`,
  :func:`plot_layer_distributions`) draw on a :class:`~matplotlib.figure.Figure` they make and
  return; the compute functions above never plot.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np

from course_utils.references import reference_answer
from course_utils.tables import format_table
from course_utils.validation import check_int as _check_int
from course_utils.validation import check_real as _check_real
from course_utils.training import single_torch_thread as one_torch_thread  # one copy

__all__ = ["SMOOTHING", "HEALTHY_RATIO", "ema", "update_ratio", "sgd_update_ratio",
           "momentum_update_ratios",
           "linear_layers", "weight_snapshot", "update_ratios", "gradient_stats",
           "weight_gradients", "activation_stats", "Monitor", "one_torch_thread",
           "minibatch_loss_spread", "DIAGNOSES", "BASE_RUN", "DiagnosisRun", "base_model",
           "run_diagnosis", "curve_summary", "SEEDS", "SeedRuns", "train_seeds",
           "seed_metrics", "seed_table", "spread", "FAILED_BELOW", "LeanSGD", "lean_optimizer",
           "plateau_steps", "plot_loss_curves",
           "plot_accuracy_gap", "plot_update_ratios", "plot_layer_distributions"]

#: Default smoothing weight of :func:`ema` (TensorBoard's default slider value).
SMOOTHING = 0.6
#: The rule of thumb for ``||lr * update|| / ||w||`` per step (CS231n, "Babysitting the
#: learning process"): about 1e-3; far above, the lr is probably too high; far below, too low.
HEALTHY_RATIO = 1e-3
#: At most this many values per series (a 2 GB kernel holds far more; a typo does not).
MAX_VALUES = 10_000_000


# ------------------------------------------------------------------ smoothing
def ema(values, smoothing: float = SMOOTHING, debias: bool = True) -> np.ndarray:
    """Exponential moving average of a series, with bias correction (TensorBoard's smoothing).

    .. math::
        m_0 = 0, \\qquad m_t = s\\,m_{t-1} + (1 - s)\\,x_t, \\qquad
        \\hat m_t = \\frac{m_t}{1 - s^t}

    :math:`\\hat m_t` is the average of :math:`x_1 \\dots x_t` with weights
    :math:`s^{t-i}`: the correction divides by the weights' sum, so the start is not pulled
    towards 0 (the same correction as Adam's, Kingma & Ba, ICLR 2015). As in TensorBoard, a
    non-finite value is passed through as it is and does not enter the average.

    Parameters
    ----------
    values : array-like, shape (T,)
    smoothing : float
        :math:`s` in [0, 1): 0 returns the values; 0.99 averages over about 100 steps.
    debias : bool
        ``False`` gives the plain EMA :math:`m_t` (which starts near 0).

    Returns
    -------
    ndarray, shape (T,), float64
    """
    s = _check_real("smoothing", smoothing, 0.0, 1.0, high_open=True)
    if not isinstance(debias, bool):
        raise ValueError(f"debias must be True or False; got {debias!r}")
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"values must be one series, shape (T,); got shape {x.shape}")
    if x.size > MAX_VALUES:
        raise ValueError(f"values has {x.size:,} entries; at most {MAX_VALUES:,} are allowed")
    out = np.empty_like(x)
    m, count = 0.0, 0
    for t, value in enumerate(x):
        if not math.isfinite(value):
            out[t] = value
            continue
        m = s * m + (1.0 - s) * value
        count += 1
        out[t] = m / (1.0 - s ** count) if debias else m
    return out


# ------------------------------------------------------------------ update-to-weight ratio
def _as_float64(name, value) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    a = np.asarray(value, dtype=np.float64)
    if a.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf")
    return a


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
        raise ValueError(f"before and after must have the same shape; got {w0.shape} and "
                         f"{w1.shape}")
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
    lr = _check_real("lr", lr, 0.0, low_open=True)
    w, dw = _as_float64("w", w), _as_float64("dw", dw)
    if w.shape != dw.shape:
        raise ValueError(f"w and dw must have the same shape; got {w.shape} and {dw.shape}")
    return update_ratio(w, w - lr * dw)


@reference_answer("momentum_update_ratios")
def momentum_update_ratios(weights: dict, grads: dict, velocities: dict, lr: float,
                           momentum: float = 0.9) -> dict:
    """Per layer, the update-to-weight ratio of one step of SGD with momentum (PyTorch's rule).

    .. math:: v' = \\mu v + g, \\qquad W' = W - \\eta v', \\qquad
              r = \\frac{\\lVert W' - W \\rVert_F}{\\lVert W \\rVert_F}
                = \\frac{\\eta \\lVert v' \\rVert_F}{\\lVert W \\rVert_F}

    ``torch.optim.SGD(momentum=mu)``'s step (and :class:`LeanSGD`'s): the step is the
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
    lr = _check_real("lr", lr, 0.0, low_open=True)
    mu = _check_real("momentum", momentum, 0.0, 1.0, high_open=True)
    for name, value in (("weights", weights), ("grads", grads), ("velocities", velocities)):
        if not isinstance(value, dict) or not value:
            raise ValueError(f"{name} must be a non-empty dict of layer name -> array; got "
                             f"{type(value).__name__}")
    if not set(weights) == set(grads) == set(velocities):
        raise ValueError(f"weights, grads and velocities must name the same layers; got "
                         f"{sorted(weights)}, {sorted(grads)} and {sorted(velocities)}")
    ratios = {}
    for name in weights:
        w = _as_float64(f"weights[{name!r}]", weights[name])
        g = _as_float64(f"grads[{name!r}]", grads[name])
        v = _as_float64(f"velocities[{name!r}]", velocities[name])
        if not w.shape == g.shape == v.shape:
            raise ValueError(f"layer {name!r}: weights, grads and velocities must have one "
                             f"shape; got {w.shape}, {g.shape} and {v.shape}")
        scale = float(np.linalg.norm(w.ravel()))
        if scale == 0.0:
            raise ValueError(f"weights[{name!r}] has norm 0: the ratio is undefined")
        ratios[name] = lr * float(np.linalg.norm((mu * v + g).ravel())) / scale
    return ratios


def linear_layers(model) -> dict:
    """The model's ``nn.Linear`` modules by name, ``W1`` (first) to ``WL`` (scores)."""
    from torch import nn

    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module (e.g. from training.build_mlp); "
                         f"got {type(model).__name__}")
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise ValueError("model has no nn.Linear layer to monitor")
    return {f"W{i}": layer for i, layer in enumerate(layers, start=1)}


def weight_snapshot(model) -> dict:
    """A float64 copy of every ``nn.Linear`` weight matrix: ``{"W1": (out, in) array, ...}``."""
    return {name: layer.weight.detach().cpu().numpy().astype(np.float64)
            for name, layer in linear_layers(model).items()}


@reference_answer("update_ratio", "momentum_update_ratios")
def update_ratios(before: dict, after: dict) -> dict:
    """:func:`update_ratio` per layer of two :func:`weight_snapshot` s: ``{"W1": r1, ...}``."""
    if set(before) != set(after):
        raise ValueError(f"before and after must name the same layers; got {sorted(before)} "
                         f"and {sorted(after)}")
    return {name: update_ratio(before[name], after[name]) for name in before}


@dataclass(frozen=True)
class LayerTable:
    """Per-layer numbers, one array of shape (layers,) per column, printable as a table."""

    layers: tuple
    columns: dict

    def table(self, digits: int = 4, percent=()) -> str:
        return format_table(self.columns, index=list(self.layers), digits=digits,
                            percent=list(percent))

    def __getitem__(self, column) -> np.ndarray:
        return self.columns[column]


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


def weight_gradients(model, x, y) -> dict:
    """The cross-entropy gradient of every ``nn.Linear`` weight on ``(x, y)``, by layer name.

    One forward and backward pass in the model's current mode, through
    ``torch.autograd.grad``: the parameters' ``.grad`` are left as they were.

    Returns
    -------
    dict of str -> ndarray, shape (out, in) each, float64
    """
    import torch
    import torch.nn.functional as F

    layers = linear_layers(model)
    x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(y), dtype=torch.int64)
    if x.ndim != 2 or y.shape != (len(x),):
        raise ValueError(f"x must be (N, D) and y (N,); got {tuple(x.shape)} and {tuple(y.shape)}")
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, [layer.weight for layer in layers.values()])
    return {name: g.double().numpy() for name, g in zip(layers, grads)}


def activation_stats(model, x) -> LayerTable:
    """Per hidden layer, the activations on ``x`` (eval mode): mean, std, share exactly 0.

    Parameters
    ----------
    model : torch.nn.Sequential from :func:`course_utils.training.build_mlp`
    x : array-like, shape (N, D)

    Returns
    -------
    LayerTable
        Columns ``"mean"``, ``"std"``, ``"a==0"``; rows ``h1`` ... (one per hidden block).
    """
    from course_utils.training import hidden_activations

    acts = hidden_activations(model, x)
    rows = {"mean": [], "std": [], "a==0": []}
    for a in acts:
        a = a.astype(np.float64)
        rows["mean"].append(a.mean())
        rows["std"].append(a.std())
        rows["a==0"].append(np.mean(a == 0))
    return LayerTable(tuple(f"h{i}" for i in range(1, len(acts) + 1)),
                      {k: np.array(v) for k, v in rows.items()})


# ------------------------------------------------------------------ the callback
@dataclass
class Monitor:
    """A ``callback`` for :func:`course_utils.training.train` recording per-layer numbers.

    Every ``every`` steps it records, per layer ``W1`` ... ``WL``: the update-to-weight ratio
    of that step (weights snapshotted just before it, so any optimiser is measured right), the
    RMS of the weight gradient, and the weight norm. At every evaluation of the run (when
    ``history.eval_step`` grows) and with a ``probe`` batch, it also records the std and the
    share of zeros of each hidden layer's activations: at construction (step 0) and at the
    first call after each later evaluation (``eval_steps`` says which step).

    Usage::

        monitor = Monitor(model)
        history = train(model, data, lr=0.03, callback=monitor)
        monitor.ratios["W1"]          # one value per recorded step

    Parameters
    ----------
    model : torch.nn.Module
        The model ``train`` will get (checked at every call).
    every : int
        Record every this many steps (1: every step).
    probe : array-like, shape (N, D), optional
        Inputs for the activation statistics (e.g. 256 validation examples).
    """

    model: object
    every: int = 1
    probe: object = None
    steps: list = field(default_factory=list)
    ratios: dict = field(default_factory=dict)
    grad_rms: dict = field(default_factory=dict)
    weight_norm: dict = field(default_factory=dict)
    eval_steps: list = field(default_factory=list)
    activation_std: dict = field(default_factory=dict)
    activation_zero: dict = field(default_factory=dict)

    def __post_init__(self):
        self.every = _check_int("every", self.every, 1)
        self._layers = linear_layers(self.model)
        if self.probe is not None:
            self.probe = np.asarray(self.probe, dtype=np.float32)
            if self.probe.ndim != 2 or len(self.probe) == 0:
                raise ValueError(f"probe must be a non-empty (N, D) array; got shape "
                                 f"{self.probe.shape}")
        for name in self._layers:
            self.ratios[name], self.grad_rms[name], self.weight_norm[name] = [], [], []
        self._step = 0
        # train() evaluates at step 0 before the first callback: record the start now.
        self._evals_seen = 1
        self._before = self._snapshot() if self.every == 1 else None
        if self.probe is not None:
            self.record_activations(0)

    def _snapshot(self) -> dict:
        return {name: layer.weight.detach().clone() for name, layer in self._layers.items()}

    def __call__(self, history, model) -> None:
        if model is not self.model:
            raise ValueError("this Monitor was made for another model: make one per model")
        import torch

        self._step += 1
        if self._step % self.every == 0 and self._before is not None:
            self.steps.append(self._step)
            # float32 norms: w1 - w0 is exact in float32, and a norm's relative error
            # (~1e-7) is far below anything a ratio of ~1e-3 is read for.
            with torch.no_grad():
                for name, layer in self._layers.items():
                    w1, w0 = layer.weight.detach(), self._before[name]
                    norm0 = float(torch.linalg.vector_norm(w0))
                    step = float(torch.linalg.vector_norm(w1 - w0))
                    self.ratios[name].append(step / norm0 if norm0 > 0 else math.inf)
                    g = layer.weight.grad
                    rms = (math.nan if g is None else
                           float(torch.linalg.vector_norm(g)) / math.sqrt(g.numel()))
                    self.grad_rms[name].append(rms)
                    self.weight_norm[name].append(float(torch.linalg.vector_norm(w1)))
        # snapshot now if the *next* step is recorded
        self._before = self._snapshot() if (self._step + 1) % self.every == 0 else None
        if self.probe is not None and len(history.eval_step) > self._evals_seen:
            self._evals_seen = len(history.eval_step)
            self.record_activations(self._step)

    def record_activations(self, step: int) -> None:
        """Record the probe's per-layer activation std and share of zeros now."""
        if self.probe is None:
            raise ValueError("this Monitor has no probe batch: pass probe=... to record activations")
        stats = activation_stats(self.model, self.probe)
        self.eval_steps.append(int(step))
        for name, std, zero in zip(stats.layers, stats["std"], stats["a==0"]):
            self.activation_std.setdefault(name, []).append(float(std))
            self.activation_zero.setdefault(name, []).append(float(zero))

    @property
    def layers(self) -> tuple:
        return tuple(self._layers)

    def ratio_array(self) -> np.ndarray:
        """The recorded ratios, shape (recorded steps, layers), float64."""
        return np.array([self.ratios[name] for name in self._layers], dtype=np.float64).T

    def median_ratios(self, skip: int = 0) -> dict:
        """Median ratio per layer over the recorded steps after the first ``skip``."""
        skip = _check_int("skip", skip, 0)
        if len(self.steps) <= skip:
            raise ValueError(f"skip={skip} leaves no recorded step (recorded {len(self.steps)})")
        return {name: float(np.median(self.ratios[name][skip:])) for name in self._layers}


# ------------------------------------------------------------------ minibatch noise
def minibatch_loss_spread(model, x, y, batch_sizes=(8, 32, 128, 512), n_batches: int = 200,
                          seed: int = 0) -> LayerTable:
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
    seed : int

    Returns
    -------
    LayerTable
        Rows ``B=...``; columns ``"measured std"`` (over the drawn batches) and
        ``"sigma/sqrt(B) * fpc"`` (the formula above).
    """
    import torch
    import torch.nn.functional as F

    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    if x.ndim != 2 or y.shape != (len(x),) or len(x) < 2:
        raise ValueError(f"x must be (N, D) and y (N,) with N >= 2; got {x.shape} and {y.shape}")
    n = len(x)
    sizes = [_check_int("batch_sizes", b, 1, n) for b in batch_sizes]
    if not sizes:
        raise ValueError("batch_sizes must name at least one batch size")
    n_batches = _check_int("n_batches", n_batches, 2, 100_000)
    seed = _check_int("seed", seed, 0)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            losses = F.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y),
                                     reduction="none").double().numpy()
    finally:
        model.train(was_training)
    sigma = losses.std()  # population std of the N per-example losses
    rng = np.random.default_rng(seed)
    measured, predicted = [], []
    for b in sizes:
        means = [losses[rng.choice(n, size=b, replace=False)].mean() for _ in range(n_batches)]
        measured.append(np.std(means, ddof=1))
        predicted.append(sigma / math.sqrt(b) * math.sqrt((n - b) / (n - 1)) if n > 1 else 0.0)
    return LayerTable(tuple(f"B={b}" for b in sizes),
                      {"measured std": np.array(measured),
                       "sigma/sqrt(B) * fpc": np.array(predicted)})


# ------------------------------------------------------------------ the classic curves
#: The chapter's runs: the same MLP (:data:`BASE_RUN`: 4 hidden ReLU layers of 64, Kaiming
#: init, SGD with momentum 0.9, batch 64, 8 epochs) with one thing changed.
DIAGNOSES = {
    "lr too high": dict(lr=1.0),
    "lr too low": dict(lr=3e-4),
    "good lr": dict(lr=0.01),
    "bad init": dict(lr=0.01, init="normal", std=0.1),
}
#: The network and training settings shared by :data:`DIAGNOSES`.
BASE_RUN = dict(depth=4, width=64, activation="relu", init="kaiming", std=None,
                optimizer="momentum", batch_size=64, epochs=8, seed=0)


@dataclass
class DiagnosisRun:
    """One monitored training run: its settings, the trained model, its
    :class:`~course_utils.training.History` and :class:`Monitor`."""

    settings: dict
    model: object
    history: object
    monitor: Monitor


def base_model(data, **settings):
    """:data:`BASE_RUN`'s MLP for ``data`` (input size and classes from it), with any of
    ``depth, width, activation, init, std, seed`` changed (other keys are ignored)."""
    from course_utils.training import build_mlp

    unknown = set(settings) - set(BASE_RUN) - {"lr"}
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; allowed: lr, {', '.join(BASE_RUN)}")
    s = {**BASE_RUN, **settings}
    x_train = np.asarray(data.x_train)
    num_classes = getattr(data, "num_classes", None) or int(np.max(data.y_train)) + 1
    return build_mlp(x_train.shape[1], num_classes, s["depth"], s["width"], s["activation"],
                     init=s["init"], std=s["std"], seed=s["seed"])


def run_diagnosis(data, **settings) -> DiagnosisRun:
    """Build and train :data:`BASE_RUN`'s MLP with ``settings`` changed, monitored every step.

    Parameters
    ----------
    data : object with ``x_train, y_train, x_val, y_val`` (and ``num_classes``)
        E.g. ``course_utils.data.load_dataset("digits")``.
    **settings
        Any key of :data:`BASE_RUN`, plus ``lr`` (required) and ``eval_every`` (evaluate
        every this many steps instead of every epoch).

    Returns
    -------
    DiagnosisRun
    """
    from course_utils.training import train

    eval_every = settings.pop("eval_every", None)
    unknown = set(settings) - set(BASE_RUN) - {"lr"}
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; allowed: lr, {', '.join(BASE_RUN)}")
    if "lr" not in settings:
        raise ValueError("settings must give lr, the learning rate")
    s = {**BASE_RUN, **settings}
    with one_torch_thread():
        model = base_model(data, **s)
        monitor = Monitor(model, probe=np.asarray(data.x_val)[:256])
        history = train(model, data, s["optimizer"], lr=s["lr"], epochs=s["epochs"],
                        batch_size=s["batch_size"], seed=s["seed"], callback=monitor,
                        eval_every=eval_every, progress=False)
    return DiagnosisRun(s, model, history, monitor)


def plateau_steps(step_loss, initial: float, drop: float = 0.1, smoothing: float = 0.9) -> int:
    """Steps until the smoothed loss first falls ``drop`` (a share) below ``initial``;
    ``len(step_loss)`` if it never does (a plateau that lasts the whole run)."""
    drop = _check_real("drop", drop, 0.0, 1.0, low_open=True, high_open=True)
    smooth = ema(step_loss, smoothing)
    below = np.flatnonzero(smooth < (1 - drop) * initial)
    return int(below[0]) + 1 if below.size else len(smooth)


def curve_summary(history, num_classes: int = 10, smoothing: float = 0.9) -> dict:
    """The numbers that tell the classic loss curves apart.

    Returns
    -------
    dict
        ``status``; ``start`` (ln C, the loss of a uniform guess); ``end`` (last smoothed step
        loss); ``first half`` and ``second half`` (drop of the smoothed loss over each half of
        the run); ``shape`` (first-half drop / second-half drop: about 1 for a straight line,
        large for the fast-then-flat curve of a good lr); ``plateau`` (steps before the smoothed
        loss is 10% below ln C, see :func:`plateau_steps`); ``val_acc`` (last evaluation).
    """
    start = math.log(_check_int("num_classes", num_classes, 2))
    smooth = ema(history.step_loss, smoothing)
    finite = smooth[np.isfinite(smooth)]
    out = {"status": history.status, "start": start, "steps": len(history.step_loss)}
    if history.diverged or finite.size < 3:
        out.update({"end": math.inf, "first half": math.nan, "second half": math.nan,
                    "shape": math.nan, "plateau": plateau_steps(history.step_loss, start),
                    "val_acc": history.val_acc[-1]})
        return out
    mid = len(finite) // 2
    first, second = start - finite[mid], finite[mid] - finite[-1]
    out.update({"end": float(finite[-1]), "first half": float(first),
                "second half": float(second),
                "shape": float(first / second) if second > 0 else math.inf,
                "plateau": plateau_steps(history.step_loss, start, smoothing=smoothing),
                "val_acc": history.val_acc[-1]})
    return out


# ------------------------------------------------------------------ a lean SGD
class LeanSGD:
    r"""SGD, plain or with momentum, with ``torch.optim.SGD``'s arithmetic, without torch.optim.

    The first ``torch.optim`` optimiser a process builds imports ``torch._dynamo`` (about 2 s
    of a notebook's run). This class does the same operations in the same order as
    ``torch.optim.SGD``'s single-tensor CPU path (no weight decay, dampening or Nesterov), so
    its steps equal torch's bit for bit (a unit test checks it):

    .. math:: v \leftarrow \mu v + g \ (v = g \text{ at the first step}), \qquad
              w \leftarrow w - \eta v

    It offers what :func:`course_utils.training.train` uses: ``param_groups`` (``"lr"`` may
    be changed between steps), ``zero_grad`` and ``step``.

    Parameters
    ----------
    params : iterable of torch.Tensor
    lr : float
        > 0.
    momentum : float
        In [0, 1); 0 is plain SGD.
    """

    def __init__(self, params, lr: float, momentum: float = 0.0):
        lr = _check_real("lr", lr, 0.0, low_open=True)
        momentum = _check_real("momentum", momentum, 0.0, 1.0, high_open=True)
        params = list(params)
        if not params:
            raise ValueError("params is empty: nothing to optimise")
        self.param_groups = [{"params": params, "lr": lr, "momentum": momentum}]
        self.state: dict = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.param_groups[0]["params"]:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @reference_answer("momentum_update_ratios")
    def step(self) -> None:
        import torch

        group = self.param_groups[0]
        with torch.no_grad():
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad
                if group["momentum"] != 0:
                    buf = self.state.get(p)
                    if buf is None:
                        buf = self.state[p] = d_p.detach().clone()
                    else:
                        buf.mul_(group["momentum"]).add_(d_p, alpha=1)
                    d_p = buf
                p.add_(d_p, alpha=-group["lr"])


def lean_optimizer(name: str, lr: float):
    """For :func:`course_utils.training.train`'s ``optimizer``: a builder of :class:`LeanSGD`
    at ``lr`` for ``"sgd"`` and ``"momentum"`` (momentum 0.9, as
    :func:`~course_utils.training.make_optimizer`), the name itself for any other optimiser
    (``train`` then builds it, with ``lr``)."""
    lr = _check_real("lr", lr, 0.0, low_open=True)
    if name in ("sgd", "momentum"):
        momentum = 0.9 if name == "momentum" else 0.0
        return lambda params: LeanSGD(params, lr, momentum=momentum)
    return name

# ------------------------------------------------------------------ many seeds at once
#: Seeds for the statistics over runs: enough for a median and a range, cheap when vectorised.
SEEDS = tuple(range(10))


@dataclass(frozen=True)
class SeedRuns:
    """One training setting run once per seed, all seeds at once (:func:`train_seeds`).

    Attributes
    ----------
    seeds : tuple of int, length S
    step_loss : ndarray, shape (S, T)
        Minibatch loss of every step; NaN after a seed's run diverged.
    eval_step : ndarray of int, shape (E,)
        Steps at which the full sets were evaluated (0, then every epoch or ``eval_every``).
    train_loss, train_acc, val_loss, val_acc : ndarray, shape (S, E)
        As :class:`~course_utils.training.History`'s; NaN at and after divergence.
    ratios : ndarray, shape (S, T, L)
        Update-to-weight ratio ``||ΔW|| / ||W||`` of every layer ``W1 ... WL`` at every step
        (:func:`update_ratio`); NaN after divergence.
    diverged_at : ndarray of int, shape (S,)
        The step whose loss was NaN or inf; 0 for runs that completed.
    settings : dict
    models : tuple of torch.nn.Module, length S
        Each seed's network with its weights at the end of the run.
    """

    seeds: tuple
    step_loss: np.ndarray
    eval_step: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    val_loss: np.ndarray
    val_acc: np.ndarray
    ratios: np.ndarray
    diverged_at: np.ndarray
    settings: dict
    models: tuple = ()

    @property
    def layers(self) -> tuple:
        return tuple(f"W{i}" for i in range(1, self.ratios.shape[2] + 1))

    @property
    def diverged(self) -> np.ndarray:
        """shape (S,), bool: which seeds' runs ended in NaN or inf."""
        return self.diverged_at > 0

    def history(self, i: int):
        """Seed number ``i`` (a position in :attr:`seeds`) as a training ``History``."""
        from course_utils.training import History

        i = _check_int("i", i, 0, len(self.seeds) - 1)
        stop = int(self.diverged_at[i]) or self.step_loss.shape[1]
        evals = self.eval_step < stop if self.diverged_at[i] else np.ones(len(self.eval_step), bool)
        h = History(step_loss=self.step_loss[i, :stop].tolist(),
                    lr=[float(self.settings["lr"])] * stop,
                    eval_step=self.eval_step[evals].tolist(),
                    train_loss=self.train_loss[i, evals].tolist(),
                    train_acc=self.train_acc[i, evals].tolist(),
                    val_loss=self.val_loss[i, evals].tolist(),
                    val_acc=self.val_acc[i, evals].tolist())
        if self.diverged_at[i]:
            h.status, h.diverged_at = "diverged", stop
            h.message = (f"diverged at step {stop}: the loss became {h.step_loss[-1]} "
                         "(learning rate too high?)")
        else:
            h.status = "completed"
            h.message = (f"completed {stop} steps: validation accuracy {h.val_acc[-1]:.3f}, "
                         f"loss {h.val_loss[-1]:.3f}")
        return h

    def median_ratios(self, skip: int = 0) -> np.ndarray:
        """Per seed and layer, the median ratio over the steps after the first ``skip`` (the
        steps a run took; a diverged run's last, NaN, step excluded): shape (S, L)."""
        skip = _check_int("skip", skip, 0, self.ratios.shape[1] - 1)
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: diverged before skip
                return np.nanmedian(self.ratios[:, skip:, :], axis=1)


def _stack(data_per_seed, name, dtype):
    arrays = [np.asarray(getattr(d, name)) for d in data_per_seed]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"every seed's data must have the same shapes; {name} has {sorted(shapes)}")
    return np.stack(arrays).astype(dtype)


def train_seeds(data, seeds=SEEDS, lr: float = 0.01, optimizer: str = "momentum",
                batch_size: int | None = 64, epochs: int = 8, eval_every=None, build=None,
                **network) -> SeedRuns:
    """Train one network per seed, all seeds in one vectorised loop; every step recorded.

    Seed ``s`` starts from the weights of :func:`base_model` with ``seed=s`` (the same as
    :func:`run_diagnosis`'s) and visits the minibatches in the order
    :func:`course_utils.training.train` uses for ``seed=s``; the S networks are stacked and
    multiplied with batched matrix products (``torch.baddbmm``). The arithmetic is not
    ``nn.Linear``'s, so a seed's run agrees with ``train``'s to rounding (and, for a stable
    run, to ~1e-5 after hundreds of steps), not bit for bit: what it is for is statistics
    over seeds at the cost of about one run. Updates (torch's conventions):

    .. math:: \\text{sgd: } W \\leftarrow W - \\eta g; \\qquad
              \\text{momentum: } v \\leftarrow 0.9\\,v + g,\\ W \\leftarrow W - \\eta v

    A seed whose minibatch loss becomes NaN or inf stops there (``diverged_at``), as in
    ``train``; the others go on.

    Parameters
    ----------
    data : object with ``x_train (N, D), y_train (N,), x_val (M, D), y_val (M,)``
        Shared by all seeds, or a sequence of S such objects (one per seed, equal shapes:
        e.g. a different subset per seed).
    seeds : sequence of int
        1 to 200 seeds.
    lr : float
    optimizer : {"sgd", "momentum"}
    batch_size : int or None
        None: full batch (one step per epoch).
    epochs : int
    eval_every : int or "end", optional
        Evaluate every this many steps instead of at the end of every epoch, or (``"end"``)
        only at step 0 and at the end (evaluating every seed on the full sets costs about
        as much as training). The last step is always evaluated.
    build : callable, optional
        ``build(seed) -> torch.nn.Sequential`` (e.g. chapter 08's ``sanity.fresh_classifier``):
        Linear layers, each but the last followed by one activation. Default:
        :func:`base_model` with ``**network``.
    **network
        Any of ``depth, width, activation, init, std`` (default :data:`BASE_RUN`'s).

    Returns
    -------
    SeedRuns
        Its ``models`` are the S networks (built as above), holding the trained weights.
    """
    import torch
    import torch.nn.functional as F

    seeds = tuple(_check_int("seeds", s, 0) for s in seeds)
    if not 1 <= len(seeds) <= 200:
        raise ValueError(f"seeds must hold 1 to 200 seeds; got {len(seeds)}")
    lr = _check_real("lr", lr, 0.0, low_open=True)
    if optimizer not in ("sgd", "momentum"):
        raise ValueError(f"optimizer must be 'sgd' or 'momentum'; got {optimizer!r}")
    epochs = _check_int("epochs", epochs, 1, 10_000)
    if eval_every is not None and eval_every != "end":
        eval_every = _check_int("eval_every", eval_every, 1)
    unknown = set(network) - {"depth", "width", "activation", "init", "std"}
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; allowed: depth, width, "
                         "activation, init, std")
    per_seed = list(data) if isinstance(data, (list, tuple)) else [data] * len(seeds)
    if len(per_seed) != len(seeds):
        raise ValueError(f"data gives {len(per_seed)} data sets for {len(seeds)} seeds")
    for name in ("x_train", "y_train", "x_val", "y_val"):
        if not hasattr(per_seed[0], name):
            raise ValueError(f"data must have x_train, y_train, x_val, y_val; it has no {name!r}")
    xt = torch.from_numpy(_stack(per_seed, "x_train", np.float32))
    yt = torch.from_numpy(_stack(per_seed, "y_train", np.int64))
    xv = torch.from_numpy(_stack(per_seed, "x_val", np.float32))
    yv = torch.from_numpy(_stack(per_seed, "y_val", np.int64))
    if xt.ndim != 3 or yt.shape != xt.shape[:2] or xv.ndim != 3 or yv.shape != xv.shape[:2]:
        raise ValueError(f"x_train must be (N, D) and y_train (N,); got {tuple(xt.shape[1:])} "
                         f"and {tuple(yt.shape[1:])}")
    S, n = xt.shape[:2]
    batch = n if batch_size is None else _check_int("batch_size", batch_size, 1)
    steps_per_epoch = math.ceil(n / batch)
    total = epochs * steps_per_epoch
    if total * S > 2_000_000:
        raise ValueError(f"{len(seeds)} seeds of {total} steps is too much; at most 2,000,000 "
                         "seed-steps")
    settings = {"lr": lr, "optimizer": optimizer, "batch_size": batch_size, "epochs": epochs}
    if build is None:
        arch = {k: network.get(k, BASE_RUN[k]) for k in ("depth", "width", "activation", "init",
                                                          "std")}
        settings.update(arch)
        models = [base_model(d, seed=s, **arch) for d, s in zip(per_seed, seeds)]
    elif network:
        raise ValueError(f"give either build or network settings, not both; got {sorted(network)}")
    elif not callable(build):
        raise ValueError(f"build must be a function seed -> model; got {build!r}")
    else:
        models = [build(s) for s in seeds]
    if any(not isinstance(m, torch.nn.Sequential) for m in models):
        raise ValueError("each model must be a torch.nn.Sequential (training.build_mlp)")
    linear = [list(linear_layers(m).values()) for m in models]
    others = [m for m in models[0] if not isinstance(m, torch.nn.Linear)]
    if len(others) != len(linear[0]) - 1 or any(
            isinstance(m, (torch.nn.Dropout, torch.nn.modules.batchnorm._BatchNorm))
            for m in others):
        raise ValueError("each model must be a torch.nn.Sequential of Linear layers, each but "
                         "the last followed by one activation (no Batch Norm, no dropout)")
    act = others[0] if others else None
    with torch.no_grad():
        weights = [torch.stack([ls[k].weight.T for ls in linear]).contiguous()
                   for k in range(len(linear[0]))]                       # (S, in, out)
        biases = [torch.stack([ls[k].bias for ls in linear])[:, None, :].contiguous()
                  for k in range(len(linear[0]))]                        # (S, 1, out)
    params = [p.requires_grad_() for pair in zip(weights, biases) for p in pair]

    def forward(x):
        h = x
        for k, (w, b) in enumerate(zip(weights, biases)):
            h = torch.baddbmm(b, h, w)
            if k < len(weights) - 1:
                h = act(h)
        return h

    def evaluate(x, y):
        with torch.no_grad():
            scores = forward(x)
            loss = F.cross_entropy(scores.flatten(0, 1), y.flatten(), reduction="none")
            acc = (scores.argmax(-1) == y).double().mean(1)
        return loss.view(S, -1).double().mean(1).numpy(), acc.numpy()

    L = len(weights)
    nan = float("nan")
    step_loss = torch.full((total, S), nan, dtype=torch.float64)
    ratios = torch.full((total, L, S), nan, dtype=torch.float64)
    evals, tl, ta, vl, va = [], [], [], [], []
    diverged_at = torch.zeros(S, dtype=torch.int64)
    alive = torch.ones(S, dtype=torch.bool)

    def record(step):
        loss_t, acc_t = evaluate(xt, yt)
        loss_v, acc_v = evaluate(xv, yv)
        dead = ~alive.numpy()
        for arr, values in ((tl, loss_t), (ta, acc_t), (vl, loss_v), (va, acc_v)):
            arr.append(np.where(dead, np.nan, values))
        evals.append(step)

    shuffles = [torch.Generator().manual_seed(s) for s in seeds]
    rows = torch.arange(S)[:, None]
    buffers = None
    with one_torch_thread():
        record(0)
        step = 0
        for _ in range(epochs):
            order = torch.stack([torch.randperm(n, generator=g) for g in shuffles])
            x_epoch, y_epoch = xt[rows, order], yt[rows, order]  # each seed's order, as train's
            for start in range(0, n, batch):
                scores = forward(x_epoch[:, start:start + batch])
                loss = F.cross_entropy(scores.flatten(0, 1),
                                       y_epoch[:, start:start + batch].flatten(),
                                       reduction="none").view(S, -1).mean(1)
                value = loss.detach()
                step_loss[step] = torch.where(alive, value.double(), nan)
                step += 1
                bad = alive & ~torch.isfinite(value)
                if bool(bad.any()):  # as train(): a NaN or inf loss ends that seed's run
                    diverged_at[bad] = step
                    alive &= ~bad
                    if not bool(alive.any()):
                        break
                everyone = bool(alive.all())
                objective = loss.sum() if everyone else torch.where(alive, loss, 0.0).sum()
                grads = torch.autograd.grad(objective, params)
                with torch.no_grad():
                    if optimizer == "sgd":
                        updates = grads
                    elif buffers is None:
                        updates = buffers = [g.clone() for g in grads]
                    else:
                        torch._foreach_mul_(buffers, 0.9)
                        torch._foreach_add_(buffers, grads)
                        updates = buffers
                    # ||ΔW|| / ||W|| with ΔW = -lr * update and W before the step
                    ratios[step - 1] = torch.where(alive, torch.stack([
                        lr * torch.linalg.vector_norm(u, dim=(1, 2))
                        / torch.linalg.vector_norm(w, dim=(1, 2))
                        for u, w in zip(updates[0::2], weights)]).double(), nan)
                    if everyone:
                        torch._foreach_add_(params, updates, alpha=-lr)
                    else:  # a diverged seed's weights stay as they were
                        for p, u in zip(params, updates):
                            keep = alive.view(S, *([1] * (p.ndim - 1)))
                            p.sub_(torch.where(keep, lr * u, 0.0))
                if isinstance(eval_every, int) and step % eval_every == 0:
                    record(step)
            if not bool(alive.any()):
                break
            if eval_every is None:
                record(step)
        if eval_every == "end" or evals[-1] != step:
            record(step)  # the last step is always evaluated
    with torch.no_grad():  # the trained weights, back into one nn.Module per seed
        for i, layers in enumerate(linear):
            for layer, w, b in zip(layers, weights, biases):
                layer.weight.copy_(w[i].T)
                layer.bias.copy_(b[i, 0])
    step_loss = step_loss.T.numpy()
    ratios = ratios.permute(2, 0, 1).numpy()
    diverged_at = diverged_at.numpy()
    train_loss, train_acc, val_loss, val_acc = (np.array(a).T for a in (tl, ta, vl, va))
    return SeedRuns(seeds, step_loss, np.array(evals, dtype=np.int64), train_loss, train_acc,
                    val_loss, val_acc, ratios, diverged_at, settings, tuple(models))


def seed_metrics(runs: SeedRuns, num_classes: int = 10, smoothing: float = 0.9,
                 early: int = 10) -> dict:
    """Per seed, the numbers that tell the classic loss curves apart (:func:`curve_summary`)
    and the update ratio.

    Returns
    -------
    dict of str -> ndarray, shape (S,)
        ``"diverged"`` (bool), ``"val_acc"``, ``"train_acc"`` and ``"gap"`` (train - val) at
        the end (NaN for a diverged run), ``"plateau"``, ``"first half"``, ``"second half"``,
        ``"shape"``, ``"end"`` (:func:`curve_summary`), ``"first share"`` (the first half's
        share of the whole fall, first / (first + second): near 1 for fast-then-flat, about 0.5
        for a straight line, near 0 for a plateau then a drop; unlike ``shape`` it does not
        blow up when the second half hardly falls), ``"ratio"`` (the median over the run's
        steps of the hidden layers' update ratios ``W1 ... W(L-1)``) and ``"early ratio"``
        (the same over the first ``early`` steps).
    """
    if not isinstance(runs, SeedRuns):
        raise ValueError(f"runs must be a SeedRuns (from train_seeds); got {type(runs).__name__}")
    early = _check_int("early", early, 1, runs.ratios.shape[1])
    summaries = [curve_summary(runs.history(i), num_classes, smoothing)
                 for i in range(len(runs.seeds))]
    out = {"diverged": runs.diverged.copy()}
    final = np.where(runs.diverged, np.nan, 1.0)
    out["val_acc"] = final * runs.val_acc[:, -1]
    out["train_acc"] = final * runs.train_acc[:, -1]
    out["gap"] = out["train_acc"] - out["val_acc"]
    for key in ("plateau", "first half", "second half", "shape", "end"):
        out[key] = np.array([s[key] for s in summaries], dtype=float)
    with np.errstate(all="ignore"):  # the share stays finite where the second half is ~0
        out["first share"] = out["first half"] / (out["first half"] + out["second half"])
    hidden = runs.ratios[:, :, :-1] if runs.ratios.shape[2] > 1 else runs.ratios
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: a run diverged at step 1
        out["ratio"] = np.nanmedian(hidden.reshape(len(runs.seeds), -1), axis=1)
        out["early ratio"] = np.nanmedian(hidden[:, :early].reshape(len(runs.seeds), -1), axis=1)
    return out


def spread(values, fmt: str = ".2f", percent: bool = False) -> str:
    """``"median (min to max)"`` of ``values`` over seeds, NaN left out (``"-"`` if none).

    Parameters
    ----------
    values : array-like, shape (S,)
    fmt : str
        A format spec for each of the three numbers (``".2f"``, ``".0f"``, ``".1e"``).
    percent : bool
        Show ``100 * value`` followed by ``%``.
    """
    v = np.asarray(values, dtype=float).ravel()
    v = v[~np.isnan(v)]
    if v.size == 0:
        return "-"
    scale, unit = (100.0, "%") if percent else (1.0, "")
    med, lo, hi = (scale * float(f(v)) for f in (np.median, np.min, np.max))
    return f"{med:{fmt}}{unit} ({lo:{fmt}}{unit} to {hi:{fmt}}{unit})"


#: A run "failed" when its validation accuracy ends below this (ten classes: chance is 0.1),
#: or it diverged.
FAILED_BELOW = 0.2


def seed_table(runs: dict, num_classes: int = 10) -> str:
    """The classic curves over seeds: one row per setting, each number as
    ``median (min to max)`` over the seeds, at a precision that rounding cannot move.

    Columns: runs that failed (diverged, or validation accuracy below :data:`FAILED_BELOW`);
    final validation accuracy; the plateau (steps); the first half's share of the whole fall
    of the smoothed loss (see :func:`seed_metrics`); the update-to-weight ratio of the hidden
    layers, the median over all steps of all the runs (pooled, it hardly moves when one run
    changes a little), or over the first 10 steps for a setting whose runs all failed (a dead
    network's ratio is 0). Failed runs have no accuracy, plateau or shape (``-``).

    Parameters
    ----------
    runs : dict of str -> SeedRuns
    """
    rows = {"seeds": [], "failed": [], "val accuracy": [], "plateau (steps)": [],
            "fall in 1st half": [], "update ratio": []}
    for name, r in runs.items():
        m = seed_metrics(r, num_classes)
        failed = m["diverged"] | ~(m["val_acc"] >= FAILED_BELOW)
        ok = ~failed
        rows["seeds"].append(str(len(r.seeds)))
        rows["failed"].append(f"{int(failed.sum())} of {len(failed)}")
        rows["val accuracy"].append(spread(m["val_acc"][ok], ".2f"))
        rows["plateau (steps)"].append(spread(m["plateau"][ok], ".0f"))
        rows["fall in 1st half"].append(spread(m["first share"][ok], ".2f"))
        hidden = r.ratios[:, :, :-1] if r.ratios.shape[2] > 1 else r.ratios
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            rows["update ratio"].append(f"{np.nanmedian(hidden[ok]):.0e}" if ok.any() else
                                        f"{np.nanmedian(hidden[:, :10]):.0e} in steps 1-10")
    return format_table(rows, index=list(runs), index_name="setting")


# ------------------------------------------------------------------ figures
_COLOURS = ("#d62728", "#9467bd", "#2ca02c", "#ff7f0e", "#1f77b4", "#8c564b", "#17becf")


def _figure(figsize, dpi):
    from matplotlib.figure import Figure

    from course_utils.plots import check_figure_size

    check_figure_size(figsize, dpi)
    return Figure(figsize=figsize, dpi=dpi)


def plot_loss_curves(runs: dict, smoothing: float = 0.9, ylim=(0.0, 3.5),
                     figsize=(9.0, 3.2), dpi: int = 96):
    """One panel per run: the raw minibatch loss (light) and its :func:`ema` (dark).

    Parameters
    ----------
    runs : dict of str -> History
    """
    figure = _figure(figsize, dpi)
    axes = figure.subplots(1, len(runs), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, (title, history), colour in zip(axes, runs.items(), _COLOURS):
        loss = np.asarray(history.step_loss, dtype=np.float64)
        steps = np.arange(1, len(loss) + 1)
        shown = np.where(np.isfinite(loss), loss, np.nan)
        ax.plot(steps, shown, color=colour, alpha=0.25, lw=0.8)
        ax.plot(steps, ema(loss, smoothing), color=colour, lw=1.8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylim(*ylim)
        if history.diverged:
            ax.annotate(f"NaN at step {history.diverged_at}", (0.95, 0.5),
                        xycoords="axes fraction", ha="right", color=colour, fontsize=9)
    axes[0].set_ylabel("minibatch loss")
    figure.subplots_adjust(left=0.07, right=0.99, bottom=0.16, top=0.9, wspace=0.08)
    return figure


def plot_accuracy_gap(runs: dict, figsize=(9.0, 3.0), dpi: int = 96):
    """One panel per run: training and validation accuracy at each evaluation."""
    figure = _figure(figsize, dpi)
    axes = np.atleast_1d(figure.subplots(1, len(runs), sharey=True))
    for ax, (title, history) in zip(axes, runs.items()):
        ax.plot(history.eval_step, history.train_acc, "o-", ms=3, color="#1f77b4", label="train")
        ax.plot(history.eval_step, history.val_acc, "o-", ms=3, color="#ff7f0e",
                label="validation")
        ax.fill_between(history.eval_step, history.val_acc, history.train_acc, color="0.85")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel("accuracy")
    axes[0].legend(loc="lower right", fontsize=9)
    figure.subplots_adjust(left=0.07, right=0.99, bottom=0.16, top=0.9, wspace=0.08)
    return figure


def plot_update_ratios(monitors: dict, smoothing: float = 0.9, ylim=(1e-6, 1.0),
                       figsize=(9.0, 3.2), dpi: int = 96):
    """One panel per run: each layer's update-to-weight ratio per step (smoothed, log scale),
    with the 1e-3 rule of thumb as a dashed line.

    Parameters
    ----------
    monitors : dict of str -> Monitor or SeedRuns (drawn: its first seed)
    """
    figure = _figure(figsize, dpi)
    axes = np.atleast_1d(figure.subplots(1, len(monitors), sharey=True))
    for ax, (title, monitor) in zip(axes, monitors.items()):
        if isinstance(monitor, SeedRuns):  # its first seed
            steps = np.arange(1, monitor.ratios.shape[1] + 1)
            series = {name: monitor.ratios[0, :, k] for k, name in enumerate(monitor.layers)}
        else:
            steps, series = monitor.steps, monitor.ratios
        for name, colour in zip(series, _COLOURS[4:] + _COLOURS):
            r = np.asarray(series[name], dtype=np.float64)
            ax.plot(steps, ema(r, smoothing), color=colour, lw=1.2, label=name)
        ax.axhline(HEALTHY_RATIO, color="k", ls="--", lw=0.8)
        ax.set_yscale("log")
        ax.set_ylim(*ylim)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
    axes[0].set_ylabel("||Δw|| / ||w|| per step")
    axes[-1].legend(loc="upper right", fontsize=8, ncol=2)
    figure.subplots_adjust(left=0.09, right=0.99, bottom=0.16, top=0.9, wspace=0.08)
    return figure


def plot_layer_distributions(rows: dict, bins: int = 40, figsize=(9.0, 4.6), dpi: int = 96):
    """A grid of histograms: one row per entry of ``rows`` (label -> list of per-layer
    arrays), one column per layer. Each panel spans its array's 0.5th to 99.5th percentile
    (a few outliers would otherwise squeeze the rest into one bar); compare the x scales."""
    figure = _figure(figsize, dpi)
    n_cols = max(len(arrays) for arrays in rows.values())
    axes = figure.subplots(len(rows), n_cols, squeeze=False)
    for r, (label, arrays) in enumerate(rows.items()):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.set_yticks([])
            ax.tick_params(labelsize=7)
            if r == 0:
                ax.set_title(f"layer {c + 1}", fontsize=9)
            if c == 0:
                ax.set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
            if c >= len(arrays):
                ax.set_visible(False)
                continue
            values = np.ravel(arrays[c]).astype(np.float64)
            lo, hi = np.percentile(values, [0.5, 99.5])
            counts, edges = np.histogram(values, bins=bins, range=(lo, hi) if hi > lo else None)
            ax.stairs(counts, edges, fill=True, color=_COLOURS[4 + r % 3])  # one artist
    figure.subplots_adjust(left=0.17, right=0.99, bottom=0.06, top=0.93, hspace=0.6,
                           wspace=0.12)
    return figure
