"""Chapter 09's exercise (update-to-weight ratio): nbgrader metadata, the reference solution,
the student stub, and plausible wrong answers that the visible check must already catch."""

from pathlib import Path

import numpy as np
import pytest

from course_utils.checks import check_update_ratio
from course_utils.monitoring import sgd_update_ratio

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "09_monitoring.ipynb"

pytest.importorskip("nbgrader")
from exercise_testing import standard_exercise_tests  # noqa: E402


(test_exercise_cells_carry_nbgrader_metadata,
 test_reference_solution_passes_visible_and_hidden_tests,
 test_student_version_has_a_stub_and_no_hidden_tests) = standard_exercise_tests(
    NOTEBOOK, "update_ratio", check="check_update_ratio", points=2)


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
