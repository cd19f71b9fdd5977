"""Chapter 04's second exercise check: Batch Norm's backward pass in training mode.

Split from :mod:`course_utils.chapters.ch04_batchnorm.checks`, which imports every public name
here back (``checks.check_bn_backward`` etc. keep working). :func:`check_bn_backward` computes
the expected gradients with :mod:`course_utils.batchnorm` and by centred differences
(:func:`bn_numerical_gradients`), then runs the student's function inside
``references.hidden("bn_backward")``; a wrong value is compared with the usual wrong answers
(:func:`bn_backward_mistake`).
"""

from __future__ import annotations

from typing import Callable

from course_utils.chapters.ch04_batchnorm.checks_answers import (
    as_float_array,
    eps_arguments,
    matches,
)
from course_utils.checking import call_answer

__all__ = [
    "BN_BACKWARD_TOL",
    "BN_NUMERICAL_TOL",
    "bn_backward_cases",
    "bn_numerical_gradients",
    "bn_backward_mistake",
    "check_bn_backward",
]

#: Absolute and relative tolerance of :func:`check_bn_backward` against the reference
#: (float64; the compact formula and a step-by-step backward agree to ~1e-13).
BN_BACKWARD_TOL = 1e-8
#: Largest error allowed against a numerical gradient (centred differences), relative to the
#: size of the gradient's terms: the differences themselves are only accurate to ~1e-9.
BN_NUMERICAL_TOL = 1e-6


# ----------------------------------------------------------------------------- backward pass
def bn_backward_cases():
    """The batches :func:`check_bn_backward` tries: (name, dout, x, gamma, eps).

    N differs from D in every case, so a sum over the wrong axis shows in the shape.
    ``eps=None``: the answer is called without ``eps``, so its default (1e-5) is used.
    """
    import numpy as np

    rng = np.random.default_rng(44)
    return [
        (
            "4 x 3, eps by default",
            rng.standard_normal((4, 3)),
            3.0 + 2.0 * rng.standard_normal((4, 3)),
            np.array([1.0, 0.5, 2.0]),
            None,
        ),
        (
            "16 x 5, features of very different scales",
            rng.standard_normal((16, 5)),
            rng.standard_normal((16, 5)) * np.array([0.01, 0.1, 1.0, 10.0, 100.0]),
            rng.uniform(0.5, 2.0, 5),
            1e-5,
        ),
        (
            "a batch of 2",
            rng.standard_normal((2, 6)),
            rng.standard_normal((2, 6)),
            np.full(6, 2.0),
            1e-5,
        ),
        (
            "8 x 4, large eps = 0.1",
            rng.standard_normal((8, 4)),
            0.2 * rng.standard_normal((8, 4)),
            np.array([1.0, -2.0, 0.5, 3.0]),
            0.1,
        ),
    ]


def _bn_loss(x, gamma, beta, dout, eps) -> float:
    """L = sum(dout * BN(x)): its gradient is the backward pass of dout."""
    import numpy as np

    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    return float(np.sum(dout * (gamma * x_hat + beta)))


def bn_numerical_gradients(dout, x, gamma, eps):
    """(dx, dgamma, dbeta) of L = sum(dout * BN(x)) by centred differences.

    Each x_ij moves by h = 1e-4 * sqrt(var_j + eps), its feature's own scale (a fixed h is
    too large for a feature of std 0.01 and too small for one of std 100).
    """
    import numpy as np

    x = np.array(x, dtype=np.float64)
    gamma = np.array(gamma, dtype=np.float64)
    beta = np.zeros_like(gamma)
    steps = 1e-4 * np.sqrt(x.var(axis=0) + eps)
    dx = np.zeros_like(x)
    for (i, j), _ in np.ndenumerate(x):
        h, keep = steps[j], x[i, j]
        x[i, j] = keep + h
        up = _bn_loss(x, gamma, beta, dout, eps)
        x[i, j] = keep - h
        down = _bn_loss(x, gamma, beta, dout, eps)
        x[i, j] = keep
        dx[i, j] = (up - down) / (2 * h)
    grads = []
    for which in (gamma, beta):
        g = np.zeros_like(which)
        for j in range(len(which)):
            keep = which[j]
            which[j] = keep + 1e-5
            up = _bn_loss(x, gamma, beta, dout, eps)
            which[j] = keep - 1e-5
            down = _bn_loss(x, gamma, beta, dout, eps)
            which[j] = keep
            g[j] = (up - down) / 2e-5
        grads.append(g)
    return dx, grads[0], grads[1]


def _numerical_error(got, numerical, scale) -> float:
    """Largest difference from the numerical gradient, relative to ``scale``."""
    import numpy as np

    return float(np.max(np.abs(got - numerical)) / scale)


def bn_backward_mistake(part: str, dout, x, gamma, eps, got) -> str:
    """The likely mistake behind a wrong ``part`` ("dx", "dgamma" or "dbeta") of
    ``bn_backward_train(dout, x, gamma, eps)``: the usual wrong answers are computed here and
    compared with ``got``; the first that matches names the mistake."""
    import numpy as np

    dout = np.asarray(dout, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    gamma = np.asarray(gamma, dtype=np.float64)
    n, d = x.shape
    mean, var = x.mean(axis=0), x.var(axis=0)
    s = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * s
    dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
    got = np.asarray(got, dtype=np.float64)

    # wrong normalisations, each as (s, x_hat, hint): a mistake in the forward part shows in
    # dgamma and in dx alike
    with np.errstate(all="ignore"):
        s_u = 1.0 / np.sqrt(x.var(axis=0, ddof=1) + eps)
        s_0 = 1.0 / np.sqrt(var)
        s_out = 1.0 / (np.sqrt(var) + eps)
        s_rows = 1.0 / np.sqrt(x.var(axis=1, keepdims=True) + eps)
        normalisations = [
            (
                s_u,
                (x - mean) * s_u,
                "You normalised with the unbiased variance (ddof=1). The forward pass divides by N "
                "(the biased variance, np.var's default), and so does its gradient.",
            ),
            (
                s_0,
                (x - mean) * s_0,
                "eps is missing: s = 1 / sqrt(var + eps) and x_hat = (x - mean) * s, as in the "
                "forward pass.",
            ),
            (
                s_out,
                (x - mean) * s_out,
                "eps goes inside the square root, s = 1 / sqrt(var + eps), as in the forward pass.",
            ),
            (
                s_rows,
                (x - x.mean(axis=1, keepdims=True)) * s_rows,
                "You took the statistics over each example's features (axis=1), Layer Norm's. "
                "Batch Norm's mean and variance are per feature, over the batch (axis=0).",
            ),
        ]

    def match(candidates, fallback):
        for candidate, hint in candidates:
            if candidate is not None and matches(got, np.asarray(candidate), BN_BACKWARD_TOL):
                return hint
        return fallback

    if part in ("dgamma", "dbeta"):
        right = dgamma if part == "dgamma" else dbeta
        summand = dout * x_hat if part == "dgamma" else dout
        if got.shape == (n,):
            return (
                f"{part} has one value per example, shape ({n},): you summed over the "
                f"features (axis=1). Sum over the batch, axis=0: one value per feature."
            )
        if got.shape == x.shape:
            return (
                f"{part} has the batch's shape {x.shape}: sum over the batch (axis=0), as "
                "gamma and beta are shared by all N examples."
            )
        if got.shape == ():
            return (
                f"{part} is a single number: sum over the batch only (axis=0), one value "
                "per feature, not over everything."
            )
        if got.shape != right.shape:
            return f"{part} must have shape {right.shape}, one value per feature."
        candidates = [
            (
                dbeta if part == "dgamma" else dgamma,
                "dgamma and dbeta are swapped: return (dx, dgamma, dbeta) in this order.",
            ),
            (
                summand.mean(axis=0),
                f"{part} is a mean over the batch; it is a sum: each example adds its share.",
            ),
            (
                (dout * x).sum(axis=0),
                "dgamma = sum_i dout_i * x_hat_i, with the normalised x_hat, not the raw x.",
            ),
            (
                (dout * (x - mean)).sum(axis=0),
                "dgamma uses x_hat = (x - mean) / sqrt(var + eps): the division is missing.",
            ),
            *(((dout * wrong_hat).sum(axis=0), hint) for _, wrong_hat, hint in normalisations),
            (
                gamma * right,
                f"{part} needs no factor gamma: y = gamma * x_hat + beta, so dy/dbeta = 1 and "
                "dy/dgamma = x_hat.",
            ),
        ]
        return match(
            candidates,
            "dbeta = sum_i dout_i and dgamma = sum_i dout_i * x_hat_i, over the batch (axis=0).",
        )

    def compact(s_, x_hat_, g=gamma, axis=0):
        m = x.shape[axis]
        dxh = g * dout
        return (s_ / m) * (
            m * dxh
            - dxh.sum(axis=axis, keepdims=True)
            - x_hat_ * (dxh * x_hat_).sum(axis=axis, keepdims=True)
        )

    with np.errstate(all="ignore"):
        wrong_norms = [
            (compact(s_, hat_, axis=1 if np.ndim(s_) == 2 else 0), hint)
            for s_, hat_, hint in normalisations
        ]
        candidates = [
            (
                gamma * s * dout,
                "dx = gamma * dout / sqrt(var + eps) treats the batch mean and variance as "
                "constants: that is the evaluation-mode gradient. In training mode every x_hat_k "
                "depends on every x_i through the mean and the variance; the derivation gives two "
                "more terms, -sum_k dout_k and -x_hat_i * sum_k dout_k x_hat_k (times "
                "gamma * s / N).",
            ),
            (
                (gamma * s / n) * (n * dout - x_hat * dgamma),
                "The term through the mean is missing: dmean/dx_i = 1/N gives -sum_k dout_k inside "
                "the bracket (it is dbeta).",
            ),
            (
                (gamma * s / n) * (n * dout - dbeta),
                "The term through the variance is missing: dvar/dx_i = 2 (x_i - mean) / N gives "
                "-x_hat_i * sum_k dout_k x_hat_k inside the bracket (it is x_hat * dgamma).",
            ),
            *wrong_norms,
            (
                (gamma * s / n) * (n * dout - dbeta - x_hat * dgamma * n / (n - 1)),
                "The variance's derivative is 2 (x_i - mean) / N, with the biased variance's N, "
                "not N - 1.",
            ),
            (
                compact(s, x_hat, g=1.0),
                "The factor gamma is missing: y = gamma * x_hat + beta, so dL/dx_hat = gamma * dout.",
            ),
            (
                compact(1.0, x_hat),
                "The factor s = 1 / sqrt(var + eps) is missing in front of the bracket.",
            ),
            (compact(s, x_hat) * n, "dx is N times too large: the bracket is divided by N."),
            (
                (gamma * s / n) * (dout - dbeta - x_hat * dgamma),
                "The first term in the bracket is N * dout_i (from the 1/N in front): "
                "N dout_i - sum_k dout_k - x_hat_i sum_k dout_k x_hat_k.",
            ),
            (
                (gamma * s / n) * (n * dout + dbeta + x_hat * dgamma),
                "Both terms are subtracted: N dout_i - sum_k dout_k - x_hat_i sum_k dout_k x_hat_k.",
            ),
            (
                (gamma * s / n) * (n * dout - dbeta + x_hat * dgamma),
                "The variance's term is subtracted: - x_hat_i sum_k dout_k x_hat_k.",
            ),
            (
                (gamma * s / n) * (n * dout + dbeta - x_hat * dgamma),
                "The mean's term is subtracted: - sum_k dout_k.",
            ),
            (
                gamma * dout,
                "dx must be divided by sqrt(var + eps), and needs the terms through the batch mean "
                "and variance.",
            ),
        ]
    return match(
        candidates,
        "dx_i = gamma * s / N * (N dout_i - sum_k dout_k - x_hat_i * "
        "sum_k dout_k x_hat_k), s = 1 / sqrt(var + eps), per feature over "
        "the batch (section 'The backward pass, derived').",
    )


def check_bn_backward(bn_backward_train: Callable) -> None:
    """Chapter 04's exercise: Batch Norm's backward pass in training mode.

    ``bn_backward_train(dout, x, gamma, eps=1e-5)`` must return ``(dx, dgamma, dbeta)``, the
    gradients of a loss L with ``dout`` = dL/dy, y = gamma * x_hat + beta the training-mode
    forward pass of ``x`` (N, D): dx of shape (N, D), dgamma and dbeta of shape (D,), as new
    float64 arrays, leaving the inputs unchanged.

    On each batch of :func:`bn_backward_cases` the answer (run inside
    ``references.hidden("bn_backward")``) is compared with
    :func:`course_utils.batchnorm.batchnorm_backward` within :data:`BN_BACKWARD_TOL`
    (absolute and relative), and with a numerical gradient
    (:func:`bn_numerical_gradients`) within :data:`BN_NUMERICAL_TOL` of the size of the
    gradient's terms. A wrong part is compared with the usual mistakes
    (:func:`bn_backward_mistake`): mean and variance treated as constants, one of their two
    terms missing, the unbiased variance, sums over the wrong axis, ...
    """
    import numpy as np

    from course_utils.batchnorm import batchnorm_backward, batchnorm_forward

    if not callable(bn_backward_train):
        raise TypeError(
            f"bn_backward_train must be a function; got {type(bn_backward_train).__name__}"
        )
    for name, dout, x, gamma, eps in bn_backward_cases():
        kwargs, eps = eps_arguments(eps)
        _, cache = batchnorm_forward(x, gamma, np.zeros_like(gamma), eps=eps)
        want = batchnorm_backward(dout, cache)
        numerical = bn_numerical_gradients(dout, x, gamma, eps)
        # the size of the gradient's terms: gamma * s * dout for dx, sum |dout| for the others
        scales = (
            float(np.max(np.abs(gamma * cache.inv_std * dout))),
            float(np.max(np.sum(np.abs(dout * cache.x_hat), axis=0))),
            float(np.max(np.sum(np.abs(dout), axis=0))),
        )
        given = (dout.copy(), x.copy(), gamma.copy())
        got = call_answer(
            "bn_backward", f"bn_backward_train on '{name}'", bn_backward_train, *given, **kwargs
        )
        problem = hint = None
        if not all(np.array_equal(a, b) for a, b in zip(given, (dout, x, gamma))):
            problem = "changed an input array (dout, x or gamma) in place"
            hint = (
                "Return new arrays: x -= mean or dout *= ... writes into the caller's "
                "arrays; x - mean makes a new one."
            )
        elif not isinstance(got, (tuple, list)) or len(got) != 3:
            what = (
                f"a {type(got).__name__} of {len(got)} values"
                if isinstance(got, (tuple, list))
                else f"a value of type {type(got).__name__}"
            )
            problem = f"returned {what}, expected the tuple (dx, dgamma, dbeta)"
            hint = "Return all three gradients: return dx, dgamma, dbeta."
        else:
            shapes = {"dx": x.shape, "dgamma": gamma.shape, "dbeta": gamma.shape}
            # dgamma and dbeta first: the simpler parts, and dx's formula is built on them
            for part, index in (("dbeta", 2), ("dgamma", 1), ("dx", 0)):
                value = got[index]
                array = as_float_array(value)
                if array is None or array.dtype == object:
                    problem = f"returned {part} as a {type(value).__name__}, expected an array"
                    hint = "Compute each gradient with NumPy, as arrays."
                elif array.shape != shapes[part]:
                    problem = f"returned {part} of shape {array.shape}, expected {shapes[part]}"
                    hint = bn_backward_mistake(part, dout, x, gamma, eps, array)
                elif not np.all(np.isfinite(array)):
                    problem = f"returned NaN or infinite values in {part}"
                    hint = (
                        "Divide by sqrt(var + eps), never by sqrt(var) or by something that "
                        "can be 0."
                    )
                elif not np.allclose(
                    array, want[index], rtol=BN_BACKWARD_TOL, atol=BN_BACKWARD_TOL
                ):
                    k = np.unravel_index(np.argmax(np.abs(array - want[index])), array.shape)
                    at = ", ".join(str(int(i)) for i in k)
                    mine, right = float(array[k]), float(want[index][k])
                    digits = ".6g" if f"{mine:.6g}" != f"{right:.6g}" else ".12g"
                    problem = (
                        f"gives {part}[{at}] = {mine:{digits}}; the formula gives "
                        f"{right:{digits}}, and a numerical gradient "
                        f"{float(numerical[index][k]):{digits}}"
                    )
                    hint = bn_backward_mistake(part, dout, x, gamma, eps, array)
                    if not kwargs and hint.startswith(("dbeta = sum", "dx_i = gamma")):
                        hint += " Called without eps: is the default eps=1e-5?"
                elif _numerical_error(array, numerical[index], scales[index]) > BN_NUMERICAL_TOL:
                    # cannot happen for an answer equal to the reference: a safety net that
                    # keeps the reference itself honest
                    problem = f"gives a {part} that disagrees with a numerical gradient"
                    hint = "Compare your formula with the derivation."
                if problem:
                    break
        if problem:
            print(f"WRONG {name}: {problem}")
            raise AssertionError(f"bn_backward_train on '{name}' {problem}. {hint}")
        print(f"ok  {name}: dx, dgamma, dbeta equal the formula's and a numerical gradient's")
    print(
        f"All visible checks passed (tolerance {BN_BACKWARD_TOL:g} against the formula, "
        f"{BN_NUMERICAL_TOL:g} against a numerical gradient)."
    )
