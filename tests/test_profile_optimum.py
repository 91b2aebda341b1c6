"""The profile's optima are optima (issue 20, items 3 and 6), each against an independent computation.

Independent sides are written here with SciPy / plain torch / itertools, never with ssl_props.profile:
a smooth epigraph reformulation of hinge VICReg solved by SLSQP, a brute-force loop over sign patterns,
the automorphism count of the augmentation graph by counting (N'! · (V!)^N').
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.optimize import minimize

from ssl_props.graphs import augmentation_graph
from ssl_props.losses import LOSSES
from ssl_props.profile.certify import certify_starts, symmetries
from ssl_props.profile.feeding import Feeding
from ssl_props.profile.graph_losses import graph_objective
from ssl_props.profile.optimum import GraphSpec, optimise_on_graph
from ssl_props.profile.relabel import automorphisms, cluster_grams
from ssl_props.spectral import lbfgs, vicreg_spectral_loss

EPS_STD = 1e-4  # VICReg's eps inside the std (lightly / official code)


def aug(ns: int, nv: int, k: int) -> GraphSpec:
    return GraphSpec(f"aug {ns}x{nv} K={k}", "augmentation", augmentation_graph(ns, nv), k, torch.arange(ns).repeat(nv), ns, nv)


def vicreg_hinge(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """lightly's VICRegLoss() (λ = μ = 25, ν = 1): the std hinge relu(1 − √(Var + eps)), unbiased variance."""
    def var(z):
        return F.relu(1 - torch.sqrt(z.var(0) + EPS_STD)).mean()

    def cov(z):
        zc = z - z.mean(0)
        c = zc.T @ zc / (z.shape[0] - 1)
        return (c.square().sum() - c.diagonal().square().sum()) / z.shape[1]
    return 25 * F.mse_loss(z1, z2) + 12.5 * (var(z1) + var(z2)) + cov(z1) + cov(z2)


def natural(ns: int, nv: int = 2) -> Feeding:
    """The batch lightly's losses are trained on: view-1 rows (nodes 0..N'−1) against view-2 rows (N'..2N'−1)."""
    return Feeding("views", (torch.arange(ns), torch.arange(ns, 2 * ns)))


def slsqp_epigraph(ns: int, k: int, starts: int = 6) -> tuple[float, np.ndarray]:
    """min over (Z, t): 25 mse + 12.5 (mean t₁ + mean t₂) + cov₁ + cov₂ s.t. t ≥ 1 − std, t ≥ 0 (smooth: the hinge
    becomes its epigraph), on the natural batch z₁ = Z[:N'], z₂ = Z[N':]. SLSQP, numpy only."""
    rows, cols = np.arange(ns), np.arange(ns, 2 * ns)
    n = 2 * ns
    nz = n * k

    def parts(x):
        z = x[:nz].reshape(n, k)
        return z[rows], z[cols], x[nz:nz + k], x[nz + k:]

    def cov(z):
        zc = z - z.mean(0)
        c = zc.T @ zc / (len(z) - 1)
        return (np.square(c).sum() - np.square(np.diag(c)).sum()) / k

    def obj(x):
        a, b, t1, t2 = parts(x)
        return 25 * np.mean((a - b) ** 2) + 12.5 * (t1.mean() + t2.mean()) + cov(a) + cov(b)

    def hinge(x):
        a, b, t1, t2 = parts(x)
        return np.concatenate([t1 - (1 - np.sqrt(a.var(0, ddof=1) + EPS_STD)), t2 - (1 - np.sqrt(b.var(0, ddof=1) + EPS_STD))])

    best, best_z = math.inf, None
    rng = np.random.default_rng(0)
    for _ in range(starts):
        x0 = np.concatenate([rng.standard_normal(nz), np.ones(2 * k)])
        res = minimize(obj, x0, method="SLSQP", bounds=[(None, None)] * nz + [(0, None)] * (2 * k),
                       constraints=[{"type": "ineq", "fun": hinge}], options={"ftol": 1e-14, "maxiter": 2000})
        if res.fun < best:
            best, best_z = float(res.fun), res.x[:nz].reshape(n, k)
    return best, best_z


def test_hinge_vicreg_reaches_the_epigraph_optimum():
    spec = aug(3, 2, 4)
    opt = optimise_on_graph(vicreg_hinge, spec, starts=8, feeding=natural(3))
    f_ref, z_ref = slsqp_epigraph(3, spec.k)
    # SLSQP's ftol = 1e-14 is its precision goal on f (relative to |f| ≈ 2): both sides within their tolerances
    assert opt.status == "optimum" and opt.nonsmooth, opt.certificate
    assert abs(opt.loss - f_ref) <= opt.loss_tolerance + 1e-14 * abs(f_ref) * 8, (opt.loss, f_ref)
    # rank of the SLSQP optimum: its nonzero singular values are O(1) (each std sits on the hinge: var = 1 − eps)
    # and the rest are at SLSQP's step accuracy √ftol·‖Z‖ ≈ 1e-7·3; count above √ftol·‖Z‖·SAFETY
    sv = np.linalg.svd(z_ref - z_ref.mean(0), compute_uv=False)
    rank_ref = int((sv > 8 * 1e-7 * np.linalg.norm(z_ref)).sum())
    assert (opt.rank, rank_ref) == (2, 2) and opt.positives_coincide
    assert abs(f_ref - 2 * (1 - EPS_STD) ** 2) <= 1e-9  # the value, by the independent side


def test_hinge_vicreg_plain_lbfgs_point_is_not_certified():
    """Where plain L-BFGS stalls on the hinge's kink the certificate must refuse the point (the old code set δ = 0
    there and counted unconverged singular values as rank): no start is certified and δ is undefined."""
    spec = aug(3, 2, 4)
    obj = graph_objective(vicreg_hinge, spec.g, feeding=natural(3), graph="g")
    z0 = torch.randn(4, 6, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    obj.choose_batching(z0)
    z = lbfgs(obj, z0, gtol=1e-10, max_iter=100)[0]
    with torch.enable_grad():
        zz = z.clone().requires_grad_(True)
        f = obj(zz)
        (gr,) = torch.autograd.grad(f.sum(), zz)
    b = int(f.argmin())
    sym = symmetries(obj, z[b], f[b].detach(), 1e-13)
    cert = certify_starts(obj, z, f.detach(), gr, sym, torch.full((4,), 1e-13, dtype=torch.float64), 2.0)
    assert not bool(cert.certified.any()) and bool(torch.isnan(cert.delta).all()), cert.reason
    assert float(f.detach().min()) > 2 * (1 - EPS_STD) ** 2 + 1e-9  # and indeed it is above the true minimum


def test_a_point_that_is_no_minimum_is_not_certified():
    """Mutation of the certificate: a random Z of the spectral VICReg (‖∇f‖ large, a saddle-like point) and a
    strict saddle (the origin, μ < 0) are not optima, and their δ is undefined (nan), never 0."""
    spec = aug(3, 2, 2)
    obj = graph_objective(lambda z, g: vicreg_spectral_loss(z, g, gamma=0.4), spec.g, form="graph", graph="g")
    z = torch.cat([torch.randn(1, 6, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64),
                   1e-3 * torch.ones(1, 6, 2, dtype=torch.float64)])
    obj.choose_batching(z)
    with torch.enable_grad():
        zz = z.clone().requires_grad_(True)
        f = obj(zz)
        (gr,) = torch.autograd.grad(f.sum(), zz)
    sym = symmetries(obj, z[0], f[0].detach(), 1e-14)
    cert = certify_starts(obj, z, f.detach(), gr, sym, torch.full((2,), 1e-14, dtype=torch.float64), 1.0)
    assert not bool(cert.certified.any()), cert.reason
    assert bool(torch.isnan(cert.delta).all())
    assert float(cert.mu[1]) < 0  # the origin is a saddle of the spectral VICReg


def test_barlow_twins_small_k_infimum_not_attained():
    bt = LOSSES["barlow_twins"].fn
    for spec in (aug(3, 2, 1), aug(3, 2, 2)):  # K ≤ #components − 1 = 2
        opt = optimise_on_graph(bt, spec, starts=8)
        assert opt.status == "infimum not attained", (spec.name, opt.certificate)
        assert opt.rank is None and opt.positives_coincide is None
        vals = [v for _, v in opt.ray_losses]
        assert vals[-1] < vals[0]  # the measured ray falls
    # mutation: a weight decay pins the scale, the minimum is attained: no longer reported as unattained
    opt = optimise_on_graph(lambda a, b: bt(a, b) + 1e-3 * (a.square().mean() + b.square().mean()), aug(3, 2, 1), starts=8)
    assert opt.status != "infimum not attained", opt.certificate


def simsiam_term(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return -F.cosine_similarity(a, b.detach()).mean()


def test_simsiam_term_admits_collapse_and_reports_a_rank_set():
    opt = optimise_on_graph(simsiam_term, aug(3, 2, 2), starts=8)
    assert opt.status == "optimum" and opt.collapse_admitted and opt.continuum
    assert len(opt.rank_set) > 1 and 0 in opt.rank_set, opt.rank_set
    # independent side: complete collapse (one row repeated) gives −1 = the loss's lower bound (cos ≤ 1)
    z = torch.randn(1, 2, dtype=torch.float64).expand(12, 2)
    assert float(simsiam_term(z[:6], z[6:])) == pytest.approx(-1.0, abs=1e-15) and abs(opt.loss + 1) <= opt.loss_tolerance
    # mutation: the spectral VICReg does not admit collapse (its variance term is 4 at Z = 1rᵀ, K = 2)
    vic = optimise_on_graph(lambda z_, g_: vicreg_spectral_loss(z_, g_, gamma=0.4), aug(3, 2, 2), form="graph", starts=8)
    assert vic.status == "optimum" and vic.collapse_admitted is False and vic.rank_set == {2: vic.starts_at_optimum}


def nt_xent(a: torch.Tensor, b: torch.Tensor, tau: float = 0.5) -> torch.Tensor:
    z = F.normalize(torch.cat([a, b]), dim=-1)
    s = z @ z.T / tau
    n = a.shape[0]
    s = s.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
    return F.cross_entropy(s, target)


def test_k1_sign_enumeration_finds_the_brute_force_minimum():
    spec = aug(3, 2, 1)
    opt = optimise_on_graph(nt_xent, spec, starts=4, feeding=natural(3))
    best = min(float(nt_xent(torch.tensor(s[:3], dtype=torch.float64)[:, None], torch.tensor(s[3:], dtype=torch.float64)[:, None]))
               for s in itertools.product((-1.0, 1.0), repeat=6))
    assert opt.method == "sign enumeration" and opt.status == "optimum"
    assert abs(opt.loss - best) <= opt.loss_tolerance, (opt.loss, best)
    # mutation: a loss that is not row-scale invariant at K = 1 is optimised, not enumerated
    opt2 = optimise_on_graph(lambda a, b: nt_xent(a, b) + 1e-2 * (a.square().mean() - 1).square(), spec, starts=4,
                             feeding=natural(3))
    assert opt2.method == "L-BFGS"


def test_relabelled_copies_are_one_optimum():
    g = augmentation_graph(3, 2)
    perms, complete = automorphisms(g)
    assert complete and len(perms) == math.factorial(3) * math.factorial(2) ** 3  # images permuted, views swapped
    assert all(bool((g[p][:, p] == g).all()) for p in perms)
    z = torch.randn(6, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    relabel = torch.tensor([1, 2, 0, 4, 5, 3])  # images permuted: an automorphism
    not_auto = torch.tensor([0, 1, 3, 2, 4, 5])  # swaps a view-1 node with a view-2 node of another image
    assert not bool((g[not_auto][:, not_auto] == g).all())
    grams = torch.stack([z @ z.T, (z @ z.T)[relabel][:, relabel]])
    tols = torch.full((2,), 1e-12, dtype=torch.float64)
    assert len(cluster_grams(grams, tols, perms)) == 1
    assert len(cluster_grams(grams, tols, perms[:1])) == 2  # without relabelling: two
    moved = torch.stack([z @ z.T, (z @ z.T)[not_auto][:, not_auto]])
    assert len(cluster_grams(moved, tols, perms)) == 2  # a permutation that is no automorphism is not identified


def test_vanishing_gradient_at_every_start_is_warned():
    """A loss of the signs only has a zero gradient everywhere: at K = 2 no enumeration applies, so the profile says
    the optimiser could not move (at K = 1 the same loss is enumerated exactly, no warning)."""
    def signs(a, b):
        return (torch.sign(a) * torch.sign(b)).mean() + 0.0 * a.sum()
    opt = optimise_on_graph(signs, aug(3, 2, 2), starts=4)
    assert any("gradient vanishes at every start" in w for w in opt.warnings), opt.warnings
    exact = optimise_on_graph(signs, aug(3, 2, 1), starts=4)
    assert exact.method == "sign enumeration" and not exact.warnings and exact.loss == -1.0
