"""Cached random weights for the lecture's network: the fast path behind
:func:`course_utils.chapters.ch03_initialization.runs.forward_activations`, the init
explorer and chapter 04's explorer (:class:`ScaledMatrix`).

The lecture's network is big (six 4096 x 4096 matrices, 384 MiB in float32) and drawing it
takes about two seconds here, so an explorer cannot draw new weights on every move. This
module draws each layer's *unit-variance* weights :math:`U_l \\sim N(0, 1)` once, keeps them
read-only, and scales on the fly: :math:`a (\\sigma U) = \\sigma (a U)`, so the std of the
weights costs one multiplication of a small ``(N, width)`` array, not a new matrix.

- Layer ``l``'s matrix depends on ``(seed, width, l)`` only: a shallower network is the
  prefix of a deeper one and shares its memory.
- ``run(experiment, full_width=4096)`` (the explorer) takes a narrower network as the
  top-left corner of the 4096-wide one: a new width costs nothing. A corner of an i.i.d.
  N(0, 1) matrix is again i.i.d. N(0, 1), so the statistics are the lecture's; the draws
  differ from ``forward_activations`` except at the full width.
- The cache is bounded (least recently used matrices go first).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from course_utils import network
from course_utils.validation import MAX_SEED, check_array, check_int, check_real

__all__ = [
    "ScaledMatrix",
    "unit_weights",
    "inputs",
    "weights",
    "draw_layers",
    "run",
    "prefetch",
    "is_cached",
    "MAX_CACHE_BYTES",
    "MAX_CACHED_LAYERS",
    "MAX_CACHED_WIDTH",
]

#: 10 layers of 4096 x 4096 float32 (the init explorer's largest network) and room to spare.
MAX_CACHE_BYTES = 704 * 2**20
#: Layers one call may draw: chapter 03's deepest network (Experiment's MAX_DEPTH).
MAX_CACHED_LAYERS = 100
#: Width of a cached matrix: chapter 03's widest network (8192^2 float32 is 256 MiB).
MAX_CACHED_WIDTH = 8192


def _check_key(seed, width, layer=None, depth=None) -> None:
    """Check the integers that name cached arrays, before anything is drawn or looped over."""
    check_int("seed", seed, 0, MAX_SEED)
    check_int("width", width, 1, MAX_CACHED_WIDTH)
    if layer is not None:
        check_int("layer", layer, 0, MAX_CACHED_LAYERS - 1)
    if depth is not None:
        check_int("depth", depth, 1, MAX_CACHED_LAYERS)


class _Cache:
    """Read-only arrays by key, least recently used dropped past ``max_bytes``.

    Thread-safe: :func:`prefetch` fills it from a background thread. Arrays are made
    outside the lock, so a reader never waits for a draw it does not need.
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, make):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        value.flags.writeable = False  # shared by every caller: nobody may change it
        with self._lock:
            value = self._items.setdefault(key, value)
            self._items.move_to_end(key)
            while len(self._items) > 1 and self.nbytes > self.max_bytes:
                self._items.popitem(last=False)
        return value

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._items

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in self._items.values())


_CACHE = _Cache(MAX_CACHE_BYTES)


def _check_size(name: str, n_bytes: int, limit: int):
    # Callers (chapter 03's Experiment) validate first; this guards direct calls.
    if n_bytes > limit:
        raise ValueError(
            f"{name} would take {n_bytes / 2**20:,.0f} MiB; the cache holds at most "
            f"{limit / 2**20:,.0f} MiB (what fits a 2 GB Binder)"
        )


def unit_weights(seed: int, width: int, layer: int) -> np.ndarray:
    """``U_l``: the read-only ``(width, width)`` float32 N(0, 1) matrix of 0-based ``layer``."""
    _check_key(seed, width, layer=layer)
    _check_size(f"a {width} x {width} weight matrix", 4 * width * width, MAX_CACHE_BYTES)

    def make():
        rng = np.random.default_rng([seed, 1, width, layer])
        return rng.standard_normal((width, width), dtype=np.float32)

    return _CACHE.get(("W", seed, width, layer), make)


def is_cached(seed: int, width: int, layer: int) -> bool:
    """Whether :func:`unit_weights` would answer from the cache (no new draw)."""
    _check_key(seed, width, layer=layer)
    return ("W", seed, width, layer) in _CACHE


def inputs(seed: int, width: int, n_samples: int) -> np.ndarray:
    """The read-only ``(n_samples, width)`` float32 batch :math:`x \\sim N(0, 1)`.

    Row i is the same sample whatever ``n_samples`` is: rows are drawn in order.
    """
    _check_key(seed, width)
    check_int("n_samples", n_samples, 1)
    _check_size(f"a batch of {n_samples} x {width}", 4 * n_samples * width, MAX_CACHE_BYTES // 4)

    def make():
        rng = np.random.default_rng([seed, 0, width])
        return rng.standard_normal((n_samples, width), dtype=np.float32)

    return _CACHE.get(("x", seed, width, n_samples), make)


class ScaledMatrix:
    r""":math:`\sigma U` without forming it: ``a @ ScaledMatrix(U, s)`` is ``(a @ U) * s``.

    Enough of a matrix for :func:`course_utils.network.forward` and ``backward``
    (``a @ W`` and ``W.T``).
    """

    __array_ufunc__ = None  # numpy hands `a @ self` over to __rmatmul__

    def __init__(self, unit: np.ndarray, scale):
        if not isinstance(unit, np.ndarray) or unit.ndim != 2:
            unit = check_array("unit", unit, ndim=2, dtype=np.float32)
        check_real("scale", scale)
        self.unit = unit
        self.scale = scale
        self.shape = unit.shape

    def __rmatmul__(self, a):
        z = a @ self.unit
        z *= self.scale
        return z

    @property
    def T(self) -> "ScaledMatrix":
        return ScaledMatrix(self.unit.T, self.scale)


class _FirstLayer(ScaledMatrix):
    """Layer 1 of :func:`run`: its input is always the cached batch, so ``x @ U_1`` (a sixth
    of a forward pass) is cached too and only rescaled."""

    def __init__(self, unit, scale, key):
        super().__init__(unit, scale)
        self.key = key

    def __rmatmul__(self, a):
        product = _CACHE.get(self.key, lambda: a @ self.unit)
        return product * self.scale


_EXPERIMENT_FIELDS = ("depth", "width", "n_samples", "activation", "seed", "weight_std")


def _check_experiment(experiment):
    # Duck-typed: the validated Experiment lives in chapter 03's runs, which imports this.
    if not all(hasattr(experiment, f) for f in _EXPERIMENT_FIELDS):
        raise ValueError(
            "experiment must be a chapter 03 Experiment (with "
            f"{', '.join(_EXPERIMENT_FIELDS)}); got {experiment!r}"
        )


def _source_width(experiment, full_width):
    _check_experiment(experiment)
    if full_width is not None:
        check_int("full_width", full_width, 1, MAX_CACHED_WIDTH)
    source = experiment.width if full_width is None else full_width
    if source < experiment.width:
        raise ValueError(f"full_width must be >= width ({experiment.width}); got {full_width!r}")
    return source


def draw_layers(seed: int, width: int, depth: int) -> None:
    """Make sure layers ``0..depth-1`` are cached, drawing the missing ones two at a time.

    Each layer has its own random stream, so drawing them in parallel (NumPy releases the
    GIL) gives the same matrices, about 2.5x faster here: the lecture's six layers take
    ~0.8 s instead of ~2 s.
    """
    _check_key(seed, width, depth=depth)
    _check_size(f"{depth} layers of {width} x {width}", 4 * depth * width * width, MAX_CACHE_BYTES)
    missing = [layer for layer in range(depth) if not is_cached(seed, width, layer)]
    if len(missing) > 1:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="weight-draw") as pool:
            list(pool.map(lambda layer: unit_weights(seed, width, layer), missing))


def weights(experiment, full_width: int | None = None) -> list:
    """The network's weights as :class:`ScaledMatrix` objects (see :func:`run`)."""
    source = _source_width(experiment, full_width)
    sigma, width = np.float32(experiment.weight_std), experiment.width
    draw_layers(experiment.seed, source, experiment.depth)
    return [
        ScaledMatrix(unit_weights(experiment.seed, source, layer)[:width, :width], sigma)
        for layer in range(experiment.depth)
    ]


def run(experiment, full_width: int | None = None) -> network.Forward:
    """The lecture's forward pass for ``experiment`` with cached float32 weights.

    Parameters
    ----------
    experiment : course_utils.chapters.ch03_initialization.runs.Experiment
        Validated arguments (depth, width, n_samples, activation, weight std, seed).
    full_width : int, optional
        Take the weights and inputs as the top-left corner of the ``full_width`` network
        (the explorer: any width is then free). Default: the network's own width.

    Returns
    -------
    course_utils.network.Forward
        float32 arrays; ``inputs[0]`` is read-only (it is the cached batch).
    """
    source = _source_width(experiment, full_width)
    seed, width, n = experiment.seed, experiment.width, experiment.n_samples
    x = inputs(seed, source, n)[:, :width]
    ws = weights(experiment, full_width)
    ws[0] = _FirstLayer(ws[0].unit, ws[0].scale, key=("xW1", seed, source, n, width))
    # Huge stds overflow float32 on purpose (the lecture's "exploding" case): no warning,
    # the inf/nan shows up in the statistics instead.
    with np.errstate(over="ignore", invalid="ignore"):
        return network.forward(x, ws, experiment.activation)


def resume(experiment, full_width: int | None, shallower: network.Forward) -> network.Forward:
    """:func:`run` for ``experiment``, continued from ``shallower``, its first layers' record.

    ``shallower`` is :func:`run`'s record of the same network cut to fewer layers (a
    shallower network is a prefix of a deeper one): only the layers after it are computed,
    each by the same operations as in a full run, so the record is :func:`run`'s, bit for
    bit. Its arrays are shared with ``shallower``'s (records are never changed).
    """
    done = len(shallower.activations)
    if not 0 < done < experiment.depth:
        raise ValueError(f"shallower has {done} layers; resume needs 1 to {experiment.depth - 1}")
    last = shallower.activations[-1]
    if not np.isfinite(last).all():  # overflowed: forward() takes finite inputs only
        return run(experiment, full_width)
    ws = weights(experiment, full_width)[done:]
    with np.errstate(over="ignore", invalid="ignore"):
        rest = network.forward(last, ws, experiment.activation)
    return network.Forward(
        inputs=shallower.inputs + rest.inputs,
        pre_activations=shallower.pre_activations + rest.pre_activations,
        activations=shallower.activations + rest.activations,
        step_caches=shallower.step_caches + rest.step_caches,
    )


def prefetch(seed: int, width: int, depth: int) -> threading.Thread:
    """Draw layers ``0..depth-1`` of the ``width`` network in a background thread.

    NumPy releases the GIL while it draws, so the kernel stays responsive. Returns the
    (started, daemon) thread.
    """
    _check_key(seed, width, depth=depth)
    _check_size(f"{depth} layers of {width} x {width}", 4 * depth * width * width, MAX_CACHE_BYTES)

    def fill():
        draw_layers(seed, width, depth)

    thread = threading.Thread(target=fill, name="weight-prefetch", daemon=True)
    thread.start()
    return thread
