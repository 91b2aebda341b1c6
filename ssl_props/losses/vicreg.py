"""VICReg and the two variants of Garrido et al. (2023): VICReg-exp and VICReg-ctr.

Each term is a pure function of ``(n, d)`` embeddings so that theorems can target it.

References:
    [0] VICReg, Bardes, Ponce, LeCun, 2022, arXiv:2105.04906 (official code facebookresearch/vicreg)
    [1] Garrido et al., 2023, arXiv:2206.02574, eqs. 10-13 (VICReg-exp, VICReg-ctr)
    [2] lightly 1.6.0 ``VICRegLoss`` (variance averaged over the two views, covariance summed)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ssl_props._validation import InvalidArgument, check_pair, check_positive
from ssl_props.distributed import gather_pair
from ssl_props.losses._registry import register_loss
from ssl_props.losses.criteria import off_diagonal_sq_sum


def invariance_term(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """``mean_{i,k} (z1_ik − z2_ik)²`` (``F.mse_loss``: mean over the n·d entries)."""
    return F.mse_loss(z1, z2)


def variance_term(z: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """``(1/d) Σ_k max(0, 1 − sqrt(Var_i(z_ik) + eps))``, unbiased variance (divides by n − 1)."""
    std = torch.sqrt(z.var(dim=-2) + eps)
    return F.relu(1.0 - std).mean(-1)


def covariance_matrix(z: torch.Tensor) -> torch.Tensor:
    """Centred covariance ``C = z̃ᵀ z̃ / (n − 1)``, ``z̃ = z − mean_i z_i``; shape ``(..., d, d)``."""
    zc = z - z.mean(dim=-2, keepdim=True)
    return zc.transpose(-2, -1) @ zc / (z.shape[-2] - 1)


def covariance_term(z: torch.Tensor) -> torch.Tensor:
    """``(1/d) Σ_{k≠l} C_kl²``: off-diagonal squared covariances over the dimension d."""
    return off_diagonal_sq_sum(covariance_matrix(z)) / z.shape[-1]


def exp_covariance_term(z: torch.Tensor, tau: float) -> torch.Tensor:
    """Garrido et al. eq. 11: ``c_exp = (1/d) Σ_k log Σ_{l≠k} exp(C_kl / τ)`` (signed covariances)."""
    c = covariance_matrix(z) / tau
    d = c.shape[-1]
    c = c.masked_fill(torch.eye(d, dtype=torch.bool, device=c.device), float("-inf"))
    return torch.logsumexp(c, dim=-1).sum(-1) / d


@register_loss("vicreg", family="dimension-contrastive",
               invariances=("batch_permutation", "view_swap", "feature_permutation", "sample_mixing"),
               reference="[0] [2]", param_grid={"lambda_param": (25.0, 1.0), "mu_param": (25.0, 1.0), "nu_param": (1.0, 0.04)})
def vicreg(z1: torch.Tensor, z2: torch.Tensor, *, lambda_param: float = 25.0, mu_param: float = 25.0,
           nu_param: float = 1.0, eps: float = 1e-4, gather_distributed: bool = False) -> torch.Tensor:
    r"""VICReg (official code and lightly conventions).

    .. math:: L = \lambda\,\mathrm{mse}(z_1,z_2) + \mu\,\tfrac12\big(v(z_1)+v(z_2)\big) + \nu\big(c(z_1)+c(z_2)\big)

    with ``v`` the hinge on the std (:func:`variance_term`) and ``c`` the centred covariance penalty
    (:func:`covariance_term`). Needs n ≥ 2 (unbiased variance).
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2, min_rows=2)
    check_positive(eps, "eps")
    inv = invariance_term(z1, z2)
    var = 0.5 * (variance_term(z1, eps) + variance_term(z2, eps))
    cov = covariance_term(z1) + covariance_term(z2)
    return lambda_param * inv + mu_param * var + nu_param * cov


def _needs_two_columns(z: torch.Tensor, name: str, why: str) -> None:
    if z.shape[-1] < 2:
        raise InvalidArgument(f"{name} needs embeddings of dim >= 2 ({why}), got dim={z.shape[-1]}")


@register_loss("vicreg_exp", family="dimension-contrastive",
               invariances=("batch_permutation", "view_swap", "feature_permutation", "sample_mixing"),
               reference="[1]", param_grid={"tau": (0.1, 0.5, 1.0)})
def vicreg_exp(z1: torch.Tensor, z2: torch.Tensor, *, lambda_param: float = 25.0, mu_param: float = 25.0,
               nu_param: float = 1.0, tau: float = 0.5, eps: float = 1e-4, gather_distributed: bool = False) -> torch.Tensor:
    r"""VICReg-exp (Garrido et al. eq. 12): VICReg with the covariance penalty replaced by ``c_exp``.

    .. math:: L = \lambda\,\mathrm{mse} + \mu\,\tfrac12(v(z_1)+v(z_2)) + \nu(c_{exp}(z_1)+c_{exp}(z_2))

    τ = 0.5 is a third-party default (the paper's Table S6 was not at hand): pass it explicitly.
    Needs d ≥ 2 (at d = 1 the sum over l ≠ k is empty and ``c_exp = log 0 = −∞`` at every point). With the signed
    covariances of eq. 11 the loss is unbounded below (remark ``garrido2023.eq13/unbounded``): it has no minimiser.
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2, min_rows=2)
    _needs_two_columns(z1, "vicreg_exp", "its covariance LogSumExp runs over the other dimensions")
    t = check_positive(tau, "tau")
    inv = invariance_term(z1, z2)
    var = 0.5 * (variance_term(z1, eps) + variance_term(z2, eps))
    return lambda_param * inv + mu_param * var + nu_param * (exp_covariance_term(z1, t) + exp_covariance_term(z2, t))


@register_loss("vicreg_ctr", family="sample-contrastive",
               invariances=("batch_permutation", "view_swap", "feature_permutation", "centred_embedding_rotation"),
               reference="[1]", param_grid={"tau": (0.1, 0.5, 1.0)})
def vicreg_ctr(z1: torch.Tensor, z2: torch.Tensor, *, lambda_param: float = 25.0, mu_param: float = 25.0,
               nu_param: float = 1.0, tau: float = 0.5, eps: float = 1e-4, gather_distributed: bool = False) -> torch.Tensor:
    r"""VICReg-ctr (Garrido et al. eq. 13): VICReg-exp's regularisers applied to the transposed embeddings.

    .. math:: L = \lambda\,\mathrm{mse} + \mu\,\tfrac12(v(z_1^T)+v(z_2^T)) + \nu(c_{exp}(z_1^T)+c_{exp}(z_2^T))

    ``v(zᵀ)`` hinges each embedding's spread over its d dimensions and ``c_exp(zᵀ)`` is a LogSumExp over
    the n×n centred sample similarities, the positive excluded: DCL's repulsion. Pinned choice (the
    paper's pseudocode was not at hand): centring over dimensions, unbiased (d − 1), ``1/n`` in front.
    Needs d ≥ 2. Unbounded below, as VICReg-exp (remark ``garrido2023.eq13/unbounded``).
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)  # grad-carrying all_gather
    z1, z2 = check_pair(z1, z2, min_rows=2)
    _needs_two_columns(z1, "vicreg_ctr", "it centres over dimensions")
    t = check_positive(tau, "tau")
    a, b = z1.T, z2.T
    inv = invariance_term(z1, z2)
    var = 0.5 * (variance_term(a, eps) + variance_term(b, eps))
    return lambda_param * inv + mu_param * var + nu_param * (exp_covariance_term(a, t) + exp_covariance_term(b, t))
