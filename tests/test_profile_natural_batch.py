"""Issue 20, item 4: the profile feeds a two-view loss the batch it is trained on, and its minimal loss and rank
set on the augmentation graphs agree with an independent optimiser on that batch (tests/independent_optimum.py:
SciPy L-BFGS-B, its own starts, its own Hessian certificate)."""
from __future__ import annotations

import functools

import pytest
import torch

from ssl_props.graphs import augmentation_graph
from ssl_props.losses import LOSSES
from ssl_props.profile.compare import count_per_component, signature_of
from ssl_props.profile.feeding import feeding_for, natural_views
from ssl_props.profile.optimum import GraphSpec, optimise_on_graph
from tests.independent_optimum import minimise, natural_loss

GRAPHS = [(3, 2, 4), (4, 2, 2), (2, 3, 3)]  # (N', V, K): K above, at and above N' − 1, two and three views
LOSSES_UNDER_TEST = {"simclr": {"temperature": 0.5}, "dcl": {"temperature": 0.1}}


def spec(ns: int, nv: int, k: int) -> GraphSpec:
    return GraphSpec(f"aug {ns}x{nv} K={k}", "augmentation", augmentation_graph(ns, nv), k, torch.arange(ns).repeat(nv), ns, nv)


@pytest.mark.parametrize("name", sorted(LOSSES_UNDER_TEST))
@pytest.mark.parametrize("ns,nv,k", GRAPHS)
def test_minimal_loss_and_rank_set_match_an_independent_optimiser(name, ns, nv, k):
    fn = functools.partial(LOSSES[name].fn, **LOSSES_UNDER_TEST[name])
    s = spec(ns, nv, k)
    opt = optimise_on_graph(fn, s, starts=16)
    count_per_component(opt, s)
    ind = minimise(natural_loss(fn, ns, nv), ns * nv, k, normalises=True)
    # both sides are certified minima of the same function: |f_a − f_b| ≤ (f_a − f⋆) + (f_b − f⋆), each bounded
    # by its own certificate (the profile's loss_tolerance: SAFETY‖∇f‖²/(2μ) + rounding; SciPy's ‖∇f‖²/(2μ) + 64ε|f|)
    assert abs(opt.loss - ind.loss) <= opt.loss_tolerance + ind.loss_bound, (opt.loss, ind.loss)
    ranks = signature_of(opt)["rank_set"]
    # a continuum of minimisers (flat directions off the symmetries) may show other ranks from other starts:
    # then the other side's ranks must be among the profile's; otherwise the two sets are equal
    assert (set(ind.ranks) <= set(ranks)) if opt.continuum else ranks == ind.ranks, (signature_of(opt), opt.certificate, ind)


def test_the_paper_feeding_gives_another_value_than_the_natural_batch():
    """The check above can fail: NT-Xent fed every ordered positive pair (each image twice per argument, its own
    negative) has another minimum on N' = 4, K = 2 (issue 20: 1.42454 vs 0.456141 on the natural batch)."""
    fn = functools.partial(LOSSES["simclr"].fn, temperature=0.5)
    s = spec(4, 2, 2)
    pairs = optimise_on_graph(fn, s, starts=8, feeding=feeding_for(s.g, natural=False))
    ind = minimise(natural_loss(fn, 4, 2), 8, 2, normalises=True, starts=6)
    assert abs(pairs.loss - ind.loss) > pairs.loss_tolerance + ind.loss_bound


@pytest.mark.parametrize("ns,nv", [(3, 2), (2, 3), (4, 5)])
def test_natural_views_of_an_augmentation_graph_are_its_view_blocks(ns, nv):
    views = natural_views(augmentation_graph(ns, nv))
    assert views is not None and [v.tolist() for v in views] == [list(range(j * ns, (j + 1) * ns)) for j in range(nv)]


def test_a_graph_that_is_not_a_union_of_equal_cliques_keeps_every_positive_pair():
    g = augmentation_graph(3, 2)
    g[0, 1] = g[1, 0] = 1.0  # one extra edge: the components are no longer cliques of one size
    assert natural_views(g) is None and feeding_for(g).kind == "pairs"


def test_registered_hinge_vicreg_matches_the_epigraph_reformulation():
    from tests.test_profile_optimum import slsqp_epigraph

    opt = optimise_on_graph(LOSSES["vicreg"].fn, spec(3, 2, 4), starts=8)
    f_ref, _ = slsqp_epigraph(3, 4)  # lightly's conventions = the registered vicreg's (tests/test_lightly_conformance.py)
    assert opt.status == "optimum" and abs(opt.loss - f_ref) <= opt.loss_tolerance + 8e-14 * abs(f_ref), opt.certificate
    assert opt.rank == 2 and opt.positives_coincide


@pytest.mark.parametrize("ns,nv,k", [(3, 2, 1), (4, 2, 2)])
def test_registered_barlow_twins_below_the_components_has_no_minimiser(ns, nv, k):
    """K ≤ #components − 1: the loss keeps falling as Z is scaled (issue 20: 8.9e-13 → 1.1e-15 from ×1 to ×100)."""
    opt = optimise_on_graph(LOSSES["barlow_twins"].fn, spec(ns, nv, k), starts=8)
    assert opt.status == "infimum not attained" and opt.rank is None, opt.certificate


def test_simsiam_term_admits_collapse_and_shares_no_profile():
    import torch.nn.functional as F

    from ssl_props.profile import profile_loss

    def simsiam(p, z):
        return -F.cosine_similarity(p, z.detach(), dim=-1).mean()

    prof = profile_loss(simsiam, graphs=[spec(3, 2, 4), spec(2, 3, 3)], starts=8, dynamics=False)
    assert all(g.collapse_admitted for g in prof.graphs)
    assert prof.shares == [] and set(prof.differs) == {"vicreg_spectral", "simclr_graph", "barlow_twins_graph"}
    assert "the loss alone admits collapse" in prof.render()


def test_a_list_convention_loss_gets_all_views_at_once():
    """A loss taking a list of views (EMP-SSL/FroSSL style) is profiled in its own convention: on V = 3 it receives
    the three views in one call, and its value equals the same loss written for two views on V = 2."""
    from ssl_props.profile import profile_loss

    calls: list[int] = []

    def centroid_loss(views):
        calls.append(len(views))
        zs = torch.stack(views)
        zs = torch.nn.functional.normalize(zs, dim=-1)
        return -(zs.mean(0).norm(dim=-1)).mean() + 0.1 * torch.logsumexp(zs[0] @ zs[0].T, dim=-1).mean()

    prof = profile_loss(centroid_loss, graphs=[spec(2, 3, 3), spec(3, 2, 4)], starts=4, dynamics=False, compare=False)
    assert 3 in calls and 2 in calls  # V = 3 in one call, V = 2 as a pair of views
    assert prof.graphs[0].batching == "vmap"  # the list call batches over starts like any other
