"""The batched simulator of ssl_props.dynamics: agreement with scipy's solve_ivp per case, determinism,
the vector fields against independent formulas, and input validation."""
from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from scipy.integrate import solve_ivp

from ssl_props._validation import InvalidArgument
from ssl_props.dynamics import (LinearState, SimConfig, byol_field, effective_predictor, flat_field, integrate,
                                no_stopgrad_hessian, online_field, pack, simulate, unpack)
from ssl_props.dynamics.data_models import (data_models, make_data_model, make_spectrum, random_init,
                                            threshold_data_models, TIE)
from ssl_props.dynamics.training import train_linear_ssl

F64 = torch.float64


def _np_field(z, X, Xp, n1, n2, eta, ap, beta):
    """Eqns 2-4 of Tian et al. (2021) written independently in numpy (row-major packing like ``pack``)."""
    k = n1 * n2
    W, Wp, Wa = z[:k].reshape(n2, n1), z[k:k + n2 * n2].reshape(n2, n2), z[k + n2 * n2:].reshape(n2, n1)
    G = -Wp @ W @ (X + Xp) + Wa @ X
    return np.concatenate([(Wp.T @ G - eta * W).ravel(), (ap * G @ W.T - eta * Wp).ravel(), (beta * (W - Wa)).ravel()])


def _cases(B=5, n1=3, n2=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    dm = make_data_model(make_spectrum(n1, 0.5, 2.0, batch=B, generator=g), make_spectrum(n1, 0.0, 1.0, batch=B, generator=g),
                         seed=seed, device="cpu")
    s0 = random_init(n1, n2, B, seed=seed, scale=0.8)
    s0 = LinearState(s0.W, s0.Wp, s0.Wa + 0.2 * torch.randn(s0.Wa.shape, generator=g, dtype=F64))
    eta = 0.3 * torch.rand(B, generator=g, dtype=F64)
    ap = 0.5 + 2 * torch.rand(B, generator=g, dtype=F64)
    beta = 0.2 + 2 * torch.rand(B, generator=g, dtype=F64)
    return dm, s0, eta, ap, beta


def _errors_vs_solve_ivp(cfg: SimConfig) -> np.ndarray:
    """Max |batched − solve_ivp(DOP853, rtol 1e-12)| per case, over the save times."""
    dm, s0, eta, ap, beta = _cases()
    n2, n1 = s0.W.shape[-2:]
    tr = simulate(s0, dm.X, dm.Xp, cfg, eta=eta, alpha_p=ap, beta=beta)
    assert bool(tr.ok.all())
    z = torch.stack([pack(LinearState(*(v[k] for v in tr.y))) for k in range(cfg.n_save + 1)])  # (save, B, N)
    errs = []
    for b in range(dm.batch):
        f = functools.partial(_np_field, X=dm.X[b].numpy(), Xp=dm.Xp[b].numpy(), n1=n1, n2=n2,
                              eta=float(eta[b]), ap=float(ap[b]), beta=float(beta[b]))
        ref = solve_ivp(lambda t, y: f(y), (0, cfg.t_end), pack(s0)[b].numpy(), method="DOP853", rtol=1e-12,
                        atol=1e-14, t_eval=tr.t.numpy())
        assert ref.success
        errs.append(np.abs(z[:, b].numpy() - ref.y.T).max())
    return np.array(errs)


@pytest.mark.parametrize("method,dt,order", [("rk4", 0.02, 4), ("euler", 5e-3, 1)])
def test_fixed_step_matches_solve_ivp_with_its_order(method, dt, order):
    """Per case, the error against solve_ivp shrinks by 2^order when the step halves (and is small)."""
    e1 = _errors_vs_solve_ivp(SimConfig(t_end=2.0, method=method, dt=dt, n_save=4, device="cpu"))
    e2 = _errors_vs_solve_ivp(SimConfig(t_end=2.0, method=method, dt=dt / 2, n_save=4, device="cpu"))
    ratio = e1 / e2
    assert bool(((ratio > 0.6 * 2**order) & (ratio < 1.5 * 2**order)).all()), ratio
    assert e2.max() < (1e-5 if method == "rk4" else 1e-2)


def test_adaptive_matches_solve_ivp_per_case():
    # tolerance-proportional control: the global error stays within ~100·rtol on this smooth problem
    e = _errors_vs_solve_ivp(SimConfig(t_end=2.0, method="dopri5", rtol=1e-10, atol=1e-12, n_save=4, device="cpu"))
    assert e.max() < 1e-8, e


def test_dopri5_adapts_per_case_and_hits_save_times():
    lam = torch.tensor([0.1, 1.0, 10.0], dtype=F64)
    tr = integrate(lambda t, y: (-lam * y[0],), (torch.ones(3, dtype=F64),),
                   SimConfig(t_end=3.0, method="dopri5", rtol=1e-9, atol=1e-12, n_save=3, device="cpu"))
    assert tr.steps[0] < tr.steps[2]  # the stiffer case took more steps
    np.testing.assert_allclose(tr.y[0].numpy(), torch.exp(-lam * tr.t.reshape(-1, 1)).numpy(), rtol=1e-7, atol=1e-11)


def test_non_autonomous_and_divergence_flag():
    tr = integrate(lambda t, y: (torch.cos(t) * torch.ones_like(y[0]),), (torch.zeros(2, dtype=F64),),
                   SimConfig(t_end=1.0, method="rk4", dt=0.01, device="cpu"))
    np.testing.assert_allclose(tr.final[0].numpy(), np.sin(1.0), atol=1e-9)
    blow = integrate(lambda t, y: (y[0] ** 2,), (torch.tensor([1.0, 0.1], dtype=F64),),
                     SimConfig(t_end=2.0, method="dopri5", device="cpu"))
    assert blow.ok.tolist() == [False, True]  # y' = y² from 1 blows up at t = 1


def test_deterministic():
    dm, s0, eta, ap, beta = _cases(seed=3)
    cfg = SimConfig(t_end=1.0, method="dopri5", device="cpu")
    a = simulate(s0, dm.X, dm.Xp, cfg, eta=eta, alpha_p=ap, beta=beta)
    b = simulate(random_init(3, 2, 5, seed=3, scale=0.8)._replace(Wa=s0.Wa), dm.X, dm.Xp, cfg, eta=eta, alpha_p=ap, beta=beta)
    assert torch.equal(a.y.W, b.y.W)


def test_euler_is_the_discrete_ema_update():
    """One Euler step of Eqn 4 with h = lr is W_a ← γ W_a + (1 − γ) W with 1 − γ = lr·β."""
    dm, s0, eta, ap, beta = _cases()
    tr = simulate(s0, dm.X, dm.Xp, SimConfig(t_end=0.01, method="euler", dt=0.01, device="cpu"), eta=eta, alpha_p=ap, beta=beta)
    gamma = (1 - 0.01 * beta).reshape(-1, 1, 1)
    torch.testing.assert_close(tr.final.Wa, gamma * s0.Wa + (1 - gamma) * s0.W, rtol=0, atol=1e-15)


def test_hessian_is_the_jacobian_without_stop_gradient():
    dm, s0, eta, ap, beta = _cases(B=1)
    f = lambda W: online_field(W, s0.Wp[0], W, dm.X[0], dm.Xp[0], eta=0.2, stop_gradient=False)  # noqa: E731
    J = torch.func.jacrev(lambda v: f(v.reshape(2, 3).T.contiguous().T.reshape(2, 3)).T.reshape(-1))(s0.W[0].T.reshape(-1))
    H = no_stopgrad_hessian(s0.Wp[0], dm.X[0], dm.Xp[0], eta=0.2)
    assert J.shape == H.shape
    vecW = s0.W[0].T.reshape(-1)
    torch.testing.assert_close(-(H @ vecW), f(s0.W[0]).T.reshape(-1), rtol=0, atol=1e-12)


def test_flat_field_and_unpack():
    dm, s0, eta, ap, beta = _cases(B=2)
    z = pack(s0)
    assert torch.equal(unpack(z, 3, 2).Wp, s0.Wp)
    torch.testing.assert_close(flat_field(z, dm.X, dm.Xp, eta=0.1), pack(byol_field(s0, dm.X, dm.Xp, eta=0.1)))


@settings(max_examples=15)
@given(data_models(n=(2, 6), batch=4, kinds=("degenerate", "nearly_tied", "spread")))
def test_data_models_spectra(dm):
    w = torch.linalg.eigvalsh(dm.Xp)
    assert bool((w > -1e-12).all())
    torch.testing.assert_close(dm.Xp @ dm.X, dm.X @ dm.Xp, rtol=0, atol=1e-12)  # commuting: a common basis Q


def test_spectrum_kinds():
    g = torch.Generator().manual_seed(0)
    d = make_spectrum(4, 0.0, 1.0, "degenerate", batch=3, generator=g).sort(-1).values
    assert bool((d[:, 0] == d[:, 1]).all())
    t = make_spectrum(4, 0.0, 1.0, "nearly_tied", batch=3, generator=g).sort(-1).values
    assert bool(((t[:, 1] - t[:, 0] - TIE).abs() < 1e-12).all())
    s = make_spectrum(5, 0.0, 1.0, "spread", batch=3, min_gap=0.2, generator=g).sort(-1).values
    assert bool((s.diff(dim=-1) >= 0.2 - 1e-12).all())


@settings(max_examples=10)
@given(threshold_data_models(n=(2, 5), batch=4, margin=0.1))
def test_threshold_data_models_have_margin(arg):
    dm, eta = arg
    q = 4 * eta.reshape(-1, 1) * (1 + dm.aug_spec)
    assert bool(((q - 1).abs() >= 0.1 - 1e-12).all()) and bool((q[:, 0] < 1).all()) and bool((q[:, 1] > 1).all())


@pytest.mark.parametrize("kw,match", [
    (dict(t_end=0.0), "t_end"), (dict(t_end=1.0, dt=-1.0), "dt"), (dict(t_end=1.0, method="rk45"), "method"),
    (dict(t_end=1.0, n_save=0), "n_save"), (dict(t_end=1.0, dtype=torch.int64), "dtype"),
    (dict(t_end=1.0, rtol=float("nan")), "rtol"), (dict(t_end=1e9, dt=1e-3, max_steps=10), "max_steps"),
])
def test_config_validation(kw, match):
    with pytest.raises(InvalidArgument, match=match):
        SimConfig(**kw)


def test_input_validation():
    cfg = SimConfig(t_end=1.0, device="cpu")
    with pytest.raises(InvalidArgument, match="tuple of tensors"):
        integrate(lambda t, y: y, torch.zeros(3), cfg)
    with pytest.raises(InvalidArgument, match="leading case axis"):
        integrate(lambda t, y: y, (torch.zeros(3), torch.zeros(2)), cfg)
    with pytest.raises(InvalidArgument, match="NaN"):
        integrate(lambda t, y: y, (torch.tensor([float("nan")]),), cfg)
    with pytest.raises(InvalidArgument, match="SimConfig"):
        integrate(lambda t, y: y, (torch.zeros(3),), {"t_end": 1})
    dm, s0, *_ = _cases(B=2)
    with pytest.raises(InvalidArgument, match="n1"):
        simulate(LinearState(s0.W.mT, s0.Wp, s0.Wa), dm.X, dm.Xp, cfg)
    with pytest.raises(InvalidArgument, match="predictor"):
        effective_predictor(s0, dm.X, dm.Xp, predictor="mlp")
    with pytest.raises(InvalidArgument, match="correlation"):
        effective_predictor(s0, dm.X, dm.Xp, predictor="directcopy", correlation="centred")
    with pytest.raises(InvalidArgument, match="last dimension"):
        unpack(torch.zeros(2, 7), 3, 2)
    with pytest.raises(InvalidArgument, match="kind"):
        make_spectrum(3, 0.0, 1.0, "flat")
    with pytest.raises(InvalidArgument, match="min_gap"):
        make_spectrum(5, 0.0, 1.0, min_gap=0.5)
    with pytest.raises(InvalidArgument, match="aug_spec"):
        make_data_model(torch.ones(1, 2), -torch.ones(1, 2))
    with pytest.raises(InvalidArgument, match="sigma2"):
        train_linear_ssl(torch.tensor([-1.0]), 0.1)
    with pytest.raises(InvalidArgument, match="lr"):
        train_linear_ssl(torch.tensor([1.0]), 0.1, lr=0.0)
