r"""The optimum of a loss on relation graphs (Balestriero & LeCun 2022's framework, arXiv:2205.11508).

For each graph of :func:`default_graphs` the loss is minimised over a free embedding ``Z`` (N × K) from ``S``
random starts in ONE batched L-BFGS call, certified (:mod:`.certify`, :mod:`.nonsmooth`) and measured at the best
start ``Z⋆`` (:class:`GraphOptimum`). ``status``, in this order: "infimum not attained" (``f(sZ⋆)`` keeps falling
for ``s = 1 … 1000`` beyond the measured rounding floor, ``ray_losses``); "not converged" (a collapsed
configuration or a scaled copy is lower, or no certificate); "optimum" (a second-order certificate
``‖∇f‖, μ ⇒ δ`` (:mod:`.certify`); at K = 1 for a row-scale-invariant loss the exact enumeration of the sign
patterns (:mod:`.landscape`); for a loss whose hinges are active, smoothing continuation and the same certificate
on the smoothed loss of width 1e-7, the real loss within the smoothing gap (:mod:`.nonsmooth`; gradient sampling
as the fallback)). ``certificate`` says which, in one line; ``method`` how f⋆ was reached.
Only at an optimum (else ``None``: undetermined):

* numerical rank of the centred optimum ``HZ⋆``: ``σ_k ≤ δ + rounding`` is zero (Weyl); collapse complete
  (rank 0), dimensional (rank < min(K, N − 1)) or none; ``rank_set``: rank → number of certified starts at f⋆
  (plus complete collapse, rank 0, when it is a minimiser too);
* positives coincide when ``max_{G_ij=1} ‖z_i − z_j‖ ≤ 2δ`` (on unit rows for a loss that normalises);
* Laplacian subspace: ``col(HZ⋆)`` inside the bottom eigenspace of ``L`` on ``1⊥`` (ties included) when
  ``‖(I − P_m) U_r‖_F ≤ √r·δ/(σ_r − δ)`` (Wedin) plus the eigensolver's rounding;
* linear probe (labelled graphs): ``‖(I − P_r) HY‖²/‖HY‖² ≤ (δ/(σ_r − δ))²`` plus rounding;
* ``distinct_optima``: certified starts at f⋆ (``|f − f⋆| ≤`` both tolerances) whose centred Gram matrices differ
  by more than ``(2σ₁ + δ)δ`` per side after every automorphism of G that leaves the loss unchanged
  (:mod:`.relabel`; ``distinct_labelled`` without relabelling, ``relabellings`` = how many automorphisms);
* ``collapse_admitted``: the loss at complete collapse (``collapsed_loss``: a random row repeated; all rows zero
  where finite) is within ``loss_tolerance`` of f⋆; ``continuum``: a flat direction off the symmetries along
  which f is constant, several optima with flat directions, or f⋆ along a segment between two optima;
* rotation invariance (claim 11): ``|L(ZQ) − L(Z)|`` within the value's rounding at ``Z⋆`` and a random ``Z``;
* ``warnings``: e.g. a gradient that vanishes at every start where no enumeration applies.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import torch

from ssl_props import tolerances as tol
from ssl_props.graphs import augmentation_graph, label_graph, laplacian, one_hot
from ssl_props.profile.graph_losses import GraphObjective, graph_objective
from ssl_props.profile.candidates import Candidates, from_lbfgs, from_nonsmooth, guarded, rounding_of, status_of, value_grad
from ssl_props.profile.certify import symmetries
from ssl_props.profile.nonsmooth import continuation, kinks
from ssl_props.profile.landscape import MAX_ENUMERATION_NODES, collapsed_losses, collapsed_point, segment_at_optimum, sign_patterns
from ssl_props.profile.relabel import automorphisms, cluster_grams, invariant_relabellings
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
    """Measurements of one loss's optimum on one graph (see the module docstring for each threshold).

    Where ``status`` is not ``"optimum"`` the measurements that need an optimum (rank, collapse, positives,
    Laplacian subspace, probe, ``delta``, ``rank_threshold``) are ``None``: undetermined.
    """

    graph: str
    kind: str
    n: int
    k: int
    batching: str
    starts: int
    loss: float  # f⋆, best start (or best sign pattern)
    loss_spread: float  # max − min over starts
    loss_tolerance: float  # ‖∇f‖·δ + rounding (+ 8·(f_w − f) for a hinge) if certified, else rounding + √eps·scale
    grad_norm: float  # ‖∇f‖ (hinge: ‖∇f_w‖ of the smoothed loss; gradient sampling: ρ)
    curvature: float  # μ off the symmetries (negative: a saddle; inf: all flat; hinge: of f_w; nan: gradient sampling)
    delta: float | None  # distance to the solution set bound (None: not certified)
    starts_at_optimum: int
    distinct_optima: int  # certified optima at f⋆, counted as Gram matrices up to relabelling
    starts_agree: bool
    normalises: bool  # the loss is invariant to positive row scalings (compared on unit rows)
    singular_values: list[float]
    rank_threshold: float | None
    rank: int | None
    full_rank: int
    collapse: str | None  # "complete", "dimensional", "none"
    positives_gap: float
    positives_coincide: bool | None
    laplacian_residual: float
    laplacian_tolerance: float
    laplacian_subspace: bool | None
    probe_residual: float | None = None
    probe_tolerance: float | None = None
    probe_recovers: bool | None = None
    rotation_change: float = 0.0
    rotation_tolerance: float = 0.0
    rotation_invariant: bool | None = True  # None: not measured (the loss could not be evaluated on the graph)
    status: str = "optimum"  # "optimum", "not converged", "infimum not attained"
    certificate: str = ""  # one line: which bound certifies the optimum (or why none does)
    method: str = "L-BFGS"  # "L-BFGS", "sign enumeration", "smoothing continuation[ of relu, …]", "gradient sampling"
    nonsmooth: bool = False  # the certificate is a non-smooth one (active kinks: relu/clamp/abs/maximum/… intercepted)
    ray_losses: list[tuple[float, float]] = field(default_factory=list)  # (s, f(s·Z⋆)) along the ray through Z⋆
    collapsed_loss: dict[str, float | None] = field(default_factory=dict)  # loss at complete collapse (rows equal, zero)
    collapse_admitted: bool | None = None  # complete collapse is a global minimiser (within loss_tolerance)
    continuum: bool | None = None  # a continuum of minimisers (flat direction, several flat optima, or a segment at f⋆)
    rank_set: dict[int, int] = field(default_factory=dict)  # rank → certified starts at f⋆ (+1 at rank 0 if collapse admitted)
    distinct_labelled: int = 0  # distinct Gram matrices at f⋆ without identifying relabellings
    relabellings: int = 1  # automorphisms of G that leave the loss unchanged (identity included)
    warnings: list[str] = field(default_factory=list)
    z: torch.Tensor | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("z")
        d["rank_set"] = {str(r): c for r, c in self.rank_set.items()}
        return d


def _randn(seed: int, *shape: int, like: torch.Tensor) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(like)


def optimise_on_graph(fn: Callable[..., Any], spec: GraphSpec, *, form: str = "pair", starts: int = 16, seed: int = 0,
                      max_iter: int = 300, gtol: float = 1e-10, **objective_kwargs: Any) -> GraphOptimum:
    """Minimise ``fn`` on ``spec`` from ``starts`` random starts in one batched L-BFGS call, certify the optimum
    and measure it. ``objective_kwargs`` go to :func:`~ssl_props.profile.graph_losses.graph_objective` (e.g. how
    a graph's positives are fed to a pair loss)."""
    g, k = spec.g, spec.k
    n = g.shape[0]
    obj = graph_objective(fn, g, form=form, graph=spec.name, **objective_kwargs)
    z0 = _randn(seed, starts, n, k, like=g)
    obj.choose_batching(z0)
    f0, g0 = value_grad(obj, z0, "optimise")  # no gradient: one clear line before the optimiser starts
    scale = float(f0.abs().median())  # size of the loss's terms at the starts
    warnings: list[str] = []
    hits = kinks(obj, z0)  # active hinges at the starts: smoothing continuation from the start (L-BFGS stalls on kinks)
    moves: list | None = None
    if hits:
        z, *moves = continuation(guarded(obj), z0, gtol=gtol)
    else:
        z = lbfgs(guarded(obj), z0, gtol=gtol, max_iter=max_iter)[0]
    f, grad = value_grad(obj, z, "measure")
    best = int(f.argmin())
    rounding = rounding_of(f, z, grad, scale)
    sym = symmetries(obj, z[best], f[best], float(rounding[best]))
    method, nonsmooth = ("smoothing continuation" if hits else "L-BFGS"), False
    still = bool((rounding_of(f0, z0, g0, scale) >= g0.flatten(1).norm(dim=1) * z0.flatten(1).norm(dim=1)).all())
    if k == 1 and "row_scale" in sym and n <= MAX_ENUMERATION_NODES:
        pats, fp, even = sign_patterns(obj, n, g, float(rounding[best]))
        fmin = fp.min()
        rp = tol.SAFETY * n * tol.eps(g.dtype) * (fp.abs() + scale)
        at = (fp - fmin).abs() <= rp + rp[fp.argmin()]
        zc, fc = pats[at][:256], fp[at][:256]
        zero = torch.zeros_like(fc)
        cand = Candidates(zc, fc, zero, zero, rp[at][:256], torch.ones_like(fc, dtype=torch.bool), math.inf,
                           f"exact: minimum over all {len(pats)} sign patterns of the rows ({'f(−Z) = f(Z) used' if even else 'no sign symmetry'}); "
                           "at K = 1 the loss is invariant to positive row scalings, so it depends on the signs only", False)
        method = "sign enumeration"
    else:
        if still:
            warnings.append(f"the gradient vanishes at every start (‖∇f‖·‖Z‖ within rounding): the optimiser cannot move and "
                            f"the minimum found is the best of {starts} random points")
        cand = from_lbfgs(obj, z, f, grad, sym, rounding, scale)
    collapsed = collapsed_losses(obj, n, k, g, seed)
    znorm = float(z0.flatten(1).norm(dim=1).median())
    status, certificate, ray = status_of(obj, cand, collapsed, warnings, znorm)
    if status == "not converged" and method != "sign enumeration" and not certificate.startswith("complete collapse"):
        hits = hits or kinks(obj, z[best:best + 1])
        if hits or not bool(cand.certified[best]):
            ns_cand, ns_method = from_nonsmooth(obj, z, hits, scale, seed, moves, sym)
            ns_status, ns_cert, ns_ray = status_of(obj, ns_cand, collapsed, warnings, znorm)
            if ns_status != "not converged" or hits or float(ns_cand.f.min()) < float(cand.f.min()):
                cand, status, certificate, ray, method, nonsmooth = ns_cand, ns_status, ns_cert, ns_ray, ns_method, bool(hits)
    fb_c = float(cand.f.min())
    ftol_c = float(cand.ftol[int(cand.f.argmin())])
    at_collapse = [name for name, v in collapsed.items() if v is not None and v <= fb_c + ftol_c]
    collapsed_z = collapsed_point(at_collapse[0], n, k, g, seed) if status == "optimum" and at_collapse else None
    out = _measure(obj, spec, cand, sym, status, certificate, seed, starts, collapsed_z)
    out.method, out.nonsmooth, out.ray_losses, out.collapsed_loss = method, nonsmooth, ray, collapsed
    out.warnings = warnings + out.warnings
    if status == "optimum":
        out.collapse_admitted = bool(at_collapse)
        if at_collapse:  # complete collapse is a minimiser too: its rank (0) belongs to the set
            out.rank_set = dict(sorted({**out.rank_set, 0: out.rank_set.get(0, 0) + 1}.items()))
    fb, gb = value_grad(obj, out.z[None], "rotation invariance")
    _rotation(obj, out, out.z, fb[0], gb[0], seed)
    return out


def _measure(obj: GraphObjective, spec: GraphSpec, cand: Candidates, sym: tuple[str, ...], status: str, certificate: str,
             seed: int, starts: int, collapsed_z: torch.Tensor | None = None) -> GraphOptimum:
    """Rank, collapse, positives, Laplacian subspace, probe and optima up to relabelling at a certified optimum."""
    g, k = spec.g, spec.k
    n = g.shape[0]
    z, f = cand.z, cand.f
    bi = int(f.argmin())
    fb = float(f[bi])
    normalises = "row_scale" in sym
    zn = torch.nn.functional.normalize(z, dim=-1) if normalises else z
    zc = zn - zn.mean(-2, keepdim=True)
    sv = torch.linalg.svdvals(zc)  # (S, min(N, K))
    full = min(k, n - 1)
    ok = status == "optimum"
    out = GraphOptimum(spec.name, spec.kind, n, k, obj.batching, starts, fb, float(f.max() - f.min()), float(cand.ftol[bi]),
                       float(cand.gn[bi]), cand.mu, None, 0, 0, False, normalises, [float(s) for s in sv[bi]], None, None,
                       full, None, 0.0, None, 0.0, 0.0, None, status=status, certificate=certificate, z=z[bi].detach())
    zcb = zc[bi]
    out.positives_gap = float((zcb[obj.rows] - zcb[obj.cols]).norm(dim=-1).max())
    if not ok:
        return out
    delta = cand.delta.nan_to_num(0.0)
    if normalises:  # unit rows: distances shrink by the smallest row norm
        delta = 2 * delta / z.norm(dim=-1).amin(-1).clamp_min(tol.eps(g.dtype))
    round_sv = float(tol.sum_of_products(g.dtype, n * k, float(sv.max())))
    thr = delta + round_sv
    ranks = (sv > thr[:, None]).sum(-1)
    rank, db = int(ranks[bi]), float(delta[bi])
    at_opt = cand.certified & ((f - fb).abs() <= cand.ftol + cand.ftol[bi])
    idx = at_opt.nonzero().flatten()
    out.delta, out.rank_threshold, out.rank = db, float(thr[bi]), rank
    out.collapse = "complete" if rank == 0 else "dimensional" if rank < full else "none"
    out.starts_at_optimum = len(idx)
    out.rank_set = dict(sorted(Counter(int(r) for r in ranks[idx]).items()))
    # --- optima up to relabelling: centred Gram matrices, ‖ZZᵀ − Z'Z'ᵀ‖_F ≤ (2σ₁ + δ)δ + rounding per side
    grams = zc[idx] @ zc[idx].transpose(-2, -1)
    gtol = (2 * sv[idx, 0] + delta[idx]) * delta[idx] + n * float(tol.sum_of_products(g.dtype, k, float(sv.max()) ** 2))
    ident = torch.arange(n, device=g.device)[None]
    reps = cluster_grams(grams, gtol, ident)
    out.distinct_labelled = len(reps)
    if len(reps) > 1:
        perms, complete = automorphisms(g)
        inv = invariant_relabellings(obj, perms, z[bi], float(cand.ftol[bi]), seed)
        out.relabellings = len(inv)
        if not complete:
            out.warnings.append(f"Aut(G) search stopped at {len(perms)} automorphisms: distinct optima may be over-counted")
        reps = cluster_grams(grams, gtol, inv)
    out.distinct_optima, out.starts_agree = len(reps), len(reps) == 1
    # a continuum: f constant along a flat direction, several Gram matrices at f⋆ with flat directions there, or
    # f⋆ all along the segment between two distinct optima (rotation-aligned) or between an optimum and collapse
    flat_at_opt = cand.flat is not None and bool((cand.flat[idx] > 0).any())
    out.continuum = cand.continuum or (len(reps) > 1 and flat_at_opt) or segment_at_optimum(
        obj, [z[idx[i]] for i in reps] + ([collapsed_z] if collapsed_z is not None else []), fb, float(cand.ftol[bi]), sym)
    out.positives_coincide = out.positives_gap <= 2 * db + round_sv
    # --- Laplacian bottom eigenspace (on 1⊥), ties included
    u_b = torch.linalg.svd(zcb, full_matrices=False)[0][:, :rank]
    sin_tol = math.sqrt(max(rank, 1)) * db / max(float(sv[bi, rank - 1]) - db, tol.eps(g.dtype)) if rank else 0.0
    lam, vec = centred_eigh(laplacian(g))
    eig_round = float(tol.sum_of_products(g.dtype, n, float(lam[-1].abs()) + 1.0))
    if rank:
        m = int((lam <= lam[rank - 1] + eig_round).sum())
        out.laplacian_residual = float((u_b - vec[:, :m] @ (vec[:, :m].T @ u_b)).norm())
        gaps = lam[m:] - lam[rank - 1]
        out.laplacian_tolerance = sin_tol + (math.sqrt(rank) * eig_round / float(gaps.min()) if len(gaps) and float(gaps.min()) > 0 else 0.0) + eig_round
        out.laplacian_subspace = out.laplacian_residual <= out.laplacian_tolerance
    if spec.labels is not None and spec.kind != "augmentation":
        y = one_hot(spec.labels).to(g)
        hy = y - y.mean(0)
        res = hy - (u_b @ (u_b.T @ hy) if rank else 0.0)
        out.probe_residual = float(res.square().sum() / hy.square().sum())
        out.probe_tolerance = (db / max(float(sv[bi, rank - 1]) - db, tol.eps(g.dtype))) ** 2 + round_sv if rank else 0.0
        out.probe_recovers = out.probe_residual <= out.probe_tolerance
    return out


def _rotation(obj: GraphObjective, out: GraphOptimum, zb: torch.Tensor, fb: torch.Tensor, gb: torch.Tensor, seed: int) -> None:
    """Claim 11: L(ZQ) = L(Z) for orthogonal Q, at the optimum and at a random Z (4 Haar-random Q each)."""
    n, k = zb.shape
    q = torch.linalg.qr(_randn(seed + 11, 4, k, k, like=zb))[0]
    zr = _randn(seed + 12, n, k, like=zb)
    fr, gr = value_grad(obj, zr[None], "rotation invariance")
    worst, worst_tol = -math.inf, 0.0
    # the size of the terms the loss is computed from: |L| at a generic (random) Z, where nothing cancels — at an
    # optimum L itself can be 0 while its terms are O(1) (BYOL's 2 − 2cos), and rounding scales with the terms
    terms = abs(float(fr[0]))
    for z0, f0, g0 in ((zb, fb, gb), (zr, fr[0], gr[0])):
        with torch.no_grad():
            fq = obj(z0 @ q)
        t = k * float(tol.value_tolerance(f0, z0, z0, g0, None, abs(float(f0)) + terms))
        change = float((fq - f0).abs().max())
        if change - t > worst - worst_tol:
            worst, worst_tol = change, t
    out.rotation_change, out.rotation_tolerance = worst, worst_tol
    out.rotation_invariant = worst <= worst_tol
