"""tools/test_portable.py: the CPU emulation takes effect, and a setting that does not is caught."""

import os

import pytest

from tools.test_portable import CPUS, check, probe

x86_only = pytest.mark.skipif(
    os.uname().machine not in ("x86_64", "AMD64"),
    reason="the instruction-set emulation is x86-64 only",
)


@x86_only
@pytest.mark.parametrize("cpu", ["avx2", "sse4"])
def test_each_emulated_cpu_takes_effect(cpu):
    env = {k: v for k, v in os.environ.items() if k not in CPUS["sse4"]}
    env.update(CPUS[cpu])
    kernels = probe(env)
    assert check(cpu, kernels) == []
    if cpu == "sse4":
        assert kernels["torch"] == "DEFAULT"
        assert not {"X86_V3", "X86_V4", "AVX2", "AVX512F"} & set(kernels["numpy_simd"])
        assert [b["architecture"] for b in kernels["blas"]] == ["Nehalem"]


def test_a_setting_that_did_not_take_effect_is_reported():
    kernels = {
        "numpy_simd": ["X86_V3"],
        "torch": "AVX2",
        "blas": [{"api": "openblas", "architecture": "Haswell"}],
    }
    problems = check("sse4", kernels)
    assert len(problems) == 3
    assert "X86_V3" in problems[0] and "AVX2" in problems[1] and "Haswell" in problems[2]
    assert check("native", kernels) == []
