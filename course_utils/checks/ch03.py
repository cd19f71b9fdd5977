"""Chapter 03's exercises: the Xavier and Kaiming stds, and a std found by experiment."""

from __future__ import annotations

import math
from typing import Callable

from course_utils import init as _init
from course_utils.checks._common import check_cases

__all__ = ["check_init_std_functions", "STD_SEARCH_CASES", "STD_SEARCH_UNREACHABLE", "STD_SEARCH_REL_TOL", "last_layer_std", "check_std_search"]

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


