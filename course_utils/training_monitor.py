"""Chapter 09: per-layer numbers of a torch model, and the callback that records them.

- :func:`linear_layers`: the model's ``nn.Linear`` layers by name, ``W1`` ... ``WL`` (input
  to output), as built by :func:`course_utils.training.build_mlp`.
- :func:`weight_snapshot`, :func:`weight_gradients`, :func:`activation_stats`: per-layer
  weights, loss gradients and activation statistics (:class:`LayerTable`).
- :class:`Monitor`: a ``callback`` for :func:`course_utils.training.train` that records, per
  layer and while the model trains, the update-to-weight ratio of each step, the gradient's
  RMS, the weight norm and the activations' statistics.

What the ratio means and how big it should be is :mod:`course_utils.monitoring`, which also
makes these names importable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from course_utils.tables import format_table
from course_utils.training import check_batch  # x (N, D) and y class indices for the model
from course_utils.validation import check_int

__all__ = [
    "linear_layers",
    "weight_snapshot",
    "LayerTable",
    "weight_gradients",
    "activation_stats",
    "Monitor",
]


def linear_layers(model) -> dict:
    """The model's ``nn.Linear`` modules by name, ``W1`` (first) to ``WL`` (scores)."""
    from torch import nn

    if not isinstance(model, nn.Module):
        raise ValueError(
            f"model must be a torch.nn.Module (e.g. from training.build_mlp); "
            f"got {type(model).__name__}"
        )
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise ValueError("model has no nn.Linear layer to monitor")
    return {f"W{i}": layer for i, layer in enumerate(layers, start=1)}


def weight_snapshot(model) -> dict:
    """A float64 copy of every ``nn.Linear`` weight matrix: ``{"W1": (out, in) array, ...}``."""
    return {
        name: layer.weight.detach().cpu().numpy().astype(np.float64)
        for name, layer in linear_layers(model).items()
    }


@dataclass(frozen=True)
class LayerTable:
    """Per-layer numbers, one array of shape (layers,) per column, printable as a table."""

    layers: tuple
    columns: dict
    index_name: str = "layer"  # the rows' title (e.g. "batch size" for rows that are not layers)

    def table(self, digits: int = 4, percent=()) -> str:
        return format_table(
            self.columns,
            index=list(self.layers),
            index_name=self.index_name,
            digits=digits,
            percent=list(percent),
        )

    def __getitem__(self, column) -> np.ndarray:
        return self.columns[column]


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
    if y is None:
        raise ValueError("y must be the class indices of x, shape (N,); got None")
    x, y = check_batch(model, x, y)
    x = torch.as_tensor(x, dtype=torch.float32)
    y = torch.as_tensor(y, dtype=torch.int64)
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
    return LayerTable(
        tuple(f"h{i}" for i in range(1, len(acts) + 1)), {k: np.array(v) for k, v in rows.items()}
    )


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
        self.every = check_int("every", self.every, 1)
        self._layers = linear_layers(self.model)
        if self.probe is not None:
            self.probe = np.asarray(self.probe, dtype=np.float32)
            if self.probe.ndim != 2 or len(self.probe) == 0:
                raise ValueError(
                    f"probe must be a non-empty (N, D) array; got shape {self.probe.shape}"
                )
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
                    rms = (
                        math.nan
                        if g is None
                        else float(torch.linalg.vector_norm(g)) / math.sqrt(g.numel())
                    )
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
            raise ValueError(
                "this Monitor has no probe batch: pass probe=... to record activations"
            )
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
        skip = check_int("skip", skip, 0)
        if len(self.steps) <= skip:
            raise ValueError(f"skip={skip} leaves no recorded step (recorded {len(self.steps)})")
        return {name: float(np.median(self.ratios[name][skip:])) for name in self._layers}
