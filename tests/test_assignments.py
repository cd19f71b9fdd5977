"""Classroom assignments for every notebook: student versions leak nothing, grading is right.

For each instructor notebook in ``notebooks/``:

- it has at least one exercise (a solution cell and a locked grade cell with points);
- its student version (``tools/make_student_versions.py``, nbgrader's preprocessors) holds none
  of the solution lines and none of the hidden-test lines, and no outputs;
- every test cell has a grading spec (``tools/grading/exercises``), and grade_ids are unique;
- graded by ``tools/grade.py`` (what ``make grade`` runs, sandboxed when bubblewrap is
  installed), a class of three: the instructor version scores full marks with no cell failing;
  the untouched student version scores zero because of the stubs' ``NotImplementedError``, and
  in that run no cell but a solution cell fails (so every other cell runs for a student who
  has not answered yet: later cells never depend on an answer); a submission with one
  deliberately wrong answer, whose locked test cells were edited to pass or deleted, loses
  exactly that exercise's points (the grader never runs test cells from a submission).

Each notebook's class is one test class, so ``pytest -n 2 --dist loadscope`` spreads the
notebooks over both workers; the classes execute notebooks and take 40-75 s each (markers
``notebook`` and ``slow``: ``make test-fast`` leaves them out, and runs the checks above them,
which execute nothing). Hostile submissions: ``tests/test_grading_hostile.py``.
"""

from __future__ import annotations

import ast
import copy
import sys
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader")
from nbgrader.utils import is_grade, is_solution  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools import grade as grading  # noqa: E402
from tools.grading.exercises import spec_for  # noqa: E402
from tools.grading.sandbox import find_bwrap  # noqa: E402
from tools.make_student_versions import student_version  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MARKERS = (
    "### BEGIN SOLUTION",
    "### END SOLUTION",
    "### BEGIN HIDDEN TESTS",
    "### END HIDDEN TESTS",
)


def secret_lines(notebook) -> set:
    """Lines of solution regions and hidden tests that appear nowhere else in the notebook."""
    secret, public = set(), set()
    for cell in notebook.cells:
        inside = None
        for raw in cell.source.splitlines():
            line = raw.strip()
            if line in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
                inside = line
                continue
            if line in ("### END SOLUTION", "### END HIDDEN TESTS"):
                inside = None
                continue
            if not line:
                continue
            (secret if inside else public).add(line)
    return secret - public


def exercise_points(notebook) -> dict:
    """{grade_id of the test cell: points} in notebook order."""
    return {
        c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"])
        for c in notebook.cells
        if is_grade(c) and not is_solution(c)
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_an_exercise(path):
    notebook = nbformat.read(path, as_version=4)
    points = exercise_points(notebook)
    assert points, f"{path.name} has no graded exercise"
    assert all(p > 0 for p in points.values())
    solutions = [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if is_solution(c)]
    assert solutions, f"{path.name} has no solution cell"
    # the convention tools and tests rely on: <exercise>_solution, then its <exercise>_tests
    assert all(s.endswith("_solution") and _tests_of(s) in points for s in solutions)
    for cell in notebook.cells:
        if is_grade(cell) and not is_solution(cell):
            assert cell.metadata["nbgrader"]["locked"] is True
            assert "### BEGIN HIDDEN TESTS" in cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_version_leaks_nothing(path):
    instructor = nbformat.read(path, as_version=4)
    student = student_version(path)
    secrets = secret_lines(instructor)
    assert secrets, f"{path.name}: no solution or hidden-test lines found"
    student_lines = {line.strip() for c in student.cells for line in c.source.splitlines()}
    leaked = sorted(secrets & student_lines)
    assert not leaked, f"{path.name}: the student version shows {leaked[:5]}"
    assert not any(marker in c.source for c in student.cells for marker in MARKERS[2:])
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert [c.get("id") for c in student.cells] == [c.get("id") for c in instructor.cells]


# --- grading -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_test_cell_has_a_grading_spec_and_ids_are_unique(path):
    notebook = nbformat.read(path, as_version=4)
    ids = [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)), f"{path.name}: duplicate grade_ids {ids}"
    for grade_id in exercise_points(notebook):
        spec = spec_for(grade_id)
        assert spec.hides, grade_id


PERTURB = """

def _deliberately_wrong(function):
    import functools

    def perturb(value):
        if isinstance(value, tuple) and value:
            return (perturb(value[0]),) + value[1:]
        try:
            return value * 1.25 + 0.1
        except TypeError:
            return None

    @functools.wraps(function)
    def wrong(*args, **kwargs):
        return perturb(function(*args, **kwargs))
    return wrong

"""


def wrong_answer(source: str) -> str:
    """The reference solution with every function it defines returning a wrong value."""
    names = [node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]
    if not names:
        return source + '\nraise RuntimeError("a deliberately wrong answer")\n'
    wraps = "".join(f"{name} = _deliberately_wrong({name})\n" for name in names)
    return source + PERTURB + wraps


def _tests_of(solution_id: str) -> str:
    return solution_id.replace("_solution", "_tests")


def tampered_submission(instructor, student, wrong_id: str):
    """Wrong answer to the exercise ``wrong_id``; its test cell edited to pass, others deleted."""
    submission = copy.deepcopy(student)
    reference = {
        c.metadata["nbgrader"]["grade_id"]: c for c in instructor.cells if "nbgrader" in c.metadata
    }
    cells = []
    for cell in submission.cells:
        meta = cell.metadata.get("nbgrader", {})
        if is_solution(cell):
            cell.source = reference[meta["grade_id"]].source
            if meta["grade_id"] == wrong_id:
                cell.source = wrong_answer(cell.source)
        elif is_grade(cell):
            if meta["grade_id"] == _tests_of(wrong_id):
                cell.source = "pass  # the student edited the locked test"
            else:
                continue  # deleted
        cells.append(cell)
    submission.cells = cells
    return submission


@pytest.fixture(scope="class")
def graded(request, tmp_path_factory):
    """The class of three for the test class's notebook (module level: a class-scoped
    fixture method shared by generated classes trips pytest's finalizers)."""
    path = request.cls.path
    instructor = nbformat.read(path, as_version=4)
    student = student_version(path)
    solutions = [c.metadata["nbgrader"]["grade_id"] for c in instructor.cells if is_solution(c)]
    wrong_id = solutions[-1]
    folder = tmp_path_factory.mktemp("class")
    for name, notebook in [
        ("instructor", instructor),
        ("untouched", student),
        ("tampered", tampered_submission(instructor, student, wrong_id)),
    ]:
        (folder / name).mkdir()
        nbformat.write(notebook, folder / name / path.name)
    scores, reports = grading.grade_all(
        folder, [path], jobs=1, bwrap=find_bwrap(), cell_timeout=300, timeout=900
    )
    by_student, reasons = {}, {}
    for s in scores:
        by_student.setdefault(s.student, {})[s.exercise] = s.score
        reasons.setdefault(s.student, {})[s.exercise] = s.reason
    return {
        "scores": by_student,
        "reasons": reasons,
        "reports": reports,
        "wrong_id": wrong_id,
        "points": exercise_points(instructor),
    }


@pytest.mark.notebook  # executes notebooks (see tests/conftest.py)
@pytest.mark.slow
class GradingSuite:
    """A class of three graded by ``tools/grade.py`` 's ``grade_all`` (one kernel each)."""

    path: Path

    def _errors(self, graded, student):
        return graded["reports"][(student, self.path.name)].get("errors", [])

    def test_instructor_version_scores_full_marks(self, graded):
        assert graded["scores"]["instructor"] == graded["points"]
        assert self._errors(graded, "instructor") == []

    def test_untouched_student_version_scores_zero_and_only_solutions_fail(self, graded):
        assert graded["scores"]["untouched"] == {k: 0.0 for k in graded["points"]}
        failed = self._errors(graded, "untouched")  # a stub inside a def fails only when called
        assert all(origin == "solution" for _, origin, _ in failed), (
            f"cells outside the exercises failed for an untouched student version: {failed}"
        )
        for exercise, reason in graded["reasons"]["untouched"].items():
            assert "NotImplementedError" in reason, (exercise, reason)

    def test_wrong_answer_loses_exactly_its_points_despite_edited_tests(self, graded):
        expected = dict(graded["points"])
        expected[_tests_of(graded["wrong_id"])] = 0.0
        assert graded["scores"]["tampered"] == expected


for _path in NOTEBOOKS:
    _name = "TestGrading_" + _path.stem
    globals()[_name] = type(_name, (GradingSuite,), {"path": _path})
del _path, _name


def _solution_lines(source: str) -> list:
    """The substantive lines of a solution region (long enough to be code, not a comment)."""
    lines, inside = [], False
    for raw in source.splitlines():
        line = raw.strip()
        if line == "### BEGIN SOLUTION":
            inside = True
        elif line == "### END SOLUTION":
            inside = False
        elif inside and len(line) >= 25 and not line.startswith("#"):
            lines.append(line)
    return lines


def _cell_text(cell) -> str:
    texts = [cell.source]
    for output in cell.get("outputs", []):
        texts.append(str(output.get("text", "")))
        texts.append(str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_answer_is_shown_before_its_exercise(path):
    """No cell before a solution cell (its source or its printed output) holds a line of that
    solution, so that no exercise is transcription; no cell prints a function's source
    (``inspect.getsource``) before the last exercise."""
    notebook = nbformat.read(path, as_version=4)
    solutions = [i for i, c in enumerate(notebook.cells) if is_solution(c)]
    for index in solutions:
        lines = _solution_lines(notebook.cells[index].source)
        before = "\n".join(_cell_text(c) for c in notebook.cells[:index])
        shown = [line for line in lines if line in before]
        assert not shown, (
            f"{path.name}: the answer to "
            f"{notebook.cells[index].metadata['nbgrader']['grade_id']} is shown "
            f"before it: {shown[:3]}"
        )
    for cell in notebook.cells[: solutions[-1]]:
        assert "getsource(" not in cell.source, f"{path.name} prints source code before an exercise"
