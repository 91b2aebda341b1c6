"""Supervised contrastive loss, ``L^sup_out`` (Khosla et al., 2020, arXiv:2004.11362, eq. 2).

Legend: n = batch size, d = embedding dim; ``z1, z2`` are ``(n, d)`` views, ``labels`` ``(n,)`` class labels. The
2n views are stacked (index i ∈ I = {1..2n}), ℓ2-normalised; A(i) = I \\ {i}; P(i) = {p ∈ A(i): ỹ_p = ỹ_i}
(every other view of the same class, the anchor itself excluded).

.. math:: \\mathcal L^{sup}_{out} = \\sum_{i \\in I} \\frac{-1}{|P(i)|} \\sum_{p \\in P(i)}
          \\log \\frac{\\exp(z_i \\cdot z_p/\\tau)}{\\sum_{a \\in A(i)} \\exp(z_i \\cdot z_a / \\tau)}

averaged over the 2n anchors here (the official code's mean; the paper writes the sum), τ = 0.1 ([0], Section
4). The official code also multiplies by τ/τ_base (0.07/0.07 = 1 at its defaults): not done here. With two views
every anchor has a positive (its other view), so |P(i)| ≥ 1. Without labels (each sample its own class) it is
SimCLR's NT-Xent at the same τ.

References:
    [0] SupCon, Khosla et al., 2020, arXiv:2004.11362 (eq. 2, L^sup_out; github.com/HobbitLong/SupContrast)
    [1] solo-learn 1.0.2 ``simclr_loss_func(z1, z2, temperature, extra_pos_mask)``: the same-label mask as
        ``extra_pos_mask`` gives this loss. lightly 1.6.0 has no supervised contrastive loss.
"""
from __future__ import annotations

import torch

from ssl_props._validation import check_pair, check_positive, describe
from ssl_props.distributed import gather_pair, is_distributed
from ssl_props.errors import InvalidArgument
from ssl_props.losses._registry import register_loss


def _check_labels(labels: object, n: int, device: torch.device) -> torch.Tensor:
    if labels is None:
        return torch.arange(n, device=device)
    if not isinstance(labels, torch.Tensor) or labels.shape != (n,) or labels.is_floating_point() or labels.is_complex():
        raise InvalidArgument(f"labels must be an integer tensor of shape ({n},), one class per sample, got "
                              f"{describe(labels)}; pass None for one class per sample (SimCLR)")
    return labels.to(device)


def _gather_labels(labels: torch.Tensor) -> torch.Tensor:
    """All ranks' labels in rank order (no gradient; the views go through ``gather_pair``)."""
    import torch.distributed as dist

    parts = [torch.empty_like(labels) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, labels.contiguous())
    return torch.cat(parts)


def supcon_log_probs(z: torch.Tensor, temperature: float) -> torch.Tensor:
    """``log exp(z_i·z_a/τ) / Σ_{a' ≠ i} exp(z_i·z_a'/τ)`` for the stacked normalised views, ``(2n, 2n)``; the
    diagonal (a = i) is −inf and never a positive."""
    zn = torch.nn.functional.normalize(z, dim=-1)
    eye = torch.eye(z.shape[0], dtype=torch.bool, device=z.device)
    logits = (zn @ zn.T / temperature).masked_fill(eye, float("-inf"))
    return torch.log_softmax(logits, dim=-1)


@register_loss("supcon", family="sample-contrastive",
               invariances=("batch_permutation", "view_swap", "embedding_rotation", "feature_permutation", "positive_scale"),
               reference="[0] [1]", shape="labelled", state=("labels",), param_grid={"temperature": (0.1,)})
def supcon(z1: torch.Tensor, z2: torch.Tensor, *, labels: torch.Tensor | None = None, temperature: float = 0.1,
           gather_distributed: bool = False) -> torch.Tensor:
    r"""SupCon ``L^sup_out`` of two views, mean over the 2n anchors (module docstring for the formula).

    The positives of anchor i are the other views with i's label (never i itself); the denominator runs over all
    2n − 1 other views. ``labels=None``: each sample its own class, i.e. SimCLR (``simclr(temperature=τ)``).
    The batch permutation is an invariance when the labels are permuted with the rows.

    Args:
        z1, z2: ``(batch, dim)`` embeddings of two views; labels: ``(batch,)`` integer classes.
        temperature: τ = 0.1 ([0]).

    >>> e = torch.eye(2, dtype=torch.float64)
    >>> bool(torch.isclose(supcon(e, e, temperature=0.5), __import__("ssl_props").losses.simclr(e, e)))
    True
    """
    n_local = z1.shape[0] if isinstance(z1, torch.Tensor) and z1.ndim >= 1 else 0
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)
    z1, z2 = check_pair(z1, z2, min_rows=2)
    tau = check_positive(temperature, "temperature")
    if labels is not None and gather_distributed and is_distributed():
        labels = _gather_labels(_check_labels(labels, n_local, z1.device))
    y = _check_labels(labels, z1.shape[0], z1.device).repeat(2)  # (2n,): the labels of both views
    logp = supcon_log_probs(torch.cat([z1, z2]), tau)
    eye = torch.eye(y.shape[0], dtype=torch.bool, device=y.device)
    positive = (y[:, None] == y[None, :]) & ~eye  # P(i): same label, not the anchor
    mean_log_prob_pos = torch.where(positive, logp, torch.zeros_like(logp)).sum(-1) / positive.sum(-1)
    return -mean_log_prob_pos.mean()
