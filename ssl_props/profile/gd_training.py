r"""Full-batch GD of the linear predictor model through a loss, many seeds at once (the engine of
:mod:`~ssl_props.profile.dynamics`, whose docstring states the model, the data and the step-size rule).

The seeds run in one ``torch.func.vmap`` of the loss with ONE backward through the sum (the seeds are
independent); a loss vmap refuses runs seed by seed (``batching`` says which).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple

import torch

from ssl_props import tolerances as tol
from ssl_props.errors import InvalidArgument
from ssl_props.profile.collapse_measures import spectrum_resolved
from ssl_props.profile.graph_losses import ProfileFailure
from ssl_props.profile.step_size import GROWTH, OSCILLATION_STEPS, STABILITY, power_curvature, secant_curvature
from ssl_props.profile.target_gradient import KeepTargetGraph

__all__ = ["MODES", "DynamicsConfig", "Trajectory", "exact_moment_sample", "radial_force", "scale_free_bound", "train_seeds"]


def _dot(a: tuple[torch.Tensor, torch.Tensor], b: tuple[torch.Tensor, torch.Tensor], learned: bool) -> torch.Tensor:
    out = a[0].flatten(1).mul(b[0].flatten(1)).sum(1)
    return out + a[1].flatten(1).mul(b[1].flatten(1)).sum(1) if learned else out


def radial_force(grad: tuple[torch.Tensor, torch.Tensor], theta: tuple[torch.Tensor, torch.Tensor], learned: bool) -> torch.Tensor:
    """``|⟨∇fn, θ⟩|`` per seed: the loss's pull on ``‖θ‖²/2`` (0 for a loss invariant to ``θ → cθ``)."""
    return _dot(grad, theta, learned).abs()


def scale_free_bound(eta: float, grad: tuple[torch.Tensor, torch.Tensor], theta: tuple[torch.Tensor, torch.Tensor],
                     learned: bool, shape: tuple[int, ...]) -> torch.Tensor:
    """The loss counts as scale-free when its radial pull is below ``1/SAFETY`` of weight decay's,
    ``|⟨∇fn, θ⟩| ≤ η‖θ‖²/SAFETY`` (``d‖θ‖²/dt = −2⟨∇fn, θ⟩ − 2η‖θ‖²``: ‖θ‖ then follows the weight decay, not the
    loss — a cosine, or a batch-normalised loss up to its eps), or, without weight decay, below the rounding
    ``SAFETY·n·d²·ε·‖∇fn‖‖θ‖`` of an exactly invariant one (Higham §3.1)."""
    sq = _dot(theta, theta, learned)
    if eta > 0:
        return eta * sq / tol.SAFETY
    n, d = shape[-2], shape[-1]
    return tol.sum_of_products(sq.dtype, n * d * d, 1.0) * (sq * _dot(grad, grad, learned)).sqrt()


MODES = ("stop_gradient", "ema", "no_stop_gradient")


@dataclass(frozen=True)
class DynamicsConfig:
    """Sizes of the dynamics part (defaults: about 3 s per target mode on a 2-core CPU)."""

    sigma2: tuple[float, ...] = (0.1, 0.5, 3.0, 5.0)  # augmentation variances; 1/(4η) − 1 = 1.5 separates them
    eta: float = 0.1
    lr: float = 0.15  # the largest step; the run takes min(lr, 1.9/λ̂) (step_size.py): λ̂ ≈ 20 for the L2 loss at the start
    steps: int = 550  # horizon t = lr·steps ≈ 82: a dead mode is down to e^{−ηt} ≈ 3e-4 ≪ η (kept at a smaller step)
    n: int = 64  # fixed sample size (≥ 3d; the cost of a contrastive loss grows like n²)
    seeds: int = 8
    beta: float = 1.0  # EMA rate (continuous time)
    init_noise: float = 0.1  # W, W_p = I + init_noise·N/√d: every mode starts above p₋
    max_steps: int = 1650  # cap (3·steps) on the steps taken to keep the horizon or resolve the spectrum

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
    trace: list[float]  # median ‖W‖ over seeds, every window/5 steps
    batching: str
    snaps: list[torch.Tensor]  # W at T − 2w, T − w, T (window w = cfg.steps/10; fewer when the run diverged early)
    steps: int  # steps taken
    lr_start: torch.Tensor  # (seeds,) the start step min(cfg.lr, c/λ̂)
    curvature: torch.Tensor  # (seeds,) λ̂ at the start
    horizon: torch.Tensor  # (seeds,) Σ lr_t: the time reached
    log_decay: torch.Tensor  # (seeds,) Σ log(1 − lr_t η): weight decay's contraction of ‖W‖ over the run
    diverged_at: int | None  # step at which a seed's state stopped being finite (or ‖W‖ grew 1e6-fold)
    diverged_seed: int | None
    radial: torch.Tensor  # (seeds,) |⟨∇fn, θ⟩|/(η‖θ‖²) at the start: the loss's radial pull over weight decay's
    weight_decay: float  # η applied (0 for a scale-invariant loss)
    means: list[torch.Tensor]  # mean of W/‖W‖_F over each of the last three windows (Polyak averages: a bounded
    # chatter — a stiff sample, a hinge's kink — averages out of the spectrum)
    stalled: torch.Tensor  # (seeds,) bool: weight decay on and the time reached below one of its time constants
    # 1/η (the step was cut by a kink or a stiff direction): its spectrum cannot count as converged


def _loss_step_error(mode: str, t: int, e: Exception) -> ProfileFailure:
    return ProfileFailure(f"step 'dynamics ({mode})' at GD step {t}: the loss's gradient failed "
                          f"({type(e).__name__}: {str(e).splitlines()[0][:100] if str(e) else ''}); the dynamics need "
                          "fn(p, z) differentiable in p (and in z without stop-gradient)")


def train_seeds(fn: Callable, cfg: DynamicsConfig, mode: str, *, device=None, dtype=torch.float64,
                batched: bool | None = None, steps: int | None = None, predictor: str = "learned") -> Trajectory:
    """GD from ``cfg.seeds`` inits at once with the step of :mod:`~ssl_props.profile.step_size` (per seed).

    Length: exactly ``steps`` when given; otherwise at least ``cfg.steps``, then window by window
    (``w = cfg.steps/10``) until the time horizon ``cfg.lr·cfg.steps`` is reached (``⌈cfg.lr·cfg.steps/min lr⌉``
    steps; the L2 loss's horizon, t ≈ 82) AND the rank decision of every seed is resolved
    (:func:`~ssl_props.profile.collapse_measures.spectrum_resolved` on the last three windows), at most
    ``cfg.max_steps``; a horizon beyond ``cfg.max_steps`` (a stiff loss) is dropped and the resolved spectrum
    alone stops the run. A run whose state stops being finite, or whose ‖W‖ grows 1e6-fold, stops there
    (``diverged_at``); a loss whose gradient is not finite at the start raises ProfileFailure."""
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
    batched_loss = torch.func.vmap(loss, randomness="same")  # a loss reseeded per call (--fixed-seed) draws alike
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

    eta = cfg.eta

    def field(a, b, c=None):  # the update field F = ∇fn + η θ (the target follows W except with EMA)
        ga, gb = vg(a, b, (a if mode != "ema" else wt) if c is None else c)
        return ga + eta * a, (gb + eta * b) if learned else torch.zeros_like(b)
    try:
        g0 = vg(w, wp, wt)
    except RuntimeError as e:
        raise _loss_step_error(mode, 0, e) from None
    if not (bool(torch.isfinite(g0[0]).all()) and bool(torch.isfinite(g0[1]).all())):
        bad = int((~torch.isfinite(g0[0].flatten(1)).all(1) | ~torch.isfinite(g0[1].flatten(1)).all(1)).nonzero()[0])
        raise ProfileFailure(f"step 'dynamics ({mode})' at GD step 0, seed {bad}: the gradient is not finite; "
                             "guard the loss (e.g. an eps in normalisations) so it stays finite near small features")
    radial = radial_force(g0, (w, wp), learned) / (cfg.eta * _dot((w, wp), (w, wp), learned)).clamp_min(torch.finfo(dtype).tiny)
    if bool((radial_force(g0, (w, wp), learned) <= scale_free_bound(cfg.eta, g0, (w, wp), learned, x1.shape)).all()):
        eta = 0.0  # scale-free: weight decay only rescales the clock of the direction's flow (module doc)
    try:
        lam = power_curvature(field, (w, wp))
    except RuntimeError as e:
        raise _loss_step_error(mode, 0, e) from None
    if not bool(torch.isfinite(lam).all()):
        raise ProfileFailure(f"step 'dynamics ({mode})' at GD step 0, seed {int((~torch.isfinite(lam)).nonzero()[0])}: "
                             "the loss's curvature is not finite at the start; guard the loss (e.g. an eps in normalisations)")
    lr_start = torch.clamp(STABILITY / lam.clamp_min(torch.finfo(dtype).tiny), max=cfg.lr)
    window = max(cfg.steps // 10, 1)
    target = math.ceil(cfg.lr * cfg.steps / float(lr_start.min()))  # steps to keep the horizon cfg.lr·cfg.steps
    if steps is not None:
        window = max(steps // 10, 1)
    cap = steps if steps is not None else max(cfg.max_steps, cfg.steps)
    lr = lr_start.clone()
    w0n = w.flatten(1).norm(dim=1)
    horizon = torch.zeros_like(lr)
    log_decay = torch.zeros_like(lr)
    snaps: list[torch.Tensor] = [w.clone()]
    means: list[torch.Tensor] = []
    acc = torch.zeros_like(w)
    trace: list[float] = []
    prev = None
    growing = torch.zeros(w.shape[0], dtype=torch.long, device=w.device)
    episode_lr, cut_df = lr.clone(), torch.full_like(lr, math.inf)  # the step before the cuts, ‖ΔF‖ at the last cut
    diverged_at = diverged_seed = None
    t = 0
    while t < cap:
        try:
            fw, fwp = field(w, wp, w if mode != "ema" else wt)
        except RuntimeError as e:
            raise _loss_step_error(mode, t, e) from None
        finite = torch.isfinite(fw.flatten(1)).all(1) & torch.isfinite(fwp.flatten(1)).all(1) & (w.flatten(1).norm(dim=1) <= 1e6 * w0n)
        if not bool(finite.all()):
            diverged_at, diverged_seed = t, int((~finite).nonzero()[0])
            break
        if prev is not None:  # the secant guard (step_size.py): cut on a growing oscillation, recover by GROWTH
            now, before = _dot((fw, fwp), (fw, fwp), True), _dot(prev[0], prev[0], True)
            growing = torch.where((_dot((fw, fwp), prev[0], True) < 0) & (now > before), growing + 1, 0)
            moved = wt - prev[2] if mode == "ema" else None
            sec = secant_curvature((fw, fwp), prev[0], (w, wp), prev[1], moved)
            df = sec * lr * before.sqrt()  # ‖ΔF‖ = secant·‖Δθ‖, ‖Δθ‖ = lr·‖F_{t−1}‖ (+ the EMA target's move)
            # a kink: the step already cut SAFETY-fold in this episode, and ΔF did not shrink with it (a jump, not λ·Δθ)
            kink = (lr <= episode_lr / tol.SAFETY) & (df >= cut_df / 2)
            # a scale-free loss (a cosine: curvature ∝ 1/‖p_i‖², unbounded where a sample's output passes near 0) is cut
            # on the first growing overshoot; another must grow two steps in a row (a 2-cycle across a kink, e.g. a
            # hinge, alternates growth and shrinkage and is left alone: smaller steps never end it)
            over = (growing >= (OSCILLATION_STEPS if eta == 0 else OSCILLATION_STEPS + 1)) & ~kink
            new_lr = torch.minimum(lr, torch.maximum(STABILITY / sec.clamp_min(torch.finfo(dtype).tiny), lr / 2))
            episode_lr = torch.where(over & (lr >= lr_start), lr, episode_lr)  # an episode starts at the full step
            cut_df = torch.where(over, df, cut_df)
            lr = torch.where(over, new_lr, torch.minimum(lr_start, lr * GROWTH))
        prev = ((fw, fwp), (w, wp), wt)
        step = lr[:, None, None]
        w = w - step * fw
        if learned:
            wp = wp - step * fwp
        horizon = horizon + lr
        log_decay = log_decay + torch.log1p(-(lr * eta).clamp(max=1 - 1e-12))
        wt = w if mode != "ema" else wt + step * cfg.beta * (w - wt)
        t += 1
        acc = acc + w / w.flatten(1).norm(dim=1).clamp_min(torch.finfo(dtype).tiny)[:, None, None]
        if t % max(window // 5, 1) == 0:
            trace.append(float(w.flatten(1).norm(dim=1).median()))
        if t % window == 0:
            snaps = (snaps + [w.clone()])[-3:]
            means, acc = (means + [acc / window])[-3:], torch.zeros_like(w)
            # stop: the horizon reached (or out of the budget), at least 1/η of time where weight decay acts, and every
            # seed's rank decision resolved
            if (steps is None and t >= cfg.steps and len(means) == 3 and (t >= target or target > cap)
                    and not (eta > 0 and bool((horizon < 1 / eta).any())) and spectrum_resolved(means, t)):
                break
            if steps is None and t >= cfg.steps and eta > 0 and bool((horizon * cap / t < 1 / eta).any()):
                break  # stalled: at this pace the budget cannot reach 1/η (status says so)
    if diverged_at is None and t % window:
        snaps = (snaps + [w])[-3:]
        means = (means + [acc / (t % window)])[-3:]
    stalled = (horizon < 1 / eta) if eta > 0 else torch.zeros_like(horizon, dtype=torch.bool)
    return Trajectory(w, wp, trace, batching, snaps, t, lr_start, lam,
                      horizon, log_decay, diverged_at, diverged_seed, radial, eta, means, stalled)

