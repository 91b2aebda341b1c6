"""Contracts of ``ssl_props.dynamics.fields`` that ``make mutate`` found unchecked (issue 15).

Each test kills a class of surviving mutants (mutation/report.md):

* the defaults are the papers' values (DirectSet α = ½, ε = 0; η = 0; α_p = 1; τ = 1; β = 1): a mutated
  default changes the field of a call that leaves the argument out;
* per-case tensor hyperparameters (shape ``...``, any dtype) give, case by case, the field of the
  Python float, in the state's dtype: kills the broadcasting helpers reading the wrong reference tensor;
* two batch axes, and a batched ``W_p`` against unbatched ``X``, ``X'`` (and the converse) give the
  per-case values: kills index and shape slips that one batch axis cannot see;
* every function keeps the device of its inputs (run on ``meta`` tensors): kills ``device=`` slips;
* the population loss has its hand-computed value, one per case.
"""
from __future__ import annotations

import itertools

import pytest
import torch

from ssl_props.dynamics import fields as f

D = torch.float64
N1, N2 = 4, 3


def _psd(*shape, n, seed):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(*shape, n, n, generator=g, dtype=torch.float64)
    return A @ A.transpose(-2, -1) / n + 0.1 * torch.eye(n, dtype=torch.float64)


def _mat(*shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("call, paper", [
    (lambda F, **kw: f.directset_predictor(F, **kw), dict(alpha=0.5, eps=0.0)),
    (lambda F, **kw: f.directpred_predictor(F, **kw), dict(eps=0.0)),
    (lambda F, **kw: f.directcopy_predictor(F, **kw), dict(eps=0.0)),
    (lambda F, **kw: f.no_stopgrad_hessian(F, _psd(n=N1, seed=1), _psd(n=N1, seed=2), **kw), dict(eta=0.0)),
    (lambda F, **kw: f.symmetric_field(F, F + 1.0, sigma2=0.3, **kw), dict(tau=1.0, alpha_p=1.0, eta=0.0)),
    (lambda F, **kw: f.alignment_K(F, F + 1.0, sigma2=0.3, **kw), dict(tau=1.0, alpha_p=1.0, eta=0.0)),
    (lambda F, **kw: f.mode_field(F[0], F[1] + 2.0, F[2], sigma2=0.3, **kw), dict(eta=0.0, alpha_p=1.0, beta=None)),
    (lambda F, **kw: f.directset_mode_field(F[0] + 2.0, sigma2=0.3, eta=0.1, **kw), dict(alpha=0.5, eps=0.0, tau=1.0)),
], ids=["directset", "directpred", "directcopy", "hessian", "symmetric", "alignment_K", "mode", "directset_mode"])
def test_defaults_are_the_papers(call, paper):
    F = _psd(n=N2, seed=0)
    assert all(torch.equal(a, b) for a, b in zip(_flat(call(F)), _flat(call(F, **paper))))


def test_byol_field_defaults_are_the_papers():
    st = f.LinearState(_mat(N2, N1, seed=3), _mat(N2, N2, seed=4), _mat(N2, N1, seed=5))
    X, Xp = _psd(n=N1, seed=6), _psd(n=N1, seed=7)
    for predictor in f.PREDICTORS:
        got = f.byol_field(st, X, Xp, predictor=predictor)
        want = f.byol_field(st, X, Xp, predictor=predictor, eta=0.0, alpha_p=1.0, beta=1.0, eps=0.0, alpha=0.5)
        assert all(torch.equal(a, b) for a, b in zip(got, want)), predictor


def _flat(out):
    return out if isinstance(out, tuple) else (out,)


HYPER = dict(eta=(0.0, 0.1, 0.3), alpha_p=(1.0, 0.5, 2.0), beta=(1.0, 0.5, 0.2), eps=(0.0, 0.2, 0.05),
             alpha=(0.5, 1.0, 0.3))


@pytest.mark.parametrize("predictor", f.PREDICTORS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_per_case_tensor_hyperparameters(predictor, dtype):
    """A batch of 3 cases with float64 tensor hyperparameters = each case with Python floats, in ``dtype``."""
    st = f.LinearState(*(_mat(3, N2, k, seed=s).to(dtype) for k, s in ((N1, 8), (N2, 9), (N1, 10))))
    X, Xp = _psd(3, n=N1, seed=11).to(dtype), _psd(3, n=N1, seed=12).to(dtype)
    batched = f.byol_field(st, X, Xp, predictor=predictor, **{k: torch.tensor(v, dtype=D) for k, v in HYPER.items()})
    for i in range(3):
        one = f.byol_field(f.LinearState(*(m[i] for m in st)), X[i], Xp[i], predictor=predictor,
                           **{k: v[i] for k, v in HYPER.items()})
        for b, o in zip(batched, one):
            assert b.dtype == dtype
            torch.testing.assert_close(b[i], o)


def test_per_case_tensor_hyperparameters_of_the_reduced_fields():
    F, Wp = _psd(3, n=N2, seed=13).float(), _psd(3, n=N2, seed=14).float()
    p, s, tau = (torch.rand(3, N2, generator=torch.Generator().manual_seed(k)).float() + 0.5 for k in (15, 16, 17))
    hyp = dict(sigma2=(0.1, 0.3, 0.5), tau=(1.0, 0.8, 0.6), alpha_p=(1.0, 0.5, 2.0), eta=(0.0, 0.1, 0.2))
    mode = dict(sigma2=hyp["sigma2"], eta=hyp["eta"], alpha_p=hyp["alpha_p"], beta=(1.0, 0.5, 0.2))
    dset = dict(sigma2=hyp["sigma2"], eta=hyp["eta"], alpha=(0.5, 1.0, 0.3), eps=(0.0, 0.2, 0.1), tau=hyp["tau"])
    cases = [(lambda i, **kw: f.symmetric_field(F[i], Wp[i], **kw), hyp),
             (lambda i, **kw: f.alignment_K(F[i], Wp[i], **kw), hyp),
             (lambda i, **kw: f.mode_field(p[i], s[i], tau[i], **kw), mode),
             (lambda i, **kw: f.directset_mode_field(s[i], **kw), dset),
             (lambda i, **kw: f.directset_predictor(F[i], alpha=kw["alpha"], eps=kw["eps"]), dset),
             (lambda i, **kw: f.directpred_predictor(F[i], eps=kw["eps"]), dset),
             (lambda i, **kw: f.directcopy_predictor(F[i], eps=kw["eps"]), dset),
             (lambda i, **kw: f.no_stopgrad_hessian(Wp[i], F[i], F[i] + 1.0, eta=kw["eta"]), hyp)]
    for call, params in cases:
        batched = call(slice(None), **{k: torch.tensor(v, dtype=torch.float64) for k, v in params.items()})
        for i in range(3):
            for b, o in zip(_flat(batched), _flat(call(i, **{k: v[i] for k, v in params.items()}))):
                assert b.dtype == torch.float32
                torch.testing.assert_close(b[i], o)


@pytest.mark.parametrize("batch_wp, batch_x", [((2, 5), ()), ((), (2, 5)), ((2, 5), (2, 5)), ((5,), (2, 1))])
def test_hessian_broadcasts_over_two_batch_axes(batch_wp, batch_x):
    Wp = _mat(*batch_wp, N2, N2, seed=18)
    X, Xp = _psd(*batch_x, n=N1, seed=19), _psd(*batch_x, n=N1, seed=20)
    eta = 0.2
    H = f.no_stopgrad_hessian(Wp, X, Xp, eta=eta)
    shape = torch.broadcast_shapes(batch_wp, batch_x)
    assert H.shape == (*shape, N1 * N2, N1 * N2)
    I2 = torch.eye(N2, dtype=D)
    for idx in itertools.product(*map(range, shape)):
        w = Wp.expand(*shape, N2, N2)[idx]
        x, xp = X.expand(*shape, N1, N1)[idx], Xp.expand(*shape, N1, N1)[idx]
        want = torch.kron(xp, w.T @ w + I2) + torch.kron(x, (w - I2).T @ (w - I2)) + eta * torch.eye(N1 * N2, dtype=D)
        torch.testing.assert_close(H[idx], want)


def test_population_loss_hand_values():
    """Scalars (n1 = n2 = 1): J = ½ (w_p w)² (X+X') − w_p w w_a X + ½ w_a² (X+X'); one value per case."""
    t = lambda *v: torch.tensor(v, dtype=D).reshape(-1, 1, 1)  # noqa: E731
    W, Wp, Wa, X, Xp = t(3.0, 0.0), t(2.0, 0.0), t(5.0, 2.0), t(1.0, 1.0), t(0.5, 0.5)
    J = f.population_loss(W, Wp, Wa, X, Xp)
    assert J.shape == (2,)
    torch.testing.assert_close(J, torch.tensor([27.0 - 30.0 + 18.75, 3.0], dtype=D))  # case 2: only ½ w_a² (X+X')


def test_population_loss_is_per_case_over_two_batch_axes():
    W, Wa = _mat(2, 5, N2, N1, seed=21), _mat(2, 5, N2, N1, seed=22)
    Wp, X, Xp = _mat(2, 5, N2, N2, seed=23), _psd(2, 5, n=N1, seed=24), _psd(2, 5, n=N1, seed=25)
    J = f.population_loss(W, Wp, Wa, X, Xp)
    assert J.shape == (2, 5)
    for i, j in itertools.product(range(2), range(5)):
        torch.testing.assert_close(J[i, j], f.population_loss(W[i, j], Wp[i, j], Wa[i, j], X[i, j], Xp[i, j]))


def test_every_field_keeps_the_device():
    m = lambda *s: torch.empty(*s, device="meta")  # noqa: E731
    st, X, Xp = f.LinearState(m(2, N2, N1), m(2, N2, N2), m(2, N2, N1)), m(2, N1, N1), m(2, N1, N1)
    eta = torch.full((2,), 0.1, device="meta")
    outs = [*(t for p in f.PREDICTORS for t in f.byol_field(st, X, Xp, predictor=p, eta=eta, eps=eta)),
            f.no_stopgrad_hessian(st.Wp, X, Xp, eta=eta), f.population_loss(*st, X, Xp),
            *f.symmetric_field(st.Wp, st.Wp, sigma2=eta, eta=eta), f.alignment_K(st.Wp, st.Wp, sigma2=eta, eta=eta),
            f.effective_predictor(st, X, Xp, predictor="identity")]
    assert all(o.device.type == "meta" for o in outs)


# ---------------------------------------------------------------- survivors of the 2026-12-02 sample (session 4)
def test_effective_predictor_default_alpha_is_directset_half():
    st = f.LinearState(_mat(N2, N1, seed=31), _mat(N2, N2, seed=32), _mat(N2, N1, seed=33))
    X, Xp = _psd(n=N1, seed=34), _psd(n=N1, seed=35)
    assert torch.equal(f.effective_predictor(st, X, Xp, predictor="directset"),
                       f.effective_predictor(st, X, Xp, predictor="directset", alpha=0.5))


def test_directcopy_predictor_over_two_batch_axes():
    F = _psd(2, 5, n=N2, seed=36)
    out = f.directcopy_predictor(F, eps=0.25)
    for i, j in itertools.product(range(2), range(5)):
        torch.testing.assert_close(out[i, j], F[i, j] + 0.25 * torch.eye(N2, dtype=D), rtol=0, atol=0)


def test_flat_field_over_two_batch_axes():
    st = f.LinearState(_mat(2, 3, N2, N1, seed=37), _mat(2, 3, N2, N2, seed=38), _mat(2, 3, N2, N1, seed=39))
    X, Xp = _psd(2, 3, n=N1, seed=40), _psd(2, 3, n=N1, seed=41)
    out = f.flat_field(f.pack(st), X, Xp, eta=0.1)
    for i, j in itertools.product(range(2), range(3)):
        case = f.LinearState(*(m[i, j] for m in st))
        torch.testing.assert_close(out[i, j], f.pack(f.byol_field(case, X[i, j], Xp[i, j], eta=0.1)))


def test_predictor_field_computes_its_residual_when_not_given():
    W, Wp, Wa = _mat(N2, N1, seed=42), _mat(N2, N2, seed=43), _mat(N2, N1, seed=44)
    X, Xp = _psd(n=N1, seed=45), _psd(n=N1, seed=46)
    G = f.residual(W, Wp, Wa, X, Xp)
    torch.testing.assert_close(f.predictor_field(W, Wp, Wa, X, Xp, eta=0.1),
                               f.predictor_field(W, Wp, Wa, X, Xp, eta=0.1, G=G), rtol=0, atol=0)
    torch.testing.assert_close(f.online_field(W, Wp, Wa, X, Xp, eta=0.1),
                               f.online_field(W, Wp, Wa, X, Xp, eta=0.1, G=G), rtol=0, atol=0)
