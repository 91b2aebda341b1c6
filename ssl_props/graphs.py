"""Relation matrices G of self-supervised learning, their Laplacians, and Hypothesis strategies of graphs.

Balestriero & LeCun (NeurIPS 2022, arXiv:2205.11508, Sec. 2) write SSL as learning from ``(X, G)``:
``G ∈ R^{N×N}`` is symmetric with a zero diagonal, ``G_ij > 0`` when samples ``i`` and ``j`` are known to
be related (two augmentations of one image, two samples of one class, ...). With ``V`` views of ``N'``
images stacked view-major (all of view 1, then all of view 2, ...), ``G = (1_V 1_Vᵀ − I_V) ⊗ I_{N'}``.

The Laplacian is ``L = D − G`` with ``D = diag(G 1)``; for symmetric ``G``,
``Σ_ij G_ij ||Z_i − Z_j||² = 2 tr(Zᵀ L Z)`` (the Dirichlet energy behind "VICReg = Laplacian Eigenmaps").

Strategies draw a small structure and a seed and build the tensor with a seeded ``torch.Generator`` on
the CPU (same values on every device); they shrink towards fewer nodes and seed 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from hypothesis import strategies as st

from ssl_props._validation import InvalidArgument, check_interval, describe
from ssl_props.device import DEFAULT_DTYPE, resolve_device
from ssl_props.strategies import SEEDS

__all__ = ["augmentation_graph", "label_graph", "check_relation_matrix", "degrees", "laplacian", "component_labels", "n_components",
           "dirichlet_energy", "laplacian_quadratic", "positive_pairs", "one_hot", "PlantedGraph",
           "augmentation_graphs", "weighted_graphs", "asymmetric_graphs", "planted_graphs", "regular_graphs",
           "labelled_graphs"]


def _out(t: torch.Tensor, dtype: torch.dtype, device: str | torch.device | None) -> torch.Tensor:
    return t.to(dtype=dtype, device=resolve_device(device))


def augmentation_graph(n_samples: int, n_views: int = 2, *, dtype: torch.dtype = DEFAULT_DTYPE,
                       device: str | torch.device | None = None) -> torch.Tensor:
    """``G`` of ``n_views`` augmentations of ``n_samples`` images, view-major (paper Sec. 2 code snippet).

    ``i = arange(N'V).repeat_interleave(V−1)``, ``j = (i + arange(1, V).repeat(N'V)·N') mod N'V``,
    ``G[i, j] = 1``; this equals ``(1 1ᵀ − I_V) ⊗ I_{N'}``: every row has ``V − 1`` ones.
    """
    if not isinstance(n_samples, int) or n_samples < 1:
        raise InvalidArgument(f"n_samples must be an int >= 1, got n_samples={n_samples!r}")
    if not isinstance(n_views, int) or n_views < 2:
        raise InvalidArgument(f"n_views must be an int >= 2 (one view has no positive pair), got n_views={n_views!r}")
    n = n_samples * n_views
    i = torch.arange(n).repeat_interleave(n_views - 1)
    j = (i + torch.arange(1, n_views).repeat(n) * n_samples) % n
    g = torch.zeros(n, n, dtype=torch.float64)
    g[i, j] = 1.0
    return _out(g, dtype, device)


def one_hot(labels: torch.Tensor) -> torch.Tensor:
    """``Y ∈ {0,1}^{N×C}`` from integer labels ``0..C−1`` (float64)."""
    labels = torch.as_tensor(labels)
    if labels.ndim != 1 or labels.numel() == 0 or labels.is_floating_point() or int(labels.min()) < 0:
        raise InvalidArgument(f"labels must be a non-empty 1-d tensor of integers >= 0, got {describe(labels)}")
    return torch.nn.functional.one_hot(labels.long()).to(torch.float64)


def label_graph(labels: torch.Tensor, *, dtype: torch.dtype = DEFAULT_DTYPE,
                device: str | torch.device | None = None) -> torch.Tensor:
    """The supervised relation matrix ``G = Y Yᵀ − I`` (``G_ij = 1[y_i = y_j], i ≠ j``): G aligned with the labels."""
    y = one_hot(labels)
    return _out(y @ y.T - torch.eye(len(y), dtype=torch.float64), dtype, device)


def check_relation_matrix(g: object, name: str = "G", *, symmetric: bool = True) -> torch.Tensor:
    """Check that ``g`` is a floating ``(..., N, N)`` matrix, finite, non-negative, zero diagonal (and symmetric)."""
    if not isinstance(g, torch.Tensor) or g.ndim < 2 or g.shape[-1] != g.shape[-2]:
        raise InvalidArgument(f"{name} must be a square (..., N, N) tensor, got {describe(g)}")
    if not g.is_floating_point():
        raise InvalidArgument(f"{name} must have a floating dtype, got {describe(g)}; call .double()")
    if not bool(torch.isfinite(g).all()) or bool((g < 0).any()):
        raise InvalidArgument(f"{name} must be finite with non-negative weights, got {describe(g)}")
    if bool((g.diagonal(dim1=-2, dim2=-1) != 0).any()):
        raise InvalidArgument(f"{name} must have a zero diagonal (a sample is not its own positive pair)")
    if symmetric and not torch.equal(g, g.transpose(-2, -1)):
        err = float((g - g.transpose(-2, -1)).abs().max())
        raise InvalidArgument(f"{name} must be symmetric (max |G − Gᵀ| = {err:.3g}); symmetrise with (G + Gᵀ)/2")
    return g


def degrees(g: torch.Tensor) -> torch.Tensor:
    """Row sums ``G 1``, shape ``(..., N)``."""
    return check_relation_matrix(g, symmetric=False).sum(-1)


def laplacian(g: torch.Tensor, *, symmetric: bool = True) -> torch.Tensor:
    """``L = diag(G 1) − G`` (batched). With ``symmetric=False`` the naive formula is applied to any ``G``."""
    g = check_relation_matrix(g, symmetric=symmetric)
    return torch.diag_embed(g.sum(-1)) - g


def component_labels(g: torch.Tensor) -> torch.Tensor:
    """Connected component of every node (edges ``G_ij > 0``), numbered ``0, 1, ...`` in order of first node."""
    g = check_relation_matrix(g)
    if g.ndim != 2:
        raise InvalidArgument(f"component_labels takes one graph, got {describe(g)}")
    parent = list(range(g.shape[0]))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for i, j in (g > 0).nonzero().tolist():
        parent[find(i)] = find(j)
    roots: dict[int, int] = {}
    return torch.tensor([roots.setdefault(find(i), len(roots)) for i in range(g.shape[0])])


def n_components(g: torch.Tensor) -> int:
    """Number of connected components of the graph with edges ``G_ij > 0``."""
    return int(component_labels(g).max()) + 1


def dirichlet_energy(z: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """``Σ_ij G_ij ||Z_i − Z_j||²`` computed pair by pair over the non-zero ``G_ij`` (VICReg's invariance term
    times ``N/γ``), batched over ``z``. A sum of non-negative terms: accurate relative to its value, even near 0."""
    rows, cols = (g > 0).nonzero(as_tuple=True)
    diff = z[..., rows, :] - z[..., cols, :]  # (..., E, K)
    return (g[rows, cols] * diff.square().sum(-1)).sum(-1)


def laplacian_quadratic(z: torch.Tensor, lap: torch.Tensor) -> torch.Tensor:
    """``tr(Zᵀ L Z)`` (batched over ``z``'s leading dims; the batch is folded into ONE ``N × N`` by ``N × (B·K)``
    product, much faster than a broadcast batched matmul for small N)."""
    if lap.ndim != 2:
        return (z * (lap @ z)).sum((-2, -1))
    n, k = z.shape[-2:]
    zf = z.reshape(-1, n, k)
    y = (lap @ zf.transpose(0, 1).reshape(n, -1)).reshape(n, zf.shape[0], k).transpose(0, 1)
    return (zf * y).sum((-2, -1)).reshape(z.shape[:-2])


def positive_pairs(g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Row and column indices of every non-zero ``G_ij`` (paper Sec. 2: ``Z_left = Z[rows]``, ``Z_right = Z[cols]``)."""
    g = check_relation_matrix(g)
    if g.ndim != 2:
        raise InvalidArgument(f"positive_pairs takes one graph, got {describe(g)}")
    idx = (g > 0).nonzero()
    return idx[:, 0], idx[:, 1]


@dataclass(frozen=True)
class PlantedGraph:
    """A weighted graph of ``c`` dense clusters joined by weak links, with a certified eigengap.

    Weyl: ``λ_{c−1}(L) ≤ 2ε(N−1)`` (weak links) and ``λ_c(L) ≥ m_min·w_min`` (dense clusters), so the gap
    between the ``c`` bottom eigenvalues and the rest is at least ``gap_bound = m_min·w_min − 2ε(N−1)``.
    """

    g: torch.Tensor
    labels: torch.Tensor  # cluster of each node
    low_bound: float  # upper bound on the c bottom eigenvalues
    gap_bound: float  # lower bound on λ_c − λ_{c−1}


def _range(value: int | tuple[int, int], name: str, least: int) -> tuple[int, int]:
    """Validate a size or an inclusive ``(min, max)`` range, eagerly (before anything is drawn)."""
    lo, hi = (value, value) if isinstance(value, int) else value
    if lo < least:
        raise InvalidArgument(f"{name} must be >= {least}, got {name}={value!r}")
    check_interval(lo, hi, f"min {name}", f"max {name}")
    return lo, hi


def _seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


def _symmetric_weights(n: int, gen: torch.Generator, lo: float, hi: float, p_edge: float = 1.0) -> torch.Tensor:
    w = lo + (hi - lo) * torch.rand(n, n, generator=gen, dtype=torch.float64)
    w = w * (torch.rand(n, n, generator=gen, dtype=torch.float64) < p_edge)
    w = torch.triu(w, 1)
    return w + w.T


def augmentation_graphs(n_samples: int | tuple[int, int] = (1, 5), n_views: int | tuple[int, int] = (2, 4),
                        *, dtype: torch.dtype = DEFAULT_DTYPE, device: str | torch.device | None = None) -> st.SearchStrategy:
    """Returns a strategy which generates ``(G, n_samples, n_views)`` for view-major augmentation graphs.

    Examples shrink towards one sample and two views.
    """
    (a, b), (c, d) = _range(n_samples, "n_samples", 1), _range(n_views, "n_views", 2)
    return st.tuples(st.integers(a, b), st.integers(c, d)).map(
        lambda t: (augmentation_graph(t[0], t[1], dtype=dtype, device=device), t[0], t[1]))


def weighted_graphs(n: int | tuple[int, int] = (2, 8), *, dtype: torch.dtype = DEFAULT_DTYPE,
                    device: str | torch.device | None = None) -> st.SearchStrategy[torch.Tensor]:
    """Returns a strategy which generates symmetric weighted relation matrices with a zero diagonal.

    * weights in ``[0.1, 2]``; edge probability drawn from ``{1, 0.5, 0.2}``, so graphs may be sparse and
      disconnected (isolated nodes included).

    Examples shrink towards the fewest nodes, complete graphs and seed 0.
    """
    lo, hi = _range(n, "n", 2)
    return st.tuples(st.integers(lo, hi), st.sampled_from((1.0, 0.5, 0.2)), SEEDS).map(
        lambda t: _out(_symmetric_weights(t[0], _seeded(t[2]), 0.1, 2.0, t[1]), dtype, device))


def asymmetric_graphs(n: int | tuple[int, int] = (2, 6)) -> st.SearchStrategy[torch.Tensor]:
    """Returns a strategy which generates NON-symmetric non-negative matrices with a zero diagonal (float64, CPU)."""
    lo, hi = _range(n, "n", 2)

    def build(nn: int, seed: int) -> torch.Tensor:
        g = torch.rand(nn, nn, generator=_seeded(seed), dtype=torch.float64) * (1 - torch.eye(nn, dtype=torch.float64))
        g[0, 1] += 1.0  # one guaranteed asymmetric edge
        return g
    return st.builds(build, st.integers(lo, hi), SEEDS)


def planted_graphs(n_clusters: int | tuple[int, int] = (2, 4), cluster_size: int | tuple[int, int] = (2, 4),
                   *, connected: bool | None = None, dtype: torch.dtype = DEFAULT_DTYPE,
                   device: str | torch.device | None = None) -> st.SearchStrategy[PlantedGraph]:
    """Returns a strategy which generates :class:`PlantedGraph`: ``c`` clusters with a certified eigengap.

    * intra-cluster weights in ``[1, 2]`` (complete), inter-cluster weights in ``[0, ε]`` with
      ``ε = m_min / (4 (N − 1))``, hence ``gap_bound ≥ m_min / 2 ≥ 1``;
    * ``connected=False`` drops the weak links (c components), ``True`` keeps all of them, ``None`` draws.

    Examples shrink towards two clusters of two nodes, with weak links, seed 0.
    """
    (a, b), (c, d) = _range(n_clusters, "n_clusters", 1), _range(cluster_size, "cluster_size", 2)
    return _planted(a, b, c, d, connected, dtype, device)


@st.composite
def _planted(draw: st.DrawFn, a: int, b: int, c: int, d: int, connected: bool | None, dtype: torch.dtype,
             device: str | torch.device | None) -> PlantedGraph:
    k = draw(st.integers(a, b))
    sizes = [draw(st.integers(c, d)) for _ in range(k)]
    links = draw(st.booleans()) if connected is None else connected
    gen = _seeded(draw(SEEDS))
    labels = torch.repeat_interleave(torch.arange(k), torch.tensor(sizes))
    n, m_min = len(labels), min(sizes)
    same = (labels[:, None] == labels[None, :]).to(torch.float64)
    eps_w = m_min / (4.0 * max(n - 1, 1))
    g = _symmetric_weights(n, gen, 1.0, 2.0) * same
    if links:
        g = g + _symmetric_weights(n, gen, 0.0, eps_w) * (1 - same)
    perm = torch.randperm(n, generator=gen)
    g, labels = g[perm][:, perm], labels[perm]
    low = 2.0 * eps_w * (n - 1) if links else 0.0
    return PlantedGraph(_out(g, dtype, device), labels, low, m_min * 1.0 - low)


def regular_graphs(n_half: int | tuple[int, int] = (2, 4), n_matchings: int | tuple[int, int] = (1, 3), *,
                   dtype: torch.dtype = DEFAULT_DTYPE, device: str | torch.device | None = None) -> st.SearchStrategy[torch.Tensor]:
    """Returns a strategy which generates weighted REGULAR graphs (constant degree) on ``2·n_half`` nodes.

    ``G = Σ_r w_r M_r`` for random perfect matchings ``M_r`` and weights ``w_r ∈ [1, 2]``: every node has
    degree ``Σ_r w_r``. Examples shrink towards one matching on four nodes.
    """
    (a, b), (c, d) = _range(n_half, "n_half", 1), _range(n_matchings, "n_matchings", 1)
    return st.builds(lambda h, r, seed: _regular(h, r, seed, dtype, device), st.integers(a, b), st.integers(c, d),
                     SEEDS)


def _regular(h: int, r: int, seed: int, dtype: torch.dtype, device: str | torch.device | None) -> torch.Tensor:
    gen = _seeded(seed)
    n = 2 * h
    g = torch.zeros(n, n, dtype=torch.float64)
    for w in (1.0 + torch.rand(r, generator=gen, dtype=torch.float64)).tolist():
        p = torch.randperm(n, generator=gen)
        g[p[:h], p[h:]] += w
        g[p[h:], p[:h]] += w
    return _out(g, dtype, device)


def labelled_graphs(n_classes: int | tuple[int, int] = (2, 3), class_size: int | tuple[int, int] = (2, 4),
                    *, aligned: bool = True, dtype: torch.dtype = DEFAULT_DTYPE,
                    device: str | torch.device | None = None) -> st.SearchStrategy[tuple[torch.Tensor, torch.Tensor]]:
    """Returns a strategy which generates ``(G, labels)``.

    * ``aligned=True``: ``G = Y Yᵀ − I`` (positives = same class);
    * ``aligned=False``: ``G`` is a perfect matching whose every pair joins two DIFFERENT classes (an
      augmentation graph misaligned with the labelling); class sizes are then equal and even.

    Examples shrink towards two classes of two samples, seed 0.
    """
    (a, b), (c, d) = _range(n_classes, "n_classes", 2), _range(class_size, "class_size", 2)
    return _labelled(a, b, c, d, aligned, dtype, device)


@st.composite
def _labelled(draw: st.DrawFn, a: int, b: int, c: int, d: int, aligned: bool, dtype: torch.dtype,
              device: str | torch.device | None) -> tuple[torch.Tensor, torch.Tensor]:
    k = draw(st.integers(a, b))
    gen = _seeded(draw(SEEDS))
    if aligned:
        sizes = torch.tensor([draw(st.integers(c, d)) for _ in range(k)])
        labels = torch.repeat_interleave(torch.arange(k), sizes)
        labels = labels[torch.randperm(len(labels), generator=gen)]
        return label_graph(labels, dtype=dtype, device=device), labels
    m = 2 * draw(st.integers(max(1, (c + 1) // 2), max(1, d // 2)))  # even class size
    labels = torch.arange(k).repeat_interleave(m)
    n = len(labels)
    # pair node i of class c with node i of class (c + 1) mod k, alternating so each node is used once
    order = torch.randperm(n, generator=gen)
    g = torch.zeros(n, n, dtype=torch.float64)
    idx = torch.arange(n).reshape(k, m)
    for cls in range(k):
        for t in range(m // 2):
            i = int(idx[cls, t])
            j = int(idx[(cls + 1) % k, m // 2 + t])
            g[i, j] = g[j, i] = 1.0
    return _out(g[order][:, order], dtype, device), labels[order]
