"""Checks of Garrido et al. (2023, arXiv:2206.02574) about norm constraints and VICReg's variants:
the doubly-normalised constant (remark on Thm 3.3), Lemma 3.4 and its remark, Corollary 3.4.1, and
equations 8-13. Orientation: ``z`` is ``(n, d)`` = ``Kᵀ`` (``N = n`` samples, ``M = d`` dimensions).
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from hypothesis import given, strategies as st

from ssl_props import tolerances as tol
from ssl_props.device import default_device
from ssl_props.losses import criteria as crit
from ssl_props.losses.vicreg import covariance_matrix, covariance_term, exp_covariance_term, invariance_term, variance_term, vicreg_ctr
from ssl_props.properties import PropertyViolation, assert_close, assert_leq, find_counterexample
from ssl_props.strategies import SEEDS, KINDS, embeddings, normalized_embeddings
from ssl_props.papers.garrido2023.duality import _qtol

F64 = torch.float64


def _scalar(x: float, like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(x, dtype=like.dtype, device=like.device)


# ---------------------------------------------------------------- remark on Thm 3.3: doubly-normalised constant
def _norm_and_z(normalize: str):
    return st.sampled_from((0.5, 1.0, 2.0)).flatmap(
        lambda a: st.tuples(st.just(a), normalized_embeddings(n=(1, 8), d=(1, 8), normalize=normalize, norm=a)))


def numeric_doubly_normalised_gap(*, lc: Callable = crit.lc, lnc: Callable = crit.lnc) -> None:
    """Samples of norm c and dimensions of norm r = c·sqrt(n/d): L_nc − L_c = n c⁴ − d r⁴ = n c⁴ (1 − n/d)."""

    @given(_norm_and_z("both"))
    def run(arg):
        c, z = arg
        n, d = z.shape
        expected = n * c**4 - d * (c * c * n / d) ** 2
        assert_close(lnc(z) - lc(z), _scalar(expected, z), 2 * _qtol(z),
                     claim="Thm 3.3 (doubly normalised): L_nc − L_c = N c⁴ − M r⁴", names=("L_nc − L_c", "N c⁴ − M r⁴"), inputs=z)

    run()


def necessity_double_normalisation() -> str:
    """With unit embeddings only, L_nc − L_c is not the constant N − N²/M."""
    def refutes(z):
        n, d = z.shape
        return bool((crit.lnc(z) - crit.lc(z) - (n - n * n / d)).abs() > 1e6 * _qtol(z))

    z = find_counterexample(normalized_embeddings(n=(2, 6), d=(2, 6), normalize="samples"), refutes,
                            what="a constant L_nc − L_c under single (sample) normalisation")
    n, d = z.shape
    return (f"unit embeddings of shape {tuple(z.shape)}: L_nc − L_c = {float(crit.lnc(z) - crit.lc(z)):.6g} ≠ "
            f"N − N²/M = {n - n * n / d:.6g}")


def necessity_ordering_flip() -> str:
    """Single normalisation does not even preserve the ordering: K1 = [[1,1],[0,0]], K2 = [[1,0],[1,0]]
    (unit embeddings as columns of K) give L_c(K1) > L_c(K2) but L_nc(K1) < L_nc(K2)."""
    k1 = torch.tensor([[1.0, 1.0], [0.0, 0.0]], dtype=F64)
    k2 = torch.tensor([[1.0, 0.0], [1.0, 0.0]], dtype=F64)
    z1, z2 = k1.T, k2.T
    if not (float(crit.lc(z1)) > float(crit.lc(z2)) and float(crit.lnc(z1)) < float(crit.lnc(z2))):
        raise PropertyViolation("the ordering-flip witness does not flip")
    return (f"K1 = [[1,1],[0,0]]: L_c = {float(crit.lc(z1)):g}, L_nc = {float(crit.lnc(z1)):g}; "
            f"K2 = [[1,0],[1,0]]: L_c = {float(crit.lc(z2)):g}, L_nc = {float(crit.lnc(z2)):g}")


# ---------------------------------------------------------------- Lemma 3.4 (norm constraints propagate)
def _bounds(z: torch.Tensor, a: float, axis: str, lower_only: bool = False) -> None:
    """Lemma 3.4 for equal sample norms a (axis="samples"): N² a⁴/M ≤ Σ feature norms⁴ ≤ N² a⁴; and the
    dual for equal feature norms (axis="features"): M² a⁴/N ≤ Σ sample norms⁴ ≤ M² a⁴."""
    n, d = z.shape
    if axis == "samples":
        s, lo, hi = crit.feature_norms4(z), n * n * a**4 / d, n * n * a**4
    else:
        s, lo, hi = crit.sample_norms4(z), d * d * a**4 / n, d * d * a**4
    t = _qtol(z)
    assert_leq(_scalar(lo, z), s, t, claim=f"Lemma 3.4 lower bound ({axis} of norm {a})", names=("bound", "Σ norms⁴"), inputs=z)
    if not lower_only:
        assert_leq(s, _scalar(hi, z), t, claim=f"Lemma 3.4 upper bound ({axis} of norm {a})", names=("Σ norms⁴", "bound"), inputs=z)


def numeric_lemma34(*, bounds: Callable = _bounds) -> None:
    """Lemma 3.4 on drawn matrices with equal sample norms, and (dual) with equal feature norms."""

    @given(_norm_and_z("samples"), _norm_and_z("features"))
    def run(by_samples, by_features):
        bounds(by_samples[1], by_samples[0], "samples")
        bounds(by_features[1], by_features[0], "features")

    run()


def numeric_lemma34_equality(*, bounds: Callable = _bounds) -> None:
    """Equality cases: z = (a/√d) 1 1ᵀ (every feature norm equal) attains the lower bound; z = a 1 e_1ᵀ
    (one active dimension) attains the upper bound."""

    @given(st.integers(1, 10), st.integers(1, 10), st.sampled_from((0.5, 1.0, 2.0)))
    def run(n, d, a):
        const = torch.full((n, d), a / math.sqrt(d), dtype=F64, device=default_device())
        one = torch.zeros(n, d, dtype=F64, device=default_device())
        one[:, 0] = a
        assert_close(crit.feature_norms4(const), _scalar(n * n * a**4 / d, const), _qtol(const),
                     claim="Lemma 3.4 lower bound attained by a constant matrix", inputs=const)
        assert_close(crit.feature_norms4(one), _scalar(n * n * a**4, one), _qtol(one),
                     claim="Lemma 3.4 upper bound attained by one active dimension", inputs=one)
        bounds(const, a, "samples")
        bounds(one, a, "samples")

    run()


def _unequal_bounds_fail(z: torch.Tensor) -> bool:
    norms = z.norm(dim=1)
    s, n, d = crit.feature_norms4(z), *z.shape
    t = 1e6 * _qtol(z)
    return bool((s < n * n * norms.max() ** 4 / d - t) | (s > n * n * norms.min() ** 4 + t))


def necessity_equal_sample_norms() -> str:
    """With unequal embedding norms, neither a = max norm (lower bound) nor a = min norm (upper) holds."""
    z = find_counterexample(embeddings(n=(2, 6), d=(1, 6), kinds=KINDS, scales=(1.0,)), _unequal_bounds_fail,
                            what="Lemma 3.4's bounds with unequal embedding norms")
    nm = z.norm(dim=1)
    n, d = z.shape
    return (f"z of shape {tuple(z.shape)} with embedding norms in [{float(nm.min()):.4g}, {float(nm.max()):.4g}]: "
            f"Σ feature norms⁴ = {float(crit.feature_norms4(z)):.6g} is outside [N²a_max⁴/M, N²a_min⁴] = "
            f"[{float(n * n * nm.max() ** 4 / d):.6g}, {float(n * n * nm.min() ** 4):.6g}]")


def necessity_equal_feature_norms() -> str:
    """The dual statement needs equal dimension norms: the same counterexample on zᵀ."""
    z = find_counterexample(embeddings(n=(1, 6), d=(2, 6), kinds=KINDS, scales=(1.0,)), lambda z: _unequal_bounds_fail(z.T),
                            what="the dual Lemma 3.4 bounds with unequal dimension norms")
    nm = z.norm(dim=0)
    return (f"z of shape {tuple(z.shape)} with dimension norms in [{float(nm.min()):.4g}, {float(nm.max()):.4g}]: "
            f"Σ sample norms⁴ = {float(crit.sample_norms4(z)):.6g} violates the dual bounds")


# ---------------------------------------------------------------- remark: the lower bound is not collapse
def numerical_rank(z: torch.Tensor) -> int:
    """Rank with the LAPACK convention: singular values above max(n, d)·eps·σ_max."""
    s = torch.linalg.svdvals(z)
    return int((s > max(z.shape) * torch.finfo(z.dtype).eps * s.max()).sum())


def numeric_lower_bound_full_rank() -> None:
    """Doubly-normalised (generic, full-rank) matrices attain Lemma 3.4's lower bound N²a⁴/M: reaching it
    does not mean collapse."""

    @given(_norm_and_z("both"))
    def run(arg):
        a, z = arg
        n, d = z.shape
        assert_close(crit.feature_norms4(z), _scalar(n * n * a**4 / d, z), 2 * _qtol(z),
                     claim="a doubly-normalised matrix attains the lower bound", inputs=z)
        if numerical_rank(z) != min(n, d):
            raise PropertyViolation(f"drawn doubly-normalised z of shape {(n, d)} has rank {numerical_rank(z)} < {min(n, d)}")

    run()


def numeric_upper_bound_collapse() -> None:
    """Attaining the upper bound N²a⁴ forces collapse: with ≥ 2 non-zero dimensions the gap is at least
    2 Σ_{j<k} x_j x_k > 0 (x_j = squared dimension norms)."""

    @given(_norm_and_z("samples"))
    def run(arg):
        a, z = arg
        n, d = z.shape
        x = z.square().sum(0)
        gap = n * n * a**4 - crit.feature_norms4(z)
        cross = x.sum().square() - x.square().sum()
        assert_close(gap, cross, 2 * _qtol(z), claim="upper-bound gap = 2 Σ_{j<k} x_j x_k", inputs=z)

    run()


def necessity_equal_dimension_norms() -> str:
    """Without equal dimension norms, a unit-embedding matrix stays strictly above the lower bound."""
    def refutes(z):
        n, d = z.shape
        return bool(crit.feature_norms4(z) - n * n / d > 1e6 * _qtol(z))

    z = find_counterexample(normalized_embeddings(n=(2, 6), d=(2, 6), normalize="samples"), refutes,
                            what="the lower bound attained without equal dimension norms")
    n, d = z.shape
    return f"unit embeddings of shape {(n, d)}: Σ feature norms⁴ = {float(crit.feature_norms4(z)):.6g} > N²/M = {n * n / d:.6g}"


# ---------------------------------------------------------------- Corollary 3.4.1 (bounded gap)
def _gap_bounds(z: torch.Tensor, axis: str, lc: Callable, lnc: Callable) -> None:
    n, d = z.shape
    t = 2 * _qtol(z)
    if axis == "samples":  # unit embeddings: L_nc − N + N²/M ≤ L_c ≤ L_nc − N + N²
        mid, lo, hi, names = lc(z), lnc(z) - n + n * n / d, lnc(z) - n + n * n, "L_c"
    else:  # unit dimensions: L_c − M + M²/N ≤ L_nc ≤ L_c − M + M²
        mid, lo, hi, names = lnc(z), lc(z) - d + d * d / n, lc(z) - d + d * d, "L_nc"
    assert_leq(lo, mid, t, claim=f"Cor. 3.4.1 lower bound (unit {axis})", names=("bound", names), inputs=z)
    assert_leq(mid, hi, t, claim=f"Cor. 3.4.1 upper bound (unit {axis})", names=(names, "bound"), inputs=z)


def numeric_cor341(*, lc: Callable = crit.lc, lnc: Callable = crit.lnc) -> None:
    """Corollary 3.4.1 for unit embeddings and (dual) for unit dimensions."""

    @given(normalized_embeddings(n=(1, 10), d=(1, 10), normalize="samples", kinds=KINDS),
           normalized_embeddings(n=(1, 10), d=(1, 10), normalize="features", kinds=KINDS))
    def run(zs, zf):
        _gap_bounds(zs, "samples", lc, lnc)
        _gap_bounds(zf, "features", lc, lnc)

    run()


def _cor_fails(z: torch.Tensor, axis: str) -> bool:
    try:
        _gap_bounds(z, axis, crit.lc, crit.lnc)
    except PropertyViolation:
        return True
    return False


def necessity_unit_embeddings() -> str:
    z = find_counterexample(embeddings(n=(2, 6), d=(2, 6), kinds=KINDS), lambda z: _cor_fails(z, "samples"),
                            what="Cor. 3.4.1 without unit embeddings")
    return f"z of shape {tuple(z.shape)}, embedding norms not 1: L_c = {float(crit.lc(z)):.6g}, L_nc = {float(crit.lnc(z)):.6g} break the bounds"


def necessity_unit_dimensions() -> str:
    z = find_counterexample(embeddings(n=(2, 6), d=(2, 6), kinds=KINDS), lambda z: _cor_fails(z, "features"),
                            what="the dual Cor. 3.4.1 without unit dimensions")
    return f"z of shape {tuple(z.shape)}, dimension norms not 1: L_c = {float(crit.lc(z)):.6g}, L_nc = {float(crit.lnc(z)):.6g} break the bounds"


# ---------------------------------------------------------------- eqs. 8-10: VICReg as L_c + L_reg
def vicreg_as_sample_contrastive(z: torch.Tensor) -> torch.Tensor:
    """Eq. 10's reading of VICReg's covariance term: (L_c(Y) + L_reg(Y))/d, Y = (z − z̄)/sqrt(n − 1)."""
    n, d = z.shape
    y = (z - z.mean(0, keepdim=True)) / math.sqrt(n - 1)
    return (crit.lc(y) + crit.l_reg(y)) / d


def numeric_vicreg_disguised(*, cov_term: Callable = covariance_term) -> None:
    """VICReg's covariance regulariser equals (L_c + L_reg)/d on the centred, 1/sqrt(n−1)-scaled embeddings."""

    @given(embeddings(n=(2, 10), d=(1, 10), kinds=KINDS))
    def run(z):
        n, d = z.shape
        y = (z - z.mean(0, keepdim=True)) / math.sqrt(n - 1)
        assert_close(cov_term(z), vicreg_as_sample_contrastive(z), 4 * _qtol(y) / d,
                     claim="Eq. 10: VICReg c(z) = (L_c(Y) + L_reg(Y))/d", names=("VICReg c", "(L_c + L_reg)/d"), inputs=z)

    run()


def necessity_same_centred_matrix() -> str:
    def raw(z):
        n, d = z.shape
        y = z / math.sqrt(n - 1)
        return (crit.lc(y) + crit.l_reg(y)) / d

    z = find_counterexample(embeddings(n=(2, 6), d=(1, 6), kinds=("gaussian",), scales=(1.0,)),
                            lambda z: bool((covariance_term(z) - raw(z)).abs() > 1e6 * _qtol(z)),
                            what="eq. 10 with L_c, L_reg on the uncentred matrix")
    return f"z of shape {tuple(z.shape)}: VICReg c = {float(covariance_term(z)):.6g} but uncentred (L_c + L_reg)/d = {float(raw(z)):.6g}"


# ---------------------------------------------------------------- eqs. 11-13: VICReg-exp / VICReg-ctr
def _lse_tol(c: torch.Tensor, tau: float) -> torch.Tensor:
    """LogSumExp of d terms of size |C|/τ: rounding ≤ d·eps·(|C|max/τ + log d)."""
    d = c.shape[-1]
    return tol.sum_of_products(c.dtype, d * d, c.abs().max() / tau + math.log(d) + 1.0)


def numeric_soft_max_bounds(*, c_exp: Callable = exp_covariance_term) -> None:
    """c_exp is a soft maximum: (1/d)Σ_i max_{j≠i} C_ij/τ ≤ c_exp ≤ that + log(d − 1)."""

    @given(embeddings(n=(2, 10), d=(2, 8), kinds=KINDS), st.sampled_from((0.1, 0.5, 1.0)))
    def run(z, tau):
        c = covariance_matrix(z)
        d = c.shape[-1]
        mx = c.masked_fill(torch.eye(d, dtype=torch.bool, device=c.device), float("-inf")).amax(-1).sum() / (d * tau)
        t = _lse_tol(c, tau)
        v = c_exp(z, tau)
        assert_leq(mx, v, t, claim="eq. 11 lower bound: c_exp ≥ mean of row maxima / τ", names=("max", "c_exp"), inputs=z)
        assert_leq(v, mx + math.log(d - 1), t, claim="eq. 11 upper bound: c_exp ≤ max + log(d − 1)", names=("c_exp", "bound"), inputs=z)

    run()


def numeric_ctr_is_transposed_exp(*, ctr: Callable = vicreg_ctr) -> None:
    """Eq. 13: VICReg-ctr = λ mse + μ ½(v(z1ᵀ) + v(z2ᵀ)) + ν(c_exp(z1ᵀ) + c_exp(z2ᵀ))."""

    @given(embeddings(n=(2, 8), d=(2, 8), kinds=KINDS), SEEDS)
    def run(z1, seed):
        g = torch.Generator().manual_seed(seed)
        z2 = z1 + 0.1 * torch.randn(z1.shape, generator=g, dtype=F64).to(z1)
        lam, mu, nu, tau = 25.0, 25.0, 1.0, 0.5
        want = (lam * invariance_term(z1, z2) + mu * 0.5 * (variance_term(z1.T) + variance_term(z2.T))
                + nu * (exp_covariance_term(z1.T, tau) + exp_covariance_term(z2.T, tau)))
        got = ctr(z1, z2, lambda_param=lam, mu_param=mu, nu_param=nu, tau=tau)
        t = _lse_tol(covariance_matrix(z1.T), tau) * 4 + tol.sum_of_products(F64, z1.numel(), want.abs())
        assert_close(got, want, t, claim="eq. 13: VICReg-ctr = VICReg-exp on transposed embeddings", inputs=z1)

    run()


def necessity_exclude_diagonal() -> str:
    """With each dimension's own variance inside the LogSumExp the soft-max upper bound fails."""
    def with_diag(z, tau):
        c = covariance_matrix(z) / tau
        return torch.logsumexp(c, -1).sum() / c.shape[-1]

    def refutes(z):
        c = covariance_matrix(z)
        d = c.shape[-1]
        mx = c.masked_fill(torch.eye(d, dtype=torch.bool, device=c.device), float("-inf")).amax(-1).sum() / (d * 0.5)
        return bool(with_diag(z, 0.5) > mx + math.log(d - 1) + 1e-6)

    z = find_counterexample(embeddings(n=(2, 6), d=(2, 6), kinds=("gaussian",), scales=(1.0,)), refutes,
                            what="the soft-max bound with the diagonal included")
    return f"z of shape {tuple(z.shape)}: LogSumExp including the variances = {float(with_diag(z, 0.5)):.6g} exceeds max + log(d−1)"
