"""wang2021.thm1's zeros of the per-mode field fail on a wrong per-mode field (issue 15: the library's
``directset_mode_field`` was called by no theorem, so every mutant of it survived ``pytest theorems/``)."""
from __future__ import annotations

import pytest
from hypothesis import Phase

from ssl_props.dynamics.fields import directset_mode_field
from ssl_props.papers.wang2021 import thresholds as T
from ssl_props.profiles import temporary_profile

from .helpers import violation_of


@pytest.fixture(autouse=True)
def _derandomised():
    with temporary_profile("_wang_thresholds", derandomize=True, database=None, deadline=None,
                           phases=(Phase.explicit, Phase.reuse, Phase.generate)):
        yield


@pytest.mark.parametrize("slip", [
    dict(alpha=1.5),  # the default exponent of DirectPred (½) changed
    dict(tau=2.0),  # the default τ = 1 of X = I changed
    dict(eps=0.1),  # the default ε = 0 changed
])
def test_zeros_catch_a_wrong_default(slip):
    def field(s, **kw):  # the check's own arguments win: only the defaults it leaves out are slipped
        return directset_mode_field(s, **{**slip, **kw})
    assert "per-mode field vanishes" in str(violation_of(T.numeric_mode_field_zeros, mode_field=field))


def test_zeros_catch_c_without_the_one():
    """Slip: c = σ² instead of 1 + σ²."""
    def field(s, sigma2, **kw):
        return directset_mode_field(s, sigma2=sigma2 - 1.0, **kw)
    assert "per-mode field vanishes" in str(violation_of(T.numeric_mode_field_zeros, mode_field=field))
