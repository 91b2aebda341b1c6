"""``gather_distributed`` in one process: each registered loss gathers both views when, and only when, asked.

The spawned two-process run (``test_distributed.py``) checks the gradients through the real collectives, but its
losses run in child processes, where no per-test record of which functions ran is kept (mutation testing then
never reruns it for a loss's mutant, issue 15). Here ``ssl_props.distributed.gather_with_grad`` is replaced by a
stand-in that returns the batch of a simulated world of 2 in rank order, so that, in this process:

* with ``gather_distributed=True`` the mean of the two ranks' losses is the full-batch loss (each rank computes
  on the gathered batch), within :func:`ssl_props.tolerances.value_tolerance`;
* with the default (``False``) the stand-in is never called.
"""
from __future__ import annotations

import inspect

import pytest
import torch

from ssl_props import distributed
from ssl_props.losses import LOSSES
from ssl_props.strategies import make_embeddings
from ssl_props.tolerances import value_tolerance

GATHERING = sorted(n for n, info in LOSSES.items() if "gather_distributed" in inspect.signature(info.fn).parameters)
WORLD = 2


class _World:
    """``gather_with_grad`` of a simulated world: the local slice of a view is replaced by the whole view."""

    def __init__(self, views: tuple[torch.Tensor, torch.Tensor]):
        self.views, self.calls, self.rank = views, 0, 0

    def gather(self, x):
        self.calls += 1
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"gather_with_grad got {type(x).__name__}, not a tensor")
        m = x.shape[0]
        for full in self.views:
            if torch.equal(full[self.rank * m:(self.rank + 1) * m], x):
                return full
        raise AssertionError("gather_with_grad got a tensor that is not this rank's slice of a view")


def _params(name: str) -> dict:
    """The first value of each parameter in the loss's grid (the checker's parameters)."""
    return {k: v[0] for k, v in (LOSSES[name].param_grid or {}).items()}


@pytest.mark.parametrize("name", GATHERING)
def test_gathering_gives_the_full_batch_loss(monkeypatch, name):
    fn, kw = LOSSES[name].fn, _params(name)
    z1, z2 = make_embeddings(8, 3, seed=1), make_embeddings(8, 3, seed=2)
    world = _World((z1, z2))
    monkeypatch.setattr(distributed, "gather_with_grad", world.gather)
    m = z1.shape[0] // WORLD
    per_rank = []
    for rank in range(WORLD):
        world.rank = rank
        per_rank.append(fn(z1[rank * m:(rank + 1) * m], z2[rank * m:(rank + 1) * m], gather_distributed=True, **kw))
    assert world.calls == 2 * WORLD, f"{name}: gather_with_grad called {world.calls} times for {WORLD} ranks × 2 views"
    a, b = z1.clone().requires_grad_(True), z2.clone().requires_grad_(True)
    full = fn(a, b, **kw)
    ga, gb = torch.autograd.grad(full, (a, b), allow_unused=True)  # first-order sensitivity of the loss's rounding
    mean = sum(float(v) for v in per_rank) / WORLD
    tol = value_tolerance(full.detach(), z1, z2, ga, gb)
    full = float(full.detach())
    assert abs(mean - full) <= tol, f"{name}: mean of the ranks' losses {mean!r} ≠ full batch {full!r}"


@pytest.mark.parametrize("name", GATHERING)
def test_the_default_does_not_gather(monkeypatch, name):
    world = _World((make_embeddings(8, 3, seed=1), make_embeddings(8, 3, seed=2)))
    monkeypatch.setattr(distributed, "gather_with_grad", world.gather)
    LOSSES[name].fn(world.views[0][:4], world.views[1][:4], **_params(name))
    assert world.calls == 0, f"{name}: gathered {world.calls} times with gather_distributed left at its default"
