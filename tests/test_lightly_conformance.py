"""Conformance with lightly (optional): the registry's losses against lightly 1.6.0's, and check_loss on them.

Skipped unless ``lightly`` is importable. To run it, in a separate environment (lightly needs torchvision)::

    python -m venv /tmp/lightly-env && . /tmp/lightly-env/bin/activate
    pip install torch==2.14.1 torchvision==0.29.1 lightly hypothesis numpy scipy sympy pytest matplotlib
    PYTHONPATH=. python -m pytest tests/test_lightly_conformance.py -q
"""
from __future__ import annotations

import pytest

lightly_loss = pytest.importorskip("lightly.loss")

from ssl_props.checker import check_loss  # noqa: E402
from ssl_props.tolerances import value_tolerance
from ssl_props.checker._target import Case, value_and_grads  # noqa: E402
from ssl_props.losses import LOSSES  # noqa: E402


def _as_function(module, name):
    def fn(z1, z2):
        return module(z1, z2)
    fn.__name__ = name
    return fn


def _negative_cosine_with_stop_gradient(p, z):
    """lightly's NegativeCosineSimilarity leaves the stop-gradient to the caller (SimSiam's model detaches z)."""
    return lightly_loss.NegativeCosineSimilarity()(p, z.detach())


CASES = [  # (lightly loss, registered name, registered params)
    (lambda: _as_function(lightly_loss.NTXentLoss(temperature=0.5), "lightly_ntxent"), "simclr", {"temperature": 0.5}),
    (lambda: _as_function(lightly_loss.NTXentLoss(temperature=0.1), "lightly_ntxent_t01"), "simclr", {"temperature": 0.1}),
    (lambda: _as_function(lightly_loss.VICRegLoss(), "lightly_vicreg"), "vicreg", {}),
    (lambda: _as_function(lightly_loss.BarlowTwinsLoss(), "lightly_barlow"), "barlow_twins", {}),
    (lambda: _as_function(lightly_loss.DCLLoss(temperature=0.1), "lightly_dcl"), "dcl", {"temperature": 0.1}),
    (lambda: _negative_cosine_with_stop_gradient, "simsiam", {}),
]


@pytest.mark.parametrize("make,name,params", CASES, ids=[f"{c[1]}{c[2] or ''}" for c in CASES])
def test_registry_equals_lightly(make, name, params):
    fn = make()
    ref = LOSSES[name]
    for case in (Case(3, 10), Case(10, 3, seed=1), Case(8, 4, scale=1e-3, seed=2), Case(6, 6, "low_rank", seed=3)):
        a, b = case.build()
        v, ga, gb = value_and_grads(lambda x, y: ref.fn(x, y, **params), a, b)
        mine = float(fn(a, b))
        assert abs(mine - float(v)) <= value_tolerance(v, a, b, ga, gb), (name, case, mine, float(v))


@pytest.mark.parametrize("make,name,params", CASES, ids=[f"{c[1]}{c[2] or ''}" for c in CASES])
def test_check_loss_on_lightly(make, name, params):
    report = check_loss(make(), like=name, params=params, max_examples=10)
    assert report.passed, report.render()
