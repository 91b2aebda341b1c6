"""Figures of ``ssl-props profile --figures DIR`` (matplotlib, Agg backend).

* ``singular_values.png``: the optimum's singular values per graph, the loss's against the spectral references';
* ``dynamics.png``: median ‖W‖(t) per target mode, and the final ‖W e_j‖ per augmentation variance σ_j².
"""
from __future__ import annotations

import os

__all__ = ["write_figures"]


def write_figures(profile, out_dir: str, references: dict | None = None) -> list[str]:
    """Write the figures of ``profile`` into ``out_dir``; ``references``: name -> Profile of a reference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(out_dir, exist_ok=True)
    paths = []
    n = len(profile.graphs)
    fig, axes = plt.subplots(1, n, figsize=(3.0 * n, 3.0), squeeze=False)
    for ax, g in zip(axes[0], profile.graphs):
        ax.semilogy(range(1, len(g.singular_values) + 1), [max(s, 1e-18) for s in g.singular_values], "o-", label=profile.loss)
        for name, rp in (references or {}).items():
            rg = next((x for x in rp.graphs if x.graph == g.graph), None)
            if rg is not None:
                ax.semilogy(range(1, len(rg.singular_values) + 1), [max(s, 1e-18) for s in rg.singular_values], ".--", label=name)
        ax.axhline(g.rank_threshold, color="grey", lw=0.8, ls=":")
        ax.set_title(g.graph, fontsize=7)
        ax.set_xlabel("k")
    axes[0][0].set_ylabel("σ_k of the centred optimum")
    axes[0][0].legend(fontsize=6)
    fig.tight_layout()
    paths.append(os.path.join(out_dir, "singular_values.png"))
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    if profile.dynamics:
        from ssl_props.profile.dynamics import DynamicsConfig

        fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3.2))
        for mode, r in profile.dynamics.items():
            a.semilogy(r.norm_trace, label=mode)
            amps = [sum(x[j] for x in r.amplitudes) / len(r.amplitudes) for j in range(len(r.amplitudes[0]))]
            b.semilogy(list(DynamicsConfig().sigma2)[: len(amps)], [max(v, 1e-18) for v in amps], "o-", label=mode)
        a.set_xlabel("step / (steps/50)")
        a.set_ylabel("median ‖W‖")
        b.set_xlabel("augmentation variance σ_j²")
        b.set_ylabel("final ‖W e_j‖ (mean over seeds)")
        a.legend(fontsize=7)
        fig.tight_layout()
        paths.append(os.path.join(out_dir, "dynamics.png"))
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    return paths
