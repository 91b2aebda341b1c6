"""Helpers shared by the dynamics checks (Tian et al. 2021, Wang et al. 2021): derived tolerances for
integrated trajectories, and a runner for Hypothesis properties with an explicit example budget.

Tolerance of an integrated quantity (Richardson, Hairer et al. Solving ODEs I §II.4): a method of order
``p`` run with steps ``h`` and ``h/2`` gives ``q_h − q_{h/2} ≈ (2^p − 1) · err(q_{h/2})``, so
``|err(q_{h/2})| ≤ SAFETY · |q_h − q_{h/2}| / (2^p − 1)`` plus the rounding of ``steps`` updates of
magnitude ``M`` (``steps · eps · M``). A wrong implementation leaves ``q_h ≈ q_{h/2}`` far from the
claim, so the tolerance does not hide it.

:func:`richardson_tol` *assumes* the asymptotic regime; a drawn case near the integrator's stability limit
(h·|λ| ≈ 2.5 for RK4) is not in it, and the estimate can then undershoot the error (issue 11: Eqn 14 with
α_p s c ≈ 25 and dt = 0.1). :func:`converged` *confirms* the regime per case on three step sizes and refines
until it holds; every property of :mod:`ssl_props.papers` uses it.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, NamedTuple

import torch
from hypothesis import given, settings, strategies as st

from ssl_props._validation import InvalidArgument
from ssl_props.tolerances import SAFETY, eps
from ssl_props.dynamics.simulate import SimConfig, Trajectory

__all__ = ["richardson_tol", "twice", "converged", "Converged", "RegimeNotReached", "run_property", "ORDER"]

ORDER = {"euler": 1, "rk4": 4, "dopri5": 5}


def twice(run: Callable[[SimConfig], Trajectory], cfg: SimConfig) -> tuple[Trajectory, Trajectory]:
    """Run with ``cfg`` and with half the step (fixed-step), or ``rtol, atol / 32`` (dopri5: its global error is
    about proportional to the tolerance, so dividing by ``2^5`` plays the role of halving an order-5 step)."""
    if cfg.method == "dopri5":
        return run(cfg), run(replace(cfg, rtol=cfg.rtol / 32, atol=cfg.atol / 32))
    return run(cfg), run(replace(cfg, dt=cfg.dt / 2))


def richardson_tol(q_h: torch.Tensor, q_h2: torch.Tensor, cfg: SimConfig, magnitude: torch.Tensor | float) -> torch.Tensor:
    """``SAFETY max|q_h − q_{h/2}| / (2^p − 1) + SAFETY · steps · eps · magnitude`` (module doc).

    The difference is maximised over the whole batch and time grid: an elementwise estimate can vanish
    where the error changes sign, the envelope cannot.
    """
    p = ORDER[cfg.method]
    steps = cfg.steps if cfg.method != "dopri5" else 10_000  # an upper bound on adaptive steps for rounding
    return SAFETY * (q_h - q_h2).abs().amax() / (2**p - 1) + SAFETY * 2 * steps * eps(cfg.dtype) * magnitude


class RegimeNotReached(AssertionError):
    """The step-halving sequence never entered the asymptotic regime: no derived tolerance exists for the run
    (a failure of the *test's* resolution, not of the claim; never caught as a counterexample)."""


class Converged(NamedTuple):
    """Result of :func:`converged`: the quantity on the finest run, its tolerance (broadcastable to ``q``: one
    value per case), that run's trajectory and configuration, and the observed per-case ratios."""

    q: torch.Tensor
    tol: torch.Tensor
    traj: Trajectory
    cfg: SimConfig
    ratio: torch.Tensor


def _per_case(x: torch.Tensor, case_dim: int) -> torch.Tensor:
    """``max |x|`` over every axis but ``case_dim`` (kept, others of size 1) — NaN if any entry is NaN."""
    x = x.abs()
    dims = [d for d in range(x.ndim) if d != case_dim % x.ndim]
    out = x.amax(dim=dims, keepdim=True) if dims else x
    return torch.where(torch.isnan(x).any(dim=dims, keepdim=True) if dims else torch.isnan(x),
                       torch.full_like(out, float("nan")), out)


def converged(run: Callable[[SimConfig], Trajectory], cfg: SimConfig,
              measure: Callable[[Trajectory], tuple[torch.Tensor, torch.Tensor | float]], *, case_dim: int = 1,
              max_halvings: int = 3) -> Converged:
    """A derived tolerance that holds whatever the drawn case: Richardson with the asymptotic regime *confirmed*.

    Runs the fixed-step method of order ``p`` with steps ``h, h/2, h/4`` (``h = cfg.dt``) and measures
    ``q`` on each (``measure(traj) -> (q, magnitude)``, same shape for every step, the case axis at ``case_dim``).
    Per case, ``d₁ = max|q_h − q_{h/2}|`` and ``d₂ = max|q_{h/2} − q_{h/4}|`` (max over time and components: an
    elementwise estimate can vanish where the error changes sign, the envelope cannot). The case is in the
    asymptotic regime when ``d₁/d₂ ≥ 2^{p−1}`` (half the ideal ratio ``2^p``, Hairer et al. §II.4), or when ``d₂`` is
    at rounding level; then the later differences shrink at least as fast, so the error of the finest run is at most
    ``d₂ Σ_k 2^{−(p−1)k} = d₂/(2^{p−1} − 1)`` (geometric series). Tolerance per case::

        SAFETY · d₂ / (2^{p−1} − 1)  +  SAFETY · 2 · steps · eps · magnitude      (rounding of ``steps`` updates)

    While a case is not in the regime (or a run blew up: NaN), the step is halved again (the coarsest run dropped),
    at most ``max_halvings`` times; then :class:`RegimeNotReached` is raised. A case that blows up (NaN) at all
    three step sizes diverges for real: it is kept, and its NaN fails the property. A wrong implementation leaves the
    converged ``q`` far from the claim, so the tolerance does not hide it.
    """
    if cfg.method not in ("euler", "rk4"):
        raise InvalidArgument(f"converged() needs a fixed-step method (euler or rk4), got method={cfg.method!r}")
    p = ORDER[cfg.method]
    cfgs = [cfg, replace(cfg, dt=cfg.dt / 2), replace(cfg, dt=cfg.dt / 4)]
    trajs = [run(c) for c in cfgs]
    meas = [measure(t) for t in trajs]
    for k in range(max_halvings + 1):
        (q0, _), (q1, _), (q2, mag) = meas[-3:]
        c = cfgs[-1]
        floor = SAFETY * 2 * c.steps * eps(c.dtype) * _per_case(torch.as_tensor(mag, dtype=q2.dtype, device=q2.device)
                                                                 .expand_as(q2), case_dim)
        d1, d2 = _per_case(q0 - q1, case_dim), _per_case(q1 - q2, case_dim)
        ok = ((d2 <= floor) | (d1 >= 2 ** (p - 1) * d2)) & torch.isfinite(d1) & torch.isfinite(d2)
        # a blow-up at every resolution is resolved (the trajectory diverges): NaN then fails the property
        blown = torch.stack([~torch.isfinite(_per_case(q, case_dim)) for q in (q0, q1, q2)]).all(0)
        ok = ok | blown
        if bool(ok.all()):
            tol = SAFETY * d2 / (2 ** (p - 1) - 1) + floor
            return Converged(q2, tol, trajs[-1], c, d1 / d2.clamp_min(torch.finfo(d2.dtype).tiny))
        if k == max_halvings:
            bad = (~ok).flatten().nonzero().flatten()[:3].tolist()
            raise RegimeNotReached(
                f"RK4/Euler did not reach the asymptotic regime after {max_halvings} extra halvings (dt = {c.dt:g}) for "
                f"cases {bad}: ratio d₁/d₂ = {(d1 / d2).flatten()[bad].tolist()} < 2^(p−1) = {2 ** (p - 1)}; "
                f"start from a smaller SimConfig.dt")
        cfgs.append(replace(c, dt=c.dt / 2))
        trajs.append(run(cfgs[-1]))
        meas.append(measure(trajs[-1]))
    raise AssertionError("unreachable")


def run_property(strategy: st.SearchStrategy, body: Callable[[Any], None], *, max_examples: int) -> None:
    """Run ``body`` on ``max_examples`` draws of ``strategy`` (other settings from the active profile)."""
    @settings(max_examples=max_examples)
    @given(strategy)
    def prop(x):
        body(x)

    prop()
