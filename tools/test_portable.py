"""Run the notebooks (nbval, strict) and the claim tests under three CPUs on one machine.

Usage::

    .venv/bin/python tools/test_portable.py                    # or: make test-portable
    .venv/bin/python tools/test_portable.py --cpu sse4         # one CPU only
    .venv/bin/python tools/test_portable.py --cpu avx2 -- notebooks/06_*.ipynb tests/chapters/ch06_schedules/test_ch06_runs.py

Why: numpy (SIMD dispatch), OpenBLAS (a kernel per CPU) and torch (ATen kernels, MKL,
oneDNN) choose their code by CPU, so the same program gives results that differ in the last
bits from one machine to another. The committed outputs and the claim tests must hold on
every machine a student or a teacher has, not only on the one that recorded them. Each
library can be told to use fewer instruction sets than the CPU has, so one machine stands
in for older ones:

* ``native``: whatever this CPU offers (AVX-512 where it has it);
* ``avx2``: an AVX2 machine (Haswell and later, most laptops of the last ten years);
* ``sse4``: the x86-64 baseline the wheels are built for (SSE4.2, no AVX).

Before the tests of each CPU, the kernels really chosen are printed and checked:
``numpy.show_runtime()``'s SIMD extensions, ``torch.backends.cpu.get_cpu_capability()`` and
threadpoolctl's OpenBLAS ``architecture``; a setting that did not take effect is an error,
not a silent pass. Disabling a feature the CPU lacks is harmless, so the same settings work
on any x86-64 machine. Elsewhere (ARM) only ``native`` runs.

Exit status: 0 when every CPU passed, else the first failing pytest's status.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CPUS = {
    "native": {},
    "avx2": {
        "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
        "ATEN_CPU_CAPABILITY": "avx2",
        "OPENBLAS_CORETYPE": "Haswell",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
    },
    "sse4": {
        "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
        "ATEN_CPU_CAPABILITY": "default",
        "OPENBLAS_CORETYPE": "Nehalem",
        "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
        "ONEDNN_MAX_CPU_ISA": "SSE41",
    },
}

# What each emulated CPU may use at most: numpy's SIMD groups, torch's capability, and
# OpenBLAS core types (as threadpoolctl names them) that are not above the target.
ALLOWED = {
    "avx2": {
        "numpy_forbidden": {"X86_V4", "AVX512_ICL", "AVX512_SPR"},
        "torch": {"AVX2", "DEFAULT"},
        "openblas": {"haswell", "zen", "sandybridge", "nehalem", "core2", "prescott"},
    },
    "sse4": {
        "numpy_forbidden": {"X86_V3", "X86_V4", "AVX512_ICL", "AVX512_SPR"},
        "torch": {"DEFAULT"},
        "openblas": {"nehalem", "core2", "prescott"},
    },
}

# The notebooks and every unit test that computes a result. Left out: the browser test
# (its own target, make e2e), grading (runs the notebooks again through nbclient; the
# notebooks themselves are run here), tests of files, not numbers, and the tests that set
# the CPU themselves (they run in make test).
DEFAULT_TARGETS = [
    "notebooks",
    "tests",
    "--ignore=tests/browser",
    "--deselect=tests/test_assignments.py",
    "--ignore=tests/test_packaging.py",
    "--ignore=tests/test_environment_files.py",
    "--ignore=tests/test_launch_links.py",
    "--ignore=tests/test_reproducible_execution.py",
    "--ignore=tests/test_portable_tool.py",
]

PROBE = r"""
import json
import numpy, threadpoolctl, torch
try:  # numpy >= 2
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
except ImportError:  # numpy 1.26
    from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
# numpy.show_runtime()'s "found": the dispatch targets this process really uses.
found = [feature for feature in __cpu_dispatch__ if __cpu_features__.get(feature)]
blas = [{"api": d.get("internal_api"), "architecture": d.get("architecture")}
        for d in threadpoolctl.threadpool_info() if d.get("user_api") == "blas"]
print(json.dumps({"numpy_simd": found, "torch": torch.backends.cpu.get_cpu_capability(),
                  "blas": blas}))
"""


def probe(env: dict[str, str]) -> dict:
    """The kernels numpy, torch and OpenBLAS choose in a fresh interpreter under ``env``."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def check(cpu: str, kernels: dict) -> list[str]:
    """What did not take effect under ``cpu`` (empty when every library obeyed)."""
    if cpu not in ALLOWED:
        return []
    rule = ALLOWED[cpu]
    problems = []
    leaked = rule["numpy_forbidden"] & set(kernels["numpy_simd"])
    if leaked:
        problems.append(f"numpy still dispatches to {sorted(leaked)}")
    if kernels["torch"] not in rule["torch"]:
        problems.append(f"torch uses {kernels['torch']}, allowed {sorted(rule['torch'])}")
    for blas in kernels["blas"]:
        if blas["api"] == "openblas" and str(blas["architecture"]).lower() not in rule["openblas"]:
            problems.append(f"OpenBLAS uses {blas['architecture']}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cpu", default="native,avx2,sse4", help="comma-separated list of: " + ", ".join(CPUS)
    )
    parser.add_argument(
        "pytest_args",
        nargs="*",
        help="after --: pytest targets and options (default: notebooks and "
        "the computing unit tests)",
    )
    args = parser.parse_args(argv)
    cpus = [c.strip() for c in args.cpu.split(",") if c.strip()]
    unknown = [c for c in cpus if c not in CPUS]
    if unknown:
        parser.error(f"unknown CPU {unknown}; choose from {', '.join(CPUS)}")
    if platform.machine().lower() not in ("x86_64", "amd64"):
        print(
            f"{platform.machine()}: the instruction-set emulation is x86-64 only; "
            "running native only"
        )
        cpus = ["native"]
    targets = args.pytest_args or DEFAULT_TARGETS
    summary = []
    status = 0
    for cpu in cpus:
        env = {k: v for k, v in os.environ.items() if k not in CPUS["sse4"]}
        if cpu == "native":
            # This machine's own kernels: OPENBLAS_CORETYPE may be preset for old OpenBLAS
            # builds (see the environment notes); keep what the machine sets.
            env = dict(os.environ)
        env.update(CPUS[cpu])
        kernels = probe(env)
        blas = ", ".join(f"{b['api']} {b['architecture']}" for b in kernels["blas"])
        print(
            f"\n=== CPU {cpu}: numpy SIMD {kernels['numpy_simd'] or ['baseline only']}, "
            f"torch {kernels['torch']}, {blas} ===",
            flush=True,
        )
        problems = check(cpu, kernels)
        if problems:
            print(f"CPU {cpu}: the emulation did not take effect: " + "; ".join(problems))
            return 2
        # The browser test is left out by path (DEFAULT_TARGETS' --ignore); any targets
        # given run whole.
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "--dist",
            "loadscope",
            "--nbval",
            "--nbval-current-env",
            "-p",
            "no:cacheprovider",
            *targets,
        ]
        start = time.perf_counter()
        code = subprocess.run(command, env=env, cwd=ROOT).returncode
        seconds = time.perf_counter() - start
        summary.append((cpu, kernels, code, seconds))
        if code and not status:
            status = code
    print("\n=== make test-portable ===")
    for cpu, kernels, code, seconds in summary:
        print(
            f"{cpu:>6}: {'passed' if code == 0 else f'FAILED (pytest exit {code})'} in "
            f"{seconds:.0f} s  [torch {kernels['torch']}, numpy SIMD "
            f"{','.join(kernels['numpy_simd']) or 'baseline'}, "
            f"{', '.join(str(b['architecture']) for b in kernels['blas'])}]"
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
