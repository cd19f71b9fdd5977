"""Chapter 05: each from-scratch rule of :mod:`course_utils.optim` next to ``torch.optim``.

:func:`torch_parity` runs one of this module's optimisers and ``torch.optim``'s update of
the same name side by side on a random least-squares problem (float64, each one's gradient
computed from its own parameters) and reports the largest relative difference of the
parameters over all steps.

torch's side is ``torch.optim``'s functional form (``torch.optim.adam.adam``,
``torch.optim.sgd.sgd``, ...): the function each class's ``step()`` calls with the state it
keeps (``exp_avg``, ``momentum_buffer``, ...). Calling it directly skips the class wrapper,
whose first ``step()`` imports ``torch._dynamo`` (about a second); ``tests/test_optim.py``
compares the classes themselves.
"""

from __future__ import annotations

import importlib

import numpy as np

from course_utils.optim import OPTIMIZERS
from course_utils.validation import MAX_ITEMS, check_int, make_rng

__all__ = ["PARITY_SETTINGS", "torch_parity"]

#: One setting per rule of the chapter (label -> (class name, keyword arguments)).
PARITY_SETTINGS = {
    "SGD": ("SGD", dict(lr=0.05)),
    "SGD, momentum 0.9": ("SGD", dict(lr=0.02, momentum=0.9)),
    "SGD, Nesterov 0.9": ("SGD", dict(lr=0.02, momentum=0.9, nesterov=True)),
    "Adagrad": ("Adagrad", dict(lr=0.1)),
    "RMSprop": ("RMSprop", dict(lr=1e-3)),
    "RMSprop, centered, momentum": ("RMSprop", dict(lr=1e-3, centered=True, momentum=0.5)),
    "Adadelta": ("Adadelta", dict()),
    "Adam": ("Adam", dict(lr=0.01)),
    "Adam + L2 (weight_decay 0.01)": ("Adam", dict(lr=0.01, weight_decay=0.01)),
    "Adam, amsgrad": ("Adam", dict(lr=0.01, amsgrad=True)),
    "AdamW (weight_decay 0.1)": ("AdamW", dict(lr=0.01, weight_decay=0.1)),
}


def _check_settings(settings) -> dict:
    if not isinstance(settings, dict) or not 1 <= len(settings) <= MAX_ITEMS:
        raise ValueError(
            f"settings must be a non-empty dict of label -> (optimizer name, kwargs); "
            f"got {type(settings).__name__}"
        )
    for label, value in settings.items():
        if not (
            isinstance(value, tuple)
            and len(value) == 2
            and isinstance(value[0], str)
            and value[0] in OPTIMIZERS
            and isinstance(value[1], dict)
        ):
            raise ValueError(
                f"settings[{label!r}] must be (one of {', '.join(OPTIMIZERS)}, kwargs)"
            )
    return settings


def torch_parity(settings=None, steps: int = 100, seed: int = 0) -> dict:
    """Largest relative difference between each rule and ``torch.optim`` over ``steps``.

    The problem: least squares :math:`\\tfrac{1}{2N}\\lVert XW + b - Y\\rVert^2` with
    :math:`X` (20, 5), :math:`Y` (20, 3) and two parameters, :math:`W` (5, 3) and :math:`b`
    (3,), standard normal (``seed``). Both optimisers start from the same values and each
    step uses the gradient at its own parameters.

    Parameters
    ----------
    settings : dict of label -> (class name, kwargs), optional
        Default :data:`PARITY_SETTINGS`.
    steps : int
        At most 10,000.
    seed : int

    Returns
    -------
    dict of label -> float
        :math:`\\max_t \\max_j |\\theta^{ours}_{t,j} - \\theta^{torch}_{t,j}| /
        \\max(|\\theta^{torch}_{t,j}|, 10^{-12})`.
    """
    import torch

    settings = _check_settings(PARITY_SETTINGS if settings is None else settings)
    steps = check_int("steps", steps, 1, MAX_ITEMS)
    rng = make_rng(seed)
    X, Y = rng.standard_normal((20, 5)), rng.standard_normal((20, 3))
    W0, b0 = rng.standard_normal((5, 3)), rng.standard_normal(3)

    def grads(W, b):
        r = X @ W + b - Y
        return [X.T @ r / len(X), r.mean(axis=0)]

    out = {}
    for label, (name, kwargs) in settings.items():
        ours = [W0.copy(), b0.copy()]
        theirs = [torch.tensor(W0), torch.tensor(b0)]
        opt = OPTIMIZERS[name](ours, **kwargs)
        ref = _TorchFunctional(name, theirs, opt.defaults)
        worst = 0.0
        for _ in range(steps):
            opt.step(grads(*ours))
            ref.step([torch.from_numpy(g) for g in grads(*(t.numpy() for t in theirs))])
            for p, t in zip(ours, theirs):
                ref_value = t.numpy()
                diff = np.abs(p - ref_value) / np.maximum(np.abs(ref_value), 1e-12)
                worst = max(worst, float(diff.max()))
        out[label] = worst
    return out


_MODULES = {
    "SGD": "sgd",
    "Adagrad": "adagrad",
    "RMSprop": "rmsprop",
    "Adadelta": "adadelta",
    "Adam": "adam",
    "AdamW": "adam",  # torch's AdamW is Adam with decoupled_weight_decay=True
}


class _TorchFunctional:
    """``torch.optim.<name>``'s functional update with the per-parameter state its class
    keeps (created as the class's ``_init_group`` creates it)."""

    def __init__(self, name, params, hyper):
        import torch

        self.name, self.params, self.h = name, params, dict(hyper)
        zeros = [torch.zeros_like(p) for p in params]

        def fresh():
            return [torch.zeros_like(p) for p in params]

        self.steps = [torch.tensor(0.0, dtype=torch.float64) for _ in params]
        if name == "SGD":
            self.buffers = [None for _ in params]
        elif name == "Adagrad":
            self.sums = [torch.full_like(p, self.h["initial_accumulator_value"]) for p in params]
        elif name == "RMSprop":
            self.square, self.grad_avg, self.buffers = fresh(), fresh(), fresh()
        elif name == "Adadelta":
            self.square, self.deltas = fresh(), fresh()
        else:  # Adam, AdamW
            self.exp_avg, self.exp_avg_sq, self.max_sq = zeros, fresh(), fresh()

    def step(self, grads):
        # torch.optim's package namespace hides its submodules (torch.optim.sgd is deleted
        # there): import them by name
        functional = importlib.import_module(f"torch.optim.{_MODULES[self.name]}")
        h, p = self.h, self.params
        common = dict(lr=h["lr"], weight_decay=h["weight_decay"], maximize=h["maximize"])
        if self.name == "SGD":
            functional.sgd(
                p,
                grads,
                self.buffers,
                foreach=False,
                momentum=h["momentum"],
                dampening=h["dampening"],
                nesterov=h["nesterov"],
                **common,
            )
        elif self.name == "Adagrad":
            functional.adagrad(
                p,
                grads,
                self.sums,
                self.steps,
                foreach=False,
                lr_decay=h["lr_decay"],
                eps=h["eps"],
                **common,
            )
        elif self.name == "RMSprop":
            functional.rmsprop(
                p,
                grads,
                self.square,
                self.grad_avg if h["centered"] else [],
                self.buffers if h["momentum"] > 0 else [],
                self.steps,
                foreach=False,
                alpha=h["alpha"],
                eps=h["eps"],
                momentum=h["momentum"],
                centered=h["centered"],
                **common,
            )
        elif self.name == "Adadelta":
            functional.adadelta(
                p,
                grads,
                self.square,
                self.deltas,
                self.steps,
                foreach=False,
                rho=h["rho"],
                eps=h["eps"],
                **common,
            )
        else:
            functional.adam(
                p,
                grads,
                self.exp_avg,
                self.exp_avg_sq,
                self.max_sq if h["amsgrad"] else [],
                self.steps,
                foreach=False,
                decoupled_weight_decay=h["decoupled_weight_decay"],
                amsgrad=h["amsgrad"],
                beta1=h["betas"][0],
                beta2=h["betas"][1],
                eps=h["eps"],
                **common,
            )
