"""Which public names of ``lightly.loss`` and ``solo/losses/*.py`` have no row in the atlas (read from the
installed sources with :mod:`ast`, nothing imported): the page lists them, so that "every loss" is a checked
claim, not a hope. A name listed here needs an ``Entry`` in ``scripts/real_losses.py`` or is not a loss of
embeddings (a layer, a utility)."""
from __future__ import annotations

import ast
from pathlib import Path

from ssl_props.atlas.cache import _module_location
from ssl_props.atlas.entries import AtlasEntry

__all__ = ["exported_losses", "uncovered"]


def _lightly_names(pkg: Path) -> set[str]:
    init = pkg / "__init__.py"
    tree = ast.parse(init.read_text())
    return {a.asname or a.name for node in tree.body if isinstance(node, ast.ImportFrom)
            for a in node.names if not (a.asname or a.name).startswith("_")}


def _solo_names(pkg: Path) -> set[str]:
    out = set()
    for f in sorted(pkg.glob("*.py")):
        if f.name == "__init__.py":
            continue
        for node in ast.parse(f.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                out.add(node.name)
    return out


def exported_losses() -> dict[str, set[str] | None]:
    """``{"lightly": names of lightly.loss, "solo-learn": public functions and classes of solo/losses}``; None
    for a library that is not installed here."""
    out: dict[str, set[str] | None] = {}
    for source, module, read in (("lightly", "lightly.loss", _lightly_names), ("solo-learn", "solo.losses", _solo_names)):
        loc = _module_location(module)
        out[source] = read(loc) if loc is not None and loc.is_dir() else None
    return out


def uncovered(entries: list[AtlasEntry]) -> dict[str, list[str] | None]:
    """Per library, the exported names no entry targets (sorted); None: the library is not installed."""
    have: dict[str, set[str]] = {}
    for e in entries:
        have.setdefault(e.source, set()).add(e.target.rpartition(":")[2].split(".")[-1])
    return {src: None if names is None else sorted(names - have.get(src, set()))
            for src, names in exported_losses().items()}
