"""The grading specs, one module per chapter; :data:`SPECS` maps a test cell's grade_id to its
spec."""

from __future__ import annotations

import importlib
import pkgutil

from tools.grading.spec import Exercise

__all__ = ["SPECS", "spec_for"]


def _collect() -> dict:
    specs = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for exercise in getattr(module, "EXERCISES", ()):
            if exercise.grade_id in specs:
                raise ValueError(f"two grading specs for {exercise.grade_id!r}")
            specs[exercise.grade_id] = exercise
    return specs


SPECS: dict = _collect()


def spec_for(grade_id: str) -> Exercise:
    try:
        return SPECS[grade_id]
    except KeyError:
        raise ValueError(
            f"no grading spec for the test cell {grade_id!r}; add one to tools/grading/exercises/"
        ) from None
