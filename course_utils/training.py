"""Train small networks on the course's offline data: one loop for chapters 04-10.

The networks come from :mod:`course_utils.models` (:func:`build_mlp`,
:func:`hidden_activations` and the torch thread settings, importable from here too).

- :func:`make_optimizer`: ``torch.optim`` by name (``"sgd"``, ``"momentum"``, ``"adam"``, ...).
- :func:`train`: minibatch training with cross-entropy; returns a :class:`History` (the loss
  of every step, the learning rate of every step, and full-set loss and accuracy on training
  and validation data at step 0 and after every epoch, or every ``eval_every`` steps).
  A ``tqdm.auto`` progress bar shows by default (``progress=False`` turns it off, as in the
  notebooks' checked cells). A loss that becomes NaN or inf ends the run as a *result*:
  ``history.status == "diverged"``, ``history.diverged_at`` and ``history.message`` say when.
Seeded: the same ``seed`` gives the same initial weights, the same minibatch order and the
same dropout masks, so two runs give identical histories. Torch's global random state is
left as it was (``torch.random.fork_rng``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from course_utils.models import (
    ACTIVATIONS,
    INITS,
    MAX_PARAMETERS,
    build_mlp,
    check_batch,
    check_model,
    hidden_activations,
    single_torch_thread,
    torch_threads,
)
from course_utils.torch_state import seed_cpu
from course_utils.validation import check_array, check_sequence, check_work
from course_utils.validation import check_int as _check_int
from course_utils.validation import check_real as _check_real

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "OPTIMIZERS",
    "MAX_PARAMETERS",
    "MAX_TRAIN_STEPS",
    "MAX_LR",
    "build_mlp",
    "check_data",
    "check_data_arrays",
    "check_batch",
    "make_optimizer",
    "History",
    "train",
    "evaluate",
    "hidden_activations",
    "torch_threads",
    "single_torch_thread",
]

#: Optimiser names accepted by :func:`make_optimizer` and :func:`train`.
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw")

#: At most this many optimisation steps per call (minutes, not hours, on two cores).
MAX_TRAIN_STEPS = 200_000
#: The largest learning rate accepted: far beyond any rate that trains (the chapters show
#: divergence from about 10), and float32 optimiser state stays finite.
MAX_LR = 1e6


def make_optimizer(name: str, params, lr: float, **kwargs):
    """A ``torch.optim`` optimiser by name.

    ``"sgd"`` is plain SGD, ``"momentum"`` is SGD with ``momentum=0.9`` unless given,
    ``"nesterov"`` adds ``nesterov=True``; the others are torch's classes of that name
    (Adagrad, RMSprop, Adadelta, Adam, AdamW). Extra keyword arguments go to the class, so
    torch validates them (``weight_decay=...``, ``betas=...``).
    """
    import torch

    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {name!r}")
    lr = _check_real("lr", lr, 0.0, MAX_LR, low_open=True)
    classes = {
        "sgd": torch.optim.SGD,
        "momentum": torch.optim.SGD,
        "nesterov": torch.optim.SGD,
        "adagrad": torch.optim.Adagrad,
        "rmsprop": torch.optim.RMSprop,
        "adadelta": torch.optim.Adadelta,
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
    }
    if name in ("momentum", "nesterov"):
        kwargs.setdefault("momentum", 0.9)
    if name == "nesterov":
        kwargs["nesterov"] = True
    params = _check_parameters(params)
    return classes[name](params, lr=lr, **kwargs)


@dataclass
class History:
    """What a training run recorded.

    Attributes
    ----------
    step_loss : list of float
        The minibatch objective (cross-entropy plus ``penalty``) at every step, 1..steps.
    lr : list of float
        The learning rate used at every step.
    eval_step : list of int
        The steps at which the full sets were evaluated: 0 (before training), then the end of
        every epoch (or every ``eval_every`` steps).
    train_loss, train_acc, val_loss, val_acc : list of float
        Cross-entropy (without the penalty) and accuracy on all training and validation
        examples, in eval mode, at each ``eval_step``.
    status : str
        ``"completed"``, or ``"diverged"`` when the loss became NaN or inf.
    diverged_at : int or None
        The step whose loss was not finite.
    message : str
        One line for a human: how the run ended.
    """

    step_loss: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    eval_step: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    status: str = "running"
    diverged_at: int | None = None
    message: str = ""

    @property
    def steps(self) -> int:
        """Steps taken (the diverging step included)."""
        return len(self.step_loss)

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    def end(self, diverged_at: int | None = None) -> None:
        """Close the record: ``"diverged"`` at step ``diverged_at`` (the last recorded step,
        whose loss was not finite), or ``"completed"``; :attr:`message` says which."""
        if diverged_at is None:
            self.status, final = "completed", self.final()
            self.message = (
                f"completed {self.steps} steps: validation accuracy "
                f"{final['val_acc']:.3f}, loss {final['val_loss']:.3f}"
            )
        else:
            self.status, self.diverged_at = "diverged", diverged_at
            self.message = (
                f"diverged at step {diverged_at}: the loss became {self.step_loss[-1]} "
                "(learning rate too high?)"
            )

    def final(self) -> dict:
        """The last evaluation: ``{"step", "train_loss", "train_acc", "val_loss", "val_acc"}``."""
        return {
            "step": self.eval_step[-1],
            "train_loss": self.train_loss[-1],
            "train_acc": self.train_acc[-1],
            "val_loss": self.val_loss[-1],
            "val_acc": self.val_acc[-1],
        }


def check_data(data):
    """``data``'s four arrays as torch tensors (x float32, y int64), checked: shapes, sizes,
    finite values, matching features. :func:`train` and the seed runs use it."""
    import torch

    x_train, y_train, x_val, y_val = check_data_arrays(data)
    return (
        torch.as_tensor(x_train, dtype=torch.float32),
        torch.as_tensor(y_train, dtype=torch.int64),
        torch.as_tensor(x_val, dtype=torch.float32),
        torch.as_tensor(y_val, dtype=torch.int64),
    )


def check_data_arrays(data) -> tuple:
    """:func:`check_data`'s checks without torch: ``data``'s four arrays (x_train, y_train,
    x_val, y_val) as NumPy arrays (chapter 09's dashboard checks them before torch is imported)."""
    arrays = []
    for name in ("x_train", "y_train", "x_val", "y_val"):
        if not hasattr(data, name):
            raise ValueError(
                f"data must have x_train, y_train, x_val, y_val (e.g. "
                f"course_utils.data.load_digits()); it has no {name!r}"
            )
        arrays.append(check_array(f"data.{name}", getattr(data, name), dtype=None, min_size=0))
    x_train, y_train, x_val, y_val = arrays
    for x, y, split in ((x_train, y_train, "train"), (x_val, y_val, "val")):
        if x.ndim != 2 or y.shape != (len(x),):
            raise ValueError(
                f"x_{split} must be (N, D) and y_{split} (N,); got {x.shape} and {y.shape}"
            )
        if len(x) == 0:
            raise ValueError(f"x_{split} is empty")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"x_{split} contains NaN or inf")
    if x_train.shape[1] != x_val.shape[1]:
        raise ValueError(
            f"x_train has {x_train.shape[1]} features and x_val {x_val.shape[1]}; they must agree"
        )
    return x_train, y_train, x_val, y_val


def _check_parameters(params) -> list:
    """``params`` (a model's ``.parameters()``, or a list of tensors or parameter groups) as
    a list of at most MAX_ITEMS entries, each a tensor or a dict with "params"."""
    import torch

    if isinstance(params, (str, bytes, dict)) or not hasattr(params, "__iter__"):
        raise ValueError(
            f"params must be a model's parameters (model.parameters()); got {type(params).__name__}"
        )
    if not isinstance(params, (list, tuple)):
        params = list(params)
    params = check_sequence("params", params)
    for i, p in enumerate(params):
        if not (isinstance(p, torch.Tensor) or (isinstance(p, dict) and "params" in p)):
            raise ValueError(
                f"params[{i}] must be a tensor (or a parameter group dict); got {type(p).__name__}"
            )
    return list(params)


def evaluate(model, x, y) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on ``(x, y)`` in eval mode, no gradients.

    The model's train/eval mode is restored afterwards.
    """
    import torch
    import torch.nn.functional as F

    x, y = check_batch(model, x, y)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            scores = model(torch.as_tensor(x, dtype=torch.float32))
            y = torch.as_tensor(y, dtype=torch.int64)
            loss = F.cross_entropy(scores, y).item()
            acc = (scores.argmax(dim=1) == y).double().mean().item()
    finally:
        model.train(was_training)
    return loss, acc


def train(
    model,
    data,
    optimizer: str | Callable = "sgd",
    lr: float = 0.1,
    epochs: int = 10,
    batch_size: int = 64,
    seed: int = 0,
    lr_schedule: Sequence[float] | None = None,
    scheduler: Callable | None = None,
    penalty: Callable | None = None,
    eval_every: int | None = None,
    callback: Callable | None = None,
    progress: bool = True,
    threads: int | None = 1,
    **optimizer_kwargs,
) -> History:
    """Train ``model`` on ``data`` with minibatch cross-entropy; return its :class:`History`.

    Parameters
    ----------
    model : torch.nn.Module
        Maps (N, D) float32 inputs to (N, C) class scores; trained in place.
    data : object with ``x_train (N, D), y_train (N,), x_val, y_val``
        E.g. :func:`course_utils.data.load_digits`.
    optimizer : str or callable
        A name from :data:`OPTIMIZERS` (built with ``lr`` and ``**optimizer_kwargs`` by
        :func:`make_optimizer`), or ``callable(parameters) -> torch.optim.Optimizer``.
    lr : float
        Learning rate for a named optimiser.
    epochs, batch_size : int
        Passes over the training data, examples per step (the last batch of an epoch may be
        smaller; a batch of one example is skipped when the model has Batch Norm).
    seed : int
        Fixes the minibatch order and the dropout masks.
    lr_schedule : sequence of float, optional
        The learning rate of every step (``course_utils.schedules`` returns these), at least
        ``epochs * steps_per_epoch`` long; overrides the optimiser's lr.
    scheduler : callable, optional
        ``callable(optimizer) -> torch.optim.lr_scheduler.LRScheduler``, stepped after every
        optimisation step (not per epoch).
    penalty : callable, optional
        ``penalty(model) -> scalar tensor`` added to each minibatch loss (e.g. an L2 term).
    eval_every : int or "end", optional
        Evaluate every this many steps instead of at the end of each epoch; ``"end"``: only
        after the last step (no evaluation at step 0 either), for runs that read the final
        scores alone.
    callback : callable, optional
        ``callback(history, model)`` after every step (live plots, monitoring).
    progress : bool
        Show a ``tqdm.auto`` progress bar.
    threads : int or None
        Torch intra-op threads during the run, restored afterwards. 1 (the default) is the
        fast choice for the course's small networks (more threads mostly wait for each other:
        300 steps of a small MLP took 2.5 s on one thread and 23.7 s on two busy cores), and
        it makes the results independent of the machine's core count. ``None`` keeps torch's.

    Returns
    -------
    History
        ``status`` is ``"diverged"`` (and training stops) as soon as a minibatch loss is NaN
        or inf; otherwise ``"completed"``.
    """
    import torch
    from tqdm.auto import tqdm

    model = check_model(model)
    epochs = _check_int("epochs", epochs, 1)
    batch_size = _check_int("batch_size", batch_size, 1)
    seed = _check_int("seed", seed, 0, 2**32 - 1)
    at_end = isinstance(eval_every, str) and eval_every == "end"
    if eval_every is not None and not at_end:
        eval_every = _check_int("eval_every", eval_every, 1)
    if threads is not None:
        threads = _check_int("threads", threads, 1, 64)  # checked before any work
    x_train, y_train, x_val, y_val = check_data(data)
    n = len(x_train)
    steps_per_epoch = math.ceil(n / batch_size)
    total = epochs * steps_per_epoch
    if total > MAX_TRAIN_STEPS:
        raise ValueError(
            f"epochs={epochs} at batch_size={batch_size} is {total:,} steps; at "
            f"most {MAX_TRAIN_STEPS:,} are allowed"
        )
    n_params = sum(p.numel() for p in model.parameters())
    check_work(
        "this training run",
        3.0 * epochs * n * n_params,
        advice="use fewer epochs, fewer examples or a smaller model",
    )
    if lr_schedule is not None:
        lr_schedule = np.asarray(lr_schedule, dtype=np.float64)
        if lr_schedule.ndim != 1 or len(lr_schedule) < total:
            raise ValueError(
                f"lr_schedule must give one learning rate per step, at least "
                f"{total} values; got shape {lr_schedule.shape}"
            )
        if not np.all(np.isfinite(lr_schedule)) or np.any(lr_schedule < 0):
            raise ValueError("lr_schedule must hold finite learning rates >= 0")
    if isinstance(optimizer, str):
        opt = make_optimizer(optimizer, model.parameters(), lr, **optimizer_kwargs)
    elif callable(optimizer):
        if optimizer_kwargs:
            raise ValueError(
                f"optimizer keyword arguments {sorted(optimizer_kwargs)} only "
                "apply to an optimiser given by name"
            )
        opt = optimizer(model.parameters())
    else:
        raise ValueError(
            f"optimizer must be a name from {OPTIMIZERS} or a callable; got {optimizer!r}"
        )
    sched = scheduler(opt) if scheduler is not None else None
    has_batchnorm = any(
        isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules()
    )

    history = History()

    def record_eval(step: int) -> None:
        loss, acc = evaluate(model, x_train, y_train)
        vloss, vacc = evaluate(model, x_val, y_val)
        history.eval_step.append(step)
        history.train_loss.append(loss)
        history.train_acc.append(acc)
        history.val_loss.append(vloss)
        history.val_acc.append(vacc)

    model.train()
    bar = tqdm(total=total, disable=not progress, desc="training", unit="step")
    try:
        with torch_threads(threads):
            _loop(
                _LoopSetup(
                    model=model,
                    opt=opt,
                    sched=sched,
                    x_train=x_train,
                    y_train=y_train,
                    batch_size=batch_size,
                    epochs=epochs,
                    seed=seed,
                    lr_schedule=lr_schedule,
                    penalty=penalty,
                    eval_every=None if at_end else eval_every,
                    at_end=at_end,
                    callback=callback,
                    has_batchnorm=has_batchnorm,
                ),
                history,
                record_eval,
                bar,
            )
    finally:
        bar.close()
    if not history.diverged:
        history.end()
    return history


@dataclass(frozen=True)
class _LoopSetup:
    """What :func:`train` checked and built, handed to its minibatch loop :func:`_loop`."""

    model: object
    opt: object
    sched: object
    x_train: object
    y_train: object
    batch_size: int
    epochs: int
    seed: int
    lr_schedule: np.ndarray | None
    penalty: Callable | None
    eval_every: int | None
    at_end: bool
    callback: Callable | None
    has_batchnorm: bool


def _loop(run: _LoopSetup, history: History, record_eval: Callable, bar) -> None:
    """The minibatch loop of :func:`train` (records into ``history``)."""
    import torch
    import torch.nn.functional as F

    with torch.random.fork_rng(devices=[]):
        seed_cpu(run.seed)
        n = len(run.x_train)
        shuffle = torch.Generator().manual_seed(run.seed)
        if not run.at_end:
            record_eval(0)
        step = 0
        for _ in range(run.epochs):
            order = torch.randperm(n, generator=shuffle)
            for start in range(0, n, run.batch_size):
                index = order[start : start + run.batch_size]
                if run.has_batchnorm and len(index) == 1:
                    continue
                step += 1
                if run.lr_schedule is not None:
                    for group in run.opt.param_groups:
                        group["lr"] = float(run.lr_schedule[step - 1])
                history.lr.append(float(run.opt.param_groups[0]["lr"]))
                loss = F.cross_entropy(run.model(run.x_train[index]), run.y_train[index])
                if run.penalty is not None:
                    loss = loss + run.penalty(run.model)
                value = loss.item()
                history.step_loss.append(value)
                if not math.isfinite(value):
                    history.end(diverged_at=step)
                    break
                run.opt.zero_grad(set_to_none=True)
                loss.backward()
                run.opt.step()
                if run.sched is not None:
                    run.sched.step()
                bar.update(1)
                if run.eval_every is not None and step % run.eval_every == 0:
                    record_eval(step)
                if run.callback is not None:
                    run.callback(history, run.model)
            if history.diverged:
                break
            if run.eval_every is None and not run.at_end:
                record_eval(step)
                bar.set_postfix(val_acc=f"{history.val_acc[-1]:.3f}")
        if run.at_end and not history.diverged:
            record_eval(step)
