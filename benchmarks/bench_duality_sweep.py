"""Examples per second of Theorem 3.3 (Garrido et al. 2023) checked one matrix at a time against one
batched call, at equal accuracy.

Both sides run the same float64 property (``check_identity``) on the same 16×16 matrices; each side's
error is the largest relative deviation of its left-hand side ``L_nc + Σ row⁴`` from a tight reference
computed in numpy's extended precision (``longdouble``), printed next to the ratio. Timing: interleaved
rounds, each side repeated to at least 0.5 s per round, median and min–max of the ratio
(:mod:`benchmarks._timing`). The batched side checks ``--chunk`` matrices per call, the batch the
property ``numeric_identity_sweep`` draws per Hypothesis example (``SWEEP_BATCH`` = 256): a call on all
4096 at once is memory-bound on this CPU (its 8 MB intermediates leave the cache; 77k/s against 127k/s
in chunks of 256, 1 thread, measured 2026-12-01).

    python benchmarks/bench_duality_sweep.py [--n 16] [--d 16] [--count 4096] [--device cpu|cuda|auto]
        [--chunk 256] [--rounds 5] [--threads 1]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch
from _timing import add_common_args, header, interleaved, ratio_text, ratios, row, setup

from ssl_props.papers.garrido2023.duality import SWEEP_BATCH, check_identity, identity_residual
from ssl_props.strategies import make_embeddings


def reference_lhs(z: torch.Tensor) -> np.ndarray:
    """L_nc + Σ feature norms⁴ in extended precision (the tight reference)."""
    k = z.detach().cpu().numpy().astype(np.longdouble)
    c = np.swapaxes(k, -2, -1) @ k  # (..., d, d)
    return (c**2).sum((-2, -1))


def max_rel_err(lhs: torch.Tensor, ref: np.ndarray) -> float:
    got = lhs.detach().cpu().numpy().astype(np.longdouble)
    return float(np.max(np.abs(got - ref) / np.abs(ref)))


def main(argv: list[str] | None = None) -> int:
    ap = add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--d", type=int, default=16)
    ap.add_argument("--count", type=int, default=4096)
    ap.add_argument("--chunk", type=int, default=SWEEP_BATCH, help="matrices per batched call")
    a = ap.parse_args(argv)
    dev = setup(a)
    zs = make_embeddings(a.n, a.d, "gaussian", seed=0, batch=(a.count,), device=dev)
    ref = reference_lhs(zs)
    out: dict[str, torch.Tensor] = {}

    def loop() -> None:  # the per-example path (what one Hypothesis example costs, minus drawing)
        lhs = []
        for z in zs:
            check_identity(z)
            lhs.append(identity_residual(z)[0])
        out["loop"] = torch.stack(lhs)

    def batched() -> None:
        lhs = []
        for chunk in zs.split(a.chunk):  # count / chunk calls (16 by default), each one batched property
            check_identity(chunk)
            lhs.append(identity_residual(chunk)[0])
        out["batched"] = torch.cat(lhs)

    t = interleaved({"loop": loop, "batched": batched}, rounds=a.rounds, min_seconds=a.min_seconds, device=dev)
    print(header(dev, a, f"Theorem 3.3 on {a.count} matrices of shape ({a.n}, {a.d}), float64, "
                           f"batched {a.chunk} per call"))
    for name in ("loop", "batched"):
        print(row(f"{'per-example loop' if name == 'loop' else 'batched sweep'}", t[name], a.count,
                  f"max rel. error vs longdouble {max_rel_err(out[name], ref):.2e}"))
    print(f"speed-up (batched / loop), median: {ratio_text(ratios(t['loop'], t['batched']))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
