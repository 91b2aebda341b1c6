"""SwAV: swapped prediction of Sinkhorn-Knopp codes (Caron et al., 2020, arXiv:2006.09882).

Legend: B = batch size, K = number of prototypes; ``s1, s2`` are ``(B, K)`` scores ``z_b · c_k`` of two views
against the prototypes (cosines when z and c are normalised, as in [0]).

Codes (Section 3.1 of [0]): the optimal transport plan with equipartition over the batch,

.. math:: Q^* = \\operatorname{Diag}(u) \\exp(C^\\top Z / \\varepsilon) \\operatorname{Diag}(v), \\qquad
          Q \\mathbf 1_B = \\tfrac1K \\mathbf 1_K, \\quad Q^\\top \\mathbf 1_K = \\tfrac1B \\mathbf 1_B,

approximated by a few Sinkhorn-Knopp iterations (3, ε = 0.05) on the K × B matrix, each normalising the rows
(prototypes) to 1/K then the columns (samples) to 1/B; the code of sample b is column b times B (it sums to 1).
Swapped prediction, eq. (2)-(3): ``ℓ(z_t, q_s) = −Σ_k q_s^(k) log softmax(z_t·c/τ)_k`` with τ = 0.1, and the
loss ``½ [ℓ(s2, q1) + ℓ(s1, q2)]`` averaged over the batch; the codes carry no gradient.

References:
    [0] SwAV, Caron et al., 2020, arXiv:2006.09882 (eqs. 2-3, Section 3.1, Algorithm 1 and its Sinkhorn code)
    [1] lightly 1.6.0 ``SwaVLoss`` / ``sinkhorn``; solo-learn 1.0.2 ``swav_loss_func`` (given the codes)
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F

from ssl_props._validation import check_embeddings, check_pair, check_positive, describe
from ssl_props.distributed import gather_pair
from ssl_props.errors import InvalidArgument
from ssl_props.losses._registry import register_loss


def _check_iterations(iterations: object) -> int:
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise InvalidArgument(f"sinkhorn_iterations must be an int >= 1, got sinkhorn_iterations={iterations!r}")
    return iterations


def sinkhorn_knopp(scores: torch.Tensor, *, epsilon: float = 0.05, iterations: int = 3) -> torch.Tensor:
    """SwAV's codes ``(B, K)`` for ``(B, K)`` scores, no gradient (Section 3.1 of [0]).

    ``Q = exp(scoresᵀ/ε)`` (K × B) divided by its total; each iteration divides every row by its sum and by K,
    then every column by its sum and by B; returns ``(B · Q)ᵀ``: each sample's code sums to 1. Run in the log
    domain (each division is a subtraction of a ``logsumexp``): the same iteration, finite for scores of any
    size (``exp(s/ε)`` overflows float64 once s/ε > 709, e.g. s > 35 at ε = 0.05, and underflows rows to 0/0 when
    the batch is spread over more than ~1400 ε). Works on ``(..., B, K)`` batches.
    """
    check_positive(epsilon, "epsilon")
    _check_iterations(iterations)
    with torch.no_grad():
        logq = (scores.detach() / epsilon).transpose(-2, -1)  # (K, B)
        k, b = logq.shape[-2], logq.shape[-1]
        logq = logq - torch.logsumexp(logq.flatten(-2), dim=-1)[..., None, None]
        for _ in range(iterations):
            logq = logq - torch.logsumexp(logq, dim=-1, keepdim=True) - math.log(k)  # rows (prototypes) sum to 1/K
            logq = logq - torch.logsumexp(logq, dim=-2, keepdim=True) - math.log(b)  # columns (samples) sum to 1/B
        return torch.exp(logq + math.log(b)).transpose(-2, -1)


def swapped_prediction(scores: torch.Tensor, codes: torch.Tensor, temperature: float) -> torch.Tensor:
    """``ℓ(z, q) = −mean_b Σ_k q_bk log softmax(z_b/τ)_k``, eq. (3) of [0]."""
    return -(codes * F.log_softmax(scores / temperature, dim=-1)).sum(-1).mean()


def _check_views(views: object, name: str) -> list[torch.Tensor]:
    if not isinstance(views, (list, tuple)):
        raise InvalidArgument(f"{name} must be a list of (batch, K) score tensors, got {describe(views)}")
    return [check_embeddings(v, f"{name}[{i}]") for i, v in enumerate(views)]


def swav_multicrop(high_resolution: Sequence[torch.Tensor], low_resolution: Sequence[torch.Tensor] = (), *,
                   temperature: float = 0.1, epsilon: float = 0.05, sinkhorn_iterations: int = 3) -> torch.Tensor:
    """Multi-crop SwAV ([0], Section 3.2): codes from the high-resolution crops only; the code of crop i is
    predicted from every other crop (high and low resolution), ``Σ_i Σ_{v ≠ i} ℓ(s_v, q_i) / ((V − 1) · H)``
    with V crops in all and H high-resolution ones. Equals lightly's ``SwaVLoss(high, low)``."""
    high, low = _check_views(high_resolution, "high_resolution"), _check_views(low_resolution, "low_resolution")
    views = high + low
    if len(high) < 1 or len(views) < 2:
        raise InvalidArgument(f"SwAV needs a high-resolution crop and two crops at least, got {len(high)} high and "
                              f"{len(low)} low")
    if any(v.shape[-1] != views[0].shape[-1] or v.dtype != views[0].dtype for v in views):
        raise InvalidArgument(f"every crop's scores must have K={views[0].shape[-1]} columns and one dtype, got "
                              f"{[describe(v) for v in views]}")
    tau = check_positive(temperature, "temperature")
    total = views[0].new_zeros(())
    for i, s in enumerate(high):
        q = sinkhorn_knopp(s, epsilon=epsilon, iterations=sinkhorn_iterations)
        total = total + sum(swapped_prediction(v, q, tau) for j, v in enumerate(views) if j != i) / (len(views) - 1)
    return total / len(high)


@register_loss("swav", family="other", invariances=("batch_permutation", "view_swap", "feature_permutation"),
               min_batch=1, reference="[0] [1]", shape="prototype-scores", forms={"multi_crop": swav_multicrop},
               param_grid={"temperature": (0.1,), "epsilon": (0.05,), "sinkhorn_iterations": (3,)},
               expected_failures={"check_gradient_matches_finite_differences":
                                  "the Sinkhorn codes are targets computed without gradient (SwAV §3.1: the codes are "
                                  "not back-propagated through), so autograd omits their dependence on the scores"})
def swav(s1: torch.Tensor, s2: torch.Tensor, *, temperature: float = 0.1, epsilon: float = 0.05,
         sinkhorn_iterations: int = 3, gather_distributed: bool = False) -> torch.Tensor:
    r"""SwAV on two views' prototype scores: ``½ [ℓ(s2, q1) + ℓ(s1, q2)]``, ``q_v`` = Sinkhorn-Knopp codes of ``s_v``.

    .. math:: \ell(s, q) = -\frac1B \sum_b \sum_k q_{bk} \log \frac{\exp(s_{bk}/\tau)}{\sum_{k'} \exp(s_{bk'}/\tau)}

    The codes equipartition the batch, so they couple the samples (gather the scores across ranks for the codes
    of the global batch: ``gather_distributed=True``, as the official code's all-reduce does). Invariant to a
    joint permutation of the batch or of the prototypes; Definition 3.2 of Garrido et al. classifies neither
    (a softmax over prototypes, Sinkhorn over the batch).

    Args:
        s1, s2: ``(batch, K)`` scores of two views against the same K prototypes.
        temperature: τ = 0.1; epsilon: ε = 0.05; sinkhorn_iterations: 3 ([0]).

    >>> s = torch.eye(3, dtype=torch.float64)
    >>> float(swav(s, s)) < 1e-3  # sharp codes predicted by matching scores
    True
    """
    s1, s2 = gather_pair(s1, s2) if gather_distributed else (s1, s2)
    s1, s2 = check_pair(s1, s2, ("s1", "s2"))
    tau = check_positive(temperature, "temperature")
    q1 = sinkhorn_knopp(s1, epsilon=epsilon, iterations=sinkhorn_iterations)
    q2 = sinkhorn_knopp(s2, epsilon=epsilon, iterations=sinkhorn_iterations)
    return 0.5 * (swapped_prediction(s2, q1, tau) + swapped_prediction(s1, q2, tau))
