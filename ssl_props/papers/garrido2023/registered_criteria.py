"""Garrido et al. (2023, arXiv:2206.02574) on the REGISTERED losses (issue 15): Definition 3.2's criteria,
equations 8-10 (VICReg = invariance + variance + (L_c + L_reg)/M), Theorem 3.3 applied to Barlow Twins and
Lemma 3.4 with the spectral contrastive loss's radius √μ, each checked on ``get_loss(name).fn`` (looked up at
run time, so a mutant of a registered loss fails here) against the paper's formulas written out again below
with einsum (independent of :mod:`ssl_props.losses`). Orientation: ``z`` is ``(n, d)`` = ``Kᵀ``.

Every parameter of the code path is drawn: the criteria's ``reg_weight``; VICReg's λ, μ, ν and ε; Barlow
Twins' λ and ε; the spectral contrastive loss's μ (from a range that excludes 1, where √μ = μ).
"""
from __future__ import annotations

import math

import torch
from hypothesis import given, strategies as st

from ssl_props import tolerances as tol
from ssl_props.losses import get_loss
from ssl_props.papers.garrido2023.duality import _qtol  # the quartic-identity tolerance, as norm_bounds uses it
from ssl_props.properties import assert_close, assert_leq, find_counterexample
from ssl_props.profiles import budget
from ssl_props.strategies import KINDS, embeddings, view_pairs


def lc_einsum(z: torch.Tensor) -> torch.Tensor:
    """Definition 3.2, written again: ``L_c = Σ_{i≠j} (z_i · z_j)² = ‖z zᵀ‖²_F − Σ_i ‖z_i‖⁴``."""
    return torch.einsum("ik,jk->ij", z, z).square().sum() - z.square().sum(1).square().sum()


def lnc_einsum(z: torch.Tensor) -> torch.Tensor:
    """Definition 3.2, written again: ``L_nc = Σ_{k≠l} (z_·k · z_·l)² = ‖zᵀ z‖²_F − Σ_k ‖z_·k‖⁴``."""
    return torch.einsum("ik,il->kl", z, z).square().sum() - z.square().sum(0).square().sum()


def _pairs(n=(2, 8), d=(2, 8), scales=(0.5, 1.0, 2.0)):
    return view_pairs(embeddings(n=n, d=d, kinds=KINDS, scales=scales), transforms=("noise", "orthogonal"), noise=0.5)


# ---------------------------------------------------------------- Definition 3.2 on the registered criteria
def numeric_registered_criteria() -> None:
    """``sample_contrastive = Σ_i ‖z1_i − z2_i‖² + w (L_c(z1) + L_c(z2))`` and ``dimension_contrastive`` with L_nc,
    at drawn w; and, by Theorem 3.3, their difference is ``w Σ_views (Σ_k ‖z_·k‖⁴ − Σ_i ‖z_i‖⁴)``."""
    @budget(0.2)
    @given(_pairs(), st.floats(0.05, 10.0))
    def run(pair, w):
        z1, z2 = pair
        inv = (z1 - z2).square().sum()
        sc = get_loss("sample_contrastive").fn(z1, z2, reg_weight=w)
        dc = get_loss("dimension_contrastive").fn(z1, z2, reg_weight=w)
        t = (1 + w) * 4 * (_qtol(z1) + _qtol(z2)) + tol.sum_of_products(z1.dtype, z1.numel(), 4 * float(inv) + 1)
        assert_close(sc, inv + w * (lc_einsum(z1) + lc_einsum(z2)), t, inputs=(z1, z2),
                     claim="Def. 3.2: registered sample_contrastive = Σ‖z1_i − z2_i‖² + w (L_c(z1) + L_c(z2))")
        assert_close(dc, inv + w * (lnc_einsum(z1) + lnc_einsum(z2)), t, inputs=(z1, z2),
                     claim="Def. 3.2: registered dimension_contrastive = Σ‖z1_i − z2_i‖² + w (L_nc(z1) + L_nc(z2))")
        norms = sum(z.square().sum(0).square().sum() - z.square().sum(1).square().sum() for z in (z1, z2))
        assert_close(sc - dc, w * norms, 2 * t, inputs=(z1, z2),
                     claim="Thm 3.3: sample_contrastive − dimension_contrastive = w Σ (Σ‖dims‖⁴ − Σ‖embeddings‖⁴)")
    run()


# ---------------------------------------------------------------- eqs. 8-10 on the registered VICReg
def vicreg_eq10(z1: torch.Tensor, z2: torch.Tensor, lam: float, mu: float, nu: float, eps: float) -> torch.Tensor:
    """Eqs. 8-10 written out: ``λ ‖z1 − z2‖²_F/(n d) + μ ½ Σ_v (1/d) Σ_k relu(1 − √(C_v,kk + ε)) +
    ν Σ_v (L_c(Y_v) + L_reg(Y_v))/d``, ``Y_v = (z_v − z̄_v)/√(n − 1)``, ``C_v = Y_vᵀ Y_v`` (unbiased, as the
    official code's ``torch.var``); the ½ over the two views is the official code's (and lightly's) convention."""
    n, d = z1.shape
    out = lam * (z1 - z2).square().sum() / (n * d)
    for z in (z1, z2):
        y = (z - z.mean(0, keepdim=True)) / math.sqrt(n - 1)
        var = torch.einsum("ik,ik->k", y, y)
        out = out + mu * 0.5 * torch.relu(1 - (var + eps).sqrt()).sum() / d
        lreg = y.square().sum(1).square().sum() - y.square().sum(0).square().sum()
        out = out + nu * (lc_einsum(y) + lreg) / d
    return out


def numeric_registered_vicreg() -> None:
    """The registered VICReg equals eqs. 8-10 at drawn (λ, μ, ν, ε): its covariance term is (L_c + L_reg)/M."""
    @budget(0.2)
    @given(_pairs(), st.floats(0.1, 30.0), st.floats(0.1, 30.0), st.floats(0.01, 5.0), st.sampled_from((1e-4, 1e-2)))
    def run(pair, lam, mu, nu, eps):
        z1, z2 = pair
        n, d = z1.shape
        got = get_loss("vicreg").fn(z1, z2, lambda_param=lam, mu_param=mu, nu_param=nu, eps=eps)
        want = vicreg_eq10(z1, z2, lam, mu, nu, eps)
        y = [(z - z.mean(0)) / math.sqrt(n - 1) for z in (z1, z2)]
        t = (nu * 8 * (_qtol(y[0]) + _qtol(y[1])) / d + tol.sum_of_products(z1.dtype, 4 * n * d, lam * 4 * float(
            (z1.square() + z2.square()).sum()) / (n * d) + mu * 2))
        assert_close(got, want, t, claim="Eqs. 8-10: registered VICReg = λ inv + μ ½Σ_v v(z_v) + ν Σ_v (L_c + L_reg)(Y_v)/M",
                     names=("registered vicreg", "eqs. 8-10"), inputs=(z1, z2))
    run()


# ---------------------------------------------------------------- Theorem 3.3 on the registered Barlow Twins
def standardised(z: torch.Tensor, eps: float) -> torch.Tensor:
    """BatchNorm over the batch (biased variance + ε), as Barlow Twins' code: ``(z − z̄)/√(σ²_biased + ε)``."""
    zc = z - z.mean(0, keepdim=True)
    return zc / (torch.einsum("ik,ik->k", zc, zc) / z.shape[0] + eps).sqrt()


def barlow_as_sample_contrastive(z: torch.Tensor, lam: float, eps: float) -> torch.Tensor:
    """Same-view Barlow Twins through Theorem 3.3: ``Σ_k (1 − ‖ẑ_·k‖²/n)² + λ (L_c(ẑ) + Σ_i‖ẑ_i‖⁴ − Σ_k‖ẑ_·k‖⁴)/n²``."""
    zs = standardised(z, eps)
    n = z.shape[0]
    on = (1 - zs.square().sum(0) / n).square().sum()
    return on + lam * (lc_einsum(zs) + zs.square().sum(1).square().sum() - zs.square().sum(0).square().sum()) / n**2


def numeric_registered_barlow() -> None:
    """Registered Barlow Twins with K = K' equals its Theorem 3.3 form at drawn (λ, ε): a sample-contrastive L_c of
    the standardised embeddings plus norm terms. Tolerance: quartic forms of ẑ (‖ẑ‖²_F ≤ n d) over n²."""
    @budget(0.2)
    @given(embeddings(n=(2, 8), d=(1, 8), kinds=KINDS, scales=(0.5, 1.0, 2.0)), st.floats(1e-3, 5.0),
           st.sampled_from((1e-5, 1e-2)))
    def run(z, lam, eps):
        n, d = z.shape
        got = get_loss("barlow_twins").fn(z, z, lambda_param=lam, eps=eps)
        zs = standardised(z, eps)
        t = (1 + lam) * 8 * _qtol(zs) / n**2 + tol.sum_of_products(z.dtype, 4 * n * d, 4 * d)
        assert_close(got, barlow_as_sample_contrastive(z, lam, eps), t, inputs=z, names=("registered BT", "Thm 3.3 form"),
                     claim="Thm 3.3: BT(K, K) = Σ(1 − C_kk)² + λ (L_c(Ẑ) + Σ‖Ẑ_i‖⁴ − Σ‖Ẑ_·k‖⁴)/n²")
    run()


def necessity_barlow_same_view() -> str:
    """With two views (K ≠ K'), Barlow Twins' redundancy is no Theorem 3.3 form of either view."""
    def refutes(pair) -> bool:
        z1, z2 = pair
        got = get_loss("barlow_twins").fn(z1, z2, lambda_param=1.0)
        return bool((got - barlow_as_sample_contrastive(z1, 1.0, 1e-5)).abs() > 1e6 * _qtol(standardised(z1, 1e-5)))
    z1, z2 = find_counterexample(_pairs(n=(3, 6), d=(2, 5), scales=(1.0,)), refutes, max_examples=30,
                                 what="cross-view Barlow Twins equal to the same-view Theorem 3.3 form")
    return f"views of shape {tuple(z1.shape)}: BT(z1, z2) ≠ the Theorem 3.3 form of z1 (cross-correlation, not one matrix)"


# ---------------------------------------------------------------- Lemma 3.4 with the spectral contrastive loss
DENSE = ("gaussian", "heavy_tailed", "low_rank", "ill_conditioned")  # no zero rows: every embedding reaches radius √μ
MU = st.one_of(st.floats(0.1, 0.8), st.floats(1.25, 10.0))  # excludes μ ≈ 1, where radius μ = √μ


def numeric_registered_scl_radius() -> None:
    """``spectral_contrastive(z, z, μ)`` projects embeddings to radius √μ: it equals ``−2μ + L_c(K)/(n(n−1))`` with
    ``K = √μ z/‖z‖`` built here, and L_c(K) obeys Lemma 3.4 + Theorem 3.3 at a = √μ:
    ``L_nc − nμ² + n²μ²/d ≤ L_c ≤ L_nc − nμ² + n²μ²``."""
    @budget(0.2)
    @given(embeddings(n=(2, 8), d=(1, 8), kinds=DENSE, scales=(0.5, 1.0, 2.0)), MU)
    def run(z, mu):
        n, d = z.shape
        k = math.sqrt(mu) * z / z.norm(dim=1, keepdim=True).clamp_min(torch.finfo(z.dtype).tiny)
        lc, lnc = lc_einsum(k), lnc_einsum(k)
        t = 4 * _qtol(k)
        got = get_loss("spectral_contrastive").fn(z, z, mu=mu)
        assert_close(got, -2 * mu + lc / (n * (n - 1)), t / (n * (n - 1)) + tol.sum_of_products(z.dtype, n * d, 2 * mu),
                     claim="SCL(z, z; μ) = −2μ + L_c(√μ ẑ)/(n(n−1)) (radius √μ)", inputs=z)
        assert_leq(lnc - n * mu**2 + n * n * mu**2 / d, lc, t, claim="Lemma 3.4 at a = √μ: lower bound on L_c", inputs=z)
        assert_leq(lc, lnc - n * mu**2 + n * n * mu**2, t, claim="Lemma 3.4 at a = √μ: upper bound on L_c", inputs=z)
    run()


def necessity_scl_radius() -> str:
    """Without the projection (μ unset), embedding norms differ and the a = √(mean ‖z_i‖²) lower bound fails."""
    def refutes(z) -> bool:
        n, d = z.shape
        a2 = float(z.square().sum(1).mean())
        return float(lc_einsum(z)) < float(lnc_einsum(z)) - n * a2**2 + n * n * a2**2 / d - 1e6 * float(_qtol(z))
    z = find_counterexample(embeddings(n=(3, 6), d=(2, 6), kinds=("gaussian",), scales=(1.0,)), refutes,
                            what="raw embeddings obeying the a = √μ bounds")
    return f"z of shape {tuple(z.shape)} (μ unset, unequal norms): L_c below the Lemma 3.4 lower bound"
