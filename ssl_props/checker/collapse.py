"""Collapse checks: a contrastive loss must prefer spread embeddings to (dimensionally) collapsed ones,
and complete collapse may be a stationary point of it but never a minimum.

Spreading is only possible in the right regime (orthogonal samples need n ≤ d, whitened features
n > d), so each loss is tested in the regime of its family (declared, or observed through the
Garrido et al. 2023 symmetry test).
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from ssl_props.fingerprint import TRANSFORMS, classify
from ssl_props.strategies import random_orthogonal
from ssl_props.checker._target import Case, CheckFailed, LossTarget, SkipCheck, evaluate, pin, value_and_grads, value_tol
from ssl_props.checker.checks import source, symmetry_defects

def _spread(n: int, d: int, gen: torch.Generator) -> torch.Tensor:
    """Maximally spread unit-variance embeddings: whitened centred columns (n > d) or orthogonal rows (n ≤ d)."""
    if n > d:
        x = torch.randn(n, d, generator=gen, dtype=torch.float64)
        q, _ = torch.linalg.qr(x - x.mean(0))
        return q * math.sqrt(n - 1)
    return random_orthogonal(d, generator=gen)[:n] * math.sqrt(d)


def _collapsed(n: int, d: int, gen: torch.Generator, rank: int) -> torch.Tensor:
    """Same Frobenius norm ``sqrt(n·d)`` as :func:`_spread`; rank 0 = all rows equal, rank 1 = a centred line."""
    v = torch.randn(d, generator=gen, dtype=torch.float64)
    if rank == 0:
        return (v / v.norm() * math.sqrt(d)).expand(n, d).clone()
    u = torch.randn(n, generator=gen, dtype=torch.float64)
    z = torch.outer(u - u.mean(), v)
    return z / z.norm() * math.sqrt(n * d)


#: shapes where spreading is possible: orthogonal samples need n ≤ d (sample-contrastive), whitened
#: features need n > d (dimension-contrastive); in the other regime a loss may rightly prefer collapse
#: (Barlow Twins with λ = 1 cannot decorrelate 8 features from 4 samples and scores C = 0 lower)
_REGIMES = {"sample-contrastive": ((4, 8), (6, 6)), "dimension-contrastive": ((8, 4), (12, 6))}


def _regimes(target: LossTarget) -> list[tuple[tuple[int, int], ...]]:
    family = target.family
    if family not in _REGIMES:
        inputs = [Case(n, d, seed=s).build(target.device) for s, (n, d) in enumerate(((6, 4), (4, 6), (5, 5)))]
        names = ("centred_embedding_rotation", "sample_mixing")
        ratios = symmetry_defects(target, {k: TRANSFORMS[k] for k in names}, inputs)
        family = classify({k for k in names if ratios[k] <= 1.0})
    return [_REGIMES[family]] if family in _REGIMES else list(_REGIMES.values())


#: the hint for a pairwise loss that scores every pair of identical views alike, as predictor losses do
PREDICTOR_HINT = ("it scores every pair of identical views alike, as a predictor loss does (SimSiam/BYOL: alignment "
                  "only, collapse is avoided by the stop-gradient and the predictor): if it is used as loss(p, z) with "
                  "a stop-gradient target, declare it: name its arguments (p, z), or --predictor (API "
                  "needs_stop_gradient=True)")

_IN_REGIME = {"sample-contrastive": lambda n, d: n <= d, "dimension-contrastive": lambda n, d: n > d}


def _in_some_regime(target: LossTarget, test: Callable[[int, int, int], str | None]) -> str:
    """Run ``test(n, d, seed)`` (a failure message or None) over the shapes of the loss's regime(s);
    fail only if every candidate regime has a failing shape. Pinned sizes replace the regime's; a
    regime the pinned shape leaves is skipped (spreading is impossible there)."""
    first = None
    regimes = []
    for shapes in _regimes(target):
        family = next(k for k, v in _REGIMES.items() if v == shapes)
        pinned_shapes = tuple(dict.fromkeys(pin(n, d) for n, d in shapes))
        if all(_IN_REGIME[family](n, d) for n, d in pinned_shapes):
            regimes.append(pinned_shapes)
    if not regimes:
        n, d = pin(*_REGIMES["sample-contrastive"][0])
        raise SkipCheck(f"the pinned shape {n}×{d} is outside the regime where this loss can spread its embeddings "
                        f"(orthogonal samples need batch <= dim, whitened features batch > dim)")
    for shapes in regimes:
        msgs = [test(n, d, s) for s, (n, d) in enumerate(shapes)]
        bad = [m for m in msgs if m]
        if not bad:
            return f"at (n, d) in {list(shapes)}"
        first = first or bad[0]
    raise CheckFailed(first or "")


@source("collapse: a contrastive loss must score a spread embedding below a (dimensionally) collapsed one")
def check_prefers_spread(target: LossTarget, *, collapse: str) -> str:
    rank = 0 if collapse == "complete" else 1
    target = target.resolvable()

    def test(n: int, d: int, s: int) -> str | None:
        gen = torch.Generator().manual_seed(s)
        spread, col = _spread(n, d, gen).to(target.device), _collapsed(n, d, gen, rank).to(target.device)
        ls, ga, gb = value_and_grads(target, spread, spread.clone())
        lc, ca, cb = value_and_grads(target, col, col.clone())
        tol = value_tol(target, ls, spread, spread, ga, gb) + value_tol(target, lc, col, col, ca, cb)
        if float(ls) < float(lc) - tol:
            return None
        hint = PREDICTOR_HINT if (collapse == "complete" and abs(float(ls) - float(lc)) <= tol) else (
            "the repulsive/regularising term is missing, zero-weighted or has the wrong sign")
        return (f"the loss does not penalise {collapse} collapse: with identical views, L(collapsed) = {float(lc):.10g} "
                f"is not above L(spread) = {float(ls):.10g} (tolerance {tol:.3g}) at n={n}, d={d}; {hint}")

    return f"L(spread) < L({collapse} collapse) for identical views " + _in_some_regime(target, test)


@source("collapse dynamics: complete collapse may be stationary for a contrastive loss, never a minimum")
def check_collapse_not_minimum(target: LossTarget) -> str:
    notes = []
    target = target.resolvable()

    def test(n: int, d: int, s: int) -> str | None:
        gen = torch.Generator().manual_seed(s)
        col, spread = _collapsed(n, d, gen, 0).to(target.device), _spread(n, d, gen).to(target.device)
        lc, ga, gb = value_and_grads(target, col, col.clone())
        tol = value_tol(target, lc, col, col, ga, gb)
        slope = sum(float((g * col).norm()) for g in (ga, gb) if g is not None)  # first-order change, relative step 1
        if slope > tol:
            notes.append("not stationary")
            return None
        moved = col + 0.1 * spread  # a 10 % spreading perturbation (second order)
        with torch.no_grad():
            lm = evaluate(target, moved, moved.clone())
        if float(lm) < float(lc) - tol:
            notes.append("stationary saddle")
            return None
        return (f"complete collapse is a (local) minimum: the gradient vanishes there and spreading the embeddings "
                f"by 10 % does not lower the loss ({float(lc):.10g} -> {float(lm):.10g}) at n={n}, d={d}; the loss "
                f"cannot escape collapse (missing or sign-flipped regulariser)")

    where = _in_some_regime(target, test)
    return ("complete collapse is " + ("a stationary point but not a minimum " if "stationary saddle" in notes
                                       else "not a stationary point ") + where)
