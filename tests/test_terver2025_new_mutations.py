"""Each new Terver et al. record (issue 14 items 1-6) fails on a wrong version: a field whose gradient reaches the
target, a ridge on one layer only, a registered loss without its stop-gradient, a frozen or runaway teacher, a
wrong Prop. 4.5 residual."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import Phase

from ssl_props.dynamics import moments_model as tv
from ssl_props.losses import get_loss
from ssl_props.papers.terver2025 import balancing as bal
from ssl_props.papers.terver2025 import experiment_m1 as exp
from ssl_props.papers.terver2025 import remarks as rem
from ssl_props.profiles import temporary_profile
from ssl_props.properties import PropertyViolation


@pytest.fixture(autouse=True)
def _no_shrinking():
    with temporary_profile("_terver_new_mutations", database=None, derandomize=True,
                           phases=(Phase.explicit, Phase.reuse, Phase.generate)):
        yield


def ridge_on_A_only(state, mom, lam, beta=0.0):
    dA, dB = tv.sg_field(state, mom, lam, beta)[:2]
    return dA, dB + (lam.reshape(-1, 1, 1) if isinstance(lam, torch.Tensor) else lam) * state[1]


def ema_ridge_on_A_only(state, mom, lam, beta=1.0):
    dA, dB, dC = tv.ema_field(state, mom, lam, beta)
    return dA, dB + (lam.reshape(-1, 1, 1) if isinstance(lam, torch.Tensor) else lam) * state[1], dC


def frozen_zero_teacher(state, mom, lam, beta=1.0):
    """EMA whose teacher is reset to 0 and never follows the student."""
    A, B, C = state
    dA, dB, _ = tv.ema_field((A, B, torch.zeros_like(C)), mom, lam, beta)
    return dA, dB, torch.zeros_like(C)


def test_balancing_identity_fails_for_gradient_descent():
    with pytest.raises(PropertyViolation, match="balancing"):
        bal.check_balancing_identity(procedure="sg", field=tv.gd_field)


def test_balancing_flow_fails_with_a_ridge_on_one_layer():
    with pytest.raises(PropertyViolation, match="balancing"):
        bal.check_balancing_along_flows(procedure="ema", field=ema_ridge_on_A_only)


def test_balancing_fails_on_simsiam_without_detach():
    nodetach = lambda p, z: -F.cosine_similarity(p, z, dim=-1, eps=1e-8).mean()  # noqa: E731
    with pytest.raises(PropertyViolation, match="registered simsiam"):
        bal.check_registered_losses_balance(get=lambda n: nodetach if n == "simsiam" else get_loss(n))


def test_origin_check_fails_with_a_ridge_on_one_layer():
    """J(0) = −λI needs the ridge on both layers: with B unregularised the B-block of J(0) is 0."""
    with pytest.raises(PropertyViolation, match="remark-basin"):
        bal.check_origin_attracts(procedure="sg", field=ridge_on_A_only)


def test_experiment_fails_with_a_frozen_teacher():
    """An EMA whose teacher stays at 0 collapses from every start: SG then beats it on S₂ (the sign test rejects)."""
    with pytest.raises(PropertyViolation, match="more often than EMA"):
        exp.check_experiment(runner=lambda seed: exp.run(seed, exp.K, (("ema", frozen_zero_teacher),)))


def test_saddle_check_fails_on_gradient_descent():
    """Under GD (no SG) the Newton continuation does not give the saddle equilibrium of the SG dynamics."""
    with pytest.raises(PropertyViolation, match="remark-saddles"):
        rem.check_saddles_for_m2(field=tv.gd_field)


def test_variety_check_fails_on_a_field_the_limits_do_not_solve():
    with pytest.raises(PropertyViolation, match="remark-variety"):
        rem.check_variety_zero_eigenvalues(field=tv.gd_field)


def test_prop45_count_fails_with_a_wrong_residual():
    """Prop. 4.5's equation with [yxᵀ]S[xyᵀ] (transposes swapped): its solutions are not SG equilibria."""
    def wrong(S, mom, lam):
        L = lam * torch.eye(S.shape[-1], dtype=S.dtype)
        return (mom.xx @ S + L) @ (S @ mom.xx + L) - mom.yx @ S @ mom.yx.mT
    with pytest.raises(PropertyViolation, match="prop45-count"):
        rem.check_prop45_at_most(residual=wrong)
