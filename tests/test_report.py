"""The verification certificate: schema, determinism, and how a failure is reported."""
from __future__ import annotations

import json

import pytest

from ssl_props import report as R
from ssl_props.cli import main
from ssl_props.properties import PropertyViolation
from ssl_props.registry import Check, Paper, Theorem

ONLY = ["garrido2023.thm3.3::", "garrido2023.def3.1::necessity"]


def _run(tmp_path, name, *extra):
    out = tmp_path / name
    rc = main(["report", "--out", str(out), "--paper", "garrido2023", "--no-figures", "--quiet",
               *[a for o in ONLY for a in ("--only", o)], *extra])
    return rc, json.loads((out / "report.json").read_text()), (out / "report.md").read_text()


def _verdicts(rep):
    return [{k: v for k, v in c.items() if k != "seconds"} for t in rep["theorems"] for c in t["checks"]]


def test_schema_and_determinism(tmp_path):
    rc1, a, md = _run(tmp_path, "a")
    rc2, b, _ = _run(tmp_path, "b")
    assert rc1 == rc2 == 0
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


def test_a_failing_check_is_reported_with_its_counterexample(tmp_path, monkeypatch):
    paper = Paper("demo2099", ("A B",), "Demo", "Nowhere", 2099, "9999.99999")

    def wrong():
        raise PropertyViolation("Demo claim fails: lhs = 1 > rhs = 0")

    t = Theorem("demo2099.thm1", paper, "Theorem 1", "theorem", "demo", "a false claim",
                checks=(Check("numeric", "wrong", wrong), Check("necessity", "n", lambda: "witness", assumption="a")),
                assumptions=("a",))
    monkeypatch.setattr(R, "iter_checks", lambda paper=None: [(t, c) for c in t.checks])
    out = tmp_path / "r"
    assert main(["report", "--out", str(out), "--no-figures", "--quiet"]) == 1
    rep = json.loads((out / "report.json").read_text())
    assert rep["summary"] == {**rep["summary"], "checks": 2, "failed": 1, "passed": 1}
    c = rep["theorems"][0]["checks"][0]
    assert not c["passed"] and "lhs = 1 > rhs = 0" in c["message"]
    assert rep["theorems"][0]["checks"][1]["counterexample"] == "witness"
    assert "**FAIL**" in (out / "report.md").read_text()


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
