"""The spectral references' graph signatures, cached on disk across ``ssl-props profile`` runs.

Comparing a loss with ``vicreg_spectral``, ``simclr_graph`` and ``barlow_twins_graph`` needs their profiles on the
same graphs (18 batched optimisations, ~8 s on the project's 2-core CPU): the same answer every run. It is cached
in ``$SSL_PROPS_CACHE`` (default ``~/.cache/ssl-props``) under a key that changes with everything the answer
depends on: the reference, the graph sizes, the number of starts, the device, torch's version and the source
of every module of :mod:`ssl_props.profile` plus ``spectral.py``, ``graphs.py`` and ``tolerances.py``.
``SSL_PROPS_CACHE=off`` disables it. A corrupt or unreadable cache file is ignored (recomputed), never an error.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable

import torch

__all__ = ["cached_signature", "cache_dir"]

_PACKAGE = Path(__file__).resolve().parent
_SOURCES = sorted(_PACKAGE.glob("*.py")) + [_PACKAGE.parent / f for f in ("spectral.py", "graphs.py", "tolerances.py")]


def cache_dir() -> Path | None:
    """Where signatures are kept (``None``: caching is off)."""
    spec = os.environ.get("SSL_PROPS_CACHE", "")
    if spec.lower() in ("off", "0", "no"):
        return None
    return Path(spec) if spec else Path.home() / ".cache" / "ssl-props"


@functools.lru_cache(maxsize=1)
def _source_hash() -> str:
    h = hashlib.sha256(torch.__version__.encode())
    for f in _SOURCES:
        h.update(f.name.encode())
        h.update(f.read_bytes() if f.exists() else b"")
    return h.hexdigest()[:24]


def _key(name: str, sizes: str, starts: int, device: str) -> str:
    return hashlib.sha256(json.dumps([name, sizes, starts, device, _source_hash()]).encode()).hexdigest()[:32]


def cached_signature(name: str, sizes: str, starts: int, device: str,
                     compute: Callable[[], dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The signature from the cache, else ``compute()`` stored for next time (JSON: tuples come back as lists and
    are turned back into tuples, so a cached signature compares equal to a fresh one)."""
    root = cache_dir()
    path = None if root is None else root / f"reference-{name}-{_key(name, sizes, starts, device)}.json"
    if path is not None and path.exists():
        try:
            raw = json.loads(path.read_text())
            return {g: {k: tuple(v) if isinstance(v, list) else v for k, v in sig.items()} for g, sig in raw.items()}
        except (OSError, ValueError, AttributeError):
            pass  # unreadable: recompute
    sig = compute()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(sig))
            tmp.replace(path)
        except OSError:
            pass  # a read-only home: no cache, same answer
    return sig
