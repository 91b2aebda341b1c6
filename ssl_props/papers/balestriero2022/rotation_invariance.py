"""Balestriero & LeCun (NeurIPS 2022, arXiv:2205.11508). Claim 11: the losses see only ZZᵀ (invariant to Z → ZQ for orthogonal Q), Barlow Twins excepted.

Records: :mod:`ssl_props.papers.balestriero2022.records`. Checks accept keyword overrides of the
implementation they test (``check_vicreg_optimum(closed_form=...)``).
"""
from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from ssl_props import tolerances as tol
from ssl_props.graphs import augmentation_graph, weighted_graphs
from ssl_props.papers.balestriero2022.sampling import device, identity_settings, randn
from ssl_props.strategies import SEEDS
from ssl_props.properties import PropertyViolation, assert_close, find_counterexample
from ssl_props.spectral import barlow_twins_loss, simclr_loss, vicreg_spectral_loss


# --------------------------------------------------------------------------------------------- claim11
def check_right_singular_vectors_free(*, losses=(vicreg_spectral_loss, simclr_loss)) -> None:
    """L(ZQ) = L(Z) for orthogonal Q: the losses see only the left singular vectors and singular values of Z."""
    @identity_settings()
    @given(weighted_graphs(), st.integers(1, 4), SEEDS)
    def prop(g: torch.Tensor, k: int, seed: int) -> None:
        z = randn(seed, g.shape[0], k)
        q = torch.linalg.qr(randn(seed + 1, k, k))[0]
        for loss in losses:
            a, b = loss(z, g), loss(z @ q, g)
            assert_close(a, b, tol.sum_of_products(g.dtype, g.shape[0] ** 2 * k, float(a.abs()) + g.shape[0] ** 2 * float(g.max())),
                         claim=f"{getattr(loss, '__name__', loss)} is invariant to Z → ZQ", inputs=g)
    prop()



def necessity_orthogonal_map() -> str:
    """Drop 'Q orthogonal / the loss depends on Z only through ZZᵀ': a non-orthogonal Q (seeded search over
    diagonal scalings) changes VICReg's loss, and BarlowTwins (which sees more than ZZᵀ) changes under an orthogonal Q."""
    g = augmentation_graph(3, 2, device=device())
    z = randn(0, g.shape[0], 2)

    def refutes(a: float) -> bool:
        q = torch.diag(torch.tensor([a, 1.0], dtype=torch.float64, device=z.device))
        x, y = vicreg_spectral_loss(z, g), vicreg_spectral_loss(z @ q, g)
        return bool((x - y).abs() > 1e-6 * (1 + x.abs()))
    a = find_counterexample(st.floats(0.1, 3.0), refutes, what="VICReg invariant to a non-orthogonal Z → ZQ", max_examples=50)
    q = torch.linalg.qr(randn(1, 2, 2))[0]
    b0, b1 = float(barlow_twins_loss(z, g)), float(barlow_twins_loss(z @ q, g))
    if abs(b0 - b1) <= 1e-6 * (1 + abs(b0)):
        raise PropertyViolation("BarlowTwins turned out invariant to an orthogonal Z → ZQ on the seeded witness")
    q2 = torch.diag(torch.tensor([a, 1.0], dtype=torch.float64, device=z.device))
    v0, v1 = float(vicreg_spectral_loss(z, g)), float(vicreg_spectral_loss(z @ q2, g))
    return (f"Q = diag({a:g}, 1): VICReg {v0:.6g} → {v1:.6g}; orthogonal Q (seed 1) but BarlowTwins (not a function "
            f"of ZZᵀ): {b0:.6g} → {b1:.6g}")
