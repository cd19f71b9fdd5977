"""Chapter 01's exercise: Leaky ReLU and its derivative."""

from __future__ import annotations

from typing import Callable

__all__ = ["LEAKY_RELU_INPUTS", "LEAKY_RELU_SLOPES", "LEAKY_RELU_TOL", "check_leaky_relu"]

#: Chapter 01's exercise: the inputs and slopes the visible check tries.
LEAKY_RELU_INPUTS = ((-50.0, -3.0, -0.5, 0.0, 0.25, 2.0, 40.0), ((-2.0, 0.0, 1.5), (3.0, -1e-3, 0.0)))
LEAKY_RELU_SLOPES = (None, 0.2, 0.05)
LEAKY_RELU_TOL = 1e-12


def check_leaky_relu(leaky_relu: Callable, leaky_relu_grad: Callable) -> None:
    """Chapter 01's exercise: Leaky ReLU and its derivative on NumPy arrays.

    Tried on a 1-D and a 2-D float64 array, with the default slope (0.01) and others; each
    result must be a float64 array of the input's shape, equal to
    :func:`course_utils.activations.leaky_relu` / ``leaky_relu_grad`` within
    :data:`LEAKY_RELU_TOL` (absolute), with f(0) = 0 and f'(0) = ``negative_slope`` (as
    torch's autograd), and must leave the input unchanged.
    """
    import numpy as np

    from course_utils import activations as _act

    for name, func in (("leaky_relu", leaky_relu), ("leaky_relu_grad", leaky_relu_grad)):
        if not callable(func):
            raise TypeError(f"{name} must be a function; got {type(func).__name__}")
    pairs = (("leaky_relu", leaky_relu, _act.leaky_relu),
             ("leaky_relu_grad", leaky_relu_grad, _act.leaky_relu_grad))
    for values in LEAKY_RELU_INPUTS:
        for slope in LEAKY_RELU_SLOPES:
            kwargs = {} if slope is None else {"negative_slope": slope}
            for name, func, reference in pairs:
                z = np.array(values, dtype=np.float64)
                call = f"{name}({z.tolist()}{'' if slope is None else f', negative_slope={slope:g}'})"
                got = func(z, **kwargs)
                want = reference(np.array(values, dtype=np.float64), **kwargs)
                problem = None
                if not np.array_equal(z, np.array(values)):
                    problem = "changed its input array in place; return a new array"
                elif not isinstance(got, np.ndarray):
                    problem = f"returned a {type(got).__name__}, expected a NumPy array"
                elif got.shape != z.shape:
                    problem = f"returned shape {got.shape}, expected the input's shape {z.shape}"
                elif got.dtype != np.float64:
                    problem = f"returned dtype {got.dtype}, expected float64"
                elif not np.allclose(got, want, rtol=0, atol=LEAKY_RELU_TOL):
                    bad = np.flatnonzero(~np.isclose(got, want, rtol=0, atol=LEAKY_RELU_TOL))[0]
                    problem = (f"at z = {z.ravel()[bad]:g} gives {got.ravel()[bad]!r}, expected "
                               f"{want.ravel()[bad]!r}")
                if problem:
                    print(f"WRONG {call}: {problem}")
                    hint = ("Is negative_slope used (not a fixed 0.01)? At z = 0 the value is 0 "
                            "and the derivative is negative_slope.")
                    raise AssertionError(f"{call} {problem}. {hint}")
                print(f"ok  {call}")
    print(f"All visible checks passed (absolute tolerance {LEAKY_RELU_TOL:g}).")


