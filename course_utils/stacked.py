"""Train S networks side by side: what the two seed runners share.

:mod:`course_utils.seed_runs` (float32, chapters 08 and 09) and chapter 06's
:mod:`~course_utils.chapters.ch06_schedules.seed_runs` (float64, several learning-rate
schedules) both hold one network per seed stacked along a first axis of size S and train them
as one batch of matrix products. They share:

- :func:`minibatch_orders`: each seed's order of the training examples, every epoch, the one
  :func:`course_utils.training.train` uses for that seed, so a seed's stacked run sees the
  minibatches its own ``train`` run would.
"""

from __future__ import annotations

from course_utils.validation import MAX_ELEMENTS, MAX_ITEMS, MAX_SEED, check_int, check_sequence

__all__ = ["minibatch_orders"]


def minibatch_orders(seeds, n_examples: int, epochs: int):
    """Every epoch's order of the training examples, one row per seed, as ``train``'s.

    Seed ``s`` draws a new ``torch.randperm(n_examples)`` every epoch from
    ``torch.Generator().manual_seed(s)``: the order :func:`course_utils.training.train` visits
    for ``seed=s`` (its minibatches are consecutive slices of it, the last one smaller).

    Parameters
    ----------
    seeds : sequence of int, length S
    n_examples, epochs : int

    Returns
    -------
    iterator over the ``epochs`` epochs of int64 tensors, shape (S, n_examples)
    """
    import torch

    seeds = check_sequence("seeds", seeds, lambda name, s: check_int(name, s, 0, MAX_SEED))
    n_examples = check_int("n_examples", n_examples, 1, MAX_ELEMENTS // len(seeds))
    epochs = check_int("epochs", epochs, 1, MAX_ITEMS)
    shuffles = [torch.Generator().manual_seed(s) for s in seeds]
    return (
        torch.stack([torch.randperm(n_examples, generator=g) for g in shuffles])
        for _ in range(epochs)
    )
