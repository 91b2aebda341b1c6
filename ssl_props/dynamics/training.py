r"""Toy minibatch training beyond the ODE: a linear encoder trained by SGD on synthetic Gaussian data with
per-feature augmentation noise, predictor set by DirectCopy (Wang et al. 2021) or DirectPred (Tian et al.
2021, Eqn 18 with ε = 0) from an EMA of the online features' correlation.

Data: ``x ~ N(0, I_d)``, two views ``x_i = x + ξ_i``, ``ξ_i ~ N(0, diag(σ²))`` independent (so X = I,
X' = diag σ²). Loss ``½ mean_b ||W_p W x1 − sg(W x2)||²`` (target = W, SimSiam; ``stop_gradient=False``
lets the gradient through), SGD with learning rate ``lr`` and weight decay η:
``W ← W − lr (∇_W J + η W)``; ``F̂ ← ρ F̂ + (1 − ρ) mean_b f fᵀ``, ``f = W x1`` (the *augmented*
correlation ≈ W(I + X')Wᵀ, so per aligned mode ``u = (c s)^α``: the same threshold σ² < 1/(4η) − 1,
limit ``s* = u₊^{1/α} / c``).
"""
from __future__ import annotations

import torch

from ssl_props._validation import InvalidArgument, check_positive
from ssl_props.device import resolve_device

__all__ = ["train_linear_ssl"]


def train_linear_ssl(sigma2: torch.Tensor, eta: float, *, steps: int = 2000, lr: float = 0.05, batch: int = 256,
                     rho: float = 0.9, alpha: float = 1.0, seed: int = 0, init_scale: float = 0.5, stop_gradient: bool = True,
                     predictor: str = "directset", dtype: torch.dtype = torch.float64, device=None) -> torch.Tensor:
    """Train ``W`` (d × d, init ``init_scale · (I + 0.1 N/√d)``) by minibatch SGD and return it.

    ``init_scale`` 0.5 keeps ``lr · c u²`` (the fastest rate, of the noisiest feature) below 1, and every
    kept mode above its unstable point u₋.

    ``predictor``: ``"directset"`` (``W_p = F̂^α`` via eigh; α = 1 is DirectCopy, computed without
    eigendecomposition) or ``"identity"`` (no predictor).
    """
    if not isinstance(sigma2, torch.Tensor) or sigma2.ndim != 1 or bool((sigma2 < 0).any()):
        raise InvalidArgument("sigma2 must be a 1-d tensor of non-negative augmentation variances")
    check_positive(lr, "lr")
    if eta < 0:
        raise InvalidArgument(f"eta must be >= 0, got eta={eta!r}")
    if predictor not in ("directset", "identity"):
        raise InvalidArgument(f"predictor={predictor!r}: use 'directset' or 'identity'")
    if not (isinstance(steps, int) and steps >= 1 and isinstance(batch, int) and batch >= 1):
        raise InvalidArgument(f"steps and batch must be integers >= 1, got steps={steps!r}, batch={batch!r}")
    dev = resolve_device(device)
    g = torch.Generator().manual_seed(int(seed))
    d = sigma2.shape[0]
    sd = sigma2.to(dtype).sqrt()
    W = (init_scale * (torch.eye(d, dtype=dtype) + 0.1 * torch.randn(d, d, generator=g, dtype=dtype) / d**0.5)).to(dev)
    F = None
    eye = torch.eye(d, dtype=dtype, device=dev)
    for _ in range(steps):
        x = torch.randn(batch, d, generator=g, dtype=dtype)
        x1 = (x + sd * torch.randn(batch, d, generator=g, dtype=dtype)).to(dev)
        x2 = (x + sd * torch.randn(batch, d, generator=g, dtype=dtype)).to(dev)
        f1 = x1 @ W.T  # (batch, d) online features
        C = f1.T @ f1 / batch
        F = C if F is None else rho * F + (1 - rho) * C
        if predictor == "identity":
            Wp = eye
        elif alpha == 1.0:
            Wp = F  # DirectCopy: no eigendecomposition
        else:
            s, U = torch.linalg.eigh(0.5 * (F + F.T))
            Wp = (U * s.clamp_min(0).pow(alpha)) @ U.T
        r = f1 @ Wp.T - x2 @ W.T  # residual W_p W x1 − W x2
        grad = Wp.T @ r.T @ x1 / batch  # ∂J/∂W through the online branch (W_p is set, not trained)
        if not stop_gradient:
            grad = grad - r.T @ x2 / batch  # gradient through the target branch W x2
        W = W - lr * (grad + eta * W)
    return W
