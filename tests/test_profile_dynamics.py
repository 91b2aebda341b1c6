"""The profile's linear dynamics (issue 20): scale-free collapse, the stop-gradient verdict, the step size, vmap.

Each stop-gradient verdict is checked against an independent simulation (tests/helpers_linear_sim.py: plain
torch GD on the same linear model, no ``ssl_props.profile`` code): the simulation's ranks are counted with the
profile's own derived threshold, so the test checks that the profile's measurement classifies the independent
limit the same way. Each new measurement has a mutant that the tests catch.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from ssl_props._validation import check_embeddings
from ssl_props.errors import InvalidArgument
from ssl_props.losses import LOSSES
from ssl_props.profile import collapse_measures, gd_training, target_gradient
from ssl_props.profile.collapse_measures import effective_rank
from ssl_props.profile.dynamics import DynamicsConfig, run_dynamics
from ssl_props.profile.sg_verdict import stop_gradient_verdict
from tests.helpers_linear_sim import effective_rank as sim_effective_rank
from tests.helpers_linear_sim import relative_spectrum, simulate

CFG = DynamicsConfig(seeds=4)


def cosine_sg(p, z):
    """SimSiam's term as written in training code: −cos(p, sg(z))."""
    return -F.cosine_similarity(p, z.detach(), dim=-1).mean()


def cosine_no_sg(p, z):
    """The same term without its stop-gradient."""
    return -F.cosine_similarity(p, z, dim=-1).mean()


def l2_inner_detach(p, z):
    """Tian et al.'s L2 term ½ mean‖p − z‖² with the stop-gradient written inside."""
    return 0.5 * (p - z.detach()).pow(2).sum(-1).mean()


def l2_plain(p, z):
    return 0.5 * (p - z).pow(2).sum(-1).mean()


def sim_ranks(w: torch.Tensor, threshold: float) -> list[int]:
    return [int(k) for k in (relative_spectrum(w) > threshold).sum(-1)]


def median_rank(ranks: list[int]) -> int:
    return int(torch.tensor(ranks).median())  # the lower middle value, as the profile's


def run_modes(fn, modes=("stop_gradient", "no_stop_gradient"), cfg=CFG, predictor="learned"):
    return {m: run_dynamics(fn, cfg, m, predictor=predictor) for m in modes}


# ---------------------------------------------------------------- the cosine SimSiam term, with and without sg

@pytest.fixture(scope="module")
def cosine_sim():
    """Independent limits of the cosine term (sphere integrator, 2000 steps of angular step 0.01; halving the step
    over twice the steps gives the same limits to 1e-3: the dying direction of the no-SG run is at 1e-16, those of
    the SG run below 1e-3, the surviving ones above 0.018)."""
    return {m: simulate(cosine_no_sg, m, steps=2000, lr=0.01)[0] for m in ("stop_gradient", "no_stop_gradient")}


@pytest.mark.parametrize("fn", [cosine_sg, cosine_no_sg], ids=["with_detach", "without_detach"])
def test_cosine_term_stop_gradient_verdict_matches_simulation(fn, cosine_sim):
    res = run_modes(fn)
    sg, nsg = res["stop_gradient"], res["no_stop_gradient"]
    assert sg.scale_invariant and nsg.scale_invariant and not sg.collapsed and not nsg.collapsed
    assert sg.spectrum_converged and nsg.spectrum_converged, (sg.status, nsg.status)
    verdict = stop_gradient_verdict(res)
    assert verdict.differs and verdict.ranks["no_stop_gradient"] < verdict.ranks["stop_gradient"], verdict.sentence
    assert verdict.sentence.startswith("without stop-gradient this loss collapses to rank 1 of 4")
    for mode, r in res.items():  # the profile's threshold classifies the independent limit as the profile does
        assert median_rank(sim_ranks(cosine_sim[mode], r.rank_threshold)) == r.rank, (mode, r.ranks, relative_spectrum(cosine_sim[mode]), r.rank_threshold)
    assert float(sim_effective_rank(cosine_sim["no_stop_gradient"]).median()) < 1.5 < float(sim_effective_rank(cosine_sim["stop_gradient"]).median())
    how = nsg.target_gradient
    assert how == (target_gradient.TARGET_DETACH_OVERRIDDEN if fn is cosine_sg else target_gradient.TARGET_GRAPH)


def test_norm_cannot_tell_the_cosine_modes_apart_the_spectrum_can():
    """Mutant: a collapse decision from ‖W‖ (the old measurement) gives the same verdict in both modes."""
    res = run_modes(cosine_sg)
    by_norm = {m: r.collapsed for m, r in res.items()}
    assert by_norm["stop_gradient"] == by_norm["no_stop_gradient"]  # a cosine is scale-invariant: no signal in ‖W‖
    assert res["stop_gradient"].collapse == res["no_stop_gradient"].collapse == "dimensional"
    assert res["stop_gradient"].rank != res["no_stop_gradient"].rank


def test_rank_threshold_mutant_is_caught(monkeypatch, cosine_sim):
    """Mutant: a threshold of 0 (every non-zero singular value counted) keeps the dying directions of the no-SG
    run as rank: its rank then disagrees with the independent limit."""
    real = collapse_measures._relative_spectrum

    def zero_threshold(snaps, steps):
        rel, thr, ok = real(snaps, steps)
        return rel, torch.zeros_like(thr), ok
    monkeypatch.setattr(collapse_measures, "_relative_spectrum", zero_threshold)
    r = run_dynamics(cosine_no_sg, CFG, "no_stop_gradient")
    assert r.rank != median_rank(sim_ranks(cosine_sim["no_stop_gradient"], 1e-3))


def test_effective_rank_matches_the_issue_values():
    """Roy & Vetterli's effective rank of the spectra quoted in issue 20 (an independent simulation's): 4.47, 1.72."""
    with_sg = torch.tensor([1, .86, .62, .32, .28, 0], dtype=torch.float64)
    without = torch.tensor([1, .21, .02, 0, 0, 0], dtype=torch.float64)
    assert abs(float(effective_rank(with_sg)) - 4.47) < 0.01 and abs(float(effective_rank(without)) - 1.72) < 0.01
    squared = effective_rank(with_sg.square())  # mutant: the entropy of σ² (the covariance's) is another number
    assert abs(float(squared) - 4.47) > 0.3


def test_measure_collapse_on_a_known_matrix():
    """W = diag(2, 1, ½, 0) at rest (three equal snapshots), Σ = diag(1, 2, 3, 4): σ/σ₁ = [1, ½, ¼, 0], eigenvalues
    of WΣWᵀ = [4, 2, ¾, 0]/4, rank 3 (the threshold is rounding only), effective rank of [2, 1, ½]/3.5 by hand.
    Mutant: the representation spectrum without Σ (of WWᵀ) is [1, ¼, 1/16, 0]: not what is reported."""
    w = torch.diag(torch.tensor([2.0, 1.0, 0.5, 0.0], dtype=torch.float64))[None]
    sigma = torch.diag(torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64))
    cm = collapse_measures.measure_collapse([w, w, w], sigma, False, 100)
    assert cm.spectrum == pytest.approx([1, 0.5, 0.25, 0], abs=1e-12)
    assert cm.representation_spectrum == pytest.approx([1, 0.5, 0.1875, 0], abs=1e-12)
    assert cm.representation_spectrum != pytest.approx([1, 0.25, 0.0625, 0], abs=1e-3)
    p = torch.tensor([2, 1, 0.5], dtype=torch.float64) / 3.5
    assert cm.effective_rank[0] == pytest.approx(float(torch.exp(-(p * p.log()).sum())), rel=1e-12)
    assert (cm.rank, cm.collapse, cm.spectrum_converged) == (3, "dimensional", True) and cm.rank_threshold < 1e-9
    assert collapse_measures.measure_collapse([w, w, w], sigma, True, 100).collapse == "complete"


# ---------------------------------------------------------------- the L2 term, detach inside or not

@pytest.fixture(scope="module")
def l2_sim():
    """Plain GD (lr 0.05, weight decay 0.1, horizon t = 82.5 as the profile's) on the L2 term."""
    return {m: simulate(l2_plain, m, integrator="plain", lr=0.05, steps=1650) for m in ("stop_gradient", "no_stop_gradient")}


@pytest.mark.parametrize("fn", [l2_inner_detach, l2_plain], ids=["inner_detach", "no_detach"])
def test_l2_term_stop_gradient_verdict_matches_simulation(fn, l2_sim):
    res = run_modes(fn)
    sg, nsg = res["stop_gradient"], res["no_stop_gradient"]
    assert not sg.scale_invariant and not nsg.scale_invariant  # the L2 loss pulls ‖W‖: weight decay stays on
    assert nsg.collapsed and nsg.collapse == "complete" and nsg.rank == 0  # Tian Thm 2: ‖W‖ → 0 without sg
    assert sg.rank == 2 and sg.survivors == [True, True, False, False]  # σ² < 1/(4η) − 1 = 1.5 survive
    w_nsg, w0 = l2_sim["no_stop_gradient"]
    sim_ratio = w_nsg.flatten(1).norm(dim=1) / w0.flatten(1).norm(dim=1)
    assert bool((sim_ratio <= math.exp(-0.1 * 82.5 / 2)).all())  # the simulation collapses too (half Thm 2's rate)
    assert median_rank(sim_ranks(l2_sim["stop_gradient"][0], sg.rank_threshold)) == sg.rank
    v = stop_gradient_verdict(res)
    assert v.differs and v.sentence.startswith("without stop-gradient this loss collapses completely"), v.sentence
    assert "keeps 2 of 4 directions" in v.sentence


def test_detach_override_mutant_is_caught(monkeypatch):
    """Mutant: an override that leaves detach alone: the no-SG mode of the inner-detach L2 term no longer collapses."""
    monkeypatch.setattr(target_gradient.KeepTargetGraph, "__torch_function__",
                        lambda self, func, types, args=(), kwargs=None: func(*args, **(kwargs or {})))
    r = run_dynamics(l2_inner_detach, CFG, "no_stop_gradient")
    assert not r.collapsed and r.target_gradient.startswith("none")


def test_target_blocked_without_detach_is_said_not_run():
    def no_grad_target(p, z):
        with torch.no_grad():
            t = z * 1.0
        return 0.5 * (p - t).pow(2).sum(-1).mean()
    res = run_modes(no_grad_target, cfg=DynamicsConfig(seeds=2, steps=200))
    assert res["no_stop_gradient"].target_gradient.startswith("none: ")
    assert res["no_stop_gradient"].status.startswith("no target gradient")
    v = stop_gradient_verdict(res)
    assert v.differs is None and "cannot be counted" in v.sentence and "no gradient" in v.sentence


# ---------------------------------------------------------------- BYOL: EMA vs no EMA

def test_byol_ema_vs_no_ema_matches_simulation():
    res = run_modes(LOSSES["byol"].fn, modes=("ema", "no_stop_gradient"))
    assert res["ema"].batching == "vmap"  # the registry's validation no longer stops vmap
    v = stop_gradient_verdict(res)
    assert v.differs and v.ranks["no_stop_gradient"] == 1 and v.ranks["ema"] >= 2, v.sentence
    assert "with an EMA target it keeps" in v.sentence

    def byol_formula(p, z):  # 2 − 2 cos, written here
        return (2 - 2 * (p * z).sum(-1) / (p.norm(dim=-1) * z.norm(dim=-1))).mean()
    # 2 − 2cos has twice the cosine term's gradient: half its step gives the same angular step (0.01)
    sim = {m: simulate(byol_formula, m, steps=2000, lr=0.005)[0] for m in ("ema", "no_stop_gradient")}
    for m, r in res.items():
        assert median_rank(sim_ranks(sim[m], r.rank_threshold)) == r.rank, (m, relative_spectrum(sim[m]), r.rank_threshold)


# ---------------------------------------------------------------- step size, divergence

def test_vicreg_step_from_curvature_does_not_diverge():
    cfg = DynamicsConfig(seeds=2, steps=200, max_steps=200)
    r = run_dynamics(LOSSES["vicreg"].fn, cfg, "no_stop_gradient", predictor="identity")
    assert not r.diverged and r.status != "" and not r.status.startswith("diverged")
    assert all(lr * lam <= 1.9 * (1 + 1e-12) for lr, lam in zip(r.lr, r.curvature))
    assert max(r.curvature) * cfg.lr > 2  # the fixed step of before would be unstable (issue: lr·λ ≈ 18.5)


def test_fixed_step_mutant_diverges_and_is_reported(monkeypatch):
    """Mutant: the stability constant raised past 2/λ (lr = cfg.lr whatever the curvature): VICReg's run blows up,
    and is returned as diverged, not raised."""
    monkeypatch.setattr(gd_training, "STABILITY", 1e9)
    monkeypatch.setattr(gd_training, "GROWTH", 1.0)
    cfg = DynamicsConfig(seeds=2, steps=200, max_steps=200, lr=0.5)
    r = run_dynamics(LOSSES["vicreg"].fn, cfg, "no_stop_gradient", predictor="identity")
    assert r.diverged and r.status.startswith("diverged at step") and r.collapse == "undetermined" and r.rank is None
    v = stop_gradient_verdict({"no_stop_gradient": r, "stop_gradient": r})
    assert v.differs is None and "diverged" in v.sentence


# ---------------------------------------------------------------- the verdict's wording

def _fake(rank, erank=2.0, d=4, **kw):
    base = dict(rank=rank, effective_rank=[erank], spectrum=[1.0] * d, diverged=False, target_gradient="graph",
                spectrum_converged=True, status="converged")
    return SimpleNamespace(**{**base, **kw})


def test_verdict_says_when_modes_do_not_differ():
    v = stop_gradient_verdict({"no_stop_gradient": _fake(3), "stop_gradient": _fake(3), "ema": _fake(3)})
    assert v.differs is False and "makes no difference" in v.sentence and "rank 3 of 4" in v.sentence
    v = stop_gradient_verdict({"no_stop_gradient": _fake(0), "stop_gradient": _fake(4), "ema": _fake(2)})
    assert v.sentence.startswith("without stop-gradient this loss collapses completely")
    assert "with stop-gradient it keeps all 4 directions" in v.sentence and "with an EMA target it keeps 2 of 4" in v.sentence
    v = stop_gradient_verdict({"no_stop_gradient": _fake(1), "stop_gradient": _fake(3, spectrum_converged=False, status="not converged")})
    assert v.differs is None and "not counted, not converged" in v.sentence


# ---------------------------------------------------------------- vmap through the registry's validation

@pytest.mark.parametrize("name", sorted(n for n in LOSSES if n in ("byol", "simsiam", "vicreg", "barlow_twins", "simclr", "dcl", "wmse")))
def test_registered_losses_vmap_without_fallback(name):
    fn = LOSSES[name].fn
    gen = torch.Generator().manual_seed(0)
    a, b = (torch.randn(3, 16, 4, generator=gen, dtype=torch.float64) for _ in range(2))
    batched = torch.func.vmap(fn)(a, b)
    looped = torch.stack([fn(a[i], b[i]) for i in range(3)])
    assert torch.allclose(batched, looped, rtol=1e-12, atol=1e-12)


def test_validation_still_rejects_nan_outside_vmap():
    z = torch.zeros(4, 3, dtype=torch.float64)
    z[1, 2] = float("nan")
    with pytest.raises(InvalidArgument, match=r"z contains NaN or inf \(first at index \(1, 2\)\)"):
        check_embeddings(z, "z")
