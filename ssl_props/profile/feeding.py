r"""How a relation graph's positives reach a two-view loss: the batch the loss is trained on.

Balestriero & LeCun 2022 (arXiv:2205.11508, Sec. 2) feed a loss *every ordered positive pair* of ``G``
(``Z_left = Z[rows]``, ``Z_right = Z[cols]``): with V = 2 each image then appears twice per argument and
serves as its own negative, which changes the value and, for DCL, the landscape (the positive re-enters
the denominator). Nobody trains that way. A graph that is a disjoint union of equal cliques of size V
(the augmentation graph ``(11ᵀ − I_V) ⊗ I_{N'}``, a label graph with equal classes, a perfect matching) IS a
batch of V views of N' samples: the v-th member of every clique forms view v (:func:`natural_views`).

The views are then passed the way the loss takes them (:func:`call_views`), the checker's calling
convention (:class:`ssl_props.checker.calling.Convention`):

* ``list`` / ``stacked:AXIS`` / ``cat:AXIS``: all V views at once (``fn([Z_1, …, Z_V])`` …);
* ``pair``, ``pair:AXIS``, ``kw:…`` (two views per call): ``fn(Z_1, Z_2)`` for V = 2, and for V > 2 the
  mean over the unordered view pairs ``v < w`` of ``fn(Z_v, Z_w)`` (how a two-view loss is applied to
  several crops, e.g. SwAV/DINO's multi-crop sum, normalised by the number of pairs).

A graph that is not a union of equal cliques keeps the paper's construction (every ordered positive
pair), and so do the graph-form references ``fn(Z, G)``: there it is the paper's own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from ssl_props.graphs import component_labels, positive_pairs

__all__ = ["Feeding", "natural_views", "feeding_for", "call_views"]


@dataclass(frozen=True)
class Feeding:
    """``kind="views"``: ``views[v]`` indexes the rows of view ``v`` (one per sample, aligned);
    ``kind="pairs"``: ``views = (rows, cols)`` of every ordered positive pair (the paper's construction)."""

    kind: str  # "views" or "pairs"
    views: tuple[torch.Tensor, ...]
    convention: Any = None  # a checker Convention (None: fn(a, b))

    def describe(self) -> str:
        if self.kind == "pairs":
            return f"every ordered positive pair ({len(self.views[0])} rows per argument, the paper's construction)"
        v, n = len(self.views), len(self.views[0])
        how = getattr(self.convention, "label", lambda: "pair")()
        per = "view 1 against view 2" if v == 2 else f"mean over the {v * (v - 1) // 2} view pairs" if how.startswith(
            ("pair", "kw")) else f"all {v} views at once"
        return f"natural batch: {v} views of {n} samples, {per} (called as {how})"


def natural_views(g: torch.Tensor) -> tuple[torch.Tensor, ...] | None:
    """Row indices of each view when ``G`` (0/1, symmetric) is a disjoint union of cliques of one size V ≥ 2,
    ordered by first node: ``views[v][s]`` is the v-th member of clique ``s``. ``None`` otherwise."""
    b = g > 0
    if not bool((b == b.T).all()) or bool(b.diagonal().any()):
        return None
    comp = component_labels(g).to(g.device)
    sizes = torch.bincount(comp)
    v = int(sizes[0])
    if v < 2 or not bool((sizes == v).all()):
        return None
    same = comp[:, None] == comp[None, :]
    if not bool((b == (same & ~torch.eye(len(comp), dtype=torch.bool, device=g.device))).all()):
        return None  # a component that is not a clique
    order = torch.argsort(comp * len(comp) + torch.arange(len(comp), device=g.device))  # stable by component
    members = order.reshape(len(sizes), v)  # (N', V): clique s, its v-th member
    return tuple(members[:, j] for j in range(v))


def feeding_for(g: torch.Tensor, *, natural: bool = True, convention: Any = None) -> Feeding:
    """The natural batch when ``G`` allows it and ``natural``; else every ordered positive pair."""
    views = natural_views(g) if natural else None
    if views is None:
        return Feeding("pairs", positive_pairs(g), convention)
    return Feeding("views", views, convention)


def _two(fn: Callable[..., Any], convention: Any, a: torch.Tensor, b: torch.Tensor) -> Any:
    return fn(a, b) if convention is None else convention.call(fn, a, b)


def call_views(fn: Callable[..., Any], feeding: Feeding, z: torch.Tensor) -> Any:
    """The loss on the batch ``feeding`` cuts from ``z`` (N, K) (see the module docstring): V > 2 views go through
    the checker's :meth:`Convention.call_views` (plain ``fn(a, b)``: the pair convention)."""
    parts = [z[idx] for idx in feeding.views]
    if feeding.kind == "pairs" or len(parts) == 2:
        return _two(fn, feeding.convention, parts[0], parts[1])
    from ssl_props.checker.calling import PAIR

    return (feeding.convention or PAIR).call_views(fn, parts)
