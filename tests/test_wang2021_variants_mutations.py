"""The Wang et al. (2021) remarks on DirectSet variants (issue 14 item 11) fail on a wrong flow or field."""
from __future__ import annotations

import pytest
from hypothesis import Phase

from ssl_props.dynamics.fields import byol_field
from ssl_props.papers.wang2021 import directset_variants as V
from ssl_props.profiles import temporary_profile

from .helpers import violation_of


@pytest.fixture(autouse=True)
def _derandomised():
    with temporary_profile("_wang_variants", derandomize=True, database=None, deadline=None,
                           phases=(Phase.explicit, Phase.reuse, Phase.generate)):
        yield


def test_collapse_bound_catches_unnormalised_flow():
    """Slip: the normalisation by the top eigenvalue forgotten (W_p = F^α): the kept modes do not decay."""
    def flow(lam, s2, eta, alpha, eps, normalised):
        return V.mode_flow(lam, s2, eta, alpha, eps, False)
    assert "f_max(0) e^{−2ηt}" in str(violation_of(V.numeric_normalised_collapse, flow=flow))


def test_nonwhitened_limit_catches_whitened_predictor():
    """Slip: the predictor built from W Wᵀ (as if X = I) instead of W X Wᵀ: a different limit."""
    def field(state, X, Xp, **kw):
        import torch
        eye = torch.eye(X.shape[-1], dtype=X.dtype, device=X.device).expand(X.shape)
        return byol_field(state, X, Xp, **kw) if kw.get("predictor") != "directcopy" else _with_f(state, X, Xp, eye, kw)
    def _with_f(state, X, Xp, eye, kw):
        from ssl_props.dynamics.fields import LinearState
        Wp = state.W @ state.W.mT  # F = W Wᵀ: the X of the predictor forgotten
        return byol_field(LinearState(state.W, Wp, state.Wa), X, Xp, **{**kw, "predictor": "fixed"})
    assert "λ²/(4(λ+σ²))" in str(violation_of(V.numeric_nonwhitened_threshold, field=field))


def test_nonwhitened_limit_catches_missing_weight_decay():
    def field(state, X, Xp, **kw):
        return byol_field(state, X, Xp, **{**kw, "eta": 0.0 * kw["eta"]})
    assert "WᵀW" in str(violation_of(V.numeric_nonwhitened_threshold, field=field))


def test_probe_claim_catches_wrong_subspace():
    """Slip: the probe reads the discarded (high-variance) directions instead of W*'s range."""
    import torch

    def complement(w_star):
        s, u = torch.linalg.eigh(w_star)
        return u[:, s <= torch.finfo(s.dtype).eps ** 0.5 * s.abs().max()]
    from ssl_props.papers.wang2021 import downstream as DS
    assert "excess risk" in str(violation_of(DS.numeric_probe_sample_complexity, basis_of=complement))


def test_probe_claim_catches_raw_features():
    import torch
    from ssl_props.papers.wang2021 import downstream as DS
    assert "p = " in str(violation_of(DS.numeric_probe_sample_complexity,
                                      basis_of=lambda w: torch.eye(w.shape[0], dtype=w.dtype, device=w.device)))


@pytest.mark.parametrize("predictor", ["directcopy", "directset"])
def test_mode_reduction_catches_eps_sign(predictor):
    """Slip (issue 15): the set predictor's ε subtracted (F − εI, F^½ − εI): the modes leave the per-mode flow."""
    def field(state, X, Xp, **kw):
        if kw.get("predictor") == predictor:
            kw = {**kw, "eps": -kw["eps"]}
        return byol_field(state, X, Xp, **kw)
    assert f"{predictor} with ε > 0" in str(violation_of(V.numeric_mode_reduction, field=field))
