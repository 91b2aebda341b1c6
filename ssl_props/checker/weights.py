"""Identification up to re-weighted terms: ``L = α·T_0 + Σ_i w_i·T_i`` with the terms of a registered loss.

Many SSL losses are weighted sums of terms whose weights are keyword parameters (VICReg's λ, μ, ν;
Barlow Twins' λ on the off-diagonal). A loss written with other weights (solo-learn's VICReg does not
halve its variance term: μ = 50 in the registry's convention) is then not "no registered loss" but that
loss with other weights. The terms are computed from the *registered* loss alone, independently of the
loss under test: ``T_0 = L_ref(w = 0)`` and ``T_i = L_ref(w = e_i) − T_0`` for each parameter ``w_i`` in
which ``L_ref`` is affine (tested on a draw: ``L(w_i = 2) − L(0) = 2 (L(1) − L(0))`` and the default
value on the same line). The loss under test's values ``y`` on ``m`` drawn cases are then fitted by least
squares, ``y ≈ α T_0 + Σ w_i T_i`` (``α`` dropped when ``T_0 ≡ 0``), with ``m`` well above the number of
unknowns; the fit is a match only when every residual is within the value tolerance of its case, so a
loss outside the span of the terms is never matched. The reported parameters are ``w_i / α`` (the
overall factor is ``α``), printed at 6 significant digits.

A parameter that is not a weight (a temperature) is fitted alone by :func:`fit_scalar` for the few
registered losses whose grid already comes within a factor 2: a scan over ``[p/20, 20 p]`` on a log
grid, a golden-section refinement of the squared relative residuals, and the same acceptance rule (every
residual within its case's value tolerance at the fitted value).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import torch

from ssl_props.losses import LossInfo


def _value(info: LossInfo, params: dict[str, Any], a: torch.Tensor, b: torch.Tensor) -> float:
    with torch.no_grad():
        return float(info.fn(a, b, **params))


def affine_weights(info: LossInfo, a: torch.Tensor, b: torch.Tensor) -> list[str]:
    """The numeric keyword parameters of ``info`` in which the loss is affine, tested on ``(a, b)``."""
    out = []
    for k, v in info.defaults.items():
        if isinstance(v, bool) or not isinstance(v, float) or v == 0:
            continue
        try:
            l0, l1, l2, ld = (_value(info, {k: w}, a, b) for w in (0.0, 1.0, 2.0, v))
        except Exception:  # noqa: BLE001 - a parameter that cannot be 0, 1 or 2 (a temperature) is not a weight
            continue
        scale = max(abs(l0), abs(l1), abs(l2), abs(ld), 1e-300)
        if all(math.isfinite(x) for x in (l0, l1, l2, ld)) and abs((l2 - l0) - 2 * (l1 - l0)) <= 1e-9 * scale \
                and abs((ld - l0) - v * (l1 - l0)) <= 1e-9 * scale and abs(l1 - l0) > 1e-12 * scale:
            out.append(k)
    return out


_AFFINE: dict[tuple[str, int], list[str]] = {}


def _weights_of(info: LossInfo, first: tuple[torch.Tensor, torch.Tensor]) -> list[str]:
    """:func:`affine_weights`, cached per loss and input (the identification inputs are fixed)."""
    key = (info.name, id(info.fn) ^ hash(tuple(first[0].shape)) ^ hash(float(first[0].sum())))
    if key not in _AFFINE:
        _AFFINE[key] = affine_weights(info, *first)
    return _AFFINE[key]


def fit_weights(info: LossInfo, mine: Sequence[float], inputs: Sequence[tuple[torch.Tensor, torch.Tensor]],
                tols: Sequence[float]) -> dict[str, Any] | None:
    """``{"name", "params", "factor"}`` when the values ``mine`` at ``inputs`` are a re-weighting of ``info``'s
    terms (every residual within ``tols``), else ``None``. ``params`` holds the weights that differ from the
    registry's defaults."""
    if len(inputs) < 4:
        return None
    names = _weights_of(info, inputs[0])
    if not names:
        return None
    zero = {k: 0.0 for k in names}
    try:
        t0 = [_value(info, zero, a, b) for a, b in inputs]
        terms = [[_value(info, {**zero, k: 1.0}, a, b) - z for (a, b), z in zip(inputs, t0)] for k in names]
    except Exception:  # noqa: BLE001 - a candidate undefined at these weights is no candidate
        return None
    cols = ([t0] if max(abs(x) for x in t0) > 0 else []) + terms
    if len(inputs) < len(cols) + 2:  # at least two equations beyond the unknowns
        return None
    A = torch.tensor(cols, dtype=torch.float64).T
    y = torch.tensor(list(mine), dtype=torch.float64)
    w = torch.linalg.lstsq(A, y.unsqueeze(1), driver="gelsd").solution.squeeze(1)
    residual = (A @ w - y).abs()
    if not bool(torch.isfinite(w).all()) or any(float(r) > t for r, t in zip(residual, tols)):
        return None
    alpha = float(w[0]) if len(cols) > len(terms) else 1.0
    if alpha == 0:
        return None
    fitted = {k: float(f"{float(x) / alpha:.6g}") for k, x in zip(names, w[len(cols) - len(terms):])}
    defaults = info.defaults
    params = {k: v for k, v in fitted.items() if not math.isclose(v, defaults[k], rel_tol=1e-6)}
    if not params and math.isclose(alpha, 1.0, rel_tol=1e-6):
        return None  # the registered loss itself: already an exact match
    return {"name": info.name, "params": params, "factor": float(f"{alpha:.6g}"), "fitted": "weights"}


def fit_scalar(info: LossInfo, name: str, mine: Sequence[float], inputs: Sequence[tuple[torch.Tensor, torch.Tensor]],
               tol: Callable[[LossInfo, torch.Tensor, torch.Tensor, dict[str, Any]], float]) -> dict[str, Any] | None:
    """``{"name", "params": {name: value}, "factor": 1}`` when one value of the non-weight parameter ``name``
    reproduces ``mine`` at every input within its tolerance (module docstring), else ``None``."""
    p0 = float(info.defaults[name])

    def cost(log_t: float) -> float:
        try:
            vals = [_value(info, {name: math.exp(log_t)}, a, b) for a, b in inputs]
        except Exception:  # noqa: BLE001 - outside the parameter's domain
            return math.inf
        c = sum(((m - v) / (abs(m) + 1e-12)) ** 2 for m, v in zip(mine, vals))
        return c if math.isfinite(c) else math.inf

    grid = [math.log(p0) + k * math.log(20.0) / 12 for k in range(-12, 13)]
    costs = [cost(g) for g in grid]
    i = min(range(len(grid)), key=costs.__getitem__)
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    r = (math.sqrt(5) - 1) / 2
    for _ in range(40):  # golden section on log t: the bracket shrinks by 0.618 per step, 40 steps ≈ 1e-8
        x1, x2 = hi - r * (hi - lo), lo + r * (hi - lo)
        if cost(x1) <= cost(x2):
            hi = x2
        else:
            lo = x1
    for digits in (4, 6, 10):  # the shortest printed value that still fits
        t = float(f"{math.exp((lo + hi) / 2):.{digits}g}")
        try:
            ok = all(abs(m - _value(info, {name: t}, a, b)) <= tol(info, a, b, {name: t})
                     for m, (a, b) in zip(mine, inputs))
        except Exception:  # noqa: BLE001 - outside the parameter's domain
            return None
        if ok:
            return {"name": info.name, "params": {name: t}, "factor": 1.0, "fitted": name}
    return None


def scalar_parameters(info: LossInfo, a: torch.Tensor, b: torch.Tensor) -> list[str]:
    """Positive float parameters that are not term weights and not an ``eps`` (a temperature, a σ)."""
    weights = set(_weights_of(info, (a, b)))
    return [k for k, v in info.defaults.items() if isinstance(v, float) and not isinstance(v, bool) and v > 0
            and k not in weights and "eps" not in k.lower()]


def loss_values(fn: Callable[[torch.Tensor, torch.Tensor], Any], inputs: Sequence[tuple[torch.Tensor, torch.Tensor]],
                mapped: Callable[[torch.Tensor], torch.Tensor]) -> tuple[list[float], list[tuple[torch.Tensor, torch.Tensor]]] | None:
    """``fn``'s values on ``inputs`` (no gradient) and the inputs ``mapped`` as the loss sees them, for the
    candidates; None when ``fn`` fails on them (a loss that fails on plain inputs matches nothing)."""
    try:
        with torch.no_grad():
            mine = [float(fn(a, b)) for a, b in inputs]
    except Exception:  # noqa: BLE001 - any failure means "no match", never a crash of the identification
        return None
    return mine, [(mapped(a), mapped(b)) for a, b in inputs]


def weighted_matches(candidates: Sequence[LossInfo], fn: Callable[[torch.Tensor, torch.Tensor], Any],
                     inputs: Sequence[tuple[torch.Tensor, torch.Tensor]],
                     tol: Callable[[LossInfo, torch.Tensor, torch.Tensor], float],
                     mapped: Callable[[torch.Tensor], torch.Tensor] = lambda t: t) -> list[dict[str, Any]]:
    """:func:`fit_weights` over ``candidates`` (the values of ``fn`` computed once; the candidates see the
    inputs ``mapped`` as the loss does, e.g. into its ``--input-range``)."""
    values = loss_values(fn, inputs, mapped)
    if values is None:
        return []
    mine, inputs = values
    out = []
    for info in candidates:
        if not _weights_of(info, inputs[0]):  # no weight parameter: no tolerance to compute
            continue
        try:
            tols = [tol(info, a, b) for a, b in inputs]
        except Exception:  # noqa: BLE001 - a candidate undefined on these shapes
            continue
        m = fit_weights(info, mine, inputs, tols)
        if m:
            out.append(m)
    return out
