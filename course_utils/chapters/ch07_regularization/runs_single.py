"""Chapter 07's runs of one network at a time, with :func:`course_utils.training.train`.

:func:`gap_runs` trains the same MLP under each regulariser (dropout, L1, L2, both) and
reports the train/validation gap of each (:class:`GapRun`); :func:`penalty_weights` trains a
one-hidden-layer MLP under an L1 or L2 penalty and returns its weights. They are the
one-run-at-a-time counterparts of :mod:`.runs_gap`'s side-by-side studies
(:func:`~.runs_gap.gap_over_seeds`, :func:`~.runs_gap.penalty_study`). Penalties are
:func:`course_utils.regularization.torch_penalty`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from course_utils.chapters.ch07_regularization.runs_gap import (
    MAX_GAP_EPOCHS,
    check_data,
    check_settings,
)
from course_utils.data import N_DIGITS_TRAIN, check_digits
from course_utils.regularization import torch_penalty
from course_utils.validation import check_choice, check_int, check_real

__all__ = ["GapRun", "gap_runs", "penalty_weights"]


@dataclass(frozen=True)
class GapRun:
    """One training run of :func:`gap_runs`: final accuracies, the gap and the history."""

    name: str
    train_acc: float
    val_acc: float
    history: object

    @property
    def gap(self) -> float:
        """Training minus validation accuracy."""
        return self.train_acc - self.val_acc


def gap_runs(
    data,
    settings: dict,
    width: int = 128,
    depth: int = 2,
    lr: float = 0.2,
    epochs: int = 60,
    batch_size: int = 20,
    seed: int = 0,
    eval_every: int | None = None,
    activation: str = "relu",
) -> list:
    """Train the same MLP under each regulariser and report the train/validation gap.

    Parameters
    ----------
    data : Digits-like (see :func:`small_digits`)
    settings : dict of name -> {"dropout": p, "l2": lam, "l1": lam}
        ``dropout`` is ``build_mlp``'s ``p`` (probability of DROPPING); ``l2``/``l1`` go to
        :func:`torch_penalty` (both: the elastic net). ``{}`` is the unregularised baseline.
        (``max_norm`` runs only in :func:`gap_over_seeds` and :func:`penalty_study`.)
    width, depth, lr, epochs, batch_size, seed, activation
        As :func:`course_utils.training.build_mlp` and ``train`` (plain SGD, one seed for
        every run, so runs differ only by the regulariser).
    eval_every : int, optional
        Passed to ``train``; by default the full sets are evaluated only before and after
        training (the gap is measured at the end).

    Returns
    -------
    list of GapRun
    """
    from course_utils.training import build_mlp, train

    data = check_data(data)
    check_settings("settings", settings, max_norm=False)
    width = check_int("width", width, 1, 512)
    depth = check_int("depth", depth, 1, 4)
    lr = check_real("lr", lr, 0.0, 10.0, low_open=True)
    epochs = check_int("epochs", epochs, 1, MAX_GAP_EPOCHS)
    batch_size = check_int("batch_size", batch_size, 1, len(data.x_train))
    seed = check_int("seed", seed, 0, 2**32 - 1)
    activation = check_choice("activation", activation, ("relu", "gelu"))
    if eval_every is not None:
        eval_every = check_int("eval_every", eval_every, 1)
    if eval_every is None:
        eval_every = epochs * math.ceil(len(data.x_train) / batch_size)
    runs = []
    for name, setting in settings.items():
        kinds = [k for k in ("l1", "l2") if k in setting]
        model = build_mlp(
            data.x_train.shape[1],
            10,
            depth=depth,
            width=width,
            activation=activation,
            dropout=setting.get("dropout", 0.0),
            seed=seed,
        )
        penalty = _sum_penalties([torch_penalty(k, setting[k]) for k in kinds])
        history = train(
            model,
            data,
            "sgd",
            lr=lr,
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
            penalty=penalty,
            eval_every=eval_every,
            progress=False,
        )
        final = history.final()
        runs.append(GapRun(name, final["train_acc"], final["val_acc"], history))
    return runs


def _sum_penalties(penalties):
    """One ``penalty(model)`` adding ``penalties`` (``None`` if there are none)."""
    if not penalties:
        return None
    if len(penalties) == 1:
        return penalties[0]

    def penalty(model):
        return sum(term(model) for term in penalties)

    penalty.__name__ = " + ".join(term.__name__ for term in penalties)
    return penalty


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
