r"""Special points of a loss's landscape on a graph: the collapsed configurations and, at ``K = 1``, the sign patterns.

* Collapse (Jing et al. 2022, arXiv:2110.09348; Tian et al. 2021, arXiv:2102.06810): complete collapse is
  ``Z = 1 rᵀ`` (every row equal). The loss is evaluated at four random rows ``r`` repeated and at ``Z = 0``
  (kept only where the loss is finite there); when the smallest of these values is within the loss
  tolerance of the minimum found, complete collapse is a global minimiser: the loss alone admits collapse.
* ``K = 1`` and a loss invariant to positive row scalings (it normalises its rows): ``f(Z)`` depends on the
  signs of the rows only and its gradient is identically zero, so a gradient method cannot move; the
  minimum is found exactly by enumerating the ``2^N`` sign patterns (``2^(N−1)`` when ``f(−Z) = f(Z)``),
  batched, for ``N ≤ MAX_ENUMERATION_NODES``.
"""
from __future__ import annotations

import math

import torch

from ssl_props.profile.graph_losses import GraphObjective

__all__ = ["collapsed_losses", "collapsed_point", "segment_at_optimum", "sign_patterns", "MAX_ENUMERATION_NODES"]

#: 2^16 patterns of N ≤ 16 rows: one batched call of ~1 M entries
MAX_ENUMERATION_NODES = 16


def collapsed_losses(obj: GraphObjective, n: int, k: int, like: torch.Tensor, seed: int = 0) -> dict[str, float | None]:
    """``{"rows_equal": min over 4 random repeated rows, "zero": f(0)}`` (``None`` where not finite or the loss
    raises there)."""
    out: dict[str, float | None] = {}
    for name in ("rows_equal", "zero"):
        z = collapsed_point(name, n, k, like, seed, batch=4 if name == "rows_equal" else 1)
        try:
            with torch.no_grad():
                f = obj(z.contiguous())
        except Exception:  # noqa: BLE001 - a loss undefined at collapse (e.g. validation refusing zero variance)
            out[name] = None
            continue
        fin = f[torch.isfinite(f)]
        out[name] = float(fin.min()) if len(fin) else None
    return out


def collapsed_point(name: str, n: int, k: int, like: torch.Tensor, seed: int = 0, batch: int | None = None) -> torch.Tensor:
    """The collapsed configurations: ``"rows_equal"`` (``batch`` random rows ``r`` repeated, ``(batch, N, K)``; the
    first alone when ``batch`` is None) or ``"zero"``."""
    if name == "zero":
        return like.new_zeros(*(() if batch is None else (batch,)), n, k)
    r = torch.randn(4, 1, k, generator=torch.Generator().manual_seed(seed + 41), dtype=torch.float64).to(like)
    z = r.expand(4, n, k).contiguous()
    return z[0] if batch is None else z[:batch]


def sign_patterns(obj: GraphObjective, n: int, like: torch.Tensor, rounding: float,
                  chunk: int = 4096) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """Every sign pattern ``(P, N, 1)`` of the rows with its loss ``(P,)``, and whether ``f(−Z) = f(Z)`` was
    used to fix the first row's sign (measured at two random patterns)."""
    ints = torch.arange(2 ** n, device=like.device)
    bits = (ints[:, None] >> torch.arange(n, device=like.device)) & 1
    z = (1 - 2 * bits).to(like)[..., None]  # (2^N, N, 1)
    probe = z[torch.tensor([1, 2 ** n - 2 if n > 1 else 0], device=like.device)]
    with torch.no_grad():
        even = bool(((obj(probe) - obj(-probe)).abs() <= rounding).all())
    if even:
        z = z[bits[:, 0] == 0]
    vals = []
    with torch.no_grad():
        for i in range(0, len(z), chunk):
            vals.append(obj(z[i:i + chunk]))
    return z, torch.cat(vals), even


def enumeration_size(n: int) -> int:
    """Number of sign patterns :func:`sign_patterns` evaluates at most."""
    return int(math.pow(2, n))


def segment_at_optimum(obj: GraphObjective, points: list[torch.Tensor], f_star: float, ftol: float,
                        sym: tuple[str, ...]) -> bool:
    """Whether ``f`` stays within ``ftol`` of ``f⋆`` at ``t = 1/4, 1/2, 3/4`` of the segment from the first point to
    any other (rows normalised when the loss normalises them; each rotated onto the first by orthogonal Procrustes when ``Z → ZQ`` is a symmetry): a segment of
    minimisers, i.e. a continuum. One batched call."""
    if len(points) < 2:
        return False
    if "row_scale" in sym:  # the loss sees directions only: segments between unit rows
        points = [torch.nn.functional.normalize(p, dim=-1) for p in points]
    a = points[0]
    ends = []
    for b in points[1:]:
        if "rotation" in sym:
            u, _, vh = torch.linalg.svd(b.T @ a)
            b = b @ (u @ vh)
        ends.append(b)
    t = torch.tensor([0.25, 0.5, 0.75], dtype=a.dtype, device=a.device)[:, None, None, None]
    pts = ((1 - t) * a + t * torch.stack(ends)).reshape(-1, *a.shape)
    with torch.no_grad():
        fs = obj(pts).reshape(3, len(ends))
    return bool(((fs - f_star).abs() <= ftol).all(0).any())
