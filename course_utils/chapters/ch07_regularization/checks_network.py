"""Chapter 07's second exercise, dropout inside a two-layer ReLU network: its visible check
and helpers (the seeded problem, the usual mistakes and the one a wrong answer matches).

Every public name is imported back into :mod:`.checks` (the notebook and the grading spec
import from there); ``_fail`` and ``_guarded`` stay there and are imported when a check runs,
since ``checks`` imports this module at its end."""

from __future__ import annotations

from typing import Callable

__all__ = [
    "DROPOUT_NETWORK_TOL",
    "DROPOUT_NETWORK_NUMERIC_TOL",
    "dropout_network_problem",
    "dropout_network_variant",
    "dropout_network_mistake",
    "check_dropout_network",
]

#: Chapter 07's second exercise: relative tolerance of the loss and the gradients against the
#: reference (float64, the same operations in another order differ by ~1e-15), and of the
#: whole-gradient relative error against the numerical gradient of the answer's own loss
#: (centred differences, h = 1e-5: a right gradient gives ~1e-10, a wrong one 1e-2 to 1).
DROPOUT_NETWORK_TOL = 1e-8
DROPOUT_NETWORK_NUMERIC_TOL = 1e-6

_PARAMS = ("W1", "b1", "W2", "b2")


def dropout_network_problem(
    seed: int = 7, n: int = 6, d: int = 4, hidden: int = 8, c: int = 3
) -> tuple:
    """``(X, Y, W1, b1, W2, b2)`` of a small seeded problem, float64: X (n, d), Y (n, c),
    W1 (d, hidden) and W2 (hidden, c) at the 1/sqrt(fan-in) scale, small biases."""
    import numpy as np

    from course_utils.validation import check_int, make_rng

    # a check's problem: a few examples and units (64 is far beyond what a check needs)
    n, d, hidden, c = (
        check_int(name, v, 1, 64) for name, v in (("n", n), ("d", d), ("hidden", hidden), ("c", c))
    )
    rng = make_rng(seed)
    return (
        rng.standard_normal((n, d)),
        rng.standard_normal((n, c)),
        rng.standard_normal((d, hidden)) / np.sqrt(d),
        0.1 * rng.standard_normal(hidden),
        rng.standard_normal((hidden, c)) / np.sqrt(hidden),
        0.1 * rng.standard_normal(c),
    )


def dropout_network_variant(
    X,
    Y,
    W1,
    b1,
    W2,
    b2,
    p,
    train,
    seed,
    keep="drop p",
    scale="1/(1-p)",
    backward="same",
    test="plain",
):
    """The exercise's ``(loss, grads)`` as a usual mistake computes it (the defaults: right).

    ``keep``: ``"drop p"`` (``rng.random(h.shape) >= p``) or ``"keep p"`` (``< p``: p taken as
    the keep probability). ``scale``: ``"1/(1-p)"``, ``"1/p"`` or ``"none"`` (version 1).
    ``backward``: ``"same"`` (the forward's mask and scale), ``"new mask"`` (a second draw
    from ``rng``), ``"no scale"``, ``"no mask"``, ``"none"`` (no dropout in the backward).
    ``test``: ``"plain"``, ``"drop"`` (dropout also when ``train`` is False) or ``"scale"``
    (test-time output multiplied by 1 - p, version 1's rule).
    """
    import numpy as np

    from course_utils.regularization import check_drop_probability
    from course_utils.validation import check_array, check_bool, check_choice, make_rng

    X, Y, W1, b1, W2, b2 = (
        check_array(name, a)
        for name, a in zip(("X", "Y", "W1", "b1", "W2", "b2"), (X, Y, W1, b1, W2, b2))
    )
    p, train = check_drop_probability(p), check_bool("train", train)
    keep = check_choice("keep", keep, ("drop p", "keep p"))
    scale = check_choice("scale", scale, ("1/(1-p)", "1/p", "none"))
    backward = check_choice(
        "backward", backward, ("same", "new mask", "no scale", "no mask", "none")
    )
    test = check_choice("test", test, ("plain", "drop", "scale"))
    rng = make_rng(seed)
    z = X @ W1 + b1
    h = np.maximum(z, 0.0)
    if train or test == "drop":
        draw = rng.random(h.shape)
        mask = draw >= p if keep == "drop p" else draw < p
        factor = {"1/(1-p)": 1.0 / (1.0 - p), "1/p": 1.0 / p if p > 0 else np.inf, "none": 1.0}[
            scale
        ]
        forward = mask * factor
        back = {
            "same": forward,
            "new mask": (rng.random(h.shape) >= p) * factor,
            "no scale": mask * 1.0,
            "no mask": factor,
            "none": 1.0,
        }[backward]
    else:
        forward = back = (1.0 - p) if test == "scale" else 1.0
    h_tilde = h * forward
    scores = h_tilde @ W2 + b2
    n = len(X)
    loss = float(0.5 * np.sum((scores - Y) ** 2) / n)
    dscores = (scores - Y) / n
    dz = (dscores @ W2.T) * back * (z > 0)
    return loss, {
        "W1": X.T @ dz,
        "b1": dz.sum(axis=0),
        "W2": h_tilde.T @ dscores,
        "b2": dscores.sum(axis=0),
    }


#: (variant keywords, what it is, the hint) in the order they are tried
_NETWORK_MISTAKES = [
    (
        {"test": "drop"},
        "dropout at test time",
        "At test time (train=False) inverted dropout does nothing: no mask and no scale, the "
        "plain network. The 1/(1 - p) in training already keeps the expectation right.",
    ),
    (
        {"test": "scale"},
        "(1 - p) at test time",
        "You multiplied the hidden layer by 1 - p at test time: that is version 1's test rule. "
        "With inverted dropout the test-time network is the plain one.",
    ),
    (
        {"keep": "keep p", "scale": "1/p"},
        "p as the keep probability",
        "You kept each unit with probability p and divided by p: in this course, as in "
        "torch.nn.Dropout, p is the probability of DROPPING. Keep where rng.random(h.shape) >= p "
        "and divide by 1 - p.",
    ),
    (
        {"keep": "keep p"},
        "p as the keep probability",
        "Your mask keeps the units where rng.random(h.shape) < p: p is the probability of "
        "DROPPING, so keep where rng.random(h.shape) >= p.",
    ),
    (
        {"scale": "1/p"},
        "divided by p",
        "The kept units are divided by p; divide by the keep probability 1 - p.",
    ),
    (
        {"scale": "none"},
        "no scale (version 1)",
        "The kept units are not scaled (version 1's training rule): inverted dropout divides the "
        "kept units by 1 - p in training.",
    ),
    (
        {"backward": "new mask"},
        "a new mask in the backward pass",
        "Your backward pass draws a new mask from rng: the gradient must flow through the units "
        "the forward pass kept, so reuse the forward pass's mask (keep it in a variable).",
    ),
    (
        {"backward": "no scale"},
        "the scale missing in the backward pass",
        "Your backward pass applies the mask but not the 1/(1 - p): h_tilde = h * mask / (1 - p), "
        "so dL/dh = dL/dh_tilde * mask / (1 - p), the same factor as in the forward pass.",
    ),
    (
        {"backward": "no mask"},
        "the mask missing in the backward pass",
        "Your backward pass scales by 1/(1 - p) but forgets the mask: dropped units got no input "
        "to the output, so no gradient flows back through them (dL/dh = dL/dh_tilde * mask / "
        "(1 - p)).",
    ),
    (
        {"backward": "none"},
        "no dropout in the backward pass",
        "Your backward pass ignores dropout: dL/dh = dL/dh_tilde * mask / (1 - p), with the mask "
        "and the scale of the forward pass.",
    ),
]


_W2_HINT = (
    "dscores = (scores - Y) / N; dW2 = h_tilde.T @ dscores uses the hidden layer AFTER "
    "dropout (h_tilde, as the forward pass used it), db2 = dscores summed over the "
    "examples."
)


def _network_close(got, want, tol=DROPOUT_NETWORK_TOL) -> bool:
    import numpy as np

    loss, grads = got
    if not np.isclose(loss, want[0], rtol=tol, atol=1e-14):
        return False
    return all(np.allclose(grads[k], want[1][k], rtol=tol, atol=1e-12) for k in _PARAMS)


def dropout_network_mistake(got, X, Y, W1, b1, W2, b2, p, train, seed) -> str | None:
    """The hint for a wrong ``(loss, grads)`` (already unpacked to a float and a dict of
    arrays of the right shapes) that matches one of the usual mistakes, else ``None``."""
    import numpy as np

    args = (X, Y, W1, b1, W2, b2, p, train, seed)
    for mistake, _, hint in _NETWORK_MISTAKES:
        with np.errstate(all="ignore"):
            want = dropout_network_variant(*args, **mistake)
        if np.isfinite(want[0]) and _network_close(got, want):
            return hint
    return None


def _unpack(call, out, shapes):
    """``(loss, grads)`` from an untrusted result, or a failure naming what is wrong."""
    import math

    import numpy as np

    from course_utils.chapters.ch07_regularization.checks import _fail

    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        _fail(
            call,
            f"returned {type(out).__name__}"
            + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""),
            'Return (loss, grads): a float and a dict {"W1": ..., "b1": ..., "W2": ..., '
            '"b2": ...}.',
        )
    loss, grads = out
    try:
        loss = float(loss)
    except (TypeError, ValueError):
        _fail(
            call,
            f"returned a loss of type {type(loss).__name__}",
            "The loss is one number: sum((scores - Y)**2) / (2N).",
        )
    if not math.isfinite(loss):
        _fail(call, f"returned the loss {loss}", "The loss must be a finite number.")
    if not isinstance(grads, dict) or set(grads) != set(_PARAMS):
        keys = sorted(map(str, grads)) if isinstance(grads, dict) else type(grads).__name__
        _fail(
            call,
            f"returned grads {keys}",
            'grads is a dict with exactly the keys "W1", "b1", "W2", "b2".',
        )
    arrays = {}
    for name in _PARAMS:
        try:
            value = np.asarray(grads[name], dtype=np.float64)
        except (TypeError, ValueError):
            _fail(
                call,
                f'returned grads["{name}"] of type {type(grads[name]).__name__}',
                "Each gradient is an array of its parameter's shape.",
            )
        if value.shape != shapes[name]:
            _fail(
                call,
                f'returned grads["{name}"] of shape {value.shape}',
                f"d{name} has {name}'s shape {shapes[name]}"
                + (" (sum over the examples, axis 0)" if name.startswith("b") else "")
                + ".",
            )
        if not np.all(np.isfinite(value)):
            _fail(
                call,
                f'returned grads["{name}"] with NaN or infinite entries',
                "Every gradient entry must be a finite number.",
            )
        arrays[name] = value
    return loss, arrays


def check_dropout_network(dropout_net_loss: Callable) -> None:
    """Chapter 07's second exercise: ``dropout_net_loss(X, Y, W1, b1, W2, b2, p, train, rng)
    -> (loss, grads)``, a two-layer ReLU network with inverted dropout on its hidden layer
    (``p`` the probability of DROPPING; one keep-mask ``rng.random(h.shape) >= p``), the loss
    ``sum((scores - Y)**2) / (2N)`` and its gradients with respect to W1, b1, W2, b2.

    The answer runs inside ``references.hidden("dropout_network")`` (the package's dropout
    functions and :func:`course_utils.regularization.dropout_net_loss` then raise); expected
    values come from the reference, computed outside. Checked, in order: test mode (no mask,
    no scale), the training loss, the training gradients against the numerical gradient of
    the answer's OWN loss with the mask fixed (the same seed for every evaluation) within
    :data:`DROPOUT_NETWORK_NUMERIC_TOL`, then against the reference within
    :data:`DROPOUT_NETWORK_TOL`; another p (0.75) and shape; p = 0; the mask drawn from
    ``rng``; the inputs unchanged. A wrong result is compared with the usual mistakes
    (:data:`_NETWORK_MISTAKES`: a new mask in the backward pass, the scale or the mask
    missing there, dropout or a 1 - p factor at test time, p taken as the keep probability,
    no or the wrong scale in training) and the hint names the one it matches.
    """
    import numpy as np

    from course_utils import gradcheck
    from course_utils.chapters.ch07_regularization.checks import _fail, _guarded
    from course_utils.regularization import dropout_net_loss as reference

    if not callable(dropout_net_loss):
        raise TypeError(
            f"dropout_net_loss must be a function; got {type(dropout_net_loss).__name__}"
        )

    def run(call, arrays, p, train, seed):
        inputs = [a.copy() for a in arrays]
        out = _guarded(
            "dropout_network",
            dropout_net_loss,
            call,
            *inputs,
            p,
            train,
            np.random.default_rng(seed),
        )
        names = ("X", "Y", "W1", "b1", "W2", "b2")
        for name, before, after in zip(names, arrays, inputs):
            if not np.array_equal(before, after):
                _fail(
                    call,
                    f"changed its input {name} in place",
                    "Leave the inputs as they were: compute new arrays (diff = scores - Y, "
                    "not Y -= scores or h *= mask on an input).",
                )
        shapes = dict(zip(_PARAMS, (a.shape for a in arrays[2:])))
        return _unpack(call, out, shapes)

    def compare(call, got, arrays, p, train, seed, what):
        want = reference(*arrays, p, train, np.random.default_rng(seed))
        if _network_close(got, want):
            return want
        hint = dropout_network_mistake(got, *arrays, p, train, seed)
        loss_ok = np.isclose(got[0], want[0], rtol=DROPOUT_NETWORK_TOL, atol=1e-14)
        wrong = [
            k
            for k in _PARAMS
            if not np.allclose(got[1][k], want[1][k], rtol=DROPOUT_NETWORK_TOL, atol=1e-12)
        ]
        if not loss_ok:
            problem = f"loss = {got[0]:.6g}, expected {want[0]:.6g}"
            hint = hint or (
                "The forward pass: z = X W1 + b1, h = max(0, z), one mask "
                "rng.random(h.shape) >= p drawn first, h_tilde = h * mask / (1 - p) "
                "in training (h at test time), scores = h_tilde W2 + b2, loss = "
                "sum((scores - Y)**2) / (2N)."
            )
        else:
            problem = (
                f"loss right, gradient{'s' if len(wrong) > 1 else ''} "
                f"{', '.join('d' + k for k in wrong)} wrong"
            )
            if not hint and set(wrong) & {"W2", "b2"}:
                hint = _W2_HINT
            hint = hint or (
                "dL/dh_tilde = dscores @ W2.T; then through dropout with the "
                "forward pass's mask and scale (* mask / (1 - p)), through the "
                "ReLU (* (z > 0)), and dW1 = X.T @ dz, db1 = dz summed over the "
                "examples."
            )
        _fail(call, f"{what}: {problem}", hint)

    base = dropout_network_problem()

    call = "dropout_net_loss(X, Y, W1, b1, W2, b2, p=0.3, train=False, rng)"
    got = run(call, base, 0.3, False, 0)
    want = compare(call, got, base, 0.3, False, 0, "test mode")
    print(f"ok  {call}: loss {want[0]:.4f}, gradients match (test mode: no mask, no scale)")

    call = "dropout_net_loss(X, Y, W1, b1, W2, b2, p=0.3, train=True, rng=default_rng(0))"
    got = run(call, base, 0.3, True, 0)
    want = reference(*base, 0.3, True, np.random.default_rng(0))
    if not np.isclose(got[0], want[0], rtol=DROPOUT_NETWORK_TOL, atol=1e-14):
        if not np.isclose(run(call, base, 0.3, True, 0)[0], got[0], rtol=1e-12, atol=0):
            _fail(
                call,
                "gave another loss for the same rng seed",
                "Draw the mask from the rng argument, rng.random(h.shape) >= p, not from "
                "np.random.",
            )
        compare(call, got, base, 0.3, True, 0, "training")
    print(f"ok  {call}: loss {want[0]:.4f} (one mask, kept units scaled by 1/0.7)")

    # The numerical gradient of the answer's own loss, the mask fixed by a fresh generator
    # of the same seed at every evaluation: a backward pass that reuses the forward's mask
    # and scale agrees with it, whatever the forward pass.
    numeric_errors = {}
    for k, name in enumerate(_PARAMS):
        arrays = [a.copy() for a in base]
        target = arrays[2 + k]

        def own_loss(_, arrays=arrays):
            out = _guarded(
                "dropout_network",
                dropout_net_loss,
                call,
                *arrays,
                0.3,
                True,
                np.random.default_rng(0),
            )
            return float(out[0])

        numeric = gradcheck.numerical_gradient(own_loss, target)
        numeric_errors[name] = gradcheck.norm_error(got[1][name], numeric)
    worst = max(numeric_errors, key=numeric_errors.get)
    if not numeric_errors[worst] < DROPOUT_NETWORK_NUMERIC_TOL:
        hint = dropout_network_mistake(got, *base, 0.3, True, 0) or (
            _W2_HINT
            if worst in ("W2", "b2")
            else "The backward pass does not differentiate your forward pass: reuse the forward "
            "pass's mask and its 1/(1 - p) on the way back (dL/dh = dL/dh_tilde * mask / "
            "(1 - p)), then the ReLU (* (z > 0)) and the affine layers."
        )
        _fail(
            call,
            f"d{worst} differs from the numerical gradient of your own loss with the "
            f"mask fixed (same seed for every evaluation, h = 1e-5): relative error "
            f"{numeric_errors[worst]:.2e}, above {DROPOUT_NETWORK_NUMERIC_TOL:g}",
            hint,
        )
    print(
        f"ok  {call}: gradients agree with the numerical gradient of your loss, mask fixed "
        f"(relative error < {DROPOUT_NETWORK_NUMERIC_TOL:g})"
    )
    compare(call, got, base, 0.3, True, 0, "training")
    print(f"ok  {call}: gradients match the reference (relative tolerance {DROPOUT_NETWORK_TOL:g})")

    other = dropout_network_problem(seed=8, n=5, d=3, hidden=6, c=2)
    call = "dropout_net_loss(X', Y', W1', b1', W2', b2', p=0.75, train=True, rng=default_rng(3))"
    want = compare(call, run(call, other, 0.75, True, 3), other, 0.75, True, 3, "training")
    print(f"ok  {call}: loss {want[0]:.4f}, gradients match")

    call = "dropout_net_loss(X, Y, W1, b1, W2, b2, p=0, train=True, rng)"
    compare(call, run(call, base, 0.0, True, 0), base, 0.0, True, 0, "p = 0")
    print(f"ok  {call}: the plain network")

    call = "dropout_net_loss(X, Y, W1, b1, W2, b2, p=0.3, train=True, rng=default_rng(1))"
    again = run(call, base, 0.3, True, 0)
    another = run(call, base, 0.3, True, 1)
    if not _network_close(again, got, tol=0):
        _fail(
            call,
            "gave another result for the same rng seed",
            "Draw the mask from the rng argument (rng.random(h.shape) >= p), not np.random.",
        )
    if np.isclose(another[0], got[0], rtol=1e-12, atol=0):
        _fail(
            call,
            "gave the same loss for another rng seed",
            "Draw the mask from the rng argument on every call, not from a generator "
            "seeded inside your function.",
        )
    compare(call, another, base, 0.3, True, 1, "training")
    print(f"ok  {call}: another seed, another mask; same seed, same result")
    print(
        f"All visible checks passed (relative tolerance {DROPOUT_NETWORK_TOL:g}; numerical "
        f"gradient within {DROPOUT_NETWORK_NUMERIC_TOL:g}; inputs unchanged)."
    )
