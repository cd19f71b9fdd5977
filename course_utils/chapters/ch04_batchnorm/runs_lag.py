"""Chapter 04's running-statistics lag, trained side by side.

:func:`_train_bn_stack` trains S copies of :func:`~.runs_training.bad_init_mlp` with Batch
Norm (each its own init std and seed) by plain SGD in one loop: one stacked weight tensor per
layer, ``torch.bmm``, the minibatches :func:`course_utils.training.train` visits for each
seed, and Batch Norm's running statistics kept as ``torch.nn.BatchNorm1d`` keeps them
(momentum 0.1, unbiased running variance). A unit test checks one network against ``train``.
:func:`~.runs_training.running_stats_lag` uses it: 16 runs at once instead of 16 calls of
``train``, a third of the time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils.batchnorm import EPS

__all__: list = []  # used by runs_training.running_stats_lag only

#: torch.nn.BatchNorm1d's default: the weight of the new batch in the running averages.
MOMENTUM = 0.1


@dataclass(frozen=True)
class _BnStack:
    """What :func:`_train_bn_stack` measured, one entry per network."""

    steps: int  #: training steps taken (the same for every network)
    val_acc: np.ndarray  #: (S,) eval mode with the running statistics
    recalibrated_acc: np.ndarray  #: (S,) eval mode with statistics of the whole training set
    running_var: list  #: per BN layer, (S, width): the running variance training left
    true_var: list  #: per BN layer, (S, width): the unbiased variance over the training set
    diverged: np.ndarray  #: (S,) bool: a minibatch loss was not finite


def _stack(models):
    """Per BN block (W (S, in, out), gamma (S, 1, out), beta (S, 1, out)), then the output
    layer's W (S, in, 10) and bias (S, 1, 10), copied from ``models``."""
    import torch

    per_model = []
    for model in models:
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        norms = [m for m in model if isinstance(m, torch.nn.BatchNorm1d)]
        if len(norms) != len(linears) - 1 or any(m.bias is not None for m in linears[:-1]):
            raise ValueError("models must be Linear(bias=False) + BatchNorm1d blocks, then Linear")
        params = []
        for lin, bn in zip(linears[:-1], norms):
            params += [lin.weight.T, bn.weight[None], bn.bias[None]]
        params += [linears[-1].weight.T, linears[-1].bias[None]]
        per_model.append([p.detach().clone() for p in params])
    return [torch.stack(group).requires_grad_() for group in zip(*per_model)]


def _forward(params, x, stats=None, running=None):
    """Scores (S, B, 10). Batch Norm normalises with the batch's statistics, or with ``stats``
    [(mean, var) per layer] if given; ``running`` [(mean, var)] is updated in place from the
    batch (momentum 0.1, unbiased variance) and the batch's (mean, unbiased var) returned."""
    import torch

    h, seen = x, []
    depth = (len(params) - 2) // 3
    for layer in range(depth):
        w, gamma, beta = params[3 * layer : 3 * layer + 3]
        z = torch.bmm(h, w)
        if stats is None:
            mean = z.mean(1, keepdim=True)
            centred = z - mean
            var = (centred * centred).mean(1, keepdim=True)  # biased, as BN normalises
            n = z.shape[1]
            unbiased = var.detach() * (n / max(n - 1, 1))
            seen.append((mean.detach(), unbiased))
            if running is not None:
                r_mean, r_var = running[layer]
                r_mean.mul_(1 - MOMENTUM).add_(mean.detach(), alpha=MOMENTUM)
                r_var.mul_(1 - MOMENTUM).add_(unbiased, alpha=MOMENTUM)
        else:
            mean, var = stats[layer]
            centred = z - mean
        h = torch.relu(centred * torch.rsqrt(var + EPS) * gamma + beta)
    return torch.bmm(h, params[-2]) + params[-1], seen


def _train_bn_stack(models, seeds, data, lr: float, epochs: int, batch_size: int) -> _BnStack:
    """Train ``models`` (S BN MLPs as :func:`~.runs_training.bad_init_mlp` builds them, not
    changed) side by side by plain SGD at ``lr``, network s on seed ``seeds[s]``'s minibatches;
    evaluate each in eval mode with its running statistics and with the statistics of the
    whole training set (as :func:`~.runs_training.recalibrated`). Arguments are checked by
    the caller."""
    import torch
    import torch.nn.functional as F

    from course_utils.stacked import minibatch_orders
    from course_utils.training import check_data, torch_threads

    x_train, y_train, x_val, y_val = check_data(data)
    params = _stack(models)
    s_count, n = len(models), len(x_train)
    depth = (len(params) - 2) // 3
    running = [
        (torch.zeros(s_count, 1, p.shape[2]), torch.ones(s_count, 1, p.shape[2]))
        for p in params[:-2:3]
    ]
    diverged = torch.zeros(s_count, dtype=torch.bool)
    step = 0
    with torch_threads(1):
        for order in minibatch_orders(seeds, n, epochs):
            for start in range(0, n, batch_size):
                index = order[:, start : start + batch_size]
                if index.shape[1] == 1:
                    continue  # train() skips a batch of one example with Batch Norm
                step += 1
                scores, _ = _forward(params, x_train[index], running=running)
                losses = F.cross_entropy(
                    scores.reshape(-1, 10), y_train[index].reshape(-1), reduction="none"
                )
                losses = losses.view(s_count, -1).mean(1)
                diverged |= ~torch.isfinite(losses.detach())
                grads = torch.autograd.grad(losses.sum(), params)
                with torch.no_grad():
                    for p, g in zip(params, grads):
                        p.add_(g, alpha=-lr)  # LeanSGD's step
        with torch.no_grad():
            _, true = _forward(params, x_train.expand(s_count, -1, -1))

            def accuracy(stats):
                scores, _ = _forward(params, x_val.expand(s_count, -1, -1), stats=stats)
                return (scores.argmax(2) == y_val).double().mean(1).numpy()

            val_acc = accuracy(running)
            recal_acc = accuracy(true)
    return _BnStack(
        step,
        val_acc,
        recal_acc,
        [v[:, 0].numpy() for _, v in running[:depth]],
        [v[:, 0].numpy() for _, v in true],
        diverged.numpy(),
    )
