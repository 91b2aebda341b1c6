"""Losses to profile with ``ssl-props profile`` (README, "Profiling your loss").

* ``my_vicreg``: a VICReg variant a user might write: squared variance penalty, invariance as a mean over
  the batch, the covariance of the first view only;
* ``my_l2_predictor``: the linear-SimSiam loss ``½ mean‖p − z‖²`` of Tian et al. 2021 (target second;
  the profile runs it with a stop-gradient, an EMA and no stop-gradient target);
* ``simsiam_cosine`` / ``simsiam_cosine_no_sg``: SimSiam's negative cosine term with its ``.detach()`` and
  the same term without it (README, "Worked example: SimSiam with and without its stop-gradient").
"""
import torch
import torch.nn.functional as F


def my_vicreg(z1: torch.Tensor, z2: torch.Tensor, gamma: float = 0.4) -> torch.Tensor:
    zc = z1 - z1.mean(0)
    cov = zc.T @ zc / z1.shape[0]
    eye = torch.eye(z1.shape[1], dtype=z1.dtype, device=z1.device)
    return (cov - eye).square().sum() + gamma * (z1 - z2).square().sum(-1).mean()


def my_l2_predictor(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    return 0.5 * (p - z).square().sum(-1).mean()


def simsiam_cosine(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    return -F.cosine_similarity(p, z.detach(), dim=-1).mean()


def simsiam_cosine_no_sg(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    return -F.cosine_similarity(p, z, dim=-1).mean()
