"""What two graph profiles are compared on, and collapse counted per connected component of ``G``.

Collapse on a relation graph (Balestriero & LeCun 2022, arXiv:2205.11508, Sec. 3): the positives of a
component of ``G`` are pulled together, so an optimum that separates the components and nothing more has
rank ``#components − 1`` after centring (the SimCLR simplex: rank ``N' − 1`` on ``N'`` images). The
collapse verdict therefore counts the rank against ``min(K, #components − 1)``, not ``min(K, N − 1)``:
complete (rank 0), dimensional (``0 < rank < min(K, #components − 1)``) or none.

Two losses *share a graph profile* only when, on every graph, the optimiser's status, whether complete
collapse is a minimiser, the collapse verdict, the set of ranks at the optimal starts, whether positives
coincide and Z → ZQ invariance all agree (issue 20, item 5); :func:`compare_signatures` names the first
differences otherwise.
"""
from __future__ import annotations

from typing import Any

from ssl_props.graphs import component_labels

__all__ = ["SIGNATURE_FIELDS", "signature_of", "compare_signatures", "count_per_component", "collapse_verdict"]

#: the per-graph measurements two profiles are compared on
SIGNATURE_FIELDS = ("status", "collapse_admitted", "collapse", "rank_set", "positives_coincide", "rotation_invariant")


def collapse_verdict(rank: int | None, full: int) -> str | None:
    """complete / dimensional / none from the rank and the rank that separates every component (``None``: unknown)."""
    if rank is None:
        return None
    return "complete" if rank == 0 else "dimensional" if rank < full else "none"


def count_per_component(opt: Any, spec: Any) -> None:
    """Set ``opt.full_rank = min(K, #components − 1)`` and the collapse verdict against it (in place)."""
    comps = int(component_labels(spec.g).max()) + 1
    opt.full_rank = min(spec.k, max(comps - 1, 0))
    opt.collapse = collapse_verdict(getattr(opt, "rank", None), opt.full_rank)


def _rank_set(opt: Any) -> Any:
    rs = getattr(opt, "rank_set", None)
    if rs:
        return tuple(sorted(int(r) for r in rs))
    return None if getattr(opt, "rank", None) is None else (int(opt.rank),)


def signature_of(opt: Any) -> dict[str, Any]:
    """The comparable summary of one graph's optimum (missing measurements read ``None``)."""
    return {"status": getattr(opt, "status", "optimum"), "collapse_admitted": getattr(opt, "collapse_admitted", None),
            "collapse": getattr(opt, "collapse", None), "rank_set": _rank_set(opt),
            "positives_coincide": getattr(opt, "positives_coincide", None),
            "rotation_invariant": getattr(opt, "rotation_invariant", None)}


def compare_signatures(mine: dict[str, dict[str, Any]], theirs: dict[str, dict[str, Any]]) -> list[str]:
    """``"graph: field yours vs theirs, ..."`` per graph that differs, graphs in order (empty: the profiles agree).
    A graph one side lacks is a difference: two profiles on different graphs are not comparable."""
    out = []
    for g in list(mine) + [g for g in theirs if g not in mine]:
        if g not in mine or g not in theirs:
            out.append(f"{g}: measured by one side only")
            continue
        diff = [f"{k} {mine[g][k]} vs {theirs[g][k]}" for k in SIGNATURE_FIELDS if mine[g].get(k) != theirs[g].get(k)]
        if diff:
            out.append(f"{g}: " + ", ".join(diff))
    return out
