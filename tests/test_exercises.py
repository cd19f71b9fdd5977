"""Chapter 03's exercise: the visible check, the hidden tests, and the student version.

The grading test cell of the instructor notebook is run against three answers: the
reference solution (passes), the student stub (fails with the stub's message), and a
plausible wrong answer that ignores ``gain`` (passes the visible check, fails the hidden
tests). This is what nbgrader's autograder does with each test cell.
"""

import math
from pathlib import Path

import nbformat
import pytest

from course_utils.checks import check_cases, check_init_std_functions

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "03_weight_initialization.ipynb"

pytest.importorskip("nbgrader")
from tools.make_student_versions import STUB, student_version  # noqa: E402


def nbgrader_cells(notebook):
    return {c.metadata["nbgrader"]["grade_id"]: c for c in notebook.cells
            if "nbgrader" in c.metadata}


@pytest.fixture(scope="module")
def instructor():
    return nbformat.read(NOTEBOOK, as_version=4)


@pytest.fixture(scope="module")
def student():
    return student_version(NOTEBOOK)


def grade(solution_source, test_source):
    namespace = {}
    exec(compile(solution_source, "<solution>", "exec"), namespace)
    exec(compile(test_source, "<tests>", "exec"), namespace)


def test_exercise_cells_carry_nbgrader_metadata(instructor):
    cells = nbgrader_cells(instructor)
    assert set(cells) == {"init_std_solution", "init_std_tests"}
    assert cells["init_std_solution"].metadata["nbgrader"]["solution"] is True
    tests = cells["init_std_tests"].metadata["nbgrader"]
    assert tests["grade"] is True and tests["locked"] is True and tests["points"] > 0


def test_reference_solution_passes_visible_and_hidden_tests(instructor, capsys):
    cells = nbgrader_cells(instructor)
    grade(cells["init_std_solution"].source, cells["init_std_tests"].source)
    assert "All visible checks passed" in capsys.readouterr().out


def test_student_version_has_stubs_and_no_hidden_tests(student):
    cells = nbgrader_cells(student)
    text = "\n".join(c.source for c in student.cells)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "gain * math.sqrt" not in text  # the answer is gone
    assert cells["init_std_solution"].source.count(STUB) == 2
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")
    # The static figures and the rest of the notebook are still there for the student.
    assert len(student.cells) == len(nbformat.read(NOTEBOOK, as_version=4).cells)


def test_student_stub_fails_the_grading_cell_with_the_exercise_message(student, instructor):
    solution = nbgrader_cells(student)["init_std_solution"].source
    tests = nbgrader_cells(instructor)["init_std_tests"].source
    with pytest.raises(NotImplementedError, match="Exercise: replace this line"):
        grade(solution, tests)


def test_answer_that_ignores_gain_passes_visible_but_fails_hidden(instructor):
    wrong = (
        "import math\n"
        "def xavier_std(fan_in, fan_out, gain=1.0):\n"
        "    return math.sqrt(2.0 / (fan_in + fan_out))\n"
        "def kaiming_std(fan_in, gain=math.sqrt(2.0)):\n"
        "    return math.sqrt(2.0 / fan_in)\n"
    )
    cells = nbgrader_cells(instructor)
    visible = cells["init_std_tests"].source.split("### BEGIN HIDDEN TESTS")[0]
    grade(wrong, visible)  # the visible check is satisfied...
    with pytest.raises(AssertionError):
        grade(wrong, cells["init_std_tests"].source)  # ...the hidden tests are not


# ---------------------------------------------------------------- the visible check
def test_check_names_the_wrong_case(capsys):
    lecture_xavier = lambda fan_in, fan_out, gain=1.0: 1 / math.sqrt(fan_in)  # noqa: E731
    with pytest.raises(AssertionError, match=r"xavier_std\(512, 2048\) = 0.0441942, expected "
                                             r"0.0279508 \(relative tolerance 1e-06\)"):
        check_init_std_functions(lecture_xavier, lambda fan_in, gain=1.0: 0.0)
    out = capsys.readouterr().out
    assert "ok  xavier_std(4096, 4096)" in out and "WRONG xavier_std(512, 2048)" in out


def test_check_rejects_non_numbers_and_non_functions():
    with pytest.raises(AssertionError, match="returned None: expected a number"):
        check_cases("f", lambda x: None, [((1,), {})], lambda x: 1.0)
    with pytest.raises(TypeError, match="f must be a function; got int"):
        check_cases("f", 3, [((1,), {})], lambda x: 1.0)
