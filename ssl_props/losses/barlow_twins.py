"""Barlow Twins.

References:
    [0] Barlow Twins, Zbontar, Jing, Misra, LeCun, Deny, 2021, arXiv:2103.03230
    [1] lightly 1.6.0 ``BarlowTwinsLoss`` (``F.batch_norm`` standardisation: biased variance, eps 1e-5)
"""
from __future__ import annotations

import torch

from ssl_props._validation import check_pair, check_positive
from ssl_props.distributed import gather_pair
from ssl_props.losses._registry import register_loss
from ssl_props.losses.criteria import off_diagonal_sq_sum


def standardize(z: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """BatchNorm-style standardisation over the batch: ``(z − mean) / sqrt(var_biased + eps)``."""
    mean = z.mean(dim=-2, keepdim=True)
    var = (z - mean).square().mean(dim=-2, keepdim=True)
    return (z - mean) / torch.sqrt(var + eps)


def cross_correlation(z1: torch.Tensor, z2: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """``C = standardize(z1)ᵀ standardize(z2) / n`` of shape ``(..., d, d)``."""
    return standardize(z1, eps).transpose(-2, -1) @ standardize(z2, eps) / z1.shape[-2]


@register_loss("barlow_twins", family="dimension-contrastive",
               invariances=("batch_permutation", "view_swap", "feature_permutation", "sample_mixing"),
               reference="[0] [1]", param_grid={"lambda_param": (5e-3, 0.0051, 1e-2, 1.0)})
def barlow_twins(z1: torch.Tensor, z2: torch.Tensor, *, lambda_param: float = 5e-3, eps: float = 1e-5, gather_distributed: bool = False) -> torch.Tensor:
    r"""Barlow Twins: ``Σ_k (1 − C_kk)² + λ Σ_{k≠l} C_kl²`` with ``C`` the standardised cross-correlation.

    .. math:: C = \frac1n \hat z_1^T \hat z_2,\quad \hat z = \frac{z-\bar z}{\sqrt{\sigma^2_{biased}+\epsilon}}
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2, min_rows=2)
    check_positive(eps, "eps")
    c = cross_correlation(z1, z2, eps)
    on = (1.0 - c.diagonal(dim1=-2, dim2=-1)).square().sum(-1)
    return on + lambda_param * off_diagonal_sq_sum(c)
