"""Balestriero & LeCun, "Contrastive and Non-Contrastive Self-Supervised Learning Recover Global and Local
Spectral Embedding Methods", NeurIPS 2022, arXiv:2205.11508.

The paper's body (Secs. 3-5, appendix) could not be read in this project (notes:
``shared/papers/balestriero2022_spectral.md``: 0 numbered results verified). Every result is therefore
registered BY THE CLAIM IT ENCODES, with ids ``balestriero2022.claimN`` and no Theorem/Proposition number;
each record's ``provenance`` says what comes from the paper's Sec. 2 / abstract and what is derived here.
Checks accept keyword overrides of the implementation they test (``check_vicreg_optimum(closed_form=...)``).
"""
from __future__ import annotations

import torch
from hypothesis import given, settings, strategies as st

from .. import tolerances as tol
from ..derivations import balestriero2022 as sym
from ..device import resolve_device
from ..graphs import (asymmetric_graphs, augmentation_graph, augmentation_graphs, dirichlet_energy, labelled_graphs,
                      laplacian, laplacian_quadratic, n_components, one_hot, planted_graphs, regular_graphs,
                      weighted_graphs)
from ..properties import PropertyViolation, assert_close, assert_leq, find_counterexample
from ..registry import Check, Paper, Theorem, register
from ..spectral import (barlow_twins_closed_form, barlow_twins_loss, centred_eigh, centred_gram, convergence_tolerances,
                        cross_entropy, curvature, gibbs, laplacian_eigenmaps, lbfgs, probe_residual, projector,
                        projector_distance, simclr_loss, simclr_simplex, vicreg_closed_form, vicreg_closed_form_loss,
                        vicreg_hinge_loss, vicreg_linear_closed_form, vicreg_linear_loss, vicreg_spectral_loss)

PAPER = Paper(key="balestriero2022", authors=("Randall Balestriero", "Yann LeCun"),
              title="Contrastive and Non-Contrastive Self-Supervised Learning Recover Global and Local Spectral Embedding Methods",
              venue="NeurIPS 2022", year=2022, arxiv="2205.11508")
UNNUMBERED = "unnumbered (claim)"
_PROV = ("Paper body not read (numbering unverified: registered by claim, no number invented). ")
STARTS = 8  # random starts per optimisation, all in one batched call
GTOL = 1e-9  # L-BFGS stopping criterion on ‖∇f‖ (float64 gradients are exact to ~1e-14 here)
# optimisation checks run L-BFGS (tens of ms) per example: 6 examples keep the module inside its 12 s budget
OPT = settings(max_examples=6)
seeds = st.integers(0, 2**32 - 1)


def _dev() -> torch.device:
    return resolve_device()


def _randn(seed: int, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(_dev())


def _th(i: int, title: str, statement: str, formula: str, checks: tuple[Check, ...], prov: str,
        assumptions: tuple[str, ...] = (), related: tuple[str, ...] = ()) -> Theorem:
    return register(Theorem(id=f"balestriero2022.claim{i}", paper=PAPER, number=UNNUMBERED, kind="claim", title=title,
                            statement=statement, formula=formula, assumptions=assumptions, checks=checks,
                            related=tuple(f"balestriero2022.{r}" for r in related), provenance=_PROV + prov))


def _sym(fn) -> Check:
    return Check("symbolic", fn.__name__, fn, (fn.__doc__ or "").strip().splitlines()[0])


# ---------------------------------------------------------------------------------------------- claim1
def check_augmentation_graph(*, build=augmentation_graph) -> None:
    """G of V views is (11ᵀ − I_V) ⊗ I_N' and L has spectrum {0 (×N'), V (×N'(V−1))}."""
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


_th(1, "relation matrix of V augmentations",
    "Stacking V views of N' images view-major, G = (11ᵀ − I_V) ⊗ I_N' (each row has V − 1 positives) and its "
    "Laplacian has eigenvalue 0 with multiplicity N' and V with multiplicity N'(V − 1).",
    "G = (1_V 1_Vᵀ − I_V) ⊗ I_{N'},  spec(L) = {0^{N'}, V^{N'(V−1)}}",
    (_sym(sym.augmentation_laplacian_spectrum), Check("numeric", "construction_and_spectrum", check_augmentation_graph,
                                                      "paper's index construction = Kronecker form; exact spectrum")),
    "Construction from the paper's Sec. 2 code snippet (via the notes' transcription); spectrum derived.")


# ---------------------------------------------------------------------------------------------- claim2
def check_invariance_identity(*, energy=dirichlet_energy, lap=laplacian) -> None:
    """Σ G_ij ‖Z_i − Z_j‖² = 2 tr(Zᵀ L Z) for symmetric weighted (possibly disconnected) G."""
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


_th(2, "VICReg invariance = Laplacian quadratic form",
    "For symmetric G, VICReg's invariance term (γ/N) Σ_ij G_ij ‖Z_i − Z_j‖² equals (2γ/N) tr(Zᵀ L Z), the Laplacian "
    "Eigenmaps objective (Dirichlet energy of Z on G); L is PSD, L1 = 0 and its kernel counts the components.",
    "Σ_ij G_ij ‖Z_i − Z_j‖² = 2 tr(Zᵀ L Z),  L = diag(G1) − G",
    (_sym(sym.invariance_is_dirichlet_energy),
     Check("numeric", "identity", check_invariance_identity, "float64 identity on weighted, sparse, disconnected G"),
     Check("numeric", "laplacian_kernel", check_laplacian_kernel, "L1 = 0, L ⪰ 0, nullity = #components"),
     Check("necessity", "drop_symmetry", necessity_symmetric, "asymmetric G breaks the identity", assumption="G symmetric")),
    "Identity consistent with the alphaXiv summary ('Dirichlet energy'); factor 2 from ordered pairs (ours).",
    assumptions=("G symmetric",))
