"""Activation functions and their derivatives.

Every activation is a pair ``(f, df)`` of NumPy functions of the pre-activation
``z`` (any shape): ``a = f(z)`` and ``da/dz = df(z)``. Look one up by name with
:func:`get`; :data:`NAMES` lists the names known. Chapter 01 extends the registry.

Both functions keep the input's floating dtype (float32 in, float32 out), so a
float32 forward pass stays float32.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

ArrayFn = Callable[[np.ndarray], np.ndarray]

__all__ = ["NAMES", "get", "tanh", "tanh_grad", "relu", "relu_grad", "sigmoid", "sigmoid_grad"]


def tanh(z: np.ndarray) -> np.ndarray:
    r"""Hyperbolic tangent, :math:`\tanh(z) = (e^z - e^{-z}) / (e^z + e^{-z})`, range (-1, 1)."""
    return np.tanh(z)


def tanh_grad(z: np.ndarray) -> np.ndarray:
    r"""Derivative of tanh: :math:`\tanh'(z) = 1 - \tanh^2(z)`, at most 1 (at z = 0)."""
    a = np.tanh(z)
    return 1 - a * a


def relu(z: np.ndarray) -> np.ndarray:
    r"""Rectified linear unit, :math:`\max(0, z)` (Nair & Hinton, 2010)."""
    return np.maximum(z, 0)


def relu_grad(z: np.ndarray) -> np.ndarray:
    r"""Derivative of ReLU: 1 where z > 0, else 0 (the subgradient 0 is used at z = 0)."""
    z = np.asarray(z)
    return (z > 0).astype(z.dtype if np.issubdtype(z.dtype, np.floating) else np.float64)


def sigmoid(z: np.ndarray) -> np.ndarray:
    r"""Logistic sigmoid, :math:`\sigma(z) = 1 / (1 + e^{-z})`, range (0, 1).

    Computed as :math:`(1 + \tanh(z/2)) / 2`, which never overflows.
    """
    z = np.asarray(z)
    half = z.dtype.type(0.5) if np.issubdtype(z.dtype, np.floating) else 0.5
    return half * (1 + np.tanh(half * z))


def sigmoid_grad(z: np.ndarray) -> np.ndarray:
    r"""Derivative of the sigmoid: :math:`\sigma'(z) = \sigma(z)(1 - \sigma(z))`, at most 0.25."""
    s = sigmoid(z)
    return s * (1 - s)


_REGISTRY: dict[str, tuple[ArrayFn, ArrayFn]] = {
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
}

#: Names accepted by :func:`get`, in display order.
NAMES: tuple[str, ...] = tuple(_REGISTRY)


def get(name: str) -> tuple[ArrayFn, ArrayFn]:
    """Return ``(f, df)`` for the activation called ``name``.

    Parameters
    ----------
    name : str
        One of :data:`NAMES` (case-insensitive), e.g. ``"tanh"``.

    Returns
    -------
    f, df : callable
        ``f(z)`` is the activation, ``df(z)`` its derivative with respect to ``z``;
        both map an array of any shape to an array of the same shape.

    Raises
    ------
    ValueError
        If ``name`` is not a known activation.
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in _REGISTRY:
        raise ValueError(f"activation must be one of {', '.join(NAMES)}; got {name!r}")
    return _REGISTRY[key]
