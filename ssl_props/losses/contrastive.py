"""Sample-contrastive losses on cosine similarities: SimCLR (NT-Xent), cross-view InfoNCE, DCL,
SimCLR-abs / SimCLR-sq, and the spectral contrastive loss.

Legend: n = batch size, d = embedding dim; ``z1, z2`` are ``(n, d)``, row i of each is a view of sample i.

References:
    [0] SimCLR, Chen, Kornblith, Norouzi, Hinton, 2020, arXiv:2002.05709 (NT-Xent, eq. 1)
    [1] InfoNCE / CPC, van den Oord, Li, Vinyals, 2018, arXiv:1807.03748
    [2] DCL, Yeh et al., 2022, arXiv:2110.06848 (decoupled: positive removed from the denominator)
    [3] Garrido et al., 2023, arXiv:2206.02574, Section 4 (SimCLR-abs / SimCLR-sq)
    [4] Spectral contrastive loss, HaoChen, Wei, Gaidon, Ma, 2021, arXiv:2106.04156
    [5] lightly 1.6.0 ``NTXentLoss`` / ``DCLLoss`` (conventions and defaults)
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ssl_props._validation import check_pair, check_positive
from ssl_props.distributed import gather_pair
from ssl_props.losses._registry import register_loss

_NEG_INF = float("-inf")


def _normalize(z: torch.Tensor) -> torch.Tensor:
    return F.normalize(z, dim=-1, eps=1e-12)


def _views_similarity(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """Cosine similarities of the 2n stacked views, ``(2n, 2n)``."""
    z = _normalize(torch.cat([z1, z2], dim=0))  # (2n, d)
    return z @ z.T


def _positive_index(n: int, device: torch.device) -> torch.Tensor:
    """Index of each of the 2n anchors' positive in the stacked views: i ↔ i + n."""
    idx = torch.arange(n, device=device)
    return torch.cat([idx + n, idx])


def _nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float,
             negative_map: Callable[[torch.Tensor], torch.Tensor] | None) -> torch.Tensor:
    """Mean over the 2n anchors of ``−s_{i,i⁺}/τ + log Σ_{k≠i} exp(s'_{i,k}/τ)``.

    ``s'`` equals ``s`` on the positive and ``negative_map(s)`` on the negatives (identity for SimCLR).
    """
    n = z1.shape[0]
    sim = _views_similarity(z1, z2)  # (2n, 2n)
    pos = _positive_index(n, sim.device)
    rows = torch.arange(2 * n, device=sim.device)
    if negative_map is not None:
        mapped = negative_map(sim)
        is_pos = torch.zeros_like(sim, dtype=torch.bool)
        is_pos[rows, pos] = True
        sim = torch.where(is_pos, sim, mapped)
    logits = (sim / temperature).masked_fill(torch.eye(2 * n, dtype=torch.bool, device=sim.device), _NEG_INF)
    return F.cross_entropy(logits, pos)


_CONTRASTIVE_INV = ("batch_permutation", "view_swap", "embedding_rotation", "feature_permutation", "positive_scale")


@register_loss("simclr", family="sample-contrastive", invariances=_CONTRASTIVE_INV, reference="[0] [5]",
               param_grid={"temperature": (0.05, 0.1, 0.15, 0.2, 0.5, 1.0)})
def simclr(z1: torch.Tensor, z2: torch.Tensor, *, temperature: float = 0.5, gather_distributed: bool = False) -> torch.Tensor:
    r"""SimCLR's NT-Xent loss in the 2N-anchor form.

    .. math:: \ell = \frac{1}{2n}\sum_{i=1}^{2n} -\frac{s_{i,i^+}}{\tau}
              + \log\sum_{k\ne i} \exp(s_{i,k}/\tau)

    over the 2n stacked views, ``s`` the cosine similarity; the positive is in the denominator and each
    anchor has 2n − 2 negatives (both views). Equals lightly's ``NTXentLoss(temperature)``.

    Args:
        z1, z2: ``(batch, dim)`` embeddings of the two views.
        temperature: τ > 0 (lightly's default 0.5).

    >>> simclr(torch.eye(2, dtype=torch.float64), torch.eye(2, dtype=torch.float64))
    tensor(0.6...
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2, min_rows=2)
    return _nt_xent(z1, z2, check_positive(temperature, "temperature"), None)


@register_loss("simclr_abs", family="sample-contrastive", invariances=_CONTRASTIVE_INV, reference="[3]",
               param_grid={"temperature": (0.1, 0.15, 0.5, 1.0)})
def simclr_abs(z1: torch.Tensor, z2: torch.Tensor, *, temperature: float = 0.5, gather_distributed: bool = False) -> torch.Tensor:
    """SimCLR with the negatives' cosine similarities replaced by their absolute value (Garrido et al., §4).

    The positive term is unchanged (the paper changes only the repulsion; reconstruction noted in the
    theorem registry). Minimised, for fixed positives, when negatives are orthogonal: sample-contrastive.
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2, min_rows=2)
    return _nt_xent(z1, z2, check_positive(temperature, "temperature"), torch.abs)


@register_loss("simclr_sq", family="sample-contrastive", invariances=_CONTRASTIVE_INV, reference="[3]",
               param_grid={"temperature": (0.1, 0.15, 0.5, 1.0)})
def simclr_sq(z1: torch.Tensor, z2: torch.Tensor, *, temperature: float = 0.5, gather_distributed: bool = False) -> torch.Tensor:
    """SimCLR with the negatives' cosine similarities replaced by their square (Garrido et al., §4)."""
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2, min_rows=2)
    return _nt_xent(z1, z2, check_positive(temperature, "temperature"), torch.square)


@register_loss("infonce_cross_view", family="sample-contrastive",
               invariances=("batch_permutation", "embedding_rotation", "feature_permutation", "positive_scale"),
               reference="[1]", param_grid={"temperature": (0.05, 0.1, 0.2, 0.5, 1.0), "symmetric": (False, True)})
def infonce_cross_view(z1: torch.Tensor, z2: torch.Tensor, *, temperature: float = 0.5,
                       symmetric: bool = False, gather_distributed: bool = False) -> torch.Tensor:
    r"""InfoNCE with cross-view negatives only (CPC / MoCo / CLIP form).

    .. math:: \ell = \frac1n\sum_i -\frac{s(z1_i, z2_i)}{\tau} + \log\sum_j \exp(s(z1_i, z2_j)/\tau)

    i.e. ``cross_entropy(cos(z1, z2ᵀ)/τ, arange(n))``: n − 1 negatives per anchor, no same-view ones.
    With ``symmetric=True`` the mean of both directions (CLIP), which makes it view-symmetric.
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2, min_rows=2)
    t = check_positive(temperature, "temperature")
    logits = _normalize(z1) @ _normalize(z2).T / t  # (n, n)
    labels = torch.arange(z1.shape[0], device=z1.device)
    loss = F.cross_entropy(logits, labels)
    if symmetric:
        loss = 0.5 * (loss + F.cross_entropy(logits.T, labels))
    return loss


def _dcl(z1: torch.Tensor, z2: torch.Tensor, temperature: float,
         negative_map: Callable[[torch.Tensor], torch.Tensor] | None = None,
         weights: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over the 2n anchors of ``−w_i s_{i,i⁺}/τ + log Σ_{k∉{i,i⁺}} exp(s'_{i,k}/τ)`` (positive decoupled).

    ``s'`` is ``negative_map(s)`` on the negatives (identity for DCL); ``weights`` (length n, the same
    for both directions) multiply the positive term (DCLW).
    """
    sim = _views_similarity(z1, z2)  # (2n, 2n) cosine similarities
    n = z1.shape[0]
    pos = _positive_index(n, sim.device)
    rows = torch.arange(2 * n, device=sim.device)
    positive = sim[rows, pos] / temperature
    if weights is not None:
        positive = positive * weights.repeat(2)
    negatives = sim if negative_map is None else negative_map(sim)
    mask = torch.eye(2 * n, dtype=torch.bool, device=sim.device)
    mask[rows, pos] = True
    negative = torch.logsumexp((negatives / temperature).masked_fill(mask, _NEG_INF), dim=1)
    return (negative - positive).mean()


@register_loss("dcl", family="sample-contrastive", invariances=_CONTRASTIVE_INV, reference="[2] [5]",
               param_grid={"temperature": (0.05, 0.1, 0.2, 0.5)})
def dcl(z1: torch.Tensor, z2: torch.Tensor, *, temperature: float = 0.1, gather_distributed: bool = False) -> torch.Tensor:
    r"""Decoupled contrastive loss (Yeh et al.), symmetrised as in lightly's ``DCLLoss``.

    .. math:: \ell(a, b) = \frac1n\sum_i -\frac{s(a_i,b_i)}{\tau}
              + \log\Big(\sum_{j\ne i} e^{s(a_i,a_j)/\tau} + \sum_{j\ne i} e^{s(a_i,b_j)/\tau}\Big),
              \qquad L = \tfrac12(\ell(z1,z2) + \ell(z2,z1))

    The positive is removed from the denominator; negatives are same-view and cross-view.
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2, min_rows=2)
    return _dcl(z1, z2, check_positive(temperature, "temperature"))


@register_loss("dcl_abs", family="sample-contrastive", invariances=_CONTRASTIVE_INV, reference="[2] [3]",
               param_grid={"temperature": (0.1, 0.5)})
def dcl_abs(z1: torch.Tensor, z2: torch.Tensor, *, temperature: float = 0.1, gather_distributed: bool = False) -> torch.Tensor:
    """DCL with the negatives' cosine similarities replaced by their absolute value (Garrido et al., Prop. 3.2).

    The same change as SimCLR-abs, on the decoupled loss: the repulsion is minimised by orthogonal,
    not opposite, negatives, which makes it a scaled sample-contrastive criterion in the limit.
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2, min_rows=2)
    return _dcl(z1, z2, check_positive(temperature, "temperature"), torch.abs)


@register_loss("dcl_sq", family="sample-contrastive", invariances=_CONTRASTIVE_INV, reference="[2] [3]",
               param_grid={"temperature": (0.1, 0.5)})
def dcl_sq(z1: torch.Tensor, z2: torch.Tensor, *, temperature: float = 0.1, gather_distributed: bool = False) -> torch.Tensor:
    """DCL with the negatives' cosine similarities replaced by their square (Garrido et al., Prop. 3.2)."""
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2, min_rows=2)
    return _dcl(z1, z2, check_positive(temperature, "temperature"), torch.square)


def von_mises_fisher_weights(z1: torch.Tensor, z2: torch.Tensor, sigma: float) -> torch.Tensor:
    r"""DCLW's positive weights ``w_i = 2 − n · softmax_i(s(z1_i, z2_i)/σ)`` (mean 1), detached as in [2] [5]."""
    s = (_normalize(z1) * _normalize(z2)).sum(-1).detach() / sigma  # (n,)
    return 2.0 - z1.shape[0] * torch.softmax(s, dim=0)


@register_loss("dclw", family="sample-contrastive", invariances=_CONTRASTIVE_INV, reference="[2] [5]",
               param_grid={"temperature": (0.1, 0.5), "sigma": (0.5,)},
               expected_failures={"check_gradient_matches_finite_differences":
                                  "the von Mises-Fisher weights carry no gradient (the paper's code and lightly's DCLWLoss)"})
def dclw(z1: torch.Tensor, z2: torch.Tensor, *, temperature: float = 0.1, sigma: float = 0.5,
         gather_distributed: bool = False) -> torch.Tensor:
    r"""Weighted DCL (Yeh et al., eq. 6 with the negative von Mises-Fisher weight), lightly's ``DCLWLoss``.

    .. math:: L = \tfrac12(\ell_w(z1,z2) + \ell_w(z2,z1)),\quad
              \ell_w(a,b) = \frac1n\sum_i -w_i\frac{s(a_i,b_i)}{\tau} + \log\sum_{k\ne i,i^+} e^{s_{ik}/\tau},
              \quad w = 2 - n\,\mathrm{softmax}(s(a_i,b_i)/\sigma)

    The weights are computed without gradient (a design choice of the paper's code and lightly's):
    autograd and finite differences of L differ by the weights' derivative.
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2, min_rows=2)
    w = von_mises_fisher_weights(z1, z2, check_positive(sigma, "sigma"))
    return _dcl(z1, z2, check_positive(temperature, "temperature"), None, w)


@register_loss("spectral_contrastive", family="sample-contrastive",
               invariances=("batch_permutation", "view_swap", "embedding_rotation", "feature_permutation"),
               reference="[4]", param_grid={"mu": (None, 1.0)})
def spectral_contrastive(z1: torch.Tensor, z2: torch.Tensor, *, mu: float | None = None, gather_distributed: bool = False) -> torch.Tensor:
    r"""Spectral contrastive loss (HaoChen et al. 2021), batch form with cross-view negatives.

    .. math:: L = -\frac{2}{n}\sum_i z1_i\cdot z2_i + \frac{1}{n(n-1)}\sum_{i\ne j}(z1_i\cdot z2_j)^2

    With ``mu`` set, embeddings are first projected onto the ball of radius ``sqrt(mu)`` (as Garrido et
    al. describe the method's normalisation); ``mu=None`` uses them raw.
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2, min_rows=2)
    if mu is not None:
        r = check_positive(mu, "mu") ** 0.5
        z1 = r * _normalize(z1)
        z2 = r * _normalize(z2)
    n = z1.shape[0]
    cross = z1 @ z2.T  # (n, n)
    off = cross.masked_fill(torch.eye(n, dtype=torch.bool, device=cross.device), 0)
    return -2.0 * cross.diagonal().mean() + off.square().sum() / (n * (n - 1))
