"""Timing that holds still on a shared machine: the one helper every benchmark in this folder uses.

* each side is a zero-argument callable doing one unit of work; it is repeated inside a round until the
  round lasts at least ``min_seconds`` (the repeat count is calibrated once, from a warm-up call), so a
  40 ms batched call is never timed alone;
* the rounds interleave (side A, side B, side A, side B, ...), so a slow patch of the machine hits both
  sides alike, and the ratio is taken round by round (paired);
* what is quoted is the median over at least 5 rounds, with the min–max spread.

Also :func:`add_common_args` (``--device`` / ``$SSL_PROPS_DEVICE``, ``--rounds``, ``--min-seconds``,
``--threads``) and :func:`setup` (device, torch threads), shared by the scripts.

Threads default to 1: on the project's 2-core machine shared with other engineers' test runs, torch's
intra-op thread pool competing with other processes made a batched call up to 100x slower (measured
2026-12-01: 120k matrices/s with 1 thread, 1.6k–11k with 2); one thread for both sides is the fair,
stable comparison. ``--threads 0`` keeps torch's default.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

ROUNDS = 5
MIN_SECONDS = 0.5


@dataclass
class Timing:
    """Per-unit seconds of one side, one entry per round."""

    name: str
    repeats: int
    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def spread(self) -> str:
        return f"{min(self.seconds):.4g}–{max(self.seconds):.4g}"


def _sync(device: torch.device | None) -> None:
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize(device)


def _round(fn: Callable[[], Any], repeats: int, device: torch.device | None) -> float:
    _sync(device)
    t = time.perf_counter()
    for _ in range(repeats):
        fn()
    _sync(device)
    return (time.perf_counter() - t) / repeats


def interleaved(sides: dict[str, Callable[[], Any]], *, rounds: int = ROUNDS, min_seconds: float = MIN_SECONDS,
                device: torch.device | None = None, warmup: bool = True) -> dict[str, Timing]:
    """Time each side (one unit of work per call) over ``rounds`` interleaved rounds of ≥ ``min_seconds``.

    Calibration: one untimed warm-up call (``warmup=False`` skips it, for sides of seconds that the
    caller warmed up), then one timed call; a round repeats the unit ``ceil(min_seconds / that time)``
    times (at least once)."""
    if rounds < 1 or min_seconds <= 0:
        raise ValueError(f"need rounds >= 1 and min_seconds > 0, got rounds={rounds}, min_seconds={min_seconds}")
    repeats = {}
    for name, fn in sides.items():
        if warmup:
            fn()  # warm-up: imports, kernels, caches
        once = _round(fn, 1, device)
        repeats[name] = max(1, -int(-min_seconds // max(once, 1e-9)))
    out = {name: Timing(name, repeats[name], []) for name in sides}
    for _ in range(rounds):
        for name, fn in sides.items():
            out[name].seconds.append(_round(fn, repeats[name], device))
    return out


def ratios(slow: Timing, fast: Timing) -> list[float]:
    """``slow / fast`` round by round (the rounds were interleaved, so each pair saw the same machine)."""
    return [s / f for s, f in zip(slow.seconds, fast.seconds)]


def ratio_text(r: list[float]) -> str:
    return f"{statistics.median(r):.1f}x (min–max {min(r):.1f}–{max(r):.1f}x over {len(r)} rounds)"


def add_common_args(ap: argparse.ArgumentParser, *, threads: int = 1) -> argparse.ArgumentParser:
    ap.add_argument("--device", default=None, help="cpu, cuda, cuda:N or auto (default: $SSL_PROPS_DEVICE or cpu)")
    ap.add_argument("--rounds", type=int, default=ROUNDS, help=f"interleaved rounds (default {ROUNDS})")
    ap.add_argument("--min-seconds", type=float, default=MIN_SECONDS, help="least seconds per side and round")
    ap.add_argument("--threads", type=int, default=threads, help="torch intra-op threads (0: torch's default)")
    return ap


def setup(args: argparse.Namespace) -> torch.device:
    """Resolve the device (``--device`` or ``$SSL_PROPS_DEVICE``) and set torch's thread count."""
    from ssl_props.device import resolve_device

    if args.rounds < 5:
        print(f"note: {args.rounds} rounds; quote figures from at least 5", file=sys.stderr)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    try:
        return resolve_device(args.device)
    except ValueError as e:
        raise SystemExit(f"error: {e}") from None


def header(device: torch.device, args: argparse.Namespace, what: str) -> str:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    return (f"{what}\ndevice={device} ({name}) torch={torch.__version__} threads={torch.get_num_threads()} "
            f"rounds={args.rounds} (interleaved, each side >= {args.min_seconds:g} s per round)")


def row(label: str, timing: Timing, units: int, error: str) -> str:
    """One side: units per second (median, min–max over rounds) and its error against the reference."""
    per = [units / s for s in timing.seconds]
    return (f"{label:<34} {units / timing.median:>12.1f}/s  (min–max {min(per):.1f}–{max(per):.1f}, "
            f"x{timing.repeats} per round)  {error}")
