"""Check functions of the registered results, one module per paper (the records live in
:mod:`ssl_props.results`). A numeric check draws inputs with Hypothesis; a necessity check returns the
counterexample it found. Checks take keyword overrides of the implementation they test."""
from __future__ import annotations

from hypothesis import settings


def budget(fraction: float, floor: int = 10) -> settings:
    """Settings running ``fraction`` of the active profile's ``max_examples`` (for expensive checks:
    a Monte Carlo or an optimisation per example), never fewer than ``floor``."""
    return settings(max_examples=max(floor, int(settings.default.max_examples * fraction)))
