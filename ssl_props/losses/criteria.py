"""The two prototype criteria of Garrido et al. (2023) and the matrices they are built from.

Orientation: the paper writes the embedding matrix ``K ∈ R^{M×N}`` (M dimensions × N samples); code
uses ``Z = Kᵀ ∈ R^{N×D}`` (batch × dim). Every function here takes ``Z`` of shape ``(..., N, D)`` and is
batched over leading axes.

* Gram matrix (sample similarities) ``KᵀK = Z Zᵀ`` (N×N); "covariance" ``K Kᵀ = Zᵀ Z`` (D×D).
* Definition 3.1: ``diag(A)`` is the *matrix* keeping the diagonal of A (``A ⊙ I``), not a vector.
* Definition 3.2: ``L_c(K) = ||KᵀK − diag(KᵀK)||_F²`` and ``L_nc(K) = ||KKᵀ − diag(KKᵀ)||_F²``.

Reference: [0] Garrido, Chen, Bardes, Najman, LeCun, On the duality between contrastive and
non-contrastive self-supervised learning, ICLR 2023, arXiv:2206.02574, Definitions 3.1-3.2, eq. 9.
"""
from __future__ import annotations

import torch

from ssl_props._validation import check_pair
from ssl_props.distributed import gather_pair
from ssl_props.losses._registry import register_loss


def extract_diag(a: torch.Tensor) -> torch.Tensor:
    """Definition 3.1: the matrix ``a ⊙ I`` (diagonal kept, the rest zeroed), batched over leading axes."""
    eye = torch.eye(a.shape[-1], dtype=torch.bool, device=a.device)
    return a * eye


def off_diagonal_sq_sum(a: torch.Tensor) -> torch.Tensor:
    """``||a − diag(a)||_F²`` computed by masking (no cancellation), batched."""
    eye = torch.eye(a.shape[-1], dtype=torch.bool, device=a.device)
    return a.masked_fill(eye, 0).square().sum((-2, -1))


def gram(z: torch.Tensor) -> torch.Tensor:
    """Sample Gram matrix ``KᵀK = Z Zᵀ`` of shape ``(..., N, N)``."""
    return z @ z.transpose(-2, -1)


def feature_gram(z: torch.Tensor) -> torch.Tensor:
    """Un-centred, un-scaled "covariance" ``KKᵀ = Zᵀ Z`` of shape ``(..., D, D)``."""
    return z.transpose(-2, -1) @ z


def lc(z: torch.Tensor) -> torch.Tensor:
    """Sample-contrastive criterion ``L_c = Σ_{i≠i'} (z_i · z_i')²`` (Definition 3.2), batched."""
    return off_diagonal_sq_sum(gram(z))


def lnc(z: torch.Tensor) -> torch.Tensor:
    """Dimension-contrastive criterion ``L_nc = Σ_{j≠j'} (Z_{·j} · Z_{·j'})²`` (Definition 3.2), batched."""
    return off_diagonal_sq_sum(feature_gram(z))


def sample_norms4(z: torch.Tensor) -> torch.Tensor:
    """``Σ_i ||K_{·,i}||⁴``: sum of fourth powers of the embeddings' (samples') norms."""
    return z.square().sum(-1).square().sum(-1)


def feature_norms4(z: torch.Tensor) -> torch.Tensor:
    """``Σ_j ||K_{j,·}||⁴``: sum of fourth powers of the dimensions' (features') norms over the batch."""
    return z.square().sum(-2).square().sum(-1)


def l_reg(z: torch.Tensor) -> torch.Tensor:
    """Eq. 9: ``L_reg(K) = Σ_i ||K_{·,i}||⁴ − Σ_j ||K_{j,·}||⁴`` (samples minus dimensions)."""
    return sample_norms4(z) - feature_norms4(z)


def _invariance_sum(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    return (z1 - z2).square().sum()


@register_loss("sample_contrastive", family="sample-contrastive",
               invariances=("batch_permutation", "view_swap", "embedding_rotation", "feature_permutation"), min_batch=1,
               reference="[0] Garrido et al., 2023, arXiv:2206.02574, Definition 3.2",
               param_grid={"reg_weight": (0.1, 1.0, 10.0)})
def sample_contrastive(z1: torch.Tensor, z2: torch.Tensor, *, reg_weight: float = 1.0, gather_distributed: bool = False) -> torch.Tensor:
    """Generic sample-contrastive loss: ``Σ_i ||z1_i − z2_i||² + reg_weight (L_c(z1) + L_c(z2))``.

    The raw criterion of Definition 3.2 (no normalisation, no centring): the invariance term as the
    paper writes it (a sum over the batch) plus the sample-contrastive regulariser on each view.

    Args:
        z1, z2: embeddings of the two views, shape ``(batch, dim)``.
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2)
    return _invariance_sum(z1, z2) + reg_weight * (lc(z1) + lc(z2))


@register_loss("dimension_contrastive", family="dimension-contrastive",
               invariances=("batch_permutation", "view_swap", "feature_permutation", "sample_mixing"), min_batch=1,
               reference="[0] Garrido et al., 2023, arXiv:2206.02574, Definition 3.2",
               param_grid={"reg_weight": (0.1, 1.0, 10.0)})
def dimension_contrastive(z1: torch.Tensor, z2: torch.Tensor, *, reg_weight: float = 1.0, gather_distributed: bool = False) -> torch.Tensor:
    """Generic dimension-contrastive loss: ``Σ_i ||z1_i − z2_i||² + reg_weight (L_nc(z1) + L_nc(z2))``.

    The raw criterion of Definition 3.2 applied to each view (no centring, no scaling).

    Args:
        z1, z2: embeddings of the two views, shape ``(batch, dim)``.
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2)
    return _invariance_sum(z1, z2) + reg_weight * (lnc(z1) + lnc(z2))
