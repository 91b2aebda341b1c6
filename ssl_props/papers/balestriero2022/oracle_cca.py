"""Balestriero & LeCun (NeurIPS 2022, arXiv:2205.11508): Barlow Twins ↔ CCA in the linear regime, against
``sklearn.cross_decomposition.CCA`` (claims 16-17, remark-bt-cca-basis). The pairing BT ↔ CCA is a secondary
summary [S] (alphaXiv); every statement here is reconstructed [R] (notes: shared/papers/fidelity-2026-12/
balestriero2022_external_oracles.md §5).

* Shared W over the pair listing of G (the paper's code): Xᵀ_left X_right = XᵀGX, Xᵀ_left X_left = XᵀDX, so CCA of
  the two listings is the pencil XᵀGX v = τ XᵀDX v, τ_k = 1 − μ_k (μ: claim13's pencil (XᵀLX, XᵀDX)); at W = V_K
  the BT matrix is diag(τ_1..τ_K) and L_BT = Σ(1 − τ_k)².
* Two views, whitened embeddings (Z_vᵀHZ_v = N·I) and α ≥ 1: min L_BT = Σ_{k≤K}(1 − ρ_k)² at the canonical
  variates (‖C − I‖² ≥ Σ(σ_i(C) − 1)² (von Neumann), σ_i(C) ≤ ρ_i (interlacing), α ≥ 1 only adds off-diagonals).

NIPALS tolerance: sklearn stops when ‖Δw‖² < tol, and each power step contracts the error by q = (ρ_{k+1}/ρ_k)²,
so the remaining error is ≤ √tol·q/(1 − q) per component; deflation carries it to later components (× K).
"""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ssl_props import tolerances as tol
from ssl_props.graphs import augmentation_graph, positive_pairs
from ssl_props.losses import get_loss
from ssl_props.papers.balestriero2022 import oracles as o
from ssl_props.papers.balestriero2022.linear_regime import pencil
from ssl_props.papers.balestriero2022.sampling import GTOL, STARTS, device, fidelity_settings, randn
from ssl_props.properties import PropertyViolation, assert_close, assert_leq, find_counterexample
from ssl_props.spectral import barlow_twins_loss, convergence_tolerances, curvature, lbfgs
from ssl_props.strategies import SEEDS

SK_CCA = o.SK_CCA
TINY = 1e-300  # the registered loss's batch-norm ε: exact standardisation in float64


def shared_problem(ns: int, nv: int, dim: int, seed: int, *, centred: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """(X, G): G the V-view augmentation graph (regular, degree V − 1), X = per-image signal with decaying scales
    (shared by an image's views) + view noise 0.7, centred unless ``centred=False``."""
    g = augmentation_graph(ns, nv, device=device())
    scales = torch.linspace(2.0, 0.3, dim, dtype=torch.float64, device=g.device)
    x = (randn(seed, ns, dim) * scales).repeat(nv, 1) + 0.7 * randn(seed + 1, ns * nv, dim)
    return (x - x.mean(0) if centred else x + 1.5), g


def nipals_angle(rho: np.ndarray, k: int) -> float:
    """Weight-angle error of sklearn's first ``k`` CCA components: K·SAFETY·√tol/(1 − q), q = max (ρ_{j+1}/ρ_j)²."""
    q = max(float((rho[j + 1] / rho[j]) ** 2) for j in range(k))
    return k * tol.SAFETY * np.sqrt(o.CCA_TOL) / (1 - q)


def _listings(x: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    rows, cols = positive_pairs(g)
    return x[rows], x[cols]


@o.pinned
def check_cca_pencil(*, pencil_fn=pencil, loss=barlow_twins_loss, oracle=o.cca) -> None:
    """Shared W, regular G, centred X: sklearn CCA(X_left, X_right)'s ρ_k = 1 − μ_k of our pencil (XᵀLX, XᵀDX),
    its x- and y-weights span our bottom-K pencil vectors, and L_BT(X V_K) = Σ(1 − τ_k)².
    Tolerances: ρ ≤ 4κ(XᵀDX)·(NIPALS angle)² (Rayleigh quotient: quadratic) + rounding; angle ≤ √κ·NIPALS angle +
    davis_kahan(D, κ·max|μ|, gap); value ≤ rounding of N²K² products scaled by κ."""
    @fidelity_settings()
    @given(st.integers(12, 20), st.integers(2, 3), st.integers(3, 5), st.integers(1, 2), SEEDS)
    def prop(ns: int, nv: int, dim: int, k: int, seed: int) -> None:
        x, g = shared_problem(ns, nv, dim, seed % 2**31)
        mu, v = pencil_fn(x, g)
        tau = 1 - o.to_numpy(mu)  # descending
        assume(tau[k - 1] > abs(tau[-1]) and tau[k - 1] > 0.1 and all(tau[j + 1] < 0.95 * tau[j] for j in range(k)))
        xl, xr = _listings(x, g)
        r = oracle(xl, xr, k)
        kappa = float(torch.linalg.cond(xl.T @ xl))
        da = nipals_angle(tau, k)
        n = xl.shape[0]
        rounding = float(tol.sum_of_products(torch.float64, n, kappa))
        assert_close(torch.as_tensor(r["rho"]), torch.as_tensor(tau[:k]), 4 * kappa * da**2 + rounding,
                     claim="sklearn CCA's canonical correlations = 1 − μ_k of the pencil (XᵀLX, XᵀDX)",
                     names=("ρ (sklearn)", "1 − μ (ours)"), inputs=(ns, nv, dim, k))
        bound = kappa**0.5 * da + o.davis_kahan(dim, kappa * float(np.abs(tau).max()), float(tau[k - 1] - tau[k]))
        for side in ("x_weights", "y_weights"):
            a = torch.tensor(o.max_angle(r[side], v[:, :k]), dtype=torch.float64)
            assert_close(a, torch.zeros(()), bound, claim=f"sklearn CCA's {side} span our bottom-K pencil vectors",
                         names=("largest principal angle", "0"), inputs=(ns, nv, dim, k))
        want = torch.tensor(float(((1 - tau[:k]) ** 2).sum()), dtype=x.dtype, device=x.device)
        assert_close(loss(x @ v[:, :k], g), want, float(tol.sum_of_products(torch.float64, n * k * k, kappa * (1 + k))),
                     claim="L_BT(X V_K) = Σ_k (1 − τ_k)² (BT matrix diag(τ) at the canonical basis)", inputs=(ns, nv, dim, k))
    prop()


@o.pinned
def necessity_anticorrelated() -> str:
    """An anti-correlated feature (view 2 = −view 1 along it: τ = −1) is CCA's FIRST pair (|ρ| = 1, x_weights =
    −y_weights), which a shared-weight BT can never use (its C_kk along it is −1)."""
    def refutes(seed: int) -> bool:
        x, g = shared_problem(12, 2, 3, seed)
        n = x.shape[0]
        flip = torch.cat([torch.ones(n // 2), -torch.ones(n // 2)]).to(x) * randn(seed + 7, n // 2, 1).repeat(2, 1)[:, 0]
        xa = torch.cat([x, flip[:, None]], 1)  # view-major: view 2 carries −(view 1) on the new feature
        xa = xa - xa.mean(0)
        xl, xr = _listings(xa, g)
        r = o.cca(xl, xr, 1)
        tau_top = 1 - float(pencil(xa, g)[0][0])
        return bool(abs(r["rho"][0]) > tau_top + 1e-3) and float(np.dot(r["x_weights"][:, 0], r["y_weights"][:, 0])) < 0
    seed = find_counterexample(st.integers(0, 5), refutes, what="anti-correlated feature ranked first by CCA")
    return (f"augmentation G (12 images, 2 views, seed {seed}) + one feature with view 2 = −view 1: sklearn CCA's first "
            f"pair has |ρ| = 1 and x_weights = −y_weights; the shared-W BT/pencil's top τ is smaller")


@o.pinned
def necessity_regular_centred() -> str:
    """Uncentred X (the paper's BT cosine is uncentred, sklearn centres): ρ_k(sklearn) ≠ 1 − μ_k."""
    def refutes(seed: int) -> bool:
        x, g = shared_problem(14, 2, 3, seed, centred=False)
        tau = 1 - o.to_numpy(pencil(x, g)[0])
        r = o.cca(*_listings(x, g), 1)
        return abs(float(r["rho"][0]) - float(tau[0])) > 1e-2
    seed = find_counterexample(st.integers(0, 5), refutes, what="uncentred X with ρ ≠ 1 − μ")
    x, g = shared_problem(14, 2, 3, seed, centred=False)
    tau = 1 - o.to_numpy(pencil(x, g)[0])
    r = o.cca(*_listings(x, g), 1)
    return f"X uncentred (seed {seed}): sklearn ρ_1 = {float(r['rho'][0]):.4f} vs 1 − μ_1 = {float(tau[0]):.4f}"


# --------------------------------------------------------------------------------- two views, whitened BT
def views(n: int, d1: int, d2: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two views sharing a 3-dim latent signal, plus noise 0.8 (distinct canonical correlations a.s.)."""
    s = randn(seed, n, 3)
    return (s @ randn(seed + 1, 3, d1) + 0.8 * randn(seed + 2, n, d1),
            s @ randn(seed + 3, 3, d2) + 0.8 * randn(seed + 4, n, d2))


def whiten(x: torch.Tensor) -> torch.Tensor:
    """H X S^{-1/2}, S = XᵀHX/N: whitened view (Z = whiten(X)·Q with Q orthonormal has ZᵀHZ = N·I)."""
    xc = x - x.mean(-2, keepdim=True)
    e, u = torch.linalg.eigh(xc.T @ xc / x.shape[0])
    return xc @ (u * e.rsqrt()) @ u.T


def polar(a: torch.Tensor) -> torch.Tensor:
    """Orthonormal factor U Vᵀ of A = U Σ Vᵀ (batched): a smooth parametrisation of orthonormal columns."""
    u, _, vh = torch.linalg.svd(a, full_matrices=False)
    return u @ vh


def two_view_bt(z1: torch.Tensor, z2: torch.Tensor, alpha: float) -> torch.Tensor:
    """Σ_k (C_kk − 1)² + α Σ_{k≠l} C_kl², C = cosines of the centred columns (BT with exact batch norm), batched."""
    a, b = z1 - z1.mean(-2, keepdim=True), z2 - z2.mean(-2, keepdim=True)
    c = (a.transpose(-2, -1) @ b) / (a.norm(dim=-2)[..., :, None] * b.norm(dim=-2)[..., None, :])
    d = c.diagonal(dim1=-2, dim2=-1)
    return (d - 1).square().sum(-1) + alpha * (c.square().sum((-2, -1)) - d.square().sum(-1))


def bt_minimum(x1: torch.Tensor, x2: torch.Tensor, k: int, alpha: float, seed: int, *, whiten_fn=whiten,
               starts: int = STARTS):
    """Batched L-BFGS of BT over (A1, A2), Z_v = whiten_fn(X_v)·polar(A_v) (``whiten_fn=None``: Z_v = X_v A_v, free).
    Returns (values, ‖∇f‖, fun, params)."""
    d1 = x1.shape[1]
    if whiten_fn is None:
        fun = lambda p: two_view_bt(x1 @ p[..., :d1, :], x2 @ p[..., d1:, :], alpha)  # noqa: E731
    else:
        w1, w2 = whiten_fn(x1), whiten_fn(x2)
        fun = lambda p: two_view_bt(w1 @ polar(p[..., :d1, :]), w2 @ polar(p[..., d1:, :]), alpha)  # noqa: E731
    p, gn, _ = lbfgs(fun, randn(seed, starts, d1 + x2.shape[1], k), gtol=GTOL, max_iter=400)
    return fun(p), gn, fun, p


def _certified_gap(f: torch.Tensor, gn: torch.Tensor, fun, p: torch.Tensor, k: int) -> tuple[float, float]:
    """(best value, its tolerance SAFETY‖∇f‖²/(2μ) + rounding), μ the curvature at the best start."""
    i = int(f.argmin())
    mu, _ = curvature(fun, p[i])
    if not mu > 0:
        raise PropertyViolation(f"BT optimisation: best start is not a certified local minimum (curvature {mu:.3g})")
    ftol, _ = convergence_tolerances(gn[i:i + 1], mu, 0.0, n_terms=p.shape[-2] * k * k, magnitude=k * k + 1.0)
    return float(f[i]), float(ftol)


@o.pinned
def check_whitened_bt(*, whiten_fn=whiten, loss=None, oracle=o.cca) -> None:
    """Two views, whitened embeddings, α ≥ 1: the registered barlow_twins at sklearn's canonical variates equals
    Σ_{k≤K}(1 − ρ_k)², and no start of a batched L-BFGS over whitened embeddings goes below it (the best reaches it).
    Tolerances: value at the variates ≤ (2K + αK²)·NIPALS angle² (C is stationary there) + rounding; optimiser ≤
    SAFETY‖∇f‖²/(2μ) + rounding."""
    bt = loss or get_loss("barlow_twins")

    @settings(fidelity_settings(), max_examples=2)  # one batched L-BFGS + a Hessian per example (~0.5 s)
    @given(st.integers(1, 2), st.sampled_from((1.0, 2.0, 5.0)), SEEDS)
    def prop(k: int, alpha: float, seed: int) -> None:
        x1, x2 = views(40, 4, 5, seed % 2**31)
        r = oracle(x1, x2, 4)
        rho = r["rho"]
        assume(all(rho[j + 1] < 0.95 * rho[j] for j in range(k)) and rho[k - 1] > 0.1)
        target = float(((1 - rho[:k]) ** 2).sum())
        da = nipals_angle(rho, k)
        z1 = torch.as_tensor(r["x_scores"][:, :k], device=x1.device)
        z2 = torch.as_tensor(r["y_scores"][:, :k], device=x1.device)
        at = bt(z1, z2, lambda_param=alpha, eps=TINY)
        rounding = float(tol.sum_of_products(torch.float64, 40 * k * k, k * k * (1 + alpha)))
        assert_close(at, torch.tensor(target, dtype=at.dtype, device=at.device), (2 * k + alpha * k * k) * da**2 + rounding,
                     claim="registered BarlowTwins at sklearn's canonical variates = Σ(1 − ρ_k)²", inputs=(k, alpha, seed))
        f, gn, fun, p = bt_minimum(x1, x2, k, alpha, seed % 2**31, whiten_fn=whiten_fn)
        tgt = torch.full_like(f, target)
        assert_leq(tgt, f, rounding + 2 * da**2, claim="whitened BT (α ≥ 1) never goes below Σ(1 − ρ_k)²",
                   names=("Σ(1 − ρ_k)²", "L-BFGS value"), inputs=(k, alpha, seed))
        best, ftol = _certified_gap(f, gn, fun, p, k)
        assert_close(torch.tensor(best), torch.tensor(target), ftol + rounding + 2 * da**2,
                     claim="whitened BT's certified minimum = Σ(1 − ρ_k)²", inputs=(k, alpha, seed))
    prop()


def _below(whiten_fn, alpha: float, k: int, what: str) -> str:
    """Search seeds for a certified BT minimum below Σ(1 − ρ_k)² by ≥ 1e3× its tolerance; describe the first found."""
    seen: dict[int, tuple[float, float]] = {}

    def refutes(seed: int) -> bool:
        x1, x2 = views(40, 4, 5, seed)
        rho = o.cca(x1, x2, 4)["rho"]
        target = float(((1 - rho[:k]) ** 2).sum())
        f, gn, fun, p = bt_minimum(x1, x2, k, alpha, seed, whiten_fn=whiten_fn, starts=2)  # one certified point below suffices
        best, ftol = _certified_gap(f, gn, fun, p, k)
        seen[seed] = (best, target)
        return best < target - 1e3 * ftol - 1e-6
    seed = find_counterexample(st.integers(0, 4), refutes, what=what, max_examples=5)
    best, target = seen[seed]
    return (f"seed {seed}, K = {k}: certified minimum {best:.5g} < Σ(1 − ρ_k)² = {target:.5g} "
            f"({100 * (1 - best / target):.1f} % below)")


@o.pinned
def necessity_whitening() -> str:
    """Without whitening (free W_v, α = 1) the certified BT minimum is below Σ(1 − ρ_k)²: not CCA's value/basis."""
    return "unwhitened two-view BT, α = 1, " + _below(None, 1.0, 2, "unwhitened BT below Σ(1 − ρ)²")


@o.pinned
def necessity_alpha() -> str:
    """α < 1 (whitened): the canonical basis is a saddle (second variation 2(ρ_i − ρ_j)²(α − 1)θ²): minimum below."""
    return "whitened two-view BT, α = 0.3, " + _below(whiten, 0.3, 2, "whitened BT at α = 0.3 below Σ(1 − ρ)²")


# --------------------------------------------------------------------------------- remark-bt-cca-basis
def shared_minimum(x: torch.Tensor, g: torch.Tensor, k: int, seed: int, loss=barlow_twins_loss):
    fun = lambda w: loss(x @ w, g)  # noqa: E731
    w, gn, _ = lbfgs(fun, randn(seed, STARTS, x.shape[1], k), gtol=GTOL, max_iter=400)
    return fun(w), gn, fun, w


@o.pinned
def check_shared_bt_span_not_basis(*, loss=barlow_twins_loss, oracle=o.cca) -> None:
    """Paper's shared-W BT (uncentred, α = 1), K = 2: the certified minimiser spans sklearn CCA's top-K canonical
    weights, and its value is BELOW Σ(1 − τ_k)² (so it is not the canonical basis). Angle ≤ SAFETY‖∇f‖/(μ σ_K(W))
    + √κ·NIPALS angle; value gap > its tolerance."""
    @settings(fidelity_settings(), max_examples=2)  # one batched L-BFGS + a Hessian per example
    @given(SEEDS)
    def prop(seed: int) -> None:
        k = 2
        x, g = shared_problem(20, 2, 5, seed % 2**31)
        tau = 1 - o.to_numpy(pencil(x, g)[0])
        assume(tau[k - 1] > abs(tau[-1]) and all(tau[j + 1] < 0.95 * tau[j] for j in range(k)))
        xl, xr = _listings(x, g)
        r = oracle(xl, xr, k)
        f, gn, fun, w = shared_minimum(x, g, k, seed % 2**31, loss)
        i = int(f.argmin())
        mu, _ = curvature(fun, w[i])
        if not mu > 0:
            raise PropertyViolation(f"shared-W BT: best start not a certified local minimum (curvature {mu:.3g})")
        ftol, _ = convergence_tolerances(gn[i:i + 1], mu, 0.0, n_terms=x.shape[0] * k * k, magnitude=k * k + 1.0)
        kappa = float(torch.linalg.cond(xl.T @ xl))
        sig = float(torch.linalg.svdvals(w[i])[-1])
        bound = tol.SAFETY * float(gn[i]) / (mu * sig) + kappa**0.5 * nipals_angle(tau, k)
        a = torch.tensor(o.max_angle(w[i], r["x_weights"]), dtype=torch.float64)
        assert_close(a, torch.zeros(()), bound, claim="shared-W BT minimiser spans sklearn CCA's top-K canonical weights",
                     names=("largest principal angle", "0"), inputs=seed)
        target = float(((1 - tau[:k]) ** 2).sum())
        assert_leq(f[i], torch.tensor(target, dtype=f.dtype), -float(ftol),
                   claim="shared-W BT minimum is strictly below Σ(1 − τ_k)² (the canonical basis is not the minimiser)",
                   names=("BT minimum", "Σ(1 − τ_k)²"), inputs=seed)
    prop()


@o.pinned
def necessity_two_pairs() -> str:
    """K = 1: no second column to trade against, the minimum is exactly (1 − τ_1)² (max Rayleigh quotient τ_1)."""
    def refutes(seed: int) -> bool:
        x, g = shared_problem(20, 2, 5, seed)
        tau1 = 1 - float(pencil(x, g)[0][0])
        f, gn, fun, w = shared_minimum(x, g, 1, seed)
        i = int(f.argmin())
        mu, _ = curvature(fun, w[i])
        ftol, _ = convergence_tolerances(gn[i:i + 1], mu, 0.0, n_terms=x.shape[0], magnitude=2.0)
        return abs(float(f[i]) - (1 - tau1) ** 2) <= float(ftol)
    seed = find_counterexample(st.integers(0, 3), refutes, what="K = 1 with minimum (1 − τ_1)²", max_examples=4)
    return f"K = 1 (seed {seed}): the certified shared-W BT minimum equals (1 − τ_1)², attained at the canonical vector"
