"""``ssl-props profile`` speed: one profile end to end; batched starts vs a per-start loop; dynamics batched
over seeds vs a per-seed loop. Each ratio is printed next to each side's error against a tight reference.

1. ``profile_loss(NAME)`` at the default sizes (6 graphs × 16 starts, 3 target modes × 8 seeds × 550 GD
   steps for a two-argument loss, comparison with the 3 spectral references): wall time (target ≤ 30 s
   on the project's 2-core CPU).
2. Starts: the profile's objective (VICReg spectral on the augmentation graph N'=4, V=2, K=3) from S starts
   in ONE L-BFGS call, the loss batched by ``vmap``, vs one call per start; plus the vmap fallback (the
   same one call, the loss evaluated by a Python loop over starts). Error: worst |f − f⋆| against
   ``vicreg_closed_form_loss``.
3. Seeds: full-batch GD of the linear model through ``½ mean‖p − sg(z)‖²`` for S seeds, one vmapped
   forward + one backward per step, vs the same seeds one by one. Error: worst |W − W_ref| against the
   closed-form field of Tian et al.'s Lemma 1 (``ssl_props.dynamics.fields.byol_field``) iterated by Euler
   with the same step (the GD of that loss IS that scheme on the exact-moment sample).

4. Threads: one graph of the profile (NT-Xent, τ = 0.5, natural batch of G(N'=4, V=2), K = 2, 16 starts)
   with the thread count :func:`ssl_props.device.threads_for` picks for it (one thread: the largest batched
   tensor has S·N·K = 256 elements, below 2^20) vs torch's default pool. Error: |f⋆ − f_ref| against
   a tight reference (64 starts, gtol 1e-12).

Timing: interleaved rounds, each side repeated to at least 0.5 s per round, median and min–max of the ratio.

    python benchmarks/bench_profile.py [--starts 64] [--seeds 128] [--rounds 5] [--device cpu|cuda|auto] [--skip-profile]
"""
from __future__ import annotations

import argparse
import time

import torch
from _timing import add_common_args, header, interleaved, ratio_text, ratios, row, setup

from ssl_props.dynamics.fields import LinearState, byol_field
from ssl_props.graphs import augmentation_graph
from ssl_props.profile import profile_loss
from ssl_props.profile.dynamics import DynamicsConfig, _init, train_seeds
from ssl_props.profile.graph_losses import graph_objective
from ssl_props.spectral import lbfgs, vicreg_closed_form_loss, vicreg_spectral_loss


DEFAULT_POOL = torch.get_num_threads()  # torch's default pool, read before setup() pins --threads


def l2(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    return 0.5 * (p - z).square().sum(-1).mean()


def bench_starts(a, dev) -> None:
    g, k, gamma = augmentation_graph(4, 2, device=dev), 3, 0.4
    fstar = float(vicreg_closed_form_loss(g, k, gamma=gamma))
    obj = graph_objective(lambda z, gg: vicreg_spectral_loss(z, gg, gamma=gamma), g, form="graph", graph="aug 4x2")
    x0 = torch.randn(a.starts, g.shape[0], k, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).to(dev)
    obj.choose_batching(x0)
    assert obj.batching == "vmap", obj.batching
    loop_obj = graph_objective(obj.fn, g, form="graph", graph="aug 4x2")
    loop_obj.batching = "loop (forced)"
    res: dict[str, torch.Tensor] = {}
    sides = {
        "per-start loop": lambda: res.__setitem__("per-start loop", torch.cat([lbfgs(obj, x0[i:i + 1], gtol=1e-10)[0] for i in range(a.starts)])),
        "batched (vmap)": lambda: res.__setitem__("batched (vmap)", lbfgs(obj, x0, gtol=1e-10)[0]),
        "batched (loop fallback)": lambda: res.__setitem__("batched (loop fallback)", lbfgs(loop_obj, x0, gtol=1e-10)[0]),
    }
    t = interleaved(sides, rounds=a.rounds, min_seconds=a.min_seconds, device=dev)
    print(header(dev, a, f"starts: VICReg spectral on G(N'=4, V=2), K={k}, S={a.starts}, f* = {fstar:.12g}"))
    for name in sides:
        with torch.no_grad():
            err = float((obj(res[name]) - fstar).abs().max())
        print(row(name, t[name], a.starts, f"max|f − f*| = {err:.2e}"))
    print(f"speed-up batched (vmap) / per-start loop, median: {ratio_text(ratios(t['per-start loop'], t['batched (vmap)']))}")
    print(f"fallback cost: batched (loop fallback) / batched (vmap): {ratio_text(ratios(t['batched (loop fallback)'], t['batched (vmap)']))}")


def reference_trajectory(cfg: DynamicsConfig, steps: int, dev, lr: torch.Tensor) -> torch.Tensor:
    """Euler on Lemma 1's closed-form field (SimSiam: W_a = W, learned predictor) with the GD step of each seed
    (``lr``: the profile's start step min(cfg.lr, 1.9/λ̂) per seed, constant over these steps for the L2 loss)."""
    d = len(cfg.sigma2)
    w, wp = _init(cfg, d, torch.float64, dev)
    X = torch.eye(d, dtype=torch.float64, device=dev).expand(cfg.seeds, d, d)
    Xp = torch.diag(torch.tensor(cfg.sigma2, dtype=torch.float64, device=dev)).expand(cfg.seeds, d, d)
    h = lr.to(dev).reshape(-1, 1, 1)
    for _ in range(steps):
        dw, dwp, _ = byol_field(LinearState(w, wp, w), X, Xp, eta=cfg.eta, beta=None)
        w, wp = w + h * dw, wp + h * dwp
    return w


def bench_seeds(a, dev) -> None:
    cfg = DynamicsConfig(seeds=a.seeds)
    steps = a.steps
    ref = reference_trajectory(cfg, steps, dev, train_seeds(l2, cfg, "stop_gradient", device=dev, steps=steps).lr_start)
    res: dict[str, torch.Tensor] = {}
    sides = {
        "per-seed loop": lambda: res.__setitem__("per-seed loop", train_seeds(l2, cfg, "stop_gradient", device=dev, batched=False, steps=steps)[0]),
        "batched (vmap)": lambda: res.__setitem__("batched (vmap)", train_seeds(l2, cfg, "stop_gradient", device=dev, steps=steps)[0]),
    }
    t = interleaved(sides, rounds=a.rounds, min_seconds=a.min_seconds, device=dev)
    print(header(dev, a, f"seeds: linear SimSiam GD, d={len(cfg.sigma2)}, n={cfg.n}, S={cfg.seeds}, {steps} steps"))
    for name in sides:
        print(row(name, t[name], cfg.seeds, f"max|W − W_ref| = {float((res[name] - ref).abs().max()):.2e}"))
    print(f"speed-up batched / per-seed loop, median: {ratio_text(ratios(t['per-seed loop'], t['batched (vmap)']))}")


def bench_threads(a, dev) -> None:
    import functools

    import ssl_props.device as device_mod
    from ssl_props.losses import LOSSES
    from ssl_props.profile.optimum import GraphSpec, optimise_on_graph

    fn = functools.partial(LOSSES["simclr"].fn, temperature=0.5)
    spec = GraphSpec("aug 4x2 K=2", "augmentation", augmentation_graph(4, 2, device=dev), 2,
                     torch.arange(4).repeat(2), 4, 2)
    ref = optimise_on_graph(fn, spec, starts=64, gtol=1e-12).loss
    default_threads = DEFAULT_POOL
    res: dict[str, float] = {}

    def run(name: str, limit: int) -> None:
        before, threads = device_mod.SMALL_PROBLEM_ELEMENTS, torch.get_num_threads()
        device_mod.SMALL_PROBLEM_ELEMENTS = limit
        torch.set_num_threads(default_threads)  # what a user's process starts with
        try:
            with device_mod.threads_for(16 * 8 * 2):
                res[name] = optimise_on_graph(fn, spec, starts=16).loss
        finally:
            device_mod.SMALL_PROBLEM_ELEMENTS = before
            torch.set_num_threads(threads)
    sides = {f"torch default ({default_threads} threads)": lambda: run(f"torch default ({default_threads} threads)", 0),
             "threads_for (1 thread)": lambda: run("threads_for (1 thread)", device_mod.SMALL_PROBLEM_ELEMENTS)}
    t = interleaved(sides, rounds=a.rounds, min_seconds=a.min_seconds, device=dev)
    print(header(dev, a, f"threads: NT-Xent on the natural batch of G(N'=4, V=2), K=2, 16 starts, f_ref = {ref:.12g}"))
    for name in sides:
        print(row(name, t[name], 1, f"|f* − f_ref| = {abs(res[name] - ref):.2e}"))
    names = list(sides)
    print(f"speed-up one thread / default pool, median: {ratio_text(ratios(t[names[0]], t[names[1]]))}")


def main(argv: list[str] | None = None) -> int:
    ap = add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    ap.add_argument("--starts", type=int, default=64)
    ap.add_argument("--seeds", type=int, default=128)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--skip-profile", action="store_true")
    a = ap.parse_args(argv)
    dev = setup(a)
    if not a.skip_profile:
        for name in ("vicreg_spectral", "simclr", "dcl", "vicreg", "barlow_twins", "simsiam", "byol"):
            t0 = time.perf_counter()
            prof = profile_loss(name, device=dev, progress=False)
            print(f"profile_loss({name!r}) default sizes on {dev}: {time.perf_counter() - t0:.1f} s "
                  f"({', '.join(f'{k} {v:.1f} s' for k, v in prof.seconds.items())}); passed={prof.passed}")
    bench_threads(a, dev)
    bench_starts(a, dev)
    bench_seeds(a, dev)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
