"""Argument checks for every public function: one wording, one place for every limit.

Each ``check_*`` returns the value in the type the caller computes with, or raises
``ValueError`` naming the argument, what is allowed and the value given::

    lr must be > 0; got -1
    depth must be an integer between 1 and 100; got 1000000000
    x must be a finite array of at most 16777216 entries; got shape (100000, 100000)

Wrong types raise ``ValueError`` too (a student reads one kind of message, and
``except ValueError`` in an explorer catches both). Nothing here allocates more than the
argument it checks: sizes are checked from shapes and lengths first.

Randomness is passed one way everywhere: ``seed``, an ``int`` in ``[0, 2**32 - 1]`` or a
:class:`numpy.random.Generator` (:func:`check_seed`, :func:`make_rng`).

Limits
------
A limit keeps one call within what a 2 GB server (Binder) does in a few seconds on two
cores. Each is named once, here, with its reason; a chapter whose concept needs its own
bound names it in its module with a distinct name and a reason.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "MAX_ELEMENTS",
    "MAX_ITEMS",
    "MAX_MULTIPLY_ADDS",
    "MAX_PIXELS",
    "MAX_DIGITS",
    "MAX_SEED",
    "check_int",
    "check_real",
    "check_bool",
    "check_choice",
    "check_seed",
    "fixed_seed",
    "make_rng",
    "check_array",
    "check_sequence",
    "check_mapping",
    "check_elements",
    "check_work",
    "check_directory",
    "check_callable",
    "check_finite_result",
]

#: Entries of one array argument or of one array a call allocates: 2**24 float64 is 128 MB,
#: so a few such arrays fit a 2 GB server.
MAX_ELEMENTS = 2**24
#: Items of a list argument (seeds, settings, names, layer sizes): each item is a unit of
#: work or a line of output; ten thousand is beyond any lesson and bounds the loop.
MAX_ITEMS = 10_000
#: Multiply-adds of one training run or forward sweep: 10**11 is about 10-30 s on 2 cores
#: with float32 BLAS; a run over it would block a notebook cell for minutes.
MAX_MULTIPLY_ADDS = 10**11
#: Pixels along one side of a figure: 4000 px at 96 dpi is 42 inches, beyond any screen.
MAX_PIXELS = 4000
#: Decimal digits a table or message prints: float64 holds 15-17 significant digits.
MAX_DIGITS = 17
#: Largest seed: numpy's and torch's seeds are 32-bit in every generator the course uses.
MAX_SEED = 2**32 - 1


def _is_int(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Integral)


def _is_real(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Real)


def check_int(name: str, value, low: int, high: int | None = None) -> int:
    """``value`` as an ``int`` in ``[low, high]`` (no upper limit when ``high`` is None)."""
    for bound in (low, high):
        if bound is not None and not _is_int(bound):
            raise ValueError(f"the bounds of {name} must be integers; got {bound!r}")
    if not _is_int(value):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"between {low} and {high}"
        raise ValueError(f"{name} must be {allowed}; got {value}")
    return int(value)


def check_real(
    name: str,
    value,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a finite ``float`` within the bounds (open where ``*_open``)."""
    for bound in (low, high):
        if bound is not None and (not _is_real(bound) or math.isnan(bound)):
            raise ValueError(f"the bounds of {name} must be numbers; got {bound!r}")
    if not _is_real(value) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    value = float(value)
    bad_low = low is not None and (value <= low if low_open else value < low)
    bad_high = high is not None and (value >= high if high_open else value > high)
    if bad_low or bad_high:
        lo = "" if low is None else f"{'>' if low_open else '>='} {low:g}"
        hi = "" if high is None else f"{'<' if high_open else '<='} {high:g}"
        raise ValueError(f"{name} must be {' and '.join(p for p in (lo, hi) if p)}; got {value!r}")
    return value


def check_bool(name: str, value) -> bool:
    """``value`` if it is ``True`` or ``False`` (numpy bools too), else ``ValueError``."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def check_choice(name: str, value, options: Sequence):
    """``value`` if it is one of ``options`` (strings compared exactly), else ``ValueError``."""
    if len(options) > MAX_ITEMS:
        raise ValueError(f"the options of {name} must be at most {MAX_ITEMS}; got {len(options)}")
    try:
        found = any(value == option and type(value) is type(option) for option in options)
    except (TypeError, ValueError):  # an array compared with a string, say
        found = False
    if not found:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


def check_seed(name: str, value):
    """``value`` if it is an ``int`` in ``[0, MAX_SEED]`` or a ``numpy.random.Generator``."""
    if isinstance(value, np.random.Generator):
        return value
    if not _is_int(value) or not 0 <= value <= MAX_SEED:
        raise ValueError(
            f"{name} must be an integer between 0 and {MAX_SEED} or a "
            f"numpy.random.Generator; got {value!r}"
        )
    return int(value)


def fixed_seed(name: str, value) -> int:
    """``value`` as one int seed (checked by :func:`check_seed`): an int as it is, a Generator
    gives one draw. For results that must repeat on every call (an explorer's sample)."""
    value = check_seed(name, value)
    if isinstance(value, np.random.Generator):
        return int(value.integers(MAX_SEED, endpoint=True))
    return value


def make_rng(seed, name: str = "seed") -> np.random.Generator:
    """The generator for ``seed`` (checked by :func:`check_seed`; a Generator is used as is)."""
    seed = check_seed(name, seed)
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def check_elements(name: str, shape, limit: int = MAX_ELEMENTS) -> tuple:
    """``shape`` as a tuple of ints >= 0 whose product is at most ``limit`` (no allocation)."""
    try:
        dims = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise ValueError(f"{name} must be a shape (a tuple of integers); got {shape!r}") from None
    if any(d < 0 for d in dims):
        raise ValueError(f"{name} must have sizes >= 0; got {dims}")
    if math.prod(dims) > limit:
        raise ValueError(
            f"{name} would have {math.prod(dims)} entries (shape {dims}); "
            f"at most {limit} fit in memory here"
        )
    return dims


def check_array(
    name: str,
    value,
    ndim: int | tuple | None = None,
    shape: tuple | None = None,
    dtype=np.float64,
    finite: bool = True,
    min_size: int = 1,
    limit: int = MAX_ELEMENTS,
) -> np.ndarray:
    """``value`` as a numpy array of ``dtype``, checked before anything is computed.

    ``dtype``: the dtype to convert to, or ``None`` to keep a float array's own (float32
    stays float32; integers become float64); ``ndim``: the allowed number(s) of dimensions; ``shape``: the sizes required, ``None``
    for any size (``(None, 2)``: any number of rows of 2); ``finite``: no NaN or inf;
    ``min_size``: entries required; ``limit``: at most this many entries. Accepts numpy
    arrays, torch tensors (moved to numpy) and (nested) lists of numbers.
    """
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise ValueError(f"{name} must be an array of numbers; got {value!r}")
    size = getattr(value, "size", None)
    shape_of = getattr(value, "shape", None)
    if shape_of is not None and not callable(size):
        check_elements(name, shape_of, limit)
    elif shape_of is not None:  # a torch tensor: size is a method
        check_elements(name, tuple(shape_of), limit)
        value = value.detach().cpu().numpy()
    elif isinstance(value, Sequence) and len(value) > limit:
        raise ValueError(f"{name} has {len(value)} entries; at most {limit} fit in memory here")
    try:
        array = np.asarray(value, dtype=dtype)
        if dtype is None and array.dtype.kind not in "fc":
            array = array.astype(np.float64)
    except (TypeError, ValueError, OverflowError) as error:
        kind = "numeric" if dtype is None else np.dtype(dtype).name
        raise ValueError(
            f"{name} must be an array of {kind} values; got {_short(value)} ({error})"
        ) from None
    if array.size > limit:
        raise ValueError(f"{name} has {array.size} entries; at most {limit} fit in memory here")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            raise ValueError(
                f"{name} must have {' or '.join(map(str, allowed))} dimension(s); "
                f"got shape {array.shape}"
            )
    if shape is not None:
        if array.ndim != len(shape) or any(
            want is not None and got != want for got, want in zip(array.shape, shape)
        ):
            wanted = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {wanted}; got {array.shape}")
    if array.size < min_size:
        raise ValueError(f"{name} must have at least {min_size} entries; got shape {array.shape}")
    if finite and array.dtype.kind in "fc" and not np.isfinite(array).all():
        raise ValueError(f"{name} must hold finite numbers; it has NaN or inf")
    return array


def check_sequence(
    name: str, value, item: Callable | None = None, min_len: int = 1, max_len: int = MAX_ITEMS
) -> list:
    """``value`` (a list, tuple or range; not a string) as a list of checked items.

    The length is checked before any item; ``item(name_i, x)`` checks one item and returns
    it (e.g. ``lambda n, x: check_int(n, x, 1)``).
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise ValueError(f"{name} must be a list; got {_short(value)}")
    if not min_len <= len(value) <= max_len:
        raise ValueError(
            f"{name} must have between {min_len} and {max_len} items; got {len(value)}"
        )
    if item is None:
        return list(value)
    return [item(f"{name}[{i}]", x) for i, x in enumerate(value)]


def check_work(
    what: str, multiply_adds: float, limit: float = MAX_MULTIPLY_ADDS, advice: str = ""
) -> None:
    """Refuse a run whose cost (multiply-adds, estimated from its sizes) is over ``limit``."""
    if multiply_adds > limit:
        raise ValueError(
            f"{what} would take about {multiply_adds:.2g} multiply-adds; at most "
            f"{limit:.2g} run in reasonable time here" + (f": {advice}" if advice else "")
        )


def check_directory(name: str, value):
    """``value`` (a str or ``pathlib.Path``) as the ``Path`` of an existing directory. An empty
    string is refused: ``Path("")`` is the current directory, and nothing may be written
    where the caller did not say."""
    from pathlib import Path

    if not isinstance(value, (str, Path)) or not str(value).strip():
        raise ValueError(f"{name} must be the path of an existing directory; got {value!r}")
    path = Path(value)
    if not path.is_dir():
        raise ValueError(f"{name} must be an existing directory; got {str(path)!r}")
    return path


def check_callable(name: str, value) -> Callable:
    """``value`` if it can be called, else ``ValueError``."""
    if not callable(value):
        raise ValueError(f"{name} must be a function; got {_short(value)}")
    return value


def check_finite_result(what: str, value, advice: str = "") -> None:
    """Raise ``ValueError`` if a computed number or array holds NaN or inf (never return it
    silently): ``what`` names it, ``advice`` says which argument to change."""
    array = np.asarray(value, dtype=float)
    if not np.isfinite(array).all():
        raise ValueError(f"{what} is not finite (NaN or inf)" + (f": {advice}" if advice else ""))


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_mapping(name: str, value, kinds, what: str, max_len: int = MAX_ITEMS) -> dict:
    """``value`` if it is a dict of 1 to ``max_len`` names (str) -> objects of ``kinds``
    (a type or a tuple of types), else ``ValueError``; ``what`` says what the objects are.

    E.g. ``check_mapping("runs", runs, SeedRuns, "SeedRuns (from train_seeds)")``.
    """
    if not isinstance(value, dict) or not 1 <= len(value) <= max_len:
        size = f" of {len(value)} entries" if isinstance(value, dict) else ""
        raise ValueError(
            f"{name} must be a dict of 1 to {max_len} entries: name -> {what}; "
            f"got {type(value).__name__}{size}"
        )
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, kinds):
            raise ValueError(
                f"{name} must map names (str) to {what}; got {repr(key)[:40]}: {type(item).__name__}"
            )
    return value
