"""Single-batch regularisers: KoLeo (DINOv2) and SIGReg (LeJEPA), each applied per view; and the LeJEPA loss.

Legend: n = batch size, d = embedding dim, M = number of random slices, T = number of frequency knots.

KoLeo [0] (the Kozachenko-Leonenko differential-entropy estimator, as DINOv2 [1] uses it on each global crop's
class token): on ℓ2-normalised rows x_i,

.. math:: \\mathcal L_{\\rm KoLeo}(x) = -\\frac1n \\sum_i \\log(\\rho_i + \\epsilon), \\qquad
          \\rho_i = \\min_{j \\ne i} \\lVert x_i - x_j \\rVert_2 .

SIGReg [2] (Sketched Isotropic Gaussian Regularisation): for M unit directions a_m (Gaussian, normalised), the
Epps-Pulley statistic of each 1-D projection against N(0, 1), averaged over the slices,

.. math:: \\mathrm{SIGReg}(z) = \\frac1M \\sum_m n \\int_{-t_{\\max}}^{t_{\\max}}
          \\bigl|\\hat\\varphi_m(t) - e^{-t^2/2}\\bigr|^2 e^{-t^2/2}\\, dt, \\qquad
          \\hat\\varphi_m(t) = \\frac1n \\sum_i e^{\\mathrm i t\\, z_i^\\top a_m},

integrated by the trapezoidal rule on T = 17 knots of [0, t_max = 3] with doubled weights (the integrand is
even). Provenance: this form is read from the authors' reference code (github.com/rbalestr-lab/lejepa,
``MINIMAL.md`` and ``lejepa/univariate/epps_pulley.py``: weight ``w(t) = e^{−t²/2}``, statistic ``× n``,
mean over slices and views) and agrees with lightly 1.6.0's ``SIGReg``; the equations of the paper's PDF were not
read here. LeJEPA's loss is ``λ·SIGReg + (1 − λ)·inv``, ``inv`` the mean squared distance of every view to the
views' mean (λ = 0.05 in the reference code).

References:
    [0] Sablayrolles, Douze, Schmid, Jégou, 2018, "Spreading vectors for similarity search", arXiv:1806.03198
    [1] DINOv2, Oquab et al., 2023, arXiv:2304.07193 (KoLeo on each global crop, ``dinov2/loss/koleo_loss.py``)
    [2] LeJEPA, Balestriero & LeCun, 2025, arXiv:2511.08544 (SIGReg; reference code rbalestr-lab/lejepa)
    [3] lightly 1.6.0 ``KoLeoLoss``, ``SIGReg``, ``LeJEPALoss``
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ssl_props._validation import check_embeddings, check_pair, check_positive, describe
from ssl_props.distributed import gather_pair
from ssl_props.errors import InvalidArgument
from ssl_props.losses._registry import register_loss

_KOLEO_INV = ("batch_permutation", "view_swap", "embedding_rotation", "feature_permutation", "positive_scale")


def koleo_batch(z: torch.Tensor, *, eps: float = 1e-8) -> torch.Tensor:
    """KoLeo of one ``(n, d)`` batch (n ≥ 2): ``−mean_i log(ρ_i + ε)``, ρ_i the distance of the normalised row i
    to its nearest other row. The neighbour is chosen by the largest cosine (no gradient through the choice;
    the distance to it carries the gradient, as in [1])."""
    return _koleo(check_embeddings(z, "z", min_rows=2), check_positive(eps, "eps"))


def _koleo(z: torch.Tensor, eps: float) -> torch.Tensor:
    x = F.normalize(z, dim=-1, eps=eps)
    cos = (x @ x.T).masked_fill(torch.eye(x.shape[0], dtype=torch.bool, device=x.device), -3.0)
    nearest = cos.argmax(dim=-1)  # (n,)
    rho = torch.linalg.vector_norm(x - x[nearest], dim=-1)
    return -torch.log(rho + eps).mean()


@register_loss("koleo", family="sample-contrastive", invariances=_KOLEO_INV, reference="[0] [1] [3]",
               shape="single-batch", forms={"single": koleo_batch}, param_grid={"eps": (1e-8,)})
def koleo(z1: torch.Tensor, z2: torch.Tensor, *, eps: float = 1e-8, gather_distributed: bool = False) -> torch.Tensor:
    r"""KoLeo on each view, summed as DINOv2 sums it over its two global crops:
    ``koleo_batch(z1) + koleo_batch(z2)`` (DINOv2 then weights it by 0.1).

    .. math:: \ell = -\frac1n\sum_i \log(\rho^{(1)}_i + \epsilon) - \frac1n\sum_i \log(\rho^{(2)}_i + \epsilon)

    A regulariser, not a loss on its own: it only spreads each view (no term pairs z1_i with z2_i). A function
    of each view's Gram matrix of normalised rows: sample-contrastive in Definition 3.2's sense. DINOv2 computes
    it per GPU; ``gather_distributed=True`` computes it on the global batch instead.

    >>> e = torch.eye(3, dtype=torch.float64)
    >>> round(float(koleo(e, e)), 4)  # neighbours at distance √2: −2 log √2
    -0.6931
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)
    z1, z2 = check_pair(z1, z2, min_rows=2)
    eps = check_positive(eps, "eps")
    return _koleo(z1, eps) + _koleo(z2, eps)


def _check_int(value: object, name: str, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise InvalidArgument(f"{name} must be an int >= {lo}, got {name}={value!r}")
    return value


def sigreg_directions(dim: int, num_slices: int, *, seed: int = 0, dtype: torch.dtype = torch.float64,
                      device: str | torch.device = "cpu") -> torch.Tensor:
    """``(dim, num_slices)`` unit columns ``a_m = g_m/‖g_m‖``, ``g_m ~ N(0, I)`` from NumPy's PCG64 seeded with
    ``seed`` (the same directions on every device and every rank; not a torch random op, so the loss runs
    under ``torch.func.vmap`` without a randomness flag)."""
    _check_int(dim, "dim", 1), _check_int(num_slices, "num_slices", 1)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidArgument(f"seed must be an int >= 0, got seed={seed!r}")
    g = torch.from_numpy(np.random.default_rng(seed).standard_normal((dim, num_slices))).to(dtype)
    return (g / torch.linalg.vector_norm(g, dim=0, keepdim=True)).to(device)


def epps_pulley(x: torch.Tensor, *, knots: int = 17, t_max: float = 3.0) -> torch.Tensor:
    """Epps-Pulley statistic of each column of ``x`` (``(..., n, M)``) against N(0, 1): ``(..., M)``.

    ``n ∫_{−t_max}^{t_max} |φ̂(t) − e^{−t²/2}|² e^{−t²/2} dt`` with the trapezoidal rule on ``knots`` points of
    [0, t_max], weights doubled (the integrand is even in t)."""
    _check_int(knots, "knots", 2)
    check_positive(t_max, "t_max")
    t = torch.linspace(0.0, t_max, knots, dtype=x.dtype, device=x.device)
    dt = t_max / (knots - 1)
    w = torch.full((knots,), 2.0 * dt, dtype=x.dtype, device=x.device)
    w[0] = w[-1] = dt
    phi = torch.exp(-0.5 * t * t)
    xt = x.unsqueeze(-1) * t  # (..., n, M, T)
    err = (torch.cos(xt).mean(-3) - phi) ** 2 + torch.sin(xt).mean(-3) ** 2  # (..., M, T) = |φ̂ − φ|²
    return x.shape[-2] * (err * (w * phi)).sum(-1)


def _directions(directions: object, d: int, num_slices: int, seed: int, like: torch.Tensor) -> torch.Tensor:
    if directions is None:
        return sigreg_directions(d, num_slices, seed=seed, dtype=like.dtype, device=like.device)
    if not isinstance(directions, torch.Tensor) or directions.ndim != 2 or directions.shape[0] != d:
        raise InvalidArgument(f"directions must be a (dim={d}, num_slices) tensor of unit columns, got "
                              f"{describe(directions)}; or None to draw them from seed")
    return directions.to(like.device, like.dtype)


def sigreg_batch(z: torch.Tensor, *, num_slices: int = 1024, knots: int = 17, t_max: float = 3.0, seed: int = 0,
                 directions: torch.Tensor | None = None) -> torch.Tensor:
    """SIGReg of one ``(n, d)`` batch (or a ``(V, n, d)`` stack: the mean over views as well):
    ``mean_m EP(z a_m)``, the directions drawn from ``seed`` unless given."""
    z = check_embeddings(z, "z", batched=True)
    a = _directions(directions, z.shape[-1], num_slices, seed, z)
    return epps_pulley(z @ a, knots=knots, t_max=t_max).mean()


@register_loss("sigreg", family="other", invariances=("batch_permutation", "view_swap"), min_batch=1,
               reference="[2] [3]", shape="single-batch", state=("directions",), forms={"single": sigreg_batch},
               param_grid={"num_slices": (256,), "seed": (0,)})
def sigreg(z1: torch.Tensor, z2: torch.Tensor, *, num_slices: int = 1024, knots: int = 17, t_max: float = 3.0,
           seed: int = 0, directions: torch.Tensor | None = None, gather_distributed: bool = False) -> torch.Tensor:
    r"""SIGReg of the two views, averaged as LeJEPA averages over views: ``½ [SIGReg(z1) + SIGReg(z2)]`` with the
    same M directions for both (drawn from ``seed``; LeJEPA draws new ones each step: pass another ``seed``).

    A regulariser towards N(0, I) (it is not minimised by a spread-out sphere: scale matters). For fixed
    directions it is neither rotation- nor mixing-invariant: Definition 3.2 of Garrido et al. classifies
    neither (in expectation over the directions it is rotation-invariant, and it reads every moment of the
    projections, not only the covariance).

    Args:
        z1, z2: ``(batch, dim)`` embeddings of two views.
        num_slices: M = 1024 (lightly's default); knots: T = 17; t_max: 3; seed: the directions' seed.
        directions: ``(dim, M)`` unit columns to use instead of drawing them.
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)
    z1, z2 = check_pair(z1, z2)
    _check_int(num_slices, "num_slices", 1)
    a = _directions(directions, z1.shape[-1], num_slices, seed, z1)
    return epps_pulley(torch.stack([z1, z2]) @ a, knots=knots, t_max=t_max).mean()


def lejepa_invariance(views: torch.Tensor) -> torch.Tensor:
    """``mean_{v, i, k} (z_{v,i,k} − mean_v z_{v,i,k})²`` for a ``(V, n, d)`` stack (LeJEPA's prediction term when
    every view predicts the views' mean)."""
    return (views - views.mean(0, keepdim=True)).square().mean()


@register_loss("lejepa", family="other", invariances=("batch_permutation", "view_swap"), min_batch=1,
               reference="[2] [3]", shape="pair", state=("directions",), param_grid={"lamb": (0.05,), "num_slices": (256,)})
def lejepa(z1: torch.Tensor, z2: torch.Tensor, *, lamb: float = 0.05, num_slices: int = 1024, knots: int = 17,
           t_max: float = 3.0, seed: int = 0, directions: torch.Tensor | None = None,
           gather_distributed: bool = False) -> torch.Tensor:
    r"""LeJEPA with two global views: ``λ · SIGReg(z1, z2) + (1 − λ) · mean_{v,i,k} (z_v − (z1 + z2)/2)²``.

    .. math:: \ell = \lambda \cdot \tfrac12\bigl[\mathrm{SIGReg}(z_1) + \mathrm{SIGReg}(z_2)\bigr]
              + (1 - \lambda) \cdot \tfrac14 \operatorname{mean}_{i,k} (z_{1,ik} - z_{2,ik})^2

    λ = ``lamb`` ∈ [0, 1] (0.05 in the reference code; lightly's ``lambda_param``). No stop-gradient, no
    teacher. With local crops as well, every view is pulled to the mean of the global ones (lightly's
    ``LeJEPALoss``).
    """
    z1, z2 = gather_pair(z1, z2) if gather_distributed else (z1, z2)
    z1, z2 = check_pair(z1, z2)
    if isinstance(lamb, bool) or not isinstance(lamb, (int, float)) or not 0.0 <= lamb <= 1.0:
        raise InvalidArgument(f"lamb must be a number in [0, 1] (the SIGReg weight), got lamb={lamb!r}")
    reg = sigreg(z1, z2, num_slices=num_slices, knots=knots, t_max=t_max, seed=seed, directions=directions)
    return lamb * reg + (1.0 - lamb) * lejepa_invariance(torch.stack([z1, z2]))
