"""Figure: closed-form spectrum vs learned representation spectrum (Balestriero & LeCun, 2022, arXiv:2205.11508).

For a drawn weighted graph with three classes, the left panel shows the eigenvalues λ_k of the Laplacian on 1⊥
and the clamping threshold β/γ; the right panel shows the singular values of VICReg's closed-form optimum
σ_k = √(N (1 − γλ_k/β)_+) next to those of representations learned by batched L-BFGS from random starts.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ssl_props.figures import new_axes, register_figure
from ssl_props.graphs import laplacian
from ssl_props.spectral import centred_eigh, lbfgs, vicreg_closed_form, vicreg_spectral_loss

SIZES = (3, 4, 5)  # class sizes: within-class eigenvalues ≈ n_c straddle β/γ, so some directions are clamped
K, BETA, GAMMA, STARTS = 7, 1.0, 0.18, 8


def drawn_graph(seed: int = 0) -> torch.Tensor:
    """Within-class weights in [1, 2] (symmetric), zero across classes; deterministic in ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.repeat_interleave(torch.arange(len(SIZES)), torch.tensor(SIZES))
    w = torch.triu(1 + torch.rand(len(labels), len(labels), generator=gen, dtype=torch.float64), 1)
    return (w + w.T) * (labels[:, None] == labels[None, :])


@register_figure("balestriero2022_spectrum", paper="balestriero2022",
                 caption="VICReg (spectral variant) on a weighted 3-class graph: Laplacian eigenvalues with the threshold "
                         "β/γ (left) and singular values of the closed-form optimum vs batched L-BFGS from 8 random "
                         "starts (right); directions with λ_k ≥ β/γ are clamped to zero.")
def spectrum_figure(out_path: Path, *, seed: int = 0) -> Path:
    g = drawn_graph(seed)
    n = g.shape[0]
    lam = centred_eigh(laplacian(g))[0]
    zs = vicreg_closed_form(g, K, beta=BETA, gamma=GAMMA)
    x0 = torch.randn(STARTS, n, K, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    z, _, _ = lbfgs(lambda v: vicreg_spectral_loss(v, g, beta=BETA, gamma=GAMMA), x0, gtol=1e-9)
    centre = lambda t: t - t.mean(-2, keepdim=True)  # noqa: E731
    s_closed, s_learned = torch.linalg.svdvals(centre(zs)), torch.linalg.svdvals(centre(z))
    fig, (a, b) = new_axes(1, 2, figsize=(10, 4))
    idx = torch.arange(1, len(lam) + 1)
    a.plot(idx, lam, "o-", label="eigenvalues λ_k of L on 1⊥")
    a.axhline(BETA / GAMMA, color="k", ls="--", label=f"clamping threshold β/γ = {BETA / GAMMA:g}")
    a.axvspan(0.5, K + 0.5, color="C2", alpha=0.1, label=f"K = {K} bottom directions")
    a.set(xlabel="index k", ylabel="λ_k", title="Laplacian spectrum of the drawn graph")
    a.legend()
    kk = torch.arange(1, K + 1)
    b.plot(kk, s_closed, "s-", ms=9, mfc="none", label="closed form √(N(1 − γλ_k/β)₊)")
    for i in range(STARTS):
        b.plot(kk + 0.08 * (i - STARTS / 2) / STARTS, s_learned[i], "x", color="C1", label="learned (L-BFGS starts)" if i == 0 else None)
    b.set(xlabel="index k", ylabel="singular value of HZ", title=f"VICReg optimum: N = {n}, β = {BETA:g}, γ = {GAMMA:g}")
    b.legend()
    fig.tight_layout()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, dpi=110)
    import matplotlib.pyplot as plt
    plt.close(fig)
    return out_path
