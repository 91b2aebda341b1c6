"""Tian, Chen & Ganguli (2021), Eqn 7 and Theorem 3's commutator identity, checked on the *full* field (Eqns 2-4)
rather than on the reduced one (issue 15: ``symmetric_field`` and ``alignment_K`` were used by no property).

Under Assumptions 1-3 (``W_a = τW``, ``X = I``, ``X' = σ²I``, symmetric ``W_p`` with the symmetrised Eqn 2) the full
field of ``byol_field`` gives ``dF/dt = Ẇ Wᵀ + W Ẇᵀ`` (``F = WWᵀ``) and ``dW_p/dt``; Eqn 7 writes them in closed form::

    dW_p/dt = −(α_p/2) c {W_p, F} + α_p τ F − η W_p,     dF/dt = −c {W_p², F} + τ {W_p, F} − 2ηF,   c = 1 + σ²

and Theorem 3: ``d[F, W_p]/dt = −([F, W_p] K + K [F, W_p])``. Both sides are computed independently (the full matrix
field and the chain rule vs the closed forms). Tolerance: every entry is a sum of ≤ 6n products of size
``mag = (1 + c)(1 + α_p)(1 + τ)(1 + η)(1 + ‖W‖)⁴(1 + ‖W_p‖)³`` (Higham §3.1: ``sum_of_products(float64, 6n, mag)``).
"""
from __future__ import annotations

from typing import Callable

import torch
from hypothesis import strategies as st

from ssl_props.device import resolve_device
from ssl_props.dynamics.fields import LinearState, alignment_K, byol_field, symmetric_field
from ssl_props.dynamics.testing import run_property
from ssl_props.papers.tian2021.draws import F64, fro, uniform
from ssl_props.strategies import SEEDS
from ssl_props.properties import assert_close, find_counterexample, holds
from ssl_props.tolerances import sum_of_products


def _case(seed: int, B: int = 8, *, anisotropic: float = 0.0, target_noise: float = 0.0, asymmetric: float = 0.0):
    """n ∈ {1..4} from the seed; σ² ∈ [0, 2], τ ∈ [0, 1.5], α_p ∈ [0.2, 3], η ∈ [0, 0.3], W, W_p Gaussian (W_p
    symmetrised unless ``asymmetric``); ``anisotropic`` spreads X' = diag(σ²(1 + a·u_j)) (breaks Assumption 2)."""
    g = torch.Generator().manual_seed(seed)
    n = 1 + seed % 4 if not (anisotropic or asymmetric) else 3
    dev = resolve_device()
    s2, tau, ap, eta = uniform(g, B, 0.0, 2.0), uniform(g, B, 0.0, 1.5), uniform(g, B, 0.2, 3.0), uniform(g, B, 0.0, 0.3)
    if anisotropic:
        s2 = s2 + 0.5
    W = torch.randn(B, n, n, generator=g, dtype=F64).to(dev)
    P = torch.randn(B, n, n, generator=g, dtype=F64).to(dev)
    Wp = 0.5 * (P + P.mT) + asymmetric * (P - P.mT)
    spread = 1 + anisotropic * torch.linspace(-1, 1, n, dtype=F64).to(dev)
    Xp = torch.diag_embed(s2.reshape(B, 1) * spread)
    X = torch.eye(n, dtype=F64, device=dev).expand(B, n, n)
    Wa = tau.reshape(B, 1, 1) * W + target_noise * torch.randn(B, n, n, generator=g, dtype=F64).to(dev)
    return LinearState(W, Wp, Wa), X, Xp, s2, tau, ap, eta


def _eqn7_gap(seed: int, *, reduced: Callable = symmetric_field, field: Callable = byol_field, **kw):
    st0, X, Xp, s2, tau, ap, eta = _case(seed, **kw)
    d = field(st0, X, Xp, eta=eta, alpha_p=ap, beta=1.0, symmetric_predictor=True)
    W = st0.W
    F = W @ W.mT
    dF = d.W @ W.mT + W @ d.W.mT
    rWp, rF = reduced(F, st0.Wp, sigma2=s2, tau=tau, alpha_p=ap, eta=eta)
    r = lambda v: v.reshape(-1, 1, 1)  # noqa: E731
    mag = (2 + r(s2)) * (1 + r(ap)) * (1 + r(tau)) * (1 + r(eta)) * (1 + r(fro(W))) ** 4 * (1 + r(fro(st0.Wp))) ** 3
    tol = sum_of_products(F64, 6 * W.shape[-1], mag)
    return (d.Wp, rWp), (dF, rF), (d, st0, F, s2, tau, ap, eta), tol


def numeric_eqn7(*, reduced: Callable = symmetric_field, field: Callable = byol_field) -> None:
    def body(seed):
        (a, b), (c, e), _, tol = _eqn7_gap(seed, reduced=reduced, field=field)
        assert_close(a, b, tol, claim="Eqn 7: dW_p/dt of the full field = −(α_p/2)c{W_p,F} + α_pτF − ηW_p",
                     names=("full field", "Eqn 7"))
        assert_close(c, e, tol, claim="Eqn 7: dF/dt of the full field = −c{W_p²,F} + τ{W_p,F} − 2ηF",
                     names=("full field", "Eqn 7"))
    run_property(SEEDS, body, max_examples=8)  # 8 × 8 cases, instantaneous


def numeric_theorem3_identity(*, K: Callable = alignment_K, field: Callable = byol_field) -> None:
    """Theorem 3 on the full field: d[F,W_p]/dt (chain rule of Eqns 2-3) = −([F,W_p]K + K[F,W_p])."""
    def body(seed):
        _, _, (d, st0, F, s2, tau, ap, eta), tol = _eqn7_gap(seed, field=field)
        Wp = st0.Wp
        dF = d.W @ st0.W.mT + st0.W @ d.W.mT
        L = F @ Wp - Wp @ F
        dL = dF @ Wp + F @ d.Wp - d.Wp @ F - Wp @ dF
        Km = K(F, Wp, sigma2=s2, tau=tau, alpha_p=ap, eta=eta)
        assert_close(dL, -(L @ Km + Km @ L), tol * (1 + fro(F) + fro(Wp)).reshape(-1, 1, 1) ** 2,
                     claim="Theorem 3: d[F,W_p]/dt = −([F,W_p]K + K[F,W_p]) along the full field", names=("d[F,W_p]/dt", "−{L,K}"))
    run_property(SEEDS, body, max_examples=8)


def _refuted(**kw) -> Callable[[int], bool]:
    def refutes(seed: int) -> bool:
        (a, b), (c, e), _, tol = _eqn7_gap(seed, **kw)
        return not (holds(assert_close, a, b, tol, claim="Eqn 7") and holds(assert_close, c, e, tol, claim="Eqn 7"))
    return refutes


def necessity_eqn7_isotropic() -> str:
    seed = find_counterexample(st.integers(0, 3), _refuted(anisotropic=0.8), what="anisotropic X' still gives Eqn 7",
                               max_examples=4)
    return f"seed {seed}: X' = diag(σ²(1 ± 0.8)) (not σ²I): the full field leaves Eqn 7 with c = 1 + σ²"


def necessity_eqn7_target() -> str:
    seed = find_counterexample(st.integers(0, 3), _refuted(target_noise=0.3), what="W_a ≠ τW still gives Eqn 7",
                               max_examples=4)
    return f"seed {seed}: W_a = τW + 0.3·N (Assumption 1 dropped): dF/dt and dW_p/dt leave Eqn 7"


def necessity_eqn7_symmetric() -> str:
    seed = find_counterexample(st.integers(0, 3), _refuted(asymmetric=0.5), what="a non-symmetric W_p still gives Eqn 7",
                               max_examples=4)
    return f"seed {seed}: W_p with antisymmetric part 0.5(P − Pᵀ) (Assumption 3 dropped): the full field leaves Eqn 7"
