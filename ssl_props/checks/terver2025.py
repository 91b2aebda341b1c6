"""Executable checks of Terver, Ponce & Hebert (2025, arXiv:2507.01028), registered in
:mod:`ssl_props.results.terver2025`.

Each check is a module-level function whose keyword arguments override the procedure it tests
(``field=`` a vector field of :mod:`ssl_props.dynamics.terver`, ``step=`` a training step, ``predictor=``
the Prop. 4.5 formula, ``radii=`` the Prop. 4.11 formula, ``make=`` the Thm 4.9 system), so that
``tests/test_terver2025_mutations.py`` can show each property failing on a wrong procedure (a gradient let
through the target, a frozen teacher, a transposed moment, ...). Necessity checks return the
counterexample they found and raise :class:`~ssl_props.properties.PropertyViolation` otherwise.

Inputs are batches of :data:`BATCH` problems built from a Hypothesis-drawn seed (:func:`cases`): moments of
non-exchangeable views (:func:`ssl_props.dynamics.terver.make_moments`, noise ∈ [0.1, 0.3], mixing ∈ [0, 0.2]),
ridge λ ∈ [0.05, 0.15], EMA rate β ∈ [0.5, 2], n ∈ [2, 4] > m ∈ {1, 2}. Limits of flows are computed once per
case (:func:`_limits`, cached): dopri5 to t = 40, then Newton refinement.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Callable, NamedTuple

import torch
from hypothesis import given, settings, strategies as st

from .. import tolerances as tol
from ..device import resolve_device
from ..dynamics import terver as tv
from ..dynamics.simulate import SimConfig, integrate
from ..properties import PropertyViolation, assert_leq

DT = torch.float64
EPS = tol.eps(DT)
SLOW = 2  # max_examples of checks that integrate flows: each example is a batch of 6 cases (~0.3 s per flow)
BATCH = 6
T_FLOW = 60.0  # flow time before Newton refinement (the slowest transversal rate is ≥ λ ≥ 0.05)
NEWTON_OK = 0.25  # Newton correction ≤ 25 % of 1 + ‖z‖: the flow ended inside the equilibrium's basin (observed ≤ 0.1)


class Case(NamedTuple):
    """A batch of problems: sizes, moments, ridge λ and EMA rate β (B,), an init near the outer branch
    (``A0 = 1.5 Q[:, :m] + 0.2 G``, ``B0`` = Prop. 4.5 predictor of ``A0``) and a random point ``P``."""
    n: int
    m: int
    mom: tv.ViewMoments
    lam: torch.Tensor
    beta: torch.Tensor
    init: tuple
    point: tuple


def _dev(*ts: torch.Tensor) -> tuple:
    d = resolve_device()
    return tuple(t.to(device=d) for t in ts)


@lru_cache(maxsize=64)
def make_case(n: int, m: int, seed: int, lam_lo: float = 0.05, lam_hi: float = 0.15) -> Case:
    """Deterministic batch of :data:`BATCH` problems (noise ∈ [0.1, 0.3], mix ∈ [0, 0.2] keep Δ well above 0)."""
    g = torch.Generator().manual_seed(seed)
    u = lambda lo, hi, *s: lo + (hi - lo) * torch.rand(s or (BATCH,), generator=g, dtype=DT)  # noqa: E731
    mom = tv.make_moments(m, batch=(BATCH,), seed=seed, noise=float(u(0.1, 0.3, 1)), mix=float(u(0.0, 0.2, 1)))
    lam, beta = u(lam_lo, lam_hi), u(0.5, 2.0)
    Q, _ = torch.linalg.qr(torch.randn(BATCH, n, n, generator=g, dtype=DT))
    A0 = 1.5 * Q[..., :m] + 0.2 * torch.randn(BATCH, n, m, generator=g, dtype=DT)
    P = tuple(torch.randn(BATCH, *s, generator=g, dtype=DT) for s in ((n, m), (n, n), (n, m)))
    mom = tv.ViewMoments(*_dev(*mom))
    lam, beta, A0 = _dev(lam, beta, A0)
    B0 = tv.equilibrium_predictor(A0, mom, lam)
    return Case(n, m, mom, lam, beta, (A0, B0, A0.clone()), _dev(*P))


@st.composite
def cases(draw: st.DrawFn, m_max: int = 2) -> Case:
    """Returns a strategy of :class:`Case` batches: n ∈ [2, 4], 1 ≤ m ≤ min(m_max, n − 1) (the paper's n > m)."""
    n = draw(st.integers(2, 4))
    return make_case(n, draw(st.integers(1, min(m_max, n - 1))), draw(st.integers(0, 2**32 - 1)))


def _parts(procedure: str) -> int:
    return 3 if procedure == "ema" else 2


def _field(procedure: str, field: Any) -> tv.Field:
    return tv.FIELDS[procedure] if field is None else field


@lru_cache(maxsize=32)
def _limits(case: Case, procedure: str, field: Any = None) -> tuple[tuple, torch.Tensor]:
    f = _field(procedure, field)
    return tv.limit_point(f, case.init[:_parts(procedure)], case.mom, case.lam, case.beta, t_end=T_FLOW)


def _scale(state: tuple, mom: tv.ViewMoments) -> torch.Tensor:
    """Magnitude of the field's terms: (1 + Σ‖state‖_F)³ ‖Σ‖_F — the cubic terms dominate."""
    return (1 + sum(s.flatten(-2).norm(dim=-1) for s in state)) ** 3 * mom.joint().flatten(-2).norm(dim=-1)


def _eq_tol(state: tuple, mom: tv.ViewMoments) -> torch.Tensor:
    """Rounding bound for a field value at an exact equilibrium: sum of N products of size _scale (Higham §3.1)."""
    return tol.sum_of_products(DT, tv.flatten(state).shape[-1], _scale(state, mom))


def _fnorm(field: tv.Field, state: tuple, case: Case) -> torch.Tensor:
    return tv.flatten(field(state, case.mom, case.lam, case.beta)).norm(dim=-1)


def _newton_ok(corr: torch.Tensor, state: tuple, what: str) -> None:
    assert_leq(corr, NEWTON_OK * (1 + tv.flatten(state).norm(dim=-1)), 0.0, claim=f"{what}: the flow ends near its limit",
               names=("Newton correction", "25 % of 1 + ‖z‖"))


# ---------------------------------------------------------------- Prop 3.1: SG/EMA do not minimise Ē
def check_limits_not_critical(*, procedure: str = "sg", field: tv.Field | None = None) -> None:
    """Prop. 3.1: at SG/EMA limits ``‖∇Ē‖_F`` and ``Ē`` exceed the rounding bound (Ē's minimum 0 is at A = B = 0)."""
    @settings(max_examples=SLOW)
    @given(cases())
    def prop(case: Case) -> None:
        (A, B, *_), corr = _limits(case, procedure, field)
        _newton_ok(corr, (A, B), f"terver2025.prop3.1 ({procedure})")
        Ar, Br = A.detach().clone().requires_grad_(True), B.detach().clone().requires_grad_(True)
        E = tv.objective(Ar, Br, case.mom, case.lam)
        gA, gB = torch.autograd.grad(E.sum(), (Ar, Br))
        g = tv.flatten((gA, gB)).norm(dim=-1)
        t = _eq_tol((A, B), case.mom)
        assert_leq(t, g, 0.0, claim=f"terver2025.prop3.1: the {procedure.upper()} limit is not a critical point of Ē",
                   names=("rounding bound", "‖∇Ē‖_F"))
        assert_leq(t, E.detach(), 0.0, claim="terver2025.prop3.1: Ē(limit) > 0 = min Ē", names=("rounding bound", "Ē"))
    prop()


def _identical_views(m: int, seed: int) -> tv.ViewMoments:
    X = tv.make_moments(m, seed=seed).xx
    return tv.ViewMoments(*_dev(X, X, X))


def necessity_identical_views_sg() -> str:
    """x = y and λ = 0: (A, I) is an SG equilibrium with ∇Ē = 0 and Ē = 0 — a non-collapsed global minimiser."""
    mom = _identical_views(2, 0)
    A = _dev(torch.randn(3, 2, generator=torch.Generator().manual_seed(1), dtype=DT))[0]
    B = torch.eye(3, dtype=DT, device=A.device)
    f = tv.flatten(tv.sg_field((A, B), mom, 0.0)).norm()
    g = tv.flatten(tv.gd_field((A, B), mom, 0.0)).norm()
    if f > _eq_tol((A, B), mom) or g > _eq_tol((A, B), mom) or A.norm() < 1:
        raise PropertyViolation("terver2025.prop3.1 necessity: identical views did not give a critical SG equilibrium")
    return f"x = y, λ = 0, B = I, ‖A‖ = {float(A.norm()):.3g}: ‖SG field‖ = {float(f):.1e}, ‖∇Ē‖ = {float(g):.1e}"


# ---------------------------------------------------------------- Prop 3.2: not a gradient field
def _asym(J: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``‖J − Jᵀ‖_F`` and its rounding bound (each entry: a sum of ≤ N products of size ‖J‖_F)."""
    N = J.shape[-1]
    return (J - J.mT).flatten(-2).norm(dim=-1), tol.sum_of_products(DT, 2 * N, J.flatten(-2).norm(dim=-1))


def check_jacobian_asymmetric(*, procedure: str = "sg", field: tv.Field | None = None) -> None:
    """Prop. 3.2: ``‖J − Jᵀ‖_F`` exceeds its rounding bound at drawn generic points (A ≠ 0, [yxᵀ] ≠ 0)."""
    f = _field(procedure, field)

    @settings(max_examples=10)  # each example: a batch of 6 Jacobians by vmap(jacrev)
    @given(cases())
    def prop(case: Case) -> None:
        state = case.point[:_parts(procedure)]
        a, t = _asym(tv.jacobian(f, state, case.mom, case.lam, case.beta))
        assert_leq(t, a, 0.0, claim=f"terver2025.prop3.2: the {procedure.upper()} Jacobian is not symmetric",
                   names=("rounding bound", "‖J − Jᵀ‖_F"))
    prop()


def check_loop_integral(*, procedure: str = "sg", field: tv.Field | None = None, radius: float = 1e-2) -> None:
    """Prop. 3.2: the circulation around a circle in the plane of the top singular pair of ``J − Jᵀ`` is ≠ 0.

    The fields are cubic polynomials, so the 16-point trapezoid rule is exact (trig degree ≤ 4) and
    ``∮ = c₂ r² + c₄ r⁴`` exactly; Richardson on r and 2r gives ``c₂ = π σ_max(J − Jᵀ)`` (Stokes), checked
    to its rounding bound ``17 · SAFETY · (N + 16) eps Σ|P·dz| / (12 r²)``.
    """
    f = _field(procedure, field)

    @settings(max_examples=10)
    @given(cases())
    def prop(case: Case) -> None:
        state = case.point[:_parts(procedure)]
        J = tv.jacobian(f, state, case.mom, case.lam, case.beta)
        U, S, Vh = torch.linalg.svd(J - J.mT)
        u, v, sig = Vh[..., 0, :], U[..., :, 0], S[..., 0]
        circ = [tv.loop_integral(f, state, case.mom, case.lam, case.beta, u, v, k * radius, points=16) for k in (1, 2)]
        mag = _scale(state, case.mom) * 2 * math.pi * 2 * radius  # ≥ Σ|P·dz| for the r = 2·radius circle
        t_circ = tol.sum_of_products(DT, tv.flatten(state).shape[-1] + 16, mag)
        c2 = (16 * circ[0] - circ[1]) / (12 * radius**2)
        assert_leq(t_circ, circ[0].abs(), 0.0, claim=f"terver2025.prop3.2: the {procedure.upper()} circulation is non-zero",
                   names=("rounding bound", "|∮ P·dz|"))
        assert_leq((c2 - math.pi * sig).abs(), 17 * t_circ / (12 * radius**2), 0.0,
                   claim="terver2025.prop3.2: the circulation's r² coefficient is π σ_max(J − Jᵀ) (Stokes)",
                   names=("|c₂ − π σ|", "rounding bound"))
    prop()


def necessity_uncorrelated_views() -> Any:
    """[yxᵀ] = 0: the SG field is −∇(½ tr(BA[xxᵀ]AᵀBᵀ) + Ω), so its Jacobian is symmetric."""
    case = make_case(3, 2, 0)
    mom = tv.ViewMoments(case.mom.xx, torch.zeros_like(case.mom.yx), case.mom.yy)
    a, t = _asym(tv.jacobian(tv.sg_field, case.point[:2], mom, case.lam, case.beta))
    if bool((a > t).any()):
        raise PropertyViolation("terver2025.prop3.2 necessity: uncorrelated views still gave an asymmetric Jacobian")
    return f"[yxᵀ] = 0: ‖J − Jᵀ‖_F = {float(a.max()):.1e} ≤ rounding bound {float(t.min()):.1e} on {BATCH} random points"


def necessity_collapsed_point() -> Any:
    """A = 0 with symmetric B and symmetric [yxᵀ]: the SG Jacobian is symmetric there (the scalar curl τa = 0)."""
    case = make_case(3, 2, 0)
    Ys = 0.5 * (case.mom.yx + case.mom.yx.mT)
    mom = tv.ViewMoments(case.mom.xx, Ys, case.mom.yy)
    B = case.point[1] + case.point[1].mT
    a, t = _asym(tv.jacobian(tv.sg_field, (torch.zeros_like(case.point[0]), B), mom, case.lam, case.beta))
    if bool((a > t).any()):
        raise PropertyViolation("terver2025.prop3.2 necessity: the collapsed symmetric point gave an asymmetric Jacobian")
    return f"A = 0, B = Bᵀ, [yxᵀ] symmetric: ‖J − Jᵀ‖_F = {float(a.max()):.1e} (symmetric)"


# ---------------------------------------------------------------- Lemma 4.1: the iterations
def check_step_matches_field(*, momentum: float | None = None, step: Callable[..., tuple] = tv.procedure_step,
                             lr: float = 1e-2) -> None:
    """Lemma 4.1: a training step (autograd on sampled views, detached target, EMA under no_grad) equals
    ``z + η·field(z)`` with the sample moments, and ``C ← αC + (1 − α)A_new``; tolerance: rounding of the
    ~N·m-term sums, scaled by ``η·_scale``."""
    @settings(max_examples=10)
    @given(cases(), st.integers(0, 2**32 - 1))
    def prop(case: Case, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(BATCH, 32, case.m, generator=g, dtype=DT)
        y = x + 0.5 * torch.randn(BATCH, 32, case.m, generator=g, dtype=DT)
        x, y = _dev(x, y)
        state = case.point if momentum is not None else case.point[:2]
        new = step(state, x, y, case.lam, lr, momentum=momentum)
        mom = tv.sample_moments(x, y)
        d = (tv.ema_field if momentum is not None else tv.sg_field)(state, mom, case.lam, 1.0)
        want = [s + lr * ds for s, ds in zip(state[:2], d[:2])]
        if momentum is not None:
            want.append(momentum * state[2] + (1 - momentum) * want[0])
        t = tol.sum_of_products(DT, 32 * case.m + case.n, lr * _scale(state, mom) + _scale(state, mom) * EPS)
        err = (tv.flatten(tuple(new)) - tv.flatten(tuple(want))).abs().amax(-1)
        assert_leq(err, t, 0.0, claim="terver2025.lem4.1: the implemented step is the Euler step of the closed-form field",
                   names=("max |step − closed form|", "rounding bound"))
    prop()


def check_matches_tian_fields(*, field: tv.Field = tv.gd_field) -> None:
    """Lemma 4.1 / shared simulator: for exchangeable views ([xxᵀ] = [yyᵀ] = X + X', [yxᵀ] = X) the paper's GD
    field equals the issue-6 ``byol_field(stop_gradient=False)`` (Tian et al. Thm 2 form)."""
    from ..dynamics.fields import LinearState, byol_field

    @settings(max_examples=10)
    @given(cases())
    def prop(case: Case) -> None:
        X = case.mom.xx
        mom = tv.exchangeable_moments(X, 0.5 * X)
        A, B = case.point[:2]
        d = byol_field(LinearState(A, B, A), mom.yx, mom.xx - mom.yx, eta=case.lam, beta=None, stop_gradient=False)
        mine = field((A, B), mom, case.lam, case.beta)
        err = (tv.flatten(mine) - tv.flatten((d.W, d.Wp))).abs().amax(-1)
        assert_leq(err, _eq_tol((A, B), mom), 0.0, claim="terver2025.lem4.1: GD field = issue-6 no-stop-gradient field",
                   names=("max |difference|", "rounding bound"))
    prop()


# ---------------------------------------------------------------- Lemma 4.3: GD collapses
def _mu(mom: tv.ViewMoments) -> torch.Tensor:
    return torch.linalg.eigvalsh(mom.joint())[..., 0]


def check_gd_collapses(*, field: tv.Field = tv.gd_field) -> None:
    """Lemma 4.3: along the GD flow from arbitrary inits (B₀ random, B₀ ≈ I included), ‖A(t)‖ ≤ ‖A₀‖e^{−(μ+λ)t}
    at 6 save times up to t = 5/min(μ+λ); tolerance 1e-6‖A₀‖ (dopri5 rtol 1e-9 global error)."""
    @settings(max_examples=SLOW)
    @given(cases(), st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0))
    def prop(case: Case, near_identity: float, lam_on: float) -> None:
        A0, P = case.point[0], case.point[1]
        B0 = near_identity * torch.eye(case.n, dtype=DT, device=A0.device) + 0.5 * P
        lam = lam_on * case.lam
        rate = _mu(case.mom) + lam
        cfg = SimConfig(t_end=float(5 / rate.min()), method="dopri5", rtol=1e-9, atol=1e-12, n_save=6)
        traj = integrate(lambda t, y: field(tuple(y), case.mom, lam, case.beta), (A0, B0), cfg)
        a0 = A0.flatten(-2).norm(dim=-1)
        for k, tk in enumerate(traj.t):
            a = traj.y[0][k].flatten(-2).norm(dim=-1)
            assert_leq(a, a0 * torch.exp(-rate * tk), 1e-6 * a0,
                       claim=f"terver2025.lem4.3: GD shrinks A at rate λ_min(Σ) + λ (t = {float(tk):.3g})",
                       names=("‖A(t)‖", "‖A₀‖ e^{−(μ+λ)t}"))
    prop()


def check_gd_critical_set(*, field: tv.Field = tv.gd_field) -> None:
    """Lemma 4.3: ``⟨−field_A, A⟩ ≥ (λ_min(Σ) + λ)‖A‖²`` at drawn points (so ∇Ē = 0 forces A = 0, then B = 0
    if λ > 0), and the closed form is autograd's ∇Ē. Tolerance: rounding of N-term sums of size _scale."""
    @settings(max_examples=10)
    @given(cases())
    def prop(case: Case) -> None:
        A, B = case.point[:2]
        dA, dB = field((A, B), case.mom, case.lam, case.beta)
        t = _eq_tol((A, B), case.mom)
        lhs = -(dA * A).sum((-2, -1))
        rhs = (_mu(case.mom) + case.lam) * A.square().sum((-2, -1))
        assert_leq(rhs, lhs, t, claim="terver2025.lem4.3: ⟨∇_A Ē, A⟩ ≥ (λ_min(Σ) + λ)‖A‖²", names=("(μ+λ)‖A‖²", "⟨∇_A Ē, A⟩"))
        Ar, Br = A.clone().requires_grad_(True), B.clone().requires_grad_(True)
        gA, gB = torch.autograd.grad(tv.objective(Ar, Br, case.mom, case.lam).sum(), (Ar, Br))
        err = (tv.flatten((gA, gB)) + tv.flatten((dA, dB))).abs().amax(-1)
        assert_leq(err, t, 0.0, claim="terver2025.lem4.3: the GD field is −∇Ē", names=("|autograd + field|", "bound"))
    prop()


def necessity_identical_views_gd() -> str:
    """Σ singular (x = y), λ = 0: (A, I) with A ≠ 0 is a GD equilibrium — GD need not collapse."""
    mom = _identical_views(2, 1)
    A = _dev(torch.randn(3, 2, generator=torch.Generator().manual_seed(2), dtype=DT))[0]
    B = torch.eye(3, dtype=DT, device=A.device)
    f = tv.flatten(tv.gd_field((A, B), mom, 0.0)).norm()
    if f > _eq_tol((A, B), mom):
        raise PropertyViolation("terver2025.lem4.3 necessity: identical views gave no non-collapsed GD equilibrium")
    return f"x = y (λ_min(Σ) = {float(_mu(mom)):.1e}), λ = 0: (A, I), ‖A‖ = {float(A.norm()):.3g}, ‖GD field‖ = {float(f):.1e}"


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


def check_limits_solve_prop45(*, predictor: Callable[..., torch.Tensor] = tv.equilibrium_predictor,
                              field: tv.Field | None = None) -> None:
    """Prop. 4.5: SG limits satisfy ``([xxᵀ]S + λ)(S[xxᵀ] + λ) = [xyᵀ]S[yxᵀ]`` and ``B = A[yxᵀ]AᵀW⁻¹``;
    tolerance: rounding bound scaled by ‖[xxᵀ]‖²‖S‖² (quartic terms) resp. cond(W)."""
    @settings(max_examples=SLOW)
    @given(cases())
    def prop(case: Case) -> None:
        A, B, t = _sg_limits_full_rank(case, field, "terver2025.prop4.5")
        S = A.mT @ A
        res = tv.prop45_residual(S, case.mom, case.lam).flatten(-2).norm(dim=-1)
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
    res = tv.prop45_residual(torch.zeros_like(case.mom.xx), case.mom, case.lam).flatten(-2).norm(dim=-1)
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


def check_variety_of_equilibria(*, predictor: Callable[..., torch.Tensor] = tv.equilibrium_predictor,
                                field: tv.Field | None = None) -> None:
    """Cor. 4.6: from an SG limit (A*, B*), every ``A = U√S*`` (random UᵀU = I) with B = predictor(A) is an
    equilibrium, and the orbit's tangent space has dimension mn − m(m+1)/2."""
    f = _field("sg", field)

    @settings(max_examples=SLOW)
    @given(cases(), st.integers(0, 2**32 - 1))
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
    @settings(max_examples=SLOW)
    @given(cases())
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
    r1, r2 = tv.sphere_radii(case.mom.xx[..., 0, 0], case.mom.yx[..., 0, 0], case.lam)
    A0 = _dev(torch.tensor([[[2.0], [0.0]]], dtype=DT))[0]
    (A, B), _ = tv.limit_point(tv.sg_field, (A0, tv.equilibrium_predictor(A0, case.mom, case.lam)), case.mom,
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
    """Thm 4.9: ``ẋ = Jx + q(x)``, ``‖q(x)‖ ≤ h‖x‖²``; from ‖x₀‖ = δ/(2h): ‖x(t)‖ ≤ ‖x₀‖e^{−δt/2} at 6 save times
    (since d‖x‖/dt ≤ −δ‖x‖ + h‖x‖²), up to t = 20/δ; tolerance 1e-6‖x₀‖ (dopri5 rtol 1e-9)."""
    @settings(max_examples=5)
    @given(st.integers(2, 4), st.integers(0, 2**32 - 1))
    def prop(k: int, seed: int) -> None:
        J, H, delta = make(k, seed)
        h = H.flatten(-2).norm(dim=-1).norm(dim=-1)  # ‖q(x)‖ = ‖(xᵀH_i x)_i‖ ≤ (Σ‖H_i‖_F²)^½ ‖x‖²
        x0 = (delta / (2 * h)).unsqueeze(-1) * torch.nn.functional.normalize(H[..., 0, 0], dim=-1)
        vf = lambda t, y: ((J @ y[0].unsqueeze(-1)).squeeze(-1) + torch.einsum("bi,bkij,bj->bk", y[0], H, y[0]),)  # noqa: E731
        traj = integrate(vf, (x0,), SimConfig(t_end=float(20 / delta.min()), method="dopri5", rtol=1e-9, atol=1e-14, n_save=6))
        r0 = x0.norm(dim=-1)
        for i, tk in enumerate(traj.t):
            assert_leq(traj.y[0][i].norm(dim=-1), r0 * torch.exp(-delta * tk / 2), 1e-6 * r0,
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
    x = integrate(vf, (x0,), SimConfig(t_end=20.0, method="dopri5", rtol=1e-9, atol=1e-16)).final[0]
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

    @settings(max_examples=SLOW)
    @given(cases())
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
    n, seed = draw(st.integers(2, 3)), draw(st.integers(0, 2**32 - 1))
    g = torch.Generator().manual_seed(seed)
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(BATCH, generator=g, dtype=DT)  # noqa: E731
    rho, tau = u(0.5, 2.0), u(0.5, 1.5) * torch.sign(u(-1, 1))
    lam = u(0.05, 0.8) * tau.square() / (4 * rho)
    mom = tv.ViewMoments(*_dev(*(v.reshape(-1, 1, 1) for v in (rho, tau, torch.ones_like(rho)))))
    dirs = torch.nn.functional.normalize(torch.randn(BATCH, n, 1, generator=g, dtype=DT), dim=1)
    return Case(n, 1, mom, *_dev(lam, torch.ones_like(lam)), (), ()), _dev(dirs)[0]


def check_spheres(*, radii: Callable[..., tuple] = tv.sphere_radii) -> None:
    """Prop. 4.11: ``a = r_k u`` with B = Prop. 4.5 predictor is an equilibrium on both spheres; the outer one has a
    transversal spectrum in Re < 0, the inner one an eigenvalue with Re > 0 (saddle)."""
    @settings(max_examples=10)
    @given(scalar_cases())
    def prop(cu: tuple) -> None:
        case, u = cu
        r1, r2 = radii(case.mom.xx[..., 0, 0], case.mom.yx[..., 0, 0], case.lam)
        for r, name in ((r1, "inner"), (r2, "outer")):
            A = r.reshape(-1, 1, 1) * u
            st_ = (A, tv.equilibrium_predictor(A, case.mom, case.lam))
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
    @settings(max_examples=SLOW)
    @given(scalar_cases(), st.floats(0.0, 1.0))
    def prop(cu: tuple, w: float) -> None:
        case, u = cu
        r1, r2 = tv.sphere_radii(case.mom.xx[..., 0, 0], case.mom.yx[..., 0, 0], case.lam)
        A0 = ((1 - w) * 0.5 * (r1 + r2) + w * 1.5 * r2).reshape(-1, 1, 1) * u
        (A, B), corr = tv.limit_point(field, (A0, tv.equilibrium_predictor(A0, case.mom, case.lam)), case.mom,
                                      case.lam, case.beta, t_end=60.0)
        _newton_ok(corr, (A, B), "terver2025.prop4.11")
        assert_leq((A.flatten(-2).norm(dim=-1) - r2).abs(), 1e-8 * r2, 0.0,
                   claim="terver2025.prop4.11: the SG flow ends on the outer sphere", names=("|‖a‖ − r₂|", "1e-8 r₂"))
    prop()


def necessity_inner_sphere_saddle() -> str:
    """Not every equilibrium is stable: on the inner sphere (m = 1, ρ = τ = 1, λ = 0.1) the Jacobian has Re > 0."""
    case = _scalar_case(2, 1.0, 1.0, 0.1)
    r1, _ = tv.sphere_radii(case.mom.xx[..., 0, 0], case.mom.yx[..., 0, 0], case.lam)
    A = _dev(torch.tensor([[[1.0], [0.0]]], dtype=DT))[0] * r1
    re, _, te = _transversal(tv.sg_field, (A, tv.equilibrium_predictor(A, case.mom, case.lam)), case, 1)
    if not bool((re > te).all()):
        raise PropertyViolation("terver2025.prop4.10 necessity: the inner sphere was not unstable")
    return f"inner sphere r₁ = {float(r1):.4g}: max Re spec = {float(re):.3g} > 0 (saddle)"
