"""DINO: self-distillation with a centred, sharpened teacher (Caron et al., 2021, arXiv:2104.14294).

Legend: n = batch size, K = output dimension (the "prototypes" of the DINO head); ``student`` and ``teacher``
are ``(n, K)`` logits, row i of each from a different crop of image i.

.. math::
    P_t(x) = \\operatorname{softmax}((g_t(x) - c)/\\tau_t), \\qquad P_s(x) = \\operatorname{softmax}(g_s(x)/\\tau_s),
    \\qquad H(a, b) = -\\sum_k a_k \\log b_k

Eq. (3) of [0]: the loss is ``Σ_{x ∈ global} Σ_{x' ≠ x} H(P_t(x), P_s(x'))``, averaged over the n_terms pairs
(teacher crop, student crop of another index) and the batch, as the official code does; the teacher gets no
gradient (its weights are an EMA of the student's). The centre is updated after each step with the teacher's
batch mean, ``c ← m c + (1 − m) mean_{crops, batch} g_t`` (eq. (4), m = 0.9); the teacher temperature is
warmed up linearly from 0.04 to 0.07 over the first 30 epochs (Section 4 / Appendix of [0]).

References:
    [0] DINO, Caron et al., 2021, arXiv:2104.14294 (eqs. 3-4, Algorithm 1)
    [1] lightly 1.6.0 ``DINOLoss`` and solo-learn 1.0.2 ``DINOLoss`` (same conventions: mean over pairs and batch)
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from ssl_props._validation import check_embeddings, check_pair, check_positive, describe
from ssl_props import distributed
from ssl_props.distributed import gather_pair
from ssl_props.errors import InvalidArgument
from ssl_props.losses._registry import register_loss


def _check_center(center: object, k: int, like: torch.Tensor) -> torch.Tensor:
    """``center`` as a ``(K,)`` tensor on ``like``'s device and dtype (``None``: zeros, the first step)."""
    if center is None:
        return torch.zeros(k, dtype=like.dtype, device=like.device)
    if not isinstance(center, torch.Tensor) or center.numel() != k or not center.is_floating_point():
        raise InvalidArgument(f"center must be a floating tensor of {k} entries (the output dimension K), got "
                              f"{describe(center)}; pass None for the first step (zeros)")
    return center.reshape(k).to(like.device, like.dtype)


def _cross_entropy(teacher_probs: torch.Tensor, student: torch.Tensor, student_temp: float) -> torch.Tensor:
    """``mean_i H(P_t_i, P_s_i)`` for ``(n, K)`` teacher probabilities and student logits."""
    return -(teacher_probs * F.log_softmax(student / student_temp, dim=-1)).sum(-1).mean()


def teacher_probabilities(teacher: torch.Tensor, center: torch.Tensor, teacher_temp: float) -> torch.Tensor:
    """``P_t = softmax((g_t − c)/τ_t)`` over the K outputs, detached (no gradient reaches the teacher)."""
    return F.softmax((teacher.detach() - center) / teacher_temp, dim=-1)


def _check_crops(crops: object, name: str) -> list[torch.Tensor]:
    if not isinstance(crops, (list, tuple)) or not crops:
        raise InvalidArgument(f"{name} must be a non-empty list of (batch, K) tensors, one per crop, got {describe(crops)}")
    out = [check_embeddings(c, f"{name}[{i}]") for i, c in enumerate(crops)]
    if any(c.shape != out[0].shape or c.dtype != out[0].dtype for c in out):
        raise InvalidArgument(f"every crop of {name} must have the shape and dtype of {name}[0] "
                              f"{describe(out[0])}; got {[describe(c) for c in out]}")
    return out


def dino_multicrop(student_crops: Sequence[torch.Tensor], teacher_crops: Sequence[torch.Tensor], *,
                   center: torch.Tensor | None = None, teacher_temp: float = 0.04, student_temp: float = 0.1) -> torch.Tensor:
    r"""DINO over crops, eq. (3) of [0]: ``Σ_{a} Σ_{b ≠ a} H(P_t(t_a), P_s(s_b)) / n_terms``.

    ``teacher_crops`` are the global crops (the teacher sees only those); ``student_crops`` are all crops with the
    global ones first, in the same order, so ``b = a`` is the same crop and is skipped. ``n_terms`` counts the
    pairs kept (T·S − T for T ≤ S). Equals lightly's ``DINOLoss(teacher_out, student_out)`` and solo-learn's.
    """
    s, t = _check_crops(student_crops, "student_crops"), _check_crops(teacher_crops, "teacher_crops")
    if s[0].shape != t[0].shape or s[0].dtype != t[0].dtype:
        raise InvalidArgument(f"student and teacher crops must share shape and dtype, got {describe(s[0])} and {describe(t[0])}")
    if len(s) * len(t) - min(len(s), len(t)) == 0:
        raise InvalidArgument(f"DINO needs two crops at least (a crop is never compared with itself), got "
                              f"{len(t)} teacher and {len(s)} student crop(s)")
    tt, ts = check_positive(teacher_temp, "teacher_temp"), check_positive(student_temp, "student_temp")
    c = _check_center(center, t[0].shape[-1], t[0])
    probs = teacher_probabilities(torch.stack(t), c, tt)  # (T, n, K)
    logp = F.log_softmax(torch.stack(s) / ts, dim=-1)  # (S, n, K)
    h = -torch.einsum("tnk,snk->ts", probs, logp) / probs.shape[1]  # (T, S): mean over the batch of H
    keep = ~torch.eye(len(t), len(s), dtype=torch.bool, device=h.device)  # crop a never against itself
    return (h * keep).sum() / keep.sum()


def dino_center_update(center: torch.Tensor | None, teacher_crops: Sequence[torch.Tensor], *,
                       momentum: float = 0.9, gather_distributed: bool = False) -> torch.Tensor:
    """Eq. (4) of [0]: ``c ← m c + (1 − m) · mean over crops and batch of the teacher logits`` (no gradient).

    ``gather_distributed=True``: the mean over the global batch (the official code all-reduces it), so every rank
    keeps the same centre."""
    t = _check_crops(teacher_crops, "teacher_crops")
    if gather_distributed:
        t = [distributed.gather_with_grad(c.detach()) for c in t]
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0.0 <= momentum <= 1.0:
        raise InvalidArgument(f"momentum must be a number in [0, 1], got momentum={momentum!r}")
    c = _check_center(center, t[0].shape[-1], t[0])
    batch = torch.stack(t).detach().mean(dim=(0, 1))
    return momentum * c + (1.0 - momentum) * batch


def dino_teacher_temperature(epoch: int, *, warmup_teacher_temp: float = 0.04, teacher_temp: float = 0.07,
                             warmup_epochs: int = 30) -> float:
    """Linear warm-up of τ_t ([0], Section 4.1 / Appendix): ``linspace(warmup, final, warmup_epochs)[epoch]``
    for ``epoch < warmup_epochs``, then ``teacher_temp`` (lightly's and solo-learn's schedule)."""
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise InvalidArgument(f"epoch must be an int >= 0, got epoch={epoch!r}")
    if isinstance(warmup_epochs, bool) or not isinstance(warmup_epochs, int) or warmup_epochs < 0:
        raise InvalidArgument(f"warmup_epochs must be an int >= 0, got warmup_epochs={warmup_epochs!r}")
    if epoch >= warmup_epochs:
        return check_positive(teacher_temp, "teacher_temp")
    if warmup_epochs == 1:
        return check_positive(warmup_teacher_temp, "warmup_teacher_temp")
    frac = epoch / (warmup_epochs - 1)
    return warmup_teacher_temp + (teacher_temp - warmup_teacher_temp) * frac


@register_loss("dino", family="other", invariances=("batch_permutation", "feature_permutation"),
               needs_stop_gradient=True, signature=("student", "teacher"), min_batch=1, reference="[0] [1]",
               shape="teacher-student", state=("center",), forms={"multi_crop": dino_multicrop},
               param_grid={"teacher_temp": (0.04, 0.07), "student_temp": (0.1,)})
def dino(student: torch.Tensor, teacher: torch.Tensor, *, center: torch.Tensor | None = None, teacher_temp: float = 0.04,
         student_temp: float = 0.1, gather_distributed: bool = False) -> torch.Tensor:
    r"""One (teacher crop, student crop) term of DINO: ``mean_i H(P_t(teacher_i), P_s(student_i))``.

    .. math:: \ell = -\frac1n \sum_i \sum_k \operatorname{softmax}\Big(\frac{t_i - c}{\tau_t}\Big)_k
              \log \operatorname{softmax}\Big(\frac{s_i}{\tau_s}\Big)_k

    The teacher is detached; the centre ``c`` is state (``None``: zeros, DINO's first step) and is not updated
    here (:func:`dino_center_update`, :class:`DinoCentredLoss`). Not symmetric in its arguments, not invariant
    to rotations (a softmax over coordinates): Garrido et al.'s Definition 3.2 classifies neither.

    Args:
        student: ``(batch, K)`` student logits of one crop.
        teacher: ``(batch, K)`` teacher logits of another crop of the same images.
        center: ``(K,)`` running centre of the teacher outputs.
        teacher_temp, student_temp: τ_t (0.04 at the start of the warm-up, [0]) and τ_s = 0.1.

    >>> z = torch.eye(3, dtype=torch.float64)
    >>> float(dino(z, z)) < 1e-4  # a sharp teacher and a matching student
    True
    """
    student, teacher = gather_pair(student, teacher) if gather_distributed else (student, teacher)
    student, teacher = check_pair(student, teacher, ("student", "teacher"))
    tt, ts = check_positive(teacher_temp, "teacher_temp"), check_positive(student_temp, "student_temp")
    c = _check_center(center, teacher.shape[-1], teacher)
    return _cross_entropy(teacher_probabilities(teacher, c, tt), student, ts)


class DinoCentredLoss:
    """DINO with its centre as state: each call computes :func:`dino_multicrop` with the current centre, then
    updates it (:func:`dino_center_update`), as lightly's ``DINOLoss`` and the official code do.

    >>> loss = DinoCentredLoss(output_dim=3)
    >>> t = [torch.eye(3, dtype=torch.float64)] * 2
    >>> _ = loss(t, t); loss.center.tolist()
    [0.0333..., 0.0333..., 0.0333...]
    """

    def __init__(self, output_dim: int, *, teacher_temp: float = 0.04, student_temp: float = 0.1,
                 center_momentum: float = 0.9, dtype: torch.dtype = torch.float64, device: str | torch.device = "cpu"):
        if isinstance(output_dim, bool) or not isinstance(output_dim, int) or output_dim < 1:
            raise InvalidArgument(f"output_dim must be a positive int, got output_dim={output_dim!r}")
        self.center = torch.zeros(output_dim, dtype=dtype, device=device)
        self.teacher_temp, self.student_temp, self.center_momentum = teacher_temp, student_temp, center_momentum

    def __call__(self, student_crops: Sequence[torch.Tensor], teacher_crops: Sequence[torch.Tensor], *,
                 teacher_temp: float | None = None) -> torch.Tensor:
        tt = self.teacher_temp if teacher_temp is None else teacher_temp
        loss = dino_multicrop(student_crops, teacher_crops, center=self.center, teacher_temp=tt,
                              student_temp=self.student_temp)
        self.center = dino_center_update(self.center, teacher_crops, momentum=self.center_momentum)
        return loss
