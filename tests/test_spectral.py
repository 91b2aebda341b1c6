"""Tests of ssl_props.spectral: closed forms, comparisons, the batched L-BFGS and input validation."""
from __future__ import annotations

import math

import pytest
import torch

from ssl_props._validation import InvalidArgument
from ssl_props.graphs import augmentation_graph, label_graph, laplacian
from ssl_props.spectral import (barlow_twins_closed_form, barlow_twins_loss, centred_eigh, centred_gram, curvature,
                                convergence_tolerances, gibbs, laplacian_eigenmaps, lbfgs, principal_angles, probe_residual,
                                projector_distance, simclr_loss, simclr_simplex, vicreg_closed_form, vicreg_closed_form_loss,
                                vicreg_linear_closed_form, vicreg_spectral_loss)

G = augmentation_graph(3, 2)


def test_centred_eigh_removes_the_constant_vector_on_disconnected_graphs():
    lam, u = centred_eigh(laplacian(G))
    assert u.shape == (6, 5) and torch.allclose(u.sum(0), torch.zeros(5, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(lam, torch.tensor([0, 0, 2, 2, 2.0], dtype=torch.float64), atol=1e-12)


def test_vicreg_closed_form_clamps_and_matches_its_loss():
    z = vicreg_closed_form(G, 3, gamma=1.0)  # λ = 2 > β/γ = 1: third direction clamped to zero
    assert torch.allclose(z[:, 2], torch.zeros(6, dtype=torch.float64))
    assert torch.allclose(vicreg_spectral_loss(z, G, gamma=1.0), vicreg_closed_form_loss(G, 3, gamma=1.0))


@pytest.mark.parametrize("kw, match", [(dict(k=0), "k must"), (dict(k=6), "k must"), (dict(k=2, beta=0.0), "beta"),
                                       (dict(k=2, gamma=-1.0), "gamma")])
def test_vicreg_closed_form_rejects_bad_arguments(kw, match):
    with pytest.raises(InvalidArgument, match=match):
        vicreg_closed_form(G, **kw)


def test_linear_closed_form_needs_full_column_rank():
    x = torch.randn(6, 2, dtype=torch.float64)
    with pytest.raises(InvalidArgument, match="full column rank"):
        vicreg_linear_closed_form(torch.cat([x, x[:, :1]], 1), G, 1)
    assert vicreg_linear_closed_form(x, G, 2).shape == (2, 2)


def test_laplacian_eigenmaps_rejects_isolated_nodes_and_is_d_orthonormal():
    with pytest.raises(InvalidArgument, match="isolated"):
        laplacian_eigenmaps(torch.zeros(3, 3, dtype=torch.float64), 1)
    g = label_graph(torch.tensor([0, 0, 0, 1, 1]))
    z = laplacian_eigenmaps(g, 1)
    assert torch.allclose(z.T @ torch.diag(g.sum(-1)) @ z, torch.eye(1, dtype=torch.float64))


def test_simclr_simplex_and_gibbs():
    z = simclr_simplex(3, 2, 2)
    cos = z @ z.T
    assert torch.allclose(cos[0, 3], torch.tensor(1.0, dtype=torch.float64)) and math.isclose(float(cos[0, 1]), -0.5)
    with pytest.raises(InvalidArgument, match="simplex"):
        simclr_simplex(4, 2, 2)
    assert torch.allclose(gibbs(G).sum(-1), torch.ones(6, dtype=torch.float64))
    with pytest.raises(InvalidArgument, match="positive sum"):
        gibbs(torch.zeros(2, 2, dtype=torch.float64))
    assert simclr_loss(torch.randn(4, 6, 3, dtype=torch.float64), G).shape == (4,)


def test_barlow_closed_form_is_zero_loss_and_rank_is_pinned():
    z = barlow_twins_closed_form(G, 3)
    assert float(barlow_twins_loss(z, G)) < 1e-28 and int(torch.linalg.matrix_rank(z)) == 3
    with pytest.raises(InvalidArgument, match="k <= 3"):
        barlow_twins_closed_form(G, 4)


def test_comparisons_are_invariant_to_the_symmetries():
    z = torch.randn(6, 3, dtype=torch.float64)
    q = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64))[0]
    assert torch.allclose(centred_gram(z @ q + 5.0), centred_gram(z), atol=1e-10)
    assert float(projector_distance(z, z @ q)) < 1e-10
    assert float(principal_angles(z, z @ q).max()) < 1e-6
    y = torch.nn.functional.one_hot(torch.tensor([0, 1, 0, 1, 2, 2])).double()
    assert float(probe_residual(y, y)) < 1e-20 and float(probe_residual(torch.zeros(6, 1, dtype=torch.float64), y)) > 1


def test_batched_lbfgs_equals_the_per_start_loop():
    fun = lambda z: vicreg_spectral_loss(z, G, gamma=0.2)  # noqa: E731
    x0 = torch.randn(4, 6, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    xb, gb, _ = lbfgs(fun, x0, gtol=1e-10)
    for i in range(4):
        xi, gi, _ = lbfgs(fun, x0[i:i + 1], gtol=1e-10)
        assert torch.allclose(xb[i], xi[0], atol=1e-8) and float(gi) <= 1e-10
    assert float(gb.max()) <= 1e-10


def test_curvature_counts_symmetry_directions():
    zs = vicreg_closed_form(G, 2, gamma=0.2)
    mu, flat = curvature(lambda z: vicreg_spectral_loss(z, G, gamma=0.2), zs)
    assert mu > 0 and flat == 2 + 1  # two translations and one rotation of O(2)
    ftol, gtol = convergence_tolerances(torch.tensor([1e-9]), mu, 1.0)
    assert 0 < float(ftol) < 1e-12 and 0 < float(gtol) < 1e-6


def test_infonce_loss_equals_a_loop_over_anchors():
    """The G cross-entropy with candidate sets, against a plain loop (SimCLR's set, DCL's set, a subset of anchors)."""
    from ssl_props.spectral import infonce_loss
    g = augmentation_graph(3, 2)
    z = torch.randn(6, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    zn = z / z.norm(dim=1, keepdim=True)
    s = zn @ zn.T / 0.3
    eye = torch.eye(6, dtype=torch.bool)
    for cand, rows in ((~eye, torch.ones(6, dtype=torch.bool)), (~eye & (g == 0), torch.ones(6, dtype=torch.bool)),
                       (~eye, torch.arange(6) < 3)):
        want = 0.0
        for i in range(6):
            if not rows[i]:
                continue
            lse = math.log(sum(math.exp(float(s[i, k])) for k in range(6) if cand[i, k]))
            want += sum(-float(g[i, j]) * (float(s[i, j]) - lse) for j in range(6) if g[i, j] > 0)
        assert abs(float(infonce_loss(z, g, tau=0.3, candidates=cand, anchors=rows)) - want) < 1e-12
    assert abs(float(infonce_loss(z, g, tau=0.3)) - float(simclr_loss(z, g, tau=0.3))) < 1e-12


def test_infonce_loss_rejects_a_wrong_mask_shape():
    from ssl_props.spectral import infonce_loss
    with pytest.raises(InvalidArgument, match="candidates must be a bool mask of shape"):
        infonce_loss(torch.randn(6, 2, dtype=torch.float64), augmentation_graph(3, 2), candidates=torch.ones(5, 5, dtype=torch.bool))
