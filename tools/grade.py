"""Autograde a class's notebooks, safely: one CSV row per student and exercise, always.

Usage::

    make grade SUBMISSIONS=submissions [GRADES=grades.csv] [JOBS=2]
    .venv/bin/python tools/grade.py SUBMISSIONS [--output grades.csv] [--feedback DIR]
        [--jobs 2] [--isolation auto|bwrap|none] [--cell-timeout 120] [--timeout 600]
        [--memory-mb 4096]

``SUBMISSIONS`` holds one folder per student; each holds that student's notebooks, named as
in ``notebooks/`` (``05_optimizers.ipynb``), at any depth (so nbgrader's
``submitted/<student>/<assignment>/`` and a GitHub Classroom checkout both work).

How it is safe (details in :mod:`tools.grading.runner` and :mod:`tools.grading.sandbox`):

- **Isolated.** Each notebook is graded by a worker process of its own, in a fresh kernel
  inside bubblewrap: a temporary folder holding only that student's notebook, everything else
  read-only or absent (no instructor notebook, no hidden test, no other submission), no
  network, limits on memory, file size and CPU time. Without bubblewrap it still grades, and
  says at the top, loudly, that it is not isolated.
- **Fault-tolerant.** A cell over ``--cell-timeout`` is interrupted; a kernel that ignores
  that, dies, or runs past ``--timeout`` is killed; a missing, empty, malformed or linked file
  scores 0; a worker that dies scores 0 for that notebook. Each case is written as the reason
  in the CSV and in the student's feedback file, and grading goes on. Every process a
  submission started is killed when its grading ends.
- **Decided here.** The test cells never reach the student's kernel: the grader calls the
  student's functions on inputs it chose, gets the results back as data, and compares them
  with the course's reference in its own process (``tools/grading/exercises/``). Prints and
  warnings cost nothing; wrong results, errors and timeouts cost the exercise. While the
  student's functions run, the course's reference answers refuse to run
  (``course_utils.references``).

Output: the CSV (``student,notebook,exercise,score,max_score,reason``) and, in ``--feedback``
(default: ``feedback/`` beside the CSV), one ``<student>.md`` per student.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from tools.grading.runner import Job, exercises_of, reference_names  # noqa: E402
from tools.grading.sandbox import isolation, kill_tree  # noqa: E402

NOTEBOOKS = ROOT / "notebooks"


@dataclass(frozen=True)
class Score:
    student: str
    notebook: str
    exercise: str
    score: float
    max_score: float
    reason: str = ""


def find_submissions(folder: Path, instructor_names: set) -> dict:
    """{student: {notebook name: path}} for every student folder in ``folder``.

    Symbolic links are not followed into folders, but a notebook that is a link is listed
    (the runner scores it 0 and says why). Hidden folders (``.git``) are not students."""
    found = {}
    for student_dir in sorted(
        p
        for p in folder.iterdir()
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
    ):
        paths = {}
        for dirpath, dirnames, filenames in os.walk(student_dir, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d != ".ipynb_checkpoints")
            for filename in sorted(filenames):
                if filename in instructor_names:
                    paths.setdefault(filename, Path(dirpath) / filename)
        found[student_dir.name] = paths
    return found


def _zero_rows(student: str, instructor: Path, reason: str) -> list:
    notebook = nbformat.read(instructor, as_version=4)
    return [
        Score(student, instructor.name, gid, 0.0, points, reason)
        for gid, points in exercises_of(notebook)
    ]


def grade_one(job: Job, scratch: Path, timeout: float) -> tuple[list, dict]:
    """Scores of one notebook, from a worker process; 0 with the reason if the worker fails."""
    instructor = Path(job.instructor)
    tag = f"{len(list(scratch.iterdir()))}-{os.getpid()}-{time.monotonic_ns()}"
    job_path, result_path = scratch / f"{tag}.job.json", scratch / f"{tag}.result.json"
    job_path.write_text(json.dumps(job.__dict__))
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.grading.runner", str(job_path), str(result_path)],
        cwd=ROOT,
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _, err = process.communicate(timeout=timeout)
        failure = (
            None
            if process.returncode == 0
            else (f"the grader's worker for this notebook stopped (exit code {process.returncode})")
        )
    except subprocess.TimeoutExpired:
        kill_tree(process.pid)
        process.communicate()
        failure = f"grading this notebook took over {timeout:g} s and was stopped"
    report = {}
    if failure is None:
        try:
            report = json.loads(result_path.read_text())
        except (OSError, ValueError):
            failure = "the grader's worker wrote no result"
    if failure is not None:
        return _zero_rows(job.student, instructor, failure), {"notes": [failure]}
    rows = [
        Score(
            job.student,
            instructor.name,
            e["exercise"],
            float(e["score"]),
            float(e["max_score"]),
            e.get("reason", ""),
        )
        for e in report["exercises"]
    ]
    return rows, report


def grade_all(
    submissions: Path,
    instructor_paths: list,
    jobs: int = 2,
    *,
    bwrap=None,
    cell_timeout: float = 120.0,
    timeout: float = 600.0,
    memory: int = 4 * 2**30,
) -> tuple[list, dict]:
    """(scores, {(student, notebook): worker report}) for every student and notebook."""
    names = {p.name: p for p in instructor_paths}
    students = find_submissions(submissions, set(names))
    from tools.grading.exercises import spec_for

    exercises = {
        e
        for p in instructor_paths
        for gid, _ in exercises_of(nbformat.read(p, as_version=4))
        for e in spec_for(gid).hides
    }
    references = reference_names(sorted(exercises))
    work = []
    for student, paths in students.items():
        for name in sorted(names):
            path = paths.get(name)
            work.append(
                Job(
                    student=student,
                    instructor=str(names[name].resolve()),
                    submission=None if path is None else str(path.absolute()),
                    student_root=str((submissions / student).resolve()),
                    cell_timeout=cell_timeout,
                    total_timeout=timeout,
                    memory=memory,
                    bwrap=bwrap,
                    references=references,
                )
            )
    scratch = Path(tempfile.mkdtemp(prefix="grade-"))  # private (0700): not in any sandbox
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(lambda j: grade_one(j, scratch, timeout + 120), work))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    scores = [s for rows, _ in results for s in rows]
    reports = {(j.student, Path(j.instructor).name): r for j, (_, r) in zip(work, results)}
    return scores, reports


def write_csv(scores, path: Path) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "notebook", "exercise", "score", "max_score", "reason"])
        for s in scores:
            writer.writerow(
                [s.student, s.notebook, s.exercise, f"{s.score:g}", f"{s.max_score:g}", s.reason]
            )


def write_feedback(scores, reports: dict, folder: Path, isolation_line: str) -> None:
    """One Markdown file per student: every exercise, its score, and what went wrong."""
    folder.mkdir(parents=True, exist_ok=True)
    for student in sorted({s.student for s in scores}):
        mine = [s for s in scores if s.student == student]
        lines = [
            f"# Feedback for {student}",
            "",
            f"Total: {sum(s.score for s in mine):g} / {sum(s.max_score for s in mine):g}",
            "",
            f"_{isolation_line}_",
            "",
        ]
        for notebook in sorted({s.notebook for s in mine}):
            report = reports.get((student, notebook), {})
            lines += [f"## {notebook}", ""]
            details = {e["exercise"]: e for e in report.get("exercises", [])}
            for s in (s for s in mine if s.notebook == notebook):
                lines.append(
                    f"- **{s.exercise}**: {s.score:g} / {s.max_score:g}"
                    + (f": {s.reason}" if s.reason else "")
                )
                for more in details.get(s.exercise, {}).get("feedback", [])[1:]:
                    lines.append(f"  - {more}")
            for note in report.get("notes", []):
                lines.append(f"- note: {note}")
            lines.append("")
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in student)
        (folder / f"{safe}.md").write_text("\n".join(lines))


def with_exercises(paths) -> list:
    return [p for p in paths if exercises_of(nbformat.read(p, as_version=4))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, help="folder with one sub-folder per student")
    parser.add_argument("--output", type=Path, default=Path("grades.csv"))
    parser.add_argument(
        "--feedback",
        type=Path,
        default=None,
        help="folder for one feedback file per student (default: feedback/ beside the CSV)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="notebooks graded at once")
    parser.add_argument("--isolation", default="auto", choices=("auto", "bwrap", "none"))
    parser.add_argument(
        "--cell-timeout",
        type=float,
        default=120.0,
        help="seconds a cell may run before it is interrupted",
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds a whole notebook may run"
    )
    parser.add_argument(
        "--memory-mb", type=int, default=4096, help="address-space limit of a student's kernel"
    )
    parser.add_argument(
        "--instructor", type=Path, nargs="*", default=sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    )
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder (one sub-folder per student)")
    if args.jobs < 1 or args.cell_timeout <= 0 or args.timeout <= 0 or args.memory_mb < 256:
        parser.error("--jobs >= 1, timeouts > 0 and --memory-mb >= 256 are required")
    from tools.grading.exercises import spec_for

    instructor_paths = with_exercises(args.instructor)
    for path in instructor_paths:
        for grade_id, _ in exercises_of(nbformat.read(path, as_version=4)):
            try:
                spec_for(grade_id)
            except ValueError as error:
                parser.error(f"{path.name}: {error}")
    bwrap, line = isolation(args.isolation)
    print(line, file=sys.stderr if bwrap is None else sys.stdout, flush=True)
    start = time.perf_counter()
    scores, reports = [], {}
    try:
        scores, reports = grade_all(
            args.submissions,
            instructor_paths,
            jobs=args.jobs,
            bwrap=bwrap,
            cell_timeout=args.cell_timeout,
            timeout=args.timeout,
            memory=args.memory_mb * 2**20,
        )
    finally:
        write_csv(scores, args.output)
        feedback = args.feedback or args.output.parent / "feedback"
        write_feedback(scores, reports, feedback, line)
    for student in sorted({s.student for s in scores}):
        mine = [s for s in scores if s.student == student]
        print(f"{student}: {sum(s.score for s in mine):g} / {sum(s.max_score for s in mine):g}")
    print(
        f"{len({s.student for s in scores})} students graded in "
        f"{time.perf_counter() - start:.1f} s -> {args.output}, feedback in {feedback}/"
    )
    if bwrap is None:
        print(line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
