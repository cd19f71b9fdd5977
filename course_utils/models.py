"""The course's networks in torch: a fully connected classifier built from its description.

- :func:`build_mlp`: hidden block by hidden block, ``Linear -> [BatchNorm1d] -> activation ->
  [Dropout]``, then a ``Linear`` to the class scores. The init (``"torch"`` default,
  ``"normal"`` with a given std, ``"xavier"``, ``"kaiming"``) and the seed are arguments, so
  chapter 04 can start the same network from a bad init with and without Batch Norm.
- :func:`hidden_activations`: the output of every hidden activation of a built MLP on a batch
  (the per-layer histograms of chapters 04 and 09); :func:`check_batch`: a batch checked
  against a model's input and classes.
- :func:`torch_threads` / :func:`single_torch_thread`: torch's thread count inside a block.

:mod:`course_utils.training` trains them.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np

from course_utils.torch_state import seed_cpu
from course_utils.validation import check_array
from course_utils.validation import check_int as _check_int
from course_utils.validation import check_real as _check_real

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "MAX_PARAMETERS",
    "build_mlp",
    "check_batch",
    "check_model",
    "hidden_activations",
    "torch_threads",
    "single_torch_thread",
]

#: Activation names accepted by :func:`build_mlp` (torch.nn module names).
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "gelu", "identity")
#: Init schemes accepted by :func:`build_mlp`.
INITS = ("torch", "normal", "xavier", "kaiming")
#: At most this many parameters (64 MiB of float32 weights, plus as much again for the
#: gradients and twice that for Adam's state: well inside a 2 GB Binder kernel).
MAX_PARAMETERS = 16 * 2**20


@contextmanager
def torch_threads(threads: int | None = 1):
    """Torch's intra-op thread count inside the block, restored afterwards (None: unchanged).

    One thread is the fast choice for the course's small matrices (more threads mostly wait
    for each other on a busy 2-core machine: 300 steps of a small MLP took 2.5 s on one
    thread, 23.7 s on two), and it makes results independent of the machine's core count.
    """
    import torch

    if threads is not None:
        threads = _check_int("threads", threads, 1, 64)
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def single_torch_thread():
    """``torch_threads(1)``: run torch on one thread inside the block."""
    return torch_threads(1)


def build_mlp(
    in_features: int,
    num_classes: int,
    depth: int = 2,
    width: int = 64,
    activation: str = "relu",
    init: str = "kaiming",
    std: float | None = None,
    batchnorm: bool = False,
    dropout: float = 0.0,
    seed: int = 0,
):
    """A fully connected classifier: ``depth`` hidden blocks of ``width`` units, then scores.

    Each hidden block is ``Linear -> [BatchNorm1d] -> activation -> [Dropout(p=dropout)]``.
    With Batch Norm the ``Linear`` has no bias: BN's shift beta takes its place.

    Parameters
    ----------
    in_features, num_classes : int
        Input size (64 for the digits) and number of classes (10).
    depth : int
        Number of hidden blocks (0 gives a softmax classifier, a single ``Linear``).
    width : int
        Units per hidden block.
    activation : str
        One of :data:`ACTIVATIONS`.
    init : str
        ``"torch"`` keeps ``nn.Linear``'s default (uniform, std = 1/sqrt(3 fan_in));
        ``"normal"`` draws every weight, the output layer's included, from N(0, std^2);
        ``"xavier"`` and ``"kaiming"`` use ``torch.nn.init``'s normal versions with the
        activation's gain (biases 0 in all three).
    std : float or None
        The weight std for ``init="normal"`` (required there, not allowed elsewhere).
    batchnorm : bool
        Insert ``BatchNorm1d`` between each hidden ``Linear`` and its activation.
    dropout : float
        Probability of *dropping* a unit after each hidden activation (``torch.nn.Dropout``'s
        ``p``), in [0, 1).
    seed : int
        Fixes the initial weights.

    Returns
    -------
    torch.nn.Sequential
    """
    import torch
    from torch import nn

    in_features = _check_int("in_features", in_features, 1)
    num_classes = _check_int("num_classes", num_classes, 2)
    depth = _check_int("depth", depth, 0, 100)
    width = _check_int("width", width, 1, 8192)
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}; got {activation!r}")
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}; got {init!r}")
    if init == "normal":
        if std is None:
            raise ValueError('init="normal" needs std, the weight standard deviation (> 0)')
        std = _check_real("std", std, 0.0, 1e3, low_open=True)
    elif std is not None:
        raise ValueError(f"std is only used with init='normal'; got std={std!r} with init={init!r}")
    if not isinstance(batchnorm, bool):
        raise ValueError(f"batchnorm must be True or False; got {batchnorm!r}")
    dropout = _check_real("dropout", dropout, 0.0, 1.0)
    if dropout == 1.0:
        raise ValueError("dropout must be < 1: p = 1 drops every unit")
    seed = _check_int("seed", seed, 0)
    sizes = [in_features] + [width] * depth + [num_classes]
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if n_params > MAX_PARAMETERS:
        raise ValueError(
            f"depth={depth}, width={width} gives {n_params:,} parameters; at most "
            f"{MAX_PARAMETERS:,} are allowed (memory of a 2 GB kernel)"
        )

    modules = {
        "relu": nn.ReLU,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "leaky_relu": nn.LeakyReLU,
        "gelu": nn.GELU,
        "identity": nn.Identity,
    }
    gain_name = {
        "relu": "relu",
        "tanh": "tanh",
        "sigmoid": "sigmoid",
        "leaky_relu": "leaky_relu",
        "gelu": "relu",
        "identity": "linear",
    }[activation]
    with torch.random.fork_rng(devices=[]):
        seed_cpu(seed)
        layers: list = []
        for fan_in in sizes[:-2]:
            layers.append(nn.Linear(fan_in, width, bias=not batchnorm))
            if batchnorm:
                layers.append(nn.BatchNorm1d(width))
            layers.append(modules[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(sizes[-2], num_classes))
        model = nn.Sequential(*layers)
        if init != "torch":
            for module in model:
                if not isinstance(module, nn.Linear):
                    continue
                if init == "normal":
                    nn.init.normal_(module.weight, 0.0, std)
                elif init == "xavier":
                    nn.init.xavier_normal_(module.weight, gain=nn.init.calculate_gain(gain_name))
                else:  # Kaiming (fan_in): std = gain / sqrt(fan_in), as kaiming_normal_
                    gain = nn.init.calculate_gain(gain_name)
                    nn.init.normal_(module.weight, 0.0, gain / math.sqrt(module.in_features))
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
    return model


def check_model(model):
    """``model`` if it is a ``torch.nn.Module``, else ``ValueError``."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise ValueError(
            f"model must be a torch.nn.Module (e.g. build_mlp(...)); got {type(model).__name__}"
        )
    return model


def _linear_sizes(model) -> tuple:
    """(input features, classes) of the model's first and last ``Linear``, or None each."""
    import torch

    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if not linears:
        return None, None
    return linears[0].in_features, linears[-1].out_features


def check_batch(model, x, y=None) -> tuple:
    """``x`` (N, D) finite and matching the model's input; ``y`` (N,) class indices."""
    check_model(model)
    x = check_array("x", x, ndim=2, dtype=None)
    features, classes = _linear_sizes(model)
    if features is not None and x.shape[1] != features:
        raise ValueError(
            f"x must have {features} features per row (the model's input); got shape {x.shape}"
        )
    if y is not None:
        y = check_array("y", y, shape=(len(x),), dtype=None)
        if (
            not np.array_equal(y, np.round(y))
            or y.min() < 0
            or (classes is not None and y.max() >= classes)
        ):
            raise ValueError(
                f"y must hold class indices 0..{classes - 1 if classes else 'C-1'}"
                f"; got values from {y.min():g} to {y.max():g}"
            )
    return x, y


def hidden_activations(model, x, batch_statistics: bool = False) -> list:
    """The output of every hidden activation module of ``model`` on ``x``.

    Parameters
    ----------
    model : torch.nn.Sequential
        As built by :func:`build_mlp`.
    x : array-like, shape (N, D)
    batch_statistics : bool
        ``False``: eval mode (Batch Norm uses its running statistics, dropout is off).
        ``True``: Batch Norm normalises with the statistics of this batch, as in training
        (run on a copy, so the model's running statistics are not touched); dropout stays off.

    Returns
    -------
    list of ndarray, shape (N, width) each, float32
        One per hidden block, after its activation (before dropout).
    """
    import copy

    import torch
    from torch import nn

    if not isinstance(batch_statistics, bool):
        raise ValueError(f"batch_statistics must be True or False; got {batch_statistics!r}")
    x, _ = check_batch(model, x)
    kinds = (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.GELU, nn.Identity)
    net = copy.deepcopy(model) if batch_statistics else model
    was_training = net.training
    net.eval()
    if batch_statistics:
        for module in net.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.train()
    outputs = []
    try:
        with torch.no_grad():
            h = torch.as_tensor(np.asarray(x), dtype=torch.float32)
            for module in net:
                h = module(h)
                if isinstance(module, kinds):
                    outputs.append(h.numpy().copy())
    finally:
        net.train(was_training)
    return outputs
