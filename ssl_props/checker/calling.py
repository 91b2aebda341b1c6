"""How the checker calls a real loss: the convention found by evidence, and the pre-flight that reports it.

The conventions themselves (``pair``, ``pair:AXIS``, ``stacked:AXIS``, ``cat:AXIS``, ``list``, ``kw:A,B``,
``single``; ``--teacher``, ``--crops``, ``--arg``, ``--reduce``, ``--input-range``) are documented in
:mod:`ssl_props.checker.convention` and re-exported here.

**Detection** (:func:`detect_convention`). The signature is read first: parameters with a number, a
bool or a string as default or annotation, or with a hyperparameter's name (``eps``, ``temperature``,
``epoch``, ``num_slices``, …), are *constants* and never get a view; a required constant without
``--arg NAME=VALUE`` is the diagnosis. The remaining required parameters are tensor slots, and the
candidate conventions follow from their number (two slots: ``pair``/``kw``, then the same with a new
views axis 1 or 0; one slot: ``list``, ``cat:0``, ``single``, then ``stacked:0``/``stacked:1``).
A candidate *qualifies* only when, at every pre-flight shape, the result is a finite 0-d tensor that
changes when either view is redrawn (it depends on every tensor argument, so it is not constant).
Candidates that invent no axis are tried first; among the qualifying ones of a tier, those giving the
same values are one convention. Two different ones, or none, give ONE diagnosis naming the candidates
and the flag that pins each; a result of shape ``(B,)`` gives "add a reduction or pass --reduce mean".

Pre-flight (:func:`run_preflight`): detection (or the pinned ``--views``) in the working dtype, float32
when float64 cannot run, and which tensors of the loss object change across calls (state).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch

from ssl_props.errors import InvalidArgument
from ssl_props.checker.signature import Slots, read_slots
from ssl_props.checker.convention import (DTYPES, PACKS, PAIR, PREFLIGHT_SHAPES, VIEWS_HELP, Convention, FreshCopy,  # noqa: F401
                                          _copy, _tensors_of, changed_state, parse_crops, parse_range, parse_views)

__all__ = ["Convention", "PAIR", "Calling", "Preflight", "detect_convention", "run_preflight", "candidates",
           "parse_views", "parse_crops", "parse_range", "FreshCopy", "PREFLIGHT_SHAPES", "DTYPES"]

@dataclass(frozen=True)
class Calling:
    """What the user declared about the call (flags); everything else is detected."""

    views: Convention | None = None  # --views (pinned kind and axis)
    teacher: str | None = None  # --teacher NAME
    teacher_detached: bool = False  # --teacher-detached
    crops: tuple[int, int] | None = None  # --crops G,L
    pack: str | None = None  # --crops G,L:PACK (None: detected)
    args: tuple[tuple[str, Any], ...] = ()  # --arg NAME=VALUE
    reduce: str | None = None  # --reduce mean|sum
    input_range: tuple[float, float] | None = None  # --input-range LO,HI
    fixed_seed: int | None = None  # --fixed-seed N

    def apply(self, conv: Convention, pack: str | None = None) -> Convention:
        return conv.with_(teacher_detached=self.teacher_detached and conv.teacher, crops=self.crops,
                          pack=pack or self.pack or "list", args=self.args, reduce=self.reduce,
                          input_range=self.input_range, fixed_seed=self.fixed_seed)


def _two_slots(s: Slots, free: list[str], axes: Sequence[int | None]) -> list[Convention]:
    x, y = free[0], free[1]
    positional = s.positional[:2] == [x, y]
    return [Convention("pair", ax) if positional else Convention("kw", ax, (x, y)) for ax in axes]


def tiers(fn: Callable, calling: Calling = Calling()) -> list[list[Convention]]:
    """Candidate conventions in tiers: those that invent no axis first (see the module docstring)."""
    s = read_slots(fn)
    given = {k for k, _ in calling.args}
    free = [t for t in s.tensors if t not in given]
    if calling.views is not None:
        base = [[calling.views]]
    elif calling.teacher is not None:
        others = [t for t in free if t != calling.teacher]
        student = others[0] if others else None
        names = (student, calling.teacher) if student else None
        if names is None:
            return []
        axes = [[None]] if calling.crops else [[None], [0, 1]]
        base = [[Convention("kw", ax, names, teacher=True) for ax in tier] for tier in axes]
    elif not s.known:
        base = [[PAIR, Convention("list"), Convention("cat", 0), Convention("single")],
                [Convention("pair", 1), Convention("stacked", 0)]]
    elif len(free) >= 2 or (s.var_positional and not free):
        base = [_two_slots(s, free, [None]) if len(free) >= 2 else [PAIR],
                [] if calling.crops else (_two_slots(s, free, [1, 0]) if len(free) >= 2 else
                                          [Convention("pair", 1), Convention("pair", 0)])]
    elif len(free) == 1:
        base = [[Convention("list"), Convention("cat", 0), Convention("single")],
                [] if calling.crops else [Convention("stacked", 0), Convention("stacked", 1)]]
    else:
        return []
    if calling.views is not None and calling.views.kind == "kw" and calling.teacher:
        names = calling.views.names
        base = [[calling.views.with_(teacher=True, names=(names[0], names[1]) if calling.teacher in names[1].split("+")
                                     else (names[1], names[0]))]]  # type: ignore[index]
    # crop groups: a list first, then a stacked tensor, then concatenated rows (a tier each)
    packs = [calling.pack] if calling.pack else [p for p in PACKS if p != "tuples"]
    out = []
    for tier in base:
        two_args = [c for c in tier if c.kind in ("pair", "kw")]
        if calling.crops and two_args:
            out += [[calling.apply(c, pack) for c in two_args] for pack in packs]
            rest = [calling.apply(c) for c in tier if c.kind not in ("pair", "kw")]
            out += [rest] if rest else []
        else:
            out.append([calling.apply(c) for c in tier])
    return out


def candidates(fn: Callable, calling: Calling = Calling()) -> list[Convention]:
    """Every candidate convention, in the order they are tried (:func:`tiers` flattened)."""
    return [c for tier in tiers(fn, calling) for c in tier]


# --------------------------------------------------------------------------------------------------
# evidence


@dataclass
class Outcome:
    """What a candidate did at the pre-flight shapes."""

    convention: Convention
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    values: list[float] = field(default_factory=list)
    shape: tuple[int, ...] | None = None  # a non-scalar result's shape
    problem: str | None = None  # non-finite, independent of a view, constant
    permutation_invariant: bool = True  # L(z1[π], z2[π]) = L(z1, z2) at the first shape (a tie-breaker)

    @property
    def qualifies(self) -> bool:
        return not self.errors and self.shape is None and self.problem is None


def _draw(n: int, d: int, seed: int, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, d, generator=g, dtype=torch.float64)
    b = a + 0.3 * torch.randn(n, d, generator=g, dtype=torch.float64)
    return a.to(device, dtype), b.to(device, dtype)


def _error(e: BaseException) -> str:
    first = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {first}"[:300]


def _differs(x: float, y: float, dtype: torch.dtype, size: int = 64) -> bool:
    """Beyond rounding: a value summed from ``size`` = n·d terms rounds by about ``size · eps · |L|``
    (16× that is the margin); a loss that does not depend on a view gives the same float or one within it."""
    return x != y and abs(x - y) > 16 * size * torch.finfo(dtype).eps * max(abs(x), abs(y))


def probe(fn: Callable, conv: Convention, dtype: torch.dtype, shapes: Sequence[tuple[int, int]],
          device: torch.device) -> Outcome:
    """Call ``fn`` as ``conv`` at each shape, on a draw and on the draw with each view redrawn."""
    out = Outcome(conv)
    for n, d in shapes:
        a, b = _draw(n, d, n * 31 + d, dtype, device)
        a2, b2 = _draw(n, d, n * 31 + d + 1000, dtype, device)
        vals = []
        for x, y in ((a, b), (a2, b), (a, b2)):
            try:  # plain tensors: what the loss does with them (in place, no gradient) is for the checks to judge
                with torch.no_grad():
                    r = conv.call(_copy(fn), x, y)
            except Exception as e:  # noqa: BLE001 - recorded: that is what the pre-flight is for
                out.errors[(n, d)] = _error(e)
                break
            if not isinstance(r, torch.Tensor):
                out.errors[(n, d)] = (f"returned {type(r).__name__} ({r!r}), not a torch.Tensor: gradients cannot flow "
                                      f"(.item() or float() on the loss?)")
                break
            if r.numel() != 1:
                out.shape = tuple(r.shape)
                break
            vals.append(float(r.detach().reshape(()).double()))
        if len(vals) < 3:
            continue
        v, va, vb = vals
        out.values.append(v)
        da, db = _differs(v, va, dtype, n * d), _differs(v, vb, dtype, n * d)
        if not all(math.isfinite(x) for x in vals):
            out.problem = out.problem or f"the result is {v} on finite inputs"
        elif not da and not db:
            out.problem = out.problem or f"the result is {v:.6g} whatever the views (constant)"
        elif not da or not db:
            which = "first" if not da else "second"
            out.problem = out.problem or f"the result does not depend on the {which} view"
        if (n, d) == tuple(shapes[0]) and out.problem is None:
            perm = torch.randperm(n, generator=torch.Generator().manual_seed(n + d)).to(device)
            try:
                with torch.no_grad():
                    vp = float(torch.as_tensor(conv.call(_copy(fn), a[perm], b[perm])).reshape(()).double())
                out.permutation_invariant = not _differs(v, vp, dtype, n * d)
            except Exception:  # noqa: BLE001 - a tie-breaker only
                out.permutation_invariant = False
    return out


def _same(x: Outcome, y: Outcome, dtype: torch.dtype) -> bool:
    return len(x.values) == len(y.values) and not any(_differs(u, v, dtype) for u, v in zip(x.values, y.values))


def _shape_label(s: tuple[int, int]) -> str:
    return f"{s[0]}×{s[1]}"


def _choose(outcomes_by_tier: list[list[Outcome]], dtype: torch.dtype) -> tuple[Convention | None, str | None]:
    """The one qualifying convention, or the diagnosis (ambiguity)."""
    for tier in outcomes_by_tier:
        groups: list[list[Outcome]] = []
        for o in (o for o in tier if o.qualifies):
            for grp in groups:
                if _same(grp[0], o, dtype):
                    grp.append(o)
                    break
            else:
                groups.append([o])
        if len(groups) > 1:  # tie-break: every SSL loss is invariant to a joint permutation of the batch
            invariant = [g for g in groups if g[0].permutation_invariant]
            groups = invariant if len(invariant) == 1 else groups
        if len(groups) == 1:
            return groups[0][0].convention, None
        if len(groups) > 1:
            flags = "; ".join(f"--views {g[0].convention.label()} (L = {g[0].values[0]:.6g})" for g in groups)
            return None, (f"{len(groups)} calling conventions run and give different values: {flags}; the checker "
                          f"cannot tell which one your training uses: pin it with one of these flags (API views=)")
    return None, None


def _diagnose(outcomes: list[Outcome], shapes: Sequence[tuple[int, int]], dtype: torch.dtype, views_given: bool,
              slots: Slots | None) -> str:
    """The single message when no candidate qualifies: the error, what works, and the flag that fixes it."""
    if not outcomes:
        return "no calling convention applies to this signature"
    vector = [o for o in outcomes if o.shape is not None and not o.errors]
    if vector:
        o = vector[0]
        dims = "(B,)" if len(o.shape or ()) == 1 else str(o.shape)
        return (f"the loss returns shape {dims} (called as {o.convention.views_label()}), not a scalar: a per-sample "
                f"result; add a reduction or pass --reduce mean (API reduce='mean')")
    problems = [o for o in outcomes if not o.errors and o.problem]
    if problems:
        listed = "; ".join(f"as {o.convention.views_label()}: {o.problem}" for o in problems[:4])
        return (f"no calling convention gives a loss of both views ({listed}): a constant or one-view result means "
                f"the views reach the wrong arguments; pin them with --views {VIEWS_HELP.split(' (')[0]}, "
                f"--teacher NAME, --crops G,L, or use --views single for a one-batch regulariser")

    def informative(o: Outcome) -> tuple[int, int]:  # most shapes run, then an error about the data, not the call
        errs = list(o.errors.values())
        calling = sum(e.startswith(("TypeError", "AttributeError")) for e in errs)
        return (len(shapes) - len(errs), -calling)

    best = max(outcomes, key=informative)
    errors = list(best.errors.values())
    main = max(sorted(set(errors)), key=errors.count)
    ok = [s for s in shapes if s not in best.errors]
    where = ", ".join(_shape_label(s) for s in shapes)
    conventions = ", ".join(o.convention.label() for o in outcomes)
    if ok:
        return (f"the loss runs at {', '.join(map(_shape_label, ok))} but fails at the other shapes tried ({main}) "
                f"when called as {best.convention.views_label()}: it accepts fixed sizes (a buffer or a constructor "
                f"argument sized by them); pin them with --batch N --dim D (API shapes=(N, D)), and --init KEY=VALUE "
                f"to construct it for the size you use")
    fixes = []
    low = main.lower()
    if "dtype" in low or "double" in low or "half" in low:
        fixes.append("--dtype float32 (it computes in a fixed dtype)")
    if "size" in low or "shape" in low or "dimension" in low or "must match" in low:
        fixes.append("--batch N --dim D for a loss that accepts fixed sizes (API shapes=(N, D)), and --init KEY=VALUE "
                     "for a constructor argument sized by them")
    missing = [t for t in (slots.tensors[2:] if slots else []) if t in main]
    if "missing" in low and missing:
        fixes.append(f"--arg {missing[0]}=BUILDER for the extra tensor argument (e.g. unit(16,D) for a queue or "
                     f"prototypes, randint(3,B) for labels, mask(B,4) for a mask)")
    if not views_given:
        fixes.append(f"--views {VIEWS_HELP.split(' (')[0]} for another calling convention, --teacher NAME, --crops G,L")
    return (f"every call failed the same way: {main} (called as {conventions}, at shapes {where}, in "
            f"{str(dtype).replace('torch.', '')}" + (" and float32" if dtype == torch.float64 else "") + "); "
            + ("try " + "; or ".join(fixes) if fixes else "the loss cannot run on two (batch, dim) views"))


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


def _precheck(fn: Callable, calling: Calling) -> str | None:
    """A diagnosis read from the signature alone (a required constant, an unknown --arg or --teacher name)."""
    s = read_slots(fn)
    if not s.known:
        return None
    given = {k for k, _ in calling.args}
    unknown = sorted(given - s.names) if not s.var_keyword else []
    if unknown:
        return f"--arg {unknown[0]}: the loss has no parameter {unknown[0]!r}; its parameters: {', '.join(sorted(s.names))}"
    missing = [c for c in s.constants if c not in given]
    if missing:
        return (f"the loss requires {', '.join(missing)} (a constant with no default, never a view): pass "
                + " ".join(f"--arg {m}=VALUE" for m in missing) + " (API args={...})")
    if calling.teacher is not None and calling.teacher not in s.names:
        return f"--teacher {calling.teacher}: the loss has no argument {calling.teacher!r}; its tensors: {', '.join(s.tensors)}"
    if calling.teacher is not None and calling.views is None:
        others = [t for t in s.tensors if t not in given and t != calling.teacher]
        if len(others) != 1:
            return (f"--teacher {calling.teacher}: exactly one other tensor argument must be the student; the loss has "
                    f"{others or 'none'}: build the others with --arg NAME=BUILDER")
    return None


def run_preflight(fn: Callable, *, views: Convention | None = None, dtype: torch.dtype = torch.float64,
                  shapes: Sequence[tuple[int, int]] = PREFLIGHT_SHAPES, device: torch.device | str = "cpu",
                  calling: Calling | None = None) -> Preflight:
    """Detect (or confirm the pinned) convention in ``dtype`` (float32 when float64 cannot run) and the state."""
    device = torch.device(device)
    calling = calling or Calling(views=views)
    if views is not None and calling.views is None:
        calling = Calling(**{**calling.__dict__, "views": views})
    pre = _precheck(fn, calling)
    if pre:
        return Preflight(diagnosis=pre)
    ts = tiers(fn, calling)
    # the evidence is gathered in float64 (16-bit rounding can hide a dependence), then in the working dtype,
    # then in float32 for a loss that cannot run in float64
    dtypes = list(dict.fromkeys([torch.float64, dtype, torch.float32]))
    first: list[Outcome] = []
    for dt in dtypes:
        conv = ambiguous = None
        seen: list[Outcome] = []
        for tier in ts:  # a later tier is only probed when no candidate of the earlier ones qualifies
            outs = [probe(fn, c, dt, shapes, device) for c in tier]
            seen += outs
            conv, ambiguous = _choose([outs], dt)
            if conv is not None or ambiguous:
                break
        first = first or seen
        if ambiguous:
            return Preflight(diagnosis=ambiguous)
        if conv is None:
            continue
        random = _draws_at_random(fn, conv, dt, shapes[0], device)
        if random:
            return Preflight(diagnosis=random)
        works = dt == dtype or not probe(fn, conv, dtype, shapes[:1], device).errors
        if dt == torch.float64 and dtype != torch.float64 and not works:
            return Preflight(diagnosis=_diagnose([probe(fn, conv, dtype, shapes, device)], shapes, dtype, True, None))
        run_in = dtype if works else dt
        pf = Preflight(conv, run_in, float64_ok=dt == torch.float64)
        if run_in != dtype:
            why = next((e for o in first if o.convention == conv for e in o.errors.values()), "it does not run")
            pf.notes.append(f"cannot run in float64 ({why}); checked in float32, with float32 tolerances")
        if calling.views is None and conv != PAIR:
            pf.notes.append(f"called as {conv.views_label()} (detected; --views {conv.views_label()} pins it)")
        return _with_state(fn, pf, shapes[0], device)
    return Preflight(diagnosis=_diagnose(first, shapes, dtype, calling.views is not None, read_slots(fn)))


def _draws_at_random(fn: Callable, conv: Convention, dtype: torch.dtype, shape: tuple[int, int],
                     device: torch.device) -> str | None:
    """The diagnosis for a loss whose two calls on one input (each on a fresh copy) differ beyond rounding."""
    if conv.fixed_seed is not None:
        return None
    a, b = _draw(*shape, 77, dtype, device)
    with torch.no_grad():
        v1, v2 = (float(torch.as_tensor(conv.call(_copy(fn), a, b)).reshape(()).double()) for _ in range(2))
    if not _differs(v1, v2, dtype, shape[0] * shape[1]):
        return None
    return (f"the loss gives different values on the same input (L = {v1:.6g}, then {v2:.6g}): it draws at random "
            f"(random slices or directions, a permutation, dropout), so no property can be checked on it; pass "
            f"--fixed-seed N to reseed torch's generator before every call (API fixed_seed=N)")


def detect_convention(fn: Callable, *, dtype: torch.dtype = torch.float64,
                      shapes: Sequence[tuple[int, int]] = PREFLIGHT_SHAPES, device: torch.device | str = "cpu",
                      views: str | Convention | None = None, calling: Calling | None = None) -> Convention:
    """The convention of the loss ``fn`` (by evidence, module docstring); raises :class:`InvalidArgument`
    with the one diagnosis when none or several qualify. ``convention.call(fn, z1, z2)`` then calls it
    (``call_views(fn, [z_1, …, z_V])`` for V views)."""
    pinned = parse_views(views) if isinstance(views, str) else views
    pf = run_preflight(fn, views=pinned, dtype=dtype, shapes=shapes, device=device, calling=calling)
    if pf.diagnosis:
        raise InvalidArgument(pf.diagnosis)
    return pf.convention


def _with_state(fn: Callable, pf: Preflight, shape: tuple[int, int], device: torch.device) -> Preflight:
    obj = _copy(fn)
    before = _tensors_of(obj)
    if before or isinstance(obj, torch.nn.Module):
        n, d = shape
        for s in range(2):
            a, b = _draw(n, d, 3 + s, pf.dtype, device)
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
