"""The layout's rules, checked on the source (issue 11): no import circle among ssl_props' modules, no
mechanism importing a paper, no module much over 400 lines, every paper a package with its records."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "ssl_props"
MAX_LINES = 420  # "about 400 lines" (issue 11)


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module → the ssl_props modules it imports (``from pkg import mod`` counts as importing ``pkg.mod``).

    Every import counts, including ones inside functions: a late import hides a circle, it does not
    remove it."""
    modules = {_module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    deps.add(sub if sub in modules else target)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of modules (first = last), or None (depth-first search, three colours).

    A package's ``__init__`` importing its own submodules is not a circle (Python runs the package first)."""
    colour = dict.fromkeys(graph, 0)
    stack: list[str] = []

    def visit(u: str) -> list[str] | None:
        colour[u] = 1
        stack.append(u)
        for v in sorted(graph[u]):
            if v.startswith(u + "."):  # a package importing its own submodule
                continue
            if colour[v] == 1:
                return stack[stack.index(v):] + [v]
            if colour[v] == 0 and (c := visit(v)):
                return c
        colour[u] = 2
        stack.pop()
        return None

    for u in sorted(graph):
        if colour[u] == 0 and (c := visit(u)):
            return c
    return None


def test_no_import_circle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " → ".join(cycle)


def test_cycle_finder_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_mechanisms_never_import_a_paper():
    offenders = [f"{m} imports {d}" for m, deps in import_graph().items() if not m.startswith("ssl_props.papers")
                 for d in deps if d.startswith("ssl_props.papers")]
    assert not offenders, offenders


@pytest.mark.parametrize("path", sorted(ROOT.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_size(path):
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(ROOT)} has {n} lines (> {MAX_LINES}): split it by what it holds"


def test_every_paper_is_a_package_with_records():
    from ssl_props.registry import all_theorems, paper_keys

    keys = paper_keys()
    assert keys, "no paper package found"
    for key in keys:
        assert (ROOT / "papers" / key / "records.py").is_file(), f"papers/{key}/ has no records.py"
        assert all_theorems(key), f"papers/{key}/ registers no result"
