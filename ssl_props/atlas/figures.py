"""The atlas's figures (matplotlib, Agg): a heat map of verdicts and, per family, the optimum's singular values.

* ``heatmap.png``: losses × properties, each cell coloured by its category (:func:`ssl_props.atlas.rows.status_of`)
  and labelled;
* ``spectra.png``: for each family (Garrido et al. 2023, arXiv:2206.02574, or "unidentified") the singular values
  σ_i/σ_1 of the certified optimum on one augmentation graph with K > N' − 1; losses with the same normalised
  spectrum (to 2 significant digits) share one line, so that a family of twenty losses stays readable.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["COLUMNS", "COLOURS", "write_figures", "heatmap", "spectra", "spectrum_graph"]

COLUMNS = (("check", "check"), ("identified", "identified"), ("collapse", "collapse\nadmitted"),
           ("below", "rank\nK < N'−1"), ("above", "rank\nK > N'−1"), ("laplacian", "Laplacian\nsubspace"),
           ("rotation", "Z → ZQ\ninvariant"), ("stop-gradient", "stop-\ngradient"))
COLOURS = {"good": "#a6dba0", "partial": "#fdb863", "bad": "#e66101", "design": "#92c5de", "none": "#e0e0e0"}
LEGEND = {"good": "holds / passes / full rank", "partial": "partly or not / lower rank / stop-gradient matters",
          "bad": "defect / unexplained failure / collapse is a minimiser", "design": "passes with declared design choices",
          "none": "not determined / not run"}
FLOOR = 1e-8  # singular values below FLOOR·σ_1 are drawn at FLOOR (numerically zero: the optimum's rank threshold)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def heatmap(rows: list[dict], path: Path) -> Path:
    """Losses × properties, coloured by category, each cell labelled."""
    plt = _plt()
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    cats = list(COLOURS)
    grid = [[cats.index(r["status"][k].split(":", 1)[0]) for k, _ in COLUMNS] for r in rows]
    height = 1.6 + 0.22 * len(rows)
    fig, ax = plt.subplots(figsize=(9.5, height))
    ax.imshow(grid, cmap=ListedColormap([COLOURS[c] for c in cats]), vmin=-0.5, vmax=len(cats) - 0.5, aspect="auto",
              interpolation="nearest")
    for i, r in enumerate(rows):
        for j, (k, _) in enumerate(COLUMNS):
            ax.text(j, i, r["status"][k].split(":", 1)[1], ha="center", va="center", fontsize=6.5)
    ax.set_xticks(range(len(COLUMNS)), [label for _, label in COLUMNS], fontsize=7.5)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(rows)), [f"{r['name']} ({r['source']})" for r in rows], fontsize=7)
    ax.set_xticks([x - 0.5 for x in range(1, len(COLUMNS))], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(rows))], minor=True)
    ax.grid(which="minor", color="white", linewidth=0.8)
    ax.tick_params(which="minor", length=0)
    for y in [i - 0.5 for i in range(1, len(rows)) if rows[i]["source"] != rows[i - 1]["source"]]:
        ax.axhline(y, color="black", linewidth=1.2)
    fig.legend(handles=[Patch(color=COLOURS[c], label=LEGEND[c]) for c in cats], loc="lower center", ncol=2,
               fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.7 / height, 1, 1))
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def spectrum_graph(rows: list[dict]) -> str | None:
    """The graph the spectra are drawn on: the first augmentation graph with K > N' − 1 that the rows have."""
    from ssl_props.atlas.rows import graph_side

    for r in rows:
        for g in r.get("graph_details", []):
            if graph_side(g["graph"]) == "above":
                return g["graph"]
    return None


def _spectrum(row: dict, graph: str) -> tuple[float, ...] | str:
    g = next((g for g in row.get("graph_details", []) if g["graph"] == graph), None)
    if g is None:
        return "not profiled"
    if g.get("status") != "optimum":
        return f"undetermined ({g.get('status')})"
    if g.get("collapse_admitted"):
        return "collapse admitted"
    sv = [float(s) for s in g.get("singular_values") or []]
    if not sv or sv[0] <= 0:
        return "zero optimum"
    return tuple(float(f"{max(s / sv[0], FLOOR):.2g}") for s in sv)


def spectra(rows: list[dict], path: Path) -> Path | None:
    """Per family, σ_i/σ_1 of the optimum on :func:`spectrum_graph`; equal spectra share a line."""
    graph = spectrum_graph(rows)
    if graph is None:
        return None
    plt = _plt()
    families = sorted({r["family"] for r in rows}, key=lambda f: (f == "unidentified", f))
    cols = min(2, len(families))
    nrows = (len(families) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(6.2 * cols, 3.6 * nrows), squeeze=False)
    for ax, fam in zip(axes.flat, families):
        groups: dict[tuple[float, ...], list[str]] = {}
        left: dict[str, list[str]] = {}
        for r in rows:
            if r["family"] != fam:
                continue
            s = _spectrum(r, graph)
            (groups.setdefault(s, []) if isinstance(s, tuple) else left.setdefault(s, [])).append(r["name"])
        markers = "osD^v<>ph*"
        for i, (s, names) in enumerate(sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))):
            label = ", ".join(names[:4]) + (f" (+{len(names) - 4})" if len(names) > 4 else "")
            ax.plot(range(1, len(s) + 1), s, marker=markers[i % len(markers)], linestyle="-" if i < 10 else "--",
                    label=label, alpha=0.85)
        ax.set_yscale("log")
        ax.set_ylim(FLOOR / 3, 3)
        ax.set_title(fam, fontsize=10)
        ax.set_xlabel("i", fontsize=8)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel("σ_i / σ_1", fontsize=8)
        ax.tick_params(labelsize=7)
        note = "\n".join(f"{why}: {', '.join(n[:4])}" + (f" (+{len(n) - 4})" if len(n) > 4 else "")
                         for why, n in left.items())
        if groups:
            ax.legend(fontsize=6, loc="lower left", frameon=False)
            if note:
                ax.text(0.99, 0.99, note, transform=ax.transAxes, ha="right", va="top", fontsize=6, color="dimgray")
        else:  # nothing to draw: say why in the middle of the panel
            ax.set_xticks([])
            ax.set_yticks([], minor=True)
            ax.set_yticks([])
            ax.set_ylabel("")
            ax.set_xlabel("")
            ax.text(0.5, 0.5, "no certified spectrum to draw\n" + note, transform=ax.transAxes, ha="center",
                    va="center", fontsize=8, color="dimgray", wrap=True)
    for ax in list(axes.flat)[len(families):]:
        ax.axis("off")
    fig.suptitle(f"singular values of the certified optimum on {graph}\n(losses with equal spectra share a line; "
                 f"values below {FLOOR:g}·σ_1 are drawn at {FLOOR:g})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def write_figures(rows: list[dict], directory: Path) -> list[Path]:
    """Write the figures into ``directory``; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    out = [heatmap(rows, directory / "heatmap.png")] if rows else []
    sp = spectra(rows, directory / "spectra.png")
    return out + ([sp] if sp else [])
