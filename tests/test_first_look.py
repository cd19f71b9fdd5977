"""What a student sees on opening a committed notebook, before running anything.

No stored output may reference a live widget: without saved widget state JupyterLab shows
"Error displaying widget: model not found" there. Explorer outputs keep their static PNG
snapshot instead (tools/execute_notebooks.py), which JupyterLab and GitHub both show.
"""

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
# Both editions: the English notebooks and the Chinese ones (notebooks/zh/, make zh).
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) + sorted(
    (ROOT / "notebooks" / "zh").glob("[0-9][0-9]_*.ipynb")
)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_committed_outputs_show_snapshots_not_missing_widgets(path):
    notebook = nbformat.read(path, as_version=4)
    assert "widgets" not in notebook.metadata
    explorers = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            assert WIDGET_VIEW not in data, f"{path.name}: a stored output references a widget"
        if cell.cell_type == "code" and "_explorer(" in cell.source and cell.outputs:
            explorers += 1
            assert any("image/png" in o.get("data", {}) for o in cell.outputs), (
                f"{path.name}: the explorer cell has no static snapshot"
            )
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), (
        f"{path.name}: committed with cells that were not run"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_static_figures_are_stored_as_png_not_html(path):
    # nbval compares text/html byte for byte but not images: a figure stored as HTML (an
    # ipympl canvas's static view) would make the test compare pixels, which differ
    # between CPUs. Explorers keep their PNG snapshot; everything else is plain image/png.
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            assert "text/html" not in data or "image/png" not in data, (
                f"{path.name} cell {index}: a figure is stored as text/html"
            )
