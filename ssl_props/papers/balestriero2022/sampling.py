"""What the Balestriero & LeCun checks share: the example budgets, the optimiser's stopping rule, seeded draws,
and the comparison of an optimised embedding with a closed-form optimum.

The budgets are fixed here (not fractions of the profile) because every optimisation example runs a
batched L-BFGS and a Hessian; the whole paper's checks stay within about 12 s on the 2-core CPU.
"""
from __future__ import annotations

import torch
from hypothesis import settings

from ssl_props.device import resolve_device
from ssl_props.properties import PropertyViolation, assert_close
from ssl_props.spectral import centred_gram, convergence_tolerances, curvature

STARTS = 8  # random starts per optimisation, all in one batched call
GTOL = 1e-9  # L-BFGS stopping criterion on ‖∇f‖ (float64 gradients are exact to ~1e-14 here)


def optimisation_settings() -> settings:
    """Optimisation checks run one batched L-BFGS + Hessian (0.2-0.5 s) per example: 3 examples (24 starts) keep
    the module in its 12 s budget. Built at call time so the other settings come from the active profile."""
    return settings(max_examples=3, deadline=None)


def identity_settings() -> settings:
    """Cheap float64 identities: 20 examples each (10-40 ms per example; the 12 s budget is shared by 32 checks)."""
    return settings(max_examples=20, deadline=None)
def fidelity_settings() -> settings:
    """Identities added by the second reading (registered losses, errata, remarks): 8 examples each (they are
    exact identities or closed forms; the shared budget keeps the paper's checks within a few seconds)."""
    return settings(max_examples=8, deadline=None)




def device() -> torch.device:
    return resolve_device()


def randn(seed: int, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(device())


def compare_to_optimum(fun, z: torch.Tensor, gn: torch.Tensor, zs: torch.Tensor, what: str, inputs) -> None:
    """Loss and centred Gram of every start against the closed form, tolerances from ‖∇f‖ and the curvature."""
    mu, _ = curvature(fun, zs)
    if mu <= 0:
        raise PropertyViolation(f"{what}: the closed form is not a local minimum (Hessian eigenvalue {mu:.3g} < 0); "
                                f"input {inputs}")
    fstar = fun(zs[None])
    n, k = zs.shape
    ftol, gram_tol = convergence_tolerances(gn, mu, float(torch.linalg.matrix_norm(zs, 2)), n_terms=n * n * k,
                                            magnitude=float(fstar.abs()) + n * k)
    assert_close(fun(z), fstar.expand(len(z)), ftol, claim=f"{what}: optimised loss equals the closed-form loss",
                 names=("optimised", "closed form"), inputs=inputs)
    dist = (centred_gram(z) - centred_gram(zs)).norm(dim=(-2, -1))
    assert_close(dist, torch.zeros_like(dist), gram_tol, claim=f"{what}: optimised HZZᵀH equals the closed form's",
                 names=("‖ΔGram‖", "0"), inputs=inputs)
