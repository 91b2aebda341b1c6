"""Executable checks of Terver, Ponce & Hebert (2025, arXiv:2507.01028), registered in
:mod:`ssl_props.papers.terver2025.records`.

Checks of Prop. 3.1, 3.2 and Lemmas 4.1, 4.3, plus the shared inputs; the equilibrium results (Prop. 4.5
to 4.11) are in :mod:`ssl_props.papers.terver2025.equilibria`. Each check is a module-level function whose
keyword arguments override the procedure it tests (``field=`` a vector field of :mod:`ssl_props.dynamics.moments_model`, ``step=`` a training step, ``predictor=``
the Prop. 4.5 formula, ``radii=`` the Prop. 4.11 formula, ``make=`` the Thm 4.9 system), so that
``tests/test_terver2025_mutations.py`` can show each property failing on a wrong procedure (a gradient let
through the target, a frozen teacher, a transposed moment, ...). Necessity checks return the
counterexample they found and raise :class:`~ssl_props.properties.PropertyViolation` otherwise.

Inputs are batches of :data:`BATCH` problems built from a Hypothesis-drawn seed (:func:`cases`): moments of
non-exchangeable views (:func:`ssl_props.dynamics.moments_model.make_moments`, noise ∈ [0.1, 0.3], mixing ∈ [0, 0.15]),
ridge λ ∈ [0.03, 0.08], EMA rate β ∈ [0.5, 2], n ∈ [2, 4] > m ∈ {1, 2}. Limits of flows are computed once per
case (:func:`_limits`, cached): dopri5 to t = 40 (rtol 1e-4), then damped Newton refinement. Flow checks
draw from :data:`POOL` under ``ci``/``dev`` (shared limits) and from :func:`cases` under ``thorough``.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Callable, NamedTuple

import torch
from hypothesis import given, settings, strategies as st

from ssl_props import tolerances as tol
from ssl_props.device import resolve_device
from ssl_props.dynamics import moments_model as tv
from ssl_props.papers.terver2025 import closed_forms as cf
from ssl_props.dynamics.simulate import SimConfig, integrate
from ssl_props.properties import PropertyViolation, assert_leq
from ssl_props.strategies import SEEDS

DT = torch.float64
EPS = tol.eps(DT)
BATCH = 6
T_FLOW = 40.0  # flow time before Newton refinement (observed corrections ≤ 10 % of 1 + ‖z‖ on 180 cases)
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
def make_case(n: int, m: int, seed: int, lam_lo: float = 0.03, lam_hi: float = 0.08) -> Case:
    """Deterministic batch of :data:`BATCH` problems: noise ∈ [0.1, 0.3], mix ∈ [0, 0.15], λ ∈ [0.03, 0.08] keep
    every direction above the threshold (m = 1: τ²/(4ρ) ≥ 0.7²·1/(4·1.45) = 0.084 > 0.08 ≥ λ)."""
    g = torch.Generator().manual_seed(seed)
    u = lambda lo, hi, *s: lo + (hi - lo) * torch.rand(s or (BATCH,), generator=g, dtype=DT)  # noqa: E731
    mom = tv.make_moments(m, batch=(BATCH,), seed=seed, noise=float(u(0.1, 0.3, 1)), mix=float(u(0.0, 0.15, 1)))
    lam, beta = u(lam_lo, lam_hi), u(0.5, 2.0)
    Q, _ = torch.linalg.qr(torch.randn(BATCH, n, n, generator=g, dtype=DT))
    A0 = 1.5 * Q[..., :m] + 0.2 * torch.randn(BATCH, n, m, generator=g, dtype=DT)
    P = tuple(torch.randn(BATCH, *s, generator=g, dtype=DT) for s in ((n, m), (n, n), (n, m)))
    mom = tv.ViewMoments(*_dev(*mom))
    lam, beta, A0 = _dev(lam, beta, A0)
    B0 = cf.equilibrium_predictor(A0, mom, lam)
    return Case(n, m, mom, lam, beta, (A0, B0, A0.clone()), _dev(*P))


#: validated (n, m, seed) batches whose flow limits the checks share (each limit is computed once per process,
#: ~0.3 s; every case has σ_min(A_∞) > 0.5 and a transversal gap ≥ 0.03 — see tests/test_terver_fields.py)
POOL = ((2, 1, 2), (3, 2, 7922), (4, 2, 15842))


def _slow() -> int:
    """max_examples of checks that integrate flows: 2 under ``ci`` (100 examples), scaled up by ``thorough``."""
    return max(2, settings.default.max_examples // 50)


def flow_cases() -> st.SearchStrategy[Case]:
    """Returns a strategy of :class:`Case` batches for flow checks: the :data:`POOL` under ``ci``/``dev``
    (shared cached limits keep the module within its time budget), random :func:`cases` beyond 100 examples."""
    if settings.default.max_examples > 100:
        return cases()
    return st.sampled_from(POOL).map(lambda p: make_case(*p))


@st.composite
def cases(draw: st.DrawFn, m_max: int = 2) -> Case:
    """Returns a strategy of :class:`Case` batches: n ∈ [2, 4], 1 ≤ m ≤ min(m_max, n − 1) (the paper's n > m)."""
    n = draw(st.integers(2, 4))
    return make_case(n, draw(st.integers(1, min(m_max, n - 1))), draw(SEEDS))


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
    @settings(max_examples=_slow())
    @given(flow_cases())
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

    @settings(max_examples=10)  # each example: a batch of 6 autograd Jacobians
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
    ~N·m-term sums of size ``η·_scale`` plus that of ``z + η·d`` (size ``‖z‖_∞``)."""
    @settings(max_examples=10)
    @given(cases(), SEEDS)
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
        t = tol.sum_of_products(DT, 32 * case.m + case.n, lr * _scale(state, mom) + tv.flatten(state).abs().amax(-1))
        err = (tv.flatten(tuple(new)) - tv.flatten(tuple(want))).abs().amax(-1)
        assert_leq(err, t, 0.0, claim="terver2025.lem4.1: the implemented step is the Euler step of the closed-form field",
                   names=("max |step − closed form|", "rounding bound"))
    prop()


def check_matches_tian_fields(*, field: tv.Field = tv.gd_field) -> None:
    """Lemma 4.1 / shared simulator: for exchangeable views ([xxᵀ] = [yyᵀ] = X + X', [yxᵀ] = X) the paper's GD
    field equals the issue-6 ``byol_field(stop_gradient=False)`` (Tian et al. Thm 2 form)."""
    from ssl_props.dynamics.fields import LinearState, byol_field

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
    at 4 save times up to t = 3/min(μ+λ); tolerance 1e-4‖A₀‖ (dopri5 rtol 1e-6: global error ≲ 10 rtol)."""
    @settings(max_examples=_slow())
    @given(cases(), st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0))
    def prop(case: Case, near_identity: float, lam_on: float) -> None:
        A0, P = case.point[0], case.point[1]
        B0 = near_identity * torch.eye(case.n, dtype=DT, device=A0.device) + 0.5 * P
        lam = lam_on * case.lam
        rate = _mu(case.mom) + lam
        cfg = SimConfig(t_end=float(3 / rate.min()), method="dopri5", rtol=1e-6, atol=1e-9, n_save=4)
        traj = integrate(lambda t, y: field(tuple(y), case.mom, lam, case.beta), (A0, B0), cfg)
        a0 = A0.flatten(-2).norm(dim=-1)
        for k, tk in enumerate(traj.t):
            a = traj.y[0][k].flatten(-2).norm(dim=-1)
            assert_leq(a, a0 * torch.exp(-rate * tk), 1e-4 * a0,
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
        zA, zB = field((torch.zeros_like(A), B), case.mom, case.lam, case.beta)  # on A = 0: −∇Ē = (0, −λB)
        err0 = tv.flatten((zA, zB + case.lam.reshape(-1, 1, 1) * B)).abs().amax(-1)
        assert_leq(err0, t, 0.0, claim="terver2025.lem4.3: on A = 0 the field is (0, −λB) (collapsed set: B = 0 if λ > 0)",
                   names=("max |field − (0, −λB)|", "bound"))
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


def necessity_stop_gradient_step() -> str:
    """Lemma 4.1 without the stop-gradient (target C = A, not detached): the autograd step is no longer the Euler
    step of the closed-form SG field (it adds −η·[C-branch gradient] = η·R_y Aᵀ-type terms); one seeded case."""
    lr = 1e-2
    case = make_case(2, 1, seed=0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(BATCH, 32, case.m, generator=g, dtype=DT)
    y = x + 0.5 * torch.randn(BATCH, 32, case.m, generator=g, dtype=DT)
    x, y = _dev(x, y)
    state = case.point[:2]
    new = tv.procedure_step(state, x, y, case.lam, lr, momentum=None, stop_gradient=False)
    mom = tv.sample_moments(x, y)
    d = tv.sg_field(state, mom, case.lam, 1.0)
    want = tuple(s + lr * ds for s, ds in zip(state, d))
    t = tol.sum_of_products(DT, 32 * case.m + case.n, lr * _scale(state, mom) + tv.flatten(state).abs().amax(-1))
    err = (tv.flatten(tuple(new)) - tv.flatten(want)).abs().amax(-1)
    bad = err > t
    if not bool(bad.any()):
        raise PropertyViolation("without stop-gradient the step still matches the closed-form SG field")
    i = int(bad.nonzero()[0])
    return (f"seed 0, n = 2, m = 1, case {i}: gradient through the target C = A: max |step − closed-form SG step| = "
            f"{float(err[i]):.3g} > rounding bound {float(t[i]):.3g}")
