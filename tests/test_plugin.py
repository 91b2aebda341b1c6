"""The pytest plugin: parametrize_with_loss_checks gives one test per check, with the check id as test id."""
from __future__ import annotations

import textwrap
import pytest

from ssl_props import InvalidArgument
from ssl_props.losses import LOSSES
from ssl_props.pytest_plugin import LossCheck, parametrize_with_loss_checks

from .buggy_losses import simclr_one_direction
from .reference_losses import simsiam_normalize

@parametrize_with_loss_checks(simsiam_normalize, like="simsiam", max_examples=4)
def test_simsiam_reimplementation(loss_check):
    loss_check()


@parametrize_with_loss_checks(simclr_one_direction, like="simclr", max_examples=4,
                              expected_failures={"check_view_symmetry": "computes one direction only (on purpose)",
                                                 "check_matches_reference_value": "not SimCLR's value",
                                                 "check_matches_reference_gradient": "not SimCLR's gradient",
                                                 "check_shares_reference_symmetries": "no view symmetry"})
def test_expected_failures_become_strict_xfail(loss_check):
    loss_check()


def _marker(fn):
    (mark,) = [m for m in fn.pytestmark if m.name == "parametrize"]
    return mark


def test_ids_are_check_ids():
    params = _marker(test_simsiam_reimplementation).args[1]
    ids = [p.id for p in params]
    assert "check_stop_gradient" in ids and "check_finite_gradients(kind=collapsed)" in ids
    assert "check_matches_reference_value" in ids and len(set(ids)) == len(ids)
    assert all(isinstance(p.values[0], LossCheck) for p in params)


def test_xfail_marks_are_strict():
    params = {p.id: p for p in _marker(test_expected_failures_become_strict_xfail).args[1]}
    (mark,) = params["check_view_symmetry"].marks
    assert mark.name == "xfail" and mark.kwargs["strict"] is True and "one direction" in mark.kwargs["reason"]
    assert not params["check_has_gradient"].marks


def test_failing_check_raises_assertion_with_evidence():
    params = {p.id: p.values[0] for p in _marker(test_expected_failures_become_strict_xfail).args[1]}
    with pytest.raises(AssertionError, match="check_view_symmetry failed: view symmetry .* fails"):
        params["check_view_symmetry"]()


def test_bad_arguments_fail_at_decoration():
    with pytest.raises(InvalidArgument, match="unknown parameter"):
        parametrize_with_loss_checks(LOSSES["simclr"].fn, like="simclr", params={"tau": 1.0})


def test_plugin_in_a_user_suite(tmp_path, capsys):
    """Run pytest (in-process) on a user's test file: one test per check, the failing one named by its id."""
    (tmp_path / "test_user_byol.py").write_text(textwrap.dedent('''
        import torch.nn.functional as F
        from ssl_props.pytest_plugin import parametrize_with_loss_checks

        def my_byol(p, z):
            return (2 - 2 * F.cosine_similarity(p, z, dim=-1)).mean()   # forgot z.detach()

        @parametrize_with_loss_checks(my_byol, like="byol", max_examples=3)
        def test_my_byol(loss_check):
            loss_check()
    '''))
    code = pytest.main(["-q", "-rf", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "-k", "stop_gradient or finite_scalar",
                        str(tmp_path / "test_user_byol.py")])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "FAILED" in out and "test_my_byol[check_stop_gradient]" in out and "stop-gradient is missing" in out
    assert "1 failed, 1 passed" in out
