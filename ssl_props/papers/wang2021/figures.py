"""Figures of the learning dynamics (Tian et al. 2021; Wang et al. 2021): eigenvalue and alignment
trajectories for one drawn case."""
from __future__ import annotations

from pathlib import Path

import torch

from ssl_props.figures import new_axes, register_figure


@register_figure("tian2021_wang2021_dynamics", paper="wang2021",
                 caption="DirectCopy (W_p = F) on X = I, X' = Q diag(σ²) Qᵀ with weight decay η: eigenvalues of WᵀW "
                         "(solid) converge to the closed-form s* (dashed; 0 for σ² ≥ 1/(4η) − 1); right: the "
                         "commutator ||[F, W_p]|| of the learned-predictor flow decays (Theorem 3 of Tian et al.).")
def dynamics_figure(out_path: Path, *, seed: int = 1) -> Path:
    from ssl_props.dynamics import LinearState, SimConfig, simulate
    from ssl_props.papers.wang2021.thresholds import _draw, closed_form
    from ssl_props.dynamics.data_models import make_data_model, random_init

    dm, eta = _draw(seed, batch=1)
    n = dm.n
    s0 = random_init(n, n, 1, seed=seed, scale=0.3, near_identity=True)
    cfg = SimConfig(t_end=60.0, method="dopri5", rtol=1e-7, atol=1e-10, n_save=240, device="cpu")
    tr = simulate(s0, dm.X.cpu(), dm.Xp.cpu(), cfg, predictor="directcopy", alpha=1.0, eta=eta.cpu(), beta=None)
    W = tr.y.W[:, 0]
    ev = torch.linalg.eigvalsh(W.mT @ W)  # (time, n)
    s_star, keep, _ = closed_form(dm, eta, 1.0)
    # Theorem 3 panel: learned symmetric predictor, SimSiam, isotropic augmentation
    dm3 = make_data_model(torch.ones(1, 3, dtype=torch.float64), torch.full((1, 3), 0.5, dtype=torch.float64), seed=seed, device="cpu")
    s3 = random_init(3, 3, 1, seed=seed, scale=1.0, symmetric_predictor=True, device="cpu")
    tr3 = simulate(LinearState(*s3), dm3.X, dm3.Xp, SimConfig(t_end=10.0, method="rk4", dt=0.01, n_save=100, device="cpu"),
                   eta=0.3, alpha_p=1.0, beta=None, symmetric_predictor=True)
    F = tr3.y.W @ tr3.y.W.mT
    L = (F @ tr3.y.Wp - tr3.y.Wp @ F).flatten(-2).norm(dim=-1)[:, 0]

    fig, (ax, ax2) = new_axes(1, 2, figsize=(11, 4))
    t = tr.t.numpy()
    for j in range(n):
        ax.plot(t, ev[:, j].numpy(), label=f"eigenvalue {j + 1} of WᵀW")
    for j in range(n):
        sig = float(dm.aug_spec[0, j])
        ax.axhline(float(s_star[0, j]), ls="--", lw=0.8, color="k",
                   label="closed-form s*" if j == 0 else None)
        ax.annotate(f"σ²={sig:.2f}", (t[-1], float(s_star[0, j])), fontsize=7, ha="right", va="bottom")
    ax.set_xlabel("time t (gradient-flow units)")
    ax.set_ylabel("eigenvalue")
    ax.set_title(f"DirectCopy, η = {float(eta[0]):.3f}: threshold σ² < {1 / (4 * float(eta[0])) - 1:.2f}")
    ax.legend(fontsize=7)
    ax2.semilogy(tr3.t.numpy(), L.numpy().clip(1e-300), label="||[F, W_p]||_F")
    ax2.set_xlabel("time t")
    ax2.set_ylabel("commutator norm")
    ax2.set_title("Eigenspace alignment (Tian et al. Theorem 3)")
    ax2.legend()
    out_path = Path(out_path)
    fig.tight_layout()
    fig.savefig(out_path, dpi=120)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return out_path
