"""Autograde submitted notebooks against the instructor versions' tests; write a CSV.

Usage::

    make grade SUBMISSIONS=submissions [GRADES=grades.csv]
    .venv/bin/python tools/grade.py SUBMISSIONS [--output grades.csv] [--jobs 2]

``SUBMISSIONS`` holds one folder per student; each holds that student's notebooks, named as
in ``notebooks/`` (``03_weight_initialization.ipynb``), at any depth (so nbgrader's
``submitted/<student>/<assignment>/`` and a GitHub Classroom checkout both work).

How a submission is graded (what ``nbgrader autograde`` does, without a course database):

1. The notebook that runs is rebuilt from the **instructor** version: every cell comes from it,
   except the solution cells (``nbgrader.solution``), whose source is taken from the
   submission by ``grade_id``. A missing solution cell keeps the student stub (no credit).
   Cells the student added (their cell id is not in the instructor version) run in place.
   So a locked test cell that was deleted or edited is graded as the instructor wrote it,
   hidden tests included.
2. It runs top to bottom in a fresh kernel (``nbclient``, errors allowed, from the
   instructor notebook's folder).
3. Each grade cell scores with ``nbgrader.utils.determine_grade``: full points unless it
   raised (all or nothing per test cell, as in nbgrader).

Why not ``nbgrader autograde``: it needs a course folder and a gradebook database, which a
GitHub Classroom instructor does not have; nbgrader's own pipeline remains available for
courses that use it (README, "For instructors"). The two agree on what is run and scored.

The CSV has one row per student, notebook and exercise:
``student,notebook,exercise,score,max_score``.
"""

from __future__ import annotations

import argparse
import copy
import csv
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbgrader.utils import determine_grade, is_grade, is_solution

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
STUB = 'raise NotImplementedError("Exercise: replace this line with your code")'
CELL_TIMEOUT = 300  # seconds; a student's infinite loop ends as an error, not a hang


@dataclass(frozen=True)
class Score:
    student: str
    notebook: str
    exercise: str
    score: float
    max_score: float


def grade_ids(notebook) -> dict:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in notebook.cells
            if "nbgrader" in c.metadata and "grade_id" in c.metadata["nbgrader"]}


def assemble(instructor, submission):
    """The notebook to run: the instructor's cells, the student's solutions and added cells."""
    submitted = grade_ids(submission)
    known_ids = {c.get("id") for c in instructor.cells}
    added_after = {}  # instructor cell id -> student cells that follow it
    previous = None
    for cell in submission.cells:
        if cell.get("id") in known_ids:
            previous = cell.get("id")
        elif cell.cell_type == "code" and "nbgrader" not in cell.metadata:
            added_after.setdefault(previous, []).append(cell)
    graded = copy.deepcopy(instructor)
    cells = [copy.deepcopy(c) for c in added_after.get(None, [])]
    for cell in graded.cells:
        if is_solution(cell):
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            student = submitted.get(grade_id)
            cell.source = student.source if student is not None and is_solution(student) else STUB
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
        cells.extend(copy.deepcopy(c) for c in added_after.get(cell.get("id"), []))
    graded.cells = cells
    return graded


def run(notebook, cwd: Path):
    """Execute ``notebook`` in a fresh kernel; errors are recorded in the outputs, not raised."""
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                            allow_errors=True, resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return notebook


def score_notebook(instructor_path: Path, submission_path: Path | None, student: str):
    """Scores of one student's notebook (``None``: not submitted, zero for every exercise)."""
    instructor = nbformat.read(instructor_path, as_version=4)
    tests = [c for c in instructor.cells if is_grade(c)]
    if submission_path is None:
        return [Score(student, instructor_path.name, c.metadata["nbgrader"]["grade_id"], 0.0,
                      float(c.metadata["nbgrader"]["points"])) for c in tests], None
    try:
        submission = nbformat.read(submission_path, as_version=4)
    except Exception as error:  # unreadable JSON: graded as not submitted, and said so
        print(f"{student}/{submission_path.name}: unreadable ({error}); scored 0",
              file=sys.stderr)
        return score_notebook(instructor_path, None, student)
    executed = run(assemble(instructor, submission), instructor_path.parent)
    scores = []
    for cell in executed.cells:
        if is_grade(cell) and not is_solution(cell):
            points, max_points = determine_grade(cell)
            scores.append(Score(student, instructor_path.name, cell.metadata["nbgrader"]["grade_id"],
                                float(points or 0.0), float(max_points)))
    return scores, executed


def find_submissions(folder: Path, instructor_names: set) -> dict:
    """{student: {notebook name: path}} for every student folder in ``folder``."""
    found = {}
    for student_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        paths = {}
        for path in sorted(student_dir.rglob("*.ipynb")):
            if ".ipynb_checkpoints" in path.parts or path.name not in instructor_names:
                continue
            paths.setdefault(path.name, path)
        found[student_dir.name] = paths
    return found


def grade_all(submissions: Path, instructor_paths: list, jobs: int = 2):
    names = {p.name: p for p in instructor_paths}
    students = find_submissions(submissions, set(names))
    work = [(student, names[name], paths.get(name))
            for student, paths in students.items() for name in sorted(names)]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda w: score_notebook(w[1], w[2], w[0])[0], work))
    return [score for scores in results for score in scores]


def write_csv(scores, path: Path) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "notebook", "exercise", "score", "max_score"])
        for s in scores:
            writer.writerow([s.student, s.notebook, s.exercise, f"{s.score:g}", f"{s.max_score:g}"])


def with_exercises(paths) -> list:
    return [p for p in paths
            if any(is_grade(c) for c in nbformat.read(p, as_version=4).cells)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, help="folder with one sub-folder per student")
    parser.add_argument("--output", type=Path, default=Path("grades.csv"))
    parser.add_argument("--jobs", type=int, default=2, help="notebooks graded at once")
    parser.add_argument("--instructor", type=Path, nargs="*",
                        default=sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")))
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder (one sub-folder per student)")
    start = time.perf_counter()
    scores = grade_all(args.submissions, with_exercises(args.instructor), jobs=args.jobs)
    write_csv(scores, args.output)
    students = sorted({s.student for s in scores})
    for student in students:
        mine = [s for s in scores if s.student == student]
        print(f"{student}: {sum(s.score for s in mine):g} / {sum(s.max_score for s in mine):g}")
    print(f"{len(students)} students graded in {time.perf_counter() - start:.1f} s -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
