"""benchmarks/record.py (make bench): the record's tables and verdicts, from canned results
(the real measurements take minutes and are never asserted: a benchmark, not a test)."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import record  # noqa: E402


def _notebook_payload(seconds):
    return {
        "results": [
            {"notebook": f"{i:02d}_x.ipynb", "median_seconds": s, "max_peak_mb": 400.0}
            for i, s in enumerate(seconds, start=1)
        ]
    }


def _fake_run(payload, code=0):
    def run(command, env=None, timeout=None):
        path = Path(command[command.index("--json") + 1])
        path.write_text(json.dumps(payload))
        return code, "", 1.0

    return run


def test_notebooks_pass_under_six_seconds_each_and_sixty_in_all(monkeypatch):
    monkeypatch.setattr(record, "_run", _fake_run(_notebook_payload([5.5] * 10)))
    ok, lines = record.notebooks(3)
    assert ok
    assert "| 01_x.ipynb | 5.50 | 400 | PASS |" in lines
    assert lines[-1] == "| **course** | **55.0** | | PASS |"


def test_one_slow_notebook_fails_the_record(monkeypatch):
    monkeypatch.setattr(record, "_run", _fake_run(_notebook_payload([5.0] * 9 + [6.5]), code=1))
    ok, lines = record.notebooks(3)
    assert not ok
    assert "| 10_x.ipynb | 6.50 | 400 | FAIL |" in lines


def test_the_course_total_has_its_own_target(monkeypatch):
    monkeypatch.setattr(record, "_run", _fake_run(_notebook_payload([5.9] * 11)))
    ok, lines = record.notebooks(1)
    assert not ok and lines[-1].endswith("FAIL |")


def test_the_suite_is_timed_against_its_targets(monkeypatch):
    times = iter([90.0, 7.5 * 60])

    def run(command, env=None, timeout=None):
        return 0, "===== 3000 passed, 2 skipped in 440.1s =====\n", next(times)

    monkeypatch.setattr(record, "_run", run)
    ok, lines = record.suite()
    assert ok
    assert (
        "| make test-fast | 1.5 min | 3000 passed, 2 skipped in 440.1s | <= 2 min: PASS |" in lines
    )
    assert lines[-1].startswith("| make test-core |") and lines[-1].endswith("<= 8 min: PASS |")


def test_a_failing_suite_fails_the_record(monkeypatch):
    monkeypatch.setattr(record, "_run", lambda *a, **k: (1, "1 failed, 9 passed in 3.0s", 30.0))
    ok, lines = record.suite()
    assert not ok and "1 failed, 9 passed in 3.0s" in lines[-1]


def test_the_record_names_the_machine():
    lines = record.machine()
    assert lines[0].startswith("- date: ") and "commit" in lines[0]
    assert "cores available" in lines[1] and "GB memory" in lines[1]
    assert "torch" in lines[2] and "CPU kernels" in lines[2]


def test_repeat_must_be_positive():
    with pytest.raises(SystemExit):
        record.main(["--repeat", "0"])


def test_the_record_says_how_fast_the_machine_was_during_the_runs(monkeypatch):
    payload = _notebook_payload([5.0] * 10)
    payload["machine"] = {"reference_seconds": [0.12, 0.15, 0.13], "steal": 0.021}
    monkeypatch.setattr(record, "_run", _fake_run(payload))
    ok, lines = record.notebooks(3)
    assert ok
    assert lines[-1] == (
        "machine during the runs: reference workload median 0.130 s (0.120 to 0.150, "
        "3 checks); CPU time stolen by the hypervisor 2.1%."
    )


def test_a_payload_without_the_machine_still_makes_a_record(monkeypatch):
    monkeypatch.setattr(record, "_run", _fake_run(_notebook_payload([5.0] * 10)))
    ok, lines = record.notebooks(3)
    assert ok and lines[-1] == "| **course** | **50.0** | | PASS |"


def test_steal_is_the_stolen_share_of_the_cpu_time_between_two_readings():
    import notebooks

    assert notebooks.steal_share((10, 1000), (30, 2000)) == 0.02
    assert notebooks.steal_share(None, (30, 2000)) is None
    assert notebooks.steal_share((10, 1000), (10, 1000)) is None  # no time passed
    reading = notebooks.cpu_times()
    if Path("/proc/stat").exists():
        stolen, total = reading
        assert 0 <= stolen <= total


def test_the_reference_workload_is_timed():
    import notebooks

    seconds = notebooks.reference_seconds(repeat=1)
    assert 0 < seconds < 60
