"""Benchmark: the batched simulator (ssl_props.dynamics) against scipy's solve_ivp run once per case.

1000 cases of the linear BYOL model of Tian et al. (2021) (n1 = 4, n2 = 3, learned predictor, EMA target,
drawn data models and hyperparameters), integrated to T = 5. Both sides use an adaptive Dormand-Prince
5(4) at the same rtol/atol (solve_ivp's "RK45" and our "dopri5"); each side's error is measured against
a tight reference (batched dopri5 at rtol 1e-11, itself checked against solve_ivp DOP853 at rtol 1e-12
on the first 20 cases). Usage::

    python benchmarks/bench_dynamics.py [--cases 1000] [--device cpu|cuda|auto] [--rtol 1e-6]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.integrate import solve_ivp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ssl_props.device import resolve_device  # noqa: E402
from ssl_props.dynamics import LinearState, SimConfig, byol_field, pack, simulate, unpack  # noqa: E402
from ssl_props.dynamics.data_models import make_data_model, make_spectrum, random_init  # noqa: E402

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
    t0 = time.perf_counter()
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (scipy runs on one)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dev = resolve_device(a.device)
    dm, s0, hp = cases(a.cases)
    atol = a.rtol * 1e-3
    ref, t_ref = batched(dm, s0, hp, SimConfig(t_end=T, method="dopri5", rtol=1e-11, atol=1e-14, device=dev))
    chk, _ = per_case(dm, s0, hp, "DOP853", 1e-12, 1e-14, range(20))
    print(f"reference: batched dopri5 rtol 1e-11 ({t_ref:.2f} s); vs solve_ivp DOP853 rtol 1e-12 on 20 cases: "
          f"max |diff| = {float((ref[:20] - chk).abs().max()):.2e}")
    ours, t_ours = batched(dm, s0, hp, SimConfig(t_end=T, method="dopri5", rtol=a.rtol, atol=atol, device=dev))
    rk4, t_rk4 = batched(dm, s0, hp, SimConfig(t_end=T, method="rk4", dt=0.02, device=dev))
    sc, t_sc = per_case(dm, s0, hp, "RK45", a.rtol, atol, range(a.cases))
    err = lambda z: float((z - ref).abs().max())  # noqa: E731
    print(f"{a.cases} cases, T = {T}, n1 = {N1}, n2 = {N2}, device = {dev}, torch {torch.__version__}, "
          f"threads = {torch.get_num_threads()}")
    print(f"{'method':<40} {'time [s]':>9} {'max error':>10} {'speed-up':>9}")
    print(f"{'solve_ivp RK45 once per case':<40} {t_sc:9.2f} {err(sc):10.2e} {1.0:9.1f}")
    print(f"{'batched dopri5 (same rtol/atol)':<40} {t_ours:9.2f} {err(ours):10.2e} {t_sc / t_ours:9.1f}")
    print(f"{'batched rk4, dt = 0.02':<40} {t_rk4:9.2f} {err(rk4):10.2e} {t_sc / t_rk4:9.1f}")


if __name__ == "__main__":
    main()
