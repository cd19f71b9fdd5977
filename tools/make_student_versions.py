"""Generate student versions of the notebooks with nbgrader's preprocessors.

Usage::

    .venv/bin/python tools/make_student_versions.py [NB ...] [--output-dir release]
    make release

Both editions by default: notebooks/NN_*.ipynb -> release/NN_*.ipynb and the Chinese edition
notebooks/zh/NN_*.ipynb (make zh) -> release/zh/NN_*.ipynb. The zh notebooks share the code
cells, nbgrader metadata and grade ids of the English ones, so one autograder grades both.

The instructor notebook in notebooks/ is the one source of truth. Its student version has
every ``### BEGIN SOLUTION`` / ``### END SOLUTION`` region replaced by a stub that raises
``NotImplementedError("Exercise: ...")``, every ``### BEGIN HIDDEN TESTS`` region removed,
outputs cleared, and nbgrader's cells locked and checksummed (so a course using
``nbgrader autograde`` can detect tampering). No nbgrader course folder or database needed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbgrader.preprocessors import (
    ClearHiddenTests,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    LockCells,
)
from traitlets.config import Config

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
STUB = 'raise NotImplementedError("Exercise: replace this line with your code")'


def exporter() -> NotebookExporter:
    config = Config()
    config.ClearSolutions.code_stub = {"python": STUB}
    config.ClearSolutions.enforce_metadata = True
    exp = NotebookExporter(config=config)
    for preprocessor in (
        ClearSolutions,
        ClearHiddenTests,
        ClearOutput,
        LockCells,
        ComputeChecksums,
    ):
        exp.register_preprocessor(preprocessor(config=config), enabled=True)
    return exp


def student_version(path: Path) -> nbformat.NotebookNode:
    """The student version of the instructor notebook at ``path``."""
    body, _ = exporter().from_filename(str(path))
    return nbformat.reads(body, as_version=4)


def has_exercises(notebook: nbformat.NotebookNode) -> bool:
    return any("nbgrader" in cell.metadata for cell in notebook.cells)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        default=sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
        + sorted((NOTEBOOKS / "zh").glob("[0-9][0-9]_*.ipynb")),
    )
    parser.add_argument("--output-dir", type=Path, default=ROOT / "release")
    args = parser.parse_args(argv)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for path in args.notebooks:
        if not has_exercises(nbformat.read(path, as_version=4)):
            print(f"{path.name}: no nbgrader cells, skipped")
            continue
        # notebooks/zh/X.ipynb -> <output>/zh/X.ipynb; anything else -> <output>/X.ipynb
        edition = (
            path.resolve().parent.relative_to(NOTEBOOKS)
            if path.resolve().parent.is_relative_to(NOTEBOOKS)
            else Path()
        )
        target = args.output_dir / edition / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(student_version(path), target)
        print(f"{path.name} -> {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
