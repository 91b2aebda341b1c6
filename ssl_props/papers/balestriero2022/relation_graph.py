"""Balestriero & LeCun (NeurIPS 2022, arXiv:2205.11508). Claims 1-2: the relation matrix G of an augmented batch, its Laplacian, and the invariance term as a Dirichlet energy.

Records: :mod:`ssl_props.papers.balestriero2022.records`. Checks accept keyword overrides of the
implementation they test (``check_vicreg_optimum(closed_form=...)``).
"""
from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from ssl_props import tolerances as tol
from ssl_props.graphs import (asymmetric_graphs, augmentation_graph, dirichlet_energy, laplacian, laplacian_quadratic,
                              n_components, weighted_graphs)
from ssl_props.papers.balestriero2022 import derivations as sym
from ssl_props.papers.balestriero2022.sampling import device, identity_settings, randn
from ssl_props.strategies import SEEDS
from ssl_props.properties import PropertyViolation, assert_close, assert_leq, find_counterexample


# ---------------------------------------------------------------------------------------------- claim1
def check_augmentation_graph(*, build=augmentation_graph) -> None:
    """G of V views is (11ᵀ − I_V) ⊗ I_N' and L has spectrum {0 (×N'), V (×N'(V−1))}."""
    @identity_settings()
    @given(st.integers(1, 5), st.integers(2, 4))
    def prop(ns: int, nv: int) -> None:
        g = build(ns, nv, device=device())
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
    @identity_settings()
    @given(weighted_graphs(), st.integers(1, 4), SEEDS)
    def prop(g: torch.Tensor, k: int, seed: int) -> None:
        z = randn(seed, g.shape[0], k)
        lhs, rhs = energy(z, g), 2 * laplacian_quadratic(z, lap(g))
        mag = float((g * (z.unsqueeze(-2) - z.unsqueeze(-3)).square().sum(-1)).sum()) + 2 * float((z.abs() * (lap(g).abs() @ z.abs())).sum())
        assert_close(lhs, rhs, tol.sum_of_products(z.dtype, g.shape[0] ** 2 * k, mag),
                     claim="invariance term equals twice the Laplacian quadratic form", inputs=g)
    prop()


def check_laplacian_kernel(*, lap=laplacian) -> None:
    """L 1 = 0, L ⪰ 0 and dim null(L) = number of connected components."""
    @identity_settings()
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
        z = randn(0, g.shape[0], 2)
        gap = (dirichlet_energy(z, g) - 2 * laplacian_quadratic(z, laplacian(g, symmetric=False))).abs()
        return bool(gap > tol.sum_of_products(z.dtype, g.shape[0] ** 2 * 2, float(dirichlet_energy(z, g)) + 1))
    g = find_counterexample(asymmetric_graphs(), refutes, what="asymmetric G breaking Σ G‖Z_i−Z_j‖² = 2tr(ZᵀLZ)")
    return f"asymmetric G = {g.tolist()} breaks the identity (sympy residual: {sym.asymmetric_dirichlet_residual()})"



# ------------------------------------------------------------------------------- necessity (claim1, claim11)
def necessity_equal_views() -> str:
    """Views per image (3, 2) instead of a common V: G = K₃ ⊕ K₂ (positives = the other views of the same image);
    the Laplacian's non-zero eigenvalues are {3, 3, 2}, not one value V, so no V fits the claimed spectrum."""
    counts = (3, 2)
    ids = torch.repeat_interleave(torch.arange(len(counts)), torch.tensor(counts))
    g = (ids[:, None] == ids[None, :]).to(torch.float64) - torch.eye(len(ids), dtype=torch.float64)
    lam = torch.linalg.eigvalsh(laplacian(g.to(device()))).cpu()
    t = tol.sum_of_products(torch.float64, len(ids), float(max(counts)))
    nonzero = lam[lam > t]
    zeros = int((lam.abs() <= t).sum())
    if zeros == len(counts) and float(nonzero.max() - nonzero.min()) <= t:
        raise PropertyViolation(f"views per image {counts}: the spectrum {lam.tolist()} still has the claimed form")
    return (f"views per image {counts}: spec(L) = {[round(float(v), 6) for v in lam]}: {zeros} zeros but non-zero "
            f"eigenvalues {sorted({round(float(v), 6) for v in nonzero})} (no single V)")
