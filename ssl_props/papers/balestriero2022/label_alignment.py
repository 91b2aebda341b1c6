"""Balestriero & LeCun (NeurIPS 2022, arXiv:2205.11508). Claims 9-10: a relation graph aligned with the labels recovers the supervised representation; a misaligned one pins the rank.

Records: :mod:`ssl_props.papers.balestriero2022.records`. Checks accept keyword overrides of the
implementation they test (``check_vicreg_optimum(closed_form=...)``).
"""
from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from ssl_props import tolerances as tol
from ssl_props.graphs import labelled_graphs, one_hot
from ssl_props.papers.balestriero2022.sampling import (GTOL, STARTS, compare_to_optimum, identity_settings,
                                                       optimisation_settings, randn)
from ssl_props.strategies import SEEDS
from ssl_props.properties import assert_close, find_counterexample
from ssl_props.spectral import (barlow_twins_closed_form, lbfgs, probe_residual, projector_distance, simclr_simplex,
                                vicreg_closed_form, vicreg_spectral_loss)


# ---------------------------------------------------------------------------------------------- claim9
def _aligned(g: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    y = one_hot(labels).to(g)
    return y, y.shape[1], int(y.sum(0).min())


def check_aligned_closed_form(*, closed_form=vicreg_closed_form) -> None:
    """Aligned G, γ/β > 1/min n_c, K ≥ C − 1: span(HZ⋆) = span(HY) and a linear probe fits Y exactly."""
    @identity_settings()
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
    @optimisation_settings()
    @given(labelled_graphs(), st.integers(0, 1), st.floats(1.5, 3.0), SEEDS)
    def prop(gl, extra: int, rho: float, seed: int) -> None:
        g, labels = gl
        y, c, m = _aligned(g, labels)
        k = c - 1 + extra
        zs = closed_form(g, k, beta=1.0, gamma=rho / m)
        fun = lambda z: loss(z, g, beta=1.0, gamma=rho / m)  # noqa: E731
        z, gn, _ = optimiser(fun, randn(seed, STARTS, g.shape[0], k), gtol=GTOL)
        compare_to_optimum(fun, z, gn, zs, "VICReg on label-aligned G", labels)
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
    @identity_settings()
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
