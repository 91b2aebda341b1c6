"""The graph strategies and the closed-form constructors keep their contract, not only their validity (issue 15):

* ``dtype=`` and ``device=`` are honoured: drawn on the ``meta`` device in float32, every tensor comes back there
  (a dropped ``device=``/``dtype=`` argument is invisible on a CPU-only float64 run otherwise);
* a draw is a function of Hypothesis's choices only: the same derandomised run draws the same graphs twice
  (a generator left out falls back to torch's global RNG and breaks replay and shrinking).
"""
from __future__ import annotations

import functools

import pytest
import torch
from hypothesis import HealthCheck, given, settings

from ssl_props import graphs
from ssl_props.spectral import simclr_simplex

META = dict(dtype=torch.float32, device="meta")
STRATEGIES = {
    "augmentation_graphs": graphs.augmentation_graphs,
    "weighted_graphs": graphs.weighted_graphs,
    "planted_graphs": graphs.planted_graphs,
    "regular_graphs": graphs.regular_graphs,
    "labelled_graphs": graphs.labelled_graphs,
    "misaligned_labelled_graphs": functools.partial(graphs.labelled_graphs, aligned=False),
}
REPLAYED = dict(STRATEGIES, asymmetric_graphs=graphs.asymmetric_graphs)


def _tensors(example) -> list[torch.Tensor]:
    """The tensors of a drawn example: a tensor, a tuple of values, or a PlantedGraph (a dataclass)."""
    if isinstance(example, torch.Tensor):
        return [example]
    items = example if isinstance(example, tuple) else vars(example).values() if hasattr(example, "__dict__") else ()
    return [t for e in items for t in _tensors(e)]


def _draws(strategy, n: int = 6) -> list:
    out: list = []

    @settings(max_examples=n, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(example) -> None:
        out.append(example)
    collect()
    return out


@pytest.mark.parametrize("name", STRATEGIES)
def test_graph_strategies_honour_dtype_and_device(name):
    for example in _draws(STRATEGIES[name](**META), n=3):
        g = _tensors(example)[0]
        assert (g.dtype, g.device.type) == (torch.float32, "meta"), f"{name} drew {g.dtype} on {g.device}"


@pytest.mark.parametrize("name", REPLAYED)
def test_graph_strategies_replay(name):
    first, second = _draws(REPLAYED[name]()), _draws(REPLAYED[name]())
    assert len(first) == len(second)
    for a, b in zip(first, second):
        ta, tb = _tensors(a), _tensors(b)
        assert len(ta) == len(tb) and all(torch.equal(x, y) for x, y in zip(ta, tb)), f"{name}: a replay drew other graphs"


@pytest.mark.parametrize("n_samples", [1, 3])
def test_simclr_simplex_honours_dtype_and_device(n_samples):
    z = simclr_simplex(n_samples, 2, 3, **META)
    assert (z.dtype, z.device.type, tuple(z.shape)) == (torch.float32, "meta", (2 * n_samples, 3))


def test_planted_graphs_allow_one_cluster():
    for pg in _draws(graphs.planted_graphs(n_clusters=1), n=3):
        assert int(pg.labels.max()) == 0 and pg.g.shape[0] >= 2


def test_planted_intra_cluster_weights_are_drawn_in_one_to_two():
    """Intra-cluster weights are uniform on [1, 2] (the docstring): inside it, and not all one value."""
    for pg in _draws(graphs.planted_graphs(cluster_size=(3, 4)), n=4):
        same = (pg.labels[:, None] == pg.labels[None, :]) & ~torch.eye(len(pg.labels), dtype=torch.bool)
        w = pg.g[same]
        assert bool(((w >= 1) & (w <= 2)).all()) and float(w.max() - w.min()) > 0, "intra weights not drawn in [1, 2]"


def test_misaligned_labelled_graphs_reach_the_largest_class_size():
    for g, labels in _draws(graphs.labelled_graphs(aligned=False, class_size=(4, 4)), n=3):
        assert torch.bincount(labels).tolist() == [4] * (int(labels.max()) + 1)
        assert bool((g.sum(-1) == 1).all()) and bool((labels[g.argmax(-1)] != labels).all())


def test_infonce_candidates_follow_the_embeddings_device():
    from ssl_props.spectral import infonce_loss
    z, g = torch.empty(4, 2, device="meta"), torch.empty(4, 4, device="meta")
    cand = ~torch.eye(4, dtype=torch.bool)  # on the CPU: moved to z's device by the loss
    assert infonce_loss(z, g, candidates=cand).device.type == "meta"
