"""The candidate optima of :func:`ssl_props.profile.optimum.optimise_on_graph` and their status.

:class:`Candidates` holds the points the measurements are taken on (the L-BFGS starts, the smoothing
continuation's points, or the optimal sign patterns) with per-point certificates (:mod:`.certify`,
:mod:`.nonsmooth`); :func:`status_of` decides the status of the best one, in this order: "infimum not
attained" (the ray ``f(sZ⋆)`` keeps falling), "not converged" (collapse or a scaled copy is lower, or no
certificate), "optimum".
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from ssl_props import tolerances as tol
from ssl_props.profile.certify import certify_starts, ray_test
from ssl_props.profile.graph_losses import GraphObjective, ProfileFailure, UnboundedBelow
from ssl_props.profile.nonsmooth import WIDTHS, certify_nonsmooth, continuation, smoothed, suspended_smoothing

__all__ = ["Candidates", "value_grad", "guarded", "rounding_of", "from_lbfgs", "from_nonsmooth", "status_of"]


def value_grad(obj: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor, step: str) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.enable_grad():
        zz = z.detach().requires_grad_(True)
        f = obj(zz)
        if not f.requires_grad:
            raise ProfileFailure(f"step '{step}' on graph {getattr(obj, 'graph', 'G')}: the loss has no gradient with respect to Z "
                                 "(detached or computed outside torch); build it from torch operations on its inputs")
        (g,) = torch.autograd.grad(f.sum(), zz, allow_unused=True)
    if g is None:
        raise ProfileFailure(f"step '{step}' on graph {getattr(obj, 'graph', 'G')}: the loss does not depend on Z")
    return f.detach(), g


def guarded(obj: GraphObjective) -> Callable[[torch.Tensor], torch.Tensor]:
    """``obj`` raising one line when a value is not finite: :class:`UnboundedBelow` for ``−inf``, or for a
    NaN/inf reached after the loss fell without bound (the last finite iterate ``Z`` of that start is below
    every start by more than ``(|f₀| + 1)/√eps`` and ``f(sZ)`` descends along the ray up to it: an overflow of a
    loss that has no minimum, :func:`_fell_without_bound`); else
    :class:`ProfileFailure` (a NaN or +inf the loss should guard against)."""
    seen: dict[str, torch.Tensor] = {}

    def fun(z: torch.Tensor) -> torch.Tensor:
        f = obj(z)
        finite = torch.isfinite(f)
        if not bool(finite.all()):
            bad = int((~finite).nonzero()[0])
            value = float(f[bad].detach())
            where = f"step 'optimise' on graph {obj.graph}: the loss became {value} at start {bad}"
            if value == -math.inf:
                raise UnboundedBelow(where + ": unbounded below on this graph")
            fell = _fell_without_bound(obj, seen, bad)
            if fell:
                raise UnboundedBelow(f"{where} after falling without bound ({fell}): unbounded below on this graph")
            raise ProfileFailure(f"{where}; guard divisions and logs (add an eps) so it stays finite")
        seen.setdefault("f0", f.detach())
        seen["z"], seen["f"] = z.detach(), f.detach()
        return f
    return fun


def _fell_without_bound(obj: GraphObjective, seen: dict[str, torch.Tensor], start: int) -> str:
    """The evidence that start ``start`` overflowed because the loss has no lower bound ('' when there is none):
    its last finite iterate ``Z`` is below every start by more than ``(|f₀| + 1)/√eps`` and ``f(sZ)`` descends
    along the ray for ``s = 1/8, 1/4, 1/2, 1`` (:func:`~ssl_props.profile.certify.ray_test` from ``Z/8``; the
    ray beyond ``Z`` overflows)."""
    if "z" not in seen or seen["z"].shape[0] <= start:
        return ""
    z, f = seen["z"][start], float(seen["f"][start])
    f0 = seen["f0"]
    drop = (float(f0.abs().max()) + 1) / math.sqrt(tol.eps(z.dtype))
    if not f < float(f0.min()) - drop:
        return ""
    with suspended_smoothing():  # the real loss along the ray, and the test's own abs unsmoothed
        kind, vals, _ = ray_test(obj, z / 8, math.inf, scales=(1.0, 2.0, 4.0, 8.0))
    if kind != "descends":
        return ""
    return (f"f = {f:.3g} at max|Z_ij| = {float(z.abs().max()):.2g}, below every start by more than (|f₀| + 1)/√eps; "
            "f(sZ) = " + ", ".join(f"{v:.3g}" for _, v in vals) + " for s = 1/8, 1/4, 1/2, 1")


def rounding_of(f: torch.Tensor, z: torch.Tensor, grad: torch.Tensor, scale: float) -> torch.Tensor:
    """Per-start rounding of the loss value (:func:`ssl_props.tolerances.value_tolerance`, batched)."""
    n, k = z.shape[-2:]
    sens = (z * grad).abs().flatten(1).sum(1)
    return tol.SAFETY * n * k * tol.eps(z.dtype) * (f.abs() + sens + scale)


@dataclass
class Candidates:
    """The points the measurements are taken on: ``z (S, N, K)``, their losses, and per-start certificates."""

    z: torch.Tensor
    f: torch.Tensor
    gn: torch.Tensor
    delta: torch.Tensor  # nan where not certified
    ftol: torch.Tensor
    certified: torch.Tensor
    mu: float
    certificate: str
    continuum: bool  # a flat direction off the symmetries along which f is constant, at some start
    flat: torch.Tensor | None = None  # per start: number of flat directions off the symmetries (free or growing)


def from_lbfgs(obj: GraphObjective, z: torch.Tensor, f: torch.Tensor, grad: torch.Tensor, sym: tuple[str, ...],
                rounding: torch.Tensor, scale: float) -> Candidates:
    cert = certify_starts(obj, z, f, grad, sym, rounding, scale)
    gn = grad.flatten(1).norm(dim=1)
    ftol = torch.where(cert.certified, gn * cert.delta.nan_to_num(0.0) + rounding,
                       rounding + math.sqrt(tol.eps(z.dtype)) * (f.abs() + scale))
    best = int(f.argmin())
    return Candidates(z, f, gn, cert.delta, ftol, cert.certified, float(cert.mu[best]), cert.reason[best],
                       bool((cert.flat_free > 0).any()), cert.flat_free + cert.flat_growing)


def from_nonsmooth(obj: GraphObjective, z: torch.Tensor, hits: dict[str, int], scale: float, seed: int,
                   moves: list | None, sym: tuple[str, ...]) -> tuple[Candidates, str]:
    """Candidates of a loss with kinks (:mod:`ssl_props.profile.nonsmooth`). With intercepted kinks (``hits``): the
    smoothing continuation's points, certified on the smoothed loss ``f_w`` (``w = WIDTHS[-1]``) by the
    second-order certificate; loss tolerance ``‖∇f_w‖·δ_w + SAFETY·(f_w − f) + rounding`` (``f ≤ f_w``); the
    distance to the real minimiser ``δ ≈ δ_w + SAFETY·w·log(1/w)`` (an estimate: a smoothed kink moves by about
    ``w·log(1/w)``). Else, or where that fails: gradient-sampling certificates at the starts near the best."""
    if hits:
        if moves is None:  # kinks that appeared only at the L-BFGS points
            z, *moves = continuation(guarded(obj), z)
        w, gap = WIDTHS[-1], moves[1]
        fw_obj = smoothed(obj, w)
        fw, gw = value_grad(fw_obj, z, "measure")
        rounding_w = rounding_of(fw, z, gw, scale)
        cert = certify_starts(fw_obj, z, fw, gw, sym, rounding_w, scale)
        f, grad = value_grad(obj, z, "measure")
        rounding = rounding_of(f, z, grad, scale)
        gn = gw.flatten(1).norm(dim=1)
        d = cert.delta + tol.SAFETY * w * math.log(1 / w)
        ftol = rounding + torch.where(cert.certified, gn * cert.delta.nan_to_num(0.0) + tol.SAFETY * gap,
                                      math.sqrt(tol.eps(z.dtype)) * (f.abs() + scale))
        bi = int(f.argmin())
        line = (f"smoothed loss (kinks: {', '.join(hits)}; w = {w:g}, continuation from 1e-1): {cert.reason[bi]}; "
                f"real loss f ≤ f_w ≤ f + {float(gap[bi]):.2g} there; distance to the real minimiser ≈ δ + 8w·log(1/w) = "
                f"{float(d[bi]):.2g} (estimate; gradient consistency, Chen 2012)")
        if bool(cert.certified[bi]):
            return (Candidates(z, f, gn, d, ftol, cert.certified, float(cert.mu[bi]), line, bool((cert.flat_free > 0).any()),
                               cert.flat_free + cert.flat_growing), f"smoothing continuation of {', '.join(hits)}")
    f, grad = value_grad(obj, z, "measure")
    rounding = rounding_of(f, z, grad, scale)
    bi = int(f.argmin())
    near = ((f - f[bi]).abs() <= rounding + rounding[bi] + math.sqrt(tol.eps(z.dtype)) * (f[bi].abs() + scale)).nonzero().flatten()
    ok, rho, delta, lines = certify_nonsmooth(obj, z[near], f[near], rounding[near], torch.zeros_like(f[near]), seed)
    certified = torch.zeros_like(f, dtype=torch.bool)
    certified[near] = ok
    d = torch.full_like(f, math.nan)
    d[near] = torch.where(ok, delta, math.nan)
    gn = grad.flatten(1).norm(dim=1)
    gn[near] = rho
    ftol = rounding + torch.where(certified, gn * d.nan_to_num(0.0), math.sqrt(tol.eps(z.dtype)) * (f.abs() + scale))
    line = lines[int((near == bi).nonzero()[0])]
    return Candidates(z, f, gn, d, ftol, certified, math.nan, line, False, None), "gradient sampling"


def status_of(obj: GraphObjective, cand: Candidates, collapsed: dict[str, float | None], warnings: list[str],
            z_start_norm: float) -> tuple[str, str, list[tuple[float, float]]]:
    """``(status, certificate, ray values)`` of the best candidate (module docstring: the order of the tests)."""
    bi = int(cand.f.argmin())
    zb, fb, ftol = cand.z[bi], float(cand.f[bi]), float(cand.ftol[bi])
    ray, vals, r = ray_test(obj, zb, fb)
    if ray == "descends":
        return ("infimum not attained", "f(sZ⋆) = " + ", ".join(f"{v:.3g}" for _, v in vals) + " for s = "
                + ", ".join(f"{s:g}" for s, _ in vals) + f" (rounding floor {r:.2g}): the loss decreases along the ray "
                f"(‖Z‖: {z_start_norm:.3g} at the starts, {float(zb.norm()):.3g} at the best point), its infimum is approached "
                "as ‖Z‖ → ∞", vals)
    low = [v for v in collapsed.values() if v is not None]
    if low and min(low) < fb - ftol:
        return ("not converged", f"complete collapse has a lower loss ({min(low):.6g}) than the best start ({fb:.6g} ± {ftol:.2g})",
                vals)
    if ray == "lower":
        return ("not converged", "f(sZ⋆) = " + ", ".join(f"{v:.3g}" for _, v in vals) + ": a scaled copy of the best point is lower", vals)
    if not bool(cand.certified[bi]):
        return "not converged", cand.certificate, vals
    return "optimum", cand.certificate, vals
