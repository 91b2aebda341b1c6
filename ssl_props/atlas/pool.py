"""Run the atlas's entries: cached results first, the rest over a process pool, with a progress bar.

* ``jobs >= 1``: a :class:`concurrent.futures.ProcessPoolExecutor` of ``jobs`` spawned workers, each with one
  torch thread (:func:`~ssl_props.atlas.worker.init_worker`); ``jobs = 0`` runs in this process (tests).
* A worker that dies (out of memory, a signal) breaks the pool: the entries it took down are rerun one at a
  time in a fresh single-worker pool, so the one that kills its worker is named and the others still run.
* A worker that never comes back (a loss stuck in C code past the ``SIGALRM`` limit) is killed after
  ``timeout + GRACE`` seconds without any result, and its entries are rerun one at a time the same way.
* Every finished result is cached (:class:`~ssl_props.atlas.cache.ResultCache`), except a worker's death.
"""
from __future__ import annotations

import multiprocessing
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Callable

from ssl_props.atlas.cache import ResultCache, entry_key
from ssl_props.atlas.entries import AtlasEntry
from ssl_props.atlas.worker import init_worker, run_entry

__all__ = ["run_entries", "GRACE"]

#: seconds past the time limit before a silent worker is killed (the SIGALRM limit lands between Python bytecodes)
GRACE = 60.0


def _died(entry: AtlasEntry, why: str) -> dict:
    line = f"the worker process {why}"
    return {"key": entry.key, "check": {"outcome": "worker died", "line": line},
            "profile": {"outcome": "not run", "line": f"not run: {line}"}, "profile_command": None, "seconds": {}}


def _kill(pool: ProcessPoolExecutor) -> None:
    for p in list((getattr(pool, "_processes", None) or {}).values()):  # only this pool's own workers
        if p.is_alive():
            p.kill()


def _pool(jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"), initializer=init_worker)


def _run_pool(todo: list[AtlasEntry], jobs: int, timeout: float | None, done: Callable[[AtlasEntry, dict], None]
              ) -> list[AtlasEntry]:
    """Run ``todo`` on ``jobs`` workers, ``done(entry, result)`` per result; returns the entries a broken pool lost."""
    lost: list[AtlasEntry] = []
    limit = None if timeout is None else timeout + GRACE
    pool = _pool(min(jobs, len(todo)))
    try:
        futs: dict[Future, AtlasEntry] = {pool.submit(run_entry, e.to_spec(), timeout): e for e in todo}
        pending = set(futs)
        while pending:
            finished, pending = wait(pending, timeout=limit, return_when=FIRST_COMPLETED)
            if not finished:  # no result for timeout + GRACE seconds: a worker is stuck outside Python
                _kill(pool)
                continue
            for f in finished:
                try:
                    done(futs[f], f.result())
                except BrokenProcessPool:
                    lost.append(futs[f])
    finally:
        _kill(pool) if lost else None
        pool.shutdown(wait=True, cancel_futures=True)
    return lost


def _run_alone(entry: AtlasEntry, timeout: float | None) -> dict:
    """``entry`` in a fresh single-worker pool: its worker's death or silence is its own."""
    pool = _pool(1)
    try:
        fut = pool.submit(run_entry, entry.to_spec(), timeout)
        try:
            return fut.result(timeout=None if timeout is None else timeout + GRACE)
        except TimeoutError:
            _kill(pool)
            return _died(entry, f"did not return within {timeout:g} s + {GRACE:g} s and was killed "
                                "(the loss did not return to Python)")
        except BrokenProcessPool:
            code = next((p.exitcode for p in (getattr(pool, "_processes", None) or {}).values()), None)
            return _died(entry, "died" + (f" (exit code {code}: killed by a signal, e.g. out of memory)"
                                          if code is not None and code < 0 else " (out of memory or a signal)"))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_entries(entries: list[AtlasEntry], *, jobs: int = 1, timeout: float | None = 120.0,
                cache: ResultCache | None = None, progress: bool | None = None) -> tuple[list[dict], float]:
    """``(results, seconds)``: the result of every entry (in ``entries``' order), each with ``cached`` (reused
    from ``cache``), and the wall time of the run."""
    from tqdm import tqdm

    cache = cache or ResultCache(None)
    keys = {e.key: entry_key(e, timeout) for e in entries}
    results: dict[str, dict] = {}
    for e in entries:
        hit = cache.get(keys[e.key])
        if hit is not None and hit.get("key") == e.key:
            results[e.key] = {**hit, "cached": True}
    todo = [e for e in entries if e.key not in results]
    bar = tqdm(total=len(entries), initial=len(results), file=sys.stderr, desc="ssl-props atlas", unit="loss",
               disable=not (sys.stderr.isatty() if progress is None else progress), dynamic_ncols=True)

    def done(entry: AtlasEntry, result: dict) -> None:
        if result["check"].get("outcome") != "worker died":
            cache.put(keys[entry.key], result)
        results[entry.key] = {**result, "cached": False}
        bar.set_postfix_str(f"{entry.name} {result['seconds'].get('total', 0):.0f}s", refresh=False)
        bar.update()

    t0 = time.perf_counter()
    try:
        if jobs <= 0:
            for e in todo:
                done(e, run_entry(e.to_spec(), timeout))
        elif todo:
            for e in _run_pool(todo, jobs, timeout, done):
                done(e, _run_alone(e, timeout))
    finally:
        bar.close()
    return [results[e.key] for e in entries], round(time.perf_counter() - t0, 2)
