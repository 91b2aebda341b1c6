"""Sympy derivations behind Terver, Ponce & Hebert (2025, arXiv:2507.01028), linear case, small symbolic sizes.

Notation of :mod:`ssl_props.dynamics.moments_model`: encoder ``A`` (n × m), predictor ``B`` (n × n), teacher ``C``,
moments ``X = [xxᵀ]`` (symmetric), ``Y = [yxᵀ]`` (general), ``Z = [yyᵀ]`` (symmetric), ridge ``λ``;
for ``m = 1`` the scalars are ``ρ = [xxᵀ]``, ``τ = [yxᵀ]``, ``ζ = [yyᵀ]``. Each function proves one
statement exactly (expanding to 0 or evaluating signs symbolically), raises ``AssertionError`` otherwise,
and returns a one-line summary. Everything is cached: each derivation runs once per process.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

#: (n, m) sizes on which the matrix statements are expanded exactly (n > m is the paper's case; (1, 1) scalar).
SIZES = ((1, 1), (2, 1), (2, 2))
#: the identities that hold for every size entry-wise are expanded on the scalar and the 2 × 2 case only (time budget)
SIZES_FAST = ((1, 1), (2, 2))
rho, tau, zeta, lam, beta = sp.symbols("rho tau zeta lambda beta", real=True)
s_, r_ = sp.symbols("s r", positive=True)


def _mat(n: int, m: int, name: str, sym: bool = False) -> sp.Matrix:
    if sym:
        return sp.Matrix(n, m, lambda i, j: sp.Symbol(f"{name}_{min(i, j)}{max(i, j)}", real=True))
    return sp.Matrix(n, m, lambda i, j: sp.Symbol(f"{name}_{i}{j}", real=True))


def _zero(expr, what: str, rational: bool = False) -> None:
    """Raise unless ``expr`` (scalar or matrix) is identically 0: polynomials are expanded, rational functions
    (``rational=True``) brought to one fraction whose numerator is expanded."""
    norm = (lambda e: sp.expand(sp.numer(sp.together(e)))) if rational else sp.expand
    entries = list(expr) if isinstance(expr, sp.MatrixBase) else [expr]
    bad = [r for r in map(norm, entries) if r != 0]
    if bad:
        raise AssertionError(f"sympy: {what} leaves the non-zero residual {sp.sstr(bad[0])[:300]}")


def _problem(n: int, m: int, Y_zero: bool = False):
    A, B, C = _mat(n, m, "a"), _mat(n, n, "b"), _mat(n, m, "c")
    X, Z = _mat(m, m, "x", sym=True), _mat(m, m, "z", sym=True)
    Y = sp.zeros(m, m) if Y_zero else _mat(m, m, "y")
    return A, B, C, X, Y, Z


def _F(A, B, C, X, Y, Z):
    """``F̄ = ½ tr(BAXAᵀBᵀ) − tr(BA Yᵀ Cᵀ) + ½ tr(C Z Cᵀ) + λ(‖A‖² + ‖B‖²)/2`` (``E‖BAx − Cy‖²`` expanded)."""
    return (sp.Rational(1, 2) * (B * A * X * A.T * B.T).trace() - (B * A * Y.T * C.T).trace()
            + sp.Rational(1, 2) * (C * Z * C.T).trace() + lam / 2 * (sum(a**2 for a in A) + sum(b**2 for b in B)))


def _grad(f, M: sp.Matrix) -> sp.Matrix:
    return M.applyfunc(lambda e: sp.diff(f, e))


def _sg(A, B, X, Y):
    R = B * A * X - A * Y
    return -(B.T * R + lam * A), -(R * A.T + lam * B)


def _scalar_E(a, b):
    """``Ē`` at m = n = 1 (C = A): ``½(ρ b² a² − 2τ b a² + ζ a²) + λ(a² + b²)/2``."""
    return sp.Rational(1, 2) * (rho * b**2 * a**2 - 2 * tau * b * a**2 + zeta * a**2) + lam / 2 * (a**2 + b**2)


def _scalar_problem(a, b, c=None):
    """``F̄(a, b, c)`` at m = n = 1 from :func:`_F` (teacher ``c``; ``c = a`` when omitted: ``Ē``)."""
    A, B = sp.Matrix([[a]]), sp.Matrix([[b]])
    return _F(A, B, A if c is None else sp.Matrix([[c]]), sp.Matrix([[rho]]), sp.Matrix([[tau]]), sp.Matrix([[zeta]]))


def _ema_scalar_field(a, b, c):
    """EMA field ``(ȧ, ḃ, ċ)`` at m = n = 1 with ``R = ρ b a − τ c``."""
    R = b * a * rho - c * tau
    return sp.Matrix([-(b * R + lam * a), -(R * a + lam * b), beta * (a - c)])


def _radii(t, D):
    """Prop. 4.11's radii ``(|τ| ∓ √Δ)/(2ρ)``."""
    return (t - sp.sqrt(D)) / (2 * rho), (t + sp.sqrt(D)) / (2 * rho)


def _vec(*ms: sp.Matrix) -> sp.Matrix:
    return sp.Matrix([e for M in ms for e in M])


@lru_cache(maxsize=None)
def fields_are_partial_gradients() -> str:
    """Lemma 4.1 form: SG field = −∇_{A,B} F̄ at fixed teacher C = A; GD field = −∇ Ē (closed forms of the module)."""
    for n, m in SIZES_FAST:
        A, B, C, X, Y, Z = _problem(n, m)
        F = _F(A, B, C, X, Y, Z)
        dA, dB = _sg(A, B, X, Y)
        _zero(dA + _grad(F, A).subs(dict(zip(C, A))), f"SG dA = −∂F̄/∂A at (n, m) = ({n}, {m})")
        _zero(dB + _grad(F, B).subs(dict(zip(C, A))), f"SG dB = −∂F̄/∂B at (n, m) = ({n}, {m})")
        E = F.subs(dict(zip(C, A)))
        R = B * A * X - A * Y
        gd_A = -(B.T * R - B * A * Y.T + A * Z + lam * A)
        _zero(gd_A + _grad(E, A), f"GD dA = −∂Ē/∂A at (n, m) = ({n}, {m})")
    return f"SG = −∂F̄|_(C=A) and GD = −∇Ē expanded to 0 for (n, m) in {list(SIZES_FAST)}"


@lru_cache(maxsize=None)
def scalar_curl() -> sp.Expr:
    """Prop. 3.2, m = n = 1: ``∂ḃ/∂a − ∂ȧ/∂b = τ a`` for SG (λ cancels); 0 for GD (a gradient field)."""
    a, b = sp.symbols("a b", real=True)
    A, B = sp.Matrix([[a]]), sp.Matrix([[b]])
    dA, dB = _sg(A, B, sp.Matrix([[rho]]), sp.Matrix([[tau]]))
    curl = sp.expand(sp.diff(dB[0], a) - sp.diff(dA[0], b))
    _zero(curl - tau * a, "SG scalar curl = τ a")
    E = _scalar_E(a, b)
    _zero(E - _scalar_problem(a, b), "scalar Ē = F̄(a, b, C = a) of the matrix model")
    ga, gb = -sp.diff(E, a), -sp.diff(E, b)
    _zero(sp.diff(gb, a) - sp.diff(ga, b), "GD scalar curl = 0")
    return curl


@lru_cache(maxsize=None)
def jacobian_asymmetry(n: int, m: int, Y_zero: bool = False) -> sp.Matrix:
    """``J − Jᵀ`` of the SG field in the variables ``(vec A, vec B)`` at a symbolic point (size N × N)."""
    A, B, C, X, Y, Z = _problem(n, m, Y_zero)
    dA, dB = _sg(A, B, X, Y)
    v, f = _vec(A, B), _vec(dA, dB)
    J = f.jacobian(v)
    return (J - J.T).applyfunc(sp.expand)


@lru_cache(maxsize=None)
def sg_not_gradient() -> str:
    """Prop. 3.2: ``J ≠ Jᵀ`` symbolically for every size in :data:`SIZES`; ``J = Jᵀ`` when ``[yxᵀ] = 0``."""
    for n, m in SIZES:
        if all(e == 0 for e in jacobian_asymmetry(n, m)):
            raise AssertionError(f"sympy: SG Jacobian symmetric at (n, m) = ({n}, {m}) — Prop. 3.2 refuted")
        _zero(jacobian_asymmetry(n, m, Y_zero=True), f"SG Jacobian asymmetry with [yxᵀ] = 0 at ({n}, {m})")
    return f"J_SG − J_SGᵀ ≠ 0 for (n, m) in {list(SIZES)}, and = 0 when [yxᵀ] = 0 (uncorrelated views)"


@lru_cache(maxsize=None)
def ema_not_gradient() -> str:
    """Prop. 3.2 (EMA), m = n = 1: in (a, b, c), ``∂ċ/∂a = β`` while ``∂ȧ/∂c = τ b``: not symmetric."""
    a, b, c = sp.symbols("a b c", real=True)
    f = _ema_scalar_field(a, b, c)
    F = _scalar_problem(a, b, c)  # the model's EMA field: −∂F̄/∂(a, b) at the teacher c, ċ = β(a − c)
    _zero(f - sp.Matrix([-sp.diff(F, a), -sp.diff(F, b), beta * (a - c)]), "EMA field = (−∂F̄/∂a, −∂F̄/∂b, β(a − c))")
    J = f.jacobian(sp.Matrix([a, b, c]))
    asym = sp.expand(J[2, 0] - J[0, 2])
    _zero(asym - (beta - tau * b), "EMA ∂ċ/∂a − ∂ȧ/∂c = β − τ b")
    return f"EMA: ∂ċ/∂a − ∂ȧ/∂c = {asym} (≠ 0 off the surface τ b = β)"


@lru_cache(maxsize=None)
def equilibria_m1() -> str:
    """Prop. 4.5 for m = 1 (n = 2): with ``B = A τ Aᵀ (ρ A Aᵀ + λ I)⁻¹``, ``dB/dt = 0`` and
    ``dA/dt = −λ a (1 − τ² s / (ρ s + λ)²)``, ``s = ‖a‖²``: non-zero equilibria iff ``(ρ s + λ)² = τ² s``."""
    a0, a1 = sp.symbols("a0 a1", real=True)
    A = sp.Matrix([[a0], [a1]])
    s = a0**2 + a1**2
    W = rho * A * A.T + lam * sp.eye(2)
    B = tau * A * A.T * W.inv()
    dA, dB = _sg(A, B, sp.Matrix([[rho]]), sp.Matrix([[tau]]))
    _zero(dB, "dB/dt at B(A) (Prop. 4.5)", rational=True)
    _zero(dA + lam * A * (1 - tau**2 * s / (rho * s + lam) ** 2), "dA/dt at B(A) (Prop. 4.5)", rational=True)
    return "m = 1: B(A) zeroes dB/dt and dA/dt = −λ a (1 − τ² s/(ρ s + λ)²)"


@lru_cache(maxsize=None)
def sphere_radii() -> str:
    """Prop. 4.11: ``(ρ r² + λ)² − τ² r² = (ρ r² − |τ| r + λ)(ρ r² + |τ| r + λ)``; the positive roots are
    ``r₁,₂ = (|τ| ∓ √Δ)/(2ρ)``, ``Δ = τ² − 4ρλ`` (real iff Δ ≥ 0)."""
    t = sp.Symbol("t", positive=True)  # |τ|
    _zero((rho * r_**2 + lam) ** 2 - t**2 * r_**2 - (rho * r_**2 - t * r_ + lam) * (rho * r_**2 + t * r_ + lam),
          "factorisation of the m = 1 equilibrium equation")
    D = t**2 - 4 * rho * lam
    radii = _radii(t, D)
    for r in radii:
        _zero(rho * r**2 - t * r + lam, "radius solves ρ r² − |τ| r + λ = 0", rational=True)
    _zero(radii[1] - radii[0] - sp.sqrt(D) / rho, "r₂ − r₁ = √Δ/ρ (two distinct radii when Δ > 0)", rational=True)
    _zero(radii[0] + radii[1] - t / rho, "Vieta: r₁ + r₂ = |τ|/ρ", rational=True)
    _zero(radii[0] * radii[1] - lam / rho, "Vieta: r₁ r₂ = λ/ρ", rational=True)
    return "Prop. 4.11 radii r₁,₂ = (|τ| ∓ √(τ² − 4ρλ))/(2ρ) solve (ρr² + λ)² = τ² r²"


@lru_cache(maxsize=None)
def gd_collapse_identities() -> str:
    """Lemma 4.3 (our Lyapunov proof): ``⟨∇_A Ē₀, A⟩ = 2 Ē₀`` (Ē₀: data term, 2-homogeneous in A), and for
    m = n = 1, ``Ē₀ = ½ a² g(b)`` with ``g(b) − (ζ − τ²/ρ) = ρ (b − τ/ρ)²`` (so ``g ≥ λ_min(Σ) > 0``)."""
    for n, m in SIZES:
        A, B, C, X, Y, Z = _problem(n, m)
        E0 = _F(A, B, A, X, Y, Z).subs(lam, 0)
        euler = sum(x * y for x, y in zip(_grad(E0, A), A))
        _zero(euler - 2 * E0, f"Euler identity ⟨∇_A Ē₀, A⟩ = 2 Ē₀ at (n, m) = ({n}, {m})")
    a, b = sp.symbols("a b", real=True)
    g = rho * b**2 - 2 * tau * b + zeta
    _zero(_scalar_problem(a, b).subs(lam, 0) - a**2 * g / 2, "m = n = 1: Ē₀ = ½ a² g(b)")
    _zero(rho * (g - (zeta - tau**2 / rho)) - (rho * b - tau) ** 2, "g(b) − (ζ − τ²/ρ) = ρ (b − τ/ρ)²", rational=True)
    return f"⟨∇_A Ē₀, A⟩ = 2 Ē₀ for (n, m) in {list(SIZES)}; g(b) = ρ(b − τ/ρ)² + ζ − τ²/ρ"


@lru_cache(maxsize=None)
def sg_equilibrium_not_critical() -> str:
    """Prop. 3.1, m = n = 1: at a non-zero SG equilibrium ``b = τ s/(ρ s + λ)``, ``∂Ē/∂a = a [(ζρ − τ²) s + ζλ]/(ρ s + λ)``,
    which is ≠ 0 when ``Σ ≻ 0`` (ζρ > τ²) or ``λ > 0`` — SG does not stop at critical points of Ē."""
    a, b = sp.symbols("a b", real=True)
    E = _scalar_E(a, b)
    _zero(E - _scalar_problem(a, b), "scalar Ē = F̄(a, b, C = a) of the matrix model")
    s = a**2
    dEa = sp.diff(E, a).subs(b, tau * s / (rho * s + lam))
    dA_sg = _sg(sp.Matrix([[a]]), sp.Matrix([[b]]), sp.Matrix([[rho]]), sp.Matrix([[tau]]))[0][0]
    _zero(dA_sg.subs(b, tau * s / (rho * s + lam)) + lam * a * (1 - tau**2 * s / (rho * s + lam) ** 2),
          "SG dA at b(a)", rational=True)
    _zero(dEa - a * ((zeta * rho - tau**2) * s + zeta * lam) / (rho * s + lam) + dA_sg.subs(b, tau * s / (rho * s + lam)),
          "∂Ē/∂a = SG part + a[(ζρ − τ²)s + ζλ]/(ρs + λ)", rational=True)
    return "∂Ē/∂a at SG equilibria = a[(ζρ − τ²)s + ζλ]/(ρs + λ) > 0·a when Σ ≻ 0 or λ > 0"


@lru_cache(maxsize=None)
def balancing_law() -> str:
    """Balancing (submitted Lemma 3.4): with ``R = BAX − CY`` and *any* teacher C, ``Ȧ = −(BᵀR + λA)``,
    ``Ḃ = −(RAᵀ + λB)`` give ``d/dt(AAᵀ − BᵀB) = −2λ(AAᵀ − BᵀB)``, for (n, m) ∈ {(2, 1), (2, 2), (3, 2)}."""
    for n, m in ((2, 1), (2, 2), (3, 2)):
        A, B, C, X, Y, _ = _problem(n, m)
        R = B * A * X - C * Y
        dA, dB = -(B.T * R + lam * A), -(R * A.T + lam * B)
        Q = A * A.T - B.T * B
        _zero(dA * A.T + A * dA.T - dB.T * B - B.T * dB + 2 * lam * Q, f"the balancing law (n={n}, m={m})")
    return "d/dt(AAᵀ − BᵀB) = −2λ(AAᵀ − BᵀB) for any teacher C"


@lru_cache(maxsize=None)
def prop45_m1_root_count() -> str:
    """m = 1: ``(ρs + λ)² = τ²s`` is a quadratic in s: at most 2 = 2^{m(m+1)/2} roots; its discriminant is
    ``τ²(τ² − 4ρλ)``, so there are 2 positive roots when Δ = τ² − 4ρλ > 0 and none when Δ < 0 (fewer than the bound)."""
    rho, tau = sp.symbols("rho tau", positive=True)
    poly = sp.Poly(sp.expand((rho * s_ + lam) ** 2 - tau**2 * s_), s_)
    if poly.degree() != 2:
        raise AssertionError("sympy: the m = 1 equation is not quadratic in s")
    _zero(sp.discriminant(poly.as_expr(), s_) - tau**2 * (tau**2 - 4 * rho * lam), "the m = 1 discriminant")
    # Vieta: product λ²/ρ² > 0 and sum (τ² − 2ρλ)/ρ² > 0 when Δ ≥ 0 (τ² ≥ 4ρλ > 2ρλ): both real roots positive
    a, b, c = poly.all_coeffs()
    _zero(c / a - lam**2 / rho**2, "Vieta product", rational=True)
    _zero(-b / a - (tau**2 - 2 * rho * lam) / rho**2, "Vieta sum", rational=True)
    return "m = 1: ≤ 2 roots; 2 positive iff Δ > 0, 0 iff Δ < 0"
