"""Balestriero & LeCun (NeurIPS 2022, arXiv:2205.11508). Claims 3-5, 7-10 and 13 against code nobody here wrote:
each closed form that names a classical spectral method is compared with scikit-learn's / SciPy's implementation
of that method (:mod:`.oracles`), next to the records' existing comparison with our batched L-BFGS.

Tolerances: both sides are direct eigensolvers, so subspaces agree to the Davis–Kahan bound
:func:`.oracles.davis_kahan` (``2·SAFETY·n·eps·‖M‖/gap``); every property ``assume``s a gap 1e3× above that
rounding (an exact tie leaves the subspace undetermined: claim3's drop_eigengap). Checks accept keyword overrides
of the implementation they test (``check_sklearn_ratio_cut(closed_form=...)``).
"""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from ssl_props import tolerances as tol
from ssl_props.graphs import (augmentation_graphs, component_labels, labelled_graphs, laplacian, n_components, one_hot, planted_graphs,
                              regular_graphs, weighted_graphs)
from ssl_props.papers.balestriero2022 import oracles as o
from ssl_props.papers.balestriero2022.linear_regime import linear_problem, pencil
from ssl_props.papers.balestriero2022.sampling import fidelity_settings, randn
from ssl_props.properties import assert_close, find_counterexample
from ssl_props.spectral import (barlow_twins_closed_form, centred_eigh, laplacian_eigenmaps, probe_residual,
                                simclr_simplex, vicreg_closed_form, vicreg_linear_closed_form)
from ssl_props.strategies import SEEDS

SK_LE = o.SK_LE


def _with_ones(z: torch.Tensor) -> np.ndarray:
    """``[1, Z]``: the ratio-cut/normalised LE outputs keep the trivial vector that centred optima drop."""
    z = o.to_numpy(z)
    return np.c_[np.ones(z.shape[0]), z]


def _zero(t: float) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor(t, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64)


def _angle_claim(angle: float, bound: float, claim: str, inputs) -> None:
    a, zero = _zero(angle)
    assert_close(a, zero, bound, claim=claim, names=("largest principal angle", "0"), inputs=inputs)


# ---------------------------------------------------------------------------------------------- claim3
@o.pinned
def check_sklearn_ratio_cut(*, closed_form=vicreg_closed_form, oracle=o.le) -> None:
    """Any symmetric G (weighted, sparse, disconnected): span([1, Z⋆]) = ratio-cut LE, sklearn's K + 1 bottom
    eigenvectors of L (norm_laplacian=False). Angle ≤ davis_kahan/2 (our eigh) + residual_angle (sklearn's ARPACK
    answer, certified by its residual in L)."""
    @fidelity_settings()
    @given(weighted_graphs((4, 12)), st.integers(1, 4))
    def prop(g: torch.Tensor, k: int) -> None:
        n = g.shape[0]
        k = min(k, n - 2)
        lam = centred_eigh(laplacian(g))[0]
        norm, gap = float(lam[-1]), float(lam[k] - lam[k - 1])
        assume(norm > 0 and o.davis_kahan(n, norm, max(gap, 1e-300)) < 1e-3)
        zs = closed_form(g, k, beta=1.0, gamma=0.5 / norm)  # every c_k = 1 − γλ_k ≥ 1/2: no clamped column
        emb = oracle(g, k + 1, normalised=False)
        bound = o.davis_kahan(n, norm, gap) / 2 + o.residual_angle(laplacian(g), emb, gap)
        _angle_claim(o.max_angle(_with_ones(zs), emb), bound,
                     "VICReg (quadratic) optimum spans ratio-cut Laplacian Eigenmaps (sklearn)", g)
    prop()


# ---------------------------------------------------------------------------------------------- claim4
def _normalised_gap(g: torch.Tensor, k: int) -> tuple[float, float, float]:
    """(‖L_sym‖, gap after the K + 1 bottom eigenvalues of L_sym, √(d_max/d_min)): the back-map D^{-1/2} moves
    angles by at most its condition number."""
    d = g.sum(-1)
    mu = torch.linalg.eigvalsh(_sym_laplacian(g))
    return float(mu[-1]), float(mu[k + 1] - mu[k]), float((d.max() / d.min()).sqrt())


def _sym_laplacian(g: torch.Tensor) -> torch.Tensor:
    s = g.sum(-1).rsqrt()
    return s[:, None] * laplacian(g) * s[None, :]


def _normalised_residual(g: torch.Tensor, emb: np.ndarray, gap: float) -> float:
    """residual_angle of sklearn's normalised output, mapped back to L_sym's eigenvectors by D^{1/2}."""
    return o.residual_angle(_sym_laplacian(g), o.to_numpy(g.sum(-1).sqrt())[:, None] * emb, gap)


@o.pinned
def check_sklearn_belkin_niyogi(*, closed_form=vicreg_closed_form, le=laplacian_eigenmaps, oracle=o.le) -> None:
    """Regular G: span([1, Z⋆_VICReg]) = Belkin–Niyogi LE (sklearn, norm_laplacian=True); any connected G: our
    Laplacian Eigenmaps (L u = λ D u) = sklearn's. Angle ≤ κ(D^{1/2})·(davis_kahan/2 + residual_angle) on L_sym."""
    @fidelity_settings()
    @given(st.one_of(regular_graphs((2, 5), (1, 3)), planted_graphs(connected=True).map(lambda pg: pg.g)),
           st.integers(1, 4))
    def prop(g: torch.Tensor, k: int) -> None:
        n = g.shape[0]
        k = min(k, n - 2)
        assume(n_components(g) == 1)
        norm, gap, cond = _normalised_gap(g, k)
        assume(cond * o.davis_kahan(n, norm, max(gap, 1e-300)) < 1e-3)
        emb = oracle(g, k + 1, normalised=True)
        bound = cond * (o.davis_kahan(n, norm, gap) / 2 + _normalised_residual(g, emb, gap))
        _angle_claim(o.max_angle(_with_ones(le(g, k)), emb), bound,
                     "our Laplacian Eigenmaps (L u = λ D u) span sklearn's normalised spectral embedding", g)
        deg = g.sum(-1)
        if float(deg.max() - deg.min()) <= tol.sum_of_products(g.dtype, n, float(deg.max())):  # regular G
            lam = centred_eigh(laplacian(g))[0]
            zs = closed_form(g, k, beta=1.0, gamma=0.5 / float(lam[-1]))
            _angle_claim(o.max_angle(_with_ones(zs), emb), bound,
                         "on a regular G, VICReg's optimum spans Belkin–Niyogi LE (sklearn norm_laplacian=True)", g)
    prop()


@o.pinned
def necessity_irregular_vs_sklearn() -> str:
    """Irregular G: VICReg's optimum (Cov = I) is not Belkin–Niyogi LE (ZᵀDZ = I): sklearn's normalised embedding
    is > 0.1 rad away, and ≥ 1e3 × the agreement bound of check_sklearn_belkin_niyogi."""
    def angle(case) -> tuple[float, float]:
        g, k = case
        lam = centred_eigh(laplacian(g))[0]
        norm, gap, cond = _normalised_gap(g, k)
        if n_components(g) > 1 or float(lam[k] - lam[k - 1]) <= 1e-3 * float(lam[-1]) or gap <= 1e-3 * norm:
            return 0.0, float("inf")  # a tie on either side: no subspace to compare
        emb = o.le(g, k + 1, normalised=True)
        bound = cond * (o.davis_kahan(g.shape[0], norm, gap) / 2 + _normalised_residual(g, emb, gap))
        zs = vicreg_closed_form(g, k, gamma=0.5 / float(lam[-1]))
        return o.max_angle(_with_ones(zs), emb), bound

    def refutes(case) -> bool:
        a, bound = angle(case)
        return a > max(1e3 * bound, 0.1)
    case = find_counterexample(st.tuples(weighted_graphs((5, 10)), st.integers(1, 3)), refutes,
                               what="irregular G where VICReg ≠ sklearn's normalised LE", max_examples=30)
    a, _ = angle(case)
    deg = case[0].sum(-1)
    return (f"weighted G on {case[0].shape[0]} nodes (degrees {float(deg.min()):.3g}-{float(deg.max()):.3g}), K = {case[1]}: "
            f"VICReg vs sklearn norm_laplacian=True, largest principal angle {a:.3g} rad")


# ---------------------------------------------------------------------------------------------- claim5
@o.pinned
def check_scipy_pencil(*, closed_form=vicreg_linear_closed_form) -> None:
    """Linear VICReg: W⋆ = √N V_K diag(√(1 − γμ_k/β)) with (μ, V) = scipy.linalg.eigh(XᵀLX, XᵀHX) (any symmetric
    G, generic X): span and Gram W⋆W⋆ᵀ. Angle ≤ davis_kahan(N, κ(XᵀHX)·max|μ|, μ_(K+1) − μ_K) (the Cholesky
    reduction loses κ(B)); Gram error ≤ N(2·angle bound·c_max + (γ/β)·that μ error)."""
    @fidelity_settings()
    @given(weighted_graphs((6, 12)), st.integers(1, 3), SEEDS)
    def prop(g: torch.Tensor, k: int, seed: int) -> None:
        n = g.shape[0]
        dim = min(k + 2, n - 2)
        x = randn(seed % 2**31, n, dim) + randn(seed % 2**31 + 1, 1, dim)  # generic, uncentred
        h = torch.eye(n, dtype=x.dtype, device=x.device) - 1.0 / n
        a, b = x.T @ laplacian(g) @ x, x.T @ h @ x
        mu, v = o.pencil(a, b)
        kappa = float(torch.linalg.cond(b))
        bound = o.davis_kahan(n, kappa * float(np.abs(mu).max()), max(float(mu[k] - mu[k - 1]), 1e-300))
        assume(bound < 1e-3 and mu[k - 1] > 0)
        gamma = 0.5 / float(mu[k - 1])  # β = 1: c_k = 1 − γμ_k ≥ 1/2
        ws = closed_form(x, g, k, beta=1.0, gamma=gamma)
        _angle_claim(o.max_angle(ws, v[:, :k]), bound, "linear VICReg W⋆ spans scipy's pencil (XᵀLX, XᵀHX)", (n, dim, k))
        c = 1 - gamma * mu[:k]
        want = torch.as_tensor(n * (v[:, :k] * c) @ v[:, :k].T, dtype=x.dtype, device=x.device)
        mu_err = float(tol.sum_of_products(torch.float64, n, kappa * float(np.abs(mu).max())))
        assert_close((ws @ ws.T - want).norm(), torch.tensor(0.0, dtype=x.dtype, device=x.device),
                     n * float(np.linalg.norm(v[:, :k], 2)) ** 2 * (2 * bound + gamma * mu_err),
                     claim="linear VICReg W⋆W⋆ᵀ = N V_K diag(1 − γμ_k/β) V_Kᵀ (scipy eigh)", names=("‖ΔGram‖", "0"),
                     inputs=(n, dim, k))
    prop()


# ---------------------------------------------------------------------------------------------- claim7
def same_image_metric(g: torch.Tensor) -> np.ndarray:
    """Δ = 1 − M, M_ij = 1 iff i and j are in the same connected component (the 0/1 'same image' metric)."""
    labels = component_labels(g).cpu()
    return (labels[:, None] != labels[None, :]).double().numpy()


def cosine_gram(z: torch.Tensor | np.ndarray) -> np.ndarray:
    zn = o.to_numpy(z)
    zn = zn / np.linalg.norm(zn, axis=1, keepdims=True)
    return zn @ zn.T


@o.pinned
def check_classical_mds(*, closed_form=simclr_simplex, oracle=o.classical_mds) -> None:
    """Augmentation G, K ≥ N' − 1: the cosine Gram of SimCLR's simplex = that of sklearn's ClassicalMDS of the 0/1
    same-image metric (N' − 1 components). ClassicalMDS's N' − 1 eigenvalues are equal and the rest 0, so
    its span is exact to davis_kahan(N, ‖B‖, ‖B‖); the cosine Gram moves by ≤ 4 × that (two unit rows)."""
    @fidelity_settings()
    @given(augmentation_graphs((2, 5), (2, 4)), st.integers(0, 1))
    def prop(gnv, extra: int) -> None:
        g, ns, nv = gnv
        n = g.shape[0]
        zs = closed_form(ns, nv, ns - 1 + extra, device=g.device)
        y = oracle(same_image_metric(g), ns - 1)
        bound = 4 * o.davis_kahan(n, 1.0, 1.0) + float(tol.sum_of_products(torch.float64, n, 1.0))
        err = float(np.abs(cosine_gram(zs) - cosine_gram(y)).max())
        _e, zero = _zero(err)
        assert_close(_e, zero, bound, claim="SimCLR's simplex = classical MDS of the same-image metric (cosine Gram)",
                     names=("max |Δcos|", "0"), inputs=(ns, nv))
    prop()


# ------------------------------------------------------------------------------------------ claims 8-10
@o.pinned
def check_sklearn_null_space(*, closed_form=barlow_twins_closed_form, vicreg=vicreg_closed_form, oracle=o.le) -> None:
    """Disconnected G with c components: sklearn's c bottom eigenvectors (null(L)) = span of BarlowTwins' zero-loss
    indicators (claim8) = span([1, Z⋆_VICReg(K = c − 1)]). Angle ≤ davis_kahan/2 + residual_angle (sklearn)."""
    @fidelity_settings()
    @given(planted_graphs((2, 4), (2, 4), connected=False))
    def prop(pg) -> None:
        g = pg.g
        c, n = n_components(g), g.shape[0]
        lam = torch.linalg.eigvalsh(laplacian(g))
        emb = oracle(g, c, normalised=False)
        bound = o.davis_kahan(n, float(lam[-1]), float(lam[c])) / 2 + o.residual_angle(laplacian(g), emb, float(lam[c]))
        _angle_claim(o.max_angle(closed_form(g, c), emb), bound,
                     "BarlowTwins' zero-loss indicators span null(L) (sklearn)", g)
        _angle_claim(o.max_angle(_with_ones(vicreg(g, c - 1, gamma=0.1)), emb), bound,
                     "disconnected G: span([1, Z⋆_VICReg]) with K = c − 1 is null(L) (sklearn)", g)
    prop()


@o.pinned
def check_sklearn_label_span(*, closed_form=vicreg_closed_form, oracle=o.le) -> None:
    """Aligned G = YYᵀ − I, K = C − 1, γ/β > 1/min n_c: span([1, Z⋆]) = span(Y) = sklearn's C bottom
    eigenvectors. Angle ≤ davis_kahan/2 + residual_angle, gap min n_c (L's spectrum: 0 (×C), then the class sizes)."""
    @fidelity_settings()
    @given(labelled_graphs((2, 4), (2, 5)), st.floats(1.25, 3.0))
    def prop(gl, rho: float) -> None:
        g, labels = gl
        y = one_hot(labels).to(g)
        c, m = y.shape[1], int(y.sum(0).min())
        emb = oracle(g, c, normalised=False)
        bound = (o.davis_kahan(g.shape[0], float(torch.linalg.eigvalsh(laplacian(g))[-1]), m) / 2
                 + o.residual_angle(laplacian(g), emb, m))
        _angle_claim(o.max_angle(y, emb), bound, "aligned G: sklearn's LE null space is span(Y)", labels)
        _angle_claim(o.max_angle(_with_ones(closed_form(g, c - 1, beta=1.0, gamma=rho / m)), emb), bound,
                     "aligned G: span([1, Z⋆]) = sklearn's LE (the label indicators)", labels)
    prop()


@o.pinned
def check_sklearn_misaligned_residual(*, residual=probe_residual, oracle=o.le) -> None:
    """Misaligned G (each pair joins two classes): a linear probe on sklearn's null(L) basis has residual² N/2
    (claim10's value for SimCLR/BarlowTwins/high-invariance VICReg). |Δresidual²| ≤ 2‖HY‖²·√2·residual_angle."""
    @fidelity_settings()
    @given(labelled_graphs((2, 3), (2, 4), aligned=False))
    def prop(gl) -> None:
        g, labels = gl
        y = one_hot(labels).to(g)
        c, n = n_components(g), g.shape[0]
        emb = oracle(g, c, normalised=False)
        bound = o.residual_angle(laplacian(g), emb, 2.0)  # perfect matching: L's spectrum is {0, 2}
        emb = torch.as_tensor(emb, dtype=g.dtype, device=g.device)
        r = residual(emb, y)
        assert_close(r, torch.tensor(n / 2, dtype=g.dtype, device=g.device), 2 * n * 2**0.5 * bound,
                     claim="misaligned G: probe residual² on null(L) (sklearn) is N/2", names=("residual²", "N/2"),
                     inputs=labels)
    prop()


# --------------------------------------------------------------------------------------------- claim13
@o.pinned
def check_scipy_pencil_bt(*, pencil_fn=pencil) -> None:
    """claim13's pencil (XᵀLX, XᵀDX) of the binarised G: our eigenvalues = scipy.linalg.eigh(a, b)'s, and the
    bottom-K spans agree. Eigenvalue error ≤ SAFETY·D·eps·κ(B)·max|μ| (twice); angle ≤ davis_kahan(D, κ(B)·max|μ|, gap)."""
    @fidelity_settings()
    @given(st.integers(2, 4), st.integers(1, 3), SEEDS, st.booleans())
    def prop(ns: int, k: int, seed: int, generic: bool) -> None:
        x, g = linear_problem(ns, ns - 1, seed % 2**31, generic=generic)
        gb = (g > 0).to(g.dtype)
        a, b = x.T @ laplacian(gb) @ x, x.T @ torch.diag(gb.sum(-1)) @ x
        mu_s, v_s = o.pencil(a, b)
        mu, v = pencil_fn(x, g)
        dim = x.shape[1]
        k = min(k, dim - 1)
        kappa = float(torch.linalg.cond(b))
        scale = kappa * float(np.abs(mu_s).max())
        assert_close(mu, torch.as_tensor(mu_s, dtype=mu.dtype, device=mu.device),
                     2 * float(tol.sum_of_products(torch.float64, dim, scale)),
                     claim="claim13 pencil eigenvalues = scipy.linalg.eigh(XᵀLX, XᵀDX)", inputs=(ns, seed))
        bound = o.davis_kahan(dim, scale, max(float(mu_s[k] - mu_s[k - 1]), 1e-300))
        if bound < 1e-3:  # a tie (several null vectors) leaves the K-subspace undetermined: eigenvalues only
            _angle_claim(o.max_angle(v[:, :k], v_s[:, :k]), bound, "claim13 pencil's bottom-K span = scipy's", (ns, seed))
    prop()
