"""check_loss on losses as they are written in the wild (issue 13): stateful and fixed-shape modules, other
calling conventions, a fixed dtype, severity, declared failures, hints and identification."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ssl_props import InvalidArgument
from ssl_props.checker import check_loss
from ssl_props.checker.calling import parse_views
from ssl_props.losses import LOSSES

from .buggy_losses import simclr_normalize_no_eps

FAST = 5
vicreg = LOSSES["vicreg"].fn


class RunningCentre(torch.nn.Module):
    """DINO-style: a centre (sized on the first call) subtracted from the first view, then updated (EMA)."""

    def __init__(self):
        super().__init__()
        self.centre = None

    def forward(self, z1, z2):
        if self.centre is None:
            self.centre = torch.zeros(z1.shape[1], dtype=z1.dtype)
        loss = vicreg(z1 - self.centre, z2)
        self.centre = 0.9 * self.centre + 0.1 * z1.detach().mean(0)
        return loss


class FixedDim(torch.nn.Module):
    """A loss with a buffer sized by the embedding dimension at construction (prototypes, a queue)."""

    def __init__(self, dim: int = 5):
        super().__init__()
        self.register_buffer("scale", torch.ones(dim, dtype=torch.float64))

    def forward(self, z1, z2):
        return vicreg(z1 * self.scale, z2 * self.scale)


def bn_barlow(z1, z2):
    """solo-learn style: a BatchNorm built in float32 inside the loss (float64 inputs: 'mixed dtype')."""
    bn = torch.nn.BatchNorm1d(z1.shape[1], affine=False)
    c = bn(z1).T @ bn(z2) / z1.shape[0]
    return (1 - c.diagonal()).square().sum() + 5e-3 * (c.square().sum() - c.diagonal().square().sum())


def test_stateful_loss_is_reported_and_runs_on_fresh_copies():
    r = check_loss(RunningCentre(), like="vicreg", max_examples=FAST, identify_loss=False)
    assert any("stateful: centre" in n for n in r.notes)
    assert r.passed, r.render()  # each call on a fresh copy: the centre is 0, the loss is VICReg


def test_fixed_shape_loss_gets_one_diagnosis_then_runs_pinned():
    r = check_loss(FixedDim(), max_examples=FAST)
    assert [x.check for x in r.results] == ["check_preflight"], r.render()
    assert "every call failed the same way" in r.results[0].message and "--dim" in r.results[0].message
    pinned = check_loss(FixedDim(), like="vicreg", shapes=(None, 5), max_examples=FAST, identify_loss=False)
    assert pinned.passed, pinned.render()


@pytest.mark.parametrize("fn,views,note", [
    (lambda views: vicreg(*views), None, "list"),
    (lambda z: vicreg(z[:, 0], z[:, 1]), None, "stacked:1"),
    (lambda online, target: vicreg(online[:, 0], target[:, 0]), "pair:1", None),
    (lambda *, first, second: vicreg(first[0], second[0]), None, "kw:first,second:0"),
    (lambda z: vicreg(*z.chunk(2)), "cat:0", None),
])
def test_calling_conventions(fn, views, note):
    r = check_loss(fn, like="vicreg", views=views, max_examples=FAST)
    assert r.passed, r.render()
    assert note is None or any(note in n for n in r.notes), r.notes
    assert r.behaves_like and r.behaves_like[0]["name"] == "vicreg"


@pytest.mark.parametrize("spec", ["pairs", "list:1", "kw:a", "kw:a,b,c", "stacked:x"])
def test_bad_views_raise(spec):
    with pytest.raises(InvalidArgument, match="calling convention"):
        parse_views(spec)


def test_loss_that_cannot_run_in_float64_is_checked_in_float32():
    r = check_loss(bn_barlow, like="barlow_twins", max_examples=FAST)
    assert any("cannot run in float64" in n and "float32" in n for n in r.notes), r.notes
    assert r.passed, r.render()


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_working_dtype_with_derived_tolerances(dtype):
    r = check_loss(LOSSES["simclr"].fn, like="simclr", dtype=dtype, max_examples=FAST, identify_loss=False)
    assert r.passed, r.render()
    assert dtype in r["check_returns_finite_scalar"].message


def test_float32_tolerance_still_catches_a_wrong_loss():
    from .buggy_losses import simclr_no_self_mask

    r = check_loss(simclr_no_self_mask, like="simclr", dtype="float32", checks=["check_matches_reference_value"],
                   max_examples=FAST, identify_loss=False)
    assert r["check_matches_reference_value"].status == "failed"


def test_zero_rows_of_a_normalising_loss_warn_and_strict_fails():
    r = check_loss(simclr_normalize_no_eps, like="simclr", checks=["check_finite_gradients"], max_examples=FAST,
                   identify_loss=False)
    assert r.passed and r.counts()["warning"] == 1 and r.to_dict()["counts"]["warning"] == 1
    assert r["check_finite_gradients(kind=zero_rows)"].status == "warning"
    strict = check_loss(simclr_normalize_no_eps, like="simclr", checks=["check_finite_gradients"], max_examples=FAST,
                        identify_loss=False, strict=True)
    assert not strict.passed


def test_detached_by_design_names_xfail_and_is_declared():
    r = check_loss(LOSSES["dclw"].fn, checks=["check_gradient_matches_finite_differences"], max_examples=FAST,
                   identify_loss=False)
    assert not r.passed and "--xfail" in r.results[0].message
    ok = check_loss(LOSSES["dclw"].fn, checks=["check_gradient_matches_finite_differences"], max_examples=FAST,
                    identify_loss=False, expected_failures={"check_gradient_matches_finite_differences": "weights"})
    assert ok.passed and ok.results[0].status == "xfailed"


def test_pairwise_alignment_loss_gets_the_predictor_hint():
    def neg_cos(x0, x1):
        return -F.cosine_similarity(x0, x1, dim=1).mean()

    r = check_loss(neg_cos, checks=["check_prefers_spread"], identify_loss=False)
    msg = r["check_prefers_spread(collapse=complete)"].message
    assert "predictor" in msg and "(p, z)" in msg
    assert "predictor" not in check_loss(LOSSES["simclr"].fn, checks=["check_prefers_spread"]).render()


def test_identification_says_no_registered_loss_when_nothing_is_close():
    def constant(z1, z2):
        return (z1 * 0).sum() + 1.0

    r = check_loss(constant, checks=["check_has_gradient"])
    assert r.behaves_like == [] and r.closest is None
    assert "no registered loss" in r.render() and "closest" not in r.render()
    near = check_loss(lambda a, b: 1.001 * LOSSES["simclr"].fn(a, b) + 1e-3, checks=["check_has_gradient"])
    assert near.closest is not None and near.closest["name"] == "simclr"


@pytest.mark.parametrize("kwargs,match", [
    (dict(shapes=(1, None)), "batch"), (dict(shapes=(4,)), "shapes"), (dict(dtype="float8"), "dtype"),
    (dict(views="nope"), "calling convention"),
])
def test_bad_new_arguments(kwargs, match):
    with pytest.raises(InvalidArgument, match=match):
        check_loss(LOSSES["simclr"].fn, **kwargs)
