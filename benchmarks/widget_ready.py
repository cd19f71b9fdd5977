"""Ready at once (issue 20): how long building an explorer takes, and its first move of each control.

Usage::

    .venv/bin/python benchmarks/widget_ready.py [--repeat N] [--only NAME]

(``benchmarks/widget_latency.py`` runs it first.) Every explorer of the registry
(``course_utils.widgets.registry``) is built ``--repeat`` times (default 3), each time in a new
Python process, as in a new kernel: the explorer's module is imported and a small figure with
text drawn first (the notebook's earlier cells have imported the chapter and drawn figures),
then the factory is called with its defaults and timed (**build**). The explorer is then shown
(the ``initialized`` message ipympl's front end sends) and left to finish what it prepares in
the background (**ready**: seconds after the build returned, reported, not a target), and
every registered control is moved once, in the registry's order, to another valid value
(**first move**; the init explorer's depth goes from 6 to 10). Printed: wall seconds (median
of the repeats), the main thread's CPU seconds (what the machine's load cannot inflate), and
per control the median and maximum of its first move in ms.

Targets: build <= 1 s, every control's first move (median) <= 300 ms. Timings are for humans:
the tests assert no time (tests/widgets/test_explorer_contract.py checks that building
prepares in the background instead).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time

BUILD_TARGET_S = 1.0
FIRST_MOVE_TARGET_MS = 300.0


def other_value(control):
    """A valid value of ``control`` different from its current one (an int or log slider's
    far end, a float slider's half way to it, a dropdown's next option)."""
    import ipywidgets

    if isinstance(control, ipywidgets.Checkbox):
        return not control.value
    if isinstance(control, (ipywidgets.Dropdown, ipywidgets.SelectionSlider)):
        values = [o[1] if isinstance(o, tuple) else o for o in control.options]
        i = values.index(control.value)
        return values[(i + 1) % len(values)]
    if isinstance(control, ipywidgets.FloatLogSlider):
        lo, hi = control.base**control.min, control.base**control.max
        return hi if not math.isclose(control.value, hi) else lo
    if isinstance(control, ipywidgets.FloatSlider):  # half way: a far end may be invalid (±1)
        end = control.max if control.value != control.max else control.min
        return round((control.value + end) / 2 / control.step) * control.step
    return control.max if control.value != control.max else control.min  # depth 6 -> 10


def _warm_matplotlib():
    """What the notebook's earlier cells did: a figure with text, drawn."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3, 2))
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.plot([0, 1], [0, 1], label="warm")
    ax.set_title("warm-up")
    ax.legend()
    figure.canvas.draw()


def measure_once(name: str) -> dict:
    """In this process: build ``name``, show it, wait until ready, move each control once."""
    from course_utils.widgets import registry

    entry = registry.entry(name)
    factory = entry.load()
    _warm_matplotlib()
    wall, cpu = time.perf_counter(), time.thread_time()
    explorer = factory()
    out = {"build": time.perf_counter() - wall, "build_cpu": time.thread_time() - cpu}
    explorer.canvas._handle_message(explorer.canvas, {"type": "initialized"}, [])
    wall = time.perf_counter()
    explorer.wait_ready()
    out["ready"] = out["build"] + time.perf_counter() - wall
    moves = {}
    for setting, option in entry.setup:
        explorer.controls[setting].value = option
    for control in entry.controls:
        widget = explorer.controls[control.name]
        value = other_value(widget)
        wall, cpu = time.perf_counter(), time.thread_time()
        widget.value = value
        moves[control.name] = [time.perf_counter() - wall, time.thread_time() - cpu]
        if explorer.message and entry.name not in ("sanity",):
            moves[control.name].append(explorer.message)
    out["moves"] = moves
    return out


def _run_child(name: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", name],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(repeat: int = 3, only: str = "") -> bool:
    """Print the table; True if every explorer meets both targets."""
    from course_utils.widgets.registry import EXPLORERS

    print(f"ready at once: build and first move per control, {repeat} new processes each")
    header = (
        f"{'explorer':<11} {'build s':>7} {'cpu s':>6} {'ready s':>7}  "
        f"{'first move ms: control p50/max (cpu p50)':<58} verdict"
    )
    print(header)
    print("-" * len(header))
    all_pass = True
    for entry in [e for e in EXPLORERS if only in e.name]:
        runs = [_run_child(entry.name) for _ in range(repeat)]
        build = statistics.median(r["build"] for r in runs)
        build_cpu = statistics.median(r["build_cpu"] for r in runs)
        ready = statistics.median(r["ready"] for r in runs)
        cells, worst = [], 0.0
        for control in entry.controls:
            walls = [1e3 * r["moves"][control.name][0] for r in runs]
            cpus = [1e3 * r["moves"][control.name][1] for r in runs]
            p50 = statistics.median(walls)
            worst = max(worst, p50)
            cells.append(
                f"{control.name} {p50:.0f}/{max(walls):.0f} ({statistics.median(cpus):.0f})"
            )
        ok = build <= BUILD_TARGET_S and worst <= FIRST_MOVE_TARGET_MS
        all_pass &= ok
        verdict = "PASS" if ok else "FAIL"
        print(f"{entry.name:<11} {build:7.2f} {build_cpu:6.2f} {ready:7.2f}  {cells[0]}")
        for cell in cells[1:]:
            print(f"{'':<11} {'':>7} {'':>6} {'':>7}  {cell}")
        print(
            f"{'':<11} {'':>7} {'':>6} {'':>7}  build <= {BUILD_TARGET_S:g} s, first moves <= "
            f"{FIRST_MOVE_TARGET_MS:g} ms (p50): {verdict}"
        )
    return all_pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="", help="the explorers whose name contains this")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure_once(args.child)))
        return 0
    report(args.repeat, args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
