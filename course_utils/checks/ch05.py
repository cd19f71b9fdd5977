"""Chapter 05's exercise: one Adam step."""

from __future__ import annotations

from typing import Callable

__all__ = ["ADAM_STEP_TOL", "check_adam_step"]

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
