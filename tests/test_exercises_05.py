"""Chapter 05's exercise (Adam's step): nbgrader metadata, the reference solution, the student
stub, and plausible wrong answers that the visible check must already catch."""

from pathlib import Path

import numpy as np
import pytest

from course_utils.checks import check_adam_step

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "05_optimizers.ipynb"

pytest.importorskip("nbgrader")
from exercise_testing import standard_exercise_tests  # noqa: E402


(test_exercise_cells_carry_nbgrader_metadata,
 test_reference_solution_passes_visible_and_hidden_tests,
 test_student_version_has_a_stub_and_no_hidden_tests) = standard_exercise_tests(
    NOTEBOOK, "adam_step", check="check_adam_step", points=3)


def _adam(correct_m=True, correct_v=True, eps_inside=False, eps_before=False, swap=False,
          no_sqrt=False, return_hats=False, sign=-1, t_shift=0, in_place=False, efficient=False,
          g2=True):
    def adam_step(x, dx, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        b1, b2 = (beta2, beta1) if swap else (beta1, beta2)
        t = t + t_shift
        if in_place:
            m *= b1
            m += (1 - b1) * dx
            v *= b2
            v += (1 - b2) * dx**2
        else:
            m = b1 * m + (1 - b1) * dx
            v = b2 * v + (1 - b2) * (dx**2 if g2 else np.abs(dx))
        m_hat = m / (1 - b1**t) if correct_m else m
        v_hat = v / (1 - b2**t) if correct_v else v
        if efficient:  # the paper's "more efficient" order: eps not bias-corrected
            step = lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)
        elif eps_inside:
            step = lr * m_hat / np.sqrt(v_hat + eps)
        elif eps_before:
            step = lr * m_hat / ((np.sqrt(v) + eps) / np.sqrt(1 - b2**t) if correct_v else 1)
        elif no_sqrt:
            step = lr * m_hat / (v_hat + eps)
        else:
            step = lr * m_hat / (np.sqrt(v_hat) + eps)
        x_next = x + sign * step
        if return_hats:
            return x_next, m_hat, v_hat
        return x_next, m, v
    return adam_step


WRONG = {
    "no bias correction": _adam(correct_m=False, correct_v=False),
    "only m corrected": _adam(correct_v=False),
    "only v corrected": _adam(correct_m=False),
    "eps inside the sqrt": _adam(eps_inside=True),
    "eps before the bias correction": _adam(eps_before=True),
    "paper's efficient form": _adam(efficient=True),
    "betas swapped": _adam(swap=True),
    "no square root": _adam(no_sqrt=True),
    "returns m_hat, v_hat": _adam(return_hats=True),
    "ascent": _adam(sign=+1),
    "t from 0": _adam(t_shift=-1),
    "t one too many": _adam(t_shift=1),
    "|g| instead of g²": _adam(g2=False),
    "updates m, v in place": _adam(in_place=True),
    "returns two values": lambda x, dx, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8: (x, m),
}


@pytest.mark.parametrize("mistake", WRONG)
def test_plausible_wrong_answers_fail_the_visible_check(mistake, capsys):
    with np.errstate(all="ignore"):
        with pytest.raises(AssertionError):
            check_adam_step(WRONG[mistake])
    assert "WRONG" in capsys.readouterr().out


def test_check_refuses_non_functions():
    with pytest.raises(TypeError, match="adam_step must be a function"):
        check_adam_step(0.9)
