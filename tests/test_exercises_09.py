"""Chapter 09's exercise (update-to-weight ratio): nbgrader metadata, the reference solution,
the student stub, and plausible wrong answers that the visible check must already catch."""

from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_utils.checks import check_update_ratio
from course_utils.monitoring import sgd_update_ratio

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "09_monitoring.ipynb"

pytest.importorskip("nbgrader")
from tools.make_student_versions import STUB, student_version  # noqa: E402
from exercise_testing import grade, nbgrader_cells, visible_part  # noqa: E402


@pytest.fixture(scope="module")
def cells():
    return nbgrader_cells(nbformat.read(NOTEBOOK, as_version=4))


def test_exercise_cells_carry_nbgrader_metadata(cells):
    assert set(cells) == {"update_ratio_solution", "update_ratio_tests"}
    assert cells["update_ratio_solution"].metadata["nbgrader"] == {
        "grade": False, "grade_id": "update_ratio_solution", "locked": False,
        "schema_version": 3, "solution": True, "task": False}
    tests = cells["update_ratio_tests"].metadata["nbgrader"]
    assert tests["grade"] is True and tests["locked"] is True and tests["points"] == 2
    source = cells["update_ratio_tests"].source
    assert "check_update_ratio(update_ratio)" in visible_part(source)
    assert "### END HIDDEN TESTS" in source


def test_reference_solution_passes_visible_and_hidden_tests(cells, capsys):
    grade(cells["update_ratio_solution"].source, cells["update_ratio_tests"].source)
    assert "All visible checks passed (relative tolerance 1e-06)." in capsys.readouterr().out


def test_student_version_has_a_stub_and_no_hidden_tests():
    student = nbgrader_cells(student_version(NOTEBOOK))
    assert student["update_ratio_solution"].source.count(STUB) == 1
    assert "BEGIN HIDDEN TESTS" not in student["update_ratio_tests"].source
    with pytest.raises(NotImplementedError, match="Exercise"):
        grade(student["update_ratio_solution"].source, student["update_ratio_tests"].source)


def _in_place(w, dw, lr):
    w -= lr * dw  # takes the step, then measures against the new weights
    return np.linalg.norm(lr * dw) / np.linalg.norm(w)


def _spectral(a):
    return np.linalg.norm(a, 2) if a.ndim == 2 else np.linalg.norm(a)


WRONG = {
    "forgot the lr": lambda w, dw, lr: np.linalg.norm(dw) / np.linalg.norm(w),
    "squared norms": lambda w, dw, lr: np.sum((lr * dw) ** 2) / np.sum(w ** 2),
    "divided by the new weights": lambda w, dw, lr: (np.linalg.norm(lr * dw)
                                                     / np.linalg.norm(w - lr * dw)),
    "step squared (lr**2)": lambda w, dw, lr: np.linalg.norm(lr ** 2 * dw) / np.linalg.norm(w),
    "spectral norm": lambda w, dw, lr: _spectral(lr * dw) / _spectral(w),
    "mean absolute values": lambda w, dw, lr: np.mean(np.abs(lr * dw)) / np.mean(np.abs(w)),
    "mean of elementwise ratios": lambda w, dw, lr: np.mean(np.abs(lr * dw) / np.abs(w)),
    "inverted": lambda w, dw, lr: np.linalg.norm(w) / np.linalg.norm(lr * dw),
    "step in place": _in_place,
    "returns a string": lambda w, dw, lr: f"{sgd_update_ratio(w, dw, lr):.3g}",
}


@pytest.mark.parametrize("mistake", WRONG)
def test_plausible_wrong_answers_fail_the_visible_check(mistake, capsys):
    with pytest.raises(AssertionError):
        check_update_ratio(WRONG[mistake])
    assert "WRONG" in capsys.readouterr().out


def test_check_refuses_non_functions():
    with pytest.raises(TypeError, match="update_ratio must be a function"):
        check_update_ratio(1e-3)
