"""How long the check_loss battery takes per registered loss, on CPU and (where available) on CUDA.

    python benchmarks/bench_checker.py [--max-examples 25] [--device cpu|cuda|auto|all] [--losses simclr,vicreg]

Prints one row per loss: seconds for the whole battery (reference-free checks, conformance against
itself, "behaves like" search), the number of checks and whether all passed. The budget in the
issue is 20 s per loss on a 2-core CPU with the default profile (25 examples per property).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

from ssl_props.checker import check_loss  # noqa: E402
from ssl_props.checker._target import DEFAULT_MAX_EXAMPLES  # noqa: E402
from ssl_props.losses import LOSSES  # noqa: E402


def bench(device: str, names: list[str], max_examples: int) -> list[tuple[str, float, int, bool]]:
    rows = []
    check_loss(LOSSES["simclr"].fn, like="simclr", device=device, max_examples=2)  # warm-up (imports, kernels)
    for name in names:
        t0 = time.perf_counter()
        report = check_loss(LOSSES[name].fn, like=name, device=device, max_examples=max_examples)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        rows.append((name, time.perf_counter() - t0, len(report.results), report.passed))
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--max-examples", type=int, default=DEFAULT_MAX_EXAMPLES)
    p.add_argument("--device", default="all", help="cpu, cuda, auto or all (cpu, then cuda if available)")
    p.add_argument("--losses", default=",".join(sorted(LOSSES)))
    args = p.parse_args(argv)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) if args.device == "all" else [args.device]
    names = [n for n in args.losses.split(",") if n]
    print(f"torch {torch.__version__}, {os.cpu_count()} CPU cores, intra-op threads during checks: 1, "
          f"max_examples={args.max_examples}")
    worst = 0.0
    for dev in devices:
        label = torch.cuda.get_device_name() if dev.startswith("cuda") else "cpu"
        print(f"\n{'loss':<24}{'device':<28}{'seconds':>8}{'checks':>8}  passed")
        for name, secs, n, ok in bench(dev, names, args.max_examples):
            worst = max(worst, secs) if dev == "cpu" else worst
            print(f"{name:<24}{label:<28}{secs:>8.2f}{n:>8}  {ok}")
    print(f"\nslowest loss on CPU: {worst:.2f} s (budget 20 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
