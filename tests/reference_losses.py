"""Correct re-implementations of registered losses, written *differently* from ssl_props.losses.

Each must pass ``check_loss(fn, like=NAME)`` with no false alarm: the checks are general, not tuned to
one way of writing a loss. Styles: lightly's cross-entropy over a 2n × (2n − 1) logit matrix, an
explicit logsumexp with a detached max (the numerically-stable trick), solo-learn's exp/ratio form,
einsum, python loops, official VICReg / Barlow Twins code shapes (flatten-view off-diagonal,
``F.batch_norm``), ``torch.cov``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def off_diagonal(x: torch.Tensor) -> torch.Tensor:
    """Official VICReg/Barlow Twins trick: the off-diagonal entries of a square matrix, flattened."""
    n = x.shape[0]
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def simclr_lightly(out0: torch.Tensor, out1: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """lightly NTXentLoss layout: rows [cross-view block | same-view block without its diagonal]."""
    n = out0.shape[0]
    out0, out1 = F.normalize(out0, dim=1), F.normalize(out1, dim=1)
    keep = ~torch.eye(n, dtype=torch.bool)
    l00 = (out0 @ out0.T / temperature)[keep].view(n, n - 1)
    l01 = out0 @ out1.T / temperature
    l10 = out1 @ out0.T / temperature
    l11 = (out1 @ out1.T / temperature)[keep].view(n, n - 1)
    logits = torch.cat([torch.cat([l01, l00], dim=1), torch.cat([l10, l11], dim=1)], dim=0)  # (2n, 2n-1)
    labels = torch.arange(n).repeat(2)
    return F.cross_entropy(logits, labels)


def simclr_logsumexp(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """Explicit logsumexp with the max subtracted and detached (its gradient cancels exactly)."""
    t = 0.5
    z = torch.cat([z1, z2]) / torch.cat([z1, z2]).norm(dim=1, keepdim=True).clamp_min(1e-12)
    n2 = z.shape[0]
    s = (z @ z.T / t).masked_fill(torch.eye(n2, dtype=torch.bool), float("-inf"))
    m = s.max(dim=1, keepdim=True).values.detach()
    lse = m.squeeze(1) + torch.log(torch.exp(s - m).sum(dim=1))
    pos = torch.cat([torch.arange(n2 // 2, n2), torch.arange(n2 // 2)])
    return (lse - s[torch.arange(n2), pos]).mean()


def simclr_solo(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """solo-learn's form: −log(pos / Σ_{k≠i} exp(s_ik/τ)) with the exponentials computed explicitly."""
    z = F.normalize(torch.cat([z1, z2]), dim=-1)
    n = z1.shape[0]
    sim = torch.exp(torch.einsum("if,jf->ij", z, z) / 0.5)
    idx = torch.arange(2 * n)
    pos = sim[idx, (idx + n) % (2 * n)]
    denom = sim.sum(1) - sim.diagonal()
    return -(torch.log(pos / denom)).mean()


def infonce_einsum(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """Cross-view InfoNCE with einsum and logsumexp (= infonce_cross_view(temperature=0.5))."""
    logits = torch.einsum("nd,md->nm", F.normalize(z1, dim=1), F.normalize(z2, dim=1)) / 0.5
    return (logits.logsumexp(dim=1) - logits.diagonal()).mean()


def dcl_loop(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """Loop reference of symmetrised DCL (lightly PR #1827's test style), τ = 0.1."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    terms = []
    for i in range(2 * n):
        p = (i + n) % (2 * n)
        others = [k for k in range(2 * n) if k not in (i, p)]
        terms.append(-(z[i] @ z[p]) / 0.1 + torch.logsumexp(z[others] @ z[i] / 0.1, dim=0))
    return torch.stack(terms).mean()


def vicreg_official(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """facebookresearch/vicreg ``VICReg.forward`` shape (single process, coefficients 25/25/1)."""
    n, d = x.shape
    repr_loss = F.mse_loss(x, y)
    x = x - x.mean(dim=0)
    y = y - y.mean(dim=0)
    std_x = torch.sqrt(x.var(dim=0) + 0.0001)
    std_y = torch.sqrt(y.var(dim=0) + 0.0001)
    std_loss = torch.mean(F.relu(1 - std_x)) / 2 + torch.mean(F.relu(1 - std_y)) / 2
    cov_x = (x.T @ x) / (n - 1)
    cov_y = (y.T @ y) / (n - 1)
    cov_loss = off_diagonal(cov_x).pow(2).sum().div(d) + off_diagonal(cov_y).pow(2).sum().div(d)
    return 25.0 * repr_loss + 25.0 * std_loss + 1.0 * cov_loss


def vicreg_torch_cov(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """VICReg with ``torch.cov`` and einsum sums."""
    inv = torch.einsum("nd,nd->", z1 - z2, z1 - z2) / z1.numel()
    total = 25.0 * inv
    for z in (z1, z2):
        c = torch.cov(z.T)
        std = torch.sqrt(torch.diagonal(c) + 1e-4)
        total = total + 12.5 * F.relu(1 - std).mean()
        total = total + (c.square().sum() - torch.diagonal(c).square().sum()) / z.shape[1]
    return total


def barlow_batchnorm(z_a: torch.Tensor, z_b: torch.Tensor) -> torch.Tensor:
    """lightly ≥ 1.5.19 BarlowTwinsLoss shape: each view batch-normalised on its own, λ = 5e-3."""
    n = z_a.shape[0]
    za = F.batch_norm(z_a, None, None, training=True, eps=1e-5)
    zb = F.batch_norm(z_b, None, None, training=True, eps=1e-5)
    c = za.T @ zb / n
    on_diag = (torch.diagonal(c) - 1).pow(2).sum()
    return on_diag + 5e-3 * off_diagonal(c).pow(2).sum()


def spectral_einsum(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """Spectral contrastive loss with einsum: −2 mean_i z1_i·z2_i + mean_{i≠j} (z1_i·z2_j)²."""
    n = z1.shape[0]
    cross = torch.einsum("id,jd->ij", z1, z2)
    pos = torch.einsum("id,id->i", z1, z2)
    return -2 * pos.mean() + (cross.square().sum() - pos.square().sum()) / (n * (n - 1))


def simsiam_normalize(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """SimSiam's "original" D(p, z) (PatrickHua/SimSiam): normalise, detach, negative dot product."""
    z = z.detach()
    return -(F.normalize(p, dim=1) * F.normalize(z, dim=1)).sum(dim=1).mean()


def byol_mse(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """BYOL's normalised MSE ``||p̂ − sg(ẑ)||²`` averaged over the batch."""
    return (F.normalize(p, dim=-1) - F.normalize(z.detach(), dim=-1)).pow(2).sum(-1).mean()


#: (function, like, params): every entry must pass the whole battery against its reference
CORRECT = (
    (simclr_lightly, "simclr", {}),
    (simclr_logsumexp, "simclr", {}),
    (simclr_solo, "simclr", {}),
    (infonce_einsum, "infonce_cross_view", {}),
    (dcl_loop, "dcl", {}),
    (vicreg_official, "vicreg", {}),
    (vicreg_torch_cov, "vicreg", {}),
    (barlow_batchnorm, "barlow_twins", {}),
    (spectral_einsum, "spectral_contrastive", {}),
    (simsiam_normalize, "simsiam", {}),
    (byol_mse, "byol", {}),
)
