"""Hypothesis strategies for embeddings, view pairs and normalised matrices.

All strategies draw a small structure (shape, kind, scale, an integer seed) and build the tensor
with a seeded ``torch.Generator`` on the CPU, then move it to the chosen device: the values are the
same on CPU and CUDA, failures replay from Hypothesis's database, and examples shrink towards the
smallest shape, the first kind (``"gaussian"``), scale 1 and seed 0.

Layout: embeddings are ``(n, d)`` = (batch, dim), i.e. ``Z = Kᵀ`` in Garrido et al.'s notation.

>>> from hypothesis import given
>>> @given(embeddings(n=(2, 8), d=(2, 8)))
... def test_shape(z): assert z.ndim == 2
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from hypothesis import assume, strategies as st

from ssl_props._validation import InvalidArgument, check_interval
from ssl_props.device import DEFAULT_DTYPE, resolve_device

__all__ = ["SEEDS", "KINDS", "DEGENERATE_KINDS", "shapes", "embeddings", "degenerate_embeddings", "view_pairs",
           "orthogonal_matrices", "normalized_embeddings", "symbolic_shapes", "make_embeddings",
           "random_orthogonal", "doubly_normalize"]

#: A seed for torch.Generator / numpy draws inside a property: every 32-bit value (shrinks towards 0).
SEEDS = st.integers(0, 2**32 - 1)

#: well-posed kinds of embedding matrices
KINDS = ("gaussian", "heavy_tailed", "sparse", "low_rank", "ill_conditioned")
#: degenerate kinds (collapse and its relatives)
DEGENERATE_KINDS = ("collapsed", "dimensional_collapse", "duplicated_rows", "near_zero_rows", "constant_features")
XS, S, M = 2, 4, 8  # batch / dim sizes kept small so properties stay fast


def _bounds(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    lo, hi = (value, value) if isinstance(value, int) else value
    if lo < 1:
        raise InvalidArgument(f"{name} must be >= 1, got {name}={value!r}")
    check_interval(lo, hi, f"min {name}", f"max {name}")
    return lo, hi


def shapes(n: int | tuple[int, int] = (2, 8), d: int | tuple[int, int] = (2, 8)) -> st.SearchStrategy[tuple[int, int]]:
    """Returns a strategy which generates ``(n, d)`` shapes within the given (inclusive) ranges.

    Examples shrink towards the smallest shape.
    """
    (n0, n1), (d0, d1) = _bounds(n, "n"), _bounds(d, "d")
    return st.tuples(st.integers(n0, n1), st.integers(d0, d1))


def make_embeddings(n: int, d: int, kind: str = "gaussian", *, seed: int = 0, scale: float = 1.0, rank: int | None = None,
                    batch: Sequence[int] = (), dtype: torch.dtype = DEFAULT_DTYPE,
                    device: str | torch.device | None = None) -> torch.Tensor:
    """Build a ``(*batch, n, d)`` embedding tensor of a named ``kind`` from ``seed`` (deterministic).

    Kinds: ``gaussian`` (iid N(0,1)), ``heavy_tailed`` (Student t, 3 dof), ``sparse`` (80 % zeros),
    ``low_rank`` (product of Gaussians with inner dim ``rank``), ``ill_conditioned`` (singular values
    spread over 6 decades); degenerate: ``collapsed`` (all rows equal), ``dimensional_collapse`` (rank
    ``rank``, default 1), ``duplicated_rows`` (half the rows copy others), ``near_zero_rows`` (some rows
    of norm ~1e-12), ``constant_features`` (some columns constant over the batch).
    Everything is then multiplied by ``scale``.
    """
    if kind not in KINDS + DEGENERATE_KINDS:
        raise InvalidArgument(f"unknown kind={kind!r}; use one of {KINDS + DEGENERATE_KINDS}")
    g = torch.Generator().manual_seed(int(seed))
    shape = (*batch, n, d)
    r = max(1, min(rank if rank is not None else max(1, min(n, d) // 2), n, d))
    if kind == "gaussian":
        z = torch.randn(shape, generator=g, dtype=torch.float64)
    elif kind == "heavy_tailed":
        x = torch.randn(shape, generator=g, dtype=torch.float64)
        chi2 = torch.randn((*shape, 3), generator=g, dtype=torch.float64).square().sum(-1)
        z = x / torch.sqrt(chi2 / 3)
    elif kind == "sparse":
        z = torch.randn(shape, generator=g, dtype=torch.float64) * (torch.rand(shape, generator=g, dtype=torch.float64) < 0.2)
    elif kind in ("low_rank", "dimensional_collapse"):
        r = r if kind == "low_rank" else (rank or 1)
        z = torch.randn((*batch, n, r), generator=g, dtype=torch.float64) @ torch.randn((*batch, r, d), generator=g, dtype=torch.float64)
    elif kind == "ill_conditioned":
        k = min(n, d)
        u = random_orthogonal(n, batch=batch, generator=g)[..., :k]
        v = random_orthogonal(d, batch=batch, generator=g)[..., :k]
        s = torch.logspace(0, -6, k, dtype=torch.float64)
        z = (u * s) @ v.transpose(-2, -1) * math.sqrt(n)
    elif kind == "collapsed":
        z = torch.randn((*batch, 1, d), generator=g, dtype=torch.float64).expand(shape).clone()
    elif kind == "duplicated_rows":
        z = torch.randn(shape, generator=g, dtype=torch.float64)
        src = torch.randint(0, max(1, (n + 1) // 2), (n // 2,), generator=g)
        z[..., (n + 1) // 2:, :] = z[..., src, :]
    elif kind == "near_zero_rows":
        z = torch.randn(shape, generator=g, dtype=torch.float64)
        z[..., ::2, :] *= 1e-12
    else:  # constant_features
        z = torch.randn(shape, generator=g, dtype=torch.float64)
        z[..., :, ::2] = z[..., :1, ::2]
    return (z * scale).to(dtype=dtype, device=resolve_device(device))


def random_orthogonal(d: int, *, batch: Sequence[int] = (), generator: torch.Generator | None = None,
                      dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Haar-distributed orthogonal ``(*batch, d, d)`` matrices (QR of a Gaussian with sign fix)."""
    a = torch.randn((*batch, d, d), generator=generator, dtype=dtype)
    q, r = torch.linalg.qr(a)
    return q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)


_SCALES = (1.0, 1e-3, 1e3)


def embeddings(n: int | tuple[int, int] = (2, 8), d: int | tuple[int, int] = (2, 8), *,
               kinds: Sequence[str] = KINDS, scales: Sequence[float] = _SCALES, rank: int | None = None,
               dtype: torch.dtype = DEFAULT_DTYPE, device: str | torch.device | None = None) -> st.SearchStrategy[torch.Tensor]:
    """Returns a strategy which generates ``(n, d)`` embedding tensors.

    * ``n``, ``d``: a size or an inclusive ``(min, max)`` range;
    * ``kinds``: names from :data:`KINDS` / :data:`DEGENERATE_KINDS` (see :func:`make_embeddings`);
    * ``scales``: overall multipliers (tiny and huge variances are where implementations break);
    * ``rank``: inner dimension of ``low_rank`` / ``dimensional_collapse``.

    Arguments are validated when the strategy is built. Examples shrink towards the smallest shape,
    ``kinds[0]``, ``scales[0]`` and seed 0.
    """
    if not kinds:
        raise InvalidArgument("kinds must name at least one kind")
    unknown = [k for k in kinds if k not in KINDS + DEGENERATE_KINDS]
    if unknown:
        raise InvalidArgument(f"unknown kind={unknown[0]!r}; use one of {KINDS + DEGENERATE_KINDS}")
    if not scales or any(not (isinstance(x, (int, float)) and x > 0) for x in scales):
        raise InvalidArgument(f"scales must be positive numbers, got scales={tuple(scales)!r}")
    return _embeddings(shapes(n, d), tuple(kinds), tuple(scales), rank, dtype, device)


@st.composite
def _embeddings(draw: st.DrawFn, shape: st.SearchStrategy, kinds: tuple[str, ...], scales: tuple[float, ...],
                rank: int | None, dtype: torch.dtype, device: str | torch.device | None) -> torch.Tensor:
    nn, dd = draw(shape)
    kind = draw(st.sampled_from(kinds))
    scale = draw(st.sampled_from(scales))
    seed = draw(SEEDS)
    return make_embeddings(nn, dd, kind, seed=seed, scale=scale, rank=rank, dtype=dtype, device=device)


def degenerate_embeddings(n: int | tuple[int, int] = (2, 8), d: int | tuple[int, int] = (2, 8), **kw) -> st.SearchStrategy[torch.Tensor]:
    """Returns a strategy which generates degenerate embeddings: complete or dimensional collapse,
    duplicated rows, near-zero rows, constant features (see :func:`make_embeddings`)."""
    return embeddings(n, d, kinds=DEGENERATE_KINDS, **kw)


@st.composite
def orthogonal_matrices(draw: st.DrawFn, d: int, *, dtype: torch.dtype = DEFAULT_DTYPE,
                        device: str | torch.device | None = None) -> torch.Tensor:
    """Returns a strategy which generates Haar-random ``(d, d)`` orthogonal matrices (shrinks to seed 0)."""
    g = torch.Generator().manual_seed(draw(SEEDS))
    return random_orthogonal(d, generator=g).to(dtype=dtype, device=resolve_device(device))


@st.composite
def view_pairs(draw: st.DrawFn, base: st.SearchStrategy[torch.Tensor] | None = None, *,
               transforms: Sequence[str] = ("noise", "orthogonal", "permutation"), noise: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns a strategy which generates two views ``(z1, z2)`` of the same batch.

    ``z2`` is ``z1`` plus Gaussian ``noise`` (relative to z1's scale), ``z1 Q`` for an orthogonal ``Q``
    of embedding space, or ``z1`` with its features permuted. Shrinks towards ``transforms[0]``.
    """
    z1 = draw(base if base is not None else embeddings())
    how = draw(st.sampled_from(tuple(transforms)))
    g = torch.Generator().manual_seed(draw(SEEDS))
    n, d = z1.shape[-2:]
    if how == "noise":
        s = float(z1.abs().max().clamp_min(1e-300))
        z2 = z1 + noise * s * torch.randn(z1.shape, generator=g, dtype=torch.float64).to(z1)
    elif how == "orthogonal":
        z2 = z1 @ random_orthogonal(d, generator=g).to(z1)
    elif how == "permutation":
        z2 = z1[..., torch.randperm(d, generator=g).to(z1.device)]
    else:
        raise InvalidArgument(f"unknown transform {how!r}; use noise, orthogonal or permutation")
    return z1, z2


def doubly_normalize(z: torch.Tensor, sample_norm: float = 1.0, iters: int = 5000, rtol: float = 1e-14) -> torch.Tensor:
    """Rescale ``z`` (batched) so every row has norm ``c = sample_norm`` and every column the norm
    ``r = c·sqrt(n/d)`` forced by ``||z||_F² = n c² = d r²`` (Sinkhorn on ``z ⊙ z``, signs kept).

    Converges for matrices without zero entries (Sinkhorn-Knopp); rows are normalised last, exactly.
    """
    n, d = z.shape[-2:]
    c2 = sample_norm**2
    r2 = c2 * n / d
    s = z.square()
    for _ in range(iters):
        s = s * (r2 / s.sum(-2, keepdim=True))
        s = s * (c2 / s.sum(-1, keepdim=True))
        if float((s.sum(-2) / r2 - 1).abs().max()) <= rtol:
            break
    return torch.sign(z) * s.sqrt()


def normalized_embeddings(n: int | tuple[int, int] = (2, 8), d: int | tuple[int, int] = (2, 8), *,
                          normalize: str = "samples", norm: float | Sequence[float] = 1.0,
                          kinds: Sequence[str] = ("gaussian", "heavy_tailed"), dtype: torch.dtype = DEFAULT_DTYPE,
                          device: str | torch.device | None = None) -> st.SearchStrategy[torch.Tensor]:
    """Returns a strategy which generates normalised embeddings.

    * ``normalize="samples"``: every row (embedding; a column of K) has norm ``norm``;
    * ``"features"``: every column (dimension; a row of K) has norm ``norm``;
    * ``"both"``: rows of norm ``norm`` and columns of norm ``norm·sqrt(n/d)`` (Sinkhorn; the only
      consistent choice, since ``||z||_F² = n c² = d r²``).

    Examples shrink like :func:`embeddings`.
    """
    if normalize not in ("samples", "features", "both"):
        raise InvalidArgument(f"normalize must be 'samples', 'features' or 'both', got {normalize!r}")
    norms = tuple(norm) if isinstance(norm, (tuple, list)) else (float(norm),)
    if not norms or any(not a > 0 for a in norms):
        raise InvalidArgument(f"norm must be positive, got norm={norm!r}")
    base = embeddings(n, d, kinds=kinds, scales=(1.0,), dtype=torch.float64, device="cpu")
    return _normalized(base, normalize, norms, dtype, device)


@st.composite
def _normalized(draw: st.DrawFn, base: st.SearchStrategy[torch.Tensor], normalize: str, norms: tuple[float, ...],
                dtype: torch.dtype, device: str | torch.device | None) -> torch.Tensor:
    a = draw(st.sampled_from(norms))
    z = draw(base)
    # a zero row (column) has no direction: give it the all-ones direction before normalising
    z[z.norm(dim=-1) == 0] = 1.0
    z[:, z.norm(dim=-2) == 0] = 1.0
    if normalize == "samples":
        z = a * torch.nn.functional.normalize(z, dim=-1)
    elif normalize == "features":
        z = a * torch.nn.functional.normalize(z, dim=-2)
    else:
        z = doubly_normalize(z + 1e-3 * (z == 0), a)
        # Sinkhorn converges for dense positive z⊙z; keep only converged draws (columns exact to 1e-12)
        assume(bool(((z.square().sum(-2) / (a * a * z.shape[-2] / z.shape[-1]) - 1).abs() < 1e-12).all()))
    return z.to(dtype=dtype, device=resolve_device(device))


def symbolic_shapes(max_n: int = 4, max_d: int = 4) -> st.SearchStrategy[tuple[int, int]]:
    """Returns a strategy which generates small ``(n, d)`` shapes for sympy derivations (1..max each)."""
    return shapes((1, max_n), (1, max_d))
