r"""Vector fields of the linear BYOL/SimSiam model of Tian, Chen & Ganguli (2021), as pure batched torch functions.

References:
    [0] Tian, Chen, Ganguli, "Understanding self-supervised learning dynamics without contrastive pairs",
        ICML 2021, arXiv:2102.06810 (Lemma 1 = Eqns 2-4, Theorem 2, Eqn 7, Eqns 11-13, Eqns 18-19).
    [1] Wang, Chen, Du, Tian, "Towards Demystifying Representation Learning with Non-contrastive
        Self-supervision", arXiv:2110.04947 (DirectSet(α), DirectCopy = α 1).

Model (column vectors; legend: ``n1`` input dim, ``n2`` feature dim, ``...`` any batch of cases):
online encoder ``W`` (..., n2, n1), predictor ``W_p`` (..., n2, n2), target ``W_a`` (..., n2, n1),
``X = E[x̄ x̄ᵀ]`` (augmentation-averaged input correlation) and ``X' = E_x Var[x'|x]`` (augmentation
covariance), both (..., n1, n1). Loss ``J = ½ E||W_p W x1 − StopGrad(W_a x2)||²``. With
``G := −W_p W (X + X') + W_a X`` the gradient flow is (Lemma 1, Eqns 2-4 of [0])::

    dW_p/dt = α_p G Wᵀ − η W_p          (Eqn 2; predictor learning-rate ratio α_p)
    dW/dt   = W_pᵀ G − η W              (Eqn 3; weight decay η)
    dW_a/dt = β (W − W_a)               (Eqn 4; EMA rate β; SimSiam: W_a ≡ W)

Without the stop-gradient (Theorem 2 of [0]) the target branch's gradient also reaches the online
weights: ``dW/dt += W_p W X − W_a (X + X')``; with ``W_a = W`` this is ``vec dW/dt = −H vec W`` with
``H = X' ⊗ (W_pᵀW_p + I) + X ⊗ (W_p − I)ᵀ(W_p − I) + η I`` (:func:`no_stopgrad_hessian`).
Predictors: ``"learned"`` (Eqn 2), ``"identity"`` (no predictor, W_p = I), ``"fixed"`` (W_p frozen),
``"directpred"`` (Eqn 18: ``W_p = U diag(√s_j + ε max_j s_j) Uᵀ`` for ``F = U diag(s) Uᵀ``),
``"directcopy"`` ([1]: ``W_p = F + ε I``), ``"directset"`` ([1]: ``W_p = U diag(s_j^α + ε) Uᵀ``). For the
set predictors ``F = W X Wᵀ`` (``correlation="clean"``, the theory's F) or ``W (X + X') Wᵀ``
(``"augmented"``, what an implementation accumulates); their ``W_p`` slot of the state is ignored
and its derivative is zero (use :func:`effective_predictor` to read it).

Reduced fields: the symmetrised flow under Assumptions 1-3 (``X = I``, ``X' = σ² I``, ``W_a = τ W``,
symmetric W_p; Eqn 7), the decoupled eigen-modes (Eqns 11-13) and DirectSet(α) modes.

Hyperparameters (η, α_p, β, σ², τ, α, ε) are Python floats or tensors of the batch shape ``...``
(one value per case). Every function is pure and differentiable (``torch.func.jacrev`` works).

Stable API (add, do not rename): :class:`LinearState`, :func:`residual`, :func:`feature_correlation`,
:func:`directpred_predictor`, :func:`directcopy_predictor`, :func:`directset_predictor`,
:func:`effective_predictor`, :func:`predictor_field`, :func:`online_field`, :func:`target_field`,
:func:`byol_field`, :func:`no_stopgrad_hessian`, :func:`symmetric_field`, :func:`alignment_K`,
:func:`mode_field`, :func:`directset_mode_field`, :func:`pack`, :func:`unpack`, :func:`flat_field`,
:func:`population_loss`, :data:`PREDICTORS`.
"""
from __future__ import annotations

from typing import NamedTuple, Union

import torch

from ssl_props._validation import InvalidArgument

Tensor = torch.Tensor
Scalar = Union[float, Tensor]

__all__ = ["LinearState", "PREDICTORS", "residual", "feature_correlation", "directpred_predictor",
           "directcopy_predictor", "directset_predictor", "effective_predictor", "predictor_field",
           "online_field", "target_field", "byol_field", "no_stopgrad_hessian", "symmetric_field",
           "alignment_K", "mode_field", "population_loss", "directset_mode_field", "pack", "unpack", "flat_field"]

PREDICTORS = ("learned", "identity", "fixed", "directpred", "directcopy", "directset")


class LinearState(NamedTuple):
    """State of the linear model: online ``W`` (..., n2, n1), predictor ``Wp`` (..., n2, n2), target ``Wa`` (..., n2, n1)."""

    W: Tensor
    Wp: Tensor
    Wa: Tensor


def _m(x: Scalar, ref: Tensor) -> Scalar:
    """A per-case scalar broadcast against matrices ``(..., a, b)``: floats unchanged, tensors get two trailing axes."""
    if isinstance(x, Tensor):
        return x.to(ref).reshape(*x.shape, 1, 1)
    return x


def _v(x: Scalar, ref: Tensor) -> Scalar:
    """A per-case scalar broadcast against vectors ``(..., k)`` (a tensor shaped like ``ref`` is per mode)."""
    if isinstance(x, Tensor):
        return x.to(ref) if x.ndim == ref.ndim else x.to(ref).reshape(*x.shape, 1)
    return x


def _t(a: Tensor) -> Tensor:
    return a.transpose(-2, -1)


def _eye(n: int, ref: Tensor) -> Tensor:
    return torch.eye(n, dtype=ref.dtype, device=ref.device)


def residual(W: Tensor, Wp: Tensor, Wa: Tensor, X: Tensor, Xp: Tensor) -> Tensor:
    """``G = −W_p W (X + X') + W_a X`` (..., n2, n1): minus the residual correlation of Lemma 1 [0]."""
    return -Wp @ W @ (X + Xp) + Wa @ X


def population_loss(W: Tensor, Wp: Tensor, Wa: Tensor, X: Tensor, Xp: Tensor) -> Tensor:
    """``J = ½ E||W_p W x1 − W_a x2||²`` (..., ) for independent views given x ([0] §3)::

        J = ½ tr(W_p W (X+X') Wᵀ W_pᵀ) − tr(W_p W X W_aᵀ) + ½ tr(W_a (X+X') W_aᵀ)

    Differentiable in all three; the stop-gradient is the caller's ``Wa.detach()``.
    """
    S = X + Xp
    tr = lambda A: torch.diagonal(A, dim1=-2, dim2=-1).sum(-1)  # noqa: E731
    return 0.5 * tr(Wp @ W @ S @ _t(W) @ _t(Wp)) - tr(Wp @ W @ X @ _t(Wa)) + 0.5 * tr(Wa @ S @ _t(Wa))


def feature_correlation(W: Tensor, X: Tensor) -> Tensor:
    """``F = W X Wᵀ`` (..., n2, n2), the online feature correlation ([0] §3)."""
    return W @ X @ _t(W)


def _eig(F: Tensor) -> tuple[Tensor, Tensor]:
    s, U = torch.linalg.eigh(0.5 * (F + _t(F)))
    return s.clamp_min(0.0), U


def directset_predictor(F: Tensor, alpha: Scalar = 0.5, eps: Scalar = 0.0) -> Tensor:
    """DirectSet(α) of [1]: ``W_p = U diag(s_j^α + ε) Uᵀ`` for ``F = U diag(s) Uᵀ`` (eigenvalues clamped at 0)."""
    s, U = _eig(F)
    p = s.pow(_v(alpha, s)) + _v(eps, s)
    return (U * p.unsqueeze(-2)) @ _t(U)


def directpred_predictor(F: Tensor, eps: Scalar = 0.0) -> Tensor:
    """DirectPred, Eqn 18 of [0]: ``p_j = √s_j + ε max_j s_j``, ``W_p = U diag(p) Uᵀ`` (unnormalised paper form)."""
    s, U = _eig(F)
    p = s.sqrt() + _v(eps, s) * s.amax(-1, keepdim=True)
    return (U * p.unsqueeze(-2)) @ _t(U)


def directcopy_predictor(F: Tensor, eps: Scalar = 0.0) -> Tensor:
    """DirectCopy of [1] (DirectSet with α = 1, no eigendecomposition): ``W_p = F + ε I``."""
    return F + _m(eps, F) * _eye(F.shape[-1], F)


def effective_predictor(state: LinearState, X: Tensor, Xp: Tensor, *, predictor: str = "learned",
                        eps: Scalar = 0.0, alpha: Scalar = 0.5, correlation: str = "clean") -> Tensor:
    """The predictor the field uses: ``state.Wp`` (learned/fixed), ``I`` (identity) or the set predictor of ``F``."""
    if predictor not in PREDICTORS:
        raise InvalidArgument(f"predictor={predictor!r} is unknown; use one of {PREDICTORS}")
    if correlation not in ("clean", "augmented"):
        raise InvalidArgument(f"correlation={correlation!r} must be 'clean' (F = W X Wᵀ) or 'augmented' (W (X+X') Wᵀ)")
    W = state.W
    if predictor in ("learned", "fixed"):
        return state.Wp
    if predictor == "identity":
        return _eye(W.shape[-2], W).expand(state.Wp.shape)
    F = feature_correlation(W, X if correlation == "clean" else X + Xp)
    if predictor == "directpred":
        return directpred_predictor(F, eps)
    if predictor == "directcopy":
        return directcopy_predictor(F, eps)
    return directset_predictor(F, alpha, eps)


def predictor_field(W: Tensor, Wp: Tensor, Wa: Tensor, X: Tensor, Xp: Tensor, *, eta: Scalar, alpha_p: Scalar = 1.0,
                    symmetric: bool = False, G: Tensor | None = None) -> Tensor:
    """Eqn 2 of [0]: ``dW_p/dt = α_p G Wᵀ − η W_p``; ``symmetric=True`` symmetrises it (Assumption 3).
    ``G`` may be passed when already computed (:func:`residual`)."""
    G = residual(W, Wp, Wa, X, Xp) if G is None else G
    d = _m(alpha_p, W) * G @ _t(W) - _m(eta, W) * Wp
    return 0.5 * (d + _t(d)) if symmetric else d


def online_field(W: Tensor, Wp: Tensor, Wa: Tensor, X: Tensor, Xp: Tensor, *, eta: Scalar,
                 stop_gradient: bool = True, G: Tensor | None = None) -> Tensor:
    """Eqn 3 of [0]: ``dW/dt = W_pᵀ G − η W``; without stop-gradient add ``W_p W X − W_a (X + X')`` (Thm 2)."""
    G = residual(W, Wp, Wa, X, Xp) if G is None else G
    d = _t(Wp) @ G - _m(eta, W) * W
    if not stop_gradient:
        d = d + Wp @ W @ X - Wa @ (X + Xp)
    return d


def target_field(W: Tensor, Wa: Tensor, *, beta: Scalar) -> Tensor:
    """Eqn 4 of [0]: ``dW_a/dt = β (W − W_a)`` (continuous EMA; β = (1 − momentum)/lr)."""
    return _m(beta, W) * (W - Wa)


def byol_field(state: LinearState, X: Tensor, Xp: Tensor, *, eta: Scalar = 0.0, alpha_p: Scalar = 1.0,
               beta: Scalar | None = 1.0, stop_gradient: bool = True, predictor: str = "learned",
               eps: Scalar = 0.0, alpha: Scalar = 0.5, correlation: str = "clean",
               symmetric_predictor: bool = False) -> LinearState:
    """The full field ``(dW, dW_p, dW_a)`` of Lemma 1 (Eqns 2-4) of [0], batched over ``...``.

    ``beta=None`` is SimSiam: the target is the online ``W`` itself (``dW_a = dW`` keeps ``W_a = W`` when
    started equal). ``predictor`` picks the predictor (see :data:`PREDICTORS`); only ``"learned"`` moves
    ``W_p``. ``stop_gradient=False`` lets the target branch's gradient reach ``W`` (Theorem 2).
    """
    W, Wa = state.W, state.Wa
    if beta is None:
        Wa = W
    Wp = effective_predictor(state, X, Xp, predictor=predictor, eps=eps, alpha=alpha, correlation=correlation)
    G = residual(W, Wp, Wa, X, Xp)
    dW = online_field(W, Wp, Wa, X, Xp, eta=eta, stop_gradient=stop_gradient, G=G)
    if predictor == "learned":
        dWp = predictor_field(W, Wp, Wa, X, Xp, eta=eta, alpha_p=alpha_p, symmetric=symmetric_predictor, G=G)
    else:
        dWp = torch.zeros_like(state.Wp)
    dWa = dW if beta is None else target_field(W, Wa, beta=beta)
    return LinearState(dW, dWp, dWa)


def no_stopgrad_hessian(Wp: Tensor, X: Tensor, Xp: Tensor, *, eta: Scalar = 0.0) -> Tensor:
    """Theorem 2 of [0]: ``H = X' ⊗ (W_pᵀW_p + I) + X ⊗ (W_p − I)ᵀ(W_p − I) + η I`` (..., n1 n2, n1 n2).

    Column-major ``vec`` (``vec(A Y B) = (Bᵀ ⊗ A) vec Y``): without stop-gradient and ``W_a = W``,
    ``vec dW/dt = −H vec W``. Use ``W.transpose(-2, -1).reshape(..., -1)`` for ``vec W``.
    """
    n2 = Wp.shape[-1]
    I2 = _eye(n2, Wp)
    A = _t(Wp) @ Wp + I2
    B = _t(Wp - I2) @ (Wp - I2)
    kron = lambda P, Q: (P[..., :, None, :, None] * Q[..., None, :, None, :]).reshape(  # noqa: E731
        *torch.broadcast_shapes(P.shape[:-2], Q.shape[:-2]), P.shape[-2] * Q.shape[-2], P.shape[-1] * Q.shape[-1])
    H = kron(Xp, A) + kron(X, B)
    return H + _m(eta, H) * _eye(H.shape[-1], H)


def symmetric_field(F: Tensor, Wp: Tensor, *, sigma2: Scalar, tau: Scalar = 1.0, alpha_p: Scalar = 1.0,
                    eta: Scalar = 0.0) -> tuple[Tensor, Tensor]:
    """Eqn 7 of [0] (Assumptions 1-3): ``(dW_p/dt, dF/dt)`` with ``c = 1 + σ²``, ``{A,B} = AB + BA``::

        dW_p/dt = −(α_p/2) c {W_p, F} + α_p τ F − η W_p
        dF/dt   = −c {W_p², F} + τ {W_p, F} − 2 η F
    """
    c, t, a, e = (_m(v, F) for v in (1.0 + sigma2, tau, alpha_p, eta))
    anti = lambda A, B: A @ B + B @ A  # noqa: E731
    dWp = -0.5 * a * c * anti(Wp, F) + a * t * F - e * Wp
    dF = -c * anti(Wp @ Wp, F) + t * anti(Wp, F) - 2 * e * F
    return dWp, dF


def alignment_K(F: Tensor, Wp: Tensor, *, sigma2: Scalar, tau: Scalar = 1.0, alpha_p: Scalar = 1.0,
                eta: Scalar = 0.0) -> Tensor:
    """Theorem 3 of [0]: ``K = c[(α_p/2) F + W_p² − (τ/c) W_p] + (3/2) η I``; ``d[F,W_p]/dt = −([F,W_p] K + K [F,W_p])``."""
    c, a, t, e = (_m(v, F) for v in (1.0 + sigma2, alpha_p, tau, eta))
    return c * (0.5 * a * F + Wp @ Wp) - t * Wp + 1.5 * e * _eye(F.shape[-1], F)


def mode_field(p: Tensor, s: Tensor, tau: Tensor, *, sigma2: Scalar, eta: Scalar = 0.0, alpha_p: Scalar = 1.0,
               beta: Scalar | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Eqns 11-13 of [0], per eigen-mode ``j`` (tensors (..., k); ``c = 1 + σ²``)::

        dp/dt = α_p s (τ − c p) − η p,   ds/dt = 2 p s (τ − c p) − 2 η s,
        dτ/dt = β (1 − τ) − τ [p (τ − c p) − η]      (Eqn 13 divided by s; ``beta=None``: τ fixed)
    """
    c = _v(1.0 + sigma2, p)
    a, e = _v(alpha_p, p), _v(eta, p)
    g = tau - c * p
    dp = a * s * g - e * p
    ds = 2 * p * s * g - 2 * e * s
    dtau = torch.zeros_like(tau) if beta is None else _v(beta, p) * (1 - tau) - tau * (p * g - e)
    return dp, ds, dtau


def directset_mode_field(s: Tensor, *, sigma2: Scalar, eta: Scalar, alpha: Scalar = 0.5, eps: Scalar = 0.0,
                         tau: Scalar = 1.0) -> Tensor:
    """DirectSet(α) per mode ([1]; [0] Eqn 12 with ``p = u(s) = s^α + ε``): ``ds/dt = 2 s [u (τ − c u) − η]``."""
    c = _v(1.0 + sigma2, s)
    u = s.clamp_min(0.0).pow(_v(alpha, s)) + _v(eps, s)
    return 2 * s * (u * (_v(tau, s) - c * u) - _v(eta, s))


def pack(state: LinearState) -> Tensor:
    """Flatten ``(W, W_p, W_a)`` into one vector per case: (..., 2 n2 n1 + n2²) (row-major per matrix)."""
    return torch.cat([m.flatten(-2) for m in state], dim=-1)


def unpack(z: Tensor, n1: int, n2: int) -> LinearState:
    """Inverse of :func:`pack`."""
    k = n2 * n1
    if z.shape[-1] != 2 * k + n2 * n2:
        raise InvalidArgument(f"z has last dimension {z.shape[-1]}, expected 2*n2*n1 + n2² = {2 * k + n2 * n2} "
                              f"for n1={n1}, n2={n2}")
    b = z.shape[:-1]
    return LinearState(z[..., :k].reshape(*b, n2, n1), z[..., k:k + n2 * n2].reshape(*b, n2, n2),
                       z[..., k + n2 * n2:].reshape(*b, n2, n1))


def flat_field(z: Tensor, X: Tensor, Xp: Tensor, **kw) -> Tensor:
    """:func:`byol_field` on packed states (for Jacobians:
    ``torch.func.jacrev(functools.partial(flat_field, X=X, Xp=Xp, eta=0.1))(z)`` for one unbatched case)."""
    n1 = X.shape[-1]
    n2 = int(round((-2 * n1 + ((2 * n1) ** 2 + 4 * z.shape[-1]) ** 0.5) / 2))
    return pack(byol_field(unpack(z, n1, n2), X, Xp, **kw))
