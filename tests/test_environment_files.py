"""The environment files agree with each other and with pyproject.toml.

requirements.txt is the one list of exact, tested runtime pins (what a student needs);
environment.yml (conda) and binder/environment.yml (Binder / repo2docker) must repeat it
exactly. requirements-dev.txt includes it and adds the pins of the developers' and
instructors' tools (pyproject's `dev` extra: pytest, nbval, nbgrader, playwright, the build
backend), which never reach students. Every pin must satisfy the ranges declared in
pyproject.toml (the build backend included). conda and Binder
install course_utils itself non-editably, as a JupyterHub admin would (only the Makefile's
developer install is editable). Also checks that CI runs `make test` and that the README tells
a newcomer the two commands.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the course runs on 3.11, pyproject allows 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements.txt"
REQUIREMENTS_DEV = ROOT / "requirements-dev.txt"
INSTRUCTOR_TOOLS = ("nbgrader", "pytest", "nbval", "playwright", "sqlalchemy", "alembic")
CONDA_ENV = ROOT / "environment.yml"
BINDER_ENV = ROOT / "binder" / "environment.yml"
PYPROJECT = ROOT / "pyproject.toml"
POST_BUILD = ROOT / "binder" / "postBuild"
TORCH_VERSION = "2.13.0"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


# --- parsing helpers ----------------------------------------------------------------------


def _exact_pins(lines: list[str], source: str) -> dict[str, Version]:
    """Map canonical name -> pinned version for requirement lines; options are skipped.

    Fails if a requirement is not an exact `==` pin or if a name appears twice.
    """
    pins: dict[str, Version] = {}
    for raw in lines:
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#") or line.startswith("-"):
            continue  # blank, comment, or a pip option (-e ., --extra-index-url ...)
        if _is_local_path(line):
            continue  # this repository itself (`.`), not a pin
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version, (
            f"{source}: {line!r} is not an exact `==` pin"
        )
        assert req.marker is None and not req.extras and req.url is None, (
            f"{source}: {line!r} should be a plain `name==version` pin"
        )
        name = canonicalize_name(req.name)
        assert name not in pins, f"{source}: {req.name} is pinned twice"
        pins[name] = Version(specs[0].version)
    return pins


def _is_local_path(line: str) -> bool:
    return line in (".", "./") or line.startswith(("./", "../", "/"))


def _requirements_lines() -> list[str]:
    return REQUIREMENTS.read_text(encoding="utf-8").splitlines()


def _dev_lines() -> list[str]:
    return REQUIREMENTS_DEV.read_text(encoding="utf-8").splitlines()


def _all_pins() -> dict:
    runtime = _exact_pins(_requirements_lines(), "requirements.txt")
    dev = _exact_pins(_dev_lines(), "requirements-dev.txt")
    both = sorted(set(runtime) & set(dev))
    assert not both, f"pinned in both requirements.txt and requirements-dev.txt: {both}"
    return {**runtime, **dev}


def _conda_pip_lines(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    pip_sections = [d["pip"] for d in data["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, f"{path}: expected exactly one `pip:` section"
    return [str(item) for item in pip_sections[0]]


def _conda_specs(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [d for d in data["dependencies"] if isinstance(d, str)]


def _pyproject() -> dict:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def _pyproject_requirements(which: str = "all") -> list[Requirement]:
    project = _pyproject()["project"]
    runtime = [Requirement(r) for r in project["dependencies"]]
    dev = [Requirement(r) for r in project.get("optional-dependencies", {}).get("dev", [])]
    return {"runtime": runtime, "dev": dev, "all": runtime + dev}[which]


# --- the three pin lists agree ---------------------------------------------------------------


def test_requirements_are_exact_pins():
    pins = _exact_pins(_requirements_lines(), "requirements.txt")
    assert len(pins) >= 10, "requirements.txt looks empty"
    assert len(_all_pins()) > len(pins), "requirements-dev.txt adds nothing"


def test_dev_requirements_include_the_runtime_pins():
    lines = [line.strip() for line in _dev_lines() if line.strip() and not line.startswith("#")]
    assert lines[0] == "-r requirements.txt", (
        "requirements-dev.txt must start from requirements.txt"
    )


def test_students_do_not_get_the_instructor_tools():
    pins = _exact_pins(_requirements_lines(), "requirements.txt")
    present = sorted(set(INSTRUCTOR_TOOLS) & set(pins))
    assert not present, (
        f"requirements.txt is what students install; move {present} to requirements-dev.txt"
    )


def test_pins_live_in_one_file():
    """environment.yml reads requirements.txt (-r) and binder/postBuild installs it: neither
    repeats a version, so the three cannot drift."""
    conda = [line.strip() for line in _conda_pip_lines(CONDA_ENV)]
    assert "-r requirements.txt" in conda, "environment.yml must install -r requirements.txt"
    assert not _exact_pins([line for line in conda if not line.startswith("-")], "environment.yml")
    binder = yaml.safe_load(BINDER_ENV.read_text(encoding="utf-8"))
    assert binder["dependencies"] == ["python=3.11", "pip"], (
        "binder/environment.yml provides Python and pip only; postBuild installs the pins"
    )
    post = POST_BUILD.read_text(encoding="utf-8")
    assert re.search(r"^pip install .*-r requirements\.txt\s*$", post, re.M), (
        "binder/postBuild must install -r requirements.txt"
    )


def test_conda_files_use_python_311_pip_and_cpu_torch():
    assert _conda_specs(CONDA_ENV)[:2] == ["python=3.11", "pip"]
    assert _conda_specs(BINDER_ENV) == ["python=3.11", "pip"]
    options = [shlex.split(line) for line in _conda_pip_lines(CONDA_ENV) if line.startswith("-")]
    assert ["--extra-index-url", CPU_INDEX] in options, (
        "environment.yml: the pip section should use PyTorch's CPU-only index"
    )
    post = POST_BUILD.read_text(encoding="utf-8")
    assert f"--extra-index-url {CPU_INDEX}" in post, "binder/postBuild: CPU-only torch index"


def test_root_environment_installs_course_utils_non_editable():
    lines = [line.strip() for line in _conda_pip_lines(CONDA_ENV)]
    assert "." in lines, "environment.yml should install this repository (`- .`)"
    editable = [line for line in lines if shlex.split(line)[0] in ("-e", "--editable")]
    assert not editable, f"environment.yml: install course_utils non-editably, not {editable}"


def test_binder_postbuild_installs_course_utils_non_editable():
    assert POST_BUILD.stat().st_mode & 0o111, "binder/postBuild must be executable"
    text = POST_BUILD.read_text(encoding="utf-8")
    assert re.search(r"^pip install --no-deps \.\s*$", text, re.M), (
        "binder/postBuild should run `pip install --no-deps .`"
    )
    pip_lines = [line for line in text.splitlines() if line.lstrip().startswith("pip ")]
    editable = [line for line in pip_lines if {"-e", "--editable"} & set(shlex.split(line))]
    assert not editable, f"binder/postBuild: install course_utils non-editably, not {editable}"


def test_torch_is_pinned_to_the_tested_version():
    pins = _exact_pins(_requirements_lines(), "requirements.txt")
    assert pins.get("torch") == Version(TORCH_VERSION), f"torch must be =={TORCH_VERSION}"


# --- pins against pyproject.toml -------------------------------------------------------------


@pytest.mark.parametrize(
    "which, source", [("runtime", "requirements.txt"), ("dev", "requirements-dev.txt")]
)
def test_every_pyproject_dependency_is_pinned(which, source):
    lines = _requirements_lines() if which == "runtime" else _dev_lines()
    pins = _exact_pins(lines, source)
    unpinned = sorted(
        r.name for r in _pyproject_requirements(which) if canonicalize_name(r.name) not in pins
    )
    assert not unpinned, f"pyproject.toml names packages {source} does not pin: {unpinned}"


def test_pins_satisfy_pyproject_ranges():
    pins = _all_pins()
    bad = []
    for req in _pyproject_requirements():
        version = pins.get(canonicalize_name(req.name))
        if version is not None and not req.specifier.contains(version, prereleases=True):
            bad.append(f"{req.name}=={version} violates {req}")
    assert not bad, "; ".join(bad)


def test_build_backend_is_pinned_within_build_system_requires():
    """tests/test_packaging.py builds offline (--no-build-isolation) with the pinned backend."""
    pins = _all_pins()
    requires = [Requirement(r) for r in _pyproject()["build-system"]["requires"]]
    assert requires, "pyproject.toml [build-system] requires nothing"
    for req in requires:
        version = pins.get(canonicalize_name(req.name))
        assert version is not None, (
            f"requirements-dev.txt does not pin the build backend {req.name}"
        )
        assert req.specifier.contains(version, prereleases=True), (
            f"{req.name}=={version} violates [build-system] requires {req}"
        )


def test_pinned_python_is_allowed_by_pyproject():
    from packaging.specifiers import SpecifierSet

    requires = SpecifierSet(_pyproject()["project"]["requires-python"])
    assert requires.contains("3.11"), "the conda/Binder Python (3.11) must satisfy requires-python"
    assert not requires.contains("3.10"), (
        "requires-python allows a Python nothing tests (the venvs, conda and Binder are 3.11)"
    )


# --- CI and README ---------------------------------------------------------------------------


def test_ci_runs_make_test_then_the_cross_cpu_run_and_nothing_else():
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert text.startswith("#!"), ".ci/run needs a shebang"
    commands = [
        line.strip()
        for line in text.splitlines()[1:]
        if line.strip() and not line.strip().startswith("#")
    ]
    assert "set -euo pipefail" in commands
    # make test (native CPU), then the notebooks and claim tests under the emulated CPUs.
    assert commands[-2:] == ["make test", "make test-portable CPUS=avx2,sse4"], commands[-2:]
    allowed_extra = re.compile(
        r"^(set -euo pipefail|cd .+|"
        r"if \[ ! -x /usr/bin/chromium \] \|\| \[ ! -x /usr/bin/bwrap \]; then "
        r"apt-get update -qq && apt-get install -y -qq chromium bubblewrap >/dev/null; fi)$"
    )
    others = [c for c in commands[:-2] if not allowed_extra.match(c)]
    assert not others, (
        f".ci/run should only cd to the repo root, install Chromium and "
        f"bubblewrap when they are missing and run make test and make "
        f"test-portable: {others}"
    )


def test_readme_names_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make lab" in readme
    assert "make test" in readme


# --- the oldest supported versions (make test-oldest) ----------------------------------------


def test_constraints_oldest_pin_exactly_the_lower_bound_of_every_runtime_dependency():
    """constraints-oldest.txt is what `make test-oldest` installs: each runtime range's floor.

    One `==` pin per pyproject.toml runtime dependency and nothing else, each equal to the
    range's `>=` bound, so raising a bound without re-testing it (or the reverse) fails here.
    """
    pins = _exact_pins(
        (ROOT / "constraints-oldest.txt").read_text(encoding="utf-8").splitlines(),
        "constraints-oldest.txt",
    )
    wrong = []
    for req in _pyproject_requirements("runtime"):
        floors = [Version(s.version) for s in req.specifier if s.operator == ">="]
        assert len(floors) == 1, f"pyproject.toml: {req} needs exactly one `>=` lower bound"
        pinned = pins.pop(canonicalize_name(req.name), None)
        if pinned != floors[0]:
            wrong.append(f"{req.name}: pinned {pinned}, lower bound {floors[0]}")
    assert not wrong, "constraints-oldest.txt does not pin the lower bounds: " + "; ".join(wrong)
    assert not pins, (
        f"constraints-oldest.txt pins packages pyproject.toml does not name: {sorted(pins)}"
    )


# --- make lab is a student's lab (issue 16) ---------------------------------------------------


def _make_dry_run(target: str) -> str:
    import subprocess

    process = subprocess.run(
        ["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert process.returncode == 0, process.stderr
    return process.stdout


def test_make_lab_installs_only_the_runtime_pins_and_switches_nbgrader_off():
    commands = _make_dry_run("lab")
    assert "-r requirements.txt" in commands
    assert "requirements-dev.txt" not in commands, "students must not get the instructor tools"
    assert '"@jupyter/nbgrader": true' in commands
    for extension in ("formgrader", "validate_assignment", "assignment_list", "course_list"):
        assert f'"nbgrader.server_extensions.{extension}": false' in commands
    assert "JUPYTER_CONFIG_DIR=" in commands


def test_make_lab_instructor_has_the_instructor_tools():
    commands = _make_dry_run("lab-instructor")
    assert "-r requirements-dev.txt" in commands
    assert "JUPYTER_CONFIG_DIR" not in commands
