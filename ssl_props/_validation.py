"""Input validation shared by the library's public functions.

Every public entry point checks what the caller passed and raises :class:`InvalidArgument`
(a ``ValueError``) whose message names the argument, what it held and what to pass instead.
Internal invariants use ``assert``; user input never does.
"""
from __future__ import annotations

import torch

from ssl_props.errors import InvalidArgument

__all__ = ["InvalidArgument", "check_embeddings", "check_pair", "check_positive", "check_interval", "inside_vmap"]


def inside_vmap() -> bool:
    """Whether a ``torch.func.vmap`` transform is active (its tensors have no single value: a value-dependent check
    such as ``bool(isfinite(z).all())`` would make vmap refuse the loss, so those checks are skipped there; shape,
    dtype and device checks, which vmap sees per sample, still run)."""
    try:
        from torch._C._functorch import TransformType
        from torch._functorch.pyfunctorch import retrieve_all_functorch_interpreters
    except ImportError:  # pragma: no cover - a torch without functorch has no vmap either
        return False
    return any(i.key() == TransformType.Vmap for i in retrieve_all_functorch_interpreters())


def describe(t: object) -> str:
    """Short description of a tensor for messages: ``Tensor[shape=(8, 4), dtype=float64]``."""
    if isinstance(t, torch.Tensor):
        return f"Tensor[shape={tuple(t.shape)}, dtype={str(t.dtype).replace('torch.', '')}, device={t.device.type}]"
    return f"{type(t).__name__}({t!r})"


def check_embeddings(z: object, name: str, *, min_rows: int = 1, batched: bool = False) -> torch.Tensor:
    """Check that ``z`` is a finite floating tensor of shape ``(N, D)`` (or ``(..., N, D)`` when batched)."""
    if not isinstance(z, torch.Tensor):
        raise InvalidArgument(f"{name} must be a torch.Tensor of shape (batch, dim), got {type(z).__name__}")
    if batched:
        if z.ndim < 2:
            raise InvalidArgument(f"{name} must have shape (..., batch, dim), got {describe(z)}")
    elif z.ndim != 2:
        raise InvalidArgument(
            f"{name} must be a 2-d tensor of shape (batch, dim), got {z.ndim}-d {describe(z)}"
            + (" (flatten the extra axes first)" if z.ndim > 2 else "")
        )
    if not z.is_floating_point():
        raise InvalidArgument(f"{name} must have a floating dtype (float32/float64), got {describe(z)}; call .double()")
    if z.shape[-2] < min_rows:
        raise InvalidArgument(f"{name} needs a batch of at least {min_rows} rows, got {describe(z)}")
    if z.shape[-1] < 1:
        raise InvalidArgument(f"{name} needs at least one embedding dimension, got {describe(z)}")
    if not inside_vmap() and not bool(torch.isfinite(z).all()):
        bad = (~torch.isfinite(z)).nonzero()[0].tolist()
        raise InvalidArgument(f"{name} contains NaN or inf (first at index {tuple(bad)}) in {describe(z)}")
    return z


def check_pair(z1: object, z2: object, names: tuple[str, str] = ("z1", "z2"), *, min_rows: int = 1,
               batched: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Check two views: each valid embeddings, with equal shapes, dtypes and devices."""
    a = check_embeddings(z1, names[0], min_rows=min_rows, batched=batched)
    b = check_embeddings(z2, names[1], min_rows=min_rows, batched=batched)
    if a.shape != b.shape:
        raise InvalidArgument(f"{names[0]} and {names[1]} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.dtype != b.dtype:
        raise InvalidArgument(f"{names[0]} and {names[1]} must have the same dtype, got {a.dtype} and {b.dtype}")
    if a.device != b.device:
        raise InvalidArgument(f"{names[0]} and {names[1]} must be on the same device, got {a.device} and {b.device}")
    return a, b


def check_positive(value: object, name: str) -> float:
    """Check that ``value`` is a real number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgument(f"{name} must be a positive number, got {value!r}")
    if not value > 0 or value != value or value == float("inf"):
        raise InvalidArgument(f"{name} must be a finite number > 0, got {name}={value!r}")
    return float(value)


def check_interval(lo: int, hi: int, lo_name: str, hi_name: str) -> None:
    """Check ``lo <= hi`` for a pair of bounds ("Cannot have max_dim=2 < min_dim=4")."""
    if hi < lo:
        raise InvalidArgument(f"Cannot have {hi_name}={hi} < {lo_name}={lo}")
