"""nbgrader on the hub: the class's exchange, two students, and the course's grading protections.

The whole round trip a class makes on JupyterHub, on localhost, with the deployment's nbgrader
configuration (deploy/nbgrader_config.py: course id, exchange root) loaded by the instructor
and by each student, the exchange moved to a temporary folder:

    instructor: generate_assignment -> release_assignment     (exchange/<course>/outbound)
    alice, bob: fetch_assignment -> answer -> submit          (exchange/<course>/inbound)
    instructor: collect -> autograde                          (submitted/, gradebook)

Each student has a home folder of their own and their user name from nbgrader's config
(`CourseDirectory.student_id`; on the hub, the Unix user SystemdSpawner names after them).
Alice answers with the instructor's solutions; Bob answers Adam's step with the one-line call
of the package's reference. The protections hold at both stages: nbgrader's autograde runs the
hidden tests inside `course_utils.references.hidden` (Bob's one-liner scores 0 there), and the
course's own grader (tools/grade.py, sandboxed) grades the collected `submitted/` folder, as
README's "For instructors" recommends, with the same verdict. Marked slow (about a minute).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader_testing import run_nbgrader

pytest.importorskip("nbgrader")

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "notebooks" / "05_optimizers.ipynb"
DEPLOY_CONFIG = ROOT / "deploy" / "nbgrader_config.py"
COURSE_ID = "nn-training"  # deploy/sizing.py's, loaded from the deployment's config below
ONE_IMPORT = """import numpy as np

import course_utils


def adam_step(x, dx, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return course_utils.optim.adam_step(x, dx, m, v, t, lr, beta1, beta2, eps)
"""

pytestmark = pytest.mark.slow


def _nbgrader(cwd: Path, home: Path, *args) -> subprocess.CompletedProcess:
    # only the config written in `home` (plus the working folder's), never the machine's
    env = {
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTER_CONFIG_PATH": "",
    }
    return run_nbgrader(cwd, *args, env=env)


def _config(home: Path, exchange: Path, **extra) -> None:
    """~/.jupyter/nbgrader_config.py: the deployment's, with the exchange moved for the test."""
    lines = [
        "c = get_config()  # noqa: F821",
        f"load_subconfig({str(DEPLOY_CONFIG)!r})  # noqa: F821",
        f"c.Exchange.root = {str(exchange)!r}",
        *(f"c.{key} = {value!r}" for key, value in extra.items()),
    ]
    (home / ".jupyter").mkdir(parents=True, exist_ok=True)
    (home / ".jupyter" / "nbgrader_config.py").write_text("\n".join(lines) + "\n")


def _answer(notebook_path: Path, answers: dict) -> None:
    notebook = nbformat.read(notebook_path, as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    nbformat.write(notebook, notebook_path)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("hub")
    exchange = base / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)  # as deploy/nbgrader_config.py tells the admin

    instructor = base / "instructor"
    course = instructor / "nn-course-grading"
    _config(
        instructor,
        exchange,
        **{"CourseDirectory.root": str(course), "ExecutePreprocessor.timeout": 600},
    )
    (course / "source" / "ps1").mkdir(parents=True)
    shutil.copy(CHAPTER, course / "source" / "ps1" / CHAPTER.name)
    _nbgrader(course, instructor, "generate_assignment", "ps1", "--force")
    _nbgrader(course, instructor, "release_assignment", "ps1", "--force")
    outbound = exchange / COURSE_ID / "outbound" / "ps1" / CHAPTER.name
    assert outbound.exists(), "the release did not reach the class's exchange"

    source = nbformat.read(CHAPTER, as_version=4)
    solutions = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    for student, answers in [
        ("alice", solutions),
        ("bob", {**solutions, "adam_step_solution": ONE_IMPORT}),
    ]:
        home = base / "homes" / student
        home.mkdir(parents=True)
        _config(home, exchange, **{"CourseDirectory.student_id": student})
        _nbgrader(home, home, "fetch_assignment", "ps1")
        fetched = home / "ps1" / CHAPTER.name
        text = fetched.read_text()
        assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
        _answer(fetched, answers)
        _nbgrader(home, home, "submit", "ps1")
    inbound = sorted(p.name.split("+")[0] for p in (exchange / COURSE_ID / "inbound").iterdir())
    assert inbound == ["alice", "bob"]

    _nbgrader(course, instructor, "collect", "ps1")
    for student in ("alice", "bob"):
        assert (course / "submitted" / student / "ps1" / CHAPTER.name).exists()
    _nbgrader(course, instructor, "autograde", "ps1", "--force", "--create")
    _nbgrader(course, instructor, "export", "--to", str(base / "nbgrader.csv"))
    with open(base / "nbgrader.csv") as f:
        nbgrader_rows = {row["student_id"]: row for row in csv.DictReader(f)}

    # the course's own grader on nbgrader's submitted/ folder (sandboxed when bwrap exists)
    grades = base / "grades.csv"
    process = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "grade.py"), str(course / "submitted")]
        + ["--output", str(grades), "--jobs", "2", "--instructor", str(CHAPTER)],
        cwd=ROOT,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert process.returncode == 0, process.stdout[-2000:] + process.stderr[-4000:]
    with open(grades) as f:
        course_rows = list(csv.DictReader(f))
    points = {
        c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"])
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("grade") and "points" in c.metadata["nbgrader"]
    }
    return nbgrader_rows, course_rows, points


def test_nbgrader_autograde_gives_the_honest_student_full_marks(graded):
    nbgrader_rows, _, points = graded
    assert float(nbgrader_rows["alice"]["raw_score"]) == sum(points.values())


def test_nbgrader_autograde_scores_the_one_import_answer_zero(graded):
    nbgrader_rows, _, points = graded
    expected = sum(points.values()) - points["adam_step_tests"]
    assert float(nbgrader_rows["bob"]["raw_score"]) == expected


def test_the_course_grader_agrees_on_the_collected_submissions(graded):
    _, course_rows, points = graded
    total = {}
    assert {row["notebook"] for row in course_rows} == {CHAPTER.name}
    for row in course_rows:
        total[row["student"]] = total.get(row["student"], 0.0) + float(row["score"])
    assert total["alice"] == sum(points.values())
    assert total["bob"] == sum(points.values()) - points["adam_step_tests"]
    bob_adam = [r for r in course_rows if r["student"] == "bob" and "adam" in r["exercise"]]
    assert bob_adam and all(float(r["score"]) == 0 for r in bob_adam)
