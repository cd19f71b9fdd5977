"""Chapter 04's exercise: Batch Norm's forward pass in training mode."""

from __future__ import annotations

from typing import Callable

__all__ = ["BN_FORWARD_TOL", "bn_forward_cases", "check_bn_forward"]

#: Absolute and relative tolerance of :func:`check_bn_forward` (float64 arithmetic).
BN_FORWARD_TOL = 1e-8


def bn_forward_cases():
    """The batches :func:`check_bn_forward` tries: (name, x, gamma, beta, eps)."""
    import numpy as np

    rng = np.random.default_rng(4)
    x1 = 3.0 + 2.0 * rng.standard_normal((4, 3))
    x2 = rng.standard_normal((16, 5)) * np.array([0.01, 0.1, 1.0, 10.0, 100.0])
    x3 = rng.standard_normal((2, 6))
    x4 = 0.2 * rng.standard_normal((8, 4))
    return [
        ("4 x 3, gamma 1, beta 0", x1, np.ones(3), np.zeros(3), 1e-5),
        ("16 x 5, features of very different scales", x2, rng.uniform(0.5, 2.0, 5),
         rng.normal(0.0, 1.0, 5), 1e-5),
        ("a batch of 2", x3, np.full(6, 2.0), np.full(6, -1.0), 1e-5),
        ("8 x 4, large eps = 0.1", x4, np.array([1.0, 2.0, 0.5, 3.0]),
         np.array([0.0, 1.0, -1.0, 0.5]), 0.1),
    ]


def check_bn_forward(bn_forward_train: Callable) -> None:
    """Chapter 04's exercise: Batch Norm's forward pass in training mode.

    ``bn_forward_train(x, gamma, beta, eps=1e-5)`` must return
    ``gamma * (x - mean) / sqrt(var + eps) + beta`` with the batch's per-feature mean and
    *biased* variance (over axis 0), as a new (N, D) float64 array, leaving ``x`` unchanged.
    Compared with :func:`course_utils.batchnorm.batchnorm_forward` within
    :data:`BN_FORWARD_TOL` (absolute and relative).
    """
    import numpy as np

    from course_utils.batchnorm import batchnorm_forward

    if not callable(bn_forward_train):
        raise TypeError(f"bn_forward_train must be a function; got "
                        f"{type(bn_forward_train).__name__}")
    hint = ("Normalise each feature (column, axis=0) with the batch's mean and biased variance "
            "(np.var, ddof=0), eps inside the square root, then scale by gamma and shift by beta.")
    for name, x, gamma, beta, eps in bn_forward_cases():
        x_given = x.copy()
        want, _ = batchnorm_forward(x, gamma, beta, eps=eps)
        got = bn_forward_train(x_given, gamma.copy(), beta.copy(), eps=eps)
        problem = None
        if not np.array_equal(x_given, x):
            problem = "changed its input x in place; return a new array"
        elif not isinstance(got, np.ndarray):
            problem = f"returned a {type(got).__name__}, expected a NumPy array"
        elif got.shape != x.shape:
            problem = f"returned shape {got.shape}, expected the input's shape {x.shape}"
        elif not np.allclose(got, want, rtol=BN_FORWARD_TOL, atol=BN_FORWARD_TOL):
            i, j = np.unravel_index(np.argmax(np.abs(got - want)), x.shape)
            problem = f"gives {got[i, j]!r} at row {i}, column {j}; expected {want[i, j]!r}"
        if problem:
            print(f"WRONG {name}: {problem}")
            raise AssertionError(f"bn_forward_train on '{name}' {problem}. {hint}")
        print(f"ok  {name}")
    print(f"All visible checks passed (tolerance {BN_FORWARD_TOL:g}, absolute and relative).")


