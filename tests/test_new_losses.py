"""The losses added for issue 13 (DCL-abs/-sq, DCLW, TCR, EMP-SSL, MMCR, align+uniform, W-MSE, TiCo):
hand-computed values, loop references written independently, and Prop. 3.2's TCR check failing on a
wrong Gram form."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ssl_props import InvalidArgument
from ssl_props.checker import check_loss
from ssl_props.losses import LOSSES, get_loss
from ssl_props.losses.coding_rate import coding_rate, coding_rate_gram
from ssl_props.properties import PropertyViolation

F64 = torch.float64
I2 = torch.eye(2, dtype=F64)


def _views(n=6, d=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=F64), torch.randn(n, d, generator=g, dtype=F64)


@pytest.mark.parametrize(("name", "params", "expected"), [
    # orthogonal negatives: |0| = 0² = 0, so DCL-abs/-sq equal DCL: log(e^0 + e^0) − 1/0.1
    ("dcl_abs", {}, math.log(2) - 10), ("dcl_sq", {}, math.log(2) - 10),
    # equal positives: softmax uniform, w = 2 − n/n = 1: DCLW = DCL
    ("dclw", {}, math.log(2) - 10),
    # B = I/2, C = 0.1 · I/2; invariance 1 − 1 = 0; ρ · mean_i e_iᵀ C e_i = 8 · 0.05
    ("tico", {}, 0.4),
    # centroids I (singular values 1, 1); each sample's manifold [e_i; e_i] has one singular value √2
    ("mmcr", {}, -2.0 + 5e-3 * 2 * math.sqrt(2) / 2),
])
def test_hand_computed_values(name, params, expected):
    assert float(get_loss(name)(I2, I2, **params)) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_dclw_equals_a_loop():
    z1, z2 = _views()
    n, t, sigma = z1.shape[0], 0.1, 0.5
    a, b = torch.nn.functional.normalize(z1, dim=1), torch.nn.functional.normalize(z2, dim=1)
    pos = [float(a[i] @ b[i]) for i in range(n)]
    w = [2 - n * math.exp(p / sigma) / sum(math.exp(q / sigma) for q in pos) for p in pos]
    total = 0.0
    for x, y in ((a, b), (b, a)):
        for i in range(n):
            negs = [float(x[i] @ x[j]) / t for j in range(n) if j != i] + [float(x[i] @ y[j]) / t for j in range(n) if j != i]
            total += -w[i] * float(x[i] @ y[i]) / t + math.log(sum(math.exp(v) for v in negs))
    assert float(get_loss("dclw")(z1, z2)) == pytest.approx(total / (2 * n), rel=1e-12)


def test_coding_rate_equals_numpy_slogdet_both_forms():
    z, _ = _views(5, 7)
    n, d = z.shape
    m = np.eye(d) + d / (n * 0.2) * z.numpy().T @ z.numpy()
    want = 0.5 * np.linalg.slogdet(m)[1]
    assert float(coding_rate(z, 0.2)) == pytest.approx(want, rel=1e-12)
    assert float(coding_rate_gram(z, 0.2)) == pytest.approx(want, rel=1e-12)


def test_mmcr_and_align_uniform_equal_loops():
    z1, z2 = _views(5, 3)
    nuc = lambda m: float(np.linalg.svd(m, compute_uv=False).sum())  # noqa: E731
    want = -nuc(((z1 + z2) / 2).numpy()) + 5e-3 * sum(nuc(np.stack([z1[i], z2[i]])) for i in range(5)) / 5
    assert float(get_loss("mmcr")(z1, z2)) == pytest.approx(want, rel=1e-12)
    x, y = torch.nn.functional.normalize(z1, dim=1), torch.nn.functional.normalize(z2, dim=1)
    unif = lambda u: math.log(sum(math.exp(-float((u[i] - u[j]).square().sum())) for i in range(5) for j in range(i + 1, 5)) / 10)  # noqa: E731
    want = float((x - y).square().sum(1).mean()) + (unif(x) + unif(y)) / 2
    assert float(get_loss("align_uniform")(z1, z2)) == pytest.approx(want, rel=1e-12)


def test_wmse_whitened_identical_views_and_its_domain():
    z1, _ = _views(8, 3)
    assert abs(float(get_loss("wmse")(z1, z1))) < 1e-12
    with pytest.raises(InvalidArgument, match="batch=3 <= dim=4"):
        get_loss("wmse")(*_views(3, 4))


def test_emp_ssl_rewards_spread_and_tcr_is_spectral():
    assert LOSSES["tcr"].family == "dimension-contrastive" and "sample_mixing" in LOSSES["tcr"].invariances
    z = torch.randn(6, 4, dtype=F64)
    collapsed = z[:1].expand(6, 4).clone()
    assert float(get_loss("emp_ssl")(z, z)) < float(get_loss("emp_ssl")(collapsed, collapsed))


def test_prop32_tcr_check_fails_on_a_wrong_gram_form():
    from ssl_props.papers.garrido2023 import duality

    def wrong_gram(z, eps=0.2):  # n/(d ε) instead of d/(n ε): the classic transposition slip
        n, d = z.shape[-2:]
        m = torch.eye(n, dtype=z.dtype) + (n / (d * eps)) * (z @ z.T)
        return torch.linalg.cholesky(m).diagonal().log().sum()

    duality.numeric_tcr_sylvester()
    with pytest.raises(PropertyViolation, match="Sylvester"):
        duality.numeric_tcr_sylvester(rate_gram=wrong_gram)


@pytest.mark.parametrize("name", ["dcl_abs", "align_uniform", "mmcr", "tcr"])
def test_new_registered_losses_pass_against_themselves(name):
    report = check_loss(LOSSES[name].fn, like=name, max_examples=5, identify_loss=False)
    assert report.passed, report.render()
