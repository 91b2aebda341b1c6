"""Hypothesis settings profiles of the suite (one place, used by pytest and by the report).

* ``ci``: derandomised (a fixed seed per test, so CI never flakes), 100 examples, no deadline;
* ``dev``: random, 50 examples, for quick local runs;
* ``thorough``: random, 1000 examples, for a deep check (``--hypothesis-profile=thorough``).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from hypothesis import HealthCheck, settings

PROFILES = {
    "ci": dict(max_examples=100, derandomize=True, deadline=None, print_blob=True),
    "dev": dict(max_examples=50, deadline=None, print_blob=True),
    "thorough": dict(max_examples=1000, deadline=None, print_blob=True),
}
_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


def register_profiles() -> None:
    """Register the suite's profiles with Hypothesis (idempotent).

    ``report_multiple_bugs=False``: a property that fails reports one (shrunk) counterexample as its own
    exception, never an ExceptionGroup of several, so callers (tests, the report) see one PropertyViolation.
    """
    for name, kw in PROFILES.items():
        settings.register_profile(name, suppress_health_check=_SUPPRESS, report_multiple_bugs=False, **kw)


def budget(fraction: float, floor: int = 10) -> settings:
    """Settings running ``fraction`` of the active profile's ``max_examples`` (for expensive checks:
    a Monte Carlo or an optimisation per example), never fewer than ``floor``."""
    return settings(max_examples=max(floor, int(settings.default.max_examples * fraction)))


def load_profile(name: str) -> None:
    register_profiles()
    if name not in PROFILES:
        raise ValueError(f"unknown Hypothesis profile {name!r}; use one of {sorted(PROFILES)}")
    settings.load_profile(name)


@contextmanager
def temporary_profile(name: str, parent: str | None = None, **overrides: Any) -> Iterator[None]:
    """Load profile ``name``: ``parent`` (default: the active profile) with ``overrides``; the previously
    active profile comes back on exit (used by the report and by the tests of failing properties)."""
    register_profiles()
    previous = settings.get_current_profile_name()
    base = settings.get_profile(parent) if parent is not None else settings.default
    settings.register_profile(name, parent=base, **overrides)
    settings.load_profile(name)
    try:
        yield
    finally:
        settings.load_profile(previous)
