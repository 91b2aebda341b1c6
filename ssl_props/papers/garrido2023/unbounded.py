"""Remark of ours on Garrido et al. (2023, arXiv:2206.02574) eqs. 11-13: VICReg-exp and VICReg-ctr, with the
signed covariances of eq. 11, have no minimum.

Along ``z = s·T``, ``T`` the ``m`` times stacked centring matrix ``P = I − 11ᵀ/d`` (``n = m·d`` samples of ``d``
dimensions; ``Tᵀ T = m P``), the unbiased covariance is ``C = s² m P/(md − 1)``: every off-diagonal entry is
``−s² m/(d(md − 1))`` and every variance ``s² m (d − 1)/(d(md − 1))``. With both views equal the invariance term
is 0, the variance hinge is 0 once the std reaches 1, and ``c_exp = log(d − 1) − s² m/(d(md − 1)τ)``, so

    L_VICReg-exp(sT, sT) = μ·relu(1 − √(C_kk + ε)) + 2ν (log(d − 1) − s² m/(d(md − 1)τ)) → −∞   (s → ∞).

VICReg-ctr is VICReg-exp on the transposed embeddings (eq. 13): ``L_ctr(sTᵀ, sTᵀ)`` is the same expression (``d``
samples of ``md`` dimensions whose centred sample similarities are all negative). Corrected form: with
``|C_ij|`` (or ``C_ij²``) inside the exponential every term is ≥ 1 and ``c_exp ≥ log(d − 1)``, a lower bound.
The profile (``ssl-props profile vicreg_exp``) finds the same thing on every graph with K ≥ 2: "infimum not
attained".
"""
from __future__ import annotations

import math

import sympy as sp
import torch
from hypothesis import given, strategies as st

from ssl_props import tolerances as tol
from ssl_props.device import default_device
from ssl_props.losses.vicreg import covariance_matrix, vicreg_ctr, vicreg_exp
from ssl_props.properties import PropertyViolation, assert_close, assert_leq

F64 = torch.float64

__all__ = ["stacked_centring", "exp_loss_on_ray", "unbounded_symbolic", "numeric_exp_unbounded", "numeric_ctr_unbounded",
           "necessity_signed_covariances"]


def stacked_centring(d: int, m: int, *, device: torch.device | None = None) -> torch.Tensor:
    """``T``: ``m`` copies of ``P = I_d − 11ᵀ/d`` stacked, shape ``(m·d, d)``; its columns are centred."""
    p = torch.eye(d, dtype=F64, device=device) - 1.0 / d
    return p.repeat(m, 1)


def exp_loss_on_ray(s: float, d: int, m: int, *, mu: float, nu: float, tau: float, eps: float) -> float:
    """The closed form of VICReg-exp at ``(sT, sT)`` (module docstring), written from the covariance by hand."""
    var = s * s * m * (d - 1) / (d * (m * d - 1))
    off = -s * s * m / (d * (m * d - 1))
    return mu * max(0.0, 1.0 - math.sqrt(var + eps)) + 2 * nu * (math.log(d - 1) + off / tau)


def unbounded_symbolic() -> str:
    """sympy: on ``C = a(I − 11ᵀ/d)`` the exact ``c_exp`` is ``log(d − 1) − a/(dτ)`` and tends to ``−∞`` (d = 2..6),
    while the corrected ``|C|`` form tends to ``+∞``."""
    a, tau = sp.symbols("a tau", positive=True)
    for d in range(2, 7):
        c = a * (sp.eye(d) - sp.ones(d, d) / d)
        signed = sp.Rational(1, d) * sum(sp.log(sum(sp.exp(c[i, j] / tau) for j in range(d) if j != i)) for i in range(d))
        closed = sp.log(d - 1) - a / (d * tau)
        if sp.simplify(sp.expand_log(signed - closed, force=True)) != 0:
            raise AssertionError(f"sympy: c_exp on a(I − 11ᵀ/{d}) is {signed}, expected {closed}")
        if sp.limit(closed, a, sp.oo) != -sp.oo:
            raise AssertionError(f"sympy: c_exp does not tend to −∞ at d = {d}")
        fixed = sp.Rational(1, d) * sum(sp.log(sum(sp.exp(abs(c[i, j]) / tau) for j in range(d) if j != i)) for i in range(d))
        if sp.limit(fixed, a, sp.oo) != sp.oo:
            raise AssertionError(f"sympy: the |C| form does not tend to +∞ at d = {d}")
    return "c_exp(a(I − 11ᵀ/d)) = log(d − 1) − a/(dτ) → −∞ as a → ∞ (d = 2..6); with |C_ij|: → +∞"


def _ray_cases():
    return st.tuples(st.integers(2, 8), st.integers(1, 3), st.sampled_from((1.0, 10.0, 1e3, 1e6)),
                     st.sampled_from((0.1, 0.5, 1.0)), st.sampled_from((1.0, 25.0)), st.sampled_from((0.04, 1.0)),
                     st.sampled_from((0.0, 1.0, 25.0)))


def _check_ray(loss, transpose: bool, what: str) -> None:
    @given(_ray_cases())
    def run(case):
        d, m, s, tau, mu, nu, lam = case
        z = s * stacked_centring(d, m, device=default_device())
        z = z.T.contiguous() if transpose else z
        eps = 1e-4
        got = loss(z, z.clone(), lambda_param=lam, mu_param=mu, nu_param=nu, tau=tau, eps=eps)
        want = exp_loss_on_ray(s, d, m, mu=mu, nu=nu, tau=tau, eps=eps)
        # C's entries are sums of m·d products of size ≤ s²; c_exp adds d terms of size |C|/τ + log d; the hinge is O(μ)
        t = tol.sum_of_products(F64, m * d * d, 2 * nu * (s * s / tau + math.log(d) + 1) + mu * (1 + s))
        assert_close(got, torch.tensor(want, dtype=F64, device=got.device), t,
                     claim=f"{what} at (sT, sT) = μ·hinge + 2ν(log(d − 1) − s²m/(d(md − 1)τ))", inputs=(d, m, s, tau))
        if s >= 1e3:  # far along the ray the loss is below any level the starts had: it falls like −s²
            bound = 2 * nu * (math.log(d - 1) - s * s * m / (d * (m * d - 1) * tau)) + mu
            assert_leq(got, torch.tensor(bound, dtype=F64, device=got.device), t,
                       claim=f"{what} falls without bound along sT", inputs=(d, m, s, tau))

    run()


def numeric_exp_unbounded() -> None:
    """The registered VICReg-exp along ``(sT, sT)`` equals the closed form, which falls like ``−2ν s² m/(d(md−1)τ)``."""
    _check_ray(vicreg_exp, False, "VICReg-exp")


def numeric_ctr_unbounded() -> None:
    """The registered VICReg-ctr along ``(sTᵀ, sTᵀ)`` (d samples, m·d dimensions) equals the same closed form."""
    _check_ray(vicreg_ctr, True, "VICReg-ctr")


def necessity_signed_covariances() -> str:
    """With ``|C_ij|`` in the exponential (the corrected form) the same ray rises: the signs make the loss unbounded."""
    d, m, tau = 3, 2, 0.5
    vals = []
    for s in (1.0, 10.0, 100.0):
        c = covariance_matrix(s * stacked_centring(d, m))
        c = (c.abs() / tau).masked_fill(torch.eye(d, dtype=torch.bool), float("-inf"))
        vals.append(float(torch.logsumexp(c, -1).sum() / d))
    if not (vals[0] < vals[1] < vals[2] and vals[0] >= math.log(d - 1)):
        raise PropertyViolation(f"the |C| form of c_exp along sT is {vals}: expected ≥ log(d − 1) and rising")
    return (f"with |C_ij|: c_exp(sT) = {vals[0]:.4g}, {vals[1]:.4g}, {vals[2]:.4g} for s = 1, 10, 100 (d = 3, m = 2, "
            f"τ = 0.5): bounded below by log(d − 1) = {math.log(d - 1):.4g}")
