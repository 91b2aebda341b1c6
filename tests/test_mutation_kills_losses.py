"""Contracts of the registered losses that ``make mutate`` found unchecked (issue 15).

Each test kills a class of surviving mutants (mutation/report.md):

* a loss called without its parameters computes the documented defaults (the paper's or lightly's):
  a mutated default changes the value;
* every loss keeps the device of its inputs, value and gradient (run on ``meta`` tensors, where a
  tensor created without ``device=`` lands on the CPU and the op fails): kills ``device=`` slips that
  a CPU-only suite cannot see;
* a loss declaring ``positive_scale`` is invariant to tiny and huge scales (1e-4, 1e4), not only to
  scales near 1: kills a normalisation whose ``eps`` is made large.
"""
from __future__ import annotations

import pytest
import torch

import ssl_props._validation as validation
from ssl_props.losses import LOSSES
from tests.test_new_shape_losses import DOCUMENTED as NEW_SHAPES_DOCUMENTED

DOCUMENTED = {
    "align_uniform": dict(t=1.0, lam=1.0, alpha=2.0),
    "barlow_twins": dict(lambda_param=0.005, eps=1e-05),
    "byol": {}, "simsiam": {},
    "dcl": dict(temperature=0.1), "dcl_abs": dict(temperature=0.1), "dcl_sq": dict(temperature=0.1),
    "dclw": dict(temperature=0.1, sigma=0.5),
    "dimension_contrastive": dict(reg_weight=1.0), "sample_contrastive": dict(reg_weight=1.0),
    "emp_ssl": dict(tcr_eps=0.2, inv_coef=200.0),
    "infonce_cross_view": dict(temperature=0.5, symmetric=False),
    "mmcr": dict(lmda=0.005),
    "simclr": dict(temperature=0.5), "simclr_abs": dict(temperature=0.5), "simclr_sq": dict(temperature=0.5),
    "spectral_contrastive": dict(mu=None),
    "tcr": dict(eps=0.2, inv_coef=1.0),
    "tico": dict(beta=0.9, rho=8.0, covariance=None),
    "vicreg": dict(lambda_param=25.0, mu_param=25.0, nu_param=1.0, eps=0.0001),
    "vicreg_ctr": dict(lambda_param=25.0, mu_param=25.0, nu_param=1.0, tau=0.5, eps=0.0001),
    "vicreg_exp": dict(lambda_param=25.0, mu_param=25.0, nu_param=1.0, tau=0.5, eps=0.0001),
    "wmse": dict(eps=0.0),
    **NEW_SHAPES_DOCUMENTED,  # DINO, SwAV, KoLeo, SIGReg, LeJEPA, MoCo, MoCo v3, SupCon (issue 21)
}
NAMES = sorted(LOSSES)


def _pair(n=24, d=6, seed=0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    z1, z2 = torch.randn(2, n, d, generator=g, dtype=torch.float64)
    return z1.to(device), (0.6 * z1 + 0.8 * z2).to(device)


@pytest.mark.parametrize("name", NAMES)
def test_defaults_are_the_documented_ones(name):
    assert name in DOCUMENTED, f"{name}: add its documented defaults (the paper's) to this table"
    info = LOSSES[name]
    assert info.defaults == DOCUMENTED[name]
    z1, z2 = _pair()
    assert torch.equal(info(z1, z2), info(z1, z2, **DOCUMENTED[name]))


@pytest.fixture
def meta_ok(monkeypatch):
    """Input validation that skips the finiteness test (a data read) for ``meta`` tensors only."""
    check = validation.check_embeddings

    def meta_tolerant(z, name, **kw):
        return z if isinstance(z, torch.Tensor) and z.is_meta else check(z, name, **kw)

    monkeypatch.setattr(validation, "check_embeddings", meta_tolerant)


@pytest.mark.parametrize("name", NAMES)
def test_every_loss_keeps_the_device(name, meta_ok):
    z1, z2 = (z.requires_grad_() for z in _pair(device="meta"))
    out = LOSSES[name](z1, z2)
    g1, = torch.autograd.grad(out, z1)
    assert out.device.type == "meta" and g1.device.type == "meta"


@pytest.mark.parametrize("name", [n for n in NAMES if "positive_scale" in LOSSES[n].invariances])
@pytest.mark.parametrize("c", [1e-4, 1e4])
def test_positive_scale_far_from_one(name, c):
    z1, z2 = _pair(seed=1)
    torch.testing.assert_close(LOSSES[name](c * z1, c * z2), LOSSES[name](z1, z2))


def test_extract_diag_over_two_batch_axes():
    """Definition 3.1's ``a ⊙ I`` for a (2, 3, 4, 4) batch, against a per-case ``diag_embed(diagonal)``."""
    from ssl_props.losses.criteria import extract_diag
    a = torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.equal(extract_diag(a), torch.diag_embed(a.diagonal(dim1=-2, dim2=-1)))
