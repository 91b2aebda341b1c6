r"""Step sizes for the explicit Euler (GD) scheme of the dynamics, from the measured curvature of the update field.

GD ``θ ← θ − lr F(θ)`` is stable near a point where the field's Jacobian ``J = ∂F/∂θ`` has eigenvalues ``μ``
only when ``|1 − lr μ| < 1``, i.e. ``lr·λ_max < 2`` for a symmetric ``J`` (a gradient field's Hessian, here the full
objective ``fn + η/2‖θ‖²`` in ``θ = (W, W_p)``). The profile takes ``lr = min(cfg.lr, c/λ̂)`` with ``c = 1.9``
(stable with a 5 % margin on λ̂; it keeps the tuned ``cfg.lr = 0.15`` of the unnormalised L2 loss, whose
``λ_max ≈ 2σ²_max + η = 10.1`` gives ``c/λ = 0.188``):

* at the start, ``λ̂ = ‖J v_k‖`` after ``k`` power iterations (``v ← Jv/‖Jv‖``, max over the last half of the
  iterates: a non-symmetric ``J`` — the stop-gradient field is not a gradient (Terver et al. 2025) — may have a
  complex dominant pair, around which the norms oscillate), batched over seeds; ``J v`` by the central difference
  ``[F(θ + hv) − F(θ − hv)]/(2h)``, ``h = ε^{1/3}(1 + ‖θ‖)`` (error ``O(h²)``, rounding ``O(ε/h)``);
* during the run, on a growing oscillation (``⟨F(θ_t), F(θ_{t−1})⟩ < 0`` and ``‖F(θ_t)‖ > ‖F(θ_{t−1})‖``: the
  signature of ``|1 − lr μ| > 1``; for a loss that is not scale-free, two steps in a row, since a 2-cycle across a
  kink alternates growth and shrinkage) the step is cut
  to ``c`` over the secant ``‖F(θ_t) − F(θ_{t−1})‖/‖θ_t − θ_{t−1}‖ ≤ ‖J‖`` measured along that step (an unstable
  direction grows until it dominates the step, where the secant measures its ``|μ|``), by at most half per
  step; no further once the step is SAFETY-fold below where the cuts began and ``‖ΔF‖`` did not shrink with it
  (at least half the last cut's): a jump of the field across a kink (e.g. a hinge, where the secant is unbounded and
  the chatter bounded; the spectrum is measured on window averages, where a bounded chatter averages out). A run
  with weight decay that has not reached one of its time constants ``1/η`` is reported as stalled, not converged.
  Without a cut the step grows
  back by ``GROWTH`` per step up to the start step (a scale-invariant loss has curvature ``∝ 1/‖W‖²``, which weight
  decay raises along the run, and a cosine's curvature ``∝ 1/‖p_i‖²`` peaks where a sample's output passes near 0:
  a cut for good would freeze the run there).
"""
from __future__ import annotations

from typing import Callable

import torch

__all__ = ["GROWTH", "OSCILLATION_STEPS", "STABILITY", "power_curvature", "secant_curvature"]

STABILITY = 1.9
OSCILLATION_STEPS = 1  # a growing oscillation over this many steps in a row cuts the step
GROWTH = 1.05  # recovery of a cut step per step without overshoot (back to the start step in ≈ 50 steps from 1/10)

Params = tuple[torch.Tensor, torch.Tensor]


def _norm(a: Params) -> torch.Tensor:
    return (a[0].flatten(1).square().sum(1) + a[1].flatten(1).square().sum(1)).sqrt()


def power_curvature(field: Callable[[torch.Tensor, torch.Tensor], Params], theta: Params, *, iterations: int = 12,
                    seed: int = 7) -> torch.Tensor:
    """``λ̂`` per seed (shape ``(seeds,)``) of the Jacobian of ``field(W, W_p) -> (F_W, F_Wp)`` at ``theta``."""
    w, wp = theta
    gen = torch.Generator().manual_seed(seed)
    v = tuple(torch.randn(x.shape, generator=gen, dtype=torch.float64).to(x) for x in (w, wp))
    h = torch.finfo(w.dtype).eps ** (1 / 3) * (1 + _norm(theta))[:, None, None]
    best = torch.zeros(w.shape[0], dtype=w.dtype, device=w.device)
    for k in range(iterations):
        nv = _norm(v).clamp_min(torch.finfo(w.dtype).tiny)[:, None, None]
        v = (v[0] / nv, v[1] / nv)
        fp = field(w + h * v[0], wp + h * v[1])
        fm = field(w - h * v[0], wp - h * v[1])
        v = ((fp[0] - fm[0]) / (2 * h), (fp[1] - fm[1]) / (2 * h))
        lam = _norm(v)
        if k >= iterations // 2:
            best = torch.maximum(best, torch.nan_to_num(lam, nan=torch.inf))
    return best


def secant_curvature(f_new: Params, f_old: Params, th_new: Params, th_old: Params,
                     target_moved: torch.Tensor | None = None) -> torch.Tensor:
    """``‖F(θ_t) − F(θ_{t−1})‖ / ‖θ_t − θ_{t−1}‖`` per seed (0 where θ did not move); ``target_moved`` (seeds, d, d):
    the EMA target's change over the step, part of the state the field depends on (else F would change with θ at
    rest and the secant would be unbounded)."""
    df = _norm((f_new[0] - f_old[0], f_new[1] - f_old[1]))
    dt = _norm((th_new[0] - th_old[0], th_new[1] - th_old[1]))
    if target_moved is not None:
        dt = (dt.square() + target_moved.flatten(1).square().sum(1)).sqrt()
    return torch.where(dt > 0, df / dt.clamp_min(torch.finfo(dt.dtype).tiny), torch.zeros_like(df))
