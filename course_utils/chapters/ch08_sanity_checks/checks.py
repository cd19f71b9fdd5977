"""Chapter 08's exercise: the centred-difference numerical gradient."""

from __future__ import annotations

from typing import Callable

from course_utils.checking import call_answer

__all__ = [
    "NUMERICAL_GRADIENT_TOL",
    "NUMERICAL_GRADIENT_MATCH_TOL",
    "numerical_gradient_cases",
    "numerical_gradient_mistake",
    "check_numerical_gradient",
]

#: Chapter 08's exercise: the whole-gradient relative error allowed against the exact
#: gradient (h = 1e-5) and against the reference centred difference (same h).
NUMERICAL_GRADIENT_TOL = 1e-8
NUMERICAL_GRADIENT_MATCH_TOL = 1e-9


def numerical_gradient_cases():
    """The visible check's functions: ``(label, f, x, exact_gradient)``, float64 arrays.

    A smooth element-wise function on a 1-D array, and the mean softmax cross-entropy of a
    small linear classifier as a function of its (4, 3) weight matrix.
    """
    import numpy as np

    from course_utils.gradcheck import softmax_cross_entropy

    x1 = np.array([-1.5, -0.3, 0.2, 0.9, 2.0])

    def f1(x):
        return float(np.sum(np.sin(x) * x**2))

    grad1 = np.cos(x1) * x1**2 + 2 * x1 * np.sin(x1)
    rng = np.random.default_rng(8)
    inputs = rng.standard_normal((6, 4))
    labels = np.array([0, 1, 2, 0, 1, 2])
    w = rng.standard_normal((4, 3)) * 0.5

    def f2(W):
        return softmax_cross_entropy(inputs @ W, labels)[0]

    grad2 = inputs.T @ softmax_cross_entropy(inputs @ w, labels)[1]
    return [
        ("sum(sin(x) * x**2), x of shape (5,)", f1, x1, grad1),
        ("softmax cross-entropy of X @ W, W of shape (4, 3)", f2, w, grad2),
    ]


def _quotients(f, x, h):
    """``f(x + h e_i)``, ``f(x - h e_i)`` for every entry, and ``f(x)``, on a copy of ``x``."""
    import numpy as np

    x = np.array(x, dtype=np.float64)
    plus, minus = np.empty(x.shape), np.empty(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus[i] = f(x)
        x[i] = old - h
        minus[i] = f(x)
        x[i] = old
    return plus, minus, float(f(x))


def _row_perturbed(f, x, h):
    """What ``for i in range(len(x))`` gives for a 2-D ``x``: ``x[i] += h`` moves a whole row."""
    import numpy as np

    x = np.array(x, dtype=np.float64)
    grad = np.zeros(x.shape)
    for i in range(len(x)):
        old = x[i].copy()
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_mistake(got, f, x, h: float, exact=None) -> str | None:
    """Which usual mistake ``got`` (a wrong gradient of ``f`` at ``x`` with step ``h``) is.

    Compares ``got`` with what each mistake gives (computed here, on a copy of ``x``); returns
    a hint naming the mistake, or ``None`` when ``got`` matches none of them.
    """
    import numpy as np

    from course_utils.gradcheck import norm_error
    from course_utils.validation import check_real

    h = check_real("h", h, 0.0, low_open=True)
    got = np.asarray(got, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if got.shape != x.shape or not np.all(np.isfinite(got)):
        return None
    plus, minus, base = _quotients(f, x, h)
    centred = (plus - minus) / (2 * h)
    candidates = [
        (
            (plus - base) / h,
            "This is the forward (one-sided) difference (f(x + h e_i) - f(x)) "
            "/ h, whose error is proportional to h; use the centred difference "
            "(f(x + h e_i) - f(x - h e_i)) / (2h), error proportional to h².",
        ),
        (
            (base - minus) / h,
            "This is the backward difference (f(x) - f(x - h e_i)) / h, "
            "error proportional to h; use the centred difference (f(x + h e_i) - f(x - h e_i)) "
            "/ (2h).",
        ),
        (
            (plus - minus) / h,
            "Your result is twice the derivative: the two evaluations are 2h "
            "apart (x + h and x - h), so divide by 2h, not by h.",
        ),
        (
            (plus - minus) / (4 * h),
            "Your result is half the derivative: x + h and x - h are 2h "
            "apart, so divide by 2h (not 4h).",
        ),
    ]
    for step in sorted({1e-5, 2 * h, h / 2} - {h}):
        p_, m_, _ = _quotients(f, x, step)
        candidates.append(
            (
                (p_ - m_) / (2 * step),
                f"Your result is the centred difference with step {step:g}, not with "
                f"the h = {h:g} passed in: move by +h and -h and divide by 2h.",
            )
        )
    if x.ndim == 2:
        candidates.append(
            (
                _row_perturbed(f, x, h),
                "For a 2-D x, x[i] with one index is a whole row: you moved every "
                "entry of row i at once. Visit every entry, e.g. "
                "for i in np.ndindex(x.shape).",
            )
        )
    errors = [norm_error(want, got) for want, _ in candidates]
    best = int(np.argmin(errors))
    if errors[best] < 1e-9:
        return candidates[best][1]
    flat = got.reshape(-1)
    if flat.size > 1 and np.all(flat[1:] == 0) and np.any(centred.reshape(-1)[1:] != 0):
        return (
            "Only the first entry is filled in, the others are 0: loop over every index "
            "of x (np.ndindex(x.shape)), not just the first one."
        )
    if (
        flat.size > 1
        and np.allclose(flat, flat[0], rtol=1e-6, atol=0)
        and not np.allclose(centred, centred.reshape(-1)[0])
    ):
        return (
            "Every entry has the same value: you moved all of x at once (x + h), which "
            "measures the slope along (1, 1, ...). Perturb one entry at a time: x + h e_i."
        )
    if exact is not None and norm_error(exact, got) < 1e-4:
        return (
            "Close to the exact gradient but not as close as a centred difference gets: "
            "is it (f(x + h e_i) - f(x - h e_i)) / (2h) with the h passed in?"
        )
    return None


def _x_changed_hint(x, original, h) -> str:
    """Why ``x`` differs from ``original`` after the call, as a hint."""
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    diff = x - original
    changed = diff != 0
    scale = float(np.max(np.abs(original))) or 1.0
    if np.max(np.abs(diff)) <= 1e-12 * scale:
        return (
            "x changed in its last bits: x[i] += h then x[i] -= h does not give x[i] back "
            "exactly in floating point. Save old = x[i] and put it back with x[i] = old."
        )
    if np.allclose(diff[changed], -h, rtol=1e-6, atol=0):
        return (
            "x is left at x - h where you perturbed it: after the second evaluation put "
            "the saved value back (x[i] = old), or work on a copy of x."
        )
    if np.allclose(diff[changed], h, rtol=1e-6, atol=0):
        return (
            "x is left at x + h where you perturbed it: put the saved value back "
            "(x[i] = old) after evaluating f, or work on a copy of x."
        )
    return (
        "restore every entry after perturbing it (save old = x[i], put it back with "
        "x[i] = old), or work on a copy of x."
    )


def check_numerical_gradient(numerical_gradient: Callable) -> None:
    """Chapter 08's exercise: ``numerical_gradient(f, x, h=1e-5)`` by centred differences.

    The student's function runs inside ``references.hidden("numerical_gradient")`` (so a call
    to :func:`course_utils.gradcheck.numerical_gradient` fails); expected values are computed
    outside. Checked: the result is a float64 array of ``x``'s shape; ``x`` comes back equal
    (bit for bit: the saved value put back); the whole-gradient relative error against the
    exact gradient is below :data:`NUMERICAL_GRADIENT_TOL` (a one-sided difference gives
    about 1e-6); and with ``h=1e-3`` the result matches the reference centred difference at the
    same step within :data:`NUMERICAL_GRADIENT_MATCH_TOL`. A wrong result is compared with the
    usual mistakes (:func:`numerical_gradient_mistake`: forward or backward difference, a
    divisor h instead of 2h, another step than ``h``, a whole row moved at once, only the
    first entry, x moved all at once) and the hint names the one it matches.
    """
    import numpy as np

    from course_utils import gradcheck

    if not callable(numerical_gradient):
        raise TypeError(
            f"numerical_gradient must be a function; got {type(numerical_gradient).__name__}"
        )

    def fail(call, problem, hint):
        print(f"WRONG {call}: {problem}")
        raise AssertionError(f"{call} {problem}. {hint}")

    def run(label, f, x, h):
        x = x.copy()
        original = x.copy()
        call = f"numerical_gradient({label}{'' if h is None else f', h={h:g}'})"
        got = call_answer(
            "numerical_gradient", call, numerical_gradient, f, x, **({} if h is None else {"h": h})
        )
        if not (
            isinstance(x, np.ndarray) and x.shape == original.shape and np.array_equal(x, original)
        ):
            fail(call, "changed x", _x_changed_hint(x, original, 1e-5 if h is None else h))
        if not isinstance(got, np.ndarray):
            fail(
                call,
                f"returned a {type(got).__name__}",
                "Return a NumPy array of x's shape (grad = np.zeros(x.shape)).",
            )
        if got.shape != x.shape:
            fail(
                call,
                f"returned shape {got.shape}",
                f"Return an array of x's shape {x.shape}, one entry per entry of x.",
            )
        if got.dtype != np.float64:
            fail(call, f"returned dtype {got.dtype}", "Keep float64 (np.zeros(x.shape)).")
        return call, got

    def verdict(call, got, want, tol, against, f, x, h, exact):
        error = gradcheck.norm_error(want, got)
        if error < tol:  # NaN compares False: a NaN result fails
            print(f"ok  {call}: relative error vs {against} < {tol:g}")
            return
        hint = numerical_gradient_mistake(got, f, x, h, exact) or (
            "Use the centred difference (f(x + h e_i) - f(x - h e_i)) / (2h) for every entry "
            "i, with the h passed in, and return it in an array of x's shape."
        )
        fail(call, f"relative error vs {against} = {error:.2e}, above {tol:g}", hint)

    for label, f, x, exact in numerical_gradient_cases():
        call, got = run(label, f, x, None)
        verdict(call, got, exact, NUMERICAL_GRADIENT_TOL, "the exact gradient", f, x, 1e-5, exact)
    for label, f, x, exact in numerical_gradient_cases():
        call, got = run(label, f, x, 1e-3)
        reference = gradcheck.numerical_gradient(f, x.copy(), h=1e-3)
        verdict(
            call,
            got,
            reference,
            NUMERICAL_GRADIENT_MATCH_TOL,
            "the centred difference with h=1e-3",
            f,
            x,
            1e-3,
            exact,
        )
    print(
        f"All visible checks passed (relative error below {NUMERICAL_GRADIENT_TOL:g} vs the "
        f"exact gradient, {NUMERICAL_GRADIENT_MATCH_TOL:g} vs the reference at h=1e-3)."
    )
