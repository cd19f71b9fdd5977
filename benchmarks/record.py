"""The benchmark record: every speed the course promises, measured in one go, in one file.

Usage::

    .venv/bin/python benchmarks/record.py [--repeat 3] [--output benchmarks/RECORD.md]
                                          [--skip-suite] [--skip-browser]

(``make bench`` runs it.) It runs, one after the other (so they do not slow each other down):

1. ``benchmarks/notebooks.py``: every notebook in a fresh kernel, ``--repeat`` times; the
   median seconds and peak MB per notebook, and the course's total (targets: 6 s per
   notebook, 60 s for the course, 700 MB);
2. ``benchmarks/widget_latency.py``: every explorer in the kernel (its table, verbatim);
3. the browser test's explorer rows (``tests/browser``, headless Chromium): input -> new pixels,
   p50 per control (targets: 150 ms continuous, 300 ms any), when ``/usr/bin/chromium`` and
   playwright are there;
4. the test suite: ``make test-fast`` and ``make test-core`` (``make test`` without its browser
   tests, which step 3 times) end to end (targets 2 and 8 minutes on 2 cores), with pytest's
   summary line.

and writes them as one Markdown file (default ``benchmarks/RECORD.md``, which the README links)
headed by the machine it ran on (CPU model, cores, memory, the CPU kernels torch and numpy
chose), the date and the commit, so the next change can be compared with this one. A step that
fails is recorded as failed, and the exit status is 1; the others still run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_SECONDS, COURSE_SECONDS, NOTEBOOK_MB = 6.0, 60.0, 700.0
SUITE_MINUTES = {"test-fast": 2.0, "test-core": 8.0}


def _run(command, env=None, timeout=None) -> tuple[int, str, float]:
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        code, out = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as error:
        code, out = -1, f"timed out after {timeout} s\n{error.stdout or ''}"
    return code, out, time.perf_counter() - start


def machine() -> list[str]:
    """What the numbers were measured on."""
    import numpy as np
    import psutil
    import torch

    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    commit = _run(["git", "rev-parse", "--short", "HEAD"])[1].strip() or "unknown"
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"])[1].strip()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return [
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; commit "
        f"{commit}{' (with uncommitted changes)' if dirty else ''}",
        f"- CPU: {model}; {cores} cores available; "
        f"{psutil.virtual_memory().total / 1e9:.0f} GB memory; load average at start {load}",
        f"- {platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"torch {torch.__version__} (CPU kernels: {torch.backends.cpu.get_cpu_capability()}), "
        f"numpy {np.__version__}",
    ]


def notebooks(repeat: int) -> tuple[bool, list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        out_json = Path(tmp) / "notebooks.json"
        code, out, _ = _run(
            [
                sys.executable,
                "benchmarks/notebooks.py",
                "--repeat",
                str(repeat),
                "--json",
                str(out_json),
            ]
        )
        if not out_json.exists():
            return False, ["benchmarks/notebooks.py failed:", "```", out[-2000:], "```"]
        payload = json.loads(out_json.read_text())
    rows = ["| notebook | median s | peak MB (max) | target |", "|---|---:|---:|---|"]
    total, ok = 0.0, code == 0
    for r in payload["results"]:
        s, mb = r["median_seconds"], r["max_peak_mb"]
        good = s is not None and s <= NOTEBOOK_SECONDS and mb is not None and mb <= NOTEBOOK_MB
        ok &= good
        total += s or float("nan")
        rows.append(
            f"| {r['notebook']} | {s:.2f} | {mb:.0f} | {'PASS' if good else 'FAIL'} |"
            if s is not None and mb is not None
            else f"| {r['notebook']} | error | - | FAIL |"
        )
    course_ok = total <= COURSE_SECONDS
    rows.append(f"| **course** | **{total:.1f}** | | {'PASS' if course_ok else 'FAIL'} |")
    head = (
        f"Each notebook top to bottom in a fresh kernel, {repeat} runs, median (kernel start-up "
        f"included). Targets: {NOTEBOOK_SECONDS:g} s and {NOTEBOOK_MB:g} MB per notebook, "
        f"{COURSE_SECONDS:g} s for the course."
    )
    machine = payload.get("machine")
    if machine and machine.get("reference_seconds"):
        from notebooks import format_machine  # benchmarks/ is the script's folder

        rows += ["", format_machine(machine["reference_seconds"], machine.get("steal")) + "."]
    return ok and course_ok, [head, "", *rows]


def kernel_latency() -> tuple[bool, list[str]]:
    code, out, _ = _run([sys.executable, "benchmarks/widget_latency.py"])
    lines = [line for line in out.splitlines() if not line.startswith("[")]
    ok = code == 0 and "FAIL" not in out
    return ok, ["`benchmarks/widget_latency.py`, in this Python process:", "", "```", *lines, "```"]


def browser_latency() -> tuple[bool | None, list[str]]:
    if not Path("/usr/bin/chromium").exists() or shutil.which("playwright") is None:
        return None, ["not measured: needs /usr/bin/chromium and playwright (make test-browser)"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "browser.jsonl"
        code, out, seconds = _run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-m",
                "browser",
                "tests/browser",
                "-p",
                "no:xdist",
                "-p",
                "no:cacheprovider",
                "-q",
                "-k",
                "explorer_is_live",
            ],
            env={"COURSE_BENCH_BROWSER_JSON": str(path)},
        )
        records = [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []
    if not records:
        return False, ["the browser test recorded nothing:", "```", out[-2000:], "```"]
    rows = [
        "| notebook | control | kind | p50 ms | max ms | target |",
        "|---|---|---|---:|---:|---|",
    ]
    ok = code == 0
    for r in records:
        good = r["p50_ms"] <= r["target_ms"]
        ok &= good
        rows.append(
            f"| {r['notebook']} | {r['control']} | {r['kind']} | {r['p50_ms']:.0f} | "
            f"{r['max_ms']:.0f} | p50 <= {r['target_ms']} ms: {'PASS' if good else 'FAIL'} |"
        )
    head = (
        "Headless Chromium in JupyterLab (`tests/browser`): key press or option picked -> "
        f"changed canvas pixels, measured in the page ({seconds:.0f} s for the rows)."
    )
    return ok, [head, "", *rows]


def suite() -> tuple[bool, list[str]]:
    rows = ["| target | wall | pytest says | target |", "|---|---:|---|---|"]
    ok = True
    make = os.environ.get("MAKE", "make")
    for target, minutes in SUITE_MINUTES.items():
        code, out, seconds = _run([make, target])
        summary = [x for x in out.splitlines() if re.search(r"\b(passed|failed|error)", x)]
        said = summary[-1].strip("= ").replace("|", "/") if summary else f"exit status {code}"
        good = code == 0 and seconds <= 60 * minutes
        ok &= good
        rows.append(
            f"| make {target} | {seconds / 60:.1f} min | {said} | <= {minutes:g} min: "
            f"{'PASS' if good else 'FAIL'} |"
        )
    note = (
        "From a warm environment (.venv installed), one after the other. `make test` is "
        "`make test-core` followed by the browser tests (tests/browser, serial; their explorer "
        "rows are timed above)."
    )
    return ok, [note, "", *rows]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per notebook (default 3)")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "RECORD.md")
    parser.add_argument("--skip-suite", action="store_true", help="do not time the test suite")
    parser.add_argument("--skip-browser", action="store_true", help="no browser latencies")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    lines = ["# Benchmark record", "", "Written by `make bench` (`benchmarks/record.py`).", ""]
    lines += machine()
    verdicts = []
    steps = [
        ("Notebooks", lambda: notebooks(args.repeat)),
        ("Explorers in the kernel", kernel_latency),
        ("Explorers in the browser", None if args.skip_browser else browser_latency),
        ("Test suite", None if args.skip_suite else suite),
    ]
    for title, step in steps:
        print(f"record: {title.lower()}...", file=sys.stderr, flush=True)
        ok, body = (None, ["not measured in this run (skipped)."]) if step is None else step()
        verdicts.append(ok)
        lines += ["", f"## {title}", "", *body]
    args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 1 if any(v is False for v in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
