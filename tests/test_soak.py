"""scripts/soak.py: failing test ids are read from pytest's JUnit XML and printed with their seed."""
from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "soak.py"
spec = importlib.util.spec_from_file_location("soak", SCRIPT)
soak = importlib.util.module_from_spec(spec)
spec.loader.exec_module(soak)

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="theorems.test_tian2021_directpred" name="test_result[tian2021.eq14::numeric:integral_along_trajectories]">
<failure message="PropertyViolation: |difference| = 0.118 &gt; tolerance 0.102&#10;second line">tb</failure></testcase>
<testcase classname="theorems.test_garrido2023_duality" name="test_result[garrido2023.thm3.3::numeric:identity]"/>
<testcase classname="theorems.test_x" name="test_plain"><error message="boom">tb</error></testcase>
</testsuite></testsuites>"""


def test_failures_are_read_from_junit(tmp_path):
    (tmp_path / "j.xml").write_text(JUNIT)
    assert soak.failures(tmp_path / "j.xml") == [
        ("tian2021.eq14::numeric:integral_along_trajectories", "PropertyViolation: |difference| = 0.118 > tolerance 0.102"),
        ("theorems.test_x::test_plain", "boom")]


def test_each_failure_is_printed_with_its_seed_and_the_exit_code_says_so(monkeypatch, capsys):
    monkeypatch.setattr(soak, "run_seed", lambda seed, *a: (1, [("t.eq1::numeric:x", "bad")], 0.1) if seed == 7
                        else (0, [], 0.1))
    assert soak.main(["--seeds", "5,7,9"]) == 1
    out = capsys.readouterr().out
    assert "FAILED t.eq1::numeric:x (seed 7): bad" in out and "--hypothesis-seed=7" in out
    assert "seed 5: 0 failed" in out and "seed 9: 0 failed" in out
    monkeypatch.setattr(soak, "run_seed", lambda seed, *a: (0, [], 0.1))
    assert soak.main(["--seeds", "1,2"]) == 0
