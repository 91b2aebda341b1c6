r"""The optimum of a loss on relation graphs (Balestriero & LeCun 2022's framework, arXiv:2205.11508).

For each graph of :func:`default_graphs` the loss is minimised over a free embedding ``Z`` (N × K) from
``S`` random starts in ONE batched L-BFGS call (:func:`ssl_props.spectral.lbfgs`), then measured at the
best start ``Z⋆`` (:class:`GraphOptimum`):

* distance to the solution set from the stopping gradient: near a minimum with curvature ``μ`` (smallest
  Hessian eigenvalue outside the flat symmetry directions, :func:`ssl_props.spectral.curvature`),
  ``δ ≤ SAFETY·‖∇f‖/μ`` and ``f − f⋆ ≤ SAFETY·‖∇f‖²/(2μ)``;
* numerical rank of the centred optimum ``HZ⋆``: a singular value is zero when ``σ_k ≤ δ + rounding``
  (Weyl: singular values move by at most ``‖ΔZ‖₂ ≤ δ``); collapse verdict complete (rank 0), dimensional
  (rank < min(K, N − 1)) or none;
* positives coincide when ``max_{G_ij=1} ‖z_i − z_j‖ ≤ 2δ`` (on unit rows for a loss that normalises);
* Laplacian subspace: ``col(HZ⋆)`` inside the bottom eigenspace of ``L`` on ``1⊥`` (ties included) when
  ``‖(I − P_m) U_r‖_F ≤ √r·δ/(σ_r − δ)`` (Wedin) plus the eigensolver's rounding;
* linear probe (labelled graphs): ``‖(I − P_r) HY‖²/‖HY‖² ≤ (δ/(σ_r − δ))²`` plus rounding;
* rotation invariance (claim 11): ``|L(ZQ) − L(Z)|`` within the value's rounding
  (:func:`ssl_props.tolerances.value_tolerance`, ``K`` terms per entry of ``ZQ``) at ``Z⋆`` and at a
  random ``Z``;
* starts agree up to the symmetries when every start at ``f⋆`` (within the loss tolerance) has the same
  singular values (within ``2δ``) and column space (projector distance ``≤ 2√2·δ/(σ_r − δ)``).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import torch

from ssl_props import tolerances as tol
from ssl_props.graphs import augmentation_graph, label_graph, laplacian, one_hot
from ssl_props.profile.graph_losses import GraphObjective, ProfileFailure, graph_objective
from ssl_props.spectral import centred_eigh, lbfgs

__all__ = ["GraphSpec", "GraphOptimum", "default_graphs", "optimise_on_graph", "misaligned_graph"]


@dataclass(frozen=True)
class GraphSpec:
    """One relation graph of the profile: ``G``, the embedding width ``K`` and optional labels."""

    name: str
    kind: str  # "augmentation", "aligned", "misaligned"
    g: torch.Tensor
    k: int
    labels: torch.Tensor | None = None
    n_samples: int = 0  # N' (augmentation graphs)
    n_views: int = 0  # V

    def describe(self) -> str:
        return self.name


def misaligned_graph(n_classes: int, class_size: int, *, dtype=torch.float64, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """A perfect matching pairing node ``t`` of class ``c`` with node ``m/2 + t`` of class ``c + 1`` (every
    positive pair joins two different classes): the labels are misaligned with G. ``class_size`` even."""
    m = class_size
    labels = torch.arange(n_classes).repeat_interleave(m)
    idx = torch.arange(n_classes * m).reshape(n_classes, m)
    i = idx[:, : m // 2].reshape(-1)
    j = idx.roll(-1, 0)[:, m // 2:].reshape(-1)
    g = torch.zeros(len(labels), len(labels), dtype=torch.float64)
    g[i, j] = 1.0
    g[j, i] = 1.0
    return g.to(dtype=dtype, device=device), labels


def default_graphs(*, device=None, dtype=torch.float64, sizes: str = "default") -> list[GraphSpec]:
    """The profile's graphs: augmentation graphs for several (N', V, K) with K below and above N' − 1, one
    label-aligned (G = YYᵀ − I) and one misaligned graph. ``sizes="small"`` keeps three (tests)."""
    out = []
    for ns, nv, k in ((3, 2, 1), (3, 2, 4), (4, 2, 2), (2, 3, 3)):
        rel = "<" if k < ns - 1 else ">" if k > ns - 1 else "="
        out.append(GraphSpec(f"augmentation N'={ns} V={nv} K={k} (K {rel} N'-1)", "augmentation",
                             augmentation_graph(ns, nv, dtype=dtype, device=device), k,
                             torch.arange(ns).repeat(nv), ns, nv))
    lab = torch.arange(3).repeat_interleave(3)
    out.append(GraphSpec("label-aligned C=3 n_c=3 K=3", "aligned", label_graph(lab, dtype=dtype, device=device), 3, lab))
    g, lab = misaligned_graph(2, 4, dtype=dtype, device=device)
    out.append(GraphSpec("misaligned C=2 n_c=4 K=7", "misaligned", g, 7, lab))
    if sizes == "small":
        out = [out[0], out[1], out[5]]
    return out


@dataclass
class GraphOptimum:
    """Measurements of one loss's optimum on one graph (see the module docstring for each threshold)."""

    graph: str
    kind: str
    n: int
    k: int
    batching: str
    starts: int
    loss: float  # f⋆, best start
    loss_spread: float  # max − min over starts
    loss_tolerance: float  # SAFETY‖∇f‖²/(2μ) + rounding
    grad_norm: float
    curvature: float
    delta: float  # distance to the solution set bound
    starts_at_optimum: int
    distinct_optima: int
    starts_agree: bool
    normalises: bool  # the loss is invariant to positive row scalings (compared on unit rows)
    singular_values: list[float]
    rank_threshold: float
    rank: int
    full_rank: int
    collapse: str  # "complete", "dimensional", "none"
    positives_gap: float
    positives_coincide: bool
    laplacian_residual: float
    laplacian_tolerance: float
    laplacian_subspace: bool | None
    probe_residual: float | None = None
    probe_tolerance: float | None = None
    probe_recovers: bool | None = None
    rotation_change: float = 0.0
    rotation_tolerance: float = 0.0
    rotation_invariant: bool = True
    z: torch.Tensor | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("z")
        return d


def _randn(seed: int, *shape: int, like: torch.Tensor) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(like)


def _value_grad(obj: GraphObjective, z: torch.Tensor, step: str) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.enable_grad():
        zz = z.detach().requires_grad_(True)
        f = obj(zz)
        if not f.requires_grad:
            raise ProfileFailure(f"step '{step}' on graph {obj.graph}: the loss has no gradient with respect to Z "
                                 "(detached or computed outside torch); build it from torch operations on its inputs")
        (g,) = torch.autograd.grad(f.sum(), zz, allow_unused=True)
    if g is None:
        raise ProfileFailure(f"step '{step}' on graph {obj.graph}: the loss does not depend on Z")
    return f.detach(), g


def _guarded(obj: GraphObjective) -> Callable[[torch.Tensor], torch.Tensor]:
    def fun(z: torch.Tensor) -> torch.Tensor:
        f = obj(z)
        if not bool(torch.isfinite(f).all()):
            bad = int((~torch.isfinite(f)).nonzero()[0])
            raise ProfileFailure(f"step 'optimise' on graph {obj.graph}: the loss became {float(f[bad].detach())} at start "
                                 f"{bad}; guard divisions and logs (add an eps) so it stays finite")
        return f
    return fun


def _symmetries(obj: GraphObjective, z: torch.Tensor, f: torch.Tensor, rounding: float) -> dict[str, torch.Tensor]:
    """The continuous symmetries the loss has at ``z`` (measured: two random moves each, change within the
    value's rounding ``K·rounding``), as tangent directions ``(m, N, K)`` of their orbits."""
    n, k = z.shape
    gen = torch.Generator().manual_seed(7)
    rnd = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float64).to(z)  # noqa: E731
    ones = torch.ones(n, 1, dtype=z.dtype, device=z.device)
    eye = torch.eye(k, dtype=z.dtype, device=z.device)
    skew = [(eye[:, [a]] @ eye[[b]] - eye[:, [b]] @ eye[[a]]) for a in range(k) for b in range(a + 1, k)]
    moves = {  # name: (two moved copies of z, tangent directions of the orbit at z)
        "rotation": (z @ torch.linalg.qr(rnd(2, k, k))[0], [z @ a for a in skew]),
        "translation": (z + ones * rnd(2, 1, k), [ones * eye[[j]] for j in range(k)]),
        "row_scale": (z * (0.5 + torch.rand(2, n, 1, generator=gen, dtype=torch.float64).to(z)),
                      [z * torch.eye(n, dtype=z.dtype, device=z.device)[:, [i]] for i in range(n)]),
        "column_scale": (z * (0.5 + torch.rand(2, 1, k, generator=gen, dtype=torch.float64).to(z)), [z * eye[[j]] for j in range(k)]),
    }
    out = {}
    for name, (moved, tangent) in moves.items():
        with torch.no_grad():
            fm = obj(moved)
        if bool(((fm - f).abs() <= k * rounding).all()) and tangent:
            out[name] = torch.stack(tangent)
    return out


def _distance_bound(obj: GraphObjective, z: torch.Tensor, f: float, gnorm: float, sym: dict[str, torch.Tensor],
                    rounding: float, scale: float) -> tuple[float, float, int]:
    """``(μ, δ, #degenerate directions)``: Hessian at ``z`` with the symmetry tangents projected out; a
    direction of zero curvature that is no symmetry is probed at step ``s = 1e-2‖Z‖``: if the loss grows
    like ``c s⁴`` there, ``δ ≤ (‖∇f‖/(4c))^{1/3}`` (quartic growth); else ``δ = SAFETY‖∇f‖/μ`` (quadratic)."""
    n, k = z.shape
    with torch.enable_grad():
        h = torch.autograd.functional.hessian(lambda v: obj(v.reshape(1, n, k)).sum(), z.detach().reshape(-1))
    h = (h + h.T) / 2
    basis = torch.cat([t.reshape(len(t), -1) for t in sym.values()]) if sym else z.new_zeros(0, n * k)
    if len(basis):
        q = torch.linalg.svd(basis.T, full_matrices=False)
        t = q[0][:, q[1] > math.sqrt(tol.eps(z.dtype)) * float(q[1].max())]
        proj = torch.eye(n * k, dtype=z.dtype, device=z.device) - t @ t.T
    else:
        t = basis.T
        proj = torch.eye(n * k, dtype=z.dtype, device=z.device)
    mu_all, vec = torch.linalg.eigh(proj @ h @ proj)
    keep = (vec.T @ t).norm(dim=1) < 0.5 if t.shape[1] else torch.ones_like(mu_all, dtype=torch.bool)
    mu_all, vec = mu_all[keep], vec[:, keep]
    curv_scale = (abs(f) + scale + 1.0) / max(float(z.square().sum()), 1.0)
    flat = mu_all.abs() <= math.sqrt(tol.eps(z.dtype)) * max(float(mu_all.abs().max()) if len(mu_all) else 0.0, curv_scale)
    mu = float(mu_all[~flat].min()) if bool((~flat).any()) else float("inf")
    delta = tol.SAFETY * gnorm / mu if math.isfinite(mu) and mu > 0 else 0.0
    degenerate = 0
    if bool(flat.any()):
        s = 1e-2 * float(z.norm())
        with torch.no_grad():
            fv = obj(z + s * vec[:, flat].T.reshape(-1, n, k))
        growth = (fv - f) / s**4
        real = (fv - f) > k * rounding  # grows: a degenerate minimum, not a symmetry
        degenerate = int(real.sum())
        if degenerate:
            c = float(growth[real].min())
            delta = max(delta, tol.SAFETY * (gnorm / (4 * c)) ** (1 / 3))
        elif not math.isfinite(mu):
            delta = math.sqrt(tol.eps(z.dtype)) * float(z.norm())
    return mu, delta, degenerate


def optimise_on_graph(fn: Callable[..., Any], spec: GraphSpec, *, form: str = "pair", starts: int = 16, seed: int = 0,
                      max_iter: int = 300, gtol: float = 1e-10) -> GraphOptimum:
    """Minimise ``fn`` on ``spec`` from ``starts`` random starts in one batched L-BFGS call and measure the optimum."""
    g, k = spec.g, spec.k
    n = g.shape[0]
    obj = graph_objective(fn, g, form=form, graph=spec.name)
    z0 = _randn(seed, starts, n, k, like=g)
    obj.choose_batching(z0)
    _value_grad(obj, z0[:2], "optimise")  # no gradient: one clear line before the optimiser starts
    z, gn, _ = lbfgs(_guarded(obj), z0, gtol=gtol, max_iter=max_iter)
    z0b = z0
    f, grad = _value_grad(obj, z, "measure")
    gn = grad.flatten(1).norm(dim=1)
    best = int(f.argmin())
    zb = z[best]
    fb = float(f[best])
    with torch.no_grad():
        f0 = obj(z0b)
    scale = float(f0.abs().median())  # size of the loss's terms at the starts
    rounding = float(tol.value_tolerance(f[best], zb, zb, grad[best], None, abs(fb) + scale))
    sym = _symmetries(obj, zb, f[best], rounding)
    mu, delta, degenerate = _distance_bound(obj, zb, fb, float(gn[best]), sym, rounding, scale)
    ftol_all = tol.SAFETY * gn.square() / (2 * mu) + rounding if mu > 0 else torch.full_like(f, rounding + math.sqrt(tol.eps(g.dtype)) * (abs(fb) + scale))
    ftol = float(ftol_all[best])
    normalises = "row_scale" in sym
    zc_all = torch.nn.functional.normalize(z, dim=-1) if normalises else z
    if normalises:  # unit rows: distances shrink by the smallest row norm
        delta = 2 * delta / float(zb.norm(dim=-1).min().clamp_min(tol.eps(g.dtype)))
    zc = zc_all - zc_all.mean(-2, keepdim=True)
    sv = torch.linalg.svdvals(zc)  # (S, min(N, K))
    round_sv = float(tol.sum_of_products(g.dtype, n * k, float(sv.max())))
    thr = delta + round_sv
    rank = int((sv[best] > thr).sum())
    full = min(k, n - 1)
    collapse = "complete" if rank == 0 else "dimensional" if rank < full else "none"
    # --- starts agreeing up to symmetries
    at_opt = (f - fb).abs() <= ftol_all
    u_all = torch.linalg.svd(zc, full_matrices=False)[0][..., :rank]
    proj = u_all @ u_all.transpose(-2, -1)
    sin_tol = math.sqrt(max(rank, 1)) * delta / max(float(sv[best, rank - 1]) - delta, tol.eps(g.dtype)) if rank else 0.0
    reps: list[int] = []
    for i in at_opt.nonzero().flatten().tolist():  # greedy clustering of the (few) optimal starts
        same = [r for r in reps if float((sv[i] - sv[r]).abs().max()) <= 2 * thr
                and float((proj[i] - proj[r]).norm()) <= 2 * math.sqrt(2) * sin_tol + 2 * round_sv]
        if not same:
            reps.append(i)
    # --- positives
    zcb = zc_all[best]
    gap = float((zcb[obj.rows] - zcb[obj.cols]).norm(dim=-1).max())
    # --- Laplacian bottom eigenspace (on 1⊥), ties included
    lam, vec = centred_eigh(laplacian(g))
    eig_round = float(tol.sum_of_products(g.dtype, n, float(lam[-1].abs()) + 1.0))
    if rank:
        m = int((lam <= lam[rank - 1] + eig_round).sum())
        ub = u_all[best]
        lres = float((ub - vec[:, :m] @ (vec[:, :m].T @ ub)).norm())
        gaps = lam[m:] - lam[rank - 1]
        ltol = sin_tol + (math.sqrt(rank) * eig_round / float(gaps.min()) if len(gaps) and float(gaps.min()) > 0 else 0.0) + eig_round
        lap_ok: bool | None = lres <= ltol
    else:
        lres, ltol, lap_ok = 0.0, 0.0, None
    out = GraphOptimum(spec.name, spec.kind, n, k, obj.batching, starts, fb, float(f.max() - f.min()), ftol,
                       float(gn[best]), float(mu), delta, int(at_opt.sum()), len(reps), len(reps) == 1, normalises,
                       [float(s) for s in sv[best]], thr, rank, full, collapse, gap, gap <= 2 * delta + round_sv,
                       lres, ltol, lap_ok, z=zb.detach())
    if spec.labels is not None and spec.kind != "augmentation":
        y = one_hot(spec.labels).to(g)
        hy = y - y.mean(0)
        res = hy - (proj[best] @ hy if rank else 0.0)
        out.probe_residual = float(res.square().sum() / hy.square().sum())
        out.probe_tolerance = (delta / max(float(sv[best, rank - 1]) - delta, tol.eps(g.dtype))) ** 2 + round_sv if rank else 0.0
        out.probe_recovers = out.probe_residual <= out.probe_tolerance
    _rotation(obj, out, zb, f[best], grad[best], seed)
    return out


def _rotation(obj: GraphObjective, out: GraphOptimum, zb: torch.Tensor, fb: torch.Tensor, gb: torch.Tensor, seed: int) -> None:
    """Claim 11: L(ZQ) = L(Z) for orthogonal Q, at the optimum and at a random Z (4 Haar-random Q each)."""
    n, k = zb.shape
    q = torch.linalg.qr(_randn(seed + 11, 4, k, k, like=zb))[0]
    zr = _randn(seed + 12, n, k, like=zb)
    fr, gr = _value_grad(obj, zr[None], "rotation invariance")
    worst, worst_tol = -math.inf, 0.0
    for z0, f0, g0 in ((zb, fb, gb), (zr, fr[0], gr[0])):
        with torch.no_grad():
            fq = obj(z0 @ q)
        t = k * float(tol.value_tolerance(f0, z0, z0, g0, None, abs(float(f0))))
        change = float((fq - f0).abs().max())
        if change - t > worst - worst_tol:
            worst, worst_tol = change, t
    out.rotation_change, out.rotation_tolerance = worst, worst_tol
    out.rotation_invariant = worst <= worst_tol
