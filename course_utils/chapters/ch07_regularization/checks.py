"""Chapter 07's exercises: inverted dropout, and dropout inside a two-layer network (forward
and backward).

This module holds the inverted-dropout exercise's check and the helpers both checks share
(:func:`_fail`, :func:`_guarded`); the dropout_network exercise's check and its helpers are in
:mod:`course_utils.chapters.ch07_regularization.checks_network`, imported back here so that
every public name stays importable from this module."""

from __future__ import annotations

from typing import Callable

from course_utils.checking import call_answer

__all__ = [
    "INVERTED_DROPOUT_PS",
    "INVERTED_DROPOUT_SHAPE",
    "INVERTED_DROPOUT_TOL",
    "check_inverted_dropout",
]  # and, at the end, checks_network's public names

#: Chapter 07's exercise: the drop probabilities tried, the shape of the large test input,
#: and the tolerances of the statistical checks (10 standard errors: a right answer never
#: fails them, a keep/drop mix-up at p = 0.2 misses by far more).
INVERTED_DROPOUT_PS = (0.2, 0.5, 0.75)
INVERTED_DROPOUT_SHAPE = (200, 500)
INVERTED_DROPOUT_TOL = 1e-12


def _fail(call, problem, hint):
    print(f"WRONG {call}: {problem}")
    raise AssertionError(f"{call} {problem}. {hint}")


def _guarded(exercise, function, call, *args):
    """``function(*args)`` with the exercise's references hidden; a call to one fails."""
    return call_answer(exercise, call, function, *args)


# ------------------------------------------------------------------ inverted dropout
def check_inverted_dropout(inverted_dropout: Callable) -> None:
    """Chapter 07's exercise: ``inverted_dropout(x, p, train, rng) -> out``, version 2,
    ``p`` the probability of DROPPING (``torch.nn.Dropout``'s convention).

    The answer runs inside ``references.hidden("dropout")`` (``regularization.dropout`` and
    its helpers then raise). Checked: test mode returns ``x`` itself in value (a float64 array
    of x's shape, x unchanged); training mode returns, for each entry, either 0 or
    ``x / (1 - p)`` (within :data:`INVERTED_DROPOUT_TOL`; a kept value of x, x / p or
    (1 - p) x is named); the kept share is ``1 - p`` within 10 standard errors; rows get
    different masks; the mask comes from ``rng`` (the same seed gives the same output, another
    seed another one); ``p = 0`` keeps everything.
    """
    import numpy as np

    if not callable(inverted_dropout):
        raise TypeError(
            f"inverted_dropout must be a function; got {type(inverted_dropout).__name__}"
        )

    def run(call, *args):
        return _guarded("dropout", inverted_dropout, call, *args)

    def as_array(call, out, shape):
        if not isinstance(out, np.ndarray):
            _fail(call, f"returned a {type(out).__name__}", "Return a NumPy array.")
        if out.shape != shape:
            _fail(call, f"returned shape {out.shape}", f"Return an array of x's shape {shape}.")
        if out.dtype != np.float64:
            _fail(call, f"returned dtype {out.dtype}", "Keep float64 (x * mask / (1 - p)).")
        return out

    def unchanged(call, x, original):
        if not np.array_equal(x, original):
            _fail(
                call,
                "changed x in place",
                "Return a new array (x * mask / (1 - p)); leave x as it was (no x *= ...).",
            )

    x = np.random.default_rng(1).uniform(0.5, 2.0, INVERTED_DROPOUT_SHAPE)
    original = x.copy()
    for p in INVERTED_DROPOUT_PS:
        call = f"inverted_dropout(x, p={p:g}, train=False, rng)"
        out = as_array(call, run(call, x, p, False, np.random.default_rng(0)), x.shape)
        unchanged(call, x, original)
        if not np.allclose(out, x, rtol=0, atol=INVERTED_DROPOUT_TOL):
            ratio = float(np.median(out / x))
            hint = (
                "Inverted dropout does nothing at test time: the scaling by 1/(1 - p) "
                "happened in training, so return x (a copy)."
            )
            if np.isclose(ratio, 1 - p):
                hint = (
                    "You multiplied by 1 - p at test time: that is version 1's test rule. "
                    "Inverted dropout (version 2) scales in training and returns x at test."
                )
            elif np.any(out == 0):
                hint = (
                    "You dropped units at test time: with train=False there is no mask; "
                    "return x (a copy)."
                )
            _fail(call, f"returned {out.ravel()[0]:.6g} for x = {x.ravel()[0]:.6g}", hint)
        print(f"ok  {call} returns x")

        call = f"inverted_dropout(x, p={p:g}, train=True, rng=default_rng(0))"
        out = as_array(call, run(call, x, p, True, np.random.default_rng(0)), x.shape)
        unchanged(call, x, original)
        kept = out != 0
        want = x / (1 - p)
        if not np.allclose(out[kept], want[kept], rtol=0, atol=INVERTED_DROPOUT_TOL):
            bad = np.flatnonzero(
                ~np.isclose(out[kept], want[kept], rtol=0, atol=INVERTED_DROPOUT_TOL)
            )[0]
            ratio = out[kept][bad] / x[kept][bad]
            hint = (
                "Kept units are divided by the keep probability 1 - p (p is the drop probability)."
            )
            if np.isclose(ratio, 1.0):
                hint = (
                    "Kept units are not scaled: that is version 1 (x * mask). Inverted "
                    "dropout divides them by the keep probability 1 - p in training."
                )
            elif np.isclose(ratio, 1 / p):
                hint = (
                    "Kept units are divided by p, but p is the probability of DROPPING: "
                    "divide by the keep probability 1 - p."
                )
            _fail(
                call,
                f"kept an entry x = {x[kept][bad]:.4g} as {out[kept][bad]:.4g}, expected "
                f"x / (1 - p) = {want[kept][bad]:.4g}",
                hint,
            )
        share = float(kept.mean())
        tol = 10 * np.sqrt(p * (1 - p) / x.size)
        if abs(share - (1 - p)) > tol:
            hint = (
                "p is the probability of DROPPING a unit, as in torch.nn.Dropout: keep a "
                "unit when rng.random() >= p."
            )
            if abs(share - p) <= tol:
                hint = (
                    f"You kept a share p = {p:g} of the units: p is the probability of "
                    "DROPPING (torch.nn.Dropout's convention), so keep a unit with "
                    "probability 1 - p, i.e. when rng.random() >= p."
                )
            elif share > 1 - tol:
                hint = "Nothing was dropped in training: with train=True draw a keep-mask from rng."
            _fail(
                call,
                f"kept {share:.3f} of the units, expected 1 - p = {1 - p:.3f} (+- {tol:.3f})",
                hint,
            )
        rows_equal = float(np.mean(np.all(kept[1:] == kept[:1], axis=1)))
        if rows_equal > 0.5:
            _fail(
                call,
                "used the same mask for every row",
                "Draw one independent decision per entry: a mask of x's shape.",
            )
        print(
            f"ok  {call}: kept {share:.3f} (expected {1 - p:.3f} +- {tol:.3f}), kept values "
            f"x / {1 - p:g}"
        )

        again = run(call, x, p, True, np.random.default_rng(0))
        other = run(call, x, p, True, np.random.default_rng(1))
        if not np.array_equal(np.asarray(again), out):
            _fail(
                call,
                "gave a different output for the same rng seed",
                "Draw the mask from the rng argument (rng.random), not np.random.",
            )
        if np.array_equal(np.asarray(other), out):
            _fail(
                call,
                "gave the same output for another rng seed",
                "Draw a new mask from the rng argument on every call (not a generator "
                "seeded inside your function).",
            )
        print(f"ok  {call}: same seed, same mask; another seed, another mask")

    call = "inverted_dropout(x, p=0, train=True, rng)"
    out = as_array(call, run(call, x, 0.0, True, np.random.default_rng(0)), x.shape)
    if not np.allclose(out, x, rtol=0, atol=INVERTED_DROPOUT_TOL):
        _fail(call, "changed x", "With p = 0 nothing is dropped and 1 - p = 1.")
    print(f"ok  {call} returns x")
    print(
        f"All visible checks passed (values within {INVERTED_DROPOUT_TOL:g}, kept share "
        "within 10 standard errors)."
    )


# The second exercise's check and its public names, imported back (it imports _fail and
# _guarded from here when it runs, so this import sits after them).
from course_utils.chapters.ch07_regularization import checks_network  # noqa: E402
from course_utils.chapters.ch07_regularization.checks_network import *  # noqa: E402, F403

__all__ += checks_network.__all__
