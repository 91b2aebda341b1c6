"""Reference-free checks: properties any SSL loss ``fn(z1, z2) -> scalar`` (or ``fn(p, z)``) must have.

Each check is a module-level function ``check_<property>(target, **variant)`` (scikit-learn's
``check_estimator`` style): it returns an optional one-line note when the property holds, raises
:class:`~ssl_props.checker._target.CheckFailed` (an ``AssertionError``) with the evidence when it does
not, and :class:`~ssl_props.checker._target.SkipCheck` when it does not apply. ``source`` names the
theorem or convention it comes from. Which checks run is decided in :func:`ssl_props.checker.iter_checks`.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from ssl_props.fingerprint import TRANSFORMS, classify
from ssl_props.properties import PropertyViolation
from ssl_props.strategies import DEGENERATE_KINDS
from ssl_props.tolerances import EPS, SAFETY, eps as dtype_eps
from ssl_props.checker._target import (Case, CheckFailed, CheckWarning, LossTarget, SkipCheck, cases, evaluate,
                                       loss_scale, rounding_noise, run_examples, run_property, value_and_grads, value_tol)

WELL_POSED = ("gaussian", "heavy_tailed", "low_rank")
SCALES = (1.0, 1e-3, 1e3)  # tiny and huge variances are where implementations break
DEGENERATE = DEGENERATE_KINDS + ("zero_rows",)
_FIXED_SHAPES = ((3, 8), (8, 3))  # always try N < D and N > D first


def source(text: str) -> Callable[[Callable], Callable]:
    """Decorator recording which theorem / convention a check comes from."""
    def deco(fn: Callable) -> Callable:
        fn.source = text  # type: ignore[attr-defined]
        return fn
    return deco


def _fixed(kind: str = "gaussian", view: str = "noise", scale: float = 1.0) -> list[Case]:
    return [Case(n, d, kind, scale, 0, view) for n, d in _FIXED_SHAPES]


def _n_range(target: LossTarget) -> tuple[int, int]:
    return (target.min_batch, max(target.min_batch, 10))


# --------------------------------------------------------------------------------------------------
# basic contract


@source("API contract: a loss maps two (batch, dim) tensors to a finite real 0-d tensor of their dtype")
def check_returns_finite_scalar(target: LossTarget) -> str:
    def prop_t(a: torch.Tensor, b: torch.Tensor) -> None:
        out = evaluate(target.raw, a, b)
        if not out.is_floating_point():
            raise PropertyViolation(f"the loss returned dtype {out.dtype}, not a real floating tensor")
        if out.dtype != target.dtype:
            raise PropertyViolation(f"the loss returned {out.dtype} for {target.dtype} inputs: it computes in lower "
                                    f"precision (a hard-coded .float() or a float32 constant?)")
        if not bool(torch.isfinite(out)):
            raise PropertyViolation(f"the loss is {float(out)} on finite inputs of shape {tuple(a.shape)}")

    run_property(lambda c: prop_t(*c.build(target.device)), cases(n=_n_range(target), kinds=WELL_POSED, scales=SCALES),
                 max_examples=target.max_examples, seed=target.seed, fixed=_fixed())
    run_examples(prop_t, target)
    return f"0-d finite {str(target.dtype).replace('torch.', '')} on well-posed inputs at scales 1, 1e-3, 1e3"


@source("API contract: training needs a gradient with respect to the (first) embedding")
def check_has_gradient(target: LossTarget) -> str:
    for case in _fixed():
        a, b = case.build(target.device)
        out, ga, _ = value_and_grads(target, a, b)
        if ga is None or not bool(ga.abs().sum() > 0):
            raise CheckFailed(f"no gradient reaches {target.signature[0]}: the result is detached from the inputs "
                              f"(.item(), torch.no_grad(), torch.tensor(...) around the loss?)", case.to_dict())
    return "autograd reaches the first argument"


@source("API contract: a loss must not modify its inputs in place (they are the model's activations)")
def check_inputs_not_modified(target: LossTarget) -> str:
    for case in _fixed():
        a, b = case.build(target.device)
        a0, b0 = a.clone(), b.clone()
        out = evaluate(target, a, b)
        if out.requires_grad:
            out.backward()
        for name, z, z0 in ((target.signature[0], a, a0), (target.signature[1], b, b0)):
            if not torch.equal(z, z0):
                raise CheckFailed(f"the loss modified its input {name} in place (max change "
                                  f"{float((z - z0).abs().max()):.3g}): use out-of-place ops (z - mean, not z.sub_(mean))",
                                  case.to_dict())
    return "inputs unchanged after forward and backward"


@source("robustness: degenerate batches (collapse, constant features, duplicates, zero rows) occur in training")
def check_finite_gradients(target: LossTarget, *, kind: str) -> str:
    def prop(case: Case) -> None:
        a, b = case.build(target.device)
        out, ga, gb = value_and_grads(target, a, b)
        if not bool(torch.isfinite(out)):
            raise PropertyViolation(f"the loss is {float(out)} on a '{kind}' batch (a division by a zero std or norm: "
                                    f"missing eps?)")
        for name, g in zip(target.signature, (ga, gb)):
            if g is not None and not bool(torch.isfinite(g).all()):
                bad = int((~torch.isfinite(g)).sum())
                raise PropertyViolation(f"{bad} non-finite entries in ∂L/∂{name} on a '{kind}' batch "
                                        f"(sqrt or norm of 0 without eps: sqrt(var) instead of sqrt(var + eps), "
                                        f"z / z.norm() instead of F.normalize?)")

    try:
        run_property(prop, cases(n=(max(target.min_batch, 2), 8), d=(2, 8), kinds=(kind,), scales=(1.0, 1e-3),
                                 views=("equal", "same_kind")), max_examples=max(4, target.max_examples // 2), seed=target.seed)
    except CheckFailed as e:
        if kind in OUTSIDE_DOMAIN and normalises(target):
            raise CheckWarning(f"{e}; an exactly zero row is outside the domain of a loss that normalises its embeddings "
                               f"(z/||z||), and training does not reach it: a warning, an error under --strict (F.normalize's eps makes "
                               f"it finite)",
                               e.counterexample) from None
        raise
    return f"finite loss and gradients on '{kind}' batches"


#: degenerate kinds outside the formula's domain of a normalising loss (warning, not error; SEVERITY_RULE)
OUTSIDE_DOMAIN = ("zero_rows",)


def normalises(target: LossTarget) -> bool:
    """Declared ``positive_scale`` invariance, or measured: ``L(c z1, c z2) = L(z1, z2)`` for c = 1e-2, 1e2."""
    if target.invariances is not None and "positive_scale" in target.invariances:
        return True
    a, b = Case(5, 4, seed=9).build(target.device)
    try:
        out, ga, gb = value_and_grads(target, a, b)
        tol = value_tol(target, out, a, b, ga, gb, loss_scale(target, a, b)) * 1e2  # the scaled input's rounding too
        with torch.no_grad():
            return all(abs(float(evaluate(target, c * a, c * b)) - float(out)) <= tol for c in (1e-2, 1e2))
    except PropertyViolation:
        return False


def _richardson_excess(ds: list[float], analytic: float, vtol: float, h: float,
                       eps: float = EPS[torch.float64]) -> tuple[float, float, float]:
    """``(|analytic − R| − tol, R, tol)`` for the better of the Richardson pairs ``(h/4^k, h/4^(k+1))``.

    ``|D_k − D_{k+1}|`` is ≈ 15× the O(h²) truncation error of ``D_{k+1}``; the rounding of each
    evaluation (``vtol``) enters divided by the step. A loss smooth only on a finer scale gets the
    smaller step.
    """
    best = (math.inf, 0.0, 0.0)
    for k in range(len(ds) - 1):
        rich = (16 * ds[k + 1] - ds[k]) / 15
        tol = abs(ds[k] - ds[k + 1]) + 4 * vtol / (h / 4 ** (k + 1)) + SAFETY * eps * abs(analytic)
        best = min(best, (abs(analytic - rich) - tol, rich, tol))
    return best


@source("autograd correctness: central differences in float64 (Richardson error estimate)")
def check_gradient_matches_finite_differences(target: LossTarget) -> str:
    if target.dtype != torch.float64 and target.float64_ok:
        target = target.in_float64()  # a property of the formula: taken where float64 resolves it
    eps = dtype_eps(target.dtype)

    def prop(case: Case) -> None:
        a, b = case.build(target.device)
        out, ga, gb = value_and_grads(target, a, b)
        ga = torch.zeros_like(a) if ga is None else ga
        gb = torch.zeros_like(b) if gb is None else gb
        vtol = value_tol(target, out, a, b, ga, gb, loss_scale(target, a, b))  # rounding of each evaluation
        gen = torch.Generator().manual_seed(case.seed + 11)
        s = max(float(torch.cat([a, b]).abs().max()), 1e-300)
        h = eps ** (1 / 3) * s  # balances truncation (h²) against rounding (eps/h)
        for _ in range(2):
            va = torch.randn(a.shape, generator=gen, dtype=a.dtype).to(a.device)
            vb = torch.zeros_like(b) if target.needs_stop_gradient else torch.randn(b.shape, generator=gen, dtype=b.dtype).to(b.device)
            analytic = float((ga * va).sum() + (gb * vb).sum())

            def fd(step: float) -> float:
                with torch.no_grad():
                    hi = float(evaluate(target, a + step * va, b + step * vb))
                    lo = float(evaluate(target, a - step * va, b - step * vb))
                return (hi - lo) / (2 * step)

            ds = [fd(h / 4**k) for k in range(3)]
            best = _richardson_excess(ds, analytic, vtol, h, eps)
            if best[0] > 0:  # add the measured rounding noise before concluding
                best = _richardson_excess(ds, analytic, vtol + rounding_noise(target, a, b)[0], h, eps)
            if best[0] > 0:
                _, rich, tol = best
                which = "p" if target.needs_stop_gradient else "(z1, z2)"
                raise PropertyViolation(
                    f"autograd directional derivative along a random direction of {which} is {analytic:.10g} but "
                    f"finite differences give {rich:.10g} (|difference| {abs(analytic - rich):.3g} > "
                    f"tolerance {tol:.3g}): part of the loss is cut from the graph (.detach(), negatives gathered "
                    f"without gradient, .data) or a custom backward is wrong; if the detaching is intentional (a "
                    f"detached weight or temperature, a running statistic), declare it: --xfail "
                    f"check_gradient_matches_finite_differences='why' (API expected_failures=)")

    # scale 1e3 is left out: there the curvature of temperature-scaled logsumexps (∝ scale²/τ) is not
    # resolved by float64 differences, and a detached branch is as visible at scales 1 and 1e-3
    run_property(prop, cases(n=_n_range(target), kinds=WELL_POSED, scales=(1.0, 1e-3), views=("noise", "same_kind")),
                 max_examples=target.max_examples, seed=target.seed, fixed=_fixed())
    return f"autograd agrees with central differences in {str(target.dtype).replace('torch.', '')}"


# --------------------------------------------------------------------------------------------------
# symmetries


class _Given:
    """A caller-supplied input pair posing as a :class:`Case` (``build`` returns it unchanged)."""

    def __init__(self, a: torch.Tensor, b: torch.Tensor, seed: int):
        self.a, self.b, self.seed = a, b, seed

    def build(self, device: object = None) -> tuple[torch.Tensor, torch.Tensor]:
        return self.a, self.b


def _invariance_property(target: LossTarget, transform: str, claim: str, hint: str) -> Callable[[Case], None]:
    def prop(case: Case) -> None:
        a, b = case.build(target.device)
        out, ga, gb = value_and_grads(target, a, b)
        ta, tb = TRANSFORMS[transform](a, b, torch.Generator().manual_seed(case.seed + 3))
        with torch.no_grad():
            moved = evaluate(target, ta, tb)
        tol = value_tol(target, out, a, b, ga, gb, loss_scale(target, a, b))
        if not abs(float(moved) - float(out)) <= tol:  # measured rounding only when the cheap bound is exceeded
            tol += rounding_noise(target, a, b)[0] + rounding_noise(target, ta, tb)[0]
        if not abs(float(moved) - float(out)) <= tol:
            raise PropertyViolation(f"{claim} fails: L = {float(out):.10g}, L after {transform} = {float(moved):.10g}, "
                                    f"|difference| {abs(float(moved) - float(out)):.3g} > tolerance {tol:.3g} ({hint})")
    return prop


_HINTS = {
    "batch_permutation": "positives or masks tied to positions: labels all 0, torch.roll, an interleaved "
                         "[a1, b1, a2, b2] mask on stacked [a..., b...] views, or weights by index",
    "view_swap": "only one direction of the loss computed, or the two views normalised/weighted differently",
    "embedding_rotation": "the loss uses coordinates, not only sample similarities (per-feature statistics?)",
    "centred_embedding_rotation": "the loss uses coordinates, not only centred sample similarities",
    "feature_permutation": "dimensions weighted or masked by index",
    "positive_scale": "embeddings not L2-normalised before the similarities",
    "sample_mixing": "the loss uses individual samples, not only the centred covariance",
}


@source("every SSL loss: a batch is a set, the loss cannot depend on the order of samples")
def check_batch_permutation_invariance(target: LossTarget) -> str:
    prop = _invariance_property(target, "batch_permutation", "invariance to a joint permutation of the batch",
                                _HINTS["batch_permutation"])
    run_property(prop, cases(n=_n_range(target), kinds=WELL_POSED, scales=SCALES),
                 max_examples=target.max_examples, seed=target.seed, fixed=_fixed())
    for i, (a, b) in enumerate(target.examples):  # the caller's own inputs, with a fixed permutation
        try:
            prop_t = _invariance_property(target, "batch_permutation", "invariance to a joint permutation of the batch",
                                          _HINTS["batch_permutation"])
            prop_t(_Given(a, b, i))
        except PropertyViolation as e:
            raise CheckFailed(f"{e} (on examples[{i}])", {"examples_index": i}) from None
    return "L(z1[π], z2[π]) = L(z1, z2)"


@source("declared view symmetry (SimCLR, VICReg, Barlow Twins are symmetrised over the two views)")
def check_view_symmetry(target: LossTarget) -> str:
    prop = _invariance_property(target, "view_swap", "view symmetry L(z1, z2) = L(z2, z1)", _HINTS["view_swap"])
    run_property(prop, cases(n=_n_range(target), kinds=WELL_POSED, scales=SCALES, views=("noise", "same_kind")),
                 max_examples=target.max_examples, seed=target.seed, fixed=_fixed(view="same_kind"))
    return "L(z1, z2) = L(z2, z1)"


@source("declared invariance (ssl_props.losses Invariance); Garrido et al. 2023, Definition 3.2")
def check_declared_invariance(target: LossTarget, *, invariance: str) -> str:
    prop = _invariance_property(target, invariance, f"declared invariance '{invariance}'", _HINTS.get(invariance, ""))
    run_property(prop, cases(n=_n_range(target), d=(2, 10), kinds=WELL_POSED, scales=(1.0, 1e-3)),
                 max_examples=max(5, target.max_examples // 2), seed=target.seed, fixed=_fixed())
    return f"invariant to {invariance}"


def symmetry_defects(fn: Callable, transforms: dict, inputs: list[tuple[torch.Tensor, torch.Tensor]],
                     seed: int = 0) -> dict[str, float]:
    """For each transform, the largest ``|L(T z) − L(z)| / tolerance`` over ``inputs`` (≤ 1: invariant)."""
    ratios: dict[str, float] = {}
    for i, (a, b) in enumerate(inputs):
        out, ga, gb = value_and_grads(fn, a, b)
        tol = max(value_tol(fn, out, a, b, ga, gb, loss_scale(fn, a, b)), 1e-300)
        for name, tf in transforms.items():
            ta, tb = tf(a, b, torch.Generator().manual_seed(seed + i))
            with torch.no_grad():
                moved = evaluate(fn, ta, tb)
            r = abs(float(moved) - float(out)) / tol
            ratios[name] = max(ratios.get(name, 0.0), r if math.isfinite(r) else math.inf)
    return ratios


@source("Garrido et al. 2023 (arXiv:2206.02574), Definition 3.2 and Prop. 3.2: the sample/dimension duality")
def check_contrastive_class(target: LossTarget) -> str:
    target = target.resolvable()
    inputs = [Case(n, d, seed=s).build(target.device) for s, (n, d) in enumerate(((6, 4), (4, 6), (5, 5)))]
    names = ("centred_embedding_rotation", "sample_mixing")
    ratios = symmetry_defects(target, {k: TRANSFORMS[k] for k in names}, inputs)
    observed = classify({k for k in names if ratios[k] <= 1.0})
    evidence = (f"defect/tolerance: centred rotations of embedding space {ratios[names[0]]:.3g}, "
                f"centred sample mixing {ratios[names[1]]:.3g}")
    declared = target.family
    spectral = {"centred_embedding_rotation", "sample_mixing"} <= (target.invariances or frozenset())
    if observed == "both" and spectral:  # declared both symmetries (a spectral loss, e.g. TCR's log det)
        return f"behaves as both, as declared: it depends on the singular values only ({evidence})"
    if declared in ("sample-contrastive", "dimension-contrastive") and observed != declared:
        hint = ("it depends on more than the centred feature covariance (a Gram/sample matrix, e.g. z @ z.T instead "
                "of z.T @ z?)" if declared == "dimension-contrastive" else
                "it depends on more than sample similarities (per-feature statistics or un-normalised coordinates?)")
        raise CheckFailed(f"declared {declared} but behaves as {observed}: {hint}; {evidence}")
    return f"behaves as {observed} ({evidence})"


# --------------------------------------------------------------------------------------------------
# stop-gradient


@source("SimSiam (Chen & He 2021, arXiv:2011.10566) / BYOL: the target branch gets no gradient")
def check_stop_gradient(target: LossTarget) -> str:
    p_name, z_name = target.signature
    if target.convention.teacher_detached:
        raise SkipCheck(f"declared --teacher-detached: the training loop detaches {z_name}, so it is passed detached "
                        f"here and no gradient can reach it")

    def prop(case: Case) -> None:
        a, b = case.build(target.device)
        _, ga, gb = value_and_grads(target, a, b)
        if gb is not None and bool(gb.abs().sum() > 0):
            declare = ("; if the training loop detaches it (the teacher run under torch.no_grad()), declare it: "
                       "--teacher-detached" if target.convention.teacher else "")
            raise PropertyViolation(f"gradient reaches the target {z_name} (max |∂L/∂{z_name}| = "
                                    f"{float(gb.abs().max()):.3g}): the stop-gradient is missing ({z_name}.detach())"
                                    + declare)
        if ga is None or not bool(ga.abs().sum() > 0):
            raise PropertyViolation(f"no gradient reaches the prediction {p_name}: the stop-gradient is on the wrong "
                                    f"branch")

    run_property(prop, cases(n=_n_range(target), kinds=WELL_POSED), max_examples=max(3, target.max_examples // 4), seed=target.seed,
                 fixed=_fixed())
    return f"∂L/∂{z_name} = 0 and ∂L/∂{p_name} ≠ 0"


@source("teacher/student and predictor losses (BYOL, DINO, MoCo, SwAV): the loss pulls the student towards its own "
        "target, so a student equal to its target scores below one paired with another sample's target")
def check_prefers_own_target(target: LossTarget) -> str:
    worse = []
    for n, d, seed in ((6, 8, 0), (8, 4, 1), (5, 5, 2)):
        z, _ = Case(n, d, seed=seed).build(target.device)
        with torch.no_grad():
            own = float(evaluate(target, z, z))
            other = float(evaluate(target, z, torch.roll(z, 1, dims=0)))  # every student paired with another target
        if not own < other:
            worse.append(f"n={n}, d={d}: L(student = its target) = {own:.6g} >= L(student, another sample's target) = "
                         f"{other:.6g}")
    if worse:
        raise CheckFailed("the loss does not prefer a student that equals its own target: " + "; ".join(worse)
                          + ": the positive is not where the loss looks for it (labels that point at a negative or a "
                            "queue entry, logits concatenated in another order) or the teacher is not the target")
    return "L(z, z) < L(z, roll(z)) at (n, d) in [(6, 8), (8, 4), (5, 5)]"


# --------------------------------------------------------------------------------------------------
# distributed


@source("data-parallel equivalence: k gloo processes on shards = one process on the full batch (lightly #1977, #1528)")
def check_distributed_equivalence(target: LossTarget, *, world_size: int = 2) -> str:
    from ssl_props.distributed import compare_data_parallel

    inputs = [Case(world_size * 2, 3, seed=1).build("cpu"), Case(world_size * 3, 5, seed=2, view="same_kind").build("cpu")]
    try:
        results = compare_data_parallel([target.fn], inputs, world_size=world_size, labels=[target.name])
    except Exception as e:  # noqa: BLE001 - e.g. a function the spawned processes cannot import
        raise CheckFailed(f"could not run the loss in {world_size} processes ({type(e).__name__}: {e}); the loss must "
                          f"be a module-level function importable by spawned processes") from None
    bad = [r for r in results if not r.ok]
    if bad:
        raise CheckFailed("; ".join(r.message() for r in bad))
    return f"{world_size}-process data-parallel loss and gradients equal the full batch's"
