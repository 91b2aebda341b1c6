"""Examples per second of Theorem 3.3 (Garrido et al. 2023) checked one matrix at a time against one
batched call, at equal accuracy.

Both sides run the same float64 property (``check_identity``) on the same 16×16 matrices; each side's
error is the largest relative deviation of its left-hand side ``L_nc + Σ row⁴`` from a tight reference
computed in numpy's extended precision (``longdouble``), printed next to the ratio.

    python benchmarks/bench_duality_sweep.py [--n 16] [--d 16] [--count 4096] [--device cpu|cuda|auto]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from ssl_props.papers.garrido2023.duality import check_identity, identity_residual
from ssl_props.device import resolve_device
from ssl_props.strategies import make_embeddings


def reference_lhs(z: torch.Tensor) -> np.ndarray:
    """L_nc + Σ feature norms⁴ in extended precision (the tight reference)."""
    k = z.detach().cpu().numpy().astype(np.longdouble)
    c = np.swapaxes(k, -2, -1) @ k  # (..., d, d)
    return (c**2).sum((-2, -1))


def max_rel_err(lhs: torch.Tensor, ref: np.ndarray) -> float:
    got = lhs.detach().cpu().numpy().astype(np.longdouble)
    return float(np.max(np.abs(got - ref) / np.abs(ref)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--d", type=int, default=16)
    ap.add_argument("--count", type=int, default=4096)
    ap.add_argument("--device", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    dev = resolve_device(a.device)
    zs = make_embeddings(a.n, a.d, "gaussian", seed=0, batch=(a.count,), device=dev)
    ref = reference_lhs(zs)

    loop_t, batch_t = [], []
    for _ in range(a.repeats):
        t = time.perf_counter()
        lhs_loop = []
        for z in zs:  # the per-example path (what one Hypothesis example costs, minus drawing)
            check_identity(z)
            lhs_loop.append(identity_residual(z)[0])
        if dev.type == "cuda":
            torch.cuda.synchronize()
        loop_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        check_identity(zs)
        lhs_batch = identity_residual(zs)[0]
        if dev.type == "cuda":
            torch.cuda.synchronize()
        batch_t.append(time.perf_counter() - t)
    lt, bt = min(loop_t), min(batch_t)
    print(f"device={dev} torch={torch.__version__} matrices={a.count} shape=({a.n}, {a.d}) float64, best of {a.repeats}")
    print(f"per-example loop: {a.count / lt:12.0f} examples/s   max rel. error vs longdouble {max_rel_err(torch.stack(lhs_loop), ref):.2e}")
    print(f"batched sweep   : {a.count / bt:12.0f} examples/s   max rel. error vs longdouble {max_rel_err(lhs_batch, ref):.2e}")
    print(f"speed-up (batched / loop): {lt / bt:.1f}x")


if __name__ == "__main__":
    main()
