"""A collection of realistic SSL-loss bugs, each re-written from a real report (issue / PR cited).

Each :data:`BUGS` entry names the registered loss the code *meant* to implement (``like``), the check
that must catch it and a word its failure message must contain. Written for this suite (no code is
copied); the slip is the one the cited thread describes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch
import torch.nn.functional as F

from .reference_losses import off_diagonal


def _simclr_logits(z1: torch.Tensor, z2: torch.Tensor, t: float = 0.5, normalize: Callable = F.normalize):
    z = normalize(torch.cat([z1, z2]))
    return z @ z.T / t


def _pos(n: int) -> torch.Tensor:
    return torch.cat([torch.arange(n, 2 * n), torch.arange(n)])


def _masked_ce(s: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(s.masked_fill(torch.eye(s.shape[0], dtype=torch.bool), float("-inf")), pos)


# ------------------------------------------------------------------------------------ SimCLR / NT-Xent

def simclr_no_self_mask(z1, z2):
    """Self-similarity left in the denominator (the diagonal is never masked)."""
    return F.cross_entropy(_simclr_logits(z1, z2), _pos(z1.shape[0]))


def simclr_subtract_exp_one(z1, z2):
    """lightning-bolts #609: the self term removed as exp(1) instead of exp(1/τ)."""
    s = _simclr_logits(z1, z2)
    e = torch.exp(s)
    denom = e.sum(1) - torch.exp(torch.ones(()))  # should be exp(1 / τ)
    return -(s[torch.arange(e.shape[0]), _pos(z1.shape[0])] - torch.log(denom)).mean()


def simclr_temperature_twice(z1, z2):
    """Temperature applied twice: the similarities are divided by τ, then the logits again."""
    return _masked_ce(_simclr_logits(z1, z2) / 0.5, _pos(z1.shape[0]))


def simclr_one_direction(z1, z2):
    """tensorflow/similarity #262: only the (z1 → z2) anchors, not both (i, j) and (j, i)."""
    n = z1.shape[0]
    s = _simclr_logits(z1, z2).masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    return F.cross_entropy(s[:n], torch.arange(n, 2 * n))


def simclr_cross_view_only(z1, z2):
    """Meant as SimCLR but only cross-view negatives: it is (symmetric) InfoNCE instead."""
    logits = F.normalize(z1) @ F.normalize(z2).T / 0.5
    labels = torch.arange(z1.shape[0])
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


def simclr_labels_zero(z1, z2):
    """amazon video-contrastive-learning #5 confusion: MoCo's "positive at column 0" labels on SimCLR logits."""
    s = _simclr_logits(z1, z2).masked_fill(torch.eye(2 * z1.shape[0], dtype=torch.bool), -1e9)
    return F.cross_entropy(s, torch.zeros(s.shape[0], dtype=torch.long))


def simclr_interleaved_positives(z1, z2):
    """Spijkervet/SimCLR #30 / #46: the positive mask built for [a1, b1, a2, b2] on stacked [a..., b...]."""
    n2 = 2 * z1.shape[0]
    return _masked_ce(_simclr_logits(z1, z2), torch.arange(n2) ^ 1)


def simclr_log_of_mean(z1, z2):
    """mpatacchiola/self-supervised-relational-reasoning #3: −log(mean(p)) instead of mean(−log p)."""
    s = _simclr_logits(z1, z2).masked_fill(torch.eye(2 * z1.shape[0], dtype=torch.bool), float("-inf"))
    p = torch.softmax(s, dim=1)[torch.arange(s.shape[0]), _pos(z1.shape[0])]
    return -torch.log(p.mean())


def simclr_sum_reduction(z1, z2):
    """Wrong reduction: reduction="sum" over the 2n anchors instead of the mean."""
    s = _simclr_logits(z1, z2).masked_fill(torch.eye(2 * z1.shape[0], dtype=torch.bool), float("-inf"))
    return F.cross_entropy(s, _pos(z1.shape[0]), reduction="sum")


def simclr_unnormalized(z1, z2):
    """SupContrast #50: embeddings not L2-normalised (dot products, not cosine similarities)."""
    return _masked_ce(_simclr_logits(z1, z2, normalize=lambda z: z), _pos(z1.shape[0]))


def simclr_normalize_wrong_dim(z1, z2):
    """F.normalize(z, dim=0): each feature normalised over the batch instead of each embedding."""
    return _masked_ce(_simclr_logits(z1, z2, normalize=lambda z: F.normalize(z, dim=0)), _pos(z1.shape[0]))


def simclr_normalize_no_eps(z1, z2):
    """optax #946: z / ||z|| without eps: NaN at an all-zero embedding."""
    return _masked_ce(_simclr_logits(z1, z2, normalize=lambda z: z / z.norm(dim=1, keepdim=True)), _pos(z1.shape[0]))


def simclr_detached_negatives(z1, z2):
    """Fromage #33 (single-process form): keys built from a gradient-free gather, so negatives get no gradient."""
    q = F.normalize(torch.cat([z1, z2]))
    k = q.detach()  # torch.distributed.all_gather output carries no gradient
    n2 = q.shape[0]
    s = q @ k.T / 0.5
    pos = (q * q[_pos(n2 // 2)]).sum(1) / 0.5
    s = s.masked_fill(torch.eye(n2, dtype=torch.bool), float("-inf"))
    return (torch.logsumexp(s, dim=1) - pos).mean()


# ------------------------------------------------------------------------------------ DCL

def dcl_positive_in_denominator(z1, z2):
    """amazon-science/sccl #27 (the reverse slip): the positive kept in DCL's denominator: SimCLR at τ = 0.1."""
    return _masked_ce(_simclr_logits(z1, z2, t=0.1), _pos(z1.shape[0]))


def dcl_two_logsumexp(z1, z2):
    """lightly PR #1826: logsumexp(same-view) + logsumexp(cross-view) instead of one logsumexp over both."""
    def one(a, b):
        a, b = F.normalize(a), F.normalize(b)
        n = a.shape[0]
        eye = torch.eye(n, dtype=torch.bool)
        s00 = (a @ a.T / 0.1).masked_fill(eye, float("-inf"))
        s01 = a @ b.T / 0.1
        return (-s01.diagonal() + torch.logsumexp(s00, 1) + torch.logsumexp(s01.masked_fill(eye, float("-inf")), 1)).mean()
    return 0.5 * (one(z1, z2) + one(z2, z1))


# ------------------------------------------------------------------------------------ VICReg

def _vicreg(x, y, *, center=True, eps=1e-4, unbiased=True, var_views="mean", cov="features", hinge="1-std",
            keep_regularisers=True):
    n, d = x.shape
    inv = F.mse_loss(x, y)
    xc, yc = (x - x.mean(0), y - y.mean(0)) if center else (x, y)
    sx = torch.sqrt(x.var(0, unbiased=unbiased) + eps)
    sy = torch.sqrt(y.var(0, unbiased=unbiased) + eps)
    h = (lambda s: F.relu(1 - s)) if hinge == "1-std" else (lambda s: F.relu(s - 1))
    var = h(sx).mean() + h(sy).mean()
    var = var / 2 if var_views == "mean" else var
    if cov == "features":
        cx, cy = xc.T @ xc / (n - 1), yc.T @ yc / (n - 1)
    else:  # "samples": facebookresearch/vicreg #25's suggestion x @ x.T
        cx, cy = xc @ xc.T / (n - 1), yc @ yc.T / (n - 1)
    cl = off_diagonal(cx).pow(2).sum() / d + off_diagonal(cy).pow(2).sum() / d
    return 25 * inv + (25 * var + cl if keep_regularisers else 0 * var)


def vicreg_uncentred_cov(z1, z2):
    """pytorch-metric-learning #467: covariance as emb.T @ emb / (N − 1), without centring."""
    return _vicreg(z1, z2, center=False)


def vicreg_no_eps(z1, z2):
    """std = sqrt(var) without the 1e-4: infinite gradient at a constant feature (collapse)."""
    return _vicreg(z1, z2, eps=0.0)


def vicreg_biased_variance(z1, z2):
    """Biased (N) variance in the std hinge where the official code uses unbiased (N − 1)."""
    return _vicreg(z1, z2, unbiased=False)


def vicreg_summed_variance(z1, z2):
    """solo-learn convention vs official (facebookresearch/vicreg #8, #26): variance terms summed, not averaged."""
    return _vicreg(z1, z2, var_views="sum")


def vicreg_sample_gram(z1, z2):
    """facebookresearch/vicreg #25: "should it be x @ x.T?": an N×N sample Gram matrix as covariance."""
    return _vicreg(z1, z2, cov="samples")


def vicreg_flipped_hinge(z1, z2):
    """Sign slip in the variance hinge: relu(std − 1) penalises spread instead of collapse."""
    return _vicreg(z1, z2, hinge="std-1")


def vicreg_overwritten_terms(z1, z2):
    """facebookresearch/VICRegL #6: the regularisers overwritten instead of accumulated: invariance only."""
    return _vicreg(z1, z2, keep_regularisers=False)


def vicreg_inplace_centering(z1, z2):
    """Centring the caller's tensors in place (z.sub_(mean)): corrupts the activations autograd saved."""
    z1.sub_(z1.mean(0))
    z2.sub_(z2.mean(0))
    return _vicreg(z1, z2)


# ------------------------------------------------------------------------------------ Barlow Twins

def _barlow(za, zb, *, joint=False, unbiased=False, lam=5e-3, lam_on_all=False, off_power=2):
    n = za.shape[0]
    if joint:  # lightly #1806: statistics of both views mixed
        both = F.batch_norm(torch.cat([za, zb]), None, None, training=True, eps=1e-5)
        a, b = both[:n], both[n:]
    elif unbiased:
        a = (za - za.mean(0)) / torch.sqrt(za.var(0) + 1e-5)
        b = (zb - zb.mean(0)) / torch.sqrt(zb.var(0) + 1e-5)
    else:
        a = F.batch_norm(za, None, None, training=True, eps=1e-5)
        b = F.batch_norm(zb, None, None, training=True, eps=1e-5)
    c = a.T @ b / n
    on = (torch.diagonal(c) - 1).pow(2).sum()
    off = off_diagonal(c).abs().pow(off_power).sum()
    return on + (1.0 if lam_on_all else lam) * off


def barlow_joint_batchnorm(za, zb):
    """lightly PR #1806: both views batch-normalised together (statistics of the two views mixed)."""
    return _barlow(za, zb, joint=True)


def barlow_unbiased_std(za, zb):
    """Unbiased (N − 1) std where BatchNorm (and the reference) use the biased one."""
    return _barlow(za, zb, unbiased=True)


def barlow_lambda_ignored(za, zb):
    """IgorSusmelj/barlowtwins PR #1: the off-diagonal sum not multiplied by lambda."""
    return _barlow(za, zb, lam_on_all=True)


def barlow_off_diagonal_fourth_power(za, zb):
    """facebookresearch/barlowtwins #50's suspicion: squaring twice, |C_ij|⁴ off the diagonal."""
    return _barlow(za, zb, off_power=4)


# ------------------------------------------------------------------------------------ predictor losses and API

def simsiam_no_stop_gradient(p, z):
    """PatrickHua/SimSiam #39, lightly #559: the target z is not detached."""
    return -F.cosine_similarity(p, z, dim=-1).mean()


def byol_unnormalized(p, z):
    """BYOL's MSE on raw (un-normalised) vectors."""
    return (p - z.detach()).pow(2).sum(-1).mean()


def spectral_wrong_normaliser(z1, z2):
    """Off-diagonal mean over n² instead of n(n − 1) pairs."""
    n = z1.shape[0]
    cross = z1 @ z2.T
    return -2 * cross.diagonal().mean() + (cross.square().sum() - cross.diagonal().square().sum()) / (n * n)


def returns_per_sample(z1, z2):
    """reduction="none": a vector of per-anchor losses."""
    s = _simclr_logits(z1, z2).masked_fill(torch.eye(2 * z1.shape[0], dtype=torch.bool), float("-inf"))
    return F.cross_entropy(s, _pos(z1.shape[0]), reduction="none")


def returns_python_float(z1, z2):
    """The loss returned as loss.item(): no gradient can flow."""
    return _masked_ce(_simclr_logits(z1, z2), _pos(z1.shape[0])).item()


def returns_detached(z1, z2):
    """lightly PR #1826's torch.tensor(...) wrap: a new leaf tensor, detached from the inputs."""
    return torch.tensor(_masked_ce(_simclr_logits(z1, z2), _pos(z1.shape[0])).item(), dtype=z1.dtype)


def float32_inside(z1, z2):
    """A hard-coded .float() (mixed-precision habit): float64 inputs, float32 loss."""
    return _masked_ce(_simclr_logits(z1.float(), z2.float()), _pos(z1.shape[0]))


def simclr_exp_overflow(z1, z2):
    """The self-similarities masked with -1e9 (τ = 0.05): under CUDA autocast the logits (a matmul) are float16,
    whose max is 65504, and masked_fill raises "value cannot be converted to type Half without overflow".
    (exp(1/τ) itself is no float16 overflow on a GPU: CUDA autocast runs exp in float32.)"""
    n = z1.shape[0]
    s = _simclr_logits(z1, z2, t=0.05).masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z1.device), -1e9)
    return F.cross_entropy(s, _pos(n).to(z1.device))


@dataclass(frozen=True)
class Bug:
    """One collected bug: the code, what it meant to be, and the check that must catch it."""

    fn: Callable[..., Any]
    like: str | None
    caught_by: str  # check id (prefix) that must fail
    says: str  # a word the failure message must contain
    params: dict[str, Any] = field(default_factory=dict)
    status: str = "failed"  # "warning": a failure on inputs outside the formula's domain (SEVERITY_RULE)


BUGS = (
    Bug(simclr_no_self_mask, "simclr", "check_matches_reference_value", "differs"),
    Bug(simclr_subtract_exp_one, "simclr", "check_matches_reference_value", "differs"),
    Bug(simclr_temperature_twice, "simclr", "check_matches_reference_value", "differs"),
    Bug(simclr_one_direction, "simclr", "check_view_symmetry", "direction"),
    Bug(simclr_cross_view_only, "simclr", "check_matches_reference_value", "infonce_cross_view"),
    Bug(simclr_labels_zero, "simclr", "check_batch_permutation_invariance", "permutation"),
    Bug(simclr_interleaved_positives, "simclr", "check_batch_permutation_invariance", "interleaved"),
    Bug(simclr_log_of_mean, "simclr", "check_matches_reference_value", "differs"),
    Bug(simclr_sum_reduction, "simclr", "check_matches_reference_value", "summed over the batch"),
    Bug(simclr_unnormalized, "simclr", "check_declared_invariance(invariance=positive_scale)", "normalised"),
    Bug(simclr_normalize_wrong_dim, "simclr", "check_declared_invariance(invariance=embedding_rotation)", "coordinates"),
    Bug(simclr_normalize_no_eps, "simclr", "check_finite_gradients(kind=zero_rows)", "eps", status="warning"),
    Bug(simclr_exp_overflow, "simclr", "check_mixed_precision", "overflow", {"temperature": 0.05}),
    Bug(simclr_detached_negatives, "simclr", "check_gradient_matches_finite_differences", "without gradient"),
    Bug(dcl_positive_in_denominator, "dcl", "check_matches_reference_value", "simclr(temperature=0.1)"),
    Bug(dcl_two_logsumexp, "dcl", "check_matches_reference_value", "differs"),
    Bug(vicreg_uncentred_cov, "vicreg", "check_shares_reference_symmetries", "centred"),
    Bug(vicreg_no_eps, "vicreg", "check_finite_gradients(kind=collapsed)", "eps"),
    Bug(vicreg_biased_variance, "vicreg", "check_matches_reference_value", "differs"),
    Bug(vicreg_summed_variance, "vicreg", "check_matches_reference_value", "differs"),
    Bug(vicreg_sample_gram, "vicreg", "check_contrastive_class", "z @ z.T"),
    Bug(vicreg_flipped_hinge, "vicreg", "check_collapse_not_minimum", "minimum"),
    Bug(vicreg_overwritten_terms, "vicreg", "check_prefers_spread(collapse=complete)", "does not penalise"),
    Bug(vicreg_inplace_centering, "vicreg", "check_inputs_not_modified", "in place"),
    Bug(barlow_joint_batchnorm, "barlow_twins", "check_shares_reference_symmetries", "view_translation"),
    Bug(barlow_unbiased_std, "barlow_twins", "check_matches_reference_value", "differs"),
    Bug(barlow_lambda_ignored, "barlow_twins", "check_matches_reference_value", "differs"),
    Bug(barlow_off_diagonal_fourth_power, "barlow_twins", "check_matches_reference_value", "differs"),
    Bug(simsiam_no_stop_gradient, "simsiam", "check_stop_gradient", "stop-gradient"),
    Bug(byol_unnormalized, "byol", "check_declared_invariance(invariance=positive_scale)", "normalised"),
    Bug(spectral_wrong_normaliser, "spectral_contrastive", "check_matches_reference_value", "differs"),
    Bug(returns_per_sample, None, "check_returns_finite_scalar", "reduction"),
    Bug(returns_python_float, None, "check_returns_finite_scalar", "item"),
    Bug(returns_detached, None, "check_has_gradient", "detached"),
    Bug(float32_inside, None, "check_returns_finite_scalar", "float32"),
)
