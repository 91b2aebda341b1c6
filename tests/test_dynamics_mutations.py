"""The dynamics properties can fail: run the registered checks of Tian et al. (2021) and Wang et al.
(2021) against simulators with a removed stop-gradient, a wrong EMA update, a stop-gradient that cannot
be removed, and a wrong DirectPred predictor, and expect a PropertyViolation."""
from __future__ import annotations

import pytest
import torch
from hypothesis import Phase

from ssl_props.dynamics import LinearState, byol_field, directpred_predictor, mode_field
from ssl_props.papers.tian2021 import alignment_and_fixed_points as TA
from ssl_props.papers.tian2021 import conservation_and_collapse as T
from ssl_props.papers.wang2021 import thresholds as W
from ssl_props.profiles import temporary_profile
from ssl_props.properties import PropertyViolation


@pytest.fixture(autouse=True)
def _no_shrinking():
    """A failing check would shrink its seed (many re-simulations); the failure itself is what is tested."""
    with temporary_profile("_dynamics_mutations", database=None, phases=(Phase.explicit, Phase.reuse, Phase.generate)):
        yield


def no_stop_gradient(state, X, Xp, **kw):
    """A simulator whose stop-gradient was removed."""
    return byol_field(state, X, Xp, **{**kw, "stop_gradient": False})


def always_stop_gradient(state, X, Xp, **kw):
    """A simulator that ignores a request to remove the stop-gradient."""
    return byol_field(state, X, Xp, **{**kw, "stop_gradient": True})


def wrong_ema(state, X, Xp, **kw):
    """EMA with the sign flipped: dW_a/dt = β(W_a − W) (the target runs away from the online network)."""
    d = byol_field(state, X, Xp, **kw)
    beta = kw.get("beta")
    if beta is None:
        return d
    b = beta.reshape(-1, 1, 1) if isinstance(beta, torch.Tensor) else beta
    return LinearState(d.W, d.Wp, b * (state.Wa - state.W))


def frozen_target(state, X, Xp, **kw):
    """An EMA that never updates: W_a stays at its initial value."""
    d = byol_field(state, X, Xp, **kw)
    return LinearState(d.W, d.Wp, torch.zeros_like(d.Wa)) if kw.get("beta") is not None else d


def test_non_collapse_fails_without_stop_gradient():
    with pytest.raises(PropertyViolation, match="discarded|WᵀW"):
        W.numeric_threshold(field=no_stop_gradient)


def test_non_collapse_fails_with_frozen_ema():
    """(The sign-flipped EMA is tested on the mode equations below: here it drives the adaptive integrator
    into a stiff runaway that costs ~30 s before the case is given up.)"""
    with pytest.raises(PropertyViolation, match="DirectCopy"):  # the EMA-target half of the check
        W.numeric_threshold(field=frozen_target)


def test_mode_equations_fail_with_wrong_ema():
    with pytest.raises(PropertyViolation, match="Eqns 11-13"):
        TA.numeric_eqn11(field=wrong_ema)


def test_collapse_fails_when_stop_gradient_cannot_be_removed():
    with pytest.raises(PropertyViolation, match="Theorem 2"):
        T.numeric_theorem2(field=always_stop_gradient)


def test_balance_fails_without_stop_gradient():
    with pytest.raises(PropertyViolation, match="Theorem 1"):
        T.numeric_theorem1(field=no_stop_gradient)


def test_balance_holds_for_any_target_trajectory():
    """Theorem 1 holds whatever W_a does: a frozen target does not break it (the check is not over-broad)."""
    T.numeric_theorem1(field=frozen_target)


def test_same_subspace_fails_for_a_collapsing_directcopy():
    """A "DirectCopy" run whose predictor is missing (W_p = I, EMA run only) ends on another subspace."""
    def broken(state, X, Xp, **kw):
        return byol_field(state, X, Xp, **({**kw, "predictor": "identity"} if kw.get("beta") is not None else kw))

    with pytest.raises(PropertyViolation, match="same subspace"):
        W.numeric_same_subspace(field=broken)


def test_directpred_check_fails_for_wrong_power():
    with pytest.raises(PropertyViolation, match="Eqn 18"):
        TA.numeric_eqn18(predictor=lambda F, e: directpred_predictor(F @ F, e))


def test_threshold_fails_with_wrong_weight_decay_sign():
    with pytest.raises(PropertyViolation, match="Eqn 16"):
        TA.numeric_eqn16(modes=lambda p, s, tau, **kw: mode_field(p, s, tau, **{**kw, "eta": -kw["eta"]}))


def test_sgd_threshold_fails_without_stop_gradient():
    with pytest.raises(PropertyViolation, match="SGD"):
        W.numeric_sgd_threshold(stop_gradient=False)


@pytest.mark.parametrize("necessity", [TA.necessity_eqn11_aligned, TA.necessity_eqn14_same_decay, TA.necessity_eqn18_psd,
                                       W.necessity_same_init_threshold, W.necessity_sgd_stop_gradient])
def test_new_necessity_checks_return_a_counterexample(necessity):
    """tian2021.eq11/eq14/eq18, wang2021.directcopy/sgd: each necessity check returns its counterexample."""
    out = necessity()
    assert isinstance(out, str) and out
