"""Symmetry fingerprint of a loss: which group actions leave it unchanged.

Garrido et al. (2023, arXiv:2206.02574, Definition 3.2 and Proposition 3.2): a sample-contrastive
criterion depends on the embeddings only through the sample Gram matrix ``Z Zᵀ``, hence is invariant
to orthogonal maps of embedding space ``Z ↦ Z Q``; a dimension-contrastive one depends only through the
(centred) feature covariance ``Z̃ᵀ Z̃``, hence is invariant to orthogonal mixings of the samples
``Z ↦ U Z`` with ``U 1 = 1``. Centred variants (VICReg-ctr) keep the invariance for ``Q 1 = 1``.
"""
from __future__ import annotations

from typing import Callable

import torch

from ssl_props.strategies import random_orthogonal

Transform = Callable[[torch.Tensor, torch.Tensor, torch.Generator], tuple[torch.Tensor, torch.Tensor]]


def orthogonal_fixing_ones(n: int, generator: torch.Generator, dtype=torch.float64) -> torch.Tensor:
    """A random orthogonal ``(n, n)`` matrix ``U`` with ``U 1 = 1`` (rotates the complement of 1 only)."""
    h = random_orthogonal(n, generator=generator, dtype=dtype)
    h[:, 0] = 1.0 / n**0.5  # Gram-Schmidt basis whose first vector is 1/sqrt(n)
    basis, _ = torch.linalg.qr(h)
    basis = basis * torch.sign(basis[0, 0])
    q = torch.eye(n, dtype=dtype)
    q[1:, 1:] = random_orthogonal(n - 1, generator=generator, dtype=dtype) if n > 1 else q[1:, 1:]
    return basis @ q @ basis.T


def _rot(z1, z2, g):
    q = random_orthogonal(z1.shape[1], generator=g).to(z1)
    return z1 @ q, z2 @ q


def _crot(z1, z2, g):
    q = orthogonal_fixing_ones(z1.shape[1], g).to(z1)
    return z1 @ q, z2 @ q


def _mix(z1, z2, g):
    u = orthogonal_fixing_ones(z1.shape[0], g).to(z1)
    return u @ z1, u @ z2


def _bperm(z1, z2, g):
    p = torch.randperm(z1.shape[0], generator=g).to(z1.device)
    return z1[p], z2[p]


def _fperm(z1, z2, g):
    p = torch.randperm(z1.shape[1], generator=g).to(z1.device)
    return z1[:, p], z2[:, p]


def _swap(z1, z2, g):
    return z2, z1


def _scale(z1, z2, g):
    c = float(torch.empty(()).uniform_(0.1, 10.0, generator=g))
    return c * z1, c * z2


#: the group actions of :data:`ssl_props.losses.Invariance`, by name
TRANSFORMS: dict[str, Transform] = {
    "batch_permutation": _bperm,
    "view_swap": _swap,
    "embedding_rotation": _rot,
    "centred_embedding_rotation": _crot,
    "feature_permutation": _fperm,
    "positive_scale": _scale,
    "sample_mixing": _mix,
}


def invariance_defect(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], transform: str,
                      z1: torch.Tensor, z2: torch.Tensor, seed: int = 0) -> tuple[float, float, float]:
    """``(f(z1, z2), f(T(z1, z2)), |difference|)`` for the named transform ``T`` (seeded)."""
    g = torch.Generator().manual_seed(seed)
    a, b = TRANSFORMS[transform](z1, z2, g)
    with torch.no_grad():
        v0, v1 = float(fn(z1, z2)), float(fn(a, b))
    return v0, v1, abs(v0 - v1)


def classify(invariant: set[str] | frozenset[str]) -> str:
    """Family from a set of invariances (Garrido et al. Definition 3.2 read as symmetries).

    ``sample-contrastive`` (Gram only: invariant to (centred) rotations of embedding space, not to sample
    mixing), ``dimension-contrastive`` (covariance only: the reverse), ``both`` or ``neither``.
    """
    s = "centred_embedding_rotation" in invariant
    d = "sample_mixing" in invariant
    return {(True, False): "sample-contrastive", (False, True): "dimension-contrastive",
            (True, True): "both", (False, False): "neither"}[(s, d)]
