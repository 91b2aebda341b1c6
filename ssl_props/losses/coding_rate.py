"""Coding-rate and nuclear-norm losses: TCR (total coding rate), EMP-SSL and MMCR.

Legend: n = batch size, d = embedding dim; ``z1, z2`` are ``(n, d)``, row i of each is a view of sample i.

The coding rate of a batch is ``R(z) = ½ log det(I_d + d/(n ε) zᵀz)`` (MCR² [0] writes ε²; EMP-SSL's
official code [1] and lightly use ε unsquared, so ``eps`` here is the quantity that divides). By
Sylvester's determinant identity ``det(I_d + c zᵀz) = det(I_n + c z zᵀ)``, R depends only on the
singular values of z: it is invariant to rotations of embedding space *and* to orthogonal mixings of
the samples, so it is dimension-contrastive (Garrido et al. [3], Prop. 3.2, by its covariance form)
and, by the same identity, a function of the sample Gram matrix too.

References:
    [0] MCR², Yu, Chan, You, Song, Ma, 2020, arXiv:2006.08558 (coding rate R(Z, ε))
    [1] EMP-SSL, Tong, Chen, Ma, LeCun, 2023, arXiv:2304.03977 (official code tsb0601/EMP-SSL)
    [2] MMCR, Yerxa, Kuang, Simoncelli, Chung, 2023, arXiv:2303.03307
    [3] Garrido et al., 2023, arXiv:2206.02574, Proposition 3.2 (TCR named among dimension-contrastive methods)
    [4] lightly 1.6.0 ``EMPSSLLoss`` (``tcr_loss``), ``MMCRLoss``
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ssl_props._validation import check_pair, check_positive
from ssl_props.distributed import gather_pair
from ssl_props.losses._registry import register_loss

_SPECTRAL_INV = ("batch_permutation", "view_swap", "embedding_rotation", "feature_permutation", "sample_mixing")


def coding_rate(z: torch.Tensor, eps: float = 0.2) -> torch.Tensor:
    r"""``R(z) = ½ log det(I_d + d/(n ε) zᵀz)`` of a ``(..., n, d)`` batch (batched over leading axes).

    Computed as ``Σ log`` of the Cholesky diagonal of the symmetric positive definite matrix (no
    ``logdet`` sign branch). Equals :func:`coding_rate_gram` (the ``n × n`` form).
    """
    n, d = z.shape[-2:]
    eye = torch.eye(d, dtype=z.dtype, device=z.device)
    m = eye + (d / (n * eps)) * (z.transpose(-2, -1) @ z)
    return torch.linalg.cholesky(m).diagonal(dim1=-2, dim2=-1).log().sum(-1)


def coding_rate_gram(z: torch.Tensor, eps: float = 0.2) -> torch.Tensor:
    r"""The same ``R(z)`` from the sample Gram matrix: ``½ log det(I_n + d/(n ε) z zᵀ)`` (Sylvester)."""
    n, d = z.shape[-2:]
    eye = torch.eye(n, dtype=z.dtype, device=z.device)
    m = eye + (d / (n * eps)) * (z @ z.transpose(-2, -1))
    return torch.linalg.cholesky(m).diagonal(dim1=-2, dim2=-1).log().sum(-1)


@register_loss("tcr", family="dimension-contrastive", invariances=_SPECTRAL_INV, min_batch=1, reference="[0] [3]",
               param_grid={"eps": (0.2, 0.5), "inv_coef": (1.0,)})
def tcr(z1: torch.Tensor, z2: torch.Tensor, *, eps: float = 0.2, inv_coef: float = 1.0,
        gather_distributed: bool = False) -> torch.Tensor:
    r"""Two-view total-coding-rate loss: ``inv_coef · (1/n) Σ_i ||z1_i − z2_i||² − ½ (R(z1) + R(z2))``.

    The invariance term is the paper-style sum over the batch, averaged (pinned choice: Garrido et al.
    name TCR without a two-view formula at hand here); the regulariser expands coding rate, which
    spreads the spectrum of each view. No normalisation: both terms see raw embeddings.
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2)
    e = check_positive(eps, "eps")
    inv = (z1 - z2).square().sum(-1).mean()
    return inv_coef * inv - 0.5 * (coding_rate(z1, e) + coding_rate(z2, e))


@register_loss("emp_ssl", family="sample-contrastive",
               invariances=("batch_permutation", "view_swap", "embedding_rotation", "feature_permutation"),
               reference="[1] [4]", param_grid={"inv_coef": (200.0, 1.0)})
def emp_ssl(z1: torch.Tensor, z2: torch.Tensor, *, tcr_eps: float = 0.2, inv_coef: float = 200.0,
            gather_distributed: bool = False) -> torch.Tensor:
    r"""EMP-SSL with two views (patches): ``−(1/V) Σ_v R(z_v) − λ (1/(V n)) Σ_{v,i} cos(z_{v,i}, z̄_i)``.

    ``z̄ = mean_v z_v``; defaults ε = 0.2, λ = 200 (official code). The coding rate is *maximised*
    (``−R``), as in the official ``TotalCodingRate`` module; lightly 1.6.0's ``EMPSSLLoss`` adds ``+R``
    (its ``tcr_loss`` is this ``R``), which rewards collapse: see docs/real-losses.md. The cosine
    term makes the loss depend on directions only per sample: sample-contrastive by its symmetries.
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2, min_rows=2)
    e = check_positive(tcr_eps, "tcr_eps")
    z = torch.stack([z1, z2])  # (V, n, d)
    rate = coding_rate(z, e).mean()
    invariance = -F.cosine_similarity(z, z.mean(0, keepdim=True), dim=-1).mean()
    return -rate + inv_coef * invariance


@register_loss("mmcr", family="sample-contrastive",
               invariances=("batch_permutation", "view_swap", "embedding_rotation", "feature_permutation"),
               reference="[2] [4]", param_grid={"lmda": (5e-3, 0.0)})
def mmcr(z1: torch.Tensor, z2: torch.Tensor, *, lmda: float = 5e-3, gather_distributed: bool = False) -> torch.Tensor:
    r"""Maximum manifold capacity: ``−||C||_* + (λ/n) Σ_i ||[z1_i; z2_i]||_*`` with centroids ``C_i = (z1_i + z2_i)/2``.

    ``||·||_*`` is the nuclear norm (sum of singular values); each sample's manifold is the ``2 × d``
    matrix of its views. lightly's ``MMCRLoss(lmda=5e-3)`` on views stacked as ``(n, 1, d)`` each; as
    there, the embeddings are used as given (the paper normalises them in the projector).
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2, min_rows=1)
    if lmda < 0:
        from ssl_props._validation import InvalidArgument
        raise InvalidArgument(f"lmda must be >= 0, got lmda={lmda!r}")
    manifolds = torch.stack([z1, z2], dim=1)  # (n, 2, d)
    centroids = manifolds.mean(1)  # (n, d)
    return -torch.linalg.svdvals(centroids).sum() + lmda * torch.linalg.svdvals(manifolds).sum() / z1.shape[0]
