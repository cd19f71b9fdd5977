"""Write the "Open in Binder" / "Open in Colab" links and the Colab set-up cell everywhere.

Usage::

    .venv/bin/python tools/launch_links.py           # rewrite notebooks/ and README.md
    .venv/bin/python tools/launch_links.py --check   # exit 1 if anything disagrees

Every link and the install line come from one setting, ``[tool.course]`` in pyproject.toml
(``repository = "owner/name"``, ``branch = "main"``): a fork edits those two lines and runs
this script. ``tests/test_launch_links.py`` checks that the notebooks and the README agree
with the setting.

What it writes, in each notebook:

- a first markdown cell (id ``launch-badges``) with the two badges, each opening *this*
  notebook (Binder with ``labpath``, Colab from GitHub);
- before the first code cell, a code cell (id ``colab-setup``) that does nothing outside
  Colab; on Colab it installs ``course_utils`` from the repository at the branch and turns on
  Colab's custom widget manager, which ipywidgets and ipympl need there;

and in README.md, the table between ``<!-- launch-links:start -->`` and
``<!-- launch-links:end -->``.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path
from urllib.parse import quote

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
README = ROOT / "README.md"
BADGES_ID, COLAB_ID = "launch-badges", "colab-setup"
START, END = "<!-- launch-links:start -->", "<!-- launch-links:end -->"
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


def setting(pyproject: Path = ROOT / "pyproject.toml") -> tuple[str, str]:
    """(owner/name, branch) from ``[tool.course]``."""
    course = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["course"]
    repository, branch = course["repository"], course["branch"]
    if repository.count("/") != 1 or not all(repository.split("/")) or not branch:
        raise ValueError(
            f"[tool.course] needs repository = 'owner/name' and a branch; got "
            f"{repository!r}, {branch!r}"
        )
    return repository, branch


def binder_url(repository: str, branch: str, notebook: str | None = None) -> str:
    url = f"https://mybinder.org/v2/gh/{repository}/{branch}"
    return url + (f"?labpath={quote('notebooks/' + notebook, safe='')}" if notebook else "")


def colab_url(repository: str, branch: str, notebook: str) -> str:
    return (
        f"https://colab.research.google.com/github/{repository}/blob/{branch}/notebooks/{notebook}"
    )


def badges_source(repository: str, branch: str, notebook: str) -> str:
    return (
        f"[![Open in Binder]({BINDER_BADGE})]({binder_url(repository, branch, notebook)}) "
        f"[![Open in Colab]({COLAB_BADGE})]({colab_url(repository, branch, notebook)})"
    )


def colab_source(repository: str, branch: str) -> str:
    return f"""# Colab only (does nothing elsewhere): install course_utils from the course's repository,
# and turn on Colab's widget manager, which the explorers (ipywidgets + ipympl) need there.
import sys

if "google.colab" in sys.modules:
    get_ipython().run_line_magic(
        "pip", "install --quiet 'course-utils @ git+https://github.com/{repository}@{branch}'")
    from google.colab import output

    output.enable_custom_widget_manager()"""


def updated_notebook(path: Path, repository: str, branch: str):
    """The notebook with its badge cell and Colab cell set from the setting."""
    notebook = nbformat.read(path, as_version=4)
    cells = [c for c in notebook.cells if c.get("id") not in (BADGES_ID, COLAB_ID)]
    badges = nbformat.v4.new_markdown_cell(badges_source(repository, branch, path.name))
    badges.id = BADGES_ID
    colab = nbformat.v4.new_code_cell(colab_source(repository, branch))
    colab.id = COLAB_ID
    old = {c.get("id"): c for c in notebook.cells}
    if COLAB_ID in old:  # keep its stored execution count: no spurious diff
        colab.execution_count = old[COLAB_ID].get("execution_count")
    first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
    cells.insert(first_code, colab)
    notebook.cells = [badges] + cells
    return notebook


def readme_block(repository: str, branch: str, notebooks: list[Path]) -> str:
    rows = ["| notebook | Binder | Colab |", "|---|---|---|"]
    for path in notebooks:
        rows.append(
            f"| [`{path.name}`](notebooks/{path.name}) "
            f"| [![Open in Binder]({BINDER_BADGE})]({binder_url(repository, branch, path.name)}) "
            f"| [![Open in Colab]({COLAB_BADGE})]({colab_url(repository, branch, path.name)}) |"
        )
    return "\n".join([START, *rows, END])


def updated_readme(text: str, block: str) -> str:
    if START not in text or END not in text:
        raise ValueError(f"README.md has no {START} ... {END} block")
    head, rest = text.split(START, 1)
    return head + block + rest.split(END, 1)[1]


def notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report disagreements, change nothing")
    args = parser.parse_args(argv)
    repository, branch = setting()
    stale = []
    for path in notebooks():
        new = updated_notebook(path, repository, branch)
        if nbformat.writes(new) != nbformat.writes(nbformat.read(path, as_version=4)):
            stale.append(str(path.relative_to(ROOT)))
            if not args.check:
                nbformat.write(new, path)
    text = README.read_text(encoding="utf-8")
    new_text = updated_readme(text, readme_block(repository, branch, notebooks()))
    if new_text != text:
        stale.append("README.md")
        if not args.check:
            README.write_text(new_text, encoding="utf-8")
    if args.check:
        for name in stale:
            print(
                f"{name}: launch links disagree with [tool.course] "
                f"({repository}@{branch}); run tools/launch_links.py"
            )
        return 1 if stale else 0
    print(f"{len(stale)} file(s) updated for {repository}@{branch}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
