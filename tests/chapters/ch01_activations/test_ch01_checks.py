"""Chapter 01's exercise (Leaky ReLU): nbgrader metadata, the reference solution, the student
stub, and plausible wrong answers that the visible check (with a hint specific to the mistake),
the hidden tests and the grading spec must all catch; the course's own functions are hidden
while an answer runs."""

from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_utils import activations, references
from course_utils.chapters.ch01_activations.checks import check_leaky_relu

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "01_activation_functions.ipynb"

pytest.importorskip("nbgrader")
from exercise_testing import (  # noqa: E402
    hidden_tests_pass,
    nbgrader_cells,
    spec_failures,
    standard_exercise_tests,
)

(
    test_exercise_cells_carry_nbgrader_metadata,
    test_reference_solution_passes_visible_and_hidden_tests,
    test_student_version_has_a_stub_and_no_hidden_tests,
) = standard_exercise_tests(NOTEBOOK, "leaky_relu", check="check_leaky_relu", points=2, stubs=2)


def _answer(f, df):
    """A solution cell defining leaky_relu (body ``f``) and leaky_relu_grad (body ``df``)."""
    return (
        "import numpy as np\n"
        "import course_utils.activations\n"
        "def leaky_relu(z, negative_slope=0.01):\n"
        f"    return {f}\n"
        "def leaky_relu_grad(z, negative_slope=0.01):\n"
        f"    return {df}\n"
    )


RIGHT_F = "np.where(z > 0, z, negative_slope * z)"
RIGHT_DF = "np.where(z > 0, 1.0, negative_slope)"

# mistake -> (solution source, a word of the visible check's hint)
WRONG = {
    "slope ignored": (
        _answer("np.where(z > 0, z, 0.01 * z)", "np.where(z > 0, 1.0, 0.01)"),
        "0.01 whatever",
    ),
    "ReLU": (_answer("np.maximum(z, 0.0)", "(z > 0).astype(float)"), "ReLU"),
    "ReLU's derivative": (_answer(RIGHT_F, "np.where(z > 0, 1.0, 0.0)"), "ReLU's"),
    "derivative 1 at 0": (_answer(RIGHT_F, "np.where(z >= 0, 1.0, negative_slope)"), "z >= 0"),
    "derivative is the value": (_answer(RIGHT_F, RIGHT_F), "not its derivative"),
    "function is the derivative": (_answer(RIGHT_DF, RIGHT_DF), "returned the derivative"),
    "sign flipped": (_answer("np.where(z > 0, z, -negative_slope * z)", RIGHT_DF), "wrong sign"),
    "slope on the wrong side": (
        _answer("np.where(z > 0, negative_slope * z, z)", RIGHT_DF),
        "wrong side",
    ),
    "derivative swapped": (_answer(RIGHT_F, "np.where(z > 0, negative_slope, 1.0)"), "swapped"),
    "max(z, slope)": (_answer("np.maximum(z, negative_slope)", RIGHT_DF), "compares z with"),
    "bool derivative": (_answer(RIGHT_F, "z > 0"), "bools"),
    "float32": (_answer(f"({RIGHT_F}).astype(np.float32)", RIGHT_DF), "float32"),
    "flattened": (_answer(f"({RIGHT_F}).ravel()", f"({RIGHT_DF}).ravel()"), "shape"),
    "list": (
        _answer("[float(v) if v > 0 else negative_slope * v for v in np.ravel(z)]", RIGHT_DF),
        "whole array",
    ),
    "in place": (
        _answer("np.multiply(z, np.where(z > 0, 1.0, negative_slope), out=z)", RIGHT_DF),
        "new array",
    ),
    "one import": (
        _answer(
            "course_utils.activations.leaky_relu(z, negative_slope)",
            "course_utils.activations.leaky_relu_grad(z, negative_slope)",
        ),
        "ReferenceUnavailable",
    ),
    "one import, via get": (
        _answer(
            "course_utils.activations.get('leaky_relu')[0](z) "
            "if negative_slope == 0.01 else "
            "course_utils.activations.leaky_relu(z, negative_slope)",
            RIGHT_DF,
        ),
        "ReferenceUnavailable",
    ),
}


def _cells():
    cells = nbgrader_cells(nbformat.read(NOTEBOOK, as_version=4))
    return cells["leaky_relu_solution"].source, cells["leaky_relu_tests"].source


def _functions(source):
    namespace = {}
    exec(compile(source, "<answer>", "exec"), namespace)
    return namespace["leaky_relu"], namespace["leaky_relu_grad"]


@pytest.mark.parametrize("mistake", WRONG)
def test_plausible_wrong_answers_fail_the_visible_check_with_a_specific_hint(mistake, capsys):
    source, hint = WRONG[mistake]
    with pytest.raises(AssertionError) as failure:
        check_leaky_relu(*_functions(source))
    assert hint in str(failure.value)
    assert "WRONG" in capsys.readouterr().out


@pytest.mark.parametrize("mistake", WRONG)
def test_plausible_wrong_answers_fail_the_hidden_tests_and_the_grading_spec(mistake):
    source, _ = WRONG[mistake]
    assert not hidden_tests_pass(source, _cells()[1])
    assert spec_failures(source, "leaky_relu_tests")


def test_reference_solution_passes_the_grading_spec():
    assert spec_failures(_cells()[0], "leaky_relu_tests") == []


def test_hints_differ_between_mistakes():
    hints = set()
    for source, _ in WRONG.values():
        with pytest.raises(AssertionError) as failure:
            check_leaky_relu(*_functions(source))
        hints.add(str(failure.value).split(". ", 1)[-1])
    assert len(hints) >= len(WRONG) - 3  # same hint only where the same mistake shows


def test_the_references_are_hidden_only_inside_the_exercise():
    assert set(references.references_of("leaky_relu")) >= {
        "course_utils.activations.leaky_relu",
        "course_utils.activations.leaky_relu_grad",
    }
    z = np.array([-2.0, 0.0, 3.0])
    f, df = activations.get("leaky_relu")  # what the lesson and the explorer use
    with references.hidden("leaky_relu"):
        for function in (activations.leaky_relu, activations.leaky_relu_grad, f, df):
            with pytest.raises(references.ReferenceUnavailable, match="leaky_relu"):
                function(z)
        assert activations.relu(z).tolist() == [0.0, 0.0, 3.0]  # the others stay available
    assert activations.leaky_relu(z).tolist() == [-0.02, 0.0, 3.0]
    assert activations.leaky_relu_grad(z).tolist() == [0.01, 0.01, 1.0]
    assert references.guard_holds("leaky_relu", activations.leaky_relu, activations.leaky_relu_grad)


def test_check_refuses_non_functions():
    with pytest.raises(TypeError, match="leaky_relu must be a function"):
        check_leaky_relu(0.01, lambda z: z)
