"""Regression-check an SSL loss: a battery of named checks (scikit-learn ``check_estimator`` style).

>>> from ssl_props.checker import check_loss
>>> from ssl_props.losses import simclr
>>> report = check_loss(simclr, like="simclr", max_examples=3)
>>> report.passed
True

One generator, :func:`iter_checks`, decides which checks apply from what the loss declares (through
``like=NAME``'s registry entry or the ``family`` / ``invariances`` / ``needs_stop_gradient`` keywords)
or what its signature implies (``fn(p, z)``: a predictor loss with a stop-gradient target). Two
front-ends consume it: :func:`check_loss` (returns a :class:`CheckReport`) and
:func:`ssl_props.pytest_plugin.parametrize_with_loss_checks` (one pytest test per check).

Expected failures are declared by the caller, ``expected_failures={"check_view_symmetry": "reason"}``
(a check id, a name or a pattern; :mod:`ssl_props.checker.declare`), and are strict: a declaration
whose every variant passes is reported as ``xpassed`` (a failure); a variant that passes while another
fails as declared is passed.
"""
from __future__ import annotations

import contextlib
import functools
import time
import warnings
from typing import Any, Callable, Iterator, Sequence

import torch

from ssl_props._validation import InvalidArgument
from ssl_props.checker import checks as _c, collapse as _col, conformance as _conf
from ssl_props.checker import precision as _prec
from ssl_props.checker import declare as _decl, state as _state
from ssl_props.checker._target import Case, CheckFailed, CheckWarning, LossTarget, SkipCheck, make_target, pinned
from ssl_props.checker.conformance import identify
from ssl_props.checker.report import SCHEMA, CheckReport, CheckResult

__all__ = ["check_loss", "iter_checks", "check_id", "run_check", "identify", "make_target", "CheckReport",
           "CheckResult", "CheckFailed", "CheckWarning", "LossCheckFailed", "Case", "LossTarget", "SCHEMA", "SkipCheck"]

#: invariances that have a dedicated check (the others go through check_declared_invariance)
_OWN_CHECK = ("batch_permutation", "view_swap")


class LossCheckFailed(AssertionError):
    """Raised by ``check_loss(..., on_fail="raise")``; ``.report`` holds the full report."""

    def __init__(self, report: CheckReport):
        super().__init__(report.render("text"))
        self.report = report


def iter_checks(target: LossTarget, *, distributed: int = 0) -> Iterator[Callable[[LossTarget], Any]]:
    """Yield the checks that apply to ``target`` (plain functions or ``functools.partial`` variants).

    ``distributed=k`` (k ≥ 2) adds the data-parallel equivalence check on k spawned CPU processes.
    A target whose pre-flight found nothing that runs gets only :func:`~ssl_props.checker.precision.check_preflight`.
    """
    if target.diagnosis:
        yield _prec.check_preflight
        return
    yield _c.check_returns_finite_scalar
    yield _c.check_has_gradient
    yield _c.check_inputs_not_modified
    for kind in _c.DEGENERATE:
        yield functools.partial(_c.check_finite_gradients, kind=kind)
    yield _c.check_gradient_matches_finite_differences
    yield _prec.check_mixed_precision
    yield _c.check_batch_permutation_invariance
    declared = target.invariances or frozenset()
    if "view_swap" in declared:
        yield _c.check_view_symmetry
    for inv in sorted(declared):
        if inv not in _OWN_CHECK:
            yield functools.partial(_c.check_declared_invariance, invariance=inv)
    yield _c.check_contrastive_class
    if _state.state_names(target):
        yield _state.check_state_updates
    if target.is_predictor:
        yield _c.check_stop_gradient
        yield _c.check_prefers_own_target
    else:  # predictor losses do not penalise collapse by value: their dynamics (stop-gradient) do
        yield functools.partial(_col.check_prefers_spread, collapse="complete")
        yield functools.partial(_col.check_prefers_spread, collapse="dimensional")
        yield _col.check_collapse_not_minimum
    if distributed >= 2:
        yield functools.partial(_c.check_distributed_equivalence, world_size=distributed)
    if target.like is not None:
        yield _conf.check_matches_reference_value
        yield _conf.check_matches_reference_gradient
        yield _conf.check_shares_reference_symmetries


def check_id(check: Callable) -> str:
    """``check_finite_gradients(kind=collapsed)``: the function name plus partial keywords."""
    if isinstance(check, functools.partial):
        kw = ",".join(f"{k}={v}" for k, v in check.keywords.items())
        return f"{check.func.__name__}({kw})"
    return check.__name__


def _source(check: Callable) -> str:
    fn = check.func if isinstance(check, functools.partial) else check
    return getattr(fn, "source", "")


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch on one intra-op thread: the checks' tensors are tiny, and thread hand-offs on a busy
    2-core machine made a battery ~7× slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_check(target: LossTarget, check: Callable, expected_failures: dict[str, str] | None = None) -> CheckResult:
    """Run one check and record its outcome (never raises for a failing property)."""
    with single_threaded(), pinned(target.shapes):
        return _run_check(target, check, expected_failures)


def _run_check(target: LossTarget, check: Callable, expected_failures: dict[str, str] | None) -> CheckResult:
    cid = check_id(check)
    declared = _decl.declaration_for(cid, expected_failures)
    reason = declared[1] if declared else None
    t0 = time.perf_counter()
    counterexample = None
    try:
        note = check(target) or ""
        status = "xpassed" if reason else "passed"
        message = f"expected to fail ({reason}) but passed: {note}" if reason else note
    except SkipCheck as e:
        status, message = "skipped", str(e)
    except CheckWarning as e:  # outside the formula's domain: shown and counted, an error only under strict
        status = "xfailed" if reason else "warning"
        message = f"{reason}: {e}" if reason else str(e)
        counterexample = e.counterexample
    except AssertionError as e:  # CheckFailed and PropertyViolation are AssertionErrors
        status = "xfailed" if reason else "failed"
        message = f"{reason}: {e}" if reason else str(e)
        counterexample = getattr(e, "counterexample", None)
    except Exception as e:  # noqa: BLE001 - a crash inside a check is reported as that check failing
        status = "xfailed" if reason else "failed"
        message = f"the check raised {type(e).__name__}: {e}"
    return CheckResult(cid, status, message, counterexample, _source(check), time.perf_counter() - t0)


def _registered_expected_failures(like: str | None) -> dict[str, str]:
    """``LossInfo.expected_failures`` of the registered loss ``like`` names: design choices its paper makes
    (declared once in the registry, so ``check_loss(fn, like=NAME)`` needs no ``expected_failures``)."""
    if not like:
        return {}
    from ssl_props.losses import LOSSES

    info = LOSSES.get(like)
    return {k: f"registered design choice: {v}" for k, v in (getattr(info, "expected_failures", None) or {}).items()}


def check_loss(fn: Callable, like: str | None = None, params: dict[str, Any] | None = None,
               checks: Sequence[str] | None = None, device: str | torch.device | None = None,
               max_examples: int | None = None, *, family: str | None = None,
               invariances: Sequence[str] | None = None, needs_stop_gradient: bool | None = None,
               examples: Sequence[tuple[torch.Tensor, torch.Tensor]] = (),
               expected_failures: dict[str, str] | None = None, on_fail: str | None = None,
               identify_loss: bool = True, distributed: int = 0, seed: int | None = None,
               shapes: tuple[int | None, int | None] | None = None, dtype: str | torch.dtype | None = None,
               views: str | None = None, strict: bool = False, theory: bool = False, teacher: str | None = None,
               teacher_detached: bool = False, crops: str | tuple | None = None, args: dict[str, Any] | None = None,
               reduce: str | None = None, input_range: str | Sequence[float] | None = None,
               collapse_elsewhere: str | bool | None = None, state: Sequence[str] = (),
               fixed_seed: int | None = None) -> CheckReport:
    """Run the battery of checks on ``fn(z1, z2) -> scalar`` (or ``fn(p, z)``) and return a report.

    Args:
        fn: the loss; called with two float64 ``(batch, dim)`` tensors (or as ``views`` says, or as the
            pre-flight finds: a list of views, views stacked on a new axis, two keyword arguments).
        like: name of a registered loss (``ssl_props.losses.LOSSES``) it should equal; also supplies the
            declared family, invariances and stop-gradient of ``fn``.
        params: keyword parameters of the reference ``like`` (e.g. ``{"temperature": 0.1}``).
        checks: only run checks whose id starts with one of these names.
        device: ``cpu``, ``cuda``, ``auto`` (default ``$SSL_PROPS_DEVICE`` or cpu).
        max_examples: Hypothesis examples per property check (default 25).
        seed: ``None`` (default) runs Hypothesis derandomised, so a report is reproducible; an int runs
            a fresh search with that seed.
        family, invariances, needs_stop_gradient: declare capabilities without a reference.
        examples: your own ``(z1, z2)`` pairs, also run through the scalar and permutation checks (validated:
            finite, same shape).
        expected_failures: ``{check id or name: reason}``, reported as ``xfailed`` (strict).
        on_fail: ``None`` (return the report), ``"warn"`` (also warn per failure) or ``"raise"``
            (raise :class:`LossCheckFailed`).
        identify_loss: also search which registered loss ``fn`` behaves like (``report.behaves_like``).
        shapes: ``(batch, dim)``, either None: pin the sizes a fixed-shape loss accepts.
        dtype: working dtype, ``float64`` (default), ``float32``, ``bfloat16`` or ``float16``: inputs are cast
            to it and the tolerances derived from its eps. A loss that cannot run in float64 is checked in
            float32, said once in ``report.notes``.
        views: calling convention (``pair``, ``pair:AXIS``, ``stacked:AXIS``, ``cat:AXIS``, ``list``,
            ``kw:A,B[:AXIS]``, ``single[:AXIS]``); detected by evidence when None.
        teacher: the argument that is the detached teacher (gets the second view; no gradient may reach it);
            ``teacher_detached``: the training loop detaches it (declared; it is passed detached).
        crops: ``"G,L[:PACK]"`` multi-crop (:mod:`ssl_props.checker.convention`).
        args: extra arguments, constants or builder specs (``{"queue": "unit(16,D).T"}``;
            :mod:`ssl_props.checker.builders`).
        reduce: ``"mean"`` / ``"sum"`` for a per-sample result.
        input_range: ``(lo, hi)``: views mapped into that range (scores that are cosines).
        collapse_elsewhere: declare that collapse is prevented outside this term (a reason, or True): the
            collapse checks that fail are xfailed with it, those that pass stay passed.
        state: tensors of the loss object that must change across calls (a centre, a queue).
        fixed_seed: reseed torch's global generator before every call (a loss that draws at random).
        strict: warnings (failures on inputs outside the formula's domain) fail the report.
        theory: also add the verdicts of :func:`ssl_props.profile_loss` (``theory:<theorem>@<where>``).
        distributed: ``k ≥ 2`` also runs ``fn`` in k CPU processes (gloo) on shards and compares loss and
            data-parallel gradients with the full batch (``fn`` must be importable by spawned processes,
            and the calling script needs an ``if __name__ == "__main__":`` guard).

    Raises:
        InvalidArgument: bad arguments (non-callable, wrong signature, unknown loss or parameter, NaN examples).
    """
    if on_fail not in (None, "warn", "raise"):
        raise InvalidArgument(f"on_fail must be None, 'warn' or 'raise', got on_fail={on_fail!r}")
    target = make_target(fn, like=like, params=params, family=family, invariances=invariances,
                         needs_stop_gradient=needs_stop_gradient, device=device, max_examples=max_examples,
                         examples=examples, seed=seed, shapes=shapes, dtype=dtype, views=views, teacher=teacher,
                         teacher_detached=teacher_detached, crops=crops, args=args, reduce=reduce,
                         input_range=input_range, fixed_seed=fixed_seed)
    if state:
        from dataclasses import replace as _replace

        target = _replace(target, declared_state=tuple(state))
    expected = dict(expected_failures or {})
    registered = _registered_expected_failures(like)  # the registry's declared design choices (e.g. SwAV's codes)
    expected.update({k: v for k, v in registered.items() if k not in expected})
    lenient: frozenset[str] = frozenset(registered) - frozenset(expected_failures or {})
    if collapse_elsewhere:
        why = collapse_elsewhere if isinstance(collapse_elsewhere, str) else _decl.COLLAPSE_ELSEWHERE
        lenient |= frozenset(k for k in _decl.COLLAPSE_CHECKS if k not in expected)
        expected.update({k: f"declared: {why}" for k in lenient})
    if isinstance(distributed, bool) or not isinstance(distributed, int) or distributed < 0 or distributed == 1:
        raise InvalidArgument(f"distributed must be 0 (off) or a world size >= 2, got distributed={distributed!r}")
    selected = list(iter_checks(target, distributed=distributed))
    if checks is not None and not target.diagnosis:  # a failed pre-flight is the whole report
        wanted = [checks] if isinstance(checks, str) else list(checks)
        known = [check_id(c) for c in selected]
        unknown = [w for w in wanted if not any(k.startswith(w) for k in known)]
        if unknown:
            raise InvalidArgument(f"unknown or inapplicable checks {unknown}; this loss's checks: {known}")
        selected = [c for c in selected if any(check_id(c).startswith(w) for w in wanted)]
    notes = list(target.notes) + ([] if target.diagnosis else _decl.dropped_checks(target))
    unused = [] if target.diagnosis else _decl.unused_declarations([check_id(c) for c in selected],
                                                                   {k: v for k, v in expected.items() if k not in lenient})
    if unused and checks is None:
        raise InvalidArgument(f"expected_failures {unused} match no check of this loss; its checks: "
                              f"{[check_id(c) for c in selected]}")
    report = CheckReport(target.name, like, dict(target.params), str(target.device), notes=notes, strict=bool(strict))
    report.results = _decl.settle_variants([run_check(target, check, expected) for check in selected], expected, lenient)
    for result in report.results:
        if on_fail == "warn" and not result.passed:
            warnings.warn(f"{target.name}: {result.check} {result.status}: {result.message}", stacklevel=2)
    if theory and not target.diagnosis:
        from ssl_props.profile.check_hook import theory_results

        report.results += [CheckResult(**r) for r in theory_results(target, predictor=target.is_predictor, device=target.device)]
    if identify_loss and not target.diagnosis:
        with single_threaded(), pinned(target.shapes):
            signature = _conf.PREDICTOR_SIGNATURE if target.is_predictor else target.signature
            report.behaves_like, report.closest = identify(target, signature, target.device)
    if on_fail == "raise" and not report.passed:
        raise LossCheckFailed(report)
    return report
