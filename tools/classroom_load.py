"""A class on a real JupyterHub on localhost: N students at once, timed and measured.

Usage::

    make classroom-load STUDENTS=10          # or:
    .venv/bin/python tools/classroom_load.py --students 10 [--json result.json]

Starts JupyterHub (the `jupyterhub` package, configurable-http-proxy from npm installed on
first use into .venv/classroom-proxy, DummyAuthenticator, SimpleLocalProcessSpawner with one
home folder per student in a temporary folder, deploy/singleuser_start.py copying the
notebooks in), then lets N simulated students arrive --stagger seconds apart. Each one logs
in through the Hub's REST API, starts a server, opens chapter 03's notebook, runs its code
cells in a kernel over the kernel websocket and moves the init explorer's std slider --moves
times, --think seconds apart (tools/classroom/student.py). Printed per student: time to a
running server, to the first executed cell, the cells' time, explorer-move latency p50/p95
(slider message -> kernel idle, the new frame sent), the kernel's peak memory, the server's
peak memory, failures; then the class: moves pooled, memory, the machine's load.

Bounded: at most --max-students (50) students, the whole run within --timeout seconds
(default 540); localhost only (the hub binds 127.0.0.1). Everything started is stopped at
the end, also on failure, on --timeout and on Ctrl-C. Exit status 0 only if every student
finished without a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from deploy import sizing  # noqa: E402
from tools.classroom.hub import LocalHub, install_proxy  # noqa: E402
from tools.classroom.student import Student, percentile  # noqa: E402

DEFAULT_NOTEBOOK = ROOT / "notebooks" / "03_weight_initialization.ipynb"
MB = 1024 * 1024


def code_cells(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


class Sampler:
    """Peak memory of every server and kernel under the hub, and of the machine, every 0.5 s."""

    def __init__(self, hub: LocalHub, min_available_mb: float = 0):
        self.hub = hub
        self.floor_mb = min_available_mb
        self.out_of_memory = asyncio.Event()
        self.cpu_s: dict[int, tuple[str, float]] = {}  # pid -> (user, CPU seconds so far)
        self.owner: dict[int, tuple[str, str]] = {}  # pid -> (user, "server" | "kernel")
        self.peak: dict[tuple[str, str], float] = {}
        self.total_peak_mb = 0.0
        self.min_available_mb = psutil.virtual_memory().available / MB
        self.max_swap_used_mb = psutil.swap_memory().used / MB

    def _classify(self, proc: psutil.Process):
        if proc.pid not in self.owner:
            cmdline = " ".join(proc.cmdline())
            kind = (
                "kernel"
                if "ipykernel" in cmdline
                else "server"
                if "singleuser" in cmdline
                else None
            )
            user = proc.environ().get("JUPYTERHUB_USER") if kind else None
            self.owner[proc.pid] = (user, kind) if user else (None, None)
        return self.owner[proc.pid]

    def sample(self):
        total = 0.0
        for proc in self.hub.remember_processes():
            try:
                rss = proc.memory_info().rss / MB
                user, kind = self._classify(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            total += rss
            if user:
                key = (user, kind)
                self.peak[key] = max(self.peak.get(key, 0.0), rss)
                try:
                    times = proc.cpu_times()
                    self.cpu_s[proc.pid] = (user, times.user + times.system)
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    pass
        self.total_peak_mb = max(self.total_peak_mb, total)
        available = psutil.virtual_memory().available / MB
        self.min_available_mb = min(self.min_available_mb, available)
        if available < self.floor_mb:
            self.out_of_memory.set()
        self.max_swap_used_mb = max(self.max_swap_used_mb, psutil.swap_memory().used / MB)

    def cpu_seconds(self, user: str) -> float | None:
        seconds = [s for u, s in self.cpu_s.values() if u == user]
        return sum(seconds) if seconds else None

    async def run(self):
        while True:
            self.sample()
            await asyncio.sleep(0.5)


async def run_class(hub: LocalHub, args, cells: list[str]) -> tuple[list, Sampler, float]:
    from tornado.httpclient import AsyncHTTPClient

    AsyncHTTPClient.configure(None, max_clients=4 * args.students + 10)
    names = [f"student{i:02d}" for i in range(1, args.students + 1)]
    options = {
        "moves": args.moves,
        "think": args.think,
        "cell_timeout": args.cell_timeout,
        "move_timeout": 60,
        "start_timeout": args.start_timeout,
    }
    path = f"nn-course/{Path(args.notebook).name}"
    students = [Student(n, hub.url, hub.token, path, cells, options) for n in names]
    admin = Student("admin", hub.url, hub.token, path, cells, options)
    await admin.api("POST", "/hub/api/users", token=hub.token, body={"usernames": names})
    sampler = Sampler(hub, args.min_available_mb)
    sampling = asyncio.ensure_future(sampler.run())
    started = time.monotonic()

    async def arrive(i, student):
        await asyncio.sleep(i * args.stagger)
        await student.run(started)

    tasks = [asyncio.ensure_future(arrive(i, s)) for i, s in enumerate(students)]
    remaining = args.timeout - (time.monotonic() - args.t0)
    memory_watch = asyncio.ensure_future(sampler.out_of_memory.wait())
    everyone = asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.wait(
        [everyone, memory_watch], timeout=max(remaining, 1), return_when=asyncio.FIRST_COMPLETED
    )
    memory_watch.cancel()
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    await everyone
    why = (
        f"stopped: the machine's available memory fell below {args.min_available_mb} MB"
        if sampler.out_of_memory.is_set()
        else "did not finish before --timeout"
    )
    for student, task in zip(students, tasks):
        if task in pending:  # its own failure (the step it was at) follows the reason
            student.result.failures.insert(0, why)
    sampling.cancel()
    sampler.sample()
    return [s.result for s in students], sampler, time.monotonic() - started


def _fmt(value, spec=".1f"):
    return "-" if value is None else format(value, spec)


def report(results, sampler: Sampler, wall: float, args, load_before, load_after) -> dict:
    header = (
        f"{'student':<10} {'server s':>8} {'1st cell s':>10} {'cells s':>8} "
        f"{'move p50':>8} {'move p95':>8} {'kernel MB':>9} {'server MB':>9} {'CPU s':>6}  "
        "failures"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for r in results:
        server_mb = sampler.peak.get((r.name, "server"))
        sampled_kernel = sampler.peak.get((r.name, "kernel"))
        kernel_mb = r.kernel_peak_mb if r.kernel_peak_mb is not None else sampled_kernel
        cpu_s = sampler.cpu_seconds(r.name)
        print(
            f"{r.name:<10} {_fmt(r.server_ready_s):>8} {_fmt(r.first_cell_s):>10} "
            f"{_fmt(r.cells_s):>8} {_fmt(r.percentile(50), '.0f'):>8} "
            f"{_fmt(r.percentile(95), '.0f'):>8} {_fmt(kernel_mb, '.0f'):>9} "
            f"{_fmt(server_mb, '.0f'):>9} {_fmt(cpu_s, '.0f'):>6}  "
            f"{'; '.join(r.failures) or 'none'}"
        )
        rows.append(
            {
                **r.as_dict(),
                "kernel_peak_mb": kernel_mb,
                "server_peak_mb": server_mb,
                "cpu_s": cpu_s,
            }
        )
    moves = [m for r in results for m in r.move_ms]
    kernels = [row["kernel_peak_mb"] for row in rows if row["kernel_peak_mb"] is not None]
    servers = [row["server_peak_mb"] for row in rows if row["server_peak_mb"] is not None]
    failed = sum(1 for r in results if r.failures)
    summary = {
        "students": len(results),
        "failed": failed,
        "wall_s": round(wall, 1),
        "moves": len(moves),
        "move_p50_ms": percentile(moves, 50),
        "move_p95_ms": percentile(moves, 95),
        "moves_over_300ms": sum(1 for m in moves if m > 300),
        "server_ready_max_s": max((r.server_ready_s or 0 for r in results), default=None),
        "first_cell_max_s": max((r.first_cell_s or 0 for r in results), default=None),
        "kernel_peak_max_mb": max(kernels, default=None),
        "server_peak_max_mb": max(servers, default=None),
        "all_processes_peak_mb": round(sampler.total_peak_mb),
        "cpu_s_total": round(sum(row["cpu_s"] or 0 for row in rows), 1),
        "stopped_for_memory": sampler.out_of_memory.is_set(),
        "min_available_mb": round(sampler.min_available_mb),
        "max_swap_used_mb": round(sampler.max_swap_used_mb),
        "cpus": os.cpu_count(),
        "memory_total_mb": round(psutil.virtual_memory().total / MB),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "machine": platform.platform(),
        "settings": {
            "stagger_s": args.stagger,
            "moves": args.moves,
            "think_s": args.think,
            "notebook": Path(args.notebook).name,
            "thread_environment": {} if args.library_threads else sizing.THREAD_ENVIRONMENT,
        },
    }
    print("-" * len(header))
    print(
        f"{len(results)} students, {failed} failed, {wall:.0f} s; explorer moves: "
        f"{len(moves)}, p50 {_fmt(summary['move_p50_ms'], '.0f')} ms, "
        f"p95 {_fmt(summary['move_p95_ms'], '.0f')} ms, "
        f"{summary['moves_over_300ms']} over 300 ms"
    )
    print(
        f"memory: kernel peak max {_fmt(summary['kernel_peak_max_mb'], '.0f')} MB, server "
        f"peak max {_fmt(summary['server_peak_max_mb'], '.0f')} MB, hub + proxy + servers + "
        f"kernels at most {summary['all_processes_peak_mb']} MB together; the machine's "
        f"available memory fell to {summary['min_available_mb']} MB of "
        f"{summary['memory_total_mb']} MB (swap used {summary['max_swap_used_mb']} MB)"
        + (" -- the run was STOPPED there" if summary["stopped_for_memory"] else "")
    )
    print(
        f"CPU: students' servers and kernels used {summary['cpu_s_total']:.0f} CPU s in "
        f"{wall:.0f} s ({summary['cpu_s_total'] / max(wall, 1e-9):.2f} cores on average)"
    )
    threads = summary["settings"]["thread_environment"] or "library defaults"
    print(f"kernel threads: {threads}")
    print(
        f"machine: {summary['cpus']} CPUs, load average {summary['load_average_before']} "
        f"before, {summary['load_average_after']} after"
    )
    return {"summary": summary, "students": rows}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=5)
    parser.add_argument("--max-students", type=int, default=50, help="refuse more than this")
    parser.add_argument("--stagger", type=float, default=2.0, help="seconds between arrivals")
    parser.add_argument("--moves", type=int, default=20, help="explorer moves per student")
    parser.add_argument("--think", type=float, default=0.5, help="seconds between moves")
    parser.add_argument("--notebook", type=Path, default=DEFAULT_NOTEBOOK)
    parser.add_argument("--timeout", type=float, default=540, help="whole run, seconds")
    parser.add_argument("--cell-timeout", type=float, default=180)
    parser.add_argument("--start-timeout", type=int, default=300)
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--min-available-mb",
        type=float,
        default=1024,
        help="stop the run (every student fails) when the machine's available memory falls "
        "below this, before the kernel's OOM killer picks a victim",
    )
    parser.add_argument(
        "--proxy-prefix",
        type=Path,
        default=ROOT / ".venv" / "classroom-proxy",
        help="where configurable-http-proxy is installed (npm ci, first run only)",
    )
    parser.add_argument(
        "--library-threads",
        action="store_true",
        help="leave torch/BLAS threads at their defaults (one per core of the machine) instead "
        "of the deployment's THREAD_ENVIRONMENT (deploy/sizing.py)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if not 1 <= args.students <= args.max_students:
        parser.error(f"--students must be 1..{args.max_students}, got {args.students}")
    if args.timeout <= 0 or args.stagger < 0 or args.moves < 0 or args.think < 0:
        parser.error("--timeout must be > 0; --stagger, --moves and --think >= 0")
    if not args.notebook.is_file():
        parser.error(f"--notebook {args.notebook} does not exist")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    args.t0 = time.monotonic()
    proxy = install_proxy(args.proxy_prefix)
    cells = code_cells(args.notebook)
    workdir = Path(tempfile.mkdtemp(prefix="classroom-load-"))
    # SIGTERM (make interrupted, CI cancelled) unwinds like Ctrl-C: the finally stops the hub.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    threads = {} if args.library_threads else sizing.THREAD_ENVIRONMENT
    hub = LocalHub(workdir, proxy, args.notebook.parent, extra_environment=threads)
    load_before = os.getloadavg()
    try:
        with hub:
            print(f"JupyterHub {hub.url} up; {args.students} students, {args.stagger} s apart")
            results, sampler, wall = asyncio.run(run_class(hub, args, cells))
        load_after = os.getloadavg()
        data = report(results, sampler, wall, args, load_before, load_after)
        if args.json:
            args.json.write_text(json.dumps(data, indent=1), encoding="utf-8")
        return 1 if data["summary"]["failed"] else 0
    except Exception:
        print(hub.log_tail(), file=sys.stderr)
        raise
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
