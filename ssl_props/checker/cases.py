"""Input recipes of the checks: :class:`Case` (shape, kind, scale, seed, how the second view is made),
the Hypothesis strategy :func:`cases`, and the pinned sizes of a fixed-shape loss (:func:`pinned`).

Hypothesis draws cases, the report prints them, ``Case(**d).build()`` rebuilds the tensors.
"""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import asdict, dataclass, replace
from typing import Any, Sequence

import torch
from hypothesis import strategies as st

from ssl_props.device import resolve_device
from ssl_props.strategies import make_embeddings

#: (batch, dim) pinned by ``shapes=`` while a target's checks run (None: free)
_PINS: contextvars.ContextVar[tuple[int | None, int | None]] = contextvars.ContextVar("ssl_props_pins", default=(None, None))


@contextlib.contextmanager
def pinned(shapes: tuple[int | None, int | None]):
    """Every :class:`Case` built inside has the pinned batch / dim (what a fixed-shape loss accepts)."""
    token = _PINS.set(shapes)
    try:
        yield
    finally:
        _PINS.reset(token)


def pin(n: int, d: int) -> tuple[int, int]:
    """``(n, d)`` with the pinned sizes substituted."""
    pn, pd = _PINS.get()
    return (pn or n), (pd or d)


@dataclass(frozen=True)
class Case:
    """Recipe of one input pair: ``z1 = make_embeddings(n, d, kind, seed, scale)`` and ``z2`` made by ``view``.

    ``view``: ``noise`` (z1 plus 30 % Gaussian noise), ``same_kind`` (an independent draw of the same kind),
    ``equal`` (z2 = z1). ``zero_rows`` is a degenerate kind local to the checker (every other row exactly 0).
    """

    n: int
    d: int
    kind: str = "gaussian"
    scale: float = 1.0
    seed: int = 0
    view: str = "noise"

    def build(self, device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The two float64 ``(n, d)`` views on ``device``."""
        dev = resolve_device(device)
        z1 = self._draw(self.kind, self.seed, *pin(self.n, self.d))
        if self.view == "equal":
            z2 = z1.clone()
        elif self.view == "same_kind":
            z2 = self._draw(self.kind, self.seed + 1, *pin(self.n, self.d))
        else:
            g = torch.Generator().manual_seed(self.seed + 7)
            z2 = z1 + 0.3 * self.scale * torch.randn(z1.shape, generator=g, dtype=torch.float64)
        return z1.to(dev), z2.to(dev)

    def _draw(self, kind: str, seed: int, n: int, d: int) -> torch.Tensor:
        if kind == "zero_rows":
            z = make_embeddings(n, d, "gaussian", seed=seed, scale=self.scale)
            z[::2] = 0.0
            return z
        return make_embeddings(n, d, kind, seed=seed, scale=self.scale)

    def to_dict(self) -> dict[str, Any]:
        n, d = pin(self.n, self.d)
        return asdict(replace(self, n=n, d=d))


def cases(*, n: tuple[int, int] = (2, 10), d: tuple[int, int] = (2, 10), kinds: Sequence[str] = ("gaussian",),
          scales: Sequence[float] = (1.0,), views: Sequence[str] = ("noise",)) -> st.SearchStrategy[Case]:
    """Returns a strategy which generates :class:`Case` recipes; shrinks towards the smallest shape, the
    first kind / scale / view and seed 0. Pinned sizes (:func:`pinned`) are drawn as that one value."""
    pn, pd = _PINS.get()
    return st.builds(Case, st.just(pn) if pn else st.integers(*n), st.just(pd) if pd else st.integers(*d), st.sampled_from(tuple(kinds)),
                     st.sampled_from(tuple(scales)), st.integers(0, 2**31 - 1), st.sampled_from(tuple(views)))
