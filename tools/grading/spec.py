"""What ``make grade`` asks of an exercise, and how it decides, outside the student's process.

An exercise's grading spec (``tools/grading/exercises/chNN.py``) lists :class:`Call` s: the
student's function by name, with inputs the grader chose. A probe runs them in the student's
kernel, inside ``course_utils.references.hidden(...)``, and sends back, as data
(:mod:`tools.grading.codec`), what each returned or raised and its arguments after the call.
The spec's ``judge`` then compares, in the grader's process, with the course's reference
(imported here, where nothing is hidden or patched) and returns the failures; none means full
points. Prints and warnings of the student's code play no part.

Arguments changed in place fail the exercise unless the spec allows it (``may_modify``):
checked here, generically, before the judge.

Unit tests run a spec in-process with :func:`run_in_process`, through the same codec.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from tools.grading.codec import Expr, Rng, Unsupported, decode, encode

__all__ = [
    "Call",
    "Outcome",
    "Exercise",
    "Rng",
    "Expr",
    "Unsupported",
    "run_in_process",
    "close",
    "raised",
    "returned",
    "not_a_tuple",
    "describe",
    "unchanged_failures",
    "judge_all",
    "isclose",
]


@dataclass(frozen=True)
class Call:
    """One call of the student's ``function`` (a name in the notebook's namespace)."""

    function: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    label: str = ""  # shown in the feedback instead of the arguments, if given


@dataclass(frozen=True)
class Outcome:
    """What one call did, as the grader received it (decoded, untrusted data)."""

    value: object = None
    error: tuple | None = None  # (exception type name, message) if it raised
    args_after: tuple = ()
    kwargs_after: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Exercise:
    """The grading spec of the test cell ``grade_id``.

    ``judge(calls, outcomes)`` returns failure messages for the feedback (empty: full points).
    ``may_modify`` names the functions allowed to change their arguments, e.g. a numerical
    gradient that restores ``x`` must leave it equal, so it is usually empty.
    """

    grade_id: str
    hides: tuple
    calls: Callable[[], Sequence[Call]]
    judge: Callable[[Sequence[Call], Sequence[Outcome]], list]
    may_modify: frozenset = frozenset()

    def __post_init__(self):
        if not self.grade_id.endswith("_tests"):
            raise ValueError(f"grade_id names the test cell (…_tests); got {self.grade_id!r}")
        if not self.hides:
            raise ValueError(f"{self.grade_id}: name the exercise(s) whose references to hide")


# --- helpers for judges ----------------------------------------------------------------------


def describe(call: Call, limit: int = 120) -> str:
    """``name(arg, ...)`` for the feedback: arrays as their shape, long values cut."""
    if call.label:
        return f"{call.function}({call.label})"

    def short(value):
        if isinstance(value, np.ndarray):
            return f"<array {value.shape}>"
        if isinstance(value, Rng):
            return f"default_rng({value.seed})"
        if isinstance(value, Expr):
            return value.source
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."

    parts = [short(a) for a in call.args] + [f"{k}={short(v)}" for k, v in call.kwargs.items()]
    text = f"{call.function}({', '.join(parts)})"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def returned(calls: Sequence[Call], outcomes: Sequence[Outcome], failures: list):
    """(call, outcome) for each call that returned; a failure message for each that raised."""
    for call, outcome in zip(calls, outcomes):
        if outcome.ok:
            yield call, outcome
        else:
            failures.append(f"{describe(call)} {raised(outcome)}")


def not_a_tuple(call: Call, value, names: Sequence[str]) -> str | None:
    """Why ``value`` is not the tuple ``(names...)`` the call must return, or ``None``."""
    if isinstance(value, tuple) and len(value) == len(names):
        return None
    return f"{describe(call)} must return ({', '.join(names)}); got {type(value).__name__}"


def raised(outcome: Outcome) -> str:
    return f"raised {outcome.error[0]}: {outcome.error[1]}" if outcome.error else ""


def close(got, want, rtol: float = 1e-8, atol: float = 1e-12, what: str = "the result"):
    """``None`` if ``got`` (untrusted) equals ``want`` within tolerance, else why not."""
    if isinstance(got, Unsupported):
        return f"{what} is a {got.type_name}, not a number or an array"
    want_array = np.asarray(want)
    try:
        got_array = (
            np.asarray(got, dtype=np.float64)
            if want_array.dtype.kind in "fiub"
            else np.asarray(got)
        )
    except (TypeError, ValueError):
        return f"{what} is {type(got).__name__}, not a number or an array"
    if got_array.shape != want_array.shape:
        return f"{what} has shape {got_array.shape}, expected {want_array.shape}"
    if not np.all(np.isfinite(got_array) == np.isfinite(want_array)):
        return f"{what} has NaN or infinite entries where the expected one has numbers"
    finite = np.isfinite(want_array)
    if not np.allclose(got_array[finite], want_array[finite], rtol=rtol, atol=atol):
        err = np.max(np.abs(got_array[finite] - want_array[finite]))
        return f"{what} is off by up to {err:.3g} (tolerance {rtol:g} relative, {atol:g} absolute)"
    return None


def unchanged_failures(call: Call, outcome: Outcome) -> list:
    """Arguments the call changed in place (arrays compared exactly: a copy is exact)."""
    failures = []
    names = [f"argument {i + 1}" for i in range(len(call.args))]
    pairs = list(zip(names, call.args, outcome.args_after))
    pairs += [(f"argument {k}", call.kwargs[k], outcome.kwargs_after.get(k)) for k in call.kwargs]
    for name, before, after in pairs:
        if isinstance(before, np.ndarray):
            if not (
                isinstance(after, np.ndarray)
                and after.shape == before.shape
                and np.array_equal(after, before, equal_nan=True)
            ):
                failures.append(f"{describe(call)} changed its {name} in place; work on a copy")
    return failures


def judge_all(exercise: Exercise, calls: Sequence[Call], outcomes: Sequence[Outcome]) -> list:
    """Every failure: missing outcomes, arguments changed in place, then the judge's."""
    if len(outcomes) != len(calls):
        return [f"only {len(outcomes)} of {len(calls)} calls came back"]
    failures = []
    for call, outcome in zip(calls, outcomes):
        if call.function not in exercise.may_modify:
            failures += unchanged_failures(call, outcome)
    try:
        failures += list(exercise.judge(calls, outcomes))
    except Exception as error:  # noqa: BLE001 - odd data must not crash the grader
        failures.append(
            f"the answer's results could not be checked ({type(error).__name__}: {error})"
        )
    return failures


def run_in_process(exercise: Exercise, namespace: dict) -> list:
    """Run ``exercise`` 's calls on the functions in ``namespace`` here; return the failures.

    For unit tests of a spec: the values go through the codec both ways, as with a kernel.
    """
    from course_utils import references

    calls = list(exercise.calls())
    outcomes = []
    for call in calls:
        args = decode(encode(tuple(call.args)), trusted=True)
        kwargs = decode(encode(dict(call.kwargs)), trusted=True)
        record = {}
        try:
            function = namespace[call.function]
            with references.hidden(*exercise.hides):
                record["value"] = encode(function(*args, **kwargs))
        except Exception as error:  # noqa: BLE001 - the student's error is data
            record["error"] = (type(error).__name__, str(error)[:500])
        outcomes.append(
            Outcome(
                value=decode(record.get("value")),
                error=record.get("error"),
                args_after=decode(encode(args)),
                kwargs_after=decode(encode(kwargs)),
            )
        )
    return judge_all(exercise, calls, outcomes)


def isclose(a, b, rel_tol=1e-9) -> bool:
    try:
        return math.isclose(float(a), float(b), rel_tol=rel_tol)
    except (TypeError, ValueError):
        return False
