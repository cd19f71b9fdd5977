"""The package's reference answers to the exercises, and the switch that hides them.

The lesson modules implement what the exercises ask for (``optim.adam_step`` is chapter 05's
exercise), because the notebooks need them. So that an answer cannot be a call to them, each
such function is marked with :func:`reference_answer`, and the checks run a student's
function inside :func:`hidden`::

    with references.hidden("adam_step"):
        got = adam_step(x, dx, m, v, t)      # the student's function

While the block runs, calling a reference of that exercise (``optim.adam_step``, the
optimiser's ``Adam``) raises :class:`ReferenceUnavailable`, whose message says why. Outside
the block they work as usual, so the lesson cells before and after the exercise are
unaffected. The visible checks, the hidden tests (so real ``nbgrader autograde`` too) and
``make grade``'s probes all call the student's function this way: nothing to configure.

What this protects against is the one-line answer, ``return course_utils.optim.adam_step(...)``.
It lives in the student's own process, so it is not a defence against a student who sets out
to undo it (that takes editing this module's state, and shows in the submission); ``make
grade`` adds a canary for that (:func:`guard_holds`).
"""

from __future__ import annotations

import functools
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

__all__ = [
    "ReferenceUnavailable",
    "reference_answer",
    "hidden",
    "references_of",
    "guard_holds",
    "EXERCISES",
]


class ReferenceUnavailable(RuntimeError):
    """A reference answer was called while the exercise it answers was being checked."""


_lock = threading.Lock()
_hidden: dict[str, int] = {}  # exercise -> nesting depth of hidden() blocks
_registry: dict[str, list[str]] = {}  # exercise -> qualified names of its references

#: The exercises whose references this package marks (names as used in the notebooks).
EXERCISES: tuple[str, ...] = ()


def reference_answer(*exercises: str) -> Callable:
    """Mark a function or method as a reference answer of ``exercises``.

    The decorated function behaves exactly as before, except inside a :func:`hidden` block for
    one of ``exercises``, where calling it raises :class:`ReferenceUnavailable` before its
    body runs (its arguments are not even looked at).
    """
    if not exercises or not all(isinstance(e, str) and e for e in exercises):
        raise ValueError(f"reference_answer needs one or more exercise names; got {exercises!r}")

    def mark(function: Callable) -> Callable:
        if not callable(function):
            raise ValueError(f"reference_answer marks functions; got {type(function).__name__}")
        name = f"{function.__module__}.{function.__qualname__}"
        for exercise in exercises:
            _registry.setdefault(exercise, []).append(name)
        global EXERCISES
        EXERCISES = tuple(sorted(_registry))

        @functools.wraps(function)
        def guarded(*args, **kwargs):
            blocked = [e for e in exercises if _hidden.get(e)]
            if blocked:
                raise ReferenceUnavailable(
                    f"{name} is the course's reference answer to the exercise "
                    f"{blocked[0]!r}: an answer has to compute the result itself, not call it. "
                    "(It works as usual outside the exercise.)"
                )
            return function(*args, **kwargs)

        del guarded.__wrapped__  # no one-attribute way back to the unguarded function
        guarded.__reference_of__ = exercises
        return guarded

    return mark


@contextmanager
def hidden(*exercises: str) -> Iterator[None]:
    """Within the block, the references of ``exercises`` raise :class:`ReferenceUnavailable`."""
    unknown = [e for e in exercises if not isinstance(e, str) or not e]
    if not exercises or unknown:
        raise ValueError(f"hidden needs one or more exercise names; got {exercises!r}")
    with _lock:
        for exercise in exercises:
            _hidden[exercise] = _hidden.get(exercise, 0) + 1
    try:
        yield
    finally:
        with _lock:
            for exercise in exercises:
                _hidden[exercise] -= 1
                if not _hidden[exercise]:
                    del _hidden[exercise]


def references_of(exercise: str) -> list[str]:
    """Qualified names of the functions marked as references of ``exercise`` (imported ones)."""
    if not isinstance(exercise, str):
        raise ValueError(f"exercise must be a name (str); got {exercise!r}")
    return list(_registry.get(exercise, []))


def guard_holds(exercise: str, *functions: Callable) -> bool:
    """Whether each of ``functions`` (references of ``exercise``) refuses to run while hidden.

    Called with no arguments inside :func:`hidden`: an intact reference raises
    :class:`ReferenceUnavailable` before looking at its arguments; anything else (a result, a
    ``TypeError`` about missing arguments) means the guard was taken off.
    """
    with hidden(exercise):
        for function in functions:
            try:
                function()
            except ReferenceUnavailable:
                continue
            except BaseException:  # noqa: BLE001 - any other outcome means no guard
                return False
            return False
    return True
