"""Chapter 03's exercises: the Xavier and Kaiming stds, and a std found by experiment."""

from __future__ import annotations

import math
from typing import Callable

from course_utils.chapters.ch03_initialization.runs import forward_activations
from course_utils.checking import call_answer
from course_utils.init import MAX_FAN, init_std
from course_utils.stats import layer_stats
from course_utils.validation import check_choice, check_int, check_real

__all__ = [
    "INIT_STD_TOL",
    "XAVIER_CASES",
    "KAIMING_CASES",
    "init_std_mistake",
    "check_init_std_functions",
    "STD_SEARCH_CASES",
    "STD_SEARCH_UNREACHABLE",
    "STD_SEARCH_REL_TOL",
    "last_layer_std",
    "std_search_mistake",
    "check_std_search",
]

#: Chapter 03's first exercise: relative tolerance, and the cases the visible check tries
#: ((args), {kwargs}): default gains and other gains, square and non-square layers.
INIT_STD_TOL = 1e-6
XAVIER_CASES = (((4096, 4096), {}), ((512, 2048), {}), ((512, 2048), {"gain": 5 / 3}))
KAIMING_CASES = (((4096,), {}), ((512,), {}), ((512,), {"gain": 1.0}))


def _as_float(value) -> float | None:
    """``value`` as a float if it is a real number (a 0-d array included), else None."""
    if isinstance(value, (bool, str, bytes)) or getattr(value, "shape", ()) != ():
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None


def init_std_mistake(
    name: str, got: float, fan_in: int, fan_out: int | None, gain: float
) -> str | None:
    """The usual mistake that gives ``got`` for ``name`` (``"xavier_std"`` or
    ``"kaiming_std"``) at these fans and gain, or None if none does."""
    check_choice("name", name, ("xavier_std", "kaiming_std"))
    got = check_real("got", got)
    fan_in = check_int("fan_in", fan_in, 1, MAX_FAN)
    if name == "xavier_std":
        fan_out = check_int("fan_out", fan_out, 1, MAX_FAN)
    gain = check_real("gain", gain, 0.0, 1e6, low_open=True)
    if name == "xavier_std":
        n = fan_in + fan_out
        candidates = [
            (
                math.sqrt(2.0 / n),
                "gain is ignored: the std is gain * sqrt(2 / (fan_in + fan_out)).",
            ),
            (
                gain / math.sqrt(fan_in),
                "that is the forward condition alone, gain / sqrt(fan_in) "
                "(the lecture's 1/n_in); Glorot and Bengio average the two "
                "fans: sqrt(2 / (fan_in + fan_out)).",
            ),
            (
                gain / math.sqrt(fan_out),
                "that is the backward condition alone, 1/sqrt(fan_out); "
                "Glorot and Bengio average the two fans.",
            ),
            (gain * 2.0 / n, "that is the variance: the std is its square root."),
            (gain**2 * 2.0 / n, "that is the variance: the std is its square root."),
            (
                gain * math.sqrt(6.0 / n),
                "that is the bound b of the uniform U(-b, b); its std is "
                "b / sqrt(3) = gain * sqrt(2 / (fan_in + fan_out)).",
            ),
            (gain * math.sqrt(1.0 / n), "the factor 2 is missing: sqrt(2 / (fan_in + fan_out))."),
            (
                gain**2 * math.sqrt(2.0 / n),
                "the gain multiplies the std, not the variance: "
                "gain * sqrt(2 / (fan_in + fan_out)).",
            ),
            (
                math.sqrt(gain) * math.sqrt(2.0 / n),
                "the gain multiplies the std once: gain * sqrt(...), not sqrt(gain * ...).",
            ),
        ]
    else:
        candidates = [
            (
                math.sqrt(2.0 / fan_in),
                "gain is ignored: the std is gain / sqrt(fan_in) (the "
                "default gain sqrt(2) is ReLU's).",
            ),
            (
                gain * math.sqrt(2.0 / fan_in),
                "the factor 2 is counted twice: it is in the default "
                "gain sqrt(2) already, so the std is "
                "gain / sqrt(fan_in).",
            ),
            (gain / fan_in, "that is gain / fan_in: the std divides by sqrt(fan_in)."),
            (gain**2 / fan_in, "that is the variance gain² / fan_in: the std is its square root."),
            (
                gain * math.sqrt(3.0 / fan_in),
                "that is the bound b of the uniform U(-b, b); its std is b / sqrt(3).",
            ),
            (gain**2 / math.sqrt(fan_in), "the gain multiplies the std, not the variance."),
            (
                math.sqrt(gain / fan_in),
                "the gain multiplies the std once: gain / sqrt(fan_in), not sqrt(gain / fan_in).",
            ),
        ]
    for value, hint in candidates:
        if math.isclose(got, value, rel_tol=INIT_STD_TOL):
            return hint
    return None


def check_init_std_functions(xavier_std: Callable, kaiming_std: Callable) -> None:
    """Chapter 03's first exercise: the Xavier and Kaiming standard deviations, with gain.

    The default gains and other gains (tanh's 5/3, 1 for a linear layer) are both tried: an
    answer that ignores ``gain`` fails here, not only in the hidden tests. Each value must be
    a real number within :data:`INIT_STD_TOL` (relative) of :func:`course_utils.init.init_std`,
    computed before the answer runs; the answer runs inside ``references.hidden("init_std")``,
    so calling ``init.init_std`` fails with ``ReferenceUnavailable``. A wrong value is compared
    with the usual mistakes (:func:`init_std_mistake`) to say which one it looks like.
    """

    for name, func in (("xavier_std", xavier_std), ("kaiming_std", kaiming_std)):
        if not callable(func):
            raise TypeError(f"{name} must be a function; got {type(func).__name__}")
    runs = [
        (
            "xavier_std",
            xavier_std,
            args,
            kwargs,
            init_std("xavier", *args, gain=kwargs.get("gain", 1.0)),
        )
        for args, kwargs in XAVIER_CASES
    ]
    runs += [
        (
            "kaiming_std",
            kaiming_std,
            args,
            kwargs,
            init_std("kaiming", args[0], 1, gain=kwargs.get("gain", math.sqrt(2.0))),
        )
        for args, kwargs in KAIMING_CASES
    ]
    for name, func, args, kwargs, want in runs:
        call = f"{name}({', '.join([*(repr(a) for a in args), *(f'{k}={v:g}' for k, v in kwargs.items())])})"
        got = call_answer("init_std", call, func, *args, **kwargs)
        if _as_float(got) is None:
            print(f"WRONG {call} returned {got!r}")
            raise AssertionError(f"{call} returned {got!r}: expected a number (a float)")
        got = _as_float(got)
        ok = math.isclose(got, want, rel_tol=INIT_STD_TOL)
        print(f"{'ok ' if ok else 'WRONG'} {call} = {got:.6g}   expected {want:.6g}")
        if not ok:
            gain = kwargs.get("gain", 1.0 if name == "xavier_std" else math.sqrt(2.0))
            fan_out = args[1] if name == "xavier_std" else None
            hint = (
                init_std_mistake(name, got, args[0], fan_out, gain) if math.isfinite(got) else None
            )
            raise AssertionError(
                f"{call} = {got:.6g}, expected {want:.6g} (relative tolerance "
                f"{INIT_STD_TOL:g}). {hint or 'Check the formula in the text above.'}"
            )
    print(f"All visible checks passed (relative tolerance {INIT_STD_TOL:g}).")


#: Chapter 03's second exercise: (target, activation, depth, width) searched by the visible
#: check, and targets a network cannot reach.
#: The cases need sigma * sqrt(width) of about 1.29, 1.40, 1.79, then 4.37 (a tanh target
#: near 1 needs saturating weights) and 0.354 (a small ReLU target): the two extremes of the
#: hidden tests and of the grader (tools/grading/exercises/ch03.py), so a search whose range
#: misses one of them (e.g. [0.3, 3] / sqrt(width)) fails here too, and no right one does.
STD_SEARCH_CASES = (
    (0.5, "tanh", 6, 512),
    (0.8, "relu", 4, 256),
    (1.5, "relu", 3, 128),
    (0.9, "tanh", 6, 512),
    (0.05, "relu", 2, 128),
)
STD_SEARCH_UNREACHABLE = ((1.0, "tanh"), (0.0, "relu"))
STD_SEARCH_REL_TOL = 0.01


def last_layer_std(sigma: float, activation: str, depth: int, width: int, seed: int = 0) -> float:
    """Std of the last layer of ``runs.forward_activations(depth, width, 16, activation,
    "normal", sigma, seed)``: what the second exercise aims at."""
    acts = forward_activations(depth, width, 16, activation, "normal", sigma, seed)
    return float(layer_stats(acts).std[-1])


def _needed_sigma(target, activation, depth, width, seed) -> float | None:
    """The std that reaches ``target`` (bisection on a log scale over 1e-2 to 1e2 times
    1/sqrt(width), to 0.1%), or None if none in that range does."""
    lo, hi = 0.01 / math.sqrt(width), 100 / math.sqrt(width)
    if not last_layer_std(lo, activation, depth, width, seed) < target:
        return None
    if not last_layer_std(hi, activation, depth, width, seed) >= target:
        return None
    while hi / lo > 1.001:
        mid = math.sqrt(lo * hi)
        if last_layer_std(mid, activation, depth, width, seed) < target:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


def std_search_mistake(
    sigma: float, target: float, activation: str, depth: int, width: int, seed: int = 0
) -> str:
    """What a ``sigma`` that misses ``target`` most likely did wrong (a hint, never empty)."""

    def hits(std):
        return math.isclose(std, target, rel_tol=STD_SEARCH_REL_TOL)

    if hits(last_layer_std(sigma / math.sqrt(width), activation, depth, width, seed)):
        return (
            "The std you return is σ·sqrt(width); return σ itself, the std of the weights "
            "(e.g. 1.41/sqrt(512) = 0.0623)."
        )
    if hits(last_layer_std(math.sqrt(sigma), activation, depth, width, seed)):
        return "You returned σ² (a variance): return the std σ."
    other = "relu" if activation == "tanh" else "tanh"
    if hits(last_layer_std(sigma, other, depth, width, seed)):
        return (
            f"This σ hits the target in a {other} network: pass `activation` to the forward pass."
        )
    if (depth, width) != (6, 512) and hits(last_layer_std(sigma, activation, 6, 512, seed)):
        return "This σ hits the target at depth 6, width 512: use the depth and width given."
    acts = forward_activations(depth, width, 16, activation, "normal", sigma, seed)
    if hits(float(layer_stats(acts).std[0])):
        return "This σ gives the FIRST layer the target std: measure the last layer (std[-1])."
    if hits(last_layer_std(sigma, activation, depth, 16, seed)):
        return "This σ was found with 16 units per layer: 16 is the batch, width is the layer."
    needed = _needed_sigma(target, activation, depth, width, seed)
    if needed is not None and abs(math.log(sigma / needed)) > math.log(1.002):
        # Measured right, but not where the answer is: a range too narrow, or stopped early.
        side = "below" if sigma < needed else "above"
        root_w = math.sqrt(width)
        return (
            f"Your σ = {sigma * root_w:.3g}/sqrt({width}) is {abs(sigma / needed - 1):.0%} "
            f"{side} the σ that reaches the target, about {needed * root_w:.3g}/sqrt({width}). "
            "If your search range does not reach it, widen it (a tanh target near 1 needs "
            "σ·sqrt(width) above 4, a small ReLU target one below 1); if it does, narrow the "
            "search further (σ known to 0.1% keeps the last layer's std within about 0.6%)."
        )
    return "Is the std measured on the last layer, with this activation, depth and width?"


def check_std_search(std_for_last_layer: Callable) -> None:
    """Chapter 03's second exercise: a weight std found by experiment.

    For each case of :data:`STD_SEARCH_CASES` the returned std must give a last-layer std
    within 1% of the target (any method that gets there is right; a ReLU target above 1 is
    reachable); each target of :data:`STD_SEARCH_UNREACHABLE` must raise ``ValueError``. The
    answer runs inside ``references.hidden("std_search")``; ``runs.forward_activations`` is
    the intended tool and stays available.
    """

    if not callable(std_for_last_layer):
        raise TypeError(
            f"std_for_last_layer must be a function; got {type(std_for_last_layer).__name__}"
        )
    for target, activation, depth, width in STD_SEARCH_CASES:
        call = f"std_for_last_layer({target:g}, {activation!r}, depth={depth}, width={width})"
        try:
            sigma = call_answer(
                "std_search", call, std_for_last_layer, target, activation, depth=depth, width=width
            )
        except ValueError as error:
            print(f"WRONG {call} raised ValueError: {error}")
            hint = (
                "ReLU's output has no upper bound (relu(cx) = c relu(x)): every target > 0 is "
                "reachable."
                if activation == "relu"
                else "tanh reaches every target between 0 and 1."
            )
            raise AssertionError(
                f"{call} raised ValueError for a reachable target. {hint}"
            ) from None
        value = _as_float(sigma)
        if value is None or not (math.isfinite(value) and value > 0):
            print(f"WRONG {call} returned {sigma!r}")
            raise AssertionError(f"{call} returned {sigma!r}: expected a positive number")
        sigma = value
        try:
            got = last_layer_std(sigma, activation, depth, width)
        except ValueError as error:
            print(f"WRONG {call} returned {sigma!r}")
            raise AssertionError(
                f"{call} returned {sigma!r}: expected a positive number usable as a std ({error})"
            ) from None
        ok = math.isclose(got, target, rel_tol=STD_SEARCH_REL_TOL)
        print(
            f"{'ok ' if ok else 'WRONG'} {call} = {sigma:.4g} = {sigma * math.sqrt(width):.3f}"
            f"/sqrt({width}): last-layer std {got:.4f}, target {target:g}"
        )
        if not ok:
            raise AssertionError(
                f"{call} = {sigma:.4g} gives a last-layer std of {got:.4g}, not {target:g} "
                f"(relative tolerance {STD_SEARCH_REL_TOL:g}). "
                f"{std_search_mistake(sigma, target, activation, depth, width)}"
            )
    for target, activation in STD_SEARCH_UNREACHABLE:
        call = f"std_for_last_layer({target:g}, {activation!r})"
        try:
            sigma = call_answer("std_search", call, std_for_last_layer, target, activation)
        except ValueError:
            print(f"ok  {call} raises ValueError: no std reaches this target")
            continue
        print(f"WRONG {call} = {sigma!r}")
        hint = (
            "|tanh| < 1, so no layer of a tanh network has a std of 1 or more."
            if activation == "tanh"
            else "A std is never below 0, and 0 only if every weight is 0: a target <= 0 is "
            "unreachable."
        )
        raise AssertionError(
            f"{call} returned {sigma!r}: no std can reach this target, so it "
            f"must raise ValueError. {hint}"
        )
    print(
        f"All visible checks passed (last-layer std within {STD_SEARCH_REL_TOL:.0%} of the target)."
    )
