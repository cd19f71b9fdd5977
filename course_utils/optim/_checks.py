"""The optimisers' argument checks, with torch.optim's own wording where torch has one."""

from __future__ import annotations

import numpy as np

from course_utils.validation import (
    MAX_ELEMENTS,
    MAX_ITEMS,
    check_array,
    check_callable,
    check_int,
    check_real,
    check_sequence,
)

#: At most this many numbers over all ``params`` (the state needs up to 3 copies more: 16 Mi
#: float64 numbers and their state are about 0.5 GB, what a 2 GB server can spare).
MAX_PARAMETERS = MAX_ELEMENTS
#: At most this many steps of :func:`lecture_momentum` / :func:`pytorch_momentum` (and the
#: chapter's step-size runs): 10**5 Python-level steps take about a second.
MAX_TRAJECTORY_STEPS = 100_000


def _real(name: str, value):
    """``value`` if it is a finite real number (returned as given, so that messages print it
    as torch does: ``Invalid learning rate: -1``)."""
    check_real(name, value)
    return value


def _torch_check(ok: bool, message: str) -> None:
    """Raise ``ValueError(message)`` unless ``ok``: torch.optim's own checks and wording."""
    if not ok:
        raise ValueError(message)


def _nonnegative(**values) -> tuple:
    """Each value finite (:func:`_real`) and >= 0, refused in torch.optim's words
    (``Invalid learning rate: -1``, ``Invalid epsilon value: ...``, ``Invalid <name> value:
    ...``); the values returned as given, in order."""
    words = {"lr": "learning rate", "eps": "epsilon value"}
    for name, value in values.items():
        _real(name, value)
        _torch_check(0.0 <= value, f"Invalid {words.get(name, name + ' value')}: {value}")
    return tuple(values.values())


def _check_params(params) -> list:
    if isinstance(params, np.ndarray):
        raise ValueError("params must be a list of NumPy arrays (e.g. [w, b]), not one array")
    if isinstance(params, (list, tuple)) and not params:
        raise ValueError("optimizer got an empty parameter list")
    params = check_sequence(
        "params", params if isinstance(params, (list, tuple)) else _bounded_list("params", params)
    )
    total = 0
    for i, p in enumerate(params):
        if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
            raise ValueError(
                f"params[{i}] must be a floating-point NumPy array (updated in "
                f"place); got {type(p).__name__}"
                f"{'' if not isinstance(p, np.ndarray) else ' of ' + str(p.dtype)}"
            )
        if not p.flags.writeable:
            raise ValueError(f"params[{i}] is read-only; the optimiser updates it in place")
        total += p.size
    if total > MAX_PARAMETERS:
        raise ValueError(f"params hold {total:,} numbers; at most {MAX_PARAMETERS:,} are allowed")
    return params


def _bounded_list(name: str, items) -> list:
    """The items of an iterable (a generator of parameters, say), refused past MAX_ITEMS."""
    try:
        iterator = iter(items)
    except TypeError:
        raise ValueError(f"{name} must be a list of arrays; got {type(items).__name__}") from None
    out = []
    for item in iterator:
        out.append(item)
        if len(out) > MAX_ITEMS:
            raise ValueError(f"{name} must have at most {MAX_ITEMS} items")
    return out


def _momentum_args(grad, x0, lr, momentum, steps):
    check_callable("grad", grad)
    steps = check_int("steps", steps, 1, MAX_TRAJECTORY_STEPS)
    if np.ndim(lr) == 0:
        lr = check_real("lr", lr, 0)
    lr = check_array(
        "lr",
        np.broadcast_to(np.asarray(lr, dtype=np.float64), (steps,)) if np.ndim(lr) == 0 else lr,
        ndim=1,
        shape=(steps,),
    )
    if np.any(lr < 0):
        raise ValueError("lr must be >= 0 (a number or one value per step)")
    check_real("momentum", momentum, 0, 1, high_open=True)
    return check_array("x0", x0, ndim=1).copy(), lr
