"""Each Garrido et al. (2023) property catches a wrong implementation, with a readable counterexample."""
from __future__ import annotations

import math

import pytest
import torch

from ssl_props.papers.garrido2023 import duality as c
from ssl_props.papers.garrido2023 import norm_bounds as cn
from ssl_props.losses import criteria as crit
from ssl_props.losses.contrastive import simclr
from ssl_props.losses.vicreg import covariance_matrix
from ssl_props.properties import PropertyViolation

from .helpers import violation_of


def lc_vector_diag(z):
    """Slip: subtract the diagonal as a broadcast vector (Definition 3.1 misread)."""
    g = crit.gram(z)
    return c.vector_diag_subtracted(g).square().sum((-2, -1))


def lc_diagonal_kept(z):
    """Slip: forgot to remove the diagonal (||KᵀK||_F² instead of L_c)."""
    return crit.gram(z).square().sum((-2, -1))


def lnc_transposed(z):
    """Slip: orientation swapped (Zᵀ Z vs Z Zᵀ), the bug that square inputs hide."""
    return crit.lc(z)


def lc_signed(z):
    """Slip: a sign error (negated criterion)."""
    return -crit.lc(z)


def vicreg_cov_uncentred(z):
    n, d = z.shape
    cov = z.T @ z / (n - 1)
    return crit.off_diagonal_sq_sum(cov) / d


def vicreg_cov_biased(z):
    n, d = z.shape
    zc = z - z.mean(0)
    return crit.off_diagonal_sq_sum(zc.T @ zc / n) / d


def barlow_unbiased(z1, z2, *, lambda_param=5e-3):
    def std(z):
        return (z - z.mean(0)) / torch.sqrt(z.var(0) + 1e-5)
    cc = std(z1).T @ std(z2) / z1.shape[0]
    return (1 - cc.diagonal()).square().sum() + lambda_param * crit.off_diagonal_sq_sum(cc)


def barlow_not_standardised(z1, z2, *, lambda_param=5e-3):
    """Slip: centred but not divided by the standard deviation (missing normalisation)."""
    a, b = z1 - z1.mean(0), z2 - z2.mean(0)
    cc = a.T @ b / z1.shape[0]
    return (1 - cc.diagonal()).square().sum() + lambda_param * crit.off_diagonal_sq_sum(cc)


def scl_wrong_scale(z1, z2):
    n = z1.shape[0]
    cross = z1 @ z2.T
    return -2 * cross.diagonal().mean() + crit.off_diagonal_sq_sum(cross) / n**2


def extract_diag_vector(a):
    return torch.diagonal(a, dim1=-2, dim2=-1).unsqueeze(-2) * torch.ones_like(a)


def c_exp_with_diagonal(z, tau):
    cc = covariance_matrix(z) / tau
    return torch.logsumexp(cc, -1).sum(-1) / cc.shape[-1]


def simclr_abs_wrong(z1, z2):
    """Plain SimCLR passed off as SimCLR-abs: not minimised at orthonormal embeddings."""
    return simclr(z1, z2)


@pytest.mark.parametrize(("check", "kwargs", "needle"), [
    (c.numeric_identity, {"lc": lc_vector_diag}, "Thm 3.3"),
    (c.numeric_identity, {"lc": lc_diagonal_kept}, "Thm 3.3"),
    (c.numeric_identity, {"lnc": lnc_transposed}, "Thm 3.3"),
    (c.numeric_identity, {"lc": lc_signed}, "Thm 3.3"),
    (c.numeric_identity_sweep, {"lc": lc_diagonal_kept}, "batch index"),
    (c.numeric_extract_diag, {"extract_diag": extract_diag_vector}, "Def. 3.1"),
    (c.numeric_criteria_invariances, {"lc": crit.lnc}, "L_c(z Q) = L_c(z)"),
    (c.numeric_criteria_invariances, {"lc": lc_signed}, "L_c ≥ 0"),
    (c.numeric_method_reductions, {"vicreg_cov": vicreg_cov_uncentred}, "VICReg c"),
    (c.numeric_method_reductions, {"vicreg_cov": vicreg_cov_biased}, "VICReg c"),
    (c.numeric_method_reductions, {"bt": barlow_unbiased}, "Barlow Twins"),
    (c.numeric_method_reductions, {"bt": barlow_not_standardised}, "Barlow Twins"),
    (c.numeric_method_reductions, {"scl": scl_wrong_scale}, "SCL"),
    (c.numeric_orthogonal_minimises, {"losses": (simclr_abs_wrong,)}, "orthonormal embeddings minimise"),
    (c.numeric_fingerprint, {"losses": {"vicreg": lambda a, b: crit.lc(a) + crit.lc(b)}}, "vicreg should be dimension-contrastive"),
    (cn.numeric_doubly_normalised_gap, {"lc": lc_diagonal_kept}, "doubly normalised"),
    (cn.numeric_cor341, {"lnc": lc_diagonal_kept}, "Cor. 3.4.1"),
    (cn.numeric_vicreg_disguised, {"cov_term": vicreg_cov_uncentred}, "Eq. 10"),
    (cn.numeric_soft_max_bounds, {"c_exp": c_exp_with_diagonal}, "upper bound"),
    (cn.numeric_lemma34, {"bounds": lambda z, a, axis: cn._bounds(z, a * 1.5, axis)}, "Lemma 3.4"),
])
def test_property_catches_wrong_version(check, kwargs, needle, no_explain):
    err = violation_of(check, **kwargs)
    msg = str(err)
    assert needle in msg, msg
    assert "fails" in msg or "should be" in msg, msg


def test_counterexample_is_readable(no_explain):
    """The message names the claim, both sides, the tolerance and the input's shape."""
    msg = str(violation_of(c.numeric_identity, lc=lc_diagonal_kept))
    assert "L_nc + Σ row⁴ =" in msg and "L_c + Σ col⁴ =" in msg and "tolerance" in msg and "shape=" in msg


def test_property_passes_on_the_correct_version():
    c.numeric_identity()
    cn.numeric_vicreg_disguised()


def test_necessity_checks_return_counterexamples():
    for fn in (c.necessity_same_matrix, cn.necessity_double_normalisation, cn.necessity_ordering_flip,
               cn.necessity_exclude_diagonal, c.necessity_abs_or_sq):
        out = fn()
        assert isinstance(out, str) and out


def test_necessity_check_raises_when_assumption_is_not_needed():
    """A necessity search that finds nothing is itself a failure."""
    from hypothesis import strategies as st

    from ssl_props.properties import find_counterexample

    with pytest.raises(PropertyViolation, match="no counterexample"):
        find_counterexample(st.integers(0, 10), lambda x: x > 100, what="x > 100", max_examples=50)


def test_simplex_cosines():
    s = c.simplex(5)
    cos = (s @ s.T)[~torch.eye(5, dtype=torch.bool)]
    assert torch.allclose(cos, torch.full_like(cos, -1 / 4), atol=1e-14)
    assert torch.allclose(s.norm(dim=1), torch.ones(5, dtype=torch.float64), atol=1e-15)


def test_tolerance_scales_with_magnitude():
    z = torch.randn(4, 3, dtype=torch.float64)
    assert float(c._qtol(1e3 * z)) == pytest.approx(1e12 * float(c._qtol(z)), rel=1e-9)
    assert math.isfinite(float(c._qtol(torch.zeros(2, 2, dtype=torch.float64))))
