"""Every public callable refuses bad input clearly (issue 17): the fuzz of tests/fuzz/.

Each ``tests/fuzz/cases_*.py`` lists valid example calls of the public callables of the
modules it covers; ``tests/fuzz/harness.py`` replaces one argument at a time by bad values
(None, wrong types, NaN, inf, negative, 10**9, 2**70, empty or NaN-filled arrays, an array
of 10**10 entries, a list of 10**7 items...) and reports every probe that did not end in a
``ValueError``/``TypeError`` within a second or a finite result (see its docstring). Each
file runs in its own process under an 8 GB address-space limit, so a call that tries to
allocate too much fails with ``MemoryError`` instead of swapping the machine.
"""

from __future__ import annotations

import ast
import json
import os
import pkgutil
import resource
import subprocess
import sys
from pathlib import Path

import pytest

import course_utils

ROOT = Path(__file__).resolve().parents[1]
FUZZ = ROOT / "tests" / "fuzz"
CASE_FILES = sorted(FUZZ.glob("cases_*.py"))
MEMORY_LIMIT = 8 * 2**30


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _modules_of(path: Path) -> list:
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", "") == "MODULES" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    return []


def _public_modules() -> list:
    names = []
    for info in pkgutil.walk_packages(course_utils.__path__, "course_utils."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


@pytest.mark.slow  # 10-25 s a file: the valid calls among the probes train and plot
@pytest.mark.parametrize(
    "path", CASE_FILES, ids=[p.stem.removeprefix("cases_") for p in CASE_FILES]
)
def test_public_callables_refuse_bad_input(path):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    run = subprocess.run(
        [sys.executable, str(FUZZ / "harness.py"), str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=900,
        preexec_fn=_limit_memory,
    )
    assert run.returncode == 0, f"the harness crashed:\n{run.stderr[-3000:]}"
    report = json.loads(run.stdout.strip().splitlines()[-1])
    failures = report["failures"]
    lines = [
        f"{f['callable']}({f['argument']}={f['value']}): {f['problem']}" for f in failures[:40]
    ]
    assert not failures, f"{len(failures)} of {report['probes']} probes failed:\n" + "\n".join(
        lines
    )


def test_every_module_with_public_callables_is_fuzzed():
    covered = {name for path in CASE_FILES for name in _modules_of(path)}
    missing = []
    for name in _public_modules():
        if name in covered or name.endswith(".harness"):
            continue
        module = __import__(name, fromlist=["_"])
        exported = getattr(module, "__all__", [])
        if any(callable(getattr(module, n, None)) for n in exported):
            missing.append(name)
    assert not missing, f"modules with public callables and no fuzz cases: {missing}"
