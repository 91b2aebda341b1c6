"""A worked example for README.md: a SimCLR written by hand with a classic slip, and its fix.

    python -m ssl_props check examples/my_simclr.py:my_simclr --like simclr --param temperature=0.1
    python -m ssl_props check examples/my_simclr.py:my_simclr_fixed --like simclr --param temperature=0.1
"""
import torch
import torch.nn.functional as F


def my_simclr(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """NT-Xent... or is it? Only the other view's samples serve as negatives."""
    z1, z2 = F.normalize(z1, dim=1), F.normalize(z2, dim=1)
    logits = z1 @ z2.T / 0.1
    labels = torch.arange(z1.shape[0])
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


def my_simclr_fixed(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """NT-Xent over the 2n stacked views: same-view negatives included, self-similarity masked."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    logits = (z @ z.T / 0.1).fill_diagonal_(float("-inf"))
    labels = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
    return F.cross_entropy(logits, labels)
