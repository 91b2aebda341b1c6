"""Closed forms of Terver et al. 2025 on the moments model (:mod:`ssl_props.dynamics.moments_model`).

* :func:`equilibrium_predictor`: Prop. 4.5's predictor at fixed encoder, ``B = A[yxᵀ]Aᵀ(A[xxᵀ]Aᵀ + λI)⁻¹``;
* :func:`prop45_residual`: Prop. 4.5's equation for ``S = AᵀA`` at a full-rank SG equilibrium;
* :func:`sphere_radii`: Prop. 4.11's radii of the two spheres of equilibria when m = 1.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ssl_props.dynamics.fields import _m, _t  # the simulator's per-case scalar broadcast and transpose
from ssl_props.dynamics.moments_model import Scalar, ViewMoments

__all__ = ["equilibrium_predictor", "prop45_residual", "sphere_radii"]


def equilibrium_predictor(A: Tensor, mom: ViewMoments, lam: Scalar) -> Tensor:
    """Prop. 4.5: ``B = A [yxᵀ] Aᵀ W⁻¹`` with ``W = A [xxᵀ] Aᵀ + λ I`` (the zero of ``dB/dt`` at fixed A)."""
    n = A.shape[-2]
    W = A @ mom.xx @ _t(A) + _m(lam, A) * torch.eye(n, dtype=A.dtype, device=A.device)
    return _t(torch.linalg.solve(_t(W), _t(A @ mom.yx @ _t(A))))


def prop45_residual(S: Tensor, mom: ViewMoments, lam: Scalar) -> Tensor:
    """Prop. 4.5: ``([xxᵀ]S + λI)(S[xxᵀ] + λI) − [xyᵀ] S [yxᵀ]`` (..., m, m); zero at full-rank SG equilibria."""
    m = S.shape[-1]
    L = _m(lam, S) * torch.eye(m, dtype=S.dtype, device=S.device)
    return (mom.xx @ S + L) @ (S @ mom.xx + L) - _t(mom.yx) @ S @ mom.yx


def sphere_radii(rho: Tensor, tau: Tensor, lam: Tensor) -> tuple[Tensor, Tensor]:
    """Prop. 4.11 (m = 1): radii ``r₁,₂ = (|τ| ∓ √Δ)/(2ρ)``, ``Δ = τ² − 4ρλ`` (NaN where Δ < 0)."""
    sq = (tau.square() - 4 * rho * lam).sqrt()
    return (tau.abs() - sq) / (2 * rho), (tau.abs() + sq) / (2 * rho)
