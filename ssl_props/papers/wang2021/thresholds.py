"""Checks of Wang, Chen, Du & Tian (2021) (records in :mod:`ssl_props.papers.wang2021.records`).

Setting: X = I, X' = Q diag(σ_j²) Qᵀ (Q Haar-random), weight decay η, predictor set from F = W Wᵀ:
DirectSet(α) ``W_p = F^α`` (α = ½: DirectPred without ε; α = 1: DirectCopy), SimSiam or EMA target.
Closed form (mode analysis, Tian et al. Eqn 12 with ``p = u = s^α``): mode j survives iff
``q_j := 4η(1 + σ_j²) < 1``, at ``s_j* = u₊^{1/α}``, ``u₊ = (1 + √(1 − q_j)) / (2(1 + σ_j²))``; so
``Wᵀ W → Q diag(s*) Qᵀ``, a (rescaled) projection onto the low-augmentation-variance directions.

Tolerance of the limit: along the aligned modes ``du/dt = 2αu[u(1 − cu) − η]``; by concavity of
``u(1 − cu)`` a kept mode started above u₊ approaches it at rate ≥ ``2αu₊√(1 − q)`` and a dropped mode
decays at rate ≥ ``2η(1 − 1/q)`` (since ``u(1 − cu) ≤ 1/(4c)``); the remaining transient at T bounds
the error, plus the integrator's ``10·rtol``. Draws keep ``|q − 1| ≥ 0.2`` so both rates are bounded below.
"""
from __future__ import annotations

import functools
from typing import Callable

import torch
from hypothesis import strategies as st

from ssl_props.papers.tian2021 import derivations as D
from ssl_props.device import resolve_device
from ssl_props.properties import PropertyViolation, assert_close, find_counterexample, holds
from ssl_props.dynamics.data_models import make_data_model, random_init
from ssl_props.dynamics.fields import byol_field
from ssl_props.dynamics.simulate import SimConfig, integrate, simulate
from ssl_props.dynamics.testing import run_property
from ssl_props.strategies import SEEDS

F64 = torch.float64
_CFG = SimConfig(t_end=100.0, method="dopri5", rtol=1e-7, atol=1e-10, n_save=1, max_steps=3000,
                 blowup=1e6)  # ~200 steps needed; legitimate states stay O(1)
_DATA = dict(n=(2, 4), batch=8, eta_range=(0.1, 0.2), margin=0.2)


def closed_form(dm, eta: torch.Tensor, alpha: float):
    """``(s*, keep, rate)`` per mode: the predicted limit, the keep mask and the convergence-rate lower bound."""
    c = 1 + dm.aug_spec
    q = 4 * eta.reshape(-1, 1) * c
    keep = q < 1
    up = (1 + torch.sqrt((1 - q).clamp_min(0))) / (2 * c)
    s_star = torch.where(keep, up ** (1 / alpha), torch.zeros_like(up))
    rate = torch.where(keep, 2 * alpha * up * torch.sqrt((1 - q).abs()),
                       2 * eta.reshape(-1, 1) * (1 - 1 / q.clamp_min(1e-300)))
    return s_star, keep, rate


def _project(dm, s):
    return (dm.basis * s.unsqueeze(-2)) @ dm.basis.mT


def run_directset(dm, eta, alpha: float, *, field: Callable = byol_field, beta=None, init_scale: float = 0.3,
                  near_identity: bool = True, seed: int = 0, cfg: SimConfig = _CFG, **kw):
    """Simulate DirectSet(α) (``predictor="directset"``; DirectCopy for α = 1) and return ``Wᵀ W`` at T."""
    n = dm.n
    s0 = random_init(n, n, dm.batch, seed=seed, scale=init_scale, near_identity=near_identity)
    pred = kw.pop("predictor", "directcopy" if alpha == 1 else "directset")
    tr = simulate(s0, dm.X, dm.Xp, cfg, field=field, predictor=pred, alpha=alpha, eta=eta, beta=beta, **kw)
    W = tr.final.W
    return W.mT @ W, s0


def _limit_gap(dm, eta, alpha, cfg: SimConfig = _CFG, eta_sim=None, **kw):
    """(WᵀW at T, predicted limit, tolerance, s*, keep); ``eta_sim`` simulates another η than the claim's."""
    M, s0 = run_directset(dm, eta if eta_sim is None else eta_sim, alpha, cfg=cfg, **kw)
    s_star, keep, rate = closed_form(dm, eta, alpha)
    u0 = (s0.W.mT @ s0.W).diagonal(dim1=-2, dim2=-1).amax(-1, keepdim=True)  # ≥ every initial mode energy
    transient = (u0 * torch.exp(-rate * cfg.t_end)).sum(-1)
    tol = (transient + 10 * cfg.rtol * (1 + s_star.sum(-1))).reshape(-1, 1, 1)
    return M, _project(dm, s_star), tol, s_star, keep


@functools.lru_cache(maxsize=8)
def _default_limits(seed: int):
    """Cached runs with the default field (shared by the threshold and the DirectCopy checks)."""
    dm, eta = _draw(seed)
    return dm, eta, _limit_gap(dm, eta, 0.5), _limit_gap(dm, eta, 1.0, beta=2.0)


def _draw(seed: int, batch: int = _DATA["batch"]):
    """A threshold data model batch from an integer seed: η ∈ [0.1, 0.2], kept q ∈ [4η, 0.8], dropped
    q ∈ [1.2, 3] (q = 4η(1 + σ²)), feature 0 kept and feature 1 dropped in every case."""
    import random

    g = torch.Generator().manual_seed(seed)
    rnd = random.Random(seed)
    B, n = batch, rnd.randint(*_DATA["n"])
    eta = 0.1 + 0.1 * torch.rand(B, generator=g, dtype=F64)
    keep = torch.rand(B, n, generator=g) < 0.5
    keep[:, 0], keep[:, 1] = True, False
    r = torch.rand(B, n, generator=g, dtype=F64)
    q_lo = 4 * eta.unsqueeze(1)
    q = torch.where(keep, q_lo + r * (0.8 - q_lo), 1.2 + r * 1.8)
    s2 = (q / q_lo - 1).clamp_min(0.0)
    return make_data_model(torch.ones_like(s2), s2, seed=seed, device=resolve_device()), eta.to(resolve_device())




def numeric_threshold(*, field: Callable = byol_field) -> None:
    runs = (("DirectPred (α = ½, SimSiam)", 0.5, None), ("DirectCopy (α = 1, EMA β = 2)", 1.0, 2.0))

    def body(seed):
        if field is byol_field:
            dm, eta, *gaps = _default_limits(seed)
        else:  # evaluated lazily: a failing first run ends the check
            dm, eta = _draw(seed)
            gaps = (lambda a=a, b=b: _limit_gap(dm, eta, a, beta=b, field=field) for _, a, b in runs)
        for (name, _, _), gap in zip(runs, gaps):
            M, P, tol, *_ = gap() if callable(gap) else gap
            assert_close(M, P, tol, claim=f"{name}: WᵀW → Q diag(s*) Qᵀ, modes with σ² ≥ 1/(4η) − 1 discarded",
                         inputs=dm.Xp)
    # 1 example × 8 cases × 2 adaptive runs to T = 100 (each ~1000 batched field evaluations, ~1 s)
    run_property(SEEDS, body, max_examples=1)


# necessity searches: two cases per try and a looser rtol (the tolerance formula includes 10·rtol)
_CFG_NEC = SimConfig(t_end=100.0, method="dopri5", rtol=1e-5, atol=1e-8, n_save=1, max_steps=3000, blowup=1e6)


def _refuted(**kw) -> Callable[[int], bool]:
    def refutes(seed):
        dm, eta = _draw(seed, batch=2)  # one counterexample suffices: two cases per try
        M, P, tol, *_ = _limit_gap(dm, eta, 1.0, cfg=_CFG_NEC, **kw)
        return not holds(assert_close, M, P, tol, claim="threshold limit")
    return refutes


def _nec(what: str, **kw) -> int:
    return find_counterexample(st.integers(0, 1), _refuted(**kw), what=what, max_examples=2)


def necessity_weight_decay() -> str:
    s = _nec("η = 0 still discards", eta_sim=0.0)
    return f"seed {s}: η = 0: every direction survives at u = 1/(1 + σ²) (no threshold, no projection)"


def necessity_initialisation() -> str:
    s = _nec("small init still keeps", init_scale=0.05, near_identity=False)
    return f"seed {s}: W(0) small (u_j(0) < u_j−): low-variance directions are lost too"


def necessity_predictor() -> str:
    s = _nec("W_p = I still keeps", predictor="identity")
    return f"seed {s}: without a predictor (W_p = I) every direction collapses"


def necessity_stop_gradient() -> str:
    s = _nec("no stop-gradient still keeps", stop_gradient=False)
    return f"seed {s}: without stop-gradient every direction collapses (Theorem 2 of Tian et al.)"


def symbolic_threshold() -> None:
    res, _ = D.directset_fixed_point_residual()
    if not (D.is_zero(res) and D.is_zero(D.threshold_equivalence())):
        raise PropertyViolation("sympy: u± do not solve u(1 − cu) = η, or the threshold is not σ² < 1/(4η) − 1")


def numeric_mode_field_zeros(*, mode_field: Callable | None = None) -> None:
    """The closed form is the library's per-mode field's stable zero: with X = I (τ = 1) and ε = 0,
    ``ds/dt = 2s[u(1 − cu) − η]``, ``u = s^α`` (:func:`~ssl_props.dynamics.fields.directset_mode_field`, called with
    its defaults τ = 1, ε = 0 and, for DirectPred, α = ½) vanishes at ``s* = u₊^{1/α}`` with negative slope and at
    ``u₋^{1/α}`` with positive slope for a kept mode, and is negative on (0, 2] for a dropped one.

    Tolerance of a zero: ``s*`` is computed with relative error ≤ 8·eps (sqrt, division, power), so
    ``|f(ŝ)| ≤ 8·eps·s*·|f′(s*)|`` plus the rounding of f's 8 products of total size ``2s(u + cu² + η)``, times
    SAFETY. The slopes are ``2s u′ (1 − 2cu) = ∓2s u′ √(1 − q)`` with ``|q − 1| ≥ 0.2`` in every draw: their
    signs are far from rounding, and a dropped mode's gain ``u(1 − cu) − η ≤ 1/(4c) − η < 0`` likewise."""
    from ssl_props import tolerances
    from ssl_props.dynamics.fields import directset_mode_field

    field = mode_field or directset_mode_field

    def body(seed):
        dm, eta = _draw(seed)
        s2, e = dm.aug_spec, eta.reshape(-1, 1)
        c, q = 1 + s2, 4 * e * (1 + s2)
        for alpha in (0.5, 1.0):
            def f(s, alpha=alpha):  # σ², η shaped like s (per mode), so they broadcast against the grid too
                kw = dict(sigma2=s2.expand_as(s), eta=e.expand_as(s))
                return field(s, **kw) if alpha == 0.5 else field(s, **kw, alpha=1.0)
            s_star, keep, _ = closed_form(dm, eta, alpha)
            s_minus = ((1 - torch.sqrt((1 - q).clamp_min(0))) / (2 * c)) ** (1 / alpha)
            for point, sign, what in ((s_star, -1, "s* = u₊^{1/α}"), (s_minus, 1, "u₋^{1/α}")):
                x = torch.where(keep, point, torch.ones_like(point)).requires_grad_(True)
                with torch.enable_grad():
                    val = f(x)
                    (slope,) = torch.autograd.grad(val.sum(), x)
                u = x.detach() ** alpha
                scale = 2 * x.detach() * (u + c * u * u + e)
                tol = tolerances.SAFETY * 8 * tolerances.eps(F64) * (x.detach() * slope.abs() + scale)
                assert_close(torch.where(keep, val.detach(), 0.0), torch.zeros_like(val), torch.where(keep, tol, 0.0),
                             claim=f"DirectSet(α = {alpha}) per-mode field vanishes at {what} (kept modes)", inputs=dm.Xp)
                if bool((keep & (sign * slope <= 0)).any()):
                    raise PropertyViolation(f"DirectSet(α = {alpha}): the zero {what} of a kept mode is not "
                                            f"{'stable' if sign < 0 else 'unstable'} (slope {slope[keep].tolist()})")
            grid = torch.linspace(0.05, 2.0, 40, dtype=F64).reshape(-1, 1, 1)
            vals = f(grid.expand(-1, *s2.shape))
            if bool(((vals >= 0) & ~keep).any()):
                raise PropertyViolation(f"DirectSet(α = {alpha}): a dropped mode (4η(1 + σ²) > 1) has ds/dt ≥ 0 at "
                                        "some s in (0, 2]")
    run_property(SEEDS, body, max_examples=3)


def _kept_projector(M: torch.Tensor, level: torch.Tensor) -> torch.Tensor:
    s, U = torch.linalg.eigh(M)
    keep = (s > level.reshape(-1, 1)).to(M)
    return (U * keep.unsqueeze(-2)) @ U.mT


def numeric_same_subspace(*, field: Callable = byol_field) -> None:
    """DirectPred (α = ½) and DirectCopy (α = 1) end on the same subspace: equal projectors onto
    ``{eigenvalues of WᵀW > ½ min_j s_j*}`` (the level sits halfway to the smallest kept eigenvalue,
    so a tolerance of the limits' tolerance / that level bounds the projector error, Davis-Kahan)."""
    def body(seed):
        if field is byol_field:
            dm, eta, (M1, _, t1, s1, k1), (M2, _, t2, s2, k2) = _default_limits(seed)
        else:
            dm, eta = _draw(seed)
            M1, _, t1, s1, k1 = _limit_gap(dm, eta, 0.5, field=field)
            M2, _, t2, s2, k2 = _limit_gap(dm, eta, 1.0, beta=2.0, field=field)
        big = torch.tensor(float("inf"), dtype=F64)
        lvl1 = torch.where(k1, s1, big).amin(-1) / 2
        lvl2 = torch.where(k2, s2, big).amin(-1) / 2
        P1, P2 = _kept_projector(M1, lvl1), _kept_projector(M2, lvl2)
        tol = 4 * (t1 / lvl1.reshape(-1, 1, 1) + t2 / lvl2.reshape(-1, 1, 1))
        assert_close(P1, P2, tol, claim="DirectPred and DirectCopy reach the same subspace")
        if not bool((k1 == k2).all()):
            raise PropertyViolation("closed forms of α = ½ and α = 1 keep different modes")
    run_property(SEEDS, body, max_examples=1)  # shares the cached runs of numeric_threshold


# ---------------------------------------------------------------- toy SGD training
_SGD = dict(steps=1000, lr=0.1, batch=256)


def _sgd_case(seed: int):
    """d = 6 features: 3 kept (q = 4η(1+σ²) ≤ 0.7), 3 discarded (q ≥ 1.6), η = 0.1."""
    g = torch.Generator().manual_seed(seed)
    eta = 0.1
    s2 = torch.cat([0.75 * torch.rand(3, generator=g, dtype=F64), 3.0 + 2.0 * torch.rand(3, generator=g, dtype=F64)])
    c = 1 + s2
    q = 4 * eta * c
    up = (1 + torch.sqrt((1 - q).clamp_min(0))) / (2 * c)
    return s2, eta, torch.where(q < 1, up / c, torch.zeros_like(up)), q < 1


def numeric_sgd_threshold(*, train: Callable | None = None, **train_kw) -> None:
    """Minibatch SGD with DirectCopy (augmented F̂, so s* = u₊/c) reproduces the threshold.

    Tolerance: the SGD stationary fluctuation of a mode has relative std ≈ √(lr·c/(2·batch·rate))
    ≤ √(0.1·1.75/(512·0.16)) ≈ 0.05 (rate ≥ 2u₊√(1 − q) ≥ 0.16 for q ≤ 0.7): kept energies within 4 std
    = 20 %; discarded ones below 5 % of the smallest kept level (they decay as e^{−2η(1−1/q)·lr·steps} ≤ e^{−7.5}).
    """
    from ssl_props.dynamics.training import train_linear_ssl

    fn = train or train_linear_ssl

    def body(seed):
        s2, eta, s_star, keep = _sgd_case(seed)
        W = fn(s2, eta, seed=seed, **{**_SGD, **train_kw})
        e = (W.mT @ W).diagonal().cpu()
        assert_close(e[keep], s_star[keep], 0.2 * s_star[keep], claim="SGD: kept features at s* = u₊/c")
        assert_close(e[~keep], torch.zeros_like(e[~keep]), 0.05 * s_star[keep].min(),
                     claim="SGD: features with σ² ≥ 1/(4η) − 1 discarded")
    run_property(SEEDS, body, max_examples=1)  # one ~1 s SGD run (1000 steps): the property is the limit


# ---------------------------------------------------------------- necessity of DirectCopy and of the SGD toy
_CFG_MODE = SimConfig(t_end=40.0, method="rk4", dt=0.2, n_save=1)


def _directset_mode_limit(s0: torch.Tensor, c: float, eta: float, alpha: float) -> torch.Tensor:
    """Per-mode DirectSet(α) flow (Tian et al. Eqn 12 with τ = 1, p = u = s^α): ṡ = 2s(u(1 − cu) − η); s(T)."""
    def f(t, y):
        s = y[0].clamp_min(0.0)
        u = s ** alpha
        return (2 * s * (u * (1 - c * u) - eta),)
    return integrate(f, (s0,), _CFG_MODE).y[0][-1]


def necessity_same_init_threshold() -> str:
    """Drop 'initialisation above the unstable point for both α': u = s^α maps one s(0) to different u(0), so an
    s(0) with s(0) < u₋ < √s(0) is kept by DirectPred (α = ½) and lost by DirectCopy (α = 1). Seeded grid of s(0)."""
    c, eta = 1.5, 0.1  # q = 4ηc = 0.6 < 1: the mode is above the threshold for every α
    um = (1 - (1 - 4 * eta * c) ** 0.5) / (2 * c)
    s0 = torch.linspace(0.01, 0.5, 25, dtype=F64).reshape(-1, 1)
    half, one = _directset_mode_limit(s0, c, eta, 0.5), _directset_mode_limit(s0, c, eta, 1.0)
    level = 0.5 * ((1 + (1 - 4 * eta * c) ** 0.5) / (2 * c))  # half of u₊ (≤ every s* = u₊^{1/α}, α ≤ 1, u₊ < 1)
    differ = ((half > level ** 2) != (one > level)).flatten()
    if not bool(differ.any()):
        raise PropertyViolation("no initialisation separates the subspaces of α = ½ and α = 1")
    i = int(differ.nonzero()[0])
    return (f"c = 1 + σ² = {c:g}, η = {eta:g} (kept for every α, u₋ = {um:.4g}): s(0) = {float(s0[i]):.4g} → "
            f"DirectPred s(T) = {float(half[i]):.4g}, DirectCopy s(T) = {float(one[i]):.4g}: different subspaces")


def necessity_sgd_stop_gradient(*, steps: int = 150) -> str:
    """The SGD toy without the stop-gradient (gradient also through the target W x2): the kept features collapse
    too. Seed 0, a short run (lr 0.05, batch 128); the same run with the stop-gradient keeps them near s*."""
    from ssl_props.dynamics.training import train_linear_ssl

    s2, eta, s_star, keep = _sgd_case(0)
    kw = dict(steps=steps, lr=0.05, batch=128, seed=0)
    e = {sg: (lambda W: (W.mT @ W).diagonal().cpu())(train_linear_ssl(s2, eta, stop_gradient=sg, **kw))
         for sg in (True, False)}
    with_sg, without = e[True][keep] / s_star[keep], e[False][keep] / s_star[keep]
    if not (bool((with_sg > 0.5).all()) and bool((without < 0.01).all())):
        raise PropertyViolation(f"stop-gradient makes no difference on the seeded run: {with_sg.tolist()} vs {without.tolist()}")
    j = int(without.argmax())
    return (f"seed 0, {steps} SGD steps (lr 0.05, batch 128): without stop-gradient every kept feature collapses "
            f"(largest energy / s* = {float(without[j]):.2g}); with it ≥ {float(with_sg.min()):.2g}")
