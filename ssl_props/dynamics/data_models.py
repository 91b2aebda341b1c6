r"""Data models of the linear SSL theory: input correlation ``X`` and augmentation covariance ``X'``.

Tian et al. 2021 (§3, Assumption 2) take ``X = I``, ``X' = σ² I``; Wang et al. 2021 give each feature
direction its own augmentation variance, ``X' = Q diag(σ_j²) Qᵀ`` commuting with ``X = Q diag(x_j) Qᵀ``.
A :class:`DataModel` holds a batch of ``B`` such pairs, built from spectra and a seed (deterministic,
CPU-generated then moved to the device). Strategies draw a *batch* per example, so a check integrates
many data models in one batched simulation; examples shrink towards small sizes, the first kind and
seed 0.

Spectrum kinds: ``"spread"`` (values drawn apart by at least ``min_gap``), ``"degenerate"`` (ties:
values repeated exactly), ``"nearly_tied"`` (pairs of values :data:`TIE` = 1e-6 apart).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch
from hypothesis import strategies as st

from ssl_props._validation import InvalidArgument, check_interval
from ssl_props.device import DEFAULT_DTYPE, resolve_device
from ssl_props.strategies import SEEDS, random_orthogonal

__all__ = ["DataModel", "SPECTRUM_KINDS", "make_spectrum", "make_data_model", "threshold_sigma2", "data_models",
           "threshold_data_models", "random_init"]

SPECTRUM_KINDS = ("spread", "degenerate", "nearly_tied")
TIE = 1e-6  # distance of nearly tied values


@dataclass(frozen=True)
class DataModel:
    """A batch of data models: ``X``, ``Xp`` (B, n, n), their common ``basis`` Q (B, n, n) and spectra (B, n)."""

    X: torch.Tensor
    Xp: torch.Tensor
    basis: torch.Tensor
    x_spec: torch.Tensor
    aug_spec: torch.Tensor

    @property
    def batch(self) -> int:
        return self.X.shape[0]

    @property
    def n(self) -> int:
        return self.X.shape[-1]


def make_spectrum(n: int, lo: float, hi: float, kind: str = "spread", *, batch: int = 1, min_gap: float = 0.0,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """(batch, n) values in ``[lo, hi]``: ``spread`` values are at least ``min_gap`` apart (sorted,
    then shuffled); ``degenerate`` repeats each value twice; ``nearly_tied`` pairs values ``TIE`` apart."""
    if kind not in SPECTRUM_KINDS:
        raise InvalidArgument(f"kind={kind!r} is unknown; use one of {SPECTRUM_KINDS}")
    check_interval(lo, hi, "lo", "hi")
    if min_gap * (n - 1) > hi - lo:
        raise InvalidArgument(f"cannot place n={n} values min_gap={min_gap} apart in [{lo}, {hi}]")
    g = generator or torch.Generator().manual_seed(0)
    m = n if kind == "spread" else math.ceil(n / 2)
    slack = (hi - lo) - min_gap * (m - 1)
    u = torch.sort(torch.rand(batch, m, generator=g, dtype=torch.float64), dim=-1).values * slack
    v = lo + u + min_gap * torch.arange(m, dtype=torch.float64)
    if kind != "spread":
        w = v + (TIE if kind == "nearly_tied" else 0.0) * (v + TIE <= hi)
        v = torch.stack([v, w], -1).reshape(batch, 2 * m)[:, :n]
    perm = torch.argsort(torch.rand(batch, n, generator=g), dim=-1)
    return torch.gather(v, 1, perm)


def make_data_model(x_spec: torch.Tensor, aug_spec: torch.Tensor, *, rotate: bool = True, seed: int = 0,
                    dtype: torch.dtype = DEFAULT_DTYPE, device: str | torch.device | None = None) -> DataModel:
    """``X = Q diag(x_spec) Qᵀ``, ``X' = Q diag(aug_spec) Qᵀ`` with ``Q`` Haar-random (``rotate``) or ``I``."""
    if x_spec.shape != aug_spec.shape or x_spec.ndim != 2:
        raise InvalidArgument(f"x_spec and aug_spec must both be (B, n); got {tuple(x_spec.shape)}, {tuple(aug_spec.shape)}")
    if bool((x_spec <= 0).any()) or bool((aug_spec < 0).any()):
        raise InvalidArgument("x_spec must be > 0 (X positive definite) and aug_spec >= 0 (X' PSD)")
    B, n = x_spec.shape
    g = torch.Generator().manual_seed(int(seed))
    Q = random_orthogonal(n, batch=(B,), generator=g) if rotate else torch.eye(n, dtype=torch.float64).expand(B, n, n)
    xs, a = x_spec.double(), aug_spec.double()
    X = (Q * xs.unsqueeze(-2)) @ Q.mT
    Xp = (Q * a.unsqueeze(-2)) @ Q.mT
    dev = resolve_device(device)
    cast = lambda t: t.to(dtype=dtype, device=dev).contiguous()  # noqa: E731
    return DataModel(cast(X), cast(Xp), cast(Q), cast(xs), cast(a))


def threshold_sigma2(eta: float | torch.Tensor, tau: float = 1.0):
    """The augmentation-variance threshold: a mode survives iff ``σ² < τ²/(4η) − 1`` (Tian et al. Eqn 16)."""
    return tau * tau / (4 * eta) - 1.0


def random_init(n1: int, n2: int, batch: int, *, seed: int = 0, scale: float = 0.5, near_identity: bool = False,
                symmetric_predictor: bool = False, dtype: torch.dtype = DEFAULT_DTYPE,
                device: str | torch.device | None = None):
    """Initial ``(W, W_p, W_a = W)``: Gaussian entries of std ``scale/√n``, or ``I + scale·N/√n`` (``near_identity``)."""
    from ssl_props.dynamics.fields import LinearState

    g = torch.Generator().manual_seed(int(seed))
    W = torch.randn(batch, n2, n1, generator=g, dtype=torch.float64) * scale / math.sqrt(n1)
    Wp = torch.randn(batch, n2, n2, generator=g, dtype=torch.float64) * scale / math.sqrt(n2)
    if near_identity:
        W = W + torch.eye(n2, n1, dtype=torch.float64)
        Wp = Wp + torch.eye(n2, dtype=torch.float64)
    if symmetric_predictor:
        Wp = 0.5 * (Wp + Wp.mT)
    dev = resolve_device(device)
    return LinearState(*(t.to(dtype=dtype, device=dev) for t in (W, Wp, W.clone())))


@st.composite
def data_models(draw: st.DrawFn, n: int | tuple[int, int] = (2, 5), batch: int = 8, *,
                kinds: Sequence[str] = SPECTRUM_KINDS, x_range: tuple[float, float] = (0.5, 2.0),
                aug_range: tuple[float, float] = (0.0, 2.0), min_gap: float = 0.05, isotropic_x: bool = False,
                rotate: bool = True, dtype: torch.dtype = DEFAULT_DTYPE,
                device: str | torch.device | None = None) -> DataModel:
    """Returns a strategy which generates a :class:`DataModel` batch of ``batch`` cases.

    * ``n``: input dimension (one value or an inclusive range);
    * ``kinds``: spectrum kinds of the augmentation spectrum (:data:`SPECTRUM_KINDS`);
    * ``x_range``/``aug_range``: ranges of the eigenvalues of X and X'; ``isotropic_x``: X = I;
    * ``min_gap``: lower bound on the gaps of ``spread`` spectra (so eigenvectors are well defined).

    Examples shrink towards the smallest ``n``, ``kinds[0]`` and seed 0.
    """
    lo, hi = (n, n) if isinstance(n, int) else n
    if lo < 1:
        raise InvalidArgument(f"n must be >= 1, got n={n!r}")
    check_interval(lo, hi, "min n", "max n")
    if batch < 1:
        raise InvalidArgument(f"batch must be >= 1, got batch={batch!r}")
    nn = draw(st.integers(lo, hi))
    kind = draw(st.sampled_from(tuple(kinds)))
    seed = draw(SEEDS)
    g = torch.Generator().manual_seed(seed)
    gap = min(min_gap, (aug_range[1] - aug_range[0]) / max(nn - 1, 1))
    aug = make_spectrum(nn, *aug_range, kind, batch=batch, min_gap=gap, generator=g)
    xs = torch.ones(batch, nn, dtype=torch.float64) if isotropic_x else make_spectrum(nn, *x_range, batch=batch, generator=g)
    return make_data_model(xs, aug, rotate=rotate, seed=seed, dtype=dtype, device=device)


@st.composite
def threshold_data_models(draw: st.DrawFn, n: int | tuple[int, int] = (2, 5), batch: int = 8, *,
                          eta_range: tuple[float, float] = (0.04, 0.15), margin: float = 0.1, rotate: bool = True,
                          dtype: torch.dtype = DEFAULT_DTYPE, device: str | torch.device | None = None):
    """Returns a strategy which generates ``(DataModel with X = I, eta (B,))`` whose augmentation
    variances avoid the weight-decay threshold: ``|4η(1 + σ_j²) − 1| ≥ margin`` for every feature,
    with at least one kept and (when n ≥ 2) one discarded feature per case.

    Examples shrink towards the smallest ``n`` and seed 0.
    """
    lo, hi = (n, n) if isinstance(n, int) else n
    check_interval(lo, hi, "min n", "max n")
    nn = draw(st.integers(lo, hi))
    seed = draw(SEEDS)
    g = torch.Generator().manual_seed(seed)
    eta = eta_range[0] + (eta_range[1] - eta_range[0]) * torch.rand(batch, generator=g, dtype=torch.float64)
    # in units of q = 4η(1+σ²): kept q ∈ [4η, 1 − margin], dropped q ∈ [1 + margin, 3]
    keep = torch.rand(batch, nn, generator=g) < 0.5
    keep[:, 0] = True
    if nn >= 2:
        keep[:, 1] = False
    r = torch.rand(batch, nn, generator=g, dtype=torch.float64)
    q_lo = 4 * eta.unsqueeze(1)
    q = torch.where(keep, q_lo + r * (1 - margin - q_lo), 1 + margin + r * (2 - margin))
    sigma2 = (q / (4 * eta.unsqueeze(1)) - 1).clamp_min(0.0)
    dm = make_data_model(torch.ones_like(sigma2), sigma2, rotate=rotate, seed=seed, dtype=dtype, device=device)
    return dm, eta.to(dtype=dtype, device=resolve_device(device))
