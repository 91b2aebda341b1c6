r"""Minima of losses with kinks (hinges such as VICReg's ``relu(1 − std)``), for :mod:`ssl_props.profile.optimum`.

At the minimum of a hinge loss the hinge typically sits exactly on its kink (every coordinate std of
VICReg equals 1), where the gradient jumps: L-BFGS stalls there and the Hessian certificate cannot apply.

* :class:`Smoothing` (a ``TorchFunctionMode``) replaces the kinks a loss calls (``relu``, ``clamp``,
  ``clamp_min``/``clamp_max``, ``maximum``/``minimum``, ``abs``, ``hardtanh``; torch, ``F.`` and tensor-method
  forms) by smooth versions of width ``w``: ``relu_w(x) = w·softplus(x/w)`` (``0 ≤ relu_w − relu ≤ w·log 2``),
  ``clamp_min(x, m) = m + relu_w(x − m)``, ``|x|_w = √(x² + w²)``. With ``width=None`` it only counts them.
* :func:`continuation` minimises the smoothed loss for ``w = 10⁻¹, 10⁻³, 10⁻⁵, 10⁻⁷`` (each stage from the previous
  solution, all starts in one batched L-BFGS call), (Nesterov 2005's smoothing, used as a homotopy).
* The result is certified on the smoothed loss of the last width by the second-order certificate of
  :mod:`.certify` (the smoothed gradient is a convex combination of the pieces' gradients, which tends to a
  Clarke subgradient as ``w → 0``: gradient consistency, Chen, Math. Program. 134, 2012); the real loss there
  is within ``f_w − f`` of the smoothed one.
* :func:`gradient_sampling` (the fallback, for kinks no intercepted operation makes) certifies a point the
  way Burke, Lewis & Overton (SIAM J. Optim. 15, 2005)
  do: the min-norm element of the convex hull of gradients sampled in the ball of radius ``ε`` (a feasible
  convex combination: its norm ``ρ`` is an upper bound on the distance from 0 to that hull) says the point
  is ``(ε, ρ)``-stationary in Clarke's sense; the sampled values also show whether any point of the ball
  is lower. This is a first-order certificate: it bounds no distance to the solution set by itself.
"""
from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from ssl_props import tolerances as tol
from ssl_props.spectral import lbfgs

__all__ = ["Smoothing", "smoothed", "suspended_smoothing", "kinks", "continuation", "gradient_sampling", "certify_nonsmooth", "WIDTHS"]

#: continuation widths: the hinge arguments of SSL losses are O(1) (1 − std, margins)
WIDTHS = (1e-1, 1e-3, 1e-5, 1e-7)

_RELU = {torch.relu, F.relu, torch.Tensor.relu, torch.nn.functional.relu}
_CLAMP = {torch.clamp, torch.clip, torch.Tensor.clamp, torch.Tensor.clip}
_CLAMP_MIN = {torch.clamp_min, torch.Tensor.clamp_min}
_CLAMP_MAX = {torch.clamp_max, torch.Tensor.clamp_max}
_MAXIMUM = {torch.maximum, torch.Tensor.maximum, torch.fmax}
_MINIMUM = {torch.minimum, torch.Tensor.minimum, torch.fmin}
_ABS = {torch.abs, torch.Tensor.abs, torch.Tensor.__abs__, torch.absolute}
_HARDTANH = {F.hardtanh}
_KIND = {f: kind for kind, fs in (("relu", _RELU), ("clamp", _CLAMP | _HARDTANH), ("clamp_min", _CLAMP_MIN),
                                   ("clamp_max", _CLAMP_MAX), ("maximum", _MAXIMUM), ("minimum", _MINIMUM), ("abs", _ABS))
         for f in fs}


_SUSPENDED = threading.local()


@contextmanager
def suspended_smoothing() -> Iterator[None]:
    """Run the real operations inside an active :class:`Smoothing` (e.g. a diagnosis taken from within a smoothed
    objective: its own ``abs`` must stay ``abs``)."""
    before = getattr(_SUSPENDED, "on", False)
    _SUSPENDED.on = True
    try:
        yield
    finally:
        _SUSPENDED.on = before


def _arg(args: tuple, kwargs: dict, i: int, name: str) -> Any:
    return args[i] if len(args) > i else kwargs.get(name)


class Smoothing(TorchFunctionMode):
    """Replace the kinks a loss calls by smooth versions of width ``width`` (``None``: count the ACTIVE ones only, an
    entry clipped by the operation or, for ``abs``, within ``√eps`` of 0: ``F.normalize``'s ``clamp_min(‖z‖, 1e-12)``
    is inactive and does not count)."""

    def __init__(self, width: float | None = None) -> None:
        super().__init__()
        self.width = width
        self.hits: dict[str, int] = {}

    def _relu(self, x: torch.Tensor) -> torch.Tensor:
        return self.width * F.softplus(x / self.width)

    def __torch_function__(self, func: Callable, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kind = _KIND.get(func)
        if kind is None or getattr(_SUSPENDED, "on", False):  # the fast path: every other operation of the loss
            return func(*args, **(kwargs or {}))
        kwargs = kwargs or {}
        if kwargs.get("out") is not None or kwargs.get("inplace") or not isinstance(args[0], torch.Tensor) \
                or not args[0].is_floating_point():
            return func(*args, **kwargs)
        if self.width is None:  # count the kinks that are active: some entry clipped (or at the kink, for abs)
            out = func(*args, **kwargs)
            x = args[0]
            active = bool((out != x).any()) if kind != "abs" else bool((x.abs() <= math.sqrt(tol.eps(x.dtype)) * x.abs().amax()).any())
            if active:
                self.hits[kind] = self.hits.get(kind, 0) + 1
            return out
        x = args[0]
        if kind == "relu":
            return self._relu(x)
        if kind == "abs":
            return torch.sqrt(x * x + self.width ** 2)
        if kind in ("maximum", "minimum"):
            y = _arg(args, kwargs, 1, "other")
            return y + self._relu(x - y) if kind == "maximum" else x - self._relu(x - y)
        if func in _HARDTANH:
            lo, hi = _arg(args, kwargs, 1, "min_val"), _arg(args, kwargs, 2, "max_val")
            lo, hi = -1.0 if lo is None else lo, 1.0 if hi is None else hi
        elif kind == "clamp":
            lo, hi = _arg(args, kwargs, 1, "min"), _arg(args, kwargs, 2, "max")
        elif kind == "clamp_min":
            lo, hi = _arg(args, kwargs, 1, "min"), None
        else:
            lo, hi = None, _arg(args, kwargs, 1, "max")
        out = x
        if lo is not None:
            out = lo + self._relu(out - lo)
        if hi is not None:
            out = hi - self._relu(hi - out)
        return out


def smoothed(obj: Callable[[torch.Tensor], torch.Tensor], width: float) -> Callable[[torch.Tensor], torch.Tensor]:
    def fun(z: torch.Tensor) -> torch.Tensor:
        with Smoothing(width):
            return obj(z)
    return fun


def kinks(obj: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor) -> dict[str, int]:
    """The active kinked operations the loss calls at ``z`` (``{"relu": calls, ...}``; see :class:`Smoothing`)."""
    mode = Smoothing(None)
    one = getattr(obj, "one", None)  # unbatched: the activity test is data-dependent (no vmap)
    with torch.no_grad(), mode:
        for zi in z[:4]:
            one(zi) if one is not None else obj(zi[None])
    return mode.hits


def continuation(obj: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor, *, widths: tuple[float, ...] = WIDTHS,
                 max_iter: int = 60, gtol: float = 1e-10) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
    """Minimise the smoothed loss for each width in turn from ``z (S, N, K)`` (batched). No polish on the real loss
    (it stalls on the kink and moves off it). Returns the points, per stage the move of each start (their decay
    shows convergence), and the gap ``f_w − f`` at the points (``f ≤ f_w``: the gap bounds how far the real
    loss at the smoothed minimiser can be above the real minimum, up to the smoothed problem's own error)."""
    moves = []
    for w in widths:  # a stage needs its minimiser to about its own width only: ‖∇f_w‖ ≤ 10⁻²·w
        zn, _, _ = lbfgs(smoothed(obj, w), z, gtol=max(gtol, 1e-2 * w), max_iter=max_iter)
        moves.append((zn - z).flatten(1).norm(dim=1))
        z = zn
    with torch.no_grad():
        gap = smoothed(obj, widths[-1])(z) - obj(z)  # f_w − f ≥ 0 at the smoothed minimiser
    return z, moves, gap.abs()


def _min_norm_in_hull(g: torch.Tensor) -> torch.Tensor:
    """``min_{λ ∈ Δ} ‖Σ λ_i g_i‖`` for ``g (P, m, d)``: Lawson-Hanson NNLS (SciPy) on ``[gᵀ; c·1ᵀ] λ ≈ [0; c]`` with
    ``c = 10³·max‖g_i‖`` (the simplex constraint as a heavy row), then ``λ/Σλ``: a feasible combination, so its
    norm is an upper bound on the true minimum (which is all a certificate needs)."""
    import numpy as np
    from scipy.optimize import nnls

    out = []
    for gi in g.detach().cpu().numpy():
        c = 1e3 * max(float(np.linalg.norm(gi, axis=1).max()), 1e-300)
        a = np.vstack([gi.T, c * np.ones((1, gi.shape[0]))])
        b = np.zeros(a.shape[0])
        b[-1] = c
        lam, _ = nnls(a, b, maxiter=50 * a.shape[1])
        lam = lam / lam.sum() if lam.sum() > 0 else np.full_like(lam, 1.0 / len(lam))
        out.append(float(np.linalg.norm(lam @ gi)))
    return torch.tensor(out, dtype=g.dtype, device=g.device)


def gradient_sampling(obj: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor, radius: torch.Tensor, *,
                      samples: int | None = None, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``(ρ, lowest value in the ball)`` per point of ``z (P, N, K)`` with ball radii ``radius (P,)``: ``ρ`` bounds
    the min-norm element of the convex hull of ``∇f`` at the point and at ``samples`` (default ``2NK + 1``,
    BLO's ``m > d``) uniform points of its ball. One batched value-and-gradient call."""
    p, n, k = z.shape
    m = samples or 2 * n * k + 1
    gen = torch.Generator().manual_seed(seed + 53)
    d = torch.randn(p, m, n * k, generator=gen, dtype=torch.float64).to(z)
    r = torch.rand(p, m, 1, generator=gen, dtype=torch.float64).to(z) ** (1.0 / (n * k))
    d = d / d.norm(dim=-1, keepdim=True) * r * radius[:, None, None]
    pts = torch.cat([z[:, None], z[:, None] + d.reshape(p, m, n, k)], 1).reshape(-1, n, k)
    with torch.enable_grad():
        x = pts.detach().requires_grad_(True)
        f = obj(x)
        (g,) = torch.autograd.grad(f.sum(), x)
    rho = _min_norm_in_hull(g.reshape(p, m + 1, n * k))
    return rho, f.detach().reshape(p, m + 1)[:, 1:].amin(1)


def certify_nonsmooth(obj: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor, f: torch.Tensor, rounding: torch.Tensor,
                      last_move: torch.Tensor, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[str]]:
    """``(certified, ρ at the smallest radius, δ estimate, certificate lines)`` for the points ``z (P, N, K)``.

    Radii ``ε = 10⁻², 10⁻³, 10⁻⁴`` × ``max(‖Z‖, 1)`` (the continuation's last width, 10⁻⁷, and the polish that
    stalls on the kink leave a point slightly off its kinks: much smaller balls would see one smooth piece). Near a Clarke-stationary point at distance ``d``,
    ``ρ(ε) ≈ L·max(ε, d)`` (``L = max ρ(ε)/ε`` over the two larger balls), so ``d ≈ ρ(ε_min)/L``; a non-stationary
    point keeps ``ρ → dist(0, ∂f) > 0``. Certified when ``d ≤ SAFETY·max(ε_min, last continuation step)`` and no
    sampled point of any ball is lower than ``f − rounding``. ``δ ≈ SAFETY·max(ε_min, last step, d)``: an
    estimate from the steps' geometric decay, not a bound."""
    p = z.shape[0]
    scale = z.flatten(1).norm(dim=1).clamp_min(1.0)
    rhos, lows, eps_list = [], [], [1e-2, 1e-3, 1e-4]
    for j, e in enumerate(eps_list):
        rho, low = gradient_sampling(obj, z, e * scale, seed=seed + j)
        rhos.append(rho)
        lows.append(low)
    rho = torch.stack(rhos, 1)  # (P, 3)
    lip = torch.maximum(rho[:, 0] / eps_list[0], rho[:, 1] / eps_list[1]) / scale  # ρ ≈ L·max(ε, d): L from the larger balls
    d_est = rho[:, -1] / lip.clamp_min(torch.finfo(z.dtype).tiny)  # distance to a Clarke-stationary point
    floor = torch.clamp_min(eps_list[-1] * scale, last_move)
    linear = d_est <= tol.SAFETY * floor
    no_lower = (torch.stack(lows, 1) >= (f - rounding)[:, None]).all(1)
    delta = tol.SAFETY * torch.maximum(floor, d_est)
    lines = []
    for i in range(p):
        lines.append(f"Clarke ε-stationary (gradient sampling, Burke–Lewis–Overton 2005): min-norm element of the hull of "
                     f"{2 * z[i].numel() + 2} gradients ρ = {float(rho[i, 0]):.2g}, {float(rho[i, 1]):.2g}, {float(rho[i, 2]):.2g} in "
                     f"balls of radius ε = 1e-2, 1e-3, 1e-4 × {float(scale[i]):.3g} (distance to a stationary point ≈ {float(d_est[i]):.2g}{'' if bool(linear[i]) else ': too far'}), "
                     f"{'no' if bool(no_lower[i]) else 'a'} sampled point lower; δ ≈ {float(delta[i]):.2g} (8 × the last "
                     "continuation step: an estimate, not a bound)")
    return linear & no_lower, rho[:, -1], delta, lines

