"""An independent simulation of the linear predictor model (plain torch, no ``ssl_props.profile`` code), for the
tests of the profile's dynamics.

Model (Tian, Chen & Ganguli 2021, arXiv:2102.06810): ``p = W_p W x1``, target ``z = W_t x2`` with ``W_t = sg(W)``,
``W`` (with its gradient) or an EMA of ``W``; views ``x_k = x + ξ_k`` with exact sample moments ``xᵀx/n = I``,
``ξᵀξ/n = diag σ²``, cross moments 0 (columns of one orthonormal frame, built here from the same recipe:
``QR(randn(n, 3d))``, generator seed 0; inits ``I + 0.1·N/√d``, generator seed 1, W then W_p).

Integrators, chosen for the loss and written independently of the profile's adaptive step:

* ``"plain"``: GD with a fixed step and weight decay η (the unnormalised L2 loss, where the step is in the
  stable range by construction: ``lr·λ_max ≈ 0.05·20 = 1``);
* ``"sphere"``: for a scale-invariant loss (a cosine), GD on the direction with a step ``lr·‖W‖²`` per parameter
  group and no weight decay: for such a loss ``⟨∇L, W⟩ = 0`` and ``∇L(cW) = ∇L(W)/c``, so weight decay only
  rescales the clock of the direction's flow ``dŴ/dt = −‖W‖⁻² ∇L(Ŵ)``; ``lr‖W‖²`` keeps its angular speed fixed.
"""
from __future__ import annotations

import math
from typing import Callable

import torch


def exact_views(sigma2: tuple[float, ...] = (0.1, 0.5, 3.0, 5.0), n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    d = len(sigma2)
    q = torch.linalg.qr(torch.randn(n, 3 * d, generator=torch.Generator().manual_seed(0), dtype=torch.float64))[0]
    q = q * math.sqrt(n)
    s = torch.tensor(sigma2, dtype=torch.float64).sqrt()
    return q[:, :d] + q[:, d:2 * d] * s, q[:, :d] + q[:, 2 * d:] * s


def inits(seeds: int, d: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    eye = torch.eye(d, dtype=torch.float64)
    w = eye + 0.1 * torch.randn(seeds, d, d, generator=g, dtype=torch.float64) / math.sqrt(d)
    wp = eye + 0.1 * torch.randn(seeds, d, d, generator=g, dtype=torch.float64) / math.sqrt(d)
    return w, wp


def simulate(loss: Callable, mode: str, *, seeds: int = 4, steps: int = 1000, lr: float = 0.02, eta: float = 0.1,
             integrator: str = "sphere", beta: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """``(W_T, W_0)`` after ``steps`` of GD; ``loss(P, Z)`` takes ``(seeds, n, d)`` batches (a per-row loss
    averaged over rows and seeds: the seeds are independent, so the sum over seeds is their joint objective)."""
    x1, x2 = exact_views()
    w0, wp = inits(seeds)
    w = w0.clone().requires_grad_(True)
    wp = wp.clone().requires_grad_(True)
    wt = w0.clone()
    for _ in range(steps):
        p = x1 @ w.mT @ wp.mT
        z = x2 @ (wt if mode == "ema" else w.detach() if mode == "stop_gradient" else w).mT
        gw, gp = torch.autograd.grad(loss(p, z) * seeds, (w, wp))
        with torch.no_grad():
            if integrator == "sphere":
                a = lr * w.square().sum((1, 2), keepdim=True)
                b = lr * wp.square().sum((1, 2), keepdim=True)
                w -= a * gw
                wp -= b * gp
                wt += a * beta * (w - wt)
            else:
                w -= lr * (gw + eta * w)
                wp -= lr * (gp + eta * wp)
                wt += lr * beta * (w - wt)
    return w.detach(), w0


def relative_spectrum(w: torch.Tensor) -> torch.Tensor:
    sv = torch.linalg.svdvals(w)
    return sv / sv[:, :1]


def effective_rank(w: torch.Tensor) -> torch.Tensor:
    """exp of the entropy of the normalised singular values (Roy & Vetterli 2007), per seed."""
    sv = torch.linalg.svdvals(w)
    p = sv / sv.sum(-1, keepdim=True)
    return torch.exp(-(p * p.clamp_min(1e-300).log()).sum(-1))
