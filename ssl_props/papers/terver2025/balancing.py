"""The balancing lemma of Terver et al. (submitted Lemma 3.4, "BᵀB = AAᵀ asymptotically"; camera-ready number not
known) and the basin remark on Prop. 4.10 (issue 14 items 1-2), on the moments model and on the registered losses.

Balancing. Along the SG and EMA flows (any teacher C, since C enters only through R = BA[xxᵀ] − C[yxᵀ])::

    d/dt (AAᵀ − BᵀB) = −BᵀRAᵀ − ARᵀB − 2λAAᵀ + BᵀRAᵀ + ARᵀB + 2λBᵀB = −2λ (AAᵀ − BᵀB),

so ``AAᵀ − BᵀB = e^{−2λt}(A₀A₀ᵀ − B₀ᵀB₀)`` (exactly conserved at λ = 0, EMA included). A discrete step
``z ← z + η·field`` breaks it at order η²: ``Q₁ − (1 − 2λη)Q₀ = η²(ȦȦᵀ − ḂᵀḂ)`` exactly. The identity uses only the
chain rule through ``p = BAx`` with the target stopped, so it also holds for the registered cosine losses.

Tolerances: instantaneous identities are sums of ≤ N products of size ``_scale`` (rounding, Higham §3.1); integrated
ones use :func:`ssl_props.dynamics.testing.converged` (RK4, regime-confirmed Richardson).
"""
from __future__ import annotations

from typing import Callable

import torch
from hypothesis import given, settings, strategies as st

from ssl_props import tolerances as tol
from ssl_props.dynamics import moments_model as tv
from ssl_props.dynamics.fields import LinearState
from ssl_props.dynamics.loss_fields import loss_field
from ssl_props.dynamics.simulate import SimConfig, integrate
from ssl_props.dynamics.testing import converged
from ssl_props.losses import get_loss
from ssl_props.papers.terver2025.gradient_fields import DT, Case, _dev, _eq_tol, _scale, cases, make_case
from ssl_props.properties import PropertyViolation, assert_close, assert_leq
from ssl_props.strategies import SEEDS

_CFG = SimConfig(t_end=3.0, method="rk4", dt=0.1, n_save=6)


def _Q(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    return A @ A.mT - B.mT @ B


def _rate(field: tv.Field, state: tuple, case: Case, lam) -> tuple[torch.Tensor, torch.Tensor]:
    d = field(state, case.mom, lam, case.beta)
    A, B = state[0], state[1]
    return d[0] @ A.mT + A @ d[0].mT - d[1].mT @ B - B.mT @ d[1], _Q(A, B)


def check_balancing_identity(*, procedure: str = "sg", field: tv.Field | None = None) -> None:
    """d/dt(AAᵀ − BᵀB) = −2λ(AAᵀ − BᵀB) at drawn points (EMA: a random teacher C ≠ A)."""
    f = tv.FIELDS[procedure] if field is None else field

    @settings(max_examples=5)
    @given(cases())
    def prop(case: Case) -> None:
        state = case.point if procedure == "ema" else case.point[:2]
        dQ, Q = _rate(f, state, case, case.lam)
        t = _eq_tol(state, case.mom).reshape(-1, 1, 1) * (1 + tv.flatten(state).norm(dim=-1)).reshape(-1, 1, 1)
        assert_close(dQ, -2 * case.lam.reshape(-1, 1, 1) * Q, t, names=("dQ/dt", "−2λQ"),
                     claim=f"terver2025.balancing ({procedure}): d/dt(AAᵀ − BᵀB) = −2λ(AAᵀ − BᵀB)")
    prop()


def check_balancing_along_flows(*, procedure: str = "ema", field: tv.Field | None = None) -> None:
    """Along the integrated flow: AAᵀ − BᵀB = e^{−2λt}(A₀A₀ᵀ − B₀ᵀB₀) (RK4, converged tolerance), λ and λ = 0."""
    f = tv.FIELDS[procedure] if field is None else field

    @settings(max_examples=2)
    @given(cases(), st.booleans())
    def prop(case: Case, ridge: bool) -> None:
        lam = case.lam if ridge else torch.zeros_like(case.lam)
        y0 = tuple(0.5 * s for s in (case.point if procedure == "ema" else case.point[:2]))
        run = lambda c: integrate(lambda t, y: f(tuple(y), case.mom, lam, case.beta), y0, c)  # noqa: E731
        Q0 = _Q(y0[0], y0[1])

        def gap(tr):
            Q = tr.y[0] @ tr.y[0].mT - tr.y[1].mT @ tr.y[1]
            decay = torch.exp(-2 * lam.reshape(1, -1, 1, 1) * tr.t.reshape(-1, 1, 1, 1))
            return Q - decay * Q0, (tr.y[0].square().sum((-2, -1)) + tr.y[1].square().sum((-2, -1))).amax(0).reshape(1, -1, 1, 1)
        c = converged(run, _CFG, gap, case_dim=1)
        assert_close(c.q, torch.zeros_like(c.q), c.tol, claim=f"terver2025.balancing ({procedure}): AAᵀ − BᵀB = e^{{−2λt}}Q₀")
    prop()


def check_discrete_step_breaks_at_second_order(*, procedure: str = "sg", lr: float = 0.05) -> None:
    """An Euler step (the implemented update, Lemma 4.1) breaks the law at order η² exactly:
    Q₁ − (1 − 2λη)Q₀ = η²(ȦȦᵀ − ḂᵀḂ), and that term is non-zero (so the discrete procedure only balances approximately)."""
    f = tv.FIELDS[procedure]

    @settings(max_examples=5)
    @given(cases())
    def prop(case: Case) -> None:
        state = case.point if procedure == "ema" else case.point[:2]
        d = f(state, case.mom, case.lam, case.beta)
        A1, B1 = state[0] + lr * d[0], state[1] + lr * d[1]
        lhs = _Q(A1, B1) - (1 - 2 * lr * case.lam.reshape(-1, 1, 1)) * _Q(state[0], state[1])
        rhs = lr**2 * (d[0] @ d[0].mT - d[1].mT @ d[1])
        t = tol.sum_of_products(DT, 4 * tv.flatten(state).shape[-1], (1 + tv.flatten(state).norm(dim=-1) + lr * _scale(state, case.mom)) ** 2)
        t = t.reshape(-1, 1, 1)
        assert_close(lhs, rhs, t, claim="terver2025.balancing: one step breaks the law by exactly η²(ȦȦᵀ − ḂᵀḂ)")
        assert_leq(t.flatten(), rhs.flatten(-2).norm(dim=-1), 0.0, names=("rounding bound", "‖η²(ȦȦᵀ − ḂᵀḂ)‖"),
                   claim="terver2025.balancing: the discrete step does break it (order η², non-zero)")
    prop()


def check_registered_losses_balance(*, get: Callable = get_loss) -> None:
    """The law on the autograd field through the registered simsiam/byol (SG: the teacher is A itself, not detached
    by the caller): d/dt(AAᵀ − BᵀB) = −2λ(AAᵀ − BᵀB) for x, y sampled views (ridge λ, α_p = 1)."""
    @settings(max_examples=6)
    @given(cases(), SEEDS)
    def prop(case: Case, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(case.lam.shape[0], 32, case.m, generator=g, dtype=DT)
        x, y = _dev(x, x + 0.5 * torch.randn(x.shape, generator=g, dtype=DT))
        A, B = case.point[:2]
        for name in ("simsiam", "byol"):
            d = loss_field(get(name), LinearState(A, B, A), x, y, eta=case.lam, alpha_p=1.0, beta=None)
            dQ = d.W @ A.mT + A @ d.W.mT - d.Wp.mT @ B - B.mT @ d.Wp
            mag = (1 + tv.flatten((A, B)).norm(dim=-1)) ** 4 * (1 + x.norm(dim=-1).sum(-1) + y.norm(dim=-1).sum(-1))
            t = tol.sum_of_products(DT, 4 * (32 + case.n), mag).reshape(-1, 1, 1)
            assert_close(dQ, -2 * case.lam.reshape(-1, 1, 1) * _Q(A, B), t, names=("dQ/dt", "−2λQ"),
                         claim=f"terver2025.balancing on the registered {name}: d/dt(AAᵀ − BᵀB) = −2λ(AAᵀ − BᵀB)")
    prop()


def necessity_balancing_gd() -> str:
    """Without SG/EMA (GD on Ē, the gradient also flows through the target Ay) the law fails at a seeded point."""
    case = make_case(3, 2, 0)
    dQ, Q = _rate(tv.gd_field, case.point[:2], case, case.lam)
    gap = (dQ + 2 * case.lam.reshape(-1, 1, 1) * Q).flatten(-2).norm(dim=-1)
    t = _eq_tol(case.point[:2], case.mom) * (1 + tv.flatten(case.point[:2]).norm(dim=-1))
    if not bool((gap > t).any()):
        raise PropertyViolation("terver2025.balancing necessity: GD kept the balancing law")
    return f"GD (no stop-gradient), n = 3, m = 2, seed 0: ‖dQ/dt + 2λQ‖ = {float(gap.max()):.3g} > {float(t.max()):.1e}"


def necessity_balancing_ridge() -> str:
    """With a ridge on A only (λ_B = 0), d/dt(AAᵀ − BᵀB) + 2λ(AAᵀ − BᵀB) = −2λBᵀB ≠ 0."""
    case = make_case(3, 2, 0)
    A, B = case.point[:2]

    def a_only(state, mom, lam, beta):
        dA, dB = tv.sg_field(state, mom, lam, beta)
        return dA, dB + lam.reshape(-1, 1, 1) * state[1]
    dQ, Q = _rate(a_only, (A, B), case, case.lam)
    gap = (dQ + 2 * case.lam.reshape(-1, 1, 1) * Q).flatten(-2).norm(dim=-1)
    t = _eq_tol((A, B), case.mom) * (1 + tv.flatten((A, B)).norm(dim=-1))
    if not bool((gap > t).all()):
        raise PropertyViolation("terver2025.balancing necessity: unequal ridges kept the law")
    return f"ridge λ on A only: ‖dQ/dt + 2λQ‖ = 2λ‖BᵀB‖ ≥ {float(gap.min()):.3g} > {float(t.max()):.1e}"


# ---------------------------------------------------------------- Prop 4.10's basin: the origin attracts when λ > 0
def check_origin_attracts(*, procedure: str = "sg", field: tv.Field | None = None) -> None:
    """At (A, B[, C]) = 0 the Jacobian is −λI on (A, B) (EMA: block-triangular with teacher block −β): the origin is
    asymptotically stable (Thm 4.9). SG flow from a small init: with r² = ‖A‖² + ‖B‖²,
    d(r²)/dt = −2λr² − 2tr(BA[xxᵀ]AᵀBᵀ) + 2⟨A[yxᵀ], BA⟩ ≤ −2λr² + 2‖[yxᵀ]‖₂ r³, so from r₀ ≤ λ/(2‖[yxᵀ]‖₂) the ball is
    invariant and r(t) ≤ r₀e^{−λt/2}: checked at T = 4/λ_min (tolerance 1e-6 r₀: dopri5 rtol 1e-8)."""
    f = tv.FIELDS[procedure] if field is None else field

    @settings(max_examples=2)
    @given(cases())
    def prop(case: Case) -> None:
        k = 3 if procedure == "ema" else 2
        zero = tuple(torch.zeros_like(s) for s in case.point[:k])
        J = tv.jacobian(f, zero, case.mom, case.lam, case.beta)
        N = J.shape[-1]
        nAB = case.n * case.m + case.n * case.n
        want = -case.lam.reshape(-1, 1, 1) * torch.eye(N, dtype=DT, device=J.device)
        if k == 3:  # dC = β(A − C): block rows of C
            want = want.clone()
            want[:, nAB:, nAB:] = -case.beta.reshape(-1, 1, 1) * torch.eye(N - nAB, dtype=DT, device=J.device)
            want[:, nAB:, :case.n * case.m] = case.beta.reshape(-1, 1, 1) * torch.eye(case.n * case.m, dtype=DT, device=J.device)
        assert_close(J, want, tol.sum_of_products(DT, N, 1 + case.beta.reshape(-1, 1, 1)),
                     claim=f"terver2025.remark-basin ({procedure}): the Jacobian at the origin is −λI (teacher: −β)")
        if k == 3:
            return
        r_max = case.lam / (2 * torch.linalg.matrix_norm(case.mom.yx, ord=2))
        z0 = tv.flatten(case.point[:2])
        z0 = z0 * (0.9 * r_max / z0.norm(dim=-1)).reshape(-1, 1)
        y0 = tv.unflatten(z0, case.n, case.m, 2)
        T = float(4 / case.lam.min())
        yT = tv.run_flow(f, y0, case.mom, case.lam, case.beta, t_end=T, rtol=1e-8, atol=1e-14)
        r0, rT = z0.norm(dim=-1), tv.flatten(yT).norm(dim=-1)
        assert_leq(rT, r0 * torch.exp(-case.lam * T / 2), 1e-6 * r0, names=("r(T)", "r₀e^{−λT/2}"),
                   claim=f"terver2025.remark-basin ({procedure}): from r₀ ≤ λ/(2‖[yxᵀ]‖) the flow collapses")
    prop()


def necessity_origin_no_ridge() -> str:
    """λ = 0: AAᵀ − BᵀB is conserved, so from A₀ with A₀A₀ᵀ ≠ B₀ᵀB₀ the flow can never reach the origin (and J(0) = 0)."""
    case = make_case(3, 1, 0)
    y0 = tuple(0.05 * s for s in case.point[:2])
    zero = torch.zeros_like(case.lam)
    yT = tv.run_flow(tv.sg_field, y0, case.mom, zero, case.beta, t_end=200.0, rtol=1e-8, atol=1e-14)
    q0 = _Q(*y0).flatten(-2).norm(dim=-1)
    qT = _Q(*yT).flatten(-2).norm(dim=-1)
    dist = tv.flatten(yT).norm(dim=-1)
    if not bool(((qT - q0).abs() <= 1e-6 * q0).all() & (dist**2 >= 0.5 * q0 / 2 ** 0.5).all()):
        raise PropertyViolation("terver2025.remark-basin necessity: λ = 0 still reached the origin")
    return (f"λ = 0, SG from scale 0.05: ‖AAᵀ − BᵀB‖ stays {float(q0.min()):.3g}, so ‖(A, B)(200)‖ ≥ "
            f"{float(dist.min()):.3g} > 0 (no collapse to the origin)")
