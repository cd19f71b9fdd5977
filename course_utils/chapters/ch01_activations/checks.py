"""Chapter 01's visible check: the Leaky ReLU exercise (and its derivative)."""

from __future__ import annotations

from typing import Callable

from course_utils.checking import call_answer

__all__ = [
    "LEAKY_RELU_INPUTS",
    "LEAKY_RELU_SLOPES",
    "LEAKY_RELU_TOL",
    "check_leaky_relu",
    "leaky_relu_mistake",
]

#: Chapter 01's exercise: the inputs and slopes the visible check tries.
LEAKY_RELU_INPUTS = (
    (-50.0, -3.0, -0.5, 0.0, 0.25, 2.0, 40.0),
    ((-2.0, 0.0, 1.5), (3.0, -1e-3, 0.0)),
)
LEAKY_RELU_SLOPES = (None, 0.2, 0.05)
LEAKY_RELU_TOL = 1e-12


def leaky_relu_mistake(name: str, z, got, slope: float) -> str:
    """The likely mistake behind a wrong ``got`` = ``name(z, negative_slope=slope)``.

    ``name`` is ``"leaky_relu"`` or ``"leaky_relu_grad"``; ``got`` has ``z`` 's shape. Each
    usual wrong answer is computed here and compared with ``got``; the first that matches
    names the mistake. Returns a generic hint if none does.
    """
    import numpy as np

    from course_utils.validation import check_array, check_choice, check_real

    check_choice("name", name, ("leaky_relu", "leaky_relu_grad"))
    z = check_array("z", z)
    got = check_array("got", got, shape=z.shape, finite=False)
    slope = check_real("slope", slope)
    pos = z > 0
    if name == "leaky_relu":
        candidates = [
            (
                np.maximum(z, 0.0),
                "negative z gives 0: that is ReLU. Leaky ReLU keeps negative_slope * z there.",
            ),
            (
                np.where(pos, z, 0.01 * z),
                "the negative side uses 0.01 whatever negative_slope is: use the argument.",
            ),
            (
                np.where(pos, z, -slope * z),
                "the negative side has the wrong sign: it is "
                "negative_slope * z, negative for z < 0.",
            ),
            (
                np.maximum(z, slope),
                "np.maximum(z, negative_slope) compares z with the slope; "
                "Leaky ReLU is max(z, negative_slope * z).",
            ),
            (
                np.where(pos, slope * z, z),
                "the slope is applied on the wrong side: z > 0 passes "
                "unchanged, z <= 0 is multiplied by negative_slope.",
            ),
            (np.where(pos, 1.0, slope), "leaky_relu returned the derivative, not the function."),
        ]
    else:
        candidates = [
            (
                np.where(pos, z, slope * z),
                "leaky_relu_grad returned the function's values, not "
                "its derivative (1 for z > 0, else negative_slope).",
            ),
            (
                np.where(pos, 1.0, 0.0),
                "the derivative is 0 for z <= 0: that is ReLU's. Leaky "
                "ReLU's is negative_slope there.",
            ),
            (
                np.where(pos, 1.0, 0.01),
                "the negative side uses 0.01 whatever negative_slope is: use the argument.",
            ),
            (
                np.where(z >= 0, 1.0, slope),
                "at z = 0 the derivative is negative_slope (as torch's "
                "autograd): test z > 0, not z >= 0.",
            ),
            (
                np.where(pos, slope, 1.0),
                "1 and negative_slope are swapped: the slope is 1 for z > 0.",
            ),
            (
                np.where(pos, 1.0, -slope),
                "the negative side's derivative is +negative_slope, not -negative_slope.",
            ),
        ]
    for candidate, hint in candidates:
        if np.allclose(got, candidate, rtol=0, atol=LEAKY_RELU_TOL):
            return hint
    return (
        "Follow the table: f(z) = z for z > 0, else negative_slope * z; f'(z) = 1 for z > 0, "
        "else negative_slope (also at z = 0)."
    )


def check_leaky_relu(leaky_relu: Callable, leaky_relu_grad: Callable) -> None:
    """Chapter 01's exercise: Leaky ReLU and its derivative on NumPy arrays.

    Tried on a 1-D and a 2-D float64 array, with the default slope (0.01) and others; each
    result must be a float64 array of the input's shape, equal to
    :func:`course_utils.activations.leaky_relu` / ``leaky_relu_grad`` within
    :data:`LEAKY_RELU_TOL` (absolute), with f(0) = 0 and f'(0) = ``negative_slope`` (as
    torch's autograd), and must leave the input unchanged. The expected values are computed
    first; the answer runs inside ``references.hidden("leaky_relu")``, so calling the
    course's functions instead fails with ``ReferenceUnavailable``. A wrong value is compared
    with the usual mistakes (:func:`leaky_relu_mistake`) to say which one it looks like.
    """
    import numpy as np

    from course_utils import activations as _act

    for name, func in (("leaky_relu", leaky_relu), ("leaky_relu_grad", leaky_relu_grad)):
        if not callable(func):
            raise TypeError(f"{name} must be a function; got {type(func).__name__}")
    pairs = (
        ("leaky_relu", leaky_relu, _act.leaky_relu),
        ("leaky_relu_grad", leaky_relu_grad, _act.leaky_relu_grad),
    )
    for values in LEAKY_RELU_INPUTS:
        for slope in LEAKY_RELU_SLOPES:
            kwargs = {} if slope is None else {"negative_slope": slope}
            alpha = 0.01 if slope is None else slope
            for name, func, reference in pairs:
                want = reference(np.array(values, dtype=np.float64), **kwargs)
                z = np.array(values, dtype=np.float64)
                call = (
                    f"{name}({z.tolist()}{'' if slope is None else f', negative_slope={slope:g}'})"
                )
                got = call_answer("leaky_relu", call, func, z, **kwargs)
                problem = hint = None
                if not np.array_equal(z, np.array(values)):
                    problem = "changed its input array in place"
                    hint = (
                        "Return a new array (np.where(...) makes one); z *= ... or "
                        "z[z < 0] = ... writes into the caller's array."
                    )
                elif not isinstance(got, np.ndarray):
                    problem = f"returned a {type(got).__name__}, expected a NumPy array"
                    hint = "Work on the whole array at once: np.where(z > 0, ..., ...)."
                elif got.shape != z.shape:
                    problem = f"returned shape {got.shape}, expected the input's shape {z.shape}"
                    hint = "Keep z's shape: no ravel, flatten or reduction."
                elif got.dtype != np.float64:
                    problem = f"returned dtype {got.dtype}, expected float64"
                    hint = (
                        "A comparison gives bools and astype(np.float32) halves the precision: "
                        "use float64 values, e.g. np.where(z > 0, 1.0, negative_slope)."
                    )
                elif not np.allclose(got, want, rtol=0, atol=LEAKY_RELU_TOL):
                    bad = np.flatnonzero(~np.isclose(got, want, rtol=0, atol=LEAKY_RELU_TOL))[0]
                    problem = (
                        f"at z = {z.ravel()[bad]:g} gives {got.ravel()[bad]!r}, expected "
                        f"{want.ravel()[bad]!r}"
                    )
                    hint = leaky_relu_mistake(name, z, got, alpha)
                if problem:
                    print(f"WRONG {call}: {problem}")
                    raise AssertionError(f"{call} {problem}. {hint}")
                print(f"ok  {call}")
    print(f"All visible checks passed (absolute tolerance {LEAKY_RELU_TOL:g}).")
