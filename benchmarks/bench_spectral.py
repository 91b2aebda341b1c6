"""Batched multi-start L-BFGS vs a per-start loop on the VICReg (spectral) closed-form check.

Balestriero & LeCun (2022, arXiv:2205.11508): minimising VICReg from many random starts must reach the
closed form Z⋆ = √N U_K diag(√(1 − γλ/β)_+). Both sides run the same optimiser (``ssl_props.spectral.lbfgs``)
to the same stopping criterion ‖∇f‖ ≤ gtol; the batched side advances all starts in one call, the loop
side calls it once per start. Errors are against the closed form (the tight reference): |f − f⋆| and
‖HZZᵀH − HZ⋆Z⋆ᵀH‖_F, worst start. Timing: interleaved rounds, each side repeated to at least 0.5 s per
round, median and min–max of the ratio (:mod:`benchmarks._timing`).

    python benchmarks/bench_spectral.py [--starts 64] [--rounds 5] [--threads 1] [--device cpu|cuda|auto]
"""
from __future__ import annotations

import argparse

import torch
from _timing import add_common_args, header, interleaved, ratio_text, ratios, row, setup

from ssl_props.graphs import planted_graphs
from ssl_props.spectral import centred_gram, lbfgs, vicreg_closed_form, vicreg_spectral_loss


def problem(device: torch.device):
    """Four planted clusters of four nodes (N = 16, K = 3, certified eigengap ≥ 1), γ/β = 0.3."""
    from hypothesis import find, settings
    pg = find(planted_graphs(4, 4, connected=True, device=device), lambda _: True, settings=settings(database=None))
    g, k, gamma = pg.g, 3, 0.3 / max(pg.low_bound, 1.0)
    return g, k, gamma, vicreg_closed_form(g, k, gamma=gamma)


def errors(fun, z: torch.Tensor, zs: torch.Tensor) -> tuple[float, float]:
    f = float((fun(z) - fun(zs[None])).abs().max())
    return f, float((centred_gram(z) - centred_gram(zs)).norm(dim=(-2, -1)).max())


def main(argv: list[str] | None = None) -> int:
    ap = add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    ap.add_argument("--starts", type=int, default=64)
    ap.add_argument("--gtol", type=float, default=1e-9)
    a = ap.parse_args(argv)
    dev = setup(a)
    g, k, gamma, zs = problem(dev)
    fun = lambda z: vicreg_spectral_loss(z, g, gamma=gamma)  # noqa: E731
    x0 = torch.randn(a.starts, g.shape[0], k, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).to(dev)
    res: dict[str, list] = {}

    def batched() -> None:  # all starts in one call
        res["batched"] = [lbfgs(fun, x0, gtol=a.gtol)]

    def loop() -> None:  # one call per start
        res["loop"] = [lbfgs(fun, x0[i:i + 1], gtol=a.gtol) for i in range(a.starts)]

    t = interleaved({"loop": loop, "batched": batched}, rounds=a.rounds, min_seconds=a.min_seconds, device=dev)
    print(header(dev, a, f"VICReg spectral closed form: N={g.shape[0]} K={k} starts={a.starts} gtol={a.gtol:g}"))
    for name in ("loop", "batched"):
        out = res[name]
        z = torch.cat([o[0] for o in out])
        ef, eg = errors(fun, z, zs)
        print(row(name, t[name], a.starts, f"iterations<={max(o[2] for o in out):4d}  max|f-f*|={ef:.2e}  "
                  f"max‖ΔGram‖={eg:.2e}  max‖∇f‖={max(float(o[1].max()) for o in out):.1e}"))
    print(f"speed-up (batched / loop), median: {ratio_text(ratios(t['loop'], t['batched']))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
