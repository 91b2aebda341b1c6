"""Sympy derivations behind Garrido et al. (2023, arXiv:2206.02574).

Each function proves one algebraic statement, either for a general symbolic size (Beta integrals,
sums of squares) or for every small shape in a list (entry-wise polynomial identities, where sympy
expands both sides into monomials and compares them exactly). Results are cached: each runs once.
Orientation follows the code: ``Z`` is ``n × d`` (samples × dimensions), ``K = Zᵀ``.
"""
from __future__ import annotations

from functools import lru_cache
from itertools import permutations
from typing import Callable

import sympy as sp

#: small shapes (n, d) on which the entry-wise identities are expanded exactly; includes n > d, n < d,
#: n = d and the 1-row / 1-column edge cases.
SHAPES = ((1, 1), (1, 3), (3, 1), (2, 2), (2, 3), (3, 2), (3, 4), (4, 3))


def symbolic_matrix(n: int, d: int, name: str = "z") -> sp.Matrix:
    return sp.Matrix(n, d, lambda i, k: sp.Symbol(f"{name}_{i}{k}", real=True))


def extract_diag(a: sp.Matrix) -> sp.Matrix:
    """Definition 3.1 on a sympy matrix: ``a ⊙ I``."""
    return sp.Matrix(a.rows, a.cols, lambda i, j: a[i, j] if i == j else 0)


def off_sq(a: sp.Matrix) -> sp.Expr:
    """``||a − diag(a)||_F²``."""
    return sum((a[i, j] ** 2 for i in range(a.rows) for j in range(a.cols) if i != j), sp.Integer(0))


def lc(z: sp.Matrix) -> sp.Expr:
    return off_sq(z * z.T)


def lnc(z: sp.Matrix) -> sp.Expr:
    return off_sq(z.T * z)


def sample_norms4(z: sp.Matrix) -> sp.Expr:
    return sum((sum(z[i, k] ** 2 for k in range(z.cols)) ** 2 for i in range(z.rows)), sp.Integer(0))


def feature_norms4(z: sp.Matrix) -> sp.Expr:
    return sum((sum(z[i, k] ** 2 for i in range(z.rows)) ** 2 for k in range(z.cols)), sp.Integer(0))


def _zero(expr: sp.Expr, what: str) -> None:
    r = sp.expand(expr)
    if r != 0:
        raise AssertionError(f"sympy: {what} leaves the non-zero residual {sp.sstr(r)[:300]}")


def prove_on_shapes(identity: Callable[[sp.Matrix], sp.Expr], what: str, shapes=SHAPES) -> str:
    """Expand ``identity(Z)`` (which must vanish) for a symbolic ``Z`` of every shape in ``shapes``."""
    for n, d in shapes:
        _zero(identity(symbolic_matrix(n, d)), f"{what} at shape (n, d) = ({n}, {d})")
    return f"{what}: expanded to 0 for (n, d) in {list(shapes)}"


@lru_cache(maxsize=None)
def extract_diag_is_projection() -> str:
    """Def. 3.1: diag(diag(A)) = diag(A), A − diag(A) has a zero diagonal and A's off-diagonal entries."""
    a = sp.Matrix(3, 3, lambda i, j: sp.Symbol(f"a_{i}{j}", real=True))
    if extract_diag(extract_diag(a)) != extract_diag(a):
        raise AssertionError("sympy: diag is not idempotent")
    r = a - extract_diag(a)
    if any(r[i, i] != 0 for i in range(3)) or any(r[i, j] != a[i, j] for i in range(3) for j in range(3) if i != j):
        raise AssertionError("sympy: A - diag(A) does not keep exactly the off-diagonal entries")
    return "diag(diag(A)) = diag(A) and A − diag(A) = off-diagonal part, for a symbolic 3×3 A"


@lru_cache(maxsize=None)
def criteria_invariances() -> str:
    """Def. 3.2: L_c(Z R) = L_c(Z) for a rotation R(θ) of embedding space; L_nc(R Z) = L_nc(Z) for a
    rotation mixing the samples (symbolic θ, symbolic 2×2 / 2×3 Z)."""
    t = sp.Symbol("theta", real=True)
    rot = sp.Matrix([[sp.cos(t), -sp.sin(t)], [sp.sin(t), sp.cos(t)]])
    z = symbolic_matrix(3, 2)
    r1 = sp.simplify(sp.expand(lc(z * rot) - lc(z)).subs(sp.sin(t) ** 2, 1 - sp.cos(t) ** 2))
    _zero(sp.trigsimp(r1), "L_c(Z R) − L_c(Z) (rotation of embedding space)")
    z = symbolic_matrix(2, 3)
    r2 = sp.simplify(sp.expand(lnc(rot * z) - lnc(z)).subs(sp.sin(t) ** 2, 1 - sp.cos(t) ** 2))
    _zero(sp.trigsimp(r2), "L_nc(R Z) − L_nc(Z) (rotation mixing samples)")
    return "L_c is invariant to rotations of embedding space, L_nc to rotations mixing samples (symbolic θ)"


@lru_cache(maxsize=None)
def duality_identity() -> str:
    """Theorem 3.3: L_nc + Σ_j ||K_j,·||⁴ = L_c + Σ_i ||K_·,i||⁴ (entry-wise expansion, every shape in SHAPES)."""
    return prove_on_shapes(lambda z: lnc(z) + feature_norms4(z) - lc(z) - sample_norms4(z),
                           "L_nc + Σ feature norms⁴ − L_c − Σ sample norms⁴")


@lru_cache(maxsize=None)
def doubly_normalised_constant() -> str:
    """Remark on Thm 3.3: with sample norms c and feature norms r, n c² = d r² and L_nc − L_c = n c⁴ − d r⁴;
    with c = r = 1 this forces n = d (so the printed constant N − M is 0)."""
    n, d, c, r = sp.symbols("n d c r", positive=True)
    # Thm 3.3 with Σ sample norms⁴ = n c⁴ and Σ feature norms⁴ = d r⁴
    gap = sp.solve(sp.Eq(sp.Symbol("Lnc") + d * r**4, sp.Symbol("Lc") + n * c**4), sp.Symbol("Lnc"))[0] - sp.Symbol("Lc")
    if sp.simplify(gap - (n * c**4 - d * r**4)) != 0:
        raise AssertionError(f"sympy: gap {gap} != n c^4 - d r^4")
    # ||Z||_F² counted by rows and by columns
    sol = sp.solve(sp.Eq(n * 1**2, d * 1**2), n)
    if sol != [d]:
        raise AssertionError(f"sympy: unit rows and columns give n = {sol}, expected n = d")
    practical = sp.simplify(gap.subs({c: 1, r: sp.sqrt(n / d)}))
    if sp.simplify(practical - (n - n**2 / d)) != 0:
        raise AssertionError(f"sympy: with c = 1, r² = n/d the gap is {practical}, expected n − n²/d")
    return "L_nc − L_c = n c⁴ − d r⁴ with n c² = d r²; c = r = 1 forces n = d (gap 0); c = 1 gives n − n²/d"


@lru_cache(maxsize=None)
def power_mean_sos(max_m: int = 6) -> str:
    """Lemma 3.4: Σx² − (Σx)²/m = (1/m) Σ_{j<k}(x_j − x_k)² ≥ 0 and (Σx)² − Σx² = 2 Σ_{j<k} x_j x_k ≥ 0 (x ≥ 0)."""
    for m in range(1, max_m + 1):
        x = sp.symbols(f"x0:{m}", nonnegative=True)
        s1, s2 = sum(x), sum(xi**2 for xi in x)
        pairs = [(j, k) for j in range(m) for k in range(j + 1, m)]
        _zero(s2 - s1**2 / m - sp.Rational(1, m) * sum((x[j] - x[k]) ** 2 for j, k in pairs), f"lower-bound SOS, m={m}")
        _zero(s1**2 - s2 - 2 * sum(x[j] * x[k] for j, k in pairs), f"upper-bound cross terms, m={m}")
    return f"Σx² − (Σx)²/m is a sum of squares and (Σx)² − Σx² = 2Σ_{{j<k}} x_j x_k, for m = 1..{max_m}"


@lru_cache(maxsize=None)
def gap_bounds() -> str:
    """Cor. 3.4.1: with unit sample norms, L_c − (L_nc − n + n²/d) = Σ feature norms⁴ − n²/d and
    (L_nc − n + n²) − L_c = n² − Σ feature norms⁴ (so the bounds are Lemma 3.4's)."""
    lnc_, s, n, d = sp.symbols("L_nc S n d", positive=True)  # S = Σ feature norms⁴
    lc_ = lnc_ + s - n  # Theorem 3.3 with Σ sample norms⁴ = n
    _zero(lc_ - (lnc_ - n + n**2 / d) - (s - n**2 / d), "lower gap")
    _zero((lnc_ - n + n**2) - lc_ - (n**2 - s), "upper gap")
    return "Cor. 3.4.1 bounds are Lemma 3.4's bounds on Σ feature norms⁴, shifted by Theorem 3.3"


@lru_cache(maxsize=None)
def sphere_inner_product_moments(odd_ms: tuple[int, ...] = (3, 5, 7, 9)) -> str:
    """Prop. 3.1: for x, y uniform on S^{m−1}, t = xᵀy has density ∝ (1 − t²)^{(m−3)/2}: E t = 0, E t² = 1/m.

    General m through Beta functions: E t² = B(3/2, (m−1)/2) / B(1/2, (m−1)/2) = 1/m; and explicit
    integrals for odd m (polynomial densities; half-integer powers make sympy's integrator slow).
    """
    m = sp.Symbol("m", positive=True)
    ratio = sp.gamma(sp.Rational(3, 2)) * sp.gamma(m / 2) / (sp.gamma(sp.Rational(1, 2)) * sp.gamma(m / 2 + 1))
    if sp.simplify(sp.gammasimp(ratio) - 1 / m) != 0:
        raise AssertionError(f"sympy: B(3/2,(m-1)/2)/B(1/2,(m-1)/2) = {sp.gammasimp(ratio)}, not 1/m")
    t = sp.Symbol("t", real=True)
    for mm in odd_ms:
        w = (1 - t**2) ** sp.Rational(mm - 3, 2)
        z = sp.integrate(w, (t, -1, 1))
        e1 = sp.integrate(t * w, (t, -1, 1)) / z
        e2 = sp.simplify(sp.integrate(t**2 * w, (t, -1, 1)) / z)
        if sp.simplify(e1) != 0 or sp.simplify(e2 - sp.Rational(1, mm)) != 0:
            raise AssertionError(f"sympy: m={mm}: E t = {e1}, E t² = {e2}")
    return f"E[xᵀy] = 0 and E[(xᵀy)²] = 1/m for symbolic m (Beta functions) and explicitly for m in {odd_ms}"


@lru_cache(maxsize=None)
def method_reductions() -> str:
    """Prop. 3.2 / eq. 8-10 on a symbolic 3×2 Z (same-view negatives):

    * SCL's repulsion ``(1/(n(n−1))) Σ_{i≠j} (z_i·z_j)² = L_c(Z)/(n(n−1))``;
    * Barlow Twins' redundancy term on standardised Ẑ: ``Σ_{k≠l} (ẐᵀẐ/n)_kl² = L_nc(Ẑ)/n²``;
    * VICReg's covariance term: ``(1/d) Σ_{k≠l} C_kl² = L_nc(Z̃)/((n−1)² d) = (L_c(Y) + L_reg(Y))/d`` with
      ``Z̃`` centred, ``C = Z̃ᵀZ̃/(n−1)`` and ``Y = Z̃/sqrt(n−1)`` (eq. 10: VICReg's c is L_c + L_reg).
    """
    n, d = 3, 2
    z = symbolic_matrix(n, d)
    scl = sum(((z[i, :] * z[j, :].T)[0] ** 2 for i in range(n) for j in range(n) if i != j), sp.Integer(0)) / (n * (n - 1))
    _zero(scl - lc(z) / (n * (n - 1)), "SCL repulsion − L_c/(n(n−1))")
    corr = (z.T * z) / n
    _zero(off_sq(corr) - lnc(z) / n**2, "Barlow Twins redundancy − L_nc/n²")
    zc = z - sp.ones(n, 1) * (sp.ones(1, n) * z) / n
    cov = zc.T * zc / (n - 1)
    _zero(off_sq(cov) / d - lnc(zc) / ((n - 1) ** 2 * d), "VICReg c − L_nc(Z̃)/((n−1)² d)")
    y = zc / sp.sqrt(n - 1)
    _zero(off_sq(cov) / d - (lc(y) + sample_norms4(y) - feature_norms4(y)) / d, "VICReg c − (L_c + L_reg)/d")
    return "SCL = L_c/(n(n−1)), BT = L_nc/n², VICReg c = L_nc(Z̃)/((n−1)²d) = (L_c(Y) + L_reg(Y))/d (symbolic 3×2 Z)"


def soft_max(values, tau: sp.Symbol) -> sp.Expr:
    """``τ log Σ_j exp(v_j/τ)`` (eq. 11's penalty, one row of C)."""
    return tau * sp.log(sum((sp.exp(v / tau) for v in values), sp.Integer(0)))


#: C_ij for j ≠ i: the maximum in every position, positive, mixed and negative values
SOFT_MAX_CASES = ((2, 1, sp.Rational(-1, 2)), (1, 3, 0), (-3, -2, sp.Rational(-1, 2)),
                  (sp.Rational(1, 3), -1, sp.Rational(1, 4)))


def _exp_poly(e: sp.Expr) -> sp.Expr:
    """``e`` expanded with every ``exp(a + b)`` split into ``exp(a)·exp(b)`` (a polynomial in the exponentials)."""
    return sp.expand(sp.expand(e).replace(sp.exp, lambda a: sp.exp(sp.expand(a))), power_exp=True)


@lru_cache(maxsize=None)
def logsumexp_max_limit(cases=SOFT_MAX_CASES) -> str:
    """Eq. 11: τ log Σ_{j≠i} exp(C_ij/τ) → max_{j≠i} C_ij as τ → 0⁺ (VICReg-exp's penalty is a soft maximum).

    General values: for ``v = (c + p + q, c + p, c)`` in every order (c real, gaps p, q > 0),
    ``exp(soft/τ) = exp(max/τ)(1 + e^{−q/τ} + e^{−(p+q)/τ})`` exactly and ``τ log(1 + e^{−q/τ} + e^{−(p+q)/τ}) → 0``;
    and ``lim = max`` by sympy's limit on every triple of ``cases``."""
    tau = sp.Symbol("tau", positive=True)
    c = sp.Symbol("c", real=True)
    p, q = sp.symbols("p q", positive=True)
    rest = 1 + sp.exp(-q / tau) + sp.exp(-(p + q) / tau)
    for order in permutations((c + p + q, c + p, c)):
        _zero(_exp_poly(sp.exp(soft_max(order, tau) / tau) - sp.exp((c + p + q) / tau) * rest),
              f"exp(soft max/τ) − exp(max/τ)(1 + e^(−q/τ) + e^(−(p+q)/τ)) for C_i· = {order}")
    if (r := sp.limit(tau * sp.log(rest), tau, 0, "+")) != 0:
        raise AssertionError(f"sympy: τ log(1 + e^(−q/τ) + e^(−(p+q)/τ)) → {r}, expected 0")
    for values in cases:
        if (lim := sp.limit(soft_max(values, tau), tau, 0, "+")) != (want := max(values)):
            raise AssertionError(f"sympy: limit for C_i· = {values} is {lim}, expected {want}")
    return (f"τ·log Σ exp(C_ij/τ) − max C_ij → 0 for general C_i· (max in every position) and "
            f"lim = max for C_i· in {list(cases)} (sympy limit)")
