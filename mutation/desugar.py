"""Undecorate module-level functions in the mutation copy, so that mutmut mutates them too.

mutmut 3 never mutates a decorated function (its trampoline would be built around the decorator's
result). Most of the mathematics here is decorated: every registered loss (``@register_loss``) and every
sympy derivation (``@lru_cache``). In the copy only (never in ``ssl_props/``), ``desugar(path)`` rewrites

    @register_loss("simclr", ...)          ->   (blank lines)
    def simclr(...): ...                   ->   def simclr(...): ...
                                           ->   ... at the end of the module:
                                                simclr = register_loss("simclr", ...)(simclr)

which is what the decorator syntax means, applied at the end of the module instead of right after the
definition (so every line keeps its number, and the report's lines are the source's). It is done only for
the decorators of ``DECORATORS``, whose functions nothing at module level calls before the end.
"""
from __future__ import annotations

import ast
from pathlib import Path

DECORATORS = {"register_loss", "lru_cache", "composite"}  # composite: hypothesis' st.composite


def _name(deco: ast.expr) -> str:
    node = deco.func if isinstance(deco, ast.Call) else deco
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def desugar(path: Path) -> list[str]:
    """Rewrite ``path`` in place (a file of the copy); return the names of the functions undecorated."""
    text = path.read_text()
    lines = text.splitlines()
    tail, done = [], []
    for node in ast.parse(text).body:
        if not isinstance(node, ast.FunctionDef) or not node.decorator_list:
            continue
        if not all(_name(d) in DECORATORS for d in node.decorator_list):
            continue
        first = node.decorator_list[0].lineno
        applied = node.name
        for deco in reversed(node.decorator_list):
            applied = f"{ast.get_source_segment(text, deco)}({applied})"
        for i in range(first - 1, node.lineno - 1):
            lines[i] = ""
        tail.append(f"{node.name} = {applied}")
        done.append(node.name)
    if tail:
        lines += ["", "# mutation/desugar.py: the decorators of this module, applied here (same meaning)"] + tail
        path.write_text("\n".join(lines) + "\n")
    return done
