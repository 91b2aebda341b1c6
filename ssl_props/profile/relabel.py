r"""Optima up to relabelling: the automorphisms of a relation graph and the Gram matrices they identify.

Two optima ``Z, Z'`` of a loss on ``G`` are the same optimum when ``H Z' Z'ᵀ H = P_π (H Z Zᵀ H) P_πᵀ`` for a
node permutation ``π`` that maps ``G`` onto itself (``G_{π(i)π(j)} = G_ij``: images permuted, views
swapped, ...) AND leaves the loss unchanged (a loss fed a natural batch need not be invariant to every
automorphism: swapping the two views of one image changes which argument it is fed to). The centred Gram
matrix removes the rotations ``Z → ZQ`` and translations; the permutation removes the relabellings.

:func:`automorphisms` finds ``Aut(G)`` exactly by backtracking (nodes placed in order; a candidate
image must have the same degree, the same self-loop and the same edges to every node placed before it);
exact for the profile's graphs (N ≤ ~12; the search stops at ``limit`` automorphisms and says so).
"""
from __future__ import annotations

import torch

from ssl_props.profile.graph_losses import GraphObjective

__all__ = ["automorphisms", "invariant_relabellings", "cluster_grams"]


def automorphisms(g: torch.Tensor, *, limit: int = 20000) -> tuple[torch.Tensor, bool]:
    """``(perms (A, N) long, complete)``: every permutation ``π`` with ``G[π][:, π] = G`` (the identity first),
    found by backtracking; ``complete`` is False when the search stopped at ``limit``."""
    a = g.detach().cpu().tolist()
    n = len(a)
    deg = [sorted(row) for row in a]
    out: list[list[int]] = []
    mapping = [-1] * n
    used = [False] * n

    def place(i: int) -> bool:
        if i == n:
            out.append(list(mapping))
            return len(out) >= limit
        for c in range(n):
            if used[c] or deg[c] != deg[i] or a[c][c] != a[i][i]:
                continue
            if all(a[i][j] == a[c][mapping[j]] for j in range(i)):
                mapping[i], used[c] = c, True
                stop = place(i + 1)
                mapping[i], used[c] = -1, False
                if stop:
                    return True
        return False

    stopped = place(0)
    return torch.tensor(out, dtype=torch.long, device=g.device), not stopped


def invariant_relabellings(obj: GraphObjective, perms: torch.Tensor, like: torch.Tensor, rounding: float,
                           seed: int = 0) -> torch.Tensor:
    """The automorphisms under which the loss is unchanged: ``|f(Z[π]) − f(Z)| ≤ K·rounding`` at two random
    ``Z`` (one batched call)."""
    n, k = like.shape[-2:]
    z = torch.randn(2, n, k, generator=torch.Generator().manual_seed(seed + 31), dtype=torch.float64).to(like)
    moved = z[:, perms].reshape(-1, n, k)  # (2·A, N, K)
    with torch.no_grad():
        f0, fm = obj(z), obj(moved).reshape(2, -1)
    ok = ((fm - f0[:, None]).abs() <= k * rounding * (1 + f0.abs()[:, None])).all(0)
    return perms[ok]


def cluster_grams(grams: torch.Tensor, tols: torch.Tensor, perms: torch.Tensor) -> list[int]:
    """Optima among Gram matrices ``(S, N, N)`` up to the relabellings ``perms`` (``(A, N)``, identity included):
    ``i ~ j`` when ``min_π ‖P_π G_i P_πᵀ − G_j‖_F ≤ tols[i] + tols[j]``; the optima are the connected
    components of ``~`` (its transitive closure, so the count can only fall as relabellings are added).
    Returns one representative index per component (their number is the number of distinct optima)."""
    s = grams.shape[0]
    near = torch.zeros(s, s, dtype=torch.bool, device=grams.device)
    for i in range(s):  # (A, S, N, N) per start: memory stays O(A·S·N²)
        moved = grams[i][perms[:, :, None], perms[:, None, :]]
        dist = (moved[:, None] - grams[None]).flatten(2).norm(dim=-1).amin(0)
        near[i] = dist <= tols[i] + tols
    near |= near.T.clone()
    reach = near | torch.eye(s, dtype=torch.bool, device=grams.device)
    for _ in range(max(s - 1, 0).bit_length()):  # transitive closure by repeated squaring
        reach = reach | ((reach.double() @ reach.double()) > 0)
    first = reach.double().argmax(1)  # smallest index in each component
    return sorted(set(int(i) for i in first))
