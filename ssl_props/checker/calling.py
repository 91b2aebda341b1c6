"""How the checker calls a real loss: calling conventions, state, and the pre-flight that finds what runs.

The checks speak one language, ``L = f(z1, z2)`` with two ``(batch, dim)`` views. Real losses take
other shapes of arguments; a :class:`Convention` adapts them (autograd flows through every adapter):

========================  =========================================================  ===================
``--views``               call                                                       e.g.
========================  =========================================================  ===================
``pair``                  ``fn(z1, z2)``                                             NTXentLoss, VICReg
``pair:AXIS``             ``fn(z1.unsqueeze(AXIS), z2.unsqueeze(AXIS))``             MMCRLoss (axis 1)
``stacked:AXIS``          ``fn(torch.stack([z1, z2], AXIS))``                        a (views, batch, dim) loss
``list``                  ``fn([z1, z2])``                                           EMPSSLLoss, FroSSLLoss
``cat:AXIS``              ``fn(torch.cat([z1, z2], AXIS))``                          WMSELoss ((2n, d))
``kw:A,B[:AXIS]``         ``fn(A=z1[.unsqueeze(AXIS)], B=z2[...])``                  LeJEPALoss (kw:global_proj,local_proj:0)
========================  =========================================================  ===================

State: a loss whose tensors change across calls (a running covariance, a centre, a queue, whitening
statistics) is *stateful*; each call then runs on a fresh copy of the object as it was constructed, so
examples do not leak into each other (the first step of training, every time).

Pre-flight: one call per shape and dtype before the battery. When nothing runs, the report is ONE
diagnosis (what failed, what works, the flag that fixes it) instead of N copies of the same crash.
"""
from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch

from ssl_props.errors import InvalidArgument

#: shapes (batch, dim) the pre-flight tries: N < D, N > D and square
PREFLIGHT_SHAPES = ((4, 8), (8, 4), (6, 6))
DTYPES = {"float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass(frozen=True)
class Convention:
    """One way of passing two views to a loss (see the module table)."""

    kind: str  # pair | stacked | list | kw
    axis: int | None = None
    names: tuple[str, str] | None = None

    def label(self) -> str:
        """The ``--views`` spelling: ``pair``, ``pair:1``, ``stacked:0``, ``list``, ``kw:a,b:0``."""
        if self.kind == "kw":
            assert self.names is not None
            return f"kw:{','.join(self.names)}" + (f":{self.axis}" if self.axis is not None else "")
        return self.kind + (f":{self.axis}" if self.axis is not None else "")

    def call(self, fn: Callable[..., Any], a: torch.Tensor, b: torch.Tensor) -> Any:
        up = (lambda t: t) if self.axis is None else (lambda t: t.unsqueeze(self.axis))
        if self.kind == "pair":
            return fn(up(a), up(b))
        if self.kind == "stacked":
            return fn(torch.stack([a, b], self.axis or 0))
        if self.kind == "cat":
            return fn(torch.cat([a, b], self.axis or 0))
        if self.kind == "list":
            return fn([a, b])
        assert self.names is not None
        return fn(**{self.names[0]: up(a), self.names[1]: up(b)})

    def argument_names(self) -> tuple[str, str] | None:
        return self.names if self.kind == "kw" else None


PAIR = Convention("pair")


def parse_views(spec: str | None) -> Convention | None:
    """``"pair:1"`` → :class:`Convention`; ``None`` → ``None`` (detect in the pre-flight)."""
    if spec is None:
        return None
    parts = spec.split(":")
    kind = parts[0]
    try:
        if kind in ("pair", "stacked", "cat", "list") and len(parts) <= 2:
            axis = int(parts[1]) if len(parts) == 2 else None
            if kind == "list" and axis is not None:
                raise ValueError
            return Convention(kind, axis if kind in ("pair", "list") else (axis or 0))
        if kind == "kw" and len(parts) in (2, 3):
            names = tuple(x.strip() for x in parts[1].split(","))
            if len(names) != 2 or not all(n.isidentifier() for n in names):
                raise ValueError
            return Convention("kw", int(parts[2]) if len(parts) == 3 else None, names)  # type: ignore[arg-type]
    except ValueError:
        pass
    raise InvalidArgument(f"views={spec!r} is not a calling convention; use pair, pair:AXIS, stacked:AXIS, cat:AXIS, list or "
                          f"kw:NAME1,NAME2[:AXIS] (e.g. pair:1 for MMCR's (batch, views, dim), list for EMP-SSL)")


def _parameters(fn: Callable) -> list[inspect.Parameter] | None:
    try:  # a Module's __call__ takes *args: its forward says what it accepts
        return list(inspect.signature(fn.forward if isinstance(fn, torch.nn.Module) else fn).parameters.values())
    except (TypeError, ValueError):
        return None


def candidates(fn: Callable) -> list[Convention]:
    """Conventions to try, in order, from the signature: two positional → pair (then views on axis 1 / 0);
    one positional → list, stacked, concatenated; two required keyword-only → kw (plain, then a views axis 0 / 1)."""
    ps = _parameters(fn)
    if ps is None:
        return [PAIR, Convention("pair", 1), Convention("list"), Convention("stacked", 0), Convention("cat", 0)]
    positional = [p for p in ps if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required_kw = [p.name for p in ps if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    var_positional = any(p.kind is p.VAR_POSITIONAL for p in ps)
    out: list[Convention] = []
    if len(positional) >= 2 or var_positional:
        out += [PAIR, Convention("pair", 1), Convention("pair", 0)]
    if len(positional) >= 1 or var_positional:
        out += [Convention("list"), Convention("stacked", 1), Convention("stacked", 0), Convention("cat", 0)]
    if len(required_kw) == 2:
        names = (required_kw[0], required_kw[1])
        out += [Convention("kw", None, names), Convention("kw", 0, names), Convention("kw", 1, names)]
    return out


def can_take_two_views(fn: Callable) -> bool:
    """Whether any convention could call ``fn`` (else the signature itself is the user's error)."""
    return bool(candidates(fn))


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


# --------------------------------------------------------------------------------------------------
# pre-flight


@dataclass
class Preflight:
    """What the pre-flight found: how to call the loss, in which dtype, whether it keeps state."""

    convention: Convention = PAIR
    dtype: torch.dtype = torch.float64
    float64_ok: bool = True
    stateful: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    diagnosis: str | None = None  # set when nothing runs: the one message the report shows


def _error(e: BaseException) -> str:
    first = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {first}"[:300]


def _try(fn: Callable, conv: Convention, dtype: torch.dtype, shapes: Sequence[tuple[int, int]],
         device: torch.device) -> dict[tuple[int, int], str | None]:
    out: dict[tuple[int, int], str | None] = {}
    for n, d in shapes:
        g = torch.Generator().manual_seed(n * 31 + d)
        a = torch.randn(n, d, generator=g, dtype=torch.float64).to(device, dtype)
        b = (a.double() + 0.3 * torch.randn(n, d, generator=g, dtype=torch.float64).to(device)).to(dtype)
        try:  # plain tensors: what the loss does with them (in place, no gradient) is for the checks to judge
            conv.call(_copy(fn), a, b)
            out[(n, d)] = None
        except Exception as e:  # noqa: BLE001 - recorded: that is what the pre-flight is for
            out[(n, d)] = _error(e)
    return out


def _shape_label(s: tuple[int, int]) -> str:
    return f"{s[0]}×{s[1]}"


def run_preflight(fn: Callable, *, views: Convention | None, dtype: torch.dtype, shapes: Sequence[tuple[int, int]],
                  device: torch.device) -> Preflight:
    """One call per shape and dtype (and per candidate convention when ``views`` is not given)."""
    convs = [views] if views is not None else candidates(fn)
    tried: list[tuple[Convention, torch.dtype, dict]] = []
    for conv in convs:
        res = _try(fn, conv, dtype, shapes, device)
        tried.append((conv, dtype, res))
        if all(v is None for v in res.values()):
            pf = Preflight(conv, dtype)
            if dtype != torch.float64:
                pf.float64_ok = all(v is None for v in _try(fn, conv, torch.float64, shapes, device).values())
            if views is None and conv != PAIR:
                pf.notes.append(f"called as {conv.label()} (detected; --views {conv.label()} pins it)")
            return _with_state(fn, pf, shapes[0], device)
    if dtype == torch.float64:  # a loss that cannot run in float64: check it in the dtype it runs in
        for conv in convs:
            res32 = _try(fn, conv, torch.float32, shapes, device)
            if all(v is None for v in res32.values()):
                why = next(e for c, _, r in tried if c == conv for e in r.values() if e)
                pf = Preflight(conv, torch.float32, float64_ok=False)
                pf.notes.append(f"cannot run in float64 ({why}); checked in float32, with float32 tolerances")
                if views is None and conv != PAIR:
                    pf.notes.append(f"called as {conv.label()} (detected; --views {conv.label()} pins it)")
                return _with_state(fn, pf, shapes[0], device)
    return Preflight(diagnosis=_diagnose(tried, shapes, dtype, views is not None))


def _with_state(fn: Callable, pf: Preflight, shape: tuple[int, int], device: torch.device) -> Preflight:
    obj = _copy(fn)
    before = _tensors_of(obj)
    if before or isinstance(obj, torch.nn.Module):
        n, d = shape
        g = torch.Generator().manual_seed(3)
        for _ in range(2):
            a = torch.randn(n, d, generator=g, dtype=torch.float64).to(device, pf.dtype)
            b = torch.randn(n, d, generator=g, dtype=torch.float64).to(device, pf.dtype)
            try:
                with torch.no_grad():
                    pf.convention.call(obj, a, b)
            except Exception:  # noqa: BLE001 - it ran in the pre-flight; the battery will report any failure
                break
        pf.stateful = changed_state(before, _tensors_of(obj))
    if pf.stateful:
        pf.notes.append(f"stateful: {', '.join(pf.stateful)} change across calls (running statistics); every call runs "
                        f"on a fresh copy of the loss as constructed")
    return pf


def _diagnose(tried: list[tuple[Convention, torch.dtype, dict]], shapes: Sequence[tuple[int, int]],
              dtype: torch.dtype, views_given: bool) -> str:
    """The single message when no call ran: the error, what works, and the flag that fixes it."""
    def informative(t: tuple) -> tuple[int, int]:  # most shapes run, then an error about the data, not the call
        errs = [e for e in t[2].values() if e]
        calling = sum(e.startswith(("TypeError", "AttributeError")) for e in errs)  # the call's shape, not the data
        return (sum(v is None for v in t[2].values()), -calling)

    best_conv, _, best = max(tried, key=informative)
    errors = [e for e in best.values() if e]
    main = max(sorted(set(errors)), key=errors.count)
    ok = [s for s, e in best.items() if e is None]
    where = ", ".join(_shape_label(s) for s in shapes)
    conventions = ", ".join(c.label() for c, _, _ in tried)
    if ok:
        return (f"the loss runs at {', '.join(map(_shape_label, ok))} but fails at the other shapes tried ({main}) "
                f"when called as {best_conv.label()}: it accepts fixed sizes (a buffer or a constructor argument sized "
                f"by them); pin them with --batch N --dim D (API shapes=(N, D)), and --init KEY=VALUE to construct "
                f"it for the size you use")
    fixes = []
    low = main.lower()
    if "dtype" in low or "double" in low or "half" in low:
        fixes.append("--dtype float32 (it computes in a fixed dtype)")
    if "size" in low or "shape" in low or "dimension" in low or "must match" in low:
        fixes.append("--batch N --dim D for a loss that accepts fixed sizes (API shapes=(N, D)), and --init KEY=VALUE "
                     "for a constructor argument sized by them")
    if not views_given:
        fixes.append("--views pair|pair:AXIS|stacked:AXIS|list|kw:NAME1,NAME2[:AXIS] for another calling convention")
    return (f"every call failed the same way: {main} (called as {conventions}, at shapes {where}, in "
            f"{str(dtype).replace('torch.', '')}" + (" and float32" if dtype == torch.float64 else "") + "); "
            + ("try " + "; or ".join(fixes) if fixes else "the loss cannot run on two (batch, dim) views"))
