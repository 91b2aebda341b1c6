"""Declared design choices: expected failures by id, name or pattern, settled per variant; the checks a
loss's shape drops, and why.

``expected_failures`` keys (``--xfail KEY=REASON``) match a check id in this order: the exact id
(``check_prefers_spread(collapse=complete)``), the check's name (``check_prefers_spread``: every
variant), or a shell pattern (``check_prefers_spread*``, ``check_finite_gradients(kind=*)``). A key
that matches several variants is settled over them: when at least one variant fails as declared, the
variants that pass are *passed* (the declaration describes the loss, not each variant); only when every
variant it matches passes is the declaration wrong, and those are ``xpassed`` (strict).
Non-strict declarations (``--collapse-elsewhere``) never turn a pass into ``xpassed``.
"""
from __future__ import annotations

import fnmatch
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ssl_props.checker._target import LossTarget
    from ssl_props.checker.report import CheckResult

#: the checks that test collapse by the loss's value (declared away by --collapse-elsewhere)
COLLAPSE_CHECKS = ("check_prefers_spread*", "check_collapse_not_minimum")
COLLAPSE_ELSEWHERE = "collapse is prevented outside this term"


def declaration_for(cid: str, expected: dict[str, str] | None) -> tuple[str, str] | None:
    """``(key, reason)`` of the declaration that covers check id ``cid`` (exact id, then name, then pattern)."""
    if not expected:
        return None
    base = cid.split("(")[0]
    for key in (cid, base):
        if key in expected:
            return key, expected[key]
    for key, reason in expected.items():
        if any(ch in key for ch in "*?[") and fnmatch.fnmatchcase(cid, key):
            return key, reason
    return None


def unused_declarations(ids: list[str], expected: dict[str, str] | None) -> list[str]:
    """Keys that match none of the check ids (a typo would otherwise be ignored silently)."""
    used = {d[0] for d in (declaration_for(c, expected) for c in ids) if d}
    return [k for k in (expected or {}) if k not in used]


def settle_variants(results: list["CheckResult"], expected: dict[str, str] | None,
                    lenient: frozenset[str] = frozenset()) -> list["CheckResult"]:
    """Per-variant outcome of each declaration (module docstring)."""
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(results):
        d = declaration_for(r.check, expected)
        if d:
            groups.setdefault(d[0], []).append(i)
    out = list(results)
    for key, idx in groups.items():
        some_failed = any(out[i].status == "xfailed" for i in idx)
        if not (some_failed or key in lenient):
            continue
        for i in idx:
            r = out[i]
            if r.status == "xpassed":
                note = r.message.split("but passed: ", 1)[-1]
                out[i] = replace(r, status="passed", message=f"{note} (declared {key!r}; this variant passes)")
    return out


def dropped_checks(target: "LossTarget") -> list[str]:
    """One note per group of checks the loss's shape leaves out, with the reason."""
    conv = target.convention
    notes = []
    if conv.teacher:
        notes.append("dropped for a teacher/student loss: check_prefers_spread, check_collapse_not_minimum (such a "
                     "loss avoids collapse by its dynamics: the detached teacher, centring, sharpening, an EMA, not by "
                     "its value); check_stop_gradient checks the teacher instead")
    elif target.is_predictor:
        notes.append("dropped for a predictor loss: check_prefers_spread, check_collapse_not_minimum (alignment only; "
                     "collapse is avoided by the stop-gradient and the predictor); check_stop_gradient runs instead")
    if conv.kind == "single":
        notes.append("a one-batch regulariser applied per view, L = f(z1) + f(z2) (how DINOv2 adds KoLeo): "
                     "check_view_symmetry holds by construction and is not run")
    if conv.crops:
        g, loc = conv.crops
        notes.append(f"multi-crop: {g} global + {loc} local crops built from the two views (crop k of x is "
                     f"x + c_k (x − mean x), an affine map that keeps every symmetry check meaningful)")
    if conv.input_range:
        lo, hi = conv.input_range
        notes.append(f"inputs mapped into ({lo:g}, {hi:g}) by mid + half·tanh((x − mid)/half) before the call "
                     f"(declared --input-range): the drawn inputs stay in the loss's domain")
    return notes
