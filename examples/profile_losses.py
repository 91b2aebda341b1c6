"""Losses to profile with ``ssl-props profile`` (README, "Profiling your loss").

* ``my_vicreg``: a VICReg variant a user might write: squared variance penalty, invariance as a mean over
  the batch, the covariance of the first view only;
* ``my_l2_predictor``: the linear-SimSiam loss ``½ mean‖p − z‖²`` of Tian et al. 2021 (target second;
  the profile applies the stop-gradient itself, so the loss must not detach).
"""
import torch


def my_vicreg(z1: torch.Tensor, z2: torch.Tensor, gamma: float = 0.4) -> torch.Tensor:
    zc = z1 - z1.mean(0)
    cov = zc.T @ zc / z1.shape[0]
    eye = torch.eye(z1.shape[1], dtype=z1.dtype, device=z1.device)
    return (cov - eye).square().sum() + gamma * (z1 - z2).square().sum(-1).mean()


def my_l2_predictor(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    return 0.5 * (p - z).square().sum(-1).mean()
