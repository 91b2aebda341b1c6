"""Figures of the report: a small registry of plotting functions (matplotlib, Agg backend).

A figure function has the signature ``fn(out_path: pathlib.Path, *, seed: int = 0) -> pathlib.Path``:
it draws one deterministic case (from ``seed``), writes a PNG with axes labels, a title and a legend,
and returns the path. Register it with :func:`register_figure`; modules of this package are
registered when their paper's package is imported (:func:`ssl_props.registry.load_papers`), and ``python -m ssl_props report`` writes every registered figure.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

FigureFn = Callable[..., Path]


@dataclass(frozen=True)
class Figure:
    name: str  # file stem, e.g. "balestriero2022_spectrum"
    paper: str  # paper key, e.g. "balestriero2022"
    caption: str
    fn: FigureFn


_FIGURES: dict[str, Figure] = {}


def register_figure(name: str, *, paper: str, caption: str) -> Callable[[FigureFn], FigureFn]:
    """Decorator registering a figure function under ``name``."""

    def deco(fn: FigureFn) -> FigureFn:
        if name in _FIGURES:
            raise ValueError(f"duplicate figure name {name!r}")
        _FIGURES[name] = Figure(name, paper, caption, fn)
        return fn

    return deco


def all_figures() -> tuple[Figure, ...]:
    """Every registered figure, after loading every paper package (a paper registers its own figures)."""
    from ssl_props.registry import load_papers  # the registry finds the papers; figures never name one

    load_papers()
    return tuple(_FIGURES.values())


def new_axes(nrows: int = 1, ncols: int = 1, **kw):
    """A matplotlib figure and axes on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(nrows, ncols, **kw)
