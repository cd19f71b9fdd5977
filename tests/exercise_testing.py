"""Helpers shared by the exercise tests: what nbgrader's autograder does, in one process."""


def nbgrader_cells(notebook):
    """The notebook's nbgrader cells by grade_id."""
    return {
        c.metadata["nbgrader"]["grade_id"]: c for c in notebook.cells if "nbgrader" in c.metadata
    }


def grade(solution_source, test_source):
    """Run a solution cell, then a test cell, in one namespace (raises what the tests raise)."""
    namespace = {}
    exec(compile(solution_source, "<solution>", "exec"), namespace)
    exec(compile(test_source, "<tests>", "exec"), namespace)


def visible_part(test_source):
    """What a student sees of a test cell: everything before the hidden tests."""
    return test_source.split("### BEGIN HIDDEN TESTS")[0]


def standard_exercise_tests(notebook, exercise, check, points, stubs=1):
    """The three tests every exercise module starts with, for ``<exercise>_solution/_tests``.

    - the two cells carry exactly nbgrader's metadata (points as given), the grade cell calls
      the visible check ``check`` before its hidden tests;
    - the reference solution passes the visible check and the hidden tests;
    - the student version has ``stubs`` stubs, no hidden tests, and fails with the stub's
      ``NotImplementedError``.

    Bind the returned functions to ``test_*`` names in the test module, so pytest collects them.
    """
    import nbformat
    import pytest

    from tools.make_student_versions import STUB, student_version

    solution_id, tests_id = f"{exercise}_solution", f"{exercise}_tests"

    def instructor_cells():
        return nbgrader_cells(nbformat.read(notebook, as_version=4))

    def test_exercise_cells_carry_nbgrader_metadata():
        cells = instructor_cells()
        assert {solution_id, tests_id} <= set(cells)
        assert cells[solution_id].metadata["nbgrader"] == {
            "grade": False,
            "grade_id": solution_id,
            "locked": False,
            "schema_version": 3,
            "solution": True,
            "task": False,
        }
        assert cells[tests_id].metadata["nbgrader"] == {
            "grade": True,
            "grade_id": tests_id,
            "locked": True,
            "points": points,
            "schema_version": 3,
            "solution": False,
            "task": False,
        }
        source = cells[tests_id].source
        assert f"{check}(" in visible_part(source)
        assert "### BEGIN HIDDEN TESTS" in source and "### END HIDDEN TESTS" in source

    def test_reference_solution_passes_visible_and_hidden_tests(capsys):
        cells = instructor_cells()
        grade(cells[solution_id].source, cells[tests_id].source)
        assert "All visible checks passed" in capsys.readouterr().out

    def test_student_version_has_a_stub_and_no_hidden_tests():
        student = nbgrader_cells(student_version(notebook))
        assert student[solution_id].source.count(STUB) == stubs
        assert "BEGIN HIDDEN TESTS" not in student[tests_id].source
        with pytest.raises(NotImplementedError, match="Exercise"):
            grade(student[solution_id].source, student[tests_id].source)

    return (
        test_exercise_cells_carry_nbgrader_metadata,
        test_reference_solution_passes_visible_and_hidden_tests,
        test_student_version_has_a_stub_and_no_hidden_tests,
    )


def spec_failures(solution_source, grade_id):
    """``make grade`` 's verdict on an answer, in-process: the failures its spec finds.

    ``solution_source`` is run in a fresh namespace (as the student's cell); the spec of the
    test cell ``grade_id`` calls its functions through the grader's codec, inside
    ``references.hidden``, and judges here. ``[]`` means full points.
    """
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from tools.grading.exercises import spec_for
    from tools.grading.spec import run_in_process

    namespace = {}
    exec(compile(solution_source, "<solution>", "exec"), namespace)
    return run_in_process(spec_for(grade_id), namespace)


def hidden_tests_pass(solution_source, test_source):
    """Whether the test cell (visible check and hidden tests) passes on ``solution_source``."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        try:
            grade(solution_source, test_source)
        except Exception:  # noqa: BLE001 - any failure of the cell is a failed test
            return False
    return True
