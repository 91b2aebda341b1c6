"""Every branch and parameter of `byol_field` (issue 15: learned / identity / fixed / directpred / directcopy /
directset predictors, clean / augmented correlation, ε, α, α_p, η, β and SimSiam's β = None) against an independent
numpy construction of the predictor and of Eqns 2-4."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from ssl_props.dynamics.fields import LinearState, byol_field

F64 = torch.float64


def _np_predictor(kind: str, F: np.ndarray, eps: float, alpha: float) -> np.ndarray:
    n = F.shape[-1]
    if kind == "identity":
        return np.eye(n)
    s, U = np.linalg.eigh(0.5 * (F + F.T))
    s = np.clip(s, 0, None)
    if kind == "directpred":
        p = np.sqrt(s) + eps * s.max()
    elif kind == "directcopy":
        return F + eps * np.eye(n)
    else:
        p = s**alpha + eps
    return (U * p) @ U.T


def _np_field(W, Wp, Wa, X, Xp, eta, ap, beta, learned):
    G = -Wp @ W @ (X + Xp) + Wa @ X
    dW = Wp.T @ G - eta * W
    dWp = ap * G @ W.T - eta * Wp if learned else np.zeros_like(Wp)
    dWa = dW if beta is None else beta * (W - Wa)
    return dW, dWp, dWa


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(("learned", "identity", "fixed", "directpred", "directcopy", "directset")),
       st.sampled_from(("clean", "augmented")), st.integers(1, 4), st.integers(0, 2**32 - 1),
       st.floats(0.0, 0.5), st.floats(0.25, 2.0), st.floats(0.2, 3.0), st.floats(0.0, 0.3),
       st.one_of(st.none(), st.floats(0.1, 3.0)))
def test_every_branch_matches_an_independent_construction(kind, corr, n, seed, eps, alpha, ap, eta, beta):
    rng = np.random.default_rng(seed)
    W, Wp, Wa = rng.normal(size=(n, n)), rng.normal(size=(n, n)), rng.normal(size=(n, n))
    Q = np.linalg.qr(rng.normal(size=(n, n)))[0]
    X, Xp = (Q * rng.uniform(0.5, 2, n)) @ Q.T, (Q * rng.uniform(0, 1, n)) @ Q.T
    t = lambda a: torch.tensor(a, dtype=F64).unsqueeze(0)  # noqa: E731
    d = byol_field(LinearState(t(W), t(Wp), t(Wa)), t(X), t(Xp), eta=eta, alpha_p=ap, beta=beta, predictor=kind,
                   eps=eps, alpha=alpha, correlation=corr)
    Wa_ = W if beta is None else Wa
    if kind in ("learned", "fixed"):
        P = Wp
    else:
        P = _np_predictor(kind, W @ (X if corr == "clean" else X + Xp) @ W.T, eps, alpha)
    want = _np_field(W, P, Wa_, X, Xp, eta, ap, beta, kind == "learned")
    scale = (1 + np.abs(P).sum()) ** 2 * (1 + np.abs(W).sum() + np.abs(Wa).sum()) * (1 + np.abs(X + Xp).sum())
    for got, w in zip(d, want):
        assert np.abs(got[0].numpy() - w).max() <= 1e-12 * scale


@pytest.mark.parametrize("kind", ["directcopy", "directpred", "directset"])
def test_eps_changes_the_set_predictors(kind):
    """ε is live in every set predictor: a field with ε = 0.1 differs from ε = 0 (no silently ignored parameter)."""
    g = torch.Generator().manual_seed(0)
    W, Wp, Wa = (torch.randn(1, 3, 3, generator=g, dtype=F64) for _ in range(3))
    X = torch.eye(3, dtype=F64).unsqueeze(0)
    a, b = (byol_field(LinearState(W, Wp, Wa), X, 0.5 * X, predictor=kind, eps=e) for e in (0.0, 0.1))
    assert float((a.W - b.W).abs().max()) > 1e-3
