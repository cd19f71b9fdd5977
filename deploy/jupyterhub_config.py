"""JupyterHub for a class of this course on ONE machine (see README, "Running a class").

    jupyterhub -f deploy/jupyterhub_config.py        # as root, from /srv/jupyterhub

What it sets up, and why:

- **Spawner: SystemdSpawner** (`jupyterhub-systemdspawner`). Each student's server runs in
  a transient systemd unit whose cgroup enforces the limits of deploy/sizing.py:
  MemoryMax (the kernel is OOM-killed at 2 GB, not the machine) and CPUQuota (one core at
  most). JupyterHub's default LocalProcessSpawner ignores mem_limit and cpu_limit entirely
  (the load test uses it for that reason: it runs anywhere), and DockerSpawner would enforce
  them too but needs a container runtime and an image on a machine that already has the
  course environment. `dynamic_users` makes systemd allocate a Unix user per student
  (named as on the hub, so nbgrader files submissions under that name) with a persistent
  home in /var/lib/<name>: no accounts to create for 300 students.
- **The course environment** is the single-user server: a venv at $COURSE_ENV with
  `pip install -r requirements.txt && pip install --no-deps .` (the tested pins).
- **Notebooks in each home on first start**: deploy/singleuser_start.py copies notebooks/
  into ~/nn-course/ before starting the server, never overwriting a student's copy.
- **Idle culling**: the `jupyterhub-idle-culler` service stops servers idle for
  CULL_TIMEOUT_S; inside a server, idle kernels are shut down after KERNEL_CULL_IDLE_S.
- **Authentication**: the university's single sign-on through OpenID Connect
  (oauthenticator's GenericOAuthenticator; `pip install oauthenticator`), configured from
  the environment below, and a roster of allowed students. (`make classroom-load` uses
  DummyAuthenticator, which accepts any password: never on a real hub.)
- **nbgrader**: deploy/nbgrader_config.py goes to /etc/jupyter/ (shared exchange, course id).
"""

import importlib.util
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 -- provided by JupyterHub's config loader

HERE = Path(__file__).resolve().parent


def _load(name):
    spec = importlib.util.spec_from_file_location(f"course_deploy_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sizing = _load("sizing")

COURSE_ENV = Path(os.environ.get("COURSE_ENV", "/opt/nn-course/venv"))
COURSE_NOTEBOOKS = os.environ.get("COURSE_NOTEBOOKS", str(HERE.parent / "notebooks"))
STATE_DIR = Path(os.environ.get("HUB_STATE_DIR", "/srv/jupyterhub"))

# --- the hub ---------------------------------------------------------------------------------
# Behind a TLS-terminating reverse proxy (nginx, Caddy) on the same machine; or set
# c.JupyterHub.ssl_cert / ssl_key and bind to https://:443.
c.JupyterHub.bind_url = os.environ.get("HUB_BIND_URL", "http://127.0.0.1:8000")
c.JupyterHub.db_url = f"sqlite:///{STATE_DIR / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE_DIR / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(STATE_DIR / "jupyterhub-proxy.pid")

# --- who may log in --------------------------------------------------------------------------
c.JupyterHub.authenticator_class = "generic-oauth"
c.GenericOAuthenticator.client_id = os.environ.get("OAUTH_CLIENT_ID", "")
c.GenericOAuthenticator.client_secret = os.environ.get("OAUTH_CLIENT_SECRET", "")
c.GenericOAuthenticator.oauth_callback_url = os.environ.get("OAUTH_CALLBACK_URL", "")
c.GenericOAuthenticator.authorize_url = os.environ.get("OAUTH_AUTHORIZE_URL", "")
c.GenericOAuthenticator.token_url = os.environ.get("OAUTH_TOKEN_URL", "")
c.GenericOAuthenticator.userdata_url = os.environ.get("OAUTH_USERDATA_URL", "")
c.GenericOAuthenticator.username_claim = os.environ.get(
    "OAUTH_USERNAME_CLAIM", "preferred_username"
)
c.GenericOAuthenticator.scope = ["openid", "profile"]


def _names(variable):
    """One user name a line in the file named by an environment variable (none if unset)."""
    path = os.environ.get(variable)
    if not path:
        return set()
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


c.Authenticator.allowed_users = _names("COURSE_ROSTER")  # the class list
c.Authenticator.admin_users = _names("COURSE_INSTRUCTORS")
c.Authenticator.allow_all = False

# --- each student's server -------------------------------------------------------------------
c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
c.SystemdSpawner.dynamic_users = True
# A dynamic user is named after its unit unless told: name it as the hub does.
c.SystemdSpawner.unit_extra_properties = {
    "User": "{USERNAME}",
    "MemorySwapMax": "0",  # at the limit, OOM-kill this student's kernel; never swap the node
    "TasksMax": "512",
}
c.SystemdSpawner.mem_limit = sizing.MEMORY_LIMIT
c.SystemdSpawner.cpu_limit = sizing.CPU_LIMIT
c.SystemdSpawner.isolate_tmp = True
c.SystemdSpawner.isolate_devices = True
c.SystemdSpawner.disable_user_sudo = True
# DynamicUser implies a read-only file system outside the home: nbgrader's exchange is the
# one shared folder a student writes to.
c.SystemdSpawner.readwrite_paths = [sizing.EXCHANGE_ROOT]
c.SystemdSpawner.extra_paths = [str(COURSE_ENV / "bin")]

c.Spawner.cmd = [str(COURSE_ENV / "bin" / "python"), str(HERE / "singleuser_start.py")]
c.Spawner.environment = {
    "COURSE_NOTEBOOKS": COURSE_NOTEBOOKS,
    "COURSE_FOLDER": "nn-course",
    **sizing.THREAD_ENVIRONMENT,
}
c.Spawner.default_url = "/lab/tree/nn-course"
c.Spawner.start_timeout = sizing.START_TIMEOUT_S
c.Spawner.http_timeout = 120
c.Spawner.args = [
    f"--MappingKernelManager.cull_idle_timeout={sizing.KERNEL_CULL_IDLE_S}",
    "--MappingKernelManager.cull_interval=300",
]

# --- idle culling ----------------------------------------------------------------------------
c.JupyterHub.load_roles = [
    {
        "name": "jupyterhub-idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["jupyterhub-idle-culler"],
    }
]
c.JupyterHub.services = [
    {
        "name": "jupyterhub-idle-culler",
        "command": [
            sys.executable,
            "-m",
            "jupyterhub_idle_culler",
            f"--timeout={sizing.CULL_TIMEOUT_S}",
            f"--cull-every={sizing.CULL_EVERY_S}",
            f"--concurrency={sizing.CULL_CONCURRENCY}",
        ],
    }
]
