"""Small building blocks of executable properties: comparisons that fail with evidence, and the
search for counterexamples used by necessity checks.

A failed comparison raises :class:`PropertyViolation` (an ``AssertionError``) whose message reads as a
sentence: what was claimed, the two sides, the tolerance and a summary of the input.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
from hypothesis import HealthCheck, Phase, find, settings, strategies as st
from hypothesis.errors import NoSuchExample

from ssl_props._validation import describe


class PropertyViolation(AssertionError):
    """A checked claim does not hold on an input (the message carries the evidence)."""


def _fmt(x: torch.Tensor | float) -> str:
    return f"{float(x):.10g}"


def assert_close(lhs: torch.Tensor, rhs: torch.Tensor, tol: torch.Tensor | float, *, claim: str,
                 names: tuple[str, str] = ("lhs", "rhs"), inputs: Any = None) -> None:
    """Raise :class:`PropertyViolation` unless ``|lhs − rhs| ≤ tol`` everywhere (batched; the worst case is reported)."""
    lhs, rhs = torch.as_tensor(lhs), torch.as_tensor(rhs)
    tol_t = torch.as_tensor(tol, dtype=lhs.dtype, device=lhs.device)
    err = (lhs - rhs).abs()
    bad = ~(err <= tol_t)  # NaN counts as a violation
    if bool(bad.any()):
        ratio = torch.where(bad, err / tol_t.clamp_min(torch.finfo(lhs.dtype).tiny), torch.zeros_like(err))
        ratio = torch.nan_to_num(ratio, nan=float("inf"))
        i = int(ratio.flatten().argmax())
        pick = lambda t: torch.broadcast_to(t, err.shape).flatten()[i]  # noqa: E731
        where = f" (batch index {i} of {err.numel()})" if err.numel() > 1 else ""
        raise PropertyViolation(
            f"{claim} fails{where}: {names[0]} = {_fmt(pick(lhs))}, {names[1]} = {_fmt(pick(rhs))}, "
            f"|difference| = {_fmt(pick(err))} > tolerance {_fmt(pick(tol_t))}"
            + (f"; input {describe(inputs)}" if inputs is not None else ""))


def assert_leq(lhs: torch.Tensor, rhs: torch.Tensor, tol: torch.Tensor | float, *, claim: str,
               names: tuple[str, str] = ("lhs", "rhs"), inputs: Any = None) -> None:
    """Raise :class:`PropertyViolation` unless ``lhs ≤ rhs + tol`` everywhere (worst case reported)."""
    lhs, rhs = torch.as_tensor(lhs), torch.as_tensor(rhs)
    excess = lhs - rhs - torch.as_tensor(tol, dtype=lhs.dtype, device=lhs.device)
    bad = ~(excess <= 0)
    if bool(bad.any()):
        i = int(torch.nan_to_num(excess, nan=float("inf")).flatten().argmax())
        pick = lambda t: torch.broadcast_to(torch.as_tensor(t, dtype=lhs.dtype, device=lhs.device), excess.shape).flatten()[i]  # noqa: E731
        raise PropertyViolation(
            f"{claim} fails: {names[0]} = {_fmt(pick(lhs))} > {names[1]} = {_fmt(pick(rhs))} "
            f"(beyond tolerance {_fmt(pick(tol))})" + (f"; input {describe(inputs)}" if inputs is not None else ""))


def holds(prop: Callable[..., None], *args: Any, **kwargs: Any) -> bool:
    """``True`` when ``prop(*args, **kwargs)`` raises no :class:`PropertyViolation`."""
    try:
        prop(*args, **kwargs)
    except PropertyViolation:
        return False
    return True


def find_counterexample(strategy: st.SearchStrategy, refutes: Callable[[Any], bool], *, what: str,
                        max_examples: int = 300) -> Any:
    """Search (deterministically, then shrink) for an input on which a claim fails.

    ``refutes(x)`` is ``True`` when the claim fails on ``x``. Returns the shrunk counterexample;
    raises :class:`PropertyViolation` when none is found, i.e. when the assumption a necessity check
    drops turned out not to be needed.
    """
    try:
        # no `explain` phase: it re-runs the search under a tracer (seconds) to annotate a test failure,
        # which a counterexample we *want* to find does not need
        return find(strategy, refutes, settings=settings(max_examples=max_examples, database=None, derandomize=True,
                                                          deadline=None, phases=(Phase.generate, Phase.shrink),
                                                          suppress_health_check=list(HealthCheck)))
    except NoSuchExample:
        raise PropertyViolation(f"no counterexample found for: {what} (after {max_examples} examples)") from None
