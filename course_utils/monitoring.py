"""Chapter 09: watch a network train. What to record, how to smooth it, how to read it.

- :func:`ema`: the smoothed loss curve, an exponential moving average *with bias correction*,
  exactly TensorBoard's scalar smoothing (its slider is ``smoothing``, default 0.6).
- :func:`update_ratio` (any optimiser, from weights before and after a step) and
  :func:`sgd_update_ratio` (CS231n's formula for plain SGD): the update-to-weight ratio
  ``||Δw|| / ||w||`` whose healthy size is about 1e-3 (Karpathy's rule of thumb, CS231n).
- :func:`weight_snapshot`, :func:`update_ratios`, :func:`gradient_stats`,
  :func:`activation_stats`: per-layer numbers of a model built by
  :func:`course_utils.training.build_mlp` (layers named ``W1`` ... ``WL``, input to output).
- :class:`Monitor`: a ``callback`` for :func:`course_utils.training.train` that records all of
  the above while the model trains.
- :func:`minibatch_loss_spread`: why the per-step loss is noisy, and how batch size changes it.
- :data:`DIAGNOSES`, :func:`run_diagnosis`, :func:`curve_summary`: the classic loss curves
  (learning rate too high, too low, good; a bad initialisation's plateau) from real runs.
- Figures (:func:`plot_loss_curves`, :func:`plot_accuracy_gap`, :func:`plot_update_ratios`,
  :func:`plot_layer_distributions`) draw on a :class:`~matplotlib.figure.Figure` they make and
  return; the compute functions above never plot.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from course_utils.tables import format_table
from course_utils.validation import check_int as _check_int
from course_utils.validation import check_real as _check_real
from course_utils.training import single_torch_thread as one_torch_thread  # one copy

__all__ = ["SMOOTHING", "HEALTHY_RATIO", "ema", "update_ratio", "sgd_update_ratio",
           "linear_layers", "weight_snapshot", "update_ratios", "gradient_stats",
           "weight_gradients", "activation_stats", "Monitor", "one_torch_thread",
           "minibatch_loss_spread", "DIAGNOSES", "BASE_RUN", "DiagnosisRun", "base_model",
           "run_diagnosis", "curve_summary", "plateau_steps", "plot_loss_curves",
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
    with the 1e-3 rule of thumb as a dashed line."""
    figure = _figure(figsize, dpi)
    axes = np.atleast_1d(figure.subplots(1, len(monitors), sharey=True))
    for ax, (title, monitor) in zip(axes, monitors.items()):
        for name, colour in zip(monitor.layers, _COLOURS[4:] + _COLOURS):
            r = np.asarray(monitor.ratios[name], dtype=np.float64)
            ax.plot(monitor.steps, ema(r, smoothing), color=colour, lw=1.2, label=name)
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
