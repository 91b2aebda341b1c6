"""Errata of Tian, Chen & Ganguli (2021) besides Eqn 14's sign (issue 14 item 8), each a registered record with a
sympy check of the corrected form, a numeric counterexample to the printed one, and a necessity check.

Text read: the ar5iv rendering (https://ar5iv.labs.arxiv.org/html/2102.06810) through a GitHub-stored clipping of it,
characters 0-96,000 (main text, Appendices A-C), as reported in ``shared/papers/fidelity-2026-12/wang2021.md`` §5:
a verbatim copy of the HTML text, not the PDF. Mode variables as in Eqns 11-13: ``c = 1 + σ²``, ``p`` the predictor
eigenvalue, ``s`` the feature-correlation eigenvalue, ``τ`` the EMA ratio.

Tolerances of integrated quantities come from :func:`ssl_props.dynamics.testing.converged` (regime-confirmed
Richardson); instantaneous identities from :func:`ssl_props.tolerances.sum_of_products`.
"""
from __future__ import annotations

from typing import Callable

import torch
from hypothesis import strategies as st

from ssl_props.device import resolve_device
from ssl_props.dynamics.fields import mode_field
from ssl_props.dynamics.simulate import SimConfig, integrate
from ssl_props.dynamics.testing import converged, run_property
from ssl_props.papers.tian2021 import derivations as D
from ssl_props.papers.tian2021.draws import F64, require, uniform
from ssl_props.strategies import SEEDS
from ssl_props.properties import assert_close, assert_leq, find_counterexample, holds
from ssl_props.tolerances import sum_of_products

_CFG = SimConfig(t_end=3.0, method="rk4", dt=0.1, n_save=6)  # h·α_p s c ≤ 0.1·3·1.2·3 ≈ 1.1 < 2.78


def _modes(seed: int, B: int = 16, *, ap_range=(0.3, 3.0), eta_range=(0.0, 0.0)):
    g = torch.Generator().manual_seed(seed)
    dev = resolve_device()
    s2, eta, ap = uniform(g, B, 0.0, 2.0), uniform(g, B, *eta_range), uniform(g, B, *ap_range)
    p0 = (0.2 + torch.rand(B, 1, generator=g, dtype=F64)).to(dev)
    s0 = (0.2 + torch.rand(B, 1, generator=g, dtype=F64)).to(dev)
    return s2, eta, ap, p0, s0


# ---------------------------------------------------------------- the sentence after Eqn 14: s = p² + c
def symbolic_parabola() -> None:
    printed, corrected = D.parabola_without_alpha_residual()
    require(D.is_zero(corrected), "sympy: s − p²/α_p is not conserved at η = 0")
    require(not D.is_zero(printed), "sympy: s − p² is conserved for every α_p (the erratum would be void)")


def _parabola_gaps(seed: int, ap_range=(0.3, 3.0), *, modes: Callable = mode_field):
    s2, eta, ap, p0, s0 = _modes(seed, ap_range=ap_range)
    run = lambda c: integrate(lambda t, y: modes(*y, sigma2=s2, eta=0.0, alpha_p=ap), (p0, s0, torch.ones_like(p0)), c)  # noqa: E731
    a = ap.reshape(-1, 1)

    def both(tr):
        p, s = tr.y[0], tr.y[1]
        return torch.stack([s - p**2 / a - (s0 - p0**2 / a), s - p**2 - (s0 - p0**2)]), (s.abs() + p**2 / a + p**2).amax(0)
    c = converged(run, _CFG, both, case_dim=2)
    return c.q[0], c.q[1], c.tol[0], ap


def numeric_parabola(*, modes: Callable = mode_field) -> None:
    """η = 0, |α_p − 1| ≥ 0.2: ``s − p²/α_p`` stays at its initial value, ``s − p²`` (as printed) leaves it."""
    def body(seed):
        corr, printed, tol, ap = _parabola_gaps(seed, modes=modes)
        keep = (ap - 1).abs() >= 0.2
        assert_close(corr, torch.zeros_like(corr), tol, claim="Eqn 14 at η = 0: s − p²/α_p is constant")
        moved = printed.abs().amax(0).flatten()
        assert_leq(tol.flatten().expand_as(moved)[keep], moved[keep], 0.0, names=("tolerance", "max_t |Δ(s − p²)|"),
                   claim="the printed parabola s = p² + c fails for α_p ≠ 1")
    run_property(SEEDS, body, max_examples=2)


def necessity_parabola_alpha() -> str:
    def refutes(seed: int) -> bool:
        _, printed, tol, _ = _parabola_gaps(seed, ap_range=(1.0, 1.0))
        return holds(assert_close, printed, torch.zeros_like(printed), tol, claim="printed parabola at α_p = 1")
    seed = find_counterexample(st.integers(0, 1), refutes, what="s − p² conserved at α_p = 1", max_examples=2)
    return f"seed {seed}: α_p = 1: the printed s = p² + c holds along 16 modes (the erratum needs α_p ≠ 1)"


# ---------------------------------------------------------------- Figure 4's caption: ṗ = −p(p − p₋)(p − p₊)
def symbolic_figure4() -> None:
    corrected, printed = D.figure4_factor_residual()
    require(D.is_zero(corrected), "sympy: Eqn 16 ≠ −(1+σ²)p(p − p₋)(p − p₊)")
    require(not D.is_zero(printed), "sympy: the caption's form equals Eqn 16 (no erratum)")


def _fig4(seed: int, s2_range=(0.2, 2.0), *, modes: Callable = mode_field):
    g = torch.Generator().manual_seed(seed)
    B = 32
    s2, ap = uniform(g, B, *s2_range), uniform(g, B, 0.3, 3.0)
    c = 1 + s2
    eta = uniform(g, B, 0.1, 0.9) / (4 * c)  # D = 1 − 4ηc > 0 (τ = 1)
    pm, pp = D.fixed_points_fn()(torch.ones_like(eta), s2, eta)
    p = uniform(g, B, 0.05, 1.0) * 1.2 * pp
    dp, _, _ = modes(p, p**2 / ap, torch.ones_like(p), sigma2=s2, eta=eta, alpha_p=ap)  # on the parabola
    poly = p * (p - pm) * (p - pp)
    tol = sum_of_products(F64, 8, (1 + c) * (p.abs() + pp) ** 3 + eta * p)
    return dp, -c * poly, -poly, tol, p, pm, pp


def numeric_figure4(*, modes: Callable = mode_field) -> None:
    """On the parabola the mode field equals −(1+σ²)p(p − p₋)(p − p₊); the caption's form misses it by σ²p(p−p₋)(p−p₊)."""
    def body(seed):
        dp, corrected, printed, tol, p, pm, pp = _fig4(seed, modes=modes)
        assert_close(dp, corrected, tol, claim="Figure 4 (corrected): ṗ = −(1+σ²)p(p − p₋)(p − p₊)")
        off = ((p - pm).abs() > 0.05 * pp) & ((p - pp).abs() > 0.05 * pp)
        assert_leq(tol[off], (dp - printed).abs()[off], 0.0, claim="the caption's ṗ = −p(p − p₋)(p − p₊) is not Eqn 16",
                   names=("tolerance", "|Eqn 16 − caption|"))
    run_property(SEEDS, body, max_examples=3)


def necessity_figure4_sigma() -> str:
    def refutes(seed: int) -> bool:
        dp, _, printed, tol, *_ = _fig4(seed, s2_range=(0.0, 0.0))
        return holds(assert_close, dp, printed, tol, claim="caption at σ² = 0")
    seed = find_counterexample(st.integers(0, 1), refutes, what="caption right at σ² = 0", max_examples=2)
    return f"seed {seed}: σ² = 0 (c = 1): the caption's form is exact on 32 drawn modes"


# ---------------------------------------------------------------- "0 < η ≤ τ²/(4(1+σ²))": equality excluded
def symbolic_double_root() -> None:
    require(D.is_zero(D.double_root_residuals()), "sympy: at η = τ²/(4c) the root p* = τ/(2c) is not double with f'' = −τ")


_CFG_R = SimConfig(t_end=100.0, method="rk4", dt=2.0, n_save=4)  # fastest rate ≈ 2p₊²c ≤ 1: h·|λ| ≤ 2 < 2.78


def _at_threshold(seed: int, frac: float = 1.0, start: float = 0.3, *, modes: Callable = mode_field):
    """τ = 1, η ∈ [0.05, 0.2], c = frac/(4η) (η = frac·τ²/(4c)); p(0) = start·p₊ (below p₊), on the parabola."""
    g = torch.Generator().manual_seed(seed)
    B = 16
    eta, ap = uniform(g, B, 0.05, 0.2), uniform(g, B, 0.5, 2.0)
    c = frac / (4 * eta)
    s2 = c - 1
    pm, pp = D.fixed_points_fn()(torch.ones_like(eta), s2, eta)
    p0 = (start * pp).reshape(B, 1)
    run = lambda cf: integrate(lambda t, y: modes(*y, sigma2=s2, eta=eta, alpha_p=ap),  # noqa: E731
                               (p0, p0**2 / ap.reshape(-1, 1), torch.ones_like(p0)), cf)
    res = converged(run, _CFG_R, lambda tr: (tr.y[0], tr.y[0].abs().amax(0)), case_dim=1)
    return res.q[-1].flatten(), res.tol.flatten(), p0.flatten(), pp, c, eta


def numeric_double_root(*, modes: Callable = mode_field) -> None:
    """At η = τ²/(4c), from 0.3p* (below the double root) the mode collapses: f(p) = −cp(p − p*)² ≤ −c(0.7p*)²p for
    p ≤ 0.3p*, so p(T) ≤ 0.3p* e^{−0.49 c p*² T} = 0.3p* e^{−0.49ηT} (c p*² = η at equality) — p* is not a stable
    fixed point, and the range must be strict. T = 100, η ≥ 0.05: the bound is ≤ 0.09 p(0)."""
    def body(seed):
        pT, tol, p0, ps, c, _ = _at_threshold(seed, modes=modes)
        bound = p0 * torch.exp(-0.49 * c * ps**2 * _CFG_R.t_end)
        assert_leq(pT, bound, tol, claim="at η = τ²/(4(1+σ²)) a mode started below p* collapses", names=("p(T)", "bound"))
        assert_leq(bound, 0.5 * p0, 0.0, claim="the collapse bound is informative", names=("bound", "p(0)/2"))
    run_property(SEEDS, body, max_examples=1)  # 16 modes, 50-200 RK4 steps per step size


def necessity_double_root_equality() -> str:
    """Strictly inside the range (η = 0.8 τ²/(4c)) the same start, 0.7p₊, is above p₋ and converges to p₊ (stable)."""
    def refutes(frac: float) -> bool:
        pT, tol, _, pp, _, _ = _at_threshold(0, frac, start=0.7)
        return bool(((pT - pp).abs() <= 1e-3 * pp).all())
    frac = find_counterexample(st.sampled_from((0.8, 0.9)), refutes, what="strict range: p₊ attracts 0.7p₊", max_examples=2)
    return f"η = {frac:g}·τ²/(4c): from p(0) = 0.7p₊ every drawn mode converges to p₊ (|p(T) − p₊| ≤ 1e-3 p₊)"


# ---------------------------------------------------------------- Eqn 15: dt′, not dt
def symbolic_eqn15() -> None:
    require(D.is_zero(D.eqn15_residual()), "sympy: τ = βe^{−βt}∫p e^{βt′}dt′/p does not solve Eqn 13 on the parabola")


_CFG15 = SimConfig(t_end=4.0, method="rk4", dt=0.2, n_save=8)  # h·p²c ≤ 0.2·1.7·3 ≈ 1, h·β ≤ 0.6


def _eqn15(seed: int, off_parabola: float = 0.0, *, modes: Callable = mode_field):
    g = torch.Generator().manual_seed(seed)
    B = 16
    dev = resolve_device()
    s2, eta, ap, beta = uniform(g, B, 0.0, 2.0), uniform(g, B, 0.05, 0.3), uniform(g, B, 0.3, 3.0), uniform(g, B, 0.2, 3.0)
    p0 = (0.3 + torch.rand(B, 1, generator=g, dtype=F64)).to(dev)
    s0 = p0**2 / ap.reshape(-1, 1) + off_parabola
    b = beta.reshape(-1, 1)

    def vf(t, y):  # Eqns 11-13 for (p, s, τ) plus I' = p(t)e^{βt} (Eqn 15's integral, with dt′)
        dp, ds, dtau = modes(y[0], y[1], y[2], sigma2=s2, eta=eta, alpha_p=ap, beta=beta)
        return dp, ds, dtau, y[0] * torch.exp(b * t.reshape(-1, 1))
    run = lambda c: integrate(vf, (p0, s0, torch.zeros_like(p0), torch.zeros_like(p0)), c)  # noqa: E731

    def gap(tr):
        p, tau, I = tr.y[0], tr.y[2], tr.y[3]
        t = tr.t.reshape(-1, 1, 1)
        formula = b * torch.exp(-b * t) * I / p
        return tau - formula, (tau.abs() + formula.abs()).amax(0)
    res = converged(run, _CFG15, gap, case_dim=1)
    tr = res.traj
    printed = b * tr.t.reshape(-1, 1, 1)  # read with dt: ∫₀ᵗ p(t′)e^{βt′} dt = t·p(t′)e^{βt′}, at t′ = t: τ = βt
    return res.q, res.tol, tr.y[2] - printed


def numeric_eqn15(*, modes: Callable = mode_field) -> None:
    """On the parabola with τ(0) = 0: Eqn 13's τ(t) = βe^{−βt}∫₀ᵗp(t′)e^{βt′}dt′ / p(t) (I integrated alongside);
    the printed integral against dt, read literally, gives τ = βt, which leaves τ(t) at once."""
    def body(seed):
        gap, tol, printed_gap = _eqn15(seed, modes=modes)
        assert_close(gap, torch.zeros_like(gap), tol, claim="Eqn 15 (dt′): τ = βe^{−βt}∫p e^{βt′}dt′/p")
        worst = printed_gap[1:].abs().amax(0).flatten()
        assert_leq(tol.flatten().expand_as(worst), worst, 0.0, claim="the printed integral (dt) is not Eqn 13's τ",
                   names=("tolerance", "|τ − βt|"))
    run_property(SEEDS, body, max_examples=2)


def necessity_eqn15_parabola() -> str:
    def refutes(off: float) -> bool:
        gap, tol, _ = _eqn15(0, off_parabola=off)
        return not holds(assert_close, gap, torch.zeros_like(gap), tol, claim="Eqn 15 off the parabola")
    off = find_counterexample(st.sampled_from((0.5, 1.0)), refutes, what="Eqn 15 off the parabola", max_examples=2)
    return f"seed 0: s(0) = p(0)²/α_p + {off:g} (c_j ≠ 0, η > 0): τ(t) ≠ βe^{{−βt}}∫p e^{{βt′}}dt′/p"
