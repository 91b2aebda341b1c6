"""The object under test, its inputs, and the small machinery every check shares.

* :class:`LossTarget`: the user's loss plus what it claims to be (family, invariances, stop-gradient),
  taken from ``like=NAME``'s registry entry, from explicit keywords, or inferred from the signature;
* :class:`Case`: a reproducible input recipe (shape, kind, scale, seed, how the second view is made);
  Hypothesis draws cases, the report prints them, ``Case(**d).build()`` rebuilds the tensors;
* :func:`run_property`: runs a property over Hypothesis cases (derandomised) and turns the shrunk
  failure into a :class:`CheckFailed` carrying the counterexample;
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import torch
from hypothesis import HealthCheck, Phase, given, seed as hyp_seed, settings, strategies as st  # noqa: F401

from ssl_props._validation import InvalidArgument, check_pair, describe
from ssl_props.device import resolve_device
from ssl_props.losses import LossInfo, get_loss
from ssl_props.properties import PropertyViolation
from ssl_props.tolerances import EPS, SAFETY, eps as dtype_eps, value_tolerance
from ssl_props.checker.calling import PAIR, Convention, FreshCopy
from ssl_props.checker.cases import Case, cases, pin, pinned  # noqa: F401 - re-exported for the checks

PREDICTOR_SIGNATURE = ("p", "z")
DEFAULT_MAX_EXAMPLES = 25  # per Hypothesis-driven check: keeps one battery well under 20 s on 2 CPU cores


class SkipCheck(Exception):
    """Raised by a check that does not apply to this loss (the reason is reported)."""


class CheckFailed(PropertyViolation):
    """A check's property failed; ``counterexample`` is the (shrunk) input recipe, if any."""

    def __init__(self, message: str, counterexample: dict | None = None):
        super().__init__(message)
        self.counterexample = counterexample


class CheckWarning(CheckFailed):
    """A failure on inputs outside the formula's domain (see :data:`SEVERITY_RULE`): a warning, not an error."""


#: the severity rule, documented once (README "Checking your own loss" repeats it)
SEVERITY_RULE = ("inputs that training reaches (complete or dimensional collapse, constant features, duplicated rows, "
                 "near-zero rows) must give finite values and gradients: an error; inputs outside the formula's "
                 "domain (an exactly zero row for a loss that normalises its embeddings) give a warning: shown, "
                 "counted, exit 0, an error under --strict")

@dataclass(frozen=True)
class LossTarget:
    """A loss under test with its declared (or inferred) capabilities; calling it calls the loss."""

    fn: Callable[..., Any]
    name: str
    signature: tuple[str, str] = ("z1", "z2")
    family: str | None = None  # declared family (None: not declared)
    invariances: frozenset[str] | None = None  # declared invariances (None: not declared)
    needs_stop_gradient: bool = False
    min_batch: int = 2
    like: LossInfo | None = None
    params: dict[str, Any] = field(default_factory=dict)
    device: torch.device = torch.device("cpu")
    max_examples: int = DEFAULT_MAX_EXAMPLES
    examples: tuple[tuple[torch.Tensor, torch.Tensor], ...] = ()
    seed: int | None = None  # None: derandomised Hypothesis (the default); an int: a fresh, reproducible search
    # how the loss runs (found by the pre-flight, see ssl_props.checker.calling)
    convention: Convention = PAIR  # calling convention (views as a pair, stacked, a list, keywords)
    dtype: torch.dtype = torch.float64  # working dtype: inputs are cast to it, the value cast back to float64
    float64_ok: bool = True  # the loss also runs in float64 (finite differences are then taken there)
    stateful: tuple[str, ...] = ()  # tensors that change across calls: each call runs on a fresh copy
    shapes: tuple[int | None, int | None] = (None, None)  # pinned (batch, dim)
    notes: tuple[str, ...] = ()
    declared_state: tuple[str, ...] = ()  # tensors of the loss object that must change across calls (--state)
    diagnosis: str | None = None  # set by the pre-flight when no call ran: the report's one message

    @property
    def is_predictor(self) -> bool:
        return self.needs_stop_gradient or self.signature == PREDICTOR_SIGNATURE

    def raw(self, a: torch.Tensor, b: torch.Tensor) -> Any:
        """The loss on ``a, b`` cast to the working dtype, through the calling convention, result as returned."""
        fn = FreshCopy(self.fn) if self.stateful else self.fn
        return self.convention.call(fn, a.to(self.dtype), b.to(self.dtype))

    def __call__(self, a: torch.Tensor, b: torch.Tensor) -> Any:
        out = self.raw(a, b)
        if self.dtype != a.dtype and isinstance(out, torch.Tensor) and out.is_floating_point():
            return out.to(a.dtype)  # differentiable: gradients reach the float64 leaves
        return out

    def in_float64(self) -> "LossTarget":
        """This target computing in float64 (for properties that only float64 resolves)."""
        return replace(self, dtype=torch.float64)

    def resolvable(self) -> "LossTarget":
        """For properties of the formula (its class, collapse): 16-bit rounding (eps ≥ 9.8e-4, times n·d)
        swamps the differences they compare, so they run in float64 when the loss runs there."""
        half = self.dtype in (torch.float16, torch.bfloat16)
        return self.in_float64() if half and self.float64_ok else self

    def reference(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The registered loss on the same views the loss under test sees (mapped into ``--input-range``)."""
        assert self.like is not None
        a, b = self.convention.mapped(a), self.convention.mapped(b)
        return self.like.fn(a, b, **self.params)

    def reference_label(self) -> str:
        """``simclr(temperature=0.5)``: the reference with its defaults and the given parameters."""
        assert self.like is not None
        return format_call(self.like.name, {**self.like.defaults, **self.params})


def precision_ratio(fn: object) -> float:
    """``eps(working dtype) / eps(float64)``: how much coarser than float64 ``fn`` rounds (1 for float64)."""
    return dtype_eps(getattr(fn, "dtype", torch.float64)) / EPS[torch.float64]


def value_tol(fn: object, value: torch.Tensor, a: torch.Tensor, b: torch.Tensor, ga: torch.Tensor | None,
              gb: torch.Tensor | None, scale: float = 0.0, *, unit_floor: bool = True) -> float:
    """:func:`~ssl_props.tolerances.value_tolerance` for a loss computing in its working dtype.

    The float64 bound ``SAFETY · n·d · eps · (|L| + Σ|z ∂L/∂z| + scale + 1)`` with the working dtype's eps:
    casting the inputs rounds each entry by that relative eps, and every intermediate sum rounds in it.
    The ``+ 1`` (``unit_floor``): SSL formulas add O(1) constants to small terms (``1 − cos``, ``log(1 + x)``,
    ``I + c ZᵀZ`` in a log det, ``exp(0)``), and rounding against a constant of size 1 is absolute, eps per
    term, however small the inputs (TCR at scale 1e-3: L ≈ 1e-5 from d logs of numbers ≈ 1).
    """
    return value_tolerance(value, a, b, ga, gb, scale + (1.0 if unit_floor else 0.0)) * precision_ratio(fn)


def format_call(name: str, params: dict[str, Any]) -> str:
    """``simclr(temperature=0.5)``."""
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in params.items())})"


def _check_callable(fn: object) -> str:
    if not callable(fn):
        raise InvalidArgument(f"fn must be a callable loss fn(z1, z2) -> scalar tensor, got {type(fn).__name__}")
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return getattr(fn, "__name__", type(fn).__name__)
    from ssl_props.checker.calling import read_slots

    slots = read_slots(fn)  # type: ignore[arg-type]
    if slots.known and not (slots.tensors or slots.var_positional):
        raise InvalidArgument(f"fn must accept two views: two positional tensors (z1, z2) or (p, z), one argument (a list "
                              f"or a stacked tensor) or two keyword arguments; {getattr(fn, '__name__', fn)!r} has "
                              f"signature {sig}")
    return getattr(fn, "__name__", type(fn).__name__)


def _check_shapes(shapes: object) -> tuple[int | None, int | None]:
    if shapes is None:
        return (None, None)
    if not (isinstance(shapes, (tuple, list)) and len(shapes) == 2):
        raise InvalidArgument(f"shapes must be (batch, dim) with None for a free size, got shapes={shapes!r}")
    for what, v, lo in (("batch", shapes[0], 2), ("dim", shapes[1], 1)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < lo):
            raise InvalidArgument(f"{what} must be an int >= {lo} (or None), got {what}={v!r}")
    return (shapes[0], shapes[1])


def pin_to(pins: tuple[int | None, int | None], n: int, d: int) -> tuple[int, int]:
    """``(n, d)`` with the sizes pinned in ``pins`` substituted."""
    return (pins[0] or n), (pins[1] or d)


def _positional_names(fn: Callable) -> tuple[str, ...]:
    try:
        ps = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return ()
    return tuple(p.name for p in ps if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))[:2]


def make_target(fn: object, *, like: str | None = None, params: dict[str, Any] | None = None,
                family: str | None = None, invariances: Sequence[str] | None = None,
                needs_stop_gradient: bool | None = None, device: str | torch.device | None = None,
                max_examples: int | None = None, examples: Sequence[tuple[torch.Tensor, torch.Tensor]] = (),
                seed: int | None = None, shapes: tuple[int | None, int | None] | None = None,
                dtype: str | torch.dtype | None = None, views: str | None = None,
                preflight: bool = True, teacher: str | None = None, teacher_detached: bool = False,
                crops: str | tuple | None = None, args: dict[str, Any] | None = None, reduce: str | None = None,
                input_range: str | Sequence[float] | None = None, fixed_seed: int | None = None) -> LossTarget:
    """Validate the user's arguments and build the :class:`LossTarget` (raises :class:`InvalidArgument`).

    ``shapes=(batch, dim)`` (either may be None) pins what the loss accepts; ``dtype`` is the working
    dtype (``float64`` default, ``float32``, ``bfloat16``, ``float16``); ``views`` a calling convention
    (:func:`ssl_props.checker.calling.parse_views`, detected when None). With ``preflight`` the loss is
    called once per shape and dtype (:func:`~ssl_props.checker.calling.run_preflight`); when nothing
    runs, ``target.diagnosis`` holds the one message. ``teacher``, ``teacher_detached``, ``crops``, ``args``,
    ``reduce`` and ``input_range`` declare the loss's shape (:mod:`ssl_props.checker.convention`).
    """
    from ssl_props.checker.calling import DTYPES, PREFLIGHT_SHAPES, Calling, parse_crops, parse_range, parse_views, run_preflight

    name = _check_callable(fn)
    pins = _check_shapes(shapes)
    if dtype is None:
        work = torch.float64
    elif isinstance(dtype, torch.dtype) and dtype in DTYPES.values():
        work = dtype
    elif isinstance(dtype, str) and dtype in DTYPES:
        work = DTYPES[dtype]
    else:
        raise InvalidArgument(f"dtype={dtype!r}; use one of {sorted(DTYPES)}")
    convention = parse_views(views)
    crop_counts, pack = parse_crops(crops)
    if reduce not in (None, "mean", "sum"):
        raise InvalidArgument(f"reduce={reduce!r}; use 'mean' or 'sum'")
    if teacher is not None and not (isinstance(teacher, str) and teacher.isidentifier()):
        raise InvalidArgument(f"teacher={teacher!r} must name the loss's teacher argument")
    if teacher_detached and teacher is None:
        raise InvalidArgument("teacher_detached (--teacher-detached) needs the teacher's argument: --teacher NAME")
    calling = Calling(views=convention, teacher=teacher, teacher_detached=bool(teacher_detached), crops=crop_counts,
                      pack=pack if crops is not None and (":" in str(crops) or isinstance(crops, tuple)) else None,
                      args=tuple((args or {}).items()), reduce=reduce, input_range=parse_range(input_range),
                      fixed_seed=fixed_seed)
    info = None
    if like is not None:
        try:
            info = get_loss(like)
        except KeyError as e:
            raise InvalidArgument(f"like={like!r} is not a registered loss: {e.args[0]}") from None
    params = dict(params or {})
    if params and info is None:
        raise InvalidArgument(f"params={params!r} are parameters of the reference: pass like=NAME too")
    if info is not None:
        known = info.defaults
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise InvalidArgument(f"unknown parameter(s) {unknown} for {info.name}; known: {sorted(known) or 'none'}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise InvalidArgument(f"seed must be None (derandomised) or an int, got seed={seed!r}")
    if max_examples is not None and (isinstance(max_examples, bool) or not isinstance(max_examples, int) or max_examples < 1):
        raise InvalidArgument(f"max_examples must be a positive int, got max_examples={max_examples!r}")
    allowed_families = ("sample-contrastive", "dimension-contrastive", "non-contrastive-predictor")
    if family is not None and family not in allowed_families:
        raise InvalidArgument(f"family={family!r}; use one of {allowed_families}")
    from ssl_props.losses._registry import Invariance
    allowed_inv = set(Invariance.__args__)  # type: ignore[attr-defined]
    if invariances is not None and set(invariances) - allowed_inv:
        raise InvalidArgument(f"unknown invariances {sorted(set(invariances) - allowed_inv)}; allowed: {sorted(allowed_inv)}")
    dev = resolve_device(device)
    checked = []
    for i, pair in enumerate(examples):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise InvalidArgument(f"examples[{i}] must be a pair (z1, z2) of tensors, got {describe(pair)}")
        a, b = check_pair(pair[0], pair[1], (f"examples[{i}][0]", f"examples[{i}][1]"), min_rows=2)
        checked.append((a.detach().to(dev, torch.float64), b.detach().to(dev, torch.float64)))
    names = (convention.argument_names() if convention else None) or _positional_names(fn)  # type: ignore[arg-type]
    signature = info.signature if info else (PREDICTOR_SIGNATURE if names == PREDICTOR_SIGNATURE else ("z1", "z2"))
    sg = needs_stop_gradient if needs_stop_gradient is not None else (
        info.needs_stop_gradient if info else signature == PREDICTOR_SIGNATURE)
    if teacher is not None:
        sg = True
    inv = frozenset(invariances) if invariances is not None else (info.invariances if info else None)
    target = LossTarget(fn, name, signature, family or (info.family if info else None), inv, bool(sg),
                        max(2, info.min_batch) if info else 2, info, params, dev,
                        max_examples or DEFAULT_MAX_EXAMPLES, tuple(checked), seed, shapes=pins)
    if preflight:
        tried = tuple(dict.fromkeys(pin_to(pins, n, d) for n, d in PREFLIGHT_SHAPES))
        pf = run_preflight(fn, dtype=work, shapes=tried, device=dev, calling=calling)  # type: ignore[arg-type]
        target = replace(target, convention=pf.convention, dtype=pf.dtype, float64_ok=pf.float64_ok,
                         stateful=tuple(pf.stateful), notes=tuple(pf.notes), diagnosis=pf.diagnosis)
    else:
        target = replace(target, convention=calling.apply(convention or PAIR), dtype=work)
    if target.convention.teacher and target.convention.names:
        target = replace(target, signature=target.convention.names)
    if info is not None:  # surface a bad parameter value now, as an input error
        a, b = Case(4, 3).build(dev)
        try:
            target.reference(a, b)
        except (InvalidArgument, TypeError, ValueError) as e:
            raise InvalidArgument(f"bad parameters for {target.reference_label()}: {e}") from None
    return target


# --------------------------------------------------------------------------------------------------
# calling the loss


def evaluate(fn: Callable, a: torch.Tensor, b: torch.Tensor, *, what: str = "the loss") -> torch.Tensor:
    """Call ``fn(a, b)`` and return a 0-d tensor; anything else is reported as a property failure."""
    try:
        out = fn(a, b)
    except PropertyViolation:
        raise
    except Exception as e:  # the user's code raising on a valid input is a finding, not a crash
        raise PropertyViolation(f"{what} raised {type(e).__name__}: {e} on input z1={describe(a)}") from None
    if not isinstance(out, torch.Tensor):
        raise PropertyViolation(f"{what} returned {type(out).__name__} ({out!r}), not a torch.Tensor: "
                                f"gradients cannot flow (.item() or float() on the loss?)")
    if out.numel() != 1:
        raise PropertyViolation(f"{what} returned a tensor of shape {tuple(out.shape)}, not a scalar: "
                                f"a missing reduction (reduction='none' or per-sample losses not averaged?)")
    return out.reshape(())


def value_and_grads(fn: Callable, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """``(L, ∂L/∂a, ∂L/∂b)`` on fresh leaf copies of the inputs (a gradient is ``None`` when none flows)."""
    a = a.detach().clone().requires_grad_(True)
    b = b.detach().clone().requires_grad_(True)
    out = evaluate(fn, a, b)
    if not out.requires_grad:
        return out.detach(), None, None
    ga, gb = torch.autograd.grad(out, (a, b), allow_unused=True)
    return out.detach(), ga, gb


def loss_scale(fn: Callable, a: torch.Tensor, b: torch.Tensor) -> float:
    """The loss's natural magnitude on this batch: ``|L(z1, roll(z2, 1))|``, the views mismatched.

    A well-trained pair can make L tiny (SimCLR at small τ: L ≈ e^{−Δ/τ}) although it is computed from
    terms of size 1/τ whose rounding does not shrink with it; mismatching the views exposes that size.
    """
    try:
        with torch.no_grad():
            out = fn(a, torch.roll(b, 1, dims=-2))
        v = abs(float(out))
    except Exception:  # noqa: BLE001 - only a tolerance ingredient: a loss that fails here gets none
        return 0.0
    return v if math.isfinite(v) else 0.0


def rounding_noise(fn: Callable, a: torch.Tensor, b: torch.Tensor, draws: int = 2) -> tuple[float, float]:
    """Measured float64 rounding noise of ``fn`` at ``(a, b)``: ``(for the value, max over the gradients)``.

    Moving every input entry by a few ulps (relative 4·eps, random signs) changes the exact result by
    only ``κ·4·eps``, but re-rolls the rounding of every intermediate: the spread of the results is the
    implementation's rounding noise, cancellation inside it included (which no input-side bound sees).
    Reported with the :data:`~ssl_props.tolerances.SAFETY` factor.
    """
    try:
        v, ga, gb = value_and_grads(fn, a, b)
    except PropertyViolation:
        return 0.0, 0.0
    gen = torch.Generator().manual_seed(12345)
    dv = dg = 0.0
    rel = 4 * dtype_eps(getattr(fn, "dtype", torch.float64))
    for _ in range(draws):
        ra = (torch.randint(0, 2, a.shape, generator=gen) * 2 - 1).to(a)
        rb = (torch.randint(0, 2, b.shape, generator=gen) * 2 - 1).to(b)
        try:
            w, ha, hb = value_and_grads(fn, a * (1 + rel * ra), b * (1 + rel * rb))
        except PropertyViolation:
            continue
        dv = max(dv, abs(float(w) - float(v)))
        for h, g in ((ha, ga), (hb, gb)):
            if h is not None and g is not None:
                dg = max(dg, float((h - g).abs().max()))
    ok = lambda x: x if math.isfinite(x) else 0.0  # noqa: E731
    return SAFETY * ok(dv), SAFETY * ok(dg)


# --------------------------------------------------------------------------------------------------
# Hypothesis driver


def run_property(prop: Callable[[Case], None], strategy: st.SearchStrategy[Case], *, max_examples: int,
                 fixed: Sequence[Case] = (), seed: int | None = None) -> None:
    """Run ``prop`` on the ``fixed`` cases, then on Hypothesis cases (derandomised unless ``seed``; no database).

    On failure raise :class:`CheckFailed` with the message of the shrunk counterexample and its recipe.
    """
    for case in fixed:
        try:
            prop(case)
        except PropertyViolation as e:
            raise CheckFailed(str(e), case.to_dict()) from None
    seen: dict[str, Case] = {}

    @settings(max_examples=max_examples, derandomize=seed is None, database=None, deadline=None, report_multiple_bugs=False,
              suppress_health_check=list(HealthCheck), phases=(Phase.explicit, Phase.generate, Phase.shrink))
    @given(strategy)
    def _prop(case: Case) -> None:
        seen["last"] = case
        prop(case)

    if seed is not None:
        _prop = hyp_seed(seed)(_prop)
    from hypothesis.errors import Flaky

    try:
        _prop()
    except PropertyViolation as e:
        raise CheckFailed(str(e), seen["last"].to_dict() if "last" in seen else None) from None
    except Flaky:  # the same input gave different outcomes: randomness or state inside the loss
        raise CheckFailed("the loss gives different results on the same input when it is replayed (random draws inside "
                          "it, torch.randperm / dropout, or state that survives a fresh copy): seed it or make it "
                          "deterministic to check it", seen["last"].to_dict() if "last" in seen else None) from None


def run_examples(prop: Callable[[torch.Tensor, torch.Tensor], None], target: LossTarget) -> None:
    """Run a tensor-level property on the caller's own ``examples`` (reported as ``examples[i]``)."""
    for i, (a, b) in enumerate(target.examples):
        try:
            prop(a, b)
        except PropertyViolation as e:
            raise CheckFailed(f"{e} (on examples[{i}])", {"examples_index": i}) from None
