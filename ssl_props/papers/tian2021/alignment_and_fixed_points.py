"""Checks of Tian, Chen & Ganguli (2021), Theorem 3 and Eqns 11-18: eigenspace alignment of the predictor,
the mode dynamics, their fixed points and DirectPred (records in :mod:`ssl_props.papers.tian2021.records`;
tolerances as in :mod:`ssl_props.papers.tian2021.conservation_and_collapse`)."""
from __future__ import annotations

from typing import Callable

import torch
from hypothesis import strategies as st

from ssl_props.papers.tian2021 import derivations as D
from ssl_props.device import resolve_device
from ssl_props.properties import assert_close, assert_leq, find_counterexample, holds
from ssl_props.tolerances import sum_of_products
from ssl_props.dynamics.data_models import make_data_model, make_spectrum, random_init, SPECTRUM_KINDS
from ssl_props.dynamics.fields import LinearState, byol_field, directpred_predictor, mode_field
from ssl_props.dynamics.simulate import SimConfig, integrate, simulate
from ssl_props.dynamics.testing import converged, run_property
from ssl_props.papers.tian2021.draws import F64, fro, require, uniform
from ssl_props.strategies import SEEDS



# ---------------------------------------------------------------- Theorem 3
def symbolic_theorem3() -> None:
    require(D.is_zero(D.theorem3_residual()), "sympy: d[F,W_p]/dt ≠ −([F,W_p]K + K[F,W_p]) along Eqn 7")


_CFG3 = SimConfig(t_end=2.0, method="rk4", dt=0.05, n_save=8)


def _theorem3_gap(seed: int, *, field: Callable = byol_field, symmetric: bool = True, eta_range=(0.2, 0.5),
                  ap_range=(0.5, 2.0), wp_shift: float = 0.0, scale: float = 1.0):
    """SimSiam (τ = 1), X = I, X' = σ²I: returns ||L(t)||, the bound e^{−2λ0 t}||L(0)|| and its tolerance,
    with λ0 = 3η/2 − 1/(4c) ≤ inf_t λ_min K(t) (K = c(W_p − 1/(2c))² − 1/(4c) + (α_p c/2)F + (3/2)η, F ⪰ 0)."""
    g = torch.Generator().manual_seed(seed)
    B, n = 12, 3
    s2 = uniform(g, B, 0.0, 1.0)
    dm = make_data_model(torch.ones(B, n, dtype=F64), s2.cpu().reshape(B, 1).expand(B, n), seed=seed, device=resolve_device())
    s0 = random_init(n, n, B, seed=seed, scale=scale, symmetric_predictor=symmetric)
    s0 = LinearState(s0.W, s0.Wp + wp_shift * torch.eye(n, dtype=F64).to(s0.W), s0.Wa)
    eta, ap = uniform(g, B, *eta_range), uniform(g, B, *ap_range)
    run = lambda c: simulate(s0, dm.X, dm.Xp, c, field=field, eta=eta, alpha_p=ap, beta=None,  # noqa: E731
                             symmetric_predictor=symmetric)

    def comm(tr):
        F = tr.y.W @ tr.y.W.mT
        return fro(F @ tr.y.Wp - tr.y.Wp @ F), (fro(tr.y.W) ** 2 * fro(tr.y.Wp)).amax(0)

    c = converged(run, _CFG3, comm, case_dim=1)
    lam0 = 1.5 * eta - 1 / (4 * (1 + s2))
    bound = torch.exp(-2 * lam0.reshape(1, B) * c.traj.t.reshape(-1, 1)) * c.q[0]
    return c.q, bound, c.tol, lam0


def numeric_theorem3(*, field: Callable = byol_field) -> None:
    def body(seed):
        L, bound, tol, lam0 = _theorem3_gap(seed, field=field)
        assert bool((lam0 > 0).all())  # the drawn η make the theorem's hypothesis hold
        assert_leq(L, bound, tol, claim="Theorem 3: ||[F,W_p](t)||_F ≤ e^{−2λ0 t}||[F,W_p](0)||_F")
    run_property(SEEDS, body, max_examples=2)  # 2 × 12 cases × 2 step sizes × 40 RK4 steps


def necessity_theorem3_symmetric() -> str:
    def refutes(seed):
        L, bound, tol, _ = _theorem3_gap(seed, symmetric=False)
        return not holds(assert_leq, L, bound, tol, claim="Theorem 3")
    seed = find_counterexample(st.integers(0, 1), refutes, what="non-symmetric predictor obeys the bound", max_examples=2)
    return f"seed {seed}: non-symmetric W_p trained by Eqn 2 (unsymmetrised): ||[F,W_p]|| exceeds e^{{−2λ0 t}}||[F,W_p](0)||"


def necessity_theorem3_K() -> str:
    def refutes(seed):
        L, _, tol, _ = _theorem3_gap(seed, eta_range=(0.0, 0.0), ap_range=(0.1, 0.1), wp_shift=0.5, scale=0.1)
        return not holds(assert_leq, L, L[:1].expand_as(L), tol, claim="non-increasing commutator")
    seed = find_counterexample(st.integers(0, 1), refutes, what="the commutator never grows", max_examples=2)
    return f"seed {seed}: η = 0, α_p = 0.1, W_p ≈ I/2, small W: λ_min K < 0 and ||[F,W_p](t)|| > ||[F,W_p](0)||"


# ---------------------------------------------------------------- Eqns 11-13
_CFG11 = SimConfig(t_end=3.0, method="rk4", dt=0.15, n_save=4)


def numeric_eqn11(*, field: Callable = byol_field, modes: Callable = mode_field) -> None:
    def body(seed):
        g = torch.Generator().manual_seed(seed)
        B, k = 16, 3
        dev = resolve_device()
        s2 = 2 * torch.rand(B, k, generator=g, dtype=F64)
        dm = make_data_model(torch.ones(B, k, dtype=F64), s2, rotate=False, device=dev)
        w0 = (0.5 + torch.rand(B, k, generator=g, dtype=F64)).to(dev)
        p0 = (0.2 + torch.rand(B, k, generator=g, dtype=F64)).to(dev)
        tau0 = torch.rand(B, k, generator=g, dtype=F64).to(dev)
        eta, ap, beta = uniform(g, B, 0.0, 0.3), uniform(g, B, 0.3, 3.0), uniform(g, B, 0.2, 3.0)
        s0 = LinearState(torch.diag_embed(w0), torch.diag_embed(p0), torch.diag_embed(tau0 * w0))
        full = lambda c: simulate(s0, dm.X, dm.Xp, c, field=field, eta=eta, alpha_p=ap, beta=beta)  # noqa: E731
        red = lambda c: integrate(lambda t, y: modes(*y, sigma2=s2.to(dev), eta=eta, alpha_p=ap, beta=beta),  # noqa: E731
                                  (p0, w0**2, tau0), c)

        def gap(c):  # both integrations at step c.dt; the measured difference has shape (3, T, B, k)
            f, r = full(c), red(c)
            W, Wp, Wa = (torch.diagonal(m, dim1=-2, dim2=-1) for m in f.y)
            return (torch.stack([Wp - r.y[0], W**2 - r.y[1], Wa / W - r.y[2]]),
                    torch.stack([r.y[0], r.y[1], r.y[2]]).abs().amax(1, keepdim=True))

        res = converged(lambda c: c, _CFG11, gap, case_dim=2)
        assert_close(res.q, torch.zeros_like(res.q), res.tol, claim="Eqns 11-13: the diagonal full dynamics follow the mode ODE")
    run_property(SEEDS, body, max_examples=2)  # 2 × 16 cases, two fields × two step sizes × 20 RK4 steps


# ---------------------------------------------------------------- Eqn 14
def symbolic_eqn14() -> None:
    require(D.is_zero(D.eqn14_residual(+1)), "sympy: d/dt(s − p²/α_p) ≠ −2η(s − p²/α_p)")


def _mode_case(seed: int, B: int = 32):
    g = torch.Generator().manual_seed(seed)
    dev = resolve_device()
    s2, eta, ap = uniform(g, B, 0.0, 3.0), uniform(g, B, 0.0, 0.3), uniform(g, B, 0.3, 3.0)
    p0 = (2 * torch.rand(B, 1, generator=g, dtype=F64)).to(dev)
    s0 = (0.1 + 2 * torch.rand(B, 1, generator=g, dtype=F64)).to(dev)
    return s2, eta, ap, p0, s0


_CFG14 = SimConfig(t_end=5.0, method="rk4", dt=0.1, n_save=5)


def _eqn14_residual(s0, p0, eta, ap) -> Callable:
    """``measure`` for :func:`converged`: ``s − p²/α_p − e^{−2ηt}(s0 − p0²/α_p)`` (T, B, 1) and its magnitude."""
    def res(tr):
        p, s = tr.y[0], tr.y[1]
        c0 = s0 - p0**2 / ap.reshape(-1, 1)
        return s - p**2 / ap.reshape(-1, 1) - torch.exp(-2 * eta.reshape(1, -1, 1) * tr.t.reshape(-1, 1, 1)) * c0, (s.abs() + p**2).amax(0)
    return res


def numeric_eqn14(*, modes: Callable = mode_field) -> None:
    def body(seed):
        s2, eta, ap, p0, s0 = _mode_case(seed)
        run = lambda c: integrate(lambda t, y: modes(*y, sigma2=s2, eta=eta, alpha_p=ap), (p0, s0, torch.ones_like(p0)), c)  # noqa: E731

        c = converged(run, _CFG14, _eqn14_residual(s0, p0, eta, ap), case_dim=1)
        assert_close(c.q, torch.zeros_like(c.q), c.tol, claim="Eqn 14: s − p²/α_p = e^{−2ηt}c")
    run_property(SEEDS, body, max_examples=2)  # 2 × 32 scalar modes, 2 × 50 RK4 steps


def numeric_eqn14_printed_constant() -> None:
    """The printed ``c_j = α_p⁻¹p_j(0)² − s_j(0)`` contradicts Eqn 14 at t = 0 unless ``s_j(0) = α_p⁻¹p_j(0)²``."""
    def body(seed):
        s2, eta, ap, p0, s0 = _mode_case(seed)
        printed = p0**2 / ap.reshape(-1, 1) - s0
        at0 = p0**2 / ap.reshape(-1, 1) + printed  # Eqn 14 at t = 0 with the printed constant
        gap = (at0 - s0).abs()  # = 2|s0 − p0²/α_p|
        margin = (s0 - p0**2 / ap.reshape(-1, 1)).abs()
        keep = margin > sum_of_products(F64, 4, s0 + p0**2)
        assert_leq(sum_of_products(F64, 4, s0 + p0**2)[keep], gap[keep], 0.0,
                   claim="the printed constant of Eqn 14 is inconsistent at t = 0")
        require(bool(keep.any()), "no drawn mode is off the parabola")
    run_property(SEEDS, body, max_examples=5)


# ---------------------------------------------------------------- Eqn 16
def symbolic_eqn16() -> None:
    require(D.is_zero(D.eqn16_stability_residuals()), "sympy: fixed points / stability of Eqn 16 differ from the paper")
    require(D.is_zero(D.threshold_equivalence()), "sympy: D ≥ 0 is not σ² ≤ τ²/(4η) − 1")


_CFG16 = SimConfig(t_end=200.0, method="rk4", dt=1.0)  # h·|λ| ≤ 2 < 2.78 (RK4 stability)


def _eqn16_case(seed: int, B: int = 48, on_parabola: bool = True):
    """η ∈ [0.05, 0.2], τ = 1, q = 4ηc ≤ 0.85 or ≥ 1.5; p(0) at least 20 % of (p₊ − p₋) away from p₋.

    Horizon: the tolerance 1/(8c) needs a contraction by ~8 (ln 8 ≈ 2.1): the slowest rates are
    p₊√D ≥ 0.045 near p₊ and η(1 − 1/q) ≥ 0.0167 for q ≥ 1.5 (collapse), so T = 200 ≥ 2.1/0.0167 = 126."""
    g = torch.Generator().manual_seed(seed)
    dev = resolve_device()
    eta = uniform(g, B, 0.05, 0.2)
    q = torch.where(torch.rand(B, generator=g) < 0.6, 4 * eta.cpu() + torch.rand(B, generator=g, dtype=F64) * (0.85 - 4 * eta.cpu()),
                    1.5 + torch.rand(B, generator=g, dtype=F64)).to(dev)  # q = 4ηc
    s2 = (q / (4 * eta) - 1).clamp_min(0.0)
    c = 1 + s2
    pm, pp = D.fixed_points_fn()(torch.ones_like(eta), s2, eta)
    sup = q < 1
    side = torch.rand(B, generator=g).to(dev) < 0.5
    gap = torch.where(sup, pp - pm, torch.zeros_like(eta))
    p0 = torch.where(sup, torch.where(side, pm + (0.2 + 0.8 * torch.rand(B, generator=g, dtype=F64).to(dev)) * gap,
                                      pm * (0.8 * torch.rand(B, generator=g, dtype=F64).to(dev))),
                     torch.rand(B, generator=g, dtype=F64).to(dev) / c)
    ap = uniform(g, B, 0.5, 2.0)
    s0 = p0**2 / ap if on_parabola else torch.ones_like(p0)
    expect = torch.where(sup & side, pp, torch.zeros_like(p0))
    return eta, s2, ap, p0, s0, expect, 1 / (8 * c)  # tolerance: a quarter of the smallest p₊ ≥ 1/(2c)


def _eqn16_final(seed, *, modes: Callable = mode_field, on_parabola: bool = True):
    eta, s2, ap, p0, s0, expect, tol = _eqn16_case(seed, on_parabola=on_parabola)
    tr = integrate(lambda t, y: modes(*y, sigma2=s2, eta=eta, alpha_p=ap), (p0, s0, torch.ones_like(p0)), _CFG16)
    return tr.final[0], expect, tol


def numeric_eqn16(*, modes: Callable = mode_field) -> None:
    def body(seed):
        p, expect, tol = _eqn16_final(seed, modes=modes)
        assert_close(p, expect, tol, claim="Eqn 16: the mode converges to p₊ (above p₋, D > 0) or collapses to 0")
    run_property(SEEDS, body, max_examples=2)  # 2 × 48 modes, 200 RK4 steps of a cheap vector field


def necessity_eqn16_parabola() -> str:
    def refutes(seed):
        p, expect, tol = _eqn16_final(seed, on_parabola=False)
        return not holds(assert_close, p, expect, tol, claim="Eqn 16")
    seed = find_counterexample(st.integers(0, 1), refutes, what="off-parabola modes follow Eqn 16", max_examples=2)
    return f"seed {seed}: s(0) = 1 off the parabola: a mode started below p₋ grows to p₊ (no collapse)"


# ---------------------------------------------------------------- Eqns 18-19
def numeric_eqn18(*, predictor: Callable = directpred_predictor) -> None:
    def body(arg):
        kind, n, seed, e = arg
        g = torch.Generator().manual_seed(seed)
        B = 16
        spec = make_spectrum(n, 0.0, 3.0, kind, batch=B, min_gap=0.05, generator=g)
        dm = make_data_model(torch.ones_like(spec), spec, seed=seed, device=resolve_device())
        F = dm.Xp  # a PSD matrix Q diag(spec) Qᵀ with a chosen (possibly tied) spectrum
        Wp = predictor(F, e)
        smax = spec.amax(-1).to(F).reshape(B, 1, 1)
        R = Wp - e * smax * torch.eye(n, dtype=F64).to(F)
        mag = (fro(F) + fro(Wp) ** 2).reshape(B, 1, 1)
        # eigh backward error ~ n·eps·||F|| per entry, squared through the root: tol ∝ n·eps·(||F|| + ||W_p||²)
        tol = sum_of_products(F64, 4 * n, mag)
        assert_close(R @ R, F, tol, claim="Eqn 18: (W_p − ε s_max I)² = F")
        assert_close(Wp @ F, F @ Wp, tol, claim="Eqn 18: W_p commutes with F")
        assert_close(Wp, Wp.mT, tol, claim="Eqn 18: W_p is symmetric")
    run_property(st.tuples(st.sampled_from(SPECTRUM_KINDS), st.integers(1, 6), SEEDS, st.sampled_from((0.0, 0.1, 0.01))),
                 body, max_examples=30)


# ---------------------------------------------------------------- necessity of Eqns 11-14 and 18
def necessity_eqn11_aligned() -> str:
    """Eqns 11-13 without the common diagonal basis: a seeded W(0) with off-diagonal entries (X = I, X' diagonal);
    the full field's diagonal derivatives (ṗ_j = d(W_p)_jj/dt, ṡ_j = d(W_jj²)/dt) leave the mode ODE's."""
    def refutes(off: float) -> bool:
        return _eqn11_offdiag_gap(off)[0] > _eqn11_offdiag_gap(off)[1]
    off = find_counterexample(st.sampled_from((0.0, 0.3, 0.5)), refutes, what="off-diagonal W still follows the modes",
                              max_examples=5)
    gap, tol = _eqn11_offdiag_gap(off)
    return (f"seed 0: W(0) = diag(w) + {off:g}·(off-diagonal ones): |full diagonal field − Eqns 11-12| = {gap:.3g} "
            f"> {tol:.3g}")


def _eqn11_offdiag_gap(off: float) -> tuple[float, float]:
    g = torch.Generator().manual_seed(0)
    dev, k = resolve_device(), 3
    s2 = 2 * torch.rand(1, k, generator=g, dtype=F64)
    dm = make_data_model(torch.ones(1, k, dtype=F64), s2, rotate=False, device=dev)
    w0 = (0.5 + torch.rand(1, k, generator=g, dtype=F64)).to(dev)
    p0 = (0.2 + torch.rand(1, k, generator=g, dtype=F64)).to(dev)
    tau0 = torch.rand(1, k, generator=g, dtype=F64).to(dev)
    eta, ap, beta = uniform(g, 1, 0.0, 0.3), uniform(g, 1, 0.3, 3.0), uniform(g, 1, 0.2, 3.0)
    W0 = torch.diag_embed(w0) + off * (torch.ones(k, k, dtype=F64, device=dev) - torch.eye(k, dtype=F64, device=dev))
    st0 = LinearState(W0, torch.diag_embed(p0), torch.diag_embed(tau0 * w0))
    d = byol_field(st0, dm.X, dm.Xp, eta=eta, alpha_p=ap, beta=beta)
    dp, ds, _ = mode_field(p0, w0**2, tau0, sigma2=s2.to(dev), eta=eta, alpha_p=ap, beta=beta)
    full_dp = torch.diagonal(d.Wp, dim1=-2, dim2=-1)
    full_ds = 2 * w0 * torch.diagonal(d.W, dim1=-2, dim2=-1)
    gap = float(torch.cat([full_dp - dp, full_ds - ds]).abs().max())
    return gap, float(sum_of_products(F64, 4 * k**3, 1 + float(torch.cat([dp, ds]).abs().max()) * 10))


def _extra_p_decay(extra: float) -> Callable:
    def modes(p, s, tau, **kw):
        dp, ds, dt = mode_field(p, s, tau, **kw)
        return dp - extra * p, ds, dt
    return modes


def necessity_eqn14_same_decay() -> str:
    """Eqn 14 without the same weight decay η on W and W_p: an extra decay κ·p on the predictor mode only
    (seeded batch of 8 modes); s − p²/α_p − e^{−2ηt}c then departs from 0 beyond the RK4 error."""
    s2, eta, ap, p0, s0 = _mode_case(0, B=8)

    def refutes(extra: float) -> bool:
        run = lambda c: integrate(lambda t, y: _extra_p_decay(extra)(*y, sigma2=s2, eta=eta, alpha_p=ap),  # noqa: E731
                                  (p0, s0, torch.ones_like(p0)), c)

        c = converged(run, _CFG14, _eqn14_residual(s0, p0, eta, ap), case_dim=1)
        return not holds(assert_close, c.q, torch.zeros_like(c.q), c.tol, claim="Eqn 14")
    extra = find_counterexample(st.sampled_from((0.2, 0.5)), refutes, what="Eqn 14 with unequal decay", max_examples=3)
    return f"seed 0, 8 modes: extra decay {extra:g}·p on the predictor only: s − p²/α_p ≠ e^{{−2ηt}}c_j"


def necessity_eqn18_psd() -> str:
    """Eqn 18 without 'F symmetric PSD': a seeded symmetric F with a negative eigenvalue; the eigenvalues are clamped
    at 0 (√ of a negative is undefined), so (W_p − ε s_max I)² = F₊ ≠ F."""
    g = torch.Generator().manual_seed(0)
    n = 3
    Q = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=F64))[0]

    def refutes(neg: float) -> bool:
        return _eqn18_gap(Q, neg)[0] > _eqn18_gap(Q, neg)[1]
    neg = find_counterexample(st.sampled_from((0.0, -0.5, -1.0)), refutes, what="indefinite F still has a square root",
                              max_examples=5)
    gap, t = _eqn18_gap(Q, neg)
    return f"seed 0: F = Q diag(1, 0.5, {neg:g}) Qᵀ (indefinite): ||(W_p − ε s_max I)² − F||_max = {gap:.3g} > {t:.3g}"


def _eqn18_gap(Q: torch.Tensor, neg: float) -> tuple[float, float]:
    spec = torch.tensor([1.0, 0.5, neg], dtype=F64)
    F = ((Q * spec) @ Q.mT).to(resolve_device())
    Wp = directpred_predictor(F, 0.1)
    R = Wp - 0.1 * float(spec.max()) * torch.eye(3, dtype=F64, device=F.device)
    return float((R @ R - F).abs().max()), float(sum_of_products(F64, 12, float(fro(F) + fro(Wp) ** 2)))
