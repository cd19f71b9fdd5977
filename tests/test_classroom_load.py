"""make classroom-load (tools/classroom_load.py): its pieces, and one real student on a real hub.

The smoke run (marked slow) starts JupyterHub on localhost with configurable-http-proxy from
the folder `make classroom-proxy` installs it into (.venv/classroom-proxy, or
$CLASSROOM_PROXY_PREFIX); it is skipped when the proxy is missing, except under CI=true,
where a missing proxy fails the test (as tests/browser does with Chromium).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import psutil
import pytest
from traitlets.config.loader import PyFileConfigLoader

from tools import classroom_load
from tools.classroom import hub as hub_module
from tools.classroom.student import percentile

ROOT = Path(__file__).resolve().parents[1]
PROXY_PREFIX = Path(os.environ.get("CLASSROOM_PROXY_PREFIX", ROOT / ".venv" / "classroom-proxy"))


def test_the_load_test_is_bounded():
    with pytest.raises(SystemExit):
        classroom_load.parse_args(["--students", "51"])
    with pytest.raises(SystemExit):
        classroom_load.parse_args(["--students", "0"])
    with pytest.raises(SystemExit):
        classroom_load.parse_args(["--timeout", "0"])
    args = classroom_load.parse_args(["--students", "3"])
    assert args.students == 3 and args.timeout <= 600


def test_students_run_the_chapter_with_its_explorer():
    cells = classroom_load.code_cells(classroom_load.DEFAULT_NOTEBOOK)
    assert len(cells) > 10
    assert any("explorer = init_explorer(" in c for c in cells), "the probe needs `explorer`"


def test_percentile():
    assert percentile([], 50) is None
    assert percentile([7.0], 95) == 7.0
    assert percentile([float(i) for i in range(1, 101)], 50) == pytest.approx(50.5)


def test_the_hub_config_is_local_dummy_and_loads(tmp_path):
    threads = classroom_load.sizing.THREAD_ENVIRONMENT
    hub = hub_module.LocalHub(
        tmp_path, tmp_path / "chp", ROOT / "notebooks", extra_environment=threads
    )
    path = hub._write_config()
    config = PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
    assert config.JupyterHub.bind_url.startswith("http://127.0.0.1:")
    assert config.JupyterHub.hub_bind_url.startswith("http://127.0.0.1:")
    assert config.ConfigurableHTTPProxy.api_url.startswith("http://127.0.0.1:")
    assert config.JupyterHub.authenticator_class == "dummy"
    assert config.JupyterHub.spawner_class == "simple"
    assert config.SimpleLocalProcessSpawner.home_dir_template.startswith(str(tmp_path))
    assert config.Spawner.cmd[-1] == str(ROOT / "deploy" / "singleuser_start.py")
    # the deployment's kernel threads (deploy/sizing.py), as make classroom-load runs by default
    assert {k: config.Spawner.environment[k] for k in threads} == threads
    (service,) = config.JupyterHub.services
    assert service["api_token"] == hub.token
    from jupyterhub.app import JupyterHub
    from jupyterhub.spawner import LocalProcessSpawner

    for section, cls in (("JupyterHub", JupyterHub), ("Spawner", LocalProcessSpawner)):
        traits = cls.class_traits(config=True)
        assert not [key for key in config[section] if key not in traits]


def test_the_proxy_pin_is_locked():
    package = json.loads((ROOT / "tools" / "classroom" / "package.json").read_text())
    lock = json.loads((ROOT / "tools" / "classroom" / "package-lock.json").read_text())
    version = package["dependencies"]["configurable-http-proxy"]
    assert version[0].isdigit(), "an exact version, not a range"
    assert lock["packages"]["node_modules/configurable-http-proxy"]["version"] == version


def _proxy_or_skip() -> Path:
    executable = PROXY_PREFIX / hub_module.PROXY_BIN
    if not executable.exists():
        message = f"configurable-http-proxy is missing in {PROXY_PREFIX}: make classroom-proxy"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return PROXY_PREFIX


@pytest.mark.slow
def test_one_student_on_a_real_hub(tmp_path, capsys):
    prefix = _proxy_or_skip()
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    result = tmp_path / "result.json"
    status = classroom_load.main(
        [
            "--students=1",
            "--moves=3",
            "--think=0",
            "--timeout=300",
            f"--proxy-prefix={prefix}",
            f"--json={result}",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    data = json.loads(result.read_text())
    (student,) = data["students"]
    assert student["failures"] == []
    assert student["cells_run"] == len(classroom_load.code_cells(classroom_load.DEFAULT_NOTEBOOK))
    assert len(student["move_ms"]) == 3
    assert student["server_ready_s"] < student["first_cell_s"]
    assert 100 < student["kernel_peak_mb"] < 2048
    assert "student01" in out and "move p95" in out
    # everything the run started is gone
    after = {p.pid for p in psutil.Process().children(recursive=True)}
    assert after <= before


def test_the_sizing_table_reads_runs_and_the_readme_shows_the_model(tmp_path):
    from tools.classroom import sizing_table

    def run(students, p95, failed=0):
        student = {"kernel_peak_mb": 800.0, "server_peak_mb": 150.0}
        summary = {"students": students, "cpus": 2, "failed": failed, "move_p95_ms": p95}
        return {"summary": summary, "students": [student] * students}

    figures = sizing_table.measured([run(5, 120.0), run(10, 290.0), run(20, 900.0)])
    assert figures == {"memory_per_student_mb": 950.0, "students_per_core_within_300ms": 5.0}
    assert sizing_table.measured([run(5, 400.0)])["students_per_core_within_300ms"] is None
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert sizing_table.markdown_table() in readme, (
        "README's sizing table differs from deploy/sizing.py's model: paste "
        "`python -m tools.classroom.sizing_table RUNS.json` into 'Running a class'"
    )
