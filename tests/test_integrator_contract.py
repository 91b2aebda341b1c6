"""The batched integrators of :mod:`ssl_props.dynamics.simulate` keep their contract (issue 15: mutants of the
stage times, of the per-case error norm, of the per-case ok flag and of the evaluation count passed every
theorem, whose fields are autonomous and whose cases behave alike).

* the stage times of Dormand-Prince are ``t + c_i h`` (a non-autonomous field, ``y' = cos t``, shows it);
* each case is integrated as if alone: its error norm, step sizes, save times and ok flag are its own, so a case
  gives the same trajectory batched with a stiff or diverging companion as alone (elementwise the same
  operations; rounding only from the batched stage sums, well below 1e-12 here);
* ``nfev`` counts the batched field evaluations;
* the field receives the state in the structure of ``y0`` (a NamedTuple stays one).
"""
from __future__ import annotations

from typing import NamedTuple

import math

import pytest
import torch

from ssl_props._validation import InvalidArgument
from ssl_props.dynamics import moments_model as mm
from ssl_props.dynamics.simulate import SimConfig, integrate, simulate

F64 = torch.float64
METHODS = [SimConfig(t_end=2.0, method="dopri5", rtol=1e-10, atol=1e-12, n_save=4, device="cpu"),
           SimConfig(t_end=2.0, method="rk4", dt=0.01, n_save=4, device="cpu")]


@pytest.mark.parametrize("cfg", METHODS, ids=lambda c: c.method)
def test_non_autonomous_field(cfg):
    """y' = cos t, y(0) = 0: y(t) = sin t at every save (dopri5 global error ≲ 100·rtol; RK4 ≲ dt⁴)."""
    tr = integrate(lambda t, y: (torch.cos(t)[:, None] * torch.ones_like(y[0]),), (torch.zeros(2, 1, dtype=F64),), cfg)
    want = torch.sin(tr.t)[:, None, None].expand_as(tr.y[0])
    assert float((tr.y[0] - want).abs().max()) < 1e-8


@pytest.mark.parametrize("cfg", METHODS, ids=lambda c: c.method)
def test_a_case_is_integrated_as_if_alone(cfg):
    """Case 0 (y' = −y) alone, and batched with a stiff case (y' = −50 y) and one that blows up (y' = y²)."""
    rates = torch.tensor([1.0, 50.0, 0.0], dtype=F64)

    def field(t, y):
        z = y[0]
        return (torch.where(rates[: z.shape[0], None] > 0, -rates[: z.shape[0], None] * z, z.square()),)
    y0 = torch.tensor([[1.0], [1.0], [2.0]], dtype=F64)
    alone = integrate(field, (y0[:1],), cfg)
    batch = integrate(field, (y0,), cfg)
    assert batch.ok.tolist() == [True, True, False]  # y' = y² from 2 blows up at t = ½; h·50 ≤ ½ keeps RK4 stable
    assert alone.ok.tolist() == [True]
    assert float((batch.y[0][:, 0] - alone.y[0][:, 0]).abs().max()) <= 1e-12
    if cfg.method == "dopri5":
        assert int(batch.steps[0]) == int(alone.steps[0]) < int(batch.steps[1])


@pytest.mark.parametrize("cfg", METHODS, ids=lambda c: c.method)
def test_nfev_counts_the_field_evaluations(cfg):
    calls = [0]

    def field(t, y):
        calls[0] += 1
        return (-y[0],)
    tr = integrate(field, (torch.ones(3, 2, dtype=F64),), cfg)
    assert tr.nfev == calls[0]


class _State(NamedTuple):
    a: torch.Tensor
    b: torch.Tensor


def test_the_field_gets_the_structure_of_y0():
    cfg = SimConfig(t_end=1.0, method="dopri5", n_save=1, device="cpu")
    tr = integrate(lambda t, y: _State(-y.a, y.a - y.b), _State(torch.ones(2, 1, dtype=F64), torch.zeros(2, 1, dtype=F64)), cfg)
    assert isinstance(tr.y, _State) and abs(float(tr.final.a[0, 0]) - math.exp(-1.0)) < 1e-5


def test_a_non_tensor_state_is_refused():
    with pytest.raises(InvalidArgument, match="tuple of tensors"):
        integrate(lambda t, y: y, (1.0,), SimConfig(t_end=1.0, device="cpu"))


def test_run_flow_is_dopri5_at_the_requested_tolerance_and_passes_beta():
    """``run_flow`` integrates ``dA/dt = −βA`` (β = 20 passed through) to t = 0.2 at rtol 1e-12: relative error
    ≤ 1e-9 (a 1e3 margin over the requested local tolerance for ~50 accepted steps). RK4 at its default
    dt = 1e-2 is ~6e-5 off here, so a call falling back to the default method fails."""
    a0 = torch.ones(2, 2, 3, dtype=torch.float64)
    beta = torch.tensor(20.0, dtype=torch.float64)
    out = mm.run_flow(lambda s, mom, lam, b: tuple(-b * x for x in s), (a0, a0), None, None, beta,
                      t_end=0.2, rtol=1e-12, atol=1e-20)
    assert float((out[0] / math.exp(-4.0) - 1).abs().max()) <= 1e-9


def test_make_moments_view_map():
    """``y = M s``, ``M = (1 − mix) I + mix R`` with ``R`` orthogonal: noise-free, ``[yxᵀ][xxᵀ]⁻¹ = M`` and
    ``‖M − (1 − mix) I‖₂ = mix``; at ``mix = 0`` the three moments are one matrix."""
    same = mm.make_moments(4, batch=(3,), noise=0.0, mix=0.0)
    assert torch.allclose(same.xx, same.yx, rtol=1e-12, atol=0) and torch.allclose(same.xx, same.yy, rtol=1e-12, atol=0)
    mom = mm.make_moments(4, batch=(3,), noise=0.0, mix=0.3)
    M = torch.linalg.solve(mom.xx, mom.yx, left=False)
    gap = torch.linalg.matrix_norm(M - 0.7 * torch.eye(4, dtype=torch.float64), ord=2)
    torch.testing.assert_close(gap, torch.full_like(gap, 0.3), rtol=1e-10, atol=0)


def test_dopri5_max_steps_caps_the_iterations_exactly():
    """``max_steps`` is the number of Dormand-Prince iterations allowed (accepted or rejected, 6 evaluations each
    after the first): the count a run used is enough, one fewer leaves the cases unfinished (``ok`` False)."""
    y0 = (torch.ones(2, 3, dtype=torch.float64),)
    f = lambda t, y: tuple(-20.0 * v for v in y)  # noqa: E731
    free = integrate(f, y0, SimConfig(t_end=0.2, method="dopri5", rtol=1e-8))
    iterations = (free.nfev - 1) // 6
    assert bool(free.ok.all()) and iterations >= 2
    assert bool(integrate(f, y0, SimConfig(t_end=0.2, method="dopri5", rtol=1e-8, max_steps=iterations)).ok.all())
    assert not bool(integrate(f, y0, SimConfig(t_end=0.2, method="dopri5", rtol=1e-8, max_steps=iterations - 1)).ok.any())


def test_simulate_rejects_a_batch_of_non_square_data_matrices():
    X = torch.ones(2, 3, 4, dtype=torch.float64)
    state0 = tuple(torch.zeros(2, 3, 4, dtype=torch.float64) for _ in range(3))
    with pytest.raises(InvalidArgument, match="square"):
        simulate(state0, X, X, SimConfig(t_end=0.1))
