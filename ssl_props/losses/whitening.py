"""Whitening and covariance-contrast losses: W-MSE and TiCo.

References:
    [0] W-MSE, Ermolov, Siarohin, Sangineto, Sebe, 2021, arXiv:2007.06346 (code htdt/self-supervised)
    [1] TiCo, Zhu, Moraes, Karakulak, Sobol, Canziani, LeCun, 2022, arXiv:2206.10698
    [2] lightly 1.6.0 ``WMSELoss`` (Cholesky whitening, normalised MSE), ``TiCoLoss(beta=0.9, rho=8.0)``
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ssl_props._validation import InvalidArgument, check_pair, check_positive
from ssl_props.distributed import gather_pair
from ssl_props.losses._registry import register_loss


def whiten(z: torch.Tensor, eps: float = 0.0) -> torch.Tensor:
    r"""Cholesky whitening over the batch: ``(z − z̄) L⁻ᵀ`` with ``L Lᵀ = (1 − ε) Σ + ε I``, ``Σ`` unbiased.

    The whitened batch has identity (unbiased) covariance; needs a full-rank Σ (n > d when ε = 0).
    """
    zc = z - z.mean(0, keepdim=True)
    cov = zc.T @ zc / (z.shape[0] - 1)
    eye = torch.eye(z.shape[1], dtype=z.dtype, device=z.device)
    chol = torch.linalg.cholesky((1 - eps) * cov + eps * eye)
    return torch.linalg.solve_triangular(chol, zc.T, upper=False).T  # zc @ L^{-T}


@register_loss("wmse", family="other", invariances=("batch_permutation", "view_swap"), min_batch=3,
               reference="[0] [2]", param_grid={"eps": (0.0,)})
def wmse(z1: torch.Tensor, z2: torch.Tensor, *, eps: float = 0.0, gather_distributed: bool = False) -> torch.Tensor:
    r"""W-MSE with two views and one whitening sub-batch: ``2 − 2 (1/n) Σ_i cos(w(z1)_i, w(z2)_i)``.

    ``w`` is :func:`whiten` (each view with its own batch statistics). lightly's ``WMSELoss`` with
    ``w_size`` equal to the batch and ``w_iter=1`` computes this (its random sub-batch permutation is
    then a permutation of the whole batch, to which whitening is equivariant). Not classified by
    Garrido et al.: Cholesky whitening is not equivariant to rotations of embedding space, and the
    cosines are per sample (family ``other``). Needs batch > dim (a full-rank covariance) when ε = 0.
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2, min_rows=2)
    n, d = z1.shape
    if eps == 0.0 and n <= d:
        raise InvalidArgument(f"wmse whitens with the batch covariance, which is singular for batch={n} <= dim={d}: "
                              f"use a batch larger than the dimension or eps > 0")
    x, y = whiten(z1, eps), whiten(z2, eps)
    return 2.0 - 2.0 * F.cosine_similarity(x, y, dim=-1, eps=1e-12).mean()


@register_loss("tico", family="sample-contrastive",
               invariances=("batch_permutation", "embedding_rotation", "feature_permutation", "positive_scale"),
               reference="[1] [2]", param_grid={"rho": (8.0,), "beta": (0.9,)},
               expected_failures={"check_gradient_matches_finite_differences":
                                  "the running covariance C carries no gradient (sg, as lightly's TiCoLoss)"})
def tico(z1: torch.Tensor, z2: torch.Tensor, *, beta: float = 0.9, rho: float = 8.0,
         covariance: torch.Tensor | None = None, gather_distributed: bool = False) -> torch.Tensor:
    r"""TiCo: ``1 − (1/n) Σ_i ẑ1_i·ẑ2_i + ρ (1/n) Σ_i ẑ1_i C ẑ1_iᵀ``, ``C = β C_prev + (1 − β) sg(ẑ1ᵀ ẑ1 / n)``.

    ``ẑ = z/||z||``; ``C_prev`` is ``covariance`` (the running estimate; ``None``: zeros, the first
    step, as lightly's ``TiCoLoss`` on a fresh instance). The running covariance carries no gradient
    (``sg``), by design: autograd and finite differences of L differ by its derivative. Only the first
    view enters the covariance term: not view-symmetric.
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2, min_rows=2)
    if not 0.0 <= beta <= 1.0:
        raise InvalidArgument(f"beta must be in [0, 1], got beta={beta!r}")
    check_positive(rho, "rho")
    a, b = F.normalize(z1, dim=-1, eps=1e-12), F.normalize(z2, dim=-1, eps=1e-12)
    batch_cov = (a.T @ a).detach() / a.shape[0]
    prev = torch.zeros_like(batch_cov) if covariance is None else covariance.to(batch_cov)
    c = beta * prev + (1 - beta) * batch_cov
    return 1.0 - (a * b).sum(-1).mean() + rho * ((a @ c) * a).sum(-1).mean()
