"""A class of hostile and faulty submissions through ``tools/grade.py`` (what ``make grade`` runs).

The course here is chapter 05's exercise (Adam's step, 3 points) in a small instructor
notebook, so that a class of ~30 kernels grades in about a minute. Every submission gets the
score it deserves: cheats 0, honest answers full marks (prints, warnings and slowness within the
limits included), faults 0 for that student only; the CSV always has one row per student; the
instructor's and the other students' files are unchanged; nothing a submission started is left
running.

With bubblewrap (``apt-get install bubblewrap``; ``.ci/run`` installs it) the whole class runs
isolated; ``TestWithoutSandbox`` runs the cases that are safe without it, and checks the warning.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools.grading.sandbox import find_bwrap  # noqa: E402
from tools.make_student_versions import STUB, student_version  # noqa: E402

CHAPTER = ROOT / "notebooks" / "05_optimizers.ipynb"
NAME = CHAPTER.name
POINTS = 3.0
CELL_TIMEOUT, TIMEOUT = 8, 45

SIGNATURE = "def adam_step(x, dx, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):\n"
RIGHT = SIGNATURE + textwrap.indent(
    textwrap.dedent("""\
    m = beta1 * m + (1 - beta1) * dx
    v = beta2 * v + (1 - beta2) * dx**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return x - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
"""),
    "    ",
)
WRONG = SIGNATURE + textwrap.indent(
    textwrap.dedent("""\
    m = beta1 * m + (1 - beta1) * dx
    v = beta2 * v + (1 - beta2) * dx**2
    return x - lr * m / (np.sqrt(v) + eps), m, v   # no bias correction
"""),
    "    ",
)
IN_PLACE = SIGNATURE + textwrap.indent(
    textwrap.dedent("""\
    m *= beta1
    m += (1 - beta1) * dx
    v *= beta2
    v += (1 - beta2) * dx**2
    return x - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), m, v
"""),
    "    ",
)
IMPORT = "import numpy as np\n\n"

#: name -> (solution cell source, score deserved). INSTRUCTOR_PATH and VICTIM_PATH become
#: the paths of the instructor notebook and of another student's submission.
CASES = {
    "honest": (IMPORT + RIGHT, POINTS),
    "honest_prints_and_warns": (
        IMPORT
        + "import sys, warnings\nprint('working on it')\n"
        + RIGHT.replace(
            "    m = beta1",
            "    warnings.warn('float64?')\n    print('step', t, file=sys.stderr)\n    m = beta1",
            1,
        ),
        POINTS,
    ),
    "slow_but_within_limits": (IMPORT + "import time\ntime.sleep(3)\n" + RIGHT, POINTS),
    "untouched": (STUB, 0.0),
    "wrong_answer": (IMPORT + WRONG, 0.0),
    "modifies_inputs_in_place": (IMPORT + IN_PLACE, 0.0),
    "infinite_loop": (IMPORT + "while True:\n    pass\n" + RIGHT, 0.0),
    "infinite_loop_in_function": (IMPORT + SIGNATURE + "    while True:\n        pass\n", 0.0),
    "sleeps_600_s": (IMPORT + "import time\ntime.sleep(600)\n" + RIGHT, 0.0),
    "ignores_interrupts": (
        IMPORT + "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "while True:\n    pass\n" + RIGHT,
        0.0,
    ),
    "exits_the_kernel": (IMPORT + "import os\nos._exit(0)\n" + RIGHT, 0.0),
    # In the sandbox its parent is the namespace's init, which ignores it: the right answer
    # that follows scores (the grader was never at risk). Without, see WITHOUT_SANDBOX.
    "kills_its_parent": (IMPORT + "import os\nos.kill(os.getppid(), 9)\n" + RIGHT, POINTS),
    "sys_exit_in_function": (IMPORT + SIGNATURE + "    raise SystemExit\n", 0.0),
    "allocates_too_much_memory": (IMPORT + "hog = np.ones(2**30)\n" + RIGHT, 0.0),
    "calls_the_reference": (
        IMPORT + SIGNATURE + "    from course_utils import optim\n"
        "    return optim.adam_step(x, dx, m, v, t, lr, beta1, beta2, eps)\n",
        0.0,
    ),
    "uses_the_reference_class": (
        IMPORT
        + SIGNATURE
        + textwrap.indent(
            textwrap.dedent("""\
        from course_utils import optim
        p = np.array(x, dtype=float)
        opt = optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps)
        opt.state[0] = {"step": t - 1, "exp_avg": m.copy(), "exp_avg_sq": v.copy()}
        opt.step([np.asarray(dx, dtype=float)])
        return p, opt.state[0]["exp_avg"], opt.state[0]["exp_avg_sq"]
        """),
            "    ",
        ),
        0.0,
    ),
    "disables_the_guard": (
        IMPORT + "import contextlib\nimport course_utils.references as r\n"
        "r.hidden = lambda *e: contextlib.nullcontext()\n"
        + SIGNATURE
        + "    from course_utils import optim\n"
        "    return optim.adam_step(x, dx, m, v, t, lr, beta1, beta2, eps)\n",
        0.0,
    ),
    "patches_the_checks": (
        IMPORT + "import math\nimport course_utils.chapters.ch05_optimizers.checks as c\n"
        "c.check_adam_step = lambda f: print('All visible checks passed')\n"
        "math.isclose = lambda *a, **k: True\n"
        "np.allclose = lambda *a, **k: True\n"
        "np.array_equal = lambda *a, **k: True\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n" + WRONG,
        0.0,
    ),
    "input_transformer_blanks_later_cells": (
        IMPORT
        + "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n"
        + WRONG,
        0.0,
    ),
    "custom_exception_handler": (
        IMPORT + "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n" + WRONG,
        0.0,
    ),
    "reads_the_instructor_notebook": (
        IMPORT
        + textwrap.dedent("""\
        import json
        cells = json.load(open(INSTRUCTOR_PATH))["cells"]
        exec("".join(next(c["source"] for c in cells
                          if c["metadata"].get("nbgrader", {}).get("solution"))))
        """),
        0.0,
    ),
    "rewrites_the_instructor_notebook": (
        IMPORT
        + textwrap.dedent("""\
        try:
            open(INSTRUCTOR_PATH, "w").write("{}")
        except OSError:
            pass
        """)
        + WRONG,
        0.0,
    ),
    "rewrites_another_submission": (
        IMPORT
        + textwrap.dedent("""\
        try:
            open(VICTIM_PATH, "w").write("{}")
        except OSError:
            pass
        """)
        + RIGHT,
        POINTS,
    ),
    "leaves_processes_behind": (
        IMPORT
        + textwrap.dedent("""\
        import os, subprocess
        subprocess.Popen(["sleep", "987"])
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execvp("sleep", ["sleep", "988"])
            os._exit(0)
        """)
        + RIGHT,
        POINTS,
    ),
    "deletes_its_folder": (
        IMPORT + "import os, shutil\nshutil.rmtree(os.getcwd(), ignore_errors=True)\n" + RIGHT,
        POINTS,
    ),
}
LEFTOVER = ("sleep 987", "sleep 988")
#: name -> (file content or a special, score deserved): faults of the file itself.
FILES = {
    "malformed_json": ("{ not a notebook", 0.0),
    "empty_file": ("", 0.0),
    "not_submitted": (None, 0.0),
    "symlink_to_the_instructor_notebook": ("SYMLINK", 0.0),
    "duplicate_ids_last_is_wrong": ("DUPLICATE", 0.0),
    "duplicate_ids_last_is_right": ("DUPLICATE_REVERSED", POINTS),
}
VICTIM = "rewrites_another_submission_victim"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _course(tmp: Path) -> Path:
    """A one-exercise instructor notebook: chapter 05's exercise cells and a cell after them."""
    chapter = nbformat.read(CHAPTER, as_version=4)
    cells = [
        c
        for c in chapter.cells
        if c.metadata.get("nbgrader", {}).get("grade_id")
        in ("adam_step_solution", "adam_step_tests")
    ]
    notebook = copy.deepcopy(chapter)
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Adam's step", id="intro"),
        *copy.deepcopy(cells),
        nbformat.v4.new_code_cell("print('the lesson goes on')", id="after"),
    ]
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    folder = tmp / "instructor"
    folder.mkdir()
    path = folder / NAME
    nbformat.write(notebook, path)
    return path


def _submission(student, solution: str):
    notebook = copy.deepcopy(student)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = solution
    return notebook


def _class(tmp: Path, instructor: Path, names) -> Path:
    student = student_version(instructor)
    folder = tmp / "submissions"
    victim_path = folder / VICTIM / NAME
    for name in names:
        (folder / name).mkdir(parents=True)
        target = folder / name / NAME
        if name in CASES:
            source = (
                CASES[name][0]
                .replace("INSTRUCTOR_PATH", repr(str(instructor)))
                .replace("VICTIM_PATH", repr(str(victim_path)))
            )
            nbformat.write(_submission(student, source), target)
            continue
        content = FILES[name][0]
        if content is None:
            continue
        if content == "SYMLINK":
            target.symlink_to(instructor)
        elif content.startswith("DUPLICATE"):
            notebook = _submission(student, IMPORT + RIGHT)
            index = next(
                i
                for i, c in enumerate(notebook.cells)
                if c.metadata.get("nbgrader", {}).get("solution")
            )
            other = copy.deepcopy(notebook.cells[index])
            other.source, other.id = IMPORT + WRONG, "copy-of-the-solution"
            notebook.cells.insert(index + 1, other)
            if content.endswith("REVERSED"):
                first = notebook.cells[index]
                first.source, other.source = other.source, first.source
            nbformat.write(notebook, target)
        else:
            target.write_text(content)
    (folder / VICTIM).mkdir(parents=True, exist_ok=True)
    nbformat.write(_submission(student, IMPORT + RIGHT), victim_path)
    return folder


def _grade(tmp: Path, instructor: Path, submissions: Path, isolation: str):
    output = tmp / "grades.csv"
    process = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "grade.py"),
            str(submissions),
            "--output",
            str(output),
            "--instructor",
            str(instructor),
            "--isolation",
            isolation,
            "--cell-timeout",
            str(CELL_TIMEOUT),
            "--timeout",
            str(TIMEOUT),
            "--jobs",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp,
    )
    rows = []
    if output.exists():
        with output.open() as f:
            rows = list(csv.DictReader(f))
    return process, rows


def _leftovers() -> list:
    import psutil

    found = []
    for process in psutil.process_iter(["cmdline"]):
        if " ".join(process.info["cmdline"] or []) in LEFTOVER:
            found.append(process)
    return found


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    if find_bwrap() is None:
        if os.environ.get("CI"):
            pytest.fail("bubblewrap is missing: .ci/run installs it (apt-get install bubblewrap)")
        pytest.skip("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    tmp = tmp_path_factory.mktemp("hostile")
    instructor = _course(tmp)
    submissions = _class(tmp, instructor, [*CASES, *FILES])
    before = {p: _digest(p) for p in [instructor, submissions / VICTIM / NAME]}
    process, rows = _grade(tmp, instructor, submissions, "bwrap")
    return {"process": process, "rows": rows, "before": before, "tmp": tmp}


@pytest.mark.notebook  # grades notebooks in kernels
@pytest.mark.slow
class TestHostileClass:
    """30 submissions, isolated by bubblewrap."""

    def test_the_grader_finishes_and_says_it_is_isolated(self, graded_class):
        process = graded_class["process"]
        assert process.returncode == 0, process.stderr[-3000:]
        assert "Isolation: bubblewrap" in process.stdout

    def test_one_row_per_student_always(self, graded_class):
        students = [row["student"] for row in graded_class["rows"]]
        assert sorted(students) == sorted([*CASES, *FILES, VICTIM])

    @pytest.mark.parametrize("name", [*CASES, *FILES])
    def test_each_submission_gets_the_score_it_deserves(self, graded_class, name):
        deserved = {**CASES, **FILES}[name][1]
        row = next(r for r in graded_class["rows"] if r["student"] == name)
        assert float(row["score"]) == deserved, row
        assert float(row["max_score"]) == POINTS
        if deserved == 0.0:
            assert row["reason"], f"{name}: a 0 must say why"

    def test_the_victim_is_graded_on_its_own_file(self, graded_class):
        row = next(r for r in graded_class["rows"] if r["student"] == VICTIM)
        assert float(row["score"]) == POINTS

    def test_instructor_and_other_students_files_are_unchanged(self, graded_class):
        for path, digest in graded_class["before"].items():
            assert _digest(path) == digest, f"{path} was changed by a submission"

    def test_nothing_a_submission_started_is_left_running(self, graded_class):
        assert _leftovers() == []

    def test_reasons_name_what_happened(self, graded_class):
        reasons = {r["student"]: r["reason"] for r in graded_class["rows"]}
        assert "symbolic link" in reasons["symlink_to_the_instructor_notebook"]
        assert "not submitted" in reasons["not_submitted"]
        assert "empty" in reasons["empty_file"]
        assert "not a readable notebook" in reasons["malformed_json"]
        assert "ReferenceUnavailable" in reasons["calls_the_reference"]
        assert "guard" in reasons["disables_the_guard"]
        assert "in place" in reasons["modifies_inputs_in_place"]
        assert "ran over" in reasons["infinite_loop_in_function"]
        assert "kernel" in reasons["exits_the_kernel"]

    def test_feedback_files_for_every_student(self, graded_class):
        folder = graded_class["tmp"] / "feedback"
        for name in [*CASES, *FILES, VICTIM]:
            text = (folder / f"{name}.md").read_text()
            assert f"# Feedback for {name}" in text and "adam_step_tests" in text
        text = (folder / "duplicate_ids_last_is_wrong.md").read_text()
        assert "two cells have grade_id 'adam_step_solution'" in text


#: Without a sandbox the kernel's parent is the grader's worker: killing it loses the notebook
#: (0, with the reason), and the grader goes on.
WITHOUT_SANDBOX = {"kills_its_parent": 0.0}
SAFE_WITHOUT_SANDBOX = [
    "honest",
    "untouched",
    "infinite_loop_in_function",
    "exits_the_kernel",
    "kills_its_parent",
    "leaves_processes_behind",
    "calls_the_reference",
    "patches_the_checks",
]


@pytest.mark.notebook  # grades notebooks in kernels
@pytest.mark.slow
class TestWithoutSandbox:
    """The same grader with ``--isolation none``: it still grades, and says it is not safe."""

    @pytest.fixture(scope="class")
    @classmethod
    def graded(cls, tmp_path_factory):
        tmp = tmp_path_factory.mktemp("unsandboxed")
        instructor = _course(tmp)
        submissions = _class(tmp, instructor, SAFE_WITHOUT_SANDBOX)
        return _grade(tmp, instructor, submissions, "none")

    def test_it_warns_loudly(self, graded):
        process, _ = graded
        assert process.returncode == 0, process.stderr[-3000:]
        assert "NOT ISOLATED" in process.stderr

    def test_scores(self, graded):
        _, rows = graded
        got = {r["student"]: float(r["score"]) for r in rows}
        assert got == {
            **{n: WITHOUT_SANDBOX.get(n, CASES[n][1]) for n in SAFE_WITHOUT_SANDBOX},
            VICTIM: POINTS,
        }

    def test_no_process_left(self, graded):
        assert _leftovers() == []
