"""The profile's stop-gradient verdict on lightly's ``NegativeCosineSimilarity`` (lightly 1.6.0), against an
independent simulation (tests/helpers_linear_sim.py: plain torch, no ``ssl_props.profile`` code).

lightly's SimSiam puts the stop-gradient in the model (``z.detach()`` before the loss); the loss itself is
``−cos(x0, x1).mean()``. The profile's ``stop_gradient`` mode applies ``sg`` to the target, its
``no_stop_gradient`` mode differentiates through it: the two verdicts must differ, as the simulation's do.
Runs in the lightly environment (``make conformance``: ``SSL_PROPS_REQUIRE_LIGHTLY=1`` makes a missing lightly an
error); elsewhere it skips.
"""
from __future__ import annotations

import os

import pytest
import torch

if os.environ.get("SSL_PROPS_REQUIRE_LIGHTLY") == "1":  # make conformance: never skip
    import lightly.loss as lightly_loss
else:
    lightly_loss = pytest.importorskip("lightly.loss")

from ssl_props.profile.dynamics import DynamicsConfig, run_dynamics  # noqa: E402
from ssl_props.profile.sg_verdict import stop_gradient_verdict  # noqa: E402
from ssl_props.profile import target_gradient  # noqa: E402
from ssl_props.profile.target_gradient import TARGET_GRAPH  # noqa: E402
from tests.helpers_linear_sim import relative_spectrum, simulate  # noqa: E402

CFG = DynamicsConfig(seeds=4)


def test_lightly_negative_cosine_similarity_stop_gradient_verdict_matches_simulation():
    loss = lightly_loss.NegativeCosineSimilarity()  # dim=1: the feature axis of an (n, d) batch
    res = {m: run_dynamics(loss, CFG, m) for m in ("stop_gradient", "no_stop_gradient")}
    sg, nsg = res["stop_gradient"], res["no_stop_gradient"]
    assert sg.batching == nsg.batching == "vmap"
    assert nsg.target_gradient == TARGET_GRAPH  # no detach inside: the graph reaches the target as it is
    assert sg.spectrum_converged and nsg.spectrum_converged, (sg.status, nsg.status)
    v = stop_gradient_verdict(res)
    assert v.differs and v.ranks["no_stop_gradient"] == 1 and v.ranks["stop_gradient"] >= 2, v.sentence

    def per_seed(p, z):  # lightly's module on each seed's (n, d) batch, averaged over seeds
        return torch.stack([loss(p[i], z[i]) for i in range(p.shape[0])]).mean()
    for mode, r in res.items():  # the simulation's limit, counted with the profile's derived threshold
        w = simulate(per_seed, mode, steps=2000, lr=0.01)[0]
        ranks = (relative_spectrum(w) > r.rank_threshold).sum(-1)
        assert int(ranks.median()) == r.rank, (mode, relative_spectrum(w), r.rank_threshold, r.ranks)


def test_lightly_negative_cosine_detached_inside_needs_the_override(monkeypatch):
    """The same loss with lightly's model-side detach moved inside it: the profile's override still runs the
    no-stop-gradient mode (rank 1). Mutant: without the override, that mode measures the stop-gradient dynamics
    (a higher rank) and the verdict would not tell SimSiam from SimSiam-without-stop-gradient."""
    loss = lightly_loss.NegativeCosineSimilarity()

    def detached_inside(p, z):
        return loss(p, z.detach())
    real = run_dynamics(detached_inside, CFG, "no_stop_gradient")
    assert real.rank == 1 and real.target_gradient != TARGET_GRAPH
    monkeypatch.setattr(target_gradient.KeepTargetGraph, "__torch_function__",
                        lambda self, func, types, args=(), kwargs=None: func(*args, **(kwargs or {})))
    mutant = run_dynamics(detached_inside, CFG, "no_stop_gradient")
    assert mutant.rank > real.rank and mutant.target_gradient.startswith("none")


def test_lightly_vicreg_dynamics_do_not_diverge_and_never_raise():
    """lightly's VICRegLoss (hinge variance term, λ_max ≈ 120 at the start): the step from the measured curvature
    keeps every mode finite; a budget too short for its time scale is reported per mode, not raised."""
    loss = lightly_loss.VICRegLoss()
    cfg = DynamicsConfig(seeds=2, steps=200, max_steps=400)
    for mode in ("stop_gradient", "no_stop_gradient"):
        r = run_dynamics(lambda a, b: loss(a, b), cfg, mode, predictor="identity")
        assert not r.diverged and r.batching == "vmap" and r.status, r.status
        assert all(lr * lam <= 1.9 * (1 + 1e-12) for lr, lam in zip(r.lr, r.curvature)) and max(r.curvature) * cfg.lr > 2
