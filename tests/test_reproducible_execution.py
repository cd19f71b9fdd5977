"""Re-executing a notebook writes the same outputs on every CPU.

`make notebooks` (tools/execute_notebooks.py) refreshes the stored outputs that nbval then
compares everywhere. If a maintainer on an AVX-512 machine and one on an older laptop wrote
different files, the course would flip between two sets of numbers. So one training
chapter is executed twice from the committed file, natively and under the SSE4 baseline
(the emulation of tools/test_portable.py), and the two written notebooks are compared:
every text output (stdout, text/plain, text/html, errors) must be identical. Images are
left out, as nbval leaves them out: a single run may stay as a picture, its pixels are not
a claim.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools.test_portable import CPUS

# executes a notebook twice (about a minute): see tests/conftest.py
pytestmark = [pytest.mark.notebook, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
# Chapter 06 trains the most (step decay, warm-up over seeds): the one most exposed to
# kernels that round differently.
NOTEBOOK = ROOT / "notebooks" / "06_learning_rate_schedules.ipynb"
TEXT_TYPES = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json")


def text_outputs(path):
    """Every cell's outputs with images dropped: what nbval compares, and a bit more."""
    notebook = nbformat.read(path, as_version=4)
    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.outputs:
            kept = {"output_type": output.output_type}
            if "text" in output:
                kept["text"] = output.text
            if "data" in output:
                kept["data"] = {k: v for k, v in output.data.items() if k in TEXT_TYPES}
            if output.output_type == "error":
                kept["error"] = [output.ename, output.evalue]
            outputs.append(kept)
        cells.append(outputs)
    return cells


def execute_copy(folder, cpu):
    folder.mkdir()
    copy = folder / NOTEBOOK.name
    shutil.copy(NOTEBOOK, copy)
    env = {k: v for k, v in os.environ.items() if k not in CPUS["sse4"] or cpu == "native"}
    env.update(CPUS[cpu])
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "execute_notebooks.py"), str(copy)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return copy


@pytest.mark.skipif(
    os.uname().machine not in ("x86_64", "AMD64"),
    reason="the instruction-set emulation is x86-64 only",
)
def test_native_and_sse4_executions_write_the_same_outputs(tmp_path):
    native = text_outputs(execute_copy(tmp_path / "native", "native"))
    sse4 = text_outputs(execute_copy(tmp_path / "sse4", "sse4"))
    assert len(native) == len(sse4)
    for index, (a, b) in enumerate(zip(native, sse4)):
        assert a == b, (
            f"code cell {index} differs between CPUs:\n"
            f"native: {json.dumps(a)[:1500]}\nsse4:   {json.dumps(b)[:1500]}"
        )
    # And both equal what is committed (written by the same tool on the recording machine).
    assert native == text_outputs(NOTEBOOK)
