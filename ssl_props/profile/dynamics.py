r"""A predictor loss in the linear model: full-batch gradient descent through the user's loss, many seeds at once.

Model (Tian, Chen & Ganguli 2021, arXiv:2102.06810, Lemma 1; Wang et al. 2021, arXiv:2110.04947):
encoder ``W`` (d × d), linear predictor ``W_p`` (d × d), target ``W_t``; per sample ``p = W_p W x1``,
``z = W_t x2``; the loss ``fn(P, Z)`` (rows = samples) and GD with weight decay η::

    W ← W − lr (∇_W fn + η W),   W_p ← W_p − lr (∇_{W_p} fn + η W_p)

Target modes: ``"stop_gradient"`` (``W_t = sg(W)``, SimSiam), ``"ema"`` (``W_t ← W_t + lr β (W − W_t)``,
no gradient, BYOL), ``"no_stop_gradient"`` (``W_t = W`` with its gradient: Tian Thm 2 / Terver Lemma 4.3
predict collapse for the L2 loss). Data: a FIXED sample ``x, ξ1, ξ2`` (n × d each) whose sample moments
are exactly ``x̄ᵀx̄/n = I``, ``ξᵀξ/n = diag σ²``, cross moments 0 (columns of one orthonormal frame), so
for the unnormalised L2 loss ``½ mean‖p − z‖²`` the sample loss IS the population loss and GD is the
Euler scheme of Lemma 1: every aligned mode obeys Eqn 16, ``dp/dt = p²(1 − c p) − η p``, ``c = 1 + σ²``,
with fixed points ``p± = [1 ± √(1 − 4ηc)]/(2c)``; a direction survives iff ``σ² < 1/(4η) − 1``.

Survival threshold (derived for that L2 model): survivors settle at ``p₊ ≥ 1/(2c)`` and ``c ≤ 1/(4η)``,
so ``p₊(j)/max_k p₊(k) ≥ 2η``; a dead mode decays like ``e^{−ηt}``: direction ``j`` (column ``j`` of
``W``, the basis of ``X'``) survives iff ``‖W e_j‖ ≥ η · max_k ‖W e_k‖``.
Convergence tolerance: geometric tail ``SAFETY · e₁ r/(1 − r)`` from the change ``e₁`` over the last
window and the contraction ``r = e₁/e₀`` between the last two windows (plus rounding).
The seeds run in one ``torch.func.vmap`` of ``torch.func.grad``; a loss vmap refuses runs seed by seed.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import torch

from ssl_props import tolerances as tol
from ssl_props.dynamics.data_models import threshold_sigma2
from ssl_props.errors import InvalidArgument
from ssl_props.profile.graph_losses import ProfileFailure

__all__ = ["DynamicsConfig", "DynamicsResult", "exact_moment_sample", "train_seeds", "run_dynamics", "loop_integral",
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
    def loss(w: torch.Tensor, wp: torch.Tensor, wt: torch.Tensor) -> torch.Tensor:
        p = x1 @ w.T @ wp.T
        target = x2 @ (w if mode == "no_stop_gradient" else wt.detach()).T
        return fn(p, target).reshape(())
    return loss


def train_seeds(fn: Callable, cfg: DynamicsConfig, mode: str, *, device=None, dtype=torch.float64,
                batched: bool | None = None, steps: int | None = None, predictor: str = "learned") -> tuple[torch.Tensor, torch.Tensor, list[float], str, list[torch.Tensor]]:
    """GD from ``cfg.seeds`` inits at once; returns ``(W, W_p, ‖W‖ trace, batching, W at T − 2w, T − w, T)``
    (window ``w = steps/10``)."""
    if mode not in MODES:
        raise InvalidArgument(f"mode must be one of {MODES}, got mode={mode!r}")
    steps = cfg.steps if steps is None else steps
    sigma2 = torch.tensor(cfg.sigma2, dtype=dtype, device=device)
    x1, x2 = exact_moment_sample(sigma2, cfg.n)
    w, wp = _init(cfg, len(cfg.sigma2), dtype, sigma2.device)
    if predictor == "identity":  # a pairwise loss used without a predictor (the contrast of the issue)
        wp = torch.eye(len(cfg.sigma2), dtype=dtype, device=sigma2.device).expand_as(wp).clone()
    elif predictor != "learned":
        raise InvalidArgument(f"predictor must be 'learned' or 'identity', got predictor={predictor!r}")
    wt = w.clone()
    loss = _step_loss(fn, x1, x2, mode)
    batched_loss = torch.func.vmap(loss)
    batching = "vmap"

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
    if batched is False:
        batching = "loop (requested)"
    else:
        try:
            vg(w, wp, wt)
        except Exception as e:  # noqa: BLE001 - vmap refused: loop over seeds
            if isinstance(e, ProfileFailure):
                raise
            batching = f"loop (vmap refused: {type(e).__name__})"
    snaps: list[torch.Tensor] = []
    window = max(steps // 10, 1)
    trace: list[float] = []
    every = max(steps // 50, 1)
    for t in range(steps):
        try:
            gw, gwp = vg(w, wp, wt)
        except RuntimeError as e:
            raise ProfileFailure(f"step 'dynamics ({mode})' at GD step {t}: the loss's gradient failed "
                                 f"({type(e).__name__}: {str(e).splitlines()[0][:100]}); the dynamics need fn(p, z) "
                                 "differentiable in p (and in z without stop-gradient)") from None
        if not (bool(torch.isfinite(gw).all()) and bool(torch.isfinite(gwp).all())):
            bad = int((~torch.isfinite(gw.flatten(1)).all(1) | ~torch.isfinite(gwp.flatten(1)).all(1)).nonzero()[0])
            raise ProfileFailure(f"step 'dynamics ({mode})' at GD step {t}, seed {bad}: the gradient is not finite; "
                                 "guard the loss (e.g. an eps in normalisations) so it stays finite near small features")
        w = w - cfg.lr * (gw + cfg.eta * w)
        if predictor == "learned":
            wp = wp - cfg.lr * (gwp + cfg.eta * wp)
        wt = w if mode != "ema" else wt + cfg.lr * cfg.beta * (w - wt)
        if t % every == 0:
            trace.append(float(w.flatten(1).norm(dim=1).median()))
        if t + 1 in (steps - 2 * window, steps - window):
            snaps.append(w.clone())
    snaps.append(w)
    return w, wp, trace, batching, snaps


def eqn16_fixed_point(sigma2: torch.Tensor, eta: float, tau: float = 1.0) -> torch.Tensor:
    """Tian Eqn 16's stable fixed point ``p₊ = [τ + √(τ² − 4ηc)]/(2c)`` (0 where ``τ² < 4ηc``)."""
    c = 1 + sigma2
    disc = tau * tau - 4 * eta * c
    return torch.where(disc >= 0, (tau + disc.clamp_min(0).sqrt()) / (2 * c), torch.zeros_like(c))


def run_dynamics(fn: Callable, cfg: DynamicsConfig, mode: str, *, device=None, predictor: str = "learned") -> DynamicsResult:
    """Train, then measure collapse, survivors, the threshold and the W_p / F commutator."""
    w0, wp0 = _init(cfg, len(cfg.sigma2), torch.float64, device)
    if predictor == "identity":
        wp0 = torch.eye(len(cfg.sigma2), dtype=torch.float64, device=w0.device).expand_as(wp0)
    w, wp, trace, batching, snaps = train_seeds(fn, cfg, mode, device=device, predictor=predictor)
    amp2, amp1, amp = (v.norm(dim=-2) for v in snaps)  # (seeds, d): ‖W e_j‖ at T − 2w, T − w, T
    e1, e0 = (amp - amp1).abs().max(), (amp1 - amp2).abs().max()
    r = float((e1 / e0.clamp_min(tol.eps(w.dtype))).clamp(max=0.9))
    conv = tol.SAFETY * float(e1) * r / (1 - r) + float(tol.sum_of_products(w.dtype, cfg.steps, float(amp.max()) + 1.0))
    ratio = (w.flatten(1).norm(dim=1) / w0.flatten(1).norm(dim=1)).tolist()
    collapse_bound = (1 - cfg.lr * cfg.eta) ** (cfg.steps / 2)
    rel = amp / amp.amax(-1, keepdim=True).clamp_min(torch.finfo(w.dtype).tiny)
    collapsed = all(x <= collapse_bound for x in ratio)
    surv = [bool(b) for b in (rel >= cfg.eta).all(0).tolist()] if not collapsed else [False] * len(cfg.sigma2)
    s2 = list(cfg.sigma2)
    alive, dead = [s for s, b in zip(s2, surv) if b], [s for s, b in zip(s2, surv) if not b]
    thr = (max(alive) if alive else float("nan"), min(dead) if dead else float("nan")) if alive and dead else None
    f = w @ w.mT  # F = W X Wᵀ with X = I
    comm = lambda a, b: float(((a @ b - b @ a).flatten(1).norm(dim=1) / (a.flatten(1).norm(dim=1) * b.flatten(1).norm(dim=1)).clamp_min(torch.finfo(a.dtype).tiny)).max())  # noqa: E731
    return DynamicsResult(mode, batching, ratio, collapsed, amp.tolist(), surv, thr, comm(f, wp), comm(w0 @ w0.mT, wp0),
                          conv, trace, w, wp)


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
