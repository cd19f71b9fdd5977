"""Chapter 05's exercises: one Nesterov momentum step, one Adam step.

Each check computes the expected values with the course's reference (outside), runs the
student's function inside :func:`course_utils.references.hidden` (so an answer that calls the
reference fails with :class:`~course_utils.references.ReferenceUnavailable`), checks that the
inputs are left unchanged, and on a wrong result compares it with what each usual mistake
would give, to say which one it looks like.
"""

from __future__ import annotations

from typing import Callable

from course_utils.checking import call_answer
from course_utils.references import reference_answer

__all__ = ["ADAM_STEP_TOL", "NESTEROV_STEP_TOL", "check_adam_step", "check_nesterov_step"]

#: Chapter 05's Adam exercise: relative tolerance of the visible check (float64).
ADAM_STEP_TOL = 1e-6
#: Chapter 05's Nesterov exercise: relative tolerance of the visible check (float64).
NESTEROV_STEP_TOL = 1e-9


# --- shared plumbing ----------------------------------------------------------------------------


def _as_float_array(value):
    """``value`` as a float64 array, or ``None`` if it is not numeric (untrusted value)."""
    import numpy as np

    if not isinstance(value, np.ndarray):
        return None
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _matches(got: tuple, variant: tuple, rtol: float) -> bool:
    """Whether each array of ``got`` equals the one of ``variant`` (NaN matching NaN)."""
    import numpy as np

    with np.errstate(all="ignore"):
        return all(
            g is not None
            and g.shape == np.shape(w)
            and np.allclose(g, w, rtol=rtol, atol=1e-12, equal_nan=True)
            for g, w in zip(got, variant)
        )


def _fail(title: str, problem: str, hint: str):
    print(f"WRONG {title}: {problem}")
    raise AssertionError(f"{title}: {problem}. {hint}")


def _unchanged(title: str, name: str, before: tuple, after: tuple, how: str) -> None:
    import numpy as np

    if not all(np.array_equal(a, b, equal_nan=True) for a, b in zip(before, after)):
        _fail(
            title,
            "an input array was changed in place",
            f"{name} must return new arrays and leave its inputs alone ({how}).",
        )


def _check_result(title: str, function: str, names: tuple, got, want: tuple, tol: float, hint):
    """Fail ``title`` unless ``got`` is the tuple ``names`` of arrays equal to ``want`` within
    ``tol`` (relative); ``hint(arrays)`` says what a wrong value looks like."""
    import numpy as np

    if not (isinstance(got, tuple) and len(got) == len(names)):
        _fail(
            title,
            f"returned {type(got).__name__}"
            + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""),
            f"{function} must return the tuple ({', '.join(names)}).",
        )
    arrays = tuple(_as_float_array(a) for a in got)
    for name, g, w, raw in zip(names, arrays, want, got):
        if g is None or g.shape != w.shape:
            _fail(
                title,
                f"{name} is {getattr(raw, 'shape', type(raw).__name__)}, expected "
                f"an array of shape {w.shape}",
                "Return NumPy arrays of x's shape.",
            )
    with np.errstate(all="ignore"):
        wrong = [
            (n, g, w)
            for n, g, w in zip(names, arrays, want)
            if not np.allclose(g, w, rtol=tol, atol=1e-12)
        ]
    if wrong:
        name, g, w = wrong[0]
        _fail(
            title,
            f"{name} = {np.round(g, 6).ravel().tolist()}, expected "
            f"{np.round(w, 6).ravel().tolist()} (relative tolerance {tol:g})",
            hint(arrays),
        )


# --- Nesterov momentum --------------------------------------------------------------------------


def _nesterov_cases():
    """(title, gradient, x, v, lr, momentum): from rest, moving on an ill-conditioned quadratic,
    moving on a curved (non-linear) gradient with a 2-D parameter."""
    import numpy as np

    lam = np.array([0.5, 4.0])
    coupled = np.array([[2.0, 0.8], [0.8, 1.0]])
    return [
        (
            "from rest (v = 0), f = (0.5 x² + 4 y²)/2, lr=0.1, momentum=0.9",
            lambda z: lam * z,
            np.array([1.0, -2.0]),
            np.zeros(2),
            0.1,
            0.9,
        ),
        (
            "moving (v ≠ 0), f = (0.5 x² + 4 y²)/2, lr=0.1, momentum=0.9",
            lambda z: lam * z,
            np.array([1.0, -2.0]),
            np.array([0.3, 0.5]),
            0.1,
            0.9,
        ),
        (
            "moving, f = z·Az/2 with a coupled A, lr=0.05, momentum=0.8",
            lambda z: coupled @ z,
            np.array([1.5, -0.5]),
            np.array([-0.4, 0.7]),
            0.05,
            0.8,
        ),
        (
            "moving, gradient z³ - z on a (2, 2) array, lr=0.2, momentum=0.6",
            lambda z: z**3 - z,
            np.array([[0.5, -1.5], [2.0, 0.1]]),
            np.array([[0.2, 0.3], [-0.6, 0.05]]),
            0.2,
            0.6,
        ),
    ]


_NESTEROV_HINTS = {
    "plain momentum": "This is heavy-ball (plain) momentum: the gradient was taken at x. "
    "Nesterov takes it at the look-ahead point x + momentum * v, where the "
    "velocity is about to carry the parameters.",
    "pytorch buffer": "That is PyTorch's buffer form (b = momentum * b + g, step lr * (g + "
    "momentum * b)) with v read as b. Here v is the velocity (CS231n's form), which "
    "already contains -lr * gradient: v_next = momentum * v - lr * g, with g "
    "the gradient at x + momentum * v, and x_next = x + v_next.",
    "ascent": "Wrong sign: the velocity moves against the gradient, "
    "v_next = momentum * v - lr * g, then x_next = x + v_next.",
    "x from the look-ahead": "x_next = x + v_next starts from x, not from the look-ahead point "
    "x + momentum * v (that point is only where the gradient is taken).",
    "x - v": "Wrong sign in the position update: x_next = x + v_next (the velocity already "
    "points downhill).",
    "old v returned": "Return the new velocity v_next, not the v you were given: the next step "
    "builds on it.",
    "swapped": "Return (x_next, v_next), in that order.",
    "no lr": "The gradient term of the velocity is lr * g: v_next = momentum * v - lr * g.",
    "lr on the position": "In the velocity form the velocity already contains the learning "
    "rate: v_next = momentum * v - lr * g, and x_next = x + v_next (no lr "
    "in front of the velocity).",
}


@reference_answer("nesterov_step")  # the variants' pieces would add up to the answer
def _nesterov_variants(grad, x, v, lr, mu):
    """What each usual wrong answer returns for these inputs (never the right answer)."""
    import numpy as np

    ahead = x + mu * v
    g = np.asarray(grad(ahead), dtype=np.float64)
    g_x = np.asarray(grad(x), dtype=np.float64)
    v_new = mu * v - lr * g
    b_new = mu * v + g_x
    return {
        "plain momentum": [(x + mu * v - lr * g_x, mu * v - lr * g_x)],
        "pytorch buffer": [
            (x - lr * (g_x + mu * b_new), b_new),
            (x - lr * (g + mu * (mu * v + g)), mu * v + g),
        ],
        "ascent": [(x + mu * v + lr * g, mu * v + lr * g), (x - v_new, -v_new)],
        "x from the look-ahead": [(ahead + v_new, v_new)],
        "x - v": [(x - v_new, v_new)],
        "old v returned": [(x + v_new, v)],
        "swapped": [(v_new, x + v_new)],
        "no lr": [(x + mu * v - g, mu * v - g)],
        "lr on the position": [(x + lr * (mu * v - g), mu * v - g)],
    }


def _nesterov_hint(grad, x, v, lr, mu, points, got):
    """Which usual mistake ``got`` looks like: from what it returned, else from where ``grad``
    was evaluated."""
    import numpy as np

    with np.errstate(all="ignore"):
        for name, candidates in _nesterov_variants(grad, x, v, lr, mu).items():
            if any(_matches(got, candidate, 1e-9) for candidate in candidates):
                return _NESTEROV_HINTS[name]

    def evaluated_at(point):
        return any(
            p.shape == x.shape and np.allclose(p, point, rtol=1e-12, atol=1e-15) for p in points
        )

    if not points:
        return "grad was never called: the step needs the gradient at x + momentum * v."
    if not evaluated_at(x + mu * v):
        if evaluated_at(x):
            return (
                "grad was evaluated at x, not at the look-ahead point x + momentum * v: "
                "that is plain momentum."
            )
        if evaluated_at(x - mu * v):
            return (
                "grad was evaluated at x - momentum * v: the look-ahead goes the way the "
                "velocity points, x + momentum * v (v already holds descent's minus sign)."
            )
        if evaluated_at(x + v):
            return "grad was evaluated at x + v: the look-ahead point is x + momentum * v."
        return (
            "grad was never evaluated at the look-ahead point x + momentum * v (with the "
            "velocity v you were given, before updating it)."
        )
    return (
        "The gradient was taken at the right point; check the velocity, "
        "v_next = momentum * v - lr * g, and x_next = x + v_next."
    )


def check_nesterov_step(nesterov_step: Callable) -> None:
    """Chapter 05's exercise: ``nesterov_step(grad, x, v, lr, momentum) -> (x_next, v_next)``,
    Nesterov momentum in the velocity form (Sutskever et al., ICML 2013).

    Checked against :func:`course_utils.optim.nesterov_step` within :data:`NESTEROV_STEP_TOL`
    (relative): a step from rest (where Nesterov and plain momentum agree, so sign and
    learning-rate mistakes show alone), steps with a velocity on a diagonal and a coupled
    quadratic, one on a non-linear gradient with a 2-D parameter, five chained steps, and the
    inputs left unchanged. A wrong answer is told where it evaluated the gradient (x: plain
    momentum; x - momentum * v: wrong sign) or which update it looks like.
    """
    import numpy as np

    from course_utils.optim import nesterov_step as reference

    if not callable(nesterov_step):
        raise TypeError(f"nesterov_step must be a function; got {type(nesterov_step).__name__}")

    def one_step(title, grad, x, v, lr, mu):
        want = reference(grad, x, v, lr, mu)
        points = []

        def recorded(z):
            points.append(np.array(z, dtype=np.float64, copy=True))
            return grad(np.array(z, dtype=np.float64, copy=True))

        inputs = (x.copy(), v.copy())
        got = call_answer("nesterov_step", title, nesterov_step, recorded, *inputs, lr, mu)
        _unchanged(
            title, "nesterov_step", (x, v), inputs, "v_next = momentum * v - ..., not v *= momentum"
        )
        _check_result(
            title,
            "nesterov_step",
            ("x_next", "v_next"),
            got,
            want,
            NESTEROV_STEP_TOL,
            lambda arrays: _nesterov_hint(grad, x, v, lr, mu, points, arrays),
        )
        return want

    for title, grad, x, v, lr, mu in _nesterov_cases():
        want = one_step(title, grad, x, v, lr, mu)
        print(f"ok  {title}: x_next = {np.round(want[0], 4).ravel().tolist()}")

    lam = np.array([0.1, 10.0])
    x, v = np.array([3.0, 1.0]), np.zeros(2)
    for t in range(1, 6):
        x, v = one_step(
            f"step {t} of five on f = (0.1 x² + 10 y²)/2 from (3, 1), lr=0.05, momentum=0.9",
            lambda z: lam * z,
            x,
            v,
            0.05,
            0.9,
        )
    print(
        f"ok  five chained steps on f = (0.1 x² + 10 y²)/2 from (3, 1): x_5 = "
        f"{np.round(x, 4).tolist()}"
    )
    print(f"All visible checks passed (relative tolerance {NESTEROV_STEP_TOL:g}).")


# --- Adam ---------------------------------------------------------------------------------------


def _adam_cases():
    """(title, x, dx, m, v, t, kwargs) for the visible check: a first step with the default
    betas, a later step with a large eps and other betas on a 2-D array."""
    import numpy as np

    first = (
        "first step, t=1, lr=0.1",
        np.array([1.0, -2.0, 0.5]),
        np.array([0.1, -0.3, 2.0]),
        np.zeros(3),
        np.zeros(3),
        1,
        {"lr": 0.1},
    )
    later = (
        "t=3, lr=0.05, beta1=0.8, beta2=0.99, eps=0.5",
        np.array([[0.3, -1.2], [2.0, 0.0]]),
        np.array([[0.4, -0.1], [1.5, -2.5]]),
        np.array([[0.05, 0.02], [-0.3, 0.1]]),
        np.array([[0.01, 0.2], [0.04, 0.5]]),
        3,
        {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 0.5},
    )
    return [first, later]


_ADAM_HINTS = {
    "no bias correction": "Bias correction missing: divide m by (1 - beta1**t) and v by "
    "(1 - beta2**t) before the step (m_hat, v_hat).",
    "only m corrected": "v is not bias-corrected: v_hat = v / (1 - beta2**t).",
    "only v corrected": "m is not bias-corrected: m_hat = m / (1 - beta1**t).",
    "eps inside the sqrt": "eps goes after the square root: sqrt(v_hat) + eps, not "
    "sqrt(v_hat + eps).",
    "eps before the correction": "eps is added to sqrt(v_hat), the corrected moment: "
    "sqrt(v / (1 - beta2**t)) + eps, not (sqrt(v) + eps) / "
    "sqrt(1 - beta2**t) (the paper's 'efficient' order changes eps).",
    "betas swapped": "beta1 belongs to m (the gradient's average), beta2 to v (the squared "
    "gradient's).",
    "no sqrt": "Divide by the square root of v_hat: sqrt(v_hat) + eps.",
    "corrected moments returned": "Return the raw moments m and v, not m_hat and v_hat: the next "
    "step builds on the raw ones.",
    "ascent": "Wrong sign: Adam steps against the gradient, x - lr * m_hat / (...).",
    "t one too many": "Use t as given (1 for the first step): your bias correction looks one "
    "step ahead.",
    "t from 0": "Use t as given (1 for the first step), not t - 1.",
    "|g| instead of g²": "v averages the squared gradient dx**2, not |dx|.",
    "m without (1 - beta1)": "m = beta1 * m + (1 - beta1) * dx: the new gradient's weight is "
    "(1 - beta1).",
}


@reference_answer("adam_step")  # the variants' pieces would add up to the answer
def _adam_variants(x, dx, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """What each usual wrong answer returns for these inputs (never the right answer)."""
    import numpy as np

    def moments(b1, b2, square=lambda g: g**2, m_weight=None):
        return (
            b1 * m + ((1 - b1) if m_weight is None else m_weight) * dx,
            b2 * v + (1 - b2) * square(dx),
        )

    def step(mh, vh, sign=-1):
        return x + sign * lr * mh / (np.sqrt(vh) + eps)

    m1, v1 = moments(beta1, beta2)
    c1, c2 = 1 - beta1**t, 1 - beta2**t
    out = {}
    with np.errstate(all="ignore"):
        mh, vh = m1 / c1, v1 / c2
        out["no bias correction"] = (step(m1, v1), m1, v1)
        out["only m corrected"] = (step(mh, v1), m1, v1)
        out["only v corrected"] = (step(m1, vh), m1, v1)
        out["eps inside the sqrt"] = (x - lr * mh / np.sqrt(vh + eps), m1, v1)
        out["eps before the correction"] = (
            x - lr * mh / ((np.sqrt(v1) + eps) / np.sqrt(c2)),
            m1,
            v1,
        )
        ms, vs = moments(beta2, beta1)
        out["betas swapped"] = (
            x - lr * (ms / (1 - beta2**t)) / (np.sqrt(vs / (1 - beta1**t)) + eps),
            ms,
            vs,
        )
        out["no sqrt"] = (x - lr * mh / (vh + eps), m1, v1)
        out["corrected moments returned"] = (step(mh, vh), mh, vh)
        out["ascent"] = (step(mh, vh, +1), m1, v1)
        for name, s in (("t one too many", t + 1), ("t from 0", t - 1)):
            out[name] = (step(m1 / (1 - beta1**s), v1 / (1 - beta2**s)), m1, v1)
        ma, va = moments(beta1, beta2, square=np.abs)
        out["|g| instead of g²"] = (step(ma / c1, va / c2), ma, va)
        mg, vg = moments(beta1, beta2, m_weight=1.0)
        out["m without (1 - beta1)"] = (step(mg / c1, v1 / c2), mg, v1)
    return out


def check_adam_step(adam_step: Callable) -> None:
    """Chapter 05's exercise: ``adam_step(x, dx, m, v, t, lr, beta1, beta2, eps) ->
    (x_next, m, v)``, Kingma & Ba (ICLR 2015), Algorithm 1, as torch.optim.Adam.

    Checked against :func:`course_utils.optim.adam_step` within :data:`ADAM_STEP_TOL`
    (relative): a first step (where a missing bias correction makes the step 3.2 times too
    large), a later step with a large ``eps`` and other betas (eps inside the square root,
    eps before the bias correction, swapped betas), the returned ``m`` and ``v`` (the raw
    moments, not the corrected ones), five chained steps on f = x²/2, and the inputs left
    unchanged. A wrong answer is compared with what each usual mistake gives, and the message
    names the one it matches (or how far off the step is).
    """
    import numpy as np

    from course_utils.optim import adam_step as reference

    if not callable(adam_step):
        raise TypeError(f"adam_step must be a function; got {type(adam_step).__name__}")

    def diagnose(x, dx, m, v, t, kwargs, arrays, want):
        for name, variant in _adam_variants(x, dx, m, v, t, **kwargs).items():
            if _matches(arrays, variant, 1e-6):
                return _ADAM_HINTS[name]
        with np.errstate(all="ignore"):
            if not np.all(np.isfinite(arrays[0])):
                return (
                    "x_next has NaN or infinite entries: is t used as given (t = 1 at the "
                    "first step, so 1 - beta**t is not 0)?"
                )
            if not np.allclose(arrays[0], want[0], rtol=ADAM_STEP_TOL, atol=1e-12):
                moved = np.abs(want[0] - x) > 0
                ratio = np.median(np.abs(arrays[0] - x)[moved] / np.abs(want[0] - x)[moved])
                same_sign = np.median((np.sign(arrays[0] - x) * np.sign(want[0] - x))[moved])
                size = f"Your step is {ratio:.3g} times the expected one" + (
                    " and points the other way" if same_sign < 0 else ""
                )
                if not _matches(arrays[1:], want[1:], ADAM_STEP_TOL):
                    return (
                        f"{size}, and m or v is wrong too: m = beta1 * m + (1 - beta1) * dx, "
                        "v = beta2 * v + (1 - beta2) * dx**2."
                    )
                return (
                    f"{size}; the moments are right. x_next = x - lr * m_hat / "
                    "(sqrt(v_hat) + eps), m_hat = m / (1 - beta1**t), "
                    "v_hat = v / (1 - beta2**t)."
                )
        # x_next is right, a returned moment is not: say which mistake it looks like
        kw = {"beta1": 0.9, "beta2": 0.999, **kwargs}
        b1, b2 = kw["beta1"], kw["beta2"]
        name, got, raw = (
            ("m", arrays[1], want[1])
            if not _matches(arrays[1:2], want[1:2], ADAM_STEP_TOL)
            else ("v", arrays[2], want[2])
        )
        ok_beta, other_beta = (b1, b2) if name == "m" else (b2, b1)
        g = dx if name == "m" else dx**2
        earlier = m if name == "m" else v
        rule = f"{name} = {'beta1' if name == 'm' else 'beta2'} * {name} + (1 - ...) * " + (
            "dx" if name == "m" else "dx**2"
        )
        if _matches((got,), (other_beta * earlier + (1 - other_beta) * g,), 1e-6):
            return (
                f"{name} is averaged with the other beta: {rule}; beta1 belongs to m (the "
                "gradient's average), beta2 to v (the squared gradient's)."
            )
        if _matches((got,), (raw / (1 - ok_beta**t),), 1e-6):
            return f"Return the raw {name}, not {name}_hat: the next step builds on it ({rule})."
        return f"{name} is wrong although x_next is right: {rule}."

    def one_step(title, x, dx, m, v, t, kwargs):
        want = reference(x, dx, m, v, t, **kwargs)
        inputs = [a.copy() for a in (x, dx, m, v)]
        got = call_answer("adam_step", title, adam_step, *inputs, t, **kwargs)
        _unchanged(title, "adam_step", (x, dx, m, v), inputs, "m = beta1 * m + ..., not m *= beta1")
        _check_result(
            title,
            "adam_step",
            ("x_next", "m", "v"),
            got,
            want,
            ADAM_STEP_TOL,
            lambda arrays: diagnose(x, dx, m, v, t, kwargs, arrays, want),
        )
        return want

    for title, x, dx, m, v, t, kwargs in _adam_cases():
        want = one_step(title, x, dx, m, v, t, kwargs)
        print(f"ok  {title}: x_next = {np.round(want[0], 4).ravel().tolist()}")

    x, m, v = np.array([1.0, -3.0]), np.zeros(2), np.zeros(2)
    for t in range(1, 6):
        x, m, v = one_step(f"step t={t} of five on f = x²/2", x, x.copy(), m, v, t, {"lr": 0.1})
    print(f"ok  five chained steps on f = x²/2 from [1, -3]: x_5 = {np.round(x, 4).tolist()}")
    print(f"All visible checks passed (relative tolerance {ADAM_STEP_TOL:g}).")
