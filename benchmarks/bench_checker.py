"""How long the check_loss battery takes per registered loss, on CPU and (where available) on CUDA.

    python benchmarks/bench_checker.py [--max-examples 25] [--device cpu|cuda|auto|all] [--losses simclr,vicreg]
        [--rounds 5] [--threads 1]

Prints one row per loss: seconds for the whole battery (reference-free checks, conformance against
itself, "behaves like" search) as the median and min–max over interleaved rounds (loss 1, loss 2, ...,
loss 1, loss 2, ...; :mod:`benchmarks._timing`), the number of checks and whether every round passed.
A battery is a verdict, not a number, so there is no error column: the "reference" is the loss itself
(conformance against its own registered reference must pass). With ``--device all`` on a CUDA machine
it also prints the CPU / CUDA ratio per loss (median, min–max over the paired rounds). The budget in
the issue is 20 s per loss on a 2-core CPU with the default profile (25 examples per property).
"""
from __future__ import annotations

import argparse
import os
import sys

import torch
from _timing import add_common_args, interleaved, ratio_text, ratios, setup

from ssl_props.checker import check_loss
from ssl_props.checker._target import DEFAULT_MAX_EXAMPLES
from ssl_props.losses import LOSSES


def main(argv: list[str] | None = None) -> int:
    p = add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    p.set_defaults(device="all")
    p.add_argument("--max-examples", type=int, default=DEFAULT_MAX_EXAMPLES)
    p.add_argument("--losses", default=",".join(sorted(LOSSES)))
    args = p.parse_args(argv)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) if args.device == "all" else [args.device]
    device_arg, args.device = args.device, devices[0]
    setup(args)
    args.device = device_arg
    names = [n for n in args.losses.split(",") if n]
    unknown = [n for n in names if n not in LOSSES]
    if unknown:
        raise SystemExit(f"error: unknown losses {unknown}; use names from {sorted(LOSSES)}")
    print(f"torch {torch.__version__}, {os.cpu_count()} CPU cores, threads={torch.get_num_threads()}, "
          f"max_examples={args.max_examples}, rounds={args.rounds} (interleaved over losses and devices)")
    verdicts: dict[str, list[tuple[int, bool]]] = {}

    def battery(name: str, dev: str):
        def run() -> None:
            report = check_loss(LOSSES[name].fn, like=name, device=dev, max_examples=args.max_examples)
            verdicts.setdefault(f"{name}@{dev}", []).append((len(report.results), report.passed))
        return run

    for dev in devices:  # warm-up (imports, kernels) once per device, not once per loss
        check_loss(LOSSES["simclr"].fn, like="simclr", device=dev, max_examples=2)
    sides = {f"{n}@{d}": battery(n, d) for d in devices for n in names}
    t = interleaved(sides, rounds=args.rounds, min_seconds=args.min_seconds, warmup=False,
                    device=torch.device("cuda") if "cuda" in devices else None)
    worst = 0.0
    for dev in devices:
        label = torch.cuda.get_device_name() if dev.startswith("cuda") else "cpu"
        print(f"\n{'loss':<24}{'device':<28}{'median s':>9}{'min–max s':>16}{'checks':>8}  passed (every round)")
        for n in names:
            k = f"{n}@{dev}"
            worst = max(worst, t[k].median) if dev == "cpu" else worst
            checks, ok = verdicts[k][-1][0], all(v[1] for v in verdicts[k])
            print(f"{n:<24}{label:<28}{t[k].median:>9.2f}{t[k].spread():>16}{checks:>8}  {ok}")
    if len(devices) == 2:
        print("\nCPU / CUDA time ratio per loss, median (min–max over paired rounds):")
        for n in names:
            print(f"  {n:<22} {ratio_text(ratios(t[f'{n}@cpu'], t[f'{n}@cuda']))}")
    print(f"\nslowest loss on CPU (median): {worst:.2f} s (budget 20 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
