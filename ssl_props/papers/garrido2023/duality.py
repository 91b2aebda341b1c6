"""Checks of Garrido et al. (2023), "On the duality between contrastive and non-contrastive SSL",
arXiv:2206.02574. Orientation: ``z`` is ``(n, d)`` = (samples, dimensions) = ``Kᵀ`` (``N = n``, ``M = d``).

Every numeric check uses float64 and a tolerance from :mod:`ssl_props.tolerances`: quartic forms of
``z`` are compared relative to ``||z||_F⁴``, which bounds every summand (Cauchy-Schwarz).
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from hypothesis import given, strategies as st

from ssl_props import tolerances as tol
from ssl_props.device import default_device
from ssl_props.losses import criteria as crit
from ssl_props.losses.barlow_twins import barlow_twins, standardize
from ssl_props.losses.contrastive import simclr, simclr_abs, simclr_sq, spectral_contrastive
from ssl_props.losses.vicreg import covariance_term
from ssl_props.fingerprint import TRANSFORMS, classify
from ssl_props.properties import PropertyViolation, assert_close, assert_leq, find_counterexample
from ssl_props.strategies import SEEDS, DEGENERATE_KINDS, KINDS, embeddings, make_embeddings, normalized_embeddings, view_pairs
from ssl_props.profiles import budget

F64 = torch.float64
ALL_KINDS = KINDS + DEGENERATE_KINDS


def _frob4(z: torch.Tensor) -> torch.Tensor:
    return z.square().sum((-2, -1)).square()


def _qtol(z: torch.Tensor) -> torch.Tensor:
    """Tolerance for quartic identities of ``z`` (see :func:`ssl_props.tolerances.quartic_identity`)."""
    n, d = z.shape[-2:]
    return tol.quartic_identity(z.dtype, n, d, _frob4(z)) + torch.finfo(z.dtype).tiny


# ---------------------------------------------------------------- Definition 3.1 (extracted diagonal)
def vector_diag_subtracted(a: torch.Tensor) -> torch.Tensor:
    """The classic slip: ``A − torch.diagonal(A)`` broadcasts the diagonal over every row."""
    return a - torch.diagonal(a, dim1=-2, dim2=-1).unsqueeze(-2)


def numeric_extract_diag(*, extract_diag: Callable = crit.extract_diag) -> None:
    """diag(diag(G)) = diag(G); G − diag(G) has zero diagonal and G's off-diagonal entries (exact)."""

    @given(embeddings(n=(1, 10), d=(1, 10), kinds=ALL_KINDS))
    def run(z):
        g = crit.gram(z)
        e = extract_diag(g)
        eye = torch.eye(g.shape[-1], dtype=torch.bool, device=g.device)
        assert_close(extract_diag(e), e, 0.0, claim="Def. 3.1: diag is idempotent", inputs=z)
        assert_close(e, torch.diag_embed(torch.diagonal(g)), 0.0, claim="Def. 3.1: diag(G) = G ⊙ I", inputs=z)
        assert_close((g - e)[~eye], g[~eye], 0.0, claim="Def. 3.1: G − diag(G) keeps the off-diagonal", inputs=z)

    run()


def necessity_vector_diag() -> str:
    """With the vector diagonal broadcast, ``||G − diag||²`` is not L_c."""
    def refutes(z):
        g = crit.gram(z)
        return bool((vector_diag_subtracted(g).square().sum() - crit.lc(z)).abs() > _qtol(z))

    z = find_counterexample(embeddings(n=(2, 6), d=(1, 6), kinds=("gaussian",), scales=(1.0,)), refutes,
                            what="G minus the broadcast vector diagonal differs from L_c")
    g = crit.gram(z)
    return (f"z of shape {tuple(z.shape)}: ||G − diagonal-vector||² = {float(vector_diag_subtracted(g).square().sum()):.6g} "
            f"but L_c = {float(crit.lc(z)):.6g}")


# ---------------------------------------------------------------- Definition 3.2 (criteria, invariances)
@st.composite
def _z_and_seed(draw, **kw):
    return draw(embeddings(**kw)), draw(SEEDS)


def numeric_criteria_invariances(*, lc: Callable = crit.lc, lnc: Callable = crit.lnc) -> None:
    """L_c ≥ 0, L_nc ≥ 0; L_c(zQ) = L_c(z) for orthogonal Q of embedding space; L_nc(Uz) = L_nc(z) for
    orthogonal U mixing samples; both invariant to permutations of samples and of dimensions."""

    @given(_z_and_seed(n=(1, 10), d=(1, 10), kinds=ALL_KINDS))
    def run(arg):
        z, seed = arg
        g = torch.Generator().manual_seed(seed)
        n, d = z.shape
        q = TRANSFORMS["embedding_rotation"](z, z, g)[0]
        u = (torch.linalg.qr(torch.randn(n, n, generator=g, dtype=F64))[0]).to(z) @ z
        t = 2 * _qtol(z)  # both sides carry the rounding error of a quartic form
        assert_leq(torch.zeros(()).to(z), lc(z), t, claim="L_c ≥ 0", inputs=z)
        assert_leq(torch.zeros(()).to(z), lnc(z), t, claim="L_nc ≥ 0", inputs=z)
        assert_close(lc(q), lc(z), t, claim="L_c(z Q) = L_c(z) (rotation of embedding space)", inputs=z)
        assert_close(lnc(u), lnc(z), t, claim="L_nc(U z) = L_nc(z) (orthogonal mixing of samples)", inputs=z)
        p, r = torch.randperm(n, generator=g).to(z.device), torch.randperm(d, generator=g).to(z.device)
        assert_close(lc(z[p][:, r]), lc(z), t, claim="L_c invariant to permutations", inputs=z)
        assert_close(lnc(z[p][:, r]), lnc(z), t, claim="L_nc invariant to permutations", inputs=z)

    run()


def _non_invariance(criterion: Callable, transform: str, what: str) -> str:
    def refutes(arg):
        z, seed = arg
        a, _ = TRANSFORMS[transform](z, z, torch.Generator().manual_seed(seed))
        return bool((criterion(a) - criterion(z)).abs() > 1e6 * _qtol(z))  # far beyond rounding

    z, seed = find_counterexample(_z_and_seed(n=(3, 6), d=(3, 6), kinds=("gaussian",), scales=(1.0,)), refutes, what=what)
    a, _ = TRANSFORMS[transform](z, z, torch.Generator().manual_seed(seed))
    return f"z of shape {tuple(z.shape)}, seed {seed}: {what}: {float(criterion(z)):.6g} → {float(criterion(a)):.6g}"


def necessity_lc_needs_embedding_rotation() -> str:
    return _non_invariance(crit.lc, "sample_mixing", "L_c changes under an orthogonal mixing of the samples")


def necessity_lnc_needs_sample_mixing() -> str:
    return _non_invariance(crit.lnc, "embedding_rotation", "L_nc changes under a rotation of embedding space")


# ---------------------------------------------------------------- Proposition 3.1 (infinite negatives)
def uniform_sphere(n: int, m: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` iid points uniform on the unit sphere of R^m (normalised Gaussians), float64."""
    return F.normalize(torch.randn(n, m, generator=generator, dtype=F64), dim=-1)


_MC_PAIRS = 20_000


def numeric_sphere_moments(*, sampler: Callable = uniform_sphere) -> None:
    """For x, y independent uniform on S^{m−1}: E[xᵀy] = 0 and Var[xᵀy] = 1/m (Monte Carlo, 6-sigma bounds:
    Var t = 1/m, Var t² = 3/(m(m+2)) − 1/m²)."""

    @budget(0.2)
    @given(st.integers(2, 64), SEEDS)
    def run(m, seed):
        g = torch.Generator().manual_seed(seed)
        dev = default_device()
        x, y = sampler(_MC_PAIRS, m, g).to(dev), sampler(_MC_PAIRS, m, g).to(dev)
        t = (x * y).sum(-1)
        var_t2 = 3 / (m * (m + 2)) - 1 / m**2
        assert_close(t.mean(), torch.zeros((), dtype=F64, device=dev), tol.monte_carlo(math.sqrt(1 / m), _MC_PAIRS),
                     claim=f"Prop. 3.1: E[xᵀy] = 0 (m={m})", names=("mean", "0"))
        assert_close(t.square().mean(), torch.tensor(1 / m, dtype=F64, device=dev), tol.monte_carlo(math.sqrt(var_t2), _MC_PAIRS),
                     claim=f"Prop. 3.1: Var[xᵀy] = 1/m (m={m})", names=("E[(xᵀy)²]", "1/m"))

    run()


def simplex(n: int, dtype=F64) -> torch.Tensor:
    """``n`` unit vectors in R^n forming a regular simplex (pairwise cosines −1/(n−1))."""
    c = torch.eye(n, dtype=dtype) - 1.0 / n
    return F.normalize(c, dim=-1)


def necessity_infinite_negatives() -> str:
    """Finite N: SimCLR's optimum for N ≤ m + 1 (identical views) is the regular simplex, whose negative
    cosines all equal −1/(N−1) (mean ≠ 0, variance 0 ≠ 1/m): it beats 16 random unit configurations."""
    def refutes(n):
        s = simplex(n)
        base = simclr(s, s)
        g = torch.Generator().manual_seed(n)
        rand = uniform_sphere(16 * n, n, g).reshape(16, n, n)
        worse = all(float(simclr(r, r)) > float(base) for r in rand)
        cos = (s @ s.T)[~torch.eye(n, dtype=torch.bool)]
        return worse and abs(float(cos.mean())) > 1e-3 and abs(float(cos.var()) - 1 / n) > 1e-3

    n = find_counterexample(st.integers(3, 9), refutes, what="a finite-batch SimCLR optimum with E[xᵀy]=0, Var=1/m")
    return (f"N = m = {n}: the regular simplex has a lower SimCLR loss than 16 random unit configurations, and its "
            f"negative cosines are all {-1 / (n - 1):.4f} (mean ≠ 0, variance 0 ≠ 1/m = {1 / n:.4f})")


def necessity_normalised_embeddings() -> str:
    """Without normalisation (x, y ~ N(0, I_m)), E[(xᵀy)²] = m, not 1/m."""
    pairs = 2_000

    def refutes(m):
        g = torch.Generator().manual_seed(m)
        x = torch.randn(pairs, m, generator=g, dtype=F64)
        y = torch.randn(pairs, m, generator=g, dtype=F64)
        e2 = float((x * y).sum(-1).square().mean())
        # outside the 6-sigma band of the Monte Carlo mean of t² (Var t² = E t⁴ − m² = 2m² + 6m for Gaussians)
        return abs(e2 - 1 / m) > tol.monte_carlo(math.sqrt(2 * m * m + 6 * m), pairs)

    m = find_counterexample(st.integers(2, 64), refutes, what="unnormalised Gaussian embeddings with Var[xᵀy] = 1/m")
    return f"m = {m}: for x, y ~ N(0, I_m) (not normalised), E[(xᵀy)²] ≈ m = {m}, not 1/m = {1 / m:.4f}"


# ---------------------------------------------------------------- Proposition 3.2 (classification)
def _scl_reduction(z: torch.Tensor, scl: Callable) -> tuple[torch.Tensor, torch.Tensor]:
    n = z.shape[0]
    return scl(z, z), -2.0 * z.square().sum(-1).mean() + crit.lc(z) / (n * (n - 1))


def numeric_method_reductions(*, scl: Callable = spectral_contrastive, bt: Callable = barlow_twins,
                              vicreg_cov: Callable = covariance_term) -> None:
    """Same-view reductions: SCL = −(2/n)Σ||z_i||² + L_c/(n(n−1)); Barlow Twins' redundancy term =
    L_nc(ẑ)/n² (ẑ standardised); VICReg's covariance term = L_nc(z̃)/((n−1)² d) (z̃ centred)."""

    @given(embeddings(n=(2, 10), d=(1, 10), kinds=ALL_KINDS))
    def run(z):
        n, d = z.shape
        a, b = _scl_reduction(z, scl)
        assert_close(a, b, 4 * _qtol(z) / (n * (n - 1)) + tol.sum_of_products(z.dtype, n * d, z.square().sum()),
                     claim="Prop. 3.2: SCL(z, z) = −(2/n)Σ||z_i||² + L_c(z)/(n(n−1))", names=("SCL", "reduction"), inputs=z)
        zs = standardize(z)
        on = bt(z, z, lambda_param=0.0)
        red = bt(z, z, lambda_param=1.0) - on
        # quartic rounding of L_nc(ẑ)/n², plus the cancellation in the difference (relative to the on-diagonal term)
        t_bt = 4 * _qtol(zs) / n**2 + tol.sum_of_products(z.dtype, 2 * d, on.abs())
        assert_close(red, crit.lnc(zs) / n**2, t_bt, claim="Prop. 3.2: Barlow Twins redundancy = L_nc(ẑ)/n²",
                     names=("BT off-diagonal", "L_nc/n²"), inputs=z)
        zc = z - z.mean(0, keepdim=True)
        assert_close(vicreg_cov(z), crit.lnc(zc) / ((n - 1) ** 2 * d), 4 * _qtol(zc) / ((n - 1) ** 2 * d),
                     claim="Prop. 3.2: VICReg c(z) = L_nc(z̃)/((n−1)² d)", names=("VICReg c", "scaled L_nc"), inputs=z)

    run()


#: the classification Prop. 3.2 states, for the methods registered here; TCR's log det depends on the
#: singular values only (Sylvester: log det(I_d + c ZᵀZ) = log det(I_n + c Z Zᵀ)), so it carries both
#: symmetries: dimension-contrastive as the paper writes it, and sample-contrastive by the same identity
PROP32_CLASSES = {"simclr_abs": "sample-contrastive", "simclr_sq": "sample-contrastive",
                  "dcl_abs": "sample-contrastive", "dcl_sq": "sample-contrastive",
                  "spectral_contrastive": "sample-contrastive", "barlow_twins": "dimension-contrastive",
                  "vicreg": "dimension-contrastive", "tcr": "both"}


def numeric_tcr_sylvester(*, rate: Callable | None = None, rate_gram: Callable | None = None) -> None:
    """Prop. 3.2 for TCR: the coding rate from the d×d covariance form, ½ log det(I_d + d/(nε) ZᵀZ), equals the
    n×n Gram form ½ log det(I_n + d/(nε) Z Zᵀ) (Sylvester), so TCR is a scaled criterion of either matrix."""
    from ssl_props.losses.coding_rate import coding_rate, coding_rate_gram

    rate, rate_gram = rate or coding_rate, rate_gram or coding_rate_gram

    @given(embeddings(n=(1, 10), d=(1, 10), kinds=ALL_KINDS), st.sampled_from((0.2, 0.5, 1.0)))
    def run(z, eps):
        n, d = z.shape
        c = d / (n * eps)
        # M ⪰ I so ||M⁻¹|| ≤ 1: |Δ log det M| ≤ k·|ΔM|, |ΔM| ≤ (n + d + 2)·eps·(1 + c||Z||_F²) for either form (k = n or d)
        t = 2 * tol.sum_of_products(z.dtype, (n + d + 2) * max(n, d), 1.0 + c * float(z.square().sum()))
        assert_close(rate(z, eps), rate_gram(z, eps), t, claim="Prop. 3.2: TCR's covariance form = its Gram form "
                     "(Sylvester)", names=("R(ZᵀZ)", "R(Z Zᵀ)"), inputs=z)

    run()


def empirical_family(fn: Callable, z1: torch.Tensor, z2: torch.Tensor, seed: int) -> str:
    """Family from measured invariances: a defect below 1e-9·max(1, |f|) counts as invariant (rounding in
    float64 is ~1e-13 relative here; a generic non-invariance is ≥ 1e-4 relative on Gaussian views)."""
    inv = set()
    for name in ("centred_embedding_rotation", "sample_mixing"):
        g = torch.Generator().manual_seed(seed)
        a, b = TRANSFORMS[name](z1, z2, g)
        v0, v1 = float(fn(z1, z2)), float(fn(a, b))
        if abs(v0 - v1) <= 1e-9 * max(1.0, abs(v0)):
            inv.add(name)
    return classify(inv)


def numeric_fingerprint(*, losses: dict[str, Callable] | None = None) -> None:
    """Each method Prop. 3.2 classifies shows the symmetry of its class on drawn view pairs: invariant to
    (centred) rotations of embedding space and not to sample mixing (sample-contrastive), or the reverse."""
    from ssl_props.losses import get_loss

    table = losses or {name: get_loss(name).fn for name in PROP32_CLASSES}

    @budget(0.1)
    @given(view_pairs(embeddings(n=(3, 8), d=(3, 8), kinds=("gaussian",), scales=(1.0,)), transforms=("noise",)),
           SEEDS)
    def run(pair, seed):
        for name, fn in table.items():
            got = empirical_family(fn, *pair, seed)
            if got != PROP32_CLASSES[name]:
                raise PropertyViolation(f"Prop. 3.2: {name} should be {PROP32_CLASSES[name]} but its symmetries say "
                                        f"{got} on views of shape {tuple(pair[0].shape)}")

    run()


def orthonormal_rows(n: int, d: int) -> torch.Tensor:
    return torch.eye(n, d, dtype=F64)


def numeric_orthogonal_minimises(*, losses: tuple[Callable, ...] = (simclr_abs, simclr_sq)) -> None:
    """SimCLR-abs/-sq with perfectly aligned views are minimised by orthonormal embeddings (n ≤ d): the
    repulsion f(s) ∈ {|s|, s²} is ≥ f(0) = 0 for every negative, so L(z, z) ≥ L(O, O) (L_c's minimiser)."""

    @budget(0.3)
    @given(normalized_embeddings(n=(2, 6), d=(6, 8), normalize="samples", kinds=KINDS))
    def run(z):
        o = orthonormal_rows(*z.shape).to(z)
        for loss in losses:
            assert_leq(loss(o, o), loss(z, z), tol.sum_of_products(z.dtype, 4 * z.shape[0], 1.0),
                       claim=f"Prop. 3.2: orthonormal embeddings minimise {getattr(loss, '__name__', loss)}",
                       names=("L(orthonormal)", "L(z)"), inputs=z)

    run()


def necessity_abs_or_sq() -> str:
    """Plain SimCLR (signed similarities) is not minimised by orthogonal embeddings: the simplex beats them."""
    def refutes(n):
        s, o = simplex(n), orthonormal_rows(n, n)
        return float(simclr(s, s)) < float(simclr(o, o)) - 1e-6

    n = find_counterexample(st.integers(2, 8), refutes, what="plain SimCLR minimised at orthogonal embeddings")
    s, o = simplex(n), orthonormal_rows(n, n)
    return (f"n = d = {n}: SimCLR(simplex) = {float(simclr(s, s)):.6f} < SimCLR(orthonormal) = {float(simclr(o, o)):.6f}: "
            "plain SimCLR pushes negatives to be opposite, not orthogonal")


def necessity_same_view_negatives() -> str:
    """With cross-view negatives (z1 ≠ z2), SCL's repulsion is not L_c of either view."""
    def rep(z1, z2):
        n = z1.shape[0]
        c = z1 @ z2.T
        return c.masked_fill(torch.eye(n, dtype=torch.bool, device=c.device), 0).square().sum() / (n * (n - 1))

    def refutes(pair):
        z1, z2 = pair
        n = z1.shape[0]
        return bool((rep(z1, z2) - crit.lc(z1) / (n * (n - 1))).abs() > 1e6 * _qtol(z1))

    z1, z2 = find_counterexample(view_pairs(embeddings(n=(2, 6), d=(2, 6), kinds=("gaussian",), scales=(1.0,)),
                                            transforms=("noise",), noise=0.5), refutes,
                                 what="cross-view SCL repulsion equal to L_c")
    n = z1.shape[0]
    return (f"views of shape {tuple(z1.shape)}: cross-view repulsion {float(rep(z1, z2)):.6g} ≠ "
            f"L_c(z1)/(n(n−1)) = {float(crit.lc(z1) / (n * (n - 1))):.6g}")


# ---------------------------------------------------------------- Theorem 3.3 (the duality identity)
def identity_residual(z: torch.Tensor, lc: Callable = crit.lc, lnc: Callable = crit.lnc) -> tuple[torch.Tensor, torch.Tensor]:
    """Both sides of Theorem 3.3, batched: ``(L_nc + Σ feature norms⁴, L_c + Σ sample norms⁴)``."""
    return lnc(z) + crit.feature_norms4(z), lc(z) + crit.sample_norms4(z)


def check_identity(z: torch.Tensor, lc: Callable = crit.lc, lnc: Callable = crit.lnc) -> None:
    lhs, rhs = identity_residual(z, lc, lnc)
    assert_close(lhs, rhs, _qtol(z), claim="Thm 3.3: L_nc + Σ_j ||K_j,·||⁴ = L_c + Σ_i ||K_·,i||⁴",
                 names=("L_nc + Σ row⁴", "L_c + Σ col⁴"), inputs=z)


def numeric_identity(*, lc: Callable = crit.lc, lnc: Callable = crit.lnc) -> None:
    """Theorem 3.3 on every kind of drawn matrix (incl. collapsed, rank-deficient, tiny and huge scales)."""

    @given(embeddings(n=(1, 12), d=(1, 12), kinds=ALL_KINDS))
    def run(z):
        check_identity(z, lc, lnc)

    run()


SWEEP_BATCH = 256


def numeric_identity_sweep(*, lc: Callable = crit.lc, lnc: Callable = crit.lnc, batch: int = SWEEP_BATCH) -> None:
    """Theorem 3.3 on ``batch`` matrices per example in one batched call on the device."""

    @budget(0.2)
    @given(st.integers(1, 16), st.integers(1, 16), st.sampled_from(ALL_KINDS), SEEDS)
    def run(n, d, kind, seed):
        check_identity(make_embeddings(n, d, kind, seed=seed, batch=(batch,), device=default_device()), lc, lnc)

    run()


def necessity_same_matrix() -> str:
    """Cross-view: ||K1ᵀK2||_F² ≠ ||K1K2ᵀ||_F² in general (the identity needs one matrix)."""
    def refutes(pair):
        z1, z2 = pair
        a, b = (z1 @ z2.T).square().sum(), (z1.T @ z2).square().sum()
        return bool((a - b).abs() > 1e6 * _qtol(z1 + z2))

    z1, z2 = find_counterexample(view_pairs(embeddings(n=(2, 6), d=(2, 6), kinds=("gaussian",), scales=(1.0,)),
                                            transforms=("noise",), noise=0.5), refutes, what="a cross-view duality identity")
    return (f"views of shape {tuple(z1.shape)}: ||z1 z2ᵀ||_F² = {float((z1 @ z2.T).square().sum()):.6g} but "
            f"||z1ᵀ z2||_F² = {float((z1.T @ z2).square().sum()):.6g}")


def necessity_consistent_centring() -> str:
    """Centring one side only (covariance of centred z vs Gram of raw z) breaks the identity."""
    def refutes(z):
        zc = z - z.mean(0, keepdim=True)
        lhs = crit.lnc(zc) + crit.feature_norms4(zc)
        rhs = crit.lc(z) + crit.sample_norms4(z)
        return bool((lhs - rhs).abs() > 1e6 * _qtol(z))

    z = find_counterexample(embeddings(n=(2, 6), d=(1, 6), kinds=("gaussian",), scales=(1.0,)), refutes,
                            what="the identity with centring on one side only")
    zc = z - z.mean(0, keepdim=True)
    return (f"z of shape {tuple(z.shape)}: L_nc(z̃) + Σrow⁴(z̃) = {float(crit.lnc(zc) + crit.feature_norms4(zc)):.6g} ≠ "
            f"L_c(z) + Σcol⁴(z) = {float(crit.lc(z) + crit.sample_norms4(z)):.6g}")
