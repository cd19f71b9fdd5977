"""Chapter 05's runs: the races (several optimisers on a 2-D surface, or training on the
digits), weight decay L2 vs decoupled, step sizes.

Each drives the from-scratch optimisers of :mod:`course_utils.optim` (not ``torch.optim``).
"""

from __future__ import annotations

import numpy as np

from course_utils.chapters.ch05_optimizers.surfaces import MAX_SURFACE_STEPS, run
from course_utils.optim import MAX_TRAJECTORY_STEPS, OPTIMIZERS, Adam, AdamW
from course_utils.validation import MAX_ITEMS, check_choice, check_int, check_real, check_sequence

__all__ = ["race", "decay_only", "weight_norm", "TorchAdapter", "digits_race", "step_sizes"]


def _check_contenders(contenders) -> dict:
    """``contenders`` of :func:`race` and :func:`digits_race`: a non-empty dict of label ->
    (a class name of :data:`~course_utils.optim.OPTIMIZERS`, kwargs with ``lr``)."""
    if not isinstance(contenders, dict) or not contenders or len(contenders) > MAX_ITEMS:
        raise ValueError(
            f"contenders must be a non-empty dict of label -> (optimizer name, "
            f"kwargs); got {type(contenders).__name__}"
        )
    for label, value in contenders.items():
        if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], dict)):
            raise ValueError(f"contenders[{label!r}] must be (optimizer name, kwargs with lr)")
        if not isinstance(value[0], str) or value[0] not in OPTIMIZERS:
            raise ValueError(
                f"contender {label!r}: optimizer must be one of "
                f"{', '.join(OPTIMIZERS)}; got {value[0]!r}"
            )
        if "lr" not in value[1]:
            raise ValueError(f"contender {label!r} needs an lr in its kwargs")
    return contenders


# ---------------------------------------------------------------- the race on a 2-D surface
def race(surface, contenders: dict, steps: int = 200) -> dict:
    """Run several optimisers on one surface of
    :mod:`~course_utils.chapters.ch05_optimizers.surfaces` from the same start.

    Parameters
    ----------
    surface : str or Surface
        A key of :data:`~course_utils.chapters.ch05_optimizers.surfaces.SURFACES`.
    contenders : dict of label -> (optimizer name, kwargs with ``lr``)
    steps : int
        At most :data:`~course_utils.chapters.ch05_optimizers.surfaces.MAX_SURFACE_STEPS`.

    Returns
    -------
    dict of label -> Trajectory
    """
    steps = check_int("steps", steps, 1, MAX_SURFACE_STEPS)
    return {
        label: run(surface, name, steps=steps, **kwargs)
        for label, (name, kwargs) in _check_contenders(contenders).items()
    }


# ---------------------------------------------------------------- weight decay: L2 vs decoupled
def decay_only(
    theta0: float = 1.0, lr: float = 0.01, weight_decay: float = 0.1, steps: int = 100
) -> dict:
    """A parameter whose loss gradient is 0, under Adam + L2 and under AdamW.

    Adam + L2 feeds :math:`g = \\lambda\\theta` through Adam's normalisation, so
    :math:`\\hat m/\\sqrt{\\hat v} \\approx \\operatorname{sign}(\\theta)` and :math:`\\theta` falls
    by about :math:`\\eta` per step *whatever* :math:`\\lambda` is; AdamW multiplies it by
    :math:`1-\\eta\\lambda` per step (Loshchilov & Hutter, ICLR 2019). Runs :class:`~course_utils.optim.Adam`
    and :class:`~course_utils.optim.AdamW`.

    Returns
    -------
    dict of ``"Adam + L2"`` and ``"AdamW"`` -> ndarray, shape (steps + 1,)
        :math:`\\theta_0, \\theta_1, \\dots`.
    """
    steps = check_int("steps", steps, 1, MAX_TRAJECTORY_STEPS)
    out = {}
    for label, cls in (("Adam + L2", Adam), ("AdamW", AdamW)):
        theta = np.array([float(theta0)])
        opt = cls([theta], lr=lr, weight_decay=weight_decay)
        path = [theta[0]]
        for _ in range(steps):
            opt.step([np.zeros(1)])
            path.append(theta[0])
        out[label] = np.array(path)
    return out


def weight_norm(model) -> float:
    """Euclidean norm of all ``weight`` tensors of a torch model (biases excluded)."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    with torch.no_grad():
        return float(
            torch.sqrt(
                sum(
                    (p.double() ** 2).sum()
                    for name, p in model.named_parameters()
                    if name.endswith("weight")
                )
            )
        )


class TorchAdapter:
    """One of this module's NumPy optimisers, driving the parameters of a torch model.

    The optimiser updates NumPy *views* of the tensors (``p.detach().numpy()`` shares their
    memory), so :func:`course_utils.training.train` can use it through its callable form:
    ``train(model, data, optimizer=lambda params: TorchAdapter(Adam, params, lr=1e-3))``.
    It offers what the loop uses: ``param_groups[0]["lr"]`` (read before every step, so
    ``lr_schedule`` works), ``zero_grad`` and ``step``. A parameter without a gradient gets
    a zero gradient (torch.optim would skip it; in an MLP every parameter has one).
    """

    def __init__(self, optimizer_class, params, **kwargs):
        import torch

        if isinstance(optimizer_class, str):
            optimizer_class = OPTIMIZERS[
                check_choice("optimizer_class", optimizer_class, tuple(OPTIMIZERS))
            ]
        elif optimizer_class not in OPTIMIZERS.values():
            raise ValueError(
                f"optimizer_class must be one of {', '.join(OPTIMIZERS)}; got {optimizer_class!r}"
            )
        self.tensors = check_sequence(
            "params", list(params) if not isinstance(params, (str, bytes, list, tuple)) else params
        )
        for i, p in enumerate(self.tensors):
            if not isinstance(p, torch.Tensor):
                raise ValueError(f"params[{i}] must be a torch tensor; got {type(p).__name__}")
        self.optimizer = optimizer_class([p.detach().numpy() for p in self.tensors], **kwargs)
        self.param_groups = [{"lr": self.optimizer.lr, "params": self.tensors}]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.tensors:
            p.grad = None

    def step(self) -> None:
        self.optimizer.lr = self.param_groups[0]["lr"]
        self.optimizer.step(
            [
                np.zeros(p.shape, dtype=np.float32) if p.grad is None else p.grad.numpy()
                for p in self.tensors
            ]
        )


def digits_race(
    data,
    contenders: dict,
    depth: int = 1,
    width: int = 64,
    epochs: int = 4,
    batch_size: int = 64,
    seed: int = 0,
) -> dict:
    """Train the same MLP (same init, same minibatches) with each of this module's optimisers.

    Uses :func:`course_utils.training.build_mlp` and :func:`~course_utils.training.train`
    with a :class:`TorchAdapter` (the NumPy optimisers of this module, not torch.optim).

    Parameters
    ----------
    data : e.g. :func:`course_utils.data.load_digits`
    contenders : dict of label -> (class name in :data:`OPTIMIZERS`, kwargs with ``lr``)
        E.g. ``{"Adam + L2": ("Adam", dict(lr=0.003, weight_decay=0.01))}``.
    depth, width, epochs, batch_size, seed
        As :func:`~course_utils.training.build_mlp` and :func:`~course_utils.training.train`.

    Returns
    -------
    dict of label -> (History, weight norm after training)
    """
    from course_utils.training import build_mlp, single_torch_thread, train

    if not all(hasattr(data, a) for a in ("x_train", "y_train", "x_val", "y_val")):
        raise ValueError(
            f"data must be a dataset as course_utils.data.load_digits returns; "
            f"got {type(data).__name__}"
        )
    _check_contenders(contenders)
    out = {}
    with single_torch_thread():
        for label, (name, kwargs) in contenders.items():
            kwargs = dict(kwargs)
            model = build_mlp(
                data.x_train.shape[1],
                int(data.y_train.max()) + 1,
                depth=depth,
                width=width,
                seed=seed,
            )
            history = train(
                model,
                data,
                optimizer=lambda params: TorchAdapter(name, params, **kwargs),
                epochs=epochs,
                batch_size=batch_size,
                seed=seed,
                progress=False,
            )
            out[label] = (history, weight_norm(model))
    return out


def step_sizes(optimizer: str, steps: int = 1000, gradient: float = 1.0, **kwargs) -> np.ndarray:
    """How far one parameter moves at each step under a constant gradient.

    Shows the learning-rate schedule an adaptive method builds in: Adagrad's steps shrink
    like :math:`\\eta/\\sqrt{t}`; RMSprop's settle at :math:`\\eta` (after a first step of
    :math:`\\eta/\\sqrt{1-\\alpha}`, 10 times larger at :math:`\\alpha = 0.99`); Adam's are
    :math:`\\eta` from the first step on (its bias correction).

    Parameters
    ----------
    optimizer : str
        A class name of :data:`OPTIMIZERS`.
    steps : int
    gradient : float
        The constant gradient.
    **kwargs
        Hyperparameters (``lr`` ...).

    Returns
    -------
    ndarray, shape (steps,)
        :math:`|\\theta_t - \\theta_{t-1}|` for t = 1..steps.
    """
    check_choice("optimizer", optimizer, tuple(OPTIMIZERS))
    gradient = check_real("gradient", gradient)
    steps = check_int("steps", steps, 1, MAX_TRAJECTORY_STEPS)
    theta = np.zeros(1)
    opt = OPTIMIZERS[optimizer]([theta], **kwargs)
    g = np.array([float(gradient)])
    path = np.empty(steps + 1)
    path[0] = 0.0
    for t in range(1, steps + 1):
        opt.step([g])
        path[t] = theta[0]
    return np.abs(np.diff(path))
