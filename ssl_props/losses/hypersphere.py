"""Alignment and uniformity on the hypersphere (Wang & Isola 2020), lightly's ``HypersphereLoss``.

References:
    [0] Wang & Isola, Understanding contrastive representation learning through alignment and uniformity
        on the hypersphere, ICML 2020, arXiv:2005.10242 (L_align, L_uniform; the limit Garrido et al.'s
        Proposition 3.1 uses)
    [1] lightly 1.6.0 ``HypersphereLoss(t=1.0, lam=1.0, alpha=2.0)``
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ssl_props._validation import check_pair, check_positive
from ssl_props.distributed import gather_pair
from ssl_props.losses._registry import register_loss


def alignment(x: torch.Tensor, y: torch.Tensor, alpha: float = 2.0) -> torch.Tensor:
    """``L_align = (1/n) Σ_i ||x_i − y_i||^α`` on unit vectors (α = 2: ``2 − 2 cos``, no square root)."""
    sq = (x - y).square().sum(-1)
    return sq.mean() if alpha == 2.0 else sq.clamp_min(0).pow(alpha / 2).mean()


def uniformity(x: torch.Tensor, t: float = 1.0) -> torch.Tensor:
    r"""``L_uniform = log (2/(n(n−1))) Σ_{i<j} exp(−t ||x_i − x_j||²)`` on unit vectors.

    ``||x_i − x_j||² = 2 − 2 x_i·x_j`` (no square root, smooth at coinciding rows); a logsumexp.
    """
    n = x.shape[0]
    sq = 2.0 - 2.0 * (x @ x.T)
    iu = torch.triu_indices(n, n, offset=1, device=x.device)
    return torch.logsumexp(-t * sq[iu[0], iu[1]], dim=0) - math.log(n * (n - 1) / 2)


@register_loss("align_uniform", family="sample-contrastive",
               invariances=("batch_permutation", "view_swap", "embedding_rotation", "feature_permutation",
                            "positive_scale"),
               reference="[0] [1]", param_grid={"t": (1.0, 2.0), "lam": (1.0,)})
def align_uniform(z1: torch.Tensor, z2: torch.Tensor, *, t: float = 1.0, lam: float = 1.0, alpha: float = 2.0,
                  gather_distributed: bool = False) -> torch.Tensor:
    r"""``L_align(ẑ1, ẑ2) + λ (L_uniform(ẑ1) + L_uniform(ẑ2)) / 2`` with ``ẑ = z/||z||`` (lightly's defaults).

    Wang & Isola's own defaults are α = 2, t = 2; lightly uses t = 1. Needs n ≥ 2 (a pair for uniformity).
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2, min_rows=2)
    tt = check_positive(t, "t")
    check_positive(alpha, "alpha")
    x, y = F.normalize(z1, dim=-1, eps=1e-12), F.normalize(z2, dim=-1, eps=1e-12)
    return alignment(x, y, alpha) + lam * (uniformity(x, tt) + uniformity(y, tt)) / 2
