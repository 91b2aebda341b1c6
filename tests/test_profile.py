"""``profile_loss`` / ``ssl-props profile``: each verdict can fail, the dynamics part, bad input, output formats."""
from __future__ import annotations

import json
import math

import pytest
import torch

from ssl_props.cli import main
from ssl_props.graphs import augmentation_graph
from ssl_props.profile import ProfileFailure, profile_loss
from ssl_props.profile import verdicts as verdicts_mod
from ssl_props.profile.dynamics import DynamicsConfig
from ssl_props.profile.optimum import GraphSpec
from ssl_props.spectral import covariance, vicreg_spectral_loss

CFG = DynamicsConfig(seeds=4)


def aug(ns: int, nv: int, k: int) -> GraphSpec:
    return GraphSpec(f"aug {ns}x{nv} K={k}", "augmentation", augmentation_graph(ns, nv), k, torch.arange(ns).repeat(nv), ns, nv)


def one_feature_loss(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """Built to collapse dimensionally: feature 0 is whitened, every other feature is pushed to zero variance."""
    c = covariance(z1)
    return (z1 - z2).square().sum(-1).mean() + (c[0, 0] - 1).square() + c.diagonal()[1:].sum()


def l2(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Tian et al.'s linear SimSiam loss J = ½ mean‖p − z‖² (the profile applies the stop-gradient)."""
    return 0.5 * (p - z).square().sum(-1).mean()


def by(prof, theorem: str, where: str | None = None):
    return [v for v in prof.verdicts if v.theorem == theorem and (where is None or v.where == where)]


def test_dimensional_collapse_is_reported():
    prof = profile_loss(one_feature_loss, graphs=[aug(3, 2, 4)], starts=8, dynamics=False, compare=False)
    g = prof.graphs[0]
    assert (g.rank, g.collapse) == (1, "dimensional"), prof.render()
    assert g.batching == "vmap" and g.positives_coincide
    full = profile_loss(lambda z, g_: vicreg_spectral_loss(z, g_, gamma=0.4), form="graph", graphs=[aug(3, 2, 4)],
                        starts=8, dynamics=False, compare=False)
    assert full.graphs[0].collapse == "none"  # the verdict distinguishes the two


def test_user_loss_names_the_reference_it_shares():
    mine = lambda z, g: vicreg_spectral_loss(z, g, beta=1.0, gamma=0.4)  # noqa: E731 - written by a "user"
    prof = profile_loss(mine, form="graph", graphs=[aug(3, 2, 2)], starts=8, dynamics=False,
                        compare=("vicreg_spectral", "barlow_twins_graph"))
    assert prof.shares == ["vicreg_spectral"]
    assert any("rotation_invariant" in d for d in prof.differs["barlow_twins_graph"])
    assert all(v.status == "measured" for v in prof.verdicts)  # a black-box loss: measurements, no pass/fail


def test_barlow_twins_pair_loss_not_rotation_invariant_and_batched():
    prof = profile_loss("barlow_twins", params={"lambda_param": 1.0}, graphs=[aug(3, 2, 2)], starts=4, dynamics=False,
                        compare=False)
    g = prof.graphs[0]
    assert not g.rotation_invariant and g.rotation_change > g.rotation_tolerance
    assert g.batching == "vmap"  # the registry's input validation no longer calls .item() under vmap (issue 20)


def test_a_loss_vmap_refuses_falls_back_to_a_loop_and_says_so():
    def itemised(z1, z2):
        if float(z1.detach().abs().max()) > 1e6:  # a data-dependent Python branch: vmap refuses it
            raise ValueError("too large")
        return (z1 - z2).square().sum(-1).mean() + (covariance(z1) - torch.eye(z1.shape[1], dtype=z1.dtype)).square().sum()

    prof = profile_loss(itemised, graphs=[aug(3, 2, 2)], starts=4, dynamics=False, compare=False)
    assert prof.graphs[0].batching.startswith("loop (vmap refused")
    assert "batched over starts by a loop" in prof.render()


def test_linear_simsiam_collapses_without_stop_gradient_only(monkeypatch):
    prof = profile_loss(l2, graphs=[], dynamics_config=CFG, modes=("stop_gradient", "no_stop_gradient"), compare=False)
    assert not prof.dynamics["stop_gradient"].collapsed and prof.dynamics["no_stop_gradient"].collapsed
    assert prof.dynamics["stop_gradient"].survivors == [True, True, False, False]  # σ² < 1/(4η) − 1 = 1.5
    for th in ("tian2021.thm2", "terver2025.lem4.3", "tian2021.thm3", "tian2021.eq16", "wang2021.thm1", "terver2025.prop3.2"):
        vs = [v for v in by(prof, th) if v.assumptions_hold]
        assert vs and all(v.status == "pass" for v in vs), (th, [v.to_dict() for v in vs])
    assert prof.passed
    # wrong closed forms: p₋ in place of p₊, the threshold 1/(2η) − 1: their verdicts fail
    monkeypatch.setattr(verdicts_mod, "eqn16_fixed_point", lambda s2, eta: (1 - (1 - 4 * eta * (1 + s2)).clamp_min(0).sqrt()) / (2 * (1 + s2)))
    monkeypatch.setattr(verdicts_mod, "wang_threshold", lambda eta: 1 / (2 * eta) - 1)
    bad = verdicts_mod.dynamics_verdicts(prof.dynamics, CFG, True, prof.loop)
    assert {v.theorem for v in bad if v.status == "fail"} == {"tian2021.eq16", "wang2021.thm1"}


def test_registered_simsiam_is_measured_and_its_inner_detach_overridden_without_stop_gradient():
    cfg = DynamicsConfig(seeds=2, steps=300)  # a measurement only
    prof = profile_loss("simsiam", graphs=[], dynamics_config=cfg, modes=("stop_gradient", "no_stop_gradient"),
                        compare=False)
    assert not prof.dynamics["stop_gradient"].collapsed
    assert "detaches it inside" in prof.dynamics["no_stop_gradient"].target_gradient  # the mode really ran without SG
    assert all(v.status == "measured" for v in prof.verdicts)  # cosine loss: Tian/Wang's assumptions do not hold


def test_bad_input_one_line(capsys, tmp_path):
    def nan_loss(z1, z2):  # infinite on every input: the calling-convention step says so, once
        return (z1 - z2).square().sum() / (z1.sum() - z1.sum())
    with pytest.raises(ProfileFailure, match=r"step 'calling convention' for nan_loss: .*inf on finite inputs"):
        profile_loss(nan_loss, graphs=[aug(3, 2, 2)], dynamics=False, compare=False)

    def log_gap(z1, z2):  # finite at random inputs (gap ≫ 1/2), NaN once the optimiser brings the positives closer
        return torch.log((z1 - z2).square().sum() - 0.5)
    with pytest.raises(ProfileFailure, match=r"step 'optimise' on graph aug 3x2 K=2: the loss became"):
        profile_loss(log_gap, graphs=[aug(3, 2, 2)], dynamics=False, compare=False)
    with pytest.raises(ProfileFailure, match=r"dynamics \(stop_gradient\)"):
        profile_loss(lambda p, z: p.sum() * float("nan"), graphs=[], dynamics_config=CFG, modes=("stop_gradient",), compare=False)
    f = tmp_path / "l.py"
    f.write_text("def three(a, b, c):\n    return a.sum()\n")
    assert main(["profile", f"{f}:three", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing 1 required positional argument" in err[0] and "Traceback" not in err[0]
    assert main(["profile", "no_such_loss_name", "--quiet"]) == 2


def test_an_overflow_while_falling_without_bound_is_an_infimum_not_attained():
    def quartic(z1, z2):  # −(‖Z‖²)² has no minimum; 0·(‖Z‖²)³ turns its overflow into NaN before −inf is reached
        s = (z1.square() + z2.square()).sum()
        return (z1 - z2).square().sum() - s ** 2 + 0 * s ** 3
    opt = profile_loss(quartic, graphs=[aug(3, 2, 2)], dynamics=False, compare=False).graphs[0]
    assert opt.status == "infimum not attained" and "after falling without bound" in opt.certificate, opt.certificate
    assert opt.loss == -math.inf and opt.rotation_invariant is None  # nothing measured at a point that does not exist

    def bounded_then_nan(z1, z2):  # the mutant: bounded below (≥ 0), NaN on the way: a failure, not "no minimum"
        s = (z1 - z2).square().sum()
        return s + torch.log(s - 1e-3) * 0
    with pytest.raises(ProfileFailure, match="guard divisions and logs"):
        profile_loss(bounded_then_nan, graphs=[aug(3, 2, 2)], dynamics=False, compare=False)


def test_a_loss_drawing_at_random_is_profiled_with_a_fixed_seed():
    def noisy(z1, z2):  # a random slice of the dimensions each call (as SIGReg's directions)
        w = torch.randn(z1.shape[1], dtype=z1.dtype, device=z1.device)
        return ((z1 - z2) * w).square().sum() - 0.1 * (z1 * w).square().sum().clamp_max(10.0)
    with pytest.raises(ProfileFailure, match="draws at random.*--fixed-seed"):
        profile_loss(noisy, graphs=[aug(3, 2, 2)], dynamics=False, compare=False)
    opt = profile_loss(noisy, graphs=[aug(3, 2, 2)], dynamics=False, compare=False, fixed_seed=0).graphs[0]
    assert opt.status in ("optimum", "not converged", "infimum not attained") and math.isfinite(opt.loss)


class RunningMean(torch.nn.Module):
    """A loss with a buffer its calls update (TiCo's running covariance): vmapped as is, the buffer escapes."""

    def __init__(self):
        super().__init__()
        self.register_buffer("m", torch.zeros(()))

    def forward(self, z1, z2):
        self.m = 0.5 * self.m + 0.5 * z1.detach().square().mean()
        return (z1 - z2).square().sum() / (1 + self.m) + ((z1 - z1.mean(0)).square().sum() - 1).square()


def test_a_stateful_loss_is_profiled_as_constructed_on_a_fresh_copy():
    loss = RunningMean()
    prof = profile_loss(loss, graphs=[aug(3, 2, 2)], dynamics=False, compare=False)
    assert prof.graphs[0].status == "optimum" and float(loss.m) == 0.0  # the user's object is never updated


def test_cli_json_schema_and_exit_codes(capsys, monkeypatch, tmp_path):
    assert main(["profile", "simclr_graph", "--no-compare", "--quiet", "--format", "json", "--figures", str(tmp_path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "ssl-props/profile/v2" and doc["passed"] is True
    assert {"graphs", "dynamics", "verdicts", "shares_profile_with", "differs_from"} <= set(doc["theory"])
    assert {"theorem", "what", "where", "assumptions_hold", "assumptions", "status", "measured", "predicted",
            "tolerance"} == set(doc["theory"]["verdicts"][0])
    assert (tmp_path / "singular_values.png").stat().st_size > 0
    import dataclasses
    from ssl_props.profile import REFERENCES
    monkeypatch.setitem(REFERENCES, "simclr_graph", dataclasses.replace(REFERENCES["simclr_graph"], params={"tau": 0.5},
                                                                         fn=lambda z, g, tau: vicreg_spectral_loss(z, g)))
    assert main(["profile", "simclr_graph", "--no-compare", "--quiet"]) == 1  # a failed theory check
    assert "FAILED" in capsys.readouterr().out


def test_check_loss_theory_hook():
    from ssl_props.checker import check_loss

    def invariance_only(z1, z2):  # collapses completely: nothing keeps the embeddings apart
        return 0.5 * (z1 - z2).square().sum(-1).mean()

    rep = check_loss(invariance_only, checks=["check_finite"], identify_loss=False, theory=True)
    theory = [r for r in rep.results if r.check.startswith("theory:")]
    assert theory and {r.status for r in theory} <= {"skipped", "passed"}, [(r.check, r.status, r.message) for r in theory]
    assert any("balestriero2022.claim11" in r.check for r in theory)
    assert any("collapse" in r.message and "True" in r.message for r in theory if "no_stop_gradient" in r.check)


def test_the_headline_tells_a_detaching_loss_from_the_same_loss_without_its_detach():
    """Issue 20: SimSiam's cosine term and the same term without .detach() got the same verdicts. The profile runs
    all three target modes for either; the headline says which mode each is in when trained as written."""
    import torch.nn.functional as F

    cfg = DynamicsConfig(seeds=2)

    def with_sg(p, z):
        return -F.cosine_similarity(p, z.detach(), dim=-1).mean()

    def without_sg(p, z):
        return -F.cosine_similarity(p, z, dim=-1).mean()

    heads = {}
    for fn in (with_sg, without_sg):
        prof = profile_loss(fn, graphs=[], dynamics_config=cfg, compare=False)
        heads[fn.__name__] = prof.render().splitlines()[1:4]
        assert prof.sg.differs, prof.sg.sentence  # without stop-gradient it collapses further than with it
        assert prof.sg.ranks["no_stop_gradient"] < prof.sg.ranks["stop_gradient"]
    assert any("as written, the loss detaches its target: trained as is it is in the stop-gradient mode" in h
               for h in heads["with_sg"]), heads
    assert any("as written, the loss does not detach its target" in h and "collapses to one direction" in h
               for h in heads["without_sg"]), heads


def test_l2_term_with_an_inner_detach_is_checked_not_failed():
    """Issue 20: ½ mean‖p − sg(z)‖² was FAILED on Tian Thm 2 / Terver Lemma 4.3 / Prop 3.2 because the no-stop-gradient
    mode could not remove the inner detach. Now that mode differentiates through it, and the theorems pass; a loss whose
    target cannot be reached (torch.no_grad inside) gets those verdicts as measurements, never a fail."""
    def l2_detached(p, z):
        return 0.5 * (p - z.detach()).square().sum(-1).mean()

    def l2_no_grad_target(p, z):
        with torch.no_grad():
            t = z * 1.0
        return 0.5 * (p - t).square().sum(-1).mean()

    prof = profile_loss(l2_detached, graphs=[], dynamics_config=CFG, compare=False)
    thm2 = by(prof, "tian2021.thm2", "no_stop_gradient") + by(prof, "terver2025.lem4.3")
    assert prof.passed and thm2 and all(v.status == "pass" for v in thm2 if v.assumptions_hold), prof.render()
    assert any(v.status == "pass" for v in thm2)
    blocked = profile_loss(l2_no_grad_target, graphs=[], dynamics_config=CFG, compare=False)
    assert blocked.passed, blocked.render()
    assert all(v.status == "measured" for v in by(blocked, "tian2021.thm2", "no_stop_gradient") + by(blocked, "terver2025.lem4.3"))


def test_reference_signatures_are_cached_on_disk_and_equal_fresh_ones(tmp_path, monkeypatch):
    from ssl_props.profile import reference_cache

    monkeypatch.setenv("SSL_PROPS_CACHE", str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return profile_loss("simclr_graph", graphs=[aug(3, 2, 2)], starts=4, dynamics=False, compare=False).signature()

    first = reference_cache.cached_signature("simclr_graph", "t", 4, "cpu", compute)
    again = reference_cache.cached_signature("simclr_graph", "t", 4, "cpu", compute)
    assert calls == [1] and again == first and list(tmp_path.glob("reference-simclr_graph-*.json"))
    other = reference_cache.cached_signature("simclr_graph", "t", 5, "cpu", compute)  # another key: recomputed
    assert calls == [1, 1] and other == first
    for f in tmp_path.glob("*.json"):
        f.write_text("{not json")
    assert reference_cache.cached_signature("simclr_graph", "t", 4, "cpu", compute) == first and len(calls) == 3
    monkeypatch.setenv("SSL_PROPS_CACHE", "off")
    assert reference_cache.cache_dir() is None


def test_a_graph_where_the_loss_is_undefined_is_reported_and_the_profile_goes_on():
    """The registered TCR's log det by Cholesky fails at points of the N'=3, K=4 graph (K above the batch of 3):
    that graph reads 'not evaluable' with the reason, the others are profiled (no exit 2 for a loss that is fine
    elsewhere)."""
    prof = profile_loss("tcr", graphs=[aug(3, 2, 4), aug(4, 2, 2)], dynamics=False, compare=False)
    first, second = prof.graphs
    assert first.status == "not evaluable" and "LinAlgError" in first.certificate and first.rank is None
    assert second.status != "not evaluable"
    assert "not evaluable on aug 3x2 K=4" in prof.render()
