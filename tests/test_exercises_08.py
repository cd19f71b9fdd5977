"""Chapter 08's exercise (the centred-difference numerical gradient): nbgrader metadata, the
reference solution, the student stub, and plausible wrong answers that the visible check must
already catch."""

from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_utils.checks import check_numerical_gradient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "08_sanity_checks.ipynb"

pytest.importorskip("nbgrader")
from tools.make_student_versions import STUB, student_version  # noqa: E402
from exercise_testing import grade, nbgrader_cells, visible_part  # noqa: E402


@pytest.fixture(scope="module")
def cells():
    return nbgrader_cells(nbformat.read(NOTEBOOK, as_version=4))


def test_exercise_cells_carry_nbgrader_metadata(cells):
    assert set(cells) == {"numerical_gradient_solution", "numerical_gradient_tests"}
    assert cells["numerical_gradient_solution"].metadata["nbgrader"] == {
        "grade": False, "grade_id": "numerical_gradient_solution", "locked": False,
        "schema_version": 3, "solution": True, "task": False}
    tests = cells["numerical_gradient_tests"].metadata["nbgrader"]
    assert tests["grade"] is True and tests["locked"] is True and tests["points"] > 0
    source = cells["numerical_gradient_tests"].source
    assert "check_numerical_gradient(" in visible_part(source)
    assert "### END HIDDEN TESTS" in source


def test_reference_solution_passes_visible_and_hidden_tests(cells, capsys):
    grade(cells["numerical_gradient_solution"].source, cells["numerical_gradient_tests"].source)
    assert "All visible checks passed" in capsys.readouterr().out


def test_student_version_has_a_stub_and_no_hidden_tests():
    student = nbgrader_cells(student_version(NOTEBOOK))
    assert student["numerical_gradient_solution"].source.count(STUB) == 1
    assert "BEGIN HIDDEN TESTS" not in student["numerical_gradient_tests"].source
    with pytest.raises(NotImplementedError, match="Exercise"):
        grade(student["numerical_gradient_solution"].source,
              student["numerical_gradient_tests"].source)


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
