"""Loop references for six registered losses' formulas: EMP-SSL, VICReg-exp, TiCo, W-MSE, align+uniform, MMCR.

Issue 15: mutants of these losses' formulas (a flipped sign on a term, a parameter dropped or ignored,
a reduction over the wrong axis) survived the whole suite, because the existing checks exercise
invariances, default parameters or square batches, where the mutants agree with the formula. Each test
here compares a registered loss, called with NON-default parameters on fixed-seed float64 batches with
n != d, against a reference written independently from the loss's docstring formula: plain Python
floats, explicit loops over rows and features (``math.fsum``), Gaussian elimination for determinants,
a hand-written Cholesky with forward substitution for whitening, closed forms for 2 × d nuclear norms.
No library helper (``coding_rate``, ``whiten``, ``covariance_matrix``, ``uniformity``, ...) is called
by a reference.

Tolerance: inputs are O(1), every loss value and intermediate is O(1..100), each reference sums at most
a few hundred O(1..100) products (n·d ≤ 50 entries, d×d or n×n Grams), and float64 eps ≈ 2.2e-16, so
the accumulated rounding is below ~1e-12 relative (error grows like (#ops)·eps·max|term|); cancellation
near a zero loss is covered by an absolute term of the same size. rtol = atol = 1e-10 is ample, and a
mutant changes the value by O(1e-2) or more.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ssl_props.losses import LOSSES
from ssl_props.losses.hypersphere import uniformity

F64 = torch.float64
RTOL = ATOL = 1e-10  # derived in the module docstring
SHAPES = [(6, 3), (5, 4), (4, 6)]  # n != d: both n > d and n < d
SEEDS = [0, 1, 2]


def _close(actual: torch.Tensor, expected: float) -> None:
    torch.testing.assert_close(actual, torch.tensor(expected, dtype=F64), rtol=RTOL, atol=ATOL)


def _views(n: int, d: int, seed: int, scales=None):
    g = torch.Generator().manual_seed(1000 + seed)
    z1 = torch.randn(n, d, generator=g, dtype=F64)
    z2 = z1 + 0.7 * torch.randn(n, d, generator=g, dtype=F64)  # correlated views, as augmentations give
    if scales is not None:
        s = torch.tensor(scales[:d], dtype=F64)
        z1, z2 = z1 * s, z2 * s
    return z1, z2


def _rows(z: torch.Tensor) -> list[list[float]]:
    return [[float(v) for v in row] for row in z.tolist()]


def _dot(u, v) -> float:
    return math.fsum(a * b for a, b in zip(u, v))


def _norm(u) -> float:
    return math.sqrt(_dot(u, u))


def _unit_rows(rows):
    return [[v / _norm(r) for v in r] for r in rows]


def _det(m) -> float:
    """Determinant by Gaussian elimination with partial pivoting (a different algorithm from Cholesky)."""
    a = [list(r) for r in m]
    k = len(a)
    det = 1.0
    for c in range(k):
        p = max(range(c, k), key=lambda r: abs(a[r][c]))
        if p != c:
            a[c], a[p] = a[p], a[c]
            det = -det
        det *= a[c][c]
        for r in range(c + 1, k):
            f = a[r][c] / a[c][c]
            for j in range(c, k):
                a[r][j] -= f * a[c][j]
    return det


def _cholesky(m):
    """Lower-triangular L with L Lᵀ = m, by the textbook loops."""
    k = len(m)
    L = [[0.0] * k for _ in range(k)]
    for i in range(k):
        for j in range(i + 1):
            s = m[i][j] - math.fsum(L[i][p] * L[j][p] for p in range(j))
            L[i][j] = math.sqrt(s) if i == j else s / L[j][j]
    return L


def _forward_solve(L, b):
    x = []
    for i in range(len(b)):
        x.append((b[i] - math.fsum(L[i][p] * x[p] for p in range(i))) / L[i][i])
    return x


def _unbiased_cov(rows):
    n, d = len(rows), len(rows[0])
    mean = [math.fsum(rows[i][k] for i in range(n)) / n for k in range(d)]
    zc = [[rows[i][k] - mean[k] for k in range(d)] for i in range(n)]
    cov = [[math.fsum(zc[i][k] * zc[i][l] for i in range(n)) / (n - 1) for l in range(d)] for k in range(d)]
    return zc, cov


def _check_non_default(name: str, params: dict) -> None:
    defaults = LOSSES[name].defaults
    for k, v in params.items():
        assert k in defaults, f"{name} has no keyword parameter {k!r}: {sorted(defaults)}"
        if not isinstance(v, torch.Tensor) and defaults[k] is not None:
            assert v != defaults[k], f"{name}: {k}={v!r} is the default; the test needs a non-default value"


# ----------------------------------------------------------------------------------------------- EMP-SSL

def ref_emp_ssl(z1, z2, tcr_eps, inv_coef) -> float:
    """−(1/2) Σ_v R(z_v) − λ (1/(2n)) Σ_{v,i} cos(z_{v,i}, z̄_i), R(z) = ½ log det(I_d + d/(n ε) zᵀz)."""
    a, b = _rows(z1), _rows(z2)
    n, d = len(a), len(a[0])

    def rate(z):
        m = [[(1.0 if k == l else 0.0) + d / (n * tcr_eps) * math.fsum(z[i][k] * z[i][l] for i in range(n))
              for l in range(d)] for k in range(d)]
        return 0.5 * math.log(_det(m))

    cos = []
    for i in range(n):
        zbar = [(a[i][k] + b[i][k]) / 2 for k in range(d)]
        for v in (a[i], b[i]):
            cos.append(_dot(v, zbar) / (_norm(v) * _norm(zbar)))
    return -(rate(a) + rate(b)) / 2 - inv_coef * math.fsum(cos) / (2 * n)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "d"), SHAPES)
def test_emp_ssl_matches_loop_reference(n, d, seed):
    params = {"tcr_eps": 0.35, "inv_coef": 3.0}
    _check_non_default("emp_ssl", params)
    z1, z2 = _views(n, d, seed)
    _close(LOSSES["emp_ssl"].fn(z1, z2, **params), ref_emp_ssl(z1, z2, **params))


# -------------------------------------------------------------------------------------------- VICReg-exp

def ref_vicreg_exp(z1, z2, lambda_param, mu_param, nu_param, tau, eps) -> float:
    """λ mse + μ ½(v(z1) + v(z2)) + ν (c_exp(z1) + c_exp(z2)), Garrido et al. eq. 11-12."""
    a, b = _rows(z1), _rows(z2)
    n, d = len(a), len(a[0])
    mse = math.fsum((a[i][k] - b[i][k]) ** 2 for i in range(n) for k in range(d)) / (n * d)

    def var_term(z):
        _, cov = _unbiased_cov(z)
        return math.fsum(max(0.0, 1.0 - math.sqrt(cov[k][k] + eps)) for k in range(d)) / d

    def c_exp(z):
        _, cov = _unbiased_cov(z)
        return math.fsum(math.log(math.fsum(math.exp(cov[k][l] / tau) for l in range(d) if l != k))
                         for k in range(d)) / d

    v1, v2 = var_term(a), var_term(b)
    assert v1 + v2 > 0.01, "inputs must activate the variance hinge, or μ would go untested"
    return lambda_param * mse + mu_param * (v1 + v2) / 2 + nu_param * (c_exp(a) + c_exp(b))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "d"), SHAPES)
def test_vicreg_exp_matches_loop_reference(n, d, seed):
    params = {"lambda_param": 2.0, "mu_param": 3.0, "nu_param": 1.5, "tau": 0.7, "eps": 1e-3}
    _check_non_default("vicreg_exp", params)
    z1, z2 = _views(n, d, seed, scales=[0.4, 1.5, 0.8, 2.0, 0.3, 1.1])  # some stds below 1: hinge active
    _close(LOSSES["vicreg_exp"].fn(z1, z2, **params), ref_vicreg_exp(z1, z2, **params))


# -------------------------------------------------------------------------------------------------- TiCo

def ref_tico(z1, z2, beta, rho, covariance) -> float:
    """1 − (1/n) Σ_i â_i·b̂_i + ρ (1/n) Σ_i â_i C â_iᵀ, C = β C_prev + (1 − β) âᵀâ / n."""
    a, b = _unit_rows(_rows(z1)), _unit_rows(_rows(z2))
    n, d = len(a), len(a[0])
    prev = [[0.0] * d for _ in range(d)] if covariance is None else _rows(covariance)
    batch = [[math.fsum(a[i][k] * a[i][l] for i in range(n)) / n for l in range(d)] for k in range(d)]
    c = [[beta * prev[k][l] + (1 - beta) * batch[k][l] for l in range(d)] for k in range(d)]
    align = math.fsum(_dot(a[i], b[i]) for i in range(n)) / n
    quad = math.fsum(a[i][k] * c[k][l] * a[i][l] for i in range(n) for k in range(d) for l in range(d)) / n
    return 1.0 - align + rho * quad


def _running_cov(d: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(2000 + seed)
    m = torch.randn(d, d, generator=g, dtype=F64)
    return m @ m.T / d + 0.5 * torch.eye(d, dtype=F64)  # symmetric positive definite, far from zero


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "d"), SHAPES)
def test_tico_with_running_covariance_matches_loop_reference(n, d, seed):
    cov = _running_cov(d, seed)
    params = {"beta": 0.6, "rho": 3.0}  # β strictly inside (0, 1): both C_prev and the batch term count
    _check_non_default("tico", params)
    z1, z2 = _views(n, d, seed)
    _close(LOSSES["tico"].fn(z1, z2, covariance=cov, **params), ref_tico(z1, z2, covariance=cov, **params))
    # the running covariance must matter: ignoring it (C_prev = 0) gives a different value
    assert abs(ref_tico(z1, z2, covariance=cov, **params) - ref_tico(z1, z2, covariance=None, **params)) > 1e-3


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "d"), SHAPES)
def test_tico_first_step_matches_loop_reference(n, d, seed):
    params = {"beta": 0.6, "rho": 3.0}
    z1, z2 = _views(n, d, seed)
    _close(LOSSES["tico"].fn(z1, z2, **params), ref_tico(z1, z2, covariance=None, **params))


# ------------------------------------------------------------------------------------------------- W-MSE

def ref_whiten(rows, eps):
    """w_i = L⁻¹ (z_i − z̄), L Lᵀ = (1 − ε) Σ + ε I, Σ unbiased (Cholesky whitening)."""
    d = len(rows[0])
    zc, cov = _unbiased_cov(rows)
    m = [[(1 - eps) * cov[k][l] + (eps if k == l else 0.0) for l in range(d)] for k in range(d)]
    L = _cholesky(m)
    return [_forward_solve(L, r) for r in zc]


def ref_wmse(z1, z2, eps) -> float:
    """2 − 2 (1/n) Σ_i cos(w(z1)_i, w(z2)_i), each view whitened with its own batch statistics."""
    x, y = ref_whiten(_rows(z1), eps), ref_whiten(_rows(z2), eps)
    n = len(x)
    return 2.0 - 2.0 * math.fsum(_dot(x[i], y[i]) / (_norm(x[i]) * _norm(y[i])) for i in range(n)) / n


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "d"), SHAPES)
def test_wmse_with_shrinkage_matches_loop_reference(n, d, seed):
    params = {"eps": 0.3}  # ε > 0 also makes n < d well defined
    _check_non_default("wmse", params)
    z1, z2 = _views(n, d, seed)
    _close(LOSSES["wmse"].fn(z1, z2, **params), ref_wmse(z1, z2, **params))


# ----------------------------------------------------------------------------------------- align+uniform

def ref_uniformity(rows, t) -> float:
    """log( (2/(n(n−1))) Σ_{i<j} exp(−t ||x_i − x_j||²) ), Wang & Isola's L_uniform."""
    n = len(rows)
    s = math.fsum(math.exp(-t * math.fsum((p - q) ** 2 for p, q in zip(rows[i], rows[j])))
                  for i in range(n) for j in range(i + 1, n))
    return math.log(s / (n * (n - 1) / 2))


def ref_align_uniform(z1, z2, t, lam, alpha) -> float:
    """(1/n) Σ_i ||x̂_i − ŷ_i||^α + λ (L_uniform(x̂) + L_uniform(ŷ)) / 2 on row-normalised embeddings."""
    x, y = _unit_rows(_rows(z1)), _unit_rows(_rows(z2))
    n = len(x)
    align = math.fsum(math.fsum((p - q) ** 2 for p, q in zip(x[i], y[i])) ** (alpha / 2) for i in range(n)) / n
    return align + lam * (ref_uniformity(x, t) + ref_uniformity(y, t)) / 2


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "d"), SHAPES)
def test_uniformity_matches_loop_reference(n, d, seed):
    x = torch.nn.functional.normalize(_views(n, d, seed)[0], dim=-1)
    _close(uniformity(x, 1.5), ref_uniformity(_rows(x), 1.5))


@pytest.mark.parametrize("alpha", [2.0, 3.0])
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "d"), SHAPES)
def test_align_uniform_matches_loop_reference(n, d, seed, alpha):
    params = {"t": 1.5, "lam": 0.7}
    _check_non_default("align_uniform", params)
    z1, z2 = _views(n, d, seed)
    _close(LOSSES["align_uniform"].fn(z1, z2, alpha=alpha, **params), ref_align_uniform(z1, z2, alpha=alpha, **params))


# -------------------------------------------------------------------------------------------------- MMCR

def _nuclear_2xd(u, v) -> float:
    """||[u; v]||_* = s1 + s2 = sqrt(s1² + s2² + 2 s1 s2) = sqrt(tr G + 2 sqrt(det G)), G the 2×2 Gram."""
    uu, vv, uv = _dot(u, u), _dot(v, v), _dot(u, v)
    return math.sqrt(uu + vv + 2.0 * math.sqrt(max(uu * vv - uv * uv, 0.0)))


def _nuclear(rows) -> float:
    """Σ sqrt(eigenvalues) of the smaller Gram matrix (numpy's symmetric eigensolver, not an SVD)."""
    n, d = len(rows), len(rows[0])
    if n >= d:
        gram = [[math.fsum(rows[i][k] * rows[i][l] for i in range(n)) for l in range(d)] for k in range(d)]
    else:
        gram = [[_dot(rows[i], rows[j]) for j in range(n)] for i in range(n)]
    return math.fsum(math.sqrt(max(float(e), 0.0)) for e in np.linalg.eigvalsh(np.array(gram)))


def ref_mmcr(z1, z2, lmda) -> float:
    """−||C||_* + (λ/n) Σ_i ||[z1_i; z2_i]||_*, centroids C_i = (z1_i + z2_i)/2."""
    a, b = _rows(z1), _rows(z2)
    n, d = len(a), len(a[0])
    centroids = [[(a[i][k] + b[i][k]) / 2 for k in range(d)] for i in range(n)]
    return -_nuclear(centroids) + lmda * math.fsum(_nuclear_2xd(a[i], b[i]) for i in range(n)) / n


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "d"), SHAPES)
def test_mmcr_matches_loop_reference(n, d, seed):
    params = {"lmda": 0.3}
    _check_non_default("mmcr", params)
    z1, z2 = _views(n, d, seed)
    _close(LOSSES["mmcr"].fn(z1, z2, **params), ref_mmcr(z1, z2, **params))
