"""Balestriero & LeCun (NeurIPS 2022, arXiv:2205.11508), claim13: the linear-regime closed forms of BarlowTwins and
SimCLR (the abstract promises closed-form network parameters 'for each method'; only VICReg's, claim5, was
encoded). Derived here, for the paper's Sec. 2 losses in terms of G and a linear network Z = X W:

* BarlowTwins (uncentred column cosines over nnz(G)): 1 − C_kk = wᵀXᵀLXw / wᵀXᵀDXw (claim8) ≥ μ₁, the smallest
  eigenvalue of the pencil (XᵀLX, XᵀDX); so L_BT(XW) ≥ K μ₁² for every W, and when the image indicators lie in
  range(X) (μ₁ = … = μ_K = 0), W⋆ = E (EᵀXᵀDXE)^{-1/2} with E the pencil's null vectors has zero loss;
* SimCLR: with the indicators in range(X), W_S = X⁺ Z_simplex reproduces claim7's optimum, at its closed value.

L and D are those of the binarised G (positives listed once per ordered pair, as in the paper's code).
"""
from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ssl_props import tolerances as tol
from ssl_props.graphs import augmentation_graph, laplacian
from ssl_props.papers.balestriero2022.optima import simplex_value
from ssl_props.papers.balestriero2022.sampling import device, randn
from ssl_props.strategies import SEEDS
from ssl_props.properties import PropertyViolation, assert_close, assert_leq, find_counterexample
from ssl_props.spectral import barlow_twins_closed_form, barlow_twins_loss, simclr_loss, simclr_simplex


def linear_problem(ns: int, m: int, seed: int, *, generic: bool = False):
    """``(X, G)``: X = [P, Y] R on the V = 2 augmentation graph of ns images (P the image indicators, Y generic
    N × m, m ≤ N' − 1 so D = N' + m < N, R a well-conditioned D × D mixing); ``generic=True`` draws X = Y' R with
    Y' generic N × N' (D = N' = N − N': range(X) and span(P) meet only in 0, so the indicators are not in range(X))."""
    g = augmentation_graph(ns, 2, device=device())
    n = g.shape[0]
    p = randn(seed + 3, n, ns) if generic else barlow_twins_closed_form(g, ns)
    y = randn(seed, n, 0 if generic else m)
    d = ns + y.shape[1]
    q = torch.linalg.qr(randn(seed + 1, d, d))[0]
    r = q * (1 + torch.rand(d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(q))
    return torch.cat([p, y], 1) @ r, g


def pencil(x: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenpairs (ascending) of (XᵀLX, XᵀDX): Cholesky-whitened symmetric problem, eigenvectors XᵀDX-orthonormal."""
    gb = (g > 0).to(g.dtype)
    a, b = x.T @ laplacian(gb) @ x, x.T @ torch.diag(gb.sum(-1)) @ x
    c = torch.linalg.cholesky(b)
    ci = torch.linalg.inv(c)
    mu, v = torch.linalg.eigh(ci @ a @ ci.T)
    return mu, ci.T @ v


def barlow_linear_closed_form(x: torch.Tensor, g: torch.Tensor, k: int) -> torch.Tensor:
    """W⋆ = E (EᵀXᵀDXE)^{-1/2}: the pencil's K bottom (null) vectors, XᵀDX-orthonormal already."""
    return pencil(x, g)[1][:, :k]


def check_linear_closed_forms(*, closed_form=barlow_linear_closed_form, loss=barlow_twins_loss) -> None:
    """Indicators in range(X): L_BT(XW⋆) = 0 and SimCLR(X X⁺ Z_simplex) = claim7's value; every drawn W obeys
    L_BT(XW) ≥ K μ₁² on a generic X. Tolerance: rounding of the pencil's solve, ≤ SAFETY·N²·eps·κ(XᵀDX)."""
    @settings(max_examples=5, deadline=None)  # ~0.1 s an example (a pencil, two lstsq, 16 losses)
    @given(st.integers(2, 3), st.data(), SEEDS, st.sampled_from((0.3, 0.5, 1.0)))
    def prop(ns, data, seed, tau) -> None:
        seed %= 2**31
        m = data.draw(st.integers(1, ns - 1), label="m")
        k = data.draw(st.integers(1, ns), label="k")
        x, g = linear_problem(ns, m, seed)
        n = g.shape[0]
        cond = float(torch.linalg.cond(x.T @ x))
        r = tol.sum_of_products(x.dtype, n * n, cond * (1 + k * k))
        w = closed_form(x, g, k)
        assert_close(loss(x @ w, g), torch.tensor(0.0, dtype=x.dtype), r, claim="claim13: linear BarlowTwins W⋆ has zero loss",
                     inputs=(ns, m, k, seed))
        zs = simclr_simplex(ns, 2, max(ns - 1, 2), device=x.device)
        ws = torch.linalg.lstsq(x, zs).solution
        want = torch.tensor(simplex_value(ns, 2, tau), dtype=x.dtype, device=x.device)
        assert_close(simclr_loss(x @ ws, g, tau=tau), want, r * (1 + n * n / tau), inputs=(ns, m, seed),
                     claim="claim13: linear SimCLR W_S = X⁺Z_simplex attains claim7's value")
        xg, _ = linear_problem(ns, m, seed, generic=True)
        mu1 = float(pencil(xg, g)[0][0])
        wr = randn(seed + 5, 16, xg.shape[1], k)
        assert_leq(torch.full((16,), k * mu1**2, dtype=x.dtype, device=x.device), loss(xg @ wr, g), r,
                   claim="claim13: L_BT(XW) ≥ K μ₁² for every W", names=("K μ₁²", "L_BT(XW)"), inputs=(ns, m, seed))
    prop()


def necessity_indicators_in_range() -> str:
    """Drop 'the image indicators lie in range(X)': μ₁ > 0, so no linear W reaches BarlowTwins' zero loss
    (L_BT ≥ K μ₁² > 0) and the simplex is not representable (least-squares residual > 0)."""
    def refutes(seed: int) -> bool:
        x, g = linear_problem(2, 1, seed, generic=True)
        mu1 = float(pencil(x, g)[0][0])
        zs = simclr_simplex(2, 2, 2, device=x.device)
        res = float((x @ torch.linalg.lstsq(x, zs).solution - zs).norm())
        return mu1 > 1e-6 and res > 1e-6
    seed = find_counterexample(st.integers(0, 5), refutes, what="generic X still representing the optima")
    x, g = linear_problem(2, 1, seed, generic=True)
    mu1 = float(pencil(x, g)[0][0])
    if not mu1 > 0:
        raise PropertyViolation("generic X has a null pencil vector")
    return f"generic X (seed {seed}, N' = 2, D = {x.shape[1]}): μ₁ = {mu1:.3g} > 0, so min_W L_BT(XW) ≥ {mu1**2:.3g} > 0"
