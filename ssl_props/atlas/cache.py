"""The atlas's result cache (``.atlas-cache/`` in the repository root, gitignored).

A result is reused when nothing that decides it changed. Its key hashes:

* the entry (target, documented flags, declared failures) and the time limit;
* the loss's source: the files of the package directory its module lives in (``lightly/loss/``,
  ``solo/losses/``), found without importing the package; for a registered loss, its module's file;
* the versions of torch, lightly, solo-learn and ssl-props;
* the project's sources: every ``ssl_props/**/*.py`` except the atlas's rendering and figure code (a change of
  the page's layout re-renders, it does not rerun the losses), plus :data:`~ssl_props.atlas.worker.RUNNER_VERSION`.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
from pathlib import Path

from ssl_props.atlas.entries import REPO_ROOT, AtlasEntry

__all__ = ["DEFAULT_CACHE", "ResultCache", "entry_key", "sources_hash", "package_versions", "loss_source_hash"]

DEFAULT_CACHE = REPO_ROOT / ".atlas-cache"
PACKAGE_DIR = Path(__file__).resolve().parents[1]
#: atlas modules that only present results: changing them does not invalidate a result
PRESENTATION = ("atlas/render.py", "atlas/figures.py", "atlas/command.py", "atlas/pool.py", "atlas/rows.py",
                "atlas/cache.py", "atlas/coverage.py")
DISTRIBUTIONS = ("torch", "lightly", "solo-learn", "ssl-props")


def _hash_files(paths: list[Path], root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.relative_to(root)).encode())
        h.update(b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()


@functools.lru_cache(maxsize=None)
def sources_hash(package_dir: Path = PACKAGE_DIR) -> str:
    """sha256 of the project's Python sources (the instruments whose verdicts the atlas shows)."""
    files = [p for p in package_dir.rglob("*.py")
             if "__pycache__" not in p.parts and str(p.relative_to(package_dir)).replace(os.sep, "/") not in PRESENTATION]
    return _hash_files(files, package_dir)


@functools.lru_cache(maxsize=None)
def package_versions() -> dict[str, str | None]:
    """The installed version of each distribution that decides a result (None: not installed)."""
    out: dict[str, str | None] = {}
    for d in DISTRIBUTIONS:
        try:
            out[d] = importlib.metadata.version(d)
        except importlib.metadata.PackageNotFoundError:
            out[d] = None
    return out


def _module_location(module: str) -> Path | None:
    """The file or package directory of ``module`` (``a.b.c``), found without importing ``a``."""
    top, *rest = module.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    base = Path(spec.submodule_search_locations[0]) if spec.submodule_search_locations else (
        Path(spec.origin) if spec.origin else None)
    if base is None or not rest:
        return base
    cand = base.joinpath(*rest)
    return cand if cand.is_dir() else cand.with_suffix(".py") if cand.with_suffix(".py").is_file() else None


@functools.lru_cache(maxsize=None)
def loss_source_hash(target: str) -> str:
    """sha256 of the sources of ``package.module:attr``: every ``*.py`` of the directory holding the module
    (a loss imports its siblings); ``"missing"`` when the module is not installed here."""
    module = target.rpartition(":")[0]
    loc = _module_location(module)
    if loc is None:
        return "missing"
    folder = loc if loc.is_dir() else loc.parent
    return _hash_files([p for p in folder.rglob("*.py") if "__pycache__" not in p.parts], folder)


def entry_key(entry: AtlasEntry, timeout: float | None) -> str:
    """The cache key of ``entry``'s result under ``timeout``."""
    from ssl_props.atlas.worker import RUNNER_VERSION

    blob = json.dumps({"entry": entry.to_spec(), "timeout": timeout, "loss": loss_source_hash(entry.target),
                       "versions": package_versions(), "sources": sources_hash(), "runner": RUNNER_VERSION},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


class ResultCache:
    """One JSON file per result, ``DIR/<key>.json`` (written atomically: a killed run leaves no half file)."""

    def __init__(self, directory: Path | str | None = DEFAULT_CACHE):
        self.dir = None if directory is None else Path(directory)

    def get(self, key: str) -> dict | None:
        if self.dir is None:
            return None
        path = self.dir / f"{key}.json"
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return None

    def put(self, key: str, result: dict) -> None:
        if self.dir is None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / f".{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(result))
        os.replace(tmp, self.dir / f"{key}.json")
