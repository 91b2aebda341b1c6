"""Calling conventions (how two views reach a real loss) and the state of a loss object.

The checks speak one language, ``L = f(z1, z2)`` with two ``(batch, dim)`` views. Real losses take
other shapes of arguments; a :class:`Convention` adapts them (autograd flows through every adapter):

===========================  =====================================================  ===========================
``--views``                  call                                                   e.g.
===========================  =====================================================  ===========================
``pair``                     ``fn(z1, z2)``                                         NTXentLoss, VICReg
``pair:AXIS``                ``fn(z1.unsqueeze(AXIS), z2.unsqueeze(AXIS))``         MMCRLoss (axis 1)
``stacked:AXIS[:U]``         ``fn(torch.stack([z1, z2], AXIS))`` (views unsqueezed   a (views, batch, dim) loss;
                             at U first)                                            stacked:1:0 → (1, 2, B, D)
``list``                     ``fn([z1, z2])``                                       EMPSSLLoss, FroSSLLoss
``cat:AXIS``                 ``fn(torch.cat([z1, z2], AXIS))``                      WMSELoss ((2n, d))
``kw:A,B[:AXIS]``            ``fn(A=z1[.unsqueeze(AXIS)], B=z2[...])``              LeJEPALoss (kw:global_proj,local_proj:0);
                                                                                    ``A+C`` gives z1 to A and C
``single[:AXIS]``            ``fn(z1) + fn(z2)``: one batch, applied per view       KoLeoLoss (as DINOv2 adds it)
===========================  =====================================================  ===========================

Declared shapes on top of a convention (flags of ``ssl-props check``, fields here):

* ``--teacher NAME`` (``teacher``): that argument gets ``z2``, the detached teacher; the other tensor
  argument gets ``z1``, the student. No gradient may reach the teacher (``check_stop_gradient``), unless
  ``--teacher-detached`` declares that the training loop detaches it (the teacher is then passed detached).
* ``--crops G,L[:PACK]`` (``crops``, ``pack``): multi-crop. Crop ``k`` of a batch ``x`` is
  ``x + c_k (x − mean(x))`` with ``c_k = −k / (2(K − 1))`` (``c_0 = 0``: crop 0 is ``x``; later crops shrink
  towards the batch mean, as smaller crops keep less of what is specific to a sample). The map is affine
  and acts on every row alike, so it commutes with batch permutations, rotations, shifts and scalings:
  every symmetry check keeps its meaning. With a teacher, the teacher gets the G global crops of ``z2``
  and the student the G + L crops of ``z1`` (DINO); without, crops alternate between ``z1`` and ``z2``
  and the first argument gets the G global ones, the second the L local ones (SwAV's high/low
  resolution, LeJEPA's global/local). PACK is how a group is passed: ``list`` (default), ``stacked``
  (a new leading axis), ``cat`` (concatenated rows) or ``tuples`` (a list of ``(x, local grid)`` pairs,
  the 2 × 2 local grid holding x at every location: VICRegL); a one-argument convention gets every crop.
* ``--arg NAME=VALUE`` (``args``): an extra argument: a constant (``eps=1e-4``) or a tensor the checker
  builds (``queue=unit(D,16)``, ``labels=randint(3,B)``; :mod:`ssl_props.checker.builders`).
* ``--reduce mean|sum`` (``reduce``): reduces a per-sample result.
* ``--fixed-seed N`` (``fixed_seed``): torch's global generator is reseeded with N before every call, so a
  loss that draws at random (sliced projections) gives the same value on the same input.
* ``--input-range LO,HI`` (``input_range``): every view entry is mapped into (LO, HI) by
  ``mid + half·tanh((x − mid)/half)`` before the call (scores that are cosines, probabilities): the
  drawn inputs are restricted instead of a failure being reported outside the loss's domain.

State: a loss whose tensors change across calls (a running covariance, a centre, a queue, whitening
statistics) is *stateful*; each call then runs on a fresh copy of the object as it was constructed, so
examples do not leak into each other (the first step of training, every time).

The convention of a loss is found by :func:`ssl_props.checker.calling.detect_convention` (by evidence,
not by first success).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import torch

from ssl_props.errors import InvalidArgument

#: shapes (batch, dim) the pre-flight tries: N < D, N > D and square
PREFLIGHT_SHAPES = ((4, 8), (8, 4), (6, 6))
DTYPES = {"float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
KINDS = ("pair", "stacked", "cat", "list", "kw", "single")
PACKS = ("list", "stacked", "cat", "tuples")
#: the ``--views`` spellings, for ``--help`` and every diagnosis
VIEWS_HELP = ("pair | pair:AXIS | stacked:AXIS[:U] | cat:AXIS[:U] | list | kw:NAME1,NAME2[:AXIS] | single[:AXIS] "
              "(detected when omitted)")


def crop_of(x: torch.Tensor, k: int, total: int) -> torch.Tensor:
    """Crop ``k`` of ``total`` of the batch ``x`` (rows on axis ``-2``): ``x + c_k (x − mean(x))``,
    ``c_k = −k / (2 (total − 1))`` (module docstring)."""
    if k == 0:
        return x
    c = -k / (2 * max(total - 1, 1))
    return x + c * (x - x.mean(-2, keepdim=True))


def _map_range(x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    return mid + half * torch.tanh((x - mid) / half)


@dataclass(frozen=True)
class Convention:
    """One way of passing two views to a loss (see the module table); ``call(fn, z1, z2)`` calls it."""

    kind: str  # pair | stacked | cat | list | kw | single
    axis: int | None = None
    names: tuple[str, str] | None = None  # kw: (argument for z1, argument for z2); with a teacher (student, teacher)
    teacher: bool = False  # the second view is a detached teacher (names[1])
    teacher_detached: bool = False  # declared: the caller detaches the teacher; it is passed as z2.detach()
    crops: tuple[int, int] | None = None  # (global G, local L) multi-crop
    pack: str = "list"  # how a crop group is passed: list | stacked | cat
    args: tuple[tuple[str, Any], ...] = ()  # extra arguments: (name, constant or builder spec)
    reduce: str | None = None  # mean | sum applied to a non-scalar result
    input_range: tuple[float, float] | None = None
    unsqueeze: int | None = None  # stacked/cat: each view unsqueezed at this axis first (stacked:1:0 → (1, 2, B, D))
    fixed_seed: int | None = None  # torch's global generator reseeded before every call (a loss drawing at random)
    notes: tuple[str, ...] = field(default=(), compare=False)

    def label(self) -> str:
        """The flags that pin it: ``pair``, ``pair:1``, ``kw:a,b:0 --crops 2,4:stacked --reduce mean`` ..."""
        if self.kind == "kw":
            assert self.names is not None
            out = f"kw:{','.join(self.names)}" + (f":{self.axis}" if self.axis is not None else "")
        else:
            out = self.kind + (f":{self.axis}" if self.axis is not None else "")
            out += f":{self.unsqueeze}" if self.unsqueeze is not None else ""
        if self.teacher:
            assert self.names is not None
            out = f"{out} --teacher {self.names[1]}" + (" --teacher-detached" if self.teacher_detached else "")
        if self.crops:
            out += f" --crops {self.crops[0]},{self.crops[1]}" + (f":{self.pack}" if self.pack != "list" else "")
        for k, v in self.args:
            out += f" --arg {k}={v if isinstance(v, str) else repr(v)}"
        if self.reduce:
            out += f" --reduce {self.reduce}"
        if self.input_range:
            out += f" --input-range={self.input_range[0]:g},{self.input_range[1]:g}"
        if self.fixed_seed is not None:
            out += f" --fixed-seed {self.fixed_seed}"
        return out

    def views_label(self) -> str:
        """Only the ``--views`` part of :meth:`label`."""
        return self.label().split(" --")[0]

    # ------------------------------------------------------------------ calling
    def _extra(self, like: torch.Tensor, other: torch.Tensor | None = None) -> dict[str, Any]:
        from ssl_props.checker.builders import build_arg

        return {k: build_arg(k, v, like, (like, like if other is None else other)) for k, v in self.args}

    def mapped(self, t: torch.Tensor) -> torch.Tensor:
        """``t`` mapped into ``input_range`` (unchanged without one)."""
        return t if self.input_range is None else _map_range(t, *self.input_range)

    def _up(self, t: torch.Tensor) -> torch.Tensor:
        return t if self.axis is None else t.unsqueeze(self.axis)

    def _pack(self, group: Sequence[torch.Tensor]) -> Any:
        if self.pack == "tuples":  # VICRegL: (global (B, D), local (B, 2, 2, D)) per crop, the local grid constant
            return [(x, x[..., None, None, :].expand(*x.shape[:-1], 2, 2, x.shape[-1])) for x in group]
        if self.pack == "stacked":
            return torch.stack(list(group), 0)
        if self.pack == "cat":
            return torch.cat(list(group), 0)
        return list(group)

    def _groups(self, a: torch.Tensor, b: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """(first argument's crops, second argument's crops)."""
        assert self.crops is not None
        g, loc = self.crops
        if self.teacher:  # student: G + L crops of z1; teacher: the G global crops of z2
            k = g + loc
            return [crop_of(a, i, k) for i in range(k)], [crop_of(b, i, k) for i in range(g)]
        k = (g + loc + 1) // 2
        seq = [crop_of(x, i, max(k, 2)) for i in range(k) for x in (a, b)]
        return seq[:g], seq[g:g + loc]

    def call(self, fn: Callable[..., Any], a: torch.Tensor, b: torch.Tensor) -> Any:
        """The loss on the views ``a`` (z1: student, prediction) and ``b`` (z2: teacher, target)."""
        if self.fixed_seed is not None:  # the loss's random draws (slices, permutations) the same at every call
            with torch.random.fork_rng(devices=[a.device] if a.device.type == "cuda" else []):
                torch.manual_seed(self.fixed_seed)
                return self._call(fn, a, b)
        return self._call(fn, a, b)

    def _call(self, fn: Callable[..., Any], a: torch.Tensor, b: torch.Tensor) -> Any:
        if self.input_range is not None:
            a, b = _map_range(a, *self.input_range), _map_range(b, *self.input_range)
        if self.teacher_detached:
            b = b.detach()
        extra = self._extra(a, b)
        if self.kind == "single":
            views = [*self._groups(a, b)[0], *self._groups(a, b)[1]] if self.crops else [a, b]
            return sum(self._reduced(fn(self._up(v), **extra)) for v in views)
        if self.crops:
            first, second = self._groups(a, b)
            if self.kind in ("list", "stacked", "cat"):
                return self._reduced(self._one_argument(fn, first + second, extra))
            x, y = self._pack(first), self._pack(second)
        else:
            if self.kind in ("list", "stacked", "cat"):
                return self._reduced(self._one_argument(fn, [a, b], extra))
            x, y = self._up(a), self._up(b)
        if self.kind == "pair":
            return self._reduced(fn(x, y, **extra))
        assert self.names is not None  # "a+b" names two arguments that get the same view
        kw = {**{n: x for n in self.names[0].split("+")}, **{n: y for n in self.names[1].split("+")}}
        return self._reduced(fn(**kw, **extra))

    def _one_argument(self, fn: Callable[..., Any], views: list[torch.Tensor], extra: dict[str, Any]) -> Any:
        if self.unsqueeze is not None:
            views = [v.unsqueeze(self.unsqueeze) for v in views]
        if self.kind == "stacked":
            return fn(torch.stack(views, self.axis or 0), **extra)
        if self.kind == "cat":
            return fn(torch.cat(views, self.axis or 0), **extra)
        return fn(views, **extra)

    def _reduced(self, out: Any) -> Any:
        if self.reduce and isinstance(out, torch.Tensor) and out.numel() != 1:
            return out.mean() if self.reduce == "mean" else out.sum()
        return out

    def call_views(self, fn: Callable[..., Any], views: Sequence[torch.Tensor]) -> Any:
        """The loss on V ≥ 2 aligned views: one-argument conventions take them all at once, ``single``
        sums over them, two-argument ones average over the unordered view pairs (multi-crop style)."""
        views = list(views)
        if self.kind in ("list", "stacked", "cat"):
            return self._reduced(self._one_argument(fn, views, self._extra(views[0])))
        if self.kind == "single":
            return sum(self._reduced(fn(self._up(v), **self._extra(v))) for v in views)
        vals = [self.call(fn, views[i], views[j]) for i in range(len(views)) for j in range(i + 1, len(views))]
        return torch.stack([torch.as_tensor(x).reshape(()) for x in vals]).mean()

    def argument_names(self) -> tuple[str, str] | None:
        return self.names if self.kind == "kw" else None

    def with_(self, **changes: Any) -> "Convention":
        """A copy with ``changes`` (``dataclasses.replace``)."""
        return replace(self, **changes)


PAIR = Convention("pair")


def parse_views(spec: str | None) -> Convention | None:
    """``"pair:1"`` → :class:`Convention`; ``None`` → ``None`` (detect in the pre-flight)."""
    if spec is None:
        return None
    parts = spec.split(":")
    kind = parts[0]
    try:
        if kind in ("stacked", "cat") and len(parts) == 3:  # stacked:AXIS:UNSQUEEZE
            return Convention(kind, int(parts[1]), unsqueeze=int(parts[2]))
        if kind in ("pair", "stacked", "cat", "list", "single") and len(parts) <= 2:
            axis = int(parts[1]) if len(parts) == 2 else None
            if kind == "list" and axis is not None:
                raise ValueError
            return Convention(kind, axis if kind in ("pair", "list", "single") else (axis or 0))
        if kind == "kw" and len(parts) in (2, 3):
            names = tuple(x.strip() for x in parts[1].split(","))
            if len(names) != 2 or not all(p.isidentifier() for n in names for p in n.split("+")):
                raise ValueError
            return Convention("kw", int(parts[2]) if len(parts) == 3 else None, names)  # type: ignore[arg-type]
    except ValueError:
        pass
    raise InvalidArgument(f"views={spec!r} is not a calling convention; use {VIEWS_HELP.split(' (')[0]} (e.g. pair:1 "
                          f"for MMCR's (batch, views, dim), list for EMP-SSL, single for KoLeo)")


def parse_crops(spec: str | tuple | None) -> tuple[tuple[int, int] | None, str]:
    """``"2,6"`` → ``((2, 6), "list")``; ``"2,2:stacked"`` → ``((2, 2), "stacked")``."""
    if spec is None:
        return None, "list"
    if isinstance(spec, tuple):
        return (int(spec[0]), int(spec[1])), (spec[2] if len(spec) > 2 else "list")
    counts, _, pack = spec.partition(":")
    try:
        g, loc = (int(x) for x in counts.split(","))
    except ValueError:
        g = loc = -1
    pack = pack or "list"
    if g < 1 or loc < 0 or g + loc < 2 or pack not in PACKS:
        raise InvalidArgument(f"crops={spec!r}: use G,L[:PACK] with G >= 1 global and L >= 0 local crops (G + L >= 2) "
                              f"and PACK one of {', '.join(PACKS)} (e.g. --crops 2,6 for DINO's lists)")
    return (g, loc), pack


def parse_range(spec: str | Sequence[float] | None) -> tuple[float, float] | None:
    """``"-1,1"`` → ``(-1.0, 1.0)``."""
    if spec is None:
        return None
    try:
        lo, hi = (float(x) for x in (spec.split(",") if isinstance(spec, str) else spec))
    except (TypeError, ValueError):
        lo = hi = float("nan")
    if not lo < hi:
        raise InvalidArgument(f"input_range={spec!r}: use LO,HI with LO < HI (e.g. --input-range -1,1 for cosines)")
    return (lo, hi)


# --------------------------------------------------------------------------------------------------
# state


def _tensors_of(obj: Any) -> dict[str, Any]:
    """Tensor-valued (or None) attributes of ``obj`` and, for a Module, of its submodules and buffers."""
    mods = list(obj.named_modules()) if isinstance(obj, torch.nn.Module) else [("", obj)]
    out: dict[str, Any] = {}
    for prefix, m in mods:
        for k, v in getattr(m, "__dict__", {}).items():
            if isinstance(v, torch.Tensor):
                out[f"{prefix}.{k}".lstrip(".")] = v.detach().clone()
            elif v is None and not k.startswith("_"):
                out[f"{prefix}.{k}".lstrip(".")] = None
        if isinstance(m, torch.nn.Module):
            for k, v in m.named_buffers(recurse=False):
                out[f"{prefix}.{k}".lstrip(".")] = None if v is None else v.detach().clone()
    return out


def changed_state(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Names whose tensor appeared, disappeared, changed shape or changed value between two snapshots."""
    changed = []
    for k in sorted(set(before) | set(after)):
        x, y = before.get(k), after.get(k)
        if (x is None) != (y is None):
            changed.append(k)
        elif x is not None and (x.shape != y.shape or not torch.equal(x, y)):
            changed.append(k)
    return changed


class FreshCopy:
    """Calls a fresh deep copy of ``obj`` each time (a stateful loss, as constructed, every call)."""

    def __init__(self, obj: Any):
        self.obj = obj
        self.__name__ = getattr(obj, "__name__", type(obj).__name__)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return copy.deepcopy(self.obj)(*args, **kwargs)


def _copy(obj: Any) -> Any:
    try:
        return copy.deepcopy(obj)
    except Exception:  # noqa: BLE001 - an object that cannot be copied is called as it is
        return obj
