r"""Symbolic derivations for Tian, Chen & Ganguli (2021, arXiv:2102.06810) and Wang et al. (2021,
arXiv:2110.04947): derived once with sympy, cached, and lambdified for the numeric checks.

Each ``*_residual`` function returns a sympy object that is identically zero when the paper's identity
holds; the checks assert ``simplify(residual) == 0``. Explicit small matrices of symbols (2 × 2, with
symmetric ``X``, ``X'``) stand in for the matrices: the identities are polynomial in the entries, so a
generic 2 × 2 instance exercises every term (the cross terms that cancel are all present).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

import sympy as sp

__all__ = ["is_zero", "mats", "lemma1_residuals", "theorem1_residual", "theorem2_residual", "theorem3_residual",
           "eqn14_residual", "eqn16_fixed_points", "eqn16_stability_residuals", "threshold_equivalence",
           "directset_fixed_point_residual", "fixed_points_fn"]


def is_zero(expr) -> bool:
    """``True`` when a sympy expression or matrix is identically zero (after expand + cancel)."""
    if isinstance(expr, (tuple, list)):
        return all(is_zero(e) for e in expr)
    items = list(expr) if isinstance(expr, sp.MatrixBase) else [expr]
    return all(sp.cancel(sp.expand(e)) == 0 for e in items)


def _require_zero(expr, what: str) -> None:
    """Raise ``AssertionError`` unless ``expr`` is identically zero (a closed form the derivation must reproduce)."""
    if not is_zero(expr):
        raise AssertionError(f"sympy: {what} leaves the non-zero residual {sp.sstr(sp.simplify(expr))[:300]}")


def _m(name: str, r: int, c: int, sym: bool = False) -> sp.Matrix:
    if sym:
        return sp.Matrix(r, c, lambda i, j: sp.Symbol(f"{name}{min(i, j)}{max(i, j)}", real=True))
    return sp.Matrix(r, c, lambda i, j: sp.Symbol(f"{name}{i}{j}", real=True))


@lru_cache(maxsize=None)
def mats(n1: int = 2, n2: int = 2):
    """Symbols ``W, Wp, Wa, X, Xp`` (X, Xp symmetric) and scalars ``eta, alpha_p``."""
    eta, ap = sp.symbols("eta alpha_p", positive=True)
    return (_m("w", n2, n1), _m("p", n2, n2), _m("a", n2, n1), _m("x", n1, n1, True), _m("y", n1, n1, True), eta, ap)


def _loss(W, Wp, Wa, X, Xp, stop_gradient=True):
    """Population loss ``J = ½ E||W_p W x1 − W_a x2||²`` (views independent given x: E x1x1ᵀ = X + X', E x1x2ᵀ = X)."""
    Wt = Wa if stop_gradient else W
    return (sp.Rational(1, 2) * (Wp * W * (X + Xp) * W.T * Wp.T).trace() - (Wp * W * X * Wt.T).trace()
            + sp.Rational(1, 2) * (Wt * (X + Xp) * Wt.T).trace())


def _grad(J, M):
    return sp.Matrix(M.shape[0], M.shape[1], lambda i, j: sp.diff(J, M[i, j]))


@lru_cache(maxsize=None)
def lemma1_residuals():
    """Lemma 1 (Eqns 2-3): ``−∂J/∂W_p − G Wᵀ`` and ``−∂J/∂W − W_pᵀ G`` with the target a constant (stop-gradient)."""
    W, Wp, Wa, X, Xp, _, _ = mats()
    J = _loss(W, Wp, Wa, X, Xp)
    G = -Wp * W * (X + Xp) + Wa * X
    return (sp.expand(-_grad(J, Wp) - G * W.T), sp.expand(-_grad(J, W) - Wp.T * G))


@lru_cache(maxsize=None)
def theorem1_residual():
    """Theorem 1: ``d/dt(W Wᵀ − α_p⁻¹ W_pᵀ W_p) + 2η (W Wᵀ − α_p⁻¹ W_pᵀ W_p)`` along Eqns 2-3 (any W_a)."""
    W, Wp, Wa, X, Xp, eta, ap = mats()
    G = -Wp * W * (X + Xp) + Wa * X
    dWp = ap * G * W.T - eta * Wp
    dW = Wp.T * G - eta * W
    Q = W * W.T - Wp.T * Wp / ap
    dQ = dW * W.T + W * dW.T - (dWp.T * Wp + Wp.T * dWp) / ap
    return sp.expand(dQ + 2 * eta * Q)


@lru_cache(maxsize=None)
def theorem2_residual():
    """Theorem 2: ``−∂J/∂W`` with the gradient through the target ``W_a = W`` equals ``−H vec W`` minus η (vec column-major)."""
    W, Wp, _, X, Xp, eta, _ = mats()
    J = _loss(W, Wp, W, X, Xp, stop_gradient=False)
    n2 = Wp.shape[0]
    I = sp.eye(n2)
    H = sp.kronecker_product(Xp, Wp.T * Wp + I) + sp.kronecker_product(X, (Wp - I).T * (Wp - I)) + eta * sp.eye(W.shape[0] * W.shape[1])
    vec = lambda M: M.T.reshape(M.shape[0] * M.shape[1], 1)  # noqa: E731 (column-major vec)
    dW = -_grad(J, W) - eta * W
    return sp.expand(vec(dW) + H * vec(W)), H


@lru_cache(maxsize=None)
def theorem3_residual():
    """Theorem 3: along Eqn 7, ``d[F,W_p]/dt + ([F,W_p] K + K [F,W_p])`` with ``K`` of the paper (incl. (3/2)ηI)."""
    F, P = _m("f", 2, 2, True), _m("q", 2, 2, True)
    s2, tau, ap, eta = sp.symbols("sigma2 tau alpha_p eta", positive=True)
    c = 1 + s2
    anti = lambda A, B: A * B + B * A  # noqa: E731
    dP = -ap / 2 * c * anti(P, F) + ap * tau * F - eta * P
    dF = -c * anti(P * P, F) + tau * anti(P, F) - 2 * eta * F
    L = F * P - P * F
    dL = dF * P + F * dP - dP * F - P * dF
    K = c * (ap / 2 * F + P * P) - tau * P + sp.Rational(3, 2) * eta * sp.eye(2)  # = c[(α_p/2)F + W_p² − (τ/c)W_p] + (3/2)ηI
    return sp.expand(dL + L * K + K * L)


def _mode_field(p, s, tau, c, eta, ap):
    """Eqns 11-12: ``ṗ = α_p s(τ − cp) − ηp``, ``ṡ = 2ps(τ − cp) − 2ηs``."""
    return ap * s * (tau - c * p) - eta * p, 2 * p * s * (tau - c * p) - 2 * eta * s


def _caption_rhs(p, pm, pp):
    """Figure 4's caption: ``ṗ = −p(p − p₋)(p − p₊)``."""
    return -p * (p - pm) * (p - pp)


def _directset_s_star(u, eps, alpha):
    """The DirectSet(α) fixed point ``s*`` with ``s*^α + ε = u``."""
    return (u - eps) ** (1 / alpha)


def _mode_symbols():
    return sp.symbols("p s tau sigma2 eta alpha_p", real=True)


@lru_cache(maxsize=None)
def eqn14_residual(sign: int = +1):
    """Eqn 14: ``d/dt(s − p²/α_p) + 2η (s − p²/α_p)`` along Eqns 11-12 (appendix sign; ``sign=-1``: main-text sign)."""
    p, s, tau, s2, eta, ap = _mode_symbols()
    dp, ds = _mode_field(p, s, tau, 1 + s2, eta, ap)
    q = sign * (s - p**2 / ap)
    dq = sign * (ds - 2 * p * dp / ap)
    return sp.expand(dq + 2 * eta * q)


@lru_cache(maxsize=None)
def eqn16_fixed_points():
    """Eqn 16 ``dp/dt = p²(τ − c p) − η p``: its roots ``{0, p₋, p₊}``, ``p± = [τ ± √(τ² − 4ηc)]/(2c)``."""
    p, _, tau, s2, eta, _ = _mode_symbols()
    c = 1 + s2
    f = p**2 * (tau - c * p) - eta * p
    pm = (tau - sp.sqrt(tau**2 - 4 * eta * c)) / (2 * c)
    pp = (tau + sp.sqrt(tau**2 - 4 * eta * c)) / (2 * c)
    return f, (sp.Integer(0), pm, pp), (p, tau, s2, eta)


@lru_cache(maxsize=None)
def eqn16_stability_residuals():
    """``f'(0) + η``, ``f'(p₊) + p₊√D``, ``f'(p₋) − p₋√D`` (all 0): 0 and p₊ stable, p₋ unstable when D = τ² − 4ηc > 0."""
    f, (z, pm, pp), (p, tau, s2, eta) = eqn16_fixed_points()
    D = tau**2 - 4 * eta * (1 + s2)
    df = sp.diff(f, p)
    res = (f.subs(p, pm), f.subs(p, pp), df.subs(p, z) + eta, df.subs(p, pp) + pp * sp.sqrt(D), df.subs(p, pm) - pm * sp.sqrt(D))
    return tuple(sp.expand(r) for r in res)


@lru_cache(maxsize=None)
def threshold_equivalence():
    """``D = τ² − 4η(1+σ²) ≥ 0  ⇔  σ² ≤ τ²/(4η) − 1`` for η > 0: returns ``D − 4η (σ²* − σ²)`` (identically 0)."""
    tau, s2, eta = sp.symbols("tau sigma2 eta", positive=True)
    D = tau**2 - 4 * eta * (1 + s2)
    return sp.simplify(D - 4 * eta * ((tau**2 / (4 * eta) - 1) - s2))


@lru_cache(maxsize=None)
def directset_fixed_point_residual():
    """DirectSet(α) (Wang et al.): the mode field is ``2s[u(1 − c u) − η]`` with ``u = s^α + ε``; its non-zero
    fixed points solve ``u(1 − c u) = η`` whatever α, i.e. ``u± = [1 ± √(1 − 4ηc)]/(2c)``: returns the residuals
    at ``u±`` (both 0) and ``s* = (u₊ − ε)^{1/α}``."""
    s2, eta, alpha, eps = sp.symbols("sigma2 eta alpha epsilon", positive=True)
    c = 1 + s2
    ups = [(1 + k * sp.sqrt(1 - 4 * eta * c)) / (2 * c) for k in (-1, 1)]
    s_star = _directset_s_star(ups[1], eps, alpha)
    _require_zero(sp.powdenest(s_star**alpha, force=True) + eps - ups[1], "s*^α + ε = u₊ (s* is the fixed point at u₊)")
    return tuple(sp.expand(u * (1 - c * u) - eta) for u in ups), s_star


@lru_cache(maxsize=None)
def fixed_points_fn() -> Callable:
    """Lambdified ``(tau, sigma2, eta) -> (p₋, p₊)`` of Eqn 16 (torch/numpy arrays; NaN where D < 0)."""
    _, (_, pm, pp), (_, tau, s2, eta) = eqn16_fixed_points()
    import torch

    return sp.lambdify((tau, s2, eta), (pm, pp), modules=[{"sqrt": torch.sqrt}, "numpy"])


# ---------------------------------------------------------------- errata (issue 14 item 8)
@lru_cache(maxsize=None)
def parabola_without_alpha_residual():
    """The sentence after Eqn 14 (η = 0): ``s = p² + c``. Returns ``d/dt(s − p²)`` along Eqns 11-12 with η = 0, which
    is ``2ps(τ − cp)(1 − α_p)``: zero for every state only when α_p = 1 (the corrected ``s − p²/α_p`` is conserved)."""
    p, s, tau, s2, eta, ap = _mode_symbols()
    c = 1 + s2
    dp, ds = _mode_field(p, s, tau, c, 0, ap)
    printed = sp.expand(ds - 2 * p * dp)
    corrected = sp.expand(ds - 2 * p * dp / ap)
    _require_zero(printed - 2 * p * s * (tau - c * p) * (1 - ap), "d/dt(s − p²) = 2ps(τ − cp)(1 − α_p)")
    return sp.factor(printed), corrected  # (2 p s (τ − c p)(1 − α_p) up to sign, 0)


@lru_cache(maxsize=None)
def figure4_factor_residual():
    """Figure 4's caption ``ṗ = −p(p − p₋)(p − p₊)`` vs Eqn 16's ``ṗ = p²(τ − cp) − ηp``: returns
    (Eqn 16 + c·p(p − p₋)(p − p₊), Eqn 16 + p(p − p₋)(p − p₊)); the first is 0, the second is ``−σ² p(p − p₋)(p − p₊)`` (checked)."""
    f, (_, pm, pp), (p, tau, s2, eta) = eqn16_fixed_points()
    c = 1 + s2
    corrected = sp.simplify(sp.expand(f + c * p * (p - pm) * (p - pp)))
    printed = sp.simplify(sp.expand(f - _caption_rhs(p, pm, pp)))
    _require_zero(printed + s2 * p * (p - pm) * (p - pp), "Eqn 16 + p(p − p₋)(p − p₊) = −σ² p(p − p₋)(p − p₊)")
    return corrected, printed


@lru_cache(maxsize=None)
def double_root_residuals():
    """At ``η = τ²/(4c)`` (D = 0): ``p₋ = p₊ = τ/(2c)``, ``f(p*) = 0``, ``f'(p*) = 0`` and ``f''(p*) = −τ ≠ 0``: a double,
    semi-stable root. Returns (p₊ − p₋, f(p*), f'(p*), f''(p*) + τ), all 0."""
    f, (_, pm, pp), (p, tau, s2, eta) = eqn16_fixed_points()
    c = 1 + s2
    at = {eta: tau**2 / (4 * c)}
    ps = tau / (2 * c)
    res = (sp.simplify((pp - pm).subs(at)), sp.simplify(f.subs(at).subs(p, ps)),
           sp.simplify(sp.diff(f, p).subs(at).subs(p, ps)), sp.simplify(sp.diff(f, p, 2).subs(at).subs(p, ps) + tau))
    return res


@lru_cache(maxsize=None)
def eqn15_residual():
    """Eqn 15 with ``dt′``: ``τ = β e^{−βt} ∫₀ᵗ p(t′)e^{βt′}dt′ / p`` solves Eqn 13 on the parabola. With ``y = pτ`` it
    reads ``y′ + βy = βp``: returns the residual of Eqn 13 (``τ̇ − β(1 − τ) + τ ṗ/p``) for τ = y/p with y′ = βp − βy (0)."""
    t, beta = sp.symbols("t beta", positive=True)
    p = sp.Function("p")(t)
    y = sp.Function("y")(t)
    tau = y / p
    dtau = sp.diff(tau, t).subs(sp.Derivative(y, t), beta * p - beta * y)
    return sp.simplify(dtau - beta * (1 - tau) + tau * sp.diff(p, t) / p)
