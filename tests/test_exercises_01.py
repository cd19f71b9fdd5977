"""Chapter 01's exercise (Leaky ReLU): nbgrader metadata, the reference solution, the student
stub, and plausible wrong answers that the visible check must already catch."""

from pathlib import Path

import numpy as np
import pytest

from course_utils.checks import check_leaky_relu

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "01_activation_functions.ipynb"

pytest.importorskip("nbgrader")
from exercise_testing import standard_exercise_tests  # noqa: E402


(test_exercise_cells_carry_nbgrader_metadata,
 test_reference_solution_passes_visible_and_hidden_tests,
 test_student_version_has_a_stub_and_no_hidden_tests) = standard_exercise_tests(
    NOTEBOOK, "leaky_relu", check="check_leaky_relu", points=2, stubs=2)


WRONG = {
    "slope ignored": (lambda z, negative_slope=0.01: np.where(z > 0, z, 0.01 * z),
                      lambda z, negative_slope=0.01: np.where(z > 0, 1.0, 0.01)),
    "relu": (lambda z, negative_slope=0.01: np.maximum(z, 0.0),
             lambda z, negative_slope=0.01: (z > 0).astype(float)),
    "derivative 1 at 0": (lambda z, negative_slope=0.01: np.where(z > 0, z, negative_slope * z),
                          lambda z, negative_slope=0.01: np.where(z >= 0, 1.0, negative_slope)),
    "derivative is the value": (lambda z, negative_slope=0.01: np.where(z > 0, z, negative_slope * z),
                                lambda z, negative_slope=0.01: np.where(z > 0, z, negative_slope * z)),
    "bool derivative": (lambda z, negative_slope=0.01: np.where(z > 0, z, negative_slope * z),
                        lambda z, negative_slope=0.01: z > 0),
    "float32": (lambda z, negative_slope=0.01: np.where(z > 0, z, negative_slope * z).astype(np.float32),
                lambda z, negative_slope=0.01: np.where(z > 0, 1.0, negative_slope)),
    "in place": (lambda z, negative_slope=0.01: np.multiply(z, np.where(z > 0, 1.0, negative_slope), out=z),
                 lambda z, negative_slope=0.01: np.where(z > 0, 1.0, negative_slope)),
    "flattened": (lambda z, negative_slope=0.01: np.where(z > 0, z, negative_slope * z).ravel(),
                  lambda z, negative_slope=0.01: np.where(z > 0, 1.0, negative_slope).ravel()),
    "list": (lambda z, negative_slope=0.01: [float(v) if v > 0 else negative_slope * v for v in np.ravel(z)],
             lambda z, negative_slope=0.01: np.where(z > 0, 1.0, negative_slope)),
    "max(z, slope)": (lambda z, negative_slope=0.01: np.maximum(z, negative_slope),
                      lambda z, negative_slope=0.01: np.where(z > 0, 1.0, negative_slope)),
}


@pytest.mark.parametrize("mistake", WRONG)
def test_plausible_wrong_answers_fail_the_visible_check(mistake, capsys):
    f, df = WRONG[mistake]
    with pytest.raises(AssertionError):
        check_leaky_relu(f, df)
    assert "WRONG" in capsys.readouterr().out


def test_check_refuses_non_functions():
    with pytest.raises(TypeError, match="leaky_relu must be a function"):
        check_leaky_relu(0.01, lambda z: z)
