"""Chapter 07's gap study: the train/validation gap under each regulariser, over seeds.

:func:`small_digits` makes a small (optionally noisy) training set; :func:`gap_over_seeds`
trains all regularisers and seeds side by side (one stacked weight tensor per layer), the
numbers the notebook prints; :func:`penalty_study` trains one MLP per weight penalty side by
side, the weights of its histograms. Their results (:class:`GapStudy`, :class:`PenaltyStudy`)
are in :mod:`.runs_studies`; :func:`gap_runs`, one MLP per regulariser with
:func:`course_utils.training.train`, is in :mod:`.runs_single`. Penalties are
:func:`course_utils.regularization.torch_penalty`'s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from course_utils.chapters.ch07_regularization.runs_studies import GapStudy, PenaltyStudy
from course_utils.regularization import check_drop_probability
from course_utils.threads import one_thread
from course_utils.validation import (
    MAX_ELEMENTS,
    check_array,
    check_choice,
    check_int,
    check_real,
    check_sequence,
)

__all__ = [
    "small_digits",
    "check_data",
    "check_settings",
    "gap_over_seeds",
    "penalty_study",
]

#: Networks gap_over_seeds trains side by side: 256 MLPs of width 512 fit in about 1 GB.
MAX_NETWORKS = 256
#: Epochs of a gap run: the chapter's runs take 60; 500 is about a minute on 2 cores.
MAX_GAP_EPOCHS = 500


# ------------------------------------------------------------------ experiments on digits
def small_digits(n_train: int, label_noise: float = 0.0, seed: int = 0, data=None):
    """A small training subset of ``data`` (by default :func:`course_utils.data.load_digits`,
    split once with its default seed), the full validation set, and optionally a share
    ``label_noise`` of the training labels replaced by a different random class.

    ``seed`` picks the ``n_train`` examples (a random subset of ``data``'s training split,
    stratification not kept) and the wrong labels; the split itself never changes with the
    seed, so no run is scored on examples another seed trains on.

    Parameters
    ----------
    n_train : int
        From 10 to the size of the training split.
    label_noise : float in [0, 1]
    seed : int
    data : Digits-like or course_utils.data.Dataset, optional
        ``x_train (N, D)``, ``y_train (N,)``, ``x_val (M, D)``, ``y_val (M,)``, labels 0..9
        (e.g. ``load_dataset("cifar10")``).

    Returns
    -------
    course_utils.data.Digits
    """
    from course_utils.data import Digits, load_digits

    data = load_digits() if data is None else check_data(data)
    n_train = check_int("n_train", n_train, 10, len(data.x_train))
    label_noise = check_real("label_noise", label_noise, 0.0, 1.0)
    seed = check_int("seed", seed, 0, 2**32 - 1)
    rng = np.random.default_rng(seed)
    index = rng.permutation(len(data.x_train))[:n_train]
    y = np.asarray(data.y_train)[index].copy()
    k = int(round(label_noise * n_train))
    wrong = rng.choice(n_train, k, replace=False)
    y[wrong] = (y[wrong] + rng.integers(1, 10, k)) % 10  # a different class, never the same
    return Digits(np.asarray(data.x_train)[index], y, data.x_val, data.y_val)


def check_data(data):
    """``data`` if it holds a classification set as :func:`course_utils.data.load_dataset`
    returns it (float ``x_train (N, D)``, int labels ``y_train (N,)`` in 0..9, ``x_val (M,
    D)``, ``y_val (M,)``; digits or CIFAR-10), else ``ValueError`` naming what is wrong."""
    for attr in ("x_train", "y_train", "x_val", "y_val"):
        if not hasattr(data, attr):
            raise ValueError(
                "data must have x_train, y_train, x_val, y_val (as load_dataset returns); "
                f"it has no {attr!r}"
            )
    x = check_array("data.x_train", data.x_train, ndim=2, limit=MAX_ELEMENTS)
    check_array("data.x_val", data.x_val, shape=(None, x.shape[1]), limit=MAX_ELEMENTS)
    for name, y, n in (("data.y_train", data.y_train, len(x)), ("data.y_val", data.y_val, None)):
        y = check_array(name, y, shape=(n,) if n is not None else (None,))
        if y.size and not (np.all(y == np.round(y)) and 0 <= y.min() <= y.max() <= 9):
            raise ValueError(f"{name} must hold integer class labels 0..9")
    if len(data.y_val) != len(data.x_val):
        raise ValueError("data.y_val must have one label per row of data.x_val")
    return data


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
    data=None,
    val_every: int = 0,
    track: Sequence[str] | None = None,
) -> GapStudy:
    r"""Train the same MLP under each regulariser, for every seed at once; the final gaps.

    Parameters
    ----------
    experiments : dict of label_noise -> {name: setting}
        For each share of wrong labels, the runs: ``setting`` as in :func:`~.runs_single.gap_runs`
        (``{}``, ``{"dropout": p}``, ``{"l2": lam}``, ``{"l1": lam}``, both penalties (the
        elastic net) or ``{"max_norm": c}``: after every step, each unit's incoming weight
        vector is scaled back to norm ``c`` if it is longer; keys combine).
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
    data : Digits-like or course_utils.data.Dataset, optional
        The split the small training sets are drawn from and validated on (default: the
        digits, :func:`course_utils.data.load_digits`; ``load_dataset("cifar10")`` works too).
        The split is the same for every seed.
    val_every : int
        Also measure the validation accuracy every ``val_every`` epochs (0: only at the end),
        for early stopping: :attr:`GapStudy.val_history`.
    track : sequence of str, optional
        The regularisers (names in ``experiments``) whose validation accuracy is measured every
        ``val_every`` epochs; default all. Each measurement costs a forward pass of every
        tracked network over the whole validation set.

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
    from course_utils.data import load_digits

    data = load_digits() if data is None else check_data(data)
    n_train = check_int("n_train", n_train, 10, min(len(data.x_train), MAX_ELEMENTS // 3072))
    width = check_int("width", width, 1, 512)
    depth = check_int("depth", depth, 1, 4)
    activation = check_choice("activation", activation, ("relu", "gelu"))
    lr = check_real("lr", lr, 0.0, 10.0, low_open=True)
    epochs = check_int("epochs", epochs, 1, MAX_GAP_EPOCHS)
    batch_size = check_int("batch_size", batch_size, 1, n_train)
    val_every = check_int("val_every", val_every, 0, epochs)
    if track is not None:
        track = check_sequence("track", track, max_len=MAX_NETWORKS, item=lambda n, t: str(t))
    if not isinstance(experiments, dict) or not 1 <= len(experiments) <= MAX_NETWORKS:
        raise ValueError(
            "experiments must be a dict label_noise -> {name: setting} with 1 to "
            f"{MAX_NETWORKS} entries; got {experiments!r:.60}"
        )
    rows, runs = [], []
    for noise, settings in experiments.items():
        check_real(f"the label noise {noise!r} (a key of experiments)", noise, 0.0, 1.0)
        check_settings(f"experiments[{noise!r}]", settings)
        for name, setting in settings.items():
            rows.append((noise, name))
            runs += [(noise, setting, seed) for seed in seeds]
        if len(runs) > MAX_NETWORKS:
            raise ValueError(
                f"experiments x seeds: at most {MAX_NETWORKS} networks at once; got more"
            )
    subsets = {
        (noise, seed): small_digits(n_train, noise, seed, data)
        for noise in experiments
        for seed in seeds
    }
    names = [name for noise, name in rows for _ in seeds]
    stacked = [
        (
            subsets[noise, seed].x_train,
            subsets[noise, seed].y_train,
            setting,
            seed,
            track is None or name in track,
        )
        for (noise, setting, seed), name in zip(runs, names)
    ]
    train_acc, val_acc, _, history = _train_side_by_side(
        stacked, data, width, depth, activation, lr, epochs, batch_size, val_every
    )
    shape = (len(rows), len(seeds))
    settings = dict(
        n_train=n_train,
        n_val=len(data.x_val),
        width=width,
        depth=depth,
        activation=activation,
        lr=lr,
        epochs=epochs,
        batch_size=batch_size,
        optimizer="sgd",
    )
    evaluated = [e for e in range(val_every, epochs, val_every)] if val_every else []
    return GapStudy(
        tuple(rows),
        seeds,
        train_acc.reshape(shape),
        val_acc.reshape(shape),
        settings,
        history.reshape(*shape, -1),
        tuple(evaluated + [epochs]),
    )


def check_settings(what: str, settings, max_norm: bool = True) -> None:
    """Refuse ``settings`` (called ``what`` in messages) with ``ValueError`` unless it is a
    dict of 1 to ``MAX_NETWORKS`` name -> setting, each setting a dict of ``"dropout"`` (a
    drop probability), ``"l1"``, ``"l2"`` (penalties >= 0) and, if ``max_norm``,
    ``"max_norm"`` (> 0): what :func:`gap_over_seeds`, :func:`penalty_study` and
    :func:`~.runs_single.gap_runs` (``max_norm=False``) accept."""
    if not isinstance(settings, dict) or not 1 <= len(settings) <= MAX_NETWORKS:
        raise ValueError(
            f"{what} must be a dict name -> setting with 1 to {MAX_NETWORKS} "
            f"entries; got {settings!r:.60}"
        )
    for name, setting in settings.items():
        _check_setting(name, setting, max_norm)


def _check_setting(name, setting, max_norm: bool = True) -> None:
    if not isinstance(setting, dict):
        raise ValueError(
            f"settings[{name!r}] must be a dict such as {{'dropout': 0.5}}; got {setting!r}"
        )
    allowed = ("dropout", "l1", "l2", "max_norm") if max_norm else ("dropout", "l1", "l2")
    unknown = set(setting) - set(allowed)
    for key, value in setting.items():
        if key == "dropout":
            check_drop_probability(value, f"settings[{name!r}]['dropout']")
        elif key in ("l1", "l2"):
            check_real(f"settings[{name!r}][{key!r}]", value, 0.0)
        elif key == "max_norm":
            check_real(f"settings[{name!r}]['max_norm']", value, 0.0, low_open=True)
    if unknown:
        raise ValueError(
            f"settings[{name!r}] has unknown keys {sorted(unknown)}; allowed: " + ", ".join(allowed)
        )


def _train_side_by_side(runs, data, width, depth, activation, lr, epochs, batch_size, val_every=0):
    """:func:`_stacked_sgd` on one thread, dropout networks first (one mask draw for all of
    them), results back in the order of ``runs``: (train_acc, val_acc, weights, history)."""
    from course_utils.training import single_torch_thread

    runs = [run if len(run) == 5 else (*run, True) for run in runs]  # (x, y, setting, seed, track)
    order = sorted(range(len(runs)), key=lambda i: runs[i][2].get("dropout", 0.0) == 0)
    with one_thread(), single_torch_thread():  # small products: one thread is fastest
        train_acc, val_acc, weights, history = _stacked_sgd(
            [runs[i] for i in order],
            data,
            width,
            depth,
            activation,
            lr,
            epochs,
            batch_size,
            val_every,
        )
    back = np.argsort(order)
    weights = [[w[i] for w in weights] for i in back]  # per run: its layers, (in, out)
    return train_acc[back], val_acc[back], weights, history[back]


def _stacked_sgd(runs, data, width, depth, activation, lr, epochs, batch_size, val_every=0):
    """Train one MLP per ``(x_train, y_train, setting, seed, track)`` in ``runs``, in one loop.

    Returns (train_acc, val_acc), arrays of len(runs), the final weights, one float64
    array (K, in, out) per layer, and the validation accuracy every ``val_every`` epochs
    (the networks with ``track`` true; NaN for the others) and at the end, (K, evaluations).
    """
    import torch
    import torch.nn.functional as F

    from course_utils.training import build_mlp

    k = len(runs)
    x = torch.stack([torch.as_tensor(x, dtype=torch.float32) for x, *_ in runs])  # (K, n, D)
    y = torch.stack([torch.as_tensor(y, dtype=torch.int64) for _, y, *_ in runs])
    x_val = torch.as_tensor(data.x_val, dtype=torch.float32)
    y_val = torch.as_tensor(np.asarray(data.y_val), dtype=torch.int64)
    # Weights as (K, in, out) and biases as (K, 1, out), copied from build_mlp(seed=s).
    layers = [([], []) for _ in range(depth + 1)]
    for _, _, _, seed, _ in runs:
        model = build_mlp(
            x.shape[2], 10, depth=depth, width=width, activation=activation, seed=seed
        )
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        for (ws, bs), m in zip(layers, linears):
            ws.append(m.weight.detach().T.clone())
            bs.append(m.bias.detach()[None].clone())
    weights = [torch.stack(ws).requires_grad_() for ws, _ in layers]
    biases = [torch.stack(bs).requires_grad_() for _, bs in layers]
    settings = [run[2] for run in runs]
    tracked = torch.tensor([bool(run[4]) for run in runs])
    p = torch.tensor([float(setting.get("dropout", 0.0)) for setting in settings])
    dropped = int((p > 0).sum())  # the caller puts the dropout networks first
    p_dropped = p[:dropped].view(-1, 1, 1)
    masks = torch.Generator().manual_seed(runs[0][3])
    l2 = torch.tensor([setting.get("l2", 0.0) for setting in settings])
    l1 = torch.tensor([setting.get("l1", 0.0) for setting in settings])
    max_norm = torch.tensor([setting.get("max_norm", math.inf) for setting in settings])
    max_norm = max_norm.view(-1, 1, 1)
    shuffles = [torch.Generator().manual_seed(run[3]) for run in runs]
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
    constrained = bool(torch.isfinite(max_norm).any())
    history = []

    def validate(only=None):
        """Validation accuracy of every network, or of the networks ``only`` (NaN elsewhere)."""
        with torch.no_grad():
            if only is None:
                scores = forward(x_val.expand(k, -1, -1), False)
                return (scores.argmax(dim=2) == y_val).double().mean(dim=1)
            h = x_val.expand(len(only), -1, -1)
            for layer in range(depth):
                h = f(torch.bmm(h, weights[layer][only]) + biases[layer][only])
            scores = torch.bmm(h, weights[depth][only]) + biases[depth][only]
            acc = torch.full((k,), float("nan"), dtype=torch.float64)
            acc[only] = (scores.argmax(dim=2) == y_val).double().mean(dim=1)
            return acc

    only = torch.nonzero(tracked).flatten()

    for epoch in range(epochs):
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
                if constrained:  # max-norm: each unit's incoming weights back onto the ball
                    for w in weights:
                        norms = w.norm(dim=1, keepdim=True)  # (K, 1, out)
                        w.mul_(torch.clamp(max_norm / norms.clamp_min(1e-30), max=1.0))
        if val_every and (epoch + 1) % val_every == 0 and epoch + 1 < epochs:
            history.append(validate(only).numpy())
    with torch.no_grad():
        train_acc = (forward(x, False).argmax(dim=2) == y).double().mean(dim=1)
    val_acc = validate().numpy()
    history.append(val_acc)
    final = [w.detach().double().numpy() for w in weights]
    return train_acc.numpy(), val_acc, final, np.stack(history, axis=1)


# ------------------------------------------------------------------ penalties side by side
def penalty_study(
    settings: dict,
    data=None,
    width: int = 64,
    lr: float = 0.1,
    epochs: int = 5,
    batch_size: int = 64,
    seed: int = 0,
) -> PenaltyStudy:
    r"""Train the same one-hidden-layer ReLU MLP under each weight penalty, side by side.

    Every run starts from the same weights (``build_mlp(seed=seed)``), sees the same
    minibatches (``train(seed=seed)``'s order) and takes plain SGD steps on the mean
    cross-entropy plus its penalty: the step :func:`course_utils.training.train` makes with
    ``penalty=torch_penalty(kind, lam)`` (the tests compare them), all runs in one loop.

    Parameters
    ----------
    settings : dict of name -> setting
        ``{}`` (no penalty), ``{"l2": lam}`` (:math:`\frac{\lambda}{2}\lVert W\rVert^2`),
        ``{"l1": lam}`` (:math:`\lambda\sum|W|`), both (the elastic net, Zou & Hastie 2005),
        ``{"max_norm": c}`` (after each step every unit's incoming weight vector is scaled
        back to norm ``c`` if longer; Srivastava et al., JMLR 2014, sec. 5.1); ``"dropout"``
        is allowed too.
    data : Digits-like or course_utils.data.Dataset, optional
        Default: the digits (:func:`course_utils.data.load_digits`).
    width, lr, epochs, batch_size, seed
        The MLP (64 -> width -> 10 for the digits) and plain SGD.

    Returns
    -------
    PenaltyStudy
    """
    from course_utils.data import load_digits

    data = load_digits() if data is None else check_data(data)
    check_settings("settings", settings)
    width = check_int("width", width, 1, 512)
    lr = check_real("lr", lr, 0.0, 10.0, low_open=True)
    epochs = check_int("epochs", epochs, 1, MAX_GAP_EPOCHS)
    batch_size = check_int("batch_size", batch_size, 1, len(data.x_train))
    seed = check_int("seed", seed, 0, 2**32 - 1)
    if len(settings) * len(data.x_train) * data.x_train.shape[1] > MAX_ELEMENTS:
        raise ValueError(
            f"settings x training set: at most {MAX_ELEMENTS:,} stacked inputs; "
            f"use fewer settings or a smaller data set"
        )
    runs = [(data.x_train, data.y_train, setting, seed) for setting in settings.values()]
    train_acc, val_acc, weights, _ = _train_side_by_side(
        runs, data, width, 1, "relu", lr, epochs, batch_size
    )
    names = tuple(settings)
    return PenaltyStudy(
        names,
        {name: [w.T.copy() for w in ws] for name, ws in zip(names, weights)},
        dict(zip(names, map(float, train_acc))),
        dict(zip(names, map(float, val_acc))),
        dict(width=width, lr=lr, epochs=epochs, batch_size=batch_size, seed=seed),
    )
