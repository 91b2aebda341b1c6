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


# ---------------------------------------------------------------- issue 13: installed targets and the new flags
PACKAGE_MODULE = textwrap.dedent('''
    import torch
    from ssl_props.losses import vicreg

    class ScaledVICReg(torch.nn.Module):
        def __init__(self, factor):
            super().__init__()
            self.factor = factor

        def forward(self, z1, z2):
            return self.factor * vicreg(z1, z2)

    class DimBuffer(torch.nn.Module):
        def __init__(self, dim=5):
            super().__init__()
            self.register_buffer("w", torch.ones(dim, dtype=torch.float64))

        def forward(self, z1, z2):
            return vicreg(z1 * self.w, z2 * self.w)
''')


@pytest.fixture
def installed(tmp_path: Path, monkeypatch) -> str:
    (tmp_path / "ssl_user_pkg_i13.py").write_text(PACKAGE_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "ssl_user_pkg_i13"


def test_package_module_attr_target(capsys):
    code, out, _ = run(capsys, "ssl_props.losses:simclr", "--like", "simclr")
    assert code == 0 and "PASSED" in out


def test_init_constructs_a_class(capsys, installed):
    code, out, _ = run(capsys, f"{installed}:ScaledVICReg", "--init", "factor=2.0")
    assert code == 0, out
    assert "2 × vicreg" in out
    code, _, err = run(capsys, f"{installed}:ScaledVICReg")
    assert code == 2 and "cannot construct ScaledVICReg()" in err and "--init" in err


def test_batch_and_dim_pin_a_fixed_shape_loss(capsys, installed):
    code, out, _ = run(capsys, f"{installed}:DimBuffer")
    assert code == 1 and out.count("[FAILED ]") == 1 and "--dim" in out  # one diagnosis, not N copies
    code, out, _ = run(capsys, f"{installed}:DimBuffer", "--dim", "5", "--like", "vicreg")
    assert code == 0, out


def test_xfail_strict_dtype_and_predictor_flags(capsys, tmp_path):
    path = tmp_path / "flags.py"
    path.write_text(textwrap.dedent('''
        import torch, torch.nn.functional as F
        from ssl_props.losses import dclw, simclr

        def no_eps(z1, z2):
            z = torch.cat([z1, z2]); z = z / z.norm(dim=1, keepdim=True)
            n = z1.shape[0]
            s = (z @ z.T / 0.5).masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
            return F.cross_entropy(s, torch.cat([torch.arange(n, 2 * n), torch.arange(n)]))

        def neg_cos(x0, x1):
            return -F.cosine_similarity(x0, x1.detach(), dim=1).mean()
    '''))
    assert run(capsys, f"{path}:no_eps")[0] == 0  # zero rows: a warning
    code, out, _ = run(capsys, f"{path}:no_eps", "--strict")
    assert code == 1 and "[WARNING]" in out
    assert run(capsys, "ssl_props.losses:dclw")[0] == 1
    code, out, _ = run(capsys, "ssl_props.losses:dclw", "--xfail", "check_gradient_matches_finite_differences=weights")
    assert code == 0 and "[XFAILED]" in out
    code, out, _ = run(capsys, "ssl_props.losses:simclr", "--dtype", "float32", "--like", "simclr")
    assert code == 0 and "float32" in out
    assert run(capsys, f"{path}:neg_cos")[0] == 1
    assert run(capsys, f"{path}:neg_cos", "--predictor")[0] == 0


@pytest.mark.parametrize("argv,match", [
    (["no_such_package_xyz:loss"], "no module named"),
    (["ssl_props.losses:nope"], "has no attribute 'nope'"),
    (["ssl_props.losses:simclr", "--init", "a=1"], "--init applies to a class"),
    (["ssl_props.losses:simclr", "--xfail", "check_view_symmetry"], "CHECK=REASON"),
    (["ssl_props.losses:simclr", "--views", "sideways"], "calling convention"),
    (["ssl_props.losses:simclr", "--batch", "1"], "batch"),
])
def test_new_usage_errors_are_one_line(capsys, argv, match):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and match in err, err


# ---------------------------------------------------------------- issue 21: declared shapes and parametrised xfail
SHAPES_MODULE = textwrap.dedent('''
    import torch
    import torch.nn.functional as F

    def cov_term(z1, z2):
        def off(z):
            c = torch.cov(z.T)
            return (c.square().sum() - c.diagonal().square().sum()) / z.shape[1]
        return off(z1) + off(z2)

    def per_sample(z1, z2):
        return (z1 - z2).square().sum(1) + torch.logsumexp(z1 @ z1.T, 1)

    def dino(teacher, student):
        return -(F.softmax(teacher / 0.04, -1) * F.log_softmax(student / 0.1, -1)).sum(-1).mean()
''')


@pytest.fixture
def shapes_file(tmp_path: Path) -> Path:
    path = tmp_path / "shapes.py"
    path.write_text(SHAPES_MODULE)
    return path


def test_xfail_with_a_parametrised_id_takes_effect(capsys, shapes_file):
    target = f"{shapes_file}:cov_term"
    code, out, _ = run(capsys, target, "--xfail", "check_prefers_spread(collapse=complete)=collapse prevented by the "
                                                  "variance term")
    assert code == 1 and "[XFAILED] check_prefers_spread(collapse=complete): collapse prevented by the variance term" in out
    # the base name: the dimensional variant passes, reported passed (not a strict XPASS), the complete one xfailed
    code, out, _ = run(capsys, target, "--xfail", "check_prefers_spread=a=b in the reason", "--xfail",
                       "check_collapse_not_minimum=same")
    assert "[XFAILED] check_prefers_spread(collapse=complete): a=b in the reason" in out
    assert "[PASSED ] check_prefers_spread(collapse=dimensional)" in out and "XPASSED" not in out
    code, out, _ = run(capsys, target, "--xfail", "check_prefers_spread*=pattern", "--xfail",
                       "check_collapse_not_minimum=same")
    assert "[XFAILED] check_prefers_spread(collapse=complete): pattern" in out
    code2, out2, _ = run(capsys, target, "--collapse-elsewhere")
    assert "[XFAILED] check_prefers_spread(collapse=complete)" in out2 and "collapse is prevented outside" in out2


def test_new_flags_and_diagnoses(capsys, shapes_file):
    code, out, _ = run(capsys, f"{shapes_file}:per_sample")
    assert code == 1 and out.count("[FAILED ]") == 1 and "--reduce mean" in out
    code, out, _ = run(capsys, f"{shapes_file}:per_sample", "--reduce", "mean", "--xfail", "check_prefers_spread=x",
                       "--xfail", "check_collapse_not_minimum=x")
    assert "check_preflight" not in out
    code, out, _ = run(capsys, f"{shapes_file}:dino", "--teacher", "teacher")
    assert code == 1 and "[FAILED ] check_stop_gradient" in out  # the teacher is not detached inside
    code, out, _ = run(capsys, f"{shapes_file}:dino", "--teacher", "teacher", "--teacher-detached")
    assert code == 0 and "[SKIPPED] check_stop_gradient" in out, out


def test_help_lists_every_convention(capsys):
    assert main(["check", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps the help text
    for conv in ("pair:AXIS", "stacked:AXIS", "cat:AXIS", "list", "kw:NAME1,NAME2", "single", "--teacher", "--crops",
                 "--arg", "--reduce", "--input-range", "--collapse-elsewhere"):
        assert conv in out, conv


@pytest.mark.parametrize("argv,match", [
    (["ssl_props.losses:simclr", "--xfail", "check_nothing(x=1)=why"], "match no check"),
    (["ssl_props.losses:simclr", "--arg", "q=blob(3)"], "unknown builder"),
    (["ssl_props.losses:simclr", "--crops", "0,1"], "crops"),
    (["ssl_props.losses:simclr", "--input-range", "1,-1"], "LO < HI"),
    (["ssl_props.losses:simclr", "--teacher-detached"], "--teacher NAME"),
])
def test_issue21_usage_errors_are_one_line(capsys, argv, match):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and match in err, err
