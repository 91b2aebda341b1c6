"""Checks of Balestriero & LeCun (NeurIPS 2022, arXiv:2205.11508); the records are in
:mod:`ssl_props.results.balestriero2022`. Checks accept keyword overrides of the implementation
they test (``check_vicreg_optimum(closed_form=...)``)."""
from __future__ import annotations

import torch
from hypothesis import assume, given, settings, strategies as st

from .. import tolerances as tol
from ..derivations import balestriero2022 as sym
from ..device import resolve_device
from ..graphs import (asymmetric_graphs, augmentation_graph, dirichlet_energy, labelled_graphs,
                      laplacian, laplacian_quadratic, n_components, one_hot, planted_graphs, regular_graphs,
                      weighted_graphs)
from ..properties import PropertyViolation, assert_close, assert_leq, find_counterexample
from ..spectral import (barlow_twins_closed_form, barlow_twins_loss, centred_eigh, centred_gram, convergence_tolerances,
                        cross_entropy, curvature, gibbs, laplacian_eigenmaps, lbfgs, probe_residual,
                        projector_distance, simclr_loss, simclr_simplex, vicreg_closed_form, vicreg_closed_form_loss,
                        vicreg_hinge_loss, vicreg_linear_closed_form, vicreg_linear_loss, vicreg_spectral_loss)
STARTS = 8  # random starts per optimisation, all in one batched call
GTOL = 1e-9  # L-BFGS stopping criterion on ‖∇f‖ (float64 gradients are exact to ~1e-14 here)


def _opt() -> settings:
    """Optimisation checks run one batched L-BFGS + Hessian (0.2-0.5 s) per example: 3 examples (24 starts) keep
    the module in its 12 s budget. Built at call time so the other settings come from the active profile."""
    return settings(max_examples=3, deadline=None)


def _cheap() -> settings:
    """Cheap float64 identities: 20 examples each (10-40 ms per example; the 12 s budget is shared by 32 checks)."""
    return settings(max_examples=20, deadline=None)
seeds = st.integers(0, 2**32 - 1)


def _dev() -> torch.device:
    return resolve_device()


def _randn(seed: int, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(_dev())


# ---------------------------------------------------------------------------------------------- claim1
def check_augmentation_graph(*, build=augmentation_graph) -> None:
    """G of V views is (11ᵀ − I_V) ⊗ I_N' and L has spectrum {0 (×N'), V (×N'(V−1))}."""
    @_cheap()
    @given(st.integers(1, 5), st.integers(2, 4))
    def prop(ns: int, nv: int) -> None:
        g = build(ns, nv, device=_dev())
        ref = torch.kron(torch.ones(nv, nv) - torch.eye(nv), torch.eye(ns)).to(g)
        assert_close(g, ref, 0.0, claim="view-major G equals (11ᵀ − I_V) ⊗ I_N'", inputs=(ns, nv))
        lam = torch.linalg.eigvalsh(laplacian(g))
        want = torch.tensor([0.0] * ns + [float(nv)] * (ns * (nv - 1)), dtype=g.dtype, device=g.device)
        # eigvalsh is backward stable: error ≤ SAFETY·n·eps·‖L‖₂ with ‖L‖₂ = V
        assert_close(lam, want, tol.sum_of_products(g.dtype, ns * nv, nv), claim="spectrum of L is {0: N', V: N'(V−1)}",
                     inputs=(ns, nv))
    prop()


# ---------------------------------------------------------------------------------------------- claim2
def check_invariance_identity(*, energy=dirichlet_energy, lap=laplacian) -> None:
    """Σ G_ij ‖Z_i − Z_j‖² = 2 tr(Zᵀ L Z) for symmetric weighted (possibly disconnected) G."""
    @_cheap()
    @given(weighted_graphs(), st.integers(1, 4), seeds)
    def prop(g: torch.Tensor, k: int, seed: int) -> None:
        z = _randn(seed, g.shape[0], k)
        lhs, rhs = energy(z, g), 2 * laplacian_quadratic(z, lap(g))
        mag = float((g * (z.unsqueeze(-2) - z.unsqueeze(-3)).square().sum(-1)).sum()) + 2 * float((z.abs() * (lap(g).abs() @ z.abs())).sum())
        assert_close(lhs, rhs, tol.sum_of_products(z.dtype, g.shape[0] ** 2 * k, mag),
                     claim="invariance term equals twice the Laplacian quadratic form", inputs=g)
    prop()


def check_laplacian_kernel(*, lap=laplacian) -> None:
    """L 1 = 0, L ⪰ 0 and dim null(L) = number of connected components."""
    @_cheap()
    @given(weighted_graphs())
    def prop(g: torch.Tensor) -> None:
        n, lam = g.shape[0], torch.linalg.eigvalsh(lap(g))
        norm = float(lam.abs().max()) + 1.0
        assert_close(lap(g).sum(-1), torch.zeros(n, dtype=g.dtype, device=g.device), tol.sum_of_products(g.dtype, n, norm),
                     claim="L 1 = 0", inputs=g)
        assert_leq(-lam[0], torch.zeros((), dtype=g.dtype), tol.sum_of_products(g.dtype, n, norm), claim="L is PSD", inputs=g)
        # Mohar: a connected graph with weights ≥ w has λ₂ ≥ 4w/(n·diam) ≥ 4w/n²; half of it separates zeros
        w = float(g[g > 0].min()) if bool((g > 0).any()) else 1.0
        nullity = int((lam <= 2 * w / n**2).sum())
        assert_close(torch.tensor(float(nullity)), torch.tensor(float(n_components(g))), 0.0,
                     claim="dim null(L) = number of connected components", names=("nullity", "components"), inputs=g)
    prop()


def necessity_symmetric() -> str:
    """Without symmetry, L = diag(G1) − G no longer gives the invariance term."""
    def refutes(g: torch.Tensor) -> bool:
        z = _randn(0, g.shape[0], 2)
        gap = (dirichlet_energy(z, g) - 2 * laplacian_quadratic(z, laplacian(g, symmetric=False))).abs()
        return bool(gap > tol.sum_of_products(z.dtype, g.shape[0] ** 2 * 2, float(dirichlet_energy(z, g)) + 1))
    g = find_counterexample(asymmetric_graphs(), refutes, what="asymmetric G breaking Σ G‖Z_i−Z_j‖² = 2tr(ZᵀLZ)")
    return f"asymmetric G = {g.tolist()} breaks the identity (sympy residual: {sym.asymmetric_dirichlet_residual()})"


# ---------------------------------------------------------------------------------------------- claim3
def _vicreg_problem(pg, rho: float) -> tuple[torch.Tensor, int, float, float]:
    """K = c − 1 bottom directions of a planted graph (certified gap after them); γ/β = ρ / max(low, 1) keeps
    every active direction at c_k = 1 − γλ_k/β ≥ 1 − ρ (no clamping boundary)."""
    return pg.g, int(pg.labels.max()), 1.0, rho / max(pg.low_bound, 1.0)


def _compare_to_optimum(fun, z: torch.Tensor, gn: torch.Tensor, zs: torch.Tensor, what: str, inputs) -> None:
    """Loss and centred Gram of every start against the closed form, tolerances from ‖∇f‖ and the curvature."""
    mu, _ = curvature(fun, zs)
    if mu <= 0:
        raise PropertyViolation(f"{what}: the closed form is not a local minimum (Hessian eigenvalue {mu:.3g} < 0); "
                                f"input {inputs}")
    fstar = fun(zs[None])
    n, k = zs.shape
    ftol, gram_tol = convergence_tolerances(gn, mu, float(torch.linalg.matrix_norm(zs, 2)), n_terms=n * n * k,
                                            magnitude=float(fstar.abs()) + n * k)
    assert_close(fun(z), fstar.expand(len(z)), ftol, claim=f"{what}: optimised loss equals the closed-form loss",
                 names=("optimised", "closed form"), inputs=inputs)
    dist = (centred_gram(z) - centred_gram(zs)).norm(dim=(-2, -1))
    assert_close(dist, torch.zeros_like(dist), gram_tol, claim=f"{what}: optimised HZZᵀH equals the closed form's",
                 names=("‖ΔGram‖", "0"), inputs=inputs)


def check_vicreg_lower_bound(*, closed_form=vicreg_closed_form, loss=vicreg_spectral_loss, value=vicreg_closed_form_loss) -> None:
    """The closed form attains Σ β(c−1)² + 2γλc and no drawn Z does better (any G, any K, clamping included)."""
    @_cheap()
    @given(weighted_graphs(), st.integers(1, 7), st.sampled_from((0.05, 0.5, 2.0)), seeds, st.sampled_from((1.0, 0.1, 10.0)))
    def prop(g: torch.Tensor, k: int, gamma: float, seed: int, scale: float) -> None:
        n = g.shape[0]
        k = min(k, n - 1)
        zs, f0 = closed_form(g, k, beta=1.0, gamma=gamma), value(g, k, beta=1.0, gamma=gamma)
        r = tol.sum_of_products(g.dtype, n * n * k, float(f0) + k + float(g.sum()))
        fz = loss(zs, g, beta=1.0, gamma=gamma)
        assert_close(fz, f0, r, claim="closed form attains Σ β(c_k−1)² + 2γλ_k c_k", inputs=g)
        z = scale * _randn(seed, 16, n, k)
        assert_leq(f0.expand(16), loss(z, g, beta=1.0, gamma=gamma), r, claim="no Z has a lower loss than the closed form",
                   names=("closed form", "random Z"), inputs=g)
    prop()


def check_vicreg_optimum(*, closed_form=vicreg_closed_form, loss=vicreg_spectral_loss, optimiser=lbfgs) -> None:
    """Batched L-BFGS from STARTS random starts reaches the closed form (loss and HZZᵀH)."""
    @_opt()
    @given(planted_graphs(), st.floats(0.05, 0.5), seeds)
    def prop(pg, rho: float, seed: int) -> None:
        g, k, beta, gamma = _vicreg_problem(pg, rho)
        zs = closed_form(g, k, beta=beta, gamma=gamma)
        fun = lambda z: loss(z, g, beta=beta, gamma=gamma)  # noqa: E731
        z, gn, _ = optimiser(fun, _randn(seed, STARTS, g.shape[0], k), gtol=GTOL)
        _compare_to_optimum(fun, z, gn, zs, "VICReg (spectral)", g)
    prop()


def necessity_eigengap() -> str:
    """With a tie λ_K = λ_{K+1} two different representations reach the minimum: the subspace is not determined."""
    def refutes(ns: int) -> bool:
        g = augmentation_graph(ns, 2, device=_dev())
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


def necessity_quadratic_variance() -> str:
    """With the paper's hinge variance term, the axis-aligned spectral solution is beaten by a rotated one."""
    def refutes(seed: int) -> bool:
        g = torch.triu(torch.rand(8, 8, generator=torch.Generator().manual_seed(seed), dtype=torch.float64), 1)
        g = (g + g.T).to(_dev())
        lam, u = centred_eigh(laplacian(g))
        cand = 8**0.5 * u[:, :2] * (1.0 / (4 * 0.2 * lam[:2])).square().clamp_max(1).sqrt()  # per-direction hinge optimum
        fun = lambda z: vicreg_hinge_loss(z, g, alpha=1.0, beta=1.0, gamma=0.2)  # noqa: E731
        z, _, _ = lbfgs(fun, cand + 0.3 * _randn(seed, STARTS, 8, 2), gtol=GTOL, max_iter=300)
        return float(fun(cand[None]) - fun(z).min()) > tol.sum_of_products(g.dtype, 64 * 2, float(fun(cand[None])) + 2)
    seed = find_counterexample(st.sampled_from((0, 1, 2, 3)), refutes, what="hinge VICReg beating the spectral form", max_examples=4)
    return f"complete weighted G on 8 nodes (seed {seed}), α=β=1, γ=0.2, K=2: L-BFGS beats the axis-aligned hinge solution"


# ---------------------------------------------------------------------------------------------- claim4
def check_vicreg_recovers_le(*, closed_form=vicreg_closed_form, le=laplacian_eigenmaps) -> None:
    """On a regular G, the span of VICReg's optimum (all directions active) is the Laplacian-Eigenmaps span."""
    @_cheap()
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
    q = torch.linalg.qr(_randn(seed, d, d))[0]
    r = q * (1 + torch.rand(d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(q))
    return n**0.5 * u @ r + _randn(seed + 1, 1, d), g, k, d


def check_linear_optimum(*, closed_form=vicreg_linear_closed_form, loss=vicreg_linear_loss, optimiser=lbfgs) -> None:
    """Batched L-BFGS over W (Z = XW) reaches the LPP closed form (loss and H X W Wᵀ Xᵀ H)."""
    @_opt()
    @given(planted_graphs(), st.integers(0, 2), st.floats(0.05, 0.5), seeds)
    def prop(pg, extra: int, rho: float, seed: int) -> None:
        x, g, k, d = _linear_problem(pg, extra, seed % 2**31)
        gamma = rho / max(pg.low_bound, 1.0)
        ws = closed_form(x, g, k, beta=1.0, gamma=gamma)
        fun = lambda w: loss(w, x, g, beta=1.0, gamma=gamma)  # noqa: E731
        w, gn, _ = optimiser(fun, _randn(seed, STARTS, d, k), gtol=GTOL)
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
        x = _randn(seed, 8, 2)
        x = torch.cat([x, x[:, :1]], 1)  # duplicated feature: rank(HX) = 2 < D = 3
        g = augmentation_graph(4, 2, device=_dev())
        try:
            vicreg_linear_closed_form(x, g, 2)
            return False
        except ValueError:
            w = _randn(seed + 1, 3, 2)
            e = torch.tensor([[1.0], [0.0], [-1.0]], dtype=x.dtype, device=x.device)
            return bool(vicreg_linear_loss(w, x, g) == vicreg_linear_loss(w + e @ _randn(seed + 2, 1, 2), x, g))
    seed = find_counterexample(st.integers(0, 10), refutes, what="rank-deficient X with non-identified W")
    return f"X with a duplicated column (seed {seed}): Σ singular, closed form undefined, W and W + e aᵀ give equal loss"


# ---------------------------------------------------------------------------------------------- claim6
def check_gibbs_identity(*, ce=cross_entropy, opt=gibbs) -> None:
    """CE(P) − CE(G/G1) = Σ_i (G1)_i KL(G_i/(G1)_i ‖ P_i) ≥ 0 for every right-stochastic P."""
    @_cheap()
    @given(planted_graphs(), seeds)
    def prop(pg, seed: int) -> None:
        g = pg.g
        p = torch.softmax(_randn(seed, 4, *g.shape), -1)
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
    @_opt()
    @given(st.integers(2, 3), st.integers(2, 3), st.sampled_from((0.5, 0.3, 1.0)), seeds)
    def prop(ns: int, nv: int, tau: float, seed: int) -> None:
        g, k = augmentation_graph(ns, nv, device=_dev()), max(ns - 1, 2)  # K = 1 is S⁰: starts cannot change sign
        zs = closed_form(ns, nv, k, device=g.device)
        fun = lambda z: loss(z, g, tau=tau)  # noqa: E731
        n = g.shape[0]
        assert_close(fun(zs), torch.tensor(simplex_value(ns, nv, tau), dtype=g.dtype),
                     tol.sum_of_products(g.dtype, n * n, abs(simplex_value(ns, nv, tau)) + n * n / tau),
                     claim="simplex loss equals N(V−1)[log((V−1)e^{1/τ} + V(N'−1)e^{−1/((N'−1)τ)}) − 1/τ]", inputs=(ns, nv, tau))
        z, _, _ = optimiser(fun, _randn(seed, STARTS, n, k), gtol=GTOL)
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
        g = augmentation_graph(ns, 2, device=_dev())
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
    @_opt()
    @given(planted_graphs((2, 3), (2, 3), connected=False), st.sampled_from((0.5, 1.0)), seeds, st.data())
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
        z, gn, _ = optimiser(fun, _randn(seed, STARTS, g.shape[0], k), gtol=GTOL, max_iter=150)
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
        g = augmentation_graph(2, 2, device=_dev())  # two components
        fun = lambda z: barlow_twins_loss(z, g)  # noqa: E731
        z, gn, _ = lbfgs(fun, _randn(seed, STARTS, 4, 3), gtol=GTOL, max_iter=400)
        best = int(fun(z).argmin())
        mu = abs(curvature(fun, z[best])[0])  # zero loss there would need f ≤ SAFETY‖∇f‖²/(2μ)
        return float(fun(z).min()) > tol.SAFETY * float(gn[best]) ** 2 / (2 * mu) + tol.sum_of_products(g.dtype, 48, 18)
    seed = find_counterexample(st.sampled_from((0, 1)), refutes, what="K > #components with positive minimum", max_examples=2)
    return f"G of 2 images × 2 views (2 components), K = 3: all {STARTS} starts (seed {seed}) stop at positive loss"


# ---------------------------------------------------------------------------------------------- claim9
def _aligned(g: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    y = one_hot(labels).to(g)
    return y, y.shape[1], int(y.sum(0).min())


def check_aligned_closed_form(*, closed_form=vicreg_closed_form) -> None:
    """Aligned G, γ/β > 1/min n_c, K ≥ C − 1: span(HZ⋆) = span(HY) and a linear probe fits Y exactly."""
    @_cheap()
    @given(labelled_graphs(), st.integers(0, 2), st.floats(1.25, 3.0))
    def prop(gl, extra: int, rho: float) -> None:
        g, labels = gl
        y, c, m = _aligned(g, labels)
        k = min(c - 1 + extra, g.shape[0] - 1)
        zs = closed_form(g, k, beta=1.0, gamma=rho / m)
        r = tol.sum_of_products(g.dtype, g.shape[0], float(g.sum(-1).max()) * 2) / m  # Davis–Kahan with gap min n_c
        d = projector_distance(zs - zs.mean(0), y - y.mean(0), c - 1)
        assert_close(d, torch.tensor(0.0, dtype=g.dtype), 2 * 2**0.5 * r, claim="span(HZ⋆) = span(HY)", inputs=labels)
        assert_close(probe_residual(zs, y), torch.tensor(0.0, dtype=g.dtype), g.shape[0] * r,
                     claim="linear probe on Z⋆ fits the labels", names=("residual²", "0"), inputs=labels)
    prop()


def check_aligned_optimum(*, closed_form=vicreg_closed_form, loss=vicreg_spectral_loss, optimiser=lbfgs) -> None:
    """Batched L-BFGS on aligned G (γ/β ≥ 1.5/min n_c: clamped directions have curvature) recovers span(HY)."""
    @_opt()
    @given(labelled_graphs(), st.integers(0, 1), st.floats(1.5, 3.0), seeds)
    def prop(gl, extra: int, rho: float, seed: int) -> None:
        g, labels = gl
        y, c, m = _aligned(g, labels)
        k = c - 1 + extra
        zs = closed_form(g, k, beta=1.0, gamma=rho / m)
        fun = lambda z: loss(z, g, beta=1.0, gamma=rho / m)  # noqa: E731
        z, gn, _ = optimiser(fun, _randn(seed, STARTS, g.shape[0], k), gtol=GTOL)
        _compare_to_optimum(fun, z, gn, zs, "VICReg on label-aligned G", labels)
    prop()


def _misaligned(rho_inv: float, extra: int = 0):
    def refutes(gl) -> bool:
        g, labels = gl
        y = one_hot(labels).to(g)
        k = min(max(1, y.shape[1] - 1 + extra), g.shape[0] - 1)
        zs = vicreg_closed_form(g, k, gamma=rho_inv / int(y.sum(0).min()))
        return float(probe_residual(zs, y)) > tol.sum_of_products(g.dtype, g.shape[0] ** 2, g.shape[0])
    return refutes


def necessity_aligned() -> str:
    """A G misaligned with the labels gives an optimum from which no linear probe recovers Y."""
    g, labels = find_counterexample(labelled_graphs(aligned=False), _misaligned(2.0), what="misaligned G losing labels")
    return f"G pairing samples across classes (labels {labels.tolist()}): probe residual > 0"


def necessity_high_invariance() -> str:
    """With γ/β < 1/min n_c (low data, small invariance weight), non-label directions survive: rank(HZ⋆) > C − 1."""
    def refutes(gl) -> bool:
        g, labels = gl
        y, c, m = _aligned(g, labels)
        zs = vicreg_closed_form(g, c, gamma=0.5 / m)
        return int(torch.linalg.matrix_rank(zs - zs.mean(0))) > c - 1
    g, labels = find_counterexample(labelled_graphs(), refutes, what="small γ/β keeping non-label directions")
    return f"labels {labels.tolist()}, K = C, γ/β = 0.5/min n_c: rank(HZ⋆) = C > C − 1 (not the supervised representation)"


def necessity_enough_dims() -> str:
    """With K < C − 1 even an aligned G cannot give a representation that separates all classes."""
    g, labels = find_counterexample(labelled_graphs(n_classes=(3, 4)), _misaligned(2.0, extra=-2), what="K < C − 1")
    return f"labels {labels.tolist()}, K = C − 2: probe residual > 0"


# --------------------------------------------------------------------------------------------- claim10
def check_misaligned_rank_pinned(*, vicreg=vicreg_closed_form, barlow=barlow_twins_closed_form, simplex=simclr_simplex) -> None:
    """Misaligned G (pairs across classes): representations confined to null(L) (SimCLR, BarlowTwins, VICReg with
    γ/β > 1/λ_max) keep only pair identity: probe residual² = N/2 exactly (each class indicator averages to ½ per pair);
    VICReg with γ/β < 1/λ_max(L) = ½ and K = N − 1 keeps every direction: residual 0."""
    @_cheap()
    @given(labelled_graphs(aligned=False))
    def prop(gl) -> None:
        g, labels = gl
        y, n = one_hot(labels).to(g), g.shape[0]
        r = tol.sum_of_products(g.dtype, n * n, n)
        pairs = barlow(g, n // 2)
        reps = {"VICReg γ/β=1": vicreg(g, n // 2 - 1, gamma=1.0), "BarlowTwins": pairs,
                "SimCLR simplex": pairs @ simplex(n // 2, 1, max(n // 2 - 1, 1), device=g.device)}
        for name, z in reps.items():
            assert_close(probe_residual(z, y), torch.tensor(n / 2, dtype=g.dtype), r,
                         claim=f"{name}: probe residual² on misaligned G is N/2", inputs=labels)
        assert_close(probe_residual(vicreg(g, n - 1, gamma=0.25), y), torch.tensor(0.0, dtype=g.dtype), r,
                     claim="VICReg with small invariance weight keeps the label information", inputs=labels)
    prop()


def necessity_small_invariance() -> str:
    """With γ/β > 1/λ_max(L), VICReg also collapses onto null(L) and loses the labels."""
    def refutes(gl) -> bool:
        g, labels = gl
        return float(probe_residual(vicreg_closed_form(g, g.shape[0] - 1, gamma=1.0), one_hot(labels).to(g))) > 1.0
    g, labels = find_counterexample(labelled_graphs(aligned=False), refutes, what="large γ/β losing labels")
    return f"misaligned G, labels {labels.tolist()}, K = N − 1, γ/β = 1 > 1/λ_max = 1/2: probe residual² = N/2"


# --------------------------------------------------------------------------------------------- claim11
def check_right_singular_vectors_free(*, losses=(vicreg_spectral_loss, simclr_loss)) -> None:
    """L(ZQ) = L(Z) for orthogonal Q: the losses see only the left singular vectors and singular values of Z."""
    @_cheap()
    @given(weighted_graphs(), st.integers(1, 4), seeds)
    def prop(g: torch.Tensor, k: int, seed: int) -> None:
        z = _randn(seed, g.shape[0], k)
        q = torch.linalg.qr(_randn(seed + 1, k, k))[0]
        for loss in losses:
            a, b = loss(z, g), loss(z @ q, g)
            assert_close(a, b, tol.sum_of_products(g.dtype, g.shape[0] ** 2 * k, float(a.abs()) + g.shape[0] ** 2 * float(g.max())),
                         claim=f"{getattr(loss, '__name__', loss)} is invariant to Z → ZQ", inputs=g)
    prop()


# ------------------------------------------------------------------------------- necessity (claim1, claim11)
def necessity_equal_views() -> str:
    """Views per image (3, 2) instead of a common V: G = K₃ ⊕ K₂ (positives = the other views of the same image);
    the Laplacian's non-zero eigenvalues are {3, 3, 2}, not one value V, so no V fits the claimed spectrum."""
    counts = (3, 2)
    ids = torch.repeat_interleave(torch.arange(len(counts)), torch.tensor(counts))
    g = (ids[:, None] == ids[None, :]).to(torch.float64) - torch.eye(len(ids), dtype=torch.float64)
    lam = torch.linalg.eigvalsh(laplacian(g.to(_dev()))).cpu()
    t = tol.sum_of_products(torch.float64, len(ids), float(max(counts)))
    nonzero = lam[lam > t]
    zeros = int((lam.abs() <= t).sum())
    if zeros == len(counts) and float(nonzero.max() - nonzero.min()) <= t:
        raise PropertyViolation(f"views per image {counts}: the spectrum {lam.tolist()} still has the claimed form")
    return (f"views per image {counts}: spec(L) = {[round(float(v), 6) for v in lam]}: {zeros} zeros but non-zero "
            f"eigenvalues {sorted({round(float(v), 6) for v in nonzero})} (no single V)")


def necessity_orthogonal_map() -> str:
    """Drop 'Q orthogonal / the loss depends on Z only through ZZᵀ': a non-orthogonal Q (seeded search over
    diagonal scalings) changes VICReg's loss, and BarlowTwins (which sees more than ZZᵀ) changes under an orthogonal Q."""
    g = augmentation_graph(3, 2, device=_dev())
    z = _randn(0, g.shape[0], 2)

    def refutes(a: float) -> bool:
        q = torch.diag(torch.tensor([a, 1.0], dtype=torch.float64, device=z.device))
        x, y = vicreg_spectral_loss(z, g), vicreg_spectral_loss(z @ q, g)
        return bool((x - y).abs() > 1e-6 * (1 + x.abs()))
    a = find_counterexample(st.floats(0.1, 3.0), refutes, what="VICReg invariant to a non-orthogonal Z → ZQ", max_examples=50)
    q = torch.linalg.qr(_randn(1, 2, 2))[0]
    b0, b1 = float(barlow_twins_loss(z, g)), float(barlow_twins_loss(z @ q, g))
    if abs(b0 - b1) <= 1e-6 * (1 + abs(b0)):
        raise PropertyViolation("BarlowTwins turned out invariant to an orthogonal Z → ZQ on the seeded witness")
    q2 = torch.diag(torch.tensor([a, 1.0], dtype=torch.float64, device=z.device))
    v0, v1 = float(vicreg_spectral_loss(z, g)), float(vicreg_spectral_loss(z @ q2, g))
    return (f"Q = diag({a:g}, 1): VICReg {v0:.6g} → {v1:.6g}; orthogonal Q (seed 1) but BarlowTwins (not a function "
            f"of ZZᵀ): {b0:.6g} → {b1:.6g}")
