"""The public Hypothesis strategies: shapes, kinds, reproducibility, normalisation, validation."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings

from ssl_props import InvalidArgument
from ssl_props import strategies as S


@given(S.embeddings(n=(2, 5), d=(3, 4)))
def test_shapes_within_bounds(z):
    assert 2 <= z.shape[0] <= 5 and 3 <= z.shape[1] <= 4
    assert z.dtype == torch.float64 and bool(torch.isfinite(z).all())


@pytest.mark.parametrize("kind", S.KINDS + S.DEGENERATE_KINDS)
def test_every_kind_is_reproducible(kind):
    a = S.make_embeddings(6, 4, kind, seed=3)
    b = S.make_embeddings(6, 4, kind, seed=3)
    assert torch.equal(a, b) and a.shape == (6, 4)


def test_degenerate_kinds_are_degenerate():
    assert torch.linalg.matrix_rank(S.make_embeddings(8, 5, "collapsed", seed=1)) == 1
    assert torch.linalg.matrix_rank(S.make_embeddings(8, 5, "dimensional_collapse", rank=2, seed=1)) == 2
    z = S.make_embeddings(8, 5, "constant_features", seed=1)
    assert float(z[:, 0].std()) == 0.0
    z = S.make_embeddings(8, 5, "near_zero_rows", seed=1)
    assert float(z[0].norm()) < 1e-10
    z = S.make_embeddings(8, 5, "duplicated_rows", seed=1)
    assert len({tuple(r.tolist()) for r in z}) < 8


def test_batched_generation():
    z = S.make_embeddings(3, 2, "gaussian", seed=0, batch=(7,))
    assert z.shape == (7, 3, 2)


@settings(max_examples=30)
@given(S.normalized_embeddings(n=(1, 6), d=(1, 6), normalize="both", norm=(0.5, 2.0)))
def test_doubly_normalised(z):
    n, d = z.shape
    c = z.norm(dim=1)
    assert torch.allclose(c, c[0].expand_as(c), rtol=1e-12)
    r = z.norm(dim=0)
    assert torch.allclose(r, (c[0] * (n / d) ** 0.5).expand_as(r), rtol=1e-10)


@settings(max_examples=30)
@given(S.normalized_embeddings(normalize="features", kinds=S.KINDS))
def test_feature_normalised_never_has_zero_columns(z):
    assert torch.allclose(z.norm(dim=0), torch.ones(z.shape[1], dtype=z.dtype))


@given(S.view_pairs(S.embeddings(n=3, d=4), transforms=("orthogonal",)))
def test_orthogonal_views_keep_the_gram_matrix(pair):
    z1, z2 = pair
    assert torch.allclose(z1 @ z1.T, z2 @ z2.T, atol=1e-9 * float(z1.abs().max()) ** 2 + 1e-300)


@given(S.orthogonal_matrices(5))
def test_orthogonal(q):
    assert torch.allclose(q @ q.T, torch.eye(5, dtype=q.dtype), atol=1e-13)


@pytest.mark.parametrize(("factory", "match"), [
    (lambda: S.embeddings(n=(5, 2)), "Cannot have max n=2 < min n=5"),
    (lambda: S.embeddings(n=0), "n must be >= 1"),
    (lambda: S.embeddings(kinds=("gausian",)), "unknown kind='gausian'"),
    (lambda: S.embeddings(scales=(0.0,)), "scales must be positive"),
    (lambda: S.normalized_embeddings(normalize="rows"), "normalize must be"),
    (lambda: S.normalized_embeddings(norm=-1.0), "norm must be positive"),
    (lambda: S.make_embeddings(2, 2, "nope"), "unknown kind"),
])
def test_invalid_arguments_are_named(factory, match):
    with pytest.raises(InvalidArgument, match=match):
        factory()


def test_symbolic_shapes_small():
    @given(S.symbolic_shapes(3, 2))
    def run(shape):
        assert 1 <= shape[0] <= 3 and 1 <= shape[1] <= 2
    run()


def test_strategies_follow_the_device_switch(monkeypatch):
    monkeypatch.setenv("SSL_PROPS_DEVICE", "cpu")
    assert S.make_embeddings(2, 2).device.type == "cpu"
    monkeypatch.setenv("SSL_PROPS_DEVICE", "tpu9")
    with pytest.raises(InvalidArgument, match="unknown device"):
        S.make_embeddings(2, 2)
