r"""Certificates for the optima of :mod:`ssl_props.profile.optimum`: is a point an optimum, and how far from one.

A point ``Z`` with gradient ``g = ∇f(Z)`` is an optimum when the loss's second-order model certifies it
(Nocedal & Wright, *Numerical Optimization*, Thm 2.4; Kantorovich's theorem for the distance):

* the Hessian ``H`` at ``Z`` restricted to the complement of the symmetry tangents (rotations, translations,
  row/column scalings that leave ``f`` unchanged, measured by :func:`symmetries`) has smallest eigenvalue
  ``μ > 0``; then the minimiser of the quadratic model lies within ``δ = SAFETY·‖g‖/μ`` and
  ``f − f⋆ ≤ SAFETY·‖g‖²/(2μ)``;
* the model is trusted on that ball only when the curvature persists there: the smallest curvature at
  ``Z + 2δ·u`` (``u`` the Newton direction) is still ``≥ μ/2`` (the Kantorovich condition
  ``‖g‖ ≤ μ²/(2M)`` with ``M`` the Hessian's Lipschitz constant measured on that segment);
* a direction of flat curvature (``|λ| ≤ √eps·max|λ|``) that is no symmetry is probed at ``±s``,
  ``s = 10⁻²‖Z‖``: the loss grows both ways like ``c s⁴`` (a degenerate minimum:
  ``δ ≤ SAFETY·(‖g‖/(4c))^{1/3}``), does not change (a CONTINUUM of minimisers through ``Z``), or
  decreases (no minimum);
* a negative eigenvalue ``λ < −√eps·max|λ|``, or a curvature that does not persist, is no certificate:
  the point is "not converged" and ``δ`` is undefined (never 0).

Everything is batched over the ``S`` starts: the per-start Hessians come from ``N·K`` Hessian-vector
products of the batched objective (its Hessian is block diagonal over starts).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ssl_props import tolerances as tol
from ssl_props.profile.graph_losses import GraphObjective

__all__ = ["symmetries", "tangents", "hessians", "StartCertificates", "certify_starts", "ray_test"]

SYMMETRIES = ("rotation", "translation", "row_scale", "column_scale")


def tangents(names: tuple[str, ...] | list[str], z: torch.Tensor) -> torch.Tensor:
    """Tangent directions of the orbits of the named symmetries at each start: ``(S, m, N·K)``."""
    s, n, k = z.shape
    eye_k = torch.eye(k, dtype=z.dtype, device=z.device)
    eye_n = torch.eye(n, dtype=z.dtype, device=z.device)
    out = []
    if "rotation" in names:
        out += [z @ (eye_k[:, [a]] @ eye_k[[b]] - eye_k[:, [b]] @ eye_k[[a]]) for a in range(k) for b in range(a + 1, k)]
    if "translation" in names:
        out += [torch.ones_like(z[..., :1]) * eye_k[j] for j in range(k)]
    if "row_scale" in names:
        out += [z * eye_n[:, [i]] for i in range(n)]
    if "column_scale" in names:
        out += [z * eye_k[j] for j in range(k)]
    if not out:
        return z.new_zeros(s, 0, n * k)
    return torch.stack(out, 1).reshape(s, len(out), n * k)


def symmetries(obj: GraphObjective, z: torch.Tensor, f: torch.Tensor, rounding: float) -> tuple[str, ...]:
    """The continuous symmetries the loss has at ``z`` (one point ``(N, K)``; measured: two random moves each,
    change within the value's rounding ``K·rounding``)."""
    n, k = z.shape
    gen = torch.Generator().manual_seed(7)
    rnd = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float64).to(z)  # noqa: E731
    uni = lambda *s: 0.5 + torch.rand(*s, generator=gen, dtype=torch.float64).to(z)  # noqa: E731
    moves = {"rotation": z @ torch.linalg.qr(rnd(2, k, k))[0], "translation": z + rnd(2, 1, k),
             "row_scale": z * uni(2, n, 1), "column_scale": z * uni(2, 1, k)}
    out = []
    for name, moved in moves.items():
        with torch.no_grad():
            fm = obj(moved)
        if bool(((fm - f).abs() <= k * rounding).all()) and (name != "rotation" or k > 1):
            out.append(name)
    return tuple(out)


def hessians(obj: GraphObjective, z: torch.Tensor) -> torch.Tensor:
    """Per-start Hessians ``(S, N·K, N·K)`` from ``N·K`` Hessian-vector products of the batched objective."""
    s, n, k = z.shape
    m = n * k
    with torch.enable_grad():
        zz = z.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(obj(zz).sum(), zz, create_graph=True)
        gf = g.reshape(s, m)
        if not gf.requires_grad:  # a loss linear in Z
            return z.new_zeros(s, m, m)
        eye = torch.eye(m, dtype=z.dtype, device=z.device)
        try:
            (h,) = torch.autograd.grad(gf, zz, grad_outputs=eye[:, None, :].expand(m, s, m), is_grads_batched=True,
                                       retain_graph=True, allow_unused=True)
            h = torch.zeros(m, s, n, k, dtype=z.dtype, device=z.device) if h is None else h
            h = h.reshape(m, s, m).transpose(0, 1)
        except RuntimeError:  # the loss refuses the batched backward: one product per column
            cols = []
            for j in range(m):
                (hj,) = torch.autograd.grad(gf[:, j].sum(), zz, retain_graph=True, allow_unused=True)
                cols.append(torch.zeros_like(gf) if hj is None else hj.reshape(s, m))
            h = torch.stack(cols, 1)
    h = h.detach()
    return (h + h.transpose(-2, -1)) / 2


def _restricted_spectrum(h: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Eigenpairs of ``P H P`` (``P`` projects off the span of the tangents ``t``), and a mask of the
    eigenvectors outside that span: ``(λ (S, m), V (S, m, m), keep (S, m))``."""
    s, m, _ = h.shape
    eye = torch.eye(m, dtype=h.dtype, device=h.device)
    if t.shape[1]:
        u, sv, _ = torch.linalg.svd(t.transpose(-2, -1), full_matrices=False)
        basis = u * (sv > math.sqrt(tol.eps(h.dtype)) * sv.amax(-1, keepdim=True).clamp_min(tol.eps(h.dtype)))[:, None, :]
        proj = eye - basis @ basis.transpose(-2, -1)
    else:
        basis = h.new_zeros(s, m, 0)
        proj = eye.expand(s, m, m)
    lam, vec = torch.linalg.eigh(proj @ h @ proj)
    keep = (vec.transpose(-2, -1) @ basis).norm(dim=-1) < 0.5 if basis.shape[-1] else torch.ones_like(lam, dtype=torch.bool)
    return lam, vec, keep


@dataclass
class StartCertificates:
    """Per-start second-order certificates (tensors of shape ``(S,)`` unless said)."""

    mu: torch.Tensor  # smallest curvature off the symmetries (inf when every such direction is flat)
    delta: torch.Tensor  # distance bound to the solution set (nan where not certified)
    certified: torch.Tensor  # bool
    reason: list[str]  # per start: the certificate line, or why there is none
    flat_free: torch.Tensor  # number of flat directions along which f does not change (a continuum)
    flat_growing: torch.Tensor  # number of degenerate (quartic-growth) directions


def certify_starts(obj: GraphObjective, z: torch.Tensor, f: torch.Tensor, grad: torch.Tensor, sym: tuple[str, ...],
                   rounding: torch.Tensor, scale: float) -> StartCertificates:
    """Certify every start ``z (S, N, K)`` as a local minimum (module docstring); ``rounding`` is the
    per-start rounding of the loss value (``(S,)``), ``scale`` the size of the loss's terms."""
    s, n, k = z.shape
    m = n * k
    gn = grad.reshape(s, -1).norm(dim=1)
    lam, vec, keep = _restricted_spectrum(hessians(obj, z), tangents(sym, z))
    big = torch.where(keep, lam.abs(), 0.0).amax(-1)
    curv_scale = (f.abs() + scale + 1.0) / z.reshape(s, -1).square().sum(1).clamp_min(1.0)
    flat_thr = math.sqrt(tol.eps(z.dtype)) * torch.maximum(big, curv_scale)
    flat = keep & (lam.abs() <= flat_thr[:, None])
    neg = keep & (lam < -flat_thr[:, None])
    pos = keep & (lam > flat_thr[:, None])
    mu = torch.where(pos, lam, math.inf).amin(-1)
    mu = torch.where(neg.any(-1), torch.where(neg, lam, math.inf).amin(-1), mu)
    delta = torch.where(pos.any(-1), tol.SAFETY * gn / mu.clamp_min(tol.eps(z.dtype)), torch.zeros_like(gn))
    # flat directions that are no symmetry: probe ±s (one batched call for all starts)
    step = 1e-2 * z.reshape(s, -1).norm(dim=1).clamp_min(1.0)
    idx = flat.nonzero()
    free = torch.zeros(s, dtype=torch.long, device=z.device)
    grow = torch.zeros_like(free)
    down = torch.zeros(s, dtype=torch.long, device=z.device)
    if len(idx):
        v = vec[idx[:, 0], :, idx[:, 1]]  # (F, m)
        st = step[idx[:, 0]][:, None]
        pts = torch.cat([z[idx[:, 0]].reshape(-1, m) + st * v, z[idx[:, 0]].reshape(-1, m) - st * v]).reshape(-1, n, k)
        with torch.no_grad():
            fv = obj(pts).reshape(2, len(idx))
        rise = fv - f[idx[:, 0]]
        r = k * rounding[idx[:, 0]]
        is_grow = (rise > r).all(0)
        is_free = (rise.abs() <= r).all(0)
        is_down = (rise < -r).any(0)
        free.index_add_(0, idx[:, 0], is_free.long())
        grow.index_add_(0, idx[:, 0], is_grow.long())
        down.index_add_(0, idx[:, 0], (is_down | ~(is_grow | is_free)).long())  # cubic: no minimum either
        c = torch.where(is_grow, rise.min(0).values / st[:, 0] ** 4, math.inf)
        cmin = torch.full((s,), math.inf, dtype=z.dtype, device=z.device).scatter_reduce(0, idx[:, 0], c, "amin")
        quartic = tol.SAFETY * (gn / (4 * cmin)).pow(1 / 3)
        delta = torch.where(grow > 0, torch.maximum(delta, quartic), delta)
    # the curvature persists on the ball: at Z + 2δ_q u (δ_q = SAFETY‖∇f‖/μ, u the Newton step's direction) the
    # Hessian compressed to the eigenvectors of positive curvature at Z keeps its smallest eigenvalue ≥ μ/2
    persist = torch.ones(s, dtype=torch.bool, device=z.device)
    has_pos = pos.any(-1) & (gn > 0)
    if bool(has_pos.any()):
        inv = torch.where(pos, 1.0 / lam.clamp_min(tol.eps(z.dtype)), 0.0)
        newton = -(vec @ (inv[..., None] * (vec.transpose(-2, -1) @ grad.reshape(s, m, 1)))).squeeze(-1)
        u = newton / newton.norm(dim=1, keepdim=True).clamp_min(torch.finfo(z.dtype).tiny)
        dq = torch.where(pos.any(-1), tol.SAFETY * gn / mu.clamp_min(tol.eps(z.dtype)), torch.zeros_like(gn))
        zs = z + (2 * dq[:, None] * u).reshape(s, n, k)
        c = vec.transpose(-2, -1) @ hessians(obj, zs) @ vec
        both = pos[:, :, None] & pos[:, None, :]
        pad = torch.diag_embed(torch.where(pos, 0.0, 1.0)) * (lam.abs().amax(-1) * 4 + 1)[:, None, None]
        mu2 = torch.linalg.eigvalsh(torch.where(both, c, 0.0) + pad)[:, 0]
        persist = ~has_pos | (mu2 >= mu / 2)
    down = down > 0
    certified = ~neg.any(-1) & ~down & persist
    reason = []
    for i in range(s):  # the strings only (S ≤ a few dozen)
        if bool(neg[i].any()):
            reason.append(f"negative curvature μ={float(mu[i]):.3g} off the symmetries at ‖∇f‖={float(gn[i]):.3g}: a saddle or unconverged point")
        elif bool(down[i]):
            reason.append(f"a flat direction off the symmetries along which the loss decreases (‖∇f‖={float(gn[i]):.3g})")
        elif not bool(persist[i]):
            reason.append(f"‖∇f‖={float(gn[i]):.3g}, μ={float(mu[i]):.3g}: the curvature does not persist on the ball of radius 2δ")
        else:
            parts = [f"‖∇f‖={float(gn[i]):.3g}, μ={float(mu[i]):.3g} ⇒ δ ≤ {float(delta[i]):.3g}"]
            if int(grow[i]):
                parts.append(f"{int(grow[i])} degenerate direction(s) with quartic growth (δ ≤ 8(‖∇f‖/4c)^(1/3))")
            if int(free[i]):
                parts.append(f"{int(free[i])} flat direction(s) off the symmetries where f does not change (a continuum of minimisers)")
            reason.append("; ".join(parts))
    delta = torch.where(certified, delta, math.nan)
    return StartCertificates(mu, delta, certified, reason, free, grow)


def ray_test(obj: GraphObjective, z: torch.Tensor, f: float,
             scales: tuple[float, ...] = (1.0, 10.0, 100.0, 1000.0)) -> tuple[str, list[tuple[float, float]], float]:
    """``f(sZ)`` along the ray through ``Z`` (one point), compared at the measured rounding floor: ``r_s`` =
    SAFETY × the largest change of ``f(sZ)`` under four relative input perturbations of one unit roundoff
    (the loss's own rounding at that point, whatever its terms) plus ``SAFETY·eps·|f(sZ)|``.

    ``"descends"``: non-increasing in ``s`` (steps within ``r``) and ``f(1000Z) < f(Z) − r``: the loss keeps
    falling as ``‖Z‖ → ∞``; ``"lower"``: some ``sZ`` below ``f − r`` but the ray turns up again (a better
    point exists: not converged); else ``"flat or rises"``. Returns ``(kind, [(s, f(sZ))], r at s = 1)``."""
    e = tol.eps(z.dtype)
    gen = torch.Generator().manual_seed(3)
    pert = 1 + e * torch.randn(4, *z.shape, generator=gen, dtype=torch.float64).to(z)
    pts = torch.stack([c * z * torch.cat([torch.ones_like(pert[:1]), pert]) for c in scales])  # (C, 5, N, K)
    with torch.no_grad():
        fs = obj(pts.reshape(-1, *z.shape)).reshape(len(scales), 5)
    vals = [(c, float(v)) for c, v in zip(scales, fs[:, 0])]
    if not bool(torch.isfinite(fs).all()):
        return "flat or rises", vals, math.nan
    r = tol.SAFETY * ((fs[:, 1:] - fs[:, :1]).abs().amax(1) + e * fs[:, 0].abs())
    f_ray = fs[:, 0]
    steps_ok = bool((f_ray[1:] - f_ray[:-1] <= torch.maximum(r[1:], r[:-1])).all())
    if steps_ok and float(f_ray[-1]) < min(f, float(f_ray[0])) - float(r[0] + r[-1]):
        return "descends", vals, float(r[0])
    if bool((f_ray[1:] < f - (r[0] + r[1:])).any()):
        return "lower", vals, float(r[0])
    return "flat or rises", vals, float(r[0])
