"""Chapter 04's exercise (Batch Norm forward, training mode): nbgrader metadata, the reference
solution, the student stub, and plausible wrong answers that the visible check must catch."""

from pathlib import Path

import numpy as np
import pytest

from course_utils.checks import check_bn_forward

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "04_batch_norm.ipynb"

from exercise_testing import standard_exercise_tests  # noqa: E402


(test_exercise_cells_carry_nbgrader_metadata,
 test_reference_solution_passes_visible_and_hidden_tests,
 test_student_version_has_a_stub_and_no_hidden_tests) = standard_exercise_tests(
    NOTEBOOK, "bn_forward", check="check_bn_forward", points=2)


def _bn(x, gamma, beta, eps, axis=0, ddof=0, eps_outside=False, order="scale-shift"):
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, ddof=ddof, keepdims=True)
    x_hat = (x - mean) / (np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps))
    if order == "shift-scale":
        return gamma * (x_hat + beta)
    return gamma * x_hat + beta


WRONG = {
    "unbiased variance": lambda x, g, b, eps=1e-5: _bn(x, g, b, eps, ddof=1),
    "over the features (axis=1)": lambda x, g, b, eps=1e-5: _bn(x, g, b, eps, axis=1),
    "eps outside the square root": lambda x, g, b, eps=1e-5: _bn(x, g, b, eps, eps_outside=True),
    "no eps": lambda x, g, b, eps=1e-5: _bn(x, g, b, 0.0),
    "gamma and beta ignored": lambda x, g, b, eps=1e-5: _bn(x, 1.0, 0.0, eps),
    "gamma and beta swapped": lambda x, g, b, eps=1e-5: _bn(x, b, g, eps),
    "shift before scale": lambda x, g, b, eps=1e-5: _bn(x, g, b, eps, order="shift-scale"),
    "divided by the variance": lambda x, g, b, eps=1e-5: g * (x - x.mean(0)) / (x.var(0) + eps) + b,
    "only centred": lambda x, g, b, eps=1e-5: g * (x - x.mean(0)) + b,
    "in place": lambda x, g, b, eps=1e-5: np.add(np.multiply(np.subtract(x, x.mean(0), out=x),
                                                             g / np.sqrt(x.var(0) + eps), out=x),
                                                 b, out=x),
    "returns (out, cache)": lambda x, g, b, eps=1e-5: (_bn(x, g, b, eps), None),
    "flattened": lambda x, g, b, eps=1e-5: _bn(x, g, b, eps).ravel(),
}


@pytest.mark.parametrize("mistake", WRONG)
def test_plausible_wrong_answers_fail_the_visible_check(mistake, capsys):
    with pytest.raises(AssertionError):
        check_bn_forward(WRONG[mistake])
    assert "WRONG" in capsys.readouterr().out


def test_check_refuses_non_functions():
    with pytest.raises(TypeError, match="bn_forward_train must be a function"):
        check_bn_forward(0.5)
