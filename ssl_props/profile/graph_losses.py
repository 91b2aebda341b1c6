"""A loss on a relation graph: the user's pair loss fed the positives of G, batched over starts.

Balestriero & LeCun 2022 (arXiv:2205.11508, Sec. 2) write every SSL loss with a relation matrix ``G``:
the positive pairs are the ``(i, j)`` with ``G_ij = 1``. A two-view loss is fed the batch it is trained on
when ``G`` is a union of equal cliques (V views of N' samples, :mod:`ssl_props.profile.feeding`), else the
paper's ``Z_left = Z[rows]``, ``Z_right = Z[cols]`` (:func:`ssl_props.graphs.positive_pairs`). :func:`graph_objective` turns
``fn(z1, z2) -> scalar`` (``form="pair"``) or ``fn(Z, G) -> scalar`` (``form="graph"``) into a function of
a batch of embeddings ``(S, N, K) -> (S,)``: with ``torch.func.vmap`` when the loss allows it, else a
loop over the ``S`` starts (:attr:`GraphObjective.batching` says which, and why).

:data:`REFERENCES` holds the spectral losses of :mod:`ssl_props.spectral` whose optima have closed
forms (the registry's claims 3, 7, 8): the profile of such a loss is a pass/fail check of the claim.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import torch

from ssl_props.errors import InvalidArgument
from ssl_props.graphs import positive_pairs
from ssl_props.profile.feeding import Feeding, call_views, feeding_for
from ssl_props.spectral import barlow_twins_loss, simclr_loss, vicreg_spectral_loss

__all__ = ["GraphObjective", "graph_objective", "REFERENCES", "ProfileFailure"]


class ProfileFailure(InvalidArgument):
    """The loss could not be profiled: the message names the step and the graph or seed."""


class UnboundedBelow(ProfileFailure):
    """The loss reached ``−inf``, or overflowed while falling along a ray: no minimiser on this graph."""


@dataclass
class GraphObjective:
    """``fn`` on the positives of ``g``, batched over starts: ``self(Z)`` maps ``(S, N, K)`` to ``(S,)``."""

    fn: Callable[..., Any]
    g: torch.Tensor
    form: Literal["pair", "graph"]
    graph: str  # name of the graph, for messages
    batching: str = "unknown"  # "vmap" or "loop (reason)"
    feeding: Feeding | None = None  # form "pair": the batch cut from Z (default: natural when G allows it)
    rows: torch.Tensor = field(init=False)  # every positive pair (G_ij = 1): for measurements
    cols: torch.Tensor = field(init=False)

    def __post_init__(self) -> None:
        self.rows, self.cols = positive_pairs(self.g)
        if self.form == "pair" and self.feeding is None:
            self.feeding = feeding_for(self.g)

    def one(self, z: torch.Tensor) -> torch.Tensor:
        """The loss of one embedding ``(N, K)``."""
        if self.form == "graph":
            return self.fn(z, self.g)
        assert self.feeding is not None
        return call_views(self.fn, self.feeding, z)

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        if self.batching == "vmap":
            return torch.func.vmap(self.one, randomness="same")(z)  # --fixed-seed: every start draws alike
        return torch.stack([_scalar(self.one(zi), self.graph) for zi in z])

    def choose_batching(self, z: torch.Tensor) -> None:
        """Try ``vmap`` on a batch of two starts (value and gradient); fall back to a loop, recording why."""
        ref = torch.stack([_scalar(self.one(zi), self.graph) for zi in z[:2]])
        try:
            self.batching = "vmap"
            with torch.enable_grad():
                zz = z[:2].detach().requires_grad_(True)
                out = self(zz)
                torch.autograd.grad(out.sum(), zz)
            ok = out.shape == (2,) and bool(torch.allclose(out.detach(), ref, rtol=1e-9, atol=0.0))
            if not ok:
                self.batching = "loop (vmap changed the values)"
        except Exception as e:  # noqa: BLE001 - any vmap failure means "use the loop"
            self.batching = f"loop (vmap refused: {type(e).__name__}: {str(e).splitlines()[0][:80]})"


def _scalar(v: Any, graph: str) -> torch.Tensor:
    if not isinstance(v, torch.Tensor) or v.numel() != 1:
        raise ProfileFailure(f"step 'evaluate' on graph {graph}: the loss returned {type(v).__name__}"
                             f"{tuple(v.shape) if isinstance(v, torch.Tensor) else ''}, not a scalar tensor; return a 0-d tensor")
    return v.reshape(())


def graph_objective(fn: Callable[..., Any], g: torch.Tensor, *, form: str = "pair", graph: str = "G",
                    feeding: Feeding | None = None) -> GraphObjective:
    """The profile's objective: ``fn`` on the batch :class:`Feeding` cuts from ``Z`` (``form="pair"``; default
    the natural batch when ``G`` is a union of equal cliques, else every positive pair) or ``fn(Z, G)`` (``"graph"``)."""
    if form not in ("pair", "graph"):
        raise InvalidArgument(f"form must be 'pair' (fn(z1, z2)) or 'graph' (fn(Z, G)), got form={form!r}")
    return GraphObjective(fn, g, form, graph, feeding=feeding)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Reference:
    """A loss of :mod:`ssl_props.spectral` with a closed-form optimum (a registered claim)."""

    name: str
    fn: Callable[..., torch.Tensor]  # fn(Z, G), form "graph"
    params: dict[str, float]
    claims: tuple[str, ...]  # registry ids whose prediction the profile checks
    rotation_invariant: bool  # claim 11 (Barlow Twins as printed is not)

    def bound(self, **over: float) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        p = {**self.params, **over}
        return lambda z, g: self.fn(z, g, **p)


#: The spectral references (their optima: claims 3, 7, 8 of balestriero2022).
REFERENCES: dict[str, Reference] = {
    "vicreg_spectral": Reference("vicreg_spectral", vicreg_spectral_loss, {"beta": 1.0, "gamma": 0.4},
                                 ("balestriero2022.claim3", "balestriero2022.claim9", "balestriero2022.claim10",
                                  "balestriero2022.claim11"), True),
    "simclr_graph": Reference("simclr_graph", simclr_loss, {"tau": 0.5},
                              ("balestriero2022.claim7", "balestriero2022.claim10", "balestriero2022.claim11"), True),
    "barlow_twins_graph": Reference("barlow_twins_graph", barlow_twins_loss, {"alpha": 1.0},
                                    ("balestriero2022.claim8", "balestriero2022.claim10"), False),
}
