"""Balestriero & LeCun (NeurIPS 2022, arXiv:2205.11508): checks of printed statements that are inconsistent,
vacuous or contradicted by the closed forms (issue 14 items 13-17; notes ``fidelity-2026-12/balestriero2022.md``
E1-E3, E7), and of the setting where VICReg, SimCLR and Barlow Twins provably give the same representation.

Records: :mod:`ssl_props.papers.balestriero2022.errata`. Checks accept keyword overrides of what they test.
"""
from __future__ import annotations

import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from ssl_props import tolerances as tol
from ssl_props.graphs import augmentation_graph, augmentation_graphs, labelled_graphs, laplacian
from ssl_props.papers.balestriero2022.sampling import device, fidelity_settings
from ssl_props.properties import PropertyViolation, assert_close, find_counterexample
from ssl_props.spectral import (
    barlow_twins_closed_form,
    barlow_twins_loss,
    probe_residual,
    projector,
    simclr_simplex,
    vicreg_closed_form,
)


def _graph_cases(build=augmentation_graph) -> st.SearchStrategy:
    """``(G, N', V)`` for N' ∈ [1, 5], V ∈ [2, 4] from the augmentation_graphs strategy; ``build`` (a test's
    replacement builder) makes ``G`` from ``(N', V)`` instead."""
    cases = augmentation_graphs(n_samples=(1, 5), n_views=(2, 4), device=device())
    return cases if build is augmentation_graph else cases.map(lambda t: (build(t[1], t[2], device=device()), *t[1:]))


def _rank(a: torch.Tensor) -> int:
    return int(torch.linalg.matrix_rank(a))


# ------------------------------------------------------------------------------- E1: rank(Z) = rank(G)
def check_rank_of_g(*, build=augmentation_graph) -> None:
    """The augmentation G has eigenvalues V − 1 (×N') and −1 (×N'(V − 1)), so rank(G) = N = V N', while the derived
    optima have rank N' − 1 (SimCLR simplex) and ≤ N' (Barlow Twins): 'rank(Z) = rank(G)' cannot hold literally."""
    @fidelity_settings()
    @given(_graph_cases(build))
    def prop(drawn) -> None:
        g, ns, nv = drawn
        case = (ns, nv)
        n = ns * nv
        lam = torch.linalg.eigvalsh(g)
        want = torch.tensor([-1.0] * (ns * (nv - 1)) + [nv - 1.0] * ns, dtype=g.dtype, device=g.device)
        assert_close(lam, want, tol.sum_of_products(g.dtype, n, nv), claim="E1: spec(G) = {−1, V − 1}", inputs=case)
        ranks = {"G": _rank(g), "BarlowTwins Z⋆": _rank(barlow_twins_closed_form(g, ns))}
        if ns >= 2:
            ranks["SimCLR Z⋆"] = _rank(simclr_simplex(ns, nv, ns - 1, device=g.device))
        expect = {"G": n, "BarlowTwins Z⋆": ns, "SimCLR Z⋆": ns - 1}
        for name, r in ranks.items():
            if r != expect[name]:
                raise PropertyViolation(f"E1: rank({name}) = {r}, expected {expect[name]} for N' = {ns}, V = {nv}")
    prop()


def bipartite_views_graph(ns: int) -> torch.Tensor:
    """N' images with 4 views each, positives only across two pairs of views (K_{2,2} per image): rank 2N' < 4N'."""
    block = torch.tensor([[0, 0, 1, 1], [0, 0, 1, 1], [1, 1, 0, 0], [1, 1, 0, 0]], dtype=torch.float64)
    return torch.block_diag(*[block] * ns).to(device())


def necessity_complete_blocks() -> str:
    """Drop 'an image's views are all related (blocks 11ᵀ − I_V)': with K_{2,2} blocks G is singular (rank 2N')."""
    ns = find_counterexample(st.integers(1, 4), lambda k: _rank(bipartite_views_graph(k)) < 4 * k,
                             what="a non-complete view block with rank(G) = N")
    return f"N' = {ns} images, 4 views, positives across view pairs only: rank(G) = {2 * ns} < N = {4 * ns}"


# ------------------------------------------------------------------------------- E2: left singular vectors of G
def check_singular_vectors(*, build=augmentation_graph) -> None:
    """For V = 2, G is a permutation (all singular values 1): two orthogonal N'-subspaces (eigenvalue +1 and −1) are
    equally 'top left singular vectors'; the signed top eigenvectors (eigenvalue V − 1) are null(L). For V ≥ 3 the
    singular values are {V − 1, 1} and the top N' left singular subspace is null(L)."""
    @fidelity_settings()
    @given(_graph_cases(build))
    def prop(drawn) -> None:
        g, ns, nv = drawn
        case = (ns, nv)
        n, r = ns * nv, tol.sum_of_products(torch.float64, ns * nv, nv)
        sv = torch.linalg.svdvals(g)
        want = torch.tensor([nv - 1.0] * ns + [1.0] * (n - ns), dtype=g.dtype, device=g.device)
        assert_close(sv, want, r, claim="E2: singular values of G are {V − 1 (×N'), 1}", inputs=case)
        lam, u = torch.linalg.eigh(g)
        null = torch.linalg.eigh(laplacian(g))[1][:, :ns]
        top = u[:, -ns:]  # eigenvalue V − 1: the signed top
        assert_close(projector(top, ns), projector(null, ns), r * n, claim="E2: top signed eigenvectors of G span null(L)",
                     inputs=case)
        left = torch.linalg.svd(g)[0][:, :ns]
        if nv == 2:  # the eigenvalue −1 subspace is as 'top' a singular subspace, and orthogonal to null(L)
            other = u[:, :ns]
            dist = float((projector(other, ns) - projector(null, ns)).norm())
            assert_close(torch.tensor(dist), torch.tensor(math.sqrt(2 * ns)), r * n, inputs=case,
                         claim="E2 (V = 2): an equally valid top singular subspace is orthogonal to null(L)")
        else:
            assert_close(projector(left, ns), projector(null, ns), r * n / (nv - 2), inputs=case,
                         claim="E2 (V ≥ 3): the top left singular subspace of G is null(L)")
    prop()


def necessity_two_views() -> str:
    """Drop 'V = 2': for V = 3 the singular values are not all equal, so the phrase does select null(L)."""
    nv = find_counterexample(st.integers(2, 4), lambda v: float(torch.linalg.svdvals(augmentation_graph(2, v)).max()) > 1.5,
                             what="V with distinct singular values of G")
    return f"V = {nv}: singular values of G are {{{nv - 1}, 1}}: the top ones are null(L), the phrase is meaningful"


# ------------------------------------------------------------------------------- E3: BT and right singular vectors
def rotated_zero_loss(ns: int, s1: float, s2: float, theta: float) -> torch.Tensor:
    """Z = [c₁ s₁, c₂ s₂] Q_θ on the V = 2 augmentation graph (c_k the indicators of images 0 and 1)."""
    g = augmentation_graph(ns, 2, device=device())
    z = barlow_twins_closed_form(g, 2) * torch.tensor([s1, s2], dtype=g.dtype, device=g.device)
    c, s = math.cos(theta), math.sin(theta)
    return z @ torch.tensor([[c, -s], [s, c]], dtype=g.dtype, device=g.device), g


def rotated_loss_closed_form(s1: float, s2: float, theta: float, alpha: float) -> float:
    """:func:`derivations.barlow_rotated_loss`: 2α[cs(s₂² − s₁²)]²/((s₁²c² + s₂²s²)(s₁²s² + s₂²c²))."""
    c, s = math.cos(theta), math.sin(theta)
    return 2 * alpha * (c * s * (s2**2 - s1**2)) ** 2 / ((s1**2 * c**2 + s2**2 * s**2) * (s1**2 * s**2 + s2**2 * c**2))


def check_barlow_right_rotation(*, loss=barlow_twins_loss) -> None:
    """A zero-loss Barlow Twins Z with singular values s₁ ≠ s₂ loses its zero loss under a right rotation, by the
    sympy closed form (0.72 for s = (1, 2), θ = 45°, α = 1): Barlow Twins constrains the right singular vectors."""
    @fidelity_settings()
    @given(st.integers(2, 4), st.floats(0.5, 3.0), st.floats(0.5, 3.0), st.floats(0.0, math.pi), st.sampled_from((0.5, 1.0, 2.0)))
    def prop(ns, s1, s2, theta, alpha) -> None:
        z0, g = rotated_zero_loss(ns, s1, s2, 0.0)
        z, _ = rotated_zero_loss(ns, s1, s2, theta)
        r = tol.sum_of_products(g.dtype, 4 * ns * ns, 4 * (1 + alpha))
        assert_close(loss(z0, g, alpha=alpha), torch.tensor(0.0, dtype=g.dtype), r, claim="E3: Z has zero loss", inputs=g)
        assert_close(loss(z, g, alpha=alpha), torch.tensor(rotated_loss_closed_form(s1, s2, theta, alpha), dtype=g.dtype),
                     r, claim="E3: L_BT(Z Q_θ) equals the sympy closed form", inputs=(ns, s1, s2, theta, alpha))
    prop()
    z, g = rotated_zero_loss(3, 1.0, 2.0, math.pi / 4)
    assert_close(loss(z, g, alpha=1.0), torch.tensor(0.72, dtype=z.dtype), tol.sum_of_products(z.dtype, 64, 8.0),
                 claim="E3 witness: s = (1, 2), θ = 45°, α = 1 gives loss 0.72", inputs=z)


def necessity_unequal_singular_values() -> str:
    """Drop 's₁ ≠ s₂': with equal singular values every right rotation keeps the zero loss."""
    def refutes(theta: float) -> bool:
        z, g = rotated_zero_loss(3, 1.5, 1.5, theta)
        return float(barlow_twins_loss(z, g)) <= tol.sum_of_products(z.dtype, 64, 8.0)
    th = find_counterexample(st.floats(0.1, 3.0), refutes, what="equal singular values with a rotated zero loss")
    return f"s₁ = s₂ = 1.5, θ = {th:.3g}: L_BT(Z Q_θ) = 0: the right singular vectors are free only in that case"


# ------------------------------------------------------------------------------- E7: the two abstracts on BT
def check_misaligned_barlow(*, loss=barlow_twins_loss, vicreg=vicreg_closed_form) -> None:
    """Misaligned G (pairs across classes): EVERY zero-loss Barlow Twins representation (pair-constant columns,
    any subset, any positive scales) has probe residual² ≥ N/2, small-invariance VICReg has 0: the closed forms
    support the v3 abstract (VICReg over BarlowTwins), not the NeurIPS one (BarlowTwins or VICReg)."""
    @fidelity_settings()
    @given(labelled_graphs(aligned=False, device=device()), st.data())
    def prop(gl, data) -> None:
        g, labels = gl
        n = g.shape[0]
        y = torch.nn.functional.one_hot(labels).to(g)
        k = data.draw(st.integers(1, n // 2), label="k")
        scales = torch.tensor(data.draw(st.lists(st.floats(0.2, 5.0), min_size=k, max_size=k), label="scales"), dtype=g.dtype)
        z = barlow_twins_closed_form(g, k) * scales.to(g.device)
        r = tol.sum_of_products(g.dtype, n * n, n)
        assert_close(loss(z, g), torch.tensor(0.0, dtype=g.dtype), tol.sum_of_products(g.dtype, n * n * k, 4 * k * k),
                     claim="E7: the drawn representation has zero Barlow Twins loss", inputs=labels)
        res = probe_residual(z, y)
        if float(res) < n / 2 - float(r):
            raise PropertyViolation(f"E7: a zero-loss BarlowTwins Z recovers labels (residual² {float(res):.4g} < N/2)")
        assert_close(probe_residual(vicreg(g, n - 1, gamma=0.25), y), torch.tensor(0.0, dtype=g.dtype), r,
                     claim="E7: small-invariance VICReg keeps the labels", inputs=labels)
    prop()


def necessity_misaligned() -> str:
    """Drop 'G misaligned': on an aligned G the zero-loss Barlow Twins Z (class indicators) recovers the labels."""
    def refutes(gl) -> bool:
        g, labels = gl
        y = torch.nn.functional.one_hot(labels).to(g)
        z = barlow_twins_closed_form(g, int(labels.max()) + 1)
        return float(probe_residual(z, y)) <= tol.sum_of_products(g.dtype, g.shape[0] ** 2, g.shape[0])
    g, labels = find_counterexample(labelled_graphs(aligned=True, device=device()), refutes, what="aligned G where BT loses labels")
    return f"aligned G (labels {labels.tolist()}): the zero-loss BarlowTwins Z has probe residual 0"


# ------------------------------------------------------------------------------- claim12: identical settings
def _spans(ns: int, nv: int, k: int, gamma: float):
    g = augmentation_graph(ns, nv, device=device())
    vic = vicreg_closed_form(g, k, gamma=gamma)
    sim = simclr_simplex(ns, nv, k, device=g.device)
    bt = barlow_twins_closed_form(g, ns)
    return g, {name: z - z.mean(0) for name, z in (("VICReg", vic), ("SimCLR", sim), ("BarlowTwins", bt))}


def check_identical_optima(*, spans=_spans) -> None:
    """On the augmentation G with K ≥ N' − 1 and γ/β ≥ 1/V, the centred optimal representations of VICReg, SimCLR
    and Barlow Twins have the same span: the centred component indicators (rank N' − 1), e.g. projectors equal.
    γ/β is drawn strictly above 1/V: at equality c_k = 1 − γV/β = 0 exactly, but the rounded eigenvalue V(1 ± eps)
    can leave a √eps-amplitude direction that a numerical rank counts."""
    @fidelity_settings()
    @given(st.integers(2, 4), st.integers(2, 3), st.integers(0, 2), st.sampled_from((1.5, 2.0, 10.0)))
    def prop(ns, nv, extra, ratio) -> None:
        k = min(ns - 1 + extra, ns * nv - 1)
        g, zs = spans(ns, nv, k, ratio / nv)
        n = ns * nv
        ind = barlow_twins_closed_form(g, ns)
        ref = projector(ind - ind.mean(0), ns - 1)
        for name, z in zs.items():
            if _rank(z) != ns - 1:
                raise PropertyViolation(f"claim12: centred {name} optimum has rank {_rank(z)} ≠ N' − 1 = {ns - 1}")
            assert_close(projector(z, ns - 1), ref, tol.sum_of_products(g.dtype, n * n, n * nv),
                         claim=f"claim12: centred {name} optimum spans the centred component indicators", inputs=(ns, nv, k))
    prop()


def necessity_high_invariance_identical() -> str:
    """Drop 'γ/β ≥ 1/V': with γ/β < 1/V and K > N' − 1, VICReg keeps extra directions (rank K > N' − 1)."""
    def refutes(ns: int) -> bool:
        _, zs = _spans(ns, 2, ns, 0.25)
        return _rank(zs["VICReg"]) > ns - 1
    ns = find_counterexample(st.integers(2, 4), refutes, what="low invariance VICReg identical to SimCLR")
    return f"N' = {ns}, V = 2, K = {ns}, γ/β = 0.25 < 1/V: VICReg's centred optimum has rank {ns} > N' − 1"
