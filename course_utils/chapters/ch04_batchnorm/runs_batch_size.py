r"""Chapter 04's batch-size experiments: how Batch Norm's batch statistics depend on the batch.

Split from :mod:`~course_utils.chapters.ch04_batchnorm.runs`. A batch of two examples
normalises every feature to about :math:`\pm 1` (:func:`pair_normalised`); the batch mean
strays from the data's like :math:`1/\sqrt{N}` and train-mode outputs from eval-mode ones
(:func:`batch_size_effect`, :class:`BatchSizeEffect`); and one example's train-mode output
varies with the rest of its batch, the noise that makes Batch Norm a regulariser
(:func:`batch_noise`, :class:`BatchNoise`). Vectorised over the batches of one size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from course_utils.batchnorm import EPS, batchnorm_forward, check_batch
from course_utils.tables import format_table
from course_utils.validation import (
    MAX_SEED,
    check_int,
    check_real,
    check_sequence,
    check_work,
)

__all__ = [
    "pair_normalised",
    "BatchSizeEffect",
    "batch_size_effect",
    "BatchNoise",
    "batch_noise",
]


def pair_normalised(x, eps: float = EPS) -> np.ndarray:
    r"""Batch Norm (gamma 1, beta 0) of a batch of exactly two examples, (2, D).

    With :math:`x_1, x_2` the mean is halfway and :math:`\sigma^2 = (x_1 - x_2)^2/4`, so
    :math:`\hat x = \pm\frac{|x_1 - x_2|/2}{\sqrt{(x_1 - x_2)^2/4 + \epsilon}} \approx \pm 1`:
    every feature is -1 for one example and +1 for the other, whatever the data.
    """
    x = check_batch(x)
    if x.shape[0] != 2:
        raise ValueError(f"x must hold exactly 2 examples; got {x.shape[0]}")
    out, _ = batchnorm_forward(x, np.ones(x.shape[1]), np.zeros(x.shape[1]), eps=eps)
    return out


@dataclass(frozen=True)
class BatchSizeEffect:
    """How batch statistics scatter with the batch size (:func:`batch_size_effect`)."""

    batch_sizes: tuple
    n_batches: int
    n_examples: int
    mean_spread: np.ndarray  #: std over batches of a feature's batch mean / its data std
    train_eval_gap: np.ndarray  #: mean |BN_train(x) - BN_eval(x)| of the same examples

    @property
    def predicted_mean_spread(self) -> np.ndarray:
        r""":math:`\sqrt{(n - N) / (N (n - 1))}`: the std of the mean of N of n values drawn
        without replacement, relative to their std (:math:`1/\sqrt{N}` for :math:`N \ll n`)."""
        b, n = np.asarray(self.batch_sizes, dtype=float), self.n_examples
        return np.sqrt((n - b) / (b * (n - 1)))

    def table(self) -> str:
        return format_table(
            {
                "std of batch mean": self.mean_spread,
                "sqrt((n-N)/(N(n-1)))": self.predicted_mean_spread,
                "mean |train - eval|": self.train_eval_gap,
            },
            index=list(self.batch_sizes),
            index_name="batch size",
        )


#: Values per vectorised chunk of batches (16 MiB of float64).
_CHUNK_ELEMENTS = 2**21


def _random_batches(rng, n: int, size: int, count: int) -> np.ndarray:
    """(count, size) row indices: ``count`` batches of ``size`` distinct rows of ``n``.

    Consecutive slices of random permutations, as an epoch of shuffled minibatches: each
    batch is a uniformly random subset, and one permutation serves ``n // size`` batches.
    """
    per = n // size
    perms = np.argsort(rng.random((-(-count // per), n)), axis=1)
    return perms[:, : per * size].reshape(-1, size)[:count]


def batch_size_effect(
    x,
    batch_sizes: Sequence[int] = (2, 4, 16, 64, 256),
    n_batches: int = 200,
    eps: float = EPS,
    seed: int = 0,
) -> BatchSizeEffect:
    r"""Draw ``n_batches`` random batches of each size from ``x`` (N, D) and measure how far the
    batch statistics stray from the data's: the std over batches of each feature's batch
    mean relative to the feature's std, averaged over features; and the mean distance between
    a train-mode output and the eval-mode output that uses the full data's statistics (the
    ideal running averages). Constant features are left out.

    The batch mean's spread shrinks like :math:`1/\sqrt{N}` (a little faster when a batch is
    a sizeable share of ``x``: the batches are drawn without replacement). Vectorised over
    the batches of one size.
    """
    x = check_batch(x)
    n_batches = check_int("n_batches", n_batches, 1, 10_000)
    sizes = tuple(
        check_sequence(
            "batch_sizes",
            batch_sizes,
            lambda name, b: check_int(name, b, 2, max(2, len(x))),
            max_len=64,
        )
    )
    if len(x) < 2:
        raise ValueError(f"x must hold at least 2 examples; got {len(x)}")
    eps = check_real("eps", eps, 0.0, low_open=True)
    seed = check_int("seed", seed, 0, MAX_SEED)
    check_work("batch_size_effect", 4.0 * n_batches * sum(sizes) * x.shape[1])
    check_work("batch_size_effect", 1.0 * n_batches * len(sizes) * len(x))
    keep = x.std(axis=0) > 0
    x = x[:, keep]
    mu, var = x.mean(axis=0), x.var(axis=0)
    ideal_all = (x - mu) / np.sqrt(var + eps)  # eval mode with the data's statistics, per row
    rng = np.random.default_rng(seed)
    mean_spread, gap = [], []
    for b in sizes:
        index = _random_batches(rng, len(x), b, n_batches)
        chunk = max(1, _CHUNK_ELEMENTS // (b * x.shape[1]))  # bounded memory per step
        means, gaps = [], []
        for start in range(0, n_batches, chunk):
            rows = index[start : start + chunk]
            batches = x[rows]  # (chunk, b, D)
            b_mean = batches.mean(axis=1)
            # train mode, in place: the same operations as batches.var and the division
            out = np.subtract(batches, b_mean[:, None], out=batches)
            b_var = np.multiply(out, out).mean(axis=1)
            out /= np.sqrt(b_var[:, None] + eps)
            out -= ideal_all[rows]
            means.append(b_mean)
            gaps.append(np.abs(out, out=out).mean(axis=(1, 2)))
        mean_spread.append((np.concatenate(means).std(axis=0) / np.sqrt(var)).mean())
        gap.append(np.concatenate(gaps).mean())
    return BatchSizeEffect(sizes, n_batches, len(x), np.array(mean_spread), np.array(gap))


@dataclass(frozen=True)
class BatchNoise:
    """One example's train-mode output over many batches (:func:`batch_noise`)."""

    batch_sizes: tuple
    probes: int
    n_batches: int
    noise: np.ndarray  #: (sizes,) std over batches of a probe's output, mean over probes, pixels
    bias: np.ndarray  #: (sizes,) |mean over batches - eval-mode output|, mean over probes, pixels

    def table(self) -> str:
        return format_table(
            {
                "noise: std over batches": self.noise,
                "|mean over batches - eval|": self.bias,
            },
            index=list(self.batch_sizes),
            index_name="batch size",
        )


def batch_noise(
    x,
    batch_sizes: Sequence[int] = (4, 16, 64),
    probes: int = 8,
    n_batches: int = 200,
    eps: float = EPS,
    seed: int = 0,
) -> BatchNoise:
    r"""Batch Norm's noise: how one example's train-mode output varies with its batch.

    Each of the first ``probes`` rows of ``x`` (N, D) is put into ``n_batches`` batches of
    ``N_b`` rows (itself and ``N_b - 1`` others drawn at random) and normalised with each
    batch's statistics (gamma 1, beta 0). ``noise``: the std over batches of its output;
    ``bias``: the distance between its mean output over the batches and the eval-mode output
    with the full data's statistics. Like a dropout mask, the batch is random during
    training and averaged out at test time; unlike dropout (whose test-time output is the
    exact expectation of a linear unit), eval mode only approximates the average, because
    :math:`(x - \mu_B)/\sigma_B` is not linear in the batch statistics. Constant features
    are left out; both numbers are averaged over probes and features.
    """
    x = check_batch(x)
    sizes = tuple(
        check_sequence(
            "batch_sizes",
            batch_sizes,
            lambda name, b: check_int(name, b, 2, max(2, len(x))),
            max_len=16,
        )
    )
    probes = check_int("probes", probes, 1, max(1, len(x)))
    n_batches = check_int("n_batches", n_batches, 2, 10_000)
    eps = check_real("eps", eps, 0.0, low_open=True)
    seed = check_int("seed", seed, 0, MAX_SEED)
    check_work("batch_noise", 4.0 * probes * n_batches * sum(sizes) * x.shape[1])
    check_work("batch_noise", 1.0 * probes * n_batches * len(sizes) * len(x))
    x = x[:, x.std(axis=0) > 0]
    ideal = (x[:probes] - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    rng = np.random.default_rng(seed)
    noise, bias = [], []
    for b in sizes:
        spread, offset = [], []
        for i in range(probes):
            others = _random_batches(rng, len(x) - 1, b - 1, n_batches)
            others = others + (others >= i)  # every row but the probe
            batches = np.concatenate(
                [np.broadcast_to(x[i], (n_batches, 1, x.shape[1])), x[others]], axis=1
            )
            mean, var = batches.mean(axis=1), batches.var(axis=1)
            out = (x[i] - mean) / np.sqrt(var + eps)  # (n_batches, D): the probe's output
            spread.append(out.std(axis=0).mean())
            offset.append(np.abs(out.mean(axis=0) - ideal[i]).mean())
        noise.append(np.mean(spread))
        bias.append(np.mean(offset))
    return BatchNoise(sizes, probes, n_batches, np.array(noise), np.array(bias))
