"""Mutants of the registered losses that theorems/ never called before garrido2023.remark-registry-families: each one
breaks the symmetry of its declared family (or a declared invariance), and the record's numeric check refutes it."""
from __future__ import annotations

import importlib

import pytest
import torch
import torch.nn.functional as F

from ssl_props.losses import LOSSES
from ssl_props.papers.garrido2023 import registry_families as rf

from .helpers import violation_of
from .test_registered_loss_mutations import _patch_loss, first_failure  # noqa: F401  (the house fixture)

cr, contrastive, hyper, vic, white, reg, queue_mod, supervised = (
    importlib.import_module(f"ssl_props.losses.{m}")
    for m in ("coding_rate", "contrastive", "hypersphere", "vicreg", "whitening", "regularisers", "queue", "supervised"))
_QUEUE_LOGITS = queue_mod.queue_logits
_SUPCON = supervised.supcon


def emp_ssl_cos_dim0(z1, z2, *, tcr_eps=0.2, inv_coef=200.0, gather_distributed=False):
    z = torch.stack([z1, z2])
    inv = -F.cosine_similarity(z, z.mean(0, keepdim=True), dim=0).mean()  # over the views axis, not the features
    return -cr.coding_rate(z, tcr_eps).mean() + inv_coef * inv


def mmcr_centroids_over_dims(z1, z2, *, lmda=5e-3, gather_distributed=False):
    manifolds = torch.stack([z1, z2], dim=1)
    centroids = manifolds.mean(-1)  # (n, 2): over the features, not the views
    return -torch.linalg.svdvals(centroids).sum() + lmda * torch.linalg.svdvals(manifolds).sum() / z1.shape[0]


def align_uniform_transposed(z1, z2, *, t=1.0, lam=1.0, alpha=2.0, gather_distributed=False):
    x, y = F.normalize(z1, dim=-1), F.normalize(z2, dim=-1)
    return hyper.alignment(x, y, alpha) + lam * (hyper.uniformity(x.T, t) + hyper.uniformity(y.T, t)) / 2


def tico_batch_normalised(z1, z2, *, beta=0.9, rho=8.0, covariance=None, gather_distributed=False):
    a, b = F.normalize(z1, dim=0), F.normalize(z2, dim=0)  # over the batch axis, not the features
    c = (1 - beta) * (a.T @ a) / a.shape[0]
    return 1.0 - (a * b).sum(-1).mean() + rho * ((a @ c) * a).sum(-1).mean()


def vmf_weights_per_feature(z1, z2, sigma):
    """Softmax over the batch of the per-feature products ẑ1 ⊙ ẑ2 (n, d), averaged over features, instead of the softmax
    of the cosines: still Σ_i w_i = 2n − n·1 = n (mean 1), so only a symmetry sees it."""
    s = F.normalize(z1, dim=-1) * F.normalize(z2, dim=-1) / sigma
    return 2.0 - z1.shape[0] * torch.softmax(s, dim=0).mean(-1)


def vicreg_exp_cov_over_samples(z1, z2, *, lambda_param=25.0, mu_param=25.0, nu_param=1.0, tau=0.5, eps=1e-4,
                                gather_distributed=False):
    def c_exp(z):  # the n × n covariance of the samples (centred over features), not the d × d one
        zc = z - z.mean(-1, keepdim=True)
        c = (zc @ zc.T / (z.shape[-1] - 1) / tau).masked_fill(torch.eye(z.shape[0], dtype=torch.bool), float("-inf"))
        return torch.logsumexp(c, -1).sum() / z.shape[0]
    var = 0.5 * (vic.variance_term(z1, eps) + vic.variance_term(z2, eps))
    return lambda_param * vic.invariance_term(z1, z2) + mu_param * var + nu_param * (c_exp(z1) + c_exp(z2))


def wmse_rotation_equivariant(z1, z2, *, eps=0.0, gather_distributed=False):
    """Symmetric (ZCA-like) whitening through the Gram matrix: cosines of rows of z̃ (z̃ᵀz̃)^{-1/2}; by the SVD
    z̃ = A S Bᵀ this is A Bᵀ, rotation-equivariant, so the loss is sample-contrastive, not 'other'."""
    def w(z):
        zc = z - z.mean(0, keepdim=True)
        u, _, vh = torch.linalg.svd(zc, full_matrices=False)
        return u @ vh
    return 2.0 - 2.0 * F.cosine_similarity(w(z1), w(z2), dim=-1).mean()


def simclr_rolled_second_view(z1, z2, *, temperature=0.5, gather_distributed=False):
    return contrastive._nt_xent(z1, torch.roll(z2, 1, 0), temperature, None)  # positives of z1_i: z2_(i−1)


def align_uniform_first_view(z1, z2, *, t=1.0, lam=1.0, alpha=2.0, gather_distributed=False):
    x, y = F.normalize(z1, dim=-1), F.normalize(z2, dim=-1)
    return hyper.alignment(x, y, alpha) + lam * hyper.uniformity(x, t)  # uniformity of the first view only


def koleo_normalised_over_batch(z, eps):
    """KoLeo with each feature normalised over the batch instead of each row: not a function of the Gram matrix."""
    x = F.normalize(z, dim=0, eps=eps)
    cos = (x @ x.T).masked_fill(torch.eye(x.shape[0], dtype=torch.bool), -3.0)
    return -torch.log(torch.linalg.vector_norm(x - x[cos.argmax(-1)], dim=-1) + eps).mean()


def _rolled_logits(q, k, qu):
    """MoCo whose positive of q_i is k_(i−1): a joint batch permutation moves it."""
    return _QUEUE_LOGITS(q, torch.roll(k, 1, 0), qu)


def _queue_unrotated(q, k, qu):
    """MoCo whose queue is standardised per feature before use: no longer rotates with the views."""
    from ssl_props.losses.barlow_twins import standardize
    return _QUEUE_LOGITS(q, k, None if qu is None else standardize(qu))


def _supcon_standardised(z1, z2, *, labels=None, temperature=0.1, gather_distributed=False):
    """SupCon on per-feature standardised views: with labels held fixed it reads the covariance's diagonal too."""
    from ssl_props.losses.barlow_twins import standardize
    return _SUPCON(standardize(z1), standardize(z2), labels=labels, temperature=temperature)


# (loss, how to apply the mutant, check that must fail, words its message must contain)
MUTANTS = {
    "emp_ssl_cos_dim0": ("emp_ssl", lambda mp: _patch_loss(mp, "emp_ssl", emp_ssl_cos_dim0), "fingerprint"),
    "mmcr_centroids_over_dims": ("mmcr", lambda mp: _patch_loss(mp, "mmcr", mmcr_centroids_over_dims), "fingerprint"),
    "align_uniform_transposed": ("align_uniform", lambda mp: _patch_loss(mp, "align_uniform", align_uniform_transposed),
                                 "fingerprint"),
    "tico_batch_normalised": ("tico", lambda mp: _patch_loss(mp, "tico", tico_batch_normalised), "fingerprint"),
    "dclw_weights_per_feature": ("dclw", lambda mp: mp.setattr(contrastive, "von_mises_fisher_weights",
                                                               vmf_weights_per_feature), "fingerprint"),
    "vicreg_exp_cov_over_samples": ("vicreg_exp", lambda mp: _patch_loss(mp, "vicreg_exp", vicreg_exp_cov_over_samples),
                                    "fingerprint"),
    "wmse_rotation_equivariant": ("wmse", lambda mp: _patch_loss(mp, "wmse", wmse_rotation_equivariant), "fingerprint"),
    "whiten_uncentred": ("wmse", lambda mp: mp.setattr(white, "whiten", lambda z, eps=0.0: z), "fingerprint"),
    "simclr_rolled_second_view": ("simclr", lambda mp: _patch_loss(mp, "simclr", simclr_rolled_second_view), "basics"),
    "align_uniform_first_view": ("align_uniform", lambda mp: _patch_loss(mp, "align_uniform", align_uniform_first_view),
                                 "basics"),
    # issue 21's shapes, in their pair forms
    "koleo_normalised_over_batch": ("koleo", lambda mp: mp.setattr(reg, "_koleo", koleo_normalised_over_batch),
                                    "fingerprint"),
    "moco_rolled_keys": ("moco", lambda mp: mp.setattr(queue_mod, "queue_logits", _rolled_logits), "basics"),
    "moco_queue_standardised": ("moco", lambda mp: mp.setattr(queue_mod, "queue_logits", _queue_unrotated), "fingerprint"),
    "supcon_labels_standardised": ("supcon", lambda mp: _patch_loss(mp, "supcon", _supcon_standardised), "fingerprint"),
}
CHECKS = {"fingerprint": (rf.numeric_registry_families, "Def. 3.2 on the registry"),
          "basics": (rf.numeric_registry_basics, "registry basics")}


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_check_kills_mutant(mutant, monkeypatch, first_failure):  # noqa: F811
    loss, apply, check = MUTANTS[mutant]
    apply(monkeypatch)
    run, says = CHECKS[check]
    err = str(violation_of(run))
    assert says in err and f"{loss}(" in err, err


def test_declaration_disagreeing_with_family_is_reported(monkeypatch, first_failure):  # noqa: F811
    """A loss declaring mixing invariance but family 'other' is refuted before any drawing of its fingerprint."""
    import dataclasses

    monkeypatch.setitem(LOSSES, "wmse", dataclasses.replace(LOSSES["wmse"],
                                                            invariances=LOSSES["wmse"].invariances | {"sample_mixing"}))
    err = str(violation_of(rf.numeric_registry_families))
    assert "wmse declares family 'other'" in err, err


def test_every_covered_loss_has_a_declared_fingerprint():
    got = {name: rf.declared_symmetry(info) for name, info in rf.covered().items()}
    assert {"emp_ssl", "mmcr", "dclw", "align_uniform", "wmse", "tico", "vicreg_exp", "vicreg_ctr"} <= set(got)
    assert got["wmse"] == "neither" and got["vicreg_exp"] == "dimension-contrastive" and got["mmcr"] == "sample-contrastive"


def test_issue21_shapes_are_covered_with_their_fingerprints():
    """The new shapes run in their pair forms: sample-contrastive where Definition 3.2 applies (KoLeo, SupCon,
    MoCo), ``neither`` where it classifies nothing (DINO and SwAV on logits / scores, SIGReg and LeJEPA at fixed
    slices)."""
    got = {name: rf.declared_symmetry(info) for name, info in rf.covered().items()}
    assert {n: got[n] for n in ("koleo", "supcon", "moco", "moco_v3")} == dict.fromkeys(
        ("koleo", "supcon", "moco", "moco_v3"), "sample-contrastive")
    assert {n: got[n] for n in ("dino", "swav", "sigreg", "lejepa")} == dict.fromkeys(
        ("dino", "swav", "sigreg", "lejepa"), "neither")
