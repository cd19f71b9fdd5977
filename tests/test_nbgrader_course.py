"""Real nbgrader, in a course folder: ``generate_assignment`` -> ``autograde`` -> ``export``.

Chapter 05 as assignment ``ps1`` for three students: one answers every exercise with the
instructor's solutions (full marks), one answers Adam's step with the one-line call of the
package's reference, ``course_utils.optim.adam_step(...)`` (that exercise scores 0: the hidden
tests run the answer inside ``course_utils.references.hidden``, so the reference refuses), one
hands in the untouched release (0). Marked ``slow`` (about a minute): ``-m "not slow"`` skips it.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbgrader_testing import run_nbgrader

pytest.importorskip("nbgrader")

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "notebooks" / "05_optimizers.ipynb"
ONE_IMPORT = """import numpy as np

import course_utils


def adam_step(x, dx, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return course_utils.optim.adam_step(x, dx, m, v, t, lr, beta1, beta2, eps)
"""

pytestmark = pytest.mark.slow


def _nbgrader(course: Path, *args) -> subprocess.CompletedProcess:
    return run_nbgrader(course, *args)


def _points(notebook) -> dict:
    return {
        c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"])
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("grade") and "points" in c.metadata["nbgrader"]
    }


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'training-nn'\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.ExecutePreprocessor.timeout = 600\n"
    )
    (course / "source" / "ps1").mkdir(parents=True)
    shutil.copy(CHAPTER, course / "source" / "ps1" / CHAPTER.name)
    _nbgrader(course, "generate_assignment", "ps1", "--force")
    release = nbformat.read(course / "release" / "ps1" / CHAPTER.name, as_version=4)
    instructor = nbformat.read(CHAPTER, as_version=4)
    solutions = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in instructor.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    for student, answers in [
        ("honest", solutions),
        ("one_import", {**solutions, "adam_step_solution": ONE_IMPORT}),
        ("untouched", {}),
    ]:
        notebook = nbformat.from_dict(release)
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
        folder = course / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / CHAPTER.name)
    _nbgrader(course, "autograde", "ps1", "--force", "--create")
    _nbgrader(course, "export", "--to", str(course / "grades.csv"))
    with open(course / "grades.csv") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    return rows, _points(instructor)


def test_honest_answers_score_full_marks(exported):
    rows, points = exported
    assert float(rows["honest"]["raw_score"]) == sum(points.values())


def test_the_one_import_answer_scores_zero_for_its_exercise(exported):
    rows, points = exported
    expected = sum(points.values()) - points["adam_step_tests"]
    assert float(rows["one_import"]["raw_score"]) == expected


def test_an_untouched_release_scores_zero(exported):
    rows, _ = exported
    assert float(rows["untouched"]["raw_score"]) == 0.0
