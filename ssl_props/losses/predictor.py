"""Non-contrastive losses with a predictor and a stop-gradient target: SimSiam and BYOL.

The first argument ``p`` is the predictor's output of one view, the second ``z`` the target
embedding of the other view; the target is detached inside the loss (solo-learn's convention), so no
gradient reaches it.

References:
    [0] SimSiam, Chen & He, 2021, arXiv:2011.10566 (D(p, z) = −cos(p, stopgrad(z)))
    [1] BYOL, Grill et al., 2020, arXiv:2006.07733 (2 − 2 cos(p, sg(z)))
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ssl_props._validation import check_pair
from ssl_props.distributed import gather_pair
from ssl_props.losses._registry import register_loss

_INV = ("batch_permutation", "embedding_rotation", "feature_permutation", "positive_scale")


@register_loss("simsiam", family="non-contrastive-predictor", invariances=_INV, needs_stop_gradient=True,
               signature=("p", "z"), min_batch=1, reference="[0]")
def simsiam(p: torch.Tensor, z: torch.Tensor, *, gather_distributed: bool = False) -> torch.Tensor:
    r"""SimSiam's negative cosine similarity to a stop-gradient target: ``−(1/n) Σ_i cos(p_i, sg(z_i))``."""
    p, z = gather_pair(p, z) if gather_distributed else (p, z)  # grad-carrying all_gather
    p, z = check_pair(p, z, ("p", "z"))
    return -F.cosine_similarity(p, z.detach(), dim=-1, eps=1e-8).mean()


@register_loss("byol", family="non-contrastive-predictor", invariances=_INV, needs_stop_gradient=True,
               signature=("p", "z"), min_batch=1, reference="[1]")
def byol(p: torch.Tensor, z: torch.Tensor, *, gather_distributed: bool = False) -> torch.Tensor:
    r"""BYOL's normalised MSE to a stop-gradient target: ``(1/n) Σ_i ||p̂_i − sg(ẑ_i)||² = 2 − 2 cos``."""
    p, z = gather_pair(p, z) if gather_distributed else (p, z)  # grad-carrying all_gather
    p, z = check_pair(p, z, ("p", "z"))
    return (2.0 - 2.0 * F.cosine_similarity(p, z.detach(), dim=-1, eps=1e-8)).mean()
