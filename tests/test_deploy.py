"""deploy/: the single-node JupyterHub config, the Zero to JupyterHub values and their limits.

Nothing here starts a hub (tests/test_classroom_load.py does, marked slow). What this machine
can check without a cluster: the single-node config loads the way JupyterHub loads it, every
option it sets exists on its class, and its limits, culling and nbgrader settings are
deploy/sizing.py's; deploy/z2jh/values.yaml validates against the chart's own values schema
(deploy/z2jh/chart-4.4.0/, vendored: the chart validates values against it before
rendering) merged over the chart's defaults, as Helm does, and carries the same limits.

The hub's packages (jupyterhub, jupyterhub-idle-culler, jupyterhub-systemdspawner) are pinned
in requirements-dev.txt; a venv without them (make test-oldest) skips the tests needing them.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "z2jh" / "chart-4.4.0"


def _module(path: Path):
    spec = importlib.util.spec_from_file_location(f"deploy_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sizing = _module(DEPLOY / "sizing.py")
singleuser_start = _module(DEPLOY / "singleuser_start.py")


def _load_config(path: Path) -> Config:
    """Load a config file as JupyterHub / Jupyter do (get_config(), __file__ set)."""
    loader = PyFileConfigLoader(path.name, path=str(path.parent))
    return loader.load_config()


@pytest.fixture(scope="module")
def hub_config() -> Config:
    return _load_config(DEPLOY / "jupyterhub_config.py")


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load((DEPLOY / "z2jh" / "values.yaml").read_text(encoding="utf-8"))


def _merged(defaults: dict, override: dict) -> dict:
    """Helm's merge of user values over the chart's: maps merge, anything else replaces."""
    out = copy.deepcopy(defaults)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def _schema_errors(values: dict) -> list[str]:
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    defaults = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'.'.join(map(str, e.path))}: {e.message}"
        for e in validator.iter_errors(_merged(defaults, values))
    ]


# --- the single-node config ------------------------------------------------------------------


def test_single_node_config_uses_a_spawner_that_enforces_the_limits(hub_config):
    assert hub_config.JupyterHub.spawner_class == "systemdspawner.SystemdSpawner"
    spawner = hub_config.SystemdSpawner
    assert spawner.mem_limit == sizing.MEMORY_LIMIT
    assert spawner.cpu_limit == sizing.CPU_LIMIT
    assert spawner.dynamic_users is True
    # named as on the hub, so nbgrader files a submission under the student's hub name
    assert spawner.unit_extra_properties["User"] == "{USERNAME}"
    assert sizing.EXCHANGE_ROOT in spawner.readwrite_paths
    assert hub_config.Spawner.start_timeout == sizing.START_TIMEOUT_S
    assert (
        f"--MappingKernelManager.cull_idle_timeout={sizing.KERNEL_CULL_IDLE_S}"
        in hub_config.Spawner.args
    )
    assert hub_config.Spawner.cmd[-1].endswith("deploy/singleuser_start.py")
    environment = hub_config.Spawner.environment
    assert {k: environment[k] for k in sizing.THREAD_ENVIRONMENT} == sizing.THREAD_ENVIRONMENT


def test_single_node_config_limits_are_valid_byte_sizes():
    ByteSpecification = pytest.importorskip("jupyterhub.traitlets").ByteSpecification

    for size in (sizing.MEMORY_LIMIT, sizing.MEMORY_GUARANTEE):
        assert ByteSpecification().validate(None, size) == sizing.bytes_of(size)
    assert sizing.bytes_of(sizing.MEMORY_GUARANTEE) < sizing.bytes_of(sizing.MEMORY_LIMIT)
    assert 0 < sizing.CPU_GUARANTEE <= sizing.CPU_LIMIT


def test_single_node_config_never_uses_the_dummy_authenticator(hub_config):
    authenticator = hub_config.JupyterHub.authenticator_class
    assert "dummy" not in str(authenticator).lower()
    assert hub_config.Authenticator.allow_all is False


def test_single_node_config_runs_the_idle_culler_with_the_sizing(hub_config):
    IdleCuller = pytest.importorskip("jupyterhub_idle_culler").IdleCuller

    (service,) = [s for s in hub_config.JupyterHub.services if "idle-culler" in s["name"]]
    assert service["command"][1:3] == ["-m", "jupyterhub_idle_culler"]
    culler = IdleCuller()
    culler.parse_command_line(service["command"][3:])  # unknown flags fail here
    assert culler.timeout == sizing.CULL_TIMEOUT_S
    assert culler.cull_every == sizing.CULL_EVERY_S
    assert culler.concurrency == sizing.CULL_CONCURRENCY
    (role,) = [r for r in hub_config.JupyterHub.load_roles if service["name"] in r["services"]]
    assert {"list:users", "read:users:activity", "read:servers", "delete:servers"} <= set(
        role["scopes"]
    )


# Classes whose options the config sets, importable here (oauthenticator is the admin's choice
# of login and is not installed in the course's environment).
CLASSES = {
    "JupyterHub": "jupyterhub.app:JupyterHub",
    "Spawner": "jupyterhub.spawner:Spawner",
    "SystemdSpawner": "systemdspawner:SystemdSpawner",
    "Authenticator": "jupyterhub.auth:Authenticator",
    "ConfigurableHTTPProxy": "jupyterhub.proxy:ConfigurableHTTPProxy",
}


def test_every_option_the_single_node_config_sets_exists(hub_config):
    unknown = []
    for section, options in hub_config.items():
        if section not in CLASSES:
            assert section == "GenericOAuthenticator", f"untested config section {section}"
            continue
        module, name = CLASSES[section].split(":")
        traits = getattr(pytest.importorskip(module), name).class_traits(config=True)
        unknown += [f"{section}.{key}" for key in options if key not in traits]
    assert not unknown, f"options that do not exist (typos?): {unknown}"


def test_nbgrader_config_is_the_sizing_one():
    config = _load_config(DEPLOY / "nbgrader_config.py")
    assert config.CourseDirectory.course_id == sizing.COURSE_ID
    assert config.Exchange.root == sizing.EXCHANGE_ROOT


# --- the Zero to JupyterHub values -------------------------------------------------------------


def test_values_validate_against_the_chart_schema(values):
    assert _schema_errors(values) == []


def test_the_chart_schema_catches_a_misspelt_key(values):
    """The vendored schema is strict where our keys are: a typo would not pass silently."""
    for path in (("singleuser", "memory"), ("singleuser", "cpu"), ("cull",), ("singleuser",)):
        wrong = copy.deepcopy(values)
        node = wrong
        for key in path:
            node = node[key]
        node["limitt"] = "2G"
        assert _schema_errors(wrong), f"a misspelt key under {'.'.join(path)} passed the schema"


def test_values_limits_and_culling_are_the_sizing_ones(values):
    user = values["singleuser"]
    assert str(user["memory"]["limit"]) == sizing.MEMORY_LIMIT
    assert str(user["memory"]["guarantee"]) == sizing.MEMORY_GUARANTEE
    assert float(user["cpu"]["limit"]) == sizing.CPU_LIMIT
    assert float(user["cpu"]["guarantee"]) == sizing.CPU_GUARANTEE
    assert user["startTimeout"] == sizing.START_TIMEOUT_S
    cull = values["cull"]
    assert cull["enabled"] is True
    assert (cull["timeout"], cull["every"], cull["concurrency"]) == (
        sizing.CULL_TIMEOUT_S,
        sizing.CULL_EVERY_S,
        sizing.CULL_CONCURRENCY,
    )
    threads = {k: user["extraEnv"].get(k) for k in sizing.THREAD_ENVIRONMENT}
    assert threads == sizing.THREAD_ENVIRONMENT
    kernels = user["extraFiles"]["kernel-culling"]["data"]["MappingKernelManager"]
    assert kernels["cull_idle_timeout"] == sizing.KERNEL_CULL_IDLE_S


def test_values_share_the_nbgrader_exchange_and_its_config(values, tmp_path):
    user = values["singleuser"]
    (mount,) = user["storage"]["extraVolumeMounts"]
    assert mount["mountPath"] == sizing.EXCHANGE_ROOT
    (volume,) = user["storage"]["extraVolumes"]
    assert volume["name"] == mount["name"]
    claim = yaml.safe_load((DEPLOY / "z2jh" / "nbgrader-exchange-pvc.yaml").read_text())
    assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    files = user["extraFiles"]["nbgrader-config"]
    assert files["mountPath"] == "/etc/jupyter/nbgrader_config.py"
    (tmp_path / "nbgrader_config.py").write_text(files["stringData"], encoding="utf-8")
    config = _load_config(tmp_path / "nbgrader_config.py")
    assert config.CourseDirectory.course_id == sizing.COURSE_ID
    assert config.Exchange.root == sizing.EXCHANGE_ROOT


def test_values_image_and_start_script_match_the_single_node(values, hub_config):
    user = values["singleuser"]
    assert user["cmd"][-1] == "/srv/course/deploy/singleuser_start.py"
    assert user["extraEnv"]["COURSE_NOTEBOOKS"] == "/srv/course/notebooks"
    assert user["defaultUrl"] == hub_config.Spawner.default_url
    assert "dummy" not in values["hub"]["config"]["JupyterHub"]["authenticator_class"]
    text = (DEPLOY / "z2jh" / "values.yaml").read_text(encoding="utf-8")
    assert "--target-repo-dir /srv/course" in text, "the image is built by repo2docker"


# --- the start script and the sizing model ----------------------------------------------------


def test_notebooks_are_copied_once_and_never_overwritten(tmp_path):
    source = tmp_path / "notebooks"
    source.mkdir()
    (source / "01.ipynb").write_text("{}")
    (source / "02.ipynb").write_text("{}")
    home = tmp_path / "home"
    copied = singleuser_start.copy_course_notebooks(source, home)
    assert [p.name for p in copied] == ["01.ipynb", "02.ipynb"]
    (home / "nn-course" / "01.ipynb").write_text("the student's work")
    (source / "03.ipynb").write_text("{}")  # added during the term
    copied = singleuser_start.copy_course_notebooks(source, home)
    assert [p.name for p in copied] == ["03.ipynb"]
    assert (home / "nn-course" / "01.ipynb").read_text() == "the student's work"


@pytest.mark.parametrize("folder", ["", "/abs", "../out", "a/../../b"])
def test_start_script_refuses_a_folder_outside_the_home(tmp_path, folder):
    with pytest.raises(ValueError, match="folder"):
        singleuser_start.copy_course_notebooks(tmp_path, tmp_path / "home", folder)


def test_students_per_node_is_the_smaller_bound():
    small = sizing.students_per_node(4, 16)
    assert small["students"] == min(small["memory"], small["cpu"])
    big = sizing.students_per_node(64, 256)
    assert big["students"] > small["students"]
    with pytest.raises(ValueError, match="cores"):
        sizing.students_per_node(0.5, 16)
    with pytest.raises(ValueError, match="size"):
        sizing.bytes_of("2GB")
