"""Balestriero & LeCun (NeurIPS 2022, arXiv:2205.11508) on the REGISTERED losses (issue 15): the paper writes
SimCLR and VICReg's invariance in terms of the relation matrix G; with the two-view augmentation graph
``G = (11ᵀ − I_2) ⊗ I_n`` (view-major stacking ``Z = [z1; z2]``) those forms must equal the registered losses
``ssl_props.losses.get_loss(...)`` exactly, up to the normalisation each convention uses:

* claim6: ``simclr = L_G/(2n)`` with the candidate set ``k ≠ i``; ``dcl`` (positive removed) with
  ``k ∉ {i, i⁺}``; ``infonce_cross_view`` with the other view's rows (only view 1's anchors, over ``n``, unless
  ``symmetric``: both views over ``2n``), :func:`ssl_props.spectral.infonce_loss`;
* claim2: ``vicreg(λ, μ=0, ν=0) = λ·mse = (λ/(n d)) tr(Zᵀ L Z)``.

The registered loss is looked up at run time (``get_loss(name).fn``), so a mutant of it fails here; the G
form is computed by :mod:`ssl_props.spectral` (independent code: masks and a logsumexp over the stacked Gram).
Parameters are drawn: τ from a set that excludes 1 (where s/τ = s·τ), λ from [0.1, 30].
"""
from __future__ import annotations

import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from ssl_props import tolerances as tol
from ssl_props.graphs import augmentation_graph, laplacian, laplacian_quadratic
from ssl_props.losses import get_loss
from ssl_props.papers.balestriero2022.sampling import device, fidelity_settings
from ssl_props.properties import assert_close, find_counterexample
from ssl_props.spectral import infonce_loss
from ssl_props.strategies import KINDS, embeddings, view_pairs

TEMPERATURES = (0.07, 0.2, 0.5, 2.0)  # ≠ 1: a loss using s·τ in place of s/τ differs on each


def _pairs():
    # non-unit, unequal row norms (scales 0.3 and 3): cosine and dot-product forms differ
    return view_pairs(embeddings(n=(2, 6), d=(1, 6), kinds=KINDS, scales=(0.3, 3.0), device=device()),
                      transforms=("noise", "orthogonal"), noise=0.5)


def contrastive_masks(name: str, n: int, symmetric: bool, dev) -> tuple[torch.Tensor, torch.Tensor, int]:
    """``(candidates, anchors, divisor)`` of a registered InfoNCE-family loss on the view-major 2n stack."""
    eye = torch.eye(2 * n, dtype=torch.bool, device=dev)
    pos = torch.roll(eye, n, dims=1)  # (i, i ± n): the other view of the same image
    view = torch.arange(2 * n, device=dev) >= n
    if name == "simclr":
        return ~eye, torch.ones(2 * n, dtype=torch.bool, device=dev), 2 * n
    if name == "dcl":
        return ~eye & ~pos, torch.ones(2 * n, dtype=torch.bool, device=dev), 2 * n
    if name == "infonce_cross_view":
        cross = view[:, None] != view[None, :]
        return (cross, torch.ones(2 * n, dtype=torch.bool, device=dev), 2 * n) if symmetric else (cross, ~view, n)
    raise KeyError(name)


CONTRASTIVE = (("simclr", False), ("dcl", False), ("infonce_cross_view", False), ("infonce_cross_view", True))


def check_registered_contrastive(*, names=CONTRASTIVE) -> None:
    """Registered SimCLR, DCL and cross-view InfoNCE (both forms) equal the G cross-entropy of their candidate
    set, at every drawn τ. Tolerance: each anchor's term is bounded by 2/τ + log 2n and sums ≤ 4n² + 2nd
    rounded products (cosines, logsumexp), Higham's γ_n bound."""
    @fidelity_settings()
    @given(_pairs(), st.sampled_from(TEMPERATURES))
    def prop(pair, tau: float) -> None:
        z1, z2 = pair
        n, d = z1.shape
        g = augmentation_graph(n, 2, device=z1.device)
        z = torch.cat([z1, z2])
        for name, sym in names:
            params = {"temperature": tau, **({"symmetric": True} if sym else {})}
            got = get_loss(name).fn(z1, z2, **params)
            cand, rows, div = contrastive_masks(name, n, sym, z.device)
            want = infonce_loss(z, g, tau=tau, candidates=cand, anchors=rows) / div
            r = tol.sum_of_products(z.dtype, 4 * n * n + 2 * n * d, 2 / tau + math.log(2 * n))
            assert_close(got, want, r, claim=f"claim6: registered {name}({params}) is the G cross-entropy of its "
                         "candidate set", names=(f"registered {name}", "G form / divisor"), inputs=(z1, z2))
    prop()


def necessity_candidate_set() -> str:
    """Drop 'the candidate set is the method's': SimCLR's set (k ≠ i) does not give DCL (positive removed)."""
    def refutes(pair) -> bool:
        z1, z2 = pair
        n = z1.shape[0]
        g = augmentation_graph(n, 2, device=z1.device)
        want = infonce_loss(torch.cat([z1, z2]), g, tau=0.5) / (2 * n)
        return float((get_loss("dcl").fn(z1, z2, temperature=0.5) - want).abs()) > 1e-6
    z1, _ = find_counterexample(_pairs(), refutes, what="DCL equal to the G cross-entropy with SimCLR's candidates",
                                max_examples=20)
    return f"views of shape {tuple(z1.shape)}: DCL ≠ G cross-entropy over k ≠ i (its positive is not a candidate)"


def check_registered_vicreg_invariance(*, name: str = "vicreg") -> None:
    """Registered VICReg with μ = ν = 0 is λ·mse(z1, z2) = (λ/(n d)) tr(Zᵀ L Z) on the two-view G (claim2 with
    its γ/N: Σ_ij G_ij‖Z_i − Z_j‖² = 2 tr(ZᵀLZ) = 2 Σ_i ‖z1_i − z2_i‖²). Tolerance: 2nd squared terms ≤ ‖Z‖²_F."""
    @fidelity_settings()
    @given(_pairs(), st.floats(0.1, 30.0))
    def prop(pair, lam: float) -> None:
        z1, z2 = pair
        n, d = z1.shape
        z = torch.cat([z1, z2])
        g = augmentation_graph(n, 2, device=z.device)
        got = get_loss(name).fn(z1, z2, lambda_param=lam, mu_param=0.0, nu_param=0.0)
        want = lam / (n * d) * laplacian_quadratic(z, laplacian(g))
        r = tol.sum_of_products(z.dtype, 4 * n * d, lam / (n * d) * 4 * float(z.square().sum()))
        assert_close(got, want, r, claim="claim2: registered VICReg's invariance is (λ/(nd)) tr(ZᵀLZ) on the two-view G",
                     inputs=(z1, z2))
    prop()


def check_laplacian_eigenmaps_pencil(*, le=None) -> None:
    """claim4's Laplacian Eigenmaps solve the generalised problem L u = λ D u on IRREGULAR graphs: Zᵀ D Z = I,
    Zᵀ D 1 = 0 and diag(Zᵀ L Z) = the bottom non-trivial eigenvalues of the pencil (L, D) from scipy's
    ``eigh(L, D)`` (independent solver). Tolerance: backward-stable solves of the D^{-1/2}-scaled problem,
    errors ≤ SAFETY·n²·eps·(1 + λ_max)·d_max/d_min (the scaling's condition number)."""
    import scipy.linalg

    from ssl_props import spectral
    from ssl_props.graphs import planted_graphs

    solve = le or spectral.laplacian_eigenmaps

    @fidelity_settings()
    @given(planted_graphs(connected=True, device=device()))
    def prop(pg) -> None:
        g = pg.g
        k, n = int(pg.labels.max()), g.shape[0]
        d = g.sum(-1)
        lap = laplacian(g)
        z = solve(g, k)
        ref = scipy.linalg.eigh(lap.cpu().numpy(), torch.diag(d).cpu().numpy(), eigvals_only=True)
        r = tol.sum_of_products(g.dtype, n * n, (1 + float(ref[-1])) * float(d.max() / d.min()))
        eye = torch.eye(k, dtype=g.dtype, device=g.device)
        assert_close(z.T @ (d[:, None] * z), eye, r, claim="claim4: Laplacian Eigenmaps satisfy Zᵀ D Z = I", inputs=g)
        assert_close(z.T @ d, torch.zeros(k, dtype=g.dtype, device=g.device), r * float(d.sum().sqrt()),
                     claim="claim4: Laplacian Eigenmaps satisfy Zᵀ D 1 = 0", inputs=g)
        want = torch.as_tensor(ref[1: k + 1], dtype=g.dtype, device=g.device)
        assert_close((z.T @ lap @ z).diagonal(), want, r, claim="claim4: Zᵀ L Z holds the pencil's bottom eigenvalues",
                     names=("diag(ZᵀLZ)", "eigh(L, D)"), inputs=g)
    prop()


def unbiased_covariance(z: torch.Tensor) -> torch.Tensor:
    """``Zᵀ H Z / (N − 1)``: torch.cov's normaliser, the one of the paper's code (Sec. 2)."""
    zc = z - z.mean(-2, keepdim=True)
    return zc.transpose(-2, -1) @ zc / (z.shape[-2] - 1)


def check_unbiased_normaliser(*, closed_form=None, loss=None) -> None:
    """claim3 with the paper's code normaliser: with Cov = ZᵀHZ/(N − 1), Z = a Z̃ (a = √((N−1)/N)) turns the loss at γ
    into the 1/N loss at γ(N − 1)/N, so a·Z⋆(γ(N−1)/N) attains the 1/N closed-form minimum and no drawn Z beats it."""
    from ssl_props import spectral
    from ssl_props.graphs import weighted_graphs
    from ssl_props.papers.balestriero2022.sampling import randn
    from ssl_props.strategies import SEEDS

    cf = closed_form or spectral.vicreg_closed_form
    fn = loss or spectral.vicreg_spectral_loss

    @fidelity_settings()
    @given(weighted_graphs(device=device()), st.integers(1, 7), st.sampled_from((0.05, 0.5, 2.0)), SEEDS)
    def prop(g: torch.Tensor, k: int, gamma: float, seed: int) -> None:
        n = g.shape[0]
        k = min(k, n - 1)
        g_eff = gamma * (n - 1) / n
        zs = math.sqrt((n - 1) / n) * cf(g, k, beta=1.0, gamma=g_eff)
        f0 = spectral.vicreg_closed_form_loss(g, k, beta=1.0, gamma=g_eff)
        r = tol.sum_of_products(g.dtype, n * n * k, float(f0) + k + float(g.sum()))
        assert_close(fn(zs, g, gamma=gamma, cov=unbiased_covariance), f0, r, inputs=g,
                     claim="claim3 (1/(N−1) covariance): √((N−1)/N) Z⋆(γ(N−1)/N) attains the minimum")
        z = randn(seed, 16, n, k)
        from ssl_props.properties import assert_leq
        assert_leq(f0.expand(16), fn(z, g, gamma=gamma, cov=unbiased_covariance), r, inputs=g,
                   claim="claim3 (1/(N−1) covariance): no Z beats the rescaled closed form", names=("closed form", "random Z"))
    prop()
