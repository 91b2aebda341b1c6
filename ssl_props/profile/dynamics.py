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
curvature of the update field at the start (power iteration), lowered during the run by the secant curvature;
the run takes ``⌈cfg.lr·cfg.steps/lr⌉`` steps (the time horizon of the L2 loss, t ≈ 82, kept) up to
``cfg.max_steps``. A run whose state stops being finite is returned as diverged (``diverged``, ``status``).

Survival threshold (derived for that L2 model): survivors settle at ``p₊ ≥ 1/(2c)`` and ``c ≤ 1/(4η)``,
so ``p₊(j)/max_k p₊(k) ≥ 2η``; a dead mode decays like ``e^{−ηt}``: direction ``j`` (column ``j`` of
``W``, the basis of ``X'``) survives iff ``‖W e_j‖ ≥ η · max_k ‖W e_k‖``.
Convergence tolerance: geometric tail ``SAFETY · e₁ r/(1 − r)`` from the change ``e₁`` over the last
window and the contraction ``r = e₁/e₀`` between the last two windows (plus rounding).

Collapse, scale-free (:mod:`~ssl_props.profile.collapse_measures`): the spectrum of ``W/‖W‖``, its effective rank
(Roy & Vetterli 2007), the spectrum of ``W Σ Wᵀ``, the rank above a derived threshold and the verdict
complete / dimensional / none; ``collapsed`` (‖W‖ → 0) is kept for Tian Thm 2 / Terver Lemma 4.3 and is False for
a scale-invariant loss (``⟨∇fn, θ⟩ = 0``: its norm only follows the weight decay, whatever the target mode).
New fields of :class:`DynamicsResult`: ``spectrum, effective_rank, representation_spectrum,
representation_effective_rank, rank, ranks, collapse, rank_threshold, spectrum_converged, scale_invariant,
target_gradient, diverged, status, lr, curvature, horizon, steps``.
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
from ssl_props.profile.graph_losses import ProfileFailure
from ssl_props.profile.step_size import STABILITY, power_curvature, secant_curvature
from ssl_props.profile.target_gradient import KeepTargetGraph, target_gradient

__all__ = ["DynamicsConfig", "DynamicsResult", "Trajectory", "exact_moment_sample", "train_seeds", "run_dynamics", "loop_integral",
           "eqn16_fixed_point", "MODES", "target_detached", "wang_threshold"]

MODES = ("stop_gradient", "ema", "no_stop_gradient")


@dataclass(frozen=True)
class DynamicsConfig:
    """Sizes of the dynamics part (defaults: about 3 s per target mode on a 2-core CPU)."""

    sigma2: tuple[float, ...] = (0.1, 0.5, 3.0, 5.0)  # augmentation variances; 1/(4η) − 1 = 1.5 separates them
    eta: float = 0.1
    lr: float = 0.15  # Euler stability without stop-gradient: lr·λ_max(H) ≈ 0.15·(2σ²_max + η) ≈ 1.5 < 2
    steps: int = 550  # t ≈ 82: a dead mode is down to e^{−ηt} ≈ 3e-4 ≪ η
    n: int = 64  # fixed sample size (≥ 3d)
    seeds: int = 8
    beta: float = 1.0  # EMA rate (continuous time)
    init_noise: float = 0.1  # W, W_p = I + init_noise·N/√d: every mode starts above p₋
    max_steps: int = 2200  # cap on the steps taken to keep the horizon cfg.lr·steps when the curvature cuts the step

    def __post_init__(self) -> None:
        d = len(self.sigma2)
        if d < 1 or any(s < 0 for s in self.sigma2):
            raise InvalidArgument(f"sigma2 must be non-negative variances, got sigma2={self.sigma2!r}")
        if self.n < 3 * d:
            raise InvalidArgument(f"n must be >= 3·d = {3 * d} (x, ξ1, ξ2 need orthogonal columns), got n={self.n}")
        for k in ("eta", "lr"):
            if not getattr(self, k) > 0:
                raise InvalidArgument(f"{k} must be > 0, got {k}={getattr(self, k)!r}")


def exact_moment_sample(sigma2: torch.Tensor, n: int, *, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Views ``x1 = x + ξ1``, ``x2 = x + ξ2`` (n × d) with exact sample moments I, diag σ², 0 (see module doc)."""
    d = sigma2.shape[0]
    frame = torch.linalg.qr(torch.randn(n, 3 * d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64))[0]
    frame = math.sqrt(n) * frame.to(sigma2)
    x, e1, e2 = frame[:, :d], frame[:, d:2 * d] * sigma2.sqrt(), frame[:, 2 * d:] * sigma2.sqrt()
    return x + e1, x + e2


@dataclass
class DynamicsResult:
    """One target mode: final weights per seed and the measurements."""

    mode: str
    batching: str
    norm_ratio: list[float]  # ‖W_T‖/‖W_0‖ per seed
    collapsed: bool  # every seed: ‖W_T‖ ≤ (1 − lr η)^{steps/2}·‖W_0‖ (half the decay rate of Thm 2's bound)
    amplitudes: list[list[float]]  # ‖W e_j‖ per seed and direction
    survivors: list[bool]  # direction j survives in every seed
    measured_threshold: tuple[float, float] | None  # (largest surviving σ², smallest dead σ²)
    commutator: float  # max over seeds ‖[F, W_p]‖_F / (‖F‖‖W_p‖) at the end (Tian Thm 3)
    commutator_start: float
    convergence_tol: float
    norm_trace: list[float] = field(default_factory=list)  # median ‖W‖ over seeds, 50 points
    # scale-free collapse (collapse_measures.py)
    spectrum: list[float] = field(default_factory=list)  # median over seeds of σ_i(W)/σ_1(W), descending
    effective_rank: list[float] = field(default_factory=list)  # per seed, exp entropy of σ_i/Σσ (Roy & Vetterli 2007)
    representation_spectrum: list[float] = field(default_factory=list)  # median of λ_i(WΣWᵀ)/λ_1, Σ the views' covariance
    representation_effective_rank: list[float] = field(default_factory=list)  # per seed
    rank: int | None = None  # median over seeds of #{σ_i/σ_1 > rank_threshold}; 0 when ‖W‖ → 0; None if diverged
    ranks: list[int] = field(default_factory=list)  # per seed
    collapse: str = "undetermined"  # "complete" | "dimensional" | "none" | "undetermined" (diverged)
    rank_threshold: float = float("nan")  # relative to σ_1: (Weyl tail bound Δ + rounding)/σ_1, max over seeds
    spectrum_converged: bool = False  # every σ_i/σ_1 is farther than the threshold from it
    scale_invariant: bool = False  # ⟨∇fn, θ⟩ = 0 to rounding at the start: ‖W‖ says nothing about collapse
    # the mode and the run
    target_gradient: str = ""  # how the target is treated; "none: …" where no_stop_gradient cannot be run
    diverged: bool = False
    status: str = ""  # "converged", "not converged (…)", "diverged at step t (…)", "no target gradient: …"
    lr: list[float] = field(default_factory=list)  # per seed, the start step min(cfg.lr, 1.9/λ̂)
    curvature: list[float] = field(default_factory=list)  # per seed, λ̂ of the update field at the start
    horizon: float = float("nan")  # median over seeds of Σ lr_t (the time reached)
    steps: int = 0  # GD steps taken
    W: torch.Tensor | None = field(default=None, repr=False)
    Wp: torch.Tensor | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("W"), d.pop("Wp")
        return d


def _init(cfg: DynamicsConfig, d: int, dtype, device) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    eye = torch.eye(d, dtype=torch.float64)
    w = eye + cfg.init_noise * torch.randn(cfg.seeds, d, d, generator=gen, dtype=torch.float64) / math.sqrt(d)
    wp = eye + cfg.init_noise * torch.randn(cfg.seeds, d, d, generator=gen, dtype=torch.float64) / math.sqrt(d)
    return w.to(dtype=dtype, device=device), wp.to(dtype=dtype, device=device)


def _step_loss(fn: Callable, x1: torch.Tensor, x2: torch.Tensor, mode: str) -> Callable:
    keep = mode == "no_stop_gradient"

    def loss(w: torch.Tensor, wp: torch.Tensor, wt: torch.Tensor) -> torch.Tensor:
        p = x1 @ w.T @ wp.T
        target = x2 @ (w if keep else wt.detach()).T
        if keep:  # differentiate through the target even where the loss detaches it (target_gradient.py)
            with KeepTargetGraph():
                return fn(p, target).reshape(())
        return fn(p, target).reshape(())
    return loss


class Trajectory(NamedTuple):
    """What :func:`train_seeds` returns (indexable as before: ``[0]`` is W)."""

    w: torch.Tensor
    wp: torch.Tensor
    trace: list[float]  # median ‖W‖ over seeds, 50 points
    batching: str
    snaps: list[torch.Tensor]  # W at T − 2w, T − w, T (fewer when the run diverged early)
    steps: int  # steps taken
    lr_start: torch.Tensor  # (seeds,) the start step min(cfg.lr, c/λ̂)
    curvature: torch.Tensor  # (seeds,) λ̂ at the start
    horizon: torch.Tensor  # (seeds,) Σ lr_t: the time reached
    log_decay: torch.Tensor  # (seeds,) Σ log(1 − lr_t η): weight decay's contraction of ‖W‖ over the run
    diverged_at: int | None  # step at which a seed's state stopped being finite (or ‖W‖ grew 1e6-fold)
    diverged_seed: int | None
    radial: torch.Tensor  # (seeds,) |⟨∇fn, θ⟩|/(‖∇fn‖‖θ‖) at the start: 0 for a scale-invariant loss


def _loss_step_error(mode: str, t: int, e: Exception) -> ProfileFailure:
    return ProfileFailure(f"step 'dynamics ({mode})' at GD step {t}: the loss's gradient failed "
                          f"({type(e).__name__}: {str(e).splitlines()[0][:100] if str(e) else ''}); the dynamics need "
                          "fn(p, z) differentiable in p (and in z without stop-gradient)")


def train_seeds(fn: Callable, cfg: DynamicsConfig, mode: str, *, device=None, dtype=torch.float64,
                batched: bool | None = None, steps: int | None = None, predictor: str = "learned") -> Trajectory:
    """GD from ``cfg.seeds`` inits at once with the step of :mod:`~ssl_props.profile.step_size` (per seed);
    ``steps`` (default: ``clamp(⌈cfg.lr·cfg.steps / lr_start⌉, cfg.steps, cfg.max_steps)``, the time horizon of
    the L2 loss kept where the budget allows). A run whose state stops being finite, or whose ‖W‖ grows 1e6-fold,
    stops there (``diverged_at``); a loss whose gradient is not finite at the start raises ProfileFailure."""
    if mode not in MODES:
        raise InvalidArgument(f"mode must be one of {MODES}, got mode={mode!r}")
    if predictor not in ("learned", "identity"):
        raise InvalidArgument(f"predictor must be 'learned' or 'identity', got predictor={predictor!r}")
    sigma2 = torch.tensor(cfg.sigma2, dtype=dtype, device=device)
    x1, x2 = exact_moment_sample(sigma2, cfg.n)
    w, wp = _init(cfg, len(cfg.sigma2), dtype, sigma2.device)
    if predictor == "identity":  # a pairwise loss used without a predictor (the contrast of the issue)
        wp = torch.eye(len(cfg.sigma2), dtype=dtype, device=sigma2.device).expand_as(wp).clone()
    learned = predictor == "learned"
    wt = w.clone()
    loss = _step_loss(fn, x1, x2, mode)
    batched_loss = torch.func.vmap(loss)
    batching = "vmap" if batched is not False else "loop (requested)"

    def vg(a, b, c):  # forward batched over seeds, ONE backward through the sum (seeds are independent)
        with torch.enable_grad():
            a, b = a.detach().requires_grad_(True), b.detach().requires_grad_(True)
            f = batched_loss(a, b, c) if batching == "vmap" else torch.stack([loss(a[i], b[i], c[i]) for i in range(a.shape[0])])
            if not f.requires_grad:
                raise ProfileFailure(f"step 'dynamics ({mode})': the loss has no gradient with respect to p; "
                                     "build it from torch operations on its inputs")
            ga, gb = torch.autograd.grad(f.sum(), (a, b), allow_unused=True)
        if ga is None or gb is None:
            raise ProfileFailure(f"step 'dynamics ({mode})': the loss does not depend on its first argument p")
        return ga, gb
    if batching == "vmap":
        try:
            vg(w, wp, wt)
        except Exception as e:  # noqa: BLE001 - vmap refused: loop over seeds
            if isinstance(e, ProfileFailure):
                raise
            batching = f"loop (vmap refused: {type(e).__name__})"

    def field(a, b, c=None):  # the update field F = ∇fn + η θ (the target follows W except with EMA)
        ga, gb = vg(a, b, (a if mode != "ema" else wt) if c is None else c)
        return ga + cfg.eta * a, (gb + cfg.eta * b) if learned else torch.zeros_like(b)
    try:
        g0 = vg(w, wp, wt)
        lam = power_curvature(field, (w, wp))
    except RuntimeError as e:
        raise _loss_step_error(mode, 0, e) from None
    if not (bool(torch.isfinite(g0[0]).all()) and bool(torch.isfinite(g0[1]).all()) and bool(torch.isfinite(lam).all())):
        bad = int((~torch.isfinite(g0[0].flatten(1)).all(1) | ~torch.isfinite(g0[1].flatten(1)).all(1)
                   | ~torch.isfinite(lam)).nonzero()[0])
        raise ProfileFailure(f"step 'dynamics ({mode})' at GD step 0, seed {bad}: the gradient is not finite; "
                             "guard the loss (e.g. an eps in normalisations) so it stays finite near small features")
    inner = g0[0].flatten(1).mul(w.flatten(1)).sum(1) + (g0[1].flatten(1).mul(wp.flatten(1)).sum(1) if learned else 0)
    gnorm = (g0[0].flatten(1).square().sum(1) + (g0[1].flatten(1).square().sum(1) if learned else 0)).sqrt()
    tnorm = (w.flatten(1).square().sum(1) + (wp.flatten(1).square().sum(1) if learned else 0)).sqrt()
    radial = inner.abs() / (gnorm * tnorm).clamp_min(torch.finfo(dtype).tiny)
    lr_start = torch.clamp(STABILITY / lam.clamp_min(torch.finfo(dtype).tiny), max=cfg.lr)
    if steps is None:
        steps = min(max(math.ceil(cfg.lr * cfg.steps / float(lr_start.min())), cfg.steps), max(cfg.max_steps, cfg.steps))
    lr = lr_start.clone()
    w0n = w.flatten(1).norm(dim=1)
    horizon = torch.zeros_like(lr)
    log_decay = torch.zeros_like(lr)
    snaps: list[torch.Tensor] = []
    window = max(steps // 10, 1)
    trace: list[float] = []
    every = max(steps // 50, 1)
    prev = None
    diverged_at = diverged_seed = None
    for t in range(steps):
        try:
            fw, fwp = field(w, wp, w if mode != "ema" else wt)
        except RuntimeError as e:
            raise _loss_step_error(mode, t, e) from None
        finite = torch.isfinite(fw.flatten(1)).all(1) & torch.isfinite(fwp.flatten(1)).all(1) & (w.flatten(1).norm(dim=1) <= 1e6 * w0n)
        if not bool(finite.all()):
            diverged_at, diverged_seed = t, int((~finite).nonzero()[0])
            break
        if prev is not None:  # the secant guard: lr ≤ c/‖ΔF‖·‖Δθ‖ along the path
            lr = torch.minimum(lr_start, STABILITY / secant_curvature((fw, fwp), prev[0], (w, wp), prev[1]).clamp_min(torch.finfo(dtype).tiny))
        prev = ((fw, fwp), (w, wp))
        step = lr[:, None, None]
        w = w - step * fw
        if learned:
            wp = wp - step * fwp
        horizon = horizon + lr
        log_decay = log_decay + torch.log1p(-(lr * cfg.eta).clamp(max=1 - 1e-12))
        wt = w if mode != "ema" else wt + step * cfg.beta * (w - wt)
        if t % every == 0:
            trace.append(float(w.flatten(1).norm(dim=1).median()))
        if t + 1 in (steps - 2 * window, steps - window):
            snaps.append(w.clone())
    if diverged_at is None:
        snaps.append(w)
    return Trajectory(w, wp, trace, batching, snaps, t + 1 if diverged_at is None else diverged_at, lr_start, lam,
                      horizon, log_decay, diverged_at, diverged_seed, radial)


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
    scale_invariant = bool((tr.radial <= tol.sum_of_products(torch.float64, cfg.n * d * d, 1.0)).all())
    if diverged:
        snaps = (snaps + [w, w, w])[:3] if len(snaps) < 3 else snaps
    amp2, amp1, amp = (v.norm(dim=-2) for v in snaps)  # (seeds, d): ‖W e_j‖ at T − 2w, T − w, T
    e1, e0 = (amp - amp1).abs().max(), (amp1 - amp2).abs().max()
    r = float((e1 / e0.clamp_min(tol.eps(w.dtype))).clamp(max=0.9))
    conv = tol.SAFETY * float(e1) * r / (1 - r) + float(tol.sum_of_products(w.dtype, tr.steps, float(amp.max()) + 1.0))
    ratio = (w.flatten(1).norm(dim=1) / w0.flatten(1).norm(dim=1))
    # ‖W_T‖ ≤ (weight decay's contraction)^{1/2}·‖W_0‖: decays at least at half Thm 2's rate (Π(1 − lr_t η) over the run)
    collapsed = not diverged and not scale_invariant and bool((ratio.log() <= tr.log_decay / 2).all())
    rel = amp / amp.amax(-1, keepdim=True).clamp_min(torch.finfo(w.dtype).tiny)
    surv = [bool(b) for b in (rel >= cfg.eta).all(0).tolist()] if not collapsed else [False] * d
    s2 = list(cfg.sigma2)
    alive, dead = [s for s, b in zip(s2, surv) if b], [s for s, b in zip(s2, surv) if not b]
    thr = (max(alive) if alive else float("nan"), min(dead) if dead else float("nan")) if alive and dead else None
    f = w @ w.mT  # F = W X Wᵀ with X = I
    comm = lambda a, b: float(((a @ b - b @ a).flatten(1).norm(dim=1) / (a.flatten(1).norm(dim=1) * b.flatten(1).norm(dim=1)).clamp_min(torch.finfo(a.dtype).tiny)).max())  # noqa: E731
    cm = measure_collapse(snaps, x1.mT @ x1 / cfg.n, collapsed, tr.steps)
    if diverged:
        status = f"diverged at step {tr.diverged_at} (seed {tr.diverged_seed}): ‖W‖ grew 1e6-fold or the gradient became non-finite"
    elif how.startswith("none"):
        status = "no target gradient: " + how.split(": ", 1)[1]
    else:
        status = "converged" if cm.spectrum_converged else "not converged (the spectrum still moves across the rank threshold)"
    return DynamicsResult(
        mode, tr.batching, ratio.tolist(), collapsed, amp.tolist(), surv, thr, comm(f, wp), comm(w0 @ w0.mT, wp0), conv,
        tr.trace, cm.spectrum, cm.effective_rank, cm.representation_spectrum, cm.representation_effective_rank,
        None if diverged else cm.rank, cm.ranks, "undetermined" if diverged else cm.collapse, cm.rank_threshold,
        cm.spectrum_converged and not diverged, scale_invariant, how, diverged, status, tr.lr_start.tolist(),
        tr.curvature.tolist(), float(tr.horizon.median()), tr.steps, w, wp)


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
    for mode in ("stop_gradient", "no_stop_gradient"):
        loss = _step_loss(fn, x1, x2, mode)
        g = torch.func.grad(lambda w: loss(w, wp, w))
        try:
            gs = torch.func.vmap(g)(ws)
        except Exception:  # noqa: BLE001 - vmap refused: loop over the points
            gs = torch.stack([g(wi) for wi in ws])
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
