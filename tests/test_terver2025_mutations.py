"""Each Terver et al. (2025) property fails on a wrong procedure: a gradient let through the target, an EMA
teacher replaced by a copy or frozen, a stop-gradient inserted into plain GD, a transposed moment, wrong radii."""
from __future__ import annotations

from functools import partial

import pytest
import torch
from hypothesis import Phase

from ssl_props.papers.terver2025 import gradient_fields as c
from ssl_props.papers.terver2025 import equilibria as e
from ssl_props.dynamics import moments_model as tv
from ssl_props.papers.terver2025 import closed_forms as cf
from ssl_props.profiles import temporary_profile

from .helpers import violation_of


@pytest.fixture
def no_shrink():
    """Mutations fail on purpose: skip Hypothesis's shrink and explain phases (each would re-run flows)."""
    with temporary_profile("_terver_no_shrink", database=None, phases=(Phase.explicit, Phase.generate)):
        yield


def ema_with_gradient_through_target(state, mom, lam=0.0, beta=1.0):
    """EMA state, but the student follows −∇Ē (gradient through the target branch), teacher never moves."""
    return (*tv.gd_field(state[:2], mom, lam), torch.zeros_like(state[2]))


def frozen_teacher(state, mom, lam=0.0, beta=1.0):
    """EMA replaced by a copy taken once: β = 0, the teacher never follows the student."""
    return tv.ema_field(state, mom, lam, 0.0)


def ema_replaced_by_copy(state, x, y, lam, lr, *, momentum=None):
    """Training step whose 'EMA' teacher is a plain copy of the new student (momentum ignored)."""
    A, B, _ = tv.procedure_step(state, x, y, lam, lr, momentum=momentum)
    return (A, B, A.clone())


def predictor_transposed(A, mom, lam):
    """Slip: [xyᵀ] used instead of [yxᵀ] in B = A[yxᵀ]AᵀW⁻¹."""
    return cf.equilibrium_predictor(A, tv.ViewMoments(mom.xx, mom.yx.mT, mom.yy), lam)


def radii_without_half(rho, tau, lam):
    """Slip: (|τ| ∓ √Δ)/ρ, the factor ½ forgotten."""
    r1, r2 = cf.sphere_radii(rho, tau, lam)
    return 2 * r1, 2 * r2


def unstable_system(k, seed):
    """Thm 4.9 with the hypothesis broken: J shifted so that max Re spec J = +0.1 (no quadratic term, no blow-up)."""
    J, H, delta = e._hurwitz(k, seed)
    shift = 0.1 - torch.linalg.eigvals(J).real.max(-1).values
    return J + shift.reshape(-1, 1, 1) * torch.eye(k, dtype=J.dtype, device=J.device), torch.zeros_like(H), delta


CASES = [
    # (a) not a gradient field
    (partial(c.check_jacobian_asymmetric, procedure="sg"), dict(field=tv.gd_field), "Jacobian is not symmetric"),
    (partial(c.check_jacobian_asymmetric, procedure="ema"), dict(field=ema_with_gradient_through_target),
     "Jacobian is not symmetric"),
    (partial(c.check_loop_integral, procedure="sg"), dict(field=tv.gd_field), "circulation is non-zero"),
    # Lemma 4.1: the implemented step
    (partial(c.check_step_matches_field, momentum=None), dict(step=partial(tv.procedure_step, stop_gradient=False)),
     "Euler step"),
    (partial(c.check_step_matches_field, momentum=0.9), dict(step=ema_replaced_by_copy), "Euler step"),
    (c.check_matches_tian_fields, dict(field=tv.sg_field), "no-stop-gradient field"),
    # (b) GD collapses
    (c.check_gd_collapses, dict(field=tv.sg_field), "GD shrinks A"),
    (c.check_gd_critical_set, dict(field=tv.sg_field), "⟨∇_A Ē, A⟩"),
    # (c) SG/EMA limits: not critical, closed form, varieties, existence, stability
    (partial(c.check_limits_not_critical, procedure="sg"), dict(field=tv.gd_field), "terver2025.prop3.1"),
    (e.check_limits_solve_prop45, dict(predictor=predictor_transposed), "B = A[yxᵀ]AᵀW⁻¹"),
    (e.check_variety_of_equilibria, dict(predictor=predictor_transposed), "U√S* is an equilibrium"),
    (e.check_full_rank_equilibrium_exists, dict(field=tv.gd_field), "terver2025.prop4.7"),
    (partial(e.check_limits_stable, procedure="sg"), dict(field=tv.gd_field), "terver2025.prop4.10"),
    (partial(e.check_limits_stable, procedure="ema"), dict(field=frozen_teacher), "terver2025.prop4.10"),
    (e.check_spheres, dict(radii=radii_without_half), "sphere consists of equilibria"),
    (e.check_flow_to_outer_sphere, dict(field=tv.gd_field), "terver2025.prop4.11"),
    (e.check_linearisation_criterion, dict(make=unstable_system), "the equilibrium attracts"),
]


@pytest.mark.parametrize(("check", "kwargs", "needle"), CASES,
                         ids=[f"{getattr(ch, 'func', ch).__name__}-{'-'.join(kw)}-{i}" for i, (ch, kw, _) in enumerate(CASES)])
def test_property_fails_on_wrong_procedure(check, kwargs, needle, no_shrink):
    err = violation_of(check, **kwargs)
    assert needle in str(err), str(err)


def test_correct_procedures_pass_the_mutated_checks_unmodified(no_shrink):
    """Control: the same checks with the paper's procedures pass (cheap ones; the rest run in theorems/)."""
    c.check_jacobian_asymmetric(procedure="ema")
    c.check_step_matches_field(momentum=0.9)
    e.check_spheres()


def test_counterexample_is_readable(no_shrink):
    msg = str(violation_of(c.check_jacobian_asymmetric, procedure="sg", field=tv.gd_field))
    assert "terver2025.prop3.2" in msg and "‖J − Jᵀ‖_F" in msg and "rounding bound" in msg


@pytest.mark.parametrize("necessity", [c.necessity_identical_views_sg, c.necessity_uncorrelated_views,
                                       c.necessity_collapsed_point, c.necessity_identical_views_gd,
                                       e.necessity_collapsed_equilibrium, e.necessity_no_ridge_predictor,
                                       e.necessity_no_ridge_continuum, e.necessity_inner_sphere_saddle])
def test_necessity_checks_return_their_counterexample(necessity):
    out = necessity()
    assert isinstance(out, str) and out


def test_lemma41_stop_gradient_necessity_returns_its_counterexample():
    out = c.necessity_stop_gradient_step()
    assert isinstance(out, str) and out and "C = A" in out
