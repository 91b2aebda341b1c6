"""Sympy derivations behind the DirectSet(α) variants of Wang, Chen, Du & Tian (2021), arXiv:2110.04947
(issue 14 item 11; the per-mode reduction of Tian et al. 2021's linear model, X = diag(λ) commuting with X').

Per mode, with stop-gradient and the L2 loss, ``ṡ = 2 s g(p)``, ``g(p) = p(λ − (λ + σ²)p) − η`` where ``p`` is the
mode's predictor eigenvalue (DirectSet: ``p = (λ s)^α``; normalised: ``p = (f/f_max)^α + ε``).
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

LAM, S2, ETA, EPS = sp.symbols("lambda sigma2 eta epsilon", nonnegative=True)
P = sp.Symbol("p", positive=True)


def gain(p: sp.Expr) -> sp.Expr:
    """``g(p) = p(λ − (λ + σ²)p) − η``."""
    return p * (LAM - (LAM + S2) * p) - ETA


@lru_cache(maxsize=None)
def nonwhitened_threshold() -> str:
    """p± = [λ ± √(λ² − 4η(λ + σ²))]/(2(λ + σ²)) are the roots of g; max_p g + η = λ²/(4(λ + σ²)) at
    p = λ/(2(λ + σ²)), so a mode survives iff λ²/(4(λ + σ²)) > η; at λ = 1 this is σ² < 1/(4η) − 1."""
    c = LAM + S2
    disc = sp.sqrt(LAM**2 - 4 * ETA * c)
    p_plus, p_minus = (LAM + disc) / (2 * c), (LAM - disc) / (2 * c)
    r = sp.simplify(sp.expand(gain(P) + c * (P - p_plus) * (P - p_minus)))  # g(p) = −(λ + σ²)(p − p₊)(p − p₋)
    if r != 0:
        raise AssertionError(f"sympy: p± are not the two roots of g: g + (λ+σ²)(p − p₊)(p − p₋) = {r}")
    p_star = sp.solve(sp.diff(gain(P), P), P)[0]
    if not sp.diff(gain(P), P, 2).is_nonpositive:  # g'' = −2(λ + σ²) ≤ 0: the stationary point is the maximum
        raise AssertionError(f"sympy: g'' = {sp.diff(gain(P), P, 2)} is not ≤ 0")
    if sp.simplify(p_star - LAM / (2 * c)) != 0 or sp.simplify(gain(p_star) + ETA - LAM**2 / (4 * c)) != 0:
        raise AssertionError("sympy: the maximum of p(λ − (λ+σ²)p) is not λ²/(4(λ+σ²))")
    whitened = sp.simplify((LAM**2 / (4 * c)).subs(LAM, 1) - ETA)  # > 0 ⇔ σ² < 1/(4η) − 1
    if sp.simplify(whitened * 4 * (1 + S2) / ETA - (1 / ETA - 4 * (1 + S2))) != 0:
        raise AssertionError("sympy: at λ = 1 the condition is not σ² < 1/(4η) − 1")
    return "roots p±, maximum λ²/(4(λ+σ²)) at p = λ/(2(λ+σ²)); λ = 1 gives σ² < 1/(4η) − 1"


@lru_cache(maxsize=None)
def normalised_top_mode_decays() -> str:
    """With the predictor normalised by its top eigenvalue, the top mode has p = 1 + ε and
    g(1 + ε) = −η − (1 + ε)(σ²(1 + ε) + ελ) ≤ −η: the largest f = λ s decays at least like e^{−2ηt}."""
    excess = -(1 + EPS) * (S2 * (1 + EPS) + EPS * LAM)  # g(1 + ε) + η
    r = sp.expand(gain(1 + EPS) - (-ETA + excess))
    if r != 0:
        raise AssertionError(f"sympy: g(1 + ε) identity leaves {r}")
    if not excess.is_nonpositive:
        raise AssertionError(f"sympy: g(1 + ε) + η = {excess} is not ≤ 0 for σ², ε, λ ≥ 0")
    return "g(1 + ε) + η = −(1 + ε)(σ²(1 + ε) + ελ) ≤ 0 for σ², ε, λ ≥ 0"
