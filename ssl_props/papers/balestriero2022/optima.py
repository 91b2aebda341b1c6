"""Balestriero & LeCun (NeurIPS 2022, arXiv:2205.11508). Claims 3-8: the closed-form optima of VICReg (spectral and linear), SimCLR (Gibbs identity, simplex) and Barlow Twins, reached by batched L-BFGS from many starts.

Records: :mod:`ssl_props.papers.balestriero2022.records`. Checks accept keyword overrides of the
implementation they test (``check_vicreg_optimum(closed_form=...)``).
"""
from __future__ import annotations

import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from ssl_props import tolerances as tol
from ssl_props.graphs import (augmentation_graph, laplacian, n_components, planted_graphs, regular_graphs,
                              weighted_graphs)
from ssl_props.papers.balestriero2022.sampling import (GTOL, STARTS, compare_to_optimum, device, identity_settings,
                                                       optimisation_settings, randn)
from ssl_props.strategies import SEEDS
from ssl_props.properties import PropertyViolation, assert_close, assert_leq, find_counterexample
from ssl_props.spectral import (barlow_twins_closed_form, barlow_twins_loss, centred_eigh, centred_gram,
                                convergence_tolerances, cross_entropy, curvature, gibbs, laplacian_eigenmaps, lbfgs,
                                projector_distance, simclr_loss, simclr_simplex, vicreg_closed_form,
                                vicreg_closed_form_loss, vicreg_hinge_loss, vicreg_linear_closed_form,
                                vicreg_linear_loss, vicreg_spectral_loss)


# ---------------------------------------------------------------------------------------------- claim3
def _vicreg_problem(pg, rho: float) -> tuple[torch.Tensor, int, float, float]:
    """K = c − 1 bottom directions of a planted graph (certified gap after them); γ/β = ρ / max(low, 1) keeps
    every active direction at c_k = 1 − γλ_k/β ≥ 1 − ρ (no clamping boundary)."""
    return pg.g, int(pg.labels.max()), 1.0, rho / max(pg.low_bound, 1.0)


def check_vicreg_lower_bound(*, closed_form=vicreg_closed_form, loss=vicreg_spectral_loss, value=vicreg_closed_form_loss) -> None:
    """The closed form attains Σ β(c−1)² + 2γλc and no drawn Z does better (any G, any K, clamping included)."""
    @identity_settings()
    @given(weighted_graphs(), st.integers(1, 7), st.sampled_from((0.05, 0.5, 2.0)), SEEDS, st.sampled_from((1.0, 0.1, 10.0)))
    def prop(g: torch.Tensor, k: int, gamma: float, seed: int, scale: float) -> None:
        n = g.shape[0]
        k = min(k, n - 1)
        zs, f0 = closed_form(g, k, beta=1.0, gamma=gamma), value(g, k, beta=1.0, gamma=gamma)
        r = tol.sum_of_products(g.dtype, n * n * k, float(f0) + k + float(g.sum()))
        fz = loss(zs, g, beta=1.0, gamma=gamma)
        assert_close(fz, f0, r, claim="closed form attains Σ β(c_k−1)² + 2γλ_k c_k", inputs=g)
        z = scale * randn(seed, 16, n, k)
        assert_leq(f0.expand(16), loss(z, g, beta=1.0, gamma=gamma), r, claim="no Z has a lower loss than the closed form",
                   names=("closed form", "random Z"), inputs=g)
    prop()


def check_vicreg_optimum(*, closed_form=vicreg_closed_form, loss=vicreg_spectral_loss, optimiser=lbfgs) -> None:
    """Batched L-BFGS from STARTS random starts reaches the closed form (loss and HZZᵀH). The planted graphs keep
    their weak links, so the K lowest eigenvalues are > 0 and β, γ both shape the optimum (see check_linear_optimum)."""
    @optimisation_settings()
    @given(planted_graphs(connected=True), st.floats(0.05, 0.5), SEEDS)
    def prop(pg, rho: float, seed: int) -> None:
        g, k, beta, gamma = _vicreg_problem(pg, rho)
        zs = closed_form(g, k, beta=beta, gamma=gamma)
        fun = lambda z: loss(z, g, beta=beta, gamma=gamma)  # noqa: E731
        z, gn, _ = optimiser(fun, randn(seed, STARTS, g.shape[0], k), gtol=GTOL)
        compare_to_optimum(fun, z, gn, zs, "VICReg (spectral)", g)
    prop()


def necessity_eigengap() -> str:
    """With a tie λ_K = λ_{K+1} two different representations reach the minimum: the subspace is not determined."""
    def refutes(ns: int) -> bool:
        g = augmentation_graph(ns, 2, device=device())
        lam, u = centred_eigh(laplacian(g))
        k, n = ns, 2 * ns  # λ_K = λ_{K+1} = 2 (the V = 2 spectrum)
        c = (1 - 0.1 * lam[:k]).sqrt() * n**0.5
        z1 = u[:, :k] * c
        z2 = torch.cat([u[:, : k - 1], u[:, k: k + 1]], 1) * c
        f1, f2 = (vicreg_spectral_loss(z, g, gamma=0.1) for z in (z1, z2))
        r = tol.sum_of_products(g.dtype, n * n * k, float(f1) + k)
        return bool((f1 - f2).abs() <= r) and float((centred_gram(z1) - centred_gram(z2)).norm()) > 1.0
    ns = find_counterexample(st.integers(2, 4), refutes, what="tie at the K-th eigenvalue with two distinct optima")
    return f"augmentation graph N'={ns}, V=2, K={ns}: λ_K = λ_(K+1) = 2, two optima with equal loss and different HZZᵀH"


def _require_axis_optimum(fun_of_scales, c: torch.Tensor, slack: float, step: float = 1e-3) -> None:
    """``c`` minimises ``φ(c) = fun(√N U_K diag(c))`` over the scalings: no coordinate step ``±step`` lowers φ.

    On the eigenbasis Cov = diag(c²), off-diagonals vanish and the Dirichlet energy is ``2Nλ_k c_k²``, so
    ``φ = Σ_k α max(0, 1 − c_k) + 2γλ_k c_k²`` is convex and separable: a coordinate minimum is the minimum over
    scalings (``c_k = min(1, α/(4γλ_k))``), and a step changes φ by ``2γλ_k step² > 0`` (interior) or
    ``≥ (α − 4γλ_k)·step ≥ 0`` (at the clamp). Rounding of φ is below ``slack``.
    """
    f0 = float(fun_of_scales(c))
    for k in range(c.shape[-1]):
        for sign in (1.0, -1.0):
            moved = c.clone()
            moved[k] += sign * step
            drop = f0 - float(fun_of_scales(moved))
            if drop > slack:
                raise PropertyViolation(f"the candidate is not the axis-aligned hinge optimum: moving c_{k} by "
                                        f"{sign * step:+g} lowers the loss by {drop:.3g} > {slack:.3g}")


def necessity_quadratic_variance() -> str:
    """With the paper's hinge variance term, the axis-aligned spectral solution is beaten by a rotated one."""
    def refutes(seed: int) -> bool:
        g = torch.triu(torch.rand(8, 8, generator=torch.Generator().manual_seed(seed), dtype=torch.float64), 1)
        g = (g + g.T).to(device())
        lam, u = centred_eigh(laplacian(g))
        scaled = lambda scales: 8**0.5 * u[:, :2] * scales  # noqa: E731 - Z = √N U_K diag(c)
        c = (1.0 / (4 * 0.2 * lam[:2])).square().clamp_max(1).sqrt()  # per-direction hinge optimum
        cand = scaled(c)
        fun = lambda z: vicreg_hinge_loss(z, g, alpha=1.0, beta=1.0, gamma=0.2)  # noqa: E731
        slack = tol.sum_of_products(g.dtype, 64 * 2, float(fun(cand[None])) + 2)
        _require_axis_optimum(lambda scales: fun(scaled(scales)), c, slack)
        z, _, _ = lbfgs(fun, cand + 0.3 * randn(seed, STARTS, 8, 2), gtol=GTOL, max_iter=300)
        return float(fun(cand[None]) - fun(z).min()) > slack
    seed = find_counterexample(st.sampled_from((0, 1, 2, 3)), refutes, what="hinge VICReg beating the spectral form", max_examples=4)
    return f"complete weighted G on 8 nodes (seed {seed}), α=β=1, γ=0.2, K=2: L-BFGS beats the axis-aligned hinge solution"


# ---------------------------------------------------------------------------------------------- claim4
def check_vicreg_recovers_le(*, closed_form=vicreg_closed_form, le=laplacian_eigenmaps) -> None:
    """On a regular G, the span of VICReg's optimum (all directions active) is the Laplacian-Eigenmaps span."""
    @identity_settings()
    @given(regular_graphs(), st.integers(1, 5))
    def prop(g: torch.Tensor, k: int) -> None:
        n = g.shape[0]
        k = min(k, n - 2)
        lam = centred_eigh(laplacian(g))[0]
        gap = float(lam[k] - lam[k - 1])
        norm = float(lam[-1])
        assume(gap > 1e3 * tol.sum_of_products(g.dtype, n, norm))  # an exact tie leaves the K-subspace undetermined
        zs = closed_form(g, k, beta=1.0, gamma=0.5 / norm)
        # Davis–Kahan: each backward-stable eigensolve moves the subspace by ≤ ‖E‖/gap, ‖E‖ ≤ SAFETY·n·eps·‖L‖
        assert_close(projector_distance(zs, le(g, k), k), torch.tensor(0.0, dtype=g.dtype, device=g.device),
                     2 * 2**0.5 * tol.sum_of_products(g.dtype, n, norm) / gap,
                     claim="VICReg optimum spans the Laplacian-Eigenmaps embedding", names=("‖P_VIC − P_LE‖", "0"), inputs=g)
    prop()


def necessity_regular() -> str:
    """On an irregular G, Laplacian Eigenmaps (Zᵀ D Z = I) and VICReg (Cov = I) pick different subspaces."""
    def refutes(pg) -> bool:
        g, k = pg.g, int(pg.labels.max())
        lam = centred_eigh(laplacian(g))[0]
        d = projector_distance(vicreg_closed_form(g, k, gamma=1e-3), laplacian_eigenmaps(g, k), k)
        return float(d) > 1e3 * 2 * 2**0.5 * tol.sum_of_products(g.dtype, g.shape[0], float(lam[-1])) / float(lam[k] - lam[k - 1])
    pg = find_counterexample(planted_graphs(connected=True), refutes, what="irregular G where LE ≠ VICReg", max_examples=50)
    return f"irregular planted graph, degrees {[round(x, 3) for x in pg.g.sum(-1).tolist()]}: LE and VICReg subspaces differ"


# ---------------------------------------------------------------------------------------------- claim5
def _linear_problem(pg, extra: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, int, int]:
    """X = √N U_D R + 1aᵀ spans D centred eigenvectors of L, so Σ^{-1/2}MΣ^{-1/2} has eigenvalues λ_1..λ_D and the
    planted gap after K = c − 1 carries over; R = (orthogonal)·diag([1, 2]) keeps Σ well conditioned."""
    g, k = pg.g, int(pg.labels.max())
    n = g.shape[0]
    d = min(k + extra, n - 1)
    u = centred_eigh(laplacian(g))[1][:, :d]
    q = torch.linalg.qr(randn(seed, d, d))[0]
    r = q * (1 + torch.rand(d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(q))
    return n**0.5 * u @ r + randn(seed + 1, 1, d), g, k, d


def check_linear_optimum(*, closed_form=vicreg_linear_closed_form, loss=vicreg_linear_loss, optimiser=lbfgs) -> None:
    """Batched L-BFGS over W (Z = XW) reaches the LPP closed form (loss and H X W Wᵀ Xᵀ H).

    The planted graphs keep their weak links: the K lowest eigenvalues μ are then > 0 and the factor (1 − γμ/β)
    of the closed form matters (on a disconnected graph they are 0, and c = 1 whatever γ and β)."""
    @optimisation_settings()
    @given(planted_graphs(connected=True), st.integers(0, 2), st.floats(0.05, 0.5), SEEDS)
    def prop(pg, extra: int, rho: float, seed: int) -> None:
        x, g, k, d = _linear_problem(pg, extra, seed % 2**31)
        gamma = rho / max(pg.low_bound, 1.0)
        ws = closed_form(x, g, k, beta=1.0, gamma=gamma)
        fun = lambda w: loss(w, x, g, beta=1.0, gamma=gamma)  # noqa: E731
        w, gn, _ = optimiser(fun, randn(seed, STARTS, d, k), gtol=GTOL)
        mu, _ = curvature(fun, ws)
        if mu <= 0:
            raise PropertyViolation(f"linear VICReg: closed-form W is not a local minimum (Hessian eigenvalue {mu:.3g})")
        fstar = fun(ws[None])
        kw = dict(n_terms=g.shape[0] ** 2 * k, magnitude=float(fstar.abs()) + d * k)
        ftol, _ = convergence_tolerances(gn, mu, 0.0, **kw)
        # a distance δ_W in W moves Z = XW by at most ‖X‖₂·δ_W: scale ‖∇f‖ by ‖X‖₂ for the Gram tolerance
        _, gram_tol = convergence_tolerances(gn * float(torch.linalg.matrix_norm(x, 2)), mu,
                                             float(torch.linalg.matrix_norm(x @ ws, 2)), **kw)
        assert_close(fun(w), fstar.expand(STARTS), ftol, claim="linear VICReg: optimised loss equals the closed form", inputs=x)
        dist = (centred_gram(x @ w) - centred_gram(x @ ws)).norm(dim=(-2, -1))
        assert_close(dist, torch.zeros_like(dist), gram_tol, claim="linear VICReg: optimised HXWWᵀXᵀH equals the closed form's",
                     names=("‖ΔGram‖", "0"), inputs=x)
    prop()


def necessity_full_rank() -> str:
    """If H X is rank deficient, the closed form is undefined and W⋆ + e aᵀ (e ∈ null(HX)) is optimal too."""
    def refutes(seed: int) -> bool:
        x = randn(seed, 8, 2)
        x = torch.cat([x, x[:, :1]], 1)  # duplicated feature: rank(HX) = 2 < D = 3
        g = augmentation_graph(4, 2, device=device())
        try:
            vicreg_linear_closed_form(x, g, 2)
            return False
        except ValueError:
            w = randn(seed + 1, 3, 2)
            e = torch.tensor([[1.0], [0.0], [-1.0]], dtype=x.dtype, device=x.device)
            return bool(vicreg_linear_loss(w, x, g) == vicreg_linear_loss(w + e @ randn(seed + 2, 1, 2), x, g))
    seed = find_counterexample(st.integers(0, 10), refutes, what="rank-deficient X with non-identified W")
    return f"X with a duplicated column (seed {seed}): Σ singular, closed form undefined, W and W + e aᵀ give equal loss"


# ---------------------------------------------------------------------------------------------- claim6
def check_gibbs_identity(*, ce=cross_entropy, opt=gibbs) -> None:
    """CE(P) − CE(G/G1) = Σ_i (G1)_i KL(G_i/(G1)_i ‖ P_i) ≥ 0 for every right-stochastic P."""
    @identity_settings()
    @given(planted_graphs(), SEEDS)
    def prop(pg, seed: int) -> None:
        g = pg.g
        p = torch.softmax(randn(seed, 4, *g.shape), -1)
        q, d = opt(g), g.sum(-1, keepdim=True)
        kl = torch.where(g > 0, q * (torch.where(g > 0, q, 1.0) / p).log(), 0.0)
        rhs = (d * kl).sum((-2, -1))
        lhs = ce(g, p) - ce(g, q)
        assert_close(lhs, rhs, tol.sum_of_products(g.dtype, g.numel(), float(ce(g, p).max()) + float(rhs.max())),
                     claim="cross-entropy gap equals the degree-weighted KL (Gibbs is optimal)", inputs=g)
    prop()


def necessity_stochastic() -> str:
    """Without row normalisation, scaling P up lowers the cross-entropy below the Gibbs value."""
    def refutes(pg) -> bool:
        q = gibbs(pg.g)
        return float(cross_entropy(pg.g, 2 * q)) < float(cross_entropy(pg.g, q)) - tol.sum_of_products(q.dtype, q.numel(), float(cross_entropy(pg.g, q)) + 1)
    pg = find_counterexample(planted_graphs(), refutes, what="non-stochastic P beating Gibbs")
    return f"P = 2·G/G1 on a {pg.g.shape[0]}-node graph has lower cross-entropy than the Gibbs optimum"


# ---------------------------------------------------------------------------------------------- claim7
def simplex_value(ns: int, nv: int, tau: float) -> float:
    """SimCLR loss of the collapsed simplex: N·(V−1)·[log((V−1)e^{1/τ} + V(N'−1)e^{−1/((N'−1)τ)}) − 1/τ]."""
    import math
    other = nv * (ns - 1) * math.exp(-1 / ((ns - 1) * tau)) if ns > 1 else 0.0
    return ns * nv * (nv - 1) * (math.log((nv - 1) * math.exp(1 / tau) + other) - 1 / tau)


def check_simclr_optimum(*, closed_form=simclr_simplex, loss=simclr_loss, optimiser=lbfgs) -> None:
    """Batched L-BFGS reaches the collapsed regular simplex (loss, cosine Gram); its loss has the closed value."""
    @optimisation_settings()
    @given(st.integers(2, 3), st.integers(2, 3), st.sampled_from((0.5, 0.3, 1.0)), SEEDS)
    def prop(ns: int, nv: int, tau: float, seed: int) -> None:
        g, k = augmentation_graph(ns, nv, device=device()), max(ns - 1, 2)  # K = 1 is S⁰: starts cannot change sign
        zs = closed_form(ns, nv, k, device=g.device)
        fun = lambda z: loss(z, g, tau=tau)  # noqa: E731
        n = g.shape[0]
        assert_close(fun(zs), torch.tensor(simplex_value(ns, nv, tau), dtype=g.dtype),
                     tol.sum_of_products(g.dtype, n * n, abs(simplex_value(ns, nv, tau)) + n * n / tau),
                     claim="simplex loss equals N(V−1)[log((V−1)e^{1/τ} + V(N'−1)e^{−1/((N'−1)τ)}) − 1/τ]", inputs=(ns, nv, tau))
        z, _, _ = optimiser(fun, randn(seed, STARTS, n, k), gtol=GTOL)
        z = torch.nn.functional.normalize(z, dim=-1)  # exact symmetry of the loss; gradient re-measured there
        with torch.enable_grad():
            zz = z.detach().requires_grad_(True)
            gn = torch.autograd.grad(fun(zz).sum(), zz)[0].flatten(1).norm(dim=1)
        mu, _ = curvature(fun, zs)
        ftol, gram_tol = convergence_tolerances(gn, mu, float(torch.linalg.matrix_norm(zs, 2)), n_terms=n * n * k,
                                                magnitude=abs(simplex_value(ns, nv, tau)) + n * n / tau)
        assert_close(fun(z), fun(zs).expand(STARTS), ftol, claim="SimCLR: optimised loss equals the simplex loss",
                     inputs=(ns, nv, tau))
        dist = (z @ z.transpose(-2, -1) - zs @ zs.T).norm(dim=(-2, -1))
        assert_close(dist, torch.zeros_like(dist), gram_tol, claim="SimCLR: optimised cosine matrix equals the simplex's",
                     names=("‖ΔGram‖", "0"), inputs=(ns, nv, tau))
    prop()


def necessity_simplex_dim() -> str:
    """With K < N' − 1 the simplex does not fit: the exact minimum over K = 1 (sign patterns) exceeds its value."""
    def refutes(ns: int) -> bool:
        g = augmentation_graph(ns, 2, device=device())
        n = g.shape[0]
        signs = ((torch.arange(2**n)[:, None] >> torch.arange(n)) & 1).to(g) * 2 - 1  # every unit Z in R^1
        best = float(simclr_loss(signs[..., None], g, tau=0.5).min())
        return best > simplex_value(ns, 2, 0.5) + tol.sum_of_products(g.dtype, n * n, n * n / 0.5)
    ns = find_counterexample(st.integers(3, 4), refutes, what="K < N'−1 with minimum above the simplex value")
    return f"N'={ns}, V=2, K=1: exact minimum over all 2^{2 * ns} unit embeddings exceeds the simplex value"


# ---------------------------------------------------------------------------------------------- claim8
def _outside_null_fraction(z: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Per column, ‖(I − P_null(L_b)) z_k‖²/‖z_k‖² and the bound factor d_max/λ_c of the binarised graph."""
    gb = (g > 0).to(g.dtype)
    lam, u = torch.linalg.eigh(laplacian(gb))
    c = n_components(g)
    null = u[:, :c]
    out = z - null @ (null.T @ z)
    return out.square().sum(-2) / z.square().sum(-2), float(gb.sum(-1).max()) / float(lam[c])


def check_barlow_optimum(*, closed_form=barlow_twins_closed_form, loss=barlow_twins_loss, optimiser=lbfgs) -> None:
    """Closed form has zero loss and rank K; optimised Z reach zero loss; every Z obeys 1 − C_kk = zᵀLz/zᵀDz, hence
    ‖(I − P_null(L)) z_k‖²/‖z_k‖² ≤ (d_max/λ_c)·√loss: zero-loss columns are constant on components."""
    @optimisation_settings()
    @given(planted_graphs((2, 3), (2, 3), connected=False), st.sampled_from((0.5, 1.0)), SEEDS, st.data())
    def prop(pg, alpha: float, seed: int, data) -> None:
        g = pg.g
        c = n_components(g)
        k = data.draw(st.integers(1, c), label="k")
        zs = closed_form(g, k)
        fun = lambda z: loss(z, g, alpha=alpha)  # noqa: E731
        r = tol.sum_of_products(g.dtype, g.shape[0] ** 2 * k, k * k * (1 + alpha))
        assert_close(fun(zs), torch.tensor(0.0, dtype=g.dtype), r, claim="BarlowTwins closed form has zero loss", inputs=g)
        assert_close(torch.tensor(float(torch.linalg.matrix_rank(zs))), torch.tensor(float(k)), 0.0,
                     claim="closed form has rank K ≤ #components", inputs=g)
        # zero-loss set is a manifold: L-BFGS converges slowly; 150 steps, and the tolerance uses the ‖∇f‖ reached
        z, gn, _ = optimiser(fun, randn(seed, STARTS, g.shape[0], k), gtol=GTOL, max_iter=150)
        f = fun(z)
        frac, factor = _outside_null_fraction(z, g)
        assert_leq(frac, factor * f.clamp_min(0).sqrt()[:, None] + r, 0.0,
                   claim="energy outside null(L) ≤ (d_max/λ_c)·√loss", names=("outside fraction", "bound"), inputs=g)
        best = int(f.argmin())
        mu, _ = curvature(fun, z[best])
        ftol = tol.SAFETY * gn[best] ** 2 / (2 * abs(mu)) + r
        assert_close(f[best], torch.tensor(0.0, dtype=g.dtype), ftol, claim="optimisation reaches zero BarlowTwins loss",
                     inputs=g)
    prop()


def necessity_components() -> str:
    """With K > #components, C = I is infeasible: every start stays at a positive loss."""
    def refutes(seed: int) -> bool:
        g = augmentation_graph(2, 2, device=device())  # two components
        fun = lambda z: barlow_twins_loss(z, g)  # noqa: E731
        z, gn, _ = lbfgs(fun, randn(seed, STARTS, 4, 3), gtol=GTOL, max_iter=400)
        best = int(fun(z).argmin())
        mu = abs(curvature(fun, z[best])[0])  # zero loss there would need f ≤ SAFETY‖∇f‖²/(2μ)
        return float(fun(z).min()) > tol.SAFETY * float(gn[best]) ** 2 / (2 * mu) + tol.sum_of_products(g.dtype, 48, 18)
    seed = find_counterexample(st.sampled_from((0, 1)), refutes, what="K > #components with positive minimum", max_examples=2)
    return f"G of 2 images × 2 views (2 components), K = 3: all {STARTS} starts (seed {seed}) stop at positive loss"
