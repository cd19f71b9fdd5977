"""Chapter 08's exercise (the centred-difference numerical gradient): nbgrader metadata, the
reference solution, the student stub, and plausible wrong answers that the visible check must
already catch."""

from pathlib import Path

import numpy as np
import pytest

from course_utils.checks import check_numerical_gradient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "08_sanity_checks.ipynb"

pytest.importorskip("nbgrader")
from exercise_testing import standard_exercise_tests  # noqa: E402


(test_exercise_cells_carry_nbgrader_metadata,
 test_reference_solution_passes_visible_and_hidden_tests,
 test_student_version_has_a_stub_and_no_hidden_tests) = standard_exercise_tests(
    NOTEBOOK, "numerical_gradient", check="check_numerical_gradient", points=2)


def centred(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def one_sided(f, x, h=1e-5):
    grad, base = np.zeros(x.shape), f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f(x) - base) / h
        x[i] = old
    return grad


def backward_difference(f, x, h=1e-5):
    grad, base = np.zeros(x.shape), f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old - h
        grad[i] = (base - f(x)) / h
        x[i] = old
    return grad


def not_restored(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        x[i] += h
        plus = f(x)
        x[i] -= 2 * h
        minus = f(x)
        grad[i] = (plus - minus) / (2 * h)  # forgot to put x[i] back
    return grad


WRONG = {
    "one-sided (forward) difference": one_sided,
    "backward difference": backward_difference,
    "divides by h, not 2h": lambda f, x, h=1e-5: 2 * centred(f, x, h),
    "ignores h (fixed 1e-5)": lambda f, x, h=1e-5: centred(f, x, 1e-5),
    "step 2h each side": lambda f, x, h=1e-5: centred(f, x, 2 * h),
    "step h/2 each side": lambda f, x, h=1e-5: centred(f, x, h / 2) / 1.0,
    "x left perturbed": not_restored,
    "float32 result": lambda f, x, h=1e-5: centred(f, x, h).astype(np.float32),
    "flattened": lambda f, x, h=1e-5: centred(f, x, h).ravel(),
    "a list": lambda f, x, h=1e-5: centred(f, x, h).tolist(),
    "only the first entry": lambda f, x, h=1e-5: np.where(np.arange(x.size).reshape(x.shape) == 0,
                                                         centred(f, x, h), 0.0),
}


@pytest.mark.parametrize("mistake", WRONG)
def test_plausible_wrong_answers_fail_the_visible_check(mistake, capsys):
    with pytest.raises(AssertionError):
        check_numerical_gradient(WRONG[mistake])
    assert "WRONG" in capsys.readouterr().out


def test_check_refuses_non_functions():
    with pytest.raises(TypeError, match="numerical_gradient must be a function"):
        check_numerical_gradient(1e-5)
