"""The Terver et al. (2025) procedures' fields and tools (:mod:`ssl_props.dynamics.moments_model`) against independent
computations: the paper's formulas written out, autograd of the objectives, finite differences, symmetries."""
from __future__ import annotations

import math

import pytest
import torch

from ssl_props._validation import InvalidArgument
from ssl_props.papers.terver2025 import gradient_fields as c
from ssl_props.papers.terver2025 import equilibria as e
from ssl_props.dynamics import moments_model as tv
from ssl_props.papers.terver2025 import closed_forms as cf

DT = torch.float64


def _problem(n=3, m=2, seed=0):
    case = c.make_case(n, m, seed)
    return case, case.point


def test_sg_and_ema_fields_are_the_paper_formulas():
    case, (A, B, C) = _problem()
    lam = case.lam.reshape(-1, 1, 1)
    R = B @ A @ case.mom.xx - C @ case.mom.yx
    dA, dB, dC = tv.ema_field((A, B, C), case.mom, case.lam, case.beta)
    torch.testing.assert_close(dA, -(B.mT @ R + lam * A))
    torch.testing.assert_close(dB, -(R @ A.mT + lam * B))
    torch.testing.assert_close(dC, case.beta.reshape(-1, 1, 1) * (A - C))
    sA, sB = tv.sg_field((A, B), case.mom, case.lam)
    R0 = B @ A @ case.mom.xx - A @ case.mom.yx
    torch.testing.assert_close(sA, -(B.mT @ R0 + lam * A))
    torch.testing.assert_close(sB, -(R0 @ A.mT + lam * B))


def test_gd_field_is_minus_autograd_gradient_and_sg_drops_the_target_branch():
    case, (A, B, _) = _problem(4, 1, 3)
    Ar, Br = A.clone().requires_grad_(True), B.clone().requires_grad_(True)
    gA, gB = torch.autograd.grad(tv.objective(Ar, Br, case.mom, case.lam).sum(), (Ar, Br))
    dA, dB = tv.gd_field((A, B), case.mom, case.lam)
    torch.testing.assert_close(dA, -gA)
    torch.testing.assert_close(dB, -gB)
    Ar2 = A.clone().requires_grad_(True)
    g2, = torch.autograd.grad(tv.objective(Ar2, B, case.mom, case.lam, C=Ar2.detach()).sum(), (Ar2,))
    torch.testing.assert_close(tv.sg_field((A, B), case.mom, case.lam)[0], -g2)


def test_objective_matches_the_sample_mean():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(500, 2, generator=g, dtype=DT), torch.randn(500, 2, generator=g, dtype=DT)
    A, B, C = torch.randn(3, 2, dtype=DT), torch.randn(3, 3, dtype=DT), torch.randn(3, 2, dtype=DT)
    mom = tv.sample_moments(x, y)
    torch.testing.assert_close(tv.objective(A, B, mom, 0.1, C=C), tv.sample_loss(A, B, C, x, y, 0.1))


def test_fields_are_orthogonally_equivariant():
    case, (A, B, C) = _problem(4, 2, 5)
    Q = torch.linalg.qr(torch.randn(4, 4, generator=torch.Generator().manual_seed(1), dtype=DT))[0]
    for name, st in (("sg", (A, B)), ("gd", (A, B)), ("ema", (A, B, C))):
        f = tv.FIELDS[name]
        moved = (Q @ st[0], Q @ st[1] @ Q.T) + ((Q @ st[2],) if len(st) == 3 else ())
        out, ref = f(moved, case.mom, case.lam, case.beta), f(st, case.mom, case.lam, case.beta)
        torch.testing.assert_close(out[0], Q @ ref[0])
        torch.testing.assert_close(out[1], Q @ ref[1] @ Q.T)


def test_jacobian_matches_central_differences():
    case, (A, B, C) = _problem(3, 1, 2)
    st = (A, B, C)
    J = tv.jacobian(tv.ema_field, st, case.mom, case.lam, case.beta)
    z, h = tv.flatten(st), 1e-6
    for k in (0, 4, 10):
        e = torch.zeros_like(z)
        e[:, k] = h
        f = lambda w: tv.flatten(tv.ema_field(tv.unflatten(w, 3, 1, 3), case.mom, case.lam, case.beta))  # noqa: E731
        torch.testing.assert_close((f(z + e) - f(z - e)) / (2 * h), J[..., k], atol=1e-7, rtol=1e-6)


def test_loop_integral_is_zero_for_a_gradient_and_matches_stokes():
    case, (A, B, _) = _problem(2, 1, 0)
    z0 = tv.flatten((A, B))
    u = torch.zeros_like(z0)
    u[:, 0] = 1.0
    v = torch.zeros_like(z0)
    v[:, 2] = 1.0
    circ = tv.loop_integral(tv.gd_field, (A, B), case.mom, case.lam, case.beta, u, v, 0.3, points=16)
    assert float(circ.abs().max()) < 1e-12, circ
    J = tv.jacobian(tv.sg_field, (A, B), case.mom, case.lam, case.beta)
    r = 1e-3
    circ = tv.loop_integral(tv.sg_field, (A, B), case.mom, case.lam, case.beta, u, v, r, points=16)
    stokes = math.pi * r**2 * (J[:, 2, 0] - J[:, 0, 2])
    torch.testing.assert_close(circ, stokes, rtol=1e-4, atol=1e-12)


def test_prop45_closed_form_and_radii():
    case = e._scalar_case(3, 1.0, 1.0, 0.1)
    r1, r2 = cf.sphere_radii(case.mom.xx[..., 0, 0], case.mom.yx[..., 0, 0], case.lam)
    assert math.isclose(float(r1), (1 - math.sqrt(0.6)) / 2) and math.isclose(float(r2), (1 + math.sqrt(0.6)) / 2)
    for r in (r1, r2):
        A = torch.tensor([[[0.6], [0.0], [0.8]]], dtype=DT) * r
        B = cf.equilibrium_predictor(A, case.mom, case.lam)
        assert float(tv.flatten(tv.sg_field((A, B), case.mom, case.lam)).abs().max()) < 1e-14
        assert float(cf.prop45_residual(A.mT @ A, case.mom, case.lam).abs().max()) < 1e-14
    assert bool(torch.isnan(cf.sphere_radii(torch.tensor(1.0), torch.tensor(0.5), torch.tensor(0.1))[1]))


def test_transversal_spectrum_separates_the_kernel():
    J = torch.tensor([[[0.0, 1.0, 0.0], [0.0, -2.0, 0.5], [0.0, 0.0, -1.0]]], dtype=DT)
    T = torch.tensor([[[1.0], [0.0], [0.0]]], dtype=DT)
    ev, jq = tv.transversal_spectrum(J, T, 1)
    assert float(jq) == 0.0
    torch.testing.assert_close(torch.sort(ev.real, dim=-1).values, torch.tensor([[-2.0, -1.0]], dtype=DT))


def test_make_moments_has_the_documented_structure():
    mom = tv.make_moments(3, batch=(4,), seed=0, noise=0.2, mix=0.15)
    assert bool((torch.linalg.eigvalsh(mom.joint())[..., 0] > 0).all())
    assert float((mom.yx - mom.yx.mT).abs().max()) > 1e-3  # non-exchangeable views
    torch.testing.assert_close(mom.xx, mom.xx.mT)
    ex = tv.exchangeable_moments(mom.xx, 0.3 * mom.xx)
    torch.testing.assert_close(ex.xx, ex.yy)


def test_procedure_step_detaches_the_target():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 2, generator=g, dtype=DT)
    y = x + 0.3 * torch.randn(64, 2, generator=g, dtype=DT)
    A, B = torch.randn(3, 2, generator=g, dtype=DT), torch.randn(3, 3, generator=g, dtype=DT)
    sg = tv.procedure_step((A, B), x, y, 0.05, 0.1)
    gd = tv.procedure_step((A, B), x, y, 0.05, 0.1, stop_gradient=False)
    mom = tv.sample_moments(x, y)
    torch.testing.assert_close(sg[0], A + 0.1 * tv.sg_field((A, B), mom, 0.05)[0])
    torch.testing.assert_close(gd[0], A + 0.1 * tv.gd_field((A, B), mom, 0.05)[0])


def test_pool_cases_converge_to_stable_full_rank_equilibria():
    """The documented margins of :data:`ssl_props.papers.terver2025.gradient_fields.POOL` (σ_min > 0.5, gap ≥ 0.03)."""
    for spec in c.POOL:
        case = c.make_case(*spec)
        st, corr = c._limits(case, "sg")
        assert float(torch.linalg.svdvals(st[0])[..., -1].min()) > 0.5
        re, _, _ = e._transversal(tv.sg_field, st, case, case.m)
        assert float(re.max()) <= -0.03 + 1e-9


@pytest.mark.parametrize(("fn", "args", "needle"), [
    (tv.unflatten, (torch.zeros(5), 2, 1, 2), "expected 6"),
    (tv.make_moments, (0,), "m must be >= 1"),
    (lambda: tv.make_moments(2, mix=0.7), (), "mix must lie in"),
])
def test_bad_input_raises_invalid_argument(fn, args, needle):
    with pytest.raises(InvalidArgument, match=needle):
        fn(*args)
