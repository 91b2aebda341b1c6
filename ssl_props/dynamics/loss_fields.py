r"""The linear model's field driven by a *registered* loss: autograd through ``ssl_props.losses`` versus the
hand-written chain rule (Tian, Chen & Ganguli 2021, Lemma 1; Terver et al. 2025, Lemma 4.1).

References:
    [0] Tian, Chen, Ganguli, ICML 2021, arXiv:2102.06810 (Lemma 1 / Eqns 2-4 for the L2 loss).
    [1] Ponce, Terver, Hebert, Arbel, ICLR 2026, arXiv:2507.01028 (Lemma 4.1: SG/EMA steps).

Model (legend: ``B`` cases, ``N`` samples per case, ``n1`` input dim, ``n2`` feature dim): online ``W``
(B, n2, n1), predictor ``W_p`` (B, n2, n2), target ``W_a`` (B, n2, n1); views ``x1, x2`` (B, N, n1).
The predictor output is ``p_i = W_p W x1_i`` and the target ``z_i = W_a x2_i``; a registered predictor loss
``ℓ(p, z)`` (``signature = ("p", "z")``) is expected to stop the gradient of ``z`` itself. Whatever ``ℓ``, the
chain rule gives, with ``g_i = ∂ℓ/∂p_i`` (one case's loss) and ``u_i = W x1_i``::

    dW_p/dt = −α_p Σ_i g_i u_iᵀ − η W_p,     dW/dt = −W_pᵀ Σ_i g_i x1_iᵀ − η W,
    dW_a/dt = β (W − W_a)   (EMA)   or   W_a ≡ W   (SimSiam: the target *is* the online encoder)

For ``ℓ = ½ mean ||p − z||²`` this is ``byol_field`` with the sample moments ``X := mean x2 x1ᵀ``,
``X + X' := mean x1 x1ᵀ`` ([0] Lemma 1). :func:`loss_field` computes the field by autograd through the
registered loss, with the target built from the *same* tensor ``W`` in the SimSiam case, so a loss that lets the
gradient through its target adds ``−Σ ∂ℓ/∂z_i x2_iᵀ`` to ``dW/dt``; :func:`chain_rule_field` computes it from a
closed-form ``g`` (:data:`OUTPUT_GRADIENTS`). Cases are stacked along the sample axis (one loss call of
``B·N`` rows): valid for losses that are means of per-sample terms (SimSiam, BYOL), whose per-case gradient is
then ``B`` times the stacked one.
"""
from __future__ import annotations

from typing import Callable, Union

import torch

from ssl_props._validation import InvalidArgument
from ssl_props.dynamics.fields import LinearState, _m

Tensor = torch.Tensor
Scalar = Union[float, Tensor]

__all__ = ["loss_field", "chain_rule_field", "OUTPUT_GRADIENTS", "cosine_output_gradient", "l2_output_gradient",
           "sample_views", "l2_loss"]


def sample_views(X: Tensor, Xp: Tensor, N: int, *, seed: int = 0) -> tuple[Tensor, Tensor]:
    """``N`` pairs per case of Tian et al.'s data model: ``x̄ ~ N(0, X)``, ``x_k = x̄ + ε_k``, ``ε_k ~ N(0, X')`` (B, N, n1)."""
    if N < 1:
        raise InvalidArgument(f"N must be >= 1 sample per case, got N={N}")
    g = torch.Generator().manual_seed(int(seed))
    B, n = X.shape[0], X.shape[-1]
    root = lambda S: torch.linalg.cholesky(S.cpu() + 1e-12 * torch.eye(n, dtype=S.dtype))  # noqa: E731  (PSD → PD)
    z = lambda: torch.randn(B, N, n, generator=g, dtype=X.dtype)  # noqa: E731
    xb = z() @ root(X).mT
    Lp = root(Xp)
    x1, x2 = xb + z() @ Lp.mT, xb + z() @ Lp.mT
    return x1.to(X.device), x2.to(X.device)


def l2_loss(p: Tensor, z: Tensor) -> Tensor:
    """Tian et al.'s loss as a predictor loss: ``½ mean_i ||p_i − sg(z_i)||²`` (the analysed L2 form)."""
    return 0.5 * (p - z.detach()).square().sum(-1).mean()


def loss_field(loss: Callable[[Tensor, Tensor], Tensor], state: LinearState, x1: Tensor, x2: Tensor, *,
               eta: Scalar = 0.0, alpha_p: Scalar = 1.0, beta: Scalar | None = None) -> LinearState:
    """The field ``(dW, dW_p, dW_a)`` by autograd through ``loss(p, z)`` (module doc); ``beta=None`` is SimSiam
    (the target is ``W`` itself, *not* detached here: the loss must do it)."""
    if x1.shape != x2.shape or x1.ndim != 3 or x1.shape[0] != state.W.shape[0]:
        raise InvalidArgument(f"x1 and x2 must both be (B={state.W.shape[0]}, N, n1); got {tuple(x1.shape)}, {tuple(x2.shape)}")
    B, N = x1.shape[:2]
    with torch.enable_grad():
        W = state.W.detach().clone().requires_grad_(True)
        Wp = state.Wp.detach().clone().requires_grad_(True)
        Wa = W if beta is None else state.Wa.detach()
        p = (x1 @ W.mT @ Wp.mT).reshape(B * N, -1)
        z = (x2 @ Wa.mT).reshape(B * N, -1)
        gW, gWp = torch.autograd.grad(B * loss(p, z), (W, Wp))
    dW = -gW - _m(eta, W) * state.W
    dWp = -_m(alpha_p, W) * gWp - _m(eta, W) * state.Wp
    dWa = dW if beta is None else _m(beta, W) * (state.W - state.Wa)
    return LinearState(dW.detach(), dWp.detach(), dWa.detach())


def cosine_output_gradient(p: Tensor, z: Tensor, scale: float = 1.0) -> Tensor:
    """``∂/∂p_i`` of ``−(scale/N) Σ_i cos(p_i, z_i)``: ``−(scale/N)(ẑ_i − cos_i p̂_i)/‖p_i‖`` (..., N, d)."""
    N = p.shape[-2]
    pn, zn = p.norm(dim=-1, keepdim=True), z.norm(dim=-1, keepdim=True)
    ph, zh = p / pn, z / zn
    cos = (ph * zh).sum(-1, keepdim=True)
    return -(scale / N) * (zh - cos * ph) / pn


def l2_output_gradient(p: Tensor, z: Tensor) -> Tensor:
    """``∂/∂p_i`` of ``½ mean_i ||p_i − z_i||²``: ``(p_i − z_i)/N``."""
    return (p - z) / p.shape[-2]


#: closed-form ``g(p, z)`` of each predictor loss the dynamics properties run on (registered name → formula)
OUTPUT_GRADIENTS: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "simsiam": lambda p, z: cosine_output_gradient(p, z, 1.0),  # −mean cos
    "byol": lambda p, z: cosine_output_gradient(p, z, 2.0),  # mean (2 − 2 cos)
    "l2": l2_output_gradient,
}


def chain_rule_field(output_gradient: Callable[[Tensor, Tensor], Tensor], state: LinearState, x1: Tensor, x2: Tensor, *,
                     eta: Scalar = 0.0, alpha_p: Scalar = 1.0, beta: Scalar | None = None) -> LinearState:
    """The hand-written field of the module doc from a closed-form output gradient ``g(p, z)`` (B, N, n2)."""
    W, Wp = state.W, state.Wp
    Wa = W if beta is None else state.Wa
    u = x1 @ W.mT  # (B, N, n2)
    g = output_gradient(u @ Wp.mT, x2 @ Wa.mT)
    dWp = -_m(alpha_p, W) * (g.mT @ u) - _m(eta, W) * Wp
    dW = -Wp.mT @ (g.mT @ x1) - _m(eta, W) * W
    dWa = dW if beta is None else _m(beta, W) * (W - state.Wa)
    return LinearState(dW, dWp, dWa)
