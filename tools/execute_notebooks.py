"""Re-execute notebooks in place, top to bottom in a fresh kernel, keeping their outputs.

Usage::

    .venv/bin/python tools/execute_notebooks.py notebooks/*.ipynb      # or: make notebooks

The kernel runs in this interpreter's environment (the project's .venv). Timing metadata
and widget state are not stored, so re-running a deterministic notebook changes nothing
but what really changed. Exits non-zero if a cell raises.

First look: an explorer's output carries a live-widget reference and a static PNG snapshot.
Without saved widget state, JupyterLab would show "Error displaying widget: model not found"
for the reference in a notebook that has not been run yet, so the stored output keeps only
the snapshot (what GitHub shows too); running the cell brings the live widget.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert.preprocessors import CoalesceStreamsPreprocessor

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def keep_snapshots_only(notebook) -> None:
    """Drop the widget reference from outputs that also carry a static image of it."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and "image/png" in data:
                del data[WIDGET_VIEW]


def execute(path: Path, timeout: int = 600) -> float:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        store_widget_state=False,
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    notebook.metadata.pop("widgets", None)
    keep_snapshots_only(notebook)
    # A cell that prints, computes, then prints again gives one stream output or two,
    # depending on when stdout was flushed: merge them, so the stored file is the same on
    # every run (nbval merges them too before comparing).
    notebook, _ = CoalesceStreamsPreprocessor().preprocess(notebook, {})
    nbformat.write(notebook, path)
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        seconds = execute(path, args.timeout)
        print(f"{path}: executed in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
