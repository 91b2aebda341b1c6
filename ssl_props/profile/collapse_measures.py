r"""Scale-free collapse of the linear encoder ``W`` after training: its normalised spectrum, effective rank and verdict.

Why scale-free: a loss built on cosines is invariant to ``W → cW``, so ``⟨∇L, W⟩ = 0`` and ‖W‖ only follows the
weight decay, whatever the target mode; the collapse a target mode causes is in the *shape* of ``W``. Measured:

* ``spectrum``: the singular values ``σ_i(W)/σ_1(W)`` (median over seeds, descending), of the mean of ``W/‖W‖_F``
  over the last window of the run (a Polyak average: the bounded chatter of GD across a kink or a stiff sample
  averages out; for a converging run it is the final direction);
* ``representation_spectrum``: the eigenvalues ``λ_i(W Σ Wᵀ)/λ_1`` of the representation covariance for the
  views' covariance ``Σ = x1ᵀx1/n = I + diag σ²`` (the module :mod:`~ssl_props.profile.dynamics`' exact sample);
* effective rank ``exp(−Σ_i p_i log p_i)``, ``p_i = σ_i/Σ_j σ_j`` (Roy & Vetterli 2007, "The effective rank: a
  measure of effective dimensionality"), of ``W`` (``effective_rank``) and of ``W Σ Wᵀ``'s eigenvalues;
* rank threshold (relative to ``σ_1``): ``thr = (Δ + ρ)/σ_1(Ŵ_T)``, with ``Ŵ = W/‖W‖_F``,
  ``Δ = SAFETY·‖Ŵ_T − Ŵ_{T−w}‖₂·r/(1 − r)`` the geometric tail bound on ``‖Ŵ_T − Ŵ_∞‖₂`` (contraction
  ``r = ‖Ŵ_T − Ŵ_{T−w}‖/‖Ŵ_{T−w} − Ŵ_{T−2w}‖`` between the last two windows, capped at 0.9) and ``ρ`` the rounding of
  the run; by Weyl, ``|σ_i(Ŵ_∞) − σ_i(Ŵ_T)| ≤ Δ``, so a direction with ``σ_i/σ_1 > thr`` is certified alive in the
  limit and one at or below it cannot be told from a dying one (a direction dying geometrically has its own
  remaining change, ≥ its amplitude, inside Δ). ``rank`` per seed = #{i: σ_i/σ_1 > thr}; the reported rank is
  the median over seeds (``ranks`` gives each);
* collapse: ``"complete"`` when ``W → 0`` (‖W_T‖ below the weight-decay-limited bound: nothing of the input is
  kept; rank 0), else ``"dimensional"`` when rank < d, else ``"none"``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ssl_props import tolerances as tol

__all__ = ["CollapseMeasures", "effective_rank", "measure_collapse", "spectrum_resolved"]


@dataclass(frozen=True)
class CollapseMeasures:
    """The scale-free collapse measurements of one target mode (see the module docstring)."""

    spectrum: list[float]  # median over seeds of σ_i(W)/σ_1(W), descending
    spectra: list[list[float]]  # per seed
    effective_rank: list[float]  # per seed, exp entropy of σ_i/Σσ (Roy & Vetterli 2007)
    representation_spectrum: list[float]  # median over seeds of λ_i(WΣWᵀ)/λ_1
    representation_effective_rank: list[float]  # per seed, of the eigenvalues of WΣWᵀ
    rank_threshold: float  # relative to σ_1: (Δ + ρ)/σ_1, max over seeds
    ranks: list[int]  # per seed: #{σ_i/σ_1 > rank_threshold of that seed}
    rank: int  # median over seeds (0 when ‖W‖ → 0)
    collapse: str  # "complete" | "dimensional" | "none"
    spectrum_converged: bool  # every seed: each direction counted is ≥ 2·thr, and thr < 1/SAFETY


def effective_rank(values: torch.Tensor) -> torch.Tensor:
    """``exp(−Σ p_i log p_i)`` with ``p_i = v_i/Σ_j v_j`` over the last axis (Roy & Vetterli 2007); 0 for all-zero rows."""
    total = values.sum(-1, keepdim=True)
    p = values / total.clamp_min(torch.finfo(values.dtype).tiny)
    h = -(p * p.clamp_min(torch.finfo(values.dtype).tiny).log()).sum(-1)
    return torch.where(total.squeeze(-1) > 0, h.exp(), torch.zeros_like(h))


def _unit(w: torch.Tensor) -> torch.Tensor:
    return w / w.flatten(-2).norm(dim=-1)[..., None, None].clamp_min(torch.finfo(w.dtype).tiny)


def _relative_spectrum(snaps: list[torch.Tensor], steps: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(σ_i/σ_1 at T, threshold per seed, resolved per seed)`` from the three snapshots (module docstring)."""
    sv2, sv1, sv = (torch.linalg.svdvals(_unit(s)) for s in snaps)  # (seeds, d) each, descending
    s1 = sv[:, :1].clamp_min(torch.finfo(sv.dtype).tiny)
    rel = sv / s1
    e1, e0 = sv - sv1, sv1 - sv2  # signed changes per direction over the last two windows
    # per direction: geometric contraction r = e1/e0 when it moves monotonically and slows down; a direction that
    # oscillates or does not slow down gets the cap 0.9 (its tail cannot be bounded better from three points)
    contracting = (e1 * e0 > 0) & (e1.abs() < e0.abs())
    r = torch.where(contracting, e1.abs() / e0.abs().clamp_min(tol.eps(sv.dtype)), torch.full_like(e1, 0.9)).clamp(max=0.9)
    tail = (e1.abs() * r / (1 - r)).amax(-1)
    rounding = tol.sum_of_products(sv.dtype, steps * sv.shape[-1], 1.0)  # the run's rounding, relative to ‖Ŵ‖_F = 1
    thr = (tol.SAFETY * tail + rounding) / s1.squeeze(-1)
    # resolved: every direction counted alive is at least twice the threshold (and the threshold below 1/SAFETY)
    alive_min = torch.where(rel > thr[:, None], rel, torch.ones_like(rel)).amin(-1)
    return rel, thr, (alive_min >= 2 * thr) & (thr < 1 / tol.SAFETY)


def spectrum_resolved(snaps: list[torch.Tensor], steps: int) -> bool:
    """Whether the rank decision of every seed is resolved by the snapshots (the stopping rule of the run)."""
    return bool(_relative_spectrum(snaps, steps)[2].all())


def measure_collapse(snaps: list[torch.Tensor], sigma_views: torch.Tensor, norm_collapsed: bool, steps: int) -> CollapseMeasures:
    """Measurements from ``snaps = [W_{T−2w}, W_{T−w}, W_T]`` (each ``(seeds, d, d)``), ``sigma_views`` the views'
    covariance (d × d) and ``norm_collapsed`` the ‖W‖ → 0 verdict of the unnormalised check."""
    u = _unit(snaps[-1])
    d = u.shape[-1]
    rel, thr_seed, resolved = _relative_spectrum(snaps, steps)
    ranks = (rel > thr_seed[:, None]).sum(-1).clamp_min(1)  # σ_1 > 0 whenever W ≠ 0
    if norm_collapsed:
        ranks = torch.zeros_like(ranks)
    sv = torch.linalg.svdvals(u)
    ev = torch.linalg.eigvalsh(u @ sigma_views @ u.mT).flip(-1).clamp_min(0)  # descending
    rep = ev / ev[:, :1].clamp_min(torch.finfo(u.dtype).tiny)
    rank = int(ranks.median())  # torch's median: the lower middle value for an even count
    collapse = "complete" if norm_collapsed or rank == 0 else "dimensional" if rank < d else "none"
    return CollapseMeasures(
        spectrum=[float(x) for x in rel.median(0).values], spectra=rel.tolist(),
        effective_rank=effective_rank(sv).tolist(), representation_spectrum=[float(x) for x in rep.median(0).values],
        representation_effective_rank=effective_rank(ev).tolist(),
        rank_threshold=float(thr_seed.max()) if thr_seed.numel() else math.nan, ranks=[int(k) for k in ranks],
        rank=rank, collapse=collapse, spectrum_converged=bool(resolved.all()))
