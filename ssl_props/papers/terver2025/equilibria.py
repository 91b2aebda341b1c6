"""Checks of Terver, Ponce & Hebert (2025, arXiv:2507.01028) about the equilibria of the linear SG/EMA dynamics:
Prop. 4.5 (closed form), Cor. 4.6 (varieties), Prop. 4.7 (existence), Thm 4.9 (linearisation criterion),
Prop. 4.10 (stability of limit points), Prop. 4.11 (scalar input: two spheres). Shared inputs, tolerances and the
cached flow limits are those of :mod:`ssl_props.papers.terver2025.gradient_fields` (same override convention).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import torch
from hypothesis import given, settings, strategies as st

from ssl_props import tolerances as tol
from ssl_props.dynamics import moments_model as tv
from ssl_props.papers.terver2025 import closed_forms as cf
from ssl_props.dynamics.simulate import SimConfig, integrate
from ssl_props.properties import PropertyViolation, assert_leq
from ssl_props.papers.terver2025.gradient_fields import (BATCH, DT, EPS, T_FLOW, Case, _dev, _eq_tol, _field, _fnorm, _limits, _newton_ok, _slow,
                         flow_cases, make_case)
from ssl_props.strategies import SEEDS


# ---------------------------------------------------------------- Prop 4.5 / Cor 4.6 / Prop 4.7: equilibria
def _sg_limits_full_rank(case: Case, field: Any, what: str) -> tuple:
    (A, B), corr = _limits(case, "sg", field)
    _newton_ok(corr, (A, B), what)
    smin = torch.linalg.svdvals(A)[..., -1]
    t = _eq_tol((A, B), case.mom)
    assert_leq(torch.full_like(smin, 1e-3), smin, 0.0, claim=f"{what}: the SG limit has full rank (σ_min(A) > 1e-3)",
               names=("1e-3", "σ_min(A)"))
    assert_leq(_fnorm(_field("sg", field), (A, B), case), t, 0.0, claim=f"{what}: the limit is an equilibrium",
               names=("‖field‖", "rounding bound"))
    return A, B, t


def check_limits_solve_prop45(*, predictor: Callable[..., torch.Tensor] = cf.equilibrium_predictor,
                              field: tv.Field | None = None) -> None:
    """Prop. 4.5: SG limits satisfy ``([xxᵀ]S + λ)(S[xxᵀ] + λ) = [xyᵀ]S[yxᵀ]`` and ``B = A[yxᵀ]AᵀW⁻¹``;
    tolerance: rounding bound scaled by ‖[xxᵀ]‖²‖S‖² (quartic terms) resp. cond(W)."""
    @settings(max_examples=_slow())
    @given(flow_cases())
    def prop(case: Case) -> None:
        A, B, t = _sg_limits_full_rank(case, field, "terver2025.prop4.5")
        S = A.mT @ A
        res = cf.prop45_residual(S, case.mom, case.lam).flatten(-2).norm(dim=-1)
        big = (case.mom.joint().flatten(-2).norm(dim=-1) * (1 + S.flatten(-2).norm(dim=-1)) + case.lam) ** 2
        assert_leq(res, tol.sum_of_products(DT, 4 * case.m, big) + t * big, 0.0,
                   claim="terver2025.prop4.5: S = AᵀA solves the quadratic equations", names=("residual", "bound"))
        Bp = predictor(A, case.mom, case.lam)
        W = A @ case.mom.xx @ A.mT + case.lam.reshape(-1, 1, 1) * torch.eye(case.n, dtype=DT, device=A.device)
        assert_leq((Bp - B).flatten(-2).norm(dim=-1), t * torch.linalg.cond(W) * 10, 0.0,
                   claim="terver2025.prop4.5: B = A[yxᵀ]AᵀW⁻¹", names=("‖B − formula‖", "bound"))
    prop()


def necessity_collapsed_equilibrium() -> str:
    """Without full rank: (A, B) = (0, 0) is an SG equilibrium (λ > 0) but the S-equation leaves λ²I."""
    case = make_case(3, 2, 0)
    Z = (torch.zeros_like(case.point[0]), torch.zeros_like(case.point[1]))
    f = _fnorm(tv.sg_field, Z, case)
    res = cf.prop45_residual(torch.zeros_like(case.mom.xx), case.mom, case.lam).flatten(-2).norm(dim=-1)
    if bool((f > 0).any()) or bool((res <= 0).any()):
        raise PropertyViolation("terver2025.prop4.5 necessity: (0, 0) did not refute the S-equation")
    return f"(A, B) = (0, 0): ‖field‖ = 0 but ‖residual‖ = λ²√m = {float(res[0]):.3g}"


def _ridge_free_equilibrium(A: torch.Tensor, mom: tv.ViewMoments) -> torch.Tensor:
    """λ = 0: ``B = A [yxᵀ][xxᵀ]⁻¹ A⁺`` gives ``R = 0``, an equilibrium for every full-rank A."""
    return A @ mom.yx @ torch.linalg.inv(mom.xx) @ torch.linalg.pinv(A)


def necessity_no_ridge_predictor() -> str:
    """λ = 0: B is not determined by A — ``B + N(I − AA⁺)`` is another equilibrium with the same A."""
    case = make_case(3, 1, 0)
    A = case.point[0]
    B1 = _ridge_free_equilibrium(A, case.mom)
    B2 = B1 + case.point[1] @ (torch.eye(3, dtype=DT, device=A.device) - A @ torch.linalg.pinv(A))
    f = torch.maximum(*(tv.flatten(tv.sg_field((A, B), case.mom, 0.0)).norm(dim=-1) for B in (B1, B2)))
    gap = (B1 - B2).flatten(-2).norm(dim=-1)
    if bool((f > _eq_tol((A, B2), case.mom)).any()) or bool((gap < 1e-3).any()):
        raise PropertyViolation("terver2025.prop4.5 necessity: λ = 0 did not give two predictors for one encoder")
    return f"λ = 0: two equilibria share A, ‖B₁ − B₂‖ = {float(gap[0]):.3g}, max ‖field‖ = {float(f.max()):.1e}"


def check_variety_of_equilibria(*, predictor: Callable[..., torch.Tensor] = cf.equilibrium_predictor,
                                field: tv.Field | None = None) -> None:
    """Cor. 4.6: from an SG limit (A*, B*), every ``A = U√S*`` (random UᵀU = I) with B = predictor(A) is an
    equilibrium, and the orbit's tangent space has dimension mn − m(m+1)/2."""
    f = _field("sg", field)

    @settings(max_examples=_slow())
    @given(flow_cases(), SEEDS)
    def prop(case: Case, seed: int) -> None:
        A, B, t = _sg_limits_full_rank(case, field, "terver2025.cor4.6")
        ev, V = torch.linalg.eigh(A.mT @ A)
        root = V @ torch.diag_embed(ev.sqrt()) @ V.mT
        U, _ = torch.linalg.qr(torch.randn(BATCH, case.n, case.m, generator=torch.Generator().manual_seed(seed), dtype=DT))
        A2 = _dev(U)[0] @ root
        B2 = predictor(A2, case.mom, case.lam)
        assert_leq(_fnorm(f, (A2, B2), case), 10 * t, 0.0, claim="terver2025.cor4.6: U√S* is an equilibrium",
                   names=("‖field‖", "rounding bound"))
        sv = torch.linalg.svdvals(tv.orbit_tangent((A2, B2)))
        k = int((sv > 1e-8 * sv[..., :1]).sum(-1).min())
        want = case.m * case.n - case.m * (case.m + 1) // 2
        if k != want:
            raise PropertyViolation(f"terver2025.cor4.6: orbit dimension {k} ≠ mn − m(m+1)/2 = {want}")
    prop()


def necessity_no_ridge_continuum() -> str:
    """λ = 0: (A, B(A)) and (2A, B(2A)) are both equilibria — S ranges over a continuum, not finitely many S_k."""
    case = make_case(3, 1, 0)
    A = case.point[0]
    fs = [tv.flatten(tv.sg_field((k * A, _ridge_free_equilibrium(k * A, case.mom)), case.mom, 0.0)).norm(dim=-1)
          for k in (1.0, 2.0)]
    if bool((torch.maximum(*fs) > 4 * _eq_tol((2 * A, case.point[1]), case.mom)).any()):
        raise PropertyViolation("terver2025.cor4.6 necessity: λ = 0 did not give a continuum of equilibria")
    return f"λ = 0: S and 4S are both equilibrium values (‖field‖ ≤ {float(torch.maximum(*fs).max()):.1e})"


def check_full_rank_equilibrium_exists(*, field: tv.Field | None = None) -> None:
    """Prop. 4.7: for drawn generic data (λ ∈ [0.05, 0.15]) a full-rank equilibrium exists, witnessed by the
    SG flow + Newton (σ_min(A) > 1e-3, ‖field‖ at rounding level)."""
    @settings(max_examples=_slow())
    @given(flow_cases())
    def prop(case: Case) -> None:
        _sg_limits_full_rank(case, field, "terver2025.prop4.7")
    prop()


def _scalar_case(n: int, rho: float, tau: float, lam: float) -> Case:
    mom = tv.ViewMoments(*_dev(*(torch.full((1, 1, 1), v, dtype=DT) for v in (rho, tau, 1.0))))
    one = _dev(torch.ones(1, dtype=DT))[0]
    return Case(n, 1, mom, lam * one, one, (), ())


def necessity_large_ridge() -> str:
    """m = 1 with Δ = τ² − 4ρλ < 0: no sphere of equilibria, and the SG flow from ‖a‖ = 2 collapses to 0."""
    case = _scalar_case(2, 1.0, 0.5, 0.1)
    r1, r2 = cf.sphere_radii(case.mom.xx[..., 0, 0], case.mom.yx[..., 0, 0], case.lam)
    A0 = _dev(torch.tensor([[[2.0], [0.0]]], dtype=DT))[0]
    (A, B), _ = tv.limit_point(tv.sg_field, (A0, cf.equilibrium_predictor(A0, case.mom, case.lam)), case.mom,
                               case.lam, case.beta, t_end=100.0)
    if not bool(torch.isnan(r2).all()) or float(A.norm()) > 1e-9:
        raise PropertyViolation("terver2025.prop4.7 necessity: Δ < 0 still gave a non-collapsed equilibrium")
    return f"ρ = 1, τ = 0.5, λ = 0.1 (Δ = −0.15): radii NaN, SG limit ‖A‖ = {float(A.norm()):.1e}"


# ---------------------------------------------------------------- Thm 4.9: linearisation criterion
def _hurwitz(k: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``J = −(PPᵀ/k + δI) + (K − Kᵀ)/2`` (so ``xᵀJx ≤ −δ‖x‖²``), quadratic tensor H, and δ (B,)."""
    g = torch.Generator().manual_seed(seed)
    P, K, H = (torch.randn(BATCH, *s, generator=g, dtype=DT) for s in ((k, k), (k, k), (k, k, k)))
    delta = 0.2 + 0.8 * torch.rand(BATCH, generator=g, dtype=DT)
    J = -(P @ P.mT / k + delta.reshape(-1, 1, 1) * torch.eye(k, dtype=DT)) + 0.5 * (K - K.mT)
    return _dev(J, H, delta)


def check_linearisation_criterion(*, make: Callable[[int, int], tuple] = _hurwitz) -> None:
    """Thm 4.9: ``ẋ = Jx + q(x)``, ``‖q(x)‖ ≤ h‖x‖²``; from ‖x₀‖ = min(δ/(2h), 1): ‖x(t)‖ ≤ ‖x₀‖e^{−δt/2} at 6 save times
    (since d‖x‖/dt ≤ −δ‖x‖ + h‖x‖²), up to t = 4/δ; tolerance 1e-5‖x₀‖ (dopri5 rtol 1e-7)."""
    @settings(max_examples=2)  # each example integrates a batch of 6 systems
    @given(st.integers(2, 4), SEEDS)
    def prop(k: int, seed: int) -> None:
        J, H, delta = make(k, seed)
        h = H.flatten(-2).norm(dim=-1).norm(dim=-1)  # ‖q(x)‖ = ‖(xᵀH_i x)_i‖ ≤ (Σ‖H_i‖_F²)^½ ‖x‖²
        x0 = (delta / (2 * h)).clamp(max=1.0).unsqueeze(-1) * torch.nn.functional.normalize(H[..., 0, 0] + 1e-3, dim=-1)
        vf = lambda t, y: ((J @ y[0].unsqueeze(-1)).squeeze(-1) + torch.einsum("bi,bkij,bj->bk", y[0], H, y[0]),)  # noqa: E731
        traj = integrate(vf, (x0,), SimConfig(t_end=float(4 / delta.min()), method="dopri5", rtol=1e-7, atol=1e-12, n_save=6))
        r0 = x0.norm(dim=-1)
        for i, tk in enumerate(traj.t):
            assert_leq(traj.y[0][i].norm(dim=-1), r0 * torch.exp(-delta * tk / 2), 1e-5 * r0,
                       claim="terver2025.thm4.9: the equilibrium attracts", names=("‖x(t)‖", "‖x₀‖e^{−δt/2}"))
    prop()


def necessity_unstable_eigenvalue() -> str:
    """One eigenvalue +0.5: from ‖x₀‖ = 1e-6 along it, ‖x(20)‖ > 1e3‖x₀‖ — the criterion needs Re spec J < 0."""
    J, H, _ = _hurwitz(3, 0)
    J = J + (0.5 - torch.linalg.eigvals(J).real.max(-1).values).reshape(-1, 1, 1) * torch.eye(3, dtype=DT, device=J.device)
    ev, V = torch.linalg.eig(J)
    i = ev.real.argmax(-1)
    x0 = 1e-6 * torch.nn.functional.normalize(V.real[torch.arange(BATCH), :, i] + 1e-3, dim=-1)
    vf = lambda t, y: ((J @ y[0].unsqueeze(-1)).squeeze(-1) + torch.einsum("bi,bkij,bj->bk", y[0], H, y[0]),)  # noqa: E731
    x = integrate(vf, (x0,), SimConfig(t_end=20.0, method="dopri5", rtol=1e-6, atol=1e-16)).final[0]
    grow = x.norm(dim=-1) / x0.norm(dim=-1)
    if not bool((grow > 1e3).all()):
        raise PropertyViolation("terver2025.thm4.9 necessity: an unstable eigenvalue did not make x(t) escape")
    return f"max Re spec J = 0.5: ‖x(20)‖/‖x₀‖ ≥ {float(grow.min()):.3g}"


# ---------------------------------------------------------------- Prop 4.10 / 4.11: stability
def _transversal(field: tv.Field, state: tuple, case: Case, m: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(max Re of the transversal spectrum, ‖J Q_T‖, tolerance √eps‖J‖_F — eigenvalues of a non-normal J are
    accurate to about √eps‖J‖ near a 2-Jordan block)."""
    J = tv.jacobian(field, state, case.mom, case.lam, case.beta)
    k = m * case.n - m * (m + 1) // 2
    ev, jq = tv.transversal_spectrum(J, tv.orbit_tangent(state), k)
    return ev.real.max(-1).values, jq, math.sqrt(EPS) * J.flatten(-2).norm(dim=-1)


def check_limits_stable(*, procedure: str = "sg", field: tv.Field | None = None) -> None:
    """Prop. 4.10: SG/EMA limits are non-collapsed equilibria (σ_min(A) > 1e-3, C = A) whose Jacobian vanishes on the
    orbit's tangent space and has a transversal spectrum with max Re < −√eps‖J‖."""
    f = _field(procedure, field)

    @settings(max_examples=_slow())
    @given(flow_cases())
    def prop(case: Case) -> None:
        state, corr = _limits(case, procedure, field)
        what = f"terver2025.prop4.10 ({procedure})"
        _newton_ok(corr, state, what)
        t = _eq_tol(state, case.mom)
        assert_leq(torch.full_like(corr, 1e-3), torch.linalg.svdvals(state[0])[..., -1], 0.0,
                   claim=f"{what}: the limit is not collapsed", names=("1e-3", "σ_min(A)"))
        if procedure == "ema":
            assert_leq((state[2] - state[0]).flatten(-2).norm(dim=-1), t, 0.0, claim=f"{what}: teacher = student",
                       names=("‖C − A‖", "bound"))
        re, jq, te = _transversal(f, state, case, case.m)
        assert_leq(jq, te, 0.0, claim=f"{what}: J vanishes along the variety", names=("‖J Q_T‖", "√eps‖J‖"))
        assert_leq(re, -te, 0.0, claim=f"{what}: transversal spectrum in Re < 0", names=("max Re", "−√eps‖J‖"))
    prop()


def necessity_frozen_teacher() -> str:
    """β = 0 (teacher copied once, never updated): at an SG equilibrium with C = A, the C-block adds zero
    eigenvalues off the variety, so the transversal spectrum reaches 0 — not asymptotically stable."""
    case = make_case(3, 1, 0)
    (A, B), _ = _limits(case, "sg")
    frozen = case._replace(beta=torch.zeros_like(case.beta))
    re, _, te = _transversal(tv.ema_field, (A, B, A.clone()), frozen, 1)
    if bool((re < -te).any()):
        raise PropertyViolation("terver2025.prop4.10 necessity: a frozen teacher still gave a stable equilibrium")
    return f"β = 0: max Re of the transversal spectrum = {float(re.max()):.1e} ≥ −{float(te.max()):.1e}"


@st.composite
def scalar_cases(draw: st.DrawFn) -> tuple[Case, torch.Tensor]:
    """m = 1 problems with Δ ≥ 0.2τ² (λ = f τ²/(4ρ), f ∈ [0.05, 0.8]) and a random unit direction u ∈ R^n."""
    n, seed = draw(st.integers(2, 3)), draw(SEEDS)
    g = torch.Generator().manual_seed(seed)
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(BATCH, generator=g, dtype=DT)  # noqa: E731
    rho, tau = u(0.5, 2.0), u(0.5, 1.5) * torch.sign(u(-1, 1))
    lam = u(0.05, 0.8) * tau.square() / (4 * rho)
    mom = tv.ViewMoments(*_dev(*(v.reshape(-1, 1, 1) for v in (rho, tau, torch.ones_like(rho)))))
    dirs = torch.nn.functional.normalize(torch.randn(BATCH, n, 1, generator=g, dtype=DT), dim=1)
    return Case(n, 1, mom, *_dev(lam, torch.ones_like(lam)), (), ()), _dev(dirs)[0]


def check_spheres(*, radii: Callable[..., tuple] = cf.sphere_radii) -> None:
    """Prop. 4.11: ``a = r_k u`` with B = Prop. 4.5 predictor is an equilibrium on both spheres; the outer one has a
    transversal spectrum in Re < 0, the inner one an eigenvalue with Re > 0 (saddle)."""
    @settings(max_examples=10)
    @given(scalar_cases())
    def prop(cu: tuple) -> None:
        case, u = cu
        r1, r2 = radii(case.mom.xx[..., 0, 0], case.mom.yx[..., 0, 0], case.lam)
        for r, name in ((r1, "inner"), (r2, "outer")):
            A = r.reshape(-1, 1, 1) * u
            st_ = (A, cf.equilibrium_predictor(A, case.mom, case.lam))
            assert_leq(_fnorm(tv.sg_field, st_, case), _eq_tol(st_, case.mom), 0.0,
                       claim=f"terver2025.prop4.11: the {name} sphere consists of equilibria", names=("‖field‖", "bound"))
            re, _, te = _transversal(tv.sg_field, st_, case, 1)
            if name == "outer":
                assert_leq(re, -te, 0.0, claim="terver2025.prop4.11: the outer sphere is stable", names=("max Re", "−tol"))
            else:
                assert_leq(te, re, 0.0, claim="terver2025.prop4.11: the inner sphere is a saddle", names=("tol", "max Re"))
    prop()


def check_flow_to_outer_sphere(*, field: tv.Field = tv.sg_field) -> None:
    """Prop. 4.11: the SG flow from ``‖a₀‖ ∈ [(r₁ + r₂)/2, 1.5 r₂]`` (B₀ = predictor) ends on the outer sphere:
    ``|‖a_∞‖ − r₂| ≤ 1e-8 r₂`` (Newton-refined limit; the root is simple since Δ ≥ 0.2τ²)."""
    @settings(max_examples=_slow())
    @given(scalar_cases(), st.floats(0.0, 1.0))
    def prop(cu: tuple, w: float) -> None:
        case, u = cu
        r1, r2 = cf.sphere_radii(case.mom.xx[..., 0, 0], case.mom.yx[..., 0, 0], case.lam)
        A0 = ((1 - w) * 0.5 * (r1 + r2) + w * 1.5 * r2).reshape(-1, 1, 1) * u
        (A, B), corr = tv.limit_point(field, (A0, cf.equilibrium_predictor(A0, case.mom, case.lam)), case.mom,
                                      case.lam, case.beta, t_end=T_FLOW)
        _newton_ok(corr, (A, B), "terver2025.prop4.11")
        assert_leq((A.flatten(-2).norm(dim=-1) - r2).abs(), 1e-8 * r2, 0.0,
                   claim="terver2025.prop4.11: the SG flow ends on the outer sphere", names=("|‖a‖ − r₂|", "1e-8 r₂"))
    prop()


def necessity_inner_sphere_saddle() -> str:
    """Not every equilibrium is stable: on the inner sphere (m = 1, ρ = τ = 1, λ = 0.1) the Jacobian has Re > 0."""
    case = _scalar_case(2, 1.0, 1.0, 0.1)
    r1, _ = cf.sphere_radii(case.mom.xx[..., 0, 0], case.mom.yx[..., 0, 0], case.lam)
    A = _dev(torch.tensor([[[1.0], [0.0]]], dtype=DT))[0] * r1
    re, _, te = _transversal(tv.sg_field, (A, cf.equilibrium_predictor(A, case.mom, case.lam)), case, 1)
    if not bool((re > te).all()):
        raise PropertyViolation("terver2025.prop4.10 necessity: the inner sphere was not unstable")
    return f"inner sphere r₁ = {float(r1):.4g}: max Re spec = {float(re):.3g} > 0 (saddle)"
