"""Distributed loss implementations for the data-parallel equivalence test: correct ones and real bugs.

Module-level functions (picklable for spawned processes). Outside a process group they compute the
single-process full-batch loss.
"""
from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F

from ssl_props.distributed import gather_with_grad, rank_and_world

from .reference_losses import off_diagonal


def _gather_no_grad(x: torch.Tensor) -> torch.Tensor:
    """Plain torch.distributed.all_gather: the result carries no gradient (Fromage #33)."""
    out = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(out, x.contiguous())
    return torch.cat(out)


class _GatherNoReduce(torch.autograd.Function):
    """lightly #1528: a gather layer whose backward returns this rank's slice without summing over ranks."""

    @staticmethod
    def forward(ctx, x):  # type: ignore[override]
        out = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(out, x.contiguous())
        ctx.n = x.shape[0]
        return torch.cat(out)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        r = dist.get_rank()
        return grad[r * ctx.n:(r + 1) * ctx.n]


def _ntxent_local_anchors(z1, z2, *, gather, offset_labels=True, temperature=0.5):
    """lightly-style NT-Xent: local anchors against negatives gathered from every rank."""
    rank, world = rank_and_world()
    n = z1.shape[0]
    a0, a1 = F.normalize(z1, dim=1), F.normalize(z2, dim=1)
    g0, g1 = (gather(a0), gather(a1)) if world > 1 else (a0, a1)
    off = rank * n
    own = torch.zeros(n, g0.shape[0], dtype=torch.bool)
    own[torch.arange(n), torch.arange(n) + off] = True  # the anchor itself among the gathered rows
    l00 = (a0 @ g0.T / temperature).masked_fill(own, float("-inf"))
    l01 = a0 @ g1.T / temperature
    l10 = a1 @ g0.T / temperature
    l11 = (a1 @ g1.T / temperature).masked_fill(own, float("-inf"))
    logits = torch.cat([torch.cat([l01, l00], 1), torch.cat([l10, l11], 1)], 0)  # (2n, 2N)
    labels = torch.arange(n) + (off if offset_labels else 0)  # lightly #1176: must be offset by rank * n
    return F.cross_entropy(logits, torch.cat([labels, labels]))


def ntxent_gather_with_grad(z1, z2):
    """Correct: gradient-carrying gather and labels offset by rank."""
    return _ntxent_local_anchors(z1, z2, gather=gather_with_grad)


def ntxent_labels_not_offset(z1, z2):
    """lightly #1176 (the inverse slip): labels = arange(n) on every rank although negatives are gathered."""
    return _ntxent_local_anchors(z1, z2, gather=gather_with_grad, offset_labels=False)


def ntxent_gather_without_grad(z1, z2):
    """Fromage #33: negatives gathered with torch.distributed.all_gather (no gradient)."""
    return _ntxent_local_anchors(z1, z2, gather=_gather_no_grad)


def ntxent_gather_layer_no_allreduce(z1, z2):
    """lightly #1528: GatherLayer.backward keeps its own slice of the gradient without an all_reduce."""
    return _ntxent_local_anchors(z1, z2, gather=_GatherNoReduce.apply)


def _barlow_reduced(za, zb, *, autograd_aware: bool, lam: float = 5e-3):
    """Barlow Twins with SyncBatchNorm-style global statistics and C summed over ranks."""
    rank, world = rank_and_world()
    n = za.shape[0]
    ga, gb = gather_with_grad(za), gather_with_grad(zb)
    big_n = ga.shape[0]
    na = F.batch_norm(ga, None, None, training=True, eps=1e-5)[rank * n:(rank + 1) * n]
    nb = F.batch_norm(gb, None, None, training=True, eps=1e-5)[rank * n:(rank + 1) * n]
    c = na.T @ nb / big_n
    if world > 1:
        if autograd_aware:
            import torch.distributed.nn.functional as dnn

            c = dnn.all_reduce(c)
        else:
            dist.all_reduce(c)  # lightly #1977 / solo-learn: no backward through the reduction
    return (torch.diagonal(c) - 1).pow(2).sum() + lam * off_diagonal(c).pow(2).sum()


def barlow_autograd_all_reduce(za, zb):
    """Correct (lightly PR #1980): torch.distributed.nn.all_reduce, whose backward is an all_reduce."""
    return _barlow_reduced(za, zb, autograd_aware=True)


def barlow_plain_all_reduce(za, zb):
    """lightly #1977: raw torch.distributed.all_reduce of C: right value, gradient 1/world_size too small."""
    return _barlow_reduced(za, zb, autograd_aware=False)


CORRECT_DISTRIBUTED = (ntxent_gather_with_grad, barlow_autograd_all_reduce)
#: (loss, what must be wrong: "loss" and/or "grad")
BUGGY_DISTRIBUTED = ((ntxent_labels_not_offset, "loss"), (ntxent_gather_without_grad, "grad"),
                     (ntxent_gather_layer_no_allreduce, "grad"), (barlow_plain_all_reduce, "grad"))
