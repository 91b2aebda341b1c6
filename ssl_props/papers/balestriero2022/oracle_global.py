"""Balestriero & LeCun (NeurIPS 2022, arXiv:2205.11508): the "global" side, SimCLR-family ↔ MDS / ISOMAP, against
``sklearn.manifold.ClassicalMDS``, ``Isomap`` and ``spectral_embedding`` (claims 18-19, definition-isomap,
remark-simclr-isomap). Pairing SimCLR ↔ MDS is the arXiv v3 abstract [P], SimCLR ↔ ISOMAP the NeurIPS abstract [P];
the spectral-contrastive = matrix factorisation identity is a follow-up's [F] (Zhang et al., ICLR 2026,
arXiv:2501.01317; HaoChen et al. 2021); every precise statement is reconstructed [R] (notes §6).

Spectral contrastive loss on a finite graph (w_ij = G_ij/ΣG, w_i = Σ_j w_ij, F = diag(√w) Z, Ā = D^{-1/2}GD^{-1/2}):
L(Z) = −2Σ w_ij z_iᵀz_j + Σ w_i w_j (z_iᵀz_j)² = ‖Ā − FFᵀ‖²_F − ‖Ā‖²_F; by Eckart–Young on the PSD cone
min L = −Σ_{k≤K, λ_k>0} λ_k(Ā)², at FFᵀ = U_KΛ_KU_Kᵀ, i.e. Z⋆ = √(ΣG) D^{-1/2} U_K Λ_K^{1/2}: the kernel PCA / MDS of
Ā mapped back by D^{-1/2}; its span is normalised LE with the trivial vector.
"""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ssl_props import tolerances as tol
from ssl_props.graphs import component_labels, n_components, regular_graphs, weighted_graphs
from ssl_props.papers.balestriero2022 import oracles as o
from ssl_props.papers.balestriero2022.optima import simplex_value
from ssl_props.papers.balestriero2022.oracle_existing import cosine_gram, same_image_metric
from ssl_props.papers.balestriero2022.sampling import GTOL, STARTS, device, fidelity_settings, randn
from ssl_props.properties import PropertyViolation, assert_close, assert_leq, find_counterexample
from ssl_props.spectral import curvature, lbfgs, simclr_loss, simclr_simplex
from ssl_props.strategies import SEEDS

SK_MDS = o.SK_MDS


def _close0(value: float, bound: float, claim: str, inputs, name: str = "largest principal angle") -> None:
    assert_close(torch.tensor(value, dtype=torch.float64), torch.zeros((), dtype=torch.float64), bound, claim=claim,
                 names=(name, "0"), inputs=inputs)


# -------------------------------------------------------------------------------------------- claim18
def spectral_contrastive_g(z: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """HaoChen's spectral contrastive loss on the graph G, pairwise form (batched over z's leading dims)."""
    w = g / g.sum()
    wi = w.sum(-1)
    s = z @ z.transpose(-2, -1)
    return -2 * (w * s).sum((-2, -1)) + (wi[:, None] * wi[None, :] * s.square()).sum((-2, -1))


def normalised_adjacency(g: torch.Tensor) -> torch.Tensor:
    s = g.sum(-1).rsqrt()
    return s[:, None] * g * s[None, :]


def scl_closed_form(g: torch.Tensor, k: int) -> torch.Tensor:
    """Z⋆ = √(ΣG) D^{-1/2} U_K Λ_K^{1/2} (top-K eigenpairs of Ā, clamped at 0)."""
    lam, u = torch.linalg.eigh(normalised_adjacency(g))
    top = u[:, -k:].flip(-1) * lam[-k:].flip(-1).clamp_min(0).sqrt()
    return g.sum().sqrt() * g.sum(-1).rsqrt()[:, None] * top


def _scl_case(g: torch.Tensor, k: int) -> tuple[np.ndarray, float, float]:
    """(eigenvalues of Ā descending, gap λ_K − max(λ_(K+1), 0), ‖Ā‖)."""
    lam = torch.linalg.eigvalsh(normalised_adjacency(g)).flip(-1).cpu().numpy()
    return lam, float(lam[k - 1] - max(lam[k], 0.0)), float(np.abs(lam).max())


@o.pinned
def check_scl_mds(*, closed_form=scl_closed_form, loss=spectral_contrastive_g, oracle=o.le) -> None:
    """Connected weighted G: L(Z) = ‖Ā − FFᵀ‖² − ‖Ā‖² on random Z; L(Z⋆) = −Σλ_k(Ā)² and a batched L-BFGS reaches no
    lower value; span(Z⋆) = sklearn's spectral_embedding(norm_laplacian=True, drop_first=False). Tolerances: rounding of
    N²K products; angle ≤ κ(D^{1/2})·(davis_kahan/2 + residual_angle) on Ā."""
    @settings(fidelity_settings(), max_examples=4)  # one batched L-BFGS per example
    @given(weighted_graphs((5, 10)), st.integers(1, 3), SEEDS)
    def prop(g: torch.Tensor, k: int, seed: int) -> None:
        n = g.shape[0]
        assume(n_components(g) == 1 and bool((g.sum(-1) > 0).all()))
        lam, gap, norm = _scl_case(g, k)
        assume(o.davis_kahan(n, norm, max(gap, 1e-300)) < 1e-3)
        a = normalised_adjacency(g)
        z = randn(seed % 2**31, 4, n, k)
        f = torch.sqrt(g.sum(-1) / g.sum())[:, None] * z
        rhs = (a - f @ f.transpose(-2, -1)).square().sum((-2, -1)) - a.square().sum()
        mag = float(rhs.abs().max()) + float((f @ f.transpose(-2, -1)).square().sum((-2, -1)).max()) + n
        r = float(tol.sum_of_products(g.dtype, n * n * k, mag))
        assert_close(loss(z, g), rhs, r, claim="spectral contrastive loss = ‖Ā − FFᵀ‖² − ‖Ā‖²", inputs=g)
        zs = closed_form(g, k)
        fmin = torch.tensor(-float((lam[:k] ** 2).sum()), dtype=g.dtype, device=g.device)
        assert_close(loss(zs, g), fmin, r, claim="L(Z⋆) = −Σ_{k≤K} λ_k(Ā)² (Eckart–Young)", inputs=g)
        zo, _, _ = lbfgs(lambda v: loss(v, g), randn(seed % 2**31 + 1, STARTS, n, k), gtol=GTOL, max_iter=150)
        assert_leq(fmin.expand(STARTS), loss(zo, g), r, claim="no optimised Z goes below −Σλ_k(Ā)²",
                   names=("−Σλ²", "L-BFGS value"), inputs=g)
        emb = oracle(g, k, normalised=True)
        d = g.sum(-1)
        cond = float((d.max() / d.min()).sqrt())
        # sklearn's normalised output is D^{-1/2}·(bottom of L_sym = top of Ā): certify it on Ā via D^{1/2}
        res = o.residual_angle(a, o.to_numpy(d.sqrt())[:, None] * emb, gap)
        _close0(o.max_angle(zs, emb), cond * (o.davis_kahan(n, norm, gap) / 2 + res),
                "Z⋆ spans sklearn's normalised spectral embedding (with the trivial vector)", g)
    prop()


def delta_of(g: torch.Tensor) -> np.ndarray:
    """Δ_ij = √(2 − 2Ā_ij) (i ≠ j), Δ_ii = 0: the distance of the PSD kernel Ā + I (Ā_ii = 0)."""
    a = o.to_numpy(normalised_adjacency(g))
    a = (a + a.T) / 2  # s_i G_ij s_j and s_j G_ji s_i round differently: exact symmetry for the oracle
    d = np.sqrt(np.clip(2 - 2 * a, 0, None))
    np.fill_diagonal(d, 0.0)
    return d


@o.pinned
def check_scl_classical_mds_regular(*, closed_form=scl_closed_form, oracle=o.classical_mds) -> None:
    """d-regular G, K ≥ 2: span(Z⋆) = span([1, ClassicalMDS_{K−1}(Δ)]) (−½HΔ²H = H(Ā + I)H, whose top eigenvectors
    are Ā's after the trivial 1). Angle ≤ 2·davis_kahan(N, 2, gap) (two eigensolves of ‖Ā + I‖ ≤ 2)."""
    @fidelity_settings()
    @given(regular_graphs((3, 6), (2, 3)), st.integers(2, 4))
    def prop(g: torch.Tensor, k: int) -> None:
        n = g.shape[0]
        k = min(k, n - 2)
        assume(n_components(g) == 1)
        lam, gap, _ = _scl_case(g, k)
        assume(o.davis_kahan(n, 2.0, max(gap, 1e-300)) < 1e-3 and lam[k - 1] > 0)
        y = oracle(delta_of(g), k - 1)
        _close0(o.max_angle(closed_form(g, k), np.c_[np.ones(n), y]), 2 * o.davis_kahan(n, 2.0, gap),
                "regular G: span(Z⋆) = span([1, ClassicalMDS(Δ)])", g)
    prop()


@o.pinned
def necessity_scl_regular() -> str:
    """Irregular G: double centring removes 1, not Ā's trivial eigenvector D^{1/2}1, so [1, ClassicalMDS] ≠ Z⋆."""
    def angle(case) -> float:
        g, k = case
        lam, gap, _ = _scl_case(g, k)
        if n_components(g) > 1 or gap <= 1e-3 or lam[k - 1] <= 0:
            return 0.0
        return o.max_angle(scl_closed_form(g, k), np.c_[np.ones(g.shape[0]), o.classical_mds(delta_of(g), k - 1)])
    case = find_counterexample(st.tuples(weighted_graphs((5, 9)), st.integers(2, 3)), lambda c: angle(c) > 0.05,
                               what="irregular G with [1, MDS] = SCL span", max_examples=20)
    return f"weighted G on {case[0].shape[0]} nodes, K = {case[1]}: angle([1, ClassicalMDS(Δ)], Z⋆) = {angle(case):.3g} rad"


@o.pinned
def necessity_scl_eigengap() -> str:
    """A tie λ_K = λ_(K+1) of Ā: two closed forms from different eigenvector choices have equal loss, other spans."""
    from ssl_props.graphs import augmentation_graph

    g = augmentation_graph(3, 2, device=device())  # Ā = G: eigenvalues 1 (×3), −1 (×3); K = 1 < 3
    _, u = torch.linalg.eigh(normalised_adjacency(g))
    z1, z2 = g.sum().sqrt() * u[:, -1:] / g.sum(-1).sqrt()[:, None], g.sum().sqrt() * u[:, -2:-1] / g.sum(-1).sqrt()[:, None]
    f1, f2 = spectral_contrastive_g(z1, g), spectral_contrastive_g(z2, g)
    a = o.max_angle(z1, z2)
    if not (abs(float(f1 - f2)) <= tol.sum_of_products(g.dtype, 36, 4.0) and a > 1.0):
        raise PropertyViolation("no tie counterexample: the two eigenvector choices differ in loss or agree in span")
    return f"augmentation G (3 images × 2 views), K = 1: λ_1 = λ_2 = 1, two optima with loss {float(f1):.3g}, angle {a:.3g} rad"


# -------------------------------------------------------------------------------------------- claim19
def clique_closed_form(g: torch.Tensor, k: int) -> torch.Tensor:
    """Every node of component c on vertex c of a regular simplex in R^K (needs K ≥ #components − 1)."""
    labels = component_labels(g).to(g.device)
    c = int(labels.max()) + 1
    return simclr_simplex(c, 1, k, device=g.device)[labels]


@st.composite
def clique_graphs(draw: st.DrawFn) -> tuple[torch.Tensor, int, int]:
    """(G, N', m): N' equal cliques of m nodes (an augmentation G with V = m, or a balanced label G = YYᵀ − I),
    nodes in a drawn order."""
    ns, m = draw(st.integers(2, 5)), draw(st.integers(2, 4))
    perm = torch.randperm(ns * m, generator=torch.Generator().manual_seed(draw(SEEDS)))
    labels = torch.arange(ns).repeat_interleave(m)[perm]
    g = (labels[:, None] == labels[None, :]).double() - torch.eye(ns * m, dtype=torch.float64)
    return g.to(device()), ns, m


@o.pinned
def check_simclr_clique_mds(*, closed_form=clique_closed_form, loss=simclr_loss, oracle=o.classical_mds) -> None:
    """Clique components of equal size, any node order, K ≥ N' − 1, any τ: the closed form has claim7's simplex value
    and its cosine Gram equals ClassicalMDS's of the 0/1 same-image metric. |Δcos| ≤ 4·davis_kahan(N, 1, 1) + rounding
    (MDS's N' − 1 eigenvalues are equal, the rest 0: gap = ‖B‖)."""
    @fidelity_settings()
    @given(clique_graphs(), st.integers(0, 1), st.sampled_from((0.2, 0.5, 1.0)))
    def prop(case, extra: int, tau: float) -> None:
        g, ns, m = case
        n = g.shape[0]
        zs = closed_form(g, ns - 1 + extra)
        want = torch.tensor(simplex_value(ns, m, tau), dtype=g.dtype, device=g.device)
        assert_close(loss(zs, g, tau=tau), want, tol.sum_of_products(g.dtype, n * n, abs(float(want)) + n * n / tau),
                     claim="clique graph: closed form has the simplex value (claim7)", inputs=(ns, m, tau))
        err = float(np.abs(cosine_gram(zs) - cosine_gram(oracle(same_image_metric(g), ns - 1))).max())
        _close0(err, 4 * o.davis_kahan(n, 1.0, 1.0) + float(tol.sum_of_products(torch.float64, n, 1.0)),
                "SimCLR's optimum = classical MDS of the same-image metric (cosine Gram)", (ns, m), "max |Δcos|")
    prop()


@o.pinned
def necessity_simclr_dimension() -> str:
    """K = 1 < N' − 1: the exact SimCLR minimum over every unit Z in R¹ (sign patterns) has a cosine Gram far from
    MDS's regular simplex (cosines ±1 vs −1/(N' − 1))."""
    def gap(ns: int) -> float:
        from ssl_props.graphs import augmentation_graph
        g = augmentation_graph(ns, 2, device=device())
        n = g.shape[0]
        signs = ((torch.arange(2**n)[:, None] >> torch.arange(n)) & 1).to(g) * 2 - 1
        best = signs[int(simclr_loss(signs[..., None], g, tau=0.5).argmin())][:, None]
        return float(np.abs(cosine_gram(best) - cosine_gram(o.classical_mds(same_image_metric(g), ns - 1))).max())
    ns = find_counterexample(st.integers(3, 4), lambda s: gap(s) > 0.5, what="K < N' − 1 with SimCLR = MDS")
    return f"N' = {ns}, V = 2, K = 1: exact SimCLR minimiser vs ClassicalMDS, max |Δcos| = {gap(ns):.3g}"


# ---------------------------------------------------------------------------------- definition-isomap
def isomap_torch(x: torch.Tensor, n_neighbors: int, m: int, *, geodesic: bool = True) -> torch.Tensor:
    """ISOMAP written here: symmetrised kNN graph with Euclidean edge lengths, shortest paths by min-plus squaring
    (⌈log₂ N⌉ batched steps), classical MDS (top-m eigenpairs of −½HΔ²H, scaled by √λ). ``geodesic=False`` uses
    the Euclidean distances (plain classical MDS; a wrong version for the necessity check)."""
    n = x.shape[0]
    d = torch.cdist(x, x)
    if geodesic:
        nn = d.argsort(-1)[:, 1:n_neighbors + 1]
        mask = torch.zeros(n, n, dtype=torch.bool, device=x.device)
        mask[torch.arange(n, device=x.device)[:, None], nn] = True
        mask = mask | mask.T
        d = torch.where(mask, d, torch.full_like(d, float("inf"))).fill_diagonal_(0.0)
        for _ in range(int(np.ceil(np.log2(max(n, 2))))):
            d = torch.minimum(d, (d[:, :, None] + d[None, :, :]).amin(1))
    h = torch.eye(n, dtype=x.dtype, device=x.device) - 1.0 / n
    lam, u = torch.linalg.eigh(-0.5 * h @ d.square() @ h)
    return u[:, -m:].flip(-1) * lam[-m:].flip(-1).clamp_min(0).sqrt()


def strip(n: int, seed: int) -> torch.Tensor:
    """n points on a rolled 2-D strip in R³ (a short swiss roll): curved, so geodesics ≠ Euclidean distances."""
    gen = torch.Generator().manual_seed(seed)
    t = 1.5 * np.pi * (1 + torch.rand(n, generator=gen, dtype=torch.float64))
    h = 4 * torch.rand(n, generator=gen, dtype=torch.float64)
    return torch.stack([t * torch.cos(t), h, t * torch.sin(t)], -1).to(device())


def _gram_gap(x: torch.Tensor, k: int, m: int, geodesic: bool = True) -> tuple[float, float]:
    """(gap λ_m − λ_(m+1) of ISOMAP's B, ‖B‖) from our side."""
    y = isomap_torch(x, k, m + 1, geodesic=geodesic)
    lam = y.square().sum(0)
    return float(lam[m - 1] - lam[m]), float(lam[0])


@o.pinned
def check_isomap(*, isomap_fn=isomap_torch, oracle=o.isomap) -> None:
    """ISOMAP = classical MDS on kNN-graph geodesics: our implementation vs sklearn's Isomap (eigen_solver='dense'):
    span and eigenvalues (column norms²). Angle ≤ davis_kahan(N, ‖B‖, gap); eigenvalues ≤ SAFETY·N²·eps·‖B‖ (B's
    entries are sums of N² rounded squares) twice."""
    @fidelity_settings()
    @given(st.integers(20, 30), st.integers(6, 9), st.integers(1, 2), SEEDS)
    def prop(n: int, k: int, m: int, seed: int) -> None:
        x = strip(n, seed % 2**31)
        gap, norm = _gram_gap(x, k, m)
        assume(np.isfinite(norm) and o.davis_kahan(n, norm, max(gap, 1e-300)) < 1e-3)
        ours, theirs = isomap_fn(x, k, m), oracle(x, k, m)
        _close0(o.max_angle(ours, theirs), o.davis_kahan(n * n, norm, gap), "our ISOMAP spans sklearn Isomap's embedding", (n, k))
        assert_close(ours.square().sum(0), torch.as_tensor((theirs**2).sum(0), device=ours.device),
                     2 * float(tol.sum_of_products(torch.float64, n * n, norm)),
                     claim="our ISOMAP eigenvalues = sklearn Isomap's (column norms²)", inputs=(n, k))
    prop()


@o.pinned
def necessity_geodesic() -> str:
    """Euclidean instead of geodesic distances: classical MDS of a rolled strip is not its ISOMAP (> 0.1 rad)."""
    def angle(seed: int) -> float:
        x = strip(25, seed)
        return o.max_angle(isomap_torch(x, 7, 2, geodesic=False), o.isomap(x, 7, 2))
    seed = find_counterexample(st.integers(0, 5), lambda s: angle(s) > 0.1, what="MDS on Euclidean = ISOMAP")
    return f"rolled strip, 25 points (seed {seed}): ClassicalMDS(Euclidean) vs sklearn Isomap(7 neighbours), angle {angle(seed):.3g} rad"


# ---------------------------------------------------------------------------------- remark-simclr-isomap
def grid_graph(a: int, b: int) -> torch.Tensor:
    idx = torch.arange(a * b).reshape(a, b)
    g = torch.zeros(a * b, a * b, dtype=torch.float64)
    for e1, e2 in ((idx[:-1].flatten(), idx[1:].flatten()), (idx[:, :-1].flatten(), idx[:, 1:].flatten())):
        g[e1, e2] = g[e2, e1] = 1.0
    return g.to(device())


def cycle_graph(n: int) -> torch.Tensor:
    i = torch.arange(n)
    g = torch.zeros(n, n, dtype=torch.float64)
    g[i, (i + 1) % n] = g[(i + 1) % n, i] = 1.0
    return g.to(device())


def simclr_vs_isomap(g: torch.Tensor, seed: int, tau: float = 0.5, k: int = 2) -> tuple[float, float]:
    """(angle between the certified SimCLR optimum's centred unit rows and ISOMAP(G) = ClassicalMDS of the hop
    geodesics, K = 2; its tolerance SAFETY‖∇f‖/(μ σ_K) + davis_kahan of ISOMAP's B)."""
    n = g.shape[0]
    fun = lambda z: simclr_loss(z, g, tau=tau)  # noqa: E731
    z, gn, _ = lbfgs(fun, randn(seed, STARTS, n, k), gtol=GTOL, max_iter=1000)
    i = int(fun(z).argmin())
    mu, _ = curvature(fun, z[i])
    if not mu > 0:
        raise PropertyViolation(f"SimCLR on G: best start not a certified local minimum (curvature {mu:.3g})")
    zn = torch.nn.functional.normalize(z[i], dim=-1)
    zc = zn - zn.mean(0)
    geo = o.geodesics(g)
    b = -0.5 * (np.eye(n) - 1.0 / n) @ geo**2 @ (np.eye(n) - 1.0 / n)
    lb = np.linalg.eigvalsh(b)[::-1]
    bound = (tol.SAFETY * float(gn[i]) / (mu * float(torch.linalg.svdvals(zc)[-1]))
             + o.davis_kahan(n, float(lb[0]), float(lb[k - 1] - lb[k])))
    return o.max_angle(zc, o.classical_mds(geo, k)), bound


@o.pinned
def check_simclr_not_isomap_on_grid(*, graph=None) -> None:
    """The 3×4 grid (``graph`` overrides it), τ = 0.5, K = 2: the certified SimCLR optimum is ≥ 1e3 × its tolerance
    away from ISOMAP(G)."""
    a, bound = simclr_vs_isomap(grid_graph(3, 4) if graph is None else graph, 0)
    assert_leq(torch.tensor(1e3 * bound), torch.tensor(a), 0.0, claim="SimCLR ≠ ISOMAP on the 3×4 grid",
               names=("1e3 × tolerance", "angle(SimCLR, ISOMAP)"), inputs="grid 3×4")


@o.pinned
def necessity_circulant() -> str:
    """On the cycle C12 (circulant: both methods give its first Fourier pair) SimCLR = ISOMAP within tolerance."""
    a, bound = simclr_vs_isomap(cycle_graph(12), 0)
    if not a <= bound:
        raise PropertyViolation(f"cycle C12: SimCLR vs ISOMAP angle {a:.3g} > tolerance {bound:.3g}")
    return f"cycle C12, τ = 0.5, K = 2: angle {a:.2g} rad ≤ tolerance {bound:.2g} (circulant: both give the first Fourier pair)"
