"""Remarks on Terver et al.'s equilibria (issue 14 items 4-6): saddles also occur for m > 1; points of a positive-
dimensional equilibrium variety cannot meet Thm 4.9's hypothesis; Prop. 4.5's system has *at most* 2^{m(m+1)/2}
solutions (and needs λ > 0 for its B).

Text read: the ICLR-2026 reviews of the submitted version (verbatim: "such a system admits 2^{m(m+1)/2} solutions",
l. 368) and the camera-ready paper notes (paraphrase: "saddles only appear when m = 1"); the paper itself was not
found (``shared/papers/fidelity-2026-12/terver2025.md`` §4-5). Tolerances as in
:mod:`ssl_props.papers.terver2025.equilibria` (rounding bound ``_eq_tol`` for field values, ``√eps‖J‖`` for
eigenvalues of the non-normal Jacobian).
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from hypothesis import given, settings, strategies as st

from ssl_props.dynamics import moments_model as tv
from ssl_props.papers.terver2025 import closed_forms as cf
from ssl_props.papers.terver2025.equilibria import _scalar_case, _transversal
from ssl_props.papers.terver2025.gradient_fields import (DT, EPS, POOL, Case, _dev, _eq_tol, _fnorm, _limits, make_case)
from ssl_props.properties import PropertyViolation, assert_leq
from ssl_props.strategies import SEEDS

# ---------------------------------------------------------------- item 4: saddles for m = 2
_X, _Y, _LAM = (1.0, 1.5), (0.8, 0.9), 0.05  # the counterexample of the second reading: n = 3, m = 2


def _roots(rho: float, tau: float, lam: float) -> tuple[float, float]:
    d = math.sqrt(tau * tau - 4 * rho * lam)
    return (abs(tau) - d) / (2 * rho), (abs(tau) + d) / (2 * rho)


def _newton(state: tuple, case: Case, steps: int = 12, field: tv.Field = tv.sg_field) -> tuple:
    """Damped Newton ``z ← z − t J⁺f`` (minimum-norm steps: the Jacobian is singular along the variety; t halved until
    the residual does not grow), no flow: a saddle would repel the flow."""
    n, m = state[0].shape[-2:]
    z = tv.flatten(state)
    res = lambda z: tv.flatten(field(tv.unflatten(z, n, m, 2), case.mom, case.lam, case.beta))  # noqa: E731
    for _ in range(steps):
        f = res(z)
        J = tv.jacobian(field, tv.unflatten(z, n, m, 2), case.mom, case.lam, case.beta)
        dz = (torch.linalg.pinv(J, rtol=1e-10) @ f.unsqueeze(-1)).squeeze(-1)
        step = torch.ones_like(z[..., :1])
        for _ in range(8):  # backtracking per case: halve the step until the residual does not grow
            worse = res(z - step * dz).norm(dim=-1, keepdim=True) > f.norm(dim=-1, keepdim=True)
            if not bool(worse.any()):
                break
            step = torch.where(worse, step / 2, step)
        z = z - step * dz
    return tv.unflatten(z, n, m, 2)


def _mixed_equilibrium(seed: int, eps: float, roots: tuple[int, int] = (0, 1), B: int = 4,
                       field: tv.Field = tv.sg_field) -> tuple[tuple, Case]:
    """[xxᵀ] = diag(1, 1.5) + sym(εN), [yxᵀ] = diag(0.8, 0.9) + εN′ (‖N‖_F = ‖N′‖_F = 1), λ = 0.05; start A = [r_{k₁}(1)e₁, r_{k₂}(2)e₂]
    (k = 0 inner, 1 outer root of coordinate i's m = 1 equation), B = Prop. 4.5's predictor, then Newton."""
    g = torch.Generator().manual_seed(seed)
    N1, N2 = torch.randn(B, 2, 2, generator=g, dtype=DT), torch.randn(B, 2, 2, generator=g, dtype=DT)
    N1, N2 = (N / N.flatten(-2).norm(dim=-1).reshape(-1, 1, 1) for N in (N1, N2))  # ‖perturbation‖_F = ε
    X = torch.diag(torch.tensor(_X, dtype=DT)) + eps * 0.5 * (N1 + N1.mT)
    Y = torch.diag(torch.tensor(_Y, dtype=DT)) + eps * N2
    mom = tv.ViewMoments(*_dev(X, Y, X))
    lam, beta = _dev(torch.full((B,), _LAM, dtype=DT), torch.ones(B, dtype=DT))
    case = Case(3, 2, mom, lam, beta, (), ())
    r = [_roots(_X[i], _Y[i], _LAM)[roots[i]] for i in range(2)]
    A0 = _dev(torch.tensor([[r[0], 0.0], [0.0, r[1]], [0.0, 0.0]], dtype=DT).expand(B, 3, 2).clone())[0]
    return _newton((A0, cf.equilibrium_predictor(A0, mom, lam)), case, field=field), case


def check_saddles_for_m2(*, field: tv.Field = tv.sg_field) -> None:
    """m = 2, n = 3: the inner/outer equilibrium (and its Newton continuation under moment perturbations of Frobenius size ≤ 0.03)
    is a full-rank SG equilibrium whose Jacobian has exactly mn − m(m+1)/2 = 3 zero eigenvalues and one with Re > 0."""
    @settings(max_examples=3)
    @given(SEEDS, st.sampled_from((0.0, 0.01, 0.03)))
    def prop(seed: int, eps: float) -> None:
        state, case = _mixed_equilibrium(seed, eps, field=field)
        t = _eq_tol(state, case.mom)
        assert_leq(_fnorm(field, state, case), t, 0.0, claim="terver2025.remark-saddles: an SG equilibrium",
                   names=("‖field‖", "rounding bound"))
        smin = torch.linalg.svdvals(state[0])[..., -1]
        assert_leq(torch.full_like(smin, 0.01), smin, 0.0, claim="terver2025.remark-saddles: full rank", names=("0.01", "σ_min(A)"))
        re, jq, te = _transversal(field, state, case, 2)
        assert_leq(jq, te, 0.0, claim="terver2025.remark-saddles: J vanishes on the variety's 3 tangent directions",
                   names=("‖J Q_T‖", "√eps‖J‖"))
        assert_leq(te, re, 0.0, claim="terver2025.remark-saddles: a transversal eigenvalue has Re > 0 (a saddle, m = 2)",
                   names=("√eps‖J‖", "max Re"))
    prop()


def necessity_saddles_mixed_roots() -> str:
    """The saddle needs the inner root in one coordinate: the outer/outer equilibrium of the same data is stable."""
    state, case = _mixed_equilibrium(0, 0.0, roots=(1, 1))
    re, _, te = _transversal(tv.sg_field, state, case, 2)
    if not bool((re < -te).all()):
        raise PropertyViolation("terver2025.remark-saddles necessity: the outer/outer equilibrium is not stable")
    return f"outer/outer roots (same data): max Re of the transversal spectrum = {float(re.max()):.3g} < 0 (stable)"


# ---------------------------------------------------------------- item 5: Thm 4.9 cannot apply on a variety
def _zero_count(J: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    ev = torch.linalg.eigvals(J)
    te = math.sqrt(EPS) * J.flatten(-2).norm(dim=-1)
    return (ev.abs() <= te.unsqueeze(-1)).sum(-1), ev.real.amax(-1)


def check_variety_zero_eigenvalues(*, field: tv.Field = tv.sg_field) -> None:
    """At SG limit points (n > m) the Jacobian has exactly dim 𝒜_k = mn − m(m+1)/2 ≥ 1 zero eigenvalues, so Thm 4.9's
    'every eigenvalue has Re < 0' never holds; and the rotated point (QA, QBQᵀ), Q = exp(0.1 W), is another equilibrium
    a fixed distance away (no convergence to the point: not asymptotically stable in the usual sense)."""
    @settings(max_examples=2)
    @given(st.sampled_from(POOL))
    def prop(p: tuple) -> None:
        case = make_case(*p)
        (A, B), _ = _limits(case, "sg")
        J = tv.jacobian(field, (A, B), case.mom, case.lam, case.beta)
        k = case.m * case.n - case.m * (case.m + 1) // 2
        zeros, _ = _zero_count(J)
        if not bool((zeros == k).all()):
            raise PropertyViolation(f"terver2025.remark-variety: {zeros.tolist()} zero eigenvalues, expected dim = {k}")
        W = torch.zeros(case.n, case.n, dtype=DT, device=A.device)
        W[0, 1], W[1, 0] = 1.0, -1.0
        Q = torch.linalg.matrix_exp(0.1 * W)
        A2, B2 = Q @ A, Q @ B @ Q.mT
        assert_leq(_fnorm(field, (A2, B2), case), _eq_tol((A2, B2), case.mom), 0.0,
                   claim="terver2025.remark-variety: the rotated point is an equilibrium", names=("‖field‖", "bound"))
        dist = tv.flatten((A2 - A, B2 - B)).norm(dim=-1)
        assert_leq(torch.full_like(dist, 1e-3), dist, 0.0, claim="terver2025.remark-variety: at a positive distance",
                   names=("1e-3", "distance"))
    prop()


def necessity_variety_square() -> str:
    """n = m = 1 (a zero-dimensional variety): at the outer root every eigenvalue is negative — Thm 4.9 applies."""
    case = _scalar_case(1, 1.0, 0.8, 0.05)
    r1, r2 = cf.sphere_radii(case.mom.xx[..., 0, 0], case.mom.yx[..., 0, 0], case.lam)
    A = r2.reshape(-1, 1, 1) * torch.ones(1, 1, 1, dtype=DT, device=r2.device)
    J = tv.jacobian(tv.sg_field, (A, cf.equilibrium_predictor(A, case.mom, case.lam)), case.mom, case.lam, case.beta)
    zeros, top = _zero_count(J)
    if bool((zeros > 0).any()) or bool((top >= 0).any()):
        raise PropertyViolation("terver2025.remark-variety necessity: n = m gave zero eigenvalues")
    return f"n = m = 1, ρ = 1, τ = 0.8, λ = 0.05: outer root r₂ = {float(r2):.4g}, no zero eigenvalue, max Re = {float(top):.3g}"


# ---------------------------------------------------------------- item 6: Prop 4.5's count is an upper bound
def prop45_solutions(mom: tv.ViewMoments, lam: float, *, starts: int = 48, seed: int = 0,
                     residual: Callable = cf.prop45_residual) -> torch.Tensor:
    """Real positive-definite S (2×2) with Prop. 4.5's residual 0, from ``starts`` Newton runs on its 3 equations
    (S = [[a, b], [b, c]]), deduplicated to 1e-6; one moment set (unbatched ``mom``). Returns (K, 2, 2)."""
    g = torch.Generator().manual_seed(seed)
    L = torch.randn(starts, 2, 2, generator=g, dtype=DT)
    S0 = L @ L.mT * 0.5
    u = torch.stack([S0[:, 0, 0], S0[:, 0, 1], S0[:, 1, 1]], -1)

    X, Y = mom.xx, mom.yx
    I2 = torch.eye(2, dtype=DT)
    basis = torch.stack([torch.tensor(b, dtype=DT) for b in ([[1.0, 0.0], [0.0, 0.0]], [[0.0, 1.0], [1.0, 0.0]],
                                                            [[0.0, 0.0], [0.0, 1.0]])])  # S = Σ u_k E_k

    def sym3(R: torch.Tensor) -> torch.Tensor:
        return torch.stack([R[..., 0, 0], R[..., 0, 1], R[..., 1, 1]], -1)

    def f(u: torch.Tensor) -> torch.Tensor:
        return sym3(residual(torch.einsum("bk,kij->bij", u, basis), mom, lam))

    def jac(u: torch.Tensor) -> torch.Tensor:  # dR[E] = XE(SX + λ) + (XS + λ)EX − YᵀEY (R is quadratic in S)
        S = torch.einsum("bk,kij->bij", u, basis).unsqueeze(1)
        E = basis.unsqueeze(0)
        dR = X @ E @ (S @ X + lam * I2) + (X @ S + lam * I2) @ E @ X - Y.mT @ E @ Y
        return sym3(dR).mT  # (b, 3 equations, 3 unknowns)
    for _ in range(25):  # Newton converges quadratically: the converged starts are at rounding level by then
        u = u - torch.linalg.lstsq(jac(u), f(u).unsqueeze(-1)).solution.squeeze(-1)
        u = torch.nan_to_num(u, nan=0.0).clamp(-1e3, 1e3)
    ok = f(u).norm(dim=-1) <= 1e-10 * (1 + u.norm(dim=-1)) ** 2
    S = torch.stack([torch.stack([u[:, 0], u[:, 1]], -1), torch.stack([u[:, 1], u[:, 2]], -1)], -2)[ok]
    S = S[torch.linalg.eigvalsh(S)[:, 0] > 1e-9]
    keep: list[torch.Tensor] = []
    for s in S:  # deduplicate the (≤ 256) converged starts, not the data: a short loop over solutions
        if all(float((s - k).abs().max()) > 1e-6 for k in keep):
            keep.append(s)
    return torch.stack(keep) if keep else torch.zeros(0, 2, 2, dtype=DT)


def check_prop45_at_most(*, residual: Callable = cf.prop45_residual) -> None:
    """m = 2: the real PD solutions of Prop. 4.5's 3 quadratic equations, found by 48-start Newton for drawn moments,
    number at most 2³ = 8; each gives an SG equilibrium (A = U√S, B = predictor); and some drawn data give fewer than 8
    (so 'admits 2^{m(m+1)/2} solutions' must read 'at most')."""
    @settings(max_examples=1)  # 48 starts × 25 batched Newton steps per example
    @given(SEEDS)
    def prop(seed: int) -> None:
        mom1 = tv.make_moments(2, seed=seed, noise=0.2, mix=0.1)
        lam = 0.05
        S = prop45_solutions(mom1, lam, seed=seed, residual=residual)
        if S.shape[0] > 8:
            raise PropertyViolation(f"terver2025.remark-prop45-count: {S.shape[0]} > 2³ PD solutions")
        if S.shape[0] == 8:
            raise PropertyViolation("terver2025.remark-prop45-count: this draw has the full 2³ solutions (look again)")
        if S.shape[0]:
            ev, V = torch.linalg.eigh(S)
            root = V @ torch.diag_embed(ev.sqrt()) @ V.mT
            A = torch.cat([root, torch.zeros(S.shape[0], 1, 2, dtype=DT)], -2)  # U = [I; 0], n = 3
            mom = tv.ViewMoments(*(v.expand(S.shape[0], 2, 2) for v in mom1))
            lam_t = torch.full((S.shape[0],), lam, dtype=DT)
            case = Case(3, 2, mom, lam_t, torch.ones_like(lam_t), (), ())
            st_ = (A, cf.equilibrium_predictor(A, mom, lam_t))
            assert_leq(_fnorm(tv.sg_field, st_, case), 1e-8 * (1 + tv.flatten(st_).norm(dim=-1)) ** 3, 0.0,
                       claim="terver2025.remark-prop45-count: each solution S gives an SG equilibrium", names=("‖field‖", "bound"))
    prop()


def necessity_prop45_singular_W() -> str:
    """Prop. 4.5's B = A[yxᵀ]AᵀW⁻¹ needs λ > 0: at λ = 0, W = A[xxᵀ]Aᵀ has rank m < n (singular) for every A."""
    case = make_case(3, 2, 0)
    A = case.init[0]
    W = A @ case.mom.xx @ A.mT
    sv = torch.linalg.svdvals(W)
    rel = sv[..., -1] / sv[..., 0]
    if not bool((rel <= 16 * EPS).all()):
        raise PropertyViolation("terver2025.prop4.5 necessity: W was invertible at λ = 0")
    return f"λ = 0, n = 3, m = 2: σ_min(W)/σ_max(W) ≤ {float(rel.max()):.1e} (rank 2 < 3): W⁻¹ does not exist"
