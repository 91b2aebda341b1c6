"""An independent optimiser for a loss on the natural batch of an augmentation graph (SciPy, no project code).

The profile (``ssl_props.profile``) minimises with its own batched L-BFGS on the batch cut by
``ssl_props.profile.feeding``; this side builds the batch by hand (view 1 = rows 0..N'−1, view 2 =
rows N'..2N'−1, V > 2: the mean over view pairs), minimises with ``scipy.optimize.minimize(L-BFGS-B)`` from
its own starts, and certifies each end point with its own Hessian:

* value: ``f − f⋆ ≤ ‖∇f‖²/(2μ)`` (quadratic model; ``μ`` the smallest Hessian eigenvalue above the flat
  directions ``|λ| ≤ √ε·λ_max``, which are the loss's symmetries at a minimum);
* rank: singular values of the centred (unit-row for a row-scale-invariant loss) optimum above
  ``δ + n·k·ε·σ_max`` with ``δ = ‖∇f‖/μ`` (Weyl: ``‖ΔZ‖₂ ≤ δ``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from typing import Callable

import numpy as np
import scipy.optimize
import torch

EPS = float(np.finfo(np.float64).eps)


@dataclass
class IndependentOptimum:
    loss: float
    loss_bound: float  # f − f⋆ ≤ this at the best start
    ranks: tuple[int, ...]  # sorted set of ranks over the starts within the bound of the best
    starts_at_best: int


def natural_loss(fn: Callable, n_samples: int, n_views: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """``Z`` (N'V, K), view-major rows → the loss on the natural batch (written here, not imported)."""
    def loss(z: torch.Tensor) -> torch.Tensor:
        views = [z[v * n_samples:(v + 1) * n_samples] for v in range(n_views)]
        vals = [fn(views[a], views[b]) for a, b in combinations(range(n_views), 2)]
        return torch.stack(vals).mean()
    return loss


def minimise(loss: Callable[[torch.Tensor], torch.Tensor], n: int, k: int, *, starts: int = 12, seed: int = 123,
             normalises: bool = False) -> IndependentOptimum:
    rng = np.random.default_rng(seed)

    def fg(x: np.ndarray) -> tuple[float, np.ndarray]:
        z = torch.tensor(x.reshape(n, k), dtype=torch.float64, requires_grad=True)
        f = loss(z)
        (g,) = torch.autograd.grad(f, z)
        return float(f.detach()), g.numpy().ravel().astype(np.float64)

    ends = []
    for _ in range(starts):
        res = scipy.optimize.minimize(fg, rng.standard_normal(n * k), jac=True, method="L-BFGS-B",
                                      options={"maxiter": 5000, "gtol": 1e-12, "ftol": 1e-15, "maxcor": 30})
        ends.append(res.x)
    out = []
    for x in ends:
        f, g = fg(x)
        z = torch.tensor(x.reshape(n, k), dtype=torch.float64)
        h = torch.autograd.functional.hessian(lambda v: loss(v.reshape(n, k)), z.reshape(-1)).numpy()
        lam = np.linalg.eigvalsh((h + h.T) / 2)
        flat = np.abs(lam) <= math.sqrt(EPS) * max(np.abs(lam).max(), 1.0)
        mu = lam[~flat].min() if (~flat).any() else math.inf
        gn = float(np.linalg.norm(g))
        bound = gn * gn / (2 * mu) + 64 * EPS * max(abs(f), 1.0) if mu > 0 else math.inf
        delta = gn / mu if mu > 0 else math.inf
        zz = torch.nn.functional.normalize(z, dim=-1) if normalises else z
        if normalises:
            delta = 2 * delta / float(z.norm(dim=-1).min())
        zc = (zz - zz.mean(0)).numpy()
        sv = np.linalg.svd(zc, compute_uv=False)
        rank = int((sv > delta + n * k * EPS * sv.max()).sum())
        out.append((f, bound, rank))
    best = min(range(len(out)), key=lambda i: out[i][0])
    fb, bb, _ = out[best]
    at = [o for o in out if o[0] - fb <= bb + o[1]]
    return IndependentOptimum(fb, bb, tuple(sorted({o[2] for o in at})), len(at))
