"""Tian, Chen & Ganguli (2021) on the *registered* losses (issue 15): Lemma 1's chain rule and Theorem 1's balance
law checked on the field obtained by autograd through ``ssl_props.losses.get_loss("simsiam" | "byol")``, and the
population loss that Lemma 1 differentiates checked against its per-sample definition.

Why these hold for the cosine losses too: Lemma 1's field is the chain rule of the two-layer linear network
``p = W_p W x1`` with any output gradient ``g_i = ∂ℓ/∂p_i`` (:mod:`ssl_props.dynamics.loss_fields`); Theorem 1's
identity ``d/dt(WWᵀ − α_p⁻¹W_pᵀW_p) = −2η(WWᵀ − α_p⁻¹W_pᵀW_p)`` uses only that structure (both sides are
``−W_pᵀΣg uᵀ − Σu gᵀW_p``), so it holds for *every* loss of ``p`` and a stop-gradient target, and fails as soon as the
target branch passes a gradient to ``W`` (SimSiam with its ``.detach()`` removed).

Tolerances: each field entry is a sum of ``N`` per-sample products (plus ``n`` for the matrix products), every
product bounded by ``mag = (1 + ‖W_p‖)(1 + ‖W‖) Σ_i ‖g_i‖ (‖x1_i‖ + ‖x2_i‖ + ‖u_i‖)`` (plus the ridge terms):
``sum_of_products(float64, 4(N + n1 + n2), mag)`` (Higham §3.1), per case.
"""
from __future__ import annotations

from typing import Callable

import torch
from hypothesis import strategies as st

from ssl_props.dynamics.data_models import data_models, random_init
from ssl_props.dynamics.fields import LinearState, byol_field, population_loss
from ssl_props.dynamics.loss_fields import OUTPUT_GRADIENTS, chain_rule_field, l2_loss, loss_field, sample_views
from ssl_props.dynamics.testing import run_property
from ssl_props.losses import get_loss
from ssl_props.papers.tian2021.draws import F64, fro, uniform
from ssl_props.strategies import SEEDS
from ssl_props.properties import assert_close
from ssl_props.tolerances import sum_of_products

#: the registered predictor losses the linear-model properties run on
LOSS_NAMES = ("simsiam", "byol")
N_SAMPLES = 32


def _case(dm, seed: int):
    """Initial state (target W_a ≠ W for EMA), views, and drawn η ∈ [0, 0.3], α_p ∈ [0.2, 3], β ∈ [0.1, 3]."""
    B, n1 = dm.batch, dm.n
    n2 = max(1, n1 - 1)
    g = torch.Generator().manual_seed(seed)
    s0 = random_init(n1, n2, B, seed=seed, scale=1.0)
    s0 = LinearState(s0.W, s0.Wp, s0.Wa + 0.3 * torch.randn(s0.Wa.shape, generator=g, dtype=F64).to(s0.Wa))
    x1, x2 = sample_views(dm.X, dm.Xp, N_SAMPLES, seed=seed)
    eta, ap, beta = uniform(g, B, 0.0, 0.3), uniform(g, B, 0.2, 3.0), uniform(g, B, 0.1, 3.0)
    return s0, x1, x2, eta, ap, beta


def _mag(state: LinearState, x1: torch.Tensor, x2: torch.Tensor, grad: Callable, ap: torch.Tensor) -> torch.Tensor:
    """Per-case magnitude of the field's products (module doc), shaped (B, 1, 1)."""
    u = x1 @ state.W.mT
    gn = grad(u @ state.Wp.mT, x2 @ state.W.mT).norm(dim=-1)
    s = (gn * (x1.norm(dim=-1) + x2.norm(dim=-1) + u.norm(dim=-1))).sum(-1)
    m = (1 + fro(state.Wp)) * (1 + fro(state.W)) * s * (1 + ap + 1 / ap) + fro(state.W) + fro(state.Wp)
    return m.reshape(-1, 1, 1)


def _tol(state, x1, x2, grad, ap) -> torch.Tensor:
    n2, n1 = state.W.shape[-2:]
    return sum_of_products(F64, 4 * (x1.shape[1] + n1 + n2), _mag(state, x1, x2, grad, ap) * (1 + fro(state.W) + fro(state.Wp)).reshape(-1, 1, 1))


def numeric_registered_field(*, get: Callable = get_loss) -> None:
    """Lemma 1 on the registered losses: autograd through ``simsiam``/``byol`` (target = W itself for SimSiam, an EMA
    target W_a otherwise) equals the chain-rule field with the closed-form cosine gradient; and autograd of the L2 form
    equals ``byol_field`` (Eqns 2-4) with the sample moments X = mean x2x1ᵀ, X + X' = mean x1x1ᵀ."""
    def body(arg):
        dm, seed, ema = arg
        s0, x1, x2, eta, ap, beta = _case(dm, seed)
        b = beta if ema else None
        for name in LOSS_NAMES:
            d = loss_field(get(name), s0, x1, x2, eta=eta, alpha_p=ap, beta=b)
            want = chain_rule_field(OUTPUT_GRADIENTS[name], s0, x1, x2, eta=eta, alpha_p=ap, beta=b)
            t = _tol(s0, x1, x2, OUTPUT_GRADIENTS[name], ap)
            for part, a, w in zip(("dW", "dW_p", "dW_a"), d, want):
                assert_close(a, w, t, claim=f"Lemma 1 on the registered {name}: autograd {part} = the chain rule "
                             f"(g = ∂ℓ/∂p only; {'EMA' if ema else 'SimSiam'} target)", inputs=dm.Xp)
        S11, S21 = x1.mT @ x1 / N_SAMPLES, x2.mT @ x1 / N_SAMPLES
        d = loss_field(l2_loss, s0, x1, x2, eta=eta, alpha_p=ap, beta=b)
        want = byol_field(s0, S21, S11 - S21, eta=eta, alpha_p=ap, beta=b)
        t = _tol(s0, x1, x2, OUTPUT_GRADIENTS["l2"], ap)
        for part, a, w in zip(("dW", "dW_p", "dW_a"), d, want):
            assert_close(a, w, t, claim=f"Lemma 1: autograd of ½||p − sg(z)||² gives Eqns 2-4 ({part})", inputs=dm.Xp)
    # 6 examples × 8 cases × 3 losses: instantaneous identities (no integration)
    run_property(st.tuples(data_models(n=(1, 4), batch=8), SEEDS, st.booleans()), body, max_examples=6)


def numeric_registered_balance(*, get: Callable = get_loss) -> None:
    """Theorem 1 on the registered losses: along the autograd field through ``simsiam``/``byol`` (SimSiam: the target is
    the online W, so only the loss's own stop-gradient protects it), Q = WWᵀ − α_p⁻¹W_pᵀW_p obeys dQ/dt = −2ηQ."""
    def body(arg):
        dm, seed = arg
        s0, x1, x2, eta, ap, _ = _case(dm, seed)
        a = ap.reshape(-1, 1, 1)
        for name in LOSS_NAMES:
            d = loss_field(get(name), s0, x1, x2, eta=eta, alpha_p=ap, beta=None)
            W, Wp = s0.W, s0.Wp
            dQ = d.W @ W.mT + W @ d.W.mT - (d.Wp.mT @ Wp + Wp.mT @ d.Wp) / a
            Q = W @ W.mT - Wp.mT @ Wp / a
            t = _tol(s0, x1, x2, OUTPUT_GRADIENTS[name], ap) * (1 + fro(W) + fro(Wp)).reshape(-1, 1, 1)
            assert_close(dQ, -2 * eta.reshape(-1, 1, 1) * Q, t, inputs=dm.Xp, names=("dQ/dt", "−2ηQ"),
                         claim=f"Theorem 1 on the registered {name} (SimSiam, target = W): d/dt(WWᵀ − α_p⁻¹W_pᵀW_p) = −2ηQ")
    run_property(st.tuples(data_models(n=(1, 4), batch=8), SEEDS), body, max_examples=4)


def numeric_population_loss(*, loss: Callable = population_loss) -> None:
    """The population loss Lemma 1 differentiates, value and all: on symmetrised samples (both view orders, so
    mean x1x1ᵀ = mean x2x2ᵀ = X̂ + X̂' and mean x2x1ᵀ = X̂) the trace formula equals ½ mean_i ||W_pW x1_i − W_a x2_i||²
    (formula vs per-sample loop); without stop-gradient (W_a = W) its autograd is Theorem 2's field."""
    def body(arg):
        dm, seed = arg
        s0, x1, x2, eta, ap, _ = _case(dm, seed)
        y1, y2 = torch.cat([x1, x2], 1), torch.cat([x2, x1], 1)
        S11, S21 = y1.mT @ y1 / y1.shape[1], y2.mT @ y1 / y1.shape[1]
        Xh, Xph = 0.5 * (S21 + S21.mT), S11 - 0.5 * (S21 + S21.mT)
        W, Wp, Wa = s0
        direct = 0.5 * (y1 @ W.mT @ Wp.mT - y2 @ Wa.mT).square().sum(-1).mean(-1)
        mag = ((1 + fro(Wp)) * (fro(W) + fro(Wa)) * (1 + fro(S11))) ** 2
        assert_close(loss(W, Wp, Wa, Xh, Xph), direct, sum_of_products(F64, 4 * (y1.shape[1] + dm.n), mag),
                     claim="Lemma 1: J = ½tr(W_pW(X+X')WᵀW_pᵀ) − tr(W_pWXW_aᵀ) + ½tr(W_a(X+X')W_aᵀ) = ½ mean||W_pWx1 − W_ax2||²",
                     names=("trace formula", "per-sample mean"))
        Wr, Wpr = W.clone().requires_grad_(True), Wp.clone().requires_grad_(True)
        gW, = torch.autograd.grad(loss(Wr, Wpr, Wr, Xh, Xph).sum(), (Wr,))
        d = byol_field(LinearState(W, Wp, W), Xh, Xph, eta=eta, alpha_p=ap, beta=None, stop_gradient=False)
        assert_close(d.W, -gW - eta.reshape(-1, 1, 1) * W, sum_of_products(F64, 4 * dm.n ** 2, mag.reshape(-1, 1, 1)),
                     claim="Theorem 2: the no-stop-gradient field is −∂J/∂W with W_a = W (the target term counts)")
    run_property(st.tuples(data_models(n=(1, 4), batch=8), SEEDS), body, max_examples=4)
