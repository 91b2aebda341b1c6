"""Data-parallel equivalence on 2 CPU processes (gloo, 127.0.0.1): the registry's losses with
``gather_distributed=True`` and correct distributed code pass; the real distributed bugs fail."""
from __future__ import annotations

import functools

import pytest
import torch

from ssl_props.checker import check_loss
from ssl_props.distributed import compare_data_parallel, gather_with_grad, rank_and_world
from ssl_props.losses import LOSSES
from ssl_props.strategies import make_embeddings

from .distributed_losses import BUGGY_DISTRIBUTED, CORRECT_DISTRIBUTED

REGISTERED = sorted(LOSSES)


@pytest.fixture(scope="module")
def comparisons():
    """One group of 2 spawned processes runs every loss (spawning costs seconds)."""
    fns = [functools.partial(LOSSES[name].fn, gather_distributed=True) for name in REGISTERED]
    fns += list(CORRECT_DISTRIBUTED) + [fn for fn, _ in BUGGY_DISTRIBUTED]
    labels = REGISTERED + [f.__name__ for f in CORRECT_DISTRIBUTED] + [f.__name__ for f, _ in BUGGY_DISTRIBUTED]
    inputs = [(make_embeddings(4, 3, seed=1), make_embeddings(4, 3, seed=2))]
    return {label.split(" on ")[0]: r for label, r in
            ((r.label, r) for r in compare_data_parallel(fns, inputs, world_size=2, labels=labels))}


@pytest.mark.parametrize("name", REGISTERED + [f.__name__ for f in CORRECT_DISTRIBUTED])
def test_gathering_losses_are_equivalent_to_the_full_batch(comparisons, name):
    r = comparisons[name]
    assert r.ok, r.message()


@pytest.mark.parametrize("fn,broken", BUGGY_DISTRIBUTED, ids=[f.__name__ for f, _ in BUGGY_DISTRIBUTED])
def test_distributed_bugs_are_caught(comparisons, fn, broken):
    r = comparisons[fn.__name__]
    assert not r.ok
    assert r.loss_ok == (broken != "loss"), r.message()
    assert not r.grad_ok or broken == "loss"
    assert ("labels not offset" if broken == "loss" else "without backward") in r.message()


def test_outside_a_process_group_gather_is_the_identity():
    z = torch.randn(3, 2, dtype=torch.float64)
    assert gather_with_grad(z) is z and rank_and_world() == (0, 1)
    assert torch.equal(LOSSES["simclr"].fn(z, z.flip(0), gather_distributed=True), LOSSES["simclr"].fn(z, z.flip(0)))


def test_unpicklable_loss_is_reported_by_the_check():
    r = check_loss(lambda z1, z2: LOSSES["simclr"].fn(z1, z2), checks=["check_distributed_equivalence"],
                   distributed=2, identify_loss=False)
    assert not r.passed and "importable by spawned processes" in r.results[0].message
