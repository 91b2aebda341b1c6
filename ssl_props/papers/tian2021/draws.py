"""What the Tian et al. (2021) checks share: seeded draws of batched hyperparameters, and small helpers."""
from __future__ import annotations

import torch

from ssl_props.device import resolve_device
from ssl_props.properties import PropertyViolation

F64 = torch.float64


def uniform(g: torch.Generator, B: int, lo: float, hi: float) -> torch.Tensor:
    """``B`` draws uniform on ``[lo, hi)`` from ``g``, on the chosen device."""
    return (lo + (hi - lo) * torch.rand(B, generator=g, dtype=F64)).to(resolve_device())


def fro(a: torch.Tensor) -> torch.Tensor:
    """Frobenius norm over the last two axes."""
    return a.flatten(-2).norm(dim=-1)


def require(cond: bool, what: str) -> None:
    """Raise :class:`PropertyViolation` with ``what`` unless ``cond``."""
    if not cond:
        raise PropertyViolation(what)
