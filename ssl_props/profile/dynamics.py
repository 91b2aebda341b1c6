r"""A predictor loss in the linear model: full-batch gradient descent through the user's loss, many seeds at once.

Model (Tian, Chen & Ganguli 2021, arXiv:2102.06810, Lemma 1; Wang et al. 2021, arXiv:2110.04947):
encoder ``W`` (d × d), linear predictor ``W_p`` (d × d), target ``W_t``; per sample ``p = W_p W x1``,
``z = W_t x2``; the loss ``fn(P, Z)`` (rows = samples) and GD with weight decay η::

    W ← W − lr (∇_W fn + η W),   W_p ← W_p − lr (∇_{W_p} fn + η W_p)

Target modes: ``"stop_gradient"`` (``W_t = sg(W)``, SimSiam), ``"ema"`` (``W_t ← W_t + lr β (W − W_t)``,
no gradient, BYOL), ``"no_stop_gradient"`` (``W_t = W`` with its gradient, also through a ``detach()`` inside the
loss: :mod:`~ssl_props.profile.target_gradient`; Tian Thm 2 / Terver Lemma 4.3 predict collapse for the L2 loss).
Data: a FIXED sample ``x, ξ1, ξ2`` (n × d each) whose sample moments
are exactly ``x̄ᵀx̄/n = I``, ``ξᵀξ/n = diag σ²``, cross moments 0 (columns of one orthonormal frame), so
for the unnormalised L2 loss ``½ mean‖p − z‖²`` the sample loss IS the population loss and GD is the
Euler scheme of Lemma 1: every aligned mode obeys Eqn 16, ``dp/dt = p²(1 − c p) − η p``, ``c = 1 + σ²``,
with fixed points ``p± = [1 ± √(1 − 4ηc)]/(2c)``; a direction survives iff ``σ² < 1/(4η) − 1``.

Step size (:mod:`~ssl_props.profile.step_size`): ``lr = min(cfg.lr, 1.9/λ̂)`` per seed, ``λ̂`` the largest
curvature of the update field at the start (power iteration: ≈ 20 for the L2 loss, so its step is ≈ 0.09 and
the run takes ≈ 930 steps to keep the horizon t = cfg.lr·cfg.steps ≈ 82; ≈ 120-240 for VICReg, whose fixed
step 0.15 diverged), cut during the run on a growing oscillation. Length (:func:`~ssl_props.profile.gd_training.
train_seeds`): at least ``cfg.steps``, until the horizon is reached (or cannot be within ``cfg.max_steps``) and
the rank decision of every seed is resolved. A run whose state stops being finite is returned as diverged
(``diverged``, ``status``: "diverged at step t"); one whose step was cut so far that it reaches less than one
weight-decay time constant ``1/η`` is "not converged: stalled"; neither raises.

Scale-free losses: where ``|⟨∇fn, θ⟩| ≤ η‖θ‖²/SAFETY`` at the start (a cosine; a batch-normalised loss up to its
eps), ‖θ‖ follows the weight decay, not the loss, and in continuous time weight decay only rescales the clock of
the direction's flow ``dŴ/dt = −‖W‖⁻² ∇fn(Ŵ)``: the run integrates that flow without weight decay
(``scale_invariant``), where the step keeps its size instead of meeting a curvature ``∝ 1/‖W‖²`` that weight
decay would raise without bound.

Survival threshold (derived for that L2 model): survivors settle at ``p₊ ≥ 1/(2c)`` and ``c ≤ 1/(4η)``,
so ``p₊(j)/max_k p₊(k) ≥ 2η``; a dead mode decays like ``e^{−ηt}``: direction ``j`` (column ``j`` of
``W``, the basis of ``X'``) survives iff ``‖W e_j‖ ≥ η · max_k ‖W e_k‖``.
Convergence tolerance: geometric tail ``SAFETY · e₁ r/(1 − r)`` from the change ``e₁`` over the last
window and the contraction ``r = e₁/e₀`` between the last two windows (plus rounding).

Collapse, scale-free (:mod:`~ssl_props.profile.collapse_measures`): the spectrum of ``W/‖W‖``, its effective rank
(Roy & Vetterli 2007), the spectrum of ``W Σ Wᵀ``, the rank above a derived threshold and the verdict
complete / dimensional / none, measured on ``W/‖W‖`` averaged over each of the last windows; ``collapsed``
(‖W‖ → 0) is kept for Tian Thm 2 / Terver Lemma 4.3 and is False for a scale-free loss (its norm only follows the
weight decay, whatever the target mode) and where the run's weight-decay contraction is too short to tell.
The headline contrast of the modes: :func:`~ssl_props.profile.sg_verdict.stop_gradient_verdict`.
New fields of :class:`DynamicsResult`: ``spectrum, effective_rank, representation_spectrum,
representation_effective_rank, rank, ranks, collapse, rank_threshold, spectrum_converged, scale_invariant,
target_gradient, diverged, status, lr, curvature, horizon, steps, norm_bound``.
The seeds run in one ``torch.func.vmap`` of the loss (one backward); a loss vmap refuses runs seed by seed.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, NamedTuple

import torch

from ssl_props import tolerances as tol
from ssl_props.dynamics.data_models import threshold_sigma2
from ssl_props.errors import InvalidArgument
from ssl_props.profile.collapse_measures import measure_collapse
from ssl_props.profile.gd_training import (MODES, DynamicsConfig, Trajectory, _init, _step_loss, exact_moment_sample,
                                           train_seeds)
from ssl_props.profile.target_gradient import target_gradient

__all__ = ["DynamicsConfig", "DynamicsResult", "Trajectory", "exact_moment_sample", "train_seeds", "run_dynamics", "loop_integral",
           "eqn16_fixed_point", "MODES", "target_detached", "wang_threshold"]

@dataclass
class DynamicsResult:
    """One target mode: final weights per seed and the measurements."""

    mode: str
    batching: str
    norm_ratio: list[float]  # ‖W_T‖/‖W_0‖ per seed
    collapsed: bool  # every seed: ‖W_T‖ ≤ Π(1 − lr_t η)^{1/2}·‖W_0‖ (half the decay rate of Thm 2's bound), decided
    # where that bound is ≤ 1/SAFETY (a long enough run) and the loss is not scale-free
    amplitudes: list[list[float]]  # ‖W e_j‖ per seed and direction
    survivors: list[bool]  # direction j survives in every seed
    measured_threshold: tuple[float, float] | None  # (largest surviving σ², smallest dead σ²)
    commutator: float  # max over seeds ‖[F, W_p]‖_F / (‖F‖‖W_p‖) at the end (Tian Thm 3)
    commutator_start: float
    convergence_tol: float
    norm_trace: list[float] = field(default_factory=list)  # median ‖W‖ over seeds, every window/5 steps
    # scale-free collapse (collapse_measures.py)
    spectrum: list[float] = field(default_factory=list)  # median over seeds of σ_i(W)/σ_1(W), descending (of W/‖W‖
    # averaged over the last window)
    effective_rank: list[float] = field(default_factory=list)  # per seed, exp entropy of σ_i/Σσ (Roy & Vetterli 2007)
    representation_spectrum: list[float] = field(default_factory=list)  # median of λ_i(WΣWᵀ)/λ_1, Σ the views' covariance
    representation_effective_rank: list[float] = field(default_factory=list)  # per seed
    rank: int | None = None  # median over seeds of #{σ_i/σ_1 > rank_threshold}; 0 when ‖W‖ → 0; None if diverged
    ranks: list[int] = field(default_factory=list)  # per seed
    collapse: str = "undetermined"  # "complete" | "dimensional" | "none" | "undetermined" (diverged)
    rank_threshold: float = float("nan")  # relative to σ_1: (geometric tail bound Δ + rounding)/σ_1, max over seeds
    spectrum_converged: bool = False  # every seed: each direction counted ≥ 2·threshold, threshold < 1/SAFETY,
    # not diverged, not stalled
    scale_invariant: bool = False  # |⟨∇fn, θ⟩| ≤ η‖θ‖²/SAFETY at the start: ‖W‖ follows weight decay, not the loss;
    # the run then integrates the direction's flow without weight decay and ‖W‖ → 0 is not measured
    # the mode and the run
    target_gradient: str = ""  # how the target is treated; "none: …" where no_stop_gradient cannot be run
    diverged: bool = False
    status: str = ""  # "converged", "not converged (…)", "not converged: stalled (…)", "diverged at step t (…)",
    # "no target gradient: …"
    lr: list[float] = field(default_factory=list)  # per seed, the start step min(cfg.lr, 1.9/λ̂)
    curvature: list[float] = field(default_factory=list)  # per seed, λ̂ of the update field at the start
    horizon: float = float("nan")  # median over seeds of Σ lr_t (the time reached)
    steps: int = 0  # GD steps taken
    norm_bound: float = float("nan")  # the bound ‖W_T‖/‖W_0‖ is compared with for `collapsed`: max over seeds of
    # Π(1 − lr_t η)^{1/2} (with the fixed step of before: (1 − lr η)^{steps/2})
    W: torch.Tensor | None = field(default=None, repr=False)
    Wp: torch.Tensor | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("W"), d.pop("Wp")
        return d


def eqn16_fixed_point(sigma2: torch.Tensor, eta: float, tau: float = 1.0) -> torch.Tensor:
    """Tian Eqn 16's stable fixed point ``p₊ = [τ + √(τ² − 4ηc)]/(2c)`` (0 where ``τ² < 4ηc``)."""
    c = 1 + sigma2
    disc = tau * tau - 4 * eta * c
    return torch.where(disc >= 0, (tau + disc.clamp_min(0).sqrt()) / (2 * c), torch.zeros_like(c))


def run_dynamics(fn: Callable, cfg: DynamicsConfig, mode: str, *, device=None, predictor: str = "learned") -> DynamicsResult:
    """Train, then measure: ‖W‖ → 0, the scale-free collapse (spectrum, effective rank, rank), survivors, the threshold
    and the W_p / F commutator. A diverging run is returned with ``diverged=True`` and ``status`` saying where."""
    d = len(cfg.sigma2)
    w0, wp0 = _init(cfg, d, torch.float64, device)
    if predictor == "identity":
        wp0 = torch.eye(d, dtype=torch.float64, device=w0.device).expand_as(wp0)
    sigma2 = torch.tensor(cfg.sigma2, dtype=torch.float64, device=w0.device)
    x1, x2 = exact_moment_sample(sigma2, cfg.n)
    if mode == "no_stop_gradient":
        how = target_gradient(fn, x1 @ w0[0].mT @ wp0[0].mT, x2 @ w0[0].mT)
    else:
        how = "stopped: sg(W), no gradient" if mode == "stop_gradient" else "EMA of W, no gradient"
    tr = train_seeds(fn, cfg, mode, device=device, predictor=predictor)
    w, wp, snaps = tr.w, tr.wp, tr.snaps
    diverged = tr.diverged_at is not None
    scale_invariant = tr.weight_decay == 0.0
    snaps = [snaps[0]] * (3 - len(snaps)) + snaps  # fewer than three windows (an early divergence): no tail to measure
    amp2, amp1, amp = (v.norm(dim=-2) for v in snaps)  # (seeds, d): ‖W e_j‖ at T − 2w, T − w, T
    e1, e0 = (amp - amp1).abs().max(), (amp1 - amp2).abs().max()
    r = float((e1 / e0.clamp_min(tol.eps(w.dtype))).clamp(max=0.9))
    conv = tol.SAFETY * float(e1) * r / (1 - r) + float(tol.sum_of_products(w.dtype, tr.steps, float(amp.max()) + 1.0))
    ratio = (w.flatten(1).norm(dim=1) / w0.flatten(1).norm(dim=1))
    # ‖W_T‖ ≤ (weight decay's contraction)^{1/2}·‖W_0‖: decays at least at half Thm 2's rate (Π(1 − lr_t η) over the
    # run), decided only where that contraction is substantial (≤ 1/SAFETY for the half rate: a long enough horizon)
    half = tr.log_decay / 2
    collapsed = (not diverged and not scale_invariant and bool((half <= -math.log(tol.SAFETY)).all())
                 and bool((ratio.log() <= half).all()))
    rel = amp / amp.amax(-1, keepdim=True).clamp_min(torch.finfo(w.dtype).tiny)
    surv = [bool(b) for b in (rel >= cfg.eta).all(0).tolist()] if not collapsed else [False] * d
    s2 = list(cfg.sigma2)
    alive, dead = [s for s, b in zip(s2, surv) if b], [s for s, b in zip(s2, surv) if not b]
    thr = (max(alive) if alive else float("nan"), min(dead) if dead else float("nan")) if alive and dead else None
    f = w @ w.mT  # F = W X Wᵀ with X = I
    comm = lambda a, b: float(((a @ b - b @ a).flatten(1).norm(dim=1) / (a.flatten(1).norm(dim=1) * b.flatten(1).norm(dim=1)).clamp_min(torch.finfo(a.dtype).tiny)).max())  # noqa: E731
    means = tr.means if tr.means else snaps
    means = [means[0]] * (3 - len(means)) + means
    cm = measure_collapse(means, x1.mT @ x1 / cfg.n, collapsed, tr.steps)
    if diverged:
        status = f"diverged at step {tr.diverged_at} (seed {tr.diverged_seed}): ‖W‖ grew 1e6-fold or the gradient became non-finite"
    elif how.startswith("none"):
        status = "no target gradient: " + how.split(": ", 1)[1]
    elif bool(tr.stalled.any()):
        status = (f"not converged: stalled (seed {int(tr.stalled.nonzero()[0])} reached t = {float(tr.horizon.min()):.3g} < "
                  f"1/η = {1 / cfg.eta:.3g}: its step was cut by a kink or a stiff direction)")
    else:
        status = "converged" if cm.spectrum_converged else "not converged (the spectrum still moves across the rank threshold)"
    return DynamicsResult(
        mode, tr.batching, ratio.tolist(), collapsed, amp.tolist(), surv, thr, comm(f, wp), comm(w0 @ w0.mT, wp0), conv,
        tr.trace, cm.spectrum, cm.effective_rank, cm.representation_spectrum, cm.representation_effective_rank,
        None if diverged else cm.rank, cm.ranks, "undetermined" if diverged else cm.collapse, cm.rank_threshold,
        cm.spectrum_converged and not diverged and not bool(tr.stalled.any()), scale_invariant, how, diverged, status, tr.lr_start.tolist(),
        tr.curvature.tolist(), float(tr.horizon.median()), tr.steps, float(half.exp().max()), w, wp)


def loop_integral(fn: Callable, cfg: DynamicsConfig, *, points: int = 64, radius: float = 0.1, device=None) -> tuple[float, float]:
    """Terver et al. 2025 Prop. 3.2: ``∮ F · dW`` around a circle in W (W_p fixed) for the stop-gradient update
    field ``F = −∇_W fn(W_p W x1, sg(W x2))``, next to the same loop for the full gradient (a gradient field:
    its loop integral is the trapezoid rule's error). Returns ``(|∮ sg|, |∮ gradient|)``."""
    sigma2 = torch.tensor(cfg.sigma2, dtype=torch.float64, device=device)
    x1, x2 = exact_moment_sample(sigma2, cfg.n)
    d = len(cfg.sigma2)
    w0, wp = _init(cfg, d, torch.float64, sigma2.device)
    w0, wp = w0[0], wp[0]
    gen = torch.Generator().manual_seed(3)
    u, v = (torch.randn(d, d, generator=gen, dtype=torch.float64).to(w0) for _ in range(2))
    th = torch.arange(points, dtype=torch.float64, device=w0.device) * (2 * math.pi / points)
    ws = w0 + radius * (th.cos()[:, None, None] * u + th.sin()[:, None, None] * v)
    dws = radius * (-th.sin()[:, None, None] * u + th.cos()[:, None, None] * v)
    out = []
    wps = wp.expand(points, d, d)
    for mode in ("stop_gradient", "no_stop_gradient"):
        loss = _step_loss(fn, x1, x2, mode)
        with torch.enable_grad():
            a = ws.detach().requires_grad_(True)
            try:  # the points batched by vmap, one backward through the sum (the points are independent)
                f = torch.func.vmap(loss, randomness="same")(a, wps, a)
            except Exception:  # noqa: BLE001 - vmap refused: loop over the points
                f = torch.stack([loss(a[i], wp, a[i]) for i in range(points)])
            (gs,) = torch.autograd.grad(f.sum(), a)
        out.append(abs(float(-(gs * dws).sum() * (2 * math.pi / points))))
    return out[0], out[1]


def target_detached(fn: Callable, *, seed: int = 0) -> bool:
    """Whether ``fn(p, z)`` passes no gradient to ``z`` (detaches its target inside): then the profile's
    ``no_stop_gradient`` mode cannot remove the stop-gradient and equals ``stop_gradient``."""
    gen = torch.Generator().manual_seed(seed)
    p = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    z = torch.randn(6, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    with torch.enable_grad():
        f = fn(p, z)
        if not isinstance(f, torch.Tensor) or not f.requires_grad:
            return True
        (gz,) = torch.autograd.grad(f.reshape(()), z, allow_unused=True)
    return gz is None or not bool(gz.abs().max() > 0)


def wang_threshold(eta: float) -> float:
    """Wang et al. / Tian Eqn 16 threshold: directions with ``σ² < 1/(4η) − 1`` survive."""
    return float(threshold_sigma2(eta))
