"""Helpers for the library's own tests."""
from __future__ import annotations

from typing import Any, Callable

from ssl_props.properties import PropertyViolation


def violation_of(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> PropertyViolation:
    """Run a property check that must fail; return its :class:`PropertyViolation` (also from inside an
    ExceptionGroup, which Hypothesis raises when it finds several distinct failures)."""
    try:
        fn(*args, **kwargs)
    except PropertyViolation as e:
        return e
    except BaseExceptionGroup as g:  # noqa: F821  (Python >= 3.11)
        match, _ = g.split(PropertyViolation)
        if match is None:
            raise
        while isinstance(match, BaseExceptionGroup):  # noqa: F821
            match = match.exceptions[0]
        return match
    raise AssertionError(f"{getattr(fn, '__name__', fn)} did not report a violation")
