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
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

import torch
from hypothesis import HealthCheck, Phase, given, seed as hyp_seed, settings, strategies as st

from ssl_props._validation import InvalidArgument, check_pair, describe
from ssl_props.device import resolve_device
from ssl_props.losses import LossInfo, get_loss
from ssl_props.properties import PropertyViolation
from ssl_props.strategies import make_embeddings
from ssl_props.tolerances import EPS, SAFETY

PREDICTOR_SIGNATURE = ("p", "z")
DEFAULT_MAX_EXAMPLES = 25  # per Hypothesis-driven check: keeps one battery well under 20 s on 2 CPU cores


class SkipCheck(Exception):
    """Raised by a check that does not apply to this loss (the reason is reported)."""


class CheckFailed(PropertyViolation):
    """A check's property failed; ``counterexample`` is the (shrunk) input recipe, if any."""

    def __init__(self, message: str, counterexample: dict | None = None):
        super().__init__(message)
        self.counterexample = counterexample


@dataclass(frozen=True)
class Case:
    """Recipe of one input pair: ``z1 = make_embeddings(n, d, kind, seed, scale)`` and ``z2`` made by ``view``.

    ``view``: ``noise`` (z1 plus 30 % Gaussian noise), ``same_kind`` (an independent draw of the same kind),
    ``equal`` (z2 = z1). ``zero_rows`` is a degenerate kind local to the checker (every other row exactly 0).
    """

    n: int
    d: int
    kind: str = "gaussian"
    scale: float = 1.0
    seed: int = 0
    view: str = "noise"

    def build(self, device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The two float64 ``(n, d)`` views on ``device``."""
        dev = resolve_device(device)
        z1 = self._draw(self.kind, self.seed)
        if self.view == "equal":
            z2 = z1.clone()
        elif self.view == "same_kind":
            z2 = self._draw(self.kind, self.seed + 1)
        else:
            g = torch.Generator().manual_seed(self.seed + 7)
            z2 = z1 + 0.3 * self.scale * torch.randn(z1.shape, generator=g, dtype=torch.float64)
        return z1.to(dev), z2.to(dev)

    def _draw(self, kind: str, seed: int) -> torch.Tensor:
        if kind == "zero_rows":
            z = make_embeddings(self.n, self.d, "gaussian", seed=seed, scale=self.scale)
            z[::2] = 0.0
            return z
        return make_embeddings(self.n, self.d, kind, seed=seed, scale=self.scale)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cases(*, n: tuple[int, int] = (2, 10), d: tuple[int, int] = (2, 10), kinds: Sequence[str] = ("gaussian",),
          scales: Sequence[float] = (1.0,), views: Sequence[str] = ("noise",)) -> st.SearchStrategy[Case]:
    """Returns a strategy which generates :class:`Case` recipes; shrinks towards the smallest shape, the
    first kind / scale / view and seed 0."""
    return st.builds(Case, st.integers(*n), st.integers(*d), st.sampled_from(tuple(kinds)),
                     st.sampled_from(tuple(scales)), st.integers(0, 2**31 - 1), st.sampled_from(tuple(views)))


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

    @property
    def is_predictor(self) -> bool:
        return self.needs_stop_gradient or self.signature == PREDICTOR_SIGNATURE

    def __call__(self, a: torch.Tensor, b: torch.Tensor) -> Any:
        return self.fn(a, b)

    def reference(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        assert self.like is not None
        return self.like.fn(a, b, **self.params)

    def reference_label(self) -> str:
        """``simclr(temperature=0.5)``: the reference with its defaults and the given parameters."""
        assert self.like is not None
        return format_call(self.like.name, {**self.like.defaults, **self.params})


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
    try:
        sig.bind(object(), object())
    except TypeError:
        raise InvalidArgument(f"fn must accept two positional tensors (z1, z2) or (p, z); "
                              f"{getattr(fn, '__name__', fn)!r} has signature {sig}") from None
    return getattr(fn, "__name__", type(fn).__name__)


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
                seed: int | None = None) -> LossTarget:
    """Validate the user's arguments and build the :class:`LossTarget` (raises :class:`InvalidArgument`)."""
    name = _check_callable(fn)
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
    names = _positional_names(fn)  # type: ignore[arg-type]
    signature = info.signature if info else (PREDICTOR_SIGNATURE if names == PREDICTOR_SIGNATURE else ("z1", "z2"))
    sg = needs_stop_gradient if needs_stop_gradient is not None else (
        info.needs_stop_gradient if info else signature == PREDICTOR_SIGNATURE)
    inv = frozenset(invariances) if invariances is not None else (info.invariances if info else None)
    target = LossTarget(fn, name, signature, family or (info.family if info else None), inv, bool(sg),
                        max(2, info.min_batch) if info else 2, info, params, dev,
                        max_examples or DEFAULT_MAX_EXAMPLES, tuple(checked), seed)
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
    rel = 4 * EPS[torch.float64]
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
    try:
        _prop()
    except PropertyViolation as e:
        raise CheckFailed(str(e), seen["last"].to_dict() if "last" in seen else None) from None


def run_examples(prop: Callable[[torch.Tensor, torch.Tensor], None], target: LossTarget) -> None:
    """Run a tensor-level property on the caller's own ``examples`` (reported as ``examples[i]``)."""
    for i, (a, b) in enumerate(target.examples):
        try:
            prop(a, b)
        except PropertyViolation as e:
            raise CheckFailed(f"{e} (on examples[{i}])", {"examples_index": i}) from None
