"""Grade one student's notebook, in a worker process of its own (``tools/grade.py`` starts it).

    python -m tools.grading.runner JOB.json RESULT.json

1. The submission is checked before anything runs: a missing, empty, oversized or malformed
   file, or a symbolic link, scores 0 with the reason.
2. The notebook that runs is the **instructor's**, with the student's solution cells (by
   ``grade_id``) and the code cells the student added; the test cells are not sent to the
   kernel at all: in their place a probe calls the student's functions on the spec's inputs
   (:mod:`tools.grading.spec`), inside ``course_utils.references.hidden``, and writes what came
   back as data. The verdict is computed here, in this process, from that data.
3. It runs in a fresh kernel in the sandbox (:mod:`tools.grading.sandbox`), in a temporary
   work folder holding a copy of the student's notebook only. A cell that runs over
   ``cell_timeout`` is interrupted and grading goes on; a kernel that ignores the interrupt,
   dies, or runs past ``total_timeout`` is killed, and the exercises not yet graded score 0
   with the reason. Every process the kernel started is killed at the end.

The result is one row per exercise of the notebook, always.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from tools.grading import codec
from tools.grading.exercises import spec_for
from tools.grading.sandbox import Limits, SandboxedKernelManager, kernel_env, kill_marked
from tools.grading.spec import Outcome, judge_all

__all__ = ["Job", "grade_submission", "exercises_of", "assemble", "STUB", "MAX_NOTEBOOK_BYTES"]

STUB = 'raise NotImplementedError("Exercise: replace this line with your code")'
MAX_NOTEBOOK_BYTES = 20 * 2**20  # a course notebook with outputs is under 2 MB
MAX_PROBE_BYTES = 20 * 2**20
CODEC_SOURCE = Path(codec.__file__).read_text()


@dataclass
class Job:
    student: str
    instructor: str  # path of the instructor notebook
    submission: str | None  # path of the student's notebook (None: not submitted)
    student_root: str | None = None  # the student's folder: the submission must be inside it
    work_root: str | None = None  # where the temporary work folder is made
    cell_timeout: float = 120.0
    total_timeout: float = 600.0
    memory: int = Limits.memory
    bwrap: str | None = None
    references: dict | None = None  # {exercise: [qualified names]}: see reference_names()


@dataclass
class ExerciseResult:
    exercise: str
    score: float
    max_score: float
    reason: str = ""
    feedback: list = field(default_factory=list)


# --- the instructor notebook -------------------------------------------------------------------


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def is_solution(cell) -> bool:
    return bool(_nbgrader(cell).get("solution"))


def is_test(cell) -> bool:
    meta = _nbgrader(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell.cell_type == "code"


def exercises_of(instructor) -> list[tuple[str, float]]:
    """[(test cell grade_id, points)] in notebook order; duplicate ids are the instructor's
    error and stop grading."""
    seen, found = set(), []
    for cell in instructor.cells:
        grade_id = _nbgrader(cell).get("grade_id")
        if grade_id is None:
            continue
        if grade_id in seen:
            raise ValueError(f"the instructor notebook has two cells with grade_id {grade_id!r}")
        seen.add(grade_id)
        if is_test(cell):
            found.append((grade_id, float(_nbgrader(cell)["points"])))
    return found


def assemble(instructor, submission):
    """(notebook to run, notes): the instructor's cells, the student's solutions by grade_id
    (the last of duplicates, as Run All would leave it, and said so), the student's added
    code cells in place, and each test cell replaced by a probe placeholder."""
    notes = []
    submitted = {}
    for cell in submission.cells:
        if cell.get("cell_type") != "code" or not is_solution(cell):
            continue
        grade_id = _nbgrader(cell).get("grade_id")
        if grade_id in submitted:
            notes.append(
                f"two cells have grade_id {grade_id!r}; graded the last one (the one "
                "that runs last)"
            )
        submitted[grade_id] = cell
    known_ids = {c.get("id") for c in instructor.cells}
    added_after, previous = {}, None
    for cell in submission.cells:
        if cell.get("id") in known_ids:
            previous = cell.get("id")
        elif cell.get("cell_type") == "code" and "nbgrader" not in cell.get("metadata", {}):
            added_after.setdefault(previous, []).append(cell)

    def code(source, origin, **meta):
        return nbformat.v4.new_code_cell(source=source, metadata={"grader_origin": origin, **meta})

    cells = [code(c.source, "added") for c in added_after.get(None, [])]
    for cell in instructor.cells:
        if cell.cell_type == "code":
            if is_solution(cell):
                grade_id = _nbgrader(cell)["grade_id"]
                student = submitted.get(grade_id)
                source = student.source if student is not None else STUB
                cells.append(code(source if isinstance(source, str) else STUB, "solution"))
            elif is_test(cell):
                cells.append(code("", "test", grader_probe=_nbgrader(cell)["grade_id"]))
            else:
                cells.append(code(cell.source, "instructor"))
        cells.extend(
            code(c.source, "added")
            for c in added_after.get(cell.get("id"), [])
            if isinstance(c.get("source"), str)
        )
    notebook = nbformat.v4.new_notebook()
    notebook.cells = cells
    notebook.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    }
    return notebook, notes


# --- the submission ----------------------------------------------------------------------------


def read_submission(job: Job):
    """(notebook, raw bytes) or raise ``ValueError`` with the reason it scores 0."""
    if job.submission is None:
        raise ValueError("not submitted")
    path = Path(job.submission)
    if path.is_symlink():
        raise ValueError("the submission is a symbolic link; submit the notebook file itself")
    if job.student_root is not None:
        root = Path(job.student_root).resolve()
        if root not in path.resolve().parents:
            raise ValueError(
                "the submission lies outside the student's folder (a linked "
                "folder?); submit the notebook file itself"
            )
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as error:
        raise ValueError(f"the submission cannot be opened ({error.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise ValueError("the submission is not a regular file")
        raw = f.read(MAX_NOTEBOOK_BYTES + 1)
    if not raw.strip():
        raise ValueError("the submission is an empty file")
    if len(raw) > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"the submission is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    try:
        notebook = nbformat.reads(raw.decode("utf-8"), as_version=4)
        if not isinstance(notebook.get("cells"), list):
            raise ValueError("no cells")
        for cell in notebook.cells:
            if not isinstance(cell.get("source"), str):
                raise ValueError("a cell without text")
    except Exception as error:  # noqa: BLE001 - anything malformed is the student's 0
        raise ValueError(
            f"the submission is not a readable notebook ({type(error).__name__}: "
            f"{str(error)[:200]})"
        ) from None
    return notebook, raw


# --- the probe ---------------------------------------------------------------------------------

PROBE = r"""
def __grader_probe(payload, result_path, codec_source, hides, names):
    import importlib as _importlib
    import json as _json
    import sys as _sys
    import types as _types
    _codec = _types.ModuleType("_grader_codec")
    _sys.modules["_grader_codec"] = _codec  # dataclasses look their module up there
    exec(codec_source, _codec.__dict__)
    encode, decode = _codec.encode, _codec.decode
    out = {"calls": [], "guard": True}
    from course_utils import references as _refs

    def guard_holds():
        # the names come from the grader's own process, so they cannot be hidden from it
        try:
            for exercise, qualnames in names.items():
                functions = []
                for name in qualnames:
                    parts = name.split(".")
                    for i in range(len(parts), 0, -1):
                        try:
                            target = _importlib.import_module(".".join(parts[:i]))
                        except ImportError:
                            continue
                        for attr in parts[i:]:
                            target = getattr(target, attr)
                        functions.append(target)
                        break
                if not _refs.guard_holds(exercise, *functions):
                    return False
        except Exception:
            return False
        return True

    out["guard"] = guard_holds()
    user = globals()
    for call in _json.loads(payload):
        record = {}
        args, kwargs = (), {}
        try:
            args = decode(call["args"], trusted=True)
            kwargs = decode(call["kwargs"], trusted=True)
            if call["function"] not in user:
                raise NameError(f"name {call['function']!r} is not defined")
            function = user[call["function"]]
            with _refs.hidden(*hides):
                value = function(*args, **kwargs)
            record["value"] = encode(value)
        except (Exception, SystemExit) as error:
            record["error"] = [type(error).__name__, str(error)[:500]]
        try:
            record["args_after"] = encode(args)
            record["kwargs_after"] = encode(kwargs)
        except Exception:
            pass
        out["calls"].append(record)
    out["guard"] = out["guard"] and guard_holds()
    with open(result_path, "w") as f:
        _json.dump(out, f)
"""


def reference_names(exercises) -> dict:
    """{exercise: qualified names of its references}, from every module of course_utils
    imported here, in the grader (a student's code could hide them from its own registry)."""
    import importlib
    import pkgutil

    import course_utils
    from course_utils import references

    for info in pkgutil.walk_packages(course_utils.__path__, "course_utils."):
        importlib.import_module(info.name)
    return {e: references.references_of(e) for e in exercises}


def probe_source(calls, result_path: Path, hides, names: dict) -> str:
    payload = json.dumps(
        [
            {
                "function": c.function,
                "args": codec.encode(tuple(c.args)),
                "kwargs": codec.encode(dict(c.kwargs)),
            }
            for c in calls
        ]
    )
    return (
        PROBE + f"\n__grader_probe({payload!r}, {str(result_path)!r}, {CODEC_SOURCE!r}, "
        f"{tuple(hides)!r}, {names!r})\ndel __grader_probe\n"
    )


def read_probe(result_path: Path, calls):
    """(outcomes, guard intact) from the probe's file, decoded without trusting it."""
    if not result_path.is_file() or result_path.is_symlink():
        raise ValueError("no result came back")
    if result_path.stat().st_size > MAX_PROBE_BYTES:
        raise ValueError(f"the results are larger than {MAX_PROBE_BYTES // 2**20} MB")
    data = json.loads(result_path.read_text())
    records = data.get("calls") if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise ValueError("malformed results")
    outcomes = []
    for record in records[: len(calls)]:
        record = record if isinstance(record, dict) else {}
        error = record.get("error")
        if error is not None:
            error = (
                (str(error[0])[:100], str(error[1])[:500])
                if isinstance(error, list) and len(error) == 2
                else ("Error", "malformed error")
            )
        args_after = codec.decode(record.get("args_after"))
        kwargs_after = codec.decode(record.get("kwargs_after"))
        outcomes.append(
            Outcome(
                value=codec.decode(record.get("value")),
                error=error,
                args_after=args_after if isinstance(args_after, tuple) else (),
                kwargs_after=kwargs_after if isinstance(kwargs_after, dict) else {},
            )
        )
    return outcomes, data.get("guard") is True


def _cell_error(cell) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {str(output.get('evalue'))[:300]}"
    return ""


# --- grading -----------------------------------------------------------------------------------


def grade_submission(job: Job) -> dict:
    instructor = nbformat.read(job.instructor, as_version=4)
    exercises = exercises_of(instructor)
    name = Path(job.instructor).name
    results = {gid: ExerciseResult(gid, 0.0, points) for gid, points in exercises}
    report = {
        "student": job.student,
        "notebook": name,
        "isolated": job.bwrap is not None,
        "notes": [],
        "exercises": [],
    }

    def finish(default_reason: str = ""):
        for result in results.values():
            if not result.reason and result.score == 0 and default_reason:
                result.reason = default_reason
        report["exercises"] = [asdict(r) for r in results.values()]
        return report

    try:
        submission, raw = read_submission(job)
    except ValueError as error:
        return finish(str(error))
    notebook, notes = assemble(instructor, submission)
    report["notes"] += notes

    work = Path(tempfile.mkdtemp(prefix="grading-", dir=job.work_root))
    try:
        (work / "notebook").mkdir()
        (work / "probe").mkdir()
        (work / "notebook" / name).write_bytes(raw)  # the student's own file, nothing else
        stop_reason = _run(job, notebook, work, results, report)
        return finish(stop_reason or "")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(job: Job, notebook, work: Path, results: dict, report: dict) -> str | None:
    """Execute ``notebook`` cell by cell, grading at each probe; the reason it stopped early."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    token = secrets.token_hex(16)
    km = SandboxedKernelManager(kernel_name="python3")
    km.configure(work, work / "notebook", Limits(memory=job.memory), job.bwrap)
    client = NotebookClient(
        notebook,
        km=km,
        timeout=job.cell_timeout,
        allow_errors=True,
        interrupt_on_timeout=False,
        record_timing=False,
        startup_timeout=120,
        iopub_timeout=10,
    )
    deadline_hit = threading.Event()

    def over_time():
        deadline_hit.set()
        km.kill_all()

    watchdog = threading.Timer(job.total_timeout, over_time)
    watchdog.daemon = True
    stop = None
    problem = None  # what went wrong in the student's cells since the last probe
    try:
        with open(os.environ.get("GRADING_KERNEL_LOG", os.devnull), "wb") as devnull:
            with client.setup_kernel(
                env=kernel_env(work, token),
                cwd=str(work / "notebook"),
                stdout=devnull,
                stderr=devnull,
            ):
                watchdog.start()
                for index, cell in enumerate(notebook.cells):
                    grade_id = cell.metadata.get("grader_probe")
                    if grade_id is not None:
                        _probe(
                            client, cell, index, grade_id, work, results, job.references, problem
                        )
                        problem = None
                        continue
                    try:
                        client.execute_cell(cell, index)
                        if cell.metadata.get("grader_origin") == "solution" and _cell_error(cell):
                            problem = f"your solution cell raised {_cell_error(cell)}"
                    except CellTimeoutError:
                        report["notes"].append(
                            f"cell {index + 1} ran over {job.cell_timeout:g} s and was interrupted"
                        )
                        if cell.metadata.get("grader_origin") in ("solution", "added"):
                            problem = (
                                f"your cell {index + 1} ran over {job.cell_timeout:g} s "
                                "and was interrupted"
                            )
                        if not _interrupt(client, km):
                            stop = (
                                f"cell {index + 1} ran over {job.cell_timeout:g} s and the "
                                "kernel did not stop when interrupted"
                            )
                            break
    except DeadKernelError:
        stop = "the kernel stopped (it was killed, ran out of memory or exited)"
    except Exception as error:  # noqa: BLE001 - whatever happens, this student gets rows
        stop = f"grading stopped: {type(error).__name__}: {str(error)[:200]}"
    finally:
        watchdog.cancel()
        km.kill_all()
        kill_marked(token)
        report["errors"] = [
            [i, c.metadata.get("grader_origin"), _cell_error(c)]
            for i, c in enumerate(notebook.cells)
            if _cell_error(c)
        ]
    if deadline_hit.is_set():
        stop = f"the notebook ran over the {job.total_timeout:g} s allowed for a submission"
    if stop:
        report["notes"].append(stop)
    return stop


def _interrupt(client, km) -> bool:
    """Interrupt the running cell; whether the kernel answers again within 10 s."""
    from jupyter_core.utils import run_sync
    from nbclient.exceptions import CellTimeoutError

    try:
        run_sync(km.interrupt_kernel)()
        check = nbformat.v4.new_code_cell("pass")
        saved, client.timeout = client.timeout, 10
        try:
            client.execute_cell(check, 0)
        finally:
            client.timeout = saved
        return True
    except CellTimeoutError:
        return False


def _probe(
    client, cell, index, grade_id, work: Path, results: dict, references, problem: str | None
) -> None:
    from nbclient.exceptions import CellTimeoutError

    spec = spec_for(grade_id)
    result = results[grade_id]
    calls = list(spec.calls())
    path = work / "probe" / f"{secrets.token_hex(8)}.json"
    names = {e: (references or {}).get(e, []) for e in spec.hides}
    cell.source = probe_source(calls, path, spec.hides, names)
    try:
        client.execute_cell(cell, index)
    except CellTimeoutError:
        result.reason = f"the answer ran over {client.timeout:g} s on the grader's inputs"
        if not _interrupt(client, client.km):
            raise
        return
    try:
        outcomes, guard = read_probe(path, calls)
    except (ValueError, OSError, json.JSONDecodeError) as error:
        result.reason = (
            f"the answer could not be checked ({error}"
            + (f"; {_cell_error(cell)}" if _cell_error(cell) else "")
            + ")"
        )
        return
    finally:
        cell.source = f"# graded by the grader: {grade_id}"  # do not keep the inputs around
    if not guard:
        result.reason = (
            "the course's reference-answer guard (course_utils.references) was "
            "disabled in this notebook"
        )
        return
    failures = judge_all(spec, calls, outcomes)
    if failures:
        result.reason = (f"{problem}; then " if problem else "") + failures[0]
        result.feedback = failures[:10]
    else:
        result.score = result.max_score


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m tools.grading.runner JOB.json RESULT.json", file=sys.stderr)
        return 2
    job = Job(**json.loads(Path(argv[0]).read_text()))
    if os.environ.get("GRADING_DEBUG_STACKS"):  # where a stuck worker is stuck
        import faulthandler

        faulthandler.dump_traceback_later(float(os.environ["GRADING_DEBUG_STACKS"]), repeat=True)
    start = time.perf_counter()
    report = grade_submission(job)
    report["seconds"] = round(time.perf_counter() - start, 2)
    Path(argv[1]).write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
