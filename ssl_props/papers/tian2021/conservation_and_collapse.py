"""Checks of Tian, Chen & Ganguli (2021), Lemmas 1-2 and Theorems 1-2: the conserved balance, weight decay
and collapse without stop-gradient (records in :mod:`ssl_props.papers.tian2021.records`).

Numeric checks draw a *batch* of cases per Hypothesis example (data models, initialisations and
hyperparameters from one seed) and integrate them at once; ``max_examples`` is therefore small (each
example is 8-32 cases), with the reason given at each call. Tolerances: rounding of sums of products
(:mod:`ssl_props.tolerances`) for instantaneous identities, Richardson estimates of the RK4 error
(:mod:`ssl_props.dynamics.testing`) for integrated ones, and eigengaps / attractor distances for limits.
Keyword overrides (``field=``, ``predictor=``, ``integrator=``) let ``tests/`` show each property can fail.
"""
from __future__ import annotations

from typing import Callable

import torch
from hypothesis import strategies as st

from ssl_props.papers.tian2021 import derivations as D
from ssl_props.device import resolve_device
from ssl_props.properties import assert_close, assert_leq, find_counterexample, holds
from ssl_props.tolerances import sum_of_products
from ssl_props.dynamics.data_models import data_models, make_data_model, make_spectrum, random_init
from ssl_props.dynamics.fields import LinearState, byol_field, flat_field, no_stopgrad_hessian, pack, population_loss
from ssl_props.dynamics.simulate import SimConfig, integrate, simulate
from ssl_props.dynamics.testing import converged, run_property
from ssl_props.papers.tian2021.draws import F64, fro, require, uniform
from ssl_props.strategies import SEEDS



# ---------------------------------------------------------------- Lemma 1
def symbolic_lemma1() -> None:
    require(D.is_zero(D.lemma1_residuals()), "sympy: −∂J/∂(W_p, W) differs from Eqns 2-3")


def _lemma1_gap(dm, seed: int, *, field: Callable, stop_gradient: bool = True):
    """(field − expected, tolerance) for one batch; expected from autograd of the population loss."""
    B, n1 = dm.batch, dm.n
    n2 = max(1, n1 - 1)
    g = torch.Generator().manual_seed(seed)
    s0 = random_init(n1, n2, B, seed=seed, scale=1.0)
    eta, ap, beta = uniform(g, B, 0.0, 0.3), uniform(g, B, 0.2, 3.0), uniform(g, B, 0.1, 3.0)
    Wa0 = s0.Wa + 0.3 * torch.randn(s0.Wa.shape, generator=g, dtype=F64).to(s0.Wa)
    W, Wp = s0.W.clone().requires_grad_(), s0.Wp.clone().requires_grad_()
    Wa = Wa0 if stop_gradient else W  # without stop-gradient the target is W itself (Theorem 2 setting)
    gW, gWp = torch.autograd.grad(population_loss(W, Wp, Wa, dm.X, dm.Xp).sum(), (W, Wp))
    e = eta.reshape(B, 1, 1)
    st0 = LinearState(s0.W, s0.Wp, Wa0 if stop_gradient else s0.W)
    d = field(st0, dm.X, dm.Xp, eta=eta, alpha_p=ap, beta=beta)
    want = (-gW - e * s0.W, -ap.reshape(B, 1, 1) * gWp - e * s0.Wp, beta.reshape(B, 1, 1) * (s0.W - st0.Wa))
    mag = ((1 + fro(s0.Wp)) ** 2 * (fro(s0.W) + fro(Wa0)) ** 2 * (1 + fro(dm.X + dm.Xp))).reshape(B, 1, 1)
    tol = sum_of_products(F64, 4 * n1 * n2 * n2, mag) * (1 + ap.reshape(B, 1, 1))
    return tuple(a - b for a, b in zip(d, want)), tol


def numeric_lemma1(*, field: Callable = byol_field) -> None:
    def body(arg):
        dm, seed = arg
        gaps, tol = _lemma1_gap(dm, seed, field=field)
        for name, gap in zip(("dW", "dW_p", "dW_a"), gaps):
            assert_close(gap, torch.zeros_like(gap), tol, claim=f"Lemma 1: {name} of the field equals the gradient flow",
                         inputs=dm.X)
    # 10 examples × 8 cases: the identity is algebraic (no integration)
    run_property(st.tuples(data_models(n=(1, 5), batch=8), SEEDS), body, max_examples=10)


def necessity_lemma1_stopgrad() -> str:
    def refutes(seed):
        x = make_data_model(torch.ones(4, 3, dtype=F64), make_spectrum(3, 0.0, 1.0, batch=4,
                            generator=torch.Generator().manual_seed(seed)), seed=seed, device=resolve_device())
        (gW, _, _), tol = _lemma1_gap(x, seed, field=byol_field, stop_gradient=False)
        return not holds(assert_close, gW, torch.zeros_like(gW), tol, claim="Eqn 3 without stop-gradient")
    seed = find_counterexample(st.integers(0, 1), refutes, what="Eqn 3 fails without stop-gradient", max_examples=2)
    return f"seed {seed}: gradient through the target W_a = W adds W_pWX − W(X+X') to dW/dt (Eqn 3 no longer holds)"


# ---------------------------------------------------------------- Theorem 1
def symbolic_theorem1() -> None:
    require(D.is_zero(D.theorem1_residual()), "sympy: d/dt Q + 2ηQ ≠ 0 along Eqns 2-3")


_CFG1 = SimConfig(t_end=2.0, method="rk4", dt=0.1, n_save=4)


def _theorem1_gap(dm, seed: int, *, field: Callable, cfg: SimConfig = _CFG1, **kw):
    B, n1 = dm.batch, dm.n
    n2 = max(1, n1 - 1)
    g = torch.Generator().manual_seed(seed)
    s0 = random_init(n1, n2, B, seed=seed, scale=0.7)
    eta, ap, beta = uniform(g, B, 0.0, 0.3), uniform(g, B, 0.3, 3.0), uniform(g, B, 0.2, 3.0)
    run = lambda c: simulate(s0, dm.X, dm.Xp, c, field=field, eta=eta, alpha_p=ap, beta=beta, **kw)  # noqa: E731

    def resid(tr):
        W, Wp = tr.y.W, tr.y.Wp
        Q = W @ W.mT - Wp.mT @ Wp / ap.reshape(1, B, 1, 1)
        decay = torch.exp(-2 * eta.reshape(1, B, 1, 1) * tr.t.reshape(-1, 1, 1, 1))
        return Q - decay * Q[0], (fro(W) ** 2 + fro(Wp) ** 2 / ap).amax(0).reshape(1, B, 1, 1)

    c = converged(run, cfg, resid, case_dim=1)
    return c.q, c.tol


def numeric_theorem1(*, field: Callable = byol_field) -> None:
    def body(arg):
        dm, seed = arg
        r, tol = _theorem1_gap(dm, seed, field=field)
        assert_close(r, torch.zeros_like(r), tol, claim="Theorem 1: WWᵀ − α_p⁻¹W_pᵀW_p = e^{−2ηt}C", inputs=dm.Xp)
    # 5 examples × 8 cases × 2 step sizes × 20 RK4 steps
    run_property(st.tuples(data_models(n=(1, 4), batch=8), SEEDS), body, max_examples=5)


def _theorem1_refuted(field: Callable, **kw) -> Callable[[int], bool]:
    def refutes(seed):
        dm = make_data_model(torch.ones(4, 3, dtype=F64), torch.full((4, 3), 0.5, dtype=F64), seed=seed, device=resolve_device())
        r, tol = _theorem1_gap(dm, seed, field=field, **kw)
        return not holds(assert_close, r, torch.zeros_like(r), tol, claim="Theorem 1")
    return refutes


def necessity_theorem1_stopgrad() -> str:
    seed = find_counterexample(st.integers(0, 1), _theorem1_refuted(byol_field, stop_gradient=False),
                               what="Theorem 1 fails without stop-gradient", max_examples=2)
    return f"seed {seed}: without stop-gradient WWᵀ − α_p⁻¹W_pᵀW_p is not e^{{−2ηt}}C"


def _extra_predictor_decay(state, X, Xp, *, eta, **kw):
    """Eqns 2-4 with weight decay 2η on W_p and η on W (a different decay per layer)."""
    d = byol_field(state, X, Xp, eta=eta, **kw)
    return LinearState(d.W, d.Wp - eta.reshape(-1, 1, 1) * state.Wp, d.Wa)


def necessity_theorem1_eta() -> str:
    seed = find_counterexample(st.integers(0, 1), _theorem1_refuted(_extra_predictor_decay),
                               what="Theorem 1 fails with a different weight decay on W_p", max_examples=2)
    return f"seed {seed}: with weight decay 2η on W_p and η on W the balance identity fails"


# ---------------------------------------------------------------- Theorem 2 and Lemma 2
def symbolic_theorem2() -> None:
    r, H = D.theorem2_residual()
    require(D.is_zero(r), "sympy: the no-stop-gradient field is not −H vec W")
    require(D.is_zero(H - H.T), "sympy: H is not symmetric")


_CFG2 = SimConfig(t_end=15.0, method="rk4", dt=0.5, n_save=6)  # h·|λ(H)| ≤ 0.5·4 inside RK4 stability (2.78)


def _theorem2_case(seed: int, B: int = 8, n: int = 3):
    """X = I·x, small isotropic X' and η: the regime where *with* stop-gradient the representation survives."""
    g = torch.Generator().manual_seed(seed)
    x = 0.8 + 0.4 * torch.rand(B, 1, generator=g, dtype=F64)
    dm = make_data_model(x.expand(B, n), 0.2 * x.expand(B, n) * torch.rand(B, 1, generator=g, dtype=F64), seed=seed,
                         device=resolve_device())
    s0 = random_init(n, n, B, seed=seed, scale=0.3, near_identity=True)
    return dm, s0, uniform(g, B, 0.1, 0.15), uniform(g, B, 0.8, 1.5)


def _theorem2_gap(seed: int, *, field: Callable, stop_gradient: bool = False, eta=None):
    dm, s0, eta_, ap = _theorem2_case(seed)
    eta = eta_ if eta is None else eta
    run = lambda c: simulate(s0, dm.X, dm.Xp, c, field=field, eta=eta, alpha_p=ap, beta=None,  # noqa: E731
                             stop_gradient=stop_gradient)
    c = converged(run, _CFG2, lambda tr: (fro(tr.y.W), fro(tr.y.W).amax(0)), case_dim=1)
    e = torch.as_tensor(eta, dtype=F64).expand(dm.batch)
    bound = torch.exp(-e * c.traj.t.reshape(-1, 1)) * fro(s0.W)
    return c.q, bound, c.tol, dm, s0, e, ap


def _packed_w_jacobian(s0: LinearState, X, Xp, **kw) -> torch.Tensor:
    """``∂(dW/dt)/∂W`` per case (B, n2·n1, n2·n1), row-major, by autograd through :func:`flat_field` on the packed
    state ``(W, W_p, W_a)`` without stop-gradient and with the SimSiam target ``W_a = W``."""
    z0 = pack(s0)
    k = s0.W.shape[-2] * s0.W.shape[-1]

    def dw(w):
        return flat_field(torch.cat([w, z0[:, k:]], -1), X, Xp, beta=None, stop_gradient=False, **kw)[:, :k]
    J = torch.autograd.functional.jacobian(dw, z0[:, :k])  # (B, k, B, k): cases do not interact
    return torch.einsum("bibj->bij", J)


def numeric_theorem2(*, field: Callable = byol_field) -> None:
    def body(seed):
        n, bound, tol, dm, s0, e, ap = _theorem2_gap(seed, field=field)
        d = field(s0, dm.X, dm.Xp, eta=e, alpha_p=ap, beta=None, stop_gradient=False)
        H = no_stopgrad_hessian(s0.Wp, dm.X, dm.Xp, eta=e)
        lhs = d.W.mT.reshape(dm.batch, -1)
        rhs = -(H @ s0.W.mT.reshape(dm.batch, -1, 1))[..., 0]
        mag = (fro(H) * fro(s0.W)).reshape(-1, 1)
        assert_close(lhs, rhs, sum_of_products(F64, H.shape[-1] + 9, mag), claim="Theorem 2: vec dW/dt = −H vec W")
        # the field is linear in W with Jacobian −H: autograd through the packed field (row-major blocks)
        J = _packed_w_jacobian(s0, dm.X, dm.Xp, eta=e, alpha_p=ap)
        n2, n1 = s0.W.shape[-2:]
        perm = torch.arange(n2 * n1).reshape(n1, n2).mT.reshape(-1)  # row-major index i·n1 + j → vec index j·n2 + i
        assert_close(J, -H[:, perm][:, :, perm], sum_of_products(F64, H.shape[-1] + 9, fro(H).reshape(-1, 1, 1)),
                     claim="Theorem 2: ∂(dW/dt)/∂W = −H (autograd through the packed field)", names=("Jacobian", "−H"))
        assert_leq(n, bound, tol, claim="Theorem 2: ||W(t)||_F ≤ e^{−ηt}||W(0)||_F without stop-gradient")
    # 2 examples × 8 cases × 2 step sizes × 30 RK4 steps (T = 15: e^{−ηT} ≤ 0.22 separates from survival)
    run_property(SEEDS, body, max_examples=2)


def necessity_theorem2_stopgrad() -> str:
    def refutes(seed):
        n, bound, tol, *_ = _theorem2_gap(seed, field=byol_field, stop_gradient=True)
        return not holds(assert_leq, n, bound, tol, claim="collapse")
    seed = find_counterexample(st.integers(0, 1), refutes, what="with stop-gradient W still collapses", max_examples=2)
    return f"seed {seed}: with stop-gradient ||W(15)|| stays above e^{{−15η}}||W(0)|| (no collapse)"


def necessity_theorem2_eta() -> str:
    def refutes(seed):
        n, B = 3, 4
        dm = make_data_model(torch.ones(B, n, dtype=F64), torch.zeros(B, n, dtype=F64), seed=seed, device=resolve_device())
        s0 = random_init(n, n, B, seed=seed, scale=0.3)
        s0 = LinearState(s0.W, torch.eye(n, dtype=F64).expand(B, n, n).to(s0.W), s0.W)
        tr = simulate(s0, dm.X, dm.Xp, SimConfig(t_end=30.0, method="rk4", dt=0.5), eta=0.0, beta=None,
                      stop_gradient=False)
        return bool((fro(tr.final.W) > 0.5 * fro(s0.W)).any())  # far from any decay e^{−λ0 t}, λ0 > 0
    seed = find_counterexample(st.integers(0, 1), refutes, what="η = 0 still collapses", max_examples=2)
    return f"seed {seed}: η = 0, X' = 0, W_p = I: H = 0, W(t) = W(0) (no collapse)"


_CFGL = SimConfig(t_end=3.0, method="rk4", dt=0.05, n_save=6)


def _lemma2_gap(seed: int, *, symmetric: bool = True, k: float = 0.0, integrator: Callable = integrate):
    g = torch.Generator().manual_seed(seed)
    B, n = 16, 4
    lam0 = uniform(g, B, 0.1, 1.0).reshape(B, 1, 1)
    A0 = torch.randn(B, n, n, generator=g, dtype=F64).to(lam0)
    A1 = torch.randn(B, n, n, generator=g, dtype=F64).to(lam0)
    N = torch.triu(torch.ones(n, n, dtype=F64), 1).to(lam0)
    eye = torch.eye(n, dtype=F64).to(lam0)

    def H(t):
        A = A0 + torch.sin(t).reshape(-1, 1, 1) * A1
        return lam0 * eye + (A @ A.mT / n if symmetric else k * N)

    w0 = torch.randn(B, n, generator=g, dtype=F64).to(lam0)
    run = lambda c: integrator(lambda t, y: (-(H(t) @ y[0].unsqueeze(-1))[..., 0],), (w0,), c)  # noqa: E731
    c = converged(run, _CFGL, lambda tr: (tr.y[0].norm(dim=-1), tr.y[0].norm(dim=-1).amax(0)), case_dim=1)
    bound = torch.exp(-lam0.reshape(1, B) * c.traj.t.reshape(-1, 1)) * w0.norm(dim=-1)
    return c.q, bound, c.tol


def numeric_lemma2(*, integrator: Callable = integrate) -> None:
    def body(seed):
        n, bound, tol = _lemma2_gap(seed, integrator=integrator)
        assert_leq(n, bound, tol, claim="Lemma 2: ||w(t)|| ≤ e^{−λ0 t}||w(0)||")
    run_property(SEEDS, body, max_examples=2)  # 2 × 16 systems, 2 × 60 RK4 steps each


def necessity_lemma2_symmetric() -> str:
    def refutes(k):
        n, bound, tol = _lemma2_gap(0, symmetric=False, k=float(k))
        return not holds(assert_leq, n, bound, tol, claim="Lemma 2")
    k = find_counterexample(st.integers(1, 10), refutes, what="non-symmetric H obeys the bound", max_examples=10)
    return f"H = λ0 I + {k}·N (N strictly upper triangular): eigenvalues all λ0, yet ||w(t)|| > e^{{−λ0 t}}||w(0)||"

