"""Helpers shared by the dynamics checks (Tian et al. 2021, Wang et al. 2021): derived tolerances for
integrated trajectories, and a runner for Hypothesis properties with an explicit example budget.

Tolerance of an integrated quantity (Richardson, Hairer et al. Solving ODEs I §II.4): a method of order
``p`` run with steps ``h`` and ``h/2`` gives ``q_h − q_{h/2} ≈ (2^p − 1) · err(q_{h/2})``, so
``|err(q_{h/2})| ≤ SAFETY · |q_h − q_{h/2}| / (2^p − 1)`` plus the rounding of ``steps`` updates of
magnitude ``M`` (``steps · eps · M``). A wrong implementation leaves ``q_h ≈ q_{h/2}`` far from the
claim, so the tolerance does not hide it.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import torch
from hypothesis import given, settings, strategies as st

from ssl_props.tolerances import SAFETY, eps
from ssl_props.dynamics.simulate import SimConfig, Trajectory

__all__ = ["richardson_tol", "twice", "run_property", "ORDER"]

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


def run_property(strategy: st.SearchStrategy, body: Callable[[Any], None], *, max_examples: int) -> None:
    """Run ``body`` on ``max_examples`` draws of ``strategy`` (other settings from the active profile)."""
    @settings(max_examples=max_examples)
    @given(strategy)
    def prop(x):
        body(x)

    prop()
