"""A real JupyterHub on localhost for the load test: installed, started, and always stopped.

`install_proxy` puts configurable-http-proxy (npm, the version and its dependencies pinned by
tools/classroom/package-lock.json) into a cache folder with `npm ci`, once. `LocalHub` writes a
JupyterHub config into a temporary folder (DummyAuthenticator, SimpleLocalProcessSpawner with
one home folder per student under that folder, deploy/singleuser_start.py as the server
command, a service token with admin rights for the simulated students' logins), starts
`jupyterhub` in a session of its own, and on exit stops it: SIGTERM (the hub stops the
servers it spawned), then SIGKILL to every process it ever saw under the hub (the servers
run in sessions of their own) and to the hub's process group.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PROXY_BIN = Path("node_modules") / ".bin" / "configurable-http-proxy"


def proxy_version() -> str:
    package = json.loads((HERE / "package.json").read_text(encoding="utf-8"))
    return package["dependencies"]["configurable-http-proxy"]


def install_proxy(prefix: Path, log=print) -> Path:
    """configurable-http-proxy at the pinned version in `prefix` (npm ci once); its path."""
    prefix = Path(prefix).resolve()  # the hub runs in another folder
    executable = prefix / PROXY_BIN
    stamp = prefix / "installed-version"
    lock = hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()[:16]
    wanted = f"{proxy_version()} {lock}"
    if executable.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return executable
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is missing: install Node.js 20+ (it provides npm)")
    prefix.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(HERE / name, prefix / name)
    log(f"installing configurable-http-proxy {proxy_version()} into {prefix} (npm ci)")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(prefix)],
        check=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    stamp.write_text(wanted + "\n")
    return executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CONFIG = """\
# Written by tools/classroom/hub.py for make classroom-load: never a real hub's config.
import sys
c = get_config()  # noqa: F821
c.JupyterHub.bind_url = {bind_url!r}
c.JupyterHub.hub_bind_url = {hub_url!r}
c.ConfigurableHTTPProxy.api_url = {proxy_api!r}
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.pid_file = {pid_file!r}
c.JupyterHub.db_url = {db_url!r}
c.JupyterHub.cookie_secret_file = {cookie!r}
c.JupyterHub.cleanup_servers = True
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {homes!r} + "/{{username}}"
c.Spawner.cmd = [sys.executable, {start!r}]
c.Spawner.args = {args!r}
c.Spawner.environment = {environment!r}
c.Spawner.default_url = "/lab/tree/nn-course"
c.Spawner.start_timeout = {start_timeout}
c.Spawner.http_timeout = {start_timeout}
c.JupyterHub.services = [{{"name": "classroom-load", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [
    {{
        "name": "classroom-load",
        "scopes": ["admin:users", "admin:servers", "tokens"],
        "services": ["classroom-load"],
    }}
]
"""

# make lab's student environment: nbgrader's server extensions off (the venv may hold them).
STUDENT_SERVER_CONFIG = {
    "ServerApp": {
        "jpserver_extensions": {
            f"nbgrader.server_extensions.{name}": False
            for name in ("formgrader", "validate_assignment", "assignment_list", "course_list")
        }
    }
}


class LocalHub:
    """`with LocalHub(workdir, proxy) as hub:` a hub at hub.url with an admin hub.token."""

    def __init__(
        self,
        workdir: Path,
        proxy: Path,
        notebooks: Path,
        start_timeout: int = 300,
        extra_environment: dict | None = None,
    ):
        self.extra_environment = dict(extra_environment or {})
        self.workdir = Path(workdir)
        self.proxy = Path(proxy).resolve()
        self.notebooks = Path(notebooks)
        self.start_timeout = start_timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(32)
        self.process: subprocess.Popen | None = None
        self.seen: dict[int, psutil.Process] = {}  # every process ever seen under the hub

    # --- start ---------------------------------------------------------------------------------

    def _write_config(self) -> Path:
        homes = self.workdir / "homes"
        homes.mkdir(parents=True, exist_ok=True)
        student_config = self.workdir / "student-jupyter-config"
        student_config.mkdir(exist_ok=True)
        (student_config / "jupyter_server_config.json").write_text(
            json.dumps(STUDENT_SERVER_CONFIG), encoding="utf-8"
        )
        venv_bin = str(Path(sys.executable).parent)
        environment = {
            "COURSE_NOTEBOOKS": str(self.notebooks),
            "COURSE_FOLDER": "nn-course",
            # the course_utils of this checkout (an editable install points elsewhere in a
            # worktree), and the environment's executables first, as make lab has them
            "PYTHONPATH": str(ROOT),
            "PATH": f"{venv_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "JUPYTER_CONFIG_DIR": str(student_config),
            **self.extra_environment,
        }
        args = ["--allow-root"] if os.geteuid() == 0 else []
        text = CONFIG.format(
            bind_url=self.url,
            hub_url=f"http://127.0.0.1:{free_port()}",
            proxy_api=f"http://127.0.0.1:{free_port()}",
            proxy=str(self.proxy),
            pid_file=str(self.workdir / "proxy.pid"),
            db_url=f"sqlite:///{self.workdir / 'jupyterhub.sqlite'}",
            cookie=str(self.workdir / "cookie_secret"),
            homes=str(homes),
            start=str(ROOT / "deploy" / "singleuser_start.py"),
            args=args,
            environment=environment,
            start_timeout=self.start_timeout,
            token=self.token,
        )
        path = self.workdir / "jupyterhub_config.py"
        path.write_text(text, encoding="utf-8")
        return path

    def start(self, timeout: float = 120) -> None:
        config = self._write_config()
        log = open(self.workdir / "jupyterhub.log", "wb")  # noqa: SIM115 -- closed in stop()
        self._log = log
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(config)],
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: stop() signals all of it
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.remember_processes()
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyterhub exited at start:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/hub/api/", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"jupyterhub did not answer in {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        path = self.workdir / "jupyterhub.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # --- processes -------------------------------------------------------------------------------

    def remember_processes(self) -> list[psutil.Process]:
        """The hub's live descendants (proxy, servers, kernels), remembered for stop()."""
        if self.process is None:
            return []
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        for child in children:
            self.seen.setdefault(child.pid, child)
        return children

    def stop(self, grace: float = 20) -> list[int]:
        """Stop everything the hub started; returns the pids that had to be killed."""
        killed = []
        if self.process is not None:
            self.remember_processes()
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(grace)
                except subprocess.TimeoutExpired:
                    pass
            for pid, proc in self.seen.items():
                try:
                    if proc.is_running():  # same pid and start time: not a recycled pid
                        proc.kill()
                        killed.append(pid)
                except psutil.NoSuchProcess:
                    pass
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(10)
            self.process = None
        if getattr(self, "_log", None):
            self._log.close()
        return killed

    def __enter__(self) -> LocalHub:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
