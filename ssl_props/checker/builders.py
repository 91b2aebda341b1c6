"""Extra arguments the checker builds for a loss (``--arg NAME=SPEC``): constants, prototypes, queues, masks, grids.

``SPEC`` is a Python literal (a constant: ``eps=1e-4``, ``epoch=0``, ``center_mode='mean'``) or a builder
``KIND(DIMS...)[.T]`` whose dimensions are integers or the symbols ``B`` (the batch size of the view)
and ``D`` (its embedding dimension):

==================  =================================================================  =========================
builder             tensor                                                             e.g.
==================  =================================================================  =========================
``randn(...)``      standard Gaussian entries                                          a memory bank
``unit(...)``       Gaussian rows normalised to unit length on the last axis           ``prototypes=unit(8,D)``
``zeros(...)``      zeros                                                              a centre
``ones(...)``       ones                                                               a weight
``eye(N)``          the identity                                                       a positive mask
``arange(N)``       ``0, …, N−1`` (int64)                                              distinct labels
``randint(H,...)``  integers in ``[0, H)`` (int64)                                     ``labels=randint(3,B)``
``mask(...)``       Bernoulli(½) booleans, at least one True per row                   iBOT's token mask
``grid(H,W)``       ``(B, H, W, 2)`` pixel-centre coordinates in [0, 1]                VICRegL's grids
``positives(V)``    ``(VB, VB)`` bool: rows i, j are views of one sample, i ≠ j        SimCLR's positive mask
``negatives(V)``    ``(VB, VB)`` bool: rows i, j are views of different samples        SimCLR's negative mask
==================  =================================================================  =========================

``argmax(z2,...)``  the index of each row's largest entry of view ``z1`` or ``z2``,      DeepCluster's assignments
                    reshaped to the dimensions that follow (int64): it moves with
                    the batch, so a permutation of the batch permutes it too

``positives``/``negatives`` index the rows of the V views concatenated view after view (``cat:0``).

Random builders draw from a generator seeded by the argument's name, so every call (and every replay of
a Hypothesis example) sees the same tensor; float builders use the views' dtype and device, and the
result carries no gradient (a fixed state, not an input). ``.T`` transposes the last two axes
(``queue=unit(16,D).T`` is a (D, 16) queue of unit columns, solo-learn's layout); ``*N`` makes a list of N
copies (``grid(2,2)*2``: one grid per crop).
"""
from __future__ import annotations

import ast
import re
import zlib
from typing import Any

import torch

from ssl_props.errors import InvalidArgument

BUILDERS = ("randn", "unit", "zeros", "ones", "eye", "arange", "randint", "mask", "grid", "positives", "negatives",
            "argmax")
_CALL = re.compile(r"^(?P<kind>[a-z]+)\((?P<dims>[^()]*)\)(?P<t>\.T)?(\*(?P<copies>[0-9]+))?$")


def parse_arg_value(raw: str) -> Any:
    """The CLI's ``--arg NAME=RAW``: a Python literal, a builder spec (kept as the string), or a plain string."""
    raw = raw.strip()
    m = _CALL.match(raw.replace(" ", ""))
    if m and m.group("kind") in BUILDERS:
        _dims(m.group("kind"), m.group("dims"), 2, 2)  # validate now: one line for a bad spec
        return raw.replace(" ", "")
    if m:
        raise InvalidArgument(f"--arg {raw!r}: unknown builder {m.group('kind')!r}; use one of {', '.join(BUILDERS)} "
                              f"(e.g. prototypes=unit(8,D), queue=unit(16,D).T, labels=randint(3,B))")
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return raw


def _dims(kind: str, text: str, b: int, d: int) -> list[int]:
    out = []
    toks = list(filter(None, text.split(",")))
    if kind == "argmax":
        if not toks or toks[0] not in ("z1", "z2"):
            raise InvalidArgument(f"argmax({text}) takes the view first: argmax(z2) or argmax(z2,1,B)")
        toks = toks[1:]
    for tok in toks:
        if tok in ("B", "D"):
            out.append(b if tok == "B" else d)
        else:
            try:
                out.append(int(tok))
            except ValueError:
                raise InvalidArgument(f"builder {kind}({text}): dimensions are integers, B (batch) or D (dim); "
                                      f"got {tok!r}") from None
    if kind in ("positives", "negatives") and len(out) != 1:
        raise InvalidArgument(f"{kind}({text}) takes the number of views V")
    if kind == "grid" and len(out) != 2:
        raise InvalidArgument(f"grid({text}) takes two dimensions H,W")
    if kind == "randint" and len(out) < 1:
        raise InvalidArgument(f"randint({text}) takes the exclusive upper bound first, then the shape")
    return out


def build_arg(name: str, spec: Any, like: torch.Tensor, views: tuple[torch.Tensor, torch.Tensor] | None = None) -> Any:
    if isinstance(spec, str):
        m = _CALL.match(spec)
        if m and m.group("copies"):
            one = build_arg(name, spec[:spec.rindex("*")], like, views)
            return [one.clone() for _ in range(int(m.group("copies")))]
    return _build(name, spec, like, views)


def _build(name: str, spec: Any, like: torch.Tensor, views: tuple[torch.Tensor, torch.Tensor] | None = None) -> Any:
    """The value of extra argument ``name``: ``spec`` itself for a constant, else the built tensor
    (batch and dim taken from ``like``, the first view: its axis −2 and −1; ``views`` for ``argmax``)."""
    if not isinstance(spec, str):
        return spec
    m = _CALL.match(spec)
    if not m or m.group("kind") not in BUILDERS:
        return spec
    kind = m.group("kind")
    b, d = (like.shape[-2] if like.dim() >= 2 else 1), like.shape[-1]
    dims = _dims(kind, m.group("dims"), b, d)
    gen = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    dt, dev = (like.dtype if like.is_floating_point() else torch.float64), like.device
    if kind == "argmax":
        view = (views or (like, like))[0 if m.group("dims").startswith("z1") else 1]
        idx = view.detach().argmax(-1)
        return idx.reshape(dims) if dims else idx
    if kind == "randn":
        out = torch.randn(dims, generator=gen, dtype=torch.float64)
    elif kind == "unit":
        out = torch.randn(dims, generator=gen, dtype=torch.float64)
        out = out / out.norm(dim=-1, keepdim=True)
    elif kind == "zeros":
        out = torch.zeros(dims, dtype=torch.float64)
    elif kind == "ones":
        out = torch.ones(dims, dtype=torch.float64)
    elif kind == "eye":
        out = torch.eye(*dims, dtype=torch.float64)
    elif kind == "arange":
        return torch.arange(dims[0], device=dev)
    elif kind == "randint":
        return torch.randint(0, dims[0], dims[1:] or [b], generator=gen).to(dev)
    elif kind in ("positives", "negatives"):
        sample = torch.arange(dims[0] * b, device=dev) % b
        same = sample[:, None] == sample[None, :]
        return (same & ~torch.eye(len(sample), dtype=torch.bool, device=dev)) if kind == "positives" else ~same
    elif kind == "mask":
        m_ = torch.rand(dims, generator=gen) < 0.5
        m_[..., 0] = True
        return m_.to(dev)
    else:  # grid: (B, H, W, 2) pixel centres
        h, w = dims
        ys, xs = torch.meshgrid((torch.arange(h, dtype=torch.float64) + 0.5) / h,
                                (torch.arange(w, dtype=torch.float64) + 0.5) / w, indexing="ij")
        out = torch.stack([ys, xs], -1).expand(b, h, w, 2).clone()
    if m.group("t"):
        out = out.transpose(-1, -2).contiguous()
    return out.to(dev, dt)


def uniform_like(probs: torch.Tensor) -> torch.Tensor:
    """The uniform distribution over the last axis of ``probs`` (MSN's prior): a target distribution to pass
    to a constructor, ``--init target_distribution=@ssl_props.checker.builders:uniform_like``."""
    return torch.full_like(probs, 1.0 / probs.shape[-1])
