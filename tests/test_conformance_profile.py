"""Issue 20 in the lightly environment (``make conformance``): lightly 1.6.0's losses profiled without a wrapper.

* ``ssl-props profile lightly.loss:NTXentLoss --init temperature=0.5`` runs (no wrapper file);
* NT-Xent, DCL and Barlow Twins: the profile's minimal loss and rank set on the augmentation graphs equal an
  independent SciPy L-BFGS-B's on the natural batch (tests/independent_optimum.py; lightly receives
  view-1 rows and view-2 rows, as in training);
* the full VICReg profile (graphs and dynamics) exits 0 or 1, never 2.
"""
from __future__ import annotations

import os

import pytest
import torch

if os.environ.get("SSL_PROPS_REQUIRE_LIGHTLY") != "1":
    lightly_loss = pytest.importorskip("lightly.loss", reason="lightly is installed by `make conformance`")
else:
    import lightly.loss as lightly_loss

from ssl_props.cli import main
from ssl_props.graphs import augmentation_graph
from ssl_props.profile import profile_loss
from ssl_props.profile.compare import count_per_component, signature_of
from ssl_props.profile.optimum import GraphSpec, optimise_on_graph
from tests.independent_optimum import minimise, natural_loss


def spec(ns: int, nv: int, k: int) -> GraphSpec:
    return GraphSpec(f"aug {ns}x{nv} K={k}", "augmentation", augmentation_graph(ns, nv), k, torch.arange(ns).repeat(nv), ns, nv)


def test_profile_takes_a_lightly_class_with_init_and_no_wrapper(capsys):
    rc = main(["profile", "lightly.loss:NTXentLoss", "--init", "temperature=0.5", "--no-dynamics", "--no-compare", "--quiet"])
    out = capsys.readouterr()
    assert rc in (0, 1), out.err
    assert "NTXentLoss" in out.out and "augmentation N'=4 V=2 K=2" in out.out


def test_param_for_a_constructor_argument_is_one_line_pointing_to_init(capsys):
    assert main(["profile", "lightly.loss:NTXentLoss", "--param", "temperature=0.5", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--init temperature=0.5" in err[0]


@pytest.mark.parametrize("cls,kw,normalises", [("NTXentLoss", {"temperature": 0.5}, True), ("DCLLoss", {}, True),
                                               ("BarlowTwinsLoss", {}, False)])
@pytest.mark.parametrize("ns,nv,k", [(3, 2, 4), (4, 2, 2)])
def test_lightly_minimum_and_rank_set_match_an_independent_optimiser(cls, kw, normalises, ns, nv, k):
    fn = getattr(lightly_loss, cls)(**kw).double()
    s = spec(ns, nv, k)
    opt = optimise_on_graph(fn, s, starts=16)
    count_per_component(opt, s)
    if opt.status != "optimum":  # Barlow Twins at K ≤ #components − 1: no minimiser; the other side must agree
        assert opt.status == "infimum not attained", opt.certificate
        ind = minimise(natural_loss(fn, ns, nv), ns * nv, k, normalises=normalises, starts=4)
        assert ind.loss <= opt.loss + ind.loss_bound
        return
    ind = minimise(natural_loss(fn, ns, nv), ns * nv, k, normalises=normalises)
    # each side's certified f − f⋆ bound (see tests/test_profile_natural_batch.py)
    assert abs(opt.loss - ind.loss) <= opt.loss_tolerance + ind.loss_bound, (opt.loss, ind.loss)
    ranks = signature_of(opt)["rank_set"]
    # a continuum of minimisers (flat directions off the symmetries) may show other ranks from other starts:
    # then the other side's ranks must be among the profile's; otherwise the two sets are equal
    assert (set(ind.ranks) <= set(ranks)) if opt.continuum else ranks == ind.ranks, (signature_of(opt), opt.certificate, ind)


def test_full_vicreg_profile_keeps_its_graph_part_and_never_exits_2(capsys):
    rc = main(["profile", "lightly.loss:VICRegLoss", "--no-compare", "--quiet"])
    out = capsys.readouterr()
    assert rc in (0, 1), out.err
    assert "theory: linear dynamics" in out.out and "theory: optimum on relation graphs" in out.out


def test_lightly_hinge_vicreg_matches_the_epigraph_reformulation_on_the_natural_batch():
    """lightly's VICRegLoss() (hinge relu(1 − std)) on N' = 3, V = 2, K = 4: the profile's certified minimum and rank
    equal SLSQP's on the smooth epigraph reformulation of the same loss (tests/test_profile_optimum.py, numpy only;
    issue 20: f* = 2(1 − 1e-4)² = 1.99960002, rank 2, positives coincide)."""
    from tests.test_profile_optimum import slsqp_epigraph, vicreg_hinge

    fn = lightly_loss.VICRegLoss().double()
    g = torch.Generator().manual_seed(0)
    a, b = (torch.randn(6, 4, generator=g, dtype=torch.float64) for _ in range(2))
    assert abs(float(fn(a, b)) - float(vicreg_hinge(a, b))) <= 1e-12 * abs(float(fn(a, b)))  # the same function
    opt = optimise_on_graph(fn, spec(3, 2, 4), starts=8)
    f_ref, z_ref = slsqp_epigraph(3, 4)
    assert opt.status == "optimum", opt.certificate
    # SLSQP's ftol = 1e-14 is its precision goal on f (|f| ≈ 2), SAFETY 8; the profile's certified loss tolerance
    assert abs(opt.loss - f_ref) <= opt.loss_tolerance + 8e-14 * abs(f_ref), (opt.loss, f_ref)
    import numpy as np
    sv = np.linalg.svd(z_ref - z_ref.mean(0), compute_uv=False)
    assert opt.rank == int((sv > 8 * 1e-7 * np.linalg.norm(z_ref)).sum()) == 2 and opt.positives_coincide
