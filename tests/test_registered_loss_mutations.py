"""Issue 15: loss mutants that only tests/ used to catch now fail a THEOREM check (``pytest theorems/``).

Each test applies one single-point mutant to the registered loss (monkeypatching the module function the
registered loss calls, or the registry entry ``LOSSES[name]``), then runs the registered theorem check that must
refute it; ``pytest theorems/`` runs the same checks on the unmutated losses (they pass there).
"""
from __future__ import annotations

import dataclasses
import importlib

import pytest
import torch
import torch.nn.functional as F

from hypothesis import Phase

from ssl_props import spectral
from ssl_props.losses import _registry
from ssl_props.profiles import temporary_profile
from ssl_props.registry import get_theorem

from .helpers import violation_of

# the modules (``ssl_props.losses`` re-exports functions of the same names as some of them)
bt_mod, contrastive, criteria, vic_mod = (importlib.import_module(f"ssl_props.losses.{m}")
                                          for m in ("barlow_twins", "contrastive", "criteria", "vicreg"))


@pytest.fixture
def first_failure():
    """Derandomised, and stop at the first failing draw (no shrinking, no explain phase): the test only needs the
    check to fail, not the smallest counterexample, and shrinking tensors costs seconds per mutant."""
    with temporary_profile("_first_failure", derandomize=True, database=None,
                           phases=(Phase.explicit, Phase.reuse, Phase.generate)):
        yield


def run_check(theorem_id: str, name: str):
    """The callable of the check ``name`` of a registered theorem (what ``pytest theorems/`` runs)."""
    return next(c for c in get_theorem(theorem_id).checks if c.name == name).run


def _patch_loss(monkeypatch, name: str, fn) -> None:
    monkeypatch.setitem(_registry.LOSSES, name, dataclasses.replace(_registry.LOSSES[name], fn=fn))


# ------------------------------------------------------------------------------------- mutants
def dcl_positive_in_denominator(z1, z2, *, temperature=0.1, gather_distributed=False):
    sim = contrastive._views_similarity(z1, z2) / temperature
    n = z1.shape[0]
    pos = contrastive._positive_index(n, sim.device)
    rows = torch.arange(2 * n)
    neg = torch.logsumexp(sim.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf")), dim=1)  # positive kept
    return (neg - sim[rows, pos]).mean()


def infonce_directions_summed(z1, z2, *, temperature=0.5, symmetric=False, gather_distributed=False):
    logits = F.normalize(z1, dim=-1) @ F.normalize(z2, dim=-1).T / temperature
    labels = torch.arange(z1.shape[0])
    loss = F.cross_entropy(logits, labels)
    return loss + F.cross_entropy(logits.T, labels) if symmetric else loss  # sum, not mean, of the directions


def variance_term_biased(z, eps=1e-4):
    return F.relu(1.0 - torch.sqrt(z.var(dim=-2, unbiased=False) + eps)).mean(-1)


def vicreg_variance_summed(z1, z2, *, lambda_param=25.0, mu_param=25.0, nu_param=1.0, eps=1e-4, gather_distributed=False):
    var = vic_mod.variance_term(z1, eps) + vic_mod.variance_term(z2, eps)  # summed over the views
    cov = vic_mod.covariance_term(z1) + vic_mod.covariance_term(z2)
    return lambda_param * vic_mod.invariance_term(z1, z2) + mu_param * var + nu_param * cov


def standardize_unbiased(z, eps=1e-5):
    return (z - z.mean(dim=-2, keepdim=True)) / torch.sqrt(z.var(dim=-2, keepdim=True) + eps)


def barlow_mean_on_diagonal(z1, z2, *, lambda_param=5e-3, eps=1e-5, gather_distributed=False):
    c = bt_mod.cross_correlation(z1, z2, eps)
    on = (1.0 - c.diagonal(dim1=-2, dim2=-1)).square().mean(-1)  # mean, not sum
    return on + lambda_param * criteria.off_diagonal_sq_sum(c)


def spectral_contrastive_radius_mu(z1, z2, *, mu=None, gather_distributed=False):
    if mu is not None:
        z1, z2 = mu * F.normalize(z1, dim=-1), mu * F.normalize(z2, dim=-1)  # radius μ, not √μ
    n = z1.shape[0]
    cross = z1 @ z2.T
    off = cross.masked_fill(torch.eye(n, dtype=torch.bool), 0)
    return -2.0 * cross.diagonal().mean() + off.square().sum() / (n * (n - 1))


def laplacian_eigenmaps_no_back_transform(g, k):
    d = g.sum(-1)
    n = g.shape[-1]
    s = d.rsqrt()
    norm_lap = s[:, None] * spectral.laplacian(g) * s[None, :]
    root = d.sqrt()[:, None] / d.sum().sqrt()
    q, _ = torch.linalg.qr(torch.cat([root, torch.eye(n, dtype=g.dtype)[:, : n - 1]], 1))
    b = q[:, 1:]
    _, v = torch.linalg.eigh(b.T @ norm_lap @ b)
    return b @ v[:, :k]  # the D^{-1/2} back-transform dropped


def _nt_xent_times_tau(orig):
    def nt_xent(z1, z2, temperature, negative_map):
        return orig(z1, z2, 1.0 / temperature, negative_map)  # logits s·τ instead of s/τ
    return nt_xent


# (theorem id, check name, how to apply the mutant)
MUTANTS = {
    "nt_xent_s_times_tau": ("balestriero2022.claim6", "registered_losses",
                            lambda mp: mp.setattr(contrastive, "_nt_xent", _nt_xent_times_tau(contrastive._nt_xent))),
    "dot_products_not_cosines": ("balestriero2022.claim6", "registered_losses",
                                 lambda mp: mp.setattr(contrastive, "_normalize", lambda z: z)),
    "dcl_positive_in_denominator": ("balestriero2022.claim6", "registered_losses",
                                    lambda mp: _patch_loss(mp, "dcl", dcl_positive_in_denominator)),
    "infonce_directions_summed": ("balestriero2022.claim6", "registered_losses",
                                  lambda mp: _patch_loss(mp, "infonce_cross_view", infonce_directions_summed)),
    "vicreg_variance_biased": ("garrido2023.eq10", "registered_vicreg",
                               lambda mp: mp.setattr(vic_mod, "variance_term", variance_term_biased)),
    "vicreg_variance_summed": ("garrido2023.eq10", "registered_vicreg",
                               lambda mp: _patch_loss(mp, "vicreg", vicreg_variance_summed)),
    "barlow_unbiased_standardisation": ("garrido2023.thm3.3/barlow-twins", "registered_barlow",
                                        lambda mp: mp.setattr(bt_mod, "standardize", standardize_unbiased)),
    "barlow_mean_on_diagonal": ("garrido2023.thm3.3/barlow-twins", "registered_barlow",
                                lambda mp: _patch_loss(mp, "barlow_twins", barlow_mean_on_diagonal)),
    "laplacian_eigenmaps_no_back_transform": ("balestriero2022.claim4", "generalised_eigenproblem",
                                              lambda mp: mp.setattr(spectral, "laplacian_eigenmaps",
                                                                    laplacian_eigenmaps_no_back_transform)),
    "criteria_invariance_mean": ("garrido2023.def3.2", "registered_criteria",
                                 lambda mp: mp.setattr(criteria, "_invariance_sum", lambda a, b: (a - b).square().mean())),
    "spectral_contrastive_radius_mu": ("garrido2023.lem3.4/spectral-contrastive", "registered_radius",
                                       lambda mp: _patch_loss(mp, "spectral_contrastive", spectral_contrastive_radius_mu)),
}


#: the words each check's failure message starts its claim with
SAYS = {"balestriero2022.claim6": "claim6", "garrido2023.eq10": "Eqs. 8-10", "garrido2023.thm3.3/barlow-twins": "Thm 3.3",
        "balestriero2022.claim4": "claim4", "garrido2023.def3.2": "Def. 3.2", "garrido2023.lem3.4/spectral-contrastive": "SCL"}


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_theorem_check_kills_loss_mutant(mutant, monkeypatch, first_failure):
    """The unmutated checks pass in ``pytest theorems/``; with the mutant applied the same check fails."""
    theorem_id, check, apply = MUTANTS[mutant]
    apply(monkeypatch)
    err = violation_of(run_check(theorem_id, check))
    assert SAYS[theorem_id] in str(err), str(err)
