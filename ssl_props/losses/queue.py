"""MoCo: InfoNCE of queries against momentum-encoder keys, negatives from a queue (v1/v2) or the batch (v3).

Legend: n = batch size, d = embedding dim, K = queue length; ``q`` and ``k`` are ``(n, d)``, row i of ``k`` the key
of the positive of query i (another view of the same image, through the momentum encoder); ``queue`` is ``(K, d)``
keys of earlier batches. Everything is ℓ2-normalised; keys and queue carry no gradient (``k = k.detach()`` in
Algorithm 1 of [0]).

Eq. (1) of [0]: :math:`\\mathcal L_q = -\\log \\frac{\\exp(q\\cdot k_+/\\tau)}{\\exp(q\\cdot k_+/\\tau) +
\\sum_{j=1}^{K} \\exp(q\\cdot \\kappa_j/\\tau)}` averaged over the batch, τ = 0.07 ([0]; MoCo v2 uses 0.2).
MoCo v3 [1] drops the queue: the other keys of the batch are the negatives, ``ctr(q, k) = 2τ · CE(q kᵀ/τ, i)``
(Algorithm 1 of [1]; τ = 0.2 for ViT), symmetrised by the caller as ``ctr(q1, k2) + ctr(q2, k1)``.

References:
    [0] MoCo, He, Fan, Wu, Xie, Girshick, 2020, arXiv:1911.05722 (eq. 1, Algorithm 1)
    [1] MoCo v3, Chen, Xie, He, 2021, arXiv:2104.02057 (Algorithm 1)
    [2] lightly 1.6.0 ``NTXentLoss(memory_bank_size=(K, d))`` (negatives: the bank only); solo-learn 1.0.2
        ``moco_loss_func(query, key, queue)`` (queue ``(d, K)``, inputs normalised by the caller)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ssl_props._validation import check_embeddings, check_pair, check_positive, describe
from ssl_props.distributed import gather_pair
from ssl_props.errors import InvalidArgument
from ssl_props.losses._registry import register_loss

_MOCO_INV = ("batch_permutation", "embedding_rotation", "feature_permutation", "positive_scale")


def _check_queue(queue: object, d: int, like: torch.Tensor) -> torch.Tensor:
    if not isinstance(queue, torch.Tensor) or queue.ndim != 2 or queue.shape[-1] != d:
        raise InvalidArgument(f"queue must be a (K, dim={d}) tensor of earlier keys (one per row), got "
                              f"{describe(queue)}; a (dim, K) queue (solo-learn's layout) needs .T")
    check_embeddings(queue, "queue")
    return queue.detach().to(like.device, like.dtype)


def queue_logits(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Cosine logits (unscaled) and the positive's column: ``[q_i·k_i, q_i·κ_1..K]`` with label 0 when a queue is
    given, else ``q kᵀ`` with label i (the batch's other keys are the negatives)."""
    qn, kn = F.normalize(q, dim=-1), F.normalize(k.detach(), dim=-1)
    if queue is None:
        return qn @ kn.T, torch.arange(q.shape[0], device=q.device)
    pos = (qn * kn).sum(-1, keepdim=True)  # (n, 1)
    neg = qn @ F.normalize(queue, dim=-1).T  # (n, K)
    return torch.cat([pos, neg], dim=-1), torch.zeros(q.shape[0], dtype=torch.long, device=q.device)


@register_loss("moco", family="sample-contrastive", invariances=_MOCO_INV, needs_stop_gradient=True,
               signature=("q", "k"), min_batch=1, reference="[0] [1] [2]", shape="query-key", state=("queue",),
               param_grid={"temperature": (0.07, 0.2)})
def moco(q: torch.Tensor, k: torch.Tensor, *, queue: torch.Tensor | None = None, temperature: float = 0.07,
         gather_distributed: bool = False) -> torch.Tensor:
    r"""MoCo's InfoNCE, eq. (1) of [0]: positive ``k_i``, negatives the ``queue`` rows (the batch's other keys when
    ``queue`` is None, MoCo v3's form without its 2τ factor).

    .. math:: \ell = \frac1n \sum_i -\frac{\hat q_i \cdot \hat k_i}{\tau}
              + \log\Bigl(e^{\hat q_i\cdot \hat k_i/\tau} + \sum_{j} e^{\hat q_i\cdot \hat\kappa_j/\tau}\Bigr)

    ``k`` and ``queue`` are detached. The queue holds keys of other images: none of the batch's keys is in it
    (they are enqueued after the step). Not symmetric in (q, k); invariant to a rotation of q, k and the queue
    together. A queue of past keys does not move with the batch, so the registry's Definition 3.2 check runs on
    the in-batch form (``queue=None``).

    Args:
        q: ``(batch, dim)`` queries; k: ``(batch, dim)`` keys; queue: ``(K, dim)`` earlier keys.
        temperature: τ = 0.07 ([0]; 0.2 in MoCo v2).
    """
    q, k = gather_pair(q, k) if gather_distributed else (q, k)
    q, k = check_pair(q, k, ("q", "k"))
    tau = check_positive(temperature, "temperature")
    qu = None if queue is None else _check_queue(queue, q.shape[-1], q)
    logits, labels = queue_logits(q, k, qu)
    return F.cross_entropy(logits / tau, labels)


@register_loss("moco_v3", family="sample-contrastive", invariances=_MOCO_INV, needs_stop_gradient=True,
               signature=("q", "k"), min_batch=1, reference="[1]", shape="query-key",
               param_grid={"temperature": (0.2, 1.0)})
def moco_v3(q: torch.Tensor, k: torch.Tensor, *, temperature: float = 0.2, gather_distributed: bool = False) -> torch.Tensor:
    r"""MoCo v3's ``ctr(q, k) = 2τ · CE(q̂ k̂ᵀ / τ, arange(n))`` (Algorithm 1 of [1]), ``k`` detached.

    .. math:: \ell = 2\tau \cdot \frac1n \sum_i \Bigl[-\frac{\hat q_i\cdot\hat k_i}{\tau}
              + \log \sum_j e^{\hat q_i \cdot \hat k_j/\tau}\Bigr]

    One direction; MoCo v3 trains on ``ctr(q1, k2) + ctr(q2, k1)``. τ = 0.2 (ViT; 1.0 for ResNet-50 in [1]).
    """
    q, k = gather_pair(q, k) if gather_distributed else (q, k)
    q, k = check_pair(q, k, ("q", "k"))
    tau = check_positive(temperature, "temperature")
    logits, labels = queue_logits(q, k, None)
    return 2.0 * tau * F.cross_entropy(logits / tau, labels)
