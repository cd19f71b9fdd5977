"""From `make classroom-load` runs to the constants of deploy/sizing.py and the README's table.

    .venv/bin/python -m tools.classroom.sizing_table load5.json load10.json load20.json

Reads the JSON files of runs on one machine and prints:
- memory per student: the largest kernel peak + server peak of any student (MB);
- students per core: the largest class that ran without a failure and with every explorer
  move's p95 at or under 300 ms, divided by the machine's cores;
- the markdown table of deploy/sizing.py's students_per_node for the usual node sizes, with
  the constants as they are in deploy/sizing.py (edit them there from the figures above).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from deploy import sizing  # noqa: E402

NODES = [(4, 16), (16, 64), (64, 256)]
LATENCY_TARGET_MS = 300


def measured(runs: list[dict]) -> dict:
    per_student_mb = [
        s["kernel_peak_mb"] + s["server_peak_mb"]
        for run in runs
        for s in run["students"]
        if s["kernel_peak_mb"] is not None and s["server_peak_mb"] is not None
    ]
    fine = [
        run["summary"]["students"] / run["summary"]["cpus"]
        for run in runs
        if run["summary"]["failed"] == 0
        and run["summary"]["move_p95_ms"] is not None
        and run["summary"]["move_p95_ms"] <= LATENCY_TARGET_MS
    ]
    return {
        "memory_per_student_mb": max(per_student_mb, default=None),
        "students_per_core_within_300ms": max(fine, default=None),
    }


def markdown_table() -> str:
    lines = [
        "| node | students (memory bound) | students (CPU bound) | students per node |",
        "|---|---|---|---|",
    ]
    for cores, memory_gb in NODES:
        n = sizing.students_per_node(cores, memory_gb)
        lines.append(
            f"| {cores} cores, {memory_gb} GB | {n['memory']} | {n['cpu']} | **{n['students']}** |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="JSON files of classroom-load runs")
    args = parser.parse_args(argv)
    runs = [json.loads(path.read_text(encoding="utf-8")) for path in args.runs]
    figures = measured(runs)
    for run in runs:
        s = run["summary"]
        print(
            f"N={s['students']:>3}: failed {s['failed']}, move p50 {s['move_p50_ms']} ms, "
            f"p95 {s['move_p95_ms']} ms, available memory min {s['min_available_mb']} MB"
        )
    print(json.dumps(figures))
    per_core = figures["students_per_core_within_300ms"]
    if per_core:
        print(f"-> CPU_PER_ACTIVE_STUDENT <= {1 / per_core:.3f} cores")
    if figures["memory_per_student_mb"]:
        gb = math.ceil(figures["memory_per_student_mb"] / 1024 * 4) / 4
        print(f"-> MEMORY_PER_STUDENT_GB >= {gb} (rounded up to 0.25 GB)")
    print(markdown_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
