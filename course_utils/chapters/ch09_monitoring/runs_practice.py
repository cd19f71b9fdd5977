"""Chapter 09 in practice: the first layer's weights, early stopping with a checkpoint, and the
same numbers logged to TensorBoard.

- :func:`roughness`, :func:`first_layer_change`: how noisy the first layer's filters are (as
  8 x 8 images), before and after training, and how much training changed them;
- :func:`early_stopping`: train epoch by epoch, keep a copy of the weights (the checkpoint)
  whenever the validation loss improves, stop after ``patience`` epochs without improvement,
  and compare with training on to the end (the same run, at the same epochs);
- :func:`log_to_tensorboard`, :func:`read_scalars`: a ``History`` (and a ``Monitor``) written
  with ``torch.utils.tensorboard.SummaryWriter`` and read back from the event file.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_utils.seed_runs import BASE_RUN, SeedRuns, _base_model, base_model
from course_utils.tables import format_table
from course_utils.validation import check_array, check_directory, check_int, check_real

__all__ = [
    "roughness",
    "first_layer_change",
    "EarlyStopping",
    "early_stopping",
    "log_to_tensorboard",
    "read_scalars",
]


def roughness(weights, side: int = 8) -> float:
    """Mean squared difference of neighbouring pixels over the variance, for the rows of
    ``weights (units, side * side)`` seen as ``side x side`` images. About 2 for white noise
    (neighbours independent), near 0 for smooth images; the ratio does not depend on the
    weights' scale."""
    side = check_int("side", side, 2, 1000)
    w = check_array("weights", weights, ndim=2, limit=10**7)
    if w.shape[1] != side * side:
        raise ValueError(f"weights must have side * side = {side * side} columns; got {w.shape}")
    if np.var(w) == 0:
        raise ValueError("weights are constant: their roughness is undefined")
    images = w.reshape(-1, side, side)
    dx, dy = np.diff(images, axis=2), np.diff(images, axis=1)
    return float((np.mean(dx**2) + np.mean(dy**2)) / 2 / np.var(w))


def _first_weights(model) -> np.ndarray:
    import torch

    first = next(m for m in model.modules() if isinstance(m, torch.nn.Linear))
    return first.weight.detach().cpu().numpy().astype(np.float64)


def first_layer_change(runs: dict, data) -> str:
    """For each setting (name -> :class:`SeedRuns` of :data:`BASE_RUN` with that change): the
    median over its seeds of the roughness of the first layer before training (``W0``), after
    (``W``), of the change ``W - W0``, and the change's size ``||W - W0|| / ||W0||``. The
    initial weights are rebuilt from each seed (the same :func:`base_model`)."""
    if not isinstance(runs, dict) or not all(isinstance(r, SeedRuns) for r in runs.values()):
        raise ValueError("runs must be a dict of name -> SeedRuns (from train_seeds)")
    base_model(data)  # checks data (once: the networks below are built from checked data)
    columns = {"W0": [], "W": [], "W - W0": [], "||W - W0|| / ||W0||": []}
    for run in runs.values():
        rows = []
        for i, seed in enumerate(run.seeds):
            settings = {k: v for k, v in run.settings.items() if k in ("init", "std")}
            w0 = _first_weights(_base_model(data, {**BASE_RUN, **settings, "seed": seed}))
            w = _first_weights(run.models[i])
            rows.append(
                (
                    roughness(w0),
                    roughness(w),
                    roughness(w - w0),
                    np.linalg.norm(w - w0) / np.linalg.norm(w0),
                )
            )
        medians = np.median(np.array(rows), axis=0)
        for key, value in zip(columns, medians):
            columns[key].append(f"{value:.2f}")
    return format_table(columns, index=list(runs), index_name="roughness (median)")


@dataclass(frozen=True)
class EarlyStopping:
    """:func:`early_stopping`: per epoch the validation loss and accuracy of the run trained to
    the end; the epoch whose weights the checkpoint kept (``best``, from 1) and the epoch at
    which patience ran out (``stopped``)."""

    val_loss: np.ndarray
    val_acc: np.ndarray
    best: int
    stopped: int
    patience: int
    checkpoint: dict  # the state_dict kept at epoch ``best``

    def table(self) -> str:
        epochs = [self.best, self.stopped, len(self.val_loss)]
        return format_table(
            {
                "epoch": [str(e) for e in epochs],
                "validation loss": [self.val_loss[e - 1] for e in epochs],
                "validation accuracy": [self.val_acc[e - 1] for e in epochs],
            },
            index=[
                "the checkpoint (best validation loss)",
                "where patience ran out",
                "trained on to the end",
            ],
            index_name="weights",
        )


def early_stopping(
    data, epochs: int = 50, patience: int = 5, lr: float = 0.01, seed: int = 0
) -> EarlyStopping:
    """Train :data:`BASE_RUN`'s network (SGD with momentum 0.9, the course's
    :class:`~course_utils.lean_sgd.LeanSGD`) for ``epochs`` epochs, one at a time, and apply
    early stopping on the validation loss: after each epoch, if the validation loss is the
    lowest so far, copy the weights (the checkpoint); once ``patience`` epochs pass without a
    new lowest, early stopping would stop and restore the checkpoint. The run goes on to
    ``epochs`` anyway, so the checkpoint can be compared with the end of the same run."""
    from course_utils import training
    from course_utils.lean_sgd import LeanSGD

    epochs = check_int("epochs", epochs, 1, 500)
    patience = check_int("patience", patience, 1, epochs)
    lr = check_real("lr", lr, 0.0, 10.0, low_open=True)
    seed = check_int("seed", seed, 0, 2**32 - 1)
    model = base_model(data, seed=seed)
    opt = LeanSGD(model.parameters(), lr, momentum=0.9)
    losses, accs = [], []
    best, best_loss, stopped, checkpoint = 0, math.inf, None, None
    for epoch in range(1, epochs + 1):
        history = training.train(
            model,
            data,
            optimizer=lambda params: opt,
            epochs=1,
            batch_size=BASE_RUN["batch_size"],
            seed=seed + epoch,
            progress=False,
        )
        loss, acc = history.val_loss[-1], history.val_acc[-1]
        losses.append(loss)
        accs.append(acc)
        if not math.isfinite(loss):
            break
        if stopped is not None:
            continue  # early stopping has stopped: only the curve of the run goes on
        if loss < best_loss:
            best, best_loss = epoch, loss
            checkpoint = copy.deepcopy(model.state_dict())
        elif epoch - best >= patience:
            stopped = epoch
    return EarlyStopping(
        np.array(losses), np.array(accs), best, stopped or len(losses), patience, checkpoint
    )


def log_to_tensorboard(history, logdir, every: int = 1) -> Path:
    """Write a training ``History`` with ``torch.utils.tensorboard.SummaryWriter`` into
    ``logdir``: ``loss/step`` every ``every`` steps, and ``loss/train``, ``loss/val``,
    ``accuracy/train``, ``accuracy/val`` at every evaluation (the step as TensorBoard's x).
    Returns the event file written. ``tensorboard --logdir <logdir>`` shows it, smoothed as in
    section 1."""
    from torch.utils.tensorboard import SummaryWriter

    from course_utils.training import History

    if not isinstance(history, History):
        raise ValueError(f"history must be a training History; got {type(history).__name__}")
    every = check_int("every", every, 1, 10**6)
    logdir = check_directory("logdir", logdir)
    writer = SummaryWriter(log_dir=str(logdir))
    try:
        for step, loss in enumerate(history.step_loss, start=1):
            if step % every == 0 and math.isfinite(loss):
                writer.add_scalar("loss/step", loss, step)
        for i, step in enumerate(history.eval_step):
            writer.add_scalar("loss/train", history.train_loss[i], step)
            writer.add_scalar("loss/val", history.val_loss[i], step)
            writer.add_scalar("accuracy/train", history.train_acc[i], step)
            writer.add_scalar("accuracy/val", history.val_acc[i], step)
        writer.flush()
    finally:
        writer.close()
    files = sorted(logdir.glob("events.out.tfevents.*"), key=lambda p: p.stat().st_mtime)
    return files[-1]


def read_scalars(logdir) -> dict:
    """Every scalar in ``logdir``'s event files, read with TensorBoard's own
    ``EventAccumulator``: ``{tag: (steps array, values array)}``."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logdir = check_directory("logdir", logdir)
    events = EventAccumulator(str(logdir), size_guidance={"scalars": 0})  # 0: keep every value
    events.Reload()
    out = {}
    for tag in events.Tags()["scalars"]:
        points = events.Scalars(tag)
        out[tag] = (np.array([p.step for p in points]), np.array([p.value for p in points]))
    return out
