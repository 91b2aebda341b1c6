"""``ssl-props atlas [--out DIR] [--only PATTERN] [--jobs N] [--timeout S] [--no-cache]``.

Without ``--only`` it writes ``DIR/atlas.md``, ``DIR/atlas.json`` and ``DIR/atlas/*.png`` (``DIR`` defaults
to ``docs``). With ``--only PATTERN`` (a substring or glob of the loss keys, e.g. ``simclr``,
``lightly:*NTXent*``) it prints the selected rows and writes files only when ``--out`` is given, so a
partial run never overwrites the full page. Exit codes: 0 the atlas was written (whatever the losses'
verdicts: a failing check is the atlas's content), 2 a usage error (no loss matches ``--only``).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ssl_props.errors import UsageError

__all__ = ["add_atlas_parser", "run_atlas_command", "build_atlas"]


def add_atlas_parser(sub) -> argparse.ArgumentParser:
    """Register the ``atlas`` subcommand on an ``argparse`` subparsers object."""
    pa = sub.add_parser("atlas", help="check and profile every registered, lightly and solo-learn loss: docs/atlas.md")
    pa.add_argument("--out", default=None, metavar="DIR",
                    help="write DIR/atlas.md, DIR/atlas.json, DIR/atlas/*.png (default docs; with --only: print only)")
    pa.add_argument("--only", default=None, metavar="PATTERN", help="only losses whose key contains PATTERN or matches it as a glob (comma-separated: several)")
    pa.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes (0: in this process)")
    pa.add_argument("--timeout", type=float, default=300.0, metavar="S", help="time limit per loss (check + profile)")
    pa.add_argument("--cache", default=None, metavar="DIR", help="result cache (default .atlas-cache in the repository)")
    pa.add_argument("--no-cache", action="store_true", help="run every loss again (the cache is still written)")
    pa.add_argument("--quiet", action="store_true", help="no progress bar")
    pa.set_defaults(func=run_atlas_command)
    return pa


def build_atlas(entries, *, jobs: int = 1, timeout: float | None = 300.0, cache_dir=None, refresh: bool = False,
                progress: bool | None = None) -> tuple[list[dict], dict]:
    """``(rows, run)``: every entry run (or read from the cache) and turned into a row."""
    from ssl_props.atlas.cache import DEFAULT_CACHE, ResultCache, package_versions
    from ssl_props.atlas.pool import run_entries
    from ssl_props.atlas.rows import build_row

    class _WriteOnly(ResultCache):
        def get(self, key):  # noqa: ARG002 - a refresh reads nothing
            return None

    cache = (_WriteOnly if refresh else ResultCache)(cache_dir or DEFAULT_CACHE)
    results, wall = run_entries(entries, jobs=jobs, timeout=timeout, cache=cache, progress=progress)
    versions = package_versions()
    rows = [build_row(e, r, versions.get(e.package)) for e, r in zip(entries, results)]
    return rows, {"wall_seconds": wall, "jobs": jobs, "timeout": timeout}


def _print_rows(rows: list[dict]) -> None:
    from ssl_props.atlas.render import HEADER, row_cells

    for r in rows:
        print(f"{r['key']}")
        for h, c in zip(HEADER[2:], row_cells(r)[2:]):
            print(f"  {h}: {c.replace('<br>', chr(10) + '    ')}")


def run_atlas_command(args: argparse.Namespace) -> int:
    """Entry point of ``ssl-props atlas``."""
    from ssl_props.atlas.cache import package_versions, sources_hash
    from ssl_props.atlas.entries import all_entries, select
    from ssl_props.atlas.figures import write_figures
    from ssl_props.atlas.render import render_json, render_markdown

    if args.jobs < 0:
        raise UsageError(f"--jobs must be >= 0 (0 runs in this process), got {args.jobs}")
    if args.timeout <= 0:
        raise UsageError(f"--timeout must be > 0 seconds, got {args.timeout:g}")
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # inherited by the spawned workers
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    entries = select(all_entries(), args.only)
    if not entries:
        raise UsageError(f"no loss matches --only {args.only!r}; keys look like ssl-props:simclr, "
                         "lightly:lightly.loss:NTXentLoss, solo-learn:solo.losses.simclr:simclr_loss_func")
    rows, run = build_atlas(entries, jobs=args.jobs, timeout=args.timeout, cache_dir=args.cache, refresh=args.no_cache,
                            progress=False if args.quiet else None)
    if args.only and args.out is None:
        _print_rows(rows)
        print(f"{len(rows)} losses in {run['wall_seconds']:.1f} s (--jobs {args.jobs}); nothing written (--out DIR writes)")
        return 0
    from ssl_props.atlas.coverage import uncovered

    out = Path(args.out or "docs")
    figs = write_figures(rows, out / "atlas")
    rel = [str(p.relative_to(out)).replace(os.sep, "/") for p in figs]
    missing = uncovered(all_entries())
    (out / "atlas.md").write_text(render_markdown(rows, run, rel, missing) + "\n")
    (out / "atlas.json").write_text(render_json(rows, run, package_versions(), sources_hash(), missing) + "\n")
    print(f"wrote {out / 'atlas.md'}, {out / 'atlas.json'} and {len(figs)} figures: {len(rows)} losses in "
          f"{run['wall_seconds']:.1f} s (--jobs {args.jobs})", file=sys.stderr)
    return 0
