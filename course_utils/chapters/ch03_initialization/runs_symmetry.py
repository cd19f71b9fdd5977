r"""Chapter 03's first experiment: why weights start random (zero and constant inits).

With every weight 0, or every weight equal, all units of a hidden layer compute the same
sum of the same numbers and receive the same gradient: the layer learns as one unit.
:func:`symmetry_table` shows it on one small network, :func:`symmetry_over_seeds` and
:func:`symmetry_seeds_table` over many seeds (the network is :mod:`course_utils.network`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from course_utils import activations as _activations
from course_utils import network
from course_utils.tables import format_table
from course_utils.validation import (
    MAX_ITEMS,
    MAX_SEED,
    check_choice,
    check_int,
    check_real,
    check_sequence,
)

__all__ = [
    "SYMMETRY_INITS",
    "MAX_SYMMETRY_SIZE",
    "symmetry_table",
    "SAME_UNITS_TOLERANCE",
    "SymmetryOverSeeds",
    "symmetry_over_seeds",
    "symmetry_seeds_table",
]

#: Initialisations :func:`symmetry_table` compares.
SYMMETRY_INITS = ("zero", "constant", "random")
#: Units per layer and samples of the small network: the lesson needs 3 to 5; 64 keeps a run
#: of 10,000 seeds (:data:`~course_utils.validation.MAX_ITEMS`) within a few seconds.
MAX_SYMMETRY_SIZE = 64
#: Layers of the small network (input and output included).
MAX_SYMMETRY_LAYERS = 16


def _rms(a: np.ndarray) -> float:
    # Summed in float64 as chapter 03's runs do (their RMS and this one agree to the bit).
    a = np.asarray(a)
    return math.sqrt(float(np.einsum("ij,ij->", a, a, dtype=np.float64) / a.size))


def _symmetry_run(
    init: str, value: float, sizes, n_samples: int, activation: str, seed: int
) -> np.ndarray:
    """One forward and backward pass of :func:`symmetry_table`'s network.

    Returns an array (3, hidden layers): units' outputs spread, dL/dW columns spread, RMS.
    """
    rng = np.random.default_rng(seed)
    shapes = list(zip(sizes[:-1], sizes[1:]))
    if init == "zero":
        weights = [np.zeros(shape) for shape in shapes]
    elif init == "constant":
        weights = [np.full(shape, value) for shape in shapes]
    else:
        weights = [rng.normal(0.0, value, shape) for shape in shapes]
    x = rng.standard_normal((n_samples, sizes[0]))
    run = network.forward(x, weights, activation)
    grads = network.backward(run, weights, rng.standard_normal(run.output.shape), activation)
    hidden = range(1, len(sizes) - 1)
    spread = lambda m, axis: np.max(np.ptp(m, axis=axis))  # noqa: E731
    return np.array(
        [
            [spread(run.activations[l - 1], 1) for l in hidden],
            [spread(grads.weight(l), 1) for l in hidden],
            [_rms(grads.weight(l)) for l in hidden],
        ]
    )


def _check_symmetry_args(init, value, sizes, n_samples, activation):
    check_choice("init", init, SYMMETRY_INITS)
    value = check_real("value", value, 0.0, 1e6, low_open=True)
    sizes = check_sequence(
        "sizes (input, hidden..., output)",
        sizes,
        lambda n, s: check_int(n, s, 1, MAX_SYMMETRY_SIZE),
        min_len=3,
        max_len=MAX_SYMMETRY_LAYERS,
    )
    n_samples = check_int("n_samples", n_samples, 1, MAX_SYMMETRY_SIZE)
    if not isinstance(activation, str):
        raise ValueError(
            f"activation must be a name from course_utils.activations.NAMES; got {activation!r}"
        )
    _activations.get(activation)
    return value, tuple(sizes), n_samples


def symmetry_table(
    init: str,
    value: float = 0.5,
    sizes=(3, 5, 5, 2),
    n_samples: int = 4,
    activation: str = "tanh",
    seed: int = 0,
) -> str:
    r"""Why weights start random: what a zero or constant initialisation does, in numbers.

    A small network with layer sizes ``sizes`` is initialised with ``init``:
    ``"zero"`` (every weight 0), ``"constant"`` (every weight ``value``) or ``"random"``
    (:math:`N(0, \text{value}^2)`). One forward and backward pass (inputs
    :math:`x \sim N(0, 1)`, upstream gradient :math:`G \sim N(0, 1)`, both drawn from
    ``seed``) later, per hidden layer: how far apart the units' activations are (largest
    spread across units, over the batch), how far apart the columns of
    :math:`\partial L/\partial W_l` are (the gradients of different units), and the RMS
    of :math:`\partial L/\partial W_l`. A spread of 0 means every unit computes, and learns,
    the same thing: the layer has one unit's worth of capacity.

    Returns
    -------
    str
        A table, one row per hidden layer.
    """
    value, sizes, n_samples = _check_symmetry_args(init, value, sizes, n_samples, activation)
    out = _symmetry_run(
        init, value, sizes, n_samples, activation, check_int("seed", seed, 0, MAX_SEED)
    )
    return format_table(
        {"units' outputs spread": out[0], "dL/dW columns spread": out[1], "RMS dL/dW": out[2]},
        index=[f"hidden {l}" for l in range(1, len(sizes) - 1)],
    )


#: Spreads up to this count as 0 in :class:`SymmetryOverSeeds`: values of order 1 differing
#: only by rounding (a few ulps, ~1e-16), far below any real difference between units.
SAME_UNITS_TOLERANCE = 1e-12


@dataclass(frozen=True)
class SymmetryOverSeeds:
    r""":func:`symmetry_table`'s three columns at each seed; each field (n_seeds, hidden layers).

    With a zero or constant initialisation every unit of a hidden layer computes the same sum
    of the same numbers and gets the same gradient: in exact arithmetic both spreads are 0, at
    every seed. In floating point a CPU's matrix kernel may add up one column in another order
    than its neighbours (a SIMD main loop and a scalar tail), so equal units can differ by a
    few ulps (about 1e-16 under the SSE4 baseline); :data:`SAME_UNITS_TOLERANCE` separates that
    from a real difference. With all weights 0 every value is exactly 0 (tanh(0) = 0, and
    0 times anything is 0), in any order. The RMS of :math:`\partial L/\partial W_l`
    depends on the seed's inputs and upstream gradient.
    """

    init: str
    outputs_spread: np.ndarray
    columns_spread: np.ndarray
    rms: np.ndarray

    @property
    def n(self) -> int:
        return len(self.rms)

    @property
    def identical_units(self) -> int:
        """Seeds at which every hidden layer's units are copies of one another: both spreads
        at most :data:`SAME_UNITS_TOLERANCE` (rounding), at every hidden layer."""
        return int(
            np.sum(
                (self.outputs_spread <= SAME_UNITS_TOLERANCE).all(axis=1)
                & (self.columns_spread <= SAME_UNITS_TOLERANCE).all(axis=1)
            )
        )


def symmetry_over_seeds(
    init: str,
    value: float = 0.5,
    seeds=range(100),
    sizes=(3, 5, 5, 2),
    n_samples: int = 4,
    activation: str = "tanh",
) -> SymmetryOverSeeds:
    """:func:`symmetry_table`'s network once per seed (new inputs, upstream gradient and,
    for ``"random"``, weights). The arguments are :func:`symmetry_table`'s; ``seeds``
    1 to 10,000 integers >= 0."""
    value, sizes, n_samples = _check_symmetry_args(init, value, sizes, n_samples, activation)
    seeds = check_sequence(
        "seeds", seeds, lambda n, s: check_int(n, s, 0, MAX_SEED), max_len=MAX_ITEMS
    )
    runs = np.array([_symmetry_run(init, value, sizes, n_samples, activation, s) for s in seeds])
    return SymmetryOverSeeds(init, runs[:, 0], runs[:, 1], runs[:, 2])


def symmetry_seeds_table(results: dict) -> str:
    """One row per (case, hidden layer): in how many seeds the units are identical (up to
    rounding, :data:`SAME_UNITS_TOLERANCE`), the
    smallest and largest dL/dW columns spread, and the RMS of dL/dW, median (range).

    Parameters
    ----------
    results : dict of str -> SymmetryOverSeeds
    """
    if (
        not isinstance(results, dict)
        or not results
        or not all(isinstance(r, SymmetryOverSeeds) for r in results.values())
    ):
        raise ValueError(
            "results must map case names to SymmetryOverSeeds (see symmetry_over_seeds)"
        )
    identical = f"units identical (spreads <= {SAME_UNITS_TOLERANCE:g})"
    rows = {identical: [], "dL/dW columns spread": [], "RMS dL/dW, median (range)": []}
    index = []
    for name, r in results.items():
        for layer in range(r.rms.shape[1]):
            index.append(f"{name}, hidden {layer + 1}")
            rows[identical].append(f"{r.identical_units} of {r.n} seeds")
            cols, rms = r.columns_spread[:, layer], r.rms[:, layer]
            rows["dL/dW columns spread"].append(f"{cols.min():.3f} to {cols.max():.3f}")
            rows["RMS dL/dW, median (range)"].append(
                f"{np.median(rms):.3f} ({rms.min():.3f} to {rms.max():.3f})"
            )
    return format_table(rows, index=index, index_name="initialisation")
