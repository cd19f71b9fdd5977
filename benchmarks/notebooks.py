"""Time and memory of every notebook, each run top to bottom in a fresh kernel.

Usage::

    .venv/bin/python benchmarks/notebooks.py [NB ...] [--repeat N]

(``make bench`` runs it on notebooks/*.ipynb.) Without NB arguments it takes
notebooks/*.ipynb. Each notebook is executed ``--repeat`` times (default 3), every time in
a new kernel started from the interpreter running this script (the venv's Python, so the
kernel sees exactly the pinned packages, as ``pytest --nbval-current-env`` does), with the
notebook's folder as working directory. Notebooks are read, executed in memory and
discarded: nothing is ever written back to them.

Measured per run:

* wall seconds: from asking for the kernel to the last cell finished (kernel start-up
  included, as a student's "Restart and run all" pays it too);
* peak memory: the highest resident set size (RSS) of the kernel process plus all of its
  child processes, sampled by a thread every 20 ms with psutil. On Linux the kernel's own
  high-water mark (VmHWM in /proc/<pid>/status) is also read just before shutdown and the
  larger of the two is kept, so a spike between two samples is not missed. MB = 10**6 bytes.

The table shows, per notebook, the median seconds, the median and maximum peak MB, and
PASS/FAIL against the targets (median seconds <= 6 and max peak MB <= 700; a notebook
that raises an error FAILs). The exit status is 1 when any notebook fails, else 0.
``--json FILE`` also writes every individual run.

How fast the machine itself was during the runs is printed below the table: a fixed
single-threaded reference workload (pure Python and NumPy, :func:`reference_seconds`) is
timed before each notebook and after the last, and on Linux the share of CPU time stolen
by the hypervisor is read from /proc/stat. The same code takes 20-30% longer on a busy
shared machine; a reference time well above the machine's quiet value (0.12 s on the
2-core machine of ``benchmarks/RECORD.md``) says the notebook times are inflated too. The
converse does not hold: imports slowed by a cold page cache leave the reference unchanged.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import psutil
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 6.0  # issue 20 (was 10)
TARGET_COURSE_SECONDS = 60.0  # the ten notebooks together
TARGET_MB = 700.0
POLL_SECONDS = 0.020
MB = 1e6
CURRENT_ENV_KERNEL = "course-bench-current-env"


def _reference_workload() -> None:
    d: dict = {}
    for i in range(600_000):  # pure Python: what imports, plotting and training loops do
        d[i % 1000] = d.get(i % 1000, 0) + i
    import numpy as np

    a = np.random.default_rng(0).standard_normal(1_000_000, dtype=np.float32)
    for _ in range(10):  # NumPy on one thread: what the experiments do
        a = np.sort(a)[::-1].copy()


def reference_seconds(repeat: int = 5) -> float:
    """Median seconds of a fixed single-threaded workload: this machine's speed right now.

    It does not change with the course's code, so it tells a slow machine from slow
    notebooks (about 0.12 s on a quiet machine of ``benchmarks/RECORD.md``).
    """
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        _reference_workload()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cpu_times() -> tuple[int, int] | None:
    """(stolen, total) CPU jiffies since boot from /proc/stat; ``None`` where there is none."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal (guest time is counted in user)
    return (fields[7], sum(fields[:8])) if len(fields) >= 8 else None


def steal_share(before, after) -> float | None:
    """The share of CPU time the hypervisor took between two :func:`cpu_times` readings."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def format_machine(references: list[float], steal: float | None) -> str:
    """One line on the machine's speed during the runs (see the module's docstring)."""
    text = (
        f"machine during the runs: reference workload median {statistics.median(references):.3f} s "
        f"({min(references):.3f} to {max(references):.3f}, {len(references)} "
        f"check{'' if len(references) == 1 else 's'})"
    )
    return text + ("" if steal is None else f"; CPU time stolen by the hypervisor {steal:.1%}")


class CurrentEnvKernelSpecManager(KernelSpecManager):
    """Resolves CURRENT_ENV_KERNEL to an IPython kernel run by this very interpreter."""

    def get_kernel_spec(self, kernel_name):
        if kernel_name == CURRENT_ENV_KERNEL:
            import ipykernel.kernelspec

            spec = ipykernel.kernelspec.get_kernel_dict()  # argv[0] is sys.executable
            return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES, **spec)
        return super().get_kernel_spec(kernel_name)


class PeakRSS:
    """Samples the summed RSS of a process tree in a background thread."""

    def __init__(self, pid: int, interval: float = POLL_SECONDS):
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        total = 0
        try:
            procs = [self.proc, *self.proc.children(recursive=True)]
        except psutil.Error:
            return
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:  # a child that just exited
                pass
        self.peak = max(self.peak, total)

    def high_water_mark(self) -> int:
        """The kernel process's own peak RSS as the Linux kernel recorded it (0 elsewhere)."""
        try:
            with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakRSS":
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
        self.peak = max(self.peak, self.high_water_mark())


@dataclass
class Run:
    seconds: float
    peak_mb: float
    error: str | None = None


@dataclass
class Result:
    notebook: str
    runs: list[Run] = field(default_factory=list)

    @property
    def ok_runs(self) -> list[Run]:
        return [r for r in self.runs if r.error is None]

    @property
    def median_seconds(self) -> float:
        return statistics.median(r.seconds for r in self.ok_runs) if self.ok_runs else float("nan")

    @property
    def median_mb(self) -> float:
        return statistics.median(r.peak_mb for r in self.ok_runs) if self.ok_runs else float("nan")

    @property
    def max_mb(self) -> float:
        return max((r.peak_mb for r in self.runs), default=float("nan"))

    @property
    def passed(self) -> bool:
        return (
            bool(self.runs)
            and len(self.ok_runs) == len(self.runs)
            and self.median_seconds <= TARGET_SECONDS
            and self.max_mb <= TARGET_MB
        )


async def run_once(path: Path, timeout: float) -> Run:
    nb = nbformat.read(path, as_version=4)  # a fresh copy each run; never written back
    km = AsyncKernelManager(
        kernel_name=CURRENT_ENV_KERNEL, kernel_spec_manager=CurrentEnvKernelSpecManager()
    )
    client = NotebookClient(nb, km=km, timeout=timeout, kernel_name=CURRENT_ENV_KERNEL)
    start = time.perf_counter()
    # no IPython history database: the run leaves nothing behind
    await km.start_kernel(
        cwd=str(path.parent), extra_arguments=["--HistoryManager.hist_file=:memory:"]
    )
    error = None
    monitor = PeakRSS(km.provisioner.process.pid)
    try:
        with monitor:
            try:
                await client.async_execute()
            except Exception as exc:  # CellExecutionError, timeouts, dead kernel
                if getattr(exc, "ename", None):  # CellExecutionError: the cell's exception
                    error = f"{exc.ename}: {exc.evalue}"
                else:
                    first = str(exc).strip().splitlines()
                    error = f"{type(exc).__name__}: {first[0] if first else ''}"
            seconds = time.perf_counter() - start
    finally:
        if client.kc is not None:
            client.kc.stop_channels()
        await km.shutdown_kernel(now=True)
    return Run(seconds=seconds, peak_mb=monitor.peak / MB, error=error)


def format_table(results: list[Result], repeat: int) -> str:
    header = f"{'notebook':<40} {'runs':>4} {'median s':>9} {'median MB':>10} {'max MB':>8}  result"
    lines = [
        f"targets: median <= {TARGET_SECONDS:g} s, peak <= {TARGET_MB:g} MB "
        f"(kernel + children RSS, MB = 10^6 B); {repeat} run(s) each, fresh kernel per run",
        header,
        "-" * len(header),
    ]
    for r in results:
        status = "PASS" if r.passed else "FAIL"
        reasons = []
        if len(r.ok_runs) < len(r.runs):
            reasons.append(f"{len(r.runs) - len(r.ok_runs)} run(s) raised")
        if r.ok_runs and r.median_seconds > TARGET_SECONDS:
            reasons.append("too slow")
        if r.max_mb > TARGET_MB:
            reasons.append("too much memory")
        lines.append(
            f"{r.notebook:<40} {len(r.runs):>4} {r.median_seconds:>9.2f} {r.median_mb:>10.0f} "
            f"{r.max_mb:>8.0f}  {status}" + (f" ({', '.join(reasons)})" if reasons else "")
        )
        for run in r.runs:
            if run.error:
                lines.append(f"    error: {run.error}")
    total = sum(r.median_seconds for r in results)
    lines.append(
        f"{'all ' + str(len(results)) + ' together':<40} {'':>4} {total:>9.2f}"
        + (f"  (course target <= {TARGET_COURSE_SECONDS:g} s)" if len(results) >= 10 else "")
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--repeat", type=int, default=3, help="runs per notebook (default 3)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per cell (600)")
    parser.add_argument("--json", type=Path, help="also write every run to this JSON file")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not paths:
        print("no notebooks to benchmark", file=sys.stderr)
        return 1
    missing = [p for p in paths if not p.is_file()]
    if missing:
        parser.error(f"not found: {', '.join(map(str, missing))}")

    results, references, start_times = [], [], cpu_times()
    for path in paths:
        references.append(reference_seconds())
        result = Result(notebook=path.name)
        for i in range(args.repeat):
            run = asyncio.run(run_once(path.resolve(), args.timeout))
            result.runs.append(run)
            note = f" ERROR {run.error}" if run.error else ""
            print(
                f"  {path.name} run {i + 1}/{args.repeat}: {run.seconds:.2f} s, "
                f"{run.peak_mb:.0f} MB{note}",
                file=sys.stderr,
                flush=True,
            )
        results.append(result)

    references.append(reference_seconds())
    steal = steal_share(start_times, cpu_times())
    print(format_table(results, args.repeat))
    print(format_machine(references, steal))
    if args.json:

        def num(x: float) -> float | None:
            return None if x != x else round(x, 3)  # NaN (no successful run) -> null

        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "targets": {"seconds": TARGET_SECONDS, "peak_mb": TARGET_MB},
            "python": sys.executable,
            "machine": {"reference_seconds": [round(x, 4) for x in references], "steal": steal},
            "results": [
                {
                    "notebook": r.notebook,
                    "runs": [asdict(run) for run in r.runs],
                    "median_seconds": num(r.median_seconds),
                    "median_peak_mb": num(r.median_mb),
                    "max_peak_mb": num(r.max_mb),
                    "passed": r.passed,
                }
                for r in results
            ],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
