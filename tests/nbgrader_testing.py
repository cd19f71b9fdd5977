"""Running nbgrader's command line from a test: the venv's nbgrader, its output on failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_nbgrader(cwd: Path, *args, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m nbgrader *args`` in ``cwd`` with this interpreter's folder first on PATH
    (and ``env``'s variables on top of os.environ); fails the test on a non-zero status."""
    full = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        **(env or {}),
    }
    process = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert process.returncode == 0, process.stdout[-2000:] + process.stderr[-4000:]
    return process
