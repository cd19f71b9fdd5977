"""Fuzz one cases file: every example call, one argument at a time replaced by a bad value.

Run as ``python tests/fuzz/harness.py tests/fuzz/cases_ch07.py`` (``tests/test_fuzz.py`` does,
in a subprocess with a memory limit); prints one JSON object: the number of probes and the
failures. A cases file lists valid example calls (``CASES``: (callable, kwargs)), the modules
it covers (``MODULES``) and the callables it cannot fuzz (``EXEMPT``: callable -> reason).

A probe passes if the call
- raises ``ValueError`` or ``TypeError`` (``AssertionError`` too for a visible check, whose
  contract is to fail an nbgrader test cell) within ``REFUSE_S`` seconds, or
- returns within ``HANG_S`` seconds and what it returns (or a tuple/list's items) holds no
  NaN or inf.
Anything else fails: another exception (an obscure library error, ``IndexError``,
``MemoryError``...), a refusal slower than ``REFUSE_S``, a call still running after
``HANG_S`` (interrupted), or a NaN/inf returned.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import importlib.util
import inspect
import io
import json
import math
import numbers
import signal
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REFUSE_S = 1.0
HANG_S = 10.0
ALLOWED = (ValueError, TypeError)


class Hang(BaseException):
    """Raised by the alarm in a call that runs too long (BaseException: not caught by code
    under test that catches Exception)."""


def _alarm(signum, frame):
    raise Hang()


_HUGE_LIST = None


def _huge_list(item):
    global _HUGE_LIST
    if _HUGE_LIST is None:
        _HUGE_LIST = [0] * 10**7
    return _HUGE_LIST


def _array_probes(value: np.ndarray) -> list:
    probes = [
        ("None", None),
        ("a string", "x"),
        ("an empty array", np.empty((0,) + value.shape[1:], value.dtype)),
    ]
    if value.ndim >= 2:
        probes.append(("one dimension fewer", value.reshape(-1)))
    probes.append(("two dimensions more", value[None, None]))
    huge = (10**5, 10**5) + (1,) * (value.ndim - 2) if value.ndim >= 2 else (10**10,)
    probes.append(
        (f"a broadcast view of shape {huge}", np.broadcast_to(np.zeros((), value.dtype), huge))
    )
    if value.dtype.kind in "fc" and value.size:
        for bad in (math.nan, math.inf):
            v = value.copy()
            v.flat[0] = bad
            probes.append((f"an array holding {bad}", v))
    if value.dtype.kind in "biu" and value.size:
        for bad in (-1, 10**9):  # in int64: a uint8 or bool array cannot hold them
            v = value.astype(np.int64)
            v.flat[0] = bad
            probes.append((f"an integer array holding {bad}", v))
    return probes


def _tensor_probes(value) -> list:
    import torch

    probes = [
        ("None", None),
        ("a string", "x"),
        ("an empty tensor", torch.empty((0,) + tuple(value.shape[1:]), dtype=value.dtype)),
    ]
    if value.ndim >= 2:
        probes.append(("one dimension fewer", value.reshape(-1)))
    probes.append(("two dimensions more", value[None, None]))
    if value.dtype.is_floating_point and value.numel():
        for bad in (math.nan, math.inf):
            v = value.detach().clone()
            v.view(-1)[0] = bad
            probes.append((f"a tensor holding {bad}", v))
    return probes


def bad_values(value) -> list:
    """(label, value) pairs that a function taking ``value`` here should refuse or survive."""
    if isinstance(value, (bool, np.bool_)):
        return [("None", None), ("2", 2), ('"yes"', "yes"), ("1.5", 1.5)]
    if isinstance(value, numbers.Integral):
        return [
            ("None", None),
            ("-1", -1),
            ("0", 0),
            ("10**9", 10**9),
            ("-10**9", -(10**9)),
            ("2**70", 2**70),
            ("1.5", 1.5),
            ("nan", math.nan),
            ('"3"', "3"),
        ]
    if isinstance(value, numbers.Real):
        return [
            ("None", None),
            ("nan", math.nan),
            ("inf", math.inf),
            ("-inf", -math.inf),
            ("-1.0", -1.0),
            ("0.0", 0.0),
            ("1e308", 1e308),
            ("-1e308", -1e308),
            ('"0.1"', "0.1"),
        ]
    if isinstance(value, str):
        return [("None", None), ('""', ""), ('"nonsense"', "nonsense"), ("3", 3)]
    if isinstance(value, np.random.Generator):
        return [("None", None), ("-1", -1), ("2**70", 2**70), ('"seed"', "seed"), ("1.5", 1.5)]
    if isinstance(value, np.ndarray):
        return _array_probes(value)
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        return _tensor_probes(value)
    if isinstance(value, (list, tuple, range)):
        kind = type(value) if isinstance(value, (list, tuple)) else list
        probes = [
            ("None", None),
            ('"nonsense"', "nonsense"),
            ("empty", kind()),
            ("a list of 10**7 items", _huge_list(value)),
        ]
        if len(value):
            probes.append(("a list of None", kind([None] * len(value))))
            probes.append(("a list of nan", kind([math.nan] * len(value))))
        return probes
    if isinstance(value, dict):
        return [
            ("None", None),
            ('"nonsense"', "nonsense"),
            ("{}", {}),
            ('{"nonsense": 1}', {"nonsense": 1}),
        ]
    return [("None", None), ("3", 3), ('"nonsense"', "nonsense")]


def _nonfinite(value) -> bool:
    """True if ``value`` is a float, array or tensor holding NaN or inf."""
    if isinstance(value, (float, np.floating)):
        return not math.isfinite(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "fc":
        return value.size <= 10**8 and not np.isfinite(value).all()
    if type(value).__module__.startswith("torch") and hasattr(value, "is_floating_point"):
        import torch

        return value.is_floating_point() and not bool(torch.isfinite(value).all())
    return False


def _returns_nonfinite(value) -> bool:
    if isinstance(value, (tuple, list)) and len(value) <= 100:
        return any(_nonfinite(v) for v in value)
    return _nonfinite(value)


def _copy(kwargs: dict) -> dict:
    """A fresh copy of every argument that can be copied (a call may change its inputs)."""
    out = {}
    for key, value in kwargs.items():
        try:
            out[key] = copy.deepcopy(value)
        except Exception:  # noqa: BLE001 - widgets and some torch objects cannot be copied
            out[key] = value
    return out


def _name(func) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def _call(func, kwargs):
    """(outcome, seconds, detail): outcome is "returned", "raised" or "hang"."""
    signal.setitimer(signal.ITIMER_REAL, HANG_S)
    start = time.perf_counter()
    try:
        result = func(**kwargs)
    except Hang:
        return "hang", time.perf_counter() - start, None
    except BaseException as error:  # noqa: BLE001 - the point is to see every kind
        signal.setitimer(signal.ITIMER_REAL, 0)
        return "raised", time.perf_counter() - start, error
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return "returned", time.perf_counter() - start, result


def _cleanup():
    try:
        import ipywidgets

        ipywidgets.Widget.close_all()
    except Exception:  # noqa: BLE001
        pass


def _arguments(func, kwargs) -> dict:
    """Every argument the fuzz varies: the example's, plus the defaulted ones."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return dict(kwargs)
    values = {}
    for name, parameter in signature.parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if name in kwargs:
            values[name] = kwargs[name]
        elif parameter.default is not parameter.empty:
            values[name] = parameter.default
    return values


def fuzz_file(path: Path) -> dict:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    failures, probes = [], 0
    covered = {id(func) for func, _ in cases.CASES} | {id(f) for f in getattr(cases, "EXEMPT", {})}
    for module_name in cases.MODULES:
        module = importlib.import_module(module_name)
        exported = getattr(module, "__all__", None)
        if exported is None:
            failures.append(
                dict(
                    callable=module_name, argument="", value="", problem="the module has no __all__"
                )
            )
            continue
        for name in exported:
            obj = getattr(module, name)
            if isinstance(obj, type) and (
                dataclasses.is_dataclass(obj) or issubclass(obj, BaseException)
            ):
                continue  # a result record or an exception: built by the package
            if callable(obj) and id(obj) not in covered:
                failures.append(
                    dict(
                        callable=f"{module_name}.{name}",
                        argument="",
                        value="",
                        problem="no example call in CASES (nor in EXEMPT)",
                    )
                )
    signal.signal(signal.SIGALRM, _alarm)
    for func, kwargs in cases.CASES:
        asserting = ".checks" in func.__module__
        allowed = ALLOWED + ((AssertionError,) if asserting else ())
        outcome, seconds, detail = _call(func, _copy(kwargs))
        _cleanup()
        if outcome != "returned":
            failures.append(
                dict(
                    callable=_name(func),
                    argument="(the example itself)",
                    value="",
                    problem=f"{outcome}: {_describe(detail)}",
                )
            )
            continue
        for argument, base in _arguments(func, kwargs).items():
            for label, bad in bad_values(base):
                probes += 1
                call_kwargs = _copy({k: v for k, v in kwargs.items() if k != argument})
                call_kwargs[argument] = bad
                outcome, seconds, detail = _call(func, call_kwargs)
                _cleanup()
                problem = None
                if outcome == "hang":
                    problem = f"still running after {HANG_S:g} s"
                elif outcome == "raised":
                    if not isinstance(detail, allowed):
                        problem = f"raised {_describe(detail)}"
                    elif seconds > REFUSE_S:
                        problem = f"refused after {seconds:.1f} s (> {REFUSE_S:g} s)"
                elif _returns_nonfinite(detail):
                    problem = "returned NaN or inf"
                if problem:
                    failures.append(
                        dict(callable=_name(func), argument=argument, value=label, problem=problem)
                    )
    return dict(file=str(path), probes=probes, failures=failures)


def _describe(error) -> str:
    if error is None:
        return ""
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text[:160]}"


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    import matplotlib

    matplotlib.use("Agg")
    real_stdout = sys.stdout
    with contextlib.redirect_stdout(io.StringIO()):  # what the calls print is not the report
        report = fuzz_file(Path(sys.argv[1]))
    print(json.dumps(report), file=real_stdout)
