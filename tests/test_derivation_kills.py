"""The sympy derivations check what they compute: each assertion added against a surviving mutant fails on the
mutated expression (a helper of the derivation monkeypatched to the mutant, or a wrong input passed).

The derivations are cached: the tests call ``fn.__wrapped__`` so that neither the cache nor a patched run leaks.
"""
from __future__ import annotations

import pytest
import sympy as sp

from ssl_props.papers.balestriero2022 import derivations as bal
from ssl_props.papers.garrido2023 import derivations as gar
from ssl_props.papers.terver2025 import derivations as ter
from ssl_props.papers.tian2021 import derivations as tia
from ssl_props.papers.wang2021 import derivations as wan


# ------------------------------------------------------------------------------------------ Balestriero & LeCun
def test_asymmetric_residual_matches_its_closed_form():
    res = bal.asymmetric_dirichlet_residual.__wrapped__()
    z, g = bal.symbolic_z(3, 1), bal.general_graph(3)
    assert res != 0 and sp.expand(res - bal.asymmetric_gap(z, g)) == 0


def test_asymmetric_residual_catches_a_wrong_factor(monkeypatch):
    """Mutant ``dirichlet − 3·tr(ZᵀLZ)``: the same as 2·tr(Zᵀ(3L/2)Z)."""
    lap = bal.laplacian
    monkeypatch.setattr(bal, "laplacian", lambda g: sp.Rational(3, 2) * lap(g))
    with pytest.raises(AssertionError, match="asymmetric residual"):
        bal.asymmetric_dirichlet_residual.__wrapped__()


def test_asymmetric_residual_must_be_non_zero(monkeypatch):
    monkeypatch.setattr(bal, "general_graph", bal.symmetric_graph)
    with pytest.raises(AssertionError, match="holds for a general G"):
        bal.asymmetric_dirichlet_residual.__wrapped__()


def test_aligned_spectrum_catches_all_ones_y(monkeypatch):
    """Mutant ``1 if ... or True else 0``: Y = 11ᵀ is in null(L) too, but is not the class matrix (rank 1)."""
    monkeypatch.setattr(bal, "class_indicators", lambda ns: sp.ones(sum(ns), len(ns)))
    with pytest.raises(AssertionError, match="one-hot"):
        bal.aligned_laplacian_spectrum.__wrapped__()


def test_aligned_spectrum_catches_a_rank_deficient_y(monkeypatch):
    """One-hot rows but every sample in class 0: L·Y = 0 still (Y = 1 e₀ᵀ), rank 1 < C."""
    monkeypatch.setattr(bal, "class_indicators",
                        lambda ns: sp.Matrix(sum(ns), len(ns), lambda i, c: 1 if c == 0 else 0))
    with pytest.raises(AssertionError, match="one-hot|rank"):
        bal.aligned_laplacian_spectrum.__wrapped__()


def test_explicit_j_reduction_catches_a_wrong_square():
    v, j = sp.Symbol("V", positive=True), sp.Symbol("J")
    bal.explicit_j_reduction(sp.expand(v * j - 2 * j + 1), v, j)
    with pytest.raises(AssertionError, match=r"\(J − I\)²"):
        bal.explicit_j_reduction(sp.expand(v * j - 3 * j + 1), v, j)


# ------------------------------------------------------------------------------------------ Garrido et al.
def _slipped_soft_max(values, tau):
    """Mutant ``exp(a/τ) − exp(b/τ) + …``: the second term's sign slipped."""
    a, b, *rest = values
    return tau * sp.log(sp.exp(a / tau) - sp.exp(b / tau) + sum(sp.exp(v / tau) for v in rest))


def test_soft_max_catches_a_sign_slip(monkeypatch):
    monkeypatch.setattr(gar, "soft_max", _slipped_soft_max)
    with pytest.raises(AssertionError, match="exp\\(soft max/τ\\)"):
        gar.logsumexp_max_limit.__wrapped__()


def test_soft_max_catches_a_term_dropped_in_the_limit(monkeypatch):
    """A soft maximum that forgets its largest term has the wrong limit on the table's triples."""
    monkeypatch.setattr(gar, "soft_max", lambda v, tau: tau * sp.log(sum(sp.exp(x / tau) for x in sorted(v)[:-1])))
    with pytest.raises(AssertionError):
        gar.logsumexp_max_limit.__wrapped__()


def test_soft_max_cases_hold():
    assert "lim = max" in gar.logsumexp_max_limit.__wrapped__()


# ------------------------------------------------------------------------------------------ Terver et al.
def _wrong_scalar_E(a, b):
    """Mutant ``2τ`` → ``3τ`` in the scalar objective."""
    return sp.Rational(1, 2) * (ter.rho * b**2 * a**2 - 3 * ter.tau * b * a**2 + ter.zeta * a**2) + ter.lam / 2 * (a**2 + b**2)


@pytest.mark.parametrize("fn", [ter.scalar_curl, ter.sg_equilibrium_not_critical])
def test_scalar_objective_is_the_matrix_one(monkeypatch, fn):
    monkeypatch.setattr(ter, "_scalar_E", _wrong_scalar_E)
    with pytest.raises(AssertionError, match="scalar Ē = F̄"):
        fn.__wrapped__()


def test_scalar_objective_halved_wrongly(monkeypatch):
    """Mutant ``Rational(1, 2)`` → another factor on the data term."""
    monkeypatch.setattr(ter, "_scalar_E", lambda a, b: (ter.rho * b**2 * a**2 - 2 * ter.tau * b * a**2 + ter.zeta * a**2)
                        + ter.lam / 2 * (a**2 + b**2))
    with pytest.raises(AssertionError, match="scalar Ē = F̄"):
        ter.scalar_curl.__wrapped__()


def test_ema_field_is_the_model_field(monkeypatch):
    """Mutant ``−(bR − λa)``: the asymmetry ∂ċ/∂a − ∂ȧ/∂c = β − τb is unchanged, the field is wrong."""
    def wrong(a, b, c):
        R = b * a * ter.rho - c * ter.tau
        return sp.Matrix([-(b * R - ter.lam * a), -(R * a + ter.lam * b), ter.beta * (a - c)])
    monkeypatch.setattr(ter, "_ema_scalar_field", wrong)
    with pytest.raises(AssertionError, match="EMA field"):
        ter.ema_not_gradient.__wrapped__()


def test_sphere_radii_must_be_the_two_distinct_roots(monkeypatch):
    """Mutant: both radii ``(|τ| + √Δ)/(2ρ)`` (each solves the quadratic, the pair is not its two roots)."""
    monkeypatch.setattr(ter, "_radii", lambda t, D: ((t + sp.sqrt(D)) / (2 * ter.rho),) * 2)
    with pytest.raises(AssertionError, match="r₂ − r₁"):
        ter.sphere_radii.__wrapped__()


def test_scalar_data_term_is_half_a_squared_g(monkeypatch):
    """A wrong F̄ that is still 2-homogeneous in A (ζ term doubled) passes Euler's identity, not Ē₀ = ½a²g(b)."""
    F = ter._F
    monkeypatch.setattr(ter, "_F", lambda A, B, C, X, Y, Z: F(A, B, C, X, Y, Z) + (C * Z * C.T).trace() / 2)
    with pytest.raises(AssertionError, match="½ a² g"):
        ter.gd_collapse_identities.__wrapped__()


# ------------------------------------------------------------------------------------------ Tian et al.
def test_figure4_printed_residual_is_its_closed_form(monkeypatch):
    """Mutant ``f − p(p − p₋)(p − p₊)``: still non-zero, but not −σ²p(p − p₋)(p − p₊)."""
    monkeypatch.setattr(tia, "_caption_rhs", lambda p, pm, pp: p * (p - pm) * (p - pp))
    with pytest.raises(AssertionError, match="−σ² p"):
        tia.figure4_factor_residual.__wrapped__()


def test_parabola_printed_residual_is_its_closed_form(monkeypatch):
    field = tia._mode_field
    monkeypatch.setattr(tia, "_mode_field", lambda p, s, tau, c, eta, ap: (field(p, s, tau, c, eta, ap)[0],
                                                                          3 * p * s * (tau - c * p) - 2 * eta * s))
    with pytest.raises(AssertionError, match=r"2ps\(τ − cp\)\(1 − α_p\)"):
        tia.parabola_without_alpha_residual.__wrapped__()


def test_directset_fixed_point_solves_its_equation(monkeypatch):
    """Mutant ``(u₊ + ε)^{1/α}``: s* is returned, and was never checked."""
    monkeypatch.setattr(tia, "_directset_s_star", lambda u, eps, alpha: (u + eps) ** (1 / alpha))
    with pytest.raises(AssertionError, match="s\\*\\^α"):
        tia.directset_fixed_point_residual.__wrapped__()


def test_tian_closed_forms_hold():
    corrected, printed = tia.figure4_factor_residual.__wrapped__()
    assert tia.is_zero(corrected) and not tia.is_zero(printed)
    printed, corrected = tia.parabola_without_alpha_residual.__wrapped__()
    assert tia.is_zero(corrected) and not tia.is_zero(printed)


# ------------------------------------------------------------------------------------------ Wang et al.
@pytest.mark.parametrize("name, fn", [("S2", wan.normalised_top_mode_decays), ("LAM", wan.nonwhitened_threshold)])
def test_wang_signs_use_the_nonnegativity(monkeypatch, name, fn):
    """Mutant ``nonnegative=True`` → ``False``: the sign claims (g(1 + ε) ≤ −η, g'' ≤ 0) are then unproved."""
    monkeypatch.setattr(wan, name, sp.Symbol(str(getattr(wan, name)), real=True))
    with pytest.raises(AssertionError, match="is not ≤ 0"):
        fn.__wrapped__()


def test_nonwhitened_threshold_needs_both_roots(monkeypatch):
    """A g with the double root p₊ (p₋ not a root): the factorisation g = −(λ+σ²)(p − p₊)(p − p₋) fails."""
    c = wan.LAM + wan.S2
    p_plus = (wan.LAM + sp.sqrt(wan.LAM**2 - 4 * wan.ETA * c)) / (2 * c)
    monkeypatch.setattr(wan, "gain", lambda p: -c * (p - p_plus) ** 2)
    with pytest.raises(AssertionError, match="two roots"):
        wan.nonwhitened_threshold.__wrapped__()
