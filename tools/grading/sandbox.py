"""A student's kernel in a sandbox: bubblewrap on Linux, or (said loudly) no sandbox at all.

With bubblewrap (Debian/Ubuntu: ``apt-get install bubblewrap``) the kernel sees:

- a private mount namespace holding only the operating system's libraries (``/usr``, ``/lib``,
  a few files of ``/etc``), the Python environment and the ``course_utils`` package, all
  read-only, and the submission's own work folder (a copy of that student's notebook only);
  no instructor notebook, no hidden test, no other student's file, no home folder;
- no network (its own, empty network namespace), its own process namespace (everything it
  starts dies with it), a fresh ``/tmp``;
- resource limits: address space (memory), file size, CPU time.

The kernel talks to the grader over ZeroMQ ``ipc`` sockets in the work folder, since it has no
network. Without bubblewrap the same kernel runs with the same limits, environment and work
folder, but it can read and write whatever the grader's user can: grading still works and
:func:`isolation` says that it is not isolated.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager

__all__ = [
    "Limits",
    "find_bwrap",
    "isolation",
    "SandboxedKernelManager",
    "kill_tree",
    "kill_marked",
]

# Files of /etc a Python kernel needs (dynamic loader, user names, time zone, certificates).
ETC = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "nsswitch.conf",
    "passwd",
    "group",
    "hosts",
    "alternatives",
    "ssl",
    "fonts",
    "mime.types",
)
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


@dataclass(frozen=True)
class Limits:
    """Per-kernel limits: address space (bytes), largest file written (bytes), CPU seconds."""

    memory: int = 4 * 2**30
    file_size: int = 256 * 2**20
    cpu_seconds: int = 900


def find_bwrap() -> str | None:
    """Path of a working ``bwrap``, or ``None`` (missing, or not allowed to create namespaces)."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    try:
        probe = subprocess.run(
            [
                path,
                "--ro-bind",
                "/",
                "/",
                "--unshare-all",
                "--die-with-parent",
                "--proc",
                "/proc",
                "--dev",
                "/dev",
                "true",
            ],
            capture_output=True,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return path if probe.returncode == 0 else None


def isolation(mode: str) -> tuple[str | None, str]:
    """(bwrap path or None, a sentence for the grader's log) for ``mode`` auto/bwrap/none."""
    if mode not in ("auto", "bwrap", "none"):
        raise ValueError(f"isolation must be 'auto', 'bwrap' or 'none'; got {mode!r}")
    if mode == "none":
        return None, (
            "WARNING: NOT ISOLATED (--isolation none): student code runs as "
            f"{_user()} and can read and change every file that user can."
        )
    bwrap = find_bwrap()
    if bwrap:
        return bwrap, (
            "Isolation: bubblewrap (private read-only file system, no network, own "
            "process namespace, memory/file/CPU limits)."
        )
    if mode == "bwrap":
        raise RuntimeError(
            "--isolation bwrap: bubblewrap is missing or cannot create namespaces "
            "here; install it (apt-get install bubblewrap) or use "
            "--isolation auto"
        )
    return None, (
        "WARNING: NOT ISOLATED: bubblewrap (bwrap) is not available, so student code "
        f"runs as {_user()} and can read and change every file that user can, "
        "including the instructor notebooks and other submissions. Install it "
        "(apt-get install bubblewrap) before grading a class."
    )


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return f"uid {os.getuid()}"


def _readonly_paths() -> list[Path]:
    """What the kernel must read: the system, Python (venv and base), the course package."""
    import course_utils

    paths = [Path(p) for p in SYSTEM if Path(p).exists()]
    paths += [Path("/etc") / name for name in ETC if (Path("/etc") / name).exists()]
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        paths.append(Path(prefix))
    package = Path(course_utils.__file__).resolve().parent
    paths.append(package)
    # an editable install may import through a path hook that lives beside the package
    return paths


def bwrap_command(bwrap: str, workdir: Path, cwd: Path) -> list[str]:
    # --unsetenv JPY_PARENT_PID: that pid means nothing in the sandbox (--die-with-parent does
    # the job of ipykernel's parent polling)
    command = [
        bwrap,
        "--die-with-parent",
        "--unshare-all",
        "--new-session",
        "--unsetenv",
        "JPY_PARENT_PID",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
    ]
    covered: list[Path] = []
    for path in sorted(set(_readonly_paths()), key=lambda p: (len(p.parts), str(p))):
        if any(path == c or c in path.parents for c in covered):
            continue
        if path.is_symlink():  # /bin -> usr/bin, /etc/localtime -> ...: the same link inside
            command += ["--symlink", os.readlink(path), str(path)]
        else:
            command += ["--ro-bind", str(path), str(path)]
        covered.append(path)
    command += ["--bind", str(workdir), str(workdir), "--chdir", str(cwd)]
    return command


def limit_command(limits: Limits) -> list[str]:
    """``python -c ...`` that sets the limits, then becomes the kernel (argv after it)."""
    code = (
        "import os, resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({limits.memory}, {limits.memory}))\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limits.file_size}, "
        f"{limits.file_size}))\n"
        f"resource.setrlimit(resource.RLIMIT_CPU, ({limits.cpu_seconds}, "
        f"{limits.cpu_seconds}))\n"
        "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    return [sys.executable, "-I", "-c", code]


def kernel_env(workdir: Path, token: str) -> dict:
    """The kernel's environment: nothing of the grader's (tokens, paths), one thread each."""
    home = workdir / "home"
    for sub in (home, workdir / "tmp", home / ".config" / "matplotlib"):
        sub.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.pathsep.join(
            [str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]
        ),
        "HOME": str(home),
        "TMPDIR": str(workdir / "tmp"),
        "LANG": "C.UTF-8",
        "MPLCONFIGDIR": str(home / ".config" / "matplotlib"),
        "MPLBACKEND": "Agg",
        "PYTHONNOUSERSITE": "1",
        "PYTHONHASHSEED": "0",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "JUPYTER_PLATFORM_DIRS": "1",
        "GRADING_TOKEN": token,
    }


class SandboxedKernelManager(AsyncKernelManager):
    """A python3 kernel under :class:`Limits`, wrapped in bubblewrap when ``bwrap`` is set.

    Call :meth:`configure` (the submission's work folder, shared with the sandbox, the kernel's
    folder, the limits, the ``bwrap`` path or ``None``) before starting it. Asynchronous, as
    nbclient expects: a blocking client would wait forever on a kernel that died mid-cell.
    Interrupts go as a control message (the grader cannot signal a process inside the
    sandbox's namespace), and :meth:`kill_all` ends every process the kernel started.
    """

    workdir: Path
    cwd: Path
    limits: Limits = Limits()
    bwrap: str | None = None

    def configure(self, workdir: Path, cwd: Path, limits: Limits, bwrap: str | None) -> None:
        self.workdir, self.cwd, self.limits, self.bwrap = workdir, cwd, limits, bwrap
        self.transport = "ipc"
        self.ip = str(workdir / "ipc" / "kernel")
        (workdir / "ipc").mkdir(parents=True, exist_ok=True)
        self.connection_file = str(workdir / "ipc" / "connection.json")
        self._kernel_spec = KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name="Python 3 (grading)",
            language="python",
            interrupt_mode="message",
        )

    def format_kernel_cmd(self, extra_arguments=None):
        command = limit_command(self.limits) + super().format_kernel_cmd(extra_arguments)
        if self.bwrap:
            command = bwrap_command(self.bwrap, self.workdir, self.cwd) + ["--"] + command
        return command

    @property
    def pid(self) -> int | None:
        process = getattr(self.provisioner, "process", None)
        return process.pid if process is not None else None

    def kill_all(self) -> None:
        """SIGKILL the kernel's process group and every descendant (they cannot outlive it)."""
        pid = self.pid
        if pid is not None:
            kill_tree(pid)


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid``'s process group, then any descendant that left it (``setsid``)."""
    try:
        import psutil

        try:
            descendants = psutil.Process(pid).children(recursive=True)
        except psutil.Error:
            descendants = []
    except ImportError:  # pragma: no cover - psutil is a dependency of the test tools
        descendants = []
    try:
        os.killpg(os.getpgid(pid), signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for child in [*descendants]:
        try:
            child.kill()
        except Exception:  # noqa: BLE001 - gone already
            pass
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_marked(token: str) -> int:
    """SIGKILL every process whose environment carries ``GRADING_TOKEN=token``: what a
    submission started and detached (double fork, ``setsid``) without a sandbox. Returns how
    many were found."""
    try:
        import psutil
    except ImportError:  # pragma: no cover
        return 0
    found = 0
    for process in psutil.process_iter():
        try:
            if process.pid != os.getpid() and process.environ().get("GRADING_TOKEN") == token:
                process.kill()
                found += 1
        except psutil.Error:
            continue
    return found
