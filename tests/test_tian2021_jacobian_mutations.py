"""tian2021.thm2's Jacobian check fails on a wrong packing of the state (issue 15: ``pack``/``unpack``/``flat_field``
were called by no theorem)."""
from __future__ import annotations

import pytest
from hypothesis import Phase

from ssl_props.dynamics import fields
from ssl_props.papers.tian2021 import conservation_and_collapse as C
from ssl_props.profiles import temporary_profile

from .helpers import violation_of


@pytest.fixture(autouse=True)
def _derandomised():
    with temporary_profile("_tian_jacobian", derandomize=True, database=None, deadline=None,
                           phases=(Phase.explicit, Phase.reuse, Phase.generate)):
        yield


def test_jacobian_catches_a_transposed_unpack(monkeypatch):
    """Slip: the W block read back column-major (``reshape(n1, n2).mT``) while ``pack`` writes it row-major."""
    def unpack(z, n1, n2):
        s = fields.unpack(z, n1, n2)
        k = n1 * n2
        return s._replace(W=z[..., :k].reshape(*z.shape[:-1], n1, n2).mT)

    def flat_field(z, X, Xp, **kw):
        n1 = X.shape[-1]
        n2 = int(round((-2 * n1 + ((2 * n1) ** 2 + 4 * z.shape[-1]) ** 0.5) / 2))
        return fields.pack(fields.byol_field(unpack(z, n1, n2), X, Xp, **kw))
    monkeypatch.setattr(C, "flat_field", flat_field)
    assert "autograd through the packed field" in str(violation_of(C.numeric_theorem2))
