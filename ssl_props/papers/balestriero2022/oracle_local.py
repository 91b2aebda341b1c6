"""Balestriero & LeCun (NeurIPS 2022, arXiv:2205.11508): the "local" side against scikit-learn / SciPy — the paper's
hinge VICReg as a nested Laplacian-Eigenmaps span (claim14) and linear VICReg as Locality Preserving Projections
(claim15). Pairings VICReg ↔ LE [P] (abstract), linear VICReg ↔ (k)LPP [S] (alphaXiv); statements [R] (notes:
shared/papers/fidelity-2026-12/balestriero2022_external_oracles.md §3-4).

Hinge VICReg α Σ max(0, 1 − √C_kk) + β Σ_{k≠j} C_kj² + (γ/N) Σ G_ij‖Z_i − Z_j‖²: with Cov(Z) = diag(c) the
invariance is 2γ Σ c_k u_kᵀLu_k ≥ 2γ Σ c_(k) λ_k (weighted Ky Fan), and each column minimises α(1 − s) + 2γλs², so the
diagonal-covariance optimum is Z = √N [u_1..u_K] diag(s_k) + 1aᵀ, s_k = min(1, α/(4γλ_k)); it is the minimiser once
β is large (β = 10 on the drawn graphs, certified by curvature), while a small β lets columns collapse onto the
bottom eigenvectors (rank of HZ⋆ < K): the span is nested in LE's, its rank grows with β.
"""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ssl_props import tolerances as tol
from ssl_props.graphs import laplacian, regular_graphs, weighted_graphs
from ssl_props.papers.balestriero2022 import oracles as o
from ssl_props.papers.balestriero2022.sampling import GTOL, STARTS, compare_to_optimum, fidelity_settings, randn
from ssl_props.properties import PropertyViolation, assert_close, find_counterexample
from ssl_props.spectral import (centred_eigh, convergence_tolerances, curvature, lbfgs, vicreg_hinge_loss,
                                vicreg_linear_closed_form)
from ssl_props.strategies import SEEDS

ALPHA, BETA_LARGE, BETA_SMALL = 1.0, 10.0, 1e-3


def hinge_closed_form(g: torch.Tensor, k: int, *, alpha: float = ALPHA, gamma: float) -> torch.Tensor:
    """Z = √N U_K diag(min(1, α/(4γλ_k))): the hinge VICReg optimum with a diagonal covariance."""
    lam, u = centred_eigh(laplacian(g))
    return g.shape[0] ** 0.5 * u[:, :k] * (alpha / (4 * gamma * lam[:k])).clamp_max(1)


def _hinge_problem(g: torch.Tensor, k: int) -> tuple[float, float, float, float]:
    """(γ = α/(2λ_1): every s_k ≤ 1/2, away from the hinge's kink; λ_max; gap λ_(K+1) − λ_K; λ_1)."""
    lam = centred_eigh(laplacian(g))[0]
    return ALPHA / (2 * float(lam[0])), float(lam[-1]), float(lam[k] - lam[k - 1]), float(lam[0])


@o.pinned
def check_hinge_nested_le(*, closed_form=hinge_closed_form, loss=vicreg_hinge_loss, oracle=o.le) -> None:
    """Complete weighted G, β = 10: every L-BFGS start reaches the closed form (loss, HZZᵀH; certified by curvature),
    and span([1, Z]) of the optimum is sklearn's ratio-cut LE. Angle ≤ ‖ΔGram‖-bound/σ_K(HZ⋆)² + davis_kahan/2 +
    residual_angle."""
    @settings(fidelity_settings(), max_examples=2)  # one batched L-BFGS (500 steps) + Hessian per example (~0.5 s)
    @given(st.integers(6, 8), st.integers(2, 3), SEEDS)
    def prop(n: int, k: int, seed: int) -> None:
        w = torch.triu(torch.rand(n, n, generator=torch.Generator().manual_seed(seed % 2**31), dtype=torch.float64), 1)
        g = (w + w.T).to(randn(0, 1).device)
        gamma, norm, gap, _ = _hinge_problem(g, k)
        assume(o.davis_kahan(n, norm, gap) < 1e-3)
        zs = closed_form(g, k, gamma=gamma)
        fun = lambda z: loss(z, g, alpha=ALPHA, beta=BETA_LARGE, gamma=gamma)  # noqa: E731
        z, gn, _ = lbfgs(fun, randn(seed % 2**31, STARTS, n, k), gtol=GTOL, max_iter=500)
        compare_to_optimum(fun, z, gn, zs, "hinge VICReg (β = 10)", g)
        emb = oracle(g, k + 1, normalised=False)
        zc = zs - zs.mean(0)
        mu, _ = curvature(fun, zs)
        _, gram_tol = convergence_tolerances(gn, mu, float(torch.linalg.matrix_norm(zs, 2)), n_terms=n * n * k,
                                             magnitude=float(fun(zs[None]).abs()) + n * k)
        sig = float(torch.linalg.svdvals(zc)[-1])
        bound = float(gram_tol.max()) / sig**2 + o.davis_kahan(n, norm, gap) / 2 + o.residual_angle(laplacian(g), emb, gap)
        best = z[int(fun(z).argmin())]
        a = o.max_angle(np.c_[np.ones(n), o.to_numpy(best)], emb)
        assert_close(torch.tensor(a), torch.zeros(()), bound, claim="hinge VICReg optimum spans ratio-cut LE (sklearn)",
                     names=("largest principal angle", "0"), inputs=g)
    prop()


@o.pinned
def necessity_large_beta() -> str:
    """β = 1e-3: the L-BFGS hinge minimum is below the axis-aligned closed form and its HZ⋆ has rank r < K, its
    span inside LE's bottom r (sklearn): the span is nested, the rank set by β."""
    seen: dict[int, tuple[int, float]] = {}

    def refutes(seed: int) -> bool:
        n, k = 8, 3
        w = torch.triu(torch.rand(n, n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64), 1)
        g = (w + w.T).to(randn(0, 1).device)
        gamma, norm, _, _ = _hinge_problem(g, k)
        fun = lambda z: vicreg_hinge_loss(z, g, alpha=ALPHA, beta=BETA_SMALL, gamma=gamma)  # noqa: E731
        z, gn, _ = lbfgs(fun, randn(seed, STARTS, n, k), gtol=GTOL, max_iter=500)
        i = int(fun(z).argmin())
        zc = z[i] - z[i].mean(0)
        s = torch.linalg.svdvals(zc)
        r = int((s > 1e-6 * s[0]).sum())
        if r >= k:
            return False
        lam = centred_eigh(laplacian(g))[0]
        emb = o.le(g, r + 1, normalised=False)
        gap = float(lam[r] - lam[r - 1])
        u, _, _ = torch.linalg.svd(zc, full_matrices=False)
        a = o.max_angle(np.c_[np.ones(n), o.to_numpy(u[:, :r])], emb)
        seen[seed] = (r, a)
        drop = float(fun(hinge_closed_form(g, k, gamma=gamma)[None]) - fun(z[i:i + 1]))
        return drop > 1e-6 and a <= 1e3 * (o.davis_kahan(n, norm, gap) + float(gn[i]) / s[r - 1].item())
    seed = find_counterexample(st.integers(0, 3), refutes, what="small β with a rank-deficient hinge optimum",
                               max_examples=4)
    r, a = seen[seed]
    return (f"complete weighted G on 8 nodes (seed {seed}), K = 3, α = 1, β = 1e-3: L-BFGS optimum (‖∇f‖ ≤ 1e-9) has rank(HZ⋆) = "
            f"{r} < 3, within {a:.2g} rad of sklearn's bottom-{r} LE span, below the axis-aligned form")


# ---------------------------------------------------------------------------------------------- claim15
def lpp_problem(g: torch.Tensor, dim: int, seed: int, *, centred: bool = True) -> torch.Tensor:
    x = randn(seed, g.shape[0], dim) + 2.0 * randn(seed + 1, 1, dim)
    return x - x.mean(0) if centred else x


@o.pinned
def check_lpp(*, closed_form=vicreg_linear_closed_form, oracle=o.pencil) -> None:
    """d-regular G, centred X: span(W⋆_VICReg) = LPP, scipy.linalg.eigh(XᵀLX, XᵀDX)'s bottom K, and μ_LPP = μ/d.
    Angle ≤ davis_kahan(N, κ(XᵀDX)·max|μ'|, gap) per pencil (ours via Σ^{-1/2}, theirs via Cholesky), twice."""
    @fidelity_settings()
    @given(regular_graphs((3, 6), (1, 3)), st.integers(2, 4), st.integers(1, 2), SEEDS)
    def prop(g: torch.Tensor, dim: int, k: int, seed: int) -> None:
        n = g.shape[0]
        dim = min(dim, n - 2)
        k = min(k, dim - 1)
        x = lpp_problem(g, dim, seed % 2**31)
        d = float(g.sum(-1)[0])
        a, b = x.T @ laplacian(g) @ x, x.T @ torch.diag(g.sum(-1)) @ x
        mu, v = oracle(a, b)
        kappa = float(torch.linalg.cond(b))
        scale = kappa * float(np.abs(mu).max())
        bound = 2 * o.davis_kahan(n, scale, max(float(mu[k] - mu[k - 1]), 1e-300))
        assume(bound < 1e-3 and mu[k - 1] > 0)
        ws = closed_form(x, g, k, beta=1.0, gamma=0.5 / (d * float(mu[k - 1])))  # c_k ≥ 1/2
        assert_close(torch.tensor(o.max_angle(ws, v[:, :k])), torch.zeros(()), bound,
                     claim="regular G, centred X: linear VICReg spans LPP (scipy eigh(XᵀLX, XᵀDX))",
                     names=("largest principal angle", "0"), inputs=(n, dim, k))
        h = torch.eye(n, dtype=x.dtype, device=x.device) - 1.0 / n
        mu_v = o.pencil(a, x.T @ h @ x)[0]
        assert_close(torch.as_tensor(mu_v / d), torch.as_tensor(mu), 2 * float(tol.sum_of_products(torch.float64, n, scale)),
                     claim="LPP eigenvalues = VICReg pencil eigenvalues / d", names=("μ/d", "μ_LPP"), inputs=(n, dim, k))
    prop()


def _lpp_angle(g: torch.Tensor, x: torch.Tensor, k: int) -> float:
    mu, v = o.pencil(x.T @ laplacian(g) @ x, x.T @ torch.diag(g.sum(-1)) @ x)
    if float(mu[k] - mu[k - 1]) < 1e-3 * float(np.abs(mu).max()):
        return 0.0  # a tie: no subspace to compare
    return o.max_angle(vicreg_linear_closed_form(x, g, k, gamma=1e-3), v[:, :k])


@o.pinned
def necessity_lpp_regular() -> str:
    """Irregular G (centred X): XᵀDX ≠ d·XᵀHX, VICReg's pencil is not LPP's (> 1e-2 rad)."""
    def refutes(case) -> bool:
        g, seed = case
        return _lpp_angle(g, lpp_problem(g, 3, seed), 1) > 1e-2
    g, seed = find_counterexample(st.tuples(weighted_graphs((6, 9)), st.integers(0, 5)), refutes,
                                  what="irregular G with VICReg = LPP", max_examples=30)
    return f"irregular weighted G on {g.shape[0]} nodes, centred X (seed {seed}): angle {_lpp_angle(g, lpp_problem(g, 3, seed), 1):.3g} rad"


@o.pinned
def necessity_lpp_centred() -> str:
    """Regular G, uncentred X: XᵀHX ≠ XᵀX, so VICReg's pencil (centred covariance) is not LPP's (> 1e-2 rad)."""
    def refutes(case) -> bool:
        g, seed = case
        return _lpp_angle(g, lpp_problem(g, 3, seed, centred=False), 1) > 1e-2
    g, seed = find_counterexample(st.tuples(regular_graphs((3, 5), (1, 3)), st.integers(0, 5)), refutes,
                                  what="uncentred X with VICReg = LPP", max_examples=30)
    a = _lpp_angle(g, lpp_problem(g, 3, seed, centred=False), 1)
    if not a > 0:
        raise PropertyViolation("uncentred-X counterexample vanished")
    return f"regular G on {g.shape[0]} nodes, X uncentred (seed {seed}): angle {a:.3g} rad"
