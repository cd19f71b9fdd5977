"""A plain, non-editable install of course_utils is whole.

`make lab`, conda and Binder used editable installs, which import straight from the source
tree and so hide what the wheel leaves out (it once shipped without course_utils.widgets).
Here the wheel is built offline, as `pip install .` / `pip install git+<repo>` would build it,
and checked against the source tree walked at test time, so new modules and subpackages are
covered without listing them anywhere.

The build runs on a copy of the sources in pytest's tmp_path: setuptools writes `build/` and
`*.egg-info` next to pyproject.toml, and parallel workers must not share them.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the course runs on 3.11, pyproject allows 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "course_utils"
DIST_NAME = "course_utils"  # the normalized project name used in wheel file names
# Folders under course_utils/ that are never part of the package.
SKIPPED_DIRS = {"__pycache__", ".ipynb_checkpoints"}
# pip without the network, user configuration or a self-update check.
PIP = [sys.executable, "-m", "pip", "--isolated", "--disable-pip-version-check", "--no-input"]
TIMEOUT = 180  # seconds, per pip/python subprocess


def _source_modules() -> list[str]:
    """Every .py file under course_utils/ as a wheel path, e.g. 'course_utils/widgets/base.py'."""
    found = []
    for folder, dirs, files in os.walk(ROOT / PACKAGE):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".")]
        for name in files:
            if name.endswith(".py"):
                found.append((Path(folder) / name).relative_to(ROOT).as_posix())
    return sorted(found)


def _copy_sources(dest: Path) -> None:
    """Copy what the build reads: pyproject.toml, its readme and license files, the package."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    readme = project.get("readme")
    readme = readme.get("file") if isinstance(readme, dict) else readme
    extra = [readme] if readme else []
    for pattern in project.get("license-files", []):
        extra += [p.relative_to(ROOT).as_posix() for p in ROOT.glob(pattern)]
    if (ROOT / "MANIFEST.in").exists():
        extra.append("MANIFEST.in")
    dest.mkdir()
    for name in ["pyproject.toml", *extra]:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(
        ROOT / PACKAGE,
        dest / PACKAGE,
        ignore=shutil.ignore_patterns(*SKIPPED_DIRS, "*.pyc", "*.pyo"),
    )


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(
        cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False, **kwargs
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, cmd))} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """course_utils' wheel, built offline from a copy of the sources."""
    tmp = tmp_path_factory.mktemp("packaging")
    src, dist = tmp / "src", tmp / "dist"
    _copy_sources(src)
    # --no-build-isolation: the pinned setuptools of requirements-dev.txt, no download.
    _run(
        [*PIP, "wheel", ".", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", dist],
        cwd=src,
    )
    wheels = sorted(dist.glob("*.whl"))
    assert len(wheels) == 1, f"expected one wheel, got {[w.name for w in wheels]}"
    return wheels[0]


def _wheel_metadata(wheel: Path) -> tuple[list[str], dict[str, str]]:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        headers = HeaderParser().parsestr(zf.read(metadata).decode("utf-8"))
    return names, dict(headers.items())


def test_version_is_a_literal_read_without_importing():
    """setuptools reads `attr = course_utils.__version__` statically only from a literal.

    Otherwise it imports course_utils at build time, which needs numpy & co. in the build
    environment (and fails under pip's default build isolation).
    """
    tree = ast.parse((ROOT / PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    values = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
    ]
    assert len(values) == 1, "course_utils/__init__.py should assign __version__ once"
    assert isinstance(values[0], ast.Constant) and isinstance(values[0].value, str), (
        "__version__ must be a plain string literal (setuptools reads it without importing)"
    )


def test_wheel_contains_every_source_module(wheel):
    modules = _source_modules()
    assert f"{PACKAGE}/__init__.py" in modules and len(modules) > 1, modules
    data_files = [
        f"{PACKAGE}/data_files/{p.name}" for p in (ROOT / PACKAGE / "data_files").glob("*.npz")
    ]
    assert data_files, "course_utils/data_files/*.npz not found"
    names, _ = _wheel_metadata(wheel)
    missing = sorted(set(modules + data_files) - set(names))
    assert not missing, (
        f"{wheel.name} lacks {missing}: is the folder a package (an __init__.py) and does "
        "[tool.setuptools.packages.find] in pyproject.toml include it?"
    )


def test_wheel_holds_only_course_utils(wheel):
    names, headers = _wheel_metadata(wheel)
    allowed = {PACKAGE, f"{DIST_NAME}-{headers['Version']}.dist-info"}
    stray = sorted({n.split("/", 1)[0] for n in names} - allowed)
    assert not stray, f"{wheel.name} installs more than course_utils: {stray}"


def test_wheel_version_is_course_utils_version(wheel):
    import course_utils

    _, headers = _wheel_metadata(wheel)
    assert headers["Name"] == "course-utils"
    assert headers["Version"] == course_utils.__version__
    assert wheel.name.startswith(f"{DIST_NAME}-{course_utils.__version__}-")


def test_installed_wheel_imports_from_the_install(wheel, tmp_path):
    """Installed with --target and put first on PYTHONPATH, the wheel alone provides
    course_utils.widgets and the digits' array file, although this venv also has the
    editable install."""
    site = tmp_path / "site"
    _run([*PIP, "install", "--no-deps", "--no-index", "-q", "--target", site, wheel])
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = (
        "import course_utils, course_utils.widgets, course_utils.data\n"
        "print(course_utils.__file__)\n"
        "print(course_utils.widgets.__file__)\n"
        "assert course_utils.data.load_digits().x_train.shape == (1347, 64)\n"
    )
    result = _run([sys.executable, "-c", code], cwd=elsewhere, env=env)
    files = [Path(line) for line in result.stdout.split()]
    assert len(files) == 2, result.stdout
    for file in files:
        assert file.resolve().is_relative_to(site.resolve()), (
            f"{file} was imported instead of the installed wheel in {site}"
        )
