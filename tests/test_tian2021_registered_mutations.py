"""Each new Tian et al. (2021) property fails on a wrong version (issues 14 and 15): the registered SimSiam/BYOL
without their stop-gradient, the population loss with a wrong target term, Eqn 7 without its factor 1/2, a wrong K,
DirectCopy with F − εI, and wrong mode fields for the errata records."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import Phase, given, settings, strategies as st

from ssl_props.dynamics import fields as fl
from ssl_props.dynamics.fields import LinearState, alignment_K, byol_field, directcopy_predictor, directset_predictor, mode_field
from ssl_props.losses import get_loss
from ssl_props.papers.tian2021 import errata as E
from ssl_props.papers.tian2021 import registered_losses as L
from ssl_props.papers.tian2021 import symmetrised_flow as S
from ssl_props.profiles import temporary_profile
from ssl_props.properties import PropertyViolation
from ssl_props.tolerances import sum_of_products


@pytest.fixture(autouse=True)
def _no_shrinking():
    with temporary_profile("_tian_registered_mutations", database=None, derandomize=True,
                           phases=(Phase.explicit, Phase.reuse, Phase.generate)):
        yield


def simsiam_no_detach(p, z):
    """SimSiam with its `.detach()` removed (issue 15's mutant)."""
    return -F.cosine_similarity(p, z, dim=-1, eps=1e-8).mean()


def byol_no_detach(p, z):
    return (2.0 - 2.0 * F.cosine_similarity(p, z, dim=-1, eps=1e-8)).mean()


def _with(name, fn):
    return lambda n: fn if n == name else get_loss(n)


@pytest.mark.parametrize("name,fn", [("simsiam", simsiam_no_detach), ("byol", byol_no_detach)])
def test_registered_field_fails_without_stop_gradient(name, fn):
    with pytest.raises(PropertyViolation, match=f"registered {name}"):
        L.numeric_registered_field(get=_with(name, fn))


@pytest.mark.parametrize("name,fn", [("simsiam", simsiam_no_detach), ("byol", byol_no_detach)])
def test_registered_balance_fails_without_stop_gradient(name, fn):
    with pytest.raises(PropertyViolation, match="Theorem 1 on the registered"):
        L.numeric_registered_balance(get=_with(name, fn))


def test_registered_field_fails_on_a_rescaled_loss():
    """BYOL's 2 − 2cos registered as 1 − cos: the chain rule with its closed-form gradient no longer matches."""
    with pytest.raises(PropertyViolation, match="registered byol"):
        L.numeric_registered_field(get=_with("byol", lambda p, z: get_loss("simsiam")(p, z)))


def test_population_loss_fails_with_a_wrong_target_term():
    """The value-only target term ½tr(W_a(X+X')W_aᵀ) written with X only (a survivor of issue 15's mutation run)."""
    def wrong(W, Wp, Wa, X, Xp):
        tr = lambda A: torch.diagonal(A, dim1=-2, dim2=-1).sum(-1)  # noqa: E731
        return 0.5 * tr(Wp @ W @ (X + Xp) @ W.mT @ Wp.mT) - tr(Wp @ W @ X @ Wa.mT) + 0.5 * tr(Wa @ X @ Wa.mT)
    with pytest.raises(PropertyViolation, match="per-sample mean"):
        L.numeric_population_loss(loss=wrong)


def test_eqn7_fails_without_its_half():
    """symmetric_field with the factor 1/2 of −(α_p/2)c{W_p,F} dropped (issue 15 survivor)."""
    def no_half(Fm, Wp, *, sigma2, tau=1.0, alpha_p=1.0, eta=0.0):
        dWp, dF = fl.symmetric_field(Fm, Wp, sigma2=sigma2, tau=tau, alpha_p=alpha_p, eta=eta)
        c, a = (fl._m(v, Fm) for v in (1.0 + sigma2, alpha_p))
        return dWp - 0.5 * a * c * (Wp @ Fm + Fm @ Wp), dF
    with pytest.raises(PropertyViolation, match="Eqn 7"):
        S.numeric_eqn7(reduced=no_half)


def test_theorem3_identity_fails_with_a_wrong_K():
    """K without its (3/2)ηI term."""
    def wrong(Fm, Wp, *, sigma2, tau=1.0, alpha_p=1.0, eta=0.0):
        return alignment_K(Fm, Wp, sigma2=sigma2, tau=tau, alpha_p=alpha_p, eta=0.0 * eta)
    with pytest.raises(PropertyViolation, match="Theorem 3"):
        S.numeric_theorem3_identity(K=wrong)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 5), st.integers(0, 2**32 - 1), st.floats(0.01, 1.0))
def test_directcopy_is_directset_alpha_one(n, seed, eps):
    """DirectCopy's F + εI (no eigendecomposition) = DirectSet(α = 1, ε) by eigh, with ε ≠ 0 drawn: kills F − εI."""
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(3, n, n, generator=g, dtype=torch.float64)
    Fm = A @ A.mT
    tol = sum_of_products(torch.float64, 4 * n, (Fm.flatten(-2).norm(dim=-1) + eps).reshape(-1, 1, 1))
    assert bool(((directcopy_predictor(Fm, eps) - directset_predictor(Fm, 1.0, eps)).abs() <= tol).all())
    wrong = Fm - eps * torch.eye(n, dtype=torch.float64)
    assert not bool(((wrong - directset_predictor(Fm, 1.0, eps)).abs() <= tol).all())
    st0 = LinearState(A[..., :n], A.mT, A)  # the field's directcopy branch uses the same ε
    X, Xp = torch.eye(n, dtype=torch.float64).expand(3, n, n), 0.3 * torch.eye(n, dtype=torch.float64).expand(3, n, n)
    d1 = byol_field(st0, X, Xp, predictor="directcopy", eps=eps, beta=None)
    Wp = directset_predictor(A @ A.mT, 1.0, eps)
    d2 = byol_field(LinearState(A, Wp, A), X, Xp, predictor="fixed", beta=None)
    assert bool(((d1.W - d2.W).abs() <= 1e3 * tol * (1 + Fm.flatten(-2).norm(dim=-1).reshape(-1, 1, 1))).all())


def _mode_without_alpha(p, s, tau, *, sigma2, eta=0.0, alpha_p=1.0, beta=None):
    return mode_field(p, s, tau, sigma2=sigma2, eta=eta, alpha_p=1.0, beta=beta)


def _mode_without_c(p, s, tau, *, sigma2, eta=0.0, alpha_p=1.0, beta=None):
    return mode_field(p, s, tau, sigma2=0.0 * sigma2, eta=eta, alpha_p=alpha_p, beta=beta)


def _mode_wrong_ema(p, s, tau, *, sigma2, eta=0.0, alpha_p=1.0, beta=None):
    """Eqn 13 with an extra −τ/2 (a target that decays on its own)."""
    dp, ds, dtau = mode_field(p, s, tau, sigma2=sigma2, eta=eta, alpha_p=alpha_p, beta=beta)
    return dp, ds, dtau - 0.5 * tau


def test_parabola_erratum_fails_on_a_field_without_alpha():
    with pytest.raises(PropertyViolation, match="s − p²/α_p is constant|printed parabola"):
        E.numeric_parabola(modes=_mode_without_alpha)


def test_figure4_erratum_fails_on_a_field_without_c():
    with pytest.raises(PropertyViolation, match="Figure 4"):
        E.numeric_figure4(modes=_mode_without_c)


def _mode_without_decay(p, s, tau, *, sigma2, eta=0.0, alpha_p=1.0, beta=None):
    return mode_field(p, s, tau, sigma2=sigma2, eta=0.0 * eta, alpha_p=alpha_p, beta=beta)


def test_double_root_erratum_fails_on_a_field_without_weight_decay():
    """Without η the double root is gone: from 0.3p* the mode grows towards τ/c instead of collapsing."""
    with pytest.raises(PropertyViolation, match="collapses"):
        E.numeric_double_root(modes=_mode_without_decay)


def test_eqn15_erratum_fails_on_a_wrong_ema():
    with pytest.raises(PropertyViolation, match="Eqn 15"):
        E.numeric_eqn15(modes=_mode_wrong_ema)
