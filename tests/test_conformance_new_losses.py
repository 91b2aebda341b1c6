"""Conformance of issue 21's registered losses with lightly 1.6.0 and solo-learn 1.0.2 (``make conformance``).

Two independent implementations meet here: ours (ssl_props.losses, written from the papers' formulas) and the
libraries', each called with the exact constructor and arguments written in the test.

Which package has which loss:

* DINO: lightly ``DINOLoss`` (multi-crop, centre state) and solo-learn ``DINOLoss`` (two crops: it chunks the
  student output into ``num_large_crops`` pieces, so local crops cannot be passed).
* SwAV: lightly ``SwaVLoss`` / ``sinkhorn``; solo-learn ``swav_loss_func`` takes the codes already computed (its
  Sinkhorn lives in ``solo/utils``, not loaded here): fed lightly's codes.
* KoLeo: lightly ``KoLeoLoss`` (DINOv2's code); solo-learn has none.
* SIGReg / LeJEPA: lightly ``SIGReg`` and ``lejepa_invariance_loss``; solo-learn has none. lightly's
  ``LeJEPALoss`` requires a local view, so the two-view form is assembled from its two public pieces as
  ``LeJEPALoss.forward`` combines them.
* MoCo (queue): lightly ``NTXentLoss(memory_bank_size=(K, d))`` (negatives: the bank only) and solo-learn
  ``moco_loss_func``. MoCo v3 (in-batch keys, 2τ): neither package has it (solo-learn 1.0.2's ``moco.py`` holds
  only the queue loss; lightly's ``NTXentLoss`` without a bank is SimCLR) — checked only against the loop
  reference of tests/test_new_shape_losses.py.
* SupCon: lightly 1.6.0 has no supervised contrastive loss; solo-learn's ``simclr_loss_func`` with the same-label
  mask (diagonal removed) as ``extra_pos_mask`` is ``L^sup_out``.

Tolerance: ``SAFETY · N · eps64 · (|L| + Σ |z ⊙ ∂L/∂z|)`` over every input entry (N of them), the first-order
effect of rounding each input plus sums of ≤ N terms (Higham §3.1), as ``ssl_props.tolerances.value_tolerance``;
plus, where a library's convention differs by a stated amount, that amount's bound (KoLeo's ε inside the norm,
lightly's SIGReg window rounded to float32).
"""
from __future__ import annotations

import contextlib
import math
import os

import pytest
import torch
import torch.nn.functional as F

if os.environ.get("SSL_PROPS_REQUIRE_LIGHTLY") == "1":  # make conformance: never skip
    import lightly.loss as lightly_loss
else:
    lightly_loss = pytest.importorskip("lightly.loss")

from lightly.loss.lejepa_loss import SIGReg, lejepa_invariance_loss  # noqa: E402
from lightly.loss.swav_loss import sinkhorn  # noqa: E402

from ssl_props.losses import LOSSES, DinoCentredLoss, regularisers, sinkhorn_knopp, swav_multicrop  # noqa: E402
from ssl_props.tolerances import sum_of_products  # noqa: E402

from .helpers_solo import load_solo_loss  # noqa: E402

F64 = torch.float64
EPS32 = 2.0 ** -24


@contextlib.contextmanager
def float64_default():
    """lightly builds temperatures and buffers with ``torch.tensor(x)`` / ``torch.zeros``: float64 while inside."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(F64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def _rand(*shape, seed: int, scale: float = 1.0) -> torch.Tensor:
    return scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def _tolerance(ref_fn, *inputs: torch.Tensor) -> tuple[float, float]:
    """(reference value, its float64 tolerance): ``SAFETY · N · eps · (|L| + Σ|z ∂L/∂z|)``."""
    xs = [x.detach().clone().requires_grad_(True) for x in inputs]
    v = ref_fn(*xs).sum()
    gs = torch.autograd.grad(v, xs, allow_unused=True)
    sens = sum(float((x.detach() * g).abs().sum()) for x, g in zip(xs, gs) if g is not None)
    n = sum(x.numel() for x in xs)
    return float(v.detach()), float(sum_of_products(F64, n, abs(float(v.detach())) + sens))


def _assert_close(mine: torch.Tensor, ref: float, tol: float, label: str) -> None:
    assert abs(float(mine.detach()) - ref) <= tol, (label, float(mine.detach()), ref, tol)


# ------------------------------------------------------------------------------------------------ DINO
def test_dino_multicrop_with_centre_equals_lightly_over_three_steps():
    """lightly ``DINOLoss(output_dim=5, warmup_teacher_temp=0.06, teacher_temp=0.06, warmup_teacher_temp_epochs=1,
    student_temp=0.2, center_momentum=0.8)(teacher_out=[2 global], student_out=[2 global + 2 local])``; both
    update their centre after each step."""
    with float64_default():
        theirs = lightly_loss.DINOLoss(output_dim=5, warmup_teacher_temp=0.06, teacher_temp=0.06,
                                       warmup_teacher_temp_epochs=1, student_temp=0.2, center_momentum=0.8)
    mine = DinoCentredLoss(5, teacher_temp=0.06, student_temp=0.2, center_momentum=0.8)
    for step in range(3):
        t = [_rand(4, 5, seed=10 * step + i, scale=2.0) for i in range(2)]
        s = [_rand(4, 5, seed=10 * step + 5 + i, scale=2.0) for i in range(4)]
        center = theirs.center.detach().clone()
        with float64_default():
            ref, tol = _tolerance(lambda *x: lightly_loss.DINOLoss.forward(_frozen(theirs, center), list(x[:2]), list(x[2:])),
                                  *t, *s)
            theirs(t, s)
        _assert_close(mine(s, t), ref, tol, f"dino step {step}")
        torch.testing.assert_close(mine.center, theirs.center.reshape(-1), rtol=0, atol=1e-14)


def _frozen(module, center):
    """A copy of lightly's DINOLoss at ``center`` (its forward updates the centre; the tolerance run must not)."""
    import copy
    m = copy.deepcopy(module)
    m.center = center.clone()
    return m


def test_dino_teacher_temperature_warmup_equals_lightly_and_solo():
    """Epoch 5 of a 0.04 → 0.07 warm-up over 30 epochs: lightly ``DINOLoss(..., epoch=5)`` and solo-learn
    ``DINOLoss(num_prototypes=5, warmup_teacher_temp=0.04, teacher_temp=0.07, warmup_teacher_temp_epochs=30,
    num_epochs=100, student_temp=0.1, num_large_crops=2, center_momentum=0.9)`` with ``epoch = 5``, two crops."""
    from ssl_props.losses import dino, dino_teacher_temperature
    tt = dino_teacher_temperature(5, warmup_teacher_temp=0.04, teacher_temp=0.07, warmup_epochs=30)
    t = [_rand(6, 5, seed=i, scale=2.0) for i in range(2)]
    s = [_rand(6, 5, seed=3 + i, scale=2.0) for i in range(2)]
    mine = 0.5 * (dino(s[1], t[0], teacher_temp=tt) + dino(s[0], t[1], teacher_temp=tt))
    with float64_default():
        light = lightly_loss.DINOLoss(output_dim=5, warmup_teacher_temp=0.04, teacher_temp=0.07,
                                      warmup_teacher_temp_epochs=30, student_temp=0.1)
        ref, tol = _tolerance(lambda t0, t1, s0, s1: _frozen(light, light.center)([t0, t1], [s0, s1], epoch=5), *t, *s)
        _assert_close(mine, ref, tol, "dino lightly epoch 5")
        solo = load_solo_loss("dino", "DINOLoss")(num_prototypes=5, warmup_teacher_temp=0.04, teacher_temp=0.07,
                                                   warmup_teacher_temp_epochs=30, num_epochs=100, student_temp=0.1,
                                                   num_large_crops=2, center_momentum=0.9)
        solo.epoch = 5
        ref, tol = _tolerance(lambda t0, t1, s0, s1: solo(torch.cat([s0, s1]), torch.cat([t0, t1])), *t, *s)
    _assert_close(mine, ref, tol, "dino solo epoch 5")


# ------------------------------------------------------------------------------------------------ SwAV
def test_swav_codes_and_loss_equal_lightly_and_solo():
    """lightly ``sinkhorn(s, iterations=4, epsilon=0.1)`` and ``SwaVLoss(temperature=0.2, sinkhorn_iterations=4,
    sinkhorn_epsilon=0.1)([s1, s2], [])``; solo-learn ``swav_loss_func([s1, s2], [codes1, codes2], 0.2)`` with
    lightly's codes. B = 6 samples, K = 3 prototypes (B ≠ K: a transposed plan would differ)."""
    s1, s2 = _rand(6, 3, seed=1), _rand(6, 3, seed=2)
    torch.testing.assert_close(sinkhorn_knopp(s1, epsilon=0.1, iterations=4), sinkhorn(s1, iterations=4, epsilon=0.1),
                               rtol=1e-12, atol=1e-14)  # codes in [0, 1]: 4 iterations of O(B·K) sums, eps64
    params = dict(temperature=0.2, epsilon=0.1, sinkhorn_iterations=4)
    mine = LOSSES["swav"].fn(s1, s2, **params)
    light = lightly_loss.SwaVLoss(temperature=0.2, sinkhorn_iterations=4, sinkhorn_epsilon=0.1)
    ref, tol = _tolerance(lambda a, b: light([a, b], []), s1, s2)
    _assert_close(mine, ref, tol, "swav lightly")
    solo = load_solo_loss("swav", "swav_loss_func")
    codes = [sinkhorn(s, iterations=4, epsilon=0.1) for s in (s1, s2)]
    ref, tol = _tolerance(lambda a, b: solo([a, b], codes, 0.2), s1, s2)
    _assert_close(mine, ref, tol, "swav solo")


def test_swav_multicrop_equals_lightly():
    """lightly ``SwaVLoss(temperature=0.2, sinkhorn_iterations=4, sinkhorn_epsilon=0.1)([h1, h2], [l1, l2])``."""
    high, low = [_rand(5, 4, seed=i) for i in range(2)], [_rand(5, 4, seed=5 + i) for i in range(2)]
    light = lightly_loss.SwaVLoss(temperature=0.2, sinkhorn_iterations=4, sinkhorn_epsilon=0.1)
    ref, tol = _tolerance(lambda *x: light(list(x[:2]), list(x[2:])), *high, *low)
    _assert_close(swav_multicrop(high, low, temperature=0.2, epsilon=0.1, sinkhorn_iterations=4), ref, tol, "swav multicrop")


# ------------------------------------------------------------------------------------------------ KoLeo
@pytest.mark.parametrize("n,d", [(6, 3), (5, 8)])
def test_koleo_equals_lightly_up_to_the_epsilon_inside_the_norm(n, d):
    """lightly ``KoLeoLoss(p=2, eps=1e-8)`` (DINOv2's code: ``PairwiseDistance`` computes ‖x − y + ε1‖) per view,
    summed over the two views as DINOv2 sums its two global crops. We take ρ = ‖x − y‖ (the paper's distance):
    |Δρ| ≤ ‖ε1‖ = ε√d by the triangle inequality, so |Δ log(ρ + ε)| ≤ ε√d / ρ_min per row and per view."""
    z1, z2 = _rand(n, d, seed=n), _rand(n, d, seed=n + 1, scale=3.0)
    light = lightly_loss.KoLeoLoss(p=2, eps=1e-8)
    ref, tol = _tolerance(lambda a, b: light(a) + light(b), z1, z2)
    rho_min = min(float(torch.pdist(F.normalize(z, dim=-1)).min()) for z in (z1, z2))
    _assert_close(LOSSES["koleo"].fn(z1, z2, eps=1e-8), ref, tol + 2 * 1e-8 * math.sqrt(d) / rho_min, "koleo")


# ------------------------------------------------------------------------------------------------ SIGReg / LeJEPA
def _lightly_sigreg(a: torch.Tensor) -> SIGReg:
    """lightly ``SIGReg(knots=9, t_max=2.5, num_vectors=a.shape[1])`` drawing ``a`` as its directions."""
    sig = SIGReg(knots=9, t_max=2.5, num_vectors=a.shape[1])
    sig._generate_unit_vectors = lambda device, dtype, num_features: a.to(device, dtype)
    return sig


def test_sigreg_and_lejepa_equal_lightly_with_the_same_directions():
    """Same 5 directions in both. lightly's ``t`` grid (multiples of 2.5/8) is exact in float32, but its window and
    trapezoidal weights are computed in float32: each non-negative term is off by ≤ 3·2⁻²⁴ relative, so the sum by
    ≤ 3·2⁻²⁴·|L|. LeJEPA: ``0.3 · SIGReg(stack) + 0.7 · lejepa_invariance_loss(all_proj=stack, global_proj=stack)``
    (``LeJEPALoss.forward`` with no local view)."""
    z1, z2 = _rand(7, 4, seed=1, scale=1.5), _rand(7, 4, seed=2)
    a = regularisers.sigreg_directions(4, 5, seed=3)
    sig = _lightly_sigreg(a)
    ref, tol = _tolerance(lambda x, y: sig(torch.stack([x, y])), z1, z2)
    _assert_close(LOSSES["sigreg"].fn(z1, z2, knots=9, t_max=2.5, directions=a), ref, tol + 3 * EPS32 * abs(ref), "sigreg")

    def lejepa_theirs(x, y):
        stack = torch.stack([x, y])
        return 0.3 * sig(stack) + 0.7 * lejepa_invariance_loss(all_proj=stack, global_proj=stack)
    ref, tol = _tolerance(lejepa_theirs, z1, z2)
    _assert_close(LOSSES["lejepa"].fn(z1, z2, lamb=0.3, knots=9, t_max=2.5, directions=a), ref,
                  tol + 3 * EPS32 * abs(ref), "lejepa")


# ------------------------------------------------------------------------------------------------ MoCo
def test_moco_queue_equals_lightly_memory_bank_and_solo():
    """lightly ``NTXentLoss(temperature=0.15, memory_bank_size=(7, 3))`` with its bank set to the (normalised)
    queue; solo-learn ``moco_loss_func(F.normalize(q), F.normalize(k), F.normalize(queue).T, temperature=0.15)``."""
    q, k, queue = _rand(4, 3, seed=1), _rand(4, 3, seed=2), F.normalize(_rand(7, 3, seed=3), dim=-1)
    mine = LOSSES["moco"].fn(q, k, queue=queue, temperature=0.15)
    light = lightly_loss.NTXentLoss(temperature=0.15, memory_bank_size=(7, 3))
    light.memory_bank.bank = queue.clone()
    ref, tol = _tolerance(lambda a, b: light(a, b), q, k)
    _assert_close(mine, ref, tol, "moco lightly")
    solo = load_solo_loss("moco", "moco_loss_func")
    ref, tol = _tolerance(lambda a, b: solo(F.normalize(a, dim=-1), F.normalize(b, dim=-1), queue.T, temperature=0.15), q, k)
    _assert_close(mine, ref, tol, "moco solo")


# ------------------------------------------------------------------------------------------------ SupCon
def test_supcon_equals_solo_simclr_with_the_label_mask():
    """solo-learn ``simclr_loss_func(z1, z2, temperature=0.3, extra_pos_mask=same label, diagonal removed)``;
    lightly 1.6.0 has no supervised contrastive loss. Without labels it is solo's plain SimCLR."""
    z1, z2 = _rand(5, 3, seed=1), _rand(5, 3, seed=2)
    labels = torch.tensor([0, 1, 0, 2, 1])
    y = labels.repeat(2)
    mask = (y[:, None] == y[None, :]) & ~torch.eye(10, dtype=torch.bool)
    solo = load_solo_loss("simclr", "simclr_loss_func")
    ref, tol = _tolerance(lambda a, b: solo(a, b, temperature=0.3, extra_pos_mask=mask), z1, z2)
    _assert_close(LOSSES["supcon"].fn(z1, z2, labels=labels, temperature=0.3), ref, tol, "supcon solo")
    ref, tol = _tolerance(lambda a, b: solo(a, b, temperature=0.3), z1, z2)
    _assert_close(LOSSES["supcon"].fn(z1, z2, temperature=0.3), ref, tol, "supcon solo, no labels")
