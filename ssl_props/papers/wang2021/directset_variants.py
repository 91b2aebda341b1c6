"""Which DirectSet variant the threshold describes (issue 14 item 11; notes ``fidelity-2026-12/wang2021.md`` §2).

* Non-whitened data ``X = Q diag(λ) Qᵀ`` commuting with ``X' = Q diag(σ²) Qᵀ``, DirectCopy ``W_p = F = W X Wᵀ``,
  SimSiam target, weight decay η: a mode survives iff ``λ²/(4(λ + σ²)) > η``, at ``s* = p₊/λ``,
  ``p₊ = [λ + √(λ² − 4η(λ + σ²))]/(2(λ + σ²))`` (sympy: :func:`derivations.nonwhitened_threshold`); checked on the
  full matrix simulator (``ssl_props.dynamics``, Haar-rotated eigenbasis) against that closed form.
* ``W_p`` normalised by its largest eigenvalue (``p_j = (f_j/f_max)^α + ε``, the authors' luckmatters
  ``boost_scale`` path): the top mode has ``p = 1 + ε`` and decays, so ``f_max(t) ≤ f_max(0) e^{−2ηt}`` and EVERY
  mode collapses under the L2 loss (:func:`derivations.normalised_top_mode_decays`), checked on the per-mode flow.

Tolerance of the matrix limit (as :mod:`.thresholds`): a kept mode converges at rate ≥ ``2 p₊ √(λ² − 4η(λ+σ²))``,
a dropped one decays at rate ≥ ``2(η − λ²/(4(λ+σ²)))``; draws keep ``κ = 4η(λ+σ²)/λ²`` at least 0.2 from 1.
"""
from __future__ import annotations

from typing import Callable

import torch
from hypothesis import strategies as st

from ssl_props.device import resolve_device
from ssl_props.dynamics.data_models import make_data_model, random_init
from ssl_props.dynamics.fields import byol_field
from ssl_props.dynamics.simulate import SimConfig, integrate, simulate
from ssl_props.dynamics.testing import converged, run_property
from ssl_props.properties import PropertyViolation, assert_close, assert_leq, find_counterexample, holds
from ssl_props.strategies import SEEDS

F64 = torch.float64
_CFG = SimConfig(t_end=100.0, method="dopri5", rtol=1e-7, atol=1e-10, n_save=1, max_steps=3000, blowup=1e6)


def draw_nonwhitened(seed: int, batch: int = 4):
    """``(data model, η)``: n ∈ {2, 3}, λ ∈ [0.6, 2], η ∈ [0.05, 0.1], κ ∈ [4η/λ, 0.8] (kept) or [1.2, 3] (dropped),
    σ² = κλ²/(4η) − λ; mode 0 kept and mode 1 dropped in every case."""
    g = torch.Generator().manual_seed(seed)
    n = 2 + seed % 2
    lam = 0.6 + 1.4 * torch.rand(batch, n, generator=g, dtype=F64)
    eta = 0.05 + 0.05 * torch.rand(batch, 1, generator=g, dtype=F64)
    keep = torch.rand(batch, n, generator=g) < 0.5
    keep[:, 0], keep[:, 1] = True, False
    r = torch.rand(batch, n, generator=g, dtype=F64)
    lo = 4 * eta / lam
    kappa = torch.where(keep, lo + r * (0.8 - lo), 1.2 + r * 1.8)
    s2 = (kappa * lam**2 / (4 * eta) - lam).clamp_min(0.0)
    return make_data_model(lam, s2, seed=seed, device=resolve_device()), eta.reshape(-1).to(resolve_device())


def nonwhitened_closed_form(dm, eta: torch.Tensor):
    """``(s*, keep, rate)`` per mode for DirectCopy on ``X = Q diag(λ) Qᵀ`` (α = 1: ``p = λ s``)."""
    lam, c = dm.x_spec, dm.x_spec + dm.aug_spec
    e = eta.reshape(-1, 1)
    disc = lam**2 - 4 * e * c
    keep = disc > 0
    p_plus = (lam + disc.clamp_min(0).sqrt()) / (2 * c)
    s_star = torch.where(keep, p_plus / lam, torch.zeros_like(lam))
    rate = torch.where(keep, 2 * p_plus * disc.abs().sqrt(), 2 * (e - lam**2 / (4 * c)))
    return s_star, keep, rate


def _limit(dm, eta, *, field: Callable = byol_field, init_scale: float = 0.3, near_identity: bool = True, seed: int = 0,
           cfg: SimConfig = _CFG):
    n = dm.X.shape[-1]
    s0 = random_init(n, n, dm.X.shape[0], seed=seed, scale=init_scale, near_identity=near_identity)
    tr = simulate(s0, dm.X, dm.Xp, cfg, field=field, predictor="directcopy", eta=eta, beta=None)  # SimSiam target
    W = tr.final.W
    s_star, keep, rate = nonwhitened_closed_form(dm, eta)
    u0 = (s0.W.mT @ s0.W).diagonal(dim1=-2, dim2=-1).amax(-1, keepdim=True)
    tol = ((u0 * torch.exp(-rate * cfg.t_end)).sum(-1) + 10 * cfg.rtol * (1 + s_star.sum(-1))).reshape(-1, 1, 1)
    want = (dm.basis * s_star.unsqueeze(-2)) @ dm.basis.mT
    return W.mT @ W, want, tol


def numeric_nonwhitened_threshold(*, field: Callable = byol_field) -> None:
    """Matrix simulation (4 cases, rotated eigenbasis) reaches Q diag(s*) Qᵀ with the non-whitened threshold."""
    def body(seed):
        dm, eta = draw_nonwhitened(seed)
        M, P, tol = _limit(dm, eta, field=field)
        assert_close(M, P, tol, claim="DirectCopy on X = Q diag(λ) Qᵀ: WᵀW → Q diag(s*) Qᵀ, kept iff λ²/(4(λ+σ²)) > η",
                     inputs=dm.Xp)
    run_property(SEEDS, body, max_examples=1)


def necessity_nonwhitened_init() -> str:
    """Drop 'initialisation above p₋': a small W(0) loses the modes the threshold keeps."""
    def refutes(seed):
        dm, eta = draw_nonwhitened(seed, batch=2)
        M, P, tol = _limit(dm, eta, init_scale=0.05, near_identity=False,
                           cfg=SimConfig(t_end=100.0, method="dopri5", rtol=1e-5, atol=1e-8, n_save=1, max_steps=3000))
        return not holds(assert_close, M, P, tol, claim="non-whitened threshold limit")
    s = find_counterexample(st.integers(0, 1), refutes, what="small init still keeps the non-whitened modes", max_examples=2)
    return f"seed {s}: W(0) small (p(0) < p₋): the modes with λ²/(4(λ+σ²)) > η are lost too"


# ---------------------------------------------------------------- normalised predictor: every mode collapses
_CFG_MODE = SimConfig(t_end=30.0, method="dopri5", rtol=1e-9, atol=1e-13, n_save=31, max_steps=5000)


def mode_flow(lam, s2, eta, alpha, eps, normalised: bool) -> Callable:
    """Per-mode DirectSet flow ``ṡ_j = 2 s_j [p_j(λ_j − (λ_j + σ_j²) p_j) − η]``, ``f = λ s``,
    ``p = (f/f_max)^α + ε`` (normalised) or ``f^α + ε``; α and ε are floats or ``(B, 1)`` tensors."""
    def f(t, y):
        s = y[0].clamp_min(0.0)
        fj = lam * s
        base = fj / fj.amax(-1, keepdim=True).clamp_min(1e-300) if normalised else fj
        p = base ** alpha + eps
        return (2 * s * (p * (lam - (lam + s2) * p) - eta),)
    return f


def _mode_case(seed: int, batch: int = 16):
    g = torch.Generator().manual_seed(seed)
    lam = 0.6 + 1.4 * torch.rand(batch, 3, generator=g, dtype=F64)
    s2 = 0.5 * torch.rand(batch, 3, generator=g, dtype=F64)  # q small: the unnormalised flow keeps every mode
    s0 = 0.5 + torch.rand(batch, 3, generator=g, dtype=F64)
    eta = 0.05
    return lam, s2, s0, eta


def numeric_normalised_collapse(*, flow: Callable = mode_flow) -> None:
    """Normalised predictor, 16 cases at once covering α ∈ {½, 1} × ε ∈ {0, 0.1}: the largest f = λ s obeys
    f_max(t) ≤ f_max(0) e^{−2ηt} at every saved time (tolerance 10·rtol relative + atol), so every mode collapses
    although the unnormalised threshold keeps them all."""
    def body(seed):
        lam, s2, s0, eta = _mode_case(seed)
        alpha = torch.tensor([0.5, 1.0], dtype=F64).repeat(8)[:, None]
        eps = torch.tensor([0.0, 0.0, 0.1, 0.1], dtype=F64).repeat(4)[:, None]
        tr = integrate(flow(lam, s2, eta, alpha, eps, True), (s0,), _CFG_MODE)
        t = torch.as_tensor(tr.t, dtype=F64).reshape(-1, 1)
        fmax = (lam * tr.y[0]).amax(-1)  # (T, B)
        bound = (lam * s0).amax(-1) * torch.exp(-2 * eta * t)
        assert_leq(fmax, bound, 10 * _CFG_MODE.rtol * bound + 10 * _CFG_MODE.atol,
                   claim="normalised DirectSet: f_max(t) ≤ f_max(0) e^{−2ηt} (every mode collapses)", names=("f_max", "bound"))
    run_property(SEEDS, body, max_examples=1)


def necessity_normalisation() -> str:
    """Drop 'W_p normalised by its top eigenvalue': the unnormalised flow keeps modes (f(T) far above the bound)."""
    def refutes(seed: int) -> bool:
        lam, s2, s0, eta = _mode_case(seed, batch=4)
        tr = integrate(mode_flow(lam, s2, eta, 1.0, 0.0, False), (s0,), _CFG_MODE)
        fmax = (lam * tr.y[0][-1]).amax(-1)
        return bool((fmax > 2 * (lam * s0).amax(-1) * torch.exp(torch.tensor(-2 * eta * _CFG_MODE.t_end))).any())
    seed = find_counterexample(st.integers(0, 3), refutes, what="unnormalised DirectSet collapsing like the normalised one",
                               max_examples=4)
    if seed is None:
        raise PropertyViolation("no case found")
    return f"seed {seed}: W_p = F (unnormalised): modes survive at s* > 0, far above f_max(0) e^{{−2ηT}}"


# ---------------------------------------------------------------- the per-mode reduction, ε > 0
_CFG_REDUCE = SimConfig(t_end=5.0, method="rk4", dt=0.05, n_save=10)
#: the set predictors and their per-mode eigenvalue p(f, ε) for F = W X Wᵀ with eigenvalues f = λ s
SET_PREDICTORS = {
    "directcopy": lambda f, eps: f + eps,  # W_p = F + εI
    "directset": lambda f, eps: f.sqrt() + eps,  # W_p = F^½ + εI (α = ½)
}  # DirectPred's ε f_max is left out: f_max switches mode where two modes cross, RK4 then loses its order


def numeric_mode_reduction(*, field: Callable = byol_field) -> None:
    """From an aligned start W(0) = Q diag(√s(0)) Qᵀ, X = Q diag(λ) Qᵀ, X' = Q diag(σ²) Qᵀ, SimSiam target, the full
    matrix simulator keeps WᵀW = Q diag(s(t)) Qᵀ with s the per-mode flow ṡ = 2s[p(λ − (λ+σ²)p) − η] and p the set
    predictor's eigenvalue (DirectCopy f + ε, DirectSet(½) √f + ε), ε ∈ [0.05, 0.3] drawn:
    the reduction every threshold of this paper rests on, with the ε the thresholds leave at 0.

    Both sides are RK4 runs; each one's tolerance comes from :func:`~ssl_props.dynamics.testing.converged`
    (Richardson on dt, dt/2, dt/4 with the asymptotic regime confirmed per case), and the comparison allows their sum.
    A sign slip in ε moves s by O(ε·T·s), far above either."""
    def body(seed):
        g = torch.Generator().manual_seed(seed)
        B, n = 6, 2 + seed % 2
        lam = 0.6 + 1.4 * torch.rand(B, n, generator=g, dtype=F64)
        s2 = torch.rand(B, n, generator=g, dtype=F64)
        s0 = 0.2 + torch.rand(B, n, generator=g, dtype=F64)
        eps = 0.05 + 0.25 * torch.rand(B, 1, generator=g, dtype=F64)
        eta = 0.05
        dm = make_data_model(lam, s2, seed=seed, device=resolve_device())
        lam, s2, s0, eps = (t.to(dm.basis) for t in (lam, s2, s0, eps))
        W0 = (dm.basis * s0.sqrt().unsqueeze(-2)) @ dm.basis.mT
        state0 = (W0, torch.zeros_like(W0), W0.clone())
        for name, p_of in SET_PREDICTORS.items():
            def flow(t, y, p_of=p_of):
                s = y[0].clamp_min(0.0)
                p = p_of(lam * s, eps)
                return (2 * s * (p * (lam - (lam + s2) * p) - eta),)
            matrix = converged(lambda c: simulate(state0, dm.X, dm.Xp, c, field=field, predictor=name, alpha=0.5,
                                                  eps=eps.reshape(-1), eta=eta, beta=None), _CFG_REDUCE,
                               lambda tr: (tr.y.W.mT @ tr.y.W, 1.0 + tr.y.W.square().sum((-2, -1), keepdim=True)))
            modes = converged(lambda c: integrate(flow, (s0,), c), _CFG_REDUCE,
                              lambda tr: (tr.y[0], 1.0 + tr.y[0].sum(-1, keepdim=True)))
            want = (dm.basis * modes.q.unsqueeze(-2)) @ dm.basis.mT
            tol = matrix.tol + modes.tol.amax(-1, keepdim=True).unsqueeze(-1)
            assert_close(matrix.q, want, tol, claim=f"{name} with ε > 0: aligned WᵀW(t) = Q diag(s(t)) Qᵀ, "
                         "ṡ = 2s[p(λ − (λ+σ²)p) − η]", names=("matrix simulator", "per-mode flow"), inputs=dm.Xp)
    run_property(SEEDS, body, max_examples=1)
