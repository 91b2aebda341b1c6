"""``profile_loss``: the theory applied to a loss (its optimum on relation graphs, its linear learning dynamics).

>>> from ssl_props import profile_loss
>>> prof = profile_loss("vicreg_spectral", dynamics=False, compare=False)   # doctest: +SKIP
>>> prof.passed, [v.status for v in prof.verdicts][:2]                       # doctest: +SKIP
(True, ['pass', 'pass'])
"""
from __future__ import annotations

import functools
import inspect
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from ssl_props.device import resolve_device, threads_for
from ssl_props.errors import InvalidArgument
from ssl_props.profile.compare import SIGNATURE_FIELDS, compare_signatures, count_per_component, signature_of
from ssl_props.profile.dynamics import DynamicsConfig, DynamicsResult, MODES, loop_integral, run_dynamics
from ssl_props.profile.feeding import feeding_for
from ssl_props.profile.graph_losses import REFERENCES, ProfileFailure, Reference, UnboundedBelow
from ssl_props.profile.reference_cache import cached_signature
from ssl_props.profile.report import SCHEMA, render, to_dict
from ssl_props.profile.sg_verdict import StopGradientVerdict, stop_gradient_verdict
from ssl_props.profile.optimum import GraphOptimum, GraphSpec, default_graphs, optimise_on_graph
from ssl_props.profile.verdicts import Verdict, dynamics_verdicts, graph_verdicts, is_l2_predictor_loss

__all__ = ["Profile", "profile_loss", "SCHEMA", "SIGNATURE_FIELDS"]



@dataclass
class Profile:
    """The result of :func:`profile_loss` (render with :meth:`render`, ``ssl-props/profile/v2`` JSON with :meth:`to_dict`)."""

    loss: str
    form: str  # "pair", "graph" or "predictor"
    params: dict[str, Any]
    reference: str | None  # the spectral reference the loss is, if any
    device: str
    graphs: list[GraphOptimum]
    verdicts: list[Verdict]
    dynamics: dict[str, DynamicsResult] = field(default_factory=dict)
    dynamics_notes: list[str] = field(default_factory=list)
    loop: tuple[float, float] | None = None
    sg_verdict: str | None = None  # the stop-gradient verdict of the dynamics, one sentence
    sg: StopGradientVerdict | None = None  # its ranks per mode (ssl_props.profile.sg_verdict)
    shares: list[str] = field(default_factory=list)  # references with the same signature on every graph
    differs: dict[str, list[str]] = field(default_factory=dict)  # reference -> "graph: field yours vs theirs"
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """No verdict whose theorem applies to this loss failed."""
        return not any(v.status == "fail" for v in self.verdicts)

    def signature(self) -> dict[str, dict[str, Any]]:
        return {g.graph: signature_of(g) for g in self.graphs}

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def render(self, fmt: str = "text") -> str:
        return render(self, fmt)

    def __str__(self) -> str:
        return self.render("text")


def _positional(fn: Callable) -> tuple[str, ...]:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return ()
    return tuple(p.name for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                 and p.default is p.empty)


def _convention(fn: Callable, views: Any, shapes: tuple[int | None, int | None], dev: torch.device, name: str,
                fixed_seed: int | None = None) -> tuple[Any, bool]:
    """How the loss takes two views (the checker's pre-flight: ``pair``, ``pair:AXIS``, ``list``, ``stacked:AXIS``,
    ``cat:AXIS``, ``kw:…``), so that the profile feeds it the way ``ssl-props check`` calls it. ``fixed_seed``:
    torch's generator reseeded before every call (a loss drawing slices or directions at random then is one
    fixed function of its inputs, as ``ssl-props check --fixed-seed`` makes it). Returns the convention and whether
    the loss is stateful (a buffer its calls update: each call then runs on a fresh copy, the loss as constructed)."""
    from ssl_props.checker.calling import PREFLIGHT_SHAPES, Calling, parse_views, run_preflight

    conv = parse_views(views) if isinstance(views, str) or views is None else views
    n, d = shapes
    tried = [(n or a, d or b) for a, b in PREFLIGHT_SHAPES] if (n or d) else list(PREFLIGHT_SHAPES)
    pf = run_preflight(fn, views=conv, dtype=torch.float64, shapes=tried, device=dev, calling=Calling(fixed_seed=fixed_seed))
    if pf.diagnosis:
        raise ProfileFailure(f"step 'calling convention' for {name}: {pf.diagnosis}")
    return pf.convention, bool(pf.stateful)


def _resolve(fn: Any, params: dict[str, Any], form: str | None, views: Any = None,
             shapes: tuple[int | None, int | None] = (None, None), dev: torch.device | None = None,
             fixed_seed: int | None = None) -> tuple[Callable, str, str, Reference | None, dict[str, Any], Any]:
    """``(callable, name, form, reference, params, convention)`` for a callable, a reference or a registered loss."""
    if isinstance(fn, str):
        if fn in REFERENCES:
            ref = REFERENCES[fn]
            unknown = set(params) - set(ref.params)
            if unknown:
                raise InvalidArgument(f"unknown parameters {sorted(unknown)} for {fn}; it takes {sorted(ref.params)}")
            return ref.bound(**params), fn, "graph", ref, {**ref.params, **params}, None
        from ssl_props.losses import LOSSES
        if fn not in LOSSES:
            raise InvalidArgument(f"unknown loss {fn!r}: pass a callable, a spectral reference "
                                  f"({', '.join(REFERENCES)}) or a registered loss ({', '.join(sorted(LOSSES))})")
        info = LOSSES[fn]
        bound = functools.partial(info.fn, **params) if params else info.fn
        return bound, fn, "predictor" if info.signature == ("p", "z") else "pair", None, dict(params), None
    if not callable(fn):
        raise InvalidArgument(f"fn must be a callable loss or a loss name, got {type(fn).__name__}")
    name = getattr(fn, "__name__", type(fn).__name__)
    pos = _positional(fn)
    if form is None:
        form = "predictor" if pos[:2] == ("p", "z") else "pair"
    if form not in ("pair", "graph", "predictor"):
        raise InvalidArgument(f"form must be 'pair' (fn(z1, z2)), 'predictor' (fn(p, z)) or 'graph' (fn(Z, G)), got form={form!r}")
    bound = functools.partial(fn, **params) if params else fn
    if form == "graph":
        if pos and len(pos) != 2:
            raise InvalidArgument(f"{name} takes {len(pos)} required positional arguments {pos}; form='graph' calls fn(Z, G)")
        return bound, name, form, None, dict(params), None
    if form == "predictor" and views is None and fixed_seed is None:  # fn(p, z): the prediction, then the target
        return bound, name, form, None, dict(params), None
    conv, stateful = _convention(bound, views, shapes, dev or torch.device("cpu"), name, fixed_seed)
    if stateful:  # the checker's rule: a loss that updates a buffer is called as constructed, on a fresh copy
        from ssl_props.checker.convention import FreshCopy
        bound = FreshCopy(bound)
    return bound, name, form, None, dict(params), conv


def _plain(conv: Any) -> bool:
    """No convention, or plain ``fn(z1, z2)``."""
    from ssl_props.checker.calling import PAIR

    return conv is None or conv == PAIR


def _two_views(fn: Callable, conv: Any) -> Callable:
    """``fn`` called as ``f(a, b)`` on two views whatever its convention (the dynamics and the probes)."""
    if _plain(conv):
        return fn
    adapted = lambda a, b: conv.call(fn, a, b)  # noqa: E731
    return functools.update_wrapper(adapted, fn) if hasattr(fn, "__name__") else adapted


def _progress(total: int, enabled: bool | None):
    from tqdm import tqdm

    return tqdm(total=total, file=sys.stderr, disable=not (sys.stderr.isatty() if enabled is None else enabled),
                desc="ssl-props profile", unit="step", leave=False)


@functools.lru_cache(maxsize=16)
def _reference_signature(name: str, sizes: str, starts: int, device: str) -> dict[str, dict[str, Any]]:
    """A reference's signature on the default graphs (memoised, and cached on disk: profile/reference_cache.py)."""
    return cached_signature(name, sizes, starts, device, lambda: profile_loss(
        name, sizes=sizes, starts=starts, dynamics=False, compare=False, device=device, progress=False).signature())


def profile_loss(fn: Any, *, params: dict[str, Any] | None = None, form: str | None = None,
                 graphs: list[GraphSpec] | None = None, sizes: str = "default", starts: int = 16, seed: int = 0,
                 dynamics: bool | None = None, dynamics_config: DynamicsConfig | None = None,
                 modes: tuple[str, ...] = MODES, compare: bool | tuple[str, ...] = True, device: Any = None,
                 progress: bool | None = None, views: Any = None,
                 shapes: tuple[int | None, int | None] = (None, None), fixed_seed: int | None = None) -> Profile:
    """Profile a loss against the theory.

    ``fn``: ``fn(z1, z2) -> scalar`` (a pairwise loss, or any calling convention ``ssl-props check`` detects:
    ``views="list"`` etc. pins it), ``fn(p, z)`` (a predictor loss, target second; the profile applies the
    stop-gradient itself), ``fn(Z, G)`` with ``form="graph"``, or a name: a spectral reference
    (``vicreg_spectral``, ``simclr_graph``, ``barlow_twins_graph``: the registry's closed forms, pass/fail) or a
    registered loss. ``params`` are keyword arguments of the loss call (a class's constructor arguments are
    for whoever constructs it: ``ssl-props profile --init``).

    Part 1 (every loss): the optimum on :func:`~ssl_props.profile.optimum.default_graphs` from ``starts``
    random starts in one batched L-BFGS call, the graphs fed as the batch the loss is trained on
    (:mod:`ssl_props.profile.feeding`). Part 2 (``dynamics``; default: every two-argument loss): the linear
    model trained by GD through the loss for each target mode in ``modes``. ``compare``: name the references
    whose graph profile this loss shares (``True``: all of :data:`REFERENCES`). Torch runs one intra-op
    thread on these small problems (:func:`ssl_props.device.threads_for`).
    Raises :class:`~ssl_props.profile.graph_losses.ProfileFailure` (an ``InvalidArgument``) with one line
    naming the step and the graph or seed when the loss cannot be optimised.
    """
    params = dict(params or {})
    if not isinstance(starts, int) or starts < 2:
        raise InvalidArgument(f"starts must be an int >= 2 (the agreement of starts needs two), got starts={starts!r}")
    dev = resolve_device(device)
    specs = graphs if graphs is not None else default_graphs(device=dev, sizes=sizes)
    largest = max([starts * s.g.shape[0] * max(s.k, 1) for s in specs] + [1])
    with threads_for(largest):
        raw, name, form, ref, params, conv = _resolve(fn, params, form, views, shapes, dev, fixed_seed)
        return _profile(raw, conv, name, form, ref, params, dev, specs, graphs is not None, sizes, starts, seed, dynamics,
                        dynamics_config or DynamicsConfig(), modes, compare, progress)


def _profile(raw: Callable, conv: Any, name: str, form: str, ref: Reference | None, params: dict[str, Any], dev: torch.device,
             specs: list[GraphSpec], custom_graphs: bool, sizes: str, starts: int, seed: int, dynamics: bool | None,
             cfg: DynamicsConfig, modes: tuple[str, ...], compare: bool | tuple[str, ...], progress: bool | None) -> Profile:
    dynamics = form != "graph" if dynamics is None else dynamics
    if dynamics and form == "graph":
        raise InvalidArgument("dynamics=True needs a two-argument loss fn(p, z) or fn(z1, z2), not form='graph'")
    refs = tuple(REFERENCES) if compare is True else tuple(compare or ())
    bar = _progress(len(specs) + (len(modes) + 1 if dynamics else 0) + len(refs), progress)
    prof = Profile(name, form, params, ref.name if ref else None, str(dev), [], [])
    call = _two_views(raw, conv)
    pair = (lambda p, z: call(p, z.detach())) if form == "predictor" else call  # a target gets no gradient on graphs
    try:
        t0 = time.perf_counter()
        for spec in specs:
            bar.set_postfix_str(spec.name[:32])
            how = {} if _plain(conv) or form != "pair" else {"feeding": feeding_for(spec.g, convention=conv)}
            try:
                opt = optimise_on_graph(raw if how else pair, spec, form="graph" if form == "graph" else "pair",
                                        starts=starts, seed=seed, **how)
            except (torch.linalg.LinAlgError, ProfileFailure, InvalidArgument) as e:
                opt = _unevaluable(spec, e, starts)  # this graph only; a loss that fails everywhere fails its pre-flight
            count_per_component(opt, spec)
            prof.graphs.append(opt)
            prof.verdicts += graph_verdicts(spec, opt, ref, params)
            bar.update()
        prof.seconds["graphs"] = time.perf_counter() - t0
        if dynamics:
            t0 = time.perf_counter()
            _run_dynamics(prof, call, form, cfg, modes, dev, bar)
            prof.seconds["dynamics"] = time.perf_counter() - t0
        if refs:
            t0 = time.perf_counter()
            for r in refs:
                bar.set_postfix_str(f"compare {r}")
                theirs = _reference_signature(r, sizes, starts, str(dev)) if not custom_graphs else profile_loss(
                    r, graphs=specs, starts=starts, dynamics=False, compare=False, device=dev, progress=False).signature()
                if r != prof.reference:
                    diff = compare_signatures(prof.signature(), theirs)
                    (prof.shares.append(r) if not diff else prof.differs.__setitem__(r, diff))
                bar.update()
            prof.seconds["compare"] = time.perf_counter() - t0
    except ProfileFailure:
        raise
    except (RuntimeError, TypeError, ValueError, IndexError) as e:
        where = f"graph {specs[len(prof.graphs)].name}" if len(prof.graphs) < len(specs) else "dynamics"
        raise ProfileFailure(f"step 'profile' on {where}: the loss raised {type(e).__name__}: "
                             f"{str(e).splitlines()[0][:160] if str(e) else ''}") from None
    finally:
        bar.close()
    return prof


def _unevaluable(spec: GraphSpec, err: Exception, starts: int) -> GraphOptimum:
    """The graph's entry when the loss cannot be minimised there, with the reason in its certificate:
    ``-inf`` reached or an overflow while falling without bound (:class:`UnboundedBelow`: "infimum not attained",
    f⋆ = −∞), or the loss undefined on this graph (a factorisation of a singular matrix when K exceeds the batch,
    a width the loss refuses): "not evaluable".
    Anything else (NaN, +inf: a loss that needs guarding) is the one-line error of :class:`ProfileFailure`."""
    msg = str(err).splitlines()[0] if str(err) else type(err).__name__
    unbounded = isinstance(err, UnboundedBelow)
    if isinstance(err, ProfileFailure) and not unbounded:
        raise err
    status = "infimum not attained" if unbounded else "not evaluable"
    why = (msg.split(": ", 1)[-1][:300] if unbounded else
           f"the loss is not defined at some points of this graph: {type(err).__name__}: {msg[:160]}")
    n = spec.g.shape[0]
    return GraphOptimum(spec.name, spec.kind, n, spec.k, "n/a", starts, -math.inf if unbounded else math.nan, math.nan,
                        math.nan, math.nan, math.nan, None, 0, 0, False, False, [], None, None, min(spec.k, n - 1), None,
                        math.nan, None, math.nan, math.nan, None, rotation_invariant=None, status=status, certificate=why,
                        method="none")


def _run_dynamics(prof: Profile, call: Callable, form: str, cfg: DynamicsConfig, modes: tuple[str, ...],
                  dev: torch.device, bar: Any) -> None:
    predictor = "learned" if form == "predictor" else "identity"
    if predictor == "identity":
        prof.dynamics_notes.append("a pairwise loss: trained without a predictor (W_p = I), as a contrast")
    for mode in modes:
        bar.set_postfix_str(f"dynamics {mode}")
        prof.dynamics[mode] = run_dynamics(call, cfg, mode, device=dev, predictor=predictor)
        bar.update()
    prof.loop = loop_integral(call, cfg, device=dev)
    bar.update()
    if len(prof.dynamics) > 1:
        prof.sg = stop_gradient_verdict(prof.dynamics)
        prof.sg_verdict = prof.sg.sentence
    prof.verdicts += dynamics_verdicts(prof.dynamics, cfg, is_l2_predictor_loss(call) and predictor == "learned", prof.loop)
