"""Chapter 07's gap study: the train/validation gap under each regulariser, over seeds.

:func:`small_digits` makes a small (optionally noisy) training set; :func:`gap_runs` trains one
MLP per regulariser with :func:`course_utils.training.train`; :func:`gap_over_seeds` trains
all regularisers and seeds side by side (one stacked weight tensor per layer), the numbers the
notebook prints. Penalties are :func:`course_utils.regularization.torch_penalty`'s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from course_utils.data import N_DIGITS_TRAIN, check_digits
from course_utils.regularization import check_drop_probability, torch_penalty
from course_utils.tables import format_table
from course_utils.validation import (
    check_choice,
    check_int,
    check_real,
    check_sequence,
)

__all__ = ["small_digits", "GapRun", "gap_runs", "GapStudy", "gap_over_seeds"]

#: Networks gap_over_seeds trains side by side: 256 MLPs of width 512 fit in about 1 GB.
MAX_NETWORKS = 256
#: Epochs of a gap run: the chapter's runs take 60; 500 is about a minute on 2 cores.
MAX_GAP_EPOCHS = 500


# ------------------------------------------------------------------ experiments on digits
def small_digits(n_train: int, label_noise: float = 0.0, seed: int = 0):
    """A small training subset of :func:`course_utils.data.load_digits` (stratification
    not kept: a random ``n_train`` of the 1347), the full validation set, and optionally a
    share ``label_noise`` of the training labels replaced by a different random class.

    Returns
    -------
    course_utils.data.Digits
    """
    from course_utils.data import Digits, load_digits

    n_train = check_int("n_train", n_train, 10, N_DIGITS_TRAIN)
    label_noise = check_real("label_noise", label_noise, 0.0, 1.0)
    seed = check_int("seed", seed, 0, 2**32 - 1)
    digits = load_digits(seed=seed)
    rng = np.random.default_rng(seed)
    index = rng.permutation(len(digits.x_train))[:n_train]
    y = digits.y_train[index].copy()
    k = int(round(label_noise * n_train))
    wrong = rng.choice(n_train, k, replace=False)
    y[wrong] = (y[wrong] + rng.integers(1, 10, k)) % 10  # a different class, never the same
    return Digits(digits.x_train[index], y, digits.x_val, digits.y_val)


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
        :func:`torch_penalty`. ``{}`` is the unregularised baseline.
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

    data = check_digits(data)
    _check_settings("settings", settings)
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
        penalty = torch_penalty(kinds[0], setting[kinds[0]]) if kinds else None
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


@dataclass(frozen=True)
class GapStudy:
    """Final accuracies of :func:`gap_over_seeds`: one row per (label noise, regulariser),
    one column per seed.

    Attributes
    ----------
    rows : tuple of (float, str)
        ``(label_noise, name)`` of each row.
    seeds : tuple of int
    train_acc, val_acc : ndarray, (rows, seeds)
        Accuracy on the run's own (noisy) training labels and on the 450 validation digits,
        after the last step.
    settings : dict
        The training settings shared by every run.
    """

    rows: tuple
    seeds: tuple
    train_acc: np.ndarray
    val_acc: np.ndarray
    settings: dict

    @property
    def gap(self) -> np.ndarray:
        """Training minus validation accuracy, (rows, seeds)."""
        return self.train_acc - self.val_acc

    def _row(self, label_noise: float, name: str) -> int:
        try:
            return self.rows.index((label_noise, name))
        except ValueError:
            raise ValueError(f"no row ({label_noise!r}, {name!r}); rows: {self.rows}") from None

    def names(self, label_noise: float) -> list:
        """The regularisers run at ``label_noise``, in order."""
        return [name for noise, name in self.rows if noise == label_noise]

    def fewer(
        self, label_noise: float, name: str, baseline: str = "none", what: str = "gap"
    ) -> np.ndarray:
        """Per seed, ``what`` (``"gap"``, ``"train_acc"``, ``"val_acc"``) of ``name`` minus
        that of ``baseline``: the same seed, the same data, the same step."""
        if what not in ("gap", "train_acc", "val_acc"):
            raise ValueError(f"what must be 'gap', 'train_acc' or 'val_acc'; got {what!r}")
        values = getattr(self, what)
        return values[self._row(label_noise, name)] - values[self._row(label_noise, baseline)]

    def table(self, label_noise: float) -> str:
        """Mean +- standard deviation over the seeds, two decimals, one row per regulariser.

        Computed from the integer counts of correct examples, so the same accuracies give
        the same digits whatever the summation order of the machine.
        """
        index = [i for i, (noise, _) in enumerate(self.rows) if noise == label_noise]
        if not index:
            raise ValueError(f"no runs with label_noise {label_noise!r}")
        n_train, n_val = self.settings["n_train"], self.settings["n_val"]

        def cells(counts, n):
            return [f"{_mean(c) / n:.2f} ± {_sd(c) / n:.2f}" for c in counts]

        train = np.rint(self.train_acc[index] * n_train).astype(np.int64)
        val = np.rint(self.val_acc[index] * n_val).astype(np.int64)
        gap = train * n_val - val * n_train  # in units of 1 / (n_train * n_val)
        return format_table(
            {
                "train acc": cells(train, n_train),
                "val acc": cells(val, n_val),
                "gap": cells(gap, n_train * n_val),
            },
            index=[self.rows[i][1] for i in index],
            index_name="regulariser",
        )


def _mean(counts) -> float:
    """Mean of integers: an exact integer sum, one rounding."""
    return sum(int(c) for c in counts) / len(counts)


def _sd(counts) -> float:
    """Sample standard deviation of integers: exact integer sums, then one division and sqrt."""
    m, total = len(counts), sum(int(c) for c in counts)
    return math.sqrt((m * sum(int(c) ** 2 for c in counts) - total**2) / (m * (m - 1)))


def gap_over_seeds(
    experiments: dict,
    seeds: Sequence[int] = range(8),
    n_train: int = 100,
    width: int = 64,
    depth: int = 2,
    activation: str = "gelu",
    lr: float = 0.2,
    epochs: int = 60,
    batch_size: int = 50,
) -> GapStudy:
    r"""Train the same MLP under each regulariser, for every seed at once; the final gaps.

    Parameters
    ----------
    experiments : dict of label_noise -> {name: setting}
        For each share of wrong labels, the runs: ``setting`` as in :func:`gap_runs`
        (``{}``, ``{"dropout": p}``, ``{"l2": lam}`` or ``{"l1": lam}``).
    seeds : sequence of int
        Seed ``s`` fixes the run's data (:func:`small_digits` with ``seed=s``: which
        ``n_train`` digits, which labels are wrong), its initial weights
        (``build_mlp(seed=s)``), its minibatch order (as ``train(seed=s)``) and its dropout
        masks (drawn for all dropout networks together from one generator seeded with the first
    seed); every regulariser of a seed sees the same data, start and order.
    n_train, width, depth, activation
        The MLP (:func:`course_utils.training.build_mlp`; ``"relu"`` or ``"gelu"``).
    lr, epochs, batch_size
        Plain SGD on the mean cross-entropy (+ the penalty), as
        :func:`course_utils.training.train`.

    All ``len(experiments) x len(settings) x len(seeds)`` networks are trained side by
    side, one stacked weight tensor per layer (``torch.bmm``): network k's update is the
    one ``train`` would make for it alone (the tests compare the two), at a fraction of the
    cost of a Python loop over runs.

    Returns
    -------
    GapStudy
    """
    seeds = tuple(
        check_sequence("seeds", seeds, max_len=32, item=lambda n, s: check_int(n, s, 0, 2**32 - 1))
    )
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be different from each other; got {seeds}")
    n_train = check_int("n_train", n_train, 10, N_DIGITS_TRAIN)
    width = check_int("width", width, 1, 512)
    depth = check_int("depth", depth, 1, 4)
    activation = check_choice("activation", activation, ("relu", "gelu"))
    lr = check_real("lr", lr, 0.0, 10.0, low_open=True)
    epochs = check_int("epochs", epochs, 1, MAX_GAP_EPOCHS)
    batch_size = check_int("batch_size", batch_size, 1, n_train)
    if not isinstance(experiments, dict) or not 1 <= len(experiments) <= MAX_NETWORKS:
        raise ValueError(
            "experiments must be a dict label_noise -> {name: setting} with 1 to "
            f"{MAX_NETWORKS} entries; got {experiments!r:.60}"
        )
    rows, runs = [], []
    for noise, settings in experiments.items():
        check_real(f"the label noise {noise!r} (a key of experiments)", noise, 0.0, 1.0)
        _check_settings(f"experiments[{noise!r}]", settings)
        for name, setting in settings.items():
            rows.append((noise, name))
            runs += [(noise, setting, seed) for seed in seeds]
        if len(runs) > MAX_NETWORKS:
            raise ValueError(
                f"experiments x seeds: at most {MAX_NETWORKS} networks at once; got more"
            )
    data = {
        (noise, seed): small_digits(n_train, noise, seed) for noise in experiments for seed in seeds
    }
    from course_utils.training import single_torch_thread

    # Dropout networks first (one mask draw for all of them), then back to the rows' order.
    order = sorted(range(len(runs)), key=lambda i: runs[i][1].get("dropout", 0.0) == 0)
    with threadpool_limits(1), single_torch_thread():  # small products: one thread is fastest
        train_acc, val_acc = _stacked_sgd(
            [runs[i] for i in order], data, width, depth, activation, lr, epochs, batch_size
        )
    back = np.argsort(order)
    train_acc, val_acc = train_acc[back], val_acc[back]
    shape = (len(rows), len(seeds))
    settings = dict(
        n_train=n_train,
        n_val=len(next(iter(data.values())).x_val),
        width=width,
        depth=depth,
        activation=activation,
        lr=lr,
        epochs=epochs,
        batch_size=batch_size,
        optimizer="sgd",
    )
    return GapStudy(tuple(rows), seeds, train_acc.reshape(shape), val_acc.reshape(shape), settings)


def _check_settings(what: str, settings) -> None:
    """``settings`` (called ``what`` in messages): a dict of 1 to MAX_NETWORKS name -> setting."""
    if not isinstance(settings, dict) or not 1 <= len(settings) <= MAX_NETWORKS:
        raise ValueError(
            f"{what} must be a dict name -> setting with 1 to {MAX_NETWORKS} "
            f"entries; got {settings!r:.60}"
        )
    for name, setting in settings.items():
        _check_setting(name, setting)


def _check_setting(name, setting) -> None:
    if not isinstance(setting, dict):
        raise ValueError(
            f"settings[{name!r}] must be a dict such as {{'dropout': 0.5}}; got {setting!r}"
        )
    unknown = set(setting) - {"dropout", "l1", "l2"}
    for key, value in setting.items():
        if key == "dropout":
            check_drop_probability(value, f"settings[{name!r}]['dropout']")
        elif key in ("l1", "l2"):
            check_real(f"settings[{name!r}][{key!r}]", value, 0.0)
    if unknown:
        raise ValueError(
            f"settings[{name!r}] has unknown keys {sorted(unknown)}; allowed: dropout, l1, l2"
        )
    if "l1" in setting and "l2" in setting:
        raise ValueError(f"settings[{name!r}] may hold l1 or l2, not both")


def _stacked_sgd(runs, data, width, depth, activation, lr, epochs, batch_size):
    """Train one MLP per ``(label_noise, setting, seed)`` in ``runs``, all in one loop.

    Returns (train_acc, val_acc), arrays of len(runs).
    """
    import torch
    import torch.nn.functional as F

    from course_utils.training import build_mlp

    k = len(runs)
    x = torch.stack(
        [torch.as_tensor(data[n, s].x_train, dtype=torch.float32) for n, _, s in runs]
    )  # (K, n_train, 64)
    y = torch.stack([torch.as_tensor(data[n, s].y_train, dtype=torch.int64) for n, _, s in runs])
    first = next(iter(data.values()))
    x_val = torch.as_tensor(first.x_val, dtype=torch.float32)
    y_val = torch.as_tensor(first.y_val, dtype=torch.int64)
    # Weights as (K, in, out) and biases as (K, 1, out), copied from build_mlp(seed=s).
    layers = [([], []) for _ in range(depth + 1)]
    for _, _, seed in runs:
        model = build_mlp(
            x.shape[2], 10, depth=depth, width=width, activation=activation, seed=seed
        )
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        for (ws, bs), m in zip(layers, linears):
            ws.append(m.weight.detach().T.clone())
            bs.append(m.bias.detach()[None].clone())
    weights = [torch.stack(ws).requires_grad_() for ws, _ in layers]
    biases = [torch.stack(bs).requires_grad_() for _, bs in layers]
    p = torch.tensor([float(setting.get("dropout", 0.0)) for _, setting, _ in runs])
    dropped = int((p > 0).sum())  # the caller puts the dropout networks first
    p_dropped = p[:dropped].view(-1, 1, 1)
    masks = torch.Generator().manual_seed(runs[0][2])
    l2 = torch.tensor([setting.get("l2", 0.0) for _, setting, _ in runs])
    l1 = torch.tensor([setting.get("l1", 0.0) for _, setting, _ in runs])
    shuffles = [torch.Generator().manual_seed(seed) for _, _, seed in runs]
    rows = torch.arange(k)[:, None]
    f = F.relu if activation == "relu" else F.gelu

    def forward(h, train):
        for layer in range(depth):
            h = f(torch.bmm(h, weights[layer]) + biases[layer])
            # Inverted dropout on the first `dropped` networks. The one mask not drawn by
            # regularization.dropout_mask: a torch mask for stacked networks, each with its
            # own p, from a torch generator (as nn.Dropout draws it in build_mlp's runs).
            if train and dropped:
                keep = torch.rand((dropped, *h.shape[1:]), generator=masks) >= p_dropped
                h = torch.cat([h[:dropped] * keep / (1.0 - p_dropped), h[dropped:]])
        return torch.bmm(h, weights[depth]) + biases[depth]

    n = x.shape[1]
    params = weights + biases
    for _ in range(epochs):
        order = torch.stack([torch.randperm(n, generator=g) for g in shuffles])
        xs, ys = x[rows, order], y[rows, order]
        for start in range(0, n, batch_size):
            scores = forward(xs[:, start : start + batch_size], True)
            target = ys[:, start : start + batch_size]
            # The sum over networks of each one's mean loss: network k's gradient is its own.
            loss = (
                F.cross_entropy(
                    scores.reshape(-1, scores.shape[2]), target.reshape(-1), reduction="none"
                )
                .view(k, -1)
                .mean(dim=1)
                .sum()
            )
            if bool((l2 > 0).any()):
                loss = loss + 0.5 * (l2 * sum((w * w).sum(dim=(1, 2)) for w in weights)).sum()
            if bool((l1 > 0).any()):
                loss = loss + (l1 * sum(w.abs().sum(dim=(1, 2)) for w in weights)).sum()
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for param, grad in zip(params, grads):
                    param.sub_(lr * grad)
    with torch.no_grad():
        train_acc = (forward(x, False).argmax(dim=2) == y).double().mean(dim=1)
        val_scores = forward(x_val.expand(k, -1, -1), False)
        val_acc = (val_scores.argmax(dim=2) == y_val).double().mean(dim=1)
    return train_acc.numpy(), val_acc.numpy()
