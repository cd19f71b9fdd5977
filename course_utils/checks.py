"""Visible checks for the notebooks' exercises: feedback a student can act on.

Each check prints one line per case with the value found, the value expected and the
tolerance, and raises ``AssertionError`` naming the first wrong case, so an nbgrader test
cell that calls it fails when the answer is wrong.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

from course_utils import init as _init

__all__ = ["check_cases", "check_init_std_functions", "last_layer_std", "check_std_search",
           "zca_check_data", "check_zca_whiten", "check_leaky_relu",
           "numerical_gradient_cases", "check_numerical_gradient", "check_inverted_dropout",
           "check_warmup_cosine",
           "bn_forward_cases", "check_bn_forward", "check_adam_step"]


def check_cases(name: str, func: Callable, cases: Sequence[tuple[tuple, dict]],
                expected: Callable, rel_tol: float = 1e-6) -> None:
    """Compare ``func(*args, **kwargs)`` with ``expected(*args, **kwargs)`` for each case.

    Parameters
    ----------
    name : str
        Name of the student's function, for the messages.
    func, expected : callable
    cases : sequence of (args, kwargs)
    rel_tol : float
        Relative tolerance (``math.isclose``).
    """
    if not callable(func):
        raise TypeError(f"{name} must be a function; got {type(func).__name__}")
    for args, kwargs in cases:
        call = ", ".join([*(repr(a) for a in args), *(f"{k}={v:g}" for k, v in kwargs.items())])
        want = expected(*args, **kwargs)
        got = func(*args, **kwargs)
        try:
            ok = math.isclose(float(got), want, rel_tol=rel_tol)
        except (TypeError, ValueError):
            raise AssertionError(f"{name}({call}) returned {got!r}: expected a number") from None
        mark = "ok " if ok else "WRONG"
        print(f"{mark} {name}({call}) = {float(got):.6g}   expected {want:.6g}")
        if not ok:
            raise AssertionError(
                f"{name}({call}) = {float(got):.6g}, expected {want:.6g} "
                f"(relative tolerance {rel_tol:g}). Check the formula in the text above."
            )


def check_init_std_functions(xavier_std: Callable, kaiming_std: Callable) -> None:
    """Chapter 03's first exercise: the Xavier and Kaiming standard deviations, with gain.

    The default gains and other gains (tanh's 5/3, 1 for a linear layer) are both tried: an
    answer that ignores ``gain`` fails here, not only in the hidden tests.
    """
    xavier_cases = [((4096, 4096), {}), ((512, 2048), {}), ((512, 2048), {"gain": 5 / 3})]
    check_cases("xavier_std", xavier_std, xavier_cases,
                lambda i, o, gain=1.0: _init.init_std("xavier", i, o, gain=gain))
    kaiming_cases = [((4096,), {}), ((512,), {}), ((512,), {"gain": 1.0})]
    check_cases("kaiming_std", kaiming_std, kaiming_cases,
                lambda i, gain=math.sqrt(2.0): _init.init_std("kaiming", i, 1, gain=gain))
    print("All visible checks passed (relative tolerance 1e-06).")


#: Chapter 03's second exercise: (target, activation, depth, width) searched by the visible
#: check, and targets a network cannot reach.
STD_SEARCH_CASES = ((0.5, "tanh", 6, 512), (0.8, "relu", 4, 256))
STD_SEARCH_UNREACHABLE = ((1.0, "tanh"), (0.0, "relu"))
STD_SEARCH_REL_TOL = 0.01


def last_layer_std(sigma: float, activation: str, depth: int, width: int, seed: int = 0) -> float:
    """Std of the last layer of ``init.forward_activations(depth, width, 16, activation,
    "normal", sigma, seed)``: what the second exercise aims at."""
    acts = _init.forward_activations(depth, width, 16, activation, "normal", sigma, seed)
    return float(_init.layer_stats(acts).std[-1])


def check_std_search(std_for_last_layer: Callable) -> None:
    """Chapter 03's second exercise: a weight std found by experiment.

    For each case of :data:`STD_SEARCH_CASES` the returned std must give a last-layer std
    within 1% of the target (any method that gets there is right); each target of
    :data:`STD_SEARCH_UNREACHABLE` must raise ``ValueError``.
    """
    if not callable(std_for_last_layer):
        raise TypeError("std_for_last_layer must be a function; "
                        f"got {type(std_for_last_layer).__name__}")
    for target, activation, depth, width in STD_SEARCH_CASES:
        call = f"std_for_last_layer({target:g}, {activation!r}, depth={depth}, width={width})"
        sigma = std_for_last_layer(target, activation, depth=depth, width=width)
        try:
            sigma = float(sigma)
            got = last_layer_std(sigma, activation, depth, width)
        except (TypeError, ValueError):
            raise AssertionError(
                f"{call} returned {sigma!r}: expected a positive number") from None
        ok = math.isclose(got, target, rel_tol=STD_SEARCH_REL_TOL)
        print(f"{'ok ' if ok else 'WRONG'} {call} = {sigma:.4g} = {sigma * math.sqrt(width):.3f}"
              f"/sqrt({width}): last-layer std {got:.4f}, target {target:g}")
        if not ok:
            raise AssertionError(
                f"{call} = {sigma:.4g} gives a last-layer std of {got:.4g}, not {target:g} "
                f"(relative tolerance {STD_SEARCH_REL_TOL:g}). Is the std measured on the last "
                "layer, with this activation, depth and width?")
    for target, activation in STD_SEARCH_UNREACHABLE:
        call = f"std_for_last_layer({target:g}, {activation!r})"
        try:
            sigma = std_for_last_layer(target, activation)
        except ValueError:
            print(f"ok  {call} raises ValueError: no std reaches this target")
            continue
        print(f"WRONG {call} = {sigma!r}")
        raise AssertionError(f"{call} returned {sigma!r}: no std can reach this target, so it "
                             "must raise ValueError. Which stds can this activation produce?")
    print(f"All visible checks passed (last-layer std within {STD_SEARCH_REL_TOL:.0%} of the "
          "target).")


# ------------------------------------------------------------------ chapter 02: ZCA
#: Chapter 02's exercise: identity covariance within this (ddof=0, eps=1e-10, float64).
ZCA_COV_TOL = 1e-6
ZCA_MATCH_TOL = 1e-8


def zca_check_data(n: int = 300, d: int = 4, seed: int = 0):
    """Well-conditioned correlated data with a non-zero mean, (n, d) float64."""
    import numpy as np

    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((d, d)) + 2 * np.eye(d)
    return rng.standard_normal((n, d)) @ mixing + np.arange(1, d + 1) * 3.0


def check_zca_whiten(zca_whiten: Callable) -> None:
    """Chapter 02's exercise: ``zca_whiten(X, eps) -> (X_white, W)`` with
    ``X_white = (X - mean) @ W``.

    Checked, in this order: shapes (N, D) and (D, D) and dtype float64; the mean removed
    (``X_white`` has mean 0); identity covariance (ddof=0, eps tiny) within
    :data:`ZCA_COV_TOL`; ``W`` symmetric (ZCA, not PCA); and, with a large eps, the same
    result as the reference :class:`course_utils.preprocessing.Whitener` (eps used).
    """
    import numpy as np

    from course_utils.preprocessing import Whitener

    if not callable(zca_whiten):
        raise TypeError(f"zca_whiten must be a function; got {type(zca_whiten).__name__}")

    def run(X, eps):
        out = zca_whiten(X.copy(), eps=eps)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise AssertionError(f"zca_whiten must return (X_white, W); got {type(out).__name__}")
        return np.asarray(out[0]), np.asarray(out[1])

    def verdict(ok, what, value, tol, hint):
        # Tiny round-off values differ between machines: print them only when wrong.
        line = f"{what} < {tol:g}" if ok else f"{what} = {value:.2e}, above {tol:g}"
        print(f"{'ok ' if ok else 'WRONG'} {line}")
        if not ok:
            raise AssertionError(f"{line}. {hint}")

    X = zca_check_data()
    n, d = X.shape
    white, W = run(X, 1e-10)
    shapes = f"X_white {white.shape} {white.dtype}, W {W.shape} {W.dtype}"
    ok = white.shape == (n, d) and W.shape == (d, d) and white.dtype == W.dtype == np.float64
    print(f"{'ok ' if ok else 'WRONG'} {shapes}")
    if not ok:
        raise AssertionError(f"{shapes}: expected X_white {(n, d)} and W {(d, d)}, float64. "
                             "X_white has one row per example; W is D x D.")
    mean = float(np.abs(white.mean(axis=0)).max())
    verdict(mean < ZCA_COV_TOL, "max |mean of X_white|", mean, ZCA_COV_TOL,
            "Subtract the mean of X before applying W.")
    centred = white - white.mean(axis=0)
    deviation = float(np.abs(centred.T @ centred / n - np.eye(d)).max())
    verdict(deviation < ZCA_COV_TOL, "eps=1e-10: max |cov(X_white) - I| (covariance / N)",
            deviation, ZCA_COV_TOL,
            "The covariance divides by N (ddof=0), and W = U (Λ + eps)^(-1/2) Uᵀ.")
    asymmetry = float(np.abs(W - W.T).max())
    verdict(asymmetry < ZCA_MATCH_TOL, "max |W - Wᵀ|", asymmetry, ZCA_MATCH_TOL,
            "ZCA's W is symmetric: rotate back with U after scaling (PCA whitening stops at "
            "(Λ + eps)^(-1/2) Uᵀ).")
    white, W = run(X, 1.0)
    reference = Whitener("zca", 1.0).fit(X)
    error = float(np.abs(W - reference.matrix_).max())
    verdict(error < ZCA_MATCH_TOL, "eps=1: max |W - W_reference|", error, ZCA_MATCH_TOL,
            "Is eps added to every eigenvalue before the square root?")
    print(f"All visible checks passed (covariance within {ZCA_COV_TOL:g} of I, W symmetric, "
          "eps used).")


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


# ------------------------------------------------------------------ chapter 08: gradient check
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
        return float(np.sum(np.sin(x) * x ** 2))

    grad1 = np.cos(x1) * x1 ** 2 + 2 * x1 * np.sin(x1)
    rng = np.random.default_rng(8)
    inputs = rng.standard_normal((6, 4))
    labels = np.array([0, 1, 2, 0, 1, 2])
    w = rng.standard_normal((4, 3)) * 0.5

    def f2(W):
        return softmax_cross_entropy(inputs @ W, labels)[0]

    grad2 = inputs.T @ softmax_cross_entropy(inputs @ w, labels)[1]
    return [("sum(sin(x) * x**2), x of shape (5,)", f1, x1, grad1),
            ("softmax cross-entropy of X @ W, W of shape (4, 3)", f2, w, grad2)]


def check_numerical_gradient(numerical_gradient: Callable) -> None:
    """Chapter 08's exercise: ``numerical_gradient(f, x, h=1e-5)`` by centred differences.

    Checked: the result is a float64 array of ``x``'s shape; ``x`` is left as it was; the
    whole-gradient relative error against the exact gradient is below
    :data:`NUMERICAL_GRADIENT_TOL` (a one-sided difference gives about 1e-6); and with
    ``h=1e-3`` the result matches :func:`course_utils.gradcheck.numerical_gradient` at the same
    step within :data:`NUMERICAL_GRADIENT_MATCH_TOL` (a step other than the one given, or a
    division by h instead of 2h, does not).
    """
    import numpy as np

    from course_utils import gradcheck

    if not callable(numerical_gradient):
        raise TypeError("numerical_gradient must be a function; "
                        f"got {type(numerical_gradient).__name__}")

    def run(label, f, x, h):
        original = x.copy()
        call = f"numerical_gradient({label}{'' if h is None else f', h={h:g}'})"
        got = numerical_gradient(f, x) if h is None else numerical_gradient(f, x, h=h)
        problem = None
        if not np.array_equal(x, original):
            problem = "changed x: restore every entry after perturbing it"
        elif not isinstance(got, np.ndarray):
            problem = f"returned a {type(got).__name__}, expected a NumPy array"
        elif got.shape != x.shape:
            problem = f"returned shape {got.shape}, expected x's shape {x.shape}"
        elif got.dtype != np.float64:
            problem = f"returned dtype {got.dtype}, expected float64"
        if problem:
            print(f"WRONG {call}: {problem}")
            raise AssertionError(f"{call} {problem}.")
        return call, got

    def verdict(call, error, tol, against, hint):
        ok = error < tol
        line = (f"{call}: relative error vs {against} < {tol:g}" if ok else
                f"{call}: relative error vs {against} = {error:.2e}, above {tol:g}")
        print(f"{'ok ' if ok else 'WRONG'} {line}")
        if not ok:
            raise AssertionError(f"{line}. {hint}")

    for label, f, x, exact in numerical_gradient_cases():
        call, got = run(label, f, x, None)
        verdict(call, gradcheck.norm_error(exact, got), NUMERICAL_GRADIENT_TOL,
                "the exact gradient",
                "Use the centred difference (f(x + h e_i) - f(x - h e_i)) / (2h): a one-sided "
                "(f(x + h e_i) - f(x)) / h has an error proportional to h, and dividing by h "
                "instead of 2h doubles the result.")
    for label, f, x, _ in numerical_gradient_cases():
        call, got = run(label, f, x, 1e-3)
        reference = gradcheck.numerical_gradient(f, x.copy(), h=1e-3)
        verdict(call, gradcheck.norm_error(reference, got), NUMERICAL_GRADIENT_MATCH_TOL,
                "the centred difference with h=1e-3",
                "Is the step h the one passed in (not a fixed 1e-5), moved by +h and -h, and "
                "divided by 2h?")
    print(f"All visible checks passed (relative error below {NUMERICAL_GRADIENT_TOL:g} vs the "
          f"exact gradient, {NUMERICAL_GRADIENT_MATCH_TOL:g} vs the reference at h=1e-3).")


# ------------------------------------------------------------------ chapter 09: update ratio
__all__ += ["update_ratio_check_cases", "check_update_ratio"]

#: Chapter 09's exercise: relative tolerance of the visible check.
UPDATE_RATIO_TOL = 1e-6


def update_ratio_check_cases():
    """The visible check's cases: ``(label, w, dw, lr)``, float64 arrays.

    Chosen so that each plausible slip gives a different number: lr is never 1 (a forgotten
    lr shows), ratios are not 1 (a squared norm shows), one step is large, ratio ~0.4 (dividing
    by the weights *after* the step shows), and matrices are not rank one (a spectral norm,
    ``np.linalg.norm(w, 2)``, shows).
    """
    import numpy as np

    rng = np.random.default_rng(9)
    w = rng.normal(0.0, 0.1, size=(64, 32))
    dw = rng.normal(0.0, 0.02, size=(64, 32))
    big_w = rng.normal(0.0, 1.0, size=(5, 4))
    return [("a typical layer, lr=0.01", w, dw, 0.01),
            ("the same layer, lr=3e-4", w, dw, 3e-4),
            ("a large step, lr=0.5", big_w, rng.normal(0.0, 1.0, size=(5, 4)), 0.5),
            ("a bias vector, lr=0.1", rng.normal(0.0, 0.5, size=10), rng.normal(size=10), 0.1)]


def check_update_ratio(update_ratio: Callable) -> None:
    """Chapter 09's exercise: ``update_ratio(w, dw, lr) -> float``, the size of the SGD step
    ``-lr * dw`` relative to the weights ``w`` *before* it, in Frobenius norms.

    Compared with :func:`course_utils.monitoring.sgd_update_ratio` on
    :func:`update_ratio_check_cases` within :data:`UPDATE_RATIO_TOL` (relative); the input
    arrays must not be changed.
    """
    import numpy as np

    from course_utils.monitoring import sgd_update_ratio

    if not callable(update_ratio):
        raise TypeError(f"update_ratio must be a function; got {type(update_ratio).__name__}")
    for label, w, dw, lr in update_ratio_check_cases():
        call = f"update_ratio(w {w.shape}, dw, lr={lr:g})"
        want = sgd_update_ratio(w, dw, lr)
        w_in, dw_in = w.copy(), dw.copy()
        got = update_ratio(w_in, dw_in, lr)
        problem = None
        if not (np.array_equal(w_in, w) and np.array_equal(dw_in, dw)):
            problem = ("changed w or dw in place: measure the step, do not take it "
                       "(w is the weights before the step)")
        else:
            try:
                got = float(got)
            except (TypeError, ValueError):
                problem = f"returned {got!r}: expected a number"
            else:
                if not math.isclose(got, want, rel_tol=UPDATE_RATIO_TOL):
                    problem = f"= {got:.6g}, expected {want:.6g}"
        if problem:
            print(f"WRONG {call} ({label}) {problem}")
            raise AssertionError(
                f"{call} ({label}) {problem} (relative tolerance {UPDATE_RATIO_TOL:g}). Is the "
                "step lr * dw (lr included)? Plain norms, not squared? Divided by the norm of "
                "w before the step?")
        print(f"ok  {call} ({label}) = {got:.6g}")
    print(f"All visible checks passed (relative tolerance {UPDATE_RATIO_TOL:g}).")


# ------------------------------------------------------------------ chapter 07: dropout
#: Chapter 07's exercise: the drop probabilities tried, the shape of the large test input,
#: and the tolerances of the statistical checks (10 standard errors: a right answer never
#: fails them, a keep/drop mix-up at p = 0.2 misses by far more).
INVERTED_DROPOUT_PS = (0.2, 0.5, 0.75)
INVERTED_DROPOUT_SHAPE = (200, 500)
INVERTED_DROPOUT_TOL = 1e-12


def check_inverted_dropout(inverted_dropout: Callable) -> None:
    """Chapter 07's exercise: ``inverted_dropout(x, p, train, rng) -> out``, version 2,
    ``p`` the probability of DROPPING (``torch.nn.Dropout``'s convention).

    Checked: test mode returns ``x`` itself in value (a float64 array of x's shape, x
    unchanged); training mode returns, for each entry, either 0 or ``x / (1 - p)`` (within
    :data:`INVERTED_DROPOUT_TOL`); the kept share is ``1 - p`` within 10 standard errors;
    rows get different masks; the mask comes from ``rng`` (the same seed gives the same
    output, another seed another one); ``p = 0`` keeps everything.
    """
    import numpy as np

    if not callable(inverted_dropout):
        raise TypeError("inverted_dropout must be a function; "
                        f"got {type(inverted_dropout).__name__}")

    def fail(call, problem, hint):
        print(f"WRONG {call}: {problem}")
        raise AssertionError(f"{call} {problem}. {hint}")

    def as_array(call, out, shape):
        if not isinstance(out, np.ndarray):
            fail(call, f"returned a {type(out).__name__}", "Return a NumPy array.")
        if out.shape != shape:
            fail(call, f"returned shape {out.shape}", f"Return an array of x's shape {shape}.")
        if out.dtype != np.float64:
            fail(call, f"returned dtype {out.dtype}", "Keep float64 (x * mask / (1 - p)).")
        return out

    x = np.random.default_rng(1).uniform(0.5, 2.0, INVERTED_DROPOUT_SHAPE)
    original = x.copy()
    for p in INVERTED_DROPOUT_PS:
        call = f"inverted_dropout(x, p={p:g}, train=False, rng)"
        out = as_array(call, inverted_dropout(x, p, False, np.random.default_rng(0)), x.shape)
        if not np.allclose(out, x, rtol=0, atol=INVERTED_DROPOUT_TOL):
            fail(call, f"returned {out.ravel()[0]!r} for x = {x.ravel()[0]!r}",
                 "Inverted dropout does nothing at test time: the scaling happened in training.")
        print(f"ok  {call} returns x")

        call = f"inverted_dropout(x, p={p:g}, train=True, rng=default_rng(0))"
        out = as_array(call, inverted_dropout(x, p, True, np.random.default_rng(0)), x.shape)
        if not np.array_equal(x, original):
            fail(call, "changed x in place", "Return a new array; leave x as it was.")
        kept = out != 0
        want = x / (1 - p)
        if not np.allclose(out[kept], want[kept], rtol=0, atol=INVERTED_DROPOUT_TOL):
            bad = np.flatnonzero(~np.isclose(out[kept], want[kept], rtol=0,
                                             atol=INVERTED_DROPOUT_TOL))[0]
            fail(call, f"kept an entry x = {x[kept][bad]:.4g} as {out[kept][bad]:.4g}, expected "
                 f"x / (1 - p) = {want[kept][bad]:.4g}",
                 "Kept units are divided by the keep probability 1 - p (p is the drop "
                 "probability).")
        share = float(kept.mean())
        tol = 10 * np.sqrt(p * (1 - p) / x.size)
        if abs(share - (1 - p)) > tol:
            fail(call, f"kept {share:.3f} of the units, expected 1 - p = {1 - p:.3f} "
                 f"(+- {tol:.3f})", "p is the probability of DROPPING a unit, as in "
                 "torch.nn.Dropout: keep a unit when rng.random() >= p.")
        rows_equal = float(np.mean(np.all(kept[1:] == kept[:1], axis=1)))
        if rows_equal > 0.5:
            fail(call, "used the same mask for every row",
                 "Draw one independent decision per entry: a mask of x's shape.")
        print(f"ok  {call}: kept {share:.3f} (expected {1 - p:.3f} +- {tol:.3f}), kept values "
              f"x / {1 - p:g}")

        again = inverted_dropout(x, p, True, np.random.default_rng(0))
        other = inverted_dropout(x, p, True, np.random.default_rng(1))
        if not np.array_equal(np.asarray(again), out):
            fail(call, "gave a different output for the same rng seed",
                 "Draw the mask from the rng argument (rng.random), not np.random.")
        if np.array_equal(np.asarray(other), out):
            fail(call, "gave the same output for another rng seed",
                 "Draw a new mask from the rng argument on every call.")
        print(f"ok  {call}: same seed, same mask; another seed, another mask")

    call = "inverted_dropout(x, p=0, train=True, rng)"
    out = as_array(call, inverted_dropout(x, 0.0, True, np.random.default_rng(0)), x.shape)
    if not np.allclose(out, x, rtol=0, atol=INVERTED_DROPOUT_TOL):
        fail(call, "changed x", "With p = 0 nothing is dropped and 1 - p = 1.")
    print(f"ok  {call} returns x")
    print(f"All visible checks passed (values within {INVERTED_DROPOUT_TOL:g}, kept share "
          "within 10 standard errors).")


# ------------------------------------------------------------------ chapter 06: schedules
#: Chapter 06's exercise: the settings the visible check tries (defaults, a short warm-up,
#: eta_min with a run past t_max, a run that ends inside the warm-up) and its tolerance.
WARMUP_COSINE_CASES = (
    dict(base_lr=0.1, steps=100, warmup_steps=10, t_max=90),
    dict(base_lr=1.0, steps=50, warmup_steps=5, t_max=45, start_factor=0.1),
    dict(base_lr=0.5, steps=60, warmup_steps=20, t_max=30, start_factor=0.25, eta_min=0.05),
    dict(base_lr=0.3, steps=8, warmup_steps=12, t_max=10),
)
WARMUP_COSINE_TOL = 1e-12


def check_warmup_cosine(warmup_cosine: Callable) -> None:
    """Chapter 06's exercise: linear warm-up followed by cosine annealing, as an array.

    Each case must return a float64 NumPy array of shape ``(steps,)`` equal to
    :func:`course_utils.schedules.warmup_cosine` (itself equal to torch's
    ``SequentialLR([LinearLR, CosineAnnealingLR])``) within :data:`WARMUP_COSINE_TOL`
    (absolute); the message names the first wrong step and the phase it is in.
    """
    import numpy as np

    from course_utils import schedules as _schedules

    if not callable(warmup_cosine):
        raise TypeError(f"warmup_cosine must be a function; got {type(warmup_cosine).__name__}")
    for case in WARMUP_COSINE_CASES:
        call = "warmup_cosine(" + ", ".join(f"{k}={v:g}" for k, v in case.items()) + ")"
        want = _schedules.warmup_cosine(**case)
        got = warmup_cosine(**case)
        problem = hint = None
        if not isinstance(got, np.ndarray):
            problem = f"returned a {type(got).__name__}, expected a NumPy array"
        elif got.shape != want.shape:
            problem = f"returned shape {got.shape}, expected ({case['steps']},)"
            hint = "One learning rate per step, steps in all, even when steps < warmup_steps."
        elif got.dtype != np.float64:
            problem = f"returned dtype {got.dtype}, expected float64"
        elif not np.allclose(got, want, rtol=0, atol=WARMUP_COSINE_TOL):
            t = int(np.flatnonzero(~np.isclose(got, want, rtol=0, atol=WARMUP_COSINE_TOL))[0])
            w = case["warmup_steps"]
            problem = f"lr[{t}] = {got[t]!r}, expected {want[t]!r}"
            hint = (f"Step {t} is in the warm-up (t < warmup_steps = {w}): "
                    "lr[t] = base_lr * (f + (1 - f) * t / warmup_steps), f = start_factor, "
                    "so lr[0] = start_factor * base_lr." if t < w else
                    f"Step {t} is in the cosine phase (t >= warmup_steps = {w}): it counts "
                    "from the end of the warm-up, lr[t] = eta_min + (base_lr - eta_min) * "
                    "(1 + cos(pi * (t - warmup_steps) / t_max)) / 2, so lr[warmup_steps] = "
                    "base_lr.")
        if problem:
            print(f"WRONG {call}: {problem}")
            raise AssertionError(f"{call} {problem}." + (f" {hint}" if hint else ""))
        print(f"ok  {call}: lr[0] = {want[0]:.4g}, max {want.max():.4g}, "
              f"lr[-1] = {want[-1]:.4g}")
    print(f"All visible checks passed (absolute tolerance {WARMUP_COSINE_TOL:g}).")


# ---------------------------------------------------------------- chapter 04: Batch Norm
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


# ------------------------------------------------------------------ chapter 10: log-uniform
__all__ += ["check_log_uniform", "LOG_UNIFORM_DRAWS", "LOG_UNIFORM_KS_TOL"]

#: Chapter 10's exercise: draws per distribution test, and the largest distance allowed
#: between their CDF and the log-uniform CDF (Kolmogorov-Smirnov statistic; a correct
#: sampler stays below 0.0138 with probability 99.9% at 20,000 draws).
LOG_UNIFORM_DRAWS = 20_000
LOG_UNIFORM_KS_TOL = 0.02


def check_log_uniform(sample_log_uniform: Callable) -> None:
    """Chapter 10's exercise: ``sample_log_uniform(low, high, size, rng)``.

    Checked, in this order: a float64 array of shape ``(size,)``; the generator ``rng`` is
    the only randomness (same seed, same draws; another seed, other draws); every draw in
    ``[low, high]`` and both ends reached (20,000 draws come within 2% of each); the
    distribution is log-uniform (each decade of [1e-5, 1e-1] gets a quarter of the draws,
    and the Kolmogorov-Smirnov distance to the log-uniform CDF is below
    :data:`LOG_UNIFORM_KS_TOL` on [1e-5, 1e-1] and on [2, 50]); ``ValueError`` unless
    ``0 < low < high``.
    """
    import numpy as np

    if not callable(sample_log_uniform):
        raise TypeError(f"sample_log_uniform must be a function; got "
                        f"{type(sample_log_uniform).__name__}")

    def wrong(what, hint):
        print(f"WRONG {what}")
        raise AssertionError(f"{what}. {hint}")

    out = sample_log_uniform(1e-3, 1.0, 5, np.random.default_rng(0))
    if not isinstance(out, np.ndarray) or out.shape != (5,) or out.dtype != np.float64:
        got = (f"{type(out).__name__} of shape {getattr(out, 'shape', '?')}, dtype "
               f"{getattr(out, 'dtype', '?')}")
        wrong(f"sample_log_uniform(1e-3, 1.0, 5, rng) returned a {got}",
              "Return a NumPy float64 array of shape (size,).")
    print("ok  sample_log_uniform(1e-3, 1.0, 5, rng) is a float64 array of shape (5,)")
    empty = sample_log_uniform(1e-3, 1.0, 0, np.random.default_rng(0))
    if np.shape(empty) != (0,):
        wrong(f"sample_log_uniform(1e-3, 1.0, 0, rng) returned shape {np.shape(empty)}",
              "size = 0 asks for an empty array, shape (0,).")
    print("ok  size 0 gives an empty array")
    again = sample_log_uniform(1e-3, 1.0, 5, np.random.default_rng(0))
    other = sample_log_uniform(1e-3, 1.0, 5, np.random.default_rng(1))
    if not np.array_equal(out, again) or np.array_equal(out, other):
        wrong("the draws do not follow rng (same seed: different draws, or another seed: the "
              "same draws)", "Draw with the rng you are given (rng.uniform(...)), not "
              "np.random.* or a new default_rng().")
    print("ok  the same rng seed gives the same draws, another seed other draws")
    for low, high in ((1e-5, 1e-1), (2.0, 50.0)):
        x = np.asarray(sample_log_uniform(low, high, LOG_UNIFORM_DRAWS,
                                          np.random.default_rng(2)), dtype=np.float64)
        if x.shape != (LOG_UNIFORM_DRAWS,) or not np.all(np.isfinite(x)):
            wrong(f"sample_log_uniform({low:g}, {high:g}, {LOG_UNIFORM_DRAWS}, rng) returned "
                  f"shape {x.shape} or non-finite values", "Return size finite draws.")
        if x.min() < low or x.max() > high or x.min() > low * 1.02 or x.max() < high / 1.02:
            wrong(f"{LOG_UNIFORM_DRAWS} draws from [{low:g}, {high:g}] span "
                  f"[{x.min():.4g}, {x.max():.4g}]", "The draws must cover [low, high] and no "
                  "more: take the logarithm of both bounds, draw uniformly between them, then "
                  "undo the logarithm with the same base.")
        print(f"ok  {LOG_UNIFORM_DRAWS} draws from [{low:g}, {high:g}] span "
              f"[{x.min():.4g}, {x.max():.4g}]")
        if low == 1e-5:
            shares = np.histogram(np.log10(x), bins=[-5, -4, -3, -2, -1])[0] / len(x)
            text = ", ".join(f"{s:.1%}" for s in shares)
            if np.abs(shares - 0.25).max() > 0.02:
                wrong(f"shares of the draws per decade of [1e-5, 1e-1]: {text} (expected 25% "
                      "each, within 2 points)", "Uniform draws crowd the top decade: draw the "
                      "*logarithm* uniformly.")
            print(f"ok  shares per decade of [1e-5, 1e-1]: {text} (25% each, within 2 points)")
        t = np.sort(x)
        cdf = np.log(t / low) / np.log(high / low)
        n = len(t)
        ks = float(max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n)))
        if ks > LOG_UNIFORM_KS_TOL:
            wrong(f"on [{low:g}, {high:g}] the largest gap between the draws' CDF and the "
                  f"log-uniform CDF is {ks:.3f}, above {LOG_UNIFORM_KS_TOL:g}",
                  "P(x <= t) must be ln(t/low) / ln(high/low).")
        print(f"ok  on [{low:g}, {high:g}] the draws follow the log-uniform CDF (KS distance "
              f"below {LOG_UNIFORM_KS_TOL:g})")
    for low, high in ((0.0, 1.0), (-1.0, 1.0), (1.0, 0.1), (0.5, 0.5)):
        try:
            with np.errstate(all="ignore"):
                sample_log_uniform(low, high, 3, np.random.default_rng(0))
        except ValueError:
            continue
        except Exception as error:  # e.g. numpy's OverflowError for log(0) = -inf
            wrong(f"sample_log_uniform({low:g}, {high:g}, 3, rng) raised "
                  f"{type(error).__name__}, not ValueError",
                  "Check 0 < low < high yourself and raise ValueError otherwise.")
        wrong(f"sample_log_uniform({low:g}, {high:g}, 3, rng) did not raise ValueError",
              "A log scale needs 0 < low < high: raise ValueError otherwise.")
    print("ok  ValueError unless 0 < low < high")
    print(f"All visible checks passed ({LOG_UNIFORM_DRAWS} draws, KS tolerance "
          f"{LOG_UNIFORM_KS_TOL:g}).")


# ------------------------------------------------------------------ chapter 05: Adam's step
#: Chapter 05's exercise: relative tolerance of the visible check (float64).
ADAM_STEP_TOL = 1e-6


def _adam_cases():
    """(title, x, dx, m, v, t, kwargs) for the visible check: a first step with the default
    betas, a later step with a large eps and other betas on a 2-D array."""
    import numpy as np

    first = ("first step, t=1, lr=0.1",
             np.array([1.0, -2.0, 0.5]), np.array([0.1, -0.3, 2.0]), np.zeros(3), np.zeros(3),
             1, {"lr": 0.1})
    later = ("t=3, lr=0.05, beta1=0.8, beta2=0.99, eps=0.5",
             np.array([[0.3, -1.2], [2.0, 0.0]]), np.array([[0.4, -0.1], [1.5, -2.5]]),
             np.array([[0.05, 0.02], [-0.3, 0.1]]), np.array([[0.01, 0.2], [0.04, 0.5]]),
             3, {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 0.5})
    return [first, later]


def check_adam_step(adam_step: Callable) -> None:
    """Chapter 05's exercise: ``adam_step(x, dx, m, v, t, lr, beta1, beta2, eps) ->
    (x_next, m, v)``, Kingma & Ba (ICLR 2015), Algorithm 1, as torch.optim.Adam.

    Checked against :func:`course_utils.optim.adam_step` within :data:`ADAM_STEP_TOL`
    (relative): a first step (where a missing bias correction makes the step 3.2 times too
    large), a later step with a large ``eps`` and other betas (eps inside the square root,
    eps before the bias correction, swapped betas), the returned ``m`` and ``v`` (the raw
    moments, not the corrected ones), five chained steps on f = x²/2, and the inputs left
    unchanged.
    """
    import numpy as np

    from course_utils.optim import adam_step as reference

    if not callable(adam_step):
        raise TypeError(f"adam_step must be a function; got {type(adam_step).__name__}")

    hints = {
        "x_next": "x_next = x - lr * m_hat / (sqrt(v_hat) + eps), with m_hat = m / (1 - beta1**t) "
                  "and v_hat = v / (1 - beta2**t): is each moment bias-corrected, and is eps "
                  "added after the square root?",
        "m": "Return the raw moment m = beta1 * m + (1 - beta1) * dx (not m_hat): the next step "
             "builds on it.",
        "v": "Return the raw moment v = beta2 * v + (1 - beta2) * dx**2 (not v_hat).",
    }

    def compare(title, got, want):
        if not (isinstance(got, tuple) and len(got) == 3):
            print(f"WRONG {title}: returned {type(got).__name__}")
            raise AssertionError(f"{title}: adam_step must return (x_next, m, v)")
        for name, g, w in zip(("x_next", "m", "v"), got, want):
            g = np.asarray(g, dtype=np.float64) if isinstance(g, np.ndarray) else g
            if not isinstance(g, np.ndarray) or g.shape != w.shape:
                shape = getattr(g, "shape", type(g).__name__)
                print(f"WRONG {title}: {name} has shape {shape}, expected {w.shape}")
                raise AssertionError(f"{title}: {name} must be an array of shape {w.shape}")
            if not np.allclose(g, w, rtol=ADAM_STEP_TOL, atol=1e-12):
                print(f"WRONG {title}: {name} = {np.round(g, 6).ravel().tolist()}, expected "
                      f"{np.round(w, 6).ravel().tolist()}")
                raise AssertionError(f"{title}: {name} is wrong (relative tolerance "
                                     f"{ADAM_STEP_TOL:g}). {hints[name]}")

    for title, x, dx, m, v, t, kwargs in _adam_cases():
        inputs = [a.copy() for a in (x, dx, m, v)]
        got = adam_step(*inputs, t, **kwargs)
        if not all(np.array_equal(a, b) for a, b in zip(inputs, (x, dx, m, v))):
            print(f"WRONG {title}: an input array was changed in place")
            raise AssertionError(f"{title}: adam_step changed an input array in place; "
                                 "return new arrays (m = beta1 * m + ..., not m *= beta1)")
        want = reference(x, dx, m, v, t, **kwargs)
        compare(title, got, want)
        print(f"ok  {title}: x_next = {np.round(want[0], 4).ravel().tolist()}")

    x_mine = x_ref = np.array([1.0, -3.0])
    m_mine = v_mine = m_ref = v_ref = np.zeros(2)
    for t in range(1, 6):
        got = adam_step(x_mine, x_mine.copy(), m_mine, v_mine, t, lr=0.1)
        want = reference(x_ref, x_ref.copy(), m_ref, v_ref, t, lr=0.1)
        compare(f"step t={t} of five on f = x²/2", got, want)
        (x_mine, m_mine, v_mine), (x_ref, m_ref, v_ref) = got, want
    print(f"ok  five chained steps on f = x²/2 from [1, -3]: x_5 = "
          f"{np.round(x_ref, 4).tolist()}")
    print(f"All visible checks passed (relative tolerance {ADAM_STEP_TOL:g}).")
