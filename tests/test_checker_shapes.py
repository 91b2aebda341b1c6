"""The loss shapes of issue 21, each declared by a flag and no wrapper: a small loss of that shape written here,
one correct and one with a known bug, and the bug is caught (detached-teacher gradient leak, centre not
updated, Sinkhorn transposed, KoLeo on the wrong axis, a queue, a per-sample result, a required constant)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ssl_props import InvalidArgument
from ssl_props.checker import check_loss
from ssl_props.checker.calling import Calling, detect_convention
from ssl_props.checker.convention import Convention, crop_of

FAST = 4


# ---------------------------------------------------------------- teacher / student (DINO's cross-entropy)
def dino_ce(student, teacher):
    """DINO, Caron et al. 2021 (arXiv:2104.14294) Eq. (1): H(P_t, P_s) with a sharpened, detached teacher."""
    t = F.softmax(teacher.detach() / 0.04, dim=-1)
    return -(t * F.log_softmax(student / 0.1, dim=-1)).sum(-1).mean()


def dino_ce_leak(student, teacher):
    """The teacher's gradient leaks: no .detach()."""
    t = F.softmax(teacher / 0.04, dim=-1)
    return -(t * F.log_softmax(student / 0.1, dim=-1)).sum(-1).mean()


def test_teacher_gradient_leak_is_caught():
    ok = check_loss(dino_ce, teacher="teacher", max_examples=FAST, identify_loss=False)
    assert ok.passed, ok.render()
    assert ok["check_stop_gradient"].status == "passed"
    assert any("dropped for a teacher/student loss" in n for n in ok.notes)  # collapse checks dropped, said why
    leak = check_loss(dino_ce_leak, teacher="teacher", checks=["check_stop_gradient"], max_examples=FAST,
                      identify_loss=False)
    assert leak["check_stop_gradient"].status == "failed" and "teacher.detach()" in leak.results[0].message


def test_teacher_detached_by_the_caller_is_declared():
    r = check_loss(dino_ce_leak, teacher="teacher", teacher_detached=True, max_examples=FAST, identify_loss=False)
    assert r.passed, r.render()
    assert r["check_stop_gradient"].status == "skipped" and "--teacher-detached" in r["check_stop_gradient"].message


# ---------------------------------------------------------------- multi-crop with a centre (DINO)
class DINOCentre(torch.nn.Module):
    """DINO with lists of crops: teacher (global crops) against student (all crops), pairs i ≠ j, and the
    centre c ← 0.9 c + 0.1 mean(teacher) (arXiv:2104.14294, Eq. 4); ``update=False`` is the bug."""

    def __init__(self, dim: int = 6, update: bool = True):
        super().__init__()
        self.register_buffer("center", torch.zeros(1, dim, dtype=torch.float64))
        self.update = update

    def forward(self, teacher_out, student_out):
        t = [F.softmax((x - self.center) / 0.04, dim=-1).detach() for x in teacher_out]
        s = [F.log_softmax(x / 0.1, dim=-1) for x in student_out]
        terms = [-(ti * sj).sum(-1).mean() for i, ti in enumerate(t) for j, sj in enumerate(s) if i != j]
        if self.update:
            self.center = 0.9 * self.center + 0.1 * torch.cat(teacher_out).mean(0, keepdim=True).detach()
        return sum(terms) / len(terms)


def test_multicrop_centre_not_updated_is_caught():
    kw = dict(teacher="teacher_out", crops="2,2", shapes=(None, 6), max_examples=FAST, identify_loss=False)
    ok = check_loss(DINOCentre(), **kw)
    assert ok.passed, ok.render()
    assert ok.results and "center change" in ok["check_state_updates"].message
    bug = check_loss(DINOCentre(update=False), checks=["check_state_updates"], **kw)
    assert bug["check_state_updates"].status == "failed" and "center" in bug.results[0].message


def test_crops_are_affine_and_the_teacher_sees_global_crops_only():
    seen = {}

    def spy(teacher_out, student_out):
        seen["t"], seen["s"] = len(teacher_out), len(student_out)
        return dino_ce(torch.stack(student_out).mean(0), torch.stack(teacher_out).mean(0))

    conv = detect_convention(spy, calling=Calling(teacher="teacher_out", crops=(2, 4)))
    x = torch.randn(5, 3, dtype=torch.float64)
    conv.call(spy, x, x + 1)
    assert conv.teacher and conv.crops == (2, 4) and conv.pack == "list" and (seen["t"], seen["s"]) == (2, 6)
    perm = torch.randperm(5)
    assert torch.allclose(crop_of(x, 3, 6)[perm], crop_of(x[perm], 3, 6))  # commutes with a batch permutation
    assert torch.allclose(crop_of(2 * x + 1, 3, 6), 2 * crop_of(x, 3, 6) + 1)  # with scalings and shifts


# ---------------------------------------------------------------- prototypes: Sinkhorn codes (SwAV)
def _sinkhorn(scores: torch.Tensor, transposed: bool = False) -> torch.Tensor:
    """SwAV's Algorithm 1 (arXiv:2006.09882): Q (K × B), rows to 1/K then columns to 1/B, 3 times; codes (B·Q)ᵀ.
    ``transposed``: the iterations run on the B × K matrix (the bug)."""
    q = torch.exp(scores / 0.05)
    q = q if transposed else q.T
    q = q / q.sum()
    rows, cols = q.shape
    for _ in range(3):
        q = q / q.sum(1, keepdim=True) / rows
        q = q / q.sum(0, keepdim=True) / cols
    return (q * cols) if transposed else (q * cols).T


def swav_scores(s1, s2):
    ce = lambda s, q: -(q * F.log_softmax(s / 0.1, dim=1)).sum(1).mean()  # noqa: E731
    return 0.5 * (ce(s2, _sinkhorn(s1.detach())) + ce(s1, _sinkhorn(s2.detach())))


def swav_transposed(s1, s2):
    ce = lambda s, q: -(q * F.log_softmax(s / 0.1, dim=1)).sum(1).mean()  # noqa: E731
    return 0.5 * (ce(s2, _sinkhorn(s1.detach(), True)) + ce(s1, _sinkhorn(s2.detach(), True)))


def test_sinkhorn_transposed_is_caught_with_scores_in_their_range():
    kw = dict(like="swav", input_range=(-1, 1), max_examples=FAST,
              expected_failures={"check_gradient_matches_finite_differences": "the codes carry no gradient (SwAV)"})
    ok = check_loss(swav_scores, **kw)
    assert ok.passed, ok.render()
    assert any("(-1, 1)" in n for n in ok.notes)
    bug = check_loss(swav_transposed, checks=["check_matches_reference_value"], **{**kw, "expected_failures": None})
    assert bug["check_matches_reference_value"].status == "failed"


# ---------------------------------------------------------------- one-batch regulariser (KoLeo, DINOv2)
def koleo(x):
    """KoLeo, Sablayrolles et al. 2019 (arXiv:1806.03198): −mean_i log min_{j≠i} ||x̂_i − x̂_j||, rows normalised."""
    x = F.normalize(x, dim=-1, eps=1e-8)
    d = torch.cdist(x, x) + torch.eye(x.shape[0], dtype=x.dtype) * 1e9
    return -torch.log(d.min(1).values + 1e-8).mean()


def koleo_wrong_axis(x):
    return koleo(x.T)


def test_single_batch_regulariser_and_koleo_on_the_wrong_axis():
    ambiguous = check_loss(koleo, max_examples=FAST, identify_loss=False)  # single and cat:0 both run
    msg = ambiguous["check_preflight"].message
    assert "--views single" in msg and "--views cat:0" in msg, msg
    ok = check_loss(koleo, views="single", family="sample-contrastive", max_examples=FAST, identify_loss=False)
    assert ok.passed, ok.render()
    bug = check_loss(koleo_wrong_axis, views="single", family="sample-contrastive", checks=["check_contrastive_class"],
                     identify_loss=False)
    assert bug["check_contrastive_class"].status == "failed" and "dimension-contrastive" in bug.results[0].message


# ---------------------------------------------------------------- a queue built by --arg (MoCo)
def moco(query, key, queue, temperature=0.2):
    """MoCo (arXiv:1911.05722) Eq. (1): InfoNCE of q against its key and a (D, K) queue of unit columns."""
    q, k = F.normalize(query, dim=1), F.normalize(key, dim=1).detach()
    logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue], 1) / temperature
    return F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long))


def moco_positive_last(query, key, queue, temperature=0.2):
    """Bug: the positive logit appended last while the labels say column 0 (a queue entry is the 'positive')."""
    q, k = F.normalize(query, dim=1), F.normalize(key, dim=1).detach()
    logits = torch.cat([q @ queue, (q * k).sum(1, keepdim=True)], 1) / temperature
    return F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long))


def test_queue_argument_is_built_and_a_misplaced_positive_is_caught():
    missing = check_loss(moco, max_examples=FAST)
    assert [r.check for r in missing.results] == ["check_preflight"] and "--arg queue=" in missing.results[0].message
    kw = dict(teacher="key", args={"queue": "unit(16,D).T"}, max_examples=FAST, identify_loss=False)
    ok = check_loss(moco, **kw)
    assert ok.passed, ok.render()
    bug = check_loss(moco_positive_last, **kw)
    # the loss no longer pulls q towards its key: a query equal to its key is not preferred
    assert bug["check_prefers_own_target"].status == "failed", bug.render()
    assert [r.check for r in bug.failures] == ["check_prefers_own_target"]


# ---------------------------------------------------------------- one diagnosis naming the flag
def per_sample(z1, z2):
    return (F.normalize(z1, dim=1) - F.normalize(z2, dim=1)).square().sum(1) + torch.logsumexp(z1 @ z1.T, 1)


def needs_eps(z, eps):
    return -torch.logdet(torch.eye(z.shape[1], dtype=z.dtype) + torch.cov(z.T) / eps)


def test_vector_result_required_constant_and_two_conventions_each_get_one_diagnosis():
    for fn, flag in ((per_sample, "--reduce mean"), (needs_eps, "--arg eps=VALUE"), (koleo, "--views single")):
        r = check_loss(fn, max_examples=FAST)
        assert [x.check for x in r.results] == ["check_preflight"], r.render()
        assert flag in r.results[0].message, r.results[0].message
    assert check_loss(per_sample, reduce="mean", checks=["check_returns_finite_scalar"]).passed
    r = check_loss(needs_eps, args={"eps": 0.5}, views="single", max_examples=FAST, identify_loss=False)
    assert r.passed, r.render()


def test_constants_are_never_fed_a_view():
    def variance_term(x, eps=1e-4):  # lightly's variance_loss(x, eps): eps must not receive z2
        return F.relu(1 - torch.sqrt(x.var(0) + eps)).mean()

    assert detect_convention(variance_term, views="single") == Convention("single")
    with pytest.raises(InvalidArgument, match="--views single"):  # one tensor: single and cat:0 differ
        detect_convention(variance_term)


def test_collapse_prevented_elsewhere_is_a_declaration_per_variant():
    def covariance_term(z1, z2):  # VICReg's covariance term alone: complete collapse costs nothing
        def off(z):
            c = torch.cov(z.T)
            return (c.square().sum() - c.diagonal().square().sum()) / z.shape[1]
        return off(z1) + off(z2)

    plain = check_loss(covariance_term, checks=["check_prefers_spread"], identify_loss=False)
    assert plain["check_prefers_spread(collapse=complete)"].status == "failed"
    declared = check_loss(covariance_term, checks=["check_prefers_spread"], identify_loss=False,
                          collapse_elsewhere="the variance term prevents collapse")
    assert declared.passed and declared["check_prefers_spread(collapse=complete)"].status == "xfailed"
    assert declared["check_prefers_spread(collapse=dimensional)"].status == "passed"  # not a strict XPASS


# ---------------------------------------------------------------- mixed precision as on the device
def test_cpu_autocast_follows_cuda_op_policy():
    from ssl_props.checker.precision import CudaAutocastPolicy

    x = torch.randn(4, 4)
    with torch.autocast("cpu", dtype=torch.float16):
        y = x @ x
        plain = torch.exp(y).dtype
        with CudaAutocastPolicy():
            y = x @ x  # matmuls stay in float16, as on CUDA
            ops = (torch.exp(y), torch.softmax(y, -1), y ** 2, y.sum(), F.normalize(y), F.log_softmax(y, -1))
    assert y.dtype == torch.float16 and plain == torch.float16  # CPU autocast alone leaves exp in float16
    assert [t.dtype for t in ops] == [torch.float32] * len(ops)


def test_exp_written_out_is_no_float16_failure_on_the_device():
    """exp(sim/τ) at τ = 0.05 overflows float16 (e^20 = 4.9e8), but CUDA autocast runs exp in float32: the
    check follows CUDA's policy, so this correct (if naive) loss passes; a masked_fill(-1e9) on float16 logits
    fails on the device and is caught."""
    def naive(z1, z2):
        z = F.normalize(torch.cat([z1, z2]))
        n = z1.shape[0]
        e = torch.exp(z @ z.T / 0.05) * (1 - torch.eye(2 * n, dtype=z.dtype))
        pos = e[torch.arange(2 * n), torch.cat([torch.arange(n, 2 * n), torch.arange(n)])]
        return -(torch.log(pos / e.sum(1))).mean()

    assert check_loss(naive, checks=["check_mixed_precision"], identify_loss=False).passed

    def masked(z1, z2):
        z = F.normalize(torch.cat([z1, z2]))
        n = z1.shape[0]
        s = (z @ z.T / 0.05).masked_fill(torch.eye(2 * n, dtype=torch.bool), -1e9)
        return F.cross_entropy(s, torch.cat([torch.arange(n, 2 * n), torch.arange(n)]))

    r = check_loss(masked, checks=["check_mixed_precision"], identify_loss=False)
    assert r["check_mixed_precision"].status == "failed" and "overflow" in r.results[0].message


# ---------------------------------------------------------------- identification up to the terms' weights
def test_identification_fits_term_weights_and_refuses_other_terms():
    from ssl_props.checker import identify
    from ssl_props.losses import LOSSES

    vicreg, barlow = LOSSES["vicreg"].fn, LOSSES["barlow_twins"].fn
    # the terms are written here from the VICReg paper (arXiv:2105.04906 Eqs. 1-5), not taken from the registry:
    # invariance mean ||z1 − z2||², variance mean relu(1 − sqrt(var + 1e-4)) per view, covariance off-diag²/d
    def solo_style(z1, z2):
        inv = (z1 - z2).square().sum(1).mean() / z1.shape[1]
        var = sum(F.relu(1 - torch.sqrt(z.var(0) + 1e-4)).mean() for z in (z1, z2))
        cov = 0.0
        for z in (z1, z2):
            c = torch.cov(z.T)
            cov = cov + (c.square().sum() - c.diagonal().square().sum()) / z.shape[1]
        return 25 * inv + 25 * var + 1 * cov  # the variance term summed over the views, not averaged

    matches, _ = identify(solo_style)
    assert {"name": "vicreg", "params": {"mu_param": 50.0}, "factor": 1.0, "fitted": "weights"} in matches, matches
    matches, _ = identify(lambda a, b: 0.5 * barlow(a, b, lambda_param=0.02))
    assert any(m["name"] == "barlow_twins" and m["params"] == {"lambda_param": 0.02} and m["factor"] == 0.5
               for m in matches), matches
    matches, closest = identify(lambda a, b: vicreg(a, b) + 0.3 * (a - b).abs().sum() / a.shape[0])  # an L1 term
    assert not any(m["name"] == "vicreg" for m in matches), matches
    simclr = LOSSES["simclr"].fn  # a temperature off the registry's grid (0.1, 0.5, ...): fitted alone
    matches, _ = identify(lambda a, b: simclr(a, b, temperature=0.3))
    assert {"name": "simclr", "params": {"temperature": 0.3}, "factor": 1.0, "fitted": "temperature"} in matches
    matches, _ = identify(lambda a, b: simclr(a, b, temperature=0.3) + 0.01 * (a - b).abs().mean())
    assert not any(m["name"] == "simclr" for m in matches), matches


# ---------------------------------------------------------------- masks built by --arg (solo-learn's manual SimCLR)
def masked_simclr(z, pos_mask, neg_mask, temperature=0.5):
    """NT-Xent on the views concatenated (2B, D) with explicit boolean masks (solo-learn's manual_simclr form)."""
    z = F.normalize(z, dim=1)
    sim = torch.exp(z @ z.T / temperature)
    pos = (sim * pos_mask).sum(1)
    neg = (sim * neg_mask).sum(1)
    return -torch.log(pos / (pos + neg)).mean()


def test_mask_builders_and_a_mask_with_the_diagonal_is_caught():
    kw = dict(views="cat:0", like="simclr", params={"temperature": 0.5}, max_examples=FAST, identify_loss=False)
    ok = check_loss(masked_simclr, args={"pos_mask": "positives(2)", "neg_mask": "negatives(2)"}, **kw)
    assert ok.passed, ok.render()
    bug = check_loss(masked_simclr, args={"pos_mask": "positives(2)", "neg_mask": "ones(8,8)"},
                     checks=["check_matches_reference_value"], shapes=(4, None), **kw)  # self-similarity a negative
    assert bug["check_matches_reference_value"].status == "failed"


def test_detect_convention_is_the_api_for_other_tools():
    """What the profile uses to feed a loss: detect_convention(fn, dtype=, shapes=) → Convention, then
    convention.call(fn, z1, z2) or convention.call_views(fn, [z_1, …, z_V])."""
    import ssl_props.losses as L

    vicreg = L.LOSSES["vicreg"].fn
    z = [torch.randn(6, 4, dtype=torch.float64) for _ in range(3)]
    for fn, label in ((vicreg, "pair"), (lambda views: vicreg(*views[:2]), "list"), (koleo, None)):
        if label is None:
            conv = detect_convention(fn, views="single")
            assert torch.allclose(conv.call_views(fn, z), sum(koleo(x) for x in z))
            continue
        conv = detect_convention(fn, dtype=torch.float64, shapes=((4, 8), (8, 4)))
        assert conv.label() == label and torch.allclose(conv.call(fn, z[0], z[1]), vicreg(z[0], z[1]))
    with pytest.raises(InvalidArgument, match="--reduce mean"):
        detect_convention(per_sample)


def test_a_loss_drawing_random_slices_is_reported_then_run_with_a_fixed_seed():
    def sliced(x):  # a sliced-Wasserstein distance to N(0, 1), fresh random directions at every call
        s = torch.randn(x.shape[1], 16, dtype=x.dtype)
        p = (x - x.mean(0)) @ (s / s.norm(dim=0))
        q = torch.distributions.Normal(0.0, 1.0).icdf(torch.arange(1, x.shape[0] + 1) / (x.shape[0] + 1.0))
        return (p.sort(0).values - q.to(x.dtype)[:, None]).square().mean()

    random = check_loss(sliced, views="single", identify_loss=False, max_examples=FAST)
    assert [r.check for r in random.results] == ["check_preflight"] and "--fixed-seed" in random.results[0].message
    seeded = check_loss(sliced, views="single", fixed_seed=0, max_examples=FAST, identify_loss=False)
    assert seeded["check_gradient_matches_finite_differences"].status == "passed", seeded.render()
