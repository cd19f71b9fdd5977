"""How long ``make grade`` takes for a class: N submissions of one chapter, on this machine.

Usage::

    .venv/bin/python benchmarks/grading.py [--chapter 09] [--students 30] [--jobs 2]
        [--repeat 1] [--isolation auto]

The class is made from the chapter's instructor notebook: two thirds of the students hand in
the instructor's solutions, the others the untouched release (``make assignments``) or a
wrong answer to the last exercise, so the grader runs every cell as it would for a real
class. ``tools/grade.py`` grades it (sandboxed when bubblewrap is installed) with ``--jobs``
notebooks at once; the script checks that every honest student got full marks and every
untouched one 0, and prints the wall time (median over ``--repeat``), the time per student,
and the workers' own seconds per notebook (median and maximum).
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_class(chapter: Path, students: int, folder: Path) -> tuple[dict, float]:
    """Write the submissions; return ({student: 'honest' | 'untouched' | 'wrong'}, the points
    a wrong student loses: those of the last exercise)."""
    from tools.make_student_versions import student_version

    instructor = nbformat.read(chapter, as_version=4)
    release = student_version(chapter)
    solutions = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in instructor.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    last = list(solutions)[-1]
    kinds = {}
    for i in range(students):
        kind = "honest" if i % 3 != 2 else ("untouched" if i % 6 == 2 else "wrong")
        name = f"student{i:02d}"
        notebook = nbformat.from_dict(json.loads(json.dumps(release)))
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if kind != "untouched" and grade_id in solutions:
                cell.source = solutions[grade_id]
                if kind == "wrong" and grade_id == last:  # every function it defines: None
                    names = [
                        n.name
                        for n in ast.parse(cell.source).body
                        if isinstance(n, ast.FunctionDef)
                    ]
                    cell.source += "".join(f"\n{n} = lambda *a, **k: None" for n in names)
        (folder / name).mkdir(parents=True)
        nbformat.write(notebook, folder / name / chapter.name)
        kinds[name] = kind
    lost = next(
        float(c.metadata["nbgrader"]["points"])
        for c in instructor.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == last.replace("_solution", "_tests")
    )
    return kinds, lost


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", default="09")
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--isolation", default="auto", choices=("auto", "bwrap", "none"))
    args = parser.parse_args(argv)
    chapter = next((ROOT / "notebooks").glob(f"{args.chapter}_*.ipynb"))
    walls = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="grading-bench-") as tmp:
            tmp = Path(tmp)
            kinds, lost = make_class(chapter, args.students, tmp / "submissions")
            start = time.perf_counter()
            process = subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "tools" / "grade.py"),
                    str(tmp / "submissions"),
                    "--output",
                    str(tmp / "grades.csv"),
                    "--instructor",
                    str(chapter),
                    "--jobs",
                    str(args.jobs),
                    "--isolation",
                    args.isolation,
                ],
                capture_output=True,
                text=True,
            )
            walls.append(time.perf_counter() - start)
            if process.returncode != 0:
                print(process.stdout, process.stderr)
                return 1
            totals, maxima = {}, {}
            with open(tmp / "grades.csv") as f:
                for row in csv.DictReader(f):
                    totals[row["student"]] = totals.get(row["student"], 0) + float(row["score"])
                    maxima[row["student"]] = maxima.get(row["student"], 0) + float(row["max_score"])
            wrong = [
                s
                for s, k in kinds.items()
                if (k == "honest" and totals[s] != maxima[s])
                or (k == "untouched" and totals[s] != 0)
                or (k == "wrong" and totals[s] != maxima[s] - lost)
            ]
            print(process.stdout.splitlines()[0])
            print(
                f"run: {walls[-1]:.1f} s for {args.students} students "
                f"({walls[-1] / args.students:.2f} s each, jobs={args.jobs}); "
                f"scores as expected: {'yes' if not wrong else 'NO: ' + ', '.join(wrong)}"
            )
    print(
        f"{chapter.name}: median {statistics.median(walls):.1f} s for a class of "
        f"{args.students} on {args.jobs} jobs (runs: {', '.join(f'{w:.1f}' for w in walls)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
