"""The verification certificate: schema, determinism, and how a failure is reported."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ssl_props import report as R
from ssl_props.cli import main

ONLY = ["garrido2023.thm3.3::", "garrido2023.def3.1::necessity"]


DEMO = '''
import pytest
from ssl_props.properties import PropertyViolation
from ssl_props.registry import Check, Paper, Theorem, check_id, register

paper = Paper("demo2099", ("A B",), "Demo", "Nowhere", 2099, "9999.99999")


def wrong():
    raise PropertyViolation("Demo claim fails: lhs = 1 > rhs = 0")


T = register(Theorem("demo2099.thm1", paper, "Theorem 1", "theorem", "demo", "a false claim",
                     checks=(Check("numeric", "wrong", wrong), Check("necessity", "n", lambda: "witness", assumption="a")),
                     assumptions=("a",)))


@pytest.mark.parametrize(("theorem", "check"),
                         [pytest.param(T, c, id=check_id(T, c), marks=pytest.mark.theorem(T.id)) for c in T.checks])
def test_result(theorem, check):
    raise AssertionError("never called: the plugin runs the check through the report's runner")
'''


def _pytest(*args, cwd=None):
    """``python -m pytest ARGS`` in a fresh process (as the report command runs it)."""
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
                          capture_output=True, text=True, cwd=cwd)


def test_a_failing_check_is_reported_with_its_counterexample(tmp_path):
    """Outside the repository (no conftest): the plugin registers the profiles and writes the certificate."""
    (tmp_path / "test_demo.py").write_text(DEMO)
    out = tmp_path / "r"
    proc = _pytest("test_demo.py", "--ssl-report", str(out), "--ssl-report-no-figures", "--hypothesis-profile=ci",
                   cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "lhs = 1 > rhs = 0" in proc.stdout, "pytest reports the check's own exception"
    rep = json.loads((out / "report.json").read_text())
    assert rep["summary"] == {**rep["summary"], "checks": 2, "failed": 1, "passed": 1}
    assert rep["environment"]["hypothesis"]["profile"] == "ci"
    c = rep["theorems"][0]["checks"][0]
    assert not c["passed"] and "lhs = 1 > rhs = 0" in c["message"]
    assert rep["theorems"][0]["checks"][1]["counterexample"] == "witness"
    assert "**FAIL**" in (out / "report.md").read_text()


def _timeless(rep):
    """A certificate without what may differ between identical runs: creation time and seconds."""
    rep = json.loads(json.dumps(rep))
    rep.pop("created")
    rep["summary"].pop("seconds")
    for t in rep["theorems"]:
        for c in t["checks"]:
            c.pop("seconds")
    return rep


def _verdicts(rep):
    return [{k: v for k, v in c.items() if k != "seconds"} for t in rep["theorems"] for c in t["checks"]]


def test_schema_and_determinism(three_certificates):
    a, b = three_certificates["cmd"], three_certificates["serial"]
    md = three_certificates["cmd.md"]
    assert a["schema"] == R.SCHEMA
    assert set(a) == {"schema", "created", "environment", "summary", "papers", "theorems", "figures"}
    env = a["environment"]
    assert env["dtype"] == "float64" and env["device"] == "cpu"
    assert env["hypothesis"] == {"profile": "ci", "max_examples": 100, "derandomize": True, "seed": "derandomized"}
    assert env["packages"]["torch"] and env["packages"]["hypothesis"]
    assert a["summary"]["checks"] == 6 and a["summary"]["failed"] == 0
    thm = next(t for t in a["theorems"] if t["id"] == "garrido2023.thm3.3")
    assert thm["arxiv"] == "2206.02574" and thm["number"] == "Theorem 3.3" and thm["passed"]
    nec = [c for c in thm["checks"] if c["kind"] == "necessity"]
    assert nec and all(c["counterexample"] for c in nec)
    assert all(c["examples"] > 0 for c in thm["checks"] if c["kind"] == "numeric")
    assert _verdicts(a) == _verdicts(b), "two runs with the same profile must agree exactly"
    assert "| Theorem 3.3 | `garrido2023.thm3.3` | theorem | PASS |" in md
    assert "arXiv:2206.02574" in md


@pytest.fixture(scope="module")
def three_certificates(tmp_path_factory):
    """The same selection through the report command, ``pytest theorems/ --ssl-report`` and the same with ``-n 2``."""
    tmp = tmp_path_factory.mktemp("certs")
    only = [a for o in ONLY for a in ("--ssl-only", o)]
    suite = str(Path(__file__).resolve().parents[1] / "theorems" / "test_garrido2023_duality.py")
    reps = {}
    assert main(["report", "--out", str(tmp / "cmd"), "--paper", "garrido2023", "--no-figures", "--quiet",
                 *[a for o in ONLY for a in ("--only", o)]]) == 0
    reps["cmd"] = json.loads((tmp / "cmd" / "report.json").read_text())
    reps["cmd.md"] = (tmp / "cmd" / "report.md").read_text()
    for name, extra in (("serial", ["-n", "0"]), ("xdist", ["-n", "2"])):
        proc = _pytest(suite, "--ssl-report", str(tmp / name), "--ssl-report-no-figures", "--hypothesis-profile=ci",
                       *only, *extra)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        reps[name] = json.loads((tmp / name / "report.json").read_text())
    return reps


def test_ssl_report_option_writes_the_report_commands_certificate(three_certificates):
    cmd, serial = three_certificates["cmd"], three_certificates["serial"]
    assert serial["summary"]["checks"] == 6 and serial["summary"]["failed"] == 0
    assert _timeless(serial) == _timeless(cmd)


def test_a_run_spread_over_two_workers_gives_the_serial_certificate(three_certificates):
    serial, xdist = three_certificates["serial"], three_certificates["xdist"]
    assert _timeless(xdist) == _timeless(serial)
    assert [c["id"] for t in xdist["theorems"] for c in t["checks"]] == \
        [c["id"] for t in serial["theorems"] for c in t["checks"]], "registry order, whichever worker ran a check"


def test_no_selected_checks_is_a_usage_error(tmp_path, capsys):
    assert main(["report", "--out", str(tmp_path), "--only", "no-such-check", "--quiet"]) == 2
    assert "no checks selected" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["report", "--profile", "weird"], ["report", "--ssl-device", "tpu"]])
def test_bad_options(args, tmp_path):
    assert main([*args, "--out", str(tmp_path)]) == 2


def test_every_registered_figure_is_written_as_a_png(tmp_path):
    from ssl_props.figures import all_figures

    written = R.write_figures(tmp_path)
    assert {f["name"] for f in written} == {f.name for f in all_figures()} and written
    for f in written:
        data = (tmp_path / f["path"]).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, f["name"]
        assert f["caption"] and f["paper"]
