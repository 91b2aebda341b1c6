"""The profile reproduces the registry's Balestriero & LeCun claims on the spectral references (one test per
claim), and each claim's verdict fails on a wrong version (a mutated loss registered under the reference's name).

Tolerances are the profile's own (derived from the stopping gradient, see ssl_props/profile/optimum.py).
"""
from __future__ import annotations

import dataclasses

import torch

from ssl_props.graphs import augmentation_graph, label_graph
from ssl_props.profile import REFERENCES, profile_loss
from ssl_props.profile.optimum import GraphSpec, misaligned_graph
from ssl_props.spectral import simclr_loss, vicreg_spectral_loss


def aug(ns: int, nv: int, k: int) -> GraphSpec:
    return GraphSpec(f"aug {ns}x{nv} K={k}", "augmentation", augmentation_graph(ns, nv), k, torch.arange(ns).repeat(nv), ns, nv)


def aligned(k: int = 3) -> GraphSpec:
    lab = torch.arange(3).repeat_interleave(3)
    return GraphSpec("aligned", "aligned", label_graph(lab), k, lab)


def misaligned(k: int) -> GraphSpec:
    g, lab = misaligned_graph(2, 4)
    return GraphSpec(f"misaligned K={k}", "misaligned", g, k, lab)


def verdicts(prof, theorem: str) -> list:
    out = [v for v in prof.verdicts if v.theorem == theorem and v.assumptions_hold]
    assert out, f"no verdict of {theorem} whose assumptions hold"
    return out


def run(name: str, graphs: list[GraphSpec], **params):
    return profile_loss(name, params=params, graphs=graphs, starts=8, compare=False, progress=False)


def mutated(monkeypatch, name: str, fn) -> None:
    monkeypatch.setitem(REFERENCES, name, dataclasses.replace(REFERENCES[name], fn=fn))


def test_claim3_vicreg_closed_form_and_rank(monkeypatch):
    graphs = [aug(3, 2, 4), aug(2, 3, 3)]
    assert all(v.status == "pass" for v in verdicts(run("vicreg_spectral", graphs), "balestriero2022.claim3"))
    # wrong version: the invariance term counted twice (2γ): the loss and rank no longer match the closed form
    mutated(monkeypatch, "vicreg_spectral", lambda z, g, beta, gamma: vicreg_spectral_loss(z, g, beta=beta, gamma=3 * gamma))
    assert any(v.status == "fail" for v in verdicts(run("vicreg_spectral", graphs), "balestriero2022.claim3"))


def test_claim3_invariance_weight_moves_the_rank_threshold():
    """rank = #{λ_k < β/γ}: on V = 2 (λ ∈ {0, 2}) γ = 0.4 keeps all K = 4 directions, γ = 1 keeps only null(L)
    (rank N' − 1 = 2: the three components apart, positives together; collapse is counted per component, so
    that is no collapse, and rank 1 would be dimensional)."""
    graphs = [aug(3, 2, 4)]
    low, high = run("vicreg_spectral", graphs, gamma=0.4), run("vicreg_spectral", graphs, gamma=1.0)
    assert (low.graphs[0].rank, low.graphs[0].collapse) == (4, "none")
    assert (high.graphs[0].rank, high.graphs[0].collapse, high.graphs[0].full_rank) == (2, "none", 2)
    assert all(v.status == "pass" for p in (low, high) for v in verdicts(p, "balestriero2022.claim3"))


def test_claim7_simclr_simplex(monkeypatch):
    graphs = [aug(3, 2, 4), aug(2, 3, 3)]
    assert all(v.status == "pass" for v in verdicts(run("simclr_graph", graphs), "balestriero2022.claim7"))
    # wrong version: self-similarity left in the softmax (exclude_self=False): a different optimum value
    mutated(monkeypatch, "simclr_graph", lambda z, g, tau: simclr_loss(z, g, tau=tau, exclude_self=False))
    assert any(v.status == "fail" for v in verdicts(run("simclr_graph", graphs), "balestriero2022.claim7"))


def test_claim8_barlow_zero_loss_rank_pinned(monkeypatch):
    graphs = [aug(3, 2, 2), aligned(3)]
    assert all(v.status == "pass" for v in verdicts(run("barlow_twins_graph", graphs), "balestriero2022.claim8"))
    ref = REFERENCES["barlow_twins_graph"].fn
    mutated(monkeypatch, "barlow_twins_graph", lambda z, g, alpha: ref(z, g, alpha=alpha) + 0.1 * z.mean(-2).square().sum())
    assert any(v.status == "fail" for v in verdicts(run("barlow_twins_graph", graphs), "balestriero2022.claim8"))


def test_claim9_aligned_probe(monkeypatch):
    prof = run("vicreg_spectral", [aligned(3)])
    assert [v.status for v in verdicts(prof, "balestriero2022.claim9")] == ["pass"]
    assert prof.graphs[0].probe_recovers
    # wrong version: no invariance term: the optimum is any whitened Z, the labels are not recovered
    mutated(monkeypatch, "vicreg_spectral", lambda z, g, beta, gamma: vicreg_spectral_loss(z, g, beta=beta, gamma=1e-9 * gamma))
    assert [v.status for v in verdicts(run("vicreg_spectral", [aligned(2)]), "balestriero2022.claim9")] == ["fail"]


def test_claim10_misaligned_probe():
    vic = run("vicreg_spectral", [misaligned(7)])  # γ/β = 0.4 < 1/λ_max = 0.5, K = N − 1: labels kept
    sim = run("simclr_graph", [misaligned(7)])
    bt = run("barlow_twins_graph", [misaligned(4)])  # K ≤ #components: confined to null(L)
    for p in (vic, sim, bt):
        assert [v.status for v in verdicts(p, "balestriero2022.claim10")] == ["pass"], p.render()
    assert vic.graphs[0].probe_recovers and not sim.graphs[0].probe_recovers and not bt.graphs[0].probe_recovers


def test_claim11_rotation_invariance_and_barlow_is_not(monkeypatch):
    graphs = [aug(3, 2, 2)]
    assert all(v.status == "pass" for v in verdicts(run("vicreg_spectral", graphs), "balestriero2022.claim11"))
    bt = run("barlow_twins_graph", graphs)
    assert not bt.graphs[0].rotation_invariant
    assert all(v.status == "pass" for v in verdicts(bt, "balestriero2022.claim11"))
    # wrong version: a VICReg that weighs feature 0 more is not invariant: claim 11's verdict fails
    mutated(monkeypatch, "vicreg_spectral", lambda z, g, beta, gamma: vicreg_spectral_loss(z, g, beta=beta, gamma=gamma) + z[..., 0].square().mean())
    assert any(v.status == "fail" for v in verdicts(run("vicreg_spectral", graphs), "balestriero2022.claim11"))
