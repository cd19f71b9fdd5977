"""The loop of :func:`course_utils.seed_runs.train_seeds` and ``train_settings``: N small MLPs
stacked, trained side by side with batched matrix products, every step recorded.

The N networks form consecutive *groups* (one per setting, each with its own learning rate).
Every network takes exactly the steps it would take alone (the same operations on its slice
of the stacked weights, whatever the other networks of its stack or group do, diverging
included), so training several settings at once gives each the numbers of its own call, at
the cost of one loop, and the loop can be split over cores anywhere.
"""

from __future__ import annotations

import numpy as np

from course_utils.stacked import minibatch_orders
from course_utils.training import single_torch_thread as one_torch_thread

__all__ = [
    "train_stacked",
    "train_groups",
    "EVAL_CHUNK",
]  # internal: seed_runs checks the arguments

#: Examples evaluated at once (all networks side by side): their activations fit the CPU's
#: cache. Fixed, so each network's numbers are the same in any company (on some CPUs a
#: product's rounding depends on how many rows it has).
EVAL_CHUNK = 128


def train_stacked(
    x_train, y_train, x_val, y_val, models, seeds, groups, optimizer, batch, epochs, eval_every
) -> dict:
    """Train ``models`` (N ``nn.Sequential`` MLPs, already checked) side by side.

    Parameters
    ----------
    x_train, y_train, x_val, y_val : torch tensors, shape (N, n, D), (N, n), (N, m, D), (N, m)
    models : list of N torch.nn.Sequential (Linear layers, one activation between them)
    seeds : tuple of N int: network ``i`` visits the minibatches in ``train``'s order for seed
        ``seeds[i]``
    groups : list of (start, stop, lr): consecutive slices of the N networks and their rates
    optimizer : {"sgd", "momentum"}
    batch, epochs : int
    eval_every : None (every epoch), int (steps) or "end"

    Returns
    -------
    dict with ``step_loss`` (N, T), ``eval_step`` (E,), ``train_loss``, ``train_acc``,
    ``val_loss``, ``val_acc`` (N, E), ``ratios`` (N, T, L), ``diverged_at`` (N,) and
    ``dead_share`` (N, E, L - 1), as :class:`~course_utils.seed_runs.SeedRuns` holds them; the
    models hold the trained weights.
    """
    import torch
    import torch.nn.functional as F

    from course_utils.monitoring import linear_layers

    xt, yt, xv, yv = x_train, y_train, x_val, y_val
    S, n = xt.shape[:2]
    total = epochs * -(-n // batch)
    linear = [list(linear_layers(m).values()) for m in models]
    act = next((m for m in models[0] if not isinstance(m, torch.nn.Linear)), None)
    with torch.no_grad():
        weights = [
            torch.stack([ls[k].weight.T for ls in linear]).contiguous()
            for k in range(len(linear[0]))
        ]  # (S, in, out)
        biases = [
            torch.stack([ls[k].bias for ls in linear])[:, None, :].contiguous()
            for k in range(len(linear[0]))
        ]  # (S, 1, out)
    params = [p.requires_grad_() for pair in zip(weights, biases) for p in pair]
    lr_column = torch.zeros(S, dtype=torch.float32)
    for start, stop, lr in groups:
        lr_column[start:stop] = lr

    def forward(x, silent=None):
        h = x
        for k, (w, b) in enumerate(zip(weights, biases)):
            h = torch.baddbmm(b, h, w)
            if k < len(weights) - 1:
                h = act(h)
                if silent is not None:  # units silent on every example so far: (S, units)
                    zero = (h == 0).all(1)
                    silent[k] = zero if k >= len(silent) or silent[k] is None else silent[k] & zero
        return h

    # Evaluated EVAL_CHUNK examples at a time, whatever the number of networks: their
    # activations stay in the cache, and a network's numbers do not depend on the others.
    chunk = EVAL_CHUNK

    def evaluate(x, y, dead=None):
        silent = [None] * (len(weights) - 1) if dead is not None else None
        losses, hits = [], []
        with torch.no_grad():
            for start in range(0, x.shape[1], chunk):
                scores = forward(x[:, start : start + chunk], silent)
                part = y[:, start : start + chunk]
                losses.append(
                    F.cross_entropy(scores.flatten(0, 1), part.flatten(), reduction="none").view(
                        S, -1
                    )
                )
                hits.append(scores.argmax(-1) == part)
            loss = torch.cat(losses, 1).double().mean(1)
            acc = torch.cat(hits, 1).double().mean(1)
        if dead is not None:  # per hidden layer, the share of units silent on every example
            dead.extend(z.double().mean(1).numpy() for z in silent)
        return loss.numpy(), acc.numpy()

    L = len(weights)
    nan = float("nan")
    step_loss = torch.full((total, S), nan, dtype=torch.float64)
    ratios = torch.full((total, L, S), nan, dtype=torch.float64)
    evals, tl, ta, vl, va, ds = [], [], [], [], [], []
    diverged_at = torch.zeros(S, dtype=torch.int64)
    alive = torch.ones(S, dtype=torch.bool)

    def record(step):
        loss_t, acc_t = evaluate(xt, yt)
        silent = []
        loss_v, acc_v = evaluate(xv, yv, silent)
        dead = ~alive.numpy()
        for arr, values in ((tl, loss_t), (ta, acc_t), (vl, loss_v), (va, acc_v)):
            arr.append(np.where(dead, np.nan, values))
        ds.append(
            np.where(dead[:, None], np.nan, np.stack(silent, 1) if silent else np.zeros((S, 0)))
        )
        evals.append(step)

    def apply(updates):
        """``W <- W + (-lr) * update`` for every network, as it would be alone: the same
        operation whether or not other networks of its group diverged, whose weights stay as
        they were (their update is 0: ``W + (-lr) * 0`` is ``W``, bit for bit)."""
        for start, stop, lr in groups:
            part = slice(start, stop)
            keep = alive[part]
            if bool(keep.all()):
                moves = [u[part] for u in updates]
            elif bool(keep.any()):
                moves = [
                    torch.where(keep.view(-1, *([1] * (u.ndim - 1))), u[part], 0.0) for u in updates
                ]
            else:
                continue
            torch._foreach_add_([p[part] for p in params], moves, alpha=-lr)

    rows = torch.arange(S)[:, None]
    buffers = None
    with one_torch_thread():
        record(0)
        step = 0
        for order in minibatch_orders(seeds, n, epochs):
            for start in range(0, n, batch):
                picked = order[:, start : start + batch]  # each seed's order, as train's
                scores = forward(xt[rows, picked])
                loss = (
                    F.cross_entropy(
                        scores.flatten(0, 1),
                        yt[rows, picked].flatten(),
                        reduction="none",
                    )
                    .view(S, -1)
                    .mean(1)
                )
                value = loss.detach()
                step_loss[step] = torch.where(alive, value.double(), nan)
                step += 1
                bad = alive & ~torch.isfinite(value)
                if bool(bad.any()):  # as train(): a NaN or inf loss ends that network's run
                    diverged_at[bad] = step
                    alive &= ~bad
                    if not bool(alive.any()):
                        break
                everyone = bool(alive.all())
                objective = loss.sum() if everyone else torch.where(alive, loss, 0.0).sum()
                grads = torch.autograd.grad(objective, params)
                with torch.no_grad():
                    if optimizer == "sgd":
                        updates = grads
                    elif buffers is None:
                        updates = buffers = [g.clone() for g in grads]
                    else:
                        torch._foreach_mul_(buffers, 0.9)
                        torch._foreach_add_(buffers, grads)
                        updates = buffers
                    # ||ΔW|| / ||W|| with ΔW = -lr * update and W before the step
                    ratios[step - 1] = torch.where(
                        alive,
                        torch.stack(
                            [
                                lr_column
                                * torch.linalg.vector_norm(u, dim=(1, 2))
                                / torch.linalg.vector_norm(w, dim=(1, 2))
                                for u, w in zip(updates[0::2], weights)
                            ]
                        ).double(),
                        nan,
                    )
                    apply(updates)
                if isinstance(eval_every, int) and step % eval_every == 0:
                    record(step)
            if not bool(alive.any()):
                break
            if eval_every is None:
                record(step)
        if eval_every == "end" or evals[-1] != step:
            record(step)  # the last step is always evaluated
    with torch.no_grad():  # the trained weights, back into one nn.Module per network
        for i, layers in enumerate(linear):
            for layer, w, b in zip(layers, weights, biases):
                layer.weight.copy_(w[i].T)
                layer.bias.copy_(b[i, 0])
    return dict(
        step_loss=step_loss.T.numpy(),
        eval_step=np.array(evals, dtype=np.int64),
        train_loss=np.array(tl).T,
        train_acc=np.array(ta).T,
        val_loss=np.array(vl).T,
        val_acc=np.array(va).T,
        ratios=ratios.permute(2, 0, 1).numpy(),
        diverged_at=diverged_at.numpy(),
        dead_share=np.stack(ds, 1),
    )


def _cores() -> int:
    """CPU cores this process may use."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _halves(groups) -> list:
    """The networks of ``groups`` cut in two halves, ``[(0, cut), (cut, total)]`` (one part
    for a single network). A network's numbers do not depend on the others of its stack or
    group, so the cut may split a group."""
    total = groups[-1][1]
    if total < 2:
        return [(0, total)]
    cut = (total + 1) // 2
    return [(0, cut), (cut, total)]


def _merge(outs: list) -> dict:
    """One :func:`train_stacked` result from those of consecutive parts of the networks.

    The parts' networks are independent, so each part has the numbers it would have had in
    one stack; only the evaluation steps differ when a part's every network diverged (its
    loop ended there). Together, the loop runs as long as its longest part, and evaluates
    when that part does: a part that ended earlier is NaN at those later steps (as every
    diverged network is), and its own last evaluation, at the step where it ended, is all
    NaN and left out.
    """
    steps = max((o["eval_step"] for o in outs), key=lambda s: s[-1])
    merged = {
        key: np.concatenate([o[key] for o in outs])
        for key in ("step_loss", "ratios", "diverged_at")
    }
    merged["eval_step"] = steps
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "dead_share"):
        parts = []
        for o in outs:
            own = {int(s): i for i, s in enumerate(o["eval_step"])}
            values = o[key]
            part = np.full((values.shape[0], len(steps), *values.shape[2:]), np.nan)
            for j, s in enumerate(steps):
                if int(s) in own:
                    part[:, j] = values[:, own[int(s)]]
            left_out = [i for s, i in own.items() if s not in set(steps.tolist())]
            if not np.isnan(values[:, left_out]).all():  # by construction; never silently
                raise RuntimeError("a part's evaluation outside the merged steps is not NaN")
            parts.append(part)
        merged[key] = np.concatenate(parts)
    return merged


def train_groups(tensors, models, seeds, groups, optimizer, batch, epochs, eval_every) -> dict:
    """:func:`train_stacked` with its networks split over the machine's cores (at most two).

    Each core trains half of the networks on one torch thread (a network's numbers do not
    depend on the other networks of its stack or group, so a group may be cut); the results
    are merged as one stack would have given them. One core: :func:`train_stacked` itself.
    """
    parts = _halves(groups) if _cores() >= 2 else [(0, len(models))]

    def run(start, stop):
        sub = [
            (max(a, start) - start, min(b, stop) - start, lr)
            for a, b, lr in groups
            if max(a, start) < min(b, stop)
        ]
        return train_stacked(
            *(t[start:stop] for t in tensors),
            models[start:stop],
            tuple(seeds[start:stop]),
            sub,
            optimizer,
            batch,
            epochs,
            eval_every,
        )

    if len(parts) == 1:
        return run(*parts[0])
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(parts) - 1) as pool:
        others = [pool.submit(run, *part) for part in parts[1:]]
        first = run(*parts[0])  # this thread takes the first part
        return _merge([first] + [f.result() for f in others])
