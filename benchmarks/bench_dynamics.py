"""Benchmark: the batched simulator (ssl_props.dynamics) against scipy's solve_ivp run once per case.

1000 cases of the linear BYOL model of Tian et al. (2021) (n1 = 4, n2 = 3, learned predictor, EMA target,
drawn data models and hyperparameters), integrated to T = 5. Both sides use an adaptive Dormand-Prince
5(4) at the same rtol/atol (solve_ivp's "RK45" and our "dopri5"); each side's error is measured against
a tight reference (batched dopri5 at rtol 1e-11, itself checked against solve_ivp DOP853 at rtol 1e-12
on the first 20 cases). Timing (:mod:`benchmarks._timing`): interleaved rounds, each side repeated to at
least 0.5 s per round, median and min–max of the per-case speed ratio; the scipy side integrates the
first ``--loop-cases`` cases per round (a per-case cost does not depend on how many are run), the
batched sides all ``--cases``. Usage::

    python benchmarks/bench_dynamics.py [--cases 1000] [--loop-cases 100] [--device cpu|cuda|auto] [--rtol 1e-6]
        [--rounds 5] [--threads 1]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _timing import Timing, add_common_args, header, interleaved, ratio_text, ratios, row, setup
from scipy.integrate import solve_ivp

from ssl_props.dynamics import LinearState, SimConfig, byol_field, pack, simulate, unpack
from ssl_props.dynamics.data_models import make_data_model, make_spectrum, random_init

N1, N2, T = 4, 3, 5.0


def cases(B: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    dm = make_data_model(make_spectrum(N1, 0.5, 2.0, batch=B, generator=g), make_spectrum(N1, 0.0, 1.0, batch=B, generator=g),
                         seed=seed, device="cpu")
    s0 = random_init(N1, N2, B, seed=seed, scale=0.8, device="cpu")
    hp = dict(eta=0.3 * torch.rand(B, generator=g, dtype=torch.float64),
              alpha_p=0.5 + 2 * torch.rand(B, generator=g, dtype=torch.float64),
              beta=0.2 + 2 * torch.rand(B, generator=g, dtype=torch.float64))
    return dm, s0, hp


def batched(dm, s0, hp, cfg):
    dev = cfg.torch_device
    st = LinearState(*(v.to(dev) for v in s0))
    t0 = time.perf_counter()  # batched() also returns its own time (the reference's, printed once)
    tr = simulate(st, dm.X.to(dev), dm.Xp.to(dev), cfg, **{k: v.to(dev) for k, v in hp.items()})
    z = pack(tr.final).cpu()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return z, time.perf_counter() - t0


def per_case(dm, s0, hp, method, rtol, atol, idx):
    z0 = pack(s0)
    out = []
    t0 = time.perf_counter()
    for b in idx:
        X, Xp = dm.X[b], dm.Xp[b]
        kw = {k: float(v[b]) for k, v in hp.items()}

        def f(t, y, X=X, Xp=Xp, kw=kw):  # one case, the same field code, unbatched
            s = unpack(torch.from_numpy(y), N1, N2)
            return pack(byol_field(s, X, Xp, **kw)).numpy()

        r = solve_ivp(f, (0, T), z0[b].numpy(), method=method, rtol=rtol, atol=atol)
        out.append(r.y[:, -1])
    return torch.from_numpy(np.stack(out)), time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--loop-cases", type=int, default=100, help="cases solve_ivp integrates per round")
    ap.add_argument("--rtol", type=float, default=1e-6)
    a = ap.parse_args(argv)
    dev = setup(a)
    dm, s0, hp = cases(a.cases)
    atol = a.rtol * 1e-3
    nl = min(a.loop_cases, a.cases)
    ref, t_ref = batched(dm, s0, hp, SimConfig(t_end=T, method="dopri5", rtol=1e-11, atol=1e-14, device=dev))
    chk, _ = per_case(dm, s0, hp, "DOP853", 1e-12, 1e-14, range(20))
    print(header(dev, a, f"linear BYOL (Tian et al. 2021): {a.cases} cases (scipy: first {nl} per round), "
                         f"T = {T}, n1 = {N1}, n2 = {N2}"))
    print(f"reference: batched dopri5 rtol 1e-11 ({t_ref:.2f} s); vs solve_ivp DOP853 rtol 1e-12 on 20 cases: "
          f"max |diff| = {float((ref[:20] - chk).abs().max()):.2e}")
    res: dict[str, torch.Tensor] = {}
    cfg = {"dopri5": SimConfig(t_end=T, method="dopri5", rtol=a.rtol, atol=atol, device=dev),
           "rk4": SimConfig(t_end=T, method="rk4", dt=0.02, device=dev)}
    sides = {"scipy": lambda: res.__setitem__("scipy", per_case(dm, s0, hp, "RK45", a.rtol, atol, range(nl))[0]),
             "dopri5": lambda: res.__setitem__("dopri5", batched(dm, s0, hp, cfg["dopri5"])[0]),
             "rk4": lambda: res.__setitem__("rk4", batched(dm, s0, hp, cfg["rk4"])[0])}
    t = interleaved(sides, rounds=a.rounds, min_seconds=a.min_seconds, device=dev)
    err = lambda name: float((res[name] - ref[: len(res[name])]).abs().max())  # noqa: E731
    labels = {"scipy": "solve_ivp RK45 once per case", "dopri5": "batched dopri5 (same rtol/atol)",
              "rk4": "batched rk4, dt = 0.02"}
    units = {"scipy": nl, "dopri5": a.cases, "rk4": a.cases}
    for name in sides:
        print(row(labels[name], t[name], units[name], f"max error vs reference {err(name):.2e}"))
    for name in ("dopri5", "rk4"):  # per-case times: the scipy side ran nl cases, the batched ones all
        per_case_scipy = Timing("scipy", 1, [s / nl for s in t["scipy"].seconds])
        per_case_batch = Timing(name, 1, [s / a.cases for s in t[name].seconds])
        print(f"speed-up per case ({labels[name]} / scipy): {ratio_text(ratios(per_case_scipy, per_case_batch))}")
    return 0


if __name__ == "__main__":
    main()
