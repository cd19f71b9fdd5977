r"""Chapter 04: Batch Norm in a convolutional layer, and folded into it for inference.

:func:`conv_batchnorm_check` runs a small convolution on the digits' 8x8 images through
:func:`course_utils.batchnorm.batchnorm2d_forward` and ``torch.nn.BatchNorm2d`` side by side
(training steps, running statistics, gradients), then folds the evaluation-mode Batch Norm
into the convolution with :func:`course_utils.batchnorm.fold_batchnorm` and compares the
folded layer with the pair it replaces and with torch's own
``torch.nn.utils.fusion.fuse_conv_bn_eval``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils.batchnorm import batchnorm2d_backward, batchnorm2d_forward, fold_batchnorm
from course_utils.data import N_DIGITS_TRAIN
from course_utils.torch_state import seed_cpu
from course_utils.validation import MAX_SEED, check_array, check_int

__all__ = ["ConvCheck", "conv_batchnorm_check"]


@dataclass(frozen=True)
class ConvCheck:
    """What :func:`conv_batchnorm_check` measured (max absolute differences, float64)."""

    input_shape: tuple  #: (N, 1, 8, 8) of one batch
    feature_shape: tuple  #: (N, C, H, W) the convolution's output, Batch Norm's input
    stats_shape: tuple  #: (C,): one mean and one variance per channel
    values_per_channel: int  #: N * H * W values behind each channel's statistics
    worst: dict  #: name -> max |ours - torch| over the steps
    folded_vs_pair: float  #: max |folded conv(x) - BN_eval(conv(x))|, torch's layers
    folded_vs_torch_fuse: float  #: max |our folded weights and bias - fuse_conv_bn_eval's|


def conv_batchnorm_check(
    channels: int = 8, batch_size: int = 32, steps: int = 3, seed: int = 0, data=None
) -> ConvCheck:
    r"""``Conv2d(1, channels, 3, bias=False)`` + ``BatchNorm2d`` on the digits, ours vs torch.

    ``steps`` training-mode batches of ``batch_size`` 8x8 digits (float64, torch's momentum
    0.1 and eps 1e-5, gamma and beta drawn at random so they matter): the output, the running
    statistics, and the gradients of a random upstream gradient, each compared with torch.
    ``data``: :func:`course_utils.data.load_digits`'s result (loaded with ``seed`` if None).
    Then one batch in evaluation mode through the convolution and BN, and through the single
    convolution that :func:`~course_utils.batchnorm.fold_batchnorm` makes of them.
    """
    from course_utils.data import load_digits
    from course_utils.training import torch_threads

    channels = check_int("channels", channels, 1, 64)
    batch_size = check_int("batch_size", batch_size, 2, N_DIGITS_TRAIN // 2)
    steps = check_int("steps", steps, 1, 20)
    seed = check_int("seed", seed, 0, MAX_SEED)
    rng = np.random.default_rng(seed)
    data = load_digits(seed=seed) if data is None else data
    if not hasattr(data, "x_train"):
        raise ValueError(f"data must have x_train (as load_digits()); got {type(data).__name__}")
    images = check_array("data.x_train", data.x_train, ndim=2)
    if images.ndim != 2 or images.shape[1] != 64 or len(images) < batch_size:
        raise ValueError(
            f"data.x_train must hold at least batch_size={batch_size} images of 64 pixels; "
            f"got shape {images.shape}"
        )
    images = images.reshape(-1, 1, 8, 8)
    with torch_threads(1):  # small tensors: one thread is fastest, and the same on any machine
        return _run(images, channels, batch_size, steps, rng)


def _run(images, channels, batch_size, steps, rng) -> ConvCheck:
    import torch
    from torch import nn
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    seed = int(rng.integers(2**31))
    with torch.random.fork_rng(devices=[]):
        seed_cpu(seed)  # the convolution's init, from the numpy seed
        conv = nn.Conv2d(1, channels, 3, bias=False).double()
    norm = nn.BatchNorm2d(channels).double()
    gamma, beta = rng.uniform(0.5, 2.0, channels), rng.normal(0.0, 1.0, channels)
    with torch.no_grad():
        norm.weight.copy_(torch.tensor(gamma))
        norm.bias.copy_(torch.tensor(beta))
    mean, var = np.zeros(channels), np.ones(channels)
    worst = dict.fromkeys(["train output", "running mean", "running var", "dx", "dgamma"], 0.0)

    def record(name, ours, theirs):
        worst[name] = max(worst[name], float(np.max(np.abs(ours - theirs))))

    norm.train()
    for _ in range(steps):
        x = images[rng.choice(len(images), batch_size, replace=False)]
        with torch.no_grad():
            z = conv(torch.tensor(x)).numpy()
        zt = torch.tensor(z, requires_grad=True)
        out_t = norm(zt)
        dout = rng.standard_normal(z.shape)
        norm.weight.grad = None
        (out_t * torch.tensor(dout)).sum().backward()
        out, cache = batchnorm2d_forward(z, gamma, beta, mean, var)
        mean, var = cache.running_mean, cache.running_var
        dz, dgamma, _ = batchnorm2d_backward(dout, cache)
        record("train output", out, out_t.detach().numpy())
        record("running mean", mean, norm.running_mean.numpy())
        record("running var", var, norm.running_var.numpy())
        record("dx", dz, zt.grad.numpy())
        record("dgamma", dgamma, norm.weight.grad.numpy())
    conv.eval(), norm.eval()
    x = torch.tensor(images[:batch_size])
    weight, bias = fold_batchnorm(conv.weight.detach().numpy(), None, gamma, beta, mean, var)
    folded = nn.Conv2d(1, channels, 3).double()
    with torch.no_grad():
        folded.weight.copy_(torch.tensor(weight))
        folded.bias.copy_(torch.tensor(bias))
        pair = norm(conv(x)).numpy()
        single = folded(x).numpy()
    fused = fuse_conv_bn_eval(conv, norm)
    torch_fuse = max(
        float(np.max(np.abs(weight - fused.weight.detach().numpy()))),
        float(np.max(np.abs(bias - fused.bias.detach().numpy()))),
    )
    return ConvCheck(
        tuple(x.shape),
        tuple(z.shape),
        tuple(np.shape(mean)),
        int(z.shape[0] * z.shape[2] * z.shape[3]),
        worst,
        float(np.max(np.abs(single - pair))),
        torch_fuse,
    )
