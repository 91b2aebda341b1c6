"""The registry's losses against hand-computed values, their metadata, and their input validation."""
from __future__ import annotations

import math

import pytest
import torch

from ssl_props import InvalidArgument
from ssl_props.losses import LOSSES, get_loss

F64 = torch.float64
I2 = torch.eye(2, dtype=F64)
E = math.e


@pytest.mark.parametrize(("name", "z1", "z2", "params", "expected"), [
    # stacked views e1, e2, e1, e2: each anchor sees its positive (cos 1) and two negatives (cos 0)
    ("simclr", I2, I2, {"temperature": 0.5}, math.log(E**2 + 2) - 2),
    ("simclr_abs", I2, I2, {"temperature": 0.5}, math.log(E**2 + 2) - 2),
    ("simclr_sq", I2, I2, {"temperature": 0.5}, math.log(E**2 + 2) - 2),
    # DCL removes the positive from the denominator: log(e^0 + e^0) − 1/0.1
    ("dcl", I2, I2, {"temperature": 0.1}, math.log(2) - 10),
    ("infonce_cross_view", I2, I2, {"temperature": 0.5}, math.log(E**2 + 1) - 2),
    ("spectral_contrastive", I2, I2, {}, -2.0),
    # variance hinge: column 0 has std sqrt(2 + 1e-4) > 1, column 1 has std 0.01 → (0 + 0.99)/2 per view
    ("vicreg", torch.tensor([[1.0, 0.0], [-1.0, 0.0]], dtype=F64), torch.tensor([[1.0, 0.0], [-1.0, 0.0]], dtype=F64),
     {}, 25 * 0.99 / 2),
    # C = diag(1/(1+1e-5), 0): (1 − 1/(1+1e-5))² + 1
    ("barlow_twins", torch.tensor([[1.0, 0.0], [-1.0, 0.0]], dtype=F64), torch.tensor([[1.0, 0.0], [-1.0, 0.0]], dtype=F64),
     {}, (1 - 1 / (1 + 1e-5)) ** 2 + 1),
    ("sample_contrastive", torch.tensor([[1.0, 1.0], [1.0, 0.0]], dtype=F64), torch.tensor([[1.0, 1.0], [1.0, 0.0]], dtype=F64), {}, 4.0),
    ("dimension_contrastive", torch.tensor([[1.0, 1.0], [1.0, 0.0]], dtype=F64), torch.tensor([[1.0, 1.0], [1.0, 0.0]], dtype=F64), {}, 4.0),
    ("simsiam", torch.tensor([[1.0, 0.0]], dtype=F64), torch.tensor([[0.0, 2.0]], dtype=F64), {}, 0.0),
    ("simsiam", torch.tensor([[1.0, 1.0]], dtype=F64), torch.tensor([[3.0, 3.0]], dtype=F64), {}, -1.0),
    ("byol", torch.tensor([[1.0, 0.0]], dtype=F64), torch.tensor([[0.0, 2.0]], dtype=F64), {}, 2.0),
])
def test_hand_computed_values(name, z1, z2, params, expected):
    assert float(get_loss(name)(z1, z2, **params)) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_vicreg_ctr_is_vicreg_exp_on_transposes():
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(6, 4, generator=g, dtype=F64), torch.randn(6, 4, generator=g, dtype=F64)
    from ssl_props.losses.vicreg import exp_covariance_term, invariance_term, variance_term
    want = 25 * invariance_term(z1, z2) + 25 * 0.5 * (variance_term(z1.T) + variance_term(z2.T)) \
        + exp_covariance_term(z1.T, 0.5) + exp_covariance_term(z2.T, 0.5)
    assert float(get_loss("vicreg_ctr")(z1, z2)) == pytest.approx(float(want), rel=1e-12)


def test_simclr_matches_cross_entropy_formulation():
    """NT-Xent written independently: per-anchor −log softmax over the 2n−1 others."""
    g = torch.Generator().manual_seed(1)
    z1, z2 = torch.randn(5, 3, generator=g, dtype=F64), torch.randn(5, 3, generator=g, dtype=F64)
    z = torch.nn.functional.normalize(torch.cat([z1, z2]), dim=1)
    s = z @ z.T / 0.5
    total = 0.0
    for i in range(10):
        pos = (i + 5) % 10
        others = [k for k in range(10) if k != i]
        total += -s[i, pos] + torch.logsumexp(s[i, others], 0)
    assert float(get_loss("simclr")(z1, z2)) == pytest.approx(float(total / 10), rel=1e-12)


def test_metadata_declared():
    assert {"simclr", "infonce_cross_view", "dcl", "simclr_abs", "simclr_sq", "vicreg", "vicreg_exp", "vicreg_ctr",
            "barlow_twins", "spectral_contrastive", "simsiam", "sample_contrastive", "dimension_contrastive"} <= set(LOSSES)
    assert get_loss("simclr").defaults == {"temperature": 0.5}
    assert get_loss("vicreg").defaults == {"lambda_param": 25.0, "mu_param": 25.0, "nu_param": 1.0, "eps": 1e-4}
    assert get_loss("barlow_twins").defaults["lambda_param"] == 5e-3
    assert get_loss("dcl").defaults["temperature"] == 0.1
    assert get_loss("simsiam").needs_stop_gradient and get_loss("simsiam").signature == ("p", "z")
    assert get_loss("vicreg").family == "dimension-contrastive"
    assert get_loss("simclr_sq").family == "sample-contrastive"


def test_unknown_loss_lists_the_known_ones():
    with pytest.raises(KeyError, match="registered losses: .*simclr"):
        get_loss("simclr2")


def test_stop_gradient_inside_simsiam():
    p = torch.randn(4, 3, dtype=F64, requires_grad=True)
    z = torch.randn(4, 3, dtype=F64, requires_grad=True)
    get_loss("simsiam")(p, z).backward()
    assert p.grad is not None and z.grad is None


GOOD = torch.randn(4, 3, dtype=F64)


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize(("z1", "z2", "match"), [
    (torch.randn(4, 3, 2, dtype=F64), torch.randn(4, 3, 2, dtype=F64), "2-d tensor"),
    (torch.randn(4, dtype=F64), torch.randn(4, dtype=F64), "2-d tensor"),
    (GOOD, torch.randn(5, 3, dtype=F64), "same shape"),
    (GOOD, GOOD.float(), "same dtype"),
    (torch.ones(4, 3, dtype=torch.int64), torch.ones(4, 3, dtype=torch.int64), "floating dtype"),
    (torch.full((4, 3), float("nan"), dtype=F64), GOOD, "NaN"),
    (GOOD, torch.full((4, 3), float("inf"), dtype=F64), "NaN or inf"),
    ([[1.0]], [[1.0]], "torch.Tensor"),
])
def test_bad_input_raises_clear_value_error(name, z1, z2, match):
    with pytest.raises(ValueError, match=match):
        get_loss(name)(z1, z2)


@pytest.mark.parametrize("name", ["simclr", "dcl", "infonce_cross_view", "simclr_abs"])
def test_bad_temperature(name):
    with pytest.raises(InvalidArgument, match="temperature"):
        get_loss(name)(GOOD, GOOD, temperature=0.0)


def test_batch_of_one_is_rejected_where_undefined():
    z = torch.randn(1, 3, dtype=F64)
    with pytest.raises(InvalidArgument, match="at least 2 rows"):
        get_loss("vicreg")(z, z)
