"""Tests of ssl_props.graphs: relation matrices, Laplacians, validation and the graph strategies."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings

from ssl_props._validation import InvalidArgument
from ssl_props.graphs import (asymmetric_graphs, augmentation_graph, augmentation_graphs, check_relation_matrix,
                              component_labels, degrees, dirichlet_energy, label_graph, labelled_graphs, laplacian,
                              laplacian_quadratic, n_components, one_hot, planted_graphs, positive_pairs, regular_graphs,
                              weighted_graphs)


def test_augmentation_graph_matches_the_paper_example():
    g = augmentation_graph(3, 2)
    assert g[0, 3] == g[3, 0] == 1 and g[0, 1] == 0 and g.sum() == 6  # view-major: sample 0 of view 1 ↔ row 3
    assert torch.equal(augmentation_graph(2, 3).sum(-1), torch.full((6,), 2.0, dtype=torch.float64))


@pytest.mark.parametrize("kw, match", [(dict(n_samples=0), "n_samples"), (dict(n_samples=2, n_views=1), "n_views"),
                                       (dict(n_samples=2.5), "n_samples")])
def test_augmentation_graph_rejects_bad_sizes(kw, match):
    with pytest.raises(InvalidArgument, match=match):
        augmentation_graph(**kw)


@pytest.mark.parametrize("g, match", [
    (torch.ones(2, 3, dtype=torch.float64), "square"),
    (torch.ones(2, 2, dtype=torch.int64), "floating"),
    (torch.tensor([[0.0, -1.0], [-1.0, 0.0]], dtype=torch.float64), "non-negative"),
    (torch.tensor([[1.0, 1.0], [1.0, 0.0]], dtype=torch.float64), "zero diagonal"),
    (torch.tensor([[0.0, 1.0], [2.0, 0.0]], dtype=torch.float64), "symmetric"),
    (torch.tensor([[0.0, float("nan")], [float("nan"), 0.0]], dtype=torch.float64), "finite"),
])
def test_relation_matrix_validation_names_the_problem(g, match):
    with pytest.raises(InvalidArgument, match=match):
        laplacian(g)


def test_label_graph_and_one_hot():
    labels = torch.tensor([0, 1, 0, 2])
    g = label_graph(labels)
    assert g[0, 2] == 1 and g[0, 1] == 0 and g.diagonal().abs().sum() == 0
    assert one_hot(labels).shape == (4, 3)
    with pytest.raises(InvalidArgument, match="labels"):
        one_hot(torch.tensor([0.5, 1.0]))


def test_components_and_pairs():
    g = augmentation_graph(3, 2)
    assert n_components(g) == 3 and component_labels(g).tolist() == [0, 1, 2, 0, 1, 2]
    rows, cols = positive_pairs(g)
    assert len(rows) == 6 and bool((g[rows, cols] > 0).all())
    assert torch.equal(degrees(g), torch.ones(6, dtype=torch.float64))


def test_laplacian_naive_form_for_asymmetric_input():
    g = torch.tensor([[0.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    assert torch.equal(laplacian(g, symmetric=False), torch.tensor([[1.0, -1.0], [0.0, 0.0]], dtype=torch.float64))
    check_relation_matrix(g, symmetric=False)


@settings(max_examples=15, deadline=None)
@given(weighted_graphs(), asymmetric_graphs())
def test_weighted_and_asymmetric_strategies(g, a):
    check_relation_matrix(g)
    assert not torch.equal(a, a.T)
    z = torch.randn(g.shape[0], 2, dtype=torch.float64)
    assert torch.allclose(dirichlet_energy(z, g), 2 * laplacian_quadratic(z, laplacian(g)))


@settings(max_examples=15, deadline=None)
@given(planted_graphs())
def test_planted_graphs_certify_their_eigengap(pg):
    lam = torch.linalg.eigvalsh(laplacian(pg.g))
    c = int(pg.labels.max()) + 1
    assert float(lam[c - 1]) <= pg.low_bound + 1e-12
    assert float(lam[c] - lam[c - 1]) >= pg.gap_bound - 1e-12 and pg.gap_bound >= 1.0


@settings(max_examples=15, deadline=None)
@given(regular_graphs(), augmentation_graphs())
def test_regular_and_augmentation_graphs_have_constant_degree(g, aug):
    d = g.sum(-1)
    assert torch.allclose(d, d[0].expand_as(d))
    ga, ns, nv = aug
    assert ga.shape == (ns * nv, ns * nv) and bool((ga.sum(-1) == nv - 1).all())


@settings(max_examples=15, deadline=None)
@given(labelled_graphs(), labelled_graphs(aligned=False))
def test_labelled_graphs_aligned_and_misaligned(al, mis):
    g, labels = al
    assert torch.equal(g, label_graph(labels))
    g, labels = mis
    rows, cols = positive_pairs(g)
    assert bool((labels[rows] != labels[cols]).all()) and bool((g.sum(-1) == 1).all())


def test_strategy_bounds_are_validated():
    with pytest.raises(InvalidArgument, match="n_clusters"):
        planted_graphs(n_clusters=(3, 2))
    with pytest.raises(InvalidArgument, match="cluster_size"):
        planted_graphs(cluster_size=1)
    with pytest.raises(InvalidArgument, match="n_views"):
        augmentation_graphs(n_views=1)
    with pytest.raises(InvalidArgument, match="n_classes"):
        labelled_graphs(n_classes=1)


def test_laplacian_quadratic_with_one_laplacian_per_case():
    """``tr(Z_bᵀ L_b Z_b)`` for a batch of Laplacians (the broadcast path), against a per-case loop."""
    from ssl_props.graphs import laplacian, laplacian_quadratic
    gen = torch.Generator().manual_seed(0)
    g = torch.rand(3, 5, 5, generator=gen, dtype=torch.float64)
    g = (g + g.transpose(-2, -1)) * (1 - torch.eye(5, dtype=torch.float64))
    lap = torch.stack([laplacian(gb) for gb in g])
    z = torch.randn(3, 5, 2, generator=gen, dtype=torch.float64)
    want = torch.stack([torch.trace(zb.T @ lb @ zb) for zb, lb in zip(z, lap)])
    torch.testing.assert_close(laplacian_quadratic(z, lap), want)
