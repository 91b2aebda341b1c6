"""`ssl-props check PATH.py:FUNC`: exit codes 0 / 1 / 2 and the JSON schema ssl-props/check-report/v1."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from ssl_props.checker.report import SCHEMA
from ssl_props.cli import main

USER_MODULE = textwrap.dedent('''
    import torch
    import torch.nn.functional as F

    def my_simclr(z1, z2, temperature=0.5):
        z = F.normalize(torch.cat([z1, z2]), dim=1)
        n = z1.shape[0]
        logits = (z @ z.T / temperature).masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
        return F.cross_entropy(logits, torch.cat([torch.arange(n, 2 * n), torch.arange(n)]))

    def no_self_mask(z1, z2):
        z = F.normalize(torch.cat([z1, z2]), dim=1)
        n = z1.shape[0]
        return F.cross_entropy(z @ z.T / 0.5, torch.cat([torch.arange(n, 2 * n), torch.arange(n)]))

    def one_argument():
        return 0.0

    class SimCLRModule(torch.nn.Module):
        def forward(self, z1, z2):
            return my_simclr(z1, z2)

    NOT_CALLABLE = 3
''')


@pytest.fixture
def user_file(tmp_path: Path) -> Path:
    path = tmp_path / "my_losses.py"
    path.write_text(USER_MODULE)
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["check", *argv, "--max-examples", "3"])
    out, err = capsys.readouterr()
    return code, out, err


def test_exit_0_when_every_check_passes(capsys, user_file):
    code, out, _ = run(capsys, f"{user_file}:my_simclr", "--like", "simclr")
    assert code == 0, out
    assert "PASSED" in out and "behaves like: simclr(temperature=0.5)" in out


def test_module_class_is_instantiated(capsys, user_file):
    code, out, _ = run(capsys, f"{user_file}:SimCLRModule", "--like", "simclr", "--format", "markdown")
    assert code == 0 and out.startswith("## ssl-props check")


def test_exit_1_when_a_check_fails(capsys, user_file):
    code, out, _ = run(capsys, f"{user_file}:no_self_mask", "--like", "simclr", "--param", "temperature=0.5")
    assert code == 1
    assert "[FAILED ] check_matches_reference_value: value differs from simclr(temperature=0.5)" in out


@pytest.mark.parametrize("argv,match", [
    (["{f}.missing:my_simclr"], "no such file"),
    (["{f}:nope"], "has no function 'nope'"),
    (["{f}"], "PATH.py:FUNC"),
    (["{f}:one_argument"], "two positional"),
    (["{f}:NOT_CALLABLE"], "callable"),
    (["{f}:my_simclr", "--like", "simclrr"], "not a registered loss"),
    (["{f}:my_simclr", "--like", "simclr", "--param", "tau=0.1"], "unknown parameter"),
    (["{f}:my_simclr", "--like", "simclr", "--param", "temperature=-2"], "temperature"),
    (["{f}:my_simclr", "--like", "simclr", "--param", "temperature"], "KEY=VALUE"),
    (["{f}:my_simclr", "--ssl-device", "tpu"], "device"),
])
def test_exit_2_on_usage_errors_with_one_line(capsys, user_file, argv, match):
    code, out, err = run(capsys, *[a.format(f=user_file) for a in argv])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("ssl-props: error: ") and match in err, err


def test_import_error_in_user_file_is_a_usage_error(capsys, tmp_path):
    bad = tmp_path / "broken.py"
    bad.write_text("import torch\nraise ImportError('no module named lightly')\n")
    code, _, err = run(capsys, f"{bad}:f")
    assert code == 2 and "cannot import" in err and "Traceback" not in err


def test_json_schema(capsys, user_file):
    code, out, _ = run(capsys, f"{user_file}:no_self_mask", "--like", "simclr", "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["schema"] == SCHEMA == "ssl-props/check-report/v1"
    assert set(doc) == {"schema", "loss", "like", "params", "device", "passed", "strict", "counts", "notes",
                        "behaves_like", "closest", "results"}
    assert doc["loss"] == "no_self_mask" and doc["like"] == "simclr" and doc["passed"] is False
    assert sum(doc["counts"].values()) == len(doc["results"]) and doc["counts"]["failed"] >= 1
    for r in doc["results"]:
        assert set(r) == {"check", "status", "passed", "message", "counterexample", "source", "duration_s"}
        assert r["status"] in ("passed", "failed", "skipped", "xfailed", "xpassed", "warning")
        assert r["passed"] == (r["status"] in ("passed", "skipped", "xfailed", "warning")) and r["source"]
    failed = next(r for r in doc["results"] if r["check"] == "check_matches_reference_value")
    assert {"n", "d", "kind", "scale", "seed", "view"} <= set(failed["counterexample"])
    assert doc["closest"] is None or {"name", "params", "max_relative_difference"} == set(doc["closest"])
