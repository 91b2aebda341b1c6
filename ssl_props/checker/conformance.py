"""Conformance with a registered loss (``like=NAME``) and "which registered loss does this behave like".

Value and gradient are compared with the reference in float64 on OpInfo-style *reference inputs*
(N < D and N > D, variances from 1e-6 to 1e6, low-rank, ill-conditioned, heavy-tailed) and then on
Hypothesis cases; the tolerance is derived per input (:func:`value_tolerance`, :func:`grad_tolerance`).
On a mismatch the message reports the input, both values, a constant factor when there is one
(wrong reduction) and the registered loss the function does match.
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Callable

import torch

from ssl_props.fingerprint import TRANSFORMS
from ssl_props.losses import LOSSES, LossInfo
from ssl_props.properties import PropertyViolation
from ssl_props.tolerances import sum_of_products
from ssl_props.tolerances import value_tolerance
from ssl_props.checker._target import (PREDICTOR_SIGNATURE, Case, CheckFailed, LossTarget, SkipCheck, cases, format_call,
                                       loss_scale, precision_ratio, run_property, evaluate, rounding_noise,
                                       value_and_grads, value_tol)
from ssl_props.checker.checks import WELL_POSED, source, symmetry_defects
from ssl_props.checker.weights import fit_scalar, loss_values, scalar_parameters, weighted_matches

#: reference inputs: the shapes and scales where conventions differ (biased/unbiased, eps, N<D)
REFERENCE_INPUTS = tuple(Case(n, d, kind, scale, seed, view) for seed, (n, d, kind, scale, view) in enumerate((
    (3, 10, "gaussian", 1.0, "noise"), (10, 3, "gaussian", 1.0, "noise"), (2, 5, "gaussian", 1.0, "same_kind"),
    (6, 6, "low_rank", 1.0, "noise"), (8, 4, "gaussian", 1e-3, "noise"), (4, 8, "gaussian", 1e3, "noise"),
    (7, 5, "ill_conditioned", 1.0, "noise"), (5, 7, "heavy_tailed", 1.0, "same_kind"), (9, 2, "gaussian", 1e-2, "noise"))))


def _translate(z1: torch.Tensor, z2: torch.Tensor, g: torch.Generator):
    c = torch.randn(z1.shape[-1], generator=g, dtype=torch.float64).to(z1) * float(z1.abs().max())
    return z1 + c, z2 + c


def _view_translation(z1: torch.Tensor, z2: torch.Tensor, g: torch.Generator):
    c1 = torch.randn(z1.shape[-1], generator=g, dtype=torch.float64).to(z1) * float(z1.abs().max())
    c2 = torch.randn(z2.shape[-1], generator=g, dtype=torch.float64).to(z2) * float(z2.abs().max())
    return z1 + c1, z2 + c2


#: symmetries beyond the registry's, exact in floating point up to rounding: a common shift of both
#: views (centred statistics, VICReg) and independent per-view shifts (each view standardised with
#: its own statistics, Barlow Twins; per-view *scalings* are only invariant up to BatchNorm's eps)
EXTRA_TRANSFORMS = {"common_translation": _translate, "view_translation": _view_translation}


def grad_tolerance(fn: Callable, a: torch.Tensor, b: torch.Tensor, g: torch.Tensor, which: int) -> float:
    """float64 tolerance for one gradient: ``SAFETY · n·d · eps · (‖g‖_∞ + κ + (|L| + Σ|z ⊙ ∂L/∂z|) / rms(z))``.

    Gradient entries have units of L/z, so rounding errors of relative size eps in the terms of L
    (magnitude ``|L| + Σ|z ∂L/∂z|``, cf. :func:`value_tolerance`) become that over the input scale;
    ``κ = max |g(z ⊙ (1 + δ r)) − g(z)| / δ`` (δ = 1e-6, random signs r) adds the gradient's own
    sensitivity to relative perturbations of the inputs.
    """
    gen = torch.Generator().manual_seed(1)
    delta = 1e-6
    ra = torch.randint(0, 2, a.shape, generator=gen).to(a) * 2 - 1
    rb = torch.randint(0, 2, b.shape, generator=gen).to(b) * 2 - 1
    val, ga, gb = value_and_grads(fn, a, b)
    _, pa, pb = value_and_grads(fn, a * (1 + delta * ra), b * (1 + delta * rb))
    moved = (pa, pb)[which]
    kappa = float((moved - g).abs().max()) / delta if moved is not None else 0.0
    sens = abs(float(val)) + loss_scale(fn, a, b) + sum(float((z * gz).abs().sum()) for z, gz in ((a, ga), (b, gb)) if gz is not None)
    rms = float(torch.cat([a, b]).square().mean().sqrt())
    n, d = a.shape[-2:]
    mag = float(g.abs().max()) + (kappa if math.isfinite(kappa) else 0.0) + (sens / rms if rms > 0 else 0.0)
    return float(sum_of_products(torch.float64, n * d, mag))


def _require_like(target: LossTarget) -> None:
    if target.like is None:
        raise SkipCheck("no reference: pass like=NAME")


def _value_mismatch(target: LossTarget, case: Case) -> str | None:
    a, b = case.build(target.device)
    ref, ra, rb = value_and_grads(target.reference, a, b)
    with torch.no_grad():
        mine = evaluate(target, a, b)
    tol = value_tol(target, ref, a, b, ra, rb, loss_scale(target.reference, a, b))  # in yours' working dtype
    if abs(float(mine) - float(ref)) > tol:  # add the measured rounding of both implementations
        tol += rounding_noise(target.reference, a, b)[0] + rounding_noise(target, a, b)[0]
    if abs(float(mine) - float(ref)) <= tol:
        return None
    return (f"value differs from {target.reference_label()}: yours = {float(mine):.12g}, reference = {float(ref):.12g}, "
            f"|difference| {abs(float(mine) - float(ref)):.3g} > tolerance {tol:.3g}")


def diagnose(target: LossTarget) -> str:
    """Why the values differ: a constant factor over the reference inputs and/or the loss it does match."""
    notes = []
    ratios, sizes = [], []
    for case in REFERENCE_INPUTS[:6]:
        a, b = case.build(target.device)
        with torch.no_grad():
            try:
                mine, ref = float(target(a, b)), float(target.reference(a, b))
            except Exception:  # noqa: BLE001 - a diagnosis must never mask the failure it explains
                return ""
        ratios.append(mine / ref if ref != 0 else math.nan)
        sizes.append(case.n)

    def constant(xs: list[float]) -> bool:
        return all(math.isfinite(x) for x in xs) and max(xs) - min(xs) <= 1e-9 * max(1.0, abs(xs[0]))

    per_n = [r / n for r, n in zip(ratios, sizes)]
    if constant(ratios):
        notes.append(f"yours is consistently {ratios[0]:.6g} × the reference (a wrong reduction, sum vs mean, "
                     f"or views summed instead of averaged?)")
    elif constant(per_n):
        notes.append(f"yours is {per_n[0]:.6g}·n × the reference for batch size n: summed over the batch instead "
                     f"of averaged (reduction='sum')")
    matches, _ = identify(target, target.signature, target.device)
    if matches:
        notes.append("it behaves like " + ", ".join(
            (f"{m['factor']:.6g} × " if abs(m["factor"] - 1) > 1e-9 else "") + format_call(m["name"], m["params"])
            for m in matches[:3]) + f", not {target.reference_label()}")
    return "; ".join(notes)


@source("conformance: value equals the registered reference in float64 (derived tolerance)")
def check_matches_reference_value(target: LossTarget) -> str:
    _require_like(target)

    def prop(case: Case) -> None:
        msg = _value_mismatch(target, case)
        if msg:
            raise PropertyViolation(msg)

    try:
        run_property(prop, cases(n=(target.min_batch, 12), d=(2, 12), kinds=WELL_POSED + ("ill_conditioned",),
                                 scales=(1.0, 1e-3, 1e3), views=("noise", "same_kind")),
                     max_examples=target.max_examples, seed=target.seed, fixed=REFERENCE_INPUTS)
    except CheckFailed as e:
        why = diagnose(target)
        raise CheckFailed(f"{e}" + (f"; {why}" if why else ""), e.counterexample) from None
    return f"equals {target.reference_label()} on {len(REFERENCE_INPUTS)} reference inputs and Hypothesis cases"


@source("conformance: gradients equal the registered reference's in float64 (derived tolerance)")
def check_matches_reference_gradient(target: LossTarget) -> str:
    _require_like(target)

    def prop(case: Case) -> None:
        a, b = case.build(target.device)
        _, ra, rb = value_and_grads(target.reference, a, b)
        _, ma, mb = value_and_grads(target, a, b)
        for which, (name, r, m) in enumerate(zip(target.signature, (ra, rb), (ma, mb))):
            if r is None and m is None:
                continue
            if m is None or r is None:
                raise PropertyViolation(f"∂L/∂{name}: " + ("no gradient reaches it in yours but the reference's does "
                                                          "(detached?)" if m is None else
                                                          "yours has a gradient but the reference stops it (missing .detach()?)"))
            tol = grad_tolerance(target.reference, a, b, r, which) * precision_ratio(target)
            err = float((m - r).abs().max())
            if err > tol:  # add the measured rounding of both implementations
                tol += rounding_noise(target.reference, a, b)[1] + rounding_noise(target, a, b)[1]
            if not err <= tol:
                i = int((m - r).abs().argmax())
                raise PropertyViolation(f"∂L/∂{name} differs from {target.reference_label()}'s: max |difference| "
                                        f"{err:.3g} > tolerance {tol:.3g} (at flat index {i}: yours "
                                        f"{float(m.flatten()[i]):.10g}, reference {float(r.flatten()[i]):.10g})")

    run_property(prop, cases(n=(target.min_batch, 12), d=(2, 12), kinds=WELL_POSED, scales=(1.0, 1e-3, 1e3),
                             views=("noise", "same_kind")),
                 max_examples=max(5, target.max_examples // 2), seed=target.seed, fixed=REFERENCE_INPUTS)
    return f"gradients equal {target.reference_label()}'s"


@source("conformance: every symmetry of the reference (registry invariances, common and per-view shifts)")
def check_shares_reference_symmetries(target: LossTarget) -> str:
    _require_like(target)
    inputs = [c.build(target.device) for c in REFERENCE_INPUTS[:4]]
    transforms = {**TRANSFORMS, **EXTRA_TRANSFORMS}
    ref = symmetry_defects(target.reference, transforms, inputs, seed=5)
    mine = symmetry_defects(target, transforms, inputs, seed=5)
    broken = [k for k in transforms if ref[k] <= 1.0 and not mine[k] <= 1.0]
    if broken:
        raise CheckFailed(f"{target.reference_label()} is invariant to {', '.join(broken)} but yours is not "
                          f"(defect/tolerance {', '.join(f'{k}={mine[k]:.3g}' for k in broken)})"
                          + ("; common_translation: covariance not centred?" if "common_translation" in broken else "")
                          + ("; view_translation: each view must be centred/standardised with its own statistics"
                             if "view_translation" in broken else ""))
    kept = [k for k in transforms if ref[k] <= 1.0]
    return f"shares the reference's symmetries: {', '.join(kept)}"


# --------------------------------------------------------------------------------------------------
# identification


def _param_grid(info: LossInfo) -> list[dict[str, Any]]:
    defaults = info.defaults
    axes = {k: tuple(dict.fromkeys((defaults[k], *info.param_grid.get(k, ())))) for k in defaults if k in info.param_grid}
    keys = list(axes)
    return [dict(zip(keys, vals)) for vals in itertools.product(*(axes[k] for k in keys))] or [{}]


_ID_INPUTS = (Case(4, 6, seed=0), Case(7, 3, seed=1), Case(5, 5, seed=2, view="same_kind"))


def identify(fn: Callable, signature: tuple[str, str] = ("z1", "z2"),
             device: torch.device | str | None = None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Registered losses (with parameters from their ``param_grid``) that ``fn`` matches on a few inputs.

    Returns ``(matches, closest)``: ``matches`` is ``[{"name", "params", "factor"}]`` with ``factor`` 1
    for an exact match and another constant for a match up to scale; ``closest`` is the nearest
    candidate ``{"name", "params", "max_relative_difference"}`` (``None`` if no candidate ran or none is within
    :data:`CLOSE_ENOUGH`: "no registered loss").
    """
    inputs = [c.build(device) for c in _ID_INPUTS]
    try:
        with torch.no_grad():
            mine = [float(fn(a, b)) for a, b in inputs]
        conv = getattr(fn, "convention", None)
        if conv is not None:  # the candidates see what the loss sees (views mapped into --input-range)
            inputs = [(conv.mapped(a), conv.mapped(b)) for a, b in inputs]
    except Exception:  # noqa: BLE001 - a loss that fails on plain inputs matches nothing
        return [], None
    predictor = signature == PREDICTOR_SIGNATURE
    exact, scaled, closest = [], [], (math.inf, None)
    near: dict[str, float] = {}
    for info in LOSSES.values():
        if (info.signature == PREDICTOR_SIGNATURE) != predictor:
            continue
        for params in _param_grid(info):
            try:
                refs = [value_and_grads(lambda x, y: info.fn(x, y, **params), a, b) for a, b in inputs]
            except Exception:  # noqa: BLE001 - a candidate undefined on these shapes is skipped
                continue
            cand = lambda x, y: info.fn(x, y, **params)  # noqa: E731
            tols = [value_tolerance(r, a, b, ga, gb, loss_scale(cand, a, b)) * precision_ratio(fn)
                    for (r, ga, gb), (a, b) in zip(refs, inputs)]
            vals = [float(r) for r, _, _ in refs]
            if all(abs(m - v) <= t for m, v, t in zip(mine, vals, tols)):
                exact.append({"name": info.name, "params": params, "factor": 1.0})
                continue
            if vals[0] != 0 and mine[0] != 0:
                c = mine[0] / vals[0]
                if all(abs(m - c * v) <= abs(c) * t + t for m, v, t in zip(mine, vals, tols)):
                    scaled.append({"name": info.name, "params": params, "factor": c})
            rel = max(abs(m - v) / max(abs(v), 1e-300) for m, v in zip(mine, vals))
            near[info.name] = min(near.get(info.name, math.inf), rel)
            if rel < closest[0]:
                closest = (rel, {"name": info.name, "params": params, "max_relative_difference": rel})
    named = {m["name"] for m in exact + scaled}
    mapped = getattr(getattr(fn, "convention", None), "mapped", lambda t: t)
    weighted = weighted_matches([i for i in LOSSES.values() if i.name not in named and
                                 (i.signature == PREDICTOR_SIGNATURE) == predictor], fn, _weight_inputs(device),
                                _weight_tol(fn), mapped)
    if not (exact or scaled or weighted):  # a temperature (or σ) off the grid: fitted for the nearest few
        weighted = _scalar_matches(fn, [n for n in sorted(near, key=near.__getitem__)[:3] if near[n] < 1.0],
                                   device, mapped)
    # a nearest candidate is only worth naming when it is close: beyond CLOSE_ENOUGH relative difference
    # (a wrong constant, a missing term) it says nothing about what was meant
    return exact + scaled + weighted, (closest[1] if closest[0] <= CLOSE_ENOUGH and not weighted else None)


#: cases of the weight fit (:mod:`ssl_props.checker.weights`): 8 equations for at most 4 unknowns, N < D and N > D
_WEIGHT_CASES = tuple(Case(n, d, seed=10 + i, view=v) for i, (n, d, v) in enumerate((
    (4, 6, "noise"), (7, 3, "noise"), (5, 5, "same_kind"), (6, 4, "noise"), (3, 8, "same_kind"), (8, 5, "noise"),
    (5, 7, "noise"), (9, 4, "same_kind"))))


def _weight_inputs(device: torch.device | str | None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    inputs = [c.build(device) for c in _WEIGHT_CASES]
    return inputs


def _scalar_matches(fn: Callable, names: list[str], device: torch.device | str | None,
                    mapped: Callable) -> list[dict[str, Any]]:
    values = loss_values(fn, _weight_inputs(device)[:5], mapped)
    if values is None:
        return []
    mine, inputs = values

    def tol(info: LossInfo, a: torch.Tensor, b: torch.Tensor, params: dict[str, Any]) -> float:
        cand = lambda x, y: info.fn(x, y, **params)  # noqa: E731
        r, ga, gb = value_and_grads(cand, a, b)
        return value_tolerance(r, a, b, ga, gb, loss_scale(cand, a, b)) * precision_ratio(fn)

    out = []
    for name in names:
        info = LOSSES[name]
        for p in scalar_parameters(info, *inputs[0]):
            m = fit_scalar(info, p, mine, inputs, tol)
            if m:
                out.append(m)
                break
    return out


def _weight_tol(fn: Callable) -> Callable:
    def tol(info: LossInfo, a: torch.Tensor, b: torch.Tensor) -> float:
        r, ga, gb = value_and_grads(lambda x, y: info.fn(x, y), a, b)
        # the float64 value bound of the registered loss at this case, in the loss's working precision
        return value_tolerance(r, a, b, ga, gb, loss_scale(lambda x, y: info.fn(x, y), a, b)) * precision_ratio(fn)
    return tol


#: largest max relative difference at which :func:`identify` still names the closest registered loss
CLOSE_ENOUGH = 0.1
