"""Launch paths: badges and the Colab set-up cell agree with pyproject's [tool.course]."""

import sys
import types
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools import launch_links  # noqa: E402

NOTEBOOKS = launch_links.notebooks()


def test_notebooks_and_readme_agree_with_the_setting(capsys):
    assert launch_links.main(["--check"]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_cell_opens_this_notebook_and_colab_cell_comes_first(path):
    repository, branch = launch_links.setting()
    notebook = nbformat.read(path, as_version=4)
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.id == launch_links.BADGES_ID
    assert (
        f"https://mybinder.org/v2/gh/{repository}/{branch}?labpath=notebooks%2F{path.name}"
        in first.source
    )
    assert (
        f"https://colab.research.google.com/github/{repository}/blob/{branch}/notebooks/"
        f"{path.name}" in first.source
    )
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code[0].id == launch_links.COLAB_ID
    assert code[0].outputs == [], "the Colab cell must print nothing outside Colab"


def test_colab_cell_does_nothing_elsewhere():
    namespace = {}
    exec(launch_links.colab_source("o/n", "b"), namespace)  # no get_ipython needed: not Colab
    assert "output" not in namespace


def test_colab_cell_installs_from_the_repository_and_enables_widgets(monkeypatch):
    calls = []
    output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append("widgets"))
    colab = types.ModuleType("google.colab")
    colab.output = output
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    shell = types.SimpleNamespace(run_line_magic=lambda magic, line: calls.append((magic, line)))
    exec(launch_links.colab_source("fork/course", "dev"), {"get_ipython": lambda: shell})
    assert calls == [
        ("pip", "install --quiet 'course-utils @ git+https://github.com/fork/course@dev'"),
        "widgets",
    ]


def test_a_fork_changes_every_link_with_one_edit(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.course]\nrepository = "fork/course"\nbranch = "dev"\n')
    repository, branch = launch_links.setting(pyproject)
    notebook = launch_links.updated_notebook(NOTEBOOKS[0], repository, branch)
    text = nbformat.writes(notebook)
    old_repository, _ = launch_links.setting()
    assert "fork/course/dev" in text and "github.com/fork/course@dev" in text
    assert old_repository not in text
    block = launch_links.readme_block(repository, branch, NOTEBOOKS)
    assert block.count("fork/course") == 2 * len(NOTEBOOKS)


def test_bad_setting_is_refused(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.course]\nrepository = "no-slash"\nbranch = "main"\n')
    with pytest.raises(ValueError, match="owner/name"):
        launch_links.setting(pyproject)
