"""check_loss: correct implementations pass with no false alarm; every collected bug is caught by its check."""
from __future__ import annotations

import functools
import math

import pytest
import torch

from ssl_props import InvalidArgument
from ssl_props.checker import (Case, CheckReport, LossCheckFailed, check_id, check_loss, identify, iter_checks,
                               make_target)
from ssl_props.losses import LOSSES

from .buggy_losses import BUGS, returns_per_sample, simclr_one_direction, vicreg_sample_gram
from .reference_losses import CORRECT, simclr_lightly

FAST = 5  # Hypothesis examples per property in these tests (the default is 25; fresh-seed runs at 60 are in the report)


@pytest.mark.parametrize("name", ["vicreg_ctr", "vicreg_exp", "simclr_abs", "sample_contrastive"])  # others: via reimplementations
def test_registered_losses_pass_against_themselves(name):
    report = check_loss(LOSSES[name].fn, like=name, max_examples=FAST, identify_loss=False)
    assert report.passed, report.render()


@pytest.mark.parametrize("fn,like,params", CORRECT, ids=[c[0].__name__ for c in CORRECT])
def test_correct_reimplementations_pass(fn, like, params):
    report = check_loss(fn, like=like, params=params, max_examples=FAST)
    assert report.passed, report.render()
    assert {"name": like, "params": report.behaves_like[0]["params"], "factor": 1.0} in report.behaves_like


@pytest.mark.parametrize("bug", BUGS, ids=[b.fn.__name__ for b in BUGS])
def test_each_collected_bug_is_caught(bug):
    report = check_loss(bug.fn, like=bug.like, params=bug.params, checks=[bug.caught_by], max_examples=FAST,
                        identify_loss=False)
    if [r.check for r in report.results] == ["check_preflight"]:  # no call gives a scalar: the pre-flight's one diagnosis
        assert bug.caught_by == "check_returns_finite_scalar", report.render()
        result = report["check_preflight"]
    else:
        result = report[bug.caught_by]
    assert result.status == bug.status, f"{bug.fn.__name__} not caught by {bug.caught_by}: {result.message}"
    assert bug.says in result.message, result.message


def test_every_check_can_fail():
    """The bug collection exercises every check the generator can yield (besides the distributed one)."""
    target = make_target(LOSSES["simclr"].fn, like="simclr")
    names = {check_id(c).split("(")[0] for c in iter_checks(target)}
    names |= {check_id(c).split("(")[0] for c in iter_checks(make_target(LOSSES["simsiam"].fn, like="simsiam"))}
    caught = {b.caught_by.split("(")[0] for b in BUGS}
    # check_matches_reference_gradient has its own test below; the teacher checks theirs in test_checker_shapes.py
    missing = names - caught - {"check_matches_reference_gradient", "check_prefers_own_target"}
    assert not missing, f"checks without a bug that fails them: {missing}"


def test_reference_gradient_check_fails_on_detached_negatives():
    from .buggy_losses import simclr_detached_negatives

    r = check_loss(simclr_detached_negatives, like="simclr", checks=["check_matches_reference_gradient"], max_examples=FAST)
    assert not r.passed and "differs" in r.results[0].message


def test_counterexample_is_shrunk_and_rebuildable():
    r = check_loss(simclr_one_direction, like="simclr", checks=["check_view_symmetry"], max_examples=FAST)
    cx = r.results[0].counterexample
    z1, z2 = Case(**cx).build()
    assert z1.shape == (cx["n"], cx["d"]) and cx["n"] <= 8
    assert not math.isclose(float(simclr_one_direction(z1, z2)), float(simclr_one_direction(z2, z1)))


def test_identify_names_the_loss_it_behaves_like():
    from .buggy_losses import simclr_cross_view_only

    matches, _ = identify(simclr_cross_view_only)
    assert {"name": "infonce_cross_view", "params": {"temperature": 0.5, "symmetric": True}, "factor": 1.0} in matches
    matches, closest = identify(returns_per_sample)
    assert matches == [] and closest is None  # not a scalar: matches nothing


def test_identify_finds_scaled_match():
    matches, _ = identify(lambda a, b: 3.0 * LOSSES["barlow_twins"].fn(a, b, lambda_param=1e-2))
    assert any(m["name"] == "barlow_twins" and m["params"] == {"lambda_param": 1e-2} and abs(m["factor"] - 3) < 1e-9
               for m in matches)


def test_class_check_without_declaration_reports_the_class():
    r = check_loss(LOSSES["vicreg"].fn, checks=["check_contrastive_class"], identify_loss=False)
    assert r.passed and "dimension-contrastive" in r.results[0].message
    r = check_loss(LOSSES["dcl"].fn, checks=["check_contrastive_class"], identify_loss=False)
    assert r.passed and "sample-contrastive" in r.results[0].message
    r = check_loss(vicreg_sample_gram, family="dimension-contrastive", checks=["check_contrastive_class"])
    assert not r.passed


def test_capabilities_from_keywords_and_signature():
    t = make_target(lambda p, z: -(p * z.detach()).sum(1).mean())  # arguments named (p, z): a predictor loss
    assert t.is_predictor and t.needs_stop_gradient
    assert not make_target(lambda p, z: 0, needs_stop_gradient=False).needs_stop_gradient
    ids = [check_id(c) for c in iter_checks(make_target(LOSSES["simclr"].fn, invariances=["view_swap"]))]
    assert "check_view_symmetry" in ids and "check_stop_gradient" not in ids


def test_expected_failures_are_strict():
    r = check_loss(simclr_one_direction, like="simclr", checks=["check_view_symmetry", "check_batch_permutation"],
                   max_examples=FAST, identify_loss=False,
                   expected_failures={"check_view_symmetry": "one-directional on purpose",
                                      "check_batch_permutation_invariance": "claimed broken"})
    assert r["check_view_symmetry"].status == "xfailed"
    assert r["check_batch_permutation_invariance"].status == "xpassed" and not r.passed


def test_on_fail_raise_and_warn():
    with pytest.raises(LossCheckFailed, match="check_preflight"):
        check_loss(returns_per_sample, checks=["check_returns_finite_scalar"], on_fail="raise")
    with pytest.warns(UserWarning, match="check_preflight failed"):
        check_loss(returns_per_sample, checks=["check_returns_finite_scalar"], on_fail="warn", identify_loss=False)


def test_user_examples_are_checked_and_validated():
    a = torch.randn(4, 3, dtype=torch.float64)
    r = check_loss(simclr_lightly, checks=["check_returns_finite_scalar"], examples=[(a, a.flip(0))], max_examples=2)
    assert r.passed
    bad = a.clone()
    bad[1, 2] = float("nan")
    with pytest.raises(InvalidArgument, match="NaN"):
        check_loss(simclr_lightly, examples=[(bad, a)])


@pytest.mark.parametrize("kwargs,match", [
    (dict(fn=42), "callable"),
    (dict(fn=lambda: 0), "two positional"),
    (dict(fn=simclr_lightly, like="simclrr"), "registered losses"),
    (dict(fn=simclr_lightly, like="simclr", params={"tau": 0.1}), "unknown parameter"),
    (dict(fn=simclr_lightly, like="simclr", params={"temperature": -1.0}), "temperature"),
    (dict(fn=simclr_lightly, params={"temperature": 0.1}), "like=NAME"),
    (dict(fn=simclr_lightly, max_examples=0), "max_examples"),
    (dict(fn=simclr_lightly, checks=["check_nothing"]), "unknown or inapplicable"),
    (dict(fn=simclr_lightly, on_fail="explode"), "on_fail"),
    (dict(fn=simclr_lightly, family="contrastive"), "family"),
    (dict(fn=simclr_lightly, distributed=1), "distributed"),
])
def test_bad_arguments_raise_invalid_argument(kwargs, match):
    with pytest.raises(InvalidArgument, match=match):
        check_loss(**kwargs)


def test_loss_that_raises_is_a_failure_not_a_crash():
    def broken(z1, z2):
        raise RuntimeError("shape mismatch in my loss")

    r = check_loss(broken, checks=["check_returns_finite_scalar", "check_prefers_spread"], identify_loss=False)
    assert not r.passed and all("RuntimeError" in x.message for x in r.results)
    # one diagnosis, not one copy of the crash per check
    assert [x.check for x in r.results] == ["check_preflight"] and "every call failed" in r.results[0].message


def test_report_renders_in_every_format():
    from .buggy_losses import returns_detached

    r = check_loss(returns_detached, checks=["check_returns_finite_scalar", "check_has_gradient"], max_examples=2)
    assert isinstance(r, CheckReport) and not r.passed
    assert "FAILED" in r.render("text") and "| `check_has_gradient` |" in r.render("markdown")
    assert r.to_dict()["counts"] == {"passed": 1, "failed": 1, "skipped": 0, "xfailed": 0, "xpassed": 0, "warning": 0}


def test_partial_variants_have_keyword_ids():
    from ssl_props.checker import checks

    assert check_id(functools.partial(checks.check_finite_gradients, kind="collapsed")) == \
        "check_finite_gradients(kind=collapsed)"


def test_like_reads_the_registered_design_choices():
    """SwAV's codes carry no gradient by design (LossInfo.expected_failures): check_loss(like="swav") settles that
    check as xfailed without the caller declaring it; without the registry's declaration the same check fails."""
    from ssl_props.checker import check_loss
    from ssl_props.losses import LOSSES

    declared = check_loss(LOSSES["swav"].fn, like="swav", max_examples=4)
    assert declared.passed
    assert [r.status for r in declared.results if r.check.startswith("check_gradient_matches_finite_differences")] == ["xfailed"]
    plain = check_loss(LOSSES["swav"].fn, max_examples=4)
    assert any(r.check.startswith("check_gradient_matches_finite_differences") and r.status == "failed" for r in plain.results)
