"""The batched L-BFGS of :mod:`ssl_props.spectral` keeps its contract, not only its answer (issue 15: mutants that
only slowed it, or never stopped a stalled start, passed every check of the optimum).

* a start at an exact minimum (∇f = 0) stops at once: ``‖∇f‖ ≤ gtol`` with ``gtol = 0`` is reached;
* on a strongly convex quadratic the unit quasi-Newton step is tried first and accepted (Nocedal & Wright,
  Numerical Optimization, Thm 3.6: near the solution the unit step satisfies Armijo), so the loss is evaluated
  about twice per iteration (one trial, one value-and-gradient), and the answer is ``A⁻¹b``;
* a start whose reported gradient leads uphill (no step decreases ``f``) is marked stalled and stops, reporting
  its gradient, instead of running ``max_iter`` iterations.
"""
from __future__ import annotations

import torch

from ssl_props.spectral import lbfgs

F64 = torch.float64


def _quadratic(batch: int = 4, k: int = 6, seed: int = 0):
    """``f(x) = ½ xᵀAx − bᵀx`` per start, ``A`` SPD with eigenvalues in [1, 10] (condition number ≤ 10)."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(batch, k, k, generator=g, dtype=F64))
    A = q @ torch.diag_embed(1 + 9 * torch.rand(batch, k, generator=g, dtype=F64)) @ q.mT
    b = torch.randn(batch, k, generator=g, dtype=F64)
    calls = [0]

    def fun(x):
        calls[0] += 1
        return 0.5 * torch.einsum("bi,bij,bj->b", x, A, x) - (b * x).sum(1)
    return fun, torch.linalg.solve(A, b), calls


def test_a_start_at_the_minimum_stops_at_once():
    x, gnorm, it = lbfgs(lambda x: x.square().sum(1), torch.zeros(3, 4, dtype=F64), gtol=0.0, max_iter=50)
    assert it == 1 and bool((gnorm == 0).all()) and bool((x == 0).all())


def test_unit_step_is_accepted_on_a_quadratic():
    fun, x_star, calls = _quadratic()
    x, gnorm, it = lbfgs(fun, torch.zeros_like(x_star), gtol=1e-10)
    # ‖x − x⋆‖ ≤ ‖A⁻¹‖ ‖∇f‖ ≤ 1 · gtol (smallest eigenvalue ≥ 1)
    assert bool((gnorm <= 1e-10).all()) and float((x - x_star).norm(dim=1).max()) <= 1e-10
    # 1 evaluation at x0, then a trial and a value-and-gradient per iteration; a few backtracks while the history
    # is short (the first step is scaled by 1/‖∇f‖). Observed: 37 evaluations for 17 iterations.
    assert calls[0] <= 2 * it + 8, f"{calls[0]} loss evaluations for {it} iterations: the unit step is not accepted"
    assert it <= 40, f"{it} iterations for a 6-dimensional quadratic of condition number ≤ 10"


def test_a_start_that_cannot_descend_is_stalled():
    """``f = ‖x‖²`` but a gradient reported as ``2x + 10`` (uphill along −∇f at x = 0): no step is accepted."""
    def fun(x):
        return x.square().sum(1) + 10 * (x - x.detach()).sum(1)
    x, gnorm, it = lbfgs(fun, torch.zeros(2, 3, dtype=F64), gtol=1e-9, max_iter=100)
    assert it <= 3 and bool((gnorm > 1e-9).all()) and bool((x == 0).all())
