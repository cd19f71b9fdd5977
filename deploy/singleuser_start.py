"""Start a student's Jupyter server, copying the course notebooks into their home first.

JupyterHub runs this as the student (Spawner.cmd), with the arguments it would give
`jupyterhub-singleuser`. On the first start the notebooks of $COURSE_NOTEBOOKS (a folder of
.ipynb files; default: this repository's notebooks/) are copied to ~/$COURSE_FOLDER
(default: nn-course/); a notebook that is already there is never overwritten, so a student's
work survives restarts, culling and a course update (a notebook added later is copied on the
next start). The same script serves the single-node hub (deploy/jupyterhub_config.py), the
Zero to JupyterHub image (deploy/z2jh/values.yaml: singleuser.cmd) and the load test
(tools/classroom_load.py).

To push changed notebooks to students during a term without touching their copies, an
nbgitpuller link does a merge instead (README, "Running a class").
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DEFAULT_NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def copy_course_notebooks(source: Path, home: Path, folder: str = "nn-course") -> list[Path]:
    """Copy source/*.ipynb into home/folder; never overwrite. Returns the files copied."""
    source, home = Path(source), Path(home)
    if not source.is_dir():
        raise ValueError(f"source must be a folder of notebooks, got {str(source)!r}")
    if not folder or Path(folder).is_absolute() or ".." in Path(folder).parts:
        raise ValueError(f"folder must be a relative name inside the home, got {folder!r}")
    target = home / folder
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for notebook in sorted(source.glob("*.ipynb")):
        destination = target / notebook.name
        if destination.exists() or destination.is_symlink():
            continue
        shutil.copyfile(notebook, destination)
        copied.append(destination)
    return copied


def main(argv: list[str]) -> None:
    source = Path(os.environ.get("COURSE_NOTEBOOKS", DEFAULT_NOTEBOOKS))
    home = Path(os.environ.get("HOME") or Path.home())
    copy_course_notebooks(source, home, os.environ.get("COURSE_FOLDER", "nn-course"))
    os.chdir(home)
    # The server of the Python running this script (the course environment's).
    os.execv(sys.executable, [sys.executable, "-m", "jupyterhub.singleuser", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
