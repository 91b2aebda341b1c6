"""Tolerances, derived once and named.

A check never writes a literal tolerance: it asks this module, and the derivation is here.
For float64, the unit roundoff is ``eps = 2**-52 ≈ 2.2e-16``. A sum of ``n`` products computed in
floating point has a relative error at most about ``n * eps`` times the sum of absolute values of its
terms (Higham, Accuracy and Stability of Numerical Algorithms, §3.1); the helpers below scale by the
number of terms and by the natural magnitude of the quantity (e.g. ``||K||_F^4`` for quartic forms).
"""
from __future__ import annotations

import math

import torch

EPS = {torch.float64: torch.finfo(torch.float64).eps, torch.float32: torch.finfo(torch.float32).eps}

#: safety factor on top of the worst-case ``n * eps`` bound (rounding of the final comparisons,
#: different summation orders on CPU and CUDA kernels).
SAFETY = 8.0


def eps(dtype: torch.dtype) -> float:
    """Unit roundoff of ``dtype``."""
    return EPS.get(dtype, torch.finfo(dtype).eps)


def sum_of_products(dtype: torch.dtype, n_terms: int, magnitude: float | torch.Tensor) -> float | torch.Tensor:
    """Bound on the rounding error of a sum of ``n_terms`` products whose absolute values sum to ``magnitude``.

    ``SAFETY * n_terms * eps(dtype) * magnitude`` (Higham §3.1: ``|fl(Σ) - Σ| ≤ γ_n Σ|x_i|``).
    """
    return SAFETY * max(n_terms, 1) * eps(dtype) * magnitude


def quartic_identity(dtype: torch.dtype, m: int, n: int, frob4: float | torch.Tensor) -> float | torch.Tensor:
    """Tolerance for identities between quartic forms of a ``m x n`` matrix (Theorem 3.3 of Garrido et al.).

    Each side forms inner products of ``k = max(m, n)`` terms (relative error ``γ_k`` of
    ``|x||y|``, doubled by squaring), then sums ``k²`` non-negative squares (``γ_{k²}``), and every
    summand is bounded by ``||K||_F^4`` (Cauchy-Schwarz); so the error is at most
    ``(2k + k² + 2) eps ||K||_F^4`` per side.
    """
    k = max(m, n)
    return 2 * sum_of_products(dtype, 2 * k + k * k + 2, frob4)


def monte_carlo(std: float, n: int, sigmas: float = 6.0) -> float:
    """Half-width of a ``sigmas``-sigma interval for a Monte Carlo mean of ``n`` samples of std ``std``.

    At 6 sigma the chance of a false alarm per check is below 2e-9 (Gaussian tail), so a derandomised
    run never flakes and a random one practically never does.
    """
    return sigmas * std / math.sqrt(n)


def value_tolerance(value: torch.Tensor, a: torch.Tensor, b: torch.Tensor, ga: torch.Tensor | None,
                    gb: torch.Tensor | None, scale: float = 0.0) -> float:
    """float64 tolerance for a loss value: ``SAFETY · n·d · eps · (|L| + Σ|z ⊙ ∂L/∂z| + scale)``.

    Rounding each input entry (relative eps) moves L by about ``Σ|z ∂L/∂z|`` (first-order
    sensitivity, which also captures cancellation from large offsets); ``scale`` (:func:`ssl_props.checker._target.loss_scale`)
    is the size of the terms L is computed from; each intermediate sum has at most n·d terms
    (Higham §3.1), hence the factor.
    """
    sens = sum(float((z.detach() * g).abs().sum()) for z, g in ((a, ga), (b, gb)) if g is not None)
    n, d = a.shape[-2:]
    return float(sum_of_products(value.dtype if value.is_floating_point() else torch.float64, n * d,
                                 abs(float(value)) + sens + scale))
