"""Chapter 07's exercise: inverted dropout."""

from __future__ import annotations

from typing import Callable

__all__ = ["INVERTED_DROPOUT_PS", "INVERTED_DROPOUT_SHAPE", "INVERTED_DROPOUT_TOL", "check_inverted_dropout"]

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


