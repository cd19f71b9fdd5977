"""Train one network per seed, all seeds at once: statistics over runs at the cost of one.

Shared by chapters 08 and 09 (one run's exact decimals are an accident of its seed and of
the CPU's rounding; what holds over seeds, median and range, is what the notebooks print):

- :func:`train_seeds` -> :class:`SeedRuns`: S networks stacked, batched matrix products,
  every step's loss and update-to-weight ratio recorded;
- :func:`train_settings`: several settings (learning rates, initialisations) in one loop,
  each with the numbers of its own :func:`train_seeds` call (the loop: ``_seed_loop``);
- :data:`BASE_RUN`, :func:`base_model`: the MLP it trains by default (chapter 09's runs);
- :func:`median_range`: ``"median (min to max)"`` of a number over seeds.

What it shares with chapter 06's float64 runner (each seed's minibatch order) is in
:mod:`course_utils.stacked`.

The lean SGD the chapters' single runs train with is in :mod:`course_utils.lean_sgd`
(``LeanSGD`` and ``lean_optimizer`` are importable from here too, as chapter 09 does).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from course_utils._seed_loop import train_groups, train_stacked
from course_utils.lean_sgd import LeanSGD, lean_optimizer  # noqa: F401 - ch09 imports them here
from course_utils.monitoring import linear_layers
from course_utils.training import single_torch_thread as one_torch_thread  # one copy
from course_utils.validation import (
    MAX_SEED,
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_mapping,
    check_real,
    check_sequence,
)

__all__ = [
    "BASE_RUN",
    "base_model",
    "SEEDS",
    "SeedRuns",
    "train_seeds",
    "train_settings",
    "median_range",
    "one_torch_thread",
    "MAX_SEED_STEPS",
    "MAX_SEEDS",
]

#: Seeds times steps of one :func:`train_seeds` call: 2,000,000 small-MLP steps are about a
#: minute on 2 cores, and the recorded losses and ratios (S x T x L float64) stay ~100 MB.
MAX_SEED_STEPS = 2_000_000
#: Seeds of one :func:`train_seeds` call: the statistics need ten; 200 networks stacked still
#: fit in memory for the course's MLPs.
MAX_SEEDS = 200

#: The network and training settings shared by :data:`DIAGNOSES`.
BASE_RUN = dict(
    depth=4,
    width=64,
    activation="relu",
    init="kaiming",
    std=None,
    optimizer="momentum",
    batch_size=64,
    epochs=8,
    seed=0,
)


def _check_data(data, name: str = "data"):
    """``data`` as (x_train, y_train, x_val, y_val) tensors, checked by training's rules: an
    object with those four arrays, x finite (N, D), y (N,)."""
    from course_utils.training import check_data  # the one check of a data set (training.train's)

    try:
        return check_data(data)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


def base_model(data, **settings):
    """:data:`BASE_RUN`'s MLP for ``data`` (input size and classes from it), with any of
    ``depth, width, activation, init, std, seed`` changed (other keys are ignored)."""
    unknown = set(settings) - set(BASE_RUN) - {"lr"}
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; allowed: lr, {', '.join(BASE_RUN)}")
    _check_data(data)
    return _base_model(data, {**BASE_RUN, **settings})


def _base_model(data, s: dict):
    """:func:`base_model` of checked ``data`` and complete settings ``s``."""
    from course_utils.training import build_mlp

    features = np.shape(data.x_train)[1]
    num_classes = getattr(data, "num_classes", None) or int(np.max(data.y_train)) + 1
    return build_mlp(
        features,
        num_classes,
        s["depth"],
        s["width"],
        s["activation"],
        init=s["init"],
        std=s["std"],
        seed=s["seed"],
    )


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
    dead_share : ndarray, shape (S, E, L - 1)
        At each evaluation, the share of each hidden layer's units whose output is 0 for every
        validation example (for ReLU: dead on the validation set); NaN after divergence.
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
    dead_share: np.ndarray | None = None

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

        i = check_int("i", i, 0, len(self.seeds) - 1)
        stop = int(self.diverged_at[i]) or self.step_loss.shape[1]
        evals = self.eval_step < stop if self.diverged_at[i] else np.ones(len(self.eval_step), bool)
        h = History(
            step_loss=self.step_loss[i, :stop].tolist(),
            lr=[float(self.settings["lr"])] * stop,
            eval_step=self.eval_step[evals].tolist(),
            train_loss=self.train_loss[i, evals].tolist(),
            train_acc=self.train_acc[i, evals].tolist(),
            val_loss=self.val_loss[i, evals].tolist(),
            val_acc=self.val_acc[i, evals].tolist(),
        )
        h.end(diverged_at=stop if self.diverged_at[i] else None)
        return h

    def median_ratios(self, skip: int = 0) -> np.ndarray:
        """Per seed and layer, the median ratio over the steps after the first ``skip`` (the
        steps a run took; a diverged run's last, NaN, step excluded): shape (S, L)."""
        skip = check_int("skip", skip, 0, self.ratios.shape[1] - 1)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: diverged before skip
            return np.nanmedian(self.ratios[:, skip:, :], axis=1)


def _stack(data_per_seed, name, dtype):
    arrays = [np.asarray(getattr(d, name)) for d in data_per_seed]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(
            f"every seed's data must have the same shapes; {name} has {sorted(shapes)}"
        )
    return np.stack(arrays).astype(dtype)


def train_seeds(
    data,
    seeds=SEEDS,
    lr: float = 0.01,
    optimizer: str = "momentum",
    batch_size: int | None = 64,
    epochs: int = 8,
    eval_every=None,
    build=None,
    **network,
) -> SeedRuns:
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
    p = _prepare(data, seeds, lr, optimizer, batch_size, epochs, eval_every, build, network)
    out = train_stacked(
        *p["tensors"],
        p["models"],
        p["seeds"],
        [(0, len(p["seeds"]), p["lr"])],
        optimizer,
        p["batch"],
        p["epochs"],
        p["eval_every"],
    )
    return _seed_runs(out, p["seeds"], p["settings"], p["models"])


def _prepare(data, seeds, lr, optimizer, batch_size, epochs, eval_every, build, network) -> dict:
    """:func:`train_seeds`'s arguments checked; the data stacked (one copy per seed) and the
    networks built, for :func:`train_stacked`."""
    import torch

    from course_utils.training import MAX_LR

    seeds = tuple(
        check_sequence(
            "seeds", seeds, lambda name, s: check_int(name, s, 0, MAX_SEED), max_len=MAX_SEEDS
        )
    )
    lr = check_real("lr", lr, 0.0, MAX_LR, low_open=True)
    check_choice("optimizer", optimizer, ("sgd", "momentum"))
    epochs = check_int("epochs", epochs, 1, 10_000)
    if eval_every is not None and eval_every != "end":
        eval_every = check_int("eval_every", eval_every, 1, MAX_SEED_STEPS)
    unknown = set(network) - {"depth", "width", "activation", "init", "std"}
    if unknown:
        raise ValueError(
            f"unknown settings {sorted(unknown)}; allowed: depth, width, activation, init, std"
        )
    per_seed = list(data) if isinstance(data, (list, tuple)) else [data] * len(seeds)
    if len(per_seed) != len(seeds):
        raise ValueError(f"data gives {len(per_seed)} data sets for {len(seeds)} seeds")
    for i, d in enumerate(per_seed[:1] if not isinstance(data, (list, tuple)) else per_seed):
        _check_data(d, f"data[{i}]" if isinstance(data, (list, tuple)) else "data")
    shared = not isinstance(data, (list, tuple))  # one copy, seen by every seed
    xt, yt, xv, yv = (
        torch.from_numpy(_stack(per_seed[:1] if shared else per_seed, name, dtype)).expand(
            len(seeds), -1, *([-1] * (name[0] == "x"))
        )
        for name, dtype in (
            ("x_train", np.float32),
            ("y_train", np.int64),
            ("x_val", np.float32),
            ("y_val", np.int64),
        )
    )
    S, n = xt.shape[:2]
    batch = n if batch_size is None else check_int("batch_size", batch_size, 1, MAX_SEED_STEPS)
    steps_per_epoch = math.ceil(n / batch)
    total = epochs * steps_per_epoch
    if total * S > MAX_SEED_STEPS:
        raise ValueError(
            f"{len(seeds)} seeds of {total} steps is too much; at most "
            f"{MAX_SEED_STEPS:,} seed-steps"
        )
    settings = {"lr": lr, "optimizer": optimizer, "batch_size": batch_size, "epochs": epochs}
    if build is None:
        arch = {
            k: network.get(k, BASE_RUN[k]) for k in ("depth", "width", "activation", "init", "std")
        }
        settings.update(arch)
        models = [_base_model(d, {**arch, "seed": s}) for d, s in zip(per_seed, seeds)]
    elif network:
        raise ValueError(f"give either build or network settings, not both; got {sorted(network)}")
    elif not callable(build):
        raise ValueError(f"build must be a function seed -> model; got {build!r}")
    else:
        models = [build(s) for s in seeds]
    if any(not isinstance(m, torch.nn.Sequential) for m in models):
        raise ValueError("each model must be a torch.nn.Sequential (training.build_mlp)")
    linear = [list(linear_layers(m).values()) for m in models]
    features, classes = linear[0][0].in_features, linear[0][-1].out_features
    if xt.shape[2] != features or xv.shape[2] != features:
        raise ValueError(
            f"x_train and x_val must have {features} features (the model's input); "
            f"got {xt.shape[2]} and {xv.shape[2]}"
        )
    for name, y in (("y_train", yt), ("y_val", yv)):
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= classes):
            raise ValueError(
                f"{name} must hold class indices 0 to {classes - 1} (the model's "
                f"outputs); got {int(y.min())} to {int(y.max())}"
            )
    others = [m for m in models[0] if not isinstance(m, torch.nn.Linear)]
    if len(others) != len(linear[0]) - 1 or any(
        isinstance(m, (torch.nn.Dropout, torch.nn.modules.batchnorm._BatchNorm)) for m in others
    ):
        raise ValueError(
            "each model must be a torch.nn.Sequential of Linear layers, each but "
            "the last followed by one activation (no Batch Norm, no dropout)"
        )
    return dict(
        seeds=seeds,
        tensors=(xt, yt, xv, yv),
        models=models,
        lr=lr,
        batch=batch,
        epochs=epochs,
        eval_every=eval_every,
        settings=settings,
    )


def train_settings(
    data,
    settings: dict,
    seeds=SEEDS,
    optimizer: str = "momentum",
    batch_size: int | None = 64,
    epochs: int = 8,
    eval_every=None,
) -> dict:
    """:func:`train_seeds` for several settings in one loop: ``{name: SeedRuns}``.

    ``settings`` maps a name to a dict with ``lr`` and any of ``depth, width, activation,
    init, std`` (e.g. chapter 09's ``DIAGNOSES``); the networks of every setting and seed are
    stacked and trained side by side, each setting with its own rate and taking the steps of
    ``train_seeds(data, seeds, **setting, optimizer=..., ...)`` (the same operations on its
    slice of the stack: the same numbers, at the cost of one loop, split over two cores
    where the machine has them; only a setting whose every
    run diverged is evaluated on, NaN, at the others' evaluation steps, where alone its loop
    would have ended). All settings must give networks of one shape (``depth``, ``width``).
    ``data`` is shared by all of them.
    """
    import torch

    check_mapping("settings", settings, dict, "a dict of training settings", MAX_SEEDS)
    if not settings:
        raise ValueError("settings must name at least one setting")
    names = list(settings)
    models, groups, kept, prepared = [], [], {}, None
    for name in names:
        setting = dict(settings[name])
        if "lr" not in setting:
            raise ValueError(f"settings[{name!r}] must give lr, the learning rate")
        lr = setting.pop("lr")
        prepared = _prepare(
            data, seeds, lr, optimizer, batch_size, epochs, eval_every, None, setting
        )
        built = prepared["models"]
        if models and [tuple(p.shape) for p in models[0].parameters()] != [
            tuple(p.shape) for p in built[0].parameters()
        ]:
            raise ValueError("every setting must give networks of one shape (depth, width)")
        kept[name] = prepared["settings"]
        groups.append((len(models), len(models) + len(built), prepared["lr"]))
        models.extend(built)
    seeds, k = prepared["seeds"], len(names)
    if len(models) > MAX_SEEDS:
        raise ValueError(
            f"{k} settings of {len(seeds)} seeds is too many networks; at most {MAX_SEEDS}"
        )
    steps = prepared["epochs"] * math.ceil(prepared["tensors"][0].shape[1] / prepared["batch"])
    if steps * len(models) > MAX_SEED_STEPS:
        raise ValueError(
            f"{len(models)} networks of {steps} steps is too much; at most "
            f"{MAX_SEED_STEPS:,} network-steps"
        )
    out = train_groups(
        [
            t[:1].expand(len(models), *t.shape[1:]) if t.stride(0) == 0 else torch.cat([t] * k)
            for t in prepared["tensors"]
        ],
        models,
        seeds * k,
        groups,
        optimizer,
        prepared["batch"],
        prepared["epochs"],
        prepared["eval_every"],
    )
    return {
        name: _seed_runs(out, seeds, kept[name], models[a:b], slice(a, b))
        for name, (a, b, _) in zip(names, groups)
    }


def _seed_runs(out: dict, seeds, settings, models, part=slice(None)) -> SeedRuns:
    """The networks ``part`` of :func:`train_stacked`'s result as a :class:`SeedRuns`."""
    return SeedRuns(
        tuple(seeds),
        out["step_loss"][part],
        out["eval_step"],
        out["train_loss"][part],
        out["train_acc"][part],
        out["val_loss"][part],
        out["val_acc"][part],
        out["ratios"][part],
        out["diverged_at"][part],
        settings,
        tuple(models),
        out["dead_share"][part],
    )


def median_range(values, fmt: str = ".2f", percent: bool = False) -> str:
    """``"median (min to max)"`` of ``values`` over seeds, NaN left out (``"-"`` if none).

    Parameters
    ----------
    values : array-like, shape (S,)
    fmt : str
        A format spec for each of the three numbers (``".2f"``, ``".0f"``, ``".1e"``).
    percent : bool
        Show ``100 * value`` followed by ``%``.
    """
    v = check_array("values", values, finite=False, min_size=0).ravel()
    percent = check_bool("percent", percent)
    if not isinstance(fmt, str):
        raise ValueError(f"fmt must be a format spec such as '.2f'; got {fmt!r}")
    v = v[~np.isnan(v)]
    if v.size == 0:
        return "-"
    scale, unit = (100.0, "%") if percent else (1.0, "")
    med, lo, hi = (scale * float(f(v)) for f in (np.median, np.min, np.max))
    return f"{med:{fmt}}{unit} ({lo:{fmt}}{unit} to {hi:{fmt}}{unit})"
